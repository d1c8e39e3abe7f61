// conv_roof.h: the GEMM roofline of a lowered convolution, shared by bench_conv and bench_resnet;
// ResNet-20's eight distinct convolutions and the lowering's time on one, shared by bench_conv and
// tests/tools/conv_dnnl_check.c.
//
// A convolution of C -> O channels, kernel K x K, on B images of H x H with output OH x OH is, lowered,
// three products over N = B OH OH columns: forward y = W col (M = O, N, K = C K K), backward
// dW = dy col^T (M = O, N = C K K, inner N) and dcol = W^T dy (M = C K K, N, inner O). Its roofline is
// rt_gemm on those shapes done whole, each one call over the batch, best of the repetitions after
// two warm-up calls, operands filled from the bench's generator. A product the step does not make
// (dW of a constant weight, dx of the network's input) is left out.
#ifndef CONV_ROOF_H
#define CONV_ROOF_H
#include <stdlib.h>

#include "rt_blas.h"
#include "rt_impl.h"    /* rt_conv2d_bwd: the backward timed alone, upstream gradient given */
#include "rt_rng.h"

typedef struct conv_shape { int C, H, O, K, stride, pad; bool dw, dx; } conv_shape;

/* The distinct convolutions of ResNet-20 on CIFAR-10 (option A shortcuts as 1x1 stride-2 ones). */
typedef struct conv_layer { const char *what; conv_shape s; } conv_layer;
static const conv_layer resnet20_convs[] = {
    { "conv1   3->16 32x32", { 3, 32, 16, 3, 1, 1, true, false } },
    { "stage1 16->16 32x32", { 16, 32, 16, 3, 1, 1, true, true } },
    { "stage2 16->32 /2", { 16, 32, 32, 3, 2, 1, true, true } },
    { "stage2 32->32 16x16", { 32, 16, 32, 3, 1, 1, true, true } },
    { "stage3 32->64 /2", { 32, 16, 64, 3, 2, 1, true, true } },
    { "stage3 64->64 8x8", { 64, 8, 64, 3, 1, 1, true, true } },
    { "short  16->32 1x1 /2", { 16, 32, 32, 1, 2, 0, true, true } },
    { "short  32->64 1x1 /2", { 32, 16, 64, 1, 2, 0, true, true } },
};
#define NCONV (int)(sizeof resnet20_convs / sizeof resnet20_convs[0])

static inline float *roof_randf(rt_rng *r, size_t n) {
    float *p = rt_xfloats(n);
    rt_rng_fill_uniform(r, p, n, -1, 1);
    return p;
}

/* Best time of one rt_gemm shape over reps repetitions (the first two warm up). */
static inline double roof_time_gemm(rt_rng *r, bool ta, bool tb, int M, int N, int K, int reps) {
    float *A = roof_randf(r, (size_t)M * K), *Bm = roof_randf(r, (size_t)K * N), *C = rt_xfloats((size_t)M * N);
    double best = 1e30;
    for (int i = 0; i < reps + 2; i++) {
        double t0 = rt_now_s();
        rt_gemm(ta, tb, M, N, K, 1.0f, A, ta ? M : K, Bm, tb ? K : N, 0.0f, C, N);
        double t = rt_now_s() - t0;
        if (i >= 2 && t < best) best = t;
    }
    free(A);
    free(Bm);
    free(C);
    return best;
}

/* The floating-point operations of the shape's products at batch B. */
static inline double conv_roof_flops(const conv_shape *s, int B) {
    int OH = rt_conv_out_size(s->H, s->K, s->stride, s->pad, 1);
    double f1 = 2.0 * s->O * (double)B * OH * OH * s->C * s->K * s->K;
    return f1 * (1.0 + s->dw + s->dx);
}

/* The roofline time of the shape's products at batch B, on rt_gemm's current thread count. */
static inline double conv_roof_time(rt_rng *r, const conv_shape *s, int B, int reps) {
    int OH = rt_conv_out_size(s->H, s->K, s->stride, s->pad, 1);
    int N = B * OH * OH, KK = s->C * s->K * s->K;
    double t = roof_time_gemm(r, false, false, s->O, N, KK, reps);
    if (s->dw) t += roof_time_gemm(r, false, true, s->O, KK, N, reps);
    if (s->dx) t += roof_time_gemm(r, true, false, KK, N, s->O, reps);
    return t;
}

/* Best time of the lowered convolution's forward + backward (rt_conv2d, rt_conv2d_bwd: dW, and dx
** when s->dx) on B random images, over reps repetitions after two warm-up ones. */
static inline double conv_time_lowering(rt_rng *r, const conv_shape *l, int B, int reps) {
    int OH = rt_conv_out_size(l->H, l->K, l->stride, l->pad, 1);
    rt_tensor x, w;
    rt_tensor_wrap(&x, 4, (int[]){ B, l->C, l->H, l->H }, roof_randf(r, (size_t)B * l->C * l->H * l->H));
    rt_tensor_wrap(&w, 4, (int[]){ l->O, l->C, l->K, l->K }, roof_randf(r, (size_t)l->O * l->C * l->K * l->K));
    w.grad = rt_xfloats((size_t)w.n);
    w.flags = RT_NEEDS_GRAD;
    x.flags = l->dx ? RT_NEEDS_GRAD : 0;
    float *dy = roof_randf(r, (size_t)B * l->O * OH * OH);
    rt_conv_geom g = { l->stride, l->stride, l->pad, l->pad, 1, 1, 1, 0, 0 };
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    double best = 1e30;
    for (int i = 0; i < reps + 2; i++) {
        rt_ctx_reset(&c);
        x.grad = NULL;
        double t0 = rt_now_s();
        rt_tensor *y = rt_conv2d(&c, &x, &w, NULL, &g);
        y->grad = dy;
        rt_conv2d_bwd(&c, y);
        double t = rt_now_s() - t0;
        if (i >= 2 && t < best) best = t;
    }
    rt_ctx_free(&c);
    free(x.data);
    free(w.data);
    free(w.grad);
    free(dy);
    return best;
}

/* "kernels Haswell, threads 2, OPENBLAS_CORETYPE=..." into the first line a bench prints. */
static inline void roof_print_blas(const char *what) {
    const char *forced = getenv("OPENBLAS_CORETYPE");
    printf("openblas: kernels %s, threads %d%s%s (%s: the same thread count)\n", rt_blas_corename(),
           rt_blas_threads(), forced ? ", OPENBLAS_CORETYPE=" : "", forced ? forced : "", what);
}
#endif
