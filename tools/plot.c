/* tools/plot.c - raster, trace and weight plots with cairo; see plot.h.
 * Layout (at 1200 x 800; everything scales with min(width/1200, height/800),
 * but not below 0.85, so that small pictures keep readable text): title
 * and subtitle on top, then
 *  raster:  the raster (72% of the plot height) with the population labels
 *           in the right margin, rate histogram below, sharing the time
 *           axis, whose tick labels and "time (ms)" are under the histogram;
 *  traces:  equal panels stacked on one time axis, labelled at the bottom;
 *           the legend right-aligned on the subtitle's line (or its own);
 *           threshold labels in the right margin;
 *  weights: a captioned histogram (38%) with its weight axis, then the
 *           captioned evolution with the colour scale in the right margin.
 * Sections: the raster; frames and axes shared by traces and weights;
 * traces; units; weights; the command (run.json, the .npy readers, each
 * plot's command, argument parsing).
 */
#include "tools/plot.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "io/atomic.h"
#include "io/npy.h"
#include "models/euler.h"
#include "models/model.h"

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
    if (v < 0)
        snprintf(buf, cap, "\xe2\x88\x92%.*f", dec, -v); /* a minus sign, not a hyphen */
    else
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

static void render(const void *ctx, cairo_t *cr)
{
    const plot *p = ctx;
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

/* Draws the picture with draw(ctx, cr) on a W x H surface of the given
 * kind and writes it atomically to path. */
static norn_status write_out(const void *ctx, void (*draw)(const void *, cairo_t *), int W, int H,
                             const char *path, out_kind kind, norn_err *err)
{
    norn_afile a;
    norn_status st = norn_afile_open(&a, path, err);
    if (st != NORN_OK)
        return st;
    cairo_surface_t *sf;
    if (kind == OUT_PNG)
        sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    else if (kind == OUT_SVG)
        sf = cairo_svg_surface_create_for_stream(write_afile, &a, W, H);
    else
        sf = cairo_pdf_surface_create_for_stream(write_afile, &a, W, H);
    if (kind == OUT_PDF)
        cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR, "norn");
    cairo_t *cr = cairo_create(sf);
    errno = 0;
    draw(ctx, cr);
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
    st = write_out(&p, render, p.W, p.H, out_path, kind, err);

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
/* Frames and axes (traces and weights)                                 */

typedef struct {
    int W, H;
    double s; /* scale, as in layout() */
    double fs_title, fs_sub, fs_label, fs_tick;
    int lw; /* axis line width */
} frame;

static void frame_init(frame *f, int W, int H)
{
    double s = fmin(W / 1200.0, H / 800.0);
    s = s < 0.85 ? 0.85 : s > 4 ? 4 : s;
    f->W = W;
    f->H = H;
    f->s = s;
    f->fs_title = 18 * s;
    f->fs_sub = 13 * s;
    f->fs_label = 14 * s;
    f->fs_tick = 12.5 * s;
    f->lw = (int)lround(s) < 1 ? 1 : (int)lround(s);
}

static void frame_titles(const frame *f, cairo_t *cr, double x, const char *title, const char *sub)
{
    rgb(cr, 0x222222);
    set_font(cr, f->fs_title, 1);
    text_at(cr, x, 30 * f->s, title, 0, V_BASE);
    rgb(cr, 0x666666);
    set_font(cr, f->fs_sub, 0);
    text_at(cr, x, 52 * f->s, sub, 0, V_BASE);
}

/* Left and bottom spines of the box (x, y, w, h). */
static void frame_spines(const frame *f, cairo_t *cr, int x, int y, int w, int h)
{
    double lw = f->lw;
    rgb(cr, 0x333333);
    cairo_set_line_width(cr, lw);
    cairo_move_to(cr, x - lw / 2, y);
    cairo_line_to(cr, x - lw / 2, y + h + lw);
    cairo_move_to(cr, x - lw, y + h + lw / 2);
    cairo_line_to(cr, x + w, y + h + lw / 2);
    cairo_stroke(cr);
}

/* A value axis over [v0, v1] with ticks at multiples of step. */
typedef struct {
    double v0, v1, step;
    int dec; /* decimals of the tick labels */
} axis;

static axis axis_make(double v0, double v1, double len_px, double px_per_tick)
{
    axis a;
    a.v0 = v0;
    a.v1 = v1;
    a.step = nice_step(v1 - v0, len_px / px_per_tick);
    a.dec = decimals_for(a.step);
    return a;
}

#define AXIS_FOR(a, k)                                                                                    \
    for (double k = ceil((a)->v0 / (a)->step - 1e-9), guard_ = 0;                                         \
         k * (a)->step <= (a)->v1 + 1e-9 * (a)->step && guard_ < 200; k++, guard_++)

/* Widest tick label of a. */
static double axis_label_w(const frame *f, cairo_t *cr, const axis *a)
{
    char buf[64];
    double w = 0;
    set_font(cr, f->fs_tick, 0);
    AXIS_FOR(a, k)
    {
        fmt_num(buf, sizeof buf, k * a->step, a->dec);
        w = fmax(w, text_w(cr, buf));
    }
    return w;
}

static double axis_y(const axis *a, int y, int h, double v) { return y + h - (v - a->v0) / (a->v1 - a->v0) * h; }
static double axis_x(const axis *a, int x, int w, double v) { return x + (v - a->v0) / (a->v1 - a->v0) * w; }

/* Ticks and labels of a on the left of the box (x, y, w, h); light grid
 * lines across it when grid. */
static void axis_left(const frame *f, cairo_t *cr, const axis *a, int x, int y, int w, int h, int grid)
{
    double s = f->s, lw = f->lw;
    set_font(cr, f->fs_tick, 0);
    cairo_set_line_width(cr, lw);
    AXIS_FOR(a, k)
    {
        double v = k * a->step;
        double yy = axis_y(a, y, h, v);
        yy = lw == 1 ? crisp(yy) : yy;
        if (grid && yy > y + lw && yy < y + h - lw) {
            rgb(cr, 0xe8e8e8);
            cairo_move_to(cr, x, yy);
            cairo_line_to(cr, x + w, yy);
            cairo_stroke(cr);
        }
        rgb(cr, 0x333333);
        cairo_move_to(cr, x - lw, yy);
        cairo_line_to(cr, x - lw - 5 * s, yy);
        cairo_stroke(cr);
        char buf[64];
        fmt_num(buf, sizeof buf, v, a->dec);
        rgb(cr, 0x222222);
        text_at(cr, x - lw - 8 * s, yy, buf, 1, V_MID);
    }
}

/* Ticks of a under a box spanning x .. x + w whose bottom is y; labels if asked. */
static void axis_bottom(const frame *f, cairo_t *cr, const axis *a, int x, int y, int w, int labels)
{
    double s = f->s, lw = f->lw;
    set_font(cr, f->fs_tick, 0);
    cairo_set_line_width(cr, lw);
    AXIS_FOR(a, k)
    {
        double v = k * a->step;
        double xx = axis_x(a, x, w, v);
        if (xx >= x + w)
            xx = x + w - 1;
        xx = lw == 1 ? crisp(xx) : xx;
        rgb(cr, 0x333333);
        cairo_move_to(cr, xx, y + lw);
        cairo_line_to(cr, xx, y + lw + 5 * s);
        cairo_stroke(cr);
        if (labels) {
            char buf[64];
            fmt_num(buf, sizeof buf, v, a->dec);
            rgb(cr, 0x222222);
            text_at(cr, xx, y + lw + 9 * s, buf, 0.5, V_TOP);
        }
    }
}

/* [lo, hi] widened by 5% each side, or around a constant. */
static void pad_range(double *lo, double *hi)
{
    double span = *hi - *lo;
    if (!(span > 1e-9 * fmax(1.0, fmax(fabs(*lo), fabs(*hi))))) {
        double pad = *hi != 0 ? 0.05 * fabs(*hi) : 1;
        *lo -= pad;
        *hi += pad;
        return;
    }
    *lo -= 0.05 * span;
    *hi += 0.05 * span;
}

/* "%.4g" without "-0" */
static void fmt_g(char *buf, size_t cap, double v)
{
    if (v == 0)
        v = 0;
    snprintf(buf, cap, "%.4g", v);
}

/* ------------------------------------------------------------------ */
/* Traces                                                               */

#define TR_MAX_VARS 8
#define TR_LEGEND_MAX 10

typedef struct {
    frame f;
    const norn_plot_traces *in;
    double t0, t1;
    char title[256], sub[640];
    int px, pw; /* panels' x range */
    int mt;     /* top of the first panel */
    int py[TR_MAX_VARS], ph[TR_MAX_VARS]; /* panel boxes, spike strip included */
    axis ya[TR_MAX_VARS];
    double lo[TR_MAX_VARS], hi[TR_MAX_VARS]; /* data range, padded */
    int thr_on[TR_MAX_VARS];
    int32_t *slot[TR_MAX_VARS]; /* [n_cols]: position of the column's neuron in show, or -1 */
    double *mean[TR_MAX_VARS];  /* [n_samples]: mean of the shown columns, when more than
                                   TR_LEGEND_MAX are shown (NaN where none is finite) */
    uint64_t *skey;             /* [n_show] neuron << 32 | position, sorted */
    double *spk_t;              /* [n_spk] spikes of shown neurons in the window */
    uint32_t *spk_slot;
    uint64_t n_spk;
    int strip;                  /* spike strip height, px (0: no spikes) */
    int rows;                   /* spike rows in the strip */
    double row_h;
    int legend;                 /* 0 none, 1 on the subtitle line, 2 on its own row */
    double legend_w;
    double line_w, line_a;      /* trace line width and opacity */
} traces;

static const unsigned char *slot_colour(uint32_t k) { return palette[k % N_PALETTE]; }

static void slot_rgba(cairo_t *cr, uint32_t k, double a)
{
    const unsigned char *c = slot_colour(k);
    cairo_set_source_rgba(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, a);
}

/* Position of neuron in show, or -1. */
static long tr_slot_of(const traces *P, uint32_t neuron)
{
    uint32_t lo = 0, hi = P->in->n_show;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t m = (uint32_t)(P->skey[mid] >> 32);
        if (m < neuron)
            lo = mid + 1;
        else if (m > neuron)
            hi = mid;
        else
            return (long)(uint32_t)P->skey[mid];
    }
    return -1;
}

static uint32_t var_neuron(const norn_plot_trace_var *v, uint32_t c) { return v->neuron ? v->neuron[c] : c; }

/* First sample index with time >= t (lower) or > t (upper). */
static uint64_t first_at(const double *t, uint64_t n, double x, int upper)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (upper ? t[mid] <= x : t[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static double tr_x(const traces *P, double t) { return P->px + (t - P->t0) / (P->t1 - P->t0) * P->pw; }

/* Data area of panel v: below the spike strip. */
static int tr_dy(const traces *P, int v) { return P->py[v] + P->strip; }
static int tr_dh(const traces *P, int v) { return P->ph[v] - P->strip; }

static void tr_label(const traces *P, int v, char *buf, size_t cap)
{
    const norn_plot_trace_var *V = &P->in->vars[v];
    if (V->unit && *V->unit)
        snprintf(buf, cap, "%s (%s)", V->name, V->unit);
    else
        snprintf(buf, cap, "%s", V->name);
}

static void tr_legend_text(const traces *P, uint32_t k, char *buf, size_t cap)
{
    if (P->in->n_show > TR_LEGEND_MAX)
        snprintf(buf, cap, "mean of the %u neurons", P->in->n_show);
    else if (P->in->n_show == 1)
        snprintf(buf, cap, "neuron %u", P->in->show[0]);
    else
        snprintf(buf, cap, "%u", P->in->show[k]);
}

#define LEG_SW 16 /* legend swatch length, times s */

static double tr_legend_width(const traces *P, cairo_t *cr)
{
    const frame *f = &P->f;
    double s = f->s, w = 0;
    char buf[64];
    set_font(cr, f->fs_tick, 0);
    uint32_t items = P->in->n_show > TR_LEGEND_MAX ? 1 : P->in->n_show;
    if (items > 1)
        w += text_w(cr, "neurons") + 10 * s;
    for (uint32_t k = 0; k < items; k++) {
        tr_legend_text(P, k, buf, sizeof buf);
        w += (LEG_SW + 5) * s + text_w(cr, buf) + (k + 1 < items ? 12 * s : 0);
    }
    return w;
}

static void tr_layout(traces *P, cairo_t *cr)
{
    frame *f = &P->f;
    const double s = f->s;
    const uint32_t nv = P->in->n_vars;
    P->legend = 1;
    P->legend_w = P->legend ? tr_legend_width(P, cr) : 0;
    P->rows = P->in->n_show <= TR_LEGEND_MAX ? (int)P->in->n_show : 1;
    P->row_h = (P->rows == 1 ? 12 : P->rows <= 3 ? 9 : 6) * s;
    P->strip = P->n_spk ? (int)lround(P->rows * P->row_h + 5 * s) : 0;
    double thr_w = 0;
    set_font(cr, f->fs_tick, 0);
    for (uint32_t v = 0; v < nv; v++)
        if (P->thr_on[v])
            thr_w = fmax(thr_w, text_w(cr, P->in->vars[v].threshold_name));
    set_font(cr, f->fs_sub, 0);
    double sub_w = text_w(cr, P->sub);
    for (int pass = 0; pass < 2; pass++) {
        P->mt = (int)lround(74 * s + (P->legend == 2 ? 20 * s : 0));
        int mb = (int)lround(f->fs_tick + f->fs_label + 32 * s);
        int gap = (int)lround(18 * s);
        int avail = f->H - P->mt - mb - gap * (int)(nv - 1);
        int each = avail / (int)nv;
        double ytw = 0;
        for (uint32_t v = 0; v < nv; v++) {
            P->py[v] = P->mt + (int)v * (each + gap);
            P->ph[v] = v + 1 < nv ? each : avail - (int)(nv - 1) * each;
            P->ya[v] = axis_make(P->lo[v], P->hi[v], tr_dh(P, v), 60 * s);
            ytw = fmax(ytw, axis_label_w(f, cr, &P->ya[v]));
        }
        int ml = (int)lround(12 * s + f->fs_label + 10 * s + ytw + 9 * s);
        int mr = (int)lround(fmax(30 * s, thr_w + 18 * s));
        P->px = ml;
        P->pw = f->W - ml - mr;
        if (P->legend && pass == 0 && P->px + sub_w + 30 * s + P->legend_w > P->px + P->pw)
            P->legend = 2; /* its own row, under the subtitle */
        else
            break;
    }
    if (P->legend == 2 && P->legend_w > P->pw)
        P->legend = 0;
}

typedef struct {
    cairo_t *cr;
    int open;
} pen;

static void pen_to(pen *p, double x, double y)
{
    if (p->open)
        cairo_line_to(p->cr, x, y);
    else
        cairo_move_to(p->cr, x, y);
    p->open = 1;
}

/* The path of column c of data ([n_samples][nc]) in panel v. */
static void tr_path(const traces *P, cairo_t *cr, uint32_t v, const double *data, uint32_t nc, uint32_t c)
{
    const norn_plot_trace_var *V = &P->in->vars[v];
    uint64_t n = V->n_samples;
    if (n == 0)
        return;
    uint64_t k0 = first_at(V->time_ms, n, P->t0, 0), k1 = first_at(V->time_ms, n, P->t1, 1);
    if (k0 > 0)
        k0--; /* one sample beyond each end, clipped: the line runs to the edge */
    if (k1 < n)
        k1++;
    const axis *a = &P->ya[v];
    const int dy = tr_dy(P, v), dh = tr_dh(P, v);
    pen pn = {cr, 0};
    if (k1 - k0 <= (uint64_t)P->pw) {
        for (uint64_t k = k0; k < k1; k++) {
            double y = data[k * nc + c];
            if (!isfinite(y)) {
                pn.open = 0;
                continue;
            }
            pen_to(&pn, tr_x(P, V->time_ms[k]), axis_y(a, dy, dh, y));
        }
        return;
    }
    /* more samples than pixel columns: per column its first, lowest,
     * highest and last sample, in time order, at their own times */
    long col = 0;
    int have = 0;
    uint64_t kf = 0, kl = 0, kmn = 0, kmx = 0;
    for (uint64_t k = k0; k <= k1; k++) {
        double y = k < k1 ? data[k * nc + c] : NAN;
        long cc = k < k1 ? (long)floor(tr_x(P, V->time_ms[k]) - P->px) : col + 1;
        if (have && (cc != col || !isfinite(y))) {
            uint64_t ks[4] = {kf, kmn < kmx ? kmn : kmx, kmn < kmx ? kmx : kmn, kl};
            for (int i = 0; i < 4; i++)
                if (i == 0 || ks[i] != ks[i - 1])
                    pen_to(&pn, tr_x(P, V->time_ms[ks[i]]), axis_y(a, dy, dh, data[ks[i] * nc + c]));
            have = 0;
        }
        if (k == k1)
            break;
        if (!isfinite(y)) {
            pn.open = 0;
            continue;
        }
        if (!have) {
            col = cc;
            kf = kmn = kmx = k;
            have = 1;
        }
        if (y < data[kmn * nc + c])
            kmn = k;
        if (y > data[kmx * nc + c])
            kmx = k;
        kl = k;
    }
}

static void tr_render(const void *ctx, cairo_t *cr)
{
    const traces *P = ctx;
    const frame *f = &P->f;
    const norn_plot_traces *in = P->in;
    const double s = f->s, lw = f->lw;
    const uint32_t nv = in->n_vars;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    frame_titles(f, cr, P->px, P->title, P->sub);

    /* legend: right-aligned on the subtitle line or on a row of its own */
    if (P->legend) {
        double y = P->legend == 1 ? 52 * s - f->fs_sub * 0.35 : 72 * s;
        double x = P->px + P->pw - P->legend_w;
        char buf[64];
        set_font(cr, f->fs_tick, 0);
        uint32_t items = in->n_show > TR_LEGEND_MAX ? 1 : in->n_show;
        if (items > 1) {
            rgb(cr, 0x555555);
            text_at(cr, x, y, "neurons", 0, V_MID);
            x += text_w(cr, "neurons") + 10 * s;
        }
        for (uint32_t k = 0; k < items; k++) {
            if (items < in->n_show)
                rgb(cr, 0x222222);
            else
                slot_rgba(cr, k, 1);
            cairo_set_line_width(cr, 2.5 * s);
            cairo_move_to(cr, x, y);
            cairo_line_to(cr, x + LEG_SW * s, y);
            cairo_stroke(cr);
            x += (LEG_SW + 5) * s;
            tr_legend_text(P, k, buf, sizeof buf);
            rgb(cr, 0x333333);
            text_at(cr, x, y, buf, 0, V_MID);
            x += text_w(cr, buf) + 12 * s;
        }
    }

    axis ta = axis_make(P->t0, P->t1, P->pw, 110 * s);
    for (uint32_t v = 0; v < nv; v++) {
        const norn_plot_trace_var *V = &in->vars[v];
        const int dy = tr_dy(P, v), dh = tr_dh(P, v);
        axis_left(f, cr, &P->ya[v], P->px, dy, P->pw, dh, 1);
        if (P->thr_on[v]) {
            double y = axis_y(&P->ya[v], dy, dh, V->threshold);
            y = lw == 1 ? crisp(y) : y;
            rgb(cr, 0x888888);
            cairo_set_line_width(cr, lw);
            double d[] = {5 * s, 4 * s};
            cairo_set_dash(cr, d, 2, 0);
            cairo_move_to(cr, P->px, y);
            cairo_line_to(cr, P->px + P->pw, y);
            cairo_stroke(cr);
            cairo_set_dash(cr, NULL, 0, 0);
            rgb(cr, 0x666666);
            set_font(cr, f->fs_tick, 0);
            text_at(cr, P->px + P->pw + 8 * s, y, V->threshold_name, 0, V_MID);
        }
        /* the traces, first neuron on top */
        cairo_save(cr);
        cairo_rectangle(cr, P->px, dy, P->pw, dh);
        cairo_clip(cr);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        cairo_set_line_width(cr, P->line_w);
        if (P->mean[v]) /* many lines: a tangle either way, so drawn fast */
            cairo_set_antialias(cr, CAIRO_ANTIALIAS_FAST);
        for (uint32_t j = in->n_show; j-- > 0;)
            for (uint32_t c = 0; c < V->n_cols; c++)
                if (P->slot[v][c] == (int32_t)j) {
                    cairo_new_path(cr);
                    tr_path(P, cr, v, V->data, V->n_cols, c);
                    slot_rgba(cr, j, P->line_a);
                    cairo_stroke(cr);
                }
        if (P->mean[v]) { /* their mean, dark on a light halo */
            cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);
            cairo_new_path(cr);
            tr_path(P, cr, v, P->mean[v], 1, 0);
            cairo_path_t *path = cairo_copy_path(cr);
            cairo_set_source_rgba(cr, 1, 1, 1, 0.8);
            cairo_set_line_width(cr, 4.5 * s);
            cairo_stroke(cr);
            cairo_append_path(cr, path);
            cairo_path_destroy(path);
            rgb(cr, 0x222222);
            cairo_set_line_width(cr, 1.8 * s);
            cairo_stroke(cr);
        }
        cairo_restore(cr);
        /* spikes: a tick per spike, one row per neuron */
        if (P->n_spk) {
            cairo_save(cr);
            cairo_rectangle(cr, P->px, P->py[v], P->pw, P->strip);
            cairo_clip(cr);
            long tw = lround(1.5 * s) < 1 ? 1 : lround(1.5 * s); /* whole pixels: ticks in full colour */
            cairo_set_line_width(cr, (double)tw);
            for (uint64_t q = 0; q < P->n_spk; q++) {
                uint32_t k = P->spk_slot[q];
                double row = P->rows == 1 ? 0 : k;
                double x = tr_x(P, P->spk_t[q]);
                x = fmin(fmax(x, P->px + 1), P->px + P->pw - 1);
                x = tw % 2 ? floor(x) + 0.5 : round(x);
                double y0 = P->py[v] + 2 * s + row * P->row_h;
                slot_rgba(cr, k, 1);
                cairo_move_to(cr, x, y0);
                cairo_line_to(cr, x, y0 + P->row_h - 1.5 * s);
                cairo_stroke(cr);
            }
            cairo_restore(cr);
        }
        frame_spines(f, cr, P->px, P->py[v], P->pw, P->ph[v]);
        axis_bottom(f, cr, &ta, P->px, P->py[v] + P->ph[v], P->pw, v + 1 == nv);
        char buf[160];
        tr_label(P, (int)v, buf, sizeof buf);
        set_font(cr, f->fs_label, 0);
        rgb(cr, 0x222222);
        text_up(cr, 12 * s + f->fs_label * 0.75, dy + dh / 2.0, buf);
    }
    set_font(cr, f->fs_label, 0);
    rgb(cr, 0x222222);
    text_at(cr, P->px + P->pw / 2.0, f->H - 12 * s, "time (ms)", 0.5, V_BASE);
}

static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Neuron list "0, 1, 2" (or "12 neurons") into buf. */
static void fmt_neurons(char *buf, size_t cap, const uint32_t *show, uint32_t n)
{
    if (n > 8) {
        char c[32];
        fmt_count(c, sizeof c, n);
        snprintf(buf, cap, "%s neurons", c);
        return;
    }
    size_t o = (size_t)snprintf(buf, cap, "neuron%s ", n > 1 ? "s" : "");
    for (uint32_t k = 0; k < n && o < cap; k++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%u", k ? ", " : "", show[k]);
}

static norn_status tr_check(const char *out_path, const norn_plot_traces *in, norn_err *err)
{
    if (out_path == NULL || !*out_path)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "no output file");
    if (out_kind_of(out_path) == OUT_BAD)
        return bad_extension(out_path, err);
    if (in == NULL)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "no traces");
    if (in->width < MIN_W || in->width > MAX_WH || in->height < MIN_H || in->height > MAX_WH)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "size %d x %d out of range (%d..%d x %d..%d)", in->width,
                         in->height, MIN_W, MAX_WH, MIN_H, MAX_WH);
    double t0 = in->t_from, t1 = in->t_to;
    if (!isfinite(t0) || !isfinite(t1) || !(t1 > t0) || !(t1 - t0 > 1e-9 * fabs(t1)))
        return NORN_FAIL(err, NORN_EINVAL, "plot", "time window %g..%g ms is empty", t0, t1);
    if (in->vars == NULL || in->n_vars == 0 || in->n_vars > TR_MAX_VARS)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "need 1..%d variables, got %u", TR_MAX_VARS, in->n_vars);
    if (in->show == NULL || in->n_show == 0)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "no neurons to show");
    if (in->n_spikes > 0 && (in->spike_ms == NULL || in->spike_neuron == NULL))
        return NORN_FAIL(err, NORN_EINVAL, "plot", "no spike arrays for %llu spikes",
                         (unsigned long long)in->n_spikes);
    for (uint32_t v = 0; v < in->n_vars; v++) {
        const norn_plot_trace_var *V = &in->vars[v];
        if (V->name == NULL || !*V->name)
            return NORN_FAIL(err, NORN_EINVAL, "plot", "variable %u: no name", v);
        if (V->n_cols == 0)
            return NORN_FAIL(err, NORN_EINVAL, "plot", "variable '%s': no columns", V->name);
        if (V->n_samples > 0 && (V->time_ms == NULL || V->data == NULL))
            return NORN_FAIL(err, NORN_EINVAL, "plot", "variable '%s': no data", V->name);
        if (V->n_samples > UINT64_MAX / 8 / V->n_cols)
            return NORN_FAIL(err, NORN_EINVAL, "plot", "variable '%s': too many samples", V->name);
        for (uint64_t k = 0; k < V->n_samples; k++)
            if (!isfinite(V->time_ms[k]) || (k > 0 && V->time_ms[k] < V->time_ms[k - 1]))
                return NORN_FAIL(err, NORN_EINVAL, "plot", "variable '%s': sample %llu: time %g ms is %s", V->name,
                                 (unsigned long long)k, V->time_ms[k],
                                 isfinite(V->time_ms[k]) ? "before the one above" : "not finite");
    }
    return NORN_OK;
}

norn_status norn_plot_traces_file(const char *out_path, const norn_plot_traces *in, norn_err *err)
{
    norn_status st = tr_check(out_path, in, err);
    if (st != NORN_OK)
        return st;
    traces P;
    memset(&P, 0, sizeof P);
    P.in = in;
    P.t0 = in->t_from;
    P.t1 = in->t_to;
    frame_init(&P.f, in->width, in->height);
    cairo_surface_t *scratch = NULL;
    cairo_t *mcr = NULL;
    const uint32_t ns = in->n_show, nv = in->n_vars;

    if ((P.skey = norn_malloc_n(ns, sizeof *P.skey)) == NULL)
        goto oom;
    for (uint32_t k = 0; k < ns; k++)
        P.skey[k] = (uint64_t)in->show[k] << 32 | k;
    qsort(P.skey, ns, sizeof *P.skey, cmp_u64);
    for (uint32_t k = 1; k < ns; k++)
        if (P.skey[k] >> 32 == P.skey[k - 1] >> 32) {
            st = NORN_FAIL(err, NORN_EINVAL, "plot", "neuron %u is shown twice", (unsigned)(P.skey[k] >> 32));
            goto done;
        }
    /* columns to draw */
    uint32_t *seen = norn_calloc_n(ns, sizeof *seen);
    if (seen == NULL)
        goto oom;
    for (uint32_t v = 0; v < nv; v++) {
        const norn_plot_trace_var *V = &in->vars[v];
        if ((P.slot[v] = norn_malloc_n(V->n_cols, sizeof *P.slot[v])) == NULL) {
            norn_free(seen);
            goto oom;
        }
        for (uint32_t c = 0; c < V->n_cols; c++) {
            long k = tr_slot_of(&P, var_neuron(V, c));
            P.slot[v][c] = (int32_t)k;
            if (k >= 0)
                seen[k]++;
        }
    }
    for (uint32_t k = 0; k < ns; k++)
        if (seen[k] == 0) {
            norn_free(seen);
            st = NORN_FAIL(err, NORN_EINVAL, "plot", "neuron %u is no variable's column", in->show[k]);
            goto done;
        }
    norn_free(seen);

    /* the mean of many shown neurons */
    for (uint32_t v = 0; v < nv && ns > TR_LEGEND_MAX; v++) {
        const norn_plot_trace_var *V = &in->vars[v];
        if ((P.mean[v] = norn_malloc_n(V->n_samples ? V->n_samples : 1, sizeof *P.mean[v])) == NULL)
            goto oom;
        for (uint64_t k = 0; k < V->n_samples; k++) {
            double sum = 0;
            uint32_t m = 0;
            for (uint32_t c = 0; c < V->n_cols; c++) {
                double y = V->data[k * V->n_cols + c];
                if (P.slot[v][c] >= 0 && isfinite(y)) {
                    sum += y;
                    m++;
                }
            }
            P.mean[v][k] = m ? sum / m : NAN;
        }
    }

    /* spikes of shown neurons in the window */
    for (uint64_t q = 0; q < in->n_spikes; q++)
        if (in->spike_ms[q] >= P.t0 && in->spike_ms[q] <= P.t1 && tr_slot_of(&P, in->spike_neuron[q]) >= 0)
            P.n_spk++;
    if (P.n_spk) {
        P.spk_t = norn_malloc_n(P.n_spk, sizeof *P.spk_t);
        P.spk_slot = norn_malloc_n(P.n_spk, sizeof *P.spk_slot);
        if (P.spk_t == NULL || P.spk_slot == NULL)
            goto oom;
        uint64_t m = 0;
        for (uint64_t q = 0; q < in->n_spikes; q++) {
            long k;
            if (in->spike_ms[q] >= P.t0 && in->spike_ms[q] <= P.t1 &&
                (k = tr_slot_of(&P, in->spike_neuron[q])) >= 0) {
                P.spk_t[m] = in->spike_ms[q];
                P.spk_slot[m++] = (uint32_t)k;
            }
        }
    }

    /* y ranges: the shown data in the window, and the threshold when near */
    for (uint32_t v = 0; v < nv; v++) {
        const norn_plot_trace_var *V = &in->vars[v];
        double lo = INFINITY, hi = -INFINITY;
        uint64_t k0 = first_at(V->time_ms, V->n_samples, P.t0, 0);
        uint64_t k1 = first_at(V->time_ms, V->n_samples, P.t1, 1);
        for (uint64_t k = k0; k < k1; k++)
            for (uint32_t c = 0; c < V->n_cols; c++) {
                double y = V->data[k * V->n_cols + c];
                if (P.slot[v][c] >= 0 && isfinite(y)) {
                    lo = fmin(lo, y);
                    hi = fmax(hi, y);
                }
            }
        if (!(lo <= hi))
            lo = -1, hi = 1;
        double th = V->threshold, span = fmax(hi - lo, 1e-9 * fmax(1, fabs(hi)));
        if (V->threshold_name && *V->threshold_name && isfinite(th) && th >= lo - span && th <= hi + span) {
            P.thr_on[v] = 1;
            lo = fmin(lo, th);
            hi = fmax(hi, th);
        }
        pad_range(&lo, &hi);
        P.lo[v] = lo;
        P.hi[v] = hi;
    }
    P.line_w = (ns <= 3 ? 1.5 : ns <= TR_LEGEND_MAX ? 1.2 : 0.9) * P.f.s;
    P.line_a = ns <= TR_LEGEND_MAX ? 1.0 : fmax(0.3, 3 / sqrt((double)ns));

    snprintf(P.title, sizeof P.title, "%s", in->title ? in->title : "state traces");
    if (in->subtitle) {
        snprintf(P.sub, sizeof P.sub, "%s", in->subtitle);
    } else {
        char vars[200] = "", who[200], dt[64] = "", nsp[32];
        size_t o = 0;
        for (uint32_t v = 0; v < nv && o < sizeof vars; v++)
            o += (size_t)snprintf(vars + o, sizeof vars - o, "%s%s", v ? ", " : "", in->vars[v].name);
        fmt_neurons(who, sizeof who, in->show, ns);
        const norn_plot_trace_var *V = &in->vars[0];
        if (V->n_samples >= 2 && V->time_ms[1] > V->time_ms[0])
            snprintf(dt, sizeof dt, " \xc2\xb7 sampled every %g ms", V->time_ms[1] - V->time_ms[0]);
        fmt_count(nsp, sizeof nsp, P.n_spk);
        snprintf(P.sub, sizeof P.sub, "%s of %s%s \xc2\xb7 %s spike%s in %g\xe2\x80\x93%g ms", vars, who, dt, nsp,
                 P.n_spk == 1 ? "" : "s", P.t0, P.t1);
    }

    scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    mcr = cairo_create(scratch);
    if (cairo_status(mcr) != CAIRO_STATUS_SUCCESS)
        goto oom;
    tr_layout(&P, mcr);
    if (tr_dh(&P, (int)nv - 1) < 20 || P.pw < 40) {
        st = NORN_FAIL(err, NORN_EINVAL, "plot", "%d x %d is too small for %u panel%s", P.f.W, P.f.H, nv,
                       nv > 1 ? "s" : "");
        goto done;
    }
    st = write_out(&P, tr_render, P.f.W, P.f.H, out_path, out_kind_of(out_path), err);
    goto done;
oom:
    st = NORN_FAIL(err, NORN_ENOMEM, "plot", "out of memory");
done:
    if (mcr)
        cairo_destroy(mcr);
    if (scratch)
        cairo_surface_destroy(scratch);
    for (uint32_t v = 0; v < TR_MAX_VARS; v++) {
        norn_free(P.slot[v]);
        norn_free(P.mean[v]);
    }
    norn_free(P.skey);
    norn_free(P.spk_t);
    norn_free(P.spk_slot);
    return st;
}

/* ------------------------------------------------------------------ */
/* Units                                                                */

static const char *unit_or_null(const char *u) { return u && *u && strcmp(u, "1") != 0 ? u : NULL; }

const char *norn_plot_state_unit(const char *model, const char *mode, const char *var)
{
    if (var == NULL)
        return NULL;
    int euler = mode && strcmp(mode, "euler") == 0;
    if (model && euler) {
        const norn_euler_type *t = norn_euler_find(model);
        int k = t ? norn_euler_state_index(t, var) : -1;
        return k >= 0 ? unit_or_null(t->state[k].unit) : NULL;
    }
    if (model && !euler) {
        const norn_model_type *t = norn_model_find(model);
        int k = t ? norn_model_state_index(t, var) : -1;
        if (k >= 0)
            return unit_or_null(t->state[k].unit);
    }
    if (euler)
        return NULL;
    if (strncmp(var, "V_", 2) == 0)
        return "mV";
    if (strncmp(var, "I_", 2) == 0)
        return "pA";
    if (strncmp(var, "g_", 2) == 0)
        return "nS";
    return NULL;
}

const char *norn_plot_weight_unit(const char *model, const char *mode)
{
    if (model == NULL || (mode && strcmp(mode, "euler") == 0))
        return NULL;
    const norn_model_type *t = norn_model_find(model);
    if (t == NULL)
        return NULL;
    int cond = 0, cur = 0;
    for (int k = 0; k < t->n_state; k++) {
        cond |= strncmp(t->state[k].name, "g_", 2) == 0;
        cur |= strncmp(t->state[k].name, "I_syn", 5) == 0;
    }
    return cond ? "nS" : cur ? "pA" : "mV";
}

/* ------------------------------------------------------------------ */
/* Weights                                                              */

#define W_MAX_BINS 400u

typedef struct {
    frame f;
    const norn_plot_weights *in;
    char title[256], sub[640], cap1[200], cap2[200];
    uint64_t S;       /* snapshots */
    double *ut;       /* [S] their times, ascending */
    double *sum;      /* [S] sum of weights */
    uint64_t *cnt;    /* [S] synapses */
    double e0, bw;    /* bins: e0 + [b, b + 1) bw */
    uint32_t nb;
    uint64_t *hist;   /* [nb] the last snapshot */
    double fmean, fsd;
    int x, w;         /* both panels */
    int hy, hh;       /* histogram box */
    int ey, eh;       /* evolution box (S > 1) */
    axis ha_x, ha_y, ea_x, ea_y, cb;
    int cb_x;         /* colour bar's left */
    uint64_t cmax;
    cairo_surface_t *img; /* the evolution, w x eh */
} wplot;

static uint64_t snap_of(const wplot *P, double t)
{
    uint64_t lo = 0, hi = P->S;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (P->ut[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo; /* ut[lo] == t */
}

static uint32_t bin_of(const wplot *P, double w)
{
    double b = floor((w - P->e0) / P->bw);
    return b < 0 ? 0 : b >= P->nb ? P->nb - 1 : (uint32_t)b;
}

/* White to dark blue (ColorBrewer's Blues), f in [0, 1]. */
static void blues(double f, double *r, double *g, double *b)
{
    static const unsigned char st[][3] = {{247, 251, 255}, {222, 235, 247}, {198, 219, 239},
                                          {158, 202, 225}, {107, 174, 214}, {66, 146, 198},
                                          {33, 113, 181},  {8, 81, 156},    {8, 48, 107}};
    double x = fmin(fmax(f, 0), 1) * 8;
    int i = (int)x < 8 ? (int)x : 7;
    double u = x - i;
    *r = (st[i][0] + u * (st[i + 1][0] - st[i][0])) / 255.0;
    *g = (st[i][1] + u * (st[i + 1][1] - st[i][1])) / 255.0;
    *b = (st[i][2] + u * (st[i + 1][2] - st[i][2])) / 255.0;
}

/* Colour scale position of a count > 0: the lowest count is still tinted;
 * square root, so that a spread-out distribution beside a pile-up shows. */
static double count_f(const wplot *P, double c) { return 0.14 + 0.86 * sqrt(c / (double)P->cmax); }

static void w_unit_label(const wplot *P, char *buf, size_t cap, const char *what)
{
    const char *u = P->in->unit;
    if (u && *u)
        snprintf(buf, cap, "%s (%s)", what, u);
    else
        snprintf(buf, cap, "%s", what);
}

static void w_layout(wplot *P, cairo_t *cr)
{
    frame *f = &P->f;
    const double s = f->s;
    const int evo = P->S > 1;
    int mt = (int)lround(74 * s), cap = (int)lround(24 * s);
    int mb = (int)lround(f->fs_tick + f->fs_label + 32 * s);
    int mid = evo ? (int)lround(f->fs_tick + f->fs_label + 40 * s) + cap : 0; /* under the histogram */
    int avail = f->H - mt - cap - mb - mid;
    P->hy = mt + cap;
    P->hh = evo ? (int)lround(avail * 0.38) : avail;
    P->ey = P->hy + P->hh + mid;
    P->eh = evo ? avail - P->hh : 0;
    double top = (double)(P->hist[0]);
    for (uint32_t b = 1; b < P->nb; b++)
        top = fmax(top, (double)P->hist[b]);
    top = top > 0 ? top * 1.08 : 1;
    P->ha_y = axis_make(0, top, P->hh, 45 * s);
    if (P->ha_y.step < 1) {
        P->ha_y.step = 1;
        P->ha_y.dec = 0;
    }
    double e1 = P->e0 + P->nb * P->bw;
    double ytw = axis_label_w(f, cr, &P->ha_y);
    if (evo) {
        P->ea_y = axis_make(P->e0, e1, P->eh, 48 * s);
        ytw = fmax(ytw, axis_label_w(f, cr, &P->ea_y));
    }
    int ml = (int)lround(12 * s + f->fs_label + 10 * s + ytw + 9 * s);
    int mr = (int)lround(30 * s);
    if (evo) {
        /* colour bar: gap, bar, ticks, labels, its title */
        P->cb = axis_make(0, (double)P->cmax, P->eh * 0.8, 45 * s);
        if (P->cb.step < 1) {
            P->cb.step = 1;
            P->cb.dec = 0;
        }
        mr = (int)lround(18 * s + 14 * s + 8 * s + axis_label_w(f, cr, &P->cb) + 12 * s + f->fs_label + 10 * s);
    }
    P->x = ml;
    P->w = f->W - ml - mr;
    P->cb_x = (int)lround(P->x + P->w + 18 * s);
    P->ha_x = axis_make(P->e0, e1, P->w, 90 * s);
    if (evo)
        P->ea_x = axis_make(P->ut[0], P->ut[P->S - 1], P->w, 110 * s);
}

static void w_render(const void *ctx, cairo_t *cr)
{
    const wplot *P = ctx;
    const frame *f = &P->f;
    const double s = f->s, lw = f->lw;
    const int evo = P->S > 1;
    char buf[200];
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    frame_titles(f, cr, P->x, P->title, P->sub);

    /* histogram of the last snapshot */
    rgb(cr, 0x444444);
    set_font(cr, f->fs_label, 1);
    text_at(cr, P->x, P->hy - 9 * s, P->cap1, 0, V_BASE);
    axis_left(f, cr, &P->ha_y, P->x, P->hy, P->w, P->hh, 1);
    double e1 = P->e0 + P->nb * P->bw;
    for (uint32_t b = 0; b < P->nb; b++) {
        if (P->hist[b] == 0)
            continue;
        double xa = axis_x(&P->ha_x, P->x, P->w, P->e0 + b * P->bw);
        double xb = axis_x(&P->ha_x, P->x, P->w, b + 1 == P->nb ? e1 : P->e0 + (b + 1) * P->bw);
        double y = axis_y(&P->ha_y, P->hy, P->hh, (double)P->hist[b]);
        if (xb - xa >= 5)
            xb -= 1; /* a white line between wide bars */
        rgb(cr, 0x1f77b4);
        cairo_rectangle(cr, xa, y, xb - xa, P->hy + P->hh - y);
        cairo_fill(cr);
    }
    {
        double x = axis_x(&P->ha_x, P->x, P->w, P->fmean);
        rgb(cr, 0xff7f0e);
        cairo_set_line_width(cr, 2 * s);
        double d[] = {6 * s, 4 * s};
        cairo_set_dash(cr, d, 2, 0);
        cairo_move_to(cr, x, P->hy);
        cairo_line_to(cr, x, P->hy + P->hh);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        char m[64];
        fmt_g(m, sizeof m, P->fmean);
        snprintf(buf, sizeof buf, "mean %s", m);
        set_font(cr, f->fs_tick, 0);
        double tw = text_w(cr, buf);
        int right = x + 6 * s + tw > P->x + P->w;
        double tx = right ? x - 6 * s - tw : x + 6 * s;
        cairo_set_source_rgba(cr, 1, 1, 1, 0.85); /* readable over the bars */
        cairo_rectangle(cr, tx - 3 * s, P->hy + 1 * s, tw + 6 * s, f->fs_tick + 4 * s);
        cairo_fill(cr);
        rgb(cr, 0xd95f02);
        text_at(cr, tx, P->hy + 4 * s, buf, 0, V_TOP);
    }
    frame_spines(f, cr, P->x, P->hy, P->w, P->hh);
    axis_bottom(f, cr, &P->ha_x, P->x, P->hy + P->hh, P->w, 1);
    set_font(cr, f->fs_label, 0);
    rgb(cr, 0x222222);
    text_up(cr, 12 * s + f->fs_label * 0.75, P->hy + P->hh / 2.0, "synapses");
    w_unit_label(P, buf, sizeof buf, "weight");
    text_at(cr, P->x + P->w / 2.0, P->hy + P->hh + lw + 9 * s + f->fs_tick + 10 * s, buf, 0.5, V_TOP);
    if (!evo)
        return;

    /* evolution */
    rgb(cr, 0x444444);
    set_font(cr, f->fs_label, 1);
    text_at(cr, P->x, P->ey - 9 * s, P->cap2, 0, V_BASE);
    cairo_save(cr);
    cairo_set_source_surface(cr, P->img, P->x, P->ey);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, P->x, P->ey, P->w, P->eh);
    cairo_fill(cr);
    cairo_restore(cr);
    axis_left(f, cr, &P->ea_y, P->x, P->ey, P->w, P->eh, 0);
    /* the mean, on a white halo */
    cairo_save(cr);
    cairo_rectangle(cr, P->x, P->ey, P->w, P->eh);
    cairo_clip(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (int pass = 0; pass < 2; pass++) {
        cairo_new_path(cr);
        for (uint64_t j = 0; j < P->S; j++) {
            double x = axis_x(&P->ea_x, P->x, P->w, P->ut[j]);
            double y = axis_y(&P->ea_y, P->ey, P->eh, P->sum[j] / (double)P->cnt[j]);
            if (j == 0)
                cairo_move_to(cr, x, y);
            else
                cairo_line_to(cr, x, y);
        }
        if (P->S == 1)
            continue;
        if (pass == 0)
            cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
        else
            rgb(cr, 0xff7f0e);
        cairo_set_line_width(cr, (pass == 0 ? 5 : 2) * s);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
    frame_spines(f, cr, P->x, P->ey, P->w, P->eh);
    axis_bottom(f, cr, &P->ea_x, P->x, P->ey + P->eh, P->w, 1);
    set_font(cr, f->fs_label, 0);
    rgb(cr, 0x222222);
    w_unit_label(P, buf, sizeof buf, "weight");
    text_up(cr, 12 * s + f->fs_label * 0.75, P->ey + P->eh / 2.0, buf);
    text_at(cr, P->x + P->w / 2.0, f->H - 12 * s, "time (ms)", 0.5, V_BASE);

    /* colour bar: counts from 1 (bottom) to cmax */
    int bh = (int)lround(P->eh * 0.8), by = P->ey + (P->eh - bh) / 2, bx = P->cb_x, bw = (int)lround(14 * s);
    for (int r = 0; r < bh; r++) {
        double f = (bh - r - 0.5) / bh, R, G, B; /* bar position: sqrt(count / cmax) */
        blues(0.14 + 0.86 * f, &R, &G, &B);
        cairo_set_source_rgb(cr, R, G, B);
        cairo_rectangle(cr, bx, by + r, bw, 1);
        cairo_fill(cr);
    }
    rgb(cr, 0x999999);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, bx + 0.5, by + 0.5, bw - 1, bh - 1);
    cairo_stroke(cr);
    set_font(cr, f->fs_tick, 0);
    cairo_set_line_width(cr, lw);
    double last_y = -1e300; /* ticks crowd at the top of a square-root scale: skip those too close */
    AXIS_FOR(&P->cb, k)
    {
        double v = k * P->cb.step;
        double y = by + bh - sqrt(v / P->cb.v1) * bh;
        if (k > 0 && last_y - y < f->fs_tick * 1.8)
            continue;
        last_y = y;
        y = lw == 1 ? crisp(y) : y;
        rgb(cr, 0x333333);
        cairo_move_to(cr, bx + bw, y);
        cairo_line_to(cr, bx + bw + 4 * s, y);
        cairo_stroke(cr);
        fmt_num(buf, sizeof buf, v, P->cb.dec);
        rgb(cr, 0x222222);
        text_at(cr, bx + bw + 8 * s, y, buf, 0, V_MID);
    }
    set_font(cr, f->fs_label, 0);
    cairo_save(cr);
    cairo_translate(cr, f->W - 10 * s - f->fs_label * 0.25, by + bh / 2.0);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, "synapses per bin", 0.5, V_BASE);
    cairo_restore(cr);
}

/* The evolution image: each pixel column the bins of the nearest snapshot. */
static norn_status w_image(wplot *P, norn_err *err)
{
    const int W = P->w, H = P->eh;
    norn_status st = NORN_OK;
    uint64_t *col_snap = norn_malloc_n((size_t)W, sizeof *col_snap);
    int64_t *snap_u = norn_malloc_n(P->S, sizeof *snap_u);
    uint64_t *counts = NULL;
    if (col_snap == NULL || snap_u == NULL)
        goto oom;
    for (uint64_t j = 0; j < P->S; j++)
        snap_u[j] = -1;
    int64_t nu = 0;
    double T0 = P->ut[0], T1 = P->ut[P->S - 1];
    for (int x = 0; x < W; x++) {
        double t = T0 + (x + 0.5) / W * (T1 - T0);
        uint64_t j = snap_of(P, t); /* first >= t */
        if (j >= P->S || (j > 0 && t - P->ut[j - 1] <= P->ut[j] - t))
            j--;
        col_snap[x] = j;
        if (snap_u[j] < 0)
            snap_u[j] = nu++;
    }
    if ((counts = norn_calloc_n((size_t)nu * P->nb, sizeof *counts)) == NULL)
        goto oom;
    for (uint64_t k = 0; k < P->in->n; k++) {
        int64_t u = snap_u[snap_of(P, P->in->time_ms[k])];
        if (u >= 0)
            counts[(size_t)u * P->nb + bin_of(P, P->in->weight[k])]++;
    }
    P->cmax = 1;
    for (size_t i = 0; i < (size_t)nu * P->nb; i++)
        if (counts[i] > P->cmax)
            P->cmax = counts[i];
    P->img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, W, H);
    if (cairo_surface_status(P->img) != CAIRO_STATUS_SUCCESS)
        goto oom;
    cairo_surface_flush(P->img);
    unsigned char *data = cairo_image_surface_get_data(P->img);
    int stride = cairo_image_surface_get_stride(P->img);
    double e1 = P->e0 + P->nb * P->bw;
    for (int r = 0; r < H; r++) {
        uint32_t *row = (uint32_t *)(void *)(data + (size_t)r * stride);
        double wv = e1 - (r + 0.5) / H * (e1 - P->e0);
        uint32_t b = bin_of(P, wv);
        for (int x = 0; x < W; x++) {
            uint64_t c = counts[(size_t)snap_u[col_snap[x]] * P->nb + b];
            double R = 1, G = 1, B = 1;
            if (c)
                blues(count_f(P, (double)c), &R, &G, &B);
            row[x] = 0xffu << 24 | (uint32_t)lround(R * 255) << 16 | (uint32_t)lround(G * 255) << 8 |
                     (uint32_t)lround(B * 255);
        }
    }
    cairo_surface_mark_dirty(P->img);
    goto done;
oom:
    st = NORN_FAIL(err, NORN_ENOMEM, "plot", "out of memory for the weight evolution");
done:
    norn_free(col_snap);
    norn_free(snap_u);
    norn_free(counts);
    return st;
}

norn_status norn_plot_weights_file(const char *out_path, const norn_plot_weights *in, norn_err *err)
{
    if (out_path == NULL || !*out_path)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "no output file");
    if (out_kind_of(out_path) == OUT_BAD)
        return bad_extension(out_path, err);
    if (in == NULL || in->n == 0 || in->time_ms == NULL || in->weight == NULL)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "no weights");
    if (in->width < MIN_W || in->width > MAX_WH || in->height < MIN_H || in->height > MAX_WH)
        return NORN_FAIL(err, NORN_EINVAL, "plot", "size %d x %d out of range (%d..%d x %d..%d)", in->width,
                         in->height, MIN_W, MAX_WH, MIN_H, MAX_WH);
    double wlo = INFINITY, whi = -INFINITY;
    for (uint64_t k = 0; k < in->n; k++) {
        if (!isfinite(in->weight[k]) || !isfinite(in->time_ms[k]))
            return NORN_FAIL(err, NORN_EINVAL, "plot", "row %llu: %s is not finite", (unsigned long long)k,
                             isfinite(in->weight[k]) ? "time_ms" : "weight");
        wlo = fmin(wlo, in->weight[k]);
        whi = fmax(whi, in->weight[k]);
    }
    wplot P;
    memset(&P, 0, sizeof P);
    P.in = in;
    frame_init(&P.f, in->width, in->height);
    norn_status st = NORN_OK;
    cairo_surface_t *scratch = NULL;
    cairo_t *mcr = NULL;

    /* snapshots */
    if ((P.ut = norn_malloc_n(in->n, sizeof *P.ut)) == NULL)
        goto oom;
    memcpy(P.ut, in->time_ms, in->n * sizeof *P.ut);
    qsort(P.ut, in->n, sizeof *P.ut, cmp_f64);
    for (uint64_t k = 0; k < in->n; k++)
        if (P.S == 0 || P.ut[k] != P.ut[P.S - 1])
            P.ut[P.S++] = P.ut[k];
    P.sum = norn_calloc_n(P.S, sizeof *P.sum);
    P.cnt = norn_calloc_n(P.S, sizeof *P.cnt);
    if (P.sum == NULL || P.cnt == NULL)
        goto oom;
    for (uint64_t k = 0; k < in->n; k++) {
        uint64_t j = snap_of(&P, in->time_ms[k]);
        P.sum[j] += in->weight[k];
        P.cnt[j]++;
    }

    /* bins, shared by the histogram and the evolution */
    double lo = wlo, hi = whi;
    if (!(hi - lo > 1e-9 * fmax(1.0, fmax(fabs(lo), fabs(hi)))))
        pad_range(&lo, &hi);
    double n_last = (double)P.cnt[P.S - 1];
    double target = fmin(100, fmax(10, 3 * cbrt(n_last)));
    P.bw = nice_step(hi - lo, target);
    P.e0 = floor(lo / P.bw) * P.bw;
    double nb = ceil((hi - P.e0) / P.bw - 1e-9);
    P.nb = nb < 1 ? 1 : nb > W_MAX_BINS ? W_MAX_BINS : (uint32_t)nb;
    if ((P.hist = norn_calloc_n(P.nb, sizeof *P.hist)) == NULL)
        goto oom;
    double tl = P.ut[P.S - 1], ssq = 0;
    P.fmean = P.sum[P.S - 1] / n_last;
    for (uint64_t k = 0; k < in->n; k++)
        if (in->time_ms[k] == tl) {
            P.hist[bin_of(&P, in->weight[k])]++;
            ssq += (in->weight[k] - P.fmean) * (in->weight[k] - P.fmean);
        }
    P.fsd = n_last > 1 ? sqrt(ssq / (n_last - 1)) : 0;

    /* texts */
    snprintf(P.title, sizeof P.title, "%s", in->title ? in->title : "synaptic weights");
    const char *u = in->unit && *in->unit ? in->unit : NULL;
    char syn[32], snaps[32], m[32], sd[32], t0[32], t1[32];
    fmt_count(syn, sizeof syn, P.cnt[P.S - 1]);
    fmt_count(snaps, sizeof snaps, P.S);
    fmt_g(m, sizeof m, P.fmean);
    fmt_g(sd, sizeof sd, P.fsd);
    fmt_g(t0, sizeof t0, P.ut[0]);
    fmt_g(t1, sizeof t1, tl);
    if (in->subtitle)
        snprintf(P.sub, sizeof P.sub, "%s", in->subtitle);
    else if (P.S > 1)
        snprintf(P.sub, sizeof P.sub,
                 "%s synapses \xc2\xb7 %s snapshots, %s\xe2\x80\x93%s ms \xc2\xb7 final mean %s%s%s, sd %s%s%s", syn,
                 snaps, t0, t1, m, u ? " " : "", u ? u : "", sd, u ? " " : "", u ? u : "");
    else
        snprintf(P.sub, sizeof P.sub,
                 "%s synapses \xc2\xb7 mean %s%s%s, sd %s%s%s \xc2\xb7 one snapshot: no evolution to show", syn, m,
                 u ? " " : "", u ? u : "", sd, u ? " " : "", u ? u : "");
    snprintf(P.cap1, sizeof P.cap1, "%s weights at %s ms", P.S > 1 ? "final" : "the", t1);
    snprintf(P.cap2, sizeof P.cap2, "distribution over time, mean in orange");

    scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    mcr = cairo_create(scratch);
    if (cairo_status(mcr) != CAIRO_STATUS_SUCCESS)
        goto oom;
    if (P.S > 1) {
        /* the colour bar's labels need cmax, which needs the width: lay out twice */
        P.cmax = 1;
        w_layout(&P, mcr);
        if ((st = w_image(&P, err)) != NORN_OK)
            goto done;
        int w0 = P.w;
        w_layout(&P, mcr);
        if (P.w != w0) {
            cairo_surface_destroy(P.img);
            P.img = NULL;
            if ((st = w_image(&P, err)) != NORN_OK)
                goto done;
        }
    } else {
        w_layout(&P, mcr);
    }
    st = write_out(&P, w_render, P.f.W, P.f.H, out_path, out_kind_of(out_path), err);
    goto done;
oom:
    st = NORN_FAIL(err, NORN_ENOMEM, "plot", "out of memory");
done:
    if (mcr)
        cairo_destroy(mcr);
    if (scratch)
        cairo_surface_destroy(scratch);
    if (P.img)
        cairo_surface_destroy(P.img);
    norn_free(P.ut);
    norn_free(P.sum);
    norn_free(P.cnt);
    norn_free(P.hist);
    return st;
}

/* ------------------------------------------------------------------ */
/* norn plot                                                            */

static const char plot_usage[] =
    "usage: norn plot raster DIR [options]\n"
    "       norn plot traces DIR [options]\n"
    "       norn plot weights DIR [--projection NAME] [options]\n"
    "\n"
    "Pictures of a finished run in DIR (read from DIR/run.json and the run's files).\n"
    "  raster   spikes (DIR/spikes.npy): a raster (time x neuron id, one colour per\n"
    "           population) above the population rates (spikes per bin / (neurons * bin), Hz)\n"
    "  traces   recorded state (DIR/state_<population>_<variable>.npy): one panel per\n"
    "           variable, one line per neuron, its spikes as ticks at the top\n"
    "  weights  saved weights (DIR/weights_<projection>.npy): a histogram of the last\n"
    "           snapshot above the distribution over time and the mean weight\n"
    "\n"
    "options:\n"
    "  -o, --out FILE         output file, .png, .svg or .pdf (default DIR/raster.png,\n"
    "                         DIR/traces.png, DIR/weights_<projection>.png)\n"
    "      --from MS          start of the time window (default 0; raster, traces)\n"
    "      --to MS            end of the time window (default the run's duration)\n"
    "  -p, --population NAME  raster: only this population (repeat for several);\n"
    "                         traces: this population (default the first with state)\n"
    "      --variable V       traces: only these variables (V_m or V_m,I_syn_ex; may\n"
    "                         repeat; default all recorded)\n"
    "      --neurons LIST     traces: only these neurons, indices in the population\n"
    "                         (0,1,2 or 0-4; default all recorded)\n"
    "      --projection NAME  weights: the projection (may be left out when only one\n"
    "                         projection's weights were saved)\n"
    "      --width PX         picture width (default 1200; 320..8192)\n"
    "      --height PX        picture height (default 800; traces: 600 for one panel,\n"
    "                         200 more for each further one, up to 1400; 240..8192)\n"
    "\n"
    "Exit status: 0 ok; 2 bad input (nothing written); 1 failure while writing.\n";

typedef struct {
    char *name, *mode; /* may be NULL */
    double duration_ms;
    uint32_t n_pops;
    norn_plot_pop *pops; /* names owned */
    int *recorded;
    struct fy_document *doc; /* the whole of run.json, for the plots that need more */
} run_info;

static void run_info_free(run_info *r)
{
    for (uint32_t k = 0; r->pops && k < r->n_pops; k++)
        norn_free((char *)r->pops[k].name);
    norn_free(r->pops);
    norn_free(r->recorded);
    norn_free(r->name);
    norn_free(r->mode);
    if (r->doc)
        fy_document_destroy(r->doc);
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
    r.doc = doc;
    doc = NULL;
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

/* ---------- weights_<name>.npy ----------
 * A 1-D structured array: fields weight and time_ms (float or integer) are
 * read, the others (pre, post) skipped. The header is
 * the Python dict literal NumPy writes; only what a structured 1-D array
 * needs is understood, the rest is an error naming the offset. */

typedef struct {
    const char *start, *p, *end, *path;
    norn_err *err;
} hcur;

typedef struct {
    int found;
    uint64_t off;
    char kind; /* 'i' 'u' 'f' */
    int size;
    int big; /* big-endian */
} wfield;

static norn_status hbad(hcur *c, const char *what)
{
    char near[28];
    size_t k = 0;
    for (const char *q = c->p; q < c->end && k < 24; q++)
        near[k++] = (*q >= 32 && *q < 127) ? *q : '?';
    near[k] = 0;
    return NORN_FAIL(c->err, NORN_EPARSE, c->path, "malformed header: expected %s at offset %ld, found \"%s\"", what,
                     (long)(c->p - c->start), near);
}

static int heat(hcur *c, char ch)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static norn_status hstr(hcur *c, char *buf, size_t cap)
{
    heat(c, ' ');
    if (c->p < c->end && (*c->p == 'u' || *c->p == 'b'))
        c->p++;
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return hbad(c, "a quoted string");
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p == '\n' || n + 1 >= cap)
            return hbad(c, "a short plain string");
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return hbad(c, "the end of a string");
    c->p++;
    buf[n] = 0;
    return NORN_OK;
}

static norn_status huint(hcur *c, uint64_t *v)
{
    heat(c, ' ');
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return hbad(c, "an integer");
    uint64_t x = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned d = (unsigned)(*c->p++ - '0');
        if (x > (UINT64_MAX - d) / 10)
            return NORN_FAIL(c->err, NORN_EPARSE, c->path, "absurd shape: a dimension does not fit in 64 bits");
        x = x * 10 + d;
    }
    if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
        c->p++;
    *v = x;
    return NORN_OK;
}

/* '(' ints ')': *n entries (at most 8), their product in *prod. */
static norn_status hshape(hcur *c, int *n, uint64_t *first, uint64_t *prod)
{
    if (!heat(c, '('))
        return hbad(c, "'(' opening a shape");
    *n = 0;
    *prod = 1;
    *first = 0;
    while (!heat(c, ')')) {
        uint64_t v = 0;
        norn_status st = huint(c, &v);
        if (st != NORN_OK)
            return st;
        if (*n == 0)
            *first = v;
        if (++*n > 8)
            return hbad(c, "at most 8 dimensions");
        *prod = v && *prod > UINT64_MAX / v ? UINT64_MAX : *prod * v;
        if (!heat(c, ',')) {
            if (!heat(c, ')'))
                return hbad(c, "',' or ')' in a shape");
            break;
        }
    }
    return NORN_OK;
}

/* "<f8", "|u1", ">i4", "|V4" ... : kind, size, byte order. */
static int htype(const char *s, char *kind, uint64_t *size, int *big)
{
    const char *p = s;
    *big = 0;
    if (*p == '<' || *p == '>' || *p == '|' || *p == '=')
        *big = *p++ == '>';
    *kind = *p ? *p++ : 0;
    if (*p < '0' || *p > '9')
        return 0;
    uint64_t n = 0;
    while (*p >= '0' && *p <= '9' && n < (1u << 30))
        n = n * 10 + (uint64_t)(*p++ - '0');
    if (*p || n == 0 || n >= (1u << 30))
        return 0;
    *size = *kind == 'U' ? 4 * n : n;
    switch (*kind) {
    case 'i':
    case 'u': return n == 1 || n == 2 || n == 4 || n == 8;
    case 'f': return n == 4 || n == 8;
    case 'b': return n == 1;
    case 'c': return n == 8 || n == 16;
    case 'S':
    case 'U':
    case 'V': return 1;
    default: return 0;
    }
}

static double wfield_get(const wfield *f, const unsigned char *row)
{
    const unsigned char *q = row + f->off;
    uint64_t x = 0;
    for (int k = 0; k < f->size; k++)
        x |= (uint64_t)q[f->big ? f->size - 1 - k : k] << (8 * k);
    if (f->kind == 'f') {
        if (f->size == 4) {
            uint32_t u = (uint32_t)x;
            float v;
            memcpy(&v, &u, 4);
            return v;
        }
        double v;
        memcpy(&v, &x, 8);
        return v;
    }
    if (f->kind == 'i' && f->size < 8 && (x >> (8 * f->size - 1)) & 1)
        x |= ~0ull << (8 * f->size); /* sign-extend */
    return f->kind == 'i' ? (double)(int64_t)x : (double)x;
}

/* Reads DIR/weights_<name>.npy: rows (time_ms, weight), both finite. */
static norn_status read_weights_npy(const char *path, double **t_out, double **w_out, uint64_t *n_out, norn_err *err)
{
    norn_status st = NORN_OK;
    char *hdr = NULL;
    unsigned char *buf = NULL;
    double *t = NULL, *w = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NORN_FAIL(err, NORN_EIO, path, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return NORN_FAIL(err, NORN_EIO, path, "not a regular file");
    }
    uint64_t fsize = (uint64_t)sb.st_size;
    unsigned char pre[12];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "not a .npy file (bad magic)");
        goto done;
    }
    uint64_t hlen, hstart;
    if (pre[6] == 1) {
        hlen = pre[8] | (uint64_t)pre[9] << 8;
        hstart = 10;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            st = NORN_FAIL(err, NORN_EPARSE, path, "truncated header");
            goto done;
        }
        hlen = pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
        hstart = 12;
    } else {
        st = NORN_FAIL(err, NORN_EPARSE, path, "unsupported .npy format version %u.%u", pre[6], pre[7]);
        goto done;
    }
    if (hlen > (1u << 20) || hstart + hlen > fsize) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "truncated or absurd header (%llu bytes)", (unsigned long long)hlen);
        goto done;
    }
    if ((hdr = norn_malloc(hlen + 1)) == NULL)
        goto oom;
    if (fread(hdr, 1, hlen, f) != hlen) {
        st = NORN_FAIL(err, NORN_EIO, path, "read failed");
        goto done;
    }
    hdr[hlen] = 0;

    hcur c = {hdr, hdr, hdr + hlen, path, err};
    wfield fw = {0}, ft = {0};
    uint64_t itemsize = 0, count = 0;
    int have_descr = 0, have_shape = 0, ndim = 0;
    if (!heat(&c, '{')) {
        st = hbad(&c, "'{'");
        goto done;
    }
    while (!heat(&c, '}')) {
        char key[32];
        if ((st = hstr(&c, key, sizeof key)) != NORN_OK)
            goto done;
        if (!heat(&c, ':')) {
            st = hbad(&c, "':'");
            goto done;
        }
        if (strcmp(key, "descr") == 0) {
            have_descr = 1;
            if (!heat(&c, '[')) {
                char d[64];
                if (hstr(&c, d, sizeof d) == NORN_OK)
                    st = NORN_FAIL(err, NORN_EPARSE, path,
                                   "expected a structured array with fields pre, post, weight, time_ms; got "
                                   "dtype '%s'",
                                   d);
                else
                    st = hbad(&c, "a list of fields");
                goto done;
            }
            while (!heat(&c, ']')) {
                char name[64], type[64];
                if (!heat(&c, '(')) {
                    st = hbad(&c, "'(' opening a field");
                    goto done;
                }
                if ((st = hstr(&c, name, sizeof name)) != NORN_OK)
                    goto done;
                if (!heat(&c, ',')) {
                    st = hbad(&c, "',' after a field name");
                    goto done;
                }
                if ((st = hstr(&c, type, sizeof type)) != NORN_OK)
                    goto done;
                uint64_t sub = 1, first;
                int sd = 0;
                if (heat(&c, ',')) {
                    if (!heat(&c, ')')) { /* a subarray shape */
                        if ((st = hshape(&c, &sd, &first, &sub)) != NORN_OK)
                            goto done;
                        heat(&c, ',');
                        if (!heat(&c, ')')) {
                            st = hbad(&c, "')' closing a field");
                            goto done;
                        }
                    }
                } else if (!heat(&c, ')')) {
                    st = hbad(&c, "')' closing a field");
                    goto done;
                }
                char kind;
                uint64_t size;
                int big;
                if (!htype(type, &kind, &size, &big)) {
                    st = NORN_FAIL(err, NORN_EPARSE, path, "field '%s': unsupported dtype '%s'", name, type);
                    goto done;
                }
                wfield *tgt = !strcmp(name, "weight") ? &fw : !strcmp(name, "time_ms") ? &ft : NULL;
                if (tgt) {
                    if (tgt->found) {
                        st = NORN_FAIL(err, NORN_EPARSE, path, "field '%s' appears twice", name);
                        goto done;
                    }
                    if (sub != 1 || sd > 0 || (kind != 'f' && kind != 'i' && kind != 'u')) {
                        st = NORN_FAIL(err, NORN_EPARSE, path, "field '%s': expected a number, got '%s'", name,
                                       type);
                        goto done;
                    }
                    *tgt = (wfield){1, itemsize, kind, (int)size, big};
                }
                if (sub > (1u << 30) || size * sub > (1u << 30) || itemsize > (1ull << 40)) {
                    st = NORN_FAIL(err, NORN_EPARSE, path, "field '%s': absurd size", name);
                    goto done;
                }
                itemsize += size * sub;
                if (!heat(&c, ',')) {
                    if (!heat(&c, ']')) {
                        st = hbad(&c, "',' or ']' in the field list");
                        goto done;
                    }
                    break;
                }
            }
        } else if (strcmp(key, "fortran_order") == 0) {
            heat(&c, ' ');
            if (c.end - c.p >= 4 && strncmp(c.p, "True", 4) == 0)
                c.p += 4;
            else if (c.end - c.p >= 5 && strncmp(c.p, "False", 5) == 0)
                c.p += 5;
            else {
                st = hbad(&c, "True or False");
                goto done;
            }
        } else if (strcmp(key, "shape") == 0) {
            uint64_t prod;
            have_shape = 1;
            if ((st = hshape(&c, &ndim, &count, &prod)) != NORN_OK)
                goto done;
        } else {
            st = NORN_FAIL(err, NORN_EPARSE, path, "malformed header: unknown key '%s'", key);
            goto done;
        }
        if (!heat(&c, ',')) {
            if (!heat(&c, '}')) {
                st = hbad(&c, "',' or '}'");
                goto done;
            }
            break;
        }
    }
    if (!have_descr || !have_shape) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "malformed header: no '%s'", have_descr ? "shape" : "descr");
        goto done;
    }
    if (!fw.found || !ft.found) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "no field '%s' (expected fields pre, post, weight, time_ms)",
                       fw.found ? "time_ms" : "weight");
        goto done;
    }
    if (ndim != 1) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "expected a 1-D array of rows, got %d dimensions", ndim);
        goto done;
    }
    uint64_t data = fsize - hstart - hlen;
    if (count > data / itemsize || count * itemsize != data) {
        if (count <= UINT64_MAX / itemsize)
            st = NORN_FAIL(err, NORN_EPARSE, path, "%llu rows of %llu bytes need %llu bytes of data, the file has %llu",
                           (unsigned long long)count, (unsigned long long)itemsize,
                           (unsigned long long)(count * itemsize), (unsigned long long)data);
        else
            st = NORN_FAIL(err, NORN_EPARSE, path, "absurd shape: %llu rows", (unsigned long long)count);
        goto done;
    }
    t = norn_malloc_n(count ? count : 1, sizeof *t);
    w = norn_malloc_n(count ? count : 1, sizeof *w);
    if (t == NULL || w == NULL)
        goto oom;
    uint64_t per = itemsize >= (1u << 20) ? 1 : (1u << 20) / itemsize;
    if ((buf = norn_malloc_n(per, itemsize)) == NULL)
        goto oom;
    for (uint64_t k = 0; k < count;) {
        uint64_t m = count - k < per ? count - k : per;
        if (fread(buf, itemsize, m, f) != m) {
            st = NORN_FAIL(err, NORN_EIO, path, "read failed");
            goto done;
        }
        for (uint64_t i = 0; i < m; i++, k++) {
            const unsigned char *row = buf + i * itemsize;
            t[k] = wfield_get(&ft, row);
            w[k] = wfield_get(&fw, row);
            if (!isfinite(t[k]) || !isfinite(w[k])) {
                st = NORN_FAIL(err, NORN_EPARSE, path, "row %llu: %s %g is not finite", (unsigned long long)k,
                               isfinite(t[k]) ? "weight" : "time_ms", isfinite(t[k]) ? w[k] : t[k]);
                goto done;
            }
        }
    }
    *t_out = t;
    *w_out = w;
    *n_out = count;
    t = w = NULL;
    goto done;
oom:
    st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
done:
    fclose(f);
    norn_free(hdr);
    norn_free(buf);
    norn_free(t);
    norn_free(w);
    return st;
}

/* ---------- small string lists ---------- */

typedef struct {
    char **v;
    uint32_t n, cap;
} strlist;

static int sl_has(const strlist *l, const char *s)
{
    for (uint32_t k = 0; k < l->n; k++)
        if (strcmp(l->v[k], s) == 0)
            return 1;
    return 0;
}

/* Appends a copy of s (of length len); 0 when out of memory. */
static int sl_push(strlist *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 8;
        char **v = norn_realloc_n(l->v, cap, sizeof *v);
        if (v == NULL)
            return 0;
        l->v = v;
        l->cap = cap;
    }
    char *c = norn_malloc(len + 1);
    if (c == NULL)
        return 0;
    memcpy(c, s, len);
    c[len] = 0;
    l->v[l->n++] = c;
    return 1;
}

static void sl_free(strlist *l)
{
    for (uint32_t k = 0; k < l->n; k++)
        norn_free(l->v[k]);
    norn_free(l->v);
    memset(l, 0, sizeof *l);
}

/* "a, b, c" into buf */
static const char *sl_join(const strlist *l, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = 0;
    for (uint32_t k = 0; k < l->n && o < cap; k++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", k ? ", " : "", l->v[k]);
    return buf;
}

static int cli_msg(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli_msg(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("norn: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return rc;
}

static int check_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cli_msg(2, "%s: %s", dir, stat(dir, &sb) != 0 ? "no such directory" : "not a directory");
    if (strlen(dir) > 4000)
        return cli_msg(2, "%s: path too long", dir);
    return 0;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static struct fy_node *run_pop_node(const run_info *r, uint32_t k)
{
    return fy_node_sequence_get_by_index(get(fy_document_root(r->doc), "populations"), (int)k);
}

static const char *run_pop_model(const run_info *r, uint32_t k) { return scalar(get(run_pop_node(r, k), "model")); }

static const char *run_name(const run_info *r, const char *dir)
{
    if (r->name)
        return r->name;
    const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    return *name ? name : dir;
}

/* ---------- traces ---------- */

/* Where a model keeps its state variable names, for ordering. */
static int state_rank(const char *model, const char *mode, const char *var)
{
    int k = -1;
    if (model && mode && strcmp(mode, "euler") == 0) {
        const norn_euler_type *t = norn_euler_find(model);
        k = t ? norn_euler_state_index(t, var) : -1;
    } else if (model) {
        const norn_model_type *t = norn_model_find(model);
        k = t ? norn_model_state_index(t, var) : -1;
    }
    return k >= 0 ? k : 1000;
}

/* run.json's "recordings" (a list), NULL when absent; -1 on a bad one. */
static int run_recordings(const run_info *r, const char *json, struct fy_node **out)
{
    struct fy_node *rec = get(fy_document_root(r->doc), "recordings");
    *out = NULL;
    if (rec == NULL)
        return 0;
    if (!fy_node_is_sequence(rec))
        return cli_msg(-1, "%s: recordings: expected a list", json);
    *out = rec;
    return 0;
}

/* Variables recorded for population pop, in order: from the recordings, or
 * from the files state_<pop>_<var>.npy in dir (model table order). */
static int state_vars(const char *dir, const char *json, const run_info *r, uint32_t pop, struct fy_node *recs,
                      strlist *out)
{
    const char *pname = r->pops[pop].name;
    if (recs) {
        for (int i = 0; i < fy_node_sequence_item_count(recs); i++) {
            struct fy_node *e = fy_node_sequence_get_by_index(recs, i);
            const char *p = scalar(get(e, "population"));
            struct fy_node *vs = get(e, "variables");
            if (p == NULL || (vs && !fy_node_is_sequence(vs) && scalar(vs) == NULL))
                return cli_msg(-1, "%s: recordings[%d]: expected {population, variables, neurons}", json, i);
            if (strcmp(p, pname) != 0 || vs == NULL)
                continue;
            int nvs = fy_node_is_sequence(vs) ? fy_node_sequence_item_count(vs) : 1;
            for (int j = 0; j < nvs; j++) {
                const char *v = fy_node_is_sequence(vs) ? scalar(fy_node_sequence_get_by_index(vs, j)) : scalar(vs);
                if (v == NULL || !*v)
                    return cli_msg(-1, "%s: recordings[%d].variables: expected names", json, i);
                if (!sl_has(out, v) && !sl_push(out, v, strlen(v)))
                    return cli_msg(-2, "out of memory");
            }
        }
        return 0;
    }
    DIR *d = opendir(dir);
    if (d == NULL)
        return cli_msg(-1, "%s: cannot read: %s", dir, strerror(errno));
    char pre[600];
    snprintf(pre, sizeof pre, "state_%s_", pname);
    size_t pl = strlen(pre);
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (len <= pl + 4 || strncmp(n, pre, pl) != 0 || strcmp(n + len - 4, ".npy") != 0)
            continue;
        if (len - pl - 4 == 5 && strncmp(n + pl, "times", 5) == 0)
            continue;
        int longer = 0; /* state_exc_fast_V_m.npy is exc_fast's, not exc's */
        for (uint32_t q = 0; q < r->n_pops && !longer; q++) {
            size_t ql = strlen(r->pops[q].name);
            longer = ql > strlen(pname) && len > 7 + ql && strncmp(n + 6, r->pops[q].name, ql) == 0 &&
                     n[6 + ql] == '_';
        }
        if (!longer && !sl_push(out, n + pl, len - pl - 4)) {
            rc = cli_msg(-2, "out of memory");
            break;
        }
    }
    closedir(d);
    /* model table order, then by name (insertion sort: a few names) */
    const char *model = run_pop_model(r, pop);
    for (uint32_t a = 1; a < out->n; a++)
        for (uint32_t b = a; b > 0; b--) {
            int ra = state_rank(model, r->mode, out->v[b - 1]), rb = state_rank(model, r->mode, out->v[b]);
            if (ra < rb || (ra == rb && strcmp(out->v[b - 1], out->v[b]) <= 0))
                break;
            char *t = out->v[b];
            out->v[b] = out->v[b - 1];
            out->v[b - 1] = t;
        }
    return rc;
}

/* The neurons of (pop, var) from the recordings: *ids NULL when not listed. */
static int rec_neurons(const char *json, struct fy_node *recs, const char *pop, const char *var, uint32_t size,
                       uint32_t **ids, uint64_t *n)
{
    *ids = NULL;
    *n = 0;
    for (int i = 0; recs && i < fy_node_sequence_item_count(recs); i++) {
        struct fy_node *e = fy_node_sequence_get_by_index(recs, i);
        const char *p = scalar(get(e, "population"));
        struct fy_node *vs = get(e, "variables"), *ns = get(e, "neurons");
        if (p == NULL || strcmp(p, pop) != 0 || vs == NULL)
            continue;
        int hit = 0;
        if (fy_node_is_sequence(vs)) {
            for (int j = 0; j < fy_node_sequence_item_count(vs) && !hit; j++) {
                const char *v = scalar(fy_node_sequence_get_by_index(vs, j));
                hit = v && strcmp(v, var) == 0;
            }
        } else {
            hit = scalar(vs) && strcmp(scalar(vs), var) == 0;
        }
        if (!hit)
            continue;
        if (ns == NULL || (scalar(ns) && strcmp(scalar(ns), "all") == 0))
            return 0; /* 0..k-1 */
        if (!fy_node_is_sequence(ns))
            return cli_msg(-1, "%s: recordings[%d].neurons: expected a list of neuron indices", json, i);
        int m = fy_node_sequence_item_count(ns);
        uint32_t *v = norn_malloc_n(m > 0 ? (size_t)m : 1, sizeof *v);
        if (v == NULL)
            return cli_msg(-2, "out of memory");
        for (int j = 0; j < m; j++) {
            uint64_t x;
            const char *s = scalar(fy_node_sequence_get_by_index(ns, j));
            if (!parse_uint(s, (uint64_t)size - 1, &x)) {
                norn_free(v);
                return cli_msg(-1, "%s: recordings[%d].neurons[%d]: expected a neuron index in 0..%u, got '%s'", json,
                               i, j, size - 1, s ? s : "(not a number)");
            }
            v[j] = (uint32_t)x;
        }
        *ids = v;
        *n = (uint64_t)m;
        return 0;
    }
    return 0;
}

/* "0,2,5-7" -> ids (malloc'd); 0 on a syntax error. */
static int parse_neuron_list(const char *s, uint32_t **out, uint32_t *n_out)
{
    uint32_t n = 0, cap = 16;
    uint32_t *v = norn_malloc_n(cap, sizeof *v);
    if (v == NULL)
        return -1;
    const char *p = s;
    for (;;) {
        char *end;
        if (*p < '0' || *p > '9')
            goto bad;
        errno = 0;
        unsigned long long a = strtoull(p, &end, 10), b = a;
        if (errno || a > UINT32_MAX - 1)
            goto bad;
        p = end;
        if (*p == '-') {
            p++;
            if (*p < '0' || *p > '9')
                goto bad;
            b = strtoull(p, &end, 10);
            if (errno || b > UINT32_MAX - 1 || b < a || b - a > 1000000)
                goto bad;
            p = end;
        }
        for (unsigned long long x = a; x <= b; x++) {
            if (n == cap) {
                if (cap > 4000000)
                    goto bad;
                uint32_t *w = norn_realloc_n(v, cap *= 2, sizeof *v);
                if (w == NULL) {
                    norn_free(v);
                    return -1;
                }
                v = w;
            }
            v[n++] = (uint32_t)x;
        }
        if (*p == 0)
            break;
        if (*p++ != ',')
            goto bad;
    }
    *out = v;
    *n_out = n;
    return 1;
bad:
    norn_free(v);
    return 0;
}

/* Reads a 1-D array of times that must be n long; 1 if it is, 0 if not (no
 * message), -1 on an error (printed). */
static int read_times(const char *path, uint64_t n, norn_npy_array *out)
{
    norn_err err;
    norn_err_clear(&err);
    norn_npy_array a;
    if (norn_npy_read(path, &a, &err) != NORN_OK)
        return cli_fail(&err) == 1 ? -2 : -1;
    if (a.ndim != 1 || a.count != n) {
        norn_npy_array_free(&a);
        return 0;
    }
    *out = a;
    return 1;
}

typedef struct {
    norn_npy_array data, times;
    uint32_t *neurons; /* [k] */
} tvar;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmd_traces(const char *dir, const char *out, const char *pop_arg, char **var_args, int n_var_args,
                      const char *neurons_arg, int have_from, double t_from, int have_to, double t_to, int width,
                      int height)
{
    norn_err err;
    norn_err_clear(&err);
    char json[4200], def_out[4200], path[4800], buf[2048], title[600];
    int rc = check_dir(dir);
    if (rc)
        return rc;
    snprintf(json, sizeof json, "%s/run.json", dir);
    if (out == NULL) {
        snprintf(def_out, sizeof def_out, "%s/traces.png", dir);
        out = def_out;
    }
    if (out_kind_of(out) == OUT_BAD) {
        bad_extension(out, &err);
        return cli_fail(&err);
    }
    run_info r;
    memset(&r, 0, sizeof r);
    strlist vars = {0}, want = {0};
    tvar *tv = NULL;
    uint32_t n_tv = 0;
    norn_plot_trace_var *pv = NULL;
    uint32_t *show = NULL, n_show = 0, *all = NULL;
    uint64_t n_all = 0;
    double *sp_t = NULL;
    uint32_t *sp_g = NULL;
    uint64_t n_sp = 0, n_mine = 0;
    rc = 2;
    if (read_run_json(json, &r, &err) != NORN_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    struct fy_node *recs;
    if (run_recordings(&r, json, &recs) < 0)
        goto done;

    /* the population */
    uint32_t pop = r.n_pops;
    if (pop_arg) {
        for (pop = 0; pop < r.n_pops && strcmp(r.pops[pop].name, pop_arg) != 0; pop++)
            ;
        if (pop == r.n_pops) {
            size_t o = 0;
            for (uint32_t k = 0; k < r.n_pops && o < sizeof buf; k++)
                o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", k ? ", " : "", r.pops[k].name);
            cli_msg(2, "--population: unknown population '%s'; known: %s", pop_arg, buf);
            goto done;
        }
        int e = state_vars(dir, json, &r, pop, recs, &vars);
        if (e < 0) {
            rc = e == -2 ? 1 : 2;
            goto done;
        }
    } else {
        for (uint32_t k = 0; k < r.n_pops && vars.n == 0; k++) {
            int e = state_vars(dir, json, &r, k, recs, &vars);
            if (e < 0) {
                rc = e == -2 ? 1 : 2;
                goto done;
            }
            pop = k;
        }
    }
    if (vars.n == 0) {
        /* which populations have state, for the message */
        strlist with = {0};
        for (uint32_t k = 0; k < r.n_pops; k++) {
            strlist v = {0};
            if (state_vars(dir, json, &r, k, recs, &v) == 0 && v.n)
                sl_push(&with, r.pops[k].name, strlen(r.pops[k].name));
            sl_free(&v);
        }
        if (with.n)
            cli_msg(2, "--population: no state was recorded for population '%s'; recorded: %s", pop_arg,
                    sl_join(&with, buf, sizeof buf));
        else
            cli_msg(2, "%s: no state was recorded (no state_*.npy; add record: state: {...} to the description)", dir);
        sl_free(&with);
        goto done;
    }
    const char *pname = r.pops[pop].name, *model = run_pop_model(&r, pop);

    /* the variables */
    for (int j = 0; j < n_var_args; j++)
        for (const char *p = var_args[j];;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (len == 0) {
                cli_msg(2, "--variable: expected a variable name or a comma list, got '%s'", var_args[j]);
                goto done;
            }
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(len < 255 ? len : 255), p);
            if (!sl_has(&vars, name)) {
                cli_msg(2, "--variable: '%s' was not recorded for population '%s'; recorded: %s", name, pname,
                        sl_join(&vars, buf, sizeof buf));
                goto done;
            }
            if (!sl_has(&want, name) && !sl_push(&want, name, strlen(name))) {
                rc = cli_msg(1, "out of memory");
                goto done;
            }
            if (c == NULL)
                break;
            p = c + 1;
        }
    strlist *use = n_var_args ? &want : &vars;
    if (use->n > TR_MAX_VARS) {
        cli_msg(2, "--variable: at most %d variables in one picture; recorded: %s", TR_MAX_VARS,
                sl_join(use, buf, sizeof buf));
        goto done;
    }
    const uint32_t nv = use->n;
    tv = norn_calloc_n(nv, sizeof *tv);
    pv = norn_calloc_n(nv, sizeof *pv);
    if (tv == NULL || pv == NULL) {
        rc = cli_msg(1, "out of memory");
        goto done;
    }
    n_tv = nv;
    for (uint32_t v = 0; v < nv; v++) {
        const char *var = use->v[v];
        snprintf(path, sizeof path, "%s/state_%s_%s.npy", dir, pname, var);
        if (norn_npy_read(path, &tv[v].data, &err) != NORN_OK) {
            rc = cli_fail(&err);
            goto done;
        }
        norn_npy_array *a = &tv[v].data;
        if (a->ndim != 1 && a->ndim != 2) {
            cli_msg(2, "%s: expected a [samples, neurons] array, got %d dimensions", path, a->ndim);
            goto done;
        }
        uint64_t ns = a->shape[0], k = a->ndim == 2 ? a->shape[1] : 1;
        if (k == 0 || k > UINT32_MAX - 1) {
            cli_msg(2, "%s: %llu neurons", path, (unsigned long long)k);
            goto done;
        }
        /* times: the population's own file when it fits, else the common one */
        char tp[4800];
        snprintf(tp, sizeof tp, "%s/state_%s_times.npy", dir, pname);
        int got = 0;
        if (file_exists(tp) && (got = read_times(tp, ns, &tv[v].times)) < 0) {
            rc = got == -2 ? 1 : 2;
            goto done;
        }
        if (!got) {
            snprintf(tp, sizeof tp, "%s/state_times.npy", dir);
            if ((got = read_times(tp, ns, &tv[v].times)) < 0) {
                rc = got == -2 ? 1 : 2;
                goto done;
            }
            if (!got) {
                norn_npy_array t;
                uint64_t have = 0;
                if (norn_npy_read(tp, &t, &err) == NORN_OK) {
                    have = t.count;
                    norn_npy_array_free(&t);
                }
                cli_msg(2, "%s: %llu samples, but %s has %llu times", path, (unsigned long long)ns, tp,
                        (unsigned long long)have);
                goto done;
            }
        }
        uint64_t nn;
        int e = rec_neurons(json, recs, pname, var, r.pops[pop].size, &tv[v].neurons, &nn);
        if (e < 0) {
            rc = e == -2 ? 1 : 2;
            goto done;
        }
        if (tv[v].neurons && nn != k) {
            cli_msg(2, "%s: recordings list %llu neurons of population '%s' for %s, but %s has %llu columns", json,
                    (unsigned long long)nn, pname, var, path, (unsigned long long)k);
            goto done;
        }
        if (tv[v].neurons == NULL) {
            if ((tv[v].neurons = norn_malloc_n(k, sizeof *tv[v].neurons)) == NULL) {
                rc = cli_msg(1, "out of memory");
                goto done;
            }
            for (uint64_t c = 0; c < k; c++)
                tv[v].neurons[c] = (uint32_t)c;
        }
        const char *thn = !strcmp(var, "V_m") ? "V_th" : !strcmp(var, "v") ? "v_th" : NULL;
        double th = NAN;
        if (thn && !parse_num(scalar(get(get(run_pop_node(&r, pop), "params"), thn)), &th))
            thn = NULL;
        pv[v] = (norn_plot_trace_var){.name = var,
                                      .unit = norn_plot_state_unit(model, r.mode, var),
                                      .time_ms = tv[v].times.data,
                                      .n_samples = ns,
                                      .n_cols = (uint32_t)k,
                                      .neuron = tv[v].neurons,
                                      .data = a->data,
                                      .threshold_name = thn,
                                      .threshold = th};
    }

    /* the recorded neurons, in order of first appearance, and the shown ones */
    for (uint32_t v = 0; v < nv; v++)
        n_all += pv[v].n_cols;
    uint64_t *key = norn_malloc_n(n_all, sizeof *key);
    all = norn_malloc_n(n_all, sizeof *all);
    if (key == NULL || all == NULL) {
        norn_free(key);
        rc = cli_msg(1, "out of memory");
        goto done;
    }
    uint64_t m = 0;
    for (uint32_t v = 0; v < nv; v++)
        for (uint32_t c = 0; c < pv[v].n_cols; c++, m++)
            key[m] = (uint64_t)pv[v].neuron[c] << 32 | (m < UINT32_MAX ? m : UINT32_MAX);
    qsort(key, n_all, sizeof *key, cmp_u64);
    uint64_t nu = 0, prev = UINT64_MAX;
    for (uint64_t i = 0; i < n_all; i++) {
        uint64_t neuron = key[i] >> 32;
        if (neuron != prev)
            key[nu++] = (key[i] & 0xffffffffu) << 32 | neuron; /* first position, neuron */
        prev = neuron;
    }
    qsort(key, nu, sizeof *key, cmp_u64);
    for (uint64_t i = 0; i < nu; i++)
        all[i] = (uint32_t)key[i];
    norn_free(key);
    n_all = nu;
    if (neurons_arg) {
        int e = parse_neuron_list(neurons_arg, &show, &n_show);
        if (e < 0) {
            rc = cli_msg(1, "out of memory");
            goto done;
        }
        if (e == 0) {
            cli_msg(2, "--neurons: expected neuron indices like 0,1,2 or 0-4, got '%s'", neurons_arg);
            goto done;
        }
        uint32_t *sorted = norn_malloc_n(n_all, sizeof *sorted);
        if (sorted == NULL) {
            rc = cli_msg(1, "out of memory");
            goto done;
        }
        memcpy(sorted, all, n_all * sizeof *sorted);
        qsort(sorted, n_all, sizeof *sorted, cmp_u32);
        uint32_t kept = 0;
        for (uint32_t i = 0; i < n_show; i++) {
            if (bsearch(&show[i], sorted, n_all, sizeof *sorted, cmp_u32) == NULL) {
                size_t o = 0;
                for (uint64_t j = 0; j < n_all && o < sizeof buf - 16; j++)
                    o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%u", j ? ", " : "", all[j]);
                if (o >= sizeof buf - 16)
                    snprintf(buf + sizeof buf - 16, 16, ", ...");
                cli_msg(2, "--neurons: neuron %u of population '%s' was not recorded; recorded: %s", show[i], pname,
                        buf);
                norn_free(sorted);
                goto done;
            }
            int dup = 0;
            for (uint32_t j = 0; j < kept && !dup; j++)
                dup = show[j] == show[i];
            if (!dup)
                show[kept++] = show[i];
        }
        n_show = kept;
        norn_free(sorted);
    } else {
        show = all;
        all = NULL;
        n_show = (uint32_t)n_all;
    }

    /* spikes of the population, as its neuron indices */
    snprintf(path, sizeof path, "%s/spikes.npy", dir);
    if (r.recorded[pop] && file_exists(path)) {
        if (norn_npy_read_spikes(path, &sp_t, &sp_g, &n_sp, &err) != NORN_OK) {
            rc = cli_fail(&err);
            goto done;
        }
        if (sp_g) {
            uint64_t lo = r.pops[pop].first_id, hi = lo + r.pops[pop].size;
            for (uint64_t q = 0; q < n_sp; q++)
                if (sp_g[q] >= lo && sp_g[q] < hi) {
                    sp_t[n_mine] = sp_t[q];
                    sp_g[n_mine++] = sp_g[q] - (uint32_t)lo;
                }
        }
    }

    if (!have_from)
        t_from = 0;
    if (!have_to)
        t_to = r.duration_ms;
    if (!(t_to > t_from)) {
        cli_msg(2, "%s: the time window %g..%g ms is empty", have_to ? "--to" : "--from", t_from, t_to);
        goto done;
    }
    if (r.mode)
        snprintf(title, sizeof title, "%s \xe2\x80\x94 population %s%s%s%s, %s mode", run_name(&r, dir), pname,
                 model ? " (" : "", model ? model : "", model ? ")" : "", r.mode);
    else
        snprintf(title, sizeof title, "%s \xe2\x80\x94 population %s%s%s%s", run_name(&r, dir), pname,
                 model ? " (" : "", model ? model : "", model ? ")" : "");
    if (height == 0) /* 600 for one panel, 200 more for each further one */
        height = nv >= 5 ? 1400 : 400 + 200 * (int)nv;
    norn_plot_traces tr = {.title = title,
                           .vars = pv,
                           .n_vars = nv,
                           .show = show,
                           .n_show = n_show,
                           .spike_ms = sp_g ? sp_t : NULL,
                           .spike_neuron = sp_g,
                           .n_spikes = sp_g ? n_mine : 0,
                           .t_from = t_from,
                           .t_to = t_to,
                           .width = width,
                           .height = height};
    norn_status st = norn_plot_traces_file(out, &tr, &err);
    if (st != NORN_OK) {
        cli_fail(&err);
        rc = st == NORN_EINVAL || st == NORN_EPARSE ? 2 : 1;
        goto done;
    }
    printf("wrote %s\n", out);
    rc = 0;
done:
    for (uint32_t v = 0; v < n_tv; v++) {
        norn_npy_array_free(&tv[v].data);
        norn_npy_array_free(&tv[v].times);
        norn_free(tv[v].neurons);
    }
    norn_free(tv);
    norn_free(pv);
    norn_free(show);
    norn_free(all);
    norn_free(sp_t);
    norn_free(sp_g);
    sl_free(&vars);
    sl_free(&want);
    run_info_free(&r);
    return rc;
}

/* ---------- weights ---------- */

/* Projections with a weights_<name>.npy in dir. */
static int saved_weights(const char *dir, strlist *out)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return cli_msg(-1, "%s: cannot read: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 12 && strncmp(e->d_name, "weights_", 8) == 0 && strcmp(e->d_name + len - 4, ".npy") == 0 &&
            !sl_push(out, e->d_name + 8, len - 12)) {
            rc = cli_msg(-2, "out of memory");
            break;
        }
    }
    closedir(d);
    for (uint32_t a = 1; a < out->n; a++) /* by name */
        for (uint32_t b = a; b > 0 && strcmp(out->v[b - 1], out->v[b]) > 0; b--) {
            char *t = out->v[b];
            out->v[b] = out->v[b - 1];
            out->v[b - 1] = t;
        }
    return rc;
}

/* The unit of the weights of projection proj: run.json's
 * projections[name].weight_unit when given, else that of the models of its
 * targets (projections[name].to) when they agree. NULL for none. */
static const char *weights_unit(const run_info *r, const char *proj)
{
    struct fy_node *ps = get(fy_document_root(r->doc), "projections");
    for (int i = 0; ps && fy_node_is_sequence(ps) && i < fy_node_sequence_item_count(ps); i++) {
        struct fy_node *e = fy_node_sequence_get_by_index(ps, i);
        const char *nm = scalar(get(e, "name")), *u = scalar(get(e, "weight_unit"));
        if (nm == NULL || strcmp(nm, proj) != 0)
            continue;
        if (u)
            return *u ? u : NULL;
        struct fy_node *to = get(e, "to");
        int nt = to && fy_node_is_sequence(to) ? fy_node_sequence_item_count(to) : 0;
        const char *unit = NULL;
        for (int j = 0; j < nt; j++) {
            const char *t = scalar(fy_node_sequence_get_by_index(to, j));
            uint32_t q = 0;
            while (t && q < r->n_pops && strcmp(r->pops[q].name, t) != 0)
                q++;
            const char *uq = t && q < r->n_pops ? norn_plot_weight_unit(run_pop_model(r, q), r->mode) : NULL;
            if (uq == NULL || (unit && strcmp(uq, unit) != 0))
                return NULL;
            unit = uq;
        }
        return unit;
    }
    return NULL;
}

static int cmd_weights(const char *dir, const char *out, const char *proj, int width, int height)
{
    norn_err err;
    norn_err_clear(&err);
    char json[4200], def_out[4600], path[4600], buf[2048], title[700];
    int rc = check_dir(dir);
    if (rc)
        return rc;
    run_info r;
    memset(&r, 0, sizeof r);
    strlist saved = {0};
    double *t = NULL, *w = NULL;
    uint64_t n = 0;
    rc = 2;
    snprintf(json, sizeof json, "%s/run.json", dir);
    if (read_run_json(json, &r, &err) != NORN_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    int e = saved_weights(dir, &saved);
    if (e < 0) {
        rc = e == -2 ? 1 : 2;
        goto done;
    }
    if (proj == NULL) {
        if (saved.n != 1) {
            if (saved.n == 0)
                cli_msg(2, "%s: no weights were saved (no weights_*.npy)", dir);
            else
                cli_msg(2, "plot weights: which projection? saved: %s; choose with --projection",
                        sl_join(&saved, buf, sizeof buf));
            goto done;
        }
        proj = saved.v[0];
    }
    if (!*proj || strchr(proj, '/') || strlen(proj) > 255) {
        cli_msg(2, "--projection: expected a projection name, got '%s'", proj);
        goto done;
    }
    snprintf(path, sizeof path, "%s/weights_%s.npy", dir, proj);
    if (!file_exists(path)) {
        if (saved.n)
            cli_msg(2, "%s: no such file; weights were saved for: %s", path, sl_join(&saved, buf, sizeof buf));
        else
            cli_msg(2, "%s: no such file; this run saved no weights", path);
        goto done;
    }
    if (out == NULL) {
        snprintf(def_out, sizeof def_out, "%s/weights_%s.png", dir, proj);
        out = def_out;
    }
    if (out_kind_of(out) == OUT_BAD) {
        bad_extension(out, &err);
        rc = cli_fail(&err);
        goto done;
    }
    if (read_weights_npy(path, &t, &w, &n, &err) != NORN_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    if (n == 0) {
        cli_msg(2, "%s: no rows: no snapshot was saved", path);
        goto done;
    }
    snprintf(title, sizeof title, "%s \xe2\x80\x94 weights of projection '%s'", run_name(&r, dir), proj);
    norn_plot_weights pw = {.title = title,
                            .unit = weights_unit(&r, proj),
                            .time_ms = t,
                            .weight = w,
                            .n = n,
                            .width = width,
                            .height = height};
    norn_status st = norn_plot_weights_file(out, &pw, &err);
    if (st != NORN_OK) {
        cli_fail(&err);
        rc = st == NORN_EINVAL || st == NORN_EPARSE ? 2 : 1;
        goto done;
    }
    printf("wrote %s\n", out);
    rc = 0;
done:
    norn_free(t);
    norn_free(w);
    sl_free(&saved);
    run_info_free(&r);
    return rc;
}

/* An option given to a plot it does not apply to. */
static int not_for(const char *plot, const char *opt)
{
    return cli_msg(2, "plot %s: %s does not apply; see 'norn plot --help'", plot, opt);
}

int norn_cli_plot(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},       {"from", required_argument, 0, 'F'},
        {"to", required_argument, 0, 'T'},        {"population", required_argument, 0, 'p'},
        {"width", required_argument, 0, 'W'},     {"height", required_argument, 0, 'H'},
        {"variable", required_argument, 0, 'v'},  {"neurons", required_argument, 0, 'n'},
        {"projection", required_argument, 0, 'P'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *out = NULL, *neurons = NULL, *proj = NULL;
    double t_from = 0, t_to = 0;
    int have_from = 0, have_to = 0, width = 1200, height = 0, n_names = 0, n_vars = 0, c; /* 0: default */
    char **names = norn_calloc_n(argc > 0 ? (size_t)argc : 1, sizeof *names);
    char **vars = norn_calloc_n(argc > 0 ? (size_t)argc : 1, sizeof *vars);
    int rc = 2;
    if (names == NULL || vars == NULL) {
        rc = cli_msg(1, "out of memory");
        goto done;
    }
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
        case 'v': vars[n_vars++] = optarg; break;
        case 'n': neurons = optarg; break;
        case 'P': proj = optarg; break;
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
    const char *kind = argv[optind];
    if (strcmp(kind, "raster") != 0 && strcmp(kind, "traces") != 0 && strcmp(kind, "weights") != 0) {
        fprintf(stderr, "norn: plot: unknown plot '%s'; known: raster, traces, weights\n", kind);
        goto done;
    }
    if (npos != 2) {
        fprintf(stderr, "norn: plot %s: expected one run directory, got %d\n", kind, npos - 1);
        goto done;
    }
    const char *dir = argv[optind + 1];
    if (kind[0] == 'r') {
        if (n_vars || neurons || proj) {
            rc = not_for(kind, n_vars ? "--variable" : neurons ? "--neurons" : "--projection");
            goto done;
        }
        rc = cmd_raster(dir, out, have_from, t_from, have_to, t_to, names, n_names, width, height ? height : 800);
    } else if (kind[0] == 't') {
        if (proj) {
            rc = not_for(kind, "--projection");
            goto done;
        }
        if (n_names > 1) {
            rc = cli_msg(2, "--population: traces show one population, got %d", n_names);
            goto done;
        }
        rc = cmd_traces(dir, out, n_names ? names[0] : NULL, vars, n_vars, neurons, have_from, t_from, have_to, t_to,
                        width, height);
    } else {
        if (n_vars || neurons || n_names || have_from || have_to) {
            rc = not_for(kind, n_vars    ? "--variable"
                               : neurons ? "--neurons"
                               : n_names ? "--population"
                                         : have_from ? "--from" : "--to");
            goto done;
        }
        rc = cmd_weights(dir, out, proj, width, height ? height : 800);
    }
done:
    norn_free(names);
    norn_free(vars);
    return rc;
}
