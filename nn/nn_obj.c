// nn_obj.c: objective terms, resolved against the model and computed on the tape.
#include "nn_obj.h"

#include <stdio.h>
#include <string.h>

#include "rt_ops.h"

static const char *const term_names[NN_TERM_COUNT] = { [NN_TERM_CE] = "ce", [NN_TERM_KL] = "kl" };

const char *nn_term_kind_name(nn_term_kind k) { return (unsigned)k < NN_TERM_COUNT ? term_names[k] : "?"; }

bool nn_term_kind_parse(const char *s, nn_term_kind *k) {
    for (int i = 0; i < NN_TERM_COUNT; i++)
        if (strcmp(s, term_names[i]) == 0) { *k = (nn_term_kind)i; return true; }
    return false;
}

nn_term_spec nn_term_spec_default(nn_term_kind k) {
    nn_term_spec t;
    memset(&t, 0, sizeof t);
    t.kind = k;
    t.weight = 1.0f;
    snprintf(t.name, sizeof t.name, "%s", nn_term_kind_name(k));
    return t;
}

rt_status nn_obj_build(nn_obj *o, const nn_term_spec *terms, int n, const nn_model *m, rt_err *err) {
    memset(o, 0, sizeof *o);
    if (n <= 0) return rt_err_set(err, RT_ERR_ARG, "the objective has no terms");
    if (n > NN_MAX_TERMS)
        return rt_err_set(err, RT_ERR_ARG, "%s: the objective has %d terms; at most %d are supported",
                          terms[0].where, n, NN_MAX_TERMS);
    for (int i = 0; i < n; i++) {
        const nn_term_spec *t = &terms[i];
        const char *w = t->where, *sep = t->where[0] ? ": " : "";
        for (int j = 0; j < i; j++)
            if (strcmp(terms[j].name, t->name) == 0)
                return rt_err_set(err, RT_ERR_ARG, "%s%sterm '%s' appears twice; give it another name",
                                  w, sep, t->name);
        o->layer[i] = -1;
        if (t->layer[0]) {
            o->layer[i] = nn_model_find(m, t->layer);
            if (o->layer[i] < 0)
                return rt_err_set(err, RT_ERR_ARG, "%s%sterm '%s' reads layer '%s', but the model has no layer of that name",
                                  w, sep, t->name, t->layer);
        }
        switch (t->kind) {
        case NN_TERM_CE: {
            int width = o->layer[i] < 0 ? m->out : m->layers[o->layer[i]].out;
            if (width < 2)
                return rt_err_set(err, RT_ERR_ARG, "%s%sterm '%s': cross-entropy needs at least 2 logits, the layer gives %d",
                                  w, sep, t->name, width);
            if (!(t->smoothing >= 0.0f && t->smoothing < 1.0f))
                return rt_err_set(err, RT_ERR_ARG, "%s%sterm '%s': smoothing=%g must be in [0, 1)",
                                  w, sep, t->name, (double)t->smoothing);
            break;
        }
        case NN_TERM_KL:
            if (o->layer[i] < 0 || m->layers[o->layer[i]].spec.kind != NN_LAYER_GAUSS) {
                char which[96] = "";
                if (t->layer[0]) snprintf(which, sizeof which, " ('%s' is not one)", t->layer);
                return rt_err_set(err, RT_ERR_ARG, "%s%sterm '%s': the KL term reads a stochastic Gaussian layer; "
                                  "set layer = the name of a vib.gauss layer%s", w, sep, t->name, which);
            }
            break;
        default:
            RT_ABORT("term kind %d not handled", (int)t->kind);
        }
        if (!(t->weight >= 0.0f))
            return rt_err_set(err, RT_ERR_ARG, "%s%sterm '%s': weight %g must be >= 0", w, sep, t->name,
                              (double)t->weight);
        o->terms[i] = *t;
    }
    o->n = n;
    return RT_OK;
}

/* The labels for `rows` rows of sample-major output: labels repeated rows/B times. */
static const int32_t *labels_for(rt_ctx *c, const int32_t *labels, int B, int rows) {
    if (rows == B) return labels;
    RT_ASSERT(rows % B == 0);
    int32_t *rep = rt_arena_alloc_raw(&c->step, (size_t)rows * sizeof *rep);
    for (int s = 0; s < rows / B; s++) memcpy(rep + (size_t)s * B, labels, (size_t)B * sizeof *rep);
    return rep;
}

nn_obj_out nn_obj_forward(const nn_obj *o, const nn_model *m, rt_ctx *c, rt_tensor *out,
                          const int32_t *labels, int B) {
    nn_obj_out r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < o->n; i++) {
        const nn_term_spec *t = &o->terms[i];
        rt_tensor *src = o->layer[i] < 0 ? out : m->layers[o->layer[i]].y;
        switch (t->kind) {
        case NN_TERM_CE:
            r.term[i] = rt_softmax_ce(c, src, labels_for(c, labels, B, src->shape[0]), t->smoothing);
            break;
        case NN_TERM_KL: {
            const nn_layer *l = &m->layers[o->layer[i]];
            r.term[i] = rt_gauss_kl(c, l->mu, l->sigma);
            break;
        }
        default: RT_ABORT("term kind %d not handled", (int)t->kind);
        }
        rt_tensor *part = rt_mean(c, r.term[i], RT_ALL, false);
        if (t->weight != 1.0f) part = rt_scale(c, part, t->weight);
        r.loss = r.loss ? rt_add(c, r.loss, part) : part;
    }
    return r;
}
