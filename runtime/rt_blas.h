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
/* The same product as one OpenBLAS call on `threads` of OpenBLAS's own threads (clamped to
** [1, RT_BLAS_MAX_THREADS]), for benchmarks that compare rt_gemm with what OpenBLAS alone reaches. */
void rt_gemm_openblas(int threads, bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                      int lda, const float *B, int ldb, float beta, float *C, int ldc);
void rt_gemm_ref(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);

/* OpenBLAS's kernel set ("Haswell", "SkylakeX", ...), for benchmarks and logs. */
const char *rt_blas_corename(void);
/* OpenBLAS's build configuration ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ..."), for --version. */
const char *rt_blas_config(void);

/* The threads of rt_gemm, and of every other pass that shares them through rt_blas_pool():
** OpenBLAS's count at first use (OPENBLAS_NUM_THREADS, else the CPUs), changed by
** rt_blas_set_threads (jobs x threads <= cores). OpenBLAS itself is set to one thread: rt_gemm
** cuts C into one part per thread (rt_blas.c). rt_blas_pool() is NULL for one thread; the pool
** is the process's, started on first use and again in a forked child. rt_gemm and every user
** of the pool are called from one thread at a time (a call from inside a pool job runs on the
** calling thread, see rt_pool.h). */
#define RT_BLAS_MAX_THREADS 256     /* rt_blas_set_threads clamps n to [1, this] */
int rt_blas_threads(void);
void rt_blas_set_threads(int n);
struct rt_pool *rt_blas_pool(void);

#endif
