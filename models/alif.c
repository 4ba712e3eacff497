/* models/alif.c - adaptive-threshold leaky integrate-and-fire: lif (NEST's
 * iaf_psc_exp, exponential synaptic currents) whose threshold jumps at
 * every spike and relaxes back exponentially.
 *
 *   dV/dt = -(V - E_L)/tau_m + (I_ex + I_in + I_e + I_dc)/C_m
 *   dI_ex/dt = -I_ex/tau_syn_ex,  dI_in/dt = -I_in/tau_syn_in
 *   dtheta/dt = -theta/tau_theta
 *   spike when V >= V_th + theta (not refractory); then V = V_reset,
 *   theta += q_theta, V clamped to V_reset on (t_s, t_s + t_ref].
 * An input of weight w (pA) adds to I_ex if w >= 0, else to I_in. While
 * refractory the currents and theta go on and still receive input.
 *
 * Parameters: as lif (iaf_psc_exp defaults: tau_m 10 ms, tau_syn_ex 2 ms,
 * tau_syn_in 2 ms, C_m 250 pF, E_L -70 mV, V_th -55 mV, V_reset -70 mV,
 * t_ref 2 ms, I_e 0 pA), plus
 *   tau_theta (ms, default 100): time constant of the threshold's decay;
 *   q_theta  (mV, default 2, >= 0): threshold jump per spike.
 * State: V_m (mV), I_syn_ex, I_syn_in (pA), theta (mV, starts at 0; the
 * threshold is V_th + theta).
 *
 * Exact: between events every variable is a sum of exponentials (lif.c's
 * closed form for V; theta(s) = theta0 e^{-s/tau_theta}). The crossing is
 * the first root of g(s) = V(s) - V_th - theta(s), found as in lif.c by
 * interval subdivision with a rigorous upper bound of g on each interval
 * (each term's exact maximum there: the V_inf and theta terms are monotone,
 * each K is unimodal with a known peak), then bisection to 1e-15 relative
 * in time. No crossing is missed unless it lasts less than that; none is
 * reported late. Grid mode: the threshold is tested at grid points (the
 * first grid point after each excursion above it), spikes stamped there.
 */
#include <math.h>

#include "models/model.h"
#include "models/psc_exp.h"

enum { P_TAU_M, P_TAU_EX, P_TAU_IN, P_C_M, P_E_L, P_V_TH, P_V_RESET, P_T_REF, P_I_E, P_TAU_TH, P_Q_TH, NP };
enum { S_V, S_IEX, S_IIN, S_TH, NS };
/* constants in mp->c */
enum { C_R, C_AEX, C_AIN, C_KMAX_EX, C_KMAX_IN, C_SPK_EX, C_SPK_IN, C_NREF };
/* the layout models/psc_exp.h's shared advance reads */
_Static_assert((int)P_I_E == (int)NORN__PSC_I_E && (int)P_V_RESET == (int)NORN__PSC_V_RESET && (int)S_IIN == (int)NORN__PSC_S_IIN &&
                   (int)C_SPK_IN == (int)NORN__PSC_C_SPK_IN,
               "alif follows psc_exp.h's layout");
_Static_assert((int)P_TAU_TH == (int)NORN__PSC_TAU_TH && (int)S_TH == (int)NORN__PSC_S_TH, "alif extends psc_exp.h's layout");

static const norn_param_info params[NP] = {
    [P_TAU_M] = {"tau_m", "ms", 10.0, "membrane time constant"},
    [P_TAU_EX] = {"tau_syn_ex", "ms", 2.0, "excitatory synaptic time constant"},
    [P_TAU_IN] = {"tau_syn_in", "ms", 2.0, "inhibitory synaptic time constant"},
    [P_C_M] = {"C_m", "pF", 250.0, "membrane capacitance"},
    [P_E_L] = {"E_L", "mV", -70.0, "resting potential"},
    [P_V_TH] = {"V_th", "mV", -55.0, "spike threshold without adaptation"},
    [P_V_RESET] = {"V_reset", "mV", -70.0, "reset potential"},
    [P_T_REF] = {"t_ref", "ms", 2.0, "absolute refractory period"},
    [P_I_E] = {"I_e", "pA", 0.0, "constant external current"},
    [P_TAU_TH] = {"tau_theta", "ms", 100.0, "decay time constant of the threshold adaptation"},
    [P_Q_TH] = {"q_theta", "mV", 2.0, "threshold increase per spike (>= 0)"},
};

static const norn_state_info state[NS] = {
    [S_V] = {"V_m", "mV", "membrane potential", P_E_L},
    [S_IEX] = {"I_syn_ex", "pA", "excitatory synaptic current", -1},
    [S_IIN] = {"I_syn_in", "pA", "inhibitory synaptic current", -1},
    [S_TH] = {"theta", "mV", "threshold adaptation (threshold is V_th + theta)", -1},
};

static norn_status compile(norn_model_pop *mp, const char *where, norn_err *err)
{
    const double *p = mp->p;
    static const int pos[] = {P_TAU_M, P_TAU_EX, P_TAU_IN, P_C_M, P_TAU_TH};
    for (unsigned k = 0; k < sizeof pos / sizeof pos[0]; k++)
        if (!(p[pos[k]] > 0) || !isfinite(p[pos[k]]))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be > 0, got %g", params[pos[k]].name, p[pos[k]]);
    if (!(p[P_T_REF] >= 0) || !isfinite(p[P_T_REF]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.t_ref: must be >= 0, got %g", p[P_T_REF]);
    if (!(p[P_Q_TH] >= 0) || !isfinite(p[P_Q_TH]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.q_theta: must be >= 0, got %g", p[P_Q_TH]);
    static const int fin[] = {P_E_L, P_V_TH, P_V_RESET, P_I_E};
    for (unsigned k = 0; k < sizeof fin / sizeof fin[0]; k++)
        if (!isfinite(p[fin[k]]))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be finite, got %g", params[fin[k]].name,
                             p[fin[k]]);
    if (!(p[P_V_RESET] < p[P_V_TH]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.V_reset: must be below V_th (%g), got %g", p[P_V_TH],
                         p[P_V_RESET]);
    if (mp->mode == NORN_MODE_GRID) {
        double steps = p[P_T_REF] / mp->h;
        if (fabs(steps - nearbyint(steps)) > 1e-9 * fmax(1.0, steps))
            return NORN_FAIL(err, NORN_EINVAL, where,
                             "params.t_ref: %g ms is not a multiple of the resolution %g ms (grid mode)", p[P_T_REF],
                             mp->h);
        mp->c[C_NREF] = nearbyint(steps);
    }
    double tm = p[P_TAU_M];
    mp->c[C_R] = tm / p[P_C_M];
    norn__psc_channel(tm, p[P_TAU_EX], &mp->c[C_AEX], &mp->c[C_SPK_EX], &mp->c[C_KMAX_EX]);
    norn__psc_channel(tm, p[P_TAU_IN], &mp->c[C_AIN], &mp->c[C_SPK_IN], &mp->c[C_KMAX_IN]);
    norn__psc_cache_clear(mp);
    return NORN_OK;
}

typedef norn__psc_traj traj;

static inline void make_traj(const norn_model_pop *mp, uint32_t i, traj *g) { norn__psc_make_traj(mp, i, g, 1); }

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    return norn__psc_advance(mp, i, t0, t1, t_cross, 1);
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
    return t > mp->ref_until[i] && mp->st[S_V][i] >= mp->p[P_V_TH] + mp->st[S_TH][i];
}

static void fire(norn_model_pop *mp, uint32_t i, double t)
{
    mp->st[S_V][i] = mp->p[P_V_RESET];
    mp->st[S_TH][i] += mp->p[P_Q_TH];
    if (mp->mode == NORN_MODE_GRID)
        mp->ref_until[i] = norn_grid_time(norn_grid_index(t, mp->h) + (int64_t)mp->c[C_NREF], mp->h);
    else
        norn__psc_fire_continuous(mp, i, t, mp->p[P_T_REF]);
}

/* quiet_until (continuous): lif's, against the lowest the threshold goes:
 * theta decays toward 0 from where it is, so V_th + min(theta, 0). */
static double quiet_until(const norn_model_pop *mp, uint32_t i, double t0)
{
    double th = mp->st[S_TH][i];
    return th == th ? norn__psc_quiet_until(mp, i, t0, th < 0 ? th : 0.0) : t0;
}

/* V's bound as lif's; the threshold never goes below V_th + min(theta, 0). */
static int may_fire(const norn_model_pop *mp, uint32_t i, double t)
{
    traj g;
    make_traj(mp, i, &g);
    if (t < mp->ref_until[i])
        g.dv = mp->p[P_V_RESET] - g.vinf;
    double ub = g.vinf + fmax(g.dv, 0.0);
    if (g.qe > 0)
        ub += g.qe * g.kmax_e;
    if (g.qi > 0)
        ub += g.qi * g.kmax_i;
    return ub >= mp->p[P_V_TH] + fmin(g.th, 0.0);
}

const norn_model_type norn_model_alif = {
    .name = "alif",
    .doc = "leaky integrate-and-fire with adaptive threshold (jump q_theta, decay tau_theta), "
           "exponential synaptic currents (weight in pA)",
    .input_unit = "pA",
    .n_params = NP,
    .params = params,
    .n_state = NS,
    .state = state,
    .n_hidden = 1, /* the phase (models/psc_exp.h) */
    .v_index = S_V,
    .n_channels = 2,
    .compile = compile,
    .advance = advance,
    .input = input,
    .above = above,
    .fire = fire,
    .may_fire = may_fire,
    .quiet_until = quiet_until,
};
