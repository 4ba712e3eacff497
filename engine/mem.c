#include "engine/mem.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* The backend: jemalloc, or libc's malloc with -Dallocator=libc (meson
 * option, for sanitizer and fuzzing builds: AddressSanitizer only sees
 * heap overflows and use-after-free in blocks from its own malloc). Either
 * way the block's usable size is what is counted. */
#ifdef NORN_LIBC_MALLOC
#include <malloc.h>
#include <stdlib.h>
#define MALLOCX_ZERO 1
static void *mallocx(size_t n, int zero) { return zero ? calloc(1, n) : malloc(n); }
static void *rallocx(void *p, size_t n, int flags) { (void)flags; return realloc(p, n); }
static size_t sallocx(const void *p, int flags) { (void)flags; return malloc_usable_size((void *)p); }
static void dallocx(void *p, int flags) { (void)flags; free(p); }
#else
#include <jemalloc/jemalloc.h>
#endif

static atomic_size_t live_bytes;
static atomic_size_t peak_bytes;
static atomic_long fail_after = -1;

static int should_fail(void)
{
    long f = atomic_load(&fail_after);
    if (f < 0)
        return 0;
    if (f == 0) {
        atomic_store(&fail_after, -1);
        return 1;
    }
    atomic_fetch_sub(&fail_after, 1);
    return 0;
}

/* Bytes the system can still give (MemAvailable), or SIZE_MAX if unknown. */
size_t norn_mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return SIZE_MAX;
    char line[256];
    size_t kb = 0;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "MemAvailable:", 13) == 0) {
            found = sscanf(line + 13, "%zu", &kb) == 1;
            break;
        }
    }
    fclose(f);
    return found && kb < SIZE_MAX / 1024 ? kb * 1024 : SIZE_MAX;
}

/* A large request the machine cannot hold fails here, cleanly, instead of
 * succeeding on paper (overcommit) and getting the process killed when the
 * pages are touched. */
static int too_big(size_t bytes)
{
    return bytes >= ((size_t)256 << 20) && bytes > norn_mem_available();
}

static void count(size_t add, size_t sub)
{
    size_t now = atomic_fetch_add(&live_bytes, add) + add;
    atomic_fetch_sub(&live_bytes, sub);
    now -= sub;
    size_t peak = atomic_load(&peak_bytes);
    while (now > peak && !atomic_compare_exchange_weak(&peak_bytes, &peak, now)) {
    }
}

void *norn_malloc(size_t bytes)
{
    if (should_fail() || too_big(bytes))
        return NULL;
    void *p = mallocx(bytes ? bytes : 1, 0);
    if (p)
        count(sallocx(p, 0), 0);
    return p;
}

void *norn_malloc_n(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return norn_malloc(n * size);
}

void *norn_calloc_n(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    if (should_fail() || too_big(n * size))
        return NULL;
    size_t bytes = n * size;
    void *p = mallocx(bytes ? bytes : 1, MALLOCX_ZERO);
    if (p)
        count(sallocx(p, 0), 0);
    return p;
}

void *norn_realloc_n(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    if (p == NULL)
        return norn_malloc(n * size);
    if (should_fail() || too_big(n * size))
        return NULL;
    size_t old = sallocx(p, 0);
    size_t bytes = n * size;
    void *q = rallocx(p, bytes ? bytes : 1, 0);
    if (q)
        count(sallocx(q, 0), old);
    return q;
}

void norn_free(void *p)
{
    if (p == NULL)
        return;
    count(0, sallocx(p, 0));
    dallocx(p, 0);
}

char *norn_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = norn_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

size_t norn_mem_live(void) { return atomic_load(&live_bytes); }
size_t norn_mem_peak(void) { return atomic_load(&peak_bytes); }

size_t norn_mem_peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            sscanf(line + 6, "%zu", &kb);
            break;
        }
    }
    fclose(f);
    return kb * 1024;
}

void norn_mem_fail_after(long after) { atomic_store(&fail_after, after); }
