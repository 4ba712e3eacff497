/* tests/test_models_nl.c - the integrator (models/ode.h) and the models
 * li, alif, lif_cond, izhikevich, adex against analytic solutions and an
 * independent reference written here: classical RK4 in long double with a
 * small step (1e-4 ms, shorter where |dV/dt| is large: at most 0.02 mV per
 * step) and bisection on the last step for threshold crossings, with the
 * models' event, refractory and grid semantics re-implemented from their
 * documentation.
 *
 * Tolerances checked (see the models' headers for what they state):
 *  - li, alif: exact closed forms, 1e-9 mV / 1e-9 ms;
 *  - lif_cond, izhikevich, adex (Dormand-Prince 5(4), 1e-10 per step):
 *    spike times within 1e-6 ms of the reference, subthreshold V at sampled
 *    times within 1e-6 mV; through the engine the recorder keeps float32,
 *    compared to 1e-4 mV;
 *  - grid mode: the same spikes on the grid as the reference's grid
 *    semantics, bit-identical whether or not a recorder splits the run.
 *
 * lif_cond's fixed grid step (grid_substeps >= 1, RK4, the default)
 * against the adaptive integrator and closed forms, and split advances
 * bit for bit equal to step-by-step ones.
 *
 * Every expectation can be broken on purpose: compile with -DNL_BREAK=k
 * (k = 1 .. 54) and the test guarding item k must fail.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/rng.h"
#include "engine/sim.h"
#include "models/model.h"
#include "models/ode.h"
#include "testutil.h"

#ifndef NL_BREAK
#define NL_BREAK 0
#endif
#define BROKEN(k) (NL_BREAK == (k))

typedef long double ld;

/* ------------------------------------------------------------ helpers */

typedef struct {
    const char *name;
    double v;
} kv;

static void fill_params(const norn_model_type *t, double *p, const kv *o, int no)
{
    for (int k = 0; k < t->n_params; k++)
        p[k] = t->params[k].def;
    for (int k = 0; k < no; k++) {
        int i = norn_model_param_index(t, o[k].name);
        ck_assert_msg(i >= 0, "%s has no parameter %s", t->name, o[k].name);
        p[i] = o[k].v;
    }
}

static double param(const norn_model_type *t, const double *p, const char *name)
{
    int i = norn_model_param_index(t, name);
    ck_assert_int_ge(i, 0);
    return p[i];
}

/* One neuron of a model, driven directly through its type functions. */
static norn_model_pop make_pop(const char *model, norn_mode mode, double h, const kv *o, int no)
{
    norn_model_pop mp;
    memset(&mp, 0, sizeof mp);
    mp.type = norn_model_find(model);
    ck_assert_ptr_nonnull(mp.type);
    mp.n = 1;
    mp.h = h;
    mp.mode = mode;
    fill_params(mp.type, mp.p, o, no);
    norn_err err;
    ck_assert_msg(mp.type->compile(&mp, "test", &err) == NORN_OK, "%s", err.msg);
    for (int v = 0; v < mp.type->n_state + mp.type->n_hidden; v++) {
        mp.st[v] = calloc(1, sizeof(double));
        int ip = v < mp.type->n_state ? mp.type->state[v].init_param : -1;
        mp.st[v][0] = ip >= 0 ? mp.p[ip] : 0;
    }
    mp.ref_until = malloc(sizeof(double));
    mp.ref_until[0] = -INFINITY;
    if (mp.type->start)
        mp.type->start(&mp);
    return mp;
}

static void free_pop(norn_model_pop *mp)
{
    for (int v = 0; v < mp->type->n_state + mp->type->n_hidden; v++)
        free(mp->st[v]);
    free(mp->ref_until);
}

static double *state_of(norn_model_pop *mp, const char *var)
{
    int k = norn_model_state_index(mp->type, var);
    ck_assert_int_ge(k, 0);
    return mp->st[k];
}

typedef struct {
    double t, w;
} ev_in;

static int cmp_ev(const void *a, const void *b)
{
    const ev_in *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* Drives one neuron as the engine does: advance between event times,
 * every crossing fired; inputs at a time summed per channel, then the
 * threshold tested; samples of V after the events at their time. */
static size_t drive(norn_model_pop *mp, const ev_in *in, size_t nin, const double *samp, size_t ns, double *sv,
                    double T, double *sp, size_t cap)
{
    const norn_model_type *ty = mp->type;
    double t = 0;
    size_t ki = 0, ks = 0, nsp = 0;
    for (;;) {
        double te = T;
        if (ki < nin && in[ki].t < te)
            te = in[ki].t;
        if (ks < ns && samp[ks] < te)
            te = samp[ks];
        double tc;
        while (ty->advance(mp, 0, t, te, &tc)) {
            if (nsp < cap)
                sp[nsp] = tc;
            nsp++;
            ty->fire(mp, 0, tc);
            t = tc;
        }
        t = te;
        double w0 = 0, w1 = 0;
        while (ki < nin && in[ki].t == te) {
            if (ty->n_channels > 1 && in[ki].w < 0)
                w1 += in[ki].w;
            else
                w0 += in[ki].w;
            ki++;
        }
        if (w0 != 0)
            ty->input(mp, 0, te, w0);
        if (w1 != 0)
            ty->input(mp, 0, te, w1);
        if (ty->above(mp, 0, te)) {
            if (nsp < cap)
                sp[nsp] = te;
            nsp++;
            ty->fire(mp, 0, te);
        }
        while (ks < ns && samp[ks] == te)
            sv[ks++] = mp->st[ty->v_index][0];
        if (te >= T && (ki >= nin || in[ki].t > T) && (ks >= ns || samp[ks] > T))
            break;
    }
    return nsp;
}

/* One neuron through the engine: spike trains grouped by weight, a DC
 * step at 0 (if dc != 0), optional recording of V every rec_ms. */
static norn_sim *engine_run(const char *model, norn_mode mode, const kv *o, int no, double dc, const ev_in *in,
                            size_t nin, double T, double rec_ms, uint32_t *rec)
{
    norn_sim_config cfg = {.resolution_ms = 0.1, .mode = mode, .seed = 7};
    norn_sim *s = NULL;
    norn_err err;
    ck_assert_int_eq(norn_sim_create(&cfg, &s, &err), NORN_OK);
    const norn_model_type *t = norn_model_find(model);
    ck_assert_ptr_nonnull(t);
    double p[NORN_MAX_PARAMS];
    fill_params(t, p, o, no);
    uint32_t pop;
    ck_assert_msg(norn_sim_add_population(s, "n", t, 1, p, "test", &pop, &err) == NORN_OK, "%s", err.msg);
    double wts[16];
    int nw = 0;
    for (size_t k = 0; k < nin; k++) {
        int f = 0;
        for (int j = 0; j < nw; j++)
            f |= wts[j] == in[k].w;
        if (!f && nw < 16)
            wts[nw++] = in[k].w;
    }
    double *times = malloc((nin ? nin : 1) * sizeof(double));
    for (int j = 0; j < nw; j++) {
        size_t n = 0;
        for (size_t k = 0; k < nin; k++)
            if (in[k].w == wts[j])
                times[n++] = in[k].t;
        ck_assert_int_eq(norn_sim_add_spike_train(s, pop, n, times, NULL, wts[j], &err), NORN_OK);
    }
    free(times);
    if (dc != 0) {
        double t0 = 0;
        ck_assert_int_eq(norn_sim_add_dc(s, pop, 1, &t0, &dc, &err), NORN_OK);
    }
    if (rec_ms > 0) {
        int vars[1] = {t->v_index};
        uint32_t nn[1] = {0};
        ck_assert_int_eq(norn_sim_record_state(s, pop, vars, 1, nn, 1, rec_ms, rec, &err), NORN_OK);
    }
    ck_assert_msg(norn_sim_run(s, T, NULL, NULL, &err) == NORN_OK, "%s", err.msg);
    return s;
}

/* ------------------------------------------------ the RK4 reference */

typedef struct rmodel rmodel;
struct rmodel {
    int n;
    ld p[NORN_MAX_PARAMS];
    ld I; /* I_e + DC */
    /* frozen: V fixed at y[0] (refractory, or held at the peak) */
    void (*f)(const rmodel *m, const ld *y, ld *dy, int frozen);
    ld (*ev)(const rmodel *m, const ld *y); /* >= 0: at or above threshold */
    void (*reset)(const rmodel *m, ld *y);
    void (*input)(const rmodel *m, ld *y, double w);
    ld t_ref;
    ld level;   /* V held there after a crossing inside a grid step */
    int within; /* grid: a crossing inside a step counts (izhikevich, adex) */
};

static void rk4(const rmodel *m, const ld *y, ld h, ld *out, int frozen)
{
    ld k1[8], k2[8], k3[8], k4[8], t[8];
    int n = m->n;
    m->f(m, y, k1, frozen);
    for (int i = 0; i < n; i++)
        t[i] = y[i] + 0.5L * h * k1[i];
    m->f(m, t, k2, frozen);
    for (int i = 0; i < n; i++)
        t[i] = y[i] + 0.5L * h * k2[i];
    m->f(m, t, k3, frozen);
    for (int i = 0; i < n; i++)
        t[i] = y[i] + h * k3[i];
    m->f(m, t, k4, frozen);
    for (int i = 0; i < n; i++)
        out[i] = y[i] + h / 6.0L * (k1[i] + 2.0L * k2[i] + 2.0L * k3[i] + k4[i]);
}

static const ld H_REF = 1e-4L;

static ld ref_step(const rmodel *m, const ld *y, ld room, int frozen)
{
    ld dy[8];
    m->f(m, y, dy, frozen);
    ld h = H_REF;
    if (!frozen && fabsl(dy[0]) * h > 0.02L)
        h = 0.02L / fabsl(dy[0]);
    return h < room ? h : room;
}

/* Integrates y from t to te (free flow unless frozen). With detect: stops at
 * the first crossing (bisection on the RK4 step size) and returns 1 with *t
 * there. */
static int ref_flow(const rmodel *m, ld *y, ld *t, ld te, int frozen, int detect)
{
    ld y1[8];
    while (*t < te) {
        ld h = ref_step(m, y, te - *t, frozen);
        int last = *t + h >= te;
        if (last)
            h = te - *t;
        rk4(m, y, h, y1, frozen);
        if (detect && m->ev(m, y1) >= 0) {
            ld lo = 0, hi = h;
            for (int it = 0; it < 200 && hi - lo > 1e-19L * (1 + *t); it++) {
                ld mid = 0.5L * (lo + hi);
                rk4(m, y, mid, y1, 0);
                if (m->ev(m, y1) >= 0)
                    hi = mid;
                else
                    lo = mid;
            }
            rk4(m, y, hi, y1, 0);
            memcpy(y, y1, sizeof(ld) * (size_t)m->n);
            *t += hi;
            return 1;
        }
        memcpy(y, y1, sizeof(ld) * (size_t)m->n);
        *t = last ? te : *t + h;
    }
    return 0;
}

static void ref_inputs(const rmodel *m, ld *y, const ev_in *in, size_t nin, size_t *ki, double te)
{
    double w0 = 0, w1 = 0;
    while (*ki < nin && in[*ki].t == te) {
        if (in[*ki].w < 0)
            w1 += in[*ki].w;
        else
            w0 += in[*ki].w;
        (*ki)++;
    }
    if (w0 != 0)
        m->input(m, y, w0);
    if (w1 != 0)
        m->input(m, y, w1);
}

/* Continuous semantics. Returns the number of spikes. */
static size_t ref_cont(const rmodel *m, ld *y, double T, const ev_in *in, size_t nin, const double *samp, size_t ns,
                       double *sv, double *sd, double *sp, size_t cap)
{
    ld t = 0, ref_until = -1e30L;
    size_t ki = 0, ks = 0, nsp = 0;
    for (;;) {
        ld te = T;
        if (ki < nin && in[ki].t < te)
            te = in[ki].t;
        if (ks < ns && samp[ks] < te)
            te = samp[ks];
        while (t < te) {
            if (t < ref_until) {
                ld tt = ref_until < te ? ref_until : te;
                ref_flow(m, y, &t, tt, 1, 0);
                continue;
            }
            if (ref_flow(m, y, &t, te, 0, 1)) {
                if (nsp < cap)
                    sp[nsp] = (double)t;
                nsp++;
                m->reset(m, y);
                ref_until = t + m->t_ref;
            }
        }
        t = te;
        ref_inputs(m, y, in, nin, &ki, (double)te);
        if (t > ref_until && m->ev(m, y) >= 0) {
            if (nsp < cap)
                sp[nsp] = (double)t;
            nsp++;
            m->reset(m, y);
            ref_until = t + m->t_ref;
        }
        while (ks < ns && samp[ks] == (double)te) {
            ld dy[8];
            m->f(m, y, dy, t <= ref_until);
            if (sd)
                sd[ks] = (double)dy[0];
            sv[ks++] = (double)y[0];
        }
        if (te >= T && (ki >= nin || in[ki].t > T) && (ks >= ns || samp[ks] > T))
            break;
    }
    return nsp;
}

/* Grid semantics on the grid of h: V tested at grid points after the
 * inputs there; within: a crossing inside a step holds V at the level
 * until the step's end. *margin: the smallest distance of a tested V from
 * the threshold (point mode) or of a crossing from a grid point (within). */
static size_t ref_grid(const rmodel *m, ld *y, double h, int64_t nsteps, const ev_in *in, size_t nin, double *sp,
                       size_t cap, double *margin)
{
    int64_t nref = (int64_t)llroundl(m->t_ref / h), ref_end = -1;
    size_t ki = 0, nsp = 0;
    double mg = INFINITY;
    for (int64_t k = 0; k < nsteps; k++) {
        ld ta = norn_grid_time(k, h), tb = norn_grid_time(k + 1, h), t = ta;
        if (k + 1 <= ref_end) {
            ref_flow(m, y, &t, tb, 1, 0);
        } else if (m->within) {
            if (ref_flow(m, y, &t, tb, 0, 1)) {
                mg = fmin(mg, (double)fminl(t - ta, tb - t));
                y[0] = m->level;
                ref_flow(m, y, &t, tb, 1, 0);
            }
        } else {
            ref_flow(m, y, &t, tb, 0, 0);
        }
        double tg = norn_grid_time(k + 1, h);
        ref_inputs(m, y, in, nin, &ki, tg);
        if (k + 1 > ref_end) {
            if (!m->within)
                mg = fmin(mg, (double)fabsl(m->ev(m, y)));
            if (m->ev(m, y) >= 0) {
                if (nsp < cap)
                    sp[nsp] = tg;
                nsp++;
                m->reset(m, y);
                ref_end = k + 1 + nref;
            }
        }
    }
    *margin = mg;
    return nsp;
}

/* ---- reference models (equations re-typed from the model headers) */

static const norn_model_type *rtype; /* model of the reference being set up */

static void rmodel_params(rmodel *m, const char *model, const kv *o, int no)
{
    const norn_model_type *t = norn_model_find(model);
    double p[NORN_MAX_PARAMS];
    fill_params(t, p, o, no);
    for (int k = 0; k < t->n_params; k++)
        m->p[k] = p[k];
    rtype = t;
}

/* parameter by name of the model last set up (test-local convenience) */
static ld pn(const rmodel *m, const char *name)
{
    int i = norn_model_param_index(rtype, name);
    ck_assert_int_ge(i, 0);
    return m->p[i];
}

/* lif_cond: y = V, g_ex, g_in */
typedef struct {
    ld gL, C, EL, Eex, Ein, tex, tin, Vth, Vr;
} lc_par;
static lc_par lc;

static void lc_f(const rmodel *m, const ld *y, ld *dy, int frozen)
{
    ld V = y[0];
    dy[0] = frozen ? 0 : (-lc.gL * (V - lc.EL) - y[1] * (V - lc.Eex) - y[2] * (V - lc.Ein) + m->I) / lc.C;
    dy[1] = -y[1] / lc.tex;
    dy[2] = -y[2] / lc.tin;
}
static ld lc_ev(const rmodel *m, const ld *y)
{
    (void)m;
    return y[0] - lc.Vth;
}
static void lc_reset(const rmodel *m, ld *y)
{
    (void)m;
    y[0] = lc.Vr;
}
static void lc_input(const rmodel *m, ld *y, double w)
{
    (void)m;
    if (w >= 0)
        y[1] += w;
    else
        y[2] -= w;
}

static rmodel ref_lif_cond(const kv *o, int no, double I)
{
    rmodel m;
    memset(&m, 0, sizeof m);
    rmodel_params(&m, "lif_cond", o, no);
    lc = (lc_par){pn(&m, "g_L"),        pn(&m, "C_m"),        pn(&m, "E_L"),  pn(&m, "E_ex"),   pn(&m, "E_in"),
                  pn(&m, "tau_syn_ex"), pn(&m, "tau_syn_in"), pn(&m, "V_th"), pn(&m, "V_reset")};
    m.n = 3;
    m.I = pn(&m, "I_e") + I;
    m.f = lc_f;
    m.ev = lc_ev;
    m.reset = lc_reset;
    m.input = lc_input;
    m.t_ref = pn(&m, "t_ref");
    return m;
}

/* izhikevich: y = V, U */
typedef struct {
    ld a, b, c, d, Vth;
} iz_par;
static iz_par iz;

static void iz_f(const rmodel *m, const ld *y, ld *dy, int frozen)
{
    ld v = y[0], u = y[1];
    dy[0] = frozen ? 0 : 0.04L * v * v + 5.0L * v + 140.0L - u + m->I;
    dy[1] = iz.a * (iz.b * v - u);
}
static ld iz_ev(const rmodel *m, const ld *y)
{
    (void)m;
    return y[0] - iz.Vth;
}
static void iz_reset(const rmodel *m, ld *y)
{
    (void)m;
    y[0] = iz.c;
    y[1] += iz.d;
}
static void iz_input(const rmodel *m, ld *y, double w)
{
    (void)m;
    y[0] += w;
}

static rmodel ref_izh(const kv *o, int no, double I)
{
    rmodel m;
    memset(&m, 0, sizeof m);
    rmodel_params(&m, "izhikevich", o, no);
    iz = (iz_par){pn(&m, "a"), pn(&m, "b"), pn(&m, "c"), pn(&m, "d"), pn(&m, "V_th")};
    m.n = 2;
    m.I = pn(&m, "I_e") + I;
    m.f = iz_f;
    m.ev = iz_ev;
    m.reset = iz_reset;
    m.input = iz_input;
    m.t_ref = 0;
    m.level = iz.Vth;
    m.within = 1;
    return m;
}

/* adex: y = V, g_ex, g_in, w */
typedef struct {
    ld C, gL, EL, VT, DT, tw, a, b, Vr, Vp, Eex, Ein, tex, tin;
} ax_par;
static ax_par ax;

static void ax_f(const rmodel *m, const ld *y, ld *dy, int frozen)
{
    ld V = y[0] < ax.Vp ? y[0] : ax.Vp;
    ld isp = ax.DT > 0 ? ax.gL * ax.DT * expl((V - ax.VT) / ax.DT) : 0;
    dy[0] = frozen ? 0 : (-ax.gL * (V - ax.EL) + isp - y[1] * (V - ax.Eex) - y[2] * (V - ax.Ein) - y[3] + m->I) / ax.C;
    dy[1] = -y[1] / ax.tex;
    dy[2] = -y[2] / ax.tin;
    dy[3] = (ax.a * (V - ax.EL) - y[3]) / ax.tw;
}
static ld ax_ev(const rmodel *m, const ld *y) { return y[0] - m->level; }
static void ax_reset(const rmodel *m, ld *y)
{
    (void)m;
    y[0] = ax.Vr;
    y[3] += ax.b;
}

static rmodel ref_adex(const kv *o, int no, double I)
{
    rmodel m;
    memset(&m, 0, sizeof m);
    rmodel_params(&m, "adex", o, no);
    ax = (ax_par){pn(&m, "C_m"),   pn(&m, "g_L"),  pn(&m, "E_L"),        pn(&m, "V_th"),      pn(&m, "Delta_T"),
                  pn(&m, "tau_w"), pn(&m, "a"),    pn(&m, "b"),          pn(&m, "V_reset"),   pn(&m, "V_peak"),
                  pn(&m, "E_ex"),  pn(&m, "E_in"), pn(&m, "tau_syn_ex"), pn(&m, "tau_syn_in")};
    m.n = 4;
    m.I = pn(&m, "I_e") + I;
    m.f = ax_f;
    m.ev = ax_ev;
    m.reset = ax_reset;
    m.input = lc_input; /* same routing by sign into y[1], y[2] */
    m.t_ref = pn(&m, "t_ref");
    m.level = ax.DT > 0 ? ax.Vp : ax.VT;
    m.within = 1;
    return m;
}

/* alif: y = V, I_ex, I_in, theta */
typedef struct {
    ld tm, tex, tin, C, EL, Vth, Vr, tth, q;
} al_par;
static al_par al;

static void al_f(const rmodel *m, const ld *y, ld *dy, int frozen)
{
    dy[0] = frozen ? 0 : -(y[0] - al.EL) / al.tm + (y[1] + y[2] + m->I) / al.C;
    dy[1] = -y[1] / al.tex;
    dy[2] = -y[2] / al.tin;
    dy[3] = -y[3] / al.tth;
}
static ld al_ev(const rmodel *m, const ld *y)
{
    (void)m;
    return y[0] - al.Vth - y[3];
}
static void al_reset(const rmodel *m, ld *y)
{
    (void)m;
    y[0] = al.Vr;
    y[3] += al.q;
}
static void al_input(const rmodel *m, ld *y, double w)
{
    (void)m;
    if (w >= 0)
        y[1] += w;
    else
        y[2] += w;
}

static rmodel ref_alif(const kv *o, int no, double I)
{
    rmodel m;
    memset(&m, 0, sizeof m);
    rmodel_params(&m, "alif", o, no);
    al = (al_par){pn(&m, "tau_m"), pn(&m, "tau_syn_ex"), pn(&m, "tau_syn_in"), pn(&m, "C_m"),    pn(&m, "E_L"),
                  pn(&m, "V_th"),  pn(&m, "V_reset"),    pn(&m, "tau_theta"),  pn(&m, "q_theta")};
    m.n = 4;
    m.I = pn(&m, "I_e") + I;
    m.f = al_f;
    m.ev = al_ev;
    m.reset = al_reset;
    m.input = al_input;
    m.t_ref = pn(&m, "t_ref");
    return m;
}

static void ref_init(const rmodel *m, const char *model, ld *y)
{
    const norn_model_type *t = norn_model_find(model);
    for (int v = 0; v < t->n_state; v++) {
        int ip = t->state[v].init_param;
        y[v] = ip >= 0 ? m->p[ip] : 0;
    }
}

/* ------------------------------------------------ comparisons */

static void compare_spikes(const char *what, const double *got, size_t ng, const double *want, size_t nw, double tol)
{
    if (ng != nw)
        for (size_t k = 0; k < 12 && (k < ng || k < nw); k++)
            printf("%s: spike %zu: %.12g  reference %.12g\n", what, k, k < ng ? got[k] : NAN, k < nw ? want[k] : NAN);
    ck_assert_msg(ng == nw, "%s: %zu spikes, reference %zu", what, ng, nw);
    double worst = 0;
    for (size_t k = 0; k < nw; k++) {
        double e = fabs(got[k] - want[k]);
        worst = fmax(worst, e);
        ck_assert_msg(e <= tol, "%s spike %zu: %.15g vs reference %.15g (tol %g)", what, k, got[k], want[k], tol);
    }
    printf("%-40s %4zu spikes, worst |dt| %.3g ms\n", what, nw, worst);
}

/* V at samples: within tol where the reference is subthreshold (|dV/dt| <=
 * 10 mV/ms); in an upstroke V is compared through its phase instead:
 * within tol + |dV/dt| * 1e-6 ms, the spike-time tolerance. */
static void compare_v(const char *what, const double *got, const double *want, const double *slope, size_t n,
                      double tol)
{
    double worst = 0, worst_up = 0;
    size_t n_up = 0;
    for (size_t k = 0; k < n; k++) {
        double e = fabs(got[k] - want[k]), sl = fabs(slope[k]);
        double tk = sl <= 10 ? tol : tol + sl * 1e-6;
        if (sl <= 10)
            worst = fmax(worst, e);
        else {
            n_up++;
            worst_up = fmax(worst_up, e / sl);
        }
        ck_assert_msg(e <= tk, "%s sample %zu: V %.15g vs reference %.15g (dV/dt %g, tol %g)", what, k, got[k], want[k],
                      slope[k], tk);
    }
    printf("%-40s %4zu samples, worst |dV| %.3g mV (%zu in upstrokes: worst phase %.3g ms)\n", what, n - n_up, worst,
           n_up, worst_up);
}

/* ================================================================ ode */

typedef struct {
    double lam, om;
} osc_ctx;

/* y0' = -lam y0 - om y1, y1' = om y0 - lam y1: y = e^{-lam t} (cos, sin) */
static void osc(const double *y, double *dy, const void *c)
{
    const osc_ctx *o = c;
    dy[0] = -o->lam * y[0] - o->om * y[1];
    dy[1] = o->om * y[0] - o->lam * y[1];
}

static norn_ode_sys osc_sys(const osc_ctx *c, int ev, double level)
{
    norn_ode_sys s;
    memset(&s, 0, sizeof s);
    s.n = 2;
    s.f = osc;
    s.ctx = c;
    s.rtol = 1e-10;
    s.atol[0] = s.atol[1] = 1e-10;
    s.h_max = 100;
    s.ev = ev;
    s.ev_level = level;
    s.ev_tol = 1e-12;
    return s;
}

/* Global error against the exact solution, integrated in uneven pieces. */
START_TEST(test_ode_exact)
{
    osc_ctx c = {0.1, 1.0};
    norn_ode_sys s = osc_sys(&c, -1, 0);
    double y[2] = {1, 0}, h = 0, t = 0, sev;
    norn_ode_stats st = {0, 0, 0, 0};
    double worst = 0;
    for (int k = 1; k <= 200; k++) {
        double t1 = 0.1 * k + 0.037 * (k % 3);
        ck_assert_int_eq(norn_ode_integrate(&s, t1 - t, y, &h, &sev, &st), 0);
        t = t1;
        double e0 = exp(-0.1 * t) * cos(t), e1 = exp(-0.1 * t) * sin(t);
        worst = fmax(worst, fmax(fabs(y[0] - e0), fabs(y[1] - e1)));
    }
    printf("ode: oscillator to t=%g: %llu steps, %llu rejected, worst error %.3g\n", t, (unsigned long long)st.steps,
           (unsigned long long)st.rejected, worst);
    ck_assert_msg(worst < (BROKEN(1) ? 1e-14 : 1e-8), "global error %g", worst);
    ck_assert_uint_eq(st.forced, 0);
}
END_TEST

/* y0 = sin t: first crossing of a level found inside a long step, never
 * early, at most ev_tol late; a narrow excursion found; none reported
 * when the level is not reached. */
START_TEST(test_ode_crossing)
{
    osc_ctx c = {0.0, 1.0};
    const double levels[] = {0.5, 0.9, 0.999999, 1.0 - 1e-9};
    for (unsigned k = 0; k < 4; k++) {
        double L = levels[k];
        norn_ode_sys s = osc_sys(&c, 1, L);
        double y[2] = {1, 0}, h = 50.0, sev = -1; /* (cos, sin): crossings of sin */
        ck_assert_int_eq(norn_ode_integrate(&s, 20.0, y, &h, &sev, NULL), 1);
        double exact = asin(L) + (BROKEN(2) ? 1e-6 : 0);
        /* the dense output is within ~1e-10 of sin; at the top (L near 1)
         * the time is only determined to sqrt of that */
        double tol = k < 2 ? 1e-9 : 3e-5;
        ck_assert_msg(fabs(sev - exact) <= tol, "level %.12g: crossing %.15g, exact %.15g", L, sev, exact);
        ck_assert(y[1] >= L);
    }
    /* level above the maximum: no crossing, state at T */
    norn_ode_sys s = osc_sys(&c, 1, 1.0 + 1e-6);
    double y[2] = {1, 0}, h = 0, sev = -1;
    ck_assert_int_eq(norn_ode_integrate(&s, 20.0, y, &h, &sev, NULL), 0);
    ck_assert(fabs(y[1] - sin(20.0)) < 1e-8);
}
END_TEST

/* The grid driver gives bit-identical states however the run is split. */
START_TEST(test_ode_grid_split)
{
    osc_ctx c = {0.05, 2.0};
    norn_ode_sys s = osc_sys(&c, -1, 0);
    double ya[2] = {1, 0}, yb[2] = {1, 0}, ha = 0, hb = 0, sin_;
    int64_t kh;
    ck_assert_int_eq(norn_ode_grid(&s, 0, 1000, 0.1, 0, ya, &ha, &kh, &sin_, NULL), 0);
    int64_t cuts[] = {0, 3, 4, 250, 251, 999, 1000};
    for (int k = 0; k < 6; k++)
        ck_assert_int_eq(norn_ode_grid(&s, cuts[k], cuts[k + 1], 0.1, 0, yb, &hb, &kh, &sin_, NULL), 0);
    if (BROKEN(3))
        yb[0] = nextafter(yb[0], INFINITY);
    ck_assert(memcmp(ya, yb, sizeof ya) == 0);
    ck_assert(fabs(ya[0] - exp(-0.05 * 100) * cos(200.0)) < 1e-8);
    /* point test at grid points: sin crosses 0.5 first inside (0.5, 0.6]
     * (asin(0.5)/2 = 0.2618 ms -> y1 = sin(2t) >= 0.5 from t = 0.2618):
     * first grid point with y1 >= 0.5 is 0.3 */
    osc_ctx c2 = {0.0, 2.0};
    norn_ode_sys s2 = osc_sys(&c2, 1, 0.5);
    double y[2] = {1, 0}, h = 0;
    ck_assert_int_eq(norn_ode_grid(&s2, 0, 100, 0.1, 0, y, &h, &kh, &sin_, NULL), 1);
    ck_assert_int_eq(kh, 3);
    ck_assert(fabs(y[1] - sin(0.6)) < 1e-9);
    /* within: the crossing inside (0.2, 0.3] is reported at step end 3,
     * the state at the crossing */
    double z[2] = {1, 0};
    h = 0;
    ck_assert_int_eq(norn_ode_grid(&s2, 0, 100, 0.1, 1, z, &h, &kh, &sin_, NULL), 1);
    ck_assert_int_eq(kh, 3);
    ck_assert(fabs(0.2 + sin_ - asin(0.5) / 2) < 1e-9);
}
END_TEST

/* ================================================================ li */

static long double psp(long double q, long double C, long double tm, long double ts, long double t)
{
    if (tm == ts)
        return q / C * t * expl(-t / tm);
    return q / C * (expl(-t / tm) - expl(-t / ts)) / (1.0L / ts - 1.0L / tm);
}

START_TEST(test_li_psp)
{
    const double tss[] = {2.0, 10.0, 5.0};
    for (int mode = 0; mode < 2; mode++)
        for (int k = 0; k < 3; k++)
            for (int sign = 0; sign < 2; sign++) {
                double ts = tss[k];
                kv o[] = {{"tau_syn_ex", ts}, {"tau_syn_in", ts}, {"I_e", 100.0}};
                norn_model_pop mp = make_pop("li", mode ? NORN_MODE_GRID : NORN_MODE_CONTINUOUS, 0.1, o, 3);
                double w = sign ? -300.0 : 300.0, tc;
                /* start at the DC rest: V_inf = -70 + 100 * 10/250 = -66 */
                state_of(&mp, "V_m")[0] = -66.0;
                ck_assert_int_eq(mp.type->advance(&mp, 0, 0.0, 1.3, &tc), 0);
                mp.type->input(&mp, 0, 1.3, w);
                double prev = 1.3;
                for (int j = 1; j <= 300; j++) {
                    double t = 1.3 + 0.1 * j;
                    ck_assert_int_eq(mp.type->advance(&mp, 0, prev, t, &tc), 0);
                    prev = t;
                    long double expect = -66.0L + psp(w, 250.0L, 10.0L, ts, (long double)(t - 1.3));
                    if (BROKEN(4))
                        expect += 1e-8L;
                    ck_assert_msg(fabsl((long double)state_of(&mp, "V_m")[0] - expect) < 1e-9L,
                                  "tau_syn=%g t=%g: V=%.15g expect %.15Lg", ts, t, state_of(&mp, "V_m")[0], expect);
                }
                ck_assert_int_eq(mp.type->above(&mp, 0, prev), 0);
                ck_assert_int_eq(mp.type->may_fire(&mp, 0, prev), 0);
                free_pop(&mp);
            }
}
END_TEST

/* Through the engine: a huge input drives V far above any threshold; li
 * never spikes, in either mode, and its V follows the closed form. */
START_TEST(test_li_never_spikes)
{
    for (int mode = 0; mode < 2; mode++) {
        ev_in in[] = {{1.0, 1e9}, {1.0, 1e9}, {5.0, 1e9}, {20.0, -1e8}};
        uint32_t rec;
        norn_sim *s =
            engine_run("li", mode ? NORN_MODE_GRID : NORN_MODE_CONTINUOUS, NULL, 0, 50.0, in, 4, 100.0, 0.1, &rec);
        const double *t;
        const uint32_t *g;
        ck_assert_uint_eq(norn_sim_spikes(s, &t, &g), BROKEN(5) ? 1 : 0);
        norn_recording r;
        norn_sim_recording(s, rec, &r);
        ck_assert_uint_eq(r.n_samples, 1000);
        /* at 3.0 ms: V = -70 + 50*10/250 (1 - e^{-3/10}) + PSP of 2e9 pA at 2 ms */
        long double v3 = -70.0L + 2.0L * (1 - expl(-3.0L / 10)) + psp(2e9L, 250, 10, 2, 2.0L);
        ck_assert(fabsl(r.data[29] - v3) < 1e-6L * fabsl(v3));
        ck_assert(r.data[29] > 1e5);
        norn_sim_destroy(s);
    }
}
END_TEST

/* ================================================================ alif */

/* Constant current above the bare threshold: the threshold climbs, the
 * intervals grow; spike times equal the RK4 reference. */
START_TEST(test_alif_dc)
{
    kv o[] = {{"q_theta", 2.0}, {"tau_theta", 100.0}};
    const double T = 400, I = 500;
    norn_sim *s = engine_run("alif", NORN_MODE_CONTINUOUS, o, 2, I, NULL, 0, T, 0, NULL);
    const double *t;
    const uint32_t *g;
    size_t n = norn_sim_spikes(s, &t, &g);
    rmodel m = ref_alif(o, 2, I);
    ld y[4];
    ref_init(&m, "alif", y);
    double ref[512];
    size_t nr = ref_cont(&m, y, T, NULL, 0, NULL, 0, NULL, NULL, ref, 512);
    ck_assert_msg(nr >= 8, "reference fired %zu times", nr);
    if (BROKEN(6))
        ref[3] += 2e-6;
    compare_spikes("alif dc continuous", t, n, ref, nr, 1e-6);
    /* the intervals grow while theta accumulates */
    for (size_t k = 2; k < 8; k++)
        ck_assert_msg(t[k] - t[k - 1] > t[k - 1] - t[k - 2], "ISI %zu did not grow", k);
    norn_sim_destroy(s);
}
END_TEST

/* Synaptic input plus DC, continuous and grid, through the engine. */
static ev_in *alif_inputs(size_t *n)
{
    ev_in *in = malloc(400 * sizeof *in);
    size_t k = 0;
    for (int j = 0; j < 300; j++) {
        in[k].t = 0.731 * j + 0.05 * (j % 7) + 0.3;
        in[k].w = (j % 5 == 4) ? -200.0 : 150.0;
        k++;
    }
    qsort(in, k, sizeof *in, cmp_ev);
    *n = k;
    return in;
}

START_TEST(test_alif_inputs)
{
    kv o[] = {{"q_theta", 1.5}, {"tau_theta", 50.0}};
    const double T = 240, I = 300;
    size_t nin;
    ev_in *in = alif_inputs(&nin);
    for (int mode = 0; mode < 2; mode++) {
        ev_in *ing = malloc(nin * sizeof *ing);
        for (size_t k = 0; k < nin; k++) {
            ing[k] = in[k];
            if (mode)
                ing[k].t = norn_grid_ceil(in[k].t, 0.1);
        }
        norn_sim *s = engine_run("alif", mode ? NORN_MODE_GRID : NORN_MODE_CONTINUOUS, o, 2, I, ing, nin, T, 0, NULL);
        const double *t;
        const uint32_t *g;
        size_t n = norn_sim_spikes(s, &t, &g);
        rmodel m = ref_alif(o, 2, I);
        ld y[4];
        ref_init(&m, "alif", y);
        double ref[512], margin = 0;
        size_t nr = mode ? ref_grid(&m, y, 0.1, 2400, ing, nin, ref, 512, &margin)
                         : ref_cont(&m, y, T, ing, nin, NULL, 0, NULL, NULL, ref, 512);
        ck_assert_msg(nr >= 10, "reference fired %zu times", nr);
        if (mode)
            ck_assert_msg(margin > 1e-6, "grid reference too close to a tie (%g)", margin);
        if (BROKEN(7) && !mode)
            ref[2] += 2e-6;
        if (BROKEN(8) && mode)
            ref[2] += 0.1;
        compare_spikes(mode ? "alif inputs grid" : "alif inputs continuous", t, n, ref, nr, mode ? 1e-12 : 1e-6);
        norn_sim_destroy(s);
        free(ing);
    }
    free(in);
}
END_TEST

/* Between spikes theta decays exactly exponentially, and a spike adds q. */
START_TEST(test_alif_theta_decay)
{
    kv o[] = {{"q_theta", 3.0}, {"tau_theta", 40.0}};
    norn_model_pop mp = make_pop("alif", NORN_MODE_CONTINUOUS, 0.1, o, 2);
    double *th = state_of(&mp, "theta"), tc;
    mp.type->fire(&mp, 0, 0.0);
    ck_assert_double_eq(th[0], 3.0);
    double prev = 0;
    for (int j = 1; j <= 100; j++) {
        double t = 0.77 * j;
        ck_assert_int_eq(mp.type->advance(&mp, 0, prev, t, &tc), 0);
        prev = t;
        double want = 3.0 * exp(-t / 40.0) * (BROKEN(9) ? 1 + 1e-11 : 1);
        ck_assert_msg(fabs(th[0] - want) <= 1e-12 * want, "t=%g theta=%.17g want %.17g", t, th[0], want);
        if (j == 50) {
            mp.type->fire(&mp, 0, t); /* a second spike: q on top of the rest */
            ck_assert(fabs(th[0] - (want + 3.0)) < 1e-12);
            for (; j <= 100; j++) {
                double t2 = 0.77 * (j + 1);
                ck_assert_int_eq(mp.type->advance(&mp, 0, prev, t2, &tc), 0);
                prev = t2;
                double w2 = (want + 3.0) * exp(-(t2 - t) / 40.0);
                ck_assert(fabs(th[0] - w2) <= 1e-12 * w2);
            }
            break;
        }
    }
    /* the threshold seen by above() is V_th + theta */
    state_of(&mp, "V_m")[0] = -55.0 + th[0] - 1e-9;
    ck_assert_int_eq(mp.type->above(&mp, 0, 1000.0), 0);
    state_of(&mp, "V_m")[0] = -55.0 + th[0];
    ck_assert_int_eq(mp.type->above(&mp, 0, 1000.0), 1);
    free_pop(&mp);
}
END_TEST

/* ============================================== ODE models vs reference */

/* Burst inputs: exc weight we at 5 ms + 0.07 j in bursts, inh wi, plus
 * samples every 0.37 ms. */
static ev_in *burst_inputs(double T, double we, double wi, int per_burst, double period, size_t *n)
{
    size_t cap = 4096, k = 0;
    ev_in *in = malloc(cap * sizeof *in);
    int b = 0;
    for (double t0 = 5.0; t0 < T - 5 && k + per_burst + 2 < cap; t0 += period, b++) {
        int m = per_burst + (b % 3) - 1; /* vary the burst size */
        for (int j = 0; j < m; j++)
            in[k++] = (ev_in){t0 + 0.0731 * j + 0.0113 * (b % 5), we};
        if (b % 2)
            in[k++] = (ev_in){t0 + period * 0.55 + 0.0171 * b, wi};
    }
    qsort(in, k, sizeof *in, cmp_ev);
    *n = k;
    return in;
}

static double *sample_times(double T, double dt, size_t *n)
{
    size_t m = (size_t)(T / dt);
    double *s = malloc(m * sizeof *s);
    for (size_t k = 0; k < m; k++)
        s[k] = dt * (k + 1) + 0.0019;
    *n = m;
    return s;
}

typedef rmodel (*ref_maker)(const kv *o, int no, double I);

/* A model driven directly (continuous) against the RK4 reference: spike
 * times to 1e-6 ms, V at samples to 1e-6 mV. */
static void direct_case(const char *model, ref_maker mk, const kv *o, int no, double I_e, const ev_in *in, size_t nin,
                        double T, size_t min_spikes, int brk)
{
    kv oo[16];
    if (no > 0)
        memcpy(oo, o, (size_t)no * sizeof *o);
    oo[no++] = (kv){"I_e", I_e};
    norn_model_pop mp = make_pop(model, NORN_MODE_CONTINUOUS, 0.1, oo, no);
    size_t ns;
    double *samp = sample_times(T, 0.37, &ns);
    double *sv = malloc(ns * sizeof *sv), *rv = malloc(ns * sizeof *rv), *rd = malloc(ns * sizeof *rd);
    double sp[2048], rs[2048];
    size_t n = drive(&mp, in, nin, samp, ns, sv, T, sp, 2048);
    rmodel m = mk(oo, no, 0);
    ld y[8];
    ref_init(&m, model, y);
    size_t nr = ref_cont(&m, y, T, in, nin, samp, ns, rv, rd, rs, 2048);
    ck_assert_msg(nr >= min_spikes, "%s: reference fired %zu times", model, nr);
    char what[64];
    snprintf(what, sizeof what, "%s direct spikes", model);
    if (BROKEN(brk) && nr > 1)
        rs[1] += 2e-6;
    compare_spikes(what, sp, n, rs, nr, 1e-6);
    /* V at the samples; skip samples within 1e-5 ms after a spike, where
     * the reset makes V depend on the spike time's last digits */
    size_t kept = 0, j = 0;
    for (size_t k = 0; k < ns; k++) {
        while (j < nr && rs[j] < samp[k] - 1e-5)
            j++;
        if (j < nr && fabs(rs[j] - samp[k]) <= 1e-5)
            continue;
        sv[kept] = sv[k];
        rv[kept] = rv[k];
        rd[kept] = rd[k];
        kept++;
    }
    if (BROKEN(brk + 1))
        rv[kept / 2] += 2e-6;
    snprintf(what, sizeof what, "%s direct V", model);
    compare_v(what, sv, rv, rd, kept, 1e-6);
    free(samp);
    free(sv);
    free(rv);
    free(rd);
    free_pop(&mp);
}

/* Through the engine in both modes: continuous spikes to 1e-6 ms and
 * recorded V (float32) to 1e-4 mV; grid spikes equal to the reference's
 * grid semantics; grid identical with and without a recorder. */
static void engine_case(const char *model, ref_maker mk, const kv *o, int no, double dc, const ev_in *in, size_t nin,
                        double T, size_t min_spikes, int brk)
{
    /* continuous, with recording */
    uint32_t rec;
    norn_sim *s = engine_run(model, NORN_MODE_CONTINUOUS, o, no, dc, in, nin, T, 0.1, &rec);
    const double *t;
    const uint32_t *g;
    size_t n = norn_sim_spikes(s, &t, &g);
    rmodel m = mk(o, no, dc);
    ld y[8];
    ref_init(&m, model, y);
    size_t ns = (size_t)llround(T / 0.1);
    double *samp = malloc(ns * sizeof *samp), *rv = malloc(ns * sizeof *rv), *sv = malloc(ns * sizeof *sv);
    double *rd = malloc(ns * sizeof *rd);
    for (size_t k = 0; k < ns; k++)
        samp[k] = norn_grid_time((int64_t)k + 1, 0.1);
    double rs[2048];
    size_t nr = ref_cont(&m, y, T, in, nin, samp, ns, rv, rd, rs, 2048);
    ck_assert_msg(nr >= min_spikes, "%s: reference fired %zu times", model, nr);
    char what[64];
    snprintf(what, sizeof what, "%s engine continuous", model);
    if (BROKEN(brk) && nr > 2)
        rs[2] -= 2e-6;
    compare_spikes(what, t, n, rs, nr, 1e-6);
    norn_recording r;
    norn_sim_recording(s, rec, &r);
    ck_assert_uint_eq(r.n_samples, ns);
    size_t kept = 0, j = 0;
    for (size_t k = 0; k < ns; k++) {
        while (j < nr && rs[j] < samp[k] - 1e-5)
            j++;
        if (j < nr && fabs(rs[j] - samp[k]) <= 1e-5)
            continue;
        sv[kept] = r.data[k];
        rv[kept] = rv[k];
        rd[kept] = rd[k];
        kept++;
    }
    snprintf(what, sizeof what, "%s engine continuous V (float32)", model);
    if (BROKEN(brk + 1))
        rv[kept / 3] += 2e-4;
    compare_v(what, sv, rv, rd, kept, 1e-4);
    norn_sim_destroy(s);

    /* grid: inputs at the end of their step */
    ev_in *ing = calloc(nin ? nin : 1, sizeof *ing);
    for (size_t k = 0; k < nin; k++) {
        ing[k] = in[k];
        ing[k].t = norn_grid_ceil(in[k].t, 0.1);
    }
    double *gt[2];
    size_t gn[2];
    for (int withrec = 0; withrec < 2; withrec++) {
        s = engine_run(model, NORN_MODE_GRID, o, no, dc, ing, nin, T, withrec ? 0.1 : 0, &rec);
        gn[withrec] = norn_sim_spikes(s, &t, &g);
        gt[withrec] = malloc((gn[withrec] ? gn[withrec] : 1) * sizeof(double));
        memcpy(gt[withrec], t, gn[withrec] * sizeof(double));
        norn_sim_destroy(s);
    }
    ref_init(&m, model, y);
    double margin;
    nr = ref_grid(&m, y, 0.1, ns, ing, nin, rs, 2048, &margin);
    ck_assert_msg(margin > 1e-6, "%s: grid reference too close to a tie (%g)", model, margin);
    if (BROKEN(brk + 2) && nr > 1)
        rs[1] += 0.1;
    snprintf(what, sizeof what, "%s engine grid", model);
    compare_spikes(what, gt[0], gn[0], rs, nr, 1e-12);
    ck_assert_uint_eq(gn[0], gn[1]);
    if (BROKEN(brk + 3) && gn[1] > 0)
        gt[1][0] += 1e-13;
    ck_assert_msg(gn[0] == 0 || memcmp(gt[0], gt[1], gn[0] * sizeof(double)) == 0,
                  "%s grid: a recorder changed the spikes", model);
    free(gt[0]);
    free(gt[1]);
    free(ing);
    free(samp);
    free(rv);
    free(sv);
    free(rd);
}

/* ----------------------------------------------------------- lif_cond */

START_TEST(test_lif_cond_direct)
{
    size_t nin;
    ev_in *in = burst_inputs(400, 60.0, -40.0, 9, 23.0, &nin);
    direct_case("lif_cond", ref_lif_cond, NULL, 0, 150.0, in, nin, 400, 3, 10);
    kv o[] = {{"t_ref", 0.0}, {"tau_syn_in", 5.0}};
    direct_case("lif_cond", ref_lif_cond, o, 2, 150.0, in, nin, 400, 3, 48);
    free(in);
}
END_TEST

START_TEST(test_lif_cond_engine)
{
    size_t nin;
    ev_in *in = burst_inputs(300, 50.0, -30.0, 8, 31.0, &nin);
    engine_case("lif_cond", ref_lif_cond, NULL, 0, 200.0, in, nin, 300, 3, 12);
    /* DC only: regular spiking, V_inf = -70 + 400/16.6667 = -46 mV */
    kv o[] = {{"I_e", 400.0}};
    engine_case("lif_cond", ref_lif_cond, o, 1, 0.0, NULL, 0, 200, 5, 16);
    free(in);
}
END_TEST

/* ------------------------------------------ lif_cond, fixed grid step
 * grid mode integrates V with grid_substeps classical RK4 steps per
 * resolution step, the conductances exact (models/lif_cond.c). One neuron
 * driven through the type's functions step by step with conductance kicks
 * (Bernoulli per step at the given rates), V_th out of reach: V at every
 * grid point against the adaptive integrator (grid_substeps 0, 1e-10 per
 * step) and, without kicks, against the closed forms. */
typedef struct {
    double rate_e, w_e, rate_i, w_i; /* Hz, nS (w_i > 0: added to g_in) */
} kicks;

static void cond_trace(int sub, const kv *o, int no, const kicks *kc, uint64_t seed, int steps, double v0, double *vout)
{
    kv oo[16];
    memcpy(oo, o, (size_t)no * sizeof *o);
    oo[no++] = (kv){"grid_substeps", sub};
    oo[no++] = (kv){"V_th", 1000.0};
    norn_model_pop mp = make_pop("lif_cond", NORN_MODE_GRID, 0.1, oo, no);
    state_of(&mp, "V_m")[0] = v0;
    norn_rng r = norn_rng_stream(seed, 7, 0);
    for (int k = 0; k < steps; k++) {
        double t0 = norn_grid_time(k, 0.1), t1 = norn_grid_time(k + 1, 0.1), tc;
        ck_assert(!mp.type->advance(&mp, 0, t0, t1, &tc));
        if (kc && norn_rng_uniform(&r) < kc->rate_e * 1e-4)
            mp.type->input(&mp, 0, t1, kc->w_e);
        if (kc && norn_rng_uniform(&r) < kc->rate_i * 1e-4)
            mp.type->input(&mp, 0, t1, -kc->w_i);
        vout[k] = state_of(&mp, "V_m")[0];
    }
    free_pop(&mp);
}

/* max |a - b| over n */
static double max_diff(const double *a, const double *b, int n)
{
    double m = 0;
    for (int k = 0; k < n; k++)
        m = fmax(m, fabs(a[k] - b[k]));
    return m;
}

static const kv coba_p[] = {{"g_L", 10},    {"C_m", 200},    {"E_L", -60},       {"E_ex", 0},
                            {"E_in", -80},  {"V_reset", -60}, {"tau_syn_ex", 5}, {"tau_syn_in", 10}};
#define N_COBA_P ((int)(sizeof coba_p / sizeof coba_p[0]))

typedef struct {
    const char *what;
    const kv *o;
    int no;
    kicks kc;
    double I_e, bound, bound2; /* mV: |V_fixed - V_adaptive| at every grid point, n = 1 and 2 */
} cond_case;

START_TEST(test_lif_cond_fixed_vs_adaptive)
{
    kv nest_I[] = {{"I_e", 0}};
    const cond_case cases[] = {
        /* coba's input: 64 x 20 Hz of 6 nS, 16 x 20 Hz of 67 nS */
        {"coba", coba_p, N_COBA_P, {1280, 6, 320, 67}, 0, 1e-4, 1e-5},
        {"coba + I_e", coba_p, N_COBA_P, {1280, 6, 320, 67}, 150, 1e-4, 1e-5},
        /* NEST's defaults: tau_syn_ex 0.2 ms, twice the step */
        {"NEST defaults", nest_I, 0, {4000, 10, 1000, 20}, 0, 1e-3, 1e-4},
        /* kicks of 3 uS: refined steps (z > 0.25), whose error n does not change */
        {"stiff", coba_p, N_COBA_P, {1280, 6, 20, 3000}, 0, 1e-3, 1e-3},
    };
    enum { T = 10000 }; /* 1 s */
    static double vf[T], va[T], vf2[T];
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const cond_case *cc = &cases[c];
        kv o[16];
        memcpy(o, cc->o, (size_t)cc->no * sizeof *o);
        int no = cc->no;
        o[no++] = (kv){"I_e", cc->I_e};
        cond_trace(1, o, no, &cc->kc, 11 + c, T, -65, vf);
        cond_trace(0, o, no, &cc->kc, 11 + c, T, -65, va);
        cond_trace(2, o, no, &cc->kc, 11 + c, T, -65, vf2);
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < T; k++) {
            lo = fmin(lo, va[k]);
            hi = fmax(hi, va[k]);
        }
        double d1 = max_diff(vf, va, T), d2 = max_diff(vf2, va, T);
        printf("lif_cond fixed step, %-14s V in [%.1f, %.1f] mV: max |V - V_adaptive| %.2e mV (n = 1), %.2e (n = 2)\n",
               cc->what, lo, hi, d1, d2);
        ck_assert_msg(hi - lo > 5, "%s: V hardly moves", cc->what);
        if (BROKEN(51) && c == 0)
            vf[T / 2] += 2 * cc->bound;
        ck_assert_msg(max_diff(vf, va, T) <= cc->bound, "%s: fixed step off by %g mV", cc->what, max_diff(vf, va, T));
        ck_assert_msg(d2 <= cc->bound2, "%s: two sub-steps off by %g mV", cc->what, d2);
    }
}
END_TEST

/* no conductance: exact exponential relaxation to E_L + I/g_L; a constant
 * one (tau_syn 1e12 ms): relaxation to (g_L E_L + g E + I)/(g_L + g) at
 * rate (g_L + g)/C_m. */
START_TEST(test_lif_cond_fixed_analytic)
{
    enum { T = 2000 };
    static double v[T];
    for (int c = 0; c < 3; c++) {
        double gex = c == 1 ? 30.0 : 0.0, gin = c == 2 ? 400.0 : 0.0, I = c == 0 ? 120.0 : 0.0;
        kv o[] = {{"g_L", 10},     {"C_m", 200}, {"E_L", -60}, {"E_ex", 0}, {"E_in", -80}, {"I_e", I},
                  {"tau_syn_ex", 1e12}, {"tau_syn_in", 1e12}};
        kv oo[16];
        memcpy(oo, o, sizeof o);
        int no = (int)(sizeof o / sizeof o[0]);
        oo[no++] = (kv){"grid_substeps", 1};
        oo[no++] = (kv){"V_th", 1000.0};
        norn_model_pop mp = make_pop("lif_cond", NORN_MODE_GRID, 0.1, oo, no);
        state_of(&mp, "V_m")[0] = -75;
        state_of(&mp, "g_ex")[0] = gex;
        state_of(&mp, "g_in")[0] = gin;
        double maxe = 0, tc;
        ld gt = 10 + gex + gin, vinf = (10.0L * -60 + gex * 0 + gin * -80.0L + I) / gt;
        /* RK4 on dV/dt = -(V - V*) z/h: |R(z) - e^-z| ~ z^5/120 per step
         * (z = g h / C_m), summed: at most ~ z^4/120 |V(0) - V*| */
        double z = (double)gt * 0.1 / 200, bound = 2 * pow(z, 4) / 120 * fabs(-75 - (double)vinf) + 1e-12;
        for (int k = 0; k < T; k++) {
            ck_assert(!mp.type->advance(&mp, 0, norn_grid_time(k, 0.1), norn_grid_time(k + 1, 0.1), &tc));
            v[k] = state_of(&mp, "V_m")[0];
            ld ex = vinf + (-75 - vinf) * expl(-(ld)(k + 1) * 0.1L * gt / 200);
            maxe = fmax(maxe, fabs((double)(v[k] - ex)));
        }
        printf("lif_cond fixed step, analytic case %d (g %g nS, I %g pA): max error %.2e mV (bound %.2e)\n", c,
               gex + gin, I, maxe, bound);
        if (BROKEN(52) && c == 1)
            maxe += bound;
        ck_assert_msg(maxe <= bound, "case %d: %g mV from the closed form", c, maxe);
        ck_assert_msg(fabs(v[T - 1] - (double)vinf) < (c == 0 ? 1e-2 : 1e-8), "case %d: %.17g, V* %.17g", c,
                      v[T - 1], (double)vinf); /* relaxed */
        free_pop(&mp);
    }
}
END_TEST

/* advancing several steps at once gives the same bits as step by step
 * (what lets the engine step lif_cond whole or lazily with the same
 * spikes), refractoriness and refined steps included. */
START_TEST(test_lif_cond_fixed_split)
{
    kv o[16];
    memcpy(o, coba_p, sizeof coba_p);
    int no = N_COBA_P;
    o[no++] = (kv){"V_th", -50};
    o[no++] = (kv){"t_ref", 5};
    norn_model_pop a = make_pop("lif_cond", NORN_MODE_GRID, 0.1, o, no);
    norn_model_pop b = make_pop("lif_cond", NORN_MODE_GRID, 0.1, o, no);
    norn_rng r = norn_rng_stream(5, 7, 1);
    int64_t k = 0, spikes = 0, refined = 0;
    while (k < 20000) {
        int64_t len = 1 + (int64_t)(60 * norn_rng_uniform(&r));
        double t0 = norn_grid_time(k, 0.1), t1 = norn_grid_time(k + len, 0.1), tca, tcb;
        /* a: one step at a time; b: all at once (stops at a crossing) */
        int64_t j = k, hit_a = 0;
        for (; j < k + len && !hit_a; j++)
            hit_a = a.type->advance(&a, 0, norn_grid_time(j, 0.1), norn_grid_time(j + 1, 0.1), &tca) ||
                    (j + 1 < k + len && a.type->above(&a, 0, norn_grid_time(j + 1, 0.1)) &&
                     (tca = norn_grid_time(j + 1, 0.1), 1));
        int hit_b = b.type->advance(&b, 0, t0, t1, &tcb);
        ck_assert_int_eq(hit_a, hit_b);
        if (hit_b) {
            ck_assert(tca == tcb);
            a.type->fire(&a, 0, tca);
            b.type->fire(&b, 0, tcb);
            spikes++;
            k = norn_grid_index(tcb, 0.1);
        } else {
            k += len;
        }
        for (int v = 0; v < 3; v++)
            ck_assert_msg((a.st[v][0] == b.st[v][0]) != BROKEN(53), "var %d at step %lld: %.17g vs %.17g", v,
                          (long long)k, a.st[v][0], b.st[v][0]);
        double w = norn_rng_uniform(&r) < 0.5 ? 60 : norn_rng_uniform(&r) < 0.15 ? -3000 : -67;
        refined += w < -1000;
        double t = norn_grid_time(k, 0.1);
        a.type->input(&a, 0, t, w);
        b.type->input(&b, 0, t, w);
    }
    printf("lif_cond fixed step, split advances: %lld spikes, %lld refining kicks\n", (long long)spikes,
           (long long)refined);
    ck_assert(spikes > 20 && refined > 20);
    free_pop(&a);
    free_pop(&b);
}
END_TEST

/* --------------------------------------------------------- izhikevich */

START_TEST(test_izh_tonic)
{
    /* regular spiking (default a, b, c, d) under I_e = 10: tonic spikes
     * whose intervals settle to a constant */
    kv o[] = {{"I_e", 10.0}};
    norn_sim *s = engine_run("izhikevich", NORN_MODE_CONTINUOUS, o, 1, 0.0, NULL, 0, 1000, 0, NULL);
    const double *t;
    const uint32_t *g;
    size_t n = norn_sim_spikes(s, &t, &g);
    ck_assert_msg(n >= 10, "only %zu spikes", n);
    double last = t[n - 1] - t[n - 2], prev = t[n - 2] - t[n - 3];
    printf("izhikevich RS, I_e=10: %zu spikes in 1 s, first ISI %.4f ms, last %.4f ms\n", n, t[1] - t[0], last);
    ck_assert_msg(fabs(last - prev) < (BROKEN(20) ? 0 : 1e-3 * last), "not tonic: %g vs %g", prev, last);
    /* against the reference */
    rmodel m = ref_izh(o, 1, 0);
    ld y[2];
    ref_init(&m, "izhikevich", y);
    double rs[256];
    size_t nr = ref_cont(&m, y, 1000, NULL, 0, NULL, 0, NULL, NULL, rs, 256);
    compare_spikes("izhikevich RS tonic", t, n, rs, nr, 1e-6);
    norn_sim_destroy(s);
}
END_TEST

START_TEST(test_izh_direct)
{
    size_t nin;
    ev_in *in = burst_inputs(400, 4.0, -3.0, 4, 29.0, &nin);
    direct_case("izhikevich", ref_izh, NULL, 0, 3.0, in, nin, 400, 3, 21);
    free(in);
}
END_TEST

/* V_min bounds the input jumps (as NEST); above it the flow is untouched. */
START_TEST(test_izh_vmin)
{
    kv o[] = {{"V_min", -75.0}};
    norn_model_pop mp = make_pop("izhikevich", NORN_MODE_CONTINUOUS, 0.1, o, 1);
    double *v = state_of(&mp, "V_m"), *u = state_of(&mp, "U_m"), tc;
    v[0] = -70;
    u[0] = -14; /* the rest state: V stays */
    ck_assert_int_eq(mp.type->advance(&mp, 0, 0, 10, &tc), 0);
    ck_assert(fabs(v[0] + 70) < 1e-9 && fabs(u[0] + 14) < 1e-9);
    mp.type->input(&mp, 0, 10, -50.0);
    ck_assert_double_eq(v[0], BROKEN(50) ? -120.0 : -75.0);
    mp.type->input(&mp, 0, 10, 2.0);
    ck_assert_double_eq(v[0], -73.0);
    ck_assert_int_eq(mp.type->advance(&mp, 0, 10, 200, &tc), 0);
    ck_assert(v[0] >= -75 && fabs(v[0] + 70) < 1e-3);
    free_pop(&mp);
}
END_TEST

START_TEST(test_izh_engine)
{
    size_t nin;
    ev_in *in = burst_inputs(300, 4.0, -3.0, 4, 29.0, &nin);
    kv o[] = {{"I_e", 3.0}};
    engine_case("izhikevich", ref_izh, o, 1, 0.0, in, nin, 300, 3, 23);
    kv fs[] = {{"a", 0.1}, {"d", 2.0}}; /* fast spiking, DC through the engine */
    engine_case("izhikevich", ref_izh, fs, 2, 10.0, NULL, 0, 200, 5, 27);
    free(in);
}
END_TEST

/* --------------------------------------------------------------- adex */

START_TEST(test_adex_adaptation)
{
    const double I = 800;
    norn_sim *s = engine_run("adex", NORN_MODE_CONTINUOUS, NULL, 0, I, NULL, 0, 500, 0, NULL);
    const double *t;
    const uint32_t *g;
    size_t n = norn_sim_spikes(s, &t, &g);
    ck_assert_msg(n >= 6, "only %zu spikes", n);
    printf("adex, 800 pA: %zu spikes, ISIs", n);
    for (size_t k = 1; k < n && k < 8; k++)
        printf(" %.3f", t[k] - t[k - 1]);
    printf("\n");
    for (size_t k = 2; k < 6; k++)
        ck_assert_msg(t[k] - t[k - 1] > t[k - 1] - t[k - 2] + (BROKEN(31) ? 100 : 0), "no adaptation: ISI %zu", k);
    rmodel m = ref_adex(NULL, 0, I);
    ld y[4];
    ref_init(&m, "adex", y);
    double rs[512];
    size_t nr = ref_cont(&m, y, 500, NULL, 0, NULL, 0, NULL, NULL, rs, 512);
    compare_spikes("adex adaptation", t, n, rs, nr, 1e-6);
    norn_sim_destroy(s);
}
END_TEST

START_TEST(test_adex_direct)
{
    size_t nin;
    ev_in *in = burst_inputs(400, 80.0, -30.0, 9, 27.0, &nin);
    direct_case("adex", ref_adex, NULL, 0, 300.0, in, nin, 400, 3, 32);
    kv o[] = {{"t_ref", 2.0}, {"Delta_T", 0.5}, {"a", -1.0}};
    direct_case("adex", ref_adex, o, 3, 300.0, in, nin, 400, 3, 34);
    kv o0[] = {{"Delta_T", 0.0}}; /* no exponential: detection at V_th */
    direct_case("adex", ref_adex, o0, 1, 300.0, in, nin, 400, 3, 46);
    free(in);
}
END_TEST

START_TEST(test_adex_engine)
{
    size_t nin;
    ev_in *in = burst_inputs(300, 80.0, -30.0, 9, 27.0, &nin);
    engine_case("adex", ref_adex, NULL, 0, 300.0, in, nin, 300, 3, 36);
    kv o[] = {{"t_ref", 2.0}};
    engine_case("adex", ref_adex, o, 1, 700.0, NULL, 0, 300, 3, 40);
    free(in);
}
END_TEST

/* ============================================================ may_fire */

/* Rest states are proven quiet (the engine stops sweeping them); driven
 * states may fire; and may_fire == 0 is never wrong: random states it
 * calls quiet are integrated for 500 ms without input and never spike. */
typedef struct {
    const char *model;
    kv o[2];
    int no;
    int rest_quiet; /* the rest state is expected to be proven quiet */
} mf_case;

START_TEST(test_may_fire)
{
    static const mf_case cases[] = {
        {"lif_cond", {{"I_e", 0}}, 1, 1},
        {"lif_cond", {{"I_e", 200}}, 1, 1},
        {"izhikevich", {{"I_e", 0}}, 1, 1},
        {"izhikevich", {{"I_e", 1.5}}, 1, 1},
        /* near the saddle-node (rest -65 mV, saddle -55 mV) no box is
         * invariant: may_fire stays 1, conservatively */
        {"izhikevich", {{"I_e", 3}}, 1, 0},
        {"adex", {{"I_e", 0}}, 1, 1},
        {"adex", {{"I_e", 400}, {"t_ref", 2}}, 2, 1},
    };
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const mf_case *mc = &cases[c];
        norn_model_pop mp = make_pop(mc->model, NORN_MODE_CONTINUOUS, 0.1, mc->o, mc->no);
        const norn_model_type *ty = mp.type;
        /* relax to rest first */
        double tc;
        while (ty->advance(&mp, 0, 0, 2000, &tc))
            ty->fire(&mp, 0, tc);
        int quiet_rest = !ty->may_fire(&mp, 0, 2000);
        if (mc->rest_quiet)
            ck_assert_msg(quiet_rest != BROKEN(44), "%s case %u: rest not proven quiet", mc->model, c);
        /* random states */
        norn_rng r = norn_rng_stream(99, 1, c);
        int n_quiet = 0, n_loud = 0;
        for (int k = 0; k < 300; k++) {
            double *st[4];
            for (int v = 0; v < ty->n_state; v++)
                st[v] = mp.st[v];
            double u1 = norn_rng_uniform(&r), u2 = norn_rng_uniform(&r), u3 = norn_rng_uniform(&r);
            if (strcmp(mc->model, "lif_cond") == 0) {
                st[0][0] = -80 + 30 * u1;
                st[1][0] = 40 * u2 * u2;
                st[2][0] = 40 * u3;
            } else if (strcmp(mc->model, "izhikevich") == 0) {
                st[0][0] = -80 + 40 * u1;
                st[1][0] = -25 + 35 * u2;
            } else {
                st[0][0] = -75 + 40 * u1;
                st[1][0] = 60 * u2 * u2;
                st[2][0] = 10 * u3;
                st[3][0] = -300 + 500 * norn_rng_uniform(&r);
            }
            mp.ref_until[0] = (k % 4 == 0) ? 1.0 : -INFINITY;
            if (ty->may_fire(&mp, 0, 0.5)) {
                n_loud++;
                continue;
            }
            n_quiet++;
            /* claimed quiet: no spike for 500 ms */
            double t0 = 0.5;
            int fired = ty->advance(&mp, 0, t0, 500.5, &tc) || ty->above(&mp, 0, 500.5);
            ck_assert_msg(!fired, "%s case %u: may_fire said 0 but it fired at %g", mc->model, c, tc);
            mp.ref_until[0] = -INFINITY;
        }
        printf("may_fire %-10s case %u: %d quiet, %d may fire\n", mc->model, c, n_quiet, n_loud);
        ck_assert_msg(n_quiet > 10 || !mc->rest_quiet, "%s case %u: only %d states proven quiet", mc->model, c,
                      n_quiet);
        ck_assert_msg(n_loud > 10, "%s case %u: only %d states may fire", mc->model, c, n_loud);
        free_pop(&mp);
    }
}
END_TEST

/* alif's quiet_until (continuous): from random states, theta of both
 * signs (the threshold V_th + theta relaxes to V_th), no crossing of the
 * threshold comes before the bound. */
START_TEST(test_alif_quiet_until)
{
    kv o[] = {{"q_theta", 1.5}, {"tau_theta", 50.0}, {"I_e", 300.0}};
    norn_model_pop mp = make_pop("alif", NORN_MODE_CONTINUOUS, 0.1, o, 3);
    const norn_model_type *ty = mp.type;
    double *th = state_of(&mp, "theta");
    norn_rng r = norn_rng_stream(97, 1, 0);
    int crossed = 0, useful = 0, never = 0;
    for (int k = 0; k < 4000; k++) {
        mp.p[norn_model_param_index(ty, "I_e")] = k % 2 ? 500.0 : 0.0; /* 500 pA: V_inf -50 mV */
        mp.st[0][0] = -75 + 20 * norn_rng_uniform(&r);
        mp.st[1][0] = norn_rng_uniform(&r) < 0.7 ? 800 * norn_rng_uniform(&r) : 0.0;
        mp.st[2][0] = norn_rng_uniform(&r) < 0.5 ? -800 * norn_rng_uniform(&r) : 0.0;
        th[0] = -4 + 10 * norn_rng_uniform(&r);
        mp.st[ty->n_state][0] = 0.0; /* the phase */
        mp.ref_until[0] = k % 5 == 0 ? 5.0 + 2 * norn_rng_uniform(&r) : -INFINITY;
        tu_quiet_check(&mp, 5.0, 505.0, &crossed, &useful, &never);
    }
    printf("alif quiet_until: %d of 4000 crossed, the bound past half way to %d\n", crossed, useful);
    ck_assert_int_gt(crossed, 1000);
    ck_assert_int_gt(useful, crossed / 10);
    free_pop(&mp);
}
END_TEST

/* lif_cond's quiet_until (continuous): from random states (conductances
 * up to coba's and beyond, V from below E_in to V_th, refractory or not,
 * coba's parameters, I_e 0 or driving), no crossing of V_th comes before the bound (the
 * adaptive advance finds the first one), and the bound is of use: past
 * half the way to the crossing in some, "never" where no spike comes. */
START_TEST(test_lif_cond_quiet_until)
{
    for (int c = 0; c < 2; c++) {
        kv o[] = {{"I_e", c ? 150.0 : 0.0}, {"g_L", 10},        {"C_m", 200},      {"E_L", -60},
                  {"V_th", -50},              {"V_reset", -60},   {"t_ref", 5},      {"E_in", -80},
                  {"tau_syn_ex", 5},          {"tau_syn_in", 10}}; /* coba's, and driven */
        norn_model_pop mp = make_pop("lif_cond", NORN_MODE_CONTINUOUS, 0.1, o, 10);
        const norn_model_type *ty = mp.type;
        norn_rng r = norn_rng_stream(98, 1, c);
        int crossed = 0, useful = 0, never = 0;
        for (int k = 0; k < 3000; k++) {
            double u = norn_rng_uniform(&r);
            mp.st[0][0] = -90 + 35 * norn_rng_uniform(&r);
            mp.st[1][0] = 60 * u * u;
            mp.st[2][0] = norn_rng_uniform(&r) < 0.5 ? 200 * norn_rng_uniform(&r) : 0.0;
            mp.st[ty->n_state][0] = 0.0; /* the step hint */
            mp.ref_until[0] = k % 5 == 0 ? 5.0 + 2 * norn_rng_uniform(&r) : -INFINITY;
            tu_quiet_check(&mp, 5.0, 505.0, &crossed, &useful, &never);
        }
        printf("lif_cond quiet_until, I_e %g: %d of 3000 crossed, the bound past half way to %d; %d never\n", o[0].v,
               crossed, useful, never);
        ck_assert_int_gt(crossed, 300);
        ck_assert_int_gt(useful, crossed / 10);
        if (c == 0)
            ck_assert_int_gt(never, 300);
        free_pop(&mp);
    }
}
END_TEST

/* lif_cond's closed-form advance (continuous; models/lif_cond.c,
 * quiet_closed): from random states, the model's advance over 0.01-20 ms
 * with no input against the reference. Where V cannot reach V_th (its
 * bound on V_inf below V_th) the closed form is taken, which leaves the
 * step hint alone (the adaptive integrator writes it): V within 1e-9 mV,
 * the conductances within 1e-12 of their size, no spike. Elsewhere the
 * adaptive way, its 1e-6. Both ways must be taken often. */
START_TEST(test_lif_cond_closed_form)
{
    kv o[] = {{"I_e", 0.0},   {"g_L", 10},       {"C_m", 200},    {"E_L", -60},          {"V_th", -50},
              {"V_reset", -60}, {"t_ref", 5},     {"E_in", -80},   {"tau_syn_ex", 5},    {"tau_syn_in", 10}};
    int closed = 0, general = 0, crossed = 0;
    double worst = 0;
    for (int c = 0; c < 3; c++) {
        o[0].v = c == 1 ? 120.0 : 0.0; /* I_e: V_inf 0 or 12 mV above E_L with no conductance */
        o[8].v = c == 2 ? 10.0 : 5.0;  /* tau_syn_ex, tau_syn_in: coba's, or inhibition the faster */
        o[9].v = c == 2 ? 2.0 : 10.0;
        norn_model_pop mp = make_pop("lif_cond", NORN_MODE_CONTINUOUS, 0.1, o, 10);
        rmodel m = ref_lif_cond(o, 10, 0);
        double *V = state_of(&mp, "V_m"), *ge = state_of(&mp, "g_ex"), *gi = state_of(&mp, "g_in");
        double *hint = mp.st[mp.type->n_state];
        norn_rng r = norn_rng_stream(2024, 7, (uint64_t)c);
        for (int k = 0; k < 150; k++) {
            double u = norn_rng_uniform(&r), T = 0.01 + 20 * u * u;
            u = norn_rng_uniform(&r);
            if (k % 3 == 0) { /* anywhere */
                V[0] = -85 + 34 * norn_rng_uniform(&r);
                ge[0] = 120 * u * u;
                gi[0] = norn_rng_uniform(&r) < 0.8 ? 400 * norn_rng_uniform(&r) : 0.0;
            } else if (k % 3 == 1) { /* near V_th, excitation about as strong as the leak and inhibition */
                V[0] = -56 + 5.5 * norn_rng_uniform(&r);
                ge[0] = 5 + 40 * u;
                gi[0] = 60 * norn_rng_uniform(&r);
            } else { /* held down by inhibition that decays faster than the excitation that would cross */
                V[0] = -62 + 8 * norn_rng_uniform(&r);
                ge[0] = 40 + 60 * u;
                gi[0] = 100 + 200 * norn_rng_uniform(&r);
                T = 2 + 18 * norn_rng_uniform(&r);
            }
            *hint = 0.0123;
            ld y[8] = {V[0], ge[0], gi[0]}, t = 0;
            double tc;
            int hit = mp.type->advance(&mp, 0, 0.0, T, &tc);
            int spiked = ref_flow(&m, y, &t, T, 0, 1);
            if (*hint == 0.0123) { /* the closed form */
                closed++;
                ck_assert_msg(!hit && !spiked, "closed form over a crossing (%d, %d)", hit, spiked);
                double e = fabs(V[0] - (double)y[0]);
                if (BROKEN(54) && closed == 1)
                    e += 2e-9;
                worst = fmax(worst, e);
                ck_assert_msg(e <= 1e-9, "closed form: V %.15g vs reference %.15g after %g ms", V[0], (double)y[0], T);
                ck_assert(fabs(ge[0] - (double)y[1]) <= 1e-12 * (1 + fabs(ge[0])));
                ck_assert(fabs(gi[0] - (double)y[2]) <= 1e-12 * (1 + fabs(gi[0])));
            } else {
                general++;
                crossed += spiked;
                ck_assert_int_eq(hit, spiked);
                if (!hit)
                    ck_assert_msg(fabs(V[0] - (double)y[0]) <= 1e-6, "adaptive: V %.15g vs %.15g", V[0], (double)y[0]);
            }
        }
        free_pop(&mp);
    }
    printf("lif_cond closed form: %d advances closed (worst |dV| %.2g mV), %d adaptive (%d crossed)\n", closed, worst,
           general, crossed);
    ck_assert_int_gt(crossed, 30);
    ck_assert_int_gt(closed, 100);
    ck_assert_int_gt(general, 30);
}
END_TEST

/* ======================================================== bad params */

typedef struct {
    const char *model;
    const char *param;
    double value;
    norn_mode mode;
    const char *expect;
} bad_case;

START_TEST(test_bad_params)
{
    static const bad_case cases[] = {
        {"li", "tau_m", -1, NORN_MODE_CONTINUOUS, "params.tau_m: must be > 0"},
        {"li", "C_m", 0, NORN_MODE_CONTINUOUS, "params.C_m: must be > 0"},
        {"li", "E_L", NAN, NORN_MODE_CONTINUOUS, "params.E_L: must be finite"},
        {"alif", "tau_theta", 0, NORN_MODE_CONTINUOUS, "params.tau_theta: must be > 0"},
        {"alif", "q_theta", -1, NORN_MODE_CONTINUOUS, "params.q_theta: must be >= 0"},
        {"alif", "V_reset", -50, NORN_MODE_CONTINUOUS, "params.V_reset: must be below V_th"},
        {"alif", "t_ref", 0.25, NORN_MODE_GRID, "params.t_ref: 0.25 ms is not a multiple"},
        {"lif_cond", "g_L", 0, NORN_MODE_CONTINUOUS, "params.g_L: must be > 0"},
        {"lif_cond", "tau_syn_ex", -0.2, NORN_MODE_CONTINUOUS, "params.tau_syn_ex: must be > 0"},
        {"lif_cond", "V_reset", -55, NORN_MODE_CONTINUOUS, "params.V_reset: must be below V_th"},
        {"lif_cond", "t_ref", 0.15, NORN_MODE_GRID, "params.t_ref: 0.15 ms is not a multiple"},
        {"lif_cond", "E_ex", INFINITY, NORN_MODE_CONTINUOUS, "params.E_ex: must be finite"},
        {"lif_cond", "grid_substeps", 1.5, NORN_MODE_GRID, "params.grid_substeps: must be an integer in 0..64, got 1.5"},
        {"lif_cond", "grid_substeps", 65, NORN_MODE_CONTINUOUS, "params.grid_substeps: must be an integer in 0..64"},
        {"izhikevich", "c", 40, NORN_MODE_CONTINUOUS, "params.c: the reset must be below V_th"},
        {"izhikevich", "V_min", -60, NORN_MODE_CONTINUOUS, "params.V_min: must be <= c"},
        {"izhikevich", "a", NAN, NORN_MODE_CONTINUOUS, "params.a: must be finite"},
        {"adex", "V_peak", -60, NORN_MODE_CONTINUOUS, "params.V_peak: must be >= V_th"},
        {"adex", "Delta_T", -1, NORN_MODE_CONTINUOUS, "params.Delta_T: must be >= 0"},
        {"adex", "Delta_T", 0.01, NORN_MODE_CONTINUOUS, "params.Delta_T: (V_peak - V_th)/Delta_T = 5040"},
        {"adex", "V_reset", 10, NORN_MODE_CONTINUOUS, "params.V_reset: must be below V_peak"},
        {"adex", "tau_w", 0, NORN_MODE_CONTINUOUS, "params.tau_w: must be > 0"},
        {"adex", "t_ref", -1, NORN_MODE_CONTINUOUS, "params.t_ref: must be >= 0"},
        {"adex", "C_m", INFINITY, NORN_MODE_CONTINUOUS, "params.C_m: must be finite"},
    };
    for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const bad_case *bc = &cases[k];
        norn_sim_config cfg = {.resolution_ms = 0.1, .mode = bc->mode, .seed = 1};
        norn_sim *s = NULL;
        norn_err err;
        ck_assert_int_eq(norn_sim_create(&cfg, &s, &err), NORN_OK);
        const norn_model_type *t = norn_model_find(bc->model);
        ck_assert_ptr_nonnull(t);
        double p[NORN_MAX_PARAMS];
        kv o[] = {{bc->param, bc->value}};
        fill_params(t, p, o, 1);
        uint32_t idx;
        norn_err_clear(&err);
        norn_status st = norn_sim_add_population(s, "n", t, 4, p, "net.yaml:3:5", &idx, &err);
        const char *expect = BROKEN(45) && k == 5 ? "params.V_th" : bc->expect;
        ck_assert_msg(st == NORN_EINVAL, "%s %s=%g accepted", bc->model, bc->param, bc->value);
        ck_assert_str_eq(err.where, "net.yaml:3:5");
        ck_assert_msg(strstr(err.msg, expect) != NULL, "%s %s=%g: message '%s' lacks '%s'", bc->model, bc->param,
                      bc->value, err.msg, expect);
        norn_sim_destroy(s);
    }
    /* the defaults are valid, in both modes, and follow NEST */
    for (size_t k = 0; k < norn_model_count(); k++)
        for (int mode = 0; mode < 2; mode++) {
            norn_model_pop mp =
                make_pop(norn_model_at(k)->name, mode ? NORN_MODE_GRID : NORN_MODE_CONTINUOUS, 0.1, NULL, 0);
            free_pop(&mp);
        }
    const norn_model_type *ax_t = norn_model_find("adex");
    double p[NORN_MAX_PARAMS];
    fill_params(ax_t, p, NULL, 0);
    ck_assert_double_eq(param(ax_t, p, "C_m"), 281.0);
    ck_assert_double_eq(param(ax_t, p, "b"), 80.5);
    ck_assert_double_eq(param(ax_t, p, "tau_w"), 144.0);
    const norn_model_type *lc_t = norn_model_find("lif_cond");
    fill_params(lc_t, p, NULL, 0);
    ck_assert_double_eq(param(lc_t, p, "g_L"), 16.6667);
    ck_assert_double_eq(param(lc_t, p, "tau_syn_ex"), 0.2);
    ck_assert_ptr_null(norn_model_find("adexx"));
    ck_assert_ptr_nonnull(strstr(norn_model_names(), "li, alif, lif_cond, izhikevich, adex"));
}
END_TEST

/* ============================================================== suite */

static Suite *suite(void)
{
    Suite *s = suite_create("models_nl");
    TCase *tc = tcase_create("ode");
    tcase_add_test(tc, test_ode_exact);
    tcase_add_test(tc, test_ode_crossing);
    tcase_add_test(tc, test_ode_grid_split);
    tcase_set_timeout(tc, 600); /* the references integrate with tiny steps */
    suite_add_tcase(s, tc);
    tc = tcase_create("li");
    tcase_add_test(tc, test_li_psp);
    tcase_add_test(tc, test_li_never_spikes);
    tcase_set_timeout(tc, 600); /* the references integrate with tiny steps */
    suite_add_tcase(s, tc);
    tc = tcase_create("alif");
    tcase_add_test(tc, test_alif_dc);
    tcase_add_test(tc, test_alif_inputs);
    tcase_add_test(tc, test_alif_theta_decay);
    tcase_set_timeout(tc, 600); /* the references integrate with tiny steps */
    suite_add_tcase(s, tc);
    tc = tcase_create("lif_cond");
    tcase_add_test(tc, test_lif_cond_direct);
    tcase_add_test(tc, test_lif_cond_engine);
    tcase_add_test(tc, test_lif_cond_fixed_vs_adaptive);
    tcase_add_test(tc, test_lif_cond_fixed_analytic);
    tcase_add_test(tc, test_lif_cond_fixed_split);
    tcase_set_timeout(tc, 600); /* the references integrate with tiny steps */
    suite_add_tcase(s, tc);
    tc = tcase_create("izhikevich");
    tcase_add_test(tc, test_izh_tonic);
    tcase_add_test(tc, test_izh_direct);
    tcase_add_test(tc, test_izh_vmin);
    tcase_add_test(tc, test_izh_engine);
    tcase_set_timeout(tc, 600); /* the references integrate with tiny steps */
    suite_add_tcase(s, tc);
    tc = tcase_create("adex");
    tcase_add_test(tc, test_adex_adaptation);
    tcase_add_test(tc, test_adex_direct);
    tcase_add_test(tc, test_adex_engine);
    tcase_set_timeout(tc, 600); /* the references integrate with tiny steps */
    suite_add_tcase(s, tc);
    tc = tcase_create("may_fire");
    tcase_add_test(tc, test_may_fire);
    tcase_add_test(tc, test_lif_cond_quiet_until);
    tcase_add_test(tc, test_lif_cond_closed_form);
    tcase_add_test(tc, test_alif_quiet_until);
    tcase_set_timeout(tc, 600); /* the references integrate with tiny steps */
    suite_add_tcase(s, tc);
    tc = tcase_create("params");
    tcase_add_test(tc, test_bad_params);
    tcase_set_timeout(tc, 600); /* the references integrate with tiny steps */
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* figures survive a failing (forked) test */
    return tu_main(suite());
}
