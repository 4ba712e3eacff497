/* engine/mem.h - the one allocator.
 * Every heap allocation of the library goes through here; only mem.c knows
 * jemalloc (or libc's malloc in sanitizer builds, -Dallocator=libc). Sizes
 * are checked for overflow, live and peak bytes are counted (process-wide,
 * atomically), and tests can make the k-th allocation fail to
 * exercise ENOMEM paths. A request of 256 MiB or more that exceeds the
 * memory the system has available (MemAvailable) fails at once, so a
 * network that will not fit is reported instead of being killed later.
 * Returns NULL on failure; never aborts.
 */
#ifndef NORN_MEM_H
#define NORN_MEM_H

#include <stddef.h>
#include <stdint.h>

void *norn_malloc(size_t bytes);
void *norn_calloc_n(size_t n, size_t size);        /* zeroed, n*size checked */
void *norn_malloc_n(size_t n, size_t size);        /* n*size checked */
void *norn_realloc_n(void *p, size_t n, size_t size);
void norn_free(void *p);
char *norn_strdup(const char *s);

size_t norn_mem_live(void);  /* bytes currently allocated through norn_* */
size_t norn_mem_peak(void);  /* high-water mark of norn_mem_live */
/* Memory the system can still give (MemAvailable), SIZE_MAX if unknown. */
size_t norn_mem_available(void);
/* Process peak resident set (VmHWM) in bytes, 0 if unknown. */
size_t norn_mem_peak_rss(void);

/* Testing: make the allocation after `after` more successful calls fail
 * (0 = the next one); -1 disables. */
void norn_mem_fail_after(long after);

#endif
