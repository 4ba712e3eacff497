/* models/registry.c - the table of neuron models. */
#include <stdio.h>
#include <string.h>

#include "models/model.h"

extern const norn_model_type norn_model_iaf_delta;
extern const norn_model_type norn_model_lif;
extern const norn_model_type norn_model_li;
extern const norn_model_type norn_model_alif;
extern const norn_model_type norn_model_lif_cond;
extern const norn_model_type norn_model_izhikevich;
extern const norn_model_type norn_model_adex;
extern const norn_model_type norn_model_parrot;

static const norn_model_type *const models[] = {
    &norn_model_iaf_delta,
    &norn_model_lif,
    &norn_model_li,
    &norn_model_alif,
    &norn_model_lif_cond,
    &norn_model_izhikevich,
    &norn_model_adex,
    &norn_model_parrot,
};

#define N_MODELS (sizeof models / sizeof models[0])

size_t norn_model_count(void) { return N_MODELS; }

const norn_model_type *norn_model_at(size_t k) { return k < N_MODELS ? models[k] : NULL; }

const norn_model_type *norn_model_find(const char *name)
{
    for (size_t k = 0; k < N_MODELS; k++)
        if (strcmp(models[k]->name, name) == 0)
            return models[k];
    return NULL;
}

const char *norn_model_names(void)
{
    static char buf[512];
    if (buf[0])
        return buf;
    size_t off = 0;
    for (size_t k = 0; k < N_MODELS && off < sizeof buf; k++)
        off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", k ? ", " : "", models[k]->name);
    return buf;
}

int norn_model_param_index(const norn_model_type *t, const char *name)
{
    for (int k = 0; k < t->n_params; k++)
        if (strcmp(t->params[k].name, name) == 0)
            return k;
    return -1;
}

int norn_model_state_index(const norn_model_type *t, const char *name)
{
    for (int k = 0; k < t->n_state; k++)
        if (strcmp(t->state[k].name, name) == 0)
            return k;
    return -1;
}
