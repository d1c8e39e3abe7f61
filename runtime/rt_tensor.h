/*
** rt_tensor.h: f32 tensors, the step context and the tape (autograd-lite).
**
** A tensor is row-major and contiguous, with at most 4 dimensions stored outermost first: a batch
** of 784-feature vectors has shape {B, 784}, as a user writes it and as CBLAS row-major expects.
** The tensor is also the tape node: `op` and `src` say how it was made.
**
** The step protocol (style.md section 10):
**     rt_ctx_reset(ctx);                       // step arena and tape emptied
**     rt_tensor *x = rt_tensor_new(ctx, 2, (int[]){B, 784});  ... fill x->data
**     rt_tensor *h = rt_relu(ctx, rt_linear(ctx, x, W, b));    // ops record themselves
**     rt_tensor *loss = rt_mean(ctx, rt_softmax_ce(ctx, logits, labels), -1, false);
**     rt_backward(ctx, loss);                  // dloss = 1, reverse loop over the tape
** Parameters (rt_param.h) own their data and gradient in flat buffers that outlive the step;
** every other tensor lives in the step arena and is gone after the next rt_ctx_reset.
**
** Gradients: a tensor gets a gradient iff it is a parameter or was computed from one with the
** tape recording (RT_NEEDS_GRAD propagates at op creation). Backward accumulates (+=) into
** src->grad, which the tape allocates zero-filled on first use, so fan-out needs no special case.
** An op whose input has no gradient yet may store into a fresh buffer instead (rt_src_grad_once),
** and ReLU hands its own output's gradient buffer over to its input (masked in place): so after
** rt_backward, the gradients of parameters and leaves are meaningful, those of op outputs not.
*/
#ifndef RT_TENSOR_H
#define RT_TENSOR_H

#include "rt_arena.h"
#include "rt_err.h"

enum {
    RT_PARAM = 1 << 0,      /* a trainable parameter: data/grad live in rt_params' flat buffers */
    RT_NEEDS_GRAD = 1 << 1, /* backward must reach this tensor */
    RT_INPUT = 1 << 2,      /* bound from data each step */
};

typedef struct rt_tensor rt_tensor;
struct rt_tensor {
    int ndim;
    int shape[RT_MAX_DIMS];     /* outermost first; unused dims are 1 */
    int64_t n;                  /* number of elements */
    float *data;                /* (shape) */
    float *grad;                /* (shape) or NULL: allocated by the tape on first contribution */
    int op;                     /* rt_op that made it; RT_OP_LEAF for inputs and parameters */
    int flags;
    rt_tensor *src[3];
    float fparam[4];            /* op arguments (scale factors, ...) */
    int iparam[4];              /* op arguments (axis, keepdim, ...) */
    void *aux;                  /* op-private saved data in the step arena (labels, softmax) */
    const char *name;           /* parameter name, or NULL */
};

typedef struct rt_ctx {
    rt_arena step;              /* activations, tape, gradients of activations */
    rt_tensor **tape;           /* nodes in recording order (a topological order) */
    int ntape, captape;
    bool grad_enabled;          /* false in evaluation: ops compute but do not record */
} rt_ctx;

void rt_ctx_init(rt_ctx *c, size_t step_bytes);
void rt_ctx_free(rt_ctx *c);
/* Starts a step: empties the step arena and the tape. */
void rt_ctx_reset(rt_ctx *c);

/* A zero-filled tensor in the step arena. shape has ndim entries. */
rt_tensor *rt_tensor_new(rt_ctx *c, int ndim, const int *shape);
/* The same without zero-filling, for data the caller overwrites entirely (a gathered batch). */
rt_tensor *rt_tensor_new_raw(rt_ctx *c, int ndim, const int *shape);
/* Same shape as t, zero-filled, in the step arena. */
rt_tensor *rt_tensor_like(rt_ctx *c, const rt_tensor *t);
/* Fills the header of a tensor whose data lives elsewhere (parameters, views). */
void rt_tensor_wrap(rt_tensor *t, int ndim, const int *shape, float *data);
bool rt_shape_eq(const rt_tensor *a, const rt_tensor *b);
/* "(100, 784)" into buf; returns buf. */
const char *rt_shape_str(const rt_tensor *t, char *buf, size_t size);
/* The gradient of t, allocated zero-filled in the step arena if missing. */
float *rt_tensor_grad(rt_ctx *c, rt_tensor *t);

/* Runs the tape backward from a scalar loss (n == 1): seeds dloss = 1 and calls each recorded
** op's backward in reverse order. Asserts that the loss was recorded. */
void rt_backward(rt_ctx *c, rt_tensor *loss);
/* The same from any recorded tensor t with a given gradient dt (t->n values): the reverse loop of
** sum(t * dt). Input gradients of attacks seed the logits with the gradient of a loss computed
** outside the tape (nn_attack.c), on a leaf input flagged RT_NEEDS_GRAD. */
void rt_backward_seeded(rt_ctx *c, rt_tensor *t, const float *dt);

#endif
