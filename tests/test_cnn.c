// test_cnn.c: convolutional models in nn/: shapes, parameter and multiply-add counts, the errors
// against the script line, whole models under finite differences (residual blocks, batch norm in
// training mode), batch norm's running statistics as state, option A shortcuts, channel dropout,
// and the ResNet builder's published parameter counts through vibrun --check.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "nn_train.h"
#include "testutil.h"

static nn_layer_spec S(nn_layer_kind k, int out, const char *name) {
    nn_layer_spec s = nn_layer_spec_default(k);
    s.out = out;
    snprintf(s.name, sizeof s.name, "%s", name);
    snprintf(s.where, sizeof s.where, "cnn.lua:%d", 10 + (int)k);
    return s;
}

static nn_layer_spec conv(int out, int k, int stride, int pad, const char *name) {
    nn_layer_spec s = S(NN_LAYER_CONV, out, name);
    s.kernel[0] = s.kernel[1] = k;
    s.stride[0] = s.stride[1] = stride;
    s.pad[0] = s.pad[1] = pad;
    s.init = NN_INIT_HE;
    return s;
}

static nn_layer_spec pool(nn_layer_kind kind, int k, int stride, int pad, const char *name) {
    nn_layer_spec s = S(kind, 0, name);
    s.kernel[0] = s.kernel[1] = k;
    s.stride[0] = s.stride[1] = stride;
    s.pad[0] = s.pad[1] = pad;
    return s;
}

static nn_layer_spec residual(int nbody, nn_shortcut sc, const char *name) {
    nn_layer_spec s = S(NN_LAYER_RESIDUAL, 0, name);
    s.nbody = nbody;
    s.shortcut = sc;
    s.init = NN_INIT_HE;
    return s;
}

// ---- shapes, counts, errors ----

Test(cnn, build_infers_shapes_parameters_and_multiply_adds) {
    nn_layer_spec s[] = { conv(8, 3, 1, 1, "c1"), S(NN_LAYER_BATCHNORM, 0, "bn"), S(NN_LAYER_RELU, 0, "r"),
                          pool(NN_LAYER_MAXPOOL, 2, 2, 0, "mp"), conv(16, 3, 2, 0, "c2"),
                          S(NN_LAYER_GAP, 0, "gap"), S(NN_LAYER_LINEAR, 10, "fc") };
    s[4].bias = false;
    nn_model m;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build_shape(&m, s, 7, (int[]){ 3, 32, 32 }, true, &err), RT_OK, "%s", err.msg);
    const int want[7][3] = { { 8, 32, 32 }, { 8, 32, 32 }, { 8, 32, 32 }, { 8, 16, 16 }, { 16, 7, 7 },
                             { 16, 1, 1 }, { 10, 1, 1 } };
    for (int i = 0; i < 7; i++)
        cr_expect(memcmp(m.layers[i].shape, want[i], sizeof want[i]) == 0, "%s: (%d, %d, %d)", s[i].name,
                  m.layers[i].shape[0], m.layers[i].shape[1], m.layers[i].shape[2]);
    cr_expect(m.layers[4].spatial && !m.layers[5].spatial);
    cr_expect_eq(m.in, 3072);
    cr_expect_eq(m.out, 10);
    cr_expect_eq(m.layers[0].nparams, 8 * 3 * 9 + 8);
    cr_expect_eq(m.layers[1].nparams, 16);
    cr_expect_eq(m.layers[4].nparams, 16 * 8 * 9);
    cr_expect_eq(m.layers[0].macs, (int64_t)8 * 32 * 32 * 3 * 9);
    cr_expect_eq(m.layers[4].macs, (int64_t)16 * 7 * 7 * 8 * 9);
    cr_expect_eq(m.layers[6].macs, 160);
    cr_expect_eq(m.nstate, 16u, "the batch norm's running means and variances");
    cr_expect_eq(m.params.total, (size_t)(224 + 16 + 1152 + 170), "running statistics are not parameters");
    char buf[4096];
    nn_model_summary(&m, buf, sizeof buf);
    cr_expect_not_null(strstr(buf, "(B, 3, 32, 32)"), "%s", buf);
    cr_expect_not_null(strstr(buf, "(B, 16, 7, 7)"), "%s", buf);
    cr_expect_not_null(strstr(buf, "total parameters: 1562"), "%s", buf);
    cr_expect_not_null(strstr(buf, "total multiply-adds per example: 277792 "), "%s", buf);
    nn_model_free(&m);
}

/* Each bad architecture is one message naming the layer's script line. */
Test(cnn, build_errors_name_the_script_line) {
    struct { nn_layer_spec s[3]; int n; const char *want; } cases[] = {
        { { conv(4, 5, 1, 1, "big") }, 1,
          "cnn.lua:19: conv 'big': the kernel spans 5 rows (kernel 5, dilation 1) but the padded input has 4" },
        { { conv(3, 1, 1, 0, "g") }, 1, "conv 'g': groups=2 must divide both the 2 input channels and the 3 output" },
        { { S(NN_LAYER_GAP, 0, "p"), conv(3, 1, 1, 0, "late") }, 2, "conv 'late': its input is 2 flat features" },
        { { residual(1, NN_SHORTCUT_NONE, "blk"), conv(4, 1, 1, 0, "c") }, 2,
          "cnn.lua:28: residual 'blk': the body maps (2, 2, 2) to (4, 2, 2), so the identity shortcut does not fit" },
        { { pool(NN_LAYER_AVGPOOL, 3, 1, 0, "ap") }, 1, "avgpool 'ap': the kernel spans 3 rows" },
    };
    cases[1].s[0].groups = 2;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nn_model m;
        rt_err err = { 0 };
        cr_expect_eq(nn_model_build_shape(&m, cases[i].s, cases[i].n, (int[]){ 2, 2, 2 }, true, &err), RT_ERR_ARG,
                     "case %zu built", i);
        cr_expect_not_null(strstr(err.msg, cases[i].want), "case %zu: %s", i, err.msg);
    }
}

// ---- whole models under finite differences ----

static nn_model gc_model;
static nn_obj gc_obj;
static int gc_w1, gc_w2;                /* the layers whose weights are the checked inputs 1 and 2 */

static rt_tensor *b_cnn(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    (void)k;
    static const int32_t y[4] = { 0, 2, 1, 2 };
    gc_model.layers[gc_w1].w = x[1];
    gc_model.layers[gc_w2].w = x[2];
    nn_fwd f = { c, true, NULL, 0, 0, 0, NULL };      /* training mode: batch statistics */
    rt_tensor *out = nn_model_forward(&gc_model, &f, x[0]);
    nn_obj_in in = { out, x[0], y, 4, &f, 0.0 };
    return nn_obj_forward(&gc_obj, &gc_model, c, &in).loss;
}

static void gc_setup(const nn_layer_spec *s, int n, const int shape[3], int w1, int w2) {
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build_shape(&gc_model, s, n, shape, true, &err), RT_OK, "%s", err.msg);
    rt_rng r;
    rt_rng_seed(&r, 9);
    nn_model_init(&gc_model, &r);
    /* gamma and beta away from 1 and 0, so that their role in the gradient shows */
    for (int i = 0; i < n; i++) {
        nn_layer *l = &gc_model.layers[i];
        nn_layer_kind kd = l->spec.kind;
        if (kd != NN_LAYER_BATCHNORM && kd != NN_LAYER_GROUPNORM && kd != NN_LAYER_LAYERNORM) continue;
        for (int64_t j = 0; j < l->w->n; j++) l->w->data[j] = 0.5f + 0.1f * (float)j, l->b->data[j] = 0.05f * (float)j;
    }
    nn_term_spec ce = nn_term_spec_default(NN_TERM_CE);
    cr_assert_eq(nn_obj_build(&gc_obj, &ce, 1, NULL, 0, &gc_model, &err), RT_OK, "%s", err.msg);
    gc_w1 = w1;
    gc_w2 = w2;
}

/* conv, batch norm, a residual block with a strided body and an option B shortcut (1x1 convolution
** and batch norm), group norm, average pooling, global pooling, linear: the input, the first
** convolution's weight and the shortcut's weight against central differences. Smooth activations
** (softplus, tanh): in training mode every batch norm output moves with every weight, so a ReLU or
** a max pool would cross its kink somewhere under the finite difference (the ops' own checks
** cover those). */
Test(cnn, residual_block_and_batchnorm_in_training_match_finite_differences) {
    nn_layer_spec s[] = { conv(4, 3, 1, 1, "c1"), S(NN_LAYER_BATCHNORM, 0, "bn1"), S(NN_LAYER_SOFTPLUS, 0, "r1"),
                          residual(5, NN_SHORTCUT_B, "blk"), conv(6, 3, 2, 1, "c2"), S(NN_LAYER_BATCHNORM, 0, "bn2"),
                          S(NN_LAYER_TANH, 0, "r2"), conv(6, 3, 1, 1, "c3"), S(NN_LAYER_GROUPNORM, 0, "gn"),
                          S(NN_LAYER_SOFTPLUS, 0, "r3"), pool(NN_LAYER_AVGPOOL, 2, 1, 0, "mp"), S(NN_LAYER_GAP, 0, "gap"),
                          S(NN_LAYER_LINEAR, 3, "out") };
    s[8].groups = 3;
    gc_setup(s, 13, (int[]){ 2, 5, 5 }, 0, 3);
    cr_assert_eq(gc_model.layers[3].shape[0], 6);
    cr_assert_eq(gc_model.layers[3].shape[1], 3);
    gc_case k = { "conv-bn-softplus-residual(B)-softplus-avgpool-gap-linear, training mode", -1, 3, { 2, 4, 4 },
                  { { 4, 50 }, { 4, 2, 3, 3 }, { 6, 4, 1, 1 } }, { -1, -0.5f, -0.5f }, { 1, 0.5f, 0.5f }, 0, b_cnn,
                  .eps = 1e-3, .rtol = 2e-2, .atol = 2e-3 };
    cr_expect_eq(gc_run(&k, 11), 0);
    nn_model_free(&gc_model);
}

/* A transposed convolution, layer norm, average pooling with padding, an option A block, a
** depthwise convolution and batch norm on flat features. */
Test(cnn, transposed_depthwise_and_option_a_match_finite_differences) {
    nn_layer_spec s[] = { conv(2, 3, 2, 1, "up"), S(NN_LAYER_LAYERNORM, 0, "ln"), S(NN_LAYER_TANH, 0, "t"),
                          pool(NN_LAYER_AVGPOOL, 3, 2, 1, "ap"), residual(1, NN_SHORTCUT_A, "blk"),
                          conv(4, 1, 2, 0, "c"), conv(4, 2, 1, 0, "dw"), S(NN_LAYER_FLATTEN, 0, "fl"),
                          S(NN_LAYER_BATCHNORM, 0, "bn"), S(NN_LAYER_LINEAR, 3, "out") };
    s[0].kind = NN_LAYER_CONV_T;
    s[0].out_pad[0] = s[0].out_pad[1] = 1;
    s[6].groups = 4;
    gc_setup(s, 10, (int[]){ 1, 4, 4 }, 0, 6);
    const int want_up[3] = { 2, 8, 8 }, want_blk[3] = { 4, 2, 2 };
    cr_assert(memcmp(gc_model.layers[0].shape, want_up, sizeof want_up) == 0);
    cr_assert(memcmp(gc_model.layers[4].shape, want_blk, sizeof want_blk) == 0);
    cr_expect_eq(gc_model.layers[4].nparams, 0, "option A has no parameters");
    gc_case k = { "conv_t-layernorm-tanh-avgpool-residual(A)-depthwise-flatten-bn-linear, training mode", -1, 3,
                  { 2, 4, 4 }, { { 4, 16 }, { 1, 2, 3, 3 }, { 4, 1, 2, 2 } }, { -1, -0.5f, -0.5f }, { 1, 0.5f, 0.5f }, 0,
                  b_cnn, .eps = 1e-3, .rtol = 2e-2, .atol = 2e-3 };
    cr_expect_eq(gc_run(&k, 12), 0);
    nn_model_free(&gc_model);
}

// ---- batch norm's running statistics ----

/* Training mode updates the running statistics as PyTorch does (r = 0.9 r + 0.1 batch, the
** unbiased variance); evaluation normalizes with them and leaves them alone. */
Test(cnn, batchnorm_keeps_running_statistics_as_state) {
    nn_layer_spec s[] = { S(NN_LAYER_BATCHNORM, 0, "bn") };
    nn_model m;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build_shape(&m, s, 1, (int[]){ 2, 1, 3 }, true, &err), RT_OK, "%s", err.msg);
    rt_rng r;
    rt_rng_seed(&r, 1);
    nn_model_init(&m, &r);
    cr_expect_eq(m.params.total, 4u);
    cr_assert_eq(m.nstate, 4u);
    cr_expect(m.layers[0].run_mean[0] == 0.0f && m.layers[0].run_var[1] == 1.0f);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ 2, 6 });      /* 2 examples of (2, 1, 3) */
    const float v[12] = { 1, 2, 3, 10, 20, 30, 5, 6, 7, 40, 50, 60 };
    memcpy(x->data, v, sizeof v);
    nn_fwd f = { &c, true, NULL, 0, 0, 0, NULL };
    nn_model_forward(&m, &f, x);
    /* channel 0: 1,2,3,5,6,7: mean 4, unbiased variance 28/5; channel 1: mean 35, variance 1750/5 */
    cr_expect_float_eq(m.layers[0].run_mean[0], 0.4f, 1e-6f);
    cr_expect_float_eq(m.layers[0].run_mean[1], 3.5f, 1e-5f);
    cr_expect_float_eq(m.layers[0].run_var[0], 0.9f + 0.1f * 5.6f, 1e-5f);
    cr_expect_float_eq(m.layers[0].run_var[1], 0.9f + 0.1f * 350.0f, 1e-4f);
    float saved[4];
    memcpy(saved, m.state, sizeof saved);
    rt_ctx_reset(&c);
    x = rt_tensor_new(&c, 2, (int[]){ 2, 6 });
    memcpy(x->data, v, sizeof v);
    f.train = false;
    rt_tensor *y = nn_model_forward(&m, &f, x);
    cr_expect(memcmp(saved, m.state, sizeof saved) == 0, "evaluation changed the running statistics");
    float want = (1.0f - 0.4f) / sqrtf(1.46f + 1e-5f);
    cr_expect_float_eq(y->data[0], want, 1e-5f, "evaluation normalizes with the running statistics: %g", (double)y->data[0]);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

/* The optimizer, weight decay and clipping never touch the running statistics: after a training
** step with a large decay and clipping, they are exactly what the step's forward pass made. */
Test(cnn, optimizer_leaves_running_statistics_to_batch_norm) {
    nn_layer_spec s[] = { conv(3, 3, 1, 1, "c"), S(NN_LAYER_BATCHNORM, 0, "bn"), S(NN_LAYER_RELU, 0, "r"),
                          S(NN_LAYER_GAP, 0, "gap"), S(NN_LAYER_LINEAR, 2, "out") };
    nn_model a, b;
    rt_err err = { 0 };
    for (int k = 0; k < 2; k++) {
        nn_model *m = k ? &b : &a;
        cr_assert_eq(nn_model_build_shape(m, s, 5, (int[]){ 2, 2, 2 }, true, &err), RT_OK, "%s", err.msg);
        rt_rng r;
        rt_rng_seed(&r, 4);
        nn_model_init(m, &r);
    }
    nn_term_spec ce = nn_term_spec_default(NN_TERM_CE);
    nn_obj o;
    cr_assert_eq(nn_obj_build(&o, &ce, 1, NULL, 0, &a, &err), RT_OK, "%s", err.msg);
    nn_dataset d = { .n = 8, .ndim = 3, .shape = { 2, 2, 2 }, .dim = 8, .nclass = 2 };
    float xs[64];
    int32_t ys[8];
    rt_rng r;
    rt_rng_seed(&r, 2);
    for (int i = 0; i < 64; i++) xs[i] = (float)rt_rng_normal(&r) * 3.0f + 1.0f;
    for (int i = 0; i < 8; i++) ys[i] = i % 2;
    d.x = xs;
    d.y = ys;
    rt_optim_cfg oc = rt_optim_cfg_default();
    oc.kind = RT_OPTIM_ADAMW;
    oc.weight_decay = 0.5f;
    oc.clip_norm = 1e-3f;
    rt_optim opt;
    rt_optim_init(&opt, &oc, a.params.total);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_rng noise;
    rt_rng_seed(&noise, 3);
    nn_step st = { &a, &o, &c, &opt, NULL, &noise, NULL };
    int32_t idx[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    double loss = nn_train_step(&st, &d, idx, 8, 0.1f, 0.0);
    cr_assert(isfinite(loss));
    /* b: the same forward pass alone */
    rt_ctx_reset(&c);
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ 8, 8 });
    memcpy(x->data, xs, sizeof xs);
    nn_fwd f = { &c, true, &noise, 0, 0, 0, NULL };
    nn_model_forward(&b, &f, x);
    cr_expect(memcmp(a.state, b.state, a.nstate * sizeof(float)) == 0, "the step changed the statistics otherwise");
    cr_expect(memcmp(a.params.data, b.params.data, a.params.total * sizeof(float)) != 0, "the step trained nothing");
    rt_optim_free(&opt);
    rt_ctx_free(&c);
    nn_model_free(&a);
    nn_model_free(&b);
}

// ---- option A, channel dropout ----

/* Option A is x subsampled by the stride with the new channels zero on both sides: with a body
** that outputs zeros, the block's output is exactly that. */
Test(cnn, option_a_shortcut_subsamples_and_zero_pads_channels) {
    nn_layer_spec s[] = { residual(1, NN_SHORTCUT_A, "blk"), conv(6, 3, 2, 1, "c") };
    s[1].bias = false;
    nn_model m;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build_shape(&m, s, 2, (int[]){ 2, 4, 4 }, true, &err), RT_OK, "%s", err.msg);
    memset(m.layers[1].w->data, 0, (size_t)m.layers[1].w->n * sizeof(float));
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ 1, 32 });
    for (int i = 0; i < 32; i++) x->data[i] = (float)(i + 1);
    nn_fwd f = { &c, false, NULL, 0, 0, 0, NULL };
    rt_tensor *y = nn_model_forward(&m, &f, x);
    cr_assert_eq(y->n, 6 * 2 * 2);
    for (int o = 0; o < 6; o++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) {
                int k = o - 2;                  /* channels 2 and 3 carry the input's 0 and 1 */
                float want = k >= 0 && k < 2 ? x->data[k * 16 + 2 * i * 4 + 2 * j] : 0.0f;
                cr_expect_eq(y->data[o * 4 + i * 2 + j], want, "channel %d (%d, %d): %g, want %g", o, i, j,
                             (double)y->data[o * 4 + i * 2 + j], (double)want);
            }
    rt_ctx_free(&c);
    nn_model_free(&m);
}

Test(cnn, per_channel_dropout_drops_whole_channels) {
    nn_layer_spec s[] = { S(NN_LAYER_DROPOUT, 0, "d") };
    s[0].p = 0.5f;
    s[0].per_channel = true;
    nn_model m;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build_shape(&m, s, 1, (int[]){ 16, 3, 3 }, true, &err), RT_OK, "%s", err.msg);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ 4, 144 });
    for (int64_t i = 0; i < x->n; i++) x->data[i] = 1.0f;
    rt_rng noise;
    rt_rng_seed(&noise, 8);
    nn_fwd f = { &c, true, &noise, 0, 0, 0, NULL };
    rt_tensor *y = nn_model_forward(&m, &f, x);
    int dropped = 0;
    for (int ch = 0; ch < 64; ch++) {
        float v0 = y->data[ch * 9];
        cr_expect(v0 == 0.0f || v0 == 2.0f, "kept values are scaled by 1/(1-p): %g", (double)v0);
        for (int q = 1; q < 9; q++) cr_expect_eq(y->data[ch * 9 + q], v0, "channel %d is not dropped whole", ch);
        dropped += v0 == 0.0f;
    }
    cr_expect(dropped > 16 && dropped < 48, "%d of 64 channels dropped at p = 0.5", dropped);
    rt_ctx_free(&c);
    nn_model_free(&m);
}

// ---- the ResNet builder, through the DSL ----

/* He et al.'s CIFAR ResNets and the CIFAR ResNet-18 have their published parameter counts:
** ResNet-20 0.27M (269,722), -32 0.46M, -56 0.85M, ResNet-18 11.17M (11,173,962). */
Test(cnn, resnet_builder_has_the_published_parameter_counts) {
    const char *dir = tu_tmpdir("resnet");
    char path[700];
    snprintf(path, sizeof path, "%s/img.csv", dir);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    for (int j = 0; j < 3072; j++) fprintf(fp, "x%d,", j);
    fprintf(fp, "y\n");
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 3072; j++) fprintf(fp, "%d,", (i * 7 + j) % 5);
        fprintf(fp, "%d\n", i % 2);
    }
    fclose(fp);
    snprintf(path, sizeof path, "%s/r.lua", dir);
    fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fprintf(fp, "local vib = require \"vib\"\n"
                "return vib.experiment {\n"
                "  name = \"r\", data = vib.data.csv { path = \"img.csv\", shape = { 3, 32, 32 }, holdout = 0.5 },\n"
                "  params = { depth = 20, shortcut = \"A\" },\n"
                "  model = function(p) return vib.resnet { depth = p.depth, shortcut = p.shortcut } end,\n"
                "}\n");
    fclose(fp);
    struct { int depth; const char *sc; const char *want; } cases[] = {
        { 20, "A", "total parameters: 269722\n" }, { 32, "A", "total parameters: 464154\n" },
        { 56, "A", "total parameters: 853018\n" }, { 18, "B", "total parameters: 11173962\n" },
    };
    static char out[1 << 17];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cmd[1600];
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --check --set depth=%d --set shortcut=%s r.lua 2>&1", dir,
                 tu_vibrun(), cases[i].depth, cases[i].sc);
        cr_expect_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
        cr_expect_not_null(strstr(out, cases[i].want), "ResNet-%d: want %s in\n%s", cases[i].depth, cases[i].want,
                           out + (strlen(out) > 600 ? strlen(out) - 600 : 0));
    }
    /* ResNet-20's 40.55M multiply-adds (published: about 41M) */
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --check r.lua 2>&1", dir, tu_vibrun());
    cr_expect_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    cr_expect_not_null(strstr(out, "total multiply-adds per example: 40551040 (40.55M)"), "%s", out);
    cr_expect_not_null(strstr(out, "  s2b1_conv1     conv           (B, 32, 16, 16)"), "%s", out);
}
