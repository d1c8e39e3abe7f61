// rt_op_norm.c: batch and group normalization (layer and instance norm are group norm's ends).
// Statistics are summed in double, in a fixed order per channel or group; channels (batch norm)
// and (example, group) slabs (group norm) run in parallel on rt_blas_pool, each on one thread, so
// the bytes do not depend on the thread count.
#include "rt_impl.h"
#include "rt_blas.h"
#include "rt_pool.h"

#include <math.h>
#include <string.h>

#define NORM_CHUNK_ELEMS (1 << 14)  /* elements per chunk of channels or slabs, at least */

static size_t norm_chunk(int64_t per_item) {
    int64_t k = NORM_CHUNK_ELEMS / (per_item > 0 ? per_item : 1);
    return k < 1 ? 1 : (size_t)k;
}

/* x:(N,C,...) -> N, C and the elements per (example, channel) plane. */
static void norm_dims(const rt_tensor *x, int *N, int *C, int64_t *hw) {
    RT_ASSERT(x->ndim >= 2);
    *N = x->shape[0];
    *C = x->shape[1];
    *hw = 1;
    for (int i = 2; i < x->ndim; i++) *hw *= x->shape[i];
}

// ---- sums in lanes ----
// A serial double sum is bound by the adder's latency (one element per 4 cycles, a quarter of the
// batch norm step when it was one). The sums below keep LANES independent double partial sums,
// element i of a run going to lane i mod LANES, and add the lanes in one fixed order at the end.
// They are written with GCC's vector extensions (four vectors of eight doubles, kept in
// registers; a plain loop kept the lanes in memory and waited on its own stores): every lane's
// additions stay in order and each operation rounds as its scalar form, so every clone gives the
// same bytes, and the result depends only on the data, not on the thread count or the machine.
#define LANES 32

typedef float v8f __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));
typedef int32_t v8i __attribute__((vector_size(32)));

typedef union lanes { v8d v[4]; double d[LANES]; } lanes;

/* Macros, not functions: a function returning a vector wider than the clone's registers would
** change the ABI between clones (gcc's -Wpsabi). */
#define load8(p) __extension__({ v8f v_; memcpy(&v_, (p), sizeof v_); v_; })
#define widen8(v) __builtin_convertvector((v), v8d)

static double lanes_total(const lanes *a) {
    double t[LANES];
    memcpy(t, a->d, sizeof t);
    for (int w = LANES / 2; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) t[k] += t[k + w];
    return t[0];
}

/* a += x[0..n) */
RT_SIMD_CLONES
static void lanes_sum(lanes *restrict a, const float *restrict x, int64_t n) {
    v8d s0 = a->v[0], s1 = a->v[1], s2 = a->v[2], s3 = a->v[3];
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        s0 += widen8(load8(x + i));
        s1 += widen8(load8(x + i + 8));
        s2 += widen8(load8(x + i + 16));
        s3 += widen8(load8(x + i + 24));
    }
    a->v[0] = s0, a->v[1] = s1, a->v[2] = s2, a->v[3] = s3;
    for (int k = 0; i + k < n; k++) a->d[k] += (double)x[i + k];
}

/* a += (x[0..n) - mean)^2 */
RT_SIMD_CLONES
static void lanes_sqdev(lanes *restrict a, const float *restrict x, int64_t n, double mean) {
    v8d s0 = a->v[0], s1 = a->v[1], s2 = a->v[2], s3 = a->v[3], d0, d1, d2, d3;
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        d0 = widen8(load8(x + i)) - mean;
        d1 = widen8(load8(x + i + 8)) - mean;
        d2 = widen8(load8(x + i + 16)) - mean;
        d3 = widen8(load8(x + i + 24)) - mean;
        s0 += d0 * d0, s1 += d1 * d1, s2 += d2 * d2, s3 += d3 * d3;
    }
    a->v[0] = s0, a->v[1] = s1, a->v[2] = s2, a->v[3] = s3;
    for (int k = 0; i + k < n; k++) {
        double d = (double)x[i + k] - mean;
        a->d[k] += d * d;
    }
}

/* a += dy g and b += dy g xhat over [0..n), xhat = (x - m) is, in float as the forward pass has it.
** With y (the output of a fused ReLU), dy counts only where y > 0: anded with the mask of y > 0,
** which leaves dy or +0, as the scalar select does. */
RT_SIMD_CLONES
static void lanes_dy_xhat(lanes *restrict a, lanes *restrict b, const float *restrict x, const float *restrict dy,
                          const float *restrict y, int64_t n, float g, float m, float is) {
    v8d a0 = a->v[0], a1 = a->v[1], a2 = a->v[2], a3 = a->v[3];
    v8d b0 = b->v[0], b1 = b->v[1], b2 = b->v[2], b3 = b->v[3];
    int64_t i = 0;
#define DY_XHAT(q, DV)                                                                        \
    do {                                                                                      \
        v8d d_ = widen8((DV) * g);                                                            \
        a##q += d_;                                                                           \
        b##q += d_ * widen8((load8(x + i + 8 * q) - m) * is);                                 \
    } while (0)
#define MASKED(o) ((v8f)((v8i)load8(dy + (o)) & (load8(y + (o)) > 0.0f)))
    if (y) {
        for (; i + LANES <= n; i += LANES) {
            DY_XHAT(0, MASKED(i));
            DY_XHAT(1, MASKED(i + 8));
            DY_XHAT(2, MASKED(i + 16));
            DY_XHAT(3, MASKED(i + 24));
        }
    } else {
        for (; i + LANES <= n; i += LANES) {
            DY_XHAT(0, load8(dy + i));
            DY_XHAT(1, load8(dy + i + 8));
            DY_XHAT(2, load8(dy + i + 16));
            DY_XHAT(3, load8(dy + i + 24));
        }
    }
#undef MASKED
#undef DY_XHAT
    a->v[0] = a0, a->v[1] = a1, a->v[2] = a2, a->v[3] = a3;
    b->v[0] = b0, b->v[1] = b1, b->v[2] = b2, b->v[3] = b3;
    for (int k = 0; i + k < n; k++) {
        float dk = y && !(y[i + k] > 0.0f) ? 0.0f : dy[i + k];
        double d = (double)(dk * g);
        a->d[k] += d;
        b->d[k] += d * (double)((x[i + k] - m) * is);
    }
}

/* y[0..n) = (x - m) is ga + be, or max(that, 0) */
RT_SIMD_CLONES
static void norm_apply(float *restrict y, const float *restrict x, int64_t n, float m, float is, float ga, float be,
                       bool relu) {
    if (relu) {
        for (int64_t i = 0; i < n; i++) {
            float v = (x[i] - m) * is * ga + be;
            y[i] = v > 0.0f ? v : 0.0f;
        }
    } else {
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) * is * ga + be;
    }
}

/* dx[0..n) += k (dy g - a - (x - m) is b), or = when set (a fresh buffer); with y, dy counts only
** where y > 0 (a fused ReLU). */
RT_SIMD_CLONES
static void norm_dx(float *restrict dx, const float *restrict x, const float *restrict dy, const float *restrict y,
                    int64_t n, float g, float k, float m, float is, float a, float b, bool set) {
#define DX_TERM(DY) (k * ((DY) * g - a - (x[i] - m) * is * b))
    if (y && set) for (int64_t i = 0; i < n; i++) dx[i] = DX_TERM(y[i] > 0.0f ? dy[i] : 0.0f);
    else if (y) for (int64_t i = 0; i < n; i++) dx[i] += DX_TERM(y[i] > 0.0f ? dy[i] : 0.0f);
    else if (set) for (int64_t i = 0; i < n; i++) dx[i] = DX_TERM(dy[i]);
    else for (int64_t i = 0; i < n; i++) dx[i] += DX_TERM(dy[i]);
#undef DX_TERM
}

/* The mean of `runs` runs of len values, run r at x + r * stride, and the sum of squared deviations
** from it: two passes of lane sums, for a batch norm channel (N runs) and a group norm slab (one). */
static void moments(const float *x, int runs, size_t stride, int64_t len, double *mean, double *sq) {
    lanes s = { 0 }, d = { 0 };
    for (int r = 0; r < runs; r++) lanes_sum(&s, x + r * stride, len);
    *mean = lanes_total(&s) / ((double)runs * (double)len);
    for (int r = 0; r < runs; r++) lanes_sqdev(&d, x + r * stride, len, *mean);
    *sq = lanes_total(&d);
}

/* Over channel c of x and dy (N, C, hw): the sums of dy and of dy xhat, xhat = (x - mean) invstd
** with the statistics of example n at index n * sn + si (batch norm: sn = 0; group norm: one per
** example and group); with y, dy only where y > 0. In double, in a fixed order. */
static void channel_sums(const float *x, const float *dy, const float *y, int N, int C, int64_t hw, size_t c,
                         const float *mean, const float *invstd, size_t sn, size_t si, double *sdy, double *sdyx) {
    lanes a = { 0 }, b = { 0 };
    for (int n = 0; n < N; n++) {
        size_t off = ((size_t)n * C + c) * hw;
        lanes_dy_xhat(&a, &b, x + off, dy + off, y ? y + off : NULL, hw, 1.0f, mean[n * sn + si], invstd[n * sn + si]);
    }
    *sdy = lanes_total(&a);
    *sdyx = lanes_total(&b);
}

// ---- batch normalization: statistics per channel over N and the spatial dims ----

typedef struct bn_job {
    int N, C;
    int64_t hw;
    const float *x, *gamma, *beta, *dy;
    const float *out;           /* backward of a fused ReLU: the output, whose sign masks dy */
    float *y, *dx, *dgamma, *dbeta;
    float *mean, *invstd;       /* (C) each: the statistics used (batch's, or running ones) */
    float *run_mean, *run_var;
    float momentum, eps;
    bool train, relu, dx_set;   /* dx_set: dx is a fresh buffer, stored rather than added to */
} bn_job;

static void bn_fwd_chunk(void *arg, size_t lo, size_t hi) {
    const bn_job *j = arg;
    int64_t M = (int64_t)j->N * j->hw;
    for (size_t c = lo; c < hi; c++) {
        double mean, var;
        if (j->train) {
            double q;
            moments(j->x + c * j->hw, j->N, (size_t)j->C * j->hw, j->hw, &mean, &q);
            var = q / (double)M;
            if (j->run_mean) j->run_mean[c] = (float)((1.0 - (double)j->momentum) * (double)j->run_mean[c] + (double)j->momentum * mean);
            if (j->run_var)
                j->run_var[c] = (float)((1.0 - (double)j->momentum) * (double)j->run_var[c] + (double)j->momentum * q / (double)(M - 1));
        } else {
            mean = (double)j->run_mean[c];
            var = (double)j->run_var[c];
        }
        float m = (float)mean, is = (float)(1.0 / sqrt(var + (double)j->eps));
        j->mean[c] = m;
        j->invstd[c] = is;
        float ga = j->gamma ? j->gamma[c] : 1.0f, be = j->beta ? j->beta[c] : 0.0f;
        for (int n = 0; n < j->N; n++) {
            size_t off = ((size_t)n * j->C + c) * j->hw;
            norm_apply(j->y + off, j->x + off, j->hw, m, is, ga, be, j->relu);
        }
    }
}

static void bn_bwd_chunk(void *arg, size_t lo, size_t hi) {
    const bn_job *j = arg;
    int64_t M = (int64_t)j->N * j->hw;
    for (size_t c = lo; c < hi; c++) {
        float m = j->mean[c], is = j->invstd[c], ga = j->gamma ? j->gamma[c] : 1.0f;
        double sdy, sdyx;
        channel_sums(j->x, j->dy, j->out, j->N, j->C, j->hw, c, j->mean, j->invstd, 0, c, &sdy, &sdyx);
        if (j->dbeta) j->dbeta[c] += (float)sdy;
        if (j->dgamma) j->dgamma[c] += (float)sdyx;
        if (!j->dx) continue;
        float k = ga * is;
        float a = j->train ? (float)(sdy / (double)M) : 0.0f, b = j->train ? (float)(sdyx / (double)M) : 0.0f;
        for (int n = 0; n < j->N; n++) {
            size_t off = ((size_t)n * j->C + c) * j->hw;
            norm_dx(j->dx + off, j->x + off, j->dy + off, j->out ? j->out + off : NULL, j->hw, 1.0f, k, m, is, a, b,
                    j->dx_set);
        }
    }
}

static rt_tensor *batchnorm(rt_ctx *c, int op, rt_tensor *x, rt_tensor *gamma, rt_tensor *beta, float *run_mean,
                            float *run_var, float momentum, float eps, bool train) {
    int N, C;
    int64_t hw;
    norm_dims(x, &N, &C, &hw);
    RT_ASSERT(!gamma || gamma->n == C);
    RT_ASSERT(!beta || beta->n == C);
    RT_ASSERT(train || (run_mean && run_var));
    RT_ASSERT(!train || (int64_t)N * hw > 1);   /* the unbiased variance needs two values */
    RT_ASSERT(eps >= 0.0f);
    rt_tensor *y = rt_node_new(c, op, x->ndim, x->shape, x, gamma, beta);
    float *st = rt_arena_alloc_raw(&c->step, 2 * (size_t)C * sizeof(float));
    y->aux = st;
    y->iparam[0] = train;
    bn_job j = { .N = N, .C = C, .hw = hw, .x = x->data, .gamma = gamma ? gamma->data : NULL,
                 .beta = beta ? beta->data : NULL, .y = y->data, .mean = st, .invstd = st + C,
                 .run_mean = run_mean, .run_var = run_var, .momentum = momentum, .eps = eps, .train = train,
                 .relu = op == RT_OP_BATCHNORM_RELU };
    rt_pool_for(rt_blas_pool(), (size_t)C, norm_chunk((int64_t)N * hw), bn_fwd_chunk, &j);
    return y;
}

rt_tensor *rt_batchnorm(rt_ctx *c, rt_tensor *x, rt_tensor *gamma, rt_tensor *beta,
                        float *run_mean, float *run_var, float momentum, float eps, bool train) {
    return batchnorm(c, RT_OP_BATCHNORM, x, gamma, beta, run_mean, run_var, momentum, eps, train);
}

rt_tensor *rt_batchnorm_relu(rt_ctx *c, rt_tensor *x, rt_tensor *gamma, rt_tensor *beta,
                             float *run_mean, float *run_var, float momentum, float eps, bool train) {
    return batchnorm(c, RT_OP_BATCHNORM_RELU, x, gamma, beta, run_mean, run_var, momentum, eps, train);
}

/* Both ops: a fused ReLU masks dy by the sign of the output it kept. dx is stored into a fresh
** buffer (rt_src_grad_once) where x has no gradient yet, saving its zeroing and a read. */
void rt_batchnorm_bwd(rt_ctx *c, rt_tensor *y) {
    rt_tensor *x = y->src[0], *gamma = y->src[1], *beta = y->src[2];
    int N, C;
    int64_t hw;
    norm_dims(x, &N, &C, &hw);
    float *st = y->aux;
    bool fresh;
    bn_job j = { .N = N, .C = C, .hw = hw, .x = x->data, .gamma = gamma ? gamma->data : NULL, .dy = y->grad,
                 .out = y->op == RT_OP_BATCHNORM_RELU ? y->data : NULL, .dx = rt_src_grad_once(c, x, &fresh),
                 .dgamma = rt_src_grad(c, gamma), .dbeta = rt_src_grad(c, beta), .mean = st, .invstd = st + C,
                 .train = y->iparam[0] != 0 };
    j.dx_set = fresh;
    rt_pool_for(rt_blas_pool(), (size_t)C, norm_chunk((int64_t)N * hw), bn_bwd_chunk, &j);
}

// ---- group normalization: statistics per example and group of C/groups channels ----

typedef struct gn_job {
    int N, C, G, Cg;
    int64_t hw;
    const float *x, *gamma, *beta, *dy;
    float *y, *dx, *dgamma, *dbeta;
    float *mean, *invstd;       /* (N, G) each */
    float eps;
} gn_job;

static void gn_fwd_chunk(void *arg, size_t lo, size_t hi) {
    const gn_job *j = arg;
    int64_t M = (int64_t)j->Cg * j->hw;
    for (size_t s = lo; s < hi; s++) {         /* slab s = n G + g: contiguous Cg hw elements */
        const float *x = j->x + s * M;
        double mean, q;
        moments(x, 1, 0, M, &mean, &q);
        float m = (float)mean, is = (float)(1.0 / sqrt(q / (double)M + (double)j->eps));
        j->mean[s] = m;
        j->invstd[s] = is;
        float *y = j->y + s * M;
        int c0 = (int)(s % (size_t)j->G) * j->Cg;
        for (int cc = 0; cc < j->Cg; cc++) {
            float ga = j->gamma ? j->gamma[c0 + cc] : 1.0f, be = j->beta ? j->beta[c0 + cc] : 0.0f;
            norm_apply(y + cc * j->hw, x + cc * j->hw, j->hw, m, is, ga, be, false);
        }
    }
}

static void gn_bwd_dx_chunk(void *arg, size_t lo, size_t hi) {
    const gn_job *j = arg;
    int64_t M = (int64_t)j->Cg * j->hw;
    for (size_t s = lo; s < hi; s++) {
        const float *x = j->x + s * M, *dy = j->dy + s * M;
        float m = j->mean[s], is = j->invstd[s];
        int c0 = (int)(s % (size_t)j->G) * j->Cg;
        lanes s1 = { 0 }, s2 = { 0 };     /* sums of dxhat and dxhat xhat, dxhat = dy gamma */
        for (int cc = 0; cc < j->Cg; cc++)
            lanes_dy_xhat(&s1, &s2, x + cc * j->hw, dy + cc * j->hw, NULL, j->hw, j->gamma ? j->gamma[c0 + cc] : 1.0f, m, is);
        float a = (float)(lanes_total(&s1) / (double)M), b = (float)(lanes_total(&s2) / (double)M);
        float *dx = j->dx + s * M;
        for (int cc = 0; cc < j->Cg; cc++)
            norm_dx(dx + cc * j->hw, x + cc * j->hw, dy + cc * j->hw, NULL, j->hw, j->gamma ? j->gamma[c0 + cc] : 1.0f, is,
                    m, is, a, b, false);
    }
}

static void gn_bwd_affine_chunk(void *arg, size_t lo, size_t hi) {
    const gn_job *j = arg;
    for (size_t c = lo; c < hi; c++) {
        double sdy, sdyx;
        channel_sums(j->x, j->dy, NULL, j->N, j->C, j->hw, c, j->mean, j->invstd, (size_t)j->G, c / (size_t)j->Cg, &sdy,
                     &sdyx);
        if (j->dbeta) j->dbeta[c] += (float)sdy;
        if (j->dgamma) j->dgamma[c] += (float)sdyx;
    }
}

rt_tensor *rt_groupnorm(rt_ctx *c, rt_tensor *x, rt_tensor *gamma, rt_tensor *beta, int groups, float eps) {
    int N, C;
    int64_t hw;
    norm_dims(x, &N, &C, &hw);
    RT_ASSERT(groups >= 1 && C % groups == 0);
    RT_ASSERT(!gamma || gamma->n == C);
    RT_ASSERT(!beta || beta->n == C);
    RT_ASSERT(eps >= 0.0f);
    rt_tensor *y = rt_node_new(c, RT_OP_GROUPNORM, x->ndim, x->shape, x, gamma, beta);
    float *st = rt_arena_alloc_raw(&c->step, 2 * (size_t)N * groups * sizeof(float));
    y->aux = st;
    y->iparam[0] = groups;
    gn_job j = { .N = N, .C = C, .G = groups, .Cg = C / groups, .hw = hw, .x = x->data,
                 .gamma = gamma ? gamma->data : NULL, .beta = beta ? beta->data : NULL, .y = y->data,
                 .mean = st, .invstd = st + (size_t)N * groups, .eps = eps };
    rt_pool_for(rt_blas_pool(), (size_t)N * groups, norm_chunk((int64_t)j.Cg * hw), gn_fwd_chunk, &j);
    return y;
}

void rt_groupnorm_bwd(rt_ctx *c, rt_tensor *y) {
    rt_tensor *x = y->src[0], *gamma = y->src[1], *beta = y->src[2];
    int N, C;
    int64_t hw;
    norm_dims(x, &N, &C, &hw);
    int G = y->iparam[0];
    float *st = y->aux;
    gn_job j = { .N = N, .C = C, .G = G, .Cg = C / G, .hw = hw, .x = x->data, .gamma = gamma ? gamma->data : NULL,
                 .dy = y->grad, .dx = rt_src_grad(c, x), .dgamma = rt_src_grad(c, gamma),
                 .dbeta = rt_src_grad(c, beta), .mean = st, .invstd = st + (size_t)N * G };
    rt_pool *pool = rt_blas_pool();
    if (j.dx) rt_pool_for(pool, (size_t)N * G, norm_chunk((int64_t)j.Cg * hw), gn_bwd_dx_chunk, &j);
    if (j.dgamma || j.dbeta) rt_pool_for(pool, (size_t)C, norm_chunk((int64_t)N * hw), gn_bwd_affine_chunk, &j);
}
