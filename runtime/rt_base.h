/*
** rt_base.h: the few definitions every file of the runtime shares.
**
** Three error channels, never mixed (style.md R9):
**   - broken invariants (our own bugs): RT_ASSERT / RT_ABORT print file:line and abort(), in
**     every build, NDEBUG or not;
**   - user or data errors: functions return rt_status and write a message into an rt_err that the
**     caller owns; runtime/ and nn/ never print, exit or call into Lua;
**   - lua/ turns an rt_err into a Lua error that names the script line.
*/
#ifndef RT_BASE_H
#define RT_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define RT_MAX_DIMS 4

typedef enum rt_status {
    RT_OK = 0,
    RT_ERR_ARG,       /* a bad argument or configuration (shape mismatch, unknown name, ...) */
    RT_ERR_IO,        /* a file could not be opened, read or written */
    RT_ERR_FORMAT,    /* a file was read but its content is wrong (magic, size, ragged row) */
    RT_ERR_NOMEM,     /* an allocation failed */
    RT_ERR_NUMERIC,   /* a non-finite value where a finite one is required (diverged loss) */
    RT_ERR_INTERRUPT, /* the user asked to stop (SIGINT / SIGTERM) */
} rt_status;

/* Always on, like GGML_ASSERT: these guard our own invariants, not user input. */
#define RT_ASSERT(x) \
    do { if (!(x)) rt_abort(__FILE__, __LINE__, "assertion failed: %s", #x); } while (0)
#define RT_ABORT(...) rt_abort(__FILE__, __LINE__, __VA_ARGS__)
#define RT_UNUSED(x) ((void)(x))

#if defined(__GNUC__)
#define RT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define RT_NORETURN __attribute__((noreturn))
#else
#define RT_PRINTF(f, a)
#define RT_NORETURN
#endif

/* Hot elementwise loops (optimizer updates, EMA) get AVX2 and AVX-512 clones that the loader
** picks for the machine (GCC ifunc); the build targets generic x86-64 otherwise. The build is
** C11, in which gcc never contracts a*b + c into an FMA, so every clone rounds identically and
** results do not depend on which one runs. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(RT_NO_CLONES)
#define RT_SIMD_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define RT_SIMD_CLONES
#endif

/* Prints "file:line: message" to stderr, flushes stdout first, and calls abort(). */
RT_NORETURN void rt_abort(const char *file, int line, const char *fmt, ...) RT_PRINTF(3, 4);

/* Allocation that aborts on failure: for the few places outside a step where running out of
** memory can only be a fatal condition (model construction). Sizes are in bytes. */
void *rt_xmalloc(size_t n);
void *rt_xcalloc(size_t count, size_t size);
char *rt_xstrdup(const char *s);
/* Seconds on a monotonic clock, for durations (timing.csv, progress, benchmarks). */
double rt_now_s(void);
/* n floats, zero-filled, 64-byte aligned (at least one cache line, so n = 0 is fine); free(). */
float *rt_xfloats(size_t n);

#endif
