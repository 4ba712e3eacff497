/* models/norse_other.c - Norse's other single-compartment models in euler
 * mode: li and li_box (leaky integrators, no spikes: the output is v), iaf,
 * izhikevich and coba_lif (conductance based).
 *
 * As in models/norse_lif.c: Norse's (commit 065a3b45) float32 arithmetic
 * written out literally in Norse's order, threshold where(x <= 0, 0, 1),
 * resets as (1 - z) v + z r. Build with -ffp-contract=off.
 */
#include <math.h>

#include "models/euler.h"

/* models/euler.c */
norn_status norn__euler_check(const norn_euler_pop *ep, const char *rules, const char *where, norn_err *err);
/* here, for engine/cell.c: Norse's CobaLIFCell step (see below) */
int norn__coba_lif_rec_step(norn_euler_pop *ep, uint32_t k, float g_e_in, float g_i_in);

static inline float heav(float x) { return x <= 0.0f ? 0.0f : 1.0f; }
static inline float relu(float x) { return x < 0.0f ? 0.0f : x; }

static int always_quiet(const norn_euler_pop *ep, uint32_t k)
{
    (void)ep, (void)k;
    return 1;
}

static int never_quiet(const norn_euler_pop *ep, uint32_t k)
{
    (void)ep, (void)k;
    return 0;
}

/* ------------------------------------------------------------ li, li_box */

enum { I_TAU_SYN, I_TAU_MEM, I_V_LEAK, I_NP };
enum { IB_TAU_MEM, IB_V_LEAK, IB_NP };
enum { FI_CM, FI_CS, FI_VL };
static const norn_param_info li_params[] = {
    {"tau_syn_inv", "1/s", 200.0, "inverse synaptic time constant 1/tau_syn"},
    {"tau_mem_inv", "1/s", 100.0, "inverse membrane time constant 1/tau_mem"},
    {"v_leak", "1", 0.0, "leak potential; also the initial v"},
};
static const norn_state_info li_state[] = {
    {"v", "1", "membrane potential, the output", I_V_LEAK},
    {"i", "1", "synaptic current (after this step's decay)", -1},
};
static const norn_param_info li_box_params[] = {
    {"tau_mem_inv", "1/s", 100.0, "inverse membrane time constant 1/tau_mem"},
    {"v_leak", "1", 0.0, "leak potential; also the initial v"},
};
static const norn_state_info li_box_state[] = {{"v", "1", "membrane potential, the output", IB_V_LEAK}};

static norn_status li_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "npf", where, err);
    if (st != NORN_OK)
        return st;
    float dt = (float)ep->dt;
    ep->f[FI_CM] = dt * (float)ep->p[I_TAU_MEM];
    ep->f[FI_CS] = -dt * (float)ep->p[I_TAU_SYN];
    ep->f[FI_VL] = (float)ep->p[I_V_LEAK];
    return NORN_OK;
}

static void li_init(norn_euler_pop *ep, uint32_t k)
{
    ep->st[0][k] = ep->f[FI_VL];
    ep->st[1][k] = 0.0f;
}

/* Norse's li_feed_forward_step / LILinearCell: LIF without threshold. */
static int li_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    const float *f = ep->f;
    float v = ep->st[0][k], i = ep->st[1][k];
    float ij = (i + ff) + rec;
    ep->st[0][k] = v + f[FI_CM] * ((f[FI_VL] - v) + ij);
    ep->st[1][k] = ij + f[FI_CS] * ij;
    return 0;
}

static norn_status li_box_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "pf", where, err);
    if (st != NORN_OK)
        return st;
    ep->f[FI_CM] = (float)ep->dt * (float)ep->p[IB_TAU_MEM];
    ep->f[FI_VL] = (float)ep->p[IB_V_LEAK];
    return NORN_OK;
}

static void li_box_init(norn_euler_pop *ep, uint32_t k) { ep->st[0][k] = ep->f[FI_VL]; }

static int li_box_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    const float *f = ep->f;
    float v = ep->st[0][k];
    ep->st[0][k] = v + f[FI_CM] * ((f[FI_VL] - v) + (ff + rec));
    return 0;
}

const norn_euler_type norn_euler_li = {
    .name = "li",
    .doc = "Norse LI (LICell): leaky integrator with a synaptic current, no spikes; the output is v",
    .n_params = I_NP,
    .params = li_params,
    .n_state = 2,
    .state = li_state,
    .v_index = 0,
    .spiking = 0,
    .compile = li_compile,
    .init = li_init,
    .step = li_step,
    .quiet = always_quiet,
};

const norn_euler_type norn_euler_li_box = {
    .name = "li_box",
    .doc = "Norse LIBox: leaky integrator without a synaptic current, no spikes; the output is v",
    .n_params = IB_NP,
    .params = li_box_params,
    .n_state = 1,
    .state = li_box_state,
    .v_index = 0,
    .spiking = 0,
    .compile = li_box_compile,
    .init = li_box_init,
    .step = li_box_step,
    .quiet = always_quiet,
};

/* ------------------------------------------------------------ iaf */

enum { F_V_TH, F_V_RESET, F_NP };
static const norn_param_info iaf_params[] = {
    {"v_th", "1", 1.0, "threshold: a spike when v > v_th after the input"},
    {"v_reset", "1", 0.0, "potential after a spike; also the initial v"},
};
static const norn_state_info iaf_state[] = {{"v", "1", "membrane potential", F_V_RESET}};

static norn_status iaf_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "ff", where, err);
    if (st != NORN_OK)
        return st;
    ep->f[0] = (float)ep->p[F_V_TH];
    ep->f[1] = (float)ep->p[F_V_RESET];
    return NORN_OK;
}

static void iaf_init(norn_euler_pop *ep, uint32_t k) { ep->st[0][k] = ep->f[1]; }

/* Norse's iaf_feed_forward_step / iaf_step: no leak, dt unused. */
static int iaf_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    float vd = (ep->st[0][k] + ff) + rec;
    float z = heav(vd - ep->f[0]);
    ep->st[0][k] = (1.0f - z) * vd + z * ep->f[1];
    return z != 0.0f;
}

/* Without input v stays as it is: exact. */
static int iaf_quiet(const norn_euler_pop *ep, uint32_t k) { return ep->st[0][k] - ep->f[0] <= 0.0f; }

const norn_euler_type norn_euler_iaf = {
    .name = "iaf",
    .doc = "Norse IAF: integrate-and-fire without leak, input adds to v",
    .n_params = F_NP,
    .params = iaf_params,
    .n_state = 1,
    .state = iaf_state,
    .v_index = 0,
    .spiking = 1,
    .compile = iaf_compile,
    .init = iaf_init,
    .step = iaf_step,
    .quiet = iaf_quiet,
};

/* ------------------------------------------------------------ izhikevich */

/* Norse's IzhikevichParameters (plain Python floats): a, b, c, d required;
 * plus v_rest, the initial v of create_izhikevich_spiking_behavior (the
 * initial u is fl32(v_rest) * fl32(b), as torch.tensor(v_rest) * b). The
 * behaviours of Norse are presets (models/euler.c). k_v = fl32(tau_inv*dt)
 * and k_u = fl32(tau_inv*dt*a) are products of Python floats, formed in
 * double and rounded once. */
enum { Z_A, Z_B, Z_C, Z_D, Z_SQ, Z_MN, Z_BIAS, Z_V_TH, Z_TAU, Z_V_REST, Z_NP };
enum { FZ_KV, FZ_KU, FZ_SQ, FZ_MN, FZ_BIAS, FZ_B, FZ_C, FZ_D, FZ_VTH, FZ_V0, FZ_U0 };
static const norn_param_info izh_params[] = {
    {"a", "1", NAN, "time scale of the recovery variable u (required, or a preset)"},
    {"b", "1", NAN, "sensitivity of u to v (required, or a preset)"},
    {"c", "1", NAN, "v after a spike (required, or a preset)"},
    {"d", "1", NAN, "increment of u at a spike (required, or a preset)"},
    {"sq", "1", 0.04, "coefficient of v^2"},
    {"mn", "1", 5.0, "coefficient of v"},
    {"bias", "1", 140.0, "constant drive"},
    {"v_th", "1", 30.0, "threshold: a spike when v > v_th after the update"},
    {"tau_inv", "1/s", 250.0, "time scale: one step advances the model by tau_inv*dt (0.25 ms with dt 0.001)"},
    {"v_rest", "1", -70.0, "initial v (create_izhikevich_spiking_behavior); initial u = b * v_rest"},
};
static const norn_state_info izh_state[] = {
    {"v", "1", "membrane potential", Z_V_REST},
    {"u", "1", "recovery variable (initially b * v_rest)", -1},
};

static norn_status izh_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "rrrrffffpf", where, err);
    if (st != NORN_OK)
        return st;
    const double *p = ep->p;
    float *f = ep->f;
    double kv = p[Z_TAU] * ep->dt;
    f[FZ_KV] = (float)kv;
    f[FZ_KU] = (float)(kv * p[Z_A]);
    f[FZ_SQ] = (float)p[Z_SQ];
    f[FZ_MN] = (float)p[Z_MN];
    f[FZ_BIAS] = (float)p[Z_BIAS];
    f[FZ_B] = (float)p[Z_B];
    f[FZ_C] = (float)p[Z_C];
    f[FZ_D] = (float)p[Z_D];
    f[FZ_VTH] = (float)p[Z_V_TH];
    f[FZ_V0] = (float)p[Z_V_REST];
    f[FZ_U0] = f[FZ_V0] * f[FZ_B];
    return NORN_OK;
}

static void izh_init(norn_euler_pop *ep, uint32_t k)
{
    ep->st[0][k] = ep->f[FZ_V0];
    ep->st[1][k] = ep->f[FZ_U0];
}

/* The input is a current for this step only (no synaptic filter). */
static int izh_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    const float *f = ep->f;
    float v = ep->st[0][k], u = ep->st[1][k];
    float s = ((((f[FZ_SQ] * (v * v) + f[FZ_MN] * v) + f[FZ_BIAS]) - u) + ff) + rec;
    float vd = v + f[FZ_KV] * s;
    float ud = u + f[FZ_KU] * (f[FZ_B] * v - u); /* old v */
    float z = heav(vd - f[FZ_VTH]);
    ep->st[0][k] = (1.0f - z) * vd + z * f[FZ_C];
    ep->st[1][k] = (1.0f - z) * ud + z * (ud + f[FZ_D]);
    return z != 0.0f;
}

const norn_euler_type norn_euler_izhikevich = {
    .name = "izhikevich",
    .doc = "Norse Izhikevich: v' = v + k (0.04 v^2 + 5 v + 140 - u + I); presets for Norse's behaviours",
    .n_params = Z_NP,
    .params = izh_params,
    .n_state = 2,
    .state = izh_state,
    .v_index = 0,
    .spiking = 1,
    .compile = izh_compile,
    .init = izh_init,
    .step = izh_step,
    .quiet = never_quiet, /* can rebound (rebound_spike, inhibition_induced_*) */
};

/* ------------------------------------------------------------ coba_lif */

/* Norse's CobaLIFParameters; all are 0-d float32 tensors (the integer ones
 * promoted). The state starts at v = 0, not v_rest: with the defaults
 * every neuron spikes at step 0. */
enum { C_TAU_E, C_TAU_I, C_CM_INV, C_G_L, C_E_I, C_E_E, C_V_REST, C_V_RESET, C_V_TH, C_NP };
enum { FC_CE, FC_CI, FC_K, FC_GL, FC_EI, FC_EE, FC_VREST, FC_VR, FC_VTH, FC_QOK };
static const norn_param_info coba_params[] = {
    {"tau_syn_exc_inv", "1/s", 1.0 / 5, "inverse time constant of the excitatory conductance"},
    {"tau_syn_inh_inv", "1/s", 1.0 / 5, "inverse time constant of the inhibitory conductance"},
    {"c_m_inv", "1", 1 / 0.2, "inverse membrane capacitance"},
    {"g_l", "1", 1.0 / 20 * 1 / 0.2, "leak conductance"},
    {"e_rev_I", "1", -100.0, "inhibitory reversal potential"},
    {"e_rev_E", "1", 60.0, "excitatory reversal potential"},
    {"v_rest", "1", -20.0, "resting potential (not the initial v, which is 0)"},
    {"v_reset", "1", -70.0, "potential after a spike"},
    {"v_thresh", "1", -10.0, "threshold: a spike when v > v_thresh after the update"},
};
static const norn_state_info coba_state[] = {
    {"v", "1", "membrane potential (starts at 0, as Norse's CobaLIFCell)", -1},
    {"g_e", "1", "excitatory conductance", -1},
    {"g_i", "1", "inhibitory conductance", -1},
};

static norn_status coba_compile(norn_euler_pop *ep, const char *where, norn_err *err)
{
    norn_status st = norn__euler_check(ep, "nnpnfffff", where, err);
    if (st != NORN_OK)
        return st;
    const double *p = ep->p;
    float *f = ep->f, dt = (float)ep->dt;
    f[FC_CE] = -dt * (float)p[C_TAU_E];
    f[FC_CI] = -dt * (float)p[C_TAU_I];
    f[FC_K] = dt * (float)p[C_CM_INV];
    f[FC_GL] = (float)p[C_G_L];
    f[FC_EI] = (float)p[C_E_I];
    f[FC_EE] = (float)p[C_E_E];
    f[FC_VREST] = (float)p[C_V_REST];
    f[FC_VR] = (float)p[C_V_RESET];
    f[FC_VTH] = (float)p[C_V_TH];
    f[FC_QOK] = f[FC_CE] >= -1.0f && f[FC_CI] >= -1.0f;
    return NORN_OK;
}

static void coba_init(norn_euler_pop *ep, uint32_t k)
{
    ep->st[0][k] = 0.0f;
    ep->st[1][k] = 0.0f;
    ep->st[2][k] = 0.0f;
}

/* The conductances after their jumps: decay, then drive v (old v). */
static inline int coba_rest(norn_euler_pop *ep, uint32_t k, float ge, float gi)
{
    const float *f = ep->f;
    float v = ep->st[0][k];
    ge = ge + f[FC_CE] * ge;
    gi = gi + f[FC_CI] * gi;
    float vd = v + f[FC_K] * ((f[FC_GL] * (f[FC_VREST] - v) + ge * (f[FC_EE] - v)) + gi * (f[FC_EI] - v));
    float z = heav(vd - f[FC_VTH]);
    ep->st[0][k] = (1.0f - z) * vd + z * f[FC_VR];
    ep->st[1][k] = ge;
    ep->st[2][k] = gi;
    return z != 0.0f;
}

/* Norse's coba_lif_feed_forward_step: a signed current I = ff + rec,
 * g_e += relu(I), g_i += relu(-I). */
static int coba_step(norn_euler_pop *ep, uint32_t k, float ff, float rec)
{
    float in = ff + rec;
    return coba_rest(ep, k, ep->st[1][k] + relu(in), ep->st[2][k] + relu(-in));
}

/* Norse's coba_lif_step (CobaLIFCell) with g_e_in = relu(W_rec) z and
 * g_i_in = relu(-W_rec) z. Norse quirk: its input contributions
 * relu(+-W_in) x are computed and then overwritten (g = g_old + rec), so
 * input never reaches the cell; this step has no input argument. */
int norn__coba_lif_rec_step(norn_euler_pop *ep, uint32_t k, float g_e_in, float g_i_in)
{
    return coba_rest(ep, k, ep->st[1][k] + g_e_in, ep->st[2][k] + g_i_in);
}

/* Quiet once g_e is exactly 0 (it then stays 0) and v is held below
 * v_thresh by a convex combination of v, v_rest and e_rev_I. */
static int coba_quiet(const norn_euler_pop *ep, uint32_t k)
{
    const float *f = ep->f;
    float v = ep->st[0][k], ge = ep->st[1][k], gi = ep->st[2][k];
    if (f[FC_QOK] == 0.0f || ge != 0.0f || !isfinite(v) || !(gi >= 0.0f) || !isfinite(gi))
        return 0;
    double gl = f[FC_GL], k_ = f[FC_K];
    if (k_ * (gl + gi) > 1.0)
        return 0;
    double b = v;
    if (gl > 0)
        b = fmax(b, f[FC_VREST]);
    if (gi > 0)
        b = fmax(b, f[FC_EI]);
    double th = f[FC_VTH];
    double scale = fabs(v) + fabs(f[FC_VREST]) + fabs(f[FC_EI]) + fabs(th);
    return b + 1e-6 * scale < th;
}

const norn_euler_type norn_euler_coba_lif = {
    .name = "coba_lif",
    .doc = "Norse conductance-based LIF: input splits by sign into g_e and g_i; v starts at 0",
    .n_params = C_NP,
    .params = coba_params,
    .n_state = 3,
    .state = coba_state,
    .v_index = 0,
    .spiking = 1,
    .compile = coba_compile,
    .init = coba_init,
    .step = coba_step,
    .quiet = coba_quiet,
};
