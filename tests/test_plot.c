/* tests/test_plot.c - tools/plot: `norn plot raster` and norn_plot_raster_file.
 * A small known run (two populations: "exc" ids 0..39 firing regularly
 * over the whole 100 ms, "inh" ids 40..49 firing only before 50 ms) is
 * written with norn's own npy writer plus a matching run.json. The PNGs are
 * read back with cairo and checked for size, population colours where the
 * raster is, white background, and a drawn histogram; SVG and PDF for their
 * headers; bad inputs for exit code 2, the message and no file written.
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
    {NULL, 0, {"histogram", "DIR"}, {"norn: plot: unknown plot 'histogram'; known: raster"}},
    {NULL, 0, {"raster"}, {"norn: plot raster: expected one run directory, got 0"}},
};

static char *subst_dir(const char *s, const char *dir)
{
    const char *at = strstr(s, "DIR");
    size_t n = strlen(s) + strlen(dir) + 1;
    char *r = malloc(n);
    if (at)
        snprintf(r, n, "%.*s%s%s", (int)(at - s), s, dir, at + 3);
    else
        snprintf(r, n, "%s", s);
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
    return s;
}

int main(void) { return tu_main(suite()); }
