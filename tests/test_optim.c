// test_optim.c: every optimizer against hand values and double-precision reference formulas,
// the schedules at chosen epochs, gradient clipping, the EMA, and convergence on a quadratic.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_optim.h"
#include "rt_pool.h"
#include "rt_rng.h"

// ---- helpers ----

enum { N = 4, T = 3 };
static const double P0[N] = {1.0, -2.0, 0.5, 3.0};
static const double G[T][N] = {{0.5, -1.0, 2.0, 0.1}, {0.3, 0.2, -1.0, 0.4}, {-0.2, 0.5, 0.5, -0.3}};

static void assert_close(const float *got, const double *want, int n, double rtol, const char *what) {
    for (int i = 0; i < n; i++) {
        double g = (double)got[i], tol = rtol * fmax(1.0, fabs(want[i]));
        cr_assert(fabs(g - want[i]) <= tol, "%s[%d]: %.9g, want %.9g", what, i, g, want[i]);
    }
}

// Runs T steps of the optimizer on P0 with the gradients G; p gets the result.
static void run_steps(const rt_optim_cfg *cfg, float p[N]) {
    rt_optim o;
    rt_optim_init(&o, cfg, N);
    for (int i = 0; i < N; i++) p[i] = (float)P0[i];
    for (int t = 0; t < T; t++) {
        float g[N];
        for (int i = 0; i < N; i++) g[i] = (float)G[t][i];
        rt_optim_step(&o, p, g, cfg->lr);
    }
    cr_assert_eq(o.t, T);
    rt_optim_free(&o);
}

static rt_optim_cfg cfg_of(rt_optim_kind kind, float lr) {
    rt_optim_cfg c = rt_optim_cfg_default();
    c.kind = kind;
    c.lr = lr;
    return c;
}

// ---- configuration ----

Test(optim, defaults_and_names) {
    rt_optim_cfg c = rt_optim_cfg_default();
    cr_assert_eq(c.kind, RT_OPTIM_ADAM);
    cr_assert(c.lr == 1e-3f && c.beta1 == 0.9f && c.beta2 == 0.999f && c.eps == 1e-8f);
    cr_assert_eq(c.sched, RT_SCHED_CONST);
    cr_assert(c.clip_norm == 0.0f && c.weight_decay == 0.0f);
    cr_assert_eq(rt_optim_cfg_check(&c, NULL), RT_OK);
    cr_assert_str_eq(rt_optim_kind_name(RT_OPTIM_ADAMW), "adamw");
    cr_assert_str_eq(rt_optim_kind_name(RT_OPTIM_ADAMAX), "adamax");
    cr_assert_str_eq(rt_sched_kind_name(RT_SCHED_COSINE), "cosine");
    cr_assert_str_eq(rt_sched_kind_name(RT_SCHED_EXP), "exp");
}

Test(optim, cfg_check_rejects_bad_values) {
    rt_err err;
    rt_optim_cfg c = rt_optim_cfg_default();
    c.beta2 = 1.5f;
    rt_err_clear(&err);
    cr_assert_eq(rt_optim_cfg_check(&c, &err), RT_ERR_ARG);
    cr_assert_not_null(strstr(err.msg, "beta2"), "%s", err.msg);

    c = rt_optim_cfg_default();
    c.sched = RT_SCHED_COSINE;
    c.epochs = 0.0f;
    rt_err_clear(&err);
    cr_assert_eq(rt_optim_cfg_check(&c, &err), RT_ERR_ARG);
    cr_assert_not_null(strstr(err.msg, "epochs"), "%s", err.msg);

    c = cfg_of(RT_OPTIM_SGD, 0.1f);
    c.nesterov = true;
    rt_err_clear(&err);
    cr_assert_eq(rt_optim_cfg_check(&c, &err), RT_ERR_ARG);
    cr_assert_not_null(strstr(err.msg, "momentum"), "%s", err.msg);

    c = rt_optim_cfg_default();
    c.lr = NAN;
    cr_assert_eq(rt_optim_cfg_check(&c, NULL), RT_ERR_ARG);
    c = rt_optim_cfg_default();
    c.sched = RT_SCHED_EXP;
    c.every = 0.0f;
    cr_assert_eq(rt_optim_cfg_check(&c, NULL), RT_ERR_ARG);
}

Test(optim, sgd_has_no_second_moment) {
    rt_optim o;
    rt_optim_cfg c = cfg_of(RT_OPTIM_SGD, 0.1f);
    rt_optim_init(&o, &c, 10);
    cr_assert_not_null(o.m);
    cr_assert_null(o.v);
    rt_optim_free(&o);
    c.kind = RT_OPTIM_ADAMAX;
    rt_optim_init(&o, &c, 10);
    cr_assert_not_null(o.v);
    for (int i = 0; i < 10; i++) cr_assert(o.m[i] == 0.0f && o.v[i] == 0.0f);
    rt_optim_free(&o);
}

// ---- SGD ----

Test(optim, sgd_momentum_by_hand) {
    // p = 1, g = 1 always, lr 0.1, mu 0.9: v = 1, 1.9, 2.71; p = 0.9, 0.71, 0.439.
    rt_optim_cfg c = cfg_of(RT_OPTIM_SGD, 0.1f);
    c.momentum = 0.9f;
    rt_optim o;
    rt_optim_init(&o, &c, 1);
    float p = 1.0f, g = 1.0f;
    const double want[3] = {0.9, 0.71, 0.439};
    for (int t = 0; t < 3; t++) {
        rt_optim_step(&o, &p, &g, c.lr);
        assert_close(&p, &want[t], 1, 1e-6, "p");
    }
    rt_optim_free(&o);
}

Test(optim, sgd_nesterov_by_hand) {
    // Same, nesterov: p -= lr*(g + mu*v): 1 - 0.1*1.9 = 0.81, 0.81 - 0.1*(1 + 1.71) = 0.539.
    rt_optim_cfg c = cfg_of(RT_OPTIM_SGD, 0.1f);
    c.momentum = 0.9f;
    c.nesterov = true;
    rt_optim o;
    rt_optim_init(&o, &c, 1);
    float p = 1.0f, g = 1.0f;
    const double want[2] = {0.81, 0.539};
    for (int t = 0; t < 2; t++) {
        rt_optim_step(&o, &p, &g, c.lr);
        assert_close(&p, &want[t], 1, 1e-6, "p");
    }
    rt_optim_free(&o);
}

// PyTorch's SGD in double: g' = g + wd p; v = mu v + g'; p -= lr (nesterov ? g' + mu v : v).
static void ref_sgd(double lr, double mu, double wd, bool nesterov, double p[N]) {
    double v[N] = {0};
    memcpy(p, P0, sizeof P0);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < N; i++) {
            double g = G[t][i] + wd * p[i];
            v[i] = mu * v[i] + g;
            p[i] -= lr * (nesterov ? g + mu * v[i] : v[i]);
        }
}

Test(optim, sgd_matches_reference) {
    const struct { float mu, wd; bool nesterov; } cases[] = {
        {0.0f, 0.0f, false}, {0.9f, 0.0f, false}, {0.9f, 0.01f, false}, {0.5f, 0.1f, true}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rt_optim_cfg c = cfg_of(RT_OPTIM_SGD, 0.05f);
        c.momentum = cases[k].mu;
        c.weight_decay = cases[k].wd;
        c.nesterov = cases[k].nesterov;
        float p[N];
        double want[N];
        run_steps(&c, p);
        ref_sgd(0.05, (double)cases[k].mu, (double)cases[k].wd, cases[k].nesterov, want);
        assert_close(p, want, N, 1e-5, "sgd p");
    }
}

// ---- Adam family ----

// Adam / AdamW in double, from the paper's formulas with explicit mhat and vhat.
static void ref_adam(double lr, double b1, double b2, double eps, double wd, bool decoupled,
                     double p[N]) {
    double m[N] = {0}, v[N] = {0};
    memcpy(p, P0, sizeof P0);
    for (int t = 1; t <= T; t++)
        for (int i = 0; i < N; i++) {
            double g = G[t - 1][i] + (decoupled ? 0.0 : wd * p[i]);
            if (decoupled) p[i] -= lr * wd * p[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            double mhat = m[i] / (1 - pow(b1, t)), vhat = v[i] / (1 - pow(b2, t));
            p[i] -= lr * mhat / (sqrt(vhat) + eps);
        }
}

Test(optim, adam_bias_correction_by_hand) {
    // With a constant gradient, mhat = g and vhat = g^2 at every step, so each step moves every
    // coordinate by exactly lr against the sign of g (eps negligible). Without the correction
    // the first step would be lr * 0.1 / sqrt(0.001) = 3.16 lr.
    rt_optim_cfg c = cfg_of(RT_OPTIM_ADAM, 0.01f);
    rt_optim o;
    rt_optim_init(&o, &c, 3);
    float p[3] = {1.0f, 1.0f, 1.0f}, g[3] = {0.5f, -3.0f, 1e-3f};
    for (int t = 1; t <= 3; t++) {
        rt_optim_step(&o, p, g, c.lr);
        double want[3] = {1 - 0.01 * t, 1 + 0.01 * t, 1 - 0.01 * t};
        assert_close(p, want, 3, 1e-4, "adam p");
    }
    rt_optim_free(&o);
}

Test(optim, adam_matches_reference) {
    rt_optim_cfg c = cfg_of(RT_OPTIM_ADAM, 0.01f);
    c.beta1 = 0.5f;                 // the VIB paper's setting
    c.weight_decay = 0.05f;
    float p[N];
    double want[N];
    run_steps(&c, p);
    ref_adam(0.01, 0.5, (double)0.999f, 1e-8, 0.05, false, want);
    assert_close(p, want, N, 1e-5, "adam p");
}

Test(optim, adamw_decoupled_differs_from_adam_l2) {
    rt_optim_cfg c = cfg_of(RT_OPTIM_ADAMW, 0.01f);
    c.weight_decay = 0.5f;
    float pw[N], pa[N];
    double want_w[N], want_a[N];
    run_steps(&c, pw);
    ref_adam(0.01, (double)0.9f, (double)0.999f, 1e-8, 0.5, true, want_w);
    assert_close(pw, want_w, N, 1e-5, "adamw p");

    c.kind = RT_OPTIM_ADAM;
    run_steps(&c, pa);
    ref_adam(0.01, (double)0.9f, (double)0.999f, 1e-8, 0.5, false, want_a);
    assert_close(pa, want_a, N, 1e-5, "adam p");

    double diff = 0;
    for (int i = 0; i < N; i++) diff = fmax(diff, fabs((double)pw[i] - (double)pa[i]));
    cr_assert(diff > 1e-3, "AdamW and Adam+L2 agree to %g", diff);
}

Test(optim, adamw_by_hand) {
    // Constant g: p1 = p0 (1 - lr wd) - lr sign(g) = 2 * 0.99 - 0.1 = 1.88.
    rt_optim_cfg c = cfg_of(RT_OPTIM_ADAMW, 0.1f);
    c.weight_decay = 0.1f;
    rt_optim o;
    rt_optim_init(&o, &c, 1);
    float p = 2.0f, g = 4.0f;
    rt_optim_step(&o, &p, &g, c.lr);
    const double want = 1.88;
    assert_close(&p, &want, 1, 1e-6, "adamw p");
    rt_optim_free(&o);
}

// Adamax in double (Kingma & Ba, section 7.1; eps inside the max as PyTorch).
static void ref_adamax(double lr, double b1, double b2, double eps, double p[N]) {
    double m[N] = {0}, u[N] = {0};
    memcpy(p, P0, sizeof P0);
    for (int t = 1; t <= T; t++)
        for (int i = 0; i < N; i++) {
            double g = G[t - 1][i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            u[i] = fmax(b2 * u[i], fabs(g) + eps);
            p[i] -= lr / (1 - pow(b1, t)) * m[i] / u[i];
        }
}

Test(optim, adamax_matches_reference) {
    rt_optim_cfg c = cfg_of(RT_OPTIM_ADAMAX, 0.002f);
    float p[N];
    double want[N];
    run_steps(&c, p);
    ref_adamax((double)0.002f, (double)0.9f, (double)0.999f, 1e-8, want);
    assert_close(p, want, N, 1e-5, "adamax p");

    // By hand, constant g = 2: m_t = (1 - b1^t) g and u_t = |g|, so each step is lr.
    rt_optim o;
    rt_optim_init(&o, &c, 1);
    float q = 0.0f, g = 2.0f;
    for (int t = 1; t <= 3; t++) rt_optim_step(&o, &q, &g, 0.5f);
    const double want_q = -1.5;
    assert_close(&q, &want_q, 1, 1e-5, "adamax q");
    rt_optim_free(&o);
}

// ---- schedules ----

static void assert_lr(const rt_optim_cfg *c, double epoch, double want) {
    double got = (double)rt_optim_lr(c, epoch);
    cr_assert(fabs(got - want) <= 1e-6 * fabs(want) + 1e-12, "%s at epoch %g: %.9g, want %.9g",
              rt_sched_kind_name(c->sched), epoch, got, want);
}

Test(optim, schedule_const) {
    rt_optim_cfg c = cfg_of(RT_OPTIM_ADAM, 0.1f);
    assert_lr(&c, 0, 0.1);
    assert_lr(&c, 123.5, 0.1);
}

Test(optim, schedule_exp_staircase) {
    rt_optim_cfg c = cfg_of(RT_OPTIM_ADAM, 1e-4f);
    c.sched = RT_SCHED_EXP;
    c.decay = 0.97f;
    c.every = 2.0f;
    double lr = (double)1e-4f, d = (double)0.97f;
    assert_lr(&c, 0.0, lr);
    assert_lr(&c, 1.99, lr);
    assert_lr(&c, 2.0, lr * d);
    assert_lr(&c, 3.5, lr * d);
    assert_lr(&c, 4.0, lr * d * d);
    assert_lr(&c, 10.5, lr * pow(d, 5));
}

Test(optim, schedule_step_milestones) {
    rt_optim_cfg c = cfg_of(RT_OPTIM_SGD, 0.1f);
    c.sched = RT_SCHED_STEP;
    c.gamma = 0.1f;
    c.milestones[0] = 30;
    c.milestones[1] = 80;
    c.nmilestones = 2;
    double g = (double)0.1f, lr = (double)0.1f;
    assert_lr(&c, 0, lr);
    assert_lr(&c, 29.9, lr);
    assert_lr(&c, 30, lr * g);
    assert_lr(&c, 79.5, lr * g);
    assert_lr(&c, 80, lr * g * g);
    assert_lr(&c, 500, lr * g * g);
}

Test(optim, schedule_cosine) {
    rt_optim_cfg c = cfg_of(RT_OPTIM_SGD, 0.1f);
    c.sched = RT_SCHED_COSINE;
    c.epochs = 10.0f;
    c.lr_min = 0.001f;
    double hi = (double)0.1f, lo = (double)0.001f;
    assert_lr(&c, 0, hi);
    assert_lr(&c, 5, (hi + lo) / 2);
    assert_lr(&c, 2.5, lo + (hi - lo) * (1 + cos(3.14159265358979323846 / 4)) / 2);
    assert_lr(&c, 10, lo);
    assert_lr(&c, 25, lo);          // clamped after the end
}

// ---- clipping ----

Test(optim, clip_scales_to_max_norm) {
    float g[2] = {3.0f, 4.0f};
    double norm = rt_grad_clip(g, 2, 1.0f);
    cr_assert(fabs(norm - 5.0) < 1e-12, "norm %g", norm);
    double want[2] = {0.6, 0.8};
    assert_close(g, want, 2, 1e-6, "clipped g");
    double after = sqrt((double)g[0] * (double)g[0] + (double)g[1] * (double)g[1]);
    cr_assert(fabs(after - 1.0) < 1e-6, "norm after %g", after);
}

Test(optim, clip_leaves_small_or_disabled) {
    float g[2] = {0.3f, 0.4f};
    double norm = rt_grad_clip(g, 2, 1.0f);
    cr_assert(fabs(norm - 0.5) < 1e-7);
    cr_assert(g[0] == 0.3f && g[1] == 0.4f);
    float h[2] = {30.0f, 40.0f};
    norm = rt_grad_clip(h, 2, 0.0f);            // 0 = off: norm only
    cr_assert(fabs(norm - 50.0) < 1e-9);
    cr_assert(h[0] == 30.0f && h[1] == 40.0f);
}

Test(optim, clip_norm_in_double) {
    // 2^20 + 1 values: 2^20 ones and one 1e-3. A float accumulator stalls at 2^24-scale
    // rounding; the double one gets sqrt(2^20 + 1e-6) right.
    size_t n = (1u << 20) + 1;
    float *g = malloc(n * sizeof *g);
    for (size_t i = 0; i + 1 < n; i++) g[i] = 1.0f;
    g[n - 1] = 1e-3f;
    double norm = rt_grad_clip(g, n, 512.0f);
    double want = sqrt(1048576.0 + (double)1e-3f * (double)1e-3f);
    cr_assert(fabs(norm - want) < 1e-9, "norm %.12g, want %.12g", norm, want);
    cr_assert(fabs((double)g[0] - 0.5) < 1e-6);
    free(g);
}

// ---- EMA ----

Test(optim, ema_update) {
    float p[2] = {1.0f, 2.0f};
    rt_ema e;
    rt_ema_init(&e, 0.9f, false, p, 2);
    cr_assert(e.shadow[0] == 1.0f && e.shadow[1] == 2.0f);
    p[0] = 2.0f;
    p[1] = 4.0f;
    rt_ema_update(&e, p);
    double want[2] = {1.1, 2.2};
    assert_close(e.shadow, want, 2, 1e-6, "shadow");
    rt_ema_update(&e, p);               // 0.9 * 1.1 + 0.1 * 2 = 1.19
    double want2[2] = {1.19, 2.38};
    assert_close(e.shadow, want2, 2, 1e-6, "shadow");
    cr_assert_eq(e.t, 2);
    rt_ema_free(&e);
}

Test(optim, ema_warmup) {
    // decay 0.999 with warmup: first update uses 1/10, the second 2/11, ... until 0.999.
    float p = 0.0f;
    rt_ema e;
    rt_ema_init(&e, 0.999f, true, &p, 1);
    p = 10.0f;
    rt_ema_update(&e, &p);
    double s = 0.1 * 0.0 + 0.9 * 10.0;
    assert_close(e.shadow, &s, 1, 1e-6, "shadow after 1");
    p = 0.0f;
    rt_ema_update(&e, &p);
    s = 2.0 / 11.0 * s;
    assert_close(e.shadow, &s, 1, 1e-6, "shadow after 2");
    rt_ema_free(&e);

    // After many updates warmup no longer matters: (1+t)/(10+t) > 0.999 once t > 8991.
    rt_ema_init(&e, 0.9f, true, &p, 1);
    e.t = 100;                       // (1+100)/(110) = 0.918 > 0.9: decay is 0.9
    p = 1.0f;
    rt_ema_update(&e, &p);
    s = 0.1;
    assert_close(e.shadow, &s, 1, 1e-6, "shadow late");
    rt_ema_free(&e);
}

Test(optim, ema_swap_twice_restores) {
    float p[3] = {1.0f, 2.0f, 3.0f};
    rt_ema e;
    rt_ema_init(&e, 0.5f, false, p, 3);
    float q[3] = {3.0f, 4.0f, 5.0f};
    rt_ema_update(&e, q);                 // shadow = 2, 3, 4
    rt_ema_swap(&e, q);
    cr_assert(q[0] == 2.0f && q[1] == 3.0f && q[2] == 4.0f);
    cr_assert(e.shadow[0] == 3.0f && e.shadow[2] == 5.0f);
    rt_ema_swap(&e, q);
    cr_assert(q[0] == 3.0f && q[1] == 4.0f && q[2] == 5.0f);
    cr_assert(e.shadow[0] == 2.0f && e.shadow[1] == 3.0f && e.shadow[2] == 4.0f);
    rt_ema_free(&e);
}

// ---- convergence ----

// f(p) = 1/2 sum a_i (p_i - c_i)^2, ill-conditioned (a from 0.1 to 10).
static double quad(const float *p, float *g) {
    static const double a[N] = {1.0, 10.0, 0.1, 3.0}, c[N] = {0.5, -1.0, 2.0, 0.0};
    double f = 0;
    for (int i = 0; i < N; i++) {
        double d = (double)p[i] - c[i];
        f += 0.5 * a[i] * d * d;
        if (g) g[i] = (float)(a[i] * d);
    }
    return f;
}

Test(optim, every_optimizer_minimises_a_quadratic) {
    const struct { rt_optim_kind kind; float lr, momentum; bool nesterov; } cases[] = {
        {RT_OPTIM_SGD, 0.1f, 0.0f, false}, {RT_OPTIM_SGD, 0.05f, 0.9f, false},
        {RT_OPTIM_SGD, 0.05f, 0.9f, true}, {RT_OPTIM_ADAM, 0.05f, 0, false},
        {RT_OPTIM_ADAMW, 0.05f, 0, false}, {RT_OPTIM_ADAMAX, 0.05f, 0, false}};
    enum { STEPS = 3000 };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rt_optim_cfg c = cfg_of(cases[k].kind, cases[k].lr);
        c.momentum = cases[k].momentum;
        c.nesterov = cases[k].nesterov;
        c.sched = RT_SCHED_COSINE;              // anneal so Adam's steps shrink to zero
        c.epochs = STEPS;
        cr_assert_eq(rt_optim_cfg_check(&c, NULL), RT_OK);
        rt_optim o;
        rt_optim_init(&o, &c, N);
        float p[N], g[N];
        for (int i = 0; i < N; i++) p[i] = (float)P0[i];
        double f0 = quad(p, NULL);
        for (int s = 0; s < STEPS; s++) {
            quad(p, g);
            rt_optim_step(&o, p, g, rt_optim_lr(&c, s));
        }
        double f = quad(p, NULL);
        cr_assert(f < 1e-6 * f0, "%s (momentum %g): f %g from %g", rt_optim_kind_name(c.kind),
                  (double)c.momentum, f, f0);
        rt_optim_free(&o);
    }
}

Test(optim, ema_debias_is_tensorflow_zero_debias) {
    /* shadow0 = 0; shadow_t = d shadow + (1-d) p_t; estimate = shadow_t / (1 - d^t). */
    const float d = 0.9f, p1[2] = { 1.0f, -2.0f }, p2[2] = { 3.0f, 5.0f }, init[2] = { 100.0f, 100.0f };
    rt_ema e;
    rt_ema_init(&e, d, false, init, 2);
    e.debias = true;
    rt_ema_update(&e, p1);
    for (int i = 0; i < 2; i++) cr_expect_float_eq(e.shadow[i], p1[i], 1e-6f, "the initial weights must not count");
    rt_ema_update(&e, p2);
    for (int i = 0; i < 2; i++) {
        double s = (1.0 - 0.9) * (0.9 * (double)p1[i] + (double)p2[i]), want = s / (1.0 - 0.81);
        cr_expect(fabs((double)e.shadow[i] - want) < 1e-5, "%g vs %g", (double)e.shadow[i], want);
    }
    rt_ema_free(&e);
}

// ---- threads and the fused pass: they change who computes a chunk and in which loop, never the
// bytes ----

enum { NBIG = 3 * (1 << 14) + 1234 };    // several optimizer chunks and a ragged tail

typedef struct run_out { float *p, *m, *v, *shadow; } run_out;

// Five steps of cfg (with clipping when cfg->clip_norm > 0, as nn_train_step does) and an EMA on
// NBIG parameters, on a pool of `threads` (0: no pool), the update made by `mode`.
typedef enum step_mode { STEP_PLAIN, STEP_ZERO_GRAD, STEP_FUSED_EMA } step_mode;
static run_out run_big(const rt_optim_cfg *cfg, int threads, step_mode mode, bool debias) {
    rt_pool pool;
    if (threads) rt_pool_init(&pool, threads);
    rt_rng r;
    rt_rng_seed(&r, 7);
    run_out out = { malloc(NBIG * sizeof(float)), malloc(NBIG * sizeof(float)),
                    malloc(NBIG * sizeof(float)), malloc(NBIG * sizeof(float)) };
    float *g = malloc(NBIG * sizeof(float));
    rt_rng_fill_uniform(&r, out.p, NBIG, -1.0f, 1.0f);
    rt_optim o;
    rt_optim_init(&o, cfg, NBIG);
    rt_ema e;
    rt_ema_init(&e, 0.9f, true, out.p, NBIG);
    e.debias = debias;
    o.pool = e.pool = threads ? &pool : NULL;
    for (int t = 0; t < 5; t++) {
        rt_rng_fill_uniform(&r, g, NBIG, -2.0f, 2.0f);
        if (cfg->clip_norm > 0.0f) rt_grad_clip(g, NBIG, cfg->clip_norm);
        if (mode == STEP_PLAIN) rt_optim_step(&o, out.p, g, cfg->lr);
        else if (mode == STEP_ZERO_GRAD) rt_optim_step_zero_grad(&o, out.p, g, cfg->lr);
        else rt_optim_step_ema(&o, out.p, g, &e, cfg->lr);
        if (mode != STEP_PLAIN)
            for (size_t i = 0; i < NBIG; i++) cr_assert(g[i] == 0.0f, "g[%zu] = %g after the step", i, (double)g[i]);
        if (mode != STEP_FUSED_EMA) rt_ema_update(&e, out.p);
    }
    cr_assert_eq(e.t, 5, "the EMA counts its updates");
    rt_ema_swap(&e, out.p);             // p now holds the average, the shadow the weights
    memcpy(out.m, o.m, NBIG * sizeof(float));
    if (o.v) memcpy(out.v, o.v, NBIG * sizeof(float));
    else memset(out.v, 0, NBIG * sizeof(float));
    memcpy(out.shadow, e.shadow, NBIG * sizeof(float));
    free(g);
    rt_ema_free(&e);
    rt_optim_free(&o);
    if (threads) rt_pool_free(&pool);
    return out;
}

static void run_free(run_out *o) {
    free(o->p);
    free(o->m);
    free(o->v);
    free(o->shadow);
}

static void expect_same_bytes(const run_out *a, const run_out *b, const char *what) {
    cr_assert(memcmp(a->p, b->p, NBIG * sizeof(float)) == 0, "%s: parameters differ", what);
    cr_assert(memcmp(a->m, b->m, NBIG * sizeof(float)) == 0, "%s: first moment differs", what);
    cr_assert(memcmp(a->v, b->v, NBIG * sizeof(float)) == 0, "%s: second moment differs", what);
    cr_assert(memcmp(a->shadow, b->shadow, NBIG * sizeof(float)) == 0, "%s: EMA differs", what);
}

Test(optim, threads_and_the_fused_ema_pass_give_the_same_bytes_for_every_optimizer) {
    const struct { rt_optim_kind kind; float momentum; bool nesterov; float wd, clip; } cases[] = {
        {RT_OPTIM_SGD, 0.0f, false, 0.0f, 0.0f}, {RT_OPTIM_SGD, 0.9f, false, 1e-2f, 5.0f},
        {RT_OPTIM_SGD, 0.9f, true, 1e-2f, 0.0f}, {RT_OPTIM_ADAM, 0, false, 0.0f, 0.0f},
        {RT_OPTIM_ADAM, 0, false, 1e-2f, 5.0f}, {RT_OPTIM_ADAMW, 0, false, 1e-2f, 5.0f},
        {RT_OPTIM_ADAMAX, 0, false, 1e-2f, 5.0f}, {RT_OPTIM_ADAMAX, 0, false, 0.0f, 0.0f}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rt_optim_cfg c = cfg_of(cases[k].kind, 1e-2f);
        c.momentum = cases[k].momentum;
        c.nesterov = cases[k].nesterov;
        c.weight_decay = cases[k].wd;
        c.clip_norm = cases[k].clip;    // 5 is far below the norm of NBIG uniform gradients
        cr_assert_eq(rt_optim_cfg_check(&c, NULL), RT_OK);
        char what[96];
        snprintf(what, sizeof what, "%s momentum %g nesterov %d wd %g clip %g",
                 rt_optim_kind_name(c.kind), (double)c.momentum, c.nesterov, (double)c.weight_decay,
                 (double)c.clip_norm);
        for (int debias = 0; debias <= 1; debias++) {
            run_out ref = run_big(&c, 0, STEP_PLAIN, debias);
            for (int threads = 0; threads <= 3; threads++)
                for (step_mode z = threads ? STEP_PLAIN : STEP_ZERO_GRAD; z <= STEP_FUSED_EMA; z++) {
                    run_out got = run_big(&c, threads, z, debias);
                    expect_same_bytes(&ref, &got, what);
                    run_free(&got);
                }
            run_free(&ref);
        }
    }
}
