/* models/lif.c - current-based leaky integrate-and-fire with exponentially
 * decaying synaptic currents, as NEST's iaf_psc_exp (grid) and
 * iaf_psc_exp_ps (continuous), separate excitatory and inhibitory time
 * constants.
 *
 *   dV/dt = -(V - E_L)/tau_m + (I_ex + I_in + I_e + I_dc)/C_m
 *   dI_ex/dt = -I_ex/tau_syn_ex,  dI_in/dt = -I_in/tau_syn_in
 * An input of weight w (pA) adds to I_ex if w >= 0, else to I_in (NEST
 * routes by sign). While refractory V is clamped to V_reset; the currents
 * go on and still receive input.
 *
 * The exact trajectory and the crossing search live in models/psc_exp.h
 * (shared with alif and li). Exact solution over s from a state (V0, Ie, Ii):
 *   V(s) = V_inf + (V0 - V_inf) e^{-s/tau_m} + (Ie/C) K_ex(s) + (Ii/C) K_in(s)
 *   K(s) = (e^{-s/tau_m} - e^{-s/tau_syn}) / (1/tau_syn - 1/tau_m)
 *        = s e^{-s/tau_m} (1 - e^{-x})/x,  x = s (1/tau_syn - 1/tau_m)
 * The second form is used for |x| < 0.5: it is exact and smooth through
 * tau_syn == tau_m (K = s e^{-s/tau}), with no cancellation near it.
 *
 * Threshold crossing: first root of g(s) = V(s) - V_th found by interval
 * subdivision with a rigorous upper bound of g on each interval (each
 * term's exact maximum there: the exponential term is monotone, K is
 * unimodal with a known peak), then bisection to ~1e-14 ms. No crossing is
 * missed unless it lasts less than that; none is reported late.
 */
#include <math.h>

#include "models/lif.h"
#include "models/model.h"
#include "models/psc_exp.h"

enum { P_TAU_M, P_TAU_EX, P_TAU_IN, P_C_M, P_E_L, P_V_TH, P_V_RESET, P_T_REF, P_I_E, NP };
enum { S_V, S_IEX, S_IIN, NS };
/* constants in mp->c */
enum { C_R, C_AEX, C_AIN, C_KMAX_EX, C_KMAX_IN, C_SPK_EX, C_SPK_IN, C_NREF };
/* the layout models/psc_exp.h's shared advance reads */
_Static_assert((int)P_I_E == (int)NORN__PSC_I_E && (int)P_V_RESET == (int)NORN__PSC_V_RESET && (int)S_IIN == (int)NORN__PSC_S_IIN &&
                   (int)C_SPK_IN == (int)NORN__PSC_C_SPK_IN,
               "lif follows psc_exp.h's layout");

static const norn_param_info params[NP] = {
    [P_TAU_M] = {"tau_m", "ms", 10.0, "membrane time constant"},
    [P_TAU_EX] = {"tau_syn_ex", "ms", 2.0, "excitatory synaptic time constant"},
    [P_TAU_IN] = {"tau_syn_in", "ms", 2.0, "inhibitory synaptic time constant"},
    [P_C_M] = {"C_m", "pF", 250.0, "membrane capacitance"},
    [P_E_L] = {"E_L", "mV", -70.0, "resting potential"},
    [P_V_TH] = {"V_th", "mV", -55.0, "spike threshold"},
    [P_V_RESET] = {"V_reset", "mV", -70.0, "reset potential"},
    [P_T_REF] = {"t_ref", "ms", 2.0, "absolute refractory period"},
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
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be > 0, got %g",
                             params[pos[k]].name, p[pos[k]]);
    if (!(p[P_T_REF] >= 0) || !isfinite(p[P_T_REF]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.t_ref: must be >= 0, got %g", p[P_T_REF]);
    if (!isfinite(p[P_E_L]) || !isfinite(p[P_V_TH]) || !isfinite(p[P_V_RESET]) || !isfinite(p[P_I_E]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params: E_L, V_th, V_reset and I_e must be finite");
    if (!(p[P_V_RESET] < p[P_V_TH]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.V_reset: must be below V_th (%g), got %g",
                         p[P_V_TH], p[P_V_RESET]);
    if (mp->mode == NORN_MODE_GRID) {
        double steps = p[P_T_REF] / mp->h;
        if (fabs(steps - nearbyint(steps)) > 1e-9 * fmax(1.0, steps))
            return NORN_FAIL(err, NORN_EINVAL, where,
                             "params.t_ref: %g ms is not a multiple of the resolution %g ms (grid mode)",
                             p[P_T_REF], mp->h);
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

static inline void make_traj(const norn_model_pop *mp, uint32_t i, traj *g) { norn__psc_make_traj(mp, i, g, 0); }

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    return norn__psc_advance(mp, i, t0, t1, t_cross, 0);
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
    return t > mp->ref_until[i] && mp->st[S_V][i] >= mp->p[P_V_TH];
}

static void fire(norn_model_pop *mp, uint32_t i, double t)
{
    mp->st[S_V][i] = mp->p[P_V_RESET];
    /* grid: the end of refractoriness is a grid time, made as every grid time is */
    if (mp->mode == NORN_MODE_GRID)
        mp->ref_until[i] = norn_grid_time(norn_grid_index(t, mp->h) + (int64_t)mp->c[C_NREF], mp->h);
    else
        norn__psc_fire_continuous(mp, i, t, mp->p[P_T_REF]);
}

static int may_fire(const norn_model_pop *mp, uint32_t i, double t)
{
    /* driven above threshold: fires sooner or later (the common case of
     * networks that never rest, as cuba) */
    if (mp->p[P_E_L] + (mp->p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0)) * mp->c[C_R] >= mp->p[P_V_TH])
        return 1;
    traj g;
    make_traj(mp, i, &g);
    if (t < mp->ref_until[i])
        g.dv = mp->p[P_V_RESET] - g.vinf;
    double ub = g.vinf + fmax(g.dv, 0.0);
    if (g.qe > 0)
        ub += g.qe * g.kmax_e;
    if (g.qi > 0)
        ub += g.qi * g.kmax_i;
    return ub >= mp->p[P_V_TH];
}

static double quiet_until(const norn_model_pop *mp, uint32_t i, double t0)
{
    return norn__psc_quiet_until(mp, i, t0, 0.0);
}

static int driven(const norn_model_pop *mp, uint32_t i)
{
    return mp->p[P_E_L] + (mp->p[P_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0)) * mp->c[C_R] >= mp->p[P_V_TH];
}

/* advance() + input() + above() + fire() for a whole step (models/model.h);
 * the engine calls it only where every advance is one grid step, so the
 * advance never stops at a crossing inside (psc_exp.h's one-step commit). */
static uint32_t grid_step(norn_model_pop *mp, const norn_grid_step *g)
{
    double *V = mp->st[S_V], *Ie = mp->st[S_IEX], *Ii = mp->st[S_IIN], *ru = mp->ref_until, *tl = g->t_last;
    const double *p = mp->p;
    const double t = g->t, vth = p[P_V_TH];
    const double vinf = p[P_E_L] + (p[P_I_E] + 0.0) * mp->c[C_R]; /* make_traj's, without DC */
    const int all = g->all, test = g->test;
    norn__psc_terms r = norn__psc_origin();
    double Dc = NAN; /* the interval r is for */
    uint32_t nf = 0;
    for (uint32_t i = g->lo, n = g->hi; i < n; i++) {
        unsigned f = g->flags[i];
        if (!f && !all)
            continue;
        if (tl[i] < t) {
            /* norn__psc_advance's one-step grid path, operation for operation */
            double t0 = tl[i], D = t - t0;
            if (ru[i] > t0) {
                double te = t < ru[i] ? t : ru[i];
                Ie[i] *= exp(-(te - t0) / p[P_TAU_EX]);
                Ii[i] *= exp(-(te - t0) / p[P_TAU_IN]);
                V[i] = p[P_V_RESET];
                if (!(t <= ru[i])) {
                    double tc;
                    (void)norn__psc_advance(mp, i, ru[i], t, &tc, 0);
                }
            } else {
                if (D != Dc) {
                    traj gt;
                    make_traj(mp, i, &gt);
                    r = norn__psc_at_cached(mp, &gt, D);
                    Dc = D;
                }
                double dv = V[i] - vinf, qe = Ie[i] / p[P_C_M], qi = Ii[i] / p[P_C_M];
                V[i] = vinf + dv * r.em + qe * r.ke + qi * r.ki;
                Ie[i] *= r.es;
                Ii[i] *= r.ei;
            }
            tl[i] = t;
        }
        if (f) {
            norn_grid_apply_inputs(mp, g, i, t, input);
            g->flags[i] = 0;
        }
        if (test && t > ru[i] && V[i] >= vth) {
            fire(mp, i, t);
            g->fired[nf++] = i;
        }
    }
    return nf;
}

/* The lean pass's arithmetic (models/lif.h), per block of neurons: the
 * block's update (one vectorised loop), then, only where some neuron of the
 * block is above threshold, a scalar scan for it, so that the list stays
 * out of the vector loop. The x86-64-v4 (AVX-512, 8 lanes; ~5% of cuba's
 * loop over avx2) and avx2 clones give the bits of the default one: the
 * same IEEE operations in the same order, lane by lane (-ffp-contract=off:
 * no FMA contraction, none in the v4 clone's code; no reassociation).
 * no-trapping-math lets the compares become masks and selects (it only
 * declares that FP exceptions are not observed; no value changes). */
typedef struct {
    double t0, t1, vinf, vreset, vth, em, kec, kic, es, ei;
} lean_k;

enum { LEAN_BLOCK = 64 };

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
/* AVX-512 and AVX2 clones beside the default (the same IEEE operations,
 * no FMA: -ffp-contract=off); no-trapping-math lets gcc turn the tests
 * into vector selects (only FP exception flags differ) */
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default"), optimize("no-trapping-math")))
#endif
static uint32_t
lean_run(double *restrict V, double *restrict Ie, double *restrict Ii, const double *restrict ru,
         uint32_t *restrict cand, uint32_t lo, uint32_t hi, const lean_k *k)
{
    const double t0 = k->t0, t1 = k->t1, vinf = k->vinf, vreset = k->vreset, vth = k->vth, em = k->em,
                 kec = k->kec, kic = k->kic, es = k->es, ei = k->ei;
    uint32_t nc = 0;
    for (uint32_t b = lo; b < hi; b += LEAN_BLOCK) {
        uint32_t e = hi - b > LEAN_BLOCK ? b + LEAN_BLOCK : hi;
        long any = 0;
        for (uint32_t i = b; i < e; i++) {
            double v = V[i], ie = Ie[i], ii = Ii[i], r = ru[i];
            double vn = vinf + (v - vinf) * em + ie * kec + ii * kic;
            /* refractory at t0: clamped (then refractory up to t1 at least:
             * its end is a grid time after t0) */
            v = r > t0 ? vreset : vn;
            V[i] = v;
            Ie[i] = ie * es;
            Ii[i] = ii * ei;
            long up = t1 > r, above = v >= vth;
            any |= up & above;
        }
        if (any)
            for (uint32_t i = b; i < e; i++)
                if (t1 > ru[i] && V[i] >= vth)
                    cand[nc++] = i;
    }
    return nc;
}

uint32_t norn__lif_lean_advance(norn_model_pop *mp, double t0, double t1, uint32_t lo, uint32_t hi,
                                double *t_last, uint32_t *cand)
{
    if (lo >= hi) /* an empty block (an MPI rank's share); make_traj below reads neuron lo */
        return 0;
    const double *p = mp->p;
    traj g;
    make_traj(mp, lo, &g);
    /* the lazy path's terms over D = t1 - t0 (its cache, its bits); the
     * refractory branch's exp(-(t1 - t0)/tau_syn) is r.es, r.ei */
    norn__psc_terms r = norn__psc_at_cached(mp, &g, t1 - t0);
    lean_k k = {
        .t0 = t0, .t1 = t1, .vinf = p[P_E_L] + (p[P_I_E] + 0.0) * mp->c[C_R], .vreset = p[P_V_RESET],
        .vth = p[P_V_TH], .em = r.em, .kec = r.ke / p[P_C_M], .kic = r.ki / p[P_C_M], .es = r.es, .ei = r.ei,
    };
    uint32_t nc = lean_run(mp->st[S_V], mp->st[S_IEX], mp->st[S_IIN], mp->ref_until, cand, lo, hi, &k);
    for (uint32_t i = lo; t_last && i < hi; i++)
        t_last[i] = t1;
    return nc;
}

const norn_model_type norn_model_lif = {
    .name = "lif",
    .doc = "leaky integrate-and-fire, exponential synaptic currents (weight in pA), as NEST iaf_psc_exp",
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
    .grid_step = grid_step,
    .driven = driven,
    .quiet_until = quiet_until,
};
