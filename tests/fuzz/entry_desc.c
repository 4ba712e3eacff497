/* tests/fuzz/entry_desc.c - description bytes through norn_desc_parse
 * (io/desc.h) and, when they parse, norn_build (io/build.h), where the
 * checks that need the data files and the mode live. The build is capped
 * at NORN_FUZZ_MAX_MEMORY so a large but valid network is refused quickly
 * instead of being built. */
#include "entry.h"

#include <stdio.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/sim.h"
#include "io/build.h"
#include "io/desc.h"

#ifndef NORN_EXAMPLES_SRC
#define NORN_EXAMPLES_SRC "examples"
#endif

/* Descriptions may name files; keep the fuzzer away from devices and
 * pseudo-files (a FIFO or /dev/stdin would block, /dev/zero never ends):
 * those are not what the readers promise to handle. */
static int names_special_file(const uint8_t *data, size_t size)
{
    static const char *const bad[] = {"/dev", "/proc", "/sys", "/run"};
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        size_t m = strlen(bad[b]);
        for (size_t k = 0; k + m <= size; k++)
            if (memcmp(data + k, bad[b], m) == 0)
                return 1;
    }
    return 0;
}

int norn_fuzz_desc(const uint8_t *data, size_t size)
{
    if (names_special_file(data, size))
        return 0;
    int bad = 0;
    size_t live = norn_mem_live();
    norn_err err = {0};
    norn_desc *d = NULL;
    norn_status st = norn_desc_parse((const char *)data, size, NORN_EXAMPLES_SRC "/fuzz.yaml", &d, &err);
    bad |= norn_fuzz_check("norn_desc_parse", st, &err);
    if (st != NORN_OK) {
        if (d != NULL) {
            fprintf(stderr, "norn_desc_parse: failed but set its output\n");
            bad = 1;
        }
    } else if (d == NULL) {
        fprintf(stderr, "norn_desc_parse: OK with a NULL description\n");
        return 1;
    } else {
        d->max_memory = NORN_FUZZ_MAX_MEMORY;
        norn_sim *sim = NULL;
        norn_build_info info;
        memset(&err, 0, sizeof err);
        st = norn_build(d, &sim, &info, &err);
        bad |= norn_fuzz_check("norn_build", st, &err);
        if (st == NORN_OK)
            norn_sim_destroy(sim);
        else if (sim != NULL) {
            fprintf(stderr, "norn_build: failed but set its output\n");
            bad = 1;
        }
        norn_desc_free(d);
    }
    bad |= norn_fuzz_check_live("norn_desc_parse/norn_build", live);
    return bad;
}
