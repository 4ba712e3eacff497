/* tests/test_rng.c - properties of the counter-based streams (engine/rng.h).
 * Statistical checks use fixed seeds and 5-sigma bounds, so they are
 * deterministic: a pass is a pass forever, and a broken deviate fails. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/rng.h"
#include "testutil.h"

#define N_DRAWS 1000000

/* Mean and (unbiased) variance of a sample, accumulated with Welford. */
typedef struct {
    double n, mean, m2;
} moments;

static void mom_add(moments *m, double x)
{
    m->n += 1;
    double d = x - m->mean;
    m->mean += d / m->n;
    m->m2 += d * (x - m->mean);
}

static double mom_var(const moments *m) { return m->m2 / (m->n - 1); }

/* Sample mean within 5 sigma of mu, sample variance within 5 sigma of var;
 * mu4 is the fourth central moment (Var(s^2) ~ (mu4 - var^2) / n). */
static void check_moments(const moments *m, double mu, double var, double mu4, const char *what)
{
    double sd_mean = sqrt(var / m->n);
    double sd_var = sqrt((mu4 - var * var) / m->n);
    ck_assert_msg(fabs(m->mean - mu) < 5 * sd_mean, "%s: mean %.6g, expected %.6g +- %.3g", what,
                  m->mean, mu, 5 * sd_mean);
    ck_assert_msg(fabs(mom_var(m) - var) < 5 * sd_var, "%s: variance %.6g, expected %.6g +- %.3g",
                  what, mom_var(m), var, 5 * sd_var);
}

/* Chi-square statistic of observed counts against expected ones; the test
 * passes below dof + 5 sqrt(2 dof). */
static void check_chi2(const uint64_t *obs, const double *expect, int bins, const char *what)
{
    double chi2 = 0;
    for (int i = 0; i < bins; i++) {
        double d = (double)obs[i] - expect[i];
        chi2 += d * d / expect[i];
    }
    double dof = bins - 1;
    ck_assert_msg(chi2 < dof + 5 * sqrt(2 * dof), "%s: chi2 %.2f with %d dof", what, chi2,
                  bins - 1);
}

/* ---- streams --------------------------------------------------------------- */

START_TEST(same_key_same_sequence)
{
    norn_rng a = norn_rng_stream(1234, NORN_RNG_CONNECT, (3ULL << 32) | 17);
    norn_rng b = norn_rng_stream(1234, NORN_RNG_CONNECT, (3ULL << 32) | 17);
    norn_rng c = a; /* copies continue identically */
    for (int i = 0; i < 1000; i++) {
        uint64_t x = norn_rng_u64(&a);
        ck_assert_uint_eq(x, norn_rng_u64(&b));
        ck_assert_uint_eq(x, norn_rng_at(&c, (uint64_t)i)); /* random access, no advance */
    }
    ck_assert_uint_eq(c.ctr, 0);
    ck_assert_uint_eq(a.ctr, 1000);
    /* Interleaving other streams does not matter. */
    norn_rng d = norn_rng_stream(1234, NORN_RNG_CONNECT, (3ULL << 32) | 17);
    norn_rng e = norn_rng_stream(1234, NORN_RNG_CONNECT, (3ULL << 32) | 18);
    for (int i = 0; i < 100; i++) {
        (void)norn_rng_u64(&e);
        ck_assert_uint_eq(norn_rng_u64(&d), norn_rng_at(&c, (uint64_t)i));
    }
}
END_TEST

/* Streams differing in one key part: no equal outputs at equal counters, and
 * uncorrelated uniforms (|r| < 5 / sqrt(n)). */
static void check_unrelated(norn_rng a, norn_rng b, const char *what)
{
    enum { n = 100000 };
    int equal = 0;
    double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        uint64_t x = norn_rng_u64(&a), y = norn_rng_u64(&b);
        equal += x == y;
        double u = (double)(x >> 11) * 0x1.0p-53, v = (double)(y >> 11) * 0x1.0p-53;
        sa += u;
        sb += v;
        sab += u * v;
        saa += u * u;
        sbb += v * v;
    }
    ck_assert_msg(equal == 0, "%s: %d equal outputs", what, equal);
    double cov = sab / n - (sa / n) * (sb / n);
    double r = cov / sqrt((saa / n - (sa / n) * (sa / n)) * (sbb / n - (sb / n) * (sb / n)));
    ck_assert_msg(fabs(r) < 5 / sqrt((double)n), "%s: correlation %.4f", what, r);
}

START_TEST(different_keys_differ)
{
    uint64_t e = (3ULL << 32) | 17;
    norn_rng base = norn_rng_stream(1234, NORN_RNG_CONNECT, e);
    check_unrelated(base, norn_rng_stream(1234, NORN_RNG_CONNECT, e + 1), "entity+1");
    check_unrelated(base, norn_rng_stream(1234, NORN_RNG_CONNECT, e ^ (1ULL << 32)), "projection");
    check_unrelated(base, norn_rng_stream(1234, NORN_RNG_WEIGHT, e), "purpose");
    check_unrelated(base, norn_rng_stream(1235, NORN_RNG_CONNECT, e), "seed+1");
    check_unrelated(base, norn_rng_stream(0, NORN_RNG_CONNECT, e), "seed 0");
    /* A stream against itself shifted by one counter. */
    norn_rng shifted = base;
    shifted.ctr = 1;
    check_unrelated(base, shifted, "counter shift");
}
END_TEST

/* Neighbouring counters and neighbouring entities: each output bit is set
 * half of the time, also in the xor of neighbours (an avalanche check). */
START_TEST(bits_balanced)
{
    enum { n = 200000 };
    uint64_t ones[64] = {0}, xones[64] = {0};
    for (int i = 0; i < n; i++) {
        norn_rng r = norn_rng_stream(7, NORN_RNG_POISSON, (uint64_t)i);
        norn_rng s = norn_rng_stream(7, NORN_RNG_POISSON, (uint64_t)i + 1);
        uint64_t x = norn_rng_at(&r, 0), y = norn_rng_at(&s, 0) ^ norn_rng_at(&r, 1);
        for (int b = 0; b < 64; b++) {
            ones[b] += x >> b & 1;
            xones[b] += (x ^ y) >> b & 1;
        }
    }
    double sd = sqrt(n * 0.25);
    for (int b = 0; b < 64; b++) {
        ck_assert_msg(fabs((double)ones[b] - n / 2.0) < 5 * sd, "bit %d set %llu of %d", b,
                      (unsigned long long)ones[b], n);
        ck_assert_msg(fabs((double)xones[b] - n / 2.0) < 5 * sd, "xor bit %d set %llu of %d", b,
                      (unsigned long long)xones[b], n);
    }
}
END_TEST

/* ---- continuous deviates ----------------------------------------------------- */

START_TEST(uniform_moments)
{
    norn_rng r = norn_rng_stream(99, NORN_RNG_INITIAL, 5);
    moments m = {0};
    double lo = 1, hi = 0;
    int bad = 0; /* ck_assert in hot loops is slow: Check logs every call */
    for (int i = 0; i < N_DRAWS; i++) {
        double u = norn_rng_uniform(&r);
        bad += !(u >= 0.0 && u < 1.0);
        lo = fmin(lo, u);
        hi = fmax(hi, u);
        mom_add(&m, u);
    }
    ck_assert_int_eq(bad, 0);
    check_moments(&m, 0.5, 1.0 / 12, 1.0 / 80, "uniform");
    ck_assert(lo < 1e-5 && hi > 1 - 1e-5);
    /* Deciles: chi-square. */
    uint64_t obs[10] = {0};
    double exp_[10];
    for (int i = 0; i < N_DRAWS; i++)
        obs[(int)(norn_rng_uniform(&r) * 10)]++;
    for (int i = 0; i < 10; i++)
        exp_[i] = N_DRAWS / 10.0;
    check_chi2(obs, exp_, 10, "uniform deciles");
}
END_TEST

START_TEST(uniform_pos_range)
{
    norn_rng r = norn_rng_stream(99, NORN_RNG_INITIAL, 6);
    moments m = {0};
    int bad = 0;
    for (int i = 0; i < N_DRAWS; i++) {
        double u = norn_rng_uniform_pos(&r);
        bad += !(u > 0.0 && u <= 1.0);
        mom_add(&m, u);
    }
    ck_assert_int_eq(bad, 0);
    check_moments(&m, 0.5, 1.0 / 12, 1.0 / 80, "uniform_pos");
}
END_TEST

START_TEST(normal_moments)
{
    norn_rng r = norn_rng_stream(5, NORN_RNG_WEIGHT, 77);
    moments m = {0};
    uint64_t tail = 0;
    double sum3 = 0;
    int bad = 0;
    for (int i = 0; i < N_DRAWS; i++) {
        uint64_t c0 = r.ctr;
        double x = norn_rng_normal(&r);
        bad += r.ctr != c0 + 2; /* exactly two counters per draw */
        bad += !isfinite(x);
        mom_add(&m, x);
        sum3 += x * x * x;
        tail += fabs(x) > 2.0;
    }
    ck_assert_int_eq(bad, 0);
    check_moments(&m, 0.0, 1.0, 3.0, "normal");
    /* Skewness 0: E[x^3] has sd sqrt(15 / n). */
    ck_assert_msg(fabs(sum3 / N_DRAWS) < 5 * sqrt(15.0 / N_DRAWS), "normal third moment %g",
                  sum3 / N_DRAWS);
    /* P(|x| > 2) = 0.0455003. */
    double p = 0.04550026, sd = sqrt(N_DRAWS * p * (1 - p));
    ck_assert_msg(fabs((double)tail - N_DRAWS * p) < 5 * sd, "normal tail %llu",
                  (unsigned long long)tail);
}
END_TEST

START_TEST(exp_moments)
{
    norn_rng r = norn_rng_stream(5, NORN_RNG_POISSON, 78);
    moments m = {0};
    int bad = 0;
    for (int i = 0; i < N_DRAWS; i++) {
        double x = norn_rng_exp(&r);
        bad += !(x >= 0.0 && isfinite(x));
        mom_add(&m, x);
    }
    ck_assert_int_eq(bad, 0);
    check_moments(&m, 1.0, 1.0, 9.0, "exp");
}
END_TEST

/* ---- integers --------------------------------------------------------------- */

static const uint64_t below_n[] = {1, 2, 3, 7, 10, 97};

/* The ziggurat exponential follows Exp(1) in its body, in the wedges and
 * in the tail beyond the base strip (R = 7.697): chi-square over 40 bins
 * of equal probability plus the tail, 4e6 draws; _i = 1: norn_rng_exp_fast,
 * which also takes exactly one counter a draw (its rare paths hash). */
START_TEST(exp_distribution)
{
    norn_rng r = norn_rng_stream(99, 1, 5);
    enum { NB = 40, N = 4000000 };
    long cnt[NB + 2] = {0};
    for (long k = 0; k < N; k++) {
        double x = _i ? norn_rng_exp_fast(&r) : norn_rng_exp(&r);
        ck_assert(x >= 0 && isfinite(x));
        if (x > 7.69711747013104972) {
            cnt[x > 8.69711747013104972 ? NB + 1 : NB]++; /* the tail, split at R + 1 */
            continue;
        }
        /* bin by the CDF of the part below R */
        double u = -expm1(-x) / -expm1(-7.69711747013104972);
        int b = (int)(u * NB);
        cnt[b < NB ? b : NB - 1]++;
    }
    if (_i)
        ck_assert_uint_eq(r.ctr, (uint64_t)N);
    double p_tail = exp(-7.69711747013104972);
    double chi2 = 0;
    for (int b = 0; b < NB; b++) {
        double e = N * (1 - p_tail) / NB;
        chi2 += (cnt[b] - e) * (cnt[b] - e) / e;
    }
    double et = N * p_tail * (1 - exp(-1.0)), et2 = N * p_tail * exp(-1.0);
    chi2 += (cnt[NB] - et) * (cnt[NB] - et) / et + (cnt[NB + 1] - et2) * (cnt[NB + 1] - et2) / et2;
    /* 41 degrees of freedom: P(chi2 > 82) ~ 2e-4 */
    ck_assert_msg(chi2 < 82, "chi2 = %.1f over %d bins (tail %ld, %ld vs %.0f, %.0f)", chi2, NB + 2, cnt[NB],
                  cnt[NB + 1], et, et2);
}
END_TEST

START_TEST(below_unbiased)
{
    uint64_t n = below_n[_i];
    norn_rng r = norn_rng_stream(11, NORN_RNG_CONNECT, n);
    uint64_t obs[97] = {0};
    double expect[97];
    for (int i = 0; i < N_DRAWS; i++) {
        uint64_t x = norn_rng_below(&r, n);
        if (x >= n)
            ck_abort_msg("below(%llu) gave %llu", (unsigned long long)n, (unsigned long long)x);
        obs[x]++;
    }
    if (n == 1)
        return;
    for (uint64_t i = 0; i < n; i++)
        expect[i] = (double)N_DRAWS / (double)n;
    check_chi2(obs, expect, (int)n, "below");
}
END_TEST

/* n = 3 * 2^62: plain multiply-shift maps 4 inputs onto 3 outputs, so
 * without rejection x % 3 == 0 would come up half of the time instead of a
 * third. The rejection must remove that. */
START_TEST(below_large_n_unbiased)
{
    const uint64_t n = 3ULL << 62;
    norn_rng r = norn_rng_stream(12, NORN_RNG_CONNECT, 0);
    uint64_t obs[3] = {0}, half = 0;
    double expect[3];
    for (int i = 0; i < N_DRAWS; i++) {
        uint64_t x = norn_rng_below(&r, n);
        if (x >= n)
            ck_abort_msg("below(3 << 62) gave %llu", (unsigned long long)x);
        obs[x % 3]++;
        half += x < n / 2;
    }
    for (int i = 0; i < 3; i++)
        expect[i] = N_DRAWS / 3.0;
    check_chi2(obs, expect, 3, "below(3<<62) mod 3");
    ck_assert(fabs((double)half - N_DRAWS / 2.0) < 5 * sqrt(N_DRAWS / 4.0));
}
END_TEST

typedef struct {
    uint64_t n;
    double p;
    int draws;
} binom_case;

static const binom_case binom_cases[] = {
    {10, 0.3, 200000},    {1000, 0.01, 200000}, {1000, 0.7, 100000}, {50, 0.999, 200000},
    {20000, 0.5, 5000},   {1ULL << 40, 1e-9, 20000}, {7, 0.5, 200000}, {100, 1e-4, 200000},
};

START_TEST(binomial_moments)
{
    const binom_case *bc = &binom_cases[_i];
    norn_rng r = norn_rng_stream(21, NORN_RNG_POISSON, (uint64_t)_i);
    moments m = {0};
    for (int i = 0; i < bc->draws; i++) {
        uint64_t k = norn_rng_binomial(&r, bc->n, bc->p);
        if (k > bc->n)
            ck_abort_msg("binomial gave %llu", (unsigned long long)k);
        mom_add(&m, (double)k);
    }
    double n = (double)bc->n, p = bc->p, q = 1 - p, var = n * p * q;
    double mu4 = var * (1 + 3 * (n - 2) * p * q);
    char what[64];
    snprintf(what, sizeof what, "binomial(%llu, %g)", (unsigned long long)bc->n, bc->p);
    check_moments(&m, n * p, var, mu4, what);
}
END_TEST

/* The whole distribution of Binomial(10, 0.3) and Binomial(10, 0.8)
 * (the flipped branch), by chi-square against the pmf. */
START_TEST(binomial_pmf)
{
    const double ps[] = {0.3, 0.8};
    for (int c = 0; c < 2; c++) {
        double p = ps[c];
        norn_rng r = norn_rng_stream(22, NORN_RNG_POISSON, (uint64_t)c);
        uint64_t obs[11] = {0};
        double expect[11];
        for (int i = 0; i < N_DRAWS; i++)
            obs[norn_rng_binomial(&r, 10, p)]++;
        double choose = 1;
        for (int k = 0; k <= 10; k++) {
            expect[k] = N_DRAWS * choose * pow(p, k) * pow(1 - p, 10 - k);
            choose = choose * (10 - k) / (k + 1);
        }
        /* Merge bins with < 20 expected into their neighbour. */
        uint64_t o2[11];
        double e2[11];
        int nb = 0;
        for (int k = 0; k <= 10; k++) {
            if (nb > 0 && (e2[nb - 1] < 20 || expect[k] < 20)) {
                o2[nb - 1] += obs[k];
                e2[nb - 1] += expect[k];
            } else {
                o2[nb] = obs[k];
                e2[nb++] = expect[k];
            }
        }
        check_chi2(o2, e2, nb, p < 0.5 ? "binomial(10, 0.3) pmf" : "binomial(10, 0.8) pmf");
    }
}
END_TEST

START_TEST(binomial_edges)
{
    norn_rng r = norn_rng_stream(23, NORN_RNG_POISSON, 0);
    ck_assert_uint_eq(norn_rng_binomial(&r, 0, 0.5), 0);
    ck_assert_uint_eq(norn_rng_binomial(&r, 100, 0.0), 0);
    ck_assert_uint_eq(norn_rng_binomial(&r, 100, 1.0), 100);
    ck_assert_uint_eq(norn_rng_binomial(&r, 100, -0.5), 0);
    ck_assert_uint_eq(norn_rng_binomial(&r, 100, 1.5), 100);
    ck_assert_uint_eq(norn_rng_binomial(&r, UINT64_MAX, 1.0), UINT64_MAX);
    /* NaN probability: no hang, no garbage (treated as 0). */
    ck_assert_uint_eq(norn_rng_binomial(&r, 100, NAN), 0);
}
END_TEST

static const double poisson_lambda[] = {0.01, 0.5, 3.0, 50.0, 499.0, 500.0, 1234.5, 20000.0};

START_TEST(poisson_moments)
{
    double lambda = poisson_lambda[_i];
    int draws = lambda > 10000 ? 4000 : lambda > 1000 ? 20000 : 200000;
    norn_rng r = norn_rng_stream(31, NORN_RNG_POISSON, (uint64_t)_i);
    moments m = {0};
    for (int i = 0; i < draws; i++)
        mom_add(&m, (double)norn_rng_poisson(&r, lambda));
    char what[64];
    snprintf(what, sizeof what, "poisson(%g)", lambda);
    check_moments(&m, lambda, lambda, lambda * (1 + 3 * lambda), what);
}
END_TEST

START_TEST(poisson_pmf)
{
    const double lambda = 3.0;
    norn_rng r = norn_rng_stream(32, NORN_RNG_POISSON, 0);
    enum { bins = 11 }; /* 0..9 and >= 10 */
    uint64_t obs[bins] = {0};
    double expect[bins], pk = exp(-lambda), cdf = 0;
    for (int i = 0; i < N_DRAWS; i++) {
        uint64_t k = norn_rng_poisson(&r, lambda);
        obs[k < bins - 1 ? k : bins - 1]++;
    }
    for (int k = 0; k < bins - 1; k++) {
        expect[k] = N_DRAWS * pk;
        cdf += pk;
        pk *= lambda / (k + 1);
    }
    expect[bins - 1] = N_DRAWS * (1 - cdf);
    check_chi2(obs, expect, bins, "poisson(3) pmf");
}
END_TEST

START_TEST(poisson_edges)
{
    norn_rng r = norn_rng_stream(33, NORN_RNG_POISSON, 0);
    ck_assert_uint_eq(norn_rng_poisson(&r, 0.0), 0);
    ck_assert_uint_eq(norn_rng_poisson(&r, -1.0), 0);
    ck_assert_uint_eq(norn_rng_poisson(&r, NAN), 0);
    ck_assert_uint_eq(norn_rng_poisson(&r, INFINITY), UINT64_MAX); /* used to hang */
}
END_TEST

static Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("streams");
    tcase_add_test(tc, same_key_same_sequence);
    tcase_add_test(tc, different_keys_differ);
    tcase_add_test(tc, bits_balanced);
    suite_add_tcase(s, tc);

    tc = tcase_create("continuous");
    tcase_add_test(tc, uniform_moments);
    tcase_add_test(tc, uniform_pos_range);
    tcase_add_test(tc, normal_moments);
    tcase_add_test(tc, exp_moments);
    tcase_add_loop_test(tc, exp_distribution, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("integers");
    tcase_add_loop_test(tc, below_unbiased, 0, (int)(sizeof below_n / sizeof below_n[0]));
    tcase_add_test(tc, below_large_n_unbiased);
    tcase_add_loop_test(tc, binomial_moments, 0,
                        (int)(sizeof binom_cases / sizeof binom_cases[0]));
    tcase_add_test(tc, binomial_pmf);
    tcase_add_test(tc, binomial_edges);
    tcase_add_loop_test(tc, poisson_moments, 0,
                        (int)(sizeof poisson_lambda / sizeof poisson_lambda[0]));
    tcase_add_test(tc, poisson_pmf);
    tcase_add_test(tc, poisson_edges);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(rng_suite()); }
