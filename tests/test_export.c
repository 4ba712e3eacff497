/* tests/test_export.c - tools/export (`norn export`) and io/sonata.
 * A synthetic run (spikes.npy from norn's npy writer, a hand-written
 * run.json, 100 ms at 0.1 ms): "pyr" ids 0..5 and "inh" ids 6..8 are
 * recorded, "off" ids 9..10 not. Spikes are made from (step r, neuron j)
 * pairs, stamped either at the end of step r ((r + 1) * 0.1, as grid mode
 * does, with its rounding: 3 * 0.1 = 0.30000000000000004) or in its middle,
 * plus 300 spikes of one neuron in one step (the uint8 saturates). So the
 * dense raster is known by construction, independently of any binning
 * formula. SONATA files are read back with norn_sonata_read_spikes and with
 * Debian's python3 + h5py (tests/check_sonata.py): the test fails when
 * either is missing. Malformed HDF5 files (not HDF5, truncated, missing
 * group or datasets, wrong types, lengths, attributes) give clear errors.
 * Weights: hand-written weights_<projection>.npy files (pre local to the
 * source, post indexing the targets concatenated), two snapshots.
 */
#include <check.h>
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/sonata.h"
#include "testutil.h"
#include "tools/export.h"

#define STEPS 1000 /* 100 ms at 0.1 ms */
#define N_ALL 11
#define SAT_ROW 500
#define SAT_COL 7 /* inh neuron 1 */

static const char run_json[] =
    "{\n"
    "  \"name\": \"synthetic\",\n"
    "  \"mode\": \"grid\",\n"
    "  \"duration_ms\": 100,\n"
    "  \"resolution_ms\": 0.1,\n"
    "  \"populations\": [\n"
    "    {\"name\": \"pyr\", \"size\": 6, \"first_id\": 0, \"last_id\": 5, \"recorded\": \"spikes\"},\n"
    "    {\"name\": \"inh\", \"size\": 3, \"first_id\": 6, \"last_id\": 8, \"recorded\": \"spikes\"},\n"
    "    {\"name\": \"off\", \"size\": 2, \"first_id\": 9, \"last_id\": 10, \"recorded\": \"none\"}\n"
    "  ],\n"
    "  \"projections\": [\n"
    "    {\"name\": \"pp\", \"from\": \"pyr\", \"to\": [\"pyr\", \"inh\"], \"pre_size\": 6, \"post_size\": 9},\n"
    "    {\"name\": \"ip\", \"from\": \"inh\", \"to\": \"pyr\"}\n"
    "  ]\n"
    "}\n";

typedef struct {
    double *t;
    uint32_t *g;
    uint32_t *row; /* the step each spike was made in */
    uint64_t n;
} spikes;

static uint64_t lcg = 1;
static uint32_t rnd(uint32_t m)
{
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((lcg >> 33) % m);
}

static int by_time(const void *a, const void *b)
{
    const double *x = a, *y = b; /* (t, g, row) */
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Spikes of all 11 neurons (the unrecorded too: they must be left out
 * where the recorded ones are asked for), sorted by (time, id). */
static spikes make_spikes(void)
{
    enum { RANDOM = 600, SAT = 300, FIXED = 6 };
    /* at the window edges of the tests: the first and last step, and the
     * steps just before and at 20 ms and 60 ms (200 * 0.1 == 20 exactly) */
    static const uint32_t fixed[FIXED][2] = {{0, 0}, {999, 1}, {199, 6}, {200, 6}, {599, 8}, {600, 8}};
    spikes s;
    s.n = RANDOM + SAT + FIXED;
    double *p = malloc(s.n * 3 * sizeof *p);
    lcg = 42;
    for (uint64_t k = 0; k < RANDOM + FIXED; k++) {
        uint32_t r = k < RANDOM ? rnd(STEPS) : fixed[k - RANDOM][0], j = k < RANDOM ? rnd(N_ALL) : fixed[k - RANDOM][1];
        p[3 * k] = k >= RANDOM || rnd(2) ? (double)(r + 1) * 0.1 : (double)r * 0.1 + 0.05;
        p[3 * k + 1] = j;
        p[3 * k + 2] = r;
    }
    for (uint64_t k = 0; k < SAT; k++) {
        p[3 * (RANDOM + FIXED + k)] = SAT_ROW * 0.1 + 0.0001 + 0.0003 * (double)k;
        p[3 * (RANDOM + FIXED + k) + 1] = SAT_COL;
        p[3 * (RANDOM + FIXED + k) + 2] = SAT_ROW;
    }
    qsort(p, s.n, 3 * sizeof *p, by_time);
    s.t = malloc(s.n * sizeof *s.t);
    s.g = malloc(s.n * sizeof *s.g);
    s.row = malloc(s.n * sizeof *s.row);
    for (uint64_t k = 0; k < s.n; k++) {
        s.t[k] = p[3 * k];
        s.g[k] = (uint32_t)p[3 * k + 1];
        s.row[k] = (uint32_t)p[3 * k + 2];
    }
    free(p);
    return s;
}

static void free_spikes(spikes *s)
{
    free(s->t);
    free(s->g);
    free(s->row);
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *make_run(const spikes *s)
{
    char *dir = tu_tmpdir();
    char *npy = path_in(dir, "spikes.npy");
    norn_err err;
    norn_err_clear(&err);
    ck_assert_int_eq(norn_npy_write_spikes(npy, s->t, s->g, s->n, &err), NORN_OK);
    free(npy);
    free(tu_write(dir, "run.json", run_json));
    free(tu_write(dir, "spikes.csv", "time_ms,population,neuron\n")); /* stands for the run's own */
    return dir;
}

/* Runs norn_cli_export on a NULL-terminated list ("DIR..." replaced by
 * dir...); stdout and stderr captured (malloc'd) when asked for. */
static int export_cmd(const char *dir, char **out, char **errtext, ...)
{
    va_list ap;
    va_start(ap, errtext);
    int rc = tu_cli(norn_cli_export, "export", dir, out, errtext, ap);
    va_end(ap);
    return rc;
}

/* Number of directory entries other than . and .. */
static int n_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The .npy header's text (malloc'd). */
static char *npy_header(const char *path)
{
    size_t len;
    char *b = tu_read(path, &len);
    ck_assert_ptr_nonnull(b);
    ck_assert(len >= 10 && memcmp(b, "\x93NUMPY\x01\x00", 8) == 0);
    size_t hl = (unsigned char)b[8] | (size_t)(unsigned char)b[9] << 8;
    ck_assert_uint_eq((10 + hl) % 64, 0);
    char *h = malloc(hl + 1);
    memcpy(h, b + 10, hl);
    h[hl] = 0;
    free(b);
    return h;
}

/* ------------------------------------------------------------------ */
/* dense                                                                */

START_TEST(test_dense_default)
{
    spikes s = make_spikes();
    char *dir = make_run(&s), *out, *err;
    int rc = export_cmd(dir, &out, &err, "DIR", "--to", "dense", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    char *file = path_in(dir, "raster_dense.npy");
    char want[4300];
    snprintf(want, sizeof want, "wrote %s\n", file);
    ck_assert_str_eq(out, want);
    char *h = npy_header(file);
    ck_assert_msg(strstr(h, "'descr': '|u1'") && strstr(h, "'shape': (1000, 11)"), "%s", h);
    free(h);
    norn_npy_array a;
    norn_err e;
    ck_assert_int_eq(norn_npy_read(file, &a, &e), NORN_OK);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_uint_eq(a.shape[0], STEPS);
    ck_assert_uint_eq(a.shape[1], N_ALL); /* all populations by default: column = global id */
    static unsigned want_c[STEPS][N_ALL];
    memset(want_c, 0, sizeof want_c);
    for (uint64_t k = 0; k < s.n; k++)
        want_c[s.row[k]][s.g[k]]++;
    uint64_t total = 0;
    for (int r = 0; r < STEPS; r++)
        for (int j = 0; j < N_ALL; j++) {
            unsigned w = want_c[r][j] > 255 ? 255 : want_c[r][j];
            ck_assert_msg(a.data[r * N_ALL + j] == w, "[%d, %d]: %g, want %u", r, j, a.data[r * N_ALL + j], w);
            total += w;
        }
    ck_assert_msg(a.data[SAT_ROW * N_ALL + SAT_COL] == 255, "no saturation");
    ck_assert_uint_gt(total, 500);
    norn_npy_array_free(&a);
    free(file);
    free(out);
    free(err);
    free_spikes(&s);
}
END_TEST

/* inh only, window (20, 60], 2 ms bins: 0.1 ms steps nest in 2 ms bins. */
START_TEST(test_dense_window_population)
{
    spikes s = make_spikes();
    char *dir = make_run(&s), *err;
    char *file = path_in(dir, "sub.npy");
    int rc = export_cmd(dir, NULL, &err, "DIR", "--to", "dense", "-p", "inh", "--from", "20", "--to", "60", "--bin",
                        "2", "-o", file, NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    norn_npy_array a;
    norn_err e;
    ck_assert_int_eq(norn_npy_read(file, &a, &e), NORN_OK);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_uint_eq(a.shape[0], 20);
    ck_assert_uint_eq(a.shape[1], 3);
    unsigned want[20][3] = {{0}};
    for (uint64_t k = 0; k < s.n; k++)
        if (s.g[k] >= 6 && s.g[k] <= 8 && s.row[k] >= 200 && s.row[k] < 600)
            want[(s.row[k] - 200) / 20][s.g[k] - 6]++;
    for (int r = 0; r < 20; r++)
        for (int j = 0; j < 3; j++) {
            unsigned w = want[r][j] > 255 ? 255 : want[r][j];
            ck_assert_msg(a.data[r * 3 + j] == w, "[%d, %d]: %g, want %u", r, j, a.data[r * 3 + j], w);
        }
    norn_npy_array_free(&a);
    free(err);
    /* two populations named in reverse: columns still in global id order */
    rc = export_cmd(dir, NULL, &err, "DIR", "--format", "dense", "-p", "inh", "-p", "pyr", "--bin", "100", "-o", file,
                    NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    ck_assert_int_eq(norn_npy_read(file, &a, &e), NORN_OK);
    ck_assert_uint_eq(a.shape[0], 1);
    ck_assert_uint_eq(a.shape[1], 9);
    for (uint32_t j = 0; j < 9; j++) {
        unsigned w = 0;
        for (uint64_t k = 0; k < s.n; k++)
            w += s.g[k] == j;
        ck_assert_msg(a.data[j] == (w > 255 ? 255 : w), "column %u: %g, want %u", j, a.data[j], w);
    }
    norn_npy_array_free(&a);
    free(file);
    free(err);
    free_spikes(&s);
}
END_TEST

/* spikes.npy not sorted by time (not as a run writes it): the same files. */
START_TEST(test_unsorted_input)
{
    spikes s = make_spikes();
    char *dir = make_run(&s), *rev = make_run(&s), *err;
    double *t = malloc(s.n * sizeof *t);
    uint32_t *g = malloc(s.n * sizeof *g);
    for (uint64_t k = 0; k < s.n; k++) {
        t[k] = s.t[(k * 7919) % s.n]; /* 7919 is prime, s.n is not a multiple */
        g[k] = s.g[(k * 7919) % s.n];
    }
    char *npy = path_in(rev, "spikes.npy");
    norn_err e;
    ck_assert_int_eq(norn_npy_write_spikes(npy, t, g, s.n, &e), NORN_OK);
    static const char *const fmt[2] = {"dense", "sonata"};
    for (int f = 0; f < 2; f++) {
        char name[32];
        snprintf(name, sizeof name, "x.%s", f ? "h5" : "npy");
        char *o1 = path_in(dir, name), *o2 = path_in(rev, name);
        ck_assert_int_eq(export_cmd(dir, NULL, &err, "DIR", "--to", fmt[f], "-o", o1, NULL), 0);
        free(err);
        ck_assert_int_eq(export_cmd(rev, NULL, &err, "DIR", "--to", fmt[f], "-o", o2, NULL), 0);
        free(err);
        if (f == 0) {
            size_t n1, n2;
            char *b1 = tu_read(o1, &n1), *b2 = tu_read(o2, &n2);
            ck_assert(n1 == n2 && memcmp(b1, b2, n1) == 0);
            free(b1);
            free(b2);
        } else {
            norn_sonata_spikes *p1, *p2;
            uint32_t np1, np2;
            ck_assert_int_eq(norn_sonata_read_spikes(o1, &p1, &np1, &e), NORN_OK);
            ck_assert_int_eq(norn_sonata_read_spikes(o2, &p2, &np2, &e), NORN_OK);
            ck_assert_uint_eq(np1, np2);
            for (uint32_t q = 0; q < np1; q++) {
                ck_assert_uint_eq(p1[q].n, p2[q].n);
                ck_assert(memcmp(p1[q].time_ms, p2[q].time_ms, p1[q].n * sizeof(double)) == 0);
                ck_assert(memcmp(p1[q].node_id, p2[q].node_id, p1[q].n * sizeof(uint64_t)) == 0);
            }
            norn_sonata_spikes_free(p1, np1);
            norn_sonata_spikes_free(p2, np2);
        }
        free(o1);
        free(o2);
    }
    free(npy);
    free(t);
    free(g);
    free_spikes(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* weights                                                              */

typedef struct {
    uint32_t pre, post;
    float w;
    double t;
} wrec;

/* weights_<name>.npy in the documented layout. */
static void write_weights(const char *dir, const char *name, const wrec *r, size_t n)
{
    char fn[256];
    snprintf(fn, sizeof fn, "weights_%s.npy", name);
    char *path = path_in(dir, fn);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    char dict[200];
    int len = snprintf(dict, sizeof dict,
                       "{'descr': [('pre', '<u4'), ('post', '<u4'), ('weight', '<f4'), ('time_ms', '<f8')], "
                       "'fortran_order': False, 'shape': (%zu,), }",
                       n);
    size_t pad = (64 - (10 + (size_t)len + 1) % 64) % 64, hl = (size_t)len + pad + 1;
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc((int)(hl & 255), f);
    fputc((int)(hl >> 8), f);
    fwrite(dict, 1, (size_t)len, f);
    for (size_t k = 0; k < pad; k++)
        fputc(' ', f);
    fputc('\n', f);
    for (size_t k = 0; k < n; k++) { /* little-endian host assumed, as CI */
        fwrite(&r[k].pre, 4, 1, f);
        fwrite(&r[k].post, 4, 1, f);
        fwrite(&r[k].w, 4, 1, f);
        fwrite(&r[k].t, 8, 1, f);
    }
    fclose(f);
    free(path);
}

/* pp: pyr (6) -> [pyr, inh] (rows 0..5 pyr, 6..8 inh); snapshots at 50
 * and 100 ms. */
static const wrec pp_recs[] = {
    {0, 1, 9.0f, 50},   {1, 7, 9.0f, 50},   {5, 8, 9.0f, 50},  /* the first snapshot: ignored */
    {0, 1, 0.5f, 100},  {1, 7, 0.25f, 100}, {1, 7, 0.5f, 100}, /* a multapse: summed */
    {5, 8, -1.5f, 100}, {2, 0, 2.0f, 100},  {4, 6, 0.125f, 100},
};

START_TEST(test_weights_dense)
{
    spikes s = make_spikes();
    char *dir = make_run(&s), *out, *err;
    write_weights(dir, "pp", pp_recs, sizeof pp_recs / sizeof pp_recs[0]);
    int rc = export_cmd(dir, &out, &err, "DIR", "--what", "weights", "--projection", "pp", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    char *file = path_in(dir, "weights_pp_dense.npy");
    char *h = npy_header(file);
    ck_assert_msg(strstr(h, "'descr': '<f4'") && strstr(h, "'shape': (9, 6)"), "%s", h);
    free(h);
    norn_npy_array a;
    norn_err e;
    ck_assert_int_eq(norn_npy_read(file, &a, &e), NORN_OK);
    ck_assert_uint_eq(a.shape[0], 9);
    ck_assert_uint_eq(a.shape[1], 6);
    double want[9][6] = {{0}};
    want[1][0] = 0.5;  /* post 1 <- pre 0 */
    want[7][1] = 0.75; /* post 7 (inh 1: row 6 + 1) <- pre 1, twice */
    want[8][5] = -1.5;
    want[0][2] = 2.0;
    want[6][4] = 0.125;
    for (int r = 0; r < 9; r++)
        for (int c = 0; c < 6; c++)
            ck_assert_msg(a.data[r * 6 + c] == want[r][c], "[%d, %d]: %g, want %g", r, c, a.data[r * 6 + c],
                          want[r][c]);
    norn_npy_array_free(&a);
    free(file);
    free(out);
    free(err);
    free_spikes(&s);
}
END_TEST

/* Another field order, other integer and float types, padding, and the
 * last snapshot not last in the file. */
START_TEST(test_weights_layouts)
{
    spikes s = make_spikes();
    char *dir = make_run(&s), *err;
    char *path = path_in(dir, "weights_ip.npy");
    FILE *f = fopen(path, "wb");
    const char dict[] = "{'descr': [('time_ms', '<f4'), ('', '|V4'), ('weight', '<f8'), ('post', '<i8'), "
                        "('pre', '<u2')], 'fortran_order': False, 'shape': (3,), }";
    size_t len = strlen(dict), pad = (64 - (10 + len + 1) % 64) % 64, hl = len + pad + 1;
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc((int)(hl & 255), f);
    fputc((int)(hl >> 8), f);
    fwrite(dict, 1, len, f);
    for (size_t k = 0; k < pad; k++)
        fputc(' ', f);
    fputc('\n', f);
    struct {
        float t;
        int32_t padding;
        double w;
        int64_t post;
        uint16_t pre;
    } __attribute__((packed)) rec[3] = {{80, 0, 3.0, 2, 1}, {20, 0, 1.0, 0, 0}, {80, 0, -2.0, 5, 2}};
    fwrite(rec, sizeof rec[0], 3, f);
    fclose(f);
    char *file = path_in(dir, "ip.npy");
    int rc = export_cmd(dir, NULL, &err, "DIR", "--what", "weights", "--projection", "ip", "-o", file, NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    norn_npy_array a;
    norn_err e;
    ck_assert_int_eq(norn_npy_read(file, &a, &e), NORN_OK);
    ck_assert_uint_eq(a.shape[0], 6); /* to: pyr */
    ck_assert_uint_eq(a.shape[1], 3); /* from: inh */
    for (int r = 0; r < 6; r++)
        for (int c = 0; c < 3; c++) {
            double w = r == 2 && c == 1 ? 3.0 : r == 5 && c == 2 ? -2.0 : 0.0;
            ck_assert_msg(a.data[r * 3 + c] == w, "[%d, %d]: %g, want %g", r, c, a.data[r * 3 + c], w);
        }
    norn_npy_array_free(&a);
    free(file);
    free(path);
    free(err);
    free_spikes(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* SONATA                                                               */

/* The spikes of population [first, first + size) in (from, to], local ids. */
static uint64_t expected(const spikes *s, uint32_t first, uint32_t size, double from, double to, double *t,
                         uint64_t *id)
{
    uint64_t m = 0;
    for (uint64_t k = 0; k < s->n; k++)
        if (s->g[k] >= first && s->g[k] < first + size && s->t[k] > from && s->t[k] <= to) {
            t[m] = s->t[k];
            id[m++] = s->g[k] - first;
        }
    return m;
}

static void check_sonata_pop(const norn_sonata_spikes *p, const char *name, const spikes *s, uint32_t first,
                             uint32_t size, double from, double to)
{
    double *t = malloc(s->n * sizeof *t);
    uint64_t *id = malloc(s->n * sizeof *id);
    uint64_t m = expected(s, first, size, from, to, t, id);
    ck_assert_str_eq(p->name, name);
    ck_assert_uint_eq(p->n, m);
    ck_assert_int_eq(p->sorting, NORN_SONATA_SORT_BY_TIME);
    ck_assert_str_eq(p->units, "ms");
    for (uint64_t k = 0; k < m; k++) {
        ck_assert_msg(p->time_ms[k] == t[k], "%s spike %llu: %.17g, want %.17g", name, (unsigned long long)k,
                      p->time_ms[k], t[k]);
        ck_assert_uint_eq(p->node_id[k], id[k]);
    }
    free(t);
    free(id);
}

/* Runs tests/check_sonata.py; returns its exit status, output in *out. */
static int py_check(const char *h5, const char *dir, const char *from, const char *to, const char *pops, char **out)
{
    ck_assert_msg(access("/usr/bin/python3", X_OK) == 0,
                  "/usr/bin/python3 is missing: the SONATA file cannot be checked with h5py (install python3-h5py)");
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/check_sonata.py' '%s' '%s' %s %s %s 2>&1", tu_src(), h5, dir,
             from, to, pops);
    return tu_run(cmd, out, NULL);
}

START_TEST(test_sonata_roundtrip)
{
    spikes s = make_spikes();
    char *dir = make_run(&s), *out, *err;
    int rc = export_cmd(dir, &out, &err, "DIR", "--to", "sonata", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    char *h5 = path_in(dir, "spikes.h5");
    norn_sonata_spikes *p;
    uint32_t np;
    norn_err e;
    ck_assert_int_eq(norn_sonata_read_spikes(h5, &p, &np, &e), NORN_OK);
    ck_assert_uint_eq(np, 2); /* the recorded ones, in run.json order (not name order) */
    check_sonata_pop(&p[0], "pyr", &s, 0, 6, 0, 100);
    check_sonata_pop(&p[1], "inh", &s, 6, 3, 0, 100);
    norn_sonata_spikes_free(p, np);
    ck_assert_uint_eq(norn_mem_live(), 0);
    char *py;
    rc = py_check(h5, dir, "0", "100", "pyr inh", &py);
    ck_assert_msg(rc == 0 && strcmp(py, "ok\n") == 0, "check_sonata.py (rc %d): %s", rc, py);
    free(py);
    /* the checker can fail: the wrong window */
    rc = py_check(h5, dir, "10", "100", "pyr inh", &py);
    ck_assert_msg(rc != 0 && strstr(py, "spikes, expected"), "check_sonata.py should fail (rc %d): %s", rc, py);
    free(py);
    free(h5);
    free(out);
    free(err);
    free_spikes(&s);
}
END_TEST

START_TEST(test_sonata_window_population)
{
    spikes s = make_spikes();
    char *dir = make_run(&s), *err;
    char *h5 = path_in(dir, "w.h5");
    int rc = export_cmd(dir, NULL, &err, "DIR", "--to", "sonata", "-p", "inh", "--from", "25.5", "--to", "70", "-o", h5,
                        NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    norn_sonata_spikes *p;
    uint32_t np;
    norn_err e;
    ck_assert_int_eq(norn_sonata_read_spikes(h5, &p, &np, &e), NORN_OK);
    ck_assert_uint_eq(np, 1);
    check_sonata_pop(&p[0], "inh", &s, 6, 3, 25.5, 70);
    norn_sonata_spikes_free(p, np);
    char *py;
    rc = py_check(h5, dir, "25.5", "70", "inh", &py);
    ck_assert_msg(rc == 0 && strcmp(py, "ok\n") == 0, "check_sonata.py (rc %d): %s", rc, py);
    free(py);
    free(h5);
    free(err);
    free_spikes(&s);
}
END_TEST

/* The writer on its own: empty populations, bad arguments, no file left. */
START_TEST(test_sonata_writer)
{
    char *dir = tu_tmpdir();
    char *h5 = path_in(dir, "w.h5");
    double t[3] = {1, 2, 2};
    uint32_t id[3] = {4, 0, 4};
    norn_sonata_pop pops[2] = {{"a", t, id, 3}, {"b", NULL, NULL, 0}};
    norn_err e;
    ck_assert_int_eq(norn_sonata_write_spikes(h5, pops, 2, &e), NORN_OK);
    norn_sonata_spikes *p;
    uint32_t np;
    ck_assert_int_eq(norn_sonata_read_spikes(h5, &p, &np, &e), NORN_OK);
    ck_assert_uint_eq(np, 2);
    ck_assert_uint_eq(p[0].n, 3);
    ck_assert(p[0].time_ms[2] == 2 && p[0].node_id[0] == 4 && p[0].node_id[1] == 0);
    ck_assert_uint_eq(p[1].n, 0);
    ck_assert_str_eq(p[1].name, "b");
    norn_sonata_spikes_free(p, np);
    ck_assert_int_eq(n_entries(dir), 1);
    size_t len0;
    char *before = tu_read(h5, &len0);
    /* bad arguments: an error, the old file kept, no temporary left */
    double bad_t[2] = {2, 1};
    norn_sonata_pop unsorted = {"a", bad_t, id, 2};
    ck_assert_int_eq(norn_sonata_write_spikes(h5, &unsorted, 1, &e), NORN_EINVAL);
    ck_assert_msg(strstr(e.msg, "not sorted"), "%s", e.msg);
    norn_sonata_pop slash = {"a/b", t, id, 3};
    ck_assert_int_eq(norn_sonata_write_spikes(h5, &slash, 1, &e), NORN_EINVAL);
    ck_assert_msg(strstr(e.msg, "cannot be an HDF5 group name"), "%s", e.msg);
    norn_sonata_pop twice[2] = {{"a", t, id, 3}, {"a", t, id, 3}};
    ck_assert_int_eq(norn_sonata_write_spikes(h5, twice, 2, &e), NORN_EINVAL);
    ck_assert_msg(strstr(e.msg, "given twice"), "%s", e.msg);
    ck_assert_int_eq(norn_sonata_write_spikes(h5, pops, 0, &e), NORN_EINVAL);
    size_t len1;
    char *after = tu_read(h5, &len1);
    ck_assert(len0 == len1 && memcmp(before, after, len0) == 0);
    ck_assert_int_eq(n_entries(dir), 1);
    /* an unwritable place: NORN_EIO naming the path, with HDF5's reason */
    ck_assert_int_eq(norn_sonata_write_spikes("/nonexistent/dir/x.h5", pops, 2, &e), NORN_EIO);
    ck_assert_str_eq(e.where, "/nonexistent/dir/x.h5");
    ck_assert_msg(strstr(e.msg, "cannot create the file"), "%s", e.msg);
    free(before);
    free(after);
    free(h5);
}
END_TEST

/* Hand-made HDF5 files for the reader. */
static hid_t new_file(const char *path)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(f >= 0);
    return f;
}

static void dset(hid_t g, const char *name, hid_t type, int ndim, hsize_t n, const void *data)
{
    hsize_t dims[2] = {n, 2};
    hid_t sp = H5Screate_simple(ndim, dims, NULL);
    hid_t d = H5Dcreate2(g, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(d >= 0);
    if (n)
        ck_assert(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
}

static void str_attr(hid_t o, const char *name, const char *val)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(val)); /* fixed length, as some writers do */
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(o, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(a >= 0 && H5Awrite(a, t, val) >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

typedef struct {
    const char *kind;
    norn_status code;
    const char *where; /* after the path; "" for the path itself */
    const char *msg;   /* the message starts with it */
} malformed;

static const malformed bad_h5[] = {
    {"text", NORN_EPARSE, "", "not an HDF5 file (no HDF5 signature)"},
    {"empty", NORN_EPARSE, "", "not an HDF5 file (no HDF5 signature)"},
    {"truncated", NORN_EPARSE, "", "truncated or damaged HDF5 file: "},
    {"missing", NORN_EIO, "", "cannot open: No such file or directory"},
    {"nospikes", NORN_EPARSE, "", "no /spikes group: not a SONATA spike file"},
    {"nopops", NORN_EPARSE, ":/spikes", "no population in it"},
    {"no_node_ids", NORN_EPARSE, ":/spikes/pyr", "missing dataset 'node_ids'"},
    {"no_timestamps", NORN_EPARSE, ":/spikes/pyr", "missing dataset 'timestamps'"},
    {"lengths", NORN_EPARSE, ":/spikes/pyr", "timestamps has 3 values but node_ids 2"},
    {"int_times", NORN_EPARSE, ":/spikes/pyr/timestamps", "expected floating-point (float64) values"},
    {"float_ids", NORN_EPARSE, ":/spikes/pyr/node_ids", "expected integer (uint64) values"},
    {"2d", NORN_EPARSE, ":/spikes/pyr/timestamps", "expected a 1-D dataset, got 2 dimensions"},
    {"negative", NORN_EPARSE, ":/spikes/pyr/node_ids", "value 1: negative node id -3"},
    {"old_style", NORN_EPARSE, ":/spikes/gids",
     "expected a population group /spikes/<population> with timestamps and node_ids (an old-style file without "
     "populations?)"},
    {"bad_sorting", NORN_EPARSE, ":/spikes/pyr", "attribute sorting: 'by_colour'; expected none, by_id or by_time"},
};

START_TEST(test_sonata_malformed)
{
    const malformed *m = &bad_h5[_i];
    char *dir = tu_tmpdir();
    char *h5 = path_in(dir, "x.h5");
    double t[3] = {1, 2, 3};
    int64_t ids[3] = {0, -3, 1};
    uint64_t u[3] = {0, 1, 2};
    if (strcmp(m->kind, "text") == 0) {
        free(tu_write(dir, "x.h5", "time_ms,population,neuron\n1,a,0\n"));
    } else if (strcmp(m->kind, "empty") == 0) {
        free(tu_write(dir, "x.h5", ""));
    } else if (strcmp(m->kind, "truncated") == 0) {
        norn_sonata_pop p = {"pyr", t, (uint32_t[]){0, 1, 2}, 3};
        norn_err e;
        ck_assert_int_eq(norn_sonata_write_spikes(h5, &p, 1, &e), NORN_OK);
        struct stat sb;
        ck_assert_int_eq(stat(h5, &sb), 0);
        ck_assert_int_eq(truncate(h5, sb.st_size / 2), 0);
    } else if (strcmp(m->kind, "missing") != 0) {
        hid_t f = new_file(h5);
        if (strcmp(m->kind, "nospikes") == 0) {
            hid_t g = H5Gcreate2(f, "other", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5Gclose(g);
        } else {
            hid_t sp = H5Gcreate2(f, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (strcmp(m->kind, "old_style") == 0) {
                dset(sp, "timestamps", H5T_NATIVE_DOUBLE, 1, 3, t);
                dset(sp, "gids", H5T_NATIVE_UINT64, 1, 3, u);
            } else if (strcmp(m->kind, "nopops") != 0) {
                hid_t g = H5Gcreate2(sp, "pyr", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
                if (strcmp(m->kind, "bad_sorting") == 0)
                    str_attr(g, "sorting", "by_colour");
                if (strcmp(m->kind, "no_timestamps") != 0)
                    dset(g, "timestamps", strcmp(m->kind, "int_times") == 0 ? H5T_NATIVE_UINT64 : H5T_NATIVE_DOUBLE,
                         strcmp(m->kind, "2d") == 0 ? 2 : 1, strcmp(m->kind, "2d") == 0 ? 1 : 3,
                         strcmp(m->kind, "int_times") == 0 ? (const void *)u : (const void *)t);
                if (strcmp(m->kind, "no_node_ids") != 0) {
                    if (strcmp(m->kind, "float_ids") == 0)
                        dset(g, "node_ids", H5T_NATIVE_DOUBLE, 1, 3, t);
                    else if (strcmp(m->kind, "negative") == 0)
                        dset(g, "node_ids", H5T_NATIVE_INT64, 1, 3, ids);
                    else
                        dset(g, "node_ids", H5T_NATIVE_UINT64, 1, strcmp(m->kind, "lengths") == 0 ? 2 : 3, u);
                }
                H5Gclose(g);
            }
            H5Gclose(sp);
        }
        H5Fclose(f);
    }
    norn_sonata_spikes *p = (norn_sonata_spikes *)&p;
    uint32_t np = 12345;
    norn_err e;
    norn_err_clear(&e);
    norn_status st = norn_sonata_read_spikes(h5, &p, &np, &e);
    ck_assert_msg(st == m->code, "%s: status %d (%s: %s)", m->kind, st, e.where, e.msg);
    char want_where[4400];
    snprintf(want_where, sizeof want_where, "%s%s", h5, m->where);
    ck_assert_str_eq(e.where, want_where);
    ck_assert_msg(strncmp(e.msg, m->msg, strlen(m->msg)) == 0, "%s: message '%s', want '%s...'", m->kind, e.msg,
                  m->msg);
    ck_assert_msg(p == (norn_sonata_spikes *)&p && np == 12345, "outputs touched on failure");
    ck_assert_uint_eq(norn_mem_live(), 0);
    free(h5);
}
END_TEST

/* A SONATA file from another writer: name order, string sorting, signed
 * ids, float32 times, fixed-length units. */
START_TEST(test_sonata_foreign)
{
    char *dir = tu_tmpdir();
    char *h5 = path_in(dir, "x.h5");
    hid_t f = new_file(h5);
    hid_t sp = H5Gcreate2(f, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(sp, "zeta", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    float t[2] = {0.5f, 1.25f};
    int32_t id[2] = {3, 1};
    dset(g, "timestamps", H5T_NATIVE_FLOAT, 1, 2, t);
    dset(g, "node_ids", H5T_NATIVE_INT32, 1, 2, id);
    str_attr(g, "sorting", "by_time");
    hid_t d = H5Dopen2(g, "timestamps", H5P_DEFAULT);
    str_attr(d, "units", "ms");
    H5Dclose(d);
    H5Gclose(g);
    g = H5Gcreate2(sp, "alpha", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    dset(g, "timestamps", H5T_NATIVE_FLOAT, 1, 0, NULL);
    dset(g, "node_ids", H5T_NATIVE_INT32, 1, 0, NULL);
    H5Gclose(g);
    H5Gclose(sp);
    H5Fclose(f);
    norn_sonata_spikes *p;
    uint32_t np;
    norn_err e;
    ck_assert_int_eq(norn_sonata_read_spikes(h5, &p, &np, &e), NORN_OK);
    ck_assert_uint_eq(np, 2);
    ck_assert_str_eq(p[0].name, "alpha");
    ck_assert_uint_eq(p[0].n, 0);
    ck_assert_int_eq(p[0].sorting, NORN_SONATA_SORT_ABSENT);
    ck_assert_str_eq(p[0].units, "");
    ck_assert_str_eq(p[1].name, "zeta");
    ck_assert_int_eq(p[1].sorting, NORN_SONATA_SORT_BY_TIME);
    ck_assert_str_eq(p[1].units, "ms");
    ck_assert(p[1].n == 2 && p[1].time_ms[1] == 1.25 && p[1].node_id[0] == 3 && p[1].node_id[1] == 1);
    norn_sonata_spikes_free(p, np);
    ck_assert_uint_eq(norn_mem_live(), 0);
    free(h5);
}
END_TEST

/* End to end: a real run (NORN_BIN) whose projection's weights come from a
 * dense [post, pre] file; the exported last snapshot is that file, bit for
 * bit. Its spikes go to SONATA and are checked with h5py. */
START_TEST(test_real_run)
{
    char *dir = tu_tmpdir();
    float w[4 * 6];
    for (int k = 0; k < 24; k++)
        w[k] = k % 3 == 0 ? 0.0f : 0.25f * (float)(k - 11);
    uint64_t shape[2] = {4, 6};
    char *wnpy = path_in(dir, "w.npy");
    norn_err e;
    ck_assert_int_eq(norn_npy_write_f32(wnpy, w, 2, shape, &e), NORN_OK);
    char *yaml = tu_write(dir, "net.yaml",
                          "simulation: {duration: 50, resolution: 0.1, mode: grid, name: wrt}\n"
                          "populations:\n"
                          "  a: {model: iaf_delta, size: 6}\n"
                          "  b: {model: iaf_delta, size: 2}\n"
                          "  c: {model: iaf_delta, size: 2}\n"
                          "stimuli:\n"
                          "  - {type: poisson, rate: 20000, to: a, weight: 1}\n"
                          "projections:\n"
                          "  - {name: ab, from: a, to: [b, c], weight: {file: w.npy}, delay: 1}\n"
                          "record: {spikes: all, weights: [{projection: ab, every: 10}]}\n");
    char cmd[9000], *out, *err;
    snprintf(cmd, sizeof cmd, "'%s' run '%s' -o '%s/run' --quiet", tu_bin(), yaml, dir);
    int rc = tu_run(cmd, &out, &err);
    ck_assert_msg(rc == 0, "norn run failed (%s): %s", tu_bin(), err);
    free(out);
    free(err);
    char *run = path_in(dir, "run");
    rc = export_cmd(run, NULL, &err, "DIR", "--what", "weights", "--projection", "ab", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    free(err);
    char *dense = path_in(run, "weights_ab_dense.npy");
    norn_npy_array a;
    ck_assert_int_eq(norn_npy_read(dense, &a, &e), NORN_OK);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_uint_eq(a.shape[0], 4);
    ck_assert_uint_eq(a.shape[1], 6);
    for (int k = 0; k < 24; k++)
        ck_assert_msg(a.data[k] == w[k], "[%d, %d]: %g, want %g", k / 6, k % 6, a.data[k], w[k]);
    norn_npy_array_free(&a);
    rc = export_cmd(run, NULL, &err, "DIR", "--to", "sonata", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    free(err);
    char *h5 = path_in(run, "spikes.h5");
    rc = py_check(h5, run, "0", "50", "a b c", &out);
    ck_assert_msg(rc == 0 && strcmp(out, "ok\n") == 0, "check_sonata.py (rc %d): %s", rc, out);
    free(out);
    free(h5);
    free(dense);
    free(run);
    free(yaml);
    free(wnpy);
}
END_TEST

/* ------------------------------------------------------------------ */
/* csv                                                                  */

START_TEST(test_csv)
{
    spikes s = make_spikes();
    char *dir = make_run(&s), *out, *err;
    int rc =
        export_cmd(dir, &out, &err, "DIR", "--to", "csv", "--population", "inh", "--from", "20", "--to", "60.05", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    char *file = path_in(dir, "spikes_export.csv");
    double *t, *wt = malloc(s.n * sizeof *wt);
    uint32_t *g;
    uint64_t n, *wid = malloc(s.n * sizeof *wid);
    norn_err e;
    ck_assert_int_eq(norn_csv_read_spikes(file, &t, &g, &n, &e), NORN_OK);
    uint64_t m = expected(&s, 6, 3, 20, 60.05, wt, wid);
    ck_assert_uint_eq(n, m);
    ck_assert_uint_gt(m, 300); /* the saturating burst is in */
    for (uint64_t k = 0; k < m; k++) {
        ck_assert_msg(t[k] == wt[k], "spike %llu: %.17g, want %.17g", (unsigned long long)k, t[k], wt[k]);
        ck_assert_uint_eq(g[k], wid[k]);
    }
    norn_free(t);
    norn_free(g);
    /* every line names inh */
    char *text = tu_read(file, NULL);
    ck_assert_msg(strncmp(text, "time_ms,population,neuron\n", 26) == 0, "%s", text);
    uint64_t lines = 0;
    for (char *l = strchr(text, '\n') + 1; *l; l = strchr(l, '\n') + 1, lines++)
        ck_assert_msg(strncmp(strchr(l, ','), ",inh,", 5) == 0, "line %llu: %.40s", (unsigned long long)lines, l);
    ck_assert_uint_eq(lines, m);
    free(text);
    free(err);
    /* all recorded populations by default: "off" is left out */
    rc = export_cmd(dir, NULL, &err, "DIR", "--to", "csv", "-o", file, NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    ck_assert_int_eq(norn_csv_read_spikes(file, &t, &g, &n, &e), NORN_OK);
    uint64_t m1 = expected(&s, 0, 6, 0, 100, wt, wid), m2 = expected(&s, 6, 3, 0, 100, wt, wid);
    ck_assert_uint_eq(n, m1 + m2);
    norn_free(t);
    norn_free(g);
    free(wt);
    free(wid);
    free(file);
    free(out);
    free(err);
    free_spikes(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* bad input                                                            */

typedef struct {
    const char *setup;
    const char *args[10];
    int rc;
    const char *want; /* stderr starts with it; DIR is replaced */
} bad_case;

static const bad_case bad[] = {
    {NULL, {"DIR"}, 2, "norn: export: --to FORMAT is required (dense, sonata or csv)\n"},
    {NULL, {"DIR", "--to", "parquet"}, 2, "norn: --to: expected dense, sonata or csv (or a time in ms), got 'parquet'"},
    {NULL, {"DIR", "--format", "csv", "--to", "dense"}, 2, "norn: --to: a second format 'dense'; give one"},
    {NULL, {"/nonexistent/run", "--to", "csv"}, 2, "norn: /nonexistent/run: no such directory"},
    {"nojson", {"DIR", "--to", "csv"}, 2, "norn: DIR/run.json: cannot open: No such file or directory"},
    {"nospikes", {"DIR", "--to", "csv"}, 2, "norn: DIR/spikes.npy: cannot open"},
    {NULL,
     {"DIR", "--to", "csv", "-p", "exc"},
     2,
     "norn: --population: unknown population 'exc'; known: pyr, inh, off"},
    {NULL,
     {"DIR", "--to", "sonata", "-p", "off"},
     2,
     "norn: --population: population 'off': its spikes were not recorded"},
    {NULL, {"DIR", "--to", "sonata", "--bin", "1"}, 2, "norn: --bin: only for --to dense"},
    {NULL, {"DIR", "--to", "dense", "--bin", "0"}, 2, "norn: --bin: expected a bin width in ms > 0, got '0'"},
    {NULL, {"DIR", "--to", "dense", "--from", "50", "--to", "50"}, 2, "norn: --to: the window (50, 50] ms is empty"},
    {NULL, {"DIR", "--to", "csv", "-o", "DIR/spikes.csv"}, 2, "norn: DIR/spikes.csv: is the run's own spikes.csv"},
    {NULL, {"DIR", "--to", "dense", "-o", "DIR/spikes.npy"}, 2, "norn: DIR/spikes.npy: is the run's own spikes.npy"},
    {NULL, {"DIR", "--what", "weights"}, 2, "norn: --projection: --what weights needs --projection NAME"},
    {NULL, {"DIR", "--what", "weights", "--projection", "pp", "--to", "csv"}, 2, "norn: --to: not with --what weights"},
    {NULL, {"DIR", "--to", "dense", "--projection", "pp"}, 2, "norn: --projection: only with --what weights"},
    {NULL, {"DIR", "--what", "synapses"}, 2, "norn: --what: expected spikes or weights, got 'synapses'"},
    {NULL,
     {"DIR", "--what", "weights", "--projection", "zz"},
     2,
     "norn: --projection: unknown projection 'zz'; run.json lists: pp, ip"},
    {NULL,
     {"DIR", "--what", "weights", "--projection", "ip"},
     2,
     "norn: DIR/weights_ip.npy: cannot open: No such file or directory (were the weights of 'ip' recorded?)"},
    {"w_post",
     {"DIR", "--what", "weights", "--projection", "ip"},
     2,
     "norn: DIR/weights_ip.npy: record 1: post index 6 out of range: the projection's target populations have in "
     "all 6 neurons"},
    {"w_pre",
     {"DIR", "--what", "weights", "--projection", "ip"},
     2,
     "norn: DIR/weights_ip.npy: record 0: pre index 3 out of range: the projection's source population has 3 "
     "neurons"},
    {"w_size",
     {"DIR", "--what", "weights", "--projection", "pp"},
     2,
     "norn: DIR/run.json:12:85: projections 'pp'.post_size: '8', but its to populations have 9 neurons"},
    {"w_nofield",
     {"DIR", "--what", "weights", "--projection", "ip"},
     2,
     "norn: DIR/weights_ip.npy: no field 'weight' (expected fields pre, post, weight, time_ms)"},
    {"w_short",
     {"DIR", "--what", "weights", "--projection", "ip"},
     2,
     "norn: DIR/weights_ip.npy: 2 records of 20 bytes need more bytes of data, the file has 20"},
    {"w_plain",
     {"DIR", "--what", "weights", "--projection", "ip"},
     2,
     "norn: DIR/weights_ip.npy: dtype '<f4': expected a structured array with fields pre, post, weight, time_ms"},
    {NULL, {"DIR", "--to", "csv", "--frob"}, 2, "norn: export: unknown option '--frob'"},
    {NULL, {"DIR", "--to"}, 2, "norn: export: option '--to' needs a value"},
    {NULL, {"DIR", "DIR", "--to", "csv"}, 2, "norn: export: expected one run directory, got 2"},
    {NULL, {"DIR", "--to", "dense", "-o", "/nonexistent/x.npy"}, 1, "norn: /nonexistent/x.npy: cannot create"},
    {NULL, {"DIR", "--to", "sonata", "-o", "/nonexistent/x.h5"}, 1, "norn: /nonexistent/x.h5: cannot create the file"},
};

static char *replace_dir(const char *s, const char *dir)
{
    size_t n = strlen(s) + 4 * strlen(dir) + 1;
    char *o = malloc(n), *w = o;
    for (const char *p = s; *p;) {
        if (strncmp(p, "DIR", 3) == 0) {
            w += sprintf(w, "%s", dir);
            p += 3;
        } else {
            *w++ = *p++;
        }
    }
    *w = 0;
    return o;
}

static void write_npy_text(const char *dir, const char *dict, const void *data, size_t bytes)
{
    char *path = path_in(dir, "weights_ip.npy");
    FILE *f = fopen(path, "wb");
    size_t len = strlen(dict), pad = (64 - (10 + len + 1) % 64) % 64, hl = len + pad + 1;
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc((int)(hl & 255), f);
    fputc((int)(hl >> 8), f);
    fwrite(dict, 1, len, f);
    for (size_t k = 0; k < pad; k++)
        fputc(' ', f);
    fputc('\n', f);
    fwrite(data, 1, bytes, f);
    fclose(f);
    free(path);
}

START_TEST(test_bad_input)
{
    const bad_case *b = &bad[_i];
    spikes s = make_spikes();
    char *dir = make_run(&s);
    if (b->setup) {
        char *js = path_in(dir, "run.json"), *npy = path_in(dir, "spikes.npy");
        if (strcmp(b->setup, "nojson") == 0)
            unlink(js);
        else if (strcmp(b->setup, "nospikes") == 0)
            unlink(npy);
        else if (strcmp(b->setup, "w_post") == 0) {
            wrec r[2] = {{0, 5, 1.0f, 10}, {0, 6, 1.0f, 10}}; /* ip's targets: pyr, 6 neurons */
            write_weights(dir, "ip", r, 2);
        } else if (strcmp(b->setup, "w_pre") == 0) {
            wrec r[1] = {{3, 0, 1.0f, 10}}; /* ip's source: inh, 3 neurons */
            write_weights(dir, "ip", r, 1);
        } else if (strcmp(b->setup, "w_size") == 0) {
            char *j = strdup(run_json), *at = strstr(j, "\"post_size\": 9");
            at[13] = '8';
            free(tu_write(dir, "run.json", j));
            free(j);
            write_weights(dir, "pp", pp_recs, 1);
        } else if (strcmp(b->setup, "w_nofield") == 0) {
            write_npy_text(dir,
                           "{'descr': [('pre', '<u4'), ('post', '<u4'), ('w', '<f4'), ('time_ms', '<f8')], "
                           "'fortran_order': False, 'shape': (0,), }",
                           "", 0);
        } else if (strcmp(b->setup, "w_short") == 0) {
            char data[20] = {0};
            write_npy_text(dir,
                           "{'descr': [('pre', '<u4'), ('post', '<u4'), ('weight', '<f4'), ('time_ms', '<f8')], "
                           "'fortran_order': False, 'shape': (2,), }",
                           data, 20);
        } else if (strcmp(b->setup, "w_plain") == 0) {
            float data[2] = {1, 2};
            write_npy_text(dir, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data, 8);
        }
        free(js);
        free(npy);
    }
    int before = n_entries(dir);
    size_t csv_len0;
    char *csv_path = path_in(dir, "spikes.csv"), *csv0 = tu_read(csv_path, &csv_len0);
    const char *a[10] = {0};
    char *own[10] = {0};
    for (int k = 0; k < 10 && b->args[k]; k++)
        a[k] = strncmp(b->args[k], "DIR", 3) == 0 && k > 0 ? (own[k] = replace_dir(b->args[k], dir)) : b->args[k];
    char *out, *err;
    int rc = export_cmd(dir, &out, &err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], NULL);
    char *want = replace_dir(b->want, dir);
    ck_assert_msg(rc == b->rc, "case %d: rc %d, stderr: %s", _i, rc, err);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "case %d: stderr\n  %s\nwanted it to start with\n  %s", _i,
                  err, want);
    ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "case %d: not one line: %s", _i, err);
    ck_assert_msg(*out == 0, "case %d: stdout not empty: %s", _i, out);
    ck_assert_msg(n_entries(dir) == before, "case %d: a file was written", _i);
    size_t csv_len1;
    char *csv1 = tu_read(csv_path, &csv_len1);
    ck_assert(csv_len0 == csv_len1 && memcmp(csv0, csv1, csv_len0) == 0);
    free(csv0);
    free(csv1);
    free(csv_path);
    for (int k = 0; k < 10; k++)
        free(own[k]);
    free(want);
    free(out);
    free(err);
    free_spikes(&s);
}
END_TEST

START_TEST(test_help)
{
    char *out, *err;
    ck_assert_int_eq(export_cmd("", &out, &err, "--help", NULL), 0);
    ck_assert_msg(strstr(out, "usage: norn export DIR") != NULL, "%s", out);
    free(out);
    free(err);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("dense");
    tcase_add_test(tc, test_dense_default);
    tcase_add_test(tc, test_dense_window_population);
    tcase_add_test(tc, test_unsorted_input);
    tcase_add_test(tc, test_weights_dense);
    tcase_add_test(tc, test_weights_layouts);
    suite_add_tcase(s, tc);
    tc = tcase_create("sonata");
    tcase_add_test(tc, test_sonata_roundtrip);
    tcase_add_test(tc, test_sonata_window_population);
    tcase_add_test(tc, test_sonata_writer);
    tcase_add_test(tc, test_sonata_foreign);
    tcase_add_loop_test(tc, test_sonata_malformed, 0, (int)(sizeof bad_h5 / sizeof bad_h5[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("real_run");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_real_run);
    suite_add_tcase(s, tc);
    tc = tcase_create("csv");
    tcase_add_test(tc, test_csv);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad_input");
    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_help);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(suite()); }
