// rt_blas.c: the only cblas_sgemm caller: shape checks, the threads (one part of C per thread,
// on a process-wide pool), and the naive reference kernel.
#include "rt_blas.h"

#include <cblas.h>
#include <pthread.h>
#include <string.h>

#include "rt_pool.h"

/* Declared by OpenBLAS's cblas.h on Debian; listed here so that the dependency is explicit. */
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);

static void check_dims(bool ta, bool tb, int M, int N, int K, int lda, int ldb, int ldc) {
    RT_ASSERT(M >= 0 && N >= 0 && K >= 0);
    RT_ASSERT(lda >= (ta ? (M > 1 ? M : 1) : (K > 1 ? K : 1)));
    RT_ASSERT(ldb >= (tb ? (K > 1 ? K : 1) : (N > 1 ? N : 1)));
    RT_ASSERT(ldc >= (N > 1 ? N : 1));
}

// ---- the threads: one process-wide pool, OpenBLAS itself on one thread ----
//
// On the shapes of a training step (batch 100, layers of 10 to 1024), two threads of ours, each
// running single-threaded OpenBLAS on its own part of C and spinning between jobs, take 18-19%
// less time over the step's eight GEMMs than OpenBLAS's own two threads, and a third to a seventh
// of it on the small ones (bench_mlp prints both, for both kernel sets). The same workers run the
// optimizer, the estimators' pair loops and every other rt_pool pass (rt_blas_pool), instead of
// each pass waking threads of its own. The thread count starts as OpenBLAS's
// (OPENBLAS_NUM_THREADS, else the CPUs) and rt_blas_set_threads changes it.

static struct {
    bool ready;                 /* threads read, OpenBLAS set to one thread, atfork registered */
    bool have_pool;
    int threads;
    rt_pool pool;
} blas;

// In a forked child the workers do not exist: forget the pool (it is started again on first use).
static void blas_atfork_child(void) {
    memset(&blas.pool, 0, sizeof blas.pool);
    blas.have_pool = false;
}

static void blas_setup(void) {
    if (blas.ready) return;
    blas.threads = openblas_get_num_threads();
    if (blas.threads < 1) blas.threads = 1;
    if (blas.threads > RT_BLAS_MAX_THREADS) blas.threads = RT_BLAS_MAX_THREADS;
    openblas_set_num_threads(1);
    pthread_atfork(NULL, NULL, blas_atfork_child);
    blas.ready = true;
}

rt_pool *rt_blas_pool(void) {
    blas_setup();
    if (blas.threads <= 1) return NULL;
    if (!blas.have_pool) {
        rt_pool_init(&blas.pool, blas.threads);
        blas.have_pool = true;
    }
    return &blas.pool;
}

int rt_blas_threads(void) {
    blas_setup();
    return blas.threads;
}

void rt_blas_set_threads(int n) {
    blas_setup();
    n = n < 1 ? 1 : n > RT_BLAS_MAX_THREADS ? RT_BLAS_MAX_THREADS : n;
    if (n == blas.threads) return;
    if (blas.have_pool) rt_pool_free(&blas.pool);
    blas.have_pool = false;
    blas.threads = n;
}

// ---- the GEMM, cut into one part of C per thread ----
//
// C is cut along N when N > M (each thread packs its own columns of B and all of the small A),
// else along M; the cut points are multiples of 16 (whole cache lines of C per thread), and a
// dimension too short for that, or too little work to pay for a second thread, leaves the call
// on the caller's thread. Each element of C is still one single-threaded OpenBLAS dot product
// over the whole of K, but OpenBLAS chooses its kernel and blocking by the size of each part, and
// those round differently: a 1000 x 16 x 784 product done whole and as two halves of rows differs
// in the last bits of about a third of its elements (Haswell kernels). So the same thread count
// gives the same bytes, and another thread count may not.

#define GEMM_ALIGN 16
#define GEMM_MIN_WORK (1 << 17)    /* M*N*K below which one thread does it all */

static void sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc) {
    if (M == 0 || N == 0) return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

typedef struct gemm_job {
    bool ta, tb, by_n;
    int M, N, K, parts, lda, ldb, ldc;
    float alpha, beta;
    const float *A, *B;
    float *C;
} gemm_job;

/* Start of part k of a dimension of length len cut into parts: a multiple of GEMM_ALIGN. */
static int cut_at(int len, int k, int parts) {
    if (k >= parts) return len;
    return (int)((int64_t)len * k / parts) / GEMM_ALIGN * GEMM_ALIGN;
}

static void gemm_part(void *arg, size_t lo, size_t hi) {
    const gemm_job *g = arg;
    for (size_t k = lo; k < hi; k++) {
        int a = cut_at(g->by_n ? g->N : g->M, (int)k, g->parts);
        int b = cut_at(g->by_n ? g->N : g->M, (int)k + 1, g->parts);
        if (g->by_n) {
            const float *B = g->tb ? g->B + (size_t)a * g->ldb : g->B + a;
            sgemm(g->ta, g->tb, g->M, b - a, g->K, g->alpha, g->A, g->lda, B, g->ldb, g->beta, g->C + a, g->ldc);
        } else {
            const float *A = g->ta ? g->A + a : g->A + (size_t)a * g->lda;
            sgemm(g->ta, g->tb, b - a, g->N, g->K, g->alpha, A, g->lda, g->B, g->ldb, g->beta,
                  g->C + (size_t)a * g->ldc, g->ldc);
        }
    }
}

void rt_gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
             const float *B, int ldb, float beta, float *C, int ldc) {
    check_dims(ta, tb, M, N, K, lda, ldb, ldc);
    if (M == 0 || N == 0) return;
    bool by_n = N > M;
    int len = by_n ? N : M, parts = 1;
    rt_pool *pool = NULL;
    /* Small, or inside a pool job: this thread, uncut (and the pool is not even looked up). */
    if ((int64_t)M * N * K >= GEMM_MIN_WORK && len >= 2 * GEMM_ALIGN && !rt_pool_in_job() &&
        (pool = rt_blas_pool()) != NULL)
        parts = pool->threads < len / GEMM_ALIGN ? pool->threads : len / GEMM_ALIGN;
    if (parts <= 1) {
        sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    gemm_job g = { ta, tb, by_n, M, N, K, parts, lda, ldb, ldc, alpha, beta, A, B, C };
    rt_pool_for(pool, (size_t)parts, 1, gemm_part, &g);
}

void rt_gemm_openblas(int threads, bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                      int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    check_dims(ta, tb, M, N, K, lda, ldb, ldc);
    blas_setup();
    openblas_set_num_threads(threads < 1 ? 1 : threads > RT_BLAS_MAX_THREADS ? RT_BLAS_MAX_THREADS : threads);
    sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    openblas_set_num_threads(1);
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
const char *rt_blas_config(void) { return openblas_get_config(); }
