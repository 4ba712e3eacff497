#include "engine/err.h"

#include <stdio.h>
#include <string.h>

norn_status norn__fail(norn_err *err, norn_status code, const char *src, int line,
                       const char *where, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->src = src;
    err->line = line;
    snprintf(err->where, sizeof err->where, "%s", where ? where : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void norn_err_clear(norn_err *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
}

const char *norn_err_format(const norn_err *err, char *buf, unsigned long len)
{
    if (err->where[0])
        snprintf(buf, len, "%s: %s", err->where, err->msg);
    else
        snprintf(buf, len, "%s", err->msg);
    return buf;
}

const char *norn_status_name(norn_status s)
{
    switch (s) {
    case NORN_OK: return "ok";
    case NORN_EINVAL: return "invalid input";
    case NORN_ENOMEM: return "out of memory";
    case NORN_EIO: return "i/o error";
    case NORN_EPARSE: return "parse error";
    }
    return "unknown";
}
