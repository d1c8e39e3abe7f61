// nn_mi.c: what the estimators share: side names, digamma, the pattern hash table, plug-in
// entropies of discrete patterns, and label handling.
#include "nn_mi_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const side_names[NN_MI_SIDE_COUNT] = {
    [NN_MI_ESTIMATE] = "estimate", [NN_MI_UPPER] = "upper", [NN_MI_LOWER] = "lower" };

const char *nn_mi_side_name(nn_mi_side s) {
    return (unsigned)s < NN_MI_SIDE_COUNT ? side_names[s] : "?";
}

void *nn_mi_alloc(size_t bytes, const char *what, rt_err *err) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        rt_err_set(err, RT_ERR_NOMEM, "mi: cannot allocate %zu bytes for %s; use fewer rows", bytes,
                   what);
    return p;
}

// ---- digamma ----

// psi(x) = psi(x + 1) - 1/x moves x to >= 10, where the asymptotic series
// psi(x) ~ ln x - 1/(2x) - sum_n B_2n / (2n x^2n) is accurate to double precision after six terms
// (the first omitted term, 691 / (32760 x^12), is below 2.2e-14 at x = 10).
double nn_mi_digamma(double x) {
    RT_ASSERT(x > 0.0 && isfinite(x));
    double r = 0.0;
    while (x < 10.0) { r -= 1.0 / x; x += 1.0; }
    double f = 1.0 / (x * x);
    double tail = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
    return r + log(x) - 0.5 / x - tail;
}

// ---- pattern ids: a hash table over rows of 32-bit words ----

static uint64_t mix64(uint64_t z) {          // splitmix64's finaliser
    z ^= z >> 30; z *= UINT64_C(0xBF58476D1CE4E5B9);
    z ^= z >> 27; z *= UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t hash_row(const uint32_t *k, int width) {
    uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)width;
    for (int i = 0; i < width; i++) h = mix64(h ^ k[i]) + (uint64_t)i;
    return h;
}

rt_status nn_mi_pattern_ids(const uint32_t *keys, size_t n, int width, int32_t *ids,
                            int64_t *count, rt_err *err) {
    RT_ASSERT(keys && ids && count && width > 0 && n <= (size_t)INT32_MAX);
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;                   // load factor <= 1/2: short probe runs
    int32_t *row = nn_mi_alloc(cap * sizeof *row, "the pattern table", err);     // -1 = empty
    uint64_t *hash = nn_mi_alloc(cap * sizeof *hash, "the pattern table", err);
    if (!row || !hash) { free(row); free(hash); return RT_ERR_NOMEM; }
    for (size_t s = 0; s < cap; s++) row[s] = -1;
    size_t mask = cap - 1, w = (size_t)width;
    int32_t next = 0;
    for (size_t r = 0; r < n; r++) {
        const uint32_t *k = keys + r * w;
        uint64_t h = hash_row(k, width);
        size_t s = (size_t)h & mask;
        for (;;) {
            if (row[s] < 0) {                       // new pattern: the row is its representative
                row[s] = (int32_t)r;
                hash[s] = h;
                ids[r] = next++;
                break;
            }
            // Same hash is not enough: compare the stored representative's words.
            if (hash[s] == h && memcmp(keys + (size_t)row[s] * w, k, w * sizeof *k) == 0) {
                ids[r] = ids[row[s]];
                break;
            }
            s = (s + 1) & mask;
        }
    }
    free(row);
    free(hash);
    *count = next;
    return RT_OK;
}

// ---- plug-in entropies ----

// H = log2 n - (1/n) sum_t c_t log2 c_t, summed in double.
double nn_mi_plugin_bits(const int32_t *ids, size_t n, int64_t count) {
    if (n == 0) return 0.0;
    int64_t *c = rt_xcalloc((size_t)count + 1, sizeof *c);      // O(patterns): small next to keys
    for (size_t r = 0; r < n; r++) {
        RT_ASSERT(ids[r] >= 0 && ids[r] < count);
        c[ids[r]]++;
    }
    double s = 0.0;
    for (int64_t t = 0; t < count; t++)
        if (c[t] > 1) s += (double)c[t] * log2((double)c[t]);
    free(c);
    double h = log2((double)n) - s / (double)n;
    return h > 0.0 ? h : 0.0;                       // one pattern: exactly 0, not -1e-16
}

// Ids of the pairs (a_r, b_r), then their plug-in entropy.
static rt_status joint_bits(const int32_t *a, const int32_t *b, size_t n, double *bits, rt_err *err) {
    uint32_t *k = nn_mi_alloc(2 * n * sizeof *k, "joint patterns", err);
    int32_t *ids = nn_mi_alloc(n * sizeof *ids, "joint patterns", err);
    rt_status st = RT_ERR_NOMEM;
    int64_t count = 0;
    if (k && ids) {
        for (size_t r = 0; r < n; r++) { k[2 * r] = (uint32_t)a[r]; k[2 * r + 1] = (uint32_t)b[r]; }
        st = nn_mi_pattern_ids(k, n, 2, ids, &count, err);
        if (st == RT_OK) *bits = nn_mi_plugin_bits(ids, n, count);
    }
    free(k);
    free(ids);
    return st;
}

static rt_status marginal_bits(const int32_t *a, size_t n, double *bits, rt_err *err) {
    int32_t *ids = nn_mi_alloc(n * sizeof *ids, "patterns", err);
    if (!ids) return RT_ERR_NOMEM;
    int64_t count = 0;
    rt_status st = nn_mi_pattern_ids((const uint32_t *)a, n, 1, ids, &count, err);
    if (st == RT_OK) *bits = nn_mi_plugin_bits(ids, n, count);
    free(ids);
    return st;
}

// Plug-in identities: H(T|X) = H(T,X) - H(X) and sum_y p(y) H(T|Y=y) = H(T,Y) - H(Y), exact for
// empirical distributions, so I(T;Y) = H(T) + H(Y) - H(T,Y).
rt_status nn_mi_plugin_plane(const int32_t *t, size_t n, int64_t count, const int32_t *x_id,
                             const int32_t *y, nn_mi_plane *out, rt_err *err) {
    nn_mi_plane p = { .h_t = nn_mi_plugin_bits(t, n, count), .h_t_x = 0.0, .ity = NAN,
                      .side_h = NN_MI_ESTIMATE, .side_ity = NN_MI_ESTIMATE };
    rt_status st = RT_OK;
    if (x_id) {
        double htx = 0.0, hx = 0.0;
        if ((st = joint_bits(t, x_id, n, &htx, err)) != RT_OK) return st;
        if ((st = marginal_bits(x_id, n, &hx, err)) != RT_OK) return st;
        p.h_t_x = fmax(htx - hx, 0.0);
    }
    if (y) {
        double hty = 0.0, hy = 0.0;
        if ((st = joint_bits(t, y, n, &hty, err)) != RT_OK) return st;
        if ((st = marginal_bits(y, n, &hy, err)) != RT_OK) return st;
        p.ity = fmax(p.h_t + hy - hty, 0.0);
    }
    p.ixt = p.h_t - p.h_t_x;
    *out = p;
    return RT_OK;
}

rt_status nn_mi_classes(const int32_t *y, int n, int32_t *cls, int *nclass, rt_err *err) {
    *nclass = 0;
    if (!y) return RT_OK;
    int64_t count = 0;
    rt_status st = nn_mi_pattern_ids((const uint32_t *)y, (size_t)n, 1, cls, &count, err);
    *nclass = (int)count;
    return st;
}
