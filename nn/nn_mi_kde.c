// nn_mi_kde.c: pairwise-distance bounds on the entropy of a mixture (Kolchinsky & Tracey 2017),
// for deterministic layers with declared noise, diagonal- and full-covariance Gaussian layers and
// Bernoulli layers.
//
// One O(N^2 d) pass over blocks of rows (block x block pairs at a time, so memory stays O(N d +
// block^2) for any N) accumulates, for every row i, in double:
//     S_i  = sum_j       exp(-D(p_i || p_j))     S^y_i = sum_{j: y_j = y_i} exp(-D(p_i || p_j))
// for D = KL and D = Bhattacharyya. Every D is >= 0 and D(p_i || p_i) = 0 exactly, so the largest
// term of each row is the self term exp(0) = 1: the log-sum-exp is stable with the maximum known
// in advance, every term is in [0, 1] and every sum is in [1, N]. Each row's sums take j in
// ascending order, one block of columns at a time (a partial sum per block, added to the row's
// total), so the block size changes only rounding: the grouping of those additions and the
// GEMM's. Then, in nats, with Hc = mean_i H(p_i):
//     I(X;T) = H_D(T) - Hc = -mean_i ln(S_i / N)
//     I(T;Y) = H_D(T) - sum_y p(y) H_D(T|Y=y) = -mean_i ln(S_i / N) + mean_i ln(S^y_i / N_{y_i})
// (the component entropies cancel in I(T;Y) because p(y) = N_y / N).
//
// Deterministic layers (nn_mi_kde_det): the KL divergence goes through one GEMM per block,
// KL_ij = scale * (a_i + c_j + alpha A_i.B_j) with A = B = the centred rows, a = c = their squared
// norms, and BD = KL / 4. Written this way, close pairs lose digits to cancellation in float
// (||a||^2 + ||b||^2 - 2 a.b). The data are centred first (every divergence here is translation
// invariant), and a pair whose GEMM value may be wrong by more than REFINE_TOL nats and may matter
// (below the cut-off, beyond which exp(-D) is below double resolution next to the self term) is
// recomputed directly in double. The error bound per pair is the probabilistic bound of Higham &
// Mary (2019) for a float dot product of length K, lambda sqrt(K) u sum_k |A_ik B_jk| with
// lambda = 6, plus 2u for storing A and B in float, and sum_k |A_ik B_jk| <= ||A_i|| ||B_j||. That
// bound is pessimistic (measured: N = 10,000 tanh rows, sigma2 = 0.1, d = 1024, bound 0.07 nats,
// and refining every close pair changed no result in the 4th decimal while taking 4x the time),
// so REFINE_TOL is 0.1 nats: pairs the GEMM gets badly wrong (large norms, small sigma: errors of
// hundreds of nats) are recomputed, ordinary ones are not. opts.no_refine gives the plain GEMM.
//
// Gaussian (diagonal and full) and Bernoulli layers: the Bhattacharyya distance does not factor
// into a GEMM (the mixed variance sits inside a division and a log; the coefficient is a log of a
// sum), so every pair costs a direct O(d) computation, and that computation gives both KL
// divergences of the pair too, in double: no GEMM, no refinement (opts.no_refine changes nothing
// for them). BD is symmetric, so each pair is computed once for both of its rows (tiles of rows
// I against columns J >= I, kde_pass_tiles). A GEMM first screens the pairs with a cheap lower
// bound on BD; a pair whose bound, less its error, passes REFINE_CUT contributes nothing to either
// sum (KL >= 2 BD, by Jensen), so only the close pairs are computed:
//     Gaussian:  BD >= 1/4 sum_k dmu_k^2 / (v_ik + v_jk) >= ||mu_i - mu_j||^2 / (4 (vmax_i + vmax_j))
//     Bernoulli: BD = -sum_k ln BC_k >= sum_k (1 - BC_k) = d - u_i.u_j,  u = [sqrt p, sqrt(1 - p)]
// The diagonal Gaussian and Bernoulli pairs go through vectorized kernels, four pairs of a row at
// a time (bd_gauss_pairs, bd_bern_pairs: their numerics are described there); full covariances
// factor a d x d matrix per pair (bd_full). In the worst case (every pair overlaps) the cost is
// N^2 / 2 pairs of O(d).
#include "nn_mi_impl.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_blas.h"
#include "rt_pool.h"

#define DEFAULT_BLOCK 256
#define ROWS_PER_CHUNK 16      // rows of a GEMM block per pool chunk
#define LN_2PIE 2.83787706640934548356     // ln(2 pi e)
#define REFINE_TOL 0.1          // nats, under the pessimistic bound: see above
#define REFINE_CUT 40.0         // nats: exp(-40) = 4e-18, below double resolution next to 1

typedef enum kde_kind { KDE_DET, KDE_GAUSS, KDE_BERN, KDE_FULL } kde_kind;

typedef struct kde_job {
    kde_kind kind;
    int n, d, K;                // rows, features, GEMM inner size (det)
    float *A, *B;               // det: (n, K) GEMM operands
    float alpha;                // det: GEMM factor
    double scale;               // det: KL = scale * (a_i + c_j + alpha A_i.B_j)
    double *a, *c;              // (n) det: the GEMM's per-row terms; bern: the KL's (setup_bern)
    double *ea, *eb;            // det: (n) error bound factors: delta_ij = ea_i * eb_j (nats)
    // the BD screen (the other kinds): a lower bound on BD from a GEMM U_i.U_j
    int K2;
    float *U;                   // (n, K2) Gaussian: centred mu; Bernoulli: [sqrt p, sqrt(1 - p)]
    double *un, *ue;            // (n) Gaussian: ||U_i||^2 and ||U_i|| kappa2^(1/2)
    double *vmax;               // (n) Gaussian: max_k v_ik
    double kappa2;              // error factor of the screen's GEMM
    double eb_max;              // det: max_j eb_j: a row i with ea_i eb_max <= REFINE_TOL refines no pair
    double hc;                  // mean_i H(p_i), nats
    double cut;                 // det: refine when KL - delta < cut
    // what the direct computations read
    const float *x;             // det: h (n, d); gauss, full: mu (n, d)
    const float *s;             // gauss: sigma (n, d)
    double *L;                  // gauss: (n) ln det Sigma_i (diagonal: sum_k ln v_ik)
    double *is;                 // gauss: (n, d) 1 / sigma
    // the pair kernels (bd_gauss_pairs, bd_bern_pairs): rows padded to dp, a multiple of
    // BD_LANES, with elements that contribute nothing (pair_alloc)
    int dp;
    double *P;                  // (n, dp / 8, np, 8): per row and block of 8 elements, np arrays of 8:
                                // gauss (np = 3): sigma^2, centred mu, 1 / sigma^2;
                                // bern (np = 4): sqrt p, sqrt(1 - p), p, logit p (clamped p)
    bool *fast;                 // gauss: (n) the row is inside the pair kernel's range
    double *cov, *prec;         // full: (n, d, d) Sigma_i and its inverse
} kde_job;

static void job_free(kde_job *j) {
    free(j->A); free(j->B); free(j->a); free(j->c); free(j->ea); free(j->eb);
    free(j->L); free(j->P); free(j->fast);
    free(j->is); free(j->U); free(j->un); free(j->ue); free(j->vmax);
    free(j->cov); free(j->prec);
}

static double gemm_kappa(int K) { return (6.0 * sqrt((double)K) + 2.0) * ldexp(1.0, -24); }

static rt_status check_finite(const float *x, int n, int d, const char *fn, const char *what,
                              rt_err *err) {
    for (size_t i = 0; i < (size_t)n * (size_t)d; i++)
        if (!isfinite(x[i]))
            return rt_err_set(err, RT_ERR_NUMERIC, "%s: %s[%zu][%zu] = %g is not finite; the layer diverged",
                              fn, what, i / (size_t)d, i % (size_t)d, (double)x[i]);
    return RT_OK;
}

static rt_status check_sizes(int n, int d, const char *fn, rt_err *err) {
    if (n < 1 || d < 1 || d > INT32_MAX / 2)
        return rt_err_set(err, RT_ERR_ARG, "%s: n=%d rows by d=%d columns; both must be positive", fn, n, d);
    return RT_OK;
}

// Error factors: delta_ij = scale |alpha| kappa ||A_i|| ||B_j||, split as ea_i * eb_j.
static void error_factors(kde_job *j) {
    double f = sqrt(j->scale * fabs((double)j->alpha) * gemm_kappa(j->K));
    for (int i = 0; i < j->n; i++) {
        const float *ai = j->A + (size_t)i * j->K, *bi = j->B + (size_t)i * j->K;
        double na = 0.0, nb = 0.0;
        for (int k = 0; k < j->K; k++) {
            na += (double)ai[k] * (double)ai[k];
            nb += (double)bi[k] * (double)bi[k];
        }
        j->ea[i] = f * sqrt(na);
        j->eb[i] = f * sqrt(nb);
        j->eb_max = fmax(j->eb_max, j->eb[i]);
    }
}

// Column means in double, for centring.
static void col_mean(const float *x, int n, int d, double *m) {
    for (int k = 0; k < d; k++) m[k] = 0.0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++) m[k] += (double)x[(size_t)i * d + k];
    for (int k = 0; k < d; k++) m[k] /= n;
}

static rt_status job_alloc(kde_job *j, int n, int K, const char *fn, rt_err *err) {
    size_t nk = (size_t)n * (size_t)K;
    j->n = n;
    j->K = K;
    j->A = nn_mi_alloc(nk * sizeof(float), fn, err);
    j->B = nn_mi_alloc(nk * sizeof(float), fn, err);
    j->a = nn_mi_alloc((size_t)n * sizeof(double), fn, err);
    j->c = nn_mi_alloc((size_t)n * sizeof(double), fn, err);
    j->ea = nn_mi_alloc((size_t)n * sizeof(double), fn, err);
    j->eb = nn_mi_alloc((size_t)n * sizeof(double), fn, err);
    return (j->A && j->B && j->a && j->c && j->ea && j->eb) ? RT_OK : RT_ERR_NOMEM;
}

// ---- the pair kernels: Bhattacharyya and both KL divergences of a pair, in double ----
//
// Row i against BD_COLS rows l at once (row i's data loaded once for all of them: the kernels
// are bound by loads), vectorized along k: each pair's sums in BD_LANES = 8 lanes, a vector of 8
// doubles (GCC's vector extensions: one AVX-512 register in the avx512f clone, two or four
// narrower ones in the others), element k in lane k % 8, over rows padded to dp (a multiple of
// 8) with elements that change nothing and aligned to 64 bytes. Each lane's operations come in
// the order written, and gcc contracts no a*b + c into an FMA in C11, so every clone gives the
// same bytes (rt_base.h); a pair's result does not depend on the other pairs of its call.
//
// A lane's products stay in range without a log per element: every BD_GROUP elements its
// product D is split into a mantissa in [1, 2) and a power of two (exact bit operations), the
// mantissa multiplied into the lane's M (split again), the exponent added to its E; the pair then
// takes one log, ln(prod of the 8 mantissas) + ln 2 sum E (Bernoulli: not even that).
#define BD_LANES 8
#define BD_COLS 4
#define BD_GROUP 8
#define BD_GAUSS_MIN 0x1p-40    // the Gaussian kernel's range: see bd_gauss_pairs
#define BD_GAUSS_MAX 0x1p40

typedef double bd_v8 __attribute__((vector_size(64)));
typedef int64_t bd_i8 __attribute__((vector_size(64)));
#define bd_load(p) (*(const bd_v8 *)(p))        // p is 64-byte aligned (pair_alloc)

// *m = M 2^e, *m positive and normal: *m becomes M in [1, 2) and e is added to *e. (Vectors pass
// by pointer: by value they would change the ABI between the clones.)
static inline void bd_split(bd_v8 *m, bd_i8 *e) {
    bd_i8 b;
    memcpy(&b, m, sizeof b);
    *e += (b >> 52) - 1023;
    b = (b & 0x000fffffffffffffLL) | 0x3ff0000000000000LL;
    memcpy(m, &b, sizeof b);
}

// The sum of the 8 lanes, in a fixed order.
static inline double bd_sum(const bd_v8 *v) {
    return (((*v)[0] + (*v)[1]) + ((*v)[2] + (*v)[3])) + (((*v)[4] + (*v)[5]) + ((*v)[6] + (*v)[7]));
}

// prod_lanes M 2^E = p 2^s: the 8 mantissas (each in [1, 2)) multiply to under 2^8.
static inline double bd_prod(const bd_v8 *m, const bd_i8 *e, int64_t *s) {
    *s = (((*e)[0] + (*e)[1]) + ((*e)[2] + (*e)[3])) + (((*e)[4] + (*e)[5]) + ((*e)[6] + (*e)[7]));
    return (((*m)[0] * (*m)[1]) * ((*m)[2] * (*m)[3])) * (((*m)[4] * (*m)[5]) * ((*m)[6] * (*m)[7]));
}

// Diagonal Gaussians i and l, with V_k = v_ik + v_lk, L_i = sum_k ln v_ik and w = 1 / v:
//   BD         = 1/4 sum_k (mu_ik - mu_lk)^2 / V_k + 1/2 ( sum_k ln V_k - d ln 2 - (L_i + L_l) / 2 )
//   KL(i || l) = 1/2 ( sum_k (v_ik + (mu_ik - mu_lk)^2) w_lk - d + L_l - L_i ), and KL(l || i) alike.
// Rows: v padded with 1/2, centred mu with 0, w with 0, so padding adds nothing. Within a group the
// quotients of a lane are one fraction N / D, D = prod V_k: N <- N V_k + t_k^2 D, D <- D V_k, one
// division per group instead of one per element. Both rows inside the range (every v in
// [2^-40, 2^40], every |mu - mean| <= 2^40: fast[i]) keep a group's D within [2^-320, 2^328]
// and N under 2^460; other pairs take bd_gauss and kl_gauss. The BD's log term cancels (sum ln V_k
// against L_i and L_l, each ~ d ln(2 v)): with d = 256 and v ~ 0.02 that loses ~1e-13 nats, where
// bd_gauss's ratios lose none. out[c]: BD, KL(i || l_c), KL(l_c || i).
#define BD_GAUSS_STEP(z)                                                        \
    do {                                                                        \
        bd_v8 b = bd_load(r##z + o), V = a + b, t = u - bd_load(r##z + o + 8), tt = t * t; \
        N##z = N##z * V + tt * D##z;                                            \
        D##z = D##z * V;                                                        \
        X##z += (a + tt) * bd_load(r##z + o + 16);                              \
        Y##z += (b + tt) * w;                                                   \
    } while (0)
#define BD_GAUSS_FOLD(z)                                                        \
    do {                                                                        \
        Q##z += N##z / D##z;                                                    \
        M##z *= D##z;                                                           \
        bd_split(&M##z, &E##z);                                                 \
        N##z = zero, D##z = one;                                                \
    } while (0)
#define BD_GAUSS_OUT(z)                                                         \
    do {                                                                        \
        int64_t e;                                                              \
        double p = bd_prod(&M##z, &E##z, &e), dl = j->L[l[z]] - j->L[i];        \
        out[z][0] = 0.25 * bd_sum(&Q##z)                                        \
                    + 0.5 * (log(p) + (double)(e - j->d) * NN_MI_LN2 - 0.5 * (j->L[i] + j->L[l[z]])); \
        out[z][1] = 0.5 * (bd_sum(&X##z) - j->d + dl);                          \
        out[z][2] = 0.5 * (bd_sum(&Y##z) - j->d - dl);                          \
    } while (0)
RT_SIMD_CLONES
static void bd_gauss_pairs(const kde_job *j, int i, const int *l, double (*out)[3]) {
    const bd_v8 one = { 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0 }, zero = one - one;
    size_t dp = (size_t)j->dp;
    const double *ri = j->P + i * dp * 3, *r0 = j->P + l[0] * dp * 3, *r1 = j->P + l[1] * dp * 3;
    const double *r2 = j->P + l[2] * dp * 3, *r3 = j->P + l[3] * dp * 3;
    bd_v8 N0 = zero, N1 = zero, N2 = zero, N3 = zero, D0 = one, D1 = one, D2 = one, D3 = one;
    bd_v8 X0 = zero, X1 = zero, X2 = zero, X3 = zero, Y0 = zero, Y1 = zero, Y2 = zero, Y3 = zero;
    bd_v8 Q0 = zero, Q1 = zero, Q2 = zero, Q3 = zero, M0 = one, M1 = one, M2 = one, M3 = one;
    bd_i8 E0 = { 0 }, E1 = { 0 }, E2 = { 0 }, E3 = { 0 };
    for (size_t k0 = 0; k0 < dp; k0 += BD_LANES * BD_GROUP) {
        size_t k1 = dp - k0 < BD_LANES * BD_GROUP ? dp : k0 + BD_LANES * BD_GROUP;
        for (size_t k = k0; k < k1; k += BD_LANES) {
            size_t o = 3 * k;
            bd_v8 a = bd_load(ri + o), u = bd_load(ri + o + 8), w = bd_load(ri + o + 16);
            BD_GAUSS_STEP(0);
            BD_GAUSS_STEP(1);
            BD_GAUSS_STEP(2);
            BD_GAUSS_STEP(3);
        }
        BD_GAUSS_FOLD(0);
        BD_GAUSS_FOLD(1);
        BD_GAUSS_FOLD(2);
        BD_GAUSS_FOLD(3);
    }
    BD_GAUSS_OUT(0);
    BD_GAUSS_OUT(1);
    BD_GAUSS_OUT(2);
    BD_GAUSS_OUT(3);
}
// The same for one pair (i, l[0]): the same operations, so the same bytes, as in a call of four.
RT_SIMD_CLONES
static void bd_gauss_pair1(const kde_job *j, int i, const int *l, double (*out)[3]) {
    const bd_v8 one = { 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0 }, zero = one - one;
    size_t dp = (size_t)j->dp;
    const double *ri = j->P + i * dp * 3, *r0 = j->P + l[0] * dp * 3;
    bd_v8 N0 = zero, D0 = one, X0 = zero, Y0 = zero, Q0 = zero, M0 = one;
    bd_i8 E0 = { 0 };
    for (size_t k0 = 0; k0 < dp; k0 += BD_LANES * BD_GROUP) {
        size_t k1 = dp - k0 < BD_LANES * BD_GROUP ? dp : k0 + BD_LANES * BD_GROUP;
        for (size_t k = k0; k < k1; k += BD_LANES) {
            size_t o = 3 * k;
            bd_v8 a = bd_load(ri + o), u = bd_load(ri + o + 8), w = bd_load(ri + o + 16);
            BD_GAUSS_STEP(0);
        }
        BD_GAUSS_FOLD(0);
    }
    BD_GAUSS_OUT(0);
}
#undef BD_GAUSS_STEP
#undef BD_GAUSS_FOLD
#undef BD_GAUSS_OUT

// Product Bernoullis i and l, p clamped to [eps, 1 - eps]:
//   BD         = -sum_k ln BC_k,  BC_k = sqrt(p_ik p_lk) + sqrt((1 - p_ik)(1 - p_lk))
//   KL(i || l) = sum_k p_ik ln p_ik + (1 - p_ik) ln(1 - p_ik) - p_ik ln p_lk - (1 - p_ik) ln(1 - p_lk)
//              = a_i + c_l - sum_k p_ik logit(p_lk),  a_i = -H(p_i), c_l = -sum_k ln(1 - p_lk),
// and KL(l || i) alike. Rows: sqrt p padded with 1, sqrt(1 - p), p and logit p with 0 (BC = 1, no
// KL term). Every BC_k is in [2e-3, 1], so a group's product stays above 2e-22. out[c]: exp(-BD)
// = prod_k BC_k itself (no log), KL(i || l_c), KL(l_c || i).
#define BD_BERN_STEP(z)                                                                     \
    do {                                                                                    \
        D##z = D##z * (a * bd_load(r##z + o) + b * bd_load(r##z + o + 8));                  \
        X##z += p * bd_load(r##z + o + 24);                                                 \
        Y##z += bd_load(r##z + o + 16) * g;                                                 \
    } while (0)
#define BD_BERN_FOLD(z)                                                         \
    do {                                                                        \
        M##z *= D##z;                                                           \
        bd_split(&M##z, &E##z);                                                 \
        D##z = one;                                                             \
    } while (0)
#define BD_BERN_OUT(z)                                                          \
    do {                                                                        \
        int64_t e;                                                              \
        double q = bd_prod(&M##z, &E##z, &e);                                   \
        out[z][0] = ldexp(q, (int)(e > -4096 ? e : -4096));                     \
        out[z][1] = j->a[i] + j->c[l[z]] - bd_sum(&X##z);                       \
        out[z][2] = j->a[l[z]] + j->c[i] - bd_sum(&Y##z);                       \
    } while (0)
RT_SIMD_CLONES
static void bd_bern_pairs(const kde_job *j, int i, const int *l, double (*out)[3]) {
    const bd_v8 one = { 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0 }, zero = one - one;
    size_t dp = (size_t)j->dp;
    const double *ri = j->P + i * dp * 4, *r0 = j->P + l[0] * dp * 4, *r1 = j->P + l[1] * dp * 4;
    const double *r2 = j->P + l[2] * dp * 4, *r3 = j->P + l[3] * dp * 4;
    bd_v8 D0 = one, D1 = one, D2 = one, D3 = one, M0 = one, M1 = one, M2 = one, M3 = one;
    bd_v8 X0 = zero, X1 = zero, X2 = zero, X3 = zero, Y0 = zero, Y1 = zero, Y2 = zero, Y3 = zero;
    bd_i8 E0 = { 0 }, E1 = { 0 }, E2 = { 0 }, E3 = { 0 };
    for (size_t k0 = 0; k0 < dp; k0 += BD_LANES * BD_GROUP) {
        size_t k1 = dp - k0 < BD_LANES * BD_GROUP ? dp : k0 + BD_LANES * BD_GROUP;
        for (size_t k = k0; k < k1; k += BD_LANES) {
            size_t o = 4 * k;
            bd_v8 a = bd_load(ri + o), b = bd_load(ri + o + 8), p = bd_load(ri + o + 16), g = bd_load(ri + o + 24);
            BD_BERN_STEP(0);
            BD_BERN_STEP(1);
            BD_BERN_STEP(2);
            BD_BERN_STEP(3);
        }
        BD_BERN_FOLD(0);
        BD_BERN_FOLD(1);
        BD_BERN_FOLD(2);
        BD_BERN_FOLD(3);
    }
    BD_BERN_OUT(0);
    BD_BERN_OUT(1);
    BD_BERN_OUT(2);
    BD_BERN_OUT(3);
}
// The same for one pair (i, l[0]).
RT_SIMD_CLONES
static void bd_bern_pair1(const kde_job *j, int i, const int *l, double (*out)[3]) {
    const bd_v8 one = { 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0 }, zero = one - one;
    size_t dp = (size_t)j->dp;
    const double *ri = j->P + i * dp * 4, *r0 = j->P + l[0] * dp * 4;
    bd_v8 D0 = one, M0 = one, X0 = zero, Y0 = zero;
    bd_i8 E0 = { 0 };
    for (size_t k0 = 0; k0 < dp; k0 += BD_LANES * BD_GROUP) {
        size_t k1 = dp - k0 < BD_LANES * BD_GROUP ? dp : k0 + BD_LANES * BD_GROUP;
        for (size_t k = k0; k < k1; k += BD_LANES) {
            size_t o = 4 * k;
            bd_v8 a = bd_load(ri + o), b = bd_load(ri + o + 8), p = bd_load(ri + o + 16), g = bd_load(ri + o + 24);
            BD_BERN_STEP(0);
        }
        BD_BERN_FOLD(0);
    }
    BD_BERN_OUT(0);
}
#undef BD_BERN_STEP
#undef BD_BERN_FOLD
#undef BD_BERN_OUT

// The padded rows of the pair kernels, np arrays interleaved by blocks of BD_LANES elements (a
// kernel then reads each row through one pointer: with one per array the pointers of five rows
// do not fit in the registers), aligned to 64 bytes so that no vector load straddles two cache
// lines (unaligned, the Bernoulli kernel took 1.5x the time). pair_el: element k of array q.
static rt_status pair_alloc(kde_job *j, int n, int d, int np, const char *fn, rt_err *err) {
    j->n = n;
    j->d = d;
    j->dp = (d + BD_LANES - 1) / BD_LANES * BD_LANES;
    size_t bytes = (size_t)n * j->dp * np * sizeof(double);
    j->P = aligned_alloc(64, bytes);
    if (!j->P)
        return rt_err_set(err, RT_ERR_NOMEM, "%s: cannot allocate %zu bytes for the pairs' rows; use fewer rows",
                          fn, bytes);
    return RT_OK;
}

static double *pair_el(double *row, int k, int q, int np) {
    return row + (size_t)(k / BD_LANES) * BD_LANES * np + (size_t)q * BD_LANES + k % BD_LANES;
}

// ---- the kinds: setup and direct (double) divergences ----

// Deterministic: KL = ||h_i - h_j||^2 / (2 sigma2) = (||A_i||^2 + ||A_j||^2 - 2 A_i.A_j) / (2 sigma2)
// with A = B = the centred rows. Bhattacharyya = KL / 4, so the cut-off is 4 * REFINE_CUT.
static rt_status setup_det(kde_job *j, const float *h, int n, int d, double sigma2, rt_err *err) {
    if (job_alloc(j, n, d, "nn_mi_kde_det", err) != RT_OK) return RT_ERR_NOMEM;
    double *m = nn_mi_alloc((size_t)d * sizeof *m, "nn_mi_kde_det", err);
    if (!m) return RT_ERR_NOMEM;
    col_mean(h, n, d, m);
    for (int i = 0; i < n; i++) {
        double nrm = 0.0;
        for (int k = 0; k < d; k++) {
            float v = (float)((double)h[(size_t)i * d + k] - m[k]);
            j->A[(size_t)i * d + k] = v;
            nrm += (double)v * (double)v;
        }
        j->a[i] = j->c[i] = nrm;
    }
    free(m);
    memcpy(j->B, j->A, (size_t)n * d * sizeof(float));
    j->kind = KDE_DET;
    j->d = d;
    j->alpha = -2.0f;
    j->scale = 1.0 / (2.0 * sigma2);
    j->hc = 0.5 * d * (LN_2PIE + log(sigma2));
    j->cut = 4.0 * REFINE_CUT;
    j->x = h;
    error_factors(j);
    return RT_OK;
}

static double kl_det(const kde_job *j, int i, int l) {
    const float *a = j->x + (size_t)i * j->d, *b = j->x + (size_t)l * j->d;
    double s = 0.0;
    for (int k = 0; k < j->d; k++) {
        double t = (double)a[k] - (double)b[k];
        s += t * t;
    }
    return j->scale * s;
}

// The per-row values both Gaussian kinds share: ln det Sigma_i, ||U_i||^2 for the BD screen, an
// upper bound vmax on Sigma_i's largest eigenvalue; and the component entropy.
static void gauss_row(kde_job *j, int i, double ldet, double un, double vmax, double *hsum) {
    j->L[i] = ldet;
    j->un[i] = un;
    j->ue[i] = sqrt(un * 2.0 * j->kappa2);
    j->vmax[i] = vmax;
    *hsum += 0.5 * (j->d * LN_2PIE + ldet);
}

static rt_status gauss_alloc(kde_job *j, int n, int d, const char *fn, rt_err *err) {
    j->L = nn_mi_alloc((size_t)n * sizeof(double), fn, err);
    j->U = nn_mi_alloc((size_t)n * d * sizeof(float), fn, err);
    j->un = nn_mi_alloc((size_t)n * sizeof(double), fn, err);
    j->ue = nn_mi_alloc((size_t)n * sizeof(double), fn, err);
    j->vmax = nn_mi_alloc((size_t)n * sizeof(double), fn, err);
    j->K2 = d;
    j->kappa2 = gemm_kappa(d);
    return j->L && j->U && j->un && j->ue && j->vmax ? RT_OK : RT_ERR_NOMEM;
}

// Diagonal Gaussians, v = sigma^2, w = 1/v: the pair kernel's rows (mu centred), bd_gauss's 1/sigma
// and the screen's U = centred mu.
static rt_status setup_gauss(kde_job *j, const float *mu, const float *sigma, int n, int d, rt_err *err) {
    const char *fn = "nn_mi_kde_gauss";
    if (pair_alloc(j, n, d, 3, fn, err) != RT_OK || gauss_alloc(j, n, d, fn, err) != RT_OK) return RT_ERR_NOMEM;
    j->is = nn_mi_alloc((size_t)n * d * sizeof(double), fn, err);
    j->fast = nn_mi_alloc((size_t)n * sizeof(bool), fn, err);
    double *m = nn_mi_alloc((size_t)d * sizeof *m, fn, err);
    if (!j->is || !j->fast || !m) {
        free(m);
        return RT_ERR_NOMEM;
    }
    col_mean(mu, n, d, m);
    double hsum = 0.0;
    for (int i = 0; i < n; i++) {
        double L = 0.0, un = 0.0, vmax = 0.0, *row = j->P + (size_t)i * j->dp * 3;
        bool fast = true;
        for (int k = 0; k < d; k++) {
            double s = (double)sigma[(size_t)i * d + k], v = s * s;
            double u = (double)mu[(size_t)i * d + k] - m[k];
            float uf = (float)u;
            j->is[(size_t)i * d + k] = 1.0 / s;
            *pair_el(row, k, 0, 3) = v;
            *pair_el(row, k, 1, 3) = u;
            *pair_el(row, k, 2, 3) = 1.0 / v;
            fast = fast && v >= BD_GAUSS_MIN && v <= BD_GAUSS_MAX && fabs(u) <= BD_GAUSS_MAX;
            j->U[(size_t)i * d + k] = uf;
            un += (double)uf * (double)uf;
            vmax = fmax(vmax, v);
            L += log(v);
        }
        for (int k = d; k < j->dp; k++)       // V = 1, t = 0, w = 0: nothing
            *pair_el(row, k, 0, 3) = 0.5, *pair_el(row, k, 1, 3) = *pair_el(row, k, 2, 3) = 0.0;
        j->fast[i] = fast;
        gauss_row(j, i, L, un, vmax, &hsum);
    }
    free(m);
    j->kind = KDE_GAUSS;
    j->hc = hsum / n;
    j->x = mu;
    j->s = sigma;
    return RT_OK;
}

// KL(p_i || p_l) between diagonal Gaussians in double, for the pairs outside bd_gauss_pairs' range.
static double kl_gauss(const kde_job *j, int i, int l) {
    const float *mi = j->x + (size_t)i * j->d, *ml = j->x + (size_t)l * j->d;
    const float *si = j->s + (size_t)i * j->d, *sl = j->s + (size_t)l * j->d;
    double s = 0.0;
    for (int k = 0; k < j->d; k++) {
        double vi = (double)si[k] * (double)si[k], vl = (double)sl[k] * (double)sl[k];
        double t = (double)mi[k] - (double)ml[k];
        s += (vi + t * t) / vl;
    }
    return 0.5 * (s - j->d + j->L[l] - j->L[i]);
}

// ln(p[0] p[1] p[2] p[3]) with one log when every p is within [1/lim, lim] (the usual case), four
// otherwise.
static double log_prod4(const double *p, double lim) {
    bool in = true;
    for (int u = 0; u < 4; u++) in = in && p[u] < lim && p[u] > 1.0 / lim;
    if (in) return log((p[0] * p[1]) * (p[2] * p[3]));
    return log(p[0]) + log(p[1]) + log(p[2]) + log(p[3]);
}

// Bhattacharyya between diagonal Gaussians, with the mixed variance V = (v_i + v_j) / 2:
//   BD = 1/8 sum_k (mu_ik - mu_jk)^2 / V_k + 1/2 sum_k ln( V_k / sqrt(v_ik v_jk) )
//      = 1/4 sum_k (mu_ik - mu_jk)^2 / (v_ik + v_jk) + 1/2 ln prod_k (v_ik + v_jk) / (2 s_ik s_jk).
// V mixes both rows inside a division and a log, so it does not factor into a GEMM: this is a
// direct loop, O(d) per pair with one division per element, for the pairs outside the range of
// bd_gauss_pairs (any sigma in [FLT_MIN, FLT_MAX]). The log of the product is taken only when the
// product passes 1e200; every factor is >= 1 and, for sigma in [FLT_MIN, FLT_MAX], below 1.5e76,
// so the product never overflows.
//
// Four independent lanes (element k goes to lane k % 4) break the dependency chains of the sum and
// the product, and the check after each round keeps every lane's product in range.
static double bd_gauss(const kde_job *j, int i, int l) {
    int d = j->d;
    const float *mi = j->x + (size_t)i * d, *ml = j->x + (size_t)l * d;
    const float *si = j->s + (size_t)i * d, *sl = j->s + (size_t)l * d;
    const double *ii = j->is + (size_t)i * d, *il = j->is + (size_t)l * d;
    double q[4] = { 0.0, 0.0, 0.0, 0.0 }, prod[4] = { 1.0, 1.0, 1.0, 1.0 }, lp = 0.0;
    for (int k0 = 0; k0 < d; k0 += 4) {
        int m = d - k0 < 4 ? d - k0 : 4;
        for (int u = 0; u < m; u++) {
            int k = k0 + u;
            double a = (double)si[k], b = (double)sl[k], v = a * a + b * b;
            double t = (double)mi[k] - (double)ml[k];
            q[u] += t * t / v;
            prod[u] *= 0.5 * v * ii[k] * il[k];
        }
        for (int u = 0; u < 4; u++)
            if (prod[u] > 1e200) { lp += log(prod[u]); prod[u] = 1.0; }
    }
    return 0.25 * ((q[0] + q[1]) + (q[2] + q[3])) + 0.5 * (lp + log_prod4(prod, 1e75));
}

// Product Bernoulli, p clamped to [eps, 1 - eps]: the pair kernel's rows and the screen's
// U = [sqrt p, sqrt(1 - p)]; a_i = -H(p_i) = sum_k p_ik ln p_ik + (1 - p_ik) ln(1 - p_ik) and
// c_i = -sum_k ln(1 - p_ik), the KL's per-row terms (bd_bern_pairs).
static rt_status setup_bern(kde_job *j, const float *p, int n, int d, rt_err *err) {
    const char *fn = "nn_mi_kde_bern";
    size_t nd = (size_t)n * d;
    if (pair_alloc(j, n, d, 4, fn, err) != RT_OK) return RT_ERR_NOMEM;
    j->a = nn_mi_alloc((size_t)n * sizeof(double), fn, err);
    j->c = nn_mi_alloc((size_t)n * sizeof(double), fn, err);
    j->U = nn_mi_alloc(2 * nd * sizeof(float), fn, err);
    if (!j->a || !j->c || !j->U) return RT_ERR_NOMEM;
    j->K2 = 2 * d;
    j->kappa2 = gemm_kappa(2 * d) * d;        // ||u_i|| ||u_j|| = d
    double hsum = 0.0;
    for (int i = 0; i < n; i++) {
        double a = 0.0, c = 0.0, *row = j->P + (size_t)i * j->dp * 4;
        for (int k = 0; k < d; k++) {
            double q = fmin(fmax((double)p[(size_t)i * d + k], NN_MI_P_EPS), 1.0 - NN_MI_P_EPS);
            double lp = log(q), lq = log1p(-q);
            *pair_el(row, k, 0, 4) = sqrt(q);
            *pair_el(row, k, 1, 4) = sqrt(1.0 - q);
            *pair_el(row, k, 2, 4) = q;
            *pair_el(row, k, 3, 4) = lp - lq;
            j->U[(size_t)i * 2 * d + k] = (float)sqrt(q);
            j->U[(size_t)i * 2 * d + d + k] = (float)sqrt(1.0 - q);
            a += q * lp + (1.0 - q) * lq;
            c -= lq;
        }
        for (int k = d; k < j->dp; k++)       // BC = 1, no KL term
            *pair_el(row, k, 0, 4) = 1.0, *pair_el(row, k, 1, 4) = *pair_el(row, k, 2, 4) = *pair_el(row, k, 3, 4) = 0.0;
        j->a[i] = a;
        j->c[i] = c;
        hsum -= a;
    }
    j->kind = KDE_BERN;
    j->hc = hsum / n;
    return RT_OK;
}

// Full-covariance Gaussians, Sigma_i = L_i L_i^T (L lower-triangular, packed by rows, positive
// diagonal), P_j = Sigma_j^-1:
//   KL(p_i || p_j) = 1/2 [ tr(P_j Sigma_i) + (mu_i - mu_j)' P_j (mu_i - mu_j) - d + ln|Sigma_j| - ln|Sigma_i| ]
// computed per pair in double, O(d^2) (kl_full). The BD screen is the diagonal case's with
// vmax_i = tr Sigma_i, an upper bound on its largest eigenvalue.
static rt_status setup_full(kde_job *j, const float *mu, const float *L, int n, int d, rt_err *err) {
    const char *fn = "nn_mi_kde_gauss_full";
    int P = d * (d + 1) / 2;
    size_t dd = (size_t)d * d;
    j->n = n;
    j->d = d;
    if (gauss_alloc(j, n, d, fn, err) != RT_OK) return RT_ERR_NOMEM;
    j->cov = nn_mi_alloc((size_t)n * dd * sizeof(double), fn, err);
    j->prec = nn_mi_alloc((size_t)n * dd * sizeof(double), fn, err);
    double *m = nn_mi_alloc((size_t)d * sizeof *m, fn, err);
    double *Li = nn_mi_alloc(2 * dd * sizeof *Li, fn, err);
    if (!j->cov || !j->prec || !m || !Li) {
        free(m); free(Li);
        return RT_ERR_NOMEM;
    }
    double *W = Li + dd;        // W = L^-1 (lower-triangular)
    col_mean(mu, n, d, m);
    double hsum = 0.0;
    for (int i = 0; i < n; i++) {
        const float *l = L + (size_t)i * P;
        double *S = j->cov + (size_t)i * dd, *Q = j->prec + (size_t)i * dd, ld = 0.0;
        memset(Li, 0, dd * sizeof *Li);
        for (int r = 0; r < d; r++)
            for (int c = 0; c <= r; c++) Li[r * d + c] = (double)l[r * (r + 1) / 2 + c];
        for (int r = 0; r < d; r++) ld += 2.0 * log(Li[r * d + r]);
        // Sigma = L L', W = L^-1 by forward substitution, P = W' W
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++) {
                double t = 0.0;
                for (int k = 0; k <= (r < c ? r : c); k++) t += Li[r * d + k] * Li[c * d + k];
                S[r * d + c] = t;
            }
        memset(W, 0, dd * sizeof *W);
        for (int c = 0; c < d; c++)
            for (int r = c; r < d; r++) {
                double t = r == c ? 1.0 : 0.0;
                for (int k = c; k < r; k++) t -= Li[r * d + k] * W[k * d + c];
                W[r * d + c] = t / Li[r * d + r];
            }
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++) {
                double t = 0.0;
                for (int k = r > c ? r : c; k < d; k++) t += W[k * d + r] * W[k * d + c];
                Q[r * d + c] = t;
            }
        float *U = j->U + (size_t)i * d;
        double un = 0.0, tr = 0.0;
        for (int r = 0; r < d; r++) {
            U[r] = (float)((double)mu[(size_t)i * d + r] - m[r]);
            un += (double)U[r] * (double)U[r];
            tr += S[r * d + r];
        }
        gauss_row(j, i, ld, un, tr, &hsum);
    }
    free(m);
    free(Li);
    j->kind = KDE_FULL;
    j->hc = hsum / n;
    j->x = mu;
    return RT_OK;
}

static double kl_full(const kde_job *j, int i, int l) {
    int d = j->d;
    size_t dd = (size_t)d * d;
    const double *S = j->cov + (size_t)i * dd, *Q = j->prec + (size_t)l * dd;
    const float *mi = j->x + (size_t)i * d, *ml = j->x + (size_t)l * d;
    double tr = 0.0, q = 0.0;
    for (int r = 0; r < d; r++) {
        double dr = (double)mi[r] - (double)ml[r];
        for (int c = 0; c < d; c++) {
            tr += Q[r * d + c] * S[c * d + r];
            q += dr * Q[r * d + c] * ((double)mi[c] - (double)ml[c]);
        }
    }
    return 0.5 * (tr + q - d + j->L[l] - j->L[i]);
}

// Bhattacharyya between full-covariance Gaussians, V = (Sigma_i + Sigma_j) / 2:
//   BD = 1/8 (mu_i - mu_j)' V^-1 (mu_i - mu_j) + 1/2 ( ln|V| - (ln|Sigma_i| + ln|Sigma_j|) / 2 )
// by a Cholesky factorization of V per pair: O(d^3), for the small K of full-covariance layers.
static double bd_full(const kde_job *j, int i, int l) {
    int d = j->d;
    size_t dd = (size_t)d * d;
    const double *Si = j->cov + (size_t)i * dd, *Sl = j->cov + (size_t)l * dd;
    const float *mi = j->x + (size_t)i * d, *ml = j->x + (size_t)l * d;
    double C[32 * 32], z[32], ld = 0.0, q = 0.0;
    for (int r = 0; r < d; r++) {
        for (int c = 0; c <= r; c++) {
            double t = 0.5 * (Si[r * d + c] + Sl[r * d + c]);
            for (int k = 0; k < c; k++) t -= C[r * d + k] * C[c * d + k];
            C[r * d + c] = r == c ? sqrt(fmax(t, DBL_MIN)) : t / C[c * d + c];
        }
        ld += 2.0 * log(C[r * d + r]);
        double t = (double)mi[r] - (double)ml[r];
        for (int k = 0; k < r; k++) t -= C[r * d + k] * z[k];
        z[r] = t / C[r * d + r];
        q += z[r] * z[r];
    }
    return 0.125 * q + 0.5 * (ld - 0.5 * (j->L[i] + j->L[l]));
}

// ---- the pass over the pairs: the screen ----

// Whether a lower bound on BD(p_i, p_l), less the bound on its GEMM error, from g = U_i.U_l,
// passes REFINE_CUT (the Gaussian bound's denominator multiplied out).
static bool bd_far(const kde_job *j, int i, int l, float g) {
    if (j->kind == KDE_GAUSS || j->kind == KDE_FULL)
        return j->un[i] + j->un[l] - 2.0 * (double)g - j->ue[i] * j->ue[l] > 4.0 * REFINE_CUT * (j->vmax[i] + j->vmax[l]);
    return j->d - (double)g - j->kappa2 > REFINE_CUT;
}

static double exp_neg(double x) { return x < 745.0 ? exp(-x) : 0.0; }

// ---- the deterministic kind: one GEMM block of rows against one of columns ----

/* The rows [lo, hi) of one GEMM block: each row's divergence terms, summed in column order into
** that row's own accumulators, so the chunks of rt_pool_for write disjoint entries and the sums
** do not depend on the thread count. */
typedef struct kde_block {
    const kde_job *j;
    const float *G;
    int i0, j0, bj, nclass;
    bool refine;
    const int32_t *cls;
    double *s_kl, *s_bd, *c_kl, *c_bd;
    int64_t *refined;           /* (n) per row */
} kde_block;

/* The deterministic kind's terms exp(-BD) = exp(-KL / 4) of one row against m <= DET_RUN
** columns, from the GEMM values g: branch-free and without calls, so it vectorizes (the
** diagonal pair and refined pairs are the caller's). */
#define DET_RUN 64
RT_SIMD_CLONES
static void det_terms(const float *restrict g, const double *restrict c, double ai, double scale, int m,
                      double *restrict e) {
    for (int u = 0; u < m; u++) {
        double kl = scale * (ai + c[u] + (double)g[u]);
        e[u] = nn_mi_exp_neg(0.25 * (kl > 0.0 ? kl : 0.0));
    }
}

/* One row of a deterministic block where no pair needs refinement (ea_i eb_max <= REFINE_TOL):
** the terms in runs of DET_RUN (det_terms), then summed in column order as kde_block_rows does. */
static void det_row(const kde_block *b, int i, const float *g) {
    const kde_job *j = b->j;
    double s_kl = 0.0, s_bd = 0.0, c_kl = 0.0, c_bd = 0.0, e[DET_RUN];
    for (int c0 = 0; c0 < b->bj; c0 += DET_RUN) {
        int m = b->bj - c0 < DET_RUN ? b->bj - c0 : DET_RUN, l0 = b->j0 + c0;
        det_terms(g + c0, j->c + l0, j->a[i], j->scale, m, e);
        for (int u = 0; u < m; u++) {
            int l = l0 + u;
            double eb = l == i ? 1.0 : e[u], ek = (eb * eb) * (eb * eb);
            s_kl += ek;
            s_bd += eb;
            if (b->nclass > 0 && b->cls[i] == b->cls[l]) { c_kl += ek; c_bd += eb; }
        }
    }
    b->s_kl[i] += s_kl;
    b->s_bd[i] += s_bd;
    b->c_kl[i] += c_kl;
    b->c_bd[i] += c_bd;
}

static void kde_block_rows(void *arg, size_t lo, size_t hi) {
    const kde_block *b = arg;
    const kde_job *j = b->j;
    for (int r = (int)lo; r < (int)hi; r++) {
        int i = b->i0 + r, bj = b->bj;
        const float *g = b->G + (size_t)r * bj;
        if (!(b->refine && j->ea[i] * j->eb_max > REFINE_TOL)) {
            det_row(b, i, g);
            continue;
        }
        double s_kl = 0.0, s_bd = 0.0, c_kl = 0.0, c_bd = 0.0;
        int64_t refined = 0;
        for (int c = 0; c < bj; c++) {
            int l = b->j0 + c;
            double kl = 0.0;
            if (l != i) {
                kl = j->scale * (j->a[i] + j->c[l] + (double)g[c]);
                double delta = j->ea[i] * j->eb[l];
                if (delta > REFINE_TOL && kl - delta < j->cut) {
                    kl = kl_det(j, i, l);
                    refined++;
                }
                if (kl < 0.0) kl = 0.0;
            }
            double eb = exp_neg(0.25 * kl), ek = (eb * eb) * (eb * eb);    // BD = KL / 4
            s_kl += ek;
            s_bd += eb;
            if (b->nclass > 0 && b->cls[i] == b->cls[l]) { c_kl += ek; c_bd += eb; }
        }
        b->s_kl[i] += s_kl;
        b->s_bd[i] += s_bd;
        b->c_kl[i] += c_kl;
        b->c_bd[i] += c_bd;
        b->refined[i] += refined;
    }
}

// ---- the other kinds: tiles of rows I against columns J >= I, each pair once ----
//
// BD is symmetric and the pair kernels give both KL(i || l) and KL(l || i), so a tile I x J (J
// from I on) computes its pairs once, into E, and both its rows (against the columns J) and its
// columns (as rows, against I) read them; on a diagonal tile, the pairs above the diagonal. With
// the tiles taken I ascending, then J ascending from I, every row still receives its column
// blocks in ascending order, each one's terms summed in column order: the grouping of the
// additions does not depend on the thread count.

typedef struct kde_tile {
    const kde_job *j;
    const float *G2;            // the screen's GEMM, I by J
    double *E;                  // 3 (bi, bj): exp(-BD), exp(-KL(i || l)), exp(-KL(l || i)); -1: dropped
    int i0, bi, j0, bj, nclass;
    const int32_t *cls;
    double *s_kl, *s_bd, *c_kl, *c_bd;
} kde_tile;

#define PAIR_ROWS_PER_CHUNK 16  // rows of a tile per pool chunk of pair kernels

/* exp(-x) of m divergences in place, keeping the screen's -1. Vectorized (nn_mi_exp_neg). */
RT_SIMD_CLONES
static void pair_terms(double *restrict e, int m) {
    for (int u = 0; u < m; u++) e[u] = e[u] < 0.0 ? -1.0 : nn_mi_exp_neg(e[u]);
}

// Whether the pair (i, l) goes through a BD_COLS kernel (else pair_one).
static bool pair_batched(const kde_job *j, int i, int l) {
    return j->kind == KDE_BERN || (j->kind == KDE_GAUSS && j->fast[i] && j->fast[l]);
}

// A pair alone (Gaussians outside the kernel's range, full covariances): BD, KL(i || l),
// KL(l || i) into out.
static void pair_one(const kde_job *j, int i, int l, double *out) {
    if (j->kind == KDE_GAUSS) out[0] = bd_gauss(j, i, l), out[1] = kl_gauss(j, i, l), out[2] = kl_gauss(j, l, i);
    else out[0] = bd_full(j, i, l), out[1] = kl_full(j, i, l), out[2] = kl_full(j, l, i);
}

// Stores a pair's three results, clamped at 0, in the tile's three arrays.
static void pair_store(double *eb, double *ek, double *er, const double *out) {
    *eb = out[0] > 0.0 ? out[0] : 0.0;
    *ek = out[1] > 0.0 ? out[1] : 0.0;
    *er = out[2] > 0.0 ? out[2] : 0.0;
}

/* Row i's terms against the m columns from l0, in column order. Row r of the tile reads E[r][c]
** (exp(-KL(i || l)) in the second array); a row of J (by_cols), or row r of a diagonal tile left
** of the diagonal, reads the pair (c, r): E[c][r], exp(-KL(l || i)) in the third array. */
static void tile_row(const kde_tile *t, int i, int l0, int m, int r, bool by_cols) {
    size_t bb = (size_t)t->bi * t->bj;
    int below = by_cols ? m : t->i0 == t->j0 ? r : 0;        // columns c < below read E[c][r]
    int self = !by_cols && t->i0 == t->j0 ? r : -1;         // the pair of row i with itself: 1
    const double *E = t->E;
    double s_kl = 0.0, s_bd = 0.0, c_kl = 0.0, c_bd = 0.0;
    for (int c = 0; c < m; c++) {
        size_t e = c < below ? (size_t)c * t->bj + r : (size_t)r * t->bj + c;
        double eb = c == self ? 1.0 : E[e], ek = c == self ? 1.0 : c < below ? E[2 * bb + e] : E[bb + e];
        // a dropped pair (-1) adds +0.0, which leaves every sum (>= 0) as it is
        eb = eb > 0.0 ? eb : 0.0;
        ek = ek > 0.0 ? ek : 0.0;
        bool same = t->nclass > 0 && t->cls[i] == t->cls[l0 + c];
        s_kl += ek;
        s_bd += eb;
        c_kl += same ? ek : 0.0;
        c_bd += same ? eb : 0.0;
    }
    t->s_kl[i] += s_kl;
    t->s_bd[i] += s_bd;
    t->c_kl[i] += c_kl;
    t->c_bd[i] += c_bd;
}

/* Row i against the kept pairs ls[0..m) of tile row r: one call of a kernel for BD_COLS of them,
** else one call each (the same operations per pair, so the same bytes). */
static void tile_batch(const kde_tile *t, int r, const int *ls, int m) {
    const kde_job *j = t->j;
    int i = t->i0 + r;
    size_t bb = (size_t)t->bi * t->bj;
    double out[BD_COLS][3];
    if (m == BD_COLS) {
        if (j->kind == KDE_GAUSS) bd_gauss_pairs(j, i, ls, out);
        else bd_bern_pairs(j, i, ls, out);
    }
    for (int u = 0; u < m; u++) {
        if (m < BD_COLS && j->kind == KDE_GAUSS) bd_gauss_pair1(j, i, ls + u, out + u);
        else if (m < BD_COLS) bd_bern_pair1(j, i, ls + u, out + u);
        double *e = t->E + (size_t)r * t->bj + (ls[u] - t->j0);
        pair_store(e, e + bb, e + 2 * bb, out[u]);
    }
}

/* The tile's pairs, rows [lo, hi) of I (at most PAIR_ROWS_PER_CHUNK): the screen (a pair past
** the cut-off contributes nothing to either sum: KL >= 2 BD), then the kernels, then the exps
** (Bernoulli's kernel gives exp(-BD) itself). The rows meet the columns BD_COLS at a time, so
** that the columns' rows stay in the core's first-level cache from one row to the next (the
** kernels are bound by what they read); a row's kept pairs wait in `pend` until BD_COLS of
** them make one call, and its last ones are computed one call each. Off the diagonal, the
** rows' sums follow (tile_row), saving a pass. */
static void tile_pairs(void *arg, size_t lo, size_t hi) {
    const kde_tile *t = arg;
    const kde_job *j = t->j;
    size_t bb = (size_t)t->bi * t->bj;
    bool diag = t->i0 == t->j0;
    int pend[PAIR_ROWS_PER_CHUNK][BD_COLS], npend[PAIR_ROWS_PER_CHUNK] = { 0 };
    RT_ASSERT(hi - lo <= PAIR_ROWS_PER_CHUNK);
    for (int cb = 0; cb < t->bj; cb += BD_COLS) {
        int ce = t->bj - cb < BD_COLS ? t->bj : cb + BD_COLS;
        for (int r = (int)lo; r < (int)hi; r++) {
            int i = t->i0 + r, c0 = diag && r + 1 > cb ? r + 1 : cb, *p = pend[r - lo], *np = &npend[r - lo];
            const float *g2 = t->G2 + (size_t)r * t->bj;
            double *eb = t->E + (size_t)r * t->bj;
            for (int c = c0; c < ce; c++) {
                int l = t->j0 + c;
                if (bd_far(j, i, l, g2[c])) {
                    eb[c] = eb[c + bb] = eb[c + 2 * bb] = -1.0;
                } else if (pair_batched(j, i, l)) {
                    p[(*np)++] = l;
                    if (*np == BD_COLS) tile_batch(t, r, p, BD_COLS), *np = 0;
                } else {
                    double out[3];
                    pair_one(j, i, l, out);
                    pair_store(eb + c, eb + c + bb, eb + c + 2 * bb, out);
                }
            }
        }
    }
    for (int r = (int)lo; r < (int)hi; r++) {
        int c0 = diag ? r + 1 : 0, m = t->bj - c0;
        double *eb = t->E + (size_t)r * t->bj + c0;
        tile_batch(t, r, pend[r - lo], npend[r - lo]);
        if (m <= 0) continue;
        if (j->kind != KDE_BERN) pair_terms(eb, m);
        pair_terms(eb + bb, m);
        pair_terms(eb + 2 * bb, m);
        if (!diag) tile_row(t, t->i0 + r, t->j0, t->bj, r, false);     // all its pairs are this chunk's
    }
}

/* The diagonal tile's rows against its columns (off the diagonal, tile_pairs sums them). */
static void tile_rows(void *arg, size_t lo, size_t hi) {
    const kde_tile *t = arg;
    for (int r = (int)lo; r < (int)hi; r++) tile_row(t, t->i0 + r, t->j0, t->bj, r, false);
}

/* Off the diagonal: the tile's columns J as rows, against I. */
static void tile_cols(void *arg, size_t lo, size_t hi) {
    const kde_tile *t = arg;
    for (int r = (int)lo; r < (int)hi; r++) tile_row(t, t->j0 + r, t->i0, t->bi, r, true);
}


static void kde_pass_det(const kde_job *j, int bs, bool refine, const int32_t *cls, int nclass, float *G,
                         double *acc, int64_t *refined) {
    int n = j->n;
    rt_pool *pool = rt_blas_pool();
    for (int i0 = 0; i0 < n; i0 += bs) {
        int bi = n - i0 < bs ? n - i0 : bs;
        for (int j0 = 0; j0 < n; j0 += bs) {
            int bj = n - j0 < bs ? n - j0 : bs;
            rt_gemm(false, true, bi, bj, j->K, j->alpha, j->A + (size_t)i0 * j->K, j->K,
                    j->B + (size_t)j0 * j->K, j->K, 0.0f, G, bj);
            kde_block blk = { j, G, i0, j0, bj, nclass, refine, cls, acc, acc + n, acc + 2 * (size_t)n,
                              acc + 3 * (size_t)n, refined };
            rt_pool_for(pool, (size_t)bi, ROWS_PER_CHUNK, kde_block_rows, &blk);
        }
    }
}

static void kde_pass_tiles(const kde_job *j, int bs, const int32_t *cls, int nclass, float *G2, double *E,
                           double *acc) {
    int n = j->n;
    rt_pool *pool = rt_blas_pool();
    for (int i0 = 0; i0 < n; i0 += bs) {
        int bi = n - i0 < bs ? n - i0 : bs;
        for (int j0 = i0; j0 < n; j0 += bs) {
            int bj = n - j0 < bs ? n - j0 : bs;
            rt_gemm(false, true, bi, bj, j->K2, 1.0f, j->U + (size_t)i0 * j->K2, j->K2,
                    j->U + (size_t)j0 * j->K2, j->K2, 0.0f, G2, bj);
            kde_tile t = { j, G2, E, i0, bi, j0, bj, nclass, cls, acc, acc + n, acc + 2 * (size_t)n,
                           acc + 3 * (size_t)n };
            rt_pool_for(pool, (size_t)bi, PAIR_ROWS_PER_CHUNK, tile_pairs, &t);
            if (j0 == i0) rt_pool_for(pool, (size_t)bi, ROWS_PER_CHUNK, tile_rows, &t);
            else rt_pool_for(pool, (size_t)bj, ROWS_PER_CHUNK, tile_cols, &t);
        }
    }
}

static rt_status kde_run(kde_job *j, const int32_t *y, const nn_mi_kde_opts *o, nn_mi_kde *out,
                         double t0, rt_err *err) {
    int n = j->n, bs = (o && o->block > 0) ? o->block : DEFAULT_BLOCK;
    bool refine = !(o && o->no_refine);
    if (bs > n) bs = n;
    bool tiles = j->kind != KDE_DET;
    size_t bb = (size_t)bs * bs;
    float *G = nn_mi_alloc(bb * sizeof *G, "the GEMM block", err);
    double *E = tiles ? nn_mi_alloc(3 * bb * sizeof *E, "the pairs' tile", err) : NULL;
    double *acc = nn_mi_alloc(4 * (size_t)n * sizeof *acc, "row sums", err);
    int64_t *row_refined = nn_mi_alloc((size_t)n * sizeof *row_refined, "row counts", err);
    int32_t *cls = nn_mi_alloc((size_t)n * sizeof *cls, "labels", err);
    int nclass = 0;
    rt_status st = (G && (E || !tiles) && acc && row_refined && cls) ? RT_OK : RT_ERR_NOMEM;
    if (st == RT_OK) st = nn_mi_classes(y, n, cls, &nclass, err);
    if (st != RT_OK) { free(G); free(E); free(acc); free(row_refined); free(cls); return st; }
    double *s_kl = acc, *s_bd = acc + n, *c_kl = acc + 2 * (size_t)n, *c_bd = acc + 3 * (size_t)n;
    memset(acc, 0, 4 * (size_t)n * sizeof *acc);
    memset(row_refined, 0, (size_t)n * sizeof *row_refined);
    /* The pairwise terms run on the GEMM's threads (rt_blas_pool), between the block GEMMs. */
    if (tiles) kde_pass_tiles(j, bs, cls, nclass, G, E, acc);
    else kde_pass_det(j, bs, refine, cls, nclass, G, acc, row_refined);
    int64_t refined = 0;
    for (int i = 0; i < n; i++) refined += row_refined[i];
    free(row_refined);
    free(E);
    // Nats, then bits. ny[c] = rows of class c.
    int64_t *ny = rt_xcalloc((size_t)nclass + 1, sizeof *ny);
    for (int i = 0; i < n && nclass > 0; i++) ny[cls[i]]++;
    double ix_kl = 0.0, ix_bd = 0.0, cy_kl = 0.0, cy_bd = 0.0;
    for (int i = 0; i < n; i++) {
        ix_kl -= log(s_kl[i] / n);
        ix_bd -= log(s_bd[i] / n);
        if (nclass > 0) {
            double m = (double)ny[cls[i]];
            cy_kl += log(c_kl[i] / m);
            cy_bd += log(c_bd[i] / m);
        }
    }
    ix_kl /= n; ix_bd /= n; cy_kl /= n; cy_bd /= n;
    nn_mi_plane up = { .h_t = (j->hc + ix_kl) / NN_MI_LN2, .h_t_x = j->hc / NN_MI_LN2,
                       .ixt = ix_kl / NN_MI_LN2, .ity = NAN,
                       .side_h = NN_MI_UPPER, .side_ity = NN_MI_ESTIMATE };
    nn_mi_plane lo = { .h_t = (j->hc + ix_bd) / NN_MI_LN2, .h_t_x = j->hc / NN_MI_LN2,
                       .ixt = ix_bd / NN_MI_LN2, .ity = NAN,
                       .side_h = NN_MI_LOWER, .side_ity = NN_MI_ESTIMATE };
    if (nclass > 0) {
        up.ity = (ix_kl + cy_kl) / NN_MI_LN2;
        lo.ity = (ix_bd + cy_bd) / NN_MI_LN2;
    }
    out->upper = up;
    out->lower = lo;
    out->n = n;
    out->classes = nclass;
    out->refined = refined;
    free(ny);
    free(G);
    free(acc);
    free(cls);
    out->seconds = rt_now_s() - t0;
    return RT_OK;
}

// ---- entry points ----

rt_status nn_mi_kde_det(const float *h, int n, int d, double sigma2, const int32_t *y,
                        const nn_mi_kde_opts *o, nn_mi_kde *out, rt_err *err) {
    RT_ASSERT(h && out);
    double t0 = rt_now_s();
    rt_status st;
    if ((st = check_sizes(n, d, "nn_mi_kde_det", err)) != RT_OK) return st;
    if (!(sigma2 > 0.0 && isfinite(sigma2)))
        return rt_err_set(err, RT_ERR_ARG, "nn_mi_kde_det: noise variance sigma2=%g; it must be positive "
                          "and finite (Saxe et al. use 0.1 or 1e-3)", sigma2);
    if ((st = check_finite(h, n, d, "nn_mi_kde_det", "h", err)) != RT_OK) return st;
    kde_job j = { 0 };
    st = setup_det(&j, h, n, d, sigma2, err);
    if (st == RT_OK) st = kde_run(&j, y, o, out, t0, err);
    job_free(&j);
    return st;
}

rt_status nn_mi_kde_gauss(const float *mu, const float *sigma, int n, int d, const int32_t *y,
                          const nn_mi_kde_opts *o, nn_mi_kde *out, rt_err *err) {
    RT_ASSERT(mu && sigma && out);
    double t0 = rt_now_s();
    rt_status st;
    if ((st = check_sizes(n, d, "nn_mi_kde_gauss", err)) != RT_OK) return st;
    if ((st = check_finite(mu, n, d, "nn_mi_kde_gauss", "mu", err)) != RT_OK) return st;
    for (size_t e = 0; e < (size_t)n * d; e++)
        if (!(sigma[e] >= FLT_MIN && sigma[e] <= FLT_MAX))
            return rt_err_set(err, RT_ERR_NUMERIC, "nn_mi_kde_gauss: sigma[%zu][%zu] = %g; every sigma "
                              "must be positive, normal and finite", e / (size_t)d, e % (size_t)d,
                              (double)sigma[e]);
    kde_job j = { 0 };
    st = setup_gauss(&j, mu, sigma, n, d, err);
    if (st == RT_OK) st = kde_run(&j, y, o, out, t0, err);
    job_free(&j);
    return st;
}

rt_status nn_mi_kde_bern(const float *p, int n, int d, const int32_t *y, const nn_mi_kde_opts *o,
                         nn_mi_kde *out, rt_err *err) {
    RT_ASSERT(p && out);
    double t0 = rt_now_s();
    rt_status st;
    if ((st = check_sizes(n, d, "nn_mi_kde_bern", err)) != RT_OK) return st;
    for (size_t e = 0; e < (size_t)n * d; e++)
        if (!(p[e] >= 0.0f && p[e] <= 1.0f))
            return rt_err_set(err, RT_ERR_NUMERIC, "nn_mi_kde_bern: p[%zu][%zu] = %g is not a "
                              "probability in [0, 1]", e / (size_t)d, e % (size_t)d, (double)p[e]);
    kde_job j = { 0 };
    st = setup_bern(&j, p, n, d, err);
    if (st == RT_OK) st = kde_run(&j, y, o, out, t0, err);
    job_free(&j);
    return st;
}

rt_status nn_mi_kde_gauss_full(const float *mu, const float *L, int n, int d, const int32_t *y,
                               const nn_mi_kde_opts *o, nn_mi_kde *out, rt_err *err) {
    RT_ASSERT(mu && L && out);
    double t0 = rt_now_s();
    rt_status st;
    if ((st = check_sizes(n, d, "nn_mi_kde_gauss_full", err)) != RT_OK) return st;
    if (d > NN_MI_FULL_MAX_D)
        return rt_err_set(err, RT_ERR_ARG, "nn_mi_kde_gauss_full: d=%d; full covariances up to d=%d",
                          d, NN_MI_FULL_MAX_D);
    if ((st = check_finite(mu, n, d, "nn_mi_kde_gauss_full", "mu", err)) != RT_OK) return st;
    int P = d * (d + 1) / 2;
    if ((st = check_finite(L, n, P, "nn_mi_kde_gauss_full", "L", err)) != RT_OK) return st;
    for (int i = 0; i < n; i++)
        for (int r = 0; r < d; r++) {
            float v = L[(size_t)i * P + (size_t)(r * (r + 1) / 2 + r)];
            if (!(v >= FLT_MIN))
                return rt_err_set(err, RT_ERR_NUMERIC, "nn_mi_kde_gauss_full: L[%d] has %g on its diagonal "
                                  "(entry %d); the Cholesky factor needs a positive diagonal", i, (double)v, r);
        }
    kde_job j = { 0 };
    st = setup_full(&j, mu, L, n, d, err);
    if (st == RT_OK) st = kde_run(&j, y, o, out, t0, err);
    job_free(&j);
    return st;
}
