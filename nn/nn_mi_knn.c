// nn_mi_knn.c: k-nearest-neighbour estimators in the max-norm: KSG algorithm 1 (Kraskov,
// Stoegbauer & Grassberger 2004), Ross's mixed discrete-continuous variant (2014) for I(T;Y),
// and the Kozachenko-Leonenko entropy.
//
// Brute force: each row's distances to all rows are computed into O(N) buffers, then its k-th
// neighbour is found by insertion into a sorted list of k, and the counts by one more scan; the
// rows run on the GEMM's threads (rt_blas_pool), each into its own term, summed in row order
// (the same bits on any thread count). The cost is O(N^2 d) time, O(N) memory per thread: about 1e8 pair visits at N = 10,000, fine for the low-
// dimensional quantities KSG is meant for (KSG is biased in high dimension anyway). A tree would
// be faster but not in the max-norm in high dimension, and this is simple to check.
// Distances are float max-norms |a_ik - a_jk| (exact up to the rounding of one subtraction) and
// the same stored values feed both the neighbour search and the counts, so they agree.
#include "nn_mi_impl.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "rt_blas.h"
#include "rt_pool.h"

#define ROWS_PER_CHUNK 16       // rows per rt_pool chunk: each row costs O(N d)

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

/* The rows [lo, hi) of KSG: each row's psi(n_a + 1) + psi(n_b + 1) into its own entry of term[], so
** the chunks of rt_pool_for write disjoint entries and the sum, taken in row order afterwards,
** does not depend on the thread count. */
typedef struct ksg_job {
    const float *a, *b;
    int da, db, n, k;
    double *term;
    atomic_bool nomem;
} ksg_job;

static void ksg_rows(void *arg, size_t lo, size_t hi) {
    ksg_job *J = arg;
    int n = J->n, k = J->k;
    float *dA = malloc((size_t)n * sizeof *dA), *dB = malloc((size_t)n * sizeof *dB);
    float *dZ = malloc((size_t)n * sizeof *dZ), *best = malloc((size_t)k * sizeof *best);
    if (!dA || !dB || !dZ || !best) {
        atomic_store(&J->nomem, true);
    } else {
        for (int i = (int)lo; i < (int)hi; i++) {
            dist_row(J->a, n, J->da, i, dA);
            dist_row(J->b, n, J->db, i, dB);
            for (int j = 0; j < n; j++) dZ[j] = dA[j] > dB[j] ? dA[j] : dB[j];
            float eps = kth_smallest(dZ, n, i, k, NULL, 0, best);
            int na = 0, nb = 0;
            for (int j = 0; j < n; j++) {
                if (j == i) continue;
                na += dA[j] < eps;
                nb += dB[j] < eps;
            }
            J->term[i] = nn_mi_digamma(na + 1.0) + nn_mi_digamma(nb + 1.0);
        }
    }
    free(dA); free(dB); free(dZ); free(best);
}

rt_status nn_mi_ksg(const float *a, int da, const float *b, int db, int n, int k,
                    nn_mi_value *out, rt_err *err) {
    RT_ASSERT(a && b && out);
    double t0 = rt_now_s();
    rt_status st;
    if ((st = check_knn(a, n, da, k, "nn_mi_ksg", "a", err)) != RT_OK) return st;
    if ((st = check_knn(b, n, db, k, "nn_mi_ksg", "b", err)) != RT_OK) return st;
    float *ua = unit_scale(a, n, da, err), *ub = ua ? unit_scale(b, n, db, err) : NULL;
    double *term = ub ? nn_mi_alloc((size_t)n * sizeof *term, "row terms", err) : NULL;
    if (!ua || !ub || !term) { free(ua); free(ub); return RT_ERR_NOMEM; }
    ksg_job J = { .a = ua, .b = ub, .da = da, .db = db, .n = n, .k = k, .term = term };
    atomic_init(&J.nomem, false);
    rt_pool_for(rt_blas_pool(), (size_t)n, ROWS_PER_CHUNK, ksg_rows, &J);
    double s = 0.0;
    for (int i = 0; i < n; i++) s += term[i];
    free(ua); free(ub); free(term);
    if (atomic_load(&J.nomem)) return rt_err_set(err, RT_ERR_NOMEM, "nn_mi_ksg: cannot allocate distances");
    double nats = nn_mi_digamma(k) + nn_mi_digamma(n) - s / n;
    *out = (nn_mi_value){ .bits = nats / NN_MI_LN2, .side = NN_MI_ESTIMATE, .seconds = rt_now_s() - t0 };
    return RT_OK;
}

/* The rows [lo, hi) of Ross's estimator: each row's psi(k_i), psi(N_y), psi(m_i) into its own
** entries (kept[i] = 0 for a row alone in its class), summed in row order afterwards. */
typedef struct ross_job {
    const float *t;
    const int32_t *cls;
    const int64_t *ny;
    int n, d, k;
    double *sk, *sy, *sm;
    char *kept;
    atomic_bool nomem;
} ross_job;

static void ross_rows(void *arg, size_t lo, size_t hi) {
    ross_job *J = arg;
    int n = J->n;
    float *dist = malloc((size_t)n * sizeof *dist), *best = malloc((size_t)J->k * sizeof *best);
    if (!dist || !best) {
        atomic_store(&J->nomem, true);
    } else {
        for (int i = (int)lo; i < (int)hi; i++) {
            int64_t m_y = J->ny[J->cls[i]];
            J->kept[i] = m_y >= 2;
            if (m_y < 2) continue;              // alone in its class: no neighbour to measure
            int ki = m_y - 1 < J->k ? (int)(m_y - 1) : J->k;
            dist_row(J->t, n, J->d, i, dist);
            float r = kth_smallest(dist, n, i, ki, J->cls, J->cls[i], best);
            int m = 1;                          // rows alone in their class are not counted
            for (int j = 0; j < n; j++) m += (j != i && dist[j] < r && J->ny[J->cls[j]] >= 2);
            J->sk[i] = nn_mi_digamma(ki);
            J->sy[i] = nn_mi_digamma((double)m_y);
            J->sm[i] = nn_mi_digamma(m);
        }
    }
    free(dist); free(best);
}

rt_status nn_mi_ksg_labels(const float *t, int n, int d, const int32_t *y, int k,
                           nn_mi_value *out, rt_err *err) {
    RT_ASSERT(t && y && out);
    double t0 = rt_now_s();
    rt_status st;
    if ((st = check_knn(t, n, d, k, "nn_mi_ksg_labels", "t", err)) != RT_OK) return st;
    int32_t *cls = nn_mi_alloc((size_t)n * sizeof *cls, "labels", err);
    double *terms = nn_mi_alloc(3 * (size_t)n * sizeof *terms, "row terms", err);
    char *kept = nn_mi_alloc((size_t)n, "row flags", err);
    int64_t *ny = NULL;
    int nclass = 0;
    st = (cls && terms && kept) ? nn_mi_classes(y, n, cls, &nclass, err) : RT_ERR_NOMEM;
    if (st == RT_OK && !(ny = calloc((size_t)nclass, sizeof *ny)))
        st = rt_err_set(err, RT_ERR_NOMEM, "nn_mi_ksg_labels: cannot allocate class counts");
    if (st != RT_OK) { free(cls); free(terms); free(kept); return st; }
    for (int i = 0; i < n; i++) ny[cls[i]]++;
    ross_job J = { .t = t, .cls = cls, .ny = ny, .n = n, .d = d, .k = k, .sk = terms,
                   .sy = terms + n, .sm = terms + 2 * (size_t)n, .kept = kept };
    atomic_init(&J.nomem, false);
    rt_pool_for(rt_blas_pool(), (size_t)n, ROWS_PER_CHUNK, ross_rows, &J);
    double sk = 0.0, sy = 0.0, sm = 0.0;
    int nkept = 0;
    for (int i = 0; i < n; i++)
        if (kept[i]) { sk += J.sk[i]; sy += J.sy[i]; sm += J.sm[i]; nkept++; }
    bool nomem = atomic_load(&J.nomem);
    free(cls); free(terms); free(kept); free(ny);
    if (nomem) return rt_err_set(err, RT_ERR_NOMEM, "nn_mi_ksg_labels: cannot allocate distances");
    if (nkept == 0)
        return rt_err_set(err, RT_ERR_ARG, "nn_mi_ksg_labels: every class has a single row; nothing to "
                          "estimate from");
    double nats = nn_mi_digamma(nkept) + (sk - sy - sm) / nkept;
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
