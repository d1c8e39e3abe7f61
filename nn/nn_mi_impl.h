/*
** nn_mi_impl.h: helpers shared by the nn_mi_*.c files; not part of the public API.
*/
#ifndef NN_MI_IMPL_H
#define NN_MI_IMPL_H

#include <string.h>

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

/* exp(-x) for x >= 0 without a call or an integer conversion, so that loops over it vectorize
** (gcc 12 does with AVX-512): Cody-Waite reduction x = n ln 2 - r, |r| <= ln 2 / 2, with n
** rounded by the 1.5 2^52 shift, whose low bits then hold n; the degree-13 Taylor polynomial of
** e^r (truncation below 5e-18 relative); 2^-n written into the exponent bits. Within a few ulp
** of exp(-x) (tests/test_mi.c checks 2^-50 relative); 0 for x >= 708, where exp(-x) is below
** 3.3e-308 and, next to the self term 1 of a KDE row sum, changes nothing. */
static inline double nn_mi_exp_neg(double x) {
    double xc = x < 708.0 ? x : 708.0;
    double t = xc * 1.4426950408889634 + 0x1.8p52, n = t - 0x1.8p52;
    double r = (n * 6.93147180369123816490e-01 - xc) + n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t tb, sb;
    double s;
    memcpy(&tb, &t, sizeof tb);
    sb = ((uint64_t)1023 << 52) - (tb << 52);   /* (1023 - n) << 52: the shift drops t's high bits */
    memcpy(&s, &sb, sizeof s);
    return x < 708.0 ? p * s : 0.0;
}

#endif
