/* bench/queue_bench.c - which event queue should the engine use?
 *
 * Times three priority queues with the engine's ordering contract (pop in
 * (t_ms, seq) order, seq = push order) on workloads shaped like the engine's:
 *
 *   engine engine/queue.c, the heap the engine uses (libnorn): 4-ary when the
 *          results in bench/README.md were taken, binary since (it was faster)
 *   heap2  a plain implicit binary heap (here)
 *   ring   a bucket ring (here): a calendar of R per-resolution-step FIFO
 *          buckets for bounded delays; an event at t goes to bucket
 *          floor(t/h) mod R; pop scans the buckets in order; a bucket whose
 *          entries arrived out of (t, seq) order (off-grid times) is sorted
 *          once when it is reached, a bucket filled in order (grid times) is
 *          a plain FIFO.
 *
 * Workloads (fixed seeds; the spike trains are generated once, outside the
 * timed region, and replayed identically to every queue):
 *   a  brunel-grid : 12,500 neurons, ~470 spikes/ms (Poisson, 127 Hz
 *                    oscillation), spike times on the 0.1 ms grid, each spike
 *                    pushes 2 entries at t + 1.5 ms; before a spike at ts is
 *                    pushed, every entry with t <= ts is popped (the engine's
 *                    interleaving). Steady state ~1,400 entries.
 *   b  brunel-cont : the same with continuous (off-grid) spike times.
 *   c  delays-100  : grid times, 20 distinct delays per spike drawn from
 *                    1..100 steps, one entry per (spike, delay).
 *      delays-100-cont : the same with off-grid spike times, so entries reach
 *                    a bucket out of order and the ring has to sort (with a
 *                    single delay, as in b, they arrive in order even
 *                    off-grid).
 *   d  hold-1M-grid / hold-1M-cont : a steady queue of 1e6 entries; each
 *                    operation pops the minimum and pushes it again at
 *                    t + delay, delay 1..100 steps (grid) or uniform in
 *                    [0.1, 10) ms (off-grid). The fill is not timed.
 *
 * Every queue must pop the same sequence: an order-sensitive checksum over
 * (t, seq, kind, a, b) of all pops is compared; a queue that disagrees is a
 * bug and the program exits 1. Prints the machine and, per workload and
 * queue, the median over 5 repetitions (and min..max) of nanoseconds per
 * push+pop pair. Our push/pop are noinline so that, like libnorn's, they
 * cost a call.
 *
 * Usage: queue_bench [--reps N] [--quick]
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/machine.h"
#include "engine/mem.h"
#include "engine/queue.h"

#define NOINLINE __attribute__((noinline))

/* ------------------------------------------------------------------ rng */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double unif(uint64_t *s) { return (splitmix(s) >> 11) * 0x1.0p-53; }
static uint32_t below(uint64_t *s, uint32_t n) { return (uint32_t)(unif(s) * n); }
static uint32_t poisson(uint64_t *s, double mean)
{
    /* Knuth; mean here is < 200 */
    double l = exp(-mean), p = 1.0;
    uint32_t k = 0;
    for (;;) {
        p *= unif(s);
        if (p <= l)
            return k;
        k++;
    }
}

static inline int before(const norn_event *x, const norn_event *y)
{
    return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

/* -------------------------------------------------------- binary heap */

typedef struct {
    norn_event *ev;
    size_t n, cap;
    uint64_t next_seq;
} heap2;

static int heap2_init(heap2 *q, size_t cap)
{
    q->n = 0;
    q->next_seq = 0;
    q->cap = cap < 16 ? 16 : cap;
    q->ev = norn_malloc_n(q->cap, sizeof *q->ev);
    return q->ev ? 0 : -1;
}
static void heap2_free(heap2 *q) { norn_free(q->ev); }

static NOINLINE int heap2_push(heap2 *q, double t, uint32_t kind, uint32_t a, uint64_t b)
{
    if (q->n == q->cap) {
        norn_event *ev = norn_realloc_n(q->ev, q->cap * 2, sizeof *ev);
        if (!ev)
            return -1;
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
    return 0;
}

static NOINLINE int heap2_pop(heap2 *q, norn_event *out)
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

static NOINLINE double heap2_peek_time(const heap2 *q) { return q->n ? q->ev[0].t : INFINITY; }

/* --------------------------------------------------------- bucket ring */

typedef struct {
    norn_event *ev;
    uint32_t head, n, cap; /* pending entries are ev[head..n) */
    int sorted;            /* ev[head..n) is in (t, seq) order */
} bucket;

typedef struct {
    bucket *b;
    uint64_t mask;       /* R - 1, R a power of two */
    uint64_t cur;        /* absolute step of the bucket being drained */
    uint64_t hi;         /* highest absolute step that may hold an entry */
    double inv_h;        /* 1 / resolution */
    size_t count;        /* entries pending */
    uint64_t next_seq;
} ring;

static int ring_init(ring *r, double h_ms, uint32_t max_delay_steps)
{
    uint64_t R = 1;
    while (R < (uint64_t)max_delay_steps + 2)
        R <<= 1;
    r->b = norn_calloc_n(R, sizeof *r->b);
    if (!r->b)
        return -1;
    for (uint64_t i = 0; i < R; i++)
        r->b[i].sorted = 1;
    r->mask = R - 1;
    r->cur = r->hi = 0;
    r->inv_h = 1.0 / h_ms;
    r->count = 0;
    r->next_seq = 0;
    return 0;
}

static void ring_free(ring *r)
{
    for (uint64_t i = 0; i <= r->mask; i++)
        norn_free(r->b[i].ev);
    norn_free(r->b);
}

/* Step index of time t: monotone in t, and the tolerance keeps a grid time
 * k*h that rounds to just below k in its own bucket. */
static inline uint64_t ring_step(const ring *r, double t)
{
    return (uint64_t)(t * r->inv_h + 1e-6);
}

static NOINLINE int ring_push(ring *r, double t, uint32_t kind, uint32_t a, uint64_t b)
{
    uint64_t k = ring_step(r, t);
    if (r->count == 0) {
        r->cur = r->hi = k;
    } else {
        uint64_t lo = k < r->cur ? k : r->cur, hi = k > r->hi ? k : r->hi;
        if (hi - lo > r->mask)
            return -1; /* beyond the horizon: delays must be < R steps */
        r->cur = lo;
        r->hi = hi;
    }
    bucket *bk = &r->b[k & r->mask];
    if (bk->n == bk->cap) {
        uint32_t cap = bk->cap ? bk->cap * 2 : 64;
        norn_event *ev = norn_realloc_n(bk->ev, cap, sizeof *ev);
        if (!ev)
            return -1;
        bk->ev = ev;
        bk->cap = cap;
    }
    norn_event e = {t, r->next_seq++, kind, a, b};
    if (bk->n > bk->head && bk->sorted && before(&e, &bk->ev[bk->n - 1]))
        bk->sorted = 0;
    bk->ev[bk->n++] = e;
    r->count++;
    return 0;
}

static void isort(norn_event *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        norn_event x = v[i];
        size_t j = i;
        while (j > 0 && before(&x, &v[j - 1])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void qsort_ev(norn_event *v, size_t n)
{
    while (n > 24) {
        /* median of three as pivot */
        size_t m = n / 2;
        if (before(&v[m], &v[0])) { norn_event x = v[m]; v[m] = v[0]; v[0] = x; }
        if (before(&v[n - 1], &v[0])) { norn_event x = v[n - 1]; v[n - 1] = v[0]; v[0] = x; }
        if (before(&v[n - 1], &v[m])) { norn_event x = v[n - 1]; v[n - 1] = v[m]; v[m] = x; }
        norn_event p = v[m];
        size_t i = 0, j = n - 1;
        for (;;) {
            while (before(&v[i], &p))
                i++;
            while (before(&p, &v[j]))
                j--;
            if (i >= j)
                break;
            norn_event x = v[i]; v[i] = v[j]; v[j] = x;
            i++;
            j--;
        }
        /* [0, j] <= p <= [j+1, n); recurse on the smaller side */
        size_t nl = j + 1, nr = n - nl;
        if (nl < nr) {
            qsort_ev(v, nl);
            v += nl;
            n = nr;
        } else {
            qsort_ev(v + nl, nr);
            n = nl;
        }
    }
    isort(v, n);
}

/* Moves cur to the first non-empty bucket and makes it sorted. */
static inline bucket *ring_front(ring *r)
{
    for (;;) {
        bucket *bk = &r->b[r->cur & r->mask];
        if (bk->head < bk->n) {
            if (!bk->sorted) {
                qsort_ev(bk->ev + bk->head, bk->n - bk->head);
                bk->sorted = 1;
            }
            return bk;
        }
        bk->head = bk->n = 0;
        bk->sorted = 1;
        r->cur++;
    }
}

static NOINLINE int ring_pop(ring *r, norn_event *out)
{
    if (r->count == 0)
        return 0;
    bucket *bk = ring_front(r);
    *out = bk->ev[bk->head++];
    r->count--;
    return 1;
}

static NOINLINE double ring_peek_time(ring *r)
{
    if (r->count == 0)
        return INFINITY;
    bucket *bk = ring_front(r);
    return bk->ev[bk->head].t;
}

/* ---------------------------------------------------- uniform interface */

enum { Q_HEAP4, Q_HEAP2, Q_RING, NQ };
static const char *qname[NQ] = {"engine", "heap2", "ring"};

typedef struct {
    int kind;
    norn_queue h4;
    heap2 h2;
    ring rg;
} anyq;

static int q_init(anyq *q, int kind, size_t cap, double h, uint32_t max_delay_steps)
{
    q->kind = kind;
    norn_err err;
    switch (kind) {
    case Q_HEAP4: return norn_queue_init(&q->h4, cap, &err) == NORN_OK ? 0 : -1;
    case Q_HEAP2: return heap2_init(&q->h2, cap);
    default: return ring_init(&q->rg, h, max_delay_steps);
    }
}
static void q_free(anyq *q)
{
    switch (q->kind) {
    case Q_HEAP4: norn_queue_free(&q->h4); break;
    case Q_HEAP2: heap2_free(&q->h2); break;
    default: ring_free(&q->rg);
    }
}
static inline int q_push(anyq *q, double t, uint32_t kind, uint32_t a, uint64_t b)
{
    switch (q->kind) {
    case Q_HEAP4: return norn_queue_push(&q->h4, t, kind, a, b, NULL) == NORN_OK ? 0 : -1;
    case Q_HEAP2: return heap2_push(&q->h2, t, kind, a, b);
    default: return ring_push(&q->rg, t, kind, a, b);
    }
}
static inline int q_pop(anyq *q, norn_event *e)
{
    switch (q->kind) {
    case Q_HEAP4: return norn_queue_pop(&q->h4, e);
    case Q_HEAP2: return heap2_pop(&q->h2, e);
    default: return ring_pop(&q->rg, e);
    }
}
static inline double q_peek(anyq *q)
{
    switch (q->kind) {
    case Q_HEAP4: return norn_queue_peek_time(&q->h4);
    case Q_HEAP2: return heap2_peek_time(&q->h2);
    default: return ring_peek_time(&q->rg);
    }
}
static inline size_t q_size(anyq *q)
{
    switch (q->kind) {
    case Q_HEAP4: return norn_queue_size(&q->h4);
    case Q_HEAP2: return q->h2.n;
    default: return q->rg.count;
    }
}

/* ------------------------------------------------------------ workloads */

typedef struct {
    const char *name, *what;
    /* spike-driven workloads */
    size_t nspikes;
    double *ts;          /* spike times, ascending, ms */
    uint32_t *src;       /* spiking neuron */
    uint32_t per_spike;  /* entries per spike */
    uint8_t *dsteps;     /* nspikes * per_spike delays in steps (grid) */
    double delay_ms;     /* fixed delay when dsteps == NULL */
    int grid;            /* spike and entry times on the grid */
    /* hold workloads */
    size_t hold_n, hold_ops;
    double h;            /* resolution, ms */
    uint32_t max_delay_steps;
} workload;

typedef struct {
    uint64_t sum;     /* order-sensitive checksum of all pops */
    size_t pops, pushes, max_size;
    double mean_size; /* averaged after each spike's pushes */
    double sec;
    int failed;
} result;

static inline uint64_t mix(uint64_t h, const norn_event *e)
{
    uint64_t tb;
    memcpy(&tb, &e->t, sizeof tb);
    uint64_t x = tb ^ (e->seq * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)e->kind << 60) ^
                 ((uint64_t)e->a << 20) ^ (e->b * 0xc2b2ae3d27d4eb4fULL);
    x ^= x >> 29;
    return (h ^ x) * 0x100000001b3ULL + 0x7f4a7c15ULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static result run_spikes(const workload *w, int kind)
{
    result r = {0};
    anyq q;
    if (q_init(&q, kind, 4096, w->h, w->max_delay_steps)) {
        r.failed = 1;
        return r;
    }
    norn_event e;
    uint64_t sum = 0;
    size_t pops = 0, pushes = 0, maxs = 0;
    double sizes = 0;
    const double h = w->h;
    double t0 = now_s();
    for (size_t i = 0; i < w->nspikes; i++) {
        double ts = w->ts[i];
        while (q_peek(&q) <= ts) {
            q_pop(&q, &e);
            sum = mix(sum, &e);
            pops++;
        }
        for (uint32_t k = 0; k < w->per_spike; k++) {
            double t;
            if (w->dsteps) {
                uint32_t d = w->dsteps[i * w->per_spike + k];
                t = w->grid ? (double)((uint64_t)llround(ts / h) + d) * h : ts + d * h;
            } else {
                t = w->grid ? (double)((uint64_t)llround(ts / h) +
                                       (uint64_t)llround(w->delay_ms / h)) * h
                            : ts + w->delay_ms;
            }
            if (q_push(&q, t, k, w->src[i], i)) {
                r.failed = 1;
                goto out;
            }
            pushes++;
        }
        size_t s = q_size(&q);
        sizes += s;
        if (s > maxs)
            maxs = s;
    }
    while (q_pop(&q, &e)) {
        sum = mix(sum, &e);
        pops++;
    }
out:
    r.sec = now_s() - t0;
    r.sum = sum;
    r.pops = pops;
    r.pushes = pushes;
    r.max_size = maxs;
    r.mean_size = sizes / (double)(w->nspikes ? w->nspikes : 1);
    q_free(&q);
    return r;
}

static result run_hold(const workload *w, int kind)
{
    result r = {0};
    anyq q;
    if (q_init(&q, kind, w->hold_n, w->h, w->max_delay_steps)) {
        r.failed = 1;
        return r;
    }
    uint64_t s = 0xfeed + (uint64_t)w->grid;
    const double h = w->h;
    /* fill: times spread over the delay window, in random order */
    for (size_t i = 0; i < w->hold_n; i++) {
        double t = w->grid ? (double)(below(&s, w->max_delay_steps)) * h
                           : unif(&s) * (w->max_delay_steps * h);
        if (q_push(&q, t, 0, (uint32_t)i, i)) {
            r.failed = 1;
            q_free(&q);
            return r;
        }
    }
    norn_event e;
    uint64_t sum = 0;
    double t0 = now_s();
    for (size_t i = 0; i < w->hold_ops; i++) {
        q_pop(&q, &e);
        sum = mix(sum, &e);
        double t = w->grid ? (double)(llround(e.t / h) + 1 + below(&s, w->max_delay_steps)) * h
                           : e.t + h + unif(&s) * (w->max_delay_steps - 1) * h;
        if (q_push(&q, t, 0, e.a, e.b + 1)) {
            r.failed = 1;
            break;
        }
    }
    r.sec = now_s() - t0;
    r.sum = sum;
    r.pops = r.pushes = w->hold_ops;
    r.max_size = q_size(&q);
    r.mean_size = (double)r.max_size;
    q_free(&q);
    return r;
}

/* Brunel-like spike train: Poisson with a 127 Hz oscillation of the rate,
 * mean rate_per_ms, neurons uniform over n. Grid: times are k*h. */
static void make_spikes(workload *w, double dur_ms, double rate_per_ms, uint32_t n, int grid,
                        uint64_t seed)
{
    uint64_t s = seed;
    size_t cap = (size_t)(dur_ms * rate_per_ms * 1.2) + 1024, m = 0;
    w->ts = malloc(cap * sizeof *w->ts);
    w->src = malloc(cap * sizeof *w->src);
    const double h = w->h, f_khz = 0.127, amp = 0.9;
    if (grid) {
        uint64_t steps = (uint64_t)llround(dur_ms / h);
        for (uint64_t k = 0; k < steps; k++) {
            double t = k * h;
            double mean = rate_per_ms * h * (1.0 + amp * sin(2 * M_PI * f_khz * t));
            uint32_t c = poisson(&s, mean);
            for (uint32_t j = 0; j < c; j++) {
                if (m == cap) {
                    cap *= 2;
                    w->ts = realloc(w->ts, cap * sizeof *w->ts);
                    w->src = realloc(w->src, cap * sizeof *w->src);
                }
                w->ts[m] = (double)k * h;
                w->src[m++] = below(&s, n);
            }
        }
    } else {
        /* thinning of a Poisson process at the peak rate */
        double peak = rate_per_ms * (1.0 + amp), t = 0.0;
        for (;;) {
            t += -log(1.0 - unif(&s)) / peak;
            if (t >= dur_ms)
                break;
            if (unif(&s) * (1.0 + amp) > 1.0 + amp * sin(2 * M_PI * f_khz * t))
                continue;
            if (m == cap) {
                cap *= 2;
                w->ts = realloc(w->ts, cap * sizeof *w->ts);
                w->src = realloc(w->src, cap * sizeof *w->src);
            }
            w->ts[m] = t;
            w->src[m++] = below(&s, n);
        }
    }
    w->nspikes = m;
}

static void make_delays(workload *w, uint32_t per_spike, uint32_t max_steps, uint64_t seed)
{
    uint64_t s = seed;
    w->per_spike = per_spike;
    w->dsteps = malloc(w->nspikes * per_spike);
    uint8_t used[256];
    for (size_t i = 0; i < w->nspikes; i++) {
        memset(used, 0, sizeof used);
        uint8_t *d = w->dsteps + i * per_spike;
        for (uint32_t k = 0; k < per_spike;) {
            uint32_t x = 1 + below(&s, max_steps);
            if (used[x])
                continue;
            used[x] = 1;
            d[k++] = (uint8_t)x;
        }
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int reps = 5, quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else {
            fprintf(stderr, "usage: %s [--reps N] [--quick]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1)
        reps = 1;
    if (reps > 64)
        reps = 64;
    double scale = quick ? 0.1 : 1.0;

    enum { NW = 6 };
    workload W[NW];
    memset(W, 0, sizeof W);
    W[0] = (workload){.name = "a brunel-grid", .what = "470 sp/ms, 2 entries at +1.5 ms, grid",
                      .per_spike = 2, .delay_ms = 1.5, .grid = 1, .h = 0.1,
                      .max_delay_steps = 15};
    W[1] = (workload){.name = "b brunel-cont", .what = "470 sp/ms, 2 entries at +1.5 ms, off-grid",
                      .per_spike = 2, .delay_ms = 1.5, .grid = 0, .h = 0.1,
                      .max_delay_steps = 16};
    W[2] = (workload){.name = "c delays-100", .what = "470 sp/ms, 20 of 1..100 steps, grid",
                      .grid = 1, .h = 0.1, .max_delay_steps = 100};
    W[3] = (workload){.name = "c delays-100-cont", .what = "470 sp/ms, 20 of 1..100 steps, off-grid",
                      .grid = 0, .h = 0.1, .max_delay_steps = 101};
    W[4] = (workload){.name = "d hold-1M-grid", .what = "1e6 entries, delay 1..100 steps",
                      .hold_n = 1000000, .hold_ops = (size_t)(1e6 * scale), .grid = 1, .h = 0.1,
                      .max_delay_steps = 100};
    W[5] = (workload){.name = "d hold-1M-cont", .what = "1e6 entries, delay U[0.1,10) ms",
                      .hold_n = 1000000, .hold_ops = (size_t)(1e6 * scale), .grid = 0, .h = 0.1,
                      .max_delay_steps = 100};
    make_spikes(&W[0], 2000 * scale, 470, 12500, 1, 1);
    make_spikes(&W[1], 2000 * scale, 470, 12500, 0, 2);
    make_spikes(&W[2], 200 * scale, 470, 12500, 1, 3);
    make_delays(&W[2], 20, 100, 4);
    make_spikes(&W[3], 200 * scale, 470, 12500, 0, 5);
    make_delays(&W[3], 20, 100, 6);

    bench_print_machine();
    printf("queue_bench: ns per push+pop, median of %d repetitions [min..max]\n", reps);
    printf("%-17s %-40s %8s %15s  %-21s %-21s %-21s\n", "workload", "shape", "pairs",
           "size mean/max", qname[0], qname[1], qname[2]);

    int bad = 0;
    double total = now_s();
    for (int wi = 0; wi < NW; wi++) {
        workload *w = &W[wi];
        double ns[NQ][64];
        result ref = {0}, last[NQ];
        for (int rep = 0; rep < reps; rep++)
            for (int qi = 0; qi < NQ; qi++) {
                /* rotate the order so no queue always runs first */
                int k = (qi + rep) % NQ;
                result r = w->hold_n ? run_hold(w, k) : run_spikes(w, k);
                last[k] = r;
                if (r.failed) {
                    fprintf(stderr, "%s: %s failed (allocation or horizon)\n", w->name, qname[k]);
                    bad = 1;
                }
                if (rep == 0 && qi == 0)
                    ref = r;
                else if (r.sum != ref.sum || r.pops != ref.pops) {
                    fprintf(stderr,
                            "%s: %s pops a different sequence (checksum %016" PRIx64
                            " vs %016" PRIx64 ", %zu vs %zu pops)\n",
                            w->name, qname[k], r.sum, ref.sum, r.pops, ref.pops);
                    bad = 1;
                }
                ns[k][rep] = r.sec * 1e9 / (double)(r.pops ? r.pops : 1);
            }
        char cell[NQ][64];
        for (int k = 0; k < NQ; k++) {
            qsort(ns[k], reps, sizeof ns[k][0], cmp_d);
            snprintf(cell[k], sizeof cell[k], "%7.1f [%.1f..%.1f]", ns[k][reps / 2], ns[k][0],
                     ns[k][reps - 1]);
        }
        char size[32];
        snprintf(size, sizeof size, "%.0f/%zu", last[0].mean_size, last[0].max_size);
        printf("%-17s %-40s %8zu %15s  %-21s %-21s %-21s\n", w->name, w->what, last[0].pops, size,
               cell[0], cell[1], cell[2]);
        fflush(stdout);
    }
    printf("checksums: %s; total %.1f s\n", bad ? "MISMATCH" : "all queues agree",
           now_s() - total);
    for (int wi = 0; wi < NW; wi++) {
        free(W[wi].ts);
        free(W[wi].src);
        free(W[wi].dsteps);
    }
    return bad ? 1 : 0;
}
