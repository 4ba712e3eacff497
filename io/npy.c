/* io/npy.c - NumPy .npy reader and writer.
 *
 * Format (numpy/lib/format.py, "NEP 1"): "\x93NUMPY", major, minor, a
 * little-endian header length (uint16 for 1.0, uint32 for 2.0 and 3.0), then
 * the header: a Python dict literal {'descr': ..., 'fortran_order': ...,
 * 'shape': (...)} padded with spaces and ending in '\n', then the raw data.
 *
 * Reading never trusts the header: the element count and byte size are
 * checked for overflow and against the file size before anything is
 * allocated, and the data must fill the rest of the file exactly. Data is
 * streamed through one bounded chunk buffer and converted as it comes.
 */
#include "io/npy.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "io/atomic.h"

#define HEADER_MAX (1u << 20)   /* longest header we accept, bytes */
#define CHUNK_BYTES (1u << 20)  /* read buffer */
#define NEST_MAX 8              /* nesting of structured dtypes */
#define NEURON_MAX 4294967294.0 /* neuron ids are in [0, 2^32 - 1) */

static const char magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* ---------- byte order ---------- */

static int host_le(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

static uint16_t ld16(const unsigned char *p, int swap)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return swap ? __builtin_bswap16(v) : v;
}

static uint32_t ld32(const unsigned char *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static uint64_t ld64(const unsigned char *p, int swap)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return swap ? __builtin_bswap64(v) : v;
}

static double half_to_double(uint16_t h)
{
    int e = (h >> 10) & 0x1f;
    int m = h & 0x3ff;
    double v;
    if (e == 0)
        v = ldexp((double)m, -24); /* zero or subnormal */
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexp((double)(m | 0x400), e - 25);
    return (h & 0x8000) ? -v : v;
}

/* ---------- dtypes ---------- */

typedef struct {
    char kind;     /* 'b' 'i' 'u' 'f' convert; 'c' 'S' 'U' 'V' 'M' 'm' can only be skipped */
    int numeric;   /* b1, i1..i8, u1..u8, f2, f4, f8 */
    int swap;      /* stored in the other byte order than the host's */
    uint64_t size; /* bytes */
    char text[40]; /* as written in the header, for messages */
} sctype;

typedef struct {
    int found;
    uint64_t offset;
    uint64_t count; /* subarray elements; 1 for a scalar field */
    sctype t;
} field;

typedef struct {
    int structured;
    sctype t; /* element type of a plain array */
    uint64_t itemsize;
    field time, neuron; /* of a structured array */
    field pre, post, weight, delay; /* of a synapse list (norn_npy_read_synapses) */
    char descr[64];     /* descr text for messages (shortened) */
    int fortran;
    int ndim;
    uint64_t shape[NORN_NPY_MAXDIM];
    uint64_t count;
    uint64_t data_bytes;
} header;

/* Parses a type string such as "<f8", "|b1", ">u4", "|S10", "<M8[ns]".
 * Returns 0 and fills t when the type is known (numeric or skippable),
 * otherwise writes why into why. */
static int parse_type(const char *s, sctype *t, char *why, size_t whylen)
{
    memset(t, 0, sizeof *t);
    snprintf(t->text, sizeof t->text, "%s", s);
    const char *p = s;
    char order = '|';
    if (*p == '<' || *p == '>' || *p == '|' || *p == '=')
        order = *p++;
    char kind = *p ? *p++ : '\0';
    uint64_t n = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (n > UINT64_MAX / 10 / 4) {
            snprintf(why, whylen, "unknown dtype '%s': size too large", s);
            return -1;
        }
        n = n * 10 + (uint64_t)(*p++ - '0');
        digits++;
    }
    if (kind == 'M' || kind == 'm') { /* datetime64 / timedelta64, with a unit */
        if (n == 8 && *p == '[') {
            while (*p && *p != ']')
                p++;
            if (*p == ']')
                p++;
        }
    }
    if (kind == 'O') {
        snprintf(why, whylen, "unsupported dtype '%s': Python objects cannot be read", s);
        return -1;
    }
    if (!digits || *p != '\0' || strchr("biufcSaUVMm", kind) == NULL || kind == '\0') {
        snprintf(why, whylen,
                 "unknown dtype '%s' (numeric dtypes: b1, i1, i2, i4, i8, u1, u2, u4, u8, "
                 "f2, f4, f8)",
                 s);
        return -1;
    }
    if (kind == 'a')
        kind = 'S';
    int ok;
    switch (kind) {
    case 'b': ok = n == 1; break;
    case 'i':
    case 'u': ok = n == 1 || n == 2 || n == 4 || n == 8; break;
    case 'f': ok = n == 2 || n == 4 || n == 8 || n == 12 || n == 16; break;
    case 'c': ok = n == 8 || n == 16 || n == 24 || n == 32; break;
    case 'M':
    case 'm': ok = n == 8; break;
    default: ok = n > 0; break; /* S, U, V: any positive length */
    }
    if (!ok) {
        snprintf(why, whylen, "unknown dtype '%s'", s);
        return -1;
    }
    t->kind = kind;
    t->size = kind == 'U' ? n * 4 : n;
    t->numeric = kind == 'b' || kind == 'i' || kind == 'u' || (kind == 'f' && n <= 8);
    int le = order == '<' || ((order == '|' || order == '=') && host_le());
    t->swap = t->size > 1 && le != host_le();
    return 0;
}

static const char *kind_name(const sctype *t)
{
    switch (t->kind) {
    case 'c': return "complex";
    case 'f': return "long double";
    case 'S': return "byte string";
    case 'U': return "unicode string";
    case 'V': return "raw bytes";
    case 'M': return "datetime64";
    case 'm': return "timedelta64";
    default: return "non-numeric";
    }
}

/* ---------- header parser ----------
 * dict   := '{' [entry (',' entry)* [',']] '}'
 * entry  := str ':' value        keys: descr, fortran_order, shape, each once
 * descr  := str | '[' [fld (',' fld)* [',']] ']'
 * fld    := '(' name ',' descr [',' shape | ',' int] [','] ')'
 * name   := str | '(' str ',' str ')'              (title, name)
 * shape  := '(' ')' | '(' int ',' ')' | '(' int (',' int)+ [','] ')'
 * int    := digits ['L']                           (Python 2 longs)
 * str    := ['u'] quote chars quote                (' or ", with \ escapes)
 * Whitespace is allowed between all tokens; only whitespace may follow '}'.
 */

typedef struct {
    const char *start, *p, *end;
    const char *path;
    norn_err *err;
    header *h;
} cur;

static norn_status bad(cur *c, const char *what)
{
    if (c->p >= c->end)
        return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                         "header not terminated: it ends while expecting %s", what);
    char near[28];
    size_t k = 0;
    for (const char *q = c->p; q < c->end && k < 24; q++)
        near[k++] = (*q >= 32 && *q < 127) ? *q : '?';
    near[k] = '\0';
    return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                     "malformed header: expected %s at offset %ld, found \"%s\"", what,
                     (long)(c->p - c->start), near);
}

static void ws(cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int peek(cur *c, char ch)
{
    ws(c);
    return c->p < c->end && *c->p == ch;
}

static int eat(cur *c, char ch)
{
    if (peek(c, ch)) {
        c->p++;
        return 1;
    }
    return 0;
}

static norn_status expect(cur *c, char ch, const char *what)
{
    return eat(c, ch) ? NORN_OK : bad(c, what);
}

static int at_string(cur *c)
{
    ws(c);
    const char *p = c->p;
    if (p < c->end && (*p == 'u' || *p == 'U'))
        p++;
    return p < c->end && (*p == '\'' || *p == '"');
}

static norn_status string(cur *c, char *buf, size_t cap)
{
    if (!at_string(c))
        return bad(c, "a quoted string");
    if (*c->p == 'u' || *c->p == 'U')
        c->p++;
    char q = *c->p++;
    size_t n = 0;
    for (;;) {
        if (c->p >= c->end || *c->p == '\n')
            return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                             "malformed header: unterminated string at offset %ld",
                             (long)(c->p - c->start));
        char ch = *c->p++;
        if (ch == q)
            break;
        if (ch == '\\') {
            if (c->p >= c->end)
                continue;
            ch = *c->p++;
            if (ch != '\\' && ch != '\'' && ch != '"')
                return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                                 "malformed header: unsupported escape '\\%c' in a string", ch);
        }
        if (ch == '\0')
            return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                             "malformed header: NUL byte in a string");
        if (n + 1 >= cap)
            return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                             "malformed header: string longer than %zu bytes", cap - 1);
        buf[n++] = ch;
    }
    buf[n] = '\0';
    return NORN_OK;
}

static norn_status integer(cur *c, uint64_t *out)
{
    ws(c);
    if (c->p < c->end && *c->p == '-')
        return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                         "malformed header: negative dimension in shape at offset %ld",
                         (long)(c->p - c->start));
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return bad(c, "an integer");
    uint64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned d = (unsigned)(*c->p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                             "absurd shape: a dimension does not fit in 64 bits");
        v = v * 10 + d;
        c->p++;
    }
    if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
        c->p++;
    if (c->p < c->end && ((*c->p >= 'a' && *c->p <= 'z') || (*c->p >= 'A' && *c->p <= 'Z') ||
                          *c->p == '.' || *c->p == '_'))
        return bad(c, "an integer");
    *out = v;
    return NORN_OK;
}

/* '(' ints ')' with Python's tuple rules; at most max entries. */
static norn_status tuple(cur *c, uint64_t *v, int max, int *n)
{
    norn_status st;
    if ((st = expect(c, '(', "'(' opening a shape tuple")) != NORN_OK)
        return st;
    *n = 0;
    if (eat(c, ')'))
        return NORN_OK;
    for (;;) {
        uint64_t x;
        if ((st = integer(c, &x)) != NORN_OK)
            return st;
        if (*n >= max)
            return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                             "shape has more than %d dimensions (at most %d supported)", max,
                             max);
        v[(*n)++] = x;
        int comma = eat(c, ',');
        if (eat(c, ')')) {
            if (*n == 1 && !comma)
                return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                                 "malformed header: shape must be a tuple; (%" PRIu64
                                 ") is a number, write (%" PRIu64 ",)",
                                 v[0], v[0]);
            return NORN_OK;
        }
        if (!comma)
            return bad(c, "',' or ')' in a shape tuple");
    }
}

static norn_status descr(cur *c, int depth, uint64_t *itemsize);

/* One field of a structured descr: ('name', type[, shape]). */
static norn_status struct_field(cur *c, int depth, uint64_t *offset)
{
    norn_status st;
    char name[256], title[256];
    if ((st = expect(c, '(', "'(' opening a field tuple")) != NORN_OK)
        return st;
    if (peek(c, '(')) { /* (title, name) */
        c->p++;
        if ((st = string(c, title, sizeof title)) != NORN_OK ||
            (st = expect(c, ',', "',' in a (title, name) pair")) != NORN_OK ||
            (st = string(c, name, sizeof name)) != NORN_OK ||
            (st = expect(c, ')', "')' closing a (title, name) pair")) != NORN_OK)
            return st;
    } else if ((st = string(c, name, sizeof name)) != NORN_OK) {
        return st;
    }
    if ((st = expect(c, ',', "',' after a field name")) != NORN_OK)
        return st;

    field *want = NULL;
    const char *which = NULL;
    if (depth == 0 && strcmp(name, "time_ms") == 0)
        want = &c->h->time, which = "time_ms";
    else if (depth == 0 && strcmp(name, "neuron") == 0)
        want = &c->h->neuron, which = "neuron";
    else if (depth == 0 && strcmp(name, "pre") == 0)
        want = &c->h->pre, which = "pre";
    else if (depth == 0 && strcmp(name, "post") == 0)
        want = &c->h->post, which = "post";
    else if (depth == 0 && strcmp(name, "weight") == 0)
        want = &c->h->weight, which = "weight";
    else if (depth == 0 && strcmp(name, "delay") == 0)
        want = &c->h->delay, which = "delay";
    if (want && want->found)
        return NORN_FAIL(c->err, NORN_EPARSE, c->path, "header: duplicate field '%s'", which);

    uint64_t size;
    sctype t = {0};
    if (peek(c, '[')) {
        if (want)
            return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                             "field '%s' must be a number, not a nested structure", which);
        if ((st = descr(c, depth + 1, &size)) != NORN_OK)
            return st;
    } else {
        char ts[64], why[200];
        if ((st = string(c, ts, sizeof ts)) != NORN_OK)
            return st;
        if (parse_type(ts, &t, why, sizeof why) != 0)
            return NORN_FAIL(c->err, NORN_EPARSE, c->path, "field '%s': %s", name, why);
        size = t.size;
    }
    uint64_t count = 1;
    if (eat(c, ',') && !peek(c, ')')) {
        uint64_t dims[NORN_NPY_MAXDIM];
        int nd = 0;
        if (peek(c, '(')) {
            if ((st = tuple(c, dims, NORN_NPY_MAXDIM, &nd)) != NORN_OK)
                return st;
        } else {
            if ((st = integer(c, &dims[0])) != NORN_OK)
                return st;
            nd = 1;
        }
        for (int k = 0; k < nd; k++) {
            if (dims[k] && count > UINT64_MAX / dims[k])
                return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                                 "absurd dtype: field '%s' is too large", name);
            count *= dims[k];
        }
        eat(c, ',');
    }
    if ((st = expect(c, ')', "')' closing a field tuple")) != NORN_OK)
        return st;
    if (size && count > UINT64_MAX / size)
        return NORN_FAIL(c->err, NORN_EPARSE, c->path, "absurd dtype: field '%s' is too large",
                         name);
    if (want) {
        want->found = 1;
        want->offset = *offset;
        want->count = count;
        want->t = t;
    }
    if (*offset > UINT64_MAX - size * count)
        return NORN_FAIL(c->err, NORN_EPARSE, c->path, "absurd dtype: record is too large");
    *offset += size * count;
    return NORN_OK;
}

/* A structured descr '[' fields ']'; its packed size into *itemsize. */
static norn_status descr(cur *c, int depth, uint64_t *itemsize)
{
    norn_status st;
    if (depth >= NEST_MAX)
        return NORN_FAIL(c->err, NORN_EPARSE, c->path,
                         "structured dtype nested more than %d deep", NEST_MAX);
    if ((st = expect(c, '[', "'[' opening a list of fields")) != NORN_OK)
        return st;
    *itemsize = 0;
    if (eat(c, ']'))
        return NORN_OK;
    for (;;) {
        if ((st = struct_field(c, depth, itemsize)) != NORN_OK)
            return st;
        int comma = eat(c, ',');
        if (eat(c, ']'))
            return NORN_OK;
        if (!comma)
            return bad(c, "',' or ']' in the list of fields");
    }
}

static norn_status parse_header(const char *text, size_t len, const char *path, header *h,
                                norn_err *err)
{
    cur c = {text, text, text + len, path, err, h};
    norn_status st;
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    memset(h, 0, sizeof *h);
    if ((st = expect(&c, '{', "'{' opening the header dict")) != NORN_OK)
        return st;
    while (!eat(&c, '}')) {
        char key[64];
        if ((st = string(&c, key, sizeof key)) != NORN_OK)
            return st;
        if ((st = expect(&c, ':', "':' after a key")) != NORN_OK)
            return st;
        int *seen;
        if (strcmp(key, "descr") == 0)
            seen = &seen_descr;
        else if (strcmp(key, "fortran_order") == 0)
            seen = &seen_fortran;
        else if (strcmp(key, "shape") == 0)
            seen = &seen_shape;
        else
            return NORN_FAIL(err, NORN_EPARSE, path,
                             "malformed header: unknown key '%s' (expected descr, "
                             "fortran_order, shape)",
                             key);
        if (*seen)
            return NORN_FAIL(err, NORN_EPARSE, path, "malformed header: duplicate key '%s'",
                             key);
        *seen = 1;
        ws(&c);
        if (seen == &seen_descr) {
            const char *d0 = c.p;
            if (peek(&c, '[')) {
                h->structured = 1;
                if ((st = descr(&c, 0, &h->itemsize)) != NORN_OK)
                    return st;
            } else {
                char ts[64], why[200];
                if ((st = string(&c, ts, sizeof ts)) != NORN_OK)
                    return st;
                if (parse_type(ts, &h->t, why, sizeof why) != 0)
                    return NORN_FAIL(err, NORN_EPARSE, path, "%s", why);
                h->itemsize = h->t.size;
            }
            size_t dl = (size_t)(c.p - d0);
            if (dl >= sizeof h->descr)
                snprintf(h->descr, sizeof h->descr, "%.56s ...", d0);
            else
                snprintf(h->descr, sizeof h->descr, "%.*s", (int)dl, d0);
        } else if (seen == &seen_fortran) {
            if (c.end - c.p >= 4 && memcmp(c.p, "True", 4) == 0)
                h->fortran = 1, c.p += 4;
            else if (c.end - c.p >= 5 && memcmp(c.p, "False", 5) == 0)
                h->fortran = 0, c.p += 5;
            else
                return bad(&c, "True or False for fortran_order");
        } else {
            if (!peek(&c, '('))
                return bad(&c, "a tuple for shape");
            if ((st = tuple(&c, h->shape, NORN_NPY_MAXDIM, &h->ndim)) != NORN_OK)
                return st;
        }
        if (!eat(&c, ',')) {
            if ((st = expect(&c, '}', "',' or '}' after a value")) != NORN_OK)
                return st;
            break;
        }
    }
    ws(&c);
    if (c.p < c.end) {
        if (*c.p == '\0')
            return NORN_FAIL(err, NORN_EPARSE, path,
                             "malformed header: NUL byte after the dict (padding must be "
                             "spaces)");
        return bad(&c, "only spaces after the closing '}'");
    }
    if (!seen_descr || !seen_fortran || !seen_shape)
        return NORN_FAIL(err, NORN_EPARSE, path, "malformed header: missing key '%s'",
                         !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");
    return NORN_OK;
}

static void fmt_shape(char *buf, size_t cap, int ndim, const uint64_t *shape)
{
    size_t n = (size_t)snprintf(buf, cap, "(");
    for (int k = 0; k < ndim && n < cap; k++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%" PRIu64, k ? ", " : "", shape[k]);
    if (n < cap)
        snprintf(buf + n, cap - n, ndim == 1 ? ",)" : ")");
}

/* ---------- file reader ---------- */

typedef struct {
    FILE *f;
    const char *path;
    header h;
} reader;

static void show_bytes(char *buf, size_t cap, const unsigned char *b, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && k + 5 < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, (b[i] >= 32 && b[i] < 127 && b[i] != '\\') ? "%c" : "\\x%02x", b[i]);
}

/* Opens path, checks magic and version, parses the header and checks the
 * data size against the file. On success r->f is positioned at the data. */
static norn_status open_npy(const char *path, reader *r, norn_err *err)
{
    norn_status st;
    char *text = NULL;
    r->path = path;
    r->f = fopen(path, "rb");
    if (r->f == NULL) {
        int e = errno;
        return NORN_FAIL(err, NORN_EIO, path, "cannot open: %s", strerror(e));
    }
    struct stat sb;
    if (fstat(fileno(r->f), &sb) != 0) {
        int e = errno;
        st = NORN_FAIL(err, NORN_EIO, path, "cannot stat: %s", strerror(e));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = NORN_FAIL(err, NORN_EIO, path, "not a regular file");
        goto fail;
    }
    uint64_t fsize = (uint64_t)sb.st_size;

    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, r->f);
    if (got < 6 || memcmp(pre, magic, 6) != 0) {
        char shown[64];
        show_bytes(shown, sizeof shown, pre, got < 6 ? got : 6);
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "not a .npy file: bad magic (expected \"\\x93NUMPY\", found \"%s\")",
                       shown);
        goto fail;
    }
    if (got < 8) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "truncated header: the file ends after %zu bytes", got);
        goto fail;
    }
    unsigned major = pre[6], minor = pre[7];
    if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "unsupported .npy format version %u.%u (supported: 1.0, 2.0, 3.0)", major,
                       minor);
        goto fail;
    }
    size_t lenbytes = major == 1 ? 2 : 4;
    if (fread(pre + 8, 1, lenbytes, r->f) != lenbytes) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "truncated header: the file ends inside the header length");
        goto fail;
    }
    uint64_t hlen = major == 1 ? ld16(pre + 8, !host_le()) : ld32(pre + 8, !host_le());
    uint64_t prefix = 8 + lenbytes;
    if (fsize < prefix || hlen > fsize - prefix) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "truncated header: it should be %" PRIu64 " bytes, but the file ends "
                       "after %" PRIu64,
                       hlen, fsize - prefix);
        goto fail;
    }
    if (hlen > HEADER_MAX) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "header of %" PRIu64 " bytes is too long (at most %u)", hlen,
                       HEADER_MAX);
        goto fail;
    }
    text = norn_malloc((size_t)hlen + 1);
    if (text == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory reading the header");
        goto fail;
    }
    if (fread(text, 1, (size_t)hlen, r->f) != hlen) {
        int e = errno;
        st = NORN_FAIL(err, NORN_EIO, path, "read failed: %s",
                       ferror(r->f) ? strerror(e) : "file shrank while reading");
        goto fail;
    }
    text[hlen] = '\0';
    if ((st = parse_header(text, (size_t)hlen, path, &r->h, err)) != NORN_OK)
        goto fail;
    norn_free(text);
    text = NULL;

    header *h = &r->h;
    char shp[NORN_NPY_MAXDIM * 22 + 4];
    fmt_shape(shp, sizeof shp, h->ndim, h->shape);
    h->count = 1;
    for (int k = 0; k < h->ndim; k++) {
        if (h->shape[k] && h->count > UINT64_MAX / h->shape[k]) {
            st = NORN_FAIL(err, NORN_EPARSE, path,
                           "absurd shape %s: the element count overflows 64 bits", shp);
            goto fail;
        }
        h->count *= h->shape[k];
    }
    if (h->itemsize && h->count > UINT64_MAX / h->itemsize) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "absurd shape %s: the data size overflows 64 bits", shp);
        goto fail;
    }
    if (h->itemsize == 0 && h->count > 0) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "dtype %s has no bytes", h->descr);
        goto fail;
    }
    h->data_bytes = h->count * h->itemsize;
    uint64_t avail = fsize - prefix - hlen;
    if (h->data_bytes > avail) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "truncated: expected %" PRIu64 " bytes of data, found %" PRIu64
                       " (shape %s of %s)",
                       h->data_bytes, avail, shp, h->descr);
        goto fail;
    }
    if (h->data_bytes < avail) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "trailing garbage: expected %" PRIu64 " bytes of data, found %" PRIu64
                       " (shape %s of %s); NumPy writes nothing after the data",
                       h->data_bytes, avail, shp, h->descr);
        goto fail;
    }
    return NORN_OK;
fail:
    norn_free(text);
    fclose(r->f);
    r->f = NULL;
    return st;
}

/* Streams nrec records of recsize bytes through fn, one chunk at a time. */
typedef norn_status (*chunk_fn)(void *ctx, const unsigned char *buf, size_t nrec, uint64_t first,
                                norn_err *err);

static norn_status stream(reader *r, uint64_t nrec, uint64_t recsize, chunk_fn fn, void *ctx,
                          norn_err *err)
{
    if (nrec == 0)
        return NORN_OK;
    uint64_t per = recsize >= CHUNK_BYTES ? 1 : CHUNK_BYTES / recsize;
    if (per > nrec)
        per = nrec;
    /* per * recsize <= max(CHUNK_BYTES, recsize) <= the checked data size. */
    unsigned char *buf = norn_malloc_n((size_t)per, (size_t)recsize);
    if (buf == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, r->path, "out of memory reading the data");
    norn_status st = NORN_OK;
    for (uint64_t done = 0; done < nrec;) {
        size_t k = (size_t)(nrec - done < per ? nrec - done : per);
        if (fread(buf, (size_t)recsize, k, r->f) != k) {
            int e = errno;
            st = NORN_FAIL(err, NORN_EIO, r->path, "read failed: %s",
                           ferror(r->f) ? strerror(e) : "file shrank while reading");
            break;
        }
        if ((st = fn(ctx, buf, k, done, err)) != NORN_OK)
            break;
        done += k;
    }
    norn_free(buf);
    return st;
}

/* ---------- conversions ---------- */

static double bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double bits_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* n elements of numeric type t, stride bytes apart, to double. */
static void to_double(const unsigned char *s, size_t stride, size_t n, const sctype *t,
                      double *d)
{
    int sw = t->swap;
    switch (t->kind * 16 + (int)t->size) {
    case 'b' * 16 + 1:
        for (size_t i = 0; i < n; i++)
            d[i] = s[i * stride] != 0;
        break;
    case 'i' * 16 + 1:
        for (size_t i = 0; i < n; i++)
            d[i] = (int8_t)s[i * stride];
        break;
    case 'u' * 16 + 1:
        for (size_t i = 0; i < n; i++)
            d[i] = s[i * stride];
        break;
    case 'i' * 16 + 2:
        for (size_t i = 0; i < n; i++)
            d[i] = (int16_t)ld16(s + i * stride, sw);
        break;
    case 'u' * 16 + 2:
        for (size_t i = 0; i < n; i++)
            d[i] = ld16(s + i * stride, sw);
        break;
    case 'f' * 16 + 2:
        for (size_t i = 0; i < n; i++)
            d[i] = half_to_double(ld16(s + i * stride, sw));
        break;
    case 'i' * 16 + 4:
        for (size_t i = 0; i < n; i++)
            d[i] = (int32_t)ld32(s + i * stride, sw);
        break;
    case 'u' * 16 + 4:
        for (size_t i = 0; i < n; i++)
            d[i] = ld32(s + i * stride, sw);
        break;
    case 'f' * 16 + 4:
        for (size_t i = 0; i < n; i++)
            d[i] = bits_f32(ld32(s + i * stride, sw));
        break;
    case 'i' * 16 + 8:
        for (size_t i = 0; i < n; i++)
            d[i] = (double)(int64_t)ld64(s + i * stride, sw);
        break;
    case 'u' * 16 + 8:
        for (size_t i = 0; i < n; i++)
            d[i] = (double)ld64(s + i * stride, sw);
        break;
    case 'f' * 16 + 8:
        for (size_t i = 0; i < n; i++)
            d[i] = bits_f64(ld64(s + i * stride, sw));
        break;
    }
}

/* n neuron ids of numeric type t to uint32, each checked to be an integer
 * in [0, NEURON_MAX]. Returns the index of the first bad one, or n; its
 * value as text in bad. */
static size_t to_neuron(const unsigned char *s, size_t stride, size_t n, const sctype *t,
                        uint32_t *d, char *badv, size_t badcap)
{
    int sw = t->swap;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = s + i * stride;
        if (t->kind == 'u') {
            uint64_t v = t->size == 1 ? p[0]
                       : t->size == 2 ? ld16(p, sw)
                       : t->size == 4 ? ld32(p, sw)
                                      : ld64(p, sw);
            if (v > (uint64_t)NEURON_MAX) {
                snprintf(badv, badcap, "%" PRIu64, v);
                return i;
            }
            d[i] = (uint32_t)v;
        } else if (t->kind == 'i') {
            int64_t v = t->size == 1 ? (int8_t)p[0]
                      : t->size == 2 ? (int16_t)ld16(p, sw)
                      : t->size == 4 ? (int32_t)ld32(p, sw)
                                     : (int64_t)ld64(p, sw);
            if (v < 0 || v > (int64_t)NEURON_MAX) {
                snprintf(badv, badcap, "%" PRId64, v);
                return i;
            }
            d[i] = (uint32_t)v;
        } else {
            double v = NAN;
            to_double(p, stride, 1, t, &v);
            if (!(v >= 0.0 && v <= NEURON_MAX) || v != floor(v)) {
                snprintf(badv, badcap, "%.17g", v);
                return i;
            }
            d[i] = (uint32_t)v;
        }
    }
    return n;
}

/* ---------- norn_npy_read ---------- */

typedef struct {
    double *out;
    const sctype *t;
    /* Fortran order: the C-order index of the next element, and an odometer
     * over the file's (first axis fastest) order. */
    int fortran, ndim;
    uint64_t pos, idx[NORN_NPY_MAXDIM], shape[NORN_NPY_MAXDIM], cstride[NORN_NPY_MAXDIM];
    double tmp[1024];
} plain_ctx;

static norn_status plain_chunk(void *vctx, const unsigned char *buf, size_t n, uint64_t first,
                               norn_err *err)
{
    (void)err;
    plain_ctx *c = vctx;
    size_t sz = (size_t)c->t->size;
    if (!c->fortran) {
        to_double(buf, sz, n, c->t, c->out + first);
        return NORN_OK;
    }
    for (size_t i = 0; i < n;) {
        size_t k = n - i < 1024 ? n - i : 1024;
        to_double(buf + i * sz, sz, k, c->t, c->tmp);
        for (size_t j = 0; j < k; j++) {
            c->out[c->pos] = c->tmp[j];
            for (int a = 0; a < c->ndim; a++) {
                c->pos += c->cstride[a];
                if (++c->idx[a] < c->shape[a])
                    break;
                c->idx[a] = 0;
                c->pos -= c->cstride[a] * c->shape[a];
            }
        }
        i += k;
    }
    return NORN_OK;
}

norn_status norn_npy_read(const char *path, norn_npy_array *out, norn_err *err)
{
    reader r;
    norn_status st = open_npy(path, &r, err);
    if (st != NORN_OK)
        return st;
    header *h = &r.h;
    double *data = NULL;
    plain_ctx *ctx = NULL;
    if (h->structured) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "structured dtype %s where a numeric array was expected", h->descr);
        goto fail;
    }
    if (!h->t.numeric) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "unsupported dtype '%s' (%s; numeric dtypes: b1, i1..i8, u1..u8, f2, "
                       "f4, f8)",
                       h->t.text, kind_name(&h->t));
        goto fail;
    }
    /* count * itemsize fits in the file, so count * 8 fits in size_t on any
     * machine that could hold the file; norn_malloc_n checks anyway. */
    data = norn_malloc_n(h->count ? (size_t)h->count : 1, sizeof *data);
    if (data == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory for %" PRIu64 " elements",
                       h->count);
        goto fail;
    }
    int fortran = h->fortran && h->ndim > 1;
    if (!fortran && h->t.kind == 'f' && h->t.size == 8 && !h->t.swap) {
        if (fread(data, 8, (size_t)h->count, r.f) != h->count) {
            int e = errno;
            st = NORN_FAIL(err, NORN_EIO, path, "read failed: %s",
                           ferror(r.f) ? strerror(e) : "file shrank while reading");
            goto fail;
        }
    } else {
        ctx = norn_malloc(sizeof *ctx);
        if (ctx == NULL) {
            st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
            goto fail;
        }
        memset(ctx, 0, offsetof(plain_ctx, tmp));
        ctx->out = data;
        ctx->t = &h->t;
        ctx->fortran = fortran;
        ctx->ndim = h->ndim;
        uint64_t stride = 1;
        for (int a = h->ndim - 1; a >= 0; a--) {
            ctx->shape[a] = h->shape[a];
            ctx->cstride[a] = stride;
            stride *= h->shape[a];
        }
        if ((st = stream(&r, h->count, h->itemsize, plain_chunk, ctx, err)) != NORN_OK)
            goto fail;
    }
    fclose(r.f);
    norn_free(ctx);
    out->ndim = h->ndim;
    memset(out->shape, 0, sizeof out->shape);
    memcpy(out->shape, h->shape, sizeof h->shape[0] * (size_t)h->ndim);
    out->count = h->count;
    out->data = data;
    return NORN_OK;
fail:
    norn_free(ctx);
    norn_free(data);
    fclose(r.f);
    return st;
}

void norn_npy_array_free(norn_npy_array *a)
{
    if (a == NULL)
        return;
    norn_free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---------- norn_npy_read_spikes ---------- */

typedef struct {
    const char *path;
    double *time;      /* or NULL: this pass has no times */
    uint32_t *neuron;  /* or NULL */
    size_t toff, noff; /* byte offsets inside a record */
    const sctype *tt, *nt;
    size_t recsize;
} spike_ctx;

static norn_status spike_chunk(void *vctx, const unsigned char *buf, size_t n, uint64_t first,
                               norn_err *err)
{
    spike_ctx *c = vctx;
    if (c->time) {
        double *d = c->time + first;
        to_double(buf + c->toff, c->recsize, n, c->tt, d);
        for (size_t i = 0; i < n; i++)
            if (!isfinite(d[i]))
                return NORN_FAIL(err, NORN_EPARSE, c->path,
                                 "spike %" PRIu64 ": time_ms is %g, not a finite number",
                                 first + i, d[i]);
    }
    if (c->neuron) {
        char v[32];
        size_t i = to_neuron(buf + c->noff, c->recsize, n, c->nt, c->neuron + first, v, sizeof v);
        if (i < n)
            return NORN_FAIL(err, NORN_EPARSE, c->path,
                             "spike %" PRIu64 ": neuron %s is not an integer in [0, %.0f]",
                             first + i, v, NEURON_MAX);
    }
    return NORN_OK;
}

norn_status norn_npy_read_spikes(const char *path, double **time_ms, uint32_t **neuron,
                                 uint64_t *n_out, norn_err *err)
{
    reader r;
    norn_status st = open_npy(path, &r, err);
    if (st != NORN_OK)
        return st;
    header *h = &r.h;
    double *t = NULL;
    uint32_t *nr = NULL;
    char shp[NORN_NPY_MAXDIM * 22 + 4];
    fmt_shape(shp, sizeof shp, h->ndim, h->shape);
    spike_ctx c = {.path = path};
    uint64_t n;
    int has_neuron, fortran_cols = 0;

    if (h->structured) {
        if (!h->time.found || !h->neuron.found) {
            st = NORN_FAIL(err, NORN_EPARSE, path,
                           "spikes: structured dtype %s has no field '%s'", h->descr,
                           h->time.found ? "neuron" : "time_ms");
            goto fail;
        }
        const char *tk = h->time.t.kind ? strchr("iuf", h->time.t.kind) : NULL;
        if (tk == NULL || !h->time.t.numeric || h->time.count != 1) {
            st = NORN_FAIL(err, NORN_EPARSE, path,
                           "spikes: field 'time_ms' must be a float or integer scalar, got '%s'%s",
                           h->time.t.text, h->time.count != 1 ? " with a subarray shape" : "");
            goto fail;
        }
        const char *nk = h->neuron.t.kind ? strchr("iu", h->neuron.t.kind) : NULL;
        if (nk == NULL || h->neuron.count != 1) {
            st = NORN_FAIL(err, NORN_EPARSE, path,
                           "spikes: field 'neuron' must be an integer scalar, got '%s'%s",
                           h->neuron.t.text, h->neuron.count != 1 ? " with a subarray shape" : "");
            goto fail;
        }
        if (h->ndim != 1) {
            st = NORN_FAIL(err, NORN_EPARSE, path,
                           "spikes: a structured spike array must be 1-D, got shape %s", shp);
            goto fail;
        }
        n = h->shape[0];
        has_neuron = 1;
        c.toff = (size_t)h->time.offset;
        c.noff = (size_t)h->neuron.offset;
        c.tt = &h->time.t;
        c.nt = &h->neuron.t;
        c.recsize = (size_t)h->itemsize;
    } else {
        if (!h->t.numeric || h->t.kind == 'b') {
            st = NORN_FAIL(err, NORN_EPARSE, path, "spikes: dtype '%s' cannot hold spike %s",
                           h->t.text, h->t.numeric ? "times" : "data");
            goto fail;
        }
        if (h->ndim == 1) {
            n = h->shape[0];
            has_neuron = 0;
            c.recsize = (size_t)h->itemsize;
        } else if (h->ndim == 2 && h->shape[1] == 2) {
            n = h->shape[0];
            has_neuron = 1;
            fortran_cols = h->fortran;
            c.recsize = (size_t)h->itemsize * (fortran_cols ? 1 : 2);
            c.noff = fortran_cols ? 0 : (size_t)h->itemsize;
        } else {
            st = NORN_FAIL(err, NORN_EPARSE, path,
                           "spikes: expected a structured array with fields time_ms and "
                           "neuron, an [n, 2] array of (time_ms, neuron) or a 1-D array of "
                           "times; got shape %s of '%s'",
                           shp, h->t.text);
            goto fail;
        }
        c.tt = c.nt = &h->t;
    }

    t = norn_malloc_n(n ? (size_t)n : 1, sizeof *t);
    if (has_neuron)
        nr = norn_malloc_n(n ? (size_t)n : 1, sizeof *nr);
    if (t == NULL || (has_neuron && nr == NULL)) {
        st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory for %" PRIu64 " spikes", n);
        goto fail;
    }
    if (fortran_cols) { /* all times, then all neurons */
        c.time = t;
        if ((st = stream(&r, n, c.recsize, spike_chunk, &c, err)) != NORN_OK)
            goto fail;
        c.time = NULL;
        c.neuron = nr;
        if ((st = stream(&r, n, c.recsize, spike_chunk, &c, err)) != NORN_OK)
            goto fail;
    } else {
        c.time = t;
        c.neuron = nr;
        if ((st = stream(&r, n, c.recsize, spike_chunk, &c, err)) != NORN_OK)
            goto fail;
    }
    fclose(r.f);
    *time_ms = t;
    *neuron = nr;
    *n_out = n;
    return NORN_OK;
fail:
    norn_free(t);
    norn_free(nr);
    fclose(r.f);
    return st;
}

/* ---------- norn_npy_read_synapses ---------- */

typedef struct {
    const char *path;
    uint32_t *pre, *post;
    double *weight, *delay;
    const header *h;
} syn_ctx;

static norn_status syn_ids(const syn_ctx *c, const unsigned char *buf, size_t n, uint64_t first, const field *f,
                           const char *name, uint32_t *out, norn_err *err)
{
    char v[32];
    size_t i = to_neuron(buf + f->offset, (size_t)c->h->itemsize, n, &f->t, out + first, v, sizeof v);
    if (i < n)
        return NORN_FAIL(err, NORN_EPARSE, c->path, "row %" PRIu64 ": field '%s': %s is not an index in [0, %.0f]",
                         first + i, name, v, NEURON_MAX);
    return NORN_OK;
}

static norn_status syn_vals(const syn_ctx *c, const unsigned char *buf, size_t n, uint64_t first, const field *f,
                            const char *name, double *out, norn_err *err)
{
    double *d = out + first;
    to_double(buf + f->offset, (size_t)c->h->itemsize, n, &f->t, d);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(d[i]))
            return NORN_FAIL(err, NORN_EPARSE, c->path, "row %" PRIu64 ": field '%s': %g is not a finite number",
                             first + i, name, d[i]);
    return NORN_OK;
}

static norn_status syn_chunk(void *vctx, const unsigned char *buf, size_t n, uint64_t first, norn_err *err)
{
    syn_ctx *c = vctx;
    norn_status st;
    if ((st = syn_ids(c, buf, n, first, &c->h->pre, "pre", c->pre, err)) != NORN_OK ||
        (st = syn_ids(c, buf, n, first, &c->h->post, "post", c->post, err)) != NORN_OK ||
        (st = syn_vals(c, buf, n, first, &c->h->weight, "weight", c->weight, err)) != NORN_OK)
        return st;
    if (c->delay)
        return syn_vals(c, buf, n, first, &c->h->delay, "delay", c->delay, err);
    return NORN_OK;
}

norn_status norn_npy_read_synapses(const char *path, uint32_t **pre, uint32_t **post, double **weight,
                                   double **delay, uint64_t *n_out, norn_err *err)
{
    reader r;
    norn_status st = open_npy(path, &r, err);
    if (st != NORN_OK)
        return st;
    header *h = &r.h;
    syn_ctx c = {.path = path, .h = h};
    if (!h->structured) {
        st = NORN_FAIL(err, NORN_EPARSE, path,
                       "dtype '%s': a synapse list is a structured array with fields pre, post, weight "
                       "(and optionally delay)", h->t.text);
        goto fail;
    }
    const struct {
        const field *f;
        const char *name, *kinds;
        int required;
    } want[] = {{&h->pre, "pre", "iu", 1}, {&h->post, "post", "iu", 1}, {&h->weight, "weight", "iuf", 1},
                {&h->delay, "delay", "iuf", 0}};
    for (int k = 0; k < 4; k++) {
        const field *f = want[k].f;
        if (!f->found) {
            if (!want[k].required)
                continue;
            st = NORN_FAIL(err, NORN_EPARSE, path,
                           "no field '%s' (a synapse list has fields pre, post, weight and optionally delay; "
                           "dtype %s)", want[k].name, h->descr);
            goto fail;
        }
        if (!f->t.numeric || f->t.kind == 'b' || !strchr(want[k].kinds, f->t.kind) || f->count != 1) {
            st = NORN_FAIL(err, NORN_EPARSE, path, "field '%s': type '%s'%s; expected %s", want[k].name, f->t.text,
                           f->count != 1 ? " with a subarray shape" : "",
                           want[k].kinds[2] ? "a number (float32 or float64)" : "an integer (uint32)");
            goto fail;
        }
    }
    if (h->ndim != 1) {
        char shp[NORN_NPY_MAXDIM * 22 + 4];
        fmt_shape(shp, sizeof shp, h->ndim, h->shape);
        st = NORN_FAIL(err, NORN_EPARSE, path, "a synapse list must be 1-D, got shape %s", shp);
        goto fail;
    }
    uint64_t n = h->shape[0];
    size_t m = n ? (size_t)n : 1;
    c.pre = norn_malloc_n(m, sizeof *c.pre);
    c.post = norn_malloc_n(m, sizeof *c.post);
    c.weight = norn_malloc_n(m, sizeof *c.weight);
    c.delay = h->delay.found ? norn_malloc_n(m, sizeof *c.delay) : NULL;
    if (!c.pre || !c.post || !c.weight || (h->delay.found && !c.delay)) {
        st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory for %" PRIu64 " synapses", n);
        goto fail;
    }
    if ((st = stream(&r, n, h->itemsize, syn_chunk, &c, err)) != NORN_OK)
        goto fail;
    fclose(r.f);
    *pre = c.pre;
    *post = c.post;
    *weight = c.weight;
    if (delay)
        *delay = c.delay;
    else
        norn_free(c.delay);
    *n_out = n;
    return NORN_OK;
fail:
    norn_free(c.pre);
    norn_free(c.post);
    norn_free(c.weight);
    norn_free(c.delay);
    fclose(r.f);
    return st;
}

/* ---------- writers ---------- */

/* Writes magic, version 1.0, length and the header dict, padded with
 * spaces and ended by '\n' so that the data starts at a multiple of 64. */
static norn_status write_header(norn_afile *a, const char *descr, int ndim,
                                const uint64_t *shape, norn_err *err)
{
    char shp[NORN_NPY_MAXDIM * 22 + 4];
    char buf[512];
    fmt_shape(shp, sizeof shp, ndim, shape);
    int len = snprintf(buf + 10, sizeof buf - 10,
                       "{'descr': %s, 'fortran_order': False, 'shape': %s, }", descr, shp);
    size_t total = 10 + (size_t)len + 1; /* + '\n' */
    size_t pad = (64 - total % 64) % 64;
    if (total + pad > sizeof buf)
        return NORN_FAIL(err, NORN_EINVAL, a->path, "npy header too long");
    memset(buf + 10 + len, ' ', pad);
    buf[total + pad - 1] = '\n';
    size_t hlen = total + pad - 10;
    memcpy(buf, magic, 6);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    if (fwrite(buf, 1, total + pad, a->f) != total + pad) {
        int e = errno;
        return NORN_FAIL(err, NORN_EIO, a->path, "write failed: %s", strerror(e));
    }
    return NORN_OK;
}

/* Writes n little-endian elements of size sz (4 or 8). */
static norn_status write_le(norn_afile *a, const void *data, size_t sz, uint64_t n,
                            norn_err *err)
{
    if (host_le()) {
        if (n && fwrite(data, sz, (size_t)n, a->f) != n)
            goto fail;
        return NORN_OK;
    }
    unsigned char buf[1 << 14];
    const unsigned char *s = data;
    for (uint64_t done = 0; done < n;) {
        size_t k = (size_t)(n - done < sizeof buf / sz ? n - done : sizeof buf / sz);
        for (size_t i = 0; i < k; i++)
            for (size_t b = 0; b < sz; b++)
                buf[i * sz + b] = s[(done + i) * sz + sz - 1 - b];
        if (fwrite(buf, sz, k, a->f) != k)
            goto fail;
        done += k;
    }
    return NORN_OK;
fail:;
    int e = errno;
    return NORN_FAIL(err, NORN_EIO, a->path, "write failed: %s", strerror(e));
}

static norn_status check_shape(const char *path, const void *data, int ndim,
                               const uint64_t *shape, size_t sz, uint64_t *count, norn_err *err)
{
    if (ndim < 0 || ndim > NORN_NPY_MAXDIM)
        return NORN_FAIL(err, NORN_EINVAL, path, "ndim %d out of range [0, %d]", ndim,
                         NORN_NPY_MAXDIM);
    if (ndim > 0 && shape == NULL)
        return NORN_FAIL(err, NORN_EINVAL, path, "shape is NULL");
    uint64_t c = 1;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] && c > UINT64_MAX / shape[k])
            return NORN_FAIL(err, NORN_EINVAL, path, "shape too large");
        c *= shape[k];
    }
    if (c > SIZE_MAX / sz)
        return NORN_FAIL(err, NORN_EINVAL, path, "shape too large");
    if (c && data == NULL)
        return NORN_FAIL(err, NORN_EINVAL, path, "data is NULL");
    *count = c;
    return NORN_OK;
}

static norn_status write_array(const char *path, const char *descr, const void *data, size_t sz,
                               int ndim, const uint64_t *shape, norn_err *err)
{
    uint64_t count = 0;
    norn_afile a;
    norn_status st = check_shape(path, data, ndim, shape, sz, &count, err);
    if (st != NORN_OK)
        return st;
    if ((st = norn_afile_open(&a, path, err)) != NORN_OK)
        return st;
    if ((st = write_header(&a, descr, ndim, shape, err)) != NORN_OK ||
        (st = write_le(&a, data, sz, count, err)) != NORN_OK) {
        norn_afile_abort(&a);
        return st;
    }
    return norn_afile_commit(&a, err);
}

norn_status norn_npy_write_f32(const char *path, const float *data, int ndim,
                               const uint64_t *shape, norn_err *err)
{
    return write_array(path, "'<f4'", data, 4, ndim, shape, err);
}

norn_status norn_npy_write_f64(const char *path, const double *data, int ndim,
                               const uint64_t *shape, norn_err *err)
{
    return write_array(path, "'<f8'", data, 8, ndim, shape, err);
}

norn_status norn_npy_write_spikes(const char *path, const double *time_ms,
                                  const uint32_t *neuron, uint64_t n, norn_err *err)
{
    enum { REC = 12, PER = 4096 };
    if (n && (time_ms == NULL || neuron == NULL))
        return NORN_FAIL(err, NORN_EINVAL, path, "spike arrays are NULL");
    if (n > SIZE_MAX / REC)
        return NORN_FAIL(err, NORN_EINVAL, path, "too many spikes");
    norn_afile a;
    norn_status st = norn_afile_open(&a, path, err);
    if (st != NORN_OK)
        return st;
    if ((st = write_header(&a, "[('time_ms', '<f8'), ('neuron', '<u4')]", 1, &n, err)) !=
        NORN_OK)
        goto fail;
    unsigned char buf[REC * PER];
    int swap = !host_le();
    for (uint64_t done = 0; done < n;) {
        size_t k = (size_t)(n - done < PER ? n - done : PER);
        for (size_t i = 0; i < k; i++) {
            uint64_t tb;
            uint32_t nb = neuron[done + i];
            memcpy(&tb, &time_ms[done + i], 8);
            if (swap) {
                tb = __builtin_bswap64(tb);
                nb = __builtin_bswap32(nb);
            }
            memcpy(buf + i * REC, &tb, 8);
            memcpy(buf + i * REC + 8, &nb, 4);
        }
        if (fwrite(buf, REC, k, a.f) != k) {
            int e = errno;
            st = NORN_FAIL(err, NORN_EIO, path, "write failed: %s", strerror(e));
            goto fail;
        }
        done += k;
    }
    return norn_afile_commit(&a, err);
fail:
    norn_afile_abort(&a);
    return st;
}

norn_status norn_npy_write_weights(const char *path, const uint32_t *pre, const uint32_t *post, const float *weight,
                                   const double *time_ms, uint64_t n, norn_err *err)
{
    enum { REC = 20, PER = 4096 };
    if (n && (pre == NULL || post == NULL || weight == NULL || time_ms == NULL))
        return NORN_FAIL(err, NORN_EINVAL, path, "weight arrays are NULL");
    if (n > SIZE_MAX / REC)
        return NORN_FAIL(err, NORN_EINVAL, path, "too many synapses");
    norn_afile a;
    norn_status st = norn_afile_open(&a, path, err);
    if (st != NORN_OK)
        return st;
    if ((st = write_header(&a, "[('pre', '<u4'), ('post', '<u4'), ('weight', '<f4'), ('time_ms', '<f8')]", 1, &n,
                           err)) != NORN_OK)
        goto fail;
    unsigned char buf[REC * PER];
    int swap = !host_le();
    for (uint64_t done = 0; done < n;) {
        size_t k = (size_t)(n - done < PER ? n - done : PER);
        for (size_t i = 0; i < k; i++) {
            uint32_t a32 = pre[done + i], b32 = post[done + i], wb;
            uint64_t tb;
            memcpy(&wb, &weight[done + i], 4);
            memcpy(&tb, &time_ms[done + i], 8);
            if (swap) {
                a32 = __builtin_bswap32(a32);
                b32 = __builtin_bswap32(b32);
                wb = __builtin_bswap32(wb);
                tb = __builtin_bswap64(tb);
            }
            memcpy(buf + i * REC, &a32, 4);
            memcpy(buf + i * REC + 4, &b32, 4);
            memcpy(buf + i * REC + 8, &wb, 4);
            memcpy(buf + i * REC + 12, &tb, 8);
        }
        if (fwrite(buf, REC, k, a.f) != k) {
            int e = errno;
            st = NORN_FAIL(err, NORN_EIO, path, "write failed: %s", strerror(e));
            goto fail;
        }
        done += k;
    }
    return norn_afile_commit(&a, err);
fail:
    norn_afile_abort(&a);
    return st;
}

norn_status norn_npy_write_synapses(const char *path, const uint32_t *pre, const uint32_t *post, const float *weight,
                                    uint64_t n, norn_err *err)
{
    enum { REC = 12, PER = 4096 };
    if (n && (pre == NULL || post == NULL || weight == NULL))
        return NORN_FAIL(err, NORN_EINVAL, path, "synapse arrays are NULL");
    if (n > SIZE_MAX / REC)
        return NORN_FAIL(err, NORN_EINVAL, path, "too many synapses");
    norn_afile a;
    norn_status st = norn_afile_open(&a, path, err);
    if (st != NORN_OK)
        return st;
    if ((st = write_header(&a, "[('pre', '<u4'), ('post', '<u4'), ('weight', '<f4')]", 1, &n, err)) != NORN_OK)
        goto fail;
    unsigned char buf[REC * PER];
    int swap = !host_le();
    for (uint64_t done = 0; done < n;) {
        size_t k = (size_t)(n - done < PER ? n - done : PER);
        for (size_t i = 0; i < k; i++) {
            uint32_t a32 = pre[done + i], b32 = post[done + i], wb;
            memcpy(&wb, &weight[done + i], 4);
            if (swap) {
                a32 = __builtin_bswap32(a32);
                b32 = __builtin_bswap32(b32);
                wb = __builtin_bswap32(wb);
            }
            memcpy(buf + i * REC, &a32, 4);
            memcpy(buf + i * REC + 4, &b32, 4);
            memcpy(buf + i * REC + 8, &wb, 4);
        }
        if (fwrite(buf, REC, k, a.f) != k) {
            int e = errno;
            st = NORN_FAIL(err, NORN_EIO, path, "write failed: %s", strerror(e));
            goto fail;
        }
        done += k;
    }
    return norn_afile_commit(&a, err);
fail:
    norn_afile_abort(&a);
    return st;
}
