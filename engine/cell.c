/* engine/cell.c - Norse's cell API on top of the euler models.
 *
 * A cell holds the compiled parameters (a norn_euler_pop without state)
 * and, for a recurrent cell, W_in and W_rec as CSR rows (one row per
 * postsynaptic neuron, zeros dropped, columns ascending). A state holds the
 * float32 state arrays and the spikes of the last step. A step reads the
 * cell only, so one cell can step many states (also from several threads,
 * one state per thread).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/cell.h"
#include "engine/mem.h"
#include "models/euler.h"

/* models/norse_other.c: Norse's CobaLIFCell step, given relu(W_rec) z and
 * relu(-W_rec) z (input spikes never reach it: a Norse quirk). */
int norn__coba_lif_rec_step(norn_euler_pop *ep, uint32_t k, float g_e_in, float g_i_in);

typedef struct {
    uint64_t *ptr; /* [rows + 1] */
    uint32_t *col; /* [nnz] */
    float *val;    /* [nnz] */
} csr;

struct norn_cell {
    const norn_euler_type *type;
    norn_euler_pop ep; /* parameters and constants; ep.st unused */
    uint32_t n, n_in;
    int recurrent;     /* made by norn_cell_create_recurrent */
    int coba;          /* a recurrent coba_lif: Norse's CobaLIFCell */
    int has_init[NORN_EULER_MAX_STATE]; /* a preset's initial state */
    float init_val[NORN_EULER_MAX_STATE];
    csr w_in, w_rec;   /* w_rec.ptr == NULL: no recurrent weights */
};

struct norn_cell_state {
    const norn_euler_type *type;
    uint32_t n;
    float *st[NORN_EULER_MAX_STATE];
    float *z;      /* [n] spikes of the last step, 0/1 */
    float *z_next; /* [n] scratch of a recurrent step */
};

static void csr_free(csr *m)
{
    norn_free(m->ptr);
    norn_free(m->col);
    norn_free(m->val);
    memset(m, 0, sizeof *m);
}

/* Dense row-major [rows][cols] -> CSR without the zeros. */
static norn_status csr_build(csr *m, const float *w, uint32_t rows, uint32_t cols, const char *what, norn_err *err)
{
    uint64_t nnz = 0;
    for (uint64_t q = 0; q < (uint64_t)rows * cols; q++) {
        if (!isfinite(w[q]))
            return NORN_FAIL(err, NORN_EINVAL, NULL, "%s[%llu][%llu]: must be finite, got %g", what,
                             (unsigned long long)(q / cols), (unsigned long long)(q % cols), (double)w[q]);
        nnz += w[q] != 0.0f;
    }
    m->ptr = norn_malloc_n((size_t)rows + 1, sizeof *m->ptr);
    m->col = norn_malloc_n(nnz ? nnz : 1, sizeof *m->col);
    m->val = norn_malloc_n(nnz ? nnz : 1, sizeof *m->val);
    if (!m->ptr || !m->col || !m->val) {
        csr_free(m);
        return NORN_FAIL(err, NORN_ENOMEM, NULL, "%s: cannot allocate %llu weights", what, (unsigned long long)nnz);
    }
    uint64_t k = 0;
    for (uint32_t r = 0; r < rows; r++) {
        m->ptr[r] = k;
        for (uint32_t c = 0; c < cols; c++) {
            float x = w[(uint64_t)r * cols + c];
            if (x != 0.0f) {
                m->col[k] = c;
                m->val[k++] = x;
            }
        }
    }
    m->ptr[rows] = k;
    return NORN_OK;
}

/* Row r of m times x, in column order, float32 (Norse's linear(x, W)[r]). */
static inline float csr_dot(const csr *m, uint32_t r, const float *x)
{
    float s = 0.0f;
    for (uint64_t q = m->ptr[r]; q < m->ptr[r + 1]; q++)
        s += m->val[q] * x[m->col[q]];
    return s;
}

static void join_params(const norn_euler_type *t, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    for (int k = 0; k < t->n_params && off < len; k++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", k ? ", " : "", t->params[k].name);
}

void norn_cell_destroy(norn_cell *c)
{
    if (!c)
        return;
    csr_free(&c->w_in);
    csr_free(&c->w_rec);
    norn_free(c);
}

/* Everything but the weights: model[:preset], parameters, compile. */
static norn_status cell_new(const char *model, uint32_t n, const char *const *param_names,
                            const double *param_values, int n_params, double dt, norn_cell **out, norn_err *err)
{
    char name[128];
    if (!model || !out)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "model and out must not be NULL");
    size_t len = strcspn(model, ":");
    if (len >= sizeof name)
        len = sizeof name - 1;
    memcpy(name, model, len);
    name[len] = 0;
    const char *preset = model[len] == ':' ? model + len + 1 : NULL;
    const norn_euler_type *t = norn_euler_find(name);
    if (!t)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "unknown model '%s'; known: %s", name, norn_euler_names());
    if (n == 0)
        return NORN_FAIL(err, NORN_EINVAL, t->name, "n: must be > 0, got 0");
    if (n_params < 0 || (n_params > 0 && (!param_names || !param_values)))
        return NORN_FAIL(err, NORN_EINVAL, t->name, "params: %d names and values expected", n_params);

    norn_cell *c = norn_calloc_n(1, sizeof *c);
    if (!c)
        return NORN_FAIL(err, NORN_ENOMEM, t->name, "cannot allocate a cell");
    norn_status st = NORN_EINVAL;
    c->type = t;
    c->n = n;
    c->ep.type = t;
    c->ep.n = n;
    c->ep.dt = dt;
    for (int k = 0; k < t->n_params; k++)
        c->ep.p[k] = t->params[k].def;
    if (preset) {
        double init[NORN_EULER_MAX_STATE] = {0};
        int has[NORN_EULER_MAX_STATE] = {0};
        if (!norn_euler_preset(t, preset, c->ep.p, init, has)) {
            const char *known = norn_euler_preset_names(t);
            if (*known)
                NORN_FAIL(err, NORN_EINVAL, t->name, "unknown preset '%s' of model '%s'; known: %s", preset, t->name,
                          known);
            else
                NORN_FAIL(err, NORN_EINVAL, t->name, "model '%s' has no presets (asked for '%s')", t->name, preset);
            goto fail;
        }
        for (int v = 0; v < t->n_state; v++) {
            c->has_init[v] = has[v];
            c->init_val[v] = (float)init[v];
        }
    }
    int given[NORN_MAX_PARAMS] = {0};
    for (int k = 0; k < n_params; k++) {
        int i = norn_euler_param_index(t, param_names[k]);
        if (i < 0) {
            char list[512];
            join_params(t, list, sizeof list);
            NORN_FAIL(err, NORN_EINVAL, t->name, "params.%s: unknown parameter of model '%s'; known: %s",
                      param_names[k] ? param_names[k] : "(null)", t->name, list);
            goto fail;
        }
        if (given[i]++) {
            NORN_FAIL(err, NORN_EINVAL, t->name, "params.%s: given twice", param_names[k]);
            goto fail;
        }
        c->ep.p[i] = param_values[k];
    }
    if ((st = t->compile(&c->ep, t->name, err)) != NORN_OK)
        goto fail;
    *out = c;
    return NORN_OK;
fail:
    norn_cell_destroy(c);
    return st;
}

norn_status norn_cell_create(const char *model, uint32_t n, const char *const *param_names,
                             const double *param_values, int n_params, double dt, norn_cell **out, norn_err *err)
{
    return cell_new(model, n, param_names, param_values, n_params, dt, out, err);
}

norn_status norn_cell_create_recurrent(const char *model, uint32_t n, uint32_t n_in, const float *w_in,
                                       const float *w_rec, const char *const *param_names,
                                       const double *param_values, int n_params, double dt, norn_cell **out,
                                       norn_err *err)
{
    norn_cell *c = NULL;
    norn_status st = cell_new(model, n, param_names, param_values, n_params, dt, &c, err);
    if (st != NORN_OK)
        return st;
    c->recurrent = 1;
    c->n_in = n_in;
    c->coba = strcmp(c->type->name, "coba_lif") == 0;
    if (!w_in && n_in > 0) {
        st = NORN_FAIL(err, NORN_EINVAL, c->type->name, "w_in: NULL for n_in = %u", n_in);
        goto fail;
    }
    if ((st = csr_build(&c->w_in, w_in, n, n_in, "w_in", err)) != NORN_OK)
        goto fail;
    if (w_rec && (st = csr_build(&c->w_rec, w_rec, n, n, "w_rec", err)) != NORN_OK)
        goto fail;
    *out = c;
    return NORN_OK;
fail:
    norn_cell_destroy(c);
    return st;
}

void norn_cell_state_destroy(norn_cell_state *s)
{
    if (!s)
        return;
    for (int v = 0; v < NORN_EULER_MAX_STATE; v++)
        norn_free(s->st[v]);
    norn_free(s->z);
    norn_free(s->z_next);
    norn_free(s);
}

/* A fresh state: the model's initial state (a preset's where it fixes one). */
static norn_cell_state *state_new(const norn_cell *c)
{
    const norn_euler_type *t = c->type;
    norn_cell_state *s = norn_calloc_n(1, sizeof *s);
    if (!s)
        return NULL;
    s->type = t;
    s->n = c->n;
    int ok = (s->z = norn_calloc_n(c->n, sizeof(float))) != NULL;
    ok = ok && (s->z_next = norn_calloc_n(c->n, sizeof(float))) != NULL;
    for (int v = 0; v < t->n_state && ok; v++)
        ok = (s->st[v] = norn_calloc_n(c->n, sizeof(float))) != NULL;
    if (!ok) {
        norn_cell_state_destroy(s);
        return NULL;
    }
    norn_euler_pop ep = c->ep;
    memcpy(ep.st, s->st, sizeof ep.st);
    for (uint32_t j = 0; j < c->n; j++) {
        t->init(&ep, j);
        for (int v = 0; v < t->n_state; v++)
            if (c->has_init[v])
                s->st[v][j] = c->init_val[v];
    }
    return s;
}

norn_status norn_cell_step(norn_cell *c, const float *input, norn_cell_state **state, float *spikes_out,
                           norn_err *err)
{
    if (!c || !state)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "cell and state must not be NULL");
    const norn_euler_type *t = c->type;
    if (!input && (c->recurrent ? c->n_in : c->n) > 0)
        return NORN_FAIL(err, NORN_EINVAL, t->name, "input: NULL");
    norn_cell_state *s = *state;
    if (s && (s->type != t || s->n != c->n))
        return NORN_FAIL(err, NORN_EINVAL, t->name,
                         "state: made for model '%s' with %u neurons, stepped by a cell of model '%s' with %u",
                         s->type->name, s->n, t->name, c->n);
    if (!s && (s = state_new(c)) == NULL)
        return NORN_FAIL(err, NORN_ENOMEM, t->name, "cannot allocate the state of %u neurons", c->n);
    *state = s;

    norn_euler_pop ep = c->ep;
    memcpy(ep.st, s->st, sizeof ep.st);
    uint32_t n = c->n;
    if (!c->recurrent) {
        for (uint32_t j = 0; j < n; j++)
            s->z[j] = t->step(&ep, j, input[j], 0.0f) ? 1.0f : 0.0f;
    } else if (c->coba) {
        for (uint32_t j = 0; j < n; j++) {
            float ge = 0.0f, gi = 0.0f;
            for (uint64_t q = c->w_rec.ptr ? c->w_rec.ptr[j] : 0; c->w_rec.ptr && q < c->w_rec.ptr[j + 1]; q++) {
                float w = c->w_rec.val[q];
                if (w > 0.0f)
                    ge += w * s->z[c->w_rec.col[q]];
                else
                    gi += -w * s->z[c->w_rec.col[q]];
            }
            s->z_next[j] = norn__coba_lif_rec_step(&ep, j, ge, gi) ? 1.0f : 0.0f;
        }
    } else {
        for (uint32_t j = 0; j < n; j++) {
            float ff = csr_dot(&c->w_in, j, input);
            float rec = c->w_rec.ptr ? csr_dot(&c->w_rec, j, s->z) : 0.0f;
            s->z_next[j] = t->step(&ep, j, ff, rec) ? 1.0f : 0.0f;
        }
    }
    if (c->recurrent) {
        float *tmp = s->z;
        s->z = s->z_next;
        s->z_next = tmp;
    }
    if (!t->spiking)
        memset(s->z, 0, (size_t)n * sizeof(float));
    if (spikes_out)
        memcpy(spikes_out, t->spiking ? s->z : s->st[t->v_index], (size_t)n * sizeof(float));
    return NORN_OK;
}

norn_status norn_cell_state_get(const norn_cell_state *s, const char *name, float *out, norn_err *err)
{
    if (!s || !name || !out)
        return NORN_FAIL(err, NORN_EINVAL, NULL, "state, name and out must not be NULL");
    const float *src = NULL;
    int v = norn_euler_state_index(s->type, name);
    if (v >= 0)
        src = s->st[v];
    else if (strcmp(name, "z") == 0)
        src = s->z;
    if (!src) {
        char list[256];
        size_t off = 0;
        list[0] = 0;
        for (int k = 0; k < s->type->n_state && off < sizeof list; k++)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s, ", s->type->state[k].name);
        return NORN_FAIL(err, NORN_EINVAL, s->type->name, "unknown state variable '%s' of model '%s'; known: %sz",
                         name, s->type->name, list);
    }
    memcpy(out, src, (size_t)s->n * sizeof(float));
    return NORN_OK;
}
