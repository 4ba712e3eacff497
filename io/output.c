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
#include "io/json.h"
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


static const char *mode_name(norn_mode m)
{
    return m == NORN_MODE_CONTINUOUS ? "continuous" : m == NORN_MODE_GRID ? "grid" : "euler";
}

static norn_status write_json(const char *path, const norn_desc *d, const norn_sim *s,
                              const norn_run_info *info, norn_err *err)
{
    norn_json j;
    norn_json_init(&j);
    if (j.fail)
        return NORN_FAIL(err, NORN_ENOMEM, path, "cannot create the JSON document");
    norn_sim_stats stt;
    norn_sim_get_stats(s, &stt);
    double dur_s = stt.time_reached_ms / 1000.0; /* the duration once the run is done */
    struct fy_node *root = norn_json_map(&j);
    norn_json_set(&j, root, "norn_version", norn_json_str(&j, NORN_VERSION));
    norn_json_set(&j, root, "description", norn_json_str(&j, d->path));
    norn_json_set(&j, root, "name", norn_json_str(&j, d->name));
    if (info->command)
        norn_json_set(&j, root, "command", norn_json_str(&j, info->command));
    norn_json_set(&j, root, "mode", norn_json_str(&j, mode_name(d->mode)));
    norn_json_set(&j, root, "seed", norn_json_int(&j, (unsigned long long)d->seed));
    norn_json_set(&j, root, "duration_ms", norn_json_num(&j, stt.duration_ms));
    if (info->interrupted) {
        norn_json_set(&j, root, "interrupted", norn_json_bool(&j, 1));
        norn_json_set(&j, root, "time_reached_ms", norn_json_num(&j, stt.time_reached_ms));
    }
    if (info->checkpoint)
        norn_json_set(&j, root, "checkpoint", norn_json_str(&j, info->checkpoint));
    if (info->resumed_from)
        norn_json_set(&j, root, "resumed_from", norn_json_str(&j, info->resumed_from));
    norn_json_set(&j, root, "resolution_ms", norn_json_num(&j, d->resolution_ms));
    norn_json_set(&j, root, "min_delay_ms", norn_json_num(&j, stt.min_delay_ms));
    norn_json_set(&j, root, "neurons", norn_json_int(&j, stt.neurons));
    norn_json_set(&j, root, "synapses", norn_json_int(&j, stt.synapses));
    norn_json_set(&j, root, "synapse_bytes", norn_json_int(&j, stt.synapse_bytes));
    norn_json_set(&j, root, "bytes_per_synapse", norn_json_num(&j, stt.synapses ? (double)stt.synapse_bytes / (double)stt.synapses : 0));
    if (stt.plastic_synapses) {
        norn_json_set(&j, root, "plastic_synapses", norn_json_int(&j, stt.plastic_synapses));
        norn_json_set(&j, root, "bytes_per_plastic_synapse",
                      norn_json_num(&j, (double)stt.plastic_bytes / (double)stt.plastic_synapses));
    }
    norn_json_set(&j, root, "spikes", norn_json_int(&j, stt.spikes));
    norn_json_set(&j, root, "synaptic_events", norn_json_int(&j, stt.synaptic_events));
    norn_json_set(&j, root, "queue_events", norn_json_int(&j, stt.queue_events));
    norn_json_set(&j, root, "windows", norn_json_int(&j, stt.windows));
    norn_json_set(&j, root, "build_s", norn_json_num(&j, info->build_s));
    norn_json_set(&j, root, "connect_s", norn_json_num(&j, info->connect_s));
    norn_json_set(&j, root, "synapses_per_s_built", norn_json_num(&j, info->connect_s > 0 ? (double)stt.synapses / info->connect_s : 0));
    norn_json_set(&j, root, "sim_wall_s", norn_json_num(&j, info->sim_wall_s));
    norn_json_set(&j, root, "sim_cpu_s", norn_json_num(&j, info->sim_cpu_s));
    norn_json_set(&j, root, "wall_s", norn_json_num(&j, info->wall_s));
    norn_json_set(&j, root, "cpu_s", norn_json_num(&j, info->cpu_s));
    norn_json_set(&j, root, "realtime_factor", norn_json_num(&j, dur_s > 0 ? info->sim_wall_s / dur_s : 0));
    norn_json_set(&j, root, "events_per_s", norn_json_num(&j, info->sim_wall_s > 0 ? (double)stt.synaptic_events / info->sim_wall_s : 0));
    norn_json_set(&j, root, "peak_rss_bytes", norn_json_int(&j, info->peak_rss));
    norn_json_set(&j, root, "peak_heap_bytes", norn_json_int(&j, info->peak_heap));
    if (info->ranks > 1) { /* MPI: rank 0's figures above, these for all */
        struct fy_node *m = norn_json_map(&j);
        norn_json_set(&j, m, "ranks", norn_json_int(&j, info->ranks));
        norn_json_set(&j, m, "max_peak_rss_bytes", norn_json_int(&j, info->max_peak_rss));
        norn_json_set(&j, m, "exchanges", norn_json_int(&j, info->exchanges));
        norn_json_set(&j, m, "bytes_received_per_rank", norn_json_int(&j, info->exchange_bytes));
        norn_json_set(&j, m, "bytes_per_exchange", norn_json_num(&j, info->exchanges ? (double)info->exchange_bytes /
                                                                                       (double)info->exchanges : 0));
        norn_json_set(&j, m, "exchange_s", norn_json_num(&j, info->exchange_s));
        if (info->rank_peak_rss) {
            struct fy_node *a = norn_json_seq(&j);
            for (int r = 0; r < info->ranks; r++)
                norn_json_append(&j, a, norn_json_int(&j, info->rank_peak_rss[r]));
            norn_json_set(&j, m, "peak_rss_bytes_per_rank", a);
            struct fy_node *c = norn_json_seq(&j), *x = norn_json_seq(&j), *xc = norn_json_seq(&j);
            for (int r = 0; r < info->ranks; r++) {
                norn_json_append(&j, c, norn_json_num(&j, 1e-6 * (double)info->rank_peak_rss[info->ranks + r]));
                norn_json_append(&j, x, norn_json_num(&j, 1e-6 * (double)info->rank_peak_rss[2 * info->ranks + r]));
                norn_json_append(&j, xc, norn_json_num(&j, 1e-6 * (double)info->rank_peak_rss[3 * info->ranks + r]));
            }
            norn_json_set(&j, m, "sim_cpu_s_per_rank", c);
            norn_json_set(&j, m, "exchange_s_per_rank", x);
            norn_json_set(&j, m, "exchange_cpu_s_per_rank", xc);
        }
        norn_json_set(&j, root, "mpi", m);
    }
    struct fy_node *pops = norn_json_seq(&j);
    for (uint32_t k = 0; k < d->n_pops; k++) {
        const norn_desc_pop *dp = &d->pops[k];
        struct fy_node *p = norn_json_map(&j);
        uint32_t first = norn_sim_first_id(s, k);
        uint64_t n_sp = norn_sim_pop_spike_count(s, k);
        norn_json_set(&j, p, "name", norn_json_str(&j, dp->name));
        norn_json_set(&j, p, "model", norn_json_str(&j, dp->model->name));
        norn_json_set(&j, p, "size", norn_json_int(&j, dp->size));
        norn_json_set(&j, p, "first_id", norn_json_int(&j, first));
        norn_json_set(&j, p, "last_id", norn_json_int(&j, first + dp->size - 1));
        norn_json_set(&j, p, "spikes", norn_json_int(&j, n_sp));
        norn_json_set(&j, p, "rate_hz", norn_json_num(&j, dur_s > 0 ? (double)n_sp / dp->size / dur_s : 0));
        norn_json_set(&j, p, "recorded", norn_json_str(&j, (d->record_spikes ? d->record_spikes[k] : 1) ? "spikes" : "none"));
        struct fy_node *par = norn_json_map(&j);
        for (int q = 0; q < dp->model->n_params; q++)
            norn_json_set(&j, par, dp->model->params[q].name, norn_json_num(&j, dp->params[q]));
        norn_json_set(&j, p, "params", par);
        norn_json_append(&j, pops, p);
    }
    norn_json_set(&j, root, "populations", pops);
    struct fy_node *projs = norn_json_seq(&j);
    uint32_t table = 0;
    for (uint32_t k = 0; k < d->n_projs; k++) {
        const norn_desc_proj *pj = &d->projs[k];
        struct fy_node *p = norn_json_map(&j), *to = norn_json_seq(&j);
        uint64_t nsyn = 0, rows = 0;
        for (uint32_t t = 0; t < pj->n_to; t++, table++) {
            nsyn += norn_sim_table_synapses(s, table);
            rows += d->pops[pj->to[t]].size;
            norn_json_append(&j, to, norn_json_str(&j, d->pops[pj->to[t]].name));
        }
        norn_json_set(&j, p, "name", norn_json_str(&j, pj->name));
        norn_json_set(&j, p, "from", norn_json_str(&j, d->pops[pj->from].name));
        norn_json_set(&j, p, "to", to);
        norn_json_set(&j, p, "pre_size", norn_json_int(&j, d->pops[pj->from].size));
        norn_json_set(&j, p, "post_size", norn_json_int(&j, rows));
        norn_json_set(&j, p, "synapses", norn_json_int(&j, nsyn));
        if (pj->stdp.rule != NORN_STDP_NONE)
            norn_json_set(&j, p, "plasticity", norn_json_str(&j, norn_stdp_rule_name(pj->stdp.rule)));
        else if (pj->stp.rule != NORN_STP_NONE)
            norn_json_set(&j, p, "plasticity", norn_json_str(&j, pj->stp.rule == NORN_STP_TSODYKS2 ? "tsodyks2"
                                                                                            : "tsodyks_markram"));
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
            norn_json_set(&j, p, "weight_unit", norn_json_str(&j, unit));
        norn_json_append(&j, projs, p);
    }
    norn_json_set(&j, root, "projections", projs);
    struct fy_node *recs = norn_json_seq(&j);
    for (uint32_t r = 0; r < norn_sim_n_recorders(s); r++) {
        norn_recording rc;
        norn_sim_recording(s, r, &rc);
        struct fy_node *p = norn_json_map(&j), *vars = norn_json_seq(&j), *neurons = norn_json_seq(&j);
        for (int v = 0; v < rc.n_vars; v++)
            norn_json_append(&j, vars, norn_json_str(&j, norn_sim_state_name(s, rc.pop, rc.vars[v])));
        for (uint32_t q = 0; q < rc.n_neurons; q++)
            norn_json_append(&j, neurons, norn_json_int(&j, rc.neurons[q]));
        norn_json_set(&j, p, "population", norn_json_str(&j, norn_sim_pop_name(s, rc.pop)));
        norn_json_set(&j, p, "variables", vars);
        norn_json_set(&j, p, "neurons", neurons);
        norn_json_set(&j, p, "samples", norn_json_int(&j, rc.n_samples));
        norn_json_set(&j, p, "interval_ms", norn_json_num(&j, rc.n_samples > 1 ? rc.times_ms[1] - rc.times_ms[0]
                                                              : (rc.n_samples ? rc.times_ms[0] : 0)));
        norn_json_append(&j, recs, p);
    }
    norn_json_set(&j, root, "recordings", recs);
    char *text = norn_json_finish(&j, root);
    if (!text)
        return NORN_FAIL(err, NORN_ENOMEM, path, "cannot build run.json");
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
    norn_recording first = {0};
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
        for (uint64_t q = 0; q < wr.n_snapshots && wr.pre; q++) /* MPI: merged on rank 0 */
            for (uint64_t x = 0; x < wr.n_syn; x++, k++) {
                pre[k] = wr.pre[x];
                post[k] = wr.post[x];
                t[k] = wr.times_ms[q];
            }
        for (uint64_t q = 0; q < wr.n_snapshots && !wr.pre; q++) {
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
