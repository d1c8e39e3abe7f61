// rt_err.c: error buffer and the abort path.
#include "rt_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void rt_abort(const char *file, int line, const char *fmt, ...) {
    fflush(stdout);
    fprintf(stderr, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void *rt_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) RT_ABORT("out of memory allocating %zu bytes", n);
    return p;
}

void *rt_xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) RT_ABORT("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

double rt_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

float *rt_xfloats(size_t n) {
    size_t bytes = n * sizeof(float);
    RT_ASSERT(n == 0 || bytes / n == sizeof(float));
    bytes = (bytes + 63) & ~(size_t)63;
    if (bytes == 0) bytes = 64;
    float *p = aligned_alloc(64, bytes);
    if (!p) RT_ABORT("out of memory allocating %zu bytes", bytes);
    memset(p, 0, bytes);
    return p;
}

char *rt_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = rt_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

rt_status rt_err_set(rt_err *err, rt_status status, const char *fmt, ...) {
    if (!err || err->status != RT_OK) return status;
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return status;
}

void rt_err_prefix(rt_err *err, const char *fmt, ...) {
    if (!err || err->status == RT_OK) return;
    char head[RT_ERR_MAX], old[RT_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t h = strlen(head);
    if (h >= sizeof err->msg) h = sizeof err->msg - 1;
    memcpy(err->msg, head, h);
    size_t rest = strlen(old);
    if (rest > sizeof err->msg - 1 - h) rest = sizeof err->msg - 1 - h;
    memcpy(err->msg + h, old, rest);
    err->msg[h + rest] = '\0';
}

void rt_err_clear(rt_err *err) {
    err->status = RT_OK;
    err->msg[0] = '\0';
}

const char *rt_status_name(rt_status s) {
    switch (s) {
    case RT_OK: return "ok";
    case RT_ERR_ARG: return "bad argument";
    case RT_ERR_IO: return "i/o error";
    case RT_ERR_FORMAT: return "bad format";
    case RT_ERR_NOMEM: return "out of memory";
    case RT_ERR_NUMERIC: return "non-finite value";
    case RT_ERR_INTERRUPT: return "interrupted";
    }
    return "unknown";
}
