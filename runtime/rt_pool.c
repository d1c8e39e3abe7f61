// rt_pool.c: persistent workers that run the fixed chunks of one loop at a time.
#if defined(__linux__)
#define _GNU_SOURCE             /* sched_getcpu, pthread_setaffinity_np, CPU_* */
#endif
#include "rt_pool.h"

#include <sched.h>

#include <stdlib.h>
#include <string.h>

// Set while a thread runs chunks, so that an rt_pool_for inside a chunk runs serially.
static _Thread_local bool in_job;

bool rt_pool_in_job(void) { return in_job; }

// Takes chunks from the shared counter until none is left.
static void run_chunks(rt_pool *p) {
    in_job = true;
    for (;;) {
        size_t k = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (k >= p->nchunks) break;
        size_t lo = k * p->chunk, hi = lo + p->chunk < p->n ? lo + p->chunk : p->n;
        p->fn(p->arg, lo, hi);
    }
    in_job = false;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// Waits for a job newer than seen, spinning first, then sleeping; returns false on shutdown.
// The sleep is race-free because the worker counts itself in sleepers (seq_cst) before it looks
// at job again under the mutex, and rt_pool_for bumps job (seq_cst) before it reads sleepers:
// either the caller sees the sleeper and signals under the mutex, or the worker sees the job.
static bool wait_job(rt_pool *p, uint64_t seen) {
    double until = 0.0;
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&p->job, memory_order_acquire) != seen) return true;
        if (atomic_load_explicit(&p->quit, memory_order_relaxed)) return false;
        cpu_relax();
        if ((i & 255) == 0) {           /* every few microseconds: the clock, and the CPU to any */
            double now = rt_now_s();    /* thread waiting for it (more threads than CPUs) */
            if (until == 0.0) until = now + RT_POOL_SPIN_US * 1e-6;
            else if (now > until) break;
            sched_yield();
        }
    }
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    while (atomic_load(&p->job) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->wake, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return !atomic_load(&p->quit);
}

static void *worker_main(void *vp) {
    rt_pool *p = vp;
    uint64_t seen = 0;
    while (wait_job(p, seen)) {
        seen = atomic_load_explicit(&p->job, memory_order_acquire);
        run_chunks(p);
        atomic_fetch_sub_explicit(&p->busy, 1, memory_order_release);
    }
    return NULL;
}

// Keeps the workers off the caller's CPU (Linux). A woken thread is queued on the waker's CPU
// when every other CPU looks busy (as they did when OpenBLAS's own idle workers spun there
// between GEMMs): without this the worker waited until the caller had done every chunk (measured
// then: 0.2-0.5 ms of a 0.4-1 ms job). The mask changes only when the caller has moved, so the
// steady state makes no system call.
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
    if (p->threads == 1) return;
    p->workers = rt_xmalloc((size_t)(p->threads - 1) * sizeof *p->workers);
    for (int i = 0; i < p->threads - 1; i++)
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0)
            RT_ABORT("rt_pool_init: cannot start worker %d of %d", i + 1, p->threads - 1);
}

void rt_pool_free(rt_pool *p) {
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->threads - 1; i++) pthread_join(p->workers[i], NULL);
    free(p->workers);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    memset(p, 0, sizeof *p);
}

void rt_pool_for(rt_pool *p, size_t n, size_t chunk, rt_pool_fn fn, void *arg) {
    RT_ASSERT(chunk > 0);
    size_t nchunks = n / chunk + (n % chunk != 0);
    if (!p || p->threads <= 1 || nchunks <= 1 || in_job) {
        for (size_t lo = 0; lo < n; lo += chunk) fn(arg, lo, n - lo < chunk ? n : lo + chunk);
        return;
    }
    keep_off_caller_cpu(p);
    RT_ASSERT(atomic_load(&p->busy) == 0 && "rt_pool_for: one caller at a time");
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->chunk = chunk;
    p->nchunks = nchunks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->busy, p->threads - 1, memory_order_relaxed);
    atomic_fetch_add(&p->job, 1);           /* seq_cst: publishes the job (see wait_job) */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    run_chunks(p);
    // The workers are on their last chunks or waking up; yield now and then in case one is
    // waiting for this CPU (more threads than CPUs).
    for (unsigned i = 1; atomic_load_explicit(&p->busy, memory_order_acquire) > 0; i++) {
        cpu_relax();
        if ((i & 1023) == 0) sched_yield();
    }
}

int rt_pool_lane_take(atomic_int *busy, int n) {
    for (;;)
        for (int i = 0; i < n; i++) {
            int free_ = 0;
            if (atomic_compare_exchange_strong(&busy[i], &free_, 1)) return i;
        }
}
