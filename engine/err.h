/* engine/err.h - status codes and error context.
 * Fallible functions return norn_status and, on failure, fill a caller-owned
 * norn_err with where (file:line:col and field path, when known) and what.
 * Library code never prints or exits; the CLI prints "where: msg" to stderr.
 */
#ifndef NORN_ERR_H
#define NORN_ERR_H

#include <stdarg.h>

typedef enum {
    NORN_OK = 0,
    NORN_EINVAL, /* bad parameter or description */
    NORN_ENOMEM, /* allocation failed or network would not fit */
    NORN_EIO,    /* file missing, unreadable or unwritable */
    NORN_EPARSE  /* syntax error in a description or data file */
} norn_status;

typedef struct {
    norn_status code;
    char where[256]; /* "net.yaml:14:7" or a file name; may be empty */
    char msg[512];   /* "populations.exc.params.tau_m: must be > 0, got -2" */
    const char *src; /* C source that raised it, for us */
    int line;
} norn_err;

/* Fills err (if not NULL) and returns code. where may be NULL. */
norn_status norn__fail(norn_err *err, norn_status code, const char *src, int line,
                       const char *where, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#define NORN_FAIL(err, code, where, ...) \
    norn__fail((err), (code), __FILE__, __LINE__, (where), __VA_ARGS__)

/* Clears err to NORN_OK. */
void norn_err_clear(norn_err *err);

/* "where: msg" or just "msg" into buf (always NUL-terminated). */
const char *norn_err_format(const norn_err *err, char *buf, unsigned long len);

const char *norn_status_name(norn_status s);

#endif
