/* engine/stdp.c - NEST's STDP rules over one synapse table (see stdp.h).
 *
 * Time frame (NEST's, the whole delay d dendritic): a presynaptic spike is
 * at the synapse at its emission time t_pre, a postsynaptic spike at
 * t_post + d. When presynaptic spike n (time t_n, previous spike t_l) is
 * delivered through a synapse with delay d:
 *   1. potentiation by every postsynaptic spike with t_l - d < t_post <= t_n - d
 *      (only the first one for the _nn_pre_centered and _nn_restr rules),
 *      with the presynaptic trace at t_post + d;
 *   2. depression with the postsynaptic trace at t_n - d (spikes strictly
 *      before it);
 *   3. the spike is transmitted with the new weight.
 * Comparisons of times allow NEST's 1e-6 ms slack.
 */
#include "engine/stdp.h"

#include <math.h>
#include <string.h>

#include "engine/ckpt.h"
#include "engine/mem.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* update_pair's AVX-512 kernel (pair_add_x8), taken when the CPU has it */
#define NORN_STDP_X8 1
#endif

#define STDP_EPS 1e-6

typedef struct {
    double t;       /* the spike */
    double t_last;  /* the neuron's previous spike (0 before the first, as NEST) */
    double kp, kx;  /* K+ and K+_triplet just after the previous spike */
    double settled; /* potentiation booked up to settled - d already */
} pre_log;

/* Traces are kept scaled to the table's epoch t0 (moved forward by each
 * settle pass), so an update needs no exp per synapse: the trace at T is
 * a * exp((t0 - T)/tau_minus), and the presynaptic factor of a pairing
 * exp((t_last - d - t)/tau_plus) = exp((t_last - d - t0)/tau_plus) * p. */
typedef struct {
    double t;
    double a;  /* K- just after this spike (1 for nearest rules) * exp((t - t0)/tau_minus) */
    double p;  /* exp((t0 - t)/tau_plus) */
    double ky; /* triplet K-: just before this spike */
} hist;

/* A postsynaptic neuron's spike history: entries h0 .. h0+n-1 (mod cap,
 * a power of two; e NULL until the first spike). With it, what a pairing
 * with four spikes needs besides the newest three (newest, t4) and would
 * otherwise walk the entries for: the fourth newest spike's p and the
 * fifth newest's time (-inf: none), in the line each spike writes anyway. */
typedef struct {
    hist *e;
    uint32_t cap, h0, n;
    double p4, t5;
} ring;

/* A postsynaptic neuron's newest spikes, what most updates need, in one
 * cache line: t, a, p of its newest history entry, t2, a2, p2 of the one
 * before, t3, p3 of the one before that (-inf, 0: none). The time of the
 * fourth newest is in norn_stdp.t4, read only when three spikes pair. */
typedef struct {
    double t, a, p, t2, a2, p2, t3, p3;
} newest;

struct norn_stdp {
    norn_stdp_spec p;
    uint32_t n_pre, n_post;
    uint64_t nnz;
    double *w;
    double *kps;    /* stdp_nn_pre_centered: K+ of each synapse */
    uint8_t *seen;  /* stdp_nn_restr: a postsynaptic spike already paired */
    double *pt, *pk, *px, *ps; /* per presynaptic neuron: last spike, K+, K+_triplet, settled */
    pre_log *log;
    uint64_t log_cap, log_lo, log_hi; /* entries log_lo .. log_hi-1, at seq & (cap-1) */
    ring *h;           /* per postsynaptic neuron */
    uint64_t h_bytes;  /* their entries' bytes */
    double cut;        /* entries at or before this are never paired again */
    newest *nw;        /* per postsynaptic neuron, one cache line for two */
    double *t4;        /* per postsynaptic neuron: its fourth newest spike (-inf: none) */
    double t0;         /* the epoch of the scaled traces */
    double max_delay_ms, period, next_settle, prev_cutoff;
    double inv_tp, inv_tm, inv_tx, inv_ty, inv_wmax;
    int nearest_m;     /* K- of the nearest spike only */
    int reference;     /* tests: every synapse through potentiate() and trace_before() */
    int x8;            /* AVX-512F: additive stdp_synapse eight synapses at a time (pair_add_x8) */
};

const char *norn_stdp_rule_name(int rule)
{
    static const char *const names[] = {"none", "stdp", "stdp_nn_symm", "stdp_nn_pre_centered", "stdp_nn_restr",
                                        "stdp_pl", "stdp_triplet", "stdp"};
    return rule >= 0 && rule <= NORN_STDP_NORSE ? names[rule] : "?";
}

/* ------------------------------------------------------------ weight rules */

static inline double powi(double x, double mu)
{
    if (mu == 0.0)
        return 1.0;
    if (mu == 1.0)
        return x;
    return pow(x, mu);
}

static inline double fac_pair(const norn_stdp_spec *p, double iw, double w, double k)
{
    double nw = w * iw + p->lambda * powi(1.0 - w * iw, p->mu_plus) * k;
    return nw < 1.0 ? nw * p->Wmax : p->Wmax;
}

static inline double dep_pair(const norn_stdp_spec *p, double iw, double w, double k)
{
    double nw = w * iw - p->alpha * p->lambda * powi(w * iw, p->mu_minus) * k;
    return nw > 0.0 ? nw * p->Wmax : 0.0;
}

static inline double fac_pl(const norn_stdp_spec *p, double w, double k)
{
    return w + p->lambda * powi(w, p->mu_plus) * k;
}

static inline double dep_pl(const norn_stdp_spec *p, double w, double k)
{
    double nw = w - p->lambda * p->alpha * w * k;
    return nw > 0.0 ? nw : 0.0;
}

static inline double fac_triplet(const norn_stdp_spec *p, double w, double kplus, double ky)
{
    double nw = fabs(w) + kplus * (p->Aplus + p->Aplus_triplet * ky);
    return copysign(nw < fabs(p->Wmax) ? nw : p->Wmax, p->Wmax);
}

static inline double dep_triplet(const norn_stdp_spec *p, double w, double kminus, double kx)
{
    double nw = fabs(w) - kminus * (p->Aminus + p->Aminus_triplet * kx);
    return copysign(nw > 0.0 ? nw : 0.0, p->Wmax);
}

/* ------------------------------------------------------------------ build */

norn_status norn_stdp_create(const norn_stdp_spec *spec, norn_csr *c, norn_stdp **out, norn_err *err)
{
    const norn_stdp_spec *p = spec;
    if (p->rule < NORN_STDP_PAIR || p->rule > NORN_STDP_TRIPLET)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stdp: rule %d is not one of NEST's", p->rule);
    if (!(p->tau_plus > 0) || !(p->tau_minus > 0) || (p->rule == NORN_STDP_TRIPLET && (!(p->tau_x > 0) || !(p->tau_y > 0))))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stdp: time constants must be > 0");
    if (p->rule != NORN_STDP_PL && (p->Wmax == 0 || !isfinite(p->Wmax)))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stdp: Wmax must be finite and not 0, got %g", p->Wmax);
    for (uint64_t k = 0; k < c->nnz; k++) {
        double w = c->weight[k];
        if (p->rule == NORN_STDP_PL) {
            if (!(w >= 0))
                return NORN_FAIL(err, NORN_EINVAL, NULL, "stdp_pl: weights must be >= 0, got %g", w);
        } else if ((w < 0) != (p->Wmax < 0) || fabs(w) > fabs(p->Wmax)) {
            return NORN_FAIL(err, NORN_EINVAL, NULL,
                             "stdp: weight %g must have Wmax's sign and be within [0, Wmax = %g]", w, p->Wmax);
        }
    }
    norn_stdp *st = norn_calloc_n(1, sizeof *st);
    if (!st)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "stdp: cannot allocate");
    st->p = *p;
    st->n_pre = c->n_src;
    st->n_post = c->n_tgt;
    st->nnz = c->nnz;
    uint32_t np = c->n_src ? c->n_src : 1, nq = c->n_tgt ? c->n_tgt : 1;
    uint64_t nz = c->nnz ? c->nnz : 1;
    st->w = norn_malloc_n(nz, sizeof(double));
    st->pt = norn_calloc_n(np, sizeof(double));
    st->pk = norn_calloc_n(np, sizeof(double));
    st->px = norn_calloc_n(np, sizeof(double));
    st->ps = norn_calloc_n(np, sizeof(double));
    st->h = norn_calloc_n(nq, sizeof(ring));
    st->cut = -INFINITY;
    st->nw = norn_malloc_n(nq, sizeof(newest));
    st->t4 = norn_malloc_n(nq, sizeof(double));
    st->log_cap = 64; /* grows by doubling with the spikes in flight */
    st->log = norn_malloc_n(st->log_cap, sizeof(pre_log));
    int ok = st->w && st->pt && st->pk && st->px && st->ps && st->h && st->log && st->nw && st->t4;
    if (ok && p->rule == NORN_STDP_NN_PRE)
        ok = (st->kps = norn_calloc_n(nz, sizeof(double))) != NULL;
    if (ok && p->rule == NORN_STDP_NN_RESTR)
        ok = (st->seen = norn_calloc_n(nz, 1)) != NULL;
    if (!ok) {
        norn_stdp_free(st);
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "stdp: cannot allocate the state of %llu synapses",
                         (unsigned long long)c->nnz);
    }
    for (uint64_t k = 0; k < c->nnz; k++)
        st->w[k] = c->weight[k];
    norn_free(c->weight);
    c->weight = NULL;
    st->inv_tp = 1.0 / p->tau_plus;
    st->inv_tm = 1.0 / p->tau_minus;
    st->inv_tx = p->rule == NORN_STDP_TRIPLET ? 1.0 / p->tau_x : 0.0;
    st->inv_ty = p->rule == NORN_STDP_TRIPLET ? 1.0 / p->tau_y : 0.0;
    st->inv_wmax = 1.0 / p->Wmax;
    st->nearest_m = p->rule == NORN_STDP_NN_SYMM || p->rule == NORN_STDP_NN_PRE || p->rule == NORN_STDP_NN_RESTR ||
                    (p->rule == NORN_STDP_TRIPLET && p->nearest);
    for (uint32_t j = 0; j < c->n_tgt; j++) {
        st->nw[j] = (newest){-INFINITY, 0.0, 0.0, -INFINITY, 0.0, 0.0, -INFINITY, 0.0};
        st->t4[j] = -INFINITY;
        st->h[j].p4 = 0.0;
        st->h[j].t5 = -INFINITY;
    }
    st->max_delay_ms = 0; /* set by the first settle */
    st->next_settle = -1;
    st->prev_cutoff = -INFINITY;
    norn_stdp_set_simd(st, 1);
    *out = st;
    return NORN_OK;
}

void norn_stdp_free(norn_stdp *st)
{
    if (!st)
        return;
    norn_free(st->w);
    norn_free(st->kps);
    norn_free(st->seen);
    norn_free(st->pt);
    norn_free(st->pk);
    norn_free(st->px);
    norn_free(st->ps);
    norn_free(st->log);
    for (uint32_t j = 0; st->h && j < st->n_post; j++)
        norn_free(st->h[j].e);
    norn_free(st->h);
    norn_free(st->nw);
    norn_free(st->t4);
    norn_free(st);
}

uint64_t norn_stdp_bytes(const norn_stdp *st)
{
    uint64_t b = sizeof *st + st->nnz * sizeof(double) + 4ull * st->n_pre * sizeof(double) +
                 st->log_cap * sizeof(pre_log) + (uint64_t)st->n_post * (sizeof(ring) + sizeof(newest) + sizeof(double)) + st->h_bytes;
    if (st->kps)
        b += st->nnz * sizeof(double);
    if (st->seen)
        b += st->nnz;
    return b;
}

const double *norn_stdp_weights(const norn_stdp *st) { return st->w; }

void norn__stdp_set_reference(norn_stdp *st, int on) { st->reference = on != 0; }

int norn_stdp_set_simd(norn_stdp *st, int on)
{
#if defined(NORN_STDP_X8)
    st->x8 = on && __builtin_cpu_supports("avx512f");
#else
    (void)on;
    st->x8 = 0;
#endif
    return st->x8;
}

int norn__stdp_reference(const norn_stdp *st) { return st->reference; }

/* ------------------------------------------------------------------ spikes */

uint64_t norn_stdp_pre_spike(norn_stdp *st, uint32_t i, double t)
{
    if (st->log_hi - st->log_lo == st->log_cap) {
        uint64_t cap = st->log_cap * 2;
        pre_log *nl = norn_malloc_n(cap, sizeof *nl);
        if (!nl)
            return UINT64_MAX;
        for (uint64_t q = st->log_lo; q < st->log_hi; q++)
            nl[q & (cap - 1)] = st->log[q & (st->log_cap - 1)];
        norn_free(st->log);
        st->log = nl;
        st->log_cap = cap;
    }
    uint64_t seq = st->log_hi++;
    pre_log *e = &st->log[seq & (st->log_cap - 1)];
    e->t = t;
    e->t_last = st->pt[i];
    e->kp = st->pk[i];
    e->kx = st->px[i];
    e->settled = st->ps[i];
    double dt = st->pt[i] - t;
    if (st->p.rule == NORN_STDP_TRIPLET && st->p.nearest) {
        st->pk[i] = 1.0;
        st->px[i] = 1.0;
    } else {
        st->pk[i] = st->pk[i] * exp(dt * st->inv_tp) + 1.0;
        if (st->p.rule == NORN_STDP_TRIPLET)
            st->px[i] = st->px[i] * exp(dt * st->inv_tx) + 1.0;
    }
    st->pt[i] = t;
    return seq;
}

static inline hist *hent(const norn_stdp *st, uint32_t j, uint32_t k)
{
    const ring *r = &st->h[j];
    return &r->e[(r->h0 + k) & (r->cap - 1)];
}

/* Drops neuron j's entries that will never be paired again, keeping the
 * newest of them (the depression trace before later spikes). */
static inline void trim(norn_stdp *st, uint32_t j)
{
    ring *r = &st->h[j];
    while (r->n >= 2 && r->e[(r->h0 + 1) & (r->cap - 1)].t <= st->cut) {
        r->h0 = (r->h0 + 1) & (r->cap - 1);
        r->n--;
    }
}

/* Room for one more entry of neuron j: its own ring doubles. */
static int grow_history(norn_stdp *st, uint32_t j)
{
    ring *r = &st->h[j];
    uint32_t cap = r->cap ? 2 * r->cap : 4;
    hist *ne = norn_malloc_n(cap, sizeof *ne);
    if (!ne)
        return 0;
    for (uint32_t k = 0; k < r->n; k++)
        ne[k] = r->e[(r->h0 + k) & (r->cap - 1)];
    norn_free(r->e);
    st->h_bytes += (uint64_t)(cap - r->cap) * sizeof(hist);
    r->e = ne;
    r->cap = cap;
    r->h0 = 0;
    return 1;
}

/* exp(x), never +inf (factors of long-gone spikes are never used) */
static inline double expc(double x) { return exp(x < 700.0 ? x : 700.0); }

int norn_stdp_post_spike(norn_stdp *st, uint32_t j, double t)
{
    trim(st, j);
    if (st->h[j].n == st->h[j].cap && !grow_history(st, j))
        return 0;
    double km = 1.0;
    hist e = {t, 0.0, expc((st->t0 - t) * st->inv_tp), 0.0};
    int nearest = st->p.rule == NORN_STDP_TRIPLET && st->p.nearest;
    if (st->h[j].n) {
        const hist *prev = hent(st, j, st->h[j].n - 1);
        if (!st->nearest_m)
            km = prev->a * expc((st->t0 - t) * st->inv_tm) + 1.0;
        if (st->p.rule == NORN_STDP_TRIPLET)
            e.ky = (nearest ? 1.0 : prev->ky + 1.0) * exp((prev->t - t) * st->inv_ty);
    }
    e.a = km * expc((t - st->t0) * st->inv_tm);
    *hent(st, j, st->h[j].n) = e;
    st->h[j].n++;
    const newest o = st->nw[j];
    st->nw[j] = (newest){t, e.a, e.p, o.t, o.a, o.p, o.t2, o.p2};
    st->h[j].p4 = o.p3;
    st->h[j].t5 = st->t4[j];
    st->t4[j] = o.t3;
    return 1;
}

/* ---------------------------------------------------------------- updates */

/* Potentiation of synapse k (target j) by the postsynaptic spikes in
 * (lo, hi] (postsynaptic frame); f = exp((t_last - d - t0)/tau_plus), the
 * presynaptic trace kp. Only the first spike for the _nn_pre_centered and
 * _nn_restr rules. Returns the new weight. */
static double potentiate(norn_stdp *st, uint64_t k, uint32_t j, double w, double lo, double hi, double f, double kp)
{
    const norn_stdp_spec *p = &st->p;
    const double iw = st->inv_wmax;
    uint32_t n = st->h[j].n;
    if (n == 0 || st->nw[j].t <= lo + STDP_EPS)
        return w;
    /* the first entry after lo */
    uint32_t a = n - 1;
    while (a > 0 && hent(st, j, a - 1)->t > lo + STDP_EPS)
        a--;
    for (uint32_t q = a; q < n; q++) {
        const hist *e = hent(st, j, q);
        if (e->t > hi + STDP_EPS)
            break;
        double x = f * e->p;
        switch (p->rule) {
        case NORN_STDP_PAIR:
            w = fac_pair(p, iw, w, f * kp * e->p); /* (f kp) p, as update_pair */
            break;
        case NORN_STDP_NN_SYMM:
            w = fac_pair(p, iw, w, x);
            break;
        case NORN_STDP_NN_PRE:
            if (st->kps[k] != 0.0)
                w = fac_pair(p, iw, w, st->kps[k] * x);
            st->kps[k] = 0.0;
            return w;
        case NORN_STDP_NN_RESTR:
            if (!st->seen[k])
                w = fac_pair(p, iw, w, x);
            st->seen[k] = 1;
            return w;
        case NORN_STDP_PL:
            w = fac_pl(p, w, kp * x);
            break;
        default: /* TRIPLET */
            w = fac_triplet(p, w, kp * x, e->ky);
            break;
        }
    }
    return w;
}

/* The scaled postsynaptic trace of neuron j at T (spikes strictly before
 * it), times exp((t0 - T)/tau_minus) = B gives K-(T). */
static inline double trace_before(const norn_stdp *st, uint32_t j, double T)
{
    if (st->nw[j].t < T - STDP_EPS)
        return st->nw[j].a;
    int q = (int)st->h[j].n - 1;
    while (q >= 0 && hent(st, j, (uint32_t)q)->t >= T - STDP_EPS)
        q--;
    return q >= 0 ? hent(st, j, (uint32_t)q)->a : 0.0;
}

static inline uint32_t target_of(const uint32_t *tg, const uint16_t *t16, uint64_t k)
{
    return t16 ? t16[k] : tg[k];
}

/* The new weight w of a synapse into j goes to the sink (see stdp.h);
 * inlined with sink NULL or pend NULL constant, each is its own loop. */
static inline __attribute__((always_inline)) void emit(norn_stdp_sink *sink, double *acc, uint8_t *mark,
                                                       uint32_t *pend, uint32_t *np, uint32_t j, double w)
{
    if (!sink)
        return;
    if (pend) {
        if (!mark[j]) {
            mark[j] = 1;
            pend[(*np)++] = j;
        }
    } else {
        mark[j] = 1;
    }
    acc[j] += w;
}

/* What one delivery of stdp_synapse needs, as constants of the loop. */
typedef struct {
    double lim;    /* potentiation window (lim, hi_p]: lower end + eps */
    double hi_eps; /* T2 - eps: the depression trace is of spikes before it */
    double hi_p;   /* T2 + eps */
    double fk;     /* presynaptic factor f K+ of a pairing: (f kp) p */
    double iw, lam, wmax, dk, B;
} pair_k;

/* Additive stdp_synapse (mu_plus = mu_minus = 0) through one synapse into
 * a neuron whose newest three spikes tell everything (e->t3 <= lim and
 * e->t2 < hi_eps): the second newest spike pairs if it is in the window,
 * then the newest, then the depression by the trace of the newest spike
 * before T2. The same operations as fac_pair and dep_pair (and so as
 * potentiate() and trace_before()), without a branch: the cases are about
 * as likely as not, a branch would be mispredicted half the time, and gcc
 * keeps ?: on doubles as branches, so with SSE2 the selections are masks. */
#if defined(__SSE2__)
static inline __m128d blend(__m128d m, __m128d x, __m128d y) { return _mm_or_pd(_mm_and_pd(m, x), _mm_andnot_pd(m, y)); }

static inline __attribute__((always_inline)) double pair_add(const newest *e, const double *wp, const pair_k *c)
{
    const __m128d IW = _mm_set_sd(c->iw), LAM = _mm_set_sd(c->lam), WM = _mm_set_sd(c->wmax), FK = _mm_set_sd(c->fk);
    const __m128d LIM = _mm_set_sd(c->lim), ONE = _mm_set_sd(1.0);
    __m128d w = _mm_load_sd(wp), t1 = _mm_load_sd(&e->t), t2 = _mm_load_sd(&e->t2);
    /* w/Wmax + lambda (f kp) p, capped at 1 (minsd: v < 1 ? v : 1), times Wmax */
    __m128d v = _mm_add_sd(_mm_mul_sd(w, IW), _mm_mul_sd(LAM, _mm_mul_sd(FK, _mm_load_sd(&e->p2))));
    w = blend(_mm_cmplt_sd(LIM, t2), _mm_mul_sd(_mm_min_sd(v, ONE), WM), w);
    v = _mm_add_sd(_mm_mul_sd(w, IW), _mm_mul_sd(LAM, _mm_mul_sd(FK, _mm_load_sd(&e->p))));
    __m128d in1 = _mm_and_pd(_mm_cmplt_sd(LIM, t1), _mm_cmple_sd(t1, _mm_set_sd(c->hi_p)));
    w = blend(in1, _mm_mul_sd(_mm_min_sd(v, ONE), WM), w);
    __m128d a = blend(_mm_cmplt_sd(t1, _mm_set_sd(c->hi_eps)), _mm_load_sd(&e->a), _mm_load_sd(&e->a2));
    v = _mm_sub_sd(_mm_mul_sd(w, IW), _mm_mul_sd(_mm_set_sd(c->dk), _mm_mul_sd(a, _mm_set_sd(c->B))));
    /* v > 0 ? v Wmax : 0 */
    return _mm_cvtsd_f64(_mm_and_pd(_mm_cmplt_sd(_mm_setzero_pd(), v), _mm_mul_sd(v, WM)));
}
#else
static inline double pair_add(const newest *e, const double *wp, const pair_k *c)
{
    double w = *wp, v;
    if (e->t2 > c->lim) {
        v = w * c->iw + c->lam * (c->fk * e->p2);
        w = (v < 1.0 ? v : 1.0) * c->wmax;
    }
    if (e->t > c->lim && e->t <= c->hi_p) {
        v = w * c->iw + c->lam * (c->fk * e->p);
        w = (v < 1.0 ? v : 1.0) * c->wmax;
    }
    v = w * c->iw - c->dk * ((e->t < c->hi_eps ? e->a : e->a2) * c->B);
    return v > 0.0 ? v * c->wmax : 0.0;
}
#endif

/* One synapse k (target j) of stdp_synapse: its new weight. */
static inline __attribute__((always_inline)) double pair_one(norn_stdp *st, const pair_k *c, const pre_log *L,
                                                             uint64_t k, uint32_t j, double T2, double F1, double f,
                                                             int fast, int additive)
{
    const norn_stdp_spec *p = &st->p;
    const newest *e = &st->nw[j];
    double w, km;
    if (__builtin_expect(fast && e->t2 < c->hi_eps &&
                             (e->t3 <= c->lim || st->t4[j] <= c->lim || st->h[j].t5 <= c->lim), 1)) {
        if (additive && e->t3 <= c->lim)
            return pair_add(e, &st->w[k], c);
        w = st->w[k];
        if (st->t4[j] > c->lim) /* four spikes pair: t4 < t3 < t2 < T2 */
            w = fac_pair(p, c->iw, w, c->fk * st->h[j].p4);
        if (e->t3 > c->lim) /* three spikes pair */
            w = fac_pair(p, c->iw, w, c->fk * e->p3);
        if (e->t2 > c->lim)
            w = fac_pair(p, c->iw, w, c->fk * e->p2);
        if (e->t > c->lim && e->t <= c->hi_p)
            w = fac_pair(p, c->iw, w, c->fk * e->p);
        km = (e->t < c->hi_eps ? e->a : e->a2) * c->B;
    } else {
        w = potentiate(st, k, j, st->w[k], F1, T2, f, L->kp);
        km = trace_before(st, j, T2) * c->B;
    }
    double v = w * c->iw;
    v = v - c->dk * powi(v, additive ? 0.0 : p->mu_minus) * km;
    return v > 0.0 ? v * c->wmax : 0.0;
}

#if defined(__SSE2__)
/* Synapses k, k + 1 when one of them is not for pair_add: out of line, so
 * that the loop keeps its constants in registers. */
static __attribute__((noinline)) void pair_two_general(norn_stdp *st, const pair_k *c, const pre_log *L, uint64_t k,
                                                       uint32_t j0, uint32_t j1, double T2, double F1, double f)
{
    double w0 = pair_one(st, c, L, k, j0, T2, F1, f, 1, 1);
    double w1 = pair_one(st, c, L, k + 1, j1, T2, F1, f, 1, 1);
    st->w[k] = w0;
    st->w[k + 1] = w1;
}

/* Additive stdp_synapse through synapses k, k + 1 whose targets' newest
 * spikes tell everything but the third newest may pair too (its fourth
 * newest before the window): pair_add's operations with the third newest
 * first, on both lanes, without a branch. Out of line: the loop keeps its
 * registers. */
static __attribute__((noinline)) void pair_three(double *W, const pair_k *c, const newest *e0, const newest *e1)
{
    const __m128d IW = _mm_set1_pd(c->iw), LAM = _mm_set1_pd(c->lam), WM = _mm_set1_pd(c->wmax);
    const __m128d FK = _mm_set1_pd(c->fk), LIM = _mm_set1_pd(c->lim), ONE = _mm_set1_pd(1.0);
    __m128d w = _mm_loadu_pd(W);
    __m128d x = _mm_mul_pd(FK, _mm_loadh_pd(_mm_load_sd(&e0->p3), &e1->p3));
    __m128d v = _mm_add_pd(_mm_mul_pd(w, IW), _mm_mul_pd(LAM, x));
    __m128d t3 = _mm_loadh_pd(_mm_load_sd(&e0->t3), &e1->t3);
    w = blend(_mm_cmplt_pd(LIM, t3), _mm_mul_pd(_mm_min_pd(v, ONE), WM), w);
    x = _mm_mul_pd(FK, _mm_loadh_pd(_mm_load_sd(&e0->p2), &e1->p2));
    v = _mm_add_pd(_mm_mul_pd(w, IW), _mm_mul_pd(LAM, x));
    __m128d t2 = _mm_loadh_pd(_mm_load_sd(&e0->t2), &e1->t2);
    w = blend(_mm_cmplt_pd(LIM, t2), _mm_mul_pd(_mm_min_pd(v, ONE), WM), w);
    x = _mm_mul_pd(FK, _mm_loadh_pd(_mm_load_sd(&e0->p), &e1->p));
    v = _mm_add_pd(_mm_mul_pd(w, IW), _mm_mul_pd(LAM, x));
    __m128d t1 = _mm_loadh_pd(_mm_load_sd(&e0->t), &e1->t);
    __m128d in1 = _mm_and_pd(_mm_cmplt_pd(LIM, t1), _mm_cmple_pd(t1, _mm_set1_pd(c->hi_p)));
    w = blend(in1, _mm_mul_pd(_mm_min_pd(v, ONE), WM), w);
    __m128d a = blend(_mm_cmplt_pd(t1, _mm_set1_pd(c->hi_eps)), _mm_loadh_pd(_mm_load_sd(&e0->a), &e1->a),
                      _mm_loadh_pd(_mm_load_sd(&e0->a2), &e1->a2));
    v = _mm_sub_pd(_mm_mul_pd(w, IW), _mm_mul_pd(_mm_set1_pd(c->dk), _mm_mul_pd(a, _mm_set1_pd(c->B))));
    _mm_storeu_pd(W, _mm_and_pd(_mm_cmplt_pd(_mm_setzero_pd(), v), _mm_mul_pd(v, WM)));
}
#endif

#if defined(NORN_STDP_X8)

/* One synapse k (target j) of additive stdp_synapse that pair_add does not
 * take: out of line, for pair_add_x8's rare lanes. */
static __attribute__((noinline)) void pair_lane(norn_stdp *st, const pair_k *c, const pre_log *L, uint64_t k,
                                                uint32_t j, double T2, double F1, double f)
{
    st->w[k] = pair_one(st, c, L, k, j, T2, F1, f, 1, 1);
}

#define X8_TARGET __attribute__((target("avx512f")))

/* The newest spikes of eight targets, one line each, transposed: f[q] is
 * field q (t, a, p, t2, a2, p2, t3, p3) of the eight, lane i of target i.
 * Loads and shuffles: a gather of eight lines costs more here. */
X8_TARGET static inline __attribute__((always_inline)) void x8_fields(const newest *nw, const uint32_t *j, __m512d f[8])
{
    __m512d r[8], u[8], v[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm512_loadu_pd((const double *)&nw[j[i]]);
    for (int i = 0; i < 8; i += 2) {
        u[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);     /* fields 0 2 4 6 of i, i + 1 */
        u[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]); /* fields 1 3 5 7 */
    }
    for (int h = 0; h < 8; h += 4)
        for (int o = 0; o < 2; o++) {
            /* fields (0, 4) or (1, 5) then (2, 6) or (3, 7) of targets h .. h + 3 */
            v[h + 2 * o] = _mm512_shuffle_f64x2(u[h + o], u[h + 2 + o], _MM_SHUFFLE(2, 0, 2, 0));
            v[h + 2 * o + 1] = _mm512_shuffle_f64x2(u[h + o], u[h + 2 + o], _MM_SHUFFLE(3, 1, 3, 1));
        }
    /* v[0]: fields 0, 4 of targets 0-3; v[1]: 2, 6; v[2]: 1, 5; v[3]: 3, 7; v[4..7] the same of 4-7 */
    static const int lo_field[4] = {0, 2, 1, 3};
    for (int g = 0; g < 4; g++) {
        f[lo_field[g]] = _mm512_shuffle_f64x2(v[g], v[g + 4], _MM_SHUFFLE(2, 0, 2, 0));
        f[lo_field[g] + 4] = _mm512_shuffle_f64x2(v[g], v[g + 4], _MM_SHUFFLE(3, 1, 3, 1));
    }
}

/* Additive stdp_synapse through synapses lo.., eight at a time (AVX-512):
 * pair_three's operations on eight lanes (so pair_add's where the third
 * newest spike is not in the window: that step is masked off), the
 * targets' newest spikes read whole (x8_fields). Lanes whose targets'
 * newest three spikes do not tell everything (the fourth newest in the
 * window, or the newest at or after T2 - eps) go through pair_lane
 * (pair_one: four pairing spikes from the newest three and the ring's
 * header, else the general code) once the others are stored; then the
 * eight go to the sink in synapse order (emit()'s sums). Returns where it
 * stopped (fewer than eight synapses left). The same weights as
 * update_pair's SSE2 loop, bit for bit: the same operations, in the same
 * order, per synapse. */
X8_TARGET static inline __attribute__((always_inline)) uint64_t
pair_add_x8_m(norn_stdp *st, const uint32_t *tg, const uint16_t *t16, const pre_log *L, const pair_k *c, uint64_t lo,
              uint64_t hi, double T2, double F1, double f, norn_stdp_sink *sink, const int SINK, const int PEND,
              const int MARK)
{
    const newest *nw = st->nw;
    const double *t4 = st->t4;
    double *W = st->w;
    double *acc = SINK ? sink->acc : NULL;
    uint8_t *mark = SINK ? sink->mark : NULL;
    uint32_t *pend = PEND ? sink->pend : NULL;
    uint32_t np = SINK ? sink->n_pend : 0;
    const __m512d IW = _mm512_set1_pd(c->iw), LAM = _mm512_set1_pd(c->lam), WM = _mm512_set1_pd(c->wmax);
    const __m512d FK = _mm512_set1_pd(c->fk), LIM = _mm512_set1_pd(c->lim), HIE = _mm512_set1_pd(c->hi_eps);
    const __m512d HIP = _mm512_set1_pd(c->hi_p), DKB = _mm512_set1_pd(c->dk), BB = _mm512_set1_pd(c->B);
    const __m512d ONE = _mm512_set1_pd(1.0);
    const __m512i NWB = _mm512_set1_epi64((long long)(uintptr_t)nw);
    uint64_t k = lo;
    for (; k + 8 <= hi; k += 8) {
        /* the weights 64 ahead, the targets 192 ahead (a row starts
         * anywhere: the hardware prefetcher is slow to pick it up), the
         * targets' lines 16 ahead (random, in a table about the size of
         * L2; their addresses computed eight at a time, which costs a
         * third of the instructions of a scalar loop) */
        _mm_prefetch((const char *)&W[k + 64 < hi ? k + 64 : k], _MM_HINT_T0);
        if (t16)
            _mm_prefetch((const char *)&t16[k + 192 < hi ? k + 192 : k], _MM_HINT_T0);
        else
            _mm_prefetch((const char *)&tg[k + 192 < hi ? k + 192 : k], _MM_HINT_T0);
        if (k + 24 <= hi) {
            __m512i q = t16 ? _mm512_cvtepu16_epi64(_mm_loadu_si128((const __m128i *)&t16[k + 16]))
                            : _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)&tg[k + 16]));
            uint64_t qa[8];
            _mm512_storeu_si512(qa, _mm512_add_epi64(_mm512_slli_epi64(q, 6), NWB));
            for (int i = 0; i < 8; i++)
                _mm_prefetch((const char *)(uintptr_t)qa[i], _MM_HINT_T0);
        } else {
            for (uint64_t q = k + 16; q < hi; q++)
                _mm_prefetch((const char *)&nw[t16 ? t16[q] : tg[q]], _MM_HINT_T0);
        }
        uint32_t jj[8];
        for (int i = 0; i < 8; i++)
            jj[i] = t16 ? t16[k + i] : tg[k + i];
        __m512d F[8]; /* t, a, p, t2, a2, p2, t3, p3 */
        x8_fields(nw, jj, F);
        const __m512d t1 = F[0], t2 = F[3], t3 = F[6];
        /* the third newest pairs (t3 in the window) only where the fourth
         * newest is before it; t2 < T2 - eps, or the general code */
        __mmask8 m3 = _mm512_cmp_pd_mask(LIM, t3, _CMP_LT_OQ), good = _mm512_cmp_pd_mask(t2, HIE, _CMP_LT_OQ);
        /* w/Wmax + lambda (f kp) p, capped at 1 (min: v < 1 ? v : 1), times
         * Wmax, for the spikes in the window: the third newest, the second
         * newest, the newest (<= T2 + eps) */
        __m512d w = _mm512_loadu_pd(&W[k]), v;
        if (m3) { /* a branch: t4 is in another line, rarely needed */
            for (unsigned m = m3; m; m &= m - 1)
                if (!(t4[jj[__builtin_ctz(m)]] <= c->lim))
                    good &= (__mmask8)~(m & -m);
            v = _mm512_add_pd(_mm512_mul_pd(w, IW), _mm512_mul_pd(LAM, _mm512_mul_pd(FK, F[7])));
            w = _mm512_mask_mov_pd(w, m3, _mm512_mul_pd(_mm512_min_pd(v, ONE), WM));
        }
        v = _mm512_add_pd(_mm512_mul_pd(w, IW), _mm512_mul_pd(LAM, _mm512_mul_pd(FK, F[5])));
        w = _mm512_mask_mov_pd(w, _mm512_cmp_pd_mask(LIM, t2, _CMP_LT_OQ), _mm512_mul_pd(_mm512_min_pd(v, ONE), WM));
        v = _mm512_add_pd(_mm512_mul_pd(w, IW), _mm512_mul_pd(LAM, _mm512_mul_pd(FK, F[2])));
        __mmask8 in1 = _mm512_cmp_pd_mask(LIM, t1, _CMP_LT_OQ) & _mm512_cmp_pd_mask(t1, HIP, _CMP_LE_OQ);
        w = _mm512_mask_mov_pd(w, in1, _mm512_mul_pd(_mm512_min_pd(v, ONE), WM));
        /* depression by the trace of the newest spike before T2 - eps: a
         * if t1 < T2 - eps, else a2; v > 0 ? v Wmax : 0 */
        __m512d a = _mm512_mask_mov_pd(F[4], _mm512_cmp_pd_mask(t1, HIE, _CMP_LT_OQ), F[1]);
        v = _mm512_sub_pd(_mm512_mul_pd(w, IW), _mm512_mul_pd(DKB, _mm512_mul_pd(a, BB)));
        w = _mm512_maskz_mul_pd(_mm512_cmp_pd_mask(_mm512_setzero_pd(), v, _CMP_LT_OQ), v, WM);
        if (__builtin_expect(good != 0xff, 0)) {
            _mm512_mask_storeu_pd(&W[k], good, w);
            for (unsigned i = 0; i < 8; i++)
                if (!(good >> i & 1))
                    pair_lane(st, c, L, k + i, t16 ? t16[k + i] : tg[k + i], T2, F1, f);
        } else {
            _mm512_storeu_pd(&W[k], w);
        }
        if (!SINK)
            continue;
        for (unsigned i = 0; i < 8; i++) {
            uint32_t j = t16 ? t16[k + i] : tg[k + i];
            if (PEND) {
                if (!mark[j]) {
                    mark[j] = 1;
                    pend[np++] = j;
                }
            } else if (MARK) {
                mark[j] = 1;
            }
            acc[j] += W[k + i];
        }
    }
    if (SINK)
        sink->n_pend = np;
    return k;
}

/* One instance per sink kind (none, sums only, marks, list) and target
 * width. */
#define X8_INSTANCE(name, TG, T16, SINK, PEND, MARK)                                                                       \
    X8_TARGET static __attribute__((noinline)) uint64_t name(norn_stdp *st, const uint32_t *tg, const uint16_t *t16,  \
                                                             const pre_log *L, const pair_k *c, uint64_t lo,          \
                                                             uint64_t hi, double T2, double F1, double f,             \
                                                             norn_stdp_sink *sink)                                    \
    {                                                                                                                  \
        (void)tg;                                                                                                      \
        (void)t16;                                                                                                     \
        return pair_add_x8_m(st, TG, T16, L, c, lo, hi, T2, F1, f, sink, SINK, PEND, MARK);                            \
    }
X8_INSTANCE(x8_16_none, NULL, t16, 0, 0, 0)
X8_INSTANCE(x8_16_sums, NULL, t16, 1, 0, 0)
X8_INSTANCE(x8_16_dense, NULL, t16, 1, 0, 1)
X8_INSTANCE(x8_16_pend, NULL, t16, 1, 1, 1)
X8_INSTANCE(x8_32_none, tg, NULL, 0, 0, 0)
X8_INSTANCE(x8_32_sums, tg, NULL, 1, 0, 0)
X8_INSTANCE(x8_32_dense, tg, NULL, 1, 0, 1)
X8_INSTANCE(x8_32_pend, tg, NULL, 1, 1, 1)
#undef X8_INSTANCE

static uint64_t pair_add_x8(norn_stdp *st, const uint32_t *tg, const uint16_t *t16, const pre_log *L,
                            const pair_k *c, uint64_t lo, uint64_t hi, double T2, double F1, double f,
                            norn_stdp_sink *sink)
{
    if (t16)
        return !sink           ? x8_16_none(st, tg, t16, L, c, lo, hi, T2, F1, f, sink)
               : sink->pend    ? x8_16_pend(st, tg, t16, L, c, lo, hi, T2, F1, f, sink)
               : sink->no_mark ? x8_16_sums(st, tg, t16, L, c, lo, hi, T2, F1, f, sink)
                               : x8_16_dense(st, tg, t16, L, c, lo, hi, T2, F1, f, sink);
    return !sink           ? x8_32_none(st, tg, t16, L, c, lo, hi, T2, F1, f, sink)
           : sink->pend    ? x8_32_pend(st, tg, t16, L, c, lo, hi, T2, F1, f, sink)
           : sink->no_mark ? x8_32_sums(st, tg, t16, L, c, lo, hi, T2, F1, f, sink)
                           : x8_32_dense(st, tg, t16, L, c, lo, hi, T2, F1, f, sink);
}
#endif

/* stdp_synapse (the common case, one tight loop): the newest three
 * postsynaptic spikes of a target, one cache line (newest), tell
 * everything for most synapses; the others go through potentiate() and
 * trace_before(). Additive (mu_plus = mu_minus = 0) is passed as a
 * constant when it holds; with SSE2 it takes two synapses at a time
 * (pair_add on both lanes, the same operations). */
static inline __attribute__((always_inline)) void update_pair(norn_stdp *st, const uint32_t *tg, const uint16_t *t16,
                                                              const pre_log *L, uint64_t lo, uint64_t hi, double T2,
                                                              double F1, double B, double f, norn_stdp_sink *sink,
                                                              int additive)
{
    const norn_stdp_spec *p = &st->p;
    double *W = st->w;
    const pair_k c = {F1 + STDP_EPS, T2 - STDP_EPS, T2 + STDP_EPS, f * L->kp, st->inv_wmax, p->lambda, p->Wmax,
                      p->alpha * p->lambda, B};
    const int fast = !st->reference;
    double *acc = sink ? sink->acc : NULL;
    uint8_t *mark = sink ? sink->mark : NULL;
    uint32_t *pend = sink ? sink->pend : NULL;
    uint32_t np = sink ? sink->n_pend : 0;
    uint64_t k = lo;
#if defined(NORN_STDP_X8)
    if (additive && fast && st->x8 && hi - lo >= 8) {
        if (sink)
            sink->n_pend = np;
        k = pair_add_x8(st, tg, t16, L, &c, lo, hi, T2, F1, f, sink);
        if (sink)
            np = sink->n_pend;
    }
#endif
#if defined(__SSE2__)
    if (additive && fast) {
        const newest *nw = st->nw;
        const __m128d IW = _mm_set1_pd(c.iw), LAM = _mm_set1_pd(c.lam), WM = _mm_set1_pd(c.wmax);
        const __m128d FK = _mm_set1_pd(c.fk), LIM = _mm_set1_pd(c.lim), HIE = _mm_set1_pd(c.hi_eps);
        const __m128d HIP = _mm_set1_pd(c.hi_p), DKB = _mm_set1_pd(c.dk), BB = _mm_set1_pd(B), ONE = _mm_set1_pd(1.0);
        for (; k + 1 < hi; k += 2) {
            /* the weights 32 ahead (a row starts anywhere: the hardware
             * prefetcher is slow to pick it up) and the lines of the
             * targets 16 ahead (random, in a table about the size of L2) */
            uint64_t q = k + 17 < hi ? k + 16 : hi - 2; /* q + 1 < hi: the table may end at hi */
            _mm_prefetch((const char *)&W[k + 32 < hi ? k + 32 : k], _MM_HINT_T0);
            _mm_prefetch((const char *)&nw[target_of(tg, t16, q)], _MM_HINT_T0);
            _mm_prefetch((const char *)&nw[target_of(tg, t16, q + 1)], _MM_HINT_T0);
            uint32_t j0 = target_of(tg, t16, k), j1 = target_of(tg, t16, k + 1);
            const newest *e0 = &nw[j0], *e1 = &nw[j1];
            __m128d t3 = _mm_loadh_pd(_mm_load_sd(&e0->t3), &e1->t3);
            __m128d t2 = _mm_loadh_pd(_mm_load_sd(&e0->t2), &e1->t2);
            if (__builtin_expect(_mm_movemask_pd(_mm_and_pd(_mm_cmple_pd(t3, LIM), _mm_cmplt_pd(t2, HIE))) != 3, 0)) {
                /* three spikes pair on a lane (its fourth newest before
                 * the window): pair_three; else the general code */
                __m128d t4 = _mm_loadh_pd(_mm_load_sd(&st->t4[j0]), &st->t4[j1]);
                __m128d ok = _mm_or_pd(_mm_cmple_pd(t3, LIM), _mm_cmple_pd(t4, LIM));
                if (_mm_movemask_pd(_mm_and_pd(ok, _mm_cmplt_pd(t2, HIE))) == 3)
                    pair_three(&W[k], &c, e0, e1);
                else
                    pair_two_general(st, &c, L, k, j0, j1, T2, F1, f);
                emit(sink, acc, mark, pend, &np, j0, W[k]);
                emit(sink, acc, mark, pend, &np, j1, W[k + 1]);
                continue;
            }
            __m128d t1 = _mm_loadh_pd(_mm_load_sd(&e0->t), &e1->t);
            __m128d w = _mm_loadu_pd(&W[k]);
            __m128d x = _mm_mul_pd(FK, _mm_loadh_pd(_mm_load_sd(&e0->p2), &e1->p2));
            __m128d v = _mm_add_pd(_mm_mul_pd(w, IW), _mm_mul_pd(LAM, x));
            w = blend(_mm_cmplt_pd(LIM, t2), _mm_mul_pd(_mm_min_pd(v, ONE), WM), w);
            x = _mm_mul_pd(FK, _mm_loadh_pd(_mm_load_sd(&e0->p), &e1->p));
            v = _mm_add_pd(_mm_mul_pd(w, IW), _mm_mul_pd(LAM, x));
            __m128d in1 = _mm_and_pd(_mm_cmplt_pd(LIM, t1), _mm_cmple_pd(t1, HIP));
            w = blend(in1, _mm_mul_pd(_mm_min_pd(v, ONE), WM), w);
            __m128d a = blend(_mm_cmplt_pd(t1, HIE), _mm_loadh_pd(_mm_load_sd(&e0->a), &e1->a),
                              _mm_loadh_pd(_mm_load_sd(&e0->a2), &e1->a2));
            v = _mm_sub_pd(_mm_mul_pd(w, IW), _mm_mul_pd(DKB, _mm_mul_pd(a, BB)));
            w = _mm_and_pd(_mm_cmplt_pd(_mm_setzero_pd(), v), _mm_mul_pd(v, WM));
            _mm_storeu_pd(&W[k], w);
            emit(sink, acc, mark, pend, &np, j0, _mm_cvtsd_f64(w));
            emit(sink, acc, mark, pend, &np, j1, _mm_cvtsd_f64(_mm_unpackhi_pd(w, w)));
        }
    }
#endif
    for (; k < hi; k++) {
        uint32_t j = target_of(tg, t16, k);
        double w = pair_one(st, &c, L, k, j, T2, F1, f, fast, additive);
        W[k] = w;
        emit(sink, acc, mark, pend, &np, j, w);
    }
    if (sink)
        sink->n_pend = np;
}

void norn_stdp_update(norn_stdp *st, const norn_csr *c, const uint16_t *t16, uint64_t seq, uint64_t lo, uint64_t hi,
                      double d, norn_stdp_sink *sink)
{
    const norn_stdp_spec *p = &st->p;
    const pre_log *L = &st->log[seq & (st->log_cap - 1)];
    double T2 = L->t - d;
    double F1 = (L->settled > L->t_last ? L->settled : L->t_last) - d;
    double B = exp((st->t0 - T2) * st->inv_tm);
    double f = exp((L->t_last - d - st->t0) * st->inv_tp);
    const uint32_t *tg = c->target;
    if (p->rule == NORN_STDP_PAIR) {
        int add = p->mu_plus == 0.0 && p->mu_minus == 0.0;
        /* one instance per case, with sink, pend and t16 constant */
        if (sink && sink->pend) {
            if (t16)
                add ? update_pair(st, NULL, t16, L, lo, hi, T2, F1, B, f, sink, 1)
                    : update_pair(st, NULL, t16, L, lo, hi, T2, F1, B, f, sink, 0);
            else
                add ? update_pair(st, tg, NULL, L, lo, hi, T2, F1, B, f, sink, 1)
                    : update_pair(st, tg, NULL, L, lo, hi, T2, F1, B, f, sink, 0);
        } else if (sink) {
            norn_stdp_sink dense = *sink;
            dense.pend = NULL;
            if (t16)
                add ? update_pair(st, NULL, t16, L, lo, hi, T2, F1, B, f, &dense, 1)
                    : update_pair(st, NULL, t16, L, lo, hi, T2, F1, B, f, &dense, 0);
            else
                add ? update_pair(st, tg, NULL, L, lo, hi, T2, F1, B, f, &dense, 1)
                    : update_pair(st, tg, NULL, L, lo, hi, T2, F1, B, f, &dense, 0);
        } else {
            if (t16)
                update_pair(st, NULL, t16, L, lo, hi, T2, F1, B, f, NULL, add);
            else
                update_pair(st, tg, NULL, L, lo, hi, T2, F1, B, f, NULL, add);
        }
        return;
    }
    const newest *nw = st->nw;
    double *W = st->w;
    const double iw = st->inv_wmax, lim = F1 + STDP_EPS;
    double kx = 0.0;
    if (p->rule == NORN_STDP_TRIPLET)
        kx = L->kx * exp((L->t_last - L->t) * st->inv_tx);
    double kdec = exp((L->t_last - L->t) * st->inv_tp);
    double *acc = sink ? sink->acc : NULL;
    uint8_t *mark = sink ? sink->mark : NULL;
    uint32_t *pend = sink ? sink->pend : NULL;
    uint32_t np = sink ? sink->n_pend : 0;
    for (uint64_t k = lo; k < hi; k++) {
        uint32_t j = target_of(tg, t16, k);
        double w = W[k];
        if (nw[j].t > lim) /* a postsynaptic spike since the last presynaptic one */
            w = potentiate(st, k, j, w, F1, T2, f, L->kp);
        double km = trace_before(st, j, T2) * B;
        switch (p->rule) {
        case NORN_STDP_NN_SYMM:
            w = dep_pair(p, iw, w, km);
            break;
        case NORN_STDP_NN_PRE:
            w = dep_pair(p, iw, w, km);
            st->kps[k] = st->kps[k] * kdec + 1.0;
            break;
        case NORN_STDP_NN_RESTR:
            /* only when a postsynaptic spike came since the last presynaptic one */
            if (st->seen[k])
                w = dep_pair(p, iw, w, km);
            st->seen[k] = 0;
            break;
        case NORN_STDP_PL:
            w = dep_pl(p, w, km);
            break;
        default: /* TRIPLET */
            w = dep_triplet(p, w, km, kx);
            break;
        }
        W[k] = w;
        if (sink) {
            if (pend && !mark[j]) {
                mark[j] = 1;
                pend[np++] = j;
            }
            mark[j] = 1;
            acc[j] += w;
        }
    }
    if (sink)
        sink->n_pend = np;
}

/* ----------------------------------------------------------------- settle */

/* One segment's potentiation window in settle: (lim, hi_p] with the
 * presynaptic factor fk; for potentiate(): (F, T], f, kp. */
typedef struct {
    double lim, hi_p, fk, F, T, f, kp;
} settle_win;

/* Settle's potentiation of synapse k. */
static inline void settle_one(norn_stdp *st, const uint32_t *tg, const uint16_t *t16, uint64_t k,
                              const settle_win *sw, int pair)
{
    uint32_t j = target_of(tg, t16, k);
    const newest *e = &st->nw[j];
    const double lim = sw->lim, hi_p = sw->hi_p, fk = sw->fk;
    if (e->t <= lim) /* no postsynaptic spike since (most): no call */
        return;
    if (pair && (e->t3 <= lim || st->t4[j] <= lim || st->h[j].t5 <= lim)) {
        /* the newest four tell everything, as in pair_one */
        double w = st->w[k];
        if (st->t4[j] > lim && st->t4[j] <= hi_p)
            w = fac_pair(&st->p, st->inv_wmax, w, fk * st->h[j].p4);
        if (e->t3 > lim && e->t3 <= hi_p)
            w = fac_pair(&st->p, st->inv_wmax, w, fk * e->p3);
        if (e->t2 > lim && e->t2 <= hi_p)
            w = fac_pair(&st->p, st->inv_wmax, w, fk * e->p2);
        if (e->t <= hi_p)
            w = fac_pair(&st->p, st->inv_wmax, w, fk * e->p);
        st->w[k] = w;
        return;
    }
    st->w[k] = potentiate(st, k, j, st->w[k], sw->F, sw->T, sw->f, sw->kp);
}

#if defined(__SSE2__)
/* Settle's potentiation of additive stdp_synapse over synapses lo.. of one
 * segment (window (lim, hi_p], presynaptic factor fk), two at a time while
 * both targets' newest three spikes (and the fourth newest's time) tell
 * everything: the scalar loop's fac_pair operations, each spike masked by
 * its window (a spike outside leaves w as it is), without a branch; the
 * others through settle_one. Returns where it stopped (an odd synapse left
 * for the caller). */
static uint64_t settle_pair_add(norn_stdp *st, const uint32_t *tg, const uint16_t *t16, uint64_t lo, uint64_t hi,
                                const settle_win *sw)
{
    const double lim = sw->lim, hi_p = sw->hi_p, fk = sw->fk;
    const newest *nw = st->nw;
    double *W = st->w;
    const __m128d IW = _mm_set1_pd(st->inv_wmax), LAM = _mm_set1_pd(st->p.lambda), WM = _mm_set1_pd(st->p.Wmax);
    const __m128d FK = _mm_set1_pd(fk), LIM = _mm_set1_pd(lim), HIP = _mm_set1_pd(hi_p), ONE = _mm_set1_pd(1.0);
    uint64_t k = lo;
    for (; k + 1 < hi; k += 2) {
        uint32_t j0 = target_of(tg, t16, k), j1 = target_of(tg, t16, k + 1);
        const newest *e0 = &nw[j0], *e1 = &nw[j1];
        __m128d t3 = _mm_loadh_pd(_mm_load_sd(&e0->t3), &e1->t3);
        if (_mm_movemask_pd(_mm_cmple_pd(t3, LIM)) != 3) {
            __m128d t4 = _mm_loadh_pd(_mm_load_sd(&st->t4[j0]), &st->t4[j1]);
            if (_mm_movemask_pd(_mm_or_pd(_mm_cmple_pd(t3, LIM), _mm_cmple_pd(t4, LIM))) != 3) {
                settle_one(st, tg, t16, k, sw, 1);
                settle_one(st, tg, t16, k + 1, sw, 1);
                continue;
            }
        }
        __m128d t2 = _mm_loadh_pd(_mm_load_sd(&e0->t2), &e1->t2);
        __m128d t1 = _mm_loadh_pd(_mm_load_sd(&e0->t), &e1->t);
        __m128d w = _mm_loadu_pd(&W[k]);
        __m128d x = _mm_mul_pd(FK, _mm_loadh_pd(_mm_load_sd(&e0->p3), &e1->p3));
        __m128d v = _mm_add_pd(_mm_mul_pd(w, IW), _mm_mul_pd(LAM, x));
        __m128d in = _mm_and_pd(_mm_cmplt_pd(LIM, t3), _mm_cmple_pd(t3, HIP));
        w = blend(in, _mm_mul_pd(_mm_min_pd(v, ONE), WM), w);
        x = _mm_mul_pd(FK, _mm_loadh_pd(_mm_load_sd(&e0->p2), &e1->p2));
        v = _mm_add_pd(_mm_mul_pd(w, IW), _mm_mul_pd(LAM, x));
        in = _mm_and_pd(_mm_cmplt_pd(LIM, t2), _mm_cmple_pd(t2, HIP));
        w = blend(in, _mm_mul_pd(_mm_min_pd(v, ONE), WM), w);
        x = _mm_mul_pd(FK, _mm_loadh_pd(_mm_load_sd(&e0->p), &e1->p));
        v = _mm_add_pd(_mm_mul_pd(w, IW), _mm_mul_pd(LAM, x));
        in = _mm_and_pd(_mm_cmplt_pd(LIM, t1), _mm_cmple_pd(t1, HIP));
        w = blend(in, _mm_mul_pd(_mm_min_pd(v, ONE), WM), w);
        _mm_storeu_pd(&W[k], w);
    }
    return k;
}
#endif

int norn_stdp_settle(norn_stdp *st, const norn_csr *c, const uint16_t *t16, double h, double now, int force)
{
    if (st->next_settle < 0) {
        double dmax = c->nnz ? c->max_delay * h : h;
        st->max_delay_ms = dmax;
        st->period = fmax(50.0, 4.0 * (dmax + h) + 10.0 * h);
        st->next_settle = st->period;
    }
    while (st->log_lo < st->log_hi && st->log[st->log_lo & (st->log_cap - 1)].t + st->max_delay_ms < now - h)
        st->log_lo++;
    if (now < st->next_settle && !force)
        return 1;
    double dmax = st->max_delay_ms, cutoff = now;
    const int pair = st->p.rule == NORN_STDP_PAIR && !st->reference;
    const int additive = st->p.mu_plus == 0.0;
    for (uint32_t i = 0; i < st->n_pre; i++) {
        /* only neurons silent for a whole period (forced: every neuron
         * with no spike in flight); the others book their potentiation
         * themselves soon enough */
        if (force ? !(st->pt[i] + dmax < cutoff - STDP_EPS) || st->ps[i] >= cutoff
                  : !(st->pt[i] < cutoff - st->period) || st->ps[i] >= cutoff - st->period)
            continue;
        double from = st->ps[i] > st->pt[i] ? st->ps[i] : st->pt[i];
        for (uint64_t sg = c->seg_ptr[i]; sg < c->seg_ptr[i + 1]; sg++) {
            double d = c->seg_delay[sg] * h;
            uint64_t lo = c->seg_start[sg];
            uint64_t hi = sg + 1 < c->seg_ptr[i + 1] ? c->seg_start[sg + 1] : c->row_ptr[i + 1];
            double f = exp((st->pt[i] - d - st->t0) * st->inv_tp);
            const double lim = from - d + STDP_EPS, hi_p = cutoff - d + STDP_EPS, fk = f * st->pk[i];
            const settle_win sw = {lim, hi_p, fk, from - d, cutoff - d, f, st->pk[i]};
            uint64_t k = lo;
#if defined(__SSE2__)
            if (pair && additive)
                k = settle_pair_add(st, c->target, t16, lo, hi, &sw);
#endif
            for (; k < hi; k++)
                settle_one(st, c->target, t16, k, &sw, pair);
        }
        st->ps[i] = cutoff;
    }
    /* every neuron has now spiked or been settled within the period before
     * cutoff, so every later potentiation window starts after
     * prev_cutoff - period - dmax; keep the newest spike at or before that
     * for the depression traces */
    st->cut = st->prev_cutoff - st->period - dmax - h;
    for (uint32_t j = 0; j < st->n_post; j++)
        trim(st, j);
    /* move the epoch of the scaled traces to now */
    double fa = exp((st->t0 - cutoff) * st->inv_tm), fp = exp((cutoff - st->t0) * st->inv_tp);
    for (uint32_t j = 0; j < st->n_post; j++) {
        for (uint32_t q = 0; q < st->h[j].n; q++) {
            hist *e = hent(st, j, q);
            e->a *= fa;
            e->p = fmin(e->p * fp, 1e300);
        }
        st->nw[j].a *= fa;
        st->nw[j].a2 *= fa;
        st->nw[j].p = fmin(st->nw[j].p * fp, 1e300);
        st->nw[j].p2 = fmin(st->nw[j].p2 * fp, 1e300);
        st->nw[j].p3 = fmin(st->nw[j].p3 * fp, 1e300);
        st->h[j].p4 = fmin(st->h[j].p4 * fp, 1e300);
    }
    st->t0 = cutoff;
    st->prev_cutoff = cutoff;
    if (!force)
        st->next_settle = now + st->period;
    return 1;
}

/* ------------------------------------------------------------- checkpoint */

void norn__stdp_ckpt(norn_stdp *st, norn_ckio *io)
{
    norn_ckio_expect(io, st->n_pre, "STDP presynaptic neurons");
    norn_ckio_expect(io, st->n_post, "STDP postsynaptic neurons");
    norn_ckio_expect(io, st->nnz, "STDP synapses");
    norn_ckio_expect(io, (uint64_t)st->p.rule, "STDP rule");
    if (io->st != NORN_OK)
        return;
    norn_ckio_bytes(io, st->w, st->nnz * sizeof(double));
    if (st->kps)
        norn_ckio_bytes(io, st->kps, st->nnz * sizeof(double));
    if (st->seen)
        norn_ckio_bytes(io, st->seen, st->nnz);
    norn_ckio_bytes(io, st->pt, st->n_pre * sizeof(double));
    norn_ckio_bytes(io, st->pk, st->n_pre * sizeof(double));
    norn_ckio_bytes(io, st->px, st->n_pre * sizeof(double));
    norn_ckio_bytes(io, st->ps, st->n_pre * sizeof(double));
    /* the log of spikes in flight, in sequence order */
    uint64_t cap = st->log_cap, lo = st->log_lo, hi = st->log_hi;
    norn_ckio_u64_max(io, &cap, 1ull << 40, "STDP log capacity");
    norn_ckio_u64(io, &lo);
    norn_ckio_u64(io, &hi);
    if (io->st != NORN_OK)
        return;
    if (io->loading) {
        if (cap == 0 || (cap & (cap - 1)) || hi < lo || hi - lo > cap) {
            norn_ckio_fail(io, NORN_EPARSE, "STDP log %llu..%llu of capacity %llu (corrupt checkpoint)",
                           (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)cap);
            return;
        }
        if (cap != st->log_cap) {
            pre_log *nl = norn_malloc_n(cap, sizeof *nl);
            if (!nl) {
                norn_ckio_fail(io, NORN_ENOMEM, "cannot allocate the STDP log");
                return;
            }
            norn_free(st->log);
            st->log = nl;
            st->log_cap = cap;
        }
        st->log_lo = lo;
        st->log_hi = hi;
    }
    for (uint64_t q = lo; q < hi && io->st == NORN_OK; q++)
        norn_ckio_bytes(io, &st->log[q & (cap - 1)], sizeof(pre_log));
    /* postsynaptic histories, oldest first */
    for (uint32_t j = 0; j < st->n_post && io->st == NORN_OK; j++) {
        ring *r = &st->h[j];
        uint32_t rc = r->cap, rn = r->n;
        norn_ckio_u32_max(io, &rc, 1u << 30, "STDP history capacity");
        norn_ckio_u32_max(io, &rn, rc, "STDP history length");
        if (io->st != NORN_OK)
            return;
        if (io->loading) {
            if (rc & (rc - 1)) {
                norn_ckio_fail(io, NORN_EPARSE, "STDP history capacity %u (corrupt checkpoint)", rc);
                return;
            }
            if (rc != r->cap) {
                hist *ne = rc ? norn_malloc_n(rc, sizeof *ne) : NULL;
                if (rc && !ne) {
                    norn_ckio_fail(io, NORN_ENOMEM, "cannot allocate an STDP history");
                    return;
                }
                norn_free(r->e);
                st->h_bytes = st->h_bytes - (uint64_t)r->cap * sizeof(hist) + (uint64_t)rc * sizeof(hist);
                r->e = ne;
                r->cap = rc;
            }
            r->h0 = 0;
            r->n = rn;
        }
        for (uint32_t k = 0; k < rn; k++)
            norn_ckio_bytes(io, hent(st, j, k), sizeof(hist));
    }
    norn_ckio_f64(io, &st->cut);
    norn_ckio_bytes(io, st->nw, st->n_post * sizeof(newest));
    /* t4, p4 and t5 are not saved: the history has them (or, trimmed, they
     * pair no more, as -inf); p3 too, for checkpoints written before it
     * was kept */
    for (uint32_t j = 0; io->loading && io->st == NORN_OK && j < st->n_post; j++) {
        uint32_t n = st->h[j].n;
        st->t4[j] = n >= 4 ? hent(st, j, n - 4)->t : -INFINITY;
        st->h[j].p4 = n >= 4 ? hent(st, j, n - 4)->p : 0.0;
        st->h[j].t5 = n >= 5 ? hent(st, j, n - 5)->t : -INFINITY;
        if (n >= 3)
            st->nw[j].p3 = hent(st, j, n - 3)->p;
    }
    norn_ckio_f64(io, &st->t0);
    norn_ckio_f64(io, &st->max_delay_ms);
    norn_ckio_f64(io, &st->period);
    norn_ckio_f64(io, &st->next_settle);
    norn_ckio_f64(io, &st->prev_cutoff);
}
