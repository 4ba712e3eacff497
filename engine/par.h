/* engine/par.h - one simulation over several MPI ranks (DESIGN.md, "Scale
 * out"): `mpirun -np K norn run DESCRIPTION`.
 *
 * Partition: every population is cut into K contiguous blocks; rank r owns
 * the local indices [floor(n r / K), floor(n (r + 1) / K)) (norn_par_block):
 * their state updates, Poisson streams, stimuli and recorded samples. A
 * rank holds only the synapses whose target it owns (norn_proj_spec's
 * tgt_lo, tgt_hi), drawn from the streams one process draws them from
 * (keyed by global ids, never by rank). Neuron state arrays keep their
 * full size on every rank (indices stay global); only the owned part is
 * ever touched.
 *
 * Exchange: at the end of every window (length d_min, one step in euler
 * mode) every rank gathers every rank's spikes of the window (12 bytes a
 * spike: time and global id; euler: 4 bytes, the id): the counts
 * (MPI_Allgather), then the spikes (MPI_Allgatherv), concatenated in rank
 * order. The engine then sorts them by (time, global id) exactly as one
 * process does and queues the deliveries of its own synapses, so every
 * target sees its inputs in the single-process order and the
 * floating-point sums are the same bit for bit. Presynaptic plasticity
 * state (Tsodyks-Markram, STDP traces and the spike log) is computed by
 * every rank from the global spike list; postsynaptic histories belong to
 * the owner of the target.
 *
 * Process state: MPI is per process, so this module keeps the rank and the
 * rank count (set once by norn_par_init, read-only afterwards) - the one
 * process-wide state of the engine. Without NORN_HAVE_MPI (a build without
 * MPI) every function is the one-process case and costs nothing.
 */
#ifndef NORN_PAR_H
#define NORN_PAR_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

/* Starts MPI when the process was started by a launcher (mpirun, srun:
 * OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE set); otherwise, or in a
 * build without MPI, does nothing and the process runs alone. Returns the
 * number of ranks (1 when alone). Call once, before anything else. */
int norn_par_init(int *argc, char ***argv);
/* Ends MPI if norn_par_init started it. */
void norn_par_finalize(void);
/* This process's rank and the number of ranks (0 and 1 when alone). */
uint32_t norn_par_rank(void);
uint32_t norn_par_size(void);
/* Ends every rank at once with exit status code (MPI_Abort); alone, exit. */
void norn_par_abort(int code);

/* Collective: every rank passes its status; returns the status of the
 * lowest failing rank (NORN_OK if none failed), and on every rank err
 * holds that rank's error, so one rank can report it and all exit alike. */
norn_status norn_par_agree(norn_status st, norn_err *err);

/* The block of n items that rank `rank` of `ranks` owns: [*lo, *hi). */
static inline void norn_par_block(uint32_t n, uint32_t rank, uint32_t ranks, uint32_t *lo, uint32_t *hi)
{
    if (ranks <= 1) {
        *lo = 0;
        *hi = n;
        return;
    }
    *lo = (uint32_t)((uint64_t)n * rank / ranks);
    *hi = (uint32_t)((uint64_t)n * (rank + 1) / ranks);
}

/* The rank owning item i of n (the inverse of norn_par_block). */
static inline uint32_t norn_par_owner(uint32_t n, uint32_t ranks, uint32_t i)
{
    if (ranks <= 1)
        return 0;
    uint32_t r = (uint32_t)(((uint64_t)(i + 1) * ranks + n - 1) / n) - 1;
    while (r > 0 && (uint64_t)n * r / ranks > i)
        r--;
    while (r + 1 < ranks && (uint64_t)n * (r + 1) / ranks <= i)
        r++;
    return r;
}

/* Exchange state of one simulation: a receive buffer reused from window to
 * window, and what the exchanges cost. */
typedef struct {
    void *buf;        /* the gathered items */
    uint64_t cap;     /* bytes of buf */
    int *counts, *displs; /* [ranks] */
    uint64_t bytes;   /* bytes received by this rank (items and counts) */
    uint64_t rounds;  /* exchanges (each: counts, then items) */
    double seconds;   /* wall time inside them */
    double cpu_seconds; /* CPU time inside them (MPI polls while it waits) */
} norn_par_x;

void norn__par_x_free(norn_par_x *x);

/* Collective: gathers n items of elem bytes from every rank, in rank order,
 * into x->buf (*out, *n_out items in all). fail != 0 says this rank has
 * failed: then every rank returns NORN_EINVAL, the others with "rank r
 * failed" in err (the failing rank's err is left as it is), so none waits
 * forever. */
norn_status norn__par_allgather(norn_par_x *x, const void *items, uint64_t n, size_t elem, int fail,
                                const void **out, uint64_t *n_out, norn_err *err);

/* Collective reductions in place over n values. */
void norn__par_sum_u64(uint64_t *v, uint32_t n);
void norn__par_max_u64(uint64_t *v, uint32_t n);
void norn__par_min_u32(uint32_t *v, uint32_t n);

/* Collective: rank 0 receives every rank's `bytes` bytes; there *out (from
 * engine/mem.h, the caller frees) holds them concatenated in rank order,
 * rank r's at off[r] .. off[r + 1] (off has ranks + 1 entries). Other
 * ranks get *out = NULL. NORN_ENOMEM on rank 0 is agreed by every rank. */
norn_status norn__par_gather_root(const void *data, uint64_t bytes, void **out, uint64_t *off, norn_err *err);

#endif
