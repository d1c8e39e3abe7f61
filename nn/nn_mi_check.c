// nn_mi_check.c: the known-MI tasks of nn_mi_check.h (linear Gaussian, codewords) and their
// truths.
#include "nn_mi_check.h"

#include <math.h>
#include <stdlib.h>

#include "nn_mi_impl.h"

#define SQRT1_2 0.70710678118654752440

// P(Z > x) for Z ~ N(0, 1), accurate in the upper tail.
static double upper_tail(double x) { return 0.5 * erfc(x * SQRT1_2); }

// P(a < Z < b), each side from the tail it is in, so small probabilities keep their digits.
static double normal_between(double a, double b) {
    if (a >= 0.0) return upper_tail(a) - upper_tail(b);
    if (b <= 0.0) return upper_tail(-b) - upper_tail(-a);
    return 1.0 - upper_tail(-a) - upper_tail(b);
}

// The standard normal quantile, by bisection on the tails (to the last bit; called C times).
static double normal_quantile(double p) {
    double lo = -40.0, hi = 40.0;
    for (int it = 0; it < 200 && hi - lo > 1e-15; it++) {
        double mid = 0.5 * (lo + hi);
        if (1.0 - upper_tail(mid) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

// X's quantile bin among C equiprobable bins.
static int32_t quantile_bin(double x, int C) {
    int b = (int)((1.0 - upper_tail(x)) * C);
    return (int32_t)(b < 0 ? 0 : b >= C ? C - 1 : b);
}

double nn_mi_check_channel_ity(double c2, double v, int C) {
    if (C < 2 || !(c2 > 0.0)) return 0.0;
    if (!(v > 0.0)) return log2((double)C);
    double q[1026];
    RT_ASSERT(C <= 1024);
    q[0] = -INFINITY;
    q[C] = INFINITY;
    for (int y = 1; y < C; y++) q[y] = normal_quantile((double)y / C);
    // T = c X + N(0, v) ~ N(0, c^2 + v); written T = u sqrt(c^2 + v) with u ~ N(0, 1), the
    // posterior of X is N(mu, sd^2), mu = c u / sqrt(c^2 + v), sd^2 = v / (c^2 + v).
    double st = sqrt(c2 + v), c = sqrt(c2), sd = sqrt(v / (c2 + v));
    // Simpson over u in [-12, 12]; the step resolves H(Y|t), which changes over ~sd in mu.
    double step = fmin(2e-3, sd / 8.0);
    long steps = (long)ceil(24.0 / step);
    if (steps > 4000000) steps = 4000000;
    steps += steps & 1;
    double h = 24.0 / (double)steps, acc = 0.0;
    for (long i = 0; i <= steps; i++) {
        double u = -12.0 + h * (double)i, mu = c * u / st, hy = 0.0;
        for (int y = 0; y < C; y++) {
            double p = normal_between((q[y] - mu) / sd, (q[y + 1] - mu) / sd);
            if (p > 0.0) hy -= p * log2(p);
        }
        double w = i == 0 || i == steps ? 1.0 : i & 1 ? 4.0 : 2.0;
        acc += w * exp(-0.5 * u * u) * hy;
    }
    double hyt = acc * h / 3.0 / sqrt(2.0 * 3.14159265358979323846);
    return log2((double)C) - hyt;
}

// c^2 such that sum_j 1/2 log2(1 + r_j c^2 / s2) = bits (monotone in c^2: bisection in log).
static double solve_gain(const int *r, int m, double s2, double bits) {
    if (!(bits > 0.0) || m < 1) return 0.0;
    double lo = -80.0, hi = 80.0;       // log(c^2)
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi), c2 = exp(mid), f = 0.0;
        for (int j = 0; j < m; j++) f += 0.5 * log2(1.0 + r[j] * c2 / s2);
        if (f < bits) lo = mid;
        else hi = mid;
    }
    return exp(0.5 * (lo + hi));
}

static rt_status linear_gauss(const nn_mi_check_task *t, rt_rng *rng, nn_mi_check *out, rt_err *err) {
    int n = t->n, d = t->d, dx = t->est == NN_MI_CHECK_KSG ? t->dx : d, m = dx < d ? dx : d;
    if (dx < 1) return rt_err_set(err, RT_ERR_ARG, "mi check: ksg needs the input's width (dx=%d)", dx);
    if ((double)n * (double)dx > (double)(1 << 28))
        return rt_err_set(err, RT_ERR_ARG, "mi check: %d rows of %d inputs is over 2^28 values; measure fewer "
                          "samples", n, dx);
    double s2 = t->est == NN_MI_CHECK_KDE_DET ? t->sigma2 : 1.0;
    if (!(s2 > 0.0)) return rt_err_set(err, RT_ERR_ARG, "mi check: sigma2=%g; need > 0", s2);
    int *r = nn_mi_alloc((size_t)m * sizeof *r, "mi check units", err);
    // ksg reads the whole input; the KDE bounds only the units' sources X_0 .. X_(m-1)
    int xw = t->est == NN_MI_CHECK_KSG ? dx : m;
    float *x = nn_mi_alloc((size_t)n * (size_t)xw * sizeof *x, "mi check input", err);
    float *h = nn_mi_alloc((size_t)n * (size_t)d * sizeof *h, "mi check layer", err);
    bool full = t->est == NN_MI_CHECK_KDE_GAUSS_FULL;
    size_t per = full ? (size_t)d * (size_t)(d + 1) / 2 : (size_t)d;    /* sigma, or packed L = I */
    float *sg = t->est == NN_MI_CHECK_KDE_GAUSS || full ? nn_mi_alloc((size_t)n * per * sizeof *sg, "mi check sigma", err) : NULL;
    int32_t *y = nn_mi_alloc((size_t)n * sizeof *y, "mi check labels", err);
    rt_status st = !r || !x || !h || !y || ((t->est == NN_MI_CHECK_KDE_GAUSS || full) && !sg) ? RT_ERR_NOMEM : RT_OK;
    if (!st) {
        for (int j = 0; j < m; j++) r[j] = (d - 1 - j) / dx + 1;
        // X_0, the labels' source, carries half the bits (all of them when it is alone), the
        // other sources share the rest with one gain: I(T;Y) is then a sizeable part of
        // log2(classes) at every width, as in a layer that has learnt the labels.
        double b0 = m == 1 ? t->bits : 0.5 * t->bits;
        double c0sq = s2 * (exp2(2.0 * b0) - 1.0) / r[0], c2 = solve_gain(r + 1, m - 1, s2, t->bits - b0);
        double c0 = sqrt(c0sq), c = sqrt(c2);
        out->task = "linear_gauss";
        out->true_ixt = 0.5 * log2(1.0 + r[0] * c0sq / s2);
        for (int j = 1; j < m; j++) out->true_ixt += 0.5 * log2(1.0 + r[j] * c2 / s2);
        out->true_ity = nn_mi_check_channel_ity(c0sq, s2 / r[0], t->classes);
        for (int i = 0; i < n; i++) {
            float *xi = x + (size_t)i * xw, *hi = h + (size_t)i * d;
            for (int k = 0; k < xw; k++) xi[k] = (float)rt_rng_normal(rng);
            y[i] = quantile_bin((double)xi[0], t->classes);
            for (int k = 0; k < d; k++) hi[k] = (float)((k % dx ? c : c0) * (double)xi[k % dx]);
        }
        nn_mi_kde kde;
        nn_mi_value a, b;
        switch (t->est) {
        case NN_MI_CHECK_KDE_DET:
        case NN_MI_CHECK_KDE_GAUSS:
        case NN_MI_CHECK_KDE_GAUSS_FULL:
            if (full) {
                for (int i = 0; i < n; i++)
                    for (int u = 0; u < d; u++)
                        for (int w = 0; w <= u; w++) sg[(size_t)i * per + (size_t)(u * (u + 1) / 2 + w)] = u == w ? 1.0f : 0.0f;
                st = nn_mi_kde_gauss_full(h, sg, n, d, y, NULL, &kde, err);
            } else if (sg) {
                for (size_t e = 0; e < (size_t)n * d; e++) sg[e] = 1.0f;
                st = nn_mi_kde_gauss(h, sg, n, d, y, NULL, &kde, err);
            } else {
                st = nn_mi_kde_det(h, n, d, s2, y, NULL, &kde, err);
            }
            if (!st) {
                out->ixt = kde.upper.ixt, out->ity = kde.upper.ity;
                out->ixt_lower = kde.lower.ixt, out->ity_lower = kde.lower.ity;
                out->seconds = kde.seconds;
            }
            break;
        default:        // ksg: one sample of T against the input, and against the labels
            for (size_t e = 0; e < (size_t)n * d; e++) h[e] += (float)rt_rng_normal(rng);
            st = nn_mi_ksg(x, dx, h, d, n, t->k, &a, err);
            if (!st) st = nn_mi_ksg_labels(h, n, d, y, t->k, &b, err);
            if (!st) out->ixt = a.bits, out->ity = b.bits, out->seconds = a.seconds + b.seconds;
            break;
        }
    }
    free(r); free(x); free(h); free(sg); free(y);
    return st;
}

static rt_status codewords(const nn_mi_check_task *t, rt_rng *rng, nn_mi_check *out, rt_err *err) {
    int n = t->n, d = t->d, C = t->classes;
    bool bern = t->est != NN_MI_CHECK_BINNING;
    bool sized = !bern && t->bin.bin_size > 0.0f;
    int q = bern ? 2 : sized ? 30 : t->bin.bins;
    if (q < 2) return rt_err_set(err, RT_ERR_ARG, "mi check: binning with %d bin(s) shows one pattern", q);
    // M patterns, at most q^d (and 2^30)
    double want = round(exp2(t->bits)), most = fmin(pow((double)q, (double)d), 1073741824.0);
    int64_t M = (int64_t)fmax(1.0, fmin(want, most));
    int used = 0;               // units carrying the pattern's digits
    for (int64_t cap = 1; cap < M; cap *= q) used++;
    int noisy = bern ? (d - used < 4 ? d - used : 4) : 0;
    float *v = nn_mi_alloc((size_t)n * (size_t)d * sizeof *v, "mi check layer", err);
    int *fixed = nn_mi_alloc((size_t)d * sizeof *fixed, "mi check units", err);
    int32_t *y = nn_mi_alloc((size_t)n * sizeof *y, "mi check labels", err);
    rt_status st = !v || !fixed || !y ? RT_ERR_NOMEM : RT_OK;
    if (!st) {
        // a bin centre (binning) or a bit (Bernoulli) for digit b
        double lo = (double)t->bin.lo, width = ((double)t->bin.hi - lo) / q;
        for (int k = 0; k < d; k++) fixed[k] = (int)rt_rng_below(rng, (uint32_t)q);
        for (int i = 0; i < n; i++) {
            int64_t pat = (int64_t)(rt_rng_uniform(rng) * (double)M);
            pat = pat < M ? pat : M - 1;
            y[i] = (int32_t)(pat % C);
            float *vi = v + (size_t)i * d;
            int64_t rest = pat;
            for (int k = 0; k < d; k++) {
                int digit = fixed[k];
                if (k < used) { digit = (int)(rest % q); rest /= q; }
                float val = (float)digit;       // Bernoulli: p in {0, 1}
                if (bern && k >= used && k < used + noisy) val = 0.25f;
                else if (!bern) val = sized ? (float)(((double)(digit - q / 2) + 0.5) * (double)t->bin.bin_size)
                                            : (float)(lo + ((double)digit + 0.5) * width);
                vi[k] = val;
            }
        }
        out->task = "codewords";
        out->true_ixt = log2((double)M);
        out->true_ity = 0.0;
        for (int c = 0; c < C && c < M; c++) {
            double p = (double)(M / C + (c < M % C ? 1 : 0)) / (double)M;
            out->true_ity -= p * log2(p);
        }
        nn_mi_disc b;
        nn_mi_kde kde;
        if (t->est == NN_MI_CHECK_BINNING) {
            st = nn_mi_bin(v, n, d, NULL, y, &t->bin, &b, err);
            if (!st) out->ixt = b.est.ixt, out->ity = b.est.ity, out->seconds = b.seconds;
        } else if (t->est == NN_MI_CHECK_PLUGIN) {
            st = nn_mi_bern_plugin(v, n, d, NULL, y, rng, t->samples, &b, err);
            if (!st) out->ixt = b.est.ixt, out->ity = b.est.ity, out->seconds = b.seconds;
        } else {
            st = nn_mi_kde_bern(v, n, d, y, NULL, &kde, err);
            if (!st) {
                out->ixt = kde.upper.ixt, out->ity = kde.upper.ity;
                out->ixt_lower = kde.lower.ixt, out->ity_lower = kde.lower.ity;
                out->seconds = kde.seconds;
            }
        }
    }
    free(v); free(fixed); free(y);
    return st;
}

rt_status nn_mi_check_run(const nn_mi_check_task *t, rt_rng *r, nn_mi_check *out, rt_err *err) {
    out->task = "";
    out->true_ixt = out->true_ity = out->ixt = out->ity = (double)NAN;
    out->ixt_lower = out->ity_lower = (double)NAN;
    out->seconds = 0.0;
    if (t->n < 2 || t->d < 1 || t->classes < 2 || t->classes > 1024 || !(t->bits >= 0.0))
        return rt_err_set(err, RT_ERR_ARG, "mi check: n=%d, d=%d, classes=%d, bits=%g; need n >= 2, d >= 1, "
                          "2 <= classes <= 1024, bits >= 0", t->n, t->d, t->classes, t->bits);
    switch (t->est) {
    case NN_MI_CHECK_KDE_DET:
    case NN_MI_CHECK_KDE_GAUSS:
    case NN_MI_CHECK_KDE_GAUSS_FULL:
    case NN_MI_CHECK_KSG: return linear_gauss(t, r, out, err);
    case NN_MI_CHECK_KDE_BERN:
    case NN_MI_CHECK_BINNING:
    case NN_MI_CHECK_PLUGIN: return codewords(t, r, out, err);
    default: return rt_err_set(err, RT_ERR_ARG, "mi check: unknown estimator %d", (int)t->est);
    }
}
