/* tools/export.c - norn export: dense rasters and weights, SONATA, CSV;
 * see export.h. */
#include "tools/export.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "io/atomic.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/sonata.h"
#include "tools/stats.h"

typedef enum { FMT_NONE, FMT_DENSE, FMT_SONATA, FMT_CSV } out_format;

/* Prints "norn: where: what"; the exit code: reading fails on bad input
 * (2) unless out of memory; writing fails on the disk (1) unless the
 * arguments were bad. */
static int fail_read(const norn_err *err)
{
    char buf[1024];
    fprintf(stderr, "norn: %s\n", norn_err_format(err, buf, sizeof buf));
    return err->code == NORN_ENOMEM ? 1 : 2;
}

static int fail_write(const norn_err *err)
{
    char buf[1024];
    fprintf(stderr, "norn: %s\n", norn_err_format(err, buf, sizeof buf));
    return err->code == NORN_EINVAL || err->code == NORN_EPARSE ? 2 : 1;
}

/* 1 if a and b name the same existing file. */
static int same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* ------------------------------------------------------------------ */
/* .npy writing, row by row                                             */

static int host_le(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Format 1.0 header of a 2-D C-order array, padded so that the data
 * starts at a multiple of 64 bytes (as NumPy writes it). */
static norn_status npy_header(norn_afile *a, const char *descr, uint64_t rows, uint64_t cols, norn_err *err)
{
    char dict[256];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%llu, %llu), }", descr,
                       (unsigned long long)rows, (unsigned long long)cols);
    size_t total = 10 + (size_t)len + 1; /* magic, version, length, dict, '\n' */
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)len + pad + 1;
    unsigned char pre[10] = {
        0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 255), (unsigned char)(hlen >> 8)};
    if (fwrite(pre, 1, 10, a->f) != 10 || fwrite(dict, 1, (size_t)len, a->f) != (size_t)len)
        return NORN_FAIL(err, NORN_EIO, a->path, "write failed: %s", strerror(errno));
    for (size_t k = 0; k < pad; k++)
        if (fputc(' ', a->f) == EOF)
            return NORN_FAIL(err, NORN_EIO, a->path, "write failed: %s", strerror(errno));
    if (fputc('\n', a->f) == EOF)
        return NORN_FAIL(err, NORN_EIO, a->path, "write failed: %s", strerror(errno));
    return NORN_OK;
}

static norn_status put(norn_afile *a, const void *p, size_t bytes, norn_err *err)
{
    if (bytes && fwrite(p, 1, bytes, a->f) != bytes)
        return NORN_FAIL(err, NORN_EIO, a->path, "write failed: %s", strerror(errno));
    return NORN_OK;
}

/* ------------------------------------------------------------------ */
/* Spikes: read, order, select                                          */

typedef struct {
    norn__run run;
    double *t; /* sorted by (time, id) */
    uint32_t *g;
    uint64_t n;
} run_data;

static void run_data_free(run_data *d)
{
    norn__run_free(&d->run);
    norn_free(d->t);
    norn_free(d->g);
}

typedef struct {
    double t;
    uint32_t g;
} spike;

static int cmp_spike(const void *a, const void *b)
{
    const spike *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->g < y->g ? -1 : x->g > y->g;
}

static norn_status load_spikes(const char *dir, run_data *d, norn_err *err)
{
    char npy[4200];
    snprintf(npy, sizeof npy, "%s/spikes.npy", dir);
    norn_status st = norn_npy_read_spikes(npy, &d->t, &d->g, &d->n, err);
    if (st != NORN_OK)
        return st;
    if (d->g == NULL)
        return NORN_FAIL(err, NORN_EPARSE, npy, "no neuron field (a 1-D array of times only)");
    for (uint64_t k = 1; k < d->n; k++)
        if (d->t[k] < d->t[k - 1]) { /* not as a run writes it: sort by (time, id) */
            spike *v = norn_malloc_n(d->n, sizeof *v);
            if (v == NULL)
                return NORN_FAIL(err, NORN_ENOMEM, npy, "out of memory to sort %llu spikes", (unsigned long long)d->n);
            for (uint64_t i = 0; i < d->n; i++)
                v[i] = (spike){d->t[i], d->g[i]};
            qsort(v, d->n, sizeof *v, cmp_spike);
            for (uint64_t i = 0; i < d->n; i++) {
                d->t[i] = v[i].t;
                d->g[i] = v[i].g;
            }
            norn_free(v);
            break;
        }
    return NORN_OK;
}

/* Selected populations, in global id order. */
typedef struct {
    uint32_t *idx; /* into run.pops, by first_id */
    uint64_t *col; /* first column of each */
    uint32_t n;
    uint64_t cols;
} selection;

static int sel_pop(const run_data *d, const selection *s, uint32_t g)
{
    uint32_t lo = 0, hi = s->n; /* first with first_id > g */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (d->run.pops[s->idx[mid]].first_id <= g)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const norn__run_pop *p = &d->run.pops[s->idx[lo - 1]];
    return (uint64_t)g < (uint64_t)p->first_id + p->size ? (int)(lo - 1) : -1;
}

static norn_status select_pops(const run_data *d, char **names, int n_names, int all_default, selection *s,
                               norn_err *err)
{
    const norn__run *r = &d->run;
    memset(s, 0, sizeof *s);
    for (int k = 0; k < n_names; k++) {
        long p = norn__run_find(r, names[k]);
        if (p < 0)
            return norn__run_unknown_pop(r, "--population", names[k], err);
        if (!r->pops[p].recorded)
            return NORN_FAIL(err, NORN_EINVAL, "--population", "population '%s': its spikes were not recorded (%s)",
                             names[k], r->json_path);
    }
    s->idx = norn_malloc_n(r->n_pops, sizeof *s->idx);
    s->col = norn_malloc_n(r->n_pops, sizeof *s->col);
    if (s->idx == NULL || s->col == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, "export", "out of memory");
    for (uint32_t k = 0; k < r->n_pops; k++) {
        int want = n_names == 0 ? (all_default || r->pops[k].recorded) : 0;
        for (int j = 0; j < n_names; j++)
            want |= strcmp(r->pops[k].name, names[j]) == 0;
        if (want)
            s->idx[s->n++] = k;
    }
    if (s->n == 0)
        return NORN_FAIL(err, NORN_EINVAL, r->json_path, "no population has recorded spikes");
    for (uint32_t a = 1; a < s->n; a++) /* insertion sort by first_id */
        for (uint32_t b = a; b > 0 && r->pops[s->idx[b]].first_id < r->pops[s->idx[b - 1]].first_id; b--) {
            uint32_t x = s->idx[b];
            s->idx[b] = s->idx[b - 1];
            s->idx[b - 1] = x;
        }
    for (uint32_t k = 0; k < s->n; k++) {
        s->col[k] = s->cols;
        s->cols += r->pops[s->idx[k]].size;
    }
    return NORN_OK;
}

static void selection_free(selection *s)
{
    norn_free(s->idx);
    norn_free(s->col);
}

/* ------------------------------------------------------------------ */
/* The exporters                                                        */

static norn_status export_dense(const run_data *d, const selection *s, double from, double to, double bin,
                                const char *out, norn_err *err)
{
    double rows_d = ceil((to - from) / bin - 1e-9);
    if (rows_d < 1)
        rows_d = 1;
    if (!(rows_d < 9e15))
        return NORN_FAIL(err, NORN_EINVAL, "--bin", "%g ms bins over (%g, %g] ms: too many rows", bin, from, to);
    uint64_t T = (uint64_t)rows_d, n = s->cols;
    if (n > SIZE_MAX || (n && T > UINT64_MAX / n))
        return NORN_FAIL(err, NORN_EINVAL, out, "a %llu x %llu raster is too large", (unsigned long long)T,
                         (unsigned long long)n);
    unsigned char *row = norn_calloc_n(n ? (size_t)n : 1, 1);
    if (row == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, out, "out of memory for a row of %llu neurons", (unsigned long long)n);
    norn_afile a;
    norn_status st = norn_afile_open(&a, out, err);
    if (st != NORN_OK) {
        norn_free(row);
        return st;
    }
    if ((st = npy_header(&a, "|u1", T, n, err)) != NORN_OK)
        goto fail;
    uint64_t r = 0;
    for (uint64_t k = 0; k < d->n; k++) {
        double t = d->t[k];
        if (!(t > from) || t > to)
            continue;
        int p = sel_pop(d, s, d->g[k]);
        if (p < 0)
            continue;
        uint64_t b = norn__bin_of(t, from, bin);
        if (b >= T)
            b = T - 1;
        for (; r < b; r++) {
            if ((st = put(&a, row, (size_t)n, err)) != NORN_OK)
                goto fail;
            memset(row, 0, (size_t)n);
        }
        uint64_t c = s->col[p] + (d->g[k] - d->run.pops[s->idx[p]].first_id);
        if (row[c] < 255)
            row[c]++;
    }
    for (; r < T; r++) {
        if ((st = put(&a, row, (size_t)n, err)) != NORN_OK)
            goto fail;
        memset(row, 0, (size_t)n);
    }
    norn_free(row);
    return norn_afile_commit(&a, err);
fail:
    norn_free(row);
    norn_afile_abort(&a);
    return st;
}

static norn_status export_csv(const run_data *d, const selection *s, double from, double to, const char *out,
                              norn_err *err)
{
    uint64_t m = 0;
    for (uint64_t k = 0; k < d->n; k++) {
        double t = d->t[k];
        m += t > from && t <= to && sel_pop(d, s, d->g[k]) >= 0;
    }
    double *t = norn_malloc_n(m ? m : 1, sizeof *t);
    uint32_t *pop = norn_malloc_n(m ? m : 1, sizeof *pop), *loc = norn_malloc_n(m ? m : 1, sizeof *loc);
    const char **names = norn_malloc_n(d->run.n_pops, sizeof *names);
    norn_status st;
    if (t == NULL || pop == NULL || loc == NULL || names == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, out, "out of memory for %llu spikes", (unsigned long long)m);
        goto done;
    }
    for (uint32_t k = 0; k < d->run.n_pops; k++)
        names[k] = d->run.pops[k].name;
    uint64_t j = 0;
    for (uint64_t k = 0; k < d->n; k++) {
        int p;
        if (!(d->t[k] > from) || d->t[k] > to || (p = sel_pop(d, s, d->g[k])) < 0)
            continue;
        t[j] = d->t[k];
        pop[j] = s->idx[p];
        loc[j++] = d->g[k] - d->run.pops[s->idx[p]].first_id;
    }
    st = norn_csv_write_spikes(out, t, pop, loc, m, names, err);
done:
    norn_free(t);
    norn_free(pop);
    norn_free(loc);
    norn_free(names);
    return st;
}

static norn_status export_sonata(const run_data *d, const selection *s, double from, double to, const char *out,
                                 norn_err *err)
{
    uint64_t *cnt = norn_calloc_n(s->n, sizeof *cnt);
    norn_sonata_pop *sp = norn_calloc_n(s->n, sizeof *sp);
    double *t = NULL;
    uint32_t *id = NULL;
    norn_status st;
    if (cnt == NULL || sp == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, out, "out of memory");
        goto done;
    }
    uint64_t m = 0;
    for (uint64_t k = 0; k < d->n; k++) {
        int p;
        if (d->t[k] > from && d->t[k] <= to && (p = sel_pop(d, s, d->g[k])) >= 0) {
            cnt[p]++;
            m++;
        }
    }
    t = norn_malloc_n(m ? m : 1, sizeof *t);
    id = norn_malloc_n(m ? m : 1, sizeof *id);
    if (t == NULL || id == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, out, "out of memory for %llu spikes", (unsigned long long)m);
        goto done;
    }
    /* population p's spikes at [base_p, base_p + cnt_p), in time order */
    uint64_t base = 0;
    for (uint32_t p = 0; p < s->n; p++) {
        const norn__run_pop *rp = &d->run.pops[s->idx[p]];
        sp[p] = (norn_sonata_pop){.name = rp->name, .time_ms = t + base, .node_id = id + base, .n = 0};
        base += cnt[p];
    }
    for (uint64_t k = 0; k < d->n; k++) {
        int p;
        if (!(d->t[k] > from) || d->t[k] > to || (p = sel_pop(d, s, d->g[k])) < 0)
            continue;
        uint64_t o = (uint64_t)(sp[p].time_ms - t) + sp[p].n++;
        t[o] = d->t[k];
        id[o] = d->g[k] - d->run.pops[s->idx[p]].first_id;
    }
    st = norn_sonata_write_spikes(out, sp, s->n, err);
done:
    norn_free(cnt);
    norn_free(sp);
    norn_free(t);
    norn_free(id);
    return st;
}

/* ------------------------------------------------------------------ */
/* weights_<projection>.npy: structured records with fields pre, post     */
/* (integers), weight, time_ms (floats), any order, padding allowed.      */

typedef struct {
    int off, size;
    char kind; /* 'u', 'i', 'f' */
    int swap;  /* byte order differs from the host's */
} field;

typedef struct {
    const char *s;
    size_t i, n;
} cursor;

static void ws(cursor *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r'))
        c->i++;
}

static int lit(cursor *c, char ch)
{
    ws(c);
    if (c->i < c->n && c->s[c->i] == ch) {
        c->i++;
        return 1;
    }
    return 0;
}

/* A quoted Python string without escapes. */
static int str(cursor *c, char *out, size_t cap)
{
    ws(c);
    if (c->i >= c->n || (c->s[c->i] != '\'' && c->s[c->i] != '"'))
        return 0;
    char q = c->s[c->i++];
    size_t o = 0;
    while (c->i < c->n && c->s[c->i] != q) {
        if (c->s[c->i] == '\\' || o + 1 >= cap)
            return 0;
        out[o++] = c->s[c->i++];
    }
    if (c->i >= c->n)
        return 0;
    c->i++;
    out[o] = 0;
    return 1;
}

static int word(cursor *c, const char *w)
{
    ws(c);
    size_t l = strlen(w);
    if (c->n - c->i >= l && memcmp(c->s + c->i, w, l) == 0) {
        c->i += l;
        return 1;
    }
    return 0;
}

static int uint_lit(cursor *c, uint64_t *v)
{
    ws(c);
    if (c->i >= c->n || c->s[c->i] < '0' || c->s[c->i] > '9')
        return 0;
    uint64_t x = 0;
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
        unsigned dgt = (unsigned)(c->s[c->i++] - '0');
        if (x > (UINT64_MAX - dgt) / 10)
            return 0;
        x = x * 10 + dgt;
    }
    if (c->i < c->n && c->s[c->i] == 'L')
        c->i++;
    *v = x;
    return 1;
}

typedef struct {
    field pre, post, w, t;
    uint64_t itemsize, n;
} wlayout;

/* Parses the header dict; msg gets what is wrong. */
static int parse_header(const char *h, size_t len, wlayout *L, char *msg, size_t cap)
{
    cursor c = {h, 0, len};
    int have_descr = 0, have_shape = 0;
    memset(L, 0, sizeof *L);
    L->pre.size = L->post.size = L->w.size = L->t.size = 0;
    if (!lit(&c, '{')) {
        snprintf(msg, cap, "header: expected a dict");
        return 0;
    }
    while (!lit(&c, '}')) {
        char key[32];
        if (!str(&c, key, sizeof key) || !lit(&c, ':')) {
            snprintf(msg, cap, "header: expected 'key': value");
            return 0;
        }
        if (strcmp(key, "descr") == 0) {
            char one[64];
            if (str(&c, one, sizeof one)) {
                snprintf(msg, cap, "dtype '%s': expected a structured array with fields pre, post, weight, time_ms",
                         one);
                return 0;
            }
            if (!lit(&c, '[')) {
                snprintf(msg, cap, "header: descr: expected a list of fields");
                return 0;
            }
            uint64_t off = 0;
            while (!lit(&c, ']')) {
                char name[64], type[16];
                if (!lit(&c, '(') || !str(&c, name, sizeof name) || !lit(&c, ',') || !str(&c, type, sizeof type)) {
                    snprintf(msg, cap, "header: descr: expected ('name', 'type') tuples");
                    return 0;
                }
                if (!lit(&c, ')')) {
                    snprintf(msg, cap, "field '%s': sub-arrays are not supported", name);
                    return 0;
                }
                lit(&c, ',');
                char bo = type[0], kind = type[1];
                char *end;
                long sz = strtol(type + 2, &end, 10);
                if (!strchr("<>|=", bo) || !strchr("uifV", kind) || *end || sz <= 0 || sz > 1 << 20) {
                    snprintf(msg, cap, "field '%s': unsupported type '%s'", name, type);
                    return 0;
                }
                field f = {.off = (int)off,
                           .size = (int)sz,
                           .kind = kind,
                           .swap = (bo == '>' && host_le()) || (bo == '<' && !host_le())};
                field *dst = strcmp(name, "pre") == 0       ? &L->pre
                             : strcmp(name, "post") == 0    ? &L->post
                             : strcmp(name, "weight") == 0  ? &L->w
                             : strcmp(name, "time_ms") == 0 ? &L->t
                                                            : NULL;
                if (dst) {
                    int ok = (dst == &L->pre || dst == &L->post)
                                 ? ((kind == 'u' || kind == 'i') && (sz == 1 || sz == 2 || sz == 4 || sz == 8))
                                 : (kind == 'f' && (sz == 4 || sz == 8));
                    if (!ok) {
                        snprintf(msg, cap, "field '%s': type '%s'; expected %s", name, type,
                                 dst == &L->pre || dst == &L->post ? "an integer" : "float32 or float64");
                        return 0;
                    }
                    if (dst->size) {
                        snprintf(msg, cap, "field '%s' appears twice", name);
                        return 0;
                    }
                    *dst = f;
                }
                off += (uint64_t)sz;
                if (off > (1u << 24)) {
                    snprintf(msg, cap, "records of more than 16 MiB");
                    return 0;
                }
            }
            L->itemsize = off;
            have_descr = 1;
        } else if (strcmp(key, "shape") == 0) {
            uint64_t v;
            if (!lit(&c, '(') || !uint_lit(&c, &v) || !lit(&c, ',') || !lit(&c, ')')) {
                snprintf(msg, cap, "header: shape: expected a 1-D shape (n,)");
                return 0;
            }
            L->n = v;
            have_shape = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (!word(&c, "False") && !word(&c, "True")) {
                snprintf(msg, cap, "header: fortran_order: expected True or False");
                return 0;
            }
        } else {
            snprintf(msg, cap, "header: unknown key '%s'", key);
            return 0;
        }
        lit(&c, ',');
    }
    if (!have_descr || !have_shape) {
        snprintf(msg, cap, "header: %s missing", have_descr ? "shape" : "descr");
        return 0;
    }
    const char *miss = !L->pre.size    ? "pre"
                       : !L->post.size ? "post"
                       : !L->w.size    ? "weight"
                       : !L->t.size    ? "time_ms"
                                       : NULL;
    if (miss) {
        snprintf(msg, cap, "no field '%s' (expected fields pre, post, weight, time_ms)", miss);
        return 0;
    }
    return 1;
}

static uint64_t get_bytes(const unsigned char *p, const field *f)
{
    unsigned char b[8];
    for (int k = 0; k < f->size; k++)
        b[k] = f->swap ? p[f->size - 1 - k] : p[k];
    uint64_t u = 0;
    if (host_le())
        memcpy(&u, b, (size_t)f->size);
    else
        memcpy((unsigned char *)&u + 8 - f->size, b, (size_t)f->size);
    return u;
}

/* An id field as a non-negative integer, or -1. */
static int64_t get_id(const unsigned char *rec, const field *f)
{
    uint64_t u = get_bytes(rec + f->off, f);
    if (f->kind == 'i' && f->size < 8 && (u >> (8 * f->size - 1)) & 1)
        return -1;
    if (f->kind == 'i' && f->size == 8 && (int64_t)u < 0)
        return -1;
    return u > UINT32_MAX - 1 ? -1 : (int64_t)u;
}

static double get_float(const unsigned char *rec, const field *f)
{
    uint64_t u = get_bytes(rec + f->off, f);
    if (f->size == 4) {
        uint32_t v = (uint32_t)u;
        float x;
        memcpy(&x, &v, 4);
        return x;
    }
    double x;
    memcpy(&x, &u, 8);
    return x;
}

typedef struct {
    uint64_t row, col;
    float w;
} wentry;

static int cmp_wentry(const void *a, const void *b)
{
    const wentry *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col;
}

static norn_status export_weights(const char *dir, const norn__run *r, const char *proj, const char *out, norn_err *err)
{
    char path[4400], msg[300], wb[4500];
    snprintf(path, sizeof path, "%s/weights_%s.npy", dir, proj);
    if (same_file(out, path))
        return NORN_FAIL(err, NORN_EINVAL, out, "is the weights file itself; choose another -o");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NORN_FAIL(err, NORN_EINVAL, path, "cannot open: %s (were the weights of '%s' recorded?)",
                         strerror(errno), proj);
    norn_status st = NORN_OK;
    char *hdr = NULL;
    unsigned char *buf = NULL;
    wentry *e = NULL;
    float *row = NULL;
    norn_afile a = {0};
    int a_open = 0;
    uint64_t ne = 0, cap = 0;
    unsigned char pre[12];
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] < 1 || pre[6] > 3) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "not a .npy file (bad magic or version)");
        goto done;
    }
    size_t hl;
    if (pre[6] == 1) {
        if (fread(pre + 8, 1, 2, f) != 2) {
            st = NORN_FAIL(err, NORN_EPARSE, path, "truncated header");
            goto done;
        }
        hl = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else {
        if (fread(pre + 8, 1, 4, f) != 4) {
            st = NORN_FAIL(err, NORN_EPARSE, path, "truncated header");
            goto done;
        }
        hl = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    if (hl > (1u << 20) || (hdr = norn_malloc(hl + 1)) == NULL || fread(hdr, 1, hl, f) != hl) {
        st = NORN_FAIL(err, NORN_EPARSE, path, hl > (1u << 20) ? "header too long" : "truncated header");
        goto done;
    }
    hdr[hl] = 0;
    wlayout L;
    if (!parse_header(hdr, hl, &L, msg, sizeof msg)) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "%s", msg);
        goto done;
    }
    long here = ftell(f);
    struct stat sb;
    if (here < 0 || fstat(fileno(f), &sb) != 0) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "cannot size the file: %s", strerror(errno));
        goto done;
    }
    uint64_t data = (uint64_t)sb.st_size - (uint64_t)here;
    if (L.n > data / (L.itemsize ? L.itemsize : 1) || L.n * L.itemsize != data) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "%llu records of %llu bytes need %s bytes of data, the file has %llu",
                       (unsigned long long)L.n, (unsigned long long)L.itemsize,
                       L.n > data / (L.itemsize ? L.itemsize : 1) ? "more" : "other", (unsigned long long)data);
        goto done;
    }
    if (L.n == 0) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "no snapshot (the file holds no synapses)");
        goto done;
    }
    /* keep the records of the latest snapshot */
    enum { CHUNK = 4096 };
    if ((buf = norn_malloc_n(CHUNK, (size_t)L.itemsize)) == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
        goto done;
    }
    double last = -INFINITY;
    uint64_t n_pre = r->pre_size, n_post = r->post_size;
    for (uint64_t got = 0; got < L.n;) {
        size_t m = (size_t)(L.n - got < CHUNK ? L.n - got : CHUNK);
        if (fread(buf, (size_t)L.itemsize, m, f) != m) {
            st = NORN_FAIL(err, NORN_EPARSE, path, "read failed at record %llu", (unsigned long long)got);
            goto done;
        }
        for (size_t j = 0; j < m; j++) {
            const unsigned char *rec = buf + j * L.itemsize;
            uint64_t k = got + j;
            double t = get_float(rec, &L.t), w = get_float(rec, &L.w);
            int64_t ip = get_id(rec, &L.pre), iq = get_id(rec, &L.post);
            if (!isfinite(t) || !isfinite(w) || ip < 0 || iq < 0) {
                st = NORN_FAIL(err, NORN_EPARSE, path, "record %llu: %s", (unsigned long long)k,
                               !isfinite(t)   ? "time_ms is not finite"
                               : !isfinite(w) ? "weight is not finite"
                                              : "pre or post is not an index");
                goto done;
            }
            if (t < last)
                continue;
            if (t > last) {
                last = t;
                ne = 0;
            }
            if ((uint64_t)ip >= n_pre || (uint64_t)iq >= n_post) {
                int is_pre = (uint64_t)ip >= n_pre;
                snprintf(wb, sizeof wb, "%s: record %llu", path, (unsigned long long)k);
                st = NORN_FAIL(err, NORN_EPARSE, wb, "%s index %lld out of range: the projection's %s %llu neurons",
                               is_pre ? "pre" : "post", (long long)(is_pre ? ip : iq),
                               is_pre ? "source population has" : "target populations have in all",
                               (unsigned long long)(is_pre ? n_pre : n_post));
                goto done;
            }
            if (ne == cap) {
                uint64_t nc = cap ? 2 * cap : 1024;
                wentry *ee = norn_realloc_n(e, (size_t)nc, sizeof *e);
                if (ee == NULL) {
                    st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory for %llu synapses", (unsigned long long)nc);
                    goto done;
                }
                e = ee;
                cap = nc;
            }
            e[ne++] = (wentry){(uint64_t)iq, (uint64_t)ip, (float)w};
        }
        got += m;
    }
    fclose(f);
    f = NULL;
    qsort(e, (size_t)ne, sizeof *e, cmp_wentry);
    if (n_pre > SIZE_MAX / sizeof(float) || (row = norn_calloc_n((size_t)n_pre, sizeof *row)) == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, out, "out of memory");
        goto done;
    }
    if ((st = norn_afile_open(&a, out, err)) != NORN_OK)
        goto done;
    a_open = 1;
    if ((st = npy_header(&a, "<f4", n_post, n_pre, err)) != NORN_OK)
        goto done;
    uint64_t j = 0;
    for (uint64_t rr = 0; rr < n_post; rr++) {
        for (; j < ne && e[j].row == rr; j++)
            row[e[j].col] += e[j].w;
        if (!host_le())
            for (uint64_t c = 0; c < n_pre; c++) {
                uint32_t v;
                memcpy(&v, &row[c], 4);
                v = __builtin_bswap32(v);
                memcpy(&row[c], &v, 4);
            }
        if ((st = put(&a, row, (size_t)n_pre * sizeof *row, err)) != NORN_OK)
            goto done;
        memset(row, 0, (size_t)n_pre * sizeof *row);
    }
    st = norn_afile_commit(&a, err);
    a_open = 0;
done:
    if (a_open)
        norn_afile_abort(&a);
    if (f)
        fclose(f);
    norn_free(hdr);
    norn_free(buf);
    norn_free(e);
    norn_free(row);
    return st;
}

/* ------------------------------------------------------------------ */
/* The command                                                          */

static const char export_usage[] =
    "usage: norn export DIR --to dense|sonata|csv [options]\n"
    "       norn export DIR --what weights --projection NAME [-o FILE]\n"
    "\n"
    "Writes a finished run's spikes (DIR/spikes.npy, DIR/run.json) in another format:\n"
    "  dense    [T, n] uint8 .npy: spikes per bin (saturating at 255) of each neuron,\n"
    "           rows (from + r bin, from + (r+1) bin], columns in global id order\n"
    "           (default FILE DIR/raster_dense.npy; all populations by default)\n"
    "  sonata   SONATA spike file (HDF5): /spikes/<population>/{timestamps, node_ids},\n"
    "           node ids local, sorted by time (default FILE DIR/spikes.h5)\n"
    "  csv      spikes.csv's columns time_ms,population,neuron (default FILE\n"
    "           DIR/spikes_export.csv)\n"
    "  --what weights --projection NAME: the last snapshot of DIR/weights_NAME.npy as a\n"
    "           dense float32 [post, pre] matrix (default FILE DIR/weights_NAME_dense.npy)\n"
    "\n"
    "options:\n"
    "  --to FORMAT | --format FORMAT   dense, sonata or csv\n"
    "  -o, --out FILE       output file\n"
    "  --bin MS             dense bin width (default: the run's resolution)\n"
    "  -p, --population P   this population (repeatable; sonata and csv default to\n"
    "                       the recorded ones)\n"
    "  --from MS, --to MS   the window (from, to] (default the whole run); --to takes\n"
    "                       a time when its value is a number\n"
    "\n"
    "Exit status: 0 ok ('wrote FILE'); 2 bad input (one line 'norn: where: what');\n"
    "1 failure while writing.\n";

static int set_format(out_format *fmt, const char *v, const char *opt)
{
    out_format f = strcmp(v, "dense") == 0    ? FMT_DENSE
                   : strcmp(v, "sonata") == 0 ? FMT_SONATA
                   : strcmp(v, "csv") == 0    ? FMT_CSV
                                              : FMT_NONE;
    if (f == FMT_NONE) {
        fprintf(stderr, "norn: %s: expected dense, sonata or csv%s, got '%s'\n", opt,
                strcmp(opt, "--to") == 0 ? " (or a time in ms)" : "", v);
        return 0;
    }
    if (*fmt != FMT_NONE && *fmt != f) {
        fprintf(stderr, "norn: %s: a second format '%s'; give one\n", opt, v);
        return 0;
    }
    *fmt = f;
    return 1;
}

int norn_cli_export(int argc, char **argv)
{
    enum { O_FROM = 256, O_TO, O_FORMAT, O_BIN, O_WHAT, O_PROJ };
    static const struct option opts[] = {{"to", required_argument, 0, O_TO},
                                         {"format", required_argument, 0, O_FORMAT},
                                         {"out", required_argument, 0, 'o'},
                                         {"bin", required_argument, 0, O_BIN},
                                         {"population", required_argument, 0, 'p'},
                                         {"from", required_argument, 0, O_FROM},
                                         {"what", required_argument, 0, O_WHAT},
                                         {"projection", required_argument, 0, O_PROJ},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    norn_err err;
    norn_err_clear(&err);
    out_format fmt = FMT_NONE;
    const char *out = NULL, *proj = NULL;
    double from = 0, to = 0, bin = 0;
    int have_from = 0, have_to = 0, have_bin = 0, weights = 0, n_names = 0, rc = 2, c;
    char **names = norn_calloc_n(argc > 0 ? (size_t)argc : 1, sizeof *names);
    run_data d;
    memset(&d, 0, sizeof d);
    selection sel;
    memset(&sel, 0, sizeof sel);
    char def_out[4400];
    if (names == NULL) {
        fprintf(stderr, "norn: out of memory\n");
        return 1;
    }
    optind = 0; /* full reset: tests call us more than once */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:p:h", opts, NULL)) != -1) {
        const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        switch (c) {
        case O_TO: {
            double v;
            if (norn__parse_num(optarg, &v)) {
                to = v;
                have_to = 1;
            } else if (!set_format(&fmt, optarg, "--to")) {
                goto done;
            }
            break;
        }
        case O_FORMAT:
            if (!set_format(&fmt, optarg, "--format"))
                goto done;
            break;
        case O_FROM:
            if (!norn__parse_num(optarg, &from)) {
                fprintf(stderr, "norn: --from: expected a time in ms, got '%s'\n", optarg);
                goto done;
            }
            have_from = 1;
            break;
        case O_BIN:
            if (!norn__parse_num(optarg, &bin) || !(bin > 0)) {
                fprintf(stderr, "norn: --bin: expected a bin width in ms > 0, got '%s'\n", optarg);
                goto done;
            }
            have_bin = 1;
            break;
        case O_WHAT:
            if (strcmp(optarg, "weights") == 0)
                weights = 1;
            else if (strcmp(optarg, "spikes") == 0)
                weights = 0;
            else {
                fprintf(stderr, "norn: --what: expected spikes or weights, got '%s'\n", optarg);
                goto done;
            }
            break;
        case O_PROJ: proj = optarg; break;
        case 'o': out = optarg; break;
        case 'p': names[n_names++] = optarg; break;
        case 'h':
            fputs(export_usage, stdout);
            rc = 0;
            goto done;
        case ':': fprintf(stderr, "norn: export: option '%s' needs a value\n", opt); goto done;
        default:
            if (optopt > 0 && optopt < 256)
                fprintf(stderr, "norn: export: unknown option '-%c'; see 'norn export --help'\n", optopt);
            else
                fprintf(stderr, "norn: export: unknown option '%s'; see 'norn export --help'\n", opt);
            goto done;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "norn: export: expected one run directory, got %d; see 'norn export --help'\n", argc - optind);
        goto done;
    }
    const char *dir = argv[optind];
    if (weights) {
        const char *bad = fmt == FMT_SONATA || fmt == FMT_CSV ? "--to"
                          : proj == NULL                      ? "--projection"
                          : n_names                           ? "--population"
                          : have_from || have_to              ? (have_from ? "--from" : "--to")
                          : have_bin                          ? "--bin"
                                                              : NULL;
        if (bad) {
            fprintf(stderr, "norn: %s: %s\n", bad,
                    strcmp(bad, "--projection") == 0 ? "--what weights needs --projection NAME"
                                                     : "not with --what weights (the last snapshot as a dense matrix)");
            goto done;
        }
        if (norn__run_read(dir, proj, &d.run, &err) != NORN_OK) {
            rc = fail_read(&err);
            goto done;
        }
        if (out == NULL) {
            snprintf(def_out, sizeof def_out, "%s/weights_%s_dense.npy", dir, proj);
            out = def_out;
        }
        if (export_weights(dir, &d.run, proj, out, &err) != NORN_OK) {
            rc = err.code == NORN_EPARSE || err.code == NORN_EINVAL ? fail_read(&err) : fail_write(&err);
            goto done;
        }
        printf("wrote %s\n", out);
        rc = 0;
        goto done;
    }
    if (proj) {
        fprintf(stderr, "norn: --projection: only with --what weights\n");
        goto done;
    }
    if (fmt == FMT_NONE) {
        fprintf(stderr, "norn: export: --to FORMAT is required (dense, sonata or csv)\n");
        goto done;
    }
    if (have_bin && fmt != FMT_DENSE) {
        fprintf(stderr, "norn: --bin: only for --to dense\n");
        goto done;
    }
    if (norn__run_read(dir, NULL, &d.run, &err) != NORN_OK) {
        rc = fail_read(&err);
        goto done;
    }
    if (!have_from)
        from = 0;
    if (!have_to)
        to = d.run.duration_ms;
    if (!(to > from)) {
        fprintf(stderr, "norn: %s: the window (%g, %g] ms is empty\n", have_to ? "--to" : "--from", from, to);
        goto done;
    }
    if (fmt == FMT_DENSE && !have_bin) {
        if (!(d.run.resolution_ms > 0)) {
            fprintf(stderr, "norn: %s: no resolution_ms; give --bin MS\n", d.run.json_path);
            goto done;
        }
        bin = d.run.resolution_ms;
    }
    if (out == NULL) {
        snprintf(def_out, sizeof def_out, "%s/%s", dir,
                 fmt == FMT_DENSE    ? "raster_dense.npy"
                 : fmt == FMT_SONATA ? "spikes.h5"
                                     : "spikes_export.csv");
        out = def_out;
    }
    {
        static const char *const own[] = {"spikes.npy", "spikes.csv", "run.json"};
        for (size_t k = 0; k < sizeof own / sizeof own[0]; k++) {
            char p[4400];
            snprintf(p, sizeof p, "%s/%s", dir, own[k]);
            if (same_file(out, p)) {
                fprintf(stderr, "norn: %s: is the run's own %s; choose another -o\n", out, own[k]);
                goto done;
            }
        }
    }
    if (load_spikes(dir, &d, &err) != NORN_OK ||
        select_pops(&d, names, n_names, fmt == FMT_DENSE, &sel, &err) != NORN_OK) {
        rc = fail_read(&err);
        goto done;
    }
    norn_status st = fmt == FMT_DENSE    ? export_dense(&d, &sel, from, to, bin, out, &err)
                     : fmt == FMT_SONATA ? export_sonata(&d, &sel, from, to, out, &err)
                                         : export_csv(&d, &sel, from, to, out, &err);
    if (st != NORN_OK) {
        rc = fail_write(&err);
        goto done;
    }
    printf("wrote %s\n", out);
    rc = 0;
done:
    fflush(stdout);
    selection_free(&sel);
    run_data_free(&d);
    norn_free(names);
    return rc;
}
