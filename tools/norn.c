/* tools/norn.c - the norn command line.
 *
 *   norn run [DESCRIPTION] [-o DIR] [--seed N] [--duration MS] [--mode M] [--quiet]
 *            [--checkpoint-every MS]
 *   norn resume CHECKPOINT [-o DIR]   continue a checkpointed or interrupted run
 *   norn run MODEL.nir --input X.npy [--dt MS] [--time-unit s|ms] [...]
 *                              a NIR graph, imported in passing (tools/import.c)
 *   norn import MODEL.nir -o DIR [...]   a NIR graph as a description
 *   norn models [NAME]         list models, their parameters and defaults
 *   norn --help | help [models] | --version
 *
 * Exit codes: 0 success; 2 bad input (description, data files, command
 * line), nothing written; 1 failure while running or writing (memory, disk);
 * 128 + signal (130, 143) after SIGINT / SIGTERM stopped a run (outputs so far
 * and a checkpoint written).
 * Errors go to stderr as "where: message"; data goes to files.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine/mem.h"
#include "engine/par.h"
#include "engine/sim.h"
#include "io/build.h"
#include "io/checkpoint.h"
#include "io/desc.h"
#include "io/output.h"
#include "models/euler.h"
#include "tools/classify.h"
#include "tools/export.h"
#include "tools/import.h"
#include "tools/plot.h"
#include "tools/stats.h"

#ifndef NORN_VERSION
#define NORN_VERSION "unknown"
#endif
#ifndef NORN_EXAMPLES_SRC
#define NORN_EXAMPLES_SRC "examples"
#endif
#ifndef NORN_EXAMPLES_DATA
#define NORN_EXAMPLES_DATA "/usr/local/share/norn/examples"
#endif

static const char usage[] =
    "norn " NORN_VERSION " - event-driven simulator for large sparse spiking networks\n"
    "\n"
    "usage:\n"
    "  norn run [DESCRIPTION] [options]   run a network description (YAML or JSON);\n"
    "                                     without one, the built-in Brunel (2000) network\n"
    "  norn resume CHECKPOINT [options]   continue an interrupted or checkpointed run\n"
    "                                     (see norn resume --help)\n"
    "  norn plot raster|traces|weights DIR [options]\n"
    "                                     pictures of a run (see norn plot --help)\n"
    "  norn stats DIR [options]           rate, CV, Fano factor, correlation per population\n"
    "                                     (see norn stats --help)\n"
    "  norn export DIR --to dense|sonata|csv [options]\n"
    "                                     raster .npy, SONATA spikes (HDF5) or CSV;\n"
    "                                     --what weights --projection P: dense [post, pre]\n"
    "  norn classify DESCRIPTION --images X.npy [--labels Y.npy] [options]\n"
    "                                     event-driven inference over a data set\n"
    "                                     (see norn classify --help)\n"
    "  norn import MODEL.nir -o DIR [options]\n"
    "                                     a NIR graph (Norse, snnTorch, ...) as a description\n"
    "                                     in euler mode (see norn import --help)\n"
    "  norn models [NAME]                 neuron models, their parameters, units, defaults\n"
    "  norn help [models]                 this text, or the models\n"
    "  norn --version\n"
    "\n"
    "run options:\n"
    "  -o, --out DIR       output directory (default out/<description name>)\n"
    "  -s, --seed N        random seed (overrides simulation.seed)\n"
    "  -t, --duration MS   simulated time in ms (overrides simulation.duration)\n"
    "  -m, --mode M        continuous | grid (overrides simulation.mode; euler mode,\n"
    "                      with Norse's models, is chosen in the description)\n"
    "  -p, --plot          also draw DIR/raster.png (as norn plot raster DIR);\n"
    "                      simulation.plot: true in the description does the same\n"
    "  -q, --quiet         no progress line and no summary\n"
    "  -f, --force         overwrite an earlier run in the output directory (without it,\n"
    "                      a directory holding a run.json is refused)\n"
    "      --max-memory SIZE  refuse, before building, a network estimated to need more\n"
    "                      (e.g. 8G, 512M; default: the memory available)\n"
    "      --checkpoint-every MS  write DIR/checkpoint.nrc (the whole simulation state,\n"
    "                      atomically replaced) at the first window end at or after\n"
    "                      every multiple of MS ms (the latest is kept after the run);\n"
    "                      norn resume continues from it\n"
    "  --input FILE.npy    with a .nir model (norn run MODEL.nir): the input spike tensor\n"
    "                      [T, n_in]; the run lasts T steps (see norn import --help)\n"
    "  --dt MS, --time-unit s|ms   with a .nir model: as norn import\n"
    "\n"
    "A run writes into DIR: spikes.npy (time_ms float64, neuron uint32 global id,\n"
    "sorted by time), spikes.csv (time_ms,population,neuron), state_<pop>_<var>.npy\n"
    "with state_times.npy for recorded state, and run.json (written last).\n"
    "Load spikes in NumPy: s = numpy.load('DIR/spikes.npy'); s['time_ms'], s['neuron'].\n"
    "\n"
    "SIGINT (Ctrl-C) or SIGTERM during a run: the run stops at the end of the current\n"
    "window, writes what it recorded so far as valid files (run.json says\n"
    "\"interrupted\": true and the time reached) and DIR/checkpoint.nrc, and prints\n"
    "how to resume (norn resume DIR/checkpoint.nrc); a second signal exits at once.\n"
    "\n"
    "Under mpirun or srun (mpirun -np K norn run ...), one network runs over K\n"
    "processes: each holds its own neurons' synapses, spikes are exchanged every\n"
    "window, rank 0 writes the same files one process writes (see README, MPI;\n"
    "no checkpoints there yet).\n"
    "\n"
    "Exit status: 0 ok; 2 bad input (file:line:col: message on stderr, nothing\n"
    "written); 1 failure while running or writing; 130 / 143 interrupted by\n"
    "SIGINT / SIGTERM.\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

static const char *mode_name(norn_mode m)
{
    return m == NORN_MODE_GRID ? "grid" : m == NORN_MODE_CONTINUOUS ? "continuous" : "euler";
}

static int print_err(const norn_err *err)
{
    char buf[1024];
    fprintf(stderr, "norn: %s\n", norn_err_format(err, buf, sizeof buf));
    return 0;
}

static void print_model(const norn_model_type *t)
{
    printf("%s - %s\n", t->name, t->doc);
    /* the name column as wide as the longest name (grid_substeps) */
    int w = 12;
    for (int k = 0; k < t->n_params; k++)
        w = (int)strlen(t->params[k].name) > w ? (int)strlen(t->params[k].name) : w;
    for (int k = 0; k < t->n_state; k++)
        w = (int)strlen(t->state[k].name) > w ? (int)strlen(t->state[k].name) : w;
    printf("  parameters:\n");
    for (int k = 0; k < t->n_params; k++) {
        const norn_param_info *p = &t->params[k];
        char def[32];
        if (isinf(p->def))
            snprintf(def, sizeof def, "%s", p->def < 0 ? "-inf (none)" : "inf (none)");
        else
            snprintf(def, sizeof def, "%g", p->def);
        printf("    %-*s %-12s %-3s  %s\n", w, p->name, def, p->unit, p->doc);
    }
    printf("  state variables (recordable, settable under initial:):\n");
    for (int k = 0; k < t->n_state; k++) {
        const norn_state_info *s = &t->state[k];
        printf("    %-*s %-3s  %s (initial: %s)\n", w, s->name, s->unit, s->doc,
               s->init_param >= 0 ? t->params[s->init_param].name : "0");
    }
}

static void print_euler_model(const norn_euler_type *t)
{
    printf("%s - %s\n", t->name, t->doc);
    printf("  parameters (Norse's names and defaults):\n");
    for (int k = 0; k < t->n_params; k++) {
        const norn_param_info *p = &t->params[k];
        char def[32];
        if (isnan(p->def))
            snprintf(def, sizeof def, "required");
        else
            snprintf(def, sizeof def, "%g", p->def);
        printf("    %-20s %-10s %-5s  %s\n", p->name, def, p->unit, p->doc);
    }
    printf("  state variables: ");
    for (int k = 0; k < t->n_state; k++)
        printf("%s%s", k ? ", " : "", t->state[k].name);
    printf("\n");
    const char *presets = norn_euler_preset_names(t);
    if (presets && *presets)
        printf("  presets: %s\n", presets);
}

static int cmd_models(int argc, char **argv)
{
    if (argc > 1) {
        const norn_model_type *t = norn_model_find(argv[1]);
        const norn_euler_type *e = norn_euler_find(argv[1]);
        if (!t && !e) {
            fprintf(stderr, "norn: unknown model '%s'; known: %s (continuous, grid); %s (euler)\n", argv[1],
                    norn_model_names(), norn_euler_names());
            return 2;
        }
        if (t) {
            printf("[continuous and grid modes]\n");
            print_model(t);
        }
        if (e) {
            printf("%s[euler mode, as Norse]\n", t ? "\n" : "");
            print_euler_model(e);
        }
        return 0;
    }
    printf("== continuous and grid modes (NEST's names and units: ms, mV, pA, pF, nS) ==\n\n");
    for (size_t k = 0; k < norn_model_count(); k++) {
        if (k)
            printf("\n");
        print_model(norn_model_at(k));
    }
    printf("\n== euler mode (Norse's discrete time, names and defaults; dt = resolution / 1000 s) ==\n\n");
    printf("input - neurons that spike where a spike_tensor says (no parameters)\n");
    for (size_t k = 0; k < norn_euler_count(); k++) {
        printf("\n");
        print_euler_model(norn_euler_at(k));
    }
    return 0;
}

typedef struct {
    int tty;
    double t_start, last_print;
    double t_from; /* simulated ms at t_start (a resumed run) */
} progress_ctx;

static void progress(void *vctx, double t_ms, double duration_ms)
{
    progress_ctx *c = vctx;
    double now = now_s();
    if (!c->tty || (now - c->last_print < 0.25 && t_ms < duration_ms))
        return;
    c->last_print = now;
    double el = now - c->t_start;
    double speed = el > 0 ? ((t_ms - c->t_from) / 1000.0) / el : 0;
    double eta = speed > 0 ? (duration_ms - t_ms) / 1000.0 / speed : 0;
    fprintf(stderr, "\r  t = %9.1f / %.1f ms  %5.1f%%  %7.3f s simulated per s  ETA %5.0f s ", t_ms, duration_ms,
            100.0 * t_ms / duration_ms, speed, eta);
    if (t_ms >= duration_ms)
        fprintf(stderr, "\n");
    fflush(stderr);
}

static const char *find_default(void)
{
    static char path[4096];
    const char *env = getenv("NORN_EXAMPLES");
    const char *dirs[] = {env, NORN_EXAMPLES_SRC, NORN_EXAMPLES_DATA, "examples"};
    for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
        if (!dirs[k])
            continue;
        snprintf(path, sizeof path, "%s/brunel.yaml", dirs[k]);
        if (access(path, R_OK) == 0)
            return path;
    }
    return NULL;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-')
        return 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        return 0;
    *out = v;
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int parse_every(const char *arg, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (*end || !(v > 0) || !isfinite(v)) {
        fprintf(stderr, "norn: --checkpoint-every: expected a time in ms > 0, got '%s'\n", arg);
        return 0;
    }
    *out = v;
    return 1;
}

/* ------------------------------------------------------------ the run */

/* SIGINT / SIGTERM: the first asks the run to stop at the end of the
 * current window (norn_sim_set_stop); a second one ends the process at
 * once (files are renamed into place whole, so none is left half written). */
static volatile sig_atomic_t g_stop;

/* MPI: ranks other than 0 keep quiet; a failure of their own during the
 * run still reaches the terminal through this copy of stderr. */
static int rank_stderr = 2;

static void on_signal(int sig)
{
    if (g_stop)
        _exit(128 + sig);
    g_stop = sig;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct {
    const char *out_dir;
    norn_desc *d;
    const char *text;  /* the description's text, NULL: no checkpoint possible */
    size_t text_len;
    norn_sim *s;       /* begun (or resumed) */
    double every_ms;   /* > 0: a checkpoint at each multiple */
    int quiet, plot;
    const char *cmdline;
    double t0;         /* when the command started */
    norn_build_info bi;
    const char *resumed_from;
} run_job;

static int write_checkpoint(const run_job *j, const char *path, norn_err *err)
{
    return norn_checkpoint_write(path, j->d, j->text, j->text_len, j->s, err) == NORN_OK;
}

/* Runs j->s to its end (checkpointing every j->every_ms) or to a signal,
 * then writes the outputs, the plot and the summary. Returns the exit code:
 * 0, 1 (failure), or 128 + the signal when interrupted (after writing the
 * outputs so far and a checkpoint). */
static int simulate(run_job *job)
{
    norn_desc *d = job->d;
    norn_sim *s = job->s;
    const char *out_dir = job->out_dir;
    int quiet = job->quiet, plot = job->plot;
    norn_build_info bi = job->bi;
    norn_err err;
    norn_err_clear(&err);
    char ckpt[4200];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.nrc", out_dir);
    if (job->every_ms > 0 && norn_output_mkdir(out_dir, &err) != NORN_OK) {
        print_err(&err);
        return 1;
    }
    uint32_t ranks = norn_par_size(), rank = norn_par_rank();
    g_stop = 0;
    if (ranks <= 1) { /* MPI: ranks could stop at different windows; mpirun's signals end them all */
        catch_signals();
        norn_sim_set_stop(s, &g_stop);
    }
    progress_ctx pc = {.tty = !quiet && rank == 0 && isatty(2), .t_start = now_s(), .last_print = 0,
                       .t_from = norn_sim_time(s)};
    double sim_w0 = now_s(), sim_c0 = cpu_s(), ck_s = 0, ck_t = -1;
    uint64_t n_ck = 0;
    norn_status st = NORN_OK;
    while (!norn_sim_done(s) && !g_stop) {
        double target = INFINITY;
        if (job->every_ms > 0)
            target = (floor(norn_sim_time(s) / job->every_ms + 1e-9) + 1.0) * job->every_ms;
        st = norn_sim_advance(s, target, progress, &pc, &err);
        if (st != NORN_OK || norn_sim_done(s) || g_stop)
            break;
        double c0 = now_s();
        if (!write_checkpoint(job, ckpt, &err)) {
            st = err.code;
            break;
        }
        ck_s += now_s() - c0;
        ck_t = norn_sim_time(s);
        n_ck++;
    }
    double sim_wall = now_s() - sim_w0 - ck_s, sim_cpu = cpu_s() - sim_c0;
    int interrupted = st == NORN_OK && !norn_sim_done(s);
    if (st != NORN_OK && ranks > 1) {
        /* a rank may fail alone (memory): every rank ends, none waits */
        char buf[1024];
        if (rank == 0 || st != NORN_EINVAL)
            dprintf(rank_stderr, "%snorn: rank %u: %s\n", pc.tty ? "\n" : "", rank,
                    norn_err_format(&err, buf, sizeof buf));
        norn_par_abort(st == NORN_EINVAL ? 2 : 1);
    }
    if (st != NORN_OK) {
        if (pc.tty)
            fprintf(stderr, "\n");
        print_err(&err);
        return st == NORN_EINVAL ? 2 : 1;
    }
    /* MPI: counts, state samples and weights to rank 0 */
    uint64_t *rss = norn_calloc_n(4 * (size_t)ranks, sizeof *rss); /* RSS, loop CPU, exchange wall, CPU (us) */
    st = norn_sim_par_gather(s, &err);
    if (st == NORN_OK && !rss)
        st = NORN_FAIL(&err, NORN_ENOMEM, NULL, "out of memory");
    if (norn_par_agree(st, &err) != NORN_OK) {
        print_err(&err);
        norn_free(rss);
        return 1;
    }
    uint64_t x_bytes = 0, x_rounds = 0, max_rss = 0;
    double x_s = 0, x_cpu = 0;
    norn_sim_par_exchange(s, &x_bytes, &x_rounds, &x_s, &x_cpu);
    rss[rank] = norn_mem_peak_rss();
    rss[ranks + rank] = (uint64_t)llround(sim_cpu * 1e6);
    rss[2 * ranks + rank] = (uint64_t)llround(x_s * 1e6);
    rss[3 * ranks + rank] = (uint64_t)llround(x_cpu * 1e6);
    norn__par_sum_u64(rss, 4 * ranks);
    for (uint32_t r = 0; r < ranks; r++)
        if (rss[r] > max_rss)
            max_rss = rss[r];
    if (interrupted && pc.tty)
        fprintf(stderr, "\n");
    norn_run_info info = {
        .build_s = bi.build_s,
        .connect_s = bi.connect_s,
        .sim_wall_s = sim_wall,
        .sim_cpu_s = sim_cpu,
        .wall_s = now_s() - job->t0,
        .cpu_s = cpu_s(),
        .peak_rss = norn_mem_peak_rss(),
        .peak_heap = norn_mem_peak(),
        .command = job->cmdline,
        .interrupted = interrupted,
        .checkpoint = interrupted && job->text ? ckpt : NULL,
        .resumed_from = job->resumed_from,
        .ranks = (int)ranks,
        .exchange_bytes = x_bytes,
        .exchanges = x_rounds,
        .exchange_s = x_s,
        .max_peak_rss = max_rss,
        .rank_peak_rss = rss,
    };
    st = rank == 0 ? norn_output_write(out_dir, d, s, &info, &err) : NORN_OK; /* rank 0 writes */
    norn_free(rss);
    if (norn_par_agree(st, &err) != NORN_OK) {
        print_err(&err);
        return 1;
    }
    if (rank > 0)
        return 0;
    if (interrupted) {
        int sig = (int)g_stop;
        double t = norn_sim_time(s);
        if (!job->text) {
            fprintf(stderr, "norn: interrupted at t = %g ms; outputs so far in %s/ (a NIR model run in passing "
                            "cannot be resumed: import it with norn import first)\n", t, out_dir);
            return 128 + sig;
        }
        if (t != ck_t && !write_checkpoint(job, ckpt, &err)) { /* (unless just written) */
            print_err(&err);
            fprintf(stderr, "norn: interrupted at t = %g ms; outputs so far in %s/, no checkpoint\n", t, out_dir);
            return 1;
        }
        fprintf(stderr, "norn: interrupted at t = %g ms; outputs so far in %s/; resume with: norn resume %s\n", t,
                out_dir, ckpt);
        return 128 + sig;
    }
    double plot_s = -1;
    char plot_path[4200] = "";
    if (plot || d->plot) {
        double tp0 = now_s();
        norn_plot_pop *pp = norn_calloc_n(d->n_pops, sizeof *pp);
        uint32_t np = 0;
        for (uint32_t k = 0; pp && k < d->n_pops; k++)
            if (d->record_spikes == NULL || d->record_spikes[k])
                pp[np++] = (norn_plot_pop){.name = d->pops[k].name, .first_id = norn_sim_first_id(s, k),
                                           .size = d->pops[k].size, .colour = k + 1};
        const double *t;
        const uint32_t *g;
        uint64_t n = norn_sim_spikes(s, &t, &g);
        char png[4200], title[512];
        snprintf(png, sizeof png, "%s/raster.png", out_dir);
        snprintf(title, sizeof title, "%s \xe2\x80\x94 %s mode, %g ms", d->name, mode_name(d->mode), d->duration_ms);
        st = pp == NULL ? NORN_FAIL(&err, NORN_ENOMEM, "plot", "out of memory")
             : np == 0  ? NORN_OK /* nothing recorded: no picture */
                        : norn_plot_raster_titled(png, title, t, g, n, pp, np, 0, d->duration_ms, 1200, 800, &err);
        norn_free(pp);
        if (st != NORN_OK) {
            /* the run did not finish: take back the run.json that says it
             * did (the data files stay, as after any failure) */
            char rj[4200];
            snprintf(rj, sizeof rj, "%s/run.json", out_dir);
            int gone = unlink(rj) == 0;
            char buf[1024];
            fprintf(stderr, "norn: %s%s\n", norn_err_format(&err, buf, sizeof buf),
                    gone ? " (run.json removed: the run did not finish)" : "");
            return 1;
        }
        plot_s = np ? now_s() - tp0 : -1;
        if (np)
            snprintf(plot_path, sizeof plot_path, "%s", png);
    }
    if (!quiet) {
        norn_sim_stats ss;
        norn_sim_get_stats(s, &ss);
        double dur_s = ss.duration_ms / 1000.0;
        printf("norn %s: %s (%s mode, seed %llu, %.1f ms)\n", NORN_VERSION, d->name, mode_name(d->mode),
               (unsigned long long)d->seed, ss.duration_ms);
        printf("  neurons            %llu\n", (unsigned long long)ss.neurons);
        printf("  synapses           %llu (%.2f bytes per synapse; built in %.2f s, %.3g synapses/s)\n",
               (unsigned long long)ss.synapses,
               ss.synapses ? (double)ss.synapse_bytes / (double)ss.synapses : 0.0, bi.connect_s,
               bi.connect_s > 0 ? (double)ss.synapses / bi.connect_s : 0.0);
        printf("  spikes             %llu\n", (unsigned long long)ss.spikes);
        for (uint32_t k = 0; k < d->n_pops; k++)
            printf("    %-16s %10.3f Hz mean rate (%llu spikes, %u neurons)\n", d->pops[k].name,
                   (double)norn_sim_pop_spike_count(s, k) / d->pops[k].size / dur_s,
                   (unsigned long long)norn_sim_pop_spike_count(s, k), d->pops[k].size);
        printf("  synaptic events    %llu (%.3g per s of wall time)\n", (unsigned long long)ss.synaptic_events,
               sim_wall > 0 ? (double)ss.synaptic_events / sim_wall : 0.0);
        printf("  time               build %.2f s, simulate %.2f s wall / %.2f s cpu (%.3f s per simulated s)\n",
               bi.build_s, sim_wall, sim_cpu, dur_s > 0 ? sim_wall / dur_s : 0.0);
        printf("  peak memory        %.1f MB resident\n", (double)info.peak_rss / 1048576.0);
        if (ranks > 1)
            printf("  MPI                %u ranks (peak %.1f MB resident on one), rank 0 received %.3g MB in %llu "
                   "exchanges (%.2f s)\n",
                   ranks, (double)max_rss / 1048576.0, (double)x_bytes / 1e6, (unsigned long long)x_rounds, x_s);
        if (job->resumed_from)
            printf("  resumed from       %s\n", job->resumed_from);
        if (n_ck)
            printf("  checkpoints        %llu (every %g ms, %.2f s in all; latest %s)\n", (unsigned long long)n_ck,
                   job->every_ms, ck_s, ckpt);
        printf("  output             %s/\n", out_dir);
        if (plot_s >= 0)
            printf("  raster plot        %s (%.2f s)\n", plot_path, plot_s);
    }
    return 0;
}

static int run_main(int argc, char **argv, const char *cmdline, char *nir_dir, size_t nir_cap);

/* norn run; a .nir model is imported into a temporary directory first
 * (tools/import.c), which is removed afterwards. */
static int cmd_run(int argc, char **argv, const char *cmdline)
{
    char nir_dir[4096] = "";
    int rc = run_main(argc, argv, cmdline, nir_dir, sizeof nir_dir);
    if (nir_dir[0])
        norn__import_remove(nir_dir);
    return rc;
}

static int run_main(int argc, char **argv, const char *cmdline, char *nir_dir, size_t nir_cap)
{
    uint32_t ranks = norn_par_size(), rank = norn_par_rank();
    if (rank > 0 && rank_stderr == 2) {
        rank_stderr = dup(2);
        if (!freopen("/dev/null", "w", stderr))
            rank_stderr = 2;
    }
    enum { O_INPUT = 256, O_DT, O_UNIT, O_MAXMEM, O_EVERY };
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},      {"seed", required_argument, 0, 's'},
        {"duration", required_argument, 0, 't'}, {"mode", required_argument, 0, 'm'},
        {"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
        {"plot", no_argument, 0, 'p'},           {"input", required_argument, 0, O_INPUT},
        {"dt", required_argument, 0, O_DT},      {"time-unit", required_argument, 0, O_UNIT},
        {"force", no_argument, 0, 'f'},          {"max-memory", required_argument, 0, O_MAXMEM},
        {"checkpoint-every", required_argument, 0, O_EVERY},
        {0, 0, 0, 0}};
    const char *nir_input = NULL;
    double nir_dt = 1.0;
    int nir_ms = 0, nir_opts = 0;
    const char *out_dir = NULL, *mode = NULL;
    uint64_t seed = 0;
    int have_seed = 0, quiet = 0, plot = 0, force = 0;
    uint64_t max_memory = 0;
    double duration = 0, every_ms = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:s:t:m:qhpf", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case O_EVERY:
            if (!parse_every(optarg, &every_ms))
                return 2;
            break;
        case 'f': force = 1; break;
        case O_MAXMEM: {
            char *end;
            double v = strtod(optarg, &end);
            double mul = 1;
            if (*end == 'K' || *end == 'k')
                mul = 1024.0, end++;
            else if (*end == 'M' || *end == 'm')
                mul = 1048576.0, end++;
            else if (*end == 'G' || *end == 'g')
                mul = 1073741824.0, end++;
            else if (*end == 'T' || *end == 't')
                mul = 1099511627776.0, end++;
            if (*end == 'B' || *end == 'b')
                end++;
            if (*end || !(v > 0) || !isfinite(v * mul) || v * mul >= 1.8e19) {
                fprintf(stderr, "norn: --max-memory: expected a size such as 8G, 512M or 1000000, got '%s'\n", optarg);
                return 2;
            }
            max_memory = (uint64_t)(v * mul);
            break;
        }
        case 's':
            if (!parse_u64(optarg, &seed)) {
                fprintf(stderr, "norn: --seed: expected a non-negative integer, got '%s'\n", optarg);
                return 2;
            }
            have_seed = 1;
            break;
        case 't': {
            char *end;
            duration = strtod(optarg, &end);
            if (*end || !(duration > 0) || !isfinite(duration)) {
                fprintf(stderr, "norn: --duration: expected a time in ms > 0, got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'm': mode = optarg; break;
        case 'q': quiet = 1; break;
        case 'p': plot = 1; break;
        case O_INPUT: nir_input = optarg; break;
        case O_DT: {
            char *end;
            nir_dt = strtod(optarg, &end);
            if (*end || !(nir_dt > 0) || !isfinite(nir_dt)) {
                fprintf(stderr, "norn: --dt: expected a time step in ms > 0, got '%s'\n", optarg);
                return 2;
            }
            nir_opts = 1;
            break;
        }
        case O_UNIT:
            if (strcmp(optarg, "s") != 0 && strcmp(optarg, "ms") != 0) {
                fprintf(stderr, "norn: --time-unit: expected s or ms, got '%s'\n", optarg);
                return 2;
            }
            nir_ms = strcmp(optarg, "ms") == 0;
            nir_opts = 1;
            break;
        case 'h': fputs(usage, stdout); return 0;
        default: fprintf(stderr, "norn: see 'norn --help'\n"); return 2;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "norn: run takes one description, got %d\n", argc - optind);
        return 2;
    }
    const char *path = optind < argc ? argv[optind] : find_default();
    if (!path) {
        fprintf(stderr, "norn: no description given and the default examples/brunel.yaml was not found "
                        "(set NORN_EXAMPLES to the examples folder)\n");
        return 2;
    }
    double t0 = now_s();
    norn_err err;
    norn_err_clear(&err);
    char nir_yaml[4096];
    if (ends_with(path, ".nir")) {
        if (!nir_input) {
            fprintf(stderr, "norn: %s: a NIR model needs --input FILE.npy, its input spike tensor [T, n_in] "
                            "(see norn import --help)\n", path);
            return 2;
        }
        if (norn__import_temp(path, nir_input, nir_dt, nir_ms, 0, nir_dir, nir_yaml, nir_cap, &err) != NORN_OK) {
            nir_dir[0] = 0;
            print_err(&err);
            return err.code == NORN_ENOMEM ? 1 : 2;
        }
        path = nir_yaml;
        if (every_ms > 0) {
            fprintf(stderr, "norn: --checkpoint-every: a NIR model run in passing cannot be resumed (its files are "
                            "temporary); import it with norn import, then run the description\n");
            return 2;
        }
    } else if (nir_input || nir_opts) {
        fprintf(stderr, "norn: --input, --dt and --time-unit are for a NIR model (a .nir file); %s is a "
                        "description\n", path);
        return 2;
    }
    norn_desc *d = NULL;
    if (norn_par_agree(norn_desc_load(path, &d, &err), &err) != NORN_OK) {
        print_err(&err);
        norn_desc_free(d);
        return err.code == NORN_ENOMEM ? 1 : 2;
    }
    if (have_seed)
        d->seed = seed;
    if (duration > 0) {
        if (duration / d->resolution_ms > NORN_DESC_MAX_STEPS) {
            fprintf(stderr, "norn: --duration: %g ms in steps of %g ms is %.3g steps; at most 2^53 (9.0e15) fit\n",
                    duration, d->resolution_ms, duration / d->resolution_ms);
            norn_desc_free(d);
            return 2;
        }
        d->duration_ms = duration;
    }
    if (mode) {
        norn_mode m;
        if (strcmp(mode, "grid") == 0)
            m = NORN_MODE_GRID;
        else if (strcmp(mode, "continuous") == 0)
            m = NORN_MODE_CONTINUOUS;
        else if (strcmp(mode, "euler") == 0)
            m = NORN_MODE_EULER;
        else {
            fprintf(stderr, "norn: --mode: expected continuous, grid or euler, got '%s'\n", mode);
            norn_desc_free(d);
            return 2;
        }
        if ((m == NORN_MODE_EULER) != (d->mode == NORN_MODE_EULER)) {
            fprintf(stderr, "norn: --mode %s: %s's models are for %s mode; euler mode takes Norse's models and "
                            "the others NEST's, so the mode is set in the description\n",
                    mode, path, d->mode == NORN_MODE_EULER ? "euler" : "continuous or grid");
            norn_desc_free(d);
            return 2;
        }
        d->mode = m;
    }
    char dir_buf[4096];
    if (!out_dir) {
        snprintf(dir_buf, sizeof dir_buf, "out/%s", d->name);
        out_dir = dir_buf;
    }
    /* a finished run is never overwritten silently */
    char prev[4200];
    snprintf(prev, sizeof prev, "%s/run.json", out_dir);
    norn_status dst = NORN_OK;
    if (rank == 0 && !force && access(prev, F_OK) == 0) { /* rank 0 writes the output */
        char *js = NULL;
        size_t js_len = 0;
        norn_err e2;
        int intr = norn_checkpoint_read_text(prev, &js, &js_len, &e2) == NORN_OK && strstr(js, "\"interrupted\": true");
        norn_free(js);
        if (intr)
            dst = NORN_FAIL(&err, NORN_EINVAL, out_dir, "holds an interrupted run; resume it with norn resume "
                                                        "%s/checkpoint.nrc, or pass --force to start over", out_dir);
        else
            dst = NORN_FAIL(&err, NORN_EINVAL, out_dir, "holds an earlier run (%s); pass --force to overwrite it, or "
                                                        "choose another directory with -o", prev);
    }
    if (dst == NORN_OK && ranks > 1 && every_ms > 0)
        dst = NORN_FAIL(&err, NORN_EINVAL, NULL, "--checkpoint-every: checkpoints are not available over MPI ranks yet");
    if (norn_par_agree(dst, &err) != NORN_OK) {
        print_err(&err);
        norn_desc_free(d);
        return 2;
    }
    d->max_memory = max_memory;
    d->rank = rank;
    d->ranks = ranks;
    /* the description's text goes into checkpoints (not for a NIR model
     * imported in passing: its files are temporary) */
    char *text = NULL;
    size_t text_len = 0;
    if (!nir_dir[0] && norn_checkpoint_read_text(path, &text, &text_len, &err) != NORN_OK) {
        print_err(&err);
        norn_desc_free(d);
        return err.code == NORN_ENOMEM ? 1 : 2;
    }
    norn_sim *s = NULL;
    run_job job = {.out_dir = out_dir, .d = d, .text = text, .text_len = text_len, .every_ms = every_ms,
                   .quiet = quiet, .plot = plot, .cmdline = cmdline, .t0 = t0};
    if (norn_par_agree(norn_build(d, &s, &job.bi, &err), &err) != NORN_OK) {
        print_err(&err);
        norn_sim_destroy(s);
        norn_free(text);
        norn_desc_free(d);
        return err.code == NORN_ENOMEM ? 1 : 2;
    }
    job.s = s;
    if (norn_sim_begin(s, d->duration_ms, &err) != NORN_OK) {
        print_err(&err);
        norn_sim_destroy(s);
        norn_free(text);
        norn_desc_free(d);
        return err.code == NORN_EINVAL ? 2 : 1;
    }
    int rc = simulate(&job);
    norn_sim_destroy(s);
    norn_free(text);
    norn_desc_free(d);
    return rc;
}


static const char resume_usage[] =
    "usage: norn resume CHECKPOINT [-o DIR] [--checkpoint-every MS] [--quiet] [--plot]\n"
    "\n"
    "Continues a run from a checkpoint (DIR/checkpoint.nrc, written by norn run\n"
    "--checkpoint-every MS or when a run is interrupted by SIGINT or SIGTERM) and\n"
    "writes the same outputs as the uninterrupted run, byte for byte, into DIR\n"
    "(default: the checkpoint's directory; existing outputs there are replaced).\n"
    "The network is rebuilt from the description saved in the checkpoint; its data\n"
    "files must be unchanged (a checkpoint whose network does not match is refused).\n"
    "The seed, duration and mode are those of the interrupted run.\n"
    "\n"
    "  -o, --out DIR             output directory\n"
    "      --checkpoint-every MS keep checkpointing (DIR/checkpoint.nrc) every MS ms\n"
    "  -q, --quiet               no progress line and no summary\n"
    "  -p, --plot                also draw DIR/raster.png\n"
    "\n"
    "Exit status: 0 ok; 2 bad checkpoint (truncated, corrupt, another version,\n"
    "network or data files changed); 1 failure while running or writing;\n"
    "130 / 143 interrupted again by SIGINT / SIGTERM (a new checkpoint is written).\n";

static int cmd_resume(int argc, char **argv, const char *cmdline)
{
    enum { O_EVERY = 256 };
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"plot", no_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {"checkpoint-every", required_argument, 0, O_EVERY},
                                         {0, 0, 0, 0}};
    const char *out_dir = NULL;
    int quiet = 0, plot = 0, c;
    double every_ms = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qph", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'q': quiet = 1; break;
        case 'p': plot = 1; break;
        case O_EVERY:
            if (!parse_every(optarg, &every_ms))
                return 2;
            break;
        case 'h': fputs(resume_usage, stdout); return 0;
        default: fprintf(stderr, "norn: see 'norn resume --help'\n"); return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "norn: resume takes one checkpoint file, got %d (see norn resume --help)\n", argc - optind);
        return 2;
    }
    const char *path = argv[optind];
    char dir_buf[4096];
    if (!out_dir) {
        snprintf(dir_buf, sizeof dir_buf, "%s", path);
        char *slash = strrchr(dir_buf, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir_buf, sizeof dir_buf, ".");
        out_dir = dir_buf;
    }
    double t0 = now_s();
    norn_err err;
    norn_err_clear(&err);
    norn_desc *d = NULL;
    norn_sim *s = NULL;
    norn_checkpoint_info info;
    double b0 = now_s();
    norn_status st = norn_checkpoint_resume(path, 0, &d, &s, &info, &err);
    if (st != NORN_OK) {
        print_err(&err);
        return st == NORN_ENOMEM ? 1 : 2;
    }
    if (!quiet)
        fprintf(stderr, "norn: resuming %s at t = %g ms of %g ms (%s)\n", d->name, info.time_ms, info.duration_ms,
                path);
    char resumed[4200];
    snprintf(resumed, sizeof resumed, "%s", path);
    run_job job = {.out_dir = out_dir, .d = d, .s = s, .text = info.desc_text, .text_len = info.desc_len,
                   .every_ms = every_ms, .quiet = quiet, .plot = plot, .cmdline = cmdline, .t0 = t0,
                   .resumed_from = resumed};
    job.bi.build_s = now_s() - b0;
    int rc = simulate(&job);
    norn_sim_destroy(s);
    norn_desc_free(d);
    norn_checkpoint_info_free(&info);
    return rc;
}

int main(int argc, char **argv)
{
    char cmdline[2048] = "";
    for (int k = 0; k < argc; k++) {
        size_t len = strlen(cmdline);
        snprintf(cmdline + len, sizeof cmdline - len, "%s%s", k ? " " : "", argv[k]);
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("norn %s\n", NORN_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc > 2 && strcmp(argv[2], "models") == 0)
            return cmd_models(1, argv + 2);
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "models") == 0)
        return cmd_models(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0 || strcmp(argv[1], "resume") == 0) {
        /* under mpirun/srun: one rank of a simulation (engine/par.h) */
        int rc;
        if (norn_par_init(&argc, &argv) > 1 && strcmp(argv[1], "resume") == 0) {
            if (norn_par_rank() == 0)
                fprintf(stderr, "norn: resume: checkpoints are not available over MPI ranks yet; run norn resume "
                                "without mpirun\n");
            rc = 2;
        } else {
            rc = strcmp(argv[1], "run") == 0 ? cmd_run(argc - 1, argv + 1, cmdline)
                                             : cmd_resume(argc - 1, argv + 1, cmdline);
        }
        norn_par_finalize();
        return rc;
    }
    if (strcmp(argv[1], "plot") == 0)
        return norn_cli_plot(argc - 1, argv + 1);
    if (strcmp(argv[1], "stats") == 0)
        return norn_cli_stats(argc - 1, argv + 1);
    if (strcmp(argv[1], "export") == 0)
        return norn_cli_export(argc - 1, argv + 1);
    if (strcmp(argv[1], "classify") == 0)
        return norn_cli_classify(argc - 1, argv + 1);
    if (strcmp(argv[1], "import") == 0)
        return norn_cli_import(argc - 1, argv + 1);
    fprintf(stderr, "norn: unknown command '%s'; see 'norn --help'\n", argv[1]);
    return 2;
}
