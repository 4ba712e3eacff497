/* models/parrot.c - a relay neuron, as NEST's parrot_neuron: it fires at
 * every time at which its summed input exceeds `threshold` (0 by default,
 * so any excitatory input), and does nothing else. Used to turn a stimulus
 * (Poisson, spike times) into a population of spike sources that can have
 * outgoing, even plastic, synapses, and as a target that only records
 * spike pairs (the STDP window) when its threshold is set above the
 * synaptic weights. Input arriving at one time is summed first, so one
 * time gives one spike (NEST's parrot would repeat the multiplicity). */
#include <math.h>

#include "models/model.h"

enum { P_THRESHOLD, NP };
enum { S_PENDING, NS };

static const norn_param_info params[NP] = {
    [P_THRESHOLD] = {"threshold", "mV", 0.0, "fires when the summed input at one time exceeds this"},
};

static const norn_state_info state[NS] = {
    [S_PENDING] = {"pending", "1", "1 between an input above threshold and its spike", -1},
};

static norn_status compile(norn_model_pop *mp, const char *where, norn_err *err)
{
    if (!isfinite(mp->p[P_THRESHOLD]))
        return NORN_FAIL(err, NORN_EINVAL, where, "params.threshold: must be finite, got %g", mp->p[P_THRESHOLD]);
    return NORN_OK;
}

static int advance(norn_model_pop *mp, uint32_t i, double t0, double t1, double *t_cross)
{
    (void)mp, (void)i, (void)t0, (void)t1, (void)t_cross;
    return 0;
}

static void input(norn_model_pop *mp, uint32_t i, double t, double w)
{
    (void)t;
    if (w > mp->p[P_THRESHOLD])
        mp->st[S_PENDING][i] = 1.0;
}

static int above(const norn_model_pop *mp, uint32_t i, double t)
{
    (void)t;
    return mp->st[S_PENDING][i] != 0.0;
}

static void fire(norn_model_pop *mp, uint32_t i, double t)
{
    (void)t;
    mp->st[S_PENDING][i] = 0.0;
}

static int may_fire(const norn_model_pop *mp, uint32_t i, double t)
{
    (void)mp, (void)i, (void)t;
    return 0;
}

const norn_model_type norn_model_parrot = {
    .name = "parrot",
    .doc = "relay: fires when the summed input at one time exceeds `threshold`, as NEST parrot_neuron",
    .input_unit = "mV",
    .n_params = NP,
    .params = params,
    .n_state = NS,
    .state = state,
    .n_hidden = 0,
    .v_index = S_PENDING,
    .n_channels = 1,
    .compile = compile,
    .advance = advance,
    .input = input,
    .above = above,
    .fire = fire,
    .may_fire = may_fire,
};
