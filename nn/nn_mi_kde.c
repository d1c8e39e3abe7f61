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
// The KL divergences go through one GEMM per block: KL_ij = scale * (a_i + c_j + alpha A_i.B_j)
// with per-row vectors A, B and scalars a, c (see each kind's setup). Written this way, close
// pairs lose digits to cancellation in float (the deterministic case is ||a||^2 + ||b||^2 -
// 2 a.b). The data are centred first (every divergence here is translation invariant), and a pair
// whose GEMM value may be wrong by more than REFINE_TOL nats and may matter (below the cut-off,
// beyond which exp(-D) is below double resolution next to the self term) is recomputed directly
// in double. The error bound per pair is the probabilistic bound of Higham & Mary (2019) for a
// float dot product of length K, lambda sqrt(K) u sum_k |A_ik B_jk| with lambda = 6, plus 2u for
// storing A and B in float, and sum_k |A_ik B_jk| <= ||A_i|| ||B_j||. That bound is pessimistic
// (measured: N = 10,000 tanh rows, sigma2 = 0.1, d = 1024, bound 0.07 nats, and refining every
// close pair changed no result in the 4th decimal while taking 4x the time), so REFINE_TOL is
// 0.1 nats: pairs the GEMM gets badly wrong (large norms, small sigma: errors of hundreds of
// nats) are recomputed, ordinary ones are not. opts.no_refine gives the plain GEMM computation.
//
// The Bhattacharyya distances of Gaussian and Bernoulli components do not factor into a GEMM and
// cost a direct O(d) loop per pair. A second GEMM first screens the pairs with a cheap lower
// bound on BD (below); a pair whose bound, less its error, passes REFINE_CUT contributes nothing
// to either sum (KL >= 2 BD, by Jensen), so only the close pairs pay for the direct loops, which
// run across 64 pairs at a time where enough of them are close (bd_gauss_run, bd_bern_run).
//     Gaussian:  BD >= 1/4 sum_k dmu_k^2 / (v_ik + v_jk) >= ||mu_i - mu_j||^2 / (4 (vmax_i + vmax_j))
//     Bernoulli: BD = -sum_k ln BC_k >= sum_k (1 - BC_k) = d - u_i.u_j,  u = [sqrt p, sqrt(1 - p)]
// In the worst case (every pair overlaps) the cost stays O(N^2 d) with a division per element.
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
    int n, d, K;                // rows, features, GEMM inner size
    float *A, *B;               // (n, K) GEMM operands
    float alpha;                // GEMM factor
    double scale;               // KL = scale * (a_i + c_j + alpha A_i.B_j)
    double *a, *c;              // (n)
    double *ea, *eb;            // (n) error bound factors: delta_ij = ea_i * eb_j (nats)
    // the BD screen (Gaussian, Bernoulli): a lower bound on BD from a second GEMM U_i.U_j
    int K2;
    float *U;                   // (n, K2) Gaussian: centred mu; Bernoulli: [sqrt p, sqrt(1 - p)]
    double *un, *ue;            // (n) Gaussian: ||U_i||^2 and ||U_i|| kappa2^(1/2)
    double *vmax;               // (n) Gaussian: max_k v_ik
    double kappa2;              // error factor of the screen's GEMM
    double eb_max;              // max_j eb_j: a row i with ea_i eb_max <= REFINE_TOL refines no pair
    double hc;                  // mean_i H(p_i), nats
    double cut;                 // refine when KL - delta < cut
    // what the direct computations read
    const float *x;             // det: h (n, d); gauss: mu (n, d)
    const float *s;             // gauss: sigma (n, d)
    double *L;                  // gauss: (n) ln det Sigma_i (diagonal: sum_k ln v_ik)
    double *is;                 // gauss: (n, d) 1 / sigma
    double *sp, *sq, *lg;       // bern: (n, d) sqrt p, sqrt (1 - p), logit p (clamped p)
    double *spT, *sqT;          // bern: (d, n) sqrt p and sqrt (1 - p) again, by columns
    float *muT, *sT;            // gauss: (d, n) mu and sigma, by columns
    double *isT;                // gauss: (d, n) 1 / sigma, by columns
    double *pc;                 // bern: (n, d) clamped p
    double *cov, *prec;         // full: (n, d, d) Sigma_i and its inverse
} kde_job;

static void job_free(kde_job *j) {
    free(j->A); free(j->B); free(j->a); free(j->c); free(j->ea); free(j->eb);
    free(j->L); free(j->sp); free(j->sq); free(j->lg); free(j->pc); free(j->spT); free(j->sqT);
    free(j->muT); free(j->sT); free(j->isT);
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

// ---- the three kinds: GEMM setup and direct (double) divergences ----

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
// upper bound vmax on Sigma_i's largest eigenvalue, q = mu_i' P_i mu_i; and the component entropy.
static void gauss_row(kde_job *j, int i, double ldet, double un, double vmax, double q, double *hsum) {
    int d = j->d;
    j->L[i] = ldet;
    j->un[i] = un;
    j->ue[i] = sqrt(un * 2.0 * j->kappa2);
    j->vmax[i] = vmax;
    j->a[i] = -ldet - d;
    j->c[i] = q + ldet;
    *hsum += 0.5 * (d * LN_2PIE + ldet);
}

static void gauss_finish(kde_job *j, kde_kind kind, const float *mu, double hsum) {
    j->kind = kind;
    j->alpha = 1.0f;
    j->scale = 0.5;
    j->hc = hsum / j->n;
    j->cut = REFINE_CUT;
    j->x = mu;
    error_factors(j);
}

// Diagonal Gaussians, v = sigma^2, w = 1/v, mu centred:
//   KL(p_i || p_j) = 1/2 sum_k [ v_ik / v_jk + (mu_ik - mu_jk)^2 / v_jk - 1 + ln v_jk - ln v_ik ]
//                  = 1/2 ( a_i + c_j + A_i.B_j ),   A_i = [v_i + mu_i^2, mu_i],  B_j = [w_j, -2 mu_j w_j]
//   a_i = -sum_k ln v_ik - d,  c_j = sum_k mu_jk^2 w_jk + sum_k ln v_jk;  K = 2d.
static rt_status setup_gauss(kde_job *j, const float *mu, const float *sigma, int n, int d, rt_err *err) {
    if (job_alloc(j, n, 2 * d, "nn_mi_kde_gauss", err) != RT_OK) return RT_ERR_NOMEM;
    j->L = nn_mi_alloc((size_t)n * sizeof(double), "nn_mi_kde_gauss", err);
    j->U = nn_mi_alloc((size_t)n * d * sizeof(float), "nn_mi_kde_gauss", err);
    j->is = nn_mi_alloc((size_t)n * d * sizeof(double), "nn_mi_kde_gauss", err);
    j->un = nn_mi_alloc((size_t)n * sizeof(double), "nn_mi_kde_gauss", err);
    j->ue = nn_mi_alloc((size_t)n * sizeof(double), "nn_mi_kde_gauss", err);
    j->vmax = nn_mi_alloc((size_t)n * sizeof(double), "nn_mi_kde_gauss", err);
    j->muT = nn_mi_alloc((size_t)n * d * sizeof(float), "nn_mi_kde_gauss", err);
    j->sT = nn_mi_alloc((size_t)n * d * sizeof(float), "nn_mi_kde_gauss", err);
    j->isT = nn_mi_alloc((size_t)n * d * sizeof(double), "nn_mi_kde_gauss", err);
    double *m = nn_mi_alloc((size_t)d * sizeof *m, "nn_mi_kde_gauss", err);
    if (!j->L || !j->is || !j->U || !j->un || !j->ue || !j->vmax || !j->muT || !j->sT || !j->isT || !m) {
        free(m);
        return RT_ERR_NOMEM;
    }
    j->d = j->K2 = d;
    j->kappa2 = gemm_kappa(d);
    col_mean(mu, n, d, m);
    double hsum = 0.0;
    for (int i = 0; i < n; i++) {
        float *A = j->A + (size_t)i * 2 * d, *B = j->B + (size_t)i * 2 * d;
        double L = 0.0, q = 0.0, un = 0.0, vmax = 0.0;
        for (int k = 0; k < d; k++) {
            double s = (double)sigma[(size_t)i * d + k], v = s * s, w = 1.0 / v;
            double u = (double)mu[(size_t)i * d + k] - m[k];
            float uf = (float)u;
            j->is[(size_t)i * d + k] = j->isT[(size_t)k * n + i] = 1.0 / s;
            j->muT[(size_t)k * n + i] = mu[(size_t)i * d + k];
            j->sT[(size_t)k * n + i] = sigma[(size_t)i * d + k];
            j->U[(size_t)i * d + k] = uf;
            un += (double)uf * (double)uf;
            vmax = fmax(vmax, v);
            A[k] = (float)(v + u * u);
            A[d + k] = (float)u;
            B[k] = (float)w;
            B[d + k] = (float)(-2.0 * u * w);
            L += log(v);
            q += u * u * w;
        }
        gauss_row(j, i, L, un, vmax, q, &hsum);
    }
    free(m);
    j->s = sigma;
    gauss_finish(j, KDE_GAUSS, mu, hsum);
    return RT_OK;
}

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
// direct loop, O(d) per pair with one division per element, for a pair computed alone (runs of
// pairs: bd_gauss_run). The log of the product is taken only when the product passes 1e200;
// every factor is >= 1 and, for sigma in [FLT_MIN, FLT_MAX], below 1.5e76, so the product never
// overflows.
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

// Pairs whose Bhattacharyya distance the screen keeps are computed in runs: one row i against
// BD_RUN consecutive rows at once, when at least BD_RUN_MIN of them are kept (fewer: each alone,
// bd_gauss / bd_bern). A run reads the other rows' data transposed (each k a contiguous run of
// rows), so it vectorizes across pairs; each pair still runs over k in order, the same bytes in
// every clone. Which path a pair takes depends on the data and the block size, never on the
// thread count.
#define BD_RUN 64
#define BD_RUN_MIN 16

// The diagonal Gaussian BD of row i against a run of m <= BD_RUN rows l0, l0 + 1, ...: mu,
// sigma and 1/sigma transposed. Every factor of the product is >= 1 and, for sigma in
// [FLT_MIN, FLT_MAX], below 1.5e76; after each k a product past 1e200 is folded into its log, so
// none overflows.
RT_SIMD_CLONES
static void bd_gauss_run(const float *restrict mi, const float *restrict si, const double *restrict ii,
                         const float *restrict muT, const float *restrict sT, const double *restrict isT,
                         size_t n, int d, int m, double *restrict bd) {
    double q[BD_RUN], prod[BD_RUN], lp[BD_RUN];
    for (int c = 0; c < m; c++) q[c] = 0.0, prod[c] = 1.0, lp[c] = 0.0;
    for (int k = 0; k < d; k++) {
        const float *mu = muT + (size_t)k * n, *s = sT + (size_t)k * n;
        const double *is = isT + (size_t)k * n;
        double a = (double)si[k], aa = a * a, x = (double)mi[k], ia = 0.5 * ii[k];
        for (int c = 0; c < m; c++) {
            double b = (double)s[c], v = aa + b * b, t = x - (double)mu[c];
            q[c] += t * t / v;
            prod[c] *= v * ia * is[c];
        }
        int big = 0;                    /* a count, not a flag: gcc vectorizes this reduction */
        for (int c = 0; c < m; c++) big += prod[c] > 1e200;
        if (big)
            for (int c = 0; c < m; c++)
                if (prod[c] > 1e200) { lp[c] += log(prod[c]); prod[c] = 1.0; }
    }
    for (int c = 0; c < m; c++) bd[c] = 0.25 * q[c] + 0.5 * (lp[c] + log(prod[c]));
}

// Product Bernoulli, p clamped to [eps, 1 - eps]:
//   KL(p_i || p_j) = sum_k p_ik ln p_ik + (1 - p_ik) ln(1 - p_ik) - p_ik ln p_jk - (1 - p_ik) ln(1 - p_jk)
//                  = a_i + c_j + A_i.B_j,   A_i = p_i,  B_j = -logit(p_j),
//   a_i = -H(p_i) = sum_k p_ik ln p_ik + (1 - p_ik) ln(1 - p_ik),  c_j = -sum_k ln(1 - p_jk).
static rt_status setup_bern(kde_job *j, const float *p, int n, int d, rt_err *err) {
    if (job_alloc(j, n, d, "nn_mi_kde_bern", err) != RT_OK) return RT_ERR_NOMEM;
    size_t nd = (size_t)n * d;
    j->sp = nn_mi_alloc(nd * sizeof(double), "nn_mi_kde_bern", err);
    j->sq = nn_mi_alloc(nd * sizeof(double), "nn_mi_kde_bern", err);
    j->lg = nn_mi_alloc(nd * sizeof(double), "nn_mi_kde_bern", err);
    j->pc = nn_mi_alloc(nd * sizeof(double), "nn_mi_kde_bern", err);
    j->U = nn_mi_alloc(2 * nd * sizeof(float), "nn_mi_kde_bern", err);
    j->spT = nn_mi_alloc(nd * sizeof(double), "nn_mi_kde_bern", err);
    j->sqT = nn_mi_alloc(nd * sizeof(double), "nn_mi_kde_bern", err);
    if (!j->sp || !j->sq || !j->lg || !j->pc || !j->U || !j->spT || !j->sqT) return RT_ERR_NOMEM;
    j->K2 = 2 * d;
    j->kappa2 = gemm_kappa(2 * d) * d;        // ||u_i|| ||u_j|| = d
    double hsum = 0.0;
    for (int i = 0; i < n; i++) {
        double a = 0.0, c = 0.0;
        for (int k = 0; k < d; k++) {
            size_t e = (size_t)i * d + k;
            double q = fmin(fmax((double)p[e], NN_MI_P_EPS), 1.0 - NN_MI_P_EPS);
            double lp = log(q), lq = log1p(-q);
            j->pc[e] = q;
            j->sp[e] = j->spT[(size_t)k * n + i] = sqrt(q);
            j->sq[e] = j->sqT[(size_t)k * n + i] = sqrt(1.0 - q);
            j->U[(size_t)i * 2 * d + k] = (float)j->sp[e];
            j->U[(size_t)i * 2 * d + d + k] = (float)j->sq[e];
            j->lg[e] = lp - lq;
            j->A[e] = (float)q;
            j->B[e] = (float)(lq - lp);
            a += q * lp + (1.0 - q) * lq;
            c -= lq;
        }
        j->a[i] = a;
        j->c[i] = c;
        hsum -= a;
    }
    j->kind = KDE_BERN;
    j->d = d;
    j->alpha = 1.0f;
    j->scale = 1.0;
    j->hc = hsum / n;
    j->cut = REFINE_CUT;
    error_factors(j);
    return RT_OK;
}

static double kl_bern(const kde_job *j, int i, int l) {
    const double *pi = j->pc + (size_t)i * j->d, *gl = j->lg + (size_t)l * j->d;
    double s = 0.0;
    for (int k = 0; k < j->d; k++) s += pi[k] * gl[k];
    return j->a[i] + j->c[l] - s;
}

// Bhattacharyya between product Bernoullis: BD = -sum_k ln( sqrt(p_ik p_jk) + sqrt((1 - p_ik)(1 - p_jk)) ).
// The coefficient is a log of a sum, which does not factor into a GEMM: a direct loop, O(d) per
// pair (this one for a pair computed alone; runs: bd_bern_run), with the log taken once the
// product falls under 1e-200 (each factor is >= 2e-3 with p clamped to [1e-6, 1 - 1e-6], so the
// product never underflows).
static double bd_bern(const kde_job *j, int i, int l) {
    int d = j->d;
    const double *ai = j->sp + (size_t)i * d, *al = j->sp + (size_t)l * d;
    const double *bi = j->sq + (size_t)i * d, *bl = j->sq + (size_t)l * d;
    double prod[4] = { 1.0, 1.0, 1.0, 1.0 }, lp = 0.0;
    for (int k0 = 0; k0 < d; k0 += 4) {         // four lanes, as in bd_gauss
        int m = d - k0 < 4 ? d - k0 : 4;
        for (int u = 0; u < m; u++) prod[u] *= ai[k0 + u] * al[k0 + u] + bi[k0 + u] * bl[k0 + u];
        for (int u = 0; u < 4; u++)
            if (prod[u] < 1e-200) { lp += log(prod[u]); prod[u] = 1.0; }
    }
    return -(lp + log_prod4(prod, 1e75));
}

// The Bernoulli BD of row i against a run of m <= BD_RUN rows l0, l0 + 1, ...: sqrt p and
// sqrt(1 - p) transposed. The screen keeps only pairs with BD under about 6 x REFINE_CUT (each
// factor BC_k >= 2e-3 with p clamped to [1e-6, 1 - 1e-6], and -ln BC_k <= 6.3 (1 - BC_k)), whose
// products stay far above 1e-200; but a run computes the dropped pairs beside it too, so a log
// is taken when a product falls under 1e-200, checked every 32 factors (32 of them cannot take
// it below the smallest double): no product reaches the denormals, which are slow.
RT_SIMD_CLONES
static void bd_bern_run(const double *restrict ai, const double *restrict bi, const double *restrict spT,
                        const double *restrict sqT, size_t n, int d, int m, double *restrict bd) {
    double prod[BD_RUN], lp[BD_RUN];
    for (int c = 0; c < m; c++) prod[c] = 1.0, lp[c] = 0.0;
    for (int k0 = 0; k0 < d; k0 += 32) {
        int k1 = d - k0 < 32 ? d : k0 + 32;
        for (int k = k0; k < k1; k++) {
            const double *a = spT + (size_t)k * n, *b = sqT + (size_t)k * n;
            double x = ai[k], y = bi[k];
            for (int c = 0; c < m; c++) prod[c] *= x * a[c] + y * b[c];
        }
        for (int c = 0; c < m; c++)
            if (prod[c] < 1e-200) { lp[c] += log(prod[c]); prod[c] = 1.0; }
    }
    for (int c = 0; c < m; c++) bd[c] = -(lp[c] + log(prod[c]));
}

// Full-covariance Gaussians, Sigma_i = L_i L_i^T (L lower-triangular, packed by rows, positive
// diagonal), P_j = Sigma_j^-1, mu centred:
//   KL(p_i || p_j) = 1/2 [ tr(P_j Sigma_i) + (mu_i - mu_j)' P_j (mu_i - mu_j) - d + ln|Sigma_j| - ln|Sigma_i| ]
//                  = 1/2 ( a_i + c_j + A_i.B_j ),  A_i = [vec(Sigma_i + mu_i mu_i'), mu_i],
//                    B_j = [vec P_j, -2 P_j mu_j],  a_i = -ln|Sigma_i| - d,  c_j = mu_j' P_j mu_j + ln|Sigma_j|
// with K = d^2 + d: the diagonal case's algebra with the trace written as an inner product of the
// vectorized (symmetric) matrices. The BD screen is the diagonal case's with vmax_i = tr Sigma_i,
// an upper bound on its largest eigenvalue.
static rt_status setup_full(kde_job *j, const float *mu, const float *L, int n, int d, rt_err *err) {
    int K = d * d + d, P = d * (d + 1) / 2;
    if (job_alloc(j, n, K, "nn_mi_kde_gauss_full", err) != RT_OK) return RT_ERR_NOMEM;
    size_t dd = (size_t)d * d;
    j->cov = nn_mi_alloc((size_t)n * dd * sizeof(double), "nn_mi_kde_gauss_full", err);
    j->prec = nn_mi_alloc((size_t)n * dd * sizeof(double), "nn_mi_kde_gauss_full", err);
    j->L = nn_mi_alloc((size_t)n * sizeof(double), "nn_mi_kde_gauss_full", err);
    j->U = nn_mi_alloc((size_t)n * d * sizeof(float), "nn_mi_kde_gauss_full", err);
    j->un = nn_mi_alloc((size_t)n * sizeof(double), "nn_mi_kde_gauss_full", err);
    j->ue = nn_mi_alloc((size_t)n * sizeof(double), "nn_mi_kde_gauss_full", err);
    j->vmax = nn_mi_alloc((size_t)n * sizeof(double), "nn_mi_kde_gauss_full", err);
    double *m = nn_mi_alloc((size_t)d * sizeof *m, "nn_mi_kde_gauss_full", err);
    double *Li = nn_mi_alloc(2 * dd * sizeof *Li, "nn_mi_kde_gauss_full", err);
    if (!j->cov || !j->prec || !j->L || !j->U || !j->un || !j->ue || !j->vmax || !m || !Li) {
        free(m); free(Li);
        return RT_ERR_NOMEM;
    }
    double *W = Li + dd;        // W = L^-1 (lower-triangular)
    j->d = j->K2 = d;
    j->kappa2 = gemm_kappa(d);
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
        float *A = j->A + (size_t)i * K, *B = j->B + (size_t)i * K, *U = j->U + (size_t)i * d;
        double un = 0.0, tr = 0.0, q = 0.0;
        for (int r = 0; r < d; r++) {
            double ur = (double)mu[(size_t)i * d + r] - m[r], pu = 0.0;
            U[r] = (float)ur;
            un += (double)U[r] * (double)U[r];
            tr += S[r * d + r];
            for (int c = 0; c < d; c++) {
                double uc = (double)mu[(size_t)i * d + c] - m[c];
                A[r * d + c] = (float)(S[r * d + c] + ur * uc);
                B[r * d + c] = (float)Q[r * d + c];
                pu += Q[r * d + c] * uc;
            }
            A[dd + r] = (float)ur;
            B[dd + r] = (float)(-2.0 * pu);
            q += ur * pu;
        }
        gauss_row(j, i, ld, un, tr, q, &hsum);
    }
    free(m);
    free(Li);
    gauss_finish(j, KDE_FULL, mu, hsum);
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

static double kl_direct(const kde_job *j, int i, int l) {
    switch (j->kind) {
    case KDE_DET: return kl_det(j, i, l);
    case KDE_GAUSS: return kl_gauss(j, i, l);
    case KDE_BERN: return kl_bern(j, i, l);
    case KDE_FULL: return kl_full(j, i, l);
    }
    RT_ABORT("unknown kde kind %d", (int)j->kind);
}

// ---- the blocked pass ----

// A lower bound on BD(p_i, p_l), less the bound on its GEMM error, from g = U_i.U_l.
static double bd_screen(const kde_job *j, int i, int l, float g) {
    if (j->kind == KDE_GAUSS || j->kind == KDE_FULL) {
        double den = 4.0 * (j->vmax[i] + j->vmax[l]);
        return (j->un[i] + j->un[l] - 2.0 * (double)g - j->ue[i] * j->ue[l]) / den;
    }
    return j->d - (double)g - j->kappa2;
}

static double exp_neg(double x) { return x < 745.0 ? exp(-x) : 0.0; }

/* The rows [lo, hi) of one GEMM block: each row's divergence terms, summed in column order into
** that row's own accumulators, so the chunks of rt_pool_for write disjoint entries and the sums
** do not depend on the thread count. */
typedef struct kde_block {
    const kde_job *j;
    const float *G, *G2;
    int i0, j0, bj, nclass;
    bool screen, refine;
    const int32_t *cls;
    double *s_kl, *s_bd, *c_kl, *c_bd;
    int64_t *refined;           /* per row of the block */
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
        const float *g = b->G + (size_t)r * bj, *g2 = b->screen ? b->G2 + (size_t)r * bj : NULL;
        if (j->kind == KDE_DET && !(b->refine && j->ea[i] * j->eb_max > REFINE_TOL)) {
            det_row(b, i, g);
            continue;
        }
        double s_kl = 0.0, s_bd = 0.0, c_kl = 0.0, c_bd = 0.0;
        int64_t refined = 0;
        double bdrun[BD_RUN];
        bool run = false, keep[BD_RUN];
        for (int c = 0; c < bj; c++) {
            int l = b->j0 + c;
            // Far apart (BD and KL >= 2 BD past the cut-off): both terms are 0 to double
            // precision next to the self term. The screen is read for BD_RUN pairs at a time;
            // for diagonal Gaussians and Bernoullis, when enough of them pass (the pair of row i
            // with itself has BD 0 and does not count), their BD is computed as one run.
            if (b->screen && c % BD_RUN == 0) {
                int m = bj - c < BD_RUN ? bj - c : BD_RUN, near = 0;
                for (int u = 0; u < m; u++) {
                    keep[u] = l + u == i || bd_screen(j, i, l + u, g2[c + u]) <= REFINE_CUT;
                    near += keep[u] && l + u != i;
                }
                run = near >= BD_RUN_MIN && (j->kind == KDE_GAUSS || j->kind == KDE_BERN);
                size_t at = (size_t)i * j->d;
                if (run && j->kind == KDE_GAUSS)
                    bd_gauss_run(j->x + at, j->s + at, j->is + at, j->muT + l, j->sT + l, j->isT + l,
                                 (size_t)j->n, j->d, m, bdrun);
                else if (run)
                    bd_bern_run(j->sp + at, j->sq + at, j->spT + l, j->sqT + l, (size_t)j->n, j->d, m, bdrun);
            }
            if (b->screen && !keep[c % BD_RUN]) continue;
            double kl = 0.0, bd = 0.0;
            if (l != i) {
                kl = j->scale * (j->a[i] + j->c[l] + (double)g[c]);
                double delta = j->ea[i] * j->eb[l];
                if (b->refine && delta > REFINE_TOL && kl - delta < j->cut) {
                    kl = kl_direct(j, i, l);
                    refined++;
                }
                if (kl < 0.0) kl = 0.0;
                if (run) bd = bdrun[c % BD_RUN];
                else if (j->kind == KDE_GAUSS) bd = bd_gauss(j, i, l);
                else if (j->kind == KDE_BERN) bd = bd_bern(j, i, l);
                else if (j->kind == KDE_FULL) bd = bd_full(j, i, l);
                if (bd < 0.0) bd = 0.0;
            }
            double ek, eb;
            if (j->kind == KDE_DET) {           // BD = KL / 4: one exp, two squarings
                eb = exp_neg(0.25 * kl);
                ek = (eb * eb) * (eb * eb);
            } else {
                ek = exp_neg(kl);
                eb = exp_neg(bd);
            }
            s_kl += ek;
            s_bd += eb;
            if (b->nclass > 0 && b->cls[i] == b->cls[l]) { c_kl += ek; c_bd += eb; }
        }
        b->s_kl[i] += s_kl;
        b->s_bd[i] += s_bd;
        b->c_kl[i] += c_kl;
        b->c_bd[i] += c_bd;
        b->refined[r] += refined;
    }
}

static rt_status kde_run(kde_job *j, const int32_t *y, const nn_mi_kde_opts *o, nn_mi_kde *out,
                         double t0, rt_err *err) {
    int n = j->n, bs = (o && o->block > 0) ? o->block : DEFAULT_BLOCK;
    bool refine = !(o && o->no_refine);
    if (bs > n) bs = n;
    bool screen = j->kind != KDE_DET;
    float *G = nn_mi_alloc((size_t)bs * bs * sizeof *G, "the GEMM block", err);
    float *G2 = screen ? nn_mi_alloc((size_t)bs * bs * sizeof *G2, "the GEMM block", err) : NULL;
    double *acc = nn_mi_alloc(4 * (size_t)n * sizeof *acc, "row sums", err);
    int32_t *cls = nn_mi_alloc((size_t)n * sizeof *cls, "labels", err);
    int nclass = 0;
    rt_status st = (G && (G2 || !screen) && acc && cls) ? RT_OK : RT_ERR_NOMEM;
    if (st == RT_OK) st = nn_mi_classes(y, n, cls, &nclass, err);
    if (st != RT_OK) { free(G); free(G2); free(acc); free(cls); return st; }
    double *s_kl = acc, *s_bd = acc + n, *c_kl = acc + 2 * (size_t)n, *c_bd = acc + 3 * (size_t)n;
    memset(acc, 0, 4 * (size_t)n * sizeof *acc);
    int64_t refined = 0, *row_refined = rt_xcalloc((size_t)bs, sizeof *row_refined);
    /* The pairwise terms run on the GEMM's threads (rt_blas_pool), between the block GEMMs: the
    ** exp per pair costs more than the GEMM. */
    rt_pool *pool = rt_blas_pool();
    for (int i0 = 0; i0 < n; i0 += bs) {
        int bi = n - i0 < bs ? n - i0 : bs;
        for (int j0 = 0; j0 < n; j0 += bs) {
            int bj = n - j0 < bs ? n - j0 : bs;
            rt_gemm(false, true, bi, bj, j->K, j->alpha, j->A + (size_t)i0 * j->K, j->K,
                    j->B + (size_t)j0 * j->K, j->K, 0.0f, G, bj);
            if (screen)
                rt_gemm(false, true, bi, bj, j->K2, 1.0f, j->U + (size_t)i0 * j->K2, j->K2,
                        j->U + (size_t)j0 * j->K2, j->K2, 0.0f, G2, bj);
            kde_block blk = { j, G, G2, i0, j0, bj, nclass, screen, refine, cls, s_kl, s_bd, c_kl, c_bd, row_refined };
            rt_pool_for(pool, (size_t)bi, ROWS_PER_CHUNK, kde_block_rows, &blk);
        }
    }
    for (int r = 0; r < bs; r++) refined += row_refined[r];
    free(row_refined);
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
    free(G2);
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
