/* io/nir.c - NIR graphs: read (libhdf5), map to populations and explicit
 * synapse lists, write as a norn description; see nir.h.
 *
 * Reading follows io/sonata.c: HDF5's own error printing is off, every
 * failure is turned into a norn_err naming the file, the node and the
 * dataset, with HDF5's innermost reason appended where it helps.
 *
 * Mapping pushes, for each source population, every source neuron's unit
 * vector through the linear nodes it reaches (in topological order of
 * that subgraph), into dense double accumulators with touched lists, so
 * the cost is the number of (source neuron, reached entry) pairs: a conv
 * layer costs its non-zero synapses, never a dense matrix.
 */
#include "io/nir.h"

#include "io/h5err.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"
#include "io/atomic.h"
#include "io/npy.h"

static const char *const kind_names[NORN_NIR_N_KINDS] = {
    "Input",     "Output",    "Affine", "Linear", "Scale", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d",
    "Flatten",   "Delay",     "Threshold", "I",   "IF",    "LI",     "LIF",    "CubaLI",    "CubaLIF"};

/* The datasets each type reads; '!' marks a required one. */
static const char *const kind_datasets[NORN_NIR_N_KINDS] = {
    "shape!",
    "shape",
    "weight! bias",
    "weight!",
    "scale!",
    "weight! bias stride padding dilation groups input_shape",
    "weight! bias stride padding dilation groups input_shape",
    "kernel_size! stride padding",
    "kernel_size! stride padding",
    "start_dim end_dim input_type",
    "delay!",
    "threshold!",
    "r!",
    "r! v_threshold! v_reset",
    "tau! r! v_leak!",
    "tau! r! v_leak! v_threshold! v_reset",
    "tau_syn! tau_mem! r! v_leak! w_in",
    "tau_syn! tau_mem! r! v_leak! v_threshold! v_reset w_in",
};

const char *norn_nir_kind_name(norn_nir_kind k) { return k >= 0 && k < NORN_NIR_N_KINDS ? kind_names[k] : "?"; }

static int is_neuron(norn_nir_kind k) { return k >= NORN_NIR_I; }
static int is_linear(norn_nir_kind k) { return k >= NORN_NIR_AFFINE && k <= NORN_NIR_DELAY; }
static int is_conv(norn_nir_kind k) { return k == NORN_NIR_CONV1D || k == NORN_NIR_CONV2D; }

const norn_nir_data *norn_nir_find(const norn_nir_node *nd, const char *name)
{
    for (uint32_t k = 0; k < nd->n_data; k++)
        if (strcmp(nd->data[k].name, name) == 0)
            return &nd->data[k];
    return NULL;
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = norn_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* "(1, 28, 28)" */
static const char *fmt_shape(char *buf, size_t cap, int ndim, const uint64_t *dim)
{
    size_t o = (size_t)snprintf(buf, cap, "(");
    for (int k = 0; k < ndim && o < cap; k++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%llu", k ? ", " : "", (unsigned long long)dim[k]);
    if (o < cap)
        snprintf(buf + o, cap - o, ndim == 1 ? ",)" : ")");
    return buf;
}

/* ------------------------------------------------------------------ */
/* HDF5                                                                 */


typedef struct {
    const char *path;
    norn_err *err;
} rd;

/* "node 'conv1' (Conv2d): " */
static const char *node_tag(char *buf, size_t cap, const char *key, const char *type)
{
    if (type)
        snprintf(buf, cap, "node '%s' (%s): ", key, type);
    else
        snprintf(buf, cap, "node '%s': ", key);
    return buf;
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

/* Every filter of dataset d must be available in this libhdf5. */
static norn_status check_filters(rd *c, hid_t d, const char *tag, const char *ds)
{
    hid_t pl = H5Dget_create_plist(d);
    if (pl < 0) {
        H5Eclear2(H5E_DEFAULT);
        return NORN_OK; /* reading will say what is wrong */
    }
    int nf = H5Pget_nfilters(pl);
    norn_status st = NORN_OK;
    for (int i = 0; i < nf && st == NORN_OK; i++) {
        unsigned flags = 0, cd[16], cfg = 0;
        size_t ncd = 16;
        char name[128] = "";
        H5Z_filter_t id = H5Pget_filter2(pl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, &cfg);
        if (id < 0 || H5Zfilter_avail(id) > 0)
            continue;
        if (id == 32000)
            st = NORN_FAIL(c->err, NORN_EINVAL, c->path,
                           "%s%s is compressed with lzf (HDF5 filter 32000), which only h5py provides; libhdf5 cannot "
                           "read it: write the file with compression='gzip' (NIR's default) or none",
                           tag, ds);
        else if (id == H5Z_FILTER_SZIP)
            st = NORN_FAIL(c->err, NORN_EINVAL, c->path,
                           "%s%s is compressed with szip, which this libhdf5 was built without: write the file "
                           "with compression='gzip' or none",
                           tag, ds);
        else
            st = NORN_FAIL(c->err, NORN_EINVAL, c->path,
                           "%s%s is compressed with HDF5 filter %d%s%s%s, which this libhdf5 lacks: write the file "
                           "with compression='gzip' or none",
                           tag, ds, (int)id, *name ? " (" : "", name, *name ? ")" : "");
    }
    H5Pclose(pl);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

/* Opens loc/name as a dataset; errors say what it is instead. */
static norn_status open_ds(rd *c, hid_t loc, const char *name, const char *tag, hid_t *out)
{
    char r[256];
    hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
    if (o < 0)
        return NORN_FAIL(c->err, NORN_EPARSE, c->path, "%s%s: cannot open: %s", tag, name, norn_h5_reason(r));
    if (H5Iget_type(o) != H5I_DATASET) {
        H5Oclose(o);
        return NORN_FAIL(c->err, NORN_EINVAL, c->path, "%s%s is a group, expected a dataset", tag, name);
    }
    *out = o;
    return NORN_OK;
}

/* A scalar (or one-element) string dataset, variable or fixed length. */
static norn_status read_string(rd *c, hid_t d, const char *tag, const char *ds, char **out)
{
    char r[256];
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d), mt = -1;
    norn_status st = NORN_OK;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (t < 0 || sp < 0 || n < 0) {
        st = NORN_FAIL(c->err, NORN_EPARSE, c->path, "%s%s: unreadable: %s", tag, ds, norn_h5_reason(r));
    } else if (H5Tget_class(t) != H5T_STRING) {
        st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "%s%s: expected a string", tag, ds);
    } else if (n != 1) {
        st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "%s%s: expected one string, got %lld", tag, ds, (long long)n);
    } else if ((st = check_filters(c, d, tag, ds)) != NORN_OK) {
    } else if (H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        if ((mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(t)) < 0 || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) < 0) {
            st = NORN_FAIL(c->err, NORN_EPARSE, c->path, "%s%s: cannot read (truncated or damaged file?): %s", tag,
                           ds, norn_h5_reason(r));
        } else {
            *out = dupstr(s ? s : "");
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &s);
            if (*out == NULL)
                st = NORN_FAIL(c->err, NORN_ENOMEM, c->path, "out of memory");
        }
    } else {
        size_t sz = H5Tget_size(t);
        char *s = norn_malloc(sz + 1);
        if (s == NULL) {
            st = NORN_FAIL(c->err, NORN_ENOMEM, c->path, "out of memory");
        } else if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) {
            norn_free(s);
            st = NORN_FAIL(c->err, NORN_EPARSE, c->path, "%s%s: cannot read (truncated or damaged file?): %s", tag,
                           ds, norn_h5_reason(r));
        } else {
            s[sz] = 0;
            *out = s;
        }
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

/* Any numeric dataset (integer, float, enum: h5py's bool) to double. */
static norn_status read_numbers(rd *c, hid_t d, const char *tag, norn_nir_data *out)
{
    char r[256];
    const char *ds = out->name;
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    norn_status st = NORN_OK;
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    hsize_t dims[H5S_MAX_RANK];
    unsigned char *raw = NULL;
    if (t < 0 || sp < 0 || nd < 0) {
        st = NORN_FAIL(c->err, NORN_EPARSE, c->path, "%s%s: unreadable: %s", tag, ds, norn_h5_reason(r));
        goto done;
    }
    if (H5Sget_simple_extent_type(sp) == H5S_NULL) {
        st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "%s%s: has no data (a null dataspace)", tag, ds);
        goto done;
    }
    if (nd > NORN_NIR_MAXDIM) {
        st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "%s%s has %d dimensions, at most %d are supported", tag, ds, nd,
                       NORN_NIR_MAXDIM);
        goto done;
    }
    if (cls != H5T_INTEGER && cls != H5T_FLOAT && cls != H5T_ENUM) {
        st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "%s%s: expected numbers, got %s", tag, ds,
                       cls == H5T_STRING ? "a string" : "a non-numeric HDF5 type");
        goto done;
    }
    H5Sget_simple_extent_dims(sp, dims, NULL);
    out->ndim = nd;
    out->n = 1;
    for (int k = 0; k < nd; k++) {
        out->dims[k] = dims[k];
        if (dims[k] && out->n > ((uint64_t)1 << 40) / dims[k]) {
            st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "%s%s: absurd size", tag, ds);
            goto done;
        }
        out->n *= dims[k];
    }
    if ((st = check_filters(c, d, tag, ds)) != NORN_OK)
        goto done;
    out->data = norn_malloc_n(out->n ? (size_t)out->n : 1, sizeof(double));
    if (out->data == NULL) {
        st = NORN_FAIL(c->err, NORN_ENOMEM, c->path, "%s%s: out of memory for %llu values", tag, ds,
                       (unsigned long long)out->n);
        goto done;
    }
    if (out->n == 0)
        goto done;
    if (cls != H5T_ENUM) {
        if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->data) < 0)
            st = NORN_FAIL(c->err, NORN_EPARSE, c->path, "%s%s: cannot read (truncated or damaged file?): %s", tag,
                           ds, norn_h5_reason(r));
        goto done;
    }
    /* an enum (h5py's bool: FALSE = 0, TRUE = 1 over int8): its raw values */
    hid_t base = H5Tget_super(t), nb = base >= 0 ? H5Tget_native_type(base, H5T_DIR_ASCEND) : -1;
    hid_t mt = base >= 0 ? H5Tget_native_type(t, H5T_DIR_ASCEND) : -1;
    size_t sz = nb >= 0 ? H5Tget_size(nb) : 0;
    int sgn = nb >= 0 && H5Tget_sign(nb) == H5T_SGN_2;
    raw = (sz == 1 || sz == 2 || sz == 4 || sz == 8) ? norn_malloc_n((size_t)out->n, sz) : NULL;
    if (raw == NULL || mt < 0 || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
        st = NORN_FAIL(c->err, NORN_EPARSE, c->path, "%s%s: cannot read the enum (bool) values: %s", tag, ds,
                       norn_h5_reason(r));
    } else {
        for (uint64_t i = 0; i < out->n; i++) {
            const unsigned char *p = raw + i * sz;
            int64_t sv = 0;
            uint64_t uv = 0;
            switch (sz) {
            case 1: sv = (int8_t)p[0], uv = p[0]; break;
            case 2: { int16_t a; uint16_t b; memcpy(&a, p, 2); memcpy(&b, p, 2); sv = a; uv = b; break; }
            case 4: { int32_t a; uint32_t b; memcpy(&a, p, 4); memcpy(&b, p, 4); sv = a; uv = b; break; }
            default: { memcpy(&sv, p, 8); memcpy(&uv, p, 8); break; }
            }
            out->data[i] = sgn ? (double)sv : (double)uv;
        }
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (nb >= 0)
        H5Tclose(nb);
    if (base >= 0)
        H5Tclose(base);
done:
    norn_free(raw);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

/* Reads dataset loc/name into out (a string for `padding` when it is one). */
static norn_status read_dataset(rd *c, hid_t loc, const char *name, const char *tag, norn_nir_data *out)
{
    hid_t d;
    norn_status st = open_ds(c, loc, name, tag, &d);
    if (st != NORN_OK)
        return st;
    memset(out, 0, sizeof *out);
    out->name = dupstr(name);
    if (out->name == NULL) {
        H5Dclose(d);
        return NORN_FAIL(c->err, NORN_ENOMEM, c->path, "out of memory");
    }
    hid_t t = H5Dget_type(d);
    int is_str = t >= 0 && H5Tget_class(t) == H5T_STRING;
    if (t >= 0)
        H5Tclose(t);
    if (is_str)
        st = read_string(c, d, tag, name, &out->str);
    else
        st = read_numbers(c, d, tag, out);
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

static void data_free(norn_nir_data *x)
{
    norn_free(x->name);
    norn_free(x->data);
    norn_free(x->str);
}

/* ------------------------------------------------------------------ */
/* Nodes and edges                                                      */

static void node_free(norn_nir_node *nd)
{
    norn_free(nd->key);
    for (uint32_t k = 0; nd->data && k < nd->n_data; k++)
        data_free(&nd->data[k]);
    norn_free(nd->data);
    norn_free(nd->pred);
    norn_free(nd->succ);
}

void norn_nir_graph_free(norn_nir_graph *g)
{
    if (g == NULL)
        return;
    for (uint32_t k = 0; g->nodes && k < g->n_nodes; k++)
        node_free(&g->nodes[k]);
    norn_free(g->nodes);
    norn_free(g->edges);
    norn_free(g->path);
    norn_free(g->version);
    norn_free(g);
}

static const char *supported_list(char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = 0;
    for (int k = 0; k < NORN_NIR_N_KINDS && o < cap; k++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", k ? ", " : "", kind_names[k]);
    return buf;
}

static norn_status read_node(rd *c, hid_t nodes, const char *key, norn_nir_node *nd)
{
    char tag[512], r[256], *type = NULL;
    node_tag(tag, sizeof tag, key, NULL);
    hid_t g = H5Oopen(nodes, key, H5P_DEFAULT);
    if (g < 0)
        return NORN_FAIL(c->err, NORN_EPARSE, c->path, "%scannot open: %s", tag, norn_h5_reason(r));
    norn_status st = NORN_OK;
    if (H5Iget_type(g) != H5I_GROUP) {
        st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "%sis a dataset, expected a group with a type", tag);
        goto done;
    }
    if (H5Lexists(g, "type", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "%smissing dataset 'type'", tag);
        goto done;
    }
    hid_t td;
    if ((st = open_ds(c, g, "type", tag, &td)) != NORN_OK)
        goto done;
    st = read_string(c, td, tag, "type", &type);
    H5Dclose(td);
    if (st != NORN_OK)
        goto done;
    int kind = 0;
    while (kind < NORN_NIR_N_KINDS && strcmp(kind_names[kind], type) != 0)
        kind++;
    if (kind == NORN_NIR_N_KINDS) {
        char list[400];
        if (strcmp(type, "NIRGraph") == 0)
            st = NORN_FAIL(c->err, NORN_EINVAL, c->path,
                           "node '%s' is a nested NIRGraph, which norn does not import (flatten the graph: "
                           "one NIRGraph whose nodes are all primitives)",
                           key);
        else
            st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "node '%s' has type '%s', not supported (supported: %s)",
                           key, type, supported_list(list, sizeof list));
        goto done;
    }
    nd->kind = (norn_nir_kind)kind;
    node_tag(tag, sizeof tag, key, type);
    char names[200];
    snprintf(names, sizeof names, "%s", kind_datasets[kind]);
    uint32_t words = 1;
    for (const char *q = names; *q; q++)
        words += *q == ' ';
    nd->data = norn_calloc_n(words, sizeof *nd->data);
    if (nd->data == NULL) {
        st = NORN_FAIL(c->err, NORN_ENOMEM, c->path, "out of memory");
        goto done;
    }
    for (char *save = NULL, *w = strtok_r(names, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        size_t len = strlen(w);
        int req = w[len - 1] == '!';
        if (req)
            w[len - 1] = 0;
        if (H5Lexists(g, w, H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            if (req) {
                st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "%smissing dataset '%s'", tag, w);
                goto done;
            }
            continue;
        }
        if ((st = read_dataset(c, g, w, tag, &nd->data[nd->n_data])) != NORN_OK) {
            data_free(&nd->data[nd->n_data]);
            goto done;
        }
        nd->n_data++;
    }
done:
    norn_free(type);
    H5Oclose(g);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const norn_nir_node *)a)->key, ((const norn_nir_node *)b)->key);
}

static int32_t find_key(const norn_nir_graph *g, const char *key)
{
    norn_nir_node probe = {.key = (char *)key};
    const norn_nir_node *hit = bsearch(&probe, g->nodes, g->n_nodes, sizeof *g->nodes, cmp_key);
    return hit ? (int32_t)(hit - g->nodes) : -1;
}

/* /node/edges: (E, 2) strings; an empty numeric array means no edges. */
static norn_status read_edges(rd *c, hid_t graph, norn_nir_graph *g)
{
    char r[256], tag[] = "graph: ";
    if (H5Lexists(graph, "edges", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return NORN_FAIL(c->err, NORN_EINVAL, c->path, "graph: missing dataset /node/edges");
    }
    hid_t d;
    norn_status st = open_ds(c, graph, "edges", tag, &d);
    if (st != NORN_OK)
        return st;
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d), mt = -1;
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[H5S_MAX_RANK] = {0};
    char **s = NULL, *fixed = NULL;
    uint64_t n = 0;
    int vlen = 0;
    if (t < 0 || sp < 0 || nd < 0) {
        st = NORN_FAIL(c->err, NORN_EPARSE, c->path, "graph: edges: unreadable: %s", norn_h5_reason(r));
        goto done;
    }
    if (nd > 0)
        H5Sget_simple_extent_dims(sp, dims, NULL);
    if (H5Tget_class(t) != H5T_STRING) {
        if (H5Sget_simple_extent_npoints(sp) == 0)
            goto done; /* h5py's [] */
        st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "graph: edges: expected an (E, 2) array of node keys (strings)");
        goto done;
    }
    if (!(nd == 2 && dims[1] == 2) && !(nd == 1 && dims[0] == 0)) {
        char shp[128];
        uint64_t u[H5S_MAX_RANK];
        for (int k = 0; k < nd && k < H5S_MAX_RANK; k++)
            u[k] = dims[k];
        st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "graph: edges has shape %s, expected (E, 2)",
                       fmt_shape(shp, sizeof shp, nd, u));
        goto done;
    }
    n = nd == 2 ? dims[0] : 0;
    if (n == 0)
        goto done;
    if ((st = check_filters(c, d, tag, "edges")) != NORN_OK)
        goto done;
    vlen = H5Tis_variable_str(t) > 0;
    if (vlen) {
        s = norn_calloc_n((size_t)n * 2, sizeof *s);
        if (s == NULL || (mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(t)) < 0 || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) {
            st = NORN_FAIL(c->err, s ? NORN_EPARSE : NORN_ENOMEM, c->path,
                           "graph: edges: cannot read (truncated or damaged file?): %s", norn_h5_reason(r));
            goto done;
        }
    } else {
        size_t sz = H5Tget_size(t);
        fixed = norn_malloc_n((size_t)n * 2, sz);
        s = norn_calloc_n((size_t)n * 2, sizeof *s);
        if (fixed == NULL || s == NULL) {
            st = NORN_FAIL(c->err, NORN_ENOMEM, c->path, "out of memory");
            goto done;
        }
        char *buf = norn_malloc_n((size_t)n * 2, sz + 1);
        if (buf == NULL || H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed) < 0) {
            norn_free(buf);
            st = NORN_FAIL(c->err, NORN_EPARSE, c->path, "graph: edges: cannot read: %s", norn_h5_reason(r));
            goto done;
        }
        for (uint64_t k = 0; k < 2 * n; k++) {
            memcpy(buf + k * (sz + 1), fixed + k * sz, sz);
            buf[k * (sz + 1) + sz] = 0;
            s[k] = buf + k * (sz + 1);
        }
        norn_free(fixed);
        fixed = buf; /* freed below */
    }
    g->edges = norn_malloc_n((size_t)n, sizeof *g->edges);
    if (g->edges == NULL) {
        st = NORN_FAIL(c->err, NORN_ENOMEM, c->path, "out of memory");
        goto done;
    }
    for (uint64_t k = 0; k < n; k++) {
        for (int e = 0; e < 2; e++) {
            const char *key = s[2 * k + e] ? s[2 * k + e] : "";
            int32_t i = find_key(g, key);
            if (i < 0) {
                const char *dot = strchr(key, '.');
                st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "edge %llu ('%s' -> '%s'): no node '%s'%s",
                               (unsigned long long)k, s[2 * k] ? s[2 * k] : "", s[2 * k + 1] ? s[2 * k + 1] : "", key,
                               dot ? " (a key 'G.B' naming node B inside a nested graph G is not supported)" : "");
                goto done;
            }
            g->edges[k][e] = (uint32_t)i;
        }
        for (uint64_t j = 0; j < k; j++)
            if (g->edges[j][0] == g->edges[k][0] && g->edges[j][1] == g->edges[k][1]) {
                st = NORN_FAIL(c->err, NORN_EINVAL, c->path, "edge %llu ('%s' -> '%s') repeats edge %llu",
                               (unsigned long long)k, s[2 * k], s[2 * k + 1], (unsigned long long)j);
                goto done;
            }
    }
    g->n_edges = n;
done:
    if (s && vlen && mt >= 0)
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, s);
    norn_free(s);
    norn_free(fixed);
    if (mt >= 0)
        H5Tclose(mt);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    if (st != NORN_OK) {
        norn_free(g->edges);
        g->edges = NULL;
        g->n_edges = 0;
    }
    return st;
}

/* pred/succ lists from the edges, in edge order. */
static norn_status link_nodes(rd *c, norn_nir_graph *g)
{
    for (uint64_t k = 0; k < g->n_edges; k++) {
        g->nodes[g->edges[k][0]].n_succ++;
        g->nodes[g->edges[k][1]].n_pred++;
    }
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        norn_nir_node *nd = &g->nodes[i];
        nd->pred = norn_malloc_n(nd->n_pred ? nd->n_pred : 1, sizeof *nd->pred);
        nd->succ = norn_malloc_n(nd->n_succ ? nd->n_succ : 1, sizeof *nd->succ);
        if (!nd->pred || !nd->succ)
            return NORN_FAIL(c->err, NORN_ENOMEM, c->path, "out of memory");
        nd->n_pred = nd->n_succ = 0;
    }
    for (uint64_t k = 0; k < g->n_edges; k++) {
        norn_nir_node *a = &g->nodes[g->edges[k][0]], *b = &g->nodes[g->edges[k][1]];
        a->succ[a->n_succ++] = g->edges[k][1];
        b->pred[b->n_pred++] = g->edges[k][0];
    }
    return NORN_OK;
}

/* ------------------------------------------------------------------ */
/* Shapes                                                               */

/* x as `want` integers >= lo (a 0-d or one-element x is broadcast);
 * 0 and msg on failure. */
static int get_ints(const norn_nir_data *x, int want, int64_t lo, int64_t *out, char *msg, size_t cap)
{
    if (x->str) {
        snprintf(msg, cap, "%s: expected %s, got the string '%s'", x->name, want == 1 ? "an integer" : "integers",
                 x->str);
        return 0;
    }
    if (!(x->n == 1 || x->n == (uint64_t)want)) {
        snprintf(msg, cap, "%s has %llu values, expected %s%d", x->name, (unsigned long long)x->n,
                 want > 1 ? "1 or " : "", want);
        return 0;
    }
    for (int k = 0; k < want; k++) {
        double v = x->data[x->n == 1 ? 0 : k];
        if (!(v == floor(v)) || v < (double)lo || v > 1e12) {
            snprintf(msg, cap, "%s: %g is not an integer >= %lld", x->name, v, (long long)lo);
            return 0;
        }
        out[k] = (int64_t)v;
    }
    return 1;
}

/* n saturates at UINT64_MAX: a product that wrapped around could look
 * like a small (or an empty, "not known yet") shape. */
static void set_shape(norn_nir_shape *s, int ndim, const uint64_t *dim)
{
    s->ndim = ndim;
    s->n = 1;
    for (int k = 0; k < ndim; k++) {
        s->dim[k] = dim[k];
        s->n = dim[k] && s->n > UINT64_MAX / dim[k] ? UINT64_MAX : s->n * dim[k];
    }
}

/* One output axis of a conv or pool: floor((i + 2p - d(k - 1) - 1)/s) + 1.
 * i < 2^32 and p, d, s <= 1e12 (get_ints), but k is a dataset's dimension:
 * a dilated kernel longer than 2^62 covers any input, so the axis is empty
 * (and d (k - 1) would overflow). */
static int64_t axis_out(int64_t i, int64_t p, int64_t d, int64_t k, int64_t s)
{
    if (k - 1 > ((int64_t)1 << 62) / d)
        return 0;
    int64_t num = i + 2 * p - d * (k - 1) - 1;
    return num < 0 ? 0 : num / s + 1;
}

/* nd->out (and the conv/pool geometry) from nd->in. */
static norn_status node_out(rd *c, norn_nir_node *nd)
{
    char tag[512], msg[300], shp[200];
    node_tag(tag, sizeof tag, nd->key, kind_names[nd->kind]);
#define BAD(...) NORN_FAIL(c->err, NORN_EINVAL, c->path, __VA_ARGS__)
    const norn_nir_shape *in = &nd->in;
    fmt_shape(shp, sizeof shp, in->ndim, in->dim);
    switch (nd->kind) {
    case NORN_NIR_INPUT: {
        const norn_nir_data *s = norn_nir_find(nd, "shape");
        uint64_t dim[NORN_NIR_MAXDIM];
        if (s->str || s->ndim > 1 || s->n == 0 || s->n > NORN_NIR_MAXDIM)
            return BAD("%sshape: expected 1 to %d sizes (d,), got %s", tag, NORN_NIR_MAXDIM,
                       s->str ? "a string" : "another shape");
        for (uint64_t k = 0; k < s->n; k++) {
            if (!(s->data[k] >= 1 && s->data[k] == floor(s->data[k]) && s->data[k] < 4294967296.0))
                return BAD("%sshape: %g is not a size >= 1", tag, s->data[k]);
            dim[k] = (uint64_t)s->data[k];
        }
        set_shape(&nd->in, (int)s->n, dim);
        if (nd->in.n >= 4294967295.0)
            return BAD("%sshape %s: %llu neurons, more than norn's 2^32 - 1", tag,
                       fmt_shape(shp, sizeof shp, nd->in.ndim, nd->in.dim), (unsigned long long)nd->in.n);
        nd->out = nd->in;
        return NORN_OK;
    }
    case NORN_NIR_OUTPUT: {
        const norn_nir_data *s = norn_nir_find(nd, "shape");
        if (s && !s->str && s->n > 0) {
            double prod = 1;
            for (uint64_t k = 0; k < s->n; k++)
                prod *= s->data[k];
            if (prod != (double)in->n)
                return BAD("%sits input has %llu values %s, but its shape has %.0f", tag, (unsigned long long)in->n,
                           shp, prod);
        }
        nd->out = *in;
        return NORN_OK;
    }
    case NORN_NIR_AFFINE:
    case NORN_NIR_LINEAR: {
        const norn_nir_data *w = norn_nir_find(nd, "weight"), *b = norn_nir_find(nd, "bias");
        if (w->str || w->ndim != 2)
            return BAD("%sweight has %d dimensions, expected 2 (out, in)", tag, w->str ? 0 : w->ndim);
        if (w->dims[1] != in->n)
            return BAD("%sits input has %llu values %s, but weight is (%llu, %llu) = (out, in)", tag,
                       (unsigned long long)in->n, shp, (unsigned long long)w->dims[0],
                       (unsigned long long)w->dims[1]);
        if (b && (b->str || (b->n != w->dims[0] && b->n != 1)))
            return BAD("%sbias has %llu values, expected %llu (out)", tag, (unsigned long long)(b->str ? 0 : b->n),
                       (unsigned long long)w->dims[0]);
        set_shape(&nd->out, 1, &w->dims[0]);
        return NORN_OK;
    }
    case NORN_NIR_SCALE:
    case NORN_NIR_DELAY:
    case NORN_NIR_THRESHOLD:
    case NORN_NIR_I:
    case NORN_NIR_IF:
    case NORN_NIR_LI:
    case NORN_NIR_LIF:
    case NORN_NIR_CUBALI:
    case NORN_NIR_CUBALIF:
        for (uint32_t k = 0; k < nd->n_data; k++) {
            const norn_nir_data *x = &nd->data[k];
            if (x->str)
                return BAD("%s%s: expected numbers, got the string '%s'", tag, x->name, x->str);
            if (x->n != 1 && x->n != in->n) {
                char xs[200];
                return BAD("%s%s has shape %s (%llu values), but the node has %llu neurons %s", tag, x->name,
                           fmt_shape(xs, sizeof xs, x->ndim, x->dims), (unsigned long long)x->n,
                           (unsigned long long)in->n, shp);
            }
        }
        nd->out = *in;
        return NORN_OK;
    case NORN_NIR_FLATTEN: {
        const norn_nir_data *it = norn_nir_find(nd, "input_type"), *sd = norn_nir_find(nd, "start_dim"),
                            *ed = norn_nir_find(nd, "end_dim");
        if (it && !it->str && it->n > 0) {
            double prod = 1;
            for (uint64_t k = 0; k < it->n; k++)
                prod *= it->data[k];
            if (prod != (double)in->n)
                return BAD("%sinput_type has %.0f values, but its input has %llu %s", tag, prod,
                           (unsigned long long)in->n, shp);
        }
        int64_t s = 1, e = -1;
        if ((sd && !get_ints(sd, 1, INT32_MIN, &s, msg, sizeof msg)) ||
            (ed && !get_ints(ed, 1, INT32_MIN, &e, msg, sizeof msg)))
            return BAD("%s%s", tag, msg);
        int n = in->ndim;
        if (s < 0)
            s += n;
        if (e < 0)
            e += n;
        if (s < 0)
            s = 0;
        if (e >= n)
            e = n - 1;
        if (n == 0 || s > e) {
            nd->out = *in;
            return NORN_OK;
        }
        uint64_t dim[NORN_NIR_MAXDIM];
        int o = 0;
        for (int k = 0; k < s; k++)
            dim[o++] = in->dim[k];
        uint64_t m = 1;
        for (int k = (int)s; k <= e; k++)
            m *= in->dim[k];
        dim[o++] = m;
        for (int k = (int)e + 1; k < n; k++)
            dim[o++] = in->dim[k];
        set_shape(&nd->out, o, dim);
        return NORN_OK;
    }
    case NORN_NIR_CONV1D:
    case NORN_NIR_CONV2D: {
        int one = nd->kind == NORN_NIR_CONV1D, sdim = one ? 1 : 2, want = sdim + 2;
        const norn_nir_data *w = norn_nir_find(nd, "weight"), *b = norn_nir_find(nd, "bias");
        if (w->str || w->ndim != want)
            return BAD("%sweight has %d dimensions, expected %d (C_out, C_in/groups, %s)", tag, w->str ? 0 : w->ndim,
                       want, one ? "K" : "kH, kW");
        int64_t groups = 1, st[2] = {1, 1}, dl[2] = {1, 1}, pd[2] = {0, 0};
        const norn_nir_data *x;
        if ((x = norn_nir_find(nd, "groups")) && !get_ints(x, 1, 1, &groups, msg, sizeof msg))
            return BAD("%s%s", tag, msg);
        if ((x = norn_nir_find(nd, "stride")) && !get_ints(x, sdim, 1, st, msg, sizeof msg))
            return BAD("%s%s", tag, msg);
        if ((x = norn_nir_find(nd, "dilation")) && !get_ints(x, sdim, 1, dl, msg, sizeof msg))
            return BAD("%s%s", tag, msg);
        int same = 0;
        if ((x = norn_nir_find(nd, "padding")) && x->str) {
            if (strcmp(x->str, "same") == 0)
                same = 1;
            else if (strcmp(x->str, "valid") != 0)
                return BAD("%spadding: '%s'; expected an integer, a tuple, 'same' or 'valid'", tag, x->str);
        } else if (x && !get_ints(x, sdim, 0, pd, msg, sizeof msg)) {
            return BAD("%s%s", tag, msg);
        }
        uint64_t cout = w->dims[0], cin_g = w->dims[1];
        if (cout == 0 || cin_g == 0 || cout % (uint64_t)groups)
            return BAD("%sweight %s: C_out = %llu is not a positive multiple of groups = %lld", tag,
                       fmt_shape(msg, sizeof msg, w->ndim, w->dims), (unsigned long long)cout, (long long)groups);
        uint64_t cin = cin_g * (uint64_t)groups, ih[2] = {1, 0};
        if (in->ndim == sdim + 1 && in->dim[0] == cin) {
            for (int a = 0; a < sdim; a++)
                ih[2 - sdim + a] = in->dim[1 + a];
        } else {
            int64_t is[2] = {0, 0};
            const norn_nir_data *isd = norn_nir_find(nd, "input_shape");
            uint64_t area = isd && get_ints(isd, sdim, 1, is, msg, sizeof msg)
                                ? (uint64_t)is[0] * (sdim == 2 ? (uint64_t)is[1] : 1)
                                : 0;
            if (area && area * cin == in->n) {
                for (int a = 0; a < sdim; a++)
                    ih[2 - sdim + a] = (uint64_t)is[a];
            } else if (one && in->n % cin == 0 && in->n > 0) {
                ih[1] = in->n / cin;
            } else {
                return BAD("%sits input has shape %s, expected (C_in = %llu, %s)", tag, shp, (unsigned long long)cin,
                           one ? "N" : "H, W");
            }
        }
        nd->cin = cin;
        nd->cout = cout;
        nd->groups = (uint64_t)groups;
        nd->k[0] = one ? 1 : w->dims[2];
        nd->k[1] = w->dims[want - 1];
        for (int a = 0; a < 2; a++) {
            int t = one ? (a == 0 ? -1 : 0) : a; /* index into the tuples; -1: the dummy H axis of Conv1d */
            nd->s[a] = t < 0 ? 1 : (uint64_t)st[t];
            nd->d[a] = t < 0 ? 1 : (uint64_t)dl[t];
            nd->ih[a] = ih[a];
            if (same) {
                if (nd->s[a] != 1)
                    return BAD("%spadding 'same' needs stride 1 (as PyTorch), got %llu", tag,
                               (unsigned long long)nd->s[a]);
                if (nd->k[a] - 1 > ((uint64_t)1 << 62) / nd->d[a]) /* d (k - 1) would overflow */
                    return BAD("%spadding 'same': the dilated kernel (%llu x %llu) is longer than 2^62", tag,
                               (unsigned long long)nd->k[a], (unsigned long long)nd->d[a]);
                nd->p[a] = nd->d[a] * (nd->k[a] - 1) / 2;
                nd->oh[a] = ih[a];
            } else {
                nd->p[a] = t < 0 ? 0 : (uint64_t)pd[t];
                nd->oh[a] = (uint64_t)axis_out((int64_t)ih[a], (int64_t)nd->p[a], (int64_t)nd->d[a],
                                               (int64_t)nd->k[a], (int64_t)nd->s[a]);
            }
            if (nd->oh[a] == 0)
                return BAD("%sits input %s is smaller than the dilated kernel: the output would be empty", tag, shp);
        }
        if (b && (b->str || (b->n != cout && b->n != 1)))
            return BAD("%sbias has %llu values, expected %llu (C_out)", tag, (unsigned long long)(b->str ? 0 : b->n),
                       (unsigned long long)cout);
        uint64_t dim[3] = {cout, nd->oh[0], nd->oh[1]};
        if (one) {
            dim[1] = nd->oh[1];
            set_shape(&nd->out, 2, dim);
        } else {
            set_shape(&nd->out, 3, dim);
        }
        return NORN_OK;
    }
    case NORN_NIR_SUMPOOL2D:
    case NORN_NIR_AVGPOOL2D: {
        if (in->ndim != 3)
            return BAD("%sits input has shape %s, expected (C, H, W)", tag, shp);
        int64_t ks[2], st[2], pd[2] = {0, 0};
        const norn_nir_data *x = norn_nir_find(nd, "kernel_size");
        if (!get_ints(x, 2, 1, ks, msg, sizeof msg))
            return BAD("%s%s", tag, msg);
        st[0] = ks[0], st[1] = ks[1];
        if ((x = norn_nir_find(nd, "stride")) && !get_ints(x, 2, 1, st, msg, sizeof msg))
            return BAD("%s%s", tag, msg);
        if ((x = norn_nir_find(nd, "padding")) && !get_ints(x, 2, 0, pd, msg, sizeof msg))
            return BAD("%s%s", tag, msg);
        nd->cin = nd->cout = in->dim[0];
        nd->groups = in->dim[0];
        for (int a = 0; a < 2; a++) {
            nd->k[a] = (uint64_t)ks[a];
            nd->s[a] = (uint64_t)st[a];
            nd->d[a] = 1;
            nd->p[a] = (uint64_t)pd[a];
            nd->ih[a] = in->dim[1 + a];
            nd->oh[a] = (uint64_t)axis_out((int64_t)nd->ih[a], pd[a], 1, ks[a], st[a]);
            if (nd->oh[a] == 0)
                return BAD("%sits input %s is smaller than the kernel: the output would be empty", tag, shp);
        }
        nd->pool_scale = nd->kind == NORN_NIR_AVGPOOL2D ? 1.0 / (double)(nd->k[0] * nd->k[1]) : 1.0;
        uint64_t dim[3] = {in->dim[0], nd->oh[0], nd->oh[1]};
        set_shape(&nd->out, 3, dim);
        return NORN_OK;
    }
    default: break;
    }
#undef BAD
    return NORN_FAIL(c->err, NORN_EINVAL, c->path, "%sunknown node kind", tag);
}

/* Shapes forward from the Inputs: a node takes the shape of its first
 * predecessor (in edge order) whose shape is known; a neuron node that no
 * known shape reaches (a recurrent loop's entry) takes its parameters'. */
/* node_out, then the limits every later step relies on: a shape that is
 * not empty (0 means "not known yet" below) and fits norn's uint32 ids. */
static norn_status shape_node(rd *c, norn_nir_node *nd)
{
    norn_status st = node_out(c, nd);
    if (st != NORN_OK)
        return st;
    char tag[512], shp[200];
    node_tag(tag, sizeof tag, nd->key, kind_names[nd->kind]);
    fmt_shape(shp, sizeof shp, nd->out.ndim, nd->out.dim);
    if (nd->out.n == 0)
        return NORN_FAIL(c->err, NORN_EINVAL, c->path, "%sits output %s would be empty", tag, shp);
    if (nd->out.n == UINT64_MAX)
        return NORN_FAIL(c->err, NORN_EINVAL, c->path,
                         "%sits output %s has 2^64 or more values, more than norn's 2^32 - 1 neurons", tag, shp);
    if (nd->out.n >= 4294967295ULL)
        return NORN_FAIL(c->err, NORN_EINVAL, c->path, "%sits output %s has %llu values, more than norn's 2^32 - 1 neurons",
                         tag, shp, (unsigned long long)nd->out.n);
    return NORN_OK;
}

static norn_status infer_shapes(rd *c, norn_nir_graph *g)
{
    char tag[512];
    norn_status st;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        norn_nir_node *nd = &g->nodes[i];
        node_tag(tag, sizeof tag, nd->key, kind_names[nd->kind]);
        if (nd->kind == NORN_NIR_INPUT && nd->n_pred)
            return NORN_FAIL(c->err, NORN_EINVAL, c->path, "%shas an incoming edge (from '%s')", tag,
                             g->nodes[nd->pred[0]].key);
        if (nd->kind == NORN_NIR_OUTPUT && nd->n_succ)
            return NORN_FAIL(c->err, NORN_EINVAL, c->path, "%shas an outgoing edge (to '%s')", tag,
                             g->nodes[nd->succ[0]].key);
        if (nd->kind == NORN_NIR_INPUT && (st = shape_node(c, nd)) != NORN_OK)
            return st;
    }
    for (int fallback = 0; fallback < 2; fallback++) {
        for (int changed = 1; changed;) {
            changed = 0;
            for (uint32_t i = 0; i < g->n_nodes; i++) {
                norn_nir_node *nd = &g->nodes[i];
                if (nd->out.n)
                    continue;
                for (uint32_t p = 0; p < nd->n_pred && !nd->in.n; p++)
                    if (g->nodes[nd->pred[p]].out.n)
                        nd->in = g->nodes[nd->pred[p]].out;
                if (!nd->in.n)
                    continue;
                if ((st = shape_node(c, nd)) != NORN_OK)
                    return st;
                changed = 1;
            }
        }
        if (fallback)
            break;
        /* neuron nodes not reached: their parameters' shape */
        for (uint32_t i = 0; i < g->n_nodes; i++) {
            norn_nir_node *nd = &g->nodes[i];
            if (nd->out.n || !is_neuron(nd->kind))
                continue;
            for (uint32_t k = 0; k < nd->n_data && !nd->in.n; k++)
                if (!nd->data[k].str && nd->data[k].n > 1)
                    set_shape(&nd->in, nd->data[k].ndim, nd->data[k].dims);
            if (nd->in.n && (st = shape_node(c, nd)) != NORN_OK)
                return st;
        }
    }
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        norn_nir_node *nd = &g->nodes[i];
        node_tag(tag, sizeof tag, nd->key, kind_names[nd->kind]);
        if (!nd->out.n)
            return NORN_FAIL(c->err, NORN_EINVAL, c->path,
                             "%scannot infer its shape: no Input reaches it%s", tag,
                             is_neuron(nd->kind) ? " and its parameters are scalars" : "");
        for (uint32_t p = 0; p < nd->n_pred; p++) {
            const norn_nir_node *q = &g->nodes[nd->pred[p]];
            if (q->out.n != nd->in.n) {
                char a[200], b[200];
                return NORN_FAIL(c->err, NORN_EINVAL, c->path,
                                 "%sits inputs do not match: '%s' gives %s (%llu values), it takes %s (%llu)", tag,
                                 q->key, fmt_shape(a, sizeof a, q->out.ndim, q->out.dim),
                                 (unsigned long long)q->out.n, fmt_shape(b, sizeof b, nd->in.ndim, nd->in.dim),
                                 (unsigned long long)nd->in.n);
            }
        }
        if (nd->out.n >= 4294967295ULL)
            return NORN_FAIL(c->err, NORN_EINVAL, c->path, "%s%llu values: more than norn's 2^32 - 1 neurons", tag,
                             (unsigned long long)nd->out.n);
    }
    return NORN_OK;
}

norn_status norn_nir_read(const char *path, norn_nir_graph **out, norn_err *err)
{
    struct stat sb;
    char r[256];
    if (path == NULL || !*path)
        return NORN_FAIL(err, NORN_EINVAL, "nir", "no file given");
    if (stat(path, &sb) != 0)
        return NORN_FAIL(err, NORN_EIO, path, "cannot open: %s", strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return NORN_FAIL(err, NORN_EIO, path, "not a regular file");
    if (access(path, R_OK) != 0)
        return NORN_FAIL(err, NORN_EIO, path, "cannot open: %s", strerror(errno));
    if (!has_signature(path, sb.st_size))
        return NORN_FAIL(err, NORN_EPARSE, path, "not an HDF5 file (no HDF5 signature): a NIR file is HDF5");
    norn_h5_quiet();
    rd c = {.path = path, .err = err};
    norn_status st = NORN_OK;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), graph = -1, nodes = -1;
    if (f < 0)
        return NORN_FAIL(err, NORN_EPARSE, path, "truncated or damaged HDF5 file: %s", norn_h5_reason(r));
    norn_nir_graph *g = norn_calloc_n(1, sizeof *g);
    if (g == NULL || (g->path = dupstr(path)) == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
        goto done;
    }
    if (H5Lexists(f, "version", H5P_DEFAULT) > 0) {
        hid_t d;
        if ((st = open_ds(&c, f, "version", "", &d)) != NORN_OK)
            goto done;
        st = read_string(&c, d, "", "/version", &g->version);
        H5Dclose(d);
        if (st != NORN_OK)
            goto done;
    } else if ((g->version = dupstr("")) == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
        goto done;
    }
    H5Eclear2(H5E_DEFAULT);
    if (H5Lexists(f, "node", H5P_DEFAULT) <= 0 || (graph = H5Gopen2(f, "node", H5P_DEFAULT)) < 0) {
        H5Eclear2(H5E_DEFAULT);
        st = NORN_FAIL(err, NORN_EINVAL, path, "no /node group: not a NIR file");
        goto done;
    }
    if (H5Lexists(graph, "type", H5P_DEFAULT) > 0) {
        hid_t d;
        char *type = NULL;
        if ((st = open_ds(&c, graph, "type", "graph: ", &d)) != NORN_OK)
            goto done;
        st = read_string(&c, d, "graph: ", "type", &type);
        H5Dclose(d);
        if (st == NORN_OK && strcmp(type, "NIRGraph") != 0)
            st = NORN_FAIL(err, NORN_EINVAL, path, "the top node /node is a '%s', expected a NIRGraph", type);
        norn_free(type);
        if (st != NORN_OK)
            goto done;
    }
    H5Eclear2(H5E_DEFAULT);
    if (H5Lexists(graph, "nodes", H5P_DEFAULT) <= 0 || (nodes = H5Gopen2(graph, "nodes", H5P_DEFAULT)) < 0) {
        H5Eclear2(H5E_DEFAULT);
        st = NORN_FAIL(err, NORN_EINVAL, path, "graph: no /node/nodes group");
        goto done;
    }
    H5G_info_t gi;
    if (H5Gget_info(nodes, &gi) < 0) {
        st = NORN_FAIL(err, NORN_EPARSE, path, "graph: /node/nodes unreadable: %s", norn_h5_reason(r));
        goto done;
    }
    if (gi.nlinks == 0) {
        st = NORN_FAIL(err, NORN_EINVAL, path, "graph: no nodes");
        goto done;
    }
    if (gi.nlinks > UINT32_MAX / 4) {
        st = NORN_FAIL(err, NORN_EINVAL, path, "graph: absurd number of nodes");
        goto done;
    }
    g->nodes = norn_calloc_n((size_t)gi.nlinks, sizeof *g->nodes);
    if (g->nodes == NULL) {
        st = NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
        goto done;
    }
    for (hsize_t k = 0; k < gi.nlinks; k++) {
        ssize_t len = H5Lget_name_by_idx(nodes, ".", H5_INDEX_NAME, H5_ITER_INC, k, NULL, 0, H5P_DEFAULT);
        char *key = len >= 0 ? norn_malloc((size_t)len + 1) : NULL;
        if (key == NULL) {
            st = len < 0 ? NORN_FAIL(err, NORN_EPARSE, path, "graph: cannot list the nodes: %s", norn_h5_reason(r))
                         : NORN_FAIL(err, NORN_ENOMEM, path, "out of memory");
            goto done;
        }
        H5Lget_name_by_idx(nodes, ".", H5_INDEX_NAME, H5_ITER_INC, k, key, (size_t)len + 1, H5P_DEFAULT);
        g->nodes[g->n_nodes].key = key;
        g->n_nodes++;
        if ((st = read_node(&c, nodes, key, &g->nodes[g->n_nodes - 1])) != NORN_OK)
            goto done;
    }
    qsort(g->nodes, g->n_nodes, sizeof *g->nodes, cmp_key);
    if ((st = read_edges(&c, graph, g)) != NORN_OK || (st = link_nodes(&c, g)) != NORN_OK ||
        (st = infer_shapes(&c, g)) != NORN_OK)
        goto done;
    *out = g;
    g = NULL;
done:
    norn_nir_graph_free(g);
    if (nodes >= 0)
        H5Gclose(nodes);
    if (graph >= 0)
        H5Gclose(graph);
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return st;
}

/* ------------------------------------------------------------------ */
/* Mapping: populations                                                 */

typedef struct {
    const norn_nir_graph *g;
    norn_nir_options opt;
    norn_err *err;
    norn_nir_net *net;
    int32_t *pop_of;     /* [n_nodes] population index of a node, or -1 */
    double **scale;      /* [n_pops] r w_in per neuron, or NULL (all 1) */
    double **bias;       /* [n_pops] accumulated bias, or NULL */
} mapper;

#define MFAIL(m, code, ...) NORN_FAIL((m)->err, code, (m)->g->path, __VA_ARGS__)

static const char *ntag(const mapper *m, uint32_t node, char *buf, size_t cap)
{
    const norn_nir_node *nd = &m->g->nodes[node];
    return node_tag(buf, cap, nd->key, kind_names[nd->kind]);
}

/* The one value of parameter name over the node's neurons. */
static norn_status uniform(mapper *m, uint32_t node, const char *name, int has_def, double def, double *out)
{
    const norn_nir_node *nd = &m->g->nodes[node];
    const norn_nir_data *x = norn_nir_find(nd, name);
    char tag[512];
    ntag(m, node, tag, sizeof tag);
    if (x == NULL) {
        if (has_def) {
            *out = def;
            return NORN_OK;
        }
        return MFAIL(m, NORN_EINVAL, "%smissing dataset '%s'", tag, name);
    }
    if (x->n == 0)
        return MFAIL(m, NORN_EINVAL, "%s%s is empty", tag, name);
    for (uint64_t k = 0; k < x->n; k++) {
        if (!isfinite(x->data[k]))
            return MFAIL(m, NORN_EINVAL, "%s%s: value %llu is %g, not a finite number", tag, name,
                         (unsigned long long)k, x->data[k]);
        if (x->data[k] != x->data[0])
            return MFAIL(m, NORN_EINVAL,
                         "%s%s differs between neurons (%.9g at 0, %.9g at %llu); a norn population has one value per "
                         "parameter",
                         tag, name, x->data[0], x->data[k], (unsigned long long)k);
    }
    *out = x->data[0];
    return NORN_OK;
}

/* A Norse inverse time constant from a NIR tau (s or ms), float32. */
static norn_status inv_tau(mapper *m, uint32_t node, const char *name, float *out)
{
    double tau;
    char tag[512];
    norn_status st = uniform(m, node, name, 0, 0, &tau);
    if (st != NORN_OK)
        return st;
    if (!(tau > 0))
        return MFAIL(m, NORN_EINVAL, "%s%s must be > 0, got %g", ntag(m, node, tag, sizeof tag), name, tau);
    double inv = (m->opt.time_ms ? 1000.0 : 1.0) / tau;
    float f = (float)inv;
    if (!isfinite(f) || f == 0.0f)
        return MFAIL(m, NORN_EINVAL, "%s1/%s = %g 1/s does not fit in float32", ntag(m, node, tag, sizeof tag), name,
                     inv);
    *out = f;
    return NORN_OK;
}

static norn_status plain(mapper *m, uint32_t node, const char *name, int has_def, float *out)
{
    double x;
    char tag[512];
    norn_status st = uniform(m, node, name, has_def, 0.0, &x);
    if (st != NORN_OK)
        return st;
    if (fabs(x) > FLT_MAX)
        return MFAIL(m, NORN_EINVAL, "%s%s = %g does not fit in float32", ntag(m, node, tag, sizeof tag), name, x);
    *out = (float)x;
    return NORN_OK;
}

static void add_param(norn_nir_pop *p, const char *name, float v)
{
    p->param_name[p->n_params] = name;
    p->param[p->n_params++] = v;
}

/* Model, parameters and input scale r w_in of a neuron node. */
static norn_status neuron_pop(mapper *m, uint32_t node, norn_nir_pop *p, double **scale)
{
    const norn_nir_node *nd = &m->g->nodes[node];
    norn_status st = NORN_OK;
    float f;
    char tag[512];
    ntag(m, node, tag, sizeof tag);
    switch (nd->kind) {
    case NORN_NIR_INPUT:
        p->model = "input";
        p->spiking = 1;
        return NORN_OK;
    case NORN_NIR_CUBALIF:
    case NORN_NIR_CUBALI:
        p->model = nd->kind == NORN_NIR_CUBALIF ? "lif" : "li";
        if ((st = inv_tau(m, node, "tau_syn", &f)) != NORN_OK)
            return st;
        add_param(p, "tau_syn_inv", f);
        if ((st = inv_tau(m, node, "tau_mem", &f)) != NORN_OK)
            return st;
        add_param(p, "tau_mem_inv", f);
        if ((st = plain(m, node, "v_leak", 0, &f)) != NORN_OK)
            return st;
        add_param(p, "v_leak", f);
        break;
    case NORN_NIR_LIF:
    case NORN_NIR_LI:
        p->model = nd->kind == NORN_NIR_LIF ? "lif_box" : "li_box";
        if ((st = inv_tau(m, node, "tau", &f)) != NORN_OK)
            return st;
        add_param(p, "tau_mem_inv", f);
        if ((st = plain(m, node, "v_leak", 0, &f)) != NORN_OK)
            return st;
        add_param(p, "v_leak", f);
        break;
    case NORN_NIR_IF:
        p->model = "iaf";
        break;
    case NORN_NIR_I:
        p->model = "iaf";
        add_param(p, "v_th", FLT_MAX); /* never fires: v only integrates */
        add_param(p, "v_reset", 0.0f);
        break;
    case NORN_NIR_THRESHOLD:
        return MFAIL(m, NORN_EINVAL,
                     "%snot supported yet: euler mode has no stateless threshold unit (z = 1 where the input exceeds "
                     "the threshold, without a membrane)", tag);
    default: return MFAIL(m, NORN_EINVAL, "%sis not a neuron node", tag);
    }
    p->spiking = nd->kind == NORN_NIR_CUBALIF || nd->kind == NORN_NIR_LIF || nd->kind == NORN_NIR_IF;
    if (p->spiking) {
        if ((st = plain(m, node, "v_threshold", 0, &f)) != NORN_OK)
            return st;
        add_param(p, "v_th", f);
        if ((st = plain(m, node, "v_reset", 1, &f)) != NORN_OK)
            return st;
        add_param(p, "v_reset", f);
    }
    /* r (and w_in) scale the input, neuron by neuron */
    const norn_nir_data *r = norn_nir_find(nd, "r"), *w = NULL;
    if (nd->kind == NORN_NIR_CUBALIF || nd->kind == NORN_NIR_CUBALI)
        w = norn_nir_find(nd, "w_in");
    int ones = 1;
    for (uint64_t j = 0; j < p->size && ones; j++)
        ones = r->data[r->n == 1 ? 0 : j] == 1.0 && (!w || w->data[w->n == 1 ? 0 : j] == 1.0);
    if (ones)
        return NORN_OK;
    double *s = norn_malloc_n(p->size, sizeof *s);
    if (s == NULL)
        return MFAIL(m, NORN_ENOMEM, "out of memory");
    for (uint64_t j = 0; j < p->size; j++) {
        s[j] = r->data[r->n == 1 ? 0 : j] * (w ? w->data[w->n == 1 ? 0 : j] : 1.0);
        if (!isfinite(s[j])) {
            norn_free(s);
            return MFAIL(m, NORN_EINVAL, "%sr%s of neuron %llu is not finite", tag, w ? " * w_in" : "",
                         (unsigned long long)j);
        }
    }
    *scale = s;
    return NORN_OK;
}

/* A norn name (letters, digits, '_', '-', '.') from a key, unique among
 * the first n names. */
static char *make_name(const char *key, const char *suffix, char *const *taken, uint32_t n)
{
    char base[200], cand[220];
    size_t o = 0;
    for (const char *s = key; *s && o + 1 < sizeof base; s++)
        base[o++] = (isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '.') ? *s : '_';
    base[o] = 0;
    if (o == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "all") == 0)
        snprintf(base, sizeof base, "n_%s", key[0] ? "" : "node");
    for (int k = 1;; k++) {
        if (k == 1)
            snprintf(cand, sizeof cand, "%s%s", base, suffix);
        else
            snprintf(cand, sizeof cand, "%s%s_%d", base, suffix, k);
        uint32_t j = 0;
        while (j < n && strcmp(taken[j], cand) != 0)
            j++;
        if (j == n)
            return dupstr(cand);
    }
}

/* The populations reached from population node a through linear nodes. */
static norn_status pop_succs(mapper *m, uint32_t a, uint8_t *seen, uint32_t *stack, uint8_t *hit)
{
    const norn_nir_graph *g = m->g;
    uint32_t sp = 0;
    memset(seen, 0, g->n_nodes);
    memset(hit, 0, g->n_nodes);
    for (uint32_t k = 0; k < g->nodes[a].n_succ; k++)
        if (!seen[g->nodes[a].succ[k]])
            seen[stack[sp++] = g->nodes[a].succ[k]] = 1;
    while (sp) {
        uint32_t v = stack[--sp];
        if (g->nodes[v].kind == NORN_NIR_INPUT || is_neuron(g->nodes[v].kind)) {
            hit[v] = 1;
            continue;
        }
        if (!is_linear(g->nodes[v].kind))
            continue;
        for (uint32_t k = 0; k < g->nodes[v].n_succ; k++)
            if (!seen[g->nodes[v].succ[k]])
                seen[stack[sp++] = g->nodes[v].succ[k]] = 1;
    }
    return NORN_OK;
}

/* Simulation order: Inputs first, then topologically (Kahn), ties by key;
 * a cycle is broken at the smallest key with a placed predecessor. */
static norn_status order_pops(mapper *m, const uint32_t *cand, uint32_t n, uint32_t *order)
{
    const norn_nir_graph *g = m->g;
    uint32_t N = g->n_nodes;
    uint8_t *adj = norn_calloc_n(n ? (size_t)n * n : 1, 1), *seen = norn_malloc(N ? N : 1),
            *hit = norn_malloc(N ? N : 1), *placed = norn_calloc_n(n ? n : 1, 1);
    uint32_t *stack = norn_malloc_n(N ? N : 1, sizeof *stack), *indeg = norn_calloc_n(n ? n : 1, sizeof *indeg);
    int32_t *slot = norn_malloc_n(N ? N : 1, sizeof *slot);
    norn_status st = NORN_OK;
    if (!adj || !seen || !hit || !placed || !stack || !indeg || !slot) {
        st = MFAIL(m, NORN_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t v = 0; v < N; v++)
        slot[v] = -1;
    for (uint32_t i = 0; i < n; i++)
        slot[cand[i]] = (int32_t)i;
    for (uint32_t i = 0; i < n; i++) {
        pop_succs(m, cand[i], seen, stack, hit);
        for (uint32_t v = 0; v < N; v++)
            if (hit[v] && slot[v] >= 0 && (uint32_t)slot[v] != i && !adj[(size_t)i * n + (uint32_t)slot[v]]) {
                adj[(size_t)i * n + (uint32_t)slot[v]] = 1;
                indeg[slot[v]]++;
            }
    }
    for (uint32_t k = 0; k < n; k++) {
        int32_t pick = -1;
        for (int pass = 0; pass < 2 && pick < 0; pass++) /* Inputs, then the rest */
            for (uint32_t i = 0; i < n && pick < 0; i++)
                if (!placed[i] && !indeg[i] && (pass == 1 || g->nodes[cand[i]].kind == NORN_NIR_INPUT))
                    pick = (int32_t)i;
        for (uint32_t i = 0; i < n && pick < 0; i++) { /* a cycle: enter it where it is fed */
            if (placed[i])
                continue;
            for (uint32_t j = 0; j < n && pick < 0; j++)
                if (placed[j] && adj[(size_t)j * n + i])
                    pick = (int32_t)i;
        }
        for (uint32_t i = 0; i < n && pick < 0; i++)
            if (!placed[i])
                pick = (int32_t)i;
        placed[pick] = 1;
        order[k] = cand[pick];
        for (uint32_t j = 0; j < n; j++)
            if (adj[(size_t)pick * n + j] && indeg[j])
                indeg[j]--;
    }
done:
    norn_free(adj);
    norn_free(seen);
    norn_free(hit);
    norn_free(placed);
    norn_free(stack);
    norn_free(indeg);
    norn_free(slot);
    return st;
}

/* ------------------------------------------------------------------ */
/* Mapping: pushing vectors through linear nodes                        */

typedef struct {
    double *v;
    uint32_t *idx;
    uint8_t *on;
    uint64_t n, cnt;
} acc;

static int acc_init(acc *a, uint64_t n)
{
    a->n = n;
    a->cnt = 0;
    a->v = norn_calloc_n(n ? (size_t)n : 1, sizeof *a->v);
    a->idx = norn_malloc_n(n ? (size_t)n : 1, sizeof *a->idx);
    a->on = norn_calloc_n(n ? (size_t)n : 1, 1);
    return a->v && a->idx && a->on;
}

static void acc_free(acc *a)
{
    norn_free(a->v);
    norn_free(a->idx);
    norn_free(a->on);
    memset(a, 0, sizeof *a);
}

static inline void acc_add(acc *a, uint64_t j, double x)
{
    if (!a->on[j]) {
        a->on[j] = 1;
        a->idx[a->cnt++] = (uint32_t)j;
    }
    a->v[j] += x;
}

static void acc_clear(acc *a)
{
    for (uint64_t k = 0; k < a->cnt; k++) {
        a->v[a->idx[k]] = 0;
        a->on[a->idx[k]] = 0;
    }
    a->cnt = 0;
}

/* out += L(in) for linear node nd. */
static void apply(const norn_nir_node *nd, const acc *in, acc *out)
{
    for (uint64_t t = 0; t < in->cnt; t++) {
        uint32_t i = in->idx[t];
        double x = in->v[i];
        if (x == 0.0)
            continue;
        switch (nd->kind) {
        case NORN_NIR_AFFINE:
        case NORN_NIR_LINEAR: {
            const norn_nir_data *w = norn_nir_find(nd, "weight");
            uint64_t no = w->dims[0], ni = w->dims[1];
            for (uint64_t o = 0; o < no; o++) {
                double ww = w->data[o * ni + i];
                if (ww != 0.0)
                    acc_add(out, o, ww * x);
            }
            break;
        }
        case NORN_NIR_SCALE: {
            const norn_nir_data *s = norn_nir_find(nd, "scale");
            double ss = s->data[s->n == 1 ? 0 : i];
            if (ss != 0.0)
                acc_add(out, i, ss * x);
            break;
        }
        case NORN_NIR_FLATTEN:
        case NORN_NIR_DELAY: acc_add(out, i, x); break;
        case NORN_NIR_CONV1D:
        case NORN_NIR_CONV2D:
        case NORN_NIR_SUMPOOL2D:
        case NORN_NIR_AVGPOOL2D: {
            int conv = is_conv(nd->kind);
            const norn_nir_data *w = conv ? norn_nir_find(nd, "weight") : NULL;
            uint64_t plane = nd->ih[0] * nd->ih[1], c = i / plane, rem = i % plane;
            int64_t y = (int64_t)(rem / nd->ih[1]), xx = (int64_t)(rem % nd->ih[1]);
            uint64_t cin_g = nd->cin / nd->groups, cout_g = nd->cout / nd->groups;
            uint64_t grp = c / cin_g, ci = c % cin_g;
            uint64_t co0 = conv ? grp * cout_g : c, co1 = conv ? co0 + cout_g : c + 1;
            for (uint64_t ky = 0; ky < nd->k[0]; ky++) {
                int64_t ny = y + (int64_t)nd->p[0] - (int64_t)(ky * nd->d[0]);
                if (ny < 0 || ny % (int64_t)nd->s[0])
                    continue;
                uint64_t oy = (uint64_t)(ny / (int64_t)nd->s[0]);
                if (oy >= nd->oh[0])
                    continue;
                for (uint64_t kx = 0; kx < nd->k[1]; kx++) {
                    int64_t nx = xx + (int64_t)nd->p[1] - (int64_t)(kx * nd->d[1]);
                    if (nx < 0 || nx % (int64_t)nd->s[1])
                        continue;
                    uint64_t ox = (uint64_t)(nx / (int64_t)nd->s[1]);
                    if (ox >= nd->oh[1])
                        continue;
                    for (uint64_t co = co0; co < co1; co++) {
                        double ww = conv ? w->data[((co * cin_g + ci) * nd->k[0] + ky) * nd->k[1] + kx]
                                         : nd->pool_scale;
                        if (ww != 0.0)
                            acc_add(out, (co * nd->oh[0] + oy) * nd->oh[1] + ox, ww * x);
                    }
                }
            }
            break;
        }
        default: break;
        }
    }
}

/* The linear subgraph reached from a start node (a population, or a linear
 * node whose bias is pushed): its nodes in topological order, each with
 * the lag (steps of Delay) of the paths reaching its input. */
typedef struct {
    uint32_t *topo, n;     /* reached linear nodes */
    int *lag;              /* [n_nodes]: -1 if not reached */
    acc *in;               /* [n_nodes]: input accumulator of reached linear nodes */
} sub;

static void sub_free(const norn_nir_graph *g, sub *s)
{
    if (s->in)
        for (uint32_t k = 0; k < g->n_nodes; k++)
            acc_free(&s->in[k]);
    norn_free(s->in);
    norn_free(s->topo);
    norn_free(s->lag);
    memset(s, 0, sizeof *s);
}

/* Delay node: its delay in steps (0 or 1), one value for all its elements. */
static norn_status delay_steps(mapper *m, uint32_t node, int *out)
{
    double d;
    char tag[512];
    norn_status st = uniform(m, node, "delay", 0, 0, &d);
    if (st != NORN_OK)
        return st;
    double dt_unit = m->opt.time_ms ? m->opt.dt_ms : m->opt.dt_ms / 1000.0;
    double steps = d / dt_unit;
    long long k = llround(steps);
    if (!(d >= 0) || fabs(steps - (double)k) > 1e-6 * fmax(1.0, steps))
        return MFAIL(m, NORN_EINVAL, "%sdelay %g %s is not a whole number of steps of %g ms",
                     ntag(m, node, tag, sizeof tag), d, m->opt.time_ms ? "ms" : "s", m->opt.dt_ms);
    if (k > 1)
        return MFAIL(m, NORN_EINVAL,
                     "%sdelay %g %s = %lld steps: euler mode delivers in the same step or the next (0 or 1 step of "
                     "%g ms)", ntag(m, node, tag, sizeof tag), d, m->opt.time_ms ? "ms" : "s", k, m->opt.dt_ms);
    *out = (int)k;
    return NORN_OK;
}

/* The lag of a node's output from the lag of its input. */
static int step_of(const norn_nir_node *nd, int lag_in, int dsteps)
{
    return nd->kind == NORN_NIR_DELAY ? lag_in + dsteps : lag_in;
}

static norn_status reach(mapper *m, uint32_t start, sub *s, const int *dsteps)
{
    const norn_nir_graph *g = m->g;
    uint32_t N = g->n_nodes, sp = 0;
    char tag[512], tag2[512];
    memset(s, 0, sizeof *s);
    s->lag = norn_malloc_n(N, sizeof *s->lag);
    s->topo = norn_malloc_n(N, sizeof *s->topo);
    s->in = norn_calloc_n(N, sizeof *s->in);
    uint32_t *stack = norn_malloc_n(N, sizeof *stack), *indeg = norn_calloc_n(N, sizeof *indeg);
    norn_status st = NORN_OK;
    if (!s->lag || !s->topo || !s->in || !stack || !indeg) {
        st = MFAIL(m, NORN_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t v = 0; v < N; v++)
        s->lag[v] = -1;
    /* which linear nodes are reached */
    for (uint32_t k = 0; k < g->nodes[start].n_succ; k++) {
        uint32_t v = g->nodes[start].succ[k];
        if (is_linear(g->nodes[v].kind) && s->lag[v] < 0)
            s->lag[stack[sp++] = v] = 0;
    }
    uint8_t *mark = (uint8_t *)indeg; /* reuse as a visited flag first */
    for (uint32_t k = 0; k < sp; k++)
        mark[stack[k]] = 1;
    uint32_t nreach = 0;
    while (sp) {
        uint32_t v = stack[--sp];
        s->topo[nreach++] = v;
        for (uint32_t k = 0; k < g->nodes[v].n_succ; k++) {
            uint32_t w = g->nodes[v].succ[k];
            if (is_linear(g->nodes[w].kind) && !mark[w]) {
                mark[w] = 1;
                stack[sp++] = w;
            }
        }
    }
    memset(indeg, 0, N * sizeof *indeg);
    uint8_t *in_sub = norn_calloc_n(N, 1);
    if (in_sub == NULL) {
        st = MFAIL(m, NORN_ENOMEM, "out of memory");
        goto done;
    }
    for (uint32_t k = 0; k < nreach; k++)
        in_sub[s->topo[k]] = 1;
    for (uint32_t k = 0; k < nreach; k++) {
        const norn_nir_node *nd = &g->nodes[s->topo[k]];
        for (uint32_t j = 0; j < nd->n_succ; j++)
            if (in_sub[nd->succ[j]])
                indeg[nd->succ[j]]++;
    }
    /* Kahn over the reached linear nodes, lags forward */
    uint32_t head = 0, n = 0;
    for (uint32_t k = 0; k < nreach; k++)
        if (!indeg[s->topo[k]])
            stack[sp++] = s->topo[k];
    while (head < sp) {
        uint32_t v = stack[head++];
        s->topo[n++] = v;
        const norn_nir_node *nd = &g->nodes[v];
        int out_lag = step_of(nd, s->lag[v], dsteps[v]);
        for (uint32_t j = 0; j < nd->n_succ; j++) {
            uint32_t w = nd->succ[j];
            if (!in_sub[w])
                continue;
            if (s->lag[w] >= 0 && s->lag[w] != out_lag) {
                st = MFAIL(m, NORN_EINVAL, "%spaths with different delays (%d and %d steps) meet here; norn needs one "
                           "delay per path into a node", ntag(m, w, tag, sizeof tag), s->lag[w], out_lag);
                norn_free(in_sub);
                goto done;
            }
            s->lag[w] = out_lag;
            if (--indeg[w] == 0)
                stack[sp++] = w;
        }
    }
    if (n < nreach) {
        uint32_t v = 0;
        while (v < N && !(in_sub[v] && indeg[v]))
            v++;
        norn_free(in_sub);
        st = MFAIL(m, NORN_EINVAL, "%sis on a cycle of linear nodes with no neuron on it (reached from %s)",
                   ntag(m, v, tag, sizeof tag), ntag(m, start, tag2, sizeof tag2));
        goto done;
    }
    s->n = n;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t v = s->topo[k];
        const norn_nir_node *nd = &g->nodes[v];
        for (uint32_t j = 0; j < nd->n_succ; j++)
            if (g->nodes[nd->succ[j]].kind == NORN_NIR_OUTPUT) {
                norn_free(in_sub);
                st = MFAIL(m, NORN_EINVAL,
                           "%sfeeds Output '%s' directly; an Output must follow a neuron node (norn records a "
                           "population's state, not the result of a linear map)",
                           ntag(m, v, tag, sizeof tag), g->nodes[nd->succ[j]].key);
                goto done;
            }
        if (!acc_init(&s->in[v], nd->in.n)) {
            norn_free(in_sub);
            st = MFAIL(m, NORN_ENOMEM, "out of memory for the accumulator of '%s'", nd->key);
            goto done;
        }
    }
    norn_free(in_sub);
done:
    norn_free(stack);
    norn_free(indeg);
    if (st != NORN_OK)
        sub_free(g, s);
    return st;
}

/* Synapses from one source population to one (target, lag). */
typedef struct {
    uint32_t q;   /* target population index */
    int lag;
    acc a;        /* over the target's neurons */
    uint32_t *pre, *post;
    float *w;
    uint64_t n, cap;
} sink;

static sink *get_sink(mapper *m, sink **sinks, uint32_t *ns, uint32_t *cap, uint32_t q, int lag)
{
    for (uint32_t k = 0; k < *ns; k++)
        if ((*sinks)[k].q == q && (*sinks)[k].lag == lag)
            return &(*sinks)[k];
    if (*ns == *cap) {
        uint32_t nc = *cap ? 2 * *cap : 8;
        sink *x = norn_realloc_n(*sinks, nc, sizeof *x);
        if (x == NULL)
            return NULL;
        *sinks = x;
        *cap = nc;
    }
    sink *k = &(*sinks)[*ns];
    memset(k, 0, sizeof *k);
    k->q = q;
    k->lag = lag;
    if (!acc_init(&k->a, m->net->pops[q].size)) {
        acc_free(&k->a);
        return NULL;
    }
    (*ns)++;
    return k;
}

static void sink_free(sink *k)
{
    acc_free(&k->a);
    norn_free(k->pre);
    norn_free(k->post);
    norn_free(k->w);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The lag of a synapse from population p to q along a path of `path`
 * steps: a target that does not come after its source hears the previous
 * step (Norse's recurrent convention), whatever the path. */
static int final_lag(uint32_t p, uint32_t q, int path) { return q <= p ? 1 : path; }

/* Pushes the vector in the start's successors' accumulators (and in the
 * sinks fed by the start directly) through the subgraph into the sinks. */
static norn_status push(mapper *m, uint32_t start_pop, const sub *s, const int *dsteps, sink **sinks, uint32_t *ns,
                        uint32_t *cap)
{
    const norn_nir_graph *g = m->g;
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t v = s->topo[k];
        acc *in = &s->in[v];
        if (!in->cnt)
            continue;
        const norn_nir_node *nd = &g->nodes[v];
        int lag = step_of(nd, s->lag[v], dsteps[v]);
        for (uint32_t j = 0; j < nd->n_succ; j++) {
            uint32_t w = nd->succ[j];
            acc *out;
            if (is_linear(g->nodes[w].kind)) {
                out = &s->in[w];
            } else if (m->pop_of[w] >= 0) {
                int fl = start_pop == UINT32_MAX ? lag : final_lag(start_pop, (uint32_t)m->pop_of[w], lag);
                if (fl > 1)
                    return MFAIL(m, NORN_EINVAL, "node '%s': the path into '%s' is delayed by %d steps; euler mode "
                                 "delivers in the same step or the next", nd->key, g->nodes[w].key, fl);
                sink *sk = get_sink(m, sinks, ns, cap, (uint32_t)m->pop_of[w], fl);
                if (sk == NULL)
                    return MFAIL(m, NORN_ENOMEM, "out of memory");
                out = &sk->a;
            } else {
                continue; /* Output: refused by reach() */
            }
            apply(nd, in, out);
        }
        acc_clear(in);
    }
    return NORN_OK;
}

/* The synapses of source neuron src from each sink's accumulator. */
static norn_status emit(mapper *m, uint32_t p, uint32_t src, sink *sinks, uint32_t ns)
{
    for (uint32_t k = 0; k < ns; k++) {
        sink *sk = &sinks[k];
        if (!sk->a.cnt)
            continue;
        const double *sc = m->scale[sk->q];
        qsort(sk->a.idx, sk->a.cnt, sizeof *sk->a.idx, cmp_u32);
        if (sk->n + sk->a.cnt > sk->cap) {
            uint64_t nc = sk->cap ? 2 * sk->cap : 1024;
            while (nc < sk->n + sk->a.cnt)
                nc *= 2;
            uint32_t *a = norn_realloc_n(sk->pre, nc, sizeof *a);
            if (a)
                sk->pre = a;
            uint32_t *b = norn_realloc_n(sk->post, nc, sizeof *b);
            if (b)
                sk->post = b;
            float *c = norn_realloc_n(sk->w, nc, sizeof *c);
            if (c)
                sk->w = c;
            if (!a || !b || !c)
                return MFAIL(m, NORN_ENOMEM, "out of memory for %llu synapses", (unsigned long long)nc);
            sk->cap = nc;
        }
        for (uint64_t t = 0; t < sk->a.cnt; t++) {
            uint32_t j = sk->a.idx[t];
            double w = sk->a.v[j] * (sc ? sc[j] : 1.0);
            float f = (float)w;
            if (!isfinite(f))
                return MFAIL(m, NORN_EINVAL, "the weight from '%s' neuron %u to '%s' neuron %u is %g: not finite in "
                             "float32", m->net->pops[p].name, src, m->net->pops[sk->q].name, j, w);
            if (f == 0.0f)
                continue; /* exact zeros (and underflows) are no synapse */
            sk->pre[sk->n] = src;
            sk->post[sk->n] = j;
            sk->w[sk->n] = f;
            sk->n++;
        }
        acc_clear(&sk->a);
    }
    return NORN_OK;
}

/* "conv1, pool1" : the linear nodes of s that lead to population node q. */
static void via_text(const mapper *m, const sub *s, uint32_t qnode, char *buf, size_t cap)
{
    const norn_nir_graph *g = m->g;
    uint8_t lead[4096];
    size_t o = 0;
    buf[0] = 0;
    if (s->n > sizeof lead) {
        snprintf(buf, cap, "%u linear nodes", s->n);
        return;
    }
    for (uint32_t k = s->n; k-- > 0;) {
        const norn_nir_node *nd = &g->nodes[s->topo[k]];
        lead[k] = 0;
        for (uint32_t j = 0; j < nd->n_succ && !lead[k]; j++) {
            uint32_t w = nd->succ[j];
            if (w == qnode)
                lead[k] = 1;
            for (uint32_t i = k + 1; i < s->n && !lead[k]; i++)
                lead[k] = s->topo[i] == w && lead[i];
        }
    }
    for (uint32_t k = 0; k < s->n; k++)
        if (lead[k] && o + 4 < cap) {
            int w = snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", g->nodes[s->topo[k]].key);
            o = w < 0 ? o : o + (size_t)w >= cap ? cap - 1 : o + (size_t)w;
        }
}

static norn_status map_projections(mapper *m, uint32_t p, const int *dsteps)
{
    const norn_nir_graph *g = m->g;
    norn_nir_net *net = m->net;
    uint32_t node = net->pops[p].node;
    const norn_nir_node *src = &g->nodes[node];
    sub s;
    norn_status st = reach(m, node, &s, dsteps);
    if (st != NORN_OK)
        return st;
    sink *sinks = NULL;
    uint32_t ns = 0, cap = 0;
    for (uint32_t i = 0; i < net->pops[p].size && st == NORN_OK; i++) {
        for (uint32_t j = 0; j < src->n_succ; j++) {
            uint32_t w = src->succ[j];
            if (is_linear(g->nodes[w].kind)) {
                acc_add(&s.in[w], i, 1.0);
            } else if (m->pop_of[w] >= 0) {
                uint32_t q = (uint32_t)m->pop_of[w];
                sink *sk = get_sink(m, &sinks, &ns, &cap, q, final_lag(p, q, 0));
                if (sk == NULL) {
                    st = MFAIL(m, NORN_ENOMEM, "out of memory");
                    break;
                }
                acc_add(&sk->a, i, 1.0);
            }
        }
        if (st == NORN_OK)
            st = push(m, p, &s, dsteps, &sinks, &ns, &cap);
        if (st == NORN_OK)
            st = emit(m, p, i, sinks, ns);
    }
    /* one projection per sink, by target order then lag */
    for (uint32_t a = 0; a < ns && st == NORN_OK; a++)
        for (uint32_t b = a + 1; b < ns; b++)
            if (sinks[b].q < sinks[a].q || (sinks[b].q == sinks[a].q && sinks[b].lag < sinks[a].lag)) {
                sink t = sinks[a];
                sinks[a] = sinks[b];
                sinks[b] = t;
            }
    if (st == NORN_OK && net->n_projs + ns > net->cap_projs) {
        uint32_t nc = net->cap_projs ? net->cap_projs : 16;
        while (nc < net->n_projs + ns)
            nc *= 2;
        norn_nir_proj *x = norn_realloc_n(net->projs, nc, sizeof *x);
        if (x == NULL)
            st = MFAIL(m, NORN_ENOMEM, "out of memory");
        else
            net->projs = x, net->cap_projs = nc;
    }
    for (uint32_t k = 0; k < ns && st == NORN_OK; k++) {
        sink *sk = &sinks[k];
        norn_nir_proj *pj = &net->projs[net->n_projs];
        memset(pj, 0, sizeof *pj);
        char base[400];
        snprintf(base, sizeof base, "%s_to_%s", net->pops[p].name, net->pops[sk->q].name);
        int twin = (k > 0 && sinks[k - 1].q == sk->q) || (k + 1 < ns && sinks[k + 1].q == sk->q);
        char **taken = norn_malloc_n(net->n_projs + 1, sizeof *taken);
        for (uint32_t j = 0; taken && j < net->n_projs; j++)
            taken[j] = net->projs[j].name;
        pj->name = taken ? make_name(base, twin && sk->lag ? "_next_step" : "", taken, net->n_projs) : NULL;
        norn_free(taken);
        if (pj->name == NULL) {
            st = MFAIL(m, NORN_ENOMEM, "out of memory");
            break;
        }
        pj->from = p;
        pj->to = sk->q;
        pj->lag = sk->lag;
        pj->n = sk->n;
        pj->pre = sk->pre;
        pj->post = sk->post;
        pj->weight = sk->w;
        sk->pre = sk->post = NULL;
        sk->w = NULL;
        via_text(m, &s, net->pops[sk->q].node, pj->via, sizeof pj->via);
        net->synapses += pj->n;
        net->n_projs++;
    }
    for (uint32_t k = 0; k < ns; k++)
        sink_free(&sinks[k]);
    norn_free(sinks);
    sub_free(g, &s);
    return st;
}

/* A bias (Affine, Conv) pushed from its node to the populations it reaches,
 * as a constant current there. */
static norn_status map_bias(mapper *m, uint32_t node, const int *dsteps)
{
    const norn_nir_graph *g = m->g;
    const norn_nir_node *nd = &g->nodes[node];
    const norn_nir_data *b = norn_nir_find(nd, "bias");
    char tag[512];
    if (b == NULL)
        return NORN_OK;
    int any = 0;
    for (uint64_t k = 0; k < b->n && !any; k++)
        any = b->data[k] != 0.0;
    if (!any)
        return NORN_OK;
    sub s;
    norn_status st = reach(m, node, &s, dsteps);
    if (st != NORN_OK)
        return st;
    sink *sinks = NULL;
    uint32_t ns = 0, cap = 0;
    /* the node's output is the bias vector */
    uint64_t n = nd->out.n, per = is_conv(nd->kind) ? nd->oh[0] * nd->oh[1] : 1;
    for (uint32_t j = 0; j < nd->n_succ && st == NORN_OK; j++) {
        uint32_t w = nd->succ[j];
        acc *out = NULL;
        if (is_linear(g->nodes[w].kind)) {
            out = &s.in[w];
        } else if (m->pop_of[w] >= 0) {
            sink *sk = get_sink(m, &sinks, &ns, &cap, (uint32_t)m->pop_of[w], 0);
            if (sk == NULL)
                st = MFAIL(m, NORN_ENOMEM, "out of memory");
            else
                out = &sk->a;
        }
        for (uint64_t i = 0; out && i < n; i++)
            acc_add(out, i, b->data[b->n == 1 ? 0 : i / per]);
    }
    if (st == NORN_OK)
        st = push(m, UINT32_MAX, &s, dsteps, &sinks, &ns, &cap);
    for (uint32_t k = 0; k < ns && st == NORN_OK; k++) {
        sink *sk = &sinks[k];
        if (sk->lag) {
            st = MFAIL(m, NORN_EINVAL, "%sits bias reaches '%s' through a Delay; a delayed constant is not supported",
                       ntag(m, node, tag, sizeof tag), m->net->pops[sk->q].name);
            break;
        }
        uint32_t q = sk->q, size = m->net->pops[q].size;
        if (m->bias[q] == NULL && (m->bias[q] = norn_calloc_n(size, sizeof(double))) == NULL) {
            st = MFAIL(m, NORN_ENOMEM, "out of memory");
            break;
        }
        for (uint64_t t = 0; t < sk->a.cnt; t++) {
            uint32_t j = sk->a.idx[t];
            m->bias[q][j] += sk->a.v[j] * (m->scale[q] ? m->scale[q][j] : 1.0);
        }
    }
    for (uint32_t k = 0; k < ns; k++)
        sink_free(&sinks[k]);
    norn_free(sinks);
    sub_free(g, &s);
    return st;
}

void norn_nir_net_free(norn_nir_net *net)
{
    if (net == NULL)
        return;
    for (uint32_t k = 0; net->pops && k < net->n_pops; k++) {
        norn_free(net->pops[k].name);
        norn_free(net->pops[k].bias);
    }
    for (uint32_t k = 0; net->projs && k < net->n_projs; k++) {
        norn_free(net->projs[k].name);
        norn_free(net->projs[k].pre);
        norn_free(net->projs[k].post);
        norn_free(net->projs[k].weight);
    }
    norn_free(net->pops);
    norn_free(net->projs);
    norn_free(net);
}

norn_status norn_nir_map(const norn_nir_graph *g, const norn_nir_options *opt, norn_nir_net **out, norn_err *err)
{
    norn_nir_options o = {.dt_ms = 1.0, .time_ms = 0};
    if (opt)
        o = *opt;
    if (!(o.dt_ms > 0) || !isfinite(o.dt_ms))
        return NORN_FAIL(err, NORN_EINVAL, g->path, "dt must be > 0 ms, got %g", o.dt_ms);
    uint32_t N = g->n_nodes;
    mapper m = {.g = g, .opt = o, .err = err};
    norn_status st = NORN_OK;
    char tag[512];
    int *dsteps = norn_calloc_n(N, sizeof *dsteps);
    uint32_t *cand = norn_malloc_n(N, sizeof *cand), *order = norn_malloc_n(N, sizeof *order), nc = 0;
    m.pop_of = norn_malloc_n(N, sizeof *m.pop_of);
    m.net = norn_calloc_n(1, sizeof *m.net);
    if (!dsteps || !cand || !order || !m.pop_of || !m.net) {
        st = NORN_FAIL(err, NORN_ENOMEM, g->path, "out of memory");
        goto done;
    }
    m.net->opt = o;
    for (uint32_t v = 0; v < N && st == NORN_OK; v++) {
        const norn_nir_node *nd = &g->nodes[v];
        m.pop_of[v] = -1;
        ntag(&m, v, tag, sizeof tag);
        if (nd->kind == NORN_NIR_THRESHOLD)
            st = NORN_FAIL(err, NORN_EINVAL, g->path,
                           "%snot supported yet: euler mode has no stateless threshold unit (z = 1 where the input "
                           "exceeds the threshold, without a membrane)", tag);
        else if (nd->kind == NORN_NIR_DELAY)
            st = delay_steps(&m, v, &dsteps[v]);
        else if (nd->kind == NORN_NIR_LI || nd->kind == NORN_NIR_CUBALI || nd->kind == NORN_NIR_I)
            for (uint32_t j = 0; j < nd->n_succ && st == NORN_OK; j++)
                if (g->nodes[nd->succ[j]].kind != NORN_NIR_OUTPUT)
                    st = NORN_FAIL(err, NORN_EINVAL, g->path,
                                   "%soutputs a voltage, not spikes: norn can read it out (an Output) but not feed it "
                                   "to '%s'", tag, g->nodes[nd->succ[j]].key);
        if (st == NORN_OK && nd->kind == NORN_NIR_OUTPUT)
            for (uint32_t j = 0; j < nd->n_pred && st == NORN_OK; j++) {
                const norn_nir_node *q = &g->nodes[nd->pred[j]];
                if (q->kind == NORN_NIR_INPUT)
                    st = NORN_FAIL(err, NORN_EINVAL, g->path, "%sis fed by Input '%s' directly; nothing to simulate",
                                   tag, q->key);
            }
        if (nd->kind == NORN_NIR_INPUT || is_neuron(nd->kind))
            cand[nc++] = v;
    }
    if (st != NORN_OK)
        goto done;
    if (nc == 0) {
        st = NORN_FAIL(err, NORN_EINVAL, g->path, "graph: no Input and no neuron node: nothing to simulate");
        goto done;
    }
    if ((st = order_pops(&m, cand, nc, order)) != NORN_OK)
        goto done;
    norn_nir_net *net = m.net;
    net->pops = norn_calloc_n(nc, sizeof *net->pops);
    m.scale = norn_calloc_n(nc, sizeof *m.scale);
    m.bias = norn_calloc_n(nc, sizeof *m.bias);
    if (!net->pops || !m.scale || !m.bias) {
        st = NORN_FAIL(err, NORN_ENOMEM, g->path, "out of memory");
        goto done;
    }
    char **names = norn_malloc_n(nc, sizeof *names);
    if (!names) {
        st = NORN_FAIL(err, NORN_ENOMEM, g->path, "out of memory");
        goto done;
    }
    for (uint32_t k = 0; k < nc && st == NORN_OK; k++) {
        uint32_t v = order[k];
        norn_nir_pop *p = &net->pops[k];
        p->node = v;
        p->size = (uint32_t)g->nodes[v].out.n;
        p->kind = g->nodes[v].kind;
        p->shape = g->nodes[v].out;
        m.pop_of[v] = (int32_t)k;
        st = neuron_pop(&m, v, p, &m.scale[k]);
        for (uint32_t j = 0; j < g->nodes[v].n_succ; j++)
            p->readout |= g->nodes[g->nodes[v].succ[j]].kind == NORN_NIR_OUTPUT;
        if (st == NORN_OK && (p->name = make_name(g->nodes[v].key, "", names, k)) == NULL)
            st = NORN_FAIL(err, NORN_ENOMEM, g->path, "out of memory");
        names[k] = p->name;
        net->n_pops++;
    }
    norn_free(names);
    if (st != NORN_OK)
        goto done;
    for (uint32_t k = 0; k < nc && st == NORN_OK; k++)
        st = map_projections(&m, k, dsteps);
    for (uint32_t v = 0; v < N && st == NORN_OK; v++)
        if (g->nodes[v].kind == NORN_NIR_AFFINE || is_conv(g->nodes[v].kind))
            st = map_bias(&m, v, dsteps);
    for (uint32_t k = 0; k < nc && st == NORN_OK; k++) {
        if (!m.bias[k])
            continue;
        norn_nir_pop *p = &net->pops[k];
        if (strcmp(p->model, "input") == 0) {
            st = NORN_FAIL(err, NORN_EINVAL, g->path, "a bias reaches Input '%s'", p->name);
            break;
        }
        p->bias = norn_malloc_n(p->size, sizeof *p->bias);
        if (!p->bias) {
            st = NORN_FAIL(err, NORN_ENOMEM, g->path, "out of memory");
            break;
        }
        for (uint32_t j = 0; j < p->size; j++) {
            p->bias[j] = (float)m.bias[k][j];
            if (!isfinite(p->bias[j])) {
                st = NORN_FAIL(err, NORN_EINVAL, g->path, "the bias into '%s' neuron %u is %g: not finite in float32",
                               p->name, j, m.bias[k][j]);
                break;
            }
        }
    }
    if (st != NORN_OK)
        goto done;
    *out = m.net;
    m.net = NULL;
done:
    for (uint32_t k = 0; m.scale && m.net && k < m.net->n_pops; k++)
        norn_free(m.scale[k]);
    for (uint32_t k = 0; m.bias && m.net && k < m.net->n_pops; k++)
        norn_free(m.bias[k]);
    if (m.net == NULL && m.scale) /* success: the net moved out, free by count */
        for (uint32_t k = 0; k < nc; k++) {
            norn_free(m.scale[k]);
            norn_free(m.bias[k]);
        }
    norn_free(m.scale);
    norn_free(m.bias);
    norn_nir_net_free(m.net);
    norn_free(m.pop_of);
    norn_free(dsteps);
    norn_free(cand);
    norn_free(order);
    return st;
}

/* ------------------------------------------------------------------ */
/* Writing the description                                              */

/* The shortest decimal that reads back as f (and stays within float32). */
static const char *fmt_f32(char *buf, size_t cap, float f)
{
    if (f == floorf(f) && fabsf(f) < 1e15f) {
        snprintf(buf, cap, "%.0f", (double)f);
        return buf;
    }
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, cap, "%.*g", prec, (double)f);
        double d = strtod(buf, NULL);
        if ((float)d == f && fabs(d) <= FLT_MAX)
            return buf;
    }
    snprintf(buf, cap, "%.17g", (double)f);
    return buf;
}

static const char *fmt_f64(char *buf, size_t cap, double x)
{
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, cap, "%.0f", x);
        return buf;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return buf;
    }
    return buf;
}

/* s as a YAML double-quoted scalar. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static norn_status write_yaml(const norn_nir_net *net, const char *dir, const norn_nir_write_opts *w, norn_err *err)
{
    char path[4200], a[64], b[64];
    snprintf(path, sizeof path, "%s/model.yaml", dir);
    norn_afile af;
    norn_status st = norn_afile_open(&af, path, err);
    if (st != NORN_OK)
        return st;
    FILE *f = af.f;
    const char *input = w->input_file ? w->input_file : "input.npy";
    uint64_t n_in = 0;
    uint32_t n_inputs = 0;
    for (uint32_t k = 0; k < net->n_pops; k++)
        if (strcmp(net->pops[k].model, "input") == 0)
            n_in += net->pops[k].size, n_inputs++;
    fprintf(f, "# A norn description imported from %s%s%s%s by norn import.\n", w->source ? w->source : "a NIR graph",
            w->version && *w->version ? " (NIR " : "", w->version && *w->version ? w->version : "",
            w->version && *w->version ? ")" : "");
    fprintf(f, "# Norse's discrete time (euler mode), dt = %s ms, NIR times read in %s.\n",
            fmt_f64(a, sizeof a, net->opt.dt_ms), net->opt.time_ms ? "ms" : "seconds");
    fprintf(f, "# Neuron nodes are populations with Norse's models (CubaLIF -> lif, CubaLI -> li, LIF -> lif_box,\n"
               "# LI -> li_box, IF -> iaf, I -> iaf that never fires); the linear nodes between them are\n"
               "# expanded into synapse lists syn_<projection>.npy (fields pre, post, weight), each weight\n"
               "# times r*w_in of its target neuron; biases are constant input currents (bias_<population>.npy).\n");
    if (n_inputs)
        fprintf(f, "# Input: %s, a [T, %llu] array of 0/1 (row t = step t; columns = the neurons of the\n"
                   "# input population%s below, in order, each Input's shape flattened in C order).\n",
                input, (unsigned long long)n_in, n_inputs > 1 ? "s" : "");
    fprintf(f, "simulation: {mode: euler, resolution: %s, duration: %s", fmt_f64(a, sizeof a, net->opt.dt_ms),
            fmt_f64(b, sizeof b, (double)w->steps * net->opt.dt_ms));
    if (w->name) {
        fprintf(f, ", name: ");
        put_quoted(f, w->name);
    }
    fprintf(f, "}\npopulations:\n");
    for (uint32_t k = 0; k < net->n_pops; k++) {
        const norn_nir_pop *p = &net->pops[k];
        fprintf(f, "  ");
        put_quoted(f, p->name);
        fprintf(f, ": {model: %s, size: %u", p->model, p->size);
        if (p->n_params) {
            fprintf(f, ", params: {");
            for (int j = 0; j < p->n_params; j++)
                fprintf(f, "%s%s: %s", j ? ", " : "", p->param_name[j], fmt_f32(a, sizeof a, p->param[j]));
            fprintf(f, "}");
        }
        char shp[200];
        fprintf(f, "}   # %s %s\n", kind_names[p->kind], fmt_shape(shp, sizeof shp, p->shape.ndim, p->shape.dim));
    }
    int any_stim = n_inputs > 0;
    for (uint32_t k = 0; k < net->n_pops; k++)
        any_stim |= net->pops[k].bias != NULL;
    if (any_stim)
        fprintf(f, "stimuli:\n");
    if (n_inputs) {
        fprintf(f, "  - {type: spike_tensor, file: ");
        put_quoted(f, input);
        fprintf(f, ", to: [");
        for (uint32_t k = 0, i = 0; k < net->n_pops; k++)
            if (strcmp(net->pops[k].model, "input") == 0) {
                fprintf(f, "%s", i++ ? ", " : "");
                put_quoted(f, net->pops[k].name);
            }
        fprintf(f, "]}\n");
    }
    for (uint32_t k = 0; k < net->n_pops; k++)
        if (net->pops[k].bias) {
            char file[300];
            snprintf(file, sizeof file, "bias_%s.npy", net->pops[k].name);
            fprintf(f, "  - {type: current_tensor, file: ");
            put_quoted(f, file);
            fprintf(f, ", to: ");
            put_quoted(f, net->pops[k].name);
            fprintf(f, "}   # the constant bias reaching it, every step\n");
        }
    if (net->n_projs)
        fprintf(f, "projections:\n");
    for (uint32_t k = 0; k < net->n_projs; k++) {
        const norn_nir_proj *pj = &net->projs[k];
        char file[300];
        snprintf(file, sizeof file, "syn_%s.npy", pj->name);
        fprintf(f, "  - {name: ");
        put_quoted(f, pj->name);
        fprintf(f, ", from: ");
        put_quoted(f, net->pops[pj->from].name);
        fprintf(f, ", to: ");
        put_quoted(f, net->pops[pj->to].name);
        fprintf(f, ", delay: %s, connect: {rule: from_list, file: ",
                pj->lag ? fmt_f64(a, sizeof a, net->opt.dt_ms) : "0");
        put_quoted(f, file);
        fprintf(f, "}}   # %llu synapses%s%s%s\n", (unsigned long long)pj->n, pj->via[0] ? " via " : "", pj->via,
                pj->lag ? (pj->to <= pj->from ? "; the previous step's spikes (recurrent)" : "; one step later (Delay)")
                        : "");
    }
    fprintf(f, "record:\n  spikes: all\n");
    int any_out = 0;
    for (uint32_t k = 0; k < net->n_pops; k++)
        any_out |= net->pops[k].readout;
    if (any_out) {
        fprintf(f, "  state:\n");
        for (uint32_t k = 0; k < net->n_pops; k++)
            if (net->pops[k].readout) {
                fprintf(f, "    - {population: ");
                put_quoted(f, net->pops[k].name);
                fprintf(f, ", variables: all, neurons: all}   # an Output\n");
            }
    }
    return norn_afile_commit(&af, err);
}

norn_status norn_nir_write(const norn_nir_net *net, const char *dir, const norn_nir_write_opts *w, norn_err *err)
{
    char path[4200];
    if (w == NULL || w->steps == 0)
        return NORN_FAIL(err, NORN_EINVAL, dir, "the number of steps must be > 0");
    snprintf(path, sizeof path, "%s/model.yaml", dir);
    if (unlink(path) != 0 && errno != ENOENT)
        return NORN_FAIL(err, NORN_EIO, path, "cannot replace: %s", strerror(errno));
    norn_status st = NORN_OK;
    for (uint32_t k = 0; k < net->n_projs && st == NORN_OK; k++) {
        const norn_nir_proj *pj = &net->projs[k];
        snprintf(path, sizeof path, "%s/syn_%s.npy", dir, pj->name);
        st = norn_npy_write_synapses(path, pj->pre, pj->post, pj->weight, pj->n, err);
    }
    for (uint32_t k = 0; k < net->n_pops && st == NORN_OK; k++) {
        const norn_nir_pop *p = &net->pops[k];
        if (!p->bias)
            continue;
        uint64_t shape[2] = {w->steps, p->size};
        if (w->steps > ((uint64_t)1 << 34) / p->size)
            return NORN_FAIL(err, NORN_EINVAL, dir, "a bias current for %llu steps of %u neurons is too large",
                             (unsigned long long)w->steps, p->size);
        float *x = norn_malloc_n((size_t)(w->steps * p->size), sizeof *x);
        if (x == NULL)
            return NORN_FAIL(err, NORN_ENOMEM, dir, "out of memory for the bias of '%s'", p->name);
        for (uint64_t t = 0; t < w->steps; t++)
            memcpy(x + t * p->size, p->bias, p->size * sizeof *x);
        snprintf(path, sizeof path, "%s/bias_%s.npy", dir, p->name);
        st = norn_npy_write_f32(path, x, 2, shape, err);
        norn_free(x);
    }
    if (st == NORN_OK)
        st = write_yaml(net, dir, w, err);
    return st;
}
