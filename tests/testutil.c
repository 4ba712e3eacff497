#include "testutil.h"

#include "engine/mem.h"
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tu_src(void)
{
    const char *s = getenv("NORN_SRC");
    return s ? s : ".";
}

const char *tu_bin(void)
{
    const char *s = getenv("NORN_BIN");
    return s ? s : "./norn";
}

/* The directories this process made, removed with everything in them when
 * it exits (a Check test runs in a child of its own: the child removes its
 * own, never its parent's), unless NORN_KEEP_TMP is set, to look at what a
 * failing test wrote. Each suite run used to leave them all in /tmp. */
static struct {
    char **path;
    pid_t *owner;
    size_t n, cap;
} tmpdirs;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path); /* what cannot be removed stays; the walk goes on */
    return 0;
}

static void remove_tmpdirs(void)
{
    const char *keep = getenv("NORN_KEEP_TMP");
    for (size_t k = 0; k < tmpdirs.n; k++) {
        if (tmpdirs.owner[k] == getpid() && !(keep && *keep)) {
            nftw(tmpdirs.path[k], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
            tmpdirs.owner[k] = 0;
        }
        if (tmpdirs.owner[k] == 0 || tmpdirs.owner[k] == getpid()) {
            free(tmpdirs.path[k]);
            tmpdirs.path[k] = NULL;
        }
    }
}

char *tu_tmpdir(void)
{
    char *t = strdup("/tmp/norn-test-XXXXXX");
    if (!t || !mkdtemp(t)) {
        perror("mkdtemp");
        abort();
    }
    static pid_t hooked;
    if (hooked != getpid()) { /* once per process: a forked child hooks its own exit */
        hooked = getpid();
        atexit(remove_tmpdirs);
    }
    if (tmpdirs.n == tmpdirs.cap) {
        size_t cap = tmpdirs.cap ? 2 * tmpdirs.cap : 16;
        char **p = realloc(tmpdirs.path, cap * sizeof *p);
        if (p)
            tmpdirs.path = p;
        pid_t *o = p ? realloc(tmpdirs.owner, cap * sizeof *o) : NULL;
        if (!o) {
            perror("tu_tmpdir");
            abort();
        }
        tmpdirs.owner = o;
        tmpdirs.cap = cap;
    }
    if (!(tmpdirs.path[tmpdirs.n] = strdup(t))) {
        perror("tu_tmpdir");
        abort();
    }
    tmpdirs.owner[tmpdirs.n++] = getpid();
    return t;
}

char *tu_write(const char *dir, const char *name, const char *text)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        perror(p);
        abort();
    }
    fputs(text, f);
    fclose(f);
    return p;
}

char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = 0;
    fclose(f);
    if (len)
        *len = got;
    return buf;
}

int tu_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int tu_run(const char *cmd, char **out, char **err)
{
    char *dir = tu_tmpdir();
    size_t n = strlen(cmd) + 2 * strlen(dir) + 64;
    char *full = malloc(n);
    snprintf(full, n, "(%s) >%s/out 2>%s/err", cmd, dir, dir);
    int rc = system(full);
    free(full);
    char path[512];
    if (out) {
        snprintf(path, sizeof path, "%s/out", dir);
        *out = tu_read(path, NULL);
        if (!*out)
            *out = strdup("");
    }
    if (err) {
        snprintf(path, sizeof path, "%s/err", dir);
        *err = tu_read(path, NULL);
        if (!*err)
            *err = strdup("");
    }
    snprintf(path, sizeof path, "rm -rf %s", dir);
    if (system(path) != 0) {
    }
    free(dir);
    if (rc == -1 || !WIFEXITED(rc))
        return -1;
    return WEXITSTATUS(rc);
}

int tu_main(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

int tu_cli(int (*fn)(int, char **), const char *name, const char *dir, char **out, char **err, va_list ap)
{
    char *argv[40], *own[40];
    int argc = 0, n_own = 0;
    argv[argc++] = (char *)name;
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 39;) {
        if (strncmp(a, "DIR", 3) == 0) {
            size_t len = strlen(dir) + strlen(a) + 1;
            own[n_own] = malloc(len);
            snprintf(own[n_own], len, "%s%s", dir, a + 3);
            argv[argc++] = own[n_own++];
        } else {
            argv[argc++] = (char *)a;
        }
    }
    argv[argc] = NULL;
    char to[] = "/tmp/norn-cli-out-XXXXXX", te[] = "/tmp/norn-cli-err-XXXXXX";
    int fo = mkstemp(to), fe = mkstemp(te);
    ck_assert(fo >= 0 && fe >= 0);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    dup2(fo, 1);
    dup2(fe, 2);
    int rc = fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    close(fo);
    close(fe);
    ck_assert_uint_eq(norn_mem_live(), 0); /* nothing leaked, on any path */
    char *o = tu_read(to, NULL), *e = tu_read(te, NULL);
    unlink(to);
    unlink(te);
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    for (int k = 0; k < n_own; k++)
        free(own[k]);
    return rc;
}

int tu_norn(const char *args, char **out, char **err)
{
    size_t n = strlen(tu_bin()) + strlen(args) + 2;
    char *cmd = malloc(n);
    if (!cmd)
        return -1;
    snprintf(cmd, n, "%s %s", tu_bin(), args);
    int rc = tu_run(cmd, out, err);
    free(cmd);
    return rc;
}

int tu_same_file(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *x = tu_read(a, &na), *y = tu_read(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

size_t tu_mem_write(void *ctx, const void *p, size_t n)
{
    tu_membuf *m = ctx;
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->b = realloc(m->b, m->cap);
        ck_assert_ptr_nonnull(m->b);
    }
    memcpy(m->b + m->n, p, n);
    m->n += n;
    return n;
}

size_t tu_mem_read(void *ctx, void *p, size_t n)
{
    tu_membuf *m = ctx;
    size_t k = m->n - m->pos < n ? m->n - m->pos : n;
    memcpy(p, m->b + m->pos, k);
    m->pos += k;
    return k;
}

void tu_quiet_check(struct norn_model_pop *mp, double t0, double t1, int *crossed, int *useful, int *never)
{
    const norn_model_type *ty = mp->type;
    double v = mp->st[ty->v_index][0], q = ty->quiet_until(mp, 0, t0), tc = 0;
    ck_assert_msg(q >= t0, "%s: bound %.12g before t0 %g", ty->name, q, t0);
    if (ty->advance(mp, 0, t0, t1, &tc)) {
        (*crossed)++;
        ck_assert_msg(tc >= q, "%s from V %.9g: crossing at %.12g before the bound %.12g", ty->name, v, tc, q);
        *useful += q > t0 + 0.5 * (tc - t0);
    } else {
        *never += q == INFINITY;
    }
}
