/* tools/classify.c - norn classify: event-driven inference over a data set
 * (see classify.h). */
#include "tools/classify.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/cell.h"
#include "engine/mem.h"
#include "engine/sim.h"
#include "io/atomic.h"
#include "io/build.h"
#include "io/desc.h"
#include "io/json.h"
#include "io/npy.h"
#include "tools/import.h"

static const char help[] =
    "usage: norn classify DESCRIPTION|MODEL.nir --images X.npy [--labels Y.npy] [options]\n"
    "\n"
    "Event-driven inference of a trained euler-mode network (a description, e.g.\n"
    "from norn import, or a NIR file imported on the fly: then --steps is needed)\n"
    "over a data set. Each sample (a row of X, flattened in C order to the input\n"
    "population's size) is encoded as Norse's constant_current_lif_encode: a\n"
    "lif_encoder (Norse's LIFParameters, v from 0) driven every step by the constant\n"
    "current fl32(fl32(x / div) * gain); its spikes are the input population's.\n"
    "The network is built once and reset between samples. The prediction is the\n"
    "argmax (lowest index on ties) over the readout neurons of the maximum over the\n"
    "steps of the readout variable.\n"
    "\n"
    "options:\n"
    "  --images FILE      samples [N, ...] (.npy, any numeric dtype)\n"
    "  --labels FILE      labels [N] (.npy): accuracy\n"
    "  --reference FILE   another implementation's predictions [N] (.npy): agreement\n"
    "  --div D            divide each value by D (default 1; 255 for bytes to [0, 1])\n"
    "  --gain G           then multiply by G (default 1)\n"
    "  --input POP        the input population (default: the only `input` one)\n"
    "  --readout POP      the readout population (default: the last one)\n"
    "  --variable V       the readout's variable (default v)\n"
    "  --steps T          steps per sample (default: the description's duration)\n"
    "  --limit N          the first N samples only\n"
    "  -o, --out DIR      write predictions.npy (float64 [N]), scores.npy (float32\n"
    "                     [N, classes]) and classify.json there\n"
    "  -q, --quiet        no progress line\n"
    "  -h, --help         this text\n"
    "\n"
    "Prints accuracy, spikes and synaptic events per sample, samples per second.\n"
    "Exit status: 0 ok; 2 bad input (nothing written); 1 failure.\n";

typedef struct {
    const char *desc, *images, *labels, *reference, *input, *readout, *variable, *out;
    double div, gain;
    uint64_t steps, limit;
    int quiet;
} opts;

static int fail(int code, const norn_err *e)
{
    if (e->where[0])
        fprintf(stderr, "norn: %s: %s\n", e->where, e->msg);
    else
        fprintf(stderr, "norn: %s\n", e->msg);
    return code;
}

static int bad(const char *fmt, const char *a)
{
    fprintf(stderr, "norn: classify: ");
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    return 2;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    static const struct option lo[] = {
        {"images", required_argument, 0, 'I'}, {"labels", required_argument, 0, 'L'},
        {"reference", required_argument, 0, 'R'}, {"div", required_argument, 0, 'd'},
        {"gain", required_argument, 0, 'g'}, {"input", required_argument, 0, 'i'},
        {"readout", required_argument, 0, 'r'}, {"variable", required_argument, 0, 'v'},
        {"steps", required_argument, 0, 'T'}, {"limit", required_argument, 0, 'n'},
        {"out", required_argument, 0, 'o'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->div = 1.0;
    o->gain = 1.0;
    o->variable = "v";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:qh", lo, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'I': o->images = optarg; break;
        case 'L': o->labels = optarg; break;
        case 'R': o->reference = optarg; break;
        case 'i': o->input = optarg; break;
        case 'r': o->readout = optarg; break;
        case 'v': o->variable = optarg; break;
        case 'o': o->out = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h': fputs(help, stdout); return 0;
        case 'd':
        case 'g': {
            double x = strtod(optarg, &end);
            if (!end || *end || !isfinite(x) || (c == 'd' && x == 0))
                return bad(c == 'd' ? "--div: expected a non-zero number, got '%s'" : "--gain: expected a number, got '%s'",
                           optarg);
            if (c == 'd')
                o->div = x;
            else
                o->gain = x;
            break;
        }
        case 'T':
        case 'n': {
            errno = 0;
            unsigned long long x = strtoull(optarg, &end, 10);
            if (errno || !end || *end || x == 0 || optarg[0] == '-')
                return bad(c == 'T' ? "--steps: expected a positive integer, got '%s'"
                                    : "--limit: expected a positive integer, got '%s'", optarg);
            if (c == 'T')
                o->steps = x;
            else
                o->limit = x;
            break;
        }
        case ':': return bad("option %s needs a value", argv[optind - 1]);
        default: return bad("unknown option '%s'; see norn classify --help", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return bad("%s", "missing DESCRIPTION; see norn classify --help");
    if (optind + 1 < argc)
        return bad("unexpected argument '%s'", argv[optind + 1]);
    o->desc = argv[optind];
    if (!o->images)
        return bad("%s", "missing --images FILE");
    return -1;
}

/* Reads a 1-D array of n integers (labels, predictions) into out. */
static int read_classes(const char *path, const char *what, uint64_t n, int64_t **out, norn_err *e)
{
    norn_npy_array a;
    if (norn_npy_read(path, &a, e) != NORN_OK)
        return 2;
    int rc = 0;
    if (a.ndim != 1 || a.count < n) {
        fprintf(stderr, "norn: %s: %s must be a 1-D array of at least %llu entries\n", path, what,
                (unsigned long long)n);
        rc = 2;
    }
    int64_t *v = rc ? NULL : norn_malloc_n(n ? n : 1, sizeof(int64_t));
    for (uint64_t k = 0; !rc && v && k < n; k++) {
        if (a.data[k] != floor(a.data[k]) || a.data[k] < 0) {
            fprintf(stderr, "norn: %s: %s[%llu] is %g, not a class index\n", path, what, (unsigned long long)k,
                    a.data[k]);
            rc = 2;
        }
        v[k] = (int64_t)a.data[k];
    }
    norn_npy_array_free(&a);
    if (!rc && !v) {
        fprintf(stderr, "norn: out of memory\n");
        rc = 1;
    }
    if (rc)
        norn_free(v);
    else
        *out = v;
    return rc;
}

static long find_pop(const norn_desc *d, const char *name)
{
    for (uint32_t k = 0; k < d->n_pops; k++)
        if (strcmp(d->pops[k].name, name) == 0)
            return k;
    return -1;
}

int norn_cli_classify(int argc, char **argv)
{
    opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0)
        return rc;
    norn_err e;
    norn_err_clear(&e);
    norn_desc *d = NULL;
    norn_sim *s = NULL;
    norn_cell *cell = NULL;
    norn_npy_array X = {0};
    int64_t *labels = NULL, *ref = NULL, *pred = NULL;
    float *scores = NULL, *cur = NULL, *spk = NULL;
    uint64_t *ptr = NULL;
    uint32_t *idx = NULL;
    rc = 2;
    /* a NIR model: imported into a temporary directory, its input tensor a
     * placeholder of zeros (replaced sample by sample) */
    char nir_dir[4096] = "", in_dir[4096] = "", in_path[4200] = "", yaml[4096];
    const char *shown = o.desc;
    size_t dl = strlen(o.desc);
    if (dl > 4 && strcmp(o.desc + dl - 4, ".nir") == 0) {
        if (!o.steps) {
            fprintf(stderr, "norn: classify: %s: give the steps per sample with --steps T\n", o.desc);
            goto done;
        }
        if (norn_npy_read(o.images, &X, &e) != NORN_OK) {
            rc = fail(2, &e);
            goto done;
        }
        uint64_t n0 = X.ndim >= 1 ? X.shape[0] : 0, n_in0 = n0 ? X.count / n0 : 0;
        const char *tmpdir = getenv("TMPDIR");
        snprintf(in_dir, sizeof in_dir, "%s/norn-classify-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
        float *z = norn_calloc_n(o.steps * n_in0 + 1, sizeof(float));
        uint64_t sh[2] = {o.steps, n_in0};
        norn_status zs = NORN_ENOMEM;
        if (z && mkdtemp(in_dir)) {
            snprintf(in_path, sizeof in_path, "%s/input.npy", in_dir);
            zs = norn_npy_write_f32(in_path, z, 2, sh, &e);
        } else {
            in_dir[0] = '\0';
            NORN_FAIL(&e, NORN_EIO, "classify", "cannot make a temporary input: %s", strerror(errno));
        }
        norn_free(z);
        norn_npy_array_free(&X);
        memset(&X, 0, sizeof X);
        if (zs != NORN_OK ||
            norn__import_temp(o.desc, in_path, 1.0, 0, o.steps, nir_dir, yaml, sizeof yaml, &e) != NORN_OK) {
            nir_dir[0] = '\0';
            rc = fail(2, &e);
            goto done;
        }
        o.desc = yaml;
    }
    if (norn_desc_load(o.desc, &d, &e) != NORN_OK) {
        rc = fail(2, &e);
        goto done;
    }
    if (d->mode != NORN_MODE_EULER) {
        fprintf(stderr, "norn: %s: classify needs an euler-mode network (simulation.mode: euler)\n", o.desc);
        goto done;
    }
    long in = -1, out = (long)d->n_pops - 1;
    if (o.input) {
        in = find_pop(d, o.input);
        if (in < 0 || !d->pops[in].is_input) {
            fprintf(stderr, "norn: --input: '%s' is not an input population of %s\n", o.input, o.desc);
            goto done;
        }
    } else {
        for (uint32_t k = 0; k < d->n_pops; k++)
            if (d->pops[k].is_input) {
                if (in >= 0) {
                    fprintf(stderr, "norn: %s: more than one input population; choose one with --input\n", o.desc);
                    goto done;
                }
                in = k;
            }
        if (in < 0) {
            fprintf(stderr, "norn: %s: no input population (model: input)\n", o.desc);
            goto done;
        }
    }
    if (o.readout && (out = find_pop(d, o.readout)) < 0) {
        fprintf(stderr, "norn: --readout: no population '%s' in %s\n", o.readout, o.desc);
        goto done;
    }
    if (d->pops[out].is_input) {
        fprintf(stderr, "norn: the readout population '%s' is an input population\n", d->pops[out].name);
        goto done;
    }
    int var = norn_model_state_index(d->pops[out].model, o.variable);
    if (var < 0) {
        fprintf(stderr, "norn: --variable: population '%s' has no state variable '%s'\n", d->pops[out].name,
                o.variable);
        goto done;
    }
    double h = d->resolution_ms;
    uint64_t T = o.steps ? o.steps : (uint64_t)llround(d->duration_ms / h);
    d->duration_ms = (double)T * h;
    uint32_t n_in = d->pops[in].size, n_out = d->pops[out].size;
    if (norn_npy_read(o.images, &X, &e) != NORN_OK) {
        rc = fail(2, &e);
        goto done;
    }
    uint64_t N = X.ndim >= 1 ? X.shape[0] : 0;
    if (N == 0 || X.count / N != n_in) {
        fprintf(stderr, "norn: %s: %llu samples of %llu values; the input population '%s' has %u neurons\n", o.images,
                (unsigned long long)N, (unsigned long long)(N ? X.count / N : 0), d->pops[in].name, n_in);
        goto done;
    }
    if (o.limit && o.limit < N)
        N = o.limit;
    if (o.labels && (rc = read_classes(o.labels, "labels", N, &labels, &e)) != 0)
        goto done;
    if (o.reference && (rc = read_classes(o.reference, "reference predictions", N, &ref, &e)) != 0)
        goto done;
    rc = 2;
    norn_build_info bi;
    if (norn_build(d, &s, &bi, &e) != NORN_OK) {
        rc = fail(e.code == NORN_ENOMEM ? 1 : 2, &e);
        goto done;
    }
    uint32_t rec;
    {
        uint32_t *all = norn_malloc_n(n_out, sizeof(uint32_t));
        norn_status st = all ? NORN_OK : NORN_ENOMEM;
        for (uint32_t k = 0; all && k < n_out; k++)
            all[k] = k;
        if (st == NORN_OK)
            st = norn_sim_record_state(s, (uint32_t)out, &var, 1, all, n_out, h, &rec, &e);
        norn_free(all);
        if (st != NORN_OK) {
            rc = fail(1, &e);
            goto done;
        }
    }
    if (norn_cell_create("lif_encoder", n_in, NULL, NULL, 0, h / 1000.0, &cell, &e) != NORN_OK) {
        rc = fail(1, &e);
        goto done;
    }
    pred = norn_malloc_n(N, sizeof(int64_t));
    scores = norn_malloc_n(N * n_out, sizeof(float));
    cur = norn_malloc_n(n_in, sizeof(float));
    spk = norn_malloc_n(n_in, sizeof(float));
    ptr = norn_malloc_n(T + 1, sizeof(uint64_t));
    idx = norn_malloc_n(T * (uint64_t)n_in + 1, sizeof(uint32_t));
    if (!pred || !scores || !cur || !spk || !ptr || !idx) {
        fprintf(stderr, "norn: out of memory\n");
        rc = 1;
        goto done;
    }
    uint32_t in_pop = (uint32_t)in;
    float fdiv = (float)o.div, fgain = (float)o.gain;
    uint64_t correct = 0, agree = 0, net_spikes = 0, in_spikes = 0, events = 0, progress_shown = 0;
    double t0 = now_s(), last = t0;
    for (uint64_t k = 0; k < N; k++) {
        const double *x = X.data + k * n_in;
        for (uint32_t j = 0; j < n_in; j++)
            cur[j] = ((float)x[j] / fdiv) * fgain;
        norn_cell_state *cs = NULL;
        uint64_t m = 0;
        for (uint64_t t = 0; t < T; t++) {
            ptr[t] = m;
            if (norn_cell_step(cell, cur, &cs, spk, &e) != NORN_OK) {
                norn_cell_state_destroy(cs);
                rc = fail(1, &e);
                goto done;
            }
            for (uint32_t j = 0; j < n_in; j++)
                if (spk[j] != 0.0f)
                    idx[m++] = j;
        }
        ptr[T] = m;
        norn_cell_state_destroy(cs);
        in_spikes += m;
        if (norn_sim_reset(s, &e) != NORN_OK || norn_sim_set_input_spikes(s, in_pop, T, ptr, idx, &e) != NORN_OK ||
            norn_sim_run(s, d->duration_ms, NULL, NULL, &e) != NORN_OK) {
            rc = fail(e.code == NORN_EINVAL ? 2 : 1, &e);
            goto done;
        }
        norn_recording r;
        norn_sim_recording(s, rec, &r);
        float *sc = scores + k * n_out;
        for (uint32_t j = 0; j < n_out; j++)
            sc[j] = -INFINITY;
        for (uint64_t q = 0; q < r.n_samples; q++)
            for (uint32_t j = 0; j < r.n_neurons; j++) {
                float v = r.data[q * r.n_neurons + j];
                uint32_t nj = r.neurons[j];
                if (v > sc[nj])
                    sc[nj] = v;
            }
        int64_t best = 0;
        for (uint32_t j = 1; j < n_out; j++)
            if (sc[j] > sc[best])
                best = j;
        pred[k] = best;
        norn_sim_stats st;
        norn_sim_get_stats(s, &st);
        net_spikes += st.spikes - norn_sim_pop_spike_count(s, in_pop);
        events += st.synaptic_events;
        correct += labels && labels[k] == best;
        agree += ref && ref[k] == best;
        if (!o.quiet && isatty(2) && now_s() - last > 0.25) {
            last = now_s();
            fprintf(stderr, "\rclassify: %llu / %llu samples", (unsigned long long)(k + 1), (unsigned long long)N);
            progress_shown = 1;
        }
    }
    double wall = now_s() - t0;
    if (progress_shown)
        fputc('\n', stderr);
    printf("%s: %llu samples, %llu steps each\n", shown, (unsigned long long)N, (unsigned long long)T);
    if (labels)
        printf("accuracy                %.4f (%llu / %llu)\n", (double)correct / (double)N, (unsigned long long)correct,
               (unsigned long long)N);
    printf("spikes per sample       %.1f in the network, %.1f input\n", (double)net_spikes / (double)N,
           (double)in_spikes / (double)N);
    printf("synaptic events/sample  %.1f\n", (double)events / (double)N);
    printf("samples per second      %.1f (%.3f ms each)\n", (double)N / wall, 1e3 * wall / (double)N);
    if (ref) {
        printf("agreement with %s: %.4f (%llu / %llu)\n", o.reference, (double)agree / (double)N,
               (unsigned long long)agree, (unsigned long long)N);
        uint64_t listed = 0;
        for (uint64_t k = 0; k < N && listed < 20; k++)
            if (ref[k] != pred[k]) {
                printf("  sample %llu: norn %lld, reference %lld\n", (unsigned long long)k, (long long)pred[k],
                       (long long)ref[k]);
                listed++;
            }
    }
    rc = 0;
    if (o.out) {
        char path[4096];
        if (mkdir(o.out, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "norn: %s: cannot create the directory: %s\n", o.out, strerror(errno));
            rc = 1;
            goto done;
        }
        uint64_t shp[2] = {N, n_out};
        snprintf(path, sizeof path, "%s/predictions.npy", o.out);
        double *pd = norn_malloc_n(N, sizeof(double));
        for (uint64_t k = 0; pd && k < N; k++)
            pd[k] = (double)pred[k];
        norn_status st = pd ? norn_npy_write_f64(path, pd, 1, shp, &e) : NORN_ENOMEM;
        norn_free(pd);
        snprintf(path, sizeof path, "%s/scores.npy", o.out);
        if (st == NORN_OK)
            st = norn_npy_write_f32(path, scores, 2, shp, &e);
        if (st == NORN_OK) {
            norn_json j;
            norn_json_init(&j);
            struct fy_node *root = norn_json_map(&j);
            norn_json_set(&j, root, "description", norn_json_str(&j, shown));
            norn_json_set(&j, root, "images", norn_json_str(&j, o.images));
            norn_json_set(&j, root, "samples", norn_json_int(&j, N));
            norn_json_set(&j, root, "steps", norn_json_int(&j, T));
            if (labels)
                norn_json_set(&j, root, "accuracy", norn_json_num(&j, (double)correct / (double)N));
            if (ref)
                norn_json_set(&j, root, "agreement", norn_json_num(&j, (double)agree / (double)N));
            norn_json_set(&j, root, "spikes_per_sample", norn_json_num(&j, (double)net_spikes / (double)N));
            norn_json_set(&j, root, "input_spikes_per_sample", norn_json_num(&j, (double)in_spikes / (double)N));
            norn_json_set(&j, root, "synaptic_events_per_sample", norn_json_num(&j, (double)events / (double)N));
            norn_json_set(&j, root, "samples_per_s", norn_json_num(&j, (double)N / wall));
            snprintf(path, sizeof path, "%s/classify.json", o.out);
            char *text = norn_json_finish(&j, root);
            norn_afile af;
            st = text ? norn_afile_open(&af, path, &e) : NORN_ENOMEM;
            if (st == NORN_OK) {
                fputs(text, af.f);
                st = norn_afile_commit(&af, &e);
            }
            free(text);
        }
        if (st != NORN_OK)
            rc = fail(1, &e);
    }
done:
    norn_free(pred);
    norn_free(scores);
    norn_free(cur);
    norn_free(spk);
    norn_free(ptr);
    norn_free(idx);
    norn_free(labels);
    norn_free(ref);
    norn_npy_array_free(&X);
    norn_cell_destroy(cell);
    norn_sim_destroy(s);
    norn_desc_free(d);
    if (nir_dir[0])
        norn__import_remove(nir_dir);
    if (in_path[0])
        unlink(in_path);
    if (in_dir[0])
        rmdir(in_dir);
    return rc;
}
