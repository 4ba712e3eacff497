/* io/csv.h - spikes as CSV: "time_ms,population,neuron" with a header line;
 * neuron is the index inside its population. Times are written with 17
 * significant digits (%.17g), so they read back bit for bit.
 */
#ifndef NORN_CSV_H
#define NORN_CSV_H

#include <stdint.h>

#include "engine/err.h"

/* Writes atomically. pop_of[k] indexes pop_names; neuron[k] is local. */
norn_status norn_csv_write_spikes(const char *path, const double *time_ms,
                                  const uint32_t *pop_of, const uint32_t *neuron,
                                  uint64_t n, const char *const *pop_names, norn_err *err);

/* Reads a spikes CSV (header required; columns time_ms and neuron, the
 * population column optional and ignored). Errors give "path:line: ...". */
norn_status norn_csv_read_spikes(const char *path, double **time_ms, uint32_t **neuron,
                                 uint64_t *n, norn_err *err);

#endif
