/* tests/test_stdp_norse.c - Norse's STDP (engine/stdp_norse.h) against
 * Norse itself and against a dense reference.
 *
 * - tests/data/norse/stdp_additive and stdp_multiplicative_pow: recorded
 *   by running norse.torch.functional.stdp.stdp_step_linear (commit
 *   065a3b45, torch 1.13.1, float32, batch 1; manifest.json in each).
 *   An all-to-all table built from w0 is stepped with the fixture's
 *   spikes; after every step the traces equal Norse's bit for bit and
 *   every weight equals w[t] bit for bit (additive) or within
 *   1e-6 * max(1, |w|) (multiplicative_pow, through powf);
 * - a sparse table with multapses gives every kept synapse the dense
 *   trajectory and never creates the dropped ones;
 * - a literal dense reference (every synapse updated at every step, as
 *   Norse does) on random tables, spikes and initial weights for all four
 *   algorithms with and without hardbound: identical bits, NaNs included;
 * - initial weights outside the bounds (clamped at step 0, or NaN with a
 *   fractional mu as in Norse), weights leaving the bounds without
 *   hardbound, duplicate spikes, bad parameters, ENOMEM, bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectivity/csr.h"
#include "engine/mem.h"
#include "engine/stdp_norse.h"
#include "io/npy.h"
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

static norn_npy_array load(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/norse/%s/%s.npy", tu_src(), dir, name);
    norn_npy_array a;
    norn_err err;
    norn_status st = norn_npy_read(path, &a, &err);
    ck_assert_msg(st == NORN_OK, "%s: %s", path, err.msg);
    return a;
}

static uint32_t bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* Equal bits, or both NaN. */
static int same(float a, float b) { return bits(a) == bits(b) || (isnan(a) && isnan(b)); }

/* Deterministic generator for test data (no rand()). */
static uint64_t lcg_state;
static double unif(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) * 0x1.0p-53;
}

/* A table from synapses (pre[k], post[k], w[k]) sorted by (pre, post):
 * one segment of delay 1 per non-empty row, arrays from engine/mem.h. */
static norn_csr make_csr(uint32_t n_pre, uint32_t n_post, uint64_t nnz, const uint32_t *pre, const uint32_t *post,
                         const float *w)
{
    norn_csr c;
    memset(&c, 0, sizeof c);
    c.n_src = n_pre, c.n_tgt = n_post, c.nnz = nnz;
    c.row_ptr = norn_calloc_n((size_t)n_pre + 1, sizeof *c.row_ptr);
    c.target = norn_malloc_n(nnz ? nnz : 1, sizeof *c.target);
    c.weight = norn_malloc_n(nnz ? nnz : 1, sizeof *c.weight);
    c.seg_ptr = norn_calloc_n((size_t)n_pre + 1, sizeof *c.seg_ptr);
    c.seg_delay = norn_malloc_n(n_pre ? n_pre : 1, sizeof *c.seg_delay);
    c.seg_start = norn_malloc_n(n_pre ? n_pre : 1, sizeof *c.seg_start);
    ck_assert(c.row_ptr && c.target && c.weight && c.seg_ptr && c.seg_delay && c.seg_start);
    for (uint64_t k = 0; k < nnz; k++) {
        ck_assert(k == 0 || pre[k] > pre[k - 1] || (pre[k] == pre[k - 1] && post[k] >= post[k - 1]));
        c.row_ptr[pre[k] + 1]++;
        c.target[k] = post[k];
        c.weight[k] = w[k];
    }
    for (uint32_t j = 0; j < n_pre; j++)
        c.row_ptr[j + 1] += c.row_ptr[j];
    uint64_t g = 0;
    for (uint32_t j = 0; j < n_pre; j++) {
        c.seg_ptr[j] = g;
        if (c.row_ptr[j + 1] > c.row_ptr[j]) {
            c.seg_delay[g] = 1;
            c.seg_start[g++] = c.row_ptr[j];
        }
    }
    c.seg_ptr[n_pre] = g;
    c.nseg = g;
    c.min_delay = c.max_delay = nnz ? 1 : 0;
    return c;
}

/* All-to-all from w0 [n_post][n_pre]: row j = pre j, targets 0..n_post-1. */
static norn_csr dense_csr(uint32_t n_pre, uint32_t n_post, const double *w0)
{
    uint64_t nnz = (uint64_t)n_pre * n_post;
    uint32_t *pre = malloc(sizeof *pre * nnz), *post = malloc(sizeof *post * nnz);
    float *w = malloc(sizeof *w * nnz);
    uint64_t k = 0;
    for (uint32_t j = 0; j < n_pre; j++)
        for (uint32_t i = 0; i < n_post; i++, k++)
            pre[k] = j, post[k] = i, w[k] = (float)w0[(uint64_t)i * n_pre + j];
    norn_csr c = make_csr(n_pre, n_post, nnz, pre, post, w);
    free(pre), free(post), free(w);
    return c;
}

static norn_stdp_spec norse_spec(int alg, double mu, int hardbound)
{
    norn_stdp_spec s;
    memset(&s, 0, sizeof s);
    s.rule = NORN_STDP_NORSE;
    s.a_pre = 1.0, s.a_post = 1.0, s.tau_pre_inv = 20.0, s.tau_post_inv = 20.0;
    s.w_min = 0.0, s.w_max = 1.0, s.eta_plus = 0.3, s.eta_minus = 0.1;
    s.algorithm = alg, s.mu = mu, s.hardbound = hardbound;
    return s;
}

static norn_stdp_norse *create(const norn_csr *c, const norn_stdp_spec *s)
{
    norn_stdp_norse *st = NULL;
    norn_err err;
    norn_status rc = norn_stdp_norse_create(c, s, 1.0, &st, &err);
    ck_assert_msg(rc == NORN_OK, "create: %s", err.msg);
    return st;
}

/* Spikes of step t from a [T][n] 0/1 array, as an index list. */
static uint32_t spikes_at(const norn_npy_array *z, uint32_t t, uint32_t *out)
{
    uint32_t n = (uint32_t)z->shape[1], m = 0;
    for (uint32_t j = 0; j < n; j++)
        if (z->data[(uint64_t)t * n + j] != 0.0)
            out[m++] = j;
    return m;
}

/* ------------------------------------------------------------ fixtures */

typedef struct {
    const char *dir;
    int alg;
    double mu;
    int tol; /* weights pass through pow */
} fixture;

/* Parameters as in each manifest.json: norse_spec() plus these. */
static const fixture fixtures[] = {
    {"stdp_additive", NORN_NORSE_ADDITIVE, 0.0, 0},
    {"stdp_multiplicative_pow", NORN_NORSE_MULTIPLICATIVE_POW, 0.75, 1},
};

START_TEST(test_fixture)
{
    const fixture *fx = &fixtures[_i];
    norn_npy_array zpre = load(fx->dir, "pre_spikes"), zpost = load(fx->dir, "post_spikes");
    norn_npy_array w0 = load(fx->dir, "w0"), w = load(fx->dir, "w");
    norn_npy_array tpre = load(fx->dir, "t_pre"), tpost = load(fx->dir, "t_post");
    uint32_t T = (uint32_t)zpre.shape[0], n_pre = (uint32_t)zpre.shape[1], n_post = (uint32_t)zpost.shape[1];
    ck_assert_uint_eq(w0.shape[0], n_post);
    ck_assert_uint_eq(w0.shape[1], n_pre);
    ck_assert_uint_eq(w.shape[0], T);

    norn_csr c = dense_csr(n_pre, n_post, w0.data);
    norn_stdp_spec s = norse_spec(fx->alg, fx->mu, 1);
    norn_stdp_norse *st = create(&c, &s);
    uint32_t pre[64], post[64];
    double maxdev = 0.0;
    long changed = 0, at_bound = 0, n_pre_spk = 0, n_post_spk = 0;
    for (uint32_t t = 0; t < T; t++) {
        uint32_t np = spikes_at(&zpre, t, pre), nq = spikes_at(&zpost, t, post);
        n_pre_spk += np, n_post_spk += nq;
        norn_stdp_norse_step(st, &c, pre, np, post, nq);
        const float *a = norn_stdp_norse_trace_pre(st), *b = norn_stdp_norse_trace_post(st);
        for (uint32_t j = 0; j < n_pre; j++) {
            float ref = (float)tpre.data[(uint64_t)t * n_pre + j];
            ck_assert_msg(bits(a[j]) == bits(ref), "%s: t_pre[%u][%u]: got %.9g (0x%08x), Norse %.9g (0x%08x)",
                          fx->dir, t, j, (double)a[j], bits(a[j]), (double)ref, bits(ref));
        }
        for (uint32_t i = 0; i < n_post; i++) {
            float ref = (float)tpost.data[(uint64_t)t * n_post + i];
            ck_assert_msg(bits(b[i]) == bits(ref), "%s: t_post[%u][%u]: got %.9g (0x%08x), Norse %.9g (0x%08x)",
                          fx->dir, t, i, (double)b[i], bits(b[i]), (double)ref, bits(ref));
        }
        for (uint32_t j = 0; j < n_pre; j++)
            for (uint32_t i = 0; i < n_post; i++) {
                float got = c.weight[(uint64_t)j * n_post + i];
                float ref = (float)w.data[((uint64_t)t * n_post + i) * n_pre + j];
                float prev = t ? (float)w.data[((uint64_t)(t - 1) * n_post + i) * n_pre + j]
                               : (float)w0.data[(uint64_t)i * n_pre + j];
                changed += ref != prev;
                at_bound += ref != prev && (ref == 0.0f || ref == 1.0f);
                if (!fx->tol) {
                    ck_assert_msg(bits(got) == bits(ref), "%s: w[%u][%u][%u]: got %.9g (0x%08x), Norse %.9g (0x%08x)",
                                  fx->dir, t, i, j, (double)got, bits(got), (double)ref, bits(ref));
                } else {
                    double d = fabs((double)got - (double)ref);
                    maxdev = fmax(maxdev, d);
                    ck_assert_msg(d <= 1e-6 * fmax(1.0, fabs((double)ref)), "%s: w[%u][%u][%u]: got %.9g, Norse %.9g",
                                  fx->dir, t, i, j, (double)got, (double)ref);
                }
            }
    }
    ck_assert_msg(n_pre_spk > 0 && n_post_spk > 0 && changed > 100, "%s: the fixture should exercise the rule",
                  fx->dir);
    printf("%s: %ld pre and %ld post spikes, %ld weight changes (%ld to a bound), largest |diff| %.3g\n", fx->dir,
           n_pre_spk, n_post_spk, changed, at_bound, maxdev);
    norn_stdp_norse_destroy(st);
    norn_csr_free(&c);
    norn_npy_array_free(&zpre), norn_npy_array_free(&zpost), norn_npy_array_free(&w0);
    norn_npy_array_free(&w), norn_npy_array_free(&tpre), norn_npy_array_free(&tpost);
}
END_TEST

/* A sparse table with multapses, stepped with the additive fixture: each
 * synapse j -> i follows Norse's dense w[t][i][j] bit for bit; the table's
 * shape never changes. */
START_TEST(test_sparse_multapses)
{
    const char *dir = "stdp_additive";
    norn_npy_array zpre = load(dir, "pre_spikes"), zpost = load(dir, "post_spikes");
    norn_npy_array w0 = load(dir, "w0"), w = load(dir, "w");
    uint32_t T = (uint32_t)zpre.shape[0], n_pre = (uint32_t)zpre.shape[1], n_post = (uint32_t)zpost.shape[1];
    uint64_t cap = 2 * (uint64_t)n_pre * n_post, nnz = 0;
    uint32_t *pre_of = malloc(sizeof(uint32_t) * cap), *post_of = malloc(sizeof(uint32_t) * cap);
    float *wk = malloc(sizeof(float) * cap);
    for (uint32_t j = 0; j < n_pre; j++) {
        if (j == 3 || j == n_pre - 1)
            continue; /* empty rows, one of them the last */
        for (uint32_t i = 0; i < n_post; i++) {
            if ((i + j) % 3 == 0)
                continue; /* dropped */
            int copies = (i + 2 * j) % 5 == 0 ? 2 : 1;
            for (int m = 0; m < copies; m++, nnz++)
                pre_of[nnz] = j, post_of[nnz] = i, wk[nnz] = (float)w0.data[(uint64_t)i * n_pre + j];
        }
    }
    norn_csr c = make_csr(n_pre, n_post, nnz, pre_of, post_of, wk);
    uint64_t *row0 = malloc(sizeof(uint64_t) * (n_pre + 1));
    uint32_t *tgt0 = malloc(sizeof(uint32_t) * nnz);
    memcpy(row0, c.row_ptr, sizeof(uint64_t) * (n_pre + 1));
    memcpy(tgt0, c.target, sizeof(uint32_t) * nnz);
    norn_stdp_spec s = norse_spec(NORN_NORSE_ADDITIVE, 0.0, 1);
    norn_stdp_norse *st = create(&c, &s);
    uint32_t pre[64], post[64];
    long changed = 0;
    for (uint32_t t = 0; t < T; t++) {
        uint32_t np = spikes_at(&zpre, t, pre), nq = spikes_at(&zpost, t, post);
        norn_stdp_norse_step(st, &c, pre, np, post, nq);
        for (uint64_t k = 0; k < nnz; k++) {
            uint32_t i = post_of[k], j = pre_of[k];
            float ref = (float)w.data[((uint64_t)t * n_post + i) * n_pre + j];
            ck_assert_msg(bits(c.weight[k]) == bits(ref), "w[%u] of %u -> %u (synapse %llu): got %.9g, dense %.9g", t,
                          j, i, (unsigned long long)k, (double)c.weight[k], (double)ref);
            changed += c.weight[k] != wk[k];
        }
    }
    ck_assert_int_gt(changed, 100);
    ck_assert_uint_eq(c.nnz, nnz);
    ck_assert_int_eq(memcmp(row0, c.row_ptr, sizeof(uint64_t) * (n_pre + 1)), 0);
    ck_assert_int_eq(memcmp(tgt0, c.target, sizeof(uint32_t) * nnz), 0);
    norn_stdp_norse_destroy(st);
    norn_csr_free(&c);
    free(pre_of), free(post_of), free(wk), free(row0), free(tgt0);
    norn_npy_array_free(&zpre), norn_npy_array_free(&zpost), norn_npy_array_free(&w0), norn_npy_array_free(&w);
}
END_TEST

/* ------------------------------------------------------------ reference */

/* Norse's step written literally: every synapse at every step. */
typedef struct {
    norn_stdp_spec s;
    float c_pre, c_post;
    float *t_pre, *t_post;
} ref_state;

static float ref_amp(const ref_state *r, float w, int plus)
{
    float eta = (float)(plus ? r->s.eta_plus : r->s.eta_minus);
    float x = plus ? (float)r->s.w_max - w : w - (float)r->s.w_min;
    switch (r->s.algorithm) {
    case NORN_NORSE_ADDITIVE: return eta;
    case NORN_NORSE_ADDITIVE_STEP: return eta * (float)(x > 0.0f);
    case NORN_NORSE_MULTIPLICATIVE_POW: return eta * powf(x, (float)r->s.mu);
    default: return eta * (isnan(x) ? x : fmaxf(x, 0.0f));
    }
}

static void ref_step(ref_state *r, uint32_t n_pre, uint32_t n_post, const float *zp, const float *zq, uint64_t nnz,
                     const uint32_t *pre_of, const uint32_t *post_of, float *w)
{
    for (uint32_t j = 0; j < n_pre; j++)
        r->t_pre[j] = r->t_pre[j] + r->c_pre * (-r->t_pre[j] + (float)r->s.a_pre * zp[j]);
    for (uint32_t i = 0; i < n_post; i++)
        r->t_post[i] = r->t_post[i] + r->c_post * (-r->t_post[i] + (float)r->s.a_post * zq[i]);
    for (uint64_t k = 0; k < nnz; k++) {
        uint32_t i = post_of[k], j = pre_of[k];
        float dp = ref_amp(r, w[k], 1) * (zq[i] * r->t_pre[j]);
        float dm = ref_amp(r, w[k], 0) * (r->t_post[i] * zp[j]);
        float nw = w[k] + (dp - dm);
        if (r->s.hardbound) {
            float lo = (float)r->s.w_min, hi = (float)r->s.w_max;
            nw = isnan(nw) ? nw : nw < lo ? lo : nw > hi ? hi : nw;
        }
        w[k] = nw;
    }
}

typedef struct {
    uint32_t n_pre, n_post;
    double p;   /* connection probability; multapses with probability p/4 */
    double rate; /* spike probability per neuron and step */
} ref_case;

static const ref_case ref_cases[] = {
    {40, 30, 1.0, 0.1},    /* dense */
    {300, 200, 0.03, 0.05}, /* sparse: long gallops */
    {1, 50, 1.0, 0.3},     /* one row */
    {50, 1, 0.5, 0.3},     /* one column */
};
#define N_REF_CASES ((int)(sizeof ref_cases / sizeof ref_cases[0]))

/* _i = case * 8 + algorithm * 2 + hardbound */
START_TEST(test_reference)
{
    const ref_case *rc = &ref_cases[_i / 8];
    int alg = (_i / 2) % 4, hb = _i % 2;
    lcg_state = 1000 + (uint64_t)_i;
    uint32_t n_pre = rc->n_pre, n_post = rc->n_post, T = 300;
    uint64_t cap = 2 * (uint64_t)n_pre * n_post, nnz = 0;
    uint32_t *pre_of = malloc(sizeof(uint32_t) * cap), *post_of = malloc(sizeof(uint32_t) * cap);
    float *w = malloc(sizeof(float) * cap);
    for (uint32_t j = 0; j < n_pre; j++)
        for (uint32_t i = 0; i < n_post; i++) {
            int copies = (unif() < rc->p) + (unif() < rc->p / 4);
            for (int m = 0; m < copies; m++, nnz++) /* 1 in 10 outside [0, 1] */
                pre_of[nnz] = j, post_of[nnz] = i, w[nnz] = (float)(unif() < 0.1 ? 3.0 * unif() - 1.0 : unif());
        }
    ck_assert_uint_ge(nnz, 2);
    w[0] = 1.25f, w[nnz - 1] = -0.25f; /* at least one on each side */
    norn_csr c = make_csr(n_pre, n_post, nnz, pre_of, post_of, w);
    norn_stdp_spec s = norse_spec(alg, 0.75, hb);
    s.eta_plus = 0.5, s.eta_minus = 0.4, s.tau_pre_inv = 50.0, s.a_post = 1.5; /* leave the bounds */
    norn_stdp_norse *st = create(&c, &s);
    ref_state r = {s, (float)(1.0 / 1000.0) * (float)s.tau_pre_inv, (float)(1.0 / 1000.0) * (float)s.tau_post_inv,
                   calloc(n_pre, sizeof(float)), calloc(n_post, sizeof(float))};
    float *zp = malloc(sizeof(float) * n_pre), *zq = malloc(sizeof(float) * n_post);
    uint32_t *pre = malloc(sizeof(uint32_t) * n_pre), *post = malloc(sizeof(uint32_t) * n_post);
    long nan = 0, outside = 0, changed = 0;
    for (uint32_t t = 0; t < T; t++) {
        uint32_t np = 0, nq = 0;
        /* spike lists in descending order: any order is fine */
        for (uint32_t j = n_pre; j-- > 0;)
            if ((zp[j] = unif() < rc->rate))
                pre[np++] = j;
        for (uint32_t i = n_post; i-- > 0;)
            if ((zq[i] = unif() < rc->rate))
                post[nq++] = i;
        ref_step(&r, n_pre, n_post, zp, zq, nnz, pre_of, post_of, w);
        norn_stdp_norse_step(st, &c, pre, np, post, nq);
        const float *a = norn_stdp_norse_trace_pre(st), *b = norn_stdp_norse_trace_post(st);
        for (uint32_t j = 0; j < n_pre; j++)
            ck_assert_msg(bits(a[j]) == bits(r.t_pre[j]), "t_pre[%u][%u]", t, j);
        for (uint32_t i = 0; i < n_post; i++)
            ck_assert_msg(bits(b[i]) == bits(r.t_post[i]), "t_post[%u][%u]", t, i);
        for (uint64_t k = 0; k < nnz; k++) {
            ck_assert_msg(same(c.weight[k], w[k]), "alg %d hardbound %d: w[%u] of %u -> %u: got %.9g, reference %.9g",
                          alg, hb, t, pre_of[k], post_of[k], (double)c.weight[k], (double)w[k]);
            changed += t == T - 1 && !same(w[k], c.weight[k]);
        }
    }
    for (uint64_t k = 0; k < nnz; k++) {
        nan += isnan(w[k]);
        outside += !isnan(w[k]) && (w[k] < 0.0f || w[k] > 1.0f);
    }
    if (hb)
        ck_assert_int_eq(outside, 0);
    if (!hb && alg == NORN_NORSE_ADDITIVE)
        ck_assert_int_gt(outside, 0);
    /* pow with mu = 0.75: initial weights outside the bounds become NaN */
    ck_assert_int_eq(nan > 0, alg == NORN_NORSE_MULTIPLICATIVE_POW);
    printf("reference %ux%u alg %d hardbound %d: %llu synapses, %ld NaN, %ld outside [0, 1]\n", n_pre, n_post, alg,
           hb, (unsigned long long)nnz, nan, outside);
    (void)changed;
    norn_stdp_norse_destroy(st);
    norn_csr_free(&c);
    free(pre_of), free(post_of), free(w), free(r.t_pre), free(r.t_post), free(zp), free(zq), free(pre), free(post);
}
END_TEST

/* ------------------------------------------------------------ bounds */

/* 2 pre x 2 post, w = [[1.5, -0.5], [0.5, 0.25]] by row (pre). */
static norn_csr small_csr(const float w[4])
{
    const uint32_t pre[4] = {0, 0, 1, 1}, post[4] = {0, 1, 0, 1};
    return make_csr(2, 2, 4, pre, post, w);
}

START_TEST(test_initial_clamp)
{
    const float w0[4] = {1.5f, -0.5f, 0.5f, 0.25f};
    for (int hb = 0; hb < 2; hb++) {
        norn_csr c = small_csr(w0);
        norn_stdp_spec s = norse_spec(NORN_NORSE_ADDITIVE, 0.0, hb);
        norn_stdp_norse *st = create(&c, &s);
        ck_assert_float_eq(c.weight[0], 1.5f); /* create does not touch weights */
        norn_stdp_norse_step(st, &c, NULL, 0, NULL, 0);
        ck_assert_float_eq(c.weight[0], hb ? 1.0f : 1.5f);
        ck_assert_float_eq(c.weight[1], hb ? 0.0f : -0.5f);
        ck_assert_float_eq(c.weight[2], 0.5f);
        ck_assert_float_eq(c.weight[3], 0.25f);
        norn_stdp_norse_step(st, &c, NULL, 0, NULL, 0);
        ck_assert_float_eq(c.weight[0], hb ? 1.0f : 1.5f);
        norn_stdp_norse_destroy(st);
        norn_csr_free(&c);
    }
    /* multiplicative_pow: an integer mu clamps; a fractional one makes
     * Norse's A = eta (1 - 1.5)^0.5 = NaN, and NaN * 0 = NaN, without any
     * spike; clamp keeps NaN */
    for (int frac = 0; frac < 2; frac++) {
        norn_csr c = small_csr(w0);
        norn_stdp_spec s = norse_spec(NORN_NORSE_MULTIPLICATIVE_POW, frac ? 0.5 : 1.0, 1);
        norn_stdp_norse *st = create(&c, &s);
        norn_stdp_norse_step(st, &c, NULL, 0, NULL, 0);
        if (frac) {
            ck_assert(isnan(c.weight[0]) && isnan(c.weight[1]));
        } else {
            ck_assert_float_eq(c.weight[0], 1.0f);
            ck_assert_float_eq(c.weight[1], 0.0f);
        }
        ck_assert_float_eq(c.weight[2], 0.5f);
        ck_assert_float_eq(c.weight[3], 0.25f);
        norn_stdp_norse_destroy(st);
        norn_csr_free(&c);
    }
}
END_TEST

/* Without hardbound, a spike pushes a pow weight above w_max: finite at
 * that step, NaN at the next one although no neuron spikes (Norse updates
 * the whole matrix: A = eta (1 - w)^0.5 = NaN). */
START_TEST(test_pow_leaves_bounds)
{
    const float w0[4] = {0.99f, 0.5f, 0.5f, 0.5f};
    norn_csr c = small_csr(w0);
    norn_stdp_spec s = norse_spec(NORN_NORSE_MULTIPLICATIVE_POW, 0.5, 0);
    s.eta_plus = 1.0, s.eta_minus = 0.0, s.tau_pre_inv = 1000.0; /* t_pre = 1 after a spike */
    norn_stdp_norse *st = create(&c, &s);
    uint32_t zero = 0;
    norn_stdp_norse_step(st, &c, &zero, 1, &zero, 1);
    float expect = 0.99f + (1.0f * sqrtf(1.0f - 0.99f) * 1.0f - 0.0f);
    ck_assert_float_eq_tol(c.weight[0], expect, 1e-6f);
    ck_assert_float_gt(c.weight[0], 1.0f);
    ck_assert(!isnan(c.weight[1]));
    norn_stdp_norse_step(st, &c, NULL, 0, NULL, 0);
    ck_assert(isnan(c.weight[0]));
    ck_assert(!isnan(c.weight[1]) && !isnan(c.weight[2]) && !isnan(c.weight[3]));
    norn_stdp_norse_destroy(st);
    norn_csr_free(&c);
}
END_TEST

/* A duplicated spike counts once; order does not matter. */
START_TEST(test_duplicates)
{
    const float w0[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    norn_csr c1 = small_csr(w0), c2 = small_csr(w0);
    norn_stdp_spec s = norse_spec(NORN_NORSE_ADDITIVE, 0.0, 1);
    norn_stdp_norse *a = create(&c1, &s), *b = create(&c2, &s);
    const uint32_t once[2] = {0, 1}, twice[5] = {1, 0, 1, 0, 1};
    for (int t = 0; t < 5; t++) {
        norn_stdp_norse_step(a, &c1, once, 2, once, (uint32_t)(t % 2 + 1));
        norn_stdp_norse_step(b, &c2, twice, 5, twice + 1, (uint32_t)(t % 2 ? 4 : 1));
    }
    for (int k = 0; k < 4; k++)
        ck_assert_uint_eq(bits(c1.weight[k]), bits(c2.weight[k]));
    for (int k = 0; k < 2; k++) {
        ck_assert_uint_eq(bits(norn_stdp_norse_trace_pre(a)[k]), bits(norn_stdp_norse_trace_pre(b)[k]));
        ck_assert_uint_eq(bits(norn_stdp_norse_trace_post(a)[k]), bits(norn_stdp_norse_trace_post(b)[k]));
    }
    ck_assert_float_ne(c1.weight[0], 0.5f);
    norn_stdp_norse_destroy(a), norn_stdp_norse_destroy(b);
    norn_csr_free(&c1), norn_csr_free(&c2);
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(test_bad_params)
{
    const float w0[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    norn_csr c = small_csr(w0);
    static const struct {
        const char *field;
        double value;
        int alg;
        const char *msg;
    } cases[] = {
        {"tau_pre_inv", -20.0, 0, "tau_pre_inv: must be > 0 (1/s), got -20"},
        {"tau_post_inv", 0.0, 0, "tau_post_inv: must be > 0 (1/s), got 0"},
        {"w_min", 2.0, 0, "w_min: must be <= w_max (1), got 2"},
        {"w_max", -1.0, 0, "w_min: must be <= w_max (-1), got 0"},
        {"a_pre", NAN, 0, "a_pre: must be finite (in float32), got nan"},
        {"eta_plus", 1e39, 0, "eta_plus: must be finite (in float32), got 1e+39"},
        {"mu", -0.5, NORN_NORSE_MULTIPLICATIVE_POW, "mu: must be >= 0 for multiplicative_pow"},
        {"eta_minus", 1e38, NORN_NORSE_MULTIPLICATIVE_RELU, "eta_minus: amplitude overflows float32 at w = 1"},
        {"algorithm", 7, 0, "algorithm: unknown (7)"},
    };
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        norn_stdp_spec s = norse_spec(cases[q].alg, 0.0, 1);
        const char *f = cases[q].field;
        double v = cases[q].value;
        if (!strcmp(f, "tau_pre_inv")) s.tau_pre_inv = v;
        if (!strcmp(f, "tau_post_inv")) s.tau_post_inv = v;
        if (!strcmp(f, "w_min")) s.w_min = v;
        if (!strcmp(f, "w_max")) s.w_max = v;
        if (!strcmp(f, "a_pre")) s.a_pre = v;
        if (!strcmp(f, "eta_plus")) s.eta_plus = v;
        if (!strcmp(f, "eta_minus")) s.eta_minus = v;
        if (!strcmp(f, "mu")) s.mu = v;
        if (!strcmp(f, "algorithm")) s.algorithm = (int)v;
        if (!strcmp(f, "eta_minus")) s.w_min = -1e38, s.w_max = 1.0; /* relu(w - w_min) = 1e38 at w = 1 */
        norn_stdp_norse *st = (norn_stdp_norse *)&c; /* must stay untouched */
        norn_err err;
        norn_status rc = norn_stdp_norse_create(&c, &s, 1.0, &st, &err);
        ck_assert_int_eq(rc, NORN_EINVAL);
        ck_assert_ptr_eq(st, (norn_stdp_norse *)&c);
        ck_assert_msg(strncmp(err.msg, cases[q].msg, strlen(cases[q].msg)) == 0, "%s: got '%s', want '%s'", f,
                      err.msg, cases[q].msg);
    }
    norn_stdp_spec s = norse_spec(0, 0.0, 1);
    norn_stdp_norse *st = NULL;
    norn_err err;
    ck_assert_int_eq(norn_stdp_norse_create(&c, &s, 0.0, &st, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "resolution: must be > 0 ms, got 0");
    ck_assert_ptr_null(st);
    /* 0.1 ms: dt = fl32(1e-4), c = fl32(dt) * 20 */
    ck_assert_int_eq(norn_stdp_norse_create(&c, &s, 0.1, &st, &err), NORN_OK);
    uint32_t zero = 0;
    norn_stdp_norse_step(st, &c, &zero, 1, NULL, 0);
    ck_assert_uint_eq(bits(norn_stdp_norse_trace_pre(st)[0]), bits((float)1e-4 * 20.0f));
    ck_assert_float_eq(norn_stdp_norse_trace_post(st)[0], 0.0f);
    norn_stdp_norse_destroy(st);
    norn_stdp_norse_destroy(NULL);
    norn_csr_free(&c);
}
END_TEST

START_TEST(test_enomem)
{
    const float w0[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    norn_csr c = small_csr(w0);
    norn_stdp_spec s = norse_spec(0, 0.0, 1);
    size_t base = norn_mem_live();
    int done = 0, failures = 0;
    for (long k = 0; !done && k < 100; k++) {
        norn_stdp_norse *st = NULL;
        norn_err err;
        norn_mem_fail_after(k);
        norn_status rc = norn_stdp_norse_create(&c, &s, 1.0, &st, &err);
        norn_mem_fail_after(-1);
        if (rc == NORN_OK) {
            done = 1;
            norn_stdp_norse_destroy(st);
        } else {
            ck_assert_int_eq(rc, NORN_ENOMEM);
            ck_assert_ptr_null(st);
            failures++;
        }
        ck_assert_uint_eq(norn_mem_live(), base);
    }
    ck_assert(done);
    ck_assert_int_eq(failures, 8); /* state, 2 traces, 2 masks, index pointers, row hints, positions */
    norn_csr_free(&c);
}
END_TEST

/* 5 bytes per neuron, 8 per postsynaptic neuron, 4 per synapse, 4 per 64 synapses. */
START_TEST(test_bytes)
{
    double w0[6 * 4];
    for (int q = 0; q < 24; q++)
        w0[q] = 0.5;
    norn_csr a = dense_csr(6, 4, w0), b = dense_csr(4, 6, w0);
    norn_stdp_spec s = norse_spec(0, 0.0, 1);
    norn_stdp_norse *sa = create(&a, &s), *sb = create(&b, &s);
    uint64_t ba = norn_stdp_norse_bytes(sa), bb = norn_stdp_norse_bytes(sb);
    ck_assert_uint_eq(bb - ba, 8 * 2); /* two more postsynaptic neurons */
    ck_assert_uint_le(ba, 256 + 5 * 10 + 8 * 5 + 4 * 24 + 4);
    ck_assert_uint_ge(ba, 5 * 10 + 8 * 5 + 4 * 24 + 4);
    ck_assert_uint_eq(norn_stdp_norse_bytes(NULL), 0);
    norn_stdp_norse_destroy(sa), norn_stdp_norse_destroy(sb);
    norn_csr_free(&a), norn_csr_free(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stdp_norse");
    TCase *tc = tcase_create("fixtures");
    tcase_add_loop_test(tc, test_fixture, 0, (int)(sizeof fixtures / sizeof fixtures[0]));
    tcase_add_test(tc, test_sparse_multapses);
    suite_add_tcase(s, tc);

    tc = tcase_create("reference");
    tcase_add_loop_test(tc, test_reference, 0, 8 * N_REF_CASES);
    tcase_set_timeout(tc, 600);
    suite_add_tcase(s, tc);

    tc = tcase_create("bounds");
    tcase_add_test(tc, test_initial_clamp);
    tcase_add_test(tc, test_pow_leaves_bounds);
    tcase_add_test(tc, test_duplicates);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_bad_params);
    tcase_add_test(tc, test_enomem);
    tcase_add_test(tc, test_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(suite()); }
