/* models/iaf_delta.h - internal: iaf_delta's per-neuron arithmetic as
 * inline functions, for models/iaf_delta.c (its function table) and for the
 * engine's specialised lazy advance (engine/sim.c), which then runs the same
 * operations without indirect calls. The model's documentation is in
 * iaf_delta.c. Not installed.
 */
#ifndef NORN_IAF_DELTA_H
#define NORN_IAF_DELTA_H

#include <math.h>
#include <string.h>

#include "models/model.h"

extern const norn_model_type norn_model_iaf_delta;

/* parameters (table order), state and hidden arrays, constants in mp->c:
 * R = tau_m / C_m (mV per pA), 1/tau_m, the decay clock's base, t_ref in
 * steps (grid) */
enum { NORN__IAFD_TAU_M, NORN__IAFD_C_M, NORN__IAFD_E_L, NORN__IAFD_V_TH, NORN__IAFD_V_RESET, NORN__IAFD_T_REF,
       NORN__IAFD_I_E, NORN__IAFD_V_MIN, NORN__IAFD_NP };
/* hidden: 1/E of the time V was last set; the phase (continuous mode):
 * how much later than its double the current interval truly starts (the
 * rounding errors of a crossing time and of t + t_ref, so that they do not
 * add up over hours of simulated time; 0 except while refractory) */
enum { NORN__IAFD_S_V, NORN__IAFD_NS, NORN__IAFD_H_E = NORN__IAFD_NS, NORN__IAFD_PH, NORN__IAFD_NH = 2 };
enum { NORN__IAFD_C_R, NORN__IAFD_C_INV_TAU, NORN__IAFD_C_BASE, NORN__IAFD_C_NREF };

#define NORN__IAFD_SLOTS 32 /* (t, E, 1/E) triples in mp->cache; a power of two (a mask, not a division) */

static inline void norn__iafd_clear_cache(norn_model_pop *mp)
{
    for (int k = 0; k < NORN__IAFD_SLOTS; k++) {
        mp->cache[3 * k] = NAN; /* never equal to a time */
        mp->cache[3 * k + 1] = 0.0;
        mp->cache[3 * k + 2] = 0.0;
    }
}

/* The decay clock at t (t never earlier than base): E(t) and 1/E(t),
 * through a direct-mapped cache keyed by the bits of t: the targets of one
 * spike, and the grid steps of a window, share their times. */
typedef struct {
    double e, inv;
} norn__iafd_clock;

static inline __attribute__((always_inline)) norn__iafd_clock norn__iafd_clock_at(norn_model_pop *mp, double t)
{
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    unsigned slot = (unsigned)(((bits * 0x9e3779b97f4a7c15ULL) >> 32) & (NORN__IAFD_SLOTS - 1));
    double *c = mp->cache + 3 * slot;
    if (c[0] == t)
        return (norn__iafd_clock){c[1], c[2]};
    double e = exp(-(t - mp->c[NORN__IAFD_C_BASE]) * mp->c[NORN__IAFD_C_INV_TAU]);
    if (e < 1e-150) {
        /* rebase at t: every stored inverse clock is multiplied by E(t) */
        double *h = mp->st[NORN__IAFD_H_E];
        for (uint32_t k = 0; k < mp->n; k++)
            h[k] *= e;
        mp->c[NORN__IAFD_C_BASE] = t;
        norn__iafd_clear_cache(mp);
        e = 1.0;
    }
    c[0] = t;
    c[1] = e;
    c[2] = 1.0 / e;
    return (norn__iafd_clock){c[1], c[2]};
}

static inline double norn__iafd_v_inf(const norn_model_pop *mp, uint32_t i)
{
    double I = mp->p[NORN__IAFD_I_E] + (mp->i_dc ? mp->i_dc[i] : 0.0);
    return mp->p[NORN__IAFD_E_L] + I * mp->c[NORN__IAFD_C_R];
}

/* The model's advance() (models/model.h). */
/* a + b = *hi + *lo exactly (Knuth's TwoSum). */
static inline void norn__iafd_two_sum(double a, double b, double *hi, double *lo)
{
    double x = a + b, z = x - a;
    *hi = x;
    *lo = (a - (x - z)) + (b - z);
}

static inline __attribute__((always_inline)) int norn__iafd_advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    double *v = mp->st[NORN__IAFD_S_V], *h = mp->st[NORN__IAFD_H_E];
    const double tau = mp->p[NORN__IAFD_TAU_M], vth = mp->p[NORN__IAFD_V_TH];
    if (mp->ref_until[i] > t0) {
        if (t1 <= mp->ref_until[i]) {
            v[i] = mp->p[NORN__IAFD_V_RESET];
            h[i] = norn__iafd_clock_at(mp, t1).inv;
            return 0;
        }
        t0 = mp->ref_until[i];
        v[i] = mp->p[NORN__IAFD_V_RESET];
        h[i] = norn__iafd_clock_at(mp, t0).inv;
    }
    if (t1 <= t0)
        return 0;
    double vinf = norn__iafd_v_inf(mp, i), v0;
    double *ph = mp->st[NORN__IAFD_PH];
    if (ph[i] != 0.0) {
        /* continuous: V restarts ph later than t0; taken back to t0 */
        v[i] = vinf + (v[i] - vinf) * exp(ph[i] * mp->c[NORN__IAFD_C_INV_TAU]);
        ph[i] = 0.0;
    }
    v0 = v[i];
    if (vinf > vth && v0 < vth) {
        double ts = t0 + tau * log((v0 - vinf) / (vth - vinf));
        if (mp->mode == NORN_MODE_GRID) {
            /* threshold tested at grid points only, after t0 */
            double g = norn_grid_ceil(ts, mp->h);
            if (g <= t0)
                g = norn_grid_ceil(t0 + 0.5 * mp->h, mp->h);
            for (;;) {
                if (g >= t1)
                    break; /* t1 itself is tested by the engine after its inputs */
                norn__iafd_clock e = norn__iafd_clock_at(mp, g);
                double vg = vinf + (v0 - vinf) * (e.e * h[i]);
                if (vg >= vth) {
                    v[i] = vg;
                    h[i] = e.inv;
                    *t_cross = g;
                    return 1;
                }
                g = norn_grid_ceil(g + 0.5 * mp->h, mp->h);
            }
        } else {
            /* the crossing time's rounding error is kept in the phase */
            double lo = 0.0;
            norn__iafd_two_sum(t0, tau * log((v0 - vinf) / (vth - vinf)), &ts, &lo);
            if (ts <= t1) {
                v[i] = vth;
                h[i] = norn__iafd_clock_at(mp, ts > t0 ? ts : t0).inv;
                *t_cross = ts > t0 ? ts : t0;
                if (ts > t0)
                    ph[i] = lo;
                return 1;
            }
        }
    }
    norn__iafd_clock e = norn__iafd_clock_at(mp, t1);
    v[i] = vinf + (v0 - vinf) * (e.e * h[i]);
    h[i] = e.inv;
    return 0;
}

static inline void norn__iafd_input(norn_model_pop *mp, uint32_t i, double t, double w)
{
    if (t <= mp->ref_until[i])
        return; /* dropped while refractory */
    double *v = mp->st[NORN__IAFD_S_V];
    double x = v[i] + w;
    v[i] = x < mp->p[NORN__IAFD_V_MIN] ? mp->p[NORN__IAFD_V_MIN] : x;
}

static inline int norn__iafd_above(const norn_model_pop *mp, uint32_t i, double t)
{
    return t > mp->ref_until[i] && mp->st[NORN__IAFD_S_V][i] >= mp->p[NORN__IAFD_V_TH];
}

static inline void norn__iafd_fire(norn_model_pop *mp, uint32_t i, double t)
{
    mp->st[NORN__IAFD_S_V][i] = mp->p[NORN__IAFD_V_RESET];
    /* grid: the end of refractoriness is a grid time, made as every grid time is */
    if (mp->mode == NORN_MODE_GRID)
        mp->ref_until[i] =
            norn_grid_time(norn_grid_index(t, mp->h) + (int64_t)mp->c[NORN__IAFD_C_NREF], mp->h);
    else {
        double end, lo;
        norn__iafd_two_sum(t, mp->p[NORN__IAFD_T_REF], &end, &lo);
        mp->ref_until[i] = end;
        mp->st[NORN__IAFD_PH][i] += lo;
    }
}

#endif
