// rt_arena.c: chunked bump allocator; reset coalesces chunks so steady state never mallocs.
#include "rt_arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RT_ARENA_ALIGN 64

struct rt_arena_chunk {
    rt_arena_chunk *next;
    size_t size, off;
    unsigned char *base;    /* aligned start of the usable bytes */
};

static rt_arena_chunk *chunk_new(size_t size) {
    size = (size + RT_ARENA_ALIGN - 1) & ~(size_t)(RT_ARENA_ALIGN - 1);
    rt_arena_chunk *c = rt_xmalloc(sizeof *c);
    void *mem = NULL;
    if (posix_memalign(&mem, RT_ARENA_ALIGN, size ? size : RT_ARENA_ALIGN) != 0)
        RT_ABORT("out of memory: arena chunk of %zu bytes", size);
    c->base = mem;
    c->size = size;
    c->off = 0;
    c->next = NULL;
    return c;
}

static void chunks_free(rt_arena_chunk *c) {
    while (c) {
        rt_arena_chunk *n = c->next;
        free(c->base);
        free(c);
        c = n;
    }
}

void rt_arena_init(rt_arena *a, size_t initial_bytes) {
    memset(a, 0, sizeof *a);
    a->min_chunk = initial_bytes < 4096 ? 4096 : initial_bytes;
    a->head = chunk_new(a->min_chunk);
    a->mallocs = 1;
}

void rt_arena_free(rt_arena *a) {
    chunks_free(a->head);
    memset(a, 0, sizeof *a);
}

void *rt_arena_alloc_raw(rt_arena *a, size_t bytes) {
    size_t need = (bytes + RT_ARENA_ALIGN - 1) & ~(size_t)(RT_ARENA_ALIGN - 1);
    if (need == 0) need = RT_ARENA_ALIGN;
    rt_arena_chunk *c = a->head;
    if (c->off + need > c->size) {
        size_t size = c->size * 2;
        if (size < need) size = need;
        rt_arena_chunk *n = chunk_new(size);
        n->next = c;
        a->head = c = n;
        a->mallocs++;
    }
    void *p = c->base + c->off;
    c->off += need;
    a->used += need;
    if (a->used > a->peak) a->peak = a->used;
    return p;
}

void *rt_arena_alloc(rt_arena *a, size_t bytes) {
    void *p = rt_arena_alloc_raw(a, bytes);
    memset(p, 0, bytes);
    return p;
}

char *rt_arena_strdup(rt_arena *a, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = rt_arena_alloc_raw(a, n);
    memcpy(d, s, n);
    return d;
}

void rt_arena_reset(rt_arena *a) {
    if (a->head->next) {
        /* Several chunks were needed: replace them by one that holds the peak. */
        size_t total = a->peak > a->min_chunk ? a->peak : a->min_chunk;
        chunks_free(a->head);
        a->head = chunk_new(total + total / 8);
        a->mallocs++;
    }
    a->head->off = 0;
    a->used = 0;
}

rt_arena_mark rt_arena_get_mark(const rt_arena *a) {
    rt_arena_mark m = { a->head, a->head->off, a->used };
    return m;
}

void rt_arena_rollback(rt_arena *a, rt_arena_mark m) {
    while (a->head != m.chunk) {
        rt_arena_chunk *c = a->head;
        RT_ASSERT(c->next != NULL);     /* the mark must belong to this arena */
        a->head = c->next;
        free(c->base);
        free(c);
    }
    a->head->off = m.off;
    a->used = m.used;
}

double rt_memory_budget(void) {
    const char *env = getenv("VIB_MEMORY");
    if (env && *env) {
        char *end;
        double mib = strtod(env, &end);
        if (end != env && *end == 0 && mib > 0) return mib * 1048576.0;
    }
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        double kib = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %lf kB", &kib) == 1) break;
        fclose(f);
        if (kib > 0) return kib * 1024.0;
    }
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0.0;
}
