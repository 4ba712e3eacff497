/* tests/test_euler.c - euler mode end to end against Norse itself.
 *
 * Every neuron case of ../shared/fixtures/norse (copied to tests/data/norse)
 * is written as a description in the README's shape (an input population
 * driven by a spike tensor, a projection with the fixture's W_in, the Norse
 * model with the fixture's parameters) and run by the norn binary. Spikes
 * must be identical at every step, every state variable bit-identical (or
 * within 1e-6 where exp/pow enter: lif_ex, lif_adex*), row t = after step
 * t. Each case runs twice: recording every state (every neuron stepped
 * every step) and recording spikes only (neurons stepped only when input
 * reaches them or their trajectory may still cross: the lazy path must
 * give the same spikes). Also: the seed example (constant currents 0.0,
 * 0.1, 0.3 through a current tensor), touches of a neuron left alone, and
 * bad euler-mode descriptions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/sim.h"
#include "io/npy.h"
#include "models/euler.h"
#include "testutil.h"

typedef struct {
    const char *dir;    /* fixture folder */
    const char *model;  /* norn (Norse) model name */
    const char *params; /* YAML flow mapping body */
    const char *vars;   /* state variables with fixture files, comma-separated */
    int inexact;        /* exp/pow involved: compare within 1e-6 */
    int spiking;
} euler_case;

static const euler_case cases[] = {
    {"lif_ff_small", "lif", "tau_syn_inv: 200, tau_mem_inv: 100, v_leak: 0, v_th: 1, v_reset: 0, method: super, alpha: 100",
     "v,i", 0, 1},
    {"lif_box_ff_small", "lif_box", "tau_mem_inv: 100, v_leak: 0, v_th: 1, v_reset: 0, reset_method: reset_value", "v",
     0, 1},
    {"lif_refrac_ff_small", "lif_refrac",
     "tau_syn_inv: 200, tau_mem_inv: 100, v_leak: 0, v_th: 1, v_reset: 0, rho_reset: 5", "v,i,rho", 0, 1},
    {"lif_ex_ff_small", "lif_ex", "delta_T: 0.5, tau_syn_inv: 200, tau_mem_inv: 100, v_leak: 0, v_th: 1, v_reset: 0",
     "v,i", 1, 1},
    {"lif_adex_ff_small", "lif_adex",
     "adaptation_current: 4, adaptation_spike: 0.019999999552965164, delta_T: 0.5, tau_ada_inv: 2, "
     "tau_syn_inv: 200, tau_mem_inv: 100, v_leak: 0, v_th: 1, v_reset: 0",
     "v,i,a", 1, 1},
    {"lif_adex_refrac_ff_small", "lif_adex_refrac",
     "adaptation_current: 4, adaptation_spike: 0.019999999552965164, delta_T: 0.5, tau_ada_inv: 2, "
     "tau_syn_inv: 200, tau_mem_inv: 100, v_leak: 0, v_th: 1, v_reset: 0, rho_reset: 5",
     "v,i,a,rho", 1, 1},
    {"li_ff_small", "li", "tau_syn_inv: 200, tau_mem_inv: 100, v_leak: 0", "v,i", 0, 0},
    {"lsnn_ff_small", "lsnn",
     "tau_syn_inv: 200, tau_mem_inv: 100, tau_adapt_inv: 10, v_leak: 0, v_th: 1, v_reset: 0, beta: 0.5", "v,i,b", 0,
     1},
    {"iaf_ff_small", "iaf", "v_th: 1, v_reset: 0", "v", 0, 1},
    {"izhikevich_ff_small", "izhikevich",
     "a: 0.02, b: 0.2, c: -65, d: 6, sq: 0.04, mn: 5, bias: 140, v_th: 30, tau_inv: 250", "v,u", 0, 1},
    {"coba_lif_ff_small", "coba_lif",
     "tau_syn_exc_inv: 0.20000000298023224, tau_syn_inh_inv: 0.20000000298023224, c_m_inv: 5, g_l: 0.25, "
     "e_rev_I: -100, e_rev_E: 60, v_rest: -20, v_reset: -70, v_thresh: -10",
     "v,g_e,g_i", 0, 1},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static norn_npy_array load(const char *dir, const char *file)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/data/norse/%s/%s", tu_src(), dir, file);
    norn_npy_array a;
    norn_err e;
    ck_assert_msg(norn_npy_read(path, &a, &e) == NORN_OK, "%s: %s", e.where, e.msg);
    return a;
}

/* Writes the case's description into dir and runs it. */
static void run_case(const euler_case *c, const char *dir, int record_state, uint64_t *T_out, uint64_t *n_in_out,
                     uint64_t *n_out)
{
    norn_npy_array w = load(c->dir, "w_in.npy"), x = load(c->dir, "input_spikes.npy");
    uint64_t n = w.shape[0], n_in = w.shape[1], T = x.shape[0];
    norn_npy_array_free(&w);
    norn_npy_array_free(&x);
    char yaml[4096], state[512] = "";
    if (record_state) {
        char list[128];
        snprintf(list, sizeof list, "%s", c->vars);
        snprintf(state, sizeof state, ", state: {population: p, variables: [%s], neurons: all}", list);
    }
    snprintf(yaml, sizeof yaml,
             "simulation: {duration: %llu, resolution: 1.0, mode: euler}\n"
             "populations:\n"
             "  x: {model: input, size: %llu}\n"
             "  p: {model: %s, size: %llu, params: {%s}}\n"
             "stimuli:\n"
             "  - {type: spike_tensor, file: %s/tests/data/norse/%s/input_spikes.npy, to: x}\n"
             "projections:\n"
             "  - {from: x, to: p, weight: {file: %s/tests/data/norse/%s/w_in.npy}}\n"
             "record: {spikes: [p]%s}\n",
             (unsigned long long)T, (unsigned long long)n_in, c->model, (unsigned long long)n, c->params, tu_src(),
             c->dir, tu_src(), c->dir, state);
    char *path = tu_write(dir, "net.yaml", yaml);
    char args[8192], *err;
    snprintf(args, sizeof args, "run %s -o %s/out --quiet", path, dir);
    int rc = tu_norn(args, NULL, &err);
    ck_assert_msg(rc == 0, "%s: norn failed (%d): %s\n%s", c->dir, rc, err, yaml);
    free(err);
    free(path);
    *T_out = T;
    *n_in_out = n_in;
    *n_out = n;
}

static void check_spikes(const euler_case *c, const char *dir, uint64_t T, uint64_t n_in, uint64_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/out/spikes.npy", dir);
    double *t;
    uint32_t *g;
    uint64_t ns;
    norn_err e;
    ck_assert_int_eq(norn_npy_read_spikes(path, &t, &g, &ns, &e), NORN_OK);
    uint64_t k = 0;
    if (c->spiking) {
        norn_npy_array z = load(c->dir, "spikes.npy");
        ck_assert_uint_eq(z.shape[0], T);
        for (uint64_t s = 0; s < T; s++)
            for (uint64_t j = 0; j < n; j++) {
                if (z.data[s * n + j] == 0)
                    continue;
                ck_assert_msg(k < ns, "%s: norn has %llu spikes, Norse more", c->dir, (unsigned long long)ns);
                ck_assert_msg(t[k] == (double)(s + 1) && g[k] == n_in + j,
                              "%s: spike %llu is (%g ms, %u); Norse: step %llu neuron %llu", c->dir,
                              (unsigned long long)k, t[k], g[k], (unsigned long long)s, (unsigned long long)j);
                k++;
            }
        norn_npy_array_free(&z);
    }
    ck_assert_msg(k == ns, "%s: norn has %llu spikes, Norse %llu", c->dir, (unsigned long long)ns,
                  (unsigned long long)k);
    norn_free(t);
    norn_free(g);
}

static void check_states(const euler_case *c, const char *dir, uint64_t T, uint64_t n)
{
    char vars[128];
    snprintf(vars, sizeof vars, "%s", c->vars);
    for (char *v = strtok(vars, ","); v; v = strtok(NULL, ",")) {
        char file[64], path[4200];
        snprintf(file, sizeof file, "%s.npy", v);
        norn_npy_array want = load(c->dir, file);
        snprintf(path, sizeof path, "%s/out/state_p_%s.npy", dir, v);
        norn_npy_array got;
        norn_err e;
        ck_assert_msg(norn_npy_read(path, &got, &e) == NORN_OK, "%s: %s", e.where, e.msg);
        ck_assert_uint_eq(got.shape[0], T);
        ck_assert_uint_eq(got.shape[1], n);
        double worst = 0;
        for (uint64_t k = 0; k < T * n; k++) {
            float a = (float)got.data[k], b = (float)want.data[k];
            double d = fabs((double)a - (double)b);
            if (d > worst)
                worst = d;
            if (c->inexact)
                ck_assert_msg(d <= 1e-6 * fmax(1.0, fabs(b)), "%s.%s step %llu neuron %llu: %.9g vs Norse %.9g",
                              c->dir, v, (unsigned long long)(k / n), (unsigned long long)(k % n), a, b);
            else
                ck_assert_msg(memcmp(&a, &b, sizeof a) == 0 || (a == 0 && b == 0),
                              "%s.%s step %llu neuron %llu: %.9g vs Norse %.9g (not bit-identical)", c->dir, v,
                              (unsigned long long)(k / n), (unsigned long long)(k % n), a, b);
        }
        printf("%s.%s: %llu values, worst |diff| %.3g\n", c->dir, v, (unsigned long long)(T * n), worst);
        norn_npy_array_free(&want);
        norn_npy_array_free(&got);
    }
}

START_TEST(test_fixture_states)
{
    const euler_case *c = &cases[_i];
    char *dir = tu_tmpdir();
    uint64_t T, n_in, n;
    run_case(c, dir, 1, &T, &n_in, &n);
    check_spikes(c, dir, T, n_in, n);
    check_states(c, dir, T, n);
}
END_TEST

START_TEST(test_fixture_lazy)
{
    const euler_case *c = &cases[_i];
    if (!c->spiking)
        return;
    char *dir = tu_tmpdir();
    uint64_t T, n_in, n;
    run_case(c, dir, 0, &T, &n_in, &n);
    check_spikes(c, dir, T, n_in, n);
}
END_TEST

/* The seed figure: a LIF cell fed 0.0, 0.1 and 0.3 for 100 steps, through
 * examples/lif_constant_current.yaml. */
START_TEST(test_seed_example)
{
    char *dir = tu_tmpdir();
    char args[8192], *err;
    snprintf(args, sizeof args, "run %s/examples/lif_constant_current.yaml -o %s/out --quiet", tu_src(), dir);
    int rc = tu_norn(args, NULL, &err);
    ck_assert_msg(rc == 0, "norn failed: %s", err);
    free(err);
    const euler_case c = {"seed_lif_constant_current", "lif", "", "v,i", 0, 1};
    check_states(&c, dir, 100, 3);
    char path[4200];
    snprintf(path, sizeof path, "%s/out/spikes.npy", dir);
    double *t;
    uint32_t *g;
    uint64_t ns;
    norn_err e;
    ck_assert_int_eq(norn_npy_read_spikes(path, &t, &g, &ns, &e), NORN_OK);
    /* only the 0.3 neuron: first at step 15, then every 11 steps */
    ck_assert_uint_eq(ns, 8);
    for (uint64_t k = 0; k < ns; k++) {
        ck_assert_uint_eq(g[k], 2);
        ck_assert_double_eq(t[k], 16.0 + 11.0 * k);
    }
    norn_free(t);
    norn_free(g);
}
END_TEST

/* A neuron that receives input only at step 5 is not stepped again once
 * its trajectory can no longer reach threshold. */
START_TEST(test_quiet_neurons_cost_nothing)
{
    norn_sim_config cfg = {.resolution_ms = 1.0, .mode = NORN_MODE_EULER, .seed = 1};
    norn_sim *s;
    norn_err err;
    ck_assert_int_eq(norn_sim_create(&cfg, &s, &err), NORN_OK);
    const norn_euler_type *lif = norn_euler_find("lif");
    ck_assert_ptr_nonnull(lif);
    double p[NORN_MAX_PARAMS];
    for (int k = 0; k < lif->n_params; k++)
        p[k] = lif->params[k].def;
    uint32_t pop;
    ck_assert_int_eq(norn_sim_add_euler_population(s, "p", lif, 100, p, "t", &pop, &err), NORN_OK);
    double *cur = calloc(1000 * 100, sizeof(double));
    cur[5 * 100 + 7] = 0.5; /* neuron 7 at step 5, subthreshold */
    cur[5 * 100 + 9] = 9.0; /* neuron 9 at step 5: spikes twice (steps 6 and 9), then decays */
    ck_assert_int_eq(norn_sim_add_current_tensor(s, pop, 1000, cur, &err), NORN_OK);
    ck_assert_int_eq(norn_sim_run(s, 1000, NULL, NULL, &err), NORN_OK);
    norn_sim_stats st;
    norn_sim_get_stats(s, &st);
    printf("neuron updates over 1000 steps of 100 neurons: %llu\n", (unsigned long long)st.neuron_updates);
    ck_assert_uint_gt(st.neuron_updates, 1);
    ck_assert_uint_lt(st.neuron_updates, 60);
    const double *t;
    const uint32_t *g;
    ck_assert_uint_eq(norn_sim_spikes(s, &t, &g), 2);
    ck_assert_uint_eq(g[0], 9);
    ck_assert_uint_eq(g[1], 9);
    ck_assert_double_eq(t[0], 7.0);
    ck_assert_double_eq(t[1], 10.0);
    free(cur);
    norn_sim_destroy(s);
}
END_TEST

/* Norse's Tsodyks-Markram (stp_step) fixture: u and x of 6 presynaptic
 * trains at every one of 1000 steps, and the released fraction, which
 * reaches a leak-free iaf neuron as its input (one_to_one, weight 1). */
START_TEST(test_tsodyks_markram_fixture)
{
    char *dir = tu_tmpdir();
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "simulation: {duration: 1000, resolution: 1.0, mode: euler}\n"
             "populations:\n"
             "  pre: {model: input, size: 6}\n"
             "  post: {model: iaf, size: 6, params: {v_th: 1.0e30}}\n"
             "stimuli:\n"
             "  - {type: spike_tensor, file: %s/tests/data/norse/tsodyks_makram_depressing/input_spikes.npy, to: pre}\n"
             "projections:\n"
             "  - name: stp\n"
             "    from: pre\n"
             "    to: post\n"
             "    connect: {rule: one_to_one}\n"
             "    weight: 1.0\n"
             "    plasticity: {rule: tsodyks_markram, U: 0.45, tau_f_inv: 20, tau_d_inv: 1.3333333333333333, "
             "tau_s_inv: 50}\n"
             "record:\n"
             "  spikes: [pre]\n"
             "  state: {population: post, variables: [v], neurons: all}\n"
             "  plasticity: {projection: stp, variables: [u, x]}\n",
             tu_src());
    char *path = tu_write(dir, "net.yaml", yaml);
    char args[8192], *err;
    snprintf(args, sizeof args, "run %s -o %s/out --quiet", path, dir);
    int rc = tu_norn(args, NULL, &err);
    ck_assert_msg(rc == 0, "norn failed: %s", err);
    free(err);
    const char *vars[] = {"u", "x"};
    for (int k = 0; k < 2; k++) {
        char file[64], p2[4200];
        snprintf(file, sizeof file, "%s.npy", vars[k]);
        norn_npy_array want = load("tsodyks_makram_depressing", file), got;
        snprintf(p2, sizeof p2, "%s/out/plasticity_stp_%s.npy", dir, vars[k]);
        norn_err e;
        ck_assert_msg(norn_npy_read(p2, &got, &e) == NORN_OK, "%s: %s", e.where, e.msg);
        ck_assert_uint_eq(got.count, want.count);
        for (uint64_t q = 0; q < got.count; q++) {
            float a = (float)got.data[q], b = (float)want.data[q];
            ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "%s step %llu pre %llu: %.9g vs Norse %.9g (not bit-identical)",
                          vars[k], (unsigned long long)(q / 6), (unsigned long long)(q % 6), a, b);
        }
        norn_npy_array_free(&want);
        norn_npy_array_free(&got);
    }
    /* the release reaches the iaf neurons: v[t] - v[t-1] = output[t] */
    norn_npy_array out = load("tsodyks_makram_depressing", "output.npy"), v;
    char p3[4200];
    snprintf(p3, sizeof p3, "%s/out/state_post_v.npy", dir);
    norn_err e;
    ck_assert_int_eq(norn_npy_read(p3, &v, &e), NORN_OK);
    int released = 0;
    for (uint64_t q = 0; q < v.count; q++) {
        double prev = q >= 6 ? v.data[q - 6] : 0.0;
        ck_assert_msg(fabs((v.data[q] - prev) - out.data[q]) <= 1e-6, "release at step %llu pre %llu: %g vs %g",
                      (unsigned long long)(q / 6), (unsigned long long)(q % 6), v.data[q] - prev, out.data[q]);
        released += out.data[q] > 0;
    }
    ck_assert_int_gt(released, 10);
    norn_npy_array_free(&out);
    norn_npy_array_free(&v);
}
END_TEST

typedef struct {
    const char *name, *yaml, *what;
} bad_case;

static const bad_case bad[] = {
    {"unknown_norse_model", "simulation: {duration: 10, mode: euler}\npopulations:\n  p: {model: lfi, size: 2}\n",
     "unknown model 'lfi' in euler mode"},
    {"nest_model_in_euler", "simulation: {duration: 10, mode: euler}\npopulations:\n  p: {model: iaf_delta, size: 2}\n",
     "unknown model 'iaf_delta' in euler mode"},
    {"norse_model_in_grid", "simulation: {duration: 10, mode: grid}\npopulations:\n  p: {model: lsnn, size: 2}\n",
     "needs simulation.mode: euler"},
    {"poisson_in_euler",
     "simulation: {duration: 10, mode: euler}\npopulations:\n  p: {model: lif, size: 2}\n"
     "stimuli:\n  - {type: poisson, rate: 10, to: p}\n",
     "not available in euler mode"},
    {"tensor_to_model",
     "simulation: {duration: 10, mode: euler}\npopulations:\n  p: {model: lif, size: 2}\n"
     "stimuli:\n  - {type: spike_tensor, file: net.yaml, to: p}\n",
     "input populations"},
    {"bad_norse_param", "simulation: {duration: 10, mode: euler}\npopulations:\n  p: {model: lif, size: 2, params: {tau_mem_inv: -1}}\n",
     "tau_mem_inv"},
    {"unknown_norse_param", "simulation: {duration: 10, mode: euler}\npopulations:\n  p: {model: lif, size: 2, params: {tau_m: 10}}\n",
     "unknown parameter"},
};

START_TEST(test_bad_euler_input)
{
    const bad_case *c = &bad[_i];
    char *dir = tu_tmpdir();
    char *path = tu_write(dir, "net.yaml", c->yaml);
    char args[4096], *err;
    snprintf(args, sizeof args, "run %s -o %s/out", path, dir);
    int rc = tu_norn(args, NULL, &err);
    ck_assert_msg(rc == 2, "%s: exit %d: %s", c->name, rc, err);
    ck_assert_msg(strstr(err, c->what) != NULL, "%s: expected '%s' in: %s", c->name, c->what, err);
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "norn: %s:", path);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "%s: no position: %s", c->name, err);
    free(err);
    free(path);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("euler");
    TCase *tc = tcase_create("norse_fixtures");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_fixture_states, 0, N_CASES);
    tcase_add_loop_test(tc, test_fixture_lazy, 0, N_CASES);
    tcase_add_test(tc, test_seed_example);
    tcase_add_test(tc, test_tsodyks_markram_fixture);
    suite_add_tcase(s, tc);
    tc = tcase_create("engine");
    tcase_add_test(tc, test_quiet_neurons_cost_nothing);
    tcase_add_loop_test(tc, test_bad_euler_input, 0, (int)(sizeof bad / sizeof bad[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(suite()); }
