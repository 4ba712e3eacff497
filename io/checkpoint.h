/* io/checkpoint.h - checkpoint files: a running simulation saved whole, so
 * a run can be resumed (after an interruption, or from a periodic
 * checkpoint) with the same results, byte for byte.
 *
 * Format (version 1; little-endian machines write little-endian):
 *   "NORNCKPT", u32 format version, u32 byte-order mark 0x01020304
 *   then sections (engine/ckpt.h: tag, u64 length, payload, u64 hash):
 *   META  norn version, the description (absolute path and full text),
 *         seed, duration and mode as run (command-line overrides applied),
 *         the time reached
 *   FILE  every data file the description references: path, size, hash
 *   NETW .. SEND  the simulation (engine/sim_ckpt.inc)
 * Static synapse tables are not stored: a resume parses the embedded
 * description, rebuilds the network from it and its data files (which
 * must be unchanged: checked by their hashes, then by fingerprints of the
 * rebuilt tables), and loads the dynamic state (neurons, queue, plastic
 * weights, RNG positions, recorders so far) over it.
 * Written through io/atomic.h: a checkpoint is whole or absent.
 * Errors name the file (err->where) and the section: a truncated or
 * corrupt file, another format or norn version, another machine's byte
 * order (NORN_EPARSE); a network that does not match, a data file that
 * changed (NORN_EINVAL); NORN_EIO, NORN_ENOMEM.
 */
#ifndef NORN_CHECKPOINT_H
#define NORN_CHECKPOINT_H

#include <stddef.h>

#include "engine/sim.h"
#include "io/desc.h"

#define NORN_CHECKPOINT_VERSION 1u

/* What a checkpoint says about its run. */
typedef struct {
    char *desc_path;  /* absolute path of the description */
    char *desc_text;  /* its text (desc_len bytes, NUL-terminated) */
    size_t desc_len;
    uint64_t seed;
    double duration_ms;
    int mode;         /* norn_mode */
    double time_ms;   /* the time reached */
} norn_checkpoint_info;

/* Writes the state of s (between norn_sim_advance calls) to path. d is
 * the description as run (overrides applied), text/len the description
 * file's text as parsed. s is not changed. */
norn_status norn_checkpoint_write(const char *path, const norn_desc *d, const char *text, size_t len,
                                  norn_sim *s, norn_err *err);

/* Reads the checkpoint at path: parses its description (with the run's
 * seed, duration and mode), checks the data files, builds the network,
 * begins it and loads the saved state. On success *d_out and *s_out are
 * new (ready for norn_sim_advance) and info is filled (free with
 * norn_checkpoint_info_free); on failure nothing is left allocated.
 * max_memory: as norn_desc.max_memory (0: the memory available). */
norn_status norn_checkpoint_resume(const char *path, uint64_t max_memory, norn_desc **d_out, norn_sim **s_out,
                                   norn_checkpoint_info *info, norn_err *err);
void norn_checkpoint_info_free(norn_checkpoint_info *info);

/* Reads a file whole (for the description text): *text is malloc'd through
 * engine/mem.h and NUL-terminated. */
norn_status norn_checkpoint_read_text(const char *path, char **text, size_t *len, norn_err *err);

#endif
