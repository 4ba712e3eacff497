/* bench/csr_bench.c - the connectivity build alone: the four tables of
 * brunel (examples/brunel.yaml: N = 12,500) or of bench/scale's brunel_<N>
 * (NE = 0.8 N, NI = 0.2 N, in-degrees 1,000 and 250 without multapses,
 * constant weight and delay, seed 12345), built by norn_csr_build as
 * io/build.c builds them. Prints per run the process CPU time and the wall
 * time of the four calls (CLOCK_PROCESS_CPUTIME_ID, CLOCK_MONOTONIC, page
 * faults included), synapses per second of each, and an FNV-1a hash of the
 * tables (the same for a seed whatever the code's speed).
 *
 *   build/bench/csr_bench [N [runs]]       (default 12500 3)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectivity/csr.h"

static double now_s(clockid_t clk)
{
    struct timespec t;
    clock_gettime(clk, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t fnv(uint64_t h, const void *p, uint64_t n)
{
    const unsigned char *b = p;
    for (uint64_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t table_hash(const norn_csr *c)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, c->row_ptr, (c->n_src + 1ULL) * 8);
    h = fnv(h, c->target, c->nnz * 4);
    h = fnv(h, c->weight, c->nnz * 4);
    h = fnv(h, c->seg_ptr, (c->n_src + 1ULL) * 8);
    h = fnv(h, c->seg_delay, c->nseg * 4);
    return fnv(h, c->seg_start, c->nseg * 8);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 12500;
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    if (n < 5 || n > 4000000000L || runs < 1) {
        fprintf(stderr, "usage: csr_bench [N >= 5 [runs >= 1]]\n");
        return 2;
    }
    uint32_t ne = (uint32_t)(0.8 * (double)n + 0.5), size[2] = {ne, (uint32_t)n - ne};
    const uint64_t indegree[2] = {1000, 250};
    const double weight[2] = {0.1, -0.5};
    for (int r = 0; r < runs; r++) {
        double cpu = 0, wall = 0;
        uint64_t nnz = 0, h = 0;
        uint32_t pair = 0;
        for (int from = 0; from < 2; from++)
            for (int to = 0; to < 2; to++) {
                norn_proj_spec sp;
                memset(&sp, 0, sizeof sp);
                sp.n_src = size[from];
                sp.n_tgt = size[to];
                sp.same_population = from == to;
                sp.proj_index = pair++;
                sp.seed = 12345;
                sp.conn.rule = NORN_CONN_FIXED_INDEGREE;
                sp.conn.indegree = indegree[from];
                sp.conn.allow_autapses = 1;
                sp.weight = norn_dist_const(weight[from]);
                sp.delay_ms = norn_dist_const(1.5);
                sp.resolution_ms = 0.1;
                sp.where = "csr_bench";
                norn_csr c;
                norn_err err;
                double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), w0 = now_s(CLOCK_MONOTONIC);
                if (norn_csr_build(&sp, &c, &err) != NORN_OK) {
                    fprintf(stderr, "%s: %s\n", err.where, err.msg);
                    return 1;
                }
                cpu += now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
                wall += now_s(CLOCK_MONOTONIC) - w0;
                nnz += c.nnz;
                h = h * 31 + table_hash(&c);
                norn_csr_free(&c);
            }
        printf("N %ld: %llu synapses, CPU %.3f s (%.3g /s), wall %.3f s (%.3g /s), hash %016llx\n", n,
               (unsigned long long)nnz, cpu, (double)nnz / cpu, wall, (double)nnz / wall, (unsigned long long)h);
    }
    return 0;
}
