// rt_op_info.c: ops of the stochastic layers and IB objectives: Bernoulli sampling with the
// straight-through gradient, the KL of factorized Bernoullis, the entropy of a softmax, and the
// 2-D transpose the pairwise (KDE) terms need.
#include "rt_impl.h"

#include <math.h>
#include <string.h>

// ---- Bernoulli sample, straight-through (Raiko et al. 2014): p (R,K), u (M,R,K) -> z (M,R,K) ----
// Forward z = 1[u < p] for M particles of every row; backward treats dz/dp as 1, summing the M
// particles' gradients into dp. u is a constant input (uniforms drawn by the caller), so the op
// is a pure function of its inputs and replays exactly. u may also come as (M R, K), the
// particles as rows, and z then has that shape: a layer that feeds the next one rows needs no
// reshape (which would copy z forward and its gradient backward).

/* z[i] = 1[u[i] < p[i]] and dp[i] += g[i] over one particle's n units: restrict and cloned per
** instruction set so that both vectorize (8.4 million units a step at 32 x 32 particles). */
RT_SIMD_CLONES
static void bern_draw(const float *restrict u, const float *restrict p, float *restrict z, int64_t n) {
    for (int64_t i = 0; i < n; i++) z[i] = u[i] < p[i] ? 1.0f : 0.0f;
}

RT_SIMD_CLONES
static void bern_acc(float *restrict dp, const float *restrict g, int64_t n) {
    for (int64_t i = 0; i < n; i++) dp[i] += g[i];
}

rt_tensor *rt_bern_st(rt_ctx *c, rt_tensor *p, rt_tensor *u) {
    RT_ASSERT(p->ndim == 2 && (u->ndim == 3 || u->ndim == 2));
    if (u->ndim == 3) RT_ASSERT(u->shape[1] == p->shape[0] && u->shape[2] == p->shape[1]);
    else RT_ASSERT(u->shape[1] == p->shape[1] && u->shape[0] % p->shape[0] == 0);
    RT_ASSERT(!(u->flags & RT_NEEDS_GRAD));
    rt_tensor *out = rt_node_new(c, RT_OP_BERN_ST, u->ndim, u->shape, p, NULL, NULL);
    int64_t n = p->n;
    for (int64_t m = 0; m < u->n / n; m++) bern_draw(u->data + m * n, p->data, out->data + m * n, n);
    return out;
}

void rt_bern_st_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *p = out->src[0];
    float *dp = rt_src_grad(c, p);
    if (!dp) return;
    int64_t n = p->n;
    for (int64_t m = 0; m < out->n / n; m++) bern_acc(dp, out->grad + m * n, n);
}

// ---- KL(Bern(sigmoid(h)) || Bern(sigmoid(w))) summed over units: h (R,K), w (K) -> (R) ----
// With p = s(h), r = s(w): KL = p log(p/r) + (1-p) log((1-p)/(1-r))
//                             = p (h - w) - softplus(h) + softplus(w),
// written on the logits so that no log of a saturated probability appears.
// dKL/dh = p (1-p) (h - w);  dKL/dw = r - p.

static double softplus_d(double x) { return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

/* softplus(w_k) in double, once per prior unit (the rows share the prior), in the step arena: the
** same values the per-row loop would compute, so hoisting it keeps the bytes. */
static double *prior_softplus(rt_ctx *c, const rt_tensor *w) {
    double *s = rt_arena_alloc_raw(&c->step, (size_t)w->n * sizeof *s);
    for (int64_t k = 0; k < w->n; k++) s[k] = softplus_d(w->data[k]);
    return s;
}

rt_tensor *rt_bern_kl(rt_ctx *c, rt_tensor *h, rt_tensor *w) {
    RT_ASSERT(h->ndim == 2 && w->n == h->shape[1]);
    int R = h->shape[0], K = h->shape[1];
    rt_tensor *out = rt_node_new(c, RT_OP_BERN_KL, 1, (int[]){ R }, h, w, NULL);
    double *spw = prior_softplus(c, w);
    /* p = sigmoid_d(h) kept for the backward; for h > 0 softplus_d's exp(-h) is sigmoid_d's own, so
    ** each is computed once (the same doubles as calling both). */
    double *p = rt_arena_alloc_raw(&c->step, (size_t)R * K * sizeof *p);
    for (int i = 0; i < R; i++) {
        const float *hi = h->data + (size_t)i * K;
        double kl = 0.0, *pi = p + (size_t)i * K;
        for (int k = 0; k < K; k++) {
            double x = hi[k], y = w->data[k], e = exp(-x);
            pi[k] = 1.0 / (1.0 + e);
            kl += pi[k] * (x - y) - (x > 0.0 ? x + log1p(e) : log1p(exp(x))) + spw[k];
        }
        out->data[i] = (float)kl;
    }
    out->aux = p;
    return out;
}

void rt_bern_kl_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *h = out->src[0], *w = out->src[1];
    float *dh = rt_src_grad(c, h), *dw = rt_src_grad(c, w);
    int R = h->shape[0], K = h->shape[1];
    /* sigmoid(w_k) once per prior unit, as prior_softplus. */
    double *r = rt_arena_alloc_raw(&c->step, (size_t)K * sizeof *r);
    for (int k = 0; k < K; k++) r[k] = sigmoid_d(w->data[k]);
    const double *ps = out->aux;                /* sigmoid_d(h), from the forward */
    for (int i = 0; i < R; i++) {
        double g = out->grad[i];
        const float *hi = h->data + (size_t)i * K;
        for (int k = 0; k < K; k++) {
            double x = hi[k], y = w->data[k], p = ps[(size_t)i * K + k];
            if (dh) dh[(size_t)i * K + k] += (float)(g * p * (1.0 - p) * (x - y));
            if (dw) dw[k] += (float)(g * (r[k] - p));
        }
    }
}

// ---- entropy of softmax(z) per row: z (R,C) -> (R), nats ----
// H = lse(z) - sum_k p_k z_k;  dH/dz_k = -p_k (z_k - sum_j p_j z_j)  (= -p_k (log p_k + H)).

/* One row's max m, se = sum_k exp(z_k - m) and sz = sum_k exp(z_k - m) (z_k - m): H = log se -
** sz/se, and the softmax mean of z - m is sz/se. Forward and backward share it. */
static void entropy_stats(const float *z, int C, float *m, double *se, double *sz) {
    float mx = z[0];
    for (int k = 1; k < C; k++) mx = z[k] > mx ? z[k] : mx;
    double s = 0.0, t = 0.0;
    for (int k = 0; k < C; k++) {
        double e = exp((double)(z[k] - mx));
        s += e;
        t += e * (double)(z[k] - mx);
    }
    *m = mx;
    *se = s;
    *sz = t;
}

double rt_softmax_entropy_row(const float *z, int C) {
    float m;
    double se, sz;
    entropy_stats(z, C, &m, &se, &sz);
    return log(se) - sz / se;
}

rt_tensor *rt_softmax_entropy(rt_ctx *c, rt_tensor *z) {
    RT_ASSERT(z->ndim == 2);
    int R = z->shape[0], C = z->shape[1];
    rt_tensor *out = rt_node_new(c, RT_OP_SOFTMAX_ENTROPY, 1, (int[]){ R }, z, NULL, NULL);
    for (int i = 0; i < R; i++) out->data[i] = (float)rt_softmax_entropy_row(z->data + (size_t)i * C, C);
    return out;
}

void rt_softmax_entropy_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *z = out->src[0];
    float *dz = rt_src_grad(c, z);
    if (!dz) return;
    int R = z->shape[0], C = z->shape[1];
    for (int i = 0; i < R; i++) {
        const float *zi = z->data + (size_t)i * C;
        float m;
        double se, sz;
        entropy_stats(zi, C, &m, &se, &sz);
        double mean = sz / se, g = out->grad[i];
        for (int k = 0; k < C; k++) {
            double p = exp((double)(zi[k] - m)) / se;
            dz[(size_t)i * C + k] += (float)(-g * p * ((double)(zi[k] - m) - mean));
        }
    }
}

// ---- transpose of a matrix: (M,N) -> (N,M) ----

static void transpose_into(float *dst, const float *src, int M, int N, bool accumulate) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float v = src[(size_t)i * N + j];
            if (accumulate) dst[(size_t)j * M + i] += v;
            else dst[(size_t)j * M + i] = v;
        }
}

rt_tensor *rt_transpose(rt_ctx *c, rt_tensor *x) {
    RT_ASSERT(x->ndim == 2);
    int M = x->shape[0], N = x->shape[1];
    rt_tensor *out = rt_node_new(c, RT_OP_TRANSPOSE, 2, (int[]){ N, M }, x, NULL, NULL);
    transpose_into(out->data, x->data, M, N, false);
    return out;
}

void rt_transpose_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *x = out->src[0];
    float *dx = rt_src_grad(c, x);
    if (dx) transpose_into(dx, out->grad, out->shape[0], out->shape[1], true);
}

// ---- lower-triangular matrix times vectors: L packed (R, K(K+1)/2), e (S,R,K) -> (S,R,K) ----
// y[s,r,i] = sum_{j<=i} L_r[i,j] e[s,r,j], L_r row-major packed: entry (i,j) at i(i+1)/2 + j.
// e is a constant (the reparameterization noise); backward: dL[r,(i,j)] += sum_s dy[s,r,i] e[s,r,j].

rt_tensor *rt_tril_mv(rt_ctx *c, rt_tensor *l, rt_tensor *e) {
    RT_ASSERT(l->ndim == 2 && e->ndim == 3 && e->shape[1] == l->shape[0]);
    int S = e->shape[0], R = e->shape[1], K = e->shape[2];
    RT_ASSERT(l->shape[1] == K * (K + 1) / 2);
    RT_ASSERT(!(e->flags & RT_NEEDS_GRAD));
    rt_tensor *out = rt_node_new(c, RT_OP_TRIL_MV, 3, e->shape, l, NULL, NULL);
    out->src[1] = e;                    /* saved for backward; not a differentiable input */
    int P = l->shape[1];
    for (int s = 0; s < S; s++)
        for (int r = 0; r < R; r++) {
            const float *L = l->data + (size_t)r * P, *ev = e->data + ((size_t)s * R + r) * K;
            float *y = out->data + ((size_t)s * R + r) * K;
            for (int i = 0; i < K; i++) {
                float acc = 0.0f;
                for (int j = 0; j <= i; j++) acc += L[i * (i + 1) / 2 + j] * ev[j];
                y[i] = acc;
            }
        }
    return out;
}

void rt_tril_mv_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *l = out->src[0], *e = out->src[1];
    float *dl = rt_src_grad(c, l);
    if (!dl) return;
    int S = e->shape[0], R = e->shape[1], K = e->shape[2], P = l->shape[1];
    for (int s = 0; s < S; s++)
        for (int r = 0; r < R; r++) {
            const float *ev = e->data + ((size_t)s * R + r) * K, *g = out->grad + ((size_t)s * R + r) * K;
            float *d = dl + (size_t)r * P;
            for (int i = 0; i < K; i++)
                for (int j = 0; j <= i; j++) d[i * (i + 1) / 2 + j] += g[i] * ev[j];
        }
}
