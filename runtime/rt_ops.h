/*
** rt_ops.h: the differentiable ops and the rule every one of them follows.
**
** Each op computes its output in the step arena at once (eager), and, when the context records
** and an input needs a gradient, appends the output to the tape. Its backward lives next to its
** forward in the same file (rt_op_*.c) and is found through one table indexed by rt_op
** (rt_tape.c); an op without a backward rule aborts with its name.
**
** Backward: void rt_<op>_bwd(rt_ctx *c, rt_tensor *out), declared in rt_impl.h; the table's type,
** rt_bwd_fn, holds every op to it. rt_backward calls it for each recorded output that received a
** gradient, in reverse tape order. It reads the upstream gradient out->grad, the sources
** out->src[0..2] and what the forward kept (out->data, fparam, iparam, aux), and adds (+=) each
** source's term into that source's gradient, which rt_src_grad returns (NULL when the source needs
** none; zero-filled in the step arena on first use, a parameter's slot of the flat buffer). Two
** exceptions save a pass over memory: through rt_src_grad_once, an op that gives every element
** exactly one term stores (=) into a fresh, unzeroed buffer; and relu and a sum without
** broadcasting hand out->grad itself to an input that has no gradient yet (rt_src_grad_take),
** relu masking it in place. A backward allocates nothing but those
** gradients, in the step arena.
**
** Shapes are checked with RT_ASSERT: by the time an op runs, nn/ has checked the user's
** architecture and reported mismatches against the script line. A failing assert here is a bug.
**
** Broadcasting (add, sub, mul, div) is numpy's: shapes align on the right, and each dimension
** must be equal or 1 in one operand. Backward sums the gradient over broadcast dimensions.
*/
#ifndef RT_OPS_H
#define RT_OPS_H

#include "rt_rng.h"
#include "rt_tensor.h"

typedef enum rt_op {
    RT_OP_LEAF = 0,
    RT_OP_ADD, RT_OP_SUB, RT_OP_MUL, RT_OP_DIV,
    RT_OP_AFFINE,           /* y = a*x + b, scalars */
    RT_OP_EXP, RT_OP_LOG, RT_OP_SOFTPLUS, RT_OP_RELU, RT_OP_TANH, RT_OP_SIGMOID,
    RT_OP_SQUARE, RT_OP_SQRT,
    RT_OP_SUM, RT_OP_MEAN,  /* over one axis, or all (axis = -1) */
    RT_OP_BROADCAST,        /* expand size-1 dims to a shape */
    RT_OP_RESHAPE,
    RT_OP_MATMUL,           /* (M,K) x (K,N) */
    RT_OP_LINEAR,           /* x W^T + b */
    RT_OP_SOFTMAX_CE,       /* fused log-softmax + cross-entropy, per example */
    RT_OP_LOGSUMEXP,        /* over one axis */
    RT_OP_GAUSS_KL,         /* KL(N(mu, diag sigma^2) || N(0, I)), per row */
    RT_OP_BERN_ST,          /* Bernoulli particles, straight-through gradient */
    RT_OP_BERN_KL,          /* KL between factorized Bernoullis, on logits, per row */
    RT_OP_SOFTMAX_ENTROPY,  /* entropy of softmax(z), per row */
    RT_OP_TRANSPOSE,        /* (M,N) -> (N,M) */
    RT_OP_TRIL_MV,          /* packed lower-triangular L times constant vectors (full-covariance z) */
    RT_OP_CONV2D, RT_OP_CONV_TRANSPOSE2D,                   /* NCHW, im2col + GEMM */
    RT_OP_MAXPOOL2D, RT_OP_AVGPOOL2D, RT_OP_GLOBAL_AVGPOOL,
    RT_OP_BATCHNORM, RT_OP_GROUPNORM,
    RT_OP_ABS, RT_OP_CLAMP, /* elementwise, for objectives written in the script */
    RT_OP_MAX,              /* maximum over one axis */
    RT_OP_BERN_LINEAR,      /* Bernoulli particles as bits into a linear layer, straight-through */
    RT_OP_BATCHNORM_RELU,   /* batch norm followed by ReLU, in one pass each way */
    RT_OP_COUNT
} rt_op;

const char *rt_op_name(int op);

// ---- elementwise (rt_op_elem.c) ----
rt_tensor *rt_add(rt_ctx *c, rt_tensor *a, rt_tensor *b);     /* broadcasting */
rt_tensor *rt_sub(rt_ctx *c, rt_tensor *a, rt_tensor *b);
rt_tensor *rt_mul(rt_ctx *c, rt_tensor *a, rt_tensor *b);
rt_tensor *rt_div(rt_ctx *c, rt_tensor *a, rt_tensor *b);
rt_tensor *rt_affine(rt_ctx *c, rt_tensor *x, float a, float b);  /* a*x + b */
rt_tensor *rt_scale(rt_ctx *c, rt_tensor *x, float a);             /* a*x */
rt_tensor *rt_exp(rt_ctx *c, rt_tensor *x);
rt_tensor *rt_log(rt_ctx *c, rt_tensor *x);
rt_tensor *rt_softplus(rt_ctx *c, rt_tensor *x);   /* log(1 + e^x), stable for any x */
rt_tensor *rt_relu(rt_ctx *c, rt_tensor *x);
/* ReLU written over x's own data, for an x that nothing reads after this (the output of the op
** before, with this as its only consumer): saves writing a fresh buffer. The backward is
** rt_relu's, which reads only the sign of its input, and max(x, 0) > 0 exactly where x > 0. */
rt_tensor *rt_relu_over(rt_ctx *c, rt_tensor *x);
rt_tensor *rt_tanh(rt_ctx *c, rt_tensor *x);
rt_tensor *rt_sigmoid(rt_ctx *c, rt_tensor *x);
rt_tensor *rt_square(rt_ctx *c, rt_tensor *x);
rt_tensor *rt_sqrt(rt_ctx *c, rt_tensor *x);
rt_tensor *rt_abs(rt_ctx *c, rt_tensor *x);    /* gradient 0 at x = 0 */
/* min(max(x, lo), hi), lo <= hi; the gradient passes inside [lo, hi] and is 0 outside. */
rt_tensor *rt_clamp(rt_ctx *c, rt_tensor *x, float lo, float hi);

// ---- reductions and shape (rt_op_reduce.c) ----
/* Sum / mean over `axis` (negative counts from the end; RT_ALL = every element, giving a
** scalar of shape {1}). keepdim keeps the reduced axis as size 1. */
#define RT_ALL 99
rt_tensor *rt_sum(rt_ctx *c, rt_tensor *x, int axis, bool keepdim);
rt_tensor *rt_mean(rt_ctx *c, rt_tensor *x, int axis, bool keepdim);
rt_tensor *rt_broadcast(rt_ctx *c, rt_tensor *x, int ndim, const int *shape);
rt_tensor *rt_reshape(rt_ctx *c, rt_tensor *x, int ndim, const int *shape);

// ---- matrix products (rt_op_matmul.c) ----
rt_tensor *rt_matmul(rt_ctx *c, rt_tensor *a, rt_tensor *b);  /* a:(M,K) b:(K,N) -> (M,N) */
/* x:(B,I) W:(O,I) b:(O) or NULL -> (B,O) = x W^T + b */
rt_tensor *rt_linear(rt_ctx *c, rt_tensor *x, rt_tensor *w, rt_tensor *b);

// ---- fused ops with hand-written backward (rt_op_fused.c) ----
/* logits:(B,C), labels: B class indices in [0,C) -> (B) per-example -log softmax(logits)[label]
** (nats). `smoothing` in [0,1) mixes the one-hot target with the uniform distribution. */
rt_tensor *rt_softmax_ce(rt_ctx *c, rt_tensor *logits, const int32_t *labels, float smoothing);
/* log sum exp over `axis`, stable (max subtracted). keepdim as rt_sum. */
rt_tensor *rt_logsumexp(rt_ctx *c, rt_tensor *x, int axis, bool keepdim);
/* The maximum over `axis`, keepdim as rt_sum; the gradient goes to the first maximal element. */
rt_tensor *rt_max(rt_ctx *c, rt_tensor *x, int axis, bool keepdim);
/* mu, sigma: (B,K), sigma > 0 -> (B) per-row KL(N(mu, diag sigma^2) || N(0, I)) in nats
** = 1/2 sum_k (mu^2 + sigma^2 - 1 - 2 ln sigma). Backward: dmu = mu, dsigma = sigma - 1/sigma. */
rt_tensor *rt_gauss_kl(rt_ctx *c, rt_tensor *mu, rt_tensor *sigma);

// ---- stochastic layers and IB objectives (rt_op_info.c) ----
/* p:(R,K) probabilities, u:(M,R,K) constant uniforms -> (M,R,K) z = 1[u < p]: M particles per row,
** particle-major; u as (M R, K) gives z as (M R, K), the same values. Backward is straight-through (Raiko et al.): dp += sum over particles of dz.
** Not the derivative of the forward (which is 0 almost everywhere) but its defined surrogate. */
rt_tensor *rt_bern_st(rt_ctx *c, rt_tensor *p, rt_tensor *u);
/* rt_linear(c, rt_bern_st(c, p, u), w, b) without the particles as floats (rt_op_bern.c), for M
** particles per row of p (R,K), u the M R x K uniforms rt_rng_fill_uniform(noise, u, M R K, 0, 1)
** would draw (drawn here, the same floats in the same order), w (O,K), b (O) or NULL -> (M R, O).
** The particles live as bits in the step arena (as floats for more than 32 outputs, where GEMMs
** win); backward gives dw and db exactly and dp straight-through, (sum over particles of dy) w.
** Equal to the composition up to float rounding. */
rt_tensor *rt_bern_linear(rt_ctx *c, rt_tensor *p, int M, rt_rng *noise, rt_tensor *w, rt_tensor *b);
/* h:(R,K) logits of p, w:(K) logits of the prior r -> (R) sum_k KL(Bern(p_k) || Bern(r_k)) nats. */
rt_tensor *rt_bern_kl(rt_ctx *c, rt_tensor *h, rt_tensor *w);
/* z:(R,C) -> (R) entropy of softmax(z) in nats (the confidence penalty's H(p(y|x))). */
rt_tensor *rt_softmax_entropy(rt_ctx *c, rt_tensor *z);
/* The same entropy of one row of C logits, in double, off the tape (figures, measurements). */
double rt_softmax_entropy_row(const float *z, int C);
rt_tensor *rt_transpose(rt_ctx *c, rt_tensor *x);  /* (M,N) -> (N,M) */
/* l:(R, K(K+1)/2) packed rows of lower-triangular L_r (entry (i,j), j <= i, at i(i+1)/2 + j),
** e:(S,R,K) constant -> (S,R,K) L_r e: the noise of z = mu + L eps, eps ~ N(0, I), Cov = L L^T. */
rt_tensor *rt_tril_mv(rt_ctx *c, rt_tensor *l, rt_tensor *e);

// ---- convolution and pooling, NCHW (rt_op_conv.c) ----
/* All tensors NCHW, row-major, contiguous, f32.
**
** How: im2col + GEMM. For each run of images (as many as give a GEMM 512 columns: one image at
** 32x32, two at 16x16, eight at 8x8) and each group g, the patches of x are copied into a column
** matrix col (C/groups * KH * KW rows, one column per output pixel of the run; zeros where the
** window leaves the padded input), and y[run, g] = W_g col is one rt_gemm of M = O/groups,
** N = run OH OW, K = C/groups KH KW (a 1x1 convolution of stride 1 without padding on one image
** uses x itself). Backward: dW_g += dy[run, g] col^T (col recomputed from x: nothing is kept on
** the tape but the geometry), dx[run, g] += col2im(W_g^T dy[run, g]). Runs go in parallel on
** rt_blas_pool(), each one's GEMMs single-threaded on the thread that took it; dW and db are
** summed per fixed block of runs (RT_CONV_BLOCKS blocks at most) and the blocks added in order.
** Runs and blocks depend on the shapes only, so the results are the same bytes for any thread
** count, except when the whole batch is one run (a single image, or a batch of small ones): then
** its GEMMs are cut across the threads as rt_gemm cuts any product, and the bytes are those of
** the thread count. The transposed convolution is the same three products in the other roles.
**
** Memory rule: the column buffers are work space in the step arena, taken after the op's output
** (or the gradients it writes) and rolled back before it returns. A convolution keeps nothing for
** backward beyond its inputs, so the work space does not grow with depth; its peak is that of the
** largest single convolution: per thread, one column matrix (C/groups KH KW x run OH OW floats)
** and, for runs of several images, one O/groups x run OH OW gather buffer; plus one dW and db
** partial per block in backward. ResNet-20 at batch 128: at most 1.3 MB per thread (64->64 at 8x8), 2.4 MB of dW
** partials. From the second step on it fits in the arena's one chunk and nothing is allocated. */
#define RT_CONV_BLOCKS 32
typedef struct rt_conv_geom {
    int stride_h, stride_w;     /* >= 1 */
    int pad_h, pad_w;           /* zero padding, >= 0 */
    int dil_h, dil_w;           /* dilation, >= 1 */
    int groups;                 /* >= 1; C and O divisible by it; groups == C == O: depthwise */
    int out_pad_h, out_pad_w;   /* transposed convolution only: extra rows/cols at the end, < stride */
} rt_conv_geom;

/* Output size of a convolution along one axis: (in + 2 pad - dil (k - 1) - 1) / stride + 1,
** or <= 0 when the dilated kernel does not fit the padded input (nn/ reports that as an error). */
int rt_conv_out_size(int in, int k, int stride, int pad, int dil);
/* Transposed: (in - 1) stride - 2 pad + dil (k - 1) + out_pad + 1 (<= 0: does not fit). */
int rt_conv_transpose_out_size(int in, int k, int stride, int pad, int dil, int out_pad);

/* x:(N,C,H,W) w:(O,C/groups,KH,KW) b:(O) or NULL -> (N,O,OH,OW), OH = rt_conv_out_size(H, KH,
** stride_h, pad_h, dil_h), OW likewise; y[n,o,i,j] = b[o] + sum over c in o's group, kh, kw of
** w[o, c - group start, kh, kw] x[n, c, i sh - ph + kh dh, j sw - pw + kw dw] (0 outside x).
** out_pad must be 0. */
rt_tensor *rt_conv2d(rt_ctx *c, rt_tensor *x, rt_tensor *w, rt_tensor *b, const rt_conv_geom *g);
/* The adjoint of conv2d (PyTorch's ConvTranspose2d): x:(N,C,H,W) w:(C,O/groups,KH,KW) b:(O) or
** NULL -> (N,O,OH,OW), OH = rt_conv_transpose_out_size(H, KH, stride_h, pad_h, dil_h, out_pad_h).
** Without bias, <conv2d(u, w), x> = <u, conv_transpose2d(x, w)> for every u of shape (N,O,OH,OW)
** (the same w, read as conv2d's (C, O/groups, KH, KW) weights from O to C channels). */
rt_tensor *rt_conv_transpose2d(rt_ctx *c, rt_tensor *x, rt_tensor *w, rt_tensor *b, const rt_conv_geom *g);

/* x:(N,C,H,W) -> (N,C,OH,OW), OH = rt_conv_out_size(H, kh, sh, ph, 1). Max: padding counts as
** -inf; ties go to the first element in row-major window order (deterministic), which alone
** receives the gradient. Average: divides by the number of window elements inside the unpadded
** input (PyTorch count_include_pad=False). ph < kh, pw < kw (every window meets the input). */
rt_tensor *rt_maxpool2d(rt_ctx *c, rt_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw);
rt_tensor *rt_avgpool2d(rt_ctx *c, rt_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw);
/* x:(N,C,H,W) -> (N,C): the mean over H and W. */
rt_tensor *rt_global_avgpool(rt_ctx *c, rt_tensor *x);

// ---- normalization (rt_op_norm.c) ----
/* Batch normalization. x:(N,C,H,W) or (N,C); gamma, beta:(C) (either may be NULL: no affine).
** train: normalizes with the batch's per-channel mean and biased variance over N(,H,W), and, when
** run_mean/run_var (C floats each, plain memory off the tape) are not NULL, updates them as PyTorch
** does: r = (1 - momentum) r + momentum * batch, with the unbiased variance for run_var.
** !train: normalizes with run_mean and run_var (an affine map; backward still correct).
** y = gamma * (x - mean) / sqrt(var + eps) + beta. Statistics are summed in double. */
rt_tensor *rt_batchnorm(rt_ctx *c, rt_tensor *x, rt_tensor *gamma, rt_tensor *beta,
                        float *run_mean, float *run_var, float momentum, float eps, bool train);
/* rt_relu(rt_batchnorm(...)) in one op, with the same bytes forward and backward: the ReLU is
** applied as batch norm writes its output, and the backward masks dy by that output's sign as it
** reads it, where the two ops would each make a pass over the activations both ways. */
rt_tensor *rt_batchnorm_relu(rt_ctx *c, rt_tensor *x, rt_tensor *gamma, rt_tensor *beta,
                             float *run_mean, float *run_var, float momentum, float eps, bool train);
/* Group normalization. x:(N,C,H,W) or (N,C); statistics per example over each group of C/groups
** channels (and H, W); gamma, beta:(C) or NULL. Layer normalization is groups = 1 (on (N,F): the
** usual LayerNorm over the features), instance normalization groups = C. Biased variance. */
rt_tensor *rt_groupnorm(rt_ctx *c, rt_tensor *x, rt_tensor *gamma, rt_tensor *beta, int groups, float eps);

#endif
