/* tests/testutil.h - small helpers shared by the Check suites. */
#ifndef NORN_TESTUTIL_H
#define NORN_TESTUTIL_H

#include <check.h>
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
/* Reads a whole file (malloc'd, NUL-terminated), or NULL; *len if non-NULL. */
char *tu_read(const char *path, size_t *len);
int tu_exists(const char *path);
/* Runs a suite with CK_NORMAL output; returns the process exit code. */
int tu_main(Suite *s);

#endif
