// rt_tape.c: the step context, tensor creation and the reverse loop of autograd-lite.
#include "rt_impl.h"

#include <stdio.h>
#include <string.h>

// ---- the backward table: one row per rt_op ----

static const struct { const char *name; rt_bwd_fn bwd; } op_table[RT_OP_COUNT] = {
    [RT_OP_LEAF] = { "leaf", NULL },
    [RT_OP_ADD] = { "add", rt_add_bwd },
    [RT_OP_SUB] = { "sub", rt_sub_bwd },
    [RT_OP_MUL] = { "mul", rt_mul_bwd },
    [RT_OP_DIV] = { "div", rt_div_bwd },
    [RT_OP_AFFINE] = { "affine", rt_affine_bwd },
    [RT_OP_EXP] = { "exp", rt_exp_bwd },
    [RT_OP_LOG] = { "log", rt_log_bwd },
    [RT_OP_SOFTPLUS] = { "softplus", rt_softplus_bwd },
    [RT_OP_RELU] = { "relu", rt_relu_bwd },
    [RT_OP_TANH] = { "tanh", rt_tanh_bwd },
    [RT_OP_SIGMOID] = { "sigmoid", rt_sigmoid_bwd },
    [RT_OP_SQUARE] = { "square", rt_square_bwd },
    [RT_OP_SQRT] = { "sqrt", rt_sqrt_bwd },
    [RT_OP_SUM] = { "sum", rt_sum_bwd },
    [RT_OP_MEAN] = { "mean", rt_mean_bwd },
    [RT_OP_BROADCAST] = { "broadcast", rt_broadcast_bwd },
    [RT_OP_RESHAPE] = { "reshape", rt_reshape_bwd },
    [RT_OP_MATMUL] = { "matmul", rt_matmul_bwd },
    [RT_OP_LINEAR] = { "linear", rt_linear_bwd },
    [RT_OP_SOFTMAX_CE] = { "softmax_ce", rt_softmax_ce_bwd },
    [RT_OP_LOGSUMEXP] = { "logsumexp", rt_logsumexp_bwd },
    [RT_OP_GAUSS_KL] = { "gauss_kl", rt_gauss_kl_bwd },
    [RT_OP_BERN_ST] = { "bern_st", rt_bern_st_bwd },
    [RT_OP_BERN_KL] = { "bern_kl", rt_bern_kl_bwd },
    [RT_OP_SOFTMAX_ENTROPY] = { "softmax_entropy", rt_softmax_entropy_bwd },
    [RT_OP_TRANSPOSE] = { "transpose", rt_transpose_bwd },
    [RT_OP_TRIL_MV] = { "tril_mv", rt_tril_mv_bwd },
    [RT_OP_CONV2D] = { "conv2d", rt_conv2d_bwd },
    [RT_OP_CONV_TRANSPOSE2D] = { "conv_transpose2d", rt_conv_transpose2d_bwd },
    [RT_OP_MAXPOOL2D] = { "maxpool2d", rt_maxpool2d_bwd },
    [RT_OP_AVGPOOL2D] = { "avgpool2d", rt_avgpool2d_bwd },
    [RT_OP_GLOBAL_AVGPOOL] = { "global_avgpool", rt_global_avgpool_bwd },
    [RT_OP_BATCHNORM] = { "batchnorm", rt_batchnorm_bwd },
    [RT_OP_GROUPNORM] = { "groupnorm", rt_groupnorm_bwd },
    [RT_OP_ABS] = { "abs", rt_abs_bwd },
    [RT_OP_CLAMP] = { "clamp", rt_clamp_bwd },
    [RT_OP_MAX] = { "max", rt_max_bwd },
    [RT_OP_BERN_LINEAR] = { "bern_linear", rt_bern_linear_bwd },
    [RT_OP_BATCHNORM_RELU] = { "batchnorm_relu", rt_batchnorm_bwd },
};

const char *rt_op_name(int op) {
    if (op < 0 || op >= RT_OP_COUNT || !op_table[op].name) return "?";
    return op_table[op].name;
}

// ---- context ----

void rt_ctx_init(rt_ctx *c, size_t step_bytes) {
    memset(c, 0, sizeof *c);
    rt_arena_init(&c->step, step_bytes);
    c->grad_enabled = true;
}

void rt_ctx_free(rt_ctx *c) {
    rt_arena_free(&c->step);
    memset(c, 0, sizeof *c);
}

void rt_ctx_reset(rt_ctx *c) {
    rt_arena_reset(&c->step);
    c->tape = NULL;
    c->ntape = c->captape = 0;
}

// ---- tensors ----

void rt_tensor_wrap(rt_tensor *t, int ndim, const int *shape, float *data) {
    RT_ASSERT(ndim >= 1 && ndim <= RT_MAX_DIMS);
    memset(t, 0, sizeof *t);
    t->ndim = ndim;
    t->n = 1;
    for (int i = 0; i < RT_MAX_DIMS; i++) {
        t->shape[i] = i < ndim ? shape[i] : 1;
        if (i < ndim) {
            RT_ASSERT(shape[i] >= 1);
            t->n *= shape[i];
        }
    }
    t->data = data;
}

/* A tensor and its data in the step arena; zero-filled data only when asked. */
static rt_tensor *tensor_alloc(rt_ctx *c, int ndim, const int *shape, bool zero) {
    rt_tensor *t = rt_arena_alloc_raw(&c->step, sizeof *t);
    rt_tensor_wrap(t, ndim, shape, NULL);
    size_t bytes = (size_t)t->n * sizeof(float);
    t->data = zero ? rt_arena_alloc(&c->step, bytes) : rt_arena_alloc_raw(&c->step, bytes);
    return t;
}

rt_tensor *rt_tensor_new(rt_ctx *c, int ndim, const int *shape) {
    return tensor_alloc(c, ndim, shape, true);
}

rt_tensor *rt_tensor_new_raw(rt_ctx *c, int ndim, const int *shape) {
    return tensor_alloc(c, ndim, shape, false);
}

rt_tensor *rt_tensor_like(rt_ctx *c, const rt_tensor *t) {
    return rt_tensor_new(c, t->ndim, t->shape);
}

bool rt_shape_eq(const rt_tensor *a, const rt_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

const char *rt_shape_str(const rt_tensor *t, char *buf, size_t size) {
    size_t k = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < t->ndim && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, i ? ", %d" : "%d", t->shape[i]);
    if (k < size) snprintf(buf + k, size - k, ")");
    return buf;
}

float *rt_tensor_grad(rt_ctx *c, rt_tensor *t) {
    if (!t->grad) t->grad = rt_arena_alloc(&c->step, (size_t)t->n * sizeof(float));
    return t->grad;
}

float *rt_src_grad(rt_ctx *c, rt_tensor *src) {
    if (!src || !(src->flags & RT_NEEDS_GRAD)) return NULL;
    return rt_tensor_grad(c, src);
}

float *rt_src_grad_once(rt_ctx *c, rt_tensor *src, bool *fresh) {
    *fresh = false;
    if (!src || !(src->flags & RT_NEEDS_GRAD)) return NULL;
    if (!src->grad) {
        src->grad = rt_arena_alloc_raw(&c->step, (size_t)src->n * sizeof(float));
        *fresh = true;
    }
    return src->grad;
}

bool rt_src_grad_take(rt_tensor *out, rt_tensor *src) {
    if (!(src->flags & RT_NEEDS_GRAD) || src->grad) return false;
    RT_ASSERT(src->n == out->n);
    src->grad = out->grad;
    out->grad = NULL;
    return true;
}

// ---- recording ----

static void tape_push(rt_ctx *c, rt_tensor *t) {
    if (c->ntape == c->captape) {
        int cap = c->captape ? c->captape * 2 : 256;
        rt_tensor **nt = rt_arena_alloc_raw(&c->step, (size_t)cap * sizeof *nt);
        if (c->ntape) memcpy(nt, c->tape, (size_t)c->ntape * sizeof *nt);
        c->tape = nt;
        c->captape = cap;
    }
    c->tape[c->ntape++] = t;
}

/* Links a new node to its sources and records it when it needs a gradient. */
static rt_tensor *node_link(rt_ctx *c, rt_tensor *t, int op, rt_tensor *a, rt_tensor *b, rt_tensor *d) {
    t->op = op;
    t->src[0] = a;
    t->src[1] = b;
    t->src[2] = d;
    bool needs = false;
    for (int i = 0; i < 3; i++)
        if (t->src[i] && (t->src[i]->flags & RT_NEEDS_GRAD)) needs = true;
    if (needs && c->grad_enabled) {
        t->flags |= RT_NEEDS_GRAD;
        tape_push(c, t);
    }
    return t;
}

rt_tensor *rt_node_new(rt_ctx *c, int op, int ndim, const int *shape,
                       rt_tensor *a, rt_tensor *b, rt_tensor *d) {
    rt_tensor *t = tensor_alloc(c, ndim, shape, false);    /* every op writes all of its output */
    return node_link(c, t, op, a, b, d);
}

rt_tensor *rt_node_new_over(rt_ctx *c, int op, rt_tensor *a) {
    rt_tensor *t = rt_arena_alloc_raw(&c->step, sizeof *t);
    rt_tensor_wrap(t, a->ndim, a->shape, a->data);
    return node_link(c, t, op, a, NULL, NULL);
}

// ---- backward ----

/* The reverse loop over the tape, from the gradients seeded so far. */
static void backward_loop(rt_ctx *c) {
    for (int i = c->ntape - 1; i >= 0; i--) {
        rt_tensor *t = c->tape[i];
        if (!t->grad) continue;     /* nothing downstream of t reached the loss */
        rt_bwd_fn f = t->op > RT_OP_LEAF && t->op < RT_OP_COUNT ? op_table[t->op].bwd : NULL;
        if (!f) RT_ABORT("op '%s' (%d) has no backward rule", rt_op_name(t->op), t->op);
        f(c, t);
    }
}

void rt_backward(rt_ctx *c, rt_tensor *loss) {
    RT_ASSERT(loss->n == 1);
    RT_ASSERT((loss->flags & RT_NEEDS_GRAD) && "loss does not depend on any parameter");
    rt_tensor_grad(c, loss)[0] += 1.0f;
    backward_loop(c);
}

void rt_backward_seeded(rt_ctx *c, rt_tensor *t, const float *dt) {
    RT_ASSERT((t->flags & RT_NEEDS_GRAD) && "the tensor does not depend on anything that needs a gradient");
    float *g = rt_tensor_grad(c, t);
    for (int64_t i = 0; i < t->n; i++) g[i] += dt[i];
    backward_loop(c);
}
