/*
** rt_param.h: the parameter registry; all parameters in one flat buffer (style.md R3).
**
** Layers register each parameter tensor by name and shape while the model is built; then
** rt_params_finalize makes one allocation for all values and one, with the same offsets, for all
** gradients, and points every registered tensor into them (llm.c's params_memory/grads_memory).
** Optimizer moments and the EMA copy use the same offsets, so zeroing the gradients is one
** memset, an optimizer step is one loop, and a checkpoint is one block per buffer.
**
**     rt_params P; rt_params_init(&P);
**     rt_tensor *W = rt_params_add(&P, "fc1.weight", 2, (int[]){1024, 784});
**     rt_params_finalize(&P);          // W->data, W->grad now valid
**     ... init W->data; per step: rt_params_zero_grad(&P);
*/
#ifndef RT_PARAM_H
#define RT_PARAM_H

#include "rt_tensor.h"

typedef struct rt_param {
    char name[64];
    rt_tensor *t;               /* owned by the registry */
    size_t off;                 /* element offset into data/grad */
} rt_param;

typedef struct rt_params {
    rt_param *items;
    int n, cap;
    size_t total;               /* elements over all parameters */
    float *data;                /* (total) values; NULL before finalize */
    float *grad;                /* (total) gradients, same offsets */
    bool final;
} rt_params;

void rt_params_init(rt_params *p);
void rt_params_free(rt_params *p);
/* Registers a parameter; its data and grad are NULL until rt_params_finalize. Names must be
** unique (asserted: nn/ generates them). Adding after a finalize reopens the registry (objective
** terms add their own parameters after the model's); finalize again before use: parameters
** already there keep their values, tensors of earlier parameters stay valid (their data move). */
rt_tensor *rt_params_add(rt_params *p, const char *name, int ndim, const int *shape);
void rt_params_finalize(rt_params *p);
void rt_params_zero_grad(rt_params *p);
/* The registered parameter with this name, or NULL. */
const rt_param *rt_params_find(const rt_params *p, const char *name);

#endif
