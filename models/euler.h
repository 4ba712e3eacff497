/* models/euler.h - Norse's neuron models in discrete time (`euler` mode).
 *
 * Each model is Norse's forward step, bit for bit: float32 state and
 * parameters, every elementwise operation one IEEE float32 operation in
 * the order of ../shared/reference/norse-semantics.md, no fused
 * multiply-add (the build uses -ffp-contract=off), strict threshold
 * (v > v_th), Norse's reset order and Norse's initial state when none is
 * given. Parameters use Norse's names (tau_syn_inv, tau_mem_inv, v_leak,
 * v_th, v_reset, ...) and defaults; dt is the simulation resolution in the
 * unit the parameters assume (Norse's default dt = 0.001 with inverse time
 * constants in 1/s).
 *
 * Input to one neuron in one step comes in two sums, as Norse forms them:
 *   ff  - the feed-forward input of this step: the Cell's input current
 *         (a current tensor) plus W_in x_t (projections from populations
 *         updated earlier in the same step);
 *   rec - W_rec z_{t-1}: projections carrying the previous step's spikes.
 * Each model adds them where Norse does (LIF: i~ = (i + ff) + rec before
 * the voltage update; LSNN: after the spike; IAF: v^ = (v + ff) + rec; ...).
 * Both are 0.0f when there is no input; models must give the same bits as
 * Norse whether or not an input of 0 was "added".
 * Where each model adds them (models/norse_*.c):
 *   lif, lif_refrac, lif_ex, lif_adex, lif_adex_refrac, li:
 *                 i~ = (i + ff) + rec, before the voltage update;
 *   lsnn:         i' = (i_decayed + ff) + rec, after the spike;
 *   iaf:          v^ = (v + ff) + rec;
 *   izhikevich:   s = ((((sq v v + mn v) + bias) - u) + ff) + rec;
 *   lif_box, li_box, lif_encoder, coba_lif (no recurrent variant in Norse,
 *   or none this interface can express): the current I = ff + rec, and
 *   coba_lif splits it by sign, g_e += relu(I), g_i += relu(-I), as
 *   Norse's feed-forward step. (Norse's recurrent CobaLIFCell splits W_rec
 *   by sign per synapse and ignores its input: engine/cell.c does that
 *   through norn__coba_lif_rec_step in models/norse_other.c.)
 * x + 0.0f equals x bit for bit except for x = -0.0f; no state sum here
 * can be -0.0f with the default parameters, and all fixtures match bit for
 * bit with rec = 0.0f added. (-0.0f is the exact additive identity, if an
 * engine wants "absent" to be exact even for parameters set to -0.0.)
 *
 * Arithmetic is Norse's, written out: the threshold is heaviside(v - v_th)
 * = where(x <= 0, 0, 1) (v == v_th does not spike; a NaN v does), resets
 * are (1 - z) v + z v_reset, constants are one float32 product each
 * (c_m = fl32(dt) * fl32(tau_mem_inv); Izhikevich's products of Python
 * floats in double, rounded once).
 *
 * Models are math on structure-of-arrays float32 state (st[var][neuron]);
 * they know no queue, no synapse table and no file.
 */
#ifndef NORN_EULER_H
#define NORN_EULER_H

#include <stdint.h>

#include "engine/err.h"
#include "models/model.h"

#define NORN_EULER_MAX_STATE 8

typedef struct norn_euler_pop {
    const struct norn_euler_type *type;
    uint32_t n;
    double p[NORN_MAX_PARAMS]; /* parameters as given (Norse names, table order) */
    float f[32];               /* compiled float32 constants (c_m, c_s, ...) */
    double dt;                 /* the step, in the parameters' time unit */
    float *st[NORN_EULER_MAX_STATE]; /* state arrays [n] each, float32 */
} norn_euler_pop;

typedef struct norn_euler_type {
    const char *name;          /* Norse's functional name: "lif", "lsnn", ... */
    const char *doc;           /* one line */
    int n_params;
    const norn_param_info *params; /* Norse names, defaults, unit "1/s", "1", ... */
    int n_state;
    const norn_state_info *state;  /* "v", "i", "a", "b", "rho", "u", "g_e", "g_i" */
    int v_index;               /* state index of the voltage (-1: none) */
    int spiking;               /* 0 for li / li_box: outputs no spikes */
    /* Validate p and fill ep->f (float32 constants formed as Norse forms
     * them, e.g. c_m = fl32(fl32(dt) * tau_mem_inv)). */
    norn_status (*compile)(norn_euler_pop *ep, const char *where, norn_err *err);
    /* Norse's initial state (when none is given) for neuron i. */
    void (*init)(norn_euler_pop *ep, uint32_t i);
    /* One step of neuron i with the step's input sums; returns 1 if it
     * spiked (z' = 1); always 0 for li and li_box (spiking == 0). */
    int (*step)(norn_euler_pop *ep, uint32_t i, float ff, float rec);
    /* 1 if, with no input from now on, neuron i can never spike again
     * (a conservative bound: may say 0 wrongly, never 1 wrongly). The
     * state may still change (decay) while quiet.
     * LIF-type models: v and v_leak + max(i, 0) (lsnn: against min(b,
     * v_th); lif_ex: with the exponential term's fixed point) below the
     * threshold by 1e-6 of the magnitudes (~8 ulps), when dt tau_mem_inv
     * <= 1 and dt tau_syn_inv <= 1 (else 0); iaf: v <= v_th, exactly;
     * coba_lif: g_e == 0 and v, v_rest, e_rev_I below v_thresh; li and
     * li_box: always 1 (they never spike); lif_adex, lif_adex_refrac and
     * izhikevich: always 0 (no cheap bound). */
    int (*quiet)(const norn_euler_pop *ep, uint32_t i);
} norn_euler_type;

/* Registry of euler-mode models. NULL if unknown. */
const norn_euler_type *norn_euler_find(const char *name);
const char *norn_euler_names(void); /* "lif, lif_box, ..." */
size_t norn_euler_count(void);
const norn_euler_type *norn_euler_at(size_t k);
int norn_euler_param_index(const norn_euler_type *t, const char *name);
int norn_euler_state_index(const norn_euler_type *t, const char *name);

/* Named parameter presets (Izhikevich behaviours: "tonic_spiking", ...;
 * no other model has presets). An Izhikevich preset sets a, b, c, d,
 * tau_inv, mn, bias and v_rest and fixes both v and u (u0 = fl32(u_rest) *
 * fl32(b) as Norse's torch.tensor(u_rest) * b; accomodation's u0 = -16):
 * fills params (table order, starting from the defaults) and, if the preset
 * fixes an initial state, init_state[var] with has_init[var] = 1.
 * Returns 0 if the model has no such preset. */
int norn_euler_preset(const norn_euler_type *t, const char *preset, double *params, double *init_state,
                      int *has_init);
/* Comma-separated preset names of a model ("" if none). */
const char *norn_euler_preset_names(const norn_euler_type *t);

#endif
