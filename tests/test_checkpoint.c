/* tests/test_checkpoint.c - checkpoints and interruption (issue 8), end to
 * end through the norn binary:
 *  - segments (the library, in memory): a run cut at any window, saved,
 *    loaded into a rebuilt simulation and finished, equals one run;
 *  - resume: for a small plastic network in each mode (continuous and grid:
 *    NEST STDP, Poisson drive, short-term plasticity, state, weight and
 *    plasticity recorders; euler: Norse STDP, Norse STP, a spike tensor),
 *    a run that checkpoints, and a resume from its last checkpoint, write
 *    every output file byte for byte as the uninterrupted run;
 *  - interrupt: `norn run` as a child process gets SIGINT (SIGTERM) once it
 *    has written a checkpoint: exit 130 (143), the message says how to
 *    resume, the outputs so far are valid and consistent (run.json
 *    "interrupted", spikes up to the time reached, state samples up to it),
 *    and resuming gives the uninterrupted run's files;
 *  - bad checkpoints: truncated, wrong magic, another format version, a
 *    flipped byte, a changed data file, a description that builds another
 *    network: refused (exit 2) with a message naming the file and what is
 *    wrong.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/ckpt.h"
#include "engine/mem.h"
#include "io/build.h"
#include "io/desc.h"
#include "io/npy.h"
#include "testutil.h"

extern char **environ;

/* Every output file of a run (not run.json, which holds timings, nor the
 * checkpoint) is the same in dirs a and b; returns how many were compared. */
static int same_outputs(const char *a, const char *b)
{
    char cmd[1024];
    char *list = NULL;
    snprintf(cmd, sizeof cmd, "cd %s && ls *.npy *.csv", a);
    ck_assert_int_eq(tu_run(cmd, &list, NULL), 0);
    int n = 0;
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        char pa[1024], pb[1024];
        snprintf(pa, sizeof pa, "%s/%s", a, line);
        snprintf(pb, sizeof pb, "%s/%s", b, line);
        ck_assert_msg(tu_same_file(pa, pb), "%s differs from %s", pb, pa);
        n++;
    }
    free(list);
    return n;
}

/* The checkpoint ckpt copied into dir/res and resumed there (its outputs
 * go to dir/res). */
static void resume_in_res(const char *dir, const char *ckpt)
{
    char cmd[4096], *err = NULL;
    snprintf(cmd, sizeof cmd, "mkdir %s/res && cp %s %s/res/", dir, ckpt, dir);
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 0);
    snprintf(cmd, sizeof cmd, "resume %s/res/checkpoint.nrc -q", dir);
    ck_assert_int_eq(tu_norn(cmd, NULL, &err), 0);
    free(err);
}

/* continuous / grid: NEST STDP (ee), Tsodyks-Markram (ei), Poisson drive,
 * heterogeneous delays, two models, all recorders; q: iaf_delta with only
 * static input and one drive (continuous: its neurons in the short form
 * within windows, inputs added ahead of arrivals; grid: stepped lean); d:
 * lif driven by I_e alone (continuous: left out of the window-end sweeps
 * while it cannot reach threshold). Windows of 15 steps, so
 * cuts fall after odd and even numbers of steps (grid: exc is stepped lean,
 * its Poisson numbers come in pairs, the second kept from the first). */
static const char *nest_desc = "simulation: {duration: %d, resolution: 0.1, mode: %s, seed: 7, name: ck}\n"
                               "populations:\n"
                               "  exc: {model: iaf_delta, size: 300, params: {tau_m: 20, E_L: 0, V_th: 20, V_reset: 10,"
                               " t_ref: 2, C_m: 250}, initial: {V_m: {dist: uniform, low: 0, high: 20}}}\n"
                               "  inh: {model: lif, size: 80, params: {tau_m: 20, E_L: 0, V_th: 20, V_reset: 10, t_ref: 2}}\n"
                               "  q: {model: iaf_delta, size: 100, params: {tau_m: 20, E_L: 0, V_th: 20, V_reset: 10,"
                               " t_ref: 2, C_m: 250}, initial: {V_m: {dist: uniform, low: 0, high: 20}}}\n"
                               "  d: {model: lif, size: 60, params: {tau_m: 20, E_L: 0, V_th: 20, V_reset: 10, t_ref: 2,"
                               " I_e: 1100}, initial: {V_m: {dist: uniform, low: 0, high: 20}}}\n"
                               "stimuli:\n"
                               "  - {type: poisson, rate: 20000, to: [exc, q], weight: 0.1}\n"
                               "  - {type: poisson, rate: 50000, to: [inh], weight: 20}\n"
                               "projections:\n"
                               "  - {name: ee, from: exc, to: exc, connect: {rule: fixed_indegree, indegree: 40}, weight: 0.1,"
                               " delay: 1.5, plasticity: {rule: stdp, tau_plus: 20, tau_minus: 20, lambda: 0.01, alpha: 1.05,"
                               " mu_plus: 0, mu_minus: 0, Wmax: 0.3}}\n"
                               "  - {name: ei, from: exc, to: inh, connect: {rule: fixed_indegree, indegree: 40}, weight: 10,"
                               " delay: {dist: uniform, low: 1.5, high: 3}, plasticity: {rule: tsodyks2, U: 0.5, tau_rec: 800,"
                               " tau_fac: 10}}\n"
                               "  - {name: ie, from: inh, to: [exc, inh], connect: {rule: fixed_indegree, indegree: 10},"
                               " weight: -0.5, delay: 1.5}\n"
                               "  - {name: eq, from: exc, to: q, connect: {rule: fixed_indegree, indegree: 40}, weight: 0.12,"
                               " delay: {dist: uniform, low: 1.5, high: 2.5}}\n"
                               "  - {name: qi, from: q, to: inh, connect: {rule: fixed_indegree, indegree: 10}, weight: 5,"
                               " delay: 2}\n"
                               "  - {name: ed, from: exc, to: d, connect: {rule: fixed_indegree, indegree: 20}, weight: 40,"
                               " delay: 1.5}\n"
                               "  - {name: dq, from: d, to: q, connect: {rule: fixed_indegree, indegree: 5}, weight: 0.2,"
                               " delay: 1.7}\n"
                               "record:\n"
                               "  spikes: all\n"
                               "  state: {population: inh, variables: all, neurons: [0, 1, 2], interval: 1}\n"
                               "  weights: {projection: ee, every: 50}\n"
                               "  plasticity: {projection: ei, variables: [u, x], every: 5}\n";

/* euler: Norse STDP (xp), Norse STP (pq), a recurrent inhibitory loop. */
static const char *euler_desc =
    "simulation: {duration: %d, resolution: 1, mode: euler, name: ck}\n"
    "populations:\n"
    "  x: {model: input, size: 64}\n"
    "  p: {model: lif, size: 32, params: {tau_syn_inv: 200, tau_mem_inv: 100, v_leak: 0, v_th: 0.3, v_reset: 0}}\n"
    "  q: {model: lif, size: 16, params: {tau_syn_inv: 200, tau_mem_inv: 100, v_leak: 0, v_th: 0.3, v_reset: 0}}\n"
    "stimuli:\n"
    "  - {type: spike_tensor, file: x.npy, to: x}\n"
    "projections:\n"
    "  - {name: xp, from: x, to: p, connect: {rule: fixed_probability, p: 0.5}, weight: {dist: uniform, low: 0,"
    " high: 0.5}, plasticity: {rule: stdp, stdp_algorithm: additive, w_min: 0, w_max: 1, eta_plus: 0.01,"
    " eta_minus: 0.01}}\n"
    "  - {name: pq, from: p, to: q, connect: {rule: fixed_probability, p: 0.5}, weight: 0.4,"
    " plasticity: {rule: tsodyks_markram, U: 0.45, tau_f_inv: 20, tau_d_inv: 1.3333}}\n"
    "  - {name: qp, from: q, to: p, connect: {rule: fixed_probability, p: 0.3}, weight: -0.2}\n"
    "  - {name: xq, from: x, to: q, connect: {rule: fixed_probability, p: 0.3}, weight: 0.15}\n"
    "record:\n"
    "  spikes: all\n"
    "  state: {population: q, variables: all, neurons: [0, 1]}\n"
    "  weights: {projection: xp, every: 20}\n"
    "  plasticity: {projection: pq, variables: [u, x], every: 5}\n";

static const char *mode_names[] = {"continuous", "grid", "euler"};

/* Writes the description of mode m lasting dur ms into a new directory;
 * returns the directory (static lifetime). */
static char *make_net(int m, int dur, uint32_t tensor_seed)
{
    char *dir = tu_tmpdir();
    char text[8192];
    if (m == 2) {
        /* a [dur, 64] spike tensor, 10% ones */
        double *x = malloc((size_t)dur * 64 * sizeof(double));
        uint32_t r = tensor_seed;
        for (int k = 0; k < dur * 64; k++) {
            r = r * 1664525u + 1013904223u;
            x[k] = (r >> 8) % 10 == 0 ? 1.0 : 0.0;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/x.npy", dir);
        uint64_t shape[2] = {(uint64_t)dur, 64};
        norn_err e;
        ck_assert_int_eq(norn_npy_write_f64(path, x, 2, shape, &e), NORN_OK);
        free(x);
        snprintf(text, sizeof text, euler_desc, dur);
    } else {
        snprintf(text, sizeof text, nest_desc, dur, mode_names[m]);
    }
    free(tu_write(dir, "net.yaml", text));
    return dir;
}

/* ------------------------------------------------------------------ resume */

START_TEST(resume_equals_uninterrupted)
{
    int m = _i;
    char *dir = make_net(m, 400, 3);
    char args[4096], *err = NULL;
    snprintf(args, sizeof args, "run %s/net.yaml -q -o %s/full", dir, dir);
    ck_assert_int_eq(tu_norn(args, NULL, NULL), 0);
    /* checkpoints at the window ends at or after 130, 260 and 390 ms */
    snprintf(args, sizeof args, "run %s/net.yaml -q -o %s/ck --checkpoint-every 130", dir, dir);
    ck_assert_int_eq(tu_norn(args, NULL, &err), 0);
    free(err);
    char ckpt[1024], cmd[4096];
    snprintf(ckpt, sizeof ckpt, "%s/ck/checkpoint.nrc", dir);
    ck_assert(tu_exists(ckpt));
    /* checkpointing changes nothing */
    snprintf(args, sizeof args, "%s/ck", dir);
    char full[1024];
    snprintf(full, sizeof full, "%s/full", dir);
    ck_assert_int_ge(same_outputs(full, args), m == 2 ? 9 : 10);
    /* the last checkpoint, resumed elsewhere */
    resume_in_res(dir, ckpt);
    snprintf(args, sizeof args, "%s/res", dir);
    ck_assert_int_ge(same_outputs(full, args), m == 2 ? 9 : 10);
    snprintf(cmd, sizeof cmd, "%s/res/run.json", dir);
    char *js = tu_read(cmd, NULL);
    ck_assert_ptr_nonnull(js);
    ck_assert_ptr_nonnull(strstr(js, "\"resumed_from\""));
    ck_assert_ptr_null(strstr(js, "\"interrupted\""));
    free(js);
}
END_TEST

/* Description y run whole, then with checkpoints every `every` ms and its
 * last checkpoint resumed elsewhere: at least n_min output files the same. */
static void resumed_equals_full(const char *y, int every, int n_min)
{
    char *dir = tu_tmpdir();
    free(tu_write(dir, "net.yaml", y));
    char args[4096], full[1024], ckpt[1024], *err = NULL;
    snprintf(args, sizeof args, "run %s/net.yaml -q -o %s/full", dir, dir);
    ck_assert_int_eq(tu_norn(args, NULL, NULL), 0);
    snprintf(args, sizeof args, "run %s/net.yaml -q -o %s/ck --checkpoint-every %d", dir, dir, every);
    ck_assert_int_eq(tu_norn(args, NULL, &err), 0);
    free(err);
    snprintf(ckpt, sizeof ckpt, "%s/ck/checkpoint.nrc", dir);
    ck_assert(tu_exists(ckpt));
    resume_in_res(dir, ckpt);
    snprintf(full, sizeof full, "%s/full", dir);
    snprintf(args, sizeof args, "%s/res", dir);
    ck_assert_int_ge(same_outputs(full, args), n_min);
}

/* NEST STDP from slow presynaptic parrots (4 Hz) into fast neurons
 * (~100 Hz): nearly every delivery pairs four or more postsynaptic spikes,
 * which the fast path tells from the newest three and the fourth newest's
 * time (not in the checkpoint: rebuilt from the histories on resume).
 * Resumed from a checkpoint, the weights and spikes are the uninterrupted
 * run's. */
START_TEST(resume_stdp_bursty)
{
    const char *y = "simulation: {duration: 400, resolution: 0.1, mode: grid, seed: 5, name: ckb}\n"
                    "populations:\n"
                    "  pre: {model: parrot, size: 40}\n"
                    "  post: {model: iaf_delta, size: 30, params: {tau_m: 20, E_L: 0, V_th: 20, V_reset: 10,"
                    " t_ref: 2, C_m: 250}, initial: {V_m: {dist: uniform, low: 0, high: 20}}}\n"
                    "stimuli:\n"
                    "  - {type: poisson, rate: 4, to: [pre], weight: 1}\n"
                    "  - {type: poisson, rate: 60000, to: [post], weight: 0.2}\n"
                    "projections:\n"
                    "  - {name: pp, from: pre, to: post, connect: {rule: all_to_all}, weight: 0.15, delay: 1.5,"
                    " plasticity: {rule: stdp, tau_plus: 20, tau_minus: 20, lambda: 0.01, alpha: 1.05,"
                    " mu_plus: 0, mu_minus: 0, Wmax: 0.3}}\n"
                    "record:\n"
                    "  spikes: all\n"
                    "  weights: {projection: pp, every: 20}\n";
    resumed_equals_full(y, 130, 3);
}
END_TEST

/* NEST STDP across a checkpoint with spikes in flight: 16 presynaptic
 * parrots spike at 100 ms and again at 247.0, 247.3, ... 251.5 ms, so that
 * some of these are in flight at the checkpoint (at or after 250 ms) and
 * pair, after the resume, with postsynaptic spikes from before it: parrot
 * j (of 9) spikes j + 1 times, 2 ms apart, the last at 244 ms. Every count
 * of pairing spikes from one to nine: the newest three, told by the fourth
 * newest's time (not in the checkpoint: rebuilt from the histories), and
 * the general code. The resumed run's weights, recorded every ms, are the
 * uninterrupted run's. */
START_TEST(resume_stdp_in_flight)
{
    char y[8192];
    int n = snprintf(y, sizeof y,
                     "simulation: {duration: 300, resolution: 0.1, mode: grid, name: ckf}\n"
                     "populations:\n  pre: {model: parrot, size: 16}\n  post: {model: parrot, size: 9}\n"
                     "stimuli:\n  - {type: spike_times, to: pre, weight: 1, times: [");
    for (int i = 0; i < 16; i++)
        n += snprintf(y + n, sizeof y - (size_t)n, "100, %.1f%s", 247.0 + 0.3 * i, i < 15 ? ", " : "");
    n += snprintf(y + n, sizeof y - (size_t)n, "], neurons: [");
    for (int i = 0; i < 16; i++)
        n += snprintf(y + n, sizeof y - (size_t)n, "%d, %d%s", i, i, i < 15 ? ", " : "");
    n += snprintf(y + n, sizeof y - (size_t)n, "]}\n  - {type: spike_times, to: post, weight: 1, times: [");
    for (int j = 0; j < 9; j++)
        for (int q = 0; q <= j; q++)
            n += snprintf(y + n, sizeof y - (size_t)n, "%s%d", j || q ? ", " : "", 244 - 2 * q);
    n += snprintf(y + n, sizeof y - (size_t)n, "], neurons: [");
    for (int j = 0; j < 9; j++)
        for (int q = 0; q <= j; q++)
            n += snprintf(y + n, sizeof y - (size_t)n, "%s%d", j || q ? ", " : "", j);
    snprintf(y + n, sizeof y - (size_t)n,
             "]}\nprojections:\n"
             "  - {name: pp, from: pre, to: post, connect: {rule: all_to_all}, weight: 0.15, delay: 1.5,"
             " plasticity: {rule: stdp, tau_plus: 20, tau_minus: 20, lambda: 0.05, alpha: 1.05,"
             " mu_plus: 0, mu_minus: 0, Wmax: 0.3}}\n"
             "record:\n  spikes: all\n  weights: {projection: pp, every: 1}\n");
    resumed_equals_full(y, 250, 2);
}
END_TEST

/* A checkpoint after every window (so also in the last window but one,
 * before the final weight snapshot and threshold check): checkpointing
 * that often changes nothing, and the last one resumes to the same files. */
START_TEST(resume_every_window)
{
    char *dir = make_net(1, 200, 3);
    char args[4096], a[1024], b[1024];
    snprintf(args, sizeof args, "run %s/net.yaml -q -o %s/full", dir, dir);
    ck_assert_int_eq(tu_norn(args, NULL, NULL), 0);
    snprintf(args, sizeof args, "run %s/net.yaml -q -o %s/ck --checkpoint-every 0.1", dir, dir);
    char *out = NULL;
    ck_assert_int_eq(tu_norn(args, &out, NULL), 0);
    free(out);
    snprintf(a, sizeof a, "%s/full", dir);
    snprintf(b, sizeof b, "%s/ck", dir);
    ck_assert_int_ge(same_outputs(a, b), 10);
    snprintf(args, sizeof args, "resume %s/ck/checkpoint.nrc -q -o %s/res", dir, dir);
    ck_assert_int_eq(tu_norn(args, NULL, NULL), 0);
    snprintf(b, sizeof b, "%s/res", dir);
    ck_assert_int_ge(same_outputs(a, b), 10);
}
END_TEST

/* ------------------------------------------------- the library, in memory */

static norn_sim *build(const char *desc, norn_desc **d_out)
{
    norn_desc *d = NULL;
    norn_err e;
    ck_assert_msg(norn_desc_load(desc, &d, &e) == NORN_OK, "%s: %s", e.where, e.msg);
    norn_sim *s = NULL;
    norn_build_info bi;
    ck_assert_msg(norn_build(d, &s, &bi, &e) == NORN_OK, "%s: %s", e.where, e.msg);
    ck_assert_int_eq(norn_sim_begin(s, d->duration_ms, &e), NORN_OK);
    *d_out = d;
    return s;
}

/* Cut anywhere, saved and loaded into a rebuilt simulation: the same
 * spikes, weight snapshots and state samples as one run, for cuts in the
 * first window, in the middle, and in the last window but one, in every
 * mode; and norn_sim_save changes nothing (saved twice, same bytes). */
START_TEST(cut_anywhere)
{
    int m = _i / 4, cut = _i % 4;
    static const double cuts[4] = {0.5, 55.3, 133, 398.9};
    char *dir = make_net(m, 400, 3);
    char desc[1024];
    snprintf(desc, sizeof desc, "%s/net.yaml", dir);
    norn_err e;
    norn_desc *d0, *d1, *d2;
    norn_sim *a = build(desc, &d0);
    ck_assert_int_eq(norn_sim_advance(a, INFINITY, NULL, NULL, &e), NORN_OK);
    ck_assert(norn_sim_done(a));
    norn_sim *b = build(desc, &d1);
    ck_assert_int_eq(norn_sim_advance(b, cuts[cut], NULL, NULL, &e), NORN_OK);
    ck_assert(!norn_sim_done(b));
    ck_assert(norn_sim_time(b) >= cuts[cut]);
    tu_membuf mb = {0}, mb2 = {0};
    norn_ckio io;
    norn_ckio_init(&io, 0, &mb, "mem", &e);
    io.write = tu_mem_write;
    ck_assert_msg(norn_sim_save(b, &io) == NORN_OK, "%s", e.msg);
    norn_ckio_init(&io, 0, &mb2, "mem", &e);
    io.write = tu_mem_write;
    ck_assert_msg(norn_sim_save(b, &io) == NORN_OK, "%s", e.msg);
    ck_assert(mb.n == mb2.n && memcmp(mb.b, mb2.b, mb.n) == 0);
    free(mb2.b);
    double t_cut = norn_sim_time(b);
    norn_sim_destroy(b);
    norn_sim *c = build(desc, &d2);
    norn_ckio_init(&io, 1, &mb, "mem", &e);
    io.read = tu_mem_read;
    ck_assert_msg(norn_sim_load(c, &io) == NORN_OK, "%s", e.msg);
    ck_assert_uint_eq(mb.pos, mb.n);
    ck_assert_double_eq(norn_sim_time(c), t_cut);
    ck_assert_int_eq(norn_sim_advance(c, INFINITY, NULL, NULL, &e), NORN_OK);
    ck_assert(norn_sim_done(c));
    const double *ta, *tc;
    const uint32_t *ga, *gc;
    uint64_t na = norn_sim_spikes(a, &ta, &ga), nc = norn_sim_spikes(c, &tc, &gc);
    ck_assert_uint_gt(na, 100);
    ck_assert_uint_eq(na, nc);
    ck_assert(memcmp(ta, tc, na * sizeof(double)) == 0 && memcmp(ga, gc, na * sizeof(uint32_t)) == 0);
    norn_weight_recording wa, wc;
    norn_sim_weight_recording(a, 0, &wa);
    norn_sim_weight_recording(c, 0, &wc);
    ck_assert_uint_eq(wa.n_snapshots, wc.n_snapshots);
    ck_assert(memcmp(wa.weights, wc.weights, wa.n_snapshots * wa.n_syn * sizeof(float)) == 0);
    norn_recording ra, rc;
    norn_sim_recording(a, 0, &ra);
    norn_sim_recording(c, 0, &rc);
    ck_assert_uint_eq(ra.n_samples, rc.n_samples);
    ck_assert(memcmp(ra.data, rc.data, ra.n_samples * (uint64_t)ra.n_vars * ra.n_neurons * sizeof(float)) == 0);
    norn_sim_stats sa, sc;
    norn_sim_get_stats(a, &sa);
    norn_sim_get_stats(c, &sc);
    ck_assert_uint_eq(sa.synaptic_events, sc.synaptic_events);
    ck_assert_uint_eq(sa.windows, sc.windows);
    free(mb.b);
    norn_sim_destroy(a);
    norn_sim_destroy(c);
    norn_desc_free(d0);
    norn_desc_free(d1);
    norn_desc_free(d2);
}
END_TEST

/* --------------------------------------------------------------- interrupt */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Starts norn with args (NULL-terminated after argv[1]), stderr to errpath. */
static pid_t spawn_norn(char *const *args, const char *errpath)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, tu_bin(), &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    ck_assert_int_eq(rc, 0);
    return pid;
}

static double json_num(const char *js, const char *key)
{
    char k[128];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(js, k);
    ck_assert_msg(p != NULL, "run.json has no %s", key);
    p += strlen(k);
    while (*p == ' ')
        p++;
    return atof(p);
}

START_TEST(interrupt_and_resume)
{
    int sig = _i == 0 ? SIGINT : SIGTERM;
    char *dir = make_net(1, 3000, 3);
    char desc[1024], out[900], ref[1024], errpath[1024], ckpt[1024], path[2048];
    snprintf(desc, sizeof desc, "%s/net.yaml", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    snprintf(ref, sizeof ref, "%s/ref", dir);
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", dir);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.nrc", out);
    char *args[] = {"norn", "run", desc, "-o", out, "--checkpoint-every", "100", NULL};
    pid_t pid = spawn_norn(args, errpath);
    /* wait for progress: the first checkpoint */
    double t0 = now_s();
    while (!tu_exists(ckpt) && now_s() - t0 < 60) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(tu_exists(ckpt), "no checkpoint within 60 s");
    ck_assert_int_eq(kill(pid, sig), 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 128 + sig);
    char *msg = tu_read(errpath, NULL);
    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(strstr(msg, "interrupted at t = ") != NULL, "%s", msg);
    char expect[1200];
    snprintf(expect, sizeof expect, "resume with: norn resume %s", ckpt);
    ck_assert_msg(strstr(msg, expect) != NULL, "%s", msg);
    free(msg);
    /* the outputs so far: valid and consistent with the time reached */
    snprintf(path, sizeof path, "%s/run.json", out);
    char *js = tu_read(path, NULL);
    ck_assert_ptr_nonnull(js);
    ck_assert_ptr_nonnull(strstr(js, "\"interrupted\": true"));
    double t_reached = json_num(js, "time_reached_ms");
    ck_assert(t_reached >= 100 && t_reached < 3000);
    ck_assert_double_eq(json_num(js, "duration_ms"), 3000);
    double spikes = json_num(js, "spikes");
    free(js);
    double *t;
    uint32_t *g;
    uint64_t n;
    norn_err e;
    snprintf(path, sizeof path, "%s/spikes.npy", out);
    ck_assert_int_eq(norn_npy_read_spikes(path, &t, &g, &n, &e), NORN_OK);
    ck_assert_uint_gt(n, 0);
    ck_assert_double_eq((double)n, spikes);
    for (uint64_t k = 0; k < n; k++) {
        ck_assert(t[k] > 0 && t[k] <= t_reached);
        ck_assert(k == 0 || t[k] >= t[k - 1]);
    }
    norn_free(t);
    norn_free(g);
    norn_npy_array a;
    snprintf(path, sizeof path, "%s/state_inh_V_m.npy", out);
    ck_assert_int_eq(norn_npy_read(path, &a, &e), NORN_OK);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_uint_eq(a.shape[1], 3);
    /* one sample per ms up to t_reached (one at t_reached itself is taken
     * in the next window) */
    uint64_t ns = (uint64_t)(t_reached + 1e-9);
    ck_assert(a.shape[0] == ns || a.shape[0] + 1 == ns);
    norn_npy_array_free(&a);
    snprintf(path, sizeof path, "%s/state_times.npy", out);
    ck_assert_int_eq(norn_npy_read(path, &a, &e), NORN_OK);
    ck_assert(a.shape[0] == ns || a.shape[0] + 1 == ns);
    ck_assert(a.count == 0 || a.data[a.count - 1] <= t_reached);
    norn_npy_array_free(&a);
    /* resume, and the uninterrupted run */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "resume %s -q", ckpt);
    ck_assert_int_eq(tu_norn(cmd, NULL, NULL), 0);
    snprintf(path, sizeof path, "%s/run.json", out);
    js = tu_read(path, NULL);
    ck_assert_ptr_null(strstr(js, "\"interrupted\""));
    free(js);
    snprintf(cmd, sizeof cmd, "run %s -q -o %s", desc, ref);
    ck_assert_int_eq(tu_norn(cmd, NULL, NULL), 0);
    ck_assert_int_ge(same_outputs(ref, out), 10);
}
END_TEST

/* --------------------------------------------------------- bad checkpoints */

/* The checkpoint of a 100 ms grid run, written at 50 ms. */
static char *good_checkpoint(char **dir_out, int m)
{
    char *dir = make_net(m, 100, 3);
    char args[4096];
    snprintf(args, sizeof args, "run %s/net.yaml -q -o %s/ck -t 100 --checkpoint-every 50", dir, dir);
    ck_assert_int_eq(tu_norn(args, NULL, NULL), 0);
    char *p = malloc(1024);
    snprintf(p, 1024, "%s/ck/checkpoint.nrc", dir);
    *dir_out = dir;
    return p;
}

static void write_bytes(const char *path, const char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* resume of path: exit 2 and stderr containing each of the needles */
static void refused(const char *path, const char *needle1, const char *needle2)
{
    char args[2048], *err = NULL;
    snprintf(args, sizeof args, "resume %s -q -o %s.out", path, path);
    int rc = tu_norn(args, NULL, &err);
    ck_assert_msg(rc == 2, "exit %d: %s", rc, err);
    ck_assert_msg(strstr(err, path) != NULL, "no file name in: %s", err);
    ck_assert_msg(strstr(err, needle1) != NULL, "no '%s' in: %s", needle1, err);
    if (needle2)
        ck_assert_msg(strstr(err, needle2) != NULL, "no '%s' in: %s", needle2, err);
    free(err);
    char out[2100];
    snprintf(out, sizeof out, "%s.out/run.json", path);
    ck_assert(!tu_exists(out));
}

START_TEST(bad_checkpoints)
{
    char *dir;
    char *ck = good_checkpoint(&dir, 1);
    size_t n;
    char *b = tu_read(ck, &n);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_gt(n, 1000);
    char path[1024];
    /* truncated: inside a section, and inside a section header */
    snprintf(path, sizeof path, "%s/trunc.nrc", dir);
    write_bytes(path, b, n / 2);
    refused(path, "truncated", "section '");
    write_bytes(path, b, 18);
    refused(path, "truncated", "section 'META'");
    /* not a checkpoint */
    snprintf(path, sizeof path, "%s/magic.nrc", dir);
    b[0] ^= 1;
    write_bytes(path, b, n);
    b[0] ^= 1;
    refused(path, "not a norn checkpoint", NULL);
    /* another format version */
    snprintf(path, sizeof path, "%s/version.nrc", dir);
    b[8] += 1;
    write_bytes(path, b, n);
    b[8] -= 1;
    refused(path, "format version 2", NULL);
    /* a flipped byte near the end (in the recorders' section) */
    snprintf(path, sizeof path, "%s/flip.nrc", dir);
    b[n - 100] ^= 0x10;
    write_bytes(path, b, n);
    b[n - 100] ^= 0x10;
    refused(path, "checksum mismatch", "section '");
    /* trailing garbage */
    snprintf(path, sizeof path, "%s/extra.nrc", dir);
    char *b2 = malloc(n + 1);
    memcpy(b2, b, n);
    b2[n] = 'x';
    write_bytes(path, b2, n + 1);
    free(b2);
    refused(path, "after the last section", NULL);
    /* the description in META says another network (same length, the
     * section's hash recomputed): the rebuilt network does not match */
    snprintf(path, sizeof path, "%s/desc.nrc", dir);
    uint64_t len;
    memcpy(&len, b + 16 + 4, 8);
    char *meta = b + 16 + 12;
    char *at = memmem(meta, len, "indegree: 40}, weight: 0.1", 26);
    ck_assert_ptr_nonnull(at);
    at[11] = '1'; /* indegree 41 */
    norn_hash h;
    norn_hash_init(&h);
    norn_hash_update(&h, meta, len);
    uint64_t hv = norn_hash_final(&h);
    memcpy(meta + len, &hv, 8);
    write_bytes(path, b, n);
    refused(path, "does not match", "synapse table 0 (exc -> exc)");
    free(b);
    free(ck);
}
END_TEST

START_TEST(changed_data_file)
{
    char *dir;
    char *ck = good_checkpoint(&dir, 2);
    /* another spike tensor under the same name */
    char *dir2 = make_net(2, 100, 99);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp %s/x.npy %s/x.npy", dir2, dir);
    ck_assert_int_eq(tu_run(cmd, NULL, NULL), 0);
    refused(ck, "data file", "changed since the checkpoint");
    free(ck);
}
END_TEST

START_TEST(resume_usage)
{
    char *out = NULL, *err = NULL;
    ck_assert_int_eq(tu_norn("resume --help", &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "norn resume CHECKPOINT"));
    free(out);
    ck_assert_int_eq(tu_norn("run --help", &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "--checkpoint-every MS"));
    ck_assert_ptr_nonnull(strstr(out, "norn resume DIR/checkpoint.nrc"));
    free(out);
    ck_assert_int_eq(tu_norn("resume /nonexistent/checkpoint.nrc", NULL, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/checkpoint.nrc"));
    free(err);
    ck_assert_int_eq(tu_norn("run --checkpoint-every 0", NULL, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "--checkpoint-every"));
    free(err);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("resume");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, resume_equals_uninterrupted, 0, 3);
    tcase_add_test(tc, resume_every_window);
    tcase_add_test(tc, resume_stdp_bursty);
    tcase_add_test(tc, resume_stdp_in_flight);
    suite_add_tcase(s, tc);
    tc = tcase_create("segments");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, cut_anywhere, 0, 12);
    suite_add_tcase(s, tc);
    tc = tcase_create("interrupt");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, interrupt_and_resume, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, bad_checkpoints);
    tcase_add_test(tc, changed_data_file);
    tcase_add_test(tc, resume_usage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(suite()); }
