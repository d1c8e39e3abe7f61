/*
** bench_gemm.h: what bench_mlp and bench_vib share: one GEMM shape timed alone (best of a number
** of repetitions, operands in cache) through rt_gemm or one OpenBLAS call, and a qsort comparator.
** Header-only, for the benchmark programs (each is one .c file).
*/
#ifndef BENCH_GEMM_H
#define BENCH_GEMM_H

#include <stdlib.h>

#include "rt_blas.h"

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct shape { bool ta, tb; int M, N, K; const char *what; } shape;

typedef void (*gemm_fn)(bool, bool, int, int, int, float, const float *, int, const float *, int,
                        float, float *, int);

static inline void openblas_1(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                              const float *B, int ldb, float beta, float *C, int ldc) {
    rt_gemm_openblas(1, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static inline void openblas_all(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                                const float *B, int ldb, float beta, float *C, int ldc) {
    rt_gemm_openblas(rt_blas_threads(), ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Best time of one GEMM shape over reps repetitions (the first three, which warm caches and
** threads, not counted), on the clock `now` (seconds). */
static inline double time_gemm(const shape *s, gemm_fn gemm, int reps, double (*now)(void)) {
    size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C = calloc(nc, sizeof *C);
    for (size_t i = 0; i < na; i++) A[i] = (float)(i % 17) * 0.01f;
    for (size_t i = 0; i < nb; i++) B[i] = (float)(i % 13) * 0.01f;
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        gemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 1.0f, C, s->N);
        double t = now() - t0;
        if (r >= 3 && t < best) best = t;
    }
    free(A);
    free(B);
    free(C);
    return best;
}

#endif
