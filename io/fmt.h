/* io/fmt.h - the shortest decimal text that reads back as the same double
 * (0.1, not 0.10000000000000001), for JSON and CSV. */
#ifndef NORN_FMT_H
#define NORN_FMT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The general way: %.15g, %.16g or %.17g, the first that reads back. */
static inline int norn_fmt_double_slow(char *buf, size_t n, double x)
{
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, n, "%.*g", prec, x);
        if (prec == 17 || strtod(buf, NULL) == x) /* 17 digits always read back */
            break;
    }
    return len;
}

/* The same text, without printf where x is m / 10^d as the division
 * rounds it (d <= 3, 0 <= x < 1e9: spike times on a grid of 0.1 ms or
 * 1 us, the common case, ~10x faster): the decimal m / 10^d then reads back
 * as x (both are the double nearest that number), and it is what %.15g
 * prints (x is within half an ulp of it, far inside half a unit of its
 * 15th digit; no exponent between 1e-3 and 1e9; trailing zeros dropped). */
static inline int norn_fmt_double(char *buf, size_t n, double x)
{
    static const double p10[4] = {1, 10, 100, 1000};
    if (n >= 24 && x >= 0 && x < 1e9 && !(x == 0 && signbit(x))) {
        for (int d = 0; d <= 3; d++) {
            double m = nearbyint(x * p10[d]);
            if (m / p10[d] != x)
                continue;
            uint64_t v = (uint64_t)m, ip = v, fp;
            for (int k = 0; k < d; k++)
                ip /= 10;
            fp = v - ip * (uint64_t)p10[d];
            char tmp[24];
            int len = 0, t = 0;
            do {
                tmp[t++] = (char)('0' + ip % 10);
                ip /= 10;
            } while (ip);
            while (t)
                buf[len++] = tmp[--t];
            if (d > 0) { /* no trailing zero: the least d is taken */
                buf[len++] = '.';
                for (int k = d - 1; k >= 0; k--, fp /= 10)
                    buf[len + k] = (char)('0' + fp % 10);
                len += d;
            }
            buf[len] = '\0';
            return len;
        }
    }
    return norn_fmt_double_slow(buf, n, x);
}

#endif
