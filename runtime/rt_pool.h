/*
** rt_pool.h: a tiny persistent thread pool. The process has one (rt_blas_pool(), rt_blas.h), on
** which rt_gemm runs its parts of C and the passes between GEMMs run their chunks: the
** optimizer update, the weight EMA, the estimators' pair loops and rows.
**
** One kind of job: rt_pool_for(pool, n, chunk, fn, arg) cuts [0, n) into the fixed chunks
** [0, chunk), [chunk, 2 chunk), ... (the last one shorter) and calls fn(arg, lo, hi) once for
** every chunk. The chunk boundaries depend on n and chunk only, never on the thread count, and
** which thread runs a chunk is left to chance (an atomic counter hands them out); so a job whose
** chunks write disjoint elements gives the same bytes with 1 thread or many. The caller runs
** chunks too and returns when every chunk is done. A NULL pool, or one of 1 thread, runs the
** chunks in order on the calling thread.
**
** After a job, workers spin (a pause loop, yielding the CPU every few microseconds) for up to
** RT_POOL_SPIN_US microseconds watching for the next one, then sleep on a condition variable:
** in a training step the jobs (the parts of each GEMM, the optimizer) come microseconds apart,
** and a sleeping worker takes tens of microseconds to wake, more than many of those jobs last. Idle
** for longer, the workers cost nothing. On Linux they are kept off the CPU the caller runs on,
** so that a woken worker does not queue behind the caller (see rt_pool.c). rt_pool_free wakes
** and joins them. One caller at a time. A job may call rt_pool_for itself (an rt_gemm inside a
** chunk, say): the inner call then runs its chunks in order on the calling thread.
**
**     rt_pool pool; rt_pool_init(&pool, rt_blas_threads());
**     rt_pool_for(&pool, n, 1 << 14, scale_chunk, &args);   // scale_chunk(&args, lo, hi)
**     rt_pool_free(&pool);
*/
#ifndef RT_POOL_H
#define RT_POOL_H

#include <pthread.h>
#include <stdatomic.h>

#include "rt_base.h"

typedef void (*rt_pool_fn)(void *arg, size_t lo, size_t hi);

#define RT_POOL_SPIN_US 500       /* how long an idle worker watches for the next job */

typedef struct rt_pool {
    int threads;                /* including the caller; workers = threads - 1 */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake;        /* a new job or shutdown, for workers that stopped spinning */
    atomic_uint_fast64_t job;   /* job generation, bumped by every rt_pool_for that uses workers */
    atomic_int busy;            /* workers still on the current job */
    atomic_int sleepers;        /* workers waiting on wake */
    atomic_bool quit;
    int caller_cpu;             /* the CPU the workers were last kept off (Linux), -1 at first */
    /* the current job */
    rt_pool_fn fn;
    void *arg;
    size_t n, chunk, nchunks;
    atomic_size_t next;         /* next chunk to hand out */
} rt_pool;

/* True on a thread that is running chunks of some pool's job (rt_gemm then stays on it). */
bool rt_pool_in_job(void);
/* Starts threads - 1 workers (threads < 1 counts as 1); aborts if a thread cannot be created. */
void rt_pool_init(rt_pool *p, int threads);
/* Wakes and joins the workers; p can then be initialised again. */
void rt_pool_free(rt_pool *p);
/* Calls fn(arg, lo, hi) exactly once for every chunk of [0, n) (chunk > 0); returns when all are
** done. p may be NULL (serial). */
void rt_pool_for(rt_pool *p, size_t n, size_t chunk, rt_pool_fn fn, void *arg);

/* Work buffers for the chunks of a job: lanes 0..n-1, busy[i] 1 while a chunk holds lane i. A chunk
** takes a free lane (spinning while none is: there are at least as many lanes as threads, so a
** lane frees within a chunk's time) and gives it back with atomic_store(&busy[i], 0). */
int rt_pool_lane_take(atomic_int *busy, int n);

#endif
