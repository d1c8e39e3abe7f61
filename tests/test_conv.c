// test_conv.c: the convolution, pooling and normalization ops against direct loops written here,
// the transpose as the adjoint of the convolution, hand-computed values (pooling ties, PyTorch's
// running statistics), the work-space rule (nothing kept, nothing allocated after the first step)
// and the same bytes on 1 and on 3 threads; the oneDNN backend against the lowering (float
// tolerance, ResNet-20's layers and every geometry), its bytes run to run, its work space, and the
// switch (VIB_CONV) in a build with or without it.
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_blas.h"
#include "rt_conv_dnnl.h"
#include "rt_ops.h"
#include "rt_rng.h"

static rt_tensor *rand_tensor(rt_ctx *c, rt_rng *r, int n, int ch, int h, int w) {
    rt_tensor *t = rt_tensor_new(c, 4, (int[]){ n, ch, h, w });
    rt_rng_fill_uniform(r, t->data, (size_t)t->n, -1, 1);
    return t;
}

static rt_tensor *rand_vec(rt_ctx *c, rt_rng *r, int n) {
    rt_tensor *t = rt_tensor_new(c, 1, (int[]){ n });
    rt_rng_fill_uniform(r, t->data, (size_t)n, -1, 1);
    return t;
}

#define AT4(t, a, b, c_, d) (t)->data[(((size_t)(a) * (t)->shape[1] + (b)) * (t)->shape[2] + (c_)) * (t)->shape[3] + (d)]

/* The definition: y[n,o,i,j] = b[o] + sum w[o,c',kh,kw] x[n, c0 + c', i sh - ph + kh dh, j sw - pw + kw dw]. */
static double conv_ref(const rt_tensor *x, const rt_tensor *w, const rt_tensor *b, const rt_conv_geom *g,
                       int n, int o, int i, int j) {
    int Cg = w->shape[1], Og = w->shape[0] / g->groups, c0 = o / Og * Cg;
    double s = b ? (double)b->data[o] : 0.0;
    for (int cc = 0; cc < Cg; cc++)
        for (int kh = 0; kh < w->shape[2]; kh++)
            for (int kw = 0; kw < w->shape[3]; kw++) {
                int ih = i * g->stride_h - g->pad_h + kh * g->dil_h, iw = j * g->stride_w - g->pad_w + kw * g->dil_w;
                if (ih < 0 || ih >= x->shape[2] || iw < 0 || iw >= x->shape[3]) continue;
                s += (double)AT4(w, o, cc, kh, kw) * (double)AT4(x, n, c0 + cc, ih, iw);
            }
    return s;
}

static const struct { int N, C, H, W, O, KH, KW; rt_conv_geom g; } conv_cases[] = {
    { 2, 3, 8, 8, 4, 3, 3, { 1, 1, 1, 1, 1, 1, 1, 0, 0 } },
    { 3, 4, 9, 7, 6, 3, 2, { 2, 1, 1, 0, 1, 1, 2, 0, 0 } },
    { 2, 2, 10, 9, 3, 3, 3, { 1, 2, 2, 1, 2, 3, 1, 0, 0 } },
    { 2, 6, 6, 6, 6, 3, 3, { 2, 2, 1, 1, 1, 1, 6, 0, 0 } },    /* depthwise */
    { 2, 4, 6, 5, 8, 1, 1, { 1, 1, 0, 0, 1, 1, 1, 0, 0 } },    /* 1x1 direct */
    { 2, 4, 6, 5, 8, 1, 1, { 2, 2, 0, 0, 1, 1, 2, 0, 0 } },    /* 1x1 stride 2, groups */
    { 5, 3, 5, 4, 2, 5, 4, { 1, 1, 2, 1, 1, 1, 1, 0, 0 } },    /* kernel as large as the padded input */
    /* runs of images (rt_op_conv.c): 24x24 outputs go one image per GEMM (the in-place path),
    ** 10x10 ones six at a time, so 8 images make a run of 6 and one of 2 */
    { 3, 3, 24, 24, 4, 3, 3, { 1, 1, 1, 1, 1, 1, 1, 0, 0 } },
    { 2, 4, 24, 23, 6, 1, 1, { 1, 1, 0, 0, 1, 1, 2, 0, 0 } },
    { 8, 3, 10, 10, 4, 3, 3, { 1, 1, 1, 1, 1, 1, 1, 0, 0 } },
};

Test(conv, conv2d_matches_the_direct_loop) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_rng r;
    rt_rng_seed(&r, 3);
    for (size_t k = 0; k < sizeof conv_cases / sizeof conv_cases[0]; k++) {
        rt_ctx_reset(&c);
        const rt_conv_geom *g = &conv_cases[k].g;
        rt_tensor *x = rand_tensor(&c, &r, conv_cases[k].N, conv_cases[k].C, conv_cases[k].H, conv_cases[k].W);
        rt_tensor *w = rand_tensor(&c, &r, conv_cases[k].O, conv_cases[k].C / g->groups, conv_cases[k].KH, conv_cases[k].KW);
        rt_tensor *b = k % 2 ? rand_vec(&c, &r, conv_cases[k].O) : NULL;
        rt_tensor *y = rt_conv2d(&c, x, w, b, g);
        int OH = rt_conv_out_size(x->shape[2], w->shape[2], g->stride_h, g->pad_h, g->dil_h);
        int OW = rt_conv_out_size(x->shape[3], w->shape[3], g->stride_w, g->pad_w, g->dil_w);
        cr_assert(y->ndim == 4 && y->shape[0] == x->shape[0] && y->shape[1] == w->shape[0] && y->shape[2] == OH &&
                  y->shape[3] == OW, "case %zu: shape", k);
        for (int n = 0; n < y->shape[0]; n++)
            for (int o = 0; o < y->shape[1]; o++)
                for (int i = 0; i < OH; i++)
                    for (int j = 0; j < OW; j++) {
                        double want = conv_ref(x, w, b, g, n, o, i, j);
                        cr_expect(fabs((double)AT4(y, n, o, i, j) - want) < 1e-5 * (1.0 + fabs(want)),
                                  "case %zu y[%d,%d,%d,%d] = %g, want %g", k, n, o, i, j, (double)AT4(y, n, o, i, j), want);
                    }
    }
    rt_ctx_free(&c);
}

Test(conv, output_sizes) {
    cr_expect_eq(rt_conv_out_size(32, 3, 1, 1, 1), 32);
    cr_expect_eq(rt_conv_out_size(32, 3, 2, 1, 1), 16);
    cr_expect_eq(rt_conv_out_size(32, 1, 2, 0, 1), 16);
    cr_expect_eq(rt_conv_out_size(7, 3, 1, 0, 3), 1);     /* dilated span 7 fits exactly */
    cr_expect_eq(rt_conv_out_size(6, 3, 1, 0, 3), 0);     /* does not fit: 0, never 1 */
    cr_expect_eq(rt_conv_out_size(2, 5, 3, 1, 1), 0);
    cr_expect_eq(rt_conv_transpose_out_size(16, 3, 2, 1, 1, 1), 32);
    cr_expect_eq(rt_conv_transpose_out_size(4, 4, 2, 1, 1, 0), 8);
    cr_expect_eq(rt_conv_transpose_out_size(3, 3, 1, 0, 2, 0), 7);
}

/* y[n, o, h sh - ph + kh dh, w sw - pw + kw dw] += x[n,c,h,w] w[c, o - o0, kh, kw]: the scatter. */
static void convt_ref(const rt_tensor *x, const rt_tensor *w, const rt_tensor *b, const rt_conv_geom *g, rt_tensor *y) {
    int Cg = x->shape[1] / g->groups, Og = w->shape[1];
    for (int64_t i = 0; i < y->n; i++) y->data[i] = b ? b->data[(i / ((int64_t)y->shape[2] * y->shape[3])) % y->shape[1]] : 0.0f;
    double *acc = rt_xcalloc((size_t)y->n, sizeof(double));
    for (int64_t i = 0; i < y->n; i++) acc[i] = y->data[i];
    for (int n = 0; n < x->shape[0]; n++)
        for (int ch = 0; ch < x->shape[1]; ch++)
            for (int h = 0; h < x->shape[2]; h++)
                for (int ww = 0; ww < x->shape[3]; ww++)
                    for (int oo = 0; oo < Og; oo++)
                        for (int kh = 0; kh < w->shape[2]; kh++)
                            for (int kw = 0; kw < w->shape[3]; kw++) {
                                int oh = h * g->stride_h - g->pad_h + kh * g->dil_h, ow = ww * g->stride_w - g->pad_w + kw * g->dil_w;
                                if (oh < 0 || oh >= y->shape[2] || ow < 0 || ow >= y->shape[3]) continue;
                                int o = ch / Cg * Og + oo;
                                acc[(((size_t)n * y->shape[1] + o) * y->shape[2] + oh) * y->shape[3] + ow] +=
                                    (double)AT4(x, n, ch, h, ww) * (double)AT4(w, ch, oo, kh, kw);
                            }
    for (int64_t i = 0; i < y->n; i++) y->data[i] = (float)acc[i];
    free(acc);
}

static const struct { int N, C, H, W, Og, KH, KW; rt_conv_geom g; } convt_cases[] = {
    { 2, 3, 4, 4, 2, 3, 3, { 2, 2, 1, 1, 1, 1, 1, 1, 1 } },
    { 2, 4, 3, 5, 3, 2, 3, { 2, 1, 0, 1, 2, 1, 2, 1, 0 } },
    { 3, 2, 5, 5, 4, 3, 3, { 1, 1, 1, 1, 1, 1, 1, 0, 0 } },
    { 2, 4, 3, 3, 1, 4, 4, { 2, 2, 1, 1, 1, 1, 4, 0, 0 } },    /* depthwise, 4x4 stride 2 (a DCGAN upsampler) */
    { 2, 2, 23, 23, 2, 3, 3, { 2, 2, 1, 1, 1, 1, 1, 1, 1 } },  /* one image per run */
    { 7, 2, 10, 10, 3, 3, 3, { 1, 1, 1, 1, 1, 1, 1, 0, 0 } },  /* runs of 6 and 1 */
};

Test(conv, conv_transpose2d_matches_the_scatter_loop_and_is_the_adjoint_of_conv2d) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_rng r;
    rt_rng_seed(&r, 5);
    for (size_t k = 0; k < sizeof convt_cases / sizeof convt_cases[0]; k++) {
        rt_ctx_reset(&c);
        const rt_conv_geom *g = &convt_cases[k].g;
        rt_tensor *x = rand_tensor(&c, &r, convt_cases[k].N, convt_cases[k].C, convt_cases[k].H, convt_cases[k].W);
        rt_tensor *w = rand_tensor(&c, &r, convt_cases[k].C, convt_cases[k].Og, convt_cases[k].KH, convt_cases[k].KW);
        int O = convt_cases[k].Og * g->groups;
        rt_tensor *b = rand_vec(&c, &r, O);
        rt_tensor *y = rt_conv_transpose2d(&c, x, w, b, g);
        cr_assert_eq(y->shape[2], rt_conv_transpose_out_size(x->shape[2], w->shape[2], g->stride_h, g->pad_h, g->dil_h, g->out_pad_h));
        cr_assert_eq(y->shape[3], rt_conv_transpose_out_size(x->shape[3], w->shape[3], g->stride_w, g->pad_w, g->dil_w, g->out_pad_w));
        rt_tensor *want = rt_tensor_like(&c, y);
        convt_ref(x, w, b, g, want);
        for (int64_t i = 0; i < y->n; i++)
            cr_expect(fabsf(y->data[i] - want->data[i]) < 1e-5f * (1.0f + fabsf(want->data[i])),
                      "case %zu y[%lld] = %g, want %g", k, (long long)i, (double)y->data[i], (double)want->data[i]);
        /* <conv2d(u, w), x> = <u, conv_transpose2d(x, w)> without bias, u of y's shape */
        rt_tensor *u = rand_tensor(&c, &r, y->shape[0], y->shape[1], y->shape[2], y->shape[3]);
        rt_tensor *cu = rt_conv2d(&c, u, w, NULL, &(rt_conv_geom){ g->stride_h, g->stride_w, g->pad_h, g->pad_w,
                                                                   g->dil_h, g->dil_w, g->groups, 0, 0 });
        rt_tensor *tx = rt_conv_transpose2d(&c, x, w, NULL, g);
        cr_assert(rt_shape_eq(cu, x));
        double lhs = 0.0, rhs = 0.0, mag = 0.0;
        for (int64_t i = 0; i < x->n; i++) lhs += (double)cu->data[i] * (double)x->data[i];
        for (int64_t i = 0; i < u->n; i++) {
            rhs += (double)u->data[i] * (double)tx->data[i];
            mag += fabs((double)u->data[i] * (double)tx->data[i]);
        }
        cr_expect(fabs(lhs - rhs) < 1e-5 * mag, "case %zu: <conv(u), x> = %.9g, <u, convT(x)> = %.9g", k, lhs, rhs);
    }
    rt_ctx_free(&c);
}

// ---- pooling ----

Test(conv, maxpool_ties_go_to_the_first_element_and_padding_never_wins) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    /* one 4x4 plane of equal values but one: every 2x2 window ties */
    rt_tensor *x = rt_tensor_new(&c, 4, (int[]){ 1, 1, 4, 4 });
    for (int i = 0; i < 16; i++) x->data[i] = -1.0f;
    x->data[15] = -0.5f;
    x->flags |= RT_NEEDS_GRAD;
    rt_tensor *y = rt_maxpool2d(&c, x, 2, 2, 2, 2, 0, 0);
    const float want[4] = { -1, -1, -1, -0.5f };
    for (int i = 0; i < 4; i++) cr_expect_eq(y->data[i], want[i], "y[%d] = %g", i, (double)y->data[i]);
    rt_backward(&c, rt_sum(&c, y, RT_ALL, false));
    /* the gradient goes to each window's first element in row-major order: (0,0) (0,2) (2,0), and (3,3) */
    for (int i = 0; i < 16; i++) {
        float g = (i == 0 || i == 2 || i == 8 || i == 15) ? 1.0f : 0.0f;
        cr_expect_eq(x->grad[i], g, "dx[%d] = %g", i, (double)x->grad[i]);
    }
    /* padding is -inf: an all-negative plane's padded 3x3 max is a real element */
    rt_tensor *y2 = rt_maxpool2d(&c, x, 3, 3, 2, 2, 1, 1);
    cr_expect_eq(y2->shape[2], 2);
    cr_expect_eq(y2->data[0], -1.0f);
    cr_expect_eq(y2->data[3], -0.5f);
    rt_ctx_free(&c);
}

Test(conv, avgpool_divides_by_the_elements_inside_the_input) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_tensor *x = rt_tensor_new(&c, 4, (int[]){ 1, 1, 3, 3 });
    for (int i = 0; i < 9; i++) x->data[i] = (float)(i + 1);    /* 1..9 */
    x->flags |= RT_NEEDS_GRAD;
    rt_tensor *y = rt_avgpool2d(&c, x, 3, 3, 2, 2, 1, 1);       /* 2x2 windows of 4 elements each */
    /* window (0,0): rows 0-1, cols 0-1 = 1 2 4 5 -> 3; (0,1): rows 0-1, col 1-2 = 2 3 5 6 -> 4;
    ** (1,0): 4 5 7 8 -> 6; (1,1): 5 6 8 9 -> 7 (PyTorch count_include_pad=False) */
    const float want[4] = { 3, 4, 6, 7 };
    for (int i = 0; i < 4; i++) cr_expect_eq(y->data[i], want[i], "y[%d] = %g", i, (double)y->data[i]);
    rt_backward(&c, rt_sum(&c, y, RT_ALL, false));
    /* the centre (1,1) is in all four windows of 4: 4 * 1/4 */
    cr_expect_float_eq(x->grad[4], 1.0f, 1e-6f);
    cr_expect_float_eq(x->grad[0], 0.25f, 1e-6f);
    cr_expect_float_eq(x->grad[1], 0.5f, 1e-6f);
    rt_tensor *m = rt_global_avgpool(&c, x);
    cr_expect(m->ndim == 2 && m->shape[0] == 1 && m->shape[1] == 1);
    cr_expect_float_eq(m->data[0], 5.0f, 1e-6f);
    rt_ctx_free(&c);
}

// ---- normalization ----

/* PyTorch: BatchNorm1d(1, momentum=0.1) on x = 1 2 3 4 from running_mean 0, running_var 1 gives
** running_mean 0.25 and running_var 0.9 + 0.1 * 5/3 (the unbiased variance of 1..4 is 5/3). */
Test(norm, batchnorm_train_updates_running_statistics_as_pytorch) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ 4, 2 });
    const float xv[8] = { 1, 10, 2, 10, 3, 14, 4, 14 };        /* channel 1: mean 12, var 4 */
    memcpy(x->data, xv, sizeof xv);
    rt_tensor *gamma = rt_tensor_new(&c, 1, (int[]){ 2 }), *beta = rt_tensor_new(&c, 1, (int[]){ 2 });
    gamma->data[0] = 2.0f; gamma->data[1] = 1.0f;
    beta->data[0] = 0.5f; beta->data[1] = -1.0f;
    float rm[2] = { 0, 1 }, rv[2] = { 1, 2 };
    rt_tensor *y = rt_batchnorm(&c, x, gamma, beta, rm, rv, 0.1f, 1e-5f, true);
    cr_expect_float_eq(rm[0], 0.25f, 1e-6f);
    cr_expect_float_eq(rv[0], 0.9f + 0.1f * 5.0f / 3.0f, 1e-6f);
    cr_expect_float_eq(rm[1], 0.9f * 1.0f + 0.1f * 12.0f, 1e-5f);
    cr_expect_float_eq(rv[1], 0.9f * 2.0f + 0.1f * 16.0f / 3.0f, 1e-5f);
    /* y = gamma (x - mean) / sqrt(var + eps) + beta with the biased variance 1.25 */
    for (int i = 0; i < 4; i++) {
        double want = 2.0 * ((double)xv[2 * i] - 2.5) / sqrt(1.25 + 1e-5) + 0.5;
        cr_expect(fabs((double)y->data[2 * i] - want) < 1e-5, "y[%d] = %g, want %g", i, (double)y->data[2 * i], want);
        double want1 = ((double)xv[2 * i + 1] - 12.0) / sqrt(4.0 + 1e-5) - 1.0;
        cr_expect(fabs((double)y->data[2 * i + 1] - want1) < 1e-5);
    }
    /* evaluation uses the running statistics and leaves them alone */
    rt_tensor *ye = rt_batchnorm(&c, x, gamma, beta, rm, rv, 0.1f, 1e-5f, false);
    cr_expect_float_eq(rm[0], 0.25f, 1e-6f);
    double want = 2.0 * (1.0 - 0.25) / sqrt(0.9 + 0.5 / 3.0 + 1e-5) + 0.5;
    cr_expect(fabs((double)ye->data[0] - want) < 1e-5, "eval y[0] = %g, want %g", (double)ye->data[0], want);
    rt_ctx_free(&c);
}

/* The statistics and parameter gradients are sums in 32 double lanes with a tail (hw = 37, N 5:
** 185 values per channel): against sums in long double, on values with a large common offset
** (mean 1000, spread 0.01), where a float sum or a one-pass variance would be far off. */
Test(norm, batchnorm_sums_match_a_long_double_reference) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 18);
    rt_rng r;
    rt_rng_seed(&r, 21);
    enum { N = 5, C = 3, HW = 37 };
    rt_tensor x, gamma, beta, w;
    rt_tensor_wrap(&x, 3, (int[]){ N, C, HW }, rt_xfloats(N * C * HW));
    rt_tensor_wrap(&w, 3, (int[]){ N, C, HW }, rt_xfloats(N * C * HW));
    rt_tensor_wrap(&gamma, 1, (int[]){ C }, rt_xfloats(C));
    rt_tensor_wrap(&beta, 1, (int[]){ C }, rt_xfloats(C));
    for (int i = 0; i < N * C * HW; i++) x.data[i] = 1000.0f + 0.01f * (float)rt_rng_uniform(&r);
    rt_rng_fill_uniform(&r, w.data, N * C * HW, -1, 1);
    rt_rng_fill_uniform(&r, gamma.data, C, 0.5f, 2);
    rt_rng_fill_uniform(&r, beta.data, C, -1, 1);
    gamma.grad = rt_xcalloc(C, sizeof(float));
    beta.grad = rt_xcalloc(C, sizeof(float));
    gamma.flags = beta.flags = RT_NEEDS_GRAD;
    float rm[C] = { 0 }, rv[C] = { 0 };
    rt_tensor *y = rt_batchnorm(&c, &x, &gamma, &beta, rm, rv, 1.0f, 0.0f, true);
    rt_backward(&c, rt_sum(&c, rt_mul(&c, y, &w), RT_ALL, false));
    for (int ch = 0; ch < C; ch++) {
        long double s = 0, q = 0, M = (long double)N * HW;
        for (int k = ch * HW; k < N * C * HW; k += (k % HW == HW - 1) ? (C - 1) * HW + 1 : 1) s += x.data[k];
        long double mean = s / M;
        for (int k = ch * HW; k < N * C * HW; k += (k % HW == HW - 1) ? (C - 1) * HW + 1 : 1)
            q += (x.data[k] - mean) * (x.data[k] - mean);
        cr_expect(fabsl((long double)rm[ch] - mean) <= 1e-7L * mean, "channel %d: mean %.9g, want %.9Lg", ch, (double)rm[ch], mean);
        cr_expect(fabsl((long double)rv[ch] - q / (M - 1)) <= 1e-5L * q / (M - 1), "channel %d: variance %.9g, want %.9Lg", ch,
                  (double)rv[ch], q / (M - 1));
        /* dbeta = the sum of dy; dgamma = the sum of dy xhat, xhat in float as the op has it */
        float m = (float)mean, is = (float)(1.0L / sqrtl(q / M));
        long double db = 0, dg = 0;
        for (int k = ch * HW; k < N * C * HW; k += (k % HW == HW - 1) ? (C - 1) * HW + 1 : 1) {
            db += w.data[k];
            dg += (long double)w.data[k] * ((x.data[k] - m) * is);
        }
        cr_expect(fabsl((long double)beta.grad[ch] - db) <= 1e-6L * (1 + fabsl(db)), "channel %d: dbeta %.9g, want %.9Lg", ch,
                  (double)beta.grad[ch], db);
        cr_expect(fabsl((long double)gamma.grad[ch] - dg) <= 1e-5L * (1 + fabsl(dg)), "channel %d: dgamma %.9g, want %.9Lg", ch,
                  (double)gamma.grad[ch], dg);
    }
    free(x.data);
    free(w.data);
    free(gamma.data);
    free(gamma.grad);
    free(beta.data);
    free(beta.grad);
    rt_ctx_free(&c);
}

/* rt_batchnorm_relu is rt_relu(rt_batchnorm(...)) to the byte: the output, dx, dgamma and dbeta, in
** training and in evaluation, on a shape with a tail (7 x 9 per plane), the input an op output (its
** gradient fresh) and a leaf (added to). */
static void bn_relu_pair(bool fused, bool train, bool leaf_x, float *out[4]) {
    enum { N = 6, C = 5, H = 7, W = 9, NX = N * C * H * W };
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_rng r;
    rt_rng_seed(&r, 33);
    rt_tensor x, gamma, beta, w;
    rt_tensor_wrap(&x, 4, (int[]){ N, C, H, W }, rt_xfloats(NX));
    rt_tensor_wrap(&w, 4, (int[]){ N, C, H, W }, rt_xfloats(NX));
    rt_tensor_wrap(&gamma, 1, (int[]){ C }, rt_xfloats(C));
    rt_tensor_wrap(&beta, 1, (int[]){ C }, rt_xfloats(C));
    rt_rng_fill_uniform(&r, x.data, NX, -2, 2);
    rt_rng_fill_uniform(&r, w.data, NX, -1, 1);
    rt_rng_fill_uniform(&r, gamma.data, C, 0.5f, 2);
    rt_rng_fill_uniform(&r, beta.data, C, -1, 1);
    x.grad = rt_xcalloc(NX, sizeof(float));
    for (int i = 0; i < NX; i++) x.grad[i] = 0.25f;            /* a leaf's gradient is added to */
    gamma.grad = rt_xcalloc(C, sizeof(float));
    beta.grad = rt_xcalloc(C, sizeof(float));
    x.flags = gamma.flags = beta.flags = RT_NEEDS_GRAD;
    float rm[C], rv[C];
    for (int i = 0; i < C; i++) rm[i] = 0.1f * (float)i, rv[i] = 1.0f + 0.2f * (float)i;
    rt_tensor *in = leaf_x ? &x : rt_affine(&c, &x, 1.0f, 0.0f);
    rt_tensor *y = fused ? rt_batchnorm_relu(&c, in, &gamma, &beta, rm, rv, 0.1f, 1e-5f, train)
                         : rt_relu(&c, rt_batchnorm(&c, in, &gamma, &beta, rm, rv, 0.1f, 1e-5f, train));
    rt_backward(&c, rt_sum(&c, rt_mul(&c, y, &w), RT_ALL, false));
    out[0] = rt_xfloats(NX);
    memcpy(out[0], y->data, NX * sizeof(float));
    out[1] = x.grad;
    out[2] = gamma.grad;
    out[3] = beta.grad;
    free(x.data);
    free(w.data);
    free(gamma.data);
    free(beta.data);
    rt_ctx_free(&c);
}

Test(norm, batchnorm_relu_is_relu_of_batchnorm_to_the_byte) {
    const size_t n[4] = { 6 * 5 * 7 * 9, 6 * 5 * 7 * 9, 5, 5 };
    const char *what[4] = { "y", "dx", "dgamma", "dbeta" };
    for (int mode = 0; mode < 4; mode++) {
        bool train = mode & 1, leaf = mode & 2;
        float *a[4], *b[4];
        bn_relu_pair(true, train, leaf, a);
        bn_relu_pair(false, train, leaf, b);
        for (int k = 0; k < 4; k++) {
            cr_expect_eq(memcmp(a[k], b[k], n[k] * sizeof(float)), 0, "%s differs (%s, x %s)", what[k],
                         train ? "training" : "evaluation", leaf ? "a leaf" : "an op output");
            free(a[k]);
            free(b[k]);
        }
    }
}

Test(norm, groupnorm_normalizes_each_example_and_group) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_rng r;
    rt_rng_seed(&r, 9);
    rt_tensor *x = rand_tensor(&c, &r, 2, 6, 3, 2);
    for (int groups = 1; groups <= 6; groups++) {
        if (6 % groups) continue;
        rt_tensor *y = rt_groupnorm(&c, x, NULL, NULL, groups, 0.0f);
        int64_t slab = x->n / 2 / groups;
        for (int64_t s = 0; s < 2 * groups; s++) {
            double m = 0.0, q = 0.0;
            for (int64_t i = 0; i < slab; i++) m += (double)y->data[s * slab + i];
            for (int64_t i = 0; i < slab; i++) q += (double)y->data[s * slab + i] * (double)y->data[s * slab + i];
            cr_expect(fabs(m / (double)slab) < 1e-5 && fabs(q / (double)slab - 1.0) < 1e-4,
                      "groups %d slab %lld: mean %g, variance %g", groups, (long long)s, m / (double)slab, q / (double)slab);
        }
    }
    /* (N,F) with groups 1 is LayerNorm: 1 2 3 -> (x - 2) / sqrt(2/3) */
    rt_tensor *v = rt_tensor_new(&c, 2, (int[]){ 1, 3 });
    v->data[0] = 1; v->data[1] = 2; v->data[2] = 3;
    rt_tensor *ln = rt_groupnorm(&c, v, NULL, NULL, 1, 0.0f);
    cr_expect_float_eq(ln->data[0], (float)(-1.0 / sqrt(2.0 / 3.0)), 1e-6f);
    cr_expect_float_eq(ln->data[1], 0.0f, 1e-6f);
    rt_ctx_free(&c);
}

// ---- work space and threads ----

/* Forward and backward of conv -> batchnorm -> relu -> conv -> maxpool -> global pool; returns the
** loss. The parameters are leaves owned by the caller. */
static float small_net(rt_ctx *c, rt_tensor *x, rt_tensor *w1, rt_tensor *w2, rt_tensor *b2, float *rm, float *rv) {
    rt_conv_geom g1 = { 1, 1, 1, 1, 1, 1, 1, 0, 0 }, g2 = { 2, 2, 1, 1, 1, 1, 2, 0, 0 };
    rt_tensor *h = rt_relu(c, rt_batchnorm(c, rt_conv2d(c, x, w1, NULL, &g1), NULL, NULL, rm, rv, 0.1f, 1e-5f, true));
    h = rt_global_avgpool(c, rt_maxpool2d(c, rt_conv2d(c, h, w2, b2, &g2), 2, 2, 2, 2, 0, 0));
    rt_tensor *loss = rt_mean(c, rt_square(c, h), RT_ALL, false);
    rt_backward(c, loss);
    return loss->data[0];
}

static rt_tensor leafs[4];

static void leafs_init(void) {
    const int sh[4][4] = { { 6, 3, 12, 12 }, { 8, 3, 3, 3 }, { 8, 4, 3, 3 }, { 8, 1, 1, 1 } };
    rt_rng r;
    rt_rng_seed(&r, 11);
    for (int i = 0; i < 4; i++) {
        rt_tensor_wrap(&leafs[i], i == 3 ? 1 : 4, sh[i], NULL);
        leafs[i].data = rt_xfloats((size_t)leafs[i].n);
        leafs[i].grad = rt_xfloats((size_t)leafs[i].n);
        leafs[i].flags = i ? RT_NEEDS_GRAD : 0;
        rt_rng_fill_uniform(&r, leafs[i].data, (size_t)leafs[i].n, -1, 1);
    }
}

static void leafs_free(void) {
    for (int i = 0; i < 4; i++) {
        free(leafs[i].data);
        free(leafs[i].grad);
    }
}

static void second_step_allocates_nothing(void) {
    leafs_init();
    rt_ctx c;
    rt_ctx_init(&c, 1 << 12);       /* small: the first step must grow it */
    float rm[8] = { 0 }, rv[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    small_net(&c, &leafs[0], &leafs[1], &leafs[2], &leafs[3], rm, rv);
    rt_ctx_reset(&c);
    size_t mallocs = c.step.mallocs, peak = c.step.peak;
    for (int step = 0; step < 3; step++) {
        rt_ctx_reset(&c);
        small_net(&c, &leafs[0], &leafs[1], &leafs[2], &leafs[3], rm, rv);
    }
    cr_expect_eq(c.step.mallocs, mallocs, "later steps allocated %zu arena chunks", c.step.mallocs - mallocs);
    cr_expect_eq(c.step.peak, peak);
    /* a convolution's arena use is its output, node and the tape's first block (2 KB), not its
    ** column buffer (27 x 144 floats, 15.5 KB, here) */
    rt_ctx_reset(&c);
    size_t before = c.step.used;
    rt_conv_geom g = { 1, 1, 1, 1, 1, 1, 1, 0, 0 };
    rt_tensor *y = rt_conv2d(&c, &leafs[0], &leafs[1], NULL, &g);
    size_t grown = c.step.used - before, out = (size_t)y->n * sizeof(float);
    cr_expect(grown >= out && grown < out + 4096, "conv2d kept %zu bytes for an output of %zu", grown, out);
    rt_ctx_free(&c);
    leafs_free();
}

Test(conv, a_second_step_allocates_nothing_and_the_work_space_is_not_kept) {
    cr_assert(rt_conv_set_backend(RT_CONV_LOWERING));
    second_step_allocates_nothing();
}

Test(conv, one_and_three_threads_give_the_same_bytes, .timeout = 60) {
    leafs_init();
    float *grads[2][3];
    float loss[2];
    for (int t = 0; t < 2; t++) {
        rt_blas_set_threads(t ? 3 : 1);
        rt_ctx c;
        rt_ctx_init(&c, 1 << 20);
        float rm[8] = { 0 }, rv[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
        for (int i = 1; i < 4; i++) memset(leafs[i].grad, 0, (size_t)leafs[i].n * sizeof(float));
        loss[t] = small_net(&c, &leafs[0], &leafs[1], &leafs[2], &leafs[3], rm, rv);
        for (int i = 1; i < 4; i++) {
            grads[t][i - 1] = rt_xfloats((size_t)leafs[i].n);
            memcpy(grads[t][i - 1], leafs[i].grad, (size_t)leafs[i].n * sizeof(float));
        }
        rt_ctx_free(&c);
    }
    rt_blas_set_threads(1);
    cr_expect_eq(memcmp(&loss[0], &loss[1], sizeof(float)), 0, "loss %.9g vs %.9g", (double)loss[0], (double)loss[1]);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(memcmp(grads[0][i], grads[1][i], (size_t)leafs[i + 1].n * sizeof(float)), 0, "gradient %d differs", i);
        free(grads[0][i]);
        free(grads[1][i]);
    }
    leafs_free();
}

// ---- the backends: oneDNN against the lowering ----

#ifdef VIB_HAVE_DNNL

/* One convolution of the comparisons: x (N, C, H, W), w (O, C/groups, KH, KW), bias or not. */
typedef struct cmp_case { const char *what; int N, C, H, W, O, KH, KW; rt_conv_geom g; bool bias; } cmp_case;

static const cmp_case cmp_cases[] = {
    /* ResNet-20's eight distinct convolutions (tests/bench/conv_roof.h), at batch 4 */
    { "conv1 3->16 32x32", 4, 3, 32, 32, 16, 3, 3, { 1, 1, 1, 1, 1, 1, 1, 0, 0 }, false },
    { "stage1 16->16 32x32", 4, 16, 32, 32, 16, 3, 3, { 1, 1, 1, 1, 1, 1, 1, 0, 0 }, false },
    { "stage2 16->32 stride 2", 4, 16, 32, 32, 32, 3, 3, { 2, 2, 1, 1, 1, 1, 1, 0, 0 }, false },
    { "stage2 32->32 16x16", 4, 32, 16, 16, 32, 3, 3, { 1, 1, 1, 1, 1, 1, 1, 0, 0 }, false },
    { "stage3 32->64 stride 2", 4, 32, 16, 16, 64, 3, 3, { 2, 2, 1, 1, 1, 1, 1, 0, 0 }, false },
    { "stage3 64->64 8x8", 4, 64, 8, 8, 64, 3, 3, { 1, 1, 1, 1, 1, 1, 1, 0, 0 }, false },
    { "shortcut 16->32 1x1 stride 2", 4, 16, 32, 32, 32, 1, 1, { 2, 2, 0, 0, 1, 1, 1, 0, 0 }, false },
    { "shortcut 32->64 1x1 stride 2", 4, 32, 16, 16, 64, 1, 1, { 2, 2, 0, 0, 1, 1, 1, 0, 0 }, false },
    /* the other geometries: bias, odd sizes, stride and padding per axis, dilation, groups */
    { "bias, 3x2 kernel, stride (2, 1)", 3, 4, 9, 7, 6, 3, 2, { 2, 1, 1, 0, 1, 1, 1, 0, 0 }, true },
    { "dilation (2, 3)", 2, 2, 10, 9, 3, 3, 3, { 1, 2, 2, 1, 2, 3, 1, 0, 0 }, true },
    { "groups 2", 2, 4, 9, 7, 6, 3, 2, { 2, 1, 1, 0, 1, 1, 2, 0, 0 }, false },
    { "depthwise, stride 2", 2, 6, 6, 6, 6, 3, 3, { 2, 2, 1, 1, 1, 1, 6, 0, 0 }, true },
    { "1x1 stride 1", 2, 4, 6, 5, 8, 1, 1, { 1, 1, 0, 0, 1, 1, 1, 0, 0 }, true },
    { "kernel as large as the padded input", 5, 3, 5, 4, 2, 5, 4, { 1, 1, 2, 1, 1, 1, 1, 0, 0 }, false },
    /* 17 images: oneDNN's blocks of 2 and a last block of 1 (a second set of primitives) */
    { "17 images, bias, stride 2", 17, 8, 6, 6, 16, 3, 3, { 2, 2, 1, 1, 1, 1, 1, 0, 0 }, true },
};
#define NCMP (int)(sizeof cmp_cases / sizeof cmp_cases[0])

/* The results of one backend: y, and dx, dw, db of L = <u, y1> + <v, y2>, where y1 and y2 are the
** convolution applied twice to the same x and w (so that the second backward adds to dx and dw). */
typedef struct cmp_out { float *y, *dx, *dw, *db; int64_t ny, nx, nw, nb; } cmp_out;

static cmp_out cmp_run(const cmp_case *k, uint64_t seed) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_rng r;
    rt_rng_seed(&r, seed);
    rt_tensor x, w, b;
    rt_tensor_wrap(&x, 4, (int[]){ k->N, k->C, k->H, k->W }, NULL);
    rt_tensor_wrap(&w, 4, (int[]){ k->O, k->C / k->g.groups, k->KH, k->KW }, NULL);
    rt_tensor_wrap(&b, 1, (int[]){ k->O }, NULL);
    rt_tensor *leaf[3] = { &x, &w, &b };
    for (int i = 0; i < 3; i++) {
        leaf[i]->data = rt_xfloats((size_t)leaf[i]->n);
        leaf[i]->grad = NULL;
        leaf[i]->flags = RT_NEEDS_GRAD;
        rt_rng_fill_uniform(&r, leaf[i]->data, (size_t)leaf[i]->n, -1, 1);
    }
    w.grad = rt_xfloats((size_t)w.n);
    b.grad = rt_xfloats((size_t)b.n);
    rt_tensor *y1 = rt_conv2d(&c, &x, &w, k->bias ? &b : NULL, &k->g);
    rt_tensor *y2 = rt_conv2d(&c, &x, &w, k->bias ? &b : NULL, &k->g);
    rt_tensor *u = rt_tensor_like(&c, y1), *v = rt_tensor_like(&c, y1);
    rt_rng_fill_uniform(&r, u->data, (size_t)u->n, -1, 1);
    rt_rng_fill_uniform(&r, v->data, (size_t)v->n, -1, 1);
    rt_tensor *loss = rt_add(&c, rt_sum(&c, rt_mul(&c, y1, u), RT_ALL, false), rt_sum(&c, rt_mul(&c, y2, v), RT_ALL, false));
    rt_backward(&c, loss);
    cmp_out o = { rt_xfloats((size_t)y1->n), rt_xfloats((size_t)x.n), w.grad, b.grad, y1->n, x.n, w.n, b.n };
    memcpy(o.y, y1->data, (size_t)y1->n * sizeof(float));
    memcpy(o.dx, x.grad, (size_t)x.n * sizeof(float));   /* x.grad is in the step arena */
    rt_ctx_free(&c);
    free(x.data);
    free(w.data);
    free(b.data);
    return o;
}

static void cmp_free(cmp_out *o) {
    free(o->y);
    free(o->dx);
    free(o->dw);
    free(o->db);
}

/* max |a - b| / max(max |b|, 1): the error relative to the tensor's scale */
static double rel_err(const float *a, const float *b, int64_t n) {
    double d = 0.0, m = 1.0;
    for (int64_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - (double)b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return d / m;
}

#define DNNL_TOL 1e-5   /* float rounding of sums of up to 4096 terms, relative to the largest value */

Test(backend, dnnl_matches_the_lowering_forward_and_both_backwards, .timeout = 120) {
    int differ = 0;
    for (int t = 1; t <= 3; t += 2) {
        rt_blas_set_threads(t);
        for (int i = 0; i < NCMP; i++) {
            const cmp_case *k = &cmp_cases[i];
            cr_assert(rt_conv_set_backend(RT_CONV_LOWERING));
            cmp_out ref = cmp_run(k, 100 + (uint64_t)i);
            cr_assert(rt_conv_set_backend(RT_CONV_DNNL));
            long calls = rt_dnnl_conv_calls();
            cmp_out got = cmp_run(k, 100 + (uint64_t)i);
            cr_expect_eq(rt_dnnl_conv_calls() - calls, 2, "%s: not computed by oneDNN", k->what);
            double e[4] = { rel_err(got.y, ref.y, ref.ny), rel_err(got.dx, ref.dx, ref.nx), rel_err(got.dw, ref.dw, ref.nw),
                            k->bias ? rel_err(got.db, ref.db, ref.nb) : 0.0 };
            const char *what[4] = { "y", "dx", "dW", "db" };
            for (int j = 0; j < 4; j++)
                cr_expect(e[j] <= DNNL_TOL, "%s, %d thread(s): %s differs from the lowering's by %.3g of its scale",
                          k->what, t, what[j], e[j]);
            differ += memcmp(got.dw, ref.dw, (size_t)ref.nw * sizeof(float)) != 0;
            cmp_free(&ref);
            cmp_free(&got);
        }
    }
    /* the two are different computations (not the same code reached twice) */
    cr_expect_gt(differ, 0, "oneDNN's dW has the lowering's bytes on every case");
    rt_blas_set_threads(1);
    rt_conv_set_backend(RT_CONV_LOWERING);
}

static bool same_bytes(const cmp_out *a, const cmp_out *b) {
    return !memcmp(a->y, b->y, (size_t)a->ny * sizeof(float)) && !memcmp(a->dx, b->dx, (size_t)a->nx * sizeof(float)) &&
           !memcmp(a->dw, b->dw, (size_t)a->nw * sizeof(float)) && !memcmp(a->db, b->db, (size_t)a->nb * sizeof(float));
}

/* The same inputs and backend: the same bytes run after run, and on 1 thread as on 3 (the blocks
** of images, and the order their dW partials are added in, depend on the shapes only). */
Test(backend, dnnl_gives_the_same_bytes_run_to_run_and_on_1_and_3_threads, .timeout = 60) {
    cr_assert(rt_conv_set_backend(RT_CONV_DNNL));
    for (int i = 0; i < NCMP; i++) {
        rt_blas_set_threads(1);
        cmp_out a = cmp_run(&cmp_cases[i], 7), b = cmp_run(&cmp_cases[i], 7);
        rt_blas_set_threads(3);
        cmp_out c = cmp_run(&cmp_cases[i], 7), d = cmp_run(&cmp_cases[i], 7);
        cr_expect(same_bytes(&a, &b), "%s, 1 thread: two runs differ", cmp_cases[i].what);
        cr_expect(same_bytes(&c, &d), "%s, 3 threads: two runs differ", cmp_cases[i].what);
        cr_expect(same_bytes(&a, &c), "%s: 1 and 3 threads differ", cmp_cases[i].what);
        cmp_free(&a);
        cmp_free(&b);
        cmp_free(&c);
        cmp_free(&d);
    }
    rt_blas_set_threads(1);
    rt_conv_set_backend(RT_CONV_LOWERING);
}

Test(backend, dnnl_steps_allocate_nothing_in_the_arena_and_keep_no_work_space) {
    cr_assert(rt_conv_set_backend(RT_CONV_DNNL));
    long calls = rt_dnnl_conv_calls();
    second_step_allocates_nothing();
    cr_expect_gt(rt_dnnl_conv_calls(), calls, "the small net's convolutions were not computed by oneDNN");
    rt_conv_set_backend(RT_CONV_LOWERING);
}

Test(backend, the_transposed_convolution_stays_on_the_lowering_under_dnnl) {
    cr_assert(rt_conv_set_backend(RT_CONV_DNNL));
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    rt_rng r;
    rt_rng_seed(&r, 5);
    rt_conv_geom g = { 2, 2, 1, 1, 1, 1, 1, 1, 1 };
    long calls = rt_dnnl_conv_calls();
    rt_tensor *y = rt_conv_transpose2d(&c, rand_tensor(&c, &r, 2, 3, 4, 4), rand_tensor(&c, &r, 3, 2, 3, 3), NULL, &g);
    cr_expect(y->shape[2] == 8 && y->shape[3] == 8);
    cr_expect_eq(rt_dnnl_conv_calls(), calls);
    rt_ctx_free(&c);
    rt_conv_set_backend(RT_CONV_LOWERING);
}
#endif

Test(backend, the_switch_names_and_parses_both_backends_and_refuses_dnnl_without_it) {
    rt_conv_backend b;
    cr_expect(rt_conv_backend_parse("dnnl", &b) && b == RT_CONV_DNNL);
    cr_expect(rt_conv_backend_parse("lowering", &b) && b == RT_CONV_LOWERING);
    cr_expect(!rt_conv_backend_parse("onednn", &b));
    cr_expect_str_eq(rt_conv_backend_name(RT_CONV_DNNL), "dnnl");
    cr_expect_eq(rt_conv_set_backend(RT_CONV_DNNL), rt_conv_have_dnnl());
    cr_expect_eq(rt_conv_get_backend(), rt_conv_have_dnnl() ? RT_CONV_DNNL : RT_CONV_LOWERING);
    cr_expect(strstr(rt_conv_backend_describe(), rt_conv_have_dnnl() ? "oneDNN" : "im2col"));
    cr_expect(rt_conv_set_backend(RT_CONV_LOWERING));
    cr_expect_str_eq(rt_conv_backend_describe(), "lowering (im2col + OpenBLAS)");
}

/* VIB_CONV is read at the first convolution; a bad value is one message naming it, exit status 2. */
Test(backend, a_bad_vib_conv_is_an_error_naming_it, .exit_code = 2) {
    setenv("VIB_CONV", "fast", 1);
    rt_conv_get_backend();
}
