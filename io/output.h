/* io/output.h - writes a finished run into a directory, as DESIGN.md's
 * output contract says:
 *   spikes.npy     structured (time_ms <f8, neuron <u4 global id), by time
 *   spikes.csv     time_ms,population,neuron (index inside the population)
 *   state_<population>_<variable>.npy  float32 [samples, recorded neurons]
 *   state_times.npy                    float64 [samples] (first recorder;
 *                  a recorder with other sample times also writes
 *                  state_<population>_times.npy)
 *   run.json       populations with id ranges and parameters as used,
 *                  seed, duration, counts, rates, timings, memory, version
 * Every file is written to a temporary name and renamed (io/atomic.h);
 * run.json is written last, so its presence means the run is complete, or,
 * for a run stopped early (info->interrupted), that the files hold
 * everything up to run.json's time_reached_ms ("interrupted": true).
 * The directory is created if needed (with parents).
 */
#ifndef NORN_OUTPUT_H
#define NORN_OUTPUT_H

#include <stddef.h>

#include "engine/sim.h"
#include "io/build.h"
#include "io/desc.h"

typedef struct {
    double build_s, connect_s;   /* wall */
    double sim_wall_s, sim_cpu_s;
    double wall_s, cpu_s;        /* whole process so far */
    size_t peak_rss;             /* bytes */
    size_t peak_heap;            /* bytes through engine/mem.h */
    const char *command;         /* command line, for the record */
    int interrupted;             /* stopped early: run.json says so, with the time reached */
    const char *checkpoint;      /* the checkpoint to resume from, or NULL */
    const char *resumed_from;    /* this run resumed that checkpoint, or NULL */
    /* MPI (engine/par.h), written only with ranks > 1: the spike exchange
     * of rank 0 (bytes received, exchanges, wall s) and every rank's
     * peak RSS */
    int ranks;
    uint64_t exchange_bytes, exchanges;
    double exchange_s;
    size_t max_peak_rss;
    const uint64_t *rank_peak_rss; /* [4 ranks]: peak RSS bytes, loop CPU us, exchange
                                      wall us, exchange CPU us of every rank */
} norn_run_info;

norn_status norn_output_write(const char *dir, const norn_desc *d, const norn_sim *s,
                              const norn_run_info *info, norn_err *err);

/* mkdir -p */
norn_status norn_output_mkdir(const char *dir, norn_err *err);

#endif
