/* engine/sim.h - a network and its simulation.
 *
 * Build first, then run. A norn_sim holds populations (structure-of-arrays
 * state, one model each), static synapse tables (CSR, one per source and
 * target population), stimuli and recorders. norn_sim_run() then processes
 * events in time order:
 *
 *  - Time advances in windows of length d_min (the smallest synaptic delay;
 *    1 ms without synapses). A spike emitted inside a window reaches its
 *    targets no earlier than the window's end, so within a window all
 *    input is known and each neuron can be integrated alone (the same
 *    lookahead NEST uses between MPI ranks).
 *  - The queue (engine/queue.h) holds one entry per (spike, delay segment)
 *    of a CSR row, plus stimulus events (spike trains, DC steps). Popping a
 *    segment walks its synapses: each target is advanced lazily to the
 *    arrival time with its model's exact solution, then receives the weight.
 *  - Poisson drive is not queued: each (stimulus, neuron) pair has its own
 *    counter-based random stream and next arrival time, consumed inside the
 *    neuron's own lazy advance. Neurons with Poisson drive, and neurons whose
 *    trajectory may still reach threshold without input (may_fire), are
 *    advanced to every window's end (the sweep), which finds their
 *    threshold crossings exactly; quiet neurons cost nothing.
 *  - A neuron's threshold is tested at time t only once every input
 *    arriving at t has been applied, so inputs arriving together are summed
 *    first, in both modes (as NEST's grid models do).
 *  - Spikes of a window are sorted by (time, global id) before they are
 *    queued and recorded: equal-time events are then processed in an order
 *    that depends only on the network, never on the visiting order.
 *  - continuous mode: spike times are real numbers; grid mode: every event
 *    and spike is on the resolution grid (k * resolution), threshold tested
 *    at grid points, a spike stamped at the end of the step in which V
 *    reached threshold (as NEST's iaf_psc_delta / iaf_psc_exp).
 * The run covers (0, duration]: spikes at exactly `duration` are included.
 * Deterministic: same network and seed give the same spikes bit for bit.
 * Single-threaded; no locking. All memory from engine/mem.h.
 * MPI (engine/par.h, cfg.rank and cfg.ranks): each rank advances its block
 * of every population and holds the synapses of its own targets; the
 * window's spikes of all ranks are gathered before they are sorted, so
 * every rank delivers in the one-process order and the results are the
 * same bit for bit for any rank count (norn_sim_par_gather collects them
 * on rank 0).
 */
#ifndef NORN_SIM_H
#define NORN_SIM_H

#include <signal.h>
#include <stdint.h>

#include "connectivity/csr.h"
#include "engine/err.h"
#include "engine/stdp.h"
#include "models/model.h"

struct norn_euler_type;
typedef struct norn_sim norn_sim;

typedef struct {
    double resolution_ms; /* > 0 */
    norn_mode mode;       /* continuous or grid */
    uint64_t seed;
    /* testing: sweep every Poisson-driven neuron every window even when its
     * arrivals are rare (the default schedules such neurons by arrival) */
    int sweep_every_window;
    /* testing: the per-neuron lazy path everywhere, even where a grid-mode
     * population could be stepped as a whole (model grid_step) */
    int no_dense;
    /* testing: a dense iaf_delta population with one Poisson drive stepped
     * as the other dense populations are (neurons without input at a step
     * left behind, the drive drawn ahead) instead of every neuron every
     * step with its count drawn in the same pass; a dense lif
     * population stepped by its grid_step instead of
     * norn__lif_lean_advance (models/lif.h); and, in continuous mode, an
     * iaf_delta population fed by static tables and one Poisson drive
     * advanced by the general path instead of its short form (engine/sim.c,
     * cfast), and every neuron of a sweep list advanced at every window's
     * end (not left out by the model's quiet_until) */
    int no_lean;
    /* testing: no vector code (AVX2, AVX-512: the lean passes, the Poisson
     * counts, the STDP update) even where the CPU has it; the results are
     * the same bits either way */
    int no_simd;
    /* MPI (engine/par.h): this rank and the number of ranks (0 and 0 or 1:
     * one process). Each population's neurons are cut into `ranks` blocks,
     * this rank updates its own; spikes are exchanged every window. */
    uint32_t rank, ranks;
} norn_sim_config;

norn_status norn_sim_create(const norn_sim_config *cfg, norn_sim **out, norn_err *err);
void norn_sim_destroy(norn_sim *s);

/* Adds a population of n neurons; params in the model's table order
 * (copied). State starts at the model's defaults; set it through
 * norn_sim_state(). where: "file:line:col" for messages. */
norn_status norn_sim_add_population(norn_sim *s, const char *name, const norn_model_type *type,
                                    uint32_t n, const double *params, const char *where,
                                    uint32_t *out_index, norn_err *err);
uint32_t norn_sim_n_populations(const norn_sim *s);
/* State array of variable var (the model's state table index), [n], to
 * read or write. Between norn_sim_advance calls, every neuron of the
 * population is first brought to the pause (norn_sim_time), so the state
 * is the state there and a write takes effect there (a neuron written
 * above threshold fires at the pause; the next norn_sim_advance looks at
 * every neuron of the population again). Bringing them there splits
 * their exact trajectories at the pause, so a run that looks mid-run can
 * differ from one that does not in the last bits. At the run's end every
 * neuron that may reach threshold on its own is at the end; the others
 * at their last input. */
double *norn_sim_state(norn_sim *s, uint32_t pop, int var);
const norn_model_pop *norn_sim_model_pop(const norn_sim *s, uint32_t pop);
uint32_t norn_sim_first_id(const norn_sim *s, uint32_t pop);
uint32_t norn_sim_pop_size(const norn_sim *s, uint32_t pop);
const char *norn_sim_pop_name(const norn_sim *s, uint32_t pop);
/* 1 if grid mode steps population pop as a whole (the model's grid_step,
 * every step) rather than neuron by neuron; decided when the run starts. */
int norn_sim_pop_dense(const norn_sim *s, uint32_t pop);

/* euler mode (Norse's discrete time, models/euler.h): a population of a
 * Norse model, or with type == NULL an input population whose neurons
 * spike where a spike tensor says. Step t (0-based) covers
 * (t dt, (t+1) dt]; its spikes are stamped (t+1) dt. Each step updates the
 * populations in the order they were added: a projection from an earlier
 * population carries this step's spikes (as Linear -> Cell in a
 * feed-forward network), one from the same or a later population the
 * previous step's (as Norse's recurrent cells). A neuron is updated only
 * when input reaches it, while its model says it is not quiet (it could
 * still spike on its own), or when recorded; skipped steps are replayed
 * bit for bit when it is next updated. */
norn_status norn_sim_add_euler_population(norn_sim *s, const char *name, const struct norn_euler_type *type,
                                          uint32_t n, const double *params, const char *where,
                                          uint32_t *out_index, norn_err *err);
/* Float32 state array of variable var of an euler population, [n]. */
float *norn_sim_euler_state(norn_sim *s, uint32_t pop, int var);
/* data [T][n] of 0/1 (copied): neuron j of the input population pop
 * spikes at step t where data[t][j] = 1. */
norn_status norn_sim_add_spike_tensor(norn_sim *s, uint32_t pop, uint64_t T, const double *data, norn_err *err);
/* data [T][n] (copied, as float32): the input current of step t, added to
 * the feed-forward input as a Norse cell's input argument. */
/* Replaces an input population's spikes (euler mode): the spikes of step
 * t are idx[ptr[t] .. ptr[t+1]), T steps (copied). */
norn_status norn_sim_set_input_spikes(norn_sim *s, uint32_t pop, uint64_t T, const uint64_t *ptr,
                                      const uint32_t *idx, norn_err *err);
/* Makes a finished euler-mode simulation ready to run again from its
 * initial state (neuron state, recorders, counters; weights unchanged):
 * inference over many samples builds the network once. Refused with
 * plastic projections (their state would carry over). */
norn_status norn_sim_reset(norn_sim *s, norn_err *err);
norn_status norn_sim_add_current_tensor(norn_sim *s, uint32_t pop, uint64_t T, const double *data, norn_err *err);
/* Name of state variable var of population pop. */
const char *norn_sim_state_name(const norn_sim *s, uint32_t pop, int var);

/* Short-term plasticity (Tsodyks-Markram) of table k, state per
 * presynaptic neuron:
 *  TSODYKS2 (continuous, grid): NEST's tsodyks2_synapse. At every spike
 *    after the first, with h the interval since the previous one:
 *    x <- 1 + (x - x u - 1) e^{-h/tau_rec}; u <- U + u (1 - U) e^{-h/tau_fac}
 *    (U when tau_fac = 0); the spike carries weight w u x; the first spike
 *    uses the initial u, x. The presynaptic spike time counts (not the delay).
 *  NORSE (euler): Norse's stp_step every step, u relaxing to 0:
 *    u' = (u + dt(-tau_f_inv u)) + (U (1 - u)) z,
 *    x' = (x + dt(tau_d_inv (1 - x))) - (u' x) z, release (u' x) z; the spike
 *    carries weight w (u' x). Steps without a spike are replayed lazily. */
typedef enum { NORN_STP_RULE_NONE = 0, NORN_STP_RULE_TSODYKS2 = 1, NORN_STP_RULE_NORSE = 2 } norn_stp_rule_t;
typedef struct {
    int rule;                      /* norn_stp_rule_t */
    double U, u0, x0;
    double tau_rec_ms, tau_fac_ms; /* TSODYKS2 */
    double tau_f_inv, tau_d_inv;   /* NORSE, 1/s */
} norn_stp_spec;
norn_status norn_sim_set_stp(norn_sim *s, uint32_t table, const norn_stp_spec *spec, norn_err *err);
/* Samples u and/or x (vars: 0 = u, 1 = x) of every presynaptic neuron of
 * table k every interval_ms (tsodyks2: the values stored at each neuron's
 * last spike; euler: after each step). */
norn_status norn_sim_record_stp(norn_sim *s, uint32_t table, const int *vars, int n_vars, double interval_ms,
                                uint32_t *out_index, norn_err *err);
uint32_t norn_sim_n_stp_recorders(const norn_sim *s);
typedef struct {
    uint32_t table;
    int n_vars;
    const int *vars;
    uint32_t n_pre;
    uint64_t n_samples;
    const double *times_ms;
    const float *data; /* [n_samples][n_vars][n_pre] */
} norn_stp_recording;
void norn_sim_stp_recording(const norn_sim *s, uint32_t rec, norn_stp_recording *out);

/* euler mode: table k (in the order added) carries this step's spikes (lag
 * 0, only from an earlier population) or the previous step's (lag 1). The
 * default is 0 from an earlier population, 1 otherwise. */
norn_status norn_sim_set_lag(norn_sim *s, uint32_t table, int lag, norn_err *err);
uint32_t norn_sim_n_tables(const norn_sim *s);
/* STDP on table k (continuous, grid: NEST's rules, engine/stdp.h). The
 * rule takes over the table's weights (as doubles); a projection carries
 * one plasticity rule. Weights must have Wmax's sign and lie within its
 * bounds. */
norn_status norn_sim_set_stdp(norn_sim *s, uint32_t table, const norn_stdp_spec *spec, norn_err *err);
/* The current weights of a table with NEST STDP (CSR order), else NULL. */
const double *norn_sim_table_weights(const norn_sim *s, uint32_t table);
/* Tests: on = 1 takes every table with NEST STDP through its general code
 * (norn__stdp_set_reference) and delivers its spikes after the update, in
 * a second pass; the fast paths must give the same bits. Before a run. */
void norn__sim_stdp_reference(norn_sim *s, int on);
/* Tests: on = 0 keeps NEST STDP's additive stdp_synapse off its AVX-512
 * kernel (as cfg.no_simd), on = 1 lets it take it where the CPU has it.
 * Returns 1 when some table takes it. Before a run. */
int norn__sim_stdp_simd(norn_sim *s, int on);

/* Takes over the table (*csr is zeroed). Delays are in resolution steps. */
norn_status norn_sim_add_synapses(norn_sim *s, uint32_t src_pop, uint32_t tgt_pop, norn_csr *csr,
                                  norn_err *err);

/* Poisson input to every neuron of pop, independent per neuron: rate in
 * Hz, weight in the model's input unit, active on [start, stop). */
norn_status norn_sim_add_poisson(norn_sim *s, uint32_t pop, double rate_hz, double weight,
                                 double start_ms, double stop_ms, norn_err *err);
/* Piecewise-constant current (pA) added to every neuron of pop: amps[k]
 * from times[k] on (times ascending, copied). */
norn_status norn_sim_add_dc(norn_sim *s, uint32_t pop, uint64_t n, const double *times_ms,
                            const double *amps_pA, norn_err *err);
/* Explicit spikes: spike k reaches neuron neuron[k] of pop (or every neuron
 * if neuron == NULL or neuron[k] == UINT32_MAX) at times_ms[k] with weight.
 * Copied; sorted here (stable). Neuron indices are checked. */
norn_status norn_sim_add_spike_train(norn_sim *s, uint32_t pop, uint64_t n, const double *times_ms,
                                     const uint32_t *neuron, double weight, norn_err *err);

/* Recording. Spikes of pop are kept (time, global id) if on. */
void norn_sim_record_spikes(norn_sim *s, uint32_t pop, int on);
/* Samples variables vars[0..n_vars) of the listed neurons of pop every
 * interval_ms (a multiple of the resolution), at t = interval, 2 interval,
 * ... <= duration, after all events at that time. Returns a recorder index. */
norn_status norn_sim_record_state(norn_sim *s, uint32_t pop, const int *vars, int n_vars,
                                  const uint32_t *neurons, uint32_t n_neurons, double interval_ms,
                                  uint32_t *out_index, norn_err *err);

/* Snapshots of the weights of the given synapse tables (indices in the
 * order tables were added) every interval_ms (a multiple of the
 * resolution), after every event at that time, and at the end of the run;
 * interval_ms = 0: at the end only. */
norn_status norn_sim_record_weights(norn_sim *s, const uint32_t *tables, uint32_t n_tables, double interval_ms,
                                    uint32_t *out_index, norn_err *err);
/* The same with snapshots at the given times (ms, ascending, >= 0 (0: the
 * initial weights), within the run), then at the end. */
norn_status norn_sim_record_weights_at(norn_sim *s, const uint32_t *tables, uint32_t n_tables, const double *times_ms,
                                       uint64_t n_times, uint32_t *out_index, norn_err *err);

typedef void (*norn_progress_fn)(void *ctx, double t_ms, double duration_ms);

/* Runs from 0 to duration_ms (once per sim). progress (may be NULL) is
 * called after each window. */
norn_status norn_sim_run(norn_sim *s, double duration_ms, norn_progress_fn progress, void *ctx,
                         norn_err *err);

/* The same run in segments, for checkpoints and interruption:
 * norn_sim_begin() prepares the run (once per sim; the state at t = 0),
 * norn_sim_advance() runs whole windows (euler: steps) until the time
 * reached is >= t_stop_ms (INFINITY: to the end), the run ends, or the stop
 * flag is found set after a window. norn_sim_run() is begin + advance to the
 * end: the windows, and so the results, are the same however a run is cut. */
norn_status norn_sim_begin(norn_sim *s, double duration_ms, norn_err *err);
norn_status norn_sim_advance(norn_sim *s, double t_stop_ms, norn_progress_fn progress, void *ctx, norn_err *err);
/* flag (borrowed, may be NULL) is read after every window; when non-zero
 * norn_sim_advance returns NORN_OK at that window's end. For signal
 * handlers. */
void norn_sim_set_stop(norn_sim *s, volatile sig_atomic_t *flag);
double norn_sim_time(const norn_sim *s); /* end of the last window run (ms) */
int norn_sim_done(const norn_sim *s);    /* 1 once the last window has run */

/* Checkpoints (engine/ckpt.h streams; engine/sim_ckpt.inc says what is in
 * them). norn_sim_save: between norn_sim_advance calls, writes the whole
 * dynamic state; it changes nothing. norn_sim_load: into a simulation built
 * the same way (same description, data and seed) and begun
 * (norn_sim_begin) but not advanced; checks the rebuilt network against the
 * checkpoint's fingerprints first ("... does not match ...: synapse table 2
 * (exc -> inh) differs"). On failure the simulation is half loaded and must
 * be destroyed. Errors: io's (stream name in where, section in the
 * message), NORN_ENOMEM. */
struct norn_ckio;
norn_status norn_sim_save(norn_sim *s, struct norn_ckio *io);
norn_status norn_sim_load(norn_sim *s, struct norn_ckio *io);

/* Results (valid until destroy). Spikes are sorted by (time, global id). */
uint64_t norn_sim_spikes(const norn_sim *s, const double **time_ms, const uint32_t **gid);
uint64_t norn_sim_pop_spike_count(const norn_sim *s, uint32_t pop);
/* Recorded samples: data[sample][var][neuron] as float32 of the recorder;
 * n_samples counts the samples taken so far (all of them once done). */
uint32_t norn_sim_n_recorders(const norn_sim *s);
typedef struct {
    uint32_t pop;
    int n_vars;
    const int *vars;
    uint32_t n_neurons;
    const uint32_t *neurons;
    uint64_t n_samples;
    const double *times_ms;  /* [n_samples] */
    const float *data;       /* [n_samples][n_vars][n_neurons] */
} norn_recording;
void norn_sim_recording(const norn_sim *s, uint32_t rec, norn_recording *out);

uint32_t norn_sim_n_weight_recorders(const norn_sim *s);
typedef struct {
    uint32_t n_tables;
    const uint32_t *tables;
    uint64_t n_syn;          /* synapses per snapshot: the tables' in order */
    uint64_t n_snapshots;
    const double *times_ms;  /* [n_snapshots] */
    const float *weights;    /* [n_snapshots][n_syn], each table in CSR order */
    /* after norn_sim_par_gather on rank 0 of several: each synapse's source
     * and target (the tables' targets concatenated); else NULL (read them
     * from the tables) */
    const uint32_t *pre, *post;
} norn_weight_recording;
void norn_sim_weight_recording(const norn_sim *s, uint32_t rec, norn_weight_recording *out);
/* The synapse table k (rows = sources, local indices). */
const norn_csr *norn_sim_table_csr(const norn_sim *s, uint32_t table);

typedef struct {
    uint64_t neurons, synapses, synapse_bytes, spikes, synaptic_events;
    uint64_t plastic_synapses, plastic_bytes; /* tables with STDP: synapses, all their bytes */
    uint64_t windows, queue_events;
    uint64_t neuron_updates; /* euler mode: neuron steps taken (touches) */
    double duration_ms, min_delay_ms;
    double time_reached_ms; /* end of the last window run (duration_ms once done) */
} norn_sim_stats;
void norn_sim_get_stats(const norn_sim *s, norn_sim_stats *out);

/* MPI, after norn_sim_run, collective: brings the results to rank 0 as one
 * process has them: spike counts and stats summed over ranks, state
 * samples from the neurons' owners, recorded weights merged into the
 * single-process CSR order (with pre, post). Spikes are already complete
 * on every rank. Alone: does nothing. */
norn_status norn_sim_par_gather(norn_sim *s, norn_err *err);
/* Synapses of table k in the whole network (after norn_sim_par_gather),
 * else the table's own. */
uint64_t norn_sim_table_synapses(const norn_sim *s, uint32_t table);
/* The spike exchange of this rank: bytes received, rounds, wall and CPU
 * seconds inside it. */
void norn_sim_par_exchange(const norn_sim *s, uint64_t *bytes, uint64_t *rounds, double *seconds, double *cpu_seconds);

#endif
