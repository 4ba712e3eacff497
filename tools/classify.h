/* tools/classify.h - event-driven inference of a trained network over a
 * data set (norn classify).
 *
 *   norn classify DESCRIPTION --images X.npy [--labels Y.npy] [options]
 *
 * The description is an euler-mode network (typically written by norn
 * import from a NIR file) with one `input` population. Each sample x
 * (a row of X: [N, ...] any numeric dtype, flattened in C order to the
 * input population's size) is encoded as Norse's
 * constant_current_lif_encode does: a lif_encoder (LIFParameters, v from
 * 0) driven every step by the constant current x * scale * gain, whose
 * spikes are the input population's spikes of the run. The simulation is
 * built once and reset between samples (norn_sim_reset). The prediction is
 * the argmax (lowest index on ties) over the readout population's neurons
 * of the maximum over the steps of its variable (default "v"), Norse's
 * usual decoding of an LI readout.
 *
 * Prints accuracy (with labels), spikes per sample (network, input),
 * synaptic events per sample, samples per second (the loop: encoding,
 * reset, run, decoding) and, with --reference R.npy (predictions [N] of
 * another implementation, e.g. PyTorch), the agreement and the
 * disagreeing samples. --out DIR writes predictions.npy (int64 [N]),
 * scores.npy (float32 [N, classes]: the maxima) and classify.json.
 *
 * Exit codes as norn run: 2 bad input (nothing written), 1 failure.
 */
#ifndef NORN_TOOLS_CLASSIFY_H
#define NORN_TOOLS_CLASSIFY_H

/* argv[0] is "classify". Returns the exit code. */
int norn_cli_classify(int argc, char **argv);

#endif
