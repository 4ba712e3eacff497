/* models/iaf_delta.c - leaky integrate-and-fire with delta synapses, as
 * NEST's iaf_psc_delta (grid) and iaf_psc_delta_ps (continuous).
 *
 *   dV/dt = -(V - E_L)/tau_m + (I_e + I_dc)/C_m;  an input of weight w (mV)
 *   makes V jump by w, then V = max(V, V_min). Inputs arriving while
 *   refractory, on (t_spike, t_spike + t_ref], are dropped (NEST default).
 *   At V >= V_th: spike, V = V_reset, clamped for t_ref.
 *
 * Between events V relaxes exponentially to V_inf = E_L + (I_e+I_dc) tau_m/C_m,
 * so the drift crossing time is closed form:
 *   t* = tau_m ln((V0 - V_inf)/(V_th - V_inf))  (only if V_inf > V_th).
 *
 * Cost: the decay over (t0, t1] is E(t1) / E(t0) with one clock
 * E(t) = exp(-(t - base)/tau_m) per population, cached by time, and 1/E of
 * the time each neuron's V was last set kept per neuron (hidden array
 * H_E), so an advance is two multiplications. All targets of one spike share the arrival time, so delivering a
 * spike to a thousand neurons costs one exp, not a thousand. The base is
 * moved forward (and the per-neuron values rescaled) before E underflows.
 */
#include <math.h>
#include <string.h>

#include "models/model.h"

enum { P_TAU_M, P_C_M, P_E_L, P_V_TH, P_V_RESET, P_T_REF, P_I_E, P_V_MIN, NP };
enum { S_V, NS, H_E = NS, NH = 1 };
/* constants in mp->c: R = tau_m / C_m (mV per pA), 1/tau_m, and the cache
 * of the decay clock E(t) = exp(-(t - base) / tau_m) */
enum { C_R, C_INV_TAU, C_BASE, C_NREF };

static const norn_param_info params[NP] = {
    [P_TAU_M] = {"tau_m", "ms", 10.0, "membrane time constant"},
    [P_C_M] = {"C_m", "pF", 250.0, "membrane capacitance"},
    [P_E_L] = {"E_L", "mV", -70.0, "resting potential"},
    [P_V_TH] = {"V_th", "mV", -55.0, "spike threshold"},
    [P_V_RESET] = {"V_reset", "mV", -70.0, "reset potential"},
    [P_T_REF] = {"t_ref", "ms", 2.0, "absolute refractory period"},
    [P_I_E] = {"I_e", "pA", 0.0, "constant external current"},
    [P_V_MIN] = {"V_min", "mV", -INFINITY, "lower bound of V (none by default)"},
};

static const norn_state_info state[NS] = {
    [S_V] = {"V_m", "mV", "membrane potential", P_E_L},
};

static norn_status compile(norn_model_pop *mp, const char *where, norn_err *err)
{
    const double *p = mp->p;
    if (!(p[P_TAU_M] > 0) || !isfinite(p[P_TAU_M]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.tau_m: must be > 0, got %g", p[P_TAU_M]);
    if (!(p[P_C_M] > 0) || !isfinite(p[P_C_M]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.C_m: must be > 0, got %g", p[P_C_M]);
    if (!(p[P_T_REF] >= 0) || !isfinite(p[P_T_REF]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.t_ref: must be >= 0, got %g", p[P_T_REF]);
    if (!isfinite(p[P_E_L]) || !isfinite(p[P_V_TH]) || !isfinite(p[P_V_RESET]) || !isfinite(p[P_I_E]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params: E_L, V_th, V_reset and I_e must be finite");
    if (!(p[P_V_RESET] < p[P_V_TH]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.V_reset: must be below V_th (%g), got %g",
                         p[P_V_TH], p[P_V_RESET]);
    if (!(p[P_V_MIN] <= p[P_V_RESET]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.V_min: must be <= V_reset, got %g", p[P_V_MIN]);
    if (mp->mode == NORN_MODE_GRID) {
        double steps = p[P_T_REF] / mp->h;
        if (fabs(steps - nearbyint(steps)) > 1e-9 * fmax(1.0, steps))
            return NORN_FAIL(err, NORN_EINVAL, where,
                             "params.t_ref: %g ms is not a multiple of the resolution %g ms (grid mode)",
                             p[P_T_REF], mp->h);
        mp->c[C_NREF] = nearbyint(steps);
    }
    mp->c[C_R] = p[P_TAU_M] / p[P_C_M];
    mp->c[C_INV_TAU] = 1.0 / p[P_TAU_M];
    mp->c[C_BASE] = 0.0;
    return NORN_OK;
}

#define CACHE_SLOTS 32 /* (t, E, 1/E) triples in mp->cache; a power of two (a mask, not a division) */

static void clear_cache(norn_model_pop *mp)
{
    for (int k = 0; k < CACHE_SLOTS; k++) {
        mp->cache[3 * k] = NAN; /* never equal to a time */
        mp->cache[3 * k + 1] = 0.0;
        mp->cache[3 * k + 2] = 0.0;
    }
}

static void start(norn_model_pop *mp)
{
    double *e = mp->st[H_E];
    for (uint32_t i = 0; i < mp->n; i++)
        e[i] = 1.0; /* 1/E(0) with base 0 */
    mp->c[C_BASE] = 0.0;
    clear_cache(mp);
}


/* The decay clock at t (t never earlier than base): E(t) and 1/E(t),
 * through a direct-mapped cache keyed by the bits of t: the targets of one
 * spike, and the grid steps of a window, share their times. */
typedef struct {
    double e, inv;
} clock_val;

static inline clock_val clock_at(norn_model_pop *mp, double t)
{
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    unsigned slot = (unsigned)(((bits * 0x9e3779b97f4a7c15ULL) >> 32) & (CACHE_SLOTS - 1));
    double *c = mp->cache + 3 * slot;
    if (c[0] == t)
        return (clock_val){c[1], c[2]};
    double e = exp(-(t - mp->c[C_BASE]) * mp->c[C_INV_TAU]);
    if (e < 1e-150) {
        /* rebase at t: every stored inverse clock is multiplied by E(t) */
        double *h = mp->st[H_E];
        for (uint32_t k = 0; k < mp->n; k++)
            h[k] *= e;
        mp->c[C_BASE] = t;
        clear_cache(mp);
        e = 1.0;
    }
    c[0] = t;
    c[1] = e;
    c[2] = 1.0 / e;
    return (clock_val){c[1], c[2]};
}

static inline double v_inf(const norn_model_pop *mp, uint32_t i)
{
    double I = mp->p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    return mp->p[P_E_L] + I * mp->c[C_R];
}

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    double *v = mp->st[S_V], *h = mp->st[H_E];
    const double tau = mp->p[P_TAU_M], vth = mp->p[P_V_TH];
    if (mp->ref_until[i] > t0) {
        if (t1 <= mp->ref_until[i]) {
            v[i] = mp->p[P_V_RESET];
            h[i] = clock_at(mp, t1).inv;
            return 0;
        }
        t0 = mp->ref_until[i];
        v[i] = mp->p[P_V_RESET];
        h[i] = clock_at(mp, t0).inv;
    }
    if (t1 <= t0)
        return 0;
    double vinf = v_inf(mp, i), v0 = v[i];
    if (vinf > vth && v0 < vth) {
        double ts = t0 + tau * log((v0 - vinf) / (vth - vinf));
        if (mp->mode == NORN_MODE_GRID) {
            /* threshold tested at grid points only, after t0 */
            double g = norn_grid_ceil(ts, mp->h);
            if (g <= t0)
                g = norn_grid_ceil(t0 + 0.5 * mp->h, mp->h);
            for (;;) {
                if (g >= t1)
                    break; /* t1 itself is tested by the engine after its inputs */
                clock_val e = clock_at(mp, g);
                double vg = vinf + (v0 - vinf) * (e.e * h[i]);
                if (vg >= vth) {
                    v[i] = vg;
                    h[i] = e.inv;
                    *t_cross = g;
                    return 1;
                }
                g = norn_grid_ceil(g + 0.5 * mp->h, mp->h);
            }
        } else if (ts <= t1) {
            v[i] = vth;
            h[i] = clock_at(mp, ts > t0 ? ts : t0).inv;
            *t_cross = ts > t0 ? ts : t0;
            return 1;
        }
    }
    clock_val e = clock_at(mp, t1);
    v[i] = vinf + (v0 - vinf) * (e.e * h[i]);
    h[i] = e.inv;
    return 0;
}

static void input(norn_model_pop *mp, uint32_t i, double t, double w)
{
    if (t <= mp->ref_until[i])
        return; /* dropped while refractory */
    double *v = mp->st[S_V];
    double x = v[i] + w;
    v[i] = x < mp->p[P_V_MIN] ? mp->p[P_V_MIN] : x;
}

static int above(const norn_model_pop *mp, uint32_t i, double t)
{
    return t > mp->ref_until[i] && mp->st[S_V][i] >= mp->p[P_V_TH];
}

static void fire(norn_model_pop *mp, uint32_t i, double t)
{
    mp->st[S_V][i] = mp->p[P_V_RESET];
    /* grid: the end of refractoriness is a grid time, made as every grid time is */
    if (mp->mode == NORN_MODE_GRID)
        mp->ref_until[i] = norn_grid_time(norn_grid_index(t, mp->h) + (int64_t)mp->c[C_NREF], mp->h);
    else
        mp->ref_until[i] = t + mp->p[P_T_REF];
}

/* advance() + input() + above() + fire() for a whole step, for neurons
 * that cannot cross threshold without input (V_inf <= V_th): the decay
 * from a neuron's last time is E(t) * (its 1/E), as advance() makes it. */
static uint32_t grid_step(norn_model_pop *mp, const norn_grid_step *g)
{
    double *v = mp->st[S_V], *h = mp->st[H_E], *ru = mp->ref_until, *tl = g->t_last;
    double *acc = g->acc, *pin = g->pin;
    uint8_t *flags = g->flags;
    const double t = g->t, vth = mp->p[P_V_TH], vreset = mp->p[P_V_RESET], vmin = mp->p[P_V_MIN];
    const double vinf = mp->p[P_E_L] + mp->p[P_I_E] * mp->c[C_R]; /* v_inf() without DC */
    const int all = g->all, test = g->test;
    const clock_val e = clock_at(mp, t);
    uint32_t nf = 0;
    for (uint32_t i = 0, n = mp->n; i < n; i++) {
        unsigned f = flags[i];
        if (!f && !all)
            continue;
        if (tl[i] < t) {
            if (ru[i] > tl[i]) {
                if (t <= ru[i]) {
                    v[i] = vreset;
                } else {
                    double hr = clock_at(mp, ru[i]).inv;
                    v[i] = vinf + (vreset - vinf) * (e.e * hr);
                }
            } else {
                v[i] = vinf + (v[i] - vinf) * (e.e * h[i]);
            }
            h[i] = e.inv;
            tl[i] = t;
        }
        if (f) {
            int open = t > ru[i]; /* input while refractory is dropped */
            if ((f & 2) && pin[i] != 0.0 && open) {
                double x = v[i] + pin[i];
                v[i] = x < vmin ? vmin : x;
            }
            if ((f & 1) && acc[i] != 0.0 && open) {
                double x = v[i] + acc[i];
                v[i] = x < vmin ? vmin : x;
            }
            pin[i] = 0.0;
            acc[i] = 0.0;
            flags[i] = 0;
        }
        if (test && t > ru[i] && v[i] >= vth) {
            fire(mp, i, t);
            g->fired[nf++] = i;
        }
    }
    return nf;
}

static int may_fire(const norn_model_pop *mp, uint32_t i, double t)
{
    (void)t;
    return v_inf(mp, i) > mp->p[P_V_TH];
}

const norn_model_type norn_model_iaf_delta = {
    .name = "iaf_delta",
    .doc = "leaky integrate-and-fire, delta synapses (weight in mV), as NEST iaf_psc_delta",
    .input_unit = "mV",
    .n_params = NP,
    .params = params,
    .n_state = NS,
    .state = state,
    .n_hidden = NH,
    .start = start,
    .v_index = S_V,
    .n_channels = 1,
    .compile = compile,
    .advance = advance,
    .input = input,
    .above = above,
    .fire = fire,
    .may_fire = may_fire,
    .grid_step = grid_step,
};
