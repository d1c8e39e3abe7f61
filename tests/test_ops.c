// test_ops.c: forward values of the ops, the GEMM entry point against its reference, the arena.
#include <criterion/criterion.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt_blas.h"
#include "rt_ops.h"
#include "rt_pool.h"
#include "rt_rng.h"

// ---- GEMM ----

Test(gemm, matches_reference_for_every_transpose_and_odd_shapes) {
    const int dims[][3] = { { 1, 1, 1 }, { 3, 5, 7 }, { 17, 1, 33 }, { 64, 100, 10 }, { 101, 37, 129 } };
    rt_rng r;
    rt_rng_seed(&r, 1);
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = dims[d][0], N = dims[d][1], K = dims[d][2];
                float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * (size_t)K * N);
                float *C1 = malloc(sizeof(float) * (size_t)M * N), *C2 = malloc(sizeof(float) * (size_t)M * N);
                rt_rng_fill_uniform(&r, A, (size_t)M * K, -1, 1);
                rt_rng_fill_uniform(&r, B, (size_t)K * N, -1, 1);
                rt_rng_fill_uniform(&r, C1, (size_t)M * N, -1, 1);
                for (int i = 0; i < M * N; i++) C2[i] = C1[i];
                int lda = ta ? M : K, ldb = tb ? K : N;
                rt_gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 2.0f, C1, N);
                rt_gemm_ref(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 2.0f, C2, N);
                float worst = 0.0f;
                for (int i = 0; i < M * N; i++) worst = fmaxf(worst, fabsf(C1[i] - C2[i]));
                cr_expect_lt(worst, 1e-4f * (float)K, "M=%d N=%d K=%d ta=%d tb=%d: max diff %g", M, N, K, ta, tb,
                             (double)worst);
                free(A); free(B); free(C1); free(C2);
            }
}

// Every operand stored inside a wider one (lda, ldb, ldc past the width, the gaps filled with
// NaN that must stay out of the result, and C's gaps must stay untouched).
static void check_threaded(rt_rng *r, bool ta, bool tb, int M, int N, int K, float beta, int threads) {
    int ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
    int lda = ac + 3, ldb = bc + 5, ldc = N + 7;
    float *A = malloc(sizeof(float) * (size_t)ar * lda), *B = malloc(sizeof(float) * (size_t)br * ldb);
    float *C1 = malloc(sizeof(float) * (size_t)M * ldc), *C2 = malloc(sizeof(float) * (size_t)M * ldc);
    for (size_t i = 0; i < (size_t)ar * lda; i++) A[i] = i % lda < (size_t)ac ? (float)rt_rng_uniform(r) - 0.5f : NAN;
    for (size_t i = 0; i < (size_t)br * ldb; i++) B[i] = i % ldb < (size_t)bc ? (float)rt_rng_uniform(r) - 0.5f : NAN;
    for (size_t i = 0; i < (size_t)M * ldc; i++) C1[i] = C2[i] = i % ldc < (size_t)N ? (float)rt_rng_uniform(r) : -7.0f;
    rt_gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, beta, C1, ldc);
    rt_gemm_ref(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, beta, C2, ldc);
    float worst = 0.0f;
    for (size_t i = 0; i < (size_t)M * ldc; i++) {
        if (i % ldc >= (size_t)N) cr_assert_eq(C1[i], -7.0f, "outside C written: %d threads, M=%d N=%d", threads, M, N);
        else worst = fmaxf(worst, fabsf(C1[i] - C2[i]));
    }
    cr_expect_lt(worst, 1e-5f * (float)K, "%d threads, M=%d N=%d K=%d ta=%d tb=%d beta=%g: max diff %g", threads,
                 M, N, K, ta, tb, (double)beta, (double)worst);
    free(A); free(B); free(C1); free(C2);
}

// rt_gemm cuts C along N (N > M) or M into one part per thread: both ways, every transpose, part
// counts that do not divide the dimension, and shapes too small or too thin to cut.
Test(gemm, threaded_parts_match_reference, .timeout = 120) {
    const int dims[][3] = { { 100, 1024, 78 }, { 1024, 100, 30 }, { 130, 131, 67 }, { 10, 1024, 100 },
                            { 1024, 10, 100 }, { 33, 40, 100 }, { 8, 8, 8 } };
    rt_rng r;
    rt_rng_seed(&r, 2);
    int before = rt_blas_threads();
    for (int t = 1; t <= 3; t++) {
        rt_blas_set_threads(t);
        cr_assert_eq(rt_blas_threads(), t);
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    for (int beta = 0; beta < 2; beta++)
                        check_threaded(&r, ta, tb, dims[d][0], dims[d][1], dims[d][2], beta ? 1.5f : 0.0f, t);
    }
    rt_blas_set_threads(before);
}

// A GEMM inside a job of the pool it would use runs on the calling thread instead of waiting for
// itself.
typedef struct nested_job { float *C; } nested_job;
static void nested_gemm(void *arg, size_t lo, size_t hi) {
    nested_job *j = arg;
    static const float ones[64 * 64] = { [0 ... 64 * 64 - 1] = 1.0f };
    for (size_t k = lo; k < hi; k++)
        rt_gemm(false, false, 64, 64, 64, 1.0f, ones, 64, ones, 64, 0.0f, j->C + k * 64 * 64, 64);
}

Test(gemm, inside_a_pool_job, .timeout = 60) {
    int before = rt_blas_threads();
    rt_blas_set_threads(2);
    float *C = malloc(sizeof(float) * 4 * 64 * 64);
    nested_job j = { C };
    rt_pool_for(rt_blas_pool(), 4, 1, nested_gemm, &j);
    for (int i = 0; i < 4 * 64 * 64; i++) cr_assert_eq(C[i], 64.0f, "C[%d] = %g", i, (double)C[i]);
    free(C);
    rt_blas_set_threads(before);
}

// A sweep forks its workers after the parent may have started the pool: the child starts its own.
Test(gemm, threaded_in_a_forked_child, .timeout = 60) {
    int before = rt_blas_threads();
    rt_blas_set_threads(2);
    rt_rng r;
    rt_rng_seed(&r, 3);
    check_threaded(&r, false, true, 100, 512, 64, 1.0f, 2);   /* starts the parent's pool */
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        float *A = malloc(sizeof(float) * 100 * 64), *B = malloc(sizeof(float) * 64 * 512);
        float *C1 = calloc(100 * 512, sizeof(float)), *C2 = calloc(100 * 512, sizeof(float));
        for (int i = 0; i < 100 * 64; i++) A[i] = (float)(i % 7) - 3.0f;
        for (int i = 0; i < 64 * 512; i++) B[i] = (float)(i % 5) - 2.0f;
        rt_gemm(false, false, 100, 512, 64, 1.0f, A, 64, B, 512, 0.0f, C1, 512);
        rt_gemm_ref(false, false, 100, 512, 64, 1.0f, A, 64, B, 512, 0.0f, C2, 512);
        _exit(memcmp(C1, C2, sizeof(float) * 100 * 512) == 0 ? 0 : 3);    /* small integers: exact */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    rt_blas_set_threads(before);
}

// The benchmarks' plain OpenBLAS call, on one thread and on two of OpenBLAS's own: the same
// product, and rt_gemm afterwards gives the bytes it gave before (OpenBLAS is back on one thread).
Test(gemm, plain_openblas_call_matches_reference_and_leaves_rt_gemm_alone, .timeout = 60) {
    const int M = 100, N = 300, K = 200;
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C0 = malloc(sizeof(float) * M * N), *C1 = malloc(sizeof(float) * M * N);
    float *C2 = malloc(sizeof(float) * M * N), *Cr = malloc(sizeof(float) * M * N);
    rt_rng r;
    rt_rng_seed(&r, 4);
    rt_rng_fill_uniform(&r, A, (size_t)M * K, -1, 1);
    rt_rng_fill_uniform(&r, B, (size_t)K * N, -1, 1);
    rt_gemm(false, true, M, N, K, 1.0f, A, K, B, K, 0.0f, C0, N);
    rt_gemm_ref(false, true, M, N, K, 1.0f, A, K, B, K, 0.0f, Cr, N);
    for (int threads = 1; threads <= 2; threads++) {
        rt_gemm_openblas(threads, false, true, M, N, K, 1.0f, A, K, B, K, 0.0f, C1, N);
        float worst = 0.0f;
        for (int i = 0; i < M * N; i++) worst = fmaxf(worst, fabsf(C1[i] - Cr[i]));
        cr_expect_lt(worst, 1e-5f * (float)K, "%d OpenBLAS threads: max diff %g", threads, (double)worst);
        rt_gemm(false, true, M, N, K, 1.0f, A, K, B, K, 0.0f, C2, N);
        cr_expect(memcmp(C0, C2, sizeof(float) * M * N) == 0, "rt_gemm changed after %d OpenBLAS threads",
                  threads);
    }
    free(A); free(B); free(C0); free(C1); free(C2); free(Cr);
}

Test(gemm, beta_zero_ignores_garbage_in_c) {
    float A[4] = { 1, 2, 3, 4 }, B[4] = { 1, 0, 0, 1 }, C[4] = { NAN, NAN, NAN, NAN };
    rt_gemm(false, false, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    for (int i = 0; i < 4; i++) cr_expect_eq(C[i], A[i]);
}

Test(gemm, reports_kernels_and_threads) {
    cr_expect_not_null(rt_blas_corename());
    cr_expect_geq(rt_blas_threads(), 1);
}

// ---- forward values ----

static rt_tensor *T(rt_ctx *c, int ndim, const int *shape, const float *v) {
    rt_tensor *t = rt_tensor_new(c, ndim, shape);
    for (int64_t i = 0; i < t->n; i++) t->data[i] = v[i];
    return t;
}

Test(ops, broadcasting_follows_numpy) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_tensor *a = T(&c, 2, (int[]){ 2, 3 }, (float[]){ 1, 2, 3, 4, 5, 6 });
    rt_tensor *row = T(&c, 1, (int[]){ 3 }, (float[]){ 10, 20, 30 });
    rt_tensor *col = T(&c, 2, (int[]){ 2, 1 }, (float[]){ 100, 200 });
    rt_tensor *y = rt_add(&c, rt_add(&c, a, row), col);
    const float want[] = { 111, 122, 133, 214, 225, 236 };
    cr_assert_eq(y->ndim, 2);
    for (int i = 0; i < 6; i++) cr_expect_eq(y->data[i], want[i]);
    rt_tensor *z = rt_mul(&c, col, row);        /* (2,1) x (3) -> (2,3) outer product */
    cr_expect(z->shape[0] == 2 && z->shape[1] == 3);
    cr_expect_eq(z->data[5], 200.0f * 30.0f);
    rt_ctx_free(&c);
}

Test(ops, reductions_and_shapes) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_tensor *a = T(&c, 2, (int[]){ 2, 3 }, (float[]){ 1, 2, 3, 4, 5, 6 });
    rt_tensor *s0 = rt_sum(&c, a, 0, false), *s1 = rt_mean(&c, a, -1, true), *all = rt_sum(&c, a, RT_ALL, false);
    cr_expect(s0->ndim == 1 && s0->shape[0] == 3 && s0->data[2] == 9.0f);
    cr_expect(s1->ndim == 2 && s1->shape[1] == 1 && s1->data[1] == 5.0f);
    cr_expect(all->n == 1 && all->data[0] == 21.0f);
    rt_tensor *b = rt_broadcast(&c, s1, 2, (int[]){ 2, 4 });
    cr_expect_eq(b->data[7], 5.0f);
    rt_tensor *r = rt_reshape(&c, a, 1, (int[]){ 6 });
    cr_expect(r->ndim == 1 && r->data[4] == 5.0f);
    rt_ctx_free(&c);
}

Test(ops, stable_softplus_logsumexp_and_cross_entropy) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_tensor *x = T(&c, 1, (int[]){ 4 }, (float[]){ -100, 0, 30, 100 });
    rt_tensor *sp = rt_softplus(&c, x);
    cr_expect(sp->data[0] > 0.0f && sp->data[0] < 1e-40f);
    cr_expect(fabsf(sp->data[1] - logf(2.0f)) < 1e-6f);
    cr_expect_eq(sp->data[3], 100.0f);
    rt_tensor *big = T(&c, 2, (int[]){ 1, 3 }, (float[]){ 1000, 1000, 1000 });
    rt_tensor *lse = rt_logsumexp(&c, big, 1, false);
    cr_expect(fabsf(lse->data[0] - (1000.0f + logf(3.0f))) < 1e-3f, "%g", (double)lse->data[0]);
    /* CE of logits (0, ln 3) for label 1: p = 3/4, loss = ln(4/3). */
    rt_tensor *z = T(&c, 2, (int[]){ 1, 2 }, (float[]){ 0, logf(3.0f) });
    int32_t y = 1;
    rt_tensor *ce = rt_softmax_ce(&c, z, &y, 0.0f);
    cr_expect(fabsf(ce->data[0] - logf(4.0f / 3.0f)) < 1e-6f);
    /* Extreme logits stay finite. */
    rt_tensor *zz = T(&c, 2, (int[]){ 1, 2 }, (float[]){ -1e4f, 1e4f });
    int32_t y0 = 0;
    cr_expect(fabsf(rt_softmax_ce(&c, zz, &y0, 0.0f)->data[0] - 2e4f) < 1.0f);
    /* Smoothing s with C classes: loss = lse - (1-s) z_y - s mean(z). */
    rt_tensor *sm = rt_softmax_ce(&c, z, &y, 0.1f);
    double lse2 = log(1.0 + 3.0), want = lse2 - 0.9 * log(3.0) - 0.1 * log(3.0) / 2.0;
    cr_expect(fabs((double)sm->data[0] - want) < 1e-6, "%g vs %g", (double)sm->data[0], want);
    rt_ctx_free(&c);
}

Test(ops, eval_mode_records_nothing) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_tensor w;
    float wd[2] = { 1, 2 }, wg[2] = { 0, 0 };
    rt_tensor_wrap(&w, 1, (int[]){ 2 }, wd);
    w.grad = wg;
    w.flags = RT_NEEDS_GRAD;
    c.grad_enabled = false;
    rt_tensor *y = rt_exp(&c, &w);
    cr_expect_eq(c.ntape, 0);
    cr_expect_eq(y->flags & RT_NEEDS_GRAD, 0);
    c.grad_enabled = true;
    rt_backward(&c, rt_sum(&c, rt_square(&c, &w), RT_ALL, false));
    cr_expect(wg[0] == 2.0f && wg[1] == 4.0f, "fan-in gradient %g %g", (double)wg[0], (double)wg[1]);
    rt_ctx_free(&c);
}

Test(ops, fan_out_accumulates) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_tensor w;
    float wd[1] = { 3 }, wg[1] = { 0 };
    rt_tensor_wrap(&w, 1, (int[]){ 1 }, wd);
    w.grad = wg;
    w.flags = RT_NEEDS_GRAD;
    /* y = w*w + exp(w) + w: dy/dw = 2w + e^w + 1 */
    rt_tensor *y = rt_add(&c, rt_add(&c, rt_mul(&c, &w, &w), rt_exp(&c, &w)), &w);
    rt_backward(&c, y);
    cr_expect(fabsf(wg[0] - (6.0f + expf(3.0f) + 1.0f)) < 1e-4f, "%g", (double)wg[0]);
    rt_ctx_free(&c);
}

/* The residual sum, the ReLU written over it and their backward passes, past the size from which
** they run in parallel chunks (rt_op_elem.c: 64K elements) and with a tail: each element as the
** definition has it, and the same bytes on 1 and 3 threads. x feeds both the sum (with h, an op
** output) and the product, so its gradient is added to; h's is fresh: copied into when h is the
** sum's second operand (swap), handed dy's buffer when it is the first. */
static void residual_pass(int threads, bool swap, float *out, float *gx, float *gw) {
    enum { N = 70001 };
    rt_blas_set_threads(threads);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 22);
    rt_rng r;
    rt_rng_seed(&r, 5);
    rt_tensor x, w;
    rt_tensor_wrap(&x, 1, (int[]){ N }, rt_xfloats(N));
    rt_tensor_wrap(&w, 1, (int[]){ N }, rt_xfloats(N));
    rt_rng_fill_uniform(&r, x.data, N, -1, 1);
    rt_rng_fill_uniform(&r, w.data, N, -1, 1);
    x.grad = gx;
    w.grad = gw;
    memset(gx, 0, N * sizeof(float));
    memset(gw, 0, N * sizeof(float));
    x.flags = w.flags = RT_NEEDS_GRAD;
    rt_tensor *h = rt_mul(&c, &x, &w);                      /* an op output: a fresh gradient */
    rt_tensor *y = rt_relu_over(&c, swap ? rt_add(&c, &x, h) : rt_add(&c, h, &x));
    rt_tensor *loss = rt_sum(&c, rt_mul(&c, y, &w), RT_ALL, false);
    memcpy(out, y->data, N * sizeof(float));
    rt_backward(&c, loss);
    int bad = 0, first = -1;
    for (int i = 0; i < N; i++) {
        float v = x.data[i] * w.data[i] + x.data[i], m = v > 0.0f ? 1.0f : 0.0f;
        /* dL/dx = m w (w + 1); dL/dw = y + m w x */
        bool ok = out[i] == (v > 0.0f ? v : 0.0f) && fabsf(gx[i] - m * w.data[i] * (w.data[i] + 1.0f)) < 1e-6f &&
                  fabsf(gw[i] - (out[i] + m * w.data[i] * x.data[i])) < 1e-6f;
        if (!ok && bad++ == 0) first = i;
    }
    cr_expect_eq(bad, 0, "%d of %d elements wrong (%s, %d threads), the first %d: y %g dx %g dw %g", bad, N,
                 swap ? "x + h" : "h + x", threads, first, first < 0 ? 0.0 : (double)out[first],
                 first < 0 ? 0.0 : (double)gx[first], first < 0 ? 0.0 : (double)gw[first]);
    free(x.data);
    free(w.data);
    rt_ctx_free(&c);
    rt_blas_set_threads(1);
}

Test(ops, large_residual_sums_and_relus_are_exact_and_thread_independent, .timeout = 60) {
    enum { N = 70001 };
    for (int swap = 0; swap < 2; swap++) {
        float *a[3], *b[3];
        for (int k = 0; k < 3; k++) a[k] = rt_xfloats(N), b[k] = rt_xfloats(N);
        residual_pass(1, swap, a[0], a[1], a[2]);
        residual_pass(3, swap, b[0], b[1], b[2]);
        for (int k = 0; k < 3; k++) {
            cr_expect_eq(memcmp(a[k], b[k], N * sizeof(float)), 0, "%s differs between 1 and 3 threads",
                         k == 0 ? "y" : k == 1 ? "dx" : "dw");
            free(a[k]);
            free(b[k]);
        }
    }
}

Test(ops, missing_backward_rule_aborts, .signal = SIGABRT) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_tensor w;
    float wd[1] = { 3 }, wg[1] = { 0 };
    rt_tensor_wrap(&w, 1, (int[]){ 1 }, wd);
    w.grad = wg;
    w.flags = RT_NEEDS_GRAD;
    rt_tensor *y = rt_exp(&c, &w);
    y->op = RT_OP_COUNT + 5;    /* no such op: must abort, naming it */
    rt_backward(&c, y);
}

// ---- arena ----

Test(arena, alignment_zeroing_and_steady_state) {
    rt_arena a;
    rt_arena_init(&a, 4096);
    size_t after_first = 0;
    for (int step = 0; step < 3; step++) {
        for (int i = 1; i <= 50; i++) {
            unsigned char *p = rt_arena_alloc(&a, (size_t)i * 1000);
            cr_assert_eq((uintptr_t)p % 64, 0);
            for (int k = 0; k < i * 1000; k += 997) cr_assert_eq(p[k], 0);
            p[0] = 0xff;
        }
        if (step == 0) cr_expect_gt(a.mallocs, 1, "the first step should have outgrown 4 KiB");
        rt_arena_reset(&a);
        if (step == 0) after_first = a.mallocs;     /* the reset coalesced the chunks into one */
        else cr_expect_eq(a.mallocs, after_first, "step %d allocated", step);
    }
    size_t before = a.mallocs;
    rt_arena_mark m = rt_arena_get_mark(&a);
    rt_arena_alloc(&a, 100);
    rt_arena_rollback(&a, m);
    cr_expect_eq(a.used, m.used);
    cr_expect_eq(a.mallocs, before);
    rt_arena_free(&a);
}
