/* tests/fuzz/entry.h - the fuzzing entry points, shared by the libFuzzer
 * harnesses (tests/fuzz/fuzz_main.c, clang -Dfuzz=true) and the regression
 * suite (tests/test_fuzz_regress.c, any compiler).
 *
 * Each takes arbitrary bytes, feeds them to one reader through its public
 * API and checks the reader's contract: NORN_OK, or another status with a
 * non-empty err.msg; outputs untouched on failure; nothing left allocated
 * through engine/mem.h (norn_mem_live() back to its value before the call).
 * Returns 0 when the contract held, else 1 after printing what broke to
 * stderr. A crash or sanitizer report is the other kind of finding.
 * With NORN_FUZZ_VERBOSE set in the environment every call's status and
 * message are printed (to see how far a seed gets).
 *
 * Files: the readers take paths, so the bytes go to a per-process
 * temporary file (norn_fuzz_tmp) under $TMPDIR (default /tmp), removed by
 * norn_fuzz_cleanup(). Not thread-safe (nor are the HDF5 readers).
 */
#ifndef NORN_FUZZ_ENTRY_H
#define NORN_FUZZ_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

/* YAML/JSON description: norn_desc_parse, then norn_build (capped at
 * NORN_FUZZ_MAX_MEMORY bytes) when it parses. Relative file names resolve
 * in the source tree's examples/ (NORN_EXAMPLES_SRC). */
int norn_fuzz_desc(const uint8_t *data, size_t size);
/* .npy bytes: norn_npy_read, norn_npy_read_spikes, norn_npy_read_synapses. */
int norn_fuzz_npy(const uint8_t *data, size_t size);
/* CSV bytes: norn_csv_read_spikes. */
int norn_fuzz_csv(const uint8_t *data, size_t size);
/* A recipe: the bytes choose a NIR graph that is written as a valid HDF5
 * file with libhdf5 (so libhdf5's own robustness is not what is tested),
 * then read with norn_nir_read and mapped with norn_nir_map. */
int norn_fuzz_nir(const uint8_t *data, size_t size);

#define NORN_FUZZ_MAX_MEMORY ((uint64_t)64 << 20)

/* Shared helpers (tests/fuzz/entry_util.c). */
/* A per-process path "$TMPDIR/norn-fuzz-<pid>-<tag>"; static storage, one
 * per tag (tags: "desc", "npy", "csv", "nir"; at most 8 distinct). */
const char *norn_fuzz_tmp(const char *tag);
/* Writes data to path (truncating); 0 on success. */
int norn_fuzz_write(const char *path, const uint8_t *data, size_t size);
/* The contract check after one call: st and err as returned, live the
 * norn_mem_live() before the call (checked only when st != NORN_OK or
 * check_live is set, i.e. after the caller freed its outputs). */
int norn_fuzz_check(const char *what, norn_status st, const norn_err *err);
int norn_fuzz_check_live(const char *what, size_t live_before);
/* Removes the temporary files made so far. */
void norn_fuzz_cleanup(void);

#endif
