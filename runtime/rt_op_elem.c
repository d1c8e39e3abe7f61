// rt_op_elem.c: elementwise ops, forward and backward side by side; binary ops broadcast.
#include "rt_impl.h"
#include "rt_blas.h"
#include "rt_pool.h"

#include <math.h>
#include <string.h>

// ---- the large same-shape loops of a convolutional network, in parallel ----
// A residual sum, the ReLU written over its input and their backward passes make a pass over a
// whole activation each (8 MiB at ResNet-20's first stage, batch 128). From EW_PAR_MIN elements
// they run in chunks of EW_CHUNK on rt_blas_pool; each element is computed alone, so the bytes do
// not depend on the chunks or the thread count.
#define EW_PAR_MIN (1 << 16)
#define EW_CHUNK (1 << 14)

typedef enum { EW_ADD, EW_RELU, EW_RELU_MASK, EW_RELU_MASK_ADD, EW_COPY, EW_ACC } ew_kind;

typedef struct ew_job {
    ew_kind kind;
    float *y;
    const float *a, *b;
} ew_job;

/* dy is read whatever the sign of x, so that gcc turns the choice into a vector select: written
** as x[i] > 0 ? dy[i] : 0 the load of dy[i] is conditional, and the loop stays scalar with a
** branch that the random signs of the activations mispredict half the time. */
static inline float relu_grad(float x, float dy) { return x > 0.0f ? dy : 0.0f; }

RT_SIMD_CLONES
static void ew_chunk(void *arg, size_t lo, size_t hi) {
    const ew_job *j = arg;
    float *restrict y = j->y;
    const float *restrict a = j->a, *restrict b = j->b;
    switch (j->kind) {
    case EW_ADD: for (size_t i = lo; i < hi; i++) y[i] = a[i] + b[i]; break;                /* y = a + b */
    case EW_RELU: for (size_t i = lo; i < hi; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f; break;    /* in place */
    case EW_RELU_MASK: for (size_t i = lo; i < hi; i++) y[i] = relu_grad(a[i], y[i]); break;  /* dy masked by x = a */
    case EW_RELU_MASK_ADD: for (size_t i = lo; i < hi; i++) y[i] += relu_grad(a[i], b[i]); break;
    case EW_COPY: memcpy(y + lo, a + lo, (hi - lo) * sizeof(float)); break;
    case EW_ACC: for (size_t i = lo; i < hi; i++) y[i] += a[i]; break;
    }
}

static void ew_run(ew_kind kind, int64_t n, float *y, const float *a, const float *b) {
    ew_job j = { kind, y, a, b };
    if (n < EW_PAR_MIN) ew_chunk(&j, 0, (size_t)n);
    else rt_pool_for(rt_blas_pool(), (size_t)n, EW_CHUNK, ew_chunk, &j);
}

static rt_tensor *binary(rt_ctx *c, int op, rt_tensor *a, rt_tensor *b) {
    int ndim, shape[4];
    rt_bcast p = rt_bcast_plan(a, b, &ndim, shape);
    rt_tensor *out = rt_node_new(c, op, ndim, shape, a, b, NULL);
    float *y = out->data;
    const float *x1 = a->data, *x2 = b->data;
    if (op == RT_OP_ADD && a->n == out->n && b->n == out->n) {
        ew_run(EW_ADD, out->n, y, x1, x2);
        return out;
    }
    switch (op) {
    case RT_OP_ADD: RT_BCAST_LOOP(p, y[io] = x1[ia] + x2[ib];) break;
    case RT_OP_SUB: RT_BCAST_LOOP(p, y[io] = x1[ia] - x2[ib];) break;
    case RT_OP_MUL: RT_BCAST_LOOP(p, y[io] = x1[ia] * x2[ib];) break;
    case RT_OP_DIV: RT_BCAST_LOOP(p, y[io] = x1[ia] / x2[ib];) break;
    default: RT_ABORT("not a binary op: %s", rt_op_name(op));
    }
    return out;
}

static rt_bcast bcast_of(const rt_tensor *out) {
    int ndim, shape[4];
    return rt_bcast_plan(out->src[0], out->src[1], &ndim, shape);
}

// ---- add, sub, mul, div ----

rt_tensor *rt_add(rt_ctx *c, rt_tensor *a, rt_tensor *b) { return binary(c, RT_OP_ADD, a, b); }

/* Without broadcasting (a residual sum), b's gradient is dy copied into a fresh buffer, or added,
** and a, when it has no gradient yet, takes over dy's buffer (rt_src_grad_take). Where both would
** zero a buffer and add dy to it, one copy is left. */
void rt_add_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *a = out->src[0], *b = out->src[1];
    const float *dy = out->grad;
    if (a->n == out->n && b->n == out->n) {
        bool fresh;
        float *db = rt_src_grad_once(c, b, &fresh);
        if (db) ew_run(fresh ? EW_COPY : EW_ACC, out->n, db, dy, NULL);
        if ((a->flags & RT_NEEDS_GRAD) && !rt_src_grad_take(out, a)) ew_run(EW_ACC, out->n, a->grad, dy, NULL);
        return;
    }
    rt_bcast p = bcast_of(out);
    float *da = rt_src_grad(c, a), *db = rt_src_grad(c, b);
    if (da) RT_BCAST_LOOP(p, da[ia] += dy[io];)
    if (db) RT_BCAST_LOOP(p, db[ib] += dy[io];)
}

rt_tensor *rt_sub(rt_ctx *c, rt_tensor *a, rt_tensor *b) { return binary(c, RT_OP_SUB, a, b); }

void rt_sub_bwd(rt_ctx *c, rt_tensor *out) {
    rt_bcast p = bcast_of(out);
    float *da = rt_src_grad(c, out->src[0]), *db = rt_src_grad(c, out->src[1]);
    const float *dy = out->grad;
    if (da) RT_BCAST_LOOP(p, da[ia] += dy[io];)
    if (db) RT_BCAST_LOOP(p, db[ib] -= dy[io];)
}

rt_tensor *rt_mul(rt_ctx *c, rt_tensor *a, rt_tensor *b) { return binary(c, RT_OP_MUL, a, b); }

void rt_mul_bwd(rt_ctx *c, rt_tensor *out) {
    rt_bcast p = bcast_of(out);
    float *da = rt_src_grad(c, out->src[0]), *db = rt_src_grad(c, out->src[1]);
    const float *dy = out->grad, *a = out->src[0]->data, *b = out->src[1]->data;
    if (da) RT_BCAST_LOOP(p, da[ia] += dy[io] * b[ib];)
    if (db) RT_BCAST_LOOP(p, db[ib] += dy[io] * a[ia];)
}

rt_tensor *rt_div(rt_ctx *c, rt_tensor *a, rt_tensor *b) { return binary(c, RT_OP_DIV, a, b); }

void rt_div_bwd(rt_ctx *c, rt_tensor *out) {
    rt_bcast p = bcast_of(out);
    float *da = rt_src_grad(c, out->src[0]), *db = rt_src_grad(c, out->src[1]);
    const float *dy = out->grad, *b = out->src[1]->data, *y = out->data;
    if (da) RT_BCAST_LOOP(p, da[ia] += dy[io] / b[ib];)
    if (db) RT_BCAST_LOOP(p, db[ib] -= dy[io] * y[io] / b[ib];)    /* d(a/b)/db = -(a/b)/b */
}

// ---- affine: y = a*x + b ----

rt_tensor *rt_affine(rt_ctx *c, rt_tensor *x, float a, float b) {
    rt_tensor *out = rt_node_new(c, RT_OP_AFFINE, x->ndim, x->shape, x, NULL, NULL);
    out->fparam[0] = a;
    out->fparam[1] = b;
    for (int64_t i = 0; i < x->n; i++) out->data[i] = a * x->data[i] + b;
    return out;
}

rt_tensor *rt_scale(rt_ctx *c, rt_tensor *x, float a) { return rt_affine(c, x, a, 0.0f); }

void rt_affine_bwd(rt_ctx *c, rt_tensor *out) {
    bool fresh;
    float *dx = rt_src_grad_once(c, out->src[0], &fresh);
    float a = out->fparam[0];
    if (!dx) return;
    if (fresh)
        for (int64_t i = 0; i < out->n; i++) dx[i] = a * out->grad[i];
    else
        for (int64_t i = 0; i < out->n; i++) dx[i] += a * out->grad[i];
}

// ---- unary ops: forward computes y from x; backward uses x, y and dy ----

#define UNARY_FWD(fname, OP, EXPR)                                                     \
    rt_tensor *fname(rt_ctx *c, rt_tensor *src) {                                     \
        rt_tensor *out = rt_node_new(c, OP, src->ndim, src->shape, src, NULL, NULL);  \
        const float *x = src->data;                                                   \
        float *y = out->data;                                                         \
        for (int64_t i = 0; i < src->n; i++) y[i] = (EXPR);                           \
        return out;                                                                   \
    }

#define UNARY_BWD(fname, EXPR)                                                        \
    void fname(rt_ctx *c, rt_tensor *out) {                                           \
        bool fresh;                                                                   \
        float *dx = rt_src_grad_once(c, out->src[0], &fresh);                         \
        if (!dx) return;                                                              \
        const float *x = out->src[0]->data, *y = out->data, *dy = out->grad;          \
        if (fresh)                                                                    \
            for (int64_t i = 0; i < out->n; i++) dx[i] = (EXPR);                      \
        else                                                                          \
            for (int64_t i = 0; i < out->n; i++) dx[i] += (EXPR);                     \
        RT_UNUSED(x); RT_UNUSED(y);                                                   \
    }

static inline float softplus1(float v) {
    return v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v));
}

static inline float sigmoid1(float v) {
    if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
    float e = expf(v);
    return e / (1.0f + e);
}

UNARY_FWD(rt_exp, RT_OP_EXP, expf(x[i]))
UNARY_BWD(rt_exp_bwd, dy[i] * y[i])

UNARY_FWD(rt_log, RT_OP_LOG, logf(x[i]))
UNARY_BWD(rt_log_bwd, dy[i] / x[i])

UNARY_FWD(rt_softplus, RT_OP_SOFTPLUS, softplus1(x[i]))
UNARY_BWD(rt_softplus_bwd, dy[i] * sigmoid1(x[i]))

UNARY_FWD(rt_relu, RT_OP_RELU, x[i] > 0.0f ? x[i] : 0.0f)

/* The node shares x's buffer, so after this x->data holds max(x, 0); rt_relu_bwd then reads the
** sign of that, which is the sign it needs. */
rt_tensor *rt_relu_over(rt_ctx *c, rt_tensor *src) {
    rt_tensor *out = rt_node_new_over(c, RT_OP_RELU, src);
    ew_run(EW_RELU, src->n, out->data, NULL, NULL);
    return out;
}

/* When x has no gradient yet, x takes over dy's buffer (rt_src_grad_take; the GEMM that made dy has
** just written it) and the mask is applied in place. */
void rt_relu_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *src = out->src[0];
    if (!(src->flags & RT_NEEDS_GRAD)) return;
    RT_UNUSED(c);
    const float *x = src->data, *dy = out->grad;
    if (rt_src_grad_take(out, src)) ew_run(EW_RELU_MASK, out->n, src->grad, x, NULL);
    else ew_run(EW_RELU_MASK_ADD, out->n, src->grad, x, dy);
}

UNARY_FWD(rt_tanh, RT_OP_TANH, tanhf(x[i]))
UNARY_BWD(rt_tanh_bwd, dy[i] * (1.0f - y[i] * y[i]))

UNARY_FWD(rt_sigmoid, RT_OP_SIGMOID, sigmoid1(x[i]))
UNARY_BWD(rt_sigmoid_bwd, dy[i] * y[i] * (1.0f - y[i]))

UNARY_FWD(rt_square, RT_OP_SQUARE, x[i] * x[i])
UNARY_BWD(rt_square_bwd, 2.0f * dy[i] * x[i])

UNARY_FWD(rt_sqrt, RT_OP_SQRT, sqrtf(x[i]))
UNARY_BWD(rt_sqrt_bwd, dy[i] * 0.5f / y[i])

/* |x|; the gradient at 0 is taken as 0 (the subgradient's midpoint). */
UNARY_FWD(rt_abs, RT_OP_ABS, fabsf(x[i]))
UNARY_BWD(rt_abs_bwd, x[i] > 0.0f ? dy[i] : x[i] < 0.0f ? -dy[i] : 0.0f)

/* min(max(x, lo), hi): the gradient passes where lo <= x <= hi, and is 0 outside. */
rt_tensor *rt_clamp(rt_ctx *c, rt_tensor *src, float lo, float hi) {
    RT_ASSERT(lo <= hi);
    rt_tensor *out = rt_node_new(c, RT_OP_CLAMP, src->ndim, src->shape, src, NULL, NULL);
    out->fparam[0] = lo;
    out->fparam[1] = hi;
    for (int64_t i = 0; i < src->n; i++) {
        float v = src->data[i];
        out->data[i] = v < lo ? lo : v > hi ? hi : v;
    }
    return out;
}

void rt_clamp_bwd(rt_ctx *c, rt_tensor *out) {
    float *dx = rt_src_grad(c, out->src[0]);
    if (!dx) return;
    const float *x = out->src[0]->data, lo = out->fparam[0], hi = out->fparam[1];
    for (int64_t i = 0; i < out->n; i++)
        if (x[i] >= lo && x[i] <= hi) dx[i] += out->grad[i];
}
