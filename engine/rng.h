/* engine/rng.h - counter-based random streams.
 * A stream is a pure function of (seed, purpose, entity) and a counter: the
 * k-th number of neuron 17's Poisson stream is the same whichever order
 * neurons are visited, on any number of threads or ranks. Each output is
 * two rounds of a bijective 64-bit mixer keyed by the stream (a keyed
 * SplitMix construction), so distinct keys give unrelated sequences.
 * Deviates are our own code, so results do not depend on libc. No state
 * beyond the struct; copy freely. Not cryptographic.
 */
#ifndef NORN_RNG_H
#define NORN_RNG_H

#include <math.h>
#include <stdint.h>

/* Purposes: one per consumer, so streams never collide. Add at the end. */
enum {
    NORN_RNG_CONNECT = 1, /* entity: projection index << 32 | target or source id */
    NORN_RNG_WEIGHT = 2,
    NORN_RNG_DELAY = 3,
    NORN_RNG_INITIAL = 4, /* entity: population << 40 | variable << 32 | neuron */
    NORN_RNG_POISSON = 5, /* entity: stimulus << 32 | global neuron id */
    NORN_RNG_TOTAL = 6    /* fixed_total_number: one stream per projection */
};

typedef struct {
    uint64_t k0, k1; /* stream key */
    uint64_t ctr;    /* next counter */
} norn_rng;

static inline uint64_t norn_rng_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Stream for (seed, purpose, entity), counter at 0. */
static inline norn_rng norn_rng_stream(uint64_t seed, uint32_t purpose, uint64_t entity)
{
    norn_rng r;
    uint64_t a = norn_rng_mix64(seed ^ 0x6a09e667f3bcc909ULL);
    a = norn_rng_mix64(a ^ ((uint64_t)purpose * 0x9e3779b97f4a7c15ULL));
    r.k0 = norn_rng_mix64(a ^ norn_rng_mix64(entity + 0x3c6ef372fe94f82bULL));
    r.k1 = norn_rng_mix64(r.k0 ^ 0xa54ff53a5f1d36f1ULL) | 1u;
    r.ctr = 0;
    return r;
}

/* The number at counter c of stream r (does not advance). */
static inline uint64_t norn_rng_at(const norn_rng *r, uint64_t c)
{
    uint64_t z = norn_rng_mix64((c * 0x9e3779b97f4a7c15ULL) ^ r->k0);
    return norn_rng_mix64(z + r->k1);
}

static inline uint64_t norn_rng_u64(norn_rng *r) { return norn_rng_at(r, r->ctr++); }
/* One round instead of two, for the hottest consumer (grid-mode Poisson
 * counts, one draw per neuron and step): SplitMix64 started at the stream
 * key, mix64(k0 + m * golden), each round giving two 32-bit numbers:
 * counter c takes the high half of round c / 2 when c is even, its low
 * half when odd. Distinct keys start at unrelated points of its 2^64
 * cycle. A quarter of the cost of norn_rng_at per number; its own
 * sequence. */
static inline uint64_t norn_rng_fast_round(const norn_rng *r, uint64_t m)
{
    return norn_rng_mix64(r->k0 + m * 0x9e3779b97f4a7c15ULL);
}

static inline uint32_t norn_rng_fast_u32(norn_rng *r)
{
    uint64_t c = r->ctr++, z = norn_rng_fast_round(r, c >> 1);
    return (uint32_t)(c & 1 ? z : z >> 32);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NORN_RNG_X8 1
/* norn_rng_mix64 on eight lanes (vpmullq: AVX-512DQ; callers check the
 * CPU): the same bits */
__attribute__((target("avx512f,avx512dq"))) static inline __attribute__((always_inline)) __m512i
norn_rng_mix64_x8(__m512i z)
{
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                           _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ULL));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                           _mm512_set1_epi64((long long)0x94d049bb133111ebULL));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}
#endif

/* Uniform in [0, 1), 53 bits. */
static inline double norn_rng_uniform(norn_rng *r)
{
    return (double)(norn_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Uniform in (0, 1]. */
static inline double norn_rng_uniform_pos(norn_rng *r)
{
    return (double)((norn_rng_u64(r) >> 11) + 1) * 0x1.0p-53;
}

#include "engine/ziggurat_tables.h"

double norn__rng_exp_tail(norn_rng *r, uint64_t u);

/* Exponential with mean 1, by the ziggurat method (Marsaglia & Tsang 2000):
 * one 64-bit draw and a table look-up in ~99% of calls, no logarithm.
 * Bits 0-7 pick the strip, bits 11-63 the position (53 bits). */
static inline double norn_rng_exp(norn_rng *r)
{
    uint64_t u = norn_rng_u64(r);
    uint64_t j = u >> 11;
    unsigned i = (unsigned)(u & 255u);
    if (j < norn_zig_k[i])
        return (double)j * norn_zig_w[i];
    return norn__rng_exp_tail(r, u);
}

double norn__rng_exp_tail_h(uint64_t u);

/* The same exponential from norn_rng_fast_round's 64-bit output at the
 * next counter, exactly one counter a draw (the rare paths' further
 * numbers hashed from the draw): continuous-mode Poisson intervals, one per
 * arrival; the k-th next one is at counter ctr + k whatever came before. */
static inline double norn_rng_exp_fast(norn_rng *r)
{
    uint64_t u = norn_rng_fast_round(r, r->ctr++);
    uint64_t j = u >> 11;
    unsigned i = (unsigned)(u & 255u);
    if (j < norn_zig_k[i])
        return (double)j * norn_zig_w[i];
    return norn__rng_exp_tail_h(u);
}

/* Unbiased integer in [0, n), n > 0 (Lemire's multiply-shift with rejection). */
static inline uint64_t norn_rng_below(norn_rng *r, uint64_t n)
{
    __uint128_t m = (__uint128_t)norn_rng_u64(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t t = (0 - n) % n;
        while (lo < t) {
            m = (__uint128_t)norn_rng_u64(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Standard normal (Box-Muller; the second deviate is discarded so that each
 * call consumes exactly two counters). */
static inline double norn_rng_normal(norn_rng *r)
{
    double u1 = norn_rng_uniform_pos(r);
    double u2 = norn_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

/* Binomial(n, p) count: exact, by inversion for small n*p and by a
 * sequence of geometric skips otherwise. Cost O(n*min(p,1-p)+1). */
uint64_t norn_rng_binomial(norn_rng *r, uint64_t n, double p);

/* Poisson(lambda) count, exact (inversion by sequential search, split in
 * chunks of 500 for large lambda). */
uint64_t norn_rng_poisson(norn_rng *r, double lambda);

#endif
