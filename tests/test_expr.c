// test_expr.c: custom objective terms (vib.term.custom, nn/nn_expr.c) through the vibrun command:
// the built-in terms written again with the ops train to the same losses and parameters, and
// --gradcheck passes correct terms and reports a deliberate mistake.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_ckpt.h"
#include "testutil.h"

static char out[1 << 16];

static int vibrun(const char *dir, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, tu_vibrun(), args);
    return tu_run(cmd, out, sizeof out);
}

/* The comma-separated field `col` (0-based) of a CSV line, as a number; NAN when missing. */
static double field(const char *line, int col) {
    for (int i = 0; i < col && line; i++) {
        line = strchr(line, ',');
        if (line) line++;
    }
    return line ? strtod(line, NULL) : (double)NAN;
}

static int column(const char *header, const char *name) {
    int col = 0;
    size_t n = strlen(name);
    for (const char *s = header; s && *s; col++) {
        if (strncmp(s, name, n) == 0 && (s[n] == ',' || s[n] == '\n' || s[n] == '\0')) return col;
        s = strchr(s, ',');
        if (s) s++;
    }
    cr_assert_fail("no column %s in %s", name, header);
    return -1;
}

static float *params_of(const char *dir, const char *id, size_t *n) {
    char path[1200];
    snprintf(path, sizeof path, "%s/runs/custom_reexpr/%s/checkpoint", dir, id);
    rt_err err = { 0 };
    rt_ckpt *ck = rt_ckpt_load(path, &err);
    cr_assert_not_null(ck, "%s", err.msg);
    size_t nb;
    const void *p = rt_ckpt_data(ck, "params", &nb);
    cr_assert_not_null(p);
    float *copy = malloc(nb);
    memcpy(copy, p, nb);
    *n = nb / sizeof(float);
    rt_ckpt_free(ck);
    return copy;
}

/* Gaussian KL, Unpacking IB's log-variance bound (of H[Z] and per class of H[Z|Y]), the L2 bound (both)
** and nonlinear IB's KDE bound, each trained for 2 epochs with the built-in term and with its
** re-expression in tests/lua/custom_reexpr.lua: losses, the term and every parameter agree. */
Test(expr, reexpressed_terms_train_as_the_builtin_ones) {
    const char *dir = tu_tiny_dir("expr_reexpr");
    char args[2200];
    snprintf(args, sizeof args, "--quiet '%s/tests/lua/custom_reexpr.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char path[1200];
    snprintf(path, sizeof path, "%s/runs/custom_reexpr/results.csv", dir);
    char *csv = tu_read_file(path, NULL);
    cr_assert_not_null(csv);
    char *lines[32];
    int n = 0;
    for (char *s = strtok(csv, "\n"); s && n < 32; s = strtok(NULL, "\n")) lines[n++] = s;
    cr_assert_eq(n, 13, "12 points and a header, got %d lines", n);
    cr_assert_eq(column(lines[0], "form"), 1);
    cr_assert_eq(column(lines[0], "which"), 2);
    const char *cols[] = { "train_loss_bits", "test_loss_bits", "test_ce_bits", "test_r_bits" };
    for (int i = 1; i < n; i++) {
        if (strncmp(strchr(lines[i], ',') + 1, "builtin,", 8) != 0) continue;
        char which[32];
        sscanf(lines[i], "%*[^,],%*[^,],%31[^,]", which);
        int j = 1;
        for (; j < n; j++) {
            char w2[32];
            sscanf(lines[j], "%*[^,],%*[^,],%31[^,]", w2);
            if (j != i && strcmp(w2, which) == 0) break;
        }
        cr_assert_lt(j, n, "no custom point for %s", which);
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            int c = column(lines[0], cols[k]);
            double a = field(lines[i], c), b = field(lines[j], c);
            cr_expect(fabs(a - b) <= 1e-5 * fmax(1.0, fabs(a)), "%s: %s builtin %.9g, custom %.9g", which, cols[k], a, b);
        }
        char id_a[13], id_b[13];
        sscanf(lines[i], "%12[^,]", id_a);
        sscanf(lines[j], "%12[^,]", id_b);
        size_t na, nb;
        float *pa = params_of(dir, id_a, &na), *pb = params_of(dir, id_b, &nb);
        cr_assert_eq(na, nb, "%s: the two models differ in size", which);
        double worst = 0.0;
        for (size_t k = 0; k < na; k++) worst = fmax(worst, fabs((double)pa[k] - (double)pb[k]) / fmax(1.0, fabs((double)pa[k])));
        cr_expect_leq(worst, 1e-4, "%s: parameters differ by up to %g after training", which, worst);
        free(pa);
        free(pb);
    }
    free(csv);
}

/* --gradcheck: a correct term passes (worst error far below 1e-2), a term with a stop_gradient left on
** one factor is reported (exit 1, "LARGE"), and a term through every op passes. */
Test(expr, gradcheck_passes_correct_terms_and_reports_a_mistake) {
    const char *dir = tu_tiny_dir("expr_gradcheck");
    const char *variants[] = { "ok", "ops", "mistake" };
    for (int i = 0; i < 3; i++) {
        char args[2200];
        snprintf(args, sizeof args, "--gradcheck '%s/tests/lua/custom_gradcheck.lua' --set variant=%s", tu_source_dir(),
                 variants[i]);
        int code = vibrun(dir, args);
        const char *w = strstr(out, "worst relative error ");
        cr_assert_not_null(w, "%s: %s", variants[i], out);
        double e = strtod(w + strlen("worst relative error "), NULL);
        if (i < 2) {
            cr_expect_eq(code, 0, "%s: %s", variants[i], out);
            cr_expect_lt(e, 1e-3, "%s: %s", variants[i], out);
        } else {
            cr_expect_eq(code, 1, "%s: %s", variants[i], out);
            cr_expect_gt(e, 0.1, "%s: %s", variants[i], out);
            cr_expect_not_null(strstr(out, "LARGE"), "%s", out);
        }
    }
}

/* A custom term's rows meet rows of another multiplicity: z has 4 samples per example, the one-hot
** labels one row per example, repeated per sample as the built-in terms repeat labels. The run trains
** and logs the term; --gradcheck (evaluation at the mean, one row each) passes. */
Test(expr, per_example_values_repeat_across_samples) {
    const char *dir = tu_tiny_dir("expr_samples");
    char path[1200];
    snprintf(path, sizeof path, "%s/samples.lua", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "local vib = require \"vib\"\n"
               "local r = vib.term.custom { name = \"r\", value = function(v)\n"
               "  return (v.z * v.onehot):sum(2) + v.z.mu:sum(2) end }\n"
               "return vib.experiment { name = \"samples\", data = vib.data.csv { path = \"tiny.csv\" },\n"
               "  model = vib.seq { vib.gauss { k = 3, samples = 4, name = \"z\" }, vib.linear { out = 3 } },\n"
               "  objective = vib.term.ce {} + 0.01 * r, epochs = 1, batch = 20, eval_samples = 2 }\n");
    fclose(f);
    cr_assert_eq(vibrun(dir, "--quiet samples.lua"), 0, "%s", out);
    cr_assert_eq(vibrun(dir, "--gradcheck samples.lua"), 0, "%s", out);
    cr_expect_not_null(strstr(out, "term 'r': worst relative error"), "%s", out);
}

/* The last line of <dir>/runs/<exp>/<the one point>/metrics.csv, and its header. */
static char *metrics_of(const char *dir, const char *exp, char **last) {
    char names[2][64], path[2048];
    snprintf(path, sizeof path, "%s/runs/%s", dir, exp);
    cr_assert_eq(tu_point_dirs(path, names, 2), 1);
    snprintf(path, sizeof path, "%s/runs/%s/%s/metrics.csv", dir, exp, names[0]);
    char *m = tu_read_file(path, NULL);
    cr_assert_not_null(m, "no %s", path);
    size_t n = strlen(m);
    char *l = m + n - 2;
    while (l > m && *l != '\n') l--;
    *last = l + 1;
    return m;
}

/* The two experiments written only with custom terms run their quick settings (their headers) on the
** MNIST sample: the HSIC bottleneck learns (test error well below chance after one epoch on 8,000
** images) and logs both dependences; the TC-penalized VIB logs its rate and its TC estimate. */
Test(expr, literature_experiments_run_their_quick_settings, .timeout = 600) {
    char data[1024];
    if (!tu_shared("mnist-t10k", data, sizeof data)) tu_skip("no ../shared/data/mnist-t10k");
    const struct { const char *exp, *header; int ncol; double max_error; } runs[] = {
        { "hsic_mnist", "epoch,split,loss_bits,ce_bits,hsic_x_bits,hsic_y_bits,error,lr\n", 4, 0.2 },
        { "tc_mnist", "epoch,split,loss_bits,ce_bits,kl_bits,tc_bits,error,lr\n", 4, 0.3 },
    };
    for (int k = 0; k < 2; k++) {
        const char *dir = tu_tmpdir(runs[k].exp);
        char args[4096];
        snprintf(args, sizeof args, "--quiet --out runs --set epochs=1 --set data_dir='%s' --set resplit=0.8 "
                 "'%s/experiments/%s.lua'", data, tu_source_dir(), runs[k].exp);
        cr_assert_eq(vibrun(dir, args), 0, "%s: %s", runs[k].exp, out);
        char *last, *m = metrics_of(dir, runs[k].exp, &last);
        cr_expect(strncmp(m, runs[k].header, strlen(runs[k].header)) == 0, "%s header: %.200s", runs[k].exp, m);
        cr_expect(strncmp(last, "1,test,", 7) == 0, "%s: last row %s", runs[k].exp, last);
        double v[5];
        cr_assert_eq(sscanf(last + 7, "%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4]), 5, "%s", last);
        for (int i = 0; i < 4; i++) cr_expect(isfinite(v[i]), "%s: column %d is %g", runs[k].exp, i + 3, v[i]);
        cr_expect_lt(v[4], runs[k].max_error, "%s: test error %g after one epoch", runs[k].exp, v[4]);
        free(m);
    }
}
