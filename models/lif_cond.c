/* models/lif_cond.c - conductance-based leaky integrate-and-fire with
 * exponentially decaying conductances, as NEST's iaf_cond_exp.
 *
 *   C_m dV/dt = -g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in) + I_e + I_dc
 *   dg_ex/dt = -g_ex/tau_syn_ex,  dg_in/dt = -g_in/tau_syn_in
 * An input of weight w (nS) adds w to g_ex if w >= 0, else -w to g_in
 * (both conductances stay >= 0, as in NEST). At V >= V_th: spike,
 * V = V_reset, clamped there on (t_s, t_s + t_ref] while the conductances
 * decay and still receive input.
 *
 * Parameters (NEST names and defaults): V_th -55 mV, V_reset -60 mV,
 * t_ref 2 ms, g_L 16.6667 nS, C_m 250 pF, E_ex 0 mV, E_in -85 mV,
 * E_L -70 mV, tau_syn_ex 0.2 ms, tau_syn_in 2 ms, I_e 0 pA.
 * State: V_m (mV, starts at E_L), g_ex, g_in (nS).
 *
 * Integration (models/ode.h): Dormand-Prince 5(4) on V, per-step tolerance
 * 1e-10 relative + 1e-10 mV absolute, step hint kept per neuron; the
 * conductances are propagated exactly (exponentials, also inside the
 * stages). Refractory stretches are closed form (V fixed, g's decay).
 *  - continuous: the first crossing V = V_th on the dense output, located
 *    to 1e-12 ms (never before it), is the spike time.
 *  - grid: integrated grid step by grid step (each grid point is a step
 *    end, so V there is the integrated solution, independent of how the
 *    engine splits the run); V >= V_th tested at grid points, as NEST.
 * Unlike NEST, the right-hand side uses V itself, not min(V, V_th): here V
 * exceeds V_th only between grid points in grid mode, where the ODE as
 * written is what is integrated.
 * may_fire: a rigorous bound. With M = max(V0, E_L + I/g_L, E_in if
 * g_in > 0), V stays below M + g_ex tau_syn_ex (E_ex - M)^+ / C_m for all
 * later times (above M the leak and inhibition only pull down, and
 * excitation can push at most that much in all).
 */
#include <math.h>
#include <string.h>

#include "models/model.h"
#include "models/ode.h"

enum { P_V_TH, P_V_RESET, P_T_REF, P_G_L, P_C_M, P_E_EX, P_E_IN, P_E_L, P_TAU_EX, P_TAU_IN, P_I_E, NP };
enum { S_V, S_GEX, S_GIN, NS, H_STEP = NS, NH = 1 };
enum { C_NREF };

#define RTOL 1e-10
#define ATOL 1e-10
#define EV_TOL 1e-12
#define H_MAX 10.0

static const norn_param_info params[NP] = {
    [P_V_TH] = {"V_th", "mV", -55.0, "spike threshold"},
    [P_V_RESET] = {"V_reset", "mV", -60.0, "reset potential"},
    [P_T_REF] = {"t_ref", "ms", 2.0, "absolute refractory period"},
    [P_G_L] = {"g_L", "nS", 16.6667, "leak conductance"},
    [P_C_M] = {"C_m", "pF", 250.0, "membrane capacitance"},
    [P_E_EX] = {"E_ex", "mV", 0.0, "excitatory reversal potential"},
    [P_E_IN] = {"E_in", "mV", -85.0, "inhibitory reversal potential"},
    [P_E_L] = {"E_L", "mV", -70.0, "leak reversal potential"},
    [P_TAU_EX] = {"tau_syn_ex", "ms", 0.2, "excitatory synaptic time constant"},
    [P_TAU_IN] = {"tau_syn_in", "ms", 2.0, "inhibitory synaptic time constant"},
    [P_I_E] = {"I_e", "pA", 0.0, "constant external current"},
};

static const norn_state_info state[NS] = {
    [S_V] = {"V_m", "mV", "membrane potential", P_E_L},
    [S_GEX] = {"g_ex", "nS", "excitatory conductance", -1},
    [S_GIN] = {"g_in", "nS", "inhibitory conductance", -1},
};

static norn_status compile(norn_model_pop *mp, const char *where, norn_err *err)
{
    const double *p = mp->p;
    static const int pos[] = {P_G_L, P_C_M, P_TAU_EX, P_TAU_IN};
    for (unsigned k = 0; k < sizeof pos / sizeof pos[0]; k++)
        if (!(p[pos[k]] > 0) || !isfinite(p[pos[k]]))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be > 0, got %g", params[pos[k]].name, p[pos[k]]);
    if (!(p[P_T_REF] >= 0) || !isfinite(p[P_T_REF]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.t_ref: must be >= 0, got %g", p[P_T_REF]);
    static const int fin[] = {P_V_TH, P_V_RESET, P_E_EX, P_E_IN, P_E_L, P_I_E};
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
    return NORN_OK;
}

typedef struct {
    const double *p;
    double I; /* I_e + I_dc (pA) */
} rhs_ctx;

static void rhs(const double *y, double *dy, const void *vctx)
{
    const rhs_ctx *c = vctx;
    const double *p = c->p;
    double V = y[S_V];
    dy[S_V] = (-p[P_G_L] * (V - p[P_E_L]) - y[S_GEX] * (V - p[P_E_EX]) - y[S_GIN] * (V - p[P_E_IN]) + c->I) / p[P_C_M];
}

static void make_sys(const norn_model_pop *mp, uint32_t i, rhs_ctx *c, norn_ode_sys *s)
{
    memset(s, 0, sizeof *s);
    c->p = mp->p;
    c->I = mp->p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    s->n = 1; /* V; the conductances decay exactly */
    s->n_decay = 2;
    s->decay_rate[0] = 1.0 / mp->p[P_TAU_EX];
    s->decay_rate[1] = 1.0 / mp->p[P_TAU_IN];
    s->f = rhs;
    s->ctx = c;
    s->rtol = RTOL;
    s->atol[S_V] = ATOL;
    s->h_max = H_MAX;
    s->ev = S_V;
    s->ev_level = mp->p[P_V_TH];
    s->ev_tol = EV_TOL;
}

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    const double *p = mp->p;
    double *v = mp->st[S_V], *ge = mp->st[S_GEX], *gi = mp->st[S_GIN];
    if (mp->ref_until[i] > t0) {
        double te = t1 < mp->ref_until[i] ? t1 : mp->ref_until[i];
        ge[i] *= exp(-(te - t0) / p[P_TAU_EX]);
        gi[i] *= exp(-(te - t0) / p[P_TAU_IN]);
        v[i] = p[P_V_RESET];
        if (t1 <= mp->ref_until[i])
            return 0;
        t0 = mp->ref_until[i];
    }
    if (!(t1 > t0))
        return 0;
    if (v[i] >= p[P_V_TH]) {
        /* above at the start (only after input at the time of a spike with
         * t_ref == 0): it fires now */
        *t_cross = t0;
        return 1;
    }
    rhs_ctx c;
    norn_ode_sys sys;
    make_sys(mp, i, &c, &sys);
    double y[NS] = {v[i], ge[i], gi[i]};
    double *hint = &mp->st[H_STEP][i];
    int hit;
    double tc = t1;
    if (mp->mode == NORN_MODE_GRID) {
        int64_t k0 = norn_grid_index(t0, mp->h), k1 = norn_grid_index(t1, mp->h), kh;
        double s_in;
        hit = norn_ode_grid(&sys, k0, k1, mp->h, 0, y, hint, &kh, &s_in, NULL) == 1;
        if (hit)
            tc = norn_grid_time(kh, mp->h);
    } else {
        double s;
        hit = norn_ode_integrate(&sys, t1 - t0, y, hint, &s, NULL) == 1;
        if (hit)
            tc = s >= t1 - t0 ? t1 : fmin(t0 + s, t1);
    }
    v[i] = y[S_V];
    ge[i] = y[S_GEX];
    gi[i] = y[S_GIN];
    if (hit)
        *t_cross = tc;
    return hit;
}

static void input(norn_model_pop *mp, uint32_t i, double t, double w)
{
    (void)t;
    if (w >= 0)
        mp->st[S_GEX][i] += w;
    else
        mp->st[S_GIN][i] -= w;
}

static int above(const norn_model_pop *mp, uint32_t i, double t)
{
    return t > mp->ref_until[i] && mp->st[S_V][i] >= mp->p[P_V_TH];
}

static void fire(norn_model_pop *mp, uint32_t i, double t)
{
    mp->st[S_V][i] = mp->p[P_V_RESET];
    mp->st[H_STEP][i] = 0; /* the step hint of the upstroke is no guide after the reset */
    if (mp->mode == NORN_MODE_GRID)
        mp->ref_until[i] = norn_grid_time(norn_grid_index(t, mp->h) + (int64_t)mp->c[C_NREF], mp->h);
    else
        mp->ref_until[i] = t + mp->p[P_T_REF];
}

static int may_fire(const norn_model_pop *mp, uint32_t i, double t)
{
    const double *p = mp->p;
    double ge = mp->st[S_GEX][i], gi = mp->st[S_GIN][i];
    if (!(ge >= 0) || !(gi >= 0))
        return 1; /* negative conductances set by hand: no bound */
    double V0 = t < mp->ref_until[i] ? p[P_V_RESET] : mp->st[S_V][i];
    double I = p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    double M = fmax(V0, p[P_E_L] + I / p[P_G_L]);
    if (gi > 0)
        M = fmax(M, p[P_E_IN]);
    double push = ge * p[P_TAU_EX] * fmax(p[P_E_EX] - M, 0.0) / p[P_C_M];
    return !(M + push < p[P_V_TH]);
}

const norn_model_type norn_model_lif_cond = {
    .name = "lif_cond",
    .doc = "leaky integrate-and-fire, exponential conductances (weight in nS), as NEST iaf_cond_exp",
    .input_unit = "nS",
    .n_params = NP,
    .params = params,
    .n_state = NS,
    .state = state,
    .n_hidden = NH,
    .v_index = S_V,
    .n_channels = 2,
    .compile = compile,
    .advance = advance,
    .input = input,
    .above = above,
    .fire = fire,
    .may_fire = may_fire,
};
