/* io/fmt.h - the shortest decimal text that reads back as the same double
 * (0.1, not 0.10000000000000001), for JSON and CSV. */
#ifndef NORN_FMT_H
#define NORN_FMT_H

#include <stdio.h>
#include <stdlib.h>

static inline int norn_fmt_double(char *buf, size_t n, double x)
{
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    return len;
}

#endif
