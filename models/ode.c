/* models/ode.c - Dormand-Prince 5(4) with dense output, crossing location
 * on the dense output, a grid-step driver and a trapping-box test (see
 * ode.h). */
#include "models/ode.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "models/model.h"

/* Dormand & Prince (1980) coefficients, Hairer's dense output (dopri5.f). */
static const double c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9; /* c6 = c7 = 1 */
static const double a21 = 1.0 / 5;
static const double a31 = 3.0 / 40, a32 = 9.0 / 40;
static const double a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
static const double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729;
static const double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176,
                    a65 = -5103.0 / 18656;
static const double a71 = 35.0 / 384, a73 = 500.0 / 1113, a74 = 125.0 / 192, a75 = -2187.0 / 6784, a76 = 11.0 / 84;
static const double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200, e6 = 22.0 / 525,
                    e7 = -1.0 / 40;
static const double d1 = -12715105075.0 / 11282082432.0, d3 = 87487479700.0 / 32700410799.0,
                    d4 = -10690763975.0 / 1880347072.0, d5 = 701980252875.0 / 199316789632.0,
                    d6 = -1453857185.0 / 822651844.0, d7 = 69997945.0 / 29380423.0;

typedef struct {
    double k[7][NORN_ODE_MAX];
} stages;

/* Dense output coefficients of component i for the step y0 -> y1 of size h. */
static inline void dense_coef(const stages *K, const double *y0, const double *y1, double h, int i, double r[5])
{
    double ydiff = y1[i] - y0[i];
    double bspl = h * K->k[0][i] - ydiff;
    r[0] = y0[i];
    r[1] = ydiff;
    r[2] = bspl;
    r[3] = ydiff - h * K->k[6][i] - bspl;
    r[4] =
        h * (d1 * K->k[0][i] + d3 * K->k[2][i] + d4 * K->k[3][i] + d5 * K->k[4][i] + d6 * K->k[5][i] + d7 * K->k[6][i]);
}

static inline double dense_eval(const double r[5], double th)
{
    double th1 = 1.0 - th;
    return r[0] + th * (r[1] + th1 * (r[2] + th * (r[3] + th1 * r[4])));
}

/* First point of [lo, hi] (step fractions) where the quartic with Bernstein
 * coefficients b reaches L, to tol; b[0] < L except by rounding at a step
 * start. Returns 1 and *th, or 0 if there is none (or only an excursion
 * shorter than tol). */
static int first_root(const double b[5], double L, double lo, double hi, double tol, int depth, double *th)
{
    double mx = b[0];
    for (int k = 1; k < 5; k++)
        mx = b[k] > mx ? b[k] : mx;
    if (mx < L)
        return 0;
    if (b[0] >= L) {
        *th = lo;
        return 1;
    }
    if (hi - lo <= tol || depth >= 64) {
        if (b[4] >= L) {
            *th = hi;
            return 1;
        }
        return 0;
    }
    /* de Casteljau at 1/2 */
    double l[5], r[5], w[5];
    memcpy(w, b, sizeof w);
    l[0] = w[0];
    r[4] = w[4];
    for (int j = 1; j < 5; j++) {
        for (int k = 0; k < 5 - j; k++)
            w[k] = 0.5 * (w[k] + w[k + 1]);
        l[j] = w[0];
        r[4 - j] = w[4 - j];
    }
    double mid = 0.5 * (lo + hi);
    if (first_root(l, L, lo, mid, tol, depth + 1, th))
        return 1;
    return first_root(r, L, mid, hi, tol, depth + 1, th);
}

/* 0.9 e^(-1/5), the step controller's factor for an error ratio e > 0, as
 * exp(-log(e) / 5): a heuristic, with no need of pow's correct rounding
 * (pow was 15% of a continuous coba run). Below 0.18^5 the factor is
 * above the largest, 5, anyway. */
static inline double step_fac(double e) { return e < 1.889568e-4 ? 5.0 : 0.9 * exp(-0.2 * log(e)); }

/* Initial step (Hairer & Wanner's hinit), on the integrated components. */
static double initial_step(const norn_ode_sys *s, const double *y, const double *f0, double hmax, uint64_t *evals)
{
    int n = s->n, nt = s->n + s->n_decay;
    double dnf = 0, dny = 0;
    for (int i = 0; i < n; i++) {
        double sk = s->atol[i] + s->rtol * fabs(y[i]);
        dnf += (f0[i] / sk) * (f0[i] / sk);
        dny += (y[i] / sk) * (y[i] / sk);
    }
    double h = (dnf <= 1e-10 || dny <= 1e-10) ? 1e-6 : 0.01 * sqrt(dny / dnf);
    h = fmin(h, hmax);
    double y1[NORN_ODE_MAX], f1[NORN_ODE_MAX];
    for (int i = 0; i < nt; i++)
        y1[i] = i < n ? y[i] + h * f0[i] : y[i];
    s->f(y1, f1, s->ctx);
    (*evals)++;
    double der2 = 0;
    for (int i = 0; i < n; i++) {
        double sk = s->atol[i] + s->rtol * fabs(y[i]);
        double d = (f1[i] - f0[i]) / sk;
        der2 += d * d;
    }
    der2 = sqrt(der2) / h;
    double der12 = fmax(der2, sqrt(dnf));
    double h1 = der12 <= 1e-15 ? fmax(1e-6, h * 1e-3) : pow(0.01 / der12, 0.2);
    h = fmin(100 * h, h1);
    if (!(h > 0) || !isfinite(h))
        h = 1e-6;
    return fmin(h, hmax);
}

/* The exactly decaying components of y0 after time dt, into out. */
static inline void decay(const norn_ode_sys *s, const double *y0, double dt, double *out)
{
    for (int j = s->n; j < s->n + s->n_decay; j++)
        out[j] = y0[j] * exp(-dt * s->decay_rate[j - s->n]);
}

int norn_ode_integrate(const norn_ode_sys *sys, double T, double *y, double *hp, double *s_ev, norn_ode_stats *stats)
{
    const int n = sys->n, nt = sys->n + sys->n_decay;
    norn_ode_stats st = {0, 0, 0, 0};
    if (!(T > 0))
        return 0;
    const double hmax = sys->h_max > 0 ? sys->h_max : INFINITY;
    const int ev = (sys->ev >= 0 && y[sys->ev] < sys->ev_level) ? sys->ev : -1;
    stages K;
    double y1[NORN_ODE_MAX], yt[NORN_ODE_MAX];
    sys->f(y, K.k[0], sys->ctx);
    st.evals++;
    double h = *hp > 0 ? fmin(*hp, hmax) : initial_step(sys, y, K.k[0], hmax, &st.evals);
    double s = 0, hint = h;
    int rejected = 0, ret = 0;
    for (;;) {
        double hmin = fmax(1e-13, 8 * DBL_EPSILON * s);
        int last = 0;
        double hwant = h;
        if (s + h >= T) {
            h = T - s;
            last = 1;
        }
        int forced = h < hmin && !last;
        if (forced && ev >= 0 && K.k[0][ev] > 0) {
            /* stalled on a rising event component: the divergent upstroke
             * (adex near V_peak), which reaches the level within about the
             * time the step control asks for */
            y[ev] = sys->ev_level;
            *s_ev = s;
            ret = 1;
            break;
        }
        if (forced)
            h = hmin;
        /* stages */
        const double(*k)[NORN_ODE_MAX] = (const double(*)[NORN_ODE_MAX])K.k;
        for (int i = 0; i < n; i++)
            yt[i] = y[i] + h * a21 * k[0][i];
        decay(sys, y, c2 * h, yt);
        sys->f(yt, K.k[1], sys->ctx);
        for (int i = 0; i < n; i++)
            yt[i] = y[i] + h * (a31 * k[0][i] + a32 * k[1][i]);
        decay(sys, y, c3 * h, yt);
        sys->f(yt, K.k[2], sys->ctx);
        for (int i = 0; i < n; i++)
            yt[i] = y[i] + h * (a41 * k[0][i] + a42 * k[1][i] + a43 * k[2][i]);
        decay(sys, y, c4 * h, yt);
        sys->f(yt, K.k[3], sys->ctx);
        for (int i = 0; i < n; i++)
            yt[i] = y[i] + h * (a51 * k[0][i] + a52 * k[1][i] + a53 * k[2][i] + a54 * k[3][i]);
        decay(sys, y, c5 * h, yt);
        sys->f(yt, K.k[4], sys->ctx);
        decay(sys, y, h, y1); /* c6 = c7 = 1 */
        for (int i = 0; i < n; i++)
            yt[i] = y[i] + h * (a61 * k[0][i] + a62 * k[1][i] + a63 * k[2][i] + a64 * k[3][i] + a65 * k[4][i]);
        for (int j = n; j < nt; j++)
            yt[j] = y1[j];
        sys->f(yt, K.k[5], sys->ctx);
        for (int i = 0; i < n; i++)
            y1[i] = y[i] + h * (a71 * k[0][i] + a73 * k[2][i] + a74 * k[3][i] + a75 * k[4][i] + a76 * k[5][i]);
        sys->f(y1, K.k[6], sys->ctx);
        st.evals += 6;
        double en = 0;
        int finite = 1;
        for (int i = 0; i < n; i++) {
            double err = h * (e1 * k[0][i] + e3 * k[2][i] + e4 * k[3][i] + e5 * k[4][i] + e6 * k[5][i] + e7 * k[6][i]);
            double sk = sys->atol[i] + sys->rtol * fmax(fabs(y[i]), fabs(y1[i]));
            double r = fabs(err) / sk;
            if (r > en)
                en = r;
            if (!isfinite(y1[i]) || isnan(r))
                finite = 0;
        }
        if (!finite)
            en = INFINITY;
        int accept = en <= 1.0 || forced || (last && h < hmin);
        if (!accept) {
            st.rejected++;
            double fac = isfinite(en) ? fmax(0.2, step_fac(en)) : 0.2;
            h *= fac;
            rejected = 1;
            continue;
        }
        if (!finite) {
            /* a forced step left the finite numbers: stop before it */
            *s_ev = s;
            ret = -1;
            break;
        }
        st.steps++;
        if (forced)
            st.forced++;
        double s1 = last ? T : s + h;
        if (ev >= 0) {
            double r[5];
            dense_coef(&K, y, y1, h, ev, r);
            double b[5] = {r[0], r[0] + 0.25 * r[1] + 0.25 * r[2],
                           r[0] + 0.5 * r[1] + r[2] / 3.0 + r[3] / 6.0 + r[4] / 6.0,
                           r[0] + 0.75 * r[1] + 0.25 * r[2] + 0.25 * r[3], r[0] + r[1]};
            double L = sys->ev_level, th = -1.0;
            if (fmax(fmax(b[1], b[2]), fmax(b[3], b[4])) >= L || y1[ev] >= L) {
                if (!first_root(b, L, 0.0, 1.0, sys->ev_tol / h, 0, &th) && y1[ev] >= L)
                    th = 1.0; /* rounding put y1 (not the polynomial) at the level */
            }
            if (th >= 0.0) {
                if (th >= 1.0) {
                    memcpy(y, y1, (size_t)nt * sizeof *y);
                    *s_ev = s1;
                } else {
                    for (int i = 0; i < n; i++) {
                        double ri[5];
                        dense_coef(&K, y, y1, h, i, ri);
                        yt[i] = dense_eval(ri, th);
                    }
                    decay(sys, y, th * h, yt);
                    memcpy(y, yt, (size_t)nt * sizeof *y);
                    *s_ev = th > 0 ? fmin(s + th * h, s1) : s;
                }
                if (y[ev] < L)
                    y[ev] = L;
                ret = 1;
                hint = h; /* the step size that was good enough here */
                break;
            }
        }
        memcpy(y, y1, (size_t)nt * sizeof *y);
        memcpy(K.k[0], K.k[6], sizeof K.k[0]); /* first same as last */
        s = s1;
        double fac = en > 0 ? step_fac(en) : 5.0;
        fac = fmin(5.0, fmax(0.2, fac));
        if (rejected && fac > 1.0)
            fac = 1.0;
        rejected = 0;
        double hnew = fmin(h * fac, hmax);
        if (last) {
            /* a step shortened by the end says little about the next one */
            hint = hwant > h ? fmax(hnew, fmin(hwant, hmax)) : hnew;
            break;
        }
        h = hnew;
        hint = h;
    }
    *hp = hint;
    if (stats) {
        stats->steps += st.steps;
        stats->rejected += st.rejected;
        stats->forced += st.forced;
        stats->evals += st.evals;
    }
    return ret;
}

int norn_ode_grid(const norn_ode_sys *sys, int64_t k0, int64_t k1, double h_res, int within, double *y, double *h,
                  int64_t *k_hit, double *s_in, norn_ode_stats *stats)
{
    norn_ode_sys free_sys = *sys;
    free_sys.ev = -1;
    const norn_ode_sys *use = (within && sys->ev >= 0) ? sys : &free_sys;
    double ta = norn_grid_time(k0, h_res);
    for (int64_t k = k0; k < k1; k++) {
        double tb = norn_grid_time(k + 1, h_res);
        double s;
        int r = norn_ode_integrate(use, tb - ta, y, h, &s, stats);
        if (r < 0)
            return -1;
        if (r == 1) {
            *k_hit = k + 1;
            *s_in = s;
            return 1;
        }
        if (!within && sys->ev >= 0 && k + 1 < k1 && y[sys->ev] >= sys->ev_level) {
            *k_hit = k + 1;
            *s_in = 0;
            return 1;
        }
        ta = tb;
    }
    return 0;
}

/* ------------------------------------------------------ trapping box */

/* Smallest v in [v, cap) with top(v) <= w (top convex), nudged inward; 0 if none. */
static int raise_top(const norn_ode_plane *p, double v, double cap, double w, double *out)
{
    /* golden section for the minimum of top on [v, cap] */
    const double g = 0.6180339887498949;
    double a = v, b = cap;
    double x1 = b - g * (b - a), x2 = a + g * (b - a);
    double f1 = p->top(x1, p->ctx), f2 = p->top(x2, p->ctx);
    double best = f1 < f2 ? x1 : x2, fbest = fmin(f1, f2);
    for (int it = 0; it < 60 && fbest > w; it++) {
        if (f1 < f2) {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - g * (b - a);
            f1 = p->top(x1, p->ctx);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + g * (b - a);
            f2 = p->top(x2, p->ctx);
        }
        if (f1 < fbest) {
            fbest = f1;
            best = x1;
        }
        if (f2 < fbest) {
            fbest = f2;
            best = x2;
        }
    }
    if (!(fbest <= w) || !(best < cap))
        return 0;
    /* bisection: top(lo) > w, top(hi) <= w */
    double lo = v, hi = best;
    for (int it = 0; it < 60 && hi - lo > 1e-12 * (1 + fabs(hi)); it++) {
        double m = 0.5 * (lo + hi);
        if (p->top(m, p->ctx) <= w)
            hi = m;
        else
            lo = m;
    }
    /* a little inside, so that a slightly lower w_lo still fits */
    double in = hi + fmin(1e-6, 0.5 * (best - hi));
    *out = p->top(in, p->ctx) <= w ? in : hi;
    return 1;
}

/* Some v <= v0 with bot(v) >= w (bot -> +inf at -inf), near the largest. */
static int lower_bot(const norn_ode_plane *p, double v0, double w, double *out)
{
    double d = 1.0, lo;
    for (;;) {
        lo = v0 - d;
        if (p->bot(lo, p->ctx) >= w)
            break;
        d *= 2;
        if (d > 1e9)
            return 0;
    }
    double hi = v0 - 0.5 * d < v0 ? v0 - 0.5 * d : v0; /* bot(hi) < w unless d == 1 */
    if (d == 1.0)
        hi = v0;
    for (int it = 0; it < 60 && hi - lo > 1e-12 * (1 + fabs(lo)); it++) {
        double m = 0.5 * (lo + hi);
        if (p->bot(m, p->ctx) >= w)
            lo = m;
        else
            hi = m;
    }
    double in = lo - 1e-6;
    *out = p->bot(in, p->ctx) >= w ? in : lo;
    return 1;
}

int norn_ode_plane_trapped(const norn_ode_plane *p, const double *v, const double *w, int n_pts, double v_cap,
                           double *v_hi)
{
    double vlo = v[0], vhi = v[0], wlo = w[0], whi = w[0];
    for (int k = 1; k < n_pts; k++) {
        vlo = fmin(vlo, v[k]);
        vhi = fmax(vhi, v[k]);
        wlo = fmin(wlo, w[k]);
        whi = fmax(whi, w[k]);
    }
    if (!(vhi < v_cap) || !isfinite(vlo) || !isfinite(wlo) || !isfinite(whi))
        return 0;
    for (int it = 0; it < 40; it++) {
        int changed = 0;
        if (!p->fixed_w) {
            double a = p->m * vlo + p->c, b = p->m * vhi + p->c;
            double lo = fmin(a, b), hi = fmax(a, b);
            if (lo < wlo) {
                wlo = lo - 1e-9 * (1 + fabs(lo));
                changed = 1;
            }
            if (hi > whi) {
                whi = hi + 1e-9 * (1 + fabs(hi));
                changed = 1;
            }
        }
        if (!(p->top(vhi, p->ctx) <= wlo)) {
            double nv;
            if (!raise_top(p, vhi, v_cap, wlo, &nv))
                return 0;
            vhi = nv;
            changed = 1;
        }
        if (!(p->bot(vlo, p->ctx) >= whi)) {
            double nv;
            if (!lower_bot(p, vlo, whi, &nv))
                return 0;
            vlo = nv;
            changed = 1;
        }
        if (!changed) {
            if (!(vhi < v_cap))
                return 0;
            *v_hi = vhi;
            return 1;
        }
    }
    return 0;
}
