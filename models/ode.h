/* models/ode.h - adaptive Runge-Kutta integration with dense output and
 * threshold-crossing location, for the small ODE systems of the nonlinear
 * neuron models (lif_cond, izhikevich, adex).
 *
 * Method: the explicit Dormand-Prince 5(4) pair (DOPRI5: 7 stages, first
 * same as last, so 6 right-hand-side evaluations per step), the 5th-order
 * solution propagated, the 4th-order one used for the error estimate, and
 * Hairer's 4th-order continuous extension as dense output (Hairer, Norsett
 * & Wanner, Solving ODEs I, II.6). Error control per step, max norm: a
 * step is accepted when for every component i
 *     |err_i| <= atol_i + rtol * max(|y_i(t)|, |y_i(t+h)|);
 * the next step is h * min(5, max(0.2, 0.9 err^-1/5)) (no growth right
 * after a rejection), at most h_max. When the control asks for a step
 * shorter than h_min = max(1e-13 ms, 8 eps s) (stiffness the explicit
 * method cannot follow):
 *  - if the watched component (ev, below) is rising, the crossing is
 *    reported there: this is the upstroke of a model whose V diverges in
 *    finite time (adex with a small Delta_T), where the step the control
 *    asks for is of the order of the time left to the divergence;
 *  - otherwise a step of h_min is taken anyway (stats.forced); only
 *    absurd parameters (conductances above ~1e15 nS) get there.
 *
 * Time inside the solver is relative (s = 0 at the start of each call),
 * so step sizes far below the ulp of the absolute time stay exact.
 *
 * Components that only decay (synaptic conductances: y' = -y/tau) can be
 * declared as such: they are then propagated exactly, y(s) = y(0) e^{-s/tau}
 * at every stage, take no part in the error control and never limit the
 * step (an explicit method would otherwise need h < 3.3 tau for
 * stability, and let a component below its absolute tolerance grow).
 *
 * Crossing location: with ev >= 0, every accepted step's dense output of
 * component ev, a quartic in the step fraction, is written in Bernstein
 * form; its coefficients bound it on any sub-interval (convex hull), so
 * subdivision either proves there is no crossing in the step or finds the
 * FIRST point where it reaches ev_level, to ev_tol (ms): the reported time
 * is never before the dense output's first crossing and at most ev_tol
 * after it. Only an excursion of the dense output above the level that
 * lasts less than ev_tol can be missed. (The dense output itself is within
 * the error tolerance of the solution, so a crossing of the exact solution
 * is found within (state error) / |dV/dt| of its time.)
 *
 * No allocation, no globals; re-entrant. The right-hand side is
 * autonomous (all inputs are constant between events).
 */
#ifndef NORN_ODE_H
#define NORN_ODE_H

#include <stdint.h>

#define NORN_ODE_MAX 8 /* largest system dimension */

/* dy = f(y) for the integrated components; ctx is the model's (borrowed). */
typedef void (*norn_ode_rhs)(const double *y, double *dy, const void *ctx);

typedef struct {
    int n;                           /* integrated components y[0 .. n) */
    int n_decay;                     /* then y[n .. n + n_decay) decay exactly:
                                        y_j' = -decay_rate[j-n] y_j, n + n_decay <= NORN_ODE_MAX */
    double decay_rate[NORN_ODE_MAX]; /* 1/ms */
    norn_ode_rhs f;                  /* sees all n + n_decay components, writes dy[0 .. n) */
    const void *ctx;
    double rtol;               /* relative tolerance per step (> 0) */
    double atol[NORN_ODE_MAX]; /* absolute tolerance per component, its unit (> 0) */
    double h_max;              /* largest step (ms) */
    int ev;                    /* component watched for an upward crossing, or -1 */
    double ev_level;           /* the level (unit of component ev) */
    double ev_tol;             /* crossing located to this (ms) */
} norn_ode_sys;

typedef struct {
    uint64_t steps, rejected, forced, evals;
} norn_ode_stats;

/* Integrates y' = f(y) over a duration T >= 0 (ms).
 * y: [n + n_decay] state at the start, in/out. h: step hint in/out (ms; <= 0 lets
 * the solver choose); on return the step the controller proposes next
 * (not shortened by the end of the interval).
 * With sys->ev >= 0 and y[ev] < ev_level at the start: stops at the first
 * crossing of ev_level in (0, T] (see above; or where the step control
 * stalls on a rising y[ev]), sets *s_ev (0 <= *s_ev <= T), leaves the
 * dense-output state there in y (y[ev] raised to ev_level) and returns 1.
 * Otherwise returns 0 with y at T. Returns -1 if a forced step left the
 * finite numbers (absurd parameters only): y and *s_ev at the last finite
 * point. stats (may be NULL) is incremented. */
int norn_ode_integrate(const norn_ode_sys *sys, double T, double *y, double *h, double *s_ev, norn_ode_stats *stats);

/* Grid-step driver for grid mode: integrates step by step over the grid
 * intervals (k h_res, (k+1) h_res] for k = k0 .. k1-1, each one exactly (its
 * end is a step end, so the state at every grid point is the integrated
 * solution, and the result does not depend on how [k0, k1] is split
 * between calls).
 *  within = 0: after each grid step whose end is before k1, tests
 *   y[ev] >= ev_level there; on success returns 1 with *k_hit the grid
 *   index and y the state there (*s_in = 0).
 *  within = 1: a crossing anywhere inside a grid step counts (models whose
 *   V diverges after the threshold): returns 1 with *k_hit the index of the
 *   step's end (may be k1) and y the state at the crossing, *s_in ms after
 *   the step's start grid point.
 * Returns 0 with y at grid point k1 otherwise, -1 as norn_ode_integrate.
 * ev < 0 disables the tests. */
int norn_ode_grid(const norn_ode_sys *sys, int64_t k0, int64_t k1, double h_res, int within, double *y, double *h,
                  int64_t *k_hit, double *s_in, norn_ode_stats *stats);

/* Trapping-box proof for planar neuron models without further input:
 *     C dV/dt = F(V, disturbances) - w,    dw/dt = r (m V + c - w), r > 0,
 * where top(V) >= F and bot(V) <= F over every value the (bounded,
 * decaying) disturbances can take, top convex in V, bot(V) -> +inf as
 * V -> -inf. Looks for a box [V_lo, V_hi] x [w_lo, w_hi] containing the
 * points (v[k], w[k]), k < n_pts, whose faces the flow never leaves:
 * top(V_hi) <= w_lo, bot(V_lo) >= w_hi, [w_lo, w_hi] contains m V + c on
 * [V_lo, V_hi]; with fixed_w (r == 0) w stays put instead. Returns 1 and
 * *v_hi if one is found with V_hi < v_cap (then V never reaches v_cap),
 * else 0 (no proof; the caller must assume it may fire). The box is
 * grown from the points by at most 40 rounds of face moves (each a golden
 * section and bisection, ~120 evaluations); a state inside a box found
 * before costs one round of 2 evaluations. Rigorous up to the rounding of
 * top and bot: every face condition is checked on the final box. */
typedef struct {
    double (*top)(double v, const void *ctx);
    double (*bot)(double v, const void *ctx);
    const void *ctx;
    double m, c;
    int fixed_w;
} norn_ode_plane;
int norn_ode_plane_trapped(const norn_ode_plane *p, const double *v, const double *w, int n_pts, double v_cap,
                           double *v_hi);

#endif
