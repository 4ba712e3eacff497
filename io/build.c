/* io/build.c - description -> simulation (see build.h). */
#include "io/build.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/mem.h"
#include "engine/par.h"
#include "engine/rng.h"
#include "io/csv.h"
#include "io/npy.h"

#define NORN_MAX_TARGETS 256

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Loads a value's .npy file into a freshly allocated array with the
 * expected number of elements (rows*cols). */
static norn_status load_array(const norn_desc_value *v, uint64_t rows, uint64_t cols, const char *what,
                              norn_npy_array *arr, norn_err *err)
{
    norn_status st = norn_npy_read(v->file, arr, err);
    if (st != NORN_OK) {
        char msg[800];
        snprintf(msg, sizeof msg, "%s: %s: %s", what, err->where, err->msg);
        return NORN_FAIL(err, st, v->where, "%s", msg);
    }
    int ok = arr->count == rows * cols &&
             ((cols == 1 && arr->ndim == 1) || (arr->ndim == 2 && arr->shape[0] == rows && arr->shape[1] == cols) ||
              (rows == 1 && arr->ndim == 1));
    if (!ok) {
        char shape[128] = "(";
        for (int k = 0; k < arr->ndim; k++) {
            size_t len = strlen(shape);
            snprintf(shape + len, sizeof shape - len, "%s%llu", k ? ", " : "", (unsigned long long)arr->shape[k]);
        }
        strncat(shape, ")", sizeof shape - strlen(shape) - 1);
        norn_npy_array_free(arr);
        if (cols == 1)
            return NORN_FAIL(err, NORN_EINVAL, v->where, "%s: '%s' has shape %s, expected (%llu,)", what,
                             v->file, shape, (unsigned long long)rows);
        return NORN_FAIL(err, NORN_EINVAL, v->where, "%s: '%s' has shape %s, expected (%llu, %llu) = [post, pre]",
                         what, v->file, shape, (unsigned long long)rows, (unsigned long long)cols);
    }
    /* weights, delays and initial values are all numbers: a NaN or an
     * infinity is refused here, naming the file and the entry */
    for (uint64_t k = 0; k < arr->count; k++)
        if (!isfinite(arr->data[k])) {
            double x = arr->data[k];
            norn_npy_array_free(arr);
            if (cols == 1)
                return NORN_FAIL(err, NORN_EINVAL, v->where, "%s: '%s'[%llu] is %g, not a finite number", what,
                                 v->file, (unsigned long long)k, x);
            return NORN_FAIL(err, NORN_EINVAL, v->where, "%s: '%s'[%llu, %llu] is %g, not a finite number", what,
                             v->file, (unsigned long long)(k / cols), (unsigned long long)(k % cols), x);
        }
    return NORN_OK;
}

static norn_status fill_initial(const norn_desc *d, const norn_desc_pop *dp, uint32_t pi, uint32_t first, int v,
                                double *x, norn_err *err);

static norn_status set_initial(norn_sim *s, const norn_desc *d, uint32_t pi, norn_err *err)
{
    const norn_desc_pop *dp = &d->pops[pi];
    uint32_t first = norn_sim_first_id(s, pi);
    for (int v = 0; v < dp->model->n_state; v++) {
        if (!dp->has_initial[v])
            continue;
        double *x = NULL;
        float *xf = NULL;
        if (d->mode == NORN_MODE_EULER) {
            xf = norn_sim_euler_state(s, pi, v);
            x = norn_malloc_n(dp->size, sizeof(double));
            if (!x || !xf) {
                norn_free(x);
                return NORN_FAIL(err, NORN_ENOMEM, dp->where, "cannot allocate initial values");
            }
        } else {
            x = norn_sim_state(s, pi, v);
        }
        norn_status st = fill_initial(d, dp, pi, first, v, x, err);
        if (xf) {
            for (uint32_t i = 0; i < dp->size && st == NORN_OK; i++)
                xf[i] = (float)x[i];
            norn_free(x);
        }
        if (st != NORN_OK)
            return st;
    }
    return NORN_OK;
}

/* Initial values of state variable v into x [size]. */
static norn_status fill_initial(const norn_desc *d, const norn_desc_pop *dp, uint32_t pi, uint32_t first, int v,
                                double *x, norn_err *err)
{
    (void)pi;
    {
        const norn_desc_value *val = &dp->initial[v];
        if (val->file) {
            norn_npy_array arr;
            char what[200];
            snprintf(what, sizeof what, "populations.%s.initial.%s", dp->name, dp->model->state[v].name);
            norn_status st = load_array(val, dp->size, 1, what, &arr, err);
            if (st != NORN_OK)
                return st;
            memcpy(x, arr.data, dp->size * sizeof(double));
            norn_npy_array_free(&arr);
            return NORN_OK;
        }
        if (norn_dist_is_const(&val->dist)) {
            /* one value for all (e.g. a normal with std 0, or clamped to a
             * bound); drawn as the first neuron's would be */
            norn_rng r = norn_rng_stream(d->seed, NORN_RNG_INITIAL, ((uint64_t)v << 32) | first);
            double c = norn_dist_draw(&val->dist, &r);
            for (uint32_t i = 0; i < dp->size; i++)
                x[i] = c;
            return NORN_OK;
        }
        for (uint32_t i = 0; i < dp->size; i++) {
            norn_rng r = norn_rng_stream(d->seed, NORN_RNG_INITIAL, ((uint64_t)v << 32) | (first + i));
            x[i] = norn_dist_draw(&val->dist, &r);
        }
    }
    return NORN_OK;
}

/* connect: {rule: from_list, file: F}: the list, its rows checked against
 * the source and the concatenated targets. */
typedef struct {
    uint32_t *pre, *post;
    double *w, *d;
    uint64_t n;
} syn_list;

static void syn_list_free(syn_list *l)
{
    norn_free(l->pre);
    norn_free(l->post);
    norn_free(l->w);
    norn_free(l->d);
    memset(l, 0, sizeof *l);
}

static norn_status load_list(const norn_desc *d, uint32_t k, uint64_t rows_total, syn_list *l, norn_err *err)
{
    const norn_desc_proj *pj = &d->projs[k];
    uint32_t n_src = d->pops[pj->from].size;
    memset(l, 0, sizeof *l);
    norn_status st = norn_npy_read_synapses(pj->list_file, &l->pre, &l->post, &l->w, &l->d, &l->n, err);
    if (st != NORN_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "projections[%u].connect.file: %s: %s", k, err->where, err->msg);
        return NORN_FAIL(err, st, pj->where, "%s", msg);
    }
    const char *f = pj->list_file;
    if (l->d && d->mode == NORN_MODE_EULER)
        st = NORN_FAIL(err, NORN_EINVAL, pj->where,
                       "projections[%u].connect.file: %s: field 'delay': per-synapse delays are not available in euler "
                       "mode (the projection's delay, 0 or one step, applies to all its synapses)", k, f);
    else if (l->d && pj->delay_given)
        st = NORN_FAIL(err, NORN_EINVAL, pj->where,
                       "projections[%u]: both 'delay' and the delay field of %s; give one of them", k, f);
    for (uint64_t r = 0; r < l->n && st == NORN_OK; r++) {
        if (l->pre[r] >= n_src)
            st = NORN_FAIL(err, NORN_EINVAL, pj->where,
                           "projections[%u].connect.file: %s: row %llu: field 'pre': %u is out of range: '%s' has %u "
                           "neurons", k, f, (unsigned long long)r, l->pre[r], d->pops[pj->from].name, n_src);
        else if (l->post[r] >= rows_total)
            st = NORN_FAIL(err, NORN_EINVAL, pj->where,
                           "projections[%u].connect.file: %s: row %llu: field 'post': %u is out of range: the "
                           "targets have %llu neurons", k, f, (unsigned long long)r, l->post[r],
                           (unsigned long long)rows_total);
    }
    if (st != NORN_OK)
        syn_list_free(l);
    return st;
}

/* The rows of l aimed at targets [lo, lo + n) into part (post made local);
 * with one target, part borrows l's arrays (owned = 0). */
static norn_status split_list(const syn_list *l, uint64_t lo, uint32_t n, int whole, syn_list *part, int *owned,
                              const char *where, norn_err *err)
{
    if (whole) {
        *part = *l;
        *owned = 0;
        return NORN_OK;
    }
    uint64_t m = 0;
    for (uint64_t r = 0; r < l->n; r++)
        m += l->post[r] >= lo && l->post[r] - lo < n;
    memset(part, 0, sizeof *part);
    *owned = 1;
    size_t c = m ? (size_t)m : 1;
    part->pre = norn_malloc_n(c, sizeof *part->pre);
    part->post = norn_malloc_n(c, sizeof *part->post);
    part->w = norn_malloc_n(c, sizeof *part->w);
    part->d = l->d ? norn_malloc_n(c, sizeof *part->d) : NULL;
    if (!part->pre || !part->post || !part->w || (l->d && !part->d)) {
        syn_list_free(part);
        return NORN_FAIL(err, NORN_ENOMEM, where, "cannot allocate %llu synapses", (unsigned long long)m);
    }
    for (uint64_t r = 0; r < l->n; r++)
        if (l->post[r] >= lo && l->post[r] - lo < n) {
            part->pre[part->n] = l->pre[r];
            part->post[part->n] = (uint32_t)(l->post[r] - lo);
            part->w[part->n] = l->w[r];
            if (l->d)
                part->d[part->n] = l->d[r];
            part->n++;
        }
    return NORN_OK;
}

static norn_status build_projection(norn_sim *s, const norn_desc *d, uint32_t k, uint32_t *pair_index,
                                    uint64_t *synapses, norn_err *err)
{
    const norn_desc_proj *pj = &d->projs[k];
    uint32_t n_src = d->pops[pj->from].size;
    uint64_t rows_total = 0;
    for (uint32_t t = 0; t < pj->n_to; t++)
        rows_total += d->pops[pj->to[t]].size;
    norn_npy_array warr = {0}, darr = {0};
    norn_status st = NORN_OK;
    char what[300];
    syn_list list = {0};
    if (pj->conn.rule == NORN_CONN_FROM_LIST && (st = load_list(d, k, rows_total, &list, err)) != NORN_OK)
        return st;
    if (pj->weight.file) {
        snprintf(what, sizeof what, "projections[%u].weight", k);
        st = load_array(&pj->weight, rows_total, n_src, what, &warr, err);
        if (st != NORN_OK)
            return st;
    }
    if (pj->delay.file) {
        snprintf(what, sizeof what, "projections[%u].delay", k);
        st = load_array(&pj->delay, rows_total, n_src, what, &darr, err);
        if (st != NORN_OK) {
            norn_npy_array_free(&warr);
            return st;
        }
    }
    uint64_t row0 = 0;
    for (uint32_t t = 0; t < pj->n_to && st == NORN_OK; t++) {
        uint32_t tgt = pj->to[t];
        norn_proj_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.n_src = n_src;
        spec.n_tgt = d->pops[tgt].size;
        spec.same_population = tgt == pj->from;
        spec.proj_index = (*pair_index)++;
        spec.seed = d->seed;
        spec.conn = pj->conn;
        /* static synapses: one weight for the whole table needs no array
         * (norn_sim_add_synapses keeps it as the table's one weight) */
        spec.uniform_ok = pj->stdp.rule == NORN_STDP_NONE && pj->stp.rule == NORN_STP_NONE;
        /* a weight file without connect: its non-zero entries, or every
         * entry under STDP (a zero weight may grow) */
        if (!pj->conn_given)
            spec.conn.rule = pj->weight.file && pj->stdp.rule == NORN_STDP_NONE ? NORN_CONN_FROM_MATRIX
                                                                                : NORN_CONN_ALL_TO_ALL;
        spec.weight = pj->weight.dist;
        if (pj->weight.file) {
            spec.weight.kind = NORN_DIST_ARRAY;
            spec.weight.array = warr.data + row0 * n_src;
            spec.weight.rows = spec.n_tgt;
            spec.weight.cols = n_src;
        }
        spec.delay_ms = pj->delay.dist;
        if (pj->delay.file) {
            spec.delay_ms.kind = NORN_DIST_ARRAY;
            spec.delay_ms.array = darr.data + row0 * n_src;
            spec.delay_ms.rows = spec.n_tgt;
            spec.delay_ms.cols = n_src;
        }
        spec.resolution_ms = d->resolution_ms;
        spec.where = pj->where;
        if (d->ranks > 1) { /* MPI: the synapses of this rank's targets */
            spec.tgt_part = 1;
            norn_par_block(spec.n_tgt, d->rank, d->ranks, &spec.tgt_lo, &spec.tgt_hi);
        }
        syn_list part = {0};
        int owned = 0;
        if (pj->conn.rule == NORN_CONN_FROM_LIST) {
            st = split_list(&list, row0, spec.n_tgt, pj->n_to == 1, &part, &owned, pj->where, err);
            if (st != NORN_OK)
                break;
            spec.list_n = part.n;
            spec.list_pre = part.pre;
            spec.list_post = part.post;
            spec.list_weight = part.w;
            spec.list_delay_ms = part.d;
        }
        norn_csr csr;
        st = norn_csr_build(&spec, &csr, err);
        if (owned)
            syn_list_free(&part);
        if (st == NORN_EINVAL) {
            /* a bad value drawn or read for one synapse: name the projection
             * and the file it came from (the message names the synapse) */
            const char *file = strncmp(err->msg, "weight", 6) == 0  ? pj->weight.file
                               : strncmp(err->msg, "delay", 5) == 0 ? pj->delay.file
                                                                    : NULL;
            const char *field = file == pj->weight.file ? "weight" : "delay";
            char msg[800], where[sizeof err->where];
            snprintf(where, sizeof where, "%s", err->where);
            if (file)
                snprintf(msg, sizeof msg, "projections[%u].%s: '%s': %s", k, field, file, err->msg);
            else
                snprintf(msg, sizeof msg, "projections[%u]: %s", k, err->msg);
            NORN_FAIL(err, st, where, "%s", msg);
        }
        if (st != NORN_OK)
            break;
        *synapses += csr.nnz;
        st = norn_sim_add_synapses(s, pj->from, tgt, &csr, err);
        if (st == NORN_OK && d->mode == NORN_MODE_EULER)
            st = norn_sim_set_lag(s, norn_sim_n_tables(s) - 1, pj->euler_lag, err);
        if (st == NORN_OK && pj->stp.rule != NORN_STP_NONE) {
            norn_stp_spec sp = {.rule = (int)pj->stp.rule, .U = pj->stp.U, .u0 = pj->stp.u0, .x0 = pj->stp.x0,
                                .tau_rec_ms = pj->stp.tau_rec_ms, .tau_fac_ms = pj->stp.tau_fac_ms,
                                .tau_f_inv = pj->stp.tau_f_inv, .tau_d_inv = pj->stp.tau_d_inv};
            st = norn_sim_set_stp(s, norn_sim_n_tables(s) - 1, &sp, err);
            if (st != NORN_OK) {
                char msg[600];
                snprintf(msg, sizeof msg, "plasticity: %s", err->msg);
                NORN_FAIL(err, st, pj->stp.where, "%s", msg);
            }
        }
        if (st == NORN_OK && pj->stdp.rule != NORN_STDP_NONE) {
            st = norn_sim_set_stdp(s, norn_sim_n_tables(s) - 1, &pj->stdp, err);
            if (st != NORN_OK) {
                char msg[600];
                snprintf(msg, sizeof msg, "%s.plasticity: %s", pj->name, err->msg);
                NORN_FAIL(err, st, pj->stp.where, "%s", msg);
            }
        }
        norn_csr_free(&csr);
        row0 += spec.n_tgt;
    }
    norn_npy_array_free(&warr);
    norn_npy_array_free(&darr);
    syn_list_free(&list);
    return st;
}

static norn_status add_spike_times(norn_sim *s, const norn_desc *d, const norn_desc_stim *st_d, norn_err *err)
{
    double *times = st_d->times_ms;
    uint32_t *neuron = st_d->neuron;
    uint64_t n = st_d->n_spikes;
    double *ftimes = NULL;
    uint32_t *fneuron = NULL;
    norn_status st = NORN_OK;
    if (st_d->file) {
        st = ends_with(st_d->file, ".csv") ? norn_csv_read_spikes(st_d->file, &ftimes, &fneuron, &n, err)
                                           : norn_npy_read_spikes(st_d->file, &ftimes, &fneuron, &n, err);
        if (st != NORN_OK) {
            char msg[800];
            snprintf(msg, sizeof msg, "stimuli[%u].file: %s: %s", (unsigned)(st_d - d->stims), err->where, err->msg);
            return NORN_FAIL(err, st, st_d->where, "%s", msg);
        }
        times = ftimes;
        neuron = fneuron;
    }
    /* the file's name in every message about its contents (a CSV file's
     * spike k is on line k + 2: the header, then one spike a line) */
    unsigned si = (unsigned)(st_d - d->stims);
    int csv = st_d->file && ends_with(st_d->file, ".csv");
    char src[600] = "spike_times";
    if (st_d->file)
        snprintf(src, sizeof src, "stimuli[%u].file: %s", si, st_d->file);
    for (uint64_t k = 0; k < n && st_d->file; k++)
        if (!(times[k] >= 0)) {
            char line[48] = "";
            if (csv)
                snprintf(line, sizeof line, " (line %llu)", (unsigned long long)k + 2);
            st = NORN_FAIL(err, NORN_EINVAL, st_d->where, "%s: spike %llu%s: time %g ms is negative", src,
                           (unsigned long long)k, line, times[k]);
            goto done;
        }
    uint64_t total = 0;
    for (uint32_t t = 0; t < st_d->n_to; t++)
        total += d->pops[st_d->to[t]].size;
    for (uint64_t k = 0; k < n && neuron; k++)
        if (neuron[k] != UINT32_MAX && neuron[k] >= total) {
            char line[48] = "";
            if (csv)
                snprintf(line, sizeof line, ", line %llu", (unsigned long long)k + 2);
            st = NORN_FAIL(err, NORN_EINVAL, st_d->where,
                           "%s: neuron %u (spike %llu%s) is out of range: the targets have %llu neurons", src,
                           neuron[k], (unsigned long long)k, line, (unsigned long long)total);
            goto done;
        }
    double *tt = norn_malloc_n(n ? n : 1, sizeof(double));
    uint32_t *nn = norn_malloc_n(n ? n : 1, sizeof(uint32_t));
    if (!tt || !nn) {
        norn_free(tt);
        norn_free(nn);
        st = NORN_FAIL(err, NORN_ENOMEM, st_d->where, "cannot allocate %llu spikes", (unsigned long long)n);
        goto done;
    }
    uint64_t off = 0;
    for (uint32_t t = 0; t < st_d->n_to && st == NORN_OK; t++) {
        uint32_t pop = st_d->to[t], size = d->pops[pop].size;
        uint64_t m = 0;
        for (uint64_t k = 0; k < n; k++) {
            uint32_t j = neuron ? neuron[k] : UINT32_MAX;
            if (j == UINT32_MAX || (j >= off && j < off + size)) {
                tt[m] = times[k] + st_d->delay_ms;
                nn[m] = j == UINT32_MAX ? UINT32_MAX : (uint32_t)(j - off);
                m++;
            }
        }
        if (m) {
            st = norn_sim_add_spike_train(s, pop, m, tt, nn, st_d->weight, err);
            if (st != NORN_OK) {
                char msg[512];
                snprintf(msg, sizeof msg, "%s", err->msg);
                NORN_FAIL(err, st, st_d->where, "%s", msg);
            }
        }
        off += size;
    }
    norn_free(tt);
    norn_free(nn);
done:
    norn_free(ftimes);
    norn_free(fneuron);
    return st;
}

/* A [T, n] tensor over the concatenated targets, split by population. */
static norn_status add_tensor(norn_sim *s, const norn_desc *d, const norn_desc_stim *sd, norn_err *err)
{
    const char *what = sd->type == NORN_STIM_SPIKE_TENSOR ? "spike_tensor" : "current_tensor";
    uint64_t total = 0;
    for (uint32_t t = 0; t < sd->n_to; t++)
        total += d->pops[sd->to[t]].size;
    norn_npy_array arr;
    norn_status st = norn_npy_read(sd->file, &arr, err);
    if (st != NORN_OK) {
        char msg[800];
        snprintf(msg, sizeof msg, "%s.file: %s: %s", what, err->where, err->msg);
        return NORN_FAIL(err, st, sd->where, "%s", msg);
    }
    if (arr.ndim != 2 || arr.shape[1] != total) {
        uint64_t a = arr.ndim > 0 ? arr.shape[0] : 0, b = arr.ndim > 1 ? arr.shape[1] : 0;
        int nd = arr.ndim;
        norn_npy_array_free(&arr);
        return NORN_FAIL(err, NORN_EINVAL, sd->where,
                         "%s: '%s' has %d dimensions (%llu, %llu); expected [T, %llu] (steps, target neurons)", what,
                         sd->file, nd, (unsigned long long)a, (unsigned long long)b, (unsigned long long)total);
    }
    uint64_t T = arr.shape[0], off = 0;
    for (uint32_t t = 0; t < sd->n_to && st == NORN_OK; t++) {
        uint32_t pop = sd->to[t], n = d->pops[pop].size;
        /* one target: the file's array as it is; several: its columns */
        double *part = sd->n_to == 1 ? arr.data : norn_malloc_n(T * n + 1, sizeof(double));
        if (!part) {
            st = NORN_FAIL(err, NORN_ENOMEM, sd->where, "%s: cannot allocate %llu values", what,
                           (unsigned long long)(T * n));
            break;
        }
        for (uint64_t r = 0; r < T && part != arr.data; r++)
            memcpy(part + r * n, arr.data + r * total + off, n * sizeof(double));
        st = sd->type == NORN_STIM_SPIKE_TENSOR ? norn_sim_add_spike_tensor(s, pop, T, part, err)
                                                : norn_sim_add_current_tensor(s, pop, T, part, err);
        if (st != NORN_OK) {
            char msg[600];
            snprintf(msg, sizeof msg, "%s", err->msg);
            NORN_FAIL(err, st, sd->where, "%s (file '%s')", msg, sd->file);
        }
        if (part != arr.data)
            norn_free(part);
        off += n;
    }
    norn_npy_array_free(&arr);
    return st;
}

static norn_status add_stimulus(norn_sim *s, const norn_desc *d, const norn_desc_stim *sd, norn_err *err)
{
    norn_status st = NORN_OK;
    if (sd->type == NORN_STIM_SPIKE_TIMES)
        return add_spike_times(s, d, sd, err);
    if (sd->type == NORN_STIM_SPIKE_TENSOR || sd->type == NORN_STIM_CURRENT_TENSOR)
        return add_tensor(s, d, sd, err);
    for (uint32_t t = 0; t < sd->n_to && st == NORN_OK; t++) {
        uint32_t pop = sd->to[t];
        if (sd->type == NORN_STIM_POISSON) {
            st = norn_sim_add_poisson(s, pop, sd->rate_hz, sd->weight, sd->start_ms + sd->delay_ms,
                                      sd->stop_ms + sd->delay_ms, err);
        } else {
            double *times = norn_malloc_n(sd->n_steps ? sd->n_steps : 1, sizeof(double));
            double *amps = norn_malloc_n(sd->n_steps ? sd->n_steps : 1, sizeof(double));
            if (!times || !amps) {
                norn_free(times);
                norn_free(amps);
                return NORN_FAIL(err, NORN_ENOMEM, sd->where, "cannot allocate a dc stimulus");
            }
            for (uint64_t k = 0; k < sd->n_steps; k++) {
                times[k] = sd->times_ms[k] + sd->delay_ms;
                amps[k] = sd->amplitudes_pA[k] * sd->weight;
            }
            st = norn_sim_add_dc(s, pop, sd->n_steps, times, amps, err);
            norn_free(times);
            norn_free(amps);
        }
        if (st != NORN_OK && err && !err->where[0])
            snprintf(err->where, sizeof err->where, "%s", sd->where);
    }
    return st;
}

/* A generous estimate of the bytes a network needs at its peak: 8 per
 * synapse (target and weight; 12 with STDP), 4 more per synapse of the
 * largest table while it is built, ~128 per neuron and ~48 per neuron and
 * Poisson drive. Synapse counts are exact for the fixed-count rules and
 * expected for fixed_probability; files are counted by their size.
 * With MPI, per rank: the synapses divide by the rank count, the neurons
 * do not (every rank keeps every neuron's state arrays). */
static double estimate_bytes(const norn_desc *d, double *synapses_out, uint32_t *big_proj, double *big_syn)
{
    double total = 0, syn_all = 0, largest = 0;
    *big_proj = UINT32_MAX;
    *big_syn = 0;
    for (uint32_t k = 0; k < d->n_pops; k++)
        total += 128.0 * d->pops[k].size;
    for (uint32_t k = 0; k < d->n_stims; k++)
        if (d->stims[k].type == NORN_STIM_POISSON)
            for (uint32_t t = 0; t < d->stims[k].n_to; t++)
                total += 48.0 * d->pops[d->stims[k].to[t]].size;
    for (uint32_t k = 0; k < d->n_projs; k++) {
        const norn_desc_proj *pj = &d->projs[k];
        double ns = d->pops[pj->from].size;
        for (uint32_t t = 0; t < pj->n_to; t++) {
            double nt = d->pops[pj->to[t]].size, n = 0;
            const norn_conn_spec *c = &pj->conn;
            int rule = pj->conn_given ? (int)c->rule : pj->weight.file ? -1 : NORN_CONN_ALL_TO_ALL;
            switch (rule) {
            case NORN_CONN_ALL_TO_ALL: n = ns * nt; break;
            case NORN_CONN_ONE_TO_ONE: n = nt; break;
            case NORN_CONN_FIXED_PROBABILITY: n = c->p * ns * nt; break;
            case NORN_CONN_FIXED_INDEGREE: n = (double)c->indegree * nt; break;
            case NORN_CONN_FIXED_OUTDEGREE: n = (double)c->outdegree * ns; break;
            case NORN_CONN_FIXED_TOTAL_NUMBER: n = (double)c->total; break;
            default: n = 0; break; /* from files: bounded by what the files hold */
            }
            syn_all += n;
            if (n > *big_syn) {
                *big_syn = n;
                *big_proj = k;
            }
            if (d->ranks > 1) /* MPI: this rank's targets */
                n /= d->ranks;
            total += n * (pj->stdp.rule != NORN_STDP_NONE && pj->stdp.rule != NORN_STDP_NORSE ? 12.0 : 8.0);
            if (n > largest)
                largest = n;
        }
    }
    *synapses_out = syn_all;
    return total + 4.0 * largest;
}

norn_status norn_build(const norn_desc *d, norn_sim **out, norn_build_info *info, norn_err *err)
{
    double t_start = now_s();
    {
        uint32_t big;
        double syn, big_syn, need = estimate_bytes(d, &syn, &big, &big_syn);
        double limit = d->max_memory ? (double)d->max_memory : (double)norn_mem_available();
        if (limit > 0 && need > limit) {
            char what[300] = "";
            if (big != UINT32_MAX)
                snprintf(what, sizeof what, ", %.3g of them in projections[%u] '%s'", big_syn, big,
                         d->projs[big].name);
            return NORN_FAIL(err, NORN_ENOMEM, big != UINT32_MAX ? d->projs[big].where : d->where,
                             "the network needs about %.2f GiB (%.3g synapses%s), more than the %.2f GiB %s; "
                             "make it smaller%s", need / 1073741824.0, syn, what, limit / 1073741824.0,
                             d->max_memory ? "allowed by --max-memory" : "of memory available",
                             d->max_memory ? " or raise --max-memory" : "");
        }
    }
    norn_sim_config cfg = {.resolution_ms = d->resolution_ms, .mode = d->mode, .seed = d->seed,
                           .rank = d->rank, .ranks = d->ranks};
    norn_sim *s = NULL;
    norn_status st = norn_sim_create(&cfg, &s, err);
    if (st != NORN_OK)
        return st;
    for (uint32_t k = 0; k < d->n_pops && st == NORN_OK; k++) {
        const norn_desc_pop *p = &d->pops[k];
        uint32_t idx;
        if (d->mode == NORN_MODE_EULER)
            st = norn_sim_add_euler_population(s, p->name, p->euler, p->size, p->params, p->where, &idx, err);
        else
            st = norn_sim_add_population(s, p->name, p->model, p->size, p->params, p->where, &idx, err);
        if (st == NORN_OK)
            st = set_initial(s, d, k, err);
    }
    double t_conn = now_s();
    uint64_t synapses = 0;
    uint32_t pair_index = 0;
    for (uint32_t k = 0; k < d->n_projs && st == NORN_OK; k++)
        st = build_projection(s, d, k, &pair_index, &synapses, err);
    /* projection k owns tables first_table(k) .. + n_to - 1, in order */
    for (uint32_t k = 0; k < d->n_weight_recs && st == NORN_OK; k++) {
        const norn_desc_weight_rec *r = &d->weight_recs[k];
        uint32_t first = 0, tabs[NORN_MAX_TARGETS];
        for (uint32_t j = 0; j < r->proj; j++)
            first += d->projs[j].n_to;
        uint32_t nt = d->projs[r->proj].n_to;
        if (nt > NORN_MAX_TARGETS) {
            st = NORN_FAIL(err, NORN_EINVAL, r->where, "record.weights: at most %d target populations",
                           NORN_MAX_TARGETS);
            break;
        }
        for (uint32_t j = 0; j < nt; j++)
            tabs[j] = first + j;
        uint32_t idx;
        if (r->n_times && r->times_ms[r->n_times - 1] > d->duration_ms) {
            st = NORN_FAIL(err, NORN_EINVAL, r->where, "record.weights.times: %g ms is after the end of the run (%g ms)",
                           r->times_ms[r->n_times - 1], d->duration_ms);
            break;
        }
        st = r->times_ms ? norn_sim_record_weights_at(s, tabs, nt, r->times_ms, r->n_times, &idx, err)
                         : norn_sim_record_weights(s, tabs, nt, r->every_ms, &idx, err);
        if (st != NORN_OK && err && !err->where[0])
            snprintf(err->where, sizeof err->where, "%s", r->where);
    }
    double connect_s = now_s() - t_conn;
    for (uint32_t k = 0; k < d->n_plast_recs && st == NORN_OK; k++) {
        const norn_desc_plast_rec *r = &d->plast_recs[k];
        uint32_t first = 0, idx;
        for (uint32_t j = 0; j < r->proj; j++)
            first += d->projs[j].n_to;
        /* every table of the projection sees the same presynaptic spikes:
         * the first one's state is the projection's */
        st = norn_sim_record_stp(s, first, r->vars, r->n_vars, r->every_ms, &idx, err);
        if (st != NORN_OK && err && !err->where[0])
            snprintf(err->where, sizeof err->where, "%s", r->where);
    }
    for (uint32_t k = 0; k < d->n_stims && st == NORN_OK; k++)
        st = add_stimulus(s, d, &d->stims[k], err);
    for (uint32_t k = 0; k < d->n_pops && st == NORN_OK; k++)
        /* MPI: every rank sees every spike; rank 0 keeps the record */
        norn_sim_record_spikes(s, k, (d->record_spikes ? d->record_spikes[k] : 1) && d->rank == 0);
    for (uint32_t k = 0; k < d->n_state_recs && st == NORN_OK; k++) {
        const norn_desc_state_rec *r = &d->state_recs[k];
        uint32_t idx;
        st = norn_sim_record_state(s, r->pop, r->vars, r->n_vars, r->neurons, r->n_neurons, r->interval_ms,
                                   &idx, err);
        if (st != NORN_OK && err && !err->where[0])
            snprintf(err->where, sizeof err->where, "%s", r->where);
    }
    if (st != NORN_OK) {
        norn_sim_destroy(s);
        return st;
    }
    if (info) {
        info->build_s = now_s() - t_start;
        info->connect_s = connect_s;
        info->synapses = synapses;
    }
    *out = s;
    return NORN_OK;
}
