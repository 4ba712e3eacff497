/* connectivity/dist.c - constants and random distributions (see dist.h). */
#include "connectivity/dist.h"

#include <math.h>
#include <stddef.h>

norn_dist norn_dist_const(double v)
{
    norn_dist d = {0};
    d.kind = NORN_DIST_CONST;
    d.value = v;
    d.min = -INFINITY;
    d.max = INFINITY;
    return d;
}

/* Clamp to [min, max]; NaN stays NaN so that callers can reject it. */
static double clip(const norn_dist *d, double x)
{
    if (x < d->min)
        return d->min;
    if (x > d->max)
        return d->max;
    return x;
}

double norn_dist_draw(const norn_dist *d, norn_rng *r)
{
    double x;
    switch (d->kind) {
    case NORN_DIST_CONST:
        x = d->value;
        break;
    case NORN_DIST_NORMAL:
        x = d->mean + d->std * norn_rng_normal(r);
        break;
    case NORN_DIST_UNIFORM:
        x = d->low + (d->high - d->low) * norn_rng_uniform(r);
        /* low + w*u can round up to high; keep the interval half-open. */
        if (x >= d->high && d->high > d->low)
            x = nextafter(d->high, -INFINITY);
        break;
    case NORN_DIST_LOGNORMAL:
        x = exp(d->mu + d->sigma * norn_rng_normal(r));
        break;
    default: /* ARRAY has no draw: values are indexed by the caller */
        return NAN;
    }
    return clip(d, x);
}

/* Raw (unclipped) support [lo, hi] of the distribution; lo == hi when it
 * has a single value. */
static void support(const norn_dist *d, double *lo, double *hi)
{
    switch (d->kind) {
    case NORN_DIST_CONST:
        *lo = *hi = d->value;
        return;
    case NORN_DIST_NORMAL:
        if (d->std == 0.0) {
            *lo = *hi = d->mean;
        } else {
            *lo = -INFINITY;
            *hi = INFINITY;
        }
        return;
    case NORN_DIST_UNIFORM:
        *lo = d->low;
        *hi = d->high;
        return;
    case NORN_DIST_LOGNORMAL:
        if (d->sigma == 0.0) {
            *lo = *hi = exp(d->mu);
        } else {
            *lo = 0.0;
            *hi = INFINITY;
        }
        return;
    default:
        *lo = -INFINITY;
        *hi = INFINITY;
        return;
    }
}

int norn_dist_is_const(const norn_dist *d)
{
    if (d->kind == NORN_DIST_ARRAY) {
        uint64_t n = d->rows * d->cols;
        if (d->array == NULL || n == 0)
            return 1;
        double v0 = clip(d, d->array[0]);
        for (uint64_t i = 1; i < n; i++) {
            double v = clip(d, d->array[i]);
            if (!(v == v0))
                return 0;
        }
        return 1;
    }
    double lo, hi;
    support(d, &lo, &hi);
    if (lo == hi)
        return 1;
    /* Everything clamps to one bound. */
    if (d->min == d->max)
        return 1;
    if (lo >= d->max)
        return 1;
    if (hi <= d->min)
        return 1;
    return 0;
}
