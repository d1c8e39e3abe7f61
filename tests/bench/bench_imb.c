// bench_imb.c: the IMB training step (imb_mnist's network: 784-512-512-10, two Bernoulli layers
// with P particles per incoming row each, nested, straight-through gradient; the IMB objective
// gamma = (1, 0.8, 1), beta = 1e-3; Adamax, clip 5; batch 16) against the GEMM roofline of the
// same step, measured in the same run, at 8 x 8 and at 32 x 32 particles.
//
// The roofline is bench_mlp's GEMM floor: the step's GEMMs, each shape at the fastest of one
// OpenBLAS call on one thread, one on all of OpenBLAS's threads, and rt_gemm, best of many
// repetitions with the operands in cache. For layer l with R_l input rows (R_1 = B, R_2 = B P,
// R_3 = B P^2): forward R_l x out x in, dW out x in x R_l, and dx R_l x in x out (not for the
// first layer, whose input needs no gradient). The target: floor / step >= 0.70. The step
// hands the second Bernoulli layer's particles to the last layer as bits (rt_bern_linear), so it
// runs none of the last layer's three GEMMs that the floor counts: the ratio compares the step with
// the dense work the roofline describes.
//
//   build/tests/bench_imb [steps at 8 x 8] [steps at 32 x 32]    defaults 200 40;
//                                                                OPENBLAS_NUM_THREADS honoured
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_gemm.h"
#include "nn_train.h"
#include "rt_blas.h"
#include "rt_pool.h"

/* The GEMM floor of the step at P x P particles, batch B; prints each shape. */
static double gemm_floor(int B, int P, double *gflop) {
    const int sizes[] = { 784, 512, 512, 10 };
    shape sh[9];
    int ns = 0, rows = B;
    for (int l = 0; l < 3; l++) {
        int I = sizes[l], O = sizes[l + 1];
        sh[ns++] = (shape){ false, true, rows, O, I, "forward  x W^T" };
        sh[ns++] = (shape){ true, false, O, I, rows, "backward dW = dy^T x" };
        if (l > 0) sh[ns++] = (shape){ false, false, rows, I, O, "backward dx = dy W" };
        if (l < 2) rows *= P;
    }
    double floor = 0.0, flops = 0.0;
    int reps = P >= 32 ? 20 : 60;
    printf("%-22s %6s %6s %6s %14s %14s %12s %10s\n", "gemm", "M", "N", "K", "openblas 1 thr",
           "openblas all", "rt_gemm", "GFLOP/s");
    for (int i = 0; i < ns; i++) {
        double t1 = time_gemm(&sh[i], openblas_1, reps, rt_now_s), tn = time_gemm(&sh[i], openblas_all, reps, rt_now_s);
        double tr = time_gemm(&sh[i], rt_gemm, reps, rt_now_s);
        double tb = t1 < tn ? t1 : tn, f = 2.0 * sh[i].M * sh[i].N * sh[i].K;
        if (tr < tb) tb = tr;
        floor += tb;
        flops += f;
        printf("%-22s %6d %6d %6d %11.1f us %11.1f us %9.1f us %10.1f\n", sh[i].what, sh[i].M, sh[i].N,
               sh[i].K, t1 * 1e6, tn * 1e6, tr * 1e6, f / tb * 1e-9);
    }
    *gflop = flops * 1e-9;
    return floor;
}

static nn_term_spec term(nn_term_kind k, const char *name, const char *layer, const char *average, float w) {
    nn_term_spec t = nn_term_spec_default(k);
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.layer, sizeof t.layer, "%s", layer);
    snprintf(t.average, sizeof t.average, "%s", average);
    t.weight = w;
    return t;
}

/* Median step time of imb_mnist's network at P x P particles over `steps` steps (after 5 warm-up
** steps), on uniform random pixels. */
static double imb_step(int B, int P, int steps, double *peak_mib) {
    nn_layer_spec spec[3];
    const char *names[] = { "h1", "h2", "out" };
    for (int l = 0; l < 3; l++) {
        spec[l] = nn_layer_spec_default(l < 2 ? NN_LAYER_BERN : NN_LAYER_LINEAR);
        spec[l].out = l < 2 ? 512 : 10;
        spec[l].init = NN_INIT_GLOROT;
        if (l < 2) spec[l].samples = P;
        snprintf(spec[l].name, sizeof spec[l].name, "%s", names[l]);
    }
    rt_err err = { 0 };
    nn_model m;
    if (nn_model_build(&m, spec, 3, 784, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    nn_term_spec t[5] = { term(NN_TERM_CE, "vcr0", "", "input", 1.0f), term(NN_TERM_CE, "vcr_h1", "", "h1", 0.8f),
                          term(NN_TERM_CE, "vcr_h2", "", "h2", 1.0f), term(NN_TERM_KL, "vc_h1", "h1", "", 1e-3f),
                          term(NN_TERM_KL, "vc_h2", "h2", "", 1e-3f) };
    nn_obj o;
    if (nn_obj_build(&o, t, 5, NULL, 0, &m, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    rt_rng r, noise;
    rt_rng_seed(&r, 1);
    rt_rng_seed(&noise, 2);
    nn_model_init(&m, &r);
    nn_dataset d = { .n = 1600, .ndim = 1, .shape = { 784, 1, 1 }, .dim = 784, .nclass = 10 };
    d.x = malloc((size_t)d.n * d.dim * sizeof(float));
    d.y = malloc((size_t)d.n * sizeof(int32_t));
    int32_t *idx = malloc((size_t)d.n * sizeof *idx);
    double *tm = malloc((size_t)steps * sizeof *tm);
    if (!d.x || !d.y || !idx || !tm) { fprintf(stderr, "bench_imb: out of memory\n"); exit(1); }
    rt_rng_fill_uniform(&r, d.x, (size_t)d.n * d.dim, 0.0f, 1.0f);
    for (int i = 0; i < d.n; i++) d.y[i] = (int32_t)rt_rng_below(&r, 10), idx[i] = i;
    rt_optim_cfg oc = rt_optim_cfg_default();
    oc.kind = RT_OPTIM_ADAMAX;
    oc.lr = 0.01f;
    oc.clip_norm = 5.0f;
    rt_optim opt;
    rt_optim_init(&opt, &oc, m.params.total);
    opt.pool = rt_blas_pool();
    rt_ctx c;
    rt_ctx_init(&c, 64u << 20);
    nn_step st = { &m, &o, &c, &opt, NULL, &noise, NULL };
    for (int i = 0; i < steps + 5; i++) {
        double t0 = rt_now_s();
        nn_train_step(&st, &d, idx + (i % (d.n / B)) * B, B, 0.01f, 0.0);
        if (i >= 5) tm[i - 5] = rt_now_s() - t0;
    }
    qsort(tm, (size_t)steps, sizeof *tm, cmp_double);
    double med = tm[steps / 2];
    printf("step: median %.3f ms over %d steps (min %.3f, max %.3f); step arena peak %.1f MiB\n", med * 1e3,
           steps, tm[0] * 1e3, tm[steps - 1] * 1e3, (double)c.step.peak / (1 << 20));
    *peak_mib = (double)c.step.peak / (1 << 20);
    free(tm);
    free(idx);
    free(d.x);
    free(d.y);
    rt_ctx_free(&c);
    rt_optim_free(&opt);
    nn_model_free(&m);
    return med;
}

int main(int argc, char **argv) {
    int steps[2] = { argc > 1 ? atoi(argv[1]) : 200, argc > 2 ? atoi(argv[2]) : 40 };
    const int B = 16, parts[2] = { 8, 32 };
    if (steps[0] < 1 || steps[1] < 1) { fprintf(stderr, "usage: bench_imb [steps at 8x8] [steps at 32x32]\n"); return 2; }
    const char *forced = getenv("OPENBLAS_CORETYPE");
    printf("bench_imb: IMB 784-512-512-10, Bernoulli (straight-through), batch %d, Adamax\n", B);
    printf("openblas: kernels %s, threads %d%s%s\n", rt_blas_corename(), rt_blas_threads(),
           forced ? ", OPENBLAS_CORETYPE=" : "", forced ? forced : "");
    for (int k = 0; k < 2; k++) {
        int P = parts[k];
        printf("\n---- %d x %d particles (%d rows into the second layer, %d into the last) ----\n", P, P, B * P,
               B * P * P);
        double gflop, floor = gemm_floor(B, P, &gflop), peak;
        printf("GEMM floor: %.3f GFLOP per step in %.3f ms = %.1f GFLOP/s\n", gflop, floor * 1e3, gflop / floor);
        double step = imb_step(B, P, steps[k], &peak);
        printf("ratio GEMM floor / step: %.2f (target >= 0.70)\n", floor / step);
        printf("TABLE|IMB step, %d x %d particles, batch %d, %d thread%s|%.2f|ms/step|>= 0.70 of GEMM floor|"
               "GEMM floor %.2f ms|%.2f|%s\n", P, P, B, rt_blas_threads(), rt_blas_threads() == 1 ? "" : "s",
               step * 1e3, floor * 1e3, floor / step, floor / step >= 0.70 ? "yes" : "no");
    }
    return 0;
}
