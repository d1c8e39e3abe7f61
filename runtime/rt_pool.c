// rt_pool.c: persistent workers that run the fixed chunks of one loop at a time.
#if defined(__linux__)
#define _GNU_SOURCE             /* sched_getcpu, pthread_setaffinity_np, CPU_* */
#include <sched.h>
#endif
#include "rt_pool.h"

#include <stdlib.h>
#include <string.h>

// Takes chunks from the shared counter until none is left.
static void run_chunks(rt_pool *p) {
    for (;;) {
        size_t k = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (k >= p->nchunks) return;
        size_t lo = k * p->chunk, hi = lo + p->chunk < p->n ? lo + p->chunk : p->n;
        p->fn(p->arg, lo, hi);
    }
}

static void *worker_main(void *vp) {
    rt_pool *p = vp;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->job == seen && !p->quit) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->job;
        pthread_mutex_unlock(&p->mu);
        run_chunks(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

// Keeps the workers off the caller's CPU (Linux). A woken thread is queued on the waker's CPU
// when every other CPU looks busy, and between GEMMs OpenBLAS's idle workers spin (sched_yield)
// on the other CPUs: so without this the worker waits until the caller has done every chunk
// and sleeps (measured: 0.2-0.5 ms of a 0.4-1 ms job). The mask changes only when the caller
// has moved, so the steady state makes no system call.
static void keep_off_caller_cpu(rt_pool *p) {
#if defined(__linux__)
    int cpu = sched_getcpu();
    if (cpu < 0 || cpu == p->caller_cpu) return;
    p->caller_cpu = cpu;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return;
    CPU_CLR(cpu, &set);
    if (CPU_COUNT(&set) == 0) return;
    for (int i = 0; i < p->threads - 1; i++) pthread_setaffinity_np(p->workers[i], sizeof set, &set);
#else
    RT_UNUSED(p);
#endif
}

void rt_pool_init(rt_pool *p, int threads) {
    memset(p, 0, sizeof *p);
    p->caller_cpu = -1;
    p->threads = threads > 1 ? threads : 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (p->threads == 1) return;
    p->workers = rt_xmalloc((size_t)(p->threads - 1) * sizeof *p->workers);
    for (int i = 0; i < p->threads - 1; i++)
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0)
            RT_ABORT("rt_pool_init: cannot start worker %d of %d", i + 1, p->threads - 1);
}

void rt_pool_free(rt_pool *p) {
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->threads - 1; i++) pthread_join(p->workers[i], NULL);
    free(p->workers);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    memset(p, 0, sizeof *p);
}

void rt_pool_for(rt_pool *p, size_t n, size_t chunk, rt_pool_fn fn, void *arg) {
    RT_ASSERT(chunk > 0);
    size_t nchunks = n / chunk + (n % chunk != 0);
    if (!p || p->threads <= 1 || nchunks <= 1) {
        for (size_t lo = 0; lo < n; lo += chunk) fn(arg, lo, n - lo < chunk ? n : lo + chunk);
        return;
    }
    keep_off_caller_cpu(p);
    pthread_mutex_lock(&p->mu);
    RT_ASSERT(p->busy == 0 && "rt_pool_for is not reentrant");
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->chunk = chunk;
    p->nchunks = nchunks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    p->busy = p->threads - 1;
    p->job++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    run_chunks(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
