// test_measure.c: the information-plane schedule (nn_measure.h) against direct calls of the
// estimators on the same activations, the variational rows against the objective's own terms,
// subsets, the epoch schedule, errors, and the latent dump of a 2-D Gaussian bottleneck.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_train.h"
#include "testutil.h"

static nn_layer_spec L(nn_layer_kind k, int out, const char *name) { return tu_layer("m.lua", 4, k, out, name); }

static nn_term_spec T(nn_term_kind k, const char *name, const char *layer) {
    return tu_term("m.lua:20", k, name, layer, 1.0f);
}

/* n examples of dim features in three overlapping clusters. */
static nn_dataset blobs(int n, int dim, uint64_t seed) {
    nn_dataset d = { .n = n, .ndim = 1, .shape = { dim, 1, 1 }, .dim = dim, .nclass = 3 };
    d.x = malloc((size_t)n * dim * sizeof *d.x);
    d.y = malloc((size_t)n * sizeof *d.y);
    rt_rng r;
    rt_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        d.y[i] = i % 3;
        for (int j = 0; j < dim; j++) d.x[i * dim + j] = (float)(rt_rng_normal(&r) + (j % 3 == d.y[i] ? 1.5 : 0.0));
    }
    return d;
}

/* linear(width) "h" -> act(width) named act_name -> linear(3) "out" on dim inputs, objective CE;
** weights drawn from seed init_seed (0: left as built, for tests that never run the model). */
static void small_net(nn_model *m, nn_obj *o, nn_layer_kind act, const char *act_name, int width, int dim,
                      uint64_t init_seed) {
    nn_layer_spec s[] = { L(NN_LAYER_LINEAR, width, "h"), L(act, width, act_name), L(NN_LAYER_LINEAR, 3, "out") };
    nn_term_spec t[] = { T(NN_TERM_CE, "ce", "") };
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(m, s, 3, dim, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nn_obj_build(o, t, 1, NULL, 0, m, &err), RT_OK, "%s", err.msg);
    if (init_seed) {
        rt_rng r;
        rt_rng_seed(&r, init_seed);
        nn_model_init(m, &r);
    }
}

static const nn_info_row *find(const nn_measure *mm, int split, const char *layer, nn_info_kind k) {
    for (int i = 0; i < mm->nlast; i++)
        if (mm->last[i].split == split && strcmp(mm->last[i].layer, layer) == 0 && mm->last[i].kind == k)
            return &mm->last[i];
    return NULL;
}

/* The activations of layer li on d in evaluation mode (the means), as a fresh array. */
static float *activations(nn_model *m, const nn_dataset *d, int li, rt_ctx *c) {
    rt_ctx_reset(c);
    c->grad_enabled = false;
    rt_tensor *x = rt_tensor_new(c, 2, (int[]){ d->n, d->dim });
    memcpy(x->data, d->x, (size_t)d->n * d->dim * sizeof(float));
    nn_fwd f = { c, false, NULL, 0, 0, 0, NULL };
    nn_model_forward(m, &f, x);
    const rt_tensor *y = m->layers[li].y;
    float *out = malloc((size_t)y->n * sizeof *out);
    memcpy(out, y->data, (size_t)y->n * sizeof *out);
    c->grad_enabled = true;
    return out;
}

Test(measure, schedule) {
    nn_measure mm;
    memset(&mm, 0, sizeof mm);
    mm.cfg = nn_measure_cfg_default();
    for (int e = 0; e <= 10; e++) cr_expect(nn_measure_due(&mm, e, 10), "every epoch: %d", e);
    mm.cfg.every = NN_EVERY_LOG2;
    int log2_due[] = { 0, 1, 2, 4, 8, 10 }, k = 0;
    for (int e = 0; e <= 10; e++) {
        bool want = k < 6 && log2_due[k] == e;
        cr_expect_eq(nn_measure_due(&mm, e, 10), want, "log2 at epoch %d", e);
        k += want;
    }
    mm.cfg.every = NN_EVERY_K;
    mm.cfg.every_k = 3;
    for (int e = 0; e <= 10; e++) cr_expect_eq(nn_measure_due(&mm, e, 10), e % 3 == 0 || e == 10, "k=3 at %d", e);
    int list[] = { 5, 7 };
    mm.cfg.every = NN_EVERY_LIST;
    mm.cfg.epochs = list;
    mm.cfg.nepochs = 2;
    for (int e = 0; e <= 10; e++)
        cr_expect_eq(nn_measure_due(&mm, e, 10), e == 0 || e == 5 || e == 7 || e == 10, "list at %d", e);
}

/* A tanh network: every row of info.csv equals the estimator called directly on the layer. */
Test(measure, rows_equal_direct_estimators) {
    nn_dataset tr = blobs(240, 5, 1), te = blobs(120, 5, 2);
    nn_model m;
    nn_obj o;
    rt_err err = { 0 };
    small_net(&m, &o, NN_LAYER_TANH, "t", 6, 5, 3);
    nn_measure_cfg cfg = nn_measure_cfg_default();
    cfg.estimators = (1u << NN_EST_COUNT) - 1;
    snprintf(cfg.where, sizeof cfg.where, "m.lua:9");
    const char *dir = tu_tmpdir("measure");
    nn_measure *mm = calloc(1, sizeof *mm);
    cr_assert_eq(nn_measure_open(mm, &cfg, &m, &o, &tr, &te, 1, 0, dir, false, &err), RT_OK, "%s", err.msg);
    cr_expect_eq(mm->nlayer, 2, "all = the tanh layer and the softmax output");
    rt_ctx c;
    rt_ctx_init(&c, 4u << 20);
    cr_assert_eq(nn_measure_epoch(mm, &m, &o, 0, 50, &c, &err), RT_OK, "%s", err.msg);

    float *a = activations(&m, &te, 1, &c);
    nn_mi_disc b;
    nn_mi_bin_opts bo = nn_mi_bin_opts_default();
    cr_assert_eq(nn_mi_bin(a, te.n, 6, NULL, te.y, &bo, &b, &err), RT_OK);
    const nn_info_row *row = find(mm, 1, "t", NN_INFO_BINNING);
    cr_assert_not_null(row);
    cr_expect_eq(row->ixz, b.est.ixt);
    cr_expect_eq(row->izy, b.est.ity);
    cr_expect_eq(row->n, te.n);
    nn_mi_kde kde;
    cr_assert_eq(nn_mi_kde_det(a, te.n, 6, 0.1, te.y, NULL, &kde, &err), RT_OK);
    row = find(mm, 1, "t", NN_INFO_KDE_UPPER);
    cr_expect_eq(row->ixz, kde.upper.ixt);
    cr_expect_eq(row->side_ixz, NN_MI_UPPER);
    row = find(mm, 1, "t", NN_INFO_KDE_LOWER);
    cr_expect_eq(row->izy, kde.lower.ity);
    cr_expect_eq(row->side_ixz, NN_MI_LOWER);
    nn_mi_value ksg, ross;
    cr_assert_eq(nn_mi_ksg(te.x, 5, a, 6, te.n, 3, &ksg, &err), RT_OK);
    cr_assert_eq(nn_mi_ksg_labels(a, te.n, 6, te.y, 3, &ross, &err), RT_OK);
    row = find(mm, 1, "t", NN_INFO_KSG);
    cr_expect_eq(row->ixz, ksg.bits);
    cr_expect_eq(row->izy, ross.bits);
    cr_expect_null(find(mm, 1, "t", NN_INFO_PLUGIN), "plug-in entropies are for bern layers only");
    cr_expect_null(find(mm, 1, "t", NN_INFO_VARIATIONAL), "no rate term on t: no variational row");

    /* The output: I(Z;Y) >= H(Y) - CE with the decoder's cross-entropy, H(Y) = log2 3 here. */
    nn_eval_cfg e = { 0, 50, 0, NN_AVG_PROBS, 1, 0, 0, 0.0, NULL };
    nn_eval ev = nn_evaluate(&m, &o, &te, &e, &c);
    row = find(mm, 1, "softmax", NN_INFO_VARIATIONAL);
    cr_assert_not_null(row);
    cr_expect(isnan(row->ixz));
    cr_expect_float_eq(row->izy, log2(3.0) - ev.term_bits[0], 1e-12);
    cr_expect_eq(row->side_izy, NN_MI_LOWER);
    cr_expect_not_null(find(mm, 0, "t", NN_INFO_BINNING), "the train split is measured too");
    cr_assert_eq(nn_measure_close(mm, true, &err), RT_OK);

    /* info.csv: the header, then one row per (split, layer, estimator). */
    char path[600];
    snprintf(path, sizeof path, "%s/info.csv", dir);
    char *csv = tu_read_file(path, NULL);
    cr_assert_not_null(csv, "info.csv committed");
    const char *head = "epoch,split,layer,estimator,ixz_bits,izy_bits,ixz_side,izy_side,n,clipped_frac\n";
    cr_expect(strncmp(csv, head, strlen(head)) == 0, "%.100s", csv);
    int lines = 0;
    for (char *q = csv; *q; q++) lines += *q == '\n';
    cr_expect_eq(lines, 1 + mm->nlast, "%d lines for %d rows", lines, mm->nlast);
    cr_expect_not_null(strstr(csv, "\n0,test,t,binning,"));
    free(csv);
    free(a);
    free(mm);
    rt_ctx_free(&c);
    nn_model_free(&m);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

/* measure.selfcheck: selfcheck.csv holds one row per split x layer x estimator row x level, with
** the layer's width and the split's size, truths of the tasks of nn_mi_check.h and err = estimate
** - truth; the same seed writes the same bytes; a resumed run keeps the file it has. */
Test(measure, selfcheck_rows) {
    nn_dataset tr = blobs(240, 5, 1), te = blobs(120, 5, 2);
    nn_model m;
    nn_obj o;
    rt_err err = { 0 };
    small_net(&m, &o, NN_LAYER_TANH, "t", 6, 5, 0);
    nn_measure_cfg cfg = nn_measure_cfg_default();
    cfg.estimators = (1u << NN_EST_COUNT) - 1;
    cfg.selfcheck = true;
    char *bytes[2] = { NULL, NULL };
    for (int run = 0; run < 2; run++) {
        const char *dir = tu_tmpdir(run ? "selfcheck2" : "selfcheck1");
        nn_measure *mm = calloc(1, sizeof *mm);
        cr_assert_eq(nn_measure_open(mm, &cfg, &m, &o, &tr, &te, 5, 0, dir, false, &err), RT_OK, "%s", err.msg);
        cr_assert_eq(nn_measure_close(mm, true, &err), RT_OK);
        char path[600];
        snprintf(path, sizeof path, "%s/selfcheck.csv", dir);
        bytes[run] = tu_read_file(path, NULL);
        cr_assert_not_null(bytes[run]);
        if (run == 0) {
            /* Resumed (append), the file is not redone: even a changed one stays as it is. */
            tu_write_file(path, "kept\n", 5);
            cr_assert_eq(nn_measure_open(mm, &cfg, &m, &o, &tr, &te, 5, 0, dir, true, &err), RT_OK, "%s", err.msg);
            cr_assert_eq(nn_measure_close(mm, true, &err), RT_OK);
            char *kept = tu_read_file(path, NULL);
            cr_expect_str_eq(kept, "kept\n");
            free(kept);
        }
        free(mm);
    }
    cr_expect_str_eq(bytes[0], bytes[1], "the same seed, the same selfcheck.csv");
    const char *head = "split,layer,estimator,task,n,d,level,true_ixz_bits,ixz_bits,ixz_err_bits,true_izy_bits,"
                       "izy_bits,izy_err_bits\n";
    cr_expect(strncmp(bytes[0], head, strlen(head)) == 0, "%.200s", bytes[0]);
    /* 2 splits x 2 layers (t, softmax) x (kde_upper, kde_lower, binning, ksg) x 3 levels */
    int rows = 0, checked = 0;
    char *save = NULL;
    for (char *line = strtok_r(bytes[0] + strlen(head), "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        rows++;
        char split[16], layer[16], est[16], task[16];
        int n, d;
        double level, tx, x, ex, ty, yv, ey;
        cr_assert_eq(sscanf(line, "%15[^,],%15[^,],%15[^,],%15[^,],%d,%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf", split, layer, est,
                            task, &n, &d, &level, &tx, &x, &ex, &ty, &yv, &ey), 13, "%s", line);
        cr_expect_eq(n, strcmp(split, "train") == 0 ? 240 : 120, "%s", line);
        cr_expect_eq(d, strcmp(layer, "t") == 0 ? 6 : 3, "%s", line);
        cr_expect_float_eq(ex, x - tx, 1e-6, "%s", line);
        cr_expect_float_eq(ey, yv - ty, 1e-6, "%s", line);
        cr_expect_str_eq(task, strcmp(est, "binning") == 0 ? "codewords" : "linear_gauss", "%s", line);
        /* the truths the tasks are built for: level * log2 n (linear Gaussian), log2 of the
        ** rounded pattern count (codewords) */
        double bits = level * log2((double)n);
        double want = strcmp(task, "codewords") == 0 ? log2(round(exp2(bits))) : bits;
        cr_expect_float_eq(tx, want, 1e-6, "%s", line);
        checked += strcmp(est, "ksg") == 0;
    }
    cr_expect_eq(rows, 2 * 2 * 4 * 3, "%d rows", rows);
    cr_expect_eq(checked, 2 * 2 * 3);
    free(bytes[0]);
    free(bytes[1]);
    nn_model_free(&m);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

/* A VIB bottleneck: the variational row is the kl term, kde reads each example's sigma. */
/* Diagonal and full covariances: kde reads the layer's own sigma or Cholesky factor L. */
Test(measure, gauss_layer_rate_and_kde) {
    for (int full = 0; full < 2; full++) {
        nn_dataset tr = blobs(90, 4, 5), te = blobs(60, 4, 6);
        nn_layer_spec s[] = { L(NN_LAYER_LINEAR, 8, "h"), L(NN_LAYER_RELU, 8, "r"), L(NN_LAYER_GAUSS, 3, "z"),
                              L(NN_LAYER_LINEAR, 3, "out") };
        s[2].full_cov = full;
        nn_term_spec t[] = { T(NN_TERM_CE, "ce", ""), T(NN_TERM_KL, "kl", "z") };
        nn_model m;
        nn_obj o;
        rt_err err = { 0 };
        cr_assert_eq(nn_model_build(&m, s, 4, 4, &err), RT_OK, "%s", err.msg);
        cr_assert_eq(nn_obj_build(&o, t, 2, NULL, 0, &m, &err), RT_OK, "%s", err.msg);
        rt_rng r;
        rt_rng_seed(&r, 4);
        nn_model_init(&m, &r);
        nn_measure_cfg cfg = nn_measure_cfg_default();
        snprintf(cfg.layers[cfg.nlayers++], 64, "z");
        cfg.split[0] = false;
        cfg.estimators |= 1u << NN_EST_KSG;
        nn_measure *mm = calloc(1, sizeof *mm);
        cr_assert_eq(nn_measure_open(mm, &cfg, &m, &o, &tr, &te, 7, 0, tu_tmpdir("gauss"), false, &err), RT_OK, "%s", err.msg);
        rt_ctx c;
        rt_ctx_init(&c, 4u << 20);
        cr_assert_eq(nn_measure_epoch(mm, &m, &o, 3, 1000, &c, &err), RT_OK, "%s", err.msg);
        nn_eval_cfg e = { 0, 1000, 1, NN_AVG_PROBS, 7, 0, 0, 3.0, NULL };
        nn_eval ev = nn_evaluate(&m, &o, &te, &e, &c);
        const nn_info_row *row = find(mm, 1, "z", NN_INFO_VARIATIONAL);
        cr_assert_not_null(row);
        cr_expect_eq(row->epoch, 3);
        cr_expect_float_eq(row->ixz, ev.term_bits[1], 1e-12, "the rate is the kl term");
        cr_expect_float_eq(row->izy, log2(3.0) - ev.term_bits[0], 1e-12);
        cr_expect_null(find(mm, 0, "z", NN_INFO_VARIATIONAL), "train not measured");
        /* kde with the layer's own mu and sigma */
        rt_ctx_reset(&c);
        c.grad_enabled = false;
        rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ te.n, 4 });
        memcpy(x->data, te.x, (size_t)te.n * 4 * sizeof(float));
        nn_fwd f = { &c, false, NULL, 0, 0, 0, NULL };
        nn_model_forward(&m, &f, x);
        nn_mi_kde kde;
        if (full) cr_assert_eq(nn_mi_kde_gauss_full(m.layers[2].mu->data, m.layers[2].sigma->data, te.n, 3, te.y, NULL, &kde, &err), RT_OK, "%s", err.msg);
        else cr_assert_eq(nn_mi_kde_gauss(m.layers[2].mu->data, m.layers[2].sigma->data, te.n, 3, te.y, NULL, &kde, &err), RT_OK);
        row = find(mm, 1, "z", NN_INFO_KDE_UPPER);
        cr_assert_not_null(row);
        cr_expect_eq(row->ixz, kde.upper.ixt);
        cr_expect_eq(find(mm, 1, "z", NN_INFO_KDE_LOWER)->ixz, kde.lower.ixt);
        cr_expect(kde.lower.ixt <= kde.upper.ixt);
        cr_expect(isfinite(find(mm, 1, "z", NN_INFO_KSG)->ixz), "a sample of z for KSG");
        nn_measure_close(mm, false, &err);
        free(mm);
        rt_ctx_free(&c);
        nn_model_free(&m);
        nn_dataset_free(&tr);
        nn_dataset_free(&te);
    }
}

/* samples = N: a fixed seeded subset of N examples, the same for the same seed. */
Test(measure, subsets) {
    nn_dataset tr = blobs(300, 3, 8), te = blobs(200, 3, 9);
    nn_model m;
    nn_obj o;
    rt_err err = { 0 };
    small_net(&m, &o, NN_LAYER_TANH, "t", 4, 3, 1);
    nn_measure_cfg cfg = nn_measure_cfg_default();
    cfg.samples = 50;
    const char *dir = tu_tmpdir("subset");
    nn_measure *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b), *c2 = calloc(1, sizeof *c2);
    cr_assert_eq(nn_measure_open(a, &cfg, &m, &o, &tr, &te, 11, 0, dir, false, &err), RT_OK);
    cr_expect_eq(a->data[0]->n, 50);
    cr_expect_eq(a->data[1]->n, 50);
    int32_t ya[50];
    float xa[150];
    memcpy(ya, a->data[1]->y, sizeof ya);
    memcpy(xa, a->data[1]->x, sizeof xa);
    nn_measure_close(a, false, &err);
    cr_assert_eq(nn_measure_open(b, &cfg, &m, &o, &tr, &te, 11, 0, dir, false, &err), RT_OK);
    cr_expect_arr_eq(b->data[1]->y, ya, sizeof ya, "the same seed draws the same subset");
    cr_expect_arr_eq(b->data[1]->x, xa, sizeof xa);
    nn_measure_close(b, false, &err);
    cr_assert_eq(nn_measure_open(c2, &cfg, &m, &o, &tr, &te, 12, 0, dir, false, &err), RT_OK);
    cr_expect(memcmp(c2->data[1]->x, xa, sizeof xa) != 0, "another seed draws another subset");
    nn_measure_close(c2, false, &err);
    free(a), free(b), free(c2);
    nn_model_free(&m);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

Test(measure, unknown_layer_names_the_script_line) {
    nn_dataset tr = blobs(30, 3, 1), te = blobs(30, 3, 2);
    nn_model m;
    nn_obj o;
    rt_err err = { 0 };
    small_net(&m, &o, NN_LAYER_RELU, "act", 4, 3, 0);
    nn_measure_cfg cfg = nn_measure_cfg_default();
    snprintf(cfg.where, sizeof cfg.where, "exp.lua:12");
    snprintf(cfg.layers[cfg.nlayers++], 64, "relu");
    nn_measure *mm = calloc(1, sizeof *mm);
    cr_expect_eq(nn_measure_open(mm, &cfg, &m, &o, &tr, &te, 1, 0, tu_tmpdir("unknown"), false, &err), RT_ERR_ARG);
    cr_expect_not_null(strstr(err.msg, "exp.lua:12: measure: the model has no layer 'relu'"), "%s", err.msg);
    cr_expect_not_null(strstr(err.msg, "h, act, out, softmax"), "%s", err.msg);
    free(mm);
    nn_model_free(&m);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

/* latent.csv: with the encoder's weights zeroed every example has mu = bias and a known
** covariance, so the 95% ellipse is known; a zero decoder predicts uniformly: log2 3 bits. */
static char *latent_run(bool full_cov, const char *tag) {
    nn_dataset d = blobs(20, 3, 3);
    nn_layer_spec g = L(NN_LAYER_GAUSS, 2, "z");
    g.full_cov = full_cov;
    nn_layer_spec s[] = { g, L(NN_LAYER_LINEAR, 3, "out") };
    nn_model m;
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(&m, s, 2, 3, &err), RT_OK, "%s", err.msg);
    nn_layer *z = &m.layers[0];
    memset(z->w->data, 0, (size_t)z->w->n * sizeof(float));
    memset(z->w2->data, 0, (size_t)z->w2->n * sizeof(float));
    memset(m.layers[1].w->data, 0, (size_t)m.layers[1].w->n * sizeof(float));
    memset(m.layers[1].b->data, 0, (size_t)m.layers[1].b->n * sizeof(float));
    z->b->data[0] = 1.0f, z->b->data[1] = 2.0f;
    /* softplus(rho + shift) with shift 0: rho = log(e^s - 1) gives s */
    float sd[3] = { 0.5f, full_cov ? 0.3f : 2.0f, 2.0f };
    z->b2->data[0] = logf(expm1f(sd[0]));
    z->b2->data[1] = full_cov ? sd[1] : logf(expm1f(sd[1]));
    if (full_cov) z->b2->data[2] = logf(expm1f(sd[2]));
    rt_ctx c;
    rt_ctx_init(&c, 4u << 20);
    const char *dir = tu_tmpdir(tag);
    cr_assert_eq(nn_latent_layer(&m), 0);
    cr_assert_eq(nn_latent_write(&m, 0, &d, 7, &c, dir, &err), RT_OK, "%s", err.msg);
    char path[600];
    snprintf(path, sizeof path, "%s/latent_grid.csv", dir);
    char *grid = tu_read_file(path, NULL);
    cr_assert_not_null(grid);
    int lines = 0;
    for (char *q = grid; *q; q++) lines += *q == '\n';
    cr_expect_eq(lines, 1 + 200 * 200);
    char first[128];
    snprintf(first, sizeof first, "z1,z2,entropy_bits\n0.800000012,1.79999995,%.9g\n", log2(3.0));
    cr_expect(strncmp(grid, first, strlen(first)) == 0, "grid starts at the means minus 10%%: %.60s", grid);
    free(grid);
    snprintf(path, sizeof path, "%s/latent.csv", dir);
    char *lat = tu_read_file(path, NULL);
    rt_ctx_free(&c);
    nn_model_free(&m);
    nn_dataset_free(&d);
    return lat;
}

Test(measure, latent_ellipses) {
    char *lat = latent_run(false, "latent");
    cr_assert_not_null(lat);
    const char *head = "label,mu1,mu2,s11,s12,s22,ell_major,ell_minor,ell_angle\n";
    cr_expect(strncmp(lat, head, strlen(head)) == 0, "%.80s", lat);
    double mu1, mu2, s11, s12, s22, maj, min, ang;
    int label;
    cr_assert_eq(sscanf(strchr(lat, '\n') + 1, "%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &label, &mu1, &mu2, &s11, &s12,
                        &s22, &maj, &min, &ang), 9);
    cr_expect_eq(label, 0);
    cr_expect_float_eq(mu1, 1.0, 1e-6);
    cr_expect_float_eq(mu2, 2.0, 1e-6);
    cr_expect_float_eq(s11, 0.25, 1e-5);
    cr_expect_float_eq(s22, 4.0, 1e-5);
    cr_expect_eq(s12, 0.0);
    cr_expect_float_eq(maj, 2 * sqrt(5.991464547 * 4.0), 1e-4, "95%% ellipse: 2 sqrt(chi2 * lambda)");
    cr_expect_float_eq(min, 2 * sqrt(5.991464547 * 0.25), 1e-4);
    cr_expect_float_eq(fabs(ang), 90.0, 1e-9, "the major axis along z2");
    free(lat);

    /* full covariance: L = [a 0; b c], Sigma = L L^T */
    lat = latent_run(true, "latent-full");
    cr_assert_eq(sscanf(strchr(lat, '\n') + 1, "%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &label, &mu1, &mu2, &s11, &s12,
                        &s22, &maj, &min, &ang), 9);
    double a = 0.5, b = 0.3, c = 2.0;
    cr_expect_float_eq(s11, a * a, 1e-5);
    cr_expect_float_eq(s12, a * b, 1e-5);
    cr_expect_float_eq(s22, b * b + c * c, 1e-5);
    double tr = s11 + s22, det = s11 * s22 - s12 * s12;
    double l1 = tr / 2 + sqrt(tr * tr / 4 - det);
    cr_expect_float_eq(maj, 2 * sqrt(5.991464547 * l1), 1e-4);
    cr_expect_float_eq(maj * min / 4, 5.991464547 * sqrt(det), 1e-4, "area = pi chi2 sqrt(det)");
    cr_expect(ang > 80.0 && ang < 100.0, "mostly along z2, tilted: %g", ang);
    free(lat);
}
