/* io/npy.h - NumPy .npy files (format versions 1.0, 2.0 and 3.0).
 *
 * Writing: little-endian, C order, written atomically (io/atomic.h), so an
 * interrupted write never leaves a file that looks whole.
 * Reading: every numeric dtype NumPy writes (bool, int8..int64,
 * uint8..uint64, float16/32/64; '<', '>', '|' and '=' byte orders), C or
 * Fortran order, converted to double in C order. Structured spike arrays
 * with fields time_ms (float) and neuron (integer), in any field order.
 * Malformed files (bad magic, bad header, unknown dtype, shape/size
 * mismatch, truncated data, bytes after the data, absurd sizes) give
 * NORN_EPARSE with where = the file path and a message saying what is
 * wrong; never a crash. Nothing is allocated from a shape before it is
 * checked against the file size. A missing, unreadable or non-regular file
 * gives NORN_EIO. On failure the outputs are untouched.
 * Returned arrays come from engine/mem.h; the caller frees them (also for
 * zero elements, where they are non-NULL). Reading streams the data through
 * a 1 MiB buffer; cost is one pass over the file.
 */
#ifndef NORN_NPY_H
#define NORN_NPY_H

#include <stdint.h>

#include "engine/err.h"

#define NORN_NPY_MAXDIM 8

typedef struct {
    int ndim;
    uint64_t shape[NORN_NPY_MAXDIM];
    uint64_t count; /* product of shape */
    double *data;   /* [count], C order */
} norn_npy_array;

/* Reads any numeric array (a structured dtype is an error). int64/uint64
 * values beyond 2^53 are rounded to the nearest double. */
norn_status norn_npy_read(const char *path, norn_npy_array *out, norn_err *err);
void norn_npy_array_free(norn_npy_array *a);

/* Reads spikes: a 1-D structured array with fields time_ms (any float or
 * integer type) and neuron (any integer type), in any order, other fields
 * skipped; or a 2-D [n, 2] numeric array of (time_ms, neuron); or a 1-D
 * array of times (then *neuron is NULL). Every time must be finite and
 * every neuron an integer in [0, 2^32 - 2]; the first that is not is
 * reported as "spike K: ...". Order is not checked. Free both arrays with
 * norn_free. */
norn_status norn_npy_read_spikes(const char *path, double **time_ms, uint32_t **neuron,
                                 uint64_t *n, norn_err *err);

/* Reads a synapse list (the `from_list` connection rule): a 1-D structured
 * array with integer fields pre and post (any integer type, values in
 * [0, 2^32 - 2]), a numeric field weight and optionally a numeric field
 * delay (ms), in any order, other fields skipped (so a weights_<proj>.npy
 * snapshot reads as a list). Rows are returned as stored. A bad value is
 * reported as "row K: field 'post': ..." (where = path); a missing field
 * names the fields expected. *delay is set to NULL when the file has no
 * delay field (pass delay = NULL to ignore it). Free every array with
 * norn_free. */
norn_status norn_npy_read_synapses(const char *path, uint32_t **pre, uint32_t **post, double **weight,
                                   double **delay, uint64_t *n, norn_err *err);

/* Writers (atomic): format 1.0, header padded with spaces and '\n' so the
 * data starts at a multiple of 64 bytes, as NumPy writes it; descr '<f4' or
 * '<f8', C order. shape has ndim entries (0 <= ndim <= NORN_NPY_MAXDIM; may
 * be NULL for ndim 0); data may be NULL only for zero elements. NORN_EINVAL
 * for bad arguments, NORN_EIO if the file cannot be written (the previous
 * file, if any, is then left as it was). Allocate nothing. */
norn_status norn_npy_write_f32(const char *path, const float *data, int ndim,
                               const uint64_t *shape, norn_err *err);
norn_status norn_npy_write_f64(const char *path, const double *data, int ndim,
                               const uint64_t *shape, norn_err *err);
/* Structured [('time_ms', '<f8'), ('neuron', '<u4')], packed (itemsize
 * 12), shape (n,). */
norn_status norn_npy_write_spikes(const char *path, const double *time_ms,
                                  const uint32_t *neuron, uint64_t n, norn_err *err);

/* Structured [('pre', '<u4'), ('post', '<u4'), ('weight', '<f4'),
 * ('time_ms', '<f8')], shape (n,): synapse snapshots (weights_<proj>.npy). */
norn_status norn_npy_write_weights(const char *path, const uint32_t *pre, const uint32_t *post, const float *weight,
                                   const double *time_ms, uint64_t n, norn_err *err);

/* Structured [('pre', '<u4'), ('post', '<u4'), ('weight', '<f4')], shape
 * (n,): a synapse list as norn_npy_read_synapses reads it. */
norn_status norn_npy_write_synapses(const char *path, const uint32_t *pre, const uint32_t *post, const float *weight,
                                    uint64_t n, norn_err *err);

#endif
