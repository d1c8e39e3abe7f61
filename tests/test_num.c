// test_num.c: numbers that mean what they say (issue 22, "Wrong numbers" and the docs items): the
// rate against a learned mixture prior in mean-mode evaluation, IMB's per-layer relevance in the
// information plane, noise layers in evaluation, weight schedules outside a nonlinearity, the
// data checks of the likelihoods. Each test fails on the code before its fix.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gradcheck.h"
#include "nn_measure.h"
#include "rt_ops.h"
#include "testutil.h"
#include "nn_train.h"

static nn_layer_spec L(nn_layer_kind k, int out, const char *name) { return tu_layer("num.lua", 10, k, out, name); }

static nn_term_spec T(nn_term_kind k, const char *name, const char *layer, float weight) {
    return tu_term("num.lua:7", k, name, layer, weight);
}

/* Builds the model and, when nt > 0, the objective from the specs (asserting that both build), and
** draws the weights from seed; returns the stream after that draw, for the test's own draws. */
static rt_rng build(nn_model *m, nn_obj *o, const nn_layer_spec *s, int nl, int in, const nn_term_spec *t, int nt,
                    uint64_t seed) {
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(m, s, nl, in, &err), RT_OK, "%s", err.msg);
    if (nt > 0) cr_assert_eq(nn_obj_build(o, t, nt, NULL, 0, m, &err), RT_OK, "%s", err.msg);
    rt_rng r;
    rt_rng_seed(&r, seed);
    nn_model_init(m, &r);
    return r;
}

/* n examples of dimension dim, uniform in [lo, hi), labels k mod C. */
static nn_dataset toy_data(int n, int dim, int C, float lo, float hi, uint64_t seed) {
    nn_dataset d;
    memset(&d, 0, sizeof d);
    d.n = n;
    d.ndim = 1;
    d.shape[0] = dim;
    d.shape[1] = d.shape[2] = 1;
    d.dim = dim;
    d.nclass = C;
    d.x = malloc((size_t)n * (size_t)dim * sizeof *d.x);
    d.y = malloc((size_t)n * sizeof *d.y);
    rt_rng r;
    rt_rng_seed(&r, seed);
    rt_rng_fill_uniform(&r, d.x, (size_t)n * (size_t)dim, lo, hi);
    for (int i = 0; i < n; i++) d.y[i] = i % C;
    snprintf(d.source, sizeof d.source, "toy.csv");
    return d;
}

static void toy_free(nn_dataset *d) {
    free(d->x);
    free(d->y);
}

// ---- 1. the rate against a learned mixture prior, evaluated at the mean ----

/* With eval_samples = 0 the rate of vib.obj.vib { components = C } must be scored against the
** mixture, not against N(0, I): a mixture whose every component is N(m, I) has the closed form
** KL(N(mu, sigma^2) || N(m, I)), which the evaluation's one-sample estimate must match on average. */
Test(mixture, mean_mode_evaluation_scores_the_rate_against_the_mixture) {
    enum { K = 3, N = 4000, C = 4 };
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 5, "enc"), L(NN_LAYER_TANH, 0, "t"), L(NN_LAYER_GAUSS, K, "z"),
                          L(NN_LAYER_LINEAR, 2, "out") };
    s[2].samples = 1;
    nn_term_spec t[] = { T(NN_TERM_CE, "ce", "", 1.0f), T(NN_TERM_KL, "mog", "z", 1.0f), T(NN_TERM_KL, "unit", "z", 1.0f) };
    t[1].components = C;
    nn_model m;
    nn_obj o;
    build(&m, &o, s, 4, 2, t, 3, 3);
    const double shift = 1.5;
    for (int i = 0; i < C * K; i++) o.param[1][0]->data[i] = (float)shift;     /* every component N(shift, I) */
    nn_dataset d = toy_data(N, 2, 2, -1.0f, 1.0f, 5);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 22);
    nn_eval_cfg e = { 0, 1000, 0, NN_AVG_PROBS, 11, 0, 0, 0.0, NULL };
    nn_eval ev = nn_evaluate(&m, &o, &d, &e, &c);
    /* The reference: the closed form per example from the layer's mean and scale, in double. */
    c.grad_enabled = false;
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ N, 2 });
    memcpy(x->data, d.x, (size_t)N * 2 * sizeof(float));
    nn_fwd f = { &c, false, NULL, 0, 0, 0, NULL };
    nn_model_forward(&m, &f, x);
    const nn_layer *z = &m.layers[2];
    double ref = 0.0, unit = 0.0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) {
            double mu = z->mu->data[i * K + k], sg = z->sigma->data[i * K + k];
            ref += 0.5 * (sg * sg + (mu - shift) * (mu - shift) - 1.0 - log(sg * sg)) / N;
            unit += 0.5 * (sg * sg + mu * mu - 1.0 - log(sg * sg)) / N;
        }
    double ln2 = log(2.0);
    cr_expect(fabs(ev.term_bits[2] * ln2 - unit) < 1e-4 * (1.0 + unit), "closed form vs N(0, I): %g vs %g nats",
              ev.term_bits[2] * ln2, unit);
    cr_expect(fabs(ev.term_bits[1] - ev.term_bits[2]) > 1.0, "mixture %g bits, N(0, I) %g bits: they must differ",
              ev.term_bits[1], ev.term_bits[2]);
    /* The MC estimate's spread per example is O(sqrt(K)) nats: 0.15 nats is several standard errors. */
    cr_expect(fabs(ev.term_bits[1] * ln2 - ref) < 0.15, "mixture rate %g nats vs closed form %g nats",
              ev.term_bits[1] * ln2, ref);
    /* The loss reads the same rate. */
    cr_expect(fabs(ev.loss_bits - (ev.term_bits[0] + ev.term_bits[1] + ev.term_bits[2])) < 1e-6 * (1.0 + fabs(ev.loss_bits)));
    /* Bytes do not depend on the evaluation batch. */
    e.batch = 333;
    nn_eval ev2 = nn_evaluate(&m, &o, &d, &e, &c);
    cr_expect(fabs(ev2.term_bits[1] - ev.term_bits[1]) < 1e-9 * (1.0 + fabs(ev.term_bits[1])), "batch 333: %.12g vs %.12g",
              ev2.term_bits[1], ev.term_bits[1]);
    rt_ctx_free(&c);
    toy_free(&d);
    nn_model_free(&m);
}

/* The symptom: components = 4 and components = 0 logged the same kl_bits at epoch 0. */
Test(mixture, components_4_and_0_log_different_rates_in_mean_mode) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 4, "enc"), L(NN_LAYER_GAUSS, 2, "z"), L(NN_LAYER_LINEAR, 3, "out") };
    s[1].samples = 1;
    double kl[2];
    for (int v = 0; v < 2; v++) {
        nn_term_spec t[] = { T(NN_TERM_CE, "ce", "", 1.0f), T(NN_TERM_KL, "kl", "z", 1e-3f) };
        t[1].components = v == 0 ? 4 : 0;
        nn_model m;
        nn_obj o;
        build(&m, &o, s, 3, 3, t, 2, 1);
        nn_dataset d = toy_data(200, 3, 3, 0.0f, 1.0f, 2);
        rt_ctx c;
        rt_ctx_init(&c, 1 << 20);
        nn_eval_cfg e = { 0, 100, 0, NN_AVG_PROBS, 1, 0, 0, 0.0, NULL };
        kl[v] = nn_evaluate(&m, &o, &d, &e, &c).term_bits[1];
        rt_ctx_free(&c);
        toy_free(&d);
        nn_model_free(&m);
    }
    cr_expect(fabs(kl[0] - kl[1]) > 1e-3, "components = 4: %.9g bits, components = 0: %.9g bits", kl[0], kl[1]);
}

// ---- 2. IMB's information plane: each layer's own relevance, and which network a row describes ----

static const nn_info_row *find_row(const nn_measure *mm, int split, const char *layer, nn_info_kind k) {
    for (int i = 0; i < mm->nlast; i++)
        if (mm->last[i].split == split && strcmp(mm->last[i].layer, layer) == 0 && mm->last[i].kind == k) return &mm->last[i];
    return NULL;
}

Test(imb_plane, each_layer_reads_its_own_vcr_and_rows_name_their_network) {
    nn_layer_spec s[] = { L(NN_LAYER_BERN, 6, "h1"), L(NN_LAYER_BERN, 5, "h2"), L(NN_LAYER_LINEAR, 3, "out") };
    s[0].samples = s[1].samples = 6;
    nn_term_spec t[] = { T(NN_TERM_CE, "vcr0", "", 1.0f), T(NN_TERM_CE, "vcr_h1", "", 0.8f), T(NN_TERM_CE, "vcr_h2", "", 1.0f),
                         T(NN_TERM_KL, "vc_h1", "h1", 1e-3f), T(NN_TERM_KL, "vc_h2", "h2", 1e-3f) };
    snprintf(t[0].average, sizeof t[0].average, "input");
    snprintf(t[1].average, sizeof t[1].average, "h1");
    snprintf(t[2].average, sizeof t[2].average, "h2");
    nn_model m;
    nn_obj o;
    build(&m, &o, s, 3, 4, t, 5, 8);
    /* Larger weights: the particles disagree, so averaging over them matters. */
    for (int i = 0; i < m.n; i++)
        if (m.layers[i].w)
            for (int64_t k = 0; k < m.layers[i].w->n; k++) m.layers[i].w->data[k] *= 4.0f;
    nn_dataset d = toy_data(60, 4, 3, -1.0f, 1.0f, 9);
    nn_measure_cfg cfg = nn_measure_cfg_default();
    cfg.on = true;
    snprintf(cfg.where, sizeof cfg.where, "num.lua:20");
    cfg.nlayers = 2;
    snprintf(cfg.layers[0], sizeof cfg.layers[0], "h1");
    snprintf(cfg.layers[1], sizeof cfg.layers[1], "h2");
    cfg.estimators = 1u << NN_EST_VARIATIONAL | 1u << NN_EST_KDE;
    cfg.split[0] = false;
    char dir[] = "/tmp/test_num_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    nn_measure mm;
    rt_err err = { 0 };
    cr_assert_eq(nn_measure_open(&mm, &cfg, &m, &o, &d, &d, 1, 0, dir, false, &err), RT_OK, "%s", err.msg);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 22);
    cr_assert_eq(nn_measure_epoch(&mm, &m, &o, 0, 20, &c, &err), RT_OK, "%s", err.msg);
    const nn_info_row *v1 = find_row(&mm, 1, "h1", NN_INFO_VARIATIONAL), *v2 = find_row(&mm, 1, "h2", NN_INFO_VARIATIONAL);
    cr_assert(v1 && v2, "variational rows of h1 and h2");
    /* The code's own terms, evaluated as the measurement does (6 particles per layer). */
    nn_eval_cfg e = { 0, 20, 6, NN_AVG_PROBS, 1, 0, 0, 0.0, NULL };
    nn_eval ev = nn_evaluate(&m, &o, &d, &e, &c);
    double hy = log2(3.0);
    cr_expect(fabs(v1->izy - (hy - ev.term_bits[1])) < 1e-9, "h1: %g vs H(Y) - VCR_1 = %g", v1->izy, hy - ev.term_bits[1]);
    cr_expect(fabs(v2->izy - (hy - ev.term_bits[2])) < 1e-9, "h2: %g vs H(Y) - VCR_2 = %g", v2->izy, hy - ev.term_bits[2]);
    /* Log-mean-exp over h2's particles (VCR_1) is below the mean of the logs (VCR_2): Jensen, and
    ** strictly so when the particles disagree. The same number for both was the bug. */
    cr_expect(v1->izy > v2->izy + 1e-3, "I(h1;Y) %g must exceed I(h2;Y) %g", v1->izy, v2->izy);
    cr_expect(ev.term_bits[0] < ev.term_bits[1] - 1e-3, "VCR_0 %g < VCR_1 %g", ev.term_bits[0], ev.term_bits[1]);
    /* Which network: h1 is read at its own p(z|x); h2's KDE sees the mean of h1. */
    const nn_info_row *k1 = find_row(&mm, 1, "h1", NN_INFO_KDE_UPPER), *k2 = find_row(&mm, 1, "h2", NN_INFO_KDE_UPPER);
    cr_assert(k1 && k2);
    cr_expect(!k1->mean_field && k2->mean_field && !v1->mean_field && !v2->mean_field);
    cr_assert_eq(nn_measure_close(&mm, true, &err), RT_OK, "%s", err.msg);
    char path[256], line[512];
    snprintf(path, sizeof path, "%s/info.csv", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_expect_str_eq(line, "epoch,split,layer,estimator,ixz_bits,izy_bits,ixz_side,izy_side,n,clipped_frac,network\n");
    int mean_field = 0, stochastic = 0;
    while (fgets(line, sizeof line, f)) {
        mean_field += strstr(line, ",h2,kde_") && strstr(line, ",mean-field\n");
        stochastic += strstr(line, ",stochastic\n") != NULL;
    }
    fclose(f);
    cr_expect_eq(mean_field, 2, "h2's two kde rows are mean-field");
    cr_expect_eq(stochastic, 4, "the variational rows and h1's kde rows describe the stochastic network");
    remove(path);
    snprintf(path, sizeof path, "%s/info_timing.csv", dir);
    remove(path);
    rmdir(dir);
    rt_ctx_free(&c);
    toy_free(&d);
    nn_model_free(&m);
}

// ---- 3. noise layers: eval_samples draws, and no average over particles they do not draw ----

Test(noise_layer, evaluation_draws_eval_samples_per_example) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 3, "f"), L(NN_LAYER_NOISE, 0, "z"), L(NN_LAYER_LINEAR, 2, "out") };
    s[1].std = 0.5f;
    nn_model m;
    rt_rng r = build(&m, NULL, s, 3, 2, NULL, 0, 2);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    c.grad_enabled = false;
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ 4, 2 });
    rt_rng_fill_uniform(&r, x->data, (size_t)x->n, -1.0f, 1.0f);
    rt_rng noise;
    rt_rng_seed(&noise, 7);
    nn_fwd f = { &c, false, &noise, 5, 4, 0, NULL };
    rt_tensor *out = nn_model_forward(&m, &f, x);
    cr_expect_eq(out->shape[0], 20, "5 draws of each of 4 examples: %d rows", out->shape[0]);
    cr_expect_eq(nn_model_rows_per_input(&m, &f), 5);
    const nn_layer *z = &m.layers[1];
    /* Row s*B + i is draw s of example i: around f(x_i), and the draws differ. */
    for (int i = 0; i < 4; i++)
        for (int sidx = 1; sidx < 5; sidx++) {
            float a = z->y->data[(size_t)i * 3], b = z->y->data[((size_t)sidx * 4 + (size_t)i) * 3];
            cr_expect(a != b, "example %d: draws 0 and %d are equal", i, sidx);
            cr_expect(fabsf(b - z->mu->data[(size_t)i * 3]) < 3.0f, "draw %d of example %d is near f(x)", sidx, i);
        }
    nn_fwd one = { &c, false, &noise, 1, 4, 0, NULL };
    cr_expect_eq(nn_model_forward(&m, &one, x)->shape[0], 4, "eval_samples = 1: one draw");
    nn_fwd train = { &c, true, &noise, 5, 0, 0, NULL };
    cr_expect_eq(nn_model_forward(&m, &train, x)->shape[0], 4, "training: one draw");
    rt_ctx_free(&c);
    nn_model_free(&m);
}

Test(noise_layer, averaging_over_particles_without_a_sampling_layer_is_refused) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 3, "f"), L(NN_LAYER_NOISE, 0, "z"), L(NN_LAYER_LINEAR, 2, "out") };
    s[1].std = 0.5f;
    nn_term_spec t = T(NN_TERM_CE, "ce", "", 1.0f);
    snprintf(t.average, sizeof t.average, "input");
    nn_model m;
    nn_obj o;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&m, s, 3, 2, &err), RT_OK, "%s", err.msg);
    cr_expect_eq(nn_obj_build(&o, &t, 1, NULL, 0, &m, &err), RT_ERR_ARG);
    cr_expect(strncmp(err.msg, "num.lua:7: term 'ce': average='input'", 37) == 0, "%s", err.msg);
    cr_expect_not_null(strstr(err.msg, "relevance = \"decoder\""), "%s", err.msg);
    nn_model_free(&m);
}

// ---- 8. label smoothing: the code's s against the paper's epsilon ----

/* vib.obj.ce { smoothing = s } targets (1 - s) onehot + s / C; the paper (Pereyra et al., VIB's
** Table 1) replaces the one-hot zeros by epsilon and renormalizes. They are one family with
** s = C eps / (1 + (C - 1) eps): baselines_mnist.lua's s = 0.1 is eps = 0.011 (its comment). */
Test(smoothing, code_s_is_the_papers_epsilon_renormalized) {
    enum { C = 10 };
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    c.grad_enabled = false;
    rt_tensor *z = rt_tensor_new(&c, 2, (int[]){ 1, C });
    for (int k = 0; k < C; k++) z->data[k] = 0.3f * (float)k - 1.0f + (k == 2 ? 2.0f : 0.0f);
    int32_t y = 2;
    double s = 0.1, eps = s / (C - (C - 1) * s);
    cr_expect(fabs(eps - 0.010989) < 1e-6, "s = 0.1 is epsilon = %g", eps);
    double zd[C], mx = -1e300, se = 0.0;
    for (int k = 0; k < C; k++) zd[k] = (double)z->data[k], mx = zd[k] > mx ? zd[k] : mx;
    for (int k = 0; k < C; k++) se += exp(zd[k] - mx);
    double ce = 0.0, norm = 1.0 + (C - 1) * eps;
    for (int k = 0; k < C; k++) ce -= (k == y ? 1.0 : eps) / norm * (zd[k] - mx - log(se));
    double got = (double)rt_softmax_ce(&c, z, &y, (float)s)->data[0];
    cr_expect(fabs(got - ce) < 1e-5, "code %.8g vs the paper's form %.8g nats", got, ce);
    rt_ctx_free(&c);
}

// ---- 7. a weight schedule with h = "square": the schedule multiplies beta * KL^2 from outside ----

static char run_out[8192];

/* Runs vibrun in dir on a script written there; its exit status. */
static int run_script(const char *dir, const char *name, const char *text, const char *args) {
    char path[1024], cmd[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tu_write_file(path, text, strlen(text));
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --quiet %s %s 2>&1", dir, tu_vibrun(), args, name);
    return tu_run(cmd, run_out, sizeof run_out);
}

/* The single point's metrics.csv of runs/<exp>, malloc'd. */
static char *point_metrics(const char *dir, const char *exp) {
    char exp_dir[1024], names[4][64], path[1200];
    snprintf(exp_dir, sizeof exp_dir, "%s/runs/%s", dir, exp);
    cr_assert_eq(tu_point_dirs(exp_dir, names, 4), 1, "one point in %s", exp_dir);
    snprintf(path, sizeof path, "%s/%s/metrics.csv", exp_dir, names[0]);
    char *s = tu_read_file(path, NULL);
    cr_assert_not_null(s, "missing %s", path);
    return s;
}

Test(schedule, log_anneals_beta_times_h_of_the_rate_from_outside) {
    const char *dir = tu_tiny_dir("num_sched");
    const char *script =
        "local vib = require \"vib\"\n"
        "return vib.experiment {\n"
        "  name = \"sched_tiny\",\n"
        "  data = vib.data.csv { path = \"tiny.csv\", holdout = 0.25, scale = \"standardize\" },\n"
        "  params = { h = \"square\", seed = 1 },\n"
        "  model = vib.seq { vib.linear { out = 8 }, vib.tanh {}, vib.gauss { k = 2, name = \"z\" },\n"
        "                    vib.linear { out = 3 } },\n"
        "  objective = function(p) return vib.obj.vib { beta = 0.5, h = p.h, schedule = \"log\",\n"
        "                                               schedule_epochs = 2, schedule_from = 1e-3 } end,\n"
        "  optim = vib.optim.adam { lr = 0.01 },\n"
        "  epochs = 3, batch = 20,\n"
        "}\n";
    const char *hs[2] = { "square", "exp" };
    for (int v = 0; v < 2; v++) {
        char args[128];
        snprintf(args, sizeof args, "--out runs --set h=%s", hs[v]);
        if (v) {
            char rm[1200];
            snprintf(rm, sizeof rm, "rm -rf '%s/runs'", dir);
            cr_assert_eq(tu_run(rm, NULL, 0), 0);
        }
        cr_assert_eq(run_script(dir, "sched_tiny.lua", script, args), 0, "%s", run_out);
        char *s = point_metrics(dir, "sched_tiny");
        cr_expect(strncmp(s, "epoch,split,loss_bits,ce_bits,kl_bits,error,lr\n", 47) == 0, "header: %.80s", s);
        int rows = 0;
        for (char *line = strchr(s, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
            int epoch;
            char split[8];
            double loss, ce, kl;
            cr_assert_eq(sscanf(line + 1, "%d,%7[a-z],%lf,%lf,%lf", &epoch, split, &loss, &ce, &kl), 5, "%.80s", line + 1);
            /* weight(e) = from (beta / from)^min(1, e / 2): log-annealed to beta, at the epoch's end. */
            double a = epoch / 2.0 > 1.0 ? 1.0 : epoch / 2.0, w = 1e-3 * pow(0.5 / 1e-3, a);
            double kn = kl * log(2.0), hk = v == 0 ? kn * kn : exp(kn);
            double want = ce + w * hk / log(2.0);
            cr_expect(fabs(loss - want) < 1e-5 * (1.0 + fabs(want)), "h=%s epoch %d %s: loss %.9g bits, want %.9g",
                      hs[v], epoch, split, loss, want);
            rows++;
        }
        cr_expect_eq(rows, 8, "epochs 0..3, train and test");
        free(s);
    }
}

// ---- 6. the L2 bound of H[Z|Y] (uib's ib and ceb with bound = "l2") ----

/* A model whose noise layer reads the input: the term sees f = x exactly (weights drawn from seed). */
/* vib.obj.uib { bound = "l2" } bounds H[Z|Y] for ib and ceb (per-class traces) and H[Z] for dib: the
** DSL once dropped per_class there, so that ib's "hz_y" column held H[Z]'s bound. At epoch 0 (the
** same initial weights for both kinds), the class-centred bound is the smaller one (Jensen: sum_c
** p(c) log tr_c <= log sum_c p(c) tr_c, and centring lowers each trace). */
Test(l2_bound, uib_ib_bounds_h_z_given_y_below_dib_s_h_z) {
    const char *dir = tu_tiny_dir("num_uib_l2");
    const char *script =
        "local vib = require \"vib\"\n"
        "return vib.experiment {\n"
        "  name = \"uib_l2\",\n"
        "  data = vib.data.csv { path = \"tiny.csv\", holdout = 0.25, scale = \"standardize\" },\n"
        "  params = { kind = \"ib\" },\n"
        "  model = vib.seq { vib.linear { out = 6 }, vib.noise {}, vib.linear { out = 3 } },\n"
        "  objective = function(p) return vib.obj.uib { kind = p.kind, beta = 2, bound = \"l2\" } end,\n"
        "  epochs = 0,\n"
        "}\n";
    double h[2];
    const char *kinds[2] = { "ib", "dib" }, *cols[2] = { "hz_y_bits", "hz_bits" };
    for (int v = 0; v < 2; v++) {
        char args[128], rm[1200], header[128];
        snprintf(rm, sizeof rm, "rm -rf '%s/runs'", dir);
        cr_assert_eq(tu_run(rm, NULL, 0), 0);
        snprintf(args, sizeof args, "--out runs --set kind=%s", kinds[v]);
        cr_assert_eq(run_script(dir, "uib_l2.lua", script, args), 0, "%s", run_out);
        char *s = point_metrics(dir, "uib_l2");
        snprintf(header, sizeof header, "epoch,split,loss_bits,ce_bits,%s,error,lr\n", cols[v]);
        cr_assert(strncmp(s, header, strlen(header)) == 0, "kind=%s header: %.80s", kinds[v], s);
        double loss, ce;
        cr_assert_eq(sscanf(s + strlen(header), "0,train,%lf,%lf,%lf", &loss, &ce, &h[v]), 3, "%.120s", s);
        free(s);
    }
    cr_expect(h[0] < h[1] - 0.1, "ib's H[Z|Y] bound %.6f bits is not below dib's H[Z] bound %.6f", h[0], h[1]);
}

static rt_rng l2_model(nn_model *m, nn_obj *o, float std, bool per_class, uint64_t seed) {
    nn_layer_spec s[] = { L(NN_LAYER_NOISE, 0, "z"), L(NN_LAYER_LINEAR, 3, "dec") };
    s[0].std = std;
    nn_term_spec t = T(NN_TERM_L2, "hz_y", "z", 1.0f);
    t.per_class = per_class;
    return build(m, o, s, 2, 4, &t, 1, seed);
}

static const int32_t l2_labels[7] = { 0, 2, 1, 2, 0, 1, 0 };

Test(l2_bound, per_class_is_pi_e_times_the_class_centred_traces) {
    enum { N = 7, K = 4 };
    const double s = 0.3;
    nn_obj o;
    nn_model m;
    rt_rng r = l2_model(&m, &o, (float)s, true, 4);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 16);
    c.grad_enabled = false;
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ N, K });
    rt_rng_fill_uniform(&r, x->data, (size_t)x->n, -2.0f, 2.0f);
    nn_fwd f = { &c, false, &r, 0, N, 0, NULL };
    rt_tensor *out = nn_model_forward(&m, &f, x);
    nn_obj_in in = { out, x, l2_labels, N, &f, 0.0 };
    double got = (double)nn_obj_forward(&o, &m, &c, &in).term[0]->data[0];
    /* sum_c p(c) (pi e (tr Cov[f|c] + K s^2) - K/2), variances over n, in double. */
    double pie = acos(-1.0) * exp(1.0), want = 0.0;
    for (int cl = 0; cl < 3; cl++) {
        int n = 0;
        double mean[K] = { 0 }, tr = 0.0;
        for (int i = 0; i < N; i++)
            if (l2_labels[i] == cl) {
                n++;
                for (int k = 0; k < K; k++) mean[k] += (double)x->data[i * K + k];
            }
        for (int k = 0; k < K; k++) mean[k] /= n;
        for (int i = 0; i < N; i++)
            if (l2_labels[i] == cl)
                for (int k = 0; k < K; k++) tr += pow((double)x->data[i * K + k] - mean[k], 2) / n;
        want += (double)n / N * (pie * (tr + K * s * s) - K / 2.0);
    }
    cr_expect(fabs(got - want) < 1e-5 * (1.0 + fabs(want)), "per-class L2 %.9g vs %.9g nats", got, want);
    /* Not the H[Z] bound: that is pi e E|z|^2 - K/2 averaged over the rows. */
    nn_obj o2;
    nn_model m2;
    l2_model(&m2, &o2, (float)s, false, 4);    /* its weights are m's, copied below */
    memcpy(m2.params.data, m.params.data, m.params.total * sizeof(float));
    out = nn_model_forward(&m2, &f, x);
    nn_obj_in in2 = { out, x, l2_labels, N, &f, 0.0 };
    rt_tensor *hz = nn_obj_forward(&o2, &m2, &c, &in2).term[0];
    double mean_hz = 0.0;
    for (int i = 0; i < N; i++) mean_hz += (double)hz->data[i] / N;
    cr_expect(mean_hz > got + 1.0, "H[Z]'s uncentred bound %g must exceed the class-centred %g", mean_hz, got);
    rt_ctx_free(&c);
    nn_model_free(&m);
    nn_model_free(&m2);
}

static nn_model g_l2m;
static nn_obj g_l2o;

static rt_tensor *l2_loss(rt_ctx *c, rt_tensor **x, const gc_case *k) {
    (void)k;
    nn_fwd f = { c, true, NULL, 0, 0, 0, NULL };
    rt_rng noise;
    rt_rng_seed(&noise, 99);            /* the same draws at every evaluation */
    f.noise = &noise;
    rt_tensor *out = nn_model_forward(&g_l2m, &f, x[0]);
    nn_obj_in in = { out, x[0], l2_labels, x[0]->shape[0], &f, 0.0 };
    return nn_obj_forward(&g_l2o, &g_l2m, c, &in).loss;
}

Test(l2_bound, per_class_gradient_matches_finite_differences) {
    l2_model(&g_l2m, &g_l2o, 0.3f, true, 5);
    gc_case k = { "l2 per class", -1, 1, { 2 }, { { 7, 4 } }, { -2.0f }, { 2.0f }, 0, l2_loss,
                  .eps = 1e-3, .rtol = 2e-2, .atol = 2e-3 };
    cr_expect_eq(gc_run(&k, 31), 0);
    nn_model_free(&g_l2m);
}

// ---- 11. beta-VAE's Bernoulli likelihood reads inputs in [0, 1] ----

Test(recon, bernoulli_likelihood_refuses_inputs_outside_0_1) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 4, "enc"), L(NN_LAYER_GAUSS, 2, "z"), L(NN_LAYER_LINEAR, 3, "dec") };
    s[1].samples = 1;
    nn_term_spec t[] = { T(NN_TERM_RECON, "recon", "", 1.0f), T(NN_TERM_KL, "kl", "z", 1.0f) };
    nn_model m;
    nn_obj o;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&m, s, 3, 3, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nn_obj_build(&o, t, 2, NULL, 0, &m, &err), RT_OK, "%s", err.msg);
    nn_dataset unit = toy_data(10, 3, 2, 0.0f, 1.0f, 1), pm1 = toy_data(10, 3, 2, -1.0f, 1.0f, 1);
    cr_expect_eq(nn_check_data(&m, &o, &unit, &unit, &err), RT_OK, "%s", err.msg);
    cr_expect_eq(nn_check_data(&m, &o, &unit, &pm1, &err), RT_ERR_ARG, "a test split in [-1, 1] is refused");
    cr_expect(strncmp(err.msg, "num.lua:7: term 'recon': the Bernoulli likelihood reads inputs in [0, 1]", 72) == 0, "%s", err.msg);
    cr_expect_not_null(strstr(err.msg, "toy.csv"), "%s", err.msg);
    o.terms[0].gaussian = true;         /* the Gaussian likelihood reads any real input */
    cr_expect_eq(nn_check_data(&m, &o, &pm1, &pm1, &err), RT_OK, "%s", err.msg);
    toy_free(&unit);
    toy_free(&pm1);
    nn_model_free(&m);
}

// ---- 9. a sweep warns when two of its points train the same objective ----

Test(sweep, points_that_resolve_to_one_objective_are_named) {
    const char *dir = tu_tiny_dir("num_twins");
    const char *fmt =
        "local vib = require \"vib\"\n"
        "return vib.experiment {\n"
        "  name = \"twins\",\n"
        "  data = vib.data.csv { path = \"tiny.csv\", holdout = 0.25, scale = \"standardize\" },\n"
        "  params = { kind = \"ib\", beta = 3.0, gamma = 2.0, seed = 1 },\n"
        "  model = vib.seq { vib.linear { out = 4 }, vib.noise { name = \"z\" }, vib.linear { out = 3 } },\n"
        "  objective = function(p)\n"
        "    if p.kind == \"ceb\" then return vib.obj.uib { kind = \"ceb\", gamma = p.gamma } end\n"
        "    return vib.obj.uib { kind = p.kind, beta = p.beta }\n"
        "  end,\n"
        "  optim = vib.optim.adam { lr = 0.01 },\n"
        "  epochs = 1, batch = 20,\n"
        "  sweep = vib.grid { kind = { %s } },\n"
        "}\n";
    char script[2048];
    snprintf(script, sizeof script, fmt, "\"ib\", \"dib\", \"ceb\"");
    cr_assert_eq(run_script(dir, "twins.lua", script, "--list"), 0, "%s", run_out);
    cr_expect_not_null(strstr(run_out, "vibrun: warning: twins.lua:13: the points {beta=3,gamma=2,kind=\"ib\",seed=1} and "
                                       "{beta=3,gamma=2,kind=\"ceb\",seed=1} resolve to the same model, objective and settings"),
                       "%s", run_out);
    cr_expect_null(strstr(run_out, "kind=\"dib\",seed=1} resolve"), "dib is another objective: %s", run_out);
    snprintf(script, sizeof script, fmt, "\"ib\", \"dib\"");
    cr_assert_eq(run_script(dir, "twins.lua", script, "--list"), 0, "%s", run_out);
    cr_expect_null(strstr(run_out, "warning"), "%s", run_out);
}

// ---- 4. eval_avg: "probs" averages the softmax, "logits" the log-softmax (geometric mixture) ----

static int argmax_d(const double *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) b = v[i] > v[b] ? i : b;
    return b;
}

Test(eval_avg, logits_is_the_geometric_mixture_and_probs_the_arithmetic_one) {
    enum { N = 400, C = 3, S = 3 };
    /* The model's output is a gauss layer with unit sigma: the logits are mu + eps. */
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 4, "enc"), L(NN_LAYER_GAUSS, C, "z") };
    s[1].sigma = NN_SIGMA_UNIT;
    s[1].samples = 1;
    nn_term_spec t = T(NN_TERM_CE, "ce", "", 1.0f);
    nn_model m;
    nn_obj o;
    build(&m, &o, s, 2, 2, &t, 1, 6);
    nn_dataset d = toy_data(N, 2, C, -1.0f, 1.0f, 3);
    rt_ctx c;
    rt_ctx_init(&c, 1 << 22);
    /* The samples nn_evaluate draws: its stream (seed, point, pass 0), one batch of N examples. */
    const uint64_t seed = 21;
    rt_rng noise;
    rt_rng_stream(&noise, seed, 0, RT_STREAM_EVAL);
    c.grad_enabled = false;
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ N, 2 });
    memcpy(x->data, d.x, sizeof(float) * N * 2);
    nn_fwd f = { &c, false, &noise, S, N, 0, NULL };
    rt_tensor *out = nn_model_forward(&m, &f, x);
    int wrong_arith = 0, wrong_geo = 0, disagree = 0;
    for (int i = 0; i < N; i++) {
        double arith[C] = { 0 }, geo[C] = { 0 };
        for (int k = 0; k < S; k++) {
            const float *z = out->data + ((size_t)k * N + (size_t)i) * C;
            double mx = -1e300, se = 0.0;
            for (int j = 0; j < C; j++) mx = (double)z[j] > mx ? (double)z[j] : mx;
            for (int j = 0; j < C; j++) se += exp((double)z[j] - mx);
            for (int j = 0; j < C; j++) {
                double lp = (double)z[j] - mx - log(se);
                arith[j] += exp(lp) / S;
                geo[j] += lp / S;
            }
        }
        wrong_arith += argmax_d(arith, C) != d.y[i];
        wrong_geo += argmax_d(geo, C) != d.y[i];
        disagree += argmax_d(arith, C) != argmax_d(geo, C);
    }
    cr_assert(disagree > 0, "the data must separate the two mixtures");
    nn_eval_cfg e = { 0, N, S, NN_AVG_PROBS, seed, 0, 0, 0.0, NULL };
    cr_expect_eq((int)lround(nn_evaluate(&m, &o, &d, &e, &c).error * N), wrong_arith, "probs: the mean of softmax");
    e.avg = NN_AVG_LOGITS;
    cr_expect_eq((int)lround(nn_evaluate(&m, &o, &d, &e, &c).error * N), wrong_geo, "logits: the mean of log-softmax");
    rt_ctx_free(&c);
    toy_free(&d);
    nn_model_free(&m);
}
