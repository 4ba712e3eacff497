/* tests/test_connectivity.c - connection rules, distributions and the CSR
 * layout (connectivity/csr.h, connectivity/dist.h).
 * Every built table is checked against the layout invariants of csr.h;
 * statistical checks use fixed seeds and 4- or 5-sigma bounds. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectivity/csr.h"
#include "connectivity/dist.h"
#include "engine/mem.h"
#include "testutil.h"

#define WHERE "net.yaml:14:7"

static norn_proj_spec spec(uint32_t n_src, uint32_t n_tgt, norn_conn_rule rule)
{
    norn_proj_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.n_src = n_src;
    sp.n_tgt = n_tgt;
    sp.proj_index = 3;
    sp.seed = 1234;
    sp.conn.rule = rule;
    sp.conn.allow_autapses = 1;
    sp.conn.allow_multapses = 1;
    sp.weight = norn_dist_const(0.5);
    sp.delay_ms = norn_dist_const(1.0);
    sp.resolution_ms = 0.1;
    sp.where = WHERE;
    return sp;
}

static norn_dist dist_of(norn_dist_kind kind, double a, double b)
{
    norn_dist d = norn_dist_const(0);
    d.kind = kind;
    switch (kind) {
    case NORN_DIST_NORMAL:
        d.mean = a;
        d.std = b;
        break;
    case NORN_DIST_UNIFORM:
        d.low = a;
        d.high = b;
        break;
    case NORN_DIST_LOGNORMAL:
        d.mu = a;
        d.sigma = b;
        break;
    default:
        d.value = a;
        break;
    }
    return d;
}

/* Delay (steps) of every synapse, from the segments. */
static uint32_t *syn_delays(const norn_csr *c)
{
    uint32_t *d = malloc((c->nnz ? c->nnz : 1) * sizeof *d);
    for (uint32_t s = 0; s < c->n_src; s++)
        for (uint64_t g = c->seg_ptr[s]; g < c->seg_ptr[s + 1]; g++) {
            uint64_t end = g + 1 < c->seg_ptr[s + 1] ? c->seg_start[g + 1] : c->row_ptr[s + 1];
            for (uint64_t i = c->seg_start[g]; i < end; i++)
                d[i] = c->seg_delay[g];
        }
    return d;
}

/* The layout of csr.h, checked in full; counts failures instead of calling
 * ck_assert per synapse (Check logs every assertion, which is slow). */
static void check_layout(const norn_csr *c)
{
    ck_assert_uint_eq(c->row_ptr[0], 0);
    ck_assert_uint_eq(c->row_ptr[c->n_src], c->nnz);
    ck_assert_uint_eq(c->seg_ptr[0], 0);
    ck_assert_uint_eq(c->seg_ptr[c->n_src], c->nseg);
    uint64_t bad_rows = 0, bad_tgt = 0, bad_seg = 0, bad_order = 0, bad_w = 0;
    uint32_t dmin = UINT32_MAX, dmax = 0;
    for (uint32_t s = 0; s < c->n_src; s++) {
        uint64_t lo = c->row_ptr[s], hi = c->row_ptr[s + 1];
        uint64_t g0 = c->seg_ptr[s], g1 = c->seg_ptr[s + 1];
        if (hi < lo || g1 < g0) {
            bad_rows++;
            continue;
        }
        if ((hi == lo) != (g1 == g0)) /* a segment is never empty */
            bad_seg++;
        for (uint64_t g = g0; g < g1; g++) {
            uint64_t end = g + 1 < g1 ? c->seg_start[g + 1] : hi;
            if (g == g0 && c->seg_start[g] != lo)
                bad_seg++;
            if (end <= c->seg_start[g] || c->seg_delay[g] < 1)
                bad_seg++;
            if (g > g0 && c->seg_delay[g] <= c->seg_delay[g - 1]) /* ascending, distinct */
                bad_seg++;
            if (c->seg_delay[g] < dmin)
                dmin = c->seg_delay[g];
            if (c->seg_delay[g] > dmax)
                dmax = c->seg_delay[g];
            for (uint64_t i = c->seg_start[g] + 1; i < end; i++)
                if (c->target[i] < c->target[i - 1]) /* by target inside a segment */
                    bad_order++;
        }
        for (uint64_t i = lo; i < hi; i++) {
            bad_tgt += c->target[i] >= c->n_tgt;
            bad_w += !isfinite(c->weight ? c->weight[i] : c->w_const);
        }
    }
    ck_assert_uint_eq(bad_rows, 0);
    ck_assert_uint_eq(bad_seg, 0);
    ck_assert_uint_eq(bad_order, 0);
    ck_assert_uint_eq(bad_tgt, 0);
    ck_assert_uint_eq(bad_w, 0);
    ck_assert_uint_eq(c->min_delay, c->nnz ? dmin : 0);
    ck_assert_uint_eq(c->max_delay, c->nnz ? dmax : 0);
    uint64_t rows = (uint64_t)c->n_src + 1;
    ck_assert_int_eq(c->weight == NULL, c->w_uniform); /* no weight array: the one weight */
    ck_assert_uint_eq(norn_csr_bytes(c), rows * 16 + c->nnz * (c->weight ? 8 : 4) + c->nseg * 12);
}

static void build_ok(const norn_proj_spec *sp, norn_csr *c)
{
    norn_err err;
    norn_err_clear(&err);
    norn_status st = norn_csr_build(sp, c, &err);
    ck_assert_msg(st == NORN_OK, "build failed (%s): %s: %s", norn_status_name(st), err.where,
                  err.msg);
    check_layout(c);
}

static norn_status build_fail(const norn_proj_spec *sp, norn_err *err)
{
    norn_csr c;
    memset(&c, 0xab, sizeof c);
    norn_csr before = c;
    norn_err_clear(err);
    size_t live = norn_mem_live();
    norn_status st = norn_csr_build(sp, &c, err);
    ck_assert_msg(st != NORN_OK, "build unexpectedly succeeded");
    ck_assert_int_eq(err->code, st);
    ck_assert_msg(memcmp(&c, &before, sizeof c) == 0, "*out was touched on failure");
    ck_assert_uint_eq(norn_mem_live(), live);
    return st;
}

static void expect_msg(const norn_err *err, const char *part)
{
    ck_assert_str_eq(err->where, WHERE);
    ck_assert_msg(strstr(err->msg, part) != NULL, "message '%s' lacks '%s'", err->msg, part);
    char buf[1024];
    norn_err_format(err, buf, sizeof buf);
    ck_assert_msg(strstr(buf, WHERE) != NULL, "formatted '%s' lacks the where", buf);
}

/* In-degree of every target. */
static uint64_t *in_degrees(const norn_csr *c)
{
    uint64_t *d = calloc(c->n_tgt ? c->n_tgt : 1, sizeof *d);
    for (uint64_t i = 0; i < c->nnz; i++)
        d[c->target[i]]++;
    return d;
}

/* Number of (src, tgt) pairs present more than once, and of autapses. */
static void pair_stats(const norn_csr *c, uint64_t *multi, uint64_t *autapses)
{
    uint8_t *seen = calloc((uint64_t)c->n_src * c->n_tgt + 1, 1);
    *multi = *autapses = 0;
    for (uint32_t s = 0; s < c->n_src; s++)
        for (uint64_t i = c->row_ptr[s]; i < c->row_ptr[s + 1]; i++) {
            uint32_t t = c->target[i];
            uint8_t *p = &seen[(uint64_t)s * c->n_tgt + t];
            *multi += *p == 1;
            *p = 1;
            *autapses += s == t;
        }
    free(seen);
}

/* ---- rules ---------------------------------------------------------------- */

/* (n_src, n_tgt, indegree, same_population, autapses, multapses) */
typedef struct {
    uint32_t ns, nt;
    uint64_t k;
    int same, autapses, multapses;
} deg_case;

static const deg_case deg_cases[] = {
    {200, 150, 30, 0, 1, 1}, {200, 150, 30, 0, 1, 0},  {120, 120, 30, 1, 0, 0},
    {120, 120, 119, 1, 0, 0}, {120, 120, 100, 1, 0, 0}, {120, 120, 120, 1, 1, 0},
    {50, 60, 500, 0, 1, 1},   {120, 120, 60, 1, 0, 1},  {1, 10, 1, 0, 1, 0},
};
#define N_DEG_CASES ((int)(sizeof deg_cases / sizeof deg_cases[0]))

static void check_degree_case(const deg_case *dc, norn_conn_rule rule)
{
    int out = rule == NORN_CONN_FIXED_OUTDEGREE;
    /* For the outdegree rule swap the sides so that the same cases apply. */
    norn_proj_spec sp = out ? spec(dc->nt, dc->ns, rule) : spec(dc->ns, dc->nt, rule);
    sp.same_population = dc->same;
    sp.conn.allow_autapses = dc->autapses;
    sp.conn.allow_multapses = dc->multapses;
    sp.conn.indegree = sp.conn.outdegree = dc->k;
    norn_csr c;
    build_ok(&sp, &c);
    uint64_t owners = out ? c.n_src : c.n_tgt;
    ck_assert_uint_eq(c.nnz, owners * dc->k);
    uint64_t bad = 0;
    if (out) {
        for (uint32_t s = 0; s < c.n_src; s++)
            bad += c.row_ptr[s + 1] - c.row_ptr[s] != dc->k;
    } else {
        uint64_t *deg = in_degrees(&c);
        for (uint32_t t = 0; t < c.n_tgt; t++)
            bad += deg[t] != dc->k;
        free(deg);
    }
    ck_assert_msg(bad == 0, "%llu neurons with the wrong degree", (unsigned long long)bad);
    uint64_t multi, aut;
    pair_stats(&c, &multi, &aut);
    if (!dc->multapses)
        ck_assert_uint_eq(multi, 0);
    else if (dc->k * 4 > (out ? c.n_tgt : c.n_src))
        ck_assert_uint_gt(multi, 0); /* multapses do occur when allowed */
    if (dc->same && !dc->autapses)
        ck_assert_uint_eq(aut, 0);
    norn_csr_free(&c);
}

START_TEST(fixed_indegree_exact)
{
    check_degree_case(&deg_cases[_i], NORN_CONN_FIXED_INDEGREE);
}
END_TEST

START_TEST(fixed_outdegree_exact)
{
    check_degree_case(&deg_cases[_i], NORN_CONN_FIXED_OUTDEGREE);
}
END_TEST

/* Sources of fixed_indegree are uniform: out-degrees of the sources follow
 * Binomial(n_tgt, k / n_src) without multapses (k > n/2: Floyd's high
 * branch) and Binomial(n_tgt * k, 1 / n_src) with them. */
START_TEST(fixed_indegree_uniform_sources)
{
    for (int multapses = 0; multapses < 2; multapses++) {
        norn_proj_spec sp = spec(100, 20000, NORN_CONN_FIXED_INDEGREE);
        sp.conn.indegree = 60;
        sp.conn.allow_multapses = multapses;
        norn_csr c;
        build_ok(&sp, &c);
        double p = multapses ? 1.0 / 100 : 60.0 / 100;
        double n = multapses ? 20000.0 * 60 : 20000.0;
        double chi2 = 0;
        for (uint32_t s = 0; s < 100; s++) {
            double d = (double)(c.row_ptr[s + 1] - c.row_ptr[s]) - n * p;
            chi2 += d * d / (n * p * (1 - p));
        }
        ck_assert_msg(fabs(chi2 - 100) < 5 * sqrt(200.0), "multapses %d: chi2 %.1f of 100",
                      multapses, chi2);
        norn_csr_free(&c);
    }
}
END_TEST

START_TEST(fixed_total_number_count)
{
    /* (n, total, same, autapses, multapses): sparse, dense (surplus drop
     * with p' = 1), every pair, with multapses. */
    static const struct {
        uint32_t n;
        uint64_t total;
        int same, autapses, multapses;
    } cases[] = {
        {300, 5000, 1, 0, 0}, {100, 9800, 1, 0, 0}, {100, 9900, 1, 0, 0},
        {100, 10000, 0, 1, 0}, {100, 30000, 1, 0, 1}, {200, 0, 0, 1, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        norn_proj_spec sp = spec(cases[k].n, cases[k].n, NORN_CONN_FIXED_TOTAL_NUMBER);
        sp.same_population = cases[k].same;
        sp.conn.allow_autapses = cases[k].autapses;
        sp.conn.allow_multapses = cases[k].multapses;
        sp.conn.total = cases[k].total;
        norn_csr c;
        build_ok(&sp, &c);
        ck_assert_uint_eq(c.nnz, cases[k].total);
        uint64_t multi, aut;
        pair_stats(&c, &multi, &aut);
        if (!cases[k].multapses)
            ck_assert_uint_eq(multi, 0);
        else
            ck_assert_uint_gt(multi, 0);
        if (cases[k].same && !cases[k].autapses)
            ck_assert_uint_eq(aut, 0);
        norn_csr_free(&c);
    }
}
END_TEST

/* The split of total among targets: without multapses the in-degrees are
 * hypergeometric (variance T q (1-q) (N-T)/(N-1), q = 1/n_tgt), with
 * multapses multinomial (T q (1-q)), twice as large here. */
START_TEST(fixed_total_number_spread)
{
    for (int multapses = 0; multapses < 2; multapses++) {
        norn_proj_spec sp = spec(100, 2000, NORN_CONN_FIXED_TOTAL_NUMBER);
        sp.conn.total = 100000;
        sp.conn.allow_multapses = multapses;
        norn_csr c;
        build_ok(&sp, &c);
        uint64_t *deg = in_degrees(&c);
        double mean = 0, var = 0;
        for (uint32_t t = 0; t < 2000; t++)
            mean += (double)deg[t] / 2000;
        for (uint32_t t = 0; t < 2000; t++)
            var += ((double)deg[t] - mean) * ((double)deg[t] - mean) / 1999;
        double T = 100000, N = 200000, q = 1.0 / 2000;
        double expect = T * q * (1 - q) * (multapses ? 1.0 : (N - T) / (N - 1));
        ck_assert_double_eq_tol(mean, 50.0, 1e-9);
        /* sd of a sample variance ~ var * sqrt(2 / (n - 1)) */
        ck_assert_msg(fabs(var - expect) < 5 * expect * sqrt(2.0 / 1999),
                      "multapses %d: in-degree variance %.2f, expected %.2f", multapses, var,
                      expect);
        free(deg);
        norn_csr_free(&c);
    }
}
END_TEST

static const double prob_p[] = {0.02, 0.1, 0.3, 0.7};

START_TEST(fixed_probability_count)
{
    double p = prob_p[_i];
    for (int autapses = 0; autapses < 2; autapses++) {
        norn_proj_spec sp = spec(700, 700, NORN_CONN_FIXED_PROBABILITY);
        sp.conn.p = p;
        sp.same_population = 1;
        sp.conn.allow_autapses = autapses;
        sp.seed = 77 + (uint64_t)_i;
        norn_csr c;
        build_ok(&sp, &c);
        double pairs = 700.0 * (autapses ? 700 : 699);
        double mean = pairs * p, sd = sqrt(pairs * p * (1 - p));
        ck_assert_msg(fabs((double)c.nnz - mean) < 4 * sd, "p %g: %llu synapses, expected %.0f",
                      p, (unsigned long long)c.nnz, mean);
        uint64_t multi, aut;
        pair_stats(&c, &multi, &aut);
        ck_assert_uint_eq(multi, 0);
        if (!autapses)
            ck_assert_uint_eq(aut, 0);
        /* In-degrees are Binomial(n, p) too: variance check. */
        uint64_t *deg = in_degrees(&c);
        double n = autapses ? 700 : 699, m = 0, v = 0;
        for (int t = 0; t < 700; t++)
            m += (double)deg[t] / 700;
        for (int t = 0; t < 700; t++)
            v += ((double)deg[t] - m) * ((double)deg[t] - m) / 699;
        double ev = n * p * (1 - p);
        ck_assert_msg(fabs(v - ev) < 5 * ev * sqrt(2.0 / 699) + 0.5,
                      "p %g: in-degree variance %.2f, expected %.2f", p, v, ev);
        free(deg);
        norn_csr_free(&c);
    }
}
END_TEST

START_TEST(fixed_probability_edges)
{
    norn_proj_spec sp = spec(40, 30, NORN_CONN_FIXED_PROBABILITY);
    norn_csr c;
    sp.conn.p = 0.0;
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.nnz, 0);
    ck_assert_uint_eq(c.nseg, 0);
    ck_assert_uint_eq(c.min_delay, 0);
    norn_csr_free(&c);
    sp.conn.p = 1.0;
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.nnz, 40 * 30);
    norn_csr_free(&c);
    norn_err err;
    sp.conn.p = 1.5;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "p 1.5");
    sp.conn.p = NAN;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
}
END_TEST

START_TEST(all_to_all_structure)
{
    for (int autapses = 0; autapses < 2; autapses++) {
        norn_proj_spec sp = spec(13, 13, NORN_CONN_ALL_TO_ALL);
        sp.same_population = 1;
        sp.conn.allow_autapses = autapses;
        norn_csr c;
        build_ok(&sp, &c);
        ck_assert_uint_eq(c.nnz, 13 * (autapses ? 13 : 12));
        for (uint32_t s = 0; s < 13; s++) {
            uint32_t expect = 0;
            for (uint64_t i = c.row_ptr[s]; i < c.row_ptr[s + 1]; i++, expect++) {
                if (!autapses && expect == s)
                    expect++;
                ck_assert_uint_eq(c.target[i], expect);
            }
            if (!autapses && expect == s)
                expect++;
            ck_assert_uint_eq(expect, 13);
        }
        norn_csr_free(&c);
    }
    /* Different sizes. */
    norn_proj_spec sp = spec(5, 9, NORN_CONN_ALL_TO_ALL);
    norn_csr c;
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.nnz, 45);
    ck_assert_uint_eq(c.nseg, 5);
    norn_csr_free(&c);
}
END_TEST

START_TEST(one_to_one_structure)
{
    norn_proj_spec sp = spec(17, 17, NORN_CONN_ONE_TO_ONE);
    norn_csr c;
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.nnz, 17);
    for (uint32_t s = 0; s < 17; s++) {
        ck_assert_uint_eq(c.row_ptr[s], s);
        ck_assert_uint_eq(c.target[s], s);
    }
    norn_csr_free(&c);
    norn_err err;
    sp.n_tgt = 18;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "one_to_one needs as many sources as targets, got 17 and 18");
    sp.n_tgt = 17;
    sp.same_population = 1;
    sp.conn.allow_autapses = 0;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "autapses");
}
END_TEST

START_TEST(empty_populations)
{
    norn_proj_spec sp = spec(0, 10, NORN_CONN_ALL_TO_ALL);
    norn_csr c;
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.nnz, 0);
    norn_csr_free(&c);
    sp = spec(10, 0, NORN_CONN_FIXED_OUTDEGREE);
    sp.conn.outdegree = 0;
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.nnz, 0);
    norn_csr_free(&c);
    sp = spec(10, 0, NORN_CONN_FIXED_INDEGREE);
    sp.conn.indegree = 5;
    build_ok(&sp, &c); /* no targets: nothing to draw */
    ck_assert_uint_eq(c.nnz, 0);
    norn_csr_free(&c);
}
END_TEST

/* ---- order and delays --------------------------------------------------- */

/* Random delays: rows sorted by (delay, target) with consistent segments
 * (check_layout), for a narrow delay range (counting sort), a wide one
 * (merge sort) and the source-driven rule; the multiset of (source, target,
 * weight, delay) does not depend on the sorting. */
static const struct {
    norn_conn_rule rule;
    double low, high;
} order_cases[] = {
    {NORN_CONN_FIXED_INDEGREE, 0.1, 2.0},
    {NORN_CONN_FIXED_INDEGREE, 0.1, 1000.0},
    {NORN_CONN_FIXED_OUTDEGREE, 0.1, 2.0},
    {NORN_CONN_FIXED_OUTDEGREE, 0.1, 1000.0},
    {NORN_CONN_FIXED_PROBABILITY, 0.1, 2.0},
};

START_TEST(rows_sorted_segments)
{
    norn_proj_spec sp = spec(300, 200, order_cases[_i].rule);
    sp.conn.indegree = 40;
    sp.conn.outdegree = 30;
    sp.conn.p = 0.15;
    sp.delay_ms = dist_of(NORN_DIST_UNIFORM, order_cases[_i].low, order_cases[_i].high);
    sp.weight = dist_of(NORN_DIST_NORMAL, 1.0, 0.3);
    norn_csr c;
    build_ok(&sp, &c);
    ck_assert_uint_gt(c.nseg, c.n_src); /* several delays per row */
    uint32_t *d = syn_delays(&c);
    uint64_t bad = 0;
    for (uint64_t i = 0; i < c.nnz; i++) {
        double ms = d[i] * 0.1;
        bad += ms < order_cases[_i].low - 0.05 - 1e-9 || ms > order_cases[_i].high + 0.05 + 1e-9;
    }
    ck_assert_uint_eq(bad, 0);
    /* Row order is (delay, target): check directly too. */
    for (uint32_t s = 0; s < c.n_src; s++)
        for (uint64_t i = c.row_ptr[s] + 1; i < c.row_ptr[s + 1]; i++)
            bad += d[i] < d[i - 1] || (d[i] == d[i - 1] && c.target[i] < c.target[i - 1]);
    ck_assert_uint_eq(bad, 0);
    free(d);
    norn_csr_free(&c);
}
END_TEST

/* Delays from an array: rounded to the nearest step. */
START_TEST(delays_rounded)
{
    const double ms[6] = {0.1, 0.149, 0.151, 2.0, 1.26, 0.0999999999999};
    const uint32_t steps[6] = {1, 1, 2, 20, 13, 1};
    norn_proj_spec sp = spec(6, 1, NORN_CONN_ALL_TO_ALL);
    sp.delay_ms.kind = NORN_DIST_ARRAY;
    sp.delay_ms.array = ms;
    sp.delay_ms.rows = 1;
    sp.delay_ms.cols = 6;
    norn_csr c;
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.nnz, 6);
    for (uint32_t s = 0; s < 6; s++) {
        ck_assert_uint_eq(c.seg_ptr[s + 1] - c.seg_ptr[s], 1);
        ck_assert_uint_eq(c.seg_delay[c.seg_ptr[s]], steps[s]);
    }
    ck_assert_uint_eq(c.min_delay, 1);
    ck_assert_uint_eq(c.max_delay, 20);
    norn_csr_free(&c);
    /* A constant. */
    sp = spec(4, 4, NORN_CONN_ALL_TO_ALL);
    sp.delay_ms = norn_dist_const(1.26);
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.min_delay, 13);
    ck_assert_uint_eq(c.max_delay, 13);
    ck_assert_uint_eq(c.nseg, 4);
    norn_csr_free(&c);
    /* Another resolution. */
    sp.resolution_ms = 0.25;
    sp.delay_ms = norn_dist_const(1.3);
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.min_delay, 5);
    norn_csr_free(&c);
}
END_TEST

START_TEST(delay_below_resolution)
{
    norn_err err;
    norn_proj_spec sp = spec(10, 10, NORN_CONN_ALL_TO_ALL);
    sp.delay_ms = norn_dist_const(0.05);
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "delay 0.05 ms is below the resolution 0.1 ms");
    /* Drawn delays: found while filling, after the big allocations. */
    sp.delay_ms = dist_of(NORN_DIST_UNIFORM, 0.0, 0.3);
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "below the resolution 0.1 ms");
    /* From an array. */
    double a[4] = {1.0, 1.0, 0.02, 1.0};
    sp = spec(2, 2, NORN_CONN_ALL_TO_ALL);
    sp.delay_ms.kind = NORN_DIST_ARRAY;
    sp.delay_ms.array = a;
    sp.delay_ms.rows = sp.delay_ms.cols = 2;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "delay 0.02 ms");
    a[2] = NAN;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "not finite");
    a[2] = 1.0;
    sp.resolution_ms = 0;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "resolution");
}
END_TEST

/* ---- determinism ---------------------------------------------------------- */

static int same_table(const norn_csr *a, const norn_csr *b)
{
    return a->n_src == b->n_src && a->nnz == b->nnz && a->nseg == b->nseg &&
           memcmp(a->row_ptr, b->row_ptr, (a->n_src + 1ULL) * 8) == 0 &&
           memcmp(a->target, b->target, a->nnz * 4) == 0 &&
           memcmp(a->weight, b->weight, a->nnz * 4) == 0 &&
           memcmp(a->seg_ptr, b->seg_ptr, (a->n_src + 1ULL) * 8) == 0 &&
           memcmp(a->seg_delay, b->seg_delay, a->nseg * 4) == 0 &&
           memcmp(a->seg_start, b->seg_start, a->nseg * 8) == 0;
}

/* fixed_indegree and fixed_total_number with a constant weight and delay take
 * a one-draw path (the bit matrix or the tiled scatter up to 16384 sources,
 * radix partition above). A delay drawn from a range that rounds to the same step takes the
 * general two-pass path: both must give the same table. */
static const struct {
    uint32_t n_src, n_tgt;
    int same_pop, autapses, multapses;
} quick_cases[] = {
    {300, 200, 0, 1, 0},     {300, 200, 0, 1, 1},       {5000, 5000, 1, 0, 0},
    {20000, 300, 0, 1, 0},   {20000, 20000, 1, 0, 0},   {40000, 700, 0, 1, 1},
    /* the packed partition with rows of several cache lines (~18 and ~22
     * synapses a row; lines gathered per block and per row, written whole
     * inside a row, plainly at its ends) */
    {17000, 9000, 0, 1, 0},  {20000, 11000, 0, 1, 1},
    /* dense enough for the bit matrix (one synapse in 32 pairs or more):
     * autapses excluded, sizes off multiples of 64 */
    {1000, 1000, 1, 0, 0},   {700, 1300, 0, 1, 0},      {1100, 1100, 1, 1, 0},
};

START_TEST(quick_path_matches_general)
{
    for (int rule = 0; rule < 2; rule++) {
        norn_proj_spec sp = spec(quick_cases[_i].n_src, quick_cases[_i].n_tgt,
                                 rule ? NORN_CONN_FIXED_TOTAL_NUMBER : NORN_CONN_FIXED_INDEGREE);
        sp.same_population = quick_cases[_i].same_pop;
        sp.conn.allow_autapses = quick_cases[_i].autapses;
        sp.conn.allow_multapses = quick_cases[_i].multapses;
        sp.conn.indegree = 40;
        sp.conn.total = 37ULL * quick_cases[_i].n_tgt;
        norn_csr a, b;
        build_ok(&sp, &a);
        sp.delay_ms = dist_of(NORN_DIST_UNIFORM, 0.99, 1.01);
        build_ok(&sp, &b);
        ck_assert_msg(same_table(&a, &b), "case %d rule %d: tables differ", _i, rule);
        norn_csr_free(&a);
        norn_csr_free(&b);
    }
}
END_TEST

/* spec.uniform_ok: where the one-draw path knows every weight is the
 * constant (the bit matrix, the partitions and scatters of fill_quick),
 * the table comes without its weight array, the constant in w_const, the
 * rest the same; elsewhere (a drawn delay: the general path) the weight
 * array is there as without it. 2,000 sources: the sorted draw or the
 * direct scatter (multapses); 20,000: the packed partition. */
START_TEST(uniform_weight_table)
{
    for (int v = 0; v < 4; v++) {
        int multi = v & 1;
        norn_proj_spec sp = spec(v < 2 ? 2000 : 20000, 1500, NORN_CONN_FIXED_INDEGREE);
        sp.conn.allow_multapses = multi;
        sp.conn.indegree = 200;
        sp.weight = norn_dist_const(0.25);
        norn_csr a, b;
        build_ok(&sp, &a);
        sp.uniform_ok = 1;
        build_ok(&sp, &b);
        ck_assert_int_eq(a.w_uniform, 0);
        ck_assert_ptr_nonnull(a.weight);
        for (uint64_t k = 0; k < a.nnz; k++)
            ck_assert_float_eq(a.weight[k], 0.25f);
        ck_assert_uint_eq(a.nnz, b.nnz);
        ck_assert_int_eq(memcmp(a.row_ptr, b.row_ptr, (a.n_src + 1ULL) * 8), 0);
        ck_assert_int_eq(memcmp(a.target, b.target, a.nnz * 4), 0);
        ck_assert_uint_eq(a.nseg, b.nseg);
        ck_assert_int_eq(memcmp(a.seg_start, b.seg_start, a.nseg * 8), 0);
        ck_assert_int_eq(b.w_uniform, 1);
        ck_assert_ptr_null(b.weight);
        ck_assert_float_eq(b.w_const, 0.25f);
        ck_assert_uint_eq(norn_csr_bytes(&b), norn_csr_bytes(&a) - a.nnz * 4);
        norn_csr g;
        sp.delay_ms = dist_of(NORN_DIST_UNIFORM, 0.99, 1.01); /* one step, drawn */
        build_ok(&sp, &g);
        ck_assert_int_eq(g.w_uniform, 0);
        ck_assert_ptr_nonnull(g.weight);
        ck_assert_int_eq(memcmp(a.target, g.target, a.nnz * 4), 0);
        norn_csr_free(&a);
        norn_csr_free(&b);
        norn_csr_free(&g);
    }
}
END_TEST

/* fixed_probability with a constant weight and delay takes the bit matrix
 * (one draw per target, no scatter) where the matrix is small next to the
 * table: the same table as the general two-pass path (a delay drawn from a
 * range that rounds to the same step), sparse and dense sampling,
 * autapses excluded, sizes off multiples of 64, an MPI part. uniform_ok
 * shows the path was taken (only it leaves the weight array out). */
START_TEST(prob_bits_matches_general)
{
    static const struct {
        uint32_t n_src, n_tgt;
        int same_pop;
        double p;
        uint32_t lo, hi;
    } cases[] = {{1000, 700, 0, 0.1, 0, 0}, {1300, 1300, 1, 0.05, 0, 0}, {900, 900, 1, 0.4, 0, 0},
                 {2000, 1500, 0, 0.1, 333, 1201}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        norn_proj_spec sp = spec(cases[k].n_src, cases[k].n_tgt, NORN_CONN_FIXED_PROBABILITY);
        sp.same_population = cases[k].same_pop;
        sp.conn.allow_autapses = !cases[k].same_pop;
        sp.conn.p = cases[k].p;
        if (cases[k].hi) {
            sp.tgt_part = 1;
            sp.tgt_lo = cases[k].lo;
            sp.tgt_hi = cases[k].hi;
        }
        norn_csr a, u, g;
        build_ok(&sp, &a);
        sp.uniform_ok = 1;
        build_ok(&sp, &u);
        sp.uniform_ok = 0;
        sp.delay_ms = dist_of(NORN_DIST_UNIFORM, 0.99, 1.01);
        build_ok(&sp, &g);
        ck_assert_msg(same_table(&a, &g), "case %zu: tables differ", k);
        ck_assert_msg(u.weight == NULL && u.w_uniform && u.w_const == 0.5f, "case %zu: not the bit matrix", k);
        ck_assert_int_eq(memcmp(u.target, g.target, g.nnz * 4), 0);
        ck_assert(g.nnz > 1000);
        norn_csr_free(&a);
        norn_csr_free(&u);
        norn_csr_free(&g);
    }
}
END_TEST

/* ---- the tables themselves, kept -------------------------------------- */

/* FNV-1a over the table's arrays. */
static uint64_t table_hash(const norn_csr *c)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const struct {
        const void *p;
        uint64_t n;
    } a[] = {{c->row_ptr, (c->n_src + 1ULL) * 8}, {c->target, c->nnz * 4}, {c->weight, c->nnz * 4},
             {c->seg_ptr, (c->n_src + 1ULL) * 8}, {c->seg_delay, c->nseg * 4}, {c->seg_start, c->nseg * 8}};
    for (size_t k = 0; k < sizeof a / sizeof a[0]; k++)
        for (uint64_t i = 0; i < a[k].n; i++) {
            h ^= ((const unsigned char *)a[k].p)[i];
            h *= 0x100000001b3ULL;
        }
    return h;
}

/* A seed's connectivity never changes: these hashes are of the tables that
 * norn built before the sampling and the scatter were made faster (commit
 * 8247b33), so every path is pinned: sorted draws with the tiled scatter
 * (without multapses, constant values, up to 16,384 sources; dense and
 * sparse read-back, autapses excluded, MPI target parts), the radix
 * partition packed into the target array (more sources, MPI parts), the
 * direct scatter and the partition through a source array (multapses; a
 * million sources), the general two-pass path (drawn weights
 * or delays), fixed_total_number and fixed_outdegree. The suite
 * connectivity_reject runs them with every draw through below()'s rejection
 * branch. */
/* (rule, n_src, n_tgt, same population, autapses, multapses, degree or
 * total, weight drawn, delay drawn, seed, target part [lo, hi) or 0, 0) */
static const struct {
    norn_conn_rule rule;
    uint32_t n_src, n_tgt;
    int same_pop, autapses, multapses;
    uint64_t k;
    int w_drawn, d_drawn;
    uint64_t seed;
    uint32_t lo, hi;
    uint64_t hash;
} fixtures[] = {
    {NORN_CONN_FIXED_INDEGREE, 300, 200, 0, 1, 0, 40, 0, 0, 1, 0, 0, 0xdef210bb33331e0bULL},
    {NORN_CONN_FIXED_INDEGREE, 10000, 2500, 0, 1, 0, 1000, 0, 0, 12345, 0, 0, 0xea77a89bbd0985a5ULL},
    {NORN_CONN_FIXED_INDEGREE, 2500, 2500, 1, 1, 0, 250, 0, 0, 7, 0, 0, 0x5b9183cdcf4a685cULL},
    {NORN_CONN_FIXED_INDEGREE, 5000, 5000, 1, 0, 0, 100, 0, 0, 99, 0, 0, 0x1b197bab234f5eacULL},
    {NORN_CONN_FIXED_INDEGREE, 100, 3000, 0, 1, 0, 90, 0, 0, 5, 0, 0, 0xe0ddf9a2a1df1dffULL},
    {NORN_CONN_FIXED_INDEGREE, 80000, 600, 0, 1, 0, 1000, 0, 0, 3, 0, 0, 0x5b0c1ddf3df77799ULL},
    {NORN_CONN_FIXED_INDEGREE, 200000, 300, 0, 1, 0, 30, 0, 0, 4, 0, 0, 0x5b08efb2b3d02519ULL},
    {NORN_CONN_FIXED_INDEGREE, 1000000, 200, 0, 1, 0, 5, 0, 0, 6, 0, 0, 0xa801c1f3d1564709ULL},
    {NORN_CONN_FIXED_INDEGREE, 10000, 2000, 0, 1, 0, 1000, 0, 0, 12345, 700, 1900, 0x13dd076fbb306c7bULL},
    {NORN_CONN_FIXED_INDEGREE, 20000, 700, 0, 1, 1, 40, 0, 0, 8, 0, 0, 0x5461f3451e94f740ULL},
    {NORN_CONN_FIXED_INDEGREE, 3000, 700, 0, 1, 1, 40, 0, 0, 8, 0, 0, 0x593145f74e36ca4bULL},
    {NORN_CONN_FIXED_INDEGREE, 3000, 800, 0, 1, 0, 200, 1, 0, 11, 0, 0, 0x660f042ae22cbc0eULL},
    {NORN_CONN_FIXED_INDEGREE, 3000, 800, 0, 1, 1, 200, 1, 1, 12, 0, 0, 0x4f83a76a362b74acULL},
    {NORN_CONN_FIXED_INDEGREE, 900, 900, 1, 0, 0, 300, 0, 1, 13, 0, 0, 0xac5f7bc322302f46ULL},
    {NORN_CONN_FIXED_INDEGREE, 30000, 3000, 0, 1, 0, 200, 0, 0, 14, 1000, 2500, 0x7eef413e3096c4c3ULL},
    {NORN_CONN_FIXED_INDEGREE, 30000, 30000, 1, 0, 0, 20, 0, 0, 15, 0, 0, 0xb5eccba5c2b38c5eULL},
    {NORN_CONN_FIXED_TOTAL_NUMBER, 4000, 3000, 0, 1, 0, 600000, 0, 0, 21, 0, 0, 0x27a01190a37b4c7bULL},
    {NORN_CONN_FIXED_TOTAL_NUMBER, 4000, 4000, 1, 0, 0, 500000, 0, 0, 22, 1000, 3000, 0x6bc811be384431f6ULL},
    {NORN_CONN_FIXED_TOTAL_NUMBER, 30000, 500, 0, 1, 1, 200000, 0, 0, 23, 0, 0, 0x158381f9ccf19245ULL},
    {NORN_CONN_FIXED_TOTAL_NUMBER, 2000, 1000, 0, 1, 0, 100000, 1, 1, 24, 0, 0, 0x835d6ed89e9191d2ULL},
    {NORN_CONN_FIXED_OUTDEGREE, 2000, 3000, 0, 1, 0, 150, 0, 0, 31, 0, 0, 0xb939cf74f2cc8abdULL},
    {NORN_CONN_FIXED_OUTDEGREE, 1500, 1500, 1, 0, 1, 150, 1, 1, 32, 500, 1000, 0xadcb8a7a89f96b29ULL},
};

START_TEST(tables_unchanged)
{
    norn_proj_spec sp = spec(fixtures[_i].n_src, fixtures[_i].n_tgt, fixtures[_i].rule);
    sp.same_population = fixtures[_i].same_pop;
    sp.proj_index = (uint32_t)_i + 1;
    sp.seed = fixtures[_i].seed;
    sp.conn.allow_autapses = fixtures[_i].autapses;
    sp.conn.allow_multapses = fixtures[_i].multapses;
    sp.conn.indegree = sp.conn.outdegree = sp.conn.total = fixtures[_i].k;
    sp.weight = fixtures[_i].w_drawn ? dist_of(NORN_DIST_NORMAL, 0.5, 0.1) : norn_dist_const(0.25);
    sp.delay_ms = fixtures[_i].d_drawn ? dist_of(NORN_DIST_UNIFORM, 0.1, 3.0) : norn_dist_const(1.5);
    sp.resolution_ms = 0.1;
    if (fixtures[_i].hi) {
        sp.tgt_part = 1;
        sp.tgt_lo = fixtures[_i].lo;
        sp.tgt_hi = fixtures[_i].hi;
    }
    norn_csr c;
    build_ok(&sp, &c);
    uint64_t h = table_hash(&c);
    ck_assert_msg(h == fixtures[_i].hash, "case %d: table hash %016llx, want %016llx", _i,
                  (unsigned long long)h, (unsigned long long)fixtures[_i].hash);
    norn_csr_free(&c);
}
END_TEST

static const norn_conn_rule det_rules[] = {
    NORN_CONN_FIXED_INDEGREE,     NORN_CONN_FIXED_OUTDEGREE,
    NORN_CONN_FIXED_PROBABILITY,  NORN_CONN_FIXED_TOTAL_NUMBER,
};

START_TEST(deterministic)
{
    for (int multapses = 0; multapses < 2; multapses++) {
        norn_proj_spec sp = spec(150, 120, det_rules[_i]);
        sp.conn.indegree = 20;
        sp.conn.outdegree = 25;
        sp.conn.p = 0.1;
        sp.conn.total = 3000;
        sp.conn.allow_multapses = multapses;
        sp.weight = dist_of(NORN_DIST_NORMAL, 0.0, 1.0);
        sp.delay_ms = dist_of(NORN_DIST_UNIFORM, 0.5, 3.0);
        norn_csr a, b;
        build_ok(&sp, &a);
        build_ok(&sp, &b);
        ck_assert_msg(same_table(&a, &b), "rebuild differs");
        norn_csr_free(&b);
        sp.seed++;
        build_ok(&sp, &b);
        ck_assert_msg(!same_table(&a, &b), "another seed gives the same table");
        norn_csr_free(&b);
        sp.seed--;
        sp.proj_index++;
        build_ok(&sp, &b);
        ck_assert_msg(!same_table(&a, &b), "another projection index gives the same table");
        norn_csr_free(&b);
        /* Another weight distribution changes weights, not connections. */
        sp.proj_index--;
        sp.weight = dist_of(NORN_DIST_UNIFORM, 0.0, 1.0);
        build_ok(&sp, &b);
        ck_assert_uint_eq(a.nnz, b.nnz);
        ck_assert(memcmp(a.row_ptr, b.row_ptr, (a.n_src + 1ULL) * 8) == 0);
        ck_assert(memcmp(a.target, b.target, a.nnz * 4) == 0);
        ck_assert(memcmp(a.weight, b.weight, a.nnz * 4) != 0);
        norn_csr_free(&b);
        norn_csr_free(&a);
    }
}
END_TEST

/* The synapses of target t depend only on (seed, projection, t): a larger
 * target population keeps the first targets' sources. */
START_TEST(owner_keyed_streams)
{
    norn_proj_spec sp = spec(100, 50, NORN_CONN_FIXED_INDEGREE);
    sp.conn.indegree = 10;
    sp.weight = dist_of(NORN_DIST_NORMAL, 0.0, 1.0);
    norn_csr a, b;
    build_ok(&sp, &a);
    sp.n_tgt = 80;
    build_ok(&sp, &b);
    /* Compare (source, weight) lists of target 17 in both. */
    uint64_t na = 0, nb = 0, match = 0;
    for (uint32_t s = 0; s < 100; s++) {
        for (uint64_t i = a.row_ptr[s]; i < a.row_ptr[s + 1]; i++)
            if (a.target[i] == 17) {
                na++;
                for (uint64_t j = b.row_ptr[s]; j < b.row_ptr[s + 1]; j++)
                    match += b.target[j] == 17 && b.weight[j] == a.weight[i];
            }
        for (uint64_t j = b.row_ptr[s]; j < b.row_ptr[s + 1]; j++)
            nb += b.target[j] == 17;
    }
    ck_assert_uint_eq(na, 10);
    ck_assert_uint_eq(nb, 10);
    ck_assert_uint_eq(match, 10);
    norn_csr_free(&a);
    norn_csr_free(&b);
}
END_TEST

/* ---- weights and distributions ------------------------------------------ */

static double Phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }
static double phi(double x) { return exp(-0.5 * x * x) / sqrt(2 * M_PI); }

START_TEST(weights_normal_clipped)
{
    const double mu = 0.5, sigma = 0.1, lo = 0.3, hi = 0.6;
    norn_proj_spec sp = spec(400, 400, NORN_CONN_FIXED_INDEGREE);
    sp.conn.indegree = 100;
    sp.weight = dist_of(NORN_DIST_NORMAL, mu, sigma);
    sp.weight.min = lo;
    sp.weight.max = hi;
    norn_csr c;
    build_ok(&sp, &c);
    uint64_t out = 0, at_lo = 0, at_hi = 0;
    double sum = 0;
    for (uint64_t i = 0; i < c.nnz; i++) {
        float w = c.weight[i];
        out += w < (float)lo || w > (float)hi;
        at_lo += w == (float)lo;
        at_hi += w == (float)hi;
        sum += w;
    }
    ck_assert_uint_eq(out, 0);
    /* Mean of a normal clamped to [lo, hi]. */
    double a = (lo - mu) / sigma, b = (hi - mu) / sigma;
    double mean = lo * Phi(a) + hi * (1 - Phi(b)) + mu * (Phi(b) - Phi(a)) +
                  sigma * (phi(a) - phi(b));
    double n = (double)c.nnz;
    ck_assert_msg(fabs(sum / n - mean) < 5 * sigma / sqrt(n), "mean %.5f, expected %.5f",
                  sum / n, mean);
    /* Mass at the bounds: P(X < lo) = Phi(-2), P(X > hi) = 1 - Phi(1). */
    double pl = Phi(a), ph = 1 - Phi(b);
    ck_assert_msg(fabs((double)at_lo - n * pl) < 5 * sqrt(n * pl), "at min: %llu",
                  (unsigned long long)at_lo);
    ck_assert_msg(fabs((double)at_hi - n * ph) < 5 * sqrt(n * ph), "at max: %llu",
                  (unsigned long long)at_hi);
    norn_csr_free(&c);
}
END_TEST

/* Mean and variance of draws for each kind (norn_dist_draw directly). */
START_TEST(dist_draws)
{
    enum { n = 400000 };
    static const struct {
        norn_dist_kind kind;
        double a, b, mean, var;
    } cases[] = {
        {NORN_DIST_NORMAL, -2.0, 3.0, -2.0, 9.0},
        {NORN_DIST_UNIFORM, 1.0, 5.0, 3.0, 16.0 / 12},
        /* exp(mu + s^2/2); (exp(s^2) - 1) exp(2 mu + s^2) */
        {NORN_DIST_LOGNORMAL, 0.5, 0.4, 1.7860384, 0.5534881},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        norn_dist d = dist_of(cases[k].kind, cases[k].a, cases[k].b);
        norn_rng r = norn_rng_stream(5, NORN_RNG_WEIGHT, k);
        double s = 0, s2 = 0, lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < n; i++) {
            double x = norn_dist_draw(&d, &r);
            s += x;
            s2 += x * x;
            lo = fmin(lo, x);
            hi = fmax(hi, x);
        }
        double m = s / n, v = s2 / n - m * m;
        ck_assert_msg(fabs(m - cases[k].mean) < 5 * sqrt(cases[k].var / n),
                      "kind %d: mean %.5f, expected %.5f", cases[k].kind, m, cases[k].mean);
        ck_assert_msg(fabs(v - cases[k].var) < 0.02 * cases[k].var,
                      "kind %d: variance %.5f, expected %.5f", cases[k].kind, v, cases[k].var);
        if (cases[k].kind == NORN_DIST_UNIFORM)
            ck_assert(lo >= 1.0 && hi < 5.0);
        if (cases[k].kind == NORN_DIST_LOGNORMAL)
            ck_assert(lo > 0.0);
    }
    /* Clipping applies to every kind, also constants. */
    norn_dist d = norn_dist_const(7.0);
    norn_rng r = norn_rng_stream(5, NORN_RNG_WEIGHT, 99);
    ck_assert_double_eq(norn_dist_draw(&d, &r), 7.0);
    d.max = 2.0;
    ck_assert_double_eq(norn_dist_draw(&d, &r), 2.0);
    d = dist_of(NORN_DIST_UNIFORM, 3.0, 3.0);
    ck_assert_double_eq(norn_dist_draw(&d, &r), 3.0);
    d = dist_of(NORN_DIST_ARRAY, 0, 0);
    ck_assert(isnan(norn_dist_draw(&d, &r)));
}
END_TEST

START_TEST(dist_is_const)
{
    norn_dist d = norn_dist_const(1.0);
    ck_assert_int_eq(norn_dist_is_const(&d), 1);
    ck_assert(isinf(d.min) && d.min < 0 && isinf(d.max) && d.max > 0);
    d = dist_of(NORN_DIST_NORMAL, 1.0, 0.0);
    ck_assert_int_eq(norn_dist_is_const(&d), 1);
    d = dist_of(NORN_DIST_NORMAL, 1.0, 0.5);
    ck_assert_int_eq(norn_dist_is_const(&d), 0);
    d.min = d.max = 0.25; /* everything clamps to one value */
    ck_assert_int_eq(norn_dist_is_const(&d), 1);
    d = dist_of(NORN_DIST_UNIFORM, 1.0, 2.0);
    ck_assert_int_eq(norn_dist_is_const(&d), 0);
    d.max = 0.5; /* all above max */
    ck_assert_int_eq(norn_dist_is_const(&d), 1);
    d = dist_of(NORN_DIST_UNIFORM, 1.0, 2.0);
    d.min = 2.0; /* all below min */
    ck_assert_int_eq(norn_dist_is_const(&d), 1);
    d = dist_of(NORN_DIST_LOGNORMAL, 0.0, 1.0);
    ck_assert_int_eq(norn_dist_is_const(&d), 0);
    d.sigma = 0;
    ck_assert_int_eq(norn_dist_is_const(&d), 1);
    double v[4] = {2, 2, 2, 2};
    d = dist_of(NORN_DIST_ARRAY, 0, 0);
    d.array = v;
    d.rows = 2;
    d.cols = 2;
    ck_assert_int_eq(norn_dist_is_const(&d), 1);
    v[3] = 3;
    ck_assert_int_eq(norn_dist_is_const(&d), 0);
    d.max = 2;
    ck_assert_int_eq(norn_dist_is_const(&d), 1);
}
END_TEST

START_TEST(weights_bad)
{
    norn_err err;
    norn_proj_spec sp = spec(20, 20, NORN_CONN_FIXED_INDEGREE);
    sp.conn.indegree = 5;
    sp.weight = norn_dist_const(NAN);
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "weight nan");
    sp.weight = norn_dist_const(1e300); /* does not fit float32 */
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "weight 1e+300");
    sp.weight = dist_of(NORN_DIST_LOGNORMAL, 800.0, 1.0); /* exp overflows */
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "weight inf");
    sp.weight = dist_of(NORN_DIST_NORMAL, 0.0, -1.0);
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "weight: normal needs");
    sp.weight = dist_of(NORN_DIST_UNIFORM, 2.0, 1.0);
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "low 2 high 1");
    sp.weight = norn_dist_const(1.0);
    sp.weight.min = 2.0;
    sp.weight.max = 1.0;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "clipping bounds");
    sp.weight = norn_dist_const(1.0);
    sp.delay_ms = dist_of(NORN_DIST_LOGNORMAL, 0.0, -2.0);
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "delay: lognormal needs");
}
END_TEST

/* An array weight with a random rule: weight = array[tgt][src]. */
START_TEST(weights_from_array)
{
    enum { ns = 30, nt = 20 };
    static double w[nt * ns];
    for (int t = 0; t < nt; t++)
        for (int s = 0; s < ns; s++)
            w[t * ns + s] = t * 100 + s + 0.5;
    norn_proj_spec sp = spec(ns, nt, NORN_CONN_FIXED_INDEGREE);
    sp.conn.indegree = 7;
    sp.weight = dist_of(NORN_DIST_ARRAY, 0, 0);
    sp.weight.array = w;
    sp.weight.rows = nt;
    sp.weight.cols = ns;
    sp.weight.max = 1500.5; /* clipping applies to arrays too */
    norn_csr c;
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.nnz, nt * 7);
    uint64_t bad = 0;
    for (uint32_t s = 0; s < ns; s++)
        for (uint64_t i = c.row_ptr[s]; i < c.row_ptr[s + 1]; i++)
            bad += c.weight[i] != (float)fmin(w[c.target[i] * ns + s], 1500.5);
    ck_assert_uint_eq(bad, 0);
    norn_csr_free(&c);
    /* Wrong shape. */
    norn_err err;
    sp.weight.rows = ns;
    sp.weight.cols = nt;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "does not match");
}
END_TEST

START_TEST(from_matrix)
{
    /* [n_tgt = 3][n_src = 4]; zeros dropped, values kept, -0.0 is zero. */
    const double m[12] = {
        0.0, 1.5, 0.0, -2.0, /* target 0 */
        3.0, 0.0, 0.0, 0.0,  /* target 1 */
        -0.0, 4.25, 5.0, 0.0 /* target 2 */
    };
    norn_proj_spec sp = spec(4, 3, NORN_CONN_FROM_MATRIX);
    sp.weight = dist_of(NORN_DIST_ARRAY, 0, 0);
    sp.weight.array = m;
    sp.weight.rows = 3;
    sp.weight.cols = 4;
    norn_csr c;
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.nnz, 5);
    const uint64_t rp[5] = {0, 1, 3, 4, 5};
    const uint32_t tg[5] = {1, 0, 2, 2, 0};
    const float wt[5] = {3.0f, 1.5f, 4.25f, 5.0f, -2.0f};
    for (int s = 0; s <= 4; s++)
        ck_assert_uint_eq(c.row_ptr[s], rp[s]);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(c.target[i], tg[i]);
        ck_assert_float_eq(c.weight[i], wt[i]);
    }
    norn_csr_free(&c);
    /* Same population without autapses: the diagonal is dropped. */
    const double sq[4] = {1.0, 2.0, 3.0, 4.0};
    sp = spec(2, 2, NORN_CONN_FROM_MATRIX);
    sp.same_population = 1;
    sp.conn.allow_autapses = 0;
    sp.weight = dist_of(NORN_DIST_ARRAY, 0, 0);
    sp.weight.array = sq;
    sp.weight.rows = sp.weight.cols = 2;
    build_ok(&sp, &c);
    ck_assert_uint_eq(c.nnz, 2);
    ck_assert_float_eq(c.weight[0], 3.0f); /* 0 -> 1 */
    ck_assert_float_eq(c.weight[1], 2.0f); /* 1 -> 0 */
    norn_csr_free(&c);
    /* Without an array. */
    norn_err err;
    sp = spec(2, 2, NORN_CONN_FROM_MATRIX);
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "from_matrix needs the weight as an array");
    /* A NaN entry is a synapse with a bad weight. */
    double bad[4] = {0, 1, NAN, 0};
    sp.weight = dist_of(NORN_DIST_ARRAY, 0, 0);
    sp.weight.array = bad;
    sp.weight.rows = sp.weight.cols = 2;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "weight nan of synapse 0 -> 1");
}
END_TEST

/* ---- errors and memory ------------------------------------------------------ */

START_TEST(impossible_degrees)
{
    norn_err err;
    norn_proj_spec sp = spec(200, 50, NORN_CONN_FIXED_INDEGREE);
    sp.conn.indegree = 300;
    sp.conn.allow_multapses = 0;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "indegree 300 > 200 possible sources without multapses");
    sp = spec(200, 200, NORN_CONN_FIXED_INDEGREE);
    sp.same_population = 1;
    sp.conn.allow_autapses = 0;
    sp.conn.allow_multapses = 0;
    sp.conn.indegree = 200;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "indegree 200 > 199 possible sources without multapses (autapses excluded)");
    sp = spec(10, 40, NORN_CONN_FIXED_OUTDEGREE);
    sp.conn.outdegree = 41;
    sp.conn.allow_multapses = 0;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "outdegree 41 > 40 possible targets without multapses");
    sp = spec(10, 40, NORN_CONN_FIXED_TOTAL_NUMBER);
    sp.conn.total = 401;
    sp.conn.allow_multapses = 0;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "total 401 > 400 possible pairs without multapses");
    sp = spec(1, 1, NORN_CONN_FIXED_INDEGREE);
    sp.same_population = 1;
    sp.conn.allow_autapses = 0;
    sp.conn.indegree = 1; /* with multapses, but no source at all */
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "indegree 1 > 0 possible sources");
    sp = spec(10, 11, NORN_CONN_ALL_TO_ALL);
    sp.same_population = 1;
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "same population");
    sp = spec(10, 10, (norn_conn_rule)42);
    ck_assert_int_eq(build_fail(&sp, &err), NORN_EINVAL);
    expect_msg(&err, "unknown connection rule 42");
}
END_TEST

/* Every allocation of a build fails once in turn: ENOMEM, *out untouched,
 * nothing leaked; then the build succeeds. */
static const struct {
    norn_conn_rule rule;
    int multapses;
    int random_values;
    uint32_t n_src; /* 0: 120; above 16384 the constant-value build partitions */
} mem_cases[] = {
    {NORN_CONN_FIXED_INDEGREE, 0, 1, 0},     {NORN_CONN_FIXED_INDEGREE, 1, 0, 0},
    {NORN_CONN_FIXED_OUTDEGREE, 0, 1, 0},    {NORN_CONN_FIXED_TOTAL_NUMBER, 0, 1, 0},
    {NORN_CONN_FIXED_TOTAL_NUMBER, 1, 0, 0}, {NORN_CONN_FIXED_PROBABILITY, 1, 1, 0},
    {NORN_CONN_FIXED_INDEGREE, 0, 0, 20000}, {NORN_CONN_FIXED_TOTAL_NUMBER, 0, 0, 20000},
};

START_TEST(enomem_every_allocation)
{
    norn_proj_spec sp = spec(mem_cases[_i].n_src ? mem_cases[_i].n_src : 120, 100, mem_cases[_i].rule);
    sp.conn.indegree = 20;
    sp.conn.outdegree = 20;
    sp.conn.total = 2000;
    sp.conn.p = 0.2;
    sp.conn.allow_multapses = mem_cases[_i].multapses;
    if (mem_cases[_i].random_values) {
        sp.weight = dist_of(NORN_DIST_NORMAL, 1.0, 0.2);
        sp.delay_ms = dist_of(NORN_DIST_UNIFORM, 0.1, 5.0);
    }
    size_t live = norn_mem_live();
    long k;
    int failures = 0;
    for (k = 0; k < 100; k++) {
        norn_csr c;
        memset(&c, 0x5a, sizeof c);
        norn_csr before = c;
        norn_err err;
        norn_err_clear(&err);
        norn_mem_fail_after(k);
        norn_status st = norn_csr_build(&sp, &c, &err);
        norn_mem_fail_after(-1);
        if (st == NORN_OK) {
            check_layout(&c);
            norn_csr_free(&c);
            ck_assert_uint_eq(norn_mem_live(), live);
            break;
        }
        failures++;
        ck_assert_int_eq(st, NORN_ENOMEM);
        ck_assert_str_eq(err.where, WHERE);
        ck_assert_msg(strstr(err.msg, "bytes") != NULL, "message '%s' lacks the size", err.msg);
        ck_assert_msg(memcmp(&c, &before, sizeof c) == 0, "*out touched at allocation %ld", k);
        ck_assert_msg(norn_mem_live() == live, "leak after failing allocation %ld", k);
    }
    ck_assert_int_lt(k, 100);
    ck_assert_int_ge(failures, 5); /* buffer, row_ptr, target, weight, segments... */
}
END_TEST

START_TEST(enomem_message)
{
    norn_err err;
    /* The third allocation (after the partner buffer and row_ptr) is the
     * target array. */
    norn_proj_spec sp = spec(100, 100, NORN_CONN_FIXED_INDEGREE);
    sp.conn.indegree = 30;
    norn_csr c;
    norn_err_clear(&err);
    norn_mem_fail_after(2);
    norn_status st = norn_csr_build(&sp, &c, &err);
    norn_mem_fail_after(-1);
    ck_assert_int_eq(st, NORN_ENOMEM);
    expect_msg(&err, "3000 synapses need 24000 bytes");
    /* A table that cannot exist. */
    sp.conn.indegree = 10000000000000000ULL; /* 1e16 x 100 targets */
    ck_assert_int_eq(build_fail(&sp, &err), NORN_ENOMEM);
    expect_msg(&err, "1000000000000000000 synapses need 8000000000000000000 bytes");
}
END_TEST

START_TEST(free_null_safe)
{
    norn_csr_free(NULL);
    norn_csr c;
    memset(&c, 0, sizeof c);
    norn_csr_free(&c);
    ck_assert_uint_eq(norn_csr_bytes(&c), 0);
    norn_proj_spec sp = spec(10, 10, NORN_CONN_ALL_TO_ALL);
    size_t live = norn_mem_live();
    build_ok(&sp, &c);
    ck_assert_uint_gt(norn_mem_live(), live);
    norn_csr_free(&c);
    ck_assert_uint_eq(norn_mem_live(), live);
    ck_assert_ptr_null(c.row_ptr);
    ck_assert_uint_eq(c.nnz, 0);
}
END_TEST

static Suite *connectivity_suite(void)
{
    Suite *s = suite_create("connectivity");
    TCase *tc = tcase_create("rules");
    tcase_add_loop_test(tc, fixed_indegree_exact, 0, N_DEG_CASES);
    tcase_add_loop_test(tc, fixed_outdegree_exact, 0, N_DEG_CASES);
    tcase_add_test(tc, fixed_indegree_uniform_sources);
    tcase_add_test(tc, fixed_total_number_count);
    tcase_add_test(tc, fixed_total_number_spread);
    tcase_add_test(tc, uniform_weight_table);
    tcase_add_test(tc, prob_bits_matches_general);
    tcase_add_loop_test(tc, quick_path_matches_general, 0,
                        (int)(sizeof quick_cases / sizeof quick_cases[0]));
    tcase_add_loop_test(tc, fixed_probability_count, 0,
                        (int)(sizeof prob_p / sizeof prob_p[0]));
    tcase_add_test(tc, fixed_probability_edges);
    tcase_add_test(tc, all_to_all_structure);
    tcase_add_test(tc, one_to_one_structure);
    tcase_add_test(tc, empty_populations);
    tcase_add_test(tc, impossible_degrees);
    suite_add_tcase(s, tc);

    tc = tcase_create("order_and_delays");
    tcase_add_loop_test(tc, rows_sorted_segments, 0,
                        (int)(sizeof order_cases / sizeof order_cases[0]));
    tcase_add_test(tc, delays_rounded);
    tcase_add_test(tc, delay_below_resolution);
    suite_add_tcase(s, tc);

    tc = tcase_create("determinism");
    tcase_add_loop_test(tc, deterministic, 0, (int)(sizeof det_rules / sizeof det_rules[0]));
    tcase_add_test(tc, owner_keyed_streams);
    tcase_add_loop_test(tc, tables_unchanged, 0, (int)(sizeof fixtures / sizeof fixtures[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("weights");
    tcase_add_test(tc, weights_normal_clipped);
    tcase_add_test(tc, dist_draws);
    tcase_add_test(tc, dist_is_const);
    tcase_add_test(tc, weights_bad);
    tcase_add_test(tc, weights_from_array);
    tcase_add_test(tc, from_matrix);
    suite_add_tcase(s, tc);

    tc = tcase_create("memory");
    tcase_add_loop_test(tc, enomem_every_allocation, 0,
                        (int)(sizeof mem_cases / sizeof mem_cases[0]));
    tcase_add_test(tc, enomem_message);
    tcase_add_test(tc, free_null_safe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(connectivity_suite()); }
