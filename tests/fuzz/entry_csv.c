/* tests/fuzz/entry_csv.c - CSV bytes through norn_csv_read_spikes (io/csv.h). */
#include "entry.h"

#include <math.h>
#include <stdio.h>

#include "engine/mem.h"
#include "io/csv.h"

int norn_fuzz_csv(const uint8_t *data, size_t size)
{
    const char *path = norn_fuzz_tmp("csv.csv");
    if (norn_fuzz_write(path, data, size) != 0)
        return 0; /* the disk, not the reader */
    int bad = 0;
    size_t live = norn_mem_live();
    static double t_sentinel;
    static uint32_t n_sentinel;
    double *t = &t_sentinel;
    uint32_t *nr = &n_sentinel;
    uint64_t n = 12345;
    norn_err err = {0};
    norn_status st = norn_csv_read_spikes(path, &t, &nr, &n, &err);
    bad |= norn_fuzz_check("norn_csv_read_spikes", st, &err);
    if (st == NORN_OK) {
        if (t == NULL || nr == NULL) {
            fprintf(stderr, "norn_csv_read_spikes: OK with a NULL array\n");
            return 1;
        }
        for (uint64_t k = 0; k < n; k++) {
            if (!isfinite(t[k]) || nr[k] == UINT32_MAX) {
                fprintf(stderr, "norn_csv_read_spikes: row %llu: time %g neuron %u accepted\n",
                        (unsigned long long)k, t[k], nr[k]);
                bad = 1;
                break;
            }
        }
        norn_free(t);
        norn_free(nr);
    } else if (t != &t_sentinel || nr != &n_sentinel || n != 12345) {
        fprintf(stderr, "norn_csv_read_spikes: failed but changed an output\n");
        bad = 1;
    }
    bad |= norn_fuzz_check_live("norn_csv_read_spikes", live);
    return bad;
}
