/*
** nn_mi.h: mutual-information estimators for information planes, on plain arrays.
**
** Every estimator reads activations as a row-major float array (N rows, one per example, by d
** columns) plus optional int32 labels y (any values; classes are the distinct values) and
** optional int32 input-pattern ids x_id (rows with the same id came from the same input). No
** tape, no arena: results are plain numbers, ALWAYS IN BITS, each with the side of the bound it is
** (upper, lower, or a plain estimate) and the wall time it took.
**
**   pairwise-distance mixture bounds (Kolchinsky & Tracey 2017; Saxe et al. 2018), p(t) is the
**   mixture (1/N) sum_i p_i with one component per row:
**     nn_mi_kde_det    deterministic layer T = h(X) + N(0, sigma2 I) with declared noise sigma2
**     nn_mi_kde_gauss  Gaussian layer, component i = N(mu_i, diag(sigma_i^2))
**     nn_mi_kde_gauss_full  Gaussian layer with full covariances, component i = N(mu_i, L_i L_i^T)
**     nn_mi_kde_bern   Bernoulli layer, component i = prod_k Bernoulli(p_ik)
**     H_D(T) = mean_i H(p_i) - mean_i ln( (1/N) sum_j exp(-D(p_i || p_j)) ), D = KL gives an
**     upper bound, D = Bhattacharyya a lower bound; I(X;T) = H_D(T) - mean_i H(p_i);
**     I(T;Y) = H_D(T) - sum_y p(y) H_D(T | Y=y), the same estimator on the rows of class y.
**   binning (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018), plug-in entropies of binned patterns:
**     nn_mi_bin        fixed bin count over [lo, hi] (30 over [-1, 1]) or fixed bin size (0.07)
**     nn_mi_bern_plugin  binary patterns of a Bernoulli layer, thresholded or sampled
**   k nearest neighbours, max-norm, brute force O(N^2 d):
**     nn_mi_ksg        Kraskov-Stoegbauer-Grassberger algorithm 1, I(A;B), A and B continuous
**     nn_mi_ksg_labels Ross (2014) mixed estimator, I(T;Y) for discrete Y
**     nn_mi_kl_entropy Kozachenko-Leonenko differential entropy H(T)
**
** The side of I(T;Y) is always "estimate": it is a difference of two bounds of the same kind.
**
**     nn_mi_kde kde;  rt_err err = {0};
**     if (nn_mi_kde_det(h, n, 256, 0.1, y, NULL, &kde, &err) != RT_OK) puts(err.msg);
**     printf("I(X;T) in [%.3f, %.3f] bits, I(T;Y) ~ %.3f bits, %.2f s\n",
**            kde.lower.ixt, kde.upper.ixt, kde.upper.ity, kde.seconds);
**     nn_mi_disc b;  nn_mi_bin_opts o = nn_mi_bin_opts_default();     // 30 bins over [-1, 1]
**     nn_mi_bin(h, n, 256, NULL, y, &o, &b, &err);      // b.est.ixt, b.est.ity, b.clipped_frac
**
** Failure: user or data errors (bad sizes, non-finite values, sigma <= 0, p outside [0, 1], k too
** large) return RT_ERR_ARG or RT_ERR_NUMERIC with a message; an allocation that fails returns
** RT_ERR_NOMEM; NULL pointers where arrays are required are programmer errors (RT_ASSERT).
*/
#ifndef NN_MI_H
#define NN_MI_H

#include "rt_err.h"
#include "rt_rng.h"

typedef enum nn_mi_side {
    NN_MI_ESTIMATE = 0,         /* a point estimate, no guaranteed direction */
    NN_MI_UPPER,                /* an upper bound on the true value (of the model's mixture) */
    NN_MI_LOWER,                /* a lower bound */
    NN_MI_SIDE_COUNT
} nn_mi_side;

const char *nn_mi_side_name(nn_mi_side s);          /* "estimate", "upper", "lower" */

/* One information plane point from one estimator. Bits. ity is NAN when no labels were given. */
typedef struct nn_mi_plane {
    double h_t;                 /* H(T); differential (may be negative) for continuous layers */
    double h_t_x;               /* H(T|X) */
    double ixt;                 /* I(X;T) = h_t - h_t_x */
    double ity;                 /* I(T;Y) = H(T) - sum_y p(y) H(T|Y=y) */
    nn_mi_side side_h;          /* side of h_t and ixt */
    nn_mi_side side_ity;        /* side of ity (always NN_MI_ESTIMATE) */
} nn_mi_plane;

/* A single quantity (KSG, Ross, Kozachenko-Leonenko). */
typedef struct nn_mi_value {
    double bits;
    nn_mi_side side;
    double seconds;             /* wall time of the call */
} nn_mi_value;

// ---- pairwise-distance mixture bounds ----

typedef struct nn_mi_kde_opts {
    int block;                  /* rows per block of the O(N^2) pass; 0 = 256 */
    bool no_refine;             /* skip the double-precision recomputation of close pairs (tests);
                                ** nn_mi_kde_det only: the other kinds compute every pair in double */
} nn_mi_kde_opts;

typedef struct nn_mi_kde {
    nn_mi_plane upper;          /* D = KL: h_t, ixt are upper bounds */
    nn_mi_plane lower;          /* D = Bhattacharyya: h_t, ixt are lower bounds */
    int n, classes;             /* rows, distinct labels (0 without labels) */
    int64_t refined;            /* pairs whose GEMM divergence was recomputed in double (det; else 0) */
    double seconds;
} nn_mi_kde;

/* h: (n, d) activations of a deterministic layer, T = h + N(0, sigma2 I). y: (n) labels or NULL.
** o may be NULL (defaults). Components share H(p_i) = d/2 ln(2 pi e sigma2), so ixt does not
** depend on d except through the distances. */
rt_status nn_mi_kde_det(const float *h, int n, int d, double sigma2, const int32_t *y,
                        const nn_mi_kde_opts *o, nn_mi_kde *out, rt_err *err);
/* mu, sigma: (n, d) mean and standard deviation (> 0) of each row's diagonal Gaussian. */
rt_status nn_mi_kde_gauss(const float *mu, const float *sigma, int n, int d, const int32_t *y,
                          const nn_mi_kde_opts *o, nn_mi_kde *out, rt_err *err);
/* mu: (n, d); L: (n, d(d+1)/2) each row's Cholesky factor of its covariance Sigma_i = L_i L_i^T,
** lower-triangular packed by rows (L[r(r+1)/2 + c], c <= r) with a positive diagonal: the
** full-covariance Gaussian layer's parameters. The Bhattacharyya bound factors a d x d matrix per
** pair: for the small d of such layers, at most NN_MI_FULL_MAX_D. */
#define NN_MI_FULL_MAX_D 32
rt_status nn_mi_kde_gauss_full(const float *mu, const float *L, int n, int d, const int32_t *y,
                               const nn_mi_kde_opts *o, nn_mi_kde *out, rt_err *err);
/* p: (n, d) firing probabilities in [0, 1], clamped to [NN_MI_P_EPS, 1 - NN_MI_P_EPS] (a sigmoid
** saturates to exactly 1.0f in float). H(T) is a discrete entropy here, at most d bits. */
#define NN_MI_P_EPS 1e-6
rt_status nn_mi_kde_bern(const float *p, int n, int d, const int32_t *y, const nn_mi_kde_opts *o,
                         nn_mi_kde *out, rt_err *err);

// ---- plug-in entropies of discrete patterns ----

typedef struct nn_mi_disc {
    nn_mi_plane est;            /* plug-in H(T), H(T|X), I(X;T), I(T;Y): estimates */
    int64_t rows;               /* patterns counted (n, or n * samples) */
    int64_t patterns;           /* distinct patterns of T */
    int64_t clipped;            /* activations outside [lo, hi] (binning with a bin count) */
    double clipped_frac;        /* clipped / (n d): warn the user when this is not small */
    double seconds;
} nn_mi_disc;

typedef struct nn_mi_bin_opts {
    int bins;                   /* fixed count: bin = floor((a - lo) / (hi - lo) * bins), clamped */
    float lo, hi;
    float bin_size;             /* > 0: Saxe et al., bin = floor(a / bin_size), no range, no clip */
} nn_mi_bin_opts;

/* 30 bins over [-1, 1] (Shwartz-Ziv & Tishby's default); bin_size 0. Saxe's: bin_size = 0.07f. */
nn_mi_bin_opts nn_mi_bin_opts_default(void);

/* t: (n, d). x_id: (n) input-pattern ids or NULL (then every row is a distinct input and
** H(T|X) = 0, so I(X;T) = H(T)). y: (n) labels or NULL (ity = NAN). */
rt_status nn_mi_bin(const float *t, int n, int d, const int32_t *x_id, const int32_t *y,
                    const nn_mi_bin_opts *o, nn_mi_disc *out, rt_err *err);

/* p: (n, d) Bernoulli probabilities in [0, 1]. rng NULL: one pattern per row, bit = p > 0.5.
** Otherwise `samples` patterns per row, bit = (u < p), u uniform from rng; each sample keeps its
** row's x_id (or the row index) and label, so H(T|X) is the plug-in entropy of the samples. */
rt_status nn_mi_bern_plugin(const float *p, int n, int d, const int32_t *x_id, const int32_t *y,
                            rt_rng *rng, int samples, nn_mi_disc *out, rt_err *err);

// ---- k nearest neighbours (max-norm, brute force O(N^2 d), O(N) memory) ----
// nn_mi_ksg first divides a and b each by one factor, its columns' root mean variance: the joint
// max-norm compares a's distances with b's, and a layer on another scale than its input would
// otherwise dominate every neighbourhood. (Ross's estimator has one space; a scale changes nothing.)

/* a: (n, da), b: (n, db). KSG algorithm 1: I = psi(k) + psi(N) - < psi(n_a + 1) + psi(n_b + 1) >,
** with eps_i the joint max-norm distance to the k-th neighbour and n_a, n_b the points strictly
** within eps_i in each marginal. 1 <= k < n. */
rt_status nn_mi_ksg(const float *a, int da, const float *b, int db, int n, int k,
                    nn_mi_value *out, rt_err *err);
/* t: (n, d), y: (n) labels. Ross (2014): per row, r_i = distance to the k-th neighbour of the same
** class (k_i = min(k, N_y - 1)), m_i = 1 + #{j != i: |t_i - t_j| < r_i};
** I = psi(N) + <psi(k_i)> - <psi(N_y)> - <psi(m_i)>. Rows alone in their class are dropped first,
** from N, the averages and the counts m_i alike (as scikit-learn's mutual_info_classif): the
** estimate is that of the data without them. */
rt_status nn_mi_ksg_labels(const float *t, int n, int d, const int32_t *y, int k,
                           nn_mi_value *out, rt_err *err);
/* x: (n, d). Kozachenko-Leonenko: H = psi(N) - psi(k) + d ln 2 + (d/N) sum_i ln r_i, r_i the
** max-norm distance to the k-th neighbour (a ball of radius r has volume (2r)^d). Duplicate
** rows (r_i = 0) are an RT_ERR_NUMERIC: add noise or raise k. */
rt_status nn_mi_kl_entropy(const float *x, int n, int d, int k, nn_mi_value *out, rt_err *err);

/* The digamma function for x > 0 (recurrence to x >= 10, then the asymptotic series); asserts. */
double nn_mi_digamma(double x);

#endif
