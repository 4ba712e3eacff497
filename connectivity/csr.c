/* connectivity/csr.c - connection rules and CSR synapse tables (see csr.h).
 *
 * Every rule is owner-driven: the synapses of one owner neuron (the target,
 * or the source for fixed_outdegree) come from streams keyed by
 * (seed, purpose, proj_index << 32 | owner), and its weights and delays are
 * drawn in generation order from the WEIGHT and DELAY streams of the same
 * owner. Regenerating an owner therefore gives the same synapses, which is
 * what makes the two-pass build possible:
 *
 *   pass 1  generate every target's sources, count per-source out-degrees
 *   alloc   row_ptr/target/weight exactly (+ a temporary uint32 delay per
 *           synapse when delays are not constant)
 *   pass 2  regenerate, draw weights and delays, scatter into the rows;
 *           targets arrive in ascending order, so rows are sorted by target
 *   finish  stable sort of each row by delay (counting sort) or by
 *           (delay, target) (merge sort, fixed_outdegree), then segments
 *
 * fixed_outdegree knows its row sizes up front and fills rows in one pass.
 * fixed_indegree and fixed_total_number with constant weight and delay
 * (Brunel's case) draw once instead (fill_quick): their nnz is known and the
 * sources go into the weight array. Up to DIRECT_SRC sources without
 * multapses each target's sources go into a bit matrix (target x source, in
 * 64 x 64 blocks) that is transposed block by block and read out row after
 * row (bits_rows), or, where the matrix would be larger than a source list,
 * are read back sorted from Floyd's bitmap and scattered into the rows tile
 * by tile (chunks of targets times blocks of rows, so that the rows being
 * filled stay cached); with multapses they are scattered into the rows
 * directly. Above DIRECT_SRC sources (brunel_100k, brunel_1m) a radix
 * partition by block of rows makes the scatter cache-friendly (quick_packed:
 * counted per block, then per row within a block; whole cache lines written
 * past the cache). The table is the same
 * either way, and the same as before these paths existed (tests pin it).
 * fixed_total_number first splits `total` among targets with the projection's
 * TOTAL stream (multinomial with multapses, multivariate hypergeometric
 * without), then each target draws its sources like fixed_indegree.
 */
#include "connectivity/csr.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "engine/mem.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { VAL_CONST, VAL_DRAW, VAL_ARRAY };

/* Sampling p >= this tests every pair (one u64 per pair); below it, skips
 * geometrically (one log per synapse). */
#define DENSE_P 0.25

typedef struct {
    const norn_proj_spec *sp;
    norn_err *err;
    norn_conn_rule rule;
    int by_source;     /* owners are sources (fixed_outdegree) */
    int unsorted;      /* rows come in any target order (from_list) */
    int rows_sorted;   /* rows come sorted by (delay, target) (fill_quick) */
    int excl_self;     /* same population without autapses */
    uint32_t n_own;    /* owners: n_tgt, or n_src when by_source */
    uint32_t t_lo, t_hi; /* the targets kept (spec's tgt_lo, tgt_hi; all by default) */
    uint32_t n_part;   /* partners: the other side */
    uint64_t avail;    /* allowed partners per owner */
    uint64_t k;        /* fixed in/out-degree */
    uint64_t *deg;     /* fixed_total_number: synapses per target */
    uint64_t *bits;    /* Floyd's set over [0, avail) */
    uint64_t *sum;     /* bit w set: bits[w] != 0 (choose_sorted) */
    uint64_t n_sum;    /* words of sum */
    uint32_t *buf;     /* partners of the current owner */
    uint64_t cap;      /* entries of buf */
    double lq;         /* fixed_probability: log(1 - p) */
    uint64_t thr;      /* fixed_probability: p * 2^64 (dense sampling) */
    int w_mode, d_mode;
    float w_const;
    uint32_t d_const;
} build;

static inline uint64_t ent(const build *b, uint32_t neuron)
{
    return ((uint64_t)b->sp->proj_index << 32) | neuron;
}

static inline double clip(const norn_dist *d, double x)
{
    if (x < d->min)
        return d->min;
    if (x > d->max)
        return d->max;
    return x;
}

/* Allowed partner j in [0, avail) -> partner index (skips the owner itself
 * when autapses are excluded). */
static inline uint32_t map(const build *b, uint32_t o, uint64_t j)
{
    return (uint32_t)(j + (uint64_t)(b->excl_self && j >= o));
}

static norn_status nomem(const build *b, const char *what, double bytes)
{
    return NORN_FAIL(b->err, NORN_ENOMEM, b->sp->where, "cannot allocate %s (%.0f bytes)", what,
                     bytes);
}

/* ---- values -------------------------------------------------------------- */

static norn_status weight_ok(const build *b, double w, uint32_t src, uint32_t tgt, float *out)
{
    float f = (float)w;
    if (!isfinite(f)) {
        if (isfinite(w))
            return NORN_FAIL(b->err, NORN_EINVAL, b->sp->where,
                             "weight %g of synapse %u -> %u does not fit in float32", w, src,
                             tgt);
        return NORN_FAIL(b->err, NORN_EINVAL, b->sp->where,
                         "weight %g of synapse %u -> %u is not finite", w, src, tgt);
    }
    *out = f;
    return NORN_OK;
}

static norn_status delay_ok(const build *b, double d, uint32_t *out)
{
    double h = b->sp->resolution_ms;
    if (!isfinite(d))
        return NORN_FAIL(b->err, NORN_EINVAL, b->sp->where, "delay %g ms is not finite", d);
    double x = d / h;
    /* Below one step (beyond rounding noise) is an error, not rounded up. */
    if (x < 1.0 - 1e-9)
        return NORN_FAIL(b->err, NORN_EINVAL, b->sp->where,
                         "delay %g ms is below the resolution %g ms (delays must be at least "
                         "one step)",
                         d, h);
    if (x >= 4294967295.0)
        return NORN_FAIL(b->err, NORN_EINVAL, b->sp->where,
                         "delay %g ms is too long (at most 4294967294 steps of %g ms)", d, h);
    long long s = llround(x);
    *out = s < 1 ? 1u : (uint32_t)s;
    return NORN_OK;
}

/* Weight and delay of synapse src -> tgt, drawn from the owner's streams. */
static inline norn_status values(const build *b, uint32_t src, uint32_t tgt, norn_rng *wr,
                                 norn_rng *dr, float *w, uint32_t *d)
{
    const norn_proj_spec *sp = b->sp;
    norn_status st;
    if (b->w_mode == VAL_CONST) {
        *w = b->w_const;
    } else {
        double x = b->w_mode == VAL_DRAW
                       ? norn_dist_draw(&sp->weight, wr)
                       : clip(&sp->weight, sp->weight.array[(uint64_t)tgt * sp->n_src + src]);
        if ((st = weight_ok(b, x, src, tgt, w)))
            return st;
    }
    if (b->d_mode == VAL_CONST) {
        *d = b->d_const;
    } else {
        double x = b->d_mode == VAL_DRAW
                       ? norn_dist_draw(&sp->delay_ms, dr)
                       : clip(&sp->delay_ms, sp->delay_ms.array[(uint64_t)tgt * sp->n_src + src]);
        if ((st = delay_ok(b, x, d)))
            return st;
    }
    return NORN_OK;
}

/* ---- choosing partners ----------------------------------------------------- */

/* Draws of norn_rng_below(r, n) are made in two steps: the stream's numbers
 * BATCH at a time, in a loop of their own (independent of each other, so
 * they pipeline), then the multiply-shift, in the loop that uses them.
 * below()'s rejection branch (the low half of the product below n, chance
 * n / 2^64) hands that draw back to norn_rng_below() itself, which may take
 * more numbers, and a new batch starts after it: the same draws, in the same
 * order, as calling norn_rng_below() each time. NORN_CSR_TEST_REJECT (the
 * connectivity_reject test suite) sends every draw down that branch. */
enum { BATCH = 64 };
#ifdef NORN_CSR_TEST_REJECT
#define REJECTS(lo, n) ((void)(lo), (void)(n), 1)
#else
#define REJECTS(lo, n) ((lo) < (n))
#endif

#ifdef NORN_RNG_X8
#define CSR_AVX512 1

__attribute__((target("avx512f,avx512dq"))) static void batch_avx512(const norn_rng *r, uint64_t *u, uint64_t m)
{
    const __m512i k0 = _mm512_set1_epi64((long long)r->k0), k1 = _mm512_set1_epi64((long long)r->k1),
                  g = _mm512_set1_epi64((long long)0x9e3779b97f4a7c15ULL),
                  step = _mm512_set1_epi64(8);
    __m512i c = _mm512_add_epi64(_mm512_set1_epi64((long long)r->ctr), _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
    uint64_t v = 0;
    for (; v + 8 <= m; v += 8, c = _mm512_add_epi64(c, step)) {
        __m512i z = norn_rng_mix64_x8(_mm512_xor_si512(_mm512_mullo_epi64(c, g), k0));
        _mm512_storeu_si512(u + v, norn_rng_mix64_x8(_mm512_add_epi64(z, k1)));
    }
    for (; v < m; v++)
        u[v] = norn_rng_at(r, r->ctr + v);
}

/* the CPU has AVX-512F and DQ (checked once) */
static int csr_avx512(void)
{
    static int has = -1;
    if (has < 0)
        has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    return has;
}
#endif

static inline void batch(const norn_rng *r, uint64_t *u, uint64_t m)
{
    uint64_t c0 = r->ctr;
#ifdef CSR_AVX512
    if (m >= 8 && csr_avx512()) {
        batch_avx512(r, u, m);
        return;
    }
#endif
    for (uint64_t v = 0; v < m; v++)
        u[v] = norn_rng_at(r, c0 + v);
}

/* Floyd's step for j: x, or j if x is in the set already (j is not: every
 * value so far is < j), joins the set; returns which. */
static inline uint64_t floyd_add(uint64_t *bits, uint64_t x, uint64_t j)
{
    x = bits[x >> 6] >> (x & 63) & 1 ? j : x;
    bits[x >> 6] |= 1ULL << (x & 63);
    return x;
}

/* k partners of owner o among the allowed ones: iid with multapses, a
 * uniform k-subset without (Floyd's algorithm: exactly k draws, whatever
 * k/avail, with a bitmap over [0, avail) that is cleared afterwards), in
 * the order drawn. */
static uint64_t choose(build *b, uint32_t o, uint64_t k)
{
    norn_rng r = norn_rng_stream(b->sp->seed, NORN_RNG_CONNECT, ent(b, o));
    uint64_t a = b->avail, u[BATCH], *bits = b->bits;
    uint32_t *buf = b->buf;
    int multi = b->sp->conn.allow_multapses;
    for (uint64_t i = 0; i < k;) {
        uint64_t m = k - i < BATCH ? k - i : BATCH, q = 0;
        batch(&r, u, m);
        if (multi) {
            for (; q < m; q++) {
                __uint128_t p = (__uint128_t)u[q] * a;
                if (REJECTS((uint64_t)p, a))
                    break;
                buf[i + q] = map(b, o, (uint64_t)(p >> 64));
            }
        } else {
            for (uint64_t j = a - k + i; q < m; q++, j++) { /* j: Floyd's [a - k, a) */
                __uint128_t p = (__uint128_t)u[q] * (j + 1);
                if (REJECTS((uint64_t)p, j + 1))
                    break;
                buf[i + q] = (uint32_t)floyd_add(bits, (uint64_t)(p >> 64), j);
            }
        }
        r.ctr += q;
        i += q;
        if (q < m) { /* the rejection branch: this draw the slow way */
            uint64_t j = a - k + i;
            buf[i] = multi ? map(b, o, norn_rng_below(&r, a))
                           : (uint32_t)floyd_add(bits, norn_rng_below(&r, j + 1), j);
            i++;
        }
    }
    if (!multi) { /* clear the set; buf[i] = map(x) (x itself with autapses) */
        for (uint64_t i = 0; i < k; i++)
            bits[buf[i] >> 6] = 0;
        if (b->excl_self)
            for (uint64_t i = 0; i < k; i++)
                buf[i] += buf[i] >= o;
    }
    return k;
}

/* Writes the set bits of w, plus `base`, to o[0 ..]: four unconditionally
 * (o has room for 4 beyond the set), a loop only for more, so that words of
 * up to four bits cost no mispredicted branch. Returns the count. */
static inline uint64_t flatten(uint32_t *o, uint64_t w, uint32_t base)
{
    /* w | 2^63: ctz is defined; a value past the set is never used */
    uint64_t c = w != 0;
    o[0] = base + (uint32_t)__builtin_ctzll(w | 1ULL << 63);
    w &= w - 1;
    c += w != 0;
    o[1] = base + (uint32_t)__builtin_ctzll(w | 1ULL << 63);
    w &= w - 1;
    c += w != 0;
    o[2] = base + (uint32_t)__builtin_ctzll(w | 1ULL << 63);
    w &= w - 1;
    c += w != 0;
    o[3] = base + (uint32_t)__builtin_ctzll(w | 1ULL << 63);
    w &= w - 1;
    while (w) {
        o[c++] = base + (uint32_t)__builtin_ctzll(w);
        w &= w - 1;
    }
    return c;
}

/* The partners choose() picks for owner o without multapses (the same
 * draws, so the same set), in ascending order, into out (room for k + 4),
 * each counted in rp[partner + 1]. The set is read back from the bitmap in
 * order, and cleared on the way: every word when there are few words per
 * draw (`dense`), else only the non-zero ones, found through a summary
 * bitmap (one bit per word, b->sum). */
static uint64_t choose_sorted(build *b, uint32_t o, uint64_t k, uint32_t *out, uint64_t *rp)
{
    norn_rng r = norn_rng_stream(b->sp->seed, NORN_RNG_CONNECT, ent(b, o));
    uint64_t a = b->avail, u[BATCH], *bits = b->bits, *sum = b->sum, words = (a + 63) >> 6;
    int dense = words <= 2 * k;
    for (uint64_t j = a - k; j < a;) {
        uint64_t m = a - j < BATCH ? a - j : BATCH, q = 0;
        batch(&r, u, m);
        if (dense) {
            for (; q < m; q++, j++) {
                __uint128_t p = (__uint128_t)u[q] * (j + 1);
                if (REJECTS((uint64_t)p, j + 1))
                    break;
                floyd_add(bits, (uint64_t)(p >> 64), j);
            }
        } else {
            for (; q < m; q++, j++) {
                __uint128_t p = (__uint128_t)u[q] * (j + 1);
                if (REJECTS((uint64_t)p, j + 1))
                    break;
                uint64_t x = floyd_add(bits, (uint64_t)(p >> 64), j);
                sum[x >> 12] |= 1ULL << (x >> 6 & 63);
            }
        }
        r.ctr += q;
        if (q < m) { /* the rejection branch: this draw the slow way */
            uint64_t x = floyd_add(bits, norn_rng_below(&r, j + 1), j);
            sum[x >> 12] |= 1ULL << (x >> 6 & 63);
            j++;
        }
    }
    uint64_t n = 0;
    if (dense) {
        for (uint64_t w = 0; w < words; w++) {
            n += flatten(out + n, bits[w], (uint32_t)(w << 6));
            bits[w] = 0;
        }
        for (uint64_t g = 0; g < b->n_sum; g++) /* marked by rejected draws only */
            sum[g] = 0;
    } else {
        for (uint64_t g = 0; g < b->n_sum; g++) {
            uint64_t m = sum[g];
            if (!m)
                continue;
            sum[g] = 0;
            do {
                uint64_t w = (g << 6) + (uint64_t)__builtin_ctzll(m);
                m &= m - 1;
                n += flatten(out + n, bits[w], (uint32_t)(w << 6));
                bits[w] = 0;
            } while (m);
        }
    }
    if (b->excl_self) {
        for (uint64_t i = 0; i < n; i++) {
            out[i] += out[i] >= o; /* map() */
            rp[out[i] + 1]++;
        }
    } else {
        for (uint64_t i = 0; i < n; i++)
            rp[out[i] + 1]++;
    }
    return n;
}

/* Partners of owner o into b->buf; returns how many. */
static uint64_t gen(build *b, uint32_t o)
{
    const norn_proj_spec *sp = b->sp;
    uint32_t *buf = b->buf;
    uint64_t a = b->avail, n = 0;
    switch (b->rule) {
    case NORN_CONN_ALL_TO_ALL:
        for (uint64_t j = 0; j < a; j++)
            buf[n++] = map(b, o, j);
        return n;
    case NORN_CONN_ONE_TO_ONE:
        buf[0] = o;
        return 1;
    case NORN_CONN_FIXED_PROBABILITY: {
        double p = sp->conn.p;
        if (p <= 0.0 || a == 0)
            return 0;
        if (p >= 1.0) {
            for (uint64_t j = 0; j < a; j++)
                buf[n++] = map(b, o, j);
            return n;
        }
        norn_rng r = norn_rng_stream(sp->seed, NORN_RNG_CONNECT, ent(b, o));
        if (p >= DENSE_P) {
            for (uint64_t j = 0; j < a; j++)
                if (norn_rng_u64(&r) < b->thr)
                    buf[n++] = map(b, o, j);
            return n;
        }
        /* Failures before the next success: floor(log U / log(1-p)). */
        uint64_t j = 0;
        for (;;) {
            double g = floor(log(norn_rng_uniform_pos(&r)) / b->lq);
            if (g >= (double)(a - j))
                break;
            j += (uint64_t)g;
            if (j >= a) /* (double) rounding of a - j */
                break;
            buf[n++] = map(b, o, j);
            j++;
        }
        return n;
    }
    case NORN_CONN_FIXED_INDEGREE:
    case NORN_CONN_FIXED_OUTDEGREE:
        return choose(b, o, b->k);
    case NORN_CONN_FIXED_TOTAL_NUMBER:
        return choose(b, o, b->deg[o]);
    case NORN_CONN_FROM_MATRIX: {
        const double *row = sp->weight.array + (uint64_t)o * sp->n_src;
        for (uint32_t s = 0; s < sp->n_src; s++)
            if (row[s] != 0.0 && !(b->excl_self && s == o))
                buf[n++] = s;
        return n;
    }
    case NORN_CONN_FROM_LIST: /* filled by fill_from_list, never generated */
        return 0;
    }
    return 0;
}

/* ---- fixed_total_number: synapses per target ----------------------------- */

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* D distinct values in [0, m), sorted (Floyd with an open-addressing set). */
static norn_status pick_sorted(build *b, norn_rng *r, uint64_t m, uint64_t D, uint64_t **out)
{
    uint64_t size = 16;
    while (size < 2 * D)
        size *= 2;
    uint64_t *set = norn_calloc_n(size, sizeof *set);
    uint64_t *v = norn_malloc_n(D ? D : 1, sizeof *v);
    if (!set || !v) {
        norn_free(set);
        norn_free(v);
        return nomem(b, "the fixed_total_number draw", (double)size * 8 + (double)D * 8);
    }
    uint64_t mask = size - 1, n = 0;
    for (uint64_t j = m - D; j < m; j++) {
        uint64_t x = norn_rng_below(r, j + 1);
        uint64_t h = norn_rng_mix64(x) & mask;
        int seen = 0;
        for (; set[h]; h = (h + 1) & mask)
            if (set[h] == x + 1) {
                seen = 1;
                break;
            }
        if (seen) {
            x = j; /* j is new: every value so far is < j */
            for (h = norn_rng_mix64(x) & mask; set[h]; h = (h + 1) & mask) {
            }
        }
        set[h] = x + 1;
        v[n++] = x;
    }
    norn_free(set);
    qsort(v, n, sizeof *v, cmp_u64);
    *out = v;
    return NORN_OK;
}

/* Splits spec total among targets into b->deg. With multapses the pairs are
 * iid uniform, so the counts are multinomial (sequential binomials). Without,
 * the pairs are a uniform subset of the allowed ones: each target first takes
 * Binomial(avail, p') pairs with p' a little above total/N, and a uniform
 * choice of the M - total surplus (a few sqrt(total)) is dropped again;
 * should M fall short of total (p ~ 3e-7), the draw is repeated further
 * down the stream. The sources of each target are then a uniform subset. */
static norn_status split_total(build *b)
{
    const norn_proj_spec *sp = b->sp;
    uint64_t total = sp->conn.total, nt = sp->n_tgt, a = b->avail;
    norn_rng r = norn_rng_stream(sp->seed, NORN_RNG_TOTAL, (uint64_t)sp->proj_index << 32);
    if (sp->conn.allow_multapses) {
        uint64_t left = total;
        for (uint64_t t = 0; t < nt; t++) {
            uint64_t k = t + 1 == nt ? left : norn_rng_binomial(&r, left, 1.0 / (double)(nt - t));
            b->deg[t] = k;
            left -= k;
        }
        return NORN_OK;
    }
    double N = (double)nt * (double)a;
    double p = ((double)total + 5.0 * sqrt((double)total) + 16.0) / N;
    if (p > 1.0)
        p = 1.0;
    uint64_t M = 0;
    for (uint64_t attempt = 0;; attempt++) {
        if (attempt == 64)
            return NORN_FAIL(b->err, NORN_EINVAL, sp->where,
                             "fixed_total_number: could not draw %llu pairs",
                             (unsigned long long)total);
        r.ctr = attempt << 56;
        M = 0;
        for (uint64_t t = 0; t < nt; t++) {
            b->deg[t] = norn_rng_binomial(&r, a, p);
            M += b->deg[t];
        }
        if (M >= total)
            break;
    }
    uint64_t D = M - total, *drop = NULL;
    if (D == 0)
        return NORN_OK;
    r.ctr = 1ULL << 63;
    norn_status st = pick_sorted(b, &r, M, D, &drop);
    if (st)
        return st;
    uint64_t start = 0, di = 0;
    for (uint64_t t = 0; t < nt && di < D; t++) {
        uint64_t end = start + b->deg[t];
        while (di < D && drop[di] < end) {
            b->deg[t]--;
            di++;
        }
        start = end;
    }
    norn_free(drop);
    return NORN_OK;
}

/* ---- setup --------------------------------------------------------------- */

static norn_status check_dist(const build *b, const norn_dist *d, const char *name)
{
    const norn_proj_spec *sp = b->sp;
    norn_err *err = b->err;
    if (isnan(d->min) || isnan(d->max) || d->min > d->max)
        return NORN_FAIL(err, NORN_EINVAL, sp->where, "%s: clipping bounds [%g, %g] are empty",
                         name, d->min, d->max);
    switch (d->kind) {
    case NORN_DIST_CONST:
        return NORN_OK; /* checked as a value */
    case NORN_DIST_NORMAL:
        if (!isfinite(d->mean) || !isfinite(d->std) || d->std < 0)
            return NORN_FAIL(err, NORN_EINVAL, sp->where,
                             "%s: normal needs a finite mean and std >= 0, got mean %g std %g",
                             name, d->mean, d->std);
        return NORN_OK;
    case NORN_DIST_UNIFORM:
        if (!isfinite(d->low) || !isfinite(d->high) || d->low > d->high)
            return NORN_FAIL(err, NORN_EINVAL, sp->where,
                             "%s: uniform needs finite low <= high, got low %g high %g", name,
                             d->low, d->high);
        return NORN_OK;
    case NORN_DIST_LOGNORMAL:
        if (!isfinite(d->mu) || !isfinite(d->sigma) || d->sigma < 0)
            return NORN_FAIL(err, NORN_EINVAL, sp->where,
                             "%s: lognormal needs a finite mu and sigma >= 0, got mu %g sigma %g",
                             name, d->mu, d->sigma);
        return NORN_OK;
    case NORN_DIST_ARRAY:
        if (d->array == NULL || d->rows != sp->n_tgt || d->cols != sp->n_src)
            return NORN_FAIL(err, NORN_EINVAL, sp->where,
                             "%s: array of shape [%llu, %llu] does not match [targets %u, "
                             "sources %u]",
                             name, (unsigned long long)d->rows, (unsigned long long)d->cols,
                             sp->n_tgt, sp->n_src);
        return NORN_OK;
    }
    return NORN_FAIL(err, NORN_EINVAL, sp->where, "%s: unknown distribution kind %d", name,
                     (int)d->kind);
}

static norn_status setup(build *b, const norn_proj_spec *sp, norn_err *err)
{
    memset(b, 0, sizeof *b);
    b->sp = sp;
    b->err = err;
    const norn_conn_spec *cs = &sp->conn;
    b->rule = cs->rule;
    norn_status st;
    if (!(sp->resolution_ms > 0) || !isfinite(sp->resolution_ms))
        return NORN_FAIL(err, NORN_EINVAL, sp->where, "resolution %g ms must be > 0",
                         sp->resolution_ms);
    if (sp->same_population && sp->n_src != sp->n_tgt)
        return NORN_FAIL(err, NORN_EINVAL, sp->where,
                         "same population but %u sources and %u targets", sp->n_src, sp->n_tgt);
    b->excl_self = sp->same_population && !cs->allow_autapses;
    b->by_source = cs->rule == NORN_CONN_FIXED_OUTDEGREE;
    b->n_own = b->by_source ? sp->n_src : sp->n_tgt;
    b->t_lo = 0;
    b->t_hi = sp->n_tgt;
    if (sp->tgt_part) {
        if (sp->tgt_lo > sp->tgt_hi || sp->tgt_hi > sp->n_tgt)
            return NORN_FAIL(err, NORN_EINVAL, sp->where, "target range [%u, %u) outside the %u targets", sp->tgt_lo,
                             sp->tgt_hi, sp->n_tgt);
        b->t_lo = sp->tgt_lo;
        b->t_hi = sp->tgt_hi;
    }
    b->n_part = b->by_source ? sp->n_tgt : sp->n_src;
    b->avail = b->n_part - (uint64_t)(b->excl_self && b->n_part > 0);
    const char *excl = b->excl_self ? " (autapses excluded)" : "";

    if ((st = check_dist(b, &sp->weight, "weight")) || (st = check_dist(b, &sp->delay_ms, "delay")))
        return st;

    uint64_t cap = 0;
    switch (cs->rule) {
    case NORN_CONN_ALL_TO_ALL:
        cap = b->avail;
        break;
    case NORN_CONN_ONE_TO_ONE:
        if (sp->n_src != sp->n_tgt)
            return NORN_FAIL(err, NORN_EINVAL, sp->where,
                             "one_to_one needs as many sources as targets, got %u and %u",
                             sp->n_src, sp->n_tgt);
        if (b->excl_self)
            return NORN_FAIL(err, NORN_EINVAL, sp->where,
                             "one_to_one within one population makes only autapses, but "
                             "allow_autapses is false");
        cap = 1;
        break;
    case NORN_CONN_FIXED_PROBABILITY:
        if (!(cs->p >= 0.0 && cs->p <= 1.0))
            return NORN_FAIL(err, NORN_EINVAL, sp->where, "p %g is not in [0, 1]", cs->p);
        b->lq = log1p(-cs->p);
        b->thr = cs->p >= DENSE_P && cs->p < 1.0 ? (uint64_t)ldexp(cs->p, 64) : 0;
        cap = b->avail;
        break;
    case NORN_CONN_FIXED_INDEGREE:
    case NORN_CONN_FIXED_OUTDEGREE: {
        const char *name = b->by_source ? "outdegree" : "indegree";
        const char *side = b->by_source ? "targets" : "sources";
        b->k = b->by_source ? cs->outdegree : cs->indegree;
        if (b->k > 0 && b->avail == 0)
            return NORN_FAIL(err, NORN_EINVAL, sp->where, "%s %llu > 0 possible %s%s", name,
                             (unsigned long long)b->k, side, excl);
        if (!cs->allow_multapses && b->k > b->avail)
            return NORN_FAIL(err, NORN_EINVAL, sp->where,
                             "%s %llu > %llu possible %s without multapses%s", name,
                             (unsigned long long)b->k, (unsigned long long)b->avail, side, excl);
        if (b->n_own > 0 && b->k > UINT64_MAX / b->n_own)
            return NORN_FAIL(err, NORN_ENOMEM, sp->where, "%s %llu x %u %s overflows", name,
                             (unsigned long long)b->k, b->n_own,
                             b->by_source ? "sources" : "targets");
        cap = b->k;
        break;
    }
    case NORN_CONN_FIXED_TOTAL_NUMBER: {
        uint64_t N = (uint64_t)sp->n_tgt * b->avail; /* < 2^64 */
        if (cs->total > 0 && N == 0)
            return NORN_FAIL(err, NORN_EINVAL, sp->where, "total %llu > 0 possible pairs%s",
                             (unsigned long long)cs->total, excl);
        if (!cs->allow_multapses && cs->total > N)
            return NORN_FAIL(err, NORN_EINVAL, sp->where,
                             "total %llu > %llu possible pairs without multapses%s",
                             (unsigned long long)cs->total, (unsigned long long)N, excl);
        b->deg = norn_malloc_n(sp->n_tgt ? sp->n_tgt : 1, sizeof *b->deg);
        if (!b->deg)
            return nomem(b, "per-target counts", (double)sp->n_tgt * 8);
        if ((st = split_total(b)))
            return st;
        for (uint32_t t = 0; t < sp->n_tgt; t++)
            if (b->deg[t] > cap)
                cap = b->deg[t];
        break;
    }
    case NORN_CONN_FROM_MATRIX:
        if (sp->weight.kind != NORN_DIST_ARRAY)
            return NORN_FAIL(err, NORN_EINVAL, sp->where,
                             "from_matrix needs the weight as an array [targets, sources]");
        cap = sp->n_src;
        break;
    case NORN_CONN_FROM_LIST:
        /* weights (and maybe delays) come from the list, checked as they
         * are filled in */
        if (sp->list_n && (!sp->list_pre || !sp->list_post || !sp->list_weight))
            return NORN_FAIL(err, NORN_EINVAL, sp->where, "from_list: the synapse arrays are NULL");
        if (!sp->list_delay_ms && sp->delay_ms.kind != NORN_DIST_CONST)
            return NORN_FAIL(err, NORN_EINVAL, sp->where,
                             "from_list: the delay is a constant or the list's delay field");
        b->unsorted = 1;
        break;
    default:
        return NORN_FAIL(err, NORN_EINVAL, sp->where, "unknown connection rule %d",
                         (int)cs->rule);
    }

    /* Values: constants are checked once, here, even if nnz == 0. */
    if (cs->rule == NORN_CONN_FROM_LIST) {
        b->w_mode = VAL_ARRAY;
    } else if (sp->weight.kind == NORN_DIST_ARRAY) {
        b->w_mode = VAL_ARRAY;
    } else if (norn_dist_is_const(&sp->weight)) {
        norn_rng r = norn_rng_stream(sp->seed, NORN_RNG_WEIGHT, 0);
        double w = norn_dist_draw(&sp->weight, &r);
        if (!isfinite((float)w))
            return NORN_FAIL(err, NORN_EINVAL, sp->where, "weight %g is not finite in float32",
                             w);
        b->w_mode = VAL_CONST;
        b->w_const = (float)w;
    } else {
        b->w_mode = VAL_DRAW;
    }
    if (sp->delay_ms.kind == NORN_DIST_ARRAY || (cs->rule == NORN_CONN_FROM_LIST && sp->list_delay_ms)) {
        b->d_mode = VAL_ARRAY;
    } else if (norn_dist_is_const(&sp->delay_ms)) {
        norn_rng r = norn_rng_stream(sp->seed, NORN_RNG_DELAY, 0);
        if ((st = delay_ok(b, norn_dist_draw(&sp->delay_ms, &r), &b->d_const)))
            return st;
        b->d_mode = VAL_CONST;
    } else {
        b->d_mode = VAL_DRAW;
    }

    b->cap = cap;
    b->buf = norn_malloc_n(cap + 4, sizeof *b->buf); /* + 4: flatten() */
    if (!b->buf) {
        /* cap is one owner's share of the table: say what the table needs. */
        double nnz = cs->rule == NORN_CONN_FIXED_TOTAL_NUMBER ? (double)cs->total
                     : cs->rule == NORN_CONN_FIXED_INDEGREE || cs->rule == NORN_CONN_FIXED_OUTDEGREE
                         ? (double)b->k * b->n_own
                         : -1.0;
        if (nnz >= 0)
            return NORN_FAIL(err, NORN_ENOMEM, sp->where,
                             "cannot allocate the synapse table: %.0f synapses need %.0f bytes "
                             "(8 per synapse)",
                             nnz, nnz * 8);
        return nomem(b, "the partner buffer", (double)cap * 4);
    }
    if (!cs->allow_multapses &&
        (cs->rule == NORN_CONN_FIXED_INDEGREE || cs->rule == NORN_CONN_FIXED_OUTDEGREE ||
         cs->rule == NORN_CONN_FIXED_TOTAL_NUMBER)) {
        uint64_t words = (b->avail + 63) / 64;
        b->n_sum = (words + 63) / 64;
        b->bits = norn_calloc_n(words ? words : 1, sizeof *b->bits);
        b->sum = b->bits ? norn_calloc_n(b->n_sum ? b->n_sum : 1, sizeof *b->sum) : NULL;
        if (!b->sum)
            return nomem(b, "the sampling bitmap", (double)words * 8 + (double)b->n_sum * 8);
    }
    return NORN_OK;
}

static void release(build *b)
{
    norn_free(b->deg);
    norn_free(b->bits);
    norn_free(b->sum);
    b->sum = NULL;
    norn_free(b->buf);
    b->deg = NULL;
    b->bits = NULL;
    b->buf = NULL;
}

/* ---- filling --------------------------------------------------------------- */

/* Maps in a large array that is about to be filled, in one call instead of
 * one page fault per 4 KiB page (half the kernel time in a VM); a hint,
 * ignored where unsupported. */
static void prefault(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    const uintptr_t P = 4096;
    uintptr_t lo = ((uintptr_t)p + P - 1) & ~(P - 1), hi = ((uintptr_t)p + bytes) & ~(P - 1);
    if (p && bytes >= ((size_t)1 << 20) && hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)bytes;
#endif
}

/* target, weight (and *ds when delays vary) for c->nnz synapses; no
 * weight array with no_w (c->w_uniform). */
static norn_status alloc_synapses_w(build *b, norn_csr *c, uint32_t **ds, int no_w)
{
    int need_d = b->d_mode != VAL_CONST;
    double per = (no_w ? 4.0 : 8.0) + (need_d ? 4.0 : 0.0);
    size_t n = c->nnz > SIZE_MAX / 4 ? SIZE_MAX : (size_t)(c->nnz ? c->nnz : 1);
    /* NULL if n * 4 overflows; 8 spare entries: bits_rows */
    c->target = norn_malloc_n(n < SIZE_MAX - 8 ? n + 8 : n, sizeof *c->target);
    c->weight = c->target && !no_w ? norn_malloc_n(n, sizeof *c->weight) : NULL;
    *ds = (c->weight || no_w) && c->target && need_d ? norn_malloc_n(n, sizeof **ds) : NULL;
    prefault(c->target, n * sizeof *c->target);
    prefault(c->weight, n * sizeof *c->weight);
    if (*ds)
        prefault(*ds, n * sizeof **ds);
    if (!c->target || (!c->weight && !no_w) || (need_d && !*ds))
        return NORN_FAIL(b->err, NORN_ENOMEM, b->sp->where,
                         "cannot allocate the synapse table: %llu synapses need %.0f bytes "
                         "(%g per synapse%s) plus %.0f for row pointers",
                         (unsigned long long)c->nnz, (double)c->nnz * per, per,
                         need_d ? ", 4 of them temporary delays" : "",
                         ((double)c->n_src + 1) * 8);
    if (no_w) {
        c->w_uniform = 1;
        c->w_const = b->w_const;
    }
    return NORN_OK;
}

static norn_status alloc_synapses(build *b, norn_csr *c, uint32_t **ds)
{
    return alloc_synapses_w(b, c, ds, 0);
}

static norn_status fill_by_target(build *b, norn_csr *c, uint32_t **ds, uint64_t *lmax)
{
    const norn_proj_spec *sp = b->sp;
    uint64_t *rp = c->row_ptr;
    uint64_t nnz = 0;
    /* Pass 1: counts into rp[s + 1]. */
    for (uint32_t t = b->t_lo; t < b->t_hi; t++) {
        uint64_t n = gen(b, t);
        const uint32_t *buf = b->buf;
        for (uint64_t j = 0; j < n; j++)
            rp[buf[j] + 1]++;
        if (n > UINT64_MAX - nnz)
            return NORN_FAIL(b->err, NORN_ENOMEM, sp->where, "more than 2^64 synapses");
        nnz += n;
    }
    c->nnz = nnz;
    uint64_t lm = 0;
    for (uint32_t s = 0; s < sp->n_src; s++) {
        if (rp[s + 1] > lm)
            lm = rp[s + 1];
        rp[s + 1] += rp[s];
    }
    *lmax = lm;
    norn_status st = alloc_synapses(b, c, ds);
    if (st)
        return st;
    /* Pass 2: rp[s] is the insertion point of row s. */
    uint32_t *tg = c->target, *dd = *ds;
    float *wt = c->weight;
    for (uint32_t t = b->t_lo; t < b->t_hi; t++) {
        uint64_t n = gen(b, t);
        const uint32_t *buf = b->buf;
        norn_rng wr = norn_rng_stream(sp->seed, NORN_RNG_WEIGHT, ent(b, t));
        norn_rng dr = norn_rng_stream(sp->seed, NORN_RNG_DELAY, ent(b, t));
        for (uint64_t j = 0; j < n; j++) {
            uint32_t s = buf[j], d = 0;
            float w = 0;
            if ((st = values(b, s, t, &wr, &dr, &w, &d)))
                return st;
            uint64_t pos = rp[s]++;
            tg[pos] = t;
            wt[pos] = w;
            if (dd)
                dd[pos] = d;
        }
    }
    /* rp[s] is now the end of row s: shift back to starts. */
    for (uint32_t s = sp->n_src; s > 0; s--)
        rp[s] = rp[s - 1];
    rp[0] = 0;
    return NORN_OK;
}

/* Fast path of fill_by_target for fixed_indegree and fixed_total_number with
 * constant weight and delay, where nnz is known before drawing. Sources are
 * drawn once, straight into the weight array (used as uint32 scratch), and
 * counted per row; then they are scattered into the rows, and the weight is
 * filled in (or, with spec.uniform_ok, the weight array is freed: the
 * table's one weight is w_const). Every row comes out in the order of
 * fill_by_target, ascending target (the order within a target does not
 * show: its sources are distinct, or equal synapses with multapses), so
 * finish() need not look.
 *
 * Up to DIRECT_SRC sources without multapses, each target's sources are
 * drawn in ascending order (choose_sorted) into the bit matrix or scattered
 * tile by tile (scatter_tiled); with multapses they come in the order drawn
 * and are scattered into the rows directly. Above DIRECT_SRC sources (brunel
 * at 100k and 1M) they are radix-partitioned by block of rows into the
 * target array, packed (quick_packed), and each block is then scattered into
 * its rows, which lie in a cache-sized window. Where targets do not fit the
 * packed form, the partition goes through a temporary source array (4 bytes
 * per synapse, the budget csr.h allows) and the target array (sequential
 * writes to at most QUICK_BLOCKS block cursors); if that array cannot be
 * had, the direct scatter is used (slower, no extra memory). These scatters
 * write into the weight array's memory, so target and weight swap pointers
 * at the end. */
static int quick_fill_ok(const build *b)
{
    return (b->rule == NORN_CONN_FIXED_INDEGREE || b->rule == NORN_CONN_FIXED_TOTAL_NUMBER) &&
           b->w_mode == VAL_CONST && b->d_mode == VAL_CONST;
}

/* Sources up to which rows are filled straight from the draw: their cursors
 * (one cache line each) stay in L2. */
#define DIRECT_SRC 16384u
/* Partition fan-out. The packed partition gathers each block's entries
 * in a line of its own (32 KB in all) and each block's rows' entries too
 * (64 bytes per row: 1,600 rows at a million sources); 256 to 1,024
 * measured alike at 320,000 and 800,000 sources. The partition through a
 * source array (multapses without room for the packed form) keeps two
 * write streams per block. */
#define QUICK_BLOCKS 512u

static inline uint64_t n_of(const build *b, uint32_t t)
{
    return b->rule == NORN_CONN_FIXED_INDEGREE ? b->k : b->deg[t];
}

/* The sorted draw applies without multapses (Floyd's set in the bitmap),
 * where reading the set back costs little next to drawing it (at most four
 * summary words per synapse), and up to DIRECT_SRC sources: beyond, the
 * radix partition did as well or better (measured at 80,000 sources). */
static int quick_sorted_ok(const build *b, uint64_t nnz)
{
    uint64_t nt = b->t_hi - b->t_lo;
    return !b->sp->conn.allow_multapses && b->sum && nt > 0 && b->n_sum <= 4 * (nnz / nt) + 16 &&
           b->sp->n_src <= DIRECT_SRC;
}

/* Tiles of scatter_tiled: rows in a block (TILE_ROWS, up to TILE_ROWS_MAX
 * for many sources), synapses per row in a chunk of targets (TILE_FILL, two
 * cache lines), targets in a chunk (at most TILE_TGT_MAX). */
#define TILE_ROWS 256u
#define TILE_ROWS_MAX 1024u
#define TILE_FILL 32u
#define TILE_TGT_MAX 16384u

/* Scatters sorted per-target source lists (src, in target order; rp[s] the
 * insertion point of row s) into the rows, tile by tile: a chunk of targets
 * is swept by blocks of rows, so that while a block lasts, its rows' cursors,
 * current cache lines and pages stay cached, and each row takes about
 * TILE_FILL synapses of the chunk. A plain scatter in target order sends
 * consecutive stores to rows all over the table (a TLB and cache miss each
 * at brunel's 10,000 rows of 4 KB). Rows come out the same: ascending
 * target. ENOMEM if its cursors (16 bytes per target of a chunk) cannot be
 * had. */
static norn_status scatter_tiled(build *b, norn_csr *c, const uint32_t *src)
{
    uint32_t n_src = c->n_src, t_lo = b->t_lo, t_hi = b->t_hi;
    uint64_t *rp = c->row_ptr, nt = t_hi - t_lo;
    uint32_t *tg = c->target;
    if (nt == 0 || n_src == 0)
        return NORN_OK;
    double per = (double)c->nnz / (double)nt; /* synapses per target */
    double fc = per > 0 ? TILE_FILL * (double)n_src / per : TILE_TGT_MAX;
    uint64_t C = fc < 64 ? 64 : fc > TILE_TGT_MAX ? TILE_TGT_MAX : (uint64_t)fc;
    if (C > nt)
        C = nt;
    /* rows in a block: more for many sources, and enough for each target
     * to have ~2 synapses there (fewer blocks to sweep) */
    double fb = (double)n_src / 64;
    fb = fb < TILE_ROWS ? TILE_ROWS : fb > TILE_ROWS_MAX ? TILE_ROWS_MAX : fb;
    if (per > 0 && 2.0 * n_src / per > fb)
        fb = 2.0 * n_src / per;
    uint64_t B = fb > n_src ? n_src : (uint64_t)fb;
    uint64_t *cur = norn_malloc_n(2 * C, sizeof *cur);
    if (!cur)
        return nomem(b, "the scatter's cursors", (double)C * 16);
    uint64_t *end = cur + C, off = 0;
    for (uint32_t t0 = t_lo; t0 < t_hi;) {
        uint32_t m = (uint32_t)(t_hi - t0 < C ? t_hi - t0 : C);
        for (uint32_t i = 0; i < m; i++) {
            cur[i] = off;
            off += n_of(b, t0 + i);
            end[i] = off;
        }
        for (uint64_t lo = 0; lo < n_src; lo += B) {
            uint32_t hi = (uint32_t)(n_src - lo < B ? n_src : lo + B);
            for (uint32_t i = 0; i < m; i++) {
                uint64_t p = cur[i], e = end[i];
                uint32_t t = t0 + i;
                for (; p < e && src[p] < hi; p++)
                    tg[rp[src[p]]++] = t;
                cur[i] = p;
            }
        }
        t0 += m;
    }
    norn_free(cur);
    return NORN_OK;
}

/* The sorted draw through a bit matrix (quick_bits_words): every target's
 * set (choose_sorted's draws, so the same set) is drawn into the bitmap
 * and copied into a matrix of bits kept in 64 x 64 blocks, block (block of
 * 64 sources q, chunk of 64 targets g) at word q S + 64 g (S = 64 G + 8:
 * the padding keeps a target's words off a few cache sets), its word r
 * holding target 64 g + r's sources 64 q .. 64 q + 63. Each block is then
 * transposed in place (word r: source 64 q + r's targets in the chunk), so
 * a row's length is a sum of popcounts and its targets come out of the
 * words in ascending order, written one row after the other: no scatter,
 * and no source list (4 bytes per synapse) in between. */
static inline void transpose64(uint64_t *a)
{
    uint64_t m = 0x00000000ffffffffULL;
    for (unsigned j = 32; j; j >>= 1, m ^= m << j)
        for (unsigned k = 0; k < 64; k = ((k | j) + 1) & ~j) {
            uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
            a[k] ^= t << j;
            a[k | j] ^= t;
        }
}

static inline uint64_t popcount64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (x * 0x0101010101010101ULL) >> 56;
}

/* The matrix's slab stride S (words per block of sources), or 0 where the
 * bit matrix does not apply: the sorted draw's case, the matrix no larger
 * than the source list it saves (at least one synapse in 32 pairs). */
static uint64_t quick_bits_stride(const build *b, uint64_t nnz)
{
    uint64_t nt = b->t_hi - b->t_lo, W = ((uint64_t)b->sp->n_src + 63) >> 6, S = ((nt + 63) >> 6) * 64 + 8;
    if (!quick_sorted_ok(b, nnz) || W * S * 8 > nnz * 4)
        return 0;
    return S;
}

/* Target t's partners (choose_sorted's draws, into its bitmap: bit map(x)
 * for Floyd's x in [0, avail); map() keeps the order, so x is in the set
 * when map(x) is), then copied into its words of the matrix. */
static void floyd_row(build *b, uint64_t *M, uint64_t S, uint32_t t, uint64_t k)
{
    norn_rng r = norn_rng_stream(b->sp->seed, NORN_RNG_CONNECT, ent(b, t));
    const uint64_t a = b->avail, W = ((uint64_t)b->sp->n_src + 63) >> 6;
    const uint64_t ex = b->excl_self ? t : UINT64_MAX;
    uint64_t u[BATCH], *bits = b->bits;
    for (uint64_t j = a - k; j < a;) {
        uint64_t m = a - j < BATCH ? a - j : BATCH, q = 0;
        batch(&r, u, m);
        for (; q < m; q++, j++) {
            __uint128_t p = (__uint128_t)u[q] * (j + 1);
            if (REJECTS((uint64_t)p, j + 1))
                break;
            uint64_t x = (uint64_t)(p >> 64);
            x += x >= ex;
            x = bits[x >> 6] >> (x & 63) & 1 ? j + (j >= ex) : x;
            bits[x >> 6] |= 1ULL << (x & 63);
        }
        r.ctr += q;
        if (q < m) { /* the rejection branch: this draw the slow way */
            uint64_t x = norn_rng_below(&r, j + 1);
            x += x >= ex;
            x = bits[x >> 6] >> (x & 63) & 1 ? j + (j >= ex) : x;
            bits[x >> 6] |= 1ULL << (x & 63);
            j++;
        }
    }
    uint64_t *to = M + (((uint64_t)(t - b->t_lo) >> 6) << 6) + ((t - b->t_lo) & 63);
    for (uint64_t q = 0; q < W; q++) {
        to[q * S] = bits[q];
        bits[q] = 0;
    }
}

/* flatten() with eight unconditional writes (o has room for 8 beyond the
 * set): a transposed word (one source, 64 targets) holds 64 k / n_src bits
 * on average, 6.4 in Brunel's tables, often more than four. */
static inline uint64_t flatten8(uint32_t *o, uint64_t w, uint32_t base)
{
    uint64_t c = (uint64_t)popcount64(w);
    for (int q = 0; q < 8; q++) {
        o[q] = base + (uint32_t)__builtin_ctzll(w | 1ULL << 63);
        w &= w - 1;
    }
    for (uint64_t q = 8; w; q++) {
        o[q] = base + (uint32_t)__builtin_ctzll(w);
        w &= w - 1;
    }
    return c;
}

/* The rows from the transposed matrix: targets in ascending order, row
 * after row (flatten writes up to four entries past a row's end: into the
 * next row, written after it, or into the array's four spare entries).
 * row_ptr[s]: the start of row s in, its end out. */
static void bits_rows(const build *b, norn_csr *c, const uint64_t *M, uint64_t S)
{
    const uint64_t W = ((uint64_t)c->n_src + 63) >> 6, G = (S - 8) >> 6;
    uint32_t *tg = c->target;
    for (uint64_t q = 0; q < W; q++)
        for (uint32_t r = 0; r < 64 && (q << 6) + r < c->n_src; r++) {
            uint64_t pos = c->row_ptr[(q << 6) + r];
            const uint64_t *w = M + q * S + r;
            for (uint64_t g = 0; g < G; g++)
                pos += flatten8(tg + pos, w[g << 6], b->t_lo + (uint32_t)(g << 6));
            c->row_ptr[(q << 6) + r] = pos; /* its end, as the scatter leaves it */
        }
}

/* The transposed blocks' popcounts into rp[s + 1] (each block transposed
 * in place first). */
static void bits_transpose(uint64_t *M, uint64_t S, uint32_t n_src, uint64_t *rp)
{
    uint64_t W = ((uint64_t)n_src + 63) >> 6;
    for (uint64_t q = 0; q < W; q++)
        for (uint64_t g = 0; g + 8 < S; g += 64) {
            uint64_t *blk = M + q * S + g;
            transpose64(blk);
            for (uint32_t r = 0; r < 64 && (q << 6) + r < n_src; r++)
                rp[(q << 6) + r + 1] += popcount64(blk[r]);
        }
}

/* fixed_probability with a constant weight and delay (the general path's
 * case, dense_vs_sparse's tables) through the bit matrix: each target's
 * sources drawn once (gen(), ascending), not once to count and again to
 * place, and no scatter. The same table (rows by ascending target). 0 with
 * *done unset where it does not apply (more than DIRECT_SRC sources, a
 * matrix larger than the expected synapses' 4 bytes, no memory for it). */
/* The bit matrix M (stride S, its row lengths in c->row_ptr[s + 1], from
 * bits_transpose) read out into c's rows, which come out sorted; the
 * longest row into *lmax; M freed. */
static void bits_read_out(build *b, norn_csr *c, uint64_t *M, uint64_t S, uint64_t *lmax)
{
    uint64_t *rp = c->row_ptr, lm = 0;
    for (uint32_t s = 0; s < b->sp->n_src; s++) {
        if (rp[s + 1] > lm)
            lm = rp[s + 1];
        rp[s + 1] += rp[s];
    }
    *lmax = lm;
    b->rows_sorted = 1;
    bits_rows(b, c, M, S);
    norn_free(M);
}

static norn_status fill_prob_bits(build *b, norn_csr *c, uint32_t **ds, uint64_t *lmax, int *done)
{
    const norn_proj_spec *sp = b->sp;
    uint32_t n_src = sp->n_src, t_lo = b->t_lo, t_hi = b->t_hi;
    uint64_t nt = t_hi - t_lo, W = ((uint64_t)n_src + 63) >> 6, S = ((nt + 63) >> 6) * 64 + 8;
    double expect = (double)nt * (double)b->avail * sp->conn.p;
    *done = 0;
    if (b->rule != NORN_CONN_FIXED_PROBABILITY || b->w_mode != VAL_CONST || b->d_mode != VAL_CONST || nt == 0 ||
        n_src > DIRECT_SRC || !(sp->conn.p > 0 && sp->conn.p < 1) || (double)(W * S * 8) > expect * 4)
        return NORN_OK;
    uint64_t *M = norn_calloc_n(W * S, sizeof *M);
    if (!M)
        return NORN_OK;
    prefault(M, W * S * sizeof *M);
    *done = 1;
    uint64_t *rp = c->row_ptr, nnz = 0;
    for (uint32_t t = t_lo; t < t_hi; t++) {
        uint64_t n = gen(b, t), word = 0, q = 0;
        const uint32_t *buf = b->buf;
        uint64_t *to = M + (((uint64_t)(t - t_lo) >> 6) << 6) + ((t - t_lo) & 63);
        for (uint64_t j = 0; j < n; j++) { /* ascending: one source block after the other */
            uint64_t x = buf[j];
            if (x >> 6 != q) {
                to[q * S] = word;
                word = 0;
                q = x >> 6;
            }
            word |= 1ULL << (x & 63);
        }
        if (n)
            to[q * S] = word;
        nnz += n;
    }
    c->nnz = nnz;
    bits_transpose(M, S, n_src, rp);
    norn_status st = alloc_synapses_w(b, c, ds, sp->uniform_ok);
    if (st) {
        norn_free(M);
        return st;
    }
    bits_read_out(b, c, M, S, lmax);
    for (uint64_t i = 0; c->weight && i < nnz; i++)
        c->weight[i] = b->w_const;
    for (uint32_t s = n_src; s > 0; s--) /* bits_rows left the ends */
        rp[s] = rp[s - 1];
    rp[0] = 0;
    return NORN_OK;
}

/* log2 of the rows in a block of the partition: the fewest that make at
 * most QUICK_BLOCKS blocks. */
static unsigned quick_shift(uint32_t n_src)
{
    unsigned shift = 0;
    while (n_src && ((uint64_t)n_src - 1) >> shift >= QUICK_BLOCKS)
        shift++;
    return shift;
}

/* 64 bytes from an aligned line in cache to an aligned line in memory,
 * past the cache. */
static inline void stream_line(uint32_t *to, const uint32_t *from)
{
#ifdef __SSE2__
    const __m128i *f = (const __m128i *)(const void *)from;
    __m128i *d = (__m128i *)(void *)to;
    _mm_stream_si128(d, _mm_load_si128(f));
    _mm_stream_si128(d + 1, _mm_load_si128(f + 1));
    _mm_stream_si128(d + 2, _mm_load_si128(f + 2));
    _mm_stream_si128(d + 3, _mm_load_si128(f + 3));
#else
    memcpy(to, from, 64);
#endif
}

/* Block [lo, hi) of the partition (entries packed as partition_wc writes
 * them) into its rows in dst: rk[r] the start of row r of the block (its
 * end afterwards), st[r] a copy of it; the rows' entries gathered in lines
 * wc[r] and streamed out whole, as partition_wc does. */
static void scatter_wc(const uint32_t *tg, uint64_t lo, uint64_t hi, uint32_t *dst, uint64_t *rk,
                       const uint64_t *st, uint32_t (*wc)[16], uint64_t rows, unsigned shift, uint32_t t_lo)
{
    uint32_t mask = (uint32_t)(((uint64_t)1 << shift) - 1);
    int aligned = ((uintptr_t)dst & 63) == 0;
    for (uint64_t q = lo; q < hi; q++) {
        uint32_t e = tg[q], r = e & mask;
        uint64_t p = rk[r]++;
        wc[r][p & 15] = t_lo + (e >> shift);
        if ((p & 15) == 15) {
            if (p - 15 >= st[r] && aligned) {
                stream_line(dst + p - 15, wc[r]);
            } else {
                for (uint64_t x = p - 15 < st[r] ? st[r] : p - 15; x <= p; x++)
                    dst[x] = wc[r][x & 15];
            }
        }
    }
#ifdef __SSE2__
    _mm_sfence();
#endif
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t p = rk[r], l = p & ~(uint64_t)15;
        for (uint64_t x = l < st[r] ? st[r] : l; x < p; x++)
            dst[x] = wc[r][x & 15];
    }
}

/* The partition itself: synapse j of target t (src[j], in target order)
 * goes to tg[cur[block]++] as (t - t_lo) << shift | row in block. The
 * entries of a block are gathered in a cache line of their own (wc, 64
 * bytes per block, in L1) and written out a whole line at a time, past
 * the cache (streaming stores): the target array is not read for
 * ownership, and the writes do not evict the lines being gathered. Lines
 * at a block's ends, shared with the next block, are written plainly. */
static void partition_wc(const build *b, const uint32_t *src, uint32_t *tg, uint64_t *cur,
                         uint32_t nblk, unsigned shift)
{
    uint32_t t_lo = b->t_lo, t_hi = b->t_hi, mask = (uint32_t)(((uint64_t)1 << shift) - 1);
    uint64_t *first = cur + nblk + 1; /* first[k]: block k's start (cur[k] on entry) */
    uint32_t(*wc)[16] = (uint32_t(*)[16])(void *)(((uintptr_t)(first + nblk) + 63) & ~(uintptr_t)63);
    for (uint32_t k = 0; k < nblk; k++)
        first[k] = cur[k];
    int aligned = ((uintptr_t)tg & 63) == 0;
    uint64_t off = 0;
    for (uint32_t t = t_lo; t < t_hi; t++) {
        uint64_t n = n_of(b, t);
        uint32_t hi = (t - t_lo) << shift;
        for (uint64_t j = 0; j < n; j++) {
            uint32_t s = src[off + j], k = s >> shift;
            uint64_t p = cur[k]++;
            wc[k][p & 15] = hi | (s & mask);
            if ((p & 15) == 15) { /* line [p - 15, p] is complete */
                uint32_t *to = tg + p - 15, *from = wc[k];
                if (p - 15 >= first[k] && aligned) {
                    stream_line(to, from);
                } else {
                    for (uint64_t q = p - 15 < first[k] ? first[k] : p - 15; q <= p; q++)
                        tg[q] = wc[k][q & 15];
                }
            }
        }
        off += n;
    }
#ifdef __SSE2__
    _mm_sfence();
#endif
    for (uint32_t k = 0; k < nblk; k++) { /* the last, partial lines */
        uint64_t p = cur[k], lo = p & ~(uint64_t)15;
        for (uint64_t q = lo < first[k] ? first[k] : lo; q < p; q++)
            tg[q] = wc[k][q & 15];
    }
}

/* The packed radix partition (more than DIRECT_SRC sources; targets fit in
 * 32 - shift bits): every target's sources are drawn once into src (the
 * weight array's memory), counted per block of 2^shift rows only (a few
 * hundred counters, in L1, where counting per row would miss the cache
 * once per synapse at a million rows); the synapses are partitioned by
 * block into the target array as (target - t_lo, row in block), packed in
 * 32 bits; then each block's rows are counted (its cursors, 8 bytes per
 * row, fit in L1), their starts set, and the block scattered into them in
 * src (scatter_wc). Rows come out in ascending target order, as
 * fill_by_target's. c->target and c->weight swap memory; the caller fills
 * the weights or frees their array. */
static norn_status quick_packed(build *b, norn_csr *c, unsigned shift, uint64_t *lmax)
{
    uint32_t n_src = c->n_src, t_lo = b->t_lo, t_hi = b->t_hi;
    uint32_t nblk = (uint32_t)((((uint64_t)n_src - 1) >> shift) + 1), mask = (uint32_t)(((uint64_t)1 << shift) - 1);
    /* cur: nblk + 1 counters, nblk block starts, nblk lines of 64 bytes
     * (partition_wc) and room to align them; then rst, a block's row
     * starts, and rwc, its rows' lines (scatter_wc) */
    uint64_t rows = (uint64_t)mask + 1, words = (uint64_t)nblk * 11 + 9 + rows * 9 + 8;
    uint64_t *rp = c->row_ptr, *cur = norn_calloc_n((size_t)words, sizeof *cur);
    uint32_t *src = (uint32_t *)(void *)c->weight, *tg = c->target, *keep = b->buf;
    if (!cur)
        return nomem(b, "the partition's cursors", (double)words * 8);
    uint64_t *rst = cur + (uint64_t)nblk * 11 + 9;
    uint32_t(*rwc)[16] = (uint32_t(*)[16])(void *)(((uintptr_t)(rst + rows) + 63) & ~(uintptr_t)63);
    uint64_t off = 0;
    for (uint32_t t = t_lo; t < t_hi; t++) {
        b->buf = src + off;
        uint64_t n = gen(b, t);
        for (uint64_t j = 0; j < n; j++)
            cur[(src[off + j] >> shift) + 1]++;
        off += n;
    }
    b->buf = keep;
    for (uint32_t k = 0; k < nblk; k++)
        cur[k + 1] += cur[k];
    partition_wc(b, src, tg, cur, nblk, shift);
    /* cur[k]: the end of block k. rp[r0] holds the start of the block's
     * first row (the end of the block before); its rows' counts go into
     * rp[r + 1], their starts follow, and the scatter leaves rp[r] at the
     * end of row r. */
    uint64_t lo = 0, lm = 0;
    for (uint32_t k = 0; k < nblk; k++) {
        uint64_t hi = cur[k], r0 = (uint64_t)k << shift;
        uint64_t r1 = r0 + mask + 1 < n_src ? r0 + mask + 1 : n_src, *rk = rp + r0;
        for (uint64_t p = lo; p < hi; p++) {
            __builtin_prefetch(tg + p + 256); /* streamed out by the partition: not cached */
            rk[(tg[p] & mask) + 1]++;
        }
        for (uint64_t r = 0; r < r1 - r0; r++) {
            if (rk[r + 1] > lm)
                lm = rk[r + 1];
            rk[r + 1] += rk[r];
        }
        memcpy(rst, rk, (r1 - r0) * sizeof *rst);
        scatter_wc(tg, lo, hi, src, rk, rst, rwc, r1 - r0, shift, t_lo);
        lo = hi;
    }
    norn_free(cur);
    *lmax = lm;
    b->rows_sorted = 1;
    c->target = src;
    c->weight = (float *)(void *)tg;
    return NORN_OK;
}

static norn_status fill_quick(build *b, norn_csr *c, uint32_t **ds, uint64_t *lmax)
{
    const norn_proj_spec *sp = b->sp;
    uint64_t *rp = c->row_ptr;
    uint32_t n_src = sp->n_src, t_lo = b->t_lo, t_hi = b->t_hi;
    uint64_t nnz = 0;
    for (uint32_t t = t_lo; t < t_hi; t++)
        nnz += n_of(b, t);
    c->nnz = nnz;
    uint64_t S = quick_bits_stride(b, nnz), W = ((uint64_t)n_src + 63) >> 6;
    uint64_t *M = S ? norn_calloc_n(W * S, sizeof *M) : NULL;
    if (M) {
        prefault(M, W * S * sizeof *M);
        for (uint32_t t = t_lo; t < t_hi; t++)
            floyd_row(b, M, S, t, n_of(b, t));
        bits_transpose(M, S, n_src, rp); /* row lengths into rp[s + 1] */
    }
    /* the bit matrix needs no source list in the weight array */
    norn_status st = alloc_synapses_w(b, c, ds, M && b->sp->uniform_ok);
    if (st) {
        norn_free(M);
        return st;
    }
    if (M) {
        bits_read_out(b, c, M, S, lmax);
        goto weights;
    }
    int sorted = quick_sorted_ok(b, nnz);
    unsigned shift = quick_shift(n_src);
    if (!sorted && n_src > DIRECT_SRC && (uint64_t)(t_hi - t_lo) <= (uint64_t)1 << (32 - shift)) {
        if ((st = quick_packed(b, c, shift, lmax)))
            return st;
        goto weights;
    }
    /* Draw: sources of target t at src[off .. off + n), counted per row. */
    uint32_t *src = (uint32_t *)(void *)c->weight, *keep = b->buf;
    uint64_t off = 0;
    for (uint32_t t = t_lo; t < t_hi; t++) {
        uint64_t n = n_of(b, t);
        if (sorted && nnz - off >= n + 4) { /* in place: 4 entries of room */
            off += choose_sorted(b, t, n, src + off, rp);
        } else if (sorted) {
            n = choose_sorted(b, t, n, b->buf, rp);
            memcpy(src + off, b->buf, n * sizeof *src);
            off += n;
        } else {
            b->buf = src + off;
            n = gen(b, t);
            b->buf = keep;
            for (uint64_t j = 0; j < n; j++)
                rp[src[off + j] + 1]++;
            off += n;
        }
    }
    uint64_t lm = 0;
    for (uint32_t s = 0; s < n_src; s++) {
        if (rp[s + 1] > lm)
            lm = rp[s + 1];
        rp[s + 1] += rp[s];
    }
    *lmax = lm;
    b->rows_sorted = 1;
    if (sorted) {
        if ((st = scatter_tiled(b, c, src)))
            return st;
        goto weights;
    }
    uint32_t *tg = c->target, *bs = NULL;
    uint64_t *cur = NULL;
    uint32_t nblk = n_src ? (uint32_t)((((uint64_t)n_src - 1) >> shift) + 1) : 0;
    if (n_src > DIRECT_SRC) {
        /* Without room for the partition, the direct scatter does (slower). */
        bs = norn_malloc_n((size_t)(nnz ? nnz : 1), sizeof *bs);
        prefault(bs, (size_t)nnz * sizeof *bs);
        cur = bs ? norn_malloc_n(nblk, sizeof *cur) : NULL;
        if (!cur) {
            norn_free(bs);
            bs = NULL;
        }
    }
    if (!bs) {
        /* Few rows: scatter targets straight into them. */
        off = 0;
        for (uint32_t t = t_lo; t < t_hi; t++) {
            uint64_t n = n_of(b, t);
            for (uint64_t j = 0; j < n; j++)
                tg[rp[src[off + j]]++] = t;
            off += n;
        }
    } else {
        for (uint32_t k = 0; k < nblk; k++)
            cur[k] = rp[(uint64_t)k << shift];
        off = 0;
        for (uint32_t t = t_lo; t < t_hi; t++) {
            uint64_t n = n_of(b, t);
            for (uint64_t j = 0; j < n; j++) {
                uint32_t s = src[off + j];
                uint64_t p = cur[s >> shift]++;
                bs[p] = s;
                tg[p] = t;
            }
            off += n;
        }
        /* Block k now sits where its rows go: scatter it into them. */
        uint64_t lo = 0;
        for (uint32_t k = 0; k < nblk; k++) {
            uint64_t hi = cur[k];
            for (uint64_t p = lo; p < hi; p++)
                src[rp[bs[p]]++] = tg[p];
            lo = hi;
        }
        norn_free(cur);
        norn_free(bs);
        c->target = src;
        c->weight = (float *)(void *)tg;
    }
weights:;
    if (c->weight && b->sp->uniform_ok) { /* the one weight, known: no array */
        norn_free(c->weight);
        c->weight = NULL;
        c->w_uniform = 1;
        c->w_const = b->w_const;
    }
    float w = b->w_const, *wt = c->weight;
    for (uint64_t i = 0; wt && i < nnz; i++)
        wt[i] = w;
    for (uint32_t s = n_src; s > 0; s--)
        rp[s] = rp[s - 1];
    rp[0] = 0;
    return NORN_OK;
}

static norn_status fill_by_source(build *b, norn_csr *c, uint32_t **ds, uint64_t *lmax)
{
    const norn_proj_spec *sp = b->sp;
    uint64_t *rp = c->row_ptr;
    /* part of the targets (MPI): every row is drawn, its part kept */
    int part = b->t_lo > 0 || b->t_hi < sp->n_tgt;
    if (!part) {
        for (uint64_t s = 0; s <= sp->n_src; s++)
            rp[s] = s * b->k;
        c->nnz = (uint64_t)sp->n_src * b->k;
        *lmax = b->k;
    } else {
        uint64_t lm = 0;
        rp[0] = 0;
        for (uint32_t s = 0; s < sp->n_src; s++) {
            uint64_t n = gen(b, s), m = 0;
            for (uint64_t j = 0; j < n; j++)
                m += b->buf[j] >= b->t_lo && b->buf[j] < b->t_hi;
            rp[s + 1] = rp[s] + m;
            if (m > lm)
                lm = m;
        }
        c->nnz = rp[sp->n_src];
        *lmax = lm;
    }
    norn_status st = alloc_synapses(b, c, ds);
    if (st)
        return st;
    for (uint32_t s = 0; s < sp->n_src; s++) {
        uint64_t n = gen(b, s), base = rp[s], m = 0;
        const uint32_t *buf = b->buf;
        norn_rng wr = norn_rng_stream(sp->seed, NORN_RNG_WEIGHT, ent(b, s));
        norn_rng dr = norn_rng_stream(sp->seed, NORN_RNG_DELAY, ent(b, s));
        for (uint64_t j = 0; j < n; j++) {
            uint32_t t = buf[j], d = 0;
            float w = 0;
            /* drawn (and checked) even when not kept: the streams go on */
            if ((st = values(b, s, t, &wr, &dr, &w, &d)))
                return st;
            if (part && (t < b->t_lo || t >= b->t_hi))
                continue;
            c->target[base + m] = t;
            c->weight[base + m] = w;
            if (*ds)
                (*ds)[base + m] = d;
            m++;
        }
    }
    return NORN_OK;
}

/* from_list: rows counted from the list, then filled in list order; finish()
 * sorts each row by (delay, target), stably. */
static norn_status fill_from_list(build *b, norn_csr *c, uint32_t **ds, uint64_t *lmax)
{
    const norn_proj_spec *sp = b->sp;
    uint64_t *rp = c->row_ptr, n = sp->list_n;
    for (uint64_t k = 0; k < n; k++) {
        if (sp->list_pre[k] >= sp->n_src)
            return NORN_FAIL(b->err, NORN_EINVAL, sp->where, "from_list: synapse %llu: pre %u is out of range (%u sources)",
                             (unsigned long long)k, sp->list_pre[k], sp->n_src);
        if (sp->list_post[k] >= sp->n_tgt)
            return NORN_FAIL(b->err, NORN_EINVAL, sp->where, "from_list: synapse %llu: post %u is out of range (%u targets)",
                             (unsigned long long)k, sp->list_post[k], sp->n_tgt);
        if (sp->list_post[k] >= b->t_lo && sp->list_post[k] < b->t_hi)
            rp[sp->list_pre[k] + 1]++;
    }
    uint64_t kept = 0;
    for (uint32_t s = 0; s < sp->n_src; s++)
        kept += rp[s + 1];
    c->nnz = kept;
    uint64_t lm = 0;
    for (uint32_t s = 0; s < sp->n_src; s++) {
        if (rp[s + 1] > lm)
            lm = rp[s + 1];
        rp[s + 1] += rp[s];
    }
    *lmax = lm;
    norn_status st = alloc_synapses(b, c, ds);
    if (st)
        return st;
    for (uint64_t k = 0; k < n; k++) {
        uint32_t s = sp->list_pre[k], t = sp->list_post[k];
        if (t < b->t_lo || t >= b->t_hi)
            continue; /* MPI: another rank's target */
        uint64_t pos = rp[s]++;
        c->target[pos] = t;
        if ((st = weight_ok(b, sp->list_weight[k], s, t, &c->weight[pos])))
            return st;
        if (*ds && (st = delay_ok(b, sp->list_delay_ms[k], &(*ds)[pos])))
            return st;
    }
    for (uint32_t s = sp->n_src; s > 0; s--)
        rp[s] = rp[s - 1];
    rp[0] = 0;
    return NORN_OK;
}

/* ---- sorting rows and cutting segments ----------------------------------- */

typedef struct {
    uint64_t *k0, *k1; /* keys (delay << 32 | target), and merge buffer */
    float *w0, *w1;
} scratch;

static void insertion(uint64_t *k, float *w, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++) {
        uint64_t kk = k[i];
        float ww = w[i];
        uint64_t j = i;
        for (; j > 0 && k[j - 1] > kk; j--) {
            k[j] = k[j - 1];
            w[j] = w[j - 1];
        }
        k[j] = kk;
        w[j] = ww;
    }
}

/* Stable sort of n (key, weight) pairs in sc->k0/w0. */
static void merge_sort(scratch *sc, uint64_t n)
{
    enum { RUN = 16 };
    for (uint64_t i = 0; i < n; i += RUN)
        insertion(sc->k0 + i, sc->w0 + i, n - i < RUN ? n - i : RUN);
    uint64_t *sk = sc->k0, *dk = sc->k1;
    float *sw = sc->w0, *dw = sc->w1;
    for (uint64_t width = RUN; width < n; width *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * width) {
            uint64_t mid = lo + width < n ? lo + width : n;
            uint64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi) {
                if (sk[j] < sk[i]) {
                    dk[o] = sk[j];
                    dw[o++] = sw[j++];
                } else {
                    dk[o] = sk[i];
                    dw[o++] = sw[i++];
                }
            }
            while (i < mid) {
                dk[o] = sk[i];
                dw[o++] = sw[i++];
            }
            while (j < hi) {
                dk[o] = sk[j];
                dw[o++] = sw[j++];
            }
        }
        uint64_t *tk = sk;
        sk = dk;
        dk = tk;
        float *tw = sw;
        sw = dw;
        dw = tw;
    }
    if (sk != sc->k0) {
        memcpy(sc->k0, sk, n * sizeof *sk);
        memcpy(sc->w0, sw, n * sizeof *sw);
    }
}

/* Sorts row [lo, hi) by (delay, target), stably. by_target: the row is
 * already sorted by target, so a stable counting sort by delay suffices
 * when the delay range is smaller than the row. */
static void sort_row(scratch *sc, uint32_t *tg, float *wt, uint32_t *ds, uint32_t dconst,
                     uint64_t n, int by_target)
{
    if (ds && by_target) {
        uint32_t dmin = ds[0], dmax = ds[0];
        for (uint64_t i = 1; i < n; i++) {
            if (ds[i] < dmin)
                dmin = ds[i];
            if (ds[i] > dmax)
                dmax = ds[i];
        }
        uint64_t range = (uint64_t)dmax - dmin + 1;
        if (range < n) {
            uint64_t *cnt = sc->k1; /* range + 1 <= n entries */
            uint32_t *tt = (uint32_t *)sc->k0, *td = tt + n;
            float *tw = sc->w0;
            memset(cnt, 0, (range + 1) * sizeof *cnt);
            for (uint64_t i = 0; i < n; i++)
                cnt[ds[i] - dmin + 1]++;
            for (uint64_t r = 0; r < range; r++)
                cnt[r + 1] += cnt[r];
            for (uint64_t i = 0; i < n; i++) {
                uint64_t p = cnt[ds[i] - dmin]++;
                tt[p] = tg[i];
                td[p] = ds[i];
                tw[p] = wt[i];
            }
            memcpy(tg, tt, n * sizeof *tg);
            memcpy(ds, td, n * sizeof *ds);
            memcpy(wt, tw, n * sizeof *wt);
            return;
        }
    }
    for (uint64_t i = 0; i < n; i++) {
        sc->k0[i] = (uint64_t)(ds ? ds[i] : dconst) << 32 | tg[i];
        sc->w0[i] = wt[i];
    }
    merge_sort(sc, n);
    for (uint64_t i = 0; i < n; i++) {
        tg[i] = (uint32_t)sc->k0[i];
        wt[i] = sc->w0[i];
        if (ds)
            ds[i] = (uint32_t)(sc->k0[i] >> 32);
    }
}

static int row_sorted(const uint32_t *tg, const uint32_t *ds, uint64_t n)
{
    if (ds) {
        for (uint64_t i = 1; i < n; i++)
            if (ds[i] < ds[i - 1] || (ds[i] == ds[i - 1] && tg[i] < tg[i - 1]))
                return 0;
    } else {
        for (uint64_t i = 1; i < n; i++)
            if (tg[i] < tg[i - 1])
                return 0;
    }
    return 1;
}

static norn_status finish(build *b, norn_csr *c, uint32_t *ds, uint64_t lmax)
{
    uint32_t n_src = c->n_src;
    const uint64_t *rp = c->row_ptr;
    scratch sc = {0};
    norn_status st = NORN_OK;
    for (uint32_t s = 0; s < n_src && !b->rows_sorted; s++) {
        uint64_t lo = rp[s], n = rp[s + 1] - lo;
        uint32_t *rd = ds ? ds + lo : NULL;
        if (row_sorted(c->target + lo, rd, n))
            continue;
        if (!sc.k0) {
            sc.k0 = norn_malloc_n(lmax, sizeof *sc.k0);
            sc.k1 = norn_malloc_n(lmax, sizeof *sc.k1);
            sc.w0 = norn_malloc_n(lmax, sizeof *sc.w0);
            sc.w1 = norn_malloc_n(lmax, sizeof *sc.w1);
            if (!sc.k0 || !sc.k1 || !sc.w0 || !sc.w1) {
                st = nomem(b, "row sorting scratch", (double)lmax * 24);
                goto out;
            }
        }
        sort_row(&sc, c->target + lo, c->weight + lo, rd, b->d_const, n, !b->by_source && !b->unsorted);
    }

    /* Segments: one per run of equal delay in a row. */
    uint64_t nseg = 0;
    for (uint32_t s = 0; s < n_src; s++) {
        uint64_t lo = rp[s], hi = rp[s + 1];
        if (hi == lo)
            continue;
        nseg++;
        if (ds)
            for (uint64_t i = lo + 1; i < hi; i++)
                nseg += ds[i] != ds[i - 1];
    }
    c->nseg = nseg;
    c->seg_ptr = norn_malloc_n((size_t)n_src + 1, sizeof *c->seg_ptr);
    c->seg_delay = c->seg_ptr ? norn_malloc_n(nseg ? nseg : 1, sizeof *c->seg_delay) : NULL;
    c->seg_start = c->seg_delay ? norn_malloc_n(nseg ? nseg : 1, sizeof *c->seg_start) : NULL;
    if (!c->seg_start) {
        st = nomem(b, "the delay segments", ((double)n_src + 1) * 8 + (double)nseg * 12);
        goto out;
    }
    uint64_t g = 0;
    uint32_t dmin = UINT32_MAX, dmax = 0;
    for (uint32_t s = 0; s < n_src; s++) {
        uint64_t lo = rp[s], hi = rp[s + 1];
        c->seg_ptr[s] = g;
        if (!ds) { /* constant delay: one segment per non-empty row */
            if (hi > lo) {
                c->seg_delay[g] = b->d_const;
                c->seg_start[g++] = lo;
                dmin = dmax = b->d_const;
            }
            continue;
        }
        for (uint64_t i = lo; i < hi; i++) {
            uint32_t d = ds ? ds[i] : b->d_const;
            if (i == lo || d != c->seg_delay[g - 1]) {
                c->seg_delay[g] = d;
                c->seg_start[g++] = i;
                if (d < dmin)
                    dmin = d;
                if (d > dmax)
                    dmax = d;
            }
        }
    }
    c->seg_ptr[n_src] = g;
    c->min_delay = c->nnz ? dmin : 0;
    c->max_delay = c->nnz ? dmax : 0;
out:
    norn_free(sc.k0);
    norn_free(sc.k1);
    norn_free(sc.w0);
    norn_free(sc.w1);
    return st;
}

/* ---- public -------------------------------------------------------------- */

norn_status norn_csr_build(const norn_proj_spec *spec, norn_csr *out, norn_err *err)
{
    build b;
    norn_csr c;
    uint32_t *ds = NULL;
    uint64_t lmax = 0;
    memset(&c, 0, sizeof c);
    norn_status st = setup(&b, spec, err);
    if (st)
        goto fail;
    c.n_src = spec->n_src;
    c.n_tgt = spec->n_tgt;
    /* Where the rule fixes the count, a table that cannot fit is refused
     * before a single connection is drawn (drawing 3e10 of them to find
     * out would take minutes). */
    double expect = -1;
    switch (spec->conn.rule) {
    case NORN_CONN_FIXED_INDEGREE: expect = (double)spec->n_tgt * (double)spec->conn.indegree; break;
    case NORN_CONN_FIXED_OUTDEGREE: expect = (double)spec->n_src * (double)spec->conn.outdegree; break;
    case NORN_CONN_FIXED_TOTAL_NUMBER: expect = (double)spec->conn.total; break;
    case NORN_CONN_FIXED_PROBABILITY: expect = (double)spec->n_src * (double)spec->n_tgt * spec->conn.p; break;
    case NORN_CONN_FROM_LIST: expect = (double)spec->list_n; break;
    case NORN_CONN_ALL_TO_ALL:
        expect = (double)spec->n_src * (double)spec->n_tgt - (spec->same_population ? (double)spec->n_src : 0);
        break;
    default: break;
    }
    if (spec->tgt_part && spec->n_tgt) /* MPI: this rank's part */
        expect *= (double)(spec->tgt_hi - spec->tgt_lo) / (double)spec->n_tgt;
    if (expect > 0 && expect * 8.0 > (double)norn_mem_available()) {
        st = NORN_FAIL(err, NORN_ENOMEM, spec->where,
                       "cannot allocate the synapse table: %.0f synapses need %.0f bytes (8 per synapse); %.0f "
                       "bytes of memory are available",
                       expect, expect * 8.0, (double)norn_mem_available());
        goto fail;
    }
    c.row_ptr = norn_calloc_n((size_t)spec->n_src + 1, sizeof *c.row_ptr);
    if (!c.row_ptr) {
        st = nomem(&b, "row pointers", ((double)spec->n_src + 1) * 8);
        goto fail;
    }
    int done = 0;
    if (spec->conn.rule == NORN_CONN_FIXED_PROBABILITY)
        st = fill_prob_bits(&b, &c, &ds, &lmax, &done);
    if (!done && !st)
        st = spec->conn.rule == NORN_CONN_FROM_LIST ? fill_from_list(&b, &c, &ds, &lmax)
             : b.by_source                          ? fill_by_source(&b, &c, &ds, &lmax)
             : quick_fill_ok(&b)                    ? fill_quick(&b, &c, &ds, &lmax)
                                                    : fill_by_target(&b, &c, &ds, &lmax);
    if (st)
        goto fail;
    release(&b); /* before finish: the scratch may need the room */
    if ((st = finish(&b, &c, ds, lmax)))
        goto fail;
    norn_free(ds);
    *out = c;
    return NORN_OK;
fail:
    norn_free(ds);
    release(&b);
    norn_csr_free(&c);
    return st;
}

void norn_csr_free(norn_csr *c)
{
    if (c == NULL)
        return;
    norn_free(c->row_ptr);
    norn_free(c->target);
    norn_free(c->weight);
    norn_free(c->seg_ptr);
    norn_free(c->seg_delay);
    norn_free(c->seg_start);
    memset(c, 0, sizeof *c);
}

uint64_t norn_csr_bytes(const norn_csr *c)
{
    if (c == NULL || c->row_ptr == NULL)
        return 0;
    uint64_t rows = (uint64_t)c->n_src + 1;
    /* a plastic table's weights live with its rule (engine/stdp.h) */
    return rows * sizeof *c->row_ptr + c->nnz * (sizeof *c->target + (c->weight ? sizeof *c->weight : 0)) +
           rows * sizeof *c->seg_ptr +
           c->nseg * (sizeof *c->seg_delay + sizeof *c->seg_start);
}
