/* tests/test_npy.c - io/npy, io/csv and io/atomic.
 * Round trips, files written by NumPy itself (tests/data/npy, made by
 * tools/gen_npy_fixtures.py), NumPy reading what norn writes, malformed
 * files with their messages, CSV, and atomic replacement.
 */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"
#include "io/atomic.h"
#include "io/csv.h"
#include "io/fmt.h"
#include "io/npy.h"
#include "testutil.h"

/* ---------- helpers ---------- */

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static char *fixture(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/npy/%s", name);
    return path_in(tu_src(), rel);
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* Bitwise-equal doubles, with any NaN equal to any NaN. */
static int same(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

/* Number of entries in dir other than . and .. */
static int dir_entries(const char *dir, char *first, size_t cap)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n++ == 0 && first)
            snprintf(first, cap, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

/* Removes a test's temporary directory (left in place when a check fails). */
static void cleanup(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

#define ASSERT_MSG_HAS(err, needle)                                                      \
    ck_assert_msg(strstr((err).msg, (needle)) != NULL, "message \"%s\" lacks \"%s\"", \
                  (err).msg, (needle))

/* Builds a .npy file: magic, version major.0, the dict padded with spaces
 * and '\n' to a multiple of 64, then data; writes only the first cut bytes. */
static char *make_npy(const char *dir, const char *name, int major, const char *dict,
                      const void *data, size_t dlen, size_t cut)
{
    size_t pre = major == 1 ? 10 : 12;
    size_t hl = strlen(dict) + 1;
    hl += (64 - (pre + hl) % 64) % 64;
    size_t total = pre + hl + dlen;
    unsigned char *b = malloc(total);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    b[8] = (unsigned char)(hl & 0xff);
    b[9] = (unsigned char)(hl >> 8);
    if (major != 1)
        b[10] = b[11] = 0;
    memset(b + pre, ' ', hl);
    memcpy(b + pre, dict, strlen(dict));
    b[pre + hl - 1] = '\n';
    if (dlen)
        memcpy(b + pre + hl, data, dlen);
    char *p = path_in(dir, name);
    write_bytes(p, b, cut < total ? cut : total);
    free(b);
    return p;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 11;
}

/* Values spanning signs and magnitudes; v[k] depends on k and seed only. */
static void fill(double *v, size_t n, uint64_t seed)
{
    for (size_t k = 0; k < n; k++) {
        double u = (double)lcg(&seed) / 9007199254740992.0; /* [0, 1) */
        int e = (int)(lcg(&seed) % 40) - 20;
        v[k] = ldexp(u - 0.5, e);
    }
}

/* ---------- round trips ---------- */

static const struct {
    int ndim;
    uint64_t shape[3];
} shapes[] = {{1, {0}}, {1, {5}}, {2, {3, 4}}, {3, {2, 3, 4}}, {0, {0}}};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

/* Checks the header layout NumPy's rule asks for. */
static void check_layout(const char *path)
{
    size_t len;
    unsigned char *b = (unsigned char *)tu_read(path, &len);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_ge(len, 10);
    ck_assert_int_eq(memcmp(b, "\x93NUMPY\x01\x00", 8), 0);
    size_t hl = b[8] | (size_t)b[9] << 8;
    ck_assert_uint_eq((10 + hl) % 64, 0);
    ck_assert_uint_le(10 + hl, len);
    ck_assert_int_eq(b[10 + hl - 1], '\n');
    ck_assert_int_eq(b[10], '{');
    free(b);
}

START_TEST(roundtrip_array)
{
    int shp = _i % NSHAPES, f32 = _i / NSHAPES;
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "a.npy");
    uint64_t count = 1;
    for (int k = 0; k < shapes[shp].ndim; k++)
        count *= shapes[shp].shape[k];
    double *v = malloc(sizeof *v * (count + 1));
    float *vf = malloc(sizeof *vf * (count + 1));
    fill(v, count, 42 + (uint64_t)_i);
    if (count)
        v[0] = -0.0;
    for (uint64_t k = 0; k < count; k++)
        vf[k] = (float)v[k];
    norn_err err = {0};
    norn_status st = f32 ? norn_npy_write_f32(p, vf, shapes[shp].ndim, shapes[shp].shape, &err)
                         : norn_npy_write_f64(p, v, shapes[shp].ndim, shapes[shp].shape, &err);
    ck_assert_msg(st == NORN_OK, "%s", err.msg);
    check_layout(p);
    norn_npy_array a;
    st = norn_npy_read(p, &a, &err);
    ck_assert_msg(st == NORN_OK, "%s", err.msg);
    ck_assert_int_eq(a.ndim, shapes[shp].ndim);
    for (int k = 0; k < a.ndim; k++)
        ck_assert_uint_eq(a.shape[k], shapes[shp].shape[k]);
    ck_assert_uint_eq(a.count, count);
    for (uint64_t k = 0; k < count; k++) {
        double want = f32 ? (double)vf[k] : v[k];
        ck_assert_msg(same(a.data[k], want), "[%" PRIu64 "] %.17g != %.17g", k, a.data[k], want);
    }
    /* file size: header + count elements exactly */
    size_t len;
    free(tu_read(p, &len));
    ck_assert_uint_eq(len % 64, (count * (f32 ? 4 : 8)) % 64);
    norn_npy_array_free(&a);
    ck_assert_ptr_null(a.data);
    free(v);
    free(vf);
    free(p);
    cleanup(dir);
}
END_TEST

static const uint64_t spike_counts[] = {0, 1, 5, 4096, 10001};

START_TEST(roundtrip_spikes)
{
    uint64_t n = spike_counts[_i];
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "spikes.npy");
    double *t = malloc(sizeof *t * (n + 1));
    uint32_t *id = malloc(sizeof *id * (n + 1));
    fill(t, n, 7);
    uint64_t s = 3;
    for (uint64_t k = 0; k < n; k++)
        id[k] = k == 1 ? 4294967294u : (uint32_t)lcg(&s);
    norn_err err = {0};
    ck_assert_msg(norn_npy_write_spikes(p, t, id, n, &err) == NORN_OK, "%s", err.msg);
    check_layout(p);
    size_t len;
    char *b = tu_read(p, &len);
    ck_assert_ptr_nonnull(strstr(b + 10, "'descr': [('time_ms', '<f8'), ('neuron', '<u4')]"));
    char shape[64];
    snprintf(shape, sizeof shape, "'shape': (%" PRIu64 ",)", n);
    ck_assert_ptr_nonnull(strstr(b + 10, shape));
    free(b);
    ck_assert_uint_eq(len % 64, (n * 12) % 64);
    double *rt;
    uint32_t *rn;
    uint64_t rnn = 99;
    ck_assert_msg(norn_npy_read_spikes(p, &rt, &rn, &rnn, &err) == NORN_OK, "%s", err.msg);
    ck_assert_uint_eq(rnn, n);
    ck_assert_ptr_nonnull(rn);
    for (uint64_t k = 0; k < n; k++) {
        ck_assert_msg(same(rt[k], t[k]), "time[%" PRIu64 "]", k);
        ck_assert_uint_eq(rn[k], id[k]);
    }
    norn_free(rt);
    norn_free(rn);
    free(t);
    free(id);
    free(p);
    cleanup(dir);
}
END_TEST

START_TEST(write_bad_args)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "x.npy");
    norn_err err = {0};
    uint64_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    double v = 1;
    ck_assert_int_eq(norn_npy_write_f64(p, &v, 9, shape, &err), NORN_EINVAL);
    ck_assert_int_eq(norn_npy_write_f64(p, NULL, 1, shape, &err), NORN_EINVAL);
    ck_assert_int_eq(norn_npy_write_spikes(p, NULL, NULL, 3, &err), NORN_EINVAL);
    ck_assert(!tu_exists(p));
    ck_assert_int_eq(dir_entries(dir, NULL, 0), 0);
    char *q = path_in(dir, "no/such/dir/x.npy");
    ck_assert_int_eq(norn_npy_write_f64(q, &v, 1, shape, &err), NORN_EIO);
    ck_assert_str_eq(err.where, q);
    ASSERT_MSG_HAS(err, "No such file");
    free(p);
    free(q);
    cleanup(dir);
}
END_TEST

/* ---------- files written by NumPy ---------- */

static void read_fixture(const char *name, norn_npy_array *a)
{
    char *p = fixture(name);
    norn_err err = {0};
    norn_status st = norn_npy_read(p, a, &err);
    ck_assert_msg(st == NORN_OK, "%s: %s: %s", name, err.where, err.msg);
    free(p);
}

static void expect_1d(const char *name, const double *want, size_t n)
{
    norn_npy_array a;
    read_fixture(name, &a);
    ck_assert_int_eq(a.ndim, 1);
    ck_assert_uint_eq(a.shape[0], n);
    ck_assert_uint_eq(a.count, n);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(same(a.data[k], want[k]), "%s[%zu]: got %.17g, want %.17g", name, k,
                      a.data[k], want[k]);
    norn_npy_array_free(&a);
}

static const struct {
    const char *code;
    int n;
    double v[12];
} dtype_cases[] = {
    {"b1", 5, {1, 0, 1, 1, 0}},
    {"i1", 5, {-128, -1, 0, 1, 127}},
    {"u1", 5, {0, 1, 128, 254, 255}},
    {"i2", 5, {-32768, -1, 0, 258, 32767}},
    {"u2", 5, {0, 1, 258, 40000, 65535}},
    {"i4", 5, {-2147483648.0, -1, 0, 16909060, 2147483647}},
    {"u4", 5, {0, 1, 16909060, 3000000000.0, 4294967295.0}},
    {"i8", 5, {-9223372036854775808.0, -1, 0, (double)INT64_C(0x0102030405060708),
               (double)INT64_MAX}},
    {"u8", 5, {0, 1, (double)UINT64_C(0x0102030405060708), 9223372036854775808.0,
               (double)UINT64_MAX}},
    /* float16: 0.1 is stored as 0.0999755859375 */
    {"f2", 12, {0.0, -0.0, 1.0, -2.5, 65504.0, 0x1p-14, 0x1p-24, 0x3p-24, 0.0999755859375,
                INFINITY, -INFINITY, NAN}},
    {"f4", 6, {(double)0.1f, -3.5, 3.4028234663852886e38, 0x1p-149, INFINITY, NAN}},
    {"f8", 7, {0.1, -2.5e300, 5e-324, INFINITY, -INFINITY, NAN, 3.141592653589793}},
};
enum { NDTYPES = sizeof dtype_cases / sizeof dtype_cases[0] };

START_TEST(numpy_dtypes)
{
    /* _i: dtype index * 2 + byte order (0 little, 1 big) */
    int d = _i / 2, be = _i % 2;
    char name[64];
    if (dtype_cases[d].code[1] == '1') {
        if (be)
            return; /* 1-byte types have no byte order */
        snprintf(name, sizeof name, "dtype_%s.npy", dtype_cases[d].code);
    } else {
        snprintf(name, sizeof name, "dtype_%s_%s.npy", dtype_cases[d].code, be ? "be" : "le");
    }
    expect_1d(name, dtype_cases[d].v, (size_t)dtype_cases[d].n);
}
END_TEST

START_TEST(numpy_fortran)
{
    norn_npy_array a;
    read_fixture("fortran_2d_f8.npy", &a);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_uint_eq(a.shape[0], 3);
    ck_assert_uint_eq(a.shape[1], 4);
    for (int k = 0; k < 12; k++)
        ck_assert_double_eq(a.data[k], k);
    norn_npy_array_free(&a);
    read_fixture("fortran_3d_i2be.npy", &a);
    ck_assert_int_eq(a.ndim, 3);
    ck_assert_uint_eq(a.shape[0], 2);
    ck_assert_uint_eq(a.shape[1], 3);
    ck_assert_uint_eq(a.shape[2], 4);
    ck_assert_uint_eq(a.count, 24);
    for (int k = 0; k < 24; k++)
        ck_assert_double_eq(a.data[k], k);
    norn_npy_array_free(&a);
}
END_TEST

START_TEST(numpy_versions_and_scalars)
{
    const double v2[] = {1.5, -2.0, 3.25};
    expect_1d("v2_f8.npy", v2, 3);
    norn_npy_array a;
    read_fixture("scalar_f8.npy", &a);
    ck_assert_int_eq(a.ndim, 0);
    ck_assert_uint_eq(a.count, 1);
    ck_assert_double_eq(a.data[0], 3.5);
    norn_npy_array_free(&a);
    read_fixture("scalar_i2be.npy", &a);
    ck_assert_int_eq(a.ndim, 0);
    ck_assert_uint_eq(a.count, 1);
    ck_assert_double_eq(a.data[0], -7);
    norn_npy_array_free(&a);
    read_fixture("empty_0x3_i4.npy", &a);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_uint_eq(a.shape[0], 0);
    ck_assert_uint_eq(a.shape[1], 3);
    ck_assert_uint_eq(a.count, 0);
    norn_npy_array_free(&a);
}
END_TEST

static void expect_spikes(const char *name, const double *t, const uint32_t *id, uint64_t n)
{
    char *p = fixture(name);
    norn_err err = {0};
    double *rt;
    uint32_t *rn;
    uint64_t rnn;
    norn_status st = norn_npy_read_spikes(p, &rt, &rn, &rnn, &err);
    ck_assert_msg(st == NORN_OK, "%s: %s", name, err.msg);
    ck_assert_uint_eq(rnn, n);
    if (id == NULL)
        ck_assert_ptr_null(rn);
    else
        ck_assert_ptr_nonnull(rn);
    for (uint64_t k = 0; k < n; k++) {
        ck_assert_msg(same(rt[k], t[k]), "%s: time[%" PRIu64 "] %.17g != %.17g", name, k,
                      rt[k], t[k]);
        if (id)
            ck_assert_msg(rn[k] == id[k], "%s: neuron[%" PRIu64 "] %u != %u", name, k, rn[k],
                          id[k]);
    }
    norn_free(rt);
    norn_free(rn);
    free(p);
}

START_TEST(numpy_spikes)
{
    {
        const double t[] = {0.5, 1.25, 2.0, 10.75};
        const uint32_t id[] = {3, 0, 65535, 7};
        expect_spikes("spikes_reordered.npy", t, id, 4);
    }
    {
        const double t[] = {0.1, 0.2};
        const uint32_t id[] = {1, 4294967294u};
        expect_spikes("spikes_be_i8.npy", t, id, 2);
    }
    {
        const double t[] = {1.5, 2.5};
        const uint32_t id[] = {5, 9};
        expect_spikes("spikes_aligned.npy", t, id, 2);
    }
    {
        const double t[] = {10, 20};
        const uint32_t id[] = {1, 2};
        expect_spikes("spikes_int_time.npy", t, id, 2);
    }
    {
        const double t[] = {0.25, 0.5};
        const uint32_t id[] = {7, 2};
        expect_spikes("v3_spikes.npy", t, id, 2);
    }
    {
        const double t[] = {0.5, 1.5};
        const uint32_t id[] = {1, 2};
        expect_spikes("spikes_2col_f8.npy", t, id, 2);
    }
    {
        const double t[] = {1, 3, 5};
        const uint32_t id[] = {2, 4, 6};
        expect_spikes("spikes_2col_fortran_i4.npy", t, id, 3);
    }
    {
        const double t[] = {0.5, 0.75, 3.0};
        expect_spikes("spikes_times_f4.npy", t, NULL, 3);
    }
}
END_TEST

START_TEST(numpy_spikes_refused)
{
    norn_err err = {0};
    double *t = (double *)1;
    uint32_t *id = (uint32_t *)1;
    uint64_t n = 77;
    char *p = fixture("spikes_negative.npy");
    ck_assert_int_eq(norn_npy_read_spikes(p, &t, &id, &n, &err), NORN_EPARSE);
    ck_assert_str_eq(err.where, p);
    ASSERT_MSG_HAS(err, "spike 1: neuron -1 is not an integer in [0, 4294967294]");
    ck_assert(t == (double *)1 && id == (uint32_t *)1 && n == 77); /* untouched */
    free(p);
    /* a numeric array is not a structured one, and the other way round */
    p = fixture("fortran_3d_i2be.npy");
    ck_assert_int_eq(norn_npy_read_spikes(p, &t, &id, &n, &err), NORN_EPARSE);
    ASSERT_MSG_HAS(err, "got shape (2, 3, 4)");
    free(p);
    norn_npy_array a;
    p = fixture("spikes_reordered.npy");
    ck_assert_int_eq(norn_npy_read(p, &a, &err), NORN_EPARSE);
    ASSERT_MSG_HAS(err, "structured dtype");
    free(p);
}
END_TEST

/* ---------- NumPy reads what norn writes ---------- */

static const char *python(void)
{
    const char *p = getenv("NORN_PYTHON");
    return p ? p : "/usr/bin/python3";
}

static void write_raw_le(const char *path, const void *v, size_t sz, size_t n)
{
    /* tests run on little-endian machines; the writer is checked to emit '<' */
    write_bytes(path, v, sz * n);
}

START_TEST(numpy_reads_norn)
{
    char cmd[512];
    char *out, *errs;
    snprintf(cmd, sizeof cmd, "%s -c 'import numpy'", python());
    int rc = tu_run(cmd, &out, &errs);
    ck_assert_msg(rc == 0,
                  "this test needs %s with NumPy (Debian: apt install python3-numpy); "
                  "`%s` exited %d: %s",
                  python(), cmd, rc, errs);
    free(out);
    free(errs);

    char *dir = tu_tmpdir();
    size_t cap = 1 << 16, len = 0;
    char *py = malloc(cap);
    len += (size_t)snprintf(py + len, cap - len,
                            "import numpy as np\n"
                            "def arr(p, dt, shape, raw):\n"
                            "    with open(p, 'rb') as f:\n"
                            "        assert np.lib.format.read_magic(f) == (1, 0), p\n"
                            "    a = np.load(p)\n"
                            "    assert a.dtype == np.dtype(dt), (p, a.dtype)\n"
                            "    assert a.shape == shape, (p, a.shape)\n"
                            "    assert not (a.ndim > 1 and np.isfortran(a)), p\n"
                            "    want = np.fromfile(raw, dtype=dt).reshape(shape)\n"
                            "    assert a.tobytes() == want.tobytes(), (p, a, want)\n"
                            "def spikes(p, n, rt, rn):\n"
                            "    a = np.load(p)\n"
                            "    dt = np.dtype([('time_ms', '<f8'), ('neuron', '<u4')])\n"
                            "    assert a.dtype == dt and a.dtype.itemsize == 12, (p, a.dtype)\n"
                            "    assert a.shape == (n,), (p, a.shape)\n"
                            "    assert a['time_ms'].tobytes() == np.fromfile(rt, '<f8').tobytes(), p\n"
                            "    assert a['neuron'].tobytes() == np.fromfile(rn, '<u4').tobytes(), p\n");
    norn_err err = {0};
    for (int f32 = 0; f32 < 2; f32++) {
        for (int s = 0; s < NSHAPES; s++) {
            char name[64], raw[64];
            snprintf(name, sizeof name, "a%d_%d.npy", f32, s);
            snprintf(raw, sizeof raw, "a%d_%d.raw", f32, s);
            char *p = path_in(dir, name), *r = path_in(dir, raw);
            uint64_t count = 1;
            for (int k = 0; k < shapes[s].ndim; k++)
                count *= shapes[s].shape[k];
            double v[24];
            float vf[24];
            fill(v, count, 100 + (uint64_t)s);
            for (uint64_t k = 0; k < count; k++)
                vf[k] = (float)v[k];
            norn_status st = f32 ? norn_npy_write_f32(p, vf, shapes[s].ndim, shapes[s].shape, &err)
                                 : norn_npy_write_f64(p, v, shapes[s].ndim, shapes[s].shape, &err);
            ck_assert_msg(st == NORN_OK, "%s", err.msg);
            write_raw_le(r, f32 ? (void *)vf : (void *)v, f32 ? 4 : 8, (size_t)count);
            char shp[64];
            int m = snprintf(shp, sizeof shp, "(");
            for (int k = 0; k < shapes[s].ndim; k++)
                m += snprintf(shp + m, sizeof shp - (size_t)m, "%" PRIu64 ",",
                              shapes[s].shape[k]);
            snprintf(shp + m, sizeof shp - (size_t)m, ")");
            len += (size_t)snprintf(py + len, cap - len, "arr('%s', '%s', %s, '%s')\n", p,
                                    f32 ? "<f4" : "<f8", shp, r);
            free(p);
            free(r);
        }
    }
    for (int c = 0; c < 3; c++) {
        uint64_t n = c == 0 ? 0 : c == 1 ? 3 : 5000;
        double *t = malloc(sizeof *t * (n + 1));
        uint32_t *id = malloc(sizeof *id * (n + 1));
        fill(t, n, 9);
        for (uint64_t k = 0; k < n; k++)
            id[k] = (uint32_t)(k * 2654435761u);
        char name[32];
        snprintf(name, sizeof name, "s%d.npy", c);
        char *p = path_in(dir, name);
        snprintf(name, sizeof name, "s%d.t", c);
        char *rt = path_in(dir, name);
        snprintf(name, sizeof name, "s%d.n", c);
        char *rn = path_in(dir, name);
        ck_assert_msg(norn_npy_write_spikes(p, t, id, n, &err) == NORN_OK, "%s", err.msg);
        write_raw_le(rt, t, 8, (size_t)n);
        write_raw_le(rn, id, 4, (size_t)n);
        len += (size_t)snprintf(py + len, cap - len, "spikes('%s', %" PRIu64 ", '%s', '%s')\n",
                                p, n, rt, rn);
        free(t);
        free(id);
        free(p);
        free(rt);
        free(rn);
    }
    len += (size_t)snprintf(py + len, cap - len, "print('ok')\n");
    ck_assert_uint_lt(len, cap);
    char *script = tu_write(dir, "check.py", py);
    snprintf(cmd, sizeof cmd, "%s %s", python(), script);
    rc = tu_run(cmd, &out, &errs);
    ck_assert_msg(rc == 0 && strcmp(out, "ok\n") == 0, "NumPy disagrees (exit %d):\n%s%s", rc,
                  out, errs);
    free(out);
    free(errs);
    free(script);
    free(py);
    cleanup(dir);
}
END_TEST

/* ---------- malformed files ---------- */

static const double d8[4] = {1, 2, 3, 4};

typedef struct {
    const char *what;
    int major;
    const char *dict;
    size_t dlen; /* bytes of data after the header (from d8, zero padded) */
    size_t cut;  /* keep only this many bytes; 0 = all */
    norn_status code;
    const char *needle;
} bad_case;

#define ALL 0
static const bad_case bad_cases[] = {
    {"truncated header", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16, 40,
     NORN_EPARSE, "truncated header: it should be 118 bytes, but the file ends after 30"},
    {"cut in length", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16, 9,
     NORN_EPARSE, "truncated header"},
    {"no version", 1, "{}", 0, 7, NORN_EPARSE, "truncated header"},
    {"version 4.0", 4, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16, ALL,
     NORN_EPARSE, "unsupported .npy format version 4.0"},
    {"not terminated", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), ", 16, ALL,
     NORN_EPARSE, "header not terminated"},
    {"cut in shape", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,", 16, ALL,
     NORN_EPARSE, "header not terminated"},
    {"unterminated string", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x}", 16,
     ALL, NORN_EPARSE, "unterminated string"},
    {"missing key", 1, "{'descr': '<f8', 'fortran_order': False, }", 16, ALL, NORN_EPARSE,
     "missing key 'shape'"},
    {"missing descr", 1, "{'fortran_order': False, 'shape': (2,)}", 16, ALL, NORN_EPARSE,
     "missing key 'descr'"},
    {"unknown key", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'foo': 1}", 16,
     ALL, NORN_EPARSE, "unknown key 'foo'"},
    {"duplicate key", 1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}",
     16, ALL, NORN_EPARSE, "duplicate key 'descr'"},
    {"missing colon", 1, "{'descr' '<f8', 'fortran_order': False, 'shape': (2,)}", 16, ALL,
     NORN_EPARSE, "expected ':' after a key at offset 9"},
    {"not a dict", 1, "['descr', '<f8']", 16, ALL, NORN_EPARSE, "expected '{'"},
    {"garbage after dict", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} x", 16, ALL,
     NORN_EPARSE, "only spaces after the closing '}'"},
    {"complex", 1, "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", 16, ALL,
     NORN_EPARSE, "unsupported dtype '<c16' (complex"},
    {"unknown dtype", 1, "{'descr': '<x4', 'fortran_order': False, 'shape': (4,), }", 16, ALL,
     NORN_EPARSE, "unknown dtype '<x4'"},
    {"odd int size", 1, "{'descr': '<i3', 'fortran_order': False, 'shape': (4,), }", 12, ALL,
     NORN_EPARSE, "unknown dtype '<i3'"},
    {"object", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16, ALL,
     NORN_EPARSE, "unsupported dtype '|O'"},
    {"descr not a string", 1, "{'descr': 8, 'fortran_order': False, 'shape': (2,), }", 16, ALL,
     NORN_EPARSE, "expected a quoted string"},
    {"bad fortran_order", 1, "{'descr': '<f8', 'fortran_order': 'no', 'shape': (2,), }", 16, ALL,
     NORN_EPARSE, "True or False for fortran_order"},
    {"shape not a tuple", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': [2], }", 16, ALL,
     NORN_EPARSE, "a tuple for shape"},
    {"shape is a number", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2), }", 16, ALL,
     NORN_EPARSE, "shape must be a tuple"},
    {"negative dim", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", 16, ALL,
     NORN_EPARSE, "negative dimension"},
    {"float dim", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,), }", 16, ALL,
     NORN_EPARSE, "expected an integer"},
    {"9 dims", 1,
     "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 2), }", 16,
     ALL, NORN_EPARSE, "more than 8 dimensions"},
    {"truncated data", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (10,), }", 32, ALL,
     NORN_EPARSE, "truncated: expected 80 bytes of data, found 32"},
    {"shape/size mismatch", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
     32, ALL, NORN_EPARSE, "trailing garbage: expected 24 bytes of data, found 32"},
    {"absurd shape", 1,
     "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 8), }", 32, ALL,
     NORN_EPARSE, "absurd shape (4611686018427387904, 8): the element count overflows"},
    {"absurd bytes", 1,
     "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", 32, ALL,
     NORN_EPARSE, "absurd shape (4611686018427387904,): the data size overflows"},
    {"more than the file", 1,
     "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", 8, ALL,
     NORN_EPARSE, "truncated: expected 8000000000000 bytes of data, found 8"},
    {"dim beyond 64 bits", 1,
     "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", 8, ALL,
     NORN_EPARSE, "does not fit in 64 bits"},
    {"structured as array", 1,
     "{'descr': [('time_ms', '<f8'), ('neuron', '<u4')], 'fortran_order': False, "
     "'shape': (1,), }",
     12, ALL, NORN_EPARSE, "structured dtype [('time_ms', '<f8'), ('neuron', '<u4')] where"},
    {"bad field", 1,
     "{'descr': [('time_ms', '<f8'), ('neuron', '<q4')], 'fortran_order': False, "
     "'shape': (1,), }",
     12, ALL, NORN_EPARSE, "field 'neuron': unknown dtype '<q4'"},
    {"field list unclosed", 1,
     "{'descr': [('time_ms', '<f8') ('neuron', '<u4')], 'fortran_order': False, "
     "'shape': (1,), }",
     12, ALL, NORN_EPARSE, "',' or ']' in the list of fields"},
};
enum { NBAD = sizeof bad_cases / sizeof bad_cases[0] };

START_TEST(malformed)
{
    const bad_case *c = &bad_cases[_i];
    char *dir = tu_tmpdir();
    unsigned char data[64] = {0};
    memcpy(data, d8, sizeof d8);
    char *p = make_npy(dir, "bad.npy", c->major, c->dict, data, c->dlen,
                       c->cut ? c->cut : (size_t)-1);
    size_t live = norn_mem_live();
    norn_err err = {0};
    norn_npy_array a = {.ndim = -5};
    norn_status st = norn_npy_read(p, &a, &err);
    ck_assert_msg(st == c->code, "%s: status %d (%s)", c->what, st, err.msg);
    ck_assert_str_eq(err.where, p);
    ck_assert_msg(strstr(err.msg, c->needle) != NULL, "%s: message \"%s\" lacks \"%s\"",
                  c->what, err.msg, c->needle);
    ck_assert_int_eq(a.ndim, -5); /* untouched */
    ck_assert_uint_eq(norn_mem_live(), live);
    free(p);
    cleanup(dir);
}
END_TEST

START_TEST(malformed_magic_and_missing)
{
    char *dir = tu_tmpdir();
    norn_err err = {0};
    norn_npy_array a;
    char *p = path_in(dir, "magic.npy");
    write_bytes(p, "\x93NUMPZ\x01\x00\x10\x00{}", 12);
    ck_assert_int_eq(norn_npy_read(p, &a, &err), NORN_EPARSE);
    ASSERT_MSG_HAS(err, "not a .npy file: bad magic");
    ASSERT_MSG_HAS(err, "found \"\\x93NUMPZ\"");
    write_bytes(p, "", 0);
    ck_assert_int_eq(norn_npy_read(p, &a, &err), NORN_EPARSE);
    ASSERT_MSG_HAS(err, "bad magic");
    write_bytes(p, "time_ms,population,neuron\n", 26);
    ck_assert_int_eq(norn_npy_read(p, &a, &err), NORN_EPARSE);
    ASSERT_MSG_HAS(err, "found \"time_m\"");
    free(p);
    p = path_in(dir, "not-there.npy");
    ck_assert_int_eq(norn_npy_read(p, &a, &err), NORN_EIO);
    ck_assert_str_eq(err.where, p);
    ASSERT_MSG_HAS(err, "No such file or directory");
    double *t;
    uint32_t *id;
    uint64_t n;
    ck_assert_int_eq(norn_npy_read_spikes(p, &t, &id, &n, &err), NORN_EIO);
    ASSERT_MSG_HAS(err, "No such file or directory");
    ck_assert_int_eq(norn_npy_read(dir, &a, &err), NORN_EIO);
    ASSERT_MSG_HAS(err, "not a regular file");
    free(p);
    cleanup(dir);
}
END_TEST

START_TEST(header_too_long)
{
    char *dir = tu_tmpdir();
    size_t hl = (1u << 20) + 64, total = 12 + hl;
    unsigned char *b = malloc(total);
    memcpy(b, "\x93NUMPY\x02\x00", 8);
    b[8] = (unsigned char)(hl & 0xff);
    b[9] = (unsigned char)(hl >> 8 & 0xff);
    b[10] = (unsigned char)(hl >> 16 & 0xff);
    b[11] = 0;
    memset(b + 12, ' ', hl);
    memcpy(b + 12, "{'descr': '<f8', 'fortran_order': False, 'shape': (0,)}", 55);
    char *p = path_in(dir, "long.npy");
    write_bytes(p, b, total);
    norn_err err = {0};
    norn_npy_array a;
    ck_assert_int_eq(norn_npy_read(p, &a, &err), NORN_EPARSE);
    ASSERT_MSG_HAS(err, "header of 1048640 bytes is too long");
    free(b);
    free(p);
    cleanup(dir);
}
END_TEST

/* Headers NumPy (or older NumPy, or other writers) may produce. */
static const struct {
    int major;
    const char *dict;
} good_headers[] = {
    {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }"},
    {1, "{'shape': (2, 2), 'fortran_order': False, 'descr': '<f8'}"},
    {1, "{ 'fortran_order' :False ,'shape':( 2 ,2 , ) ,\n 'descr' : \"<f8\" , }"},
    {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 2L), }"},
    {1, "{'descr': u'<f8', 'fortran_order': False, 'shape': (2, 2), }"},
    {1, "{'descr': '=f8', 'fortran_order': False, 'shape': (2, 2), }"},
    {1, "{'descr': '|f8', 'fortran_order': False, 'shape': (2, 2), }"},
    {1, "{'descr': 'f8', 'fortran_order': False, 'shape': (2, 2), }"},
    {2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }"},
    {3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }"},
    {1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }"},
};
enum { NGOOD = sizeof good_headers / sizeof good_headers[0] };

START_TEST(tolerant_headers)
{
    char *dir = tu_tmpdir();
    char *p = make_npy(dir, "ok.npy", good_headers[_i].major, good_headers[_i].dict, d8,
                       sizeof d8, (size_t)-1);
    norn_err err = {0};
    norn_npy_array a;
    ck_assert_msg(norn_npy_read(p, &a, &err) == NORN_OK, "%s: %s", good_headers[_i].dict,
                  err.msg);
    ck_assert_uint_eq(a.count, 4);
    for (int k = 0; k < 4; k++)
        ck_assert_double_eq(a.data[k], d8[k]);
    norn_npy_array_free(&a);
    free(p);
    cleanup(dir);
}
END_TEST

static void spikes_fail(const char *dict, const void *data, size_t dlen, const char *needle)
{
    char *dir = tu_tmpdir();
    char *p = make_npy(dir, "s.npy", 1, dict, data, dlen, (size_t)-1);
    norn_err err = {0};
    double *t;
    uint32_t *id;
    uint64_t n;
    size_t live = norn_mem_live();
    ck_assert_int_eq(norn_npy_read_spikes(p, &t, &id, &n, &err), NORN_EPARSE);
    ck_assert_str_eq(err.where, p);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "\"%s\" lacks \"%s\"", err.msg, needle);
    ck_assert_uint_eq(norn_mem_live(), live);
    free(p);
    cleanup(dir);
}

START_TEST(malformed_spikes)
{
    static const unsigned char rec[64] = {0};
    double two[4] = {0.5, 1, 1.5, 2.5};
    spikes_fail("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", two, 32,
                "spike 1: neuron 2.5 is not an integer");
    double big[2] = {0.5, 4294967295.0};
    spikes_fail("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", big, 16,
                "neuron 4294967295 is not an integer in [0, 4294967294]");
    double nan2[2] = {NAN, 1};
    spikes_fail("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", nan2, 16,
                "spike 0: time_ms is nan, not a finite number");
    spikes_fail("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", rec, 48,
                "expected a structured array with fields time_ms and neuron");
    spikes_fail("{'descr': [('time_ms', '<f8'), ('id', '<u4')], 'fortran_order': False, "
                "'shape': (2,), }",
                rec, 24, "has no field 'neuron'");
    spikes_fail("{'descr': [('time_ms', '<f8'), ('neuron', '<f4')], 'fortran_order': False, "
                "'shape': (2,), }",
                rec, 24, "field 'neuron' must be an integer scalar, got '<f4'");
    spikes_fail("{'descr': [('time_ms', '<f8', (2,)), ('neuron', '<u4')], 'fortran_order': "
                "False, 'shape': (2,), }",
                rec, 40, "field 'time_ms' must be a float or integer scalar");
    spikes_fail("{'descr': [('time_ms', '<f8'), ('neuron', '<u4')], 'fortran_order': False, "
                "'shape': (1, 2), }",
                rec, 24, "must be 1-D, got shape (1, 2)");
    spikes_fail("{'descr': [('time_ms', '<f8'), ('neuron', '<u4'), ('neuron', '<u4')], "
                "'fortran_order': False, 'shape': (1,), }",
                rec, 16, "duplicate field 'neuron'");
    spikes_fail("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", rec, 4,
                "cannot hold spike times");
}
END_TEST

/* Every prefix of a valid file is refused; flipped header bytes never crash
 * and never leak. */
START_TEST(cut_and_flip)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "v.npy");
    char *q = path_in(dir, "w.npy");
    norn_err err = {0};
    double t[3] = {0.5, 1, 2};
    uint32_t id[3] = {4, 5, 6};
    ck_assert_int_eq(norn_npy_write_spikes(p, t, id, 3, &err), NORN_OK);
    size_t len;
    unsigned char *b = (unsigned char *)tu_read(p, &len);
    size_t live = norn_mem_live();
    for (size_t cut = 0; cut < len; cut++) {
        write_bytes(q, b, cut);
        double *rt;
        uint32_t *rn;
        uint64_t n;
        norn_status st = norn_npy_read_spikes(q, &rt, &rn, &n, &err);
        ck_assert_msg(st == NORN_EPARSE, "prefix of %zu bytes accepted", cut);
        ck_assert_uint_gt(strlen(err.msg), 10);
        ck_assert_uint_eq(norn_mem_live(), live);
    }
    static const unsigned char flips[] = {0x01, 0x08, 0x20, 0x80, 0xff};
    for (size_t pos = 0; pos < 128; pos++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            b[pos] ^= flips[f];
            write_bytes(q, b, len);
            b[pos] ^= flips[f];
            double *rt;
            uint32_t *rn;
            uint64_t n;
            norn_status st = norn_npy_read_spikes(q, &rt, &rn, &n, &err);
            if (st == NORN_OK) {
                ck_assert_uint_le(n, 3);
                norn_free(rt);
                norn_free(rn);
            } else {
                ck_assert_int_eq(st, NORN_EPARSE);
                ck_assert_uint_gt(strlen(err.msg), 10);
            }
            norn_npy_array a;
            st = norn_npy_read(q, &a, &err);
            if (st == NORN_OK)
                norn_npy_array_free(&a);
            ck_assert_uint_eq(norn_mem_live(), live);
        }
    }
    free(b);
    free(p);
    free(q);
    cleanup(dir);
}
END_TEST

/* Each allocation failing in turn gives ENOMEM, untouched outputs and no leak. */
START_TEST(out_of_memory)
{
    char *dir = tu_tmpdir();
    char *p = fixture("fortran_3d_i2be.npy");
    char *s = fixture("spikes_reordered.npy");
    char *c = path_in(dir, "s.csv");
    double t[2] = {1, 2};
    uint32_t pop[2] = {0, 0}, id[2] = {1, 2};
    const char *names[] = {"exc"};
    norn_err err = {0};
    ck_assert_int_eq(norn_csv_write_spikes(c, t, pop, id, 2, names, &err), NORN_OK);
    for (int which = 0; which < 4; which++) {
        int failures = 0;
        for (long k = 0;; k++) {
            size_t live = norn_mem_live();
            norn_mem_fail_after(k);
            norn_npy_array a = {.ndim = -1};
            double *rt = NULL;
            uint32_t *rn = NULL;
            uint64_t n = 0;
            norn_status st;
            if (which == 0)
                st = norn_npy_read(p, &a, &err);
            else if (which == 1)
                st = norn_npy_read_spikes(s, &rt, &rn, &n, &err);
            else if (which == 2)
                st = norn_csv_read_spikes(c, &rt, &rn, &n, &err);
            else
                st = norn_csv_write_spikes(c, t, pop, id, 2, names, &err);
            norn_mem_fail_after(-1);
            if (st == NORN_OK) {
                norn_npy_array_free(&a);
                norn_free(rt);
                norn_free(rn);
                break;
            }
            ck_assert_int_eq(st, NORN_ENOMEM);
            ck_assert_int_eq(a.ndim, -1);
            ck_assert_ptr_null(rt);
            ck_assert_uint_eq(norn_mem_live(), live);
            failures++;
            ck_assert_int_lt(k, 100);
        }
        ck_assert_int_gt(failures, 0); /* each path allocates */
    }
    free(p);
    free(s);
    free(c);
    cleanup(dir);
}
END_TEST

/* ---------- CSV ---------- */

START_TEST(csv_roundtrip)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "spikes.csv");
    enum { N = 3000 };
    double *t = malloc(sizeof *t * N);
    uint32_t *pop = malloc(sizeof *pop * N), *id = malloc(sizeof *id * N);
    fill(t, N, 11);
    t[0] = 0.1;
    t[1] = 1.0 / 3.0;
    t[2] = 1e-300;
    for (int k = 0; k < N; k++) {
        pop[k] = (uint32_t)k % 3;
        id[k] = (uint32_t)((unsigned)k * 2654435761u) % 4294967295u;
    }
    id[0] = 0;
    id[1] = 4294967294u;
    const char *names[] = {"exc", "inh", "odd, \"name\""};
    norn_err err = {0};
    ck_assert_msg(norn_csv_write_spikes(p, t, pop, id, N, names, &err) == NORN_OK, "%s",
                  err.msg);
    char *text = tu_read(p, NULL);
    /* shortest text that reads back exactly */
    const char *head = "time_ms,population,neuron\n0.1,exc,0\n"
                       "0.3333333333333333,inh,4294967294\n"
                       "1e-300,\"odd, \"\"name\"\"\",";
    ck_assert_msg(strncmp(text, head, strlen(head)) == 0, "file starts:\n%.200s", text);
    free(text);
    double *rt;
    uint32_t *rn;
    uint64_t n;
    ck_assert_msg(norn_csv_read_spikes(p, &rt, &rn, &n, &err) == NORN_OK, "%s: %s", err.where,
                  err.msg);
    ck_assert_uint_eq(n, N);
    for (int k = 0; k < N; k++) {
        ck_assert_msg(same(rt[k], t[k]), "time[%d] %.17g != %.17g", k, rt[k], t[k]);
        ck_assert_uint_eq(rn[k], id[k]);
    }
    norn_free(rt);
    norn_free(rn);
    /* no spikes: a header only */
    ck_assert_int_eq(norn_csv_write_spikes(p, NULL, NULL, NULL, 0, NULL, &err), NORN_OK);
    text = tu_read(p, NULL);
    ck_assert_str_eq(text, "time_ms,population,neuron\n");
    free(text);
    ck_assert_int_eq(norn_csv_read_spikes(p, &rt, &rn, &n, &err), NORN_OK);
    ck_assert_uint_eq(n, 0);
    norn_free(rt);
    norn_free(rn);
    free(t);
    free(pop);
    free(id);
    free(p);
    cleanup(dir);
}
END_TEST

START_TEST(csv_variants)
{
    static const char *files[] = {
        "time_ms,population,neuron\n0.5,exc,3\n1.5,inh,4\n",
        "neuron,time_ms\n3,0.5\n4,1.5\n",
        "\xef\xbb\xbftime_ms,population,neuron\r\n0.5,exc,3\r\n1.5,inh,4\r\n\r\n",
        ",time_ms,population,neuron\n0,0.5,exc,3\n1,1.5,inh,4\n\n\n",
        "time_ms , population , neuron\n 0.5 , \"e,x\" , 3.0\n1.5,inh,4e0",
        "\"time_ms\",\"population\",\"neuron\"\n\"0.5\",\"exc\",\"3\"\n1.5,,4\n",
    };
    char *dir = tu_tmpdir();
    char *p = tu_write(dir, "v.csv", files[_i]);
    norn_err err = {0};
    double *t;
    uint32_t *id;
    uint64_t n;
    ck_assert_msg(norn_csv_read_spikes(p, &t, &id, &n, &err) == NORN_OK, "%s: %s", err.where,
                  err.msg);
    ck_assert_uint_eq(n, 2);
    ck_assert_double_eq(t[0], 0.5);
    ck_assert_double_eq(t[1], 1.5);
    ck_assert_uint_eq(id[0], 3);
    ck_assert_uint_eq(id[1], 4);
    norn_free(t);
    norn_free(id);
    free(p);
    cleanup(dir);
}
END_TEST

static const struct {
    const char *text;
    int line;
    const char *needle;
} csv_bad[] = {
    {"time_ms,population,neuron\n0.5,exc,1\nabc,exc,2\n", 3, "time_ms: bad number 'abc'"},
    {"time_ms,population,neuron\n0.5,exc\n", 2, "expected 3 columns as in the header, found 2"},
    {"time_ms,population,neuron\n0.5,exc,1,9\n", 2, "expected 3 columns as in the header, found 4"},
    {"time_ms,population,neuron\n0.5,exc,1\n0.6,exc,2\n0.7,exc,-3\n", 4,
     "neuron must be >= 0, got -3"},
    {"time_ms,population,neuron\n0.5,exc,2.5\n", 2, "neuron must be an integer, got 2.5"},
    {"time_ms,population,neuron\n0.5,exc,4294967295\n", 2, "neuron 4294967295 out of range"},
    {"time_ms,population,neuron\n0.5,exc,x1\n", 2, "neuron: bad number 'x1'"},
    {"time_ms,population,neuron\n0.5,exc,\n", 2, "neuron: bad number ''"},
    {"time_ms,population,neuron\nnan,exc,1\n", 2, "time_ms: 'nan' is not a finite number"},
    {"time_ms,population,neuron\n1e999,exc,1\n", 2, "not a finite number"},
    {"", 1, "empty file: missing the header"},
    {"time_ms,population,id\n0.5,exc,1\n", 1, "header has no 'neuron' column"},
    {"0.5,exc,1\n", 1, "header has no 'time_ms' column"},
    {"time_ms,neuron,neuron\n", 1, "duplicate column 'neuron'"},
    {"time_ms,population,neuron\n0.5,exc,1\n\n0.6,exc,2\n", 3, "blank line inside the data"},
    {"time_ms,population,neuron\n0.5,\"exc,1\n", 2, "unterminated quoted field"},
};
enum { NCSVBAD = sizeof csv_bad / sizeof csv_bad[0] };

START_TEST(csv_errors)
{
    char *dir = tu_tmpdir();
    char *p = tu_write(dir, "bad.csv", csv_bad[_i].text);
    norn_err err = {0};
    double *t = (double *)1;
    uint32_t *id = (uint32_t *)1;
    uint64_t n = 77;
    size_t live = norn_mem_live();
    ck_assert_int_eq(norn_csv_read_spikes(p, &t, &id, &n, &err), NORN_EPARSE);
    char where[512];
    snprintf(where, sizeof where, "%s:%d", p, csv_bad[_i].line);
    ck_assert_str_eq(err.where, where);
    ck_assert_msg(strstr(err.msg, csv_bad[_i].needle) != NULL, "\"%s\" lacks \"%s\"", err.msg,
                  csv_bad[_i].needle);
    ck_assert(t == (double *)1 && id == (uint32_t *)1 && n == 77);
    ck_assert_uint_eq(norn_mem_live(), live);
    char buf[1024];
    norn_err_format(&err, buf, sizeof buf);
    ck_assert_msg(strncmp(buf, where, strlen(where)) == 0 && buf[strlen(where)] == ':', "%s",
                  buf);
    free(p);
    cleanup(dir);
}
END_TEST

START_TEST(csv_write_refusals)
{
    char *dir = tu_tmpdir();
    char *p = tu_write(dir, "old.csv", "old content\n");
    norn_err err = {0};
    double t[2] = {0.5, NAN};
    uint32_t pop[2] = {0, 0}, id[2] = {1, 2};
    const char *names[] = {"exc"};
    ck_assert_int_eq(norn_csv_write_spikes(p, t, pop, id, 2, names, &err), NORN_EINVAL);
    ASSERT_MSG_HAS(err, "spike 1: time_ms is nan");
    const char *bad_names[] = {"ex\nc"};
    t[1] = 1;
    ck_assert_int_eq(norn_csv_write_spikes(p, t, pop, id, 2, bad_names, &err), NORN_EINVAL);
    ASSERT_MSG_HAS(err, "line break");
    /* the old file is intact and no temporary file is left */
    char *text = tu_read(p, NULL);
    ck_assert_str_eq(text, "old content\n");
    free(text);
    char first[256];
    ck_assert_int_eq(dir_entries(dir, first, sizeof first), 1);
    ck_assert_str_eq(first, "old.csv");
    char *q = path_in(dir, "missing");
    double *rt;
    uint32_t *rn;
    uint64_t n;
    ck_assert_int_eq(norn_csv_read_spikes(q, &rt, &rn, &n, &err), NORN_EIO);
    ck_assert_str_eq(err.where, q);
    ASSERT_MSG_HAS(err, "No such file or directory");
    free(p);
    free(q);
    cleanup(dir);
}
END_TEST

/* ---------- atomic ---------- */

START_TEST(atomic_commit_abort)
{
    char *dir = tu_tmpdir();
    char *p = path_in(dir, "out.txt");
    norn_err err = {0};
    norn_afile a;
    char first[256];

    ck_assert_int_eq(norn_afile_open(&a, p, &err), NORN_OK);
    ck_assert_int_eq(dir_entries(dir, first, sizeof first), 1);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "out.txt.tmp.%ld", (long)getpid());
    ck_assert_str_eq(first, tmp);
    ck_assert(!tu_exists(p)); /* not visible before commit */
    fputs("hello\n", a.f);
    ck_assert_int_eq(norn_afile_commit(&a, &err), NORN_OK);
    ck_assert_int_eq(dir_entries(dir, first, sizeof first), 1);
    ck_assert_str_eq(first, "out.txt");
    char *text = tu_read(p, NULL);
    ck_assert_str_eq(text, "hello\n");
    free(text);
    norn_afile_abort(&a); /* after commit: does nothing */
    ck_assert(tu_exists(p));

    /* replace: the old content until commit, then the new */
    ck_assert_int_eq(norn_afile_open(&a, p, &err), NORN_OK);
    fputs("second\n", a.f);
    text = tu_read(p, NULL);
    ck_assert_str_eq(text, "hello\n");
    free(text);
    ck_assert_int_eq(norn_afile_commit(&a, &err), NORN_OK);
    text = tu_read(p, NULL);
    ck_assert_str_eq(text, "second\n");
    free(text);

    /* abort: neither a new file nor a temporary one */
    char *q = path_in(dir, "gone.txt");
    ck_assert_int_eq(norn_afile_open(&a, q, &err), NORN_OK);
    fputs("x", a.f);
    norn_afile_abort(&a);
    ck_assert(!tu_exists(q));
    ck_assert_int_eq(dir_entries(dir, first, sizeof first), 1);
    ck_assert_str_eq(first, "out.txt");
    free(p);
    free(q);
    cleanup(dir);
}
END_TEST

START_TEST(atomic_errors)
{
    char *dir = tu_tmpdir();
    norn_err err = {0};
    norn_afile a;
    char *p = path_in(dir, "no-dir/out.txt");
    ck_assert_int_eq(norn_afile_open(&a, p, &err), NORN_EIO);
    ck_assert_str_eq(err.where, p);
    ASSERT_MSG_HAS(err, "No such file or directory");
    ck_assert_ptr_null(a.f);
    norn_afile_abort(&a); /* harmless */
    free(p);

    /* rename onto a directory fails: EIO, and the temporary file is removed */
    p = path_in(dir, "sub");
    ck_assert_int_eq(mkdir(p, 0700), 0);
    ck_assert_int_eq(norn_afile_open(&a, p, &err), NORN_OK);
    fputs("data", a.f);
    ck_assert_int_eq(norn_afile_commit(&a, &err), NORN_EIO);
    ck_assert_str_eq(err.where, p);
    ASSERT_MSG_HAS(err, "rename");
    ASSERT_MSG_HAS(err, "Is a directory");
    char first[256];
    ck_assert_int_eq(dir_entries(dir, first, sizeof first), 1);
    ck_assert_str_eq(first, "sub");
    ck_assert_int_eq(norn_afile_commit(&a, &err), NORN_EINVAL);
    free(p);
    cleanup(dir);
}
END_TEST

/* norn_fmt_double's printf-free path gives %.15g-%.17g's text, byte for
 * byte: grid times (k / 10, k / 100, k / 1000, k / 10000 as the division
 * rounds), sums of steps (0.1 + 0.2), random doubles, and the edges of the
 * path (0, -0, 1e-3, 1e-4, 1e9, huge, negative). */
static void fmt_same(double x)
{
    char a[64], b[64];
    int la = norn_fmt_double(a, sizeof a, x), lb = norn_fmt_double_slow(b, sizeof b, x);
    ck_assert_msg(la == lb && strcmp(a, b) == 0, "%.17g: '%s' (%d) vs '%s' (%d)", x, a, la, b, lb);
}

START_TEST(fmt_fast_path)
{
    static const double div[] = {1, 10, 100, 1000, 10000, 3};
    for (int d = 0; d < 6; d++)
        for (int64_t k = 0; k < 300000; k++)
            fmt_same((double)k / div[d]);
    for (int64_t k = 0; k < 2000; k++) {
        fmt_same(1e6 + (double)k / 10);
        fmt_same(999999999.0 - (double)k / 1000);
        fmt_same(1e9 + (double)k);
    }
    double t = 0;
    for (int k = 0; k < 100000; k++) /* accumulated steps: off the grid by an ulp */
        fmt_same(t += 0.1);
    uint64_t z = 12345;
    for (int k = 0; k < 100000; k++) {
        z = z * 6364136223846793005ULL + 1442695040888963407ULL;
        fmt_same((double)(z >> 11) * 0x1.0p-53 * 1000.0);
        fmt_same((double)(z >> 40) / 1000.0);
    }
    static const double edge[] = {0.0,  -0.0, 1e-3,  1e-4, 5e-4, 0.30000000000000004, 1e9, 1e15,
                                  1e300, -0.1, -5.0, 123456789.125};
    for (size_t k = 0; k < sizeof edge / sizeof edge[0]; k++)
        fmt_same(edge[k]);
    char buf[64];
    ck_assert_int_eq(norn_fmt_double(buf, sizeof buf, 1234.5), 6);
    ck_assert_str_eq(buf, "1234.5");
    ck_assert_int_eq(norn_fmt_double(buf, sizeof buf, 0.1 + 0.2), 19);
    ck_assert_str_eq(buf, "0.30000000000000004");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("roundtrip");
    tcase_add_loop_test(tc, roundtrip_array, 0, 2 * NSHAPES);
    tcase_add_loop_test(tc, roundtrip_spikes, 0,
                        (int)(sizeof spike_counts / sizeof spike_counts[0]));
    tcase_add_test(tc, write_bad_args);
    suite_add_tcase(s, tc);

    tc = tcase_create("numpy_fixtures");
    tcase_add_loop_test(tc, numpy_dtypes, 0, 2 * NDTYPES);
    tcase_add_test(tc, numpy_fortran);
    tcase_add_test(tc, numpy_versions_and_scalars);
    tcase_add_test(tc, numpy_spikes);
    tcase_add_test(tc, numpy_spikes_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("numpy_reads_norn");
    tcase_add_test(tc, numpy_reads_norn);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, malformed, 0, NBAD);
    tcase_add_test(tc, malformed_magic_and_missing);
    tcase_add_test(tc, header_too_long);
    tcase_add_loop_test(tc, tolerant_headers, 0, NGOOD);
    tcase_add_test(tc, malformed_spikes);
    tcase_add_test(tc, cut_and_flip);
    tcase_add_test(tc, out_of_memory);
    suite_add_tcase(s, tc);

    tc = tcase_create("csv");
    tcase_add_test(tc, csv_roundtrip);
    tcase_add_loop_test(tc, csv_variants, 0, 6);
    tcase_add_loop_test(tc, csv_errors, 0, NCSVBAD);
    tcase_add_test(tc, csv_write_refusals);
    tcase_add_test(tc, fmt_fast_path);
    suite_add_tcase(s, tc);

    tc = tcase_create("atomic");
    tcase_add_test(tc, atomic_commit_abort);
    tcase_add_test(tc, atomic_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_main(suite()); }
