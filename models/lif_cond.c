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
 * E_L -70 mV, tau_syn_ex 0.2 ms, tau_syn_in 2 ms, I_e 0 pA; and
 * grid_substeps 1 (not NEST's: how grid mode integrates, below).
 * State: V_m (mV, starts at E_L), g_ex, g_in (nS).
 *
 * Integration. The conductances are always propagated exactly
 * (exponentials). V:
 *  - continuous (and grid with grid_substeps 0): Dormand-Prince 5(4)
 *    (models/ode.h), per-step tolerance 1e-10 relative + 1e-10 mV
 *    absolute, step hint kept per neuron, the conductances exact inside
 *    the stages; refractory stretches closed form (V fixed, g's decay).
 *    Continuous: the first crossing V = V_th on the dense output, located
 *    to 1e-12 ms (never before it), is the spike time. Grid: integrated
 *    grid step by grid step (each grid point a step end).
 *  - continuous, where V provably stays below V_th over the stretch (its
 *    bound on V_inf, see quiet_closed): V's linear ODE solved in closed
 *    form, its one integral by 8-point Gauss-Legendre (~1e-13 mV against
 *    the reference, tests/test_models_nl.c), ~4x faster on coba.
 *  - grid (grid_substeps n >= 1, the default 1): a fixed step, n classical
 *    RK4 steps per resolution step with the exact conductances at the
 *    stage times, refined where the conductances are large (see
 *    "grid mode, fixed RK4 step" below). Against the adaptive solution,
 *    V at every grid point over 1 s (tests/test_models_nl.c, h = 0.1 ms):
 *    within 5e-5 mV under coba's input (n = 2: 4e-6), 3e-4 mV with NEST's
 *    tau_syn_ex = 0.2 ms (n = 2: 2e-5) or kicks of several uS. coba:
 *    ~7 ns per neuron-step against ~270 for the adaptive step, the
 *    population stepped whole (grid_step, fixed_grid).
 * In grid mode V >= V_th is tested at grid points, as NEST; the value at
 * a grid point never depends on how the engine splits the run.
 * Unlike NEST, the right-hand side uses V itself, not min(V, V_th): here V
 * exceeds V_th only between grid points in grid mode, where the ODE as
 * written is what is integrated.
 * may_fire: a rigorous bound. With M = max(V0, E_L + I/g_L, E_in if
 * g_in > 0), V stays below M + g_ex tau_syn_ex (E_ex - M)^+ / C_m for all
 * later times (above M the leak and inhibition only pull down, and
 * excitation can push at most that much in all); with the fixed grid step
 * 0.01 mV more, for its error.
 */
#include <math.h>
#include <string.h>

#include "models/model.h"
#include "models/ode.h"

enum { P_V_TH, P_V_RESET, P_T_REF, P_G_L, P_C_M, P_E_EX, P_E_IN, P_E_L, P_TAU_EX, P_TAU_IN, P_I_E, P_SUB, NP };
enum { S_V, S_GEX, S_GIN, NS, H_STEP = NS, NH = 1 };
/* constants in mp->c; level L of refinement (sub-step hs_L = h / (n 2^L))
 * in mp->cache[LV * L ..] (LV_*) */
enum { C_NREF, C_NSUB, C_DE, C_DI, C_CL, C_RC, C_ZMAX };
enum { LV_FEM, LV_FE, LV_FIM, LV_FI, LV_HS, LV_HH, LV_H6, LV };
#define N_LEVELS 16 /* refinement levels: up to 2^15 sub-steps (absurd conductances) */
#define Z_MAX 0.25  /* largest (g_L + |g_ex| + |g_in|) hs / C_m of a sub-step */
#define SUB_MAX 64   /* largest grid_substeps */

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
    [P_SUB] = {"grid_substeps", "1", 1.0,
               "grid mode: RK4 steps of V per resolution step (conductances exact); 0: adaptive Dormand-Prince"},
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
    double sub = p[P_SUB];
    if (!(sub >= 0 && sub <= SUB_MAX) || sub != nearbyint(sub))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.grid_substeps: must be an integer in 0..%d, got %g", SUB_MAX,
                         sub);
    mp->c[C_NSUB] = mp->mode == NORN_MODE_GRID ? sub : 0; /* continuous mode: always adaptive */
    if (mp->c[C_NSUB] > 0) {
        double hs = mp->h / sub;
        mp->c[C_DE] = exp(-mp->h / p[P_TAU_EX]);
        mp->c[C_DI] = exp(-mp->h / p[P_TAU_IN]);
        mp->c[C_CL] = p[P_G_L] / p[P_C_M];
        mp->c[C_RC] = 1.0 / p[P_C_M];
        mp->c[C_ZMAX] = Z_MAX;
        for (int L = 0; L < N_LEVELS; L++, hs *= 0.5) {
            double *lv = &mp->cache[LV * L];
            lv[LV_FEM] = exp(-0.5 * hs / p[P_TAU_EX]);
            lv[LV_FE] = exp(-hs / p[P_TAU_EX]);
            lv[LV_FIM] = exp(-0.5 * hs / p[P_TAU_IN]);
            lv[LV_FI] = exp(-hs / p[P_TAU_IN]);
            lv[LV_HS] = hs;
            lv[LV_HH] = 0.5 * hs;
            lv[LV_H6] = hs / 6.0;
        }
    }
    return NORN_OK;
}

/* ---------------------------------------------- grid mode, fixed RK4 step
 * One resolution step of V: m = n 2^L classical RK4 sub-steps of
 * hs = h / m on C_m dV/dt = -g_L (V - E_L) - g_ex(s) (V - E_ex)
 * - g_in(s) (V - E_in) + I, with g_ex(s), g_in(s) the exact exponentials
 * at each stage time (s, s + hs/2, s + hs). The level L is the least that
 * keeps z = (g_L + |g_ex| + |g_in|) hs / C_m <= Z_MAX at the step's start
 * (the conductances only decay inside it): L = 0 unless the conductances
 * are large (g_L + g_ex + g_in above Z_MAX C_m / hs: 500 nS for coba's
 * 200 pF at h = 0.1 ms, n = 1), so that the step stays accurate and
 * stable however stiff the input. (NaN conductances: L = 0.)
 * The conductances then move by one exact factor e^{-h/tau}. Every
 * operation depends only on the state at the step's start, so advancing k
 * steps at once and k times one step give the same bits: the engine may
 * step the population whole (grid_step) or lazily with the same spikes. */
static inline uint64_t bits_of(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* One RK4 sub-step of V from conductances x, y (nS) at its start: with
 * A(s) = (g_L E_L + I + g_ex(s) E_ex + g_in(s) E_in) / C_m and
 * B(s) = (g_L + g_ex(s) + g_in(s)) / C_m, dV/dt = A - B V. cLI = (g_L E_L
 * + I) / C_m; lv: the level's factors and step. Inlined everywhere, so
 * that every path computes the same operations in the same order. */
static inline __attribute__((always_inline)) double rk4_sub(double V, double x, double y, double cLI, double cL,
                                                            double rC, double Eex, double Ein, const double *lv)
{
    double xr = x * rC, yr = y * rC;
    double pe = xr * Eex, pi = yr * Ein;
    double A0 = cLI + pe + pi, B0 = cL + xr + yr;
    double Am = cLI + pe * lv[LV_FEM] + pi * lv[LV_FIM], Bm = cL + xr * lv[LV_FEM] + yr * lv[LV_FIM];
    double A1 = cLI + pe * lv[LV_FE] + pi * lv[LV_FI], B1 = cL + xr * lv[LV_FE] + yr * lv[LV_FI];
    double k1 = A0 - B0 * V;
    double k2 = Am - Bm * (V + lv[LV_HH] * k1);
    double k3 = Am - Bm * (V + lv[LV_HH] * k2);
    double k4 = A1 - B1 * (V + lv[LV_HS] * k3);
    return V + lv[LV_H6] * (k1 + 2.0 * (k2 + k3) + k4);
}

/* The level of a step from conductances x, y: 0 when z <= Z_MAX. */
static inline int step_level(const norn_model_pop *mp, double x, double y)
{
    const double *c = mp->c;
    double z = (c[C_CL] + (fabs(x) + fabs(y)) * c[C_RC]) * mp->cache[LV_HS];
    int L = 0;
    while (z > c[C_ZMAX] && L < N_LEVELS - 1) {
        z *= 0.5;
        L++;
    }
    return L;
}

/* One resolution step out of refractoriness; cLI = (g_L E_L + I) / C_m. */
static inline void fixed_step(const norn_model_pop *mp, double *V, double *ge, double *gi, double cLI)
{
    const double *c = mp->c, *p = mp->p;
    double x = *ge, y = *gi, v = *V;
    int L = step_level(mp, x, y);
    const double *lv = &mp->cache[LV * L];
    int64_t m = (int64_t)c[C_NSUB] << L;
    for (int64_t j = 0; j < m; j++) {
        v = rk4_sub(v, x, y, cLI, c[C_CL], c[C_RC], p[P_E_EX], p[P_E_IN], lv);
        x *= lv[LV_FE];
        y *= lv[LV_FI];
    }
    *V = v;
    *ge = *ge * c[C_DE];
    *gi = *gi * c[C_DI];
}

static inline double neuron_cli(const norn_model_pop *mp, uint32_t i)
{
    const double *p = mp->p;
    return (p[P_G_L] * p[P_E_L] + p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0)) / p[P_C_M];
}

/* advance() in grid mode with the fixed step: step by step from grid
 * index k0 to k1, refractory steps (those ending at or before ref_until)
 * with V = V_reset, V >= V_th tested at the grid points inside. */
static int advance_fixed(norn_model_pop *mp, uint32_t i, int64_t k0, int64_t k1, double *t_cross)
{
    const double *p = mp->p;
    double *v = mp->st[S_V], *gev = mp->st[S_GEX], *giv = mp->st[S_GIN];
    const double h = mp->h, ru = mp->ref_until[i], vth = p[P_V_TH], vreset = p[P_V_RESET];
    double V = v[i], ge = gev[i], gi = giv[i];
    int hit = 0;
    int64_t k = k0;
    if (ru > norn_grid_time(k0, h)) {
        while (k < k1 && norn_grid_time(k + 1, h) <= ru) {
            ge *= mp->c[C_DE];
            gi *= mp->c[C_DI];
            k++;
        }
        V = vreset;
    }
    if (k < k1) {
        if (V >= vth) {
            /* above at the start (only after input at the time of a spike
             * with t_ref == 0): it fires now */
            *t_cross = norn_grid_time(k, h);
            hit = 1;
        } else {
            const double cLI = neuron_cli(mp, i);
            while (k < k1) {
                fixed_step(mp, &V, &ge, &gi, cLI);
                k++;
                if (k < k1 && V >= vth) {
                    *t_cross = norn_grid_time(k, h);
                    hit = 1;
                    break;
                }
            }
        }
    }
    v[i] = V;
    gev[i] = ge;
    giv[i] = gi;
    return hit;
}

typedef struct {
    const double *p;
    double I;      /* I_e + I_dc (pA) */
    double inv_cm; /* 1 / C_m (1/pF) */
} rhs_ctx;

static void rhs(const double *y, double *dy, const void *vctx)
{
    const rhs_ctx *c = vctx;
    const double *p = c->p;
    double V = y[S_V];
    dy[S_V] = (-p[P_G_L] * (V - p[P_E_L]) - y[S_GEX] * (V - p[P_E_EX]) - y[S_GIN] * (V - p[P_E_IN]) + c->I) * c->inv_cm;
}

static void make_sys(const norn_model_pop *mp, uint32_t i, rhs_ctx *c, norn_ode_sys *s)
{
    memset(s, 0, sizeof *s);
    c->p = mp->p;
    c->I = mp->p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    c->inv_cm = 1.0 / mp->p[P_C_M]; /* a product, not a division, in each of the solver's stages */
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

/* Gauss-Legendre's 8-point rule on [0, 1]: nodes x_q (the other four are
 * 1 - x_q) and their weights. */
static const double GL_X[4] = {0.019855071751231912, 0.10166676129318664, 0.2372337950418355, 0.40828267875217511};
static const double GL_W[4] = {0.050614268145188344, 0.11119051722668717, 0.15685332293894352, 0.18134189168918088};

/* Continuous mode: the state y (V, g_ex, g_in) over a stretch T with no
 * input, where V provably stays below V_th: returns 1 (else 0, y as it
 * was). V relaxes towards V_inf(s) = (g_L E_L + g_ex E_ex + g_in E_in + I)
 * / (g_L + g_ex + g_in) at the rate a(s) = (g_L + g_ex + g_in) / C_m, so
 * where a > 0 it never exceeds max(V0, sup V_inf); V_inf is
 * linear-fractional in (g_ex, g_in), whose path lies in the box of their
 * values at 0 and T, so sup V_inf is at most its largest value at the
 * box's corners. Below V_th, there is no crossing to locate, and V is
 * the linear ODE's solution
 *   V(T) = V0 e^-A(T) + int_0^T e^(A(u) - A(T)) b(u) du,
 * A(s) = (g_L s + g_ex0 tau_ex (1 - e^-s/tau_ex) + g_in0 tau_in (1 - e^-s/tau_in)) / C_m,
 * b = a V_inf: A exact, the integral by the 8-point Gauss-Legendre rule
 * over pieces where (largest rate) x (piece) <= 2, which leaves an error
 * ~1e-17 of the integrand's size (the rule's remainder 1.7e-23 (lambda
 * h)^16 h e^(lambda h)): closer than the adaptive step's 1e-10 mV, and
 * ~19 exp where Dormand-Prince takes ~8 steps of 6 stages each (coba). */
static int quiet_closed(const norn_model_pop *mp, uint32_t i, double T, double y[NS])
{
    const double *p = mp->p;
    const double gL = p[P_G_L], C = p[P_C_M], Ee = p[P_E_EX], Ei = p[P_E_IN];
    const double I = p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0), gLEI = gL * p[P_E_L] + I;
    const double re = 1.0 / p[P_TAU_EX], ri = 1.0 / p[P_TAU_IN]; /* the ODE system's decay rates */
    const double ge0 = y[S_GEX], gi0 = y[S_GIN], dTe = exp(-T * re), dTi = exp(-T * ri);
    const double ges[2] = {ge0, ge0 * dTe}, gis[2] = {gi0, gi0 * dTi};
    double vmax = y[S_V], amax = 0.0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            double den = gL + ges[a] + gis[b];
            if (!(den > 0.0))
                return 0; /* a may be <= 0 (negative conductances): the general way */
            double vi = (gLEI + ges[a] * Ee + gis[b] * Ei) / den;
            vmax = vi > vmax ? vi : vmax;
            amax = den > amax ? den : amax;
        }
    /* (below by a margin: the computed V, within rounding of the bound, stays below too) */
    if (!(vmax < norn__quiet_vth(p[P_V_TH], 1e-9)) || !(T > 0.0))
        return 0;
    double lam = fmax(amax / C, fmax(re, ri));
    double pieces = ceil(lam * T * 0.5);
    if (!(pieces <= 64.0))
        return 0; /* a stretch that long: the adaptive steps */
    int m = pieces < 1.0 ? 1 : (int)pieces;
    const double hp = T / m, iC = 1.0 / C;
    const double de = m == 1 ? dTe : exp(-hp * re), di = m == 1 ? dTi : exp(-hp * ri);
    /* the decays to the nodes: at 1 - x, the piece's over the one at x */
    double ee[8], ei[8], th[8], w[8];
    for (int q = 0; q < 4; q++) {
        th[q] = GL_X[q];
        th[7 - q] = 1.0 - GL_X[q];
        w[q] = w[7 - q] = GL_W[q];
        ee[q] = exp(-GL_X[q] * hp * re);
        ei[q] = exp(-GL_X[q] * hp * ri);
        ee[7 - q] = de / ee[q];
        ei[7 - q] = di / ei[q];
    }
    double V = y[S_V], ge = ge0, gi = gi0;
    for (int k = 0; k < m; k++) {
        double sum = 0.0;
        for (int q = 0; q < 8; q++) {
            double geu = ge * ee[q], giu = gi * ei[q];
            double dA = (gL * (1.0 - th[q]) * hp + ge * (ee[q] - de) / re + gi * (ei[q] - di) / ri) * iC;
            sum += w[q] * exp(-dA) * (gLEI + geu * Ee + giu * Ei) * iC;
        }
        double At = (gL * hp + ge * (1.0 - de) / re + gi * (1.0 - di) / ri) * iC;
        V = V * exp(-At) + hp * sum;
        ge *= de;
        gi *= di;
    }
    y[S_V] = V;
    y[S_GEX] = ge;
    y[S_GIN] = gi;
    return 1; /* (the step hint is left as it is: tests tell the two ways apart by it) */
}

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    if (mp->c[C_NSUB] > 0) /* grid mode, fixed step */
        return t1 > t0 ? advance_fixed(mp, i, norn_grid_index(t0, mp->h), norn_grid_index(t1, mp->h), t_cross) : 0;
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
    } else if (quiet_closed(mp, i, t1 - t0, y)) {
        hit = 0;
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

/* Neuron i from t - h to t (one step, grid_step's): refractory or fixed_step. */
static inline void one_step(norn_model_pop *mp, uint32_t i, double t, double cLI)
{
    double *V = mp->st[S_V], *Ge = mp->st[S_GEX], *Gi = mp->st[S_GIN];
    if (t <= mp->ref_until[i]) {
        V[i] = mp->p[P_V_RESET];
        Ge[i] *= mp->c[C_DE];
        Gi[i] *= mp->c[C_DI];
    } else {
        /* (advance() would first report V >= V_th at t - h: not reached
         * here, the engine's step tested t - h) */
        double v = V[i], ge = Ge[i], gi = Gi[i];
        fixed_step(mp, &v, &ge, &gi, cLI);
        V[i] = v;
        Ge[i] = ge;
        Gi[i] = gi;
    }
}

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross);

/* Neuron i from t0 to t (t_prev = t - h): one step, or advance()'s (the
 * adaptive integrator with grid_substeps 0, where the engine steps the
 * population whole only when every neuron is driven; or more than one
 * step, not expected, its crossings inside not reported). */
static void step_to(norn_model_pop *mp, uint32_t i, double t0, double t_prev, double t)
{
    if (t0 == t_prev && mp->c[C_NSUB] > 0) {
        one_step(mp, i, t, neuron_cli(mp, i));
    } else {
        double tc;
        (void)advance(mp, i, t0, t, &tc);
    }
}

/* The advances of a step with every neuron of [lo, hi) behind t: blocks
 * whose neurons are all one step behind (the rule when stepped whole) go
 * through one branch-free loop the compiler vectorizes, with fixed_step's
 * operations (n = 1, L = 0) or the refractory step's, so the bits are the
 * same; the few that need refining are then redone one by one. */
#define BLOCK 64
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
/* lets gcc turn the refractory test into a vector select (with trapping
 * math it keeps a branch); no result changes: only FP exception flags.
 * An AVX2 clone where the CPU has it: 4 neurons per instruction, the same
 * IEEE operations (no FMA: -ffp-contract=off), so the same bits. */
__attribute__((optimize("no-trapping-math"), target_clones("avx2", "default")))
#endif
static void advance_all(norn_model_pop *mp, double *tl, double t, uint32_t lo, uint32_t hi)
{
    double *restrict V = mp->st[S_V], *restrict Ge = mp->st[S_GEX], *restrict Gi = mp->st[S_GIN];
    const double *restrict ru = mp->ref_until;
    const double *p = mp->p, *c = mp->c, *lv = mp->cache;
    const double h = mp->h, t_prev = norn_grid_time(norn_grid_index(t, h) - 1, h);
    const double vreset = p[P_V_RESET], de = c[C_DE], di = c[C_DI], cL = c[C_CL], rC = c[C_RC];
    const double Eex = p[P_E_EX], Ein = p[P_E_IN], zmax = c[C_ZMAX], hs = lv[LV_HS];
    const double cLI = neuron_cli(mp, 0); /* without DC (the vector loop's case) */
    const int vec = c[C_NSUB] == 1 && !mp->i_dc;
    double lv0[LV]; /* level 0, local: no aliasing with the state */
    for (int k = 0; k < LV; k++)
        lv0[k] = lv[k];
    double v0[BLOCK], x0[BLOCK], y0[BLOCK];
    uint64_t b_prev = bits_of(t_prev), b_now = bits_of(t);
    for (uint32_t b = lo; b < hi; b += BLOCK) {
        uint32_t e = hi - b > BLOCK ? b + BLOCK : hi;
        uint64_t d_prev = 0, d_now = 0; /* 0: every tl[i] is t_prev (t) */
        for (uint32_t i = b; i < e; i++) {
            d_prev |= bits_of(tl[i]) ^ b_prev;
            d_now |= bits_of(tl[i]) ^ b_now;
        }
        if (!d_now)
            continue;
        if (vec && !d_prev) {
            uint64_t over = 0; /* sign bit: some z > Z_MAX (or NaN) */
            for (uint32_t i = b; i < e; i++) {
                double v = V[i], x = Ge[i], y = Gi[i];
                v0[i - b] = v;
                x0[i - b] = x;
                y0[i - b] = y;
                over |= bits_of(zmax - (cL + (fabs(x) + fabs(y)) * rC) * hs);
                double vn = rk4_sub(v, x, y, cLI, cL, rC, Eex, Ein, lv0);
                V[i] = t <= ru[i] ? vreset : vn;
                Ge[i] = x * de;
                Gi[i] = y * di;
                tl[i] = t;
            }
            if (over >> 63) /* those that need refining: redone (rare) */
                for (uint32_t i = b; i < e; i++)
                    if ((cL + (fabs(x0[i - b]) + fabs(y0[i - b])) * rC) * hs > zmax && !(t <= ru[i])) {
                        V[i] = v0[i - b];
                        Ge[i] = x0[i - b];
                        Gi[i] = y0[i - b];
                        one_step(mp, i, t, cLI);
                    }
            continue;
        }
        for (uint32_t i = b; i < e; i++)
            if (tl[i] < t) {
                step_to(mp, i, tl[i], t_prev, t);
                tl[i] = t;
            }
    }
}

/* The step's input of neuron i (flags[i] != 0), sums cleared. */
static inline void apply_inputs(norn_model_pop *mp, const norn_grid_step *g, uint32_t i, double t)
{
    norn_grid_apply_inputs(mp, g, i, t, input);
}

/* advance() + input() + above() + fire() for a whole step (models/model.h),
 * fixed-step grid mode: the same operations in the same order per neuron.
 * The engine calls it where every advance is one step; a longer one (not
 * expected) is advance()'s, its crossings inside not reported. */
static uint32_t grid_step(norn_model_pop *mp, const norn_grid_step *g)
{
    double *V = mp->st[S_V], *ru = mp->ref_until, *tl = g->t_last;
    const double t = g->t, vth = mp->p[P_V_TH], h = mp->h;
    const double t_prev = norn_grid_time(norn_grid_index(t, h) - 1, h);
    const int all = g->all, test = g->test;
    uint8_t *flags = g->flags;
    uint32_t nf = 0;
    if (all)
        advance_all(mp, tl, t, g->lo, g->hi);
    for (uint32_t b = g->lo; b < g->hi; b += BLOCK) {
        uint32_t e = g->hi - b > BLOCK ? b + BLOCK : g->hi;
        /* a block with no input and no V at or above V_th is passed over */
        unsigned fl = 0;
        for (uint32_t i = b; i < e; i++)
            fl |= flags[i];
        uint64_t cand = 0; /* sign bit: some V[i] - V_th >= 0 (or NaN) */
        if (test)
            for (uint32_t i = b; i < e; i++)
                cand |= ~bits_of(V[i] - vth);
        if (!fl && !(cand >> 63))
            continue;
        if (all) { /* every neuron at t already: inputs, then the tests */
            uint32_t i = b;
            for (; fl && i + 8 <= e; i += 8) { /* 8 flags at a time: few have input */
                uint64_t w;
                memcpy(&w, &flags[i], sizeof w);
                while (w) {
                    uint32_t j = i + (uint32_t)__builtin_ctzll(w) / 8;
                    apply_inputs(mp, g, j, t);
                    flags[j] = 0;
                    w &= ~((uint64_t)0xff << 8 * (j - i));
                }
            }
            for (; fl && i < e; i++)
                if (flags[i]) {
                    apply_inputs(mp, g, i, t);
                    flags[i] = 0;
                }
            for (uint32_t i = b; i < e && (cand >> 63); i++)
                if (t > ru[i] && V[i] >= vth) {
                    fire(mp, i, t);
                    g->fired[nf++] = i;
                }
            continue;
        }
        for (uint32_t i = b; i < e; i++) {
            unsigned f = flags[i];
            if (!f && !all)
                continue;
            if (tl[i] < t) { /* not all: the neurons with input */
                step_to(mp, i, tl[i], t_prev, t);
                tl[i] = t;
            }
            if (f) {
                apply_inputs(mp, g, i, t);
                flags[i] = 0;
            }
            if (test && t > ru[i] && V[i] >= vth) {
                fire(mp, i, t);
                g->fired[nf++] = i;
            }
        }
    }
    return nf;
}

/* t_ref == 0 excluded: there advance() reports V >= V_th at its start (input
 * at the time of a spike), a second spike at that time, which the whole
 * step (testing only after t_ref) does not */
static int fixed_grid(const norn_model_pop *mp) { return mp->c[C_NSUB] > 0 && mp->c[C_NREF] > 0; }

static int driven(const norn_model_pop *mp, uint32_t i)
{
    const double *p = mp->p;
    return p[P_E_L] + (p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0)) / p[P_G_L] >= p[P_V_TH];
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
    /* the fixed grid step's V strays from the exact one by < ~1e-3 mV
     * (tests/test_models_nl.c): a margin of 0.01 mV covers it */
    double margin = mp->c[C_NSUB] > 0 ? 0.01 : 0.0;
    return !(M + push + margin < p[P_V_TH]);
}

/* quiet_until (models/model.h; continuous mode). From V0 (V_reset at the
 * end of refractoriness, the conductances only smaller by then), with no
 * input the conductances only decay, so for V >= V0 the right-hand side is
 * at most its value at V0 with the conductances now,
 *   a = (g_L (E_L - V0) + g_ex (E_ex - V0)^+ + g_in (E_in - V0)^+ + I) / C_m,
 * and V stays below V0 + a s: V_th is not reached before (V_th - V0) / a;
 * never where a <= 0 or may_fire's bound is below V_th. Against V_th less
 * 1e-6 of it (the adaptive step's error is ~1e-10 mV a step). */
static double quiet_until(const norn_model_pop *mp, uint32_t i, double t0)
{
    const double *p = mp->p;
    double ge = mp->st[S_GEX][i], gi = mp->st[S_GIN][i];
    if (!(ge >= 0) || !(gi >= 0))
        return t0; /* negative conductances set by hand: no bound */
    const double vth = norn__quiet_vth(p[P_V_TH], 1e-6);
    double start, v0 = norn__quiet_from(mp, i, t0, S_V, p[P_V_RESET], &start);
    if (!(v0 < vth)) /* also NaN */
        return t0;
    double I = p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    double M = fmax(v0, p[P_E_L] + I / p[P_G_L]);
    if (gi > 0)
        M = fmax(M, p[P_E_IN]);
    if (M + ge * p[P_TAU_EX] * fmax(p[P_E_EX] - M, 0.0) / p[P_C_M] < vth)
        return INFINITY;
    double a = (p[P_G_L] * (p[P_E_L] - v0) + ge * fmax(p[P_E_EX] - v0, 0.0) + gi * fmax(p[P_E_IN] - v0, 0.0) + I) /
               p[P_C_M];
    if (!(a > 0.0))
        return a <= 0.0 ? INFINITY : t0;
    return norn__quiet_at(t0, start, (vth - v0) / a);
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
    .grid_step = grid_step,
    .driven = driven,
    .fixed_grid = fixed_grid,
    .quiet_until = quiet_until,
};
