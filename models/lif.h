/* models/lif.h - internal: lif's lean whole-population stepping, for the
 * engine's grid mode with windows of one step where every neuron is
 * driven above threshold (cuba's case; engine/sim.c, p->lean_lif). The
 * model's documentation is in lif.c. Not installed.
 *
 * Every neuron of [lo, hi) sits at the same time t0 and is advanced to
 * t1 = t0 + one step by every pass, so one set of propagators serves all
 * and nothing per neuron says where a neuron is (the engine keeps t_last
 * itself). The pass folds 1/C_m into the two kernels (I * (K / C_m) in
 * place of (I / C_m) * K: no division per neuron), so V differs from the
 * lazy path's in the last bits; everything else (the currents' decays, the
 * refractory clamp, the threshold and reset, t_ref) is the lazy path's
 * operation for operation. Spikes match the lazy path's unless V ends a
 * step within a few ulps of V_th (tests/test_engine.c
 * test_lean_lif_equals_lazy).
 */
#ifndef NORN_LIF_H
#define NORN_LIF_H

#include "models/model.h"
#include "models/psc_exp.h"

extern const norn_model_type norn_model_lif;

/* Advances every neuron of [lo, hi) from t0 to t1 (grid times one step
 * apart) with no input, V clamped while refractory; writes t1 to
 * t_last[lo, hi) unless t_last is NULL. Writes into cand the neurons above threshold at t1
 * (V >= V_th, not refractory at t1), ascending, and returns their count:
 * with no input at t1 these and only these fire at t1. */
uint32_t norn__lif_lean_advance(norn_model_pop *mp, double t0, double t1, uint32_t lo, uint32_t hi,
                                double *t_last, uint32_t *cand);

/* The model's input() of the two channels' sums at one time (w0 >= 0,
 * w1 < 0 as the engine splits them; a zero sum is skipped, as
 * input_sums does). */
static inline void norn__lif_input_sums(norn_model_pop *mp, uint32_t i, double w0, double w1)
{
    if (w0 != 0.0)
        mp->st[w0 >= 0 ? NORN__PSC_S_IEX : NORN__PSC_S_IIN][i] += w0;
    if (w1 != 0.0)
        mp->st[w1 >= 0 ? NORN__PSC_S_IEX : NORN__PSC_S_IIN][i] += w1;
}

/* The model's above() then fire() at the grid time t: 1 if neuron i
 * fired. */
static inline int norn__lif_fire_if_above(norn_model_pop *mp, uint32_t i, double t)
{
    if (!(t > mp->ref_until[i] && mp->st[NORN__PSC_S_V][i] >= mp->p[NORN__PSC_V_TH]))
        return 0;
    mp->st[NORN__PSC_S_V][i] = mp->p[NORN__PSC_V_RESET];
    mp->ref_until[i] = norn_grid_time(norn_grid_index(t, mp->h) + (int64_t)mp->c[NORN__PSC_C_NREF], mp->h);
    return 1;
}

#endif
