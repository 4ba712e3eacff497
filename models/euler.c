/* models/euler.c - the table of euler-mode (Norse) models, their presets,
 * and the parameter checks the models share.
 *
 * Presets: Izhikevich's spiking behaviours of Norse
 * (norse/torch/functional/izhikevich.py), with their initial states.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/euler.h"

extern const norn_euler_type norn_euler_lif;
extern const norn_euler_type norn_euler_lif_box;
extern const norn_euler_type norn_euler_lif_refrac;
extern const norn_euler_type norn_euler_lif_ex;
extern const norn_euler_type norn_euler_lif_adex;
extern const norn_euler_type norn_euler_lif_adex_refrac;
extern const norn_euler_type norn_euler_li;
extern const norn_euler_type norn_euler_li_box;
extern const norn_euler_type norn_euler_lsnn;
extern const norn_euler_type norn_euler_izhikevich;
extern const norn_euler_type norn_euler_iaf;
extern const norn_euler_type norn_euler_coba_lif;
extern const norn_euler_type norn_euler_lif_encoder;

static const norn_euler_type *const models[] = {
    &norn_euler_lif,        &norn_euler_lif_box,        &norn_euler_lif_refrac, &norn_euler_lif_ex,
    &norn_euler_lif_adex,   &norn_euler_lif_adex_refrac, &norn_euler_li,        &norn_euler_li_box,
    &norn_euler_lsnn,       &norn_euler_izhikevich,     &norn_euler_iaf,        &norn_euler_coba_lif,
    &norn_euler_lif_encoder,
};

#define N_MODELS (sizeof models / sizeof models[0])

size_t norn_euler_count(void) { return N_MODELS; }

const norn_euler_type *norn_euler_at(size_t k) { return k < N_MODELS ? models[k] : NULL; }

const norn_euler_type *norn_euler_find(const char *name)
{
    for (size_t k = 0; name && k < N_MODELS; k++)
        if (strcmp(models[k]->name, name) == 0)
            return models[k];
    return NULL;
}

const char *norn_euler_names(void)
{
    /* built from constant tables: every call writes the same bytes */
    static char buf[512];
    if (buf[0])
        return buf;
    char tmp[sizeof buf];
    size_t off = 0;
    for (size_t k = 0; k < N_MODELS && off < sizeof tmp; k++)
        off += (size_t)snprintf(tmp + off, sizeof tmp - off, "%s%s", k ? ", " : "", models[k]->name);
    memcpy(buf, tmp, sizeof buf);
    return buf;
}

int norn_euler_param_index(const norn_euler_type *t, const char *name)
{
    for (int k = 0; name && k < t->n_params; k++)
        if (strcmp(t->params[k].name, name) == 0)
            return k;
    return -1;
}

int norn_euler_state_index(const norn_euler_type *t, const char *name)
{
    for (int k = 0; name && k < t->n_state; k++)
        if (strcmp(t->state[k].name, name) == 0)
            return k;
    return -1;
}

/* ------------------------------------------------------------ presets */

/* Norse's IzhikevichSpikingBehavior table: parameters and the initial state
 * (v0 = v_rest; u0 = fl32(u_rest) * fl32(b), as torch.tensor(u_rest) * b;
 * accomodation's u0 = -16 is given as is, b = 1 there). */
typedef struct {
    const char *name;
    double a, b, c, d, tau_inv, mn, bias, v_rest, u_rest;
} izh_preset;

static const izh_preset izh_presets[] = {
    {"tonic_spiking", 0.02, 0.2, -65, 6, 250, 5, 140, -70, -70},
    {"phasic_spiking", 0.02, 0.25, -65, 6, 250, 5, 140, -64, -64},
    {"tonic_bursting", 0.02, 0.2, -50, 2, 250, 5, 140, -70, -70},
    {"phasic_bursting", 0.02, 0.25, -55, 0.05, 200, 5, 140, -64, -64},
    {"mixed_mode", 0.02, 0.2, -55, 4, 250, 5, 140, -70, -70},
    {"spike_frequency_adaptation", 0.01, 0.2, -65, 8, 250, 5, 140, -70, -70},
    {"class_1_exc", 0.02, -0.1, -55, 6, 250, 4.1, 108, -60, -60},
    {"class_2_exc", 0.2, 0.26, -65, 0, 250, 5, 140, -64, -64},
    {"spike_latency", 0.02, 0.2, -65, 6, 250, 5, 140, -70, -70},
    {"subthreshold_oscillation", 0.05, 0.26, -60, 0, 250, 5, 140, -62, -62},
    {"resonator", 0.1, 0.26, -60, -1, 250, 5, 140, -62, -62},
    {"integrator", 0.02, -0.1, -55, 6, 250, 4.1, 108, -60, -60},
    {"rebound_spike", 0.03, 0.25, -60, 4, 200, 5, 140, -64, -64},
    {"rebound_burst", 0.03, 0.25, -52, 0, 200, 5, 140, -64, -64},
    {"threshold_variability", 0.03, 0.25, -60, 4, 250, 5, 140, -64, -64},
    {"bistability", 0.1, 0.26, -60, 0, 250, 5, 140, -61, -61},
    {"dap", 1.0, 0.2, -60, -21, 100, 5, 140, -70, -70},
    {"accomodation", 0.02, 1.0, -55, 4, 500, 5, 140, -65, -16},
    {"inhibition_induced_spiking", -0.02, -1.0, -60, 8, 250, 5, 140, -63.8, -63.8},
    {"inhibition_induced_bursting", -0.026, -1.0, -45, -2, 250, 5, 140, -63.8, -63.8},
};

#define N_IZH (sizeof izh_presets / sizeof izh_presets[0])

int norn_euler_preset(const norn_euler_type *t, const char *preset, double *params, double *init_state,
                      int *has_init)
{
    if (t != &norn_euler_izhikevich || preset == NULL)
        return 0;
    for (size_t k = 0; k < N_IZH; k++) {
        const izh_preset *z = &izh_presets[k];
        if (strcmp(z->name, preset) != 0)
            continue;
        for (int j = 0; j < t->n_params; j++)
            params[j] = t->params[j].def;
        static const char *const names[] = {"a", "b", "c", "d", "tau_inv", "mn", "bias", "v_rest"};
        const double vals[] = {z->a, z->b, z->c, z->d, z->tau_inv, z->mn, z->bias, z->v_rest};
        for (size_t j = 0; j < sizeof names / sizeof names[0]; j++)
            params[norn_euler_param_index(t, names[j])] = vals[j];
        for (int j = 0; j < t->n_state; j++)
            init_state[j] = 0.0, has_init[j] = 0;
        int iv = norn_euler_state_index(t, "v"), iu = norn_euler_state_index(t, "u");
        init_state[iv] = (double)(float)z->v_rest;
        init_state[iu] = (double)((float)z->u_rest * (float)z->b);
        has_init[iv] = has_init[iu] = 1;
        return 1;
    }
    return 0;
}

const char *norn_euler_preset_names(const norn_euler_type *t)
{
    static char buf[1024];
    if (t != &norn_euler_izhikevich)
        return "";
    if (buf[0])
        return buf;
    char tmp[sizeof buf];
    size_t off = 0;
    for (size_t k = 0; k < N_IZH && off < sizeof tmp; k++)
        off += (size_t)snprintf(tmp + off, sizeof tmp - off, "%s%s", k ? ", " : "", izh_presets[k].name);
    memcpy(buf, tmp, sizeof buf);
    return buf;
}

/* ------------------------------------------------------------ checks */

/* Shared by models/norse_*.c (declared there): checks dt and ep->p against
 * rules, one character per parameter in table order:
 *   'f' finite, 'p' > 0, 'n' >= 0, 'r' required (no default) and finite,
 *   'b' a flag, 0 or 1.
 * Every value must also be finite as a float32 (|x| <= FLT_MAX). */
norn_status norn__euler_check(const norn_euler_pop *ep, const char *rules, const char *where, norn_err *err);

norn_status norn__euler_check(const norn_euler_pop *ep, const char *rules, const char *where, norn_err *err)
{
    const norn_euler_type *t = ep->type;
    if (!(ep->dt > 0) || !isfinite(ep->dt) || ep->dt > FLT_MAX)
        return NORN_FAIL(err, NORN_EINVAL, where, "dt: must be > 0 and finite, got %g", ep->dt);
    for (int k = 0; k < t->n_params; k++) {
        const char *nm = t->params[k].name;
        double x = ep->p[k];
        char r = rules[k];
        if (r == 'r' && isnan(x))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: required (%s has no default for it%s%s)", nm,
                             t->name, *norn_euler_preset_names(t) ? "; or use a preset: " : "",
                             norn_euler_preset_names(t));
        if (!isfinite(x))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be finite, got %g", nm, x);
        if (fabs(x) > FLT_MAX)
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be finite in float32 (|x| <= %g), got %g",
                             nm, (double)FLT_MAX, x);
        if (r == 'p' && !(x > 0))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be > 0, got %g", nm, x);
        if (r == 'n' && !(x >= 0))
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be >= 0, got %g", nm, x);
        if (r == 'b' && x != 0 && x != 1)
            return NORN_FAIL(err, NORN_EINVAL, where, "params.%s: must be 0 or 1, got %g", nm, x);
    }
    return NORN_OK;
}
