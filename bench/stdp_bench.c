/* bench/stdp_bench.c - the plastic delivery alone, against a static one over
 * the same rows: what brunel_stdp's E->E table costs without the network
 * around it, so that a change to the STDP kernel can be measured on a
 * shared machine without the network's own variability (the same spikes
 * every run, whatever the kernel computes).
 *
 * The table is brunel_stdp's `ee`: 10,000 neurons, 1,000 distinct targets
 * per row drawn at random and sorted, one delay of 1.5 ms (grid of 0.1 ms),
 * weights 0.1 in [0, Wmax = 0.3], additive stdp_synapse (tau 20 ms both,
 * lambda 0.01 / 3, alpha 1.05), 16-bit targets as the engine keeps them.
 * Every neuron spikes at --rate Hz (32.2 by default, brunel_stdp's
 * excitatory rate) with intervals as regular as brunel's (Erlang, CV 0.41),
 * on the 0.1 ms grid, drawn once before timing; a spike is both
 * presynaptic (logged, delivered 1.5 ms later through its row) and
 * postsynaptic (its history), handled once per 1.5 ms window in time order
 * as engine/sim.c's flush_window does, with norn_stdp_settle at each
 * window's start. The deliveries go to a sums-only sink (a lean target
 * population's), cleared every step.
 *
 * Each run times, with CLOCK_PROCESS_CPUTIME_ID:
 *   plastic  every call of the rule (norn_stdp_update, _pre_spike,
 *            _post_spike, _settle) over the whole schedule;
 *   static   the same deliveries as sum_synapses_dense makes them for a
 *            static table of one weight: acc[target] += w over each row;
 * alternating (static, plastic, static, ...) and prints medians: ns per
 * synaptic delivery of each, their ratio, and the share of the update
 * (norn_stdp_update) in the plastic time.
 *
 *   build/bench/stdp_bench [--steps N] [--runs R] [--rate HZ] [--no-simd]
 *   (defaults: 10,000 steps = 1 s simulated, 5 runs, 32.2 Hz, AVX-512 where
 *   the CPU has it)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/machine.h"
#include "connectivity/csr.h"
#include "engine/mem.h"
#include "engine/stdp.h"

enum { N = 10000, K = 1000, DELAY = 15 };
static const double H = 0.1;

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t mix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what)
{
    fprintf(stderr, "stdp_bench: %s\n", what);
    exit(1);
}

/* brunel_stdp's ee table: row s holds K distinct targets, sorted. */
static void make_table(norn_csr *c, uint16_t **t16)
{
    memset(c, 0, sizeof *c);
    c->n_src = c->n_tgt = N;
    c->nnz = (uint64_t)N * K;
    c->nseg = N;
    c->row_ptr = norn_malloc_n(N + 1, sizeof(uint64_t));
    c->seg_ptr = norn_malloc_n(N + 1, sizeof(uint64_t));
    c->seg_start = norn_malloc_n(N, sizeof(uint64_t));
    c->seg_delay = norn_malloc_n(N, sizeof(uint32_t));
    c->target = norn_malloc_n(c->nnz, sizeof(uint32_t));
    c->weight = norn_malloc_n(c->nnz, sizeof(float));
    *t16 = norn_malloc_n(c->nnz, sizeof(uint16_t));
    uint8_t *seen = calloc(N, 1);
    if (!c->row_ptr || !c->seg_ptr || !c->seg_start || !c->seg_delay || !c->target || !c->weight || !*t16 || !seen)
        die("out of memory");
    uint64_t rng = 12345;
    for (uint32_t s = 0; s <= N; s++) {
        c->row_ptr[s] = (uint64_t)s * K;
        c->seg_ptr[s] = s;
    }
    for (uint32_t s = 0; s < N; s++) {
        c->seg_start[s] = (uint64_t)s * K;
        c->seg_delay[s] = DELAY;
        uint32_t *row = &c->target[(uint64_t)s * K];
        for (uint32_t k = 0; k < K;) {
            uint32_t j = (uint32_t)(mix(&rng) % N);
            if (!seen[j]) {
                seen[j] = 1;
                row[k++] = j;
            }
        }
        for (uint32_t k = 0; k < K; k++)
            seen[row[k]] = 0;
        qsort(row, K, sizeof *row, cmp_u32);
    }
    for (uint64_t k = 0; k < c->nnz; k++) {
        c->weight[k] = 0.1f;
        (*t16)[k] = (uint16_t)c->target[k];
    }
    c->min_delay = c->max_delay = DELAY;
    free(seen);
}

int main(int argc, char **argv)
{
    int steps = 10000, runs = 5, simd = 1;
    double rate = 32.2;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--steps") && a + 1 < argc)
            steps = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--runs") && a + 1 < argc)
            runs = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--rate") && a + 1 < argc)
            rate = atof(argv[++a]);
        else if (!strcmp(argv[a], "--no-simd"))
            simd = 0;
        else {
            fprintf(stderr, "usage: stdp_bench [--steps N] [--runs R] [--rate HZ] [--no-simd]\n");
            return 2;
        }
    }
    if (steps < DELAY || runs < 1 || !(rate > 0 && rate * H * 1e-3 * N < N))
        die("--steps must be >= 15, --runs >= 1, --rate in (0, 10^4 / 0.1 ms)");
    bench_print_machine();
    uint32_t *spk = NULL, *sptr = NULL; /* the spikes of step t: spk[sptr[t] .. sptr[t + 1] - 1] */

    /* the spikes, drawn once: each neuron's inter-spike intervals are
     * Erlang with shape 6 (CV 0.41, as brunel's 0.42; a Poisson train's
     * long intervals would put several times more pairings than brunel's
     * on the history walk), mean 1 / rate, from a random phase; binned
     * per step, each step's in neuron order as flush_window takes them */
    const double isi = 1e3 / rate; /* ms */
    uint32_t *cnt = calloc((size_t)steps + 1, sizeof *cnt);
    if (!cnt)
        die("out of memory");
    uint64_t rng = 777;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t r0 = rng;
        for (uint32_t i = 0; i < N; i++) {
            double t = isi * (double)(mix(&r0) >> 11) * 0x1p-53;
            for (;;) {
                int k = (int)(t / H + 0.5);
                if (k >= steps)
                    break;
                if (pass == 0)
                    cnt[k + 1]++;
                else
                    spk[cnt[k]++] = i;
                double x = 0.0;
                for (int e = 0; e < 6; e++)
                    x -= log(((double)(mix(&r0) >> 11) + 0.5) * 0x1p-53);
                t += x * isi / 6.0;
            }
        }
        if (pass == 0) {
            for (int k = 0; k < steps; k++)
                cnt[k + 1] += cnt[k];
            spk = malloc((size_t)cnt[steps] * sizeof *spk);
            sptr = malloc(((size_t)steps + 1) * sizeof *sptr);
            if (!spk || !sptr)
                die("out of memory");
            memcpy(sptr, cnt, ((size_t)steps + 1) * sizeof *sptr);
        }
    }
    free(cnt);
    const uint64_t n_spk = sptr[steps];

    double *acc = calloc(N, sizeof *acc);
    uint8_t *mark = calloc(N, 1);
    uint64_t *seq = malloc(n_spk * sizeof *seq);
    double *tp = malloc((size_t)runs * sizeof *tp), *ts = malloc((size_t)runs * sizeof *ts);
    double *tu = malloc((size_t)runs * sizeof *tu);
    if (!acc || !mark || !seq || !tp || !ts || !tu)
        die("out of memory");
    const norn_stdp_spec spec = {.rule = NORN_STDP_PAIR, .tau_plus = 20, .tau_minus = 20, .lambda = 0.01 / 3,
                                 .alpha = 1.05, .mu_plus = 0, .mu_minus = 0, .Wmax = 0.3};
    uint64_t deliveries = 0;
    double check = 0.0;
    int x8 = 0;
    for (int r = 0; r < runs; r++) {
        /* static: the same rows, one weight, sums only */
        norn_csr c;
        uint16_t *t16;
        make_table(&c, &t16);
        double t0 = cpu_s();
        for (int t = DELAY; t < steps; t++) {
            for (uint32_t q = sptr[t - DELAY]; q < sptr[t - DELAY + 1]; q++) {
                const uint64_t lo = c.row_ptr[spk[q]], hi = c.row_ptr[spk[q] + 1];
                for (uint64_t k = lo; k < hi; k++)
                    acc[t16[k]] += 0.1;
            }
            check += acc[t % N];
            memset(acc, 0, N * sizeof *acc);
        }
        ts[r] = cpu_s() - t0;

        /* plastic: the rule over the same schedule */
        norn_stdp *st;
        norn_err err;
        norn_err_clear(&err);
        if (norn_stdp_create(&spec, &c, &st, &err) != NORN_OK)
            die(err.msg);
        x8 = norn_stdp_set_simd(st, simd);
        norn_stdp_sink sink = {acc, mark, NULL, 0, 1};
        double upd = 0.0;
        t0 = cpu_s();
        for (int w0 = 0; w0 < steps; w0 += DELAY) {
            if (!norn_stdp_settle(st, &c, t16, H, w0 * H, 0))
                die("settle: out of memory");
            int w1 = w0 + DELAY < steps ? w0 + DELAY : steps;
            double u0 = cpu_s();
            for (int t = w0; t < w1; t++) {
                if (t >= DELAY) {
                    for (uint32_t q = sptr[t - DELAY]; q < sptr[t - DELAY + 1]; q++)
                        norn_stdp_update(st, &c, t16, seq[q], c.row_ptr[spk[q]], c.row_ptr[spk[q] + 1],
                                         DELAY * H, &sink);
                    if (r == 0)
                        deliveries += (uint64_t)(sptr[t - DELAY + 1] - sptr[t - DELAY]) * K;
                }
                check += acc[t % N];
                memset(acc, 0, N * sizeof *acc);
            }
            upd += cpu_s() - u0;
            /* the window's spikes, in time order: each neuron's history,
             * then its spike logged for its deliveries */
            for (int t = w0; t < w1; t++)
                for (uint32_t q = sptr[t]; q < sptr[t + 1]; q++) {
                    if (!norn_stdp_post_spike(st, spk[q], t * H))
                        die("post spike: out of memory");
                    if ((seq[q] = norn_stdp_pre_spike(st, spk[q], t * H)) == UINT64_MAX)
                        die("pre spike: out of memory");
                }
        }
        if (!norn_stdp_settle(st, &c, t16, H, steps * H, 1))
            die("settle: out of memory");
        tp[r] = cpu_s() - t0;
        tu[r] = upd;
        check += norn_stdp_weights(st)[r];
        norn_stdp_free(st);
        norn_free(t16);
        norn_csr_free(&c);
    }
    qsort(tp, runs, sizeof *tp, cmp_d);
    qsort(ts, runs, sizeof *ts, cmp_d);
    qsort(tu, runs, sizeof *tu, cmp_d);
    double p = tp[runs / 2], s = ts[runs / 2], u = tu[runs / 2];
    double sd = (double)deliveries;
    printf("stdp_bench: %d steps of 0.1 ms, %llu spikes (%.1f Hz, ISI CV 0.41) x %d synapses, %d runs, kernel %s\n",
           steps, (unsigned long long)n_spk, 1e4 * (double)n_spk / ((double)steps * N), K, runs,
           x8 ? "AVX-512 (eight synapses at a time)" : "SSE2 / scalar");
    printf("  deliveries per run  %.4g\n", sd);
    printf("  static   %7.3f s   %5.2f ns per delivery   (runs %.3f .. %.3f)\n", s, 1e9 * s / sd, ts[0],
           ts[runs - 1]);
    printf("  plastic  %7.3f s   %5.2f ns per delivery   (runs %.3f .. %.3f); the update %.3f s (%.0f%%), "
           "spikes and settle the rest\n",
           p, 1e9 * p / sd, tp[0], tp[runs - 1], u, 100.0 * u / p);
    printf("  plastic / static per delivery: %.2fx   (checksum %.6g)\n", p / s, check);
    free(spk);
    free(acc);
    free(mark);
    free(seq);
    free(tp);
    free(ts);
    free(tu);
    return 0;
}
