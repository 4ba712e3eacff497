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
 * 2^32, 1e18, 1e300), chunking and gzip, and the edges (a chain, random
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
                                       1e-300,  -1.0,     0.5,       2.0,     9.2233720368547758e18,
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

/* Writes dataset loc/name as chosen by the recipe; h5 errors only skip it. */
static void put_numbers(recipe *r, hid_t loc, const char *name)
{
    /* shape: 0 scalar, 1 (k,), 2 (a, b), 3 (a, b, c), 4 (a, b, c, d), 5 empty (0,), 6 null, 7 9-d */
    unsigned form = pick(r, 16);
    int nd = form < 4 ? (int)form : form < 8 ? 1 : form < 10 ? 2 : form < 12 ? 4 : form == 12 ? 3 : -1;
    hsize_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    hid_t sp;
    if (form == 13) {
        nd = 1;
        dims[0] = 0;
        sp = H5Screate_simple(1, dims, NULL);
    } else if (form == 14) {
        nd = 0;
        sp = H5Screate(H5S_NULL);
    } else if (form == 15) {
        nd = 9;
        sp = H5Screate_simple(9, dims, NULL);
    } else {
        for (int k = 0; k < nd; k++)
            dims[k] = 1 + pick(r, 6);
        sp = nd == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(nd, dims, NULL);
    }
    if (sp < 0)
        return;
    hsize_t n = 1;
    for (int k = 0; k < nd; k++)
        n *= dims[k];
    if (form == 14)
        n = 0;
    double v[64 * 8];
    if (n > sizeof v / sizeof *v)
        n = sizeof v / sizeof *v; /* cannot happen with the extents above */
    for (hsize_t k = 0; k < n; k++)
        v[k] = value(r);
    /* the file's type */
    unsigned ty = pick(r, 16);
    hid_t ft = -1, mt = H5T_NATIVE_DOUBLE, own = -1;
    long long iv[64 * 8];
    unsigned long long uv[64 * 8];
    signed char bv[64 * 8];
    const void *buf = v;
    switch (ty) {
    case 0: case 1: case 2: case 3: case 4: ft = H5T_IEEE_F64LE; break;
    case 5: case 6: ft = H5T_IEEE_F32LE; break;
    case 7: ft = H5T_IEEE_F64BE; break;
    case 8: case 9: case 10: case 11: {
        static const hid_t *const its[4] = {&H5T_STD_I64LE_g, &H5T_STD_I32BE_g, &H5T_STD_I8LE_g, &H5T_STD_I16LE_g};
        ft = *its[ty - 8];
        for (hsize_t k = 0; k < n; k++)
            iv[k] = isfinite(v[k]) && fabs(v[k]) < 9e18 ? (long long)v[k] : -1;
        mt = H5T_NATIVE_LLONG;
        buf = iv;
        if (ty == 10) /* int8: keep the values in range so libhdf5 need not clip */
            for (hsize_t k = 0; k < n; k++)
                iv[k] = (signed char)iv[k];
        if (ty == 11)
            for (hsize_t k = 0; k < n; k++)
                iv[k] = (short)iv[k];
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
    case 14: { /* a compound: not numbers */
        own = H5Tcreate(H5T_COMPOUND, sizeof(double));
        H5Tinsert(own, "x", 0, H5T_NATIVE_DOUBLE);
        ft = mt = own;
        break;
    }
    default: { /* a string where numbers belong */
        own = H5Tcopy(H5T_C_S1);
        H5Tset_size(own, 16);
        ft = mt = own;
        static char text[64 * 8][16];
        for (hsize_t k = 0; k < n; k++)
            snprintf(text[k], sizeof text[k], "%.3g", v[k]);
        buf = text;
        break;
    }
    }
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (nd >= 1 && nd <= 4 && n > 0 && form != 14 && (u8(r) & 3) == 3) {
        H5Pset_chunk(dcpl, nd, dims);
        if (u8(r) & 1)
            H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 1);
    }
    hid_t d = H5Dcreate2(loc, name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d >= 0) {
        if (n > 0 && form != 14)
            H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        H5Dclose(d);
    }
    H5Pclose(dcpl);
    if (own >= 0)
        H5Tclose(own);
    H5Sclose(sp);
}

/* A string dataset: variable-length (UTF-8 or ASCII) or fixed-length,
 * scalar or (k,); or a number instead. */
static void put_string(recipe *r, hid_t loc, const char *name, const char *text)
{
    static const char *const odd[] = {"", "same", "valid", "\xff\xfe", "NIRGraph", "Input\n", "LIF ", "lif"};
    unsigned how = pick(r, 16);
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
            const char *s[2] = {text, text};
            H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s);
        } else {
            char buf[2][64] = {{0}};
            size_t sz = H5Tget_size(t);
            if (sz <= sizeof buf[0]) {
                memcpy(buf[0], text, strlen(text) < sz ? strlen(text) : sz);
                memcpy(buf[0] + sz, buf[0], sz); /* packed: the second element follows */
                H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf[0]);
            }
        }
        H5Dclose(d);
    }
    H5Sclose(sp);
    H5Tclose(t);
}

static void put_edges(recipe *r, hid_t graph, const char (*keys)[16], unsigned n_nodes)
{
    unsigned mode = pick(r, 12);
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
    if (mode < 6) /* the chain 0 -> 1 -> ... */
        for (unsigned k = 0; k + 1 < n_nodes && ne < 64; k++, ne++)
            e[ne][0] = keys[k], e[ne][1] = keys[k + 1], e[ne][2] = keys[k];
    unsigned extra = mode < 3 ? 0 : pick(r, 8);
    for (unsigned k = 0; k < extra && ne < 64; k++, ne++) {
        unsigned a = pick(r, n_nodes + 1), b = pick(r, n_nodes + 1);
        e[ne][0] = a < n_nodes ? keys[a] : "missing";
        e[ne][1] = b < n_nodes ? keys[b] : "";
        e[ne][2] = keys[0];
    }
    int cols = mode == 11 ? 3 : 2;
    hsize_t dims[2] = {ne, (hsize_t)cols};
    hid_t sp = H5Screate_simple(mode == 7 ? 1 : 2, mode == 7 ? (hsize_t[]){ne * 2} : dims, NULL);
    hid_t t = H5Tcopy(H5T_C_S1);
    int fixed = mode == 5 || mode == 4;
    H5Tset_size(t, fixed ? 16 : H5T_VARIABLE);
    hid_t d = H5Dcreate2(graph, "edges", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        if (ne > 0) {
            if (fixed) {
                static char fb[64 * 3][16];
                for (unsigned k = 0; k < ne; k++)
                    for (int c = 0; c < cols; c++)
                        strncpy(fb[k * (unsigned)cols + (unsigned)c], e[k][c], 16);
                H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, fb);
            } else {
                const char *vb[64 * 3];
                for (unsigned k = 0; k < ne; k++)
                    for (int c = 0; c < cols; c++)
                        vb[k * (unsigned)cols + (unsigned)c] = e[k][c];
                H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, vb);
            }
        }
        H5Dclose(d);
    }
    H5Tclose(t);
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
    unsigned top = u8(r);
    opt->dt_ms = (top & 3) == 3 ? 0.5 : (top & 3) == 2 ? 1e-3 : 1.0;
    opt->time_ms = (top >> 2) & 1;
    if ((top >> 3) & 1)
        put_string(r, f, "version", "0.2.0");
    unsigned g_how = (top >> 4) & 7; /* 0..4 a proper graph, 5 no /node, 6 /node a dataset, 7 no nodes */
    if (g_how == 5 || g_how == 6) {
        if (g_how == 6)
            put_numbers(r, f, "node");
        H5Fclose(f);
        return 0;
    }
    hid_t graph = H5Gcreate2(f, "node", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (graph < 0) {
        H5Fclose(f);
        return -1;
    }
    if (g_how != 4)
        put_string(r, graph, "type", "NIRGraph");
    unsigned n_nodes = 1 + pick(r, 8);
    char keys[8][16];
    if (g_how != 7) {
        hid_t nodes = H5Gcreate2(graph, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        /* a plausible chain by default: Input, Affine, a neuron, Output */
        static const unsigned plain[8] = {0, 2, 17, 3, 15, 4, 13, 1};
        for (unsigned k = 0; k < n_nodes; k++) {
            unsigned tb = u8(r);
            unsigned ti = tb < 128 ? plain[k] : (tb - 128) % N_TYPES;
            if (k == n_nodes - 1 && tb < 128)
                ti = 1; /* end on an Output */
            snprintf(keys[k], sizeof keys[k], (u8(r) & 15) == 15 ? "n%u.x" : "n%u", k);
            unsigned form = pick(r, 16);
            if (form == 15) { /* a dataset where a group belongs */
                put_numbers(r, nodes, keys[k]);
                continue;
            }
            hid_t g = H5Gcreate2(nodes, keys[k], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (g < 0)
                continue;
            if (form != 14)
                put_string(r, g, "type", types[ti]);
            char names[128];
            snprintf(names, sizeof names, "%s", dsets[ti]);
            for (char *save = NULL, *w = strtok_r(names, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                unsigned how = pick(r, 16);
                if (how == 15)
                    continue; /* missing */
                if (strcmp(w, "padding") == 0 && how >= 12)
                    put_string(r, g, w, how == 12 ? "same" : "valid");
                else if (strcmp(w, "nodes") == 0) { /* a nested graph */
                    hid_t sub = H5Gcreate2(g, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
                    if (sub >= 0)
                        H5Gclose(sub);
                } else
                    put_numbers(r, g, w);
            }
            if ((u8(r) & 7) == 7) { /* extras the reader must ignore */
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
    put_edges(r, graph, (const char(*)[16])keys, n_nodes);
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
