/* models/izhikevich.c - Izhikevich (2003) neuron, as NEST's izhikevich,
 * integrated to a stated tolerance instead of NEST's one forward-Euler
 * step per resolution step.
 *
 *   dV/dt = 0.04 V^2 + 5 V + 140 - U + I_e + I_dc
 *   dU/dt = a (b V - U)
 *   at V >= V_th: spike, V = c, U = U + d (no refractoriness).
 * An input of weight w (mV) makes V jump by w; then V = max(V, V_min).
 * V_min also bounds the flow (dV/dt is set to 0 where V <= V_min and it
 * would fall; inactive with the default -inf).
 *
 * Parameters (NEST names, defaults): a 0.02, b 0.2, c -65 mV, d 8,
 * I_e 0 pA (NEST's unit; it enters dV/dt as mV/ms), V_th 30 mV,
 * V_min -inf mV. c < V_th and V_min <= c are required.
 * State: V_m (mV; starts at c, i.e. NEST's -65 by default), U_m (starts
 * at 0 as in NEST).
 *
 * Integration (models/ode.h): Dormand-Prince 5(4), per-step tolerance
 * 1e-10 relative + 1e-10 absolute on V and U, step hint per neuron.
 * Beyond threshold V diverges in finite time, so the threshold is found on
 * the continuous trajectory in both modes:
 *  - continuous: the first crossing V = V_th on the dense output, located
 *    to 1e-12 ms (never before it), is the spike time;
 *  - grid: integrated grid step by grid step; reaching V_th anywhere in a
 *    step (k h, (k+1) h] makes the spike at (k+1) h, as NEST stamps spikes
 *    at the end of the step. Between the crossing and that grid point V is
 *    held at V_th (the upstroke) while U follows dU/dt = a (b V_th - U)
 *    exactly; the reset is at the grid point. (NEST's Euler step instead
 *    evaluates the whole step from its start.)
 * may_fire: 0 only when a trapping box around (V, U) below V_th is found
 * (norn_ode_plane_trapped: rigorous, for a >= 0), e.g. near the rest
 * state; otherwise 1, and the engine sweeps the neuron every window.
 */
#include <math.h>
#include <string.h>

#include "models/model.h"
#include "models/ode.h"

enum { P_A, P_B, P_C, P_D, P_I_E, P_V_TH, P_V_MIN, NP };
enum { S_V, S_U, NS, H_STEP = NS, NH = 1 };

#define RTOL 1e-10
#define ATOL 1e-10
#define EV_TOL 1e-12
#define H_MAX 10.0

static const norn_param_info params[NP] = {
    [P_A] = {"a", "1", 0.02, "time scale of the recovery variable (1/ms)"},
    [P_B] = {"b", "1", 0.2, "sensitivity of the recovery variable to V"},
    [P_C] = {"c", "mV", -65.0, "after-spike reset value of V_m"},
    [P_D] = {"d", "1", 8.0, "after-spike increment of U_m"},
    [P_I_E] = {"I_e", "pA", 0.0, "constant external current (enters dV/dt as mV/ms)"},
    [P_V_TH] = {"V_th", "mV", 30.0, "spike threshold"},
    [P_V_MIN] = {"V_min", "mV", -INFINITY, "lower bound of V_m (none by default)"},
};

static const norn_state_info state[NS] = {
    [S_V] = {"V_m", "mV", "membrane potential", P_C},
    [S_U] = {"U_m", "1", "membrane recovery variable", -1},
};

static norn_status compile(norn_model_pop *mp, const char *where, norn_err *err)
{
    const double *p = mp->p;
    static const int fin[] = {P_A, P_B, P_C, P_D, P_I_E, P_V_TH};
    for (unsigned k = 0; k < sizeof fin / sizeof fin[0]; k++)
        if (!isfinite(p[fin[k]]))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be finite, got %g", params[fin[k]].name,
                             p[fin[k]]);
    if (!(p[P_C] < p[P_V_TH]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.c: the reset must be below V_th (%g), got %g", p[P_V_TH],
                         p[P_C]);
    if (isnan(p[P_V_MIN]) || !(p[P_V_MIN] <= p[P_C]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.V_min: must be <= c (%g), got %g", p[P_C], p[P_V_MIN]);
    return NORN_OK;
}

typedef struct {
    double a, b, I, vmin;
} rhs_ctx;

static void rhs(const double *y, double *dy, const void *vctx)
{
    const rhs_ctx *c = vctx;
    double v = y[S_V], u = y[S_U];
    double dv = 0.04 * v * v + 5.0 * v + 140.0 - u + c->I;
    if (v <= c->vmin && dv < 0)
        dv = 0;
    dy[S_V] = dv;
    dy[S_U] = c->a * (c->b * v - u);
}

static void make_sys(const norn_model_pop *mp, uint32_t i, rhs_ctx *c, norn_ode_sys *s)
{
    memset(s, 0, sizeof *s);
    const double *p = mp->p;
    c->a = p[P_A];
    c->b = p[P_B];
    c->I = p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    c->vmin = p[P_V_MIN];
    s->n = NS;
    s->f = rhs;
    s->ctx = c;
    s->rtol = RTOL;
    s->atol[S_V] = ATOL;
    s->atol[S_U] = ATOL;
    s->h_max = H_MAX;
    s->ev = S_V;
    s->ev_level = p[P_V_TH];
    s->ev_tol = EV_TOL;
}

/* V held at V_th for tau ms after a crossing inside a grid step. */
static void hold(const norn_model_pop *mp, double *y, double tau)
{
    double a = mp->p[P_A], uinf = mp->p[P_B] * mp->p[P_V_TH];
    y[S_V] = mp->p[P_V_TH];
    if (tau > 0)
        y[S_U] = uinf + (y[S_U] - uinf) * exp(-a * tau);
}

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    if (!(t1 > t0))
        return 0;
    double *v = mp->st[S_V], *u = mp->st[S_U];
    if (v[i] >= mp->p[P_V_TH]) {
        /* above at the start (input at the time of a spike): fires now */
        *t_cross = t0;
        return 1;
    }
    rhs_ctx c;
    norn_ode_sys sys;
    make_sys(mp, i, &c, &sys);
    double y[NS] = {v[i], u[i]};
    double *hint = &mp->st[H_STEP][i];
    int hit = 0;
    double tc = t1;
    if (mp->mode == NORN_MODE_GRID) {
        int64_t k0 = norn_grid_index(t0, mp->h), k1 = norn_grid_index(t1, mp->h), kh;
        double s_in;
        if (norn_ode_grid(&sys, k0, k1, mp->h, 1, y, hint, &kh, &s_in, NULL) == 1) {
            double ga = norn_grid_time(kh - 1, mp->h), gb = norn_grid_time(kh, mp->h);
            hold(mp, y, (gb - ga) - s_in);
            if (kh < k1) {
                hit = 1;
                tc = gb;
            } /* else: at t1, held above; the engine tests t1 */
        }
    } else {
        double s;
        if (norn_ode_integrate(&sys, t1 - t0, y, hint, &s, NULL) == 1) {
            hit = 1;
            tc = s >= t1 - t0 ? t1 : fmin(t0 + s, t1);
            y[S_V] = mp->p[P_V_TH];
        }
    }
    v[i] = y[S_V] < mp->p[P_V_MIN] ? mp->p[P_V_MIN] : y[S_V];
    u[i] = y[S_U];
    if (hit)
        *t_cross = tc;
    return hit;
}

static void input(norn_model_pop *mp, uint32_t i, double t, double w)
{
    (void)t;
    double x = mp->st[S_V][i] + w;
    mp->st[S_V][i] = x < mp->p[P_V_MIN] ? mp->p[P_V_MIN] : x;
}

static int above(const norn_model_pop *mp, uint32_t i, double t)
{
    (void)t;
    return mp->st[S_V][i] >= mp->p[P_V_TH];
}

static void fire(norn_model_pop *mp, uint32_t i, double t)
{
    (void)t;
    mp->st[S_V][i] = mp->p[P_C];
    mp->st[S_U][i] += mp->p[P_D];
    mp->st[H_STEP][i] = 0; /* the step hint of the upstroke is no guide after the reset */
}

static double quad(double v, const void *ctx)
{
    const double *I = ctx;
    return 0.04 * v * v + 5.0 * v + 140.0 + *I;
}

static int may_fire(const norn_model_pop *mp, uint32_t i, double t)
{
    (void)t;
    const double *p = mp->p;
    if (p[P_A] < 0)
        return 1;
    double I = p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    norn_ode_plane pl = {quad, quad, &I, p[P_B], 0.0, p[P_A] == 0};
    double v = mp->st[S_V][i], u = mp->st[S_U][i], vhi;
    if (!norn_ode_plane_trapped(&pl, &v, &u, 1, p[P_V_TH], &vhi))
        return 1;
    return !(p[P_V_MIN] <= vhi); /* the V_min floor stays inside the box */
}

const norn_model_type norn_model_izhikevich = {
    .name = "izhikevich",
    .doc = "Izhikevich (2003) neuron (weight in mV), as NEST izhikevich but integrated to 1e-10",
    .input_unit = "mV",
    .n_params = NP,
    .params = params,
    .n_state = NS,
    .state = state,
    .n_hidden = NH,
    .v_index = S_V,
    .n_channels = 1,
    .compile = compile,
    .advance = advance,
    .input = input,
    .above = above,
    .fire = fire,
    .may_fire = may_fire,
};
