#include "engine/rng.h"

uint64_t norn_rng_binomial(norn_rng *r, uint64_t n, double p)
{
    if (n == 0 || !(p > 0.0)) /* also NaN: (uint64_t)NaN below is undefined */
        return 0;
    if (p >= 1.0)
        return n;
    int flip = p > 0.5;
    double q = flip ? 1.0 - p : p;
    /* Geometric skips: the gap to the next success is floor(log U / log(1-q)). */
    double lq = log1p(-q);
    uint64_t k = 0, pos = 0;
    for (;;) {
        double g = floor(log(norn_rng_uniform_pos(r)) / lq);
        if (g >= (double)(n - pos))
            break;
        pos += (uint64_t)g + 1;
        k++;
        if (pos >= n)
            break;
    }
    return flip ? n - k : k;
}

uint64_t norn_rng_poisson(norn_rng *r, double lambda)
{
    uint64_t total = 0;
    if (!(lambda > 0.0)) /* also NaN */
        return 0;
    if (lambda == INFINITY) /* the chunk loop below would never end */
        return UINT64_MAX;
    while (lambda > 500.0) {
        /* Poisson(a+b) = Poisson(a) + Poisson(b). */
        total += norn_rng_poisson(r, 500.0);
        lambda -= 500.0;
    }
    if (lambda <= 0.0)
        return total;
    double u = norn_rng_uniform(r);
    double pk = exp(-lambda), cdf = pk;
    uint64_t k = 0;
    while (u >= cdf && k < 10000) {
        k++;
        pk *= lambda / (double)k;
        cdf += pk;
        if (pk == 0.0 && cdf < u)
            break;
    }
    return total + k;
}

/* norn_rng_exp_fast's rare paths: as norn__rng_exp_tail, their further
 * numbers a SplitMix sequence started at the draw u itself, so that every
 * draw takes exactly one counter of its stream. */
double norn__rng_exp_tail_h(uint64_t u)
{
    uint64_t z = u;
    for (;;) {
        uint64_t j = u >> 11;
        unsigned i = (unsigned)(u & 255u);
        if (j < norn_zig_k[i])
            return (double)j * norn_zig_w[i];
        z += 0x9e3779b97f4a7c15ULL;
        double v = (double)(norn_rng_mix64(z) >> 11) * 0x1.0p-53;
        if (i == 0)
            return NORN_ZIG_R - log1p(-v); /* 1 - v in (0, 1] */
        double x = (double)j * norn_zig_w[i];
        if (norn_zig_f[i] + v * (norn_zig_f[i - 1] - norn_zig_f[i]) < exp(-x))
            return x;
        z += 0x9e3779b97f4a7c15ULL;
        u = norn_rng_mix64(z);
    }
}

/* The rare paths of the ziggurat: the base strip's tail and the wedges. */
double norn__rng_exp_tail(norn_rng *r, uint64_t u)
{
    for (;;) {
        uint64_t j = u >> 11;
        unsigned i = (unsigned)(u & 255u);
        if (j < norn_zig_k[i])
            return (double)j * norn_zig_w[i];
        if (i == 0)
            return NORN_ZIG_R - log(norn_rng_uniform_pos(r));
        double x = (double)j * norn_zig_w[i];
        if (norn_zig_f[i] + norn_rng_uniform(r) * (norn_zig_f[i - 1] - norn_zig_f[i]) < exp(-x))
            return x;
        u = norn_rng_u64(r);
    }
}
