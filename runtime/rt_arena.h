/*
** rt_arena.h: bump allocation with two lifetimes (style.md R2).
**
** The model arena lives as long as the model (layer metadata, parameter registry); the step arena
** holds everything one training step makes (activations, the tape, gradients of activations,
** sampled noise) and is reset at the start of every step. Tensors are never freed one by one.
**
** An arena grows by chunks when it runs out. rt_arena_reset then replaces several chunks by one
** chunk as large as the high-water mark, so from the second step on a step arena allocates
** nothing: the first step measures, later steps reuse (ggml's gallocr_reserve, done lazily).
** Every allocation is 64-byte aligned and zero-filled (gradients accumulate with +=).
**
**     rt_arena a; rt_arena_init(&a, 1 << 20);
**     float *x = rt_arena_alloc(&a, n * sizeof(float));   // zeroed, never NULL
**     rt_arena_reset(&a);                                 // everything above is gone
**     rt_arena_free(&a);
*/
#ifndef RT_ARENA_H
#define RT_ARENA_H

#include "rt_base.h"

typedef struct rt_arena_chunk rt_arena_chunk;

typedef struct rt_arena {
    rt_arena_chunk *head;   /* the chunk being filled; older chunks follow ->next */
    size_t used;            /* bytes handed out since the last reset, all chunks */
    size_t peak;            /* high-water mark of `used` over the arena's life */
    size_t mallocs;         /* chunk allocations over the arena's life (a test asserts 0 growth) */
    size_t min_chunk;
} rt_arena;

/* A position to roll back to: everything allocated after the mark is released. */
typedef struct rt_arena_mark {
    rt_arena_chunk *chunk;
    size_t off, used;
} rt_arena_mark;

void rt_arena_init(rt_arena *a, size_t initial_bytes);
void rt_arena_free(rt_arena *a);
/* Zeroed, 64-byte aligned, never NULL (aborts when the OS refuses memory). */
void *rt_arena_alloc(rt_arena *a, size_t bytes);
/* Same, without zero-filling: for buffers the caller overwrites entirely. */
void *rt_arena_alloc_raw(rt_arena *a, size_t bytes);
char *rt_arena_strdup(rt_arena *a, const char *s);
void rt_arena_reset(rt_arena *a);
rt_arena_mark rt_arena_get_mark(const rt_arena *a);
void rt_arena_rollback(rt_arena *a, rt_arena_mark m);

/* The bytes this process may plan to use: $VIB_MEMORY (MiB) when set, else the kernel's
** MemAvailable (/proc/meminfo), else the physical memory; 0 when none is known (no check). Checked
** before a model's parameters are allocated and before training, so that a model too large fails
** with the size it needs instead of being killed by the kernel's OOM killer halfway. */
double rt_memory_budget(void);

#endif
