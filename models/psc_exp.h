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

typedef struct {
    double em, ke, ki, eth;
} norn__psc_terms;

static inline norn__psc_terms norn__psc_at(const norn__psc_traj *g, double s)
{
    norn__psc_terms r;
    r.em = exp(-s / g->tm);
    r.ke = norn__psc_kernel(s, r.em, exp(-s / g->te), g->ae);
    r.ki = norn__psc_kernel(s, r.em, exp(-s / g->ti), g->ai);
    r.eth = g->th != 0.0 ? exp(-s / g->tth) : 0.0;
    return r;
}

/* The terms at s = 0. */
static inline norn__psc_terms norn__psc_origin(void) { return (norn__psc_terms){1.0, 0.0, 0.0, 1.0}; }

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
 * 1 and *s_out, or 0. */
static inline int norn__psc_search(const norn__psc_traj *g, double vth, double a, norn__psc_terms ta, double b,
                                   norn__psc_terms tb, double tol, int depth, double *s_out)
{
    if (norn__psc_upper(g, a, &ta, b, &tb) < vth)
        return 0;
    if (norn__psc_g(g, &tb) >= vth) {
        /* a crossing lies in (a, b]: bisect, keeping the first one */
        while (b - a > tol) {
            double m = 0.5 * (a + b);
            norn__psc_terms tm = norn__psc_at(g, m);
            if (norn__psc_g(g, &tm) >= vth) {
                b = m;
                tb = tm;
            } else {
                if (depth < 200 && norn__psc_search(g, vth, a, ta, m, tm, tol, depth + 1, s_out))
                    return 1;
                a = m;
                ta = tm;
            }
        }
        *s_out = b;
        return 1;
    }
    if (b - a <= tol || depth >= 200)
        return 0;
    double m = 0.5 * (a + b);
    norn__psc_terms tm = norn__psc_at(g, m);
    if (norn__psc_search(g, vth, a, ta, m, tm, tol, depth + 1, s_out))
        return 1;
    return norn__psc_search(g, vth, m, tm, b, tb, tol, depth + 1, s_out);
}

#endif
