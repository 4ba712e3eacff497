/* io/h5err.h - HDF5 error handling shared by the HDF5 readers and writers
 * (io/sonata.c, io/nir.c): libhdf5 prints its own error stack unless told
 * not to; norn reports the innermost reason in its own message instead. */
#ifndef NORN_H5ERR_H
#define NORN_H5ERR_H

#include <hdf5.h>
#include <stdio.h>

/* Silences libhdf5's automatic printing of errors. */
static inline void norn_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static inline herr_t norn_h5_walk_first(unsigned n, const H5E_error2_t *e, void *data)
{
    char *buf = data;
    if (n == 0 && e->desc && *e->desc)
        snprintf(buf, 200, "%s", e->desc);
    return 0;
}

/* The innermost message of HDF5's error stack (where the failure began),
 * or "", into buf (at least 200 bytes); clears the stack. */
static inline const char *norn_h5_reason(char *buf)
{
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, norn_h5_walk_first, buf);
    H5Eclear2(H5E_DEFAULT);
    return buf;
}

#endif
