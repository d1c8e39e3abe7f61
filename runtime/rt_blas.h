/*
** rt_blas.h: the one GEMM entry point, and its naive reference (style.md R7).
**
** C (M,N) = alpha * op(A) op(B) + beta * C, row-major; op(X) is X or X^T. A is (M,K) or, with
** ta, (K,M); B is (K,N) or, with tb, (N,K). Leading dimensions are the row lengths of the
** matrices as stored. rt_gemm is the only caller of cblas_sgemm in the project; rt_gemm_ref is
** the triple loop that tests compare it with.
*/
#ifndef RT_BLAS_H
#define RT_BLAS_H

#include "rt_base.h"

void rt_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
             const float *B, int ldb, float beta, float *C, int ldc);
void rt_gemm_ref(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);

/* OpenBLAS introspection for benchmarks and logs: kernel set ("Haswell", "SkylakeX", ...),
** thread count, and a setter (jobs x threads <= cores). */
const char *rt_blas_corename(void);
int rt_blas_threads(void);
void rt_blas_set_threads(int n);

#endif
