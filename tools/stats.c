/* tools/stats.c - spike train statistics of a run; see stats.h. */
#include "tools/stats.h"

#include <errno.h>
#include <getopt.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "engine/rng.h"
#include "io/fmt.h"
#include "io/json.h"
#include "io/npy.h"

/* Random stream purpose of the correlation sample: analysis only, far from
 * engine/rng.h's simulation purposes. */
#define STATS_SAMPLE 0x53544154u /* "STAT" */
#define MAX_POPS 65535u
#define EDGE_TOL 1e-9

/* ------------------------------------------------------------------ */
/* Shared helpers                                                       */

int norn__parse_num(const char *s, double *out)
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

int norn__parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

uint64_t norn__bin_of(double t, double from, double bin)
{
    double c = ceil((t - from) / bin - EDGE_TOL);
    if (!(c > 1))
        return 0;
    if (c >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)c - 1;
}

/* ------------------------------------------------------------------ */
/* run.json                                                             */

void norn__run_free(norn__run *r)
{
    for (uint32_t k = 0; r->pops && k < r->n_pops; k++)
        norn_free(r->pops[k].name);
    norn_free(r->pops);
    norn_free(r->json_path);
    norn_free(r->name);
    norn_free(r->mode);
    norn_free(r->proj_from);
    norn_free(r->proj_to);
    memset(r, 0, sizeof *r);
}

long norn__run_find(const norn__run *r, const char *name)
{
    for (uint32_t k = 0; k < r->n_pops; k++)
        if (strcmp(r->pops[k].name, name) == 0)
            return (long)k;
    return -1;
}

norn_status norn__run_unknown_pop(const norn__run *r, const char *opt, const char *name, norn_err *err)
{
    char known[400] = "";
    size_t o = 0;
    for (uint32_t k = 0; k < r->n_pops && o < sizeof known - 1; k++) {
        int w = snprintf(known + o, sizeof known - o, "%s%s", k ? ", " : "", r->pops[k].name);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    if (o >= sizeof known - 1)
        snprintf(known + sizeof known - 5, 5, "...");
    return NORN_FAIL(err, NORN_EINVAL, opt, "unknown population '%s'; known: %s", name, known);
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

static const char *scalar(struct fy_node *n) { return n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL; }

static struct fy_document *load_json(const char *path, norn_status *st, norn_err *err)
{
    char wb[4400];
    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL;
    dc.output_fn = diag_drop;
    dc.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dc);
    if (diag == NULL) {
        *st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
        return NULL;
    }
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg pc;
    memset(&pc, 0, sizeof pc);
    pc.flags = FYPCF_QUIET | FYPCF_JSON_FORCE;
    pc.diag = diag;
    struct fy_document *doc = fy_document_build_from_file(&pc, path);
    if (doc == NULL) {
        void *it = NULL;
        struct fy_diag_error *e, *first = NULL;
        while ((e = fy_diag_errors_iterate(diag, &it)) != NULL)
            if (first == NULL && e->type >= FYET_ERROR)
                first = e;
        if (first && first->line > 0) {
            snprintf(wb, sizeof wb, "%s:%d:%d", path, first->line, first->column > 0 ? first->column : 1);
            *st = NORN_FAIL(err, NORN_EPARSE, wb, "JSON syntax error: %s", first->msg ? first->msg : "?");
        } else {
            *st = NORN_FAIL(err, NORN_EPARSE, path, "JSON syntax error: %s",
                            first && first->msg ? first->msg : "no document");
        }
    }
    fy_diag_destroy(diag);
    return doc;
}

/* Population names of a projection's "from" or "to": a name or a list. */
static norn_status proj_side(const norn__run *r, const char *path, struct fy_node *n, const char *proj, const char *key,
                             uint32_t **idx, uint32_t *count, norn_err *err)
{
    char wb[4400];
    if (n == NULL)
        return NORN_FAIL(err, NORN_EPARSE, path, "projections '%s'.%s: missing", proj, key);
    int m = fy_node_is_sequence(n) ? fy_node_sequence_item_count(n) : 1;
    if (m <= 0)
        return NORN_FAIL(err, NORN_EPARSE, path, "projections '%s'.%s: empty list", proj, key);
    uint32_t *v = norn_malloc_n((size_t)m, sizeof *v);
    if (v == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
    for (int k = 0; k < m; k++) {
        struct fy_node *q = fy_node_is_sequence(n) ? fy_node_sequence_get_by_index(n, k) : n;
        const char *s = scalar(q);
        long p = s ? norn__run_find(r, s) : -1;
        if (p < 0) {
            norn_free(v);
            return NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, q), "projections '%s'.%s: %s%s%s", proj,
                             key, s ? "unknown population '" : "expected a population name", s ? s : "", s ? "'" : "");
        }
        for (int j = 0; j < k; j++)
            if (v[j] == (uint32_t)p) {
                norn_free(v);
                return NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, q),
                                 "projections '%s'.%s: population '%s' listed twice", proj, key, s);
            }
        v[k] = (uint32_t)p;
    }
    *idx = v;
    *count = (uint32_t)m;
    return NORN_OK;
}

norn_status norn__run_read(const char *dir, const char *projection, norn__run *out, norn_err *err)
{
    char wb[4400];
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return NORN_FAIL(err, NORN_EIO, dir, "no such directory");
    if (!S_ISDIR(sb.st_mode))
        return NORN_FAIL(err, NORN_EIO, dir, "not a directory");
    if (strlen(dir) > 4000)
        return NORN_FAIL(err, NORN_EIO, dir, "path too long");
    norn__run r;
    memset(&r, 0, sizeof r);
    norn_status st = NORN_OK;
    struct fy_document *doc = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    if ((r.json_path = norn_strdup(path)) == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        st = NORN_FAIL(err, NORN_EIO, path, "cannot open: %s (not a finished run?)", strerror(errno));
        goto done;
    }
    fclose(f);
    if ((doc = load_json(path, &st, err)) == NULL)
        goto done;
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
    if (!norn__parse_num(scalar(n), &r.duration_ms) || !(r.duration_ms > 0)) {
        st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, n),
                       "duration_ms: expected a time in ms > 0, got '%s'", scalar(n) ? scalar(n) : "(not a number)");
        goto done;
    }
    if ((n = get(root, "resolution_ms")) != NULL &&
        (!norn__parse_num(scalar(n), &r.resolution_ms) || !(r.resolution_ms > 0))) {
        st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, n),
                       "resolution_ms: expected a time in ms > 0, got '%s'", scalar(n) ? scalar(n) : "(not a number)");
        goto done;
    }
    const char *s;
    if ((s = scalar(get(root, "name"))) != NULL && (r.name = norn_strdup(s)) == NULL)
        goto oom;
    if ((s = scalar(get(root, "mode"))) != NULL && (r.mode = norn_strdup(s)) == NULL)
        goto oom;
    struct fy_node *ps = get(root, "populations");
    if (ps == NULL || !fy_node_is_sequence(ps) || fy_node_sequence_item_count(ps) <= 0) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "populations: %s", ps == NULL ? "missing" : "expected a non-empty list");
        goto done;
    }
    int np = fy_node_sequence_item_count(ps);
    if ((uint32_t)np > MAX_POPS) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "populations: more than %u", MAX_POPS);
        goto done;
    }
    if ((r.pops = norn_calloc_n((size_t)np, sizeof *r.pops)) == NULL)
        goto oom;
    for (int k = 0; k < np; k++) {
        struct fy_node *q = fy_node_sequence_get_by_index(ps, k);
        if (q == NULL || !fy_node_is_mapping(q)) {
            st = NORN_FAIL(err, NORN_EPARSE, path, "populations[%d]: expected an object", k);
            goto done;
        }
        struct fy_node *nm = get(q, "name"), *sz = get(q, "size"), *fi = get(q, "first_id"), *li = get(q, "last_id");
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
        if (norn__run_find(&r, scalar(nm)) >= 0) {
            st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, nm),
                           "populations[%d].name: '%s' appears twice", k, scalar(nm));
            goto done;
        }
        uint64_t size, first, lastv;
        if (!norn__parse_uint(scalar(sz), 1, UINT32_MAX - 1, &size)) {
            st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, sz),
                           "populations[%d].size: expected an integer >= 1, got '%s'", k,
                           scalar(sz) ? scalar(sz) : "(not a number)");
            goto done;
        }
        if (!norn__parse_uint(scalar(fi), 0, UINT32_MAX - 1, &first) || first + size > UINT32_MAX) {
            st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, fi),
                           "populations[%d].first_id: expected an id in 0..%llu, got '%s'", k,
                           (unsigned long long)(UINT32_MAX - size), scalar(fi) ? scalar(fi) : "(not a number)");
            goto done;
        }
        if (li && (!norn__parse_uint(scalar(li), 0, UINT32_MAX, &lastv) || lastv != first + size - 1)) {
            st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, li),
                           "populations[%d].last_id: expected first_id + size - 1 = %llu, got '%s'", k,
                           (unsigned long long)(first + size - 1), scalar(li) ? scalar(li) : "(not a number)");
            goto done;
        }
        for (int j = 0; j < k; j++) {
            const norn__run_pop *o = &r.pops[j];
            if (first < (uint64_t)o->first_id + o->size && o->first_id < first + size) {
                st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, fi),
                               "populations[%d]: ids %llu..%llu overlap those of '%s'", k, (unsigned long long)first,
                               (unsigned long long)(first + size - 1), o->name);
                goto done;
            }
        }
        const char *rec = scalar(get(q, "recorded"));
        r.pops[k].recorded = rec == NULL || strcmp(rec, "none") != 0;
        r.pops[k].first_id = (uint32_t)first;
        r.pops[k].size = (uint32_t)size;
        if ((r.pops[k].name = norn_strdup(scalar(nm))) == NULL)
            goto oom;
        r.n_pops = (uint32_t)k + 1;
    }
    if (projection) {
        struct fy_node *pj = get(root, "projections"), *hit = NULL;
        int m = pj && fy_node_is_sequence(pj) ? fy_node_sequence_item_count(pj) : 0;
        for (int k = 0; k < m && !hit; k++) {
            struct fy_node *q = fy_node_sequence_get_by_index(pj, k);
            const char *nm = scalar(get(q, "name"));
            if (nm && strcmp(nm, projection) == 0)
                hit = q;
        }
        if (hit == NULL) {
            char known[400] = "";
            size_t o = 0;
            for (int k = 0; k < m && o < sizeof known - 1; k++) {
                const char *nm = scalar(get(fy_node_sequence_get_by_index(pj, k), "name"));
                int w = snprintf(known + o, sizeof known - o, "%s%s", o ? ", " : "", nm ? nm : "?");
                if (w < 0)
                    break;
                o += (size_t)w;
            }
            st = NORN_FAIL(err, NORN_EINVAL, "--projection", "unknown projection '%s'; %s%s", projection,
                           m ? "run.json lists: " : "run.json lists no projections", known);
            goto done;
        }
        if ((st = proj_side(&r, path, get(hit, "from"), projection, "from", &r.proj_from, &r.n_from, err)) != NORN_OK ||
            (st = proj_side(&r, path, get(hit, "to"), projection, "to", &r.proj_to, &r.n_to, err)) != NORN_OK)
            goto done;
        for (uint32_t k = 0; k < r.n_from; k++)
            r.pre_size += r.pops[r.proj_from[k]].size;
        for (uint32_t k = 0; k < r.n_to; k++)
            r.post_size += r.pops[r.proj_to[k]].size;
        static const char *const size_keys[2] = {"pre_size", "post_size"};
        for (int k = 0; k < 2; k++) {
            struct fy_node *q = get(hit, size_keys[k]);
            uint64_t want = k ? r.post_size : r.pre_size, v;
            if (q && (!norn__parse_uint(scalar(q), 0, UINT64_MAX, &v) || v != want)) {
                st = NORN_FAIL(err, NORN_EPARSE, where_of(wb, sizeof wb, path, q),
                               "projections '%s'.%s: '%s', but its %s populations have %llu neurons", projection,
                               size_keys[k], scalar(q) ? scalar(q) : "(not a number)", k ? "to" : "from",
                               (unsigned long long)want);
                goto done;
            }
        }
    }
    *out = r;
    memset(&r, 0, sizeof r);
    goto done;
oom:
    st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
done:
    norn__run_free(&r);
    if (doc)
        fy_document_destroy(doc);
    return st;
}

/* ------------------------------------------------------------------ */
/* Statistics                                                           */

typedef struct {
    uint32_t size;
    uint64_t *off; /* [size + 1] offsets of each neuron's times */
    double *t;     /* [spikes] grouped by neuron, sorted within */
} trains;

static void trains_free(trains *tr)
{
    norn_free(tr->off);
    norn_free(tr->t);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The spikes of neurons first..first+size-1 in (from, to], by neuron. */
static norn_status group(const double *t, const uint32_t *g, uint64_t n, uint32_t first, uint32_t size, double from,
                         double to, trains *tr, norn_err *err)
{
    tr->size = size;
    tr->t = NULL;
    tr->off = norn_calloc_n((size_t)size + 1, sizeof *tr->off);
    if (tr->off == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, "stats", "out of memory for %u neurons", size);
    for (uint64_t k = 0; k < n; k++) {
        uint32_t i = g[k] - first; /* wraps below first */
        if (i < size && t[k] > from && t[k] <= to)
            tr->off[i + 1]++;
    }
    for (uint32_t i = 0; i < size; i++)
        tr->off[i + 1] += tr->off[i];
    uint64_t m = tr->off[size];
    uint64_t *fill = norn_malloc_n((size_t)size + 1, sizeof *fill);
    tr->t = norn_malloc_n(m ? m : 1, sizeof *tr->t);
    if (fill == NULL || tr->t == NULL) {
        norn_free(fill);
        trains_free(tr);
        tr->off = NULL;
        tr->t = NULL;
        return NORN_FAIL(err, NORN_ENOMEM, "stats", "out of memory for %llu spikes", (unsigned long long)m);
    }
    memcpy(fill, tr->off, ((size_t)size + 1) * sizeof *fill);
    for (uint64_t k = 0; k < n; k++) {
        uint32_t i = g[k] - first;
        if (i < size && t[k] > from && t[k] <= to)
            tr->t[fill[i]++] = t[k];
    }
    norn_free(fill);
    for (uint32_t i = 0; i < size; i++) {
        double *v = tr->t + tr->off[i];
        size_t c = (size_t)(tr->off[i + 1] - tr->off[i]);
        for (size_t j = 1; j < c; j++)
            if (v[j] < v[j - 1]) {
                qsort(v, c, sizeof *v, cmp_double);
                break;
            }
    }
    return NORN_OK;
}

/* Sum and sum of squares of neuron i's counts over B bins of width bin. */
static void bin_sums(const trains *tr, uint32_t i, double from, double bin, uint64_t B, double *s1, double *s2)
{
    double a = 0, q = 0;
    uint64_t cur = UINT64_MAX, c = 0;
    for (uint64_t j = tr->off[i]; j < tr->off[i + 1]; j++) {
        uint64_t b = norn__bin_of(tr->t[j], from, bin);
        if (b >= B)
            break; /* sorted: the rest are later */
        if (b != cur) {
            q += (double)c * (double)c;
            cur = b;
            c = 0;
        }
        c++;
        a += 1;
    }
    q += (double)c * (double)c;
    *s1 = a;
    *s2 = q;
}

static uint64_t full_bins(double span, double bin) { return (uint64_t)floor(span / bin + EDGE_TOL); }

static void cv_isi(const trains *tr, norn_stats_pop *o)
{
    double sum = 0;
    uint32_t m = 0;
    for (uint32_t i = 0; i < tr->size; i++) {
        uint64_t a = tr->off[i], b = tr->off[i + 1];
        if (b - a < 3)
            continue;
        double n = (double)(b - a - 1), mean = (tr->t[b - 1] - tr->t[a]) / n, ss = 0;
        for (uint64_t j = a + 1; j < b; j++) {
            double d = tr->t[j] - tr->t[j - 1] - mean;
            ss += d * d;
        }
        if (!(mean > 0))
            continue; /* all at one time: no interval */
        sum += sqrt(ss / (n - 1)) / mean;
        m++;
    }
    o->cv_neurons = m;
    o->cv_isi = m ? sum / m : NAN;
}

static norn_status fano(const trains *tr, const norn_stats_opts *op, norn_stats_pop *o, norn_err *err)
{
    uint64_t B = full_bins(op->t_to_ms - op->t_from_ms, op->fano_bin_ms);
    o->fano_bins = B;
    o->fano = o->fano_pop = NAN;
    o->fano_neurons = 0;
    if (B < 2)
        return NORN_OK;
    if (B > SIZE_MAX / sizeof(uint64_t))
        return NORN_FAIL(err, NORN_EINVAL, "--fano-bin", "%llu bins are too many", (unsigned long long)B);
    uint64_t *pc = norn_calloc_n((size_t)B, sizeof *pc);
    if (pc == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, "stats", "out of memory for %llu bins", (unsigned long long)B);
    double sum = 0, Bd = (double)B;
    uint32_t m = 0;
    for (uint32_t i = 0; i < tr->size; i++) {
        double s1, s2;
        bin_sums(tr, i, op->t_from_ms, op->fano_bin_ms, B, &s1, &s2);
        for (uint64_t j = tr->off[i]; j < tr->off[i + 1]; j++) {
            uint64_t b = norn__bin_of(tr->t[j], op->t_from_ms, op->fano_bin_ms);
            if (b >= B)
                break;
            pc[b]++;
        }
        if (s1 > 0) {
            double var = (Bd * s2 - s1 * s1) / (Bd * (Bd - 1)), mean = s1 / Bd;
            sum += var / mean;
            m++;
        }
    }
    double p1 = 0, p2 = 0;
    for (uint64_t b = 0; b < B; b++) {
        p1 += (double)pc[b];
        p2 += (double)pc[b] * (double)pc[b];
    }
    norn_free(pc);
    o->fano_neurons = m;
    o->fano = m ? sum / m : NAN;
    if (p1 > 0)
        o->fano_pop = ((Bd * p2 - p1 * p1) / (Bd * (Bd - 1))) / (p1 / Bd);
    return NORN_OK;
}

/* One sampled neuron's non-empty bins. */
typedef struct {
    uint64_t *bin;
    uint32_t *cnt;
    uint64_t nb;
    double s1, s2;
} sparse_row;

static norn_status correlation(const trains *tr, uint32_t pop_index, const norn_stats_opts *op, norn_stats_pop *o,
                               norn_err *err)
{
    double bw = op->corr_bin_ms, from = op->t_from_ms;
    uint64_t B = full_bins(op->t_to_ms - from, bw);
    o->corr_bins = B;
    o->corr = NAN;
    o->corr_neurons = 0;
    o->corr_pairs = 0;
    if (B < 2)
        return NORN_OK;
    double Bd = (double)B;
    uint32_t *cand = norn_malloc_n(tr->size, sizeof *cand);
    if (cand == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, "stats", "out of memory");
    uint32_t nc = 0;
    for (uint32_t i = 0; i < tr->size; i++) {
        double s1, s2;
        bin_sums(tr, i, from, bw, B, &s1, &s2);
        if (Bd * s2 - s1 * s1 > 0)
            cand[nc++] = i;
    }
    uint32_t K = op->sample < nc ? op->sample : nc;
    /* partial Fisher-Yates: the first K of cand become the sample */
    norn_rng rng = norn_rng_stream(op->seed, STATS_SAMPLE, pop_index);
    for (uint32_t k = 0; k < K; k++) {
        uint32_t j = k + (uint32_t)(norn_rng_uniform(&rng) * (double)(nc - k));
        if (j >= nc)
            j = nc - 1;
        uint32_t x = cand[k];
        cand[k] = cand[j];
        cand[j] = x;
    }
    o->corr_neurons = K;
    if (K < 2) {
        norn_free(cand);
        return NORN_OK;
    }
    sparse_row *rows = norn_calloc_n(K, sizeof *rows);
    norn_status st = NORN_OK;
    if (rows == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, "stats", "out of memory");
        goto done;
    }
    for (uint32_t k = 0; k < K; k++) {
        uint32_t i = cand[k];
        uint64_t c = tr->off[i + 1] - tr->off[i];
        sparse_row *r = &rows[k];
        r->bin = norn_malloc_n(c ? c : 1, sizeof *r->bin);
        r->cnt = norn_malloc_n(c ? c : 1, sizeof *r->cnt);
        if (r->bin == NULL || r->cnt == NULL) {
            st = NORN_FAIL(err, NORN_ENOMEM, "stats", "out of memory");
            goto done;
        }
        for (uint64_t j = tr->off[i]; j < tr->off[i + 1]; j++) {
            uint64_t b = norn__bin_of(tr->t[j], from, bw);
            if (b >= B)
                break;
            if (r->nb && r->bin[r->nb - 1] == b) {
                r->cnt[r->nb - 1]++;
            } else {
                r->bin[r->nb] = b;
                r->cnt[r->nb++] = 1;
            }
        }
        for (uint64_t j = 0; j < r->nb; j++) {
            r->s1 += r->cnt[j];
            r->s2 += (double)r->cnt[j] * r->cnt[j];
        }
    }
    double sum = 0;
    for (uint32_t a = 0; a < K; a++)
        for (uint32_t b = a + 1; b < K; b++) {
            const sparse_row *x = &rows[a], *y = &rows[b];
            double sxy = 0;
            for (uint64_t i = 0, j = 0; i < x->nb && j < y->nb;) {
                if (x->bin[i] < y->bin[j])
                    i++;
                else if (x->bin[i] > y->bin[j])
                    j++;
                else
                    sxy += (double)x->cnt[i++] * y->cnt[j++];
            }
            double vx = Bd * x->s2 - x->s1 * x->s1, vy = Bd * y->s2 - y->s1 * y->s1;
            sum += (Bd * sxy - x->s1 * y->s1) / sqrt(vx * vy);
        }
    o->corr_pairs = (uint64_t)K * (K - 1) / 2;
    o->corr = sum / (double)o->corr_pairs;
done:
    for (uint32_t k = 0; rows && k < K; k++) {
        norn_free(rows[k].bin);
        norn_free(rows[k].cnt);
    }
    norn_free(rows);
    norn_free(cand);
    return st;
}

static norn_status check_opts(const norn_stats_opts *o, norn_err *err)
{
    if (!isfinite(o->t_from_ms) || !isfinite(o->t_to_ms) || !(o->t_to_ms > o->t_from_ms))
        return NORN_FAIL(err, NORN_EINVAL, "--to", "the window (%g, %g] ms is empty", o->t_from_ms, o->t_to_ms);
    if (!(o->fano_bin_ms > 0) || !isfinite(o->fano_bin_ms))
        return NORN_FAIL(err, NORN_EINVAL, "--fano-bin", "expected a bin in ms > 0, got %g", o->fano_bin_ms);
    if (!(o->corr_bin_ms > 0) || !isfinite(o->corr_bin_ms))
        return NORN_FAIL(err, NORN_EINVAL, "--corr-bin", "expected a bin in ms > 0, got %g", o->corr_bin_ms);
    if (o->sample < 2)
        return NORN_FAIL(err, NORN_EINVAL, "--sample", "expected at least 2 neurons, got %u", o->sample);
    double span = o->t_to_ms - o->t_from_ms;
    if (span / o->fano_bin_ms > 1e9 || span / o->corr_bin_ms > 1e9)
        return NORN_FAIL(err, NORN_EINVAL, span / o->fano_bin_ms > 1e9 ? "--fano-bin" : "--corr-bin",
                         "more than 1e9 bins in the window; take a wider bin");
    return NORN_OK;
}

norn_status norn_stats_population(const double *time_ms, const uint32_t *gid, uint64_t n, uint32_t first_id,
                                  uint32_t size, uint32_t pop_index, const norn_stats_opts *opts, norn_stats_pop *out,
                                  norn_err *err)
{
    if (opts == NULL || out == NULL || size == 0 || (n && (time_ms == NULL || gid == NULL)))
        return NORN_FAIL(err, NORN_EINVAL, "stats", "bad arguments");
    norn_status st = check_opts(opts, err);
    if (st != NORN_OK)
        return st;
    trains tr;
    if ((st = group(time_ms, gid, n, first_id, size, opts->t_from_ms, opts->t_to_ms, &tr, err)) != NORN_OK)
        return st;
    norn_stats_pop o;
    memset(&o, 0, sizeof o);
    o.neurons = size;
    o.spikes = tr.off[size];
    o.rate_hz = (double)o.spikes / size / ((opts->t_to_ms - opts->t_from_ms) / 1000.0);
    cv_isi(&tr, &o);
    if ((st = fano(&tr, opts, &o, err)) == NORN_OK && (st = correlation(&tr, pop_index, opts, &o, err)) == NORN_OK)
        *out = o;
    trains_free(&tr);
    return st;
}

/* ------------------------------------------------------------------ */
/* The command                                                          */

static const char stats_usage[] = "usage: norn stats DIR [options]\n"
                                  "\n"
                                  "Spike train statistics of a finished run (DIR/run.json, DIR/spikes.npy),\n"
                                  "per population: neurons, spikes, mean rate, CV of the inter-spike\n"
                                  "intervals, Fano factor of binned counts, mean pairwise correlation.\n"
                                  "\n"
                                  "options:\n"
                                  "  --json              one JSON object on stdout instead of the table\n"
                                  "  -p, --population P  this population (repeatable; default: all recorded)\n"
                                  "  --from MS, --to MS  the window (from, to] (default (0, duration])\n"
                                  "  --sample K          neurons sampled for the correlation (default 100)\n"
                                  "  --bin MS            bin of both the Fano factor and the correlation\n"
                                  "  --fano-bin MS       bin of the Fano factor (default 100 ms)\n"
                                  "  --corr-bin MS       bin of the correlation (default 5 ms)\n"
                                  "  --seed N            seed of the correlation sample (default 1)\n"
                                  "\n"
                                  "CV: sd/mean of each neuron's intervals (>= 3 spikes), averaged over\n"
                                  "neurons. Fano: var/mean of each neuron's counts over full bins, averaged\n"
                                  "over neurons with spikes (\"pop\": of the population's summed count).\n"
                                  "Correlation: mean Pearson coefficient of binned counts over all pairs of\n"
                                  "K neurons drawn (by the seed) among those whose counts vary. Variances\n"
                                  "use n - 1. A figure that cannot be computed shows '-' (null in JSON).\n"
                                  "Exit status: 0 ok; 2 bad input (one line 'norn: where: what'); 1 out of memory.\n";

static int fail_line(const norn_err *err)
{
    char buf[1024];
    fprintf(stderr, "norn: %s\n", norn_err_format(err, buf, sizeof buf));
    return err->code == NORN_ENOMEM ? 1 : 2;
}

static void fmt_cell(char *buf, size_t cap, double x, int dec, uint64_t n, int with_n)
{
    if (isnan(x))
        snprintf(buf, cap, "-");
    else if (with_n)
        snprintf(buf, cap, "%.*f (%llu)", dec, x, (unsigned long long)n);
    else
        snprintf(buf, cap, "%.*f", dec, x);
}

static void print_table(const char *dir, const norn__run *r, const norn_stats_opts *o, const uint32_t *sel,
                        uint32_t n_sel, const norn_stats_pop *res)
{
    printf("norn stats: %s", dir);
    if (r->name)
        printf(" (%s%s%s)", r->name, r->mode ? ", " : "", r->mode ? r->mode : "");
    printf(", window (%g, %g] ms\n", o->t_from_ms, o->t_to_ms);
    size_t w = 10;
    for (uint32_t k = 0; k < n_sel; k++)
        if (strlen(r->pops[sel[k]].name) > w)
            w = strlen(r->pops[sel[k]].name);
    printf("%-*s %9s %11s %10s %18s %18s %10s %18s\n", (int)w, "population", "neurons", "spikes", "rate (Hz)",
           "CV ISI (n)", "Fano (n)", "Fano pop", "corr (n)");
    for (uint32_t k = 0; k < n_sel; k++) {
        const norn_stats_pop *p = &res[k];
        char cv[48], fa[48], fp[48], co[48];
        fmt_cell(cv, sizeof cv, p->cv_isi, 3, p->cv_neurons, 1);
        fmt_cell(fa, sizeof fa, p->fano, 3, p->fano_neurons, 1);
        fmt_cell(fp, sizeof fp, p->fano_pop, 3, 0, 0);
        fmt_cell(co, sizeof co, p->corr, 4, p->corr_neurons, 1);
        printf("%-*s %9u %11llu %10.3f %18s %18s %10s %18s\n", (int)w, r->pops[sel[k]].name, p->neurons,
               (unsigned long long)p->spikes, p->rate_hz, cv, fa, fp, co);
    }
    printf("Fano: %g ms bins (%llu in the window); correlation: %g ms bins, up to %u neurons, seed %llu\n",
           o->fano_bin_ms, n_sel ? (unsigned long long)res[0].fano_bins : 0ULL, o->corr_bin_ms, o->sample,
           (unsigned long long)o->seed);
}

static int print_json(const char *dir, const norn__run *r, const norn_stats_opts *o, const uint32_t *sel,
                      uint32_t n_sel, const norn_stats_pop *res)
{
    norn_json j;
    norn_json_init(&j);
    if (j.fail)
        return -1;
    struct fy_node *root = norn_json_map(&j), *pops = norn_json_seq(&j);
    norn_json_set(&j, root, "dir", norn_json_str(&j, dir));
    norn_json_set(&j, root, "name", r->name ? norn_json_str(&j, r->name) : norn_json_num(&j, NAN));
    norn_json_set(&j, root, "from_ms", norn_json_num(&j, o->t_from_ms));
    norn_json_set(&j, root, "to_ms", norn_json_num(&j, o->t_to_ms));
    norn_json_set(&j, root, "fano_bin_ms", norn_json_num(&j, o->fano_bin_ms));
    norn_json_set(&j, root, "corr_bin_ms", norn_json_num(&j, o->corr_bin_ms));
    norn_json_set(&j, root, "sample", norn_json_int(&j, o->sample));
    norn_json_set(&j, root, "seed", norn_json_int(&j, o->seed));
    for (uint32_t k = 0; k < n_sel && !j.fail; k++) {
        const norn_stats_pop *p = &res[k];
        struct fy_node *m = norn_json_map(&j);
        norn_json_set(&j, m, "name", norn_json_str(&j, r->pops[sel[k]].name));
        norn_json_set(&j, m, "neurons", norn_json_int(&j, p->neurons));
        norn_json_set(&j, m, "spikes", norn_json_int(&j, p->spikes));
        norn_json_set(&j, m, "rate_hz", norn_json_num(&j, p->rate_hz));
        norn_json_set(&j, m, "cv_isi", norn_json_num(&j, p->cv_isi));
        norn_json_set(&j, m, "cv_neurons", norn_json_int(&j, p->cv_neurons));
        norn_json_set(&j, m, "fano", norn_json_num(&j, p->fano));
        norn_json_set(&j, m, "fano_neurons", norn_json_int(&j, p->fano_neurons));
        norn_json_set(&j, m, "fano_pop", norn_json_num(&j, p->fano_pop));
        norn_json_set(&j, m, "fano_bins", norn_json_int(&j, p->fano_bins));
        norn_json_set(&j, m, "corr", norn_json_num(&j, p->corr));
        norn_json_set(&j, m, "corr_neurons", norn_json_int(&j, p->corr_neurons));
        norn_json_set(&j, m, "corr_pairs", norn_json_int(&j, p->corr_pairs));
        norn_json_set(&j, m, "corr_bins", norn_json_int(&j, p->corr_bins));
        norn_json_append(&j, pops, m);
    }
    norn_json_set(&j, root, "populations", pops);
    char *text = norn_json_finish(&j, root);
    if (text == NULL)
        return -1;
    fputs(text, stdout);
    size_t len = strlen(text);
    if (len == 0 || text[len - 1] != '\n')
        fputc('\n', stdout);
    free(text);
    return 0;
}

int norn_cli_stats(int argc, char **argv)
{
    enum { O_JSON = 256, O_FROM, O_TO, O_SAMPLE, O_BIN, O_FBIN, O_CBIN, O_SEED };
    static const struct option opts[] = {{"json", no_argument, 0, O_JSON},
                                         {"population", required_argument, 0, 'p'},
                                         {"from", required_argument, 0, O_FROM},
                                         {"to", required_argument, 0, O_TO},
                                         {"sample", required_argument, 0, O_SAMPLE},
                                         {"bin", required_argument, 0, O_BIN},
                                         {"fano-bin", required_argument, 0, O_FBIN},
                                         {"corr-bin", required_argument, 0, O_CBIN},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    norn_err err;
    norn_err_clear(&err);
    norn_stats_opts o = {.fano_bin_ms = NORN_STATS_FANO_BIN_MS,
                         .corr_bin_ms = NORN_STATS_CORR_BIN_MS,
                         .sample = NORN_STATS_SAMPLE,
                         .seed = 1};
    int json = 0, have_from = 0, have_to = 0, n_names = 0, rc = 2, c;
    char **names = norn_calloc_n(argc > 0 ? (size_t)argc : 1, sizeof *names);
    norn__run r;
    memset(&r, 0, sizeof r);
    double *t = NULL;
    uint32_t *g = NULL, *sel = NULL;
    norn_stats_pop *res = NULL;
    uint64_t n = 0, v;
    if (names == NULL) {
        fprintf(stderr, "norn: out of memory\n");
        return 1;
    }
    optind = 0; /* full reset: tests call us more than once */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:h", opts, NULL)) != -1) {
        const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        switch (c) {
        case O_JSON: json = 1; break;
        case 'p': names[n_names++] = optarg; break;
        case O_FROM:
        case O_TO:
            if (!norn__parse_num(optarg, c == O_FROM ? &o.t_from_ms : &o.t_to_ms)) {
                fprintf(stderr, "norn: %s: expected a time in ms, got '%s'\n", c == O_FROM ? "--from" : "--to", optarg);
                goto done;
            }
            *(c == O_FROM ? &have_from : &have_to) = 1;
            break;
        case O_SAMPLE:
            if (!norn__parse_uint(optarg, 2, UINT32_MAX, &v)) {
                fprintf(stderr, "norn: --sample: expected a number of neurons >= 2, got '%s'\n", optarg);
                goto done;
            }
            o.sample = (uint32_t)v;
            break;
        case O_BIN:
        case O_FBIN:
        case O_CBIN: {
            double b;
            const char *name = c == O_BIN ? "--bin" : c == O_FBIN ? "--fano-bin" : "--corr-bin";
            if (!norn__parse_num(optarg, &b) || !(b > 0)) {
                fprintf(stderr, "norn: %s: expected a bin width in ms > 0, got '%s'\n", name, optarg);
                goto done;
            }
            if (c != O_CBIN)
                o.fano_bin_ms = b;
            if (c != O_FBIN)
                o.corr_bin_ms = b;
            break;
        }
        case O_SEED:
            if (!norn__parse_uint(optarg, 0, UINT64_MAX, &v)) {
                fprintf(stderr, "norn: --seed: expected a non-negative integer, got '%s'\n", optarg);
                goto done;
            }
            o.seed = v;
            break;
        case 'h':
            fputs(stats_usage, stdout);
            rc = 0;
            goto done;
        case ':': fprintf(stderr, "norn: stats: option '%s' needs a value\n", opt); goto done;
        default:
            if (optopt > 0 && optopt < 256)
                fprintf(stderr, "norn: stats: unknown option '-%c'; see 'norn stats --help'\n", optopt);
            else
                fprintf(stderr, "norn: stats: unknown option '%s'; see 'norn stats --help'\n", opt);
            goto done;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "norn: stats: expected one run directory, got %d; see 'norn stats --help'\n", argc - optind);
        goto done;
    }
    const char *dir = argv[optind];
    if (norn__run_read(dir, NULL, &r, &err) != NORN_OK) {
        rc = fail_line(&err);
        goto done;
    }
    if ((sel = norn_calloc_n(r.n_pops, sizeof *sel)) == NULL) {
        fprintf(stderr, "norn: out of memory\n");
        rc = 1;
        goto done;
    }
    uint32_t n_sel = 0;
    for (int k = 0; k < n_names; k++) {
        long p = norn__run_find(&r, names[k]);
        if (p < 0) {
            norn__run_unknown_pop(&r, "--population", names[k], &err);
            rc = fail_line(&err);
            goto done;
        }
        if (!r.pops[p].recorded) {
            NORN_FAIL(&err, NORN_EINVAL, "--population", "population '%s': its spikes were not recorded (%s)", names[k],
                      r.json_path);
            rc = fail_line(&err);
            goto done;
        }
    }
    for (uint32_t k = 0; k < r.n_pops; k++) {
        int want = n_names == 0 ? r.pops[k].recorded : 0;
        for (int j = 0; j < n_names; j++)
            want |= strcmp(r.pops[k].name, names[j]) == 0;
        if (want)
            sel[n_sel++] = k;
    }
    if (n_sel == 0) {
        NORN_FAIL(&err, NORN_EINVAL, r.json_path, "no population has recorded spikes");
        rc = fail_line(&err);
        goto done;
    }
    if (!have_from)
        o.t_from_ms = 0;
    if (!have_to)
        o.t_to_ms = r.duration_ms;
    if (!(o.t_to_ms > o.t_from_ms)) {
        fprintf(stderr, "norn: %s: the window (%g, %g] ms is empty\n", have_to ? "--to" : "--from", o.t_from_ms,
                o.t_to_ms);
        goto done;
    }
    char npy[4200];
    snprintf(npy, sizeof npy, "%s/spikes.npy", dir);
    if (norn_npy_read_spikes(npy, &t, &g, &n, &err) != NORN_OK) {
        rc = fail_line(&err);
        goto done;
    }
    if (g == NULL) {
        fprintf(stderr, "norn: %s: no neuron field (a 1-D array of times only)\n", npy);
        goto done;
    }
    if ((res = norn_calloc_n(n_sel, sizeof *res)) == NULL) {
        fprintf(stderr, "norn: out of memory\n");
        rc = 1;
        goto done;
    }
    for (uint32_t k = 0; k < n_sel; k++) {
        const norn__run_pop *p = &r.pops[sel[k]];
        if (norn_stats_population(t, g, n, p->first_id, p->size, sel[k], &o, &res[k], &err) != NORN_OK) {
            rc = fail_line(&err);
            goto done;
        }
    }
    if (json) {
        if (print_json(dir, &r, &o, sel, n_sel, res) != 0) {
            fprintf(stderr, "norn: stats: cannot build the JSON output (out of memory)\n");
            rc = 1;
            goto done;
        }
    } else {
        print_table(dir, &r, &o, sel, n_sel, res);
    }
    fflush(stdout);
    rc = 0;
done:
    norn_free(res);
    norn_free(sel);
    norn_free(t);
    norn_free(g);
    norn__run_free(&r);
    norn_free(names);
    return rc;
}
