/* models/norse_lif.c - Norse's LIF family in euler mode: lif, lif_refrac,
 * lif_box, lif_ex, lif_adex, lif_adex_refrac, lsnn and lif_encoder.
 *
 * Every step is Norse's (commit 065a3b45) float32 arithmetic written out
 * literally, operation for operation, in Norse's order
 * (shared/reference/norse-semantics.md §3): the threshold is Norse's
 * heaviside, where(x <= 0, 0, 1) of x = v - v_th (so v == v_th does not
 * spike, and a NaN voltage does); resets are the products (1 - z) v + z r
 * rather than selects, so even NaN, inf and signed zeros come out as in
 * Norse. Constants are formed once as Norse forms them:
 * c_m = fl32(dt) * fl32(tau_mem_inv), c_s = fl32(-dt) * fl32(tau_syn_inv),
 * each one float32 product. Build with -ffp-contract=off.
 *
 * Input: ff and rec enter as Norse's recurrent step adds W_in x and W_rec z
 * (LIF family: i~ = (i + ff) + rec before the voltage update; LSNN: after
 * the spike). Models without a recurrent variant in Norse (lif_box,
 * lif_encoder) take the current I = ff + rec.
 */
#include <math.h>

#include "models/euler.h"

/* models/euler.c */
norn_status norn__euler_check(const norn_euler_pop *ep, const char *rules, const char *where, norn_err *err);

/* Norse's heaviside(x): where(x <= 0, 0, 1). */
static inline float heav(float x) { return x <= 0.0f ? 0.0f : 1.0f; }
/* torch.relu: NaN stays NaN. */
static inline float relu(float x) { return x < 0.0f ? 0.0f : x; }

/* 1 if `bound` stays below th by a margin that covers the rounding of the
 * step (1e-6 of the magnitudes involved, about 8 float32 ulps). */
static inline int clear_below(double bound, double th, double scale) { return bound + 1e-6 * scale < th; }

/* The exponential models' bound: the least X >= max(v, v_leak + i+) with
 * v_leak + i+ + dT exp((X - th)/dT) <= X, if one exists below th (then v
 * stays <= X without input, as v' is a convex combination of v and that
 * drive). Checked with margins for float32 rounding and exp's error. */
static int ex_clear_below(double v, double vl, double ip, double dT, double th, double scale)
{
    double x0 = fmax(v, vl + ip), x = x0;
    for (int k = 0; k < 100; k++) {
        double nx = fmax(x0, vl + ip + dT * exp((x - th) / dT));
        if (!(nx < th))
            return 0;
        int done = nx - x <= 1e-12 * (fabs(x) + 1.0);
        x = nx;
        if (done)
            break;
    }
    double m = 1e-6 * scale, X = x + m;
    double g = vl + ip + dT * exp((X - th) / dT) * (1.0 + 1e-6);
    return g <= X && X + m < th;
}

/* ------------------------------------------------------------ lif */

enum { L_TAU_SYN, L_TAU_MEM, L_V_LEAK, L_V_TH, L_V_RESET, L_NP };
/* constants in ep->f, shared by lif, lif_refrac, li */
enum { F_CM, F_CS, F_VL, F_VTH, F_VR, F_QOK, F_RHO };

#define LIF_PARAMS                                                                                             \
    {"tau_syn_inv", "1/s", 200.0, "inverse synaptic time constant 1/tau_syn (Norse: 1/5e-3)"},                 \
        {"tau_mem_inv", "1/s", 100.0, "inverse membrane time constant 1/tau_mem (Norse: 1/1e-2)"},             \
        {"v_leak", "1", 0.0, "leak potential; also the initial v"},                                            \
        {"v_th", "1", 1.0, "threshold: a spike when v > v_th after the update"},                               \
        {"v_reset", "1", 0.0, "potential after a spike"}

static const norn_param_info lif_params[] = {LIF_PARAMS};
static const norn_state_info lif_state[] = {
    {"v", "1", "membrane potential", L_V_LEAK},
    {"i", "1", "synaptic current (after this step's decay)", -1},
};
enum { S_V, S_I };

static void lif_consts(norn_euler_pop *ep, int p_syn, int p_mem, int p_vl, int p_th, int p_vr)
{
    float *f = ep->f;
    const double *p = ep->p;
    float dt = (float)ep->dt;
    f[F_CM] = dt * (float)p[p_mem];
    f[F_CS] = -dt * (float)p[p_syn];
    f[F_VL] = (float)p[p_vl];
    f[F_VTH] = p_th >= 0 ? (float)p[p_th] : 0.0f;
    f[F_VR] = p_vr >= 0 ? (float)p[p_vr] : 0.0f;
    /* v' is a convex combination of v and its drive, i decays toward 0 */
    f[F_QOK] = f[F_CM] > 0.0f && f[F_CM] <= 1.0f && f[F_CS] >= -1.0f && f[F_CS] <= 0.0f;
}

static norn_status lif_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "npfff", where, err);
    if (st == NORN_OK)
        lif_consts(ep, L_TAU_SYN, L_TAU_MEM, L_V_LEAK, L_V_TH, L_V_RESET);
    return st;
}

static void lif_init(norn_euler_pop *ep, uint32_t k)
{
    ep->st[S_V][k] = ep->f[F_VL];
    ep->st[S_I][k] = 0.0f;
}

/* Norse's lif step (feed-forward: rec = 0); returns z, writes v' and i'. */
static inline float lif_core(const float *f, float v, float i, float ff, float rec, float *v1, float *i1)
{
    float ij = (i + ff) + rec;                       /* current jump */
    float vd = v + f[F_CM] * ((f[F_VL] - v) + ij);   /* jumped current drives v */
    *i1 = ij + f[F_CS] * ij;                         /* then it decays */
    float z = heav(vd - f[F_VTH]);
    *v1 = (1.0f - z) * vd + z * f[F_VR];
    return z;
}

static int lif_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    float v1, i1;
    float z = lif_core(ep->f, ep->st[S_V][k], ep->st[S_I][k], ff, rec, &v1, &i1);
    ep->st[S_V][k] = v1;
    ep->st[S_I][k] = i1;
    return z != 0.0f;
}

static int lif_quiet_at(const float *f, float v, float i)
{
    if (f[F_QOK] == 0.0f || !isfinite(v) || !isfinite(i))
        return 0;
    double vl = f[F_VL], th = f[F_VTH];
    double b = fmax(v, vl + (i > 0 ? i : 0.0));
    return clear_below(b, th, fabs(v) + fabs(vl) + fabs(i) + fabs(th));
}

static int lif_quiet(const norn_euler_pop *ep, uint32_t k) { return lif_quiet_at(ep->f, ep->st[S_V][k], ep->st[S_I][k]); }

const norn_euler_type norn_euler_lif = {
    .name = "lif",
    .doc = "Norse LIF (LIFCell): current jumps, drives v in the same step, then decays",
    .n_params = L_NP,
    .params = lif_params,
    .n_state = 2,
    .state = lif_state,
    .v_index = S_V,
    .spiking = 1,
    .compile = lif_compile,
    .init = lif_init,
    .step = lif_step,
    .quiet = lif_quiet,
};

/* ------------------------------------------------------------ refractoriness */

/* Norse's compute_refractory_update on the inner step's (z0, v0): mask
 * m = H(rho) of the old rho; while refractory v stays at its previous value
 * and z is masked; rho counts down, and a (masked) spike sets rho_reset. */
static inline float refrac_mask(float z0, float v0, float v_old, float *v1, float *rho, float rho_reset)
{
    float m = heav(*rho);
    *v1 = (1.0f - m) * v0 + m * v_old;
    float z = (1.0f - m) * z0;
    *rho = (1.0f - z) * relu(*rho - m) + z * rho_reset;
    return z;
}

enum { R_RHO = L_NP, R_NP };
static const norn_param_info lif_refrac_params[] = {
    LIF_PARAMS,
    {"rho_reset", "steps", 5.0, "refractory period: v frozen for ceil(rho_reset) steps after a spike"},
};
static const norn_state_info lif_refrac_state[] = {
    {"v", "1", "membrane potential", L_V_LEAK},
    {"i", "1", "synaptic current (integrates during refractoriness too)", -1},
    {"rho", "steps", "refractory counter (> 0: refractory)", -1},
};
enum { S_RHO = 2 };

static norn_status lif_refrac_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "npfffn", where, err);
    if (st == NORN_OK) {
        lif_consts(ep, L_TAU_SYN, L_TAU_MEM, L_V_LEAK, L_V_TH, L_V_RESET);
        ep->f[F_RHO] = (float)ep->p[R_RHO];
    }
    return st;
}

static void lif_refrac_init(norn_euler_pop *ep, uint32_t k)
{
    lif_init(ep, k);
    ep->st[S_RHO][k] = 0.0f;
}

static int lif_refrac_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    float v = ep->st[S_V][k], v0, v1, i1;
    float z0 = lif_core(ep->f, v, ep->st[S_I][k], ff, rec, &v0, &i1);
    float z = refrac_mask(z0, v0, v, &v1, &ep->st[S_RHO][k], ep->f[F_RHO]);
    ep->st[S_V][k] = v1;
    ep->st[S_I][k] = i1;
    return z != 0.0f;
}

const norn_euler_type norn_euler_lif_refrac = {
    .name = "lif_refrac",
    .doc = "Norse LIFRefrac: LIF with v frozen for rho_reset steps after a spike",
    .n_params = R_NP,
    .params = lif_refrac_params,
    .n_state = 3,
    .state = lif_refrac_state,
    .v_index = S_V,
    .spiking = 1,
    .compile = lif_refrac_compile,
    .init = lif_refrac_init,
    .step = lif_refrac_step,
    .quiet = lif_quiet, /* refractoriness only removes spikes */
};

/* ------------------------------------------------------------ lif_box */

enum { B_TAU_MEM, B_V_LEAK, B_V_TH, B_V_RESET, B_RESET_METHOD, B_NP };
enum { FB_CM, FB_VL, FB_VTH, FB_VR, FB_SUB, FB_QOK };
static const norn_param_info lif_box_params[] = {
    {"tau_mem_inv", "1/s", 100.0, "inverse membrane time constant 1/tau_mem"},
    {"v_leak", "1", 0.0, "leak potential; also the initial v"},
    {"v_th", "1", 1.0, "threshold: a spike when v > v_th after the update"},
    {"v_reset", "1", 0.0, "potential after a spike (reset_value)"},
    {"reset_method", "1", 0.0, "Norse's reset_method: 0 = reset_value (v = v_reset), 1 = reset_subtract "
                                "(v = v - v_th)"},
};
static const norn_state_info box_state[] = {{"v", "1", "membrane potential", B_V_LEAK}};

static norn_status lif_box_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "pfffb", where, err);
    if (st != NORN_OK)
        return st;
    float *f = ep->f;
    f[FB_CM] = (float)ep->dt * (float)ep->p[B_TAU_MEM];
    f[FB_VL] = (float)ep->p[B_V_LEAK];
    f[FB_VTH] = (float)ep->p[B_V_TH];
    f[FB_VR] = (float)ep->p[B_V_RESET];
    f[FB_SUB] = (float)ep->p[B_RESET_METHOD];
    f[FB_QOK] = f[FB_CM] > 0.0f && f[FB_CM] <= 1.0f;
    return NORN_OK;
}

static void box_init(norn_euler_pop *ep, uint32_t k) { ep->st[0][k] = ep->f[FB_VL]; }

static int lif_box_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    const float *f = ep->f;
    float v = ep->st[0][k];
    float vd = v + f[FB_CM] * (((ff + rec) + f[FB_VL]) - v); /* Norse: (I + v_leak) - v */
    float z = heav(vd - f[FB_VTH]);
    if (f[FB_SUB] != 0.0f)
        ep->st[0][k] = (1.0f - z) * vd + z * (vd - f[FB_VTH]);
    else
        ep->st[0][k] = (1.0f - z) * vd + z * f[FB_VR];
    return z != 0.0f;
}

static int box_quiet(const norn_euler_pop *ep, uint32_t k)
{
    const float *f = ep->f;
    float v = ep->st[0][k];
    if (f[FB_QOK] == 0.0f || !isfinite(v))
        return 0;
    double vl = f[FB_VL], th = f[FB_VTH];
    return clear_below(fmax(v, vl), th, fabs(v) + fabs(vl) + fabs(th));
}

const norn_euler_type norn_euler_lif_box = {
    .name = "lif_box",
    .doc = "Norse LIFBox: LIF without a synaptic current, the input drives v directly",
    .n_params = B_NP,
    .params = lif_box_params,
    .n_state = 1,
    .state = box_state,
    .v_index = 0,
    .spiking = 1,
    .compile = lif_box_compile,
    .init = box_init,
    .step = lif_box_step,
    .quiet = box_quiet,
};

/* ------------------------------------------------------------ lif_encoder */

/* Norse's lif_current_encoder, the step of constant_current_lif_encode and
 * spike_latency_lif_encode (ConstantCurrentLIFEncoder): no synaptic
 * current, v starts at 0 whatever v_leak is, reset by subtraction
 * v - z (v - v_reset). Takes LIFParameters; tau_syn_inv is unused. */
enum { E_TAU_SYN, E_TAU_MEM, E_V_LEAK, E_V_TH, E_V_RESET, E_NP };
static const norn_param_info lif_encoder_params[] = {LIF_PARAMS};
static const norn_state_info encoder_state[] = {{"v", "1", "membrane potential (starts at 0)", -1}};

static norn_status lif_encoder_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "fpfff", where, err);
    if (st != NORN_OK)
        return st;
    float *f = ep->f;
    f[FB_CM] = (float)ep->dt * (float)ep->p[E_TAU_MEM];
    f[FB_VL] = (float)ep->p[E_V_LEAK];
    f[FB_VTH] = (float)ep->p[E_V_TH];
    f[FB_VR] = (float)ep->p[E_V_RESET];
    f[FB_SUB] = 0.0f;
    f[FB_QOK] = f[FB_CM] > 0.0f && f[FB_CM] <= 1.0f;
    return NORN_OK;
}

static void encoder_init(norn_euler_pop *ep, uint32_t k) { ep->st[0][k] = 0.0f; }

static int lif_encoder_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    const float *f = ep->f;
    float v = ep->st[0][k];
    float vd = v + f[FB_CM] * ((f[FB_VL] - v) + (ff + rec));
    float z = heav(vd - f[FB_VTH]);
    ep->st[0][k] = vd - z * (vd - f[FB_VR]);
    return z != 0.0f;
}

const norn_euler_type norn_euler_lif_encoder = {
    .name = "lif_encoder",
    .doc = "Norse's constant-current LIF encoder (lif_current_encoder): v from 0, reset by subtraction",
    .n_params = E_NP,
    .params = lif_encoder_params,
    .n_state = 1,
    .state = encoder_state,
    .v_index = 0,
    .spiking = 1,
    .compile = lif_encoder_compile,
    .init = encoder_init,
    .step = lif_encoder_step,
    .quiet = box_quiet,
};

/* ------------------------------------------------------------ lif_ex */

enum { X_DELTA_T, X_TAU_SYN, X_TAU_MEM, X_V_LEAK, X_V_TH, X_V_RESET, X_NP };
enum { FX_DT = F_RHO + 1 };
static const norn_param_info lif_ex_params[] = {
    {"delta_T", "1", 0.5, "sharpness of the exponential term"},
    LIF_PARAMS,
};
static const norn_state_info lif_ex_state[] = {
    {"v", "1", "membrane potential", X_V_LEAK},
    {"i", "1", "synaptic current (after this step's decay)", -1},
};

static norn_status lif_ex_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "pnpfff", where, err);
    if (st == NORN_OK) {
        lif_consts(ep, X_TAU_SYN, X_TAU_MEM, X_V_LEAK, X_V_TH, X_V_RESET);
        ep->f[FX_DT] = (float)ep->p[X_DELTA_T];
    }
    return st;
}

static int lif_ex_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    const float *f = ep->f;
    float v = ep->st[S_V][k], i = ep->st[S_I][k];
    float ij = (i + ff) + rec;
    float e = f[FX_DT] * expf((v - f[F_VTH]) / f[FX_DT]); /* old v */
    float vd = v + f[F_CM] * (((f[F_VL] - v) + e) + ij);
    ep->st[S_I][k] = ij + f[F_CS] * ij;
    float z = heav(vd - f[F_VTH]);
    ep->st[S_V][k] = (1.0f - z) * vd + z * f[F_VR];
    return z != 0.0f;
}

static int lif_ex_quiet(const norn_euler_pop *ep, uint32_t k)
{
    const float *f = ep->f;
    float v = ep->st[S_V][k], i = ep->st[S_I][k];
    if (f[F_QOK] == 0.0f || !isfinite(v) || !isfinite(i))
        return 0;
    double vl = f[F_VL], th = f[F_VTH], dT = f[FX_DT];
    return ex_clear_below(v, vl, i > 0 ? i : 0.0, dT, th, fabs(v) + fabs(vl) + fabs(i) + fabs(th) + dT);
}

const norn_euler_type norn_euler_lif_ex = {
    .name = "lif_ex",
    .doc = "Norse LIFEx: exponential LIF, delta_T exp((v - v_th)/delta_T) added to the drive",
    .n_params = X_NP,
    .params = lif_ex_params,
    .n_state = 2,
    .state = lif_ex_state,
    .v_index = S_V,
    .spiking = 1,
    .compile = lif_ex_compile,
    .init = lif_init,
    .step = lif_ex_step,
    .quiet = lif_ex_quiet,
};

/* ------------------------------------------------------------ lif_adex */

enum { A_ADA_CUR, A_ADA_SPIKE, A_DELTA_T, A_TAU_ADA, A_TAU_SYN, A_TAU_MEM, A_V_LEAK, A_V_TH, A_V_RESET, A_NP };
enum { A_RHO = A_NP, AR_NP };
enum { FA_DT = F_RHO + 1, FA_CA, FA_AC, FA_AS };
#define ADEX_PARAMS                                                                                            \
    {"adaptation_current", "1", 4.0, "coupling of a to v - v_leak (subthreshold adaptation)"},                 \
        {"adaptation_spike", "1", 0.02, "increment of a at each spike"},                                       \
        {"delta_T", "1", 0.5, "sharpness of the exponential term"},                                            \
        {"tau_ada_inv", "1/s", 2.0, "inverse adaptation time constant 1/tau_ada"}, LIF_PARAMS
static const norn_param_info lif_adex_params[] = {ADEX_PARAMS};
static const norn_param_info lif_adex_refrac_params[] = {
    ADEX_PARAMS,
    {"rho_reset", "steps", 5.0, "refractory period: v frozen for ceil(rho_reset) steps after a spike"},
};
static const norn_state_info lif_adex_state[] = {
    {"v", "1", "membrane potential", A_V_LEAK},
    {"i", "1", "synaptic current (after this step's decay)", -1},
    {"a", "1", "adaptation current", -1},
    {"rho", "steps", "refractory counter (> 0: refractory)", -1},
};
enum { S_A = 2, S_ARHO = 3 };

static norn_status adex_compile(norn_euler_pop *ep, const char *rules, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, rules, where, err);
    if (st != NORN_OK)
        return st;
    lif_consts(ep, A_TAU_SYN, A_TAU_MEM, A_V_LEAK, A_V_TH, A_V_RESET);
    float *f = ep->f;
    f[FA_DT] = (float)ep->p[A_DELTA_T];
    f[FA_CA] = (float)ep->dt * (float)ep->p[A_TAU_ADA];
    f[FA_AC] = (float)ep->p[A_ADA_CUR];
    f[FA_AS] = (float)ep->p[A_ADA_SPIKE];
    if (ep->type->n_params == AR_NP)
        f[F_RHO] = (float)ep->p[A_RHO];
    return NORN_OK;
}

static norn_status lif_adex_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    return adex_compile(ep, "ffpnnpfff", where, err);
}

static norn_status lif_adex_refrac_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    return adex_compile(ep, "ffpnnpfffn", where, err);
}

static void lif_adex_init(norn_euler_pop *ep, uint32_t k)
{
    lif_init(ep, k);
    ep->st[S_A][k] = 0.0f;
    if (ep->type->n_state > S_ARHO)
        ep->st[S_ARHO][k] = 0.0f;
}

/* Norse's lif_adex step; returns z, writes v', i' and a'. */
static inline float adex_core(const float *f, float v, float i, float a, float ff, float rec, float *v1, float *i1,
                              float *a1)
{
    float ij = (i + ff) + rec;
    float e = f[FA_DT] * expf((v - f[F_VTH]) / f[FA_DT]);      /* old v */
    float vd = v + f[F_CM] * ((((f[F_VL] - v) + e) + ij) - a);
    *i1 = ij + f[F_CS] * ij;
    float ad = a + f[FA_CA] * (f[FA_AC] * (v - f[F_VL]) - a);   /* old v, old a */
    float z = heav(vd - f[F_VTH]);
    *v1 = (1.0f - z) * vd + z * f[F_VR];
    *a1 = ad + z * f[FA_AS];
    return z;
}

static int lif_adex_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    float v1, i1, a1;
    float z = adex_core(ep->f, ep->st[S_V][k], ep->st[S_I][k], ep->st[S_A][k], ff, rec, &v1, &i1, &a1);
    ep->st[S_V][k] = v1;
    ep->st[S_I][k] = i1;
    ep->st[S_A][k] = a1;
    return z != 0.0f;
}

/* Norse quirk: a' keeps the inner step's spike increment even when the
 * refractory mask removes the spike. */
static int lif_adex_refrac_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    float v = ep->st[S_V][k], v0, v1, i1, a1;
    float z0 = adex_core(ep->f, v, ep->st[S_I][k], ep->st[S_A][k], ff, rec, &v0, &i1, &a1);
    float z = refrac_mask(z0, v0, v, &v1, &ep->st[S_ARHO][k], ep->f[F_RHO]);
    ep->st[S_V][k] = v1;
    ep->st[S_I][k] = i1;
    ep->st[S_A][k] = a1;
    return z != 0.0f;
}

/* v and a are coupled (a < 0 depolarizes): no cheap bound. */
static int never_quiet(const norn_euler_pop *ep, uint32_t k)
{
    (void)ep, (void)k;
    return 0;
}

const norn_euler_type norn_euler_lif_adex = {
    .name = "lif_adex",
    .doc = "Norse LIFAdEx: exponential LIF with an adaptation current a",
    .n_params = A_NP,
    .params = lif_adex_params,
    .n_state = 3,
    .state = lif_adex_state,
    .v_index = S_V,
    .spiking = 1,
    .compile = lif_adex_compile,
    .init = lif_adex_init,
    .step = lif_adex_step,
    .quiet = never_quiet,
};

const norn_euler_type norn_euler_lif_adex_refrac = {
    .name = "lif_adex_refrac",
    .doc = "Norse LIFAdExRefrac: LIFAdEx with v frozen for rho_reset steps after a spike",
    .n_params = AR_NP,
    .params = lif_adex_refrac_params,
    .n_state = 4,
    .state = lif_adex_state,
    .v_index = S_V,
    .spiking = 1,
    .compile = lif_adex_refrac_compile,
    .init = lif_adex_init,
    .step = lif_adex_refrac_step,
    .quiet = never_quiet,
};

/* ------------------------------------------------------------ lsnn */

enum { N_TAU_SYN, N_TAU_MEM, N_TAU_ADAPT, N_V_LEAK, N_V_TH, N_V_RESET, N_BETA, N_NP };
enum { FN_CB = F_RHO + 1, FN_BETA };
static const norn_param_info lsnn_params[] = {
    {"tau_syn_inv", "1/s", 200.0, "inverse synaptic time constant 1/tau_syn"},
    {"tau_mem_inv", "1/s", 100.0, "inverse membrane time constant 1/tau_mem"},
    {"tau_adapt_inv", "1/s", 1.0 / 800, "inverse time constant of the threshold's relaxation to v_th"},
    {"v_leak", "1", 0.0, "leak potential; also the initial v"},
    {"v_th", "1", 1.0, "resting threshold; the adaptive threshold b starts here"},
    {"v_reset", "1", 0.0, "potential after a spike"},
    {"beta", "1", 1.8, "increment of the threshold b at each spike"},
};
static const norn_state_info lsnn_state[] = {
    {"v", "1", "membrane potential", N_V_LEAK},
    {"i", "1", "synaptic current (input added after the spike)", -1},
    {"b", "1", "adaptive threshold", N_V_TH},
};
enum { S_B = 2 };

static norn_status lsnn_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "npnffff", where, err);
    if (st != NORN_OK)
        return st;
    lif_consts(ep, N_TAU_SYN, N_TAU_MEM, N_V_LEAK, N_V_TH, N_V_RESET);
    float *f = ep->f;
    f[FN_CB] = (float)ep->dt * (float)ep->p[N_TAU_ADAPT];
    f[FN_BETA] = (float)ep->p[N_BETA];
    if (!(f[FN_CB] <= 1.0f))
        f[F_QOK] = 0.0f;
    return NORN_OK;
}

static void lsnn_init(norn_euler_pop *ep, uint32_t k)
{
    lif_init(ep, k);
    ep->st[S_B][k] = ep->f[F_VTH];
}

/* Norse's older ordering: v with the old current, decays, threshold against
 * the decayed b, reset, and only then the current jump. */
static int lsnn_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    const float *f = ep->f;
    float v = ep->st[S_V][k], i = ep->st[S_I][k], b = ep->st[S_B][k];
    float vd = v + f[F_CM] * ((f[F_VL] - v) + i);
    float id = i + f[F_CS] * i;
    float bd = b + f[FN_CB] * (f[F_VTH] - b);
    float z = heav(vd - bd);
    ep->st[S_V][k] = (1.0f - z) * vd + z * f[F_VR];
    ep->st[S_I][k] = (id + ff) + rec;
    ep->st[S_B][k] = bd + z * f[FN_BETA];
    return z != 0.0f;
}

static int lsnn_quiet(const norn_euler_pop *ep, uint32_t k)
{
    const float *f = ep->f;
    float v = ep->st[S_V][k], i = ep->st[S_I][k], b = ep->st[S_B][k];
    if (f[F_QOK] == 0.0f || !isfinite(v) || !isfinite(i) || !isfinite(b))
        return 0;
    double vl = f[F_VL], th = f[F_VTH];
    /* b relaxes toward v_th, never past it */
    return clear_below(fmax(v, vl + (i > 0 ? i : 0.0)), fmin(b, th),
                       fabs(v) + fabs(vl) + fabs(i) + fabs(th) + fabs(b));
}

const norn_euler_type norn_euler_lsnn = {
    .name = "lsnn",
    .doc = "Norse LSNN (ALIF): LIF with an adaptive threshold b; input reaches v one step later",
    .n_params = N_NP,
    .params = lsnn_params,
    .n_state = 3,
    .state = lsnn_state,
    .v_index = S_V,
    .spiking = 1,
    .compile = lsnn_compile,
    .init = lsnn_init,
    .step = lsnn_step,
    .quiet = lsnn_quiet,
};
