// test_mi_tasks.c: the closed-form tasks of `vibrun mi` (nn_mi_tasks.h) and the estimators on them.
// The truths are checked against hand formulas for the special covariances and against a Monte
// Carlo mean of ln p(x,y) - ln p(x) - ln p(y) written here from the textbook densities (normal and
// multivariate t, Cholesky in double), on samples drawn by the generator itself, so a wrong sampler
// or a wrong formula fails. Then each estimator must land within a stated tolerance of the truth.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_mi_tasks.h"
#include "testutil.h"

#define PI 3.14159265358979323846

static nn_mi_task task(const char *name) {
    static nn_mi_task t;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_task_parse(name, &t, &err), RT_OK, "%s: %s", name, err.msg);
    return t;
}

static float *sample(const nn_mi_task *t, int n, uint64_t seed) {
    float *xy = malloc((size_t)n * (size_t)(t->dx + t->dy) * sizeof *xy);
    cr_assert_not_null(xy);
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_task_sample(t, n, seed, xy, &err), RT_OK, "%s", err.msg);
    return xy;
}

// det of (1 - r) I_m + r 11^T
static double equicorr_logdet(int m, double r) { return (m - 1) * log(1.0 - r) + log(1.0 + (m - 1) * r); }

Test(mi_tasks, normal_truth_matches_the_closed_forms_of_its_covariances) {
    int dims[][2] = { { 1, 1 }, { 2, 3 }, { 5, 5 }, { 25, 25 }, { 3, 7 } };
    for (size_t i = 0; i < sizeof dims / sizeof *dims; i++) {
        int dx = dims[i][0], dy = dims[i][1];
        char name[64];
        snprintf(name, sizeof name, "normal-dense-%d-%d", dx, dy);
        double want = 0.5 * (equicorr_logdet(dx, 0.5) + equicorr_logdet(dy, 0.5) - equicorr_logdet(dx + dy, 0.5));
        cr_expect_float_eq(task(name).mi_nats, want, 1e-10, "%s: %.12f vs %.12f", name, task(name).mi_nats, want);
        snprintf(name, sizeof name, "normal-sparse-%d-%d", dx, dy);
        int pairs = dx < dy ? dx : dy;
        pairs = pairs < 2 ? pairs : 2;
        want = -0.5 * pairs * log(1.0 - 0.64);
        cr_expect_float_eq(task(name).mi_nats, want, 1e-10, "%s", name);
        snprintf(name, sizeof name, "normal-identity-%d-%d", dx, dy);
        cr_expect_float_eq(task(name).mi_nats, 0.0, 1e-12, "%s", name);
    }
}

// ln of the density of the d-variate t (df > 0) or normal (df = 0) with dispersion S, at x, from the
// Cholesky factor l (d x d) of S: ln N = -d/2 ln 2pi - 1/2 ln det S - q/2; ln t = ln G((df+d)/2) -
// ln G(df/2) - d/2 ln(df pi) - 1/2 ln det S - (df+d)/2 ln(1 + q/df), q = x^T S^-1 x.
static double log_density(const double *l, int d, const double *x, int df) {
    double q = 0.0, logdet = 0.0, z[64];
    for (int i = 0; i < d; i++) {
        double s = x[i];
        for (int k = 0; k < i; k++) s -= l[i * d + k] * z[k];
        z[i] = s / l[i * d + i];
        q += z[i] * z[i];
        logdet += 2.0 * log(l[i * d + i]);
    }
    if (df == 0) return -0.5 * d * log(2.0 * PI) - 0.5 * logdet - 0.5 * q;
    return lgamma(0.5 * (df + d)) - lgamma(0.5 * df) - 0.5 * d * log(df * PI) - 0.5 * logdet -
           0.5 * (df + d) * log1p(q / df);
}

static void cholesky(const double *s, int ld, int o, int d, double *l) {
    memset(l, 0, (size_t)d * (size_t)d * sizeof *l);
    for (int i = 0; i < d; i++)
        for (int j = 0; j <= i; j++) {
            double v = s[(o + i) * ld + o + j];
            for (int k = 0; k < j; k++) v -= l[i * d + k] * l[j * d + k];
            l[i * d + j] = i == j ? sqrt(v) : v / l[j * d + j];
        }
}

// Monte Carlo E[ln p(x,y) - ln p(x) - ln p(y)] over n generated rows; its standard error in *se.
static double monte_carlo_mi(const nn_mi_task *t, int n, double *se) {
    int dx = t->dx, dy = t->dy, d = dx + dy;
    double lj[64 * 64], lx[32 * 32], ly[32 * 32];
    cholesky(t->cov, d, 0, d, lj);
    cholesky(t->cov, d, 0, dx, lx);
    cholesky(t->cov, d, dx, dy, ly);
    float *xy = sample(t, n, 7);
    double s = 0.0, s2 = 0.0, v[64];
    for (int r = 0; r < n; r++) {
        for (int i = 0; i < d; i++) v[i] = xy[(size_t)r * d + i];
        double term = log_density(lj, d, v, t->df) - log_density(lx, dx, v, t->df) - log_density(ly, dy, v + dx, t->df);
        s += term;
        s2 += term * term;
    }
    free(xy);
    double mean = s / n;
    *se = sqrt((s2 / n - mean * mean) / n);
    return mean;
}

Test(mi_tasks, truth_matches_a_monte_carlo_mean_of_the_log_density_ratio) {
    const char *names[] = { "normal-dense-2-3", "normal-sparse-4-4", "student-identity-1-1-df1",
                            "student-dense-2-2-df3", "student-sparse-3-2-df5", "student-identity-5-5-df2" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        nn_mi_task t = task(names[i]);
        double se, mc = monte_carlo_mi(&t, 200000, &se);
        cr_expect(fabs(mc - t.mi_nats) < 5.0 * se + 1e-3, "%s: truth %.4f nats, Monte Carlo %.4f +- %.4f",
                  names[i], t.mi_nats, mc, se);
    }
}

Test(mi_tasks, normal_sample_has_the_declared_covariance) {
    nn_mi_task t = task("normal-dense-3-2");
    int n = 50000, d = 5;
    float *xy = sample(&t, n, 3);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0.0;
            for (int r = 0; r < n; r++) s += (double)xy[(size_t)r * d + i] * (double)xy[(size_t)r * d + j];
            cr_expect(fabs(s / n - t.cov[i * d + j]) < 0.03, "cov[%d][%d] = %.4f, want %.1f", i, j, s / n,
                      t.cov[i * d + j]);
        }
    free(xy);
}

Test(mi_tasks, invertible_maps_keep_the_truth_and_map_the_same_draws) {
    nn_mi_task base = task("student-sparse-2-2-df3");
    const char *maps[] = { "halfcube-student-sparse-2-2-df3", "asinh-student-sparse-2-2-df3",
                           "cdf-student-sparse-2-2-df3" };
    float *b = sample(&base, 100, 11);
    for (int m = 0; m < 3; m++) {
        nn_mi_task t = task(maps[m]);
        cr_expect_float_eq(t.mi_nats, base.mi_nats, 1e-15);
        float *v = sample(&t, 100, 11);
        for (int e = 0; e < 400; e++) {
            double x = b[e];
            double want = m == 0 ? x * sqrt(fabs(x)) : m == 1 ? asinh(x) : 0.5 * erfc(-x / sqrt(2.0));
            cr_expect(fabs((double)v[e] - want) <= 1e-6 * fmax(1.0, fabs(want)), "%s[%d] = %g, want %g", maps[m], e,
                      (double)v[e], want);
        }
        free(v);
    }
    free(b);
}

Test(mi_tasks, bad_names_say_what_is_wrong) {
    const char *bad[][2] = { { "gauss-dense-2-2", "expected normal-... or student-" },
                             { "normal-full-2-2", "expected dense-, sparse- or identity-" },
                             { "normal-dense-2", "expected DX-DY" },
                             { "normal-dense-26-1", "each must be 1..25" },
                             { "student-dense-2-2", "expected DX-DY-dfNU" },
                             { "student-dense-2-2-df0", "degrees of freedom must be 1..100" } };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        nn_mi_task t;
        rt_err err = { 0 };
        cr_expect_eq(nn_mi_task_parse(bad[i][0], &t, &err), RT_ERR_ARG, "%s", bad[i][0]);
        cr_expect(strstr(err.msg, bad[i][1]) != NULL, "%s: %s", bad[i][0], err.msg);
    }
}

// The estimate of `est` on `name` at n rows (seed 1), in bits.
static double estimate(const char *name, int n, nn_mi_xy_kind kind) {
    nn_mi_task t = task(name);
    float *xy = sample(&t, n, 1);
    nn_mi_xy_opts o = nn_mi_xy_opts_default();
    o.kind = kind;
    nn_mi_value v;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_xy(xy, n, t.dx, t.dy, &o, &v, &err), RT_OK, "%s: %s", name, err.msg);
    free(xy);
    return v.bits;
}

// The tolerances of docs/mi.md: each estimator where the table says it can be believed.
Test(mi_tasks, estimators_reproduce_the_truth_within_their_documented_tolerances) {
    struct { const char *task; int n; nn_mi_xy_kind kind; double tol_bits; } c[] = {
        { "normal-sparse-2-2", 2000, NN_MI_XY_KSG, 0.10 },
        { "asinh-normal-sparse-2-2", 2000, NN_MI_XY_KSG, 0.10 },
        { "halfcube-normal-dense-1-1", 2000, NN_MI_XY_KSG, 0.05 },
        { "asinh-student-identity-1-1-df1", 2000, NN_MI_XY_KSG, 0.05 },
        { "normal-dense-1-1", 2000, NN_MI_XY_KDE, 0.05 },
        { "normal-sparse-1-1", 5000, NN_MI_XY_BINNING, 0.10 },
        { "normal-identity-2-2", 2000, NN_MI_XY_KSG, 0.05 },
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        double truth = task(c[i].task).mi_nats / NN_MI_NATS_PER_BIT;
        double got = estimate(c[i].task, c[i].n, c[i].kind);
        cr_expect(fabs(got - truth) <= c[i].tol_bits, "%s, n = %d, %s: %.4f bits, truth %.4f (tolerance %.2f)",
                  c[i].task, c[i].n, nn_mi_xy_kind_name(c[i].kind), got, truth, c[i].tol_bits);
    }
}

Test(mi_tasks, ross_finds_the_one_bit_of_a_sign) {
    int n = 2000;
    nn_mi_task t = task("normal-identity-1-1");
    float *xy = sample(&t, n, 5);
    for (int r = 0; r < n; r++) xy[2 * r + 1] = xy[2 * r] > 0.0f;        // Y = 1[X > 0]: I = H(Y) ~ 1 bit
    nn_mi_xy_opts o = nn_mi_xy_opts_default();
    o.kind = NN_MI_XY_ROSS;
    nn_mi_value v;
    rt_err err = { 0 };
    cr_assert_eq(nn_mi_xy(xy, n, 1, 1, &o, &v, &err), RT_OK, "%s", err.msg);
    cr_expect(fabs(v.bits - 1.0) < 0.05, "ross: %.4f bits, want about 1", v.bits);
    xy[1] = 0.5f;
    cr_expect_eq(nn_mi_xy(xy, n, 1, 1, &o, &v, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "row 1: Y = 0.5 is not an integer class label") != NULL, "%s", err.msg);
    free(xy);
}

// ---- the CSV and the command ----

static rt_status read_csv(const char *text, int dx, int dy, int *n, float **xy, rt_err *err) {
    const char *dir = tu_tmpdir("mi_csv");
    char path[512];
    snprintf(path, sizeof path, "%s/d.csv", dir);
    tu_write_file(path, text, strlen(text));
    return nn_mi_csv_read(path, dx, dy, xy, n, err);
}

Test(mi_tasks, csv_reads_numbers_skips_a_header_and_names_file_and_line_of_errors) {
    float *xy;
    int n;
    rt_err err = { 0 };
    cr_assert_eq(read_csv("X1,Y1,extra\n1,2,9\n\n 3 ,4e0,9\r\n5,6,9\n", 1, 1, &n, &xy, &err), RT_OK, "%s", err.msg);
    cr_expect_eq(n, 3);
    float want[] = { 1, 2, 3, 4, 5, 6 };
    for (int i = 0; i < 6; i++) cr_expect_eq(xy[i], want[i]);
    free(xy);
    struct { const char *text; const char *msg; } bad[] = {
        { "1,2\n3,abc\n", "d.csv:2: field 2 'abc' is not a number" },
        { "a,b\n1,2\n3\n", "d.csv:3: 1 fields, but the first line has 2" },
        { "1,2\n3,4\n", "d.csv:1: 2 fields, but at least 3 are needed" },
        { "a,b,c\n1,2,3\n", "1 data rows; an estimate needs at least 2" },
        { "1,2,3\n4,nan,6\n", "d.csv:2: field 2 'nan' is not a number" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err = (rt_err){ 0 };
        int dx = i == 2 ? 2 : 1;
        cr_expect_eq(read_csv(bad[i].text, dx, 1, &n, &xy, &err), RT_ERR_FORMAT, "case %zu", i);
        cr_expect(strstr(err.msg, bad[i].msg) != NULL, "case %zu: %s", i, err.msg);
    }
}

Test(mi_tasks, command_writes_a_task_and_estimates_it_on_the_benchmark_contract) {
    const char *dir = tu_tmpdir("mi_cmd");
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "%s mi --task normal-sparse-1-1 --n 2000 --seed 1 -o %s/t.csv 2>&1", tu_vibrun(), dir);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    double truth = atof(out);
    cr_expect(fabs(truth - (-0.5 * log(0.36) / log(2.0))) < 1e-5, "truth printed: %s", out);
    // The benchmark's form: COMMAND FILE DIM_X DIM_Y, one number in nats on stdout, nothing else.
    snprintf(cmd, sizeof cmd, "%s mi --nats --estimator ksg %s/t.csv 1 1 2>&1", tu_vibrun(), dir);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    char *end;
    double nats = strtod(out, &end);
    cr_expect(strcmp(end, "\n") == 0, "more than one number on the output: '%s'", out);
    cr_expect(fabs(nats - truth * log(2.0)) < 0.07, "ksg %.4f nats, truth %.4f", nats, truth * log(2.0));
    snprintf(cmd, sizeof cmd, "%s mi --csv %s/t.csv --dx 1 --dy 1 2>&1", tu_vibrun(), dir);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    cr_expect(fabs(atof(out) - nats / log(2.0)) < 1e-5, "bits %s vs nats %.6f", out, nats);
    // A bad row: exit 1, the file and line named.
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.csv", dir);
    tu_write_file(bad, "x,y\n1,2\n3,4\n5,?\n", 16);
    snprintf(cmd, sizeof cmd, "%s mi --csv %s --dx 1 --dy 1 2>&1", tu_vibrun(), bad);
    cr_expect_eq(tu_run(cmd, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "bad.csv:4: field 2 '?' is not a number") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "%s mi --csv %s --dx 1 --dy 1 --estimator svm 2>&1", tu_vibrun(), bad);
    cr_expect_eq(tu_run(cmd, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "--estimator svm: expected ksg, kde, binning or ross") != NULL, "%s", out);
}
