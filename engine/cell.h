/* engine/cell.h - Norse's cell API in C: spikes, state = cell(input, state).
 *
 *   norn_cell *c;
 *   norn_cell_create("lif", n, NULL, 0, 0.001, &c, &err);  // Norse defaults
 *   norn_cell_state *s = NULL;                             // fresh state
 *   for (t = 0; t < T; t++)
 *       norn_cell_step(c, input[t], &s, spikes, &err);     // input [n] floats
 *   norn_cell_state_get(s, "v", v);                        // copy a variable out
 *
 * A recurrent cell (norn_cell_create_recurrent) takes W_in [n, n_in] and
 * W_rec [n, n] (row = postsynaptic neuron, as PyTorch) and forms
 * (i + W_in x_t) + W_rec z_{t-1} as Norse's *RecurrentCell does, with the
 * weights kept sparse (zeros dropped). A step with *state == NULL creates
 * the model's initial state first, as Norse does for state=None.
 * Cells and states are independent objects: one cell can step many states.
 *
 * Details:
 *  - model: an euler model name (models/euler.h: "lif", "lsnn", ...) or
 *    "model:preset" ("izhikevich:tonic_spiking"); parameters given with
 *    a preset override the preset's. Izhikevich has no defaults for a, b,
 *    c, d: give them or a preset.
 *  - W_rec is taken as given: Norse's default autapses=False zeroes the
 *    diagonal of recurrent_weights (in place); pass a zero diagonal to
 *    match such a Norse cell. Norse's default random weights are not made
 *    here. The sums are float32 in column order; Norse's BLAS order is
 *    unspecified, so bits match whenever the sums are exact (weights on a
 *    2^-k grid, 0/1 inputs).
 *  - A recurrent cell's input may be any floats (Norse: linear(x, W_in)).
 *    A model without a RecurrentCell in Norse gets the same construction
 *    (li with W_in and no W_rec is LILinearCell).
 *  - "coba_lif" recurrent is Norse's CobaLIFCell, quirk included: W_rec
 *    splits by sign (g_e += relu(W_rec) z, g_i += relu(-W_rec) z) and the
 *    input never reaches the cell (Norse overwrites it).
 *  - li and li_box do not spike: spikes_out receives their output v', as
 *    Norse's LICell returns it.
 *  - Errors (NORN_EINVAL, NORN_ENOMEM): err->where is the model name,
 *    err->msg e.g. "params.tau_mem_inv: must be > 0, got -1",
 *    "unknown model 'x'; known: lif, ...". On failure *out and *state are
 *    untouched and nothing leaks.
 *  - A step only reads the cell: threads may step different states with
 *    one cell. Cost per step: O(n) (cell) or O(n + nnz(W_in) + nnz(W_rec)).
 */
#ifndef NORN_CELL_H
#define NORN_CELL_H

#include <stdint.h>

#include "engine/err.h"

typedef struct norn_cell norn_cell;
typedef struct norn_cell_state norn_cell_state;

/* params: n_params (name, value) pairs with Norse's names; others default.
 * dt in the parameters' time unit (Norse: 0.001 s). */
norn_status norn_cell_create(const char *model, uint32_t n, const char *const *param_names,
                             const double *param_values, int n_params, double dt, norn_cell **out,
                             norn_err *err);
/* w_in: [n][n_in] row-major, w_rec: [n][n] (may be NULL), both copied. */
norn_status norn_cell_create_recurrent(const char *model, uint32_t n, uint32_t n_in, const float *w_in,
                                       const float *w_rec, const char *const *param_names,
                                       const double *param_values, int n_params, double dt,
                                       norn_cell **out, norn_err *err);
void norn_cell_destroy(norn_cell *c);

/* One step. input: [n] currents (a cell) or [n_in] 0/1 spikes (a recurrent
 * cell). spikes_out: [n] floats 0/1 (may be NULL; li, li_box: v'). *state
 * is created if NULL and updated in place; a state made by a cell of
 * another model or size is refused (NORN_EINVAL). */
norn_status norn_cell_step(norn_cell *c, const float *input, norn_cell_state **state, float *spikes_out,
                           norn_err *err);
/* Copies variable `name` ("v", "i", ...; "z": the last step's spikes) of
 * the state into out [n]. */
norn_status norn_cell_state_get(const norn_cell_state *s, const char *name, float *out, norn_err *err);
void norn_cell_state_destroy(norn_cell_state *s);

#endif
