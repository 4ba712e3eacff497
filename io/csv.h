/* io/csv.h - spikes as CSV: "time_ms,population,neuron" with a header line;
 * neuron is the index inside its population. Times are written as the
 * shortest decimal that reads back as the same double (io/fmt.h), so they
 * read back bit for bit.
 */
#ifndef NORN_CSV_H
#define NORN_CSV_H

#include <stdint.h>

#include "engine/err.h"

/* Writes atomically. pop_of[k] indexes pop_names; neuron[k] is local.
 * Names holding ',' or '"' are quoted (RFC 4180); a name with a line break,
 * a NULL name or a non-finite time gives NORN_EINVAL and leaves any
 * previous file as it was. pop_of[k] is not bounds-checked: pop_names must
 * have an entry for every index used. */
norn_status norn_csv_write_spikes(const char *path, const double *time_ms,
                                  const uint32_t *pop_of, const uint32_t *neuron,
                                  uint64_t n, const char *const *pop_names, norn_err *err);

/* Reads a spikes CSV (header required; columns time_ms and neuron in any
 * order, the population column and any other columns optional and ignored;
 * fields may be quoted on one line; CRLF and a UTF-8 BOM are accepted;
 * blank lines only at the end). Times must be finite, neurons integers in
 * [0, 2^32 - 2]. Errors are NORN_EPARSE with where = "path:line" (the
 * header is line 1) and the problem in msg; NORN_EIO for a missing file.
 * The arrays come from engine/mem.h (non-NULL, also for n = 0); free them
 * with norn_free. */
norn_status norn_csv_read_spikes(const char *path, double **time_ms, uint32_t **neuron,
                                 uint64_t *n, norn_err *err);

#endif
