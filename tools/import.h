/* tools/import.h - norn import: a NIR graph (HDF5) as a norn description.
 *
 *   norn import MODEL.nir -o DIR [--dt MS] [--time-unit s|ms] [--steps T]
 *                         [--input FILE.npy] [--quiet]
 *
 * Reads MODEL.nir, maps it to populations and synapse lists in euler mode
 * (io/nir.h says exactly how) and writes DIR/model.yaml with the .npy
 * files it references: syn_<projection>.npy (from_list synapses),
 * bias_<population>.npy (constant currents, when a bias reaches one). The
 * input spike tensor is referenced as DIR/input.npy ([T, n_in] of 0/1),
 * which the user supplies, or as FILE.npy with --input (then T defaults
 * to its rows and its columns must match). T: --steps, else the input's
 * rows, else 100; duration = T dt. Prints one line per population and
 * projection (name, model, size, synapses) and the totals.
 *
 * Bad input (command line, NIR file, a graph norn cannot map) exits with
 * 2 and one line "norn: FILE: node 'x' (Type): what" on stderr, writing
 * nothing; a failure while writing exits with 1 and leaves no model.yaml
 * (it is removed first and written last; a DIR created here is removed).
 */
#ifndef NORN_IMPORT_H
#define NORN_IMPORT_H

#include <stddef.h>

#include "engine/err.h"

/* argv[0] is "import". Returns the exit code. */
int norn_cli_import(int argc, char **argv);

/* For `norn run MODEL.nir --input FILE.npy`: imports into a new temporary
 * directory (under $TMPDIR or /tmp), the input referenced by its absolute
 * path, T = its rows (or steps when > 0), simulation.name = the file's
 * stem. dir (cap bytes) gets the directory, yaml its model.yaml. Remove it
 * with norn__import_remove. Returns NORN_OK or the error (nothing left). */
norn_status norn__import_temp(const char *nir, const char *input, double dt_ms, int time_ms, unsigned long long steps,
                              char *dir, char *yaml, size_t cap, norn_err *err);
/* Removes the files in dir and dir itself (not recursive). */
void norn__import_remove(const char *dir);

#endif
