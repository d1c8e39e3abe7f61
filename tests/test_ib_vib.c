// test_ib_vib.c: a VIB (Alemi et al.) trained on samples of a small discrete problem lies on or below
// the exact IB curve of that problem (nn_ib_exact.h). X uniform on 4 values (one-hot), Y binary with
// p(y=1|x) = 0.1, 0.3, 0.7, 0.9; the encoder p(z|x) = N(mu_x, sigma_x^2) with one latent dimension
// is read on the 4 inputs, and I(X;Z), I(Z;Y) of the true joint are computed by quadrature on a grid
// fine against the smallest sigma (a 1-D integral of a 4-component mixture: exact to 1e-6 bits).
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_ib_exact.h"
#include "nn_train.h"
#include "testutil.h"

static const double p1[4] = { 0.1, 0.3, 0.7, 0.9 };     // p(y = 1 | x)

static nn_dataset samples(int n, uint64_t seed) {
    nn_dataset d = { .n = n, .ndim = 1, .shape = { 4, 1, 1 }, .dim = 4, .nclass = 2 };
    d.x = calloc((size_t)n * 4, sizeof *d.x);
    d.y = malloc((size_t)n * sizeof *d.y);
    rt_rng r;
    rt_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int x = (int)rt_rng_below(&r, 4);
        d.x[i * 4 + x] = 1.0f;
        d.y[i] = rt_rng_uniform(&r) < p1[x];
    }
    return d;
}

// I(X;Z), I(Z;Y) in bits of z | x ~ N(mu[x], s[x]^2) under the true joint, by the midpoint rule.
static void plane(const double *mu, const double *s, double *ixz, double *izy) {
    double lo = INFINITY, hi = -INFINITY, smin = INFINITY;
    for (int x = 0; x < 4; x++) {
        lo = fmin(lo, mu[x] - 12 * s[x]);
        hi = fmax(hi, mu[x] + 12 * s[x]);
        smin = fmin(smin, s[x]);
    }
    double dz = smin / 50, hz = 0.0, hzy[2] = { 0, 0 }, hzx = 0.0;
    for (double z = lo + dz / 2; z < hi; z += dz) {
        double pz = 0.0, pzy[2] = { 0, 0 };
        for (int x = 0; x < 4; x++) {
            double u = (z - mu[x]) / s[x], q = exp(-0.5 * u * u) / (s[x] * sqrt(2 * 3.14159265358979323846));
            pz += 0.25 * q;
            pzy[1] += 0.25 * p1[x] / 0.5 * q;           // p(x | y = 1) = p(x) p(y=1|x) / p(y=1), p(y=1) = 1/2
            pzy[0] += 0.25 * (1 - p1[x]) / 0.5 * q;
        }
        if (pz > 0) hz -= pz * log(pz) * dz;
        for (int y = 0; y < 2; y++)
            if (pzy[y] > 0) hzy[y] -= pzy[y] * log(pzy[y]) * dz;
    }
    for (int x = 0; x < 4; x++) hzx += 0.25 * 0.5 * log(2 * 3.14159265358979323846 * exp(1.0) * s[x] * s[x]);
    *ixz = (hz - hzx) / log(2.0);
    *izy = (hz - 0.5 * (hzy[0] + hzy[1])) / log(2.0);
}

// Trains the VIB at beta and returns its (I(X;Z), I(Z;Y)).
static void vib_point(double beta, const nn_dataset *tr, const nn_dataset *te, double *ixz, double *izy) {
    nn_layer_spec s[] = { tu_layer("v.lua", 4, NN_LAYER_LINEAR, 16, "h"), tu_layer("v.lua", 4, NN_LAYER_TANH, 16, "t"),
                          tu_layer("v.lua", 4, NN_LAYER_GAUSS, 1, "z"), tu_layer("v.lua", 4, NN_LAYER_LINEAR, 2, "out") };
    nn_term_spec t[] = { tu_term("v.lua:20", NN_TERM_CE, "ce", "", 1.0f),
                         tu_term("v.lua:20", NN_TERM_KL, "kl", "z", (float)beta) };
    nn_model m;
    nn_obj o;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&m, s, 4, 4, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nn_obj_build(&o, t, 2, NULL, 0, &m, &err), RT_OK, "%s", err.msg);
    rt_rng r;
    rt_rng_seed(&r, 5);
    nn_model_init(&m, &r);
    nn_train_cfg cfg = nn_train_cfg_default();
    cfg.epochs = 40;
    cfg.batch = 100;
    cfg.optim.lr = 0.01f;
    cfg.dir = tu_tmpdir("vib_discrete");
    nn_result res;
    cr_assert_eq(nn_train(&m, &o, tr, te, &cfg, &res, &err), RT_OK, "%s", err.msg);
    cr_assert_str_eq(res.status, "done");
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    c.grad_enabled = false;
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ 4, 4 });
    memset(x->data, 0, 16 * sizeof(float));
    for (int i = 0; i < 4; i++) x->data[i * 4 + i] = 1.0f;
    nn_fwd f = { &c, false, NULL, 0, 0, 0, NULL };
    nn_model_forward(&m, &f, x);
    double mu[4], sd[4];
    for (int i = 0; i < 4; i++) mu[i] = (double)m.layers[2].mu->data[i], sd[i] = (double)m.layers[2].sigma->data[i];
    plane(mu, sd, ixz, izy);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

// The exact curve's I(T;Y) at I(X;T) = a, by linear interpolation between the solver's points (the
// curve is concave: the interpolation lies on or below it, by less than 0.003 bit at 80 betas here).
static double curve_at(const nn_ib_point *pts, int n, double a) {
    if (a <= pts[0].ixt) return pts[0].ity;
    for (int i = 1; i < n; i++)
        if (a <= pts[i].ixt) {
            double w = (a - pts[i - 1].ixt) / fmax(pts[i].ixt - pts[i - 1].ixt, 1e-12);
            return pts[i - 1].ity + w * (pts[i].ity - pts[i - 1].ity);
        }
    return pts[n - 1].ity;
}

Test(ib_vib, a_trained_vib_lies_on_or_below_the_exact_curve_and_nears_it) {
    double pxy[8];
    for (int x = 0; x < 4; x++) pxy[2 * x] = 0.25 * (1 - p1[x]), pxy[2 * x + 1] = 0.25 * p1[x];
    nn_ib_opts o = nn_ib_opts_default();
    o.beta_min = 0.5;
    o.beta_max = 200;
    o.betas = 80;
    o.clusters = 5;
    nn_ib_point pts[80];
    rt_err err = { 0 };
    cr_assert_eq(nn_ib_curve(pxy, 4, 2, &o, pts, &err), RT_OK, "%s", err.msg);
    double ixy = nn_ib_mi_xy(pxy, 4, 2);
    nn_dataset tr = samples(2000, 1), te = samples(400, 2);
    double betas[3] = { 1e-3, 0.05, 0.3 }, prev = INFINITY;
    for (int b = 0; b < 3; b++) {
        double ixz, izy;
        vib_point(betas[b], &tr, &te, &ixz, &izy);
        double bound = curve_at(pts, 80, ixz);
        cr_expect(izy <= bound + 0.01, "beta %g: VIB at I(X;Z) %.4f has I(Z;Y) %.4f above the exact curve's %.4f",
                  betas[b], ixz, izy, bound);
        cr_expect(izy <= ixz + 1e-6 && izy <= ixy + 1e-6, "beta %g: (%.4f, %.4f), I(X;Y) %.4f", betas[b], ixz, izy, ixy);
        cr_expect(izy >= bound - 0.05, "beta %g: VIB at I(X;Z) %.4f has I(Z;Y) %.4f, %.4f below the exact curve",
                  betas[b], ixz, izy, bound - izy);
        cr_expect(ixz <= prev + 0.05, "beta %g: I(X;Z) %.4f rose from %.4f as beta grew", betas[b], ixz, prev);
        prev = ixz;
        cr_log_info("beta %g: I(X;Z) %.4f I(Z;Y) %.4f curve %.4f", betas[b], ixz, izy, bound);
    }
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}
