/* engine/stdp_norse.h - Norse's STDP (stdp_step_linear) over a CSR table.
 *
 * Reproduces norse.torch.functional.stdp.stdp_step_linear (batch 1,
 * norse-semantics.md 5.1) in float32, one IEEE operation per elementwise
 * torch operation, in Norse's order (build with -ffp-contract=off):
 *
 *   c_pre = fl32(dt_s) * fl32(tau_pre_inv)                (float32 product)
 *   t_pre  <- t_pre + c_pre * ((-t_pre) + a_pre * z_pre)   (every neuron)
 *   t_post <- likewise
 *   dw+    = A+(w) * (z_post[i] * t_pre[j])                (new traces, old w)
 *   dw-    = A-(w) * (t_post[i] * z_pre[j])
 *   w      <- w + (dw+ - dw-), then clamp(w, w_min, w_max) if hardbound
 *
 *   additive            A+ = eta+                     A- = eta-
 *   additive_step       A+ = eta+ * H(w_max - w)      A- = eta- * H(w - w_min)
 *   multiplicative_pow  A+ = eta+ * (w_max - w)^mu    A- = eta- * (w - w_min)^mu
 *   multiplicative_relu A+ = eta+ * relu(w_max - w)   A- = eta- * relu(w - w_min)
 *
 * with H(x) = x > 0, every parameter rounded to float32 and dt_s =
 * fl32(resolution_ms / 1000) (Norse's dt is in seconds). Bit-identical to
 * Norse except through powf (multiplicative_pow: torch's pow and glibc's
 * differ by up to an ulp) and the sign of a zero weight.
 *
 * Synapses: Norse's w[i, j] (i post, j pre) is the CSR weight of synapse
 * j -> i, updated in place. Only synapses present in the table exist; a
 * multapse is two independent synapses. Norse updates the dense matrix
 * every step; here a step touches the rows of spiking presynaptic neurons
 * and the incoming synapses of spiking postsynaptic neurons. The other
 * synapses' update is w + (A+(w)*0 - A-(w)*0): a no-op, except for the
 * clamp and where A(w) is not finite (pow of a negative base with a
 * fractional mu, when a weight is outside [w_min, w_max] without
 * hardbound), where Norse gives NaN. So the first step passes over every
 * synapse (Norse clamps initial weights outside the bounds at step 0, or
 * turns them into NaN as above), and a step after which some weight has
 * a non-finite A passes over all again (at most once per synapse, which
 * then is NaN for good). Otherwise a step costs O(n_pre + n_post) for the
 * traces plus O(1) per synapse of a spiking neuron; an incoming synapse of
 * a spiking postsynaptic neuron also finds its presynaptic row by a
 * search over row_ptr that starts from a hint kept per 64 synapses (a few
 * rows away, unless rows are much shorter than 64 synapses).
 * Measured (Xeon, -O2, additive): 1000 x 1000 all-to-all with 2% of both
 * sides spiking, 150 us per step, 3.8 ns per updated synapse: about 1.7
 * ns in a spiking presynaptic row, 5 ns for an incoming synapse of a
 * spiking postsynaptic neuron (one cache line each); 10^4 x 10^4 at
 * p = 0.01: 11 ns per incoming synapse. multiplicative_pow adds one powf
 * per updated synapse (about 8 ns).
 *
 * Memory: 5 bytes per neuron (trace + spike mask), 8 per postsynaptic
 * neuron (index), 4 per synapse (8 when nnz >= 2^32) and 4 per 64
 * synapses (row hints), all from engine/mem.h at create; a step
 * allocates nothing.
 * The table is borrowed: its shape (n_src, n_tgt, nnz, row_ptr, target)
 * must not change after create; only the weights are read and written.
 * Weights written from outside between steps are not clamped until their
 * synapse is next touched. One object per (projection, target); no
 * locking.
 */
#ifndef NORN_STDP_NORSE_H
#define NORN_STDP_NORSE_H

#include <stdint.h>

#include "connectivity/csr.h"
#include "engine/err.h"
#include "engine/stdp.h"

typedef struct norn_stdp_norse norn_stdp_norse;

/* Creates the traces (0) and the transposed index of table c (borrowed).
 * Reads spec's Norse fields (a_pre, a_post, tau_pre_inv, tau_post_inv in
 * 1/s, w_min, w_max, eta_plus, eta_minus, mu, algorithm, hardbound); rule
 * is not read. resolution_ms: the step (> 0).
 * NORN_EINVAL with the field in err->msg ("tau_pre_inv: must be > 0 (1/s),
 * got -20") for: a non-finite parameter (after rounding to float32),
 * tau_*_inv <= 0, w_min > w_max, an unknown algorithm, mu < 0 with
 * multiplicative_pow (Norse's A would be inf at the bounds, so NaN
 * weights), an amplitude that overflows float32 at the bounds.
 * NORN_ENOMEM. On failure *out is untouched and nothing leaks. */
norn_status norn_stdp_norse_create(const norn_csr *c, const norn_stdp_spec *spec, double resolution_ms,
                                   norn_stdp_norse **out, norn_err *err);

/* One Norse step: pre[n_pre_spk] are this step's spiking presynaptic
 * neurons (source-local indices < c->n_src), post[n_post_spk] the spiking
 * postsynaptic ones (< c->n_tgt); any order; a duplicate counts once.
 * Updates all traces, then the weights of c (the table given to create). */
void norn_stdp_norse_step(norn_stdp_norse *st, norn_csr *c, const uint32_t *pre, uint32_t n_pre_spk,
                          const uint32_t *post, uint32_t n_post_spk);

/* Traces after the last step (0 before the first): [n_src] and [n_tgt].
 * Owned by st, valid until the next step or free. */
const float *norn_stdp_norse_trace_pre(const norn_stdp_norse *st);
const float *norn_stdp_norse_trace_post(const norn_stdp_norse *st);

/* Bytes held by st (not counting the table). */
uint64_t norn_stdp_norse_bytes(const norn_stdp_norse *st);

/* Frees st. NULL-safe. */
void norn_stdp_norse_destroy(norn_stdp_norse *st);

struct norn_ckio;
/* Checkpoints (engine/ckpt.h): transfers the traces and the sweep flag (the
 * weights live in the table); loading needs an object made for the same
 * table. */
void norn__stdp_norse_ckpt(norn_stdp_norse *st, struct norn_ckio *io);

#endif
