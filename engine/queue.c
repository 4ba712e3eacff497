#include "engine/queue.h"

#include <math.h>

#include "engine/mem.h"

static inline int before(const norn_event *x, const norn_event *y)
{
    return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

norn_status norn_queue_init(norn_queue *q, size_t cap_hint, norn_err *err)
{
    q->n = 0;
    q->next_seq = 0;
    q->cap = cap_hint < 16 ? 16 : cap_hint;
    q->ev = norn_malloc_n(q->cap, sizeof *q->ev);
    if (!q->ev)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "event queue: cannot allocate %zu entries", q->cap);
    return NORN_OK;
}

void norn_queue_free(norn_queue *q)
{
    norn_free(q->ev);
    q->ev = NULL;
    q->n = q->cap = 0;
}

norn_status norn_queue_push(norn_queue *q, double t, uint32_t kind, uint32_t a, uint64_t b,
                            norn_err *err)
{
    if (q->n == q->cap) {
        norn_event *ev = norn_realloc_n(q->ev, q->cap * 2, sizeof *ev);
        if (!ev)
            return NORN_FAIL(err, NORN_ENOMEM, NULL, "event queue: cannot grow to %zu entries",
                             q->cap * 2);
        q->ev = ev;
        q->cap *= 2;
    }
    norn_event e = {t, q->next_seq++, kind, a, b};
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&e, &q->ev[parent]))
            break;
        q->ev[i] = q->ev[parent];
        i = parent;
    }
    q->ev[i] = e;
    return NORN_OK;
}

int norn_queue_pop(norn_queue *q, norn_event *out)
{
    if (q->n == 0)
        return 0;
    *out = q->ev[0];
    norn_event last = q->ev[--q->n];
    size_t n = q->n, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(&q->ev[c + 1], &q->ev[c]))
            c++;
        if (!before(&q->ev[c], &last))
            break;
        q->ev[i] = q->ev[c];
        i = c;
    }
    if (n > 0)
        q->ev[i] = last;
    return 1;
}

double norn_queue_peek_time(const norn_queue *q) { return q->n ? q->ev[0].t : INFINITY; }
