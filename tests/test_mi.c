// test_mi.c: the mutual-information estimators against known values: closed forms (correlated
// Gaussians, far-apart and identical components, enumerated patterns), an exact or Monte Carlo
// mixture entropy between the pairwise bounds, and naive double loops written here from the
// textbook formulas (one log per element, no GEMM, no cancellation tricks).
//
// Test data come from the estimator-subsampling stream (RT_STREAM_ESTIM) with fixed seeds.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_mi.h"
#include "nn_mi_check.h"
#include "nn_mi_impl.h"
#include "rt_blas.h"

#define LN2 0.69314718055994530942

static rt_rng stream(uint64_t seed) {
    rt_rng r;
    rt_rng_stream(&r, seed, 0, RT_STREAM_ESTIM);
    return r;
}

static float *floats(size_t n) {
    float *x = calloc(n ? n : 1, sizeof *x);
    cr_assert_not_null(x);
    return x;
}

static int32_t *labels(rt_rng *r, int n, int nclass) {
    int32_t *y = calloc((size_t)n, sizeof *y);
    cr_assert_not_null(y);
    for (int i = 0; i < n; i++) y[i] = (int32_t)rt_rng_below(r, (uint32_t)nclass);
    return y;
}

// |a - b| <= rel * max(|a|, |b|, floor): relative, with an absolute floor for values near 0.
static void expect_rel(double got, double want, double rel, double floor, const char *what) {
    double scale = fmax(fmax(fabs(got), fabs(want)), floor);
    cr_expect(fabs(got - want) <= rel * scale, "%s: got %.12g, want %.12g (rel tol %g)", what, got,
              want, rel);
}

// ---- digamma ----

Test(mi, digamma_known_values) {
    // psi(1) = -gamma, psi(1/2) = -gamma - 2 ln 2, psi(n + 1) = psi(n) + 1/n; series at x >= 10.
    const double gamma = 0.57721566490153286061;
    cr_expect(fabs(nn_mi_digamma(1.0) + gamma) < 1e-13);
    cr_expect(fabs(nn_mi_digamma(0.5) + gamma + 2.0 * LN2) < 1e-13);
    double h = 0.0;
    for (int n = 1; n < 200; n++) {
        double want = h - gamma;              // psi(n) = H_{n-1} - gamma
        cr_expect(fabs(nn_mi_digamma(n) - want) < 1e-12 * fmax(1.0, fabs(want)), "psi(%d)", n);
        h += 1.0 / n;
    }
    cr_expect(fabs(nn_mi_digamma(1e6) - (log(1e6) - 0.5e-6)) < 1e-12);
}

// ---- pairwise-distance bounds: a naive reference ----

// Per-pair divergences and component entropies, in nats, from the textbook formulas.
typedef struct ref_mix {
    int n;
    double *kl, *bd;            // (n, n)
    double *hc;                 // (n)
} ref_mix;

static ref_mix ref_alloc(int n) {
    ref_mix m = { .n = n, .kl = calloc((size_t)n * n, sizeof(double)),
                  .bd = calloc((size_t)n * n, sizeof(double)), .hc = calloc((size_t)n, sizeof(double)) };
    cr_assert(m.kl && m.bd && m.hc);
    return m;
}

static void ref_free(ref_mix *m) { free(m->kl); free(m->bd); free(m->hc); }

// Diagonal Gaussians N(mu_i, diag(s_i^2)); a deterministic layer is s = sqrt(sigma2) everywhere.
static ref_mix ref_gauss(const float *mu, const float *s, int n, int d) {
    ref_mix m = ref_alloc(n);
    for (int i = 0; i < n; i++) {
        double h = 0.0;
        for (int k = 0; k < d; k++) {
            double v = (double)s[i * d + k] * (double)s[i * d + k];
            h += 0.5 * log(2.0 * 3.14159265358979323846 * exp(1.0) * v);
        }
        m.hc[i] = h;
        for (int j = 0; j < n; j++) {
            double kl = 0.0, bd = 0.0;
            for (int k = 0; k < d; k++) {
                double vi = (double)s[i * d + k] * (double)s[i * d + k];
                double vj = (double)s[j * d + k] * (double)s[j * d + k];
                double dm = (double)mu[i * d + k] - (double)mu[j * d + k];
                kl += 0.5 * (vi / vj + dm * dm / vj - 1.0 + log(vj / vi));
                double V = 0.5 * (vi + vj);
                bd += 0.125 * dm * dm / V + 0.5 * log(V / sqrt(vi * vj));
            }
            m.kl[i * n + j] = kl;
            m.bd[i * n + j] = bd;
        }
    }
    return m;
}

static double clampp(float p) { return fmin(fmax((double)p, NN_MI_P_EPS), 1.0 - NN_MI_P_EPS); }

static ref_mix ref_bern(const float *p, int n, int d) {
    ref_mix m = ref_alloc(n);
    for (int i = 0; i < n; i++) {
        double h = 0.0;
        for (int k = 0; k < d; k++) {
            double a = clampp(p[i * d + k]);
            h -= a * log(a) + (1.0 - a) * log(1.0 - a);
        }
        m.hc[i] = h;
        for (int j = 0; j < n; j++) {
            double kl = 0.0, bd = 0.0;
            for (int k = 0; k < d; k++) {
                double a = clampp(p[i * d + k]), b = clampp(p[j * d + k]);
                kl += a * log(a / b) + (1.0 - a) * log((1.0 - a) / (1.0 - b));
                bd -= log(sqrt(a * b) + sqrt((1.0 - a) * (1.0 - b)));
            }
            m.kl[i * n + j] = kl;
            m.bd[i * n + j] = bd;
        }
    }
    return m;
}

// H_D of the mixture of the rows with y == cls (all rows when y is NULL), equal weights, nats:
// mean_a H(p_a) - mean_a ln( (1/m) sum_b exp(-D_ab) ), log-sum-exp shifted by the row maximum.
static double ref_entropy(const ref_mix *m, const double *D, const int32_t *y, int32_t cls) {
    int n = m->n, cnt = 0;
    double h = 0.0;
    for (int a = 0; a < n; a++) {
        if (y && y[a] != cls) continue;
        double mx = -INFINITY;
        for (int b = 0; b < n; b++)
            if (!y || y[b] == cls) mx = fmax(mx, -D[a * n + b]);
        double s = 0.0;
        int mb = 0;
        for (int b = 0; b < n; b++)
            if (!y || y[b] == cls) { s += exp(-D[a * n + b] - mx); mb++; }
        h += m->hc[a] - (mx + log(s) - log((double)mb));
        cnt++;
    }
    return h / cnt;
}

typedef struct ref_plane { double h, hx, ixt, ity; } ref_plane;

// Bits. I(T;Y) = H(T) - sum_y p(y) H(T|Y=y), each H_D on the class's rows.
static ref_plane ref_plane_of(const ref_mix *m, const double *D, const int32_t *y, int nclass) {
    ref_plane p;
    double hx = 0.0;
    for (int a = 0; a < m->n; a++) hx += m->hc[a];
    hx /= m->n;
    double h = ref_entropy(m, D, NULL, 0), hy = 0.0;
    for (int c = 0; c < nclass; c++) {
        int cnt = 0;
        for (int a = 0; a < m->n; a++) cnt += y[a] == c;
        if (cnt > 0) hy += (double)cnt / m->n * ref_entropy(m, D, y, c);
    }
    p.h = h / LN2;
    p.hx = hx / LN2;
    p.ixt = (h - hx) / LN2;
    p.ity = y ? (h - hy) / LN2 : (double)NAN;
    return p;
}

// Tolerances: the GEMM runs in float, so divergences carry ~1e-7 relative error (more where
// ||a||^2 + ||b||^2 - 2 a.b cancels); 1e-5 relative on entropies and informations leaves two
// orders of margin. A floor of 1e-6 bits covers quantities that are 0.
static void expect_plane(const nn_mi_plane *got, const ref_plane *want, double rel, const char *what) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s h_t", what);    expect_rel(got->h_t, want->h, rel, 1e-6, buf);
    snprintf(buf, sizeof buf, "%s h_t_x", what);  expect_rel(got->h_t_x, want->hx, rel, 1e-6, buf);
    snprintf(buf, sizeof buf, "%s ixt", what);    expect_rel(got->ixt, want->ixt, rel, 1e-6, buf);
    snprintf(buf, sizeof buf, "%s ity", what);    expect_rel(got->ity, want->ity, rel, 1e-6, buf);
}

static void expect_sides(const nn_mi_kde *k) {
    cr_expect_eq(k->upper.side_h, NN_MI_UPPER);
    cr_expect_eq(k->lower.side_h, NN_MI_LOWER);
    cr_expect_eq(k->upper.side_ity, NN_MI_ESTIMATE);
    cr_expect_str_eq(nn_mi_side_name(k->lower.side_h), "lower");
    // Bhattacharyya <= KL pairwise, so every lower value sits below its upper one.
    cr_expect(k->lower.h_t <= k->upper.h_t + 1e-12, "H lower %g > upper %g", k->lower.h_t, k->upper.h_t);
    cr_expect(k->lower.ixt <= k->upper.ixt + 1e-12, "I lower %g > upper %g", k->lower.ixt, k->upper.ixt);
    cr_expect(k->seconds >= 0.0);
}

// ---- pairwise-distance bounds against the naive loops ----

Test(mi, kde_det_matches_naive_loop) {
    rt_rng r = stream(11);
    int n = 53, d = 7, nclass = 3;
    double sigma2 = 0.3;
    float *h = floats((size_t)n * d), *s = floats((size_t)n * d);
    rt_rng_fill_normal(&r, h, (size_t)n * d, 0.5f, 0.6f);
    for (int e = 0; e < n * d; e++) s[e] = (float)sqrt(sigma2);
    int32_t *y = labels(&r, n, nclass);
    ref_mix m = ref_gauss(h, s, n, d);
    // The reference uses the float sqrt(sigma2); feed the estimator the same variance.
    double s2 = (double)s[0] * (double)s[0];
    ref_plane up = ref_plane_of(&m, m.kl, y, nclass), lo = ref_plane_of(&m, m.bd, y, nclass);
    for (int refine = 0; refine < 2; refine++) {
        nn_mi_kde_opts o = { .block = 16, .no_refine = !refine };
        nn_mi_kde k;
        rt_err err = { 0 };
        cr_assert_eq(nn_mi_kde_det(h, n, d, s2, y, &o, &k, &err), RT_OK, "%s", err.msg);
        expect_plane(&k.upper, &up, 1e-5, "det upper");
        expect_plane(&k.lower, &lo, 1e-5, "det lower");
        expect_sides(&k);
        cr_expect_eq(k.classes, nclass);
        cr_expect_eq(k.n, n);
    }
    ref_free(&m);
    free(h); free(s); free(y);
}

// The call-free exp(-x) the deterministic rows vectorize over, against libm's: within 2^-50
// relative on [0, 708) (a grid, the reduction's rounding points n ln 2 +- ln 2 / 2, and tiny x),
// exactly 1 at 0, and 0 from 708 on (where exp(-x) < 3.3e-308).
Test(mi, exp_neg_matches_libm) {
    double worst = 0.0;
    for (int k = 0; k <= 708000; k++) {
        double xs[4] = { k * 1e-3, (k % 1022) * 0.69314718055994530942 + 0.34657359027997264, k * 1e-3 + 1e-9,
                         ldexp(1.0, -(k % 60)) };
        for (int v = 0; v < 4; v++) {
            double x = xs[v];
            if (!(x < 708.0)) continue;
            double want = exp(-x), got = nn_mi_exp_neg(x);
            worst = fmax(worst, fabs(got - want) / want);
        }
    }
    cr_expect(worst <= ldexp(1.0, -50), "worst relative error %g", worst);
    cr_expect_eq(nn_mi_exp_neg(0.0), 1.0);
    cr_expect_eq(nn_mi_exp_neg(708.0), 0.0);
    cr_expect_eq(nn_mi_exp_neg(1e300), 0.0);
    cr_expect_eq(nn_mi_exp_neg(INFINITY), 0.0);
}

// The deterministic kind's vectorized rows (every row here: no pair needs refinement) on an
// information-plane-like layer: 600 tanh rows of 10 noisy clusters in d = 48, sigma2 = 0.1,
// blocks of 256 (full runs of 64 columns and a ragged last one), against the naive double loop.
Test(mi, kde_det_vectorized_rows_match_naive_loop) {
    rt_rng r = stream(23);
    int n = 600, d = 48, nclass = 10;
    double sigma2 = 0.1;
    float *c = floats((size_t)nclass * d), *h = floats((size_t)n * d), *s = floats((size_t)n * d);
    rt_rng_fill_normal(&r, c, (size_t)nclass * d, 0.0f, 0.3f);
    int32_t *y = labels(&r, n, nclass);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++) {
            h[(size_t)i * d + k] = tanhf(c[y[i] * d + k] + 0.3f * (float)rt_rng_normal(&r));
            s[(size_t)i * d + k] = (float)sqrt(sigma2);
        }
    double s2 = (double)s[0] * (double)s[0];
    ref_mix m = ref_gauss(h, s, n, d);
    ref_plane up = ref_plane_of(&m, m.kl, y, nclass), lo = ref_plane_of(&m, m.bd, y, nclass);
    nn_mi_kde k;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_kde_det(h, n, d, s2, y, NULL, &k, &err), RT_OK, "%s", err.msg);
    cr_expect_eq(k.refined, 0);
    expect_plane(&k.upper, &up, 1e-5, "det upper");
    expect_plane(&k.lower, &lo, 1e-5, "det lower");
    ref_free(&m);
    free(c); free(h); free(s); free(y);
}

// Two layouts: a small one in blocks of 8 rows; and blocks of 100 in d = 40, where a third of
// the rows sit in a far cluster (runs of pairs with few kept by the screen are computed one by
// one, the others as runs of 64), and rows 0 and 1 have sigma 1e9 and 1e-9, whose Bhattacharyya
// product overflows a double unless it is folded into its log on the way.
Test(mi, kde_gauss_matches_naive_loop) {
    const int cfg[][3] = { { 41, 6, 8 }, { 150, 40, 100 } };      /* n, d, block */
    for (int t = 0; t < 2; t++) {
        rt_rng r = stream(12);
        int n = cfg[t][0], d = cfg[t][1], nclass = 4;
        float *mu = floats((size_t)n * d), *s = floats((size_t)n * d);
        rt_rng_fill_normal(&r, mu, (size_t)n * d, 0.0f, 1.0f);
        rt_rng_fill_uniform(&r, s, (size_t)n * d, 0.3f, 1.5f);
        if (t == 1)
            for (int k = 0; k < d; k++) {
                s[k] = 1e9f, s[d + k] = 1e-9f;
                for (int i = 2; i < n; i += 3) mu[(size_t)i * d + k] += 50.0f;
            }
        int32_t *y = labels(&r, n, nclass);
        ref_mix m = ref_gauss(mu, s, n, d);
        ref_plane up = ref_plane_of(&m, m.kl, y, nclass), lo = ref_plane_of(&m, m.bd, y, nclass);
        for (int refine = 0; refine < 2; refine++) {
            nn_mi_kde_opts o = { .block = cfg[t][2], .no_refine = !refine };
            nn_mi_kde k;
            rt_err err = { 0 };
            cr_assert_eq(nn_mi_kde_gauss(mu, s, n, d, y, &o, &k, &err), RT_OK, "%s", err.msg);
            expect_plane(&k.upper, &up, 1e-5, "gauss upper");
            expect_plane(&k.lower, &lo, 1e-5, "gauss lower");
            expect_sides(&k);
        }
        ref_free(&m);
        free(mu); free(s); free(y);
    }
}

// Full covariances Sigma_i = L_i L_i^T from packed lower-triangular L: a Gauss-Jordan inverse and
// an elimination determinant (not the Cholesky route of the estimator), then the textbook KL and
// Bhattacharyya. d <= 4.
static void packed_cov(const float *L, int d, double *S) {
    double M[16] = { 0 };
    for (int r = 0; r < d; r++)
        for (int c = 0; c <= r; c++) M[r * d + c] = (double)L[r * (r + 1) / 2 + c];
    for (int r = 0; r < d; r++)
        for (int c = 0; c < d; c++) {
            S[r * d + c] = 0.0;
            for (int k = 0; k < d; k++) S[r * d + c] += M[r * d + k] * M[c * d + k];
        }
}

static double inv_det(const double *A, int d, double *inv) {
    double M[16], det = 1.0;
    memcpy(M, A, (size_t)d * d * sizeof *M);
    for (int r = 0; r < d; r++)
        for (int c = 0; c < d; c++) inv[r * d + c] = r == c;
    for (int c = 0; c < d; c++) {
        int piv = c;
        for (int r = c + 1; r < d; r++) if (fabs(M[r * d + c]) > fabs(M[piv * d + c])) piv = r;
        if (piv != c) {
            for (int k = 0; k < d; k++) {
                double t = M[c * d + k]; M[c * d + k] = M[piv * d + k]; M[piv * d + k] = t;
                t = inv[c * d + k]; inv[c * d + k] = inv[piv * d + k]; inv[piv * d + k] = t;
            }
            det = -det;
        }
        double p = M[c * d + c];
        det *= p;
        for (int k = 0; k < d; k++) { M[c * d + k] /= p; inv[c * d + k] /= p; }
        for (int r = 0; r < d; r++) {
            if (r == c) continue;
            double f = M[r * d + c];
            for (int k = 0; k < d; k++) { M[r * d + k] -= f * M[c * d + k]; inv[r * d + k] -= f * inv[c * d + k]; }
        }
    }
    return det;
}

static ref_mix ref_full(const float *mu, const float *L, int n, int d) {
    ref_mix m = ref_alloc(n);
    int P = d * (d + 1) / 2;
    for (int i = 0; i < n; i++) {
        double Si[16], Ii[16];
        packed_cov(L + (size_t)i * P, d, Si);
        double di = inv_det(Si, d, Ii);
        m.hc[i] = 0.5 * (d * log(2.0 * 3.14159265358979323846 * exp(1.0)) + log(di));
        for (int j = 0; j < n; j++) {
            double Sj[16], Ij[16], V[16], IV[16], dm[4];
            packed_cov(L + (size_t)j * P, d, Sj);
            double dj = inv_det(Sj, d, Ij);
            for (int k = 0; k < d * d; k++) V[k] = 0.5 * (Si[k] + Sj[k]);
            double dv = inv_det(V, d, IV);
            for (int k = 0; k < d; k++) dm[k] = (double)mu[i * d + k] - (double)mu[j * d + k];
            double tr = 0.0, qj = 0.0, qv = 0.0;
            for (int r = 0; r < d; r++)
                for (int c = 0; c < d; c++) {
                    tr += Ij[r * d + c] * Si[c * d + r];
                    qj += dm[r] * Ij[r * d + c] * dm[c];
                    qv += dm[r] * IV[r * d + c] * dm[c];
                }
            m.kl[i * n + j] = 0.5 * (tr + qj - d + log(dj / di));
            m.bd[i * n + j] = 0.125 * qv + 0.5 * log(dv / sqrt(di * dj));
        }
    }
    return m;
}

// n rows of packed factors: diagonal in [lo, hi], below it N(0, off^2).
static float *random_factors(rt_rng *r, int n, int d, float lo, float hi, float off) {
    int P = d * (d + 1) / 2;
    float *L = floats((size_t)n * P);
    for (int i = 0; i < n; i++)
        for (int a = 0; a < d; a++)
            for (int b = 0; b <= a; b++)
                L[(size_t)i * P + (size_t)(a * (a + 1) / 2 + b)] =
                    a == b ? lo + (hi - lo) * (float)rt_rng_uniform(r) : off * (float)rt_rng_normal(r);
    return L;
}

Test(mi, kde_gauss_full_matches_naive_loop) {
    rt_rng r = stream(13);
    int n = 37, d = 3, nclass = 3;
    float *mu = floats((size_t)n * d);
    rt_rng_fill_normal(&r, mu, (size_t)n * d, 0.0f, 1.0f);
    float *L = random_factors(&r, n, d, 0.4f, 1.2f, 0.4f);
    int32_t *y = labels(&r, n, nclass);
    ref_mix m = ref_full(mu, L, n, d);
    ref_plane up = ref_plane_of(&m, m.kl, y, nclass), lo = ref_plane_of(&m, m.bd, y, nclass);
    for (int refine = 0; refine < 2; refine++) {
        nn_mi_kde_opts o = { .block = 8, .no_refine = !refine };
        nn_mi_kde k;
        rt_err err = { 0 };
        cr_assert_eq(nn_mi_kde_gauss_full(mu, L, n, d, y, &o, &k, &err), RT_OK, "%s", err.msg);
        expect_plane(&k.upper, &up, 1e-5, "full upper");
        expect_plane(&k.lower, &lo, 1e-5, "full lower");
        expect_sides(&k);
    }
    // A diagonal factor is the diagonal estimator's case: the same bounds.
    int P = d * (d + 1) / 2;
    float *s = floats((size_t)n * d);
    for (int i = 0; i < n; i++)
        for (int a = 0; a < d; a++) {
            s[i * d + a] = L[(size_t)i * P + (size_t)(a * (a + 1) / 2 + a)];
            for (int b = 0; b < a; b++) L[(size_t)i * P + (size_t)(a * (a + 1) / 2 + b)] = 0.0f;
        }
    nn_mi_kde kf, kg;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_kde_gauss_full(mu, L, n, d, y, NULL, &kf, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nn_mi_kde_gauss(mu, s, n, d, y, NULL, &kg, &err), RT_OK, "%s", err.msg);
    expect_rel(kf.upper.ixt, kg.upper.ixt, 1e-5, 1e-6, "diagonal factor, upper");
    expect_rel(kf.lower.ixt, kg.lower.ixt, 1e-5, 1e-6, "diagonal factor, lower");
    expect_rel(kf.lower.ity, kg.lower.ity, 1e-5, 1e-6, "diagonal factor, lower I(T;Y)");
    // errors: a zero on the diagonal; too wide
    L[P + 2] = 0.0f;
    cr_expect_eq(nn_mi_kde_gauss_full(mu, L, n, d, y, NULL, &kf, &err), RT_ERR_NUMERIC);
    cr_expect(strstr(err.msg, "L[1] has 0 on its diagonal") != NULL, "%s", err.msg);
    rt_err_clear(&err);
    cr_expect_eq(nn_mi_kde_gauss_full(mu, L, 1, 33, NULL, NULL, &kf, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "d=33") != NULL, "%s", err.msg);
    ref_free(&m);
    free(mu); free(L); free(s); free(y);
}

// Two layouts: a small one in blocks of 10 rows; and runs of 64 pairs (blocks of 100) in
// d = 100 where a third of the rows are all 0 and a third all 1 (clamped), so that runs mix
// pairs the screen keeps with pairs whose Bhattacharyya product underflows without its guard.
Test(mi, kde_bern_matches_naive_loop) {
    const int cfg[][3] = { { 47, 9, 10 }, { 150, 100, 100 } };      /* n, d, block */
    for (int t = 0; t < 2; t++) {
        rt_rng r = stream(13);
        int n = cfg[t][0], d = cfg[t][1], nclass = 2;
        float *p = floats((size_t)n * d);
        rt_rng_fill_uniform(&r, p, (size_t)n * d, 0.05f, 0.95f);
        p[0] = 1.0f;                 // a saturated sigmoid: clamped to 1 - 1e-6 on both sides
        p[1] = 0.0f;
        if (t == 1)
            for (int i = 0; i < n; i++)
                for (int k = 0; k < d && i % 3 < 2; k++) p[(size_t)i * d + k] = i % 3 == 0 ? 0.0f : 1.0f;
        int32_t *y = labels(&r, n, nclass);
        ref_mix m = ref_bern(p, n, d);
        ref_plane up = ref_plane_of(&m, m.kl, y, nclass), lo = ref_plane_of(&m, m.bd, y, nclass);
        for (int refine = 0; refine < 2; refine++) {
            nn_mi_kde_opts o = { .block = cfg[t][2], .no_refine = !refine };
            nn_mi_kde k;
            rt_err err = { 0 };
            cr_assert_eq(nn_mi_kde_bern(p, n, d, y, &o, &k, &err), RT_OK, "%s", err.msg);
            expect_plane(&k.upper, &up, 1e-5, "bern upper");
            expect_plane(&k.lower, &lo, 1e-5, "bern lower");
            expect_sides(&k);
            // The KL bound is at most H(p_i) + log2 N (and may exceed d bits: it is loose there).
            cr_expect(k.upper.ixt <= log2((double)n) + 1e-9);
        }
        ref_free(&m);
        free(p); free(y);
    }
}

// The Gaussian and Bernoulli pair kernels (nn_mi_kde.c: four pairs a call, d padded to a multiple
// of 8, each pair once for both rows, both KL directions beside the Bhattacharyya distance) against
// the textbook formulas in double: every bound within 1e-11 relative. Overlapping components (every
// term counts), d = 37 (padding), blocks of 16 rows (diagonal, off-diagonal and short tiles),
// Gaussian rows both inside the kernel's range and outside (row 5: sigma 1e-7, variance under
// 2^-40, computed by the one-pair loops). A swapped KL direction, a mirrored term read from the
// wrong side of the diagonal or a float GEMM for the KL bound (1e-7) would fail it.
Test(mi, kde_pair_kernels_match_double_reference) {
    rt_rng r = stream(21);
    int n = 70, d = 37, nclass = 3;
    float *mu = floats((size_t)n * d), *s = floats((size_t)n * d), *p = floats((size_t)n * d);
    rt_rng_fill_normal(&r, mu, (size_t)n * d, 0.0f, 0.3f);
    rt_rng_fill_uniform(&r, s, (size_t)n * d, 0.5f, 1.5f);
    rt_rng_fill_uniform(&r, p, (size_t)n * d, 0.3f, 0.7f);
    for (int k = 0; k < d; k++) s[5 * d + k] = 1e-7f;
    int32_t *y = labels(&r, n, nclass);
    ref_mix mg = ref_gauss(mu, s, n, d), mb = ref_bern(p, n, d);
    ref_plane gu = ref_plane_of(&mg, mg.kl, y, nclass), gl = ref_plane_of(&mg, mg.bd, y, nclass);
    ref_plane bu = ref_plane_of(&mb, mb.kl, y, nclass), bl = ref_plane_of(&mb, mb.bd, y, nclass);
    nn_mi_kde_opts o = { .block = 16 };
    nn_mi_kde k;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_kde_gauss(mu, s, n, d, y, &o, &k, &err), RT_OK, "%s", err.msg);
    expect_plane(&k.upper, &gu, 1e-11, "gauss kernel upper");
    expect_plane(&k.lower, &gl, 1e-11, "gauss kernel lower");
    cr_expect_gt(gu.ixt - gl.ixt, 0.01, "the bounds differ: the terms are not all 0 or 1");
    cr_assert_eq(nn_mi_kde_bern(p, n, d, y, &o, &k, &err), RT_OK, "%s", err.msg);
    expect_plane(&k.upper, &bu, 1e-11, "bern kernel upper");
    expect_plane(&k.lower, &bl, 1e-11, "bern kernel lower");
    cr_expect_gt(bu.ixt - bl.ixt, 0.01, "the bounds differ: the terms are not all 0 or 1");
    ref_free(&mg);
    ref_free(&mb);
    free(mu); free(s); free(p); free(y);
}

Test(mi, kde_refines_pairs_the_gemm_cannot_resolve) {
    // Two clusters 200 apart in d = 64 with jitter 0.002 and sigma2 = 1e-4: within a cluster
    // ||h_i - h_j||^2 ~ 5e-4 (KL ~ 2.5 nats) but ||h||^2 ~ 6e5 after centring, so
    // ||a||^2 + ||b||^2 - 2 a.b in float is off by ~0.1, i.e. hundreds of nats. The refinement
    // recomputes those pairs in double; the result matches the naive loop to 1e-6.
    rt_rng r = stream(14);
    int n = 40, d = 64;
    double sigma2 = 1e-4;
    float *h = floats((size_t)n * d), *s = floats((size_t)n * d);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++)
            h[i * d + k] = (i < n / 2 ? 100.0f : -100.0f) + 0.002f * (float)rt_rng_normal(&r);
    for (int e = 0; e < n * d; e++) s[e] = (float)sqrt(sigma2);
    int32_t *y = labels(&r, n, 2);
    ref_mix m = ref_gauss(h, s, n, d);
    ref_plane up = ref_plane_of(&m, m.kl, y, 2), lo = ref_plane_of(&m, m.bd, y, 2);
    nn_mi_kde k;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_kde_det(h, n, d, (double)s[0] * (double)s[0], y, NULL, &k, &err), RT_OK, "%s", err.msg);
    cr_expect_gt(k.refined, 0);
    cr_expect_leq(k.refined, (int64_t)n * (n - 1));
    expect_plane(&k.upper, &up, 1e-6, "refined upper");
    expect_plane(&k.lower, &lo, 1e-6, "refined lower");
    ref_free(&m);
    free(h); free(s); free(y);
}

Test(mi, kde_block_size_changes_nothing) {
    // Every row sums its terms in the same order for any block size; only the GEMM's blocking
    // could change float rounding. Required: within 1e-6 relative (observed: identical or ~1e-12).
    rt_rng r = stream(15);
    int n = 300, d = 20;
    float *h = floats((size_t)n * d), *s = floats((size_t)n * d), *p = floats((size_t)n * d);
    rt_rng_fill_normal(&r, h, (size_t)n * d, 0.0f, 1.0f);
    rt_rng_fill_uniform(&r, s, (size_t)n * d, 0.5f, 1.0f);
    rt_rng_fill_uniform(&r, p, (size_t)n * d, 0.02f, 0.98f);
    int32_t *y = labels(&r, n, 5);
    const int blocks[] = { 1, 7, 64, 256, 1000 };
    nn_mi_kde ref[3];
    for (int b = 0; b < 5; b++) {
        nn_mi_kde_opts o = { .block = blocks[b] };
        nn_mi_kde k[3];
        rt_err err = { 0 };
        cr_assert_eq(nn_mi_kde_det(h, n, d, 2.0, y, &o, &k[0], &err), RT_OK, "%s", err.msg);
        cr_assert_eq(nn_mi_kde_gauss(h, s, n, d, y, &o, &k[1], &err), RT_OK, "%s", err.msg);
        cr_assert_eq(nn_mi_kde_bern(p, n, d, y, &o, &k[2], &err), RT_OK, "%s", err.msg);
        if (b == 0) { memcpy(ref, k, sizeof ref); continue; }
        for (int q = 0; q < 3; q++) {
            expect_rel(k[q].upper.ixt, ref[q].upper.ixt, 1e-6, 1e-9, "block upper ixt");
            expect_rel(k[q].lower.ixt, ref[q].lower.ixt, 1e-6, 1e-9, "block lower ixt");
            expect_rel(k[q].upper.ity, ref[q].upper.ity, 1e-6, 1e-9, "block upper ity");
            expect_rel(k[q].lower.ity, ref[q].lower.ity, 1e-6, 1e-9, "block lower ity");
        }
    }
    free(h); free(s); free(p); free(y);
}

// ---- pairwise-distance bounds: limits ----

Test(mi, kde_identical_components_carry_no_information) {
    // All rows equal: p(t) is a single component, I(X;T) = 0 and I(T;Y) = 0 for both bounds
    // (every exp(-D) is 1 up to the float GEMM's rounding of D = 0, ~1e-7 of the terms summed:
    // tolerance 1e-6 bits).
    int n = 30, d = 5;
    float *h = floats((size_t)n * d), *s = floats((size_t)n * d), *p = floats((size_t)n * d);
    for (int e = 0; e < n * d; e++) { h[e] = 0.3f * (float)(e % d); s[e] = 0.7f; p[e] = 0.25f; }
    rt_rng r = stream(16);
    int32_t *y = labels(&r, n, 3);
    nn_mi_kde k[3];
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_kde_det(h, n, d, 0.1, y, NULL, &k[0], &err), RT_OK);
    cr_assert_eq(nn_mi_kde_gauss(h, s, n, d, y, NULL, &k[1], &err), RT_OK);
    cr_assert_eq(nn_mi_kde_bern(p, n, d, y, NULL, &k[2], &err), RT_OK);
    for (int q = 0; q < 3; q++) {
        cr_expect(fabs(k[q].upper.ixt) < 1e-6 && fabs(k[q].lower.ixt) < 1e-6, "kind %d", q);
        cr_expect(fabs(k[q].upper.ity) < 1e-6 && fabs(k[q].lower.ity) < 1e-6, "kind %d", q);
        cr_expect(fabs(k[q].upper.h_t - k[q].upper.h_t_x) < 1e-6, "H(T) = H(T|X)");
    }
    // H(p_i) of the Bernoulli layer: d binary entropies of 0.25.
    double hb = -(0.25 * log2(0.25) + 0.75 * log2(0.75));
    expect_rel(k[2].upper.h_t_x, d * hb, 1e-9, 0.0, "Bernoulli component entropy");
    // A deterministic layer's noise entropy: d/2 log2(2 pi e sigma2).
    expect_rel(k[0].upper.h_t_x, 0.5 * d * log2(2.0 * 3.14159265358979323846 * exp(1.0) * 0.1), 1e-12, 0.0,
               "Gaussian noise entropy");
    free(h); free(s); free(p); free(y);
}

// Greedy binary code: n words of d bits, pairwise Hamming distance >= dmin.
static void greedy_code(int n, int d, int dmin, float *p) {
    int got = 0;
    uint32_t words[64];
    for (uint32_t w = 0; w < (1u << d) && got < n; w++) {
        bool ok = true;
        for (int i = 0; i < got && ok; i++) ok = __builtin_popcount(w ^ words[i]) >= dmin;
        if (ok) words[got++] = w;
    }
    cr_assert_eq(got, n, "no code of %d words", n);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++) p[i * d + k] = (words[i] >> k) & 1u ? 1.0f : 0.0f;
}

Test(mi, kde_far_apart_components_give_log_n) {
    // Components far apart: every cross term exp(-D) vanishes, so both bounds give
    // I(X;T) = log2 N and, with y = i mod 4, I(T;Y) = H(Y) = 2 bits. The smallest cross
    // divergence here is BD >= 25 nats (Bernoulli: 4 differing bits of p = 1e-6 vs 1 - 1e-6,
    // -ln(2e-3) = 6.2 each), so the deviation is below N e^-25 ~ 1e-9: tolerance 1e-7 bits.
    int n = 16, d = 12;
    float *h = floats((size_t)n * d), *s = floats((size_t)n * d), *p = floats((size_t)n * d);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++) {
            h[i * d + k] = k == 0 ? 100.0f * (float)i : 0.0f;
            s[i * d + k] = 0.5f + 0.05f * (float)k;
        }
    greedy_code(n, d, 4, p);
    int32_t y[16];
    for (int i = 0; i < n; i++) y[i] = i % 4;
    nn_mi_kde k[3];
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_kde_det(h, n, d, 1.0, y, NULL, &k[0], &err), RT_OK);
    cr_assert_eq(nn_mi_kde_gauss(h, s, n, d, y, NULL, &k[1], &err), RT_OK);
    cr_assert_eq(nn_mi_kde_bern(p, n, d, y, NULL, &k[2], &err), RT_OK);
    for (int q = 0; q < 3; q++) {
        cr_expect(fabs(k[q].upper.ixt - 4.0) < 1e-7 && fabs(k[q].lower.ixt - 4.0) < 1e-7,
                  "kind %d: %.10f %.10f", q, k[q].lower.ixt, k[q].upper.ixt);
        cr_expect(fabs(k[q].upper.ity - 2.0) < 1e-7 && fabs(k[q].lower.ity - 2.0) < 1e-7,
                  "kind %d: %.10f %.10f", q, k[q].lower.ity, k[q].upper.ity);
    }
    // Without labels, I(T;Y) is NAN.
    cr_assert_eq(nn_mi_kde_det(h, n, d, 1.0, NULL, NULL, &k[0], &err), RT_OK);
    cr_expect(isnan(k[0].upper.ity) && k[0].classes == 0);
    free(h); free(s); free(p);
}

// ---- pairwise-distance bounds around the true mixture entropy ----

// -ln p(t) for the mixture (1/n) sum_j N(mu_j, diag(s_j^2)), log-sum-exp.
static double mix_neglog(const float *mu, const float *s, int n, int d, const double *t) {
    double lv[256], mx = -INFINITY;
    cr_assert(n <= 256);
    for (int j = 0; j < n; j++) {
        double l = 0.0;
        for (int k = 0; k < d; k++) {
            double v = (double)s[j * d + k] * (double)s[j * d + k], z = t[k] - (double)mu[j * d + k];
            l -= 0.5 * (log(2.0 * 3.14159265358979323846 * v) + z * z / v);
        }
        lv[j] = l;
        mx = fmax(mx, l);
    }
    double sum = 0.0;
    for (int j = 0; j < n; j++) sum += exp(lv[j] - mx);
    return -(mx + log(sum / n));
}

// Monte Carlo H of the mixture in bits, with its standard error: M draws, fixed stream.
static void mix_entropy_mc(const float *mu, const float *s, int n, int d, int M, uint64_t seed,
                           double *h, double *se) {
    rt_rng r = stream(seed);
    double sum = 0.0, sum2 = 0.0, t[16];
    cr_assert(d <= 16);
    for (int m = 0; m < M; m++) {
        int j = (int)rt_rng_below(&r, (uint32_t)n);
        for (int k = 0; k < d; k++) t[k] = (double)mu[j * d + k] + (double)s[j * d + k] * rt_rng_normal(&r);
        double v = mix_neglog(mu, s, n, d, t) / LN2;
        sum += v;
        sum2 += v * v;
    }
    *h = sum / M;
    *se = sqrt(fmax(sum2 / M - *h * *h, 0.0) / M);
}

Test(mi, kde_bounds_bracket_monte_carlo_mixture_entropy) {
    // 40 components in d = 2 with overlapping noise, shared (deterministic layer) and per-row
    // diagonal (Gaussian layer) covariances. Truth: H by Monte Carlo with 20,000 draws (standard
    // error ~0.007 bits); required lower - 4 se <= H_MC <= upper + 4 se. The gap between the
    // bounds here is ~0.2-0.4 bits, so the test can tell a wrong side from noise.
    rt_rng r = stream(17);
    int n = 40, d = 2;
    float *mu = floats((size_t)n * d), *s = floats((size_t)n * d), *s1 = floats((size_t)n * d);
    rt_rng_fill_uniform(&r, mu, (size_t)n * d, -2.0f, 2.0f);
    rt_rng_fill_uniform(&r, s, (size_t)n * d, 0.2f, 0.6f);
    for (int e = 0; e < n * d; e++) s1[e] = 0.4f;
    for (int kind = 0; kind < 2; kind++) {
        const float *sd = kind == 0 ? s1 : s;
        double h, se;
        mix_entropy_mc(mu, sd, n, d, 20000, 99 + (uint64_t)kind, &h, &se);
        nn_mi_kde k;
        rt_err err = { 0 };
        if (kind == 0) cr_assert_eq(nn_mi_kde_det(mu, n, d, (double)s1[0] * (double)s1[0], NULL, NULL, &k, &err), RT_OK);
        else cr_assert_eq(nn_mi_kde_gauss(mu, s, n, d, NULL, NULL, &k, &err), RT_OK);
        cr_expect(k.lower.h_t - 4.0 * se <= h && h <= k.upper.h_t + 4.0 * se,
                  "kind %d: lower %.4f, MC %.4f +- %.4f, upper %.4f", kind, k.lower.h_t, h, se, k.upper.h_t);
        cr_expect(k.upper.h_t - k.lower.h_t > 8.0 * se, "kind %d: bounds %.4f..%.4f too close to test",
                  kind, k.lower.h_t, k.upper.h_t);
    }
    free(mu); free(s); free(s1);
}

Test(mi, kde_full_bounds_bracket_monte_carlo_mixture_entropy) {
    // 40 correlated components in d = 2 (off-diagonal factors ~ the diagonal ones): the mixture
    // entropy by Monte Carlo, 20,000 draws, each density with the textbook inverse and determinant;
    // required lower - 4 se <= H_MC <= upper + 4 se, and bounds far enough apart to tell.
    rt_rng r = stream(19);
    int n = 40, d = 2, P = 3, M = 20000;
    float *mu = floats((size_t)n * d);
    rt_rng_fill_uniform(&r, mu, (size_t)n * d, -2.0f, 2.0f);
    float *L = random_factors(&r, n, d, 0.2f, 0.6f, 0.3f);
    double inv[40][4], ldet[40];
    for (int j = 0; j < n; j++) {
        double S[4];
        packed_cov(L + (size_t)j * P, d, S);
        ldet[j] = log(inv_det(S, d, inv[j]));
    }
    double sum = 0.0, sum2 = 0.0;
    for (int m = 0; m < M; m++) {
        int j = (int)rt_rng_below(&r, (uint32_t)n);
        double e0 = rt_rng_normal(&r), e1 = rt_rng_normal(&r);
        const float *l = L + (size_t)j * P;
        double t[2] = { (double)mu[j * d] + (double)l[0] * e0,
                        (double)mu[j * d + 1] + (double)l[1] * e0 + (double)l[2] * e1 };
        double lv[40], mx = -INFINITY;
        for (int k = 0; k < n; k++) {
            double a = t[0] - (double)mu[k * d], b = t[1] - (double)mu[k * d + 1];
            double q = a * a * inv[k][0] + 2.0 * a * b * inv[k][1] + b * b * inv[k][3];
            lv[k] = -0.5 * (q + ldet[k] + 2.0 * log(2.0 * 3.14159265358979323846));
            mx = fmax(mx, lv[k]);
        }
        double s = 0.0;
        for (int k = 0; k < n; k++) s += exp(lv[k] - mx);
        double v = -(mx + log(s / n)) / LN2;
        sum += v;
        sum2 += v * v;
    }
    double h = sum / M, se = sqrt(fmax(sum2 / M - h * h, 0.0) / M);
    nn_mi_kde k;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_kde_gauss_full(mu, L, n, d, NULL, NULL, &k, &err), RT_OK, "%s", err.msg);
    cr_expect(k.lower.h_t - 4.0 * se <= h && h <= k.upper.h_t + 4.0 * se, "lower %.4f, MC %.4f +- %.4f, upper %.4f",
              k.lower.h_t, h, se, k.upper.h_t);
    cr_expect(k.upper.h_t - k.lower.h_t > 8.0 * se, "bounds %.4f..%.4f too close to test", k.lower.h_t, k.upper.h_t);
    free(mu); free(L);
}

Test(mi, kde_bounds_bracket_exact_bernoulli_mixture_entropy) {
    // A mixture of 12 product Bernoullis over d = 8 bits: H(T) exactly, by enumerating all 256
    // patterns. Kolchinsky & Tracey's bounds hold for any mixture: lower <= H <= upper (1e-9).
    rt_rng r = stream(18);
    int n = 12, d = 8;
    float *p = floats((size_t)n * d);
    rt_rng_fill_uniform(&r, p, (size_t)n * d, 0.05f, 0.95f);
    double h = 0.0;
    for (uint32_t t = 0; t < (1u << d); t++) {
        double pt = 0.0;
        for (int i = 0; i < n; i++) {
            double q = 1.0 / n;
            for (int k = 0; k < d; k++) q *= (t >> k) & 1u ? (double)p[i * d + k] : 1.0 - (double)p[i * d + k];
            pt += q;
        }
        h -= pt * log2(pt);
    }
    nn_mi_kde k;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_kde_bern(p, n, d, NULL, NULL, &k, &err), RT_OK);
    cr_expect(k.lower.h_t <= h + 1e-9 && h <= k.upper.h_t + 1e-9, "lower %.6f, exact %.6f, upper %.6f",
              k.lower.h_t, h, k.upper.h_t);
    free(p);
}

Test(mi, kde_errors_name_the_problem) {
    float h[6] = { 0, 1, 2, 3, 4, 5 }, s[6] = { 1, 1, 1, 0, 1, 1 }, p[6] = { 0.5f, 0.2f, 1.5f, 0, 0, 0 };
    nn_mi_kde k;
    rt_err err = { 0 };
    cr_expect_eq(nn_mi_kde_det(h, 3, 2, 0.0, NULL, NULL, &k, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "sigma2=0") != NULL, "%s", err.msg);
    rt_err_clear(&err);
    cr_expect_eq(nn_mi_kde_gauss(h, s, 3, 2, NULL, NULL, &k, &err), RT_ERR_NUMERIC);
    cr_expect(strstr(err.msg, "sigma[1][1] = 0") != NULL, "%s", err.msg);
    rt_err_clear(&err);
    cr_expect_eq(nn_mi_kde_bern(p, 3, 2, NULL, NULL, &k, &err), RT_ERR_NUMERIC);
    cr_expect(strstr(err.msg, "p[1][0] = 1.5") != NULL, "%s", err.msg);
    rt_err_clear(&err);
    h[4] = NAN;
    cr_expect_eq(nn_mi_kde_det(h, 3, 2, 1.0, NULL, NULL, &k, &err), RT_ERR_NUMERIC);
    cr_expect(strstr(err.msg, "h[2][0]") != NULL, "%s", err.msg);
    rt_err_clear(&err);
    cr_expect_eq(nn_mi_kde_det(h, 0, 2, 1.0, NULL, NULL, &k, &err), RT_ERR_ARG);
}

// ---- binning ----

// The centre of bin b of the default binning (30 bins over [-1, 1]).
static float centre(int b) { return -1.0f + (2.0f / 30.0f) * ((float)b + 0.5f); }

Test(mi, bin_deterministic_function_of_x_gives_log_k) {
    // 400 distinct inputs, T = f(X) with k = 8 equiprobable binned patterns: I(X;T) = H(T) = 3
    // bits; Y = a function of T with 2 equiprobable values: I(T;Y) = H(Y) = 1 bit; Y = T: 3 bits.
    // Plug-in entropies of exactly equiprobable patterns are exact: tolerance 1e-12.
    int n = 400, d = 3;
    float *t = floats((size_t)n * d);
    int32_t *y2 = calloc((size_t)n, sizeof *y2), *y8 = calloc((size_t)n, sizeof *y8), *x = calloc((size_t)n, sizeof *x);
    for (int i = 0; i < n; i++) {
        int c = i % 8;
        for (int k = 0; k < d; k++) t[i * d + k] = (c >> k) & 1 ? 0.5f : -0.5f;
        y2[i] = c % 2;
        y8[i] = 100 + c;                    // any label values: classes are the distinct ones
        x[i] = i % 8;                       // 8 distinct inputs, each repeated
    }
    nn_mi_bin_opts o = nn_mi_bin_opts_default();
    nn_mi_disc b;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_bin(t, n, d, NULL, y2, &o, &b, &err), RT_OK, "%s", err.msg);
    cr_expect(fabs(b.est.h_t - 3.0) < 1e-12 && fabs(b.est.ixt - 3.0) < 1e-12 && b.est.h_t_x == 0.0);
    cr_expect(fabs(b.est.ity - 1.0) < 1e-12, "%.15f", b.est.ity);
    cr_expect_eq(b.patterns, 8);
    cr_expect_eq(b.clipped, 0);
    cr_expect_eq(b.est.side_h, NN_MI_ESTIMATE);
    cr_assert_eq(nn_mi_bin(t, n, d, x, y8, NULL, &b, &err), RT_OK);      // NULL opts = default
    cr_expect(fabs(b.est.ixt - 3.0) < 1e-12 && fabs(b.est.h_t_x) < 1e-12, "H(T|X) = 0 for T = f(X)");
    cr_expect(fabs(b.est.ity - 3.0) < 1e-12, "T = Y: I(T;Y) = H(Y): %.15f", b.est.ity);
    free(t); free(y2); free(y8); free(x);
}

Test(mi, bin_conditional_entropy_from_input_ids) {
    // 50 inputs, each seen 4 times with two patterns (2x and 2x+1) twice each: H(T) = log2 100,
    // H(T|X) = 1 bit exactly, I(X;T) = log2 50.
    int n = 200, d = 2;
    float *t = floats((size_t)n * d);
    int32_t *x = calloc((size_t)n, sizeof *x);
    for (int i = 0; i < n; i++) {
        int xi = i / 4, pat = 2 * xi + (i % 2);
        t[i * d] = centre(pat % 30);
        t[i * d + 1] = centre(pat / 30);
        x[i] = 7 * xi - 3;
    }
    nn_mi_disc b;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_bin(t, n, d, x, NULL, NULL, &b, &err), RT_OK);
    cr_expect(fabs(b.est.h_t - log2(100.0)) < 1e-12);
    cr_expect(fabs(b.est.h_t_x - 1.0) < 1e-12, "%.15f", b.est.h_t_x);
    cr_expect(fabs(b.est.ixt - log2(50.0)) < 1e-12);
    cr_expect(isnan(b.est.ity));
    free(t); free(x);
}

Test(mi, bin_independent_labels_carry_no_information) {
    // Exactly independent: every (pattern, label) pair equally often -> I(T;Y) = 0 (1e-12).
    int n = 8 * 4 * 10, d = 2;
    float *t = floats((size_t)n * d);
    int32_t *y = calloc((size_t)n, sizeof *y);
    for (int i = 0; i < n; i++) {
        int c = i % 8;
        t[i * d] = centre(c);
        t[i * d + 1] = centre(29 - c);
        y[i] = (i / 8) % 4;
    }
    nn_mi_disc b;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_bin(t, n, d, NULL, y, NULL, &b, &err), RT_OK);
    cr_expect(fabs(b.est.ity) < 1e-12, "%.3g", b.est.ity);
    free(t); free(y);

    // Independent in distribution: 4000 rows, 8 random patterns, 4 random labels. The plug-in
    // estimate is positively biased, E ~ (8-1)(4-1) / (2 N ln 2) = 0.0038 bits, with standard
    // deviation sqrt(2 * 21) / (2 N ln 2) = 0.0012; required: 0 <= I < 0.02 (> 10 sd).
    rt_rng r = stream(21);
    n = 4000;
    t = floats((size_t)n);
    y = labels(&r, n, 4);
    for (int i = 0; i < n; i++) t[i] = centre((int)rt_rng_below(&r, 8));
    cr_assert_eq(nn_mi_bin(t, n, 1, NULL, y, NULL, &b, &err), RT_OK);
    cr_expect(b.est.ity >= 0.0 && b.est.ity < 0.02, "%.4f", b.est.ity);
    free(t); free(y);
}

Test(mi, bin_counts_clipped_activations_and_bin_size) {
    // Bin count over [-1, 1]: 1.5 and -2 are outside (clipped into the edge bins), 1.0 and -1.0
    // are inside (last and first bin).
    float t[6] = { 1.5f, -2.0f, 1.0f, -1.0f, 0.0f, 0.01f };
    nn_mi_disc b;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_bin(t, 6, 1, NULL, NULL, NULL, &b, &err), RT_OK);
    cr_expect_eq(b.clipped, 2);
    cr_expect(fabs(b.clipped_frac - 2.0 / 6.0) < 1e-15);
    cr_expect_eq(b.patterns, 3, "{1.5, 1}, {-2, -1}, {0, 0.01}: %lld", (long long)b.patterns);
    // Saxe's bin size 0.07: floor(a / 0.07) puts 0 and 0.069 together, 0.071 and -0.01 apart.
    float u[4] = { 0.0f, 0.069f, 0.071f, -0.01f };
    nn_mi_bin_opts o = { .bin_size = 0.07f };
    cr_assert_eq(nn_mi_bin(u, 4, 1, NULL, NULL, &o, &b, &err), RT_OK);
    cr_expect_eq(b.patterns, 3);
    cr_expect_eq(b.clipped, 0);
    cr_expect(fabs(b.est.h_t - 1.5) < 1e-12, "%.15f", b.est.h_t);
    // Errors: a bad range, a non-finite activation.
    nn_mi_bin_opts bad = { .bins = 30, .lo = 1.0f, .hi = -1.0f };
    cr_expect_eq(nn_mi_bin(u, 4, 1, NULL, NULL, &bad, &b, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "lo < hi") != NULL, "%s", err.msg);
    rt_err_clear(&err);
    u[2] = INFINITY;
    cr_expect_eq(nn_mi_bin(u, 2, 2, NULL, NULL, NULL, &b, &err), RT_ERR_NUMERIC);
    cr_expect(strstr(err.msg, "t[1][0]") != NULL, "%s", err.msg);
}

static int cmp_row4(const void *a, const void *b) { return memcmp(a, b, 4 * sizeof(float)); }

Test(mi, bin_hash_table_counts_every_distinct_pattern) {
    // 5000 rows of 4 random bins (810,000 possible patterns, many repeats near the birthday
    // bound) and rows that differ in one element only: the count must equal a sort-based count.
    rt_rng r = stream(22);
    int n = 5000, d = 4;
    float *t = floats((size_t)n * d);
    for (int e = 0; e < n * d; e++) t[e] = centre((int)rt_rng_below(&r, 30 - 15 * (e % 2)));
    for (int i = 1; i < 50; i++) { memcpy(t + i * d, t, d * sizeof *t); t[i * d + i % d] = centre(i % 30); }
    nn_mi_disc b;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_bin(t, n, d, NULL, NULL, NULL, &b, &err), RT_OK);
    float *s = floats((size_t)n * d);
    memcpy(s, t, (size_t)n * d * sizeof *s);
    qsort(s, (size_t)n, 4 * sizeof(float), cmp_row4);
    int64_t want = 1;
    for (int i = 1; i < n; i++) want += memcmp(s + i * d, s + (i - 1) * d, d * sizeof *s) != 0;
    cr_expect_eq(b.patterns, want, "%lld vs %lld", (long long)b.patterns, (long long)want);
    free(t); free(s);
}

// ---- binary patterns of Bernoulli layers ----

Test(mi, bern_plugin_exact_on_enumerated_patterns) {
    // All 2^10 patterns once each, spread over d = 40 bits (two key words): H = 10 bits exactly,
    // thresholded, and sampled with p in {0, 1} (each draw is then certain).
    int n = 1024, d = 40;
    float *p = floats((size_t)n * d);
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 10; b++) p[i * d + (b < 5 ? b : 30 + b)] = (i >> b) & 1 ? 1.0f : 0.0f;
    nn_mi_disc b;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_bern_plugin(p, n, d, NULL, NULL, NULL, 1, &b, &err), RT_OK, "%s", err.msg);
    cr_expect(fabs(b.est.h_t - 10.0) < 1e-12 && b.patterns == 1024 && b.est.h_t_x == 0.0);
    rt_rng r = stream(23);
    cr_assert_eq(nn_mi_bern_plugin(p, n, d, NULL, NULL, &r, 3, &b, &err), RT_OK);
    cr_expect(fabs(b.est.h_t - 10.0) < 1e-12 && fabs(b.est.h_t_x) < 1e-12 && b.rows == 3 * n);
    // Thresholding: p = 0.9 is 1, p = 0.5 is 0.
    for (int e = 0; e < n * d; e++) p[e] = p[e] > 0.5f ? 0.9f : 0.5f;
    cr_assert_eq(nn_mi_bern_plugin(p, n, d, NULL, NULL, NULL, 1, &b, &err), RT_OK);
    cr_expect(fabs(b.est.h_t - 10.0) < 1e-12);
    free(p);
}

Test(mi, bern_plugin_sampling_measures_noise) {
    // One input, one neuron firing with p = 1/2, 20,000 samples: H(T) = H(T|X) = 1 bit up to
    // sampling (p_hat = 1/2 +- 0.0035 gives H > 0.9999), and I(X;T) = 0 exactly.
    float p[1] = { 0.5f };
    rt_rng r = stream(24);
    nn_mi_disc b;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_bern_plugin(p, 1, 1, NULL, NULL, &r, 20000, &b, &err), RT_OK);
    cr_expect(b.est.h_t > 0.999 && b.est.h_t <= 1.0, "%.6f", b.est.h_t);
    cr_expect(fabs(b.est.ixt) < 1e-12, "%.3g", b.est.ixt);
    cr_expect_eq(nn_mi_bern_plugin(p, 1, 1, NULL, NULL, &r, 0, &b, &err), RT_ERR_ARG);
}

// ---- k nearest neighbours ----

// n pairs (a, b) of d-vectors, each coordinate pair standard normal with correlation rho.
static void corr_gauss(rt_rng *r, int n, int d, double rho, float *a, float *b) {
    for (int e = 0; e < n * d; e++) {
        double u = rt_rng_normal(r), v = rt_rng_normal(r);
        a[e] = (float)u;
        b[e] = (float)(rho * u + sqrt(1.0 - rho * rho) * v);
    }
}

/* KSG algorithm 1 (Kraskov, Stoegbauer & Grassberger 2004, eq. 8) written out by brute force in
** double, for the exact comparison below: each variable divided by its columns' root mean
** variance (nn_mi.h), eps_i the max-norm distance to the k-th neighbour in the joint space (the
** max of the two marginal distances), n_a, n_b the points strictly within eps_i in each
** marginal, and I = psi(k) + psi(N) - <psi(n_a + 1) + psi(n_b + 1)> in nats. The digamma of an
** integer is -gamma + H_{m-1}. */
static double psi_int(int m) {
    double h = -0.57721566490153286061;
    for (int i = 1; i < m; i++) h += 1.0 / i;
    return h;
}
static double ksg_reference(const float *a, int da, const float *b, int db, int n, int k) {
    const float *x[2] = { a, b };
    int dim[2] = { da, db };
    double *u[2];
    for (int v = 0; v < 2; v++) {
        int d = dim[v];
        double var = 0.0;
        for (int c = 0; c < d; c++) {
            double m = 0.0, s2 = 0.0;
            for (int i = 0; i < n; i++) m += (double)x[v][i * d + c];
            m /= n;
            for (int i = 0; i < n; i++) s2 += ((double)x[v][i * d + c] - m) * ((double)x[v][i * d + c] - m);
            var += s2 / n;
        }
        double f = 1.0 / sqrt(var / d);
        u[v] = malloc((size_t)n * d * sizeof(double));
        for (int e = 0; e < n * d; e++) u[v][e] = (double)x[v][e] * f;
    }
    double *dist[2] = { malloc((size_t)n * sizeof(double)), malloc((size_t)n * sizeof(double)) };
    double *joint = malloc((size_t)n * sizeof(double)), sum = 0.0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++)
            for (int v = 0; v < 2; v++) {
                double m = 0.0;
                for (int c = 0; c < dim[v]; c++) m = fmax(m, fabs(u[v][i * dim[v] + c] - u[v][j * dim[v] + c]));
                dist[v][j] = m;
            }
        int nj = 0;
        for (int j = 0; j < n; j++)
            if (j != i) joint[nj++] = fmax(dist[0][j], dist[1][j]);
        /* The k-th smallest by selection: k passes of "smallest above the previous", counting ties. */
        double eps = -1.0;
        for (int got = 0; got < k;) {
            double next = INFINITY;
            int ties = 0;
            for (int j = 0; j < nj; j++)
                if (joint[j] > eps && joint[j] < next) { next = joint[j]; ties = 1; }
                else if (joint[j] == next) ties++;
            eps = next;
            got += ties;
        }
        int na = 0, nb = 0;
        for (int j = 0; j < n; j++)
            if (j != i) { na += dist[0][j] < eps; nb += dist[1][j] < eps; }
        sum += psi_int(na + 1) + psi_int(nb + 1);
    }
    free(u[0]); free(u[1]); free(dist[0]); free(dist[1]); free(joint);
    return (psi_int(k) + psi_int(n) - sum / n) / log(2.0);
}

// The code's KSG against the brute force above, value for value (1e-9 bits), on n = 200 rows:
// correlated Gaussians of 1, 2 and 5 dimensions (b on 7 times a's scale, so that the per-variable
// scaling matters), k = 1, 3, 6, and independent uniforms.
Test(mi, ksg_equals_a_brute_force_transcription_of_algorithm_1) {
    int n = 200;
    const int dims[3] = { 1, 2, 5 }, ks[3] = { 1, 3, 6 };
    for (int q = 0; q < 3; q++)
        for (int kk = 0; kk < 3; kk++) {
            int d = dims[q], k = ks[kk];
            rt_rng r = stream(71 + (uint64_t)q);
            float *a = floats((size_t)n * d), *b = floats((size_t)n * d);
            corr_gauss(&r, n, d, 0.6, a, b);
            for (int e = 0; e < n * d; e++) b[e] *= 7.0f;
            nn_mi_value v;
            rt_err err = { 0 };
            cr_assert_eq(nn_mi_ksg(a, d, b, d, n, k, &v, &err), RT_OK, "%s", err.msg);
            double want = ksg_reference(a, d, b, d, n, k);
            cr_expect(fabs(v.bits - want) < 1e-9, "d=%d k=%d: KSG %.12f, brute force %.12f", d, k, v.bits, want);
            free(a); free(b);
        }
    rt_rng r = stream(79);
    float *a = floats(2 * (size_t)n), *b = floats(3 * (size_t)n);
    for (int e = 0; e < 2 * n; e++) a[e] = (float)rt_rng_uniform(&r);
    for (int e = 0; e < 3 * n; e++) b[e] = (float)rt_rng_uniform(&r);
    nn_mi_value v;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_ksg(a, 2, b, 3, n, 3, &v, &err), RT_OK, "%s", err.msg);
    double want = ksg_reference(a, 2, b, 3, n, 3);
    cr_expect(fabs(v.bits - want) < 1e-9, "independent uniforms: KSG %.12f, brute force %.12f", v.bits, want);
    free(a); free(b);
}

Test(mi, ksg_correlated_gaussians) {
    // I = -d/2 log2(1 - rho^2) for d independent pairs with correlation rho = 0.6 (0.32 bits per
    // pair), N = 2000, k = 3. The exact value is checked against the brute force above; these are
    // bounds from the analytic value. Over 20 seeds (error = KSG - analytic, bits):
    //   d = 1: mean +0.019, sd 0.027, max |err| 0.065  -> |err| < 0.10
    //   d = 2: mean +0.008, sd 0.040, max |err| 0.081  -> |err| < 0.12
    //   d = 5: mean -0.39: KSG's known downward bias in a 10-dimensional joint space (Kraskov et
    //          al. section IV; -0.33 at N = 4000), so only a bound: 0 < KSG < analytic.
    const int dims[3] = { 1, 2, 5 };
    const double tol[3] = { 0.10, 0.12, 0.0 };
    int n = 2000;
    double rho = 0.6;
    for (int q = 0; q < 3; q++) {
        int d = dims[q];
        rt_rng r = stream(31 + (uint64_t)q);
        float *a = floats((size_t)n * d), *b = floats((size_t)n * d);
        corr_gauss(&r, n, d, rho, a, b);
        nn_mi_value v;
        rt_err err = { 0 };
        cr_assert_eq(nn_mi_ksg(a, d, b, d, n, 3, &v, &err), RT_OK, "%s", err.msg);
        double want = -0.5 * d * log2(1.0 - rho * rho);
        if (d < 5)
            cr_expect(fabs(v.bits - want) < tol[q], "d=%d: KSG %.4f, analytic %.4f", d, v.bits, want);
        else
            cr_expect(v.bits > 0.0 && v.bits < want, "d=5: KSG %.4f, analytic %.4f", v.bits, want);
        cr_expect_eq(v.side, NN_MI_ESTIMATE);
        free(a); free(b);
    }
}

Test(mi, ksg_labels_and_kl_entropy) {
    // Ross's estimator: two classes at -5 and +5 with unit noise: I(T;Y) = H(Y) = 1 bit (the
    // overlap, P(|z| > 5), is 3e-7); labels independent of T: 0. N = 1000, k = 3. Over 20 seeds:
    // separated, error +0.0007 on every seed -> tolerance 0.01; independent, mean -0.005,
    // sd 0.021, max |I| 0.051 -> tolerance 0.08 (3.5 sd).
    rt_rng r = stream(41);
    int n = 1000;
    float *t = floats((size_t)n);
    int32_t *y = labels(&r, n, 2);
    for (int i = 0; i < n; i++) t[i] = (y[i] ? 5.0f : -5.0f) + (float)rt_rng_normal(&r);
    nn_mi_value v;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_ksg_labels(t, n, 1, y, 3, &v, &err), RT_OK, "%s", err.msg);
    double py = 0.0;
    for (int i = 0; i < n; i++) py += y[i];
    py /= n;
    double hy = -(py * log2(py) + (1.0 - py) * log2(1.0 - py));
    cr_expect(fabs(v.bits - hy) < 0.01, "separated: %.4f vs H(Y) = %.4f", v.bits, hy);
    for (int i = 0; i < n; i++) t[i] = (float)rt_rng_normal(&r);
    cr_assert_eq(nn_mi_ksg_labels(t, n, 1, y, 3, &v, &err), RT_OK);
    cr_expect(fabs(v.bits) < 0.08, "independent: %.4f", v.bits);

    // Rows alone in their class are dropped before anything is counted (scikit-learn): ten of
    // them, in the middle of the data, leave the estimate of the other rows unchanged.
    float *t2 = floats((size_t)n + 10);
    int32_t *y2 = malloc(((size_t)n + 10) * sizeof *y2);
    memcpy(t2, t, (size_t)n * sizeof *t);
    memcpy(y2, y, (size_t)n * sizeof *y);
    for (int i = 0; i < 10; i++) {
        t2[n + i] = (float)(i - 5) * 0.1f;
        y2[n + i] = 100 + i;
    }
    nn_mi_value v2;
    cr_assert_eq(nn_mi_ksg_labels(t2, n + 10, 1, y2, 3, &v2, &err), RT_OK, "%s", err.msg);
    cr_expect(fabs(v2.bits - v.bits) < 1e-12, "singleton rows changed the estimate: %.6f vs %.6f", v2.bits,
              v.bits);
    free(t2);
    free(y2);

    // Kozachenko-Leonenko on N(0, 2^2 I) in d = 1 and 3: H = d/2 log2(2 pi e 4). N = 2000, k = 3.
    // Over 20 seeds: d = 1 mean -0.005, sd 0.028, max 0.064 -> tolerance 0.10; d = 3 mean -0.042,
    // sd 0.042, max 0.118 -> tolerance 0.20 (> 3.5 sd beyond the bias).
    for (int d = 1; d <= 3; d += 2) {
        float *x = floats((size_t)2000 * d);
        rt_rng_fill_normal(&r, x, (size_t)2000 * d, 0.0f, 2.0f);
        cr_assert_eq(nn_mi_kl_entropy(x, 2000, d, 3, &v, &err), RT_OK);
        double want = 0.5 * d * log2(2.0 * 3.14159265358979323846 * exp(1.0) * 4.0);
        cr_expect(fabs(v.bits - want) < (d == 1 ? 0.10 : 0.20), "d=%d: %.4f vs %.4f", d, v.bits, want);
        free(x);
    }
    // Errors: k too large; duplicates for the entropy.
    cr_expect_eq(nn_mi_ksg(t, 1, t, 1, 3, 3, &v, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "1 <= k < n") != NULL, "%s", err.msg);
    rt_err_clear(&err);
    float dup[5] = { 1, 1, 1, 1, 2 };
    cr_expect_eq(nn_mi_kl_entropy(dup, 5, 1, 2, &v, &err), RT_ERR_NUMERIC);
    cr_expect(strstr(err.msg, "add a little noise") != NULL, "%s", err.msg);
    free(t); free(y);
}

/* The pair loop runs on a pool of OpenBLAS's thread count: the same bits with 1, 2 or 3 threads. */
Test(mi, kde_bytes_do_not_depend_on_threads) {
    int n = 700, d = 9;
    float *h = floats((size_t)n * d), *s = floats((size_t)n * d), *p = floats((size_t)n * d);
    int32_t *y = malloc((size_t)n * sizeof *y);
    rt_rng r;
    rt_rng_seed(&r, 77);
    rt_rng_fill_normal(&r, h, (size_t)n * d, 0.0f, 0.7f);
    for (int i = 0; i < n * d; i++) s[i] = 0.2f + 0.5f * (float)rt_rng_uniform(&r), p[i] = (float)rt_rng_uniform(&r);
    for (int i = 0; i < n; i++) y[i] = i % 4;
    nn_mi_kde ref[4], got;
    float *L = random_factors(&r, n, d, 0.3f, 0.9f, 0.2f);
    nn_mi_kde_opts o = { 64, false };           /* several blocks of rows and columns */
    rt_err err = { 0 };
    int before = rt_blas_threads();
    for (int t = 1; t <= 3; t++) {
        rt_blas_set_threads(t);
        cr_assert_eq(nn_mi_kde_det(h, n, d, 0.1, y, &o, t == 1 ? &ref[0] : &got, &err), RT_OK, "%s", err.msg);
        if (t > 1) cr_expect(memcmp(&got.upper, &ref[0].upper, sizeof got.upper) == 0 && memcmp(&got.lower, &ref[0].lower, sizeof got.lower) == 0, "det, %d threads", t);
        cr_assert_eq(nn_mi_kde_gauss(h, s, n, d, y, &o, t == 1 ? &ref[1] : &got, &err), RT_OK, "%s", err.msg);
        if (t > 1) cr_expect(memcmp(&got.upper, &ref[1].upper, sizeof got.upper) == 0 && memcmp(&got.lower, &ref[1].lower, sizeof got.lower) == 0, "gauss, %d threads", t);
        cr_assert_eq(nn_mi_kde_bern(p, n, d, y, &o, t == 1 ? &ref[2] : &got, &err), RT_OK, "%s", err.msg);
        if (t > 1) cr_expect(memcmp(&got.upper, &ref[2].upper, sizeof got.upper) == 0 && memcmp(&got.lower, &ref[2].lower, sizeof got.lower) == 0, "bern, %d threads", t);
        /* Full covariances: the Bhattacharyya loop, all in the pool, is thread-independent; the KL
        ** bound's GEMM (inner size d^2 + d = 90) is rounded differently by OpenBLAS on 1 and 2
        ** threads (1e-10 bits here), as any GEMM may be: the promise is the same bytes for the same
        ** thread count. */
        cr_assert_eq(nn_mi_kde_gauss_full(h, L, n, d, y, &o, t == 1 ? &ref[3] : &got, &err), RT_OK, "%s", err.msg);
        if (t > 1) cr_expect(memcmp(&got.lower, &ref[3].lower, sizeof got.lower) == 0, "full, %d threads", t);
    }
    rt_blas_set_threads(before);
    free(h), free(s), free(p), free(y), free(L);
}

// ---- known-MI tasks at a layer's size (nn_mi_check.h) ----

static nn_mi_check run_check(nn_mi_check_task t, uint64_t seed) {
    rt_rng r = stream(seed);
    nn_mi_check c;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_check_run(&t, &r, &c, &err), RT_OK, "%s", err.msg);
    return c;
}

Test(mi, check_channel_truth_against_a_binned_sample) {
    // I(Y; c X + N(0, v)) with Y the quantile bin of X: the limits, then the quadrature against a
    // plug-in estimate on 10^6 draws binned into 400 bins over +-6 sd of T. That estimate's bias
    // is about (400 - 1)(C - 1) / (2 N ln 2) <= 1.2e-3 bits, its sampling sd ~1e-3, the binning
    // loses < 1e-3: tolerance 0.01 bits.
    cr_expect_eq(nn_mi_check_channel_ity(0.0, 1.0, 4), 0.0);
    cr_expect_float_eq(nn_mi_check_channel_ity(1.0, 0.0, 4), 2.0, 1e-12);
    cr_expect(nn_mi_check_channel_ity(1.0, 1.0, 4) < nn_mi_check_channel_ity(2.0, 1.0, 4), "more gain, more information");
    cr_expect(fabs(nn_mi_check_channel_ity(1e6, 1.0, 4) - 2.0) < 0.01, "a clean channel gives H(Y)");
    const double c2s[2] = { 1.0, 4.0 }, vs[2] = { 1.0, 0.5 };
    const int Cs[2] = { 2, 5 };
    int n = 1000000;
    float *t = floats((size_t)n);
    int32_t *y = malloc((size_t)n * sizeof *y);
    for (int q = 0; q < 2; q++) {
        rt_rng r = stream(61 + (uint64_t)q);
        double c = sqrt(c2s[q]), sv = sqrt(vs[q]), st = sqrt(c2s[q] + vs[q]);
        for (int i = 0; i < n; i++) {
            double x = rt_rng_normal(&r);
            t[i] = (float)(c * x + sv * rt_rng_normal(&r));
            int b = (int)(0.5 * erfc(-x / sqrt(2.0)) * Cs[q]);
            y[i] = b >= Cs[q] ? Cs[q] - 1 : b;
        }
        nn_mi_bin_opts o = { 400, (float)(-6 * st), (float)(6 * st), 0.0f };
        nn_mi_disc d;
        rt_err err = { 0 };
        cr_assert_eq(nn_mi_bin(t, n, 1, NULL, y, &o, &d, &err), RT_OK, "%s", err.msg);
        double want = nn_mi_check_channel_ity(c2s[q], vs[q], Cs[q]);
        cr_expect(fabs(d.est.ity - want) < 0.01, "c2 %g, v %g, C %d: quadrature %.4f, binned sample %.4f",
                  c2s[q], vs[q], Cs[q], want, d.est.ity);
    }
    free(t); free(y);
}

Test(mi, check_linear_gauss_truth_and_estimates) {
    // The truth is the I(X;T) asked for; the KDE bounds bracket it at n = 4000 in 2 units, where
    // the 4000-component mixture is close to the population (measured margins >= 0.6 bits);
    // a KSG in one dimension recovers it (|err| < 0.1, its tolerance in ksg_correlated_gaussians).
    nn_mi_check_task t = { .est = NN_MI_CHECK_KDE_DET, .n = 4000, .d = 2, .classes = 10, .sigma2 = 0.1 };
    for (int q = 0; q < 2; q++) {
        t.bits = q ? 6.0 : 3.0;
        nn_mi_check c = run_check(t, 70 + (uint64_t)q);
        cr_expect_str_eq(c.task, "linear_gauss");
        cr_expect_float_eq(c.true_ixt, t.bits, 1e-9);
        cr_expect(c.ixt_lower <= c.true_ixt && c.true_ixt <= c.ixt, "bits %g: lower %.3f, truth %.3f, upper %.3f",
                  t.bits, c.ixt_lower, c.true_ixt, c.ixt);
        cr_expect(c.true_ity > 0.5 && c.true_ity < log2(10.0), "I(T;Y) %.3f: a sizeable part of H(Y)", c.true_ity);
    }
    // A Gaussian layer with sigma = 1 is the deterministic one with sigma2 = 1: the same numbers.
    t.sigma2 = 1.0;
    t.bits = 4.0;
    nn_mi_check det = run_check(t, 72);
    t.est = NN_MI_CHECK_KDE_GAUSS;
    nn_mi_check gauss = run_check(t, 72);
    cr_expect_float_eq(gauss.ixt, det.ixt, 1e-4);
    cr_expect_float_eq(gauss.ity_lower, det.ity_lower, 1e-4);
    t.est = NN_MI_CHECK_KDE_GAUSS_FULL;        /* and the full-covariance one with L = I */
    nn_mi_check full = run_check(t, 72);
    cr_expect_float_eq(full.ixt, det.ixt, 1e-4);
    cr_expect_float_eq(full.ixt_lower, det.ixt_lower, 1e-4);
    nn_mi_check_task k = { .est = NN_MI_CHECK_KSG, .n = 2000, .d = 1, .dx = 1, .classes = 4, .bits = 1.0, .k = 3 };
    nn_mi_check c = run_check(k, 73);
    cr_expect(fabs(c.ixt - 1.0) < 0.1, "ksg %.3f for 1 bit", c.ixt);
    cr_expect(fabs(c.ity - c.true_ity) < 0.1, "Ross %.3f, truth %.3f", c.ity, c.true_ity);
    cr_expect(isnan(c.ixt_lower));
    // the same stream, the same task: the same result
    nn_mi_check again = run_check(k, 73);
    cr_expect(again.ixt == c.ixt && again.ity == c.ity);
}

Test(mi, check_codewords_truth_and_estimates) {
    // 16 patterns among 6,000 rows: the plug-in bias (M - 1) / (2 N ln 2) is 2e-3 bits, so binning
    // (both kinds of bins) and the Bernoulli KDE upper bound land within 0.01 of log2 16 = 4 bits,
    // and I(T;Y) of H(Y) with Y = pattern mod 10 (six classes of 2 patterns, four of 1). The
    // Bhattacharyya bound sees through the clamp p = 1e-6 of the fixed bits (each pattern "leaks"
    // e^-6.2 per one-bit neighbour): within 0.02.
    double hy = -(6 * 0.125 * log2(0.125) + 4 * 0.0625 * log2(0.0625));
    nn_mi_check_task t = { .est = NN_MI_CHECK_BINNING, .n = 6000, .d = 3, .classes = 10, .bits = 4.0,
                           .bin = nn_mi_bin_opts_default() };
    for (int q = 0; q < 3; q++) {
        if (q == 1) t.bin.bin_size = 0.07f;
        if (q == 2) t.est = NN_MI_CHECK_KDE_BERN, t.d = 8;
        nn_mi_check c = run_check(t, 80 + (uint64_t)q);
        cr_expect_str_eq(c.task, "codewords");
        cr_expect_float_eq(c.true_ixt, 4.0, 1e-12);
        cr_expect_float_eq(c.true_ity, hy, 1e-12);
        cr_expect(fabs(c.ixt - 4.0) < 0.01 && fabs(c.ity - hy) < 0.01, "case %d: I(X;T) %.4f, I(T;Y) %.4f", q, c.ixt, c.ity);
        if (q == 2) cr_expect(fabs(c.ixt_lower - 4.0) < 0.02, "KDE lower %.4f", c.ixt_lower);
    }
    // Plug-in patterns of a Bernoulli layer with 4 units firing at p = 1/4 whatever the input:
    // H(T|X) is estimated from the samples of each row; with 256 samples per row its bias is
    // about 15 / (2 * 256 ln 2) = 0.04 bits, so I(X;T) lands within 0.1 of the truth. With 16
    // samples it overshoots (the self-check's point: it tells the user so).
    t = (nn_mi_check_task){ .est = NN_MI_CHECK_PLUGIN, .n = 2000, .d = 8, .classes = 2, .bits = 3.0, .samples = 256 };
    nn_mi_check c = run_check(t, 83);
    cr_expect(fabs(c.ixt - 3.0) < 0.1, "plugin, 256 samples: %.4f", c.ixt);
    t.samples = 16;
    c = run_check(t, 83);
    cr_expect(c.ixt > 3.2, "plugin, 16 samples: %.4f overshoots", c.ixt);
    // M is capped by what the units can show: 2 units of 30 bins show 900 patterns.
    t = (nn_mi_check_task){ .est = NN_MI_CHECK_BINNING, .n = 5000, .d = 2, .classes = 3, .bits = 12.0,
                            .bin = nn_mi_bin_opts_default() };
    c = run_check(t, 84);
    cr_expect_float_eq(c.true_ixt, log2(900.0), 1e-12);
}

Test(mi, check_errors_name_the_problem) {
    nn_mi_check_task t = { .est = NN_MI_CHECK_BINNING, .n = 100, .d = 3, .classes = 1, .bits = 2.0,
                           .bin = nn_mi_bin_opts_default() };
    rt_rng r = stream(90);
    nn_mi_check c;
    rt_err err = { 0 };
    cr_expect_eq(nn_mi_check_run(&t, &r, &c, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "classes=1") != NULL, "%s", err.msg);
    t.classes = 2;
    t.bin.bins = 1;
    rt_err_clear(&err);
    cr_expect_eq(nn_mi_check_run(&t, &r, &c, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "1 bin") != NULL, "%s", err.msg);
    t = (nn_mi_check_task){ .est = NN_MI_CHECK_KSG, .n = 100, .d = 3, .dx = 0, .classes = 2, .bits = 1.0, .k = 3 };
    rt_err_clear(&err);
    cr_expect_eq(nn_mi_check_run(&t, &r, &c, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "dx=0") != NULL, "%s", err.msg);
}

Test(mi, ksg_divides_out_each_variables_scale) {
    // The layer on 45 times the input's scale: one factor per variable is divided out, so the
    // estimate is that of the unscaled pair (up to float rounding of the scaled copy).
    rt_rng r = stream(95);
    int n = 1500, d = 2;
    float *a = floats((size_t)n * d), *b = floats((size_t)n * d), *b45 = floats((size_t)n * d);
    corr_gauss(&r, n, d, 0.8, a, b);
    for (int e = 0; e < n * d; e++) b45[e] = 45.0f * b[e];
    nn_mi_value v, v45;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_ksg(a, d, b, d, n, 3, &v, &err), RT_OK);
    cr_assert_eq(nn_mi_ksg(a, d, b45, d, n, 3, &v45, &err), RT_OK);
    cr_expect(fabs(v.bits - v45.bits) < 1e-3, "unscaled %.5f, scaled %.5f", v.bits, v45.bits);
    cr_expect(v45.bits > 0.5 * -log2(1.0 - 0.64) * d, "not collapsed: %.3f", v45.bits);
    free(a); free(b); free(b45);
}

/* KSG and Ross run their rows on a pool of OpenBLAS's thread count: the same bits on 1, 2, 3. */
Test(mi, ksg_bytes_do_not_depend_on_threads) {
    rt_rng r = stream(96);
    int n = 600, d = 3;
    float *a = floats((size_t)n * d), *b = floats((size_t)n * d);
    corr_gauss(&r, n, d, 0.7, a, b);
    int32_t *y = labels(&r, n, 4);
    nn_mi_value ref[2], got;
    rt_err err = { 0 };
    int before = rt_blas_threads();
    for (int t = 1; t <= 3; t++) {
        rt_blas_set_threads(t);
        cr_assert_eq(nn_mi_ksg(a, d, b, d, n, 3, t == 1 ? &ref[0] : &got, &err), RT_OK, "%s", err.msg);
        if (t > 1) cr_expect(got.bits == ref[0].bits, "ksg, %d threads: %.17g vs %.17g", t, got.bits, ref[0].bits);
        cr_assert_eq(nn_mi_ksg_labels(b, n, d, y, 3, t == 1 ? &ref[1] : &got, &err), RT_OK, "%s", err.msg);
        if (t > 1) cr_expect(got.bits == ref[1].bits, "Ross, %d threads", t);
    }
    rt_blas_set_threads(before);
    free(a); free(b); free(y);
}
