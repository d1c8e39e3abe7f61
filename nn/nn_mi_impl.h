/*
** nn_mi_impl.h: helpers shared by the nn_mi_*.c files; not part of the public API.
*/
#ifndef NN_MI_IMPL_H
#define NN_MI_IMPL_H

#include "nn_mi.h"

#define NN_MI_LN2 0.69314718055994530942

/* Dense ids for the distinct rows of keys (n, width) of 32-bit words: ids[r] in [0, *count), in
** order of first appearance. A hash table (open addressing) whose entries are compared word by
** word, so two patterns with the same hash are never merged. RT_ERR_NOMEM on allocation failure. */
rt_status nn_mi_pattern_ids(const uint32_t *keys, size_t n, int width, int32_t *ids,
                            int64_t *count, rt_err *err);

/* Plug-in entropy in bits of dense ids[0..n) in [0, count). */
double nn_mi_plugin_bits(const int32_t *ids, size_t n, int64_t count);

/* Plug-in H(T), H(T|X), I(X;T), I(T;Y) from dense pattern ids t (n); x_id and y (n) may be NULL.
** Joint entropies go through nn_mi_pattern_ids on (t, x) and (t, y) pairs. */
rt_status nn_mi_plugin_plane(const int32_t *t, size_t n, int64_t count, const int32_t *x_id,
                             const int32_t *y, nn_mi_plane *out, rt_err *err);

/* Label check shared by the estimators: a NULL y gives *nclass = 0. Dense class ids into cls (n). */
rt_status nn_mi_classes(const int32_t *y, int n, int32_t *cls, int *nclass, rt_err *err);

/* malloc that reports failure through err (what names the buffer). */
void *nn_mi_alloc(size_t bytes, const char *what, rt_err *err);

#endif
