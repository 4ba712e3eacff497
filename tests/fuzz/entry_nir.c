/* tests/fuzz/entry_nir.c - a NIR graph made from a recipe, read with
 * norn_nir_read and mapped with norn_nir_map (io/nir.h).
 *
 * libhdf5 is not robust against damaged files, and a crash inside it is not
 * a finding of ours, so the bytes are not the file: they are a recipe that
 * this file turns into a structurally varied but HDF5-valid NIR file with
 * libhdf5's writing API. The recipe chooses the number of nodes, each
 * node's type (NIR's, unknown ones, a nested NIRGraph, a number instead of
 * a string, none), each dataset the type reads (present or missing, extra
 * ones), its HDF5 type (float64/32, big-endian, int8..int64, uint64, h5py's
 * bool enum, fixed and variable-length strings, a compound), its shape
 * (scalar, null, 0-d .. 4-d, empty; small extents, large values), its
 * values (small integers, fractions, time constants, NaN, infinities, 2^16,
 * 2^31 - 1, 2^32, 1e18, 1e300), chunking and gzip, and the edges (a chain, random
 * pairs, keys of missing nodes, wrong shapes and types, h5py's empty
 * float64 list, none). When the bytes run out every further choice is 0,
 * which gives the plain variant (a chain of well-formed nodes).
 */
#include "entry.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/mem.h"
#include "io/nir.h"

typedef struct {
    const uint8_t *p;
    size_t n, at;
} recipe;

static unsigned u8(recipe *r) { return r->at < r->n ? r->p[r->at++] : 0; }
static unsigned pick(recipe *r, unsigned k) { return k ? u8(r) % k : 0; }

static const char *const types[] = {"Input",     "Output",    "Affine", "Linear",  "Scale",    "Conv1d",
                                    "Conv2d",    "SumPool2d", "AvgPool2d", "Flatten", "Delay",  "Threshold",
                                    "I",         "IF",        "LI",     "LIF",     "CubaLI",   "CubaLIF",
                                    "NIRGraph",  "Foo",       ""};
#define N_TYPES (sizeof types / sizeof *types)

/* The datasets each type reads (as io/nir.c's table), plus decoys. */
static const char *const dsets[N_TYPES] = {
    "shape",
    "shape",
    "weight bias",
    "weight",
    "scale",
    "weight bias stride padding dilation groups input_shape",
    "weight bias stride padding dilation groups input_shape",
    "kernel_size stride padding",
    "kernel_size stride padding",
    "start_dim end_dim",
    "delay",
    "threshold",
    "r",
    "r v_threshold v_reset",
    "tau r v_leak",
    "tau r v_leak v_threshold v_reset",
    "tau_syn tau_mem r v_leak w_in",
    "tau_syn tau_mem r v_leak v_threshold v_reset w_in",
    "nodes edges",
    "weight",
    "",
};

/* One value of a numeric dataset. */
static double value(recipe *r)
{
    static const double special[16] = {NAN,     INFINITY, -INFINITY, 65536.0, 4294967296.0, 1e18, 1e300, -0.0,
                                       2147483647.0, -1.0, 0.5,      2.0,     9.2233720368547758e18,
                                       1.8446744073709552e19, 4294967295.0, 1e-3};
    unsigned b = u8(r);
    switch (b >> 5) {
    case 0: case 1: case 2: return (double)((int)(b & 31) - 4); /* small integers */
    case 3: return (double)(b & 31) / 8.0;
    case 4: return special[b & 15];
    case 5: return 1e-3 * (double)(b & 31); /* time constants in s */
    case 6: return (double)(b & 31);        /* sizes, ms */
    default: return (double)(b & 7) + 1.0;
    }
}

/* Writes v[n] (C order, shape nd/dims; null: a null dataspace) as
 * dataset loc/name in the HDF5 type ty (0-4 float64, 5-6 float32, 7
 * float64 big-endian, 8-11 int64/int32be/int8/int16, 12 uint64, 13 h5py's
 * bool, 14 a compound, 15 fixed strings); chunk: chunked, gzip (2: and
 * shuffled). h5 errors only skip the dataset. */
static void write_values(hid_t loc, const char *name, int nd, const hsize_t *dims, int null, const double *v,
                         hsize_t n, unsigned ty, unsigned chunk)
{
    hid_t sp = null ? H5Screate(H5S_NULL) : nd == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(nd, dims, NULL);
    if (sp < 0)
        return;
    if (null || n > 512)
        n = 0;
    hid_t ft = -1, mt = H5T_NATIVE_DOUBLE, own = -1;
    static long long iv[512];
    static unsigned long long uv[512];
    static signed char bv[512];
    static char text[512][16];
    const void *buf = v;
    switch (ty) {
    case 0: case 1: case 2: case 3: case 4: ft = H5T_IEEE_F64LE; break;
    case 5: case 6: ft = H5T_IEEE_F32LE; break;
    case 7: ft = H5T_IEEE_F64BE; break;
    case 8: case 9: case 10: case 11: {
        static const hid_t *const its[4] = {&H5T_STD_I64LE_g, &H5T_STD_I32BE_g, &H5T_STD_I8LE_g, &H5T_STD_I16LE_g};
        ft = *its[ty - 8];
        for (hsize_t k = 0; k < n; k++) {
            iv[k] = isfinite(v[k]) && fabs(v[k]) < 9e18 ? (long long)v[k] : -1;
            if (ty == 9) /* keep the values in range so libhdf5 need not clip */
                iv[k] = (int)iv[k];
            if (ty == 10)
                iv[k] = (signed char)iv[k];
            if (ty == 11)
                iv[k] = (short)iv[k];
        }
        mt = H5T_NATIVE_LLONG;
        buf = iv;
        break;
    }
    case 12:
        ft = H5T_STD_U64LE;
        for (hsize_t k = 0; k < n; k++)
            uv[k] = isfinite(v[k]) && v[k] >= 0 && v[k] < 1.8e19 ? (unsigned long long)v[k] : ~0ull;
        mt = H5T_NATIVE_ULLONG;
        buf = uv;
        break;
    case 13: { /* h5py's bool: an enum over int8 */
        signed char f = 0, t = 1;
        own = H5Tenum_create(H5T_NATIVE_SCHAR);
        H5Tenum_insert(own, "FALSE", &f);
        H5Tenum_insert(own, "TRUE", &t);
        ft = mt = own;
        for (hsize_t k = 0; k < n; k++)
            bv[k] = v[k] != 0;
        buf = bv;
        break;
    }
    case 14: /* a compound: not numbers */
        own = H5Tcreate(H5T_COMPOUND, sizeof(double));
        H5Tinsert(own, "x", 0, H5T_NATIVE_DOUBLE);
        ft = mt = own;
        break;
    default: /* strings where numbers belong */
        own = H5Tcopy(H5T_C_S1);
        H5Tset_size(own, 16);
        ft = mt = own;
        for (hsize_t k = 0; k < n; k++)
            snprintf(text[k], sizeof text[k], "%.3g", v[k]);
        buf = text;
        break;
    }
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk && nd >= 1 && nd <= 4 && n > 0) {
        H5Pset_chunk(dcpl, nd, dims);
        if (chunk == 2)
            H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 1);
    }
    hid_t d = H5Dcreate2(loc, name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d >= 0) {
        if (n > 0)
            H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        H5Dclose(d);
    }
    H5Pclose(dcpl);
    if (own >= 0)
        H5Tclose(own);
    H5Sclose(sp);
}

/* A dataset with a shape, values and type all chosen by the recipe. */
static void put_numbers(recipe *r, hid_t loc, const char *name)
{
    /* 0-3: 0-d .. 3-d, 4-7 1-d, 8-9 2-d, 10-11 4-d, 12 3-d, 13 empty (0,), 14 null, 15 9-d */
    unsigned form = pick(r, 16);
    int nd = form < 4 ? (int)form : form < 8 ? 1 : form < 10 ? 2 : form < 12 ? 4 : form == 12 ? 3 : form == 15 ? 9 : 1;
    hsize_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, n = 1;
    if (form == 13) { /* empty: (0,) or (0, k) */
        nd = 1 + (int)pick(r, 2);
        dims[0] = 0;
        dims[1] = 1 + pick(r, 4);
    }
    else if (form < 13)
        for (int k = 0; k < nd; k++)
            dims[k] = 1 + pick(r, 6);
    for (int k = 0; k < nd; k++)
        n *= dims[k];
    double v[512];
    for (hsize_t k = 0; k < n && k < 512; k++)
        v[k] = value(r);
    unsigned ty = pick(r, 16);
    unsigned chunk = (u8(r) & 3) == 3 ? 1 + (u8(r) & 1) : 0;
    write_values(loc, name, nd, dims, form == 14, v, n, ty, chunk);
}

/* A dataset that is well-formed for its node (shape nd/dims, values v)
 * unless the recipe says otherwise: then its values, its type, a per-neuron
 * form (alt_n values) or everything are the recipe's. */
static void put_natural(recipe *r, hid_t loc, const char *name, int nd, const hsize_t *dims, const double *v,
                        hsize_t alt_n)
{
    hsize_t n = 1;
    for (int k = 0; k < nd; k++)
        n *= dims[k];
    if (n > 512)
        n = 512;
    double w[512];
    memcpy(w, v, n * sizeof *w);
    unsigned m = u8(r);
    if (m < 128) {
        write_values(loc, name, nd, dims, 0, w, n, 0, 0);
    } else if (m < 176) { /* the recipe's values */
        for (hsize_t k = 0; k < n; k++)
            w[k] = value(r);
        write_values(loc, name, nd, dims, 0, w, n, 0, 0);
    } else if (m < 200) { /* another type */
        write_values(loc, name, nd, dims, 0, w, n, pick(r, 16), pick(r, 3));
    } else if (m < 224) { /* one value per neuron (the first repeated), or one where many belong */
        hsize_t d1[1] = {nd == 0 ? alt_n : 1};
        for (hsize_t k = 1; k < d1[0] && k < 512; k++)
            w[k] = (m & 1) ? value(r) : w[0];
        write_values(loc, name, 1, d1, 0, w, d1[0], 0, 0);
    } else {
        put_numbers(r, loc, name);
    }
}

/* A string dataset: h5py's (variable-length UTF-8, scalar) unless the
 * recipe picks ASCII, fixed-length (NUL-padded or not), two elements,
 * another text or a number. */
static void put_string(recipe *r, hid_t loc, const char *name, const char *text)
{
    static const char *const odd[] = {"", "same", "valid", "\xff\xfe", "NIRGraph", "Input\n", "LIF ", "lif"};
    unsigned m = u8(r), how = m < 192 ? 0 : m & 15;
    if (how >= 12) {
        if (how == 12) {
            put_numbers(r, loc, name);
            return;
        }
        text = odd[pick(r, 8)];
    }
    hid_t t = H5Tcopy(H5T_C_S1);
    int vlen = how % 3 != 2;
    if (vlen)
        H5Tset_size(t, H5T_VARIABLE);
    else
        H5Tset_size(t, strlen(text) ? strlen(text) + (how & 1) : 1);
    H5Tset_cset(t, how % 3 == 0 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
    int array = how == 7 || how == 11;
    hsize_t dims[1] = {2};
    hid_t sp = array ? H5Screate_simple(1, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        if (vlen) {
            const char *sv[2] = {text, text};
            H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, sv);
        } else {
            char buf[128] = {0};
            size_t sz = H5Tget_size(t);
            if (2 * sz <= sizeof buf) {
                memcpy(buf, text, strlen(text) < sz ? strlen(text) : sz);
                memcpy(buf + sz, buf, sz); /* packed: the second element follows */
                H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
            }
        }
        H5Dclose(d);
    }
    H5Sclose(sp);
    H5Tclose(t);
}

/* Graph templates: valid NIR graphs of every supported shape of path
 * (type indices into types[]; a negative entry -k is types[k] square: its
 * output size equals its input's), and their edges. */
enum { T_IN, T_OUT, T_AFF, T_LIN, T_SCALE, T_C1, T_C2, T_SUM, T_AVG, T_FLAT, T_DELAY, T_THR, T_I, T_IF, T_LI,
       T_LIF, T_CLI, T_CLIF };
typedef struct {
    int in_nd;              /* the Input's dimensions */
    int n;
    int type[8];
    int n_edges;
    unsigned char edge[10][2];
} tmpl;
static const tmpl templates[] = {
    {1, 4, {T_IN, T_AFF, T_CLIF, T_OUT}, 3, {{0, 1}, {1, 2}, {2, 3}}},
    {1, 6, {T_IN, T_LIN, T_LIF, T_AFF, T_CLI, T_OUT}, 5, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}}},
    {3, 8, {T_IN, T_C2, T_IF, T_SUM, T_FLAT, T_AFF, T_CLIF, T_OUT}, 7,
     {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}}},
    {1, 4, {T_IN, T_SCALE, T_LI, T_OUT}, 3, {{0, 1}, {1, 2}, {2, 3}}},
    {1, 5, {T_IN, T_AFF, T_CLIF, -T_LIN, T_OUT}, 5, {{0, 1}, {1, 2}, {2, 3}, {3, 2}, {2, 4}}},
    {2, 4, {T_IN, T_C1, T_LI, T_OUT}, 3, {{0, 1}, {1, 2}, {2, 3}}},
    {3, 4, {T_IN, T_AVG, T_I, T_OUT}, 3, {{0, 1}, {1, 2}, {2, 3}}},
    {1, 4, {T_IN, T_FLAT, T_THR, T_OUT}, 3, {{0, 1}, {1, 2}, {2, 3}}},
    {1, 5, {T_IN, T_AFF, T_DELAY, T_CLIF, T_OUT}, 4, {{0, 1}, {1, 2}, {2, 3}, {3, 4}}},
    {1, 6, {T_IN, T_IN, T_AFF, T_AFF, T_CLIF, T_OUT}, 5, {{0, 2}, {1, 3}, {2, 4}, {3, 4}, {4, 5}}},
    {3, 7, {T_IN, T_C2, T_CLIF, T_AVG, T_FLAT, T_LIF, T_OUT}, 6, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}}},
    {1, 6, {T_IN, T_AFF, T_IF, -T_AFF, T_DELAY, T_OUT}, 6, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 2}, {2, 5}}},
};
#define N_TMPL (sizeof templates / sizeof *templates)

typedef struct {
    int nd;
    hsize_t dim[3];
} shp;

static hsize_t shp_n(const shp *x)
{
    hsize_t n = 1;
    for (int k = 0; k < x->nd; k++)
        n *= x->dim[k];
    return n;
}

/* Writes node type ti's datasets into group g, well-formed for input shape
 * *in (unless the recipe changes them), and returns its output shape.
 * m: the graph's layer width; tu: NIR's time unit in ms (1000: s). */
static shp put_node(recipe *r, hid_t g, int ti, int square, shp in, hsize_t m, double tu_ms, double dt_ms)
{
    static const double one[1] = {1}, zero[1] = {0}, minus1[1] = {-1};
    const hsize_t none[1] = {0};
    hsize_t n = shp_n(&in), d1[1], d2[2], d3[3], d4[4];
    double v[512];
    shp out = in;
#define P0(name, val) do { double x_[1] = {val}; put_natural(r, g, name, 0, none, x_, n); } while (0)
    switch (ti) {
    case T_IN:
    case T_OUT:
        d1[0] = (hsize_t)in.nd;
        for (int k = 0; k < in.nd; k++)
            v[k] = (double)in.dim[k];
        put_natural(r, g, "shape", 1, d1, v, n);
        break;
    case T_AFF:
    case T_LIN: {
        hsize_t o = square ? n : m;
        d2[0] = o, d2[1] = n;
        for (hsize_t k = 0; k < o * n && k < 512; k++)
            v[k] = 0.25 * (double)((int)((k * 7) % 5) - 2);
        put_natural(r, g, "weight", 2, d2, v, n);
        if (ti == T_AFF) {
            d1[0] = o;
            for (hsize_t k = 0; k < o && k < 512; k++)
                v[k] = 0.125 * (double)k;
            put_natural(r, g, "bias", 1, d1, v, n);
        }
        out.nd = 1, out.dim[0] = o;
        break;
    }
    case T_SCALE:
        d1[0] = n;
        for (hsize_t k = 0; k < n && k < 512; k++)
            v[k] = 1.5;
        put_natural(r, g, "scale", 1, d1, v, n);
        break;
    case T_C1:
    case T_C2: {
        int two = ti == T_C2;
        hsize_t c = in.dim[0], cout = 1 + pick(r, 2);
        hsize_t kh = two ? 1 + pick(r, in.nd == 3 ? (unsigned)in.dim[1] : 1) : 1;
        hsize_t kw = 1 + pick(r, (unsigned)in.dim[in.nd - 1] < 3 ? (unsigned)in.dim[in.nd - 1] : 3);
        hsize_t *wd = two ? d4 : d3;
        wd[0] = cout, wd[1] = c;
        if (two)
            wd[2] = kh, wd[3] = kw;
        else
            wd[2] = kw;
        for (hsize_t k = 0; k < cout * c * kh * kw && k < 512; k++)
            v[k] = 0.5 * (double)((int)(k % 3) - 1);
        put_natural(r, g, "weight", two ? 4 : 3, wd, v, n);
        d1[0] = cout;
        for (hsize_t k = 0; k < cout; k++)
            v[k] = 0.25;
        put_natural(r, g, "bias", 1, d1, v, n);
        d1[0] = two ? 2 : 1;
        double ones[2] = {1, 1}, zeros[2] = {0, 0};
        if (u8(r) & 1) { /* tuples, or 0-d */
            put_natural(r, g, "stride", 1, d1, ones, n);
            put_natural(r, g, "padding", 1, d1, zeros, n);
            put_natural(r, g, "dilation", 1, d1, ones, n);
        } else {
            put_natural(r, g, "stride", 0, none, one, n);
            if (u8(r) & 1)
                put_string(r, g, "padding", (u8(r) & 1) ? "same" : "valid");
            else
                put_natural(r, g, "padding", 0, none, zero, n);
        }
        put_natural(r, g, "groups", 0, none, one, n);
        if (in.nd >= 2 && (u8(r) & 3) == 3) {
            d1[0] = (hsize_t)in.nd - 1;
            for (int k = 1; k < in.nd; k++)
                v[k - 1] = (double)in.dim[k];
            put_natural(r, g, "input_shape", 1, d1, v, n);
        }
        out.dim[0] = cout;
        if (in.nd >= 2)
            out.dim[in.nd - 1] = in.dim[in.nd - 1] >= kw ? in.dim[in.nd - 1] - kw + 1 : 1;
        if (two && in.nd == 3)
            out.dim[1] = in.dim[1] >= kh ? in.dim[1] - kh + 1 : 1;
        break;
    }
    case T_SUM:
    case T_AVG: {
        hsize_t k = in.nd == 3 && in.dim[1] >= 2 && in.dim[2] >= 2 ? 2 : 1;
        double ks[2] = {(double)k, (double)k}, zeros[2] = {0, 0};
        d1[0] = 2;
        put_natural(r, g, "kernel_size", 1, d1, ks, n);
        if (u8(r) & 1)
            put_natural(r, g, "stride", 1, d1, ks, n);
        if (u8(r) & 1)
            put_natural(r, g, "padding", 1, d1, zeros, n);
        if (in.nd == 3)
            out.dim[1] = (in.dim[1] - k) / k + 1, out.dim[2] = (in.dim[2] - k) / k + 1;
        break;
    }
    case T_FLAT:
        put_natural(r, g, "start_dim", 0, none, zero, n);
        put_natural(r, g, "end_dim", 0, none, minus1, n);
        out.nd = 1, out.dim[0] = n;
        break;
    case T_DELAY:
        P0("delay", dt_ms / tu_ms);
        break;
    case T_THR:
        P0("threshold", 1.0);
        break;
    case T_I:
        P0("r", 1.0);
        break;
    case T_IF:
        P0("r", 1.0);
        P0("v_threshold", 1.0);
        P0("v_reset", 0.0);
        break;
    case T_LI:
    case T_LIF:
        P0("tau", 10.0 / tu_ms);
        P0("r", 1.0);
        P0("v_leak", 0.0);
        if (ti == T_LIF) {
            P0("v_threshold", 1.0);
            P0("v_reset", 0.0);
        }
        break;
    case T_CLI:
    case T_CLIF:
        P0("tau_syn", 5.0 / tu_ms);
        P0("tau_mem", 10.0 / tu_ms);
        P0("r", 1.0);
        P0("v_leak", 0.0);
        P0("w_in", 1.0);
        if (ti == T_CLIF) {
            P0("v_threshold", 1.0);
            P0("v_reset", 0.0);
        }
        break;
    default: { /* NIRGraph, unknown: the recipe's datasets */
        char names[128];
        snprintf(names, sizeof names, "%s", dsets[ti]);
        for (char *save = NULL, *w = strtok_r(names, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            if (strcmp(w, "nodes") == 0) { /* a nested graph */
                hid_t sub = H5Gcreate2(g, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
                if (sub >= 0)
                    H5Gclose(sub);
            } else
                put_numbers(r, g, w);
        }
        break;
    }
    }
#undef P0
    return out;
}

/* /node/edges: the template's (as h5py writes them: variable-length
 * strings, (E, 2)) unless the recipe picks the chain, extra random pairs,
 * keys of missing nodes, fixed-length strings, a wrong shape, numbers,
 * h5py's empty float64 list, or none. */
static void put_edges(recipe *r, hid_t graph, const char (*keys)[16], unsigned n_nodes, const tmpl *t)
{
    unsigned m = u8(r), mode = m < 200 ? 0 : m % 12;
    if (mode == 8)
        return; /* none */
    if (mode == 9) {
        put_numbers(r, graph, "edges");
        return;
    }
    if (mode == 10) { /* h5py's [] */
        hsize_t z[1] = {0};
        hid_t sp = H5Screate_simple(1, z, NULL);
        hid_t d = H5Dcreate2(graph, "edges", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (d >= 0)
            H5Dclose(d);
        H5Sclose(sp);
        return;
    }
    const char *e[64][3];
    unsigned ne = 0;
    if (mode == 0) {
        for (int k = 0; k < t->n_edges; k++)
            if (t->edge[k][0] < n_nodes && t->edge[k][1] < n_nodes)
                e[ne][0] = keys[t->edge[k][0]], e[ne][1] = keys[t->edge[k][1]], e[ne][2] = keys[0], ne++;
    } else if (mode < 6) { /* the chain 0 -> 1 -> ... */
        for (unsigned k = 0; k + 1 < n_nodes && ne < 64; k++, ne++)
            e[ne][0] = keys[k], e[ne][1] = keys[k + 1], e[ne][2] = keys[k];
    }
    unsigned extra = mode == 0 ? (m >= 176 ? 1 + pick(r, 3) : 0) : mode < 3 ? 0 : pick(r, 8);
    for (unsigned k = 0; k < extra && ne < 64; k++, ne++) {
        unsigned a = pick(r, n_nodes + 1), b = pick(r, n_nodes + 1);
        e[ne][0] = a < n_nodes ? keys[a] : "missing";
        e[ne][1] = b < n_nodes ? keys[b] : "";
        e[ne][2] = keys[0];
    }
    int cols = mode == 11 ? 3 : 2;
    hsize_t dims[2] = {ne, (hsize_t)cols}, flat[1] = {ne * 2};
    hid_t sp = mode == 7 ? H5Screate_simple(1, flat, NULL) : H5Screate_simple(2, dims, NULL);
    hid_t ty = H5Tcopy(H5T_C_S1);
    int fixed = mode == 5 || mode == 4;
    H5Tset_size(ty, fixed ? 16 : H5T_VARIABLE);
    H5Tset_cset(ty, H5T_CSET_UTF8);
    hid_t d = H5Dcreate2(graph, "edges", ty, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        if (ne > 0) {
            if (fixed) {
                static char fb[64 * 3][16];
                for (unsigned k = 0; k < ne; k++)
                    for (int c = 0; c < cols; c++)
                        strncpy(fb[k * (unsigned)cols + (unsigned)c], e[k][c], 16);
                H5Dwrite(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, fb);
            } else {
                const char *vb[64 * 3];
                for (unsigned k = 0; k < ne; k++)
                    for (int c = 0; c < cols; c++)
                        vb[k * (unsigned)cols + (unsigned)c] = e[k][c];
                H5Dwrite(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, vb);
            }
        }
        H5Dclose(d);
    }
    H5Tclose(ty);
    H5Sclose(sp);
}

static int write_graph(recipe *r, const char *path, norn_nir_options *opt)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0)
        return -1;
    /* first byte: template; second: options and the graph's frame */
    const tmpl *t = &templates[pick(r, N_TMPL)];
    unsigned top = u8(r);
    opt->dt_ms = (top & 3) == 3 ? 0.5 : (top & 3) == 2 ? 1e-3 : 1.0;
    opt->time_ms = (top >> 2) & 1;
    double tu_ms = opt->time_ms ? 1.0 : 1000.0;
    if ((top >> 3) & 1)
        put_string(r, f, "version", "0.2.0");
    unsigned frame = top >> 4; /* 0..11 a proper graph; 12 no /node, 13 /node a dataset, 14 no type, 15 no nodes */
    if (frame == 12 || frame == 13) {
        if (frame == 13)
            put_numbers(r, f, "node");
        H5Fclose(f);
        return 0;
    }
    hid_t graph = H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (graph < 0) {
        H5Fclose(f);
        return -1;
    }
    if (frame != 14)
        put_string(r, graph, "type", "NIRGraph");
    unsigned n_nodes = (unsigned)t->n;
    hsize_t m = 1 + pick(r, 4); /* layer width */
    shp in = {t->in_nd, {1, 1, 1}}; /* one statement per byte: the order is the recipe's */
    if (in.nd == 1) {
        in.dim[0] = 1 + pick(r, 6);
    } else {
        in.dim[0] = 1 + pick(r, 3);
        in.dim[1] = 2 + pick(r, 4);
        in.dim[2] = 2 + pick(r, 4);
    }
    char keys[8][16];
    shp shape[8];
    if (frame != 15) {
        hid_t nodes = H5Gcreate2(graph, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        for (unsigned k = 0; k < n_nodes; k++) {
            int ti = t->type[k] < 0 ? -t->type[k] : t->type[k];
            unsigned tb = u8(r);
            if (tb >= 232)
                ti = (int)((tb - 232) % N_TYPES); /* another type */
            snprintf(keys[k], sizeof keys[k], tb == 231 ? "n%u.x" : "n%u", k);
            /* the input shape: of the first template predecessor before it */
            shp cur = in;
            for (int e = 0; e < t->n_edges; e++)
                if (t->edge[e][1] == k && t->edge[e][0] < k) {
                    cur = shape[t->edge[e][0]];
                    break;
                }
            shape[k] = cur;
            unsigned form = u8(r);
            if (form >= 250) { /* a dataset where a group belongs */
                put_numbers(r, nodes, keys[k]);
                continue;
            }
            hid_t g = H5Gcreate2(nodes, keys[k], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (g < 0)
                continue;
            if (form != 249)
                put_string(r, g, "type", types[ti]);
            shape[k] = put_node(r, g, ti, t->type[k] < 0, cur, m, tu_ms, opt->dt_ms);
            if (form >= 240) { /* extras the reader must ignore */
                hid_t meta = H5Gcreate2(g, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
                if (meta >= 0)
                    H5Gclose(meta);
                put_numbers(r, g, "unused");
            }
            H5Gclose(g);
        }
        if (nodes >= 0)
            H5Gclose(nodes);
    } else {
        for (unsigned k = 0; k < n_nodes; k++)
            snprintf(keys[k], sizeof keys[k], "n%u", k);
    }
    put_edges(r, graph, (const char(*)[16])keys, n_nodes, t);
    H5Gclose(graph);
    H5Fclose(f);
    return 0;
}

int norn_fuzz_nir(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        quiet = 1;
    }
    const char *path = norn_fuzz_tmp("nir.nir");
    recipe r = {data, size, 0};
    norn_nir_options opt;
    size_t live = norn_mem_live();
    if (write_graph(&r, path, &opt) != 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0; /* could not write it: nothing to test */
    }
    H5Eclear2(H5E_DEFAULT);
    int bad = 0;
    norn_err err = {0};
    norn_nir_graph *g = NULL;
    norn_status st = norn_nir_read(path, &g, &err);
    bad |= norn_fuzz_check("norn_nir_read", st, &err);
    if (st == NORN_OK) {
        norn_nir_net *net = NULL;
        memset(&err, 0, sizeof err);
        st = norn_nir_map(g, &opt, &net, &err);
        bad |= norn_fuzz_check("norn_nir_map", st, &err);
        if (st == NORN_OK)
            norn_nir_net_free(net);
        else if (net != NULL) {
            fprintf(stderr, "norn_nir_map: failed but set its output\n");
            bad = 1;
        }
        norn_nir_graph_free(g);
    } else if (g != NULL) {
        fprintf(stderr, "norn_nir_read: failed but set its output\n");
        bad = 1;
    }
    bad |= norn_fuzz_check_live("norn_nir_read/norn_nir_map", live);
    return bad;
}
