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
#include "rt_conv_dnnl.h"

#define B 128

typedef struct result { double conv, dnnl, roof, flops; } result;

/* The lowering, then (in a build with it) oneDNN, then the roofline; dnnl 0 without it. */
static result run_layer(const conv_shape *l, int reps, rt_rng *r) {
    rt_conv_set_backend(RT_CONV_LOWERING);
    double conv = conv_time_lowering(r, l, B, reps), dnnl = 0.0;
    if (rt_conv_set_backend(RT_CONV_DNNL)) {
        dnnl = conv_time_lowering(r, l, B, reps);
        rt_conv_set_backend(RT_CONV_LOWERING);
    }
    return (result){ conv, dnnl, conv_roof_time(r, l, B, reps), conv_roof_flops(l, B) };
}

static void table(int threads, int reps, rt_rng *r) {
    rt_blas_set_threads(threads);
    bool dn = rt_conv_have_dnnl();
    printf("\n%d thread%s\n%-22s %9s %9s %9s %11s %11s %6s", threads, threads > 1 ? "s" : "", "layer (batch 128)",
           "GFLOP", "conv ms", "roof ms", "conv GF/s", "roof GF/s", "ratio");
    printf(dn ? " %9s %6s %9s\n" : "\n", "dnnl ms", "ratio", "low/dnnl");
    double tc = 0.0, td = 0.0, tr = 0.0, tf = 0.0;
    for (int i = 0; i < NCONV; i++) {
        result s = run_layer(&resnet20_convs[i].s, reps, r);
        tc += s.conv;
        td += s.dnnl;
        tr += s.roof;
        tf += s.flops;
        printf("%-22s %9.3f %9.2f %9.2f %11.1f %11.1f %6.2f", resnet20_convs[i].what, s.flops * 1e-9, s.conv * 1e3,
               s.roof * 1e3, s.flops / s.conv * 1e-9, s.flops / s.roof * 1e-9, s.roof / s.conv);
        if (dn) printf(" %9.2f %6.2f %9.2f", s.dnnl * 1e3, s.roof / s.dnnl, s.conv / s.dnnl);
        printf("\n");
    }
    printf("%-22s %9.3f %9.2f %9.2f %11.1f %11.1f %6.2f", "all eight", tf * 1e-9, tc * 1e3, tr * 1e3, tf / tc * 1e-9,
           tf / tr * 1e-9, tr / tc);
    if (dn) printf(" %9.2f %6.2f %9.2f", td * 1e3, tr / td, tc / td);
    printf(" (target >= 0.60)\n");
    printf("TABLE|ResNet-20's eight convolutions, batch 128, %d thread%s|%.1f|ms|>= 0.60 of GEMM roofline|"
           "GEMM roofline %.1f ms|%.2f|%s\n", threads, threads > 1 ? "s" : "", tc * 1e3, tr * 1e3, tr / tc,
           tr / tc >= 0.60 ? "yes" : "no");
    if (dn)
        printf("TABLE|ResNet-20's eight convolutions, batch 128, %d thread%s, oneDNN|%.1f|ms|>= 0.60 of GEMM roofline|"
               "GEMM roofline %.1f ms|%.2f|%s\n", threads, threads > 1 ? "s" : "", td * 1e3, tr * 1e3, tr / td,
               tr / td >= 0.60 ? "yes" : "no");
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
