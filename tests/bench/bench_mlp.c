// bench_mlp.c: training throughput of the MLP 784-1024-1024-10 at batch 100 against the GEMM
// roofline measured in the same run.
//
// The roofline is the time the step's eight GEMMs take when each runs at the best speed OpenBLAS
// reaches on its shape: one OpenBLAS call, on one thread or on all of OpenBLAS's own threads,
// whichever is faster, best of many repetitions with the operands in cache. The ratio roofline /
// step is the figure; target >= 0.80.
//
// rt_gemm threads the step's GEMMs its own way (one part of C per thread, each part
// single-threaded OpenBLAS), which is faster than OpenBLAS's threads on these shapes, so the
// first roofline is no longer a bound on the step. Two stricter figures follow it:
//   - the GEMM floor: each shape at the faster of the above and rt_gemm alone; floor / step is
//     the share of the step that is GEMM at the best speed measured for it, and the rest of the
//     step (optimizer, bias, activations, loss, data gather) is the difference;
//   - the GEMM floor plus the optimizer update timed alone (its best, state in cache): the step's
//     work that no reordering removes, each part at its own best speed.
//
//   build/tests/bench_mlp [steps]       OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE are honoured
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_train.h"
#include "bench_gemm.h"
#include "rt_blas.h"
#include "rt_pool.h"

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 200;
    const int B = 100, sizes[] = { 784, 1024, 1024, 10 }, L = 3;
    printf("bench_mlp: MLP 784-1024-1024-10, ReLU, softmax cross-entropy, Adam, batch %d\n", B);
    const char *forced = getenv("OPENBLAS_CORETYPE");
    printf("openblas: kernels %s, threads %d%s%s (rt_gemm and the optimizer: the same thread count)\n",
           rt_blas_corename(), rt_blas_threads(), forced ? ", OPENBLAS_CORETYPE=" : "",
           forced ? forced : "");

    // ---- the roofline: the step's GEMMs, each at its best measured speed ----
    shape sh[16];
    int ns = 0;
    for (int l = 0; l < L; l++) {
        int I = sizes[l], O = sizes[l + 1];
        sh[ns++] = (shape){ false, true, B, O, I, "forward  x W^T" };
        sh[ns++] = (shape){ true, false, O, I, B, "backward dW = dy^T x" };
        if (l > 0) sh[ns++] = (shape){ false, false, B, I, O, "backward dx = dy W" };
    }
    int nt = rt_blas_threads();
    double roof = 0.0, floor_gemm = 0.0, flops = 0.0;
    printf("\n%-22s %6s %6s %6s %14s %14s %12s %10s\n", "gemm", "M", "N", "K", "openblas 1 thr",
           "openblas all", "rt_gemm", "GFLOP/s");
    for (int i = 0; i < ns; i++) {
        double t1 = time_gemm(&sh[i], openblas_1, 60, rt_now_s), tn = time_gemm(&sh[i], openblas_all, 60, rt_now_s);
        double tr = time_gemm(&sh[i], rt_gemm, 60, rt_now_s);
        double to = t1 < tn ? t1 : tn, tb = to < tr ? to : tr, f = 2.0 * sh[i].M * sh[i].N * sh[i].K;
        roof += to;
        floor_gemm += tb;
        flops += f;
        printf("%-22s %6d %6d %6d %11.1f us %11.1f us %9.1f us %10.1f\n", sh[i].what, sh[i].M, sh[i].N,
               sh[i].K, t1 * 1e6, tn * 1e6, tr * 1e6, f / tb * 1e-9);
    }
    printf("(openblas all: %d threads of OpenBLAS's own; rt_gemm: its parts on %d threads; GFLOP/s at "
           "the fastest)\n", nt, nt);
    printf("roofline (OpenBLAS's best on each shape): %.3f GFLOP per step in %.3f ms = %.1f GFLOP/s\n",
           flops * 1e-9, roof * 1e3, flops / roof * 1e-9);
    printf("GEMM floor (the faster of that and rt_gemm on each shape): %.3f ms = %.1f GFLOP/s\n",
           floor_gemm * 1e3, flops / floor_gemm * 1e-9);

    // ---- the real training step on synthetic data ----
    nn_layer_spec spec[5];
    for (int l = 0, k = 0; l < L; l++) {
        spec[k] = nn_layer_spec_default(NN_LAYER_LINEAR);
        spec[k].out = sizes[l + 1];
        snprintf(spec[k].name, sizeof spec[k].name, "fc%d", l + 1);
        k++;
        if (l < L - 1) {
            spec[k] = nn_layer_spec_default(NN_LAYER_RELU);
            snprintf(spec[k].name, sizeof spec[k].name, "relu%d", l + 1);
            k++;
        }
    }
    rt_err err = { 0 };
    nn_model m;
    if (nn_model_build(&m, spec, 5, sizes[0], &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    nn_term_spec ce = nn_term_spec_default(NN_TERM_CE);
    nn_obj o;
    if (nn_obj_build(&o, &ce, 1, NULL, 0, &m, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    rt_rng r;
    rt_rng_seed(&r, 1);
    nn_model_init(&m, &r);
    nn_dataset d = { .n = 6000, .ndim = 1, .shape = { 784, 1, 1 }, .dim = 784, .nclass = 10 };
    d.x = malloc((size_t)d.n * d.dim * sizeof(float));
    d.y = malloc((size_t)d.n * sizeof(int32_t));
    rt_rng_fill_uniform(&r, d.x, (size_t)d.n * d.dim, 0.0f, 1.0f);
    for (int i = 0; i < d.n; i++) d.y[i] = (int32_t)rt_rng_below(&r, 10);
    int32_t *idx = malloc((size_t)d.n * sizeof *idx);
    for (int i = 0; i < d.n; i++) idx[i] = i;
    rt_optim_cfg oc = rt_optim_cfg_default();
    rt_optim opt;
    rt_optim_init(&opt, &oc, m.params.total);
    opt.pool = rt_blas_pool();  /* as nn_train: the optimizer on the GEMM's threads */
    rt_ctx c;
    rt_ctx_init(&c, 16u << 20);
    nn_step st = { &m, &o, &c, &opt, NULL, &r, NULL };
    double *t = malloc((size_t)steps * sizeof *t);
    for (int i = 0; i < steps + 10; i++) {
        double t0 = rt_now_s();
        nn_train_step(&st, &d, idx + (i % (d.n / B)) * B, B, 1e-3f, 0.0);
        if (i >= 10) t[i - 10] = rt_now_s() - t0;
    }
    size_t mallocs = c.step.mallocs;
    nn_train_step(&st, &d, idx, B, 1e-3f, 0.0);
    qsort(t, (size_t)steps, sizeof *t, cmp_double);
    double med = t[steps / 2];
    printf("\nstep: median %.3f ms over %d steps (min %.3f, max %.3f) = %.0f samples/s\n", med * 1e3, steps,
           t[0] * 1e3, t[steps - 1] * 1e3, B / med);
    printf("step arena: peak %.1f MiB, %s after the first step\n", (double)c.step.peak / (1 << 20),
           c.step.mallocs == mallocs ? "no allocation" : "ALLOCATED");
    printf("ratio roofline / step: %.2f (target >= 0.80)\n", roof / med);
    printf("ratio GEMM floor / step: %.2f (the share of the step that is GEMM at its best measured "
           "speed)\n", floor_gemm / med);
    char fig[64], ref[64];
    snprintf(fig, sizeof fig, "MLP step, batch %d, %d thread%s", B, nt, nt > 1 ? "s" : "");
    snprintf(ref, sizeof ref, "roofline %.2f ms", roof * 1e3);
    printf("TABLE|%s|%.0f|samples/s|>= 0.80 of roofline|%s|%.2f|%s\n", fig, B / med, ref, roof / med,
           roof / med >= 0.80 ? "yes" : "no");
    snprintf(ref, sizeof ref, "GEMM floor %.2f ms", floor_gemm * 1e3);
    printf("TABLE|%s, against the GEMM floor|%.0f|samples/s|reported|%s|%.2f|-\n", fig, B / med, ref,
           floor_gemm / med);

    // ---- where the rest goes: the non-GEMM phases, each timed alone ----
    // The step zeroes the gradients inside the optimizer pass (rt_optim_step_zero_grad); the
    // separate zeroing pass is timed for comparison only.
    double tz = 1e30, to = 1e30;
    for (int i = 0; i < 50; i++) {
        double t0 = rt_now_s();
        rt_params_zero_grad(&m.params);
        double t1 = rt_now_s();
        rt_optim_step_zero_grad(&opt, m.params.data, m.params.grad, 0.0f);
        double t2 = rt_now_s();
        if (t1 - t0 < tz) tz = t1 - t0;
        if (t2 - t1 < to) to = t2 - t1;
    }
    printf("phases alone: optimizer + zero_grad (%zu params, %d threads) %.3f ms, other %.3f ms "
           "(a separate zero_grad pass: %.3f ms)\n", m.params.total, rt_blas_threads(), to * 1e3,
           med * 1e3 - floor_gemm * 1e3 - to * 1e3, tz * 1e3);
    printf("ratio (GEMM floor + optimizer alone) / step: %.2f\n", (floor_gemm + to) / med);

    // ---- the optimizer's floor when its state comes from memory ----
    // Timed alone, back to back, the update finds its 30 MB (p, g, m, v) in the last-level cache.
    // In the step the moments are touched by nothing else, and on a machine that shares that
    // cache with other work they come from DRAM. The same pass over 2^24 parameters (256 MB of
    // state, past any last-level cache) gives the rate it then runs at: a floor under the step's
    // non-GEMM time that no reordering of the step removes (32 bytes per parameter).
    size_t nbig = (size_t)1 << 24;
    float *bp = calloc(nbig, sizeof *bp), *bg = calloc(nbig, sizeof *bg);
    rt_optim big;
    rt_optim_init(&big, &oc, nbig);
    big.pool = rt_blas_pool();
    double tb = 1e30;
    for (int i = 0; i < 5; i++) {       /* the first pass maps the pages and is not counted */
        double t0 = rt_now_s();
        rt_optim_step_zero_grad(&big, bp, bg, 0.0f);
        double dt = rt_now_s() - t0;
        if (i > 0 && dt < tb) tb = dt;
    }
    double tfloor = tb * (double)m.params.total / (double)nbig;
    printf("optimizer from DRAM: %.0f GB/s over %zu parameters, so %.3f ms for this model's; "
           "(GEMM floor + that) / step: %.2f\n", 32.0 * (double)nbig / tb * 1e-9, nbig, tfloor * 1e3,
           (floor_gemm + tfloor) / med);
    rt_optim_free(&big);
    free(bp);
    free(bg);
    free(t);
    free(idx);
    free(d.x);
    free(d.y);
    rt_ctx_free(&c);
    rt_optim_free(&opt);
    nn_model_free(&m);
    return 0;
}
