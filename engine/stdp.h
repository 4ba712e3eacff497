/* engine/stdp.h - spike-timing-dependent plasticity: rule parameters.
 *
 * continuous / grid modes follow NEST's synapse models (parameter names and
 * semantics of stdp_synapse, stdp_nn_symm_synapse, stdp_nn_pre_centered_synapse,
 * stdp_nn_restr_synapse, stdp_pl_synapse_hom and stdp_triplet_synapse): the
 * whole delay d is dendritic, so a presynaptic spike is at the synapse at its
 * emission time t_pre and a postsynaptic spike at t_post + d; updates are made
 * lazily when a presynaptic spike is delivered, from the postsynaptic
 * neuron's spike history (see engine/sim.c, "STDP").
 *
 * euler mode follows Norse's stdp_step_linear (norse-semantics.md 5.1),
 * float32, every step (engine/stdp_norse.h).
 */
#ifndef NORN_STDP_H
#define NORN_STDP_H

typedef enum {
    NORN_STDP_NONE = 0,
    NORN_STDP_PAIR,         /* stdp_synapse: all-to-all pairs, w in [0, Wmax] */
    NORN_STDP_NN_SYMM,      /* stdp_nn_symm_synapse */
    NORN_STDP_NN_PRE,       /* stdp_nn_pre_centered_synapse */
    NORN_STDP_NN_RESTR,     /* stdp_nn_restr_synapse */
    NORN_STDP_PL,           /* stdp_pl_synapse_hom: power law (Morrison et al. 2007) */
    NORN_STDP_TRIPLET,      /* stdp_triplet_synapse (Pfister & Gerstner 2006) */
    NORN_STDP_NORSE         /* euler mode: Norse's stdp_step_linear */
} norn_stdp_rule;

typedef enum {
    NORN_NORSE_ADDITIVE = 0,
    NORN_NORSE_ADDITIVE_STEP,
    NORN_NORSE_MULTIPLICATIVE_POW,
    NORN_NORSE_MULTIPLICATIVE_RELU
} norn_norse_stdp_algorithm;

/* The rule's name in descriptions ("stdp", "stdp_triplet", ...). */
const char *norn_stdp_rule_name(int rule);

typedef struct {
    int rule; /* norn_stdp_rule */
    /* NEST pair rules (PAIR, NN_*) and PL; times in ms, weights in the
     * projection's weight unit:
     *   facilitate: w/Wmax + lambda (1 - w/Wmax)^mu_plus K+, capped at 1
     *   depress:    w/Wmax - alpha lambda (w/Wmax)^mu_minus K-, floored at 0
     * PL: w + lambda w^mu K+ (mu = mu_plus), w - lambda alpha w K- (>= 0) */
    double tau_plus, tau_minus, lambda, alpha, mu_plus, mu_minus, Wmax;
    /* TRIPLET (NEST stdp_triplet_synapse; tau_x = tau_plus_triplet,
     * tau_y = tau_minus_triplet):
     *   at a post spike: w += K+ (Aplus + Aplus_triplet Ky(t-)), capped at Wmax
     *   at a pre spike:  w -= K- (Aminus + Aminus_triplet Kx(t-)), floored at 0
     * nearest = 1: traces are set to 1 at a spike instead of incremented
     * (the nearest-spike model of Pfister & Gerstner) */
    double tau_x, tau_y, Aplus, Aminus, Aplus_triplet, Aminus_triplet;
    int nearest;
    /* NORSE (euler): STDPParameters, inverse times in 1/s */
    double a_pre, a_post, tau_pre_inv, tau_post_inv, w_min, w_max, eta_plus, eta_minus, mu;
    int algorithm; /* norn_norse_stdp_algorithm */
    int hardbound;
} norn_stdp_spec;


/* ------------------------------------------------------------------------
 * NEST rules (continuous, grid) over one synapse table.
 *
 * State: the weights as doubles (the table's float32 weights are taken over
 * and freed: a plastic synapse costs its target (4 bytes, 2 when the
 * caller keeps 16-bit targets) and an 8-byte weight; stdp_nn_pre_centered
 * adds an 8-byte K+ and stdp_nn_restr a 1-byte flag per synapse); per
 * presynaptic neuron its last spike time and traces; per postsynaptic
 * neuron a short history of its spikes with its traces; a log of the
 * presynaptic spikes whose deliveries are pending, each with the
 * presynaptic state as it was before that spike (so a neuron may spike again
 * before its earlier spike has arrived everywhere).
 *
 * Potentiation by postsynaptic spikes is booked when the next presynaptic
 * spike arrives, as in NEST; a presynaptic neuron silent for long has its
 * pending potentiation booked earlier by norn_stdp_settle (the same
 * operations in the same order, so the weights are the same), which lets
 * the history be trimmed to a bounded window.
 */
#include <stdint.h>

#include "connectivity/csr.h"
#include "engine/err.h"

typedef struct norn_stdp norn_stdp;

/* Takes over c->weight (freed, set to NULL). Checks the parameters and that
 * every weight has Wmax's sign (NEST's rule) and lies within the bounds. */
norn_status norn_stdp_create(const norn_stdp_spec *spec, norn_csr *c, norn_stdp **out, norn_err *err);
void norn_stdp_free(norn_stdp *st);
/* Bytes of the rule's state, all of it. */
uint64_t norn_stdp_bytes(const norn_stdp *st);
/* The weights, CSR order. */
const double *norn_stdp_weights(const norn_stdp *st);

/* A presynaptic spike of neuron i at t (spikes arrive here in time order):
 * returns its log number (for the deliveries), or UINT64_MAX when the log
 * cannot grow (ENOMEM). */
uint64_t norn_stdp_pre_spike(norn_stdp *st, uint32_t i, double t);
/* A postsynaptic spike of neuron j at t (time order). 0 on ENOMEM. */
int norn_stdp_post_spike(norn_stdp *st, uint32_t j, double t);
/* Where a delivery's new weights go, grid mode with one input channel:
 * for each synapse, in CSR order, acc[j] += its new weight and mark[j] = 1
 * (j its target); with pend, j is also appended to pend[n_pend++] when
 * mark[j] was 0. The same sums, in the same order, as adding the weights
 * after the update, but the synapses are read once. */
typedef struct {
    double *acc;
    uint8_t *mark;
    uint32_t *pend; /* NULL: mark only */
    uint32_t n_pend;
    int no_mark;    /* with pend NULL: marks may be left out (a lean population reads every sum, no mark) */
} norn_stdp_sink;

/* The delivery of logged spike `seq` through synapses lo..hi-1 (one delay
 * segment, delay d_ms): updates their weights, which the caller then reads
 * with norn_stdp_weights, or which go to sink (NULL: none). Targets are
 * tg16[k] when tg16 is given (tables into at most 65,536 neurons), else
 * c->target[k]. */
void norn_stdp_update(norn_stdp *st, const norn_csr *c, const uint16_t *tg16, uint64_t seq, uint64_t lo, uint64_t hi,
                      double d_ms, norn_stdp_sink *sink);
/* Called at time now, when every spike before now has been delivered and
 * every postsynaptic spike before now - (smallest delay) is known: books
 * the pending potentiation (postsynaptic spikes with t_post + d <= now) of
 * every presynaptic neuron silent for a whole period (the others book
 * theirs at their next spike soon enough), trims histories and the log,
 * and moves the traces' epoch to now. Does the work once a period of
 * simulated time (50 ms, or 4 (largest delay + h) + 10 h where that is
 * longer), or at once when force is set (weight snapshots, the end of the
 * run: then for every presynaptic neuron with no spike in flight), so
 * reported weights include every pairing that has reached the synapse.
 * Targets as for norn_stdp_update. */
int norn_stdp_settle(norn_stdp *st, const norn_csr *c, const uint16_t *tg16, double resolution_ms, double now,
                     int force);

/* on = 0: no AVX-512 kernel (norn_sim's no_simd); on = 1 (the default):
 * additive stdp_synapse takes eight synapses at a time when the CPU has
 * AVX-512F. The same weights either way, bit for bit. Returns 1 when the
 * kernel is on. */
int norn_stdp_set_simd(norn_stdp *st, int on);

/* Tests: on = 1 takes every synapse of stdp_synapse through the general
 * code (the whole spike history), which the fast paths must equal bit for
 * bit. */
void norn__stdp_set_reference(norn_stdp *st, int on);
int norn__stdp_reference(const norn_stdp *st);

struct norn_ckio;
/* Checkpoints (engine/ckpt.h): transfers the whole dynamic state (weights,
 * traces, the log, the histories, the epoch and settle clock); loading
 * needs an object created from the same table and spec. */
void norn__stdp_ckpt(norn_stdp *st, struct norn_ckio *io);

#endif
