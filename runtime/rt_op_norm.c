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
// A serial double sum is bound by the adder's latency (one element per 4 cycles here, a quarter
// of the batch norm step). The sums below keep LANES independent double partial sums, element i
// of a run going to lane i mod LANES, and add the lanes in one fixed order at the end: the
// compiler vectorizes the lanes (each lane's additions stay in order, so every clone rounds
// identically) and the result depends only on the data, not on the thread count or the machine.
#define LANES 32

typedef struct lanes { double v[LANES]; } lanes;

static double lanes_total(const lanes *a) {
    double t[LANES];
    memcpy(t, a->v, sizeof t);
    for (int w = LANES / 2; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) t[k] += t[k + w];
    return t[0];
}

/* a += x[0..n) */
RT_SIMD_CLONES
static void lanes_sum(lanes *restrict a, const float *restrict x, int64_t n) {
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) a->v[k] += (double)x[i + k];
    for (int k = 0; i + k < n; k++) a->v[k] += (double)x[i + k];
}

/* a += (x[0..n) - mean)^2 */
RT_SIMD_CLONES
static void lanes_sqdev(lanes *restrict a, const float *restrict x, int64_t n, double mean) {
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) { double d = (double)x[i + k] - mean; a->v[k] += d * d; }
    for (int k = 0; i + k < n; k++) { double d = (double)x[i + k] - mean; a->v[k] += d * d; }
}

/* a += dy g and b += dy g xhat over [0..n), xhat = (x - m) is, in float as the forward pass has it */
RT_SIMD_CLONES
static void lanes_dy_xhat(lanes *restrict a, lanes *restrict b, const float *restrict x, const float *restrict dy,
                          int64_t n, float g, float m, float is) {
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) {
            double d = (double)(dy[i + k] * g);
            a->v[k] += d;
            b->v[k] += d * (double)((x[i + k] - m) * is);
        }
    for (int k = 0; i + k < n; k++) {
        double d = (double)(dy[i + k] * g);
        a->v[k] += d;
        b->v[k] += d * (double)((x[i + k] - m) * is);
    }
}

/* y[0..n) = (x - m) is ga + be */
RT_SIMD_CLONES
static void norm_apply(float *restrict y, const float *restrict x, int64_t n, float m, float is, float ga, float be) {
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) * is * ga + be;
}

/* dx[0..n) += k (dy g - a - (x - m) is b) */
RT_SIMD_CLONES
static void norm_dx(float *restrict dx, const float *restrict x, const float *restrict dy, int64_t n, float g,
                    float k, float m, float is, float a, float b) {
    for (int64_t i = 0; i < n; i++) dx[i] += k * (dy[i] * g - a - (x[i] - m) * is * b);
}

/* Over channel c of x and dy (N, C, hw): the sums of dy and of dy xhat, xhat = (x - mean) invstd
** with the statistics of example n at index n * sn + si (batch norm: sn = 0; group norm: one per
** example and group). In double, in a fixed order. */
static void channel_sums(const float *x, const float *dy, int N, int C, int64_t hw, size_t c, const float *mean,
                         const float *invstd, size_t sn, size_t si, double *sdy, double *sdyx) {
    lanes a = { { 0 } }, b = { { 0 } };
    for (int n = 0; n < N; n++) {
        size_t off = ((size_t)n * C + c) * hw;
        lanes_dy_xhat(&a, &b, x + off, dy + off, hw, 1.0f, mean[n * sn + si], invstd[n * sn + si]);
    }
    *sdy = lanes_total(&a);
    *sdyx = lanes_total(&b);
}

// ---- batch normalization: statistics per channel over N and the spatial dims ----

typedef struct bn_job {
    int N, C;
    int64_t hw;
    const float *x, *gamma, *beta, *dy;
    float *y, *dx, *dgamma, *dbeta;
    float *mean, *invstd;       /* (C) each: the statistics used (batch's, or running ones) */
    float *run_mean, *run_var;
    float momentum, eps;
    bool train;
} bn_job;

static void bn_fwd_chunk(void *arg, size_t lo, size_t hi) {
    const bn_job *j = arg;
    int64_t M = (int64_t)j->N * j->hw;
    for (size_t c = lo; c < hi; c++) {
        double mean, var;
        if (j->train) {
            lanes s = { { 0 } }, d = { { 0 } };
            for (int n = 0; n < j->N; n++) lanes_sum(&s, j->x + ((size_t)n * j->C + c) * j->hw, j->hw);
            mean = lanes_total(&s) / (double)M;
            for (int n = 0; n < j->N; n++) lanes_sqdev(&d, j->x + ((size_t)n * j->C + c) * j->hw, j->hw, mean);
            double q = lanes_total(&d);
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
            norm_apply(j->y + off, j->x + off, j->hw, m, is, ga, be);
        }
    }
}

static void bn_bwd_chunk(void *arg, size_t lo, size_t hi) {
    const bn_job *j = arg;
    int64_t M = (int64_t)j->N * j->hw;
    for (size_t c = lo; c < hi; c++) {
        float m = j->mean[c], is = j->invstd[c], ga = j->gamma ? j->gamma[c] : 1.0f;
        double sdy, sdyx;
        channel_sums(j->x, j->dy, j->N, j->C, j->hw, c, j->mean, j->invstd, 0, c, &sdy, &sdyx);
        if (j->dbeta) j->dbeta[c] += (float)sdy;
        if (j->dgamma) j->dgamma[c] += (float)sdyx;
        if (!j->dx) continue;
        float k = ga * is;
        float a = j->train ? (float)(sdy / (double)M) : 0.0f, b = j->train ? (float)(sdyx / (double)M) : 0.0f;
        for (int n = 0; n < j->N; n++) {
            size_t off = ((size_t)n * j->C + c) * j->hw;
            norm_dx(j->dx + off, j->x + off, j->dy + off, j->hw, 1.0f, k, m, is, a, b);
        }
    }
}

rt_tensor *rt_batchnorm(rt_ctx *c, rt_tensor *x, rt_tensor *gamma, rt_tensor *beta,
                        float *run_mean, float *run_var, float momentum, float eps, bool train) {
    int N, C;
    int64_t hw;
    norm_dims(x, &N, &C, &hw);
    RT_ASSERT(!gamma || gamma->n == C);
    RT_ASSERT(!beta || beta->n == C);
    RT_ASSERT(train || (run_mean && run_var));
    RT_ASSERT(!train || (int64_t)N * hw > 1);   /* the unbiased variance needs two values */
    RT_ASSERT(eps >= 0.0f);
    rt_tensor *y = rt_node_new(c, RT_OP_BATCHNORM, x->ndim, x->shape, x, gamma, beta);
    float *st = rt_arena_alloc_raw(&c->step, 2 * (size_t)C * sizeof(float));
    y->aux = st;
    y->iparam[0] = train;
    bn_job j = { .N = N, .C = C, .hw = hw, .x = x->data, .gamma = gamma ? gamma->data : NULL,
                 .beta = beta ? beta->data : NULL, .y = y->data, .mean = st, .invstd = st + C,
                 .run_mean = run_mean, .run_var = run_var, .momentum = momentum, .eps = eps, .train = train };
    rt_pool_for(rt_blas_pool(), (size_t)C, norm_chunk((int64_t)N * hw), bn_fwd_chunk, &j);
    return y;
}

void rt_batchnorm_bwd(rt_ctx *c, rt_tensor *y) {
    rt_tensor *x = y->src[0], *gamma = y->src[1], *beta = y->src[2];
    int N, C;
    int64_t hw;
    norm_dims(x, &N, &C, &hw);
    float *st = y->aux;
    bn_job j = { .N = N, .C = C, .hw = hw, .x = x->data, .gamma = gamma ? gamma->data : NULL, .dy = y->grad,
                 .dx = rt_src_grad(c, x), .dgamma = rt_src_grad(c, gamma), .dbeta = rt_src_grad(c, beta),
                 .mean = st, .invstd = st + C, .train = y->iparam[0] != 0 };
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
        lanes ls = { { 0 } }, ld = { { 0 } };
        lanes_sum(&ls, x, M);
        double mean = lanes_total(&ls) / (double)M;
        lanes_sqdev(&ld, x, M, mean);
        float m = (float)mean, is = (float)(1.0 / sqrt(lanes_total(&ld) / (double)M + (double)j->eps));
        j->mean[s] = m;
        j->invstd[s] = is;
        float *y = j->y + s * M;
        int c0 = (int)(s % (size_t)j->G) * j->Cg;
        for (int cc = 0; cc < j->Cg; cc++) {
            float ga = j->gamma ? j->gamma[c0 + cc] : 1.0f, be = j->beta ? j->beta[c0 + cc] : 0.0f;
            norm_apply(y + cc * j->hw, x + cc * j->hw, j->hw, m, is, ga, be);
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
        lanes s1 = { { 0 } }, s2 = { { 0 } };     /* sums of dxhat and dxhat xhat, dxhat = dy gamma */
        for (int cc = 0; cc < j->Cg; cc++)
            lanes_dy_xhat(&s1, &s2, x + cc * j->hw, dy + cc * j->hw, j->hw, j->gamma ? j->gamma[c0 + cc] : 1.0f, m, is);
        float a = (float)(lanes_total(&s1) / (double)M), b = (float)(lanes_total(&s2) / (double)M);
        float *dx = j->dx + s * M;
        for (int cc = 0; cc < j->Cg; cc++)
            norm_dx(dx + cc * j->hw, x + cc * j->hw, dy + cc * j->hw, j->hw, j->gamma ? j->gamma[c0 + cc] : 1.0f, is, m,
                    is, a, b);
    }
}

static void gn_bwd_affine_chunk(void *arg, size_t lo, size_t hi) {
    const gn_job *j = arg;
    for (size_t c = lo; c < hi; c++) {
        double sdy, sdyx;
        channel_sums(j->x, j->dy, j->N, j->C, j->hw, c, j->mean, j->invstd, (size_t)j->G, c / (size_t)j->Cg, &sdy, &sdyx);
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
