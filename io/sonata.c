/* io/sonata.c - SONATA spike files through libhdf5; see sonata.h. */
#include "io/sonata.h"

#include "io/h5err.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"

#define WHERE_CAP 4400 /* truncated to norn_err.where by NORN_FAIL */


static void close_id(hid_t *id, herr_t (*fn)(hid_t))
{
    if (*id >= 0)
        fn(*id);
    *id = -1;
}

/* The enum type of the "sorting" attribute (int8 based, as libsonata). */
static hid_t sorting_type(void)
{
    hid_t t = H5Tenum_create(H5T_STD_I8LE);
    if (t < 0)
        return -1;
    static const char *const names[] = {"none", "by_id", "by_time"};
    for (int8_t v = 0; v < 3; v++)
        if (H5Tenum_insert(t, names[v], &v) < 0) {
            H5Tclose(t);
            return -1;
        }
    return t;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */

static norn_status check_pops(const char *path, const norn_sonata_pop *pops, uint32_t n_pops, norn_err *err)
{
    if (path == NULL || !*path)
        return NORN_FAIL(err, NORN_EINVAL, "sonata", "no output path");
    if (pops == NULL || n_pops == 0)
        return NORN_FAIL(err, NORN_EINVAL, path, "no population to write");
    for (uint32_t k = 0; k < n_pops; k++) {
        const norn_sonata_pop *p = &pops[k];
        if (p->name == NULL || !*p->name || strchr(p->name, '/') || strcmp(p->name, ".") == 0)
            return NORN_FAIL(err, NORN_EINVAL, path, "population %u: name '%s' cannot be an HDF5 group name", k,
                             p->name ? p->name : "(null)");
        for (uint32_t j = 0; j < k; j++)
            if (strcmp(pops[j].name, p->name) == 0)
                return NORN_FAIL(err, NORN_EINVAL, path, "population '%s' given twice", p->name);
        if (p->n && (p->time_ms == NULL || p->node_id == NULL))
            return NORN_FAIL(err, NORN_EINVAL, path, "population '%s': spike arrays are NULL", p->name);
        for (uint64_t i = 0; i < p->n; i++) {
            if (!isfinite(p->time_ms[i]))
                return NORN_FAIL(err, NORN_EINVAL, path, "population '%s': spike %llu: time is not finite", p->name,
                                 (unsigned long long)i);
            if (i && p->time_ms[i] < p->time_ms[i - 1])
                return NORN_FAIL(err, NORN_EINVAL, path,
                                 "population '%s': spike %llu: times not sorted (%.17g after %.17g)", p->name,
                                 (unsigned long long)i, p->time_ms[i], p->time_ms[i - 1]);
        }
    }
    return NORN_OK;
}

/* A 1-D dataset of n values of file type ftype from memory of type mtype. */
static int write_1d(hid_t grp, const char *name, hid_t ftype, hid_t mtype, const void *data, uint64_t n)
{
    hsize_t dims[1] = {(hsize_t)n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    if (sp < 0)
        return -1;
    hid_t d = H5Dcreate2(grp, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 ? -1 : 0;
    if (rc == 0 && n > 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = -1;
    if (rc == 0 && strcmp(name, "timestamps") == 0) {
        /* units = "ms", a variable-length UTF-8 string as h5py writes a str */
        hid_t st = H5Tcopy(H5T_C_S1), as = H5Screate(H5S_SCALAR), a = -1;
        const char *ms = "ms";
        if (st < 0 || as < 0 || H5Tset_size(st, H5T_VARIABLE) < 0 || H5Tset_cset(st, H5T_CSET_UTF8) < 0 ||
            (a = H5Acreate2(d, "units", st, as, H5P_DEFAULT, H5P_DEFAULT)) < 0 || H5Awrite(a, st, &ms) < 0)
            rc = -1;
        close_id(&a, H5Aclose);
        close_id(&as, H5Sclose);
        close_id(&st, H5Tclose);
    }
    close_id(&d, H5Dclose);
    close_id(&sp, H5Sclose);
    return rc;
}

static int write_pop(hid_t spikes, const norn_sonata_pop *p, hid_t sort_t)
{
    hid_t g = H5Gcreate2(spikes, p->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    int rc = 0;
    hid_t as = H5Screate(H5S_SCALAR), a = -1;
    int8_t by_time = NORN_SONATA_SORT_BY_TIME;
    if (as < 0 || (a = H5Acreate2(g, "sorting", sort_t, as, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, sort_t, &by_time) < 0)
        rc = -1;
    close_id(&a, H5Aclose);
    close_id(&as, H5Sclose);
    if (rc == 0)
        rc = write_1d(g, "timestamps", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, p->time_ms, p->n);
    if (rc == 0)
        rc = write_1d(g, "node_ids", H5T_STD_U64LE, H5T_NATIVE_UINT32, p->node_id, p->n);
    close_id(&g, H5Gclose);
    return rc;
}

static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

norn_status norn_sonata_write_spikes(const char *path, const norn_sonata_pop *pops, uint32_t n_pops, norn_err *err)
{
    norn_status st = check_pops(path, pops, n_pops, err);
    if (st != NORN_OK)
        return st;
    char tmp[4200], why[256];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return NORN_FAIL(err, NORN_EINVAL, path, "path too long");
    norn_h5_quiet();
    hid_t f = -1, gcpl = -1, spikes = -1, sort_t = -1;
    const char *what = "cannot create the file";
    f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        goto h5fail;
    what = "cannot write /spikes";
    if ((gcpl = H5Pcreate(H5P_GROUP_CREATE)) < 0 ||
        H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
        (spikes = H5Gcreate2(f, "spikes", H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0 || (sort_t = sorting_type()) < 0)
        goto h5fail;
    for (uint32_t k = 0; k < n_pops; k++)
        if (write_pop(spikes, &pops[k], sort_t) < 0) {
            snprintf(why, sizeof why, "cannot write population '%s'", pops[k].name);
            what = why;
            goto h5fail;
        }
    close_id(&sort_t, H5Tclose);
    close_id(&spikes, H5Gclose);
    close_id(&gcpl, H5Pclose);
    what = "cannot close the file";
    herr_t c = H5Fclose(f);
    f = -1;
    if (c < 0)
        goto h5fail;
    if (sync_file(tmp) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return NORN_FAIL(err, NORN_EIO, path, "cannot write: %s", strerror(e));
    }
    return NORN_OK;
h5fail : {
    char r[256];
    norn_h5_reason(r);
    close_id(&sort_t, H5Tclose);
    close_id(&spikes, H5Gclose);
    close_id(&gcpl, H5Pclose);
    close_id(&f, H5Fclose);
    H5Eclear2(H5E_DEFAULT);
    unlink(tmp);
    return NORN_FAIL(err, NORN_EIO, path, "%s%s%s", what, *r ? ": HDF5: " : "", r);
}
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */

void norn_sonata_spikes_free(norn_sonata_spikes *pops, uint32_t n_pops)
{
    if (pops == NULL)
        return;
    for (uint32_t k = 0; k < n_pops; k++) {
        norn_free(pops[k].name);
        norn_free(pops[k].time_ms);
        norn_free(pops[k].node_id);
    }
    norn_free(pops);
}

/* 1 if the HDF5 signature is at offset 0, 512, 1024, ... (a user block). */
static int has_signature(const char *path, off_t size)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    int found = 0;
    for (off_t at = 0; !found && at + 8 <= size; at = at ? at * 2 : 512) {
        unsigned char b[8];
        if (fseeko(f, at, SEEK_SET) != 0 || fread(b, 1, 8, f) != 8)
            break;
        found = memcmp(b, sig, 8) == 0;
    }
    fclose(f);
    return found;
}

/* Reads a string attribute (variable or fixed length) into buf; 1 if read,
 * 0 if it is not a string, -1 on HDF5 failure. */
static int read_str_attr(hid_t a, char *buf, size_t cap)
{
    hid_t t = H5Aget_type(a);
    if (t < 0)
        return -1;
    int rc = 0;
    if (H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            char *s = NULL;
            if (mt >= 0 && H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Tset_cset(mt, H5Tget_cset(t)) >= 0 &&
                H5Aread(a, mt, &s) >= 0) {
                snprintf(buf, cap, "%s", s ? s : "");
                H5free_memory(s);
                rc = 1;
            } else {
                rc = -1;
            }
            if (mt >= 0)
                H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(t);
            char *s = norn_malloc(n + 1);
            if (s && H5Aread(a, t, s) >= 0) {
                s[n] = 0;
                snprintf(buf, cap, "%s", s);
                rc = 1;
            } else {
                rc = -1;
            }
            norn_free(s);
        }
    }
    H5Tclose(t);
    return rc;
}

typedef struct {
    const char *path;
    char where[WHERE_CAP];
    norn_err *err;
} rctx;

static const char *at(rctx *c, const char *obj)
{
    snprintf(c->where, sizeof c->where, "%s:%s", c->path, obj);
    return c->where;
}

/* Reads "sorting" of group g (absent, enum or string). */
static norn_status read_sorting(rctx *c, hid_t g, const char *gpath, norn_sonata_sorting *out)
{
    *out = NORN_SONATA_SORT_ABSENT;
    htri_t ex = H5Aexists(g, "sorting");
    if (ex <= 0)
        return NORN_OK;
    hid_t a = H5Aopen(g, "sorting", H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1, mt = -1;
    norn_status st = NORN_OK;
    char r[256], s[64];
    if (t < 0) {
        st = NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath), "attribute sorting: unreadable: %s", norn_h5_reason(r));
    } else if (H5Tget_class(t) == H5T_ENUM) {
        int8_t v = -1;
        if ((mt = sorting_type()) < 0 || H5Aread(a, mt, &v) < 0)
            st = NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath),
                           "attribute sorting: an enum with values other than none, by_id, by_time%s%s",
                           *norn_h5_reason(r) ? ": HDF5: " : "", r);
        else
            *out = (norn_sonata_sorting)v;
    } else if (read_str_attr(a, s, sizeof s) == 1) {
        if (strcmp(s, "none") == 0)
            *out = NORN_SONATA_SORT_NONE;
        else if (strcmp(s, "by_id") == 0)
            *out = NORN_SONATA_SORT_BY_ID;
        else if (strcmp(s, "by_time") == 0)
            *out = NORN_SONATA_SORT_BY_TIME;
        else
            st = NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath),
                           "attribute sorting: '%s'; expected none, by_id or by_time", s);
    } else {
        st = NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath), "attribute sorting: expected an enum or a string");
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

/* Opens g/name as a 1-D dataset of class cls; *n its length. */
static norn_status open_1d(rctx *c, hid_t g, const char *gpath, const char *name, H5T_class_t cls, hid_t *out,
                           uint64_t *n, int *is_signed)
{
    char obj[4200], r[256];
    snprintf(obj, sizeof obj, "%s/%s", gpath, name);
    htri_t ex = H5Lexists(g, name, H5P_DEFAULT);
    if (ex <= 0)
        return NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath), "missing dataset '%s'", name);
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0)
        return NORN_FAIL(c->err, NORN_EPARSE, at(c, obj), "not a readable dataset: %s", norn_h5_reason(r));
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    norn_status st = NORN_OK;
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[1] = {0};
    if (t < 0 || sp < 0 || nd < 0) {
        st = NORN_FAIL(c->err, NORN_EPARSE, at(c, obj), "unreadable: %s", norn_h5_reason(r));
    } else if (H5Tget_class(t) != cls) {
        st = NORN_FAIL(c->err, NORN_EPARSE, at(c, obj), "expected %s values",
                       cls == H5T_FLOAT ? "floating-point (float64)" : "integer (uint64)");
    } else if (nd != 1) {
        st = NORN_FAIL(c->err, NORN_EPARSE, at(c, obj), "expected a 1-D dataset, got %d dimensions", nd);
    } else {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        if (dims[0] > SIZE_MAX / 8)
            st = NORN_FAIL(c->err, NORN_EPARSE, at(c, obj), "absurd length %llu", (unsigned long long)dims[0]);
        *n = dims[0];
        if (is_signed)
            *is_signed = H5Tget_sign(t) == H5T_SGN_2;
    }
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    if (st != NORN_OK) {
        H5Dclose(d);
        return st;
    }
    *out = d;
    return NORN_OK;
}

static norn_status read_pop(rctx *c, hid_t spikes, const char *name, norn_sonata_spikes *p)
{
    char gpath[4200], r[256];
    snprintf(gpath, sizeof gpath, "/spikes/%s", name);
    hid_t o = H5Oopen(spikes, name, H5P_DEFAULT);
    if (o < 0)
        return NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath), "unreadable: %s", norn_h5_reason(r));
    if (H5Iget_type(o) != H5I_GROUP) {
        H5Oclose(o);
        return NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath),
                         "expected a population group /spikes/<population> with timestamps and node_ids%s",
                         strcmp(name, "timestamps") == 0 || strcmp(name, "gids") == 0 || strcmp(name, "node_ids") == 0
                             ? " (an old-style file without populations?)"
                             : "");
    }
    hid_t g = o, dt = -1, dn = -1;
    uint64_t nt = 0, nn = 0;
    int sgn = 0;
    norn_status st;
    if ((st = read_sorting(c, g, gpath, &p->sorting)) != NORN_OK ||
        (st = open_1d(c, g, gpath, "timestamps", H5T_FLOAT, &dt, &nt, NULL)) != NORN_OK ||
        (st = open_1d(c, g, gpath, "node_ids", H5T_INTEGER, &dn, &nn, &sgn)) != NORN_OK)
        goto done;
    if (nt != nn) {
        st = NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath), "timestamps has %llu values but node_ids %llu",
                       (unsigned long long)nt, (unsigned long long)nn);
        goto done;
    }
    if (H5Aexists(dt, "units") > 0) {
        hid_t a = H5Aopen(dt, "units", H5P_DEFAULT);
        if (a < 0 || read_str_attr(a, p->units, sizeof p->units) != 1) {
            snprintf(gpath + strlen(gpath), sizeof gpath - strlen(gpath), "/timestamps");
            st = NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath), "attribute units: expected a string");
        }
        if (a >= 0)
            H5Aclose(a);
        H5Eclear2(H5E_DEFAULT);
        if (st != NORN_OK)
            goto done;
    }
    p->n = nt;
    p->time_ms = norn_malloc_n(nt ? nt : 1, sizeof(double));
    p->node_id = norn_malloc_n(nt ? nt : 1, sizeof(uint64_t));
    if (p->time_ms == NULL || p->node_id == NULL) {
        st = NORN_FAIL(c->err, NORN_ENOMEM, at(c, gpath), "out of memory for %llu spikes", (unsigned long long)nt);
        goto done;
    }
    if (nt && H5Dread(dt, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->time_ms) < 0) {
        snprintf(gpath + strlen(gpath), sizeof gpath - strlen(gpath), "/timestamps");
        st = NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath), "cannot read the data (damaged file?): %s", norn_h5_reason(r));
        goto done;
    }
    if (nt && H5Dread(dn, sgn ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->node_id) < 0) {
        snprintf(gpath + strlen(gpath), sizeof gpath - strlen(gpath), "/node_ids");
        st = NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath), "cannot read the data (damaged file?): %s", norn_h5_reason(r));
        goto done;
    }
    for (uint64_t i = 0; sgn && i < nt; i++)
        if ((int64_t)p->node_id[i] < 0) {
            snprintf(gpath + strlen(gpath), sizeof gpath - strlen(gpath), "/node_ids");
            st = NORN_FAIL(c->err, NORN_EPARSE, at(c, gpath), "value %llu: negative node id %lld",
                           (unsigned long long)i, (long long)(int64_t)p->node_id[i]);
            goto done;
        }
done:
    if (dt >= 0)
        H5Dclose(dt);
    if (dn >= 0)
        H5Dclose(dn);
    H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

norn_status norn_sonata_read_spikes(const char *path, norn_sonata_spikes **out, uint32_t *n_pops, norn_err *err)
{
    struct stat sb;
    char r[256];
    if (stat(path, &sb) != 0)
        return NORN_FAIL(err, NORN_EIO, path, "cannot open: %s", strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return NORN_FAIL(err, NORN_EIO, path, "not a regular file");
    if (access(path, R_OK) != 0)
        return NORN_FAIL(err, NORN_EIO, path, "cannot open: %s", strerror(errno));
    if (!has_signature(path, sb.st_size))
        return NORN_FAIL(err, NORN_EPARSE, path, "not an HDF5 file (no HDF5 signature)");
    norn_h5_quiet();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return NORN_FAIL(err, NORN_EPARSE, path, "truncated or damaged HDF5 file: %s", norn_h5_reason(r));
    rctx c = {.path = path, .err = err};
    norn_status st = NORN_OK;
    hid_t spikes = -1;
    norn_sonata_spikes *pops = NULL;
    uint32_t np = 0;
    if (H5Lexists(f, "spikes", H5P_DEFAULT) <= 0 || (spikes = H5Gopen2(f, "spikes", H5P_DEFAULT)) < 0) {
        H5Eclear2(H5E_DEFAULT);
        st = NORN_FAIL(err, NORN_EPARSE, path, "no /spikes group: not a SONATA spike file");
        goto done;
    }
    H5G_info_t gi;
    if (H5Gget_info(spikes, &gi) < 0) {
        st = NORN_FAIL(err, NORN_EPARSE, at(&c, "/spikes"), "unreadable: %s", norn_h5_reason(r));
        goto done;
    }
    if (gi.nlinks == 0) {
        st = NORN_FAIL(err, NORN_EPARSE, at(&c, "/spikes"), "no population in it");
        goto done;
    }
    if (gi.nlinks > UINT32_MAX / 2) {
        st = NORN_FAIL(err, NORN_EPARSE, at(&c, "/spikes"), "absurd number of populations");
        goto done;
    }
    H5_index_t idx = H5_INDEX_CRT_ORDER;
    {
        hid_t gcpl = H5Gget_create_plist(spikes);
        unsigned flags = 0;
        if (gcpl < 0 || H5Pget_link_creation_order(gcpl, &flags) < 0 || !(flags & H5P_CRT_ORDER_TRACKED))
            idx = H5_INDEX_NAME;
        if (gcpl >= 0)
            H5Pclose(gcpl);
        H5Eclear2(H5E_DEFAULT);
    }
    if ((pops = norn_calloc_n((size_t)gi.nlinks, sizeof *pops)) == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
        goto done;
    }
    for (hsize_t k = 0; k < gi.nlinks; k++) {
        ssize_t len = H5Lget_name_by_idx(spikes, ".", idx, H5_ITER_INC, k, NULL, 0, H5P_DEFAULT);
        if (len < 0) {
            st = NORN_FAIL(err, NORN_EPARSE, at(&c, "/spikes"), "cannot list populations: %s", norn_h5_reason(r));
            goto done;
        }
        char *name = norn_malloc((size_t)len + 1);
        if (name == NULL) {
            st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
            goto done;
        }
        H5Lget_name_by_idx(spikes, ".", idx, H5_ITER_INC, k, name, (size_t)len + 1, H5P_DEFAULT);
        pops[np].name = name;
        np++;
        if ((st = read_pop(&c, spikes, name, &pops[np - 1])) != NORN_OK)
            goto done;
    }
    *out = pops;
    *n_pops = np;
    pops = NULL;
done:
    norn_sonata_spikes_free(pops, np);
    if (spikes >= 0)
        H5Gclose(spikes);
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return st;
}
