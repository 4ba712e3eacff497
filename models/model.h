/* models/model.h - what a neuron model is, for the engine and for io/.
 * A model is math on structure-of-arrays state: it knows no queue, no
 * synapse table and no file. Parameters are doubles in fixed units (ms, mV,
 * pA, pF, nS, Hz) listed in a table with defaults; state variables are
 * doubles listed in a table (recordable, settable as initial values).
 * Parameters are homogeneous per population; state is per neuron.
 *
 * Time semantics shared by all models (continuous and grid modes):
 *  - input of weight w arriving at t acts at t (delta: V jumps; exp
 *    synapses: the current jumps, w > 0 excitatory channel, w < 0 inhibitory,
 *    as NEST routes by sign);
 *  - after a spike at t_s the neuron is refractory on (t_s, t_s + t_ref];
 *  - advance() moves one neuron from its current time to t exactly, and
 *    stops early at a threshold crossing.
 */
#ifndef NORN_MODEL_H
#define NORN_MODEL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

#define NORN_MAX_PARAMS 24
#define NORN_MAX_STATE 8

typedef struct {
    const char *name;  /* NEST spelling: "tau_m" */
    const char *unit;  /* "ms", "mV", "pA", "pF", "nS", "Hz", "1" */
    double def;        /* default (may be -INFINITY/INFINITY for "none") */
    const char *doc;   /* one line */
} norn_param_info;

typedef struct {
    const char *name;  /* "V_m" */
    const char *unit;
    const char *doc;
    int init_param;    /* index of the parameter giving its default initial
                          value (e.g. E_L for V_m), or -1 for 0 */
} norn_state_info;

/* Grid time k * h, correctly rounded: 3 steps of 0.1 ms are 0.3 ms, not
 * 0.30000000000000004, and a delay of 73 steps is exactly 7.3 ms (for
 * h = 1/n, k/n; otherwise the correctly rounded product). Every
 * grid time in norn is made by these, so equal grid times compare equal. */
static inline double norn_grid_time(int64_t k, double h)
{
    double inv = 1.0 / h, n = nearbyint(inv);
    if (n >= 1 && fabs(inv - n) <= 1e-9 * n)
        return (double)k / n; /* h = 1/n: k/n is the double nearest to the decimal */
    return (double)((long double)k * (long double)h);
}
/* Index of the grid point nearest to t. */
static inline int64_t norn_grid_index(double t, double h) { return (int64_t)llround(t / h); }
/* First grid point at or after t (t within 1e-9 steps of a grid point counts as on it). */
static inline double norn_grid_ceil(double t, double h)
{
    return norn_grid_time((int64_t)ceil(t / h - 1e-9), h);
}

typedef enum { NORN_MODE_CONTINUOUS = 0, NORN_MODE_GRID = 1, NORN_MODE_EULER = 2 } norn_mode;

/* Per-population, model-owned data (parameters compiled for a mode and
 * resolution, propagators). State arrays live in st[var][neuron]. */
typedef struct norn_model_pop {
    const struct norn_model_type *type;
    uint32_t n;
    double p[NORN_MAX_PARAMS];     /* parameters as used, table order */
    double *st[NORN_MAX_STATE];    /* state arrays [n] each */
    double *ref_until;             /* [n] end of refractoriness (ms), -inf */
    double *i_dc;                  /* [n] external DC current (pA) from dc
                                      stimuli, or NULL when there is none */
    double h;                      /* resolution (ms) */
    norn_mode mode;
    double c[32];                  /* model's precomputed constants */
    double cache[128];             /* model's scratch (e.g. a cache of
                                      decay factors by time) */
} norn_model_pop;

/* One grid step of a whole population (norn_model_type.grid_step). */
typedef struct {
    double t;          /* the step's grid time */
    double *t_last;    /* [n] time each neuron was last advanced to */
    uint8_t *flags;    /* [n] bit 0: synaptic input acc[i] at t; bit 1: Poisson input pin[i] at t */
    double *acc, *pin; /* [n] summed inputs at t; flags, acc and pin are cleared */
    double *acc2, *pin2; /* two-channel models: the w < 0 sums (as input_sums), else NULL */
    int all;           /* 1: advance every neuron behind t; 0: only those with flags */
    int test;          /* 1: test the threshold at t of the neurons visited */
    uint32_t *fired;   /* out: neurons that spiked at t (fire() done), the count returned */
    uint32_t lo, hi;   /* the neurons stepped, [lo, hi): all, or an MPI rank's block */
} norn_grid_step;

/* Neuron i's input at a grid step (g->flags[i] != 0), through the model's
 * input(): Poisson, then synaptic, each channel's nonzero sum in the
 * engine's order (input_sums); the sums cleared. Inlined with the model's
 * own input function. */
/* Neuron i's sums in a and b (b may be NULL: one channel) applied, then
 * cleared. */
static inline void norn__grid_apply_pair(norn_model_pop *mp, double *a, double *b, uint32_t i, double t,
                                         void (*input)(norn_model_pop *, uint32_t, double, double))
{
    if (a[i] != 0.0)
        input(mp, i, t, a[i]);
    if (b && b[i] != 0.0)
        input(mp, i, t, b[i]);
    a[i] = 0.0;
    if (b)
        b[i] = 0.0;
}

static inline void norn_grid_apply_inputs(norn_model_pop *mp, const norn_grid_step *g, uint32_t i, double t,
                                          void (*input)(norn_model_pop *, uint32_t, double, double))
{
    unsigned f = g->flags[i];
    if (f & 2)
        norn__grid_apply_pair(mp, g->pin, g->pin2, i, t, input);
    if (f & 1)
        norn__grid_apply_pair(mp, g->acc, g->acc2, i, t, input);
}

typedef struct norn_model_type {
    const char *name;
    const char *doc;
    const char *input_unit;        /* unit of a synaptic weight: "mV", "pA", "nS" */
    int n_params;
    const norn_param_info *params;
    int n_state;
    const norn_state_info *state;
    /* internal per-neuron arrays the engine allocates after the state
     * (st[n_state .. n_state + n_hidden)), zeroed; not recordable */
    int n_hidden;
    int v_index;                   /* state index of the membrane potential */
    /* Inputs arriving at the same time are summed by the engine before
     * input() is called: 1 = one sum (delta synapses), 2 = two sums split
     * by sign, w >= 0 then w < 0 (excitatory and inhibitory channels). */
    int n_channels;
    /* Validate p (table order) and precompute constants into mp->c.
     * where: "file:line:col" of the population, for messages. Called before
     * the state arrays exist. */
    norn_status (*compile)(norn_model_pop *mp, const char *where, norn_err *err);
    /* Advance neuron i exactly from t0 to t1 (t0 <= t1) with no input.
     * continuous mode: if V reaches V_th in (t0, t1], stop there, set
     * *t_cross and return 1 (state is at *t_cross); else return 0 (state
     * at t1). grid mode: t0, t1 are on the grid; crossings are tested only
     * at grid points strictly inside (t0, t1) (V >= V_th at a grid point t)
     * and reported at that t; the engine tests t1 itself once every input
     * arriving at t1 has been applied. Never fires while refractory. */
    int (*advance)(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross);
    /* Apply input of weight w at time t (state already at t). */
    void (*input)(norn_model_pop *mp, uint32_t i, double t, double w);
    /* 1 if V >= V_th now (state at t) and not refractory at t. */
    int (*above)(const norn_model_pop *mp, uint32_t i, double t);
    /* Emit bookkeeping: reset and start refractoriness at spike time t. */
    void (*fire)(norn_model_pop *mp, uint32_t i, double t);
    /* Optional (may be NULL): called once the state arrays exist and hold
     * the initial values, before the run starts at t = 0. */
    void (*start)(norn_model_pop *mp);
    /* 1 if, with no more input from state at t, the neuron could still
     * reach threshold (a cheap conservative bound; may say 1 wrongly,
     * never 0 wrongly). */
    int (*may_fire)(const norn_model_pop *mp, uint32_t i, double t);
    /* Optional (may be NULL), grid mode: what advance() to t, input() of
     * the Poisson sum, input() of the synaptic sum (nonzero sums only),
     * then above() and fire() do, for the neurons the step visits, in one
     * pass with one decay factor per step and no indirect calls. Bit for bit
     * the same results. The engine uses it where no advance it replaces
     * has a grid point inside to test: populations it updates every step
     * (Poisson-driven, with no DC stimulus) where no neuron can fire
     * without input (may_fire_is_driven and no neuron driven), and
     * populations whose every neuron is driven (below), or whose model
     * steps on a fixed scheme (fixed_grid), when windows are one step
     * long. */
    uint32_t (*grid_step)(norn_model_pop *mp, const norn_grid_step *g);
    /* Optional: 1 if the constant drive alone holds V_inf at or above
     * threshold, so that may_fire() is 1 from any state, at any time (the
     * engine then advances the neuron every window). */
    int (*driven)(const norn_model_pop *mp, uint32_t i);
    /* 1 if may_fire() is driven(): a neuron that is not driven never
     * reaches threshold without input, whatever its state (iaf_delta; not
     * lif, whose synaptic currents go on pushing after an input) */
    int may_fire_is_driven;
    /* Optional (may be NULL), grid mode: 1 if this population's advance()
     * is a fixed one-step scheme, advancing k steps at once being bit for
     * bit k one-step advances with V >= V_th tested at each grid point, and
     * may_fire() is never 0 wrongly for it. Stepping every neuron every
     * step then gives the spikes of the lazy path, so the engine may step
     * the population whole (grid_step) when windows are one step long
     * (lif_cond with grid_substeps >= 1). */
    int (*fixed_grid)(const norn_model_pop *mp);
    /* Optional (may be NULL), continuous mode: from the state at t0 (the
     * neuron's last time), with no more input, a time before which V cannot
     * reach threshold (a conservative bound: never after the first
     * crossing; t0 when it may cross at once, INFINITY when never). A pure
     * function of the state, so that the engine may keep it until the state
     * changes: it then leaves the neuron out of the window-end sweeps up
     * to that time. */
    double (*quiet_until)(const norn_model_pop *mp, uint32_t i, double t0);
} norn_model_type;

/* quiet_until's common parts. The threshold a bound is held against: V_th
 * less rel of it (rel covers the rounding of V, or an integrator's error). */
static inline double norn__quiet_vth(double vth, double rel) { return vth - rel * (1.0 + fabs(vth)); }

/* Where the bound starts: V at t0, or, refractory, V_reset at the end of
 * refractoriness (*start: that time). */
static inline double norn__quiet_from(const norn_model_pop *mp, uint32_t i, double t0, int v_index, double v_reset,
                                      double *start)
{
    if (mp->ref_until[i] > t0) {
        *start = mp->ref_until[i];
        return v_reset;
    }
    *start = t0;
    return mp->st[v_index][i];
}

/* The bound's time start + s (s >= 0, INFINITY: never), less 1e-12 of s
 * and of start (the rounding of this arithmetic and of the phase), never
 * before t0. */
static inline double norn__quiet_at(double t0, double start, double s)
{
    double q = start + s * (1.0 - 1e-12) - 1e-12 * fmax(1.0, fabs(start));
    return q > t0 ? q : t0;
}

/* Registry (models/registry.c). NULL if unknown. */
const norn_model_type *norn_model_find(const char *name);
/* Comma-separated list of known model names, for "known: ..." messages. */
const char *norn_model_names(void);
size_t norn_model_count(void);
const norn_model_type *norn_model_at(size_t k);
/* Index of a parameter / state variable by name, or -1. */
int norn_model_param_index(const norn_model_type *t, const char *name);
int norn_model_state_index(const norn_model_type *t, const char *name);

#endif
