/* engine/queue.h - pending events of one simulation.
 * Pops events in (t_ms, seq) order; seq is assigned by push, so events at
 * equal times pop in push order and runs repeat exactly. An implicit 4-ary
 * min-heap in one array (chosen by bench/queue_bench.c against a binary
 * heap and a bucket ring; see bench/README.md). The heap holds one entry
 * per (spike, delay segment), never one per synapse, so it stays small:
 * spikes in flight times distinct delays. push is O(log4 n), pop
 * O(4 log4 n). Owns its storage (engine/mem.h); grows by doubling. One
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
