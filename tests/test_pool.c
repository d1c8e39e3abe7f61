// test_pool.c: the thread pool runs every fixed chunk exactly once, whatever its thread count.
#include <criterion/criterion.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "rt_pool.h"

typedef struct count_job {
    size_t chunk, n;
    atomic_int *runs;           /* (nchunks) calls per chunk */
    atomic_int bad;             /* calls whose bounds were not the fixed chunk boundaries */
} count_job;

static void count_chunk(void *arg, size_t lo, size_t hi) {
    count_job *j = arg;
    size_t k = lo / j->chunk, want_hi = lo + j->chunk < j->n ? lo + j->chunk : j->n;
    if (lo % j->chunk != 0 || hi != want_hi || lo >= hi) {
        atomic_fetch_add(&j->bad, 1);
        return;
    }
    atomic_fetch_add(&j->runs[k], 1);
}

// Runs one job of n elements in chunks of chunk on p and checks each chunk ran once.
static void check_once(rt_pool *p, size_t n, size_t chunk) {
    size_t nchunks = (n + chunk - 1) / chunk;
    count_job j = { chunk, n, calloc(nchunks + 1, sizeof(atomic_int)), 0 };
    rt_pool_for(p, n, chunk, count_chunk, &j);
    cr_assert_eq(atomic_load(&j.bad), 0, "n %zu chunk %zu: a chunk had wrong bounds", n, chunk);
    for (size_t k = 0; k < nchunks; k++)
        cr_assert_eq(atomic_load(&j.runs[k]), 1, "n %zu chunk %zu: chunk %zu ran %d times", n, chunk,
                     k, atomic_load(&j.runs[k]));
    free(j.runs);
}

Test(pool, every_chunk_runs_exactly_once, .timeout = 60) {
    const size_t sizes[][2] = { { 0, 4 }, { 1, 4 }, { 3, 4 }, { 4, 4 }, { 5, 4 }, { 1000, 7 },
                                { 1 << 16, 1 << 10 }, { 100003, 128 } };
    check_once(NULL, 1000, 7);
    for (int threads = 1; threads <= 4; threads++) {
        rt_pool p;
        rt_pool_init(&p, threads);
        cr_assert_eq(p.threads, threads);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) check_once(&p, sizes[i][0], sizes[i][1]);
        rt_pool_free(&p);
    }
}

Test(pool, many_jobs_in_a_row, .timeout = 60) {
    rt_pool p;
    rt_pool_init(&p, 3);
    for (int i = 0; i < 2000; i++) check_once(&p, 64 + (size_t)(i % 50), 8);
    rt_pool_free(&p);
}

typedef struct fill_job { double *x; } fill_job;

static void fill_chunk(void *arg, size_t lo, size_t hi) {
    fill_job *j = arg;
    for (size_t i = lo; i < hi; i++) j->x[i] = (double)i * 0.5 + 1.0;
}

Test(pool, writes_every_element_with_any_thread_count, .timeout = 60) {
    enum { n = 50001 };
    double *x = calloc(n, sizeof *x);
    for (int threads = 0; threads <= 3; threads++) {   // 0: counts as 1
        rt_pool p;
        rt_pool_init(&p, threads);
        for (size_t i = 0; i < n; i++) x[i] = -1.0;
        fill_job j = { x };
        rt_pool_for(&p, n, 1000, fill_chunk, &j);
        for (size_t i = 0; i < n; i++) cr_assert(x[i] == (double)i * 0.5 + 1.0, "x[%zu] = %g", i, x[i]);
        rt_pool_free(&p);
    }
    free(x);
}

Test(pool, zero_chunk_aborts, .signal = SIGABRT) {
    rt_pool_for(NULL, 10, 0, fill_chunk, NULL);
}

static void pause_ms(int ms) {
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

// Workers stop spinning after RT_POOL_SPIN_US and sleep: jobs that come after longer gaps must
// wake them (a lost wake-up would hang here, hence the timeout), and freeing a pool whose workers
// sleep, or spin, must join them.
Test(pool, wakes_sleeping_workers_and_frees_them, .timeout = 60) {
    for (int threads = 2; threads <= 3; threads++) {
        rt_pool p;
        rt_pool_init(&p, threads);
        for (int i = 0; i < 20; i++) {
            pause_ms(i % 2 ? 2 : 0);    /* past the spin, or straight after the last job */
            check_once(&p, 1000 + (size_t)i, 16);
        }
        pause_ms(threads == 2 ? 3 : 0);  /* freed while asleep, or while spinning */
        rt_pool_free(&p);
    }
}

typedef struct nest_job { rt_pool *p; atomic_int inner; } nest_job;

static void inner_chunk(void *arg, size_t lo, size_t hi) {
    nest_job *j = arg;
    atomic_fetch_add(&j->inner, (int)(hi - lo));
}

static void outer_chunk(void *arg, size_t lo, size_t hi) {
    nest_job *j = arg;
    cr_expect(rt_pool_in_job());
    for (size_t k = lo; k < hi; k++) rt_pool_for(j->p, 100, 7, inner_chunk, j);   /* runs serially */
}

Test(pool, a_job_inside_a_job_runs_on_the_calling_thread, .timeout = 60) {
    rt_pool p;
    rt_pool_init(&p, 2);
    nest_job j = { &p, 0 };
    cr_expect(!rt_pool_in_job());
    rt_pool_for(&p, 8, 1, outer_chunk, &j);
    cr_expect_eq(atomic_load(&j.inner), 8 * 100);
    cr_expect(!rt_pool_in_job());
    rt_pool_free(&p);
}
