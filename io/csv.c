/* io/csv.c - spikes as "time_ms,population,neuron" CSV.
 *
 * Writer: one buffered pass, atomic. Population names that contain ',' or
 * '"' are quoted as RFC 4180 says; names with line breaks are refused.
 * Reader: the header names the columns (any order, extra columns ignored;
 * time_ms and neuron required). Fields may be quoted on one line. Blank
 * lines may only trail the data. Lines are at most LINE_MAX_BYTES long.
 */
#include "io/csv.h"
#include "io/fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "io/atomic.h"

#define NEURON_MAX 4294967294.0 /* ids are in [0, 2^32 - 1), as in io/npy.c */
#define LINE_MAX_BYTES 4096
#define WBUF (1 << 16)

/* ---------- writer ---------- */

/* The name as a CSV field: quoted if it holds ',' or '"' or edge spaces. */
static size_t csv_field(const char *name, char *out, size_t cap)
{
    size_t len = strlen(name);
    int quote = strpbrk(name, ",\"") != NULL || (len && (name[0] == ' ' || name[len - 1] == ' '));
    size_t k = 0;
    if (!quote) {
        if (len >= cap)
            return 0;
        memcpy(out, name, len);
        return len;
    }
    if (cap < 3)
        return 0;
    out[k++] = '"';
    for (const char *p = name; *p; p++) {
        if (k + 3 > cap)
            return 0;
        if (*p == '"')
            out[k++] = '"';
        out[k++] = *p;
    }
    out[k++] = '"';
    return k;
}

static size_t fmt_u32(char *out, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

norn_status norn_csv_write_spikes(const char *path, const double *time_ms,
                                  const uint32_t *pop_of, const uint32_t *neuron,
                                  uint64_t n, const char *const *pop_names, norn_err *err)
{
    if (n && (time_ms == NULL || pop_of == NULL || neuron == NULL || pop_names == NULL))
        return NORN_FAIL(err, NORN_EINVAL, path, "spike arrays are NULL");
    enum { NAME_MAX_BYTES = 1024 };
    char name[NAME_MAX_BYTES];
    size_t name_len = 0;
    uint32_t name_of = UINT32_MAX; /* population whose name is in name[] */
    norn_afile a;
    norn_status st;
    char *buf = norn_malloc(WBUF);
    if (buf == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
    if ((st = norn_afile_open(&a, path, err)) != NORN_OK) {
        norn_free(buf);
        return st;
    }
    size_t used = (size_t)snprintf(buf, WBUF, "time_ms,population,neuron\n");
    for (uint64_t k = 0; k < n; k++) {
        if (pop_of[k] != name_of) {
            const char *s = pop_names[pop_of[k]];
            if (s == NULL) {
                st = NORN_FAIL(err, NORN_EINVAL, path,
                               "spike %" PRIu64 ": population %" PRIu32 " has no name", k,
                               pop_of[k]);
                goto fail;
            }
            if (strpbrk(s, "\r\n") != NULL) {
                st = NORN_FAIL(err, NORN_EINVAL, path,
                               "population name '%s' contains a line break", s);
                goto fail;
            }
            name_len = csv_field(s, name, sizeof name);
            if (name_len == 0 && s[0] != '\0') {
                st = NORN_FAIL(err, NORN_EINVAL, path, "population name '%.40s...' too long",
                               s);
                goto fail;
            }
            name_of = pop_of[k];
        }
        if (!isfinite(time_ms[k])) {
            st = NORN_FAIL(err, NORN_EINVAL, path,
                           "spike %" PRIu64 ": time_ms is %g, not a finite number", k,
                           time_ms[k]);
            goto fail;
        }
        /* a row: 24 (time) + 1 + name + 1 + 10 + 1 < 40 + NAME_MAX_BYTES */
        if (WBUF - used < 40 + NAME_MAX_BYTES) {
            if (fwrite(buf, 1, used, a.f) != used)
                goto io_fail;
            used = 0;
        }
        used += (size_t)norn_fmt_double(buf + used, WBUF - used, time_ms[k]);
        buf[used++] = ',';
        memcpy(buf + used, name, name_len);
        used += name_len;
        buf[used++] = ',';
        used += fmt_u32(buf + used, neuron[k]);
        buf[used++] = '\n';
    }
    if (fwrite(buf, 1, used, a.f) != used)
        goto io_fail;
    norn_free(buf);
    return norn_afile_commit(&a, err);
io_fail:;
    int e = errno;
    st = NORN_FAIL(err, NORN_EIO, path, "write failed: %s", strerror(e));
fail:
    norn_free(buf);
    norn_afile_abort(&a);
    return st;
}

/* ---------- reader ---------- */

typedef struct {
    char *s; /* NUL-terminated, unquoted, in place */
} fieldref;

/* Splits line (without its line break) at commas into at most max fields,
 * unquoting "..." fields in place. Returns the number of fields, or -1 for
 * an unterminated quote, or max + 1 if there are more. */
static int split(char *line, fieldref *f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return max + 1;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '"') {
            char *w = ++p;
            f[n].s = w;
            for (;;) {
                if (*p == '\0')
                    return -1;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p != ',' && *p != '\0')
                return -1;
            char c = *p;
            *w = '\0';
            n++;
            if (c == '\0')
                return n;
            p++;
        } else {
            f[n].s = p;
            char *c = strchr(p, ',');
            char *e = c ? c : p + strlen(p);
            char *t = e;
            while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
                t--;
            n++;
            if (c == NULL) {
                *t = '\0';
                return n;
            }
            *t = '\0';
            p = c + 1;
        }
    }
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return 0;
    return 1;
}

#define MAXCOLS 64

typedef struct {
    const char *path;
    unsigned long line;
    norn_err *err;
} pos;

static norn_status at(pos *p, norn_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static norn_status at(pos *p, norn_status code, const char *fmt, ...)
{
    char where[256], msg[512];
    snprintf(where, sizeof where, "%s:%lu", p->path, p->line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return NORN_FAIL(p->err, code, where, "%s", msg);
}

static int parse_num(const char *s, double *v)
{
    if (*s == '\0')
        return 0;
    /* decimal only: strtod would also read C's hexadecimal floats
     * ("0x10" = 16), which no CSV writer means */
    if (strpbrk(s, "xX") != NULL)
        return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0';
}

norn_status norn_csv_read_spikes(const char *path, double **time_ms, uint32_t **neuron,
                                 uint64_t *n_out, norn_err *err)
{
    pos ps = {path, 0, err};
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        return NORN_FAIL(err, NORN_EIO, path, "cannot open: %s", strerror(e));
    }
    norn_status st = NORN_OK;
    double *t = NULL;
    uint32_t *nr = NULL;
    uint64_t n = 0, cap = 1024;
    char *line = norn_malloc(LINE_MAX_BYTES + 1);
    fieldref fld[MAXCOLS];
    t = norn_malloc_n((size_t)cap, sizeof *t);
    nr = norn_malloc_n((size_t)cap, sizeof *nr);
    if (line == NULL || t == NULL || nr == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
        goto fail;
    }
    int ncol = 0, tcol = -1, ncolumn = -1;
    unsigned long first_blank = 0;
    while (fgets(line, LINE_MAX_BYTES + 1, f) != NULL) {
        ps.line++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (!feof(f)) {
            /* fgets filled the buffer unless a NUL byte cut the line short */
            st = len < LINE_MAX_BYTES ? at(&ps, NORN_EPARSE, "NUL byte in the line (not a text file?)")
                                      : at(&ps, NORN_EPARSE, "line longer than %d bytes", LINE_MAX_BYTES - 1);
            goto fail;
        }
        if (len && line[len - 1] == '\r')
            line[--len] = '\0';
        char *s = line;
        if (ps.line == 1 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
            s += 3; /* UTF-8 byte order mark */
        if (blank(s)) {
            if (first_blank == 0)
                first_blank = ps.line;
            continue;
        }
        if (first_blank) {
            ps.line = first_blank;
            st = at(&ps, NORN_EPARSE, "blank line inside the data");
            goto fail;
        }
        int k = split(s, fld, MAXCOLS);
        if (k < 0) {
            st = at(&ps, NORN_EPARSE, "unterminated quoted field");
            goto fail;
        }
        if (ncol == 0) { /* the header */
            if (k > MAXCOLS) {
                st = at(&ps, NORN_EPARSE, "more than %d columns", MAXCOLS);
                goto fail;
            }
            for (int c = 0; c < k; c++) {
                int *which = strcmp(fld[c].s, "time_ms") == 0  ? &tcol
                           : strcmp(fld[c].s, "neuron") == 0 ? &ncolumn
                                                             : NULL;
                if (which && *which >= 0) {
                    st = at(&ps, NORN_EPARSE, "duplicate column '%s'", fld[c].s);
                    goto fail;
                }
                if (which)
                    *which = c;
            }
            if (tcol < 0 || ncolumn < 0) {
                st = at(&ps, NORN_EPARSE,
                        "header has no '%s' column (expected a header line such as "
                        "time_ms,population,neuron)",
                        tcol < 0 ? "time_ms" : "neuron");
                goto fail;
            }
            ncol = k;
            continue;
        }
        if (k != ncol) {
            if (k > MAXCOLS)
                st = at(&ps, NORN_EPARSE,
                        "expected %d columns as in the header, found more than %d", ncol,
                        MAXCOLS);
            else
                st = at(&ps, NORN_EPARSE, "expected %d columns as in the header, found %d",
                        ncol, k);
            goto fail;
        }
        double tv, nv;
        if (!parse_num(fld[tcol].s, &tv)) {
            st = at(&ps, NORN_EPARSE, "time_ms: bad number '%s'", fld[tcol].s);
            goto fail;
        }
        if (!isfinite(tv)) {
            st = at(&ps, NORN_EPARSE, "time_ms: '%s' is not a finite number", fld[tcol].s);
            goto fail;
        }
        if (!parse_num(fld[ncolumn].s, &nv)) {
            st = at(&ps, NORN_EPARSE, "neuron: bad number '%s'", fld[ncolumn].s);
            goto fail;
        }
        if (nv < 0) {
            st = at(&ps, NORN_EPARSE, "neuron must be >= 0, got %s", fld[ncolumn].s);
            goto fail;
        }
        if (nv != floor(nv)) {
            st = at(&ps, NORN_EPARSE, "neuron must be an integer, got %s", fld[ncolumn].s);
            goto fail;
        }
        if (!(nv <= NEURON_MAX)) {
            st = at(&ps, NORN_EPARSE, "neuron %s out of range (at most %.0f)", fld[ncolumn].s,
                    NEURON_MAX);
            goto fail;
        }
        if (n == cap) {
            double *t2 = norn_realloc_n(t, (size_t)cap * 2, sizeof *t);
            if (t2 == NULL)
                goto nomem;
            t = t2;
            uint32_t *n2 = norn_realloc_n(nr, (size_t)cap * 2, sizeof *nr);
            if (n2 == NULL)
                goto nomem;
            nr = n2;
            cap *= 2;
        }
        t[n] = tv;
        nr[n] = (uint32_t)nv;
        n++;
    }
    if (ferror(f)) {
        int e = errno;
        st = NORN_FAIL(err, NORN_EIO, path, "read failed: %s", strerror(e));
        goto fail;
    }
    if (ncol == 0) {
        ps.line = 1;
        st = at(&ps, NORN_EPARSE, "empty file: missing the header time_ms,population,neuron");
        goto fail;
    }
    norn_free(line);
    fclose(f);
    *time_ms = t;
    *neuron = nr;
    *n_out = n;
    return NORN_OK;
nomem:
    st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory after %" PRIu64 " spikes", n);
fail:
    norn_free(line);
    norn_free(t);
    norn_free(nr);
    fclose(f);
    return st;
}
