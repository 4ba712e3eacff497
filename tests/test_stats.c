/* tests/test_stats.c - tools/stats: `norn stats` and norn_stats_population.
 * Synthetic runs (spikes.npy written with norn's npy writer, a hand-written
 * run.json) with four populations over 10 s:
 *   reg    20 neurons, regular trains with periods 10, 20, 25, 50 ms (so
 *          that 100 ms bins hold constant counts): CV 0, Fano 0;
 *   poi    200 independent Poisson trains at 20 Hz: CV ~1, Fano ~1,
 *          correlation ~0;
 *   twin   2 neurons with one identical Poisson train, a silent one and one
 *          firing every 5 ms (constant counts in 5 ms bins): correlation 1
 *          between the first two, the others are no candidates;
 *   quiet  5 neurons whose spikes were not recorded.
 * Every figure is also computed here, independently and plainly (dense
 * bin counts, two-pass means), and compared with what norn prints, in the
 * table and in --json (parsed back with libfyaml). Bad inputs give exit 2
 * and their one-line message.
 */
#include <check.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/mem.h"
#include "io/npy.h"
#include "testutil.h"
#include "tools/stats.h"

#define DURATION 10000.0
#define N_REG 20
#define N_POI 200
#define N_TWIN 4 /* 2 identical trains, a silent neuron, one whose 5 ms counts never vary */
#define N_QUIET 5
#define FIRST_REG 0
#define FIRST_POI (FIRST_REG + N_REG)
#define FIRST_TWIN (FIRST_POI + N_POI)
#define FIRST_QUIET (FIRST_TWIN + N_TWIN)
#define RATE_POI 20.0

static const char run_json[] =
    "{\n"
    "  \"name\": \"synthetic\",\n"
    "  \"mode\": \"continuous\",\n"
    "  \"duration_ms\": 10000,\n"
    "  \"resolution_ms\": 0.1,\n"
    "  \"populations\": [\n"
    "    {\"name\": \"reg\", \"model\": \"lif\", \"size\": 20, \"first_id\": 0, \"last_id\": 19, \"recorded\": "
    "\"spikes\"},\n"
    "    {\"name\": \"poi\", \"model\": \"lif\", \"size\": 200, \"first_id\": 20, \"last_id\": 219, \"recorded\": "
    "\"spikes\"},\n"
    "    {\"name\": \"twin\", \"model\": \"lif\", \"size\": 4, \"first_id\": 220, \"last_id\": 223, \"recorded\": "
    "\"spikes\"},\n"
    "    {\"name\": \"quiet\", \"model\": \"lif\", \"size\": 5, \"first_id\": 224, \"last_id\": 228, \"recorded\": "
    "\"none\"}\n"
    "  ]\n"
    "}\n";

/* ---- a test-local generator (splitmix64), independent of norn's streams */

static uint64_t sm_state;
static uint64_t sm_next(void)
{
    uint64_t z = (sm_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double sm_uniform(void) { return ((double)(sm_next() >> 11) + 0.5) * 0x1.0p-53; }

typedef struct {
    double *t;
    uint32_t *g;
    uint64_t n, cap;
} spikes;

static void add(spikes *s, double t, uint32_t g)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        s->t = realloc(s->t, s->cap * sizeof *s->t);
        s->g = realloc(s->g, s->cap * sizeof *s->g);
    }
    s->t[s->n] = t;
    s->g[s->n++] = g;
}

static void poisson(spikes *s, uint32_t g, double rate_hz)
{
    for (double t = 0;;) {
        t += -log(sm_uniform()) / rate_hz * 1000.0;
        if (t > DURATION)
            break;
        add(s, t, g);
    }
}

static int by_time(const void *a, const void *b)
{
    const double *x = a, *y = b; /* pairs (t, g) */
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

static void sort_spikes(spikes *s)
{
    double *p = malloc(s->n * 2 * sizeof *p);
    for (uint64_t k = 0; k < s->n; k++) {
        p[2 * k] = s->t[k];
        p[2 * k + 1] = s->g[k];
    }
    qsort(p, s->n, 2 * sizeof *p, by_time);
    for (uint64_t k = 0; k < s->n; k++) {
        s->t[k] = p[2 * k];
        s->g[k] = (uint32_t)p[2 * k + 1];
    }
    free(p);
}

/* The synthetic run's spikes, sorted by (time, id). */
static spikes make_spikes(void)
{
    spikes s = {0};
    sm_state = 12345;
    static const double period[4] = {10, 20, 25, 50};
    for (uint32_t i = 0; i < N_REG; i++) {
        double P = period[i % 4], phase = 0.37 + 0.41 * i;
        while (phase >= P)
            phase -= P;
        for (double t = phase; t <= DURATION; t += P)
            add(&s, t, FIRST_REG + i);
    }
    for (uint32_t i = 0; i < N_POI; i++)
        poisson(&s, FIRST_POI + i, RATE_POI);
    uint64_t a = s.n;
    poisson(&s, FIRST_TWIN, 30.0);
    uint64_t b = s.n;
    for (uint64_t k = a; k < b; k++)
        add(&s, s.t[k], FIRST_TWIN + 1);
    for (int k = 0; 2.5 + 5.0 * k <= DURATION; k++) /* FIRST_TWIN + 2 stays silent */
        add(&s, 2.5 + 5.0 * k, FIRST_TWIN + 3);
    for (uint32_t i = 0; i < N_QUIET; i++) /* "not recorded": a run writes none, but a stray one must not count */
        add(&s, 100.0 + i, FIRST_QUIET + i);
    sort_spikes(&s);
    return s;
}

static void free_spikes(spikes *s)
{
    free(s->t);
    free(s->g);
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *make_run(const spikes *s, const char *json)
{
    char *dir = tu_tmpdir();
    char *npy = path_in(dir, "spikes.npy");
    norn_err err;
    norn_err_clear(&err);
    ck_assert_int_eq(norn_npy_write_spikes(npy, s->t, s->g, s->n, &err), NORN_OK);
    free(npy);
    free(tu_write(dir, "run.json", json ? json : run_json));
    return dir;
}

/* Runs norn_cli_stats on a NULL-terminated argument list ("DIR" replaced
 * by dir); stdout and stderr captured into *out / *errtext (malloc'd). */
static int stats_cmd(const char *dir, char **out, char **errtext, ...)
{
    va_list ap;
    va_start(ap, errtext);
    int rc = tu_cli(norn_cli_stats, "stats", dir, out, errtext, ap);
    va_end(ap);
    return rc;
}

/* ---- the reference: plain dense computations */

typedef struct {
    uint64_t spikes;
    double rate, cv, fano, fano_pop, corr;
    uint32_t cv_n, fano_n, corr_n;
} ref_stats;

/* counts[i * B + b] of neurons first..first+size-1 in bins of width bin
 * over (from, from + B bin]. */
static double *dense_counts(const spikes *s, uint32_t first, uint32_t size, double from, double bin, uint64_t B)
{
    double *c = calloc((size_t)size * B, sizeof *c);
    for (uint64_t k = 0; k < s->n; k++) {
        if (s->g[k] < first || s->g[k] >= first + size || !(s->t[k] > from))
            continue;
        double x = (s->t[k] - from) / bin;
        long b = (long)ceil(x) - 1;
        if (b >= 0 && (uint64_t)b < B)
            c[(size_t)(s->g[k] - first) * B + (size_t)b] += 1;
    }
    return c;
}

static void mean_var(const double *x, uint64_t n, double *mean, double *var)
{
    double m = 0, v = 0;
    for (uint64_t k = 0; k < n; k++)
        m += x[k];
    m /= (double)n;
    for (uint64_t k = 0; k < n; k++)
        v += (x[k] - m) * (x[k] - m);
    *mean = m;
    *var = v / (double)(n - 1);
}

static ref_stats reference(const spikes *s, uint32_t first, uint32_t size, double from, double to, double fbin,
                           double cbin)
{
    ref_stats r = {0};
    double cv_sum = 0;
    double *isi = malloc(s->n * sizeof *isi);
    for (uint32_t i = 0; i < size; i++) {
        double last = NAN;
        uint64_t m = 0, c = 0;
        for (uint64_t k = 0; k < s->n; k++)
            if (s->g[k] == first + i && s->t[k] > from && s->t[k] <= to) {
                if (c++)
                    isi[m++] = s->t[k] - last;
                last = s->t[k];
            }
        r.spikes += c;
        if (c >= 3) {
            double mean, var;
            mean_var(isi, m, &mean, &var);
            cv_sum += sqrt(var) / mean;
            r.cv_n++;
        }
    }
    free(isi);
    r.rate = (double)r.spikes / size / ((to - from) / 1000.0);
    r.cv = r.cv_n ? cv_sum / r.cv_n : NAN;

    uint64_t B = (uint64_t)floor((to - from) / fbin + 1e-9);
    double *c = dense_counts(s, first, size, from, fbin, B), *pop = calloc(B, sizeof *pop), f_sum = 0;
    for (uint32_t i = 0; i < size; i++) {
        double mean, var;
        mean_var(c + (size_t)i * B, B, &mean, &var);
        if (mean > 0) {
            f_sum += var / mean;
            r.fano_n++;
        }
        for (uint64_t b = 0; b < B; b++)
            pop[b] += c[(size_t)i * B + b];
    }
    double pm, pv;
    mean_var(pop, B, &pm, &pv);
    r.fano = r.fano_n ? f_sum / r.fano_n : NAN;
    r.fano_pop = pm > 0 ? pv / pm : NAN;
    free(c);
    free(pop);

    /* all neurons whose counts vary (the CLI is asked for a sample >= size) */
    B = (uint64_t)floor((to - from) / cbin + 1e-9);
    c = dense_counts(s, first, size, from, cbin, B);
    double corr_sum = 0;
    uint64_t pairs = 0;
    for (uint32_t i = 0; i < size; i++) {
        double mi, vi;
        mean_var(c + (size_t)i * B, B, &mi, &vi);
        if (!(vi > 0))
            continue;
        r.corr_n++;
        for (uint32_t j = i + 1; j < size; j++) {
            double mj, vj, cov = 0;
            mean_var(c + (size_t)j * B, B, &mj, &vj);
            if (!(vj > 0))
                continue;
            for (uint64_t b = 0; b < B; b++)
                cov += (c[(size_t)i * B + b] - mi) * (c[(size_t)j * B + b] - mj);
            cov /= (double)(B - 1);
            corr_sum += cov / sqrt(vi * vj);
            pairs++;
        }
    }
    r.corr = pairs ? corr_sum / (double)pairs : NAN;
    free(c);
    return r;
}

/* ---- reading --json back */

static struct fy_node *pop_node(struct fy_document *d, const char *name)
{
    struct fy_node *ps = fy_node_by_path(fy_document_root(d), "/populations", FY_NT, FYNWF_DONT_FOLLOW);
    ck_assert_ptr_nonnull(ps);
    for (int k = 0; k < fy_node_sequence_item_count(ps); k++) {
        struct fy_node *p = fy_node_sequence_get_by_index(ps, k);
        const char *nm = fy_node_get_scalar0(fy_node_mapping_lookup_by_string(p, "name", FY_NT));
        if (nm && strcmp(nm, name) == 0)
            return p;
    }
    return NULL;
}

/* The number under key; NaN for null. */
static double jnum(struct fy_node *p, const char *key)
{
    struct fy_node *n = fy_node_mapping_lookup_by_string(p, key, FY_NT);
    ck_assert_msg(n != NULL, "key %s missing", key);
    const char *s = fy_node_get_scalar0(n);
    ck_assert_ptr_nonnull(s);
    if (strcmp(s, "null") == 0)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    ck_assert_msg(*end == 0, "%s: '%s' is not a number", key, s);
    return v;
}

static void check_close(const char *what, double got, double want, double tol)
{
    if (isnan(want)) {
        ck_assert_msg(isnan(got), "%s: got %.17g, want null", what, got);
        return;
    }
    ck_assert_msg(fabs(got - want) <= tol * fmax(1.0, fabs(want)), "%s: got %.17g, want %.17g", what, got, want);
}

static void check_pop(struct fy_document *d, const char *name, const ref_stats *r, uint32_t neurons)
{
    struct fy_node *p = pop_node(d, name);
    ck_assert_msg(p != NULL, "population %s missing", name);
    char w[64];
#define CHK(key, val)                                                                                                  \
    do {                                                                                                               \
        snprintf(w, sizeof w, "%s.%s", name, key);                                                                     \
        check_close(w, jnum(p, key), (val), 1e-9);                                                                     \
    } while (0)
    CHK("neurons", neurons);
    CHK("spikes", (double)r->spikes);
    CHK("rate_hz", r->rate);
    CHK("cv_isi", r->cv);
    CHK("cv_neurons", r->cv_n);
    CHK("fano", r->fano);
    CHK("fano_neurons", r->fano_n);
    CHK("fano_pop", r->fano_pop);
    CHK("corr", r->corr);
    CHK("corr_neurons", r->corr_n);
#undef CHK
}

static struct fy_document *parse_json(const char *text)
{
    struct fy_parse_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = FYPCF_QUIET | FYPCF_JSON_FORCE;
    struct fy_document *d = fy_document_build_from_string(&cfg, text, FY_NT);
    ck_assert_msg(d != NULL, "--json output does not parse:\n%s", text);
    return d;
}

/* ------------------------------------------------------------------ */

START_TEST(test_json_matches_reference)
{
    spikes s = make_spikes();
    char *dir = make_run(&s, NULL), *out, *err;
    int rc = stats_cmd(dir, &out, &err, "DIR", "--json", "--sample", "1000", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    ck_assert_str_eq(err, "");
    struct fy_document *d = parse_json(out);
    ref_stats reg = reference(&s, FIRST_REG, N_REG, 0, DURATION, 100, 5);
    ref_stats poi = reference(&s, FIRST_POI, N_POI, 0, DURATION, 100, 5);
    ref_stats twin = reference(&s, FIRST_TWIN, N_TWIN, 0, DURATION, 100, 5);
    check_pop(d, "reg", &reg, N_REG);
    check_pop(d, "poi", &poi, N_POI);
    check_pop(d, "twin", &twin, N_TWIN);
    ck_assert_msg(pop_node(d, "quiet") == NULL, "an unrecorded population is listed");
    struct fy_node *root = fy_document_root(d);
    check_close("from_ms", jnum(root, "from_ms"), 0, 0);
    check_close("to_ms", jnum(root, "to_ms"), DURATION, 0);
    check_close("fano_bin_ms", jnum(root, "fano_bin_ms"), 100, 0);
    check_close("corr_bin_ms", jnum(root, "corr_bin_ms"), 5, 0);
    check_close("sample", jnum(root, "sample"), 1000, 0);
    check_close("poi.corr_pairs", jnum(pop_node(d, "poi"), "corr_pairs"), poi.corr_n * (poi.corr_n - 1) / 2.0, 0);
    check_close("poi.fano_bins", jnum(pop_node(d, "poi"), "fano_bins"), 100, 0);
    check_close("poi.corr_bins", jnum(pop_node(d, "poi"), "corr_bins"), 2000, 0);
    fy_document_destroy(d);
    free(out);
    free(err);
    free_spikes(&s);
}
END_TEST

/* The properties, whatever the reference says: regular trains have CV 0
 * and Fano 0; Poisson trains CV ~1, Fano ~1 and correlation ~0; two
 * identical trains correlation 1. */
START_TEST(test_known_values)
{
    spikes s = make_spikes();
    norn_stats_opts o = {
        .t_from_ms = 0, .t_to_ms = DURATION, .fano_bin_ms = 100, .corr_bin_ms = 5, .sample = 100, .seed = 1};
    norn_err err;
    norn_stats_pop reg, poi, twin;
    ck_assert_int_eq(norn_stats_population(s.t, s.g, s.n, FIRST_REG, N_REG, 0, &o, &reg, &err), NORN_OK);
    ck_assert_int_eq(norn_stats_population(s.t, s.g, s.n, FIRST_POI, N_POI, 1, &o, &poi, &err), NORN_OK);
    ck_assert_int_eq(norn_stats_population(s.t, s.g, s.n, FIRST_TWIN, N_TWIN, 2, &o, &twin, &err), NORN_OK);
    ck_assert_uint_eq(norn_mem_live(), 0);
    ck_assert_uint_eq(reg.cv_neurons, N_REG);
    ck_assert_msg(fabs(reg.cv_isi) < 1e-9, "regular CV %g", reg.cv_isi);
    ck_assert_msg(fabs(reg.fano) < 1e-12, "regular Fano %g", reg.fano);
    ck_assert_msg(fabs(reg.fano_pop) < 1e-12, "regular population Fano %g", reg.fano_pop);
    ck_assert_uint_eq(poi.cv_neurons, N_POI);
    ck_assert_msg(fabs(poi.cv_isi - 1) < 0.03, "Poisson CV %g", poi.cv_isi);
    ck_assert_msg(fabs(poi.fano - 1) < 0.05, "Poisson Fano %g", poi.fano);
    ck_assert_msg(fabs(poi.fano_pop - 1) < 0.4, "Poisson population Fano %g", poi.fano_pop);
    ck_assert_uint_eq(poi.corr_neurons, 100); /* the default sample of 200 */
    ck_assert_uint_eq(poi.corr_pairs, 4950);
    ck_assert_msg(fabs(poi.corr) < 0.005, "independent Poisson correlation %g", poi.corr);
    ck_assert_msg(fabs(poi.rate_hz - RATE_POI) < 0.5, "Poisson rate %g", poi.rate_hz);
    ck_assert_uint_eq(twin.corr_neurons, 2);
    ck_assert_uint_eq(twin.corr_pairs, 1);
    ck_assert_msg(fabs(twin.corr - 1) < 1e-12, "identical trains correlation %.17g", twin.corr);
    free_spikes(&s);
}
END_TEST

/* The sample is a function of the seed: the same seed the same figure, a
 * different seed (most likely) another; a sample as large as the
 * candidates is the full set whatever the seed. */
START_TEST(test_sample_seed)
{
    spikes s = make_spikes();
    norn_stats_opts o = {
        .t_from_ms = 0, .t_to_ms = DURATION, .fano_bin_ms = 100, .corr_bin_ms = 5, .sample = 20, .seed = 7};
    norn_err err;
    norn_stats_pop a, b, c, full1, full2;
    ck_assert_int_eq(norn_stats_population(s.t, s.g, s.n, FIRST_POI, N_POI, 1, &o, &a, &err), NORN_OK);
    ck_assert_int_eq(norn_stats_population(s.t, s.g, s.n, FIRST_POI, N_POI, 1, &o, &b, &err), NORN_OK);
    o.seed = 8;
    ck_assert_int_eq(norn_stats_population(s.t, s.g, s.n, FIRST_POI, N_POI, 1, &o, &c, &err), NORN_OK);
    ck_assert(a.corr == b.corr);
    ck_assert(a.corr != c.corr);
    o.sample = N_POI;
    ck_assert_int_eq(norn_stats_population(s.t, s.g, s.n, FIRST_POI, N_POI, 1, &o, &full1, &err), NORN_OK);
    o.seed = 9;
    ck_assert_int_eq(norn_stats_population(s.t, s.g, s.n, FIRST_POI, N_POI, 1, &o, &full2, &err), NORN_OK);
    ck_assert_msg(fabs(full1.corr - full2.corr) < 1e-15, "%.17g vs %.17g", full1.corr, full2.corr);
    /* and the CLI's --seed reaches it */
    char *dir = make_run(&s, NULL), *o1, *o2, *o3;
    ck_assert_int_eq(stats_cmd(dir, &o1, NULL, "DIR", "--json", "-p", "poi", "--sample", "20", NULL), 0);
    ck_assert_int_eq(stats_cmd(dir, &o2, NULL, "DIR", "--json", "-p", "poi", "--sample", "20", "--seed", "1", NULL), 0);
    ck_assert_int_eq(stats_cmd(dir, &o3, NULL, "DIR", "--json", "-p", "poi", "--sample", "20", "--seed", "2", NULL), 0);
    ck_assert_str_eq(o1, o2); /* seed 1 is the default */
    ck_assert_str_ne(o1, o3);
    free(o1);
    free(o2);
    free(o3);
    free_spikes(&s);
}
END_TEST

/* --from/--to, --bin and --population against the reference. */
START_TEST(test_window_and_bins)
{
    spikes s = make_spikes();
    char *dir = make_run(&s, NULL), *out, *err;
    int rc = stats_cmd(dir, &out, &err, "DIR", "--json", "--from", "1250", "--to", "7300", "--bin", "20",
                       "--population", "poi", "--sample", "500", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    struct fy_document *d = parse_json(out);
    ref_stats poi = reference(&s, FIRST_POI, N_POI, 1250, 7300, 20, 20);
    check_pop(d, "poi", &poi, N_POI);
    ck_assert_msg(pop_node(d, "reg") == NULL, "--population poi lists reg");
    check_close("fano_bins", jnum(pop_node(d, "poi"), "fano_bins"), 302, 0); /* 6050 / 20, floor */
    fy_document_destroy(d);
    free(out);
    free(err);
    /* separate bins */
    rc = stats_cmd(dir, &out, &err, "DIR", "--json", "--fano-bin", "250", "--corr-bin", "2", "-p", "reg", "-p", "twin",
                   "--sample", "500", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    d = parse_json(out);
    ref_stats reg = reference(&s, FIRST_REG, N_REG, 0, DURATION, 250, 2);
    ref_stats twin = reference(&s, FIRST_TWIN, N_TWIN, 0, DURATION, 250, 2);
    check_pop(d, "reg", &reg, N_REG);
    check_pop(d, "twin", &twin, N_TWIN);
    fy_document_destroy(d);
    free(out);
    free(err);
    free_spikes(&s);
}
END_TEST

/* The table: one line per population with the same figures, rounded. */
START_TEST(test_table)
{
    spikes s = make_spikes();
    char *dir = make_run(&s, NULL), *out, *err;
    int rc = stats_cmd(dir, &out, &err, "DIR", "--sample", "1000", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    ck_assert_str_eq(err, "");
    ref_stats poi = reference(&s, FIRST_POI, N_POI, 0, DURATION, 100, 5);
    char want[256];
    const char *line = strstr(out, "\npoi ");
    ck_assert_msg(line != NULL, "no poi line in:\n%s", out);
    snprintf(want, sizeof want, " %llu %10.3f ", (unsigned long long)poi.spikes, poi.rate);
    ck_assert_msg(strstr(line, want) != NULL, "'%s' not in:\n%s", want, out);
    snprintf(want, sizeof want, "%.3f (%u)", poi.cv, poi.cv_n);
    ck_assert_msg(strstr(line, want) != NULL, "'%s' not in:\n%s", want, out);
    snprintf(want, sizeof want, "%.3f (%u)", poi.fano, poi.fano_n);
    ck_assert_msg(strstr(line, want) != NULL, "'%s' not in:\n%s", want, out);
    snprintf(want, sizeof want, "%.4f (%u)", poi.corr, poi.corr_n);
    ck_assert_msg(strstr(line, want) != NULL, "'%s' not in:\n%s", want, out);
    ck_assert_msg(strstr(out, "\nreg ") && strstr(out, "\ntwin ") && !strstr(out, "\nquiet "), "%s", out);
    free(out);
    free(err);
    /* an undefined figure shows "-": one neuron has no pairs */
    rc = stats_cmd(dir, &out, &err, "DIR", "-p", "twin", "--from", "0", "--to", "4", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    ck_assert_msg(strstr(out, " - ") != NULL, "%s", out);
    free(out);
    free(err);
    free_spikes(&s);
}
END_TEST

/* A population of one neuron, a silent window: null figures, not NaN text. */
START_TEST(test_undefined_is_null)
{
    spikes s = make_spikes();
    char *dir = make_run(&s, NULL), *out, *err;
    int rc = stats_cmd(dir, &out, &err, "DIR", "--json", "-p", "poi", "--from", "0", "--to", "1", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    ck_assert_msg(strstr(out, "nan") == NULL, "%s", out);
    struct fy_document *d = parse_json(out);
    struct fy_node *p = pop_node(d, "poi");
    ck_assert(isnan(jnum(p, "fano")));   /* no full 100 ms bin in 1 ms */
    ck_assert(isnan(jnum(p, "corr")));   /* no full 5 ms bin either */
    ck_assert(isnan(jnum(p, "cv_isi"))); /* nobody fires 3 times in 1 ms at 20 Hz */
    ck_assert_uint_eq((unsigned)jnum(p, "cv_neurons"), 0);
    fy_document_destroy(d);
    free(out);
    free(err);
    free_spikes(&s);
}
END_TEST

/* Bad inputs: exit 2, nothing on stdout, one line "norn: where: what". */
typedef struct {
    const char *setup; /* what to break: NULL, "nojson", "badjson", "nodur", "nospikes", "badspikes", "times" */
    const char *args[8];
    const char *want; /* in the message; "DIR" is replaced */
} bad_case;

static const bad_case bad[] = {
    {NULL, {"/nonexistent/norn-run"}, "norn: /nonexistent/norn-run: no such directory"},
    {"nojson", {"DIR"}, "norn: DIR/run.json: cannot open: No such file or directory"},
    {"badjson", {"DIR"}, "norn: DIR/run.json:3:"},
    {"nodur", {"DIR"}, "norn: DIR/run.json: duration_ms: missing"},
    {"nospikes", {"DIR"}, "norn: DIR/spikes.npy: "},
    {"badspikes", {"DIR"}, "norn: DIR/spikes.npy: "},
    {"times", {"DIR"}, "norn: DIR/spikes.npy: no neuron field"},
    {NULL, {"DIR", "-p", "zzz"}, "norn: --population: unknown population 'zzz'; known: reg, poi, twin, quiet"},
    {NULL, {"DIR", "-p", "quiet"}, "norn: --population: population 'quiet': its spikes were not recorded"},
    {NULL, {"DIR", "--sample", "1"}, "norn: --sample: expected a number of neurons >= 2, got '1'"},
    {NULL, {"DIR", "--sample", "x"}, "norn: --sample: expected a number of neurons >= 2, got 'x'"},
    {NULL, {"DIR", "--bin", "0"}, "norn: --bin: expected a bin width in ms > 0, got '0'"},
    {NULL, {"DIR", "--corr-bin", "-5"}, "norn: --corr-bin: expected a bin width in ms > 0, got '-5'"},
    {NULL, {"DIR", "--from", "abc"}, "norn: --from: expected a time in ms, got 'abc'"},
    {NULL, {"DIR", "--from", "500", "--to", "100"}, "norn: --to: the window (500, 100] ms is empty"},
    {NULL, {"DIR", "--seed", "-1"}, "norn: --seed: expected a non-negative integer, got '-1'"},
    {NULL, {"DIR", "--frob"}, "norn: stats: unknown option '--frob'"},
    {NULL, {"DIR", "--bin"}, "norn: stats: option '--bin' needs a value"},
    {NULL, {"DIR", "DIR"}, "norn: stats: expected one run directory, got 2"},
    {NULL, {"--json"}, "norn: stats: expected one run directory, got 0"},
};

static char *replace_dir(const char *s, const char *dir)
{
    const char *p = strstr(s, "DIR");
    size_t n = strlen(s) + strlen(dir) + 1;
    char *o = malloc(n);
    if (!p) {
        snprintf(o, n, "%s", s);
        return o;
    }
    snprintf(o, n, "%.*s%s%s", (int)(p - s), s, dir, p + 3);
    return o;
}

START_TEST(test_bad_input)
{
    const bad_case *b = &bad[_i];
    spikes s = make_spikes();
    char *dir = make_run(&s, NULL);
    if (b->setup) {
        char *js = path_in(dir, "run.json"), *npy = path_in(dir, "spikes.npy");
        if (strcmp(b->setup, "nojson") == 0)
            unlink(js);
        else if (strcmp(b->setup, "badjson") == 0)
            free(tu_write(dir, "run.json", "{\n  \"duration_ms\": 100,\n  \"populations\": [}\n"));
        else if (strcmp(b->setup, "nodur") == 0)
            free(tu_write(dir, "run.json", "{\"populations\": [{\"name\": \"a\", \"size\": 1, \"first_id\": 0}]}\n"));
        else if (strcmp(b->setup, "nospikes") == 0)
            unlink(npy);
        else if (strcmp(b->setup, "badspikes") == 0)
            free(tu_write(dir, "spikes.npy", "this is not an npy file"));
        else if (strcmp(b->setup, "times") == 0) {
            norn_err err;
            uint64_t shape[1] = {3};
            double t[3] = {1, 2, 3};
            ck_assert_int_eq(norn_npy_write_f64(npy, t, 1, shape, &err), NORN_OK);
        }
        free(js);
        free(npy);
    }
    const char *a[8] = {0};
    for (int k = 0; k < 8 && b->args[k]; k++)
        a[k] = b->args[k];
    char *out, *err;
    int rc = stats_cmd(dir, &out, &err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
    char *want = replace_dir(b->want, dir);
    ck_assert_msg(rc == 2, "case %d: rc %d, stderr: %s", _i, rc, err);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "case %d: stderr\n  %s\nwanted it to start with\n  %s", _i,
                  err, want);
    ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "case %d: not one line: %s", _i, err);
    ck_assert_msg(*out == 0, "case %d: stdout not empty: %s", _i, out);
    free(want);
    free(out);
    free(err);
    free_spikes(&s);
}
END_TEST

START_TEST(test_help)
{
    char *out, *err;
    ck_assert_int_eq(stats_cmd("", &out, &err, "--help", NULL), 0);
    ck_assert_msg(strstr(out, "usage: norn stats DIR") != NULL, "%s", out);
    free(out);
    free(err);
}
END_TEST

START_TEST(test_lib_bad_args)
{
    double t[1] = {1};
    uint32_t g[1] = {0};
    norn_stats_pop o;
    norn_err err;
    norn_stats_opts op = {.t_from_ms = 0, .t_to_ms = 10, .fano_bin_ms = 1, .corr_bin_ms = 1, .sample = 2};
    op.sample = 1;
    ck_assert_int_eq(norn_stats_population(t, g, 1, 0, 1, 0, &op, &o, &err), NORN_EINVAL);
    ck_assert_str_eq(err.where, "--sample");
    op.sample = 2;
    op.t_to_ms = 0;
    ck_assert_int_eq(norn_stats_population(t, g, 1, 0, 1, 0, &op, &o, &err), NORN_EINVAL);
    op.t_to_ms = 10;
    op.corr_bin_ms = 0;
    ck_assert_int_eq(norn_stats_population(t, g, 1, 0, 1, 0, &op, &o, &err), NORN_EINVAL);
    ck_assert_str_eq(err.where, "--corr-bin");
    op.corr_bin_ms = 1;
    ck_assert_int_eq(norn_stats_population(t, g, 1, 0, 0, 0, &op, &o, &err), NORN_EINVAL);
    /* out of memory on every allocation in turn: an error, never a crash or a leak */
    spikes s = make_spikes();
    op = (norn_stats_opts){.t_from_ms = 0, .t_to_ms = DURATION, .fano_bin_ms = 100, .corr_bin_ms = 5, .sample = 10};
    int saw_ok = 0;
    for (long k = 0; k < 64 && !saw_ok; k++) {
        norn_mem_fail_after(k);
        norn_status st = norn_stats_population(s.t, s.g, s.n, FIRST_POI, N_POI, 0, &op, &o, &err);
        norn_mem_fail_after(-1);
        ck_assert_msg(st == NORN_OK || st == NORN_ENOMEM, "allocation %ld: %d", k, st);
        ck_assert_uint_eq(norn_mem_live(), 0);
        saw_ok = st == NORN_OK;
    }
    ck_assert(saw_ok);
    free_spikes(&s);
}
END_TEST

/* Bins: a time at an edge (up to rounding) belongs to the bin ending there. */
/* Spikes need not be sorted: reversed, the same figures exactly. */
START_TEST(test_unsorted)
{
    spikes s = make_spikes();
    spikes r = {malloc(s.n * sizeof *s.t), malloc(s.n * sizeof *s.g), s.n, s.n};
    for (uint64_t k = 0; k < s.n; k++) {
        r.t[k] = s.t[s.n - 1 - k];
        r.g[k] = s.g[s.n - 1 - k];
    }
    norn_stats_opts o = {
        .t_from_ms = 0, .t_to_ms = DURATION, .fano_bin_ms = 100, .corr_bin_ms = 5, .sample = 50, .seed = 3};
    norn_err err;
    for (uint32_t first = 0; first < FIRST_QUIET; first += 20) {
        norn_stats_pop a, b;
        ck_assert_int_eq(norn_stats_population(s.t, s.g, s.n, first, 20, 0, &o, &a, &err), NORN_OK);
        ck_assert_int_eq(norn_stats_population(r.t, r.g, r.n, first, 20, 0, &o, &b, &err), NORN_OK);
        ck_assert_uint_eq(a.spikes, b.spikes);
        ck_assert(a.rate_hz == b.rate_hz);
        ck_assert(a.cv_isi == b.cv_isi && a.cv_neurons == b.cv_neurons);
        ck_assert(a.fano == b.fano && a.fano_pop == b.fano_pop && a.fano_neurons == b.fano_neurons);
        ck_assert(a.corr == b.corr && a.corr_neurons == b.corr_neurons);
    }
    free_spikes(&r);
    free_spikes(&s);
}
END_TEST

/* The window is (from, to]: a spike at from is out, one at to is in; a
 * neuron with 2 spikes has no CV. */
START_TEST(test_window_edges)
{
    double t[7] = {10, 15, 20, 30, 35, 40, 50};
    uint32_t g[7] = {3, 4, 3, 3, 4, 3, 3};
    norn_stats_opts o = {.t_from_ms = 10, .t_to_ms = 40, .fano_bin_ms = 10, .corr_bin_ms = 10, .sample = 2};
    norn_stats_pop p;
    norn_err err;
    ck_assert_int_eq(norn_stats_population(t, g, 7, 3, 2, 0, &o, &p, &err), NORN_OK);
    ck_assert_uint_eq(p.spikes, 5);
    ck_assert_msg(fabs(p.rate_hz - 5 / 2.0 / 0.030) < 1e-9, "%g", p.rate_hz);
    ck_assert_uint_eq(p.cv_neurons, 1); /* neuron 3: 20, 30, 40; neuron 4 has only 15, 35 */
    ck_assert_msg(fabs(p.cv_isi) < 1e-15, "%g", p.cv_isi);
    ck_assert_uint_eq(p.fano_bins, 3);
    /* neuron 3 counts 1 1 1 (Fano 0), neuron 4 counts 1 0 1 (var 1/3, mean 2/3) */
    ck_assert_uint_eq(p.fano_neurons, 2);
    ck_assert_msg(fabs(p.fano - 0.25) < 1e-15, "%.17g", p.fano);
    o.t_from_ms = 0;
    ck_assert_int_eq(norn_stats_population(t, g, 7, 3, 1, 0, &o, &p, &err), NORN_OK);
    ck_assert_uint_eq(p.spikes, 4);
    ck_assert_int_eq(norn_stats_population(t, g, 7, 5, 1, 0, &o, &p, &err), NORN_OK); /* another neuron */
    ck_assert_uint_eq(p.spikes, 0);
}
END_TEST

START_TEST(test_bin_of)
{
    ck_assert_uint_eq(norn__bin_of(0.1, 0, 0.1), 0);
    ck_assert_uint_eq(norn__bin_of(0.30000000000000004, 0, 0.1), 2); /* 3 * 0.1 */
    ck_assert_uint_eq(norn__bin_of(0.31, 0, 0.1), 3);
    ck_assert_uint_eq(norn__bin_of(100, 0, 100), 0);
    ck_assert_uint_eq(norn__bin_of(100.5, 0, 100), 1);
    ck_assert_uint_eq(norn__bin_of(5.0000000001, 5, 1), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("figures");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_json_matches_reference);
    tcase_add_test(tc, test_known_values);
    tcase_add_test(tc, test_sample_seed);
    tcase_add_test(tc, test_window_and_bins);
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_undefined_is_null);
    tcase_add_test(tc, test_bin_of);
    tcase_add_test(tc, test_window_edges);
    tcase_add_test(tc, test_unsorted);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad_input");
    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_lib_bad_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(suite()); }
