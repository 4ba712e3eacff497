/* io/checkpoint.c - checkpoint files (see checkpoint.h). */
#include "io/checkpoint.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ckpt.h"
#include "engine/mem.h"
#include "io/atomic.h"
#include "io/build.h"

#ifndef NORN_VERSION
#define NORN_VERSION "unknown"
#endif

static const char magic[8] = {'N', 'O', 'R', 'N', 'C', 'K', 'P', 'T'};
#define BOM 0x01020304u

static size_t f_write(void *ctx, const void *p, size_t n) { return fwrite(p, 1, n, (FILE *)ctx); }
static size_t f_read(void *ctx, void *p, size_t n) { return fread(p, 1, n, (FILE *)ctx); }

/* a string: u64 length + bytes; loading allocates (NUL-terminated) */
static void ck_str(norn_ckio *io, char **s, size_t *len_out)
{
    uint64_t n = *s ? strlen(*s) : 0;
    if (len_out && !io->loading)
        n = *len_out;
    norn_ckio_u64_max(io, &n, 1ull << 32, "string length");
    if (io->st != NORN_OK)
        return;
    if (io->loading) {
        if (n > io->left) {
            norn_ckio_fail(io, NORN_EPARSE, "a string longer than the section (corrupt checkpoint)");
            return;
        }
        *s = norn_malloc(n + 1);
        if (!*s) {
            norn_ckio_fail(io, NORN_ENOMEM, "out of memory");
            return;
        }
        (*s)[n] = '\0';
    }
    norn_ckio_bytes(io, *s, n);
    if (len_out)
        *len_out = n;
}

/* ------------------------------------------------------------------ META */

typedef struct {
    char *version;
    norn_checkpoint_info *info;
} meta_arg;

static void ck_meta(norn_ckio *io, void *arg)
{
    meta_arg *m = arg;
    norn_checkpoint_info *in = m->info;
    ck_str(io, &m->version, NULL);
    if (io->loading && io->st == NORN_OK && strcmp(m->version, NORN_VERSION) != 0) {
        norn_ckio_fail(io, NORN_EPARSE, "written by norn %s; this is norn %s (resume with the norn that wrote it)",
                       m->version, NORN_VERSION);
        return;
    }
    ck_str(io, &in->desc_path, NULL);
    ck_str(io, &in->desc_text, &in->desc_len);
    norn_ckio_u64(io, &in->seed);
    norn_ckio_f64(io, &in->duration_ms);
    norn_ckio_int(io, &in->mode);
    norn_ckio_f64(io, &in->time_ms);
}

/* ------------------------------------------------------------------ FILE */

/* The data files of a description, in a fixed order (NULL entries skipped). */
static uint32_t list_files(const norn_desc *d, const char **out, uint32_t cap)
{
    uint32_t n = 0;
#define ADD(x)                     \
    do {                           \
        if ((x) && n < cap)        \
            out[n] = (x);          \
        if (x)                     \
            n++;                   \
    } while (0)
    for (uint32_t k = 0; k < d->n_pops; k++)
        for (int v = 0; v < NORN_MAX_STATE; v++)
            ADD(d->pops[k].has_initial[v] ? d->pops[k].initial[v].file : NULL);
    for (uint32_t k = 0; k < d->n_stims; k++)
        ADD(d->stims[k].file);
    for (uint32_t k = 0; k < d->n_projs; k++) {
        ADD(d->projs[k].weight.file);
        ADD(d->projs[k].delay.file);
        ADD(d->projs[k].list_file);
    }
#undef ADD
    return n;
}

static norn_status hash_file(const char *path, uint64_t *size, uint64_t *hash, norn_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NORN_FAIL(err, NORN_EIO, path, "cannot open data file: %s", strerror(errno));
    norn_hash h;
    norn_hash_init(&h);
    char buf[65536];
    size_t got;
    uint64_t n = 0;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        norn_hash_update(&h, buf, got);
        n += got;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return NORN_FAIL(err, NORN_EIO, path, "cannot read data file");
    *size = n;
    *hash = norn_hash_final(&h);
    return NORN_OK;
}

typedef struct {
    const norn_desc *d;
} file_arg;

static void ck_files(norn_ckio *io, void *arg)
{
    const norn_desc *d = ((file_arg *)arg)->d;
    uint32_t n = list_files(d, NULL, 0);
    const char **paths = norn_malloc_n(n ? n : 1, sizeof *paths);
    if (!paths) {
        norn_ckio_fail(io, NORN_ENOMEM, "out of memory");
        return;
    }
    list_files(d, paths, n);
    norn_ckio_expect(io, n, "data files");
    for (uint32_t k = 0; k < n && io->st == NORN_OK; k++) {
        uint64_t size = 0, hash = 0;
        norn_err e;
        if (hash_file(paths[k], &size, &hash, &e) != NORN_OK) {
            norn_ckio_fail(io, e.code, "%s: %s", e.where, e.msg);
            break;
        }
        uint64_t s2 = size, h2 = hash;
        norn_ckio_u64(io, &s2);
        norn_ckio_u64(io, &h2);
        if (io->loading && io->st == NORN_OK && (s2 != size || h2 != hash))
            norn_ckio_fail(io, NORN_EINVAL, "data file '%s' changed since the checkpoint was written", paths[k]);
    }
    norn_free((void *)paths);
}

/* ----------------------------------------------------------------- write */

norn_status norn_checkpoint_write(const char *path, const norn_desc *d, const char *text, size_t len,
                                  norn_sim *s, norn_err *err)
{
    char abs[PATH_MAX];
    if (!realpath(d->path, abs))
        snprintf(abs, sizeof abs, "%s", d->path);
    norn_afile af;
    norn_status st = norn_afile_open(&af, path, err);
    if (st != NORN_OK)
        return st;
    uint32_t hdr[2] = {NORN_CHECKPOINT_VERSION, BOM};
    if (fwrite(magic, 1, sizeof magic, af.f) != sizeof magic || fwrite(hdr, 1, sizeof hdr, af.f) != sizeof hdr) {
        norn_afile_abort(&af);
        return NORN_FAIL(err, NORN_EIO, path, "write failed");
    }
    norn_ckio io;
    norn_ckio_init(&io, 0, af.f, path, err);
    io.write = f_write;
    norn_checkpoint_info in = {.desc_path = abs, .desc_text = (char *)text, .desc_len = len, .seed = d->seed,
                               .duration_ms = d->duration_ms, .mode = (int)d->mode, .time_ms = norn_sim_time(s)};
    meta_arg m = {.version = NORN_VERSION, .info = &in};
    file_arg fa = {.d = d};
    norn_ckio_section(&io, "META", ck_meta, &m);
    norn_ckio_section(&io, "FILE", ck_files, &fa);
    if (io.st == NORN_OK)
        norn_sim_save(s, &io);
    if (io.st != NORN_OK) {
        norn_afile_abort(&af);
        return io.st;
    }
    return norn_afile_commit(&af, err);
}

/* ------------------------------------------------------------------ read */

void norn_checkpoint_info_free(norn_checkpoint_info *info)
{
    if (!info)
        return;
    norn_free(info->desc_path);
    norn_free(info->desc_text);
    memset(info, 0, sizeof *info);
}

norn_status norn_checkpoint_resume(const char *path, uint64_t max_memory, norn_desc **d_out, norn_sim **s_out,
                                   norn_checkpoint_info *info, norn_err *err)
{
    memset(info, 0, sizeof *info);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NORN_FAIL(err, NORN_EIO, path, "cannot open checkpoint: %s", strerror(errno));
    norn_desc *d = NULL;
    norn_sim *s = NULL;
    char *version = NULL;
    norn_status st = NORN_OK;
    char mg[8];
    uint32_t hdr[2];
    if (fread(mg, 1, sizeof mg, f) != sizeof mg || memcmp(mg, magic, sizeof magic) != 0) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "not a norn checkpoint (no NORNCKPT magic)");
        goto fail;
    }
    if (fread(hdr, 1, sizeof hdr, f) != sizeof hdr) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "truncated checkpoint (header)");
        goto fail;
    }
    if (hdr[1] != BOM) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "checkpoint written on a machine of another byte order");
        goto fail;
    }
    if (hdr[0] != NORN_CHECKPOINT_VERSION) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "checkpoint format version %u; this norn reads version %u", hdr[0],
                       NORN_CHECKPOINT_VERSION);
        goto fail;
    }
    norn_ckio io;
    norn_ckio_init(&io, 1, f, path, err);
    io.read = f_read;
    meta_arg m = {.version = NULL, .info = info};
    norn_ckio_section(&io, "META", ck_meta, &m);
    version = m.version;
    if ((st = io.st) != NORN_OK)
        goto fail;
    if (info->mode < NORN_MODE_CONTINUOUS || info->mode > NORN_MODE_EULER || !(info->duration_ms > 0)) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "section 'META': bad mode or duration (corrupt checkpoint)");
        goto fail;
    }
    /* the description as it was run, relative files from its directory */
    st = norn_desc_parse(info->desc_text, info->desc_len, info->desc_path, &d, err);
    if (st != NORN_OK) {
        char msg[1200];
        snprintf(msg, sizeof msg, "the checkpoint's description does not parse here: %s: %s", err->where,
                 err->msg);
        st = NORN_FAIL(err, NORN_EINVAL, path, "%s", msg);
        goto fail;
    }
    d->seed = info->seed;
    d->duration_ms = info->duration_ms;
    d->mode = (norn_mode)info->mode;
    d->max_memory = max_memory;
    file_arg fa = {.d = d};
    norn_ckio_section(&io, "FILE", ck_files, &fa);
    if ((st = io.st) != NORN_OK)
        goto fail;
    norn_build_info bi;
    st = norn_build(d, &s, &bi, err);
    if (st != NORN_OK) {
        char msg[1200];
        snprintf(msg, sizeof msg, "rebuilding the checkpoint's network: %s: %s", err->where, err->msg);
        st = NORN_FAIL(err, st, path, "%s", msg);
        goto fail;
    }
    st = norn_sim_begin(s, d->duration_ms, err);
    if (st == NORN_OK)
        st = norn_sim_load(s, &io);
    if (st != NORN_OK)
        goto fail;
    char extra;
    if (fread(&extra, 1, 1, f) == 1) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "data after the last section (corrupt checkpoint)");
        goto fail;
    }
    fclose(f);
    norn_free(version);
    *d_out = d;
    *s_out = s;
    return NORN_OK;
fail:
    fclose(f);
    norn_free(version);
    norn_sim_destroy(s);
    norn_desc_free(d);
    norn_checkpoint_info_free(info);
    return st;
}

norn_status norn_checkpoint_read_text(const char *path, char **text, size_t *len, norn_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NORN_FAIL(err, NORN_EIO, path, "cannot open '%s': %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = norn_malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            char *nb = norn_realloc_n(buf, 2 * cap + 1, 1);
            if (!nb) {
                norn_free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return NORN_FAIL(err, NORN_ENOMEM, path, "out of memory reading '%s'", path);
    if (bad) {
        norn_free(buf);
        return NORN_FAIL(err, NORN_EIO, path, "cannot read '%s'", path);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return NORN_OK;
}
