// test_attack.c: input gradients through every stochastic layer (finite differences with fixed
// noise), the losses on the mean softmax, EOT, FGSM's closed form, PGD's ball and box, the scaling.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_attack.h"
#include "testutil.h"

static nn_layer_spec L(nn_layer_kind k, int out, const char *name) { return tu_layer("attack.lua", 10, k, out, name); }

/* A small model of the specs, initialized from seed 7. */
static void build(nn_model *m, nn_layer_spec *s, int n, int in) {
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(m, s, n, in, &err), RT_OK, "%s", err.msg);
    rt_rng r;
    rt_rng_seed(&r, 7);
    nn_model_init(m, &r);
}

static void fill(float *x, int n, float lo, float hi, uint64_t seed) {
    rt_rng r;
    rt_rng_seed(&r, seed);
    rt_rng_fill_uniform(&r, x, (size_t)n, lo, hi);
}

// ---- the loss on the mean softmax ----

static double loss_sum(const float *z, int S, int B, int C, const int32_t *y, nn_attack_loss L) {
    float l[8];
    nn_attack_loss_grad(z, S, B, C, y, L, l, NULL, NULL);
    double s = 0.0;
    for (int i = 0; i < B; i++) s += (double)l[i];
    return s;
}

Test(attack, loss_gradients_on_sample_logits_match_finite_differences) {
    enum { S = 3, B = 2, C = 5 };
    float z[S * B * C], dz[S * B * C];
    fill(z, S * B * C, -2.0f, 2.0f, 11);
    const int32_t y[B] = { 1, 4 };
    const nn_attack_loss kinds[] = { NN_LOSS_CE, NN_LOSS_CE_TARGETED, NN_LOSS_DLR, NN_LOSS_MARGIN, NN_LOSS_MARGIN_TARGETED };
    for (int k = 0; k < 5; k++) {
        float l[B], p[B * C];
        nn_attack_loss_grad(z, S, B, C, y, kinds[k], l, dz, p);
        for (int i = 0; i < B; i++) {
            double sp = 0.0;
            for (int c = 0; c < C; c++) sp += (double)p[i * C + c];
            cr_expect_float_eq(sp, 1.0, 1e-6, "probabilities sum to %g", sp);
        }
        for (int j = 0; j < S * B * C; j++) {
            float keep = z[j];
            const float h = 1e-3f;
            z[j] = keep + h;
            double up = loss_sum(z, S, B, C, y, kinds[k]);
            z[j] = keep - h;
            double dn = loss_sum(z, S, B, C, y, kinds[k]);
            z[j] = keep;
            double fd = (up - dn) / (2.0 * (double)h);
            cr_expect(fabs(fd - (double)dz[j]) <= 2e-3 + 2e-3 * fabs(fd), "loss %d, logit %d: fd %g, analytic %g", k, j,
                      fd, (double)dz[j]);
        }
    }
}

Test(attack, mean_softmax_loss_of_one_sample_is_cross_entropy) {
    float z[3] = { 0.5f, -1.0f, 2.0f }, dz[3], l;
    int32_t y = 0;
    nn_attack_loss_grad(z, 1, 1, 3, &y, NN_LOSS_CE, &l, dz, NULL);
    double lse = log(exp(0.5) + exp(-1.0) + exp(2.0));
    cr_expect_float_eq((double)l, lse - 0.5, 1e-6);
    cr_expect_float_eq((double)dz[0], exp(0.5 - lse) - 1.0, 1e-6);
    cr_expect_float_eq((double)dz[2], exp(2.0 - lse), 1e-6);
}

// ---- input gradients through the stochastic layers, with fixed noise ----

/* Compares the input gradient of draw (5, 1) with central differences of the same draw's loss. */
static void check_input_gradient(nn_attack_target *t, int B, nn_attack_loss loss, const char *what) {
    int D = t->dim;
    float *x = malloc(sizeof(float) * (size_t)(B * D)), *g = malloc(sizeof(float) * (size_t)(B * D));
    float l[8], lu[8], ld[8];
    fill(x, B * D, 0.2f, 0.8f, 3);
    int32_t y[8] = { 0, 1, 2, 0, 1, 2, 0, 1 };
    nn_attack_grad_draw(t, x, y, B, loss, 5, 1, l, g, NULL);
    double gmax = 0.0;
    int bad = 0;
    for (int j = 0; j < B * D; j++) {
        float keep = x[j];
        const float h = 1e-3f;
        float *tmp = malloc(sizeof(float) * (size_t)(B * D));
        x[j] = keep + h;
        nn_attack_grad_draw(t, x, y, B, loss, 5, 1, lu, tmp, NULL);
        x[j] = keep - h;
        nn_attack_grad_draw(t, x, y, B, loss, 5, 1, ld, tmp, NULL);
        x[j] = keep;
        free(tmp);
        double fd = 0.0;
        for (int i = 0; i < B; i++) fd += ((double)lu[i] - (double)ld[i]) / (2.0 * (double)h);
        gmax = fmax(gmax, fabs((double)g[j]));
        if (fabs(fd - (double)g[j]) > 3e-3 + 2e-2 * fabs(fd)) {
            bad++;
            cr_log_error("%s: input %d: fd %g, analytic %g", what, j, fd, (double)g[j]);
        }
    }
    cr_expect_eq(bad, 0, "%s: %d mismatches", what, bad);
    cr_expect_gt(gmax, 1e-3, "%s: the gradient is not zero", what);
    free(x);
    free(g);
}

static void grad_case(nn_layer_kind kind, bool train, int samples, nn_attack_loss loss, const char *what) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 8, "fc1"), L(NN_LAYER_TANH, 0, "t1"), L(kind, 6, "z"),
                          L(NN_LAYER_LINEAR, 3, "out") };
    s[2].samples = 1;
    if (kind == NN_LAYER_DROPOUT) s[2].p = 0.3f;
    if (kind == NN_LAYER_NOISE) s[2].std = 0.5f;
    if (kind == NN_LAYER_BERN) {
        s[2].grad = NN_BERN_CONCRETE;
        s[2].temperature = 0.7f;
    }
    nn_model m;
    build(&m, s, 4, 5);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    float a[5] = { 2, 2, 2, 2, 2 }, b[5] = { -1, -1, -1, -1, -1 };     /* pm1 scaling */
    nn_attack_target t = nn_attack_target_make(&m, &c, 5, 3, a, b);
    rt_rng_stream(&t.stream, 1, 2, RT_STREAM_ATTACK);
    t.train = train;
    t.samples = samples;
    check_input_gradient(&t, 3, loss, what);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

Test(attack, input_gradient_through_gauss_with_fixed_noise) {
    grad_case(NN_LAYER_GAUSS, false, 4, NN_LOSS_CE, "gauss, 4 samples, CE");
    grad_case(NN_LAYER_GAUSS, false, 1, NN_LOSS_DLR, "gauss, 1 sample, DLR");
    grad_case(NN_LAYER_GAUSS, true, 0, NN_LOSS_CE_TARGETED, "gauss, training mode, targeted CE");
}

Test(attack, input_gradient_through_noise_dropout_and_concrete) {
    grad_case(NN_LAYER_NOISE, false, 3, NN_LOSS_CE, "noise, 3 samples");
    grad_case(NN_LAYER_NOISE, true, 0, NN_LOSS_CE, "noise, training mode");
    grad_case(NN_LAYER_DROPOUT, true, 0, NN_LOSS_CE, "dropout, training mode");
    grad_case(NN_LAYER_BERN, true, 0, NN_LOSS_CE, "bern concrete, training mode");
}

/* Hard Bernoulli samples make the loss piecewise constant in x: the straight-through gradient is
** checked against its definition, dL/dx = W^T (p (1 - p) * sum_s dL/dz_s), dL/dz_s = W2^T dlogits_s. */
Test(attack, input_gradient_through_bernoulli_is_straight_through) {
    enum { B = 2, D = 4, K = 5, C = 3, M = 3 };
    nn_layer_spec s[] = { L(NN_LAYER_BERN, K, "z"), L(NN_LAYER_LINEAR, C, "out") };
    nn_model m;
    build(&m, s, 2, D);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    nn_attack_target t = nn_attack_target_make(&m, &c, D, C, NULL, NULL);
    t.samples = M;
    float x[B * D], g[B * D];
    fill(x, B * D, 0.0f, 1.0f, 5);
    int32_t y[B] = { 2, 0 };
    nn_attack_grad_draw(&t, x, y, B, NN_LOSS_CE, 0, 0, NULL, g, NULL);
    /* The model saw the batch in a product of P rows, example e at row e (its index mod nn_attack.c's
    ** CHUNK), the other rows copies of the first. */
    const rt_tensor *h = m.layers[0].logits, *out = m.layers[1].y;
    int P = h->shape[0];
    cr_assert(P >= B && out->shape[0] == M * P);
    float *dz = malloc(sizeof(float) * (size_t)(M * P * C));
    int32_t *yp = malloc(sizeof(int32_t) * (size_t)P);
    for (int i = 0; i < P; i++) yp[i] = y[i < B ? i : 0];
    nn_attack_loss_grad(out->data, M, P, C, yp, NN_LOSS_CE, NULL, dz, NULL);
    const float *W = m.layers[0].w->data, *W2 = m.layers[1].w->data;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < D; j++) {
            double want = 0.0;
            for (int k = 0; k < K; k++) {
                double p = 1.0 / (1.0 + exp(-(double)h->data[i * K + k])), dk = 0.0;
                for (int sm = 0; sm < M; sm++)
                    for (int o = 0; o < C; o++) dk += (double)dz[(sm * P + i) * C + o] * (double)W2[o * K + k];
                want += (double)W[k * D + j] * p * (1.0 - p) * dk;
            }
            cr_expect_float_eq((double)g[i * D + j], want, 1e-5 + 1e-4 * fabs(want), "x[%d][%d]", i, j);
        }
    free(dz);
    free(yp);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

Test(attack, eot_with_k_draws_averages_exactly_k_gradients) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 8, "fc1"), L(NN_LAYER_RELU, 0, "r"), L(NN_LAYER_GAUSS, 4, "z"),
                          L(NN_LAYER_LINEAR, 3, "out") };
    nn_model m;
    build(&m, s, 4, 6);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    nn_attack_target t = nn_attack_target_make(&m, &c, 6, 3, NULL, NULL);
    rt_rng_stream(&t.stream, 3, 9, RT_STREAM_ATTACK);
    t.samples = 2;
    enum { B = 3, D = 6, K = 5 };
    float x[B * D], g[B * D], one[B * D], l[B];
    fill(x, B * D, 0.0f, 1.0f, 8);
    int32_t y[B] = { 0, 1, 2 };
    t.eot = K;
    t.calls = 4;
    nn_attack_grad(&t, x, y, B, NN_LOSS_CE, l, g, NULL);
    cr_expect_eq(t.calls, 5u);
    double sum[B * D] = { 0 };
    for (int d = 0; d < K; d++) {
        nn_attack_grad_draw(&t, x, y, B, NN_LOSS_CE, 4, d, NULL, one, NULL);
        for (int j = 0; j < B * D; j++) sum[j] += (double)one[j];
    }
    for (int j = 0; j < B * D; j++) cr_expect_eq(g[j], (float)(sum[j] / K), "input %d", j);
    /* and k draws of a stochastic model differ: one draw alone is not the mean */
    nn_attack_grad_draw(&t, x, y, B, NN_LOSS_CE, 4, 0, NULL, one, NULL);
    int differ = 0;
    for (int j = 0; j < B * D; j++) differ += one[j] != g[j];
    cr_expect_gt(differ, 0);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

// ---- FGSM and PGD ----

/* A linear softmax model z = W a x + W b + c: FGSM's example is clip(x + eps sign(a W^T (p - e_y))). */
Test(attack, fgsm_on_a_linear_softmax_model_equals_the_closed_form) {
    enum { B = 4, D = 7, C = 3 };
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, C, "out") };
    nn_model m;
    build(&m, s, 1, D);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    float a[D], b[D];
    for (int j = 0; j < D; j++) {
        a[j] = 2.0f;
        b[j] = -1.0f;
    }
    nn_attack_target t = nn_attack_target_make(&m, &c, D, C, a, b);
    float x[B * D], xadv[B * D];
    fill(x, B * D, 0.0f, 1.0f, 4);
    x[0] = 1.0f;                                /* on the box's edge: clipping is exercised */
    x[1] = 0.0f;
    int32_t y[B] = { 0, 1, 2, 1 }, tgt[B] = { 2, 2, 0, 0 };
    uint8_t fooled[B];
    const float *W = m.layers[0].w->data, *bias = m.layers[0].b->data;
    for (int targeted = 0; targeted < 2; targeted++) {
        nn_attack_cfg cfg = nn_attack_cfg_default(NN_ATK_FGSM);
        cfg.eps = 0.1f;
        cfg.targeted = targeted;
        nn_attack_run(&t, &cfg, x, y, tgt, B, NULL, xadv, fooled);
        for (int i = 0; i < B; i++) {
            double z[C], mx = -1e30, se = 0.0;
            for (int o = 0; o < C; o++) {
                z[o] = (double)bias[o];
                for (int j = 0; j < D; j++) z[o] += (double)W[o * D + j] * (2.0 * (double)x[i * D + j] - 1.0);
                mx = fmax(mx, z[o]);
            }
            for (int o = 0; o < C; o++) se += exp(z[o] - mx);
            int lab = targeted ? tgt[i] : y[i];
            for (int j = 0; j < D; j++) {
                double gj = 0.0;            /* d CE(lab) / dx_j */
                for (int o = 0; o < C; o++) gj += 2.0 * (double)W[o * D + j] * (exp(z[o] - mx) / se - (o == lab));
                if (targeted) gj = -gj;
                double want = (double)x[i * D + j] + 0.1 * (gj > 0 ? 1 : gj < 0 ? -1 : 0);
                want = fmin(1.0, fmax(0.0, want));
                cr_expect_float_eq((double)xadv[i * D + j], want, 1e-6, "targeted %d, x[%d][%d]", targeted, i, j);
            }
        }
    }
    rt_ctx_free(&c);
    nn_model_free(&m);
}

Test(attack, pgd_and_apgd_never_leave_the_ball_or_the_box) {
    enum { B = 6, D = 10, C = 4 };
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 16, "fc1"), L(NN_LAYER_RELU, 0, "r"), L(NN_LAYER_GAUSS, 4, "z"),
                          L(NN_LAYER_LINEAR, C, "out") };
    nn_model m;
    build(&m, s, 4, D);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    nn_attack_target t = nn_attack_target_make(&m, &c, D, C, NULL, NULL);
    rt_rng_stream(&t.stream, 1, 1, RT_STREAM_ATTACK);
    t.samples = 3;
    t.eot = 2;
    float x[B * D], xadv[B * D];
    fill(x, B * D, 0.0f, 1.0f, 6);
    for (int j = 0; j < D; j++) x[j] = j % 2 ? 1.0f : 0.0f;         /* an image on the box's corners */
    int32_t y[B] = { 0, 1, 2, 3, 0, 1 };
    uint8_t fooled[B], active[B] = { 1, 1, 0, 1, 1, 1 };
    const nn_attack_norm norms[] = { NN_NORM_LINF, NN_NORM_L2, NN_NORM_LINF, NN_NORM_L2 };
    const float eps[] = { 0.05f, 0.5f, 0.05f, 0.5f };
    for (int k = 0; k < 4; k++) {
        nn_attack_cfg cfg = nn_attack_cfg_default(k < 2 ? NN_ATK_PGD : NN_ATK_APGD);
        cfg.norm = norms[k];
        cfg.eps = eps[k];
        cfg.loss = k == 3 ? NN_LOSS_DLR : NN_LOSS_CE;
        cfg.steps = 15;
        cfg.restarts = 2;
        cfg.step = eps[k];                      /* large steps: the projection does the work */
        nn_attack_run(&t, &cfg, x, y, NULL, B, active, xadv, fooled);
        for (int i = 0; i < B; i++) {
            double l2 = 0.0, linf = 0.0;
            for (int j = 0; j < D; j++) {
                float v = xadv[i * D + j];
                cr_expect(v >= 0.0f && v <= 1.0f, "norm %d: x[%d][%d] = %g outside [0, 1]", k, i, j, (double)v);
                double d = (double)v - (double)x[i * D + j];
                l2 += d * d;
                linf = fmax(linf, fabs(d));
            }
            double r = norms[k] == NN_NORM_L2 ? sqrt(l2) : linf;
            cr_expect_leq(r, (double)eps[k] * (1.0 + 1e-6), "norm %d: example %d at %g > eps %g", k, i, r, (double)eps[k]);
            if (!active[i]) {
                cr_expect_eq(r, 0.0, "an inactive example is left as it is");
                cr_expect_eq(fooled[i], 0);
            }
        }
    }
    rt_ctx_free(&c);
    nn_model_free(&m);
}

/* An example's attack (model noise, random start) depends on its index in the data set, not on
** the batch it is attacked in: PGD and APGD on a stochastic model give each example of a batch of 9
** (some inactive, so that the batch is compacted) the bytes it gets attacked alone. */
Test(attack, an_examples_attack_does_not_depend_on_its_batch) {
    enum { B = 9, D = 12, C = 4 };
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 16, "fc1"), L(NN_LAYER_RELU, 0, "r"), L(NN_LAYER_GAUSS, 6, "z"),
                          L(NN_LAYER_LINEAR, C, "out") };
    nn_model m;
    build(&m, s, 4, D);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    nn_attack_target t = nn_attack_target_make(&m, &c, D, C, NULL, NULL);
    rt_rng_stream(&t.stream, 3, 0, RT_STREAM_ATTACK);
    t.samples = 3;
    t.eot = 2;
    float x[B * D], xadv[B * D], one[D];
    fill(x, B * D, 0.0f, 1.0f, 8);
    int32_t y[B] = { 0, 1, 2, 3, 0, 1, 2, 3, 0 };
    uint8_t fooled[B], f1, active[B] = { 1, 0, 1, 1, 0, 1, 1, 1, 0 };
    for (int k = 0; k < 3; k++) {
        nn_attack_cfg cfg = nn_attack_cfg_default(k == 2 ? NN_ATK_APGD : NN_ATK_PGD);
        cfg.norm = k == 1 ? NN_NORM_L2 : NN_NORM_LINF;
        cfg.eps = k == 1 ? 0.8f : 0.1f;
        cfg.steps = 6;
        cfg.restarts = 2;
        t.example0 = 100;
        t.calls = 0;
        nn_attack_run(&t, &cfg, x, y, NULL, B, active, xadv, fooled);
        for (int i = 0; i < B; i++) {
            if (!active[i]) continue;
            t.example0 = 100 + i;
            t.calls = 0;
            nn_attack_run(&t, &cfg, x + i * D, y + i, NULL, 1, NULL, one, &f1);
            cr_expect_eq(memcmp(one, xadv + i * D, sizeof one), 0, "attack %d: example %d differs alone", k, i);
            cr_expect_eq(f1, fooled[i], "attack %d: example %d", k, i);
        }
    }
    rt_ctx_free(&c);
    nn_model_free(&m);
}

// ---- Carlini-Wagner L2 ----

/* The margin of a one-sample prediction is the logit margin: u is the logits less their logsumexp. */
Test(attack, cw_margin_is_the_logit_margin) {
    float z[4] = { 0.5f, 2.0f, -1.0f, 1.5f }, l[1];
    int32_t y = 3;
    nn_attack_loss_grad(z, 1, 1, 4, &y, NN_LOSS_MARGIN, l, NULL, NULL);
    cr_expect_float_eq((double)l[0], 1.5 - 2.0, 1e-6);
    y = 0;
    nn_attack_loss_grad(z, 1, 1, 4, &y, NN_LOSS_MARGIN_TARGETED, l, NULL, NULL);
    cr_expect_float_eq((double)l[0], 2.0 - 0.5, 1e-6);
}

/* The search over c: up by 10 until a success gives an upper bound, then bisection; a success
** lowers c, a failure raises it. */
Test(attack, cw_binary_search_lowers_c_after_success) {
    double c = 1e-3, lo = 0.0, hi = 1e10;
    nn_cw_search(false, &c, &lo, &hi);
    cr_expect_float_eq(c, 1e-2, 1e-15);
    nn_cw_search(false, &c, &lo, &hi);
    cr_expect_float_eq(c, 1e-1, 1e-15);
    nn_cw_search(true, &c, &lo, &hi);              /* success at 0.1: between 0.01 and 0.1 */
    cr_expect_float_eq(c, 0.055, 1e-15);
    cr_expect_float_eq(hi, 0.1, 1e-15);
    double before = c;
    nn_cw_search(true, &c, &lo, &hi);
    cr_expect_lt(c, before, "a success lowers c");
    cr_expect_float_eq(c, 0.0325, 1e-15);
    before = c;
    nn_cw_search(false, &c, &lo, &hi);
    cr_expect_gt(c, before, "a failure raises c");
    cr_expect_float_eq(c, 0.5 * (0.0325 + 0.055), 1e-15);
    c = 5.0, lo = 0.0, hi = 1e10;
    nn_cw_search(true, &c, &lo, &hi);              /* a first success halves c */
    cr_expect_float_eq(c, 2.5, 1e-15);
}

/* On a linear softmax model z = W x + b the smallest L2 perturbation that changes the class is
** closed-form: min over k != y of (z_y - z_k) / |w_y - w_k| (the distance to the nearest of the
** half-spaces z_k >= z_y), and toward a target t the distance to z_t = z_y where the projection
** there is classified as t. C&W (kappa 0, from c = 1e-3) finds a successful example of L2 at least
** that (it cannot do better) and within 3% of it, where the distance is at least 0.02: Adam's step of
** 0.01 on w moves a pixel by up to 0.005, which does not resolve an example closer to the boundary
** (one here is 0.0036 away; C&W gets 0.0042). */
Test(attack, cw_l2_on_a_linear_model_is_within_3_percent_of_the_closed_form) {
    enum { B = 8, D = 10, C = 3 };
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, C, "out") };
    nn_model m;
    build(&m, s, 1, D);
    float *W = m.layers[0].w->data, *bias = m.layers[0].b->data;
    for (int q = 0; q < C * D; q++) W[q] *= 4.0f;      /* margins small against the box */
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    nn_attack_target t = nn_attack_target_make(&m, &c, D, C, NULL, NULL);
    float x[B * D], xadv[B * D];
    fill(x, B * D, 0.35f, 0.65f, 12);
    int32_t y[B], tgt[B];
    double want[2][B];
    int exact[2] = { 0, 0 };
    for (int i = 0; i < B; i++) {
        double z[C];
        for (int o = 0; o < C; o++) {
            z[o] = (double)bias[o];
            for (int j = 0; j < D; j++) z[o] += (double)W[o * D + j] * (double)x[i * D + j];
        }
        y[i] = z[0] >= z[1] && z[0] >= z[2] ? 0 : z[1] >= z[2] ? 1 : 2;
        tgt[i] = (y[i] + 1) % C;
        want[0][i] = want[1][i] = (double)INFINITY;
        for (int k = 0; k < C; k++) {
            if (k == y[i]) continue;
            double nw = 0.0;
            for (int j = 0; j < D; j++) nw += pow((double)W[y[i] * D + j] - (double)W[k * D + j], 2.0);
            double d = (z[y[i]] - z[k]) / sqrt(nw);
            want[0][i] = fmin(want[0][i], d);
            if (k != tgt[i]) continue;
            /* the projection onto z_t = z_y: classified as t there when the third class is below */
            int third = 3 - y[i] - k;
            double zt = z[k], z3 = z[third], step = (z[y[i]] - z[k]) / nw;
            for (int j = 0; j < D; j++) {
                double dir = (double)W[y[i] * D + j] - (double)W[k * D + j];
                zt += (double)W[k * D + j] * -step * dir;
                z3 += (double)W[third * D + j] * -step * dir;
                cr_assert((double)x[i * D + j] - step * dir > 0.0 && (double)x[i * D + j] - step * dir < 1.0, "inside the box");
            }
            if (zt > z3) want[1][i] = d;
        }
        exact[0]++;
        exact[1] += want[1][i] < (double)INFINITY;
    }
    cr_assert_geq(exact[1], 2, "examples with a closed-form targeted distance");
    for (int targeted = 0; targeted < 2; targeted++) {
        nn_attack_cfg cfg = nn_attack_cfg_default(NN_ATK_CW);
        cfg.targeted = targeted;
        uint8_t fooled[B];
        int checked = 0;
        nn_attack_run(&t, &cfg, x, y, tgt, B, NULL, xadv, fooled);
        for (int i = 0; i < B; i++) {
            cr_expect(fooled[i], "targeted %d: example %d not fooled", targeted, i);
            if (!(want[targeted][i] < (double)INFINITY) || want[targeted][i] < 0.02) continue;
            checked++;
            double l2 = 0.0;
            for (int j = 0; j < D; j++) l2 += pow((double)xadv[i * D + j] - (double)x[i * D + j], 2.0);
            l2 = sqrt(l2);
            cr_expect_geq(l2, want[targeted][i] * (1.0 - 1e-5), "targeted %d, example %d: %g below the minimum %g",
                          targeted, i, l2, want[targeted][i]);
            cr_expect_leq(l2, want[targeted][i] * 1.03, "targeted %d, example %d: %g against the minimum %g", targeted,
                          i, l2, want[targeted][i]);
            cr_log_info("targeted %d, example %d: C&W %.6f, closed form %.6f", targeted, i, l2, want[targeted][i]);
        }
        cr_expect_geq(checked, 5, "targeted %d: %d examples checked", targeted, checked);
    }
    rt_ctx_free(&c);
    nn_model_free(&m);
}

/* Croce & Hein (2020), section 3.2: p_0 = 0, p_1 = 0.22, p_j = p_{j-1} + max(p_{j-1} - p_{j-2} - 0.03,
** 0.06), w_j = ceil(p_j N): for N = 100, p = 0, .22, .41, .57, .70, .80, .87, .93, .99 (the next, 1.05,
** is past the end). */
Test(attack, apgd_checkpoints_match_the_paper) {
    int w[64];
    const int want[] = { 0, 22, 41, 57, 70, 80, 87, 93, 99 };
    int n = nn_apgd_checkpoints(100, w, 64);
    cr_assert_eq(n, 9);
    for (int i = 0; i < n; i++) cr_expect_eq(w[i], want[i], "w_%d = %d, want %d", i, w[i], want[i]);
    const int want10[] = { 0, 3, 5, 6, 7, 8, 9, 10 };     /* ceil of 2.2, 4.1, 5.7, 7.0, 8.0, 8.7, 9.3, 9.9 */
    n = nn_apgd_checkpoints(10, w, 64);
    cr_assert_eq(n, 9);
    for (int i = 0; i < 8; i++) cr_expect_eq(w[i], want10[i], "N = 10: w_%d = %d, want %d", i, w[i], want10[i]);
}

/* PGD, APGD-CE and APGD-DLR fool a linear model on some examples (eps 0.5), and each one's own check
** agrees with a prediction of the example it returns. */
Test(attack, pgd_and_apgd_fool_a_linear_model_and_the_check_agrees) {
    enum { B = 8, D = 6, C = 3 };
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, C, "out") };
    nn_model m;
    build(&m, s, 1, D);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    nn_attack_target t = nn_attack_target_make(&m, &c, D, C, NULL, NULL);
    float x[B * D], xadv[B * D], p[B * C];
    fill(x, B * D, 0.3f, 0.7f, 9);
    int32_t y[B];
    nn_attack_predict(&t, x, B, p);
    for (int i = 0; i < B; i++) {               /* labels: the model's own predictions */
        y[i] = 0;
        for (int k = 1; k < C; k++)
            if (p[i * C + k] > p[i * C + y[i]]) y[i] = k;
    }
    for (int l = 0; l < 3; l++) {
        uint8_t fooled[B];
        nn_attack_cfg cfg = nn_attack_cfg_default(l ? NN_ATK_APGD : NN_ATK_PGD);
        cfg.eps = 0.5f;
        cfg.steps = 20;
        cfg.loss = l == 2 ? NN_LOSS_DLR : NN_LOSS_CE;
        nn_attack_run(&t, &cfg, x, y, NULL, B, NULL, xadv, fooled);
        nn_attack_predict(&t, xadv, B, p);
        int nf = 0;
        for (int i = 0; i < B; i++) {
            int k = 0;
            for (int q = 1; q < C; q++)
                if (p[i * C + q] > p[i * C + k]) k = q;
            cr_expect_eq(fooled[i], k != y[i], "attack %d, example %d: fooled %d, predicted %d, label %d", l, i,
                         fooled[i], k, y[i]);
            nf += fooled[i];
        }
        cr_expect_gt(nf, 0, "attack %d with eps 0.5 fools a linear model on some example", l);
    }
    rt_ctx_free(&c);
    nn_model_free(&m);
}

/* A VIB with samples is randomized and has gradients; the same model with its mean (no samples) is not
** randomized; a linear model whose logits differ by hundreds saturates the softmax in float, so its
** input gradient is exactly zero. */
Test(attack, checks_flag_randomized_and_saturated_models) {
    enum { B = 4, D = 5, C = 3 };
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 8, "fc1"), L(NN_LAYER_GAUSS, 4, "z"), L(NN_LAYER_LINEAR, C, "out") };
    nn_model m;
    build(&m, s, 3, D);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    nn_attack_target t = nn_attack_target_make(&m, &c, D, C, NULL, NULL);
    rt_rng_stream(&t.stream, 1, 0, RT_STREAM_ATTACK);
    float x[B * D];
    fill(x, B * D, 0.0f, 1.0f, 2);
    int32_t y[B] = { 0, 1, 2, 0 };
    bool randomized;
    int zero;
    t.samples = 3;
    nn_attack_checks(&t, x, y, B, &randomized, &zero);
    cr_expect(randomized, "3 samples of a gauss layer: two predictions differ");
    cr_expect_eq(zero, 0);
    t.samples = 0;
    nn_attack_checks(&t, x, y, B, &randomized, &zero);
    cr_expect(!randomized, "the mean of z: deterministic");
    rt_ctx_free(&c);
    nn_model_free(&m);

    nn_layer_spec l[] = { L(NN_LAYER_LINEAR, C, "out") };
    build(&m, l, 1, D);
    rt_ctx_init(&c, 1 << 16);
    t = nn_attack_target_make(&m, &c, D, C, NULL, NULL);
    nn_attack_checks(&t, x, y, B, &randomized, &zero);
    cr_expect_eq(zero, 0, "a linear model of small weights has gradients");
    float *w = m.layers[0].w->data, *bias = m.layers[0].b->data;
    for (int k = 0; k < C * D; k++) w[k] = 0.0f;
    for (int k = 0; k < C; k++) bias[k] = 0.0f;
    for (int i = 0; i < B; i++) y[i] = 0;
    bias[0] = 500.0f;                           /* class 0 by a margin of 500 logits */
    w[1 * D + 2] = 1.0f;                        /* and the others depend on the input */
    nn_attack_checks(&t, x, y, B, &randomized, &zero);
    cr_expect_eq(zero, B, "a saturated softmax: %d of %d gradients zero", zero, B);
    cr_expect(!randomized);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

// ---- the scaling ----

Test(attack, scaling_maps_pixels_to_the_data_sets_scale) {
    nn_dataset d;
    memset(&d, 0, sizeof d);
    d.n = 3;
    d.dim = 2;
    d.ndim = 1;
    d.shape[0] = 2;
    d.shape[1] = d.shape[2] = 1;
    float raw[6] = { 0, 10, 255, 20, 51, 30 };
    d.x = raw;
    float a[2], b[2];
    nn_attack_scaling(&d, NN_SCALE_PM1, a, b);
    cr_expect_float_eq((double)a[0], 2.0, 1e-6);
    cr_expect_float_eq((double)b[0], -1.0, 1e-6);
    float raw2[6] = { 0, 10, 255, 20, 51, 30 };
    d.x = raw2;
    nn_attack_scaling(&d, NN_SCALE_STANDARDIZE, a, b);
    /* feature 0: mean 102, population std; pixel p -> (255 p - 102) / std */
    double m0 = 102.0, sd0 = sqrt(((102.0 * 102.0) + (153.0 * 153.0) + (51.0 * 51.0)) / 3.0);
    cr_expect_float_eq((double)a[0], 255.0 / sd0, 1e-4);
    cr_expect_float_eq((double)b[0], -m0 / sd0, 1e-5);
}

// ---- targeted APGD-DLR (APGD-T) and C&W with EOT ----

static double loss_sum_to(const float *z, int S, int B, int C, const int32_t *y, const int32_t *tg) {
    float l[8];
    nn_attack_loss_grad_to(z, S, B, C, y, tg, NN_LOSS_DLR_TARGETED, l, NULL, NULL);
    double s = 0.0;
    for (int i = 0; i < B; i++) s += (double)l[i];
    return s;
}

/* The targeted DLR of one sample is -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12) on the logits
** (u is z up to a shift, which the ratio does not see), and its gradient on the sample logits of the
** mean softmax matches central differences, for 5 classes and for 3 (pi4 = pi3). */
Test(attack, targeted_dlr_loss_and_gradient_match_finite_differences) {
    float z1[5] = { 0.5f, 2.0f, -1.0f, 1.5f, 0.25f }, l1;
    int32_t y1 = 3, t1 = 0;
    nn_attack_loss_grad_to(z1, 1, 1, 5, &y1, &t1, NN_LOSS_DLR_TARGETED, &l1, NULL, NULL);
    /* sorted: 2.0, 1.5, 0.5, 0.25, -1.0 */
    cr_expect_float_eq((double)l1, -(1.5 - 0.5) / (2.0 - 0.5 * (0.5 + 0.25) + 1e-12), 1e-6, "%g", (double)l1);
    for (int C = 5; C >= 3; C -= 2) {
        enum { S = 3, B = 2 };
        float z[S * B * 5], dz[S * B * 5];
        fill(z, S * B * C, -2.0f, 2.0f, 13);
        const int32_t y[B] = { 1, 2 }, tg[B] = { 2, 0 };
        float l[B];
        nn_attack_loss_grad_to(z, S, B, C, y, tg, NN_LOSS_DLR_TARGETED, l, dz, NULL);
        for (int j = 0; j < S * B * C; j++) {
            float keep = z[j];
            const float h = 1e-3f;
            z[j] = keep + h;
            double up = loss_sum_to(z, S, B, C, y, tg);
            z[j] = keep - h;
            double dn = loss_sum_to(z, S, B, C, y, tg);
            z[j] = keep;
            double fd = (up - dn) / (2.0 * (double)h);
            cr_expect(fabs(fd - (double)dz[j]) <= 2e-3 + 2e-3 * fabs(fd), "C %d, logit %d: fd %g, analytic %g", C, j, fd,
                      (double)dz[j]);
        }
    }
}

/* The input gradient of the targeted DLR through a Gaussian layer with fixed noise (targets: the
** class after the label). */
Test(attack, input_gradient_of_targeted_dlr_through_gauss) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 8, "fc1"), L(NN_LAYER_TANH, 0, "t1"), L(NN_LAYER_GAUSS, 6, "z"),
                          L(NN_LAYER_LINEAR, 4, "out") };
    s[2].samples = 1;
    nn_model m;
    build(&m, s, 4, 5);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    nn_attack_target t = nn_attack_target_make(&m, &c, 5, 4, NULL, NULL);
    rt_rng_stream(&t.stream, 1, 2, RT_STREAM_ATTACK);
    t.samples = 3;
    const int32_t tg[8] = { 1, 2, 3, 1, 2, 3, 1, 2 };     /* check_input_gradient's labels + 1 */
    t.target = tg;
    check_input_gradient(&t, 3, NN_LOSS_DLR_TARGETED, "gauss, 3 samples, targeted DLR");
    rt_ctx_free(&c);
    nn_model_free(&m);
}

/* A linear softmax model of 5 classes, eps 0.3: where untargeted APGD-DLR changes an example's class,
** targeted APGD-DLR toward the class it reached gets there (the check: predicted == target),
** APGD-T over the 4 other classes breaks every example the untargeted attack broke. */
Test(attack, apgd_targeted_dlr_reaches_the_target_where_the_untargeted_attack_succeeds) {
    enum { B = 12, D = 8, C = 5 };
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, C, "out") };
    nn_model m;
    build(&m, s, 1, D);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    nn_attack_target t = nn_attack_target_make(&m, &c, D, C, NULL, NULL);
    float x[B * D], xadv[B * D], p[B * C];
    fill(x, B * D, 0.3f, 0.7f, 21);
    int32_t y[B], reached[B];
    nn_attack_predict(&t, x, B, p);
    for (int i = 0; i < B; i++) {
        y[i] = 0;
        for (int k = 1; k < C; k++)
            if (p[i * C + k] > p[i * C + y[i]]) y[i] = k;
    }
    nn_attack_cfg cfg = nn_attack_cfg_default(NN_ATK_APGD);
    cfg.eps = 0.15f;
    cfg.steps = 30;
    cfg.loss = NN_LOSS_DLR;
    uint8_t fooled[B], hit[B], topk[B];
    nn_attack_run(&t, &cfg, x, y, NULL, B, NULL, xadv, fooled);
    nn_attack_predict(&t, xadv, B, p);
    int nf = 0;
    for (int i = 0; i < B; i++) {
        reached[i] = 0;
        for (int k = 1; k < C; k++)
            if (p[i * C + k] > p[i * C + reached[i]]) reached[i] = k;
        nf += fooled[i];
    }
    cr_assert_gt(nf, 2, "the untargeted attack fools %d examples", nf);
    cr_assert_lt(nf, B, "and not all");
    nn_attack_cfg tc = cfg;
    tc.targeted = true;
    nn_attack_run(&t, &tc, x, y, reached, B, fooled, xadv, hit);
    nn_attack_predict(&t, xadv, B, p);
    for (int i = 0; i < B; i++) {
        if (!fooled[i]) {
            cr_expect_eq(hit[i], 0, "example %d was not attacked", i);
            continue;
        }
        int k = 0;
        for (int q = 1; q < C; q++)
            if (p[i * C + q] > p[i * C + k]) k = q;
        cr_expect(hit[i], "example %d: the targeted attack did not reach class %d", i, reached[i]);
        cr_expect_eq(k, reached[i], "example %d: predicted %d, target %d", i, k, reached[i]);
    }
    tc.targets = C - 1;
    nn_attack_run(&t, &tc, x, y, NULL, B, NULL, xadv, topk);
    nn_attack_predict(&t, xadv, B, p);
    cr_expect_str_eq(nn_attack_cfg_name(&tc), "apgd_t");
    for (int i = 0; i < B; i++) {
        int k = 0;
        for (int q = 1; q < C; q++)
            if (p[i * C + q] > p[i * C + k]) k = q;
        cr_expect_eq(topk[i], k != y[i], "APGD-T, example %d: fooled %d, predicted %d, label %d", i, topk[i], k, y[i]);
        if (fooled[i]) cr_expect(topk[i], "APGD-T leaves example %d that APGD-DLR broke", i);
    }
    rt_ctx_free(&c);
    nn_model_free(&m);
}

/* APGD-T goes down its list of targets, best-ranked first. Linear models z = W x + b with logits
** (0, -0.5, -1, -5) at x = (0.5, 0.5), eps 0.1, from x itself (no random start). First model: class 1
** (ranked second) is out of reach (|w_1 - w_0| small: x_0 would have to move by 0.5), class 2 within
** it (eps moves z_2 by 2): one target does not break the example, two do, and it is then classified
** as class 2. Second model: classes 1 (through x_0) and 3 (through x_1) both within reach: one
** target breaks the example as class 1, the top-ranked one. */
Test(attack, apgd_t_tries_the_targets_in_the_order_of_the_clean_prediction) {
    const float W[2][8] = { { 0, 0, 1, 0, 10, 10, 0, 0 }, { 0, 0, 20, 0, 1, 0, 0, 80 } };
    const float bias[2][4] = { { 0, -1, -11, -5 }, { 0, -10.5f, -1.5f, -45 } };
    const int want[2][2] = { { 0, 2 }, { 1, 1 } };  /* class after 1 and after 2 targets */
    for (int v = 0; v < 2; v++) {
        nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 4, "out") };
        nn_model m;
        build(&m, s, 1, 2);
        memcpy(m.layers[0].w->data, W[v], sizeof W[v]);
        memcpy(m.layers[0].b->data, bias[v], sizeof bias[v]);
        rt_ctx c;
        rt_ctx_init(&c, 1 << 16);
        nn_attack_target t = nn_attack_target_make(&m, &c, 2, 4, NULL, NULL);
        float x[2] = { 0.5f, 0.5f }, xadv[2], p[4];
        int32_t y = 0;
        nn_attack_cfg cfg = nn_attack_cfg_default(NN_ATK_APGD);
        cfg.eps = 0.1f;
        cfg.steps = 20;
        cfg.loss = NN_LOSS_DLR;
        cfg.targeted = true;
        cfg.random_start = false;
        uint8_t fooled;
        for (int k = 1; k <= 2; k++) {
            cfg.targets = k;
            nn_attack_run(&t, &cfg, x, &y, NULL, 1, NULL, xadv, &fooled);
            nn_attack_predict(&t, xadv, 1, p);
            int cls = 0;
            for (int q = 1; q < 4; q++)
                if (p[q] > p[cls]) cls = q;
            cr_expect_eq(fooled, want[v][k - 1] != 0, "model %d, %d targets: fooled %d", v, k, fooled);
            cr_expect_eq(cls, want[v][k - 1], "model %d, %d targets: classified as %d", v, k, cls);
        }
        rt_ctx_free(&c);
        nn_model_free(&m);
    }
}

/* C&W (kappa 0.5) on a randomized model (a Gaussian layer, 4 samples per prediction): each example
** C&W reports fooled is predicted again 8 times with fresh noise, each prediction the mean softmax of
** 64 samples. With one draw per step (the paper's protocol) a success can be that draw's luck; with
** EOT over 16 draws, success judged on their mean predictive, the reported successes survive the
** re-evaluation (measured: 0.245 of one draw's, 1.0 of EOT's). With kappa 0 both sit on the boundary
** of their estimate of the predictive, where a new prediction falls either way (0 and 0.18). */
Test(attack, cw_with_eot_successes_survive_reevaluation_more_often) {
    enum { B = 24, D = 6, C = 3, R = 8 };
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 8, "fc1"), L(NN_LAYER_GAUSS, 4, "z"), L(NN_LAYER_LINEAR, C, "out") };
    nn_model m;
    build(&m, s, 3, D);
    for (int q = 0; q < 8 * D; q++) m.layers[0].w->data[q] *= 6.0f;    /* means that move with x */
    rt_ctx c;
    rt_ctx_init(&c, 1 << 18);
    nn_attack_target t = nn_attack_target_make(&m, &c, D, C, NULL, NULL);
    rt_rng_stream(&t.stream, 5, 0, RT_STREAM_ATTACK);
    float x[B * D], xadv[B * D], p[B * C];
    fill(x, B * D, 0.2f, 0.8f, 31);
    int32_t y[B];
    t.samples = 256;
    nn_attack_predict(&t, x, B, p);
    for (int i = 0; i < B; i++) {
        y[i] = 0;
        for (int k = 1; k < C; k++)
            if (p[i * C + k] > p[i * C + y[i]]) y[i] = k;
    }
    double rate[2];
    int nfooled[2];
    const int eot[2] = { 1, 16 };
    for (int v = 0; v < 2; v++) {
        nn_attack_cfg cfg = nn_attack_cfg_default(NN_ATK_CW);
        cfg.steps = 100;
        cfg.search = 4;
        cfg.c0 = 0.1f;
        cfg.lr = 0.05f;
        cfg.eot = eot[v];
        cfg.kappa = 0.5f;
        uint8_t fooled[B];
        t.samples = 4;
        t.calls = 0;
        nn_attack_run(&t, &cfg, x, y, NULL, B, NULL, xadv, fooled);
        t.samples = 64;
        int kept = 0, total = 0;
        for (int r = 0; r < R; r++) {
            nn_attack_predict(&t, xadv, B, p);
            for (int i = 0; i < B; i++) {
                if (!fooled[i]) continue;
                int k = 0;
                for (int q = 1; q < C; q++)
                    if (p[i * C + q] > p[i * C + k]) k = q;
                kept += k != y[i];
                total++;
            }
        }
        nfooled[v] = total / R;
        rate[v] = total ? (double)kept / total : 0.0;
        cr_log_info("C&W eot %d: %d reported fooled, %.3f of re-evaluations still fooled", eot[v], nfooled[v], rate[v]);
    }
    cr_expect_geq(nfooled[0], 5, "one draw: %d successes", nfooled[0]);
    cr_expect_geq(nfooled[1], 5, "EOT: %d successes", nfooled[1]);
    cr_expect_gt(rate[1], rate[0] + 0.3, "EOT's successes survive at %.3f, one draw's at %.3f", rate[1], rate[0]);
    cr_expect_geq(rate[1], 0.9, "EOT's successes survive at %.3f", rate[1]);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

// ---- the attack block of a run ----

/* attack_tiny.lua trains a small VIB on 600 Fashion-MNIST images and attacks 40 test images: every
** row of attack.csv is there, result.csv and summary.csv carry the robust accuracies, and a second
** run gives the same bytes. */
Test(attack, attack_block_writes_attack_csv_and_reruns_byte_identical) {
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!f) tu_skip("dataset-fashion-mnist not installed");
    fclose(f);
    const char *dir = tu_tmpdir("attack_block");
    char cmd[4096], out[8192], pdir[2][64];
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --quiet --out r%d '%s/tests/lua/attack_tiny.lua' 2>&1", dir,
                 tu_vibrun(), k, tu_source_dir());
        cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    }
    char exp[2][1200], path[2][2400];
    for (int k = 0; k < 2; k++) {
        snprintf(exp[k], sizeof exp[k], "%s/r%d/attack_tiny", dir, k);
        cr_assert_eq(tu_point_dirs(exp[k], &pdir[k], 1), 1);
        snprintf(path[k], sizeof path[k], "%s/%s/attack.csv", exp[k], pdir[k]);
    }
    tu_expect_same_file(path[0], path[1]);
    char *csv = tu_read_file(path[0], NULL);
    cr_assert_not_null(csv);
    cr_expect_not_null(strstr(csv, "attack,protocol,norm,eps,targeted,n,clean_acc,robust_acc,success_rate,"));
    int rows = 0;
    for (char *c = csv; *c; c++) rows += *c == '\n';
    cr_expect_eq(rows, 8, "a header and 7 rows (fgsm x 2 eps, targeted fgsm, pgd linf, pgd l2, apgd_ce, auto):\n%s", csv);
    cr_expect_not_null(strstr(csv, "\napgd_ce,adaptive,linf,0.1,0,40,"), "%s", csv);
    cr_expect_not_null(strstr(csv, "\nauto,adaptive,linf,0.1,0,40,"), "%s", csv);
    cr_expect_not_null(strstr(csv, "\nfgsm,paper,linf,0.05,0,40,"), "%s", csv);
    cr_expect_not_null(strstr(csv, "\npgd,paper,l2,1,0,40,"), "%s", csv);
    free(csv);
    for (int k = 0; k < 2; k++) snprintf(path[k], sizeof path[k], "%s/results.csv", exp[k]);
    tu_expect_same_file(path[0], path[1]);
    char *res = tu_read_file(path[0], NULL);
    cr_expect_not_null(strstr(res, ",robust_acc_fgsm_linf_eps0.05,robust_acc_fgsm_linf_eps0.2,"
                                   "robust_acc_fgsm_targeted_linf_eps0.1,robust_acc_pgd_linf_eps0.1,robust_acc_pgd_l2_eps1,"
                                   "robust_acc_apgd_ce_linf_eps0.1,robust_acc_auto_linf_eps0.1\n"),
                       "%s", res);
    free(res);
    snprintf(path[0], sizeof path[0], "%s/summary.csv", exp[0]);
    char *sum = tu_read_file(path[0], NULL);
    cr_expect_not_null(strstr(sum, "robust_acc_pgd_linf_eps0.1_mean,robust_acc_pgd_linf_eps0.1_sd,robust_acc_pgd_linf_eps0.1_ci95"),
                       "%s", sum);
    free(sum);
    /* seconds are kept apart, in attack_timing.csv */
    snprintf(path[0], sizeof path[0], "%s/%s/attack_timing.csv", exp[0], pdir[0]);
    char *tm = tu_read_file(path[0], NULL);
    cr_expect_not_null(tm);
    cr_expect_not_null(strstr(tm, "attack,protocol,norm,eps,seconds\n"));
    free(tm);
}

/* Each example's attack noise (its model noise, its random starts) comes from its index in the test
** set and each phase of a batch starts at a fixed call: the attack batch (7, so that fooled examples
** leave batches of different make-up, or 64) changes no byte of attack.csv. */
Test(attack, attack_csv_does_not_depend_on_the_attack_batch) {
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!f) tu_skip("dataset-fashion-mnist not installed");
    fclose(f);
    const char *dir = tu_tmpdir("attack_batch");
    const int batch[2] = { 7, 64 };
    char cmd[4096], out[8192], pdir[2][64], exp[2][1200], path[2][2400];
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --quiet --out b%d --set ab=%d '%s/tests/lua/attack_batch.lua' 2>&1",
                 dir, tu_vibrun(), batch[k], batch[k], tu_source_dir());
        cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
        snprintf(exp[k], sizeof exp[k], "%s/b%d/attack_batch", dir, batch[k]);
        cr_assert_eq(tu_point_dirs(exp[k], &pdir[k], 1), 1);
        snprintf(path[k], sizeof path[k], "%s/%s/attack.csv", exp[k], pdir[k]);
    }
    tu_expect_same_file(path[0], path[1]);
}

/* robust_fashion.lua's quick setting (the one CI runs): every point of the sweep writes attack.csv
** with both protocols, and the two figures are drawn. */
Test(attack, robust_fashion_quick_attacks_every_point_and_draws_the_figures) {
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!f) tu_skip("dataset-fashion-mnist not installed");
    fclose(f);
    const char *dir = tu_tmpdir("robust_fashion");
    char cmd[4096], out[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --quiet --set quick=true --set epochs=1 '%s/experiments/robust_fashion.lua' 2>&1",
             dir, tu_vibrun(), tu_source_dir());
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    char exp[1200], names[16][64], path[2400];
    snprintf(exp, sizeof exp, "%s/runs/robust_fashion", dir);
    int n = tu_point_dirs(exp, names, 16);
    cr_assert_eq(n, 8, "det, dropout and six betas: %d points", n);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/attack.csv", exp, names[i]);
        char *csv = tu_read_file(path, NULL);
        cr_assert_not_null(csv, "%s missing", path);
        int rows = 0;
        for (char *c = csv; *c; c++) rows += *c == '\n';
        cr_expect_eq(rows, 14, "%s: a header, 3 fgsm, 3 pgd, 3 x (apgd_ce, auto), targeted cw_l2 rows:\n%s", path, csv);
        cr_expect_not_null(strstr(csv, "\nauto,adaptive,linf,0.2,0,20,"), "%s", csv);
        cr_expect_not_null(strstr(csv, "\ncw_l2,paper,l2,,1,20,"), "%s", csv);
        free(csv);
        snprintf(path, sizeof path, "%s/plots/robust_vs_eps_%s.png", exp, names[i]);
        if (tu_run("command -v gnuplot > /dev/null", NULL, 0) == 0) cr_expect_eq(access(path, F_OK), 0, "%s", path);
    }
    snprintf(path, sizeof path, "%s/plots/robust_vs_beta.png", exp);
    if (tu_run("command -v gnuplot > /dev/null", NULL, 0) == 0) cr_expect_eq(access(path, F_OK), 0, "%s", path);
    snprintf(path, sizeof path, "%s/plots/robust_vs_beta.csv", exp);
    char *d = tu_read_file(path, NULL);
    cr_assert_not_null(d);
    cr_expect(strncmp(d, "beta,robust_acc_fgsm_linf_eps0.05_mean,", 39) == 0, "%s", d);
    int rows = 0;
    for (char *c = d; *c; c++) rows += *c == '\n';
    cr_expect_eq(rows, 6, "a header and the five betas > 0:\n%s", d);
    free(d);
}

/* An attack on a point without a checkpoint is one error naming the block's line and what to do
** (data that are not images of bytes are attacked in each feature's range: test_attack_cmd.c). */
Test(attack, attack_without_checkpoint_names_the_line) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 10, "out") };
    nn_model m;
    build(&m, s, 1, 784);
    lb_attack_block b;
    memset(&b, 0, sizeof b);
    snprintf(b.where, sizeof b.where, "x.lua:7");
    b.n = 10;
    b.batch = 10;
    nn_data_spec d = nn_data_spec_default();
    d.name = "fashion-mnist";
    lb_attack_cols cols;
    rt_err err = { 0 };
    const char *dir = tu_tmpdir("no_checkpoint");
    cr_expect_eq(lb_attack_point(&b, &m, &d, 1, 0, 12, dir, NULL, &cols, &err), RT_ERR_IO);
    cr_expect_not_null(strstr(err.msg, "x.lua:7: attack: "), "%s", err.msg);
    cr_expect_not_null(strstr(err.msg, "/checkpoint does not exist; the attack runs on a trained point's checkpoint"),
                       "%s", err.msg);
    nn_model_free(&m);
}

/* attack_apgdt.lua: APGD-T under the paper's protocol, the adaptive protocol with APGD-T and C&W with
** EOT write their rows (apgd_ce, apgd_t; apgd_ce, apgd_dlr and auto adaptive; cw_l2), and attack
** batches 7 and 64 give the same bytes. */
Test(attack, apgd_t_and_cw_eot_rows_do_not_depend_on_the_attack_batch) {
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!f) tu_skip("dataset-fashion-mnist not installed");
    fclose(f);
    const char *dir = tu_tmpdir("attack_apgdt");
    const int batch[2] = { 7, 64 };
    char cmd[4096], out[8192], pdir[2][64], exp[2][1200], path[2][2400];
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --quiet --out b%d --set ab=%d '%s/tests/lua/attack_apgdt.lua' 2>&1",
                 dir, tu_vibrun(), batch[k], batch[k], tu_source_dir());
        cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
        snprintf(exp[k], sizeof exp[k], "%s/b%d/attack_apgdt", dir, batch[k]);
        cr_assert_eq(tu_point_dirs(exp[k], &pdir[k], 1), 1);
        snprintf(path[k], sizeof path[k], "%s/%s/attack.csv", exp[k], pdir[k]);
    }
    tu_expect_same_file(path[0], path[1]);
    char *csv = tu_read_file(path[0], NULL);
    cr_assert_not_null(csv);
    int rows = 0;
    for (char *c = csv; *c; c++) rows += *c == '\n';
    cr_expect_eq(rows, 7, "a header, apgd_ce, apgd_t, three adaptive rows and cw_l2:\n%s", csv);
    cr_expect_not_null(strstr(csv, "\napgd_ce,paper,linf,0.05,0,40,"), "%s", csv);
    cr_expect_not_null(strstr(csv, "\napgd_t,paper,linf,0.05,1,40,"), "%s", csv);
    cr_expect_not_null(strstr(csv, "\napgd_ce,adaptive,linf,0.05,0,40,"), "%s", csv);
    cr_expect_not_null(strstr(csv, "\napgd_dlr,adaptive,linf,0.05,0,40,"), "%s", csv);
    cr_expect_not_null(strstr(csv, "\nauto,adaptive,linf,0.05,0,40,"), "%s", csv);
    cr_expect_not_null(strstr(csv, "\ncw_l2,paper,l2,,0,40,"), "%s", csv);
    /* the adaptive rows are cumulative: robust accuracy never rises along the sequence */
    double ra[3];
    const char *names[3] = { "\napgd_ce,adaptive,", "\napgd_dlr,adaptive,", "\nauto,adaptive," };
    for (int q = 0; q < 3; q++) {
        const char *r = strstr(csv, names[q]);
        cr_assert_not_null(r);
        double clean;
        cr_assert_eq(sscanf(r + strlen(names[q]), "linf,0.05,0,40,%lf,%lf", &clean, &ra[q]), 2, "%s", r);
    }
    cr_expect_leq(ra[1], ra[0]);
    cr_expect_leq(ra[2], ra[1]);
    free(csv);
}
