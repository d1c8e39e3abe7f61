// rt_op_matmul.c: matrix product and the dense layer's x W^T + b, on rt_gemm.
#include "rt_impl.h"
#include "rt_blas.h"

#include <string.h>

// ---- matmul: a (M,K) x b (K,N) -> (M,N) ----

rt_tensor *rt_matmul(rt_ctx *c, rt_tensor *a, rt_tensor *b) {
    RT_ASSERT(a->ndim == 2 && b->ndim == 2 && a->shape[1] == b->shape[0]);
    int M = a->shape[0], K = a->shape[1], N = b->shape[1];
    rt_tensor *out = rt_node_new(c, RT_OP_MATMUL, 2, (int[]){ M, N }, a, b, NULL);
    rt_gemm(false, false, M, N, K, 1.0f, a->data, K, b->data, N, 0.0f, out->data, N);
    return out;
}

void rt_matmul_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *a = out->src[0], *b = out->src[1];
    int M = a->shape[0], K = a->shape[1], N = b->shape[1];
    float *da = rt_src_grad(c, a), *db = rt_src_grad(c, b);
    if (da) rt_gemm(false, true, M, K, N, 1.0f, out->grad, N, b->data, N, 1.0f, da, K);  /* dy b^T */
    if (db) rt_gemm(true, false, K, N, M, 1.0f, a->data, K, out->grad, N, 1.0f, db, N);  /* a^T dy */
}

// ---- linear: x (B,I), W (O,I), b (O) -> (B,O) = x W^T + b ----

void rt_linear_rows(const float *x, int B, int I, const float *w, const float *b, int O, float *out) {
    float beta = 0.0f;
    if (b) {
        /* memcpy per row: glibc's string stores fill the fresh rows faster than the loop */
        for (int i = 0; i < B; i++) memcpy(out + (size_t)i * O, b, (size_t)O * sizeof(float));
        beta = 1.0f;
    }
    rt_gemm(false, true, B, O, I, 1.0f, x, I, w, I, beta, out, O);
}

rt_tensor *rt_linear(rt_ctx *c, rt_tensor *x, rt_tensor *w, rt_tensor *b) {
    RT_ASSERT(x->ndim == 2 && w->ndim == 2 && x->shape[1] == w->shape[1]);
    int B = x->shape[0], I = x->shape[1], O = w->shape[0];
    RT_ASSERT(!b || b->n == O);
    rt_tensor *out = rt_node_new(c, RT_OP_LINEAR, 2, (int[]){ B, O }, x, w, b);
    rt_linear_rows(x->data, B, I, w->data, b ? b->data : NULL, O, out->data);
    return out;
}

void rt_linear_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *x = out->src[0], *w = out->src[1], *b = out->src[2];
    int B = x->shape[0], I = x->shape[1], O = w->shape[0];
    const float *dy = out->grad;
    float *dx = rt_src_grad(c, x), *dw = rt_src_grad(c, w), *db = rt_src_grad(c, b);
    if (dw) rt_gemm(true, false, O, I, B, 1.0f, dy, O, x->data, I, 1.0f, dw, I);   /* dy^T x */
    if (dx) rt_gemm(false, false, B, I, O, 1.0f, dy, O, w->data, I, 1.0f, dx, I);  /* dy W */
    if (db)
        for (int i = 0; i < B; i++)
            for (int o = 0; o < O; o++) db[o] += dy[(size_t)i * O + o];
}
