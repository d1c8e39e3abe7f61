// rt_blas.c: the only cblas_sgemm caller, with shape checks, and the naive reference kernel.
#include "rt_blas.h"

#include <cblas.h>

/* Declared by OpenBLAS's cblas.h on Debian; listed here so that the dependency is explicit. */
char *openblas_get_corename(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

static void check_dims(bool ta, bool tb, int M, int N, int K, int lda, int ldb, int ldc) {
    RT_ASSERT(M >= 0 && N >= 0 && K >= 0);
    RT_ASSERT(lda >= (ta ? (M > 1 ? M : 1) : (K > 1 ? K : 1)));
    RT_ASSERT(ldb >= (tb ? (K > 1 ? K : 1) : (N > 1 ? N : 1)));
    RT_ASSERT(ldc >= (N > 1 ? N : 1));
}

void rt_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
             const float *B, int ldb, float beta, float *C, int ldc) {
    check_dims(ta, tb, M, N, K, lda, ldb, ldc);
    if (M == 0 || N == 0) return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void rt_gemm_ref(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc) {
    check_dims(ta, tb, M, N, K, lda, ldb, ldc);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int k = 0; k < K; k++) {
                float a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += (double)a * (double)b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)((double)alpha * s + (beta == 0.0f ? 0.0 : (double)beta * (double)*c));
        }
}

const char *rt_blas_corename(void) { return openblas_get_corename(); }
int rt_blas_threads(void) { return openblas_get_num_threads(); }
void rt_blas_set_threads(int n) { openblas_set_num_threads(n); }
