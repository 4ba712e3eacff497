/* io/sonata.h - spikes as a SONATA spike file (HDF5, through libhdf5).
 *
 * Layout written (SONATA developer guide, "Spike file"):
 *   /spikes                              group, links in creation order
 *   /spikes/<population>                 group, attribute "sorting": HDF5 enum
 *                                        over int8 {none = 0, by_id = 1,
 *                                        by_time = 2} (the spec's enum, as
 *                                        libsonata reads it), here by_time
 *   /spikes/<population>/timestamps      float64 [n], attribute "units" = "ms"
 *                                        (variable-length UTF-8 string, as
 *                                        h5py writes str)
 *   /spikes/<population>/node_ids        uint64 [n], node ids local to the
 *                                        population (0 .. size-1)
 * Populations appear in the order given; a population without spikes has
 * empty datasets.
 *
 * The file is written under "<path>.tmp.<pid>" (H5Fcreate), closed, synced
 * and renamed over path, so it appears whole or not at all; on failure the
 * temporary file is removed and any previous file at path is untouched.
 * HDF5's automatic error printing is switched off (H5Eset_auto2, process
 * wide); failures come back as norn_err with the HDF5 reason in the
 * message. Not thread-safe (libhdf5's serial build is not). Cost: one pass
 * over the spikes; arrays are handed to HDF5 as they are (no copy).
 * HDF5 allocates its own memory; what the reader returns comes from
 * engine/mem.h.
 */
#ifndef NORN_SONATA_H
#define NORN_SONATA_H

#include <stdint.h>

#include "engine/err.h"

/* One population's spikes, borrowed. */
typedef struct {
    const char *name;        /* non-empty, no '/', not "." (an HDF5 link name) */
    const double *time_ms;   /* [n], finite, non-decreasing */
    const uint32_t *node_id; /* [n], local to the population; written as uint64 */
    uint64_t n;              /* may be 0 (then the arrays may be NULL) */
} norn_sonata_pop;

/* Writes n_pops (>= 1) populations to path. Returns NORN_OK; NORN_EINVAL
 * for bad arguments (where = path, msg names the population and the
 * problem: bad or repeated name, NULL arrays, a non-finite time, times not
 * sorted); NORN_EIO if HDF5 or the file system fails (msg holds HDF5's
 * reason). Allocates nothing of its own. */
norn_status norn_sonata_write_spikes(const char *path, const norn_sonata_pop *pops, uint32_t n_pops, norn_err *err);

typedef enum {
    NORN_SONATA_SORT_ABSENT = -1, /* no "sorting" attribute */
    NORN_SONATA_SORT_NONE = 0,
    NORN_SONATA_SORT_BY_ID = 1,
    NORN_SONATA_SORT_BY_TIME = 2
} norn_sonata_sorting;

/* One population as read back. */
typedef struct {
    char *name;
    double *time_ms;   /* [n] as stored (not converted from "units") */
    uint64_t *node_id; /* [n] */
    uint64_t n;
    norn_sonata_sorting sorting;
    char units[32]; /* timestamps' "units" attribute, "" when absent */
} norn_sonata_spikes;

/* Reads every population under /spikes, in creation order when the file
 * tracks it, else in name order. timestamps may be any float type,
 * node_ids any integer type (negative ids are an error); "sorting" may be
 * the enum above or a string ("none", "by_id", "by_time"). Errors name the
 * object (where = "path" or "path:/spikes/exc/node_ids") and say what is
 * wrong: NORN_EIO for a missing or unreadable file; NORN_EPARSE for a file
 * that is not HDF5, is truncated or damaged, has no /spikes group, no
 * population, a population without timestamps or node_ids, datasets of the
 * wrong type or rank, of different lengths, or unreadable data. On success
 * *out is an array of *n_pops populations (free it with
 * norn_sonata_spikes_free); on failure *out and *n_pops are untouched. */
norn_status norn_sonata_read_spikes(const char *path, norn_sonata_spikes **out, uint32_t *n_pops, norn_err *err);

/* Frees what norn_sonata_read_spikes returned; NULL does nothing. */
void norn_sonata_spikes_free(norn_sonata_spikes *pops, uint32_t n_pops);

#endif
