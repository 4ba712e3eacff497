/* io/npy.h - NumPy .npy files (format versions 1.0, 2.0 and 3.0).
 *
 * Writing: little-endian, C order, written atomically (io/atomic.h), so an
 * interrupted write never leaves a file that looks whole.
 * Reading: every numeric dtype NumPy writes (bool, int8..int64,
 * uint8..uint64, float16/32/64; '<', '>', '|' and '=' byte orders), C or
 * Fortran order, converted to double in C order. Structured spike arrays
 * with fields time_ms (float) and neuron (integer), in any field order.
 * Malformed files (bad magic, bad header, unknown dtype, shape/size
 * mismatch, truncated data, absurd sizes) give NORN_EPARSE with
 * where = the file path and a message saying what is wrong; never a crash.
 * Returned arrays come from engine/mem.h; the caller frees them.
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

/* Reads any numeric array. */
norn_status norn_npy_read(const char *path, norn_npy_array *out, norn_err *err);
void norn_npy_array_free(norn_npy_array *a);

/* Reads spikes: a structured array with fields time_ms and neuron, or a
 * 2-D [n, 2] numeric array of (time_ms, neuron), or a 1-D array of times
 * (then *neuron is NULL). */
norn_status norn_npy_read_spikes(const char *path, double **time_ms, uint32_t **neuron,
                                 uint64_t *n, norn_err *err);

/* Writers (atomic). shape has ndim entries. */
norn_status norn_npy_write_f32(const char *path, const float *data, int ndim,
                               const uint64_t *shape, norn_err *err);
norn_status norn_npy_write_f64(const char *path, const double *data, int ndim,
                               const uint64_t *shape, norn_err *err);
/* Structured [('time_ms', '<f8'), ('neuron', '<u4')], shape (n,). */
norn_status norn_npy_write_spikes(const char *path, const double *time_ms,
                                  const uint32_t *neuron, uint64_t n, norn_err *err);

#endif
