/* io/output.c - run results to files (see output.h). */
#include "io/output.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "io/atomic.h"
#include "io/csv.h"
#include "io/fmt.h"
#include "io/npy.h"

#ifndef NORN_VERSION
#define NORN_VERSION "unknown"
#endif

norn_status norn_output_mkdir(const char *dir, norn_err *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return NORN_FAIL(err, NORN_EIO, dir, "path too long");
    for (char *p = path + 1;; p++) {
        char c = *p;
        if (c == '/' || c == 0) {
            *p = 0;
            if (mkdir(path, 0777) != 0 && errno != EEXIST)
                return NORN_FAIL(err, NORN_EIO, path, "cannot create directory: %s", strerror(errno));
            *p = c;
        }
        if (c == 0)
            break;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return NORN_FAIL(err, NORN_EIO, dir, "not a directory");
    return NORN_OK;
}

/* ---- JSON through libfyaml's emitter */

typedef struct {
    struct fy_document *d;
    int fail;
} jdoc;

/* A string node that stays a string in JSON (never read as a number or a
 * boolean): built from a double-quoted YAML scalar. */
static struct fy_node *jstr(jdoc *j, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    /* plain malloc: the document takes the buffer over and frees it */
    char *q = malloc(6 * n + 3);
    if (!q) {
        j->fail = 1;
        return NULL;
    }
    size_t o = 0;
    q[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            q[o++] = '\\';
            q[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)sprintf(q + o, "\\x%02x", c);
        } else {
            q[o++] = (char)c;
        }
    }
    q[o++] = '"';
    q[o] = 0;
    struct fy_node *node = fy_node_build_from_malloc_string(j->d, q, o);
    if (!node) {
        free(q);
        j->fail = 1;
    }
    return node;
}

static struct fy_node *jnum(jdoc *j, double x)
{
    char buf[64];
    if (isnan(x))
        snprintf(buf, sizeof buf, "nan");
    else if (isinf(x))
        snprintf(buf, sizeof buf, x > 0 ? "inf" : "-inf");
    else
        norn_fmt_double(buf, sizeof buf, x);
    if (!isfinite(x))
        return jstr(j, buf);
    struct fy_node *n = fy_node_create_scalar_copy(j->d, buf, FY_NT);
    if (!n)
        j->fail = 1;
    return n;
}

static struct fy_node *jint(jdoc *j, unsigned long long x)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", x);
    struct fy_node *n = fy_node_create_scalar_copy(j->d, buf, FY_NT);
    if (!n)
        j->fail = 1;
    return n;
}

static void jset(jdoc *j, struct fy_node *map, const char *key, struct fy_node *val)
{
    if (!map || !val || fy_node_mapping_append(map, jstr(j, key), val) != 0)
        j->fail = 1;
}

static struct fy_node *jmap(jdoc *j)
{
    struct fy_node *n = fy_node_create_mapping(j->d);
    if (!n)
        j->fail = 1;
    return n;
}

static const char *mode_name(norn_mode m)
{
    return m == NORN_MODE_CONTINUOUS ? "continuous" : m == NORN_MODE_GRID ? "grid" : "euler";
}

static norn_status write_json(const char *path, const norn_desc *d, const norn_sim *s,
                              const norn_run_info *info, norn_err *err)
{
    jdoc j = {fy_document_create(NULL), 0};
    if (!j.d)
        return NORN_FAIL(err, NORN_ENOMEM, path, "cannot create the JSON document");
    norn_sim_stats stt;
    norn_sim_get_stats(s, &stt);
    double dur_s = stt.duration_ms / 1000.0;
    struct fy_node *root = jmap(&j);
    jset(&j, root, "norn_version", jstr(&j, NORN_VERSION));
    jset(&j, root, "description", jstr(&j, d->path));
    jset(&j, root, "name", jstr(&j, d->name));
    if (info->command)
        jset(&j, root, "command", jstr(&j, info->command));
    jset(&j, root, "mode", jstr(&j, mode_name(d->mode)));
    jset(&j, root, "seed", jint(&j, (unsigned long long)d->seed));
    jset(&j, root, "duration_ms", jnum(&j, stt.duration_ms));
    jset(&j, root, "resolution_ms", jnum(&j, d->resolution_ms));
    jset(&j, root, "min_delay_ms", jnum(&j, stt.min_delay_ms));
    jset(&j, root, "neurons", jint(&j, stt.neurons));
    jset(&j, root, "synapses", jint(&j, stt.synapses));
    jset(&j, root, "synapse_bytes", jint(&j, stt.synapse_bytes));
    jset(&j, root, "bytes_per_synapse", jnum(&j, stt.synapses ? (double)stt.synapse_bytes / (double)stt.synapses : 0));
    jset(&j, root, "spikes", jint(&j, stt.spikes));
    jset(&j, root, "synaptic_events", jint(&j, stt.synaptic_events));
    jset(&j, root, "queue_events", jint(&j, stt.queue_events));
    jset(&j, root, "windows", jint(&j, stt.windows));
    jset(&j, root, "build_s", jnum(&j, info->build_s));
    jset(&j, root, "connect_s", jnum(&j, info->connect_s));
    jset(&j, root, "synapses_per_s_built", jnum(&j, info->connect_s > 0 ? (double)stt.synapses / info->connect_s : 0));
    jset(&j, root, "sim_wall_s", jnum(&j, info->sim_wall_s));
    jset(&j, root, "sim_cpu_s", jnum(&j, info->sim_cpu_s));
    jset(&j, root, "wall_s", jnum(&j, info->wall_s));
    jset(&j, root, "cpu_s", jnum(&j, info->cpu_s));
    jset(&j, root, "realtime_factor", jnum(&j, dur_s > 0 ? info->sim_wall_s / dur_s : 0));
    jset(&j, root, "events_per_s", jnum(&j, info->sim_wall_s > 0 ? (double)stt.synaptic_events / info->sim_wall_s : 0));
    jset(&j, root, "peak_rss_bytes", jint(&j, info->peak_rss));
    jset(&j, root, "peak_heap_bytes", jint(&j, info->peak_heap));
    struct fy_node *pops = fy_node_create_sequence(j.d);
    if (!pops)
        j.fail = 1;
    for (uint32_t k = 0; k < d->n_pops; k++) {
        const norn_desc_pop *dp = &d->pops[k];
        struct fy_node *p = jmap(&j);
        uint32_t first = norn_sim_first_id(s, k);
        uint64_t n_sp = norn_sim_pop_spike_count(s, k);
        jset(&j, p, "name", jstr(&j, dp->name));
        jset(&j, p, "model", jstr(&j, dp->model->name));
        jset(&j, p, "size", jint(&j, dp->size));
        jset(&j, p, "first_id", jint(&j, first));
        jset(&j, p, "last_id", jint(&j, first + dp->size - 1));
        jset(&j, p, "spikes", jint(&j, n_sp));
        jset(&j, p, "rate_hz", jnum(&j, dur_s > 0 ? (double)n_sp / dp->size / dur_s : 0));
        jset(&j, p, "recorded", jstr(&j, (d->record_spikes ? d->record_spikes[k] : 1) ? "spikes" : "none"));
        struct fy_node *par = jmap(&j);
        for (int q = 0; q < dp->model->n_params; q++)
            jset(&j, par, dp->model->params[q].name, jnum(&j, dp->params[q]));
        jset(&j, p, "params", par);
        if (pops && fy_node_sequence_append(pops, p) != 0)
            j.fail = 1;
    }
    jset(&j, root, "populations", pops);
    struct fy_node *projs = fy_node_create_sequence(j.d);
    if (!projs)
        j.fail = 1;
    uint32_t table = 0;
    for (uint32_t k = 0; k < d->n_projs; k++) {
        const norn_desc_proj *pj = &d->projs[k];
        struct fy_node *p = jmap(&j), *to = fy_node_create_sequence(j.d);
        uint64_t nsyn = 0, rows = 0;
        for (uint32_t t = 0; t < pj->n_to; t++, table++) {
            nsyn += norn_sim_table_csr(s, table)->nnz;
            rows += d->pops[pj->to[t]].size;
            if (!to || fy_node_sequence_append(to, jstr(&j, d->pops[pj->to[t]].name)) != 0)
                j.fail = 1;
        }
        jset(&j, p, "name", jstr(&j, pj->name));
        jset(&j, p, "from", jstr(&j, d->pops[pj->from].name));
        jset(&j, p, "to", to);
        jset(&j, p, "pre_size", jint(&j, d->pops[pj->from].size));
        jset(&j, p, "post_size", jint(&j, rows));
        jset(&j, p, "synapses", jint(&j, nsyn));
        /* the targets' input unit, when they agree ("1" in euler mode: Norse's units) */
        const char *unit = NULL;
        for (uint32_t t = 0; t < pj->n_to; t++) {
            const norn_desc_pop *tp = &d->pops[pj->to[t]];
            const char *u = d->mode == NORN_MODE_EULER ? "1" : tp->model->input_unit;
            if (u && unit && strcmp(u, unit) != 0) {
                unit = "";
                break;
            }
            unit = u;
        }
        if (unit && *unit)
            jset(&j, p, "weight_unit", jstr(&j, unit));
        if (projs && fy_node_sequence_append(projs, p) != 0)
            j.fail = 1;
    }
    jset(&j, root, "projections", projs);
    struct fy_node *recs = fy_node_create_sequence(j.d);
    if (!recs)
        j.fail = 1;
    for (uint32_t r = 0; r < norn_sim_n_recorders(s); r++) {
        norn_recording rc;
        norn_sim_recording(s, r, &rc);
        struct fy_node *p = jmap(&j), *vars = fy_node_create_sequence(j.d), *neurons = fy_node_create_sequence(j.d);
        for (int v = 0; v < rc.n_vars; v++)
            if (!vars || fy_node_sequence_append(vars, jstr(&j, norn_sim_state_name(s, rc.pop, rc.vars[v]))) != 0)
                j.fail = 1;
        for (uint32_t q = 0; q < rc.n_neurons; q++)
            if (!neurons || fy_node_sequence_append(neurons, jint(&j, rc.neurons[q])) != 0)
                j.fail = 1;
        jset(&j, p, "population", jstr(&j, norn_sim_pop_name(s, rc.pop)));
        jset(&j, p, "variables", vars);
        jset(&j, p, "neurons", neurons);
        jset(&j, p, "samples", jint(&j, rc.n_samples));
        jset(&j, p, "interval_ms", jnum(&j, rc.n_samples > 1 ? rc.times_ms[1] - rc.times_ms[0]
                                                              : (rc.n_samples ? rc.times_ms[0] : 0)));
        if (recs && fy_node_sequence_append(recs, p) != 0)
            j.fail = 1;
    }
    jset(&j, root, "recordings", recs);
    if (j.fail || fy_document_set_root(j.d, root) != 0) {
        fy_document_destroy(j.d);
        return NORN_FAIL(err, NORN_ENOMEM, path, "cannot build run.json");
    }
    char *text = fy_emit_document_to_string(j.d, FYECF_MODE_JSON);
    fy_document_destroy(j.d);
    if (!text)
        return NORN_FAIL(err, NORN_ENOMEM, path, "cannot emit run.json");
    norn_afile af;
    norn_status st = norn_afile_open(&af, path, err);
    if (st == NORN_OK) {
        fputs(text, af.f);
        st = norn_afile_commit(&af, err);
    }
    free(text);
    return st;
}

static norn_status write_spikes(const char *dir, const norn_desc *d, const norn_sim *s, norn_err *err)
{
    const double *t;
    const uint32_t *gid;
    uint64_t n = norn_sim_spikes(s, &t, &gid);
    char path[4200];
    snprintf(path, sizeof path, "%s/spikes.npy", dir);
    norn_status st = norn_npy_write_spikes(path, t, gid, n, err);
    if (st != NORN_OK)
        return st;
    uint32_t *pop_of = norn_malloc_n(n ? n : 1, sizeof(uint32_t));
    uint32_t *local = norn_malloc_n(n ? n : 1, sizeof(uint32_t));
    const char **names = norn_malloc_n(d->n_pops, sizeof(char *));
    if (!pop_of || !local || !names) {
        norn_free(pop_of);
        norn_free(local);
        norn_free(names);
        return NORN_FAIL(err, NORN_ENOMEM, path, "cannot allocate the CSV export");
    }
    for (uint32_t k = 0; k < d->n_pops; k++)
        names[k] = d->pops[k].name;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t p = 0;
        while (p + 1 < d->n_pops && gid[i] >= norn_sim_first_id(s, p + 1))
            p++;
        pop_of[i] = p;
        local[i] = gid[i] - norn_sim_first_id(s, p);
    }
    snprintf(path, sizeof path, "%s/spikes.csv", dir);
    st = norn_csv_write_spikes(path, t, pop_of, local, n, names, err);
    norn_free(pop_of);
    norn_free(local);
    norn_free(names);
    return st;
}

static norn_status write_states(const char *dir, const norn_sim *s, norn_err *err)
{
    uint32_t nrec = norn_sim_n_recorders(s);
    char path[4200];
    norn_recording first;
    for (uint32_t r = 0; r < nrec; r++) {
        norn_recording rc;
        norn_sim_recording(s, r, &rc);
        const char *pname = norn_sim_pop_name(s, rc.pop);
        float *buf = norn_malloc_n(rc.n_samples * rc.n_neurons + 1, sizeof(float));
        if (!buf)
            return NORN_FAIL(err, NORN_ENOMEM, dir, "cannot allocate the state export");
        for (int v = 0; v < rc.n_vars; v++) {
            for (uint64_t k = 0; k < rc.n_samples; k++)
                memcpy(buf + k * rc.n_neurons, rc.data + (k * rc.n_vars + v) * rc.n_neurons,
                       rc.n_neurons * sizeof(float));
            snprintf(path, sizeof path, "%s/state_%s_%s.npy", dir, pname, norn_sim_state_name(s, rc.pop, rc.vars[v]));
            uint64_t shape[2] = {rc.n_samples, rc.n_neurons};
            norn_status st = norn_npy_write_f32(path, buf, 2, shape, err);
            if (st != NORN_OK) {
                norn_free(buf);
                return st;
            }
        }
        norn_free(buf);
        uint64_t shape1[1] = {rc.n_samples};
        if (r == 0) {
            first = rc;
            snprintf(path, sizeof path, "%s/state_times.npy", dir);
            norn_status st = norn_npy_write_f64(path, rc.times_ms, 1, shape1, err);
            if (st != NORN_OK)
                return st;
        } else if (rc.n_samples != first.n_samples ||
                   (rc.n_samples && memcmp(rc.times_ms, first.times_ms, rc.n_samples * sizeof(double)) != 0)) {
            snprintf(path, sizeof path, "%s/state_%s_times.npy", dir, pname);
            norn_status st = norn_npy_write_f64(path, rc.times_ms, 1, shape1, err);
            if (st != NORN_OK)
                return st;
        }
    }
    return NORN_OK;
}

/* weights_<projection>.npy: (pre, post, weight, time_ms) for every synapse
 * at every snapshot; pre is local to the source population, post indexes
 * the projection's targets concatenated (the rows of a [post, pre] matrix). */
static norn_status write_weights(const char *dir, const norn_desc *d, const norn_sim *s, norn_err *err)
{
    for (uint32_t r = 0; r < norn_sim_n_weight_recorders(s) && r < d->n_weight_recs; r++) {
        const norn_desc_proj *pj = &d->projs[d->weight_recs[r].proj];
        norn_weight_recording wr;
        norn_sim_weight_recording(s, r, &wr);
        uint64_t n = wr.n_syn * wr.n_snapshots;
        uint32_t *pre = norn_malloc_n(n + 1, sizeof(uint32_t)), *post = norn_malloc_n(n + 1, sizeof(uint32_t));
        double *t = norn_malloc_n(n + 1, sizeof(double));
        if (!pre || !post || !t) {
            norn_free(pre);
            norn_free(post);
            norn_free(t);
            return NORN_FAIL(err, NORN_ENOMEM, dir, "cannot allocate the weight export of '%s'", pj->name);
        }
        uint64_t k = 0;
        for (uint64_t q = 0; q < wr.n_snapshots; q++) {
            uint32_t off = 0;
            for (uint32_t j = 0; j < wr.n_tables; j++) {
                const norn_csr *c = norn_sim_table_csr(s, wr.tables[j]);
                for (uint32_t src = 0; src < c->n_src; src++)
                    for (uint64_t x = c->row_ptr[src]; x < c->row_ptr[src + 1]; x++, k++) {
                        pre[k] = src;
                        post[k] = off + c->target[x];
                        t[k] = wr.times_ms[q];
                    }
                off += c->n_tgt;
            }
        }
        char path[4200];
        snprintf(path, sizeof path, "%s/weights_%s.npy", dir, pj->name);
        norn_status st = norn_npy_write_weights(path, pre, post, wr.weights, t, n, err);
        norn_free(pre);
        norn_free(post);
        norn_free(t);
        if (st != NORN_OK)
            return st;
    }
    return NORN_OK;
}

/* plasticity_<projection>_<u|x>.npy float32 [samples, presynaptic neurons]
 * and plasticity_<projection>_times.npy. */
static norn_status write_plasticity(const char *dir, const norn_desc *d, const norn_sim *s, norn_err *err)
{
    for (uint32_t r = 0; r < norn_sim_n_stp_recorders(s) && r < d->n_plast_recs; r++) {
        const norn_desc_proj *pj = &d->projs[d->plast_recs[r].proj];
        norn_stp_recording rc;
        norn_sim_stp_recording(s, r, &rc);
        float *buf = norn_malloc_n(rc.n_samples * rc.n_pre + 1, sizeof(float));
        if (!buf)
            return NORN_FAIL(err, NORN_ENOMEM, dir, "cannot allocate the plasticity export");
        char path[4200];
        norn_status st = NORN_OK;
        for (int v = 0; v < rc.n_vars && st == NORN_OK; v++) {
            for (uint64_t k = 0; k < rc.n_samples; k++)
                memcpy(buf + k * rc.n_pre, rc.data + (k * rc.n_vars + v) * rc.n_pre, rc.n_pre * sizeof(float));
            snprintf(path, sizeof path, "%s/plasticity_%s_%s.npy", dir, pj->name, rc.vars[v] ? "x" : "u");
            uint64_t shape[2] = {rc.n_samples, rc.n_pre};
            st = norn_npy_write_f32(path, buf, 2, shape, err);
        }
        norn_free(buf);
        if (st != NORN_OK)
            return st;
        snprintf(path, sizeof path, "%s/plasticity_%s_times.npy", dir, pj->name);
        uint64_t shape1[1] = {rc.n_samples};
        st = norn_npy_write_f64(path, rc.times_ms, 1, shape1, err);
        if (st != NORN_OK)
            return st;
    }
    return NORN_OK;
}

norn_status norn_output_write(const char *dir, const norn_desc *d, const norn_sim *s,
                              const norn_run_info *info, norn_err *err)
{
    norn_status st = norn_output_mkdir(dir, err);
    if (st == NORN_OK)
        st = write_spikes(dir, d, s, err);
    if (st == NORN_OK)
        st = write_states(dir, s, err);
    if (st == NORN_OK)
        st = write_weights(dir, d, s, err);
    if (st == NORN_OK)
        st = write_plasticity(dir, d, s, err);
    if (st == NORN_OK) {
        char path[4200];
        snprintf(path, sizeof path, "%s/run.json", dir);
        st = write_json(path, d, s, info, err);
    }
    return st;
}
