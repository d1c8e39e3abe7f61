// test_gradcheck.c: every rt_op against central finite differences (the table must cover all).
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "rt_blas.h"
#include "rt_conv_dnnl.h"
#include "rt_param.h"

// ---- builders ----

static rt_tensor *b_add(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_add(c, x[0], x[1]); }
static rt_tensor *b_sub(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_sub(c, x[0], x[1]); }
static rt_tensor *b_mul(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_mul(c, x[0], x[1]); }
static rt_tensor *b_div(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_div(c, x[0], x[1]); }
static rt_tensor *b_affine(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_affine(c, x[0], -1.5f, 0.25f); }
static rt_tensor *b_exp(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_exp(c, x[0]); }
static rt_tensor *b_log(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_log(c, x[0]); }
static rt_tensor *b_softplus(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_softplus(c, x[0]); }
static rt_tensor *b_relu(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_relu(c, x[0]); }
/* ReLU of an op output (not a leaf): its backward finds no gradient on the input yet and hands
** over dy's buffer; the square, recorded first, then adds its term into that same buffer. */
static rt_tensor *b_relu_inner(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    (void)k;
    rt_tensor *h = rt_affine(c, x[0], 1.0f, 0.0f), *sq = rt_square(c, h);
    return rt_add(c, rt_relu(c, h), sq);
}
/* ReLU written over its input's buffer, as nn_model_forward_step does after a linear layer: the
** backward reads the sign of max(h, 0) where rt_relu's reads h's. The affine has no offset, so
** that h's kink is at x = 0, which min_abs keeps the inputs away from. */
static rt_tensor *b_relu_over(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    (void)k;
    return rt_relu_over(c, rt_affine(c, x[0], -1.5f, 0.0f));
}
static rt_tensor *b_relu_over_linear(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    (void)k;
    return rt_relu_over(c, rt_linear(c, x[0], x[1], x[2]));
}
static rt_tensor *b_tanh(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_tanh(c, x[0]); }
static rt_tensor *b_sigmoid(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_sigmoid(c, x[0]); }
static rt_tensor *b_square(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_square(c, x[0]); }
static rt_tensor *b_sqrt(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_sqrt(c, x[0]); }
static rt_tensor *b_sum(rt_ctx *c, rt_tensor **x, const gc_case *k) { return rt_sum(c, x[0], k->iarg, k->farg > 0.0f); }
static rt_tensor *b_mean(rt_ctx *c, rt_tensor **x, const gc_case *k) { return rt_mean(c, x[0], k->iarg, k->farg > 0.0f); }
static rt_tensor *b_broadcast(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_broadcast(c, x[0], 3, (int[]){ 2, 3, 4 }); }
static rt_tensor *b_reshape(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_reshape(c, x[0], 2, (int[]){ 4, 6 }); }
static rt_tensor *b_matmul(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_matmul(c, x[0], x[1]); }
static rt_tensor *b_linear(rt_ctx *c, rt_tensor **x, const gc_case *k) { return rt_linear(c, x[0], x[1], k->nin > 2 ? x[2] : NULL); }
static rt_tensor *b_lse(rt_ctx *c, rt_tensor **x, const gc_case *k) { return rt_logsumexp(c, x[0], k->iarg, k->farg > 0.0f); }

static rt_tensor *b_abs(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_abs(c, x[0]); }
static rt_tensor *b_clamp(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_clamp(c, x[0], -0.5f, 0.75f); }
static rt_tensor *b_max(rt_ctx *c, rt_tensor **x, const gc_case *k) { return rt_max(c, x[0], k->iarg, k->farg > 0.0f); }

static rt_tensor *b_gauss_kl(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_gauss_kl(c, x[0], x[1]); }

/* p fixed (2 rows of 70 units, 3 particles each), the same draws at every evaluation: the output
** is linear in w and b, whose gradients are exact; dp is straight-through (tested below). */
static rt_tensor *b_bern_linear(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    (void)k;
    rt_tensor *p = rt_tensor_new(c, 2, (int[]){ 2, 70 });
    for (int64_t i = 0; i < p->n; i++) p->data[i] = (float)((i * 37) % 101) / 100.0f;
    rt_rng r;
    rt_rng_seed(&r, 17);
    return rt_bern_linear(c, p, 3, &r, x[0], x[1]);
}
static rt_tensor *b_bern_kl(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_bern_kl(c, x[0], x[1]); }
static rt_tensor *b_entropy(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_softmax_entropy(c, x[0]); }
static rt_tensor *b_transpose(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_transpose(c, x[0]); }

static rt_tensor *b_tril_mv(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    (void)k;
    /* e is the constant noise: fixed values, not a checked input. */
    rt_tensor *e = rt_tensor_new(c, 3, (int[]){ 2, 4, 3 });
    for (int64_t i = 0; i < e->n; i++) e->data[i] = (float)((i * 7) % 11) / 5.0f - 1.0f;
    return rt_tril_mv(c, x[0], e);
}

static rt_tensor *b_ce(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    static const int32_t labels[5] = { 3, 0, 6, 6, 1 };
    return rt_softmax_ce(c, x[0], labels, k->farg);
}


/* Convolutions: iarg picks the geometry (stride, padding, dilation, groups; out_pad transposed). */
static const rt_conv_geom conv_geoms[] = {
    { 1, 1, 1, 1, 1, 1, 1, 0, 0 },     /* 0: 3x3 same */
    { 2, 2, 1, 0, 1, 1, 1, 0, 0 },     /* 1: stride 2, padding on H only (non-square kernel) */
    { 1, 1, 2, 2, 2, 2, 1, 0, 0 },     /* 2: dilation 2 */
    { 1, 2, 1, 1, 1, 1, 2, 0, 0 },     /* 3: groups 2, stride (1, 2) */
    { 1, 1, 1, 1, 1, 1, 4, 0, 0 },     /* 4: depthwise (groups = C = O = 4) */
    { 1, 1, 0, 0, 1, 1, 1, 0, 0 },     /* 5: 1x1 stride 1: the direct path (no im2col) */
    { 2, 2, 0, 0, 1, 1, 1, 0, 0 },     /* 6: 1x1 stride 2 (option-B shortcut) */
    { 2, 2, 1, 1, 1, 1, 1, 1, 1 },     /* 7: transposed, stride 2, out_pad 1 */
    { 2, 1, 0, 1, 2, 1, 2, 1, 0 },     /* 8: transposed, groups 2, dilation (2, 1), out_pad (1, 0) */
};
static rt_tensor *b_conv(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    return rt_conv2d(c, x[0], x[1], k->nin > 2 ? x[2] : NULL, &conv_geoms[k->iarg]);
}
static rt_tensor *b_convt(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    return rt_conv_transpose2d(c, x[0], x[1], k->nin > 2 ? x[2] : NULL, &conv_geoms[k->iarg]);
}
/* The same with x an op output: its gradient buffer is fresh (unzeroed), which the backward
** zeroes run by run; stride 2 and a 1x1 kernel leave most of dx without any term. */
static rt_tensor *b_conv_inner(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    return rt_conv2d(c, rt_affine(c, x[0], 1.5f, 0.0f), x[1], NULL, &conv_geoms[k->iarg]);
}
static rt_tensor *b_convt_inner(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    return rt_conv_transpose2d(c, rt_affine(c, x[0], 1.5f, 0.0f), x[1], NULL, &conv_geoms[k->iarg]);
}
/* Pooling: iarg 0 is 2x2 stride 2, 1 is 3x3 stride 2 padding 1, 2 is 3x2 stride (1, 2) padding (1, 0). */
static const int pool_geoms[][6] = { { 2, 2, 2, 2, 0, 0 }, { 3, 3, 2, 2, 1, 1 }, { 3, 2, 1, 2, 1, 0 } };
static rt_tensor *b_maxpool(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    const int *g = pool_geoms[k->iarg];
    return rt_maxpool2d(c, x[0], g[0], g[1], g[2], g[3], g[4], g[5]);
}
static rt_tensor *b_avgpool(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    const int *g = pool_geoms[k->iarg];
    return rt_avgpool2d(c, x[0], g[0], g[1], g[2], g[3], g[4], g[5]);
}
static rt_tensor *b_gap(rt_ctx *c, rt_tensor **x, const gc_case *k) { (void)k; return rt_global_avgpool(c, x[0]); }
/* Batch norm: iarg 1 = train (running statistics updated off the tape, which the output does not
** read), 0 = evaluation with fixed running statistics. Three channels. */
static rt_tensor *b_batchnorm(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    static float rm[3], rv[3];
    if (!k->iarg) {
        const float m0[3] = { 0.3f, -0.2f, 0.1f }, v0[3] = { 0.5f, 1.5f, 0.8f };
        memcpy(rm, m0, sizeof rm);
        memcpy(rv, v0, sizeof rv);
    }
    return rt_batchnorm(c, x[0], k->nin > 1 ? x[1] : NULL, k->nin > 2 ? x[2] : NULL, rm, rv, 0.1f, 1e-5f, k->iarg != 0);
}
/* Batch norm with its ReLU fused. Evaluation: running mean 0 and no beta put each output's kink at
** x = 0, which min_abs keeps the inputs away from. Training: the input is a fixed pattern of mean 0
** per channel (+-1 and +-2 in pairs: normalized +-0.63 and +-1.26) plus 0.1 x, so that with beta
** in [-0.1, 0.1] and gamma in [0.5, 2] no output comes near the kink (checked on every call). */
static rt_tensor *b_batchnorm_relu(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    static float rm[3], rv[3];
    rt_tensor *gamma = k->nin > 1 ? x[1] : NULL, *beta = k->nin > 2 ? x[2] : NULL, *in = x[0];
    if (!k->iarg) {
        const float v0[3] = { 0.5f, 1.5f, 0.8f };
        memset(rm, 0, sizeof rm);
        memcpy(rv, v0, sizeof rv);
    } else {
        rt_tensor *p = rt_tensor_new(c, in->ndim, in->shape);
        int C = in->shape[1], hw = (int)(in->n / in->shape[0] / C);
        for (int64_t i = 0; i < p->n; i++) {
            int j = (int)(i / ((int64_t)C * hw)) * hw + (int)(i % hw);     /* index within the channel */
            p->data[i] = (j % 2 ? 1.0f : -1.0f) * (float)(1 + j / 2 % 2);
        }
        in = rt_add(c, rt_affine(c, in, 0.1f, 0.0f), p);
    }
    rt_tensor *y = rt_batchnorm_relu(c, in, gamma, beta, rm, rv, 0.1f, 1e-5f, k->iarg != 0);
    rt_tensor *plain = rt_batchnorm(c, in, gamma, beta, rm, rv, 0.1f, 1e-5f, k->iarg != 0);
    for (int64_t i = 0; i < plain->n; i++)
        cr_assert(fabsf(plain->data[i]) > 0.02f, "%s: output %lld is %g, too near the kink for finite differences", k->name,
                  (long long)i, (double)plain->data[i]);
    return y;
}
/* A sum of two op outputs: both gradients are fresh; b's is a copy of dy, a takes over dy's
** buffer. With the same operand twice, the second term adds to the first. */
static rt_tensor *b_add_inner(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    rt_tensor *h = rt_affine(c, x[0], 1.5f, 0.0f);
    return rt_add(c, h, k->iarg ? h : rt_affine(c, x[1], -0.5f, 0.25f));
}
static rt_tensor *b_groupnorm(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    return rt_groupnorm(c, x[0], k->nin > 1 ? x[1] : NULL, k->nin > 2 ? x[2] : NULL, k->iarg, 1e-5f);
}

// ---- the table: one or more rows per op ----

#define SH2(a, b) { a, b }
#define SH3(a, b, d) { a, b, d }
#define SH4(a, b, d, e) { a, b, d, e }
#define G(eps_, rtol_, atol_) .eps = eps_, .rtol = rtol_, .atol = atol_

static const gc_case cases[] = {
    { "add same shape", RT_OP_ADD, 2, { 2, 2 }, { SH2(3, 4), SH2(3, 4) }, { -1, -1 }, { 1, 1 }, 0, b_add, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "add of two op outputs", -1, 2, { 2, 2 }, { SH2(3, 4), SH2(3, 4) }, { -1, -1 }, { 1, 1 }, 0, b_add_inner, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "add of an op output to itself", -1, 1, { 2 }, { SH2(3, 4) }, { -1 }, { 1 }, 0, b_add_inner, G(1e-3, 1e-2, 1e-3), 1, 0 },
    { "add row broadcast", RT_OP_ADD, 2, { 2, 1 }, { SH2(3, 4), { 4 } }, { -1, -1 }, { 1, 1 }, 0, b_add, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "sub column broadcast", RT_OP_SUB, 2, { 2, 2 }, { SH2(3, 1), SH2(3, 4) }, { -1, -1 }, { 1, 1 }, 0, b_sub, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "mul 3-d broadcast", RT_OP_MUL, 2, { 3, 2 }, { SH3(2, 3, 4), SH2(3, 1) }, { -1, -1 }, { 1, 1 }, 0, b_mul, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "div", RT_OP_DIV, 2, { 2, 2 }, { SH2(3, 4), SH2(1, 4) }, { -1, 0.5f }, { 1, 2 }, 0, b_div, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "affine", RT_OP_AFFINE, 1, { 2 }, { SH2(3, 5) }, { -2 }, { 2 }, 0, b_affine, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "exp", RT_OP_EXP, 1, { 2 }, { SH2(3, 5) }, { -2 }, { 2 }, 0, b_exp, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "log", RT_OP_LOG, 1, { 2 }, { SH2(3, 5) }, { 0.2f }, { 3 }, 0, b_log, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "softplus", RT_OP_SOFTPLUS, 1, { 2 }, { SH2(4, 5) }, { -6 }, { 6 }, 0, b_softplus, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "relu", RT_OP_RELU, 1, { 2 }, { SH2(4, 5) }, { -2 }, { 2 }, 0.05f, b_relu, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "relu of an op output", -1, 1, { 2 }, { SH2(4, 5) }, { -2 }, { 2 }, 0.05f, b_relu_inner, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "relu over an op output", -1, 1, { 2 }, { SH2(4, 5) }, { -2 }, { 2 }, 0.05f, b_relu_over, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "relu over a linear output", -1, 3, { 2, 2, 1 }, { SH2(4, 6), SH2(3, 6), { 3 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_relu_over_linear, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "tanh", RT_OP_TANH, 1, { 2 }, { SH2(4, 5) }, { -3 }, { 3 }, 0, b_tanh, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "sigmoid", RT_OP_SIGMOID, 1, { 2 }, { SH2(4, 5) }, { -6 }, { 6 }, 0, b_sigmoid, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "square", RT_OP_SQUARE, 1, { 2 }, { SH2(4, 5) }, { -2 }, { 2 }, 0, b_square, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "sqrt", RT_OP_SQRT, 1, { 2 }, { SH2(4, 5) }, { 0.3f }, { 3 }, 0, b_sqrt, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "sum axis 1", RT_OP_SUM, 1, { 3 }, { SH3(2, 3, 4) }, { -1 }, { 1 }, 0, b_sum, G(1e-3, 1e-2, 1e-3), 1, 0 },
    { "sum all", RT_OP_SUM, 1, { 2 }, { SH2(3, 4) }, { -1 }, { 1 }, 0, b_sum, G(1e-3, 1e-2, 1e-3), RT_ALL, 0 },
    { "mean axis 0 keepdim", RT_OP_MEAN, 1, { 2 }, { SH2(5, 3) }, { -1 }, { 1 }, 0, b_mean, G(1e-3, 1e-2, 1e-3), 0, 1 },
    { "mean axis -1", RT_OP_MEAN, 1, { 3 }, { SH3(2, 3, 4) }, { -1 }, { 1 }, 0, b_mean, G(1e-3, 1e-2, 1e-3), -1, 0 },
    { "broadcast", RT_OP_BROADCAST, 1, { 2 }, { SH2(3, 1) }, { -1 }, { 1 }, 0, b_broadcast, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "reshape", RT_OP_RESHAPE, 1, { 3 }, { SH3(2, 3, 4) }, { -1 }, { 1 }, 0, b_reshape, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "matmul", RT_OP_MATMUL, 2, { 2, 2 }, { SH2(3, 5), SH2(5, 4) }, { -1, -1 }, { 1, 1 }, 0, b_matmul, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "linear with bias", RT_OP_LINEAR, 3, { 2, 2, 1 }, { SH2(4, 6), SH2(3, 6), { 3 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_linear, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "linear without bias", RT_OP_LINEAR, 2, { 2, 2 }, { SH2(4, 6), SH2(3, 6) }, { -1, -1 }, { 1, 1 }, 0, b_linear, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "softmax_ce", RT_OP_SOFTMAX_CE, 1, { 2 }, { SH2(5, 7) }, { -3 }, { 3 }, 0, b_ce, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "softmax_ce smoothed", RT_OP_SOFTMAX_CE, 1, { 2 }, { SH2(5, 7) }, { -3 }, { 3 }, 0, b_ce, G(1e-3, 1e-2, 1e-3), 0, 0.1f },
    { "logsumexp axis 1", RT_OP_LOGSUMEXP, 1, { 3 }, { SH3(2, 5, 3) }, { -4 }, { 4 }, 0, b_lse, G(1e-3, 1e-2, 1e-3), 1, 0 },
    { "logsumexp axis -1 keepdim", RT_OP_LOGSUMEXP, 1, { 2 }, { SH2(4, 6) }, { -4 }, { 4 }, 0, b_lse, G(1e-3, 1e-2, 1e-3), -1, 1 },
    { "bern_linear (w, b)", RT_OP_BERN_LINEAR, 2, { 2, 1 }, { SH2(18, 70), { 18 } }, { -1, -1 }, { 1, 1 }, 0, b_bern_linear, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "bern_kl", RT_OP_BERN_KL, 2, { 2, 1 }, { SH2(4, 5), { 5 } }, { -4, -3 }, { 4, 3 }, 0, b_bern_kl, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "softmax_entropy", RT_OP_SOFTMAX_ENTROPY, 1, { 2 }, { SH2(4, 6) }, { -3 }, { 3 }, 0, b_entropy, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "transpose", RT_OP_TRANSPOSE, 1, { 2 }, { SH2(3, 5) }, { -1 }, { 1 }, 0, b_transpose, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "tril_mv", RT_OP_TRIL_MV, 1, { 2 }, { SH2(4, 6) }, { -1 }, { 1 }, 0, b_tril_mv, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "gauss_kl", RT_OP_GAUSS_KL, 2, { 2, 2 }, { SH2(4, 5), SH2(4, 5) }, { -2, 0.2f }, { 2, 2 }, 0, b_gauss_kl, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "conv2d 3x3 padding 1, bias", RT_OP_CONV2D, 3, { 4, 4, 1 }, { SH4(2, 3, 5, 5), SH4(4, 3, 3, 3), { 4 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_conv, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "conv2d stride 2, 2x3 kernel, padding (1, 0)", RT_OP_CONV2D, 2, { 4, 4 }, { SH4(2, 3, 7, 6), SH4(4, 3, 2, 3) }, { -1, -1 }, { 1, 1 }, 0, b_conv, G(1e-3, 1e-2, 1e-3), 1, 0 },
    { "conv2d dilation 2", RT_OP_CONV2D, 3, { 4, 4, 1 }, { SH4(2, 2, 6, 7), SH4(3, 2, 3, 3), { 3 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_conv, G(1e-3, 1e-2, 1e-3), 2, 0 },
    { "conv2d groups 2, stride (1, 2)", RT_OP_CONV2D, 3, { 4, 4, 1 }, { SH4(2, 4, 5, 6), SH4(6, 2, 3, 3), { 6 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_conv, G(1e-3, 1e-2, 1e-3), 3, 0 },
    { "conv2d depthwise", RT_OP_CONV2D, 3, { 4, 4, 1 }, { SH4(2, 4, 5, 5), SH4(4, 1, 3, 3), { 4 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_conv, G(1e-3, 1e-2, 1e-3), 4, 0 },
    { "conv2d 1x1 (direct)", RT_OP_CONV2D, 3, { 4, 4, 1 }, { SH4(3, 5, 4, 3), SH4(4, 5, 1, 1), { 4 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_conv, G(1e-3, 1e-2, 1e-3), 5, 0 },
    { "conv2d 1x1 stride 2", RT_OP_CONV2D, 2, { 4, 4 }, { SH4(2, 3, 5, 6), SH4(4, 3, 1, 1) }, { -1, -1 }, { 1, 1 }, 0, b_conv, G(1e-3, 1e-2, 1e-3), 6, 0 },
    { "conv2d one image per GEMM (24x24)", RT_OP_CONV2D, 3, { 4, 4, 1 }, { SH4(2, 2, 24, 24), SH4(3, 2, 3, 3), { 3 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_conv, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "conv2d runs of 6 and 1 images (10x10)", RT_OP_CONV2D, 3, { 4, 4, 1 }, { SH4(7, 2, 10, 10), SH4(3, 2, 3, 3), { 3 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_conv, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "conv_transpose2d one image per GEMM (23x23 in)", RT_OP_CONV_TRANSPOSE2D, 3, { 4, 4, 1 }, { SH4(2, 2, 23, 23), SH4(2, 2, 3, 3), { 2 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_convt, G(1e-3, 1e-2, 1e-3), 7, 0 },
    { "conv_transpose2d runs of 6 and 1 images", RT_OP_CONV_TRANSPOSE2D, 2, { 4, 4 }, { SH4(7, 2, 10, 10), SH4(2, 3, 3, 3) }, { -1, -1 }, { 1, 1 }, 0, b_convt, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "conv2d 1x1 stride 2 of an op output", -1, 2, { 4, 4 }, { SH4(3, 3, 5, 6), SH4(4, 3, 1, 1) }, { -1, -1 }, { 1, 1 }, 0, b_conv_inner, G(1e-3, 1e-2, 1e-3), 6, 0 },
    { "conv2d 3x3 of an op output, one image per GEMM", -1, 2, { 4, 4 }, { SH4(2, 2, 24, 24), SH4(3, 2, 3, 3) }, { -1, -1 }, { 1, 1 }, 0, b_conv_inner, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "conv_transpose2d of an op output", -1, 2, { 4, 4 }, { SH4(3, 3, 4, 3), SH4(3, 2, 3, 3) }, { -1, -1 }, { 1, 1 }, 0, b_convt_inner, G(1e-3, 1e-2, 1e-3), 7, 0 },
    { "conv_transpose2d stride 2, out_pad 1, bias", RT_OP_CONV_TRANSPOSE2D, 3, { 4, 4, 1 }, { SH4(2, 3, 4, 3), SH4(3, 2, 3, 3), { 2 } }, { -1, -1, -1 }, { 1, 1, 1 }, 0, b_convt, G(1e-3, 1e-2, 1e-3), 7, 0 },
    { "conv_transpose2d groups 2, dilation, 2x3 kernel", RT_OP_CONV_TRANSPOSE2D, 2, { 4, 4 }, { SH4(2, 4, 3, 4), SH4(4, 3, 2, 3) }, { -1, -1 }, { 1, 1 }, 0, b_convt, G(1e-3, 1e-2, 1e-3), 8, 0 },
    { "maxpool2d 2x2 stride 2", RT_OP_MAXPOOL2D, 1, { 4 }, { SH4(2, 3, 4, 6) }, { -1 }, { 1 }, 0, b_maxpool, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "maxpool2d 3x3 stride 2 padding 1", RT_OP_MAXPOOL2D, 1, { 4 }, { SH4(2, 2, 5, 5) }, { -1 }, { 1 }, 0, b_maxpool, G(1e-3, 1e-2, 1e-3), 1, 0 },
    { "avgpool2d 3x3 stride 2 padding 1", RT_OP_AVGPOOL2D, 1, { 4 }, { SH4(2, 2, 5, 6) }, { -1 }, { 1 }, 0, b_avgpool, G(1e-3, 1e-2, 1e-3), 1, 0 },
    { "avgpool2d 3x2 stride (1, 2) padding (1, 0)", RT_OP_AVGPOOL2D, 1, { 4 }, { SH4(2, 2, 4, 5) }, { -1 }, { 1 }, 0, b_avgpool, G(1e-3, 1e-2, 1e-3), 2, 0 },
    { "global_avgpool", RT_OP_GLOBAL_AVGPOOL, 1, { 4 }, { SH4(2, 3, 4, 5) }, { -1 }, { 1 }, 0, b_gap, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "batchnorm train, affine", RT_OP_BATCHNORM, 3, { 4, 1, 1 }, { SH4(3, 3, 2, 3), { 3 }, { 3 } }, { -2, 0.5f, -1 }, { 2, 2, 1 }, 0, b_batchnorm, G(1e-3, 1e-2, 2e-3), 1, 0 },
    { "batchnorm train (N,C), no affine", RT_OP_BATCHNORM, 1, { 2 }, { SH2(6, 3) }, { -2 }, { 2 }, 0, b_batchnorm, G(1e-3, 1e-2, 2e-3), 1, 0 },
    { "batchnorm+relu train, affine", RT_OP_BATCHNORM_RELU, 3, { 4, 1, 1 }, { SH4(3, 3, 2, 3), { 3 }, { 3 } }, { -1, 0.5f, -0.1f }, { 1, 2, 0.1f }, 0, b_batchnorm_relu, G(1e-3, 1e-2, 2e-3), 1, 0 },
    { "batchnorm+relu eval, gamma", RT_OP_BATCHNORM_RELU, 2, { 4, 1 }, { SH4(2, 3, 2, 2), { 3 } }, { -2, 0.5f }, { 2, 2 }, 0.05f, b_batchnorm_relu, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "batchnorm eval, affine", RT_OP_BATCHNORM, 3, { 4, 1, 1 }, { SH4(2, 3, 2, 2), { 3 }, { 3 } }, { -2, 0.5f, -1 }, { 2, 2, 1 }, 0, b_batchnorm, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "groupnorm groups 1 (layer norm)", RT_OP_GROUPNORM, 3, { 4, 1, 1 }, { SH4(2, 4, 2, 3), { 4 }, { 4 } }, { -2, 0.5f, -1 }, { 2, 2, 1 }, 0, b_groupnorm, G(1e-3, 1e-2, 2e-3), 1, 0 },
    { "groupnorm groups 2", RT_OP_GROUPNORM, 3, { 4, 1, 1 }, { SH4(2, 4, 2, 3), { 4 }, { 4 } }, { -2, 0.5f, -1 }, { 2, 2, 1 }, 0, b_groupnorm, G(1e-3, 1e-2, 2e-3), 2, 0 },
    { "groupnorm groups C (instance norm)", RT_OP_GROUPNORM, 3, { 4, 1, 1 }, { SH4(2, 4, 2, 3), { 4 }, { 4 } }, { -2, 0.5f, -1 }, { 2, 2, 1 }, 0, b_groupnorm, G(1e-3, 1e-2, 2e-3), 4, 0 },
    { "groupnorm (N,F) layer norm, no affine", RT_OP_GROUPNORM, 1, { 2 }, { SH2(3, 7) }, { -2 }, { 2 }, 0, b_groupnorm, G(1e-3, 1e-2, 2e-3), 1, 0 },
    /* the ops of objectives written in the script (nn_expr.c) */
    { "abs", RT_OP_ABS, 1, { 2 }, { SH2(4, 5) }, { -2 }, { 2 }, 0.05f, b_abs, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "clamp (values inside and outside [-0.5, 0.75])", RT_OP_CLAMP, 1, { 2 }, { SH2(4, 6) }, { -2 }, { 2 }, 0, b_clamp, G(1e-3, 1e-2, 1e-3), 0, 0 },
    { "max axis 1", RT_OP_MAX, 1, { 3 }, { SH3(2, 5, 3) }, { -4 }, { 4 }, 0, b_max, G(1e-3, 1e-2, 1e-3), 1, 0 },
    { "max axis -1 keepdim", RT_OP_MAX, 1, { 2 }, { SH2(4, 6) }, { -4 }, { 4 }, 0, b_max, G(1e-3, 1e-2, 1e-3), -1, 1 },
};
#define NCASES (int)(sizeof cases / sizeof cases[0])

/* Ops whose backward is a defined surrogate, not the derivative of the forward: each has its own
** test of that surrogate below instead of a finite-difference row. */
static const int surrogate_ops[] = { RT_OP_BERN_ST };

Test(gradcheck, table_covers_every_op) {
    for (int op = 1; op < RT_OP_COUNT; op++) {
        bool found = false;
        for (size_t i = 0; i < sizeof surrogate_ops / sizeof surrogate_ops[0]; i++) found |= surrogate_ops[i] == op;
        for (int i = 0; i < NCASES; i++) found |= cases[i].op == op;
        cr_expect(found, "op '%s' has no gradient-check row in test_gradcheck.c", rt_op_name(op));
    }
}

Test(gradcheck, every_op_matches_finite_differences) {
    for (int i = 0; i < NCASES; i++)
        cr_expect_eq(gc_run(&cases[i], 1000 + (uint64_t)i), 0, "gradient check failed: %s",
                     cases[i].name);
}

#ifdef VIB_HAVE_DNNL
/* The convolution rows again on the oneDNN backend (rt_conv_dnnl.h): its forward and both
** backwards against finite differences, each row computed by oneDNN. */
Test(gradcheck, conv2d_rows_match_finite_differences_on_dnnl) {
    cr_assert(rt_conv_set_backend(RT_CONV_DNNL));
    int rows = 0;
    for (int i = 0; i < NCASES; i++) {
        if (cases[i].build != b_conv && cases[i].build != b_conv_inner) continue;
        long calls = rt_dnnl_conv_calls();
        cr_expect_eq(gc_run(&cases[i], 1000 + (uint64_t)i), 0, "gradient check failed on dnnl: %s", cases[i].name);
        cr_expect_gt(rt_dnnl_conv_calls(), calls, "%s: not computed by oneDNN", cases[i].name);
        rows++;
    }
    cr_expect_geq(rows, 10);
    rt_conv_set_backend(RT_CONV_LOWERING);
}
#endif

// The checker itself must be able to fail: a deliberately wrong gradient is caught.
static rt_tensor *b_wrong(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    (void)k;
    /* Forward of exp, recorded as square: its backward (2x) is not d exp(x)/dx. */
    rt_tensor *y = rt_exp(c, x[0]);
    y->op = RT_OP_SQUARE;
    return y;
}

/* A backward rule off by a factor 2: the forward writes x^2 / 2, recorded as square, whose rule
** (2 x dy) is twice d(x^2/2)/dx. iarg = 1 instead writes -x^2: the rule has the wrong sign. */
static rt_tensor *b_off(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    rt_tensor *y = rt_square(c, x[0]);
    for (int64_t i = 0; i < y->n; i++) y->data[i] *= k->iarg ? -1.0f : 0.5f;
    return y;
}

Test(gradcheck, detects_a_wrong_gradient) {
    gc_case k = { "wrong", -1, 1, { 2 }, { SH2(3, 3) }, { 0.5f }, { 2 }, 0, b_wrong, G(1e-3, 1e-2, 1e-3), 0, 0 };
    cr_assert_gt(gc_check(&k, 7, false), 0, "a wrong backward rule went unnoticed");
}

/* With the tolerances of the table, a rule off by x2 or by a sign fails on every element checked
** (inputs of either sign; min_abs keeps them off 0, where both rules agree). */
Test(gradcheck, detects_a_rule_off_by_a_factor_2_or_a_sign) {
    for (int sign = 0; sign < 2; sign++) {
        gc_case k = { sign ? "off by a sign" : "off by x2", -1, 1, { 2 }, { SH2(3, 4) }, { -2 }, { 2 }, 0.1f, b_off,
                      G(1e-3, 1e-2, 1e-3), sign, 0 };
        cr_expect_eq(gc_check(&k, 11, false), 12, "%s: not every element was caught", k.name);
    }
    /* The same builder with the right rule passes: the checker, not the case, tells them apart. */
    gc_case ok = { "square", RT_OP_SQUARE, 1, { 2 }, { SH2(3, 4) }, { -2 }, { 2 }, 0.1f, b_square, G(1e-3, 1e-2, 1e-3), 0, 0 };
    cr_expect_eq(gc_check(&ok, 11, false), 0);
}

// Straight-through Bernoulli: forward 1[u < p] per particle; backward dp = sum over particles of dz
// (Raiko et al.'s estimator), which the finite difference of the step function cannot check.
Test(gradcheck, bern_st_forward_samples_and_backward_passes_straight_through) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_params P;
    rt_params_init(&P);
    rt_tensor *p = rt_params_add(&P, "p", 2, (int[]){ 2, 3 });
    rt_params_finalize(&P);
    const float pv[6] = { 0.1f, 0.5f, 0.9f, 0.0f, 1.0f, 0.3f };
    memcpy(p->data, pv, sizeof pv);
    rt_tensor *u = rt_tensor_new(&c, 3, (int[]){ 2, 2, 3 });
    const float uv[12] = { 0.05f, 0.6f, 0.2f, 0.0f, 0.99f, 0.3f,  0.5f, 0.4f, 0.95f, 0.7f, 0.0f, 0.29f };
    memcpy(u->data, uv, sizeof uv);
    rt_tensor *z = rt_bern_st(&c, p, u);
    const float want[12] = { 1, 0, 1, 0, 1, 0,  0, 1, 0, 0, 1, 1 };
    for (int i = 0; i < 12; i++) cr_expect_eq(z->data[i], want[i], "z[%d] = %g", i, (double)z->data[i]);
    rt_tensor *w = rt_tensor_like(&c, z);
    for (int i = 0; i < 12; i++) w->data[i] = (float)(i + 1);
    rt_backward(&c, rt_sum(&c, rt_mul(&c, z, w), RT_ALL, false));
    for (int i = 0; i < 6; i++)
        cr_expect_eq(p->grad[i], (float)(i + 1) + (float)(i + 7), "dp[%d] = %g", i, (double)p->grad[i]);
    // The same uniforms as (M R, K) rows, as a bern layer draws them: z (4, 3), the same values
    // and the same straight-through gradient.
    rt_params_zero_grad(&P);
    rt_ctx_reset(&c);
    rt_tensor *u2 = rt_tensor_new(&c, 2, (int[]){ 4, 3 });
    memcpy(u2->data, uv, sizeof uv);
    rt_tensor *z2 = rt_bern_st(&c, p, u2);
    cr_expect(z2->ndim == 2 && z2->shape[0] == 4 && z2->shape[1] == 3);
    for (int i = 0; i < 12; i++) cr_expect_eq(z2->data[i], want[i], "rows: z[%d] = %g", i, (double)z2->data[i]);
    rt_tensor *w2 = rt_tensor_like(&c, z2);
    for (int i = 0; i < 12; i++) w2->data[i] = (float)(i + 1);
    rt_backward(&c, rt_sum(&c, rt_mul(&c, z2, w2), RT_ALL, false));
    for (int i = 0; i < 6; i++)
        cr_expect_eq(p->grad[i], (float)(i + 1) + (float)(i + 7), "rows: dp[%d] = %g", i, (double)p->grad[i]);
    rt_params_free(&P);
    rt_ctx_free(&c);
}

// The fused Bernoulli-linear op against the composition it replaces, rt_linear(rt_bern_st(p, u)):
// the same output and the same gradients (the straight-through dp included) up to float rounding,
// for units that fill no whole word (70) and outputs past one vector (18); and the same bytes on
// 1 and 2 threads.
static void bern_linear_run(int O, int threads, bool fused, float *y, float *dp, float *dw, float *db) {
    enum { R = 3, K = 70, M = 4 };
    rt_blas_set_threads(threads);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_params P;
    rt_params_init(&P);
    rt_tensor *p = rt_params_add(&P, "p", 2, (int[]){ R, K });
    rt_tensor *w = rt_params_add(&P, "w", 2, (int[]){ O, K });
    rt_tensor *b = rt_params_add(&P, "b", 1, (int[]){ O });
    rt_params_finalize(&P);
    rt_rng g;
    rt_rng_seed(&g, 4);
    for (int64_t i = 0; i < p->n; i++) p->data[i] = i % 9 == 0 ? (float)(i % 2) : (float)rt_rng_uniform(&g);
    rt_rng_fill_uniform(&g, w->data, (size_t)w->n, -1.0f, 1.0f);
    rt_rng_fill_uniform(&g, b->data, (size_t)b->n, -1.0f, 1.0f);
    rt_rng noise;
    rt_rng_seed(&noise, 12);
    rt_tensor *out;
    if (fused) {
        out = rt_bern_linear(&c, p, M, &noise, w, b);
    } else {
        rt_tensor *u = rt_tensor_new(&c, 2, (int[]){ M * R, K });
        rt_rng_fill_uniform(&noise, u->data, (size_t)u->n, 0.0f, 1.0f);
        out = rt_linear(&c, rt_bern_st(&c, p, u), w, b);
    }
    cr_assert(out->shape[0] == M * R && out->shape[1] == O);
    rt_tensor *v = rt_tensor_like(&c, out);
    for (int64_t i = 0; i < v->n; i++) v->data[i] = (float)((i * 13) % 7) - 3.0f;
    rt_backward(&c, rt_sum(&c, rt_mul(&c, out, v), RT_ALL, false));
    memcpy(y, out->data, (size_t)out->n * sizeof *y);
    memcpy(dp, p->grad, (size_t)p->n * sizeof *dp);
    memcpy(dw, w->grad, (size_t)w->n * sizeof *dw);
    memcpy(db, b->grad, (size_t)b->n * sizeof *db);
    rt_params_free(&P);
    rt_ctx_free(&c);
    rt_blas_set_threads(1);
}

static int far_apart(const float *a, const float *b, int n, const char *what) {
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (fabsf(a[i] - b[i]) > 1e-5f * (1.0f + fabsf(b[i]))) {
            if (bad++ < 3) cr_log_error("%s[%d]: fused %.9g, composition %.9g", what, i, (double)a[i], (double)b[i]);
        }
    return bad;
}

Test(gradcheck, bern_linear_equals_bern_st_then_linear) {
    enum { R = 3, K = 70, M = 4, OMAX = 40 };
    static float y[2][M * R * OMAX], dp[2][R * K], dw[2][OMAX * K], db[2][OMAX], y2[M * R * OMAX], dp2[R * K],
        dw2[OMAX * K], db2[OMAX];
    /* 18 outputs: the bits path; 40: the particles as floats and GEMMs */
    for (int O = 18; O <= OMAX; O += OMAX - 18) {
        bern_linear_run(O, 1, true, y[0], dp[0], dw[0], db[0]);
        bern_linear_run(O, 1, false, y[1], dp[1], dw[1], db[1]);
        cr_expect_eq(far_apart(y[0], y[1], M * R * O, "y"), 0, "%d outputs", O);
        cr_expect_eq(far_apart(dp[0], dp[1], R * K, "dp"), 0, "%d outputs", O);
        cr_expect_eq(far_apart(dw[0], dw[1], O * K, "dw"), 0, "%d outputs", O);
        cr_expect_eq(far_apart(db[0], db[1], O, "db"), 0, "%d outputs", O);
        bern_linear_run(O, 2, true, y2, dp2, dw2, db2);
        cr_expect(memcmp(y2, y[0], (size_t)M * R * O * sizeof *y2) == 0 && memcmp(dp2, dp[0], sizeof dp2) == 0 &&
                  memcmp(dw2, dw[0], (size_t)O * K * sizeof *dw2) == 0 && memcmp(db2, db[0], (size_t)O * sizeof *db2) == 0,
                  "bern_linear with %d outputs on 2 threads differs from 1 thread", O);
    }
}

