// nn_mi_knn.c: k-nearest-neighbour estimators in the max-norm: KSG algorithm 1 (Kraskov,
// Stoegbauer & Grassberger 2004), Ross's mixed discrete-continuous variant (2014) for I(T;Y),
// and the Kozachenko-Leonenko entropy.
//
// Brute force: each row's distances to all rows are computed into O(N) buffers, then its k-th
// neighbour is found by insertion into a sorted list of k, and the counts by one more scan. The
// cost is O(N^2 d) time, O(N) memory: about 1e8 pair visits at N = 10,000, fine for the low-
// dimensional quantities KSG is meant for (KSG is biased in high dimension anyway). A tree would
// be faster but not in the max-norm in high dimension, and this is simple to check.
// Distances are float max-norms |a_ik - a_jk| (exact up to the rounding of one subtraction) and
// the same stored values feed both the neighbour search and the counts, so they agree.
#include "nn_mi_impl.h"

#include <math.h>
#include <stdlib.h>

// A copy of x (n, d) divided by its columns' root mean variance, one factor for all of them (a
// constant x is kept). The joint max-norm of KSG compares a's distances with b's: a layer on 45
// times its input's scale would make every joint neighbour a neighbour in the layer alone and the
// estimate collapse to 0 (the self-check of nn_mi_check.h shows it). One factor per variable
// keeps each variable's own geometry (a unit with more variance still weighs more); scaling
// every column alone would let units that carry nothing weigh as much as those that do.
static float *unit_scale(const float *x, int n, int d, rt_err *err) {
    float *u = nn_mi_alloc((size_t)n * (size_t)d * sizeof *u, "scaled copy", err);
    if (!u) return NULL;
    double var = 0.0;
    for (int k = 0; k < d; k++) {
        double s = 0.0, s2 = 0.0;
        for (int i = 0; i < n; i++) s += (double)x[(size_t)i * d + k];
        double mean = s / n;
        for (int i = 0; i < n; i++) {
            double e = (double)x[(size_t)i * d + k] - mean;
            s2 += e * e;
        }
        var += s2 / n;
    }
    double f = var > 0.0 ? 1.0 / sqrt(var / d) : 1.0;
    for (size_t e = 0; e < (size_t)n * d; e++) u[e] = (float)((double)x[e] * f);
    return u;
}

// Max-norm distances from row i to every row of x (n, d).
static void dist_row(const float *x, int n, int d, int i, float *out) {
    const float *xi = x + (size_t)i * d;
    for (int j = 0; j < n; j++) {
        const float *xj = x + (size_t)j * d;
        float m = 0.0f;
        for (int k = 0; k < d; k++) {
            float t = fabsf(xi[k] - xj[k]);
            m = t > m ? t : m;
        }
        out[j] = m;
    }
}

// The k-th smallest of v[j] over j != skip (and, when cls is given, cls[j] == want), by insertion
// into best[0..k) kept sorted. The caller guarantees at least k candidates.
static float kth_smallest(const float *v, int n, int skip, int k, const int32_t *cls, int32_t want,
                          float *best) {
    int have = 0;
    for (int j = 0; j < n; j++) {
        if (j == skip || (cls && cls[j] != want)) continue;
        float x = v[j];
        if (have == k && x >= best[k - 1]) continue;
        int p = have < k ? have++ : k - 1;
        while (p > 0 && best[p - 1] > x) { best[p] = best[p - 1]; p--; }
        best[p] = x;
    }
    RT_ASSERT(have == k);
    return best[k - 1];
}

static rt_status check_knn(const float *x, int n, int d, int k, const char *fn, const char *what,
                           rt_err *err) {
    if (n < 2 || d < 1)
        return rt_err_set(err, RT_ERR_ARG, "%s: n=%d rows by d=%d columns; need n >= 2 and d >= 1", fn, n, d);
    if (k < 1 || k >= n)
        return rt_err_set(err, RT_ERR_ARG, "%s: k=%d neighbours with n=%d rows; need 1 <= k < n (3 is usual)",
                          fn, k, n);
    for (size_t e = 0; e < (size_t)n * d; e++)
        if (!isfinite(x[e]))
            return rt_err_set(err, RT_ERR_NUMERIC, "%s: %s[%zu][%zu] = %g is not finite", fn, what,
                              e / (size_t)d, e % (size_t)d, (double)x[e]);
    return RT_OK;
}

rt_status nn_mi_ksg(const float *a, int da, const float *b, int db, int n, int k,
                    nn_mi_value *out, rt_err *err) {
    RT_ASSERT(a && b && out);
    double t0 = rt_now_s();
    rt_status st;
    if ((st = check_knn(a, n, da, k, "nn_mi_ksg", "a", err)) != RT_OK) return st;
    if ((st = check_knn(b, n, db, k, "nn_mi_ksg", "b", err)) != RT_OK) return st;
    float *ua = unit_scale(a, n, da, err), *ub = ua ? unit_scale(b, n, db, err) : NULL;
    if (!ua || !ub) { free(ua); return RT_ERR_NOMEM; }
    a = ua, b = ub;
    float *dA = nn_mi_alloc((size_t)n * sizeof *dA, "distances", err);
    float *dB = nn_mi_alloc((size_t)n * sizeof *dB, "distances", err);
    float *dZ = nn_mi_alloc((size_t)n * sizeof *dZ, "distances", err);
    float *best = nn_mi_alloc((size_t)k * sizeof *best, "neighbours", err);
    if (!dA || !dB || !dZ || !best) { free(dA); free(dB); free(dZ); free(best); free(ua); free(ub); return RT_ERR_NOMEM; }
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        dist_row(a, n, da, i, dA);
        dist_row(b, n, db, i, dB);
        for (int j = 0; j < n; j++) dZ[j] = dA[j] > dB[j] ? dA[j] : dB[j];
        float eps = kth_smallest(dZ, n, i, k, NULL, 0, best);
        int na = 0, nb = 0;
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            na += dA[j] < eps;
            nb += dB[j] < eps;
        }
        s += nn_mi_digamma(na + 1.0) + nn_mi_digamma(nb + 1.0);
    }
    free(dA); free(dB); free(dZ); free(best); free(ua); free(ub);
    double nats = nn_mi_digamma(k) + nn_mi_digamma(n) - s / n;
    *out = (nn_mi_value){ .bits = nats / NN_MI_LN2, .side = NN_MI_ESTIMATE, .seconds = rt_now_s() - t0 };
    return RT_OK;
}

rt_status nn_mi_ksg_labels(const float *t, int n, int d, const int32_t *y, int k,
                           nn_mi_value *out, rt_err *err) {
    RT_ASSERT(t && y && out);
    double t0 = rt_now_s();
    rt_status st;
    if ((st = check_knn(t, n, d, k, "nn_mi_ksg_labels", "t", err)) != RT_OK) return st;
    float *dist = nn_mi_alloc((size_t)n * sizeof *dist, "distances", err);
    float *best = nn_mi_alloc((size_t)k * sizeof *best, "neighbours", err);
    int32_t *cls = nn_mi_alloc((size_t)n * sizeof *cls, "labels", err);
    int64_t *ny = NULL;
    int nclass = 0;
    st = (dist && best && cls) ? nn_mi_classes(y, n, cls, &nclass, err) : RT_ERR_NOMEM;
    if (st == RT_OK && !(ny = calloc((size_t)nclass, sizeof *ny)))
        st = rt_err_set(err, RT_ERR_NOMEM, "nn_mi_ksg_labels: cannot allocate class counts");
    if (st != RT_OK) { free(dist); free(best); free(cls); return st; }
    for (int i = 0; i < n; i++) ny[cls[i]]++;
    double sk = 0.0, sy = 0.0, sm = 0.0;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        int64_t m_y = ny[cls[i]];
        if (m_y < 2) continue;                  // alone in its class: no neighbour to measure
        int ki = m_y - 1 < k ? (int)(m_y - 1) : k;
        dist_row(t, n, d, i, dist);
        float r = kth_smallest(dist, n, i, ki, cls, cls[i], best);
        int m = 1;
        for (int j = 0; j < n; j++) m += (j != i && dist[j] < r);
        sk += nn_mi_digamma(ki);
        sy += nn_mi_digamma((double)m_y);
        sm += nn_mi_digamma(m);
        kept++;
    }
    free(dist); free(best); free(cls); free(ny);
    if (kept == 0)
        return rt_err_set(err, RT_ERR_ARG, "nn_mi_ksg_labels: every class has a single row; nothing to "
                          "estimate from");
    double nats = nn_mi_digamma(kept) + (sk - sy - sm) / kept;
    *out = (nn_mi_value){ .bits = nats / NN_MI_LN2, .side = NN_MI_ESTIMATE, .seconds = rt_now_s() - t0 };
    return RT_OK;
}

rt_status nn_mi_kl_entropy(const float *x, int n, int d, int k, nn_mi_value *out, rt_err *err) {
    RT_ASSERT(x && out);
    double t0 = rt_now_s();
    rt_status st;
    if ((st = check_knn(x, n, d, k, "nn_mi_kl_entropy", "x", err)) != RT_OK) return st;
    float *dist = nn_mi_alloc((size_t)n * sizeof *dist, "distances", err);
    float *best = nn_mi_alloc((size_t)k * sizeof *best, "neighbours", err);
    if (!dist || !best) { free(dist); free(best); return RT_ERR_NOMEM; }
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        dist_row(x, n, d, i, dist);
        float r = kth_smallest(dist, n, i, k, NULL, 0, best);
        if (!(r > 0.0f)) {
            free(dist); free(best);
            return rt_err_set(err, RT_ERR_NUMERIC, "nn_mi_kl_entropy: row %d has %d duplicates at distance 0, "
                              "so ln r = -inf; add a little noise or raise k", i, k);
        }
        s += log((double)r);
    }
    free(dist); free(best);
    double nats = nn_mi_digamma(n) - nn_mi_digamma(k) + d * log(2.0) + d * s / n;
    *out = (nn_mi_value){ .bits = nats / NN_MI_LN2, .side = NN_MI_ESTIMATE, .seconds = rt_now_s() - t0 };
    return RT_OK;
}
