// rt_param.c: the parameter registry and its two flat buffers (values, gradients).
#include "rt_param.h"

#include "rt_ops.h"

#include <stdlib.h>
#include <string.h>

// ---- allocation ----

// ---- registry ----

void rt_params_init(rt_params *p) {
    memset(p, 0, sizeof *p);
}

void rt_params_free(rt_params *p) {
    for (int i = 0; i < p->n; i++) {
        free((void *)p->items[i].t->name);
        free(p->items[i].t);
    }
    free(p->items);
    free(p->data);
    free(p->grad);
    rt_params_init(p);
}

const rt_param *rt_params_find(const rt_params *p, const char *name) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->items[i].name, name) == 0) return &p->items[i];
    return NULL;
}

rt_tensor *rt_params_add(rt_params *p, const char *name, int ndim, const int *shape) {
    p->final = false;                  /* reopened: the next finalize keeps the values so far */
    RT_ASSERT(name && strlen(name) < sizeof p->items[0].name);
    RT_ASSERT(ndim >= 1 && ndim <= RT_MAX_DIMS);
    if (rt_params_find(p, name)) RT_ABORT("parameter '%s' registered twice", name);

    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        rt_param *items = realloc(p->items, (size_t)cap * sizeof *items);
        if (!items) RT_ABORT("out of memory growing the parameter registry to %d", cap);
        p->items = items;
        p->cap = cap;
    }

    rt_tensor *t = rt_xcalloc(1, sizeof *t);
    t->ndim = ndim;
    t->n = 1;
    for (int d = 0; d < RT_MAX_DIMS; d++) {
        t->shape[d] = d < ndim ? shape[d] : 1;
        RT_ASSERT(t->shape[d] > 0);
        t->n *= t->shape[d];
    }
    t->op = RT_OP_LEAF;
    t->flags = RT_PARAM | RT_NEEDS_GRAD;
    t->name = rt_xstrdup(name);        // own copy: items[] moves when it grows

    rt_param *it = &p->items[p->n++];
    memset(it, 0, sizeof *it);
    strcpy(it->name, name);
    it->t = t;
    it->off = p->total;
    p->total += (size_t)t->n;
    return t;
}

void rt_params_finalize(rt_params *p) {
    RT_ASSERT(!p->final);
    float *data = rt_xfloats(p->total), *grad = rt_xfloats(p->total);
    for (int i = 0; i < p->n; i++) {
        rt_param *it = &p->items[i];
        /* Parameters registered before an earlier finalize keep their offsets and values. */
        if (it->t->data) memcpy(data + it->off, it->t->data, (size_t)it->t->n * sizeof(float));
        it->t->data = data + it->off;
        it->t->grad = grad + it->off;
    }
    free(p->data);
    free(p->grad);
    p->data = data;
    p->grad = grad;
    p->final = true;
}

void rt_params_zero_grad(rt_params *p) {
    RT_ASSERT(p->final);
    memset(p->grad, 0, p->total * sizeof(float));
}
