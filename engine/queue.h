/* engine/queue.h - pending events of one simulation.
 * Pops events in (t_ms, seq) order; seq is assigned by push, so events at
 * equal times pop in push order and runs repeat exactly. An implicit binary
 * min-heap in one array. Chosen by bench/queue_bench.c: the binary heap was
 * 4-23% faster than a 4-ary heap on every workload; a ring of per-step
 * buckets was 4-9x faster again (17 vs 80 ns per push+pop on Brunel-shaped
 * traffic) but needs a bounded horizon, and queue operations are ~1% of a
 * Brunel run (one entry per spike and delay segment, never per synapse), so
 * the simpler heap stays until large-delay networks make it matter. push and
 * pop are O(log n). Owns its storage (engine/mem.h); grows by doubling. One
 * queue per simulation, no locking.
 */
#ifndef NORN_QUEUE_H
#define NORN_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

typedef struct {
    double t;      /* ms */
    uint64_t seq;  /* tie-break: push order */
    uint32_t kind; /* what the event is; the engine's business */
    uint32_t a;    /* payload */
    uint64_t b;    /* payload */
} norn_event;

typedef struct {
    norn_event *ev;
    size_t n, cap;
    uint64_t next_seq;
} norn_queue;

norn_status norn_queue_init(norn_queue *q, size_t cap_hint, norn_err *err);
void norn_queue_free(norn_queue *q);
/* Copies the event in (its seq is assigned here). ENOMEM if growth fails. */
norn_status norn_queue_push(norn_queue *q, double t, uint32_t kind, uint32_t a, uint64_t b,
                            norn_err *err);
/* Removes the earliest event into *out; returns 0 if empty. */
int norn_queue_pop(norn_queue *q, norn_event *out);
/* Time of the earliest event, or INFINITY if empty. */
double norn_queue_peek_time(const norn_queue *q);
static inline size_t norn_queue_size(const norn_queue *q) { return q->n; }

#endif
