/* io/atomic.c - write to "<path>.tmp.<pid>", then fsync and rename over path.
 * rename() within one directory is atomic on POSIX file systems, so readers
 * see either the old file or the whole new one. After the rename the
 * directory is fsynced too (best effort), so the new name survives a crash.
 */
#include "io/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

norn_status norn_afile_open(norn_afile *a, const char *path, norn_err *err)
{
    a->f = NULL;
    a->path[0] = a->tmp[0] = '\0';
    if (path == NULL || path[0] == '\0')
        return NORN_FAIL(err, NORN_EINVAL, "", "empty output path");
    if (strlen(path) >= sizeof a->path)
        return NORN_FAIL(err, NORN_EINVAL, path, "path too long (at most %zu bytes)",
                         sizeof a->path - 1);
    memcpy(a->path, path, strlen(path) + 1);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp, "wb");
    if (a->f == NULL) {
        int e = errno;
        return NORN_FAIL(err, NORN_EIO, path, "cannot create temporary file '%s': %s", a->tmp,
                         strerror(e));
    }
    return NORN_OK;
}

/* fsync the directory holding path, so the rename is durable. Errors are
 * ignored: some file systems refuse fsync on directories. */
static void sync_dir(const char *path)
{
    char dir[sizeof((norn_afile *)0)->path];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

norn_status norn_afile_commit(norn_afile *a, norn_err *err)
{
    if (a->f == NULL)
        return NORN_FAIL(err, NORN_EINVAL, a->path, "commit of a file that is not open");
    FILE *f = a->f;
    a->f = NULL;
    const char *what;
    int e = 0;
    if (fflush(f) != 0) {
        e = errno;
        what = "write failed";
        goto fail;
    }
    if (ferror(f)) {
        e = EIO;
        what = "write failed";
        goto fail;
    }
    if (fsync(fileno(f)) != 0) {
        e = errno;
        what = "fsync failed";
        goto fail;
    }
    if (fclose(f) != 0) {
        f = NULL;
        e = errno;
        what = "close failed";
        goto fail;
    }
    f = NULL;
    if (rename(a->tmp, a->path) != 0) {
        e = errno;
        what = "cannot rename temporary file into place";
        goto fail;
    }
    sync_dir(a->path);
    return NORN_OK;
fail:
    if (f != NULL)
        fclose(f);
    remove(a->tmp);
    return NORN_FAIL(err, NORN_EIO, a->path, "%s: %s", what, strerror(e));
}

void norn_afile_abort(norn_afile *a)
{
    if (a->f == NULL)
        return;
    fclose(a->f);
    a->f = NULL;
    remove(a->tmp);
}
