/* tests/test_stdp.c - NEST's STDP rules in continuous and grid mode:
 * the analytic STDP window, and random spike trains against an
 * independent reference that recomputes NEST's rule from whole spike
 * histories (traces as sums over spikes, not recursions). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/sim.h"
#include "io/build.h"
#include "io/desc.h"
#include "io/npy.h"
#include "testutil.h"

#define EPS 1e-6

typedef struct {
    char *buf;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->buf ? b->buf + b->n : NULL, b->buf ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (b->buf && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        b->cap = b->cap * 2 + (size_t)k + 256;
        b->buf = realloc(b->buf, b->cap);
        ck_assert_ptr_nonnull(b->buf);
    }
}

/* A network: n_pre parrots -> n_post parrots, all to all, through a plastic
 * projection `plast` (the YAML flow mapping of the plasticity block), with
 * the given spike times per neuron. Runs it and returns the simulation. */
typedef struct {
    int n;
    double *t;
} train;

/* set: run_net takes the STDP tables through their general code
 * (norn__sim_stdp_reference) */
static int run_reference;
/* set: run_net keeps additive stdp_synapse off its AVX-512 kernel
 * (norn__sim_stdp_simd); x8_used: some run took it */
static int run_no_simd, x8_used;

static norn_sim *run_net(const char *mode, double duration, int n_pre, const train *pre, int n_post, const train *post,
                         const char *weight, const char *delay, const char *plast, norn_desc **dout)
{
    sbuf b = {0};
    sb_printf(&b, "simulation: {duration: %.17g, resolution: 0.1, mode: %s}\n", duration, mode);
    sb_printf(&b, "populations:\n  pre: {model: parrot, size: %d}\n", n_pre);
    sb_printf(&b, "  post: {model: parrot, size: %d, params: {threshold: 1e9}}\n", n_post);
    sb_printf(&b, "stimuli:\n");
    for (int side = 0; side < 2; side++) {
        int n = side ? n_post : n_pre;
        const train *tr = side ? post : pre;
        int total = 0;
        for (int i = 0; i < n; i++)
            total += tr[i].n;
        if (!total)
            continue;
        sb_printf(&b, "  - {type: spike_times, to: %s, weight: %s, times: [", side ? "post" : "pre", side ? "2e9" : "1");
        int first = 1;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < tr[i].n; k++) {
                sb_printf(&b, "%s%.17g", first ? "" : ", ", tr[i].t[k]);
                first = 0;
            }
        sb_printf(&b, "], neurons: [");
        first = 1;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < tr[i].n; k++) {
                sb_printf(&b, "%s%d", first ? "" : ", ", i);
                first = 0;
            }
        sb_printf(&b, "]}\n");
    }
    sb_printf(&b, "projections:\n  - name: syn\n    from: pre\n    to: post\n    connect: {rule: all_to_all}\n");
    sb_printf(&b, "    weight: %s\n    delay: %s\n    plasticity: %s\n", weight, delay, plast);
    norn_desc *d = NULL;
    norn_err e;
    norn_err_clear(&e);
    norn_status st = norn_desc_parse(b.buf, b.n, "stdp.yaml", &d, &e);
    ck_assert_msg(st == NORN_OK, "%s: %s\n%s", e.where, e.msg, b.buf);
    norn_sim *s = NULL;
    norn_build_info info;
    st = norn_build(d, &s, &info, &e);
    ck_assert_msg(st == NORN_OK, "%s: %s", e.where, e.msg);
    if (run_reference)
        norn__sim_stdp_reference(s, 1);
    x8_used |= norn__sim_stdp_simd(s, !run_no_simd) && !run_reference;
    st = norn_sim_run(s, d->duration_ms, NULL, NULL, &e);
    ck_assert_msg(st == NORN_OK, "%s: %s", e.where, e.msg);
    free(b.buf);
    *dout = d;
    return s;
}

/* The spike times of neuron i of population pop, from the run. */
static train spikes_of(const norn_sim *s, uint32_t pop, uint32_t i)
{
    const double *t;
    const uint32_t *g;
    uint64_t n = norn_sim_spikes(s, &t, &g);
    uint32_t gid = norn_sim_first_id(s, pop) + i;
    train tr = {0, malloc(sizeof(double) * (n + 1))};
    for (uint64_t k = 0; k < n; k++)
        if (g[k] == gid)
            tr.t[tr.n++] = t[k];
    return tr;
}

/* ------------------------------------------------------------ reference */

typedef struct {
    int rule;
    double tp, tm, lambda, alpha, mup, mum, wmax; /* pair, nn, pl (mup = mu) */
    double tx, ty, ap, am, a3p, a3m;              /* triplet */
    int nearest;
} ref_rule;

static double r_fac(const ref_rule *r, double w, double k, double ky)
{
    switch (r->rule) {
    case NORN_STDP_PL:
        return w + r->lambda * pow(w, r->mup) * k;
    case NORN_STDP_TRIPLET: {
        double nw = fabs(w) + k * (r->ap + r->a3p * ky);
        return copysign(nw < fabs(r->wmax) ? nw : r->wmax, r->wmax);
    }
    default: {
        double v = w / r->wmax + r->lambda * pow(1.0 - w / r->wmax, r->mup) * k;
        return v < 1.0 ? v * r->wmax : r->wmax;
    }
    }
}

static double r_dep(const ref_rule *r, double w, double k, double kx)
{
    switch (r->rule) {
    case NORN_STDP_PL: {
        double nw = w - r->lambda * r->alpha * w * k;
        return nw > 0 ? nw : 0;
    }
    case NORN_STDP_TRIPLET: {
        double nw = fabs(w) - k * (r->am + r->a3m * kx);
        return copysign(nw > 0 ? nw : 0, r->wmax);
    }
    default: {
        double v = w / r->wmax - r->alpha * r->lambda * pow(w / r->wmax, r->mum) * k;
        return v > 0 ? v * r->wmax : 0;
    }
    }
}

/* NEST's rule for one synapse with delay d: every presynaptic spike in P
 * (delivered by t_end), then the potentiation booked at the end (postsynaptic
 * spikes with t + d <= t_end) when the last presynaptic spike has arrived. */
static double reference(const ref_rule *r, double w, const train *P, const train *Q, double d, double t_end,
                        double dmax)
{
    double t_last = 0.0, kps = 0.0;
    int n_done = 0;
    for (int n = 0; n <= P->n; n++) {
        int booking = n == P->n; /* the end of the run */
        double t = booking ? t_end + d : P->t[n];
        if (booking && (t_last + dmax >= t_end - EPS && n_done > 0))
            break;
        if (!booking && t + d > t_end + 1e-9)
            break;
        /* the presynaptic traces just after the previous spike, as sums */
        double kp = 0.0;
        for (int m = 0; m < n_done; m++)
            if (!(r->rule == NORN_STDP_TRIPLET && r->nearest) || m == n_done - 1)
                kp += exp((P->t[m] - t_last) / r->tp);
        int first = 1, any = 0;
        for (int q = 0; q < Q->n; q++) {
            double tq = Q->t[q];
            if (!(tq > t_last - d + EPS && tq <= t - d + EPS))
                continue;
            any = 1;
            double x = exp((t_last - (tq + d)) / r->tp);
            switch (r->rule) {
            case NORN_STDP_NN_SYMM:
                w = r_fac(r, w, x, 0);
                break;
            case NORN_STDP_NN_PRE:
                if (first && kps != 0)
                    w = r_fac(r, w, kps * x, 0);
                kps = first ? 0 : kps;
                break;
            case NORN_STDP_NN_RESTR:
                if (first)
                    w = r_fac(r, w, x, 0);
                break;
            case NORN_STDP_TRIPLET: {
                double ky = 0;
                for (int q2 = 0; q2 < q; q2++)
                    if (!r->nearest || q2 == q - 1)
                        ky += exp((Q->t[q2] - tq) / r->ty);
                w = r_fac(r, w, kp * x, ky);
                break;
            }
            default:
                w = r_fac(r, w, kp * x, 0);
            }
            first = 0;
        }
        if (booking)
            break;
        /* depression: postsynaptic spikes strictly before t - d */
        double km = 0.0, near = 0.0;
        int have = 0;
        for (int q = 0; q < Q->n; q++)
            if (Q->t[q] < t - d - EPS) {
                km += exp((Q->t[q] - (t - d)) / r->tm);
                near = exp((Q->t[q] - (t - d)) / r->tm);
                have = 1;
            }
        (void)have;
        double kx = 0.0;
        for (int m = 0; m < n_done; m++)
            if (!r->nearest || m == n_done - 1)
                kx += exp((P->t[m] - t) / r->tx);
        switch (r->rule) {
        case NORN_STDP_PAIR:
        case NORN_STDP_PL:
            w = r_dep(r, w, km, 0);
            break;
        case NORN_STDP_NN_SYMM:
        case NORN_STDP_NN_PRE:
            w = r_dep(r, w, near, 0);
            break;
        case NORN_STDP_NN_RESTR:
            if (any)
                w = r_dep(r, w, near, 0);
            break;
        default:
            w = r_dep(r, w, r->nearest ? near : km, r->rule == NORN_STDP_TRIPLET ? kx : 0);
        }
        if (r->rule == NORN_STDP_NN_PRE)
            kps = kps * exp((t_last - t) / r->tp) + 1.0;
        t_last = t;
        n_done++;
    }
    return w;
}

static ref_rule ref_of(const norn_stdp_spec *p)
{
    ref_rule r = {p->rule, p->tau_plus, p->tau_minus, p->lambda, p->alpha, p->mu_plus, p->mu_minus, p->Wmax,
                  p->tau_x, p->tau_y, p->Aplus, p->Aminus, p->Aplus_triplet, p->Aminus_triplet, p->nearest};
    return r;
}

/* Checks every synapse of the run against the reference; returns the
 * largest relative deviation and asserts it is below tol. */
static double check_against_reference(norn_sim *s, const norn_desc *d, double tol)
{
    const norn_csr *c = norn_sim_table_csr(s, 0);
    const double *W = norn_sim_table_weights(s, 0);
    ck_assert_ptr_nonnull(W);
    ref_rule r = ref_of(&d->projs[0].stdp);
    double h = d->resolution_ms, worst = 0.0, dmax = c->max_delay * h;
    uint64_t changed = 0;
    for (uint32_t i = 0; i < c->n_src; i++) {
        train P = spikes_of(s, 0, i);
        for (uint64_t sg = c->seg_ptr[i]; sg < c->seg_ptr[i + 1]; sg++) {
            double dd = (double)c->seg_delay[sg] * h;
            uint64_t lo = c->seg_start[sg];
            uint64_t hi = sg + 1 < c->seg_ptr[i + 1] ? c->seg_start[sg + 1] : c->row_ptr[i + 1];
            for (uint64_t k = lo; k < hi; k++) {
                train Q = spikes_of(s, 1, c->target[k]);
                double w0 = d->projs[0].weight.dist.value;
                double want = reference(&r, w0, &P, &Q, dd, d->duration_ms, dmax);
                double dev = fabs(W[k] - want) / fmax(1.0, fabs(want));
                changed += W[k] != w0;
                if (dev > worst)
                    worst = dev;
                ck_assert_msg(dev <= tol, "synapse %u->%u d=%g: %.17g, reference %.17g", i, c->target[k], dd, W[k],
                              want);
                free(Q.t);
            }
        }
        free(P.t);
    }
    ck_assert_msg(changed > c->nnz / 2, "only %llu of %llu weights changed", (unsigned long long)changed,
                  (unsigned long long)c->nnz);
    return worst;
}

/* -------------------------------------------------------------- window */

/* One pre/post pair per synapse at 200 ms and 200 + dt, a read-out
 * presynaptic spike at 1200 ms: the weight change is NEST's closed form
 * with lag s = dt + d. */
static double fac(double w, double k, double mu)
{
    double v = w / 100 + 0.01 * pow(1 - w / 100, mu) * k;
    return v < 1 ? v * 100 : 100;
}

static double dep(double w, double k, double mu)
{
    double v = w / 100 - 0.01 * pow(w / 100, mu) * k;
    return v > 0 ? v * 100 : 0;
}

/* sign -1: an inhibitory plastic synapse (weight -50, Wmax -100): NEST's
 * rule works on w / Wmax, so every change is mirrored. */
static void window_case_signed(const char *mode, double mu, double d, const char *rule, double sign)
{
    int nn_virtual = strcmp(rule, "stdp_nn_symm") == 0 || strcmp(rule, "stdp_nn_restr") == 0;
    enum { N = 201 + 101 };
    double dts[N];
    int n = 0;
    for (int k = -100; k <= 100; k++)
        dts[n++] = k;
    for (int k = -50; k <= 50; k++)
        dts[n++] = k / 10.0;
    sbuf b = {0};
    sb_printf(&b, "simulation: {duration: 1300, resolution: 0.1, mode: %s}\n", mode);
    sb_printf(&b, "populations:\n  pre: {model: parrot, size: %d}\n  post: {model: parrot, size: %d, params: "
                  "{threshold: 1000}}\n", n, n);
    sb_printf(&b, "stimuli:\n  - {type: spike_times, to: pre, times: [");
    for (int k = 0; k < n; k++)
        sb_printf(&b, "%s200, 1200", k ? ", " : "");
    sb_printf(&b, "], neurons: [");
    for (int k = 0; k < n; k++)
        sb_printf(&b, "%s%d, %d", k ? ", " : "", k, k);
    sb_printf(&b, "]}\n  - {type: spike_times, to: post, weight: 2000, times: [");
    for (int k = 0; k < n; k++)
        sb_printf(&b, "%s%.17g", k ? ", " : "", 200.0 + dts[k]);
    sb_printf(&b, "], neurons: [");
    for (int k = 0; k < n; k++)
        sb_printf(&b, "%s%d", k ? ", " : "", k);
    sb_printf(&b, "]}\nprojections:\n  - {name: syn, from: pre, to: post, connect: {rule: one_to_one}, weight: %g, "
                  "delay: %g,\n     plasticity: {rule: %s, lambda: 0.01, alpha: 1, mu_plus: %g, mu_minus: %g, Wmax: %g, "
                  "tau_plus: 20, tau_minus: 20}}\n", 50 * sign, d, rule, mu, mu, 100 * sign);
    norn_desc *desc = NULL;
    norn_err e;
    norn_err_clear(&e);
    ck_assert_msg(norn_desc_parse(b.buf, b.n, "window.yaml", &desc, &e) == NORN_OK, "%s: %s", e.where, e.msg);
    norn_sim *s = NULL;
    norn_build_info info;
    ck_assert_msg(norn_build(desc, &s, &info, &e) == NORN_OK, "%s", e.msg);
    ck_assert_msg(norn_sim_run(s, 1300, NULL, NULL, &e) == NORN_OK, "%s", e.msg);
    const norn_csr *c = norn_sim_table_csr(s, 0);
    const double *W = norn_sim_table_weights(s, 0);
    double worst = 0;
    for (uint32_t i = 0; i < c->n_src; i++) {
        uint64_t k = c->row_ptr[i];
        double sl = dts[c->target[k]] + d, tpost = 200.0 + dts[c->target[k]];
        /* NEST's sequence for one pair: spike 1 at 200 ms, read-out at 1200 */
        double w = 50, f = 0;
        if (sl < 1e-9) {
            /* the nearest-neighbour rules pair a postsynaptic spike before
             * the first presynaptic one with a presynaptic spike at t = 0
             * (NEST's initial t_lastspike) */
            if (nn_virtual)
                w = fac(w, exp(-(tpost + d) / 20), mu);
            if (sl < -1e-9)
                w = dep(w, exp(sl / 20), mu);
        } else {
            w = fac(w, exp(-sl / 20), mu);
        }
        double want = w - 50;
        (void)f;
        /* the read-out spike's own depression: e^{-(1000 - dt - d)/20}, ~1e-20 */
        double dw = (W[k] - 50.0 * sign) * sign;
        double dev = fabs(dw - want) / fmax(1e-3, fabs(want));
        if (dev > worst)
            worst = dev;
        ck_assert_msg(dev < 1e-9, "%s mu=%g d=%g dt=%g: dw %.17g, closed form %.17g", mode, mu, d, dts[c->target[k]],
                      dw, want);
    }
    norn_sim_destroy(s);
    norn_desc_free(desc);
    free(b.buf);
}

static void window_case(const char *mode, double mu, double d, const char *rule)
{
    window_case_signed(mode, mu, d, rule, 1.0);
}

START_TEST(window_inhibitory)
{
    window_case_signed("grid", 1, 1.0, "stdp", -1.0);
    window_case_signed("continuous", 0, 0.5, "stdp_nn_symm", -1.0);
}
END_TEST

START_TEST(window_multiplicative)
{
    window_case("grid", 1, 1.0, "stdp");
    window_case("grid", 1, 0.1, "stdp");
    window_case("continuous", 1, 1.0, "stdp");
}
END_TEST

START_TEST(window_additive)
{
    window_case("grid", 0, 1.0, "stdp");
    window_case("continuous", 0, 0.1, "stdp");
    window_case("grid", 0.5, 1.5, "stdp");
}
END_TEST

/* An isolated pair is one nearest-neighbour pair in every pairing scheme. */
START_TEST(window_nearest)
{
    window_case("grid", 1, 1.0, "stdp_nn_symm");
    window_case("grid", 0, 1.0, "stdp_nn_pre_centered");
    window_case("continuous", 1, 0.5, "stdp_nn_restr");
}
END_TEST

/* NEST's published figures (nest-notes 5b): multiplicative, d = 1 ms. */
START_TEST(window_nest_figures)
{
    double s1 = 0.01 * 100 * 0.5 * exp(-2.0 / 20), s2 = -0.01 * 100 * 0.5 * exp(-1.0 / 20);
    ck_assert(fabs(s1 - 0.4524) < 5e-5 && fabs(s2 + 0.4756) < 5e-5);
    window_case("grid", 1, 1.0, "stdp");
}
END_TEST

/* --------------------------------------------------- random trains */

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 11;
}

static double unif(uint64_t *x) { return (double)lcg(x) / 9007199254740992.0; }

/* Bursty trains with gaps longer than the history's trimming period and
 * intervals shorter than the longest delay. grid: times on the 0.1 ms grid. */
static train make_train(uint64_t *x, double t_end, int grid)
{
    train tr = {0, malloc(sizeof(double) * 4096)};
    double t = 1.0 + 30 * unif(x);
    while (t < t_end && tr.n < 4000) {
        double tt = grid ? nearbyint(t * 10) / 10 : t;
        if (tr.n == 0 || tt > tr.t[tr.n - 1] + 0.15)
            tr.t[tr.n++] = tt;
        double u = unif(x);
        t += u < 0.05 ? 300 + 400 * unif(x) : u < 0.5 ? 0.3 + 3 * unif(x) : 2 + 40 * unif(x);
    }
    return tr;
}

static void random_case(const char *mode, const char *plast, uint64_t seed)
{
    enum { NP = 5, NQ = 4 };
    int grid = strcmp(mode, "grid") == 0;
    uint64_t x = seed;
    double t_end = 3000;
    train P[NP], Q[NQ];
    for (int i = 0; i < NP; i++)
        P[i] = make_train(&x, t_end - 40, grid);
    for (int i = 0; i < NQ; i++)
        Q[i] = make_train(&x, t_end - 1, grid);
    norn_desc *d;
    norn_sim *s = run_net(mode, t_end, NP, P, NQ, Q, "40", "{dist: uniform, low: 0.1, high: 6}", plast, &d);
    double worst = check_against_reference(s, d, 1e-9);
    (void)worst;
    norn_sim_destroy(s);
    norn_desc_free(d);
    for (int i = 0; i < NP; i++)
        free(P[i].t);
    for (int i = 0; i < NQ; i++)
        free(Q[i].t);
}

START_TEST(random_pair)
{
    random_case("grid", "{rule: stdp, lambda: 0.01, alpha: 1.1, mu_plus: 0, mu_minus: 0, Wmax: 100}", 1);
    random_case("grid", "{rule: stdp, lambda: 0.02, alpha: 0.9, mu_plus: 1, mu_minus: 1, Wmax: 100}", 2);
    random_case("continuous", "{rule: stdp, lambda: 0.01, alpha: 1.0, mu_plus: 0.5, mu_minus: 0.3, Wmax: 100, "
                              "tau_plus: 15, tau_minus: 30}", 3);
}
END_TEST

START_TEST(random_nearest)
{
    random_case("grid", "{rule: stdp_nn_symm, lambda: 0.02, Wmax: 100}", 4);
    random_case("grid", "{rule: stdp_nn_pre_centered, lambda: 0.02, Wmax: 100}", 5);
    random_case("continuous", "{rule: stdp_nn_restr, lambda: 0.02, Wmax: 100, tau_minus: 33.7}", 6);
    random_case("continuous", "{rule: stdp_nn_pre_centered, lambda: 0.02, mu_plus: 0, mu_minus: 0, Wmax: 100}", 7);
}
END_TEST

START_TEST(random_pl_triplet)
{
    random_case("grid", "{rule: stdp_pl, lambda: 0.05, alpha: 0.5, mu: 0.4}", 8);
    random_case("grid", "{rule: stdp_triplet, preset: visual_cortex_all_to_all, Aplus: 0.5, Aminus: 0.5, "
                        "Aplus_triplet: 0.6, Aminus_triplet: 0.02, Wmax: 100}", 9);
    random_case("continuous", "{rule: stdp_triplet, preset: hippocampal_nearest, Aplus: 0.5, Aminus: 0.3, "
                              "Aplus_triplet: 0.9, Aminus_triplet: 0.1, Wmax: 100}", 10);
}
END_TEST


/* ------------------------------------------------------- euler: Norse */

/* The description of Norse's STDP fixtures, run through the whole
 * stack (parser, builder, euler loop, weight snapshots): every weight after
 * every step equals Norse's (bit for bit for additive; 1e-6 with pow). */
static void norse_fixture(const char *name, const char *plast, double tol)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/tests/data/norse/%s", tu_src(), name);
    char *tmp = tu_tmpdir();
    sbuf b = {0};
    sb_printf(&b, "simulation: {duration: 200, resolution: 1, mode: euler}\n"
                  "populations:\n  pre: {model: input, size: 16}\n  post: {model: input, size: 8}\n"
                  "stimuli:\n  - {type: spike_tensor, file: %s/pre_spikes.npy, to: pre}\n"
                  "  - {type: spike_tensor, file: %s/post_spikes.npy, to: post}\n"
                  "projections:\n  - name: syn\n    from: pre\n    to: post\n    weight: {file: %s/w0.npy}\n"
                  "    plasticity: %s\n"
                  "record:\n  weights: {projection: syn, every: 1.0}\n", dir, dir, dir, plast);
    norn_desc *d = NULL;
    norn_err e;
    norn_err_clear(&e);
    ck_assert_msg(norn_desc_parse(b.buf, b.n, "norse.yaml", &d, &e) == NORN_OK, "%s: %s", e.where, e.msg);
    norn_sim *s = NULL;
    norn_build_info info;
    ck_assert_msg(norn_build(d, &s, &info, &e) == NORN_OK, "%s: %s", e.where, e.msg);
    ck_assert_msg(norn_sim_run(s, d->duration_ms, NULL, NULL, &e) == NORN_OK, "%s", e.msg);
    norn_weight_recording wr;
    norn_sim_weight_recording(s, 0, &wr);
    ck_assert_uint_eq(wr.n_snapshots, 200);
    ck_assert_uint_eq(wr.n_syn, 128);
    snprintf(path, sizeof path, "%s/w.npy", dir);
    norn_npy_array w;
    ck_assert_int_eq(norn_npy_read(path, &w, &e), NORN_OK);
    ck_assert_uint_eq(w.count, 200 * 8 * 16);
    const norn_csr *c = norn_sim_table_csr(s, 0);
    uint64_t changed = 0;
    for (uint64_t t = 0; t < 200; t++) {
        ck_assert(wr.times_ms[t] == (double)(t + 1));
        for (uint32_t j = 0; j < c->n_src; j++)
            for (uint64_t k = c->row_ptr[j]; k < c->row_ptr[j + 1]; k++) {
                double want = w.data[(t * 8 + c->target[k]) * 16 + j];
                float got = wr.weights[t * wr.n_syn + k];
                ck_assert_msg(fabs(got - want) <= tol * fmax(1.0, fabs(want)), "%s step %llu w[%u][%u]: %.9g, Norse %.9g",
                              name, (unsigned long long)t, c->target[k], j, got, want);
                changed += t == 199 && got != (float)w.data[c->target[k] * 16 + j];
            }
    }
    ck_assert_msg(changed > 64, "%s: only %llu weights moved", name, (unsigned long long)changed);
    norn_npy_array_free(&w);
    norn_sim_destroy(s);
    norn_desc_free(d);
    free(b.buf);
    (void)tmp;
}

START_TEST(norse_additive)
{
    norse_fixture("stdp_additive",
                  "{rule: stdp, stdp_algorithm: additive, a_pre: 1, a_post: 1, tau_pre_inv: 20, tau_post_inv: 20, "
                  "w_min: 0, w_max: 1, eta_plus: 0.3, eta_minus: 0.1}", 0.0);
}
END_TEST

START_TEST(norse_multiplicative_pow)
{
    norse_fixture("stdp_multiplicative_pow",
                  "{rule: stdp, stdp_algorithm: multiplicative_pow, mu: 0.75, tau_pre_inv: 20, tau_post_inv: 20, "
                  "w_min: 0, w_max: 1, eta_plus: 0.3, eta_minus: 0.1}", 1e-6);
}
END_TEST

/* ------------------------------------------------------------ triplet */

/* Sjöström et al. (2001) pairing protocol, 60 pairings at each frequency,
 * Pfister & Gerstner's visual-cortex all-to-all fit: pre-post pairs
 * (+10 ms) potentiate more at higher frequency; post-pre pairs (-10 ms)
 * depress at low frequency and potentiate at 40-50 Hz. */
static double sjostrom(double freq, double lag)
{
    train P = {60, malloc(sizeof(double) * 60)}, Q = {60, malloc(sizeof(double) * 60)};
    double d = 0.1, period = 1000.0 / freq;
    for (int k = 0; k < 60; k++) {
        P.t[k] = 100.0 + k * period;
        Q.t[k] = P.t[k] + lag - d; /* the lag seen at the synapse is t_post + d - t_pre */
    }
    double t_end = P.t[59] + 200;
    norn_desc *desc;
    norn_sim *s = run_net("continuous", t_end, 1, &P, 1, &Q, "50", "0.1",
                          "{rule: stdp_triplet, preset: visual_cortex_all_to_all, Wmax: 100}", &desc);
    double w = norn_sim_table_weights(s, 0)[0];
    norn_sim_destroy(s);
    norn_desc_free(desc);
    free(P.t);
    free(Q.t);
    return w - 50.0;
}

START_TEST(triplet_frequency)
{
    const double f[] = {0.1, 10, 20, 40, 50};
    double pp[5], np[5];
    for (int k = 0; k < 5; k++) {
        pp[k] = sjostrom(f[k], +10);
        np[k] = sjostrom(f[k], -10);
    }
    for (int k = 1; k < 5; k++)
        ck_assert_msg(pp[k] > pp[k - 1], "pre-post at %g Hz: %g, not above %g at %g Hz", f[k], pp[k], pp[k - 1], f[k - 1]);
    ck_assert_msg(pp[0] > 0, "pre-post at 0.1 Hz: %g", pp[0]);
    ck_assert_msg(np[0] < 0, "post-pre at 0.1 Hz must depress: %g", np[0]);
    ck_assert_msg(np[4] > 0, "post-pre at 50 Hz must potentiate: %g", np[4]);
    /* a pair model (no triplet terms) has no such frequency dependence of the sign */
}
END_TEST

/* One pre spike then two post spikes (all-to-all triplet): closed form. */
START_TEST(triplet_closed_form)
{
    train P = {2, (double[]){100, 900}}, Q = {2, (double[]){110, 125}};
    norn_desc *desc;
    norn_sim *s = run_net("continuous", 1000, 1, &P, 1, &Q, "50", "1.0",
                          "{rule: stdp_triplet, tau_plus: 16.8, tau_plus_triplet: 101, tau_minus: 33.7, "
                          "tau_minus_triplet: 125, Aplus: 0.5, Aplus_triplet: 0.7, Aminus: 0.3, Aminus_triplet: 0.2, "
                          "Wmax: 100}", &desc);
    double w = norn_sim_table_weights(s, 0)[0];
    /* lags at the synapse: 11 and 26 ms; the second post spike sees the first
     * through the triplet trace; the read-out spike at 900 depresses by
     * K-(899) (Aminus + Aminus_triplet Kx(900-)) */
    double want = 50 + 0.5 * exp(-11 / 16.8);
    want += exp(-26 / 16.8) * (0.5 + 0.7 * exp(-15 / 125.0));
    double km = exp(-(899 - 110) / 33.7) + exp(-(899 - 125) / 33.7);
    want -= km * (0.3 + 0.2 * exp(-800 / 101.0));
    ck_assert_msg(fabs(w - want) < 1e-12 * want, "%.17g vs %.17g", w, want);
    norn_sim_destroy(s);
    norn_desc_free(desc);
}
END_TEST

/* A presynaptic neuron that is silent for seconds still gets the
 * potentiation of the postsynaptic spikes that followed its last spike,
 * exactly, however long the silence. */
START_TEST(long_silence)
{
    train P = {2, (double[]){10, 4000}}, Q = {3, (double[]){15, 20, 400}};
    norn_desc *desc;
    norn_sim *s = run_net("grid", 4100, 1, &P, 1, &Q, "50", "1.0",
                          "{rule: stdp, lambda: 0.01, alpha: 1, mu_plus: 0, mu_minus: 0, Wmax: 100}", &desc);
    double w = norn_sim_table_weights(s, 0)[0];
    double want = 50 + 1.0 * (exp(-6 / 20.0) + exp(-11 / 20.0) + exp(-391 / 20.0));
    want -= 1.0 * (exp(-(3999 - 15) / 20.0) + exp(-(3999 - 20) / 20.0) + exp(-(3999 - 400) / 20.0));
    ck_assert_msg(fabs(w - want) < 1e-12 * want, "%.17g vs %.17g", w, want);
    norn_sim_destroy(s);
    norn_desc_free(desc);
}
END_TEST


/* Snapshots at chosen times show every pairing that has reached the
 * synapse: a post spike 10 ms after the pre spike is booked by 300 ms,
 * long before the next presynaptic spike (at 900 ms). */
START_TEST(snapshots_at_times)
{
    const char *y = "simulation: {duration: 1000, mode: grid}\npopulations:\n  pre: {model: parrot, size: 1}\n"
                    "  post: {model: parrot, size: 1, params: {threshold: 1000}}\nstimuli:\n"
                    "  - {type: spike_times, to: pre, times: [200, 900]}\n"
                    "  - {type: spike_times, to: post, weight: 2000, times: [209]}\n"
                    "projections:\n  - {name: syn, from: pre, to: post, weight: 50, delay: 1,\n"
                    "     plasticity: {rule: stdp, mu_plus: 0, mu_minus: 0, lambda: 0.01, Wmax: 100}}\n"
                    "record:\n  weights: {projection: syn, times: [0, 100, 205, 300.5]}\n";
    norn_desc *d = NULL;
    norn_err e;
    norn_err_clear(&e);
    ck_assert_int_eq(norn_desc_parse(y, strlen(y), "snap.yaml", &d, &e), NORN_OK);
    norn_sim *s = NULL;
    norn_build_info info;
    ck_assert_int_eq(norn_build(d, &s, &info, &e), NORN_OK);
    ck_assert_int_eq(norn_sim_run(s, 1000, NULL, NULL, &e), NORN_OK);
    norn_weight_recording wr;
    norn_sim_weight_recording(s, 0, &wr);
    ck_assert_uint_eq(wr.n_snapshots, 5);
    ck_assert(wr.times_ms[0] == 0 && wr.times_ms[1] == 100 && wr.times_ms[2] == 205 && wr.times_ms[3] == 300.5 &&
              wr.times_ms[4] == 1000);
    double up = 1.0 * exp(-10.0 / 20.0); /* lambda Wmax e^{-s/tau}, s = 209 + 1 - 200 */
    ck_assert(wr.weights[0] == 50.0f && wr.weights[1] == 50.0f && wr.weights[2] == 50.0f);
    ck_assert_msg(fabsf(wr.weights[3] - (float)(50 + up)) < 1e-5, "%g", wr.weights[3]);
    double fin = 50 + up - 1.0 * exp(-(899.0 - 209.0) / 20.0);
    ck_assert_msg(fabs(norn_sim_table_weights(s, 0)[0] - fin) < 1e-12, "%.17g vs %.17g", norn_sim_table_weights(s, 0)[0],
                  fin);
    norn_sim_destroy(s);
    norn_desc_free(d);
}
END_TEST

/* Bad parameters and weights are refused with a message naming them. */
START_TEST(bad_weights)
{
    const char *y = "simulation: {duration: 10}\npopulations:\n  a: {model: parrot, size: 2}\n"
                    "projections:\n  - {name: p, from: a, to: a, weight: -1, plasticity: {rule: stdp, Wmax: 5}}\n";
    norn_desc *d = NULL;
    norn_err e;
    norn_err_clear(&e);
    ck_assert_int_eq(norn_desc_parse(y, strlen(y), "b.yaml", &d, &e), NORN_OK);
    norn_sim *s = NULL;
    norn_build_info info;
    ck_assert_int_eq(norn_build(d, &s, &info, &e), NORN_EINVAL);
    ck_assert_str_eq(e.where, "b.yaml:5:55");
    ck_assert_str_eq(e.msg, "p.plasticity: stdp: weight -1 must have Wmax's sign and be within [0, Wmax = 5]");
    norn_desc_free(d);
}
END_TEST

/* ------------------------------------------- fast paths vs general code */

/* stdp_synapse's fast paths (the newest three postsynaptic spikes of a
 * target, branch-free and two synapses at a time for the additive rule,
 * the delivery in the same pass, settle's shortcut) against the general
 * code over the whole spike history, delivered in a second pass: the same
 * weights bit for bit. Bursty trains on the grid make postsynaptic spikes
 * fall exactly on T2 = t_pre - d (the eps band), three or more in a
 * window, and silent stretches (settle); 41 targets: odd segments (five
 * blocks of the AVX-512 kernel and a remainder). Three runs: the fast
 * paths with the AVX-512 kernel (where the CPU has it), without it (the
 * SSE2 loop, cfg.no_simd), and the general code. */
static void fast_vs_reference_n(const char *mode, const char *plast, uint64_t seed, int NP, int n_silent,
                                double t_end)
{
    enum { NQ = 41 };
    int grid = strcmp(mode, "grid") == 0;
    uint64_t x = seed;
    int nq = NQ + n_silent;
    train *P = calloc((size_t)NP, sizeof *P), *Q = calloc((size_t)nq, sizeof *Q);
    for (int i = 0; i < NP; i++)
        P[i] = make_train(&x, t_end - 40, grid);
    for (int i = 0; i < NQ; i++)
        Q[i] = make_train(&x, t_end - 1, grid);
    norn_sim *s[3];
    norn_desc *d[3];
    for (int r = 0; r < 3; r++) {
        run_reference = r == 1;
        run_no_simd = r == 2;
        s[r] = run_net(mode, t_end, NP, P, nq, Q, "{dist: uniform, low: 1, high: 99}", "1.0", plast, &d[r]);
    }
    run_reference = run_no_simd = 0;
    const norn_csr *c = norn_sim_table_csr(s[0], 0);
    const double *W0 = norn_sim_table_weights(s[0], 0), *W1 = norn_sim_table_weights(s[1], 0);
    const double *W2 = norn_sim_table_weights(s[2], 0);
    ck_assert_uint_eq(c->nnz, (uint64_t)NP * (uint64_t)nq);
    uint64_t same = 0, moved = 0;
    for (uint64_t k = 0; k < c->nnz; k++) {
        ck_assert_msg(memcmp(&W0[k], &W1[k], sizeof(double)) == 0, "%s %s synapse %llu: %.17g, general code %.17g",
                      mode, plast, (unsigned long long)k, W0[k], W1[k]);
        ck_assert_msg(memcmp(&W2[k], &W1[k], sizeof(double)) == 0,
                      "%s %s synapse %llu, no AVX-512: %.17g, general code %.17g", mode, plast, (unsigned long long)k,
                      W2[k], W1[k]);
        same++;
        moved += W0[k] == 0.0 || W0[k] == 100.0 || fabs(W0[k] - 50.0) > 5.0;
    }
    ck_assert_uint_eq(same, c->nnz);
    ck_assert_msg(moved > 0, "no weight moved far: the pairings did not happen");
    for (int r = 0; r < 3; r++) {
        norn_sim_destroy(s[r]);
        norn_desc_free(d[r]);
    }
    for (int i = 0; i < NP; i++)
        free(P[i].t);
    for (int i = 0; i < nq; i++)
        free(Q[i].t);
    free(P);
    free(Q);
}

static void fast_vs_reference(const char *mode, const char *plast, uint64_t seed)
{
    fast_vs_reference_n(mode, plast, seed, 30, 0, 2500);
}

START_TEST(fast_paths_equal_general_code)
{
    const char *add = "{rule: stdp, lambda: 0.05, alpha: 1.1, mu_plus: 0, mu_minus: 0, Wmax: 100}";
    const char *mult = "{rule: stdp, lambda: 0.05, alpha: 1.1, mu_plus: 1, mu_minus: 0.5, Wmax: 100}";
    fast_vs_reference("grid", add, 11);
    fast_vs_reference("grid", add, 12);
    fast_vs_reference("grid", mult, 13);
    fast_vs_reference("continuous", add, 14);
    fast_vs_reference("continuous", mult, 15);
    /* 65,536 silent targets more: 32-bit targets (the kernel's other instances) */
    fast_vs_reference_n("grid", add, 16, 6, 65536, 500);
    /* where the CPU has AVX-512F, the kernel was taken (and so compared) */
    ck_assert_msg(x8_used || !__builtin_cpu_supports("avx512f"), "the AVX-512 kernel was not taken");
}
END_TEST

/* A recurrent network driven by Poisson input, where the weights decide
 * the spikes: the same spikes and weights as through the general code
 * (delivered in a second pass). Densely stepped and lean (the fused
 * delivery's sums-only sink), densely stepped with a second Poisson drive
 * (not lean: the sink marks), or with a DC current, which keeps it on the
 * per-neuron path (the sink's list of touched neurons). */
static void recurrent_case(const char *name, const char *dc, int dense)
{
    char y[1024];
    snprintf(y, sizeof y,
             "simulation: {duration: 300, resolution: 0.1, mode: grid, seed: 7}\n"
             "populations:\n"
             "  exc: {model: iaf_delta, size: 400, params: {tau_m: 20, E_L: 0, V_th: 20, V_reset: 10, t_ref: 2, "
             "C_m: 250}, initial: {V_m: {dist: uniform, low: 0, high: 20}}}\n"
             "stimuli:\n  - {type: poisson, rate: 24000, to: exc, weight: 0.1}\n%s"
             "projections:\n"
             "  - {name: ee, from: exc, to: exc, connect: {rule: fixed_indegree, indegree: 101}, weight: 0.1, "
             "delay: 1.5,\n     plasticity: {rule: stdp, lambda: 0.05, alpha: 1.05, mu_plus: 0, mu_minus: 0, "
             "Wmax: 0.3}}\n",
             dc);
    /* 0: the fast paths (with the AVX-512 kernel where the CPU has it),
     * 1: the general code, 2: the fast paths without the AVX-512 kernel */
    norn_sim *s[3];
    norn_desc *d[3];
    for (int r = 0; r < 3; r++) {
        norn_err e;
        norn_err_clear(&e);
        ck_assert_msg(norn_desc_parse(y, strlen(y), "rec.yaml", &d[r], &e) == NORN_OK, "%s: %s", e.where, e.msg);
        norn_build_info info;
        ck_assert_msg(norn_build(d[r], &s[r], &info, &e) == NORN_OK, "%s", e.msg);
        if (r == 1)
            norn__sim_stdp_reference(s[r], 1);
        int x8 = norn__sim_stdp_simd(s[r], r != 2);
        if (r == 0)
            x8_used |= x8;
        ck_assert_msg(norn_sim_run(s[r], 300, NULL, NULL, &e) == NORN_OK, "%s", e.msg);
        ck_assert_msg(norn_sim_pop_dense(s[r], 0) == dense, "%s: dense %d", name, norn_sim_pop_dense(s[r], 0));
    }
    const double *t[3];
    const uint32_t *g[3];
    uint64_t n1 = norn_sim_spikes(s[1], &t[1], &g[1]);
    for (int r = 0; r < 3; r += 2) {
        uint64_t n0 = norn_sim_spikes(s[r], &t[r], &g[r]);
        ck_assert_msg(n0 == n1, "%s, run %d: %llu spikes, general code %llu", name, r,
                      (unsigned long long)n0, (unsigned long long)n1);
        ck_assert_msg(n0 > 400 * 300 / 1000 * 5, "%llu spikes: too quiet to test", (unsigned long long)n0);
        ck_assert(memcmp(t[r], t[1], n0 * sizeof(double)) == 0 && memcmp(g[r], g[1], n0 * sizeof(uint32_t)) == 0);
    }
    const norn_csr *c = norn_sim_table_csr(s[0], 0);
    const double *W0 = norn_sim_table_weights(s[0], 0), *W1 = norn_sim_table_weights(s[1], 0);
    const double *W2 = norn_sim_table_weights(s[2], 0);
    uint64_t changed = 0;
    for (uint64_t k = 0; k < c->nnz; k++) {
        ck_assert_msg(memcmp(&W0[k], &W1[k], sizeof(double)) == 0, "synapse %llu: %.17g, general code %.17g",
                      (unsigned long long)k, W0[k], W1[k]);
        ck_assert_msg(memcmp(&W2[k], &W1[k], sizeof(double)) == 0,
                      "synapse %llu, no AVX-512: %.17g, general code %.17g", (unsigned long long)k, W2[k], W1[k]);
        changed += W0[k] != 0.1;
    }
    ck_assert_msg(changed > c->nnz / 2, "only %llu of %llu weights changed", (unsigned long long)changed,
                  (unsigned long long)c->nnz);
    for (int r = 0; r < 3; r++) {
        norn_sim_destroy(s[r]);
        norn_desc_free(d[r]);
    }
}

START_TEST(fast_paths_equal_general_code_recurrent)
{
    recurrent_case("lean", "", 1);
    recurrent_case("dense", "  - {type: poisson, rate: 2000, to: exc, weight: 0.05}\n", 1);
    recurrent_case("dc", "  - {type: dc, amplitude: 5, to: exc}\n", 0);
    ck_assert_msg(x8_used || !__builtin_cpu_supports("avx512f"), "the AVX-512 kernel was not taken");
}
END_TEST

/* Memory: a plastic synapse of the pair rule costs 12 bytes plus a
 * per-neuron share (reported by the run as plastic_bytes); 10 while it
 * runs into a population of at most 65,536 neurons (16-bit targets). */
START_TEST(bytes_per_synapse)
{
    const char *y = "simulation: {duration: 50, mode: grid}\npopulations:\n  a: {model: parrot, size: 2000}\n"
                    "projections:\n  - {name: p, from: a, to: a, connect: {rule: fixed_indegree, indegree: 500}, "
                    "weight: 1, plasticity: {rule: stdp, Wmax: 5}}\n";
    norn_desc *d = NULL;
    norn_err e;
    norn_err_clear(&e);
    ck_assert_int_eq(norn_desc_parse(y, strlen(y), "m.yaml", &d, &e), NORN_OK);
    norn_sim *s = NULL;
    norn_build_info info;
    ck_assert_int_eq(norn_build(d, &s, &info, &e), NORN_OK);
    norn_sim_stats st;
    norn_sim_get_stats(s, &st);
    ck_assert_uint_eq(st.plastic_synapses, 1000000);
    double b = (double)st.plastic_bytes / (double)st.plastic_synapses;
    /* 4 (target) + 8 (weight) per synapse, plus per-neuron traces and
     * spike histories (under 300 bytes per neuron here) */
    ck_assert_msg(b >= 12.0 && b < 12.0 + 300.0 * 2000 / 1e6, "%g bytes per plastic synapse", b);
    ck_assert_int_eq(norn_sim_run(s, 50, NULL, NULL, &e), NORN_OK);
    norn_sim_get_stats(s, &st);
    b = (double)st.plastic_bytes / (double)st.plastic_synapses;
    ck_assert_msg(b >= 10.0 && b < 10.0 + 300.0 * 2000 / 1e6, "%g bytes per plastic synapse while running", b);
    norn_sim_destroy(s);
    norn_desc_free(d);
}
END_TEST

static Suite *stdp_suite(void)
{
    Suite *s = suite_create("stdp");
    TCase *tc = tcase_create("window");
    tcase_add_test(tc, window_multiplicative);
    tcase_add_test(tc, window_additive);
    tcase_add_test(tc, window_nearest);
    tcase_add_test(tc, window_nest_figures);
    tcase_add_test(tc, window_inhibitory);
    suite_add_tcase(s, tc);
    tc = tcase_create("reference");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, random_pair);
    tcase_add_test(tc, random_nearest);
    tcase_add_test(tc, random_pl_triplet);
    tcase_add_test(tc, long_silence);
    tcase_add_test(tc, fast_paths_equal_general_code);
    tcase_add_test(tc, fast_paths_equal_general_code_recurrent);
    suite_add_tcase(s, tc);
    tc = tcase_create("triplet");
    tcase_add_test(tc, triplet_frequency);
    tcase_add_test(tc, triplet_closed_form);
    suite_add_tcase(s, tc);
    tc = tcase_create("norse");
    tcase_add_test(tc, norse_additive);
    tcase_add_test(tc, norse_multiplicative_pow);
    suite_add_tcase(s, tc);
    tc = tcase_create("misc");
    tcase_add_test(tc, bad_weights);
    tcase_add_test(tc, snapshots_at_times);
    tcase_add_test(tc, bytes_per_synapse);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(stdp_suite()); }
