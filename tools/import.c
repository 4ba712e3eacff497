/* tools/import.c - norn import: NIR graph -> norn description; see import.h. */
#include "tools/import.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/mem.h"
#include "io/nir.h"
#include "io/npy.h"

#define DEFAULT_STEPS 100

static const char usage[] =
    "usage: norn import MODEL.nir -o DIR [--dt MS] [--time-unit s|ms] [--steps T]\n"
    "                   [--input FILE.npy] [--quiet]\n"
    "\n"
    "Imports a NIR graph (HDF5, as nir.write / Norse's export writes it) as a norn\n"
    "description in euler mode (Norse's discrete time): DIR/model.yaml, with the synapse\n"
    "lists syn_<projection>.npy (fields pre, post, weight; connect: {rule: from_list}) and\n"
    "bias_<population>.npy (constant currents) next to it. Run it with\n"
    "  norn run DIR/model.yaml          (or directly: norn run MODEL.nir --input X.npy)\n"
    "\n"
    "options:\n"
    "  -o, --out DIR        where to write (created if missing; model.yaml is written last)\n"
    "  --dt MS              the time step, norn's resolution (default 1 ms, Norse's dt = 0.001 s)\n"
    "  --time-unit s|ms     unit of the NIR time constants and delays (default s, as Norse\n"
    "                       exports them: tau_mem = 1/tau_mem_inv)\n"
    "  --steps T            steps to simulate: duration = T dt (default: the input's rows, or 100)\n"
    "  --input FILE.npy     the input spike tensor [T, n_in] to reference (default DIR/input.npy,\n"
    "                       which you supply)\n"
    "  -q, --quiet          no summary\n"
    "\n"
    "Mapping (Norse's models; tau in the time unit, tau_inv = 1/tau in 1/s):\n"
    "  CubaLIF -> lif      tau_syn_inv, tau_mem_inv, v_leak, v_th = v_threshold, v_reset\n"
    "  CubaLI  -> li       tau_syn_inv, tau_mem_inv, v_leak\n"
    "  LIF     -> lif_box  tau_mem_inv = 1/tau, v_leak, v_th, v_reset\n"
    "  LI      -> li_box   tau_mem_inv = 1/tau, v_leak\n"
    "  IF      -> iaf      v_th, v_reset;   I -> iaf that never fires (v integrates)\n"
    "  Input   -> input    a spike source, its shape flattened in C order\n"
    "  Output  -> the state (v, i) of the population before it is recorded\n"
    "Parameters must be equal over a node's neurons; r (and w_in for Cuba*) may differ: they\n"
    "multiply the weights and biases into each neuron (Norse exports r = w_in = 1). Missing\n"
    "v_reset is 0. The linear nodes between two populations (Affine, Linear, Scale, Conv1d,\n"
    "Conv2d with stride, padding incl. 'same', dilation, groups; SumPool2d, AvgPool2d,\n"
    "Flatten, Delay) become one synapse list: convolutions and pooling expanded, parallel\n"
    "paths summed, zeros dropped; a Delay of one step, or a path back to an earlier or the\n"
    "same population (Norse's recurrent W_rec z[t-1]), acts in the next step. Biases become\n"
    "a constant input current. Not supported: Threshold, nested graphs, delays other than\n"
    "0 or 1 step, a LI/CubaLI/I feeding anything but an Output, lzf-compressed datasets.\n"
    "\n"
    "Input: a [T, n_in] array of 0/1 (any numeric dtype): row t holds the spikes of step t,\n"
    "columns the Input nodes' neurons in the order of model.yaml, C order within each\n"
    "(an MNIST image (1, 28, 28): column 28 y + x).\n"
    "\n"
    "Exit status: 0 ok; 2 bad input (the message names the file and the node), nothing\n"
    "written; 1 failure while writing (no model.yaml is left).\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int print_err(const norn_err *err)
{
    char buf[1024];
    fprintf(stderr, "norn: %s\n", norn_err_format(err, buf, sizeof buf));
    return 0;
}

/* The file's base name without its extension, as a norn name. */
static void stem(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    const char *dot = strrchr(b, '.');
    if (dot && dot != b)
        n = (size_t)(dot - b);
    size_t o = 0;
    for (size_t k = 0; k < n && o + 1 < cap; k++)
        out[o++] = (isalnum((unsigned char)b[k]) || b[k] == '_' || b[k] == '-' || b[k] == '.') ? b[k] : '_';
    out[o] = 0;
    if (o == 0)
        snprintf(out, cap, "model");
}

/* Rows of the input tensor, checked against the inputs' neurons. */
static norn_status input_rows(const char *input, const norn_nir_net *net, uint64_t *rows, norn_err *err)
{
    norn_npy_array a;
    norn_status st = norn_npy_read(input, &a, err);
    if (st != NORN_OK)
        return st;
    uint64_t n_in = 0;
    for (uint32_t k = 0; k < net->n_pops; k++)
        if (strcmp(net->pops[k].model, "input") == 0)
            n_in += net->pops[k].size;
    if (a.ndim != 2 || a.shape[1] != n_in || a.shape[0] == 0) {
        uint64_t r = a.ndim > 0 ? a.shape[0] : 0, c = a.ndim > 1 ? a.shape[1] : 0;
        int nd = a.ndim;
        norn_npy_array_free(&a);
        return NORN_FAIL(err, NORN_EINVAL, input,
                         "the input spike tensor has %d dimensions (%llu, %llu); expected [T, %llu] (steps, input "
                         "neurons), T >= 1",
                         nd, (unsigned long long)r, (unsigned long long)c, (unsigned long long)n_in);
    }
    *rows = a.shape[0];
    norn_npy_array_free(&a);
    return NORN_OK;
}

/* Removes what norn_nir_write may have written for net in dir. */
static void remove_written(const norn_nir_net *net, const char *dir)
{
    char path[4400];
    for (uint32_t k = 0; k < net->n_projs; k++) {
        snprintf(path, sizeof path, "%s/syn_%s.npy", dir, net->projs[k].name);
        unlink(path);
    }
    for (uint32_t k = 0; k < net->n_pops; k++) {
        snprintf(path, sizeof path, "%s/bias_%s.npy", dir, net->pops[k].name);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/model.yaml", dir);
    unlink(path);
}

void norn__import_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4400];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* mkdir -p; *created = 1 if the last component was made here. */
static int make_dir(const char *dir, int *created)
{
    struct stat sb;
    *created = 0;
    if (stat(dir, &sb) == 0)
        return S_ISDIR(sb.st_mode) ? 0 : (errno = ENOTDIR, -1);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return errno = ENAMETOOLONG, -1;
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(tmp, 0777) != 0)
        return -1;
    *created = 1;
    return 0;
}

typedef struct {
    double read_s, map_s, write_s;
} timing;

/* read + map; *g and *net on success. */
static norn_status load(const char *nir, double dt_ms, int time_ms, norn_nir_graph **g, norn_nir_net **net,
                        timing *tm, norn_err *err)
{
    double t0 = now_s();
    norn_status st = norn_nir_read(nir, g, err);
    if (st != NORN_OK)
        return st;
    double t1 = now_s();
    norn_nir_options o = {.dt_ms = dt_ms, .time_ms = time_ms};
    st = norn_nir_map(*g, &o, net, err);
    if (st != NORN_OK) {
        norn_nir_graph_free(*g);
        *g = NULL;
        return st;
    }
    tm->read_s = t1 - t0;
    tm->map_s = now_s() - t1;
    return NORN_OK;
}

norn_status norn__import_temp(const char *nir, const char *input, double dt_ms, int time_ms, unsigned long long steps,
                              char *dir, char *yaml, size_t cap, norn_err *err)
{
    norn_nir_graph *g = NULL;
    norn_nir_net *net = NULL;
    timing tm;
    char abs_in[PATH_MAX], name[256];
    if (realpath(input, abs_in) == NULL)
        return NORN_FAIL(err, NORN_EIO, input, "cannot open: %s", strerror(errno));
    norn_status st = load(nir, dt_ms, time_ms, &g, &net, &tm, err);
    if (st != NORN_OK)
        return st;
    uint64_t rows = 0;
    if ((st = input_rows(abs_in, net, &rows, err)) != NORN_OK)
        goto done;
    const char *tmpdir = getenv("TMPDIR");
    if (snprintf(dir, cap, "%s/norn-nir-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp") >= (int)cap ||
        mkdtemp(dir) == NULL) {
        st = NORN_FAIL(err, NORN_EIO, dir, "cannot create a temporary directory: %s", strerror(errno));
        goto done;
    }
    stem(nir, name, sizeof name);
    norn_nir_write_opts w = {.steps = steps ? steps : rows, .input_file = abs_in, .name = name, .source = nir,
                             .version = g->version};
    if ((st = norn_nir_write(net, dir, &w, err)) != NORN_OK) {
        norn__import_remove(dir);
        goto done;
    }
    snprintf(yaml, cap, "%s/model.yaml", dir);
done:
    norn_nir_net_free(net);
    norn_nir_graph_free(g);
    return st;
}

int norn_cli_import(int argc, char **argv)
{
    enum { O_DT = 256, O_UNIT, O_STEPS, O_INPUT };
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},         {"dt", required_argument, 0, O_DT},
        {"time-unit", required_argument, 0, O_UNIT}, {"steps", required_argument, 0, O_STEPS},
        {"input", required_argument, 0, O_INPUT},    {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},               {0, 0, 0, 0}};
    const char *out = NULL, *input = NULL;
    double dt = 1.0;
    int time_ms = 0, quiet = 0, c;
    unsigned long long steps = 0;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o': out = optarg; break;
        case O_DT:
            dt = strtod(optarg, &end);
            if (*end || !(dt > 0) || !isfinite(dt)) {
                fprintf(stderr, "norn: --dt: expected a time step in ms > 0, got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_UNIT:
            if (strcmp(optarg, "s") == 0)
                time_ms = 0;
            else if (strcmp(optarg, "ms") == 0)
                time_ms = 1;
            else {
                fprintf(stderr, "norn: --time-unit: expected s or ms, got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_STEPS:
            errno = 0;
            steps = strtoull(optarg, &end, 10);
            if (*end || !*optarg || *optarg == '-' || steps == 0 || errno) {
                fprintf(stderr, "norn: --steps: expected a number of steps >= 1, got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_INPUT: input = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fprintf(stderr, "norn: see 'norn import --help'\n"); return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "norn: import takes one NIR file, got %d; see 'norn import --help'\n", argc - optind);
        return 2;
    }
    if (out == NULL) {
        fprintf(stderr, "norn: import needs -o DIR (where model.yaml and its data go)\n");
        return 2;
    }
    const char *nir = argv[optind];
    norn_err err;
    norn_err_clear(&err);
    norn_nir_graph *g = NULL;
    norn_nir_net *net = NULL;
    timing tm = {0};
    if (load(nir, dt, time_ms, &g, &net, &tm, &err) != NORN_OK) {
        print_err(&err);
        return err.code == NORN_ENOMEM ? 1 : 2;
    }
    int rc = 0, created = 0;
    char abs_in[PATH_MAX] = "", name[256];
    uint64_t rows = 0;
    if (input) {
        if (realpath(input, abs_in) == NULL) {
            fprintf(stderr, "norn: %s: cannot open: %s\n", input, strerror(errno));
            rc = 2;
            goto done;
        }
        if (input_rows(abs_in, net, &rows, &err) != NORN_OK) {
            print_err(&err);
            rc = err.code == NORN_ENOMEM ? 1 : 2;
            goto done;
        }
    }
    if (make_dir(out, &created) != 0) {
        fprintf(stderr, "norn: %s: cannot create the directory: %s\n", out, strerror(errno));
        rc = 1;
        goto done;
    }
    stem(nir, name, sizeof name);
    double t0 = now_s();
    norn_nir_write_opts w = {.steps = steps ? steps : rows ? rows : DEFAULT_STEPS,
                             .input_file = input ? abs_in : NULL,
                             .name = name,
                             .source = nir,
                             .version = g->version};
    if (norn_nir_write(net, out, &w, &err) != NORN_OK) {
        print_err(&err);
        remove_written(net, out);
        if (created)
            rmdir(out);
        rc = err.code == NORN_EINVAL ? 2 : 1;
        goto done;
    }
    tm.write_s = now_s() - t0;
    if (!quiet) {
        uint64_t neurons = 0, n_in = 0;
        printf("norn import: %s%s%s%s -> %s/model.yaml (euler, dt %g ms, %llu steps, NIR times in %s)\n", nir,
               *g->version ? " (NIR " : "", g->version, *g->version ? ")" : "", out, dt, (unsigned long long)w.steps,
               time_ms ? "ms" : "s");
        for (uint32_t k = 0; k < net->n_pops; k++) {
            const norn_nir_pop *p = &net->pops[k];
            char shp[200];
            size_t o = (size_t)snprintf(shp, sizeof shp, "(");
            for (int d = 0; d < p->shape.ndim && o < sizeof shp; d++)
                o += (size_t)snprintf(shp + o, sizeof shp - o, "%s%llu", d ? ", " : "",
                                      (unsigned long long)p->shape.dim[d]);
            if (o < sizeof shp)
                snprintf(shp + o, sizeof shp - o, p->shape.ndim == 1 ? ",)" : ")");
            printf("  population %-20s %-8s %9u neurons  %s %s%s%s\n", p->name, p->model, p->size,
                   norn_nir_kind_name(p->kind), shp, p->bias ? ", bias current" : "",
                   p->readout ? ", read out (Output)" : "");
            neurons += p->size;
            if (strcmp(p->model, "input") == 0)
                n_in += p->size;
        }
        for (uint32_t k = 0; k < net->n_projs; k++) {
            const norn_nir_proj *pj = &net->projs[k];
            printf("  projection %-20s %s -> %s: %llu synapses%s%s%s\n", pj->name, net->pops[pj->from].name,
                   net->pops[pj->to].name, (unsigned long long)pj->n, pj->via[0] ? " via " : "", pj->via,
                   pj->lag ? " (next step)" : "");
        }
        printf("  total: %u populations, %llu neurons, %u projections, %llu synapses; read %.3f s, mapped %.3f s, "
               "written %.3f s\n",
               net->n_pops, (unsigned long long)neurons, net->n_projs, (unsigned long long)net->synapses, tm.read_s,
               tm.map_s, tm.write_s);
        if (n_in && !input)
            printf("  input: supply %s/input.npy, a [T, %llu] array of 0/1 spikes (row t = step t), then: norn run "
                   "%s/model.yaml\n",
                   out, (unsigned long long)n_in, out);
    }
done:
    norn_nir_net_free(net);
    norn_nir_graph_free(g);
    return rc;
}
