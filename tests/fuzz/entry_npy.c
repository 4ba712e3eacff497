/* tests/fuzz/entry_npy.c - .npy bytes through the three readers of io/npy.h. */
#include "entry.h"

#include <stdio.h>
#include <string.h>

#include "engine/mem.h"
#include "io/npy.h"

static int untouched(const char *what, const void *p, const void *sentinel)
{
    if (p == sentinel)
        return 0;
    fprintf(stderr, "%s: failed but changed an output\n", what);
    return 1;
}

int norn_fuzz_npy(const uint8_t *data, size_t size)
{
    const char *path = norn_fuzz_tmp("npy.npy");
    if (norn_fuzz_write(path, data, size) != 0)
        return 0; /* the disk, not the reader */
    int bad = 0;
    size_t live = norn_mem_live();

    /* norn_npy_read */
    norn_err err = {0};
    norn_npy_array a, a0;
    memset(&a, 0xA5, sizeof a);
    a0 = a;
    norn_status st = norn_npy_read(path, &a, &err);
    bad |= norn_fuzz_check("norn_npy_read", st, &err);
    if (st == NORN_OK) {
        if (a.data == NULL || a.ndim < 0 || a.ndim > NORN_NPY_MAXDIM) {
            fprintf(stderr, "norn_npy_read: OK with data %p, ndim %d\n", (void *)a.data, a.ndim);
            bad = 1;
        } else {
            uint64_t count = 1;
            for (int k = 0; k < a.ndim; k++)
                count *= a.shape[k];
            if (count != a.count) {
                fprintf(stderr, "norn_npy_read: count %llu, shape gives %llu\n", (unsigned long long)a.count,
                        (unsigned long long)count);
                bad = 1;
            }
            volatile double sum = 0; /* touch every element: ASan checks the size */
            for (uint64_t k = 0; k < a.count; k++)
                sum += a.data[k];
            (void)sum;
        }
        norn_npy_array_free(&a);
    } else if (memcmp(&a, &a0, sizeof a) != 0) {
        fprintf(stderr, "norn_npy_read: failed but changed its output\n");
        bad = 1;
    }
    bad |= norn_fuzz_check_live("norn_npy_read", live);

    /* norn_npy_read_spikes */
    static double t_sentinel;
    static uint32_t n_sentinel;
    double *t = &t_sentinel;
    uint32_t *nr = &n_sentinel;
    uint64_t n = 12345;
    memset(&err, 0, sizeof err);
    st = norn_npy_read_spikes(path, &t, &nr, &n, &err);
    bad |= norn_fuzz_check("norn_npy_read_spikes", st, &err);
    if (st == NORN_OK) {
        volatile double sum = 0;
        for (uint64_t k = 0; k < n; k++)
            sum += t[k] + (nr ? nr[k] : 0);
        (void)sum;
        norn_free(t);
        norn_free(nr);
    } else {
        bad |= untouched("norn_npy_read_spikes (time_ms)", t, &t_sentinel);
        bad |= untouched("norn_npy_read_spikes (neuron)", nr, &n_sentinel);
        bad |= n != 12345;
    }
    bad |= norn_fuzz_check_live("norn_npy_read_spikes", live);

    /* norn_npy_read_synapses, with and then without the delay output */
    for (int with_delay = 0; with_delay < 2; with_delay++) {
        uint32_t *pre = &n_sentinel, *post = &n_sentinel;
        double *w = &t_sentinel, *dl = &t_sentinel;
        n = 12345;
        memset(&err, 0, sizeof err);
        st = norn_npy_read_synapses(path, &pre, &post, &w, with_delay ? &dl : NULL, &n, &err);
        bad |= norn_fuzz_check("norn_npy_read_synapses", st, &err);
        if (st == NORN_OK) {
            volatile double sum = 0;
            for (uint64_t k = 0; k < n; k++)
                sum += pre[k] + post[k] + w[k] + (with_delay && dl ? dl[k] : 0);
            (void)sum;
            norn_free(pre);
            norn_free(post);
            norn_free(w);
            if (with_delay)
                norn_free(dl);
        } else {
            bad |= untouched("norn_npy_read_synapses (pre)", pre, &n_sentinel);
            bad |= untouched("norn_npy_read_synapses (post)", post, &n_sentinel);
            bad |= untouched("norn_npy_read_synapses (weight)", w, &t_sentinel);
            bad |= untouched("norn_npy_read_synapses (delay)", dl, &t_sentinel);
            bad |= n != 12345;
        }
        bad |= norn_fuzz_check_live("norn_npy_read_synapses", live);
    }
    return bad;
}
