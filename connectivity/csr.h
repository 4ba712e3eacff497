/* connectivity/csr.h - static synapse tables and the connection rules that
 * build them.
 *
 * A norn_csr holds the synapses from one source population to one target
 * population. Row s (source index, local to the source population) holds
 * its synapses sorted by (delay, target); the row is cut into segments of
 * equal delay, so that one spike costs one queue entry per segment, never
 * one per synapse. A static synapse costs 8 bytes (uint32 target + float32
 * weight); delays live per segment.
 *
 *   row_ptr[n_src+1]   synapses of row s: row_ptr[s] .. row_ptr[s+1]-1
 *   target[nnz]        target index, local to the target population
 *   weight[nnz]        float32, in the target model's input unit (mV or pA)
 *   seg_ptr[n_src+1]   segments of row s: seg_ptr[s] .. seg_ptr[s+1]-1
 *   seg_delay[nseg]    delay in resolution steps (>= 1), ascending in a row
 *   seg_start[nseg]    first synapse of the segment; it ends at the next
 *                      segment's start, or row_ptr[s+1] for the last one
 *
 * Building is deterministic: random choices use streams keyed by (seed,
 * purpose, projection index, neuron), so the table does not depend on
 * thread count or call order. All arrays come from engine/mem.h.
 */
#ifndef NORN_CSR_H
#define NORN_CSR_H

#include <stdint.h>

#include "connectivity/dist.h"
#include "engine/err.h"

typedef struct {
    uint32_t n_src, n_tgt;
    uint64_t nnz;
    uint64_t nseg;
    uint64_t *row_ptr;
    uint32_t *target;
    float *weight;
    uint64_t *seg_ptr;
    uint32_t *seg_delay;
    uint64_t *seg_start;
    uint32_t min_delay, max_delay; /* steps; 0 if nnz == 0 */
    int w_uniform;                 /* weight NULL: every synapse's weight is w_const (spec.uniform_ok) */
    float w_const;
} norn_csr;

typedef enum {
    NORN_CONN_ALL_TO_ALL = 0,
    NORN_CONN_ONE_TO_ONE,
    NORN_CONN_FIXED_PROBABILITY, /* p: each ordered pair independently */
    NORN_CONN_FIXED_INDEGREE,    /* indegree sources per target */
    NORN_CONN_FIXED_OUTDEGREE,   /* outdegree targets per source */
    NORN_CONN_FIXED_TOTAL_NUMBER,/* total synapses, pairs uniform at random */
    NORN_CONN_FROM_MATRIX,       /* synapses where the weight array != 0 */
    NORN_CONN_FROM_LIST          /* an explicit synapse list (list_* below) */
} norn_conn_rule;

typedef struct {
    norn_conn_rule rule;
    double p;
    uint64_t indegree, outdegree, total;
    int allow_autapses;  /* default 1; only meaningful if same_population */
    int allow_multapses; /* default 1 */
} norn_conn_spec;

typedef struct {
    uint32_t n_src, n_tgt;
    int same_population;     /* source and target are the same population */
    uint32_t proj_index;     /* index of this (projection, target) pair in
                                the description, for RNG keys */
    uint64_t seed;
    norn_conn_spec conn;
    norn_dist weight;        /* ARRAY: [n_tgt][n_src] */
    norn_dist delay_ms;      /* ARRAY: [n_tgt][n_src]; each value is rounded
                                to the nearest multiple of resolution_ms and
                                must be >= one step (a value below
                                resolution_ms is an error, not rounded up) */
    double resolution_ms;
    const char *where;       /* "file:line:col" of the projection, for errors */
    /* NORN_CONN_FROM_LIST: list_n synapses, borrowed. list_pre[k] < n_src,
     * list_post[k] < n_tgt (local to this target population); weight from
     * list_weight (weight above is unused); delay from list_delay_ms (ms,
     * rounded to the resolution as above) or, when NULL, from delay_ms
     * (which must then be a constant). Every synapse listed is kept, zero
     * weights and repeated pairs included (multapses), in list order within
     * a (source, delay, target) tie. */
    uint64_t list_n;
    const uint32_t *list_pre, *list_post;
    const double *list_weight, *list_delay_ms;
    /* MPI (engine/par.h): with tgt_part set, keep only the synapses whose
     * target lies in [tgt_lo, tgt_hi) (maybe empty). The table keeps its shape (n_src rows,
     * targets indexed in the whole population) and holds exactly the
     * synapses the whole table has there, in the same order: owners draw
     * from their own streams, so the other targets need not be drawn
     * (fixed_outdegree draws every source's row and keeps its part). */
    int tgt_part;
    uint32_t tgt_lo, tgt_hi;
    /* The caller takes a table whose weights are all one constant without
     * its weight array (weight NULL, w_uniform set, the value in w_const),
     * where the build knows it without looking (constant weight, the
     * one-draw path of fixed_indegree and fixed_total_number): 4 bytes per
     * synapse neither written nor read back. 0: weight[] always. */
    int uniform_ok;
} norn_proj_spec;

/* Builds the table. On failure *out is untouched and err says what and
 * where ("indegree 300 > 200 sources without multapses", "delay 0.05 ms
 * below the resolution 0.1 ms", ENOMEM for sizes that do not fit).
 * from_matrix drops the diagonal when autapses are excluded; one_to_one
 * within one population without autapses is an error. Peak memory is the
 * table plus up to 4 bytes per synapse (for delays that are not constant,
 * to sort a large fixed-count table's synapses by source, or for the bit
 * matrix of fixed_indegree, fixed_total_number and fixed_probability
 * tables with constant values, which is used only where it is smaller). */
norn_status norn_csr_build(const norn_proj_spec *spec, norn_csr *out, norn_err *err);

/* Frees the arrays; the struct is zeroed. NULL-safe. */
void norn_csr_free(norn_csr *c);

/* Bytes held by the table (all arrays). */
uint64_t norn_csr_bytes(const norn_csr *c);

#endif
