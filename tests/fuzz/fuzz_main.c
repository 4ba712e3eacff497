/* tests/fuzz/fuzz_main.c - the libFuzzer harness around one entry point of
 * tests/fuzz/entry.h, chosen at compile time (-DNORN_FUZZ_ENTRY=norn_fuzz_npy).
 * A broken contract aborts, so libFuzzer saves the input as a crash. */
#include <stdlib.h>

#include "entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cleanup(void) { norn_fuzz_cleanup(); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        atexit(cleanup);
        once = 1;
    }
    if (NORN_FUZZ_ENTRY(data, size) != 0)
        abort();
    return 0;
}
