/* connectivity/dist.h - a value that is a constant, a random distribution
 * or an array (from a file), used for weights, delays and initial state.
 * Draws take an explicit counter-based stream (engine/rng.h), so a value
 * depends only on (seed, purpose, entity, counter), never on call order.
 * Clipping (min/max) is applied after drawing, for every kind, by clamping.
 * Start from norn_dist_const() (min/max = -/+INFINITY) and change kind and
 * parameters: a zero-initialized norn_dist clips everything to [0, 0].
 */
#ifndef NORN_DIST_H
#define NORN_DIST_H

#include <stdint.h>

#include "engine/err.h"
#include "engine/rng.h"

typedef enum {
    NORN_DIST_CONST = 0,
    NORN_DIST_NORMAL,    /* mean, std */
    NORN_DIST_UNIFORM,   /* low, high: [low, high) */
    NORN_DIST_LOGNORMAL, /* mu, sigma of the underlying normal: exp(N(mu, sigma)) */
    NORN_DIST_ARRAY      /* values taken from `array` (borrowed) */
} norn_dist_kind;

typedef struct {
    norn_dist_kind kind;
    double value;          /* CONST */
    double mean, std;      /* NORMAL */
    double low, high;      /* UNIFORM */
    double mu, sigma;      /* LOGNORMAL */
    double min, max;       /* clipping bounds; -INFINITY / INFINITY when absent */
    /* ARRAY: values in row-major order with shape rows x cols (borrowed).
     * For projections: [n_tgt][n_src] (PyTorch Linear.weight convention). */
    const double *array;
    uint64_t rows, cols;
} norn_dist;

/* A constant. */
norn_dist norn_dist_const(double v);

/* One draw (kind != ARRAY; ARRAY gives NaN), clipped. Consumes counters of r. */
double norn_dist_draw(const norn_dist *d, norn_rng *r);

/* 1 if every value this distribution can produce equals one constant. */
int norn_dist_is_const(const norn_dist *d);

#endif
