/* tests/testutil.h - small helpers shared by the Check suites. */
#ifndef NORN_TESTUTIL_H
#define NORN_TESTUTIL_H

#include <check.h>
#include <stdarg.h>
#include <stddef.h>

/* Source tree root (env NORN_SRC, set by meson) and the norn binary (NORN_BIN). */
const char *tu_src(void);
const char *tu_bin(void);
/* A new empty directory under /tmp; the path is static-lifetime (leaked). */
char *tu_tmpdir(void);
/* Writes text to dir/name and returns the malloc'd path. */
char *tu_write(const char *dir, const char *name, const char *text);
/* Runs a shell command; returns its exit status (or -1); stdout and stderr
 * are captured into malloc'd strings when the pointers are not NULL. */
int tu_run(const char *cmd, char **out, char **err);
/* Runs the norn binary (tu_bin()) with the arguments args, as tu_run. */
int tu_norn(const char *args, char **out, char **err);
/* 1 if both files exist and hold the same bytes. */
int tu_same_file(const char *a, const char *b);
/* Reads a whole file (malloc'd, NUL-terminated), or NULL; *len if non-NULL. */
char *tu_read(const char *path, size_t *len);
int tu_exists(const char *path);
/* Calls a CLI entry point fn(argc, argv) in-process with argv[0] = name and
 * the NULL-terminated arguments that follow (an argument starting with
 * "DIR" has dir put in place of those three letters); stdout and stderr
 * are captured into *out / *err (malloc'd) when not NULL. Asserts that no
 * memory from engine/mem.h is left allocated afterwards. Returns fn's code. */
int tu_cli(int (*fn)(int, char **), const char *name, const char *dir, char **out, char **err, va_list ap);

/* A growable in-memory byte buffer, for checkpoints written and read back
 * through norn_ckio (engine/ckpt.h): tu_mem_write appends, tu_mem_read
 * reads from pos on. */
typedef struct {
    char *b;
    size_t n, cap, pos;
} tu_membuf;
size_t tu_mem_write(void *ctx, const void *p, size_t n);
size_t tu_mem_read(void *ctx, void *p, size_t n);

/* Runs a suite with CK_NORMAL output; returns the process exit code. */
int tu_main(Suite *s);

/* A model's quiet_until (models/model.h) against its own advance, for
 * neuron 0 of mp in its present state: the bound at t0 is at least t0, and
 * no crossing comes before it up to t1. Counts in *crossed the states that
 * cross, in *useful those whose bound is past half way to the crossing,
 * in *never those with no crossing that the bound says never reach it.
 * Advances the neuron. */
struct norn_model_pop;
void tu_quiet_check(struct norn_model_pop *mp, double t0, double t1, int *crossed, int *useful, int *never);

#endif
