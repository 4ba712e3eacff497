/* io/atomic.h - files that appear whole or not at all.
 * norn_afile_open() creates "<path>.tmp.<pid>" beside the target;
 * norn_afile_commit() flushes, fsyncs, closes and renames it over path;
 * norn_afile_abort() closes and removes it. Errors name the path
 * (err->where) and give strerror in the message (NORN_EIO).
 * After open fails, f is NULL. commit and abort always end with f == NULL
 * and the temporary file gone (a failed commit removes it and leaves any
 * previous file at path untouched), so abort after commit does nothing.
 * One norn_afile per target path at a time within a process. No heap.
 */
#ifndef NORN_ATOMIC_H
#define NORN_ATOMIC_H

#include <stdio.h>

#include "engine/err.h"

typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4200];
} norn_afile;

norn_status norn_afile_open(norn_afile *a, const char *path, norn_err *err);
norn_status norn_afile_commit(norn_afile *a, norn_err *err); /* also checks ferror */
void norn_afile_abort(norn_afile *a);

#endif
