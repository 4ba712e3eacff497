/* tools/stats.h - spike train statistics of a finished run (norn stats),
 * and the run-directory reader that norn stats and norn export share.
 *
 * Definitions (window W = (from, to] in ms, T = to - from; a spike at time
 * t belongs to the window when from < t <= to, as a run covers
 * (0, duration]):
 *  - rate: spikes in W / (neurons * T), Hz, over all neurons of the
 *    population (silent ones included).
 *  - CV of the inter-spike intervals: for each neuron with >= 3 spikes in
 *    W (>= 2 intervals), sd / mean of its intervals, sd with the n - 1
 *    denominator; the mean over those neurons, and their number.
 *  - Fano factor: spike counts in B = floor(T / bin) full bins of width
 *    bin (default 100 ms; bin k is (from + k bin, from + (k+1) bin], a
 *    trailing partial bin is left out). Per neuron: var / mean of its B
 *    counts (var with the B - 1 denominator); "fano" is the mean over the
 *    neurons with at least one spike in the bins, "fano_neurons" their
 *    number. "fano_pop" is var / mean of the population's summed count
 *    per bin (it grows with synchrony). Needs B >= 2.
 *  - correlation: spike counts in bins of the correlation bin (default
 *    5 ms), as above. Candidates are the neurons whose binned counts vary
 *    (non-zero variance: a silent neuron has no correlation); K of them
 *    (default 100; all if fewer) are drawn without replacement from the
 *    counter-based stream (seed, purpose STATS_SAMPLE, population index),
 *    so the sample depends only on the seed, the population and the data.
 *    "corr" is the mean Pearson correlation coefficient over the K(K-1)/2
 *    pairs, each computed exactly from integer sums over all B bins.
 * A time within 1e-9 bins of a bin edge belongs to the bin that ends
 * there (grid-mode spikes are stamped at the end of their step).
 * Undefined figures (too few neurons, spikes or bins) are NaN in C, null
 * in JSON and "-" in the table.
 *
 * Cost: one pass over the spikes per population, O(spikes + neurons +
 * bins) memory, plus K(K-1)/2 merges of two neurons' bin lists.
 * Spikes need not be sorted (a neuron's times are sorted when they are
 * not). Single-threaded, no global state; memory from engine/mem.h.
 */
#ifndef NORN_STATS_H
#define NORN_STATS_H

#include <stdint.h>

#include "engine/err.h"

typedef struct {
    double t_from_ms, t_to_ms; /* window (from, to], to > from */
    double fano_bin_ms;        /* > 0; default NORN_STATS_FANO_BIN_MS */
    double corr_bin_ms;        /* > 0; default NORN_STATS_CORR_BIN_MS */
    uint32_t sample;           /* K >= 2; default NORN_STATS_SAMPLE */
    uint64_t seed;             /* default 1 */
} norn_stats_opts;

#define NORN_STATS_FANO_BIN_MS 100.0
#define NORN_STATS_CORR_BIN_MS 5.0
#define NORN_STATS_SAMPLE 100u

typedef struct {
    uint32_t neurons;
    uint64_t spikes; /* in the window */
    double rate_hz;
    double cv_isi; /* NaN when no neuron has >= 3 spikes */
    uint32_t cv_neurons;
    double fano;     /* NaN when no neuron spikes in the bins, or < 2 bins */
    double fano_pop; /* NaN when the population is silent, or < 2 bins */
    uint32_t fano_neurons;
    uint64_t fano_bins;
    double corr; /* NaN when < 2 candidates, or < 2 bins */
    uint32_t corr_neurons;
    uint64_t corr_pairs, corr_bins;
} norn_stats_pop;

/* Statistics of one population: neurons first_id .. first_id + size - 1
 * (size >= 1) among the n spikes (time_ms[k], gid[k]) (borrowed; spikes
 * of other neurons are skipped); pop_index keys the sample's random
 * stream. Returns NORN_OK; NORN_EINVAL for bad options (where = the
 * option, e.g. "--bin"); NORN_ENOMEM. */
norn_status norn_stats_population(const double *time_ms, const uint32_t *gid, uint64_t n, uint32_t first_id,
                                  uint32_t size, uint32_t pop_index, const norn_stats_opts *opts, norn_stats_pop *out,
                                  norn_err *err);

/* The `norn stats` subcommand; argv[0] is "stats":
 *   norn stats DIR [--json] [--population P]... [--from MS] [--to MS]
 *                  [--sample K] [--bin MS] [--fano-bin MS] [--corr-bin MS]
 *                  [--seed N]
 * --bin sets both bins. Reads DIR/run.json and DIR/spikes.npy; the default
 * populations are those whose spikes were recorded, the default window
 * (0, duration]. Prints a table, or with --json one JSON object
 * {"dir", "name", "from_ms", "to_ms", "fano_bin_ms", "corr_bin_ms",
 * "sample", "seed", "populations": [{"name", "neurons", "spikes",
 * "rate_hz", "cv_isi", "cv_neurons", "fano", "fano_neurons", "fano_pop",
 * "fano_bins", "corr", "corr_neurons", "corr_pairs", "corr_bins"}]}.
 * Returns the exit code: 0 ok; 2 bad input (command line, DIR, run.json,
 * spikes.npy, unknown or unrecorded population) with one line
 * "norn: where: what" on stderr and nothing on stdout; 1 out of memory. */
int norn_cli_stats(int argc, char **argv);

/* ---- shared with tools/export.c (not public) */

typedef struct {
    char *name;
    uint32_t first_id, size;
    int recorded; /* "recorded" is not "none" */
} norn__run_pop;

typedef struct {
    char *json_path; /* DIR/run.json */
    char *name;      /* may be NULL */
    char *mode;      /* may be NULL */
    double duration_ms;
    double resolution_ms; /* 0 when run.json has none */
    norn__run_pop *pops;
    uint32_t n_pops;
    /* filled when a projection was asked for: indices into pops, and the
     * neurons of its source and of its targets together */
    uint32_t *proj_from, *proj_to;
    uint32_t n_from, n_to;
    uint64_t pre_size, post_size;
} norn__run;

/* Reads DIR/run.json: duration_ms (> 0), resolution_ms (optional, > 0),
 * name, mode and populations [{name, size, first_id, last_id?,
 * recorded?}]. With projection != NULL also the entry of that name in
 * "projections": [{"name", "from", "to", "pre_size"?, "post_size"?}]
 * (from/to a population name or a list of them; the sizes, when given,
 * must be those of the populations). Errors: NORN_EIO (where = DIR) for a missing directory
 * or run.json; NORN_EPARSE with where = "DIR/run.json[:line:col]" and the
 * field in msg; NORN_EINVAL for an unknown projection. */
norn_status norn__run_read(const char *dir, const char *projection, norn__run *out, norn_err *err);
void norn__run_free(norn__run *r);

/* Index of population name in r, or -1. */
long norn__run_find(const norn__run *r, const char *name);

/* "unknown population 'x'; known: a, b" into err (NORN_EINVAL, where =
 * opt). */
norn_status norn__run_unknown_pop(const norn__run *r, const char *opt, const char *name, norn_err *err);

/* Parses a finite number (ms) or an integer in [lo, hi]; 0 if it is not. */
int norn__parse_num(const char *s, double *out);
int norn__parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* Index of the bin (from + k bin, from + (k+1) bin] holding t (> from),
 * with the 1e-9 tolerance described above; never negative. */
uint64_t norn__bin_of(double t, double from, double bin);

#endif
