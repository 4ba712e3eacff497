/* tests/fuzz/entry_util.c - temporary files and contract checks shared by
 * the fuzzing entry points (tests/fuzz/entry.h). */
#include "entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/mem.h"

static char tmp_paths[8][512];
static char tmp_tags[8][16];

const char *norn_fuzz_tmp(const char *tag)
{
    for (int k = 0; k < 8; k++) {
        if (tmp_paths[k][0] && strcmp(tmp_tags[k], tag) == 0)
            return tmp_paths[k];
        if (tmp_paths[k][0] == 0) {
            const char *dir = getenv("TMPDIR");
            snprintf(tmp_paths[k], sizeof tmp_paths[k], "%s/norn-fuzz-%ld-%s", dir && *dir ? dir : "/tmp",
                     (long)getpid(), tag);
            snprintf(tmp_tags[k], sizeof tmp_tags[k], "%s", tag);
            return tmp_paths[k];
        }
    }
    abort(); /* more tags than slots: a bug in the entry points */
}

int norn_fuzz_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t put = size ? fwrite(data, 1, size, f) : 0;
    return (fclose(f) == 0 && put == size) ? 0 : -1;
}

int norn_fuzz_check(const char *what, norn_status st, const norn_err *err)
{
    if (getenv("NORN_FUZZ_VERBOSE")) /* to see what a seed reaches */
        fprintf(stderr, "  %s: %s %s: %s\n", what, norn_status_name(st), st ? err->where : "", st ? err->msg : "");
    if (st == NORN_OK)
        return 0;
    if (st < NORN_EINVAL || st > NORN_EPARSE) {
        fprintf(stderr, "%s: returned status %d, not a norn_status\n", what, (int)st);
        return 1;
    }
    if (err->code != st || err->msg[0] == 0) {
        fprintf(stderr, "%s: returned %s without a message (err.code %d, from %s:%d)\n", what,
                norn_status_name(st), (int)err->code, err->src ? err->src : "?", err->line);
        return 1;
    }
    return 0;
}

int norn_fuzz_check_live(const char *what, size_t live_before)
{
    size_t now = norn_mem_live();
    if (now != live_before) {
        fprintf(stderr, "%s: %zu bytes live through engine/mem.h afterwards, %zu before (a leak)\n", what, now,
                live_before);
        return 1;
    }
    return 0;
}

void norn_fuzz_cleanup(void)
{
    for (int k = 0; k < 8; k++)
        if (tmp_paths[k][0])
            unlink(tmp_paths[k]);
}
