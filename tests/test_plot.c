/* tests/test_plot.c - tools/plot: `norn plot raster|traces|weights` and the
 * library functions behind them.
 * Raster: a small known run (two populations: "exc" ids 0..39 firing
 * regularly over the whole 100 ms, "inh" ids 40..49 firing only before
 * 50 ms) is written with norn's own npy writer plus a matching run.json.
 * Traces: known state files (a ramp that stops, a sine, a constant) with
 * known spikes; weights: snapshots going from one mode to two. The PNGs
 * are read back with cairo and checked for size, colours where the data
 * is and blank where it is not, the panels (found by their spines), and
 * positions along the axes; SVG and PDF for their headers; bad inputs for
 * exit code 2, the message and no file written; the library for its
 * argument checks and for ENOMEM from every allocation in turn.
 */
#include <cairo.h>
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/mem.h"
#include "io/npy.h"
#include "testutil.h"
#include "tools/plot.h"

#define BLUE 0x1f77b4u /* first population's colour */
#define RED 0xd62728u  /* second population's colour */

static const char run_json[] =
    "{\n"
    "  \"name\": \"testnet\",\n"
    "  \"mode\": \"grid\",\n"
    "  \"duration_ms\": 100,\n"
    "  \"populations\": [\n"
    "    {\"name\": \"exc\", \"model\": \"iaf_delta\", \"size\": 40, \"first_id\": 0, \"last_id\": 39,\n"
    "     \"spikes\": 400, \"rate_hz\": 100, \"recorded\": \"spikes\"},\n"
    "    {\"name\": \"inh\", \"model\": \"iaf_delta\", \"size\": 10, \"first_id\": 40, \"last_id\": 49,\n"
    "     \"spikes\": 70, \"rate_hz\": 70, \"recorded\": \"spikes\"}\n"
    "  ]\n"
    "}\n";

/* exc neuron i fires at 5 + 10 k + 0.1 i (k < 10); inh neuron j at 2 + 7 k
 * (k < 7, so before 50 ms). Sorted by time. */
static uint64_t make_spikes(double **t, uint32_t **g)
{
    uint64_t n = 40 * 10 + 10 * 7, m = 0;
    *t = malloc(n * sizeof **t);
    *g = malloc(n * sizeof **g);
    for (int i = 0; i < 40; i++)
        for (int k = 0; k < 10; k++) {
            (*t)[m] = 5 + 10 * k + 0.1 * i;
            (*g)[m++] = (uint32_t)i;
        }
    for (int j = 0; j < 10; j++)
        for (int k = 0; k < 7; k++) {
            (*t)[m] = 2 + 7 * k;
            (*g)[m++] = (uint32_t)(40 + j);
        }
    for (uint64_t a = 1; a < n; a++) /* insertion sort by time */
        for (uint64_t b = a; b > 0 && (*t)[b - 1] > (*t)[b]; b--) {
            double tt = (*t)[b];
            (*t)[b] = (*t)[b - 1];
            (*t)[b - 1] = tt;
            uint32_t gg = (*g)[b];
            (*g)[b] = (*g)[b - 1];
            (*g)[b - 1] = gg;
        }
    return n;
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* A run directory with spikes.npy and run.json (json = NULL: the good one). */
static char *make_run(const char *json)
{
    char *dir = tu_tmpdir();
    double *t;
    uint32_t *g;
    uint64_t n = make_spikes(&t, &g);
    char *npy = path_in(dir, "spikes.npy");
    norn_err err;
    norn_err_clear(&err);
    ck_assert_int_eq(norn_npy_write_spikes(npy, t, g, n, &err), NORN_OK);
    free(npy);
    free(t);
    free(g);
    free(tu_write(dir, "run.json", json ? json : run_json));
    return dir;
}

/* Runs norn_cli_plot on a NULL-terminated argument list, "DIR" replaced by
 * dir; stderr captured into *errtext (malloc'd) if not NULL. */
static int plot_cmd(const char *dir, char **errtext, ...)
{
    char *argv[32];
    char *own[32];
    int argc = 0, n_own = 0;
    va_list ap;
    va_start(ap, errtext);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 31;) {
        if (strncmp(a, "DIR", 3) == 0) {
            size_t len = strlen(dir) + strlen(a) + 1;
            own[n_own] = malloc(len);
            snprintf(own[n_own], len, "%s%s", dir, a + 3);
            argv[argc++] = own[n_own++];
        } else {
            argv[argc++] = (char *)a;
        }
    }
    va_end(ap);
    argv[argc] = NULL;
    char tmpl[] = "/tmp/norn-plot-stderr-XXXXXX";
    int fd = mkstemp(tmpl);
    ck_assert_int_ge(fd, 0);
    FILE *null = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(null);
    fflush(stderr);
    fflush(stdout);
    int saved_err = dup(2), saved_out = dup(1);
    dup2(fd, 2);
    dup2(fileno(null), 1); /* "wrote FILE", usage */
    int rc = norn_cli_plot(argc, argv);
    ck_assert_uint_eq(norn_mem_live(), 0); /* nothing leaked, on any path */
    fflush(stderr);
    fflush(stdout);
    dup2(saved_err, 2);
    dup2(saved_out, 1);
    close(saved_err);
    close(saved_out);
    close(fd);
    fclose(null);
    char *text = tu_read(tmpl, NULL);
    unlink(tmpl);
    if (errtext)
        *errtext = text;
    else
        free(text);
    for (int k = 0; k < n_own; k++)
        free(own[k]);
    return rc;
}

/* Entries of dir other than . and .., spikes.npy and run.json. */
static int extra_files(const char *dir, char *first, size_t cap)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "spikes.npy") ||
            !strcmp(e->d_name, "run.json"))
            continue;
        if (n++ == 0 && first)
            snprintf(first, cap, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

/* ---------- pixels ---------- */

typedef struct {
    cairo_surface_t *s;
    int w, h, stride;
    const unsigned char *data;
} image;

static image load_png(const char *path)
{
    image im;
    im.s = cairo_image_surface_create_from_png(path);
    ck_assert_msg(cairo_surface_status(im.s) == CAIRO_STATUS_SUCCESS, "%s: %s", path,
                  cairo_status_to_string(cairo_surface_status(im.s)));
    cairo_surface_flush(im.s);
    im.w = cairo_image_surface_get_width(im.s);
    im.h = cairo_image_surface_get_height(im.s);
    im.stride = cairo_image_surface_get_stride(im.s);
    im.data = cairo_image_surface_get_data(im.s);
    return im;
}

static unsigned px(const image *im, int x, int y)
{
    return ((const uint32_t *)(const void *)(im->data + (size_t)y * im->stride))[x] & 0xffffffu;
}

static int near(unsigned a, unsigned b, int tol)
{
    for (int sh = 0; sh < 24; sh += 8)
        if (abs((int)((a >> sh) & 255) - (int)((b >> sh) & 255)) > tol)
            return 0;
    return 1;
}

/* Pixels within tol of colour in the box given as fractions of the size. */
static long count_px(const image *im, double fx0, double fy0, double fx1, double fy1, unsigned colour, int tol)
{
    long n = 0;
    for (int y = (int)(fy0 * im->h); y < (int)(fy1 * im->h); y++)
        for (int x = (int)(fx0 * im->w); x < (int)(fx1 * im->w); x++)
            n += near(px(im, x, y), colour, tol);
    return n;
}

static long box_px(double fx0, double fy0, double fx1, double fy1, const image *im)
{
    return (long)(((int)(fx1 * im->w) - (int)(fx0 * im->w)) * (long)((int)(fy1 * im->h) - (int)(fy0 * im->h)));
}

/* The raster's inside (away from axes and labels) and the histogram's. */
#define RASTER_BOX 0.15, 0.15, 0.80, 0.60
#define HIST_BOX 0.15, 0.72, 0.80, 0.94

/* ---------- tests ---------- */

START_TEST(test_png)
{
    char *dir = make_run(NULL);
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", "raster", "DIR", "--width", "900", "--height", "600", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    char *png = path_in(dir, "raster.png");
    size_t len;
    unsigned char *b = (unsigned char *)tu_read(png, &len);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_ge(len, 33);
    ck_assert_mem_eq(b, "\x89PNG\r\n\x1a\n", 8);
    ck_assert_mem_eq(b + 12, "IHDR", 4);
    ck_assert_uint_eq((unsigned)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19], 900);
    ck_assert_uint_eq((unsigned)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23], 600);
    free(b);

    image im = load_png(png);
    ck_assert_int_eq(im.w, 900);
    ck_assert_int_eq(im.h, 600);
    long area = box_px(RASTER_BOX, &im);
    long blue = count_px(&im, RASTER_BOX, BLUE, 16), red = count_px(&im, RASTER_BOX, RED, 16);
    long white = count_px(&im, RASTER_BOX, 0xffffff, 0);
    /* 400 exc ticks and 70 inh ticks, a few pixels each */
    ck_assert_msg(blue > 400 && red > 70, "blue %ld red %ld", blue, red);
    ck_assert_msg(white > area / 2, "white %ld of %ld", white, area);
    /* background: the corners, and the band between the two panels */
    ck_assert_uint_eq(px(&im, 0, 0), 0xffffff);
    ck_assert_uint_eq(px(&im, im.w - 1, 0), 0xffffff);
    ck_assert_uint_eq(px(&im, im.w - 1, im.h - 1), 0xffffff);
    ck_assert_uint_eq(px(&im, 0, im.h / 2), 0xffffff);
    /* the histogram: both populations' curves */
    long hb = count_px(&im, HIST_BOX, BLUE, 60), hr = count_px(&im, HIST_BOX, RED, 60);
    long hnw = box_px(HIST_BOX, &im) - count_px(&im, HIST_BOX, 0xffffff, 0);
    ck_assert_msg(hb > 50 && hr > 50 && hnw > 200, "histogram blue %ld red %ld drawn %ld", hb, hr, hnw);
    cairo_surface_destroy(im.s);
    free(png);
}
END_TEST

/* inh fires only before 50 ms: a 60..100 ms window shows no red raster
 * marks; --population exc shows no red at all. */
START_TEST(test_window_and_population)
{
    char *dir = make_run(NULL);
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", "raster", "DIR", "--from", "60", "--to", "100", "-o", "DIR/late.png",
                      NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    char *png = path_in(dir, "late.png");
    image im = load_png(png);
    ck_assert_int_eq(im.w, 1200);
    ck_assert_int_eq(im.h, 800);
    long blue = count_px(&im, RASTER_BOX, BLUE, 16), red = count_px(&im, RASTER_BOX, RED, 16);
    ck_assert_msg(blue > 160 && red == 0, "blue %ld red %ld", blue, red);
    cairo_surface_destroy(im.s);
    free(png);

    rc = plot_cmd(dir, &errtext, "plot", "raster", "DIR", "--population", "exc", "-o", "DIR/exc.png", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    png = path_in(dir, "exc.png");
    im = load_png(png);
    blue = count_px(&im, 0, 0, 1, 1, BLUE, 16);
    red = count_px(&im, 0, 0, 1, 1, RED, 60);
    ck_assert_msg(blue > 400 && red == 0, "blue %ld red %ld", blue, red);
    cairo_surface_destroy(im.s);
    free(png);

    /* alone, inh keeps its colour (red), and fills the raster's height */
    rc = plot_cmd(dir, &errtext, "plot", "raster", "DIR", "--population", "inh", "-o", "DIR/inh.png", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    png = path_in(dir, "inh.png");
    im = load_png(png);
    blue = count_px(&im, 0, 0, 1, 1, BLUE, 60);
    red = count_px(&im, 0.15, 0.15, 0.5, 0.60, RED, 16);
    ck_assert_msg(blue == 0 && red > 70 * 20, "blue %ld red %ld", blue, red);
    cairo_surface_destroy(im.s);
    free(png);
}
END_TEST

/* A population recorded as "none" is left out unless named. */
START_TEST(test_unrecorded)
{
    char json[sizeof run_json + 16];
    snprintf(json, sizeof json, "%s", run_json);
    char *rec = strstr(strstr(json, "\"inh\""), "\"spikes\"}");
    memcpy(rec, "\"none\"  }", 9);
    char *dir = make_run(json);
    ck_assert_int_eq(plot_cmd(dir, NULL, "plot", "raster", "DIR", NULL), 0);
    char *png = path_in(dir, "raster.png");
    image im = load_png(png);
    ck_assert_int_eq(count_px(&im, 0, 0, 1, 1, RED, 60), 0);
    ck_assert_int_gt(count_px(&im, RASTER_BOX, BLUE, 16), 400);
    cairo_surface_destroy(im.s);
    ck_assert_int_eq(plot_cmd(dir, NULL, "plot", "raster", "DIR", "-p", "exc", "-p", "inh", NULL), 0);
    im = load_png(png);
    ck_assert_int_gt(count_px(&im, RASTER_BOX, RED, 16), 70);
    cairo_surface_destroy(im.s);
    free(png);
}
END_TEST

START_TEST(test_svg_pdf)
{
    char *dir = make_run(NULL);
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", "raster", "DIR", "-o", "DIR/r.svg", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    char *p = path_in(dir, "r.svg");
    char *text = tu_read(p, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strncmp(text, "<?xml", 5) == 0, "svg starts with '%.20s'", text);
    ck_assert_ptr_nonnull(strstr(text, "<svg"));
    ck_assert_ptr_nonnull(strstr(text, "width=\"1200pt\""));
    ck_assert_ptr_nonnull(strstr(text, "<image")); /* the raster */
    free(text);
    free(p);

    rc = plot_cmd(dir, &errtext, "plot", "raster", "DIR", "--out", "DIR/r.PDF", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    p = path_in(dir, "r.PDF");
    size_t len;
    text = tu_read(p, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_gt(len, 1000);
    ck_assert_mem_eq(text, "%PDF", 4);
    ck_assert_ptr_nonnull(memmem(text, len, "%%EOF", 5)); /* binary: not strstr */
    free(text);
    free(p);
}
END_TEST

START_TEST(test_help_and_repeat)
{
    char *dir = make_run(NULL);
    ck_assert_int_eq(plot_cmd(dir, NULL, "plot", "--help", NULL), 0);
    char *errtext;
    ck_assert_int_eq(plot_cmd(dir, &errtext, "plot", NULL), 2);
    ck_assert_ptr_nonnull(strstr(errtext, "usage: norn plot raster DIR"));
    ck_assert_ptr_nonnull(strstr(errtext, "norn plot traces DIR"));
    ck_assert_ptr_nonnull(strstr(errtext, "norn plot weights DIR"));
    free(errtext);
    /* two plots of the same run are byte-identical */
    ck_assert_int_eq(plot_cmd(dir, NULL, "plot", "raster", "DIR", "-o", "DIR/a.png", NULL), 0);
    ck_assert_int_eq(plot_cmd(dir, NULL, "plot", "raster", "DIR", "-o", "DIR/b.png", NULL), 0);
    char *a = path_in(dir, "a.png"), *b = path_in(dir, "b.png");
    size_t la, lb;
    char *ta = tu_read(a, &la), *tb = tu_read(b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(ta, tb, la);
}
END_TEST

/* Bad input: exit code 2, one line "norn: where: what", no file. */
typedef struct {
    const char *json;       /* run.json text, NULL = good; "" = delete it */
    int break_npy;          /* 1: delete spikes.npy, 2: garbage */
    const char *args[8];    /* after "plot" */
    const char *expect[2];  /* substrings of the message ("DIR" = the dir) */
} bad_case;

static const bad_case bad[] = {
    {NULL, 0, {"raster", "DIR/missing"}, {"norn: DIR/missing: no such directory"}},
    {NULL, 0, {"raster", "DIR", "--population", "foo"},
     {"norn: --population: unknown population 'foo'; known: exc, inh"}},
    {NULL, 0, {"raster", "DIR", "-o", "DIR/raster.bmp"}, {"norn: DIR/raster.bmp: unknown output type '.bmp'"}},
    {NULL, 0, {"raster", "DIR", "-o", "DIR/raster"}, {"norn: DIR/raster: no file extension"}},
    {"{\n  \"duration_ms\": 100,\n  \"populations\": [\n    {\"name\": \"exc\" \"size\": 40}\n", 0,
     {"raster", "DIR"}, {"norn: DIR/run.json:4:", "JSON syntax error"}},
    {"{\"duration_ms\": 100,\n \"populations\": [{\"name\": \"exc\", \"size\": \"many\", \"first_id\": 0}]}", 0,
     {"raster", "DIR"}, {"norn: DIR/run.json:2:42: populations[0].size: expected an integer >= 1, got 'many'"}},
    {"{\"duration_ms\": 100, \"populations\": [{\"name\": \"exc\", \"size\": 40}]}", 0, {"raster", "DIR"},
     {"norn: DIR/run.json: populations[0].first_id: missing"}},
    {"{\"populations\": []}", 0, {"raster", "DIR"}, {"norn: DIR/run.json: duration_ms: missing"}},
    {"[1, 2]", 0, {"raster", "DIR"}, {"norn: DIR/run.json: expected a JSON object"}},
    {"", 0, {"raster", "DIR"}, {"norn: DIR/run.json: cannot open"}},
    {NULL, 1, {"raster", "DIR"}, {"norn: DIR/spikes.npy:"}},
    {NULL, 2, {"raster", "DIR"}, {"norn: DIR/spikes.npy:"}},
    {NULL, 0, {"raster", "DIR", "--width", "10"}, {"norn: --width: expected pixels in 320..8192, got '10'"}},
    {NULL, 0, {"raster", "DIR", "--from", "abc"}, {"norn: --from: expected a number of ms, got 'abc'"}},
    {NULL, 0, {"raster", "DIR", "--from", "50", "--to", "20"}, {"norn: --to: the time window 50..20 ms is empty"}},
    {NULL, 0, {"raster", "DIR", "--bogus"}, {"norn: plot: unknown option '--bogus'"}},
    {NULL, 0, {"raster", "DIR", "-o"}, {"norn: plot: option '-o' needs a value"}},
    {NULL, 0, {"histogram", "DIR"}, {"norn: plot: unknown plot 'histogram'; known: raster, traces, weights"}},
    {NULL, 0, {"raster"}, {"norn: plot raster: expected one run directory, got 0"}},
};

/* s with every "DIR" replaced by dir (malloc'd). */
static char *subst_dir(const char *s, const char *dir)
{
    size_t n = strlen(s) + 1;
    for (const char *at = strstr(s, "DIR"); at; at = strstr(at + 3, "DIR"))
        n += strlen(dir);
    char *r = malloc(n), *o = r;
    for (const char *p = s;;) {
        const char *at = strstr(p, "DIR");
        size_t len = at ? (size_t)(at - p) : strlen(p);
        memcpy(o, p, len);
        o += len;
        if (at == NULL)
            break;
        memcpy(o, dir, strlen(dir));
        o += strlen(dir);
        p = at + 3;
    }
    *o = 0;
    return r;
}

START_TEST(test_bad_input)
{
    const bad_case *c = &bad[_i];
    char *dir = make_run(c->json && *c->json ? c->json : NULL);
    if (c->json && !*c->json) {
        char *p = path_in(dir, "run.json");
        unlink(p);
        free(p);
    }
    if (c->break_npy) {
        char *p = path_in(dir, "spikes.npy");
        unlink(p);
        if (c->break_npy == 2)
            free(tu_write(dir, "spikes.npy", "\x93NUMPY garbage"));
        free(p);
    }
    const char *a[8] = {0};
    for (int k = 0; k < 8; k++)
        a[k] = c->args[k];
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
    ck_assert_msg(rc == 2, "case %d: rc %d, stderr: %s", _i, rc, errtext);
    /* one line */
    char *nl = strchr(errtext, '\n');
    ck_assert_msg(nl != NULL && nl[1] == 0, "case %d: not one line: %s", _i, errtext);
    for (int k = 0; k < 2 && c->expect[k]; k++) {
        char *want = subst_dir(c->expect[k], dir);
        ck_assert_msg(strstr(errtext, want) != NULL, "case %d: want '%s' in: %s", _i, want, errtext);
        free(want);
    }
    char first[256] = "";
    int extra = extra_files(dir, first, sizeof first);
    ck_assert_msg(extra == 0, "case %d: left %d files, e.g. %s", _i, extra, first);
    free(errtext);
}
END_TEST

/* A failed plot keeps an older picture as it was. */
START_TEST(test_failure_keeps_old_file)
{
    char *dir = make_run(NULL);
    char *png = tu_write(dir, "raster.png", "old picture");
    ck_assert_int_eq(plot_cmd(dir, NULL, "plot", "raster", "DIR", "-p", "nope", NULL), 2);
    char *text = tu_read(png, NULL);
    ck_assert_str_eq(text, "old picture");
    free(text);
    free(png);
}
END_TEST

/* ---------- the library function ---------- */

static const norn_plot_pop two[] = {{.name = "exc", .first_id = 0, .size = 40},
                                    {.name = "inh", .first_id = 40, .size = 10}};

START_TEST(test_lib_ok)
{
    char *dir = tu_tmpdir();
    double *t;
    uint32_t *g;
    uint64_t n = make_spikes(&t, &g);
    char *png = path_in(dir, "lib.png");
    norn_err err;
    norn_err_clear(&err);
    /* populations listed in reverse order of ids: colours follow the list */
    norn_plot_pop rev[] = {two[1], two[0]};
    ck_assert_int_eq(norn_plot_raster_file(png, t, g, n, rev, 2, 0, 100, 640, 480, &err), NORN_OK);
    image im = load_png(png);
    ck_assert_int_eq(im.w, 640);
    ck_assert_int_eq(im.h, 480);
    /* inh (first listed: blue) has 70 spikes, exc (red) 400 */
    long blue = count_px(&im, RASTER_BOX, BLUE, 16), red = count_px(&im, RASTER_BOX, RED, 16);
    ck_assert_msg(red > blue && blue > 70, "blue %ld red %ld", blue, red);
    cairo_surface_destroy(im.s);
    /* explicit colours: inh third (green), exc second (red); no blue */
    rev[0].colour = 3;
    rev[1].colour = 2;
    ck_assert_int_eq(norn_plot_raster_file(png, t, g, n, rev, 2, 0, 100, 640, 480, &err), NORN_OK);
    im = load_png(png);
    ck_assert_int_eq(count_px(&im, 0, 0, 1, 1, BLUE, 60), 0);
    ck_assert_int_gt(count_px(&im, RASTER_BOX, 0x2ca02c, 16), 70);
    ck_assert_int_gt(count_px(&im, RASTER_BOX, RED, 16), 400);
    cairo_surface_destroy(im.s);
    /* no spikes at all still draws axes */
    ck_assert_int_eq(norn_plot_raster_file(png, NULL, NULL, 0, two, 2, 0, 100, 640, 480, &err), NORN_OK);
    im = load_png(png);
    long blue0 = count_px(&im, 0, 0, 1, 1, BLUE, 16); /* the label */
    cairo_surface_destroy(im.s);
    /* a spike exactly at the end of the window is drawn */
    double t_end[] = {100.0};
    uint32_t g_end[] = {0};
    ck_assert_int_eq(norn_plot_raster_file(png, t_end, g_end, 1, two, 2, 0, 100, 640, 480, &err), NORN_OK);
    im = load_png(png);
    long blue1 = count_px(&im, 0, 0, 1, 1, BLUE, 16);
    ck_assert_msg(blue1 >= blue0 + 8, "blue %ld, without the spike %ld", blue1, blue0); /* a whole 2 x 4 tick */
    cairo_surface_destroy(im.s);
    free(png);
    free(t);
    free(g);
}
END_TEST

START_TEST(test_lib_bad_args)
{
    char *dir = tu_tmpdir();
    double t[] = {1.0};
    uint32_t g[] = {3};
    char *png = path_in(dir, "x.png");
    norn_err err;
    norn_err_clear(&err);
    norn_plot_pop overlap[] = {{.name = "a", .first_id = 0, .size = 10}, {.name = "b", .first_id = 5, .size = 10}};
    norn_plot_pop empty[] = {{.name = "a", .first_id = 0, .size = 0}};
    ck_assert_int_eq(norn_plot_raster_file(png, t, g, 1, two, 2, 0, 10, 100, 480, &err), NORN_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "size 100 x 480"));
    ck_assert_int_eq(norn_plot_raster_file(png, t, g, 1, two, 2, 10, 10, 640, 480, &err), NORN_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "empty"));
    ck_assert_int_eq(norn_plot_raster_file(png, t, g, 1, two, 2, 0, NAN, 640, 480, &err), NORN_EINVAL);
    ck_assert_int_eq(norn_plot_raster_file(png, t, g, 1, overlap, 2, 0, 10, 640, 480, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "populations 'a' and 'b' overlap");
    ck_assert_int_eq(norn_plot_raster_file(png, t, g, 1, empty, 1, 0, 10, 640, 480, &err), NORN_EINVAL);
    ck_assert_int_eq(norn_plot_raster_file(png, t, g, 1, two, 0, 0, 10, 640, 480, &err), NORN_EINVAL);
    ck_assert_int_eq(norn_plot_raster_file(png, NULL, NULL, 1, two, 2, 0, 10, 640, 480, &err), NORN_EINVAL);
    char *tif = path_in(dir, "x.tif");
    ck_assert_int_eq(norn_plot_raster_file(tif, t, g, 1, two, 2, 0, 10, 640, 480, &err), NORN_EINVAL);
    ck_assert_str_eq(err.where, tif);
    char *nodir = path_in(dir, "no/such/x.png");
    ck_assert_int_eq(norn_plot_raster_file(nodir, t, g, 1, two, 2, 0, 10, 640, 480, &err), NORN_EIO);
    ck_assert_str_eq(err.where, nodir);
    ck_assert_int_eq(extra_files(dir, NULL, 0), 0);
    free(png);
    free(tif);
    free(nodir);
}
END_TEST

/* Spikes outside the window change nothing: plotting [20, 60] ms of all
 * spikes gives the same bytes as plotting only the spikes inside. */
START_TEST(test_lib_window)
{
    char *dir = tu_tmpdir();
    double *t;
    uint32_t *g;
    uint64_t n = make_spikes(&t, &g), m = 0;
    double *ti = malloc(n * sizeof *ti);
    uint32_t *gi = malloc(n * sizeof *gi);
    for (uint64_t k = 0; k < n; k++)
        if (t[k] >= 20 && t[k] <= 60) {
            ti[m] = t[k];
            gi[m++] = g[k];
        }
    ck_assert_uint_gt(m, 100);
    ck_assert_uint_lt(m, n - 100);
    char *a = path_in(dir, "all.png"), *b = path_in(dir, "inside.png");
    norn_err err;
    ck_assert_int_eq(norn_plot_raster_file(a, t, g, n, two, 2, 20, 60, 800, 600, &err), NORN_OK);
    ck_assert_int_eq(norn_plot_raster_file(b, ti, gi, m, two, 2, 20, 60, 800, 600, &err), NORN_OK);
    size_t la, lb;
    char *ta = tu_read(a, &la), *tb = tu_read(b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(ta, tb, la);
    free(ta);
    free(tb);
    free(a);
    free(b);
    free(t);
    free(g);
    free(ti);
    free(gi);
}
END_TEST

/* Every allocation through engine/mem.h failing in turn: ENOMEM, no file. */
START_TEST(test_lib_enomem)
{
    char *dir = tu_tmpdir();
    double *t;
    uint32_t *g;
    uint64_t n = make_spikes(&t, &g);
    char *png = path_in(dir, "m.png");
    norn_err err;
    int failed = 0;
    for (long k = 0; k < 100; k++) {
        norn_err_clear(&err);
        norn_mem_fail_after(k);
        norn_status st = norn_plot_raster_file(png, t, g, n, two, 2, 0, 100, 640, 480, &err);
        norn_mem_fail_after(-1);
        if (st == NORN_OK)
            break;
        ck_assert_int_eq(st, NORN_ENOMEM);
        ck_assert_int_eq(extra_files(dir, NULL, 0), 0);
        failed++;
    }
    ck_assert_int_ge(failed, 3);
    ck_assert_int_eq(extra_files(dir, NULL, 0), 1);
    ck_assert_uint_eq(norn_mem_live(), 0);
    free(png);
    free(t);
    free(g);
}
END_TEST

/* Many spikes: the raster saturates instead of failing, and one neuron per
 * pixel row is not lost when neurons outnumber rows. */
START_TEST(test_lib_dense)
{
    char *dir = tu_tmpdir();
    uint64_t n = 2000000;
    double *t = malloc(n * sizeof *t);
    uint32_t *g = malloc(n * sizeof *g);
    uint64_t x = 88172645463325252ull;
    for (uint64_t k = 0; k < n; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        t[k] = (double)(x >> 11) / 9007199254740992.0 * 1000.0;
        g[k] = (uint32_t)(x % 50000);
    }
    /* one quiet population of 100 neurons with one spike each, in the middle */
    norn_plot_pop pops[] = {{.name = "big", .first_id = 0, .size = 50000},
                            {.name = "small", .first_id = 50000, .size = 100}};
    for (uint32_t j = 0; j < 100; j++)
        g[j] = 50000 + j;
    char *png = path_in(dir, "d.png");
    norn_err err;
    ck_assert_int_eq(norn_plot_raster_file(png, t, g, n, pops, 2, 0, 1000, 1200, 800, &err), NORN_OK);
    image im = load_png(png);
    /* the raster of "big" is dense (barely any white); the sparse "small"
     * still shows in full red */
    long white = count_px(&im, RASTER_BOX, 0xffffff, 0);
    ck_assert_msg(white < box_px(RASTER_BOX, &im) / 50, "white %ld", white);
    /* its 100 spikes (at ~95 distinct pixels) share the top pixel row with
     * "big", and win it: a thin population never vanishes */
    long red = count_px(&im, 0.1, 0.05, 0.9, 0.75, RED, 60);
    ck_assert_msg(red >= 85, "red %ld", red);
    cairo_surface_destroy(im.s);
    free(png);
    free(t);
    free(g);
}
END_TEST

/* ================================================================== */
/* norn plot traces                                                     */

/* A run with state: populations "in" (iaf_delta, ids 0..9, no state) and
 * "n" (lif, ids 10..13, V_th = -50). 1000 samples every 0.1 ms (0..99.9 ms)
 * of V_m for two recorded neurons: column 0 a ramp from -70 to -50 mV over
 * 0..60 ms and nothing (NaN) after, column 1 a sine -60 + 8 sin(2 pi t /
 * 25 ms); I_syn_ex: column 0 a ramp 0..100 pA, column 1 constant 20 pA.
 * Spikes: n[0] (id 10) at 20 and 40 ms, n[1] (id 11) at 30 and 70 ms, and
 * "in" neurons at 10 and 80 ms. recordings: run.json text to add (NULL:
 * none). */
#define TR_SAMPLES 1000
#define GREEN 0x2ca02cu
#define ORANGE 0xff7f0eu

static char *trace_json(const char *recordings)
{
    static const char head[] =
        "{\n"
        "  \"name\": \"tracenet\", \"mode\": \"continuous\", \"duration_ms\": 100,\n"
        "  \"populations\": [\n"
        "    {\"name\": \"in\", \"model\": \"iaf_delta\", \"size\": 10, \"first_id\": 0, \"last_id\": 9,\n"
        "     \"recorded\": \"spikes\", \"params\": {\"V_th\": 20}},\n"
        "    {\"name\": \"n\", \"model\": \"lif\", \"size\": 4, \"first_id\": 10, \"last_id\": 13,\n"
        "     \"recorded\": \"spikes\", \"params\": {\"V_th\": -50, \"E_L\": -70}}\n"
        "  ]";
    size_t n = sizeof head + (recordings ? strlen(recordings) : 0) + 32;
    char *j = malloc(n);
    snprintf(j, n, "%s%s%s\n}\n", head, recordings ? ",\n  " : "", recordings ? recordings : "");
    return j;
}

static void write_f32(const char *dir, const char *name, const float *v, int ndim, const uint64_t *shape)
{
    char *p = path_in(dir, name);
    norn_err err;
    norn_err_clear(&err);
    ck_assert_int_eq(norn_npy_write_f32(p, v, ndim, shape, &err), NORN_OK);
    free(p);
}

static void write_f64(const char *dir, const char *name, const double *v, uint64_t n)
{
    char *p = path_in(dir, name);
    norn_err err;
    norn_err_clear(&err);
    uint64_t shape[1] = {n};
    ck_assert_int_eq(norn_npy_write_f64(p, v, 1, shape, &err), NORN_OK);
    free(p);
}

static void write_trace_spikes(const char *dir)
{
    double t[] = {10, 20, 30, 40, 70, 80};
    uint32_t g[] = {3, 10, 11, 10, 11, 5};
    char *p = path_in(dir, "spikes.npy");
    norn_err err;
    ck_assert_int_eq(norn_npy_write_spikes(p, t, g, 6, &err), NORN_OK);
    free(p);
}

static char *make_trace_run(const char *recordings)
{
    char *dir = tu_tmpdir();
    char *json = trace_json(recordings);
    free(tu_write(dir, "run.json", json));
    free(json);
    static float vm[TR_SAMPLES * 2], isyn[TR_SAMPLES * 2];
    static double t[TR_SAMPLES];
    for (int k = 0; k < TR_SAMPLES; k++) {
        t[k] = k / 10.0;
        vm[2 * k] = t[k] <= 60 ? (float)(-70 + 20 * t[k] / 60) : NAN;
        vm[2 * k + 1] = (float)(-60 + 8 * sin(2 * M_PI * t[k] / 25));
        isyn[2 * k] = (float)t[k];
        isyn[2 * k + 1] = 20;
    }
    uint64_t shape[2] = {TR_SAMPLES, 2};
    write_f32(dir, "state_n_V_m.npy", vm, 2, shape);
    write_f32(dir, "state_n_I_syn_ex.npy", isyn, 2, shape);
    write_f64(dir, "state_times.npy", t, TR_SAMPLES);
    write_trace_spikes(dir);
    return dir;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* Panels found in a picture: the rows where a dark horizontal line (a bottom
 * spine) spans at least 40% of the width; x0 .. x1 its extent, top the
 * highest row the left spine reaches above it. */
typedef struct {
    int x0, x1, top, bottom;
} panel;

static int is_dark(unsigned c) { return near(c, 0x333333, 10); } /* the spines' colour */

static int find_panels(const image *im, panel *out, int max)
{
    int n = 0;
    for (int y = 0; y < im->h && n < max; y++) {
        int best = 0, best_x0 = 0, run = 0;
        for (int x = 0; x < im->w; x++) {
            run = is_dark(px(im, x, y)) ? run + 1 : 0;
            if (run > best) {
                best = run;
                best_x0 = x - run + 1;
            }
        }
        if (best < im->w * 0.4)
            continue;
        if (n > 0 && y - out[n - 1].bottom <= 3) /* the same spine, more than a pixel thick */
            continue;
        /* the left spine: the first column of the run going up (a y tick at
         * the bottom may lengthen the run to the left) */
        int sx = best_x0;
        while (sx < best_x0 + 12 && !is_dark(px(im, sx, y - 1)))
            sx++;
        panel p = {sx, best_x0 + best - 1, y, y};
        while (p.top > 0 && is_dark(px(im, sx, p.top - 1)))
            p.top--;
        out[n++] = p;
    }
    return n;
}

/* The pixel column of time t in a panel spanning t0 .. t1. */
static int x_at(const panel *p, double t, double t0, double t1)
{
    return p->x0 + (int)lround((t - t0) / (t1 - t0) * (p->x1 - p->x0));
}

/* Pixels near colour in a box of pixel coordinates (inclusive). */
static long count_box(const image *im, int x0, int y0, int x1, int y1, unsigned colour, int tol)
{
    long n = 0;
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < im->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < im->w; x++)
            n += near(px(im, x, y), colour, tol);
    return n;
}

/* Mean row of the pixels near colour in columns x0..x1 between rows y0..y1. */
static double mean_row(const image *im, int x0, int x1, int y0, int y1, unsigned colour)
{
    double sum = 0;
    long n = 0;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            if (near(px(im, x, y), colour, 24)) {
                sum += y;
                n++;
            }
    ck_assert_msg(n > 0, "no pixels of %06x in columns %d..%d", colour, x0, x1);
    return sum / n;
}

static int png_size_ok(const char *png, int w, int h)
{
    size_t len;
    unsigned char *b = (unsigned char *)tu_read(png, &len);
    int ok = b && len >= 33 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(b + 12, "IHDR", 4) == 0 &&
             ((unsigned)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19]) == (unsigned)w &&
             ((unsigned)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23]) == (unsigned)h;
    free(b);
    return ok;
}

/* One variable, two neurons: the ramp (blue, first neuron) rises, ends at
 * 60 ms (blank after), the sine (red) runs to the end; spikes are ticks at
 * the panel's top in the neurons' colours, at their times. */
START_TEST(test_traces_png)
{
    char *dir = make_trace_run(NULL);
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", "traces", "DIR", "--variable", "V_m", "--width", "900", "--height",
                      "500", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    char *png = path_in(dir, "traces.png");
    ck_assert(png_size_ok(png, 900, 500));
    image im = load_png(png);
    panel p[4];
    ck_assert_int_eq(find_panels(&im, p, 4), 1);
    ck_assert_msg(p[0].x1 - p[0].x0 > 700 && p[0].bottom - p[0].top > 300, "panel %d..%d x %d..%d", p[0].x0,
                  p[0].x1, p[0].top, p[0].bottom);
    int y0 = p[0].top + 25, y1 = p[0].bottom - 3; /* below the spike strip */
    int x_60 = x_at(&p[0], 60, 0, 100), x_100 = x_at(&p[0], 100, 0, 100);
    long blue_early = count_box(&im, p[0].x0 + 2, y0, x_60 - 3, y1, BLUE, 24);
    long blue_late = count_box(&im, x_60 + 4, y0, x_100, y1, BLUE, 24);
    long red_late = count_box(&im, x_60 + 4, y0, x_100, y1, RED, 24);
    ck_assert_msg(blue_early > 300 && blue_late == 0 && red_late > 200, "blue %ld / %ld, red late %ld", blue_early,
                  blue_late, red_late);
    /* the ramp rises: its pixels are lower (larger rows) early than late */
    double r_early = mean_row(&im, x_at(&p[0], 5, 0, 100), x_at(&p[0], 15, 0, 100), y0, y1, BLUE);
    double r_late = mean_row(&im, x_at(&p[0], 45, 0, 100), x_at(&p[0], 55, 0, 100), y0, y1, BLUE);
    ck_assert_msg(r_early > r_late + 100, "ramp rows %g then %g", r_early, r_late);
    /* mostly blank */
    long area = (long)(p[0].x1 - p[0].x0 - 3) * (y1 - y0 + 1);
    long white = count_box(&im, p[0].x0 + 3, y0, p[0].x1, y1, 0xffffff, 0);
    ck_assert_msg(white > area * 8 / 10, "white %ld of %ld", white, area);
    /* spike ticks in the strip: blue at 20 and 40 ms, red at 30 and 70,
     * nothing at 50 ms and no "in" spikes (10 ms) */
    int sy0 = p[0].top, sy1 = p[0].top + 22;
    int at[] = {20, 40, 30, 70, 50, 10};
    unsigned col[] = {BLUE, BLUE, RED, RED, 0, 0};
    for (int k = 0; k < 6; k++) {
        int x = x_at(&p[0], at[k], 0, 100);
        long b = count_box(&im, x - 3, sy0, x + 3, sy1, BLUE, 24), r = count_box(&im, x - 3, sy0, x + 3, sy1, RED, 24);
        if (col[k] == BLUE)
            ck_assert_msg(b >= 4 && r == 0, "%d ms: blue %ld red %ld", at[k], b, r);
        else if (col[k] == RED)
            ck_assert_msg(r >= 4 && b == 0, "%d ms: blue %ld red %ld", at[k], b, r);
        else
            ck_assert_msg(b == 0 && r == 0, "%d ms: blue %ld red %ld", at[k], b, r);
    }
    cairo_surface_destroy(im.s);

    /* a window: 60..100 ms shows no blue trace at all; SVG and PDF work */
    rc = plot_cmd(dir, &errtext, "plot", "traces", "DIR", "--variable", "V_m", "--from", "60", "--to", "100", "-o",
                  "DIR/late.png", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    free(png);
    png = path_in(dir, "late.png");
    im = load_png(png);
    ck_assert_int_eq(im.h, 600); /* the default height for one panel */
    ck_assert_int_eq(find_panels(&im, p, 4), 1);
    ck_assert_int_eq(count_box(&im, p[0].x0 + 2, p[0].top + 25, p[0].x1, p[0].bottom - 3, BLUE, 24), 0);
    ck_assert_int_gt(count_box(&im, p[0].x0 + 2, p[0].top + 25, p[0].x1, p[0].bottom - 3, RED, 24), 300);
    cairo_surface_destroy(im.s);
    free(png);
    ck_assert_int_eq(plot_cmd(dir, NULL, "plot", "traces", "DIR", "-o", "DIR/t.svg", NULL), 0);
    char *p_svg = path_in(dir, "t.svg"), *text = tu_read(p_svg, NULL);
    ck_assert_ptr_nonnull(strstr(text, "<svg"));
    free(text);
    free(p_svg);
}
END_TEST

/* All recorded variables by default: two panels sharing the time axis. */
START_TEST(test_traces_panels)
{
    char *dir = make_trace_run(NULL);
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", "traces", "DIR", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    char *png = path_in(dir, "traces.png");
    image im = load_png(png);
    ck_assert_int_eq(im.w, 1200);
    ck_assert_int_eq(im.h, 800);
    panel p[4];
    ck_assert_int_eq(find_panels(&im, p, 4), 2);
    ck_assert_int_eq(p[0].x0, p[1].x0); /* one time axis */
    ck_assert_int_eq(p[0].x1, p[1].x1);
    ck_assert_int_lt(p[0].bottom, p[1].top);
    /* V_m (first in lif's table) on top: the ramp ends at 60 ms there; the
     * I_syn_ex ramp below runs to the end */
    int x_80 = x_at(&p[0], 80, 0, 100);
    ck_assert_int_eq(count_box(&im, x_80 - 5, p[0].top + 25, x_80 + 5, p[0].bottom - 3, BLUE, 24), 0);
    ck_assert_int_gt(count_box(&im, x_80 - 5, p[1].top + 25, x_80 + 5, p[1].bottom - 3, BLUE, 24), 5);
    cairo_surface_destroy(im.s);
    /* --variable takes a comma list in the order given */
    rc = plot_cmd(dir, &errtext, "plot", "traces", "DIR", "--variable", "I_syn_ex,V_m", "-o", "DIR/swap.png", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    free(png);
    png = path_in(dir, "swap.png");
    im = load_png(png);
    ck_assert_int_eq(find_panels(&im, p, 4), 2);
    ck_assert_int_gt(count_box(&im, x_80 - 5, p[0].top + 25, x_80 + 5, p[0].bottom - 3, BLUE, 24), 5);
    ck_assert_int_eq(count_box(&im, x_80 - 5, p[1].top + 25, x_80 + 5, p[1].bottom - 3, BLUE, 24), 0);
    cairo_surface_destroy(im.s);
    free(png);
}
END_TEST

/* run.json's recordings name the recorded neurons (2 and 3 here): the
 * columns are those neurons, their spikes are ids 12 and 13. */
START_TEST(test_traces_recordings)
{
    char *dir = make_trace_run("\"recordings\": [{\"population\": \"n\", \"variables\": [\"V_m\", \"I_syn_ex\"], "
                               "\"neurons\": [2, 3], \"samples\": 1000, \"interval_ms\": 0.1}]");
    double t[] = {25, 50};
    uint32_t g[] = {13, 10}; /* neuron 3 at 25 ms; neuron 0 (not recorded) at 50 ms */
    char *sp = path_in(dir, "spikes.npy");
    norn_err err;
    ck_assert_int_eq(norn_npy_write_spikes(sp, t, g, 2, &err), NORN_OK);
    free(sp);
    char *errtext;
    /* neuron 3 is the sine column, drawn in the first colour */
    int rc = plot_cmd(dir, &errtext, "plot", "traces", "DIR", "--neurons", "3", "--variable", "V_m", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    char *png = path_in(dir, "traces.png");
    image im = load_png(png);
    panel p[4];
    ck_assert_int_eq(find_panels(&im, p, 4), 1);
    int x_80 = x_at(&p[0], 80, 0, 100);
    ck_assert_int_gt(count_box(&im, x_80 - 10, p[0].top + 20, x_80 + 10, p[0].bottom - 3, BLUE, 24), 10);
    ck_assert_int_eq(count_px(&im, 0, 0, 1, 1, RED, 24), 0);
    int x_25 = x_at(&p[0], 25, 0, 100), x_50 = x_at(&p[0], 50, 0, 100);
    ck_assert_int_ge(count_box(&im, x_25 - 3, p[0].top, x_25 + 3, p[0].top + 16, BLUE, 24), 4);
    ck_assert_int_eq(count_box(&im, x_50 - 3, p[0].top, x_50 + 3, p[0].top + 16, BLUE, 24), 0);
    cairo_surface_destroy(im.s);
    free(png);
    /* by default both recorded neurons, in both panels (two variables
     * recording the same neurons list each once) */
    rc = plot_cmd(dir, &errtext, "plot", "traces", "DIR", "-o", "DIR/all.png", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    png = path_in(dir, "all.png");
    im = load_png(png);
    ck_assert_int_eq(find_panels(&im, p, 4), 2);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_gt(count_box(&im, p[k].x0 + 2, p[k].top + 20, p[k].x1, p[k].bottom - 3, BLUE, 24), 100);
        ck_assert_int_gt(count_box(&im, p[k].x0 + 2, p[k].top + 20, p[k].x1, p[k].bottom - 3, RED, 24), 100);
    }
    cairo_surface_destroy(im.s);
    free(png);
    /* neuron 0 was not recorded here */
    rc = plot_cmd(dir, &errtext, "plot", "traces", "DIR", "--neurons", "0", NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_ptr_nonnull(
        strstr(errtext, "norn: --neurons: neuron 0 of population 'n' was not recorded; recorded: 2, 3"));
    free(errtext);
}
END_TEST

typedef struct {
    int setup; /* 0 the trace run; 1 no state files; 2 short times; 3 garbage V_m;
                  4 recordings of 3 neurons; 5 a 3-D file */
    const char *args[10];  /* after "plot" */
    const char *expect[2]; /* substrings of the message ("DIR" = the dir) */
} trace_bad;

static const trace_bad tbad[] = {
    {1, {"traces", "DIR"}, {"norn: DIR: no state was recorded"}},
    {1, {"traces", "DIR", "--population", "n"}, {"norn: DIR: no state was recorded"}},
    {0, {"traces", "DIR", "--variable", "foo"},
     {"norn: --variable: 'foo' was not recorded for population 'n'; recorded: V_m, I_syn_ex"}},
    {0, {"traces", "DIR", "--variable", "V_m,"}, {"norn: --variable: expected a variable name"}},
    {0, {"traces", "DIR", "--neurons", "7"},
     {"norn: --neurons: neuron 7 of population 'n' was not recorded; recorded: 0, 1"}},
    {0, {"traces", "DIR", "--neurons", "0,a"},
     {"norn: --neurons: expected neuron indices like 0,1,2 or 0-4, got '0,a'"}},
    {0, {"traces", "DIR", "--neurons", "3-1"}, {"norn: --neurons: expected neuron indices"}},
    {0, {"traces", "DIR", "--population", "zz"}, {"norn: --population: unknown population 'zz'; known: in, n"}},
    {0, {"traces", "DIR", "--population", "in"},
     {"norn: --population: no state was recorded for population 'in'; recorded: n"}},
    {0, {"traces", "DIR", "-p", "in", "-p", "n"}, {"norn: --population: traces show one population, got 2"}},
    {0, {"traces", "DIR", "--projection", "x"}, {"norn: plot traces: --projection does not apply"}},
    {0, {"traces", "DIR", "--from", "50", "--to", "50"}, {"norn: --to: the time window 50..50 ms is empty"}},
    {0, {"traces", "DIR", "-o", "DIR/t.jpg"}, {"norn: DIR/t.jpg: unknown output type '.jpg'"}},
    {2, {"traces", "DIR"}, {"norn: DIR/state_n_V_m.npy: 1000 samples, but DIR/state_times.npy has 999 times"}},
    {3, {"traces", "DIR"}, {"norn: DIR/state_n_V_m.npy:"}},
    {4, {"traces", "DIR"},
     {"norn: DIR/run.json: recordings list 3 neurons of population 'n' for V_m, but DIR/state_n_V_m.npy has 2 "
      "columns"}},
    {5, {"traces", "DIR"}, {"norn: DIR/state_n_V_m.npy: expected a [samples, neurons] array, got 3 dimensions"}},
    {0, {"raster", "DIR", "--neurons", "1"}, {"norn: plot raster: --neurons does not apply"}},
};

START_TEST(test_traces_bad)
{
    const trace_bad *c = &tbad[_i];
    char *dir = make_trace_run(c->setup == 4 ? "\"recordings\": [{\"population\": \"n\", \"variables\": [\"V_m\"], "
                                               "\"neurons\": [0, 1, 2]}]"
                                             : NULL);
    if (c->setup == 1) {
        const char *gone[] = {"state_n_V_m.npy", "state_n_I_syn_ex.npy", "state_times.npy"};
        for (int k = 0; k < 3; k++) {
            char *p = path_in(dir, gone[k]);
            unlink(p);
            free(p);
        }
    } else if (c->setup == 2) {
        static double t[TR_SAMPLES - 1];
        for (int k = 0; k < TR_SAMPLES - 1; k++)
            t[k] = k / 10.0;
        write_f64(dir, "state_times.npy", t, TR_SAMPLES - 1);
    } else if (c->setup == 3) {
        free(tu_write(dir, "state_n_V_m.npy", "\x93NUMPY nonsense"));
    } else if (c->setup == 5) {
        float v[8] = {0};
        uint64_t shape[3] = {2, 2, 2};
        write_f32(dir, "state_n_V_m.npy", v, 3, shape);
    }
    int before = entries(dir);
    const char *a[10] = {0};
    for (int k = 0; k < 10; k++)
        a[k] = c->args[k];
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], NULL);
    ck_assert_msg(rc == 2, "case %d: rc %d, stderr: %s", _i, rc, errtext);
    char *nl = strchr(errtext, '\n');
    ck_assert_msg(nl != NULL && nl[1] == 0, "case %d: not one line: %s", _i, errtext);
    for (int k = 0; k < 2 && c->expect[k]; k++) {
        char *want = subst_dir(c->expect[k], dir);
        ck_assert_msg(strstr(errtext, want) != NULL, "case %d: want '%s' in: %s", _i, want, errtext);
        free(want);
    }
    ck_assert_msg(entries(dir) == before, "case %d: files were written", _i);
    free(errtext);
}
END_TEST

START_TEST(test_units)
{
    ck_assert_str_eq(norn_plot_state_unit("lif", "continuous", "V_m"), "mV");
    ck_assert_str_eq(norn_plot_state_unit("lif", "grid", "I_syn_ex"), "pA");
    ck_assert_str_eq(norn_plot_state_unit("iaf_delta", NULL, "V_m"), "mV");
    ck_assert_ptr_null(norn_plot_state_unit("lif", "euler", "v")); /* Norse's models are unitless */
    ck_assert_ptr_null(norn_plot_state_unit("lif", "euler", "i"));
    ck_assert_str_eq(norn_plot_state_unit("lif_refrac", "euler", "rho"), "steps");
    ck_assert_str_eq(norn_plot_state_unit("lif_cond", "continuous", "g_in"), "nS");
    ck_assert_str_eq(norn_plot_state_unit("adex", "continuous", "w"), "pA"); /* from the model's table */
    ck_assert_str_eq(norn_plot_state_unit("alif", "grid", "theta"), "mV");
    ck_assert_ptr_null(norn_plot_state_unit("izhikevich", "grid", "U_m")); /* "1" */
    ck_assert_str_eq(norn_plot_state_unit("some_future_model", "grid", "g_ex"), "nS"); /* by the name */
    ck_assert_str_eq(norn_plot_state_unit("some_future_model", "grid", "I_adapt"), "pA");
    ck_assert_ptr_null(norn_plot_state_unit("some_future_model", "grid", "u"));
    ck_assert_ptr_null(norn_plot_state_unit("some_future_model", "euler", "V_m"));
    ck_assert_str_eq(norn_plot_weight_unit("lif", "grid"), "pA");
    ck_assert_str_eq(norn_plot_weight_unit("iaf_delta", "continuous"), "mV");
    ck_assert_str_eq(norn_plot_weight_unit("lif_cond", "continuous"), "nS");
    ck_assert_str_eq(norn_plot_weight_unit("izhikevich", "grid"), "mV");
    ck_assert_ptr_null(norn_plot_weight_unit("lif", "euler"));
    ck_assert_ptr_null(norn_plot_weight_unit("nosuch", "grid"));
}
END_TEST

/* The library: bad arguments, and every allocation failing in turn. */
static const double lt[] = {0, 1, 2, 3, 4};
static const double ld[] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 5};
static const uint32_t lneur[] = {5, 7};

START_TEST(test_traces_lib)
{
    char *dir = tu_tmpdir();
    char *png = path_in(dir, "l.png");
    norn_plot_trace_var v = {.name = "x", .time_ms = lt, .n_samples = 5, .n_cols = 2, .neuron = lneur, .data = ld};
    uint32_t show[] = {7, 5};
    norn_plot_traces tr = {.vars = &v, .n_vars = 1, .show = show, .n_show = 2, .t_from = 0, .t_to = 4,
                           .width = 640, .height = 400};
    norn_err err;
    norn_err_clear(&err);
    ck_assert_int_eq(norn_plot_traces_file(png, &tr, &err), NORN_OK);
    image im = load_png(png);
    ck_assert_int_gt(count_px(&im, 0, 0, 1, 1, BLUE, 24), 100); /* neuron 7, shown first */
    ck_assert_int_gt(count_px(&im, 0, 0, 1, 1, RED, 24), 100);
    cairo_surface_destroy(im.s);

    norn_plot_traces bad = tr;
    uint32_t twice[] = {5, 5}, absent[] = {6};
    bad.show = twice;
    ck_assert_int_eq(norn_plot_traces_file(png, &bad, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "neuron 5 is shown twice");
    bad.show = absent;
    bad.n_show = 1;
    ck_assert_int_eq(norn_plot_traces_file(png, &bad, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "neuron 6 is no variable's column");
    bad = tr;
    bad.n_vars = 0;
    ck_assert_int_eq(norn_plot_traces_file(png, &bad, &err), NORN_EINVAL);
    bad = tr;
    bad.t_to = 0;
    ck_assert_int_eq(norn_plot_traces_file(png, &bad, &err), NORN_EINVAL);
    bad.t_to = 4;
    bad.width = 100;
    ck_assert_int_eq(norn_plot_traces_file(png, &bad, &err), NORN_EINVAL);
    norn_plot_trace_var eight[8] = {v, v, v, v, v, v, v, v};
    bad = tr;
    bad.vars = eight;
    bad.n_vars = 8;
    bad.height = 240;
    ck_assert_int_eq(norn_plot_traces_file(png, &bad, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "640 x 240 is too small for 8 panels");
    bad.height = 1200;
    ck_assert_int_eq(norn_plot_traces_file(png, &bad, &err), NORN_OK);
    const double back[] = {0, 1, 3, 2, 4};
    norn_plot_trace_var vb = v;
    vb.time_ms = back;
    bad = tr;
    bad.vars = &vb;
    ck_assert_int_eq(norn_plot_traces_file(png, &bad, &err), NORN_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "sample 3: time 2 ms is before the one above"));

    double st[] = {1, 2, 3};
    uint32_t sn[] = {5, 7, 9};
    tr.spike_ms = st;
    tr.spike_neuron = sn;
    tr.n_spikes = 3;
    int failed = 0;
    char *m = path_in(dir, "m.png");
    for (long k = 0; k < 100; k++) {
        norn_mem_fail_after(k);
        norn_status s = norn_plot_traces_file(m, &tr, &err);
        norn_mem_fail_after(-1);
        if (s == NORN_OK)
            break;
        ck_assert_int_eq(s, NORN_ENOMEM);
        ck_assert(!tu_exists(m));
        failed++;
    }
    ck_assert_int_ge(failed, 3);
    ck_assert(tu_exists(m));
    ck_assert_uint_eq(norn_mem_live(), 0);
    free(m);
    free(png);
}
END_TEST

/* More than 10 neurons: translucent lines and their mean as a dark line
 * (constants 0..11: the mean 5.5 runs across the middle). */
START_TEST(test_traces_many)
{
    char *dir = tu_tmpdir();
    char *png = path_in(dir, "many.png");
    enum { NS = 50, NC = 12 };
    static double t[NS], d[NS * NC];
    uint32_t show[NC];
    for (int k = 0; k < NS; k++) {
        t[k] = k;
        for (int c = 0; c < NC; c++)
            d[k * NC + c] = c;
    }
    for (int c = 0; c < NC; c++)
        show[c] = (uint32_t)c;
    norn_plot_trace_var v = {.name = "x", .time_ms = t, .n_samples = NS, .n_cols = NC, .data = d};
    norn_plot_traces tr = {.vars = &v, .n_vars = 1, .show = show, .n_show = NC, .t_from = 0, .t_to = NS - 1,
                           .width = 800, .height = 500};
    norn_err err;
    ck_assert_int_eq(norn_plot_traces_file(png, &tr, &err), NORN_OK);
    image im = load_png(png);
    panel p[2];
    ck_assert_int_eq(find_panels(&im, p, 2), 1);
    int ym = (p[0].top + p[0].bottom) / 2; /* 5.5 of -0.55..11.55 */
    long dark = count_box(&im, p[0].x0 + 5, ym - 3, p[0].x1 - 5, ym + 3, 0x222222, 30);
    long elsewhere = count_box(&im, p[0].x0 + 5, p[0].top + 5, p[0].x1 - 5, ym - 30, 0x222222, 30);
    ck_assert_msg(dark > p[0].x1 - p[0].x0 - 20 && elsewhere == 0, "dark %ld, elsewhere %ld", dark, elsewhere);
    cairo_surface_destroy(im.s);
    int failed = 0;
    for (long k = 0; k < 100; k++) { /* the mean's memory too */
        norn_mem_fail_after(k);
        norn_status st = norn_plot_traces_file(png, &tr, &err);
        norn_mem_fail_after(-1);
        if (st == NORN_OK)
            break;
        ck_assert_int_eq(st, NORN_ENOMEM);
        failed++;
    }
    ck_assert_int_ge(failed, 4);
    ck_assert_uint_eq(norn_mem_live(), 0);
    free(png);
}
END_TEST

/* ================================================================== */
/* norn plot weights                                                    */

#define W_SYN 1000
#define W_SNAPS 11

/* weights_ee.npy: 1000 synapses at 11 snapshots 0..1000 ms, from
 * 0.4 + 0.2 i / 999 (all near 0.5) to bimodal: even i at 0.05, odd at
 * 0.95 (linear in between). snaps = 1: only the last. */
static void write_weights(const char *dir, const char *name, int snaps)
{
    uint64_t n = (uint64_t)W_SYN * snaps;
    uint32_t *pre = malloc(n * sizeof *pre), *post = malloc(n * sizeof *post);
    float *w = malloc(n * sizeof *w);
    double *t = malloc(n * sizeof *t);
    uint64_t k = 0;
    for (int j = W_SNAPS - snaps; j < W_SNAPS; j++)
        for (int i = 0; i < W_SYN; i++, k++) {
            double a = j / (W_SNAPS - 1.0), w0 = 0.4 + 0.2 * i / (W_SYN - 1.0), w1 = i % 2 ? 0.95 : 0.05;
            pre[k] = (uint32_t)(i % 40);
            post[k] = (uint32_t)(i / 40);
            w[k] = (float)(w0 + a * (w1 - w0));
            t[k] = 100.0 * j;
        }
    char file[300];
    snprintf(file, sizeof file, "weights_%s.npy", name);
    char *p = path_in(dir, file);
    norn_err err;
    ck_assert_int_eq(norn_npy_write_weights(p, pre, post, w, t, n, &err), NORN_OK);
    free(p);
    free(pre);
    free(post);
    free(w);
    free(t);
}

static const char weights_json[] =
    "{\"name\": \"wnet\", \"mode\": \"grid\", \"duration_ms\": 1000,\n"
    " \"populations\": [{\"name\": \"e\", \"model\": \"lif\", \"size\": 40, \"first_id\": 0, \"last_id\": 39}],\n"
    " \"projections\": [{\"name\": \"ee\", \"from\": \"e\", \"to\": [\"e\"], \"synapses\": 1000}]}\n";

static char *make_weights_run(int snaps)
{
    char *dir = tu_tmpdir();
    free(tu_write(dir, "run.json", weights_json));
    if (snaps)
        write_weights(dir, "ee", snaps);
    return dir;
}

/* Histogram on top: bars only near 0.05 and 0.95 (bimodal); evolution
 * below: early columns hold weights near 0.5 only, late ones near the two
 * ends only; the mean (orange) stays near 0.5. */
START_TEST(test_weights_png)
{
    char *dir = make_weights_run(W_SNAPS);
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", "weights", "DIR", "--projection", "ee", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    char *png = path_in(dir, "weights_ee.png");
    ck_assert(png_size_ok(png, 1200, 800));
    image im = load_png(png);
    panel p[4];
    ck_assert_int_eq(find_panels(&im, p, 4), 2);
    /* histogram: weights 0..1 over the panel's width (bins of 0.02 or so) */
    const panel *h = &p[0], *e = &p[1];
    int w = h->x1 - h->x0;
    long left = count_box(&im, h->x0 + 2, h->top, h->x0 + w / 5, h->bottom - 2, BLUE, 10);
    long mid = count_box(&im, h->x0 + w * 3 / 10, h->top, h->x0 + w * 7 / 10, h->bottom - 2, BLUE, 10);
    long right = count_box(&im, h->x1 - w / 5, h->top, h->x1, h->bottom - 2, BLUE, 10);
    ck_assert_msg(left > 1000 && right > 1000 && mid == 0, "bars: left %ld middle %ld right %ld", left, mid, right);
    /* evolution: every column shows its snapshot's synapses (0.4..0.6
     * early, two bins late: at least 1/30 of the height), none fills it;
     * the mean is drawn */
    for (int k = 0; k < 20; k++) {
        int x = e->x0 + 3 + k * (e->x1 - e->x0 - 6) / 19;
        long white = count_box(&im, x, e->top + 1, x, e->bottom - 2, 0xffffff, 0), hgt = e->bottom - e->top - 2;
        ck_assert_msg(hgt - white >= hgt / 30 && white > hgt / 5, "column %d: white %ld of %ld", x, white, hgt);
    }
    long orange = count_box(&im, e->x0 + 2, e->top, e->x1, e->bottom - 2, ORANGE, 30);
    ck_assert_msg(orange > 500, "orange %ld", orange);
    int hgt = e->bottom - e->top;
    int y_mid = e->top + hgt / 2, y_hi = e->top + 3, y_lo = e->bottom - 4; /* the end bins: 0.94.., ..0.06 */
    int xe = e->x0 + 8, xl = e->x1 - 8;
    ck_assert_uint_ne(px(&im, xe, y_mid + 8), 0xffffff); /* at 0 ms: weights 0.4..0.6 */
    ck_assert_uint_eq(px(&im, xe, y_hi), 0xffffff);
    ck_assert_uint_eq(px(&im, xe, y_lo), 0xffffff);
    ck_assert_uint_eq(px(&im, xl, y_mid + 8), 0xffffff); /* at 1000 ms: 0.05 and 0.95 */
    ck_assert_uint_ne(px(&im, xl, y_hi), 0xffffff);
    ck_assert_uint_ne(px(&im, xl, y_lo), 0xffffff);
    cairo_surface_destroy(im.s);
    free(png);
}
END_TEST

/* One snapshot: the histogram alone; the projection may be left out. */
START_TEST(test_weights_single)
{
    char *dir = make_weights_run(1);
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", "weights", "DIR", "-o", "DIR/one.png", "--width", "640", "--height",
                      "400", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    char *png = path_in(dir, "one.png");
    ck_assert(png_size_ok(png, 640, 400));
    image im = load_png(png);
    panel p[4];
    ck_assert_int_eq(find_panels(&im, p, 4), 1);
    ck_assert_int_gt(p[0].bottom - p[0].top, 250); /* the whole height */
    ck_assert_int_gt(count_box(&im, p[0].x0, p[0].top, p[0].x1, p[0].bottom, BLUE, 10), 1000);
    cairo_surface_destroy(im.s);
    free(png);
}
END_TEST

/* A file NumPy could write differently: fields in another order and of
 * other types, with padding and a big-endian weight. */
START_TEST(test_weights_other_dtypes)
{
    char *dir = make_weights_run(0);
    static const char hdr[] = "{'descr': [('time_ms', '<f4'), ('', '|V4'), ('weight', '>f8'), ('post', '<i8'), "
                              "('pre', '<u2')], 'fortran_order': False, 'shape': (6,), }";
    char head[256];
    size_t hl = strlen(hdr) + 1, total = 10 + hl, pad = (64 - total % 64) % 64;
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (char)((hl + pad) & 255);
    head[9] = (char)((hl + pad) >> 8);
    memcpy(head + 10, hdr, hl - 1);
    memset(head + 10 + hl - 1, ' ', pad);
    head[10 + hl - 1 + pad] = '\n';
    char *p = path_in(dir, "weights_ee.npy");
    FILE *f = fopen(p, "wb");
    fwrite(head, 1, 10 + hl + pad, f);
    for (int k = 0; k < 6; k++) {
        unsigned char row[26] = {0};
        float t = k < 3 ? 0.0f : 500.0f;
        double w = 1.5 + (k % 3);
        memcpy(row, &t, 4);
        uint64_t bits;
        memcpy(&bits, &w, 8);
        for (int b = 0; b < 8; b++)
            row[8 + b] = (unsigned char)(bits >> (56 - 8 * b)); /* big-endian */
        row[16] = (unsigned char)k;
        fwrite(row, 1, 26, f);
    }
    fclose(f);
    free(p);
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", "weights", "DIR", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, errtext);
    char *png = path_in(dir, "weights_ee.png");
    image im = load_png(png);
    panel pn[4];
    ck_assert_int_eq(find_panels(&im, pn, 4), 2);
    /* weights 1.5, 2.5, 3.5: three bars, the middle one in the middle */
    int mx = (pn[0].x0 + pn[0].x1) / 2;
    ck_assert_int_gt(count_box(&im, mx - 3, pn[0].top + 40, mx + 3, pn[0].bottom - 2, BLUE, 10), 20);
    cairo_surface_destroy(im.s);
    free(png);
}
END_TEST

typedef struct {
    int setup; /* 0 weights_ee; 1 none; 2 weights_ee and weights_ie; 3 no weight field; 4 truncated;
                  5 a NaN weight; 6 not npy; 7 no rows; 8 a plain f8 array */
    const char *args[8];
    const char *expect[2];
} weights_bad;

static const weights_bad wbad[] = {
    {0, {"weights", "DIR", "--projection", "nope"},
     {"norn: DIR/weights_nope.npy: no such file; weights were saved for: ee"}},
    {1, {"weights", "DIR", "--projection", "ee"},
     {"norn: DIR/weights_ee.npy: no such file; this run saved no weights"}},
    {1, {"weights", "DIR"}, {"norn: DIR: no weights were saved"}},
    {2, {"weights", "DIR"}, {"norn: plot weights: which projection? saved: ee, ie; choose with --projection"}},
    {3, {"weights", "DIR"}, {"norn: DIR/weights_ee.npy: no field 'weight'"}},
    {4, {"weights", "DIR"}, {"norn: DIR/weights_ee.npy: 4 rows of 20 bytes need 80 bytes of data, the file has 70"}},
    {5, {"weights", "DIR"}, {"norn: DIR/weights_ee.npy: row 2: weight nan is not finite"}},
    {6, {"weights", "DIR"}, {"norn: DIR/weights_ee.npy: not a .npy file"}},
    {7, {"weights", "DIR"}, {"norn: DIR/weights_ee.npy: no rows"}},
    {8, {"weights", "DIR"}, {"norn: DIR/weights_ee.npy: expected a structured array with fields pre, post, weight, "
                             "time_ms; got dtype '<f8'"}},
    {0, {"weights", "DIR", "--projection", "../x"}, {"norn: --projection: expected a projection name, got '../x'"}},
    {0, {"weights", "DIR", "--variable", "V_m"}, {"norn: plot weights: --variable does not apply"}},
    {0, {"weights", "DIR", "--from", "1"}, {"norn: plot weights: --from does not apply"}},
    {0, {"weights", "DIR", "-o", "DIR/w.gif"}, {"norn: DIR/w.gif: unknown output type '.gif'"}},
    {0, {"weights"}, {"norn: plot weights: expected one run directory, got 0"}},
};

static void write_raw_weights(const char *dir, const char *descr, uint64_t rows, const void *data, size_t len)
{
    char hdr[400], head[512];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': %s, 'fortran_order': False, 'shape': (%llu,), }", descr,
                      (unsigned long long)rows) + 1;
    int pad = (64 - (10 + hl) % 64) % 64;
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (char)((hl + pad) & 255);
    head[9] = (char)((hl + pad) >> 8);
    memcpy(head + 10, hdr, (size_t)hl - 1);
    memset(head + 10 + hl - 1, ' ', (size_t)pad);
    head[10 + hl - 1 + pad] = '\n';
    char *p = path_in(dir, "weights_ee.npy");
    FILE *f = fopen(p, "wb");
    fwrite(head, 1, (size_t)(10 + hl + pad), f);
    fwrite(data, 1, len, f);
    fclose(f);
    free(p);
}

START_TEST(test_weights_bad)
{
    const weights_bad *c = &wbad[_i];
    char *dir = make_weights_run(c->setup == 0 || c->setup == 2 ? 2 : 0);
    static const char full[] = "[('pre', '<u4'), ('post', '<u4'), ('weight', '<f4'), ('time_ms', '<f8')]";
    unsigned char rows[4][20] = {{0}};
    for (int k = 0; k < 4; k++) {
        float w = k == 2 && c->setup == 5 ? NAN : 1.0f;
        memcpy(rows[k] + 8, &w, 4);
    }
    if (c->setup == 2)
        write_weights(dir, "ie", 1);
    else if (c->setup == 3)
        write_raw_weights(dir, "[('pre', '<u4'), ('post', '<u4'), ('w', '<f4'), ('time_ms', '<f8')]", 4, rows, 80);
    else if (c->setup == 4)
        write_raw_weights(dir, full, 4, rows, 70);
    else if (c->setup == 5)
        write_raw_weights(dir, full, 4, rows, 80);
    else if (c->setup == 6)
        free(tu_write(dir, "weights_ee.npy", "pre,post,weight,time_ms\n"));
    else if (c->setup == 7)
        write_raw_weights(dir, full, 0, rows, 0);
    else if (c->setup == 8)
        write_raw_weights(dir, "'<f8'", 4, rows, 32);
    int before = entries(dir);
    const char *a[8] = {0};
    for (int k = 0; k < 8; k++)
        a[k] = c->args[k];
    char *errtext;
    int rc = plot_cmd(dir, &errtext, "plot", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
    ck_assert_msg(rc == 2, "case %d: rc %d, stderr: %s", _i, rc, errtext);
    char *nl = strchr(errtext, '\n');
    ck_assert_msg(nl != NULL && nl[1] == 0, "case %d: not one line: %s", _i, errtext);
    for (int k = 0; k < 2 && c->expect[k]; k++) {
        char *want = subst_dir(c->expect[k], dir);
        ck_assert_msg(strstr(errtext, want) != NULL, "case %d: want '%s' in: %s", _i, want, errtext);
        free(want);
    }
    ck_assert_msg(entries(dir) == before, "case %d: files were written", _i);
    free(errtext);
}
END_TEST

START_TEST(test_weights_lib)
{
    char *dir = tu_tmpdir();
    char *png = path_in(dir, "w.png");
    double t[] = {0, 0, 0, 10, 10, 10}, w[] = {1, 2, 3, 1, 1, 5};
    norn_plot_weights pw = {.unit = "mV", .time_ms = t, .weight = w, .n = 6, .width = 640, .height = 480};
    norn_err err;
    norn_err_clear(&err);
    ck_assert_int_eq(norn_plot_weights_file(png, &pw, &err), NORN_OK);
    norn_plot_weights bad = pw;
    bad.n = 0;
    ck_assert_int_eq(norn_plot_weights_file(png, &bad, &err), NORN_EINVAL);
    double wn[] = {1, 2, INFINITY, 1, 1, 5};
    bad = pw;
    bad.weight = wn;
    ck_assert_int_eq(norn_plot_weights_file(png, &bad, &err), NORN_EINVAL);
    ck_assert_str_eq(err.msg, "row 2: weight is not finite");
    bad = pw;
    bad.height = 10000;
    ck_assert_int_eq(norn_plot_weights_file(png, &bad, &err), NORN_EINVAL);
    /* all weights equal: one bin around them */
    double same[] = {2, 2, 2, 2, 2, 2};
    bad = pw;
    bad.weight = same;
    ck_assert_int_eq(norn_plot_weights_file(png, &bad, &err), NORN_OK);
    int failed = 0;
    char *m = path_in(dir, "m.png");
    for (long k = 0; k < 100; k++) {
        norn_mem_fail_after(k);
        norn_status s = norn_plot_weights_file(m, &pw, &err);
        norn_mem_fail_after(-1);
        if (s == NORN_OK)
            break;
        ck_assert_int_eq(s, NORN_ENOMEM);
        ck_assert(!tu_exists(m));
        failed++;
    }
    ck_assert_int_ge(failed, 5);
    ck_assert(tu_exists(m));
    ck_assert_uint_eq(norn_mem_live(), 0);
    free(m);
    free(png);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("cli");
    tcase_add_test(tc, test_png);
    tcase_add_test(tc, test_window_and_population);
    tcase_add_test(tc, test_unrecorded);
    tcase_add_test(tc, test_svg_pdf);
    tcase_add_test(tc, test_help_and_repeat);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad_input");
    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_failure_keeps_old_file);
    suite_add_tcase(s, tc);
    tc = tcase_create("library");
    tcase_add_test(tc, test_lib_ok);
    tcase_add_test(tc, test_lib_bad_args);
    tcase_add_test(tc, test_lib_window);
    tcase_add_test(tc, test_lib_enomem);
    tcase_add_test(tc, test_lib_dense);
    suite_add_tcase(s, tc);
    tc = tcase_create("traces");
    tcase_add_test(tc, test_traces_png);
    tcase_add_test(tc, test_traces_panels);
    tcase_add_test(tc, test_traces_recordings);
    tcase_add_loop_test(tc, test_traces_bad, 0, (int)(sizeof tbad / sizeof tbad[0]));
    tcase_add_test(tc, test_units);
    tcase_add_test(tc, test_traces_lib);
    tcase_add_test(tc, test_traces_many);
    suite_add_tcase(s, tc);
    tc = tcase_create("weights");
    tcase_add_test(tc, test_weights_png);
    tcase_add_test(tc, test_weights_single);
    tcase_add_test(tc, test_weights_other_dtypes);
    tcase_add_loop_test(tc, test_weights_bad, 0, (int)(sizeof wbad / sizeof wbad[0]));
    tcase_add_test(tc, test_weights_lib);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(suite()); }
