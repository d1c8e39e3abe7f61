// test_values.c: the forward value of every op and every objective term against its textbook
// formula, computed here in double on a tiny input. Gradient checks compare the backward with the
// forward, so a forward wrong by a constant factor, a sign or a log base passes them; these do not.
// Each op (rt_ops.h) and each term kind (nn_obj.h) has a row in a table that must cover them all.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn_obj.h"
#include "rt_ops.h"
#include "testutil.h"

/* Every formula here reads the ops' float values into double on purpose. */
#pragma GCC diagnostic ignored "-Wdouble-promotion"

#define LN2PI 1.8378770664093453    /* ln(2 pi) */
#define TWO_PI_E_D 17.079468445347132
#define PI_E (TWO_PI_E_D / 2.0)

/* |got - want| <= tol (1 + |want|): float ops against a double formula. */
static int near(double got, double want, double tol, const char *what, int i) {
    bool ok = fabs(got - want) <= tol * (1.0 + fabs(want));
    cr_expect(ok, "%s [%d]: got %.9g, formula %.9g", what, i, got, want);
    return ok ? 0 : 1;
}

static rt_tensor *V(rt_ctx *c, int ndim, const int *shape, const float *v) {
    rt_tensor *t = rt_tensor_new(c, ndim, shape);
    for (int64_t i = 0; i < t->n; i++) t->data[i] = v[i];
    return t;
}

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }
static double lse_d(const float *z, int n, int stride) {
    double m = -INFINITY, s = 0.0;
    for (int i = 0; i < n; i++) m = fmax(m, z[i * stride]);
    for (int i = 0; i < n; i++) s += exp(z[i * stride] - m);
    return m + log(s);
}
static double entropy_d(const float *z, int C) {
    double l = lse_d(z, C, 1), h = 0.0;
    for (int k = 0; k < C; k++) h -= exp(z[k] - l) * (z[k] - l);
    return h;
}

// ---- ops ----

static const float A6[6] = { -1.5f, -0.25f, 0.5f, 1.25f, 2.0f, 3.5f };       /* (2,3) */
static const float P6[6] = { 0.3f, 0.75f, 1.5f, 2.5f, 4.0f, 9.0f };          /* positive */

typedef void (*value_fn)(rt_ctx *c);

static void v_binary(rt_ctx *c, int which) {
    rt_tensor *a = V(c, 2, (int[]){ 2, 3 }, A6), *b = V(c, 1, (int[]){ 3 }, (float[]){ 0.5f, -2.0f, 4.0f });
    rt_tensor *y = which == 0 ? rt_add(c, a, b) : which == 1 ? rt_sub(c, a, b) : which == 2 ? rt_mul(c, a, b) : rt_div(c, a, b);
    cr_assert(y->ndim == 2 && y->shape[0] == 2 && y->shape[1] == 3);
    for (int i = 0; i < 6; i++) {
        double x = A6[i], w = b->data[i % 3];
        double want = which == 0 ? x + w : which == 1 ? x - w : which == 2 ? x * w : x / w;
        near(y->data[i], want, 1e-7, rt_op_name(RT_OP_ADD + which), i);
    }
}
static void v_add(rt_ctx *c) { v_binary(c, 0); }
static void v_sub(rt_ctx *c) { v_binary(c, 1); }
static void v_mul(rt_ctx *c) { v_binary(c, 2); }
static void v_div(rt_ctx *c) { v_binary(c, 3); }

static void v_affine(rt_ctx *c) {
    rt_tensor *y = rt_affine(c, V(c, 1, (int[]){ 6 }, A6), -1.5f, 0.25f), *s = rt_scale(c, V(c, 1, (int[]){ 6 }, A6), 3.0f);
    for (int i = 0; i < 6; i++) {
        near(y->data[i], -1.5 * A6[i] + 0.25, 1e-7, "affine", i);
        near(s->data[i], 3.0 * A6[i], 1e-7, "scale", i);
    }
}

/* Elementwise maps: op, the rt_ function, the double formula, the inputs. */
static void v_map(rt_ctx *c, const char *name, rt_tensor *(*f)(rt_ctx *, rt_tensor *), double (*g)(double),
                  const float *x, int n, double tol) {
    rt_tensor *y = f(c, V(c, 1, &n, x));
    for (int i = 0; i < n; i++) near(y->data[i], g(x[i]), tol, name, i);
}
static double d_softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double d_relu(double x) { return x > 0 ? x : 0.0; }
static double d_square(double x) { return x * x; }
static const float WIDE[8] = { -30.0f, -6.0f, -1.5f, -0.25f, 0.5f, 1.25f, 6.0f, 30.0f };
static void v_exp(rt_ctx *c) { v_map(c, "exp", rt_exp, exp, A6, 6, 1e-6); }
static void v_log(rt_ctx *c) { v_map(c, "log", rt_log, log, P6, 6, 1e-6); }
static void v_softplus(rt_ctx *c) { v_map(c, "softplus", rt_softplus, d_softplus, WIDE, 8, 1e-6); }
static void v_relu(rt_ctx *c) {
    v_map(c, "relu", rt_relu, d_relu, WIDE, 8, 0.0);
    rt_tensor *x = V(c, 1, (int[]){ 8 }, WIDE), *y = rt_relu_over(c, rt_affine(c, x, 1.0f, 0.0f));
    for (int i = 0; i < 8; i++) near(y->data[i], d_relu(WIDE[i]), 0.0, "relu_over", i);
}
static void v_tanh(rt_ctx *c) { v_map(c, "tanh", rt_tanh, tanh, WIDE, 8, 1e-6); }
static void v_sigmoid(rt_ctx *c) { v_map(c, "sigmoid", rt_sigmoid, sigm, WIDE, 8, 1e-6); }
static void v_square(rt_ctx *c) { v_map(c, "square", rt_square, d_square, A6, 6, 1e-7); }
static void v_sqrt(rt_ctx *c) { v_map(c, "sqrt", rt_sqrt, sqrt, P6, 6, 1e-7); }

static double d_abs(double x) { return fabs(x); }
static void v_abs(rt_ctx *c) { v_map(c, "abs", rt_abs, d_abs, A6, 6, 0.0); }
static void v_clamp(rt_ctx *c) {
    rt_tensor *y = rt_clamp(c, V(c, 1, (int[]){ 8 }, WIDE), -1.5f, 6.0f);
    for (int i = 0; i < 8; i++) near(y->data[i], fmin(fmax((double)WIDE[i], -1.5), 6.0), 0.0, "clamp", i);
}
static void v_max(rt_ctx *c) {
    rt_tensor *a = V(c, 2, (int[]){ 2, 3 }, (float[]){ 1.0f, 4.0f, -2.0f, 3.0f, 0.5f, 3.0f });
    rt_tensor *r = rt_max(c, a, 1, false), *col = rt_max(c, a, 0, true);
    near(r->data[0], 4.0, 0.0, "max axis 1", 0);
    near(r->data[1], 3.0, 0.0, "max axis 1", 1);
    const double want[3] = { 3.0, 4.0, 3.0 };
    cr_expect(col->ndim == 2 && col->shape[0] == 1 && col->shape[1] == 3);
    for (int j = 0; j < 3; j++) near(col->data[j], want[j], 0.0, "max axis 0", j);
}

static void v_sum(rt_ctx *c) {
    rt_tensor *a = V(c, 2, (int[]){ 2, 3 }, A6);
    rt_tensor *s0 = rt_sum(c, a, 0, false), *s1 = rt_sum(c, a, -1, true), *all = rt_sum(c, a, RT_ALL, false);
    cr_expect(s0->ndim == 1 && s0->shape[0] == 3 && s1->ndim == 2 && s1->shape[1] == 1 && all->n == 1);
    for (int j = 0; j < 3; j++) near(s0->data[j], (double)A6[j] + A6[3 + j], 1e-7, "sum axis 0", j);
    for (int i = 0; i < 2; i++) near(s1->data[i], (double)A6[3 * i] + A6[3 * i + 1] + A6[3 * i + 2], 1e-7, "sum axis -1", i);
    near(all->data[0], 5.5, 1e-7, "sum all", 0);
}
static void v_mean(rt_ctx *c) {
    rt_tensor *a = V(c, 2, (int[]){ 2, 3 }, A6);
    rt_tensor *m0 = rt_mean(c, a, 0, true), *m1 = rt_mean(c, a, 1, false), *all = rt_mean(c, a, RT_ALL, false);
    for (int j = 0; j < 3; j++) near(m0->data[j], ((double)A6[j] + A6[3 + j]) / 2.0, 1e-7, "mean axis 0", j);
    for (int i = 0; i < 2; i++) near(m1->data[i], ((double)A6[3 * i] + A6[3 * i + 1] + A6[3 * i + 2]) / 3.0, 1e-7, "mean axis 1", i);
    near(all->data[0], 5.5 / 6.0, 1e-7, "mean all", 0);
}
static void v_broadcast(rt_ctx *c) {
    rt_tensor *y = rt_broadcast(c, V(c, 2, (int[]){ 3, 1 }, A6), 3, (int[]){ 2, 3, 4 });
    cr_assert_eq(y->n, 24);
    for (int i = 0; i < 24; i++) near(y->data[i], A6[(i / 4) % 3], 0.0, "broadcast", i);
}
static void v_reshape(rt_ctx *c) {
    rt_tensor *y = rt_reshape(c, V(c, 2, (int[]){ 2, 3 }, A6), 2, (int[]){ 3, 2 });
    cr_expect(y->shape[0] == 3 && y->shape[1] == 2);
    for (int i = 0; i < 6; i++) near(y->data[i], A6[i], 0.0, "reshape", i);
}
static void v_matmul(rt_ctx *c) {
    rt_tensor *a = V(c, 2, (int[]){ 2, 3 }, A6), *b = V(c, 2, (int[]){ 3, 2 }, P6);
    rt_tensor *y = rt_matmul(c, a, b);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double s = 0.0;
            for (int k = 0; k < 3; k++) s += (double)A6[i * 3 + k] * P6[k * 2 + j];
            near(y->data[i * 2 + j], s, 1e-6, "matmul", i * 2 + j);
        }
}
static void v_linear(rt_ctx *c) {
    rt_tensor *x = V(c, 2, (int[]){ 2, 3 }, A6), *w = V(c, 2, (int[]){ 2, 3 }, P6), *b = V(c, 1, (int[]){ 2 }, (float[]){ 0.5f, -1.0f });
    rt_tensor *y = rt_linear(c, x, w, b), *y0 = rt_linear(c, x, w, NULL);
    for (int i = 0; i < 2; i++)
        for (int o = 0; o < 2; o++) {
            double s = 0.0;
            for (int k = 0; k < 3; k++) s += (double)A6[i * 3 + k] * P6[o * 3 + k];
            near(y->data[i * 2 + o], s + b->data[o], 1e-6, "linear", i * 2 + o);
            near(y0->data[i * 2 + o], s, 1e-6, "linear without bias", i * 2 + o);
        }
}
static void v_transpose(rt_ctx *c) {
    rt_tensor *y = rt_transpose(c, V(c, 2, (int[]){ 2, 3 }, A6));
    cr_expect(y->shape[0] == 3 && y->shape[1] == 2);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) near(y->data[i * 2 + j], A6[j * 3 + i], 0.0, "transpose", i * 2 + j);
}

static void v_softmax_ce(rt_ctx *c) {
    /* A uniform row of C = 5 logits: -log(1/5) = ln 5 for any label, smoothed or not. */
    rt_tensor *u = V(c, 2, (int[]){ 1, 5 }, (float[]){ 0.7f, 0.7f, 0.7f, 0.7f, 0.7f });
    int32_t y3 = 3;
    near(rt_softmax_ce(c, u, &y3, 0.0f)->data[0], log(5.0), 1e-6, "softmax_ce uniform = ln C", 0);
    near(rt_softmax_ce(c, u, &y3, 0.3f)->data[0], log(5.0), 1e-6, "softmax_ce smoothed uniform = ln C", 0);
    /* Rows of A6 (C = 3): -log p_y, and with smoothing s the target (1 - s) onehot + s / C. */
    rt_tensor *z = V(c, 2, (int[]){ 2, 3 }, A6);
    const int32_t lab[2] = { 2, 0 };
    for (int k = 0; k < 2; k++) {
        float s = k == 0 ? 0.0f : 0.2f;
        rt_tensor *ce = rt_softmax_ce(c, z, lab, s);
        for (int i = 0; i < 2; i++) {
            const float *r = A6 + 3 * i;
            double l = lse_d(r, 3, 1), want = 0.0;
            for (int j = 0; j < 3; j++) want -= ((j == lab[i] ? 1.0 - s : 0.0) + s / 3.0) * (r[j] - l);
            near(ce->data[i], want, 1e-6, k ? "softmax_ce smoothed" : "softmax_ce", i);
        }
    }
}
static void v_logsumexp(rt_ctx *c) {
    rt_tensor *z = V(c, 2, (int[]){ 2, 3 }, A6);
    rt_tensor *r = rt_logsumexp(c, z, 1, false), *col = rt_logsumexp(c, z, 0, true);
    for (int i = 0; i < 2; i++) near(r->data[i], lse_d(A6 + 3 * i, 3, 1), 1e-6, "logsumexp axis 1", i);
    for (int j = 0; j < 3; j++) near(col->data[j], lse_d(A6 + j, 2, 3), 1e-6, "logsumexp axis 0", j);
    rt_tensor *big = rt_logsumexp(c, V(c, 1, (int[]){ 3 }, (float[]){ 1000, 1000, 1000 }), 0, false);
    near(big->data[0], 1000.0 + log(3.0), 1e-7, "logsumexp of large values", 0);
}
static void v_gauss_kl(rt_ctx *c) {
    rt_tensor *mu = V(c, 2, (int[]){ 2, 3 }, A6), *sg = V(c, 2, (int[]){ 2, 3 }, P6);
    rt_tensor *kl = rt_gauss_kl(c, mu, sg);
    for (int i = 0; i < 2; i++) {
        double want = 0.0;
        for (int k = 0; k < 3; k++) {
            double m = A6[3 * i + k], s = P6[3 * i + k];
            want += 0.5 * (m * m + s * s - 1.0 - 2.0 * log(s));
        }
        near(kl->data[i], want, 1e-6, "gauss_kl", i);
    }
    /* N(0, 1) against itself: 0. */
    rt_tensor *z = rt_gauss_kl(c, V(c, 2, (int[]){ 1, 2 }, (float[]){ 0, 0 }), V(c, 2, (int[]){ 1, 2 }, (float[]){ 1, 1 }));
    near(z->data[0], 0.0, 1e-7, "gauss_kl of N(0,1)", 0);
}
static void v_bern_st(rt_ctx *c) {
    rt_tensor *p = V(c, 2, (int[]){ 1, 3 }, (float[]){ 0.2f, 0.5f, 0.9f });
    rt_tensor *u = V(c, 3, (int[]){ 2, 1, 3 }, (float[]){ 0.1f, 0.6f, 0.89f, 0.3f, 0.4f, 0.95f });
    rt_tensor *z = rt_bern_st(c, p, u);
    const float want[6] = { 1, 0, 1, 0, 1, 0 };
    for (int i = 0; i < 6; i++) near(z->data[i], want[i], 0.0, "bern_st 1[u < p]", i);
}
static void v_bern_linear(rt_ctx *c) {
    /* M = 2 particles of R = 2 rows of K = 3 units, O = 2 outputs: y[r] = b + sum of w's columns k
    ** with u[r][k] < p[r mod R][k], u the noise stream's uniforms row after row */
    const float pv[6] = { 0.1f, 0.5f, 0.9f, 0.0f, 1.0f, 0.3f }, wv[6] = { 1, -2, 4, 0.5f, 0.25f, -8 }, bv[2] = { 0.125f, -1 };
    rt_rng r, r2;
    rt_rng_seed(&r, 5);
    r2 = r;
    float u[12];
    rt_rng_fill_uniform(&r2, u, 12, 0.0f, 1.0f);
    rt_tensor *y = rt_bern_linear(c, V(c, 2, (int[]){ 2, 3 }, pv), 2, &r, V(c, 2, (int[]){ 2, 3 }, wv),
                                  V(c, 1, (int[]){ 2 }, bv));
    for (int row = 0; row < 4; row++)
        for (int o = 0; o < 2; o++) {
            double want = bv[o];
            for (int k = 0; k < 3; k++) want += u[row * 3 + k] < pv[(row % 2) * 3 + k] ? wv[o * 3 + k] : 0.0;
            near(y->data[row * 2 + o], want, 1e-7, "bern_linear b + fired columns", row * 2 + o);
        }
}
static void v_bern_kl(rt_ctx *c) {
    rt_tensor *h = V(c, 2, (int[]){ 2, 3 }, A6), *w = V(c, 1, (int[]){ 3 }, (float[]){ -0.5f, 0.0f, 2.0f });
    rt_tensor *kl = rt_bern_kl(c, h, w);
    for (int i = 0; i < 2; i++) {
        double want = 0.0;
        for (int k = 0; k < 3; k++) {
            double p = sigm(A6[3 * i + k]), r = sigm(w->data[k]);
            want += p * log(p / r) + (1.0 - p) * log((1.0 - p) / (1.0 - r));
        }
        near(kl->data[i], want, 1e-5, "bern_kl", i);
    }
    rt_tensor *same = rt_bern_kl(c, V(c, 2, (int[]){ 1, 3 }, (float[]){ -0.5f, 0.0f, 2.0f }), w);
    near(same->data[0], 0.0, 1e-6, "bern_kl of a distribution with itself", 0);
}
static void v_softmax_entropy(rt_ctx *c) {
    /* Uniform rows: ln C. */
    rt_tensor *u = rt_softmax_entropy(c, V(c, 2, (int[]){ 2, 4 }, (float[]){ 0, 0, 0, 0, -3, -3, -3, -3 }));
    near(u->data[0], log(4.0), 1e-6, "softmax_entropy uniform = ln C", 0);
    near(u->data[1], log(4.0), 1e-6, "softmax_entropy uniform = ln C", 1);
    rt_tensor *e = rt_softmax_entropy(c, V(c, 2, (int[]){ 2, 3 }, A6));
    for (int i = 0; i < 2; i++) {
        near(e->data[i], entropy_d(A6 + 3 * i, 3), 1e-6, "softmax_entropy", i);
        near(rt_softmax_entropy_row(A6 + 3 * i, 3), entropy_d(A6 + 3 * i, 3), 1e-12, "rt_softmax_entropy_row", i);
    }
    /* A near one-hot row: entropy near 0. */
    rt_tensor *o = rt_softmax_entropy(c, V(c, 2, (int[]){ 1, 3 }, (float[]){ 40, 0, 0 }));
    near(o->data[0], entropy_d((float[]){ 40, 0, 0 }, 3), 1e-6, "softmax_entropy one-hot", 0);
}
static void v_tril_mv(rt_ctx *c) {
    /* K = 3: L packed (0,0) (1,0) (1,1) (2,0) (2,1) (2,2); two rows, two samples. */
    const float l[12] = { 1.5f, -0.5f, 2.0f, 0.25f, 1.0f, 0.75f,   0.5f, 1.0f, -1.0f, 2.0f, 0.0f, 3.0f };
    const float e[12] = { 1, 2, 3, -1, 0.5f, 2,   0.25f, -2, 1, 4, 1, -1 };
    rt_tensor *y = rt_tril_mv(c, V(c, 2, (int[]){ 2, 6 }, l), V(c, 3, (int[]){ 2, 2, 3 }, e));
    for (int s = 0; s < 2; s++)
        for (int r = 0; r < 2; r++)
            for (int i = 0; i < 3; i++) {
                double acc = 0.0;
                for (int j = 0; j <= i; j++) acc += (double)l[r * 6 + i * (i + 1) / 2 + j] * e[(s * 2 + r) * 3 + j];
                near(y->data[(s * 2 + r) * 3 + i], acc, 1e-6, "tril_mv", (s * 2 + r) * 3 + i);
            }
}

/* Convolutions, pooling and normalization on hand-sized inputs (the direct loops of test_conv.c
** cover the general case). x = 1..9 in a 3x3 plane. */
static const float X9[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static void v_conv2d(rt_ctx *c) {
    rt_tensor *x = V(c, 4, (int[]){ 1, 1, 3, 3 }, X9);
    /* w = [[1, 0], [0, -1]]: y = x[i,j] - x[i+1,j+1] = -4 everywhere, plus b = 0.5 */
    rt_tensor *y = rt_conv2d(c, x, V(c, 4, (int[]){ 1, 1, 2, 2 }, (float[]){ 1, 0, 0, -1 }),
                             V(c, 1, (int[]){ 1 }, (float[]){ 0.5f }), &(rt_conv_geom){ 1, 1, 0, 0, 1, 1, 1, 0, 0 });
    cr_assert(y->shape[2] == 2 && y->shape[3] == 2);
    for (int i = 0; i < 4; i++) near(y->data[i], -3.5, 1e-6, "conv2d 2x2", i);
    /* a 3x3 box of ones, padding 1, stride 2: the sums of the 2x2 corners 12 16 24 28 */
    rt_tensor *s = rt_conv2d(c, x, V(c, 4, (int[]){ 1, 1, 3, 3 }, (float[]){ 1, 1, 1, 1, 1, 1, 1, 1, 1 }), NULL,
                             &(rt_conv_geom){ 2, 2, 1, 1, 1, 1, 1, 0, 0 });
    const double want[4] = { 12, 16, 24, 28 };
    for (int i = 0; i < 4; i++) near(s->data[i], want[i], 1e-6, "conv2d box stride 2 padding 1", i);
}
static void v_conv_transpose2d(rt_ctx *c) {
    /* stride 2, a 2x2 kernel of ones: each input spreads over its own 2x2 block */
    rt_tensor *y = rt_conv_transpose2d(c, V(c, 4, (int[]){ 1, 1, 2, 2 }, (float[]){ 1, 2, 3, 4 }),
                                       V(c, 4, (int[]){ 1, 1, 2, 2 }, (float[]){ 1, 1, 1, 1 }),
                                       V(c, 1, (int[]){ 1 }, (float[]){ -1 }), &(rt_conv_geom){ 2, 2, 0, 0, 1, 1, 1, 0, 0 });
    cr_assert(y->shape[2] == 4 && y->shape[3] == 4);
    const double want[16] = { 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3 };
    for (int i = 0; i < 16; i++) near(y->data[i], want[i], 1e-6, "conv_transpose2d", i);
}
static const float X8[8] = { 1, 5, 2, 0, 3, 4, 8, 7 };     /* (1,1,2,4) */
static void v_maxpool2d(rt_ctx *c) {
    rt_tensor *y = rt_maxpool2d(c, V(c, 4, (int[]){ 1, 1, 2, 4 }, X8), 2, 2, 2, 2, 0, 0);
    near(y->data[0], 5, 0, "maxpool2d", 0);
    near(y->data[1], 8, 0, "maxpool2d", 1);
}
static void v_avgpool2d(rt_ctx *c) {
    rt_tensor *y = rt_avgpool2d(c, V(c, 4, (int[]){ 1, 1, 2, 4 }, X8), 2, 2, 2, 2, 0, 0);
    near(y->data[0], 13.0 / 4.0, 1e-7, "avgpool2d", 0);
    near(y->data[1], 17.0 / 4.0, 1e-7, "avgpool2d", 1);
}
static void v_global_avgpool(rt_ctx *c) {
    rt_tensor *y = rt_global_avgpool(c, V(c, 4, (int[]){ 1, 2, 2, 2 }, X8));
    near(y->data[0], (1 + 5 + 2 + 0) / 4.0, 1e-7, "global_avgpool", 0);
    near(y->data[1], (3 + 4 + 8 + 7) / 4.0, 1e-7, "global_avgpool", 1);
}
static void v_batchnorm(rt_ctx *c) {
    /* one channel 1 2 3 4: mean 2.5, biased variance 1.25 */
    rt_tensor *y = rt_batchnorm(c, V(c, 2, (int[]){ 4, 1 }, X9), NULL, NULL, NULL, NULL, 0.1f, 1e-5f, true);
    for (int i = 0; i < 4; i++) near(y->data[i], (i + 1 - 2.5) / sqrt(1.25 + 1e-5), 1e-6, "batchnorm", i);
}
static void v_batchnorm_relu(rt_ctx *c) {
    /* 1 2 3 4 normalized: -1.342 -0.447 0.447 1.342; the ReLU keeps the last two */
    rt_tensor *y = rt_batchnorm_relu(c, V(c, 2, (int[]){ 4, 1 }, X9), NULL, NULL, NULL, NULL, 0.1f, 1e-5f, true);
    for (int i = 0; i < 4; i++) near(y->data[i], i < 2 ? 0.0 : (i + 1 - 2.5) / sqrt(1.25 + 1e-5), 1e-6, "batchnorm_relu", i);
}
static void v_groupnorm(rt_ctx *c) {
    rt_tensor *x = V(c, 4, (int[]){ 1, 2, 1, 2 }, X9);    /* channels {1 2} and {3 4} */
    rt_tensor *g1 = rt_groupnorm(c, x, NULL, NULL, 1, 1e-5f), *g2 = rt_groupnorm(c, x, NULL, NULL, 2, 1e-5f);
    for (int i = 0; i < 4; i++) {
        near(g1->data[i], (i + 1 - 2.5) / sqrt(1.25 + 1e-5), 1e-6, "groupnorm groups 1", i);
        near(g2->data[i], (i % 2 ? 0.5 : -0.5) / sqrt(0.25 + 1e-5), 1e-6, "groupnorm groups 2", i);
    }
}

static const struct { int op; value_fn fn; } op_values[] = {
    { RT_OP_ADD, v_add }, { RT_OP_SUB, v_sub }, { RT_OP_MUL, v_mul }, { RT_OP_DIV, v_div },
    { RT_OP_AFFINE, v_affine }, { RT_OP_EXP, v_exp }, { RT_OP_LOG, v_log }, { RT_OP_SOFTPLUS, v_softplus },
    { RT_OP_RELU, v_relu }, { RT_OP_TANH, v_tanh }, { RT_OP_SIGMOID, v_sigmoid }, { RT_OP_SQUARE, v_square },
    { RT_OP_SQRT, v_sqrt }, { RT_OP_SUM, v_sum }, { RT_OP_MEAN, v_mean }, { RT_OP_BROADCAST, v_broadcast },
    { RT_OP_RESHAPE, v_reshape }, { RT_OP_MATMUL, v_matmul }, { RT_OP_LINEAR, v_linear },
    { RT_OP_SOFTMAX_CE, v_softmax_ce }, { RT_OP_LOGSUMEXP, v_logsumexp }, { RT_OP_GAUSS_KL, v_gauss_kl },
    { RT_OP_BERN_ST, v_bern_st }, { RT_OP_BERN_LINEAR, v_bern_linear }, { RT_OP_BERN_KL, v_bern_kl }, { RT_OP_SOFTMAX_ENTROPY, v_softmax_entropy },
    { RT_OP_TRANSPOSE, v_transpose }, { RT_OP_TRIL_MV, v_tril_mv },
    { RT_OP_CONV2D, v_conv2d }, { RT_OP_CONV_TRANSPOSE2D, v_conv_transpose2d }, { RT_OP_MAXPOOL2D, v_maxpool2d },
    { RT_OP_AVGPOOL2D, v_avgpool2d }, { RT_OP_GLOBAL_AVGPOOL, v_global_avgpool }, { RT_OP_BATCHNORM, v_batchnorm },
    { RT_OP_BATCHNORM_RELU, v_batchnorm_relu },
    { RT_OP_GROUPNORM, v_groupnorm }, { RT_OP_ABS, v_abs }, { RT_OP_CLAMP, v_clamp }, { RT_OP_MAX, v_max },
};
#define NOPS (int)(sizeof op_values / sizeof op_values[0])

Test(values, table_covers_every_op) {
    for (int op = 1; op < RT_OP_COUNT; op++) {
        bool found = false;
        for (int i = 0; i < NOPS; i++) found |= op_values[i].op == op;
        cr_expect(found, "op '%s' has no forward-value row in test_values.c", rt_op_name(op));
    }
}

Test(values, every_op_matches_its_formula) {
    for (int i = 0; i < NOPS; i++) {
        rt_ctx c;
        rt_ctx_init(&c, 1 << 16);
        op_values[i].fn(&c);
        rt_ctx_free(&c);
    }
}

// ---- objective terms: the model's own layer values through the term's formula ----

static nn_layer_spec LS(nn_layer_kind k, int out, const char *name) { return tu_layer("values.lua", 10, k, out, name); }
static nn_term_spec TS(nn_term_kind k, const char *layer, float weight) { return tu_term("values.lua:3", k, NULL, layer, weight); }

enum { B = 6, IN = 4 };
static const int32_t labels[B] = { 0, 2, 1, 2, 0, 1 };

typedef struct harness {
    nn_model m;
    nn_obj o;
    rt_ctx c;
    rt_rng r;
    rt_tensor *x, *out;
    nn_fwd f;
    nn_obj_out res;
} harness;

/* Builds the model and objective, draws parameters and an input batch in [lo, hi), runs the
** forward pass (training mode, or evaluation with eval_samples) and the objective. */
static void run(harness *h, const nn_layer_spec *s, int nl, nn_term_spec *t, int nt, bool train, int eval_samples,
                float lo, float hi) {
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&h->m, s, nl, IN, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nn_obj_build(&h->o, t, nt, NULL, 0, &h->m, &err), RT_OK, "%s", err.msg);
    rt_rng_seed(&h->r, 17);
    nn_model_init(&h->m, &h->r);
    /* Term parameters away from their initial constants (logscale 0, logits 0), so that every
    ** part of a formula shows. */
    for (int i = 0; i < h->m.nextra; i++)
        for (int64_t k = 0; k < h->m.extra[i].t->n; k++)
            h->m.extra[i].t->data[k] += (float)(0.3 * sin(1.7 * (double)k + i));
    rt_ctx_init(&h->c, 1 << 20);
    h->x = rt_tensor_new(&h->c, 2, (int[]){ B, IN });
    rt_rng_fill_uniform(&h->r, h->x->data, (size_t)h->x->n, lo, hi);
    h->f = (nn_fwd){ &h->c, train, &h->r, eval_samples, 0, 0, NULL };
    h->out = nn_model_forward(&h->m, &h->f, h->x);
    nn_obj_in in = { h->out, h->x, labels, B, &h->f, 0.0 };
    h->res = nn_obj_forward(&h->o, &h->m, &h->c, &in);
}
static void done(harness *h) {
    rt_ctx_free(&h->c);
    nn_model_free(&h->m);
}
static const nn_layer *layer(const harness *h, const char *name) {
    int i = nn_model_find(&h->m, name);
    cr_assert_geq(i, 0, "no layer %s", name);
    return &h->m.layers[i];
}
static double term_mean(const harness *h, int i) {
    double s = 0.0;
    for (int64_t k = 0; k < h->res.term[i]->n; k++) s += h->res.term[i]->data[k];
    return s / (double)h->res.term[i]->n;
}

/* The loss is sum_i w_i mean(term_i). */
static void expect_loss_is_weighted_sum(const harness *h) {
    double want = 0.0;
    for (int i = 0; i < h->o.n; i++) want += (double)h->o.terms[i].weight * term_mean(h, i);
    near(h->res.loss->data[0], want, 1e-5, "loss = sum of weighted term means", 0);
}

static nn_layer_spec gauss_spec(int K, int samples, bool full_cov) {
    nn_layer_spec s = LS(NN_LAYER_GAUSS, K, "z");
    s.samples = samples;
    s.shift = 0.0f;
    s.full_cov = full_cov;
    return s;
}

typedef void (*term_fn)(void);

/* ce: -log softmax(out)_y per row; a zero decoder gives uniform rows: ln C. Label smoothing s:
** the target (1 - s) onehot + s / C. */
static void t_ce(void) {
    nn_layer_spec s[] = { LS(NN_LAYER_LINEAR, 5, "h"), LS(NN_LAYER_TANH, 0, "t"), LS(NN_LAYER_LINEAR, 3, "out") };
    nn_term_spec t[] = { TS(NN_TERM_CE, "", 1.0f), TS(NN_TERM_CE, "", 0.5f) };
    snprintf(t[1].name, sizeof t[1].name, "ce_smooth");
    t[1].smoothing = 0.1f;
    harness h;
    run(&h, s, 3, t, 2, true, 0, -1, 1);
    for (int i = 0; i < B; i++) {
        const float *z = h.out->data + 3 * i;
        double l = lse_d(z, 3, 1), sm = 0.0;
        for (int j = 0; j < 3; j++) sm -= ((j == labels[i] ? 0.9 : 0.0) + 0.1 / 3.0) * (z[j] - l);
        near(h.res.term[0]->data[i], l - z[labels[i]], 1e-6, "ce", i);
        near(h.res.term[1]->data[i], sm, 1e-6, "ce smoothed", i);
    }
    expect_loss_is_weighted_sum(&h);
    done(&h);
    /* The decoder set to zero: every row uniform, ce = ln 3. */
    run(&h, s, 3, t, 1, true, 0, -1, 1);
    const nn_layer *o = layer(&h, "out");
    memset(o->w->data, 0, (size_t)o->w->n * sizeof(float));
    memset(o->b->data, 0, (size_t)o->b->n * sizeof(float));
    h.out = nn_model_forward(&h.m, &h.f, h.x);
    nn_obj_in in = { h.out, h.x, labels, B, &h.f, 0.0 };
    h.res = nn_obj_forward(&h.o, &h.m, &h.c, &in);
    for (int i = 0; i < B; i++) near(h.res.term[0]->data[i], log(3.0), 1e-6, "ce of a uniform row = ln C", i);
    done(&h);
}

/* kl: closed form 1/2 sum (mu^2 + sigma^2 - 1 - 2 ln sigma) per row of mu; mc: log e(z|x) - log
** r(z) per sampled row, r = N(0, I) or the learned mixture sum_c pi_c N(m_c, diag s_c^2) (training
** mode: the evaluation of a mixture is h-num's); full covariance: 1/2 (sum L^2 + |mu|^2 - K) -
** sum ln L_ii; bern: sum_k KL(Bern(p_k) || Bern(sigmoid(w_k))). */
static double log_normal_diag(const float *z, const float *mu, const float *sg, int K) {
    double a = 0.0;
    for (int k = 0; k < K; k++) {
        double s = sg ? sg[k] : 1.0, e = (z[k] - (mu ? mu[k] : 0.0)) / s;
        a += -0.5 * e * e - log(s) - 0.5 * LN2PI;
    }
    return a;
}
static void t_kl(void) {
    enum { K = 3, S = 2 };
    nn_layer_spec s[] = { gauss_spec(K, S, false), LS(NN_LAYER_LINEAR, 3, "out") };
    nn_term_spec t[] = { TS(NN_TERM_KL, "z", 1.0f), TS(NN_TERM_KL, "z", 0.1f), TS(NN_TERM_KL, "z", 0.01f) };
    snprintf(t[1].name, sizeof t[1].name, "kl_mc");
    t[1].mc = true;
    snprintf(t[2].name, sizeof t[2].name, "kl_mog");
    t[2].components = 2;
    harness h;
    run(&h, s, 2, t, 3, true, 0, -1, 1);
    const nn_layer *z = layer(&h, "z");
    cr_assert_eq(h.res.term[0]->n, B);
    cr_assert_eq(h.res.term[1]->n, S * B);
    for (int i = 0; i < B; i++) {
        double want = 0.0;
        for (int k = 0; k < K; k++) {
            double m = z->mu->data[i * K + k], sg = z->sigma->data[i * K + k];
            want += 0.5 * (m * m + sg * sg - 1.0 - 2.0 * log(sg));
        }
        near(h.res.term[0]->data[i], want, 1e-5, "kl closed form", i);
    }
    const float *means = h.o.param[2][0]->data, *logscale = h.o.param[2][1]->data, *logits = h.o.param[2][2]->data;
    double lz = lse_d(logits, 2, 1);
    for (int row = 0; row < S * B; row++) {
        const float *zz = z->y->data + (size_t)row * K, *mu = z->mu->data + (size_t)(row % B) * K,
                    *sg = z->sigma->data + (size_t)(row % B) * K;
        double le = log_normal_diag(zz, mu, sg, K);
        near(h.res.term[1]->data[row], le - log_normal_diag(zz, NULL, NULL, K), 1e-5, "kl mc against N(0, I)", row);
        double comp[2];
        for (int cc = 0; cc < 2; cc++) {
            float scale[K];
            for (int k = 0; k < K; k++) scale[k] = expf(logscale[cc * K + k]);
            comp[cc] = logits[cc] - lz + log_normal_diag(zz, means + cc * K, scale, K);
        }
        double m = fmax(comp[0], comp[1]), lr = m + log(exp(comp[0] - m) + exp(comp[1] - m));
        near(h.res.term[2]->data[row], le - lr, 1e-5, "kl mc against the mixture prior", row);
    }
    expect_loss_is_weighted_sum(&h);
    done(&h);

    nn_layer_spec sf[] = { gauss_spec(K, 1, true), LS(NN_LAYER_LINEAR, 3, "out") };
    nn_term_spec tf[] = { TS(NN_TERM_KL, "z", 1.0f) };
    run(&h, sf, 2, tf, 1, true, 0, -1, 1);
    z = layer(&h, "z");
    for (int i = 0; i < B; i++) {
        const float *L = z->sigma->data + (size_t)i * 6, *mu = z->mu->data + (size_t)i * K;
        double q = 0.0, logdet = 0.0;
        for (int p = 0; p < 6; p++) q += (double)L[p] * L[p];
        for (int k = 0; k < K; k++) q += (double)mu[k] * mu[k];
        for (int k = 0; k < K; k++) logdet += log(L[k * (k + 1) / 2 + k]);
        near(h.res.term[0]->data[i], 0.5 * (q - K) - logdet, 1e-5, "kl full covariance", i);
    }
    done(&h);

    nn_layer_spec sb[] = { LS(NN_LAYER_BERN, 4, "hb"), LS(NN_LAYER_LINEAR, 3, "out") };
    sb[0].samples = 2;
    nn_term_spec tb[] = { TS(NN_TERM_KL, "hb", 1.0f) };
    run(&h, sb, 2, tb, 1, true, 0, -1, 1);
    const nn_layer *hb = layer(&h, "hb");
    const float *w = h.o.param[0][0]->data;
    for (int i = 0; i < B; i++) {
        double want = 0.0;
        for (int k = 0; k < 4; k++) {
            double p = sigm(hb->logits->data[i * 4 + k]), r = sigm(w[k]);
            want += p * log(p / r) + (1.0 - p) * log((1.0 - p) / (1.0 - r));
        }
        near(h.res.term[0]->data[i], want, 1e-5, "kl bernoulli", i);
    }
    done(&h);
}

/* logvar: sum_j 1/2 ln(2 pi e (Var[z_j] + delta)), Var over the batch dividing by n, delta = 1e-6;
** per class: sum_c pi_c of the same over class c's rows; on a noise layer Var[f_j] + s^2. */
static double logvar_d(const float *z, int n, int K, const int32_t *y, int cls, double s2) {
    double h = 0.0;
    for (int j = 0; j < K; j++) {
        double m = 0.0, v = 0.0;
        int cnt = 0;
        for (int i = 0; i < n; i++) if (cls < 0 || y[i] == cls) { m += z[i * K + j]; cnt++; }
        m /= cnt;
        for (int i = 0; i < n; i++) if (cls < 0 || y[i] == cls) v += (z[i * K + j] - m) * (z[i * K + j] - m);
        v /= cnt;
        h += 0.5 * log(TWO_PI_E_D * (v + s2 + 1e-6));
    }
    return h;
}
static void t_logvar(void) {
    nn_layer_spec s[] = { LS(NN_LAYER_LINEAR, 3, "f"), LS(NN_LAYER_NOISE, 0, "z"), LS(NN_LAYER_LINEAR, 3, "out") };
    s[1].std = 0.5f;
    nn_term_spec t[] = { TS(NN_TERM_LOGVAR, "f", 1.0f), TS(NN_TERM_LOGVAR, "f", 0.5f), TS(NN_TERM_LOGVAR, "z", 0.25f) };
    snprintf(t[1].name, sizeof t[1].name, "hzy");
    t[1].per_class = true;
    snprintf(t[2].name, sizeof t[2].name, "hz_noise");
    harness h;
    run(&h, s, 3, t, 3, true, 0, -2, 2);
    const float *f = layer(&h, "f")->y->data;
    cr_assert_eq(h.res.term[0]->n, 1);
    near(h.res.term[0]->data[0], logvar_d(f, B, 3, labels, -1, 0.0), 1e-5, "logvar", 0);
    double pc = 0.0;
    for (int cls = 0; cls < 3; cls++) pc += (2.0 / B) * logvar_d(f, B, 3, labels, cls, 0.0);
    near(h.res.term[1]->data[0], pc, 1e-5, "logvar per class", 0);
    near(h.res.term[2]->data[0], logvar_d(f, B, 3, labels, -1, 0.25), 1e-5, "logvar on a noise layer", 0);
    expect_loss_is_weighted_sum(&h);
    done(&h);
}

/* l2: pi e |z|^2 - d/2 per row; on a noise layer pi e (|f|^2 + d s^2) - d/2. */
static void t_l2(void) {
    nn_layer_spec s[] = { LS(NN_LAYER_LINEAR, 3, "f"), LS(NN_LAYER_NOISE, 0, "z"), LS(NN_LAYER_LINEAR, 3, "out") };
    s[1].std = 0.5f;
    nn_term_spec t[] = { TS(NN_TERM_L2, "f", 1.0f), TS(NN_TERM_L2, "z", 0.5f) };
    snprintf(t[1].name, sizeof t[1].name, "l2_noise");
    harness h;
    run(&h, s, 3, t, 2, true, 0, -2, 2);
    const float *f = layer(&h, "f")->y->data;
    for (int i = 0; i < B; i++) {
        double q = 0.0;
        for (int j = 0; j < 3; j++) q += (double)f[i * 3 + j] * f[i * 3 + j];
        near(h.res.term[0]->data[i], PI_E * q - 1.5, 1e-5, "l2", i);
        near(h.res.term[1]->data[i], PI_E * (q + 3 * 0.25) - 1.5, 1e-5, "l2 on a noise layer", i);
    }
    expect_loss_is_weighted_sum(&h);
    done(&h);
}

/* ceb: log e(z|x) - log b(z|y), b = N(A onehot(y), I), per sampled row; in evaluation with the
** mean: 1/2 |mu - A_y|^2 + 1/2 sum (sigma^2 - 1 - 2 ln sigma). */
static void t_ceb(void) {
    enum { K = 2, S = 3 };
    nn_layer_spec s[] = { gauss_spec(K, S, false), LS(NN_LAYER_LINEAR, 3, "out") };
    nn_term_spec t[] = { TS(NN_TERM_CEB, "z", 0.5f) };
    for (int mode = 0; mode < 2; mode++) {
        harness h;
        run(&h, s, 2, t, 1, mode == 0, 0, -1, 1);
        const nn_layer *z = layer(&h, "z");
        const float *A = h.o.param[0][0]->data;
        int rows = mode == 0 ? S * B : B;
        cr_assert_eq(h.res.term[0]->n, rows);
        for (int row = 0; row < rows; row++) {
            int i = row % B;
            const float *mu = z->mu->data + (size_t)i * K, *sg = z->sigma->data + (size_t)i * K, *Ay = A + labels[i] * K;
            double want;
            if (mode == 0) {
                const float *zz = z->y->data + (size_t)row * K;
                want = log_normal_diag(zz, mu, sg, K) - log_normal_diag(zz, Ay, NULL, K);
            } else {
                want = 0.0;
                for (int k = 0; k < K; k++)
                    want += 0.5 * (mu[k] - Ay[k]) * (mu[k] - Ay[k]) + 0.5 * (sg[k] * sg[k] - 1.0 - 2.0 * log(sg[k]));
            }
            near(h.res.term[0]->data[row], want, 1e-5, mode == 0 ? "ceb sampled" : "ceb in evaluation", row);
        }
        expect_loss_is_weighted_sum(&h);
        done(&h);
    }
}

/* kde: -ln 1/N sum_j exp(-|f_i - f_j|^2 / 2 s^2) per row, s the noise layer's std or var given. */
static void t_kde(void) {
    nn_layer_spec s[] = { LS(NN_LAYER_LINEAR, 3, "f"), LS(NN_LAYER_NOISE, 0, "z"), LS(NN_LAYER_LINEAR, 3, "out") };
    s[1].std = 0.6f;
    nn_term_spec t[] = { TS(NN_TERM_KDE, "z", 1.0f), TS(NN_TERM_KDE, "f", 0.5f) };
    snprintf(t[1].name, sizeof t[1].name, "kde_var");
    t[1].var = 0.2f;
    harness h;
    run(&h, s, 3, t, 2, true, 0, -2, 2);
    const float *f = layer(&h, "f")->y->data;
    for (int k = 0; k < 2; k++) {
        double var = k == 0 ? 0.6 * 0.6 : 0.2;
        for (int i = 0; i < B; i++) {
            double m = -INFINITY, a[B];
            for (int j = 0; j < B; j++) {
                double d2 = 0.0;
                for (int q = 0; q < 3; q++) d2 += (double)(f[i * 3 + q] - f[j * 3 + q]) * (f[i * 3 + q] - f[j * 3 + q]);
                a[j] = -d2 / (2.0 * var);
                m = fmax(m, a[j]);
            }
            double se = 0.0;
            for (int j = 0; j < B; j++) se += exp(a[j] - m);
            near(h.res.term[k]->data[i], -(m + log(se / B)), 1e-4, k ? "kde with var" : "kde", i);
        }
    }
    expect_loss_is_weighted_sum(&h);
    done(&h);
}

/* confidence: -H(softmax(out)) per row; with a zero decoder -ln C, and the loss ce - beta H is
** (1 - beta) ln C. */
static void t_confidence(void) {
    nn_layer_spec s[] = { LS(NN_LAYER_LINEAR, 4, "out") };
    nn_term_spec t[] = { TS(NN_TERM_CE, "", 1.0f), TS(NN_TERM_CONFIDENCE, "", 0.3f) };
    harness h;
    run(&h, s, 1, t, 2, true, 0, -2, 2);
    for (int i = 0; i < B; i++) near(h.res.term[1]->data[i], -entropy_d(h.out->data + 4 * i, 4), 1e-6, "confidence", i);
    expect_loss_is_weighted_sum(&h);
    nn_layer *o = &h.m.layers[0];
    memset(o->w->data, 0, (size_t)o->w->n * sizeof(float));
    memset(o->b->data, 0, (size_t)o->b->n * sizeof(float));
    h.out = nn_model_forward(&h.m, &h.f, h.x);
    nn_obj_in in = { h.out, h.x, labels, B, &h.f, 0.0 };
    h.res = nn_obj_forward(&h.o, &h.m, &h.c, &in);
    for (int i = 0; i < B; i++) near(h.res.term[1]->data[i], -log(4.0), 1e-6, "confidence of a uniform row = -ln C", i);
    near(h.res.loss->data[0], 0.7 * log(4.0), 1e-6, "ce - beta H of uniform rows = (1 - beta) ln C", 0);
    done(&h);
}

/* recon: Bernoulli -sum_d [x ln sigmoid(o) + (1 - x) ln(1 - sigmoid(o))]; Gaussian (unit
** variance) 1/2 |o - x|^2 + D/2 ln 2 pi, per sampled row. */
static void t_recon(void) {
    enum { S = 2 };
    nn_layer_spec s[] = { gauss_spec(2, S, false), LS(NN_LAYER_LINEAR, IN, "out") };
    for (int g = 0; g < 2; g++) {
        nn_term_spec t[] = { TS(NN_TERM_RECON, "", 1.0f), TS(NN_TERM_KL, "z", 0.5f) };
        t[0].gaussian = g == 1;
        harness h;
        run(&h, s, 2, t, 2, true, 0, 0, 1);
        cr_assert_eq(h.res.term[0]->n, S * B);
        for (int row = 0; row < S * B; row++) {
            const float *o = h.out->data + (size_t)row * IN, *x = h.x->data + (size_t)(row % B) * IN;
            double want = 0.0;
            for (int d = 0; d < IN; d++) {
                if (g) want += 0.5 * (o[d] - x[d]) * (o[d] - x[d]) + 0.5 * LN2PI;
                else want -= x[d] * log(sigm(o[d])) + (1.0 - x[d]) * log(1.0 - sigm(o[d]));
            }
            near(h.res.term[0]->data[row], want, 1e-5, g ? "recon gaussian" : "recon bernoulli", row);
        }
        expect_loss_is_weighted_sum(&h);
        done(&h);
    }
}

/* custom: (z * onehot):sum(2) + z.mu:sum(2) on a layer of S samples: one value per sample row, the
** per-example one-hot and mu repeated for each sample (row s B + i reads example i). */
static void t_custom(void) {
    enum { K = 3, S = 2 };
    nn_layer_spec s[] = { gauss_spec(K, S, false), LS(NN_LAYER_LINEAR, 3, "out") };
    nn_xnode nodes[6] = {
        { .op = NN_X_VALUE, .a = -1, .b = -1, .name = "z" }, { .op = NN_X_VALUE, .a = -1, .b = -1, .name = "onehot" },
        { .op = NN_X_MUL, .a = 0, .b = 1 }, { .op = NN_X_SUM, .a = 2, .b = -1, .axis = 1 },
        { .op = NN_X_VALUE, .a = -1, .b = -1, .name = "z.mu" }, { .op = NN_X_SUM, .a = 4, .b = -1, .axis = 1 },
    };
    nn_xnode all[7];
    memcpy(all, nodes, sizeof nodes);
    all[6] = (nn_xnode){ .op = NN_X_ADD, .a = 3, .b = 5 };
    nn_xgraph g = { .nodes = all, .n = 7 };
    nn_term_spec t[] = { TS(NN_TERM_CUSTOM, "", 1.0f) };
    t[0].graph = &g;
    harness h;
    run(&h, s, 2, t, 1, true, 0, -1, 1);
    const nn_layer *z = layer(&h, "z");
    cr_assert_eq(h.res.term[0]->n, S * B);
    for (int row = 0; row < S * B; row++) {
        int i = row % B;
        double want = z->y->data[row * K + labels[i]];
        for (int k = 0; k < K; k++) want += z->mu->data[i * K + k];
        near(h.res.term[0]->data[row], want, 1e-5, "custom (z * onehot):sum(2) + z.mu:sum(2)", row);
    }
    expect_loss_is_weighted_sum(&h);
    done(&h);
}

static const struct { nn_term_kind kind; term_fn fn; } term_values[] = {
    { NN_TERM_CE, t_ce }, { NN_TERM_KL, t_kl }, { NN_TERM_LOGVAR, t_logvar }, { NN_TERM_L2, t_l2 },
    { NN_TERM_CEB, t_ceb }, { NN_TERM_KDE, t_kde }, { NN_TERM_CONFIDENCE, t_confidence }, { NN_TERM_RECON, t_recon },
    { NN_TERM_CUSTOM, t_custom },
};
#define NTERMS (int)(sizeof term_values / sizeof term_values[0])

Test(values, table_covers_every_term) {
    for (int k = 0; k < NN_TERM_COUNT; k++) {
        bool found = false;
        for (int i = 0; i < NTERMS; i++) found |= (int)term_values[i].kind == k;
        cr_expect(found, "term '%s' has no forward-value row in test_values.c", nn_term_kind_name((nn_term_kind)k));
    }
}

Test(values, every_term_matches_its_formula) {
    for (int i = 0; i < NTERMS; i++) term_values[i].fn();
}

/* A composed objective: the postfix program over the weighted means, as the script wrote it. */
Test(values, composed_objective_is_its_expression) {
    nn_layer_spec s[] = { gauss_spec(2, 1, false), LS(NN_LAYER_LINEAR, 3, "out") };
    nn_term_spec t[] = { TS(NN_TERM_CE, "", 1.0f), TS(NN_TERM_KL, "z", 0.5f) };
    /* ce + sqrt(exp(log(0.5 kl)^2)) / 2 - (-ce) */
    const nn_expr_ins e[] = { { NN_EXPR_TERM, 0, 0 }, { NN_EXPR_TERM, 1, 0 }, { NN_EXPR_LOG, 0, 0 },
                              { NN_EXPR_SQUARE, 0, 0 }, { NN_EXPR_EXP, 0, 0 }, { NN_EXPR_SQRT, 0, 0 },
                              { NN_EXPR_CONST, 0, 2.0f }, { NN_EXPR_DIV, 0, 0 }, { NN_EXPR_ADD, 0, 0 },
                              { NN_EXPR_TERM, 0, 0 }, { NN_EXPR_NEG, 0, 0 }, { NN_EXPR_SUB, 0, 0 },
                              { NN_EXPR_CONST, 0, 3.0f }, { NN_EXPR_MUL, 0, 0 } };
    harness h;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&h.m, s, 2, IN, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nn_obj_build(&h.o, t, 2, e, (int)(sizeof e / sizeof e[0]), &h.m, &err), RT_OK, "%s", err.msg);
    rt_rng_seed(&h.r, 17);
    nn_model_init(&h.m, &h.r);
    rt_ctx_init(&h.c, 1 << 20);
    h.x = rt_tensor_new(&h.c, 2, (int[]){ B, IN });
    rt_rng_fill_uniform(&h.r, h.x->data, (size_t)h.x->n, -1, 1);
    h.f = (nn_fwd){ &h.c, true, &h.r, 0, 0, 0, NULL };
    h.out = nn_model_forward(&h.m, &h.f, h.x);
    nn_obj_in in = { h.out, h.x, labels, B, &h.f, 0.0 };
    h.res = nn_obj_forward(&h.o, &h.m, &h.c, &in);
    double ce = term_mean(&h, 0), kl = 0.5 * term_mean(&h, 1);
    double want = (ce + sqrt(exp(log(kl) * log(kl))) / 2.0 + ce) * 3.0;
    near(h.res.loss->data[0], want, 1e-5, "composed objective", 0);
    double means[2] = { ce, term_mean(&h, 1) };
    near(nn_obj_combine(&h.o, means, 0.0), want, 1e-12, "nn_obj_combine", 0);
    done(&h);
}
