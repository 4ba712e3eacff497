/* tests/test_norse.c - the euler-mode (Norse) models and the cell API
 * against Norse itself.
 *
 * - tests/data/norse/<case>/: float32 arrays recorded by running Norse
 *   (commit 065a3b45, torch 1.13.1, float32, batch 1; see the README
 *   there). Row t is the value after step t. Every neuron model is run
 *   through the cell API on the fixture's input and must give the same
 *   spikes at every step and the same state, bit for bit (lif_ex, lif_adex
 *   and lif_adex_refrac, whose step goes through exp: within
 *   1e-6 * max(1, |x|), as torch's exp and glibc's differ by an ulp);
 *   once as a Cell fed W_in x_t, once as a RecurrentCell fed the spikes x_t;
 * - the seed example (LIFCell, constant 0.0, 0.1, 0.3): voltage traces,
 *   spikes at 15, 26, ..., 92 for 0.3 only;
 * - the constant-current and spike-latency LIF encoders;
 * - recurrent plumbing (W_rec z_{t-1}, CSR) against a dense loop, the
 *   one-step (LIF) and two-step (LSNN) recurrent latencies, and Norse's
 *   CobaLIFCell quirk (input ignored);
 * - quiet(): never "quiet" before a spike that comes without input;
 * - registry, presets, initial states, bad input messages, ENOMEM paths.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cell.h"
#include "engine/mem.h"
#include "io/npy.h"
#include "models/euler.h"
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

/* The type of "model" or "model:preset". */
static const norn_euler_type *model_type(const char *spec)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(spec, ":"), spec);
    return norn_euler_find(name);
}

/* Deterministic generator for test data (no rand()). */
static uint64_t lcg_state;
static double unif(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) * 0x1.0p-53;
}

/* Compares a step's value with Norse's: bit for bit, or within
 * 1e-6 * max(1, |ref|) when exp is involved; tracks the largest deviation. */
static void expect_value(const char *what, int t, uint32_t j, float got, float ref, int tol, double *maxdev)
{
    if (!tol) {
        ck_assert_msg(bits(got) == bits(ref), "%s[%d][%u]: got %.9g (0x%08x), Norse %.9g (0x%08x)", what, t, j,
                      (double)got, bits(got), (double)ref, bits(ref));
        return;
    }
    double d = fabs((double)got - (double)ref);
    if (d > *maxdev)
        *maxdev = d;
    ck_assert_msg(d <= 1e-6 * fmax(1.0, fabs((double)ref)), "%s[%d][%u]: got %.9g, Norse %.9g (|diff| %.3g)", what, t,
                  j, (double)got, (double)ref, d);
}

/* ------------------------------------------------------------ fixtures */

typedef struct {
    const char *dir;
    const char *model; /* as given to norn_cell_create (may name a preset) */
    int n_params;
    const char *names[2];
    double values[2];
    int n_vars;
    const char *vars[4];
    int tol;           /* values pass through exp */
} fixture;

/* Parameters as in each manifest.json (the rest are Norse's defaults). */
static const fixture fixtures[] = {
    {"lif_ff_small", "lif", 0, {0}, {0}, 2, {"v", "i"}, 0},
    {"lif_refrac_ff_small", "lif_refrac", 0, {0}, {0}, 3, {"v", "i", "rho"}, 0},
    {"lif_box_ff_small", "lif_box", 0, {0}, {0}, 1, {"v"}, 0},
    {"lif_ex_ff_small", "lif_ex", 0, {0}, {0}, 2, {"v", "i"}, 1},
    {"lif_adex_ff_small", "lif_adex", 0, {0}, {0}, 3, {"v", "i", "a"}, 1},
    {"lif_adex_refrac_ff_small", "lif_adex_refrac", 0, {0}, {0}, 4, {"v", "i", "a", "rho"}, 1},
    {"li_ff_small", "li", 0, {0}, {0}, 2, {"v", "i"}, 0},
    {"lsnn_ff_small", "lsnn", 2, {"tau_adapt_inv", "beta"}, {10.0, 0.5}, 3, {"v", "i", "b"}, 0},
    {"izhikevich_ff_small", "izhikevich:tonic_spiking", 0, {0}, {0}, 2, {"v", "u"}, 0},
    {"iaf_ff_small", "iaf", 0, {0}, {0}, 1, {"v"}, 0},
    {"coba_lif_ff_small", "coba_lif", 0, {0}, {0}, 3, {"v", "g_e", "g_i"}, 0},
};
#define N_FIXTURES ((int)(sizeof fixtures / sizeof fixtures[0]))

/* Runs fixture fx through a Cell (recurrent = 0: input_current = W_in x_t,
 * formed here in float32 and checked exact against double) or a
 * RecurrentCell with W_in and no W_rec (recurrent = 1: the spikes x_t). */
static void run_fixture(const fixture *fx, int recurrent)
{
    norn_npy_array x = load(fx->dir, "input_spikes"), w = load(fx->dir, "w_in");
    uint32_t T = (uint32_t)x.shape[0], n_in = (uint32_t)x.shape[1], n = (uint32_t)w.shape[0];
    ck_assert_uint_eq(w.shape[1], n_in);
    const norn_euler_type *type = model_type(fx->model);
    ck_assert_ptr_nonnull(type);
    norn_npy_array ref_z = {0}, ref[4];
    if (type->spiking)
        ref_z = load(fx->dir, "spikes");
    for (int k = 0; k < fx->n_vars; k++) {
        ref[k] = load(fx->dir, fx->vars[k]);
        ck_assert_uint_eq(ref[k].shape[0], T);
        ck_assert_uint_eq(ref[k].shape[1], n);
    }

    float *wf = malloc(sizeof(float) * n * n_in), *xf = malloc(sizeof(float) * T * n_in);
    float *cur = malloc(sizeof(float) * T * n), *out = malloc(sizeof(float) * n), *st = malloc(sizeof(float) * n);
    for (uint64_t q = 0; q < (uint64_t)n * n_in; q++)
        wf[q] = (float)w.data[q];
    for (uint64_t q = 0; q < (uint64_t)T * n_in; q++)
        xf[q] = (float)x.data[q];
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t j = 0; j < n; j++) {
            float s = 0.0f;
            double sd = 0.0;
            for (uint32_t k = 0; k < n_in; k++) {
                s += wf[(uint64_t)j * n_in + k] * xf[(uint64_t)t * n_in + k];
                sd += (double)wf[(uint64_t)j * n_in + k] * xf[(uint64_t)t * n_in + k];
            }
            ck_assert_msg((double)s == sd, "%s: W_in x[%u][%u] not exact in float32", fx->dir, t, j);
            cur[(uint64_t)t * n + j] = s;
        }

    norn_cell *c = NULL;
    norn_err err;
    norn_status rc = recurrent ? norn_cell_create_recurrent(fx->model, n, n_in, wf, NULL, fx->names, fx->values,
                                                            fx->n_params, 0.001, &c, &err)
                               : norn_cell_create(fx->model, n, fx->names, fx->values, fx->n_params, 0.001, &c, &err);
    ck_assert_msg(rc == NORN_OK, "%s: %s", fx->dir, err.msg);
    norn_cell_state *s = NULL;
    double maxdev = 0.0;
    long spikes = 0;
    for (uint32_t t = 0; t < T; t++) {
        const float *in = recurrent ? xf + (uint64_t)t * n_in : cur + (uint64_t)t * n;
        ck_assert_int_eq(norn_cell_step(c, in, &s, out, &err), NORN_OK);
        for (uint32_t j = 0; j < n; j++) {
            if (type->spiking) {
                float zr = (float)ref_z.data[(uint64_t)t * n + j];
                ck_assert_msg(out[j] == zr, "%s: spike[%u][%u]: got %g, Norse %g", fx->dir, t, j, (double)out[j],
                              (double)zr);
                spikes += zr != 0.0f;
            } else {
                /* LICell's output is v' */
                expect_value("output", (int)t, j, out[j], (float)ref[0].data[(uint64_t)t * n + j], fx->tol, &maxdev);
            }
        }
        for (int k = 0; k < fx->n_vars; k++) {
            ck_assert_int_eq(norn_cell_state_get(s, fx->vars[k], st, &err), NORN_OK);
            for (uint32_t j = 0; j < n; j++)
                expect_value(fx->vars[k], (int)t, j, st[j], (float)ref[k].data[(uint64_t)t * n + j], fx->tol,
                             &maxdev);
        }
    }
    if (type->spiking)
        ck_assert_msg(spikes > 0, "%s: the fixture should have spikes", fx->dir);
    if (fx->tol)
        printf("%s (%s): spikes identical, largest |diff| %.3g\n", fx->dir, recurrent ? "recurrent" : "cell",
               maxdev);
    norn_cell_state_destroy(s);
    norn_cell_destroy(c);
    free(wf), free(xf), free(cur), free(out), free(st);
    norn_npy_array_free(&x), norn_npy_array_free(&w);
    if (type->spiking)
        norn_npy_array_free(&ref_z);
    for (int k = 0; k < fx->n_vars; k++)
        norn_npy_array_free(&ref[k]);
}

START_TEST(test_fixture_cell) { run_fixture(&fixtures[_i], 0); }
END_TEST

START_TEST(test_fixture_recurrent)
{
    if (strcmp(fixtures[_i].model, "coba_lif") == 0)
        return; /* Norse's CobaLIFCell ignores its input: test_coba_quirk */
    run_fixture(&fixtures[_i], 1);
}
END_TEST

/* ------------------------------------------------------------ seed example */

START_TEST(test_seed_lif_constant_current)
{
    const char *dir = "seed_lif_constant_current";
    norn_npy_array in = load(dir, "input_current"), rv = load(dir, "v"), ri = load(dir, "i"),
                   rz = load(dir, "spikes");
    ck_assert_uint_eq(in.shape[0], 100);
    ck_assert_uint_eq(in.shape[1], 3);
    const float I[3] = {0.0f, 0.1f, 0.3f};
    for (int t = 0; t < 100; t++)
        for (int j = 0; j < 3; j++)
            ck_assert_uint_eq(bits((float)in.data[t * 3 + j]), bits(I[j]));
    norn_cell *c = NULL;
    norn_err err;
    ck_assert_int_eq(norn_cell_create("lif", 3, NULL, NULL, 0, 0.001, &c, &err), NORN_OK);
    norn_cell_state *s = NULL;
    float z[3], v[3], i[3];
    int next = 15, n_spikes = 0;
    for (int t = 0; t < 100; t++) {
        ck_assert_int_eq(norn_cell_step(c, I, &s, z, &err), NORN_OK);
        norn_cell_state_get(s, "v", v, &err);
        norn_cell_state_get(s, "i", i, &err);
        for (int j = 0; j < 3; j++) {
            expect_value("v", t, (uint32_t)j, v[j], (float)rv.data[t * 3 + j], 0, NULL);
            expect_value("i", t, (uint32_t)j, i[j], (float)ri.data[t * 3 + j], 0, NULL);
            ck_assert(z[j] == (float)rz.data[t * 3 + j]);
        }
        ck_assert(z[0] == 0.0f && z[1] == 0.0f);
        ck_assert_msg(z[2] == (t == next ? 1.0f : 0.0f), "step %d: spike %g", t, (double)z[2]);
        if (z[2] != 0.0f)
            next += 11, n_spikes++;
        if (t == 0) {
            ck_assert_uint_eq(bits(v[2]), bits(0.030000001f));
            ck_assert_uint_eq(bits(i[2]), bits(0.24000001f));
        }
    }
    ck_assert_int_eq(n_spikes, 8); /* 15, 26, ..., 92 */
    ck_assert_uint_eq(bits(v[1]), bits(0.49997604f));
    ck_assert_uint_eq(bits(v[0]), 0);
    norn_cell_state_destroy(s);
    norn_cell_destroy(c);
    norn_npy_array_free(&in), norn_npy_array_free(&rv), norn_npy_array_free(&ri), norn_npy_array_free(&rz);
}
END_TEST

/* ------------------------------------------------------------ encoders */

START_TEST(test_encoders_lif)
{
    const char *dir = "encoders_lif";
    norn_npy_array in = load(dir, "input_current"), cc = load(dir, "constant_current_lif"),
                   sl = load(dir, "spike_latency_lif"), slc = load(dir, "spike_latency_of_constant_current_lif");
    uint32_t n = (uint32_t)in.shape[0], T = (uint32_t)cc.shape[0];
    ck_assert_uint_eq(cc.shape[1], n);
    float *I = malloc(n * sizeof(float)), *z = malloc(n * sizeof(float));
    int *seen = calloc(n, sizeof(int));
    for (uint32_t j = 0; j < n; j++)
        I[j] = (float)in.data[j];
    norn_cell *c = NULL;
    norn_err err;
    ck_assert_int_eq(norn_cell_create("lif_encoder", n, NULL, NULL, 0, 0.001, &c, &err), NORN_OK);
    norn_cell_state *s = NULL;
    long total = 0;
    for (uint32_t t = 0; t < T; t++) {
        ck_assert_int_eq(norn_cell_step(c, I, &s, z, &err), NORN_OK);
        for (uint32_t j = 0; j < n; j++) {
            ck_assert_msg(z[j] == (float)cc.data[t * n + j], "constant_current_lif[%u][%u]", t, j);
            float first = z[j] != 0.0f && !seen[j] ? 1.0f : 0.0f;
            ck_assert_msg(first == (float)sl.data[t * n + j], "spike_latency_lif[%u][%u]", t, j);
            ck_assert_msg(first == (float)slc.data[t * n + j], "spike_latency_encode[%u][%u]", t, j);
            seen[j] |= z[j] != 0.0f;
            total += z[j] != 0.0f;
        }
    }
    ck_assert(total > 0);
    norn_cell_state_destroy(s);
    norn_cell_destroy(c);
    free(I), free(z), free(seen);
    norn_npy_array_free(&in), norn_npy_array_free(&cc), norn_npy_array_free(&sl), norn_npy_array_free(&slc);
}
END_TEST

/* ------------------------------------------------------------ recurrence */

/* A recurrent cell against a dense loop over the model's own step:
 * ff = W_in x_t, rec = W_rec z_{t-1}, both in column order, with weights
 * multiples of 2^-10 (so any order gives the same sums). */
static const char *const rec_models[] = {"lif", "lif_refrac", "lsnn", "izhikevich:tonic_spiking", "iaf", "li",
                                         "lif_box", "lif_ex", "lif_adex_refrac"};

START_TEST(test_recurrent_dense)
{
    const char *model = rec_models[_i];
    enum { N = 24, NI = 16, T = 300 };
    int izh = strncmp(model, "izhikevich", 10) == 0;
    double gain = izh ? 40.0 : strcmp(model, "iaf") == 0 ? 0.4 : 1.5;
    static float w_in[N * NI], w_rec[N * N], x[T][NI];
    lcg_state = 12345 + (uint64_t)_i;
    for (int q = 0; q < N * NI; q++)
        w_in[q] = unif() < 0.5 ? (float)(floor(unif() * gain * 1024) / 1024) : 0.0f;
    for (int q = 0; q < N * N; q++)
        w_rec[q] = unif() < 0.3 ? (float)(floor((unif() - 0.5) * gain * 1024) / 1024) : 0.0f;
    for (int t = 0; t < T; t++)
        for (int k = 0; k < NI; k++)
            x[t][k] = unif() < 0.1 ? 1.0f : 0.0f;

    norn_cell *c = NULL;
    norn_err err;
    ck_assert_int_eq(norn_cell_create_recurrent(model, N, NI, w_in, w_rec, NULL, NULL, 0, 0.001, &c, &err), NORN_OK);
    norn_cell_state *s = NULL;
    float out[N];
    /* the reference steps the model itself on its own state arrays */
    const norn_euler_type *type = model_type(model);
    norn_euler_pop ep;
    memset(&ep, 0, sizeof ep);
    ep.type = type;
    ep.n = N;
    ep.dt = 0.001;
    double init[NORN_EULER_MAX_STATE];
    int has[NORN_EULER_MAX_STATE] = {0};
    for (int k = 0; k < type->n_params; k++)
        ep.p[k] = type->params[k].def;
    if (izh)
        ck_assert(norn_euler_preset(type, "tonic_spiking", ep.p, init, has));
    ck_assert_int_eq(type->compile(&ep, "test", &err), NORN_OK);
    static float st[NORN_EULER_MAX_STATE][N];
    for (int v = 0; v < type->n_state; v++)
        ep.st[v] = st[v];
    for (int j = 0; j < N; j++) {
        type->init(&ep, (uint32_t)j);
        for (int v = 0; v < type->n_state; v++)
            if (has[v])
                st[v][j] = (float)init[v];
    }
    float z[N] = {0}, zn[N], got[N];
    long spikes = 0;
    for (int t = 0; t < T; t++) {
        for (int j = 0; j < N; j++) {
            float ff = 0.0f, rec = 0.0f;
            for (int k = 0; k < NI; k++)
                if (w_in[j * NI + k] != 0.0f)
                    ff += w_in[j * NI + k] * x[t][k];
            for (int k = 0; k < N; k++)
                if (w_rec[j * N + k] != 0.0f)
                    rec += w_rec[j * N + k] * z[k];
            zn[j] = type->step(&ep, (uint32_t)j, ff, rec) ? 1.0f : 0.0f;
        }
        memcpy(z, zn, sizeof z);
        ck_assert_int_eq(norn_cell_step(c, x[t], &s, out, &err), NORN_OK);
        for (int v = 0; v < type->n_state; v++) {
            ck_assert_int_eq(norn_cell_state_get(s, type->state[v].name, got, &err), NORN_OK);
            for (int j = 0; j < N; j++)
                ck_assert_msg(bits(got[j]) == bits(st[v][j]), "%s: %s[%d][%d]: %g vs %g", model,
                              type->state[v].name, t, j, (double)got[j], (double)st[v][j]);
        }
        for (int j = 0; j < N; j++) {
            ck_assert(out[j] == (type->spiking ? z[j] : st[type->v_index][j]));
            spikes += z[j] != 0.0f;
        }
    }
    if (type->spiking)
        ck_assert_msg(spikes > 20 && spikes < (long)N * T / 2, "%s: %ld spikes: a poor test", model, spikes);
    norn_cell_state_destroy(s);
    norn_cell_destroy(c);
}
END_TEST

/* Neuron 0 spikes at step t0 (driven through W_in); neuron 1 receives it
 * through W_rec[1][0] = w. LIF: i~ = (i + W_in x) + W_rec z_{t-1}, so the
 * spike reaches neuron 1's current at t0 + 1 and its v in the same step.
 * LSNN: the jump comes after the voltage update, so v moves at t0 + 2. */
static void latency(const char *model, int v_moves_at)
{
    const float w_in[2] = {2.0f, 0.0f}; /* [2][1] */
    const float w_rec[4] = {0.0f, 0.0f, 0.5f, 0.0f};
    norn_cell *c = NULL;
    norn_err err;
    ck_assert_int_eq(norn_cell_create_recurrent(model, 2, 1, w_in, w_rec, NULL, NULL, 0, 0.001, &c, &err), NORN_OK);
    norn_cell_state *s = NULL;
    float out[2], v[2], one = 1.0f, none = 0.0f;
    int t0 = -1;
    for (int t = 0; t < 12; t++) {
        ck_assert_int_eq(norn_cell_step(c, t < 3 ? &one : &none, &s, out, &err), NORN_OK);
        norn_cell_state_get(s, "v", v, &err);
        if (t0 < 0 && out[0] != 0.0f)
            t0 = t;
        if (t0 < 0 || t < t0 + v_moves_at)
            ck_assert_msg(v[1] == 0.0f, "%s: v[1] moved at step %d, spike of neuron 0 at %d", model, t, t0);
        else if (t == t0 + v_moves_at)
            ck_assert_msg(v[1] > 0.0f, "%s: v[1] still 0 at step %d, spike at %d", model, t, t0);
    }
    ck_assert_int_ge(t0, 0);
    norn_cell_state_destroy(s);
    norn_cell_destroy(c);
}

START_TEST(test_recurrent_latency)
{
    latency("lif", 1);
    latency("lsnn", 2);
}
END_TEST

/* Norse's CobaLIFCell overwrites the input conductances with the recurrent
 * ones: input spikes change nothing; W_rec's positive and negative weights
 * go to g_e and g_i. */
START_TEST(test_coba_quirk)
{
    const char *dir = "coba_lif_ff_small";
    norn_npy_array x = load(dir, "input_spikes"), w = load(dir, "w_in");
    uint32_t T = (uint32_t)x.shape[0], n_in = (uint32_t)x.shape[1], n = (uint32_t)w.shape[0];
    float *wf = malloc(sizeof(float) * n * n_in), *xf = malloc(sizeof(float) * n_in), *zero = calloc(n, sizeof(float));
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n);
    for (uint64_t q = 0; q < (uint64_t)n * n_in; q++)
        wf[q] = (float)w.data[q];
    norn_cell *rc = NULL, *plain = NULL;
    norn_err err;
    ck_assert_int_eq(norn_cell_create_recurrent("coba_lif", n, n_in, wf, NULL, NULL, NULL, 0, 0.001, &rc, &err),
                     NORN_OK);
    ck_assert_int_eq(norn_cell_create("coba_lif", n, NULL, NULL, 0, 0.001, &plain, &err), NORN_OK);
    norn_cell_state *s = NULL, *p = NULL;
    long inputs = 0;
    for (uint32_t t = 0; t < T; t++) {
        for (uint32_t k = 0; k < n_in; k++)
            inputs += (xf[k] = (float)x.data[(uint64_t)t * n_in + k]) != 0.0f;
        ck_assert_int_eq(norn_cell_step(rc, xf, &s, out, &err), NORN_OK);
        for (uint32_t j = 0; j < n; j++)
            ck_assert(out[j] == (t == 0 ? 1.0f : 0.0f)); /* v0 = 0 > v_thresh: all spike at step 0 */
        ck_assert_int_eq(norn_cell_step(plain, zero, &p, NULL, &err), NORN_OK);
        static const char *const vars[] = {"v", "g_e", "g_i"};
        for (int k = 0; k < 3; k++) {
            norn_cell_state_get(s, vars[k], a, &err);
            norn_cell_state_get(p, vars[k], b, &err);
            ck_assert(memcmp(a, b, sizeof(float) * n) == 0);
        }
    }
    ck_assert(inputs > 100);
    norn_cell_state_destroy(s);
    norn_cell_destroy(rc);

    /* with W_rec: the step-0 spikes of all neurons arrive at step 1 */
    enum { M = 3 };
    const float w_rec[M * M] = {0.0f, 0.25f, -0.5f, 0.125f, 0.0f, 0.375f, -0.25f, -0.75f, 0.0f};
    ck_assert_int_eq(norn_cell_create_recurrent("coba_lif", M, 0, NULL, w_rec, NULL, NULL, 0, 0.001, &rc, &err),
                     NORN_OK);
    s = NULL;
    float ge[M], gi[M];
    ck_assert_int_eq(norn_cell_step(rc, NULL, &s, out, &err), NORN_OK);
    ck_assert_int_eq(norn_cell_step(rc, NULL, &s, out, &err), NORN_OK);
    norn_cell_state_get(s, "g_e", ge, &err);
    norn_cell_state_get(s, "g_i", gi, &err);
    const float c = -(float)0.001 * (float)0.2;
    for (int j = 0; j < M; j++) {
        float e = 0.0f, i = 0.0f;
        for (int k = 0; k < M; k++)
            w_rec[j * M + k] > 0 ? (e += w_rec[j * M + k]) : (i += -w_rec[j * M + k]);
        ck_assert_uint_eq(bits(ge[j]), bits(e + c * e));
        ck_assert_uint_eq(bits(gi[j]), bits(i + c * i));
    }
    norn_cell_state_destroy(s);
    norn_cell_state_destroy(p);
    norn_cell_destroy(rc);
    norn_cell_destroy(plain);
    free(wf), free(xf), free(zero), free(a), free(b), free(out);
    norn_npy_array_free(&x), norn_npy_array_free(&w);
}
END_TEST

/* ------------------------------------------------------------ quiet */

/* quiet() may say 0 wrongly, never 1: from random states, a neuron that is
 * "quiet" must not spike in 3000 steps without input. And it must say 1
 * for plainly quiet states (else the test could not fail). */
static const char *const quiet_models[] = {"lif", "lif_refrac", "lif_box", "lif_encoder", "lif_ex", "lsnn",
                                           "iaf", "coba_lif", "li", "li_box"};

START_TEST(test_quiet_sound)
{
    const char *model = quiet_models[_i];
    const norn_euler_type *type = norn_euler_find(model);
    ck_assert_ptr_nonnull(type);
    norn_euler_pop ep;
    memset(&ep, 0, sizeof ep);
    ep.type = type;
    ep.n = 1;
    ep.dt = 0.001;
    for (int k = 0; k < type->n_params; k++)
        ep.p[k] = type->params[k].def;
    norn_err err;
    ck_assert_int_eq(type->compile(&ep, "test", &err), NORN_OK);
    float st[NORN_EULER_MAX_STATE];
    for (int v = 0; v < type->n_state; v++)
        ep.st[v] = &st[v];
    int coba = strcmp(model, "coba_lif") == 0;
    type->init(&ep, 0);
    if (coba) {
        /* v starts at 0 > v_thresh: it spikes at step 0; at v_rest it rests */
        ck_assert(!type->quiet(&ep, 0));
        st[0] = -20.0f;
    }
    ck_assert_msg(type->quiet(&ep, 0), "%s: not quiet at rest", model);
    int iv = type->v_index, ii = norn_euler_state_index(type, "i"), ib = norn_euler_state_index(type, "b");
    int ige = norn_euler_state_index(type, "g_e"), igi = norn_euler_state_index(type, "g_i");
    int irho = norn_euler_state_index(type, "rho");
    int n_quiet = 0;
    lcg_state = 777 + (uint64_t)_i;
    for (int trial = 0; trial < 400; trial++) {
        type->init(&ep, 0);
        if (coba) {
            st[iv] = (float)(-80 + 75 * unif());
            st[ige] = unif() < 0.5 ? 0.0f : (float)(0.5 * unif());
            st[igi] = (float)(0.5 * unif());
        } else {
            /* mostly just below threshold, where rounding matters */
            st[iv] = trial % 4 == 0 ? (float)(1.0 - 1e-6 * unif()) : (float)(2.4 * unif() - 1.2);
            if (ii >= 0)
                st[ii] = trial % 3 == 0 ? 0.0f : (float)(4 * unif() - 2);
            if (ib >= 0)
                st[ib] = (float)(0.2 + 2.8 * unif()); /* below v_th too (beta < 0) */
            if (irho >= 0)
                st[irho] = (float)floor(6 * unif());
        }
        if (!type->quiet(&ep, 0))
            continue;
        n_quiet++;
        for (int t = 0; t < 3000; t++)
            ck_assert_msg(!type->step(&ep, 0, 0.0f, 0.0f), "%s: quiet state (trial %d) spikes at step %d", model,
                          trial, t);
    }
    ck_assert_msg(n_quiet > 20, "%s: only %d quiet states of 400", model, n_quiet);
    /* a state about to spike is not quiet */
    if (type->spiking) {
        type->init(&ep, 0);
        st[iv] = coba ? 100.0f : 50.0f;
        ck_assert_msg(!type->quiet(&ep, 0), "%s: v far above threshold, yet quiet", model);
    }
}
END_TEST

/* AdEx and Izhikevich are never declared quiet (no cheap bound). */
START_TEST(test_quiet_never)
{
    static const char *const m[] = {"lif_adex", "lif_adex_refrac"};
    for (int k = 0; k < 2; k++) {
        norn_cell *c = NULL;
        norn_err err;
        ck_assert_int_eq(norn_cell_create(m[k], 1, NULL, NULL, 0, 0.001, &c, &err), NORN_OK);
        norn_cell_destroy(c);
        const norn_euler_type *t = norn_euler_find(m[k]);
        ck_assert_int_eq(t->quiet(NULL, 0), 0);
    }
}
END_TEST

/* ------------------------------------------------------------ registry */

START_TEST(test_registry)
{
    static const char *const expect[] = {"lif", "lif_box", "lif_refrac", "lif_ex", "lif_adex", "lif_adex_refrac",
                                         "li", "li_box", "lsnn", "izhikevich", "iaf", "coba_lif", "lif_encoder"};
    size_t n = sizeof expect / sizeof expect[0];
    ck_assert_uint_eq(norn_euler_count(), n);
    char names[512] = "";
    for (size_t k = 0; k < n; k++) {
        const norn_euler_type *t = norn_euler_at(k);
        ck_assert_str_eq(t->name, expect[k]);
        ck_assert_ptr_eq(norn_euler_find(t->name), t);
        ck_assert(t->n_params <= NORN_MAX_PARAMS && t->n_state <= NORN_EULER_MAX_STATE);
        ck_assert(t->v_index >= 0 && t->v_index < t->n_state);
        for (int i = 0; i < t->n_params; i++) {
            ck_assert_int_eq(norn_euler_param_index(t, t->params[i].name), i);
            ck_assert(t->params[i].unit && t->params[i].doc);
        }
        for (int i = 0; i < t->n_state; i++) {
            ck_assert_int_eq(norn_euler_state_index(t, t->state[i].name), i);
            ck_assert(t->state[i].init_param < t->n_params);
        }
        ck_assert_str_eq(t->state[t->v_index].name, "v");
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", t->name);
        /* defaults compile, except Izhikevich's required a, b, c, d */
        norn_cell *c = NULL;
        norn_err err;
        norn_status st = norn_cell_create(t->name, 2, NULL, NULL, 0, 0.001, &c, &err);
        ck_assert_int_eq(st, strcmp(t->name, "izhikevich") == 0 ? NORN_EINVAL : NORN_OK);
        norn_cell_destroy(c);
    }
    ck_assert_str_eq(norn_euler_names(), names);
    ck_assert_ptr_null(norn_euler_find("lfi"));
    ck_assert_int_eq(norn_euler_param_index(norn_euler_find("lif"), "tau_m"), -1);
    ck_assert_int_eq(norn_euler_state_index(norn_euler_find("lsnn"), "b"), 2);
    ck_assert(norn_euler_find("li")->spiking == 0 && norn_euler_find("li_box")->spiking == 0);
    ck_assert(norn_euler_find("lif")->spiking == 1);
}
END_TEST

/* §2: Norse's initial states when none is given. */
static void first_state(const char *model, const char *name, double value, const char *var, float expect)
{
    norn_cell *c = NULL;
    norn_err err;
    int np = name ? 1 : 0;
    ck_assert_int_eq(norn_cell_create(model, 1, &name, &value, np, 0.001, &c, &err), NORN_OK);
    /* a state is made by the first step: check the model's init directly */
    const norn_euler_type *t = norn_euler_find(model);
    norn_euler_pop ep;
    memset(&ep, 0, sizeof ep);
    ep.type = t;
    ep.n = 1;
    ep.dt = 0.001;
    for (int k = 0; k < t->n_params; k++)
        ep.p[k] = t->params[k].def;
    if (name)
        ep.p[norn_euler_param_index(t, name)] = value;
    ck_assert_int_eq(t->compile(&ep, "test", &err), NORN_OK);
    float st[NORN_EULER_MAX_STATE];
    for (int v = 0; v < t->n_state; v++)
        ep.st[v] = &st[v];
    t->init(&ep, 0);
    ck_assert_msg(bits(st[norn_euler_state_index(t, var)]) == bits(expect), "%s: initial %s = %g, expected %g",
                  model, var, (double)st[norn_euler_state_index(t, var)], (double)expect);
    norn_cell_destroy(c);
}

START_TEST(test_initial_state)
{
    first_state("lif", "v_leak", -0.25, "v", -0.25f);
    first_state("lif", NULL, 0, "i", 0.0f);
    first_state("lif_ex", "v_leak", 0.125, "v", 0.125f);
    first_state("lif_adex", NULL, 0, "a", 0.0f);
    first_state("lif_refrac", NULL, 0, "rho", 0.0f);
    first_state("li", "v_leak", 0.5, "v", 0.5f);
    first_state("li_box", "v_leak", 0.5, "v", 0.5f);
    first_state("lif_box", "v_leak", 0.5, "v", 0.5f);
    first_state("lsnn", "v_th", 1.5, "b", 1.5f);
    first_state("iaf", "v_reset", -0.5, "v", -0.5f);
    first_state("coba_lif", NULL, 0, "v", 0.0f); /* not v_rest */
    first_state("lif_encoder", "v_leak", 0.3, "v", 0.0f);
}
END_TEST

START_TEST(test_izhikevich_presets)
{
    const norn_euler_type *t = norn_euler_find("izhikevich");
    char names[1024];
    snprintf(names, sizeof names, "%s", norn_euler_preset_names(t));
    ck_assert_ptr_nonnull(strstr(names, "tonic_spiking"));
    ck_assert_ptr_nonnull(strstr(names, "inhibition_induced_bursting"));
    ck_assert_str_eq(norn_euler_preset_names(norn_euler_find("lif")), "");
    double p[NORN_MAX_PARAMS], init[NORN_EULER_MAX_STATE];
    int has[NORN_EULER_MAX_STATE];
    ck_assert(!norn_euler_preset(norn_euler_find("lif"), "tonic_spiking", p, init, has));
    ck_assert(!norn_euler_preset(t, "tonic", p, init, has));
    int count = 0;
    for (char *save = NULL, *nm = strtok_r(names, ", ", &save); nm; nm = strtok_r(NULL, ", ", &save), count++) {
        ck_assert(norn_euler_preset(t, nm, p, init, has));
        ck_assert(has[0] && has[1]);
        char model[128];
        snprintf(model, sizeof model, "izhikevich:%s", nm);
        norn_cell *c = NULL;
        norn_err err;
        ck_assert_msg(norn_cell_create(model, 1, NULL, NULL, 0, 0.001, &c, &err) == NORN_OK, "%s", err.msg);
        norn_cell_state *s = NULL;
        float in = 0.0f;
        for (int t = 0; t < 100; t++)
            ck_assert_int_eq(norn_cell_step(c, &in, &s, NULL, &err), NORN_OK);
        norn_cell_state_destroy(s);
        norn_cell_destroy(c);
    }
    ck_assert_int_eq(count, 20);
    /* Norse's values: tonic_spiking (-70, -14); accomodation (-65, -16),
     * tau_inv 500; inhibition_induced_spiking (fl32(-63.8), 63.8f) */
    ck_assert(norn_euler_preset(t, "tonic_spiking", p, init, has));
    ck_assert(init[0] == -70.0 && init[1] == -14.0);
    ck_assert(p[norn_euler_param_index(t, "a")] == 0.02 && p[norn_euler_param_index(t, "d")] == 6);
    ck_assert(norn_euler_preset(t, "accomodation", p, init, has));
    ck_assert(init[0] == -65.0 && init[1] == -16.0 && p[norn_euler_param_index(t, "tau_inv")] == 500);
    ck_assert(norn_euler_preset(t, "inhibition_induced_spiking", p, init, has));
    ck_assert(init[0] == (double)-63.8f && init[1] == (double)63.8f);
    /* torch.tensor(-62) * 0.26 multiplies in float32: -16.1199989, not
     * fl32(-16.12) = -16.1200008 */
    ck_assert(norn_euler_preset(t, "subthreshold_oscillation", p, init, has));
    ck_assert(init[1] == (double)(-62.0f * 0.26f) && init[1] != (double)(float)(-62 * 0.26));
    ck_assert(norn_euler_preset(t, "class_1_exc", p, init, has));
    ck_assert(p[norn_euler_param_index(t, "mn")] == 4.1 && p[norn_euler_param_index(t, "bias")] == 108);
    ck_assert(norn_euler_preset(t, "phasic_bursting", p, init, has));
    ck_assert(p[norn_euler_param_index(t, "tau_inv")] == 200 && p[norn_euler_param_index(t, "d")] == 0.05);

    /* a preset's initial state reaches the cell's state; parameters given
     * on top of a preset override it */
    norn_cell *c = NULL;
    norn_err err;
    const char *nm = "d";
    double d = 7.0;
    ck_assert_int_eq(norn_cell_create("izhikevich:accomodation", 1, &nm, &d, 1, 0.001, &c, &err), NORN_OK);
    norn_cell_state *s = NULL;
    float in = 0.0f, v, u;
    ck_assert_int_eq(norn_cell_step(c, &in, &s, NULL, &err), NORN_OK);
    norn_cell_state_get(s, "v", &v, &err);
    norn_cell_state_get(s, "u", &u, &err);
    /* one step from (-65, -16), tau_inv 500, b = 1, a = 0.02, by hand */
    float kv = (float)(500 * 0.001), ku = (float)(500 * 0.001 * 0.02), v0 = -65.0f, u0 = -16.0f;
    float ve = v0 + kv * (((((float)0.04 * (v0 * v0) + 5.0f * v0) + 140.0f) - u0) + 0.0f);
    float ue = u0 + ku * (1.0f * v0 - u0);
    ck_assert_uint_eq(bits(v), bits(ve));
    ck_assert_uint_eq(bits(u), bits(ue));
    norn_cell_state_destroy(s);
    norn_cell_destroy(c);
}
END_TEST

/* ------------------------------------------------------------ errors */

static void bad(const char *model, int np, const char *name, double value, double dt, const char *msg)
{
    norn_cell *c = (norn_cell *)&c; /* must stay untouched */
    norn_cell *keep = c;
    norn_err err;
    norn_status st = norn_cell_create(model, 4, &name, &value, np, dt, &c, &err);
    ck_assert_int_eq(st, NORN_EINVAL);
    ck_assert_ptr_eq(c, keep);
    ck_assert_msg(strncmp(err.msg, msg, strlen(msg)) == 0, "got '%s', expected '%s...'", err.msg, msg);
}

START_TEST(test_bad_params)
{
    bad("lif", 1, "tau_mem_inv", -1, 0.001, "params.tau_mem_inv: must be > 0, got -1");
    bad("lif", 1, "tau_mem_inv", 0, 0.001, "params.tau_mem_inv: must be > 0, got 0");
    bad("lif", 1, "tau_syn_inv", -200, 0.001, "params.tau_syn_inv: must be >= 0, got -200");
    bad("lif", 1, "v_th", NAN, 0.001, "params.v_th: must be finite, got nan");
    bad("lif", 1, "v_leak", INFINITY, 0.001, "params.v_leak: must be finite, got inf");
    bad("lif", 1, "v_reset", 1e39, 0.001, "params.v_reset: must be finite in float32");
    bad("lif", 1, "tau_m", 10, 0.001, "params.tau_m: unknown parameter of model 'lif'; known: tau_syn_inv, "
                                      "tau_mem_inv, v_leak, v_th, v_reset");
    bad("lif", 0, NULL, 0, 0.0, "dt: must be > 0 and finite, got 0");
    bad("lif", 0, NULL, 0, NAN, "dt: must be > 0 and finite, got nan");
    bad("lif_refrac", 1, "rho_reset", -1, 0.001, "params.rho_reset: must be >= 0, got -1");
    bad("lif_ex", 1, "delta_T", 0, 0.001, "params.delta_T: must be > 0, got 0");
    bad("lif_adex", 1, "tau_ada_inv", -2, 0.001, "params.tau_ada_inv: must be >= 0, got -2");
    bad("lif_box", 1, "reset_method", 2, 0.001, "params.reset_method: must be 0 or 1, got 2");
    bad("lsnn", 1, "tau_adapt_inv", -1, 0.001, "params.tau_adapt_inv: must be >= 0, got -1");
    bad("coba_lif", 1, "c_m_inv", 0, 0.001, "params.c_m_inv: must be > 0, got 0");
    bad("coba_lif", 1, "g_l", -0.25, 0.001, "params.g_l: must be >= 0, got -0.25");
    bad("izhikevich", 0, NULL, 0, 0.001,
        "params.a: required (izhikevich has no default for it; or use a preset: tonic_spiking, phasic_spiking");
    bad("izhikevich:tonic_spiking", 1, "tau_inv", 0, 0.001, "params.tau_inv: must be > 0, got 0");
    bad("izhikevich:tonic", 0, NULL, 0, 0.001,
        "unknown preset 'tonic' of model 'izhikevich'; known: tonic_spiking, phasic_spiking");
    bad("lif:tonic_spiking", 0, NULL, 0, 0.001, "model 'lif' has no presets (asked for 'tonic_spiking')");

    /* unknown model: the whole list */
    char msg[600];
    snprintf(msg, sizeof msg, "unknown model 'lfi'; known: %s", norn_euler_names());
    bad("lfi", 0, NULL, 0, 0.001, msg);
    ck_assert_ptr_nonnull(strstr(msg, "lif, lif_box, lif_refrac, lif_ex, lif_adex, lif_adex_refrac, li, li_box, "
                                      "lsnn, izhikevich, iaf, coba_lif, lif_encoder"));

    /* where: the model, for "where: msg" */
    norn_cell *c = NULL;
    norn_err err;
    const char *nm = "tau_mem_inv";
    double val = -1;
    ck_assert_int_eq(norn_cell_create("lif", 1, &nm, &val, 1, 0.001, &c, &err), NORN_EINVAL);
    char buf[600];
    ck_assert_str_eq(norn_err_format(&err, buf, sizeof buf), "lif: params.tau_mem_inv: must be > 0, got -1");
    ck_assert_ptr_null(c);

    /* given twice */
    const char *two[] = {"v_th", "v_th"};
    double vals[] = {1, 2};
    ck_assert_int_eq(norn_cell_create("lif", 1, two, vals, 2, 0.001, &c, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "params.v_th: given twice");
    ck_assert_int_eq(norn_cell_create("lif", 0, NULL, NULL, 0, 0.001, &c, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "n: must be > 0, got 0");
}
END_TEST

START_TEST(test_bad_use)
{
    norn_cell *c = NULL, *d = NULL;
    norn_err err;
    float w[6] = {0.5f, 0.0f, NAN, 1.0f, 0.0f, 0.0f};
    ck_assert_int_eq(norn_cell_create_recurrent("lif", 2, 3, w, NULL, NULL, NULL, 0, 0.001, &c, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "w_in[0][2]: must be finite, got nan");
    ck_assert_ptr_null(c);
    ck_assert_int_eq(norn_cell_create_recurrent("lif", 2, 3, NULL, NULL, NULL, NULL, 0, 0.001, &c, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "w_in: NULL for n_in = 3");
    float wr[4] = {0.0f, INFINITY, 0.0f, 0.0f};
    w[2] = 0.25f;
    ck_assert_int_eq(norn_cell_create_recurrent("lif", 2, 3, w, wr, NULL, NULL, 0, 0.001, &c, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "w_rec[0][1]: must be finite, got inf");

    ck_assert_int_eq(norn_cell_create("lif", 2, NULL, NULL, 0, 0.001, &c, &err), NORN_OK);
    ck_assert_int_eq(norn_cell_create("lsnn", 2, NULL, NULL, 0, 0.001, &d, &err), NORN_OK);
    norn_cell_state *s = NULL;
    float in[2] = {0.5f, 0.0f}, out[2];
    ck_assert_int_eq(norn_cell_step(c, NULL, &s, out, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "input: NULL");
    ck_assert_ptr_null(s);
    ck_assert_int_eq(norn_cell_step(c, in, &s, out, &err), NORN_OK);
    norn_cell_state *keep = s;
    ck_assert_int_eq(norn_cell_step(d, in, &s, out, &err), NORN_EINVAL);
    ck_assert_ptr_eq(s, keep);
    ck_assert_str_eq(err.msg, "state: made for model 'lif' with 2 neurons, stepped by a cell of model 'lsnn' with 2");
    ck_assert_int_eq(norn_cell_state_get(s, "b", out, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "unknown state variable 'b' of model 'lif'; known: v, i, z");
    ck_assert_int_eq(norn_cell_state_get(s, "z", out, &err), NORN_OK);
    norn_cell_state_destroy(s);
    norn_cell_destroy(c);
    norn_cell_destroy(d);
    norn_cell_destroy(NULL);
    norn_cell_state_destroy(NULL);
}
END_TEST

/* Every allocation failure gives NORN_ENOMEM and leaks nothing. */
START_TEST(test_enomem)
{
    const float w_in[4] = {0.5f, 0.25f, 0.0f, 1.0f}, w_rec[4] = {0.0f, 0.5f, -0.5f, 0.0f}, x[2] = {1.0f, 1.0f};
    size_t base = norn_mem_live();
    int done = 0, failures = 0;
    for (long k = 0; !done && k < 100; k++) {
        norn_cell *c = NULL;
        norn_cell_state *s = NULL;
        norn_err err;
        norn_mem_fail_after(k);
        norn_status st = norn_cell_create_recurrent("lsnn", 2, 2, w_in, w_rec, NULL, NULL, 0, 0.001, &c, &err);
        if (st == NORN_OK) {
            st = norn_cell_step(c, x, &s, NULL, &err);
            if (st == NORN_OK)
                done = 1;
            else
                ck_assert_ptr_null(s);
        }
        norn_mem_fail_after(-1);
        if (!done) {
            ck_assert_int_eq(st, NORN_ENOMEM);
            failures++;
        }
        norn_cell_state_destroy(s);
        norn_cell_destroy(c);
        ck_assert_uint_eq(norn_mem_live(), base);
    }
    ck_assert(done);
    ck_assert_int_ge(failures, 8); /* cell, 2 x 3 CSR arrays, state, z, z_next, 3 variables */
}
END_TEST

/* LI's output is v'; LIBox too; z stays 0. */
START_TEST(test_li_output)
{
    static const char *const m[] = {"li", "li_box"};
    for (int k = 0; k < 2; k++) {
        norn_cell *c = NULL;
        norn_err err;
        ck_assert_int_eq(norn_cell_create(m[k], 1, NULL, NULL, 0, 0.001, &c, &err), NORN_OK);
        norn_cell_state *s = NULL;
        float in = 2.0f, out, v, z;
        for (int t = 0; t < 5; t++) {
            ck_assert_int_eq(norn_cell_step(c, &in, &s, &out, &err), NORN_OK);
            norn_cell_state_get(s, "v", &v, &err);
            norn_cell_state_get(s, "z", &z, &err);
            ck_assert_uint_eq(bits(out), bits(v));
            ck_assert(z == 0.0f && v > 0.0f);
        }
        /* LIBox: v' = v + c_m ((v_leak - v) + I) from 0: 0.1 * 2 at step 0 */
        norn_cell_state_destroy(s);
        norn_cell_destroy(c);
    }
}
END_TEST

/* LIFBox's reset_method reset_subtract (1): v' = v - v_th at a spike. */
START_TEST(test_lif_box_reset_subtract)
{
    const char *nm = "reset_method";
    double one = 1.0;
    norn_cell *c = NULL;
    norn_err err;
    ck_assert_int_eq(norn_cell_create("lif_box", 1, &nm, &one, 1, 0.001, &c, &err), NORN_OK);
    norn_cell_state *s = NULL;
    float in = 12.0f, out, v;
    /* v' = 0 + 0.1 * ((12 + 0) - 0) = 1.2 > 1: spike, v = 1.2 - 1 */
    ck_assert_int_eq(norn_cell_step(c, &in, &s, &out, &err), NORN_OK);
    norn_cell_state_get(s, "v", &v, &err);
    float cm = (float)0.001 * 100.0f, vd = 0.0f + cm * ((12.0f + 0.0f) - 0.0f);
    ck_assert(out == 1.0f);
    ck_assert_uint_eq(bits(v), bits(vd - 1.0f));
    norn_cell_state_destroy(s);
    norn_cell_destroy(c);
}
END_TEST

/* Refractoriness: a spike at t freezes v for t+1 ... t+ceil(rho_reset),
 * so a neuron driven hard spikes every ceil(rho_reset) + 1 steps; i keeps
 * integrating meanwhile. */
START_TEST(test_refractory_period)
{
    static const double rho[] = {5.0, 2.5, 0.0};
    static const int period[] = {6, 4, 1};
    for (int k = 0; k < 3; k++) {
        const char *nm = "rho_reset";
        norn_cell *c = NULL;
        norn_err err;
        ck_assert_int_eq(norn_cell_create("lif_refrac", 1, &nm, &rho[k], 1, 0.001, &c, &err), NORN_OK);
        norn_cell_state *s = NULL;
        float in = 50.0f, z, v, v_prev = 0.0f;
        for (int t = 0; t < 30; t++) {
            ck_assert_int_eq(norn_cell_step(c, &in, &s, &z, &err), NORN_OK);
            norn_cell_state_get(s, "v", &v, &err);
            ck_assert_msg(z == (t % period[k] == 0 ? 1.0f : 0.0f), "rho_reset %g: step %d: z = %g", rho[k], t,
                          (double)z);
            if (t % period[k] != 0)
                ck_assert(v == v_prev); /* frozen at v_reset */
            v_prev = v;
        }
        norn_cell_state_destroy(s);
        norn_cell_destroy(c);
    }
}
END_TEST

/* Norse quirk: LIFAdExRefrac adds adaptation_spike to a whenever the inner
 * LIFAdEx step would spike, also while refractory (z masked to 0). */
START_TEST(test_adex_refrac_quirk)
{
    norn_cell *c = NULL;
    norn_err err;
    ck_assert_int_eq(norn_cell_create("lif_adex_refrac", 1, NULL, NULL, 0, 0.001, &c, &err), NORN_OK);
    norn_cell_state *s = NULL;
    float in = 50.0f, z, a[6], v;
    for (int t = 0; t < 6; t++) {
        ck_assert_int_eq(norn_cell_step(c, &in, &s, &z, &err), NORN_OK);
        norn_cell_state_get(s, "a", &a[t], &err);
        norn_cell_state_get(s, "v", &v, &err);
        ck_assert(z == (t == 0 ? 1.0f : 0.0f));
        if (t > 0) {
            ck_assert(v == 0.0f); /* frozen at v_reset */
            /* a' = a + c (4 (v - v_leak) - a) + 0.02 with v = 0: grows */
            ck_assert_msg(a[t] > a[t - 1], "step %d: a %g -> %g: no kick while refractory", t, (double)a[t - 1],
                          (double)a[t]);
        }
    }
    norn_cell_state_destroy(s);
    norn_cell_destroy(c);
}
END_TEST

/* Norse's threshold is heaviside(x) = where(x <= 0, 0, 1): a NaN voltage
 * counts as a spike, and the reset (1 - z) v + z v_reset keeps the NaN. */
START_TEST(test_nan_spikes_as_norse)
{
    norn_cell *c = NULL;
    norn_err err;
    ck_assert_int_eq(norn_cell_create("lif", 1, NULL, NULL, 0, 0.001, &c, &err), NORN_OK);
    norn_cell_state *s = NULL;
    float in = NAN, z, v;
    ck_assert_int_eq(norn_cell_step(c, &in, &s, &z, &err), NORN_OK);
    norn_cell_state_get(s, "v", &v, &err);
    ck_assert(z == 1.0f && isnan(v));
    norn_cell_state_destroy(s);
    norn_cell_destroy(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("norse");
    TCase *tc = tcase_create("fixtures");
    tcase_add_loop_test(tc, test_fixture_cell, 0, N_FIXTURES);
    tcase_add_loop_test(tc, test_fixture_recurrent, 0, N_FIXTURES);
    tcase_add_test(tc, test_seed_lif_constant_current);
    tcase_add_test(tc, test_encoders_lif);
    tcase_set_timeout(tc, 600);
    suite_add_tcase(s, tc);

    tc = tcase_create("recurrent");
    tcase_add_loop_test(tc, test_recurrent_dense, 0, (int)(sizeof rec_models / sizeof rec_models[0]));
    tcase_add_test(tc, test_recurrent_latency);
    tcase_add_test(tc, test_coba_quirk);
    suite_add_tcase(s, tc);

    tc = tcase_create("quiet");
    tcase_add_loop_test(tc, test_quiet_sound, 0, (int)(sizeof quiet_models / sizeof quiet_models[0]));
    tcase_add_test(tc, test_quiet_never);
    tcase_set_timeout(tc, 600);
    suite_add_tcase(s, tc);

    tc = tcase_create("models");
    tcase_add_test(tc, test_registry);
    tcase_add_test(tc, test_initial_state);
    tcase_add_test(tc, test_izhikevich_presets);
    tcase_add_test(tc, test_li_output);
    tcase_add_test(tc, test_lif_box_reset_subtract);
    tcase_add_test(tc, test_refractory_period);
    tcase_add_test(tc, test_adex_refrac_quirk);
    tcase_add_test(tc, test_nan_spikes_as_norse);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_bad_params);
    tcase_add_test(tc, test_bad_use);
    tcase_add_test(tc, test_enomem);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(suite()); }
