/* tests/test_nir.c - NIR import (io/nir.c, tools/import.c) and the
 * from_list connection rule.
 *
 * tests/make_nir.py writes the NIR files with h5py and computes the
 * references with NumPy: a graph with every node type norn imports runs
 * bit for bit as Norse's float32 steps (readout state at every step,
 * spikes of every population); conv/pool chains expand to exactly the
 * dense matrix numpy's definitions give; every defect gives its message,
 * exit code 2 and no output directory. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"
#include "engine/sim.h"
#include "io/build.h"
#include "io/desc.h"
#include "io/nir.h"
#include "io/npy.h"
#include "testutil.h"
#include "tools/import.h"

static char *g_dir; /* make_nir.py's output, made once in the parent process */

static void make_files(void)
{
    if (g_dir)
        return;
    g_dir = tu_tmpdir();
    char cmd[4096], *out = NULL, *err = NULL;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/make_nir.py %s", tu_src(), g_dir);
    int rc = tu_run(cmd, &out, &err);
    if (rc != 0) {
        fprintf(stderr, "make_nir.py failed (%d; needs python3-h5py and numpy):\n%s\n%s\n", rc, out, err);
        abort();
    }
    free(out);
    free(err);
}

static const char *f(const char *name)
{
    static char buf[8][8400];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static int import_cmd(const char *dir, char **out, char **err, ...)
{
    va_list ap;
    va_start(ap, err);
    int rc = tu_cli(norn_cli_import, "import", dir, out, err, ap);
    va_end(ap);
    return rc;
}

/* a [rows, cols] .npy of float32 values, as floats */
static float *load_f32(const char *path, uint64_t *rows, uint64_t *cols)
{
    norn_npy_array a;
    norn_err err;
    ck_assert_msg(norn_npy_read(path, &a, &err) == NORN_OK, "%s: %s", err.where, err.msg);
    ck_assert_int_eq(a.ndim, 2);
    float *x = malloc(a.count * sizeof *x + 1);
    for (uint64_t k = 0; k < a.count; k++)
        x[k] = (float)a.data[k];
    *rows = a.shape[0];
    *cols = a.shape[1];
    norn_npy_array_free(&a);
    return x;
}

/* ------------------------------------------------------------------ */
/* every node type, bit for bit against Norse's steps                   */

static const struct {
    const char *name;
    uint32_t size;
} full_pops[] = {{"in.img", 72}, {"in.seq", 24}, {"cubali", 5}, {"lif.a", 144},
                 {"if.a", 6},    {"integ", 3},   {"lifbox", 27}, {"li", 4}};
enum { N_FULL = sizeof full_pops / sizeof full_pops[0] };

static void check_full_run(const char *out)
{
    static const char *const states[][2] = {{"cubali", "v"}, {"cubali", "i"}, {"li", "v"},     {"integ", "v"},
                                             {"if.a", "v"},   {"lif.a", "v"},  {"lif.a", "i"}};
    char a[4200], b[4200];
    for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
        snprintf(a, sizeof a, "%s/state_%s_%s.npy", out, states[k][0], states[k][1]);
        snprintf(b, sizeof b, "ref_%s_%s.npy", states[k][0], states[k][1]);
        uint64_t r1, c1, r2, c2;
        float *x = load_f32(a, &r1, &c1), *y = load_f32(f(b), &r2, &c2);
        ck_assert_msg(r1 == r2 && c1 == c2, "%s: shape (%llu, %llu), reference (%llu, %llu)", a,
                      (unsigned long long)r1, (unsigned long long)c1, (unsigned long long)r2, (unsigned long long)c2);
        for (uint64_t i = 0; i < r1 * c1; i++)
            ck_assert_msg(memcmp(&x[i], &y[i], sizeof(float)) == 0, "%s_%s step %llu neuron %llu: %.9g, Norse %.9g",
                          states[k][0], states[k][1], (unsigned long long)(i / c1), (unsigned long long)(i % c1),
                          x[i], y[i]);
        free(x);
        free(y);
    }
    /* spikes of every population, step by step */
    double *t;
    uint32_t *g;
    uint64_t n;
    norn_err err;
    snprintf(a, sizeof a, "%s/spikes.npy", out);
    ck_assert(norn_npy_read_spikes(a, &t, &g, &n, &err) == NORN_OK);
    uint32_t first = 0;
    uint64_t total = 0;
    for (int p = 0; p < N_FULL; p++) {
        snprintf(b, sizeof b, "ref_spikes_%s.npy", full_pops[p].name);
        uint64_t T, cols;
        float *ref = load_f32(f(b), &T, &cols);
        ck_assert_uint_eq(cols, full_pops[p].size);
        uint8_t *got = calloc(T * cols, 1);
        for (uint64_t k = 0; k < n; k++) {
            if (g[k] < first || g[k] >= first + full_pops[p].size)
                continue;
            double step = t[k] / 0.5 - 1; /* step s is stamped (s + 1) dt */
            ck_assert(step == floor(step) && step >= 0 && step < (double)T);
            got[(uint64_t)step * cols + (g[k] - first)] = 1;
        }
        uint64_t cnt = 0;
        for (uint64_t i = 0; i < T * cols; i++) {
            ck_assert_msg(got[i] == (ref[i] != 0), "%s: step %llu neuron %llu: norn %d, Norse %d", full_pops[p].name,
                          (unsigned long long)(i / cols), (unsigned long long)(i % cols), got[i], ref[i] != 0);
            cnt += got[i];
        }
        printf("  %-8s %5llu spikes, as Norse's steps\n", full_pops[p].name, (unsigned long long)cnt);
        total += cnt;
        free(got);
        free(ref);
        first += full_pops[p].size;
    }
    ck_assert_uint_eq(total, n);
    ck_assert_uint_gt(total, 2000); /* the reference is not silent */
    norn_free(t);
    norn_free(g);
}

START_TEST(test_full_graph)
{
    char *dir = tu_tmpdir(), *out, *err, args[8192];
    int rc = import_cmd(dir, &out, &err, f("full.nir"), "-o", "DIR/m", "--dt", "0.5", "--input", f("input.npy"), NULL);
    ck_assert_msg(rc == 0, "import failed (%d): %s", rc, err);
    printf("%s", out);
    /* one line per population and projection, the totals */
    ck_assert_ptr_nonnull(strstr(out, "population lif.a"));
    ck_assert_ptr_nonnull(strstr(out, "projection lif.a_to_lifbox"));
    ck_assert_ptr_nonnull(strstr(out, "8 populations, 285 neurons, 7 projections"));
    free(out);
    free(err);
    /* populations in simulation order: Inputs, then topologically */
    char path[4200];
    snprintf(path, sizeof path, "%s/m/model.yaml", dir);
    char *yaml = tu_read(path, NULL);
    ck_assert_ptr_nonnull(yaml);
    const char *prev = yaml;
    for (int p = 0; p < N_FULL; p++) {
        char key[64];
        snprintf(key, sizeof key, "\n  \"%s\": {model:", full_pops[p].name);
        const char *at = strstr(yaml, key);
        ck_assert_msg(at && at > prev, "population %s missing or out of order in\n%s", full_pops[p].name, yaml);
        prev = at;
    }
    ck_assert_ptr_nonnull(strstr(yaml, "\"lif.a\": {model: lif, size: 144, params: {tau_syn_inv: 200, tau_mem_inv: "
                                       "100, v_leak: 0, v_th: 0.375, v_reset: 0}}"));
    ck_assert_ptr_nonnull(strstr(yaml, "\"lifbox\": {model: lif_box, size: 27, params: {tau_mem_inv: 50"));
    ck_assert_ptr_nonnull(strstr(yaml, "\"integ\": {model: iaf, size: 3, params: {v_th: 3.4028234663852886e+38"));
    ck_assert_ptr_nonnull(strstr(yaml, "connect: {rule: from_list, file: \"syn_lif.a_to_lifbox.npy\"}"));
    ck_assert_ptr_nonnull(strstr(yaml, "{name: \"if.a_to_if.a\", from: \"if.a\", to: \"if.a\", delay: 0.5"));
    ck_assert_ptr_nonnull(strstr(yaml, "{name: \"lifbox_to_li\", from: \"lifbox\", to: \"li\", delay: 0.5"));
    ck_assert_ptr_nonnull(strstr(yaml, "{name: \"lif.a_to_lifbox\", from: \"lif.a\", to: \"lifbox\", delay: 0,"));
    ck_assert_ptr_nonnull(strstr(yaml, "{type: current_tensor, file: \"bias_lifbox.npy\", to: \"lifbox\"}"));
    ck_assert_ptr_nonnull(strstr(yaml, "simulation: {mode: euler, resolution: 0.5, duration: 30, name: \"full\"}"));
    free(yaml);
    snprintf(args, sizeof args, "run %s/m/model.yaml -o %s/o -q", dir, dir);
    rc = tu_norn(args, &out, &err);
    ck_assert_msg(rc == 0, "run failed (%d): %s", rc, err);
    free(out);
    free(err);
    snprintf(path, sizeof path, "%s/o", dir);
    check_full_run(path);
    /* norn run MODEL.nir imports in passing: the same spikes, byte for byte */
    snprintf(args, sizeof args, "run %s --input %s --dt 0.5 -o %s/o2 -q", f("full.nir"), f("input.npy"), dir);
    rc = tu_norn(args, &out, &err);
    ck_assert_msg(rc == 0, "run of the .nir failed (%d): %s", rc, err);
    free(out);
    free(err);
    char p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%s/o/spikes.npy", dir);
    snprintf(p2, sizeof p2, "%s/o2/spikes.npy", dir);
    size_t l1, l2;
    char *s1 = tu_read(p1, &l1), *s2 = tu_read(p2, &l2);
    ck_assert(s1 && s2 && l1 == l2 && memcmp(s1, s2, l1) == 0);
    free(s1);
    free(s2);
    snprintf(p2, sizeof p2, "%s/o2", dir);
    check_full_run(p2);
}
END_TEST

/* The reader itself: shapes re-derived, bools read, keys with '.'. */
START_TEST(test_reader)
{
    norn_nir_graph *g;
    norn_err err;
    ck_assert_msg(norn_nir_read(f("full.nir"), &g, &err) == NORN_OK, "%s: %s", err.where, err.msg);
    ck_assert_str_eq(g->version, "1.0.7");
    ck_assert_uint_eq(g->n_nodes, 29);
    ck_assert_uint_eq(g->n_edges, 28);
    static const struct {
        const char *key;
        int ndim;
        uint64_t d[3];
    } shapes[] = {{"conv2d.a", 3, {4, 6, 6}}, {"pool.sum", 3, {4, 3, 3}}, {"conv2d.b", 3, {3, 3, 3}},
                  {"pool.avg", 3, {4, 5, 5}}, {"flat.a", 1, {100}},      {"conv1d", 2, {2, 4}},
                  {"lif.a", 3, {4, 6, 6}},    {"li", 1, {4}},           {"out.lif", 3, {4, 6, 6}}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const norn_nir_node *nd = NULL;
        for (uint32_t i = 0; i < g->n_nodes; i++)
            if (strcmp(g->nodes[i].key, shapes[k].key) == 0)
                nd = &g->nodes[i];
        ck_assert_msg(nd != NULL, "no node %s", shapes[k].key);
        ck_assert_int_eq(nd->out.ndim, shapes[k].ndim);
        for (int d = 0; d < shapes[k].ndim; d++)
            ck_assert_uint_eq(nd->out.dim[d], shapes[k].d[d]);
        if (strcmp(shapes[k].key, "conv2d.a") == 0) {
            ck_assert_uint_eq(nd->groups, 2);
            ck_assert_uint_eq(nd->p[0], 1); /* 'same' */
            ck_assert_ptr_nonnull(norn_nir_find(nd, "padding")->str);
        }
    }
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].key, "scale.mask") == 0) {
            const norn_nir_data *m = norn_nir_find(&g->nodes[i], "scale");
            ck_assert_uint_eq(m->n, 5);
            double want[5] = {1, 1, 0, 1, 1};
            for (int k = 0; k < 5; k++)
                ck_assert(m->data[k] == want[k]);
        }
    norn_nir_graph_free(g);
    /* fixed-length strings (conv_1.nir) */
    ck_assert_msg(norn_nir_read(f("conv_1.nir"), &g, &err) == NORN_OK, "%s: %s", err.where, err.msg);
    ck_assert_str_eq(g->nodes[0].key, "op0");
    norn_nir_graph_free(g);
    ck_assert_uint_eq(norn_mem_live(), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* conv / pool expansion against numpy's definitions                    */

START_TEST(test_expansion)
{
    char name[64], *dir = tu_tmpdir(), *out, *err;
    snprintf(name, sizeof name, "conv_%d.nir", _i);
    int rc = import_cmd(dir, &out, &err, f(name), "-o", "DIR/m", "--steps", "1", "-q", NULL);
    ck_assert_msg(rc == 0, "import %s failed (%d): %s", name, rc, err);
    free(out);
    free(err);
    snprintf(name, sizeof name, "m_%d.npy", _i);
    norn_npy_array m;
    norn_err e;
    ck_assert(norn_npy_read(f(name), &m, &e) == NORN_OK);
    uint64_t rows = m.shape[0], cols = m.shape[1], nnz = 0;
    for (uint64_t k = 0; k < m.count; k++)
        nnz += m.data[k] != 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/m/syn_x_to_y.npy", dir);
    uint32_t *pre, *post;
    double *w, *d;
    uint64_t n;
    ck_assert_msg(norn_npy_read_synapses(path, &pre, &post, &w, &d, &n, &e) == NORN_OK, "%s: %s", e.where, e.msg);
    ck_assert_ptr_null(d);
    double *got = calloc(rows * cols, sizeof *got);
    for (uint64_t k = 0; k < n; k++) {
        ck_assert(pre[k] < cols && post[k] < rows);
        ck_assert_msg(got[post[k] * cols + pre[k]] == 0, "synapse %u -> %u listed twice", pre[k], post[k]);
        ck_assert(w[k] != 0);
        got[post[k] * cols + pre[k]] = w[k];
        if (k)
            ck_assert(pre[k] > pre[k - 1] || (pre[k] == pre[k - 1] && post[k] > post[k - 1]));
    }
    for (uint64_t i = 0; i < rows * cols; i++)
        ck_assert_msg(got[i] == (double)(float)m.data[i], "case %d: [post %llu, pre %llu] norn %.17g, numpy %.17g", _i,
                      (unsigned long long)(i / cols), (unsigned long long)(i % cols), got[i], m.data[i]);
    ck_assert_uint_eq(n, nnz);
    printf("  conv_%d: %llu x %llu, %llu synapses, as numpy\n", _i, (unsigned long long)rows, (unsigned long long)cols,
           (unsigned long long)n);
    free(got);
    norn_free(pre);
    norn_free(post);
    norn_free(w);
    norn_npy_array_free(&m);
}
END_TEST

/* ------------------------------------------------------------------ */
/* bad files: one message each, exit 2, nothing written                 */

START_TEST(test_errors)
{
    char *list = tu_read(f("errors.txt"), NULL);
    ck_assert_ptr_nonnull(list);
    int cases = 0;
    for (char *save = NULL, *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        *tab = 0;
        const char *file = f(line), *want = tab + 1;
        char *dir = tu_tmpdir(), *out, *err, expect[4400];
        int rc = import_cmd(dir, &out, &err, file, "-o", "DIR/m", NULL);
        snprintf(expect, sizeof expect, "norn: %s: %s", file, want);
        ck_assert_msg(rc == 2, "%s: exit %d, stderr %s", line, rc, err);
        ck_assert_msg(strncmp(err, expect, strlen(expect)) == 0, "%s: stderr\n  %s\nwanted it to start with\n  %s",
                      line, err, expect);
        ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "%s: not one line: %s", line, err);
        ck_assert_msg(*out == 0, "%s: stdout: %s", line, out);
        char m[4200];
        snprintf(m, sizeof m, "%s/m", dir);
        ck_assert_msg(!tu_exists(m), "%s: the output directory was created", line);
        printf("  %s\n", err);
        free(out);
        free(err);
        cases++;
    }
    ck_assert_int_ge(cases, 12);
    free(list);
    /* norn run MODEL.nir says the same */
    char *dir = tu_tmpdir(), args[8192], *out, *err;
    snprintf(args, sizeof args, "run %s --input %s -o %s/o", f("err_missing.nir"), f("input.npy"), dir);
    ck_assert_int_eq(tu_norn(args, &out, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "node 'lif1' (LIF): missing dataset 'tau'"));
    free(out);
    free(err);
}
END_TEST

START_TEST(test_command_line)
{
    char *dir = tu_tmpdir(), *out, *err, path[4200];
    ck_assert_int_eq(import_cmd(dir, &out, &err, "--help", NULL), 0);
    static const char *const doc[] = {"--dt MS", "--time-unit s|ms", "--steps T", "--input FILE.npy",
                                      "CubaLIF -> lif", "CubaLI  -> li", "LIF     -> lif_box", "LI      -> li_box",
                                      "IF      -> iaf", "from_list", "r (and w_in for Cuba*)", "Threshold",
                                      "Exit status"};
    for (size_t k = 0; k < sizeof doc / sizeof doc[0]; k++)
        ck_assert_msg(strstr(out, doc[k]) != NULL, "--help does not mention '%s'", doc[k]);
    free(out);
    free(err);
    ck_assert_int_eq(import_cmd(dir, &out, &err, f("ms.nir"), NULL), 2);
    ck_assert_str_eq(err, "norn: import needs -o DIR (where model.yaml and its data go)\n");
    free(out);
    free(err);
    ck_assert_int_eq(import_cmd(dir, &out, &err, f("ms.nir"), "-o", "DIR/a", "--time-unit", "h", NULL), 2);
    ck_assert_str_eq(err, "norn: --time-unit: expected s or ms, got 'h'\n");
    free(out);
    free(err);
    /* an input tensor of the wrong width */
    ck_assert_int_eq(import_cmd(dir, &out, &err, f("ms.nir"), "-o", "DIR/a", "--input", f("input.npy"), NULL), 2);
    ck_assert_msg(strstr(err, "input.npy: the input spike tensor has 2 dimensions (60, 96); expected [T, 4]") != NULL,
                  "%s", err);
    free(out);
    free(err);
    snprintf(path, sizeof path, "%s/a", dir);
    ck_assert(!tu_exists(path));
    /* times in ms; --steps sets the duration; default name from the file */
    ck_assert_int_eq(import_cmd(dir, &out, &err, f("ms.nir"), "-o", "DIR/a", "--time-unit", "ms", "--steps", "7",
                                "--dt", "0.25", "-q", NULL), 0);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
    snprintf(path, sizeof path, "%s/a/model.yaml", dir);
    char *yaml = tu_read(path, NULL);
    ck_assert_ptr_nonnull(strstr(yaml, "params: {tau_syn_inv: 200, tau_mem_inv: 100, v_leak: 0, v_th: 1, v_reset: 0}"));
    ck_assert_ptr_nonnull(strstr(yaml, "simulation: {mode: euler, resolution: 0.25, duration: 1.75, name: \"ms\"}"));
    ck_assert_ptr_nonnull(strstr(yaml, "file: \"input.npy\""));
    free(yaml);
    /* the same file read in seconds: tau = 5 s */
    ck_assert_int_eq(import_cmd(dir, &out, &err, f("ms.nir"), "-o", "DIR/b", "-q", NULL), 0);
    free(out);
    free(err);
    snprintf(path, sizeof path, "%s/b/model.yaml", dir);
    yaml = tu_read(path, NULL);
    ck_assert_ptr_nonnull(strstr(yaml, "params: {tau_syn_inv: 0.2, tau_mem_inv: 0.1,"));
    ck_assert_ptr_nonnull(strstr(yaml, "duration: 100,"));
    free(yaml);
    /* an empty edge list: populations, no projection; runs */
    ck_assert_int_eq(import_cmd(dir, &out, &err, f("empty_edges.nir"), "-o", "DIR/c", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "2 populations, 4 neurons, 0 projections, 0 synapses"));
    ck_assert_ptr_nonnull(strstr(out, "input: supply"));
    free(out);
    free(err);
    snprintf(path, sizeof path, "%s/c/model.yaml", dir);
    yaml = tu_read(path, NULL);
    ck_assert_ptr_null(strstr(yaml, "projections:"));
    free(yaml);
    /* norn run MODEL.nir needs its input */
    char args[8192];
    snprintf(args, sizeof args, "run %s -o %s/o", f("ms.nir"), dir);
    ck_assert_int_eq(tu_norn(args, &out, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "a NIR model needs --input FILE.npy"));
    free(out);
    free(err);
    /* a failed write leaves no model.yaml: an unwritable directory */
    snprintf(path, sizeof path, "%s/ro", dir);
    ck_assert_int_eq(mkdir(path, 0555), 0);
    if (access(path, W_OK) != 0) { /* not root */
        ck_assert_int_eq(import_cmd(dir, &out, &err, f("full.nir"), "-o", "DIR/ro", NULL), 1);
        snprintf(path, sizeof path, "%s/ro/model.yaml", dir);
        ck_assert(!tu_exists(path));
        free(out);
        free(err);
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* connect: {rule: from_list, file: ...}                                */

static const char *list_yaml(char *buf, size_t cap, const char *mode, const char *file, const char *extra)
{
    snprintf(buf, cap,
             "simulation: {duration: 10, resolution: 1, mode: %s}\n"
             "populations:\n"
             "  x: {model: %s, size: 3}\n"
             "  p: {model: %s, size: 2}\n"
             "  q: {model: %s, size: 2}\n"
             "projections:\n"
             "  - {from: x, to: [p, q], connect: {rule: from_list, file: %s}%s}\n",
             mode, strcmp(mode, "euler") == 0 ? "input" : "parrot", strcmp(mode, "euler") == 0 ? "iaf" : "iaf_delta",
             strcmp(mode, "euler") == 0 ? "iaf" : "iaf_delta", file, extra);
    return buf;
}

static norn_status build_list(const char *mode, const char *file, const char *extra, norn_sim **s, norn_err *err)
{
    char text[2048];
    list_yaml(text, sizeof text, mode, f(file), extra);
    char *dir = tu_tmpdir();
    char *p = tu_write(dir, "a.yaml", text);
    norn_desc *d = NULL;
    norn_status st = norn_desc_load(p, &d, err);
    if (st == NORN_OK) {
        norn_build_info bi;
        st = norn_build(d, s, &bi, err);
        norn_desc_free(d);
    }
    free(p);
    return st;
}

START_TEST(test_from_list_ok)
{
    norn_sim *s = NULL;
    norn_err err;
    /* euler: the targets concatenated (post 0, 1 -> p; 2, 3 -> q); zero
     * weights and repeated pairs are kept */
    ck_assert_msg(build_list("euler", "syn_ok.npy", "", &s, &err) == NORN_OK, "%s: %s", err.where, err.msg);
    ck_assert_uint_eq(norn_sim_n_tables(s), 2);
    const norn_csr *cp = norn_sim_table_csr(s, 0), *cq = norn_sim_table_csr(s, 1);
    ck_assert_uint_eq(cp->nnz, 3); /* (0,1,.5) (1,0,.25) (0,1,.125) */
    ck_assert_uint_eq(cq->nnz, 2); /* (2,3 -> q 1, 1) (1,2 -> q 0, 0) */
    ck_assert_uint_eq(cp->row_ptr[1] - cp->row_ptr[0], 2);
    ck_assert(cp->target[0] == 1 && cp->weight[0] == 0.5f && cp->target[1] == 1 && cp->weight[1] == 0.125f);
    ck_assert(cp->target[2] == 0 && cp->weight[2] == 0.25f);
    ck_assert(cq->target[cq->row_ptr[1]] == 0 && cq->weight[cq->row_ptr[1]] == 0.0f);
    ck_assert(cq->target[cq->row_ptr[2]] == 1 && cq->weight[cq->row_ptr[2]] == 1.0f);
    norn_sim_destroy(s);
    /* other field order and types, an extra field */
    ck_assert_msg(build_list("euler", "syn_mixed.npy", "", &s, &err) == NORN_OK, "%s: %s", err.where, err.msg);
    cq = norn_sim_table_csr(s, 1);
    ck_assert_uint_eq(norn_sim_table_csr(s, 0)->nnz, 1);
    ck_assert(cq->nnz == 1 && cq->target[0] == 1 && cq->weight[0] == 0.5f);
    norn_sim_destroy(s);
    /* grid mode: per-synapse delays, rows sorted by (delay, target), one
     * segment per delay */
    ck_assert_msg(build_list("grid", "syn_delay.npy", "", &s, &err) == NORN_OK, "%s: %s", err.where, err.msg);
    cp = norn_sim_table_csr(s, 0);
    ck_assert_uint_eq(cp->nnz, 3);
    ck_assert_uint_eq(cp->seg_ptr[1] - cp->seg_ptr[0], 2); /* source 0: delays 2 (-> 1) and 3 (-> 0) */
    ck_assert(cp->target[0] == 1 && cp->seg_delay[0] == 2 && cp->target[1] == 0 && cp->seg_delay[1] == 3);
    ck_assert(cp->min_delay == 1 && cp->max_delay == 3);
    norn_sim_destroy(s);
    ck_assert_uint_eq(norn_mem_live(), 0);
}
END_TEST

static const struct {
    const char *mode, *file, *extra, *want;
} bad_lists[] = {
    {"euler", "syn_range.npy", "", "projections[0].connect.file: %s: row 1: field 'post': 9 is out of range: the "
                                   "targets have 4 neurons"},
    {"euler", "syn_pre_range.npy", "", "projections[0].connect.file: %s: row 2: field 'pre': 5 is out of range: 'x' "
                                       "has 3 neurons"},
    {"euler", "syn_nopost.npy", "", "projections[0].connect.file: %s: no field 'post' (a synapse list has fields pre, "
                                    "post, weight and optionally delay"},
    {"euler", "syn_negative.npy", "", "projections[0].connect.file: %s: row 1: field 'pre': -1 is not an index in "
                                      "[0, 4294967294]"},
    {"euler", "syn_plain.npy", "", "projections[0].connect.file: %s: dtype '<f4': a synapse list is a structured "
                                   "array with fields pre, post, weight"},
    {"euler", "syn_delay.npy", "", "projections[0].connect.file: %s: field 'delay': per-synapse delays are not "
                                   "available in euler mode"},
    {"grid", "syn_delay.npy", ", delay: 2", "projections[0]: both 'delay' and the delay field of %s; give one of them"},
    {"euler", "syn_ok.npy", ", weight: 2", "projections[0].weight: from_list takes the weights from its file; remove "
                                           "'weight'"},
};

START_TEST(test_from_list_bad)
{
    norn_sim *s = NULL;
    norn_err err;
    ck_assert(build_list(bad_lists[_i].mode, bad_lists[_i].file, bad_lists[_i].extra, &s, &err) != NORN_OK);
    char want[1024];
    snprintf(want, sizeof want, bad_lists[_i].want, f(bad_lists[_i].file));
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "case %d: %s\nwanted %s", _i, err.msg, want);
    ck_assert_msg(strstr(err.where, "a.yaml:") != NULL, "case %d: where %s", _i, err.where);
    printf("  %s: %s\n", err.where, err.msg);
    ck_assert_uint_eq(norn_mem_live(), 0);
}
END_TEST

START_TEST(test_from_list_desc)
{
    norn_desc *d = NULL;
    norn_err err;
    const char *text = "simulation: {duration: 10, mode: euler}\n"
                       "populations: {x: {model: input, size: 3}, p: {model: iaf, size: 2}}\n"
                       "projections:\n"
                       "  - {from: x, to: p, connect: {rule: from_list}}\n";
    ck_assert(norn_desc_parse(text, strlen(text), "l.yaml", &d, &err) != NORN_OK);
    ck_assert_str_eq(err.where, "l.yaml:4:31");
    ck_assert_str_eq(err.msg, "projections[0].connect: from_list needs 'file'");
    text = "simulation: {duration: 10, mode: euler}\n"
           "populations: {x: {model: input, size: 3}, p: {model: iaf, size: 2}}\n"
           "projections:\n"
           "  - {from: x, to: p, connect: {rule: from_list, file: nope.npy}}\n";
    ck_assert(norn_desc_parse(text, strlen(text), "l.yaml", &d, &err) != NORN_OK);
    ck_assert_msg(strstr(err.msg, "projections[0].connect.file: cannot open 'nope.npy'") != NULL, "%s", err.msg);
    text = "simulation: {duration: 10, mode: euler}\n"
           "populations: {x: {model: input, size: 3}, p: {model: iaf, size: 2}}\n"
           "projections:\n"
           "  - {from: x, to: p, connect: {rule: from_list, file: a.npy, allow_autapses: false}}\n";
    ck_assert(norn_desc_parse(text, strlen(text), "l.yaml", &d, &err) != NORN_OK);
    ck_assert_msg(strstr(err.msg, "unknown key 'allow_autapses' in projections[0].connect; known: rule, file") != NULL,
                  "%s", err.msg);
    ck_assert_uint_eq(norn_mem_live(), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nir");
    TCase *tc = tcase_create("graph");
    tcase_add_unchecked_fixture(tc, make_files, NULL);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_full_graph);
    tcase_add_test(tc, test_reader);
    suite_add_tcase(s, tc);
    tc = tcase_create("expansion");
    tcase_add_unchecked_fixture(tc, make_files, NULL);
    tcase_add_loop_test(tc, test_expansion, 0, 8);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_unchecked_fixture(tc, make_files, NULL);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_command_line);
    suite_add_tcase(s, tc);
    tc = tcase_create("from_list");
    tcase_add_unchecked_fixture(tc, make_files, NULL);
    tcase_add_test(tc, test_from_list_ok);
    tcase_add_loop_test(tc, test_from_list_bad, 0, (int)(sizeof bad_lists / sizeof bad_lists[0]));
    tcase_add_test(tc, test_from_list_desc);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(suite()); }
