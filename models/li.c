/* models/li.c - leaky integrator readout: lif (NEST's iaf_psc_exp) without
 * threshold and reset; it never spikes. For readout layers and probes.
 *
 *   dV/dt = -(V - E_L)/tau_m + (I_ex + I_in + I_e + I_dc)/C_m
 *   dI_ex/dt = -I_ex/tau_syn_ex,  dI_in/dt = -I_in/tau_syn_in
 * An input of weight w (pA) adds to I_ex if w >= 0, else to I_in.
 *
 * Parameters (NEST spelling, iaf_psc_exp defaults): tau_m 10 ms,
 * tau_syn_ex 2 ms, tau_syn_in 2 ms, C_m 250 pF, E_L -70 mV, I_e 0 pA.
 * State: V_m (mV, starts at E_L), I_syn_ex, I_syn_in (pA).
 *
 * Exact propagation over s, the same closed form as lif.c:
 *   V(s) = V_inf + (V0 - V_inf) e^{-s/tau_m} + (Ie/C) K_ex(s) + (Ii/C) K_in(s)
 *   K(s) = (e^{-s/tau_m} - e^{-s/tau_syn}) / (1/tau_syn - 1/tau_m)
 *        = s e^{-s/tau_m} (1 - e^{-x})/x,  x = s (1/tau_syn - 1/tau_m),
 * the second form for |x| < 0.5 (exact through tau_syn == tau_m).
 * Same in both modes (no threshold to test). above() and may_fire() are
 * always 0, so the engine never sweeps it: it is advanced only when input
 * or a recorder reaches it.
 */
#include <math.h>

#include "models/model.h"
#include "models/psc_exp.h"

enum { P_TAU_M, P_TAU_EX, P_TAU_IN, P_C_M, P_E_L, P_I_E, NP };
enum { S_V, S_IEX, S_IIN, NS };
enum { C_R, C_AEX, C_AIN };

static const norn_param_info params[NP] = {
    [P_TAU_M] = {"tau_m", "ms", 10.0, "membrane time constant"},
    [P_TAU_EX] = {"tau_syn_ex", "ms", 2.0, "excitatory synaptic time constant"},
    [P_TAU_IN] = {"tau_syn_in", "ms", 2.0, "inhibitory synaptic time constant"},
    [P_C_M] = {"C_m", "pF", 250.0, "membrane capacitance"},
    [P_E_L] = {"E_L", "mV", -70.0, "resting potential"},
    [P_I_E] = {"I_e", "pA", 0.0, "constant external current"},
};

static const norn_state_info state[NS] = {
    [S_V] = {"V_m", "mV", "membrane potential", P_E_L},
    [S_IEX] = {"I_syn_ex", "pA", "excitatory synaptic current", -1},
    [S_IIN] = {"I_syn_in", "pA", "inhibitory synaptic current", -1},
};

static norn_status compile(norn_model_pop *mp, const char *where, norn_err *err)
{
    const double *p = mp->p;
    static const int pos[] = {P_TAU_M, P_TAU_EX, P_TAU_IN, P_C_M};
    for (unsigned k = 0; k < sizeof pos / sizeof pos[0]; k++)
        if (!(p[pos[k]] > 0) || !isfinite(p[pos[k]]))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be > 0, got %g", params[pos[k]].name, p[pos[k]]);
    if (!isfinite(p[P_E_L]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.E_L: must be finite, got %g", p[P_E_L]);
    if (!isfinite(p[P_I_E]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.I_e: must be finite, got %g", p[P_I_E]);
    mp->c[C_R] = p[P_TAU_M] / p[P_C_M];
    mp->c[C_AEX] = 1.0 / p[P_TAU_EX] - 1.0 / p[P_TAU_M];
    mp->c[C_AIN] = 1.0 / p[P_TAU_IN] - 1.0 / p[P_TAU_M];
    return NORN_OK;
}

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    (void)t_cross;
    if (!(t1 > t0))
        return 0;
    const double *p = mp->p;
    double s = t1 - t0;
    double I = p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    double vinf = p[P_E_L] + I * mp->c[C_R];
    double em = exp(-s / p[P_TAU_M]);
    double ee = exp(-s / p[P_TAU_EX]), ei = exp(-s / p[P_TAU_IN]);
    double *v = mp->st[S_V], *ie = mp->st[S_IEX], *ii = mp->st[S_IIN];
    v[i] = vinf + (v[i] - vinf) * em + ie[i] / p[P_C_M] * norn__psc_kernel(s, em, ee, mp->c[C_AEX]) +
           ii[i] / p[P_C_M] * norn__psc_kernel(s, em, ei, mp->c[C_AIN]);
    ie[i] *= ee;
    ii[i] *= ei;
    return 0;
}

static void input(norn_model_pop *mp, uint32_t i, double t, double w)
{
    (void)t;
    if (w >= 0)
        mp->st[S_IEX][i] += w;
    else
        mp->st[S_IIN][i] += w;
}

static int above(const norn_model_pop *mp, uint32_t i, double t)
{
    (void)mp, (void)i, (void)t;
    return 0;
}

static void fire(norn_model_pop *mp, uint32_t i, double t)
{
    (void)mp, (void)i, (void)t; /* never called: above() is always 0 */
}

static int may_fire(const norn_model_pop *mp, uint32_t i, double t)
{
    (void)mp, (void)i, (void)t;
    return 0;
}

const norn_model_type norn_model_li = {
    .name = "li",
    .doc = "leaky integrator readout (never spikes), exponential synaptic currents (weight in pA)",
    .input_unit = "pA",
    .n_params = NP,
    .params = params,
    .n_state = NS,
    .state = state,
    .v_index = S_V,
    .n_channels = 2,
    .compile = compile,
    .advance = advance,
    .input = input,
    .above = above,
    .fire = fire,
    .may_fire = may_fire,
};
