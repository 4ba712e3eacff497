/* io/desc.c - the network description parser (contract in desc.h).
 *
 * libfyaml builds the document tree with duplicate keys allowed and aliases
 * left unresolved: duplicates are caught here with the key's name and path,
 * and aliases are followed when a value is read, so positions stay those of
 * the source text. Then one pass reads the tree by schema: simulation first
 * (the resolution is needed for delays and intervals), populations (their
 * names are needed by everything else), stimuli, projections, record. The
 * first error stops the pass at the node it is about; the half-filled
 * description is freed and *out is left alone.
 *
 * Positions: libfyaml 0.7.12 has no fy_node_get_start_mark(). A scalar's
 * position is its token's start mark; a mapping's or sequence's is that of
 * its first scalar (for a flow collection, the first item, one column after
 * the bracket); an empty collection or a null value falls back to its key.
 * Printed lines and columns are 1-based.
 *
 * Memory: everything the description keeps comes from engine/mem.h; the
 * YAML tree is libfyaml's own and is destroyed before returning.
 */
#include "io/desc.h"
#include "models/euler.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"

typedef struct fy_node node;

typedef struct {
    const char *name; /* the description's name, first part of every where */
    const char *text; /* its text and length, to refine positions */
    size_t len;
    char *dir;        /* its directory, for relative file names; NULL: as given */
    norn_err *err;
    norn_desc *d;
    node *root;
} ctx;

/* A key and its value (alias resolved) in a mapping; key NULL if absent. */
typedef struct {
    node *key, *val;
} slot;

#define TRY(x)                          \
    do {                                \
        norn_status st_ = (x);          \
        if (st_ != NORN_OK)             \
            return st_;                 \
    } while (0)

#define PATH_LEN 256
#define LIST_LEN 400

/* ------------------------------------------------------------------ */
/* Positions and errors                                                */

/* Position of n (1-based) from its token, or of its first item; 0 if none.
 * Token marks of quoted scalars and aliases point after the quote or '*',
 * and a flow collection has no token of its own: both are moved back to
 * the opening character by looking at the source text. */
static int mark_of(const ctx *c, node *n, int *line, int *col, int depth)
{
    if (n == NULL || depth > 512)
        return 0;
    switch (fy_node_get_type(n)) {
    case FYNT_SCALAR: {
        struct fy_token *t = fy_node_get_scalar_token(n);
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
        if (m == NULL)
            return 0;
        *line = m->line + 1;
        *col = m->column + 1;
        enum fy_node_style st = fy_node_get_style(n);
        char open = st == FYNS_SINGLE_QUOTED ? '\'' : st == FYNS_DOUBLE_QUOTED ? '"' : st == FYNS_ALIAS ? '*' : 0;
        if (open && m->input_pos > 0 && m->input_pos <= c->len && c->text[m->input_pos - 1] == open && *col > 1)
            (*col)--;
        return 1;
    }
    case FYNT_MAPPING:
    case FYNT_SEQUENCE:
        break;
    }
    void *it = NULL;
    node *first = NULL;
    if (fy_node_get_type(n) == FYNT_MAPPING) {
        struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
        if (p == NULL)
            return 0;
        first = fy_node_pair_key(p);
        if (!mark_of(c, first, line, col, depth + 1) && !mark_of(c, fy_node_pair_value(p), line, col, depth + 1))
            return 0;
    } else {
        first = fy_node_sequence_iterate(n, &it);
        if (!mark_of(c, first, line, col, depth + 1))
            return 0;
    }
    if (fy_node_get_style(n) != FYNS_FLOW || c->text == NULL)
        return 1;
    /* Walk back from the first scalar inside n over blanks and one opening
     * bracket per flow level down to it; anything else (an anchor, a tag, a
     * comment) keeps the item's position. */
    int levels = 1;
    node *f = first;
    while (f != NULL && fy_node_get_type(f) != FYNT_SCALAR && levels < 512) {
        void *it2 = NULL;
        levels++;
        if (fy_node_get_type(f) == FYNT_MAPPING) {
            struct fy_node_pair *p = fy_node_mapping_iterate(f, &it2);
            f = p ? fy_node_pair_key(p) : NULL;
        } else {
            f = fy_node_sequence_iterate(f, &it2);
        }
    }
    struct fy_token *t = f ? fy_node_get_scalar_token(f) : NULL;
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    if (m == NULL || m->input_pos > c->len)
        return 1;
    size_t pos = m->input_pos;
    enum fy_node_style st = fy_node_get_style(f);
    if (pos > 0 && (st == FYNS_SINGLE_QUOTED || st == FYNS_DOUBLE_QUOTED || st == FYNS_ALIAS))
        pos--;
    int lines = 0;
    for (;;) {
        if (pos == 0)
            return 1;
        char ch = c->text[--pos];
        if (ch == '{' || ch == '[') {
            if (--levels == 0)
                break;
        } else if (ch == '\n') {
            lines++;
        } else if (ch != ' ' && ch != '\t' && ch != '\r') {
            return 1;
        }
    }
    size_t bol = pos;
    while (bol > 0 && c->text[bol - 1] != '\n')
        bol--;
    *line = m->line + 1 - lines;
    *col = (int)(pos - bol) + 1;
    return 1;
}

/* "name:line:col" of n, else of fb, else of the document, else "name". */
static void where_of(const ctx *c, node *n, node *fb, char out[NORN_WHERE_LEN])
{
    int line, col;
    if (mark_of(c, n, &line, &col, 0) || mark_of(c, fb, &line, &col, 0) || mark_of(c, c->root, &line, &col, 0))
        snprintf(out, NORN_WHERE_LEN, "%s:%d:%d", c->name, line, col);
    else
        snprintf(out, NORN_WHERE_LEN, "%s", c->name);
}

static norn_status fail_at(ctx *c, norn_status code, int line, node *n, node *fb, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static norn_status fail_at(ctx *c, norn_status code, int line, node *n, node *fb, const char *fmt, ...)
{
    char where[NORN_WHERE_LEN], msg[512];
    where_of(c, n, fb, where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return norn__fail(c->err, code, __FILE__, line, where, "%s", msg);
}

/* A semantic error at node n (or fb when n has no position). */
#define FAIL(c, n, fb, ...) fail_at((c), NORN_EINVAL, __LINE__, (n), (fb), __VA_ARGS__)

static norn_status oom(ctx *c)
{
    return norn__fail(c->err, NORN_ENOMEM, __FILE__, __LINE__, c->name,
                      "out of memory while reading the description");
}

/* ------------------------------------------------------------------ */
/* Scalars                                                             */

static node *deref(node *n)
{
    return (n != NULL && fy_node_is_alias(n)) ? fy_node_resolve_alias(n) : n;
}

static int is_null(node *n)
{
    if (n == NULL)
        return 1;
    if (fy_node_get_type(n) != FYNT_SCALAR || fy_node_get_style(n) != FYNS_PLAIN)
        return 0;
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    if (s == NULL || len == 0)
        return 1;
    return (len == 1 && s[0] == '~') ||
           (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

/* The NUL-terminated text of a non-null scalar, else NULL. */
static const char *text(node *n)
{
    if (is_null(n) || fy_node_get_type(n) != FYNT_SCALAR)
        return NULL;
    return fy_node_get_scalar0(n);
}

static const char *describe(node *n, char *buf, size_t len)
{
    if (is_null(n))
        return "nothing";
    switch (fy_node_get_type(n)) {
    case FYNT_MAPPING:
        return "a mapping";
    case FYNT_SEQUENCE:
        return "a list";
    default: {
        const char *s = text(n);
        snprintf(buf, len, "'%.60s%s'", s ? s : "", s && strlen(s) > 60 ? "..." : "");
        return buf;
    }
    }
}

static int is_seq(node *n) { return n != NULL && fy_node_get_type(n) == FYNT_SEQUENCE; }
static int is_map(node *n) { return n != NULL && fy_node_get_type(n) == FYNT_MAPPING; }

/* "a, b, c" into buf. */
static const char *join(char *buf, size_t len, const char *const *names, int n)
{
    size_t off = 0;
    buf[0] = 0;
    for (int k = 0; k < n && off < len; k++) {
        int w = snprintf(buf + off, len - off, "%s%s", k ? ", " : "", names[k]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    return buf;
}

/* ------------------------------------------------------------------ */
/* Numbers and units                                                   */

typedef enum { DIM_NONE, DIM_TIME, DIM_VOLT, DIM_CURR, DIM_CAP, DIM_COND, DIM_FREQ, DIM_WEIGHT, DIM_OTHER } dim;

static const char *const dim_noun[] = {"dimensionless value", "time", "voltage", "current", "capacitance",
                                       "conductance", "frequency", "voltage, current or conductance", "value"};
static const char *const dim_unit[] = {"no unit", "ms", "mV", "pA", "pF", "nS", "Hz", "mV, pA or nS", ""};

typedef struct {
    const char *sym;
    dim d;
    double mul, div; /* value in norn's unit = x * mul / div (exact for decimals) */
} unit_def;

static const unit_def units[] = {
    {"s", DIM_TIME, 1000, 1},     {"ms", DIM_TIME, 1, 1},      {"us", DIM_TIME, 1, 1000},
    {"V", DIM_VOLT, 1000, 1},     {"mV", DIM_VOLT, 1, 1},      {"uV", DIM_VOLT, 1, 1000},
    {"nA", DIM_CURR, 1000, 1},    {"pA", DIM_CURR, 1, 1},      {"nF", DIM_CAP, 1000, 1},
    {"pF", DIM_CAP, 1, 1},        {"uS", DIM_COND, 1000, 1},   {"nS", DIM_COND, 1, 1},
    {"Hz", DIM_FREQ, 1, 1},       {"kHz", DIM_FREQ, 1000, 1},  {"\xc2\xb5s", DIM_TIME, 1, 1000},
    {"\xc2\xb5V", DIM_VOLT, 1, 1000}, {"\xc2\xb5S", DIM_COND, 1000, 1},
};
#define N_UNITS (sizeof units / sizeof units[0])

/* The dimension of a unit as spelled in a model's table. */
static dim dim_of_unit(const char *u)
{
    if (u == NULL || !*u || strcmp(u, "1") == 0)
        return DIM_NONE;
    static const struct { const char *u; dim d; } base[] = {
        {"ms", DIM_TIME}, {"mV", DIM_VOLT}, {"pA", DIM_CURR}, {"pF", DIM_CAP}, {"nS", DIM_COND}, {"Hz", DIM_FREQ}};
    for (size_t k = 0; k < sizeof base / sizeof base[0]; k++)
        if (strcmp(u, base[k].u) == 0)
            return base[k].d;
    return DIM_OTHER;
}

static int dim_accepts(dim want, dim got)
{
    return want == DIM_WEIGHT ? (got == DIM_VOLT || got == DIM_CURR || got == DIM_COND) : want == got;
}

/* Reads a number with an optional unit ("20", "20 ms", "1.5ms", ".inf").
 * other: for DIM_OTHER, the one unit spelling accepted. */
static norn_status get_number(ctx *c, node *n, node *fb, const char *path, dim d, const char *other, double *out)
{
    char b[80];
    const char *s = text(n);
    if (s == NULL)
        return FAIL(c, n, fb, "%s: expected a number, got %s", path, describe(n, b, sizeof b));
    const char *p = s;
    while (*p == ' ')
        p++;
    const char *num = p;
    double x;
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = 0;
    while (isdigit((unsigned char)*p))
        p++, digits++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p))
            p++, digits++;
    }
    if (digits > 0) {
        if (*p == 'e' || *p == 'E') {
            const char *q = p + 1;
            if (*q == '+' || *q == '-')
                q++;
            if (isdigit((unsigned char)*q)) {
                while (isdigit((unsigned char)*q))
                    q++;
                p = q;
            }
        }
        char tmp[64];
        size_t len = (size_t)(p - num);
        if (len >= sizeof tmp)
            return FAIL(c, n, fb, "%s: expected a number, got %s", path, describe(n, b, sizeof b));
        memcpy(tmp, num, len);
        tmp[len] = 0;
        errno = 0;
        x = strtod(tmp, NULL);
        if (errno == ERANGE && isinf(x))
            return FAIL(c, n, fb, "%s: %s is out of range", path, describe(n, b, sizeof b));
    } else {
        int neg = 0;
        p = num;
        if (*p == '+' || *p == '-')
            neg = *p++ == '-';
        if (strncmp(p, ".inf", 4) && strncmp(p, ".Inf", 4) && strncmp(p, ".INF", 4))
            return FAIL(c, n, fb, "%s: expected a number, got %s", path, describe(n, b, sizeof b));
        x = neg ? -INFINITY : INFINITY;
        p += 4;
    }
    while (*p == ' ')
        p++;
    if (*p == 0) {
        *out = x;
        return NORN_OK;
    }
    /* The rest is a unit: letters (and the micro sign), trailing blanks. */
    char u[16];
    size_t ul = strlen(p);
    while (ul > 0 && p[ul - 1] == ' ')
        ul--;
    for (size_t k = 0; k < ul; k++)
        if (!isalpha((unsigned char)p[k]) && (unsigned char)p[k] < 0x80)
            return FAIL(c, n, fb, "%s: expected a number, got %s", path, describe(n, b, sizeof b));
    if (ul >= sizeof u)
        ul = sizeof u - 1;
    memcpy(u, p, ul);
    u[ul] = 0;
    const unit_def *ud = NULL;
    for (size_t k = 0; k < N_UNITS; k++)
        if (strcmp(units[k].sym, u) == 0)
            ud = &units[k];
    if (d == DIM_OTHER && other != NULL && strcmp(u, other) == 0) {
        *out = x;
        return NORN_OK;
    }
    if (d == DIM_NONE || d == DIM_OTHER) {
        if (d == DIM_OTHER && other != NULL)
            return FAIL(c, n, fb, "%s: unit '%s' does not fit (expected %s)", path, u, other);
        return FAIL(c, n, fb, "%s: unit '%s' given for a value without unit", path, u);
    }
    if (ud == NULL) {
        char known[LIST_LEN];
        const char *names[N_UNITS];
        int nk = 0;
        for (size_t k = 0; k < N_UNITS; k++)
            if (dim_accepts(d, units[k].d) && (unsigned char)units[k].sym[0] < 0x80)
                names[nk++] = units[k].sym;
        return FAIL(c, n, fb, "%s: unknown unit '%s' (a %s takes %s)", path, u, dim_noun[d],
                    join(known, sizeof known, names, nk));
    }
    if (!dim_accepts(d, ud->d))
        return FAIL(c, n, fb, "%s: unit '%s' is not a %s (expected %s)", path, u, dim_noun[d], dim_unit[d]);
    *out = x * ud->mul / ud->div;
    return NORN_OK;
}

static norn_status get_int(ctx *c, node *n, node *fb, const char *path, long long *out)
{
    char b[80];
    const char *s = text(n);
    const char *p = s, *q;
    if (s == NULL)
        goto bad;
    while (*p == ' ')
        p++;
    q = p;
    if (*q == '+' || *q == '-')
        q++;
    if (!isdigit((unsigned char)*q))
        goto bad;
    while (isdigit((unsigned char)*q))
        q++;
    while (*q == ' ')
        q++;
    if (*q)
        goto bad;
    errno = 0;
    *out = strtoll(p, NULL, 10);
    if (errno == ERANGE)
        return FAIL(c, n, fb, "%s: %s is out of range", path, describe(n, b, sizeof b));
    return NORN_OK;
bad:
    return FAIL(c, n, fb, "%s: expected an integer, got %s", path, describe(n, b, sizeof b));
}

static norn_status get_bool(ctx *c, node *n, node *fb, const char *path, int *out)
{
    char b[80];
    const char *s = text(n);
    if (s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
        *out = 1;
    else if (s && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
        *out = 0;
    else
        return FAIL(c, n, fb, "%s: expected true or false, got %s", path, describe(n, b, sizeof b));
    return NORN_OK;
}

static norn_status get_name(ctx *c, node *n, node *fb, const char *path, const char **out)
{
    char b[80];
    const char *s = text(n);
    if (s == NULL || !*s)
        return FAIL(c, n, fb, "%s: expected a name, got %s", path, describe(n, b, sizeof b));
    *out = s;
    return NORN_OK;
}

/* Names that become file and directory names: letters, digits, _ - . */
static int good_name(const char *s)
{
    if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return 0;
    return 1;
}

/* ------------------------------------------------------------------ */
/* Mappings                                                            */

static norn_status expect_map(ctx *c, node *n, node *fb, const char *path)
{
    char b[80];
    if (!is_map(n)) {
        if (!*path)
            return FAIL(c, n, fb, "expected a mapping at the top level, got %s", describe(n, b, sizeof b));
        return FAIL(c, n, fb, "%s: expected a mapping, got %s", path, describe(n, b, sizeof b));
    }
    return NORN_OK;
}

/* First pair of map whose key reads `key`. */
static int lookup(node *map, const char *key, slot *out)
{
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
        node *k = deref(fy_node_pair_key(p));
        const char *s = text(k);
        if (s && strcmp(s, key) == 0) {
            out->key = k;
            out->val = deref(fy_node_pair_value(p));
            return 1;
        }
    }
    return 0;
}

/* Checks that map is a mapping whose keys are all in known[], none twice,
 * and fills out[i] for known[i]. */
static norn_status fields(ctx *c, node *map, node *fb, const char *path, const char *const *known, int n_known,
                          slot *out)
{
    char b[80];
    memset(out, 0, (size_t)n_known * sizeof *out);
    TRY(expect_map(c, map, fb, path));
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
        node *k = deref(fy_node_pair_key(p));
        const char *s = text(k);
        if (s == NULL)
            return FAIL(c, k, map, "%s%sexpected a key name, got %s", path, *path ? ": " : "",
                        describe(k, b, sizeof b));
        int i = 0;
        while (i < n_known && strcmp(known[i], s) != 0)
            i++;
        if (i == n_known) {
            char list[LIST_LEN];
            join(list, sizeof list, known, n_known);
            if (!*path)
                return FAIL(c, k, map, "unknown key '%s' at the top level; known: %s", s, list);
            return FAIL(c, k, map, "unknown key '%s' in %s; known: %s", s, path, list);
        }
        if (out[i].key != NULL) {
            int line = 0, col = 0;
            mark_of(c, out[i].key, &line, &col, 0);
            return FAIL(c, k, map, "duplicate key '%s' in %s (first at %d:%d)", s, *path ? path : "the top level",
                        line, col);
        }
        out[i].key = k;
        out[i].val = deref(fy_node_pair_value(p));
    }
    return NORN_OK;
}

static norn_status need(ctx *c, const slot *s, node *map, node *fb, const char *path, const char *key)
{
    if (s->key != NULL)
        return NORN_OK;
    if (!*path)
        return FAIL(c, map, fb, "missing required key '%s'", key);
    return FAIL(c, map, fb, "%s: missing required key '%s'", path, key);
}

/* Fails with a duplicate-key message if key text s appeared before k in map. */
static norn_status dup_key(ctx *c, node *map, node *k, const char *s, const char *path)
{
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
        node *k2 = deref(fy_node_pair_key(p));
        if (k2 == k)
            return NORN_OK;
        const char *s2 = text(k2);
        if (s2 && strcmp(s2, s) == 0) {
            int line = 0, col = 0;
            mark_of(c, k2, &line, &col, 0);
            return FAIL(c, k, map, "duplicate key '%s' in %s (first at %d:%d)", s, path, line, col);
        }
    }
    return NORN_OK;
}

/* ------------------------------------------------------------------ */
/* Values: constants, distributions, files                              */

static norn_dist dconst(double v)
{
    norn_dist d;
    memset(&d, 0, sizeof d);
    d.kind = NORN_DIST_CONST;
    d.value = v;
    d.min = -INFINITY;
    d.max = INFINITY;
    return d;
}

static const char *const ext_npy[] = {".npy", NULL};
static const char *const ext_npy_csv[] = {".npy", ".csv", NULL};

static int has_ext(const char *s, const char *ext)
{
    size_t n = strlen(s), e = strlen(ext);
    return n > e && strcmp(s + n - e, ext) == 0;
}

/* A file name: extension checked, resolved against the description's
 * directory, checked to open. *out is a new string. */
static norn_status get_file(ctx *c, node *n, node *fb, const char *path, const char *const *exts, char **out)
{
    char b[80];
    const char *s = text(n);
    if (s == NULL || !*s)
        return FAIL(c, n, fb, "%s: expected a file name, got %s", path, describe(n, b, sizeof b));
    int ok = 0;
    for (int k = 0; exts[k]; k++)
        ok |= has_ext(s, exts[k]);
    if (!ok)
        return FAIL(c, n, fb, "%s: expected a %s file, got '%s'", path, exts[1] ? ".npy or .csv" : ".npy", s);
    char *full;
    if (s[0] == '/' || c->dir == NULL) {
        full = norn_strdup(s);
    } else {
        size_t len = strlen(c->dir) + strlen(s) + 2;
        full = norn_malloc(len);
        if (full)
            snprintf(full, len, "%s/%s", c->dir, s);
    }
    if (full == NULL)
        return oom(c);
    int e = 0;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
    } else {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
            e = EISDIR;
        close(fd);
    }
    if (e) {
        norn_free(full);
        return FAIL(c, n, fb, "%s: cannot open '%s': %s", path, s, strerror(e));
    }
    *out = full;
    return NORN_OK;
}

static norn_status finite_at(ctx *c, const slot *s, const char *path, const char *key, double x)
{
    if (!isfinite(x))
        return FAIL(c, s->val, s->key, "%s.%s: must be finite, got %g", path, key, x);
    return NORN_OK;
}

static norn_status get_dist(ctx *c, node *n, node *fb, const char *path, dim d, const char *other, norn_dist *out)
{
    static const char *const normal_keys[] = {"dist", "mean", "std", "min", "max"};
    static const char *const uniform_keys[] = {"dist", "low", "high"};
    static const char *const lognormal_keys[] = {"dist", "mu", "sigma", "min", "max"};
    static const char *const names[] = {"normal", "uniform", "lognormal"};
    char p2[PATH_LEN], list[LIST_LEN];
    slot kind, s[5];
    lookup(n, "dist", &kind);
    snprintf(p2, sizeof p2, "%s.dist", path);
    const char *k = NULL;
    TRY(get_name(c, kind.val, kind.key, p2, &k));
    *out = dconst(0);
    if (strcmp(k, "normal") == 0) {
        TRY(fields(c, n, fb, path, normal_keys, 5, s));
        out->kind = NORN_DIST_NORMAL;
        for (int i = 1; i <= 2; i++)
            if (!s[i].key)
                return FAIL(c, n, fb, "%s: a normal distribution needs '%s'", path, normal_keys[i]);
        snprintf(p2, sizeof p2, "%s.mean", path);
        TRY(get_number(c, s[1].val, s[1].key, p2, d, other, &out->mean));
        TRY(finite_at(c, &s[1], path, "mean", out->mean));
        snprintf(p2, sizeof p2, "%s.std", path);
        TRY(get_number(c, s[2].val, s[2].key, p2, d, other, &out->std));
        TRY(finite_at(c, &s[2], path, "std", out->std));
        if (out->std < 0)
            return FAIL(c, s[2].val, s[2].key, "%s: must be >= 0, got %g", p2, out->std);
    } else if (strcmp(k, "uniform") == 0) {
        TRY(fields(c, n, fb, path, uniform_keys, 3, s));
        out->kind = NORN_DIST_UNIFORM;
        for (int i = 1; i <= 2; i++)
            if (!s[i].key)
                return FAIL(c, n, fb, "%s: a uniform distribution needs '%s'", path, uniform_keys[i]);
        snprintf(p2, sizeof p2, "%s.low", path);
        TRY(get_number(c, s[1].val, s[1].key, p2, d, other, &out->low));
        TRY(finite_at(c, &s[1], path, "low", out->low));
        snprintf(p2, sizeof p2, "%s.high", path);
        TRY(get_number(c, s[2].val, s[2].key, p2, d, other, &out->high));
        TRY(finite_at(c, &s[2], path, "high", out->high));
        if (!(out->high > out->low))
            return FAIL(c, s[2].val, s[2].key, "%s: must be > low (%g), got %g", p2, out->low, out->high);
        return NORN_OK;
    } else if (strcmp(k, "lognormal") == 0) {
        TRY(fields(c, n, fb, path, lognormal_keys, 5, s));
        out->kind = NORN_DIST_LOGNORMAL;
        for (int i = 1; i <= 2; i++)
            if (!s[i].key)
                return FAIL(c, n, fb, "%s: a lognormal distribution needs '%s'", path, lognormal_keys[i]);
        /* mu and sigma describe log(value): no unit. */
        snprintf(p2, sizeof p2, "%s.mu", path);
        TRY(get_number(c, s[1].val, s[1].key, p2, DIM_NONE, NULL, &out->mu));
        TRY(finite_at(c, &s[1], path, "mu", out->mu));
        snprintf(p2, sizeof p2, "%s.sigma", path);
        TRY(get_number(c, s[2].val, s[2].key, p2, DIM_NONE, NULL, &out->sigma));
        TRY(finite_at(c, &s[2], path, "sigma", out->sigma));
        if (out->sigma < 0)
            return FAIL(c, s[2].val, s[2].key, "%s: must be >= 0, got %g", p2, out->sigma);
    } else {
        return FAIL(c, kind.val, kind.key, "%s: unknown distribution '%s'; known: %s", p2, k,
                    join(list, sizeof list, names, 3));
    }
    /* normal and lognormal: optional clipping */
    if (s[3].key) {
        snprintf(p2, sizeof p2, "%s.min", path);
        TRY(get_number(c, s[3].val, s[3].key, p2, d, other, &out->min));
    }
    if (s[4].key) {
        snprintf(p2, sizeof p2, "%s.max", path);
        TRY(get_number(c, s[4].val, s[4].key, p2, d, other, &out->max));
        if (out->min > out->max)
            return FAIL(c, s[4].val, s[4].key, "%s: must be >= min (%g), got %g", p2, out->min, out->max);
    }
    return NORN_OK;
}

/* A number, {dist: ...} or {file: x.npy}. */
static norn_status get_value(ctx *c, node *n, node *fb, const char *path, dim d, const char *other,
                             norn_desc_value *out)
{
    norn_desc_value v;
    memset(&v, 0, sizeof v);
    where_of(c, n, fb, v.where);
    if (is_map(n)) {
        slot s;
        if (lookup(n, "file", &s)) {
            static const char *const file_keys[] = {"file"};
            char p2[PATH_LEN];
            TRY(fields(c, n, fb, path, file_keys, 1, &s));
            snprintf(p2, sizeof p2, "%s.file", path);
            TRY(get_file(c, s.val, s.key, p2, ext_npy, &v.file));
            v.dist = dconst(0);
            v.dist.kind = NORN_DIST_ARRAY;
        } else if (lookup(n, "dist", &s)) {
            TRY(get_dist(c, n, fb, path, d, other, &v.dist));
        } else {
            return FAIL(c, n, fb, "%s: expected a number, a distribution {dist: ...} or a file {file: ...}", path);
        }
    } else {
        double x;
        TRY(get_number(c, n, fb, path, d, other, &x));
        v.dist = dconst(x);
    }
    *out = v;
    return NORN_OK;
}

/* A list of numbers (or one number). flags: */
enum { NUM_FINITE = 1, NUM_NONNEG = 2, NUM_ASCENDING = 4 };

static norn_status get_numbers(ctx *c, node *n, node *fb, const char *path, dim d, int flags, double **out,
                               uint64_t *count)
{
    uint64_t m = is_seq(n) ? (uint64_t)fy_node_sequence_item_count(n) : 1;
    double *x = NULL;
    if (m > 0 && (x = norn_malloc_n((size_t)m, sizeof *x)) == NULL)
        return oom(c);
    void *it = NULL;
    for (uint64_t k = 0; k < m; k++) {
        node *e = is_seq(n) ? deref(fy_node_sequence_iterate(n, &it)) : n;
        node *efb = is_seq(n) ? n : fb;
        norn_status st = get_number(c, e, efb, path, d, NULL, &x[k]);
        if (st == NORN_OK && (flags & NUM_FINITE) && !isfinite(x[k]))
            st = FAIL(c, e, efb, "%s: must be finite, got %g", path, x[k]);
        if (st == NORN_OK && (flags & NUM_NONNEG) && x[k] < 0)
            st = FAIL(c, e, efb, "%s: must be >= 0, got %g", path, x[k]);
        if (st == NORN_OK && (flags & NUM_ASCENDING) && k > 0 && !(x[k] > x[k - 1]))
            st = FAIL(c, e, efb, "%s: times must be ascending, got %g after %g", path, x[k], x[k - 1]);
        if (st != NORN_OK) {
            norn_free(x);
            return st;
        }
    }
    *out = x;
    *count = m;
    return NORN_OK;
}

/* A list of indices (or one) each < limit; what_limit ends the range message. */
static norn_status get_indices(ctx *c, node *n, node *fb, const char *path, uint64_t limit, const char *what_limit,
                               uint32_t **out, uint64_t *count)
{
    uint64_t m = is_seq(n) ? (uint64_t)fy_node_sequence_item_count(n) : 1;
    uint32_t *x = NULL;
    if (m > 0 && (x = norn_malloc_n((size_t)m, sizeof *x)) == NULL)
        return oom(c);
    void *it = NULL;
    for (uint64_t k = 0; k < m; k++) {
        node *e = is_seq(n) ? deref(fy_node_sequence_iterate(n, &it)) : n;
        long long v = 0;
        norn_status st = get_int(c, e, is_seq(n) ? n : fb, path, &v);
        if (st == NORN_OK && (v < 0 || (uint64_t)v >= limit))
            st = FAIL(c, e, n, "%s: neuron %lld is out of range; %s", path, v, what_limit);
        if (st != NORN_OK) {
            norn_free(x);
            return st;
        }
        x[k] = (uint32_t)v;
    }
    *out = x;
    *count = m;
    return NORN_OK;
}

/* ------------------------------------------------------------------ */
/* Population references                                               */

static int pop_find(const norn_desc *d, const char *name)
{
    for (uint32_t i = 0; i < d->n_pops; i++)
        if (d->pops[i].name && strcmp(d->pops[i].name, name) == 0)
            return (int)i;
    return -1;
}

static const char *pop_names(const norn_desc *d, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < d->n_pops && off < len; i++) {
        int w = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", d->pops[i].name);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    return buf;
}

static norn_status pop_ref(ctx *c, node *n, node *fb, const char *path, uint32_t *out)
{
    char b[80], list[LIST_LEN];
    const char *s = text(n);
    if (s == NULL)
        return FAIL(c, n, fb, "%s: expected a population name, got %s", path, describe(n, b, sizeof b));
    int i = pop_find(c->d, s);
    if (i < 0)
        return FAIL(c, n, fb, "%s: no population '%s'; known: %s", path, s, pop_names(c->d, list, sizeof list));
    *out = (uint32_t)i;
    return NORN_OK;
}

/* A population name or a list of them (at least one, none twice). */
static norn_status pop_list(ctx *c, node *n, node *fb, const char *path, uint32_t **out, uint32_t *count)
{
    uint32_t m = is_seq(n) ? (uint32_t)fy_node_sequence_item_count(n) : 1;
    if (m == 0)
        return FAIL(c, n, fb, "%s: expected at least one population name", path);
    uint32_t *x = norn_malloc_n(m, sizeof *x);
    if (x == NULL)
        return oom(c);
    void *it = NULL;
    for (uint32_t k = 0; k < m; k++) {
        node *e = is_seq(n) ? deref(fy_node_sequence_iterate(n, &it)) : n;
        norn_status st = pop_ref(c, e, is_seq(n) ? n : fb, path, &x[k]);
        for (uint32_t j = 0; st == NORN_OK && j < k; j++)
            if (x[j] == x[k])
                st = FAIL(c, e, n, "%s: population '%s' listed twice", path, c->d->pops[x[k]].name);
        if (st != NORN_OK) {
            norn_free(x);
            return st;
        }
    }
    *out = x;
    *count = m;
    return NORN_OK;
}

/* ------------------------------------------------------------------ */
/* simulation                                                          */

static norn_status parse_sim(ctx *c, node *map, node *key)
{
    static const char *const keys[] = {"duration", "resolution", "mode", "seed", "name", "plot"};
    enum { DURATION, RESOLUTION, MODE, SEED, NAME, PLOT };
    norn_desc *d = c->d;
    slot s[6];
    const char *str = NULL;
    TRY(fields(c, map, key, "simulation", keys, 6, s));
    if (s[RESOLUTION].key) {
        TRY(get_number(c, s[RESOLUTION].val, s[RESOLUTION].key, "simulation.resolution", DIM_TIME, NULL,
                       &d->resolution_ms));
        if (!(d->resolution_ms > 0) || !isfinite(d->resolution_ms))
            return FAIL(c, s[RESOLUTION].val, s[RESOLUTION].key, "simulation.resolution: must be > 0, got %g",
                        d->resolution_ms);
    }
    TRY(need(c, &s[DURATION], map, key, "simulation", "duration"));
    TRY(get_number(c, s[DURATION].val, s[DURATION].key, "simulation.duration", DIM_TIME, NULL, &d->duration_ms));
    if (!(d->duration_ms > 0) || !isfinite(d->duration_ms))
        return FAIL(c, s[DURATION].val, s[DURATION].key, "simulation.duration: must be > 0, got %g",
                    d->duration_ms);
    /* every time in a run is a whole number of steps at most 2^53, exact
     * in a double (a resolution of 1e-300 ms used to overflow the step
     * index: a run that did nothing, or "cannot allocate 9.2e18 samples") */
    if (d->duration_ms / d->resolution_ms > NORN_DESC_MAX_STEPS) {
        slot *w = s[RESOLUTION].key ? &s[RESOLUTION] : &s[DURATION];
        return FAIL(c, w->val, w->key,
                    "%s: %g ms in steps of %g ms is %.3g steps; at most 2^53 (9.0e15) fit (make the %s %s)",
                    s[RESOLUTION].key ? "simulation.resolution" : "simulation.duration", d->duration_ms,
                    d->resolution_ms, d->duration_ms / d->resolution_ms,
                    s[RESOLUTION].key ? "resolution" : "duration", s[RESOLUTION].key ? "coarser" : "shorter");
    }
    if (s[MODE].key) {
        TRY(get_name(c, s[MODE].val, s[MODE].key, "simulation.mode", &str));
        if (strcmp(str, "grid") == 0)
            d->mode = NORN_MODE_GRID;
        else if (strcmp(str, "continuous") == 0)
            d->mode = NORN_MODE_CONTINUOUS;
        else if (strcmp(str, "euler") == 0)
            d->mode = NORN_MODE_EULER;
        else
            return FAIL(c, s[MODE].val, s[MODE].key,
                        "simulation.mode: unknown mode '%s'; known: continuous, grid, euler", str);
    }
    if (s[SEED].key) {
        long long v;
        TRY(get_int(c, s[SEED].val, s[SEED].key, "simulation.seed", &v));
        if (v < 0)
            return FAIL(c, s[SEED].val, s[SEED].key, "simulation.seed: must be a non-negative integer, got %lld", v);
        d->seed = (uint64_t)v;
    }
    if (s[NAME].key) {
        TRY(get_name(c, s[NAME].val, s[NAME].key, "simulation.name", &str));
        if (!good_name(str))
            return FAIL(c, s[NAME].val, s[NAME].key,
                        "simulation.name: invalid name '%s'; use letters, digits, '_', '-' and '.'", str);
        char *nm = norn_strdup(str);
        if (nm == NULL)
            return oom(c);
        norn_free(d->name);
        d->name = nm;
    }
    if (s[PLOT].key)
        TRY(get_bool(c, s[PLOT].val, s[PLOT].key, "simulation.plot", &d->plot));
    return NORN_OK;
}

/* ------------------------------------------------------------------ */
/* populations                                                         */

/* Runs the model's own validation on the parameters now, so that a bad
 * value is reported at its node. Mode-independent checks only (continuous):
 * grid-only rules are left to the build, since the mode may be overridden. */
static norn_status check_params(ctx *c, const norn_desc_pop *p, node *params, const char *path)
{
    norn_model_pop mp;
    norn_err e;
    memset(&mp, 0, sizeof mp);
    norn_err_clear(&e);
    mp.type = p->model;
    mp.n = p->size;
    memcpy(mp.p, p->params, sizeof mp.p);
    mp.h = c->d->resolution_ms;
    mp.mode = NORN_MODE_CONTINUOUS;
    if (p->euler) {
        norn_euler_pop ep;
        memset(&ep, 0, sizeof ep);
        ep.type = p->euler;
        ep.n = p->size;
        memcpy(ep.p, p->params, sizeof ep.p);
        ep.dt = c->d->resolution_ms / 1000.0;
        if (p->euler->compile(&ep, p->where, &e) == NORN_OK)
            return NORN_OK;
    } else if (p->is_input || p->model->compile == NULL || p->model->compile(&mp, p->where, &e) == NORN_OK) {
        return NORN_OK;
    }
    /* "params.tau_m: must be > 0" -> at the tau_m node when it was given */
    node *at = NULL;
    slot s;
    if (strncmp(e.msg, "params.", 7) == 0 && is_map(params)) {
        char nm[64];
        size_t k = 0;
        const char *q = e.msg + 7;
        while (q[k] && q[k] != ':' && q[k] != ' ' && k + 1 < sizeof nm)
            nm[k] = q[k], k++;
        nm[k] = 0;
        if (lookup(params, nm, &s))
            at = s.val ? s.val : s.key;
    }
    if (at == NULL && is_map(params))
        at = params;
    if (at == NULL)
        return norn__fail(c->err, NORN_EINVAL, __FILE__, __LINE__, p->where, "%s.%s", path, e.msg);
    return FAIL(c, at, params, "%s.%s", path, e.msg);
}

/* euler mode: the model's tables as a table-only norn_model_type. */
static void make_shim(norn_desc_pop *p, const norn_euler_type *e)
{
    memset(&p->shim, 0, sizeof p->shim);
    p->euler = e;
    p->shim.name = e ? e->name : "input";
    p->shim.doc = e ? e->doc : "input neurons: they spike where a spike tensor says";
    p->shim.n_params = e ? e->n_params : 0;
    p->shim.params = e ? e->params : NULL;
    p->shim.n_state = e ? e->n_state : 0;
    p->shim.state = e ? e->state : NULL;
    p->shim.v_index = e ? e->v_index : -1;
    p->is_input = e == NULL;
    p->model = &p->shim;
}

static norn_status parse_pop(ctx *c, node *key, node *val, norn_desc_pop *p)
{
    static const char *const keys[] = {"model", "size", "params", "initial", "preset"};
    enum { MODEL, SIZE, PARAMS, INITIAL, PRESET };
    char path[PATH_LEN], p2[PATH_LEN + 64], list[LIST_LEN], b[80];
    slot s[5];
    const char *name = text(key);
    if (name == NULL)
        return FAIL(c, key, val, "populations: expected a population name, got %s", describe(key, b, sizeof b));
    if (!good_name(name) || strcmp(name, "all") == 0)
        return FAIL(c, key, val, "populations: invalid population name '%s'; use letters, digits, '_', '-' and '.' "
                                 "(and not 'all')", name);
    where_of(c, key, val, p->where);
    if ((p->name = norn_strdup(name)) == NULL)
        return oom(c);
    snprintf(path, sizeof path, "populations.%s", name);
    TRY(fields(c, val, key, path, keys, 5, s));

    TRY(need(c, &s[MODEL], val, key, path, "model"));
    const char *mname = NULL;
    snprintf(p2, sizeof p2, "%s.model", path);
    TRY(get_name(c, s[MODEL].val, s[MODEL].key, p2, &mname));
    const norn_model_type *t;
    if (c->d->mode == NORN_MODE_EULER) {
        const norn_euler_type *e = norn_euler_find(mname);
        if (e == NULL && strcmp(mname, "input") != 0)
            return FAIL(c, s[MODEL].val, s[MODEL].key, "%s: unknown model '%s' in euler mode; known: input, %s", p2,
                        mname, norn_euler_names());
        make_shim(p, e);
        t = p->model;
    } else {
        t = norn_model_find(mname);
        if (t == NULL) {
            if (strcmp(mname, "input") == 0 || norn_euler_find(mname))
                return FAIL(c, s[MODEL].val, s[MODEL].key,
                            "%s: model '%s' is a Norse model: it needs simulation.mode: euler; known in %s mode: %s",
                            p2, mname, c->d->mode == NORN_MODE_GRID ? "grid" : "continuous", norn_model_names());
            return FAIL(c, s[MODEL].val, s[MODEL].key, "%s: unknown model '%s'; known: %s", p2, mname,
                        norn_model_names());
        }
        p->model = t;
    }

    TRY(need(c, &s[SIZE], val, key, path, "size"));
    long long size;
    snprintf(p2, sizeof p2, "%s.size", path);
    TRY(get_int(c, s[SIZE].val, s[SIZE].key, p2, &size));
    if (size <= 0)
        return FAIL(c, s[SIZE].val, s[SIZE].key, "%s: must be > 0, got %lld", p2, size);
    if (size > (long long)UINT32_MAX)
        return FAIL(c, s[SIZE].val, s[SIZE].key, "%s: must be < 4294967296, got %lld", p2, size);
    p->size = (uint32_t)size;

    const char *names[NORN_MAX_PARAMS > NORN_MAX_STATE ? NORN_MAX_PARAMS : NORN_MAX_STATE];
    for (int k = 0; k < t->n_params && k < NORN_MAX_PARAMS; k++) {
        p->params[k] = t->params[k].def;
        names[k] = t->params[k].name;
    }
    double preset_init[NORN_MAX_STATE] = {0};
    int preset_has[NORN_MAX_STATE] = {0};
    if (s[PRESET].key) {
        const char *pre = NULL;
        snprintf(p2, sizeof p2, "%s.preset", path);
        TRY(get_name(c, s[PRESET].val, s[PRESET].key, p2, &pre));
        if (!p->euler || !norn_euler_preset(p->euler, pre, p->params, preset_init, preset_has)) {
            const char *known = p->euler ? norn_euler_preset_names(p->euler) : "";
            return FAIL(c, s[PRESET].val, s[PRESET].key, "%s: model %s has no preset '%s'%s%s", p2, t->name, pre,
                        *known ? "; known: " : "", known);
        }
    }
    if (s[PARAMS].key && !is_null(s[PARAMS].val)) {
        snprintf(p2, sizeof p2, "%s.params", path);
        TRY(expect_map(c, s[PARAMS].val, s[PARAMS].key, p2));
        void *it = NULL;
        struct fy_node_pair *pr;
        while ((pr = fy_node_mapping_iterate(s[PARAMS].val, &it)) != NULL) {
            node *k = deref(fy_node_pair_key(pr)), *v = deref(fy_node_pair_value(pr));
            const char *pn = text(k);
            int i = pn ? norn_model_param_index(t, pn) : -1;
            if (i < 0 && pn && p->euler && (strcmp(pn, "method") == 0 || strcmp(pn, "alpha") == 0)) {
                /* Norse's surrogate-gradient settings: they change only the
                 * backward pass, so a pasted parameter object may keep them */
                if (strcmp(pn, "alpha") == 0) {
                    double ignored;
                    char p3[PATH_LEN + 128];
                    snprintf(p3, sizeof p3, "%s.alpha", p2);
                    TRY(get_number(c, v, k, p3, DIM_NONE, NULL, &ignored));
                } else if (text(v) == NULL) {
                    return FAIL(c, v, k, "%s.method: expected a surrogate method name (e.g. super), got %s", p2,
                                describe(v, b, sizeof b));
                }
                continue;
            }
            if (i >= 0 && p->euler && strcmp(pn, "reset_method") == 0) {
                const char *rm = text(v);
                if (rm && (strcmp(rm, "reset_value") == 0 || strcmp(rm, "reset_subtract") == 0)) {
                    p->params[i] = strcmp(rm, "reset_subtract") == 0;
                    p->param_given[i] = 1;
                    continue;
                }
                if (rm && (strcmp(rm, "0") == 0 || strcmp(rm, "1") == 0)) {
                    p->params[i] = rm[0] == '1';
                    p->param_given[i] = 1;
                    continue;
                }
                return FAIL(c, v, k, "%s.reset_method: expected reset_value or reset_subtract, got %s", p2,
                            describe(v, b, sizeof b));
            }
            if (i < 0)
                return FAIL(c, k, s[PARAMS].val, "%s: unknown parameter %s of model %s; known: %s", p2,
                            describe(k, b, sizeof b), t->name, join(list, sizeof list, names, t->n_params));
            if (p->param_given[i])
                TRY(dup_key(c, s[PARAMS].val, k, pn, p2));
            char p3[PATH_LEN + 128];
            snprintf(p3, sizeof p3, "%s.%s", p2, pn);
            const char *u = t->params[i].unit;
            TRY(get_number(c, v, k, p3, dim_of_unit(u), u, &p->params[i]));
            p->param_given[i] = 1;
        }
    }
    TRY(check_params(c, p, s[PARAMS].key ? s[PARAMS].val : NULL, path));

    for (int v = 0; v < t->n_state && v < NORN_MAX_STATE; v++) {
        p->initial[v].dist = dconst(preset_init[v]);
        p->has_initial[v] = preset_has[v];
        snprintf(p->initial[v].where, sizeof p->initial[v].where, "%s", p->where);
        names[v] = t->state[v].name;
    }
    if (s[INITIAL].key && !is_null(s[INITIAL].val)) {
        snprintf(p2, sizeof p2, "%s.initial", path);
        TRY(expect_map(c, s[INITIAL].val, s[INITIAL].key, p2));
        void *it = NULL;
        struct fy_node_pair *pr;
        while ((pr = fy_node_mapping_iterate(s[INITIAL].val, &it)) != NULL) {
            node *k = deref(fy_node_pair_key(pr)), *v = deref(fy_node_pair_value(pr));
            const char *vn = text(k);
            int i = vn ? norn_model_state_index(t, vn) : -1;
            if (i < 0)
                return FAIL(c, k, s[INITIAL].val, "%s: unknown state variable %s of model %s; known: %s", p2,
                            describe(k, b, sizeof b), t->name, join(list, sizeof list, names, t->n_state));
            if (p->has_initial[i] && !preset_has[i])
                TRY(dup_key(c, s[INITIAL].val, k, vn, p2));
            char p3[PATH_LEN + 128];
            snprintf(p3, sizeof p3, "%s.%s", p2, vn);
            const char *u = t->state[i].unit;
            TRY(get_value(c, v, k, p3, dim_of_unit(u), u, &p->initial[i]));
            if (norn_dist_is_const(&p->initial[i].dist) && !p->initial[i].file &&
                !isfinite(p->initial[i].dist.value))
                return FAIL(c, v, k, "%s: must be finite, got %g", p3, p->initial[i].dist.value);
            p->has_initial[i] = 1;
        }
    }
    return NORN_OK;
}

static norn_status parse_pops(ctx *c, node *map, node *key)
{
    norn_desc *d = c->d;
    TRY(expect_map(c, map, key, "populations"));
    size_t n = (size_t)fy_node_mapping_item_count(map);
    if (n == 0)
        return FAIL(c, map, key, "populations: at least one population is needed");
    if (n > UINT32_MAX)
        return FAIL(c, map, key, "populations: too many populations");
    if ((d->pops = norn_calloc_n(n, sizeof *d->pops)) == NULL)
        return oom(c);
    d->n_pops = (uint32_t)n;
    void *it = NULL;
    struct fy_node_pair *pr;
    uint64_t total = 0;
    for (uint32_t i = 0; (pr = fy_node_mapping_iterate(map, &it)) != NULL && i < n; i++) {
        node *k = deref(fy_node_pair_key(pr));
        const char *name = text(k);
        if (name && pop_find(d, name) >= 0)
            return dup_key(c, map, k, name, "populations");
        TRY(parse_pop(c, k, deref(fy_node_pair_value(pr)), &d->pops[i]));
        total += d->pops[i].size;
        if (total > UINT32_MAX)
            return FAIL(c, k, map,
                        "populations.%s.size: the populations total %llu neurons; at most 4294967295 fit in "
                        "32-bit global ids",
                        d->pops[i].name, (unsigned long long)total);
    }
    return NORN_OK;
}

/* ------------------------------------------------------------------ */
/* stimuli                                                             */

static norn_status opt_number(ctx *c, const slot *s, const char *path, const char *key, dim d, double def,
                              double *out)
{
    char p2[PATH_LEN + 64];
    if (s->key == NULL) {
        *out = def;
        return NORN_OK;
    }
    snprintf(p2, sizeof p2, "%s.%s", path, key);
    TRY(get_number(c, s->val, s->key, p2, d, NULL, out));
    if (!isfinite(*out))
        return FAIL(c, s->val, s->key, "%s: must be finite, got %g", p2, *out);
    return NORN_OK;
}

static norn_status nonneg(ctx *c, const slot *s, const char *path, const char *key, double x)
{
    if (s->key && x < 0)
        return FAIL(c, s->val, s->key, "%s.%s: must be >= 0, got %g", path, key, x);
    return NORN_OK;
}

static norn_status parse_stim(ctx *c, node *n, node *seq, uint32_t idx, norn_desc_stim *st)
{
    static const char *const poisson_keys[] = {"type", "to", "rate", "weight", "delay", "start", "stop"};
    enum { P_RATE = 2, P_WEIGHT, P_DELAY, P_START, P_STOP };
    static const char *const dc_keys[] = {"type", "to", "amplitude", "start", "stop", "times", "amplitudes"};
    enum { D_AMP = 2, D_START, D_STOP, D_TIMES, D_AMPS };
    static const char *const spikes_keys[] = {"type", "to", "times", "neurons", "file", "weight", "delay"};
    enum { S_TIMES = 2, S_NEURONS, S_FILE, S_WEIGHT, S_DELAY };
    static const char *const tensor_keys[] = {"type", "to", "file"};
    enum { T_FILE = 2 };
    static const char *const types[] = {"poisson", "dc", "spike_times", "spike_tensor", "current_tensor"};
    char path[PATH_LEN], p2[PATH_LEN + 32], list[LIST_LEN];
    slot s[7], ty;
    snprintf(path, sizeof path, "stimuli[%u]", idx);
    where_of(c, n, seq, st->where);
    TRY(expect_map(c, n, seq, path));
    if (!lookup(n, "type", &ty))
        return FAIL(c, n, seq, "%s: missing required key 'type' (%s)", path, join(list, sizeof list, types, 3));
    const char *tn = NULL;
    snprintf(p2, sizeof p2, "%s.type", path);
    TRY(get_name(c, ty.val, ty.key, p2, &tn));
    if (strcmp(tn, "poisson") == 0) {
        st->type = NORN_STIM_POISSON;
        TRY(fields(c, n, seq, path, poisson_keys, 7, s));
    } else if (strcmp(tn, "dc") == 0) {
        st->type = NORN_STIM_DC;
        TRY(fields(c, n, seq, path, dc_keys, 7, s));
    } else if (strcmp(tn, "spike_times") == 0) {
        st->type = NORN_STIM_SPIKE_TIMES;
        TRY(fields(c, n, seq, path, spikes_keys, 7, s));
    } else if (strcmp(tn, "spike_tensor") == 0 || strcmp(tn, "current_tensor") == 0) {
        st->type = tn[0] == 's' ? NORN_STIM_SPIKE_TENSOR : NORN_STIM_CURRENT_TENSOR;
        TRY(fields(c, n, seq, path, tensor_keys, 3, s));
        if (c->d->mode != NORN_MODE_EULER)
            return FAIL(c, ty.val, ty.key, "%s: stimulus type '%s' needs simulation.mode: euler", p2, tn);
    } else {
        return FAIL(c, ty.val, ty.key, "%s: unknown stimulus type '%s'; known: %s", p2, tn,
                    join(list, sizeof list, types, 5));
    }
    if (c->d->mode == NORN_MODE_EULER && st->type != NORN_STIM_SPIKE_TENSOR && st->type != NORN_STIM_CURRENT_TENSOR)
        return FAIL(c, ty.val, ty.key, "%s: stimulus type '%s' is not available in euler mode; use spike_tensor "
                                       "(into an input population) or current_tensor", p2, tn);
    TRY(need(c, &s[1], n, seq, path, "to"));
    snprintf(p2, sizeof p2, "%s.to", path);
    TRY(pop_list(c, s[1].val, s[1].key, p2, &st->to, &st->n_to));
    st->weight = 1.0;
    st->delay_ms = 0.0;
    st->stop_ms = INFINITY;

    for (uint32_t k = 0; k < st->n_to && (st->type == NORN_STIM_SPIKE_TENSOR || st->type == NORN_STIM_CURRENT_TENSOR);
         k++) {
        const norn_desc_pop *tp = &c->d->pops[st->to[k]];
        if (st->type == NORN_STIM_SPIKE_TENSOR && !tp->is_input)
            return FAIL(c, s[1].val, s[1].key, "%s.to: a spike_tensor drives input populations; '%s' is a %s "
                                               "population", path, tp->name, tp->model->name);
        if (st->type == NORN_STIM_CURRENT_TENSOR && tp->is_input)
            return FAIL(c, s[1].val, s[1].key, "%s.to: a current_tensor drives model neurons; '%s' is an input "
                                               "population", path, tp->name);
    }
    if (st->type != NORN_STIM_SPIKE_TENSOR && st->type != NORN_STIM_CURRENT_TENSOR)
        for (uint32_t k = 0; k < st->n_to; k++)
            if (c->d->pops[st->to[k]].is_input)
                return FAIL(c, s[1].val, s[1].key, "%s.to: '%s' is an input population; drive it with a spike_tensor",
                            path, c->d->pops[st->to[k]].name);

    switch (st->type) {
    case NORN_STIM_SPIKE_TENSOR:
    case NORN_STIM_CURRENT_TENSOR:
        TRY(need(c, &s[T_FILE], n, seq, path, "file"));
        snprintf(p2, sizeof p2, "%s.file", path);
        TRY(get_file(c, s[T_FILE].val, s[T_FILE].key, p2, ext_npy, &st->file));
        break;

    case NORN_STIM_POISSON:
        TRY(need(c, &s[P_RATE], n, seq, path, "rate"));
        TRY(opt_number(c, &s[P_RATE], path, "rate", DIM_FREQ, 0, &st->rate_hz));
        TRY(nonneg(c, &s[P_RATE], path, "rate", st->rate_hz));
        TRY(opt_number(c, &s[P_WEIGHT], path, "weight", DIM_WEIGHT, 1.0, &st->weight));
        TRY(opt_number(c, &s[P_DELAY], path, "delay", DIM_TIME, 0.0, &st->delay_ms));
        TRY(nonneg(c, &s[P_DELAY], path, "delay", st->delay_ms));
        TRY(opt_number(c, &s[P_START], path, "start", DIM_TIME, 0.0, &st->start_ms));
        TRY(nonneg(c, &s[P_START], path, "start", st->start_ms));
        if (s[P_STOP].key) {
            TRY(opt_number(c, &s[P_STOP], path, "stop", DIM_TIME, INFINITY, &st->stop_ms));
            if (!(st->stop_ms > st->start_ms))
                return FAIL(c, s[P_STOP].val, s[P_STOP].key, "%s.stop: must be > start (%g), got %g", path,
                            st->start_ms, st->stop_ms);
        }
        break;

    case NORN_STIM_DC:
        if (s[D_AMP].key) {
            double a, start, stop = INFINITY;
            if (s[D_TIMES].key || s[D_AMPS].key) {
                const slot *x = s[D_TIMES].key ? &s[D_TIMES] : &s[D_AMPS];
                return FAIL(c, x->key, n, "%s: give either 'amplitude' (with start and stop) or 'times' and "
                                          "'amplitudes', not both", path);
            }
            TRY(opt_number(c, &s[D_AMP], path, "amplitude", DIM_CURR, 0, &a));
            TRY(opt_number(c, &s[D_START], path, "start", DIM_TIME, 0.0, &start));
            TRY(nonneg(c, &s[D_START], path, "start", start));
            if (s[D_STOP].key) {
                TRY(opt_number(c, &s[D_STOP], path, "stop", DIM_TIME, INFINITY, &stop));
                if (!(stop > start))
                    return FAIL(c, s[D_STOP].val, s[D_STOP].key, "%s.stop: must be > start (%g), got %g", path,
                                start, stop);
            }
            st->start_ms = start;
            st->stop_ms = stop;
            st->n_steps = s[D_STOP].key ? 2 : 1;
            st->times_ms = norn_malloc_n(st->n_steps, sizeof *st->times_ms);
            st->amplitudes_pA = norn_malloc_n(st->n_steps, sizeof *st->amplitudes_pA);
            if (st->times_ms == NULL || st->amplitudes_pA == NULL)
                return oom(c);
            st->times_ms[0] = start;
            st->amplitudes_pA[0] = a;
            if (st->n_steps == 2) {
                st->times_ms[1] = stop;
                st->amplitudes_pA[1] = 0.0;
            }
        } else {
            if (!s[D_TIMES].key || !s[D_AMPS].key)
                return FAIL(c, n, seq, "%s: a dc stimulus needs 'amplitude', or 'times' and 'amplitudes'", path);
            if (s[D_START].key || s[D_STOP].key) {
                const slot *x = s[D_START].key ? &s[D_START] : &s[D_STOP];
                return FAIL(c, x->key, n, "%s.%s: only with 'amplitude'; with 'times' each step is given", path,
                            s[D_START].key ? "start" : "stop");
            }
            uint64_t na = 0;
            snprintf(p2, sizeof p2, "%s.times", path);
            TRY(get_numbers(c, s[D_TIMES].val, s[D_TIMES].key, p2, DIM_TIME, NUM_FINITE | NUM_NONNEG | NUM_ASCENDING,
                            &st->times_ms, &st->n_steps));
            if (st->n_steps == 0)
                return FAIL(c, s[D_TIMES].val, s[D_TIMES].key, "%s: expected at least one time", p2);
            snprintf(p2, sizeof p2, "%s.amplitudes", path);
            TRY(get_numbers(c, s[D_AMPS].val, s[D_AMPS].key, p2, DIM_CURR, NUM_FINITE, &st->amplitudes_pA, &na));
            if (na != st->n_steps)
                return FAIL(c, s[D_AMPS].val, s[D_AMPS].key, "%s: %llu values for %llu times", p2,
                            (unsigned long long)na, (unsigned long long)st->n_steps);
            st->start_ms = st->times_ms[0];
        }
        break;

    case NORN_STIM_SPIKE_TIMES:
        TRY(opt_number(c, &s[S_WEIGHT], path, "weight", DIM_WEIGHT, 1.0, &st->weight));
        TRY(opt_number(c, &s[S_DELAY], path, "delay", DIM_TIME, 0.0, &st->delay_ms));
        TRY(nonneg(c, &s[S_DELAY], path, "delay", st->delay_ms));
        if (s[S_TIMES].key && s[S_FILE].key)
            return FAIL(c, s[S_FILE].key, n, "%s: give either 'times' or 'file', not both", path);
        if (!s[S_TIMES].key && !s[S_FILE].key)
            return FAIL(c, n, seq, "%s: a spike_times stimulus needs 'times' or 'file'", path);
        if (s[S_FILE].key) {
            if (s[S_NEURONS].key)
                return FAIL(c, s[S_NEURONS].key, n, "%s.neurons: only with 'times'; a file gives its own", path);
            snprintf(p2, sizeof p2, "%s.file", path);
            TRY(get_file(c, s[S_FILE].val, s[S_FILE].key, p2, ext_npy_csv, &st->file));
            break;
        }
        snprintf(p2, sizeof p2, "%s.times", path);
        TRY(get_numbers(c, s[S_TIMES].val, s[S_TIMES].key, p2, DIM_TIME, NUM_FINITE | NUM_NONNEG, &st->times_ms,
                        &st->n_spikes));
        if (s[S_NEURONS].key) {
            uint64_t total = 0, nn = 0;
            char lim[128];
            for (uint32_t k = 0; k < st->n_to; k++)
                total += c->d->pops[st->to[k]].size;
            snprintf(lim, sizeof lim, "the targets have %llu neurons", (unsigned long long)total);
            snprintf(p2, sizeof p2, "%s.neurons", path);
            TRY(get_indices(c, s[S_NEURONS].val, s[S_NEURONS].key, p2, total, lim, &st->neuron, &nn));
            if (nn != st->n_spikes)
                return FAIL(c, s[S_NEURONS].val, s[S_NEURONS].key, "%s: %llu neurons for %llu times", p2,
                            (unsigned long long)nn, (unsigned long long)st->n_spikes);
        } else if (st->n_spikes > 0) {
            if ((st->neuron = norn_malloc_n(st->n_spikes, sizeof *st->neuron)) == NULL)
                return oom(c);
            for (uint64_t k = 0; k < st->n_spikes; k++)
                st->neuron[k] = UINT32_MAX;
        }
        break;
    }
    return NORN_OK;
}

/* ------------------------------------------------------------------ */
/* projections                                                         */

static norn_status parse_conn(ctx *c, const slot *cs, const char *path, norn_desc_proj *pj)
{
    static const struct {
        const char *name;
        norn_conn_rule rule;
        const char *param;
    } rules[] = {
        {"all_to_all", NORN_CONN_ALL_TO_ALL, NULL},
        {"one_to_one", NORN_CONN_ONE_TO_ONE, NULL},
        {"fixed_probability", NORN_CONN_FIXED_PROBABILITY, "p"},
        {"fixed_indegree", NORN_CONN_FIXED_INDEGREE, "indegree"},
        {"fixed_outdegree", NORN_CONN_FIXED_OUTDEGREE, "outdegree"},
        {"fixed_total_number", NORN_CONN_FIXED_TOTAL_NUMBER, "N"},
        {"from_matrix", NORN_CONN_FROM_MATRIX, NULL},
        {"from_list", NORN_CONN_FROM_LIST, "file"},
    };
    enum { N_RULES = sizeof rules / sizeof rules[0] };
    char p2[PATH_LEN + 32], list[LIST_LEN];
    norn_conn_spec *cn = &pj->conn;
    memset(cn, 0, sizeof *cn);
    cn->allow_autapses = 1;
    cn->allow_multapses = 1;
    if (cs->key == NULL) {
        pj->conn_given = 0;
        cn->rule = pj->weight.file ? NORN_CONN_FROM_MATRIX : NORN_CONN_ALL_TO_ALL;
        return NORN_OK;
    }
    pj->conn_given = 1;
    snprintf(p2, sizeof p2, "%s.connect", path);
    node *n = cs->val;
    slot rs = {cs->key, n};
    if (is_map(n) && !lookup(n, "rule", &rs))
        return FAIL(c, n, cs->key, "%s: missing required key 'rule'", p2);
    if (is_map(n))
        snprintf(p2, sizeof p2, "%s.connect.rule", path);
    const char *rn = NULL;
    TRY(get_name(c, rs.val, rs.key, p2, &rn));
    int r = 0;
    while (r < N_RULES && strcmp(rules[r].name, rn) != 0)
        r++;
    if (r == N_RULES) {
        const char *names[N_RULES];
        for (int k = 0; k < N_RULES; k++)
            names[k] = rules[k].name;
        return FAIL(c, rs.val, rs.key, "%s: unknown rule '%s'; known: %s", p2, rn,
                    join(list, sizeof list, names, N_RULES));
    }
    cn->rule = rules[r].rule;
    snprintf(p2, sizeof p2, "%s.connect", path);
    slot s[4];
    memset(s, 0, sizeof s);
    if (is_map(n) && cn->rule == NORN_CONN_FROM_LIST) {
        /* {rule: from_list, file: syn.npy}: every listed synapse is kept */
        const char *keys[2] = {"rule", "file"};
        TRY(fields(c, n, cs->key, p2, keys, 2, s));
        s[3] = s[1];
        memset(&s[1], 0, sizeof s[1]);
    } else if (is_map(n)) {
        const char *keys[4] = {"rule", "allow_autapses", "allow_multapses", rules[r].param};
        TRY(fields(c, n, cs->key, p2, keys, rules[r].param ? 4 : 3, s));
        char p3[PATH_LEN + 64];
        snprintf(p3, sizeof p3, "%s.allow_autapses", p2);
        if (s[1].key)
            TRY(get_bool(c, s[1].val, s[1].key, p3, &cn->allow_autapses));
        snprintf(p3, sizeof p3, "%s.allow_multapses", p2);
        if (s[2].key)
            TRY(get_bool(c, s[2].val, s[2].key, p3, &cn->allow_multapses));
    }
    if (rules[r].param) {
        if (!s[3].key)
            return FAIL(c, n, cs->key, "%s: %s needs '%s'", p2, rn, rules[r].param);
        char p3[PATH_LEN + 64];
        snprintf(p3, sizeof p3, "%s.%s", p2, rules[r].param);
        if (cn->rule == NORN_CONN_FROM_LIST) {
            TRY(get_file(c, s[3].val, s[3].key, p3, ext_npy, &pj->list_file));
        } else if (cn->rule == NORN_CONN_FIXED_PROBABILITY) {
            TRY(get_number(c, s[3].val, s[3].key, p3, DIM_NONE, NULL, &cn->p));
            if (!(cn->p >= 0 && cn->p <= 1))
                return FAIL(c, s[3].val, s[3].key, "%s: must be in [0, 1], got %g", p3, cn->p);
        } else {
            long long v;
            TRY(get_int(c, s[3].val, s[3].key, p3, &v));
            if (v < 0)
                return FAIL(c, s[3].val, s[3].key, "%s: must be >= 0, got %lld", p3, v);
            uint64_t need_n = (uint64_t)v;
            if (cn->rule == NORN_CONN_FIXED_INDEGREE)
                cn->indegree = need_n;
            else if (cn->rule == NORN_CONN_FIXED_OUTDEGREE)
                cn->outdegree = need_n;
            else
                cn->total = need_n;
            /* Without multapses, the count must fit in what is there. */
            for (uint32_t k = 0; k < pj->n_to; k++) {
                const norn_desc_pop *src = &c->d->pops[pj->from], *tgt = &c->d->pops[pj->to[k]];
                uint64_t ns = src->size, nt = tgt->size;
                int cut = pj->from == pj->to[k] && !cn->allow_autapses;
                uint64_t avail;
                const char *what;
                if (cn->rule == NORN_CONN_FIXED_INDEGREE)
                    avail = ns - (uint64_t)cut, what = "sources";
                else if (cn->rule == NORN_CONN_FIXED_OUTDEGREE)
                    avail = nt - (uint64_t)cut, what = "targets";
                else
                    avail = ns * nt - (cut ? ns : 0), what = "pairs";
                if (need_n > 0 && (avail == 0 || (!cn->allow_multapses && need_n > avail)))
                    return FAIL(c, s[3].val, s[3].key, "%s: %llu is more than the %llu possible %s from %s to %s%s",
                                p3, (unsigned long long)need_n, (unsigned long long)avail, what, src->name,
                                tgt->name, cn->allow_multapses ? "" : " without multapses");
            }
        }
    }
    node *rule_at = rs.val ? rs.val : rs.key;
    snprintf(p2, sizeof p2, is_map(n) ? "%s.connect.rule" : "%s.connect", path);
    if (cn->rule == NORN_CONN_FROM_MATRIX && pj->weight.file == NULL)
        return FAIL(c, rule_at, cs->key, "%s: from_matrix needs a weight file (weight: {file: w.npy})", p2);
    if (cn->rule == NORN_CONN_ONE_TO_ONE)
        for (uint32_t k = 0; k < pj->n_to; k++) {
            const norn_desc_pop *src = &c->d->pops[pj->from], *tgt = &c->d->pops[pj->to[k]];
            if (src->size != tgt->size)
                return FAIL(c, rule_at, cs->key, "%s: one_to_one needs equal sizes; %s has %u neurons, %s has %u", p2,
                            src->name, src->size, tgt->name, tgt->size);
        }
    return NORN_OK;
}

/* A number in [0, 1] ((0, 1] when lo_open), or def when absent. */
static norn_status unit_interval(ctx *c, const slot *s, const char *path, const char *key, int lo_open, double def,
                                 double *out)
{
    TRY(opt_number(c, s, path, key, DIM_NONE, def, out));
    if (s->key && !((lo_open ? *out > 0 : *out >= 0) && *out <= 1))
        return FAIL(c, s->val, s->key, "%s.%s: must be in %s0, 1], got %g", path, key, lo_open ? "(" : "[", *out);
    return NORN_OK;
}

/* A number > 0 (positive) or >= 0, or def when absent. */
static norn_status opt_pos(ctx *c, const slot *s, const char *path, const char *key, dim d, double def, int strict,
                           double *out)
{
    TRY(opt_number(c, s, path, key, d, def, out));
    if (s->key && !(strict ? *out > 0 : *out >= 0))
        return FAIL(c, s->val, s->key, "%s.%s: must be %s 0, got %g", path, key, strict ? ">" : ">=", *out);
    return NORN_OK;
}

/* Pfister & Gerstner (2006), table 4: the triplet rule's published fits
 * (tau_plus 16.8 ms, tau_minus 33.7 ms in all of them). */
typedef struct {
    const char *name;
    double tau_x, tau_y, a2p, a3p, a2m, a3m;
    int nearest;
} triplet_preset;
static const triplet_preset triplet_presets[] = {
    {"visual_cortex_all_to_all", 101, 125, 5e-10, 6.2e-3, 7e-3, 2.3e-4, 0},
    {"visual_cortex_nearest", 714, 40, 8.8e-11, 5.3e-2, 6.6e-3, 3.1e-3, 1},
    {"visual_cortex_minimal_all_to_all", 101, 125, 0, 6.5e-3, 7.1e-3, 0, 0},
    {"visual_cortex_minimal_nearest", 714, 40, 0, 7.2e-2, 8e-3, 0, 1},
    {"hippocampal_all_to_all", 946, 27, 6.1e-3, 6.7e-3, 1.6e-3, 1.4e-3, 0},
    {"hippocampal_nearest", 575, 47, 4.6e-3, 9.1e-3, 3e-3, 7.5e-9, 1},
};

/* plasticity: {rule: stdp | stdp_nn_* | stdp_pl | stdp_triplet, ...}:
 * NEST's names in continuous/grid mode, Norse's (rule stdp only) in euler. */
static norn_status parse_stdp(ctx *c, const slot *ps, const slot *rs, const char *rn, const char *p0,
                              norn_stdp_spec *sp)
{
    node *n = ps->val;
    char p2[PATH_LEN + 32];
    snprintf(p2, sizeof p2, "%s.rule", p0);
    memset(sp, 0, sizeof *sp);
    if (c->d->mode == NORN_MODE_EULER) {
        if (strcmp(rn, "stdp") != 0)
            return FAIL(c, rs->val, rs->key, "%s: rule '%s' is NEST's and needs continuous or grid mode; in euler "
                                             "mode use rule: stdp (Norse's stdp_step_linear)", p2, rn);
        static const char *const keys[] = {"rule", "a_pre", "a_post", "tau_pre_inv", "tau_post_inv", "w_min", "w_max",
                                           "eta_plus", "eta_minus", "stdp_algorithm", "mu", "hardbound"};
        enum { A_PRE = 1, A_POST, TPRE, TPOST, WMIN, WMAX, ETAP, ETAM, ALG, MU, HARD };
        slot s[12];
        TRY(fields(c, n, ps->key, p0, keys, 12, s));
        sp->rule = NORN_STDP_NORSE;
        TRY(opt_number(c, &s[A_PRE], p0, "a_pre", DIM_NONE, 1.0, &sp->a_pre));
        TRY(opt_number(c, &s[A_POST], p0, "a_post", DIM_NONE, 1.0, &sp->a_post));
        TRY(opt_pos(c, &s[TPRE], p0, "tau_pre_inv", DIM_FREQ, 20.0, 0, &sp->tau_pre_inv));
        TRY(opt_pos(c, &s[TPOST], p0, "tau_post_inv", DIM_FREQ, 20.0, 0, &sp->tau_post_inv));
        TRY(opt_number(c, &s[WMIN], p0, "w_min", DIM_WEIGHT, 0.0, &sp->w_min));
        TRY(opt_number(c, &s[WMAX], p0, "w_max", DIM_WEIGHT, 1.0, &sp->w_max));
        if (!(sp->w_min <= sp->w_max))
            return FAIL(c, s[WMAX].val ? s[WMAX].val : s[WMIN].val, s[WMAX].key ? s[WMAX].key : ps->key,
                        "%s: w_min %g must be <= w_max %g", p0, sp->w_min, sp->w_max);
        TRY(opt_number(c, &s[ETAP], p0, "eta_plus", DIM_NONE, 1e-3, &sp->eta_plus));
        TRY(opt_number(c, &s[ETAM], p0, "eta_minus", DIM_NONE, 1e-3, &sp->eta_minus));
        TRY(opt_number(c, &s[MU], p0, "mu", DIM_NONE, 0.0, &sp->mu));
        sp->hardbound = 1;
        if (s[HARD].key) {
            snprintf(p2, sizeof p2, "%s.hardbound", p0);
            TRY(get_bool(c, s[HARD].val, s[HARD].key, p2, &sp->hardbound));
        }
        sp->algorithm = NORN_NORSE_ADDITIVE;
        if (s[ALG].key) {
            static const char *const algs[] = {"additive", "additive_step", "multiplicative_pow",
                                               "multiplicative_relu"};
            const char *an;
            snprintf(p2, sizeof p2, "%s.stdp_algorithm", p0);
            TRY(get_name(c, s[ALG].val, s[ALG].key, p2, &an));
            int k = 0;
            while (k < 4 && strcmp(an, algs[k]) != 0)
                k++;
            if (k == 4)
                return FAIL(c, s[ALG].val, s[ALG].key, "%s: unknown algorithm '%s'; known: additive, additive_step, "
                                                       "multiplicative_pow, multiplicative_relu", p2, an);
            sp->algorithm = k;
        }
        return NORN_OK;
    }
    if (strcmp(rn, "stdp_triplet") == 0) {
        static const char *const keys[] = {"rule", "preset", "tau_plus", "tau_plus_triplet", "tau_minus",
                                           "tau_minus_triplet", "Aplus", "Aminus", "Aplus_triplet", "Aminus_triplet",
                                           "Wmax", "nearest"};
        enum { PRESET = 1, TP, TX, TM, TY, AP, AM, A3P, A3M, WMAX, NEAREST };
        slot s[12];
        TRY(fields(c, n, ps->key, p0, keys, 12, s));
        sp->rule = NORN_STDP_TRIPLET;
        /* NEST's defaults: the visual-cortex all-to-all fit, tau_minus 20 and
         * tau_minus_triplet 110 ms (its neuron defaults) */
        triplet_preset pr = {"", 101, 110, 5e-10, 6.2e-3, 7e-3, 2.3e-4, 0};
        double tm = 20.0;
        if (s[PRESET].key) {
            const char *name;
            snprintf(p2, sizeof p2, "%s.preset", p0);
            TRY(get_name(c, s[PRESET].val, s[PRESET].key, p2, &name));
            size_t k = 0, np = sizeof triplet_presets / sizeof triplet_presets[0];
            while (k < np && strcmp(name, triplet_presets[k].name) != 0)
                k++;
            if (k == np)
                return FAIL(c, s[PRESET].val, s[PRESET].key, "%s: unknown preset '%s'; known: "
                            "visual_cortex_all_to_all, visual_cortex_nearest, visual_cortex_minimal_all_to_all, "
                            "visual_cortex_minimal_nearest, hippocampal_all_to_all, hippocampal_nearest", p2, name);
            pr = triplet_presets[k];
            tm = 33.7;
        }
        TRY(opt_pos(c, &s[TP], p0, "tau_plus", DIM_TIME, 16.8, 1, &sp->tau_plus));
        TRY(opt_pos(c, &s[TX], p0, "tau_plus_triplet", DIM_TIME, pr.tau_x, 1, &sp->tau_x));
        TRY(opt_pos(c, &s[TM], p0, "tau_minus", DIM_TIME, tm, 1, &sp->tau_minus));
        TRY(opt_pos(c, &s[TY], p0, "tau_minus_triplet", DIM_TIME, pr.tau_y, 1, &sp->tau_y));
        TRY(opt_pos(c, &s[AP], p0, "Aplus", DIM_WEIGHT, pr.a2p, 0, &sp->Aplus));
        TRY(opt_pos(c, &s[AM], p0, "Aminus", DIM_WEIGHT, pr.a2m, 0, &sp->Aminus));
        TRY(opt_pos(c, &s[A3P], p0, "Aplus_triplet", DIM_WEIGHT, pr.a3p, 0, &sp->Aplus_triplet));
        TRY(opt_pos(c, &s[A3M], p0, "Aminus_triplet", DIM_WEIGHT, pr.a3m, 0, &sp->Aminus_triplet));
        TRY(opt_pos(c, &s[WMAX], p0, "Wmax", DIM_WEIGHT, 100.0, 1, &sp->Wmax));
        sp->nearest = pr.nearest;
        if (s[NEAREST].key) {
            snprintf(p2, sizeof p2, "%s.nearest", p0);
            TRY(get_bool(c, s[NEAREST].val, s[NEAREST].key, p2, &sp->nearest));
        }
        return NORN_OK;
    }
    if (strcmp(rn, "stdp_pl") == 0) {
        static const char *const keys[] = {"rule", "tau_plus", "tau_minus", "lambda", "alpha", "mu"};
        enum { TP = 1, TM, LAMBDA, ALPHA, MU };
        slot s[6];
        TRY(fields(c, n, ps->key, p0, keys, 6, s));
        sp->rule = NORN_STDP_PL;
        TRY(opt_pos(c, &s[TP], p0, "tau_plus", DIM_TIME, 20.0, 1, &sp->tau_plus));
        TRY(opt_pos(c, &s[TM], p0, "tau_minus", DIM_TIME, 20.0, 1, &sp->tau_minus));
        TRY(opt_pos(c, &s[LAMBDA], p0, "lambda", DIM_NONE, 0.1, 0, &sp->lambda));
        TRY(opt_pos(c, &s[ALPHA], p0, "alpha", DIM_NONE, 1.0, 0, &sp->alpha));
        TRY(opt_pos(c, &s[MU], p0, "mu", DIM_NONE, 0.4, 0, &sp->mu_plus));
        sp->Wmax = INFINITY;
        return NORN_OK;
    }
    static const char *const names[] = {"stdp", "stdp_nn_symm", "stdp_nn_pre_centered", "stdp_nn_restr"};
    static const int rules[] = {NORN_STDP_PAIR, NORN_STDP_NN_SYMM, NORN_STDP_NN_PRE, NORN_STDP_NN_RESTR};
    int k = 0;
    while (k < 4 && strcmp(rn, names[k]) != 0)
        k++;
    if (k == 4)
        return FAIL(c, rs->val, rs->key, "%s: unknown plasticity rule '%s'", p2, rn);
    static const char *const keys[] = {"rule", "tau_plus", "tau_minus", "lambda", "alpha", "mu_plus", "mu_minus",
                                       "Wmax"};
    enum { TP = 1, TM, LAMBDA, ALPHA, MUP, MUM, WMAX };
    slot s[8];
    TRY(fields(c, n, ps->key, p0, keys, 8, s));
    sp->rule = rules[k];
    TRY(opt_pos(c, &s[TP], p0, "tau_plus", DIM_TIME, 20.0, 1, &sp->tau_plus));
    TRY(opt_pos(c, &s[TM], p0, "tau_minus", DIM_TIME, 20.0, 1, &sp->tau_minus));
    TRY(opt_pos(c, &s[LAMBDA], p0, "lambda", DIM_NONE, 0.01, 0, &sp->lambda));
    TRY(opt_pos(c, &s[ALPHA], p0, "alpha", DIM_NONE, 1.0, 0, &sp->alpha));
    TRY(opt_pos(c, &s[MUP], p0, "mu_plus", DIM_NONE, 1.0, 0, &sp->mu_plus));
    TRY(opt_pos(c, &s[MUM], p0, "mu_minus", DIM_NONE, 1.0, 0, &sp->mu_minus));
    TRY(opt_number(c, &s[WMAX], p0, "Wmax", DIM_WEIGHT, 100.0, &sp->Wmax));
    if (sp->Wmax == 0)
        return FAIL(c, s[WMAX].val, s[WMAX].key, "%s.Wmax: must not be 0", p0);
    return NORN_OK;
}

/* plasticity: {rule: tsodyks2 | tsodyks_markram, ...}; the rule decides
 * the keys, and the mode decides the rule. */
static norn_status parse_stp(ctx *c, const slot *ps, const char *path, norn_desc_stp *stp, norn_stdp_spec *stdp)
{
    static const char *const ts2_keys[] = {"rule", "U", "u", "x", "tau_rec", "tau_fac"};
    enum { T_U = 1, T_u, T_x, T_REC, T_FAC };
    static const char *const tm_keys[] = {"rule", "U", "u", "x", "tau_f_inv", "tau_d_inv", "tau_s_inv"};
    enum { M_U = 1, M_u, M_x, M_F, M_D, M_S };
    static const char *const known = "tsodyks2, stdp, stdp_nn_symm, stdp_nn_pre_centered, stdp_nn_restr, stdp_pl, "
                                     "stdp_triplet (continuous, grid); tsodyks_markram, stdp (euler)";
    const char *mode = c->d->mode == NORN_MODE_EULER ? "euler" : c->d->mode == NORN_MODE_GRID ? "grid" : "continuous";
    char p0[PATH_LEN + 16], p2[PATH_LEN + 32];
    node *n = ps->val;
    slot rs, s[7];
    snprintf(p0, sizeof p0, "%s.plasticity", path);
    where_of(c, n, ps->key, stp->where);
    TRY(expect_map(c, n, ps->key, p0));
    if (!lookup(n, "rule", &rs))
        return FAIL(c, n, ps->key, "%s: missing required key 'rule' (%s)", p0, known);
    const char *rn = NULL;
    snprintf(p2, sizeof p2, "%s.rule", p0);
    TRY(get_name(c, rs.val, rs.key, p2, &rn));
    if (strcmp(rn, "tsodyks2") == 0) {
        if (c->d->mode == NORN_MODE_EULER)
            return FAIL(c, rs.val, rs.key, "%s: plasticity rule 'tsodyks2' is not available in euler mode; use "
                                           "tsodyks_markram (Norse's)", p2);
        TRY(fields(c, n, ps->key, p0, ts2_keys, 6, s));
        stp->rule = NORN_STP_TSODYKS2;
        TRY(unit_interval(c, &s[T_U], p0, "U", 1, 0.5, &stp->U));
        TRY(unit_interval(c, &s[T_u], p0, "u", 0, stp->U, &stp->u0));
        TRY(unit_interval(c, &s[T_x], p0, "x", 0, 1.0, &stp->x0));
        TRY(opt_number(c, &s[T_REC], p0, "tau_rec", DIM_TIME, 800.0, &stp->tau_rec_ms));
        if (!(stp->tau_rec_ms > 0))
            return FAIL(c, s[T_REC].val, s[T_REC].key, "%s.tau_rec: must be > 0, got %g", p0, stp->tau_rec_ms);
        TRY(opt_number(c, &s[T_FAC], p0, "tau_fac", DIM_TIME, 0.0, &stp->tau_fac_ms));
        TRY(nonneg(c, &s[T_FAC], p0, "tau_fac", stp->tau_fac_ms));
    } else if (strcmp(rn, "tsodyks_markram") == 0) {
        if (c->d->mode != NORN_MODE_EULER)
            return FAIL(c, rs.val, rs.key, "%s: plasticity rule 'tsodyks_markram' needs simulation.mode: euler; "
                                           "in %s mode use tsodyks2", p2, mode);
        TRY(fields(c, n, ps->key, p0, tm_keys, 7, s));
        stp->rule = NORN_STP_NORSE;
        double ignored;
        TRY(unit_interval(c, &s[M_U], p0, "U", 1, 0.45, &stp->U));
        TRY(unit_interval(c, &s[M_u], p0, "u", 0, 0.0, &stp->u0));
        TRY(unit_interval(c, &s[M_x], p0, "x", 0, 1.0, &stp->x0));
        TRY(opt_number(c, &s[M_F], p0, "tau_f_inv", DIM_FREQ, 1.0 / 50e-3, &stp->tau_f_inv));
        TRY(nonneg(c, &s[M_F], p0, "tau_f_inv", stp->tau_f_inv));
        TRY(opt_number(c, &s[M_D], p0, "tau_d_inv", DIM_FREQ, 1.0 / 750e-3, &stp->tau_d_inv));
        TRY(nonneg(c, &s[M_D], p0, "tau_d_inv", stp->tau_d_inv));
        TRY(opt_number(c, &s[M_S], p0, "tau_s_inv", DIM_FREQ, 1.0 / 20e-3, &ignored)); /* unused, as in Norse */
    } else if (strncmp(rn, "stdp", 4) == 0 && (strcmp(rn, "stdp") == 0 || strcmp(rn, "stdp_nn_symm") == 0 ||
                                                strcmp(rn, "stdp_nn_pre_centered") == 0 ||
                                                strcmp(rn, "stdp_nn_restr") == 0 || strcmp(rn, "stdp_pl") == 0 ||
                                                strcmp(rn, "stdp_triplet") == 0)) {
        return parse_stdp(c, ps, &rs, rn, p0, stdp);
    } else {
        return FAIL(c, rs.val, rs.key, "%s: unknown plasticity rule '%s'; known: %s", p2, rn, known);
    }
    return NORN_OK;
}

static norn_status parse_proj(ctx *c, node *n, node *seq, uint32_t idx, norn_desc_proj *pj)
{
    static const char *const keys[] = {"name", "from", "to", "connect", "weight", "delay", "plasticity"};
    enum { NAME, FROM, TO, CONNECT, WEIGHT, DELAY, PLAST };
    char path[PATH_LEN], p2[PATH_LEN + 32];
    slot s[7];
    norn_desc *d = c->d;
    int euler_delay = 0;
    snprintf(path, sizeof path, "projections[%u]", idx);
    where_of(c, n, seq, pj->where);
    TRY(fields(c, n, seq, path, keys, 7, s));

    snprintf(p2, sizeof p2, "%s.name", path);
    if (s[NAME].key) {
        const char *nm = NULL;
        TRY(get_name(c, s[NAME].val, s[NAME].key, p2, &nm));
        if (!good_name(nm))
            return FAIL(c, s[NAME].val, s[NAME].key, "%s: invalid name '%s'; use letters, digits, '_', '-' and '.'",
                        p2, nm);
        pj->name = norn_strdup(nm);
    } else {
        char nm[32];
        snprintf(nm, sizeof nm, "proj%u", idx);
        pj->name = norn_strdup(nm);
    }
    if (pj->name == NULL)
        return oom(c);
    for (uint32_t k = 0; k < idx; k++) {
        if (strcmp(d->projs[k].name, pj->name) != 0)
            continue;
        if (s[NAME].key)
            return FAIL(c, s[NAME].val, s[NAME].key, "%s: duplicate projection name '%s' (also projections[%u])",
                        p2, pj->name, k);
        return FAIL(c, n, seq, "%s: its default name '%s' is taken by projections[%u]; give it a name", path,
                    pj->name, k);
    }

    TRY(need(c, &s[FROM], n, seq, path, "from"));
    snprintf(p2, sizeof p2, "%s.from", path);
    TRY(pop_ref(c, s[FROM].val, s[FROM].key, p2, &pj->from));
    TRY(need(c, &s[TO], n, seq, path, "to"));
    snprintf(p2, sizeof p2, "%s.to", path);
    TRY(pop_list(c, s[TO].val, s[TO].key, p2, &pj->to, &pj->n_to));
    if (d->mode == NORN_MODE_EULER) {
        /* euler: a lag of 0 steps (this step's spikes, as Linear -> Cell) or
         * 1 step (the previous step's, as a recurrent cell); by default 0 from
         * an earlier population, 1 otherwise */
        int earlier = 1;
        for (uint32_t k = 0; k < pj->n_to; k++)
            earlier &= pj->from < pj->to[k];
        pj->euler_lag = earlier ? 0 : 1;
        if (s[DELAY].key) {
            double dl;
            snprintf(p2, sizeof p2, "%s.delay", path);
            TRY(get_number(c, s[DELAY].val, s[DELAY].key, p2, DIM_TIME, NULL, &dl));
            if (dl == 0.0 && !earlier)
                return FAIL(c, s[DELAY].val, s[DELAY].key,
                            "%s: 0 needs the source to come before every target (its spikes of a step are not "
                            "known yet when the target is updated)", p2);
            if (dl == 0.0)
                pj->euler_lag = 0;
            else if (fabs(dl - d->resolution_ms) <= 1e-9 * d->resolution_ms)
                pj->euler_lag = 1;
            else
                return FAIL(c, s[DELAY].val, s[DELAY].key,
                            "%s: in euler mode a projection acts in the same step (0) or the next (one step, %g ms); "
                            "got %g ms", p2, d->resolution_ms, dl);
            s[DELAY].key = NULL; /* the synapse table keeps its default one-step delay */
            euler_delay = 1;
        }
    }

    if (s[WEIGHT].key) {
        snprintf(p2, sizeof p2, "%s.weight", path);
        TRY(get_value(c, s[WEIGHT].val, s[WEIGHT].key, p2, DIM_WEIGHT, NULL, &pj->weight));
    } else {
        pj->weight.dist = dconst(1.0);
        snprintf(pj->weight.where, sizeof pj->weight.where, "%s", pj->where);
    }
    if (s[DELAY].key) {
        snprintf(p2, sizeof p2, "%s.delay", path);
        TRY(get_value(c, s[DELAY].val, s[DELAY].key, p2, DIM_TIME, NULL, &pj->delay));
        double dl = pj->delay.dist.value, h = d->resolution_ms;
        if (pj->delay.dist.kind == NORN_DIST_CONST) {
            if (!isfinite(dl))
                return FAIL(c, s[DELAY].val, s[DELAY].key, "%s: must be finite, got %g", p2, dl);
            if (dl < h * (1 - 1e-9))
                return FAIL(c, s[DELAY].val, s[DELAY].key, "%s: %g ms is below the resolution (%g ms)", p2, dl, h);
        } else if (pj->delay.dist.kind == NORN_DIST_UNIFORM || pj->delay.dist.min > -INFINITY) {
            /* a distribution that can draw a delay below one step fails
             * or not depending on the seed: refuse it here */
            int uni = pj->delay.dist.kind == NORN_DIST_UNIFORM;
            double lo = uni ? pj->delay.dist.low : pj->delay.dist.min;
            slot b;
            if (lo < h * (1 - 1e-9) && lookup(s[DELAY].val, uni ? "low" : "min", &b))
                return FAIL(c, b.val, b.key, "%s.%s: %g ms is below the resolution (%g ms)", p2, uni ? "low" : "min",
                            lo, h);
        }
    } else {
        pj->delay.dist = dconst(d->resolution_ms);
        snprintf(pj->delay.where, sizeof pj->delay.where, "%s", pj->where);
    }
    pj->delay_given = s[DELAY].key != NULL || euler_delay;
    TRY(parse_conn(c, &s[CONNECT], path, pj));
    if (pj->conn.rule == NORN_CONN_FROM_LIST && s[WEIGHT].key) {
        snprintf(p2, sizeof p2, "%s.weight", path);
        return FAIL(c, s[WEIGHT].key, n, "%s: from_list takes the weights from its file; remove 'weight'", p2);
    }
    if (s[PLAST].key && !is_null(s[PLAST].val))
        TRY(parse_stp(c, &s[PLAST], path, &pj->stp, &pj->stdp));
    /* an input population receives nothing, but its spikes can drive
     * learning (STDP onto it) */
    snprintf(p2, sizeof p2, "%s.to", path);
    for (uint32_t k = 0; k < pj->n_to; k++)
        if (d->pops[pj->to[k]].is_input && pj->stdp.rule == NORN_STDP_NONE)
            return FAIL(c, s[TO].val, s[TO].key,
                        "%s: '%s' is an input population; it cannot receive synapses (except plastic ones, which "
                        "only learn)", p2, d->pops[pj->to[k]].name);
    return NORN_OK;
}

/* ------------------------------------------------------------------ */
/* record                                                              */

static norn_status parse_state_rec(ctx *c, node *n, node *fb, const char *path, norn_desc_state_rec *r)
{
    static const char *const keys[] = {"population", "variables", "neurons", "interval"};
    enum { POP, VARS, NEURONS, INTERVAL };
    char p2[PATH_LEN + 32], list[LIST_LEN], b[80];
    slot s[4];
    norn_desc *d = c->d;
    where_of(c, n, fb, r->where);
    TRY(fields(c, n, fb, path, keys, 4, s));
    TRY(need(c, &s[POP], n, fb, path, "population"));
    snprintf(p2, sizeof p2, "%s.population", path);
    TRY(pop_ref(c, s[POP].val, s[POP].key, p2, &r->pop));
    const norn_desc_pop *p = &d->pops[r->pop];
    const norn_model_type *t = p->model;
    if (t->n_state == 0)
        return FAIL(c, s[POP].val, s[POP].key, "%s.population: '%s' (%s) has no state to record", path, p->name,
                    t->name);

    snprintf(p2, sizeof p2, "%s.variables", path);
    const char *all = text(s[VARS].val);
    if (!s[VARS].key) {
        r->vars[0] = t->v_index;
        r->n_vars = 1;
    } else if (all && strcmp(all, "all") == 0) {
        for (int v = 0; v < t->n_state && v < NORN_MAX_STATE; v++)
            r->vars[r->n_vars++] = v;
    } else {
        node *vn = s[VARS].val;
        int m = is_seq(vn) ? fy_node_sequence_item_count(vn) : 1;
        if (m == 0)
            return FAIL(c, vn, s[VARS].key, "%s: expected at least one state variable", p2);
        void *it = NULL;
        for (int k = 0; k < m; k++) {
            node *e = is_seq(vn) ? deref(fy_node_sequence_iterate(vn, &it)) : vn;
            const char *name = text(e);
            if (name == NULL)
                return FAIL(c, e, s[VARS].key, "%s: expected a state variable name, got %s", p2,
                            describe(e, b, sizeof b));
            int v = norn_model_state_index(t, name);
            if (v < 0) {
                const char *names[NORN_MAX_STATE];
                for (int j = 0; j < t->n_state && j < NORN_MAX_STATE; j++)
                    names[j] = t->state[j].name;
                return FAIL(c, e, s[VARS].key, "%s: unknown state variable '%s' of model %s; known: %s", p2, name,
                            t->name, join(list, sizeof list, names, t->n_state));
            }
            for (int j = 0; j < r->n_vars; j++)
                if (r->vars[j] == v)
                    return FAIL(c, e, s[VARS].key, "%s: state variable '%s' listed twice", p2, name);
            r->vars[r->n_vars++] = v;
        }
    }

    snprintf(p2, sizeof p2, "%s.neurons", path);
    all = text(s[NEURONS].val);
    if (!s[NEURONS].key) {
        if ((r->neurons = norn_malloc_n(1, sizeof *r->neurons)) == NULL)
            return oom(c);
        r->neurons[0] = 0;
        r->n_neurons = 1;
    } else if (all && strcmp(all, "all") == 0) {
        if ((r->neurons = norn_malloc_n(p->size, sizeof *r->neurons)) == NULL)
            return oom(c);
        for (uint32_t k = 0; k < p->size; k++)
            r->neurons[k] = k;
        r->n_neurons = p->size;
    } else {
        char lim[PATH_LEN];
        uint64_t m = 0;
        snprintf(lim, sizeof lim, "%s has %u neurons", p->name, p->size);
        TRY(get_indices(c, s[NEURONS].val, s[NEURONS].key, p2, p->size, lim, &r->neurons, &m));
        if (m == 0)
            return FAIL(c, s[NEURONS].val, s[NEURONS].key, "%s: expected at least one neuron", p2);
        r->n_neurons = (uint32_t)m;
    }

    r->interval_ms = d->resolution_ms;
    if (s[INTERVAL].key) {
        snprintf(p2, sizeof p2, "%s.interval", path);
        TRY(get_number(c, s[INTERVAL].val, s[INTERVAL].key, p2, DIM_TIME, NULL, &r->interval_ms));
        double k = r->interval_ms / d->resolution_ms;
        if (!isfinite(k) || !(nearbyint(k) >= 1) || fabs(k - nearbyint(k)) > 1e-9 * fmax(1.0, k))
            return FAIL(c, s[INTERVAL].val, s[INTERVAL].key,
                        "%s: must be a positive multiple of the resolution (%g ms), got %g", p2, d->resolution_ms,
                        r->interval_ms);
    }
    return NORN_OK;
}

/* A projection by name. */
static norn_status proj_ref(ctx *c, node *n, node *fb, const char *path, uint32_t *out)
{
    norn_desc *d = c->d;
    char b[80];
    const char *name = text(n);
    if (name == NULL)
        return FAIL(c, n, fb, "%s: expected a projection name, got %s", path, describe(n, b, sizeof b));
    uint32_t j = 0;
    while (j < d->n_projs && strcmp(d->projs[j].name, name) != 0)
        j++;
    if (j == d->n_projs) {
        char list[LIST_LEN];
        const char *names[64];
        int nn = 0;
        for (uint32_t q = 0; q < d->n_projs && nn < 64; q++)
            names[nn++] = d->projs[q].name;
        return FAIL(c, n, fb, "%s: no projection '%s'%s%s", path, name, nn ? "; known: " : " (there are none)",
                    nn ? join(list, sizeof list, names, nn) : "");
    }
    *out = j;
    return NORN_OK;
}

/* record.weights: a projection name, a list of names, or mappings
 * {projection: NAME, every: MS} or {projection: NAME, times: [MS, ...]}. */
static norn_status parse_weight_recs(ctx *c, node *n, node *key)
{
    static const char *const keys[] = {"projection", "every", "times"};
    norn_desc *d = c->d;
    uint32_t m = is_seq(n) ? (uint32_t)fy_node_sequence_item_count(n) : 1;
    if (m == 0)
        return NORN_OK;
    if ((d->weight_recs = norn_calloc_n(m, sizeof *d->weight_recs)) == NULL)
        return oom(c);
    d->n_weight_recs = m;
    void *it = NULL;
    for (uint32_t k = 0; k < m; k++) {
        node *e = is_seq(n) ? deref(fy_node_sequence_iterate(n, &it)) : n;
        norn_desc_weight_rec *r = &d->weight_recs[k];
        char path[PATH_LEN];
        snprintf(path, sizeof path, is_seq(n) ? "record.weights[%u]" : "record.weights", k);
        where_of(c, e, key, r->where);
        node *nm = e, *fb = key;
        if (is_map(e)) {
            slot s[3];
            TRY(fields(c, e, key, path, keys, 3, s));
            TRY(need(c, &s[0], e, key, path, "projection"));
            if (s[1].key && s[2].key)
                return FAIL(c, s[2].val, s[2].key, "%s: give either every or times, not both", path);
            if (s[2].key) {
                char p2[PATH_LEN + 16];
                snprintf(p2, sizeof p2, "%s.times", path);
                TRY(get_numbers(c, s[2].val, s[2].key, p2, DIM_TIME, NUM_FINITE | NUM_ASCENDING, &r->times_ms,
                                &r->n_times));
                if (r->n_times && !(r->times_ms[0] >= 0))
                    return FAIL(c, s[2].val, s[2].key, "%s: times must be >= 0, got %g", p2, r->times_ms[0]);
            }
            nm = s[0].val;
            fb = s[0].key;
            if (s[1].key) {
                char p2[PATH_LEN + 16];
                snprintf(p2, sizeof p2, "%s.every", path);
                TRY(get_number(c, s[1].val, s[1].key, p2, DIM_TIME, NULL, &r->every_ms));
                double q = r->every_ms / d->resolution_ms;
                if (!isfinite(q) || !(nearbyint(q) >= 1) || fabs(q - nearbyint(q)) > 1e-9 * fmax(1.0, q))
                    return FAIL(c, s[1].val, s[1].key, "%s: must be a positive multiple of the resolution (%g ms), "
                                                       "got %g", p2, d->resolution_ms, r->every_ms);
            }
        }
        TRY(proj_ref(c, nm, fb, path, &r->proj));
    }
    return NORN_OK;
}

/* One record.plasticity item: {projection: NAME, variables: [u, x], every: MS}. */
static norn_status parse_plast_rec(ctx *c, node *n, node *fb, const char *path, norn_desc_plast_rec *r)
{
    static const char *const keys[] = {"projection", "variables", "every"};
    enum { PROJ, VARS, EVERY };
    static const char *const var_names[] = {"u", "x"};
    norn_desc *d = c->d;
    char p2[PATH_LEN + 32], list[LIST_LEN], b[80];
    slot s[3];
    where_of(c, n, fb, r->where);
    TRY(fields(c, n, fb, path, keys, 3, s));
    TRY(need(c, &s[PROJ], n, fb, path, "projection"));
    snprintf(p2, sizeof p2, "%s.projection", path);
    TRY(proj_ref(c, s[PROJ].val, s[PROJ].key, p2, &r->proj));
    if (d->projs[r->proj].stp.rule == NORN_STP_NONE)
        return FAIL(c, s[PROJ].val, s[PROJ].key, "%s: projections[%u] '%s' has no plasticity to record", p2, r->proj,
                    d->projs[r->proj].name);

    if (!s[VARS].key) {
        r->vars[0] = 0;
        r->vars[1] = 1;
        r->n_vars = 2;
    } else {
        node *vn = s[VARS].val;
        snprintf(p2, sizeof p2, "%s.variables", path);
        int m = is_seq(vn) ? fy_node_sequence_item_count(vn) : 1;
        if (m == 0)
            return FAIL(c, vn, s[VARS].key, "%s: expected at least one variable (u, x)", p2);
        void *it = NULL;
        for (int k = 0; k < m; k++) {
            node *e = is_seq(vn) ? deref(fy_node_sequence_iterate(vn, &it)) : vn;
            const char *name = text(e);
            if (name == NULL)
                return FAIL(c, e, s[VARS].key, "%s: expected a variable name, got %s", p2, describe(e, b, sizeof b));
            int v = 0;
            while (v < 2 && strcmp(var_names[v], name) != 0)
                v++;
            if (v == 2)
                return FAIL(c, e, s[VARS].key, "%s: unknown plasticity variable '%s'; known: %s", p2, name,
                            join(list, sizeof list, var_names, 2));
            for (int j = 0; j < r->n_vars; j++)
                if (r->vars[j] == v)
                    return FAIL(c, e, s[VARS].key, "%s: variable '%s' listed twice", p2, name);
            r->vars[r->n_vars++] = v;
        }
    }

    r->every_ms = d->resolution_ms;
    if (s[EVERY].key) {
        snprintf(p2, sizeof p2, "%s.every", path);
        TRY(get_number(c, s[EVERY].val, s[EVERY].key, p2, DIM_TIME, NULL, &r->every_ms));
        double q = r->every_ms / d->resolution_ms;
        if (!isfinite(q) || !(nearbyint(q) >= 1) || fabs(q - nearbyint(q)) > 1e-9 * fmax(1.0, q))
            return FAIL(c, s[EVERY].val, s[EVERY].key,
                        "%s: must be a positive multiple of the resolution (%g ms), got %g", p2, d->resolution_ms,
                        r->every_ms);
    }
    return NORN_OK;
}

/* record.plasticity: one mapping or a list of them. */
static norn_status parse_plast_recs(ctx *c, node *n, node *key)
{
    norn_desc *d = c->d;
    uint32_t m = is_seq(n) ? (uint32_t)fy_node_sequence_item_count(n) : 1;
    if (m == 0)
        return NORN_OK;
    if ((d->plast_recs = norn_calloc_n(m, sizeof *d->plast_recs)) == NULL)
        return oom(c);
    d->n_plast_recs = m;
    void *it = NULL;
    for (uint32_t k = 0; k < m; k++) {
        char path[PATH_LEN];
        node *e = is_seq(n) ? deref(fy_node_sequence_iterate(n, &it)) : n;
        snprintf(path, sizeof path, is_seq(n) ? "record.plasticity[%u]" : "record.plasticity", k);
        TRY(parse_plast_rec(c, e, is_seq(n) ? n : key, path, &d->plast_recs[k]));
    }
    return NORN_OK;
}

static norn_status parse_record(ctx *c, node *map, node *key)
{
    static const char *const keys[] = {"spikes", "state", "weights", "plasticity"};
    norn_desc *d = c->d;
    slot s[4];
    memset(s, 0, sizeof s);
    if (!is_null(map))
        TRY(fields(c, map, key, "record", keys, 4, s));
    if (s[2].key && !is_null(s[2].val))
        TRY(parse_weight_recs(c, s[2].val, s[2].key));
    if (s[3].key && !is_null(s[3].val))
        TRY(parse_plast_recs(c, s[3].val, s[3].key));
    for (uint32_t i = 0; i < d->n_pops; i++)
        d->record_spikes[i] = 1;
    node *sp = s[0].val;
    const char *all = text(sp);
    if (s[0].key && !is_null(sp) && !(all && strcmp(all, "all") == 0)) {
        for (uint32_t i = 0; i < d->n_pops; i++)
            d->record_spikes[i] = 0;
        uint32_t m = is_seq(sp) ? (uint32_t)fy_node_sequence_item_count(sp) : 1;
        void *it = NULL;
        for (uint32_t k = 0; k < m; k++) {
            node *e = is_seq(sp) ? deref(fy_node_sequence_iterate(sp, &it)) : sp;
            uint32_t pi;
            TRY(pop_ref(c, e, s[0].key, "record.spikes", &pi));
            d->record_spikes[pi] = 1;
        }
    }
    node *sv = s[1].val;
    if (!s[1].key || is_null(sv))
        return NORN_OK;
    uint32_t m = is_seq(sv) ? (uint32_t)fy_node_sequence_item_count(sv) : 1;
    if (m == 0)
        return NORN_OK;
    if ((d->state_recs = norn_calloc_n(m, sizeof *d->state_recs)) == NULL)
        return oom(c);
    d->n_state_recs = m;
    void *it = NULL;
    for (uint32_t k = 0; k < m; k++) {
        char path[PATH_LEN];
        node *e = sv;
        if (is_seq(sv)) {
            e = deref(fy_node_sequence_iterate(sv, &it));
            snprintf(path, sizeof path, "record.state[%u]", k);
        } else {
            snprintf(path, sizeof path, "record.state");
        }
        TRY(parse_state_rec(c, e, is_seq(sv) ? sv : s[1].key, path, &d->state_recs[k]));
    }
    return NORN_OK;
}

/* ------------------------------------------------------------------ */
/* Document                                                            */

static norn_status check_aliases(ctx *c, node *n, int depth)
{
    if (n == NULL || depth > 1000)
        return NORN_OK;
    if (fy_node_is_alias(n)) {
        if (fy_node_resolve_alias(n) == NULL) {
            const char *s = fy_node_get_scalar0(n);
            return fail_at(c, NORN_EPARSE, __LINE__, n, NULL, "alias '*%s' has no anchor (or loops)", s ? s : "");
        }
        return NORN_OK;
    }
    void *it = NULL;
    if (is_map(n)) {
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(n, &it)) != NULL) {
            TRY(check_aliases(c, fy_node_pair_key(p), depth + 1));
            TRY(check_aliases(c, fy_node_pair_value(p), depth + 1));
        }
    } else if (is_seq(n)) {
        node *e;
        while ((e = fy_node_sequence_iterate(n, &it)) != NULL)
            TRY(check_aliases(c, e, depth + 1));
    }
    return NORN_OK;
}

static norn_status parse_doc(ctx *c)
{
    static const char *const keys[] = {"simulation", "populations", "stimuli", "projections", "record"};
    enum { SIM, POPS, STIMS, PROJS, REC };
    norn_desc *d = c->d;
    node *root = deref(c->root);
    char b[80];
    slot s[5];
    where_of(c, root, NULL, d->where);
    TRY(fields(c, root, NULL, "", keys, 5, s));
    TRY(need(c, &s[SIM], root, NULL, "", "simulation"));
    TRY(parse_sim(c, s[SIM].val, s[SIM].key));
    TRY(need(c, &s[POPS], root, NULL, "", "populations"));
    TRY(parse_pops(c, s[POPS].val, s[POPS].key));

    node *n = s[STIMS].val;
    if (s[STIMS].key && !is_null(n)) {
        if (!is_seq(n))
            return FAIL(c, n, s[STIMS].key, "stimuli: expected a list, got %s", describe(n, b, sizeof b));
        uint32_t m = (uint32_t)fy_node_sequence_item_count(n);
        if (m > 0 && (d->stims = norn_calloc_n(m, sizeof *d->stims)) == NULL)
            return oom(c);
        d->n_stims = m;
        void *it = NULL;
        for (uint32_t k = 0; k < m; k++)
            TRY(parse_stim(c, deref(fy_node_sequence_iterate(n, &it)), n, k, &d->stims[k]));
    }
    n = s[PROJS].val;
    if (s[PROJS].key && !is_null(n)) {
        if (!is_seq(n))
            return FAIL(c, n, s[PROJS].key, "projections: expected a list, got %s", describe(n, b, sizeof b));
        uint32_t m = (uint32_t)fy_node_sequence_item_count(n);
        if (m > 0 && (d->projs = norn_calloc_n(m, sizeof *d->projs)) == NULL)
            return oom(c);
        d->n_projs = m;
        void *it = NULL;
        for (uint32_t k = 0; k < m; k++)
            TRY(parse_proj(c, deref(fy_node_sequence_iterate(n, &it)), n, k, &d->projs[k]));
    }
    if ((d->record_spikes = norn_calloc_n(d->n_pops, sizeof *d->record_spikes)) == NULL)
        return oom(c);
    return parse_record(c, s[REC].key ? s[REC].val : NULL, s[REC].key);
}

/* libfyaml prints nothing: diagnostics are collected, the rest dropped. */
static void diag_drop(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag, (void)user, (void)buf, (void)len;
}

/* The file's base name without extension ("examples/brunel.yaml" -> "brunel"). */
static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    const char *dot = strrchr(b, '.');
    if (dot && dot > b)
        n = (size_t)(dot - b);
    if (n == 0)
        return norn_strdup("net");
    char *s = norn_malloc(n + 1);
    if (s) {
        memcpy(s, b, n);
        s[n] = 0;
    }
    return s;
}

/* The offset of the first byte that is not part of well-formed UTF-8
 * (a NUL counts as bad), or len. YAML and JSON are Unicode text; libfyaml
 * 0.7 loops forever on some malformed bytes (a '%' directive followed by
 * 0xff), so nothing else reaches it. */
static size_t utf8_bad(const unsigned char *s, size_t len)
{
    size_t k = 0;
    while (k < len) {
        unsigned b = s[k];
        size_t n = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
        if (b == 0 || n == 0 || b == 0xC0 || b == 0xC1 || b > 0xF4 || len - k < n)
            return k;
        for (size_t j = 1; j < n; j++)
            if ((s[k + j] & 0xC0) != 0x80)
                return k;
        if ((b == 0xE0 && s[k + 1] < 0xA0) || (b == 0xF0 && s[k + 1] < 0x90) || (b == 0xF4 && s[k + 1] > 0x8F) ||
            (b == 0xED && s[k + 1] > 0x9F)) /* overlong, beyond U+10FFFF, surrogates */
            return k;
        k += n;
    }
    return len;
}

norn_status norn_desc_parse(const char *text_, size_t len, const char *name, norn_desc **out, norn_err *err)
{
    ctx c;
    norn_status st = NORN_OK;
    struct fy_diag *diag = NULL;
    struct fy_document *doc = NULL;
    memset(&c, 0, sizeof c);
    c.name = name ? name : "<string>";
    c.text = text_;
    c.len = len;
    c.err = err;

    size_t bad = utf8_bad((const unsigned char *)text_, len);
    if (bad < len) {
        int line = 1, col = 1;
        for (size_t k = 0; k < bad; k++) {
            if (text_[k] == '\n')
                line++, col = 1;
            else if (((unsigned char)text_[k] & 0xC0) != 0x80)
                col++;
        }
        char where[NORN_WHERE_LEN];
        snprintf(where, sizeof where, "%s:%d:%d", c.name, line, col);
        return NORN_FAIL(err, NORN_EPARSE, where, "not UTF-8 text: byte 0x%02x%s", (unsigned char)text_[bad],
                         text_[bad] ? "" : " (NUL)");
    }

    norn_desc *d = norn_calloc_n(1, sizeof *d);
    if (d == NULL)
        return oom(&c);
    c.d = d;
    d->resolution_ms = 0.1;
    d->mode = NORN_MODE_GRID;
    d->seed = 1;
    d->path = norn_strdup(c.name);
    d->name = name ? base_name(c.name) : norn_strdup("net");
    const char *slash = strrchr(c.name, '/');
    if (slash) {
        size_t n = (size_t)(slash - c.name);
        if ((c.dir = norn_malloc(n + 2)) != NULL) {
            memcpy(c.dir, c.name, n);
            if (n == 0) /* "/net.yaml" */
                c.dir[n++] = '/';
            c.dir[n] = 0;
        }
    }
    if (d->path == NULL || d->name == NULL || (slash && c.dir == NULL)) {
        st = oom(&c);
        goto done;
    }

    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL;
    dc.output_fn = diag_drop;
    dc.colorize = false;
    if ((diag = fy_diag_create(&dc)) == NULL) {
        st = oom(&c);
        goto done;
    }
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg pc;
    memset(&pc, 0, sizeof pc);
    pc.flags = FYPCF_QUIET | FYPCF_ALLOW_DUPLICATE_KEYS;
    pc.diag = diag;
    doc = fy_document_build_from_string(&pc, text_, len);
    if (doc == NULL) {
        void *it = NULL;
        struct fy_diag_error *e, *first = NULL;
        while ((e = fy_diag_errors_iterate(diag, &it)) != NULL)
            if (first == NULL && e->type >= FYET_ERROR)
                first = e;
        char where[NORN_WHERE_LEN];
        if (first && first->line > 0) {
            snprintf(where, sizeof where, "%s:%d:%d", c.name, first->line, first->column > 0 ? first->column : 1);
            st = NORN_FAIL(err, NORN_EPARSE, where, "YAML syntax error: %s", first->msg ? first->msg : "?");
        } else if (first) {
            st = NORN_FAIL(err, NORN_EPARSE, c.name, "YAML syntax error: %s", first->msg ? first->msg : "?");
        } else {
            st = NORN_FAIL(err, NORN_EPARSE, c.name, "no YAML document found (is the description empty?)");
        }
        goto done;
    }
    c.root = fy_document_root(doc);
    if ((st = check_aliases(&c, c.root, 0)) != NORN_OK)
        goto done;
    st = parse_doc(&c);

done:
    if (doc)
        fy_document_destroy(doc);
    if (diag)
        fy_diag_destroy(diag);
    norn_free(c.dir);
    if (st != NORN_OK) {
        norn_desc_free(d);
        return st;
    }
    *out = d;
    return NORN_OK;
}

norn_status norn_desc_load(const char *path, norn_desc **out, norn_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NORN_FAIL(err, NORN_EIO, path, "cannot open '%s': %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = norn_malloc(cap);
    norn_status st = NORN_OK;
    if (buf == NULL) {
        fclose(f);
        return NORN_FAIL(err, NORN_ENOMEM, path, "out of memory reading '%s'", path);
    }
    for (;;) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                st = NORN_FAIL(err, NORN_EIO, path, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
        if (len == cap) {
            char *nb = norn_realloc_n(buf, cap, 2);
            if (nb == NULL) {
                st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory reading '%s'", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (st == NORN_OK)
        st = norn_desc_parse(buf, len, path, out, err);
    norn_free(buf);
    return st;
}

void norn_desc_free(norn_desc *d)
{
    if (d == NULL)
        return;
    norn_free(d->path);
    norn_free(d->name);
    for (uint32_t i = 0; d->pops && i < d->n_pops; i++) {
        norn_free(d->pops[i].name);
        for (int v = 0; v < NORN_MAX_STATE; v++)
            norn_free(d->pops[i].initial[v].file);
    }
    norn_free(d->pops);
    for (uint32_t i = 0; d->stims && i < d->n_stims; i++) {
        norn_desc_stim *s = &d->stims[i];
        norn_free(s->to);
        norn_free(s->times_ms);
        norn_free(s->amplitudes_pA);
        norn_free(s->neuron);
        norn_free(s->file);
    }
    norn_free(d->stims);
    for (uint32_t i = 0; d->projs && i < d->n_projs; i++) {
        norn_desc_proj *p = &d->projs[i];
        norn_free(p->name);
        norn_free(p->to);
        norn_free(p->weight.file);
        norn_free(p->delay.file);
        norn_free(p->list_file);
    }
    norn_free(d->projs);
    norn_free(d->record_spikes);
    for (uint32_t i = 0; d->state_recs && i < d->n_state_recs; i++)
        norn_free(d->state_recs[i].neurons);
    norn_free(d->state_recs);
    for (uint32_t k = 0; k < d->n_weight_recs; k++)
        norn_free(d->weight_recs[k].times_ms);
    norn_free(d->weight_recs);
    norn_free(d->plast_recs);
    norn_free(d);
}
