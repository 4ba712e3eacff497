/* io/desc.h - a network description, parsed from YAML or JSON (libfyaml).
 *
 * norn_desc_load() reads a file and returns a fully validated, plain-data
 * description: every name resolved to an index, every number in norn's
 * units (ms, mV, pA, pF, nS, Hz), every file path resolved relative to the
 * description's directory and checked to exist. Anything wrong gives
 * NORN_EPARSE or NORN_EINVAL (NORN_EIO for an unreadable description) with
 * err->where = "file:line:col" of the offending node and err->msg naming
 * the field path and the problem, e.g.
 *   where "net.yaml:7:25"  msg "populations.exc.params.tau_m: must be > 0, got -2"
 * Nothing is built here; io/build.c turns a description into a network.
 *
 * Numbers may carry a unit as a string ("20 ms", "1.5ms", "20 kHz",
 * "250 pF", "0.1 mV"); the unit must match the field's dimension and is
 * converted (s, ms, us; V, mV, uV; nA, pA; nF, pF; uS, nS; Hz, kHz).
 * Unknown keys are errors ("unknown key 'tau'; known: ...").
 *
 * Every item keeps where[] ("file:line:col" of its node) so later stages
 * can report errors at the right place. Owns all its memory; free with
 * norn_desc_free().
 *
 * What is checked here (so later stages may rely on it): names resolve;
 * sizes are in 1 .. 2^32-1 and sum below 2^32 (global ids are uint32);
 * parameter values pass the model's own compile() in continuous mode
 * (grid-only rules, e.g. t_ref a multiple of the resolution, are left to
 * the build since the command line may change the mode); distribution
 * parameters are valid (std, sigma >= 0, high > low, min <= max); constant
 * delays are >= the resolution; p in [0, 1]; fixed_* counts fit without
 * multapses; one_to_one sizes match; from_matrix has a weight file; dc
 * times ascend; record neurons are in range and intervals are positive
 * multiples of the resolution; referenced files exist (they are not read;
 * a from_list file's rows are checked by the build).
 * Positions: a flow collection is reported at its bracket, a block one at
 * its first item, a missing key at its mapping.
 */
#ifndef NORN_DESC_H
#define NORN_DESC_H

#include <stdint.h>

#include "connectivity/csr.h"
#include "connectivity/dist.h"
#include "engine/err.h"
#include "engine/stdp.h"
#include "models/model.h"

#define NORN_WHERE_LEN 256

/* A weight, delay or initial value: a distribution, or a .npy file. */
typedef struct {
    norn_dist dist;        /* kind ARRAY when file != NULL (array filled by build) */
    char *file;            /* resolved path of a .npy file, or NULL */
    char where[NORN_WHERE_LEN];
} norn_desc_value;

typedef struct {
    char *name;
    /* The model's tables (names, parameters, state). In euler mode `model`
     * points at `shim`, a table-only copy of the Norse model's tables
     * (function pointers NULL), and `euler` is the model itself, or NULL
     * with is_input = 1 for an input population. */
    const norn_model_type *model;
    const struct norn_euler_type *euler;
    int is_input;
    norn_model_type shim;
    uint32_t size;                 /* > 0 */
    double params[NORN_MAX_PARAMS];/* table order: defaults, overridden */
    int param_given[NORN_MAX_PARAMS];
    /* initial[v] for each state variable v of the model; has_initial[v] = 0
       means the model's default (init_param or 0). */
    norn_desc_value initial[NORN_MAX_STATE];
    int has_initial[NORN_MAX_STATE];
    char where[NORN_WHERE_LEN];
} norn_desc_pop;

typedef enum {
    NORN_STIM_POISSON = 0,  /* rate_hz, start_ms, stop_ms */
    NORN_STIM_DC,           /* n_steps (times_ms[k], amplitudes_pA[k]); a constant
                               amplitude A with start/stop is stored as steps
                               (start, A), (stop, 0) */
    NORN_STIM_SPIKE_TIMES,  /* spikes (time_ms[k], neuron[k]); neuron is the
                               index in the concatenated target list, or
                               UINT32_MAX for "every target" */
    NORN_STIM_SPIKE_TENSOR, /* euler: file [T, n] of 0/1 for input populations */
    NORN_STIM_CURRENT_TENSOR /* euler: file [T, n], each step's input current */
} norn_stim_type;

typedef struct {
    norn_stim_type type;
    uint32_t *to;           /* population indices */
    uint32_t n_to;
    double weight;          /* mV (delta models) or pA (current models); default 1 */
    double delay_ms;        /* 0 when not given: acts at its own times */
    double rate_hz, start_ms, stop_ms; /* POISSON: stop INFINITY when absent */
    uint64_t n_steps;       /* DC */
    double *times_ms;       /* DC: step times (ascending); SPIKE_TIMES: spike times */
    double *amplitudes_pA;  /* DC */
    uint64_t n_spikes;      /* SPIKE_TIMES */
    uint32_t *neuron;       /* SPIKE_TIMES: [n_spikes] */
    char *file;             /* SPIKE_TIMES loaded from this file (resolved), or NULL */
    char where[NORN_WHERE_LEN];
} norn_desc_stim;

/* Short-term plasticity of a projection (Tsodyks-Markram), state kept per
 * presynaptic neuron (the parameters are homogeneous per projection).
 *  NORN_STP_TSODYKS2 (continuous/grid; NEST's tsodyks2_synapse): U, u0 (initial
 *    u, default U), x0 (default 1), tau_rec_ms, tau_fac_ms (0: none);
 *  NORN_STP_NORSE (euler; Norse's stp_step): U, tau_f_inv, tau_d_inv
 *    (tau_s_inv accepted and unused, as in Norse), u0 (default 0), x0 (1). */
typedef enum { NORN_STP_NONE = 0, NORN_STP_TSODYKS2, NORN_STP_NORSE } norn_stp_rule;

typedef struct {
    norn_stp_rule rule;
    double U, u0, x0;
    double tau_rec_ms, tau_fac_ms; /* TSODYKS2 */
    double tau_f_inv, tau_d_inv;   /* NORSE, 1/s */
    char where[NORN_WHERE_LEN];
} norn_desc_stp;

typedef struct {
    char *name;             /* given or "proj<k>" */
    uint32_t from;          /* population index */
    uint32_t *to;           /* population indices */
    uint32_t n_to;
    norn_conn_spec conn;
    int conn_given;         /* 0: all_to_all, or from_matrix with a weight file */
    norn_desc_value weight; /* default 1 */
    norn_desc_value delay;  /* ms; default: one resolution step */
    int euler_lag;          /* euler mode: 0 = this step's spikes, 1 = the previous step's */
    /* connect: {rule: from_list, file: syn.npy}: an explicit synapse list, a
     * 1-D structured .npy with fields pre (integer, local to the source
     * population), post (integer, indexing the targets concatenated, as in
     * weights_<proj>.npy), weight (float32/64, the target's input unit) and
     * optionally delay (ms; not in euler mode, where the projection's
     * delay, 0 or one step, applies to all). Every row is a synapse: zero
     * weights and repeated pairs are kept. The projection takes no
     * `weight:`, and no `delay:` when the file has delays. The file is read
     * by the build (io/build.c), which reports a bad row as
     * "syn.npy: row K: field 'post': ..." under the projection's where. */
    char *list_file;        /* resolved path, or NULL */
    int delay_given;        /* the projection has a `delay:` key */
    norn_desc_stp stp;      /* rule NONE without a plasticity block */
    norn_stdp_spec stdp;    /* rule NORN_STDP_NONE unless plasticity.rule is an
                               STDP rule (engine/stdp.h); where: stp.where */
    char where[NORN_WHERE_LEN];
} norn_desc_proj;

typedef struct {
    uint32_t pop;
    int vars[NORN_MAX_STATE];    /* state indices */
    int n_vars;
    uint32_t *neurons;           /* indices in the population */
    uint32_t n_neurons;
    double interval_ms;          /* default: resolution; multiple of it */
    char where[NORN_WHERE_LEN];
} norn_desc_state_rec;

typedef struct {
    uint32_t proj;               /* projection index */
    double every_ms;             /* snapshot interval; 0: at the end only */
    double *times_ms;            /* or these snapshot times (ascending, > 0), then the end */
    uint64_t n_times;
    char where[NORN_WHERE_LEN];
} norn_desc_weight_rec;

/* record.plasticity: {projection, variables: [u, x], every}: the
 * per-presynaptic-neuron plasticity state sampled every `every` ms (default
 * the resolution) to plasticity_<projection>_<variable>.npy [samples, n_pre]. */
typedef struct {
    uint32_t proj;
    int vars[2];                 /* 0 = u, 1 = x */
    int n_vars;
    double every_ms;
    char where[NORN_WHERE_LEN];
} norn_desc_plast_rec;

typedef struct {
    char *path;             /* the description file as given */
    char *name;             /* simulation.name, or the file's base name without extension */
    double duration_ms;     /* > 0, required in the file (the command line may
                               override the value) */
    double resolution_ms;   /* default 0.1 */
    norn_mode mode;         /* default grid */
    uint64_t seed;          /* default 1 */
    int plot;               /* simulation.plot (for later issues), default 0 */

    norn_desc_pop *pops;   uint32_t n_pops;
    norn_desc_stim *stims; uint32_t n_stims;
    norn_desc_proj *projs; uint32_t n_projs;
    int *record_spikes;     /* [n_pops]: 1 if recorded; default all */
    norn_desc_state_rec *state_recs; uint32_t n_state_recs;
    norn_desc_weight_rec *weight_recs; uint32_t n_weight_recs;
    norn_desc_plast_rec *plast_recs; uint32_t n_plast_recs;
    uint32_t rank, ranks;   /* MPI (engine/par.h): set by the caller, not parsed;
                               0, 0: one process */
    uint64_t max_memory;    /* bytes norn_build may plan to use; 0: the memory
                               available (not from the file: the command line's
                               --max-memory) */
    char where[NORN_WHERE_LEN];
} norn_desc;

/* The most steps of the resolution a run may last: 2^53, so that every
 * step index and grid time is exact in a double. */
#define NORN_DESC_MAX_STEPS 9007199254740992.0

/* Parses and validates the file at path. On success *out is a new
 * description (free with norn_desc_free). */
norn_status norn_desc_load(const char *path, norn_desc **out, norn_err *err);

/* The same from a string; name is used in messages and for relative paths
 * (its directory). */
norn_status norn_desc_parse(const char *text, size_t len, const char *name,
                            norn_desc **out, norn_err *err);

void norn_desc_free(norn_desc *d);

#endif
