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

#include "models/iaf_delta.h"

/* the header's names, short */
enum { P_TAU_M = NORN__IAFD_TAU_M, P_C_M = NORN__IAFD_C_M, P_E_L = NORN__IAFD_E_L, P_V_TH = NORN__IAFD_V_TH,
       P_V_RESET = NORN__IAFD_V_RESET, P_T_REF = NORN__IAFD_T_REF, P_I_E = NORN__IAFD_I_E,
       P_V_MIN = NORN__IAFD_V_MIN, NP = NORN__IAFD_NP };
enum { S_V = NORN__IAFD_S_V, NS = NORN__IAFD_NS, H_E = NORN__IAFD_H_E, NH = NORN__IAFD_NH };
enum { C_R = NORN__IAFD_C_R, C_INV_TAU = NORN__IAFD_C_INV_TAU, C_BASE = NORN__IAFD_C_BASE,
       C_NREF = NORN__IAFD_C_NREF };

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

static void start(norn_model_pop *mp)
{
    double *e = mp->st[H_E];
    for (uint32_t i = 0; i < mp->n; i++)
        e[i] = 1.0; /* 1/E(0) with base 0 */
    mp->c[C_BASE] = 0.0;
    norn__iafd_clear_cache(mp);
}

typedef norn__iafd_clock clock_val;
#define clock_at norn__iafd_clock_at

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    return norn__iafd_advance(mp, i, t0, t1, t_cross);
}

static void input(norn_model_pop *mp, uint32_t i, double t, double w) { norn__iafd_input(mp, i, t, w); }

static int above(const norn_model_pop *mp, uint32_t i, double t) { return norn__iafd_above(mp, i, t); }

static void fire(norn_model_pop *mp, uint32_t i, double t) { norn__iafd_fire(mp, i, t); }

static double v_inf(const norn_model_pop *mp, uint32_t i) { return norn__iafd_v_inf(mp, i); }

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
    for (uint32_t i = g->lo, n = g->hi; i < n; i++) {
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

static int driven(const norn_model_pop *mp, uint32_t i) { return v_inf(mp, i) > mp->p[P_V_TH]; }

/* quiet_until (models/model.h; continuous): from V0 (V_reset at the end of
 * refractoriness) V relaxes to V_inf; it reaches V_th only where V_inf is
 * above, at tau_m ln((V0 - V_inf) / (V_th - V_inf)). Against V_th less 1e-9
 * of it, less 1e-12 of the result: the rounding of V and of the phase. */
static double quiet_until(const norn_model_pop *mp, uint32_t i, double t0)
{
    const double *p = mp->p;
    const double vth = norn__quiet_vth(p[P_V_TH], 1e-9), vinf = v_inf(mp, i);
    double start, v0 = norn__quiet_from(mp, i, t0, S_V, p[P_V_RESET], &start);
    if (!(v0 < vth)) /* also NaN */
        return t0;
    if (!(vinf > vth))
        return INFINITY; /* V stays below max(V0, V_inf) */
    return norn__quiet_at(t0, start, p[P_TAU_M] * log((v0 - vinf) / (vth - vinf)));
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
    .driven = driven,
    .may_fire_is_driven = 1,
    .quiet_until = quiet_until,
};
