// nn_mi_bin.c: plug-in information planes of discrete patterns: binned activations (Shwartz-Ziv &
// Tishby 2017 with a bin count; Saxe et al. 2018 with a bin size) and binary patterns of
// Bernoulli layers (thresholded or sampled). Each row becomes a key of 32-bit words, the hash
// table of nn_mi.c gives it a pattern id, and nn_mi_plugin_plane does the counting.
#include "nn_mi_impl.h"

#include <math.h>
#include <stdlib.h>

nn_mi_bin_opts nn_mi_bin_opts_default(void) {
    return (nn_mi_bin_opts){ .bins = 30, .lo = -1.0f, .hi = 1.0f, .bin_size = 0.0f };
}

static rt_status finish(uint32_t *keys, size_t rows, int width, const int32_t *x_id,
                        const int32_t *y, nn_mi_disc *out, rt_err *err) {
    int32_t *ids = nn_mi_alloc(rows * sizeof *ids, "pattern ids", err);
    if (!ids) return RT_ERR_NOMEM;
    int64_t count = 0;
    rt_status st = nn_mi_pattern_ids(keys, rows, width, ids, &count, err);
    if (st == RT_OK) st = nn_mi_plugin_plane(ids, rows, count, x_id, y, &out->est, err);
    out->rows = (int64_t)rows;
    out->patterns = count;
    free(ids);
    return st;
}

// Bin count: b = floor((a - lo) / (hi - lo) * bins), so [lo, hi] splits into `bins` equal bins
// (hi itself goes to the last one); values outside are clamped into the first or last bin and
// counted. (IDNNs' np.digitize over linspace(-1, 1, 30) has 29 interior intervals and two open
// ends instead; for tanh activations in (-1, 1) both are 30-ish equal bins.)
// Bin size: b = floor(a / bin_size), unbounded, nothing clipped; |a / bin_size| must fit int32.
rt_status nn_mi_bin(const float *t, int n, int d, const int32_t *x_id, const int32_t *y,
                    const nn_mi_bin_opts *o, nn_mi_disc *out, rt_err *err) {
    RT_ASSERT(t && out);
    double t0 = rt_now_s();
    nn_mi_bin_opts opt = o ? *o : nn_mi_bin_opts_default();
    if (n < 1 || d < 1)
        return rt_err_set(err, RT_ERR_ARG, "nn_mi_bin: n=%d rows by d=%d columns; both must be positive", n, d);
    bool by_size = opt.bin_size > 0.0f;
    if (!by_size && !(opt.bins >= 1 && isfinite(opt.lo) && isfinite(opt.hi) && opt.lo < opt.hi))
        return rt_err_set(err, RT_ERR_ARG, "nn_mi_bin: bins=%d over [%g, %g]; give bins >= 1 and lo < hi, "
                          "or a bin_size > 0", opt.bins, (double)opt.lo, (double)opt.hi);
    if (by_size && !isfinite(opt.bin_size))
        return rt_err_set(err, RT_ERR_ARG, "nn_mi_bin: bin_size=%g must be finite", (double)opt.bin_size);
    size_t nd = (size_t)n * d;
    uint32_t *keys = nn_mi_alloc(nd * sizeof *keys, "binned patterns", err);
    if (!keys) return RT_ERR_NOMEM;
    int64_t clipped = 0;
    double lo = (double)opt.lo, width = (double)opt.hi - (double)opt.lo, size = (double)opt.bin_size;
    for (size_t e = 0; e < nd; e++) {
        double a = (double)t[e];
        if (!isfinite(a)) {
            free(keys);
            return rt_err_set(err, RT_ERR_NUMERIC, "nn_mi_bin: t[%zu][%zu] = %g is not finite; the layer diverged",
                              e / (size_t)d, e % (size_t)d, a);
        }
        double b;
        if (by_size) {
            b = floor(a / size);
            if (!(b >= INT32_MIN && b <= INT32_MAX)) {
                free(keys);
                return rt_err_set(err, RT_ERR_ARG, "nn_mi_bin: t[%zu][%zu] = %g is %g bins of %g from 0; "
                                  "use a larger bin_size", e / (size_t)d, e % (size_t)d, a, b, size);
            }
        } else {
            if (a < lo || a > (double)opt.hi) clipped++;
            b = floor((a - lo) / width * opt.bins);
            if (b < 0.0) b = 0.0;
            if (b > opt.bins - 1) b = opt.bins - 1;
        }
        keys[e] = (uint32_t)(int32_t)b;
    }
    out->clipped = clipped;
    out->clipped_frac = (double)clipped / (double)nd;
    rt_status st = finish(keys, (size_t)n, d, x_id, y, out, err);
    free(keys);
    out->seconds = rt_now_s() - t0;
    return st;
}

// Patterns are packed 32 bits to a word, so a key has ceil(d / 32) words.
rt_status nn_mi_bern_plugin(const float *p, int n, int d, const int32_t *x_id, const int32_t *y,
                            rt_rng *rng, int samples, nn_mi_disc *out, rt_err *err) {
    RT_ASSERT(p && out);
    double t0 = rt_now_s();
    if (n < 1 || d < 1)
        return rt_err_set(err, RT_ERR_ARG, "nn_mi_bern_plugin: n=%d rows by d=%d columns; both must be positive", n, d);
    int s = rng ? samples : 1;
    if (s < 1 || (size_t)n * (size_t)s > (size_t)INT32_MAX)
        return rt_err_set(err, RT_ERR_ARG, "nn_mi_bern_plugin: samples=%d per row for %d rows; give "
                          "1 <= samples and n * samples < 2^31", samples, n);
    for (size_t e = 0; e < (size_t)n * d; e++)
        if (!(p[e] >= 0.0f && p[e] <= 1.0f))
            return rt_err_set(err, RT_ERR_NUMERIC, "nn_mi_bern_plugin: p[%zu][%zu] = %g is not a "
                              "probability in [0, 1]", e / (size_t)d, e % (size_t)d, (double)p[e]);
    int w = (d + 31) / 32;
    size_t rows = (size_t)n * s;
    uint32_t *keys = nn_mi_alloc(rows * w * sizeof *keys, "binary patterns", err);
    int32_t *xs = nn_mi_alloc(rows * sizeof *xs, "binary patterns", err);
    int32_t *ys = y ? nn_mi_alloc(rows * sizeof *ys, "binary patterns", err) : NULL;
    if (!keys || !xs || (y && !ys)) { free(keys); free(xs); free(ys); return RT_ERR_NOMEM; }
    for (int i = 0; i < n; i++)
        for (int r = 0; r < s; r++) {
            size_t row = (size_t)i * s + r;
            uint32_t *k = keys + row * w;
            for (int q = 0; q < w; q++) k[q] = 0;
            for (int c = 0; c < d; c++) {
                double pc = (double)p[(size_t)i * d + c];
                bool bit = rng ? rt_rng_uniform(rng) < pc : pc > 0.5;
                if (bit) k[c / 32] |= UINT32_C(1) << (c % 32);
            }
            xs[row] = x_id ? x_id[i] : i;
            if (ys) ys[row] = y[i];
        }
    // With one thresholded pattern per row and no x ids, every row is its own input: H(T|X) = 0.
    bool need_x = x_id || s > 1;
    out->clipped = 0;
    out->clipped_frac = 0.0;
    rt_status st = finish(keys, rows, w, need_x ? xs : NULL, ys, out, err);
    free(keys);
    free(xs);
    free(ys);
    out->seconds = rt_now_s() - t0;
    return st;
}
