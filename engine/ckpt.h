/* engine/ckpt.h - framed, checksummed byte streams for checkpoints.
 *
 * A checkpoint stream is a sequence of sections:
 *   tag     4 bytes ("POPS", ...)
 *   length  u64, the payload's bytes
 *   payload
 *   hash    u64 of the payload (norn_hash below)
 * in the machine's byte order (the file header records it; io/checkpoint.c).
 * One norn_ckio both writes and reads: each section's content is described
 * once by a function that transfers fields through norn_ckio_bytes() and
 * friends, which write them when saving and read them back into the same
 * places when loading, so the two directions cannot drift apart. Saving
 * calls the function twice (first only counting the bytes, to write the
 * length up front), so it must not change anything it transfers.
 *
 * Loading reports, with the stream's name as err->where and the section's
 * tag in the message: a truncated stream, a section that is not the one
 * expected, a payload shorter or longer than its content, a hash mismatch
 * (corruption), or a value that differs from what the rebuilt simulation
 * has (NORN_EPARSE for the format, NORN_EINVAL for a mismatch). After the
 * first failure every transfer does nothing. No heap; the caller owns the
 * stream (ctx) and closes it.
 */
#ifndef NORN_CKPT_H
#define NORN_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

/* 64-bit hash of a byte stream, independent of how it is cut into pieces:
 * 8-byte words through a multiply-xorshift chain, the length folded in
 * at the end. Not cryptographic: it catches corruption and changed data. */
typedef struct {
    uint64_t h, n;
    uint8_t tail[8];
    unsigned nt;
} norn_hash;
void norn_hash_init(norn_hash *h);
void norn_hash_update(norn_hash *h, const void *p, size_t n);
uint64_t norn_hash_final(const norn_hash *h);

typedef struct norn_ckio {
    int loading;
    /* saving: write returns the bytes written (n on success) */
    size_t (*write)(void *ctx, const void *p, size_t n);
    /* loading: read returns the bytes read (n unless at the end) */
    size_t (*read)(void *ctx, void *p, size_t n);
    void *ctx;
    const char *name; /* the stream (a file name), for messages */
    norn_err *err;
    norn_status st;   /* the first failure */
    /* the current section */
    char tag[5];
    int counting;
    uint64_t count, left;
    norn_hash hash;
} norn_ckio;

/* A writer (loading = 0) or reader (loading = 1) over ctx. */
void norn_ckio_init(norn_ckio *io, int loading, void *ctx, const char *name, norn_err *err);

/* One section: writes it (tag, length, fn's content, hash) or reads it,
 * checking the tag, that fn consumed exactly its length, and its hash.
 * fn returns nothing; failures are kept in io->st. Returns io->st. */
norn_status norn_ckio_section(norn_ckio *io, const char *tag, void (*fn)(norn_ckio *io, void *arg), void *arg);

/* Transfers n bytes at p. */
void norn_ckio_bytes(norn_ckio *io, void *p, size_t n);
/* Transfers a u64 / i64 / double / u32 / int (as i64). */
void norn_ckio_u64(norn_ckio *io, uint64_t *v);
void norn_ckio_u32(norn_ckio *io, uint32_t *v);
void norn_ckio_i64(norn_ckio *io, int64_t *v);
void norn_ckio_f64(norn_ckio *io, double *v);
void norn_ckio_int(norn_ckio *io, int *v);
/* Saving: writes v; loading: reads a value and fails unless it equals v
 * ("<what>: <x> in the checkpoint, <v> here"). */
void norn_ckio_expect(norn_ckio *io, uint64_t v, const char *what);
/* Transfers *v and, loading, fails unless *v <= max. */
void norn_ckio_u64_max(norn_ckio *io, uint64_t *v, uint64_t max, const char *what);
void norn_ckio_u32_max(norn_ckio *io, uint32_t *v, uint32_t max, const char *what);
/* Records a failure (loading: the checkpoint does not fit) in the current
 * section; returns the code. */
norn_status norn_ckio_fail(norn_ckio *io, norn_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
