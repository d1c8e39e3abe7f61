// test_nn.c: models (build, shape inference, errors, init), the objective, the step protocol and
// the training loop on synthetic data.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gradcheck.h"
#include "nn_train.h"
#include "rt_ckpt.h"
#include "rt_pool.h"
#include "testutil.h"

static nn_layer_spec L(nn_layer_kind k, int out, const char *name) { return tu_layer("model.lua", 10, k, out, name); }

// ---- build ----

Test(nn, build_infers_shapes_and_counts_parameters) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 1024, "fc1"), L(NN_LAYER_RELU, 0, "r1"),
                          L(NN_LAYER_LINEAR, 1024, "fc2"), L(NN_LAYER_RELU, 0, "r2"),
                          L(NN_LAYER_LINEAR, 10, "out") };
    nn_model m;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&m, s, 5, 784, &err), RT_OK, "%s", err.msg);
    cr_expect_eq(m.out, 10);
    cr_expect_eq(m.layers[2].in, 1024);
    cr_expect_eq(m.params.total, (size_t)(784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10));
    cr_expect_not_null(rt_params_find(&m.params, "fc2.weight"));
    cr_expect_eq(nn_model_find(&m, "out"), 4);
    char buf[2048];
    nn_model_summary(&m, buf, sizeof buf);
    cr_expect_not_null(strstr(buf, "total parameters: 1863690"), "%s", buf);
    nn_model_free(&m);
}

Test(nn, build_errors_name_the_script_line) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 16, "a"), L(NN_LAYER_LINEAR, 3, "b") };
    s[1].in = 10;
    nn_model m;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&m, s, 2, 4, &err), RT_ERR_ARG);
    cr_expect_str_eq(err.msg, "model.lua:10: linear 'b': in=10 but the previous layer outputs 16; set in=16 or remove it");

    nn_layer_spec d[] = { L(NN_LAYER_LINEAR, 16, "a"), L(NN_LAYER_LINEAR, 3, "a") };
    rt_err_clear(&err);
    cr_assert_eq(nn_model_build(&m, d, 2, 4, &err), RT_ERR_ARG);
    cr_expect_not_null(strstr(err.msg, "the name is already used by the layer at model.lua:10"), "%s", err.msg);

    nn_layer_spec z[] = { L(NN_LAYER_LINEAR, 0, "a") };
    rt_err_clear(&err);
    cr_assert_eq(nn_model_build(&m, z, 1, 4, &err), RT_ERR_ARG);
    cr_expect_not_null(strstr(err.msg, "out must be a positive integer"), "%s", err.msg);
}

Test(nn, initializers_have_their_scale) {
    const nn_init kinds[] = { NN_INIT_DEFAULT, NN_INIT_GLOROT, NN_INIT_HE, NN_INIT_NORMAL };
    const int I = 400, O = 300;
    const double want[] = { 1.0 / (3.0 * I), 2.0 / (I + O), 2.0 / I, 0.01 * 0.01 };   /* variances */
    for (int k = 0; k < 4; k++) {
        nn_layer_spec s = L(NN_LAYER_LINEAR, O, "fc");
        s.init = kinds[k];
        nn_model m;
        rt_err err = { 0 };
        cr_assert_eq(nn_model_build(&m, &s, 1, I, &err), RT_OK);
        rt_rng r;
        rt_rng_seed(&r, 3);
        nn_model_init(&m, &r);
        double v = 0.0;
        for (int64_t i = 0; i < m.layers[0].w->n; i++) v += (double)m.layers[0].w->data[i] * (double)m.layers[0].w->data[i];
        v /= (double)m.layers[0].w->n;
        cr_expect(fabs(v / want[k] - 1.0) < 0.05, "%s: variance %g, want %g", nn_init_name(kinds[k]), v, want[k]);
        nn_model_free(&m);
    }
}

// ---- the whole model under finite differences ----

static nn_model gc_model;
static nn_obj gc_obj;

static rt_tensor *b_model_ce(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    (void)k;
    static const int32_t y[4] = { 0, 2, 1, 2 };
    /* The first layer's weight is the checked input: point the model at it. */
    gc_model.layers[0].w = x[1];
    nn_fwd f = { c, false, NULL, 0, 0, 0, NULL };
    rt_tensor *out = nn_model_forward(&gc_model, &f, x[0]);
    nn_obj_in in = { out, x[0], y, 4, &f, 0.0 };
    return nn_obj_forward(&gc_obj, &gc_model, c, &in).loss;
}

Test(nn, model_and_objective_match_finite_differences) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 6, "fc1"), L(NN_LAYER_TANH, 0, "t"),
                          L(NN_LAYER_LINEAR, 5, "fc2"), L(NN_LAYER_SOFTPLUS, 0, "sp"),
                          L(NN_LAYER_LINEAR, 3, "out") };
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&gc_model, s, 5, 7, &err), RT_OK);
    rt_rng r;
    rt_rng_seed(&r, 5);
    nn_model_init(&gc_model, &r);
    nn_term_spec t[2] = { nn_term_spec_default(NN_TERM_CE), nn_term_spec_default(NN_TERM_CE) };
    t[1].smoothing = 0.2f;
    t[1].weight = 0.5f;
    snprintf(t[1].name, sizeof t[1].name, "ce_smooth");
    cr_assert_eq(nn_obj_build(&gc_obj, t, 2, NULL, 0, &gc_model, &err), RT_OK, "%s", err.msg);
    gc_case k = { "linear-tanh-linear-softplus-linear + CE + smoothed CE", -1, 2, { 2, 2 },
                  { { 4, 7 }, { 6, 7 } }, { -1, -0.5f }, { 1, 0.5f }, 0, b_model_ce,
                  .eps = 1e-3, .rtol = 1e-2, .atol = 1e-3 };
    cr_expect_eq(gc_run(&k, 11), 0);
    nn_model_free(&gc_model);
}

// ---- the step protocol ----

/* Two well-separated classes in 8-D. */
static nn_dataset blobs(int n, uint64_t seed) {
    nn_dataset d = { .n = n, .ndim = 1, .shape = { 8, 1, 1 }, .dim = 8, .nclass = 2 };
    d.x = malloc((size_t)n * 8 * sizeof(float));
    d.y = malloc((size_t)n * sizeof(int32_t));
    rt_rng r;
    rt_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        d.y[i] = (int32_t)rt_rng_below(&r, 2);
        for (int k = 0; k < 8; k++) d.x[i * 8 + k] = (float)rt_rng_normal(&r) + (d.y[i] ? 1.5f : -1.5f) * (float)(k < 2);
    }
    return d;
}

/* Builds the layers with a CE objective and initialises them from seed; asserts success. */
static void ce_model(nn_model *m, nn_obj *o, const nn_layer_spec *s, int n, int in, uint64_t seed) {
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(m, s, n, in, &err), RT_OK, "%s", err.msg);
    nn_term_spec ce = nn_term_spec_default(NN_TERM_CE);
    cr_assert_eq(nn_obj_build(o, &ce, 1, NULL, 0, m, &err), RT_OK, "%s", err.msg);
    rt_rng r;
    rt_rng_seed(&r, seed);
    nn_model_init(m, &r);
}

Test(nn, step_learns_and_stops_allocating) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 32, "fc1"), L(NN_LAYER_RELU, 0, "r"),
                          L(NN_LAYER_DROPOUT, 0, "drop"), L(NN_LAYER_LINEAR, 2, "out") };
    s[2].p = 0.2f;
    nn_model m;
    nn_obj o;
    ce_model(&m, &o, s, 4, 8, 1);
    rt_rng r;
    rt_rng_seed(&r, 1);
    nn_dataset d = blobs(512, 2);
    int32_t idx[512];
    for (int i = 0; i < 512; i++) idx[i] = i;
    rt_optim_cfg oc = rt_optim_cfg_default();
    oc.lr = 0.01f;
    rt_optim opt;
    rt_optim_init(&opt, &oc, m.params.total);
    rt_ctx c;
    rt_ctx_init(&c, 4096);      /* deliberately small: the first step must grow it */
    nn_step st = { &m, &o, &c, &opt, NULL, &r, NULL };
    double first = nn_train_step(&st, &d, idx, 64, oc.lr, 0.0);
    size_t mallocs = 0;
    double last = 0.0;
    for (int e = 0; e < 20; e++)
        for (int b = 0; b < 8; b++) {
            last = nn_train_step(&st, &d, idx + b * 64, 64, oc.lr, 0.0);
            if (e == 0 && b == 1) mallocs = c.step.mallocs;
        }
    cr_expect_lt(last, first * 0.3, "loss %g -> %g", first, last);
    cr_expect_eq(c.step.mallocs, mallocs, "the step arena allocated after the second step");
    nn_eval_cfg ec = { 0, 100, 0, NN_AVG_PROBS, 1, 0, 0, 0.0, NULL };
    nn_eval ev = nn_evaluate(&m, &o, &d, &ec, &c);
    cr_expect_lt(ev.error, 0.1, "train error %g", ev.error);
    free(d.x);
    free(d.y);
    rt_ctx_free(&c);
    rt_optim_free(&opt);
    nn_model_free(&m);
}

/* The step protocol written out with a separate zeroing pass and rt_optim_step, one thread. */
static double explicit_step(nn_model *m, const nn_obj *o, rt_ctx *c, rt_optim *opt, rt_ema *ema,
                            rt_rng *noise, const nn_dataset *d, const int32_t *idx, int b, float lr) {
    rt_params *P = &m->params;
    rt_ctx_reset(c);
    rt_tensor *x = rt_tensor_new(c, 2, (int[]){ b, d->dim });
    x->flags |= RT_INPUT;
    int32_t *y = rt_arena_alloc_raw(&c->step, (size_t)b * sizeof *y);
    nn_data_gather(d, idx, b, x->data, y);
    rt_params_zero_grad(P);
    nn_fwd f = { c, true, noise, 0, 0, 0, NULL };
    nn_obj_in in = { nn_model_forward(m, &f, x), x, y, b, &f, 0.0 };
    nn_obj_out r = nn_obj_forward(o, m, c, &in);
    rt_backward(c, r.loss);
    rt_grad_clip(P->grad, P->total, opt->cfg.clip_norm);
    rt_optim_step(opt, P->data, P->grad, lr);
    rt_ema_update(ema, P->data);
    return (double)r.loss->data[0];
}

Test(nn, step_zeroes_gradients_in_the_optimizer_and_matches_the_explicit_protocol) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 40, "fc1"), L(NN_LAYER_RELU, 0, "r"),
                          L(NN_LAYER_DROPOUT, 0, "drop"), L(NN_LAYER_LINEAR, 2, "out") };
    s[2].p = 0.2f;
    nn_model m[2];
    nn_obj o[2];
    nn_dataset d = blobs(256, 3);
    int32_t idx[256];
    for (int i = 0; i < 256; i++) idx[i] = i;
    rt_optim_cfg oc = rt_optim_cfg_default();
    oc.kind = RT_OPTIM_ADAMW;
    oc.lr = 0.01f;
    oc.weight_decay = 0.05f;
    oc.clip_norm = 0.5f;                /* clips most steps */
    rt_optim opt[2];
    rt_ema ema[2];
    rt_ctx c[2];
    rt_rng noise[2];
    rt_pool pool;
    rt_pool_init(&pool, 2);
    for (int k = 0; k < 2; k++) {
        ce_model(&m[k], &o[k], s, 4, 8, 5);
        rt_optim_init(&opt[k], &oc, m[k].params.total);
        rt_ema_init(&ema[k], 0.9f, true, m[k].params.data, m[k].params.total);
        rt_ctx_init(&c[k], 1 << 16);
        rt_rng_seed(&noise[k], 11);
    }
    opt[0].pool = ema[0].pool = &pool;
    nn_step st = { &m[0], &o[0], &c[0], &opt[0], &ema[0], &noise[0], NULL };
    const rt_params *P = &m[0].params;
    for (int step = 0; step < 12; step++) {
        const int32_t *ix = idx + (step % 4) * 64;
        double a = nn_train_step(&st, &d, ix, 64, oc.lr, 0.0);
        double b = explicit_step(&m[1], &o[1], &c[1], &opt[1], &ema[1], &noise[1], &d, ix, 64, oc.lr);
        cr_assert(a == b, "step %d: loss %.9g vs %.9g", step, a, b);
        for (size_t i = 0; i < P->total; i++)
            cr_assert(P->grad[i] == 0.0f, "step %d: grad[%zu] = %g after the step", step, i, (double)P->grad[i]);
        cr_assert(memcmp(P->data, m[1].params.data, P->total * sizeof(float)) == 0, "step %d: parameters differ", step);
        cr_assert(memcmp(ema[0].shadow, ema[1].shadow, P->total * sizeof(float)) == 0, "step %d: EMA differs", step);
    }
    bool nonzero = false;
    for (size_t i = 0; i < m[1].params.total; i++) nonzero |= m[1].params.grad[i] != 0.0f;
    cr_expect(nonzero, "the explicit protocol keeps its gradients (sanity check of the test)");
    for (int k = 0; k < 2; k++) {
        rt_ctx_free(&c[k]);
        rt_ema_free(&ema[k]);
        rt_optim_free(&opt[k]);
        nn_model_free(&m[k]);
    }
    rt_pool_free(&pool);
    free(d.x);
    free(d.y);
}

/* The training step's forward writes each ReLU over the linear output before it, except where a
** layer is kept: the output, every kept layer's output and the gradients are the same bits as
** with nn_model_forward, and a layer written over reads as NULL. */
Test(nn, forward_step_writes_relu_over_linear_outputs_but_kept_ones) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 6, "fc1"), L(NN_LAYER_RELU, 0, "r1"), L(NN_LAYER_LINEAR, 5, "fc2"),
                          L(NN_LAYER_RELU, 0, "r2"), L(NN_LAYER_LINEAR, 3, "out") };
    nn_model m;
    nn_obj o;
    ce_model(&m, &o, s, 5, 4, 3);
    const rt_params *P = &m.params;
    float *want_grad = malloc(P->total * sizeof(float));
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    for (int pass = 0; pass < 3; pass++) {
        /* pass 0: nn_model_forward; 1: nothing kept; 2: fc2 kept */
        rt_ctx_reset(&c);
        rt_params_zero_grad(&m.params);
        rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ 7, 4 });
        x->flags |= RT_INPUT;
        for (int i = 0; i < 28; i++) x->data[i] = (float)((i * 5) % 9) / 4.0f - 1.0f;
        nn_fwd f = { &c, true, NULL, 0, 0, 0, NULL };
        const int keep[2] = { -1, 2 };
        rt_tensor *out = pass == 0 ? nn_model_forward(&m, &f, x) : nn_model_forward_step(&m, &f, x, keep, pass == 2 ? 2 : 1);
        static float want_out[21], want_fc2[35];
        if (pass == 0) {
            memcpy(want_out, out->data, sizeof want_out);
            memcpy(want_fc2, m.layers[2].y->data, sizeof want_fc2);
        } else {
            cr_expect(memcmp(want_out, out->data, sizeof want_out) == 0, "pass %d: output differs", pass);
            cr_expect_null(m.layers[0].y, "pass %d: fc1 was written over", pass);
            if (pass == 1) cr_expect_null(m.layers[2].y);
            else cr_expect(memcmp(want_fc2, m.layers[2].y->data, sizeof want_fc2) == 0, "kept fc2 differs");
        }
        rt_backward(&c, rt_sum(&c, rt_square(&c, out), RT_ALL, false));
        if (pass == 0) memcpy(want_grad, P->grad, P->total * sizeof(float));
        else cr_expect(memcmp(want_grad, P->grad, P->total * sizeof(float)) == 0, "pass %d: gradients differ", pass);
    }
    free(want_grad);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

Test(nn, evaluation_does_not_depend_on_batch_size) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 16, "fc1"), L(NN_LAYER_SIGMOID, 0, "s"), L(NN_LAYER_LINEAR, 2, "out") };
    nn_model m;
    nn_obj o;
    ce_model(&m, &o, s, 3, 8, 9);
    nn_dataset d = blobs(300, 4);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    nn_eval_cfg e7 = { 0, 7, 0, NN_AVG_PROBS, 1, 0, 0, 0.0, NULL }, e300 = { 0, 300, 0, NN_AVG_PROBS, 1, 0, 0, 0.0, NULL };
    nn_eval a = nn_evaluate(&m, &o, &d, &e7, &c), b = nn_evaluate(&m, &o, &d, &e300, &c);
    cr_expect(fabs(a.loss_bits - b.loss_bits) < 1e-9, "%g vs %g", a.loss_bits, b.loss_bits);
    cr_expect_eq(a.error, b.error);
    e7.limit = 50;
    nn_eval lim = nn_evaluate(&m, &o, &d, &e7, &c);
    cr_expect(lim.loss_bits != a.loss_bits, "limit ignored");
    free(d.x);
    free(d.y);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

// ---- the loop: files, divergence ----

Test(nn, train_writes_metrics_and_marks_divergence) {
    const char *dir = tu_tmpdir("nntrain");
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 8, "fc1"), L(NN_LAYER_RELU, 0, "r"), L(NN_LAYER_LINEAR, 2, "out") };
    nn_model m;
    nn_obj o;
    ce_model(&m, &o, s, 3, 8, 1);
    rt_err err = { 0 };
    nn_dataset tr = blobs(200, 6), te = blobs(100, 7);
    nn_train_cfg cfg = nn_train_cfg_default();
    cfg.epochs = 3;
    cfg.batch = 50;
    cfg.dir = dir;
    cfg.optim.lr = 0.01f;
    nn_result res;
    cr_assert_eq(nn_train(&m, &o, &tr, &te, &cfg, &res, &err), RT_OK, "%s", err.msg);
    cr_expect_str_eq(res.status, "done");
    cr_expect_eq(res.epochs_done, 3);
    char path[600];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    char *csv = tu_read_file(path, NULL);
    cr_assert_not_null(csv);
    cr_expect(strncmp(csv, "epoch,split,loss_bits,ce_bits,error,lr\n0,train,", 46) == 0, "%s", csv);
    free(csv);

    /* A learning rate this large sends the loss to infinity: the point is marked, its CSV kept. */
    const char *dir2 = tu_tmpdir("nndiverge");
    cfg.dir = dir2;
    cfg.optim.kind = RT_OPTIM_SGD;
    cfg.optim.lr = 1e30f;
    cr_assert_eq(nn_train(&m, &o, &tr, &te, &cfg, &res, &err), RT_OK, "%s", err.msg);
    cr_expect_str_eq(res.status, "diverged");
    cr_expect_eq(res.diverged_epoch, 1);
    snprintf(path, sizeof path, "%s/metrics.csv", dir2);
    cr_expect_eq(access(path, R_OK), 0, "a diverged point lost its metrics");
    free(tr.x); free(tr.y); free(te.x); free(te.y);
    nn_model_free(&m);
}

// ---- the Gaussian encoder and the KL term ----

Test(gauss, closed_form_kl_matches_monte_carlo) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    const int K = 3;
    float mu[3] = { 0.5f, -1.0f, 0.0f }, sg[3] = { 0.3f, 1.5f, 1.0f };
    rt_tensor *m = rt_tensor_new(&c, 2, (int[]){ 1, K }), *s = rt_tensor_new(&c, 2, (int[]){ 1, K });
    memcpy(m->data, mu, sizeof mu);
    memcpy(s->data, sg, sizeof sg);
    double closed = (double)rt_gauss_kl(&c, m, s)->data[0];
    /* E_{z ~ q} [log q(z) - log N(z; 0, I)], 200k samples */
    rt_rng r;
    rt_rng_seed(&r, 17);
    double acc = 0.0;
    const int N = 200000;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) {
            double e = rt_rng_normal(&r), z = (double)mu[k] + (double)sg[k] * e;
            acc += -0.5 * e * e - log((double)sg[k]) + 0.5 * z * z;
        }
    double mc = acc / N;
    cr_expect(fabs(mc - closed) < 0.02, "Monte Carlo %g vs closed form %g", mc, closed);
    rt_ctx_free(&c);
}

static nn_layer_spec gauss_spec(int k, int samples) {
    nn_layer_spec s = L(NN_LAYER_GAUSS, k, "z");
    s.samples = samples;
    s.shift = -1.0f;
    return s;
}

/* nn_evaluate_det: the sampled evaluation's bytes, and the mean network's error of a separate
** evaluation with samples = 0, from one pass that shares the layers before the first draw; for a
** model whose first layer after the input draws (nothing shared) and one with an encoder. The
** scale heads start wide (shift 2), so the sampled error differs from the mean network's. */
Test(nn, evaluate_det_gives_the_mean_network_error_in_the_same_pass) {
    nn_layer_spec enc[] = { L(NN_LAYER_LINEAR, 16, "fc1"), L(NN_LAYER_RELU, 0, "r"), gauss_spec(4, 1),
                            L(NN_LAYER_LINEAR, 2, "out") };
    nn_layer_spec bern[] = { L(NN_LAYER_BERN, 5, "h"), L(NN_LAYER_NOISE, 0, "n"), gauss_spec(3, 1),
                             L(NN_LAYER_LINEAR, 2, "out") };
    enc[2].shift = 2.0f;
    bern[0].samples = 1;
    bern[1].std = 0.5f;
    bern[2].shift = 2.0f;
    const nn_layer_spec *specs[2] = { enc, bern };
    nn_dataset d = blobs(300, 5);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    bool differs = false;
    for (int k = 0; k < 2; k++) {
        nn_model m;
        nn_obj o;
        ce_model(&m, &o, specs[k], 4, 8, 13);
        const int batches[] = { 7, 300 };
        for (int i = 0; i < 2; i++) {
            nn_eval_cfg e = { 0, batches[i], 12, NN_AVG_PROBS, 1, 0, 0, 0.0, NULL };
            nn_eval want = nn_evaluate(&m, &o, &d, &e, &c);
            double det = -1.0;
            nn_eval got = nn_evaluate_det(&m, &o, &d, &e, &c, &det);
            bool same = memcmp(&got.loss_bits, &want.loss_bits, sizeof got.loss_bits) == 0 &&
                        memcmp(&got.error, &want.error, sizeof got.error) == 0 &&
                        memcmp(got.term_bits, want.term_bits, sizeof got.term_bits) == 0;
            cr_expect(same, "model %d, eval_batch %d: the sampled evaluation changed "
                      "(error %g vs %g, loss %.17g vs %.17g)", k, batches[i], got.error, want.error, got.loss_bits,
                      want.loss_bits);
            e.samples = 0;
            double mean = nn_evaluate(&m, &o, &d, &e, &c).error;
            cr_expect_eq(det, mean, "model %d, eval_batch %d: error_det %g, the mean network's %g", k, batches[i],
                         det, mean);
            differs |= det != want.error;
        }
        nn_model_free(&m);
    }
    cr_expect(differs, "the sampled error equals the mean network's everywhere: the test cannot tell them apart");
    free(d.x);
    free(d.y);
    rt_ctx_free(&c);
}

/* Sampled evaluation draws each example's noise from its own generator: the batch size changes
** neither the error nor the loss (bern particles nested with noise and gauss samples below). */
Test(nn, sampled_evaluation_does_not_depend_on_batch_size) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 6, "fc1"), L(NN_LAYER_BERN, 5, "h"), L(NN_LAYER_NOISE, 0, "n"),
                          gauss_spec(3, 1), L(NN_LAYER_LINEAR, 2, "out") };
    s[1].samples = 1;
    s[2].std = 0.5f;
    nn_model m;
    nn_obj o;
    ce_model(&m, &o, s, 5, 8, 11);
    nn_dataset d = blobs(300, 5);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    nn_eval_cfg e = { 0, 300, 3, NN_AVG_PROBS, 1, 0, 0, 0.0, NULL };
    nn_eval whole = nn_evaluate(&m, &o, &d, &e, &c);
    const int batches[] = { 7, 64, 299 };
    for (int i = 0; i < 3; i++) {
        e.batch = batches[i];
        nn_eval part = nn_evaluate(&m, &o, &d, &e, &c);
        cr_expect_eq(part.error, whole.error, "eval_batch %d: error %g vs %g", batches[i], part.error, whole.error);
        cr_expect(fabs(part.loss_bits - whole.loss_bits) < 1e-9, "eval_batch %d: loss %.12g vs %.12g", batches[i],
                  part.loss_bits, whole.loss_bits);
    }
    /* The noise is real: another pass draws other noise. */
    e.batch = 300;
    e.pass = 1;
    nn_eval other = nn_evaluate(&m, &o, &d, &e, &c);
    cr_expect(fabs(other.loss_bits - whole.loss_bits) > 1e-6, "pass 1 drew the noise of pass 0");
    free(d.x);
    free(d.y);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

Test(gauss, samples_have_the_layer_mean_and_scale) {
    nn_layer_spec s[] = { gauss_spec(4, 500) };
    nn_model m;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&m, s, 1, 3, &err), RT_OK, "%s", err.msg);
    cr_expect_eq(m.params.total, (size_t)(2 * (4 * 3 + 4)));
    rt_rng r;
    rt_rng_seed(&r, 2);
    nn_model_init(&m, &r);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ 2, 3 });
    for (int i = 0; i < 6; i++) x->data[i] = 0.3f * (float)i - 0.5f;
    nn_fwd f = { &c, true, &r, 0, 0, 0, NULL };
    cr_expect_eq(nn_model_rows_per_input(&m, &f), 500);
    rt_tensor *z = nn_model_forward(&m, &f, x);
    cr_assert(z->shape[0] == 1000 && z->shape[1] == 4);
    const rt_tensor *mu = m.layers[0].mu, *sg = m.layers[0].sigma;
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < 4; k++) {
            double s1 = 0, s2 = 0;
            for (int smp = 0; smp < 500; smp++) {
                double v = (double)z->data[((size_t)smp * 2 + b) * 4 + k];
                s1 += v;
                s2 += v * v;
            }
            double mean = s1 / 500, sd = sqrt(s2 / 500 - mean * mean);
            double want_mu = (double)mu->data[b * 4 + k], want_sd = (double)sg->data[b * 4 + k];
            cr_expect(fabs(mean - want_mu) < 4 * want_sd / sqrt(500.0), "mean %g vs %g", mean, want_mu);
            cr_expect(fabs(sd / want_sd - 1) < 0.15, "sd %g vs %g", sd, want_sd);
            /* sigma = softplus(rho - 1) > 0 */
            cr_expect_gt(want_sd, 0.0);
        }
    /* Evaluation with 0 samples returns the mean itself. */
    nn_fwd e = { &c, false, NULL, 0, 0, 0, NULL };
    rt_tensor *zm = nn_model_forward(&m, &e, x);
    cr_assert_eq(zm->shape[0], 2);
    for (int i = 0; i < 8; i++) cr_expect_eq(zm->data[i], m.layers[0].mu->data[i]);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

static nn_model vm;
static nn_obj vo;

static rt_tensor *b_vib(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    (void)k;
    static const int32_t y[3] = { 1, 0, 2 };
    rt_rng noise;
    rt_rng_seed(&noise, 99);       /* the same eps at every evaluation of the loss */
    vm.layers[0].w = x[1];
    nn_fwd f = { c, true, &noise, 0, 0, 0, NULL };
    rt_tensor *out = nn_model_forward(&vm, &f, x[0]);
    nn_obj_in in = { out, x[0], y, 3, &f, 0.0 };
    return nn_obj_forward(&vo, &vm, c, &in).loss;
}

Test(gauss, vib_loss_matches_finite_differences_through_sampling) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 6, "enc"), L(NN_LAYER_TANH, 0, "t"), gauss_spec(3, 2),
                          L(NN_LAYER_LINEAR, 3, "dec") };
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&vm, s, 4, 5, &err), RT_OK, "%s", err.msg);
    rt_rng r;
    rt_rng_seed(&r, 8);
    nn_model_init(&vm, &r);
    nn_term_spec t[2] = { nn_term_spec_default(NN_TERM_CE), nn_term_spec_default(NN_TERM_KL) };
    snprintf(t[1].layer, sizeof t[1].layer, "z");
    t[1].weight = 0.1f;
    cr_assert_eq(nn_obj_build(&vo, t, 2, NULL, 0, &vm, &err), RT_OK, "%s", err.msg);
    gc_case k = { "linear-tanh-gauss(2 samples)-linear, CE + 0.1 KL", -1, 2, { 2, 2 }, { { 3, 5 }, { 6, 5 } },
                  { -1, -0.5f }, { 1, 0.5f }, 0, b_vib, .eps = 1e-3, .rtol = 2e-2, .atol = 2e-3 };
    cr_expect_eq(gc_run(&k, 21), 0);
    nn_model_free(&vm);
}

Test(gauss, kl_term_needs_a_gauss_layer) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 4, "h"), L(NN_LAYER_LINEAR, 3, "out") };
    nn_model m;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&m, s, 2, 5, &err), RT_OK);
    nn_term_spec t = nn_term_spec_default(NN_TERM_KL);
    snprintf(t.layer, sizeof t.layer, "h");
    snprintf(t.where, sizeof t.where, "x.lua:3");
    nn_obj o;
    cr_assert_eq(nn_obj_build(&o, &t, 1, NULL, 0, &m, &err), RT_ERR_ARG);
    cr_expect_not_null(strstr(err.msg, "x.lua:3: term 'kl': the KL term reads a stochastic layer"), "%s", err.msg);
    nn_model_free(&m);
}

// ---- interruption and resume ----

/* A resume that ignored its checkpoint and trained again from epoch 0 would give the same bytes:
** so each resume below also counts the steps it ran and where it started. */
static volatile sig_atomic_t stop_flag;
static int stop_after, steps_seen;
static int steps_run, first_epoch, first_step;  /* steps this run of nn_train took, its first one */
static int every = 1;                   /* cfg.checkpoint_every */
static int snap_epoch;                  /* > 0: copy the point's directory in the next epoch */
static char snap_from[512], snap_to[512];
static bool lose_timing_log;        /* train_point: remove timing.csv.part before resuming */
static bool augment_on;             /* train_once: (3, 4, 4) images under augment = crop_flip */

static void stop_at(const nn_progress *p, void *user) {
    (void)user;
    if (p->epoch_done || p->phase) return;      /* an epoch's end, or its evaluation beginning: no step */
    if (steps_run++ == 0) {
        first_epoch = p->epoch;
        first_step = (int)p->step;
    }
    if (++steps_seen == stop_after) stop_flag = 1;
    if (snap_epoch > 0 && p->epoch == snap_epoch + 1 && p->step == 1) {
        /* What a kill -9 during the first step after epoch `snap_epoch` leaves behind (the
        ** process ends; nothing more is written): a copy of the directory as it stands. */
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", snap_to, snap_from, snap_to);
        cr_assert_eq(system(cmd), 0);
    }
}

enum { EPOCHS = 3, STEPS = 8 };         /* 300 examples, batch 40 */

/* blobs(n, seed)'s examples as (3, 4, 4) images: each of the 8 features fills 6 pixels. */
static nn_dataset image_blobs(int n, uint64_t seed) {
    nn_dataset b = blobs(n, seed), d = { .n = n, .ndim = 3, .shape = { 3, 4, 4 }, .dim = 48, .nclass = 2 };
    d.x = malloc((size_t)n * 48 * sizeof(float));
    d.y = b.y;
    for (int i = 0; i < n * 48; i++) d.x[i] = b.x[(i / 48) * 8 + (i % 48) / 6];
    free(b.x);
    return d;
}

/* One call of nn_train on the point into dir (resuming or not), epochs as given; the status. */
static bool conv_point;                 /* train_once: a convolutional trunk with batch norms */

static void train_once(const char *dir, int epochs, bool resume, nn_result *res) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 8, "fc1"), L(NN_LAYER_TANH, 0, "t"), gauss_spec(4, 2),
                          L(NN_LAYER_DROPOUT, 0, "drop"), L(NN_LAYER_LINEAR, 2, "out") };
    s[3].p = 0.1f;
    nn_model m;
    rt_err err = { 0 };
    if (conv_point) {
        /* The 8 features as (2, 2, 2): conv, batch norm, a residual block with its own batch norm,
        ** then the same head. The running statistics and their EMA must resume too. */
        nn_layer_spec c[] = { L(NN_LAYER_CONV, 4, "conv"), L(NN_LAYER_BATCHNORM, 0, "bn"), L(NN_LAYER_RELU, 0, "r"),
                              L(NN_LAYER_RESIDUAL, 0, "blk"), L(NN_LAYER_CONV, 4, "conv2"),
                              L(NN_LAYER_BATCHNORM, 0, "bn2"), gauss_spec(4, 2), L(NN_LAYER_DROPOUT, 0, "drop"),
                              L(NN_LAYER_LINEAR, 2, "out") };
        c[0].kernel[0] = c[0].kernel[1] = c[4].kernel[0] = c[4].kernel[1] = 3;
        c[0].pad[0] = c[0].pad[1] = c[4].pad[0] = c[4].pad[1] = 1;
        c[3].nbody = 2;
        c[7].p = 0.1f;
        cr_assert_eq(nn_model_build_shape(&m, c, 9, (int[]){ 2, 2, 2 }, true, &err), RT_OK, "%s", err.msg);
        cr_assert_eq(m.nstate, 16u);
    } else {
        cr_assert_eq(nn_model_build(&m, s, 5, augment_on ? 48 : 8, &err), RT_OK, "%s", err.msg);
    }
    nn_term_spec t[2] = { nn_term_spec_default(NN_TERM_CE), nn_term_spec_default(NN_TERM_KL) };
    snprintf(t[1].layer, sizeof t[1].layer, "z");
    t[1].weight = 0.01f;
    nn_obj o;
    cr_assert_eq(nn_obj_build(&o, t, 2, NULL, 0, &m, &err), RT_OK, "%s", err.msg);
    nn_dataset tr = augment_on ? image_blobs(300, 6) : blobs(300, 6), te = augment_on ? image_blobs(100, 7) : blobs(100, 7);
    nn_train_cfg cfg = nn_train_cfg_default();
    cfg.epochs = epochs;
    cfg.batch = 40;
    cfg.dir = dir;
    cfg.ema = 0.9f;
    cfg.ema_debias = true;
    cfg.eval_samples = 3;
    cfg.optim.decay = 0.5f;
    cfg.optim.sched = RT_SCHED_EXP;
    cfg.checkpoint_every = every;
    cfg.stop = &stop_flag;
    cfg.progress = stop_at;
    cfg.resume = resume;
    cfg.augment = augment_on ? NN_AUG_CROP_FLIP : NN_AUG_NONE;
    steps_run = 0;
    first_epoch = first_step = 0;
    cr_assert_eq(nn_train(&m, &o, &tr, &te, &cfg, res, &err), RT_OK, "%s", err.msg);
    free(tr.x); free(tr.y); free(te.x); free(te.y);
    nn_model_free(&m);
}

/* Trains the same point into dir, interrupted after `interrupt` steps (0 = never) and resumed:
** the resume runs exactly the steps left, from the one after the interrupt. */
static void train_point(const char *dir, int interrupt) {
    nn_result res;
    stop_flag = 0;
    steps_seen = 0;
    stop_after = interrupt;
    train_once(dir, EPOCHS, false, &res);
    if (interrupt) {
        cr_assert_str_eq(res.status, "interrupted");
        cr_assert_eq(steps_run, interrupt);
        char part[600];
        snprintf(part, sizeof part, "%s/metrics.csv.part", dir);
        cr_assert_eq(access(part, R_OK), 0, "an interrupted point must keep its .part file");
        if (lose_timing_log) {
            snprintf(part, sizeof part, "%s/timing.csv.part", dir);
            cr_assert_eq(remove(part), 0);
        }
        stop_flag = 0;
        stop_after = 0;
        train_once(dir, EPOCHS, true, &res);
        cr_expect_eq(steps_run, EPOCHS * STEPS - interrupt, "the resume ran %d steps; %d were left", steps_run,
                     EPOCHS * STEPS - interrupt);
        if (interrupt % STEPS)
            cr_expect(first_epoch == interrupt / STEPS + 1 && first_step == interrupt % STEPS + 1,
                      "the resume started at epoch %d step %d, not after step %d", first_epoch, first_step, interrupt);
    } else {
        cr_assert_eq(steps_run, EPOCHS * STEPS);
    }
    cr_assert_str_eq(res.status, "done");
}

static void expect_same_files(const char *a, const char *b) {
    const char *files[] = { "metrics.csv", "checkpoint" };
    for (int i = 0; i < 2; i++) {
        char pa[600], pb[600];
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        tu_expect_same_file(pa, pb);
    }
}

static void expect_resumed_same_bytes(int interrupt, const char *name) {
    char a[512], b[512];
    snprintf(a, sizeof a, "%s", tu_tmpdir("whole"));
    snprintf(b, sizeof b, "%s", tu_tmpdir(name));
    train_point(a, 0);
    train_point(b, interrupt);
    expect_same_files(a, b);
}

Test(resume, interrupted_mid_epoch_then_resumed_gives_the_same_bytes) {
    expect_resumed_same_bytes(11, "resumed");     /* 8 steps per epoch: the middle of epoch 2 */
}

/* Stopped after the last step of an epoch: the resumed run has no step left in that epoch, and
** its metrics row still carries the learning rate of the epoch's last step. */
Test(resume, interrupted_after_the_last_step_of_an_epoch_gives_the_same_bytes) {
    expect_resumed_same_bytes(16, "resumed_at_end");
}

/* checkpoint_every = 2 over 5 epochs: checkpoints after epochs 2, 4 and the last. A kill in
** epoch 4 (epoch 3's rows written, its checkpoint not) resumes from epoch 2's checkpoint, trains
** epochs 3 to 5 again (their steps counted), drops the rows of epoch 3 written before the kill,
** and ends with the bytes of the run that was never killed. */
Test(resume, checkpoint_every_2_resumes_from_the_last_checkpoint_taken) {
    char a[512], b[512];
    snprintf(a, sizeof a, "%s", tu_tmpdir("every2"));
    snprintf(b, sizeof b, "%s", tu_tmpdir("every2_killed"));
    every = 2;
    snap_epoch = 3;
    snprintf(snap_from, sizeof snap_from, "%s", a);
    snprintf(snap_to, sizeof snap_to, "%s", b);
    nn_result res;
    stop_flag = 0;
    stop_after = 0;
    train_once(a, 5, false, &res);
    snap_epoch = 0;
    cr_assert_str_eq(res.status, "done");
    char path[600];
    snprintf(path, sizeof path, "%s/metrics.csv.part", b);
    char *part = tu_read_file(path, NULL);
    cr_assert_not_null(part, "the copy in epoch 4 has no metrics.csv.part");
    cr_expect_not_null(strstr(part, "\n3,test,"), "epoch 3's rows were not written before the copy");
    free(part);
    train_once(b, 5, true, &res);
    every = 1;
    cr_assert_str_eq(res.status, "done");
    cr_expect_eq(steps_run, 3 * STEPS, "the resume ran %d steps; epochs 3 to 5 have %d", steps_run, 3 * STEPS);
    cr_expect(first_epoch == 3 && first_step == 1, "the resume started at epoch %d step %d", first_epoch, first_step);
    expect_same_files(a, b);
}

/* Batch norms' running statistics and their EMA are in the checkpoint: a resumed convolutional
** point ends with the bytes of the one never interrupted (metrics and checkpoint). */
Test(resume, batchnorm_statistics_resume_to_the_same_bytes) {
    conv_point = true;
    expect_resumed_same_bytes(11, "resumed_conv");
    char path[600];
    snprintf(path, sizeof path, "tmp-resumed_conv-%d/checkpoint", (int)getpid());     /* tu_tmpdir's name */
    rt_err err = { 0 };
    rt_ckpt *ck = rt_ckpt_load(path, &err);
    cr_assert_not_null(ck, "%s", err.msg);
    cr_expect(rt_ckpt_has(ck, "state") && rt_ckpt_has(ck, "ema.state"), "the checkpoint has no running statistics");
    rt_ckpt_free(ck);
    conv_point = false;
}

/* Augmentation draws from the data-order stream after each epoch's shuffle: a run interrupted in
** the middle of epoch 2 and resumed replays that epoch's order and crops, and ends with the bytes
** of the run never interrupted; those bytes differ from the same point trained unaugmented (the
** draws are used). */
Test(resume, augmented_run_interrupted_then_resumed_gives_the_same_bytes) {
    augment_on = true;
    expect_resumed_same_bytes(11, "resumed_aug");
    char whole[512], plain[512], pa[600], pb[600];
    snprintf(whole, sizeof whole, "tmp-whole-%d", (int)getpid());     /* the augmented run, kept */
    augment_on = false;
    snprintf(plain, sizeof plain, "%s", tu_tmpdir("plain"));
    train_point(plain, 0);
    snprintf(pa, sizeof pa, "%s/metrics.csv", whole);
    snprintf(pb, sizeof pb, "%s/metrics.csv", plain);
    char *a = tu_read_file(pa, NULL), *b = tu_read_file(pb, NULL);
    cr_assert(a && b);
    cr_expect_str_neq(a, b, "augmentation changed nothing");
    free(a);
    free(b);
}

/* Evaluation never sees augmentation: after an augmented epoch the train row of the result is the
** evaluation of the final weights on the training set as it was loaded (a copy kept aside), and
** the training set itself is left untouched. */
Test(nn, evaluation_is_not_augmented) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 16, "fc1"), L(NN_LAYER_RELU, 0, "r"), L(NN_LAYER_LINEAR, 2, "out") };
    nn_model m;
    nn_obj o;
    ce_model(&m, &o, s, 3, 48, 1);
    nn_dataset tr = image_blobs(200, 3), te = image_blobs(50, 4), copy = image_blobs(200, 3);
    nn_train_cfg cfg = nn_train_cfg_default();
    cfg.epochs = 1;
    cfg.batch = 20;
    cfg.dir = tu_tmpdir("eval_not_augmented");
    cfg.augment = NN_AUG_CROP_FLIP;
    nn_result res;
    rt_err err = { 0 };
    cr_assert_eq(nn_train(&m, &o, &tr, &te, &cfg, &res, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(memcmp(tr.x, copy.x, (size_t)tr.n * 48 * sizeof(float)), 0, "training changed the data set");
    rt_ctx c;
    rt_ctx_init(&c, 1u << 20);
    nn_eval_cfg e = { .batch = cfg.eval_batch, .seed = cfg.seed, .epoch = 1.0 };
    nn_eval ev = nn_evaluate(&m, &o, &copy, &e, &c);
    cr_expect_eq(ev.loss_bits, res.train_loss_bits, "%.9g vs %.9g", ev.loss_bits, res.train_loss_bits);
    cr_expect_eq(ev.error, res.train_error);
    /* the same weights on crops of the training set score otherwise */
    int32_t *idx = malloc(200 * sizeof *idx);
    uint8_t *codes = malloc(200);
    for (int i = 0; i < 200; i++) idx[i] = i, codes[i] = (uint8_t)((i * 37) % NN_AUG_CODES);
    nn_data_gather_aug(&copy, idx, codes, 200, tr.x, tr.y);
    nn_eval cropped = nn_evaluate(&m, &o, &tr, &e, &c);
    cr_expect_neq(cropped.loss_bits, res.train_loss_bits);
    free(idx);
    free(codes);
    rt_ctx_free(&c);
    nn_dataset *all[3] = { &tr, &te, &copy };
    for (int i = 0; i < 3; i++) free(all[i]->x), free(all[i]->y);
    nn_model_free(&m);
}

/* Augmentation needs (C, H, W) examples: nn_train refuses it on flat ones before writing. */
Test(nn, augment_refuses_flat_examples) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 2, "out") };
    nn_model m;
    nn_obj o;
    ce_model(&m, &o, s, 1, 8, 1);
    nn_dataset tr = blobs(20, 1);
    snprintf(tr.source, sizeof tr.source, "blobs.csv");
    nn_train_cfg cfg = nn_train_cfg_default();
    cfg.dir = tu_tmpdir("augment_flat");
    cfg.augment = NN_AUG_CROP_FLIP;
    nn_result res;
    rt_err err = { 0 };
    cr_assert_eq(nn_train(&m, &o, &tr, &tr, &cfg, &res, &err), RT_ERR_ARG);
    cr_expect_not_null(strstr(err.msg, "augment = \"crop_flip\" crops and mirrors images of shape (C, H, W), but "
                              "blobs.csv holds examples of 1 dimension"), "%s", err.msg);
    free(tr.x), free(tr.y);
    nn_model_free(&m);
}

/* A timing log lost between the interrupt and the resume is started again with its header. */
Test(resume, a_lost_timing_log_gets_its_header_again) {
    char d[512], path[600];
    snprintf(d, sizeof d, "%s", tu_tmpdir("lost_timing"));
    lose_timing_log = true;
    train_point(d, 11);
    lose_timing_log = false;
    snprintf(path, sizeof path, "%s/timing.csv", d);
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text);
    cr_expect(strncmp(text, "epoch,", 6) == 0, "timing.csv starts with:\n%.80s", text);
    free(text);
}
