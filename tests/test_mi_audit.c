// test_mi_audit.c: measure.audit (nn_measure.h): the bootstrap interval covers the truth of a
// known task, the shuffle control reads about 0, distinct_from_zero tells a real I(Z;Y) from an
// independent one, info_audit.csv's rows equal direct estimator calls at the changed settings,
// the data-processing rows compare consecutive layers, the same seed writes the same bytes, and
// with the audit off nothing of it is written.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_train.h"
#include "testutil.h"

/* n examples of 3 features: one of 4 patterns (unit vectors e0, e1, e2, or 0), drawn uniformly;
** y = 0 for pattern 0, 1 for pattern 1, a fair coin for patterns 2 and 3 (independent: a coin for
** all). With T the pattern, I(T;Y) = H(Y) - H(Y|T) = 1 - 1/2 = 0.5 bits (independent: 0). */
static nn_dataset patterns(int n, bool independent, uint64_t seed) {
    nn_dataset d = { .n = n, .ndim = 1, .shape = { 3, 1, 1 }, .dim = 3, .nclass = 2 };
    d.x = calloc((size_t)n * 3, sizeof *d.x);
    d.y = malloc((size_t)n * sizeof *d.y);
    rt_rng r;
    rt_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int p = (int)rt_rng_below(&r, 4);
        if (p < 3) d.x[i * 3 + p] = 1.0f;
        int coin = (int)rt_rng_below(&r, 2);
        d.y[i] = independent || p >= 2 ? coin : p;
    }
    return d;
}

/* linear(6) "h" -> tanh(6) "t" -> linear(2) "out", CE, weights from seed 3. */
static void net(nn_model *m, nn_obj *o) {
    nn_layer_spec s[] = { tu_layer("m.lua", 4, NN_LAYER_LINEAR, 6, "h"), tu_layer("m.lua", 4, NN_LAYER_TANH, 6, "t"),
                          tu_layer("m.lua", 4, NN_LAYER_LINEAR, 2, "out") };
    nn_term_spec t[] = { tu_term("m.lua:20", NN_TERM_CE, "ce", "", 1.0f) };
    rt_err err = { 0 };
    cr_assert_eq(nn_model_build(m, s, 3, 3, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nn_obj_build(o, t, 1, NULL, 0, m, &err), RT_OK, "%s", err.msg);
    rt_rng r;
    rt_rng_seed(&r, 3);
    nn_model_init(m, &r);
}

typedef struct run { nn_measure *mm; char dir[512]; } run;

/* One measured epoch of binning and kde on the test split (tr, te), audit on or off, in dir tag. */
static run measure(nn_dataset *tr, nn_dataset *te, bool audit, const char *tag) {
    nn_model m;
    nn_obj o;
    net(&m, &o);
    nn_measure_cfg cfg = nn_measure_cfg_default();
    cfg.estimators = 1u << NN_EST_BINNING | 1u << NN_EST_KDE;
    cfg.split[0] = false;
    cfg.split[1] = true;
    cfg.audit = audit;
    cfg.audit_bootstrap = 20;
    snprintf(cfg.where, sizeof cfg.where, "m.lua:9");
    run r = { .mm = calloc(1, sizeof *r.mm) };
    snprintf(r.dir, sizeof r.dir, "%s", tu_tmpdir(tag));
    rt_err err = { 0 };
    cr_assert_eq(nn_measure_open(r.mm, &cfg, &m, &o, tr, te, 1, 0, r.dir, false, &err), RT_OK, "%s", err.msg);
    rt_ctx c;
    rt_ctx_init(&c, 4u << 20);
    cr_assert_eq(nn_measure_epoch(r.mm, &m, &o, 0, 500, &c, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nn_measure_close(r.mm, true, &err), RT_OK, "%s", err.msg);
    rt_ctx_free(&c);
    nn_model_free(&m);
    return r;
}

static const nn_info_row *find(const nn_measure *mm, const char *layer, nn_info_kind k) {
    for (int i = 0; i < mm->nlast; i++)
        if (strcmp(mm->last[i].layer, layer) == 0 && mm->last[i].kind == k) return &mm->last[i];
    cr_assert_fail("no row %s %s", layer, nn_info_kind_name(k));
    return NULL;
}

Test(mi_audit, interval_covers_the_truth_and_the_shuffle_control_reads_zero) {
    nn_dataset tr = patterns(200, false, 1), te = patterns(1000, false, 2);
    run r = measure(&tr, &te, true, "audit_known");
    const nn_info_row *b = find(r.mm, "t", NN_INFO_BINNING);
    cr_expect(fabs(b->ixz - 2.0) < 0.01, "the 4 patterns stay apart: I(X;T) %.4f, want about 2 bits", b->ixz);
    cr_expect(fabs(b->izy - 0.5) < 0.05, "I(T;Y) %.4f, truth 0.5", b->izy);
    cr_expect(b->izy_lo <= 0.5 && 0.5 <= b->izy_hi, "interval [%.4f, %.4f] misses the truth 0.5", b->izy_lo, b->izy_hi);
    cr_expect(b->izy_lo <= b->izy_hi && b->izy_hi - b->izy_lo < 0.15, "interval [%.4f, %.4f]", b->izy_lo, b->izy_hi);
    cr_expect(b->ixz_lo <= b->ixz_hi, "I(X;T) interval [%.4f, %.4f]", b->ixz_lo, b->ixz_hi);
    cr_expect(fabs(b->izy_shuffle) < 0.01, "shuffle control %.4f, want about 0", b->izy_shuffle);
    cr_expect_eq(b->distinct, 1);
    free(r.mm);
    nn_dataset_free(&te);

    te = patterns(1000, true, 2);                       // labels independent of the input
    r = measure(&tr, &te, true, "audit_indep");
    b = find(r.mm, "t", NN_INFO_BINNING);
    cr_expect(b->izy < 0.01 && fabs(b->izy_shuffle) < 0.01, "independent: I(T;Y) %.4f, shuffle %.4f", b->izy,
              b->izy_shuffle);
    cr_expect_eq(b->distinct, 0, "independent labels told apart from 0: I %.4f, shuffle %.4f, [%.4f, %.4f]",
                 b->izy, b->izy_shuffle, b->izy_lo, b->izy_hi);
    const nn_info_row *k = find(r.mm, "t", NN_INFO_KDE_UPPER);
    cr_expect(fabs(k->izy_shuffle) < 0.02, "kde shuffle control %.4f", k->izy_shuffle);
    free(r.mm);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

/* The value of column col in the info_audit.csv row (layer, estimator, check, setting). */
static double audit_value(const rt_csv_table *t, const char *layer, const char *est, const char *check,
                          const char *setting, const char *col) {
    int cl = rt_csv_col(t, "layer"), ce = rt_csv_col(t, "estimator"), cc = rt_csv_col(t, "check"),
        cs = rt_csv_col(t, "setting"), cv = rt_csv_col(t, col);
    for (int i = 0; i < t->nrow; i++)
        if (!strcmp(rt_csv_at(t, i, cl), layer) && !strcmp(rt_csv_at(t, i, ce), est) &&
            !strcmp(rt_csv_at(t, i, cc), check) && !strcmp(rt_csv_at(t, i, cs), setting))
            return atof(rt_csv_at(t, i, cv));
    cr_assert_fail("info_audit.csv has no row %s %s %s %s", layer, est, check, setting);
    return NAN;
}

Test(mi_audit, files_hold_the_columns_and_the_settings_equal_direct_calls) {
    nn_dataset tr = patterns(200, false, 1), te = patterns(600, false, 2);
    run r = measure(&tr, &te, true, "audit_files");
    char path[600];
    snprintf(path, sizeof path, "%s/info.csv", r.dir);
    char *csv = tu_read_file(path, NULL);
    cr_assert_not_null(csv);
    const char *head = "epoch,split,layer,estimator,ixz_bits,izy_bits,ixz_side,izy_side,n,clipped_frac,"
                       "ixz_lo,ixz_hi,izy_lo,izy_hi,izy_shuffle,distinct_from_zero\n";
    cr_expect(strncmp(csv, head, strlen(head)) == 0, "%.200s", csv);
    free(csv);
    snprintf(path, sizeof path, "%s/info_timing.csv", r.dir);
    csv = tu_read_file(path, NULL);
    cr_expect(csv && strstr(csv, ",test,t,audit:binning,") && strstr(csv, ",test,t,audit:kde,"), "%s", csv);
    free(csv);

    rt_csv_table t;
    snprintf(path, sizeof path, "%s/info_audit.csv", r.dir);
    cr_assert(rt_csv_read(path, &t), "info_audit.csv committed");
    const nn_info_row *b = find(r.mm, "t", NN_INFO_BINNING);
    cr_expect_float_eq(audit_value(&t, "t", "binning", "subsample", "n", "izy_bits"), b->izy, 1e-8);
    // binning at half and twice the bin size: 60 and 15 bins over [-1, 1], as nn_mi_bin computes them
    nn_model m;
    nn_obj o;
    net(&m, &o);
    rt_ctx c;
    rt_ctx_init(&c, 4u << 20);
    rt_tensor *x = rt_tensor_new(&c, 2, (int[]){ te.n, 3 });
    memcpy(x->data, te.x, (size_t)te.n * 3 * sizeof(float));
    c.grad_enabled = false;
    nn_fwd f = { &c, false, NULL, 0, 0, 0, NULL };
    nn_model_forward(&m, &f, x);
    const float *a = m.layers[1].y->data;
    rt_err err = { 0 };
    int bins[2] = { 60, 15 };
    const char *names[2] = { "half", "double" };
    for (int i = 0; i < 2; i++) {
        nn_mi_bin_opts bo = nn_mi_bin_opts_default();
        bo.bins = bins[i];
        nn_mi_disc d;
        cr_assert_eq(nn_mi_bin(a, te.n, 6, NULL, te.y, &bo, &d, &err), RT_OK);
        cr_expect_float_eq(audit_value(&t, "t", "binning", "bin_size", names[i], "ixz_bits"), d.est.ixt, 1e-8);
        cr_expect_float_eq(audit_value(&t, "t", "binning", "bin_size", names[i], "izy_bits"), d.est.ity, 1e-8);
    }
    double vars[2] = { 0.025, 0.4 };
    const char *vnames[2] = { "/4", "x4" };
    for (int i = 0; i < 2; i++) {
        nn_mi_kde k;
        cr_assert_eq(nn_mi_kde_det(a, te.n, 6, vars[i], te.y, NULL, &k, &err), RT_OK);
        cr_expect_float_eq(audit_value(&t, "t", "kde_upper", "kde_var", vnames[i], "ixz_bits"), k.upper.ixt, 1e-8,
                           "%s: %.9f vs %.9f", vnames[i], audit_value(&t, "t", "kde_upper", "kde_var", vnames[i], "ixz_bits"),
                           k.upper.ixt);
        cr_expect_float_eq(audit_value(&t, "t", "kde_lower", "kde_var", vnames[i], "izy_bits"), k.lower.ity, 1e-8);
    }
    // subsamples: present and finite; dpi: softmax after t, this minus that, flagged when I(X;Z) grows
    cr_expect(isfinite(audit_value(&t, "t", "binning", "subsample", "n/4", "ixz_bits")));
    const nn_info_row *s = find(r.mm, "softmax", NN_INFO_BINNING);
    double diff = audit_value(&t, "softmax", "binning", "dpi", "t", "ixz_bits");
    cr_expect_float_eq(diff, s->ixz - b->ixz, 1e-8);
    cr_expect_eq((int)audit_value(&t, "softmax", "binning", "dpi", "t", "flag"), s->ixz > b->ixz + 1e-9);
    rt_csv_table_free(&t);
    rt_ctx_free(&c);
    nn_model_free(&m);

    // The same seed, the same bytes; the audit off: the old columns and no info_audit.csv.
    run r2 = measure(&tr, &te, true, "audit_files2");
    char p1[600], p2[600];
    for (int i = 0; i < 2; i++) {
        const char *file = i ? "info_audit.csv" : "info.csv";
        snprintf(p1, sizeof p1, "%s/%s", r.dir, file);
        snprintf(p2, sizeof p2, "%s/%s", r2.dir, file);
        tu_expect_same_file(p1, p2);
    }
    run off = measure(&tr, &te, false, "audit_off");
    snprintf(path, sizeof path, "%s/info.csv", off.dir);
    csv = tu_read_file(path, NULL);
    const char *plain = "epoch,split,layer,estimator,ixz_bits,izy_bits,ixz_side,izy_side,n,clipped_frac\n";
    cr_expect(csv && strncmp(csv, plain, strlen(plain)) == 0, "%.120s", csv);
    free(csv);
    snprintf(path, sizeof path, "%s/info_audit.csv", off.dir);
    cr_expect_null(tu_read_file(path, NULL), "no info_audit.csv without the audit");
    free(r.mm);
    free(r2.mm);
    free(off.mm);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}
