// bench_conv.c: forward + backward of each distinct convolution of ResNet-20 on CIFAR-10 at batch
// 128, against the GEMM roofline measured in the same run.
//
// The convolution is lowered to GEMMs (rt_op_conv.c: im2col, one single-threaded GEMM per image and
// group, images in parallel). Its roofline is what rt_gemm reaches on the layer's GEMMs of the same
// M, N, K done whole, each one call over the batch: forward y = W col (M = O, N = B OH OW,
// K = C KH KW), backward dW = dy col^T (M = O, N = C KH KW, K = B OH OW) and dcol = W^T dy
// (M = C KH KW, N = B OH OW, K = O), the last absent for the first layer, whose input needs no
// gradient. Best of the repetitions for both. ratio = roofline time / convolution time, which is
// the convolution's GFLOP/s over the roofline's; target >= 0.60. Printed on 1 thread and on all.
//
//   build/tests/bench_conv [reps]     OPENBLAS_NUM_THREADS (all threads) and OPENBLAS_CORETYPE honoured
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_roof.h"
#include "rt_impl.h"    /* rt_conv2d_bwd: the backward timed alone, upstream gradient given */

typedef struct layer { const char *what; conv_shape s; } layer;

static const layer layers[] = {
    { "conv1   3->16 32x32", { 3, 32, 16, 3, 1, 1, true, false } },
    { "stage1 16->16 32x32", { 16, 32, 16, 3, 1, 1, true, true } },
    { "stage2 16->32 /2", { 16, 32, 32, 3, 2, 1, true, true } },
    { "stage2 32->32 16x16", { 32, 16, 32, 3, 1, 1, true, true } },
    { "stage3 32->64 /2", { 32, 16, 64, 3, 2, 1, true, true } },
    { "stage3 64->64 8x8", { 64, 8, 64, 3, 1, 1, true, true } },
    { "short  16->32 1x1 /2", { 16, 32, 32, 1, 2, 0, true, true } },
    { "short  32->64 1x1 /2", { 32, 16, 64, 1, 2, 0, true, true } },
};
#define NL (int)(sizeof layers / sizeof layers[0])
#define B 128

typedef struct result { double conv, roof, flops; } result;

static result run_layer(const conv_shape *l, int reps, rt_rng *r) {
    int OH = rt_conv_out_size(l->H, l->K, l->stride, l->pad, 1);
    int P = OH * OH, KK = l->C * l->K * l->K;
    rt_tensor x, w;
    rt_tensor_wrap(&x, 4, (int[]){ B, l->C, l->H, l->H }, roof_randf(r, (size_t)B * l->C * l->H * l->H));
    rt_tensor_wrap(&w, 4, (int[]){ l->O, l->C, l->K, l->K }, roof_randf(r, (size_t)l->O * KK));
    w.grad = rt_xfloats((size_t)w.n);
    w.flags = RT_NEEDS_GRAD;
    x.flags = l->dx ? RT_NEEDS_GRAD : 0;
    float *dy = roof_randf(r, (size_t)B * l->O * P);
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
    result res = { best, conv_roof_time(r, l, B, reps), conv_roof_flops(l, B) };
    rt_ctx_free(&c);
    free(x.data);
    free(w.data);
    free(w.grad);
    free(dy);
    return res;
}

static void table(int threads, int reps, rt_rng *r) {
    rt_blas_set_threads(threads);
    printf("\n%d thread%s\n%-22s %9s %9s %9s %11s %11s %6s\n", threads, threads > 1 ? "s" : "", "layer (batch 128)",
           "GFLOP", "conv ms", "roof ms", "conv GF/s", "roof GF/s", "ratio");
    double tc = 0.0, tr = 0.0, tf = 0.0;
    for (int i = 0; i < NL; i++) {
        result s = run_layer(&layers[i].s, reps, r);
        tc += s.conv;
        tr += s.roof;
        tf += s.flops;
        printf("%-22s %9.3f %9.2f %9.2f %11.1f %11.1f %6.2f\n", layers[i].what, s.flops * 1e-9, s.conv * 1e3,
               s.roof * 1e3, s.flops / s.conv * 1e-9, s.flops / s.roof * 1e-9, s.roof / s.conv);
    }
    printf("%-22s %9.3f %9.2f %9.2f %11.1f %11.1f %6.2f (target >= 0.60)\n", "all eight", tf * 1e-9, tc * 1e3,
           tr * 1e3, tf / tc * 1e-9, tf / tr * 1e-9, tr / tc);
    printf("TABLE|ResNet-20's eight convolutions, batch 128, %d thread%s|%.1f|ms|>= 0.60 of GEMM roofline|"
           "GEMM roofline %.1f ms|%.2f|%s\n", threads, threads > 1 ? "s" : "", tc * 1e3, tr * 1e3, tr / tc,
           tr / tc >= 0.60 ? "yes" : "no");
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    if (reps < 1) { fprintf(stderr, "usage: bench_conv [reps]\n"); return 2; }
    int all = rt_blas_threads();
    printf("bench_conv: the convolutions of ResNet-20 (CIFAR-10, batch 128), forward + backward, best of %d\n", reps);
    roof_print_blas("rt_gemm and the im2col passes");
    rt_rng r;
    rt_rng_seed(&r, 1);
    table(1, reps, &r);
    if (all > 1) table(all, reps, &r);
    return 0;
}
