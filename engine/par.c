/* engine/par.c - MPI ranks (see par.h). */
#include "engine/par.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/mem.h"

#ifdef NORN_HAVE_MPI
#include <mpi.h>
#endif

/* MPI is per process: its rank and size are the process's (set once). */
static uint32_t par_rank = 0, par_size = 1;

uint32_t norn_par_rank(void) { return par_rank; }
uint32_t norn_par_size(void) { return par_size; }

/* norn__par_gather_root for a single process: a copy of its own bytes. */
static norn_status gather_alone(const void *data, uint64_t bytes, void **out, uint64_t *off, norn_err *err)
{
    void *b = norn_malloc_n(bytes ? bytes : 1, 1);
    if (!b)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate %llu bytes", (unsigned long long)bytes);
    memcpy(b, data, bytes);
    off[0] = 0;
    off[1] = bytes;
    *out = b;
    return NORN_OK;
}

#ifdef NORN_HAVE_MPI

static int par_started = 0; /* this process called MPI_Init */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int norn_par_init(int *argc, char ***argv)
{
    /* a plain `norn run` never pays for MPI_Init (nor prints its notes) */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_SIZE"))
        return 1;
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return 1;
    par_started = 1;
    int r = 0, n = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    par_rank = (uint32_t)r;
    par_size = (uint32_t)n;
    return n;
}

void norn_par_finalize(void)
{
    if (par_started)
        MPI_Finalize();
    par_started = 0;
}

void norn_par_abort(int code)
{
    if (par_started && par_size > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

norn_status norn_par_agree(norn_status st, norn_err *err)
{
    if (par_size <= 1)
        return st;
    int mine = st != NORN_OK ? (int)par_rank : (int)par_size, first = 0;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (first == (int)par_size)
        return NORN_OK;
    norn_err e;
    if ((int)par_rank == first)
        e = *err;
    MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, first, MPI_COMM_WORLD);
    if ((int)par_rank != first)
        e.src = NULL; /* another process's pointer */
    *err = e;
    return e.code != NORN_OK ? e.code : NORN_EINVAL;
}

norn_status norn__par_allgather(norn_par_x *x, const void *items, uint64_t n, size_t elem, int fail,
                                const void **out, uint64_t *n_out, norn_err *err)
{
    if (par_size <= 1) {
        *out = items;
        *n_out = n;
        return NORN_OK;
    }
    double t0 = now_s(), c0 = cpu_now_s();
    if (!x->counts) {
        x->counts = norn_malloc_n(par_size, sizeof *x->counts);
        x->displs = norn_malloc_n(par_size, sizeof *x->displs);
    }
    int mine = fail || n > (uint64_t)INT32_MAX ? -1 : (int)n;
    if (!x->counts || !x->displs) {
        /* take part all the same (a failure), so that no rank waits */
        int *all = malloc(sizeof(int) * par_size);
        if (all)
            MPI_Allgather(&mine, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
        else
            MPI_Abort(MPI_COMM_WORLD, 1); /* cannot even say it failed */
        free(all);
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "rank %u: cannot allocate the spike exchange", par_rank);
    }
    int *counts = x->counts;
    MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
    uint64_t total = 0;
    int bad = -1;
    for (uint32_t r = 0; r < par_size; r++) {
        if (counts[r] < 0 && bad < 0)
            bad = (int)r;
        x->displs[r] = (int)total;
        total += counts[r] > 0 ? (uint64_t)counts[r] : 0;
    }
    x->bytes += (uint64_t)par_size * sizeof(int);
    if (bad >= 0) /* a failing rank keeps its own message */
        return fail ? NORN_EINVAL : NORN_FAIL(err, NORN_EINVAL, NULL, "rank %d failed during the spike exchange", bad);
    if (total > (uint64_t)INT32_MAX)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "more than 2^31 spikes in one window");
    if (total * elem > x->cap) {
        uint64_t c = x->cap ? x->cap : 4096;
        while (c < total * elem)
            c *= 2;
        void *b = norn_realloc_n(x->buf, c, 1);
        /* every rank must agree before the items move */
        int ok = b != NULL, all_ok = 0;
        if (b) {
            x->buf = b;
            x->cap = c;
        }
        MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (!all_ok)
            return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot grow the spike exchange buffer to %llu bytes",
                             (unsigned long long)c);
    }
    MPI_Datatype t;
    MPI_Type_contiguous((int)elem, MPI_BYTE, &t);
    MPI_Type_commit(&t);
    MPI_Allgatherv(items, (int)n, t, x->buf, counts, x->displs, t, MPI_COMM_WORLD);
    MPI_Type_free(&t);
    x->bytes += total * elem;
    x->rounds++;
    x->seconds += now_s() - t0;
    x->cpu_seconds += cpu_now_s() - c0;
    *out = x->buf;
    *n_out = total;
    return NORN_OK;
}

void norn__par_sum_u64(uint64_t *v, uint32_t n)
{
    if (par_size > 1 && n)
        MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
}

void norn__par_max_u64(uint64_t *v, uint32_t n)
{
    if (par_size > 1 && n)
        MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
}

void norn__par_min_u32(uint32_t *v, uint32_t n)
{
    if (par_size > 1 && n)
        MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT32_T, MPI_MIN, MPI_COMM_WORLD);
}

#define CHUNK ((uint64_t)1 << 30) /* MPI counts are int: send in chunks */

norn_status norn__par_gather_root(const void *data, uint64_t bytes, void **out, uint64_t *off, norn_err *err)
{
    *out = NULL;
    if (par_size <= 1)
        return gather_alone(data, bytes, out, off, err);
    uint64_t *sizes = par_rank == 0 ? norn_malloc_n(par_size, sizeof *sizes) : NULL;
    uint64_t dummy = 0;
    MPI_Gather(&bytes, 1, MPI_UINT64_T, sizes ? sizes : &dummy, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    int ok = 1;
    char *b = NULL;
    if (par_rank == 0) {
        uint64_t total = 0;
        for (uint32_t r = 0; r < par_size; r++) {
            off[r] = total;
            total += sizes ? sizes[r] : 0;
        }
        off[par_size] = total;
        b = sizes ? norn_malloc_n(total ? total : 1, 1) : NULL;
        ok = b != NULL;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (!ok) {
        norn_free(sizes);
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "rank 0 cannot allocate the gathered results");
    }
    if (par_rank == 0) {
        memcpy(b, data, bytes);
        for (uint32_t r = 1; r < par_size; r++)
            for (uint64_t o = 0; o < sizes[r]; o += CHUNK) {
                uint64_t m = sizes[r] - o < CHUNK ? sizes[r] - o : CHUNK;
                MPI_Recv(b + off[r] + o, (int)m, MPI_BYTE, (int)r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            }
        *out = b;
    } else {
        for (uint64_t o = 0; o < bytes; o += CHUNK) {
            uint64_t m = bytes - o < CHUNK ? bytes - o : CHUNK;
            MPI_Send((const char *)data + o, (int)m, MPI_BYTE, 0, 7, MPI_COMM_WORLD);
        }
    }
    norn_free(sizes);
    return NORN_OK;
}

#else /* one process */

int norn_par_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 1;
}

void norn_par_finalize(void) {}

void norn_par_abort(int code) { exit(code); }

norn_status norn_par_agree(norn_status st, norn_err *err)
{
    (void)err;
    return st;
}

norn_status norn__par_allgather(norn_par_x *x, const void *items, uint64_t n, size_t elem, int fail,
                                const void **out, uint64_t *n_out, norn_err *err)
{
    (void)x;
    (void)elem;
    (void)fail;
    (void)err;
    *out = items;
    *n_out = n;
    return NORN_OK;
}

void norn__par_sum_u64(uint64_t *v, uint32_t n)
{
    (void)v;
    (void)n;
}

void norn__par_max_u64(uint64_t *v, uint32_t n)
{
    (void)v;
    (void)n;
}

void norn__par_min_u32(uint32_t *v, uint32_t n)
{
    (void)v;
    (void)n;
}

norn_status norn__par_gather_root(const void *data, uint64_t bytes, void **out, uint64_t *off, norn_err *err)
{
    return gather_alone(data, bytes, out, off, err);
}

#endif

void norn__par_x_free(norn_par_x *x)
{
    if (!x)
        return;
    norn_free(x->buf);
    norn_free(x->counts);
    norn_free(x->displs);
    memset(x, 0, sizeof *x);
}
