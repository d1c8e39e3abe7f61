/*
** nn_mi_check.h: tasks with known mutual information at a layer's own size, to tell how far an
** estimator is off where an experiment uses it.
**
** tests/test_mi.c validates every estimator on small tasks. How far one is off on a real layer
** depends on the number of rows N, the width d and the information itself: KSG's bias grows with
** the dimension, the pairwise KL bound overshoots when components overlap in many dimensions, a
** plug-in entropy saturates towards log2 N. nn_mi_check_run draws a task whose I(X;T) and I(T;Y)
** are known, at the given N and d, runs one estimator on it with the given settings, and returns
** the truth beside the estimate. Two tasks:
**
**   linear Gaussian (kde_det, kde_gauss, kde_gauss_full, ksg). X ~ N(0, I_dx); unit k < d of the layer is
**     h_k = c_j X_j with j = k mod dx, so input coordinate j < m = min(dx, d) feeds r_j units.
**     The noise the estimator assumes makes T: kde_det adds N(0, sigma2 I), kde_gauss is given
**     sigma = 1 in every unit (kde_gauss_full: L = I), ksg gets one sample T = h + N(0, I). Then
**       I(X;T) = sum_j 1/2 log2(1 + r_j c_j^2 / s2)      (s2 = sigma2, or 1)
**     = `bits`: X_0 carries half of them (all when m = 1), the other coordinates share the rest
**     with one gain. Y is X_0's quantile bin among `classes` equiprobable bins; the r_0 units that
**     carry X_0 average to the channel c_0 X_0 + N(0, s2 / r_0) and the others are independent
**     of Y, so I(T;Y) is that channel's (nn_mi_check_channel_ity): a sizeable part of
**     log2(classes) at every width, as in a layer that has learnt its labels.
**   codewords (binning, plugin, kde_bern). M = round(2^bits) patterns (capped by what d units can
**     show), each row one of them drawn uniformly; every row is a distinct input and T a function
**     of it, so I(X;T) = log2 M. Binning: the digits of the pattern's number in base `bins` (30
**     with a bin size), a bin centre each, and a fixed bin in the remaining units. Bernoulli: the
**     pattern's bits with p in {0, 1}, then up to 4 units firing with p = 1/4 whatever the input
**     (so H(T|X) > 0 and I(X;T) is unchanged), the rest fixed. Y = pattern number mod classes:
**     I(T;Y) = H(Y) over the M patterns.
**
** The pairwise KDE bounds bracket the entropy of the N-component mixture the rows define; the
** truth here is the population's, so their error also holds the gap between the two at this N,
** which is what a reader of a plane at this N needs to know.
*/
#ifndef NN_MI_CHECK_H
#define NN_MI_CHECK_H

#include "nn_mi.h"

typedef enum nn_mi_check_est {
    NN_MI_CHECK_KDE_DET = 0,    /* nn_mi_kde_det with sigma2 */
    NN_MI_CHECK_KDE_GAUSS,      /* nn_mi_kde_gauss */
    NN_MI_CHECK_KDE_GAUSS_FULL, /* nn_mi_kde_gauss_full */
    NN_MI_CHECK_KDE_BERN,       /* nn_mi_kde_bern */
    NN_MI_CHECK_BINNING,        /* nn_mi_bin with bin */
    NN_MI_CHECK_PLUGIN,         /* nn_mi_bern_plugin with samples */
    NN_MI_CHECK_KSG,            /* nn_mi_ksg (input, T) and nn_mi_ksg_labels (T, Y) with k */
    NN_MI_CHECK_COUNT
} nn_mi_check_est;

typedef struct nn_mi_check_task {
    nn_mi_check_est est;
    int n, d;                   /* rows, layer width */
    int dx;                     /* ksg: the input's width (others: unused) */
    int classes;                /* labels, >= 2 */
    double bits;                /* the I(X;T) the task is built for, >= 0 */
    double sigma2;              /* kde_det: the declared noise variance */
    nn_mi_bin_opts bin;         /* binning */
    int k;                      /* ksg neighbours */
    int samples;                /* plugin: patterns per row */
} nn_mi_check_task;

typedef struct nn_mi_check {
    const char *task;           /* "linear_gauss" or "codewords" */
    double true_ixt, true_ity;  /* the task's, bits */
    double ixt, ity;            /* the estimator's (kde: its upper bound's) */
    double ixt_lower, ity_lower;/* kde: its lower bound's; NAN for the others */
    double seconds;             /* the estimator's wall time */
} nn_mi_check;

/* Draws the task from r and runs its estimator. Errors: the estimator's, RT_ERR_ARG for a task
** that does not fit (n < 2, classes < 2, bits < 0, a ksg input over 2^28 values), RT_ERR_NOMEM. */
rt_status nn_mi_check_run(const nn_mi_check_task *t, rt_rng *r, nn_mi_check *out, rt_err *err);

/* I(Y; c X + N(0, v)) in bits, X ~ N(0, 1), Y its quantile bin among `classes` equiprobable
** bins; by quadrature (Simpson, step fine enough for the narrowest posterior). c2 = c^2. */
double nn_mi_check_channel_ity(double c2, double v, int classes);

#endif
