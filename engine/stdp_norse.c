/* engine/stdp_norse.c - Norse's stdp_step_linear over a CSR table
 * (contract in stdp_norse.h; semantics in norse-semantics.md 5.1).
 *
 * Every float expression below is one float32 operation per torch
 * elementwise operation, in Norse's order; the build uses
 * -ffp-contract=off, so none of them becomes an FMA.
 */
#include "engine/stdp_norse.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "engine/ckpt.h"
#include "engine/mem.h"

/* One row hint per 2^BLK CSR positions (1/16 byte per synapse): the row
 * search for a post neuron's incoming synapse starts there, a few rows
 * away unless rows are much shorter than 2^BLK, instead of galloping from
 * the previous incoming synapse's row (3x slower per synapse when the
 * in-degree is far below n_pre: 10^4 x 10^4, p = 0.01). */
#define BLK 6

struct norn_stdp_norse {
    uint32_t n_pre, n_post;
    uint64_t nnz;
    int alg;             /* norn_norse_stdp_algorithm */
    int hardbound;
    int check_finite;    /* A(w) can become non-finite (see stdp_norse.h) */
    int sweep;           /* the next step updates every synapse */
    float c_pre, c_post; /* fl32(dt_s) * fl32(tau_*_inv) */
    float a_pre, a_post;
    float a0_pre, a0_post; /* a * 0.0f: Norse's a * z for z = 0 */
    float eta_plus, eta_minus, w_min, w_max, mu;
    float *t_pre, *t_post;    /* traces [n_pre], [n_post] */
    uint8_t *z_pre, *z_post;  /* this step's spikes; all 0 between steps */
    uint64_t *in_ptr;         /* [n_post + 1]: incoming synapses of post i */
    uint32_t *in_pos32;       /* [nnz] their CSR positions, ascending */
    uint64_t *in_pos64;       /* used instead when nnz > UINT32_MAX */
    uint32_t *blk_row;        /* [(nnz >> BLK) + 1]: row of position b << BLK */
    uint64_t bytes;
};

/* ------------------------------------------------------------ rule */

static inline float relu(float x) { return x < 0.0f ? 0.0f : x; } /* NaN stays NaN, as torch */
static inline float heaviside(float x) { return x > 0.0f ? 1.0f : 0.0f; }

static inline float amp_plus(const norn_stdp_norse *st, float w)
{
    switch (st->alg) {
    case NORN_NORSE_ADDITIVE: return st->eta_plus;
    case NORN_NORSE_ADDITIVE_STEP: return st->eta_plus * heaviside(st->w_max - w);
    case NORN_NORSE_MULTIPLICATIVE_POW: return st->eta_plus * powf(st->w_max - w, st->mu);
    default: return st->eta_plus * relu(st->w_max - w);
    }
}

static inline float amp_minus(const norn_stdp_norse *st, float w)
{
    switch (st->alg) {
    case NORN_NORSE_ADDITIVE: return st->eta_minus;
    case NORN_NORSE_ADDITIVE_STEP: return st->eta_minus * heaviside(w - st->w_min);
    case NORN_NORSE_MULTIPLICATIVE_POW: return st->eta_minus * powf(w - st->w_min, st->mu);
    default: return st->eta_minus * relu(w - st->w_min);
    }
}

/* torch.clamp: NaN propagates. */
static inline float clamp(const norn_stdp_norse *st, float w)
{
    w = w < st->w_min ? st->w_min : w;
    return w > st->w_max ? st->w_max : w;
}

/* One synapse j -> i: w + (A+(w) (z_post t_pre) - A-(w) (t_post z_pre)),
 * clamped if hardbound. Sets st->sweep when the new weight has a
 * non-finite amplitude, which Norse's next step turns into NaN.
 * Outside a sweep every weight is NaN or has finite amplitudes (the sweep
 * made it so, and any other weight came out of this function), so an
 * amplitude times a zero outer product is a zero of the sign of eta times
 * that zero: eta stands in for it, which saves a powf. */
static inline float syn_update(norn_stdp_norse *st, float w, float zpre, float zpost, float tpre, float tpost,
                               int sweep)
{
    float ap = sweep || zpost != 0.0f ? amp_plus(st, w) : st->eta_plus;
    float am = sweep || zpre != 0.0f ? amp_minus(st, w) : st->eta_minus;
    float dw_plus = ap * (zpost * tpre);
    float dw_minus = am * (tpost * zpre);
    float nw = w + (dw_plus - dw_minus);
    if (st->hardbound)
        nw = clamp(st, nw);
    if (st->check_finite && !isnan(nw) && !(isfinite(amp_plus(st, nw)) && isfinite(amp_minus(st, nw))))
        st->sweep = 1;
    return nw;
}

/* Smallest r >= j with rp[r + 1] > k (the row holding CSR position k),
 * given that row j or a later one holds it: galloping from j, then a
 * bisection written so that it compiles to conditional moves. */
static inline uint32_t row_of(const uint64_t *rp, uint32_t n, uint32_t j, uint64_t k)
{
    if (rp[j + 1] > k)
        return j;
    uint32_t lo = j, hi; /* rp[lo + 1] <= k < rp[hi + 1] */
    for (uint64_t step = 1;; step *= 2) {
        uint64_t cand = (uint64_t)lo + step;
        if (cand >= (uint64_t)n - 1) {
            hi = n - 1;
            break;
        }
        if (rp[cand + 1] > k) {
            hi = (uint32_t)cand;
            break;
        }
        lo = (uint32_t)cand;
    }
    uint32_t len = hi - lo; /* rp[lo + 1] <= k < rp[lo + len + 1] */
    while (len > 1) {
        uint32_t half = len / 2;
        lo = rp[lo + half + 1] <= k ? lo + half : lo;
        len -= half;
    }
    return lo + 1;
}

/* ------------------------------------------------------------ create */

static norn_status check_float(const char *name, double v, float *out, norn_err *err)
{
    float f = (float)v;
    if (!isfinite(f))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "%s: must be finite (in float32), got %g", name, v);
    *out = f;
    return NORN_OK;
}

norn_status norn_stdp_norse_create(const norn_csr *c, const norn_stdp_spec *spec, double resolution_ms,
                                   norn_stdp_norse **out, norn_err *err)
{
    if (c == NULL || spec == NULL || out == NULL)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stdp: table, spec and out must not be NULL");
    if (!(resolution_ms > 0.0) || !isfinite(resolution_ms))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "resolution: must be > 0 ms, got %g", resolution_ms);

    /* validate everything on a copy, then allocate */
    norn_stdp_norse p;
    memset(&p, 0, sizeof p);
    float dt_s = (float)(resolution_ms / 1000.0), tau_pre_inv = 0.0f, tau_post_inv = 0.0f;
    if (!(dt_s > 0.0f))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "resolution: %g ms underflows float32 seconds", resolution_ms);
    norn_status rc;
    if ((rc = check_float("a_pre", spec->a_pre, &p.a_pre, err)) ||
        (rc = check_float("a_post", spec->a_post, &p.a_post, err)) ||
        (rc = check_float("tau_pre_inv", spec->tau_pre_inv, &tau_pre_inv, err)) ||
        (rc = check_float("tau_post_inv", spec->tau_post_inv, &tau_post_inv, err)) ||
        (rc = check_float("w_min", spec->w_min, &p.w_min, err)) ||
        (rc = check_float("w_max", spec->w_max, &p.w_max, err)) ||
        (rc = check_float("eta_plus", spec->eta_plus, &p.eta_plus, err)) ||
        (rc = check_float("eta_minus", spec->eta_minus, &p.eta_minus, err)) ||
        (rc = check_float("mu", spec->mu, &p.mu, err)))
        return rc;
    if (!(tau_pre_inv > 0.0f))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "tau_pre_inv: must be > 0 (1/s), got %g", spec->tau_pre_inv);
    if (!(tau_post_inv > 0.0f))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "tau_post_inv: must be > 0 (1/s), got %g", spec->tau_post_inv);
    if (p.w_min > p.w_max)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "w_min: must be <= w_max (%g), got %g", spec->w_max, spec->w_min);
    p.alg = spec->algorithm;
    if (p.alg < NORN_NORSE_ADDITIVE || p.alg > NORN_NORSE_MULTIPLICATIVE_RELU)
        return NORN_FAIL(err, NORN_EINVAL, NULL,
                         "algorithm: unknown (%d); known: additive, additive_step, multiplicative_pow, "
                         "multiplicative_relu",
                         spec->algorithm);
    if (p.alg == NORN_NORSE_MULTIPLICATIVE_POW && p.mu < 0.0f)
        return NORN_FAIL(err, NORN_EINVAL, NULL,
                         "mu: must be >= 0 for multiplicative_pow (Norse's weights at the bounds become NaN), "
                         "got %g",
                         spec->mu);
    p.hardbound = spec->hardbound != 0;
    p.c_pre = dt_s * tau_pre_inv; /* fl32(dt) * tau: a float32 product (section 0.3) */
    p.c_post = dt_s * tau_post_inv;
    p.a0_pre = p.a_pre * 0.0f;
    p.a0_post = p.a_post * 0.0f;
    /* Within [w_min, w_max] the amplitudes are monotone (mu >= 0), so they
     * are finite there if they are at both bounds. */
    for (int b = 0; b < 2; b++) {
        float w = b ? p.w_max : p.w_min;
        if (!isfinite(amp_plus(&p, w)))
            return NORN_FAIL(err, NORN_EINVAL, NULL, "eta_plus: amplitude overflows float32 at w = %g", (double)w);
        if (!isfinite(amp_minus(&p, w)))
            return NORN_FAIL(err, NORN_EINVAL, NULL, "eta_minus: amplitude overflows float32 at w = %g", (double)w);
    }
    p.check_finite =
        !p.hardbound && (p.alg == NORN_NORSE_MULTIPLICATIVE_POW || p.alg == NORN_NORSE_MULTIPLICATIVE_RELU);
    p.sweep = 1; /* Norse clamps (or NaNs) initial weights at step 0 */
    p.n_pre = c->n_src;
    p.n_post = c->n_tgt;
    p.nnz = c->nnz;

    norn_stdp_norse *st = norn_malloc(sizeof *st);
    if (st == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "stdp: cannot allocate its state");
    *st = p;
    int wide = p.nnz > UINT32_MAX;
    st->t_pre = norn_calloc_n(p.n_pre, sizeof(float));
    st->t_post = norn_calloc_n(p.n_post, sizeof(float));
    st->z_pre = norn_calloc_n(p.n_pre, 1);
    st->z_post = norn_calloc_n(p.n_post, 1);
    st->in_ptr = norn_calloc_n((size_t)p.n_post + 1, sizeof(uint64_t));
    st->blk_row = norn_calloc_n((size_t)(p.nnz >> BLK) + 1, sizeof(uint32_t));
    if (wide)
        st->in_pos64 = norn_malloc_n(p.nnz, sizeof(uint64_t));
    else
        st->in_pos32 = norn_malloc_n(p.nnz, sizeof(uint32_t));
    if (!st->t_pre || !st->t_post || !st->z_pre || !st->z_post || !st->in_ptr || !st->blk_row ||
        (wide ? !st->in_pos64 : !st->in_pos32)) {
        norn_stdp_norse_destroy(st);
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "stdp: cannot allocate the index of %llu synapses",
                         (unsigned long long)p.nnz);
    }
    st->bytes = sizeof *st + 5 * ((uint64_t)p.n_pre + p.n_post) + 8 * ((uint64_t)p.n_post + 1) +
                (wide ? 8 : 4) * p.nnz + 4 * ((p.nnz >> BLK) + 1);

    uint64_t r = 0;
    for (uint32_t j = 0; j < p.n_pre; j++)
        for (; (r << BLK) < c->row_ptr[j + 1]; r++)
            st->blk_row[r] = j;

    /* counting sort of positions by target; ascending k within a target */
    uint64_t *ip = st->in_ptr;
    for (uint64_t k = 0; k < p.nnz; k++)
        ip[c->target[k] + 1]++;
    for (uint32_t i = 0; i < p.n_post; i++)
        ip[i + 1] += ip[i];
    for (uint64_t k = 0; k < p.nnz; k++) {
        uint64_t q = ip[c->target[k]]++;
        if (wide)
            st->in_pos64[q] = k;
        else
            st->in_pos32[q] = (uint32_t)k;
    }
    memmove(ip + 1, ip, sizeof(uint64_t) * p.n_post);
    ip[0] = 0;
    *out = st;
    return NORN_OK;
}

/* ------------------------------------------------------------ step */

static void traces(float *t, const uint8_t *z, uint32_t n, float cst, float a, float a0)
{
    for (uint32_t j = 0; j < n; j++)
        t[j] = t[j] + cst * (-t[j] + (z[j] ? a : a0));
}

void norn_stdp_norse_step(norn_stdp_norse *st, norn_csr *c, const uint32_t *pre, uint32_t n_pre_spk,
                          const uint32_t *post, uint32_t n_post_spk)
{
    assert(c->n_src == st->n_pre && c->n_tgt == st->n_post && c->nnz == st->nnz);
    for (uint32_t s = 0; s < n_pre_spk; s++) {
        assert(pre[s] < st->n_pre);
        st->z_pre[pre[s]] = 1;
    }
    for (uint32_t s = 0; s < n_post_spk; s++) {
        assert(post[s] < st->n_post);
        st->z_post[post[s]] = 1;
    }
    traces(st->t_pre, st->z_pre, st->n_pre, st->c_pre, st->a_pre, st->a0_pre);
    traces(st->t_post, st->z_post, st->n_post, st->c_post, st->a_post, st->a0_post);

    const uint64_t *rp = c->row_ptr;
    const uint32_t *tg = c->target;
    float *w = c->weight;
    const float *tpre = st->t_pre, *tpost = st->t_post;
    uint8_t *zpre = st->z_pre, *zpost = st->z_post;
    int sweep = st->sweep;
    st->sweep = 0;
    if (sweep) {
        /* every synapse, as Norse's dense update */
        for (uint32_t j = 0; j < st->n_pre; j++) {
            float zj = zpre[j] ? 1.0f : 0.0f;
            for (uint64_t k = rp[j]; k < rp[j + 1]; k++) {
                uint32_t i = tg[k];
                w[k] = syn_update(st, w[k], zj, zpost[i] ? 1.0f : 0.0f, tpre[j], tpost[i], 1);
            }
        }
    } else {
        /* rows of spiking presynaptic neurons (z_pre = 1); mark 2 = done */
        for (uint32_t s = 0; s < n_pre_spk; s++) {
            uint32_t j = pre[s];
            if (zpre[j] != 1)
                continue;
            zpre[j] = 2;
            for (uint64_t k = rp[j]; k < rp[j + 1]; k++) {
                uint32_t i = tg[k];
                w[k] = syn_update(st, w[k], 1.0f, zpost[i] ? 1.0f : 0.0f, tpre[j], tpost[i], 0);
            }
        }
        /* incoming synapses of spiking postsynaptic neurons whose
         * presynaptic neuron was silent (z_pre = 0, z_post = 1) */
        for (uint32_t s = 0; s < n_post_spk && st->n_pre > 0; s++) {
            uint32_t i = post[s];
            if (zpost[i] != 1)
                continue;
            zpost[i] = 2;
            uint32_t j = 0;
            for (uint64_t q = st->in_ptr[i]; q < st->in_ptr[i + 1]; q++) {
                uint64_t k = st->in_pos32 ? st->in_pos32[q] : st->in_pos64[q];
                uint32_t hint = st->blk_row[k >> BLK];
                j = row_of(rp, st->n_pre, hint > j ? hint : j, k);
                if (zpre[j])
                    continue;
                w[k] = syn_update(st, w[k], 0.0f, 1.0f, tpre[j], tpost[i], 0);
            }
        }
    }
    for (uint32_t s = 0; s < n_pre_spk; s++)
        zpre[pre[s]] = 0;
    for (uint32_t s = 0; s < n_post_spk; s++)
        zpost[post[s]] = 0;
}

/* ------------------------------------------------------------ access */

const float *norn_stdp_norse_trace_pre(const norn_stdp_norse *st) { return st->t_pre; }
const float *norn_stdp_norse_trace_post(const norn_stdp_norse *st) { return st->t_post; }
uint64_t norn_stdp_norse_bytes(const norn_stdp_norse *st) { return st ? st->bytes : 0; }

void norn_stdp_norse_destroy(norn_stdp_norse *st)
{
    if (st == NULL)
        return;
    norn_free(st->t_pre);
    norn_free(st->t_post);
    norn_free(st->z_pre);
    norn_free(st->z_post);
    norn_free(st->in_ptr);
    norn_free(st->in_pos32);
    norn_free(st->in_pos64);
    norn_free(st->blk_row);
    norn_free(st);
}

/* ------------------------------------------------------------ checkpoint */

void norn__stdp_norse_ckpt(norn_stdp_norse *st, norn_ckio *io)
{
    norn_ckio_expect(io, st->n_pre, "STDP presynaptic neurons");
    norn_ckio_expect(io, st->n_post, "STDP postsynaptic neurons");
    norn_ckio_expect(io, st->nnz, "STDP synapses");
    if (io->st != NORN_OK)
        return;
    norn_ckio_bytes(io, st->t_pre, st->n_pre * sizeof(float));
    norn_ckio_bytes(io, st->t_post, st->n_post * sizeof(float));
    norn_ckio_int(io, &st->sweep);
}
