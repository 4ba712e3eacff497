/* models/psc_exp.h - internal: the exact trajectory of a current-based LIF
 * with two exponentially decaying synaptic currents (lif, alif, li), and
 * the search for its first threshold crossing. Shared by those models only.
 *
 * Over s >= 0 from a state (V0, Ie, Ii) under a constant drive:
 *   V(s) = V_inf + (V0 - V_inf) e^{-s/tau_m} + (Ie/C) K_ex(s) + (Ii/C) K_in(s)
 *   K(s) = (e^{-s/tau_m} - e^{-s/tau_syn}) / (1/tau_syn - 1/tau_m)
 *        = s e^{-s/tau_m} (1 - e^{-x})/x,  x = s (1/tau_syn - 1/tau_m)
 * The second form is used for |x| < 0.5: exact and smooth through
 * tau_syn == tau_m (K = s e^{-s/tau}), with no cancellation near it.
 * An optional adaptive threshold adds theta(s) = theta0 e^{-s/tau_theta}
 * to V_th (theta0 = 0: plain LIF, and the term costs nothing).
 *
 * The first crossing of g(s) = V(s) - theta(s) - V_th is found by interval
 * subdivision with a rigorous upper bound of g on each interval (each
 * term's exact maximum there: the exponential terms are monotone, each K is
 * unimodal with a known peak), then bisection to the given tolerance. No
 * crossing is missed unless it lasts less than that; none is reported late.
 *
 * Continuous mode keeps time below the double's resolution (issue 8): a
 * spike time t0 + s is rounded to a double, an ulp of 7.5e-9 ms after 10 h,
 * and the next interval would start from the rounded time, so rounding that
 * leans one way adds up (5e-3 ms after 10 h of 30 ms intervals). The
 * rounding error of the spike time and of the end of refractoriness
 * (t + t_ref) is kept in the hidden per-neuron phase (the first hidden
 * array, NORN__PSC_PHASE): V restarts from V_reset that much after the
 * refractory end's double, and the next crossing is found relative to the
 * true restart, to 1e-15 of the interval rather than of the absolute time.
 */
#ifndef NORN_PSC_EXP_H
#define NORN_PSC_EXP_H

#include <math.h>

/* K(s) given e^{-s/tau_m} = em, e^{-s/tau_syn} = es, a = 1/tau_syn - 1/tau_m. */
static inline double norn__psc_kernel(double s, double em, double es, double a)
{
    double x = a * s;
    if (fabs(x) < 0.5)
        return x == 0.0 ? s * em : s * em * (-expm1(-x) / x);
    return (em - es) / a;
}

/* Per-channel constants: a = 1/tau_syn - 1/tau_m, the time of K's peak and
 * its value there. */
static inline void norn__psc_channel(double tau_m, double tau_syn, double *a, double *peak_s, double *kmax)
{
    *a = 1.0 / tau_syn - 1.0 / tau_m;
    *peak_s = fabs(*a * tau_m) < 1e-12 ? tau_m : log(tau_m / tau_syn) / *a;
    *kmax = norn__psc_kernel(*peak_s, exp(-*peak_s / tau_m), exp(-*peak_s / tau_syn), *a);
}

typedef struct {
    double vinf, dv;   /* V_inf, V0 - V_inf */
    double qe, qi;     /* Ie/C, Ii/C (mV/ms) */
    double th;         /* theta0 (mV); 0 without adaptation */
    double tm, te, ti, tth;
    double ae, ai;
    double spk_e, spk_i, kmax_e, kmax_i;
} norn__psc_traj;

/* The trajectory's terms at s: membrane decay, the two PSP kernels, the
 * threshold's decay, the two currents' decays. They depend on s and the
 * population's constants only (eth is used only where theta != 0). */
typedef struct {
    double em, ke, ki, eth, es, ei;
} norn__psc_terms;

static inline norn__psc_terms norn__psc_at(const norn__psc_traj *g, double s)
{
    norn__psc_terms r;
    r.em = exp(-s / g->tm);
    r.es = exp(-s / g->te);
    r.ei = exp(-s / g->ti);
    r.ke = norn__psc_kernel(s, r.em, r.es, g->ae);
    r.ki = norn__psc_kernel(s, r.em, r.ei, g->ai);
    r.eth = exp(-s / g->tth);
    return r;
}

/* The terms at s = 0. */
static inline norn__psc_terms norn__psc_origin(void) { return (norn__psc_terms){1.0, 0.0, 0.0, 1.0, 1.0, 1.0}; }


static inline double norn__psc_v(const norn__psc_traj *g, const norn__psc_terms *r)
{
    return g->vinf + g->dv * r->em + g->qe * r->ke + g->qi * r->ki;
}

/* V - theta, the quantity compared with V_th. */
static inline double norn__psc_g(const norn__psc_traj *g, const norn__psc_terms *r)
{
    return norn__psc_v(g, r) - g->th * r->eth;
}

/* Upper bound of V - theta on [a, b] given the terms at both ends. */
static inline double norn__psc_upper(const norn__psc_traj *g, double a, const norn__psc_terms *ta, double b,
                                     const norn__psc_terms *tb)
{
    double ub = g->vinf + fmax(g->dv * ta->em, g->dv * tb->em);
    double kmax = fmax(ta->ke, tb->ke), kmin = fmin(ta->ke, tb->ke);
    if (g->spk_e > a && g->spk_e < b)
        kmax = g->kmax_e;
    ub += g->qe >= 0 ? g->qe * kmax : g->qe * kmin;
    kmax = fmax(ta->ki, tb->ki);
    kmin = fmin(ta->ki, tb->ki);
    if (g->spk_i > a && g->spk_i < b)
        kmax = g->kmax_i;
    ub += g->qi >= 0 ? g->qi * kmax : g->qi * kmin;
    if (g->th != 0.0)
        ub += fmax(-g->th * ta->eth, -g->th * tb->eth); /* monotone */
    return ub;
}

/* First s in (a, b] with V(s) - theta(s) >= vth, given it is below at a;
 * 1 and *s_out, or 0. An excursion above vth shorter than tol may be
 * missed. The crossing is bracketed to tol and reported at the bracket's
 * end, or (interp) where the chord across the bracket meets vth: g is
 * smooth, so that is exact to ~tol^2 instead of late by up to tol. */
static inline int norn__psc_search(const norn__psc_traj *g, double vth, double a, norn__psc_terms ta, double b,
                                   norn__psc_terms tb, double tol, int interp, int depth, double *s_out)
{
    if (norn__psc_upper(g, a, &ta, b, &tb) < vth)
        return 0;
    double gb = norn__psc_g(g, &tb);
    if (gb >= vth) {
        /* a crossing lies in (a, b]: bisect, keeping the first one */
        double ga = NAN;
        while (b - a > tol) {
            double m = 0.5 * (a + b);
            norn__psc_terms tm = norn__psc_at(g, m);
            double gm = norn__psc_g(g, &tm);
            if (gm >= vth) {
                b = m;
                tb = tm;
                gb = gm;
            } else {
                if (depth < 200 && norn__psc_search(g, vth, a, ta, m, tm, tol, interp, depth + 1, s_out))
                    return 1;
                a = m;
                ta = tm;
                ga = gm;
            }
        }
        if (interp && !isnan(ga) && gb > ga) {
            double s = a + (b - a) * ((vth - ga) / (gb - ga));
            *s_out = s > a && s < b ? s : b;
        } else {
            *s_out = b;
        }
        return 1;
    }
    if (b - a <= tol || depth >= 200)
        return 0;
    double m = 0.5 * (a + b);
    norn__psc_terms tm = norn__psc_at(g, m);
    if (norn__psc_search(g, vth, a, ta, m, tm, tol, interp, depth + 1, s_out))
        return 1;
    return norn__psc_search(g, vth, m, tm, b, tb, tol, interp, depth + 1, s_out);
}

/* ---- the model's side: lif and alif share this layout */

#include "models/model.h"
#include <string.h>

/* norn__psc_at through a direct-mapped cache in mp->cache keyed by s: the
 * sweeps of a window and the targets of one spike share their intervals,
 * so most advances cost no exp. Cleared by norn__psc_cache_clear. */
#define NORN__PSC_SLOTS 16 /* 7 doubles each in mp->cache[128]; a power of two */
static inline void norn__psc_cache_clear(norn_model_pop *mp)
{
    for (int k = 0; k < NORN__PSC_SLOTS; k++)
        mp->cache[7 * k] = NAN; /* never equal to an interval */
}

static inline norn__psc_terms norn__psc_at_cached(norn_model_pop *mp, const norn__psc_traj *g, double s)
{
    uint64_t bits;
    memcpy(&bits, &s, sizeof bits);
    double *c = mp->cache + 7 * (unsigned)(((bits * 0x9e3779b97f4a7c15ULL) >> 32) & (NORN__PSC_SLOTS - 1));
    if (c[0] == s)
        return (norn__psc_terms){c[1], c[2], c[3], c[4], c[5], c[6]};
    norn__psc_terms r = norn__psc_at(g, s);
    c[0] = s;
    c[1] = r.em;
    c[2] = r.ke;
    c[3] = r.ki;
    c[4] = r.eth;
    c[5] = r.es;
    c[6] = r.ei;
    return r;
}

/* The phase (ms): how much later than its double the current interval
 * truly started; the first hidden state array of lif and alif. */
#define NORN__PSC_PHASE(mp) ((mp)->st[(mp)->type->n_state])

/* a + b = *hi + *lo exactly (Knuth's TwoSum). */
static inline void norn__psc_two_sum(double a, double b, double *hi, double *lo)
{
    double x = a + b, z = x - a;
    *hi = x;
    *lo = (a - (x - z)) + (b - z);
}

/* The model's fire() in continuous mode: refractory until t + t_ref, with
 * that sum's rounding error and the spike time's (left by advance) kept in
 * the phase. */
static inline void norn__psc_fire_continuous(norn_model_pop *mp, uint32_t i, double t, double t_ref)
{
    double end, lo;
    norn__psc_two_sum(t, t_ref, &end, &lo);
    mp->ref_until[i] = end;
    NORN__PSC_PHASE(mp)[i] += lo;
}

/* Parameter indices (lif's table; alif appends tau_theta, q_theta), state
 * indices (alif adds theta) and constants in mp->c, shared by both. */
enum { NORN__PSC_TAU_M, NORN__PSC_TAU_EX, NORN__PSC_TAU_IN, NORN__PSC_C_M, NORN__PSC_E_L, NORN__PSC_V_TH,
       NORN__PSC_V_RESET, NORN__PSC_T_REF, NORN__PSC_I_E, NORN__PSC_TAU_TH };
enum { NORN__PSC_S_V, NORN__PSC_S_IEX, NORN__PSC_S_IIN, NORN__PSC_S_TH };
enum { NORN__PSC_C_R, NORN__PSC_C_AEX, NORN__PSC_C_AIN, NORN__PSC_C_KMAX_EX, NORN__PSC_C_KMAX_IN,
       NORN__PSC_C_SPK_EX, NORN__PSC_C_SPK_IN, NORN__PSC_C_NREF };

/* The trajectory of neuron i from its current state; theta: the model has
 * the adaptive-threshold state. */
static inline void norn__psc_make_traj(const norn_model_pop *mp, uint32_t i, norn__psc_traj *g, int theta)
{
    const double *p = mp->p, *c = mp->c;
    double I = p[NORN__PSC_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    g->vinf = p[NORN__PSC_E_L] + I * c[NORN__PSC_C_R];
    g->dv = mp->st[NORN__PSC_S_V][i] - g->vinf;
    g->qe = mp->st[NORN__PSC_S_IEX][i] / p[NORN__PSC_C_M];
    g->qi = mp->st[NORN__PSC_S_IIN][i] / p[NORN__PSC_C_M];
    g->th = theta ? mp->st[NORN__PSC_S_TH][i] : 0.0;
    g->tm = p[NORN__PSC_TAU_M];
    g->te = p[NORN__PSC_TAU_EX];
    g->ti = p[NORN__PSC_TAU_IN];
    g->tth = theta ? p[NORN__PSC_TAU_TH] : 1.0;
    g->ae = c[NORN__PSC_C_AEX];
    g->ai = c[NORN__PSC_C_AIN];
    g->spk_e = c[NORN__PSC_C_SPK_EX];
    g->spk_i = c[NORN__PSC_C_SPK_IN];
    g->kmax_e = c[NORN__PSC_C_KMAX_EX];
    g->kmax_i = c[NORN__PSC_C_KMAX_IN];
}

/* Sets the state to the trajectory's value at s. */
static inline void norn__psc_commit(norn_model_pop *mp, uint32_t i, const norn__psc_traj *g, double s,
                                    const norn__psc_terms *r, int theta)
{
    (void)s;
    mp->st[NORN__PSC_S_V][i] = norn__psc_v(g, r);
    mp->st[NORN__PSC_S_IEX][i] *= r->es;
    mp->st[NORN__PSC_S_IIN][i] *= r->ei;
    if (theta && g->th != 0.0) /* theta = 0 stays 0 */
        mp->st[NORN__PSC_S_TH][i] *= r->eth;
}

/* The model's quiet_until() (models/model.h), against V_th + dth (alif:
 * the lowest its threshold goes, V_th + min(theta, 0); lif: V_th). From
 * the state at t0 (or, refractory, V_reset at its end, the
 * currents only smaller by then) with V0 = V_inf + dv, V(s) = V_inf +
 * dv e^(-s/tau_m) + qe K_e(s) + qi K_i(s), 0 <= K(s) <= min(kmax, s), is
 * below both
 *   U1(s) = V_inf + dv e^(-s/tau_m) + B,  B = qe+ kmax_e + qi+ kmax_i, and
 *   U2(s) = V0 + s (max(-dv, 0)/tau_m + qe+ + qi+)  (e^-x >= 1 - x),
 * (q+ = max(q, 0)); V cannot reach V_th before the later of the times each
 * reaches it. Against V_th less 1e-9 of it, the result less 1e-12 of
 * itself and of t0: far more than the rounding of V, of this arithmetic
 * and of the phase. */
static inline double norn__psc_quiet_until(const norn_model_pop *mp, uint32_t i, double t0, double dth)
{
    const double *p = mp->p, *c = mp->c;
    const double vth = norn__quiet_vth(p[NORN__PSC_V_TH] + dth, 1e-9);
    double start, v0 = norn__quiet_from(mp, i, t0, NORN__PSC_S_V, p[NORN__PSC_V_RESET], &start);
    if (!(v0 < vth)) /* also NaN */
        return t0;
    const double I = p[NORN__PSC_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    const double vinf = p[NORN__PSC_E_L] + I * c[NORN__PSC_C_R], dv = v0 - vinf, tm = p[NORN__PSC_TAU_M];
    const double qe = fmax(mp->st[NORN__PSC_S_IEX][i] / p[NORN__PSC_C_M], 0.0);
    const double qi = fmax(mp->st[NORN__PSC_S_IIN][i] / p[NORN__PSC_C_M], 0.0);
    const double m = vth - vinf - (qe * c[NORN__PSC_C_KMAX_EX] + qi * c[NORN__PSC_C_KMAX_IN]);
    double s1; /* U1 < V_th while dv e^(-s/tau_m) < m */
    if (!(dv < m))
        s1 = 0.0;
    else if (dv >= 0.0 || m >= 0.0)
        s1 = INFINITY; /* U1 falls from below V_th, or rises to V_inf + B <= V_th */
    else
        s1 = tm * log(dv / m);
    double slope = fmax(-dv, 0.0) / tm + qe + qi;
    double s2 = slope > 0.0 ? (vth - v0) / slope : INFINITY;
    double s = s1 > s2 ? s1 : s2;
    if (!(s > 0.0)) /* also NaN */
        return t0;
    return norn__quiet_at(t0, start, s);
}

/* The model's advance() (models/model.h): exact from t0 to t1, stopping at
 * the first crossing of V_th (+ theta): exactly in continuous mode, at the
 * first grid point where V is above it in grid mode. While refractory V is
 * clamped and the currents (and theta) decay. */
static inline int norn__psc_advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross,
                                    int theta)
{
    const double *p = mp->p;
    if (mp->ref_until[i] > t0) {
        double te = t1 < mp->ref_until[i] ? t1 : mp->ref_until[i];
        mp->st[NORN__PSC_S_IEX][i] *= exp(-(te - t0) / p[NORN__PSC_TAU_EX]);
        mp->st[NORN__PSC_S_IIN][i] *= exp(-(te - t0) / p[NORN__PSC_TAU_IN]);
        if (theta)
            mp->st[NORN__PSC_S_TH][i] *= exp(-(te - t0) / p[NORN__PSC_TAU_TH]);
        mp->st[NORN__PSC_S_V][i] = p[NORN__PSC_V_RESET];
        if (t1 <= mp->ref_until[i])
            return 0;
        t0 = mp->ref_until[i];
    }
    if (t1 <= t0)
        return 0;
    const double vth = p[NORN__PSC_V_TH];
    /* continuous: the interval truly starts phi after t0; the currents
     * (and theta) are taken there, V restarts there */
    double phi = 0.0;
    if (t0 == mp->ref_until[i] && mp->mode != NORN_MODE_GRID && (phi = NORN__PSC_PHASE(mp)[i]) != 0.0) {
        NORN__PSC_PHASE(mp)[i] = 0.0;
        mp->st[NORN__PSC_S_IEX][i] *= exp(-phi / p[NORN__PSC_TAU_EX]);
        mp->st[NORN__PSC_S_IIN][i] *= exp(-phi / p[NORN__PSC_TAU_IN]);
        if (theta)
            mp->st[NORN__PSC_S_TH][i] *= exp(-phi / p[NORN__PSC_TAU_TH]);
    }
    if (mp->mode == NORN_MODE_GRID && t1 - t0 < 1.5 * mp->h) {
        /* grid, one step: no grid point inside (t0, t1) to test, so the
         * commit at the end of the loop below without the search (the same
         * operations, bit for bit) */
        norn__psc_traj g;
        norn__psc_make_traj(mp, i, &g, theta);
        norn__psc_terms t_b = norn__psc_at_cached(mp, &g, t1 - t0);
        norn__psc_commit(mp, i, &g, t1 - t0, &t_b, theta);
        return 0;
    }
    for (;;) {
        norn__psc_traj g;
        norn__psc_make_traj(mp, i, &g, theta);
        double D = phi == 0.0 ? t1 - t0 : (t1 - t0) - phi;
        norn__psc_terms t_a = norn__psc_origin();
        norn__psc_terms t_b = norn__psc_at_cached(mp, &g, D);
        double tol = 1e-15 * fmax(1.0, fabs(t1));
        double s;
        if (g.vinf + g.dv - g.th < vth &&
            norn__psc_search(&g, vth, 0.0, t_a, D, t_b, tol, mp->mode != NORN_MODE_GRID, 0, &s)) {
            double th = theta ? mp->st[NORN__PSC_S_TH][i] : 0.0;
            if (mp->mode != NORN_MODE_GRID) {
                norn__psc_terms r = norn__psc_at(&g, s);
                norn__psc_commit(mp, i, &g, s, &r, theta);
                th = theta ? mp->st[NORN__PSC_S_TH][i] : 0.0;
                if (mp->st[NORN__PSC_S_V][i] < vth + th)
                    mp->st[NORN__PSC_S_V][i] = vth + th;
                /* the crossing is at t0 + phi + s: its double, and the
                 * rest in the phase for fire() */
                double tc, lo;
                norn__psc_two_sum(t0, phi + s, &tc, &lo);
                if (tc > t1) {
                    lo += tc - t1;
                    tc = t1;
                }
                NORN__PSC_PHASE(mp)[i] = lo;
                *t_cross = tc;
                return 1;
            }
            /* grid: the first grid point at or after the crossing */
            double gp = norn_grid_ceil(t0 + s, mp->h);
            if (gp <= t0)
                gp = norn_grid_ceil(t0 + 0.5 * mp->h, mp->h);
            if (gp < t1) {
                norn__psc_terms r = norn__psc_at_cached(mp, &g, gp - t0);
                norn__psc_commit(mp, i, &g, gp - t0, &r, theta);
                t0 = gp;
                th = theta ? mp->st[NORN__PSC_S_TH][i] : 0.0;
                if (mp->st[NORN__PSC_S_V][i] >= vth + th) {
                    *t_cross = gp;
                    return 1;
                }
                continue; /* the excursion ended between grid points */
            }
        }
        norn__psc_commit(mp, i, &g, D, &t_b, theta);
        return 0;
    }
}

#endif