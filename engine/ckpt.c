/* engine/ckpt.c - checkpoint stream framing and hashing (see ckpt.h). */
#include "engine/ckpt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/rng.h"

#define HASH_M 0x9e3779b97f4a7c15ULL

void norn_hash_init(norn_hash *h)
{
    h->h = 0x6a09e667f3bcc909ULL;
    h->n = 0;
    h->nt = 0;
}

static inline uint64_t hash_word(uint64_t h, uint64_t w)
{
    h = (h ^ w) * HASH_M;
    return h ^ (h >> 29);
}

void norn_hash_update(norn_hash *h, const void *p, size_t n)
{
    const uint8_t *b = p;
    h->n += n;
    if (h->nt) {
        while (n && h->nt < 8) {
            h->tail[h->nt++] = *b++;
            n--;
        }
        if (h->nt < 8)
            return;
        uint64_t w;
        memcpy(&w, h->tail, 8);
        h->h = hash_word(h->h, w);
        h->nt = 0;
    }
    uint64_t x = h->h;
    for (; n >= 8; n -= 8, b += 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        x = hash_word(x, w);
    }
    h->h = x;
    memcpy(h->tail, b, n);
    h->nt = (unsigned)n;
}

uint64_t norn_hash_final(const norn_hash *h)
{
    uint64_t x = h->h;
    if (h->nt) {
        uint64_t w = 0;
        memcpy(&w, h->tail, h->nt);
        x = hash_word(x, w);
    }
    return norn_rng_mix64(x ^ norn_rng_mix64(h->n));
}

void norn_ckio_init(norn_ckio *io, int loading, void *ctx, const char *name, norn_err *err)
{
    memset(io, 0, sizeof *io);
    io->loading = loading;
    io->ctx = ctx;
    io->name = name ? name : "";
    io->err = err;
    io->st = NORN_OK;
}

norn_status norn_ckio_fail(norn_ckio *io, norn_status code, const char *fmt, ...)
{
    if (io->st != NORN_OK)
        return io->st;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    io->st = code;
    if (io->tag[0])
        return NORN_FAIL(io->err, code, io->name, "section '%s': %s", io->tag, msg);
    return NORN_FAIL(io->err, code, io->name, "%s", msg);
}

/* raw transfer outside the hashed payload */
static int raw_write(norn_ckio *io, const void *p, size_t n)
{
    if (io->write(io->ctx, p, n) != n) {
        norn_ckio_fail(io, NORN_EIO, "write failed");
        return 0;
    }
    return 1;
}

static int raw_read(norn_ckio *io, void *p, size_t n, const char *what)
{
    if (io->read(io->ctx, p, n) != n) {
        norn_ckio_fail(io, NORN_EPARSE, "truncated checkpoint (%s ends early)", what);
        return 0;
    }
    return 1;
}

void norn_ckio_bytes(norn_ckio *io, void *p, size_t n)
{
    if (io->st != NORN_OK || n == 0)
        return;
    if (!io->loading) {
        if (io->counting) {
            io->count += n;
            return;
        }
        if (raw_write(io, p, n))
            norn_hash_update(&io->hash, p, n);
        return;
    }
    if (n > io->left) {
        norn_ckio_fail(io, NORN_EPARSE, "its content is longer than the section (corrupt checkpoint)");
        return;
    }
    if (!raw_read(io, p, n, "the section"))
        return;
    io->left -= n;
    norn_hash_update(&io->hash, p, n);
}

void norn_ckio_u64(norn_ckio *io, uint64_t *v) { norn_ckio_bytes(io, v, sizeof *v); }
void norn_ckio_u32(norn_ckio *io, uint32_t *v) { norn_ckio_bytes(io, v, sizeof *v); }
void norn_ckio_i64(norn_ckio *io, int64_t *v) { norn_ckio_bytes(io, v, sizeof *v); }
void norn_ckio_f64(norn_ckio *io, double *v) { norn_ckio_bytes(io, v, sizeof *v); }

void norn_ckio_int(norn_ckio *io, int *v)
{
    int64_t x = *v;
    norn_ckio_i64(io, &x);
    if (io->loading && io->st == NORN_OK) {
        if (x < -2147483647 - 1 || x > 2147483647)
            norn_ckio_fail(io, NORN_EPARSE, "integer %lld out of range (corrupt checkpoint)", (long long)x);
        else
            *v = (int)x;
    }
}

void norn_ckio_expect(norn_ckio *io, uint64_t v, const char *what)
{
    uint64_t x = v;
    norn_ckio_u64(io, &x);
    if (io->loading && io->st == NORN_OK && x != v)
        norn_ckio_fail(io, NORN_EINVAL, "%s: %llu in the checkpoint, %llu in the network rebuilt here", what,
                       (unsigned long long)x, (unsigned long long)v);
}

void norn_ckio_u64_max(norn_ckio *io, uint64_t *v, uint64_t max, const char *what)
{
    norn_ckio_u64(io, v);
    if (io->loading && io->st == NORN_OK && *v > max)
        norn_ckio_fail(io, NORN_EPARSE, "%s: %llu, at most %llu possible (corrupt checkpoint)", what,
                       (unsigned long long)*v, (unsigned long long)max);
}

void norn_ckio_u32_max(norn_ckio *io, uint32_t *v, uint32_t max, const char *what)
{
    uint64_t x = *v;
    norn_ckio_u64_max(io, &x, max, what);
    if (io->loading && io->st == NORN_OK)
        *v = (uint32_t)x;
}

norn_status norn_ckio_section(norn_ckio *io, const char *tag, void (*fn)(norn_ckio *io, void *arg), void *arg)
{
    if (io->st != NORN_OK)
        return io->st;
    char t4[4] = {0, 0, 0, 0};
    memcpy(t4, tag, strlen(tag) < 4 ? strlen(tag) : 4);
    if (!io->loading) {
        io->tag[0] = '\0';
        io->counting = 1;
        io->count = 0;
        fn(io, arg);
        io->counting = 0;
        uint64_t len = io->count;
        memcpy(io->tag, t4, 4);
        io->tag[4] = '\0';
        if (!raw_write(io, t4, 4) || !raw_write(io, &len, sizeof len))
            return io->st;
        norn_hash_init(&io->hash);
        fn(io, arg);
        uint64_t h = norn_hash_final(&io->hash);
        if (io->st == NORN_OK)
            raw_write(io, &h, sizeof h);
        if (io->st == NORN_OK)
            io->tag[0] = '\0';
        return io->st;
    }
    char got[4];
    uint64_t len;
    memcpy(io->tag, t4, 4);
    io->tag[4] = '\0';
    if (!raw_read(io, got, 4, "the section header") || !raw_read(io, &len, sizeof len, "the section header"))
        return io->st;
    if (memcmp(got, t4, 4) != 0) {
        char g[5];
        for (int k = 0; k < 4; k++)
            g[k] = got[k] >= 32 && got[k] < 127 ? got[k] : '?';
        g[4] = '\0';
        return norn_ckio_fail(io, NORN_EPARSE, "expected here, found '%s' (corrupt checkpoint)", g);
    }
    io->left = len;
    norn_hash_init(&io->hash);
    fn(io, arg);
    if (io->st != NORN_OK)
        return io->st;
    if (io->left != 0)
        return norn_ckio_fail(io, NORN_EPARSE, "%llu bytes more than its content (corrupt checkpoint)",
                              (unsigned long long)io->left);
    uint64_t h;
    if (!raw_read(io, &h, sizeof h, "the section's checksum"))
        return io->st;
    if (h != norn_hash_final(&io->hash))
        return norn_ckio_fail(io, NORN_EPARSE, "checksum mismatch (corrupt checkpoint)");
    io->tag[0] = '\0';
    return NORN_OK;
}
