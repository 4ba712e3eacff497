/* models/adex.c - adaptive exponential integrate-and-fire with exponential
 * conductances, as NEST's aeif_cond_exp (Brette & Gerstner 2005).
 *
 *   C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th)/Delta_T)
 *               - g_ex (V - E_ex) - g_in (V - E_in) - w + I_e + I_dc
 *   tau_w dw/dt = a (V - E_L) - w
 *   dg_ex/dt = -g_ex/tau_syn_ex,  dg_in/dt = -g_in/tau_syn_in
 * In the right-hand side V is replaced by min(V, V_peak), as in NEST, so
 * the exponential can never overflow (trial stages may overshoot).
 * At V >= V_peak (V_th if Delta_T == 0): spike, V = V_reset, w += b, V
 * clamped to V_reset on (t_s, t_s + t_ref] while w relaxes towards
 * a (V_reset - E_L) and the conductances decay (closed form).
 * An input of weight w (nS) adds w to g_ex if w >= 0, else -w to g_in.
 *
 * Parameters (NEST names and defaults): C_m 281 pF, g_L 30 nS,
 * E_L -70.6 mV, V_th -50.4 mV, Delta_T 2 mV, tau_w 144 ms, a 4 nS,
 * b 80.5 pA, V_reset -60 mV, t_ref 0 ms, V_peak 0 mV, E_ex 0 mV,
 * E_in -85 mV, tau_syn_ex 0.2 ms, tau_syn_in 2 ms, I_e 0 pA. Checked as
 * NEST does: V_peak >= V_th, Delta_T >= 0, (V_peak - V_th)/Delta_T below
 * log(DBL_MAX/1e20), V_reset below the detection level, time constants
 * and C_m > 0, t_ref >= 0; also g_L > 0.
 * State: V_m (mV, starts at E_L), g_ex, g_in (nS), w (pA).
 *
 * Integration (models/ode.h): Dormand-Prince 5(4) on V and w, per-step
 * tolerance 1e-10 relative + 1e-10 absolute (mV, pA), step hint per
 * neuron; the conductances are propagated exactly (exponentials, also
 * inside the stages).
 * The upstroke towards V_peak is resolved by the step control (steps
 * shrink with the divergence of the exponential).
 *  - continuous: the first crossing V = V_peak on the dense output,
 *    located to 1e-12 ms (never before it), is the spike time;
 *  - grid: integrated grid step by grid step; reaching V_peak anywhere in a
 *    step (k h, (k+1) h] makes the spike at (k+1) h (NEST also detects it
 *    inside the step and stamps the step's end). Between the crossing and
 *    that grid point V is held at V_peak while w and the conductances
 *    evolve exactly; the reset is at the grid point (NEST resets at the
 *    solver's internal step instead).
 * may_fire: 0 only when a trapping box around (V, w) below V_peak is found
 * (norn_ode_plane_trapped, with the conductances bounded by their current
 * values: rigorous), e.g. near rest; otherwise 1.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "models/model.h"
#include "models/ode.h"

enum {
    P_C_M,
    P_G_L,
    P_E_L,
    P_V_TH,
    P_DELTA_T,
    P_TAU_W,
    P_A,
    P_B,
    P_V_RESET,
    P_T_REF,
    P_V_PEAK,
    P_E_EX,
    P_E_IN,
    P_TAU_EX,
    P_TAU_IN,
    P_I_E,
    NP
};
enum { S_V, S_GEX, S_GIN, S_W, NS, H_STEP = NS, NH = 1 };
enum { C_NREF, C_LEVEL };
/* order of the ODE vector: integrated V, w, then the exactly decaying g's */
enum { Y_V, Y_W, Y_GEX, Y_GIN, NY };

#define RTOL 1e-10
#define ATOL 1e-10
#define EV_TOL 1e-12
#define H_MAX 10.0

static const norn_param_info params[NP] = {
    [P_C_M] = {"C_m", "pF", 281.0, "membrane capacitance"},
    [P_G_L] = {"g_L", "nS", 30.0, "leak conductance"},
    [P_E_L] = {"E_L", "mV", -70.6, "leak reversal potential"},
    [P_V_TH] = {"V_th", "mV", -50.4, "spike initiation threshold (exponential term)"},
    [P_DELTA_T] = {"Delta_T", "mV", 2.0, "slope factor of the exponential term"},
    [P_TAU_W] = {"tau_w", "ms", 144.0, "adaptation time constant"},
    [P_A] = {"a", "nS", 4.0, "subthreshold adaptation"},
    [P_B] = {"b", "pA", 80.5, "spike-triggered adaptation"},
    [P_V_RESET] = {"V_reset", "mV", -60.0, "reset potential"},
    [P_T_REF] = {"t_ref", "ms", 0.0, "absolute refractory period"},
    [P_V_PEAK] = {"V_peak", "mV", 0.0, "spike detection threshold"},
    [P_E_EX] = {"E_ex", "mV", 0.0, "excitatory reversal potential"},
    [P_E_IN] = {"E_in", "mV", -85.0, "inhibitory reversal potential"},
    [P_TAU_EX] = {"tau_syn_ex", "ms", 0.2, "excitatory synaptic time constant"},
    [P_TAU_IN] = {"tau_syn_in", "ms", 2.0, "inhibitory synaptic time constant"},
    [P_I_E] = {"I_e", "pA", 0.0, "constant external current"},
};

static const norn_state_info state[NS] = {
    [S_V] = {"V_m", "mV", "membrane potential", P_E_L},
    [S_GEX] = {"g_ex", "nS", "excitatory conductance", -1},
    [S_GIN] = {"g_in", "nS", "inhibitory conductance", -1},
    [S_W] = {"w", "pA", "adaptation current", -1},
};

static norn_status compile(norn_model_pop *mp, const char *where, norn_err *err)
{
    const double *p = mp->p;
    for (int k = 0; k < NP; k++)
        if (!isfinite(p[k]))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be finite, got %g", params[k].name, p[k]);
    static const int pos[] = {P_C_M, P_G_L, P_TAU_W, P_TAU_EX, P_TAU_IN};
    for (unsigned k = 0; k < sizeof pos / sizeof pos[0]; k++)
        if (!(p[pos[k]] > 0))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be > 0, got %g", params[pos[k]].name, p[pos[k]]);
    if (!(p[P_T_REF] >= 0))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.t_ref: must be >= 0, got %g", p[P_T_REF]);
    if (!(p[P_DELTA_T] >= 0))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.Delta_T: must be >= 0, got %g", p[P_DELTA_T]);
    if (!(p[P_V_PEAK] >= p[P_V_TH]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.V_peak: must be >= V_th (%g), got %g", p[P_V_TH],
                         p[P_V_PEAK]);
    if (p[P_DELTA_T] > 0 && (p[P_V_PEAK] - p[P_V_TH]) / p[P_DELTA_T] >= log(DBL_MAX / 1e20))
        return NORN_FAIL(err, NORN_EINVAL, where,
                         "params.Delta_T: (V_peak - V_th)/Delta_T = %g would overflow exp() at the spike "
                         "(must be < %.4g); increase Delta_T or lower V_peak",
                         (p[P_V_PEAK] - p[P_V_TH]) / p[P_DELTA_T], log(DBL_MAX / 1e20));
    double level = p[P_DELTA_T] > 0 ? p[P_V_PEAK] : p[P_V_TH];
    if (!(p[P_V_RESET] < level))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.V_reset: must be below %s (%g), got %g",
                         p[P_DELTA_T] > 0 ? "V_peak" : "V_th (Delta_T == 0)", level, p[P_V_RESET]);
    if (mp->mode == NORN_MODE_GRID) {
        double steps = p[P_T_REF] / mp->h;
        if (fabs(steps - nearbyint(steps)) > 1e-9 * fmax(1.0, steps))
            return NORN_FAIL(err, NORN_EINVAL, where,
                             "params.t_ref: %g ms is not a multiple of the resolution %g ms (grid mode)", p[P_T_REF],
                             mp->h);
        mp->c[C_NREF] = nearbyint(steps);
    }
    mp->c[C_LEVEL] = level;
    return NORN_OK;
}

typedef struct {
    const double *p;
    double I;
} rhs_ctx;

static inline double i_spike(const double *p, double V)
{
    return p[P_DELTA_T] > 0 ? p[P_G_L] * p[P_DELTA_T] * exp((V - p[P_V_TH]) / p[P_DELTA_T]) : 0.0;
}

static void rhs(const double *y, double *dy, const void *vctx)
{
    const rhs_ctx *c = vctx;
    const double *p = c->p;
    double V = y[Y_V] < p[P_V_PEAK] ? y[Y_V] : p[P_V_PEAK];
    dy[Y_V] = (-p[P_G_L] * (V - p[P_E_L]) + i_spike(p, V) - y[Y_GEX] * (V - p[P_E_EX]) - y[Y_GIN] * (V - p[P_E_IN]) -
               y[Y_W] + c->I) /
              p[P_C_M];
    dy[Y_W] = (p[P_A] * (V - p[P_E_L]) - y[Y_W]) / p[P_TAU_W];
}

static void make_sys(const norn_model_pop *mp, uint32_t i, rhs_ctx *c, norn_ode_sys *s)
{
    memset(s, 0, sizeof *s);
    c->p = mp->p;
    c->I = mp->p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    s->n = 2; /* V, w; the conductances decay exactly */
    s->n_decay = 2;
    s->decay_rate[0] = 1.0 / mp->p[P_TAU_EX];
    s->decay_rate[1] = 1.0 / mp->p[P_TAU_IN];
    s->f = rhs;
    s->ctx = c;
    s->rtol = RTOL;
    s->atol[Y_V] = ATOL;
    s->atol[Y_W] = ATOL;
    s->h_max = H_MAX;
    s->ev = Y_V;
    s->ev_level = mp->c[C_LEVEL];
    s->ev_tol = EV_TOL;
}

/* Closed form over tau ms with V fixed at Vf: w relaxes to a (Vf - E_L),
 * the conductances decay. */
static void frozen_v(const double *p, double *y, double Vf, double tau)
{
    if (!(tau > 0))
        return;
    double winf = p[P_A] * (Vf - p[P_E_L]);
    y[Y_V] = Vf;
    y[Y_W] = winf + (y[Y_W] - winf) * exp(-tau / p[P_TAU_W]);
    y[Y_GEX] *= exp(-tau / p[P_TAU_EX]);
    y[Y_GIN] *= exp(-tau / p[P_TAU_IN]);
}

static const int y_of_s[NS] = {[S_V] = Y_V, [S_GEX] = Y_GEX, [S_GIN] = Y_GIN, [S_W] = Y_W};

static void load(const norn_model_pop *mp, uint32_t i, double *y)
{
    for (int k = 0; k < NS; k++)
        y[y_of_s[k]] = mp->st[k][i];
}

static void store(norn_model_pop *mp, uint32_t i, const double *y)
{
    for (int k = 0; k < NS; k++)
        mp->st[k][i] = y[y_of_s[k]];
}

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    const double *p = mp->p;
    double y[NY];
    load(mp, i, y);
    if (mp->ref_until[i] > t0) {
        double te = t1 < mp->ref_until[i] ? t1 : mp->ref_until[i];
        frozen_v(p, y, p[P_V_RESET], te - t0);
        y[Y_V] = p[P_V_RESET];
        store(mp, i, y);
        if (t1 <= mp->ref_until[i])
            return 0;
        t0 = mp->ref_until[i];
    }
    if (!(t1 > t0))
        return 0;
    const double level = mp->c[C_LEVEL];
    if (y[Y_V] >= level) {
        /* above at the start (input at the time of a spike): fires now */
        *t_cross = t0;
        return 1;
    }
    rhs_ctx c;
    norn_ode_sys sys;
    make_sys(mp, i, &c, &sys);
    double *hint = &mp->st[H_STEP][i];
    int hit = 0;
    double tc = t1;
    if (mp->mode == NORN_MODE_GRID) {
        int64_t k0 = norn_grid_index(t0, mp->h), k1 = norn_grid_index(t1, mp->h), kh;
        double s_in;
        if (norn_ode_grid(&sys, k0, k1, mp->h, 1, y, hint, &kh, &s_in, NULL) == 1) {
            double ga = norn_grid_time(kh - 1, mp->h), gb = norn_grid_time(kh, mp->h);
            frozen_v(p, y, level, (gb - ga) - s_in);
            y[Y_V] = level;
            if (kh < k1) {
                hit = 1;
                tc = gb;
            } /* else: at t1, held at the peak; the engine tests t1 */
        }
    } else {
        double s;
        if (norn_ode_integrate(&sys, t1 - t0, y, hint, &s, NULL) == 1) {
            hit = 1;
            tc = s >= t1 - t0 ? t1 : fmin(t0 + s, t1);
            y[Y_V] = level;
        }
    }
    store(mp, i, y);
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
    return t > mp->ref_until[i] && mp->st[S_V][i] >= mp->c[C_LEVEL];
}

static void fire(norn_model_pop *mp, uint32_t i, double t)
{
    mp->st[S_V][i] = mp->p[P_V_RESET];
    mp->st[S_W][i] += mp->p[P_B];
    mp->st[H_STEP][i] = 0; /* the step hint of the upstroke is no guide after the reset */
    if (mp->mode == NORN_MODE_GRID)
        mp->ref_until[i] = norn_grid_time(norn_grid_index(t, mp->h) + (int64_t)mp->c[C_NREF], mp->h);
    else
        mp->ref_until[i] = t + mp->p[P_T_REF];
}

/* Bounds of C dV/dt + w over the conductances' future values. */
typedef struct {
    const double *p;
    double I, gex, gin;
} plane_ctx;

static double f_lin(const plane_ctx *c, double V)
{
    const double *p = c->p;
    double Vc = V < p[P_V_PEAK] ? V : p[P_V_PEAK];
    return -p[P_G_L] * (Vc - p[P_E_L]) + i_spike(p, Vc) + c->I;
}

static double top(double V, const void *vctx)
{
    const plane_ctx *c = vctx;
    return f_lin(c, V) + c->gex * fmax(c->p[P_E_EX] - V, 0.0) + c->gin * fmax(c->p[P_E_IN] - V, 0.0);
}

static double bot(double V, const void *vctx)
{
    const plane_ctx *c = vctx;
    return f_lin(c, V) - c->gex * fmax(V - c->p[P_E_EX], 0.0) - c->gin * fmax(V - c->p[P_E_IN], 0.0);
}

static int may_fire(const norn_model_pop *mp, uint32_t i, double t)
{
    const double *p = mp->p;
    plane_ctx c = {p, p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0), mp->st[S_GEX][i], mp->st[S_GIN][i]};
    if (!(c.gex >= 0) || !(c.gin >= 0))
        return 1;
    double v[3] = {mp->st[S_V][i], p[P_V_RESET], p[P_V_RESET]};
    double w[3] = {mp->st[S_W][i], mp->st[S_W][i], p[P_A] * (p[P_V_RESET] - p[P_E_L])};
    int n = t < mp->ref_until[i] ? 3 : 1; /* refractory: w drifts at V_reset first */
    norn_ode_plane pl = {top, bot, &c, p[P_A], -p[P_A] * p[P_E_L], 0};
    double vhi;
    return !norn_ode_plane_trapped(&pl, v, w, n, mp->c[C_LEVEL], &vhi);
}

const norn_model_type norn_model_adex = {
    .name = "adex",
    .doc = "adaptive exponential integrate-and-fire, exponential conductances (weight in nS), "
           "as NEST aeif_cond_exp",
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
