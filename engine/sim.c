/* engine/sim.c - the network container and the event loop (see sim.h). */
#include "engine/sim.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ckpt.h"
#include "engine/mem.h"
#include "engine/par.h"
#include "engine/queue.h"
#include "engine/rng.h"
#include "engine/stdp.h"
#include "engine/stdp_norse.h"
#include "models/euler.h"
#include "models/iaf_delta.h"
#include "models/lif.h"

enum { EV_SPIKE = 0, EV_TRAIN = 1, EV_DC = 2, EV_SPIKE_STP = 3, EV_SPIKE_STDP = 4 };
/* EV_SPIKE_STDP: kind as EV_SPIKE_STP, b = the spike's number in the
 * table's STDP log (engine/stdp.h). */
/* EV_SPIKE_STP: kind = EV | row-local segment << 4 | table << 12, a = source,
 * b = the double bits of the spike's efficacy (short-term plasticity). */
#define STP_SEG_BITS 8u
#define EV_KIND_BITS 4u

/* Poisson drive of one population. continuous mode: exponential intervals,
 * one arrival at each next_a. grid mode: the number of arrivals in each step
 * is Poisson(lambda = rate h), drawn by inversion of a table; next_a is the
 * end of the next step with at least one arrival and cnt their number
 * (empty steps are skipped geometrically when lambda is small; for
 * lambda >= 0.25 each step's count is one 32-bit uniform of the one-round
 * generator, inverted through cdf32 from a guide table: a few ns a step). */
typedef struct {
    uint32_t pop;
    double rate_per_ms, weight, start, stop;
    double inv_rate; /* continuous: 1 / rate_per_ms (each interval is an Exp(1) draw times it) */
    uint32_t index;  /* stimulus index, for the stream key */
    double *next_a;  /* [n] time of the next arrival(s) */
    int64_t *next_k; /* grid: [n] its step index (no division recovers it) */
    double grid_n;   /* grid: n when the resolution is 1/n ms (times are k/n), else 0 */
    uint32_t *cnt;   /* [n] arrivals at next_a */
    norn_rng *rng;   /* [n] */
    double lambda, p0, log_p0; /* grid: per-step mean, P(no arrival), log */
    double *cdf;     /* grid: cdf[k] = P(count <= k), k < n_cdf */
    uint32_t n_cdf;
    uint64_t *cdf32; /* grid, lambda >= 0.25: ceil(cdf[k] 2^32); a 32-bit u counts k while u >= cdf32[k] */
    uint32_t guide[256]; /* the count of u = g 2^24: where the search for u in [g 2^24, (g+1) 2^24) starts */
} poisson_stim;

/* a lean drive's count thresholds for lean_draw_avx512 (lean_thr_setup); w = 0: not used */
typedef struct {
    uint32_t k0, w, lo, hi, has_lo, has_hi;
    uint32_t t[16];
} lean_thr;

typedef struct {
    uint32_t pop;
    uint64_t n;
    double *times, *amps;
} dc_stim;

typedef struct {
    uint32_t pop;
    uint64_t n;
    double *times;
    uint32_t *neuron; /* UINT32_MAX = all */
    double weight;
} train_stim;

typedef struct {
    uint32_t src, tgt;
    int lag; /* euler mode: 0 = this step's spikes, 1 = the previous step's */
    norn_csr csr;
    /* short-term plasticity (Tsodyks-Markram), state per presynaptic neuron */
    norn_stp_spec stp;
    double *u, *x, *tl;       /* tsodyks2: u, x at the last spike, its time (-inf: none) */
    float *uf, *xf;           /* norse: float32 u, x after step ls */
    int64_t *ls;
    float *rel;               /* norse: release (u' x) of each neuron's latest spike */
    float fU, fdt, ftf, ftd;  /* norse: fl32(U), fl32(dt), fl32(-tau_f_inv), fl32(tau_d_inv) */
    norn_stdp *stdp;          /* NEST STDP (continuous, grid); owns the weights */
    norn_stdp_norse *sn;      /* Norse STDP (euler) */
    /* a static table whose weights are all equal keeps one (csr.weight is
     * then NULL: 4 bytes per synapse, and delivery reads half as much) */
    int hom;
    float w_hom;
    /* a static table into a population of at most 65,536 neurons keeps its
     * targets as 16-bit indices while it runs (csr.target is then NULL until
     * norn_sim_table_csr asks for it): delivery streams half the bytes */
    uint16_t *tg16;
} table_t;

typedef struct {
    uint32_t pop;
    int n_vars;
    int vars[NORN_MAX_STATE];
    uint32_t n_neurons;
    uint32_t *neurons;
    double interval;
    uint64_t n_samples, next;
    double *times;
    float *data;
} recorder;

typedef struct {
    uint32_t *tables;
    uint32_t n_tables;
    double interval; /* 0: the end of the run only */
    double *at;      /* or these times (then the end), n_at of them */
    uint64_t n_at;
    uint64_t n_syn;  /* synapses of all its tables */
    uint64_t n_snap, next;
    double *times;   /* [n_snap] */
    float *w;        /* [n_snap][n_syn], tables in order, CSR order */
    uint32_t *pre, *post; /* MPI, rank 0 after the gather: [n_syn] */
} wrecorder;

typedef struct {
    uint32_t table;
    int n_vars;
    int vars[2];     /* 0 = u, 1 = x */
    double interval;
    uint64_t n_samples, next;
    double *times;
    float *data;     /* [n_samples][n_vars][n_pre] */
} srecorder;

typedef struct {
    char *name;
    norn_model_pop mp;
    uint32_t first_id;
    uint32_t own_lo, own_hi; /* MPI: the neurons this rank updates (all alone) */
    double *t_last;       /* [n] time the neuron was advanced to */
    uint8_t *in_sweep;    /* [n] */
    uint32_t *sweep;      /* [n] neurons to advance at the window's end */
    /* continuous, a model with quiet_until: its value for each neuron and
     * the t_last it is for (NaN: to compute); a neuron is swept only from
     * that time on (see sweep) */
    double *qu, *qu_t;
    uint32_t n_sweep;
    int sweep_all;        /* Poisson-driven: every neuron, every window */
    int state_out;        /* norn_sim_state handed out mid-run: its neurons looked at again (state_recheck) */
    int iafd;             /* the model is iaf_delta: its lazy advance inlined (advance_to) */
    /* grid mode, swept every window and stepped as a whole: every step,
     * the model's grid_step over all neurons (see window_steps) */
    int dense;
    /* dense iaf_delta with one Poisson drive (lambda >= 0.25), unrecorded:
     * every neuron advanced every step, its count drawn in the same pass
     * (dense_lean); the drive's rng is owned by that pass (next_a = inf) */
    int lean;
    int64_t lean_k0;      /* lean: the first step with arrivals */
    double lean_t;        /* lean: the time of its last pass (every neuron is there) */
    /* dense lif with no Poisson drive, unrecorded (windows of one step:
     * every neuron driven): every neuron advanced every step by
     * norn__lif_lean_advance, which lists in fired[0, n_cand) the neurons
     * above threshold at the step's end: the only ones the test there
     * (after the inputs, which leave V alone) can fire (n_cand =
     * UINT32_MAX: test all) */
    int lean_lif;
    uint32_t n_cand;
    double lean_at;       /* lean lif: t_last of all, not yet written (NAN: t_last is current) */
    uint64_t *lean_key;   /* lean: [n] the drive's stream keys (norn_rng.k0), packed */
    uint32_t *lean_spare; /* lean: [n] the low halves of the last even counter's rounds */
    int lean_spare_ok;    /* lean_spare holds them (not after a resume) */
    lean_thr lean_th;     /* lean: the vector draw's thresholds (w = 0: scalar only) */
    double *pin;          /* dense: [n] Poisson input of the step ([2n]: w < 0 after, two-channel models) */
    uint32_t *fired;      /* dense: [n] neurons that spiked in the step */
    uint32_t *poisson;    /* indices into sim->poisson */
    /* Poisson-driven at a low rate per window: instead of every neuron
     * every window, the neurons whose next arrival falls in the window,
     * from a min-heap of (next arrival, neuron), one entry per neuron */
    int sched;
    /* continuous iaf_delta, one Poisson drive, only plain static tables in:
     * [4n] each neuron's u, gate, hk and tacc while a window runs (see
     * cfast_deliver); cf_base: the clock's base its u are relative to;
     * cf_k: the arrivals an input may be added ahead of (fewer than), and
     * cf_q: V_th - V_inf less cf_k - 1 of them (u < cf_q / E(t) allows it) */
    double *cf;
    double cf_base, cf_q;
    uint32_t cf_k;
    double *hq_t;
    uint32_t *hq_i;
    uint32_t hq_n;
    uint32_t n_poisson;
    uint32_t *out;        /* tables whose source is this population */
    uint32_t n_out;
    uint32_t *stdp_in;    /* STDP tables whose target is this population */
    uint32_t n_stdp_in;
    /* input arriving at the current event time, summed per channel before
     * the neuron is touched: acc[c * n + i], pend lists marked neurons */
    double *acc;
    uint8_t *mark;
    uint32_t *pend;
    uint32_t n_pend;
    int record;
    uint64_t spikes;
    /* euler mode (see run_euler) */
    int euler;             /* an euler-mode population (model or input) */
    norn_euler_pop ep;     /* ep.type == NULL for an input population */
    float *ff, *rec;       /* [n] this step's input sums */
    int64_t *last_step;    /* [n] last step the neuron was updated, -1: none */
    uint8_t *pinned;       /* [n] recorded: updated every step */
    uint32_t *cur_spk, n_cur;   /* spikes of this step (local ids) */
    uint32_t *prev_spk, n_prev; /* spikes of the previous step */
    uint64_t tens_T;            /* spike tensor: spikes of step t are */
    uint64_t *tens_ptr;         /* tens_idx[tens_ptr[t] .. tens_ptr[t+1]) */
    uint32_t *tens_idx;
    uint64_t cur_T;             /* current tensor [cur_T][n] */
    float *cur_tensor;
    uint64_t updates;           /* neuron updates (touches), euler mode */
    float *init[NORN_EULER_MAX_STATE]; /* euler: the state at the first run's start (for reset) */
} population;

typedef struct {
    double t;
    uint32_t gid;
    uint32_t pop;
} spike_rec;

struct norn_sim {
    norn_sim_config cfg;
    int avx2; /* the CPU has AVX2 (and cfg.no_simd is 0): lean steps four neurons at a time */
    int avx512; /* the CPU has AVX-512F and DQ (and cfg.no_simd is 0): the lean pass takes eight, its draw sixteen */
    population *pops;
    uint32_t n_pops;
    uint64_t n_neurons;
    table_t *tables;
    uint32_t n_tables;
    poisson_stim *poisson;
    uint32_t n_poisson;
    dc_stim *dc;
    uint32_t n_dc;
    train_stim *trains;
    uint32_t n_trains;
    recorder *recs;
    uint32_t n_recs;
    wrecorder *wrecs;
    uint32_t n_wrecs;
    srecorder *srecs;
    uint32_t n_srecs;
    norn_queue q;
    norn_event *evb; /* deliver_at: the events at one time, taken from the queue together */
    uint64_t cap_evb;
    int ran;
    double duration;
    /* spikes of the current window */
    spike_rec *win;
    uint64_t n_win, cap_win;
    /* recorded spikes */
    double *sp_t;
    uint32_t *sp_gid;
    uint64_t n_sp, cap_sp;
    uint64_t events, windows, queue_events;
    double min_delay_ms;
    norn_err *err; /* during run */
    norn_status fail;
    /* the run in segments (norn_sim_begin / norn_sim_advance) */
    int started, done;
    uint64_t w_next, wsteps;  /* continuous, grid: the next window, its length in steps */
    int64_t step_next, T;     /* euler: the next step, the steps in all */
    double t_reached;         /* end of the last window done */
    volatile sig_atomic_t *stop; /* checked after each window (may be NULL) */
    uint64_t *fp;             /* checkpoints: fingerprints of the static network (NULL: not yet) */
    uint64_t n_fp;
    norn_par_x px;       /* MPI: the spike exchange (engine/par.h) */
    uint8_t *xsend;      /* MPI: this rank's window spikes packed (12 bytes each) */
    uint64_t cap_xsend;
    int gathered;        /* MPI: norn_sim_par_gather done: gst, g_nnz hold the totals */
    norn_sim_stats gst;
    uint64_t *g_nnz;
};

/* ---------------------------------------------------------------- helpers */

static int grow(void **p, uint64_t *cap, uint64_t need, size_t size)
{
    if (need <= *cap)
        return 1;
    uint64_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = norn_realloc_n(*p, c, size);
    if (!q)
        return 0;
    *p = q;
    *cap = c;
    return 1;
}

static inline double grid_ceil(double t, double h) { return norn_grid_ceil(t, h); }


/* ------------------------------------------------------------------ build */

norn_status norn_sim_create(const norn_sim_config *cfg, norn_sim **out, norn_err *err)
{
    if (!(cfg->resolution_ms > 0) || !isfinite(cfg->resolution_ms))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "resolution must be > 0, got %g", cfg->resolution_ms);
    if (cfg->mode != NORN_MODE_CONTINUOUS && cfg->mode != NORN_MODE_GRID && cfg->mode != NORN_MODE_EULER)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "unknown mode %d", (int)cfg->mode);
    norn_sim *s = norn_calloc_n(1, sizeof *s);
    if (!s)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate the simulation");
    s->cfg = *cfg;
#if defined(__x86_64__) && defined(__GNUC__)
    s->avx2 = !cfg->no_simd && __builtin_cpu_supports("avx2");
    s->avx512 = !cfg->no_simd && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#endif
    if (norn_queue_init(&s->q, 1024, err) != NORN_OK) {
        norn_free(s);
        return err ? err->code : NORN_ENOMEM;
    }
    *out = s;
    return NORN_OK;
}

static void free_pop(population *p)
{
    norn_free(p->name);
    for (int v = 0; v < NORN_MAX_STATE; v++)
        norn_free(p->mp.st[v]);
    norn_free(p->mp.ref_until);
    norn_free(p->mp.i_dc);
    norn_free(p->t_last);
    norn_free(p->in_sweep);
    norn_free(p->sweep);
    norn_free(p->qu);
    norn_free(p->qu_t);
    norn_free(p->poisson);
    norn_free(p->cf);
    norn_free(p->hq_t);
    norn_free(p->hq_i);
    norn_free(p->out);
    norn_free(p->stdp_in);
    norn_free(p->acc);
    norn_free(p->mark);
    norn_free(p->pin);
    norn_free(p->lean_key);
    norn_free(p->lean_spare);
    norn_free(p->fired);
    norn_free(p->pend);
    for (int v = 0; v < NORN_EULER_MAX_STATE; v++)
        norn_free(p->init[v]);
    for (int v = 0; v < NORN_EULER_MAX_STATE; v++)
        norn_free(p->ep.st[v]);
    norn_free(p->ff);
    norn_free(p->rec);
    norn_free(p->last_step);
    norn_free(p->pinned);
    norn_free(p->cur_spk);
    norn_free(p->prev_spk);
    norn_free(p->tens_ptr);
    norn_free(p->tens_idx);
    norn_free(p->cur_tensor);
}

void norn_sim_destroy(norn_sim *s)
{
    if (!s)
        return;
    for (uint32_t k = 0; k < s->n_pops; k++)
        free_pop(&s->pops[k]);
    norn_free(s->pops);
    for (uint32_t k = 0; k < s->n_tables; k++) {
        norn_csr_free(&s->tables[k].csr);
        norn_free(s->tables[k].tg16);
        norn_free(s->tables[k].u);
        norn_free(s->tables[k].x);
        norn_free(s->tables[k].tl);
        norn_free(s->tables[k].uf);
        norn_free(s->tables[k].xf);
        norn_free(s->tables[k].ls);
        norn_free(s->tables[k].rel);
        norn_stdp_free(s->tables[k].stdp);
        norn_stdp_norse_destroy(s->tables[k].sn);
    }
    norn_free(s->tables);
    for (uint32_t k = 0; k < s->n_poisson; k++) {
        norn_free(s->poisson[k].next_a);
        norn_free(s->poisson[k].next_k);
        norn_free(s->poisson[k].cnt);
        norn_free(s->poisson[k].rng);
        norn_free(s->poisson[k].cdf);
        norn_free(s->poisson[k].cdf32);
    }
    norn_free(s->poisson);
    for (uint32_t k = 0; k < s->n_dc; k++) {
        norn_free(s->dc[k].times);
        norn_free(s->dc[k].amps);
    }
    norn_free(s->dc);
    for (uint32_t k = 0; k < s->n_trains; k++) {
        norn_free(s->trains[k].times);
        norn_free(s->trains[k].neuron);
    }
    norn_free(s->trains);
    for (uint32_t k = 0; k < s->n_recs; k++) {
        norn_free(s->recs[k].neurons);
        norn_free(s->recs[k].times);
        norn_free(s->recs[k].data);
    }
    norn_free(s->recs);
    for (uint32_t k = 0; k < s->n_wrecs; k++) {
        norn_free(s->wrecs[k].tables);
        norn_free(s->wrecs[k].times);
        norn_free(s->wrecs[k].at);
        norn_free(s->wrecs[k].w);
        norn_free(s->wrecs[k].pre);
        norn_free(s->wrecs[k].post);
    }
    norn_free(s->wrecs);
    for (uint32_t k = 0; k < s->n_srecs; k++) {
        norn_free(s->srecs[k].times);
        norn_free(s->srecs[k].data);
    }
    norn_free(s->srecs);
    norn_queue_free(&s->q);
    norn_free(s->win);
    norn_free(s->evb);
    norn_free(s->sp_t);
    norn_free(s->sp_gid);
    norn_free(s->fp);
    norn__par_x_free(&s->px);
    norn_free(s->xsend);
    norn_free(s->g_nnz);
    norn_free(s);
}

norn_status norn_sim_add_population(norn_sim *s, const char *name, const norn_model_type *type,
                                    uint32_t n, const double *params, const char *where,
                                    uint32_t *out_index, norn_err *err)
{
    if (n == 0)
        return NORN_FAIL(err, NORN_EINVAL, where, "population '%s': size must be > 0", name);
    if (s->cfg.mode == NORN_MODE_EULER)
        return NORN_FAIL(err, NORN_EINVAL, where,
                         "population '%s': model '%s' is a continuous/grid model; euler mode takes Norse's models",
                         name, type->name);
    if (s->n_neurons + n > UINT32_MAX - 1)
        return NORN_FAIL(err, NORN_EINVAL, where, "more than 2^32-2 neurons in all");
    population *pops = norn_realloc_n(s->pops, s->n_pops + 1, sizeof *pops);
    if (!pops)
        return NORN_FAIL(err, NORN_ENOMEM, where, "cannot allocate population '%s'", name);
    s->pops = pops;
    population *p = &pops[s->n_pops];
    memset(p, 0, sizeof *p);
    p->mp.type = type;
    p->iafd = type == &norn_model_iaf_delta;
    p->mp.n = n;
    p->mp.h = s->cfg.resolution_ms;
    p->mp.mode = s->cfg.mode;
    memcpy(p->mp.p, params, (size_t)type->n_params * sizeof(double));
    norn_status st = type->compile(&p->mp, where, err);
    if (st != NORN_OK)
        return st;
    p->name = norn_strdup(name);
    p->t_last = norn_calloc_n(n, sizeof(double));
    p->mp.ref_until = norn_malloc_n(n, sizeof(double));
    p->in_sweep = norn_calloc_n(n, 1);
    p->sweep = norn_malloc_n(n, sizeof(uint32_t));
    p->acc = norn_calloc_n((size_t)n * (size_t)type->n_channels, sizeof(double));
    p->mark = norn_calloc_n(n, 1);
    p->pend = norn_malloc_n(n, sizeof(uint32_t));
    int ok = p->name && p->t_last && p->mp.ref_until && p->in_sweep && p->sweep && p->acc && p->mark && p->pend;
    if (type->n_state + type->n_hidden > NORN_MAX_STATE) {
        free_pop(p);
        return NORN_FAIL(err, NORN_EINVAL, where, "model '%s' has too many state arrays", type->name);
    }
    for (int v = type->n_state; v < type->n_state + type->n_hidden && ok; v++) {
        p->mp.st[v] = norn_calloc_n(n, sizeof(double));
        ok = p->mp.st[v] != NULL;
    }
    for (int v = 0; v < type->n_state && ok; v++) {
        p->mp.st[v] = norn_malloc_n(n, sizeof(double));
        ok = p->mp.st[v] != NULL;
        if (ok) {
            int ip = type->state[v].init_param;
            double x = ip >= 0 ? params[ip] : 0.0;
            for (uint32_t i = 0; i < n; i++)
                p->mp.st[v][i] = x;
        }
    }
    if (!ok) {
        free_pop(p);
        return NORN_FAIL(err, NORN_ENOMEM, where, "cannot allocate %u neurons of '%s'", n, name);
    }
    for (uint32_t i = 0; i < n; i++)
        p->mp.ref_until[i] = -INFINITY;
    p->first_id = (uint32_t)s->n_neurons;
    norn_par_block(n, s->cfg.rank, s->cfg.ranks, &p->own_lo, &p->own_hi);
    p->record = 1;
    s->n_neurons += n;
    *out_index = s->n_pops++;
    return NORN_OK;
}

norn_status norn_sim_add_euler_population(norn_sim *s, const char *name, const norn_euler_type *type, uint32_t n,
                                          const double *params, const char *where, uint32_t *out_index,
                                          norn_err *err)
{
    if (s->cfg.mode != NORN_MODE_EULER)
        return NORN_FAIL(err, NORN_EINVAL, where, "population '%s': Norse models and inputs need mode euler", name);
    if (n == 0)
        return NORN_FAIL(err, NORN_EINVAL, where, "population '%s': size must be > 0", name);
    if (s->n_neurons + n > UINT32_MAX - 1)
        return NORN_FAIL(err, NORN_EINVAL, where, "more than 2^32-2 neurons in all");
    population *pops = norn_realloc_n(s->pops, s->n_pops + 1, sizeof *pops);
    if (!pops)
        return NORN_FAIL(err, NORN_ENOMEM, where, "cannot allocate population '%s'", name);
    s->pops = pops;
    population *p = &pops[s->n_pops];
    memset(p, 0, sizeof *p);
    p->euler = 1;
    p->mp.n = n;
    p->mp.h = s->cfg.resolution_ms;
    p->mp.mode = NORN_MODE_EULER;
    p->ep.type = type;
    p->ep.n = n;
    p->ep.dt = s->cfg.resolution_ms / 1000.0; /* Norse's dt in s: 1 ms -> 0.001 */
    if (type) {
        memcpy(p->ep.p, params, (size_t)type->n_params * sizeof(double));
        norn_status st = type->compile(&p->ep, where, err);
        if (st != NORN_OK)
            return st;
    }
    p->name = norn_strdup(name);
    p->mark = norn_calloc_n(n, 1);
    p->pend = norn_malloc_n(n, sizeof(uint32_t));
    p->in_sweep = norn_calloc_n(n, 1);
    p->sweep = norn_malloc_n(n, sizeof(uint32_t));
    p->pinned = norn_calloc_n(n, 1);
    p->ff = norn_calloc_n(n, sizeof(float));
    p->rec = norn_calloc_n(n, sizeof(float));
    p->last_step = norn_malloc_n(n, sizeof(int64_t));
    p->cur_spk = norn_malloc_n(n, sizeof(uint32_t));
    p->prev_spk = norn_malloc_n(n, sizeof(uint32_t));
    int ok = p->name && p->mark && p->pend && p->in_sweep && p->sweep && p->pinned && p->ff && p->rec &&
             p->last_step && p->cur_spk && p->prev_spk;
    for (int v = 0; type && v < type->n_state && ok; v++)
        ok = (p->ep.st[v] = norn_calloc_n(n, sizeof(float))) != NULL;
    if (!ok) {
        free_pop(p);
        return NORN_FAIL(err, NORN_ENOMEM, where, "cannot allocate %u neurons of '%s'", n, name);
    }
    for (uint32_t i = 0; i < n; i++) {
        p->last_step[i] = -1;
        if (type)
            type->init(&p->ep, i);
    }
    p->first_id = (uint32_t)s->n_neurons;
    norn_par_block(n, s->cfg.rank, s->cfg.ranks, &p->own_lo, &p->own_hi);
    p->record = 1;
    s->n_neurons += n;
    *out_index = s->n_pops++;
    return NORN_OK;
}

float *norn_sim_euler_state(norn_sim *s, uint32_t pop, int var)
{
    population *p = &s->pops[pop];
    return p->euler && p->ep.type && var >= 0 && var < p->ep.type->n_state ? p->ep.st[var] : NULL;
}

norn_status norn_sim_add_spike_tensor(norn_sim *s, uint32_t pop, uint64_t T, const double *data, norn_err *err)
{
    population *p = pop < s->n_pops ? &s->pops[pop] : NULL;
    if (!p || !p->euler || p->ep.type)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "spike_tensor: the target must be an input population (euler mode)");
    if (p->tens_ptr)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "spike_tensor: population '%s' already has one", p->name);
    uint32_t n = p->mp.n;
    uint64_t nnz = 0;
    for (uint64_t k = 0; k < T * n; k++) {
        if (data[k] != 0.0 && data[k] != 1.0)
            return NORN_FAIL(err, NORN_EINVAL, NULL, "spike_tensor: entry [%llu, %llu] is %g; expected 0 or 1",
                             (unsigned long long)(k / n), (unsigned long long)(k % n), data[k]);
        nnz += data[k] != 0.0;
    }
    p->tens_ptr = norn_malloc_n(T + 1, sizeof(uint64_t));
    p->tens_idx = norn_malloc_n(nnz ? nnz : 1, sizeof(uint32_t));
    if (!p->tens_ptr || !p->tens_idx)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "spike_tensor: cannot allocate %llu spikes", (unsigned long long)nnz);
    uint64_t m = 0;
    for (uint64_t t = 0; t < T; t++) {
        p->tens_ptr[t] = m;
        for (uint32_t j = 0; j < n; j++)
            if (data[t * n + j] != 0.0)
                p->tens_idx[m++] = j;
    }
    p->tens_ptr[T] = m;
    p->tens_T = T;
    return NORN_OK;
}

norn_status norn_sim_set_input_spikes(norn_sim *s, uint32_t pop, uint64_t T, const uint64_t *ptr,
                                      const uint32_t *idx, norn_err *err)
{
    population *p = pop < s->n_pops ? &s->pops[pop] : NULL;
    if (!p || !p->euler || p->ep.type)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "input spikes: the target must be an input population (euler mode)");
    uint64_t nnz = ptr[T];
    for (uint64_t t = 0; t < T; t++)
        if (ptr[t + 1] < ptr[t])
            return NORN_FAIL(err, NORN_EINVAL, NULL, "input spikes: step offsets must not decrease (step %llu)",
                             (unsigned long long)t);
    for (uint64_t k = 0; k < nnz; k++)
        if (idx[k] >= p->mp.n)
            return NORN_FAIL(err, NORN_EINVAL, NULL, "input spikes: neuron %u out of range (population '%s' has %u)",
                             idx[k], p->name, p->mp.n);
    uint64_t *np = norn_realloc_n(p->tens_ptr, T + 1, sizeof(uint64_t));
    if (!np)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "input spikes: cannot allocate");
    p->tens_ptr = np;
    uint32_t *ni = norn_realloc_n(p->tens_idx, nnz ? nnz : 1, sizeof(uint32_t));
    if (!ni)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "input spikes: cannot allocate %llu spikes", (unsigned long long)nnz);
    p->tens_idx = ni;
    memcpy(p->tens_ptr, ptr, (T + 1) * sizeof(uint64_t));
    memcpy(p->tens_idx, idx, nnz * sizeof(uint32_t));
    p->tens_T = T;
    return NORN_OK;
}

norn_status norn_sim_reset(norn_sim *s, norn_err *err)
{
    if (s->cfg.mode != NORN_MODE_EULER)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "reset: only euler-mode simulations can be run again");
    for (uint32_t k = 0; k < s->n_tables; k++)
        if (s->tables[k].stp.rule != NORN_STP_RULE_NONE || s->tables[k].sn)
            return NORN_FAIL(err, NORN_EINVAL, NULL, "reset: projections with plasticity keep their state; "
                                                     "build the simulation anew instead");
    if (!s->ran)
        return NORN_OK;
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        uint32_t n = p->mp.n;
        if (p->ep.type)
            for (int v = 0; v < p->ep.type->n_state; v++)
                if (p->init[v])
                    memcpy(p->ep.st[v], p->init[v], n * sizeof(float));
        for (uint32_t j = 0; j < n; j++) {
            if (p->last_step)
                p->last_step[j] = -1;
            if (p->ff)
                p->ff[j] = p->rec[j] = 0.0f;
            p->in_sweep[j] = 0;
            p->mark[j] = 0;
            if (p->qu_t)
                p->qu_t[j] = NAN;
        }
        p->n_sweep = p->n_pend = p->n_cur = p->n_prev = 0;
        p->spikes = p->updates = 0;
    }
    for (uint32_t r = 0; r < s->n_recs; r++) {
        recorder *rc = &s->recs[r];
        norn_free(rc->times);
        norn_free(rc->data);
        rc->times = NULL;
        rc->data = NULL;
        rc->n_samples = rc->next = 0;
    }
    for (uint32_t k = 0; k < s->n_wrecs; k++) {
        wrecorder *q = &s->wrecs[k];
        norn_free(q->times);
        norn_free(q->w);
        q->times = NULL;
        q->w = NULL;
        q->n_snap = q->next = 0;
    }
    s->n_sp = s->n_win = 0;
    s->events = s->windows = s->queue_events = 0;
    s->ran = 0;
    return NORN_OK;
}

norn_status norn_sim_add_current_tensor(norn_sim *s, uint32_t pop, uint64_t T, const double *data, norn_err *err)
{
    population *p = pop < s->n_pops ? &s->pops[pop] : NULL;
    if (!p || !p->euler || !p->ep.type)
        return NORN_FAIL(err, NORN_EINVAL, NULL,
                         "current_tensor: the target must be a population of a Norse model (euler mode)");
    if (p->cur_tensor)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "current_tensor: population '%s' already has one", p->name);
    uint64_t cnt = T * p->mp.n;
    p->cur_tensor = norn_malloc_n(cnt ? cnt : 1, sizeof(float));
    if (!p->cur_tensor)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "current_tensor: cannot allocate %llu values",
                         (unsigned long long)cnt);
    for (uint64_t k = 0; k < cnt; k++)
        p->cur_tensor[k] = (float)data[k];
    p->cur_T = T;
    return NORN_OK;
}

norn_status norn_sim_set_stp(norn_sim *s, uint32_t table, const norn_stp_spec *spec, norn_err *err)
{
    if (table >= s->n_tables)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stp: table %u out of range", table);
    table_t *tb = &s->tables[table];
    int euler = s->cfg.mode == NORN_MODE_EULER;
    if (spec->rule != (euler ? NORN_STP_RULE_NORSE : NORN_STP_RULE_TSODYKS2))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stp: rule %d does not belong to this mode", spec->rule);
    if (!(spec->U > 0 && spec->U <= 1) || !(spec->u0 >= 0 && spec->u0 <= 1) || !(spec->x0 >= 0 && spec->x0 <= 1))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stp: U must be in (0, 1], u and x in [0, 1]");
    if (!euler && (!(spec->tau_rec_ms > 0) || !(spec->tau_fac_ms >= 0)))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stp: tau_rec must be > 0 and tau_fac >= 0");
    if (euler && (!isfinite(spec->tau_f_inv) || !isfinite(spec->tau_d_inv)))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stp: tau_f_inv and tau_d_inv must be finite");
    uint32_t n = tb->csr.n_src;
    if (!euler) {
        if (table >= (1u << (32 - EV_KIND_BITS - STP_SEG_BITS)))
            return NORN_FAIL(err, NORN_EINVAL, NULL, "stp: at most %u synapse tables", 1u << (32 - EV_KIND_BITS - STP_SEG_BITS));
        for (uint32_t i = 0; i < n; i++)
            if (tb->csr.seg_ptr[i + 1] - tb->csr.seg_ptr[i] > (1u << STP_SEG_BITS))
                return NORN_FAIL(err, NORN_EINVAL, NULL, "stp: at most %u distinct delays per presynaptic neuron",
                                 1u << STP_SEG_BITS);
    }
    tb->stp = *spec;
    if (euler) {
        tb->uf = norn_malloc_n(n ? n : 1, sizeof(float));
        tb->xf = norn_malloc_n(n ? n : 1, sizeof(float));
        tb->ls = norn_malloc_n(n ? n : 1, sizeof(int64_t));
        tb->rel = norn_calloc_n(n ? n : 1, sizeof(float));
        if (!tb->uf || !tb->xf || !tb->ls || !tb->rel)
            return NORN_FAIL(err, NORN_ENOMEM, NULL, "stp: cannot allocate the state of %u neurons", n);
        for (uint32_t i = 0; i < n; i++) {
            tb->uf[i] = (float)spec->u0;
            tb->xf[i] = (float)spec->x0;
            tb->ls[i] = -1;
        }
        /* Norse's parameters are Python floats: each is rounded to float32
         * where it meets a tensor (norse-semantics.md section 4) */
        tb->fU = (float)spec->U;
        tb->fdt = (float)(s->cfg.resolution_ms / 1000.0);
        tb->ftf = (float)(-spec->tau_f_inv);
        tb->ftd = (float)spec->tau_d_inv;
    } else {
        tb->u = norn_malloc_n(n ? n : 1, sizeof(double));
        tb->x = norn_malloc_n(n ? n : 1, sizeof(double));
        tb->tl = norn_malloc_n(n ? n : 1, sizeof(double));
        if (!tb->u || !tb->x || !tb->tl)
            return NORN_FAIL(err, NORN_ENOMEM, NULL, "stp: cannot allocate the state of %u neurons", n);
        for (uint32_t i = 0; i < n; i++) {
            tb->u[i] = spec->u0;
            tb->x[i] = spec->x0;
            tb->tl[i] = -INFINITY;
        }
    }
    return NORN_OK;
}

/* NEST's tsodyks2_synapse at a presynaptic spike at t: the efficacy u x of
 * this spike; the state stored is the pre-release one. */
static double stp_tsodyks2(table_t *tb, uint32_t i, double t)
{
    if (tb->tl[i] > -INFINITY) {
        double h = t - tb->tl[i];
        const norn_stp_spec *p = &tb->stp;
        double x = tb->x[i], u = tb->u[i];
        tb->x[i] = 1.0 + (x - x * u - 1.0) * exp(-h / p->tau_rec_ms);
        tb->u[i] = p->tau_fac_ms > 0 ? p->U + u * (1.0 - p->U) * exp(-h / p->tau_fac_ms) : p->U;
    }
    tb->tl[i] = t;
    return tb->u[i] * tb->x[i];
}

/* Norse's stp_step for presynaptic neuron i at step k with spike z (0/1):
 * returns the released fraction (u' x) z. */
static inline float stp_norse_step(table_t *tb, uint32_t i, float z)
{
    float u = tb->uf[i], x = tb->xf[i];
    float un = (u + tb->fdt * (tb->ftf * u)) + (tb->fU * (1.0f - u)) * z;
    float xn = (x + tb->fdt * (tb->ftd * (1.0f - x))) - (un * x) * z;
    tb->uf[i] = un;
    tb->xf[i] = xn;
    return (un * x) * z;
}

/* Steps neuron i's state without spikes up to step k-1 (bit for bit, stops
 * at a fixed point), then step k with a spike; returns the release. */
static float stp_norse_spike(table_t *tb, uint32_t i, int64_t k)
{
    for (int64_t j = tb->ls[i] + 1; j < k; j++) {
        float u = tb->uf[i], x = tb->xf[i];
        stp_norse_step(tb, i, 0.0f);
        if (memcmp(&u, &tb->uf[i], sizeof u) == 0 && memcmp(&x, &tb->xf[i], sizeof x) == 0)
            break;
    }
    tb->ls[i] = k;
    return stp_norse_step(tb, i, 1.0f);
}

/* Brings every presynaptic state of an euler stp table to the end of step k. */
static void stp_norse_all(table_t *tb, int64_t k)
{
    for (uint32_t i = 0; i < tb->csr.n_src; i++)
        if (tb->ls[i] < k) {
            for (int64_t j = tb->ls[i] + 1; j <= k; j++) {
                float u = tb->uf[i], x = tb->xf[i];
                stp_norse_step(tb, i, 0.0f);
                if (memcmp(&u, &tb->uf[i], sizeof u) == 0 && memcmp(&x, &tb->xf[i], sizeof x) == 0)
                    break;
            }
            tb->ls[i] = k;
        }
}

norn_status norn_sim_set_lag(norn_sim *s, uint32_t table, int lag, norn_err *err)
{
    if (table >= s->n_tables || (lag != 0 && lag != 1))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "set_lag: bad table %u or lag %d", table, lag);
    if (lag == 0 && s->tables[table].src >= s->tables[table].tgt)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "a lag of 0 needs the source population before the target");
    s->tables[table].lag = lag;
    return NORN_OK;
}

static int append_u32(uint32_t **arr, uint32_t *n, uint32_t v)
{
    uint32_t *a = norn_realloc_n(*arr, *n + 1, sizeof *a);
    if (!a)
        return 0;
    a[(*n)++] = v;
    *arr = a;
    return 1;
}

norn_status norn_sim_set_stdp(norn_sim *s, uint32_t table, const norn_stdp_spec *spec, norn_err *err)
{
    if (table >= s->n_tables)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stdp: table %u out of range", table);
    table_t *tb = &s->tables[table];
    if (tb->stp.rule != NORN_STP_RULE_NONE || tb->stdp || tb->sn)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stdp: a projection takes one plasticity rule");
    if ((s->cfg.mode == NORN_MODE_EULER) != (spec->rule == NORN_STDP_NORSE))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stdp: %s", spec->rule == NORN_STDP_NORSE
                                                                 ? "Norse's rule needs euler mode"
                                                                 : "NEST's rules need continuous or grid mode");
    if (spec->rule == NORN_STDP_NORSE)
        return norn_stdp_norse_create(&tb->csr, spec, s->cfg.resolution_ms, &tb->sn, err);
    if (table >= (1u << (32 - EV_KIND_BITS - STP_SEG_BITS)))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "stdp: at most %u synapse tables",
                         1u << (32 - EV_KIND_BITS - STP_SEG_BITS));
    for (uint32_t i = 0; i < tb->csr.n_src; i++)
        if (tb->csr.seg_ptr[i + 1] - tb->csr.seg_ptr[i] > (1u << STP_SEG_BITS))
            return NORN_FAIL(err, NORN_EINVAL, NULL, "stdp: at most %u distinct delays per presynaptic neuron",
                             1u << STP_SEG_BITS);
    population *post = &s->pops[tb->tgt];
    if (!append_u32(&post->stdp_in, &post->n_stdp_in, table))
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "stdp: cannot allocate");
    norn_status st = norn_stdp_create(spec, &tb->csr, &tb->stdp, err);
    if (st != NORN_OK)
        post->n_stdp_in--;
    else
        norn_stdp_set_simd(tb->stdp, !s->cfg.no_simd);
    return st;
}

void norn__sim_stdp_reference(norn_sim *s, int on)
{
    for (uint32_t k = 0; k < s->n_tables; k++)
        if (s->tables[k].stdp)
            norn__stdp_set_reference(s->tables[k].stdp, on);
}

int norn__sim_stdp_simd(norn_sim *s, int on)
{
    int any = 0;
    for (uint32_t k = 0; k < s->n_tables; k++)
        if (s->tables[k].stdp)
            any |= norn_stdp_set_simd(s->tables[k].stdp, on && !s->cfg.no_simd);
    return any;
}

const double *norn_sim_table_weights(const norn_sim *s, uint32_t table)
{
    return table < s->n_tables && s->tables[table].stdp ? norn_stdp_weights(s->tables[table].stdp) : NULL;
}

uint32_t norn_sim_n_tables(const norn_sim *s) { return s->n_tables; }

uint32_t norn_sim_n_populations(const norn_sim *s) { return s->n_pops; }
static void state_to_pause(norn_sim *s, uint32_t pop);

double *norn_sim_state(norn_sim *s, uint32_t pop, int var)
{
    population *p = &s->pops[pop];
    if (s->started && !s->done && s->cfg.mode != NORN_MODE_EULER)
        state_to_pause(s, pop);
    for (uint32_t i = 0; p->qu_t && i < p->mp.n; i++) /* the caller may write: bounds computed again */
        p->qu_t[i] = NAN;
    return p->mp.st[var];
}
const norn_model_pop *norn_sim_model_pop(const norn_sim *s, uint32_t pop) { return &s->pops[pop].mp; }
uint32_t norn_sim_first_id(const norn_sim *s, uint32_t pop) { return s->pops[pop].first_id; }
uint32_t norn_sim_pop_size(const norn_sim *s, uint32_t pop) { return s->pops[pop].mp.n; }

int norn_sim_pop_dense(const norn_sim *s, uint32_t pop) { return s->pops[pop].dense; }
const char *norn_sim_pop_name(const norn_sim *s, uint32_t pop) { return s->pops[pop].name; }


norn_status norn_sim_add_synapses(norn_sim *s, uint32_t src_pop, uint32_t tgt_pop, norn_csr *csr,
                                  norn_err *err)
{
    if (src_pop >= s->n_pops || tgt_pop >= s->n_pops)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "synapses: population index out of range");
    if (csr->n_src != s->pops[src_pop].mp.n || csr->n_tgt != s->pops[tgt_pop].mp.n)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "synapses: table shape %u x %u does not match %s -> %s",
                         csr->n_src, csr->n_tgt, s->pops[src_pop].name, s->pops[tgt_pop].name);
    if (s->n_tables >= (1u << (32 - EV_KIND_BITS)) - 1)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "too many synapse tables");
    table_t *t = norn_realloc_n(s->tables, s->n_tables + 1, sizeof *t);
    if (!t)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a synapse table");
    s->tables = t;
    if (!append_u32(&s->pops[src_pop].out, &s->pops[src_pop].n_out, s->n_tables))
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a synapse table");
    memset(&t[s->n_tables], 0, sizeof t[s->n_tables]);
    t[s->n_tables].src = src_pop;
    t[s->n_tables].tgt = tgt_pop;
    t[s->n_tables].lag = src_pop < tgt_pop ? 0 : 1;
    t[s->n_tables].csr = *csr;
    if (!csr->weight && csr->w_uniform) { /* compact_weights' result, known at build */
        t[s->n_tables].hom = 1;
        t[s->n_tables].w_hom = csr->w_const;
    }
    memset(csr, 0, sizeof *csr);
    s->n_tables++;
    return NORN_OK;
}

/* grid mode, lambda >= 0.25: the next step with arrivals after next_k[i]
 * and their count, one draw per step. */
/* The drive's arrays and constants in locals: a loop over neurons that
 * also stores bytes (flags) need not reload them after every store. */
typedef struct {
    norn_rng *rng;
    int64_t *next_k;
    double *next_a;
    uint32_t *cnt;
    const uint64_t *cdf;
    const uint32_t *guide;
    double grid_n, stop, h;
} grid_draw;

static inline grid_draw grid_draw_of(poisson_stim *q, double h)
{
    return (grid_draw){q->rng, q->next_k, q->next_a, q->cnt, q->cdf32, q->guide, q->grid_n, q->stop, h};
}

static inline void grid_draw_next(const grid_draw *g, uint32_t i)
{
    norn_rng *r = &g->rng[i];
    int64_t k = g->next_k[i];
    const uint64_t *cdf = g->cdf;
    uint32_t c;
    do {
        uint32_t u = norn_rng_fast_u32(r);
        c = g->guide[u >> 24];
        while (u >= cdf[c])
            c++;
        k++;
    } while (c == 0);
    /* norn_grid_time(k, h), its division by n known in advance */
    double t = g->grid_n > 0 ? (double)k / g->grid_n : norn_grid_time(k, g->h);
    g->next_a[i] = t <= g->stop ? t : INFINITY;
    g->next_k[i] = k;
    g->cnt[i] = c;
}

static inline void poisson_next_grid(poisson_stim *q, uint32_t i, double h)
{
    grid_draw g = grid_draw_of(q, h);
    grid_draw_next(&g, i);
}

/* grid mode, lambda < 0.25: the empty steps skipped geometrically, then a
 * count >= 1. */
static void poisson_next_rare(const norn_sim *s, poisson_stim *q, uint32_t i)
{
    norn_rng *r = &q->rng[i];
    double h = s->cfg.resolution_ms;
    int64_t k = q->next_k[i];
    uint32_t c = 0;
    double u = norn_rng_uniform_pos(r);
    double gap = floor(log(u) / q->log_p0);
    if (gap > 1e15)
        gap = 1e15;
    k += 1 + (int64_t)gap;
    double v = q->p0 + (1.0 - q->p0) * norn_rng_uniform(r);
    while (v >= q->cdf[c])
        c++;
    if (c == 0)
        c = 1;
    /* norn_grid_time(k, h), its division by n known in advance */
    double t = q->grid_n > 0 ? (double)k / q->grid_n : norn_grid_time(k, h);
    q->next_a[i] = t <= q->stop ? t : INFINITY;
    q->next_k[i] = k;
    q->cnt[i] = c;
}

/* Draws the arrival(s) after next_a[i] (or the first one at/after start).
 * Inline: the continuous draw and the usual grid one are a few
 * instructions in the lazy advance's loop. */
static inline void poisson_next(const norn_sim *s, poisson_stim *q, uint32_t i)
{
    if (q->rate_per_ms <= 0) {
        q->next_a[i] = INFINITY;
        return;
    }
    if (s->cfg.mode != NORN_MODE_GRID) {
        double t = q->next_a[i] + norn_rng_exp_fast(&q->rng[i]) * q->inv_rate;
        q->next_a[i] = t < q->stop ? t : INFINITY;
        q->cnt[i] = 1;
        return;
    }
    if (q->cdf32)
        poisson_next_grid(q, i, s->cfg.resolution_ms);
    else
        poisson_next_rare(s, q, i);
}

norn_status norn_sim_add_poisson(norn_sim *s, uint32_t pop, double rate_hz, double weight,
                                 double start_ms, double stop_ms, norn_err *err)
{
    if (pop >= s->n_pops)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "poisson: population index out of range");
    if (!(rate_hz >= 0) || !isfinite(rate_hz))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "poisson: rate must be >= 0 Hz, got %g", rate_hz);
    poisson_stim *ps = norn_realloc_n(s->poisson, s->n_poisson + 1, sizeof *ps);
    if (!ps)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a poisson stimulus");
    s->poisson = ps;
    population *p = &s->pops[pop];
    poisson_stim *q = &ps[s->n_poisson];
    memset(q, 0, sizeof *q);
    q->pop = pop;
    q->rate_per_ms = rate_hz / 1000.0;
    q->inv_rate = 1.0 / q->rate_per_ms;
    q->weight = weight;
    q->start = start_ms > 0 ? start_ms : 0;
    q->stop = stop_ms;
    q->index = s->n_poisson;
    double h = s->cfg.resolution_ms;
    int grid = s->cfg.mode == NORN_MODE_GRID;
    q->lambda = q->rate_per_ms * h;
    q->p0 = exp(-q->lambda);
    q->log_p0 = -q->lambda;
    if (grid && q->lambda > 0) {
        uint32_t kmax = (uint32_t)(q->lambda + 12.0 * sqrt(q->lambda) + 40.0);
        q->cdf = norn_malloc_n(kmax, sizeof(double));
        if (q->cdf) {
            /* in log space, so large lambda does not underflow */
            double c = 0;
            for (uint32_t k = 0; k < kmax; k++) {
                c += exp(-q->lambda + k * log(q->lambda) - lgamma(k + 1.0));
                q->cdf[k] = c;
                q->n_cdf = k + 1;
                if (c >= 1.0 - 1e-17)
                    break;
            }
            q->cdf[q->n_cdf - 1] = 2.0; /* the last entry catches every u */
            if (q->lambda >= 0.25 && (q->cdf32 = norn_malloc_n(q->n_cdf, sizeof(uint64_t)))) {
                for (uint32_t k = 0; k < q->n_cdf; k++)
                    q->cdf32[k] = (uint64_t)ceil(fmin(q->cdf[k], 2.0) * 4294967296.0);
                uint32_t c = 0;
                for (uint32_t g = 0; g < 256; g++) {
                    while ((uint64_t)g << 24 >= q->cdf32[c])
                        c++;
                    q->guide[g] = c;
                }
            }
        }
    }
    q->next_a = norn_malloc_n(p->mp.n, sizeof(double));
    q->next_k = grid ? norn_malloc_n(p->mp.n ? p->mp.n : 1, sizeof(int64_t)) : NULL;
    {
        double inv = 1.0 / h, gn = nearbyint(inv);
        q->grid_n = gn >= 1 && fabs(inv - gn) <= 1e-9 * gn ? gn : 0.0; /* as norn_grid_time decides */
    }
    q->cnt = norn_malloc_n(p->mp.n, sizeof(uint32_t));
    q->rng = norn_malloc_n(p->mp.n, sizeof(norn_rng));
    if (!q->next_a || !q->cnt || !q->rng || (grid && (!q->next_k || (q->lambda > 0 && !q->cdf))) ||
        (grid && q->lambda >= 0.25 && !q->cdf32) ||
        !append_u32(&p->poisson, &p->n_poisson, s->n_poisson)) {
        norn_free(q->next_a);
        norn_free(q->next_k);
        norn_free(q->cnt);
        norn_free(q->rng);
        norn_free(q->cdf);
        norn_free(q->cdf32);
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate poisson streams for %u neurons", p->mp.n);
    }
    for (uint32_t i = 0; i < p->mp.n; i++) {
        q->rng[i] = norn_rng_stream(s->cfg.seed, NORN_RNG_POISSON,
                                    ((uint64_t)q->index << 32) | (p->first_id + i));
        /* grid: the first candidate step is the one ending after start */
        q->next_a[i] = grid ? norn_grid_time((int64_t)ceil(q->start / h - 1e-9), h) : q->start;
        if (grid)
            q->next_k[i] = (int64_t)ceil(q->start / h - 1e-9);
        poisson_next(s, q, i);
    }
    if (q->rate_per_ms > 0)
        p->sweep_all = 1;
    s->n_poisson++;
    return NORN_OK;
}

norn_status norn_sim_add_dc(norn_sim *s, uint32_t pop, uint64_t n, const double *times_ms,
                            const double *amps_pA, norn_err *err)
{
    if (pop >= s->n_pops)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "dc: population index out of range");
    for (uint64_t k = 0; k < n; k++) {
        if (!isfinite(times_ms[k]) || !isfinite(amps_pA[k]))
            return NORN_FAIL(err, NORN_EINVAL, NULL, "dc: step %llu is not finite", (unsigned long long)k);
        if (k && times_ms[k] < times_ms[k - 1])
            return NORN_FAIL(err, NORN_EINVAL, NULL, "dc: times must be ascending");
    }
    dc_stim *d = norn_realloc_n(s->dc, s->n_dc + 1, sizeof *d);
    if (!d)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a dc stimulus");
    s->dc = d;
    population *p = &s->pops[pop];
    if (!p->mp.i_dc) {
        p->mp.i_dc = norn_calloc_n(p->mp.n, sizeof(double));
        if (!p->mp.i_dc)
            return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate dc currents");
    }
    dc_stim *q = &d[s->n_dc];
    q->pop = pop;
    q->n = n;
    q->times = norn_malloc_n(n ? n : 1, sizeof(double));
    q->amps = norn_malloc_n(n ? n : 1, sizeof(double));
    if (!q->times || !q->amps) {
        norn_free(q->times);
        norn_free(q->amps);
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a dc stimulus");
    }
    memcpy(q->times, times_ms, n * sizeof(double));
    memcpy(q->amps, amps_pA, n * sizeof(double));
    s->n_dc++;
    return NORN_OK;
}

typedef struct {
    double t;
    uint32_t neuron;
    uint64_t k;
} train_item;

static int cmp_train(const void *a, const void *b)
{
    const train_item *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

norn_status norn_sim_add_spike_train(norn_sim *s, uint32_t pop, uint64_t n, const double *times_ms,
                                     const uint32_t *neuron, double weight, norn_err *err)
{
    if (pop >= s->n_pops)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "spike_times: population index out of range");
    population *p = &s->pops[pop];
    for (uint64_t k = 0; k < n; k++) {
        if (!isfinite(times_ms[k]) || times_ms[k] < 0)
            return NORN_FAIL(err, NORN_EINVAL, NULL, "spike_times: time %g ms at index %llu is not a finite time >= 0",
                             times_ms[k], (unsigned long long)k);
        if (neuron && neuron[k] != UINT32_MAX && neuron[k] >= p->mp.n)
            return NORN_FAIL(err, NORN_EINVAL, NULL,
                             "spike_times: neuron %u at index %llu is out of range (population '%s' has %u)",
                             neuron[k], (unsigned long long)k, p->name, p->mp.n);
    }
    train_stim *tr = norn_realloc_n(s->trains, s->n_trains + 1, sizeof *tr);
    if (!tr)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a spike train");
    s->trains = tr;
    train_item *items = norn_malloc_n(n ? n : 1, sizeof *items);
    train_stim *q = &tr[s->n_trains];
    q->pop = pop;
    q->n = n;
    q->weight = weight;
    q->times = norn_malloc_n(n ? n : 1, sizeof(double));
    q->neuron = norn_malloc_n(n ? n : 1, sizeof(uint32_t));
    if (!items || !q->times || !q->neuron) {
        norn_free(items);
        norn_free(q->times);
        norn_free(q->neuron);
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a spike train of %llu spikes",
                         (unsigned long long)n);
    }
    double h = s->cfg.resolution_ms;
    for (uint64_t k = 0; k < n; k++) {
        /* grid mode: a spike acts at the end of the step it falls in */
        items[k].t = s->cfg.mode == NORN_MODE_GRID ? grid_ceil(times_ms[k], h) : times_ms[k];
        items[k].neuron = neuron ? neuron[k] : UINT32_MAX;
        items[k].k = k;
    }
    qsort(items, n, sizeof *items, cmp_train);
    for (uint64_t k = 0; k < n; k++) {
        q->times[k] = items[k].t;
        q->neuron[k] = items[k].neuron;
    }
    norn_free(items);
    s->n_trains++;
    return NORN_OK;
}

void norn_sim_record_spikes(norn_sim *s, uint32_t pop, int on)
{
    if (pop < s->n_pops)
        s->pops[pop].record = on;
}

/* A recording interval of `steps` resolution steps is a whole number >= 1. */
static int whole_steps(double steps)
{
    return !(!(steps >= 1 - 1e-9) || fabs(steps - nearbyint(steps)) > 1e-9 * steps);
}

norn_status norn_sim_record_state(norn_sim *s, uint32_t pop, const int *vars, int n_vars,
                                  const uint32_t *neurons, uint32_t n_neurons, double interval_ms,
                                  uint32_t *out_index, norn_err *err)
{
    if (pop >= s->n_pops)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "record: population index out of range");
    population *p = &s->pops[pop];
    if (n_vars <= 0 || n_vars > NORN_MAX_STATE)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "record: between 1 and %d variables", NORN_MAX_STATE);
    int n_state = p->euler ? (p->ep.type ? p->ep.type->n_state : 0) : p->mp.type->n_state;
    if (n_state == 0)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "record: population '%s' has no state to record", p->name);
    for (int v = 0; v < n_vars; v++)
        if (vars[v] < 0 || vars[v] >= n_state)
            return NORN_FAIL(err, NORN_EINVAL, NULL, "record: bad variable index %d", vars[v]);
    for (uint32_t k = 0; k < n_neurons; k++)
        if (neurons[k] >= p->mp.n)
            return NORN_FAIL(err, NORN_EINVAL, NULL, "record: neuron %u out of range", neurons[k]);
    double h = s->cfg.resolution_ms, steps = interval_ms / h;
    if (!whole_steps(steps))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "record: interval %g ms must be a positive multiple of the resolution %g ms",
                         interval_ms, h);
    recorder *r = norn_realloc_n(s->recs, s->n_recs + 1, sizeof *r);
    if (!r)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a recorder");
    s->recs = r;
    recorder *q = &r[s->n_recs];
    memset(q, 0, sizeof *q);
    q->pop = pop;
    q->n_vars = n_vars;
    memcpy(q->vars, vars, (size_t)n_vars * sizeof(int));
    q->n_neurons = n_neurons;
    q->interval = norn_grid_time((int64_t)nearbyint(steps), h);
    q->neurons = norn_malloc_n(n_neurons ? n_neurons : 1, sizeof(uint32_t));
    if (!q->neurons)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a recorder");
    memcpy(q->neurons, neurons, n_neurons * sizeof(uint32_t));
    *out_index = s->n_recs++;
    return NORN_OK;
}

norn_status norn_sim_record_weights(norn_sim *s, const uint32_t *tables, uint32_t n_tables, double interval_ms,
                                    uint32_t *out_index, norn_err *err)
{
    if (n_tables == 0)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "record weights: no synapse table");
    for (uint32_t k = 0; k < n_tables; k++)
        if (tables[k] >= s->n_tables)
            return NORN_FAIL(err, NORN_EINVAL, NULL, "record weights: table %u out of range", tables[k]);
    double h = s->cfg.resolution_ms, steps = interval_ms / h;
    if (interval_ms != 0 && !whole_steps(steps))
        return NORN_FAIL(err, NORN_EINVAL, NULL,
                         "record weights: every %g ms must be a positive multiple of the resolution %g ms", interval_ms,
                         h);
    wrecorder *r = norn_realloc_n(s->wrecs, s->n_wrecs + 1, sizeof *r);
    if (!r)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a weight recorder");
    s->wrecs = r;
    wrecorder *q = &r[s->n_wrecs];
    memset(q, 0, sizeof *q);
    q->tables = norn_malloc_n(n_tables, sizeof(uint32_t));
    if (!q->tables)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a weight recorder");
    memcpy(q->tables, tables, n_tables * sizeof(uint32_t));
    q->n_tables = n_tables;
    q->interval = interval_ms == 0 ? 0 : norn_grid_time((int64_t)nearbyint(steps), h);
    for (uint32_t k = 0; k < n_tables; k++)
        q->n_syn += s->tables[tables[k]].csr.nnz;
    *out_index = s->n_wrecs++;
    return NORN_OK;
}

norn_status norn_sim_record_weights_at(norn_sim *s, const uint32_t *tables, uint32_t n_tables, const double *times_ms,
                                       uint64_t n_times, uint32_t *out_index, norn_err *err)
{
    for (uint64_t k = 0; k < n_times; k++)
        if (!(times_ms[k] >= 0) || !isfinite(times_ms[k]) || (k && !(times_ms[k] > times_ms[k - 1])))
            return NORN_FAIL(err, NORN_EINVAL, NULL, "record weights: times must be >= 0 and ascending");
    norn_status st = norn_sim_record_weights(s, tables, n_tables, 0, out_index, err);
    if (st != NORN_OK)
        return st;
    wrecorder *q = &s->wrecs[*out_index];
    q->at = norn_malloc_n(n_times ? n_times : 1, sizeof(double));
    if (!q->at)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a weight recorder");
    memcpy(q->at, times_ms, n_times * sizeof(double));
    q->n_at = n_times;
    return NORN_OK;
}

norn_status norn_sim_record_stp(norn_sim *s, uint32_t table, const int *vars, int n_vars, double interval_ms,
                                uint32_t *out_index, norn_err *err)
{
    if (table >= s->n_tables || s->tables[table].stp.rule == NORN_STP_RULE_NONE)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "record plasticity: table %u has no short-term plasticity", table);
    if (n_vars < 1 || n_vars > 2)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "record plasticity: 1 or 2 variables (u, x)");
    double h = s->cfg.resolution_ms, steps = interval_ms / h;
    if (!whole_steps(steps))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "record plasticity: every %g ms must be a positive multiple of %g ms",
                         interval_ms, h);
    srecorder *r = norn_realloc_n(s->srecs, s->n_srecs + 1, sizeof *r);
    if (!r)
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot allocate a plasticity recorder");
    s->srecs = r;
    srecorder *q = &r[s->n_srecs];
    memset(q, 0, sizeof *q);
    q->table = table;
    q->n_vars = n_vars;
    for (int v = 0; v < n_vars; v++)
        q->vars[v] = vars[v] != 0;
    q->interval = norn_grid_time((int64_t)nearbyint(steps), h);
    *out_index = s->n_srecs++;
    return NORN_OK;
}

static norn_status setup_stp_samples(norn_sim *s)
{
    for (uint32_t k = 0; k < s->n_srecs; k++) {
        srecorder *q = &s->srecs[k];
        uint64_t m = (uint64_t)floor(s->duration / q->interval + 1e-9);
        uint32_t n = s->tables[q->table].csr.n_src;
        int64_t every = norn_grid_index(q->interval, s->cfg.resolution_ms);
        q->n_samples = m;
        q->times = norn_malloc_n(m ? m : 1, sizeof(double));
        q->data = norn_malloc_n(m * (uint64_t)q->n_vars * n + 1, sizeof(float));
        if (!q->times || !q->data)
            return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot allocate %llu plasticity samples",
                             (unsigned long long)m);
        for (uint64_t j = 0; j < m; j++)
            q->times[j] = norn_grid_time((int64_t)(j + 1) * every, s->cfg.resolution_ms);
    }
    return NORN_OK;
}

/* Samples the plasticity state of every recorder due before t (or at t when
 * inclusive). euler: the state after step `step` (all neurons brought there). */
static void sample_stp(norn_sim *s, double t, int inclusive, int64_t step)
{
    for (uint32_t k = 0; k < s->n_srecs; k++) {
        srecorder *q = &s->srecs[k];
        table_t *tb = &s->tables[q->table];
        uint32_t n = tb->csr.n_src;
        while (q->next < q->n_samples && (inclusive ? q->times[q->next] <= t : q->times[q->next] < t)) {
            float *row = q->data + q->next * (uint64_t)q->n_vars * n;
            if (tb->uf)
                stp_norse_all(tb, step);
            for (int v = 0; v < q->n_vars; v++)
                for (uint32_t i = 0; i < n; i++)
                    row[(uint64_t)v * n + i] = tb->uf ? (q->vars[v] ? tb->xf[i] : tb->uf[i])
                                                      : (float)(q->vars[v] ? tb->x[i] : tb->u[i]);
            q->next++;
        }
    }
}

static norn_status setup_weight_snapshots(norn_sim *s)
{
    double h = s->cfg.resolution_ms;
    for (uint32_t k = 0; k < s->n_wrecs; k++) {
        wrecorder *q = &s->wrecs[k];
        uint64_t m = 0;
        int64_t every = q->interval > 0 ? norn_grid_index(q->interval, h) : 0;
        if (every > 0)
            m = (uint64_t)floor(s->duration / q->interval + 1e-9);
        int64_t end = norn_grid_index(s->duration, h);
        int final_extra = every == 0 || (int64_t)m * every != end;
        if (q->at) {
            if (q->n_at && q->at[q->n_at - 1] > s->duration)
                return NORN_FAIL(s->err, NORN_EINVAL, NULL,
                                 "record weights: snapshot time %g ms is after the end of the run (%g ms)",
                                 q->at[q->n_at - 1], s->duration);
            m = q->n_at;
            final_extra = m == 0 || q->at[m - 1] != s->duration;
        }
        q->n_snap = m + (final_extra ? 1 : 0);
        q->times = norn_malloc_n(q->n_snap, sizeof(double));
        q->w = norn_malloc_n(q->n_snap * q->n_syn + 1, sizeof(float));
        if (!q->times || !q->w)
            return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot allocate %llu weight snapshots of %llu synapses",
                             (unsigned long long)q->n_snap, (unsigned long long)q->n_syn);
        for (uint64_t j = 0; j < m; j++)
            q->times[j] = q->at ? q->at[j] : norn_grid_time((int64_t)(j + 1) * every, h);
        if (final_extra)
            q->times[q->n_snap - 1] = s->duration;
    }
    return NORN_OK;
}

/* Copies the weights of every recorder whose next snapshot time is < t
 * (or <= t when inclusive). */
static void snapshot_weights(norn_sim *s, double t, int inclusive)
{
    for (uint32_t k = 0; k < s->n_wrecs; k++) {
        wrecorder *q = &s->wrecs[k];
        while (q->next < q->n_snap && (inclusive ? q->times[q->next] <= t : q->times[q->next] < t)) {
            float *dst = q->w + q->next * q->n_syn;
            for (uint32_t j = 0; j < q->n_tables; j++) {
                const table_t *tb = &s->tables[q->tables[j]];
                const norn_csr *c = &tb->csr;
                if (tb->stdp) {
                    /* pairings that have reached the synapse are booked */
                    if (!norn_stdp_settle(tb->stdp, c, tb->tg16, s->cfg.resolution_ms, q->times[q->next], 1))
                        s->fail = NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot grow the STDP state");
                    const double *W = norn_stdp_weights(tb->stdp);
                    for (uint64_t k = 0; k < c->nnz; k++)
                        dst[k] = (float)W[k];
                } else if (tb->hom) {
                    for (uint64_t k = 0; k < c->nnz; k++)
                        dst[k] = tb->w_hom;
                } else {
                    memcpy(dst, c->weight, c->nnz * sizeof(float));
                }
                dst += c->nnz;
            }
            q->next++;
        }
    }
}

/* -------------------------------------------------------------------- run */

static inline void touch(population *p, uint32_t i)
{
    if (p->qu_t) /* input: the bound is for the state before it */
        p->qu_t[i] = NAN;
    if (!p->in_sweep[i]) {
        p->in_sweep[i] = 1;
        p->sweep[p->n_sweep++] = i;
    }
}

/* Records a spike of neuron i at t in the window's list (fire() done). */
static void add_spike(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t)
{
    p->spikes++;
    if (s->n_win == s->cap_win && !grow((void **)&s->win, &s->cap_win, s->n_win + 1, sizeof *s->win)) {
        s->fail = NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot grow the spike buffer");
        return;
    }
    s->win[s->n_win].t = t;
    s->win[s->n_win].gid = p->first_id + i;
    s->win[s->n_win].pop = pi;
    s->n_win++;
}

static void emit(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t)
{
    p->mp.type->fire(&p->mp, i, t);
    add_spike(s, p, pi, i, t);
}

/* A spike of step k in euler mode, stamped at the end of the step. */
static void emit_euler(norn_sim *s, population *p, uint32_t pi, uint32_t i, int64_t k)
{
    p->spikes++;
    if (s->n_win == s->cap_win && !grow((void **)&s->win, &s->cap_win, s->n_win + 1, sizeof *s->win)) {
        s->fail = NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot grow the spike buffer");
        return;
    }
    s->win[s->n_win].t = norn_grid_time(k + 1, s->cfg.resolution_ms);
    s->win[s->n_win].gid = p->first_id + i;
    s->win[s->n_win].pop = pi;
    s->n_win++;
}

/* The model's functions, called directly and inlined where the model is
 * iaf_delta (IAFD constant 1 in an always-inlined caller), else through the
 * model's table: one source for both. */
#define M_ADVANCE(mp, i, t0, t1, tc) \
    (IAFD ? norn__iafd_advance(mp, i, t0, t1, tc) : (mp)->type->advance(mp, i, t0, t1, tc))
#define M_INPUT(mp, i, t, w) (IAFD ? norn__iafd_input(mp, i, t, w) : (mp)->type->input(mp, i, t, w))
#define M_ABOVE(mp, i, t) (IAFD ? norn__iafd_above(mp, i, t) : (mp)->type->above(mp, i, t))
#define M_FIRE(mp, i, t) (IAFD ? norn__iafd_fire(mp, i, t) : (mp)->type->fire(mp, i, t))
#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE void emit_m(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t, const int IAFD)
{
    M_FIRE(&p->mp, i, t);
    add_spike(s, p, pi, i, t);
}

/* Free evolution of neuron i from t0 to t1, emitting every crossing. */
static ALWAYS_INLINE void evolve(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t0, double t1,
                                 const int IAFD)
{
    double tc;
    while (M_ADVANCE(&p->mp, i, t0, t1, &tc)) {
        emit_m(s, p, pi, i, tc, IAFD);
        t0 = tc;
    }
}

/* Applies summed input per channel (zero sums skipped). */
static ALWAYS_INLINE void input_sums_m(population *p, uint32_t i, double t, double w0, double w1, const int IAFD)
{
    if (w0 != 0.0)
        M_INPUT(&p->mp, i, t, w0);
    if (w1 != 0.0)
        M_INPUT(&p->mp, i, t, w1);
}

static inline void input_sums(population *p, uint32_t i, double t, double w0, double w1)
{
    input_sums_m(p, i, t, w0, w1, 0);
}

/* The earliest pending Poisson arrival of neuron i (INFINITY: none). */
static inline double next_arrival(const norn_sim *s, const population *p, uint32_t i)
{
    double tn = INFINITY;
    for (uint32_t k = 0; k < p->n_poisson; k++) {
        double a = s->poisson[p->poisson[k]].next_a[i];
        if (a < tn)
            tn = a;
    }
    return tn;
}

/* Brings neuron i to time t: tests the threshold pending at its last time,
 * then integrates exactly through its own Poisson arrivals up to and
 * including t (the test at t itself is left pending). */
static ALWAYS_INLINE void advance_to_m(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t,
                                       const int IAFD)
{
    double tl = p->t_last[i];
    if (t <= tl)
        return;
    norn_model_pop *mp = &p->mp;
    const int two = mp->type->n_channels > 1;
    if (M_ABOVE(mp, i, tl))
        emit_m(s, p, pi, i, tl, IAFD);
    if (p->n_poisson == 1) {
        /* the usual case, one Poisson drive: the loop below without its
         * loops over drives */
        poisson_stim *ps = &s->poisson[p->poisson[0]];
        for (;;) {
            double tn = ps->next_a[i];
            if (tn > t) {
                evolve(s, p, pi, i, tl, t, IAFD);
                break;
            }
            evolve(s, p, pi, i, tl, tn, IAFD);
            double w[2] = {0.0, 0.0};
            while (ps->next_a[i] == tn) {
                double x = ps->weight * ps->cnt[i];
                w[two && x < 0] += x;
                poisson_next(s, ps, i);
            }
            input_sums_m(p, i, tn, w[0], w[1], IAFD);
            tl = tn;
            if (tn == t)
                break;
            if (M_ABOVE(mp, i, tn))
                emit_m(s, p, pi, i, tn, IAFD);
        }
        p->t_last[i] = t;
        return;
    }
    for (;;) {
        double tn = next_arrival(s, p, i);
        if (tn > t) {
            evolve(s, p, pi, i, tl, t, IAFD);
            break;
        }
        evolve(s, p, pi, i, tl, tn, IAFD);
        double w[2] = {0.0, 0.0};
        for (uint32_t k = 0; k < p->n_poisson; k++) {
            poisson_stim *ps = &s->poisson[p->poisson[k]];
            while (ps->next_a[i] == tn) {
                double x = ps->weight * ps->cnt[i];
                w[two && x < 0] += x;
                poisson_next(s, ps, i);
            }
        }
        input_sums_m(p, i, tn, w[0], w[1], IAFD);
        tl = tn;
        if (tn == t)
            break;
        if (M_ABOVE(mp, i, tn))
            emit_m(s, p, pi, i, tn, IAFD);
    }
    p->t_last[i] = t;
}

static void advance_to_generic(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t)
{
    advance_to_m(s, p, pi, i, t, 0);
}

static void advance_to_iafd(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t)
{
    advance_to_m(s, p, pi, i, t, 1);
}

static inline void advance_to(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t)
{
    if (t <= p->t_last[i])
        return;
    if (p->iafd)
        advance_to_iafd(s, p, pi, i, t);
    else
        advance_to_generic(s, p, pi, i, t);
}

/* norn_sim_state mid-run: every neuron of the population brought to the
 * pause first, so that what is read is the state there and a write takes
 * effect there (a neuron behind the pause cannot reach threshold before
 * it: it is in no sweep, or its bound is later, so no spike is skipped);
 * looked at again when the run goes on (state_recheck). Densely stepped
 * populations are there already. */
static void state_to_pause(norn_sim *s, uint32_t pop)
{
    population *p = &s->pops[pop];
    if (!p->dense)
        for (uint32_t i = p->own_lo; i < p->own_hi; i++)
            advance_to(s, p, pop, i, s->t_reached);
    p->state_out = 1;
}

/* At norn_sim_advance: the neurons of a population whose state was handed
 * out in the pause back in the sweeps where they may fire (a write may
 * have put one at or above threshold, or driven it). */
static void state_recheck(norn_sim *s)
{
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        if (!p->state_out)
            continue;
        p->state_out = 0;
        if (p->sweep_all || p->dense)
            continue; /* every neuron is looked at anyway */
        for (uint32_t i = p->own_lo; i < p->own_hi; i++)
            if (p->mp.type->may_fire(&p->mp, i, s->t_reached) || p->mp.type->above(&p->mp, i, s->t_reached))
                touch(p, i);
    }
}

/* ------------------------------------------------- continuous, cfast
 *
 * A continuous iaf_delta population whose only inputs are plain static
 * tables and one Poisson drive, with V_inf <= V_th (no crossing between
 * inputs), keeps each quiet neuron in a form of its own while a window
 * runs: u = (V - V_inf) / E(t), on the model's decay clock E, so that
 * V(t) = V_inf + u E(t) at any later time. An input of weight w at t is
 * then u += w / E(t), with the threshold test u >= (V_th - V_inf) / E(t):
 * one value per neuron read and written, no decay computed, and 1/E(t)
 * shared by all targets of a spike. Each neuron's slot cf[4i..4i+3]:
 *   [0] u;
 *   [1] its gate: the time ta of its first Poisson arrival not yet taken
 *       (an input before it takes the short way); -inf when the neuron is
 *       in the general form (v, 1/E of t_last, t_last: a phase to fold
 *       in, a threshold test pending, or not yet entered), handled by the
 *       general advance; -1 when it is in the general form and refractory
 *       up to [0]: an input up to then is dropped without advancing it
 *       (the general advance gives the same state however it is cut while
 *       V is clamped);
 *   [2] hk: the time of its cf_k-th arrival not yet taken (ta the first),
 *       or ta itself where that is not known or not of use (an input
 *       before ta is then ahead of no arrival: nothing to bound), or -inf
 *       in the general form;
 *   [3] tacc: inputs up to tacc were added before arrivals not yet taken.
 * Arrivals are taken lazily: an input at t with arrivals pending (t >=
 * ta) is added at once when fewer than cf_k of them come before t
 * (t < hk) and V without them, after the input, is below V_th by cf_k - 1
 * arrivals' weight, as it has been at every input since hk was drawn
 * (else hk is ta) and when it was: their sum cannot reach V_th at any
 * time up to t, as V without them is largest at its inputs (or V_inf). The arrivals are taken later, in
 * order, in one loop (sums commute; a test is needed only after tacc).
 * (No V_min then: clamping does not commute; cf_k = 1 turns it off.)
 * At each window's end the sweep brings every neuron to the general form
 * (what samples, checkpoints, recorders and the API read); at each
 * window's start the quiet ones enter the short form again. The
 * arithmetic is that of the general advance up to rounding (the same
 * arrivals, one stream; 1/E at an arrival is 1/E(t) times a short decay,
 * not a clock value of its own). */

/* exp(x) for |x| < 2^-4: its Taylor polynomial of degree 9 (the
 * remainder below |x|^10/10! < 3e-19), evaluated in Estrin's order (a
 * short dependency chain); 1 exactly at 0. */
static inline double cfast_exp_small(double x)
{
    double x2 = x * x, x4 = x2 * x2, x8 = x4 * x4;
    double a = 1.0 + x, b = 1.0 / 2 + x * (1.0 / 6), c = 1.0 / 24 + x * (1.0 / 120);
    double d = 1.0 / 720 + x * (1.0 / 5040), e = 1.0 / 40320 + x * (1.0 / 362880);
    return (a + x2 * b) + x4 * (c + x2 * d) + x8 * e;
}

/* exp(x) for |x| < 2^-7: its Taylor polynomial of degree 6 (the remainder
 * below |x|^7/7! < 4e-19). */
static inline double cfast_exp_tiny(double x)
{
    double x2 = x * x, x4 = x2 * x2;
    double a = 1.0 + x, b = 1.0 / 2 + x * (1.0 / 6), c = 1.0 / 24 + x * (1.0 / 120);
    return (a + x2 * b) + x4 * (c + x2 * (1.0 / 720));
}

/* exp(-y) and exp(y), y >= 0 (mostly small: the gap between two arrivals
 * over tau_m, ~2.5e-3 in brunel, below 2^-7 in 95% of gaps). */
static inline double cfast_decay(double y) { return y < 0x1p-4 ? cfast_exp_small(-y) : exp(-y); }
static inline double cfast_growth(double y)
{
    return y < 0x1p-7 ? cfast_exp_tiny(y) : y < 0x1p-4 ? cfast_exp_small(y) : exp(y);
}

/* A rebase of the clock (by norn__iafd_clock_at, in any advance) scales
 * every 1/E kept; u is one too. */
static void cfast_rebased(population *p)
{
    norn_model_pop *mp = &p->mp;
    double b = mp->c[NORN__IAFD_C_BASE];
    if (b == p->cf_base)
        return;
    /* the factor the rebase applied to the inverses (the same expression) */
    double f = exp(-(b - p->cf_base) * mp->c[NORN__IAFD_C_INV_TAU]);
    for (uint32_t i = p->own_lo; i < p->own_hi; i++)
        if (p->cf[4 * (size_t)i + 1] >= 0)
            p->cf[4 * (size_t)i] *= f;
    p->cf_base = b;
}

/* Neuron i from the general form to the short one where it is quiet (see
 * above: the general advance would take the plain decay from t_last). */
static inline void cfast_enter(const norn_sim *s, population *p, uint32_t i)
{
    const norn_model_pop *mp = &p->mp;
    double *c = p->cf + 4 * (size_t)i;
    if (mp->c[NORN__IAFD_C_BASE] != p->cf_base) /* the others' u first */
        cfast_rebased(p);
    const double v = mp->st[NORN__IAFD_S_V][i];
    /* at t_last itself a neuron that was refractory up to it still drops input */
    if (mp->ref_until[i] >= p->t_last[i]) {
        c[0] = mp->ref_until[i];
        c[1] = -1.0;
        c[2] = -INFINITY;
        return;
    }
    if (mp->st[NORN__IAFD_PH][i] != 0.0 || v >= mp->p[NORN__IAFD_V_TH]) {
        c[1] = -INFINITY;
        c[2] = -INFINITY;
        return;
    }
    c[0] = (v - norn__iafd_v_inf(mp, i)) * mp->st[NORN__IAFD_H_E][i];
    c[1] = s->poisson[p->poisson[0]].next_a[i];
    c[2] = c[1]; /* inputs before the first arrival are ahead of none */
    c[3] = -INFINITY;
}

/* Neuron i, in the short form with no arrival left up to t, to the
 * general form at t (e: the clock there). */
static inline void cfast_leave(const norn_sim *s, population *p, uint32_t i, double t, norn__iafd_clock e)
{
    norn_model_pop *mp = &p->mp;
    double *c = p->cf + 4 * (size_t)i;
    mp->st[NORN__IAFD_S_V][i] = norn__iafd_v_inf(mp, i) + c[0] * e.e;
    mp->st[NORN__IAFD_H_E][i] = e.inv;
    p->t_last[i] = t;
    s->poisson[p->poisson[0]].next_a[i] = c[1];
    c[1] = -INFINITY;
    c[2] = -INFINITY;
}

/* The clock at t for a cfast population, its u kept in step with a rebase. */
static inline norn__iafd_clock cfast_clock(population *p, double t)
{
    norn__iafd_clock e = norn__iafd_clock_at(&p->mp, t);
    if (p->mp.c[NORN__IAFD_C_BASE] != p->cf_base)
        cfast_rebased(p);
    return e;
}

/* A spike of neuron i (short form) at ta, its next arrival tn, in
 * cfast_arrivals: the general form at the spike (V is set there by
 * fire()), fired, the general advance to t. */
static __attribute__((noinline, cold)) int cfast_spike(norn_sim *s, population *p, uint32_t pi, uint32_t i,
                                                       double ta, double tn, double t)
{
    norn_model_pop *mp = &p->mp;
    mp->st[NORN__IAFD_S_V][i] = mp->p[NORN__IAFD_V_TH];
    p->t_last[i] = ta;
    s->poisson[p->poisson[0]].next_a[i] = tn;
    p->cf[4 * (size_t)i + 1] = -INFINITY;
    p->cf[4 * (size_t)i + 2] = -INFINITY;
    emit_m(s, p, pi, i, ta, 1);
    advance_to_iafd(s, p, pi, i, t);
    return 1;
}

/* The Exp(1) draw at counter ctr of a stream with key k0: norn_rng_exp_fast
 * (one counter a draw). */
static inline double cfast_draw(uint64_t k0, uint64_t ctr)
{
    uint64_t x = norn_rng_mix64(k0 + ctr * 0x9e3779b97f4a7c15ULL);
    uint64_t j = x >> 11;
    unsigned st = (unsigned)(x & 255u);
    if (__builtin_expect(j < norn_zig_k[st], 1))
        return (double)j * norn_zig_w[st];
    return norn__rng_exp_tail_h(x);
}

/* Neuron i in the short form, its arrivals up to t (at least one) taken
 * in order: an arrival at ta adds w / E(ta), 1/E(ta) = einv E(t) / E(ta)
 * for the first (einv = 1/E(t)), each next one's from the one before
 * (polynomials for intervals below tau_m / 16, as they mostly are, else
 * exp), and, after tacc, is tested at once unless
 * it is at t itself (its test then waits, as every test at t), as
 * advance_to_m does. Two arrivals at one time (probability ~2^-53 a draw)
 * are taken one after the other; the first cannot make a spike the pair
 * would not make at that same time. At a spike: cfast_spike (returns 1:
 * the neuron is then in the general form at t). Then, if the neuron is
 * far enough below threshold for inputs to be added ahead of arrivals,
 * hk by drawing ahead without taking (the same draws later); not when
 * the neuron leaves the short form next (ahead 0: cfast_leave forgets hk). */
static inline __attribute__((always_inline)) int cfast_arrivals_k(norn_sim *s, population *p, uint32_t pi,
                                                                  uint32_t i, double t, double einv, const int ahead)
{
    const norn_model_pop *mp = &p->mp;
    const poisson_stim *ps = &s->poisson[p->poisson[0]];
    double *c = p->cf + 4 * (size_t)i;
    const double vinf = norn__iafd_v_inf(mp, i);
    const double q = mp->p[NORN__IAFD_V_TH] - vinf, qmin = mp->p[NORN__IAFD_V_MIN] - vinf;
    const double itau = mp->c[NORN__IAFD_C_INV_TAU];
    const double wp = ps->weight, irate = ps->inv_rate, stop = ps->stop, tacc = c[3];
    norn_rng *r = &ps->rng[i];
    uint64_t ctr = r->ctr;
    double u = c[0], ta = c[1];
    double ia = einv * cfast_decay((t - ta) * itau);
    while (ta <= t) {
        double tx = ta + cfast_draw(r->k0, ctr++) * irate;
        tx = tx < stop ? tx : INFINITY;
        double un = u + wp * ia, umin = qmin * ia;
        u = un < umin ? umin : un;
        if (ta == t) { /* its test waits, as every test at t */
            ta = tx;
            break;
        }
        if (ta > tacc && u >= q * ia) {
            c[0] = u;
            r->ctr = ctr;
            return cfast_spike(s, p, pi, i, ta, tx, t);
        }
        /* 1/E at the next arrival from this one's (the gap is mostly short) */
        ia *= cfast_growth((tx - ta) * itau);
        ta = tx;
    }
    r->ctr = ctr;
    c[0] = u;
    c[1] = ta;
    double hk = ta; /* without the draws ahead: inputs before ta are ahead of none */
    if (ahead && u < p->cf_q * einv) { /* far enough below V_th at t: worth knowing hk */
        uint64_t c2 = ctr;
        hk = ta;
        /* (past stop, hk stays +inf) */
        for (uint32_t k = 1; k < p->cf_k; k++) {
            double tx = hk + cfast_draw(r->k0, c2++) * irate;
            hk = tx < stop ? tx : INFINITY;
        }
    }
    c[2] = hk;
    return 0;
}

static __attribute__((noinline)) int cfast_arrivals(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t,
                                                    double einv)
{
    return cfast_arrivals_k(s, p, pi, i, t, einv, 1);
}

static __attribute__((noinline)) int cfast_take(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t,
                                                double einv)
{
    return cfast_arrivals_k(s, p, pi, i, t, einv, 0);
}

/* Window start: every quiet neuron of the cfast populations in the short
 * form (after the sweep, all are in the general form). */
static void cfast_enter_all(norn_sim *s)
{
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        if (!p->cf)
            continue;
        p->cf_base = p->mp.c[NORN__IAFD_C_BASE];
        for (uint32_t i = p->own_lo; i < p->own_hi; i++)
            cfast_enter(s, p, i);
    }
}

/* Neuron i of a cfast population to the general form at t (its arrivals up
 * to t taken), for a sample or the sweep: then anything may read or
 * advance it. */
static void cfast_settle(norn_sim *s, population *p, uint32_t pi, uint32_t i, double t)
{
    double *c = p->cf + 4 * (size_t)i;
    if (c[1] < 0) /* the general form */
        return;
    norn__iafd_clock e = cfast_clock(p, t);
    if (c[1] <= t && cfast_take(s, p, pi, i, t, e.inv))
        return;
    cfast_leave(s, p, i, t, e);
}

/* One input of weight w at t (w / E(t) = wj) to neuron j of a cfast
 * population: a neuron in the short form takes it as u += wj, ahead of its
 * pending arrivals where they cannot reach threshold (see above), else
 * after them; it goes to the general form at t when the input puts it at
 * or above threshold (its test waits, as every test at t). A neuron in the
 * general form is advanced and given the input as advance_to and
 * norn__iafd_input do, then enters the short form if it is quiet. */
static __attribute__((noinline)) void cfast_input(norn_sim *s, population *p, uint32_t pi, uint32_t j, double w,
                                                  double t)
{
    norn_model_pop *mp = &p->mp;
    double *c = p->cf + 4 * (size_t)j;
    const double vinf = norn__iafd_v_inf(mp, 0), vth = mp->p[NORN__IAFD_V_TH], vmin = mp->p[NORN__IAFD_V_MIN];
    norn__iafd_clock e = cfast_clock(p, t);
    const double thr = (vth - vinf) * e.inv, umin = (vmin - vinf) * e.inv, thrk = p->cf_q * e.inv, wj = w * e.inv;
    double g = c[1];
    if (t < c[2] && c[0] + wj < thrk) { /* ahead of the pending arrivals (see cfast_deliver) */
        c[0] += wj;
        c[3] = t;
        return;
    }
    if (t < g || (g >= 0 && !cfast_arrivals(s, p, pi, j, t, e.inv))) {
        /* no arrival pending (or all taken up to t) */
        double u = c[0] + wj;
        u = u < umin ? umin : u;
        c[0] = u;
        if (u >= thrk) /* V since hk was drawn: not all below the bound (ahead of none, then) */
            c[2] = c[1];
        if (u >= thr)
            cfast_leave(s, p, j, t, e);
        return;
    }
    if (g == -1.0 && t <= c[0])
        return; /* refractory: dropped */
    /* the general form (or a spike at an arrival just now) */
    if (t > p->t_last[j])
        advance_to_iafd(s, p, pi, j, t);
    norn__iafd_input(mp, j, t, w);
    cfast_enter(s, p, j);
}

/* Synapses lo..hi-1 of a static table into a cfast population at time t
 * (cfast_input for each). The common cases, an input added ahead of the
 * target's pending arrivals (fewer than cf_k of them before t, and V low
 * enough: see above; ~4 in 5 in brunel) and one dropped by a refractory
 * target (~1 in 14), are taken without a branch; the others (~1 in 10, a
 * branch that went either way) are kept in a list and given to
 * cfast_input after each chunk of synapses: every input of the chunk is at
 * t, so their order does not matter (their sums differ in rounding only,
 * and only for a target twice in the chunk). */
enum { CFAST_CHUNK = 256 };
static inline __attribute__((always_inline)) void cfast_deliver(norn_sim *s, population *p, uint32_t pi,
                                                                const uint32_t *tg, const uint16_t *t16,
                                                                uint64_t lo, uint64_t hi, const float *wt,
                                                                const int hom, double wh, double t)
{
    double *restrict cf = p->cf;
    uint32_t later[CFAST_CHUNK];
    for (uint64_t k0 = lo; k0 < hi; k0 += CFAST_CHUNK) {
        uint64_t k1 = hi - k0 > CFAST_CHUNK ? k0 + CFAST_CHUNK : hi;
        norn__iafd_clock e = cfast_clock(p, t); /* again after a chunk: a general advance may rebase */
        const double ei = e.inv, thrk = p->cf_q * e.inv;
        uint32_t n = 0;
#if defined(__SSE2__)
        const __m128d T = _mm_set_sd(t), THRK = _mm_set_sd(thrk), M1 = _mm_set_sd(-1.0);
#endif
        for (uint64_t k = k0; k < k1; k++) {
            uint32_t j = t16 ? t16[k] : tg[k];
            if (k + 16 < hi) /* the slot of the target 16 ahead (its line is mostly in L2, not L1) */
                __builtin_prefetch(cf + 4 * (size_t)(t16 ? t16[k + 16] : tg[k + 16]), 1);
            double w = hom ? wh : wt[k];
            if (!hom && w == 0.0)
                continue;
            double *c = cf + 4 * (size_t)j;
#if defined(__SSE2__)
            __m128d WJ = _mm_set_sd(w * ei), C0 = _mm_load_sd(c);
            __m128d ok = _mm_and_pd(_mm_cmplt_sd(T, _mm_load_sd(c + 2)), _mm_cmplt_sd(_mm_add_sd(C0, WJ), THRK));
            /* refractory up to c[0] >= t (gate -1): dropped (cfast_input would) */
            __m128d drop = _mm_and_pd(_mm_cmpeq_sd(_mm_load_sd(c + 1), M1), _mm_cmple_sd(T, C0));
            _mm_store_sd(c, _mm_add_sd(C0, _mm_and_pd(ok, WJ)));
            _mm_store_sd(c + 3, _mm_or_pd(_mm_and_pd(ok, T), _mm_andnot_pd(ok, _mm_load_sd(c + 3))));
            later[n] = (uint32_t)(k - k0);
            n += (uint32_t)(~_mm_movemask_pd(_mm_or_pd(ok, drop)) & 1);
#else
            double wj = w * ei;
            if (t < c[2] && c[0] + wj < thrk) {
                c[0] += wj;
                c[3] = t;
            } else if (!(c[1] == -1.0 && t <= c[0])) {
                later[n++] = (uint32_t)(k - k0);
            }
#endif
        }
        for (uint32_t q = 0; q < n; q++) {
            uint64_t k = k0 + later[q];
            cfast_input(s, p, pi, t16 ? t16[k] : tg[k], hom ? wh : wt[k], t);
        }
    }
}

/* Adds weight w for neuron i at the current event time. */
static inline void accumulate(population *p, uint32_t i, double w, int split)
{
    if (!p->mark[i]) {
        p->mark[i] = 1;
        p->pend[p->n_pend++] = i;
    }
    p->acc[(split && w < 0) ? p->mp.n + i : i] += w;
}

/* Every neuron that received input at time t: advance to t, apply the sums. */
static void flush_inputs(norn_sim *s, double t)
{
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        if (!p->n_pend || p->dense) /* dense: applied by its step */
            continue;
        int two = p->mp.type->n_channels > 1;
        for (uint32_t k = 0; k < p->n_pend; k++) {
            uint32_t i = p->pend[k];
            advance_to(s, p, pi, i, t);
            double w1 = two ? p->acc[p->mp.n + i] : 0.0;
            input_sums(p, i, t, p->acc[i], w1);
            p->acc[i] = 0.0;
            if (two)
                p->acc[p->mp.n + i] = 0.0;
            p->mark[i] = 0;
            if (!p->sweep_all)
                touch(p, i);
        }
        p->n_pend = 0;
    }
}

/* An EV_SPIKE_STP or EV_SPIKE_STDP event's table, and its segment (the
 * event names it by its place in the source's row). */
static inline table_t *row_event_table(const norn_sim *s, const norn_event *e)
{
    return &s->tables[e->kind >> (EV_KIND_BITS + STP_SEG_BITS)];
}
static inline uint64_t row_event_segment(const norn_csr *c, const norn_event *e)
{
    return c->seg_ptr[e->a] + ((e->kind >> EV_KIND_BITS) & ((1u << STP_SEG_BITS) - 1));
}

/* A segment of a table with short-term plasticity: every weight scaled by
 * the spike's efficacy (packed in the event), applied as plain input. */
static void deliver_segment_stp(norn_sim *s, const norn_event *e)
{
    table_t *tb = row_event_table(s, e);
    const norn_csr *c = &tb->csr;
    uint32_t src = e->a;
    uint64_t seg = row_event_segment(c, e);
    double f;
    memcpy(&f, &e->b, sizeof f);
    uint64_t lo = c->seg_start[seg];
    uint64_t hi = seg + 1 < c->seg_ptr[src + 1] ? c->seg_start[seg + 1] : c->row_ptr[src + 1];
    population *p = &s->pops[tb->tgt];
    int split = p->mp.type->n_channels > 1;
    for (uint64_t k = lo; k < hi; k++) {
        double w = (double)(tb->hom ? tb->w_hom : c->weight[k]) * f;
        if (s->cfg.mode == NORN_MODE_CONTINUOUS) {
            advance_to(s, p, tb->tgt, c->target[k], e->t);
            p->mp.type->input(&p->mp, c->target[k], e->t, w);
            if (!p->sweep_all)
                touch(p, c->target[k]);
        } else {
            accumulate(p, c->target[k], w, split);
        }
    }
    s->events += hi - lo;
}

/* Grid mode, one input channel: adds the synapses lo..hi-1 to their
 * targets' sums at this time, marking each target once. The weight is
 * wf[k] (float32) or, without wf, the constant wc; inlined with constant
 * arguments, each use is one tight loop. (Plastic tables sum in
 * norn_stdp_update.) */
static inline void sum_synapses(population *p, const uint32_t *tg, const uint16_t *t16, uint64_t lo, uint64_t hi,
                                const float *wf, double wc)
{
    uint8_t *mark = p->mark;
    double *acc = p->acc;
    uint32_t *pend = p->pend, np = p->n_pend;
    for (uint64_t k = lo; k < hi; k++) {
        uint32_t j = t16 ? t16[k] : tg[k];
        if (!mark[j]) {
            mark[j] = 1;
            pend[np++] = j;
        }
        acc[j] += wf ? (double)wf[k] : wc;
    }
    p->n_pend = np;
}

/* The same for a densely stepped population: its step visits every
 * neuron, so a flag is set without a list and without a test; a lean
 * population's step reads every sum, so not even the flag. */
static ALWAYS_INLINE void sum_dense_m(population *p, const uint32_t *tg, const uint16_t *t16, uint64_t lo,
                                      uint64_t hi, const float *wf, double wc, const int MARK)
{
    uint8_t *mark = p->mark;
    double *acc = p->acc;
    for (uint64_t k = lo; k < hi; k++) {
        /* 32-bit targets (a population above 65,536): a line 1 KB ahead
         * each line, which the hardware prefetcher is slow to reach in rows
         * this long (-11% at 100k neurons; with 16-bit targets it costs) */
        if (!t16 && !(k & 15))
            __builtin_prefetch(&tg[k + 256]);
        uint32_t j = t16 ? t16[k] : tg[k];
        if (MARK)
            mark[j] = 1;
        acc[j] += wf ? (double)wf[k] : wc;
    }
}

static ALWAYS_INLINE void sum_synapses_dense(population *p, const uint32_t *tg, const uint16_t *t16, uint64_t lo,
                                             uint64_t hi, const float *wf, double wc)
{
    if (p->lean)
        sum_dense_m(p, tg, t16, lo, hi, wf, wc, 0);
    else
        sum_dense_m(p, tg, t16, lo, hi, wf, wc, 1);
}

/* A segment of a table with STDP: the weights are updated first (NEST's
 * order), then the spike is transmitted with them; in grid mode with one
 * input channel both in one pass over the synapses (norn_stdp_sink). */
static void deliver_segment_stdp(norn_sim *s, const norn_event *e)
{
    table_t *tb = row_event_table(s, e);
    const norn_csr *c = &tb->csr;
    uint32_t src = e->a;
    uint64_t seg = row_event_segment(c, e);
    uint64_t lo = c->seg_start[seg];
    uint64_t hi = seg + 1 < c->seg_ptr[src + 1] ? c->seg_start[seg + 1] : c->row_ptr[src + 1];
    double d_ms = (double)c->seg_delay[seg] * s->cfg.resolution_ms;
    population *p = &s->pops[tb->tgt];
    s->events += hi - lo;
    if (s->cfg.mode != NORN_MODE_CONTINUOUS && p->mp.type->n_channels == 1 && !norn__stdp_reference(tb->stdp)) {
        /* a lean population's step reads every sum and no mark (as sum_synapses_dense) */
        norn_stdp_sink sink = {p->acc, p->mark, p->dense ? NULL : p->pend, p->n_pend, p->lean};
        norn_stdp_update(tb->stdp, c, tb->tg16, e->b, lo, hi, d_ms, &sink);
        p->n_pend = sink.n_pend;
        return;
    }
    norn_stdp_update(tb->stdp, c, tb->tg16, e->b, lo, hi, d_ms, NULL);
    const double *W = norn_stdp_weights(tb->stdp);
    const uint32_t *tg = c->target;
    const uint16_t *t16 = tb->tg16;
    if (s->cfg.mode == NORN_MODE_CONTINUOUS) {
        for (uint64_t k = lo; k < hi; k++) {
            uint32_t j = t16 ? t16[k] : tg[k];
            advance_to(s, p, tb->tgt, j, e->t);
            p->mp.type->input(&p->mp, j, e->t, W[k]);
            if (!p->sweep_all)
                touch(p, j);
        }
    } else {
        for (uint64_t k = lo; k < hi; k++)
            accumulate(p, t16 ? t16[k] : tg[k], W[k], 1);
    }
}

/* Synapses lo..hi-1 of a static table at time t; targets from tg or t16
 * (one of them NULL: each call site is its own loop once inlined). */
static inline __attribute__((always_inline)) void deliver_range(norn_sim *s, table_t *tb, const uint32_t *tg,
                                                                const uint16_t *t16, uint64_t lo, uint64_t hi,
                                                                double t)
{
    population *p = &s->pops[tb->tgt];
    const float *wt = tb->csr.weight;
    const int hom = tb->hom;
    const double wh = tb->w_hom;
    if (s->cfg.mode == NORN_MODE_CONTINUOUS) {
        /* times rarely repeat: advance each target and apply the weight at
         * once (the same sums as accumulating, the threshold test still
         * waits for the neuron's next advance) */
        const norn_model_type *type = p->mp.type;
        uint32_t pi = tb->tgt;
        /* a zero weight has no effect at all: its target is not even
         * brought up to date (which would split its exact trajectory) */
        if (p->cf) {
            if (hom)
                cfast_deliver(s, p, pi, tg, t16, lo, hi, NULL, 1, wh, t);
            else
                cfast_deliver(s, p, pi, tg, t16, lo, hi, wt, 0, 0.0, t);
            return;
        }
        if (p->iafd) {
            for (uint64_t k = lo; k < hi; k++) {
                uint32_t j = t16 ? t16[k] : tg[k];
                double w = hom ? wh : wt[k];
                if (w == 0.0)
                    continue;
                if (t > p->t_last[j])
                    advance_to_iafd(s, p, pi, j, t);
                norn__iafd_input(&p->mp, j, t, w);
                if (!p->sweep_all)
                    touch(p, j);
            }
            return;
        }
        for (uint64_t k = lo; k < hi; k++) {
            uint32_t j = t16 ? t16[k] : tg[k];
            double w = hom ? wh : wt[k];
            if (w == 0.0)
                continue;
            advance_to(s, p, pi, j, t);
            type->input(&p->mp, j, t, w);
            if (!p->sweep_all)
                touch(p, j);
        }
    } else if (p->mp.type->n_channels > 1) {
        for (uint64_t k = lo; k < hi; k++)
            accumulate(p, t16 ? t16[k] : tg[k], hom ? wh : wt[k], 1);
    } else if (p->dense) {
        if (hom)
            sum_synapses_dense(p, tg, t16, lo, hi, NULL, wh);
        else
            sum_synapses_dense(p, tg, t16, lo, hi, wt, 0.0);
    } else {
        if (hom) /* one weight for the whole table: only the targets are read */
            sum_synapses(p, tg, t16, lo, hi, NULL, wh);
        else
            sum_synapses(p, tg, t16, lo, hi, wt, 0.0);
    }
}

static void deliver_segment(norn_sim *s, const norn_event *e)
{
    table_t *tb = &s->tables[e->kind >> EV_KIND_BITS];
    const norn_csr *c = &tb->csr;
    uint32_t src = e->a;
    uint64_t seg = e->b;
    uint64_t lo = c->seg_start[seg];
    uint64_t hi = seg + 1 < c->seg_ptr[src + 1] ? c->seg_start[seg + 1] : c->row_ptr[src + 1];
    if (tb->hom && tb->w_hom == 0.0)
        ; /* no effect, and no target is touched */
    else if (tb->tg16)
        deliver_range(s, tb, NULL, tb->tg16, lo, hi, e->t);
    else
        deliver_range(s, tb, c->target, NULL, lo, hi, e->t);
    s->events += hi - lo;
}

static void deliver_train(norn_sim *s, const norn_event *e)
{
    train_stim *tr = &s->trains[e->a];
    population *p = &s->pops[tr->pop];
    uint64_t k = e->b;
    double t = e->t;
    uint32_t j = tr->neuron[k];
    int split = p->mp.type->n_channels > 1;
    (void)t;
    if (j == UINT32_MAX) {
        for (uint32_t i = p->own_lo; i < p->own_hi; i++)
            accumulate(p, i, tr->weight, split);
    } else if (j - p->own_lo < p->own_hi - p->own_lo) {
        accumulate(p, j, tr->weight, split);
    }
    if (k + 1 < tr->n) {
        norn_status st = norn_queue_push(&s->q, tr->times[k + 1], EV_TRAIN, e->a, k + 1, s->err);
        if (st != NORN_OK)
            s->fail = st;
    }
}

static void apply_dc(norn_sim *s, const norn_event *e)
{
    dc_stim *d = &s->dc[e->a];
    population *p = &s->pops[d->pop];
    uint64_t k = e->b;
    double delta = d->amps[k] - (k ? d->amps[k - 1] : 0.0);
    for (uint32_t i = p->own_lo; i < p->own_hi; i++) {
        advance_to(s, p, d->pop, i, e->t);
        p->mp.i_dc[i] += delta;
        touch(p, i);
    }
    if (k + 1 < d->n) {
        norn_status st = norn_queue_push(&s->q, d->times[k + 1], EV_DC, e->a, k + 1, s->err);
        if (st != NORN_OK)
            s->fail = st;
    }
}

/* Samples every recorder whose next sample time is < t_limit (or <= when
 * inclusive), after the events at that time. */
static void sample(norn_sim *s, double t_limit, int inclusive)
{
    snapshot_weights(s, t_limit, inclusive);
    sample_stp(s, t_limit, inclusive, 0);
    for (uint32_t r = 0; r < s->n_recs; r++) {
        recorder *rc = &s->recs[r];
        population *p = &s->pops[rc->pop];
        while (rc->next < rc->n_samples) {
            double ts = rc->times[rc->next];
            if (inclusive ? ts > t_limit : ts >= t_limit)
                break;
            float *row = rc->data + rc->next * (uint64_t)rc->n_vars * rc->n_neurons;
            for (uint32_t k = 0; k < rc->n_neurons; k++) {
                uint32_t i = rc->neurons[k];
                if (i - p->own_lo >= p->own_hi - p->own_lo)
                    continue; /* MPI: its owner samples it */
                if (p->lean) {
                    /* its last pass was at ts (samples are on the grid, taken
                     * at the next step), every input of that step applied and
                     * its threshold tested: the state is read as it is */
                    for (int v = 0; v < rc->n_vars; v++)
                        row[(uint64_t)v * rc->n_neurons + k] = (float)p->mp.st[rc->vars[v]][i];
                    continue;
                }
                if (p->cf)
                    cfast_settle(s, p, rc->pop, i, ts);
                advance_to(s, p, rc->pop, i, ts);
                if (p->mp.type->above(&p->mp, i, ts))
                    emit(s, p, rc->pop, i, ts);
                touch(p, i);
                if (p->cf)
                    cfast_enter(s, p, i);
                for (int v = 0; v < rc->n_vars; v++)
                    row[(uint64_t)v * rc->n_neurons + k] = (float)p->mp.st[rc->vars[v]][i];
            }
            rc->next++;
        }
    }
}

static int cmp_spike(const void *a, const void *b)
{
    const spike_rec *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->gid < y->gid ? -1 : x->gid > y->gid;
}

/* ------------------------------------------------------ MPI (par.h) */

#define SPIKE_WIRE 12 /* bytes of a spike on the wire: time (float64), global id */

/* The window's spikes of every rank replace this rank's own (s->win), in
 * rank order; flush_window sorts them as one process does. */
static norn_status par_gather_window(norn_sim *s)
{
    int fail = s->fail != NORN_OK;
    if (!fail && !grow((void **)&s->xsend, &s->cap_xsend, s->n_win * SPIKE_WIRE + 1, 1)) {
        s->fail = NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot grow the spike exchange buffer");
        fail = 1;
    }
    for (uint64_t k = 0; k < s->n_win && !fail; k++) {
        memcpy(s->xsend + k * SPIKE_WIRE, &s->win[k].t, 8);
        memcpy(s->xsend + k * SPIKE_WIRE + 8, &s->win[k].gid, 4);
    }
    const void *all;
    uint64_t n;
    norn_status st = norn__par_allgather(&s->px, s->xsend, fail ? 0 : s->n_win, SPIKE_WIRE, fail, &all, &n, s->err);
    if (st != NORN_OK)
        return s->fail != NORN_OK ? s->fail : st;
    if (!grow((void **)&s->win, &s->cap_win, n, sizeof *s->win))
        return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot grow the spike buffer");
    const uint8_t *b = all;
    for (uint64_t k = 0; k < n; k++) {
        spike_rec *sp = &s->win[k];
        memcpy(&sp->t, b + k * SPIKE_WIRE, 8);
        memcpy(&sp->gid, b + k * SPIKE_WIRE + 8, 4);
        uint32_t lo = 0, hi = s->n_pops; /* the population: the last with first_id <= gid */
        while (hi - lo > 1) {
            uint32_t mid = (lo + hi) / 2;
            if (s->pops[mid].first_id <= sp->gid)
                lo = mid;
            else
                hi = mid;
        }
        sp->pop = lo;
    }
    s->n_win = n;
    return NORN_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* euler mode: population pi's spikes of this step in ascending order, the
 * order in which they are delivered (float32 sums), whatever the rank
 * count; with MPI, every rank's (each block ascending, in rank order). */
static void par_euler_spikes(norn_sim *s, uint32_t pi)
{
    population *p = &s->pops[pi];
    if (p->n_cur > 1)
        qsort(p->cur_spk, p->n_cur, sizeof *p->cur_spk, cmp_u32);
    /* no outgoing synapses: only its own neurons' STDP (as postsynaptic
     * side) reads them, and the record goes through flush_window */
    if (s->cfg.ranks <= 1 || p->n_out == 0)
        return;
    const void *all;
    uint64_t n;
    norn_status st = norn__par_allgather(&s->px, p->cur_spk, p->n_cur, sizeof *p->cur_spk, s->fail != NORN_OK, &all,
                                         &n, s->err);
    if (st != NORN_OK) {
        s->fail = st;
        return;
    }
    memcpy(p->cur_spk, all, n * sizeof *p->cur_spk); /* at most the population */
    p->n_cur = (uint32_t)n;
}

/* Sorts the window's spikes, records them and queues their deliveries. */
static norn_status flush_window(norn_sim *s)
{
    if (s->cfg.ranks > 1) {
        /* MPI: every rank's spikes of the window, then the same sort */
        norn_status xst = par_gather_window(s);
        if (xst != NORN_OK)
            return xst;
    }
    if (s->n_win > 1)
        qsort(s->win, s->n_win, sizeof *s->win, cmp_spike);
    double h = s->cfg.resolution_ms;
    for (uint64_t k = 0; k < s->n_win; k++) {
        const spike_rec *sp = &s->win[k];
        population *p = &s->pops[sp->pop];
        uint32_t i = sp->gid - p->first_id;
        if (p->record) {
            if (s->n_sp == s->cap_sp) {
                uint64_t cap = s->cap_sp ? 2 * s->cap_sp : 4096;
                double *t = norn_realloc_n(s->sp_t, cap, sizeof(double));
                if (t)
                    s->sp_t = t;
                uint32_t *g = t ? norn_realloc_n(s->sp_gid, cap, sizeof(uint32_t)) : NULL;
                if (!g)
                    return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot grow the spike record");
                s->sp_gid = g;
                s->cap_sp = cap;
            }
            s->sp_t[s->n_sp] = sp->t;
            s->sp_gid[s->n_sp] = sp->gid;
            s->n_sp++;
        }
        /* MPI: the history of another rank's neuron has no synapse here */
        for (uint32_t o = 0; o < p->n_stdp_in && i - p->own_lo < p->own_hi - p->own_lo; o++)
            if (!norn_stdp_post_spike(s->tables[p->stdp_in[o]].stdp, i, sp->t))
                return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot grow the STDP spike history");
        for (uint32_t o = 0; o < p->n_out && !p->euler; o++) {
            uint32_t ti = p->out[o];
            const norn_csr *c = &s->tables[ti].csr;
            double f_stp = 1.0;
            uint64_t stdp_seq = 0;
            if (s->tables[ti].stp.rule != NORN_STP_RULE_NONE)
                f_stp = stp_tsodyks2(&s->tables[ti], i, sp->t);
            if (s->tables[ti].stdp && (stdp_seq = norn_stdp_pre_spike(s->tables[ti].stdp, i, sp->t)) == UINT64_MAX)
                return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot grow the STDP spike log");
            for (uint64_t seg = c->seg_ptr[i]; seg < c->seg_ptr[i + 1]; seg++) {
                double ta;
                if (s->cfg.mode == NORN_MODE_GRID)
                    ta = norn_grid_time(norn_grid_index(sp->t, h) + (int64_t)c->seg_delay[seg], h);
                else
                    ta = sp->t + norn_grid_time(c->seg_delay[seg], h);
                if (ta > s->duration)
                    continue;
                norn_status st;
                if (s->tables[ti].stdp) {
                    uint32_t local = (uint32_t)(seg - c->seg_ptr[i]);
                    st = norn_queue_push(&s->q, ta, EV_SPIKE_STDP | (local << EV_KIND_BITS) |
                                                        (ti << (EV_KIND_BITS + STP_SEG_BITS)), i, stdp_seq, s->err);
                } else if (s->tables[ti].stp.rule != NORN_STP_RULE_NONE) {
                    /* the efficacy of this spike rides in the event */
                    uint64_t fb;
                    memcpy(&fb, &f_stp, sizeof fb);
                    uint32_t local = (uint32_t)(seg - c->seg_ptr[i]);
                    st = norn_queue_push(&s->q, ta, EV_SPIKE_STP | (local << EV_KIND_BITS) |
                                                        (ti << (EV_KIND_BITS + STP_SEG_BITS)), i, fb, s->err);
                } else {
                    st = norn_queue_push(&s->q, ta, EV_SPIKE | (ti << EV_KIND_BITS), i, seg, s->err);
                }
                if (st != NORN_OK)
                    return st;
            }
        }
    }
    s->n_win = 0;
    return NORN_OK;
}

static inline int hq_less(const population *p, uint32_t a, uint32_t b)
{
    return p->hq_t[a] < p->hq_t[b] || (p->hq_t[a] == p->hq_t[b] && p->hq_i[a] < p->hq_i[b]);
}

static void hq_swap(population *p, uint32_t a, uint32_t b)
{
    double t = p->hq_t[a];
    uint32_t i = p->hq_i[a];
    p->hq_t[a] = p->hq_t[b];
    p->hq_i[a] = p->hq_i[b];
    p->hq_t[b] = t;
    p->hq_i[b] = i;
}

static void hq_down(population *p, uint32_t k)
{
    for (;;) {
        uint32_t l = 2 * k + 1, m = k;
        if (l < p->hq_n && hq_less(p, l, m))
            m = l;
        if (l + 1 < p->hq_n && hq_less(p, l + 1, m))
            m = l + 1;
        if (m == k)
            return;
        hq_swap(p, k, m);
        k = m;
    }
}

/* Neurons of an arrival-scheduled population whose next arrival is at or
 * before t_end: brought to t_end (consuming their arrivals), kept in the
 * sweep list when a threshold is pending or they may fire, and put back
 * in the heap at their next arrival. */
static void sweep_arrivals(norn_sim *s, population *p, uint32_t pi, double t_end)
{
    const norn_model_type *type = p->mp.type;
    while (p->hq_n && p->hq_t[0] <= t_end) {
        uint32_t i = p->hq_i[0];
        if (next_arrival(s, p, i) <= t_end) {
            advance_to(s, p, pi, i, t_end);
            if (type->above(&p->mp, i, t_end) || type->may_fire(&p->mp, i, t_end))
                touch(p, i);
        }
        /* back in at its next arrival (an entry made stale by input that
         * consumed arrivals is corrected here) */
        p->hq_t[0] = next_arrival(s, p, i);
        hq_down(p, 0);
    }
}

static void sweep(norn_sim *s, double t_end, int last)
{
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        const norn_model_type *type = p->mp.type;
        if (p->dense)
            continue; /* its last step of the window (window_steps) */
        if (p->sweep_all) {
            for (uint32_t i = p->own_lo; i < p->own_hi; i++) {
                if (p->cf)
                    cfast_settle(s, p, pi, i, t_end);
                advance_to(s, p, pi, i, t_end);
            }
            for (uint32_t k = 0; k < p->n_sweep; k++)
                p->in_sweep[p->sweep[k]] = 0;
            p->n_sweep = 0;
            continue;
        }
        if (p->sched)
            sweep_arrivals(s, p, pi, t_end);
        uint32_t keep = 0;
        for (uint32_t k = 0; k < p->n_sweep; k++) {
            uint32_t i = p->sweep[k];
            if (p->qu && !last) {
                /* cannot reach threshold by t_end: left where it is (its
                 * state a pure function of the last one, whenever taken;
                 * at the run's end every one is brought there) */
                if (!(p->qu_t[i] == p->t_last[i])) {
                    p->qu[i] = type->quiet_until(&p->mp, i, p->t_last[i]);
                    p->qu_t[i] = p->t_last[i];
                }
                if (p->qu[i] == INFINITY) { /* never without input (as !may_fire) */
                    p->in_sweep[i] = 0;
                    continue;
                }
                if (p->qu[i] > t_end) {
                    p->sweep[keep++] = i;
                    continue;
                }
            }
            advance_to(s, p, pi, i, t_end);
            if (type->above(&p->mp, i, t_end) || type->may_fire(&p->mp, i, t_end))
                p->sweep[keep++] = i;
            else
                p->in_sweep[i] = 0;
        }
        p->n_sweep = keep;
    }
}

/* At the very end: thresholds pending at `duration` itself. */
static void final_check(norn_sim *s, double t_end)
{
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        const norn_model_type *type = p->mp.type;
        uint32_t n = p->sweep_all ? p->own_hi - p->own_lo : p->n_sweep;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = p->sweep_all ? p->own_lo + k : p->sweep[k];
            if (p->t_last[i] == t_end && type->above(&p->mp, i, t_end))
                emit(s, p, pi, i, t_end);
        }
    }
}

/* Static tables whose weights are all equal (bit for bit) keep one weight:
 * done when the run starts, once plasticity has taken what it needs. */
static void compact_weights(norn_sim *s)
{
    for (uint32_t k = 0; k < s->n_tables; k++) {
        table_t *tb = &s->tables[k];
        norn_csr *c = &tb->csr;
        if (tb->hom || !c->weight || !c->nnz || tb->stdp || tb->sn)
            continue;
        uint32_t b0, b;
        memcpy(&b0, &c->weight[0], sizeof b0);
        uint64_t q = 1;
        for (; q < c->nnz; q++) {
            memcpy(&b, &c->weight[q], sizeof b);
            if (b != b0)
                break;
        }
        if (q < c->nnz)
            continue;
        tb->hom = 1;
        tb->w_hom = c->weight[0];
        norn_free(c->weight);
        c->weight = NULL;
    }
}

/* Static tables (no STP) and tables with NEST STDP into populations of at
 * most 65,536 neurons: targets as 16-bit indices for the run. */
static norn_status narrow_targets(norn_sim *s)
{
    for (uint32_t k = 0; k < s->n_tables; k++) {
        table_t *tb = &s->tables[k];
        norn_csr *c = &tb->csr;
        if (tb->tg16 || !c->target || !c->nnz || c->n_tgt > 65536 || tb->sn || tb->stp.rule != NORN_STP_RULE_NONE)
            continue;
        /* in place (entry q's two bytes go where entries < q were read),
         * then the block shrunk: no second array to allocate and fault in */
        unsigned char *buf = (unsigned char *)c->target;
        const uint64_t nnz = c->nnz;
        uint64_t q = 0;
        for (; q + 8 <= nnz; q += 8) { /* eight at a time: loaded before the store, which lies below */
            uint32_t x[8];
            uint16_t y[8];
            memcpy(x, buf + 4 * q, sizeof x);
            for (int j = 0; j < 8; j++)
                y[j] = (uint16_t)x[j];
            memcpy(buf + 2 * q, y, sizeof y);
        }
        for (; q < nnz; q++) {
            uint32_t x;
            memcpy(&x, buf + 4 * q, sizeof x);
            uint16_t y = (uint16_t)x;
            memcpy(buf + 2 * q, &y, sizeof y);
        }
        uint16_t *t16 = norn_realloc_n(buf, c->nnz, sizeof(uint16_t));
        c->target = NULL;
        tb->tg16 = t16 ? t16 : (uint16_t *)(void *)buf; /* a shrink that fails keeps the block */
    }
    return NORN_OK;
}

/* The thresholds of lean_draw_avx512 for a drive's cdf32 (n entries, the
 * last >= 2^32): from k0, the first count with P(count < k0) >= 2^-9, to
 * k0 + w, the first with P(count > k0 + w) < 2^-9; w = 0 (the scalar draw
 * only) when that takes more than 16 thresholds. */
static void lean_thr_setup(lean_thr *th, const uint64_t *cdf, uint32_t n)
{
    const uint64_t eps = (uint64_t)1 << 23, top = (uint64_t)1 << 32;
    memset(th, 0, sizeof *th);
    uint32_t k0 = 0;
    while (k0 < n && cdf[k0] < eps)
        k0++;
    uint32_t w = 0;
    while (k0 + w < n && cdf[k0 + w] < top - eps)
        w++;
    if (w == 0 || w > 16 || k0 + w >= n)
        return;
    th->k0 = k0;
    th->w = w;
    for (uint32_t j = 0; j < w; j++)
        th->t[j] = (uint32_t)cdf[k0 + j];
    th->has_lo = k0 > 0;
    th->lo = k0 > 0 ? (uint32_t)cdf[k0 - 1] : 0;
    th->has_hi = cdf[k0 + w] < top;
    th->hi = th->has_hi ? (uint32_t)cdf[k0 + w] : 0;
}


static norn_status setup_run(norn_sim *s, double duration)
{
    compact_weights(s);
    norn_status nst = narrow_targets(s);
    if (nst != NORN_OK)
        return nst;
    double h = s->cfg.resolution_ms;
    s->duration = duration;
    norn_status wst = setup_weight_snapshots(s);
    if (wst == NORN_OK)
        wst = setup_stp_samples(s);
    if (wst != NORN_OK)
        return wst;
    uint32_t dmin = 0;
    for (uint32_t k = 0; k < s->n_tables; k++) {
        const norn_csr *c = &s->tables[k].csr;
        if (c->nnz && (dmin == 0 || c->min_delay < dmin))
            dmin = c->min_delay;
    }
    if (s->cfg.ranks > 1) { /* MPI: the windows of the whole network */
        uint32_t m = dmin ? dmin : UINT32_MAX;
        norn__par_min_u32(&m, 1);
        dmin = m == UINT32_MAX ? 0 : m;
    }
    s->min_delay_ms = dmin ? norn_grid_time(dmin, h) : 0;
    /* Poisson-driven populations with fewer than ~0.1 arrivals per neuron
     * and window are swept by arrival, not every neuron every window */
    double win_ms = s->min_delay_ms > 0 ? s->min_delay_ms : fmax(1.0, h);
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        if (!p->sweep_all || p->sched || s->cfg.sweep_every_window)
            continue;
        double lam = 0.0;
        for (uint32_t k = 0; k < p->n_poisson; k++)
            lam += s->poisson[p->poisson[k]].rate_per_ms * win_ms;
        if (lam >= 0.1)
            continue;
        uint32_t n = p->own_hi - p->own_lo; /* MPI: this rank's neurons */
        p->hq_t = norn_malloc_n(n ? n : 1, sizeof(double));
        p->hq_i = norn_malloc_n(n ? n : 1, sizeof(uint32_t));
        if (!p->hq_t || !p->hq_i)
            return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot allocate the arrival schedule of %u neurons", n);
        for (uint32_t i = 0; i < n; i++) {
            p->hq_t[i] = next_arrival(s, p, p->own_lo + i);
            p->hq_i[i] = p->own_lo + i;
        }
        p->hq_n = n;
        for (uint32_t k = n / 2; k-- > 0;)
            hq_down(p, k);
        p->sched = 1;
        p->sweep_all = 0;
    }
    for (uint32_t r = 0; r < s->n_recs; r++) {
        recorder *rc = &s->recs[r];
        uint64_t n = (uint64_t)floor(duration / rc->interval + 1e-9);
        rc->n_samples = n;
        rc->times = norn_malloc_n(n ? n : 1, sizeof(double));
        rc->data = norn_malloc_n(n * (uint64_t)rc->n_vars * rc->n_neurons + 1, sizeof(float));
        if (!rc->times || !rc->data)
            return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot allocate %llu state samples",
                             (unsigned long long)n);
        int64_t steps = norn_grid_index(rc->interval, h);
        for (uint64_t k = 0; k < n; k++)
            rc->times[k] = norn_grid_time((int64_t)(k + 1) * steps, h);
    }
    for (uint32_t k = 0; k < s->n_trains; k++)
        if (s->trains[k].n) {
            norn_status st = norn_queue_push(&s->q, s->trains[k].times[0], EV_TRAIN, k, 0, s->err);
            if (st != NORN_OK)
                return st;
        }
    for (uint32_t k = 0; k < s->n_dc; k++)
        if (s->dc[k].n) {
            double t = s->dc[k].times[0];
            if (s->cfg.mode == NORN_MODE_GRID)
                t = grid_ceil(t, h);
            norn_status st = norn_queue_push(&s->q, t, EV_DC, k, 0, s->err);
            if (st != NORN_OK)
                return st;
        }
    if (s->cfg.mode == NORN_MODE_GRID)
        for (uint32_t k = 0; k < s->n_dc; k++)
            for (uint64_t j = 0; j < s->dc[k].n; j++)
                s->dc[k].times[j] = grid_ceil(s->dc[k].times[j], h);
    for (uint32_t pi = 0; pi < s->n_pops; pi++)
        if (s->pops[pi].mp.type->start)
            s->pops[pi].mp.type->start(&s->pops[pi].mp);
    /* continuous: the sweeps leave out neurons that cannot reach threshold
     * by the window's end (quiet_until), where the model tells */
    for (uint32_t pi = 0; pi < s->n_pops && s->cfg.mode == NORN_MODE_CONTINUOUS && !s->cfg.no_lean; pi++) {
        population *p = &s->pops[pi];
        if (p->sweep_all || !p->mp.type->quiet_until || p->qu)
            continue;
        p->qu = norn_malloc_n(p->mp.n ? p->mp.n : 1, sizeof(double));
        p->qu_t = norn_malloc_n(p->mp.n ? p->mp.n : 1, sizeof(double));
        if (!p->qu || !p->qu_t)
            return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot allocate the sweep bounds of %u neurons", p->mp.n);
        for (uint32_t i = 0; i < p->mp.n; i++)
            p->qu_t[i] = NAN;
    }
    /* every neuron that may fire on its own is swept from the start */
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        if (p->sweep_all)
            continue;
        for (uint32_t i = p->own_lo; i < p->own_hi; i++)
            if (p->mp.type->may_fire(&p->mp, i, 0.0) || p->mp.type->above(&p->mp, i, 0.0))
                touch(p, i);
    }
    /* continuous iaf_delta populations whose every input is a plain static
     * table or their one Poisson drive, with V_inf <= V_th (no crossing
     * between inputs): static input takes the short way (cfast_deliver) */
    for (uint32_t pi = 0; pi < s->n_pops && s->cfg.mode == NORN_MODE_CONTINUOUS && !s->cfg.no_lean; pi++) {
        population *p = &s->pops[pi];
        int ok = p->iafd && p->sweep_all && !p->sched && p->n_poisson == 1 && !p->mp.i_dc &&
                 !(norn__iafd_v_inf(&p->mp, 0) > p->mp.p[NORN__IAFD_V_TH]);
        for (uint32_t k = 0; k < s->n_dc && ok; k++)
            ok = s->dc[k].pop != pi;
        for (uint32_t k = 0; k < s->n_trains && ok; k++)
            ok = s->trains[k].pop != pi;
        for (uint32_t k = 0; k < s->n_tables && ok; k++) {
            const table_t *tb = &s->tables[k];
            ok = tb->tgt != pi || (tb->stp.rule == NORN_STP_RULE_NONE && !tb->stdp && !tb->sn);
        }
        if (!ok)
            continue;
        /* inputs ahead of up to 9 arrivals (with V_min, none: clamping
         * does not commute with the sums) while 9 of them keep V below
         * V_th with V_inf as low as it goes. 10: brunel continuous was
         * fastest with 8-12 (16: 5% slower, 32: 20%; more arrivals drawn
         * ahead, and more neurons too close to V_th for the bound) */
        double q = p->mp.p[NORN__IAFD_V_TH] - norn__iafd_v_inf(&p->mp, 0);
        double wp = s->poisson[p->poisson[0]].weight;
        p->cf_k = 10;
        while (p->cf_k > 1 && wp > 0 && !((p->cf_k - 1) * wp < q))
            p->cf_k--;
        if (p->mp.p[NORN__IAFD_V_MIN] > -INFINITY)
            p->cf_k = 1;
        p->cf_q = p->cf_k > 1 ? q - (p->cf_k - 1) * (wp > 0 ? wp : 0.0) : -INFINITY;
        if (!p->cf)
            p->cf = norn_malloc_n(p->mp.n ? 4 * (uint64_t)p->mp.n : 1, sizeof(double));
        if (!p->cf)
            return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot allocate the input gates of %u neurons", p->mp.n);
    }
    /* grid mode: populations stepped as a whole where no advance has a
     * grid point inside to test: swept every window with no neuron able to
     * cross threshold between inputs, or, with windows of one step, every
     * neuron driven above threshold (advanced every step anyway) or a
     * model whose grid advance is a fixed one-step scheme (fixed_grid:
     * the same bits whichever way it is stepped) */
    int one_step_windows = dmin == 1 || (dmin == 0 && h >= 1.0);
    for (uint32_t pi = 0; pi < s->n_pops && s->cfg.mode == NORN_MODE_GRID && !s->cfg.no_dense; pi++) {
        population *p = &s->pops[pi];
        const norn_model_type *ty = p->mp.type;
        if (!ty->grid_step || p->mp.i_dc)
            continue;
        int ok = 1;
        for (uint32_t k = 0; k < s->n_dc && ok; k++)
            ok = s->dc[k].pop != pi;
        if (!ty->driven)
            continue;
        /* a fixed one-step scheme: the same spikes stepped whole or lazily */
        int fixed = one_step_windows && ty->fixed_grid && ty->fixed_grid(&p->mp);
        int quiet = p->sweep_all && ty->may_fire_is_driven, driven = one_step_windows;
        for (uint32_t i = 0; i < p->mp.n && ok && !fixed && (quiet || driven); i++) {
            int d = ty->driven(&p->mp, i);
            quiet = quiet && !d;
            driven = driven && d;
        }
        if (!ok || !(quiet || driven || fixed))
            continue;
        p->pin = norn_calloc_n(p->mp.n ? (uint64_t)p->mp.n * (ty->n_channels > 1 ? 2 : 1) : 1, sizeof(double));
        p->fired = norn_malloc_n(p->mp.n ? p->mp.n : 1, sizeof(uint32_t));
        if (!p->pin || !p->fired)
            return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot allocate the step buffers of %u neurons", p->mp.n);
        p->dense = 1;
        /* lean: iaf_delta, one Poisson drive drawn through cdf32, no state
         * recorder (sample() advances recorded neurons on their own) */
        int rec = 0;
        for (uint32_t r = 0; r < s->n_recs; r++)
            rec |= s->recs[r].pop == pi;
        if (ty == &norn_model_lif && driven && p->n_poisson == 0 && !rec && !s->cfg.no_lean) {
            p->lean_lif = 1;
            p->n_cand = UINT32_MAX; /* the first test is of every neuron */
            p->lean_at = NAN;
        }
        if (p->iafd && p->n_poisson == 1 && !s->cfg.no_lean) {
            poisson_stim *ps = &s->poisson[p->poisson[0]];
            if (ps->cdf32 && ps->rate_per_ms > 0) {
                p->lean_key = norn_malloc_n(p->mp.n ? p->mp.n : 1, sizeof(uint64_t));
                p->lean_spare = norn_malloc_n(p->mp.n ? p->mp.n : 1, sizeof(uint32_t));
                if (!p->lean_key || !p->lean_spare)
                    return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot allocate the stream keys of %u neurons",
                                     p->mp.n);
                for (uint32_t i = 0; i < p->mp.n; i++)
                    p->lean_key[i] = ps->rng[i].k0;
                p->lean = 1;
                lean_thr_setup(&p->lean_th, ps->cdf32, ps->n_cdf);
                /* arrivals from the step after the first candidate step
                 * (poisson_next_grid's k++), as the lazy stream has them:
                 * the stream restarts at its counter 0 and is drawn once
                 * per step by dense_lean */
                p->lean_k0 = (int64_t)ceil(ps->start / h - 1e-9) + 1;
                for (uint32_t i = 0; i < p->mp.n; i++) {
                    ps->rng[i].ctr = 0;
                    ps->next_a[i] = INFINITY;
                    ps->cnt[i] = 0;
                }
            }
        }
    }
    return NORN_OK;
}

/* ------------------------------------------------- grid mode, dense steps */

enum { DENSE_START, DENSE_STEP, DENSE_END, DENSE_LAST };

/* Step k (time t) of every densely stepped population. START (the
 * window's first step): the inputs at t, then the threshold of every
 * neuron (tests left pending by the previous window's END). STEP: the
 * neurons with input at t advanced, given it, tested. END (the window's
 * last step, its synaptic input belonging to the next window): every
 * neuron advanced to t with its Poisson input, not tested. LAST (the run's
 * last step): all of it for every neuron. The same operations in the same
 * order as advance_to, flush_inputs and sweep perform for each neuron. */
/* A lean population's step (p->lean). Its neurons all sit at the
 * previous step (nothing else advances them in a window: no recorder,
 * grid-mode deliveries only sum), so one decay factor serves all and none
 * is skipped; t_last, the clock inverses and the drive's counters are
 * written only at the window's end (SYNC), the clock inverse of the first
 * neuron every step (rebases scale it with the others). The drive: every
 * neuron draws once per step, so one counter serves all (norn_rng_fast_u32
 * with its counter at ctr; the low half of an even counter's round is
 * kept for the next step). The arithmetic and its
 * order are advance_to's, flush_inputs' and the sweep's for a neuron
 * advanced every step. */
typedef struct {
    double *restrict v, *restrict acc, *restrict he, *restrict tl;
    const double *restrict ru;
    uint32_t *restrict fired, *restrict cnt;
    double t, d, einv, w, vinf, vth, vreset, vmin;
    uint32_t lo, hi;
} lean_step;

/* b when c, else a, without a branch (c is unpredictable: whether a
 * neuron has input this step) */
static inline double pick(int c, double a, double b)
{
    uint64_t x, y, m = -(uint64_t)(c != 0);
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    x = (x & ~m) | (y & m);
    memcpy(&a, &x, sizeof a);
    return a;
}

/* This step's count of every neuron into cnt: number ctr of its stream
 * (norn_rng_fast_u32), inverted through cdf32. */
static __attribute__((noinline)) void lean_draw(const uint64_t *restrict k0, uint32_t *restrict cnt,
                                                uint32_t *restrict spare, const uint64_t *restrict cdf,
                                                const uint32_t *restrict guide, uint64_t ctr, int spare_ok,
                                                uint32_t lo, uint32_t hi)
{
    const uint64_t base = (ctr >> 1) * 0x9e3779b97f4a7c15ULL;
    if (!(ctr & 1)) {
        /* a new round: its high half now, its low half the next step */
        for (uint32_t i = lo; i < hi; i++) {
            uint64_t z = norn_rng_mix64(k0[i] + base);
            uint32_t u = (uint32_t)(z >> 32), c = guide[u >> 24];
            spare[i] = (uint32_t)z;
            while (u >= cdf[c])
                c++;
            cnt[i] = c;
        }
    } else if (spare_ok) {
        for (uint32_t i = lo; i < hi; i++) {
            uint32_t u = spare[i], c = guide[u >> 24];
            while (u >= cdf[c])
                c++;
            cnt[i] = c;
        }
    } else {
        for (uint32_t i = lo; i < hi; i++) {
            uint32_t u = (uint32_t)norn_rng_mix64(k0[i] + base), c = guide[u >> 24];
            while (u >= cdf[c])
                c++;
            cnt[i] = c;
        }
    }
}

#ifdef NORN_RNG_X8
#define NORN_LEAN_AVX512 1

/* The counts of sixteen neurons from their 32-bit uniforms u, without a
 * table look-up (gathers are slow): k0 plus the number of thresholds T[j]
 * = cdf32[k0 + j] at or below u, which is lean_draw's count wherever u is
 * in [lo, hi) (cdf32[k0 - 1] <= u < cdf32[k0 + W]); the lanes outside, a
 * few per thousand, are returned in a mask for lean_draw to redo. */
__attribute__((target("avx512f,avx512dq"))) static ALWAYS_INLINE __m512i count_x16(__m512i u, const lean_thr *th,
                                                                                   __mmask16 *bad)
{
    const __m512i one = _mm512_set1_epi32(1);
    __m512i c = _mm512_set1_epi32((int)th->k0);
    for (uint32_t j = 0; j < th->w; j++)
        c = _mm512_mask_add_epi32(c, _mm512_cmpge_epu32_mask(u, _mm512_set1_epi32((int)th->t[j])), c, one);
    *bad = (th->has_lo ? _mm512_cmplt_epu32_mask(u, _mm512_set1_epi32((int)th->lo)) : 0) |
           (th->has_hi ? _mm512_cmpge_epu32_mask(u, _mm512_set1_epi32((int)th->hi)) : 0);
    return c;
}

/* lean_draw sixteen neurons at a time: the same numbers, the same counts
 * (the lanes count_x16 leaves, by lean_draw's search). Returns where
 * lean_draw is to go on (the last hi - lo mod 16). */
__attribute__((target("avx512f,avx512dq"))) static __attribute__((noinline)) uint32_t
lean_draw_avx512(const uint64_t *restrict k0, uint32_t *restrict cnt, uint32_t *restrict spare, const lean_thr *th,
                 const uint64_t *restrict cdf, const uint32_t *restrict guide, uint64_t ctr, int spare_ok, uint32_t lo,
                 uint32_t hi)
{
    const __m512i base = _mm512_set1_epi64((long long)((ctr >> 1) * 0x9e3779b97f4a7c15ULL));
    uint32_t i = lo;
    for (; i + 16 <= hi; i += 16) {
        __m512i u;
        if (ctr & 1 && spare_ok) {
            u = _mm512_loadu_si512(spare + i);
        } else {
            __m512i z0 = norn_rng_mix64_x8(_mm512_add_epi64(_mm512_loadu_si512(k0 + i), base));
            __m512i z1 = norn_rng_mix64_x8(_mm512_add_epi64(_mm512_loadu_si512(k0 + i + 8), base));
            __m512i l = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(z0)),
                                           _mm512_cvtepi64_epi32(z1), 1);
            if (ctr & 1) {
                u = l;
            } else {
                _mm512_storeu_si512(spare + i, l);
                u = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(_mm512_srli_epi64(z0, 32))),
                                       _mm512_cvtepi64_epi32(_mm512_srli_epi64(z1, 32)), 1);
            }
        }
        __mmask16 bad;
        _mm512_storeu_si512(cnt + i, count_x16(u, th, &bad));
        while (bad) {
            uint32_t q = i + (uint32_t)__builtin_ctz(bad);
            lean_draw(k0, cnt, spare, cdf, guide, ctr, spare_ok, q, q + 1);
            bad &= bad - 1;
        }
    }
    return i;
}
#endif

static ALWAYS_INLINE uint32_t lean_pass(const lean_step *g, const int ADV, const int DRAW, const int TEST,
                                         const int SYNC)
{
    double *restrict v = g->v, *restrict acc = g->acc;
    const double *restrict ru = g->ru;
    uint32_t *restrict fired = g->fired;
    const uint32_t *restrict cnt = g->cnt;
    const double t = g->t, d = g->d, w = g->w, vinf = g->vinf, vth = g->vth, vreset = g->vreset, vmin = g->vmin;
    uint32_t nf = 0;
    for (uint32_t i = g->lo, hi = g->hi; i < hi; i++) {
        const int open = t > ru[i];
        double x = v[i];
        if (ADV)
            x = open ? vinf + (x - vinf) * d : vreset;
        if (DRAW) {
            uint32_t c = cnt[i];
            double y = x + w * (double)c;
            x = pick(c != 0 && open, x, y < vmin ? vmin : y);
        }
        if (TEST) {
            double a = acc[i], y = x + a;
            x = pick(a != 0.0 && open, x, y < vmin ? vmin : y);
            acc[i] = 0.0;
            fired[nf] = i;
            nf += open && x >= vth;
        }
        v[i] = x;
        if (SYNC) {
            g->tl[i] = t;
            g->he[i] = g->einv;
        }
    }
    return nf;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NORN_LEAN_AVX2 1
/* The vector passes' shared pieces: neurons i + b for each bit b of m
 * appended to fired (nf so far; the new count), and the scalar pass over
 * the neurons from i on (fired there), its count. */
static ALWAYS_INLINE uint32_t lean_fired(uint32_t *fired, uint32_t nf, uint32_t i, unsigned m)
{
    while (m) {
        fired[nf++] = i + (uint32_t)__builtin_ctz(m);
        m &= m - 1;
    }
    return nf;
}

static ALWAYS_INLINE uint32_t lean_pass_from(const lean_step *g, uint32_t i, uint32_t *fired, const int ADV,
                                             const int DRAW, const int TEST, const int SYNC)
{
    lean_step rest = *g;
    rest.lo = i;
    rest.fired = fired;
    return lean_pass(&rest, ADV, DRAW, TEST, SYNC);
}

/* lean_pass four neurons at a time with AVX2: the same operations in the
 * same order on each lane (no FMA: -ffp-contract=off, and the products
 * and sums are separate intrinsics), so the same bits as lean_pass; the
 * selects are lane masks, the spikes come out of the threshold mask in
 * ascending order. The neurons past the last multiple of four go to
 * lean_pass. */
__attribute__((target("avx2"))) static ALWAYS_INLINE uint32_t lean_pass_avx2_m(const lean_step *g, const int ADV,
                                                                                const int DRAW, const int TEST,
                                                                                const int SYNC)
{
    double *restrict v = g->v, *restrict acc = g->acc;
    const double *restrict ru = g->ru;
    uint32_t *restrict fired = g->fired;
    const uint32_t *restrict cnt = g->cnt;
    const __m256d tv = _mm256_set1_pd(g->t), d = _mm256_set1_pd(g->d), w = _mm256_set1_pd(g->w),
                  vinf = _mm256_set1_pd(g->vinf), vth = _mm256_set1_pd(g->vth),
                  vreset = _mm256_set1_pd(g->vreset), vmin = _mm256_set1_pd(g->vmin), zero = _mm256_setzero_pd(),
                  einv = _mm256_set1_pd(g->einv);
    uint32_t nf = 0, i = g->lo, hi = g->hi;
    for (; i + 4 <= hi; i += 4) {
        const __m256d open = _mm256_cmp_pd(tv, _mm256_loadu_pd(ru + i), _CMP_GT_OQ);
        __m256d x = _mm256_loadu_pd(v + i);
        if (ADV) {
            x = _mm256_add_pd(vinf, _mm256_mul_pd(_mm256_sub_pd(x, vinf), d));
            x = _mm256_blendv_pd(vreset, x, open);
        }
        if (DRAW) {
            __m256d c = _mm256_cvtepi32_pd(_mm_loadu_si128((const __m128i *)(cnt + i)));
            __m256d y = _mm256_max_pd(vmin, _mm256_add_pd(x, _mm256_mul_pd(w, c)));
            x = _mm256_blendv_pd(x, y, _mm256_and_pd(open, _mm256_cmp_pd(c, zero, _CMP_NEQ_UQ)));
        }
        if (TEST) {
            __m256d a = _mm256_loadu_pd(acc + i);
            __m256d y = _mm256_max_pd(vmin, _mm256_add_pd(x, a));
            x = _mm256_blendv_pd(x, y, _mm256_and_pd(open, _mm256_cmp_pd(a, zero, _CMP_NEQ_UQ)));
            _mm256_storeu_pd(acc + i, zero);
            unsigned m = (unsigned)_mm256_movemask_pd(_mm256_and_pd(open, _mm256_cmp_pd(x, vth, _CMP_GE_OQ)));
            nf = lean_fired(fired, nf, i, m);
        }
        _mm256_storeu_pd(v + i, x);
        if (SYNC) {
            _mm256_storeu_pd(g->tl + i, tv);
            _mm256_storeu_pd(g->he + i, einv);
        }
    }
    return nf + lean_pass_from(g, i, fired + nf, ADV, DRAW, TEST, SYNC);
}

__attribute__((target("avx2"))) static uint32_t lean_pass_avx2(const lean_step *g, int draw, int what)
{
    if (what == DENSE_START)
        return lean_pass_avx2_m(g, 0, 0, 1, 0);
    if (what == DENSE_END)
        return draw ? lean_pass_avx2_m(g, 1, 1, 0, 1) : lean_pass_avx2_m(g, 1, 0, 0, 1);
    if (what == DENSE_LAST)
        return draw ? lean_pass_avx2_m(g, 1, 1, 1, 1) : lean_pass_avx2_m(g, 1, 0, 1, 1);
    return draw ? lean_pass_avx2_m(g, 1, 1, 1, 0) : lean_pass_avx2_m(g, 1, 0, 1, 0);
}
#endif

#ifdef NORN_LEAN_AVX512
/* lean_pass eight neurons at a time with AVX-512: lean_pass_avx2's
 * operations on eight lanes (no FMA; max and the mask selects as its
 * blends), so the same bits. The neurons past the last multiple of eight
 * go to lean_pass. (The draw stays a loop of its own, lean_draw_avx512:
 * done in this loop, eight lanes at a time, it cost more.) */
__attribute__((target("avx512f,avx512dq"))) static ALWAYS_INLINE uint32_t
lean_pass_avx512_m(const lean_step *g, const int ADV, const int DRAW, const int TEST,
                   const int SYNC)
{
    double *restrict v = g->v, *restrict acc = g->acc;
    const double *restrict ru = g->ru;
    uint32_t *restrict fired = g->fired, *restrict cnt = g->cnt;
    const __m512d tv = _mm512_set1_pd(g->t), d = _mm512_set1_pd(g->d), w = _mm512_set1_pd(g->w),
                  vinf = _mm512_set1_pd(g->vinf), vth = _mm512_set1_pd(g->vth),
                  vreset = _mm512_set1_pd(g->vreset), vmin = _mm512_set1_pd(g->vmin), zero = _mm512_setzero_pd(),
                  einv = _mm512_set1_pd(g->einv);
    uint32_t nf = 0, i = g->lo, hi = g->hi;
    for (; i + 8 <= hi; i += 8) {
        const __mmask8 open = _mm512_cmp_pd_mask(tv, _mm512_loadu_pd(ru + i), _CMP_GT_OQ);
        __m512d x = _mm512_loadu_pd(v + i);
        if (ADV) {
            x = _mm512_add_pd(vinf, _mm512_mul_pd(_mm512_sub_pd(x, vinf), d));
            x = _mm512_mask_blend_pd(open, vreset, x);
        }
        if (DRAW) {
            __m256i c = _mm256_loadu_si256((const __m256i *)(cnt + i));
            __m512d cd = _mm512_cvtepu32_pd(c);
            __m512d y = _mm512_max_pd(vmin, _mm512_add_pd(x, _mm512_mul_pd(w, cd)));
            x = _mm512_mask_blend_pd(open & _mm512_cmp_pd_mask(cd, zero, _CMP_NEQ_UQ), x, y);
        }
        if (TEST) {
            __m512d a = _mm512_loadu_pd(acc + i);
            __m512d y = _mm512_max_pd(vmin, _mm512_add_pd(x, a));
            x = _mm512_mask_blend_pd(open & _mm512_cmp_pd_mask(a, zero, _CMP_NEQ_UQ), x, y);
            _mm512_storeu_pd(acc + i, zero);
            unsigned m = open & _mm512_cmp_pd_mask(x, vth, _CMP_GE_OQ);
            nf = lean_fired(fired, nf, i, m);
        }
        _mm512_storeu_pd(v + i, x);
        if (SYNC) {
            _mm512_storeu_pd(g->tl + i, tv);
            _mm512_storeu_pd(g->he + i, einv);
        }
    }
    return nf + lean_pass_from(g, i, fired + nf, ADV, DRAW, TEST, SYNC);
}

__attribute__((target("avx512f,avx512dq"))) static uint32_t lean_pass_avx512(const lean_step *g, int draw,
                                                                                      int what)
{
    if (what == DENSE_START)
        return lean_pass_avx512_m(g, 0, 0, 1, 0);
    if (what == DENSE_END)
        return draw ? lean_pass_avx512_m(g, 1, 1, 0, 1) : lean_pass_avx512_m(g, 1, 0, 0, 1);
    if (what == DENSE_LAST)
        return draw ? lean_pass_avx512_m(g, 1, 1, 1, 1) : lean_pass_avx512_m(g, 1, 0, 1, 1);
    return draw ? lean_pass_avx512_m(g, 1, 1, 1, 0) : lean_pass_avx512_m(g, 1, 0, 1, 0);
}
#endif

static void dense_lean(norn_sim *s, population *p, uint32_t pi, int64_t k, double t, int what)
{
    norn_model_pop *mp = &p->mp;
    double *v = mp->st[NORN__IAFD_S_V], *he = mp->st[NORN__IAFD_H_E], *ru = mp->ref_until;
    double *acc = p->acc;
    uint32_t *fired = p->fired;
    const double vth = mp->p[NORN__IAFD_V_TH], vmin = mp->p[NORN__IAFD_V_MIN];
    const uint32_t lo = p->own_lo, hi = p->own_hi;
    uint32_t nf = 0;
    if (lo >= hi)
        return;
    p->lean_t = t;
    poisson_stim *ps = &s->poisson[p->poisson[0]];
    const int draw = what != DENSE_START && k >= p->lean_k0 && t <= ps->stop;
    /* START: the neurons are at t (the previous window's END); no clock */
    const norn__iafd_clock e = what != DENSE_START ? norn__iafd_clock_at(mp, t) /* may rebase he[] first */
                                                   : (norn__iafd_clock){1.0, 1.0};
    lean_step g = {
        .v = v, .acc = acc, .he = he, .tl = p->t_last, .ru = ru, .fired = fired, .cnt = ps->cnt,
        .t = t, .d = e.e * he[lo], .einv = e.inv, .w = ps->weight,
        .vinf = mp->p[NORN__IAFD_E_L] + mp->p[NORN__IAFD_I_E] * mp->c[NORN__IAFD_C_R],
        .vth = vth, .vreset = mp->p[NORN__IAFD_V_RESET], .vmin = vmin, .lo = lo, .hi = hi,
    };
    const uint64_t ctr = ps->rng[lo].ctr;
    if (draw) {
        uint32_t from = lo;
#ifdef NORN_LEAN_AVX512
        if (s->avx512 && p->lean_th.w)
            from = lean_draw_avx512(p->lean_key, ps->cnt, p->lean_spare, &p->lean_th, ps->cdf32, ps->guide, ctr,
                                    p->lean_spare_ok, lo, hi);
#endif
        lean_draw(p->lean_key, ps->cnt, p->lean_spare, ps->cdf32, ps->guide, ctr, p->lean_spare_ok, from, hi);
    }
#ifdef NORN_LEAN_AVX512
    if (s->avx512)
        nf = lean_pass_avx512(&g, draw, what);
    else
#endif
#ifdef NORN_LEAN_AVX2
    if (s->avx2)
        nf = lean_pass_avx2(&g, draw, what);
    else
#endif
    if (what == DENSE_START)
        nf = lean_pass(&g, 0, 0, 1, 0);
    else if (what == DENSE_END)
        nf = draw ? lean_pass(&g, 1, 1, 0, 1) : lean_pass(&g, 1, 0, 0, 1);
    else if (what == DENSE_LAST)
        nf = draw ? lean_pass(&g, 1, 1, 1, 1) : lean_pass(&g, 1, 0, 1, 1);
    else
        nf = draw ? lean_pass(&g, 1, 1, 1, 0) : lean_pass(&g, 1, 0, 1, 0);
    if (draw)
        p->lean_spare_ok = !(ctr & 1);
    if (what != DENSE_START)
        he[lo] = e.inv;
    if (draw)
        ps->rng[lo].ctr++;
    for (uint32_t f = 0; f < nf; f++) {
        norn__iafd_fire(mp, fired[f], t);
        add_spike(s, p, pi, fired[f], t);
    }
}

/* A lean lif population's step (p->lean_lif): the others' semantics with
 * every neuron advanced at every step but START (END, LAST: from the
 * previous step to t, listing the neurons then above threshold); then
 * (START, LAST) the inputs at t of the neurons that have some (the
 * accumulate() list) and the test of the listed neurons: an input changes
 * the currents only, never V, so no other neuron is above threshold. */
static void dense_lif_lean(norn_sim *s, population *p, uint32_t pi, int64_t k, double t, int what)
{
    norn_model_pop *mp = &p->mp;
    if (what != DENSE_START) {
        double t0 = norn_grid_time(k - 1, s->cfg.resolution_ms);
        p->n_cand = norn__lif_lean_advance(mp, t0, t, p->own_lo, p->own_hi, NULL, p->fired);
        p->lean_at = t; /* t_last: lean_lif_sync */
        if (what == DENSE_END)
            return;
    }
    const uint32_t n = mp->n, *pend = p->pend, np = p->n_pend;
    double *acc = p->acc;
    for (uint32_t q = 0; q < np; q++) {
        uint32_t i = pend[q];
        norn__lif_input_sums(mp, i, acc[i], acc[n + i]);
        acc[i] = 0.0;
        acc[n + i] = 0.0;
        p->mark[i] = 0;
    }
    if (p->n_cand == UINT32_MAX) {
        for (uint32_t i = p->own_lo; i < p->own_hi; i++)
            if (norn__lif_fire_if_above(mp, i, t))
                add_spike(s, p, pi, i, t);
    } else {
        for (uint32_t q = 0; q < p->n_cand; q++)
            if (norn__lif_fire_if_above(mp, p->fired[q], t))
                add_spike(s, p, pi, p->fired[q], t);
    }
    p->n_cand = 0;
}

/* A lean drive's stream counters are kept in its first neuron's stream
 * (every neuron draws once per step); the others are brought level before
 * a checkpoint stores them. */
static void lean_sync_counters(norn_sim *s)
{
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        if (!p->lean || p->own_lo >= p->own_hi)
            continue;
        norn_rng *r = s->poisson[p->poisson[0]].rng;
        for (uint32_t i = p->own_lo + 1; i < p->own_hi; i++)
            r[i].ctr = r[p->own_lo].ctr;
    }
}

/* A step of a dense population that is neither lean kind: its Poisson
 * arrivals at t summed into pin (not at START, which shares END's t), then
 * the model's grid_step. */
static void dense_grid_step(norn_sim *s, population *p, uint32_t pi, double t, int what)
{
    uint32_t n = p->mp.n;
    const int two = p->mp.type->n_channels > 1;
    if (what != DENSE_START) {
        for (uint32_t q = 0; q < p->n_poisson; q++) {
            poisson_stim *ps = &s->poisson[p->poisson[q]];
            const double *na = ps->next_a;
            double hres = s->cfg.resolution_ms;
            if (two) {
                /* by sign, as advance_to sums them */
                for (uint32_t i = p->own_lo; i < p->own_hi; i++) /* MPI: this rank's */
                    if (na[i] == t) {
                        double x = ps->weight * ps->cnt[i];
                        p->pin[x < 0 ? n + i : i] += x;
                        p->mark[i] |= 2;
                        poisson_next(s, ps, i);
                    }
            } else if (ps->cdf32) {
                const grid_draw g = grid_draw_of(ps, hres);
                const double w = ps->weight;
                double *pin = p->pin;
                uint8_t *mark = p->mark;
                for (uint32_t i = p->own_lo, hi = p->own_hi; i < hi; i++)
                    if (na[i] == t) {
                        pin[i] += w * g.cnt[i];
                        mark[i] |= 2;
                        grid_draw_next(&g, i);
                    }
            } else {
                for (uint32_t i = p->own_lo; i < p->own_hi; i++)
                    if (na[i] == t) {
                        p->pin[i] += ps->weight * ps->cnt[i];
                        p->mark[i] |= 2;
                        poisson_next(s, ps, i);
                    }
            }
        }
    }
    norn_grid_step g = {
        .t = t,
        .t_last = p->t_last,
        .flags = p->mark,
        .acc = p->acc,
        .pin = p->pin,
        .acc2 = two ? p->acc + n : NULL,
        .pin2 = two ? p->pin + n : NULL,
        .all = what != DENSE_STEP,
        .test = what != DENSE_END,
        .fired = p->fired,
        .lo = p->own_lo,
        .hi = p->own_hi,
    };
    uint32_t nf = p->mp.type->grid_step(&p->mp, &g);
    for (uint32_t f = 0; f < nf; f++)
        add_spike(s, p, pi, p->fired[f], t);
}

static void dense_steps(norn_sim *s, int64_t k, double t, int what)
{
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        if (!p->dense)
            continue;
        if (p->lean)
            dense_lean(s, p, pi, k, t, what);
        else if (p->lean_lif)
            dense_lif_lean(s, p, pi, k, t, what);
        else
            dense_grid_step(s, p, pi, t, what);
        p->n_pend = 0; /* the list accumulate() keeps: the step visited all */
        if (what == DENSE_END || what == DENSE_LAST) {
            for (uint32_t j = 0; j < p->n_sweep; j++)
                p->in_sweep[p->sweep[j]] = 0;
            p->n_sweep = 0;
        }
    }
}

/* Segment event e (a static, plastic or short-term plastic table's), in
 * three stages as it comes nearer, each a random read the next one needs:
 * 0, the row's entry in the table's index (seg_ptr; a plastic or STP event
 * names its segment by its place in the row); 1, the segment's bounds
 * (seg_start, and a plastic one's delay); 2, the first lines of its
 * targets, and of its weights where they are per synapse (a plastic
 * table's, which the update reads and writes, or an STP table's) (a row
 * starts anywhere, and the hardware prefetcher needs a few of its lines
 * before it streams the rest). Before the plastic events were prefetched,
 * and with the bounds read one stage after they were prefetched,
 * brunel_stdp's loop took 2.03 s instead of 1.71, brunel's 0.93 instead of
 * 0.86 and brunel_100k's (100 ms) 1.34 instead of 1.01 (loop CPU, medians
 * of alternating runs). */
static inline void prefetch_segment(const norn_sim *s, const norn_event *e, int stage)
{
    unsigned kind = e->kind & ((1u << EV_KIND_BITS) - 1);
    const table_t *tb;
    uint64_t seg;
    if (kind == EV_SPIKE_STDP || kind == EV_SPIKE_STP) {
        tb = row_event_table(s, e);
        if (stage == 0) {
            __builtin_prefetch(&tb->csr.seg_ptr[e->a]);
            return;
        }
        seg = row_event_segment(&tb->csr, e);
    } else if (kind == EV_SPIKE) {
        tb = &s->tables[e->kind >> EV_KIND_BITS];
        seg = e->b;
        if (stage == 0) {
            __builtin_prefetch(&tb->csr.seg_ptr[e->a + 1]);
            return;
        }
    } else {
        return;
    }
    if (stage == 1) {
        __builtin_prefetch(&tb->csr.seg_start[seg]);
        if (kind == EV_SPIKE_STDP)
            __builtin_prefetch(&tb->csr.seg_delay[seg]);
        return;
    }
    uint64_t lo = tb->csr.seg_start[seg];
    const char *a = tb->tg16 ? (const char *)&tb->tg16[lo] : (const char *)&tb->csr.target[lo];
    for (int l = 0; l < 4; l++)
        __builtin_prefetch(a + 64 * l);
    if (kind == EV_SPIKE_STDP) {
        const char *w = (const char *)(norn_stdp_weights(tb->stdp) + lo);
        for (int l = 0; l < 4; l++)
            __builtin_prefetch(w + 64 * l, 1);
    } else if (kind == EV_SPIKE_STP && !tb->hom && tb->csr.weight) {
        const char *w = (const char *)(tb->csr.weight + lo);
        for (int l = 0; l < 4; l++)
            __builtin_prefetch(w + 64 * l);
    }
}

/* Delivers every event at t (inputs summed first): taken from the queue
 * together (in the queue's order), so that the segments ahead are
 * prefetched; an event a delivery adds at t itself comes after them, as
 * the queue would give it. */
static void deliver_at(norn_sim *s, double t)
{
    while (norn_queue_peek_time(&s->q) == t) {
        uint64_t n = 0;
        while (norn_queue_peek_time(&s->q) == t) {
            if (n == s->cap_evb && !grow((void **)&s->evb, &s->cap_evb, n + 1, sizeof *s->evb)) {
                s->fail = NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot grow the event buffer");
                return;
            }
            norn_queue_pop(&s->q, &s->evb[n++]);
        }
        s->queue_events += n;
        for (uint64_t k = 0; k < n; k++) {
            if (k + 12 < n)
                prefetch_segment(s, &s->evb[k + 12], 0);
            if (k + 6 < n)
                prefetch_segment(s, &s->evb[k + 6], 1);
            if (k + 2 < n)
                prefetch_segment(s, &s->evb[k + 2], 2);
            const norn_event *e = &s->evb[k];
            switch (e->kind & ((1u << EV_KIND_BITS) - 1)) {
            case EV_SPIKE: deliver_segment(s, e); break;
            case EV_SPIKE_STP: deliver_segment_stp(s, e); break;
            case EV_SPIKE_STDP: deliver_segment_stdp(s, e); break;
            case EV_TRAIN: deliver_train(s, e); break;
            case EV_DC: apply_dc(s, e); break;
            }
        }
    }
}

/* grid mode with densely stepped populations: the window's steps k0..k1
 * one by one (the event-driven loop of norn_sim_run visits only the times
 * with events); the other populations are treated as there. */
static void window_steps(norn_sim *s, int64_t k0, int64_t k1, int last)
{
    double h = s->cfg.resolution_ms;
    for (int64_t k = k0; k <= k1 && s->fail == NORN_OK; k++) {
        double t = norn_grid_time(k, h);
        sample(s, t, 0);
        if (k == k1 && !last) {
            /* the other populations' sweep follows in norn_sim_run */
            dense_steps(s, k, t, DENSE_END);
            break;
        }
        deliver_at(s, t);
        flush_inputs(s, t);
        dense_steps(s, k, t, k == k0 ? DENSE_START : k == k1 ? DENSE_LAST : DENSE_STEP);
    }
}

/* ------------------------------------------------------------ euler mode */

/* Steps a quiet neuron with no input from its last step up to step t-1
 * (bit for bit what stepping it every step would give); stops early at a
 * fixed point, where further steps change nothing. */
static void euler_catch_up(norn_sim *s, population *p, uint32_t pi, uint32_t j, int64_t t)
{
    const norn_euler_type *type = p->ep.type;
    float before[NORN_EULER_MAX_STATE];
    int ns = type->n_state;
    for (int64_t k = p->last_step[j] + 1; k < t; k++) {
        for (int v = 0; v < ns; v++)
            before[v] = p->ep.st[v][j];
        if (type->step(&p->ep, j, 0.0f, 0.0f)) {
            /* quiet() promised no spike: record it anyway, at its step */
            emit_euler(s, p, pi, j, k);
        }
        int same = 1;
        for (int v = 0; v < ns && same; v++)
            same = memcmp(&before[v], &p->ep.st[v][j], sizeof(float)) == 0;
        if (same)
            break;
    }
    p->last_step[j] = t - 1;
}

/* Adds the weights of the rows of `spk` into acc (float32, in CSR order),
 * scaled by rel[src] when rel is given (short-term plasticity); returns the
 * number of synaptic events. */
static uint64_t euler_deliver(const table_t *tb, const uint32_t *spk, uint32_t n_spk, population *p, float *acc,
                              const float *rel)
{
    const norn_csr *c = &tb->csr;
    const float wh = tb->w_hom;
    const float *wt = c->weight;
    uint8_t *mark = p->mark;
    uint32_t *pend = p->pend, np = p->n_pend;
    uint64_t events = 0;
    for (uint32_t k = 0; k < n_spk; k++) {
        uint32_t src = spk[k];
        float f = rel ? rel[src] : 1.0f;
        events += c->row_ptr[src + 1] - c->row_ptr[src];
        for (uint64_t q = c->row_ptr[src]; q < c->row_ptr[src + 1]; q++) {
            uint32_t j = c->target[q];
            float w = wt ? wt[q] : wh;
            acc[j] += rel ? w * f : w;
            if (!mark[j]) {
                mark[j] = 1;
                pend[np++] = j;
            }
        }
    }
    p->n_pend = np;
    return events;
}

static void euler_update(norn_sim *s, population *p, uint32_t pi, uint32_t j, int64_t t)
{
    const norn_euler_type *type = p->ep.type;
    if (p->last_step[j] < t - 1)
        euler_catch_up(s, p, pi, j, t);
    int z = type->step(&p->ep, j, p->ff[j], p->rec[j]);
    p->ff[j] = 0.0f;
    p->rec[j] = 0.0f;
    p->last_step[j] = t;
    p->updates++;
    if (z && type->spiking) {
        p->cur_spk[p->n_cur++] = j;
        emit_euler(s, p, pi, j, t);
    }
}

/* One population's step t: gather input, update touched and active
 * neurons, collect spikes. */
/* Short-term plasticity of pi's outgoing tables at its spikes of step t:
 * each spike's release, used by every delivery of that spike. */
static void euler_stp(norn_sim *s, uint32_t pi, int64_t t)
{
    population *p = &s->pops[pi];
    for (uint32_t o = 0; o < p->n_out; o++) {
        table_t *tb = &s->tables[p->out[o]];
        if (tb->stp.rule == NORN_STP_RULE_NONE)
            continue;
        for (uint32_t k = 0; k < p->n_cur; k++)
            tb->rel[p->cur_spk[k]] = stp_norse_spike(tb, p->cur_spk[k], t);
    }
}

static void euler_pop_step_inner(norn_sim *s, uint32_t pi, int64_t t);

static void euler_pop_step(norn_sim *s, uint32_t pi, int64_t t)
{
    euler_pop_step_inner(s, pi, t);
    /* ascending order, as every rank count gives it (MPI: the exchange) */
    par_euler_spikes(s, pi);
    euler_stp(s, pi, t);
}

static void euler_pop_step_inner(norn_sim *s, uint32_t pi, int64_t t)
{
    population *p = &s->pops[pi];
    p->n_cur = 0;
    if (!p->ep.type) {
        /* an input population: its spikes are the tensor's row t */
        if ((uint64_t)t < p->tens_T)
            for (uint64_t k = p->tens_ptr[t]; k < p->tens_ptr[t + 1]; k++) {
                uint32_t j = p->tens_idx[k];
                if (j - p->own_lo >= p->own_hi - p->own_lo)
                    continue; /* MPI: another rank's */
                p->cur_spk[p->n_cur++] = j;
                emit_euler(s, p, pi, j, t);
            }
        return;
    }
    uint32_t n = p->mp.n;
    p->n_pend = 0;
    if (p->cur_tensor && (uint64_t)t < p->cur_T) {
        const float *row = p->cur_tensor + (uint64_t)t * n;
        for (uint32_t j = p->own_lo; j < p->own_hi; j++)
            if (row[j] != 0.0f) {
                p->ff[j] += row[j];
                if (!p->mark[j]) {
                    p->mark[j] = 1;
                    p->pend[p->n_pend++] = j;
                }
            }
    }
    /* W_in x_t from populations updated earlier in this step first, then
     * W_rec z_{t-1} (Norse: (i + W_in x) + W_rec z) */
    for (uint32_t k = 0; k < s->n_tables; k++) {
        table_t *tb = &s->tables[k];
        if (tb->tgt != pi)
            continue;
        population *src = &s->pops[tb->src];
        if (tb->lag == 0)
            s->events += euler_deliver(tb, src->cur_spk, src->n_cur, p, p->ff, tb->rel);
        else
            s->events += euler_deliver(tb, src->prev_spk, src->n_prev, p, p->rec, tb->rel);
    }
    const norn_euler_type *type = p->ep.type;
    for (uint32_t k = 0; k < p->n_pend; k++) {
        uint32_t j = p->pend[k];
        p->mark[j] = 0;
        euler_update(s, p, pi, j, t);
        if (!p->in_sweep[j] && (p->pinned[j] || !type->quiet(&p->ep, j))) {
            p->in_sweep[j] = 1;
            p->sweep[p->n_sweep++] = j;
        }
    }
    /* neurons not quiet yet (or recorded): step them on their own */
    uint32_t keep = 0;
    for (uint32_t k = 0; k < p->n_sweep; k++) {
        uint32_t j = p->sweep[k];
        if (p->last_step[j] < t)
            euler_update(s, p, pi, j, t);
        if (p->pinned[j] || !type->quiet(&p->ep, j))
            p->sweep[keep++] = j;
        else
            p->in_sweep[j] = 0;
    }
    p->n_sweep = keep;
}

static norn_status begin_euler(norn_sim *s, double duration_ms)
{
    compact_weights(s);
    /* the initial state, kept for norn_sim_reset */
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        if (!p->ep.type)
            continue;
        for (int v = 0; v < p->ep.type->n_state; v++)
            if (!p->init[v]) {
                p->init[v] = norn_malloc_n(p->mp.n ? p->mp.n : 1, sizeof(float));
                if (!p->init[v])
                    return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot keep the initial state");
                memcpy(p->init[v], p->ep.st[v], p->mp.n * sizeof(float));
            }
    }
    double h = s->cfg.resolution_ms;
    int64_t T = norn_grid_index(duration_ms, h);
    s->duration = norn_grid_time(T, h);
    s->min_delay_ms = h;
    norn_status wst = setup_weight_snapshots(s);
    if (wst == NORN_OK)
        wst = setup_stp_samples(s);
    if (wst != NORN_OK)
        return wst;
    for (uint32_t r = 0; r < s->n_recs; r++) {
        recorder *rc = &s->recs[r];
        population *p = &s->pops[rc->pop];
        int64_t every = norn_grid_index(rc->interval, h);
        uint64_t m = (uint64_t)(T / every);
        rc->n_samples = m;
        rc->times = norn_malloc_n(m ? m : 1, sizeof(double));
        rc->data = norn_malloc_n(m * (uint64_t)rc->n_vars * rc->n_neurons + 1, sizeof(float));
        if (!rc->times || !rc->data)
            return NORN_FAIL(s->err, NORN_ENOMEM, NULL, "cannot allocate %llu state samples", (unsigned long long)m);
        for (uint64_t k = 0; k < m; k++)
            rc->times[k] = norn_grid_time((int64_t)(k + 1) * every, h);
        for (uint32_t k = 0; k < rc->n_neurons; k++) {
            uint32_t j = rc->neurons[k];
            if (j - p->own_lo >= p->own_hi - p->own_lo)
                continue; /* MPI: its owner steps it */
            p->pinned[j] = 1;
            if (!p->in_sweep[j]) {
                p->in_sweep[j] = 1;
                p->sweep[p->n_sweep++] = j;
            }
        }
    }
    /* neurons that may spike without input are stepped from the start */
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        if (!p->ep.type)
            continue;
        for (uint32_t j = p->own_lo; j < p->own_hi; j++)
            if (!p->in_sweep[j] && !p->ep.type->quiet(&p->ep, j)) {
                p->in_sweep[j] = 1;
                p->sweep[p->n_sweep++] = j;
            }
    }
    snapshot_weights(s, 0.0, 1); /* snapshots at time 0: the initial weights */
    s->T = T;
    s->step_next = 0;
    return NORN_OK;
}

/* Steps from s->step_next on, until t_stop is reached, the run ends or the
 * stop flag is set. */
static norn_status run_euler(norn_sim *s, double t_stop, norn_progress_fn progress, void *ctx)
{
    double h = s->cfg.resolution_ms;
    int64_t T = s->T;
    for (int64_t t = s->step_next; t < T; t++) {
        if (norn_grid_time(t, h) >= t_stop || (s->stop && *s->stop))
            return NORN_OK;
        for (uint32_t pi = 0; pi < s->n_pops; pi++)
            euler_pop_step(s, pi, t);
        /* STDP after the step, with both sides' spikes of step t (the
         * step's deliveries used the weights before it) */
        for (uint32_t k = 0; k < s->n_tables; k++) {
            table_t *tb = &s->tables[k];
            if (tb->sn) {
                const population *a = &s->pops[tb->src], *b = &s->pops[tb->tgt];
                norn_stdp_norse_step(tb->sn, &tb->csr, a->cur_spk, a->n_cur, b->cur_spk, b->n_cur);
            }
        }
        if (s->fail != NORN_OK)
            return s->fail;
        for (uint32_t r = 0; r < s->n_recs; r++) {
            recorder *rc = &s->recs[r];
            if (rc->next >= rc->n_samples || rc->times[rc->next] != norn_grid_time(t + 1, h))
                continue;
            population *p = &s->pops[rc->pop];
            float *row = rc->data + rc->next * (uint64_t)rc->n_vars * rc->n_neurons;
            for (int v = 0; v < rc->n_vars; v++)
                for (uint32_t k = 0; k < rc->n_neurons; k++)
                    row[(uint64_t)v * rc->n_neurons + k] = p->ep.st[rc->vars[v]][rc->neurons[k]];
            rc->next++;
        }
        snapshot_weights(s, norn_grid_time(t + 1, h), 1);
        sample_stp(s, norn_grid_time(t + 1, h), 1, t);
        norn_status st = flush_window(s);
        if (st != NORN_OK)
            return st;
        for (uint32_t pi = 0; pi < s->n_pops; pi++) {
            population *p = &s->pops[pi];
            uint32_t *x = p->prev_spk;
            p->prev_spk = p->cur_spk;
            p->n_prev = p->n_cur;
            p->cur_spk = x;
            p->n_cur = 0;
        }
        s->windows++;
        s->step_next = t + 1;
        s->t_reached = norn_grid_time(t + 1, h);
        if (progress && (t % 100 == 99 || t == T - 1))
            progress(ctx, norn_grid_time(t + 1, h), s->duration);
    }
    s->done = 1;
    return NORN_OK;
}

norn_status norn_sim_begin(norn_sim *s, double duration_ms, norn_err *err)
{
    if (s->ran)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "a simulation runs once");
    if (!(duration_ms > 0) || !isfinite(duration_ms))
        return NORN_FAIL(err, NORN_EINVAL, NULL, "duration must be > 0, got %g", duration_ms);
    s->ran = 1;
    s->err = err;
    s->fail = NORN_OK;
    s->t_reached = 0.0;
    s->done = 0;
    norn_status st;
    if (s->cfg.mode == NORN_MODE_EULER) {
        st = begin_euler(s, duration_ms);
    } else {
        double h = s->cfg.resolution_ms;
        if (s->cfg.mode == NORN_MODE_GRID)
            duration_ms = norn_grid_time(norn_grid_index(duration_ms, h), h);
        st = setup_run(s, duration_ms);
        uint64_t wsteps = s->min_delay_ms > 0 ? (uint64_t)llround(s->min_delay_ms / h) : (uint64_t)llround(fmax(1.0, h) / h);
        s->wsteps = wsteps ? wsteps : 1;
        s->w_next = 0;
    }
    s->started = st == NORN_OK;
    s->err = NULL;
    return st;
}

norn_status norn_sim_run(norn_sim *s, double duration_ms, norn_progress_fn progress, void *ctx,
                         norn_err *err)
{
    norn_status st = norn_sim_begin(s, duration_ms, err);
    return st == NORN_OK ? norn_sim_advance(s, INFINITY, progress, ctx, err) : st;
}

/* Lean lif populations (dense_lif_lean) do not write t_last as they go:
 * all their neurons are at lean_at. Written where the run pauses or ends
 * (checkpoints read it). */
static void lean_lif_sync(norn_sim *s)
{
    for (uint32_t pi = 0; pi < s->n_pops; pi++) {
        population *p = &s->pops[pi];
        if (!p->lean_lif || isnan(p->lean_at))
            continue;
        for (uint32_t i = p->own_lo; i < p->own_hi; i++)
            p->t_last[i] = p->lean_at;
        p->lean_at = NAN;
    }
}

/* Windows from s->w_next on, until t_stop is reached, the run ends or the
 * stop flag is set; at the end the final weights. */
static norn_status run_windows(norn_sim *s, double t_stop, norn_progress_fn progress, void *ctx, norn_err *err)
{
    double h = s->cfg.resolution_ms, duration_ms = s->duration;
    uint64_t wsteps = s->wsteps;
    norn_status st;
    int dense = 0;
    for (uint32_t pi = 0; pi < s->n_pops; pi++)
        dense |= s->pops[pi].dense;
    for (uint64_t w = s->w_next;; w++) {
        double t0 = norn_grid_time((int64_t)(w * wsteps), h);
        if (t0 >= duration_ms)
            break;
        if (t0 >= t_stop || (s->stop && *s->stop)) {
            lean_lif_sync(s);
            return NORN_OK;
        }
        double t1 = norn_grid_time((int64_t)((w + 1) * wsteps), h);
        int last = t1 >= duration_ms;
        if (last)
            t1 = duration_ms;
        for (uint32_t k = 0; k < s->n_tables; k++) {
            table_t *tb = &s->tables[k];
            if (tb->stdp && !norn_stdp_settle(tb->stdp, &tb->csr, tb->tg16, h, t0, 0))
                return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot grow the STDP state");
        }
        cfast_enter_all(s);
        if (dense) {
            window_steps(s, (int64_t)(w * wsteps), norn_grid_index(t1, h), last);
            if (s->fail != NORN_OK)
                return s->fail;
        }
        for (;;) {
            double tq = norn_queue_peek_time(&s->q);
            if (last ? tq > t1 : tq >= t1)
                break;
            sample(s, tq, 0);
            /* every event at tq: inputs are summed, then applied */
            deliver_at(s, tq);
            flush_inputs(s, tq);
            if (s->fail != NORN_OK)
                return s->fail;
        }
        sample(s, t1, last);
        sweep(s, t1, last);
        if (last)
            final_check(s, t1);
        if (s->fail != NORN_OK)
            return s->fail;
        st = flush_window(s);
        if (st != NORN_OK)
            return st;
        s->windows++;
        s->w_next = w + 1;
        s->t_reached = t1;
        if (progress)
            progress(ctx, t1, duration_ms);
        if (last)
            break;
    }
    /* the final weights include every pairing that reached its synapse */
    for (uint32_t k = 0; k < s->n_tables; k++) {
        table_t *tb = &s->tables[k];
        if (tb->stdp && !norn_stdp_settle(tb->stdp, &tb->csr, tb->tg16, h, s->duration, 1))
            return NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot grow the STDP state");
    }
    snapshot_weights(s, s->duration, 1);
    lean_lif_sync(s);
    s->done = 1;
    return s->fail;
}

norn_status norn_sim_advance(norn_sim *s, double t_stop_ms, norn_progress_fn progress, void *ctx, norn_err *err)
{
    if (!s->started)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "advance: the run has not begun (norn_sim_begin)");
    if (s->done)
        return NORN_OK;
    s->err = err;
    s->fail = NORN_OK;
    if (s->cfg.mode != NORN_MODE_EULER)
        state_recheck(s);
    norn_status st = s->cfg.mode == NORN_MODE_EULER ? run_euler(s, t_stop_ms, progress, ctx)
                                                    : run_windows(s, t_stop_ms, progress, ctx, err);
    s->err = NULL;
    return st;
}

void norn_sim_set_stop(norn_sim *s, volatile sig_atomic_t *flag) { s->stop = flag; }
double norn_sim_time(const norn_sim *s) { return s->t_reached; }
int norn_sim_done(const norn_sim *s) { return s->done; }



/* ---------------------------------------------------------------- results */

uint64_t norn_sim_spikes(const norn_sim *s, const double **time_ms, const uint32_t **gid)
{
    *time_ms = s->sp_t;
    *gid = s->sp_gid;
    return s->n_sp;
}

uint64_t norn_sim_pop_spike_count(const norn_sim *s, uint32_t pop) { return s->pops[pop].spikes; }

const char *norn_sim_state_name(const norn_sim *s, uint32_t pop, int var)
{
    const population *p = &s->pops[pop];
    if (p->euler)
        return p->ep.type && var >= 0 && var < p->ep.type->n_state ? p->ep.type->state[var].name : "?";
    return var >= 0 && var < p->mp.type->n_state ? p->mp.type->state[var].name : "?";
}

uint32_t norn_sim_n_weight_recorders(const norn_sim *s) { return s->n_wrecs; }

void norn_sim_weight_recording(const norn_sim *s, uint32_t rec, norn_weight_recording *out)
{
    const wrecorder *q = &s->wrecs[rec];
    out->n_tables = q->n_tables;
    out->tables = q->tables;
    out->n_syn = q->n_syn;
    out->n_snapshots = q->next;
    out->times_ms = q->times;
    out->weights = q->w;
    out->pre = q->pre;
    out->post = q->post;
}

const norn_csr *norn_sim_table_csr(const norn_sim *s, uint32_t table)
{
    table_t *tb = &s->tables[table];
    if (tb->tg16) {
        /* widened again for the caller (NULL targets if that fails) */
        uint32_t *tg = norn_malloc_n(tb->csr.nnz, sizeof(uint32_t));
        if (tg) {
            for (uint64_t q = 0; q < tb->csr.nnz; q++)
                tg[q] = tb->tg16[q];
            norn_free(tb->tg16);
            tb->tg16 = NULL;
            tb->csr.target = tg;
        }
    }
    return &tb->csr;
}

uint32_t norn_sim_n_stp_recorders(const norn_sim *s) { return s->n_srecs; }

void norn_sim_stp_recording(const norn_sim *s, uint32_t rec, norn_stp_recording *out)
{
    const srecorder *q = &s->srecs[rec];
    out->table = q->table;
    out->n_vars = q->n_vars;
    out->vars = q->vars;
    out->n_pre = s->tables[q->table].csr.n_src;
    out->n_samples = q->next;
    out->times_ms = q->times;
    out->data = q->data;
}

uint32_t norn_sim_n_recorders(const norn_sim *s) { return s->n_recs; }

void norn_sim_recording(const norn_sim *s, uint32_t rec, norn_recording *out)
{
    const recorder *r = &s->recs[rec];
    out->pop = r->pop;
    out->n_vars = r->n_vars;
    out->vars = r->vars;
    out->n_neurons = r->n_neurons;
    out->neurons = r->neurons;
    out->n_samples = r->next; /* all of them once the run is done */
    out->times_ms = r->times;
    out->data = r->data;
}

void norn_sim_get_stats(const norn_sim *s, norn_sim_stats *out)
{
    if (s->gathered) { /* MPI: the whole network's */
        *out = s->gst;
        return;
    }
    memset(out, 0, sizeof *out);
    out->neurons = s->n_neurons;
    for (uint32_t k = 0; k < s->n_tables; k++) {
        out->synapses += s->tables[k].csr.nnz;
        uint64_t b = norn_csr_bytes(&s->tables[k].csr);
        if (s->tables[k].tg16) /* counted as 4-byte targets */
            b -= s->tables[k].csr.nnz * (sizeof(uint32_t) - sizeof(uint16_t));
        if (s->tables[k].stdp || s->tables[k].sn) {
            b += s->tables[k].stdp ? norn_stdp_bytes(s->tables[k].stdp) : norn_stdp_norse_bytes(s->tables[k].sn);
            out->plastic_synapses += s->tables[k].csr.nnz;
            out->plastic_bytes += b;
        }
        out->synapse_bytes += b;
    }
    for (uint32_t k = 0; k < s->n_pops; k++)
        out->spikes += s->pops[k].spikes;
    out->synaptic_events = s->events;
    for (uint32_t k = 0; k < s->n_pops; k++)
        out->neuron_updates += s->pops[k].updates;
    out->windows = s->windows;
    out->queue_events = s->queue_events;
    out->duration_ms = s->duration;
    out->min_delay_ms = s->min_delay_ms;
    out->time_reached_ms = s->t_reached;
}

/* checkpoints: engine/sim_ckpt.inc sees this file's internals */
#include "engine/sim_ckpt.inc"

/* ------------------------------------------------------------ MPI results */

uint64_t norn_sim_table_synapses(const norn_sim *s, uint32_t table)
{
    return s->gathered && s->g_nnz ? s->g_nnz[table] : s->tables[table].csr.nnz;
}

void norn_sim_par_exchange(const norn_sim *s, uint64_t *bytes, uint64_t *rounds, double *seconds, double *cpu_seconds)
{
    *bytes = s->px.bytes;
    *rounds = s->px.rounds;
    *seconds = s->px.seconds;
    *cpu_seconds = s->px.cpu_seconds;
}

/* Rank 0: the owners' columns of state recorder rc (every rank's copy is
 * gathered; column k comes from the owner of its neuron). */
static norn_status gather_states(norn_sim *s, recorder *rc, norn_err *err)
{
    uint32_t K = s->cfg.ranks;
    const population *p = &s->pops[rc->pop];
    uint64_t rows = rc->n_samples * (uint64_t)rc->n_vars, cols = rc->n_neurons;
    uint64_t *off = norn_malloc_n(K + 1, sizeof *off);
    norn_status st = norn_par_agree(off ? NORN_OK : NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot gather states"), err);
    if (st != NORN_OK) {
        norn_free(off);
        return st;
    }
    void *all = NULL;
    st = norn__par_gather_root(rc->data, rows * cols * sizeof(float), &all, off, err);
    if (st == NORN_OK && all) {
        for (uint64_t k = 0; k < cols; k++) {
            uint32_t q = norn_par_owner(p->mp.n, K, rc->neurons[k]);
            const float *src = (const float *)((const char *)all + off[q]);
            for (uint64_t r = 0; r < rows; r++)
                rc->data[r * cols + k] = src[r * cols + k];
        }
    }
    norn_free(all);
    norn_free(off);
    return st;
}

/* Rank 0: weight recorder q in the single-process order. Every rank's
 * table is sorted by (source, delay, target) and owns a block of targets
 * below the next rank's, so the whole table is the merge of the ranks'
 * tables by (source, delay), ties to the lower rank. */
static norn_status gather_weights(norn_sim *s, wrecorder *q, norn_err *err)
{
    uint32_t K = s->cfg.ranks, nt = q->n_tables;
    uint64_t n = q->n_syn, n_snap = q->next;
    uint64_t *key = norn_malloc_n(n + 1, sizeof *key), *cnt = norn_malloc_n(nt, sizeof *cnt);
    uint32_t *tgt = norn_malloc_n(n + 1, sizeof *tgt);
    uint64_t *off_k = norn_malloc_n(K + 1, sizeof(uint64_t)), *off_t = norn_malloc_n(K + 1, sizeof(uint64_t));
    uint64_t *off_w = norn_malloc_n(K + 1, sizeof(uint64_t)), *off_c = norn_malloc_n(K + 1, sizeof(uint64_t));
    void *all_k = NULL, *all_t = NULL, *all_w = NULL, *all_c = NULL;
    uint64_t *pos = NULL, *end = NULL;
    norn_status st = NORN_OK;
    if (!key || !cnt || !tgt || !off_k || !off_t || !off_w || !off_c)
        st = NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot gather the weights of %llu synapses", (unsigned long long)n);
    if ((st = norn_par_agree(st, err)) != NORN_OK)
        goto out;
    uint64_t m = 0;
    for (uint32_t j = 0; j < nt && st == NORN_OK; j++) /* 32-bit targets again (a 16-bit table widens) */
        if (!norn_sim_table_csr(s, q->tables[j])->target && s->tables[q->tables[j]].csr.nnz)
            st = NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot widen the targets of table %u", q->tables[j]);
    if ((st = norn_par_agree(st, err)) != NORN_OK)
        goto out;
    for (uint32_t j = 0; j < nt; j++) {
        const norn_csr *c = &s->tables[q->tables[j]].csr;
        cnt[j] = c->nnz;
        for (uint32_t r = 0; r < c->n_src; r++)
            for (uint64_t g = c->seg_ptr[r]; g < c->seg_ptr[r + 1]; g++) {
                uint64_t hi = g + 1 < c->seg_ptr[r + 1] ? c->seg_start[g + 1] : c->row_ptr[r + 1];
                for (uint64_t k = c->seg_start[g]; k < hi; k++, m++) {
                    key[m] = (uint64_t)r << 32 | c->seg_delay[g];
                    tgt[m] = c->target[k];
                }
            }
    }
    if ((st = norn__par_gather_root(cnt, nt * sizeof *cnt, &all_c, off_c, err)) != NORN_OK ||
        (st = norn__par_gather_root(key, n * sizeof *key, &all_k, off_k, err)) != NORN_OK ||
        (st = norn__par_gather_root(tgt, n * sizeof *tgt, &all_t, off_t, err)) != NORN_OK ||
        (st = norn__par_gather_root(q->w, n_snap * n * sizeof(float), &all_w, off_w, err)) != NORN_OK)
        goto out;
    if (s->cfg.rank != 0)
        goto out;
    /* rank 0 alone from here on */
    const uint64_t *C = all_c;
    uint64_t total = 0;
    for (uint64_t i = 0; i < (uint64_t)K * nt; i++)
        total += C[i];
    pos = norn_malloc_n(K, sizeof *pos);
    end = norn_malloc_n(K, sizeof *end);
    uint32_t *pre = norn_malloc_n(total + 1, sizeof *pre), *post = norn_malloc_n(total + 1, sizeof *post);
    uint32_t *from_r = norn_malloc_n(total + 1, sizeof *from_r);
    uint64_t *from_i = norn_malloc_n(total + 1, sizeof *from_i);
    float *w = norn_malloc_n(n_snap * total + 1, sizeof *w);
    if (!pos || !end || !pre || !post || !from_r || !from_i || !w) {
        norn_free(pre);
        norn_free(post);
        norn_free(from_r);
        norn_free(from_i);
        norn_free(w);
        st = NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot merge the weights of %llu synapses", (unsigned long long)total);
        goto out;
    }
    for (uint32_t r = 0; r < K; r++)
        pos[r] = 0;
    uint64_t g = 0, t_off = 0;
    for (uint32_t j = 0; j < nt; j++) {
        for (uint32_t r = 0; r < K; r++)
            end[r] = pos[r] + C[(uint64_t)r * nt + j];
        for (;;) {
            uint32_t best = K;
            uint64_t bk = 0;
            for (uint32_t r = 0; r < K; r++) {
                if (pos[r] == end[r])
                    continue;
                uint64_t kk = ((const uint64_t *)((const char *)all_k + off_k[r]))[pos[r]];
                if (best == K || kk < bk) {
                    best = r;
                    bk = kk;
                }
            }
            if (best == K)
                break;
            pre[g] = (uint32_t)(bk >> 32);
            post[g] = (uint32_t)t_off + ((const uint32_t *)((const char *)all_t + off_t[best]))[pos[best]];
            from_r[g] = best;
            from_i[g] = pos[best]++;
            g++;
        }
        t_off += s->tables[q->tables[j]].csr.n_tgt;
    }
    for (uint64_t k = 0; k < n_snap; k++)
        for (uint64_t x = 0; x < total; x++) {
            uint32_t r = from_r[x];
            uint64_t nr = (off_t[r + 1] - off_t[r]) / sizeof(uint32_t);
            w[k * total + x] = ((const float *)((const char *)all_w + off_w[r]))[k * nr + from_i[x]];
        }
    norn_free(from_r);
    norn_free(from_i);
    norn_free(q->w);
    q->w = w;
    q->n_syn = total;
    q->pre = pre;
    q->post = post;
out:
    norn_free(key);
    norn_free(cnt);
    norn_free(tgt);
    norn_free(off_k);
    norn_free(off_t);
    norn_free(off_w);
    norn_free(off_c);
    norn_free(all_k);
    norn_free(all_t);
    norn_free(all_w);
    norn_free(all_c);
    norn_free(pos);
    norn_free(end);
    return st;
}

norn_status norn_sim_par_gather(norn_sim *s, norn_err *err)
{
    if (s->cfg.ranks <= 1 || s->gathered)
        return NORN_OK;
    norn_sim_stats st;
    norn_sim_get_stats(s, &st);
    uint64_t v[8] = {st.synapses,        st.synapse_bytes, st.spikes,       st.synaptic_events,
                     st.plastic_synapses, st.plastic_bytes, st.queue_events, st.neuron_updates};
    uint64_t *pc = norn_malloc_n(s->n_pops + 1, sizeof *pc);
    s->g_nnz = norn_malloc_n(s->n_tables + 1, sizeof *s->g_nnz);
    norn_status rc = norn_par_agree(pc && s->g_nnz ? NORN_OK : NORN_FAIL(err, NORN_ENOMEM, NULL, "cannot gather"), err);
    if (rc != NORN_OK) {
        norn_free(pc);
        return rc;
    }
    norn__par_sum_u64(v, 8);
    for (uint32_t k = 0; k < s->n_pops; k++)
        pc[k] = s->pops[k].spikes;
    norn__par_sum_u64(pc, s->n_pops);
    for (uint32_t k = 0; k < s->n_pops; k++)
        s->pops[k].spikes = pc[k];
    norn_free(pc);
    for (uint32_t k = 0; k < s->n_tables; k++)
        s->g_nnz[k] = s->tables[k].csr.nnz;
    norn__par_sum_u64(s->g_nnz, s->n_tables);
    st.synapses = v[0];
    st.synapse_bytes = v[1];
    st.spikes = v[2];
    st.synaptic_events = v[3];
    st.plastic_synapses = v[4];
    st.plastic_bytes = v[5];
    st.queue_events = v[6];
    st.neuron_updates = v[7];
    for (uint32_t r = 0; r < s->n_recs && rc == NORN_OK; r++)
        rc = gather_states(s, &s->recs[r], err);
    for (uint32_t k = 0; k < s->n_wrecs && rc == NORN_OK; k++)
        rc = gather_weights(s, &s->wrecs[k], err);
    s->gst = st;
    s->gathered = 1;
    return rc;
}
