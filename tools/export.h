/* tools/export.h - a finished run's spikes and weights in other formats
 * (norn export).
 *
 *   norn export DIR --to dense|sonata|csv [-o FILE] [--bin MS]
 *                   [--population P]... [--from MS] [--to MS]
 *   norn export DIR --what weights --projection NAME [--to dense] [-o FILE]
 *
 * --to takes either a format or, when it is a number, the end of the time
 * window (--format F is an unambiguous synonym for the first). The window
 * is (from, to] in ms (a run covers (0, duration]), default the whole run.
 *
 * dense: the raster as a [T, n] uint8 .npy ('|u1', C order): entry [r, j]
 *   is the number of spikes of column j's neuron in bin r, i.e. in
 *   (from + r bin, from + (r+1) bin] (a time within 1e-9 bins of an edge
 *   belongs to the bin that ends there, so a grid spike stamped at the end
 *   of step r lands in row r), saturating at 255 (0/1 whenever a bin holds
 *   at most one spike per neuron, as at the default bin in grid mode).
 *   T = ceil((to - from) / bin): the last bin may be partial. bin defaults
 *   to run.json's resolution_ms. Columns: the neurons of the selected
 *   populations (default all, recorded or not, so that column j is global
 *   id j), in global id order. Default FILE: DIR/raster_dense.npy.
 *   Written row by row: memory O(n), not O(T n).
 * dense weights (--what weights --projection NAME): the last snapshot
 *   (largest time_ms) of DIR/weights_NAME.npy (structured: pre, post,
 *   weight, time_ms, as a run writes it: pre is local to the source
 *   population, post indexes the projection's target populations
 *   concatenated) as a float32 [post, pre] matrix (PyTorch's
 *   Linear.weight layout; what `weight: {file:}` reads back). Its shape
 *   comes from run.json's projections[NAME]: post_size = the neurons of
 *   its "to" populations, pre_size = those of "from". Several synapses
 *   between one pair are summed; absent pairs are 0. Fields may come in
 *   any order, with any integer type for pre/post and float32/64 for
 *   weight/time_ms, padding allowed. Default FILE:
 *   DIR/weights_NAME_dense.npy. Memory O(synapses of one snapshot + pre).
 * sonata: a SONATA spike file (io/sonata.h): one group per selected
 *   population (default: the recorded ones), node ids local to it, sorted
 *   by time. Default FILE: DIR/spikes.h5.
 * csv: spikes.csv's columns (time_ms,population,neuron with neuron local),
 *   for the selected populations (default: the recorded ones) and window.
 *   Default FILE: DIR/spikes_export.csv.
 *
 * Every file is written whole or not at all (io/atomic.h, or a temporary
 * name and a rename for HDF5); the run's own files (spikes.npy,
 * spikes.csv, run.json, the weights file read) are never overwritten.
 * Returns the exit code: 0 ok (one line "wrote FILE" on stdout); 2 bad
 * input (command line, DIR, run.json, spikes.npy, weights file, unknown or
 * unrecorded population) with one line "norn: where: what" on stderr and
 * no file written; 1 failure while writing (memory, disk).
 */
#ifndef NORN_EXPORT_H
#define NORN_EXPORT_H

/* argv[0] is "export". */
int norn_cli_export(int argc, char **argv);

#endif
