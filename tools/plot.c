/* tools/plot.c - spike raster plots with cairo; see plot.h.
 * Layout (at 1200 x 800; everything scales with min(width/1200, height/800),
 * but not below 0.85, so that small pictures keep readable text):
 * title and subtitle on top, raster (72% of the plot height) with the
 * population labels in the right margin, rate histogram below, sharing the
 * time axis, whose tick labels and "time (ms)" are under the histogram.
 */
#include "tools/plot.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <getopt.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "io/atomic.h"
#include "io/npy.h"

#define MIN_W 320
#define MIN_H 240
#define MAX_WH 8192
#define MAX_POPS 65535u
#define MAX_BINS 400u
#define OP_CAP 32 /* pixels with this many marks or more are opaque */

/* Colours (matplotlib's tab10, red second so that exc/inh pairs contrast). */
static const unsigned char palette[][3] = {
    {0x1f, 0x77, 0xb4}, {0xd6, 0x27, 0x28}, {0x2c, 0xa0, 0x2c}, {0xff, 0x7f, 0x0e}, {0x94, 0x67, 0xbd},
    {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f}, {0xbc, 0xbd, 0x22}, {0x17, 0xbe, 0xcf},
};
#define N_PALETTE (sizeof palette / sizeof palette[0])

typedef enum { OUT_PNG, OUT_SVG, OUT_PDF, OUT_BAD } out_kind;

static out_kind out_kind_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot == NULL || (slash != NULL && dot < slash))
        return OUT_BAD;
    if (strcasecmp(dot, ".png") == 0)
        return OUT_PNG;
    if (strcasecmp(dot, ".svg") == 0)
        return OUT_SVG;
    if (strcasecmp(dot, ".pdf") == 0)
        return OUT_PDF;
    return OUT_BAD;
}

static norn_status bad_extension(const char *path, norn_err *err)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot == NULL || (slash != NULL && dot < slash))
        return NORN_FAIL(err, NORN_EINVAL, path, "no file extension; use .png, .svg or .pdf");
    return NORN_FAIL(err, NORN_EINVAL, path, "unknown output type '%s'; use .png, .svg or .pdf", dot);
}

/* ------------------------------------------------------------------ */
/* The picture                                                          */

typedef struct {
    const norn_plot_pop *pops;
    uint32_t n_pops;
    uint32_t *order; /* population indices by first_id */
    double t0, t1;   /* window, ms */
    int W, H;
    char title[256], sub[320];
    /* layout, device units (pixels for PNG, points otherwise) */
    double s; /* scale */
    double fs_title, fs_sub, fs_label, fs_tick;
    int lw; /* axis line width */
    int rx, ry, rw, rh; /* raster */
    int hx, hy, hw, hh; /* histogram */
    /* data */
    uint64_t ylo, yhi; /* neuron ids shown: [ylo, yhi) */
    uint64_t n_in;     /* spikes drawn */
    uint64_t *pop_n;   /* [n_pops] spikes drawn per population */
    uint32_t nbins;
    double bw;      /* bin width, ms */
    uint32_t *hist; /* [n_pops][nbins] */
    double rate_top, rate_step; /* histogram y axis: top and tick step, Hz */
    cairo_surface_t *img; /* the raster, rw x rh, premultiplied ARGB */
} plot;

/* Population of global id g, or -1. */
static long pop_of(const plot *p, uint32_t g)
{
    uint32_t lo = 0, hi = p->n_pops; /* first order index with first_id > g */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->pops[p->order[mid]].first_id <= g)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    uint32_t k = p->order[lo - 1];
    return (uint64_t)g < (uint64_t)p->pops[k].first_id + p->pops[k].size ? (long)k : -1;
}

static int in_window(const plot *p, double t) { return t >= p->t0 && t <= p->t1; }

/* 1, 2 or 5 times a power of ten, near range / target. */
static double nice_step(double range, double target)
{
    double raw = range / (target < 1 ? 1 : target);
    double e = pow(10.0, floor(log10(raw)));
    double f = raw / e;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * e;
}

static int decimals_for(double step)
{
    if (step >= 1)
        return 0;
    int d = (int)ceil(-log10(step) - 1e-9);
    return d > 9 ? 9 : d;
}

static void fmt_num(char *buf, size_t cap, double v, int dec)
{
    if (fabs(v) < 0.5 * pow(10.0, -dec))
        v = 0; /* no "-0" */
    snprintf(buf, cap, "%.*f", dec, v);
}

/* 12345678 -> "12,345,678" */
static void fmt_count(char *buf, size_t cap, uint64_t v)
{
    char d[32];
    int n = snprintf(d, sizeof d, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int k = 0; k < n && o + 2 < cap; k++) {
        if (k > 0 && (n - k) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = d[k];
    }
    buf[o] = 0;
}

static void fmt_rate(char *buf, size_t cap, double hz)
{
    if (hz >= 100)
        snprintf(buf, cap, "%.0f Hz", hz);
    else if (hz >= 10)
        snprintf(buf, cap, "%.1f Hz", hz);
    else if (hz >= 0.01 || hz == 0)
        snprintf(buf, cap, "%.2f Hz", hz);
    else
        snprintf(buf, cap, "%.2g Hz", hz);
}

static void set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static double text_w(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

enum { V_BASE, V_MID, V_TOP };

/* Draws s anchored at (x, y): ax 0 left, 0.5 centre, 1 right; vertically
 * its baseline, the middle or the top of its digits at y. */
static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, int v)
{
    cairo_text_extents_t d;
    cairo_text_extents(cr, "0", &d);
    double cap = d.height;
    double base = v == V_MID ? y + cap / 2 : v == V_TOP ? y + cap : y;
    cairo_move_to(cr, x - ax * text_w(cr, s), base);
    cairo_show_text(cr, s);
}

static void text_up(cairo_t *cr, double x, double y, const char *s)
{
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, s, 0.5, V_BASE);
    cairo_restore(cr);
}

static void rgb(cairo_t *cr, unsigned hex)
{
    cairo_set_source_rgb(cr, ((hex >> 16) & 255) / 255.0, ((hex >> 8) & 255) / 255.0, (hex & 255) / 255.0);
}

static const unsigned char *pop_colour(const plot *p, uint32_t k)
{
    uint32_t c = p->pops[k].colour;
    return palette[(c ? c - 1 : k) % N_PALETTE];
}

static void pop_rgba(const plot *p, cairo_t *cr, uint32_t k, double a)
{
    const unsigned char *c = pop_colour(p, k);
    cairo_set_source_rgba(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, a);
}

/* Pixel coordinates of values. */
static double x_of(const plot *p, double t) { return p->rx + (t - p->t0) / (p->t1 - p->t0) * p->rw; }
static double y_of_id(const plot *p, double id)
{
    return p->ry + p->rh - (id - (double)p->ylo + 0.5) * p->rh / (double)(p->yhi - p->ylo);
}
static double y_of_rate(const plot *p, double r) { return p->hy + p->hh - r / p->rate_top * p->hh; }
/* Centre of the pixel holding v, so 1-pixel lines are crisp. */
static double crisp(double v) { return floor(v) + 0.5; }

static double pop_rate(const plot *p, uint32_t k)
{
    return (double)p->pop_n[k] / p->pops[k].size / ((p->t1 - p->t0) / 1000.0);
}

/* Margins and font sizes; measures text with cr (any surface). */
static void layout(plot *p, cairo_t *cr)
{
    double s = fmin(p->W / 1200.0, p->H / 800.0);
    s = s < 0.85 ? 0.85 : s > 4 ? 4 : s; /* text stays readable when small */
    p->s = s;
    p->fs_title = 18 * s;
    p->fs_sub = 13 * s;
    p->fs_label = 14 * s;
    p->fs_tick = 12.5 * s;
    p->lw = (int)lround(s) < 1 ? 1 : (int)lround(s);

    char buf[64];
    set_font(cr, p->fs_tick, 0);
    fmt_num(buf, sizeof buf, (double)(p->yhi - 1), 0);
    double ytw = fmax(text_w(cr, buf), text_w(cr, "000.0"));
    double lab_w = 0;
    for (uint32_t k = 0; k < p->n_pops; k++) {
        set_font(cr, p->fs_label, 1);
        double w = text_w(cr, p->pops[k].name);
        set_font(cr, p->fs_tick, 0);
        fmt_rate(buf, sizeof buf, pop_rate(p, k));
        lab_w = fmax(lab_w, fmax(w, text_w(cr, buf)));
    }
    int ml = (int)lround(12 * s + p->fs_label + 10 * s + ytw + 9 * s);
    int mr = (int)lround(fmin(lab_w + 24 * s, p->W / 3.0));
    if (mr < (int)lround(24 * s))
        mr = (int)lround(24 * s);
    int mt = (int)lround(74 * s);
    int mb = (int)lround(p->fs_tick + p->fs_label + 32 * s);
    int gap = (int)lround(26 * s);
    int avail = p->H - mt - mb - gap;
    p->rx = p->hx = ml;
    p->rw = p->hw = p->W - ml - mr;
    p->ry = mt;
    p->rh = (int)lround(avail * 0.72);
    p->hy = mt + p->rh + gap;
    p->hh = avail - p->rh;
}

/* Counts spikes per population and bin; bins follow the histogram width. */
static norn_status histogram(plot *p, const double *t, const uint32_t *g, uint64_t n, norn_err *err)
{
    double span = p->t1 - p->t0;
    uint32_t max_bins = (uint32_t)(p->hw / 2) < MAX_BINS ? (uint32_t)(p->hw / 2) : MAX_BINS;
    /* smallest 1-2-5 width giving at most max_bins bins */
    double bw = pow(10.0, floor(log10(span / max_bins)));
    static const double mult[] = {1, 2, 5, 10, 20};
    for (size_t k = 0; k < sizeof mult / sizeof mult[0]; k++)
        if (span / (bw * mult[k]) <= max_bins * (1 + 1e-9)) {
            bw *= mult[k];
            break;
        }
    p->bw = bw;
    double nb = ceil(span / bw - 1e-9);
    p->nbins = nb < 1 ? 1 : (uint32_t)nb;
    p->hist = norn_calloc_n((size_t)p->n_pops * p->nbins, sizeof *p->hist);
    if (p->hist == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, "plot", "out of memory for the histogram");
    for (uint64_t k = 0; k < n; k++) {
        if (!in_window(p, t[k]))
            continue;
        long q = pop_of(p, g[k]);
        if (q < 0)
            continue;
        uint32_t b = (uint32_t)((t[k] - p->t0) / bw);
        if (b >= p->nbins)
            b = p->nbins - 1;
        p->hist[(size_t)q * p->nbins + b]++;
    }
    double top = 0;
    for (uint32_t q = 0; q < p->n_pops; q++)
        for (uint32_t b = 0; b < p->nbins; b++) {
            double w = fmin(bw, p->t1 - (p->t0 + b * bw)); /* last bin may be partial */
            double r = p->hist[(size_t)q * p->nbins + b] / (p->pops[q].size * w / 1000.0);
            top = fmax(top, r);
        }
    if (!(top > 0))
        top = 1;
    p->rate_step = nice_step(top * 1.05, 3);
    p->rate_top = ceil(top * 1.05 / p->rate_step - 1e-9) * p->rate_step;
    return NORN_OK;
}

/* Rasterises the spikes into per-pixel counts and builds the image. */
static norn_status rasterise(plot *p, const double *t, const uint32_t *g, uint64_t n, norn_err *err)
{
    const int rw = p->rw, rh = p->rh;
    size_t npix = (size_t)rw * (size_t)rh;
    norn_status st = NORN_OK;
    uint32_t *count = norn_calloc_n(npix, sizeof *count);
    uint32_t *owner = norn_calloc_n(npix, sizeof *owner);
    uint64_t *nz = norn_calloc_n((size_t)p->n_pops * (OP_CAP + 1), sizeof *nz); /* count histograms */
    double *op = norn_malloc_n((size_t)p->n_pops * (OP_CAP + 1), sizeof *op);   /* opacity by count */
    if (count == NULL || owner == NULL || nz == NULL || op == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, "plot", "out of memory for a %d x %d raster", rw, rh);
        goto done;
    }

    double span_ids = (double)(p->yhi - p->ylo);
    double row_px = rh / span_ids;
    int mh = row_px >= 2 ? (int)lround(row_px * 0.75) : 1;
    int mw = 1;
    if (mh < 1)
        mh = 1;
    if ((double)p->n_in * 2.0 * (mh < 2 ? 2 : mh) <= 0.06 * (double)npix) { /* sparse: marks cover <= 6% */
        mw = 2;
        if (mh < 2)
            mh = 2;
    }
    double xs = rw / (p->t1 - p->t0);
    for (uint64_t k = 0; k < n; k++) {
        if (!in_window(p, t[k]))
            continue;
        long q = pop_of(p, g[k]);
        if (q < 0)
            continue;
        double yc = rh - ((double)(g[k] - p->ylo) + 0.5) * row_px;
        int r0 = (int)floor(yc - (mh - 1) / 2.0);
        int c0 = (int)floor((t[k] - p->t0) * xs - (mw - 1) / 2.0);
        if (c0 > rw - mw)
            c0 = rw - mw; /* t == t_to */
        for (int r = r0 < 0 ? 0 : r0; r < r0 + mh && r < rh; r++)
            for (int c = c0 < 0 ? 0 : c0; c < c0 + mw && c < rw; c++) {
                size_t i = (size_t)r * rw + c;
                /* a pixel row shared by two populations shows the smaller
                 * (else a thin population could vanish), counting its
                 * spikes only */
                if (count[i] == 0 || p->pops[q].size < p->pops[owner[i]].size) {
                    owner[i] = (uint32_t)q;
                    count[i] = 1;
                } else if (owner[i] == (uint32_t)q) {
                    count[i]++;
                }
            }
    }

    /* Per population, the single-mark opacity a1 such that the 98th
     * percentile of its nonzero pixel counts reaches 97% opacity; k marks
     * give 1 - (1 - a1)^k, and OP_CAP or more are opaque (a1 >= 0.12 makes
     * that step small). A sparse population stays vivid beside a dense one. */
    const uint32_t nq = p->n_pops;
    for (size_t i = 0; i < npix; i++)
        if (count[i])
            nz[(size_t)owner[i] * (OP_CAP + 1) + (count[i] < OP_CAP ? count[i] : OP_CAP)]++;
    for (uint32_t q = 0; q < nq; q++) {
        uint64_t *h = nz + (size_t)q * (OP_CAP + 1), n_nz = 0, cum = 0;
        for (int c = 1; c <= OP_CAP; c++)
            n_nz += h[c];
        int p98 = OP_CAP;
        for (int c = 1; c <= OP_CAP; c++) {
            cum += h[c];
            if ((double)cum >= 0.98 * (double)n_nz) {
                p98 = c;
                break;
            }
        }
        double a1 = 1 - pow(0.03, 1.0 / p98);
        if (a1 < 0.12)
            a1 = 0.12;
        for (int c = 0; c <= OP_CAP; c++)
            op[(size_t)q * (OP_CAP + 1) + c] = c == OP_CAP ? 1.0 : 1 - pow(1 - a1, c);
    }

    p->img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, rw, rh);
    if (cairo_surface_status(p->img) != CAIRO_STATUS_SUCCESS) {
        st = NORN_FAIL(err, NORN_ENOMEM, "plot", "out of memory for a %d x %d raster image", rw, rh);
        goto done;
    }
    cairo_surface_flush(p->img);
    unsigned char *data = cairo_image_surface_get_data(p->img);
    int stride = cairo_image_surface_get_stride(p->img);
    for (int r = 0; r < rh; r++) {
        uint32_t *row = (uint32_t *)(void *)(data + (size_t)r * stride);
        for (int c = 0; c < rw; c++) {
            size_t i = (size_t)r * rw + c;
            if (count[i] == 0) {
                row[c] = 0;
                continue;
            }
            double a = op[(size_t)owner[i] * (OP_CAP + 1) + (count[i] < OP_CAP ? count[i] : OP_CAP)];
            const unsigned char *col = pop_colour(p, owner[i]);
            uint32_t A = (uint32_t)lround(a * 255);
            uint32_t R = (uint32_t)lround(col[0] * a), G = (uint32_t)lround(col[1] * a),
                     B = (uint32_t)lround(col[2] * a);
            row[c] = A << 24 | R << 16 | G << 8 | B;
        }
    }
    cairo_surface_mark_dirty(p->img);

done:
    norn_free(count);
    norn_free(owner);
    norn_free(nz);
    norn_free(op);
    return st;
}

static void draw_title(const plot *p, cairo_t *cr)
{
    rgb(cr, 0x222222);
    set_font(cr, p->fs_title, 1);
    text_at(cr, p->rx, 30 * p->s, p->title, 0, V_BASE);
    rgb(cr, 0x666666);
    set_font(cr, p->fs_sub, 0);
    text_at(cr, p->rx, 52 * p->s, p->sub, 0, V_BASE);
}

static void draw_raster(const plot *p, cairo_t *cr)
{
    double s = p->s, lw = p->lw;
    cairo_save(cr);
    cairo_set_source_surface(cr, p->img, p->rx, p->ry);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, p->rx, p->ry, p->rw, p->rh);
    cairo_fill(cr);
    cairo_restore(cr);

    /* population boundaries, where both bands are tall enough not to be
     * hidden by the line */
    cairo_set_line_width(cr, lw);
    double px_per_id = p->rh / (double)(p->yhi - p->ylo);
    for (uint32_t j = 1; j < p->n_pops; j++) {
        const norn_plot_pop *q = &p->pops[p->order[j]];
        if (fmin(q->size, p->pops[p->order[j - 1]].size) * px_per_id < 4 * s)
            continue;
        double y = y_of_id(p, q->first_id - 0.5);
        cairo_set_source_rgba(cr, 0.25, 0.25, 0.25, 0.55);
        double d[] = {4 * s, 3 * s};
        cairo_set_dash(cr, d, 2, 0);
        cairo_move_to(cr, p->rx, crisp(y));
        cairo_line_to(cr, p->rx + p->rw, crisp(y));
        cairo_stroke(cr);
    }
    cairo_set_dash(cr, NULL, 0, 0);

    /* population labels at the right, top to bottom, skipping any that would
     * overlap the one above */
    double last_bottom = -1e300;
    for (uint32_t j = p->n_pops; j-- > 0;) {
        uint32_t k = p->order[j];
        const norn_plot_pop *q = &p->pops[k];
        double y_top = y_of_id(p, q->first_id + q->size - 0.5);
        double y_bot = y_of_id(p, q->first_id - 0.5);
        double block = p->fs_label * 1.05 + p->fs_tick * 1.3;
        double yc = (y_top + y_bot) / 2;
        double top = fmax(yc - block / 2, p->ry);
        if (top + block > p->ry + p->rh)
            top = p->ry + p->rh - block;
        if (top < last_bottom)
            continue;
        last_bottom = top + block + 4 * s;
        double x = p->rx + p->rw + 10 * s;
        pop_rgba(p, cr, k, 1);
        set_font(cr, p->fs_label, 1);
        text_at(cr, x, top, q->name, 0, V_TOP);
        char buf[64];
        fmt_rate(buf, sizeof buf, pop_rate(p, k));
        rgb(cr, 0x555555);
        set_font(cr, p->fs_tick, 0);
        text_at(cr, x, top + p->fs_label * 1.05 + p->fs_tick * 0.25, buf, 0, V_TOP);
    }
}

/* Spines (left, bottom) of the box (x, y, w, h). */
static void spines(const plot *p, cairo_t *cr, int x, int y, int w, int h)
{
    double lw = p->lw;
    rgb(cr, 0x333333);
    cairo_set_line_width(cr, lw);
    cairo_move_to(cr, x - lw / 2, y);
    cairo_line_to(cr, x - lw / 2, y + h + lw);
    cairo_move_to(cr, x - lw, y + h + lw / 2);
    cairo_line_to(cr, x + w, y + h + lw / 2);
    cairo_stroke(cr);
}

/* Time ticks under the box at y (the bottom of the box); labels if asked. */
static void time_ticks(const plot *p, cairo_t *cr, int y, int labels)
{
    double s = p->s, lw = p->lw;
    double step = nice_step(p->t1 - p->t0, p->rw / (110 * s));
    int dec = decimals_for(step);
    set_font(cr, p->fs_tick, 0);
    cairo_set_line_width(cr, lw);
    int guard = 0; /* at most 100 ticks, whatever rounding does */
    for (double k = ceil(p->t0 / step - 1e-9); k * step <= p->t1 + 1e-9 * step && guard++ < 100; k++) {
        double v = k * step;
        double x = x_of(p, v);
        if (x >= p->rx + p->rw)
            x = p->rx + p->rw - 1;
        x = lw == 1 ? crisp(x) : x;
        rgb(cr, 0x333333);
        cairo_move_to(cr, x, y + lw);
        cairo_line_to(cr, x, y + lw + 5 * s);
        cairo_stroke(cr);
        if (labels) {
            char buf[64];
            fmt_num(buf, sizeof buf, v, dec);
            rgb(cr, 0x222222);
            text_at(cr, x, y + lw + 9 * s, buf, 0.5, V_TOP);
        }
    }
}

static void draw_raster_axes(const plot *p, cairo_t *cr)
{
    double s = p->s, lw = p->lw;
    spines(p, cr, p->rx, p->ry, p->rw, p->rh);
    time_ticks(p, cr, p->ry + p->rh, 0);
    /* neuron ids */
    double lo = (double)p->ylo, hi = (double)(p->yhi - 1);
    double step = hi > lo ? nice_step(hi - lo, p->rh / (70 * s)) : 1;
    if (step < 1)
        step = 1;
    set_font(cr, p->fs_tick, 0);
    cairo_set_line_width(cr, lw);
    int guard = 0;
    for (double k = ceil(lo / step - 1e-9); k * step <= hi + 1e-9 && guard++ < 100; k++) {
        double y = y_of_id(p, k * step);
        y = lw == 1 ? crisp(y) : y;
        rgb(cr, 0x333333);
        cairo_move_to(cr, p->rx - lw, y);
        cairo_line_to(cr, p->rx - lw - 5 * s, y);
        cairo_stroke(cr);
        char buf[64];
        fmt_num(buf, sizeof buf, k * step, 0);
        rgb(cr, 0x222222);
        text_at(cr, p->rx - lw - 8 * s, y, buf, 1, V_MID);
    }
    set_font(cr, p->fs_label, 0);
    rgb(cr, 0x222222);
    text_up(cr, 12 * s + p->fs_label * 0.75, p->ry + p->rh / 2.0, "neuron");
}

static void draw_histogram(const plot *p, cairo_t *cr)
{
    double s = p->s, lw = p->lw;
    /* grid and rate ticks */
    double step = p->rate_step;
    int dec = decimals_for(step);
    set_font(cr, p->fs_tick, 0);
    for (double k = 0; k * step <= p->rate_top * (1 + 1e-9); k++) {
        double y = y_of_rate(p, k * step);
        y = lw == 1 ? crisp(y) : y;
        if (k > 0) {
            rgb(cr, 0xe4e4e4);
            cairo_set_line_width(cr, lw);
            cairo_move_to(cr, p->hx, y);
            cairo_line_to(cr, p->hx + p->hw, y);
            cairo_stroke(cr);
        }
        rgb(cr, 0x333333);
        cairo_set_line_width(cr, lw);
        cairo_move_to(cr, p->hx - lw, y);
        cairo_line_to(cr, p->hx - lw - 5 * s, y);
        cairo_stroke(cr);
        char buf[64];
        fmt_num(buf, sizeof buf, k * step, dec);
        rgb(cr, 0x222222);
        text_at(cr, p->hx - lw - 8 * s, y, buf, 1, V_MID);
    }
    /* one step curve per population (filled lightly when alone) */
    cairo_save(cr);
    cairo_rectangle(cr, p->hx, p->hy - 2 * s, p->hw, p->hh + 2 * s);
    cairo_clip(cr);
    for (int pass = p->n_pops > 1; pass < 2; pass++)
        for (uint32_t k = 0; k < p->n_pops; k++) {
            const uint32_t *h = p->hist + (size_t)k * p->nbins;
            double y0 = y_of_rate(p, 0);
            if (pass == 0)
                cairo_move_to(cr, p->hx, y0);
            for (uint32_t b = 0; b < p->nbins; b++) {
                double ta = p->t0 + b * p->bw, tb = fmin(ta + p->bw, p->t1);
                double r = h[b] / (p->pops[k].size * (tb - ta) / 1000.0);
                double y = y_of_rate(p, r);
                cairo_line_to(cr, x_of(p, ta), y);
                cairo_line_to(cr, x_of(p, tb), y);
            }
            if (pass == 0) {
                cairo_line_to(cr, x_of(p, p->t1), y0);
                cairo_close_path(cr);
                pop_rgba(p, cr, k, 0.10);
                cairo_fill(cr);
            } else {
                pop_rgba(p, cr, k, 0.9);
                cairo_set_line_width(cr, 1.3 * s);
                cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
                cairo_stroke(cr);
            }
        }
    cairo_restore(cr);
    spines(p, cr, p->hx, p->hy, p->hw, p->hh);
    time_ticks(p, cr, p->hy + p->hh, 1);
    set_font(cr, p->fs_label, 0);
    rgb(cr, 0x222222);
    text_up(cr, 12 * s + p->fs_label * 0.75, p->hy + p->hh / 2.0, "rate (Hz)");
    text_at(cr, p->hx + p->hw / 2.0, p->H - 12 * s, "time (ms)", 0.5, V_BASE);
}

static void render(const plot *p, cairo_t *cr)
{
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    draw_title(p, cr);
    draw_raster(p, cr);
    draw_raster_axes(p, cr);
    draw_histogram(p, cr);
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */

static cairo_status_t write_afile(void *closure, const unsigned char *data, unsigned int len)
{
    norn_afile *a = closure;
    return fwrite(data, 1, len, a->f) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static norn_status cairo_fail(cairo_status_t cs, const char *path, norn_err *err)
{
    if (cs == CAIRO_STATUS_NO_MEMORY)
        return NORN_FAIL(err, NORN_ENOMEM, path, "out of memory while drawing");
    if (cs == CAIRO_STATUS_WRITE_ERROR)
        return NORN_FAIL(err, NORN_EIO, path, "write failed: %s", strerror(errno ? errno : EIO));
    return NORN_FAIL(err, NORN_EIO, path, "cairo: %s", cairo_status_to_string(cs));
}

static norn_status write_out(const plot *p, const char *path, out_kind kind, norn_err *err)
{
    norn_afile a;
    norn_status st = norn_afile_open(&a, path, err);
    if (st != NORN_OK)
        return st;
    cairo_surface_t *sf;
    if (kind == OUT_PNG)
        sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, p->W, p->H);
    else if (kind == OUT_SVG)
        sf = cairo_svg_surface_create_for_stream(write_afile, &a, p->W, p->H);
    else
        sf = cairo_pdf_surface_create_for_stream(write_afile, &a, p->W, p->H);
    if (kind == OUT_PDF)
        cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR, "norn");
    cairo_t *cr = cairo_create(sf);
    errno = 0;
    render(p, cr);
    cairo_status_t cs = cairo_status(cr);
    cairo_destroy(cr);
    if (cs == CAIRO_STATUS_SUCCESS && kind == OUT_PNG)
        cs = cairo_surface_write_to_png_stream(sf, write_afile, &a);
    cairo_surface_finish(sf);
    if (cs == CAIRO_STATUS_SUCCESS)
        cs = cairo_surface_status(sf);
    cairo_surface_destroy(sf);
    if (cs != CAIRO_STATUS_SUCCESS) {
        st = cairo_fail(cs, path, err);
        norn_afile_abort(&a);
        return st;
    }
    return norn_afile_commit(&a, err);
}

/* ------------------------------------------------------------------ */
/* The library entry                                                    */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

norn_status norn_plot_raster_titled(const char *out_path, const char *title, const double *time_ms,
                                    const uint32_t *gid, uint64_t n, const norn_plot_pop *pops,
                                    uint32_t n_pops, double t_from, double t_to, int width, int height,
                                    norn_err *err)
{
    if (out_path == NULL || !*out_path)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "no output file");
    out_kind kind = out_kind_of(out_path);
    if (kind == OUT_BAD)
        return bad_extension(out_path, err);
    if (n > 0 && (time_ms == NULL || gid == NULL))
        return NORN_FAIL(err, NORN_EINVAL, "plot", "no spike arrays for %llu spikes", (unsigned long long)n);
    if (width < MIN_W || width > MAX_WH || height < MIN_H || height > MAX_WH)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "size %d x %d out of range (%d..%d x %d..%d)", width, height,
                         MIN_W, MAX_WH, MIN_H, MAX_WH);
    if (!isfinite(t_from) || !isfinite(t_to) || !(t_to > t_from) || !(t_to - t_from > 1e-9 * fabs(t_to)))
        return NORN_FAIL(err, NORN_EINVAL, "plot", "time window %g..%g ms is empty", t_from, t_to);
    if (pops == NULL || n_pops == 0 || n_pops > MAX_POPS)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "need 1..%u populations, got %u", MAX_POPS, n_pops);
    for (uint32_t k = 0; k < n_pops; k++) {
        if (pops[k].name == NULL || pops[k].size == 0)
            return NORN_FAIL(err, NORN_EINVAL, "plot", "population %u: %s", k,
                             pops[k].name == NULL ? "no name" : "size 0");
        if ((uint64_t)pops[k].first_id + pops[k].size > UINT32_MAX)
            return NORN_FAIL(err, NORN_EINVAL, "plot", "population '%s': ids beyond 2^32 - 2", pops[k].name);
    }

    plot p;
    memset(&p, 0, sizeof p);
    p.pops = pops;
    p.n_pops = n_pops;
    p.t0 = t_from;
    p.t1 = t_to;
    p.W = width;
    p.H = height;
    norn_status st = NORN_OK;
    cairo_surface_t *scratch = NULL;
    cairo_t *mcr = NULL;
    uint64_t *keys = norn_malloc_n(n_pops, sizeof *keys); /* first_id << 32 | index */
    p.order = norn_malloc_n(n_pops, sizeof *p.order);
    p.pop_n = norn_calloc_n(n_pops, sizeof *p.pop_n);
    if (keys == NULL || p.order == NULL || p.pop_n == NULL) {
        norn_free(keys);
        st = NORN_FAIL(err, NORN_ENOMEM, "plot", "out of memory");
        goto done;
    }
    for (uint32_t k = 0; k < n_pops; k++)
        keys[k] = (uint64_t)pops[k].first_id << 32 | k;
    qsort(keys, n_pops, sizeof *keys, cmp_u64);
    for (uint32_t k = 0; k < n_pops; k++)
        p.order[k] = (uint32_t)keys[k];
    norn_free(keys);
    for (uint32_t j = 1; j < n_pops; j++) {
        const norn_plot_pop *a = &pops[p.order[j - 1]], *b = &pops[p.order[j]];
        if ((uint64_t)a->first_id + a->size > b->first_id) {
            st = NORN_FAIL(err, NORN_EINVAL, "plot", "populations '%s' and '%s' overlap", a->name, b->name);
            goto done;
        }
    }
    p.ylo = pops[p.order[0]].first_id;
    const norn_plot_pop *last = &pops[p.order[n_pops - 1]];
    p.yhi = (uint64_t)last->first_id + last->size;

    for (uint64_t k = 0; k < n; k++) {
        if (!in_window(&p, time_ms[k]))
            continue;
        long q = pop_of(&p, gid[k]);
        if (q >= 0) {
            p.pop_n[q]++;
            p.n_in++;
        }
    }

    scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    mcr = cairo_create(scratch);
    if (cairo_status(mcr) != CAIRO_STATUS_SUCCESS) {
        st = NORN_FAIL(err, NORN_ENOMEM, "plot", "out of memory");
        goto done;
    }
    layout(&p, mcr);
    if ((st = histogram(&p, time_ms, gid, n, err)) != NORN_OK)
        goto done;
    if ((st = rasterise(&p, time_ms, gid, n, err)) != NORN_OK)
        goto done;

    snprintf(p.title, sizeof p.title, "%s", title ? title : "spike raster");
    char neurons[32], spikes[32], bw[32];
    uint64_t nn = 0;
    for (uint32_t k = 0; k < n_pops; k++)
        nn += pops[k].size;
    fmt_count(neurons, sizeof neurons, nn);
    fmt_count(spikes, sizeof spikes, p.n_in);
    snprintf(bw, sizeof bw, "%g", p.bw);
    snprintf(p.sub, sizeof p.sub, "%s neurons \xc2\xb7 %s spikes in %g\xe2\x80\x93%g ms \xc2\xb7 rate bin %s ms",
             neurons, spikes, p.t0, p.t1, bw);
    st = write_out(&p, out_path, kind, err);

done:
    if (mcr)
        cairo_destroy(mcr);
    if (scratch)
        cairo_surface_destroy(scratch);
    if (p.img)
        cairo_surface_destroy(p.img);
    norn_free(p.order);
    norn_free(p.pop_n);
    norn_free(p.hist);
    return st;
}

norn_status norn_plot_raster_file(const char *out_path, const double *time_ms, const uint32_t *gid, uint64_t n,
                                  const norn_plot_pop *pops, uint32_t n_pops, double t_from, double t_to,
                                  int width, int height, norn_err *err)
{
    return norn_plot_raster_titled(out_path, NULL, time_ms, gid, n, pops, n_pops, t_from, t_to, width, height,
                                   err);
}

/* ------------------------------------------------------------------ */
/* norn plot                                                            */

static const char plot_usage[] =
    "usage: norn plot raster DIR [options]\n"
    "\n"
    "Draws the spikes of a finished run (DIR/spikes.npy, DIR/run.json): a raster\n"
    "(time x neuron id, one colour per population) above the population rates\n"
    "(spikes per bin / (neurons * bin), Hz).\n"
    "\n"
    "options:\n"
    "  -o, --out FILE        output file, .png, .svg or .pdf (default DIR/raster.png)\n"
    "      --from MS         start of the time window (default 0)\n"
    "      --to MS           end of the time window (default the run's duration)\n"
    "  -p, --population NAME only this population (repeat for several)\n"
    "      --width PX        picture width (default 1200; 320..8192)\n"
    "      --height PX       picture height (default 800; 240..8192)\n"
    "\n"
    "Exit status: 0 ok; 2 bad input (nothing written); 1 failure while writing.\n";

typedef struct {
    char *name, *mode; /* may be NULL */
    double duration_ms;
    uint32_t n_pops;
    norn_plot_pop *pops; /* names owned */
    int *recorded;
} run_info;

static void run_info_free(run_info *r)
{
    for (uint32_t k = 0; r->pops && k < r->n_pops; k++)
        norn_free((char *)r->pops[k].name);
    norn_free(r->pops);
    norn_free(r->recorded);
    norn_free(r->name);
    norn_free(r->mode);
    memset(r, 0, sizeof *r);
}

static void diag_drop(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag, (void)user, (void)buf, (void)len;
}

/* "path:line:col" of a scalar node, else path. */
static const char *where_of(char *buf, size_t cap, const char *path, struct fy_node *n)
{
    struct fy_token *t = n && fy_node_is_scalar(n) ? fy_node_get_scalar_token(n) : NULL;
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    enum fy_node_style st = m ? fy_node_get_style(n) : FYNS_ANY;
    int quoted = st == FYNS_DOUBLE_QUOTED || st == FYNS_SINGLE_QUOTED; /* the mark is after the quote */
    if (m)
        snprintf(buf, cap, "%s:%d:%d", path, m->line + 1, m->column + 1 - (quoted && m->column > 0));
    else
        snprintf(buf, cap, "%s", path);
    return buf;
}

static struct fy_node *get(struct fy_node *map, const char *key)
{
    return map && fy_node_is_mapping(map) ? fy_node_mapping_lookup_by_string(map, key, FY_NT) : NULL;
}

static const char *scalar(struct fy_node *n)
{
    return n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
}

static int parse_num(const char *s, double *out)
{
    char *end;
    if (s == NULL || !*s)
        return 0;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Integer in [0, max] */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v > max)
        return 0;
    *out = v;
    return 1;
}

static norn_status read_run_json(const char *path, run_info *out, norn_err *err)
{
    char wb[4400]; /* truncated to norn_err.where by NORN_FAIL */
    run_info r;
    memset(&r, 0, sizeof r);
    norn_status st = NORN_OK;
    struct fy_diag *diag = NULL;
    struct fy_document *doc = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NORN_FAIL(err, NORN_EIO, path, "cannot open: %s", strerror(errno));
    fclose(f);

    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL;
    dc.output_fn = diag_drop;
    dc.colorize = false;
    if ((diag = fy_diag_create(&dc)) == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg pc;
    memset(&pc, 0, sizeof pc);
    pc.flags = FYPCF_QUIET | FYPCF_JSON_FORCE;
    pc.diag = diag;
    doc = fy_document_build_from_file(&pc, path);
    if (doc == NULL) {
        void *it = NULL;
        struct fy_diag_error *e, *first = NULL;
        while ((e = fy_diag_errors_iterate(diag, &it)) != NULL)
            if (first == NULL && e->type >= FYET_ERROR)
                first = e;
        if (first && first->line > 0) {
            snprintf(wb, sizeof wb, "%s:%d:%d", path, first->line, first->column > 0 ? first->column : 1);
            st = NORN_FAIL(err, NORN_EPARSE, wb, "JSON syntax error: %s", first->msg ? first->msg : "?");
        } else {
            st = NORN_FAIL(err, NORN_EPARSE, path, "JSON syntax error: %s",
                           first && first->msg ? first->msg : "no document");
        }
        goto done;
    }
    struct fy_node *root = fy_document_root(doc);
    if (root == NULL || !fy_node_is_mapping(root)) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "expected a JSON object at the top");
        goto done;
    }
    struct fy_node *n = get(root, "duration_ms");
    if (n == NULL) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "duration_ms: missing");
        goto done;
    }
    if (!parse_num(scalar(n), &r.duration_ms) || !(r.duration_ms > 0)) {
        st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, n),
                       "duration_ms: expected a time in ms > 0, got '%s'", scalar(n) ? scalar(n) : "(not a number)");
        goto done;
    }
    const char *s;
    if ((s = scalar(get(root, "name"))) != NULL && (r.name = norn_strdup(s)) == NULL)
        goto oom;
    if ((s = scalar(get(root, "mode"))) != NULL && (r.mode = norn_strdup(s)) == NULL)
        goto oom;
    struct fy_node *ps = get(root, "populations");
    if (ps == NULL || !fy_node_is_sequence(ps) || fy_node_sequence_item_count(ps) <= 0) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "populations: %s",
                       ps == NULL ? "missing" : "expected a non-empty list");
        goto done;
    }
    int np = fy_node_sequence_item_count(ps);
    if ((uint32_t)np > MAX_POPS) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "populations: more than %u", MAX_POPS);
        goto done;
    }
    r.pops = norn_calloc_n((size_t)np, sizeof *r.pops);
    r.recorded = norn_calloc_n((size_t)np, sizeof *r.recorded);
    if (r.pops == NULL || r.recorded == NULL)
        goto oom;
    r.n_pops = (uint32_t)np;
    for (int k = 0; k < np; k++) {
        struct fy_node *q = fy_node_sequence_get_by_index(ps, k);
        if (q == NULL || !fy_node_is_mapping(q)) {
            st = NORN_FAIL(err, NORN_EPARSE, path, "populations[%d]: expected an object", k);
            goto done;
        }
        struct fy_node *nm = get(q, "name"), *sz = get(q, "size"), *fi = get(q, "first_id"),
                       *li = get(q, "last_id");
        const char *key = nm == NULL ? "name" : sz == NULL ? "size" : fi == NULL ? "first_id" : NULL;
        if (key) {
            st = NORN_FAIL(err, NORN_EPARSE, path, "populations[%d].%s: missing", k, key);
            goto done;
        }
        if (scalar(nm) == NULL || !*scalar(nm)) {
            st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, nm),
                           "populations[%d].name: expected a non-empty string", k);
            goto done;
        }
        uint64_t size, first, lastv;
        if (!parse_uint(scalar(sz), UINT32_MAX - 1, &size) || size == 0) {
            st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, sz),
                           "populations[%d].size: expected an integer >= 1, got '%s'", k,
                           scalar(sz) ? scalar(sz) : "(not a number)");
            goto done;
        }
        if (!parse_uint(scalar(fi), UINT32_MAX - 1, &first) || first + size > UINT32_MAX) {
            st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, fi),
                           "populations[%d].first_id: expected an id in 0..%llu, got '%s'", k,
                           (unsigned long long)(UINT32_MAX - size), scalar(fi) ? scalar(fi) : "(not a number)");
            goto done;
        }
        if (li && (!parse_uint(scalar(li), UINT32_MAX, &lastv) || lastv != first + size - 1)) {
            st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, li),
                           "populations[%d].last_id: expected first_id + size - 1 = %llu, got '%s'", k,
                           (unsigned long long)(first + size - 1), scalar(li) ? scalar(li) : "(not a number)");
            goto done;
        }
        const char *rec = scalar(get(q, "recorded"));
        r.recorded[k] = rec == NULL || strcmp(rec, "none") != 0;
        r.pops[k].first_id = (uint32_t)first;
        r.pops[k].size = (uint32_t)size;
        if ((r.pops[k].name = norn_strdup(scalar(nm))) == NULL)
            goto oom;
    }
    *out = r;
    memset(&r, 0, sizeof r);
    goto done;
oom:
    st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
done:
    run_info_free(&r);
    if (doc)
        fy_document_destroy(doc);
    fy_diag_destroy(diag);
    return st;
}

static int cli_fail(const norn_err *err)
{
    char buf[1024];
    fprintf(stderr, "norn: %s\n", norn_err_format(err, buf, sizeof buf));
    return err->code == NORN_ENOMEM ? 1 : 2;
}

static int opt_num(const char *opt, const char *arg, double *out)
{
    if (!parse_num(arg, out)) {
        fprintf(stderr, "norn: %s: expected a number of ms, got '%s'\n", opt, arg);
        return 0;
    }
    return 1;
}

static int opt_px(const char *opt, const char *arg, int lo, int hi, int *out)
{
    uint64_t v;
    if (!parse_uint(arg, (uint64_t)hi, &v) || v < (uint64_t)lo) {
        fprintf(stderr, "norn: %s: expected pixels in %d..%d, got '%s'\n", opt, lo, hi, arg);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static int cmd_raster(const char *dir, const char *out, int have_from, double t_from, int have_to, double t_to,
                      char **names, int n_names, int width, int height)
{
    norn_err err;
    norn_err_clear(&err);
    char json[4200], npy[4200], def_out[4200], title[512];
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "norn: %s: %s\n", dir, stat(dir, &sb) != 0 ? "no such directory" : "not a directory");
        return 2;
    }
    if (strlen(dir) > 4000) {
        fprintf(stderr, "norn: %s: path too long\n", dir);
        return 2;
    }
    snprintf(json, sizeof json, "%s/run.json", dir);
    snprintf(npy, sizeof npy, "%s/spikes.npy", dir);
    if (out == NULL) {
        snprintf(def_out, sizeof def_out, "%s/raster.png", dir);
        out = def_out;
    }
    if (out_kind_of(out) == OUT_BAD) {
        bad_extension(out, &err);
        return cli_fail(&err);
    }

    run_info r;
    memset(&r, 0, sizeof r);
    double *t = NULL;
    uint32_t *g = NULL;
    uint64_t n = 0;
    norn_plot_pop *sel = NULL;
    int rc = 2;
    if (read_run_json(json, &r, &err) != NORN_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    /* populations: the named ones in run.json order, or all recorded */
    if ((sel = norn_calloc_n(r.n_pops, sizeof *sel)) == NULL) {
        fprintf(stderr, "norn: out of memory\n");
        rc = 1;
        goto done;
    }
    for (int j = 0; j < n_names; j++) {
        uint32_t k = 0;
        while (k < r.n_pops && strcmp(r.pops[k].name, names[j]) != 0)
            k++;
        if (k == r.n_pops) {
            fprintf(stderr, "norn: --population: unknown population '%s'; known:", names[j]);
            for (k = 0; k < r.n_pops; k++)
                fprintf(stderr, "%s %s", k ? "," : "", r.pops[k].name);
            fprintf(stderr, "\n");
            goto done;
        }
    }
    uint32_t n_sel = 0;
    for (uint32_t k = 0; k < r.n_pops; k++) {
        int want = n_names == 0 ? r.recorded[k] : 0;
        for (int j = 0; j < n_names; j++)
            want |= strcmp(r.pops[k].name, names[j]) == 0;
        if (want) {
            sel[n_sel] = r.pops[k];
            sel[n_sel++].colour = k + 1; /* the same colour in every plot of this run */
        }
    }
    if (n_sel == 0) {
        fprintf(stderr, "norn: %s: no population has recorded spikes\n", json);
        goto done;
    }
    if (!have_from)
        t_from = 0;
    if (!have_to)
        t_to = r.duration_ms;
    if (!(t_to > t_from)) {
        fprintf(stderr, "norn: %s: the time window %g..%g ms is empty\n", have_to ? "--to" : "--from", t_from,
                t_to);
        goto done;
    }
    if (norn_npy_read_spikes(npy, &t, &g, &n, &err) != NORN_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    if (g == NULL) {
        fprintf(stderr, "norn: %s: no neuron field (a 1-D array of times only)\n", npy);
        goto done;
    }
    const char *name = r.name;
    if (name == NULL) {
        name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
        if (!*name)
            name = dir;
    }
    if (r.mode)
        snprintf(title, sizeof title, "%s \xe2\x80\x94 %s mode, %g ms", name, r.mode, r.duration_ms);
    else
        snprintf(title, sizeof title, "%s \xe2\x80\x94 %g ms", name, r.duration_ms);
    norn_status st = norn_plot_raster_titled(out, title, t, g, n, sel, n_sel, t_from, t_to, width, height, &err);
    if (st != NORN_OK) {
        char buf[1024];
        fprintf(stderr, "norn: %s\n", norn_err_format(&err, buf, sizeof buf));
        rc = st == NORN_EINVAL || st == NORN_EPARSE ? 2 : 1;
        goto done;
    }
    printf("wrote %s\n", out);
    rc = 0;
done:
    norn_free(t);
    norn_free(g);
    norn_free(sel);
    run_info_free(&r);
    return rc;
}

int norn_cli_plot(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},   {"from", required_argument, 0, 'F'},
        {"to", required_argument, 0, 'T'},    {"population", required_argument, 0, 'p'},
        {"width", required_argument, 0, 'W'}, {"height", required_argument, 0, 'H'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *out = NULL;
    double t_from = 0, t_to = 0;
    int have_from = 0, have_to = 0, width = 1200, height = 800, n_names = 0, c;
    char **names = norn_calloc_n(argc > 0 ? (size_t)argc : 1, sizeof *names);
    if (names == NULL) {
        fprintf(stderr, "norn: out of memory\n");
        return 1;
    }
    int rc = 2;
    optind = 0; /* full reset: tests call us more than once */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'F':
            if (!opt_num("--from", optarg, &t_from))
                goto done;
            have_from = 1;
            break;
        case 'T':
            if (!opt_num("--to", optarg, &t_to))
                goto done;
            have_to = 1;
            break;
        case 'p': names[n_names++] = optarg; break;
        case 'W':
            if (!opt_px("--width", optarg, MIN_W, MAX_WH, &width))
                goto done;
            break;
        case 'H':
            if (!opt_px("--height", optarg, MIN_H, MAX_WH, &height))
                goto done;
            break;
        case 'h':
            fputs(plot_usage, stdout);
            rc = 0;
            goto done;
        case ':': fprintf(stderr, "norn: plot: option '%s' needs a value\n", argv[optind - 1]); goto done;
        default:
            if (optopt)
                fprintf(stderr, "norn: plot: unknown option '-%c'; see 'norn plot --help'\n", optopt);
            else
                fprintf(stderr, "norn: plot: unknown option '%s'; see 'norn plot --help'\n", argv[optind - 1]);
            goto done;
        }
    }
    int npos = argc - optind;
    if (npos == 0) {
        fputs(plot_usage, stderr);
        goto done;
    }
    if (strcmp(argv[optind], "raster") != 0) {
        fprintf(stderr, "norn: plot: unknown plot '%s'; known: raster\n", argv[optind]);
        goto done;
    }
    if (npos != 2) {
        fprintf(stderr, "norn: plot raster: expected one run directory, got %d\n", npos - 1);
        goto done;
    }
    rc = cmd_raster(argv[optind + 1], out, have_from, t_from, have_to, t_to, names, n_names, width, height);
done:
    norn_free(names);
    return rc;
}
