/* tests/test_fuzz_regress.c - every fuzzing seed (tests/fuzz/corpus/<h>/)
 * and every input that once broke a reader (tests/fuzz/regress/<h>/)
 * through the same entry points as the libFuzzer harnesses
 * (tests/fuzz/entry_*.c), in the normal build: each must come back with
 * NORN_OK or an error with a message, nothing leaked and nothing changed
 * on failure. Check forks per test, so a crash fails the test that names
 * the harness; the file is printed before it runs.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "testutil.h"

typedef struct {
    const char *name;
    int (*fn)(const uint8_t *, size_t);
} harness;

static const harness harnesses[] = {
    {"desc", norn_fuzz_desc},
    {"npy", norn_fuzz_npy},
    {"csv", norn_fuzz_csv},
    {"nir", norn_fuzz_nir},
};
#define N_HARNESSES (int)(sizeof harnesses / sizeof *harnesses)

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs h over every file of tests/fuzz/<kind>/<h>/ (sorted); returns how
 * many files ran. */
static int run_dir(const harness *h, const char *kind)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/%s/%s", tu_src(), kind, h->name);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t k = 0; k < n; k++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        size_t len = 0;
        char *bytes = tu_read(path, &len);
        ck_assert_msg(bytes != NULL, "cannot read %s", path);
        fprintf(stderr, "fuzz_regress: %s %s\n", h->name, path);
        int bad = h->fn((const uint8_t *)bytes, len);
        ck_assert_msg(bad == 0, "%s: the reader broke its contract on %s (see stderr)", h->name, path);
        free(bytes);
        free(names[k]);
    }
    free(names);
    norn_fuzz_cleanup();
    return (int)n;
}

START_TEST(corpus)
{
    const harness *h = &harnesses[_i];
    int n = run_dir(h, "corpus");
    ck_assert_msg(n > 0, "no seed files in tests/fuzz/corpus/%s", h->name);
}
END_TEST

START_TEST(regress)
{
    run_dir(&harnesses[_i], "regress"); /* may be empty for a harness */
}
END_TEST

/* The entry points must themselves catch a broken contract, else every
 * test above passes by construction: an empty description parses to an
 * error with a message, and an empty file is no .npy. */
START_TEST(entries_check)
{
    ck_assert_int_eq(norn_fuzz_desc((const uint8_t *)"", 0), 0);
    ck_assert_int_eq(norn_fuzz_npy((const uint8_t *)"", 0), 0);
    ck_assert_int_eq(norn_fuzz_csv((const uint8_t *)"time_ms,neuron\n1,2\n", 19), 0);
    norn_err e = {0};
    ck_assert_int_eq(norn_fuzz_check("x", NORN_EPARSE, &e), 1); /* no message: caught */
    norn_fuzz_cleanup();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fuzz_regress");
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, corpus, 0, N_HARNESSES);
    suite_add_tcase(s, tc);
    tc = tcase_create("regress");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, regress, 0, N_HARNESSES);
    suite_add_tcase(s, tc);
    tc = tcase_create("entries");
    tcase_add_test(tc, entries_check);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(suite()); }
