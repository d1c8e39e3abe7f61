// test_plot.c: the figures (lb_plot.c and plots/*.gp) drawn from fixture CSV files in the schemas
// the runner writes: each figure's PNG, SVG and .gp appear, `vibrun plot DIR` redraws them,
// declared plots follow their options, and a CSV without the needed columns skips the figure
// with a note instead of failing. Skipped when gnuplot is not installed.
#include <criterion/criterion.h>
#include <ctype.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_impl.h"
#include "lb_lua.h"
#include "rt_csv.h"
#include "testutil.h"

static char out[1 << 16];

static void need_gnuplot(void) {
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) tu_skip("gnuplot is not installed");
}

#define NPT 3
static char ids[NPT][17] = { "a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3" };
static const char *titles[NPT] = { "{beta=0.001,k=2}", "{beta=0.01,k=2}", "{beta=0.1,k=2}" };
static const double betas[NPT] = { 1e-3, 1e-2, 1e-1 };

static FILE *open_w(const char *dir, const char *id, const char *name) {
    char path[1200];
    if (id) snprintf(path, sizeof path, "%s/%s/%s", dir, id, name);
    else snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    return f;
}

/* runs/fx under a fresh directory: per point metrics.csv and info.csv (layers h1, z; every
** estimator; ksg without I(Z;Y); binning clipped in h1), latent.csv and latent_grid.csv for the
** first point; summary.csv over beta with errors and information (with_info) or errors only. */
static const char *fixture(const char *tag, bool with_info) {
    static char dir[800];
    snprintf(dir, sizeof dir, "%s/runs/fx", tu_tmpdir(tag));
    const char *exp_dir = dir;
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s' '%s/%s' '%s/%s'", exp_dir, ids[0], exp_dir, ids[1], exp_dir, ids[2]);
    cr_assert_eq(system(cmd), 0);
    const char *layers[2] = { "h1", "z" };
    const char *ests[5] = { "variational", "kde_upper", "kde_lower", "binning", "ksg" };
    const int epochs[6] = { 0, 1, 2, 4, 8, 16 };
    for (int p = 0; p < NPT; p++) {
        FILE *f = open_w(exp_dir, ids[p], "metrics.csv");
        fprintf(f, "epoch,split,loss_bits,error,lr\n");
        for (int e = 0; e <= 16; e++)
            for (int s = 0; s < 2; s++)
                fprintf(f, "%d,%s,%g,%g,0.001\n", e, s ? "test" : "train", 3.0 / (1 + e) + 0.1 * s, 0.9 / (1 + e) + 0.02 * s);
        fclose(f);
        f = open_w(exp_dir, ids[p], "info.csv");
        fprintf(f, "epoch,split,layer,estimator,ixz_bits,izy_bits,ixz_side,izy_side,n,seconds,clipped_frac\n");
        for (int e = 0; e < 6; e++)
            for (int s = 0; s < 2; s++)
                for (int l = 0; l < 2; l++)
                    for (int k = 0; k < 5; k++) {
                        if (k == 0 && l == 0) continue;     /* variational bounds exist for z only */
                        double t = log2(epochs[e] + 1.0) / 4, ixz = (8 - 3 * l) * t * (1.3 - 0.1 * k) * (1 - 0.3 * t * p);
                        double izy = 3.2 * (1 - exp(-3 * t)) - 0.1 * s - (k == 0 ? 0.3 : 0);
                        fprintf(f, "%d,%s,%s,%s,%.6g,", epochs[e], s ? "test" : "train", layers[l], ests[k], ixz);
                        if (k == 4) fprintf(f, "nan,estimate,estimate,1000,0.5,0\n");
                        else fprintf(f, "%.6g,%s,%s,1000,0.5,%g\n", izy, k == 1 || k == 0 ? "upper" : "lower",
                                     k == 0 || k == 2 ? "lower" : "upper", k == 3 && l == 0 && e >= 4 ? 0.02 : 0.0);
                    }
        fclose(f);
    }
    FILE *f = open_w(exp_dir, ids[0], "latent.csv");
    fprintf(f, "label,mu1,mu2,s11,s12,s22,ell_major,ell_minor,ell_angle\n");
    for (int i = 0; i < 300; i++) {
        int y = i % 10;
        double a = 6.283185307 * y / 10, r = 3 + 0.4 * sin(i * 1.7);
        fprintf(f, "%d,%.5g,%.5g,0.04,0.01,0.03,%.4g,%.4g,%.4g\n", y, r * cos(a) + 0.3 * sin(i * 0.9),
                r * sin(a) + 0.3 * cos(i * 1.3), 0.9, 0.6, 30.0 + i);
    }
    fclose(f);
    f = open_w(exp_dir, ids[0], "latent_grid.csv");
    fprintf(f, "z1,z2,entropy_bits\n");
    for (int j = 0; j < 50; j++)
        for (int i = 0; i < 50; i++) {
            double z1 = -5 + 10.0 * i / 49, z2 = -5 + 10.0 * j / 49;
            fprintf(f, "%.4g,%.4g,%.4g\n", z1, z2, 3.3 * exp(-0.2 * (z1 * z1 + z2 * z2)));
        }
    fclose(f);
    f = open_w(exp_dir, NULL, "summary.csv");
    const char *num[] = { "train_error", "test_error", "test_error_det", "test_error_1",
                          "train_z_variational_ixz_bits", "train_z_variational_izy_bits",
                          "test_z_variational_ixz_bits", "test_z_variational_izy_bits",
                          "test_h1_kde_upper_ixz_bits", "test_h1_kde_upper_izy_bits" };
    int nnum = with_info ? 10 : 4;
    fprintf(f, "beta,k,n");
    for (int c = 0; c < nnum; c++) fprintf(f, ",%s_mean,%s_sd,%s_ci95", num[c], num[c], num[c]);
    fprintf(f, "\n");
    for (int p = 0; p < NPT; p++) {
        fprintf(f, "%g,2,3", betas[p]);
        for (int c = 0; c < nnum; c++) {
            double v = c < 4 ? 0.02 + 0.5 * betas[p] + 0.01 * c : c % 2 ? 3.2 - 5 * betas[p] : 10 * (1 - 2 * betas[p]);
            fprintf(f, ",%.6g,%.3g,%.3g", v, 0.05 * v, 0.1 * v);
        }
        fprintf(f, "\n");
    }
    fclose(f);
    return exp_dir;
}

/* Runs lb_plot_run with the plots list returned by lua (NULL: no declared plots); its stdout in `out`. */
static int draw_all(const char *exp, const char *lua) {
    lua_State *L = NULL;
    lb_plot_opts *plots = NULL;
    int np = 0;
    if (lua) {
        L = lb_state_new(1);
        cr_assert_not_null(L);
        cr_assert_eq(luaL_dostring(L, lua), LUA_OK, "%s", lua_tostring(L, -1));
        np = lb_plots_read(L, lua_gettop(L), &plots);
    }
    char path[1000];
    snprintf(path, sizeof path, "%s.stdout", exp);
    fflush(stdout);
    int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    int rc = lb_plot_run(plots, np, exp, ids, titles, NPT, false);
    free(plots);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    if (L) lua_close(L);
    size_t n;
    char *s = tu_read_file(path, &n);
    snprintf(out, sizeof out, "%s", s ? s : "");
    free(s);
    return rc;
}

/* Asserts plots/<name>.png (a PNG of some size), .svg (holding `label`) and .gp exist. */
static void expect_figure(const char *exp, const char *name, const char *label) {
    char path[1200];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/plots/%s.png", exp, name);
    char *png = tu_read_file(path, &n);
    cr_assert_not_null(png, "no %s; output:\n%s", path, out);
    cr_expect(n > 20000 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0, "%s: not a PNG of a figure (%zu bytes)", path, n);
    free(png);
    snprintf(path, sizeof path, "%s/plots/%s.svg", exp, name);
    char *svg = tu_read_file(path, &n);
    cr_assert_not_null(svg, "no %s", path);
    cr_expect_not_null(strstr(svg, "<svg"), "%s is not an SVG", path);
    cr_expect_not_null(strstr(svg, label), "%s does not show '%s'", path, label);
    free(svg);
    snprintf(path, sizeof path, "%s/plots/%s.gp", exp, name);
    char *gp = tu_read_file(path, &n);
    cr_assert_not_null(gp, "no %s", path);
    cr_expect_not_null(strstr(gp, "out = '"), "%s has no variables on top", path);
    free(gp);
}

static bool exists(const char *exp, const char *file) {
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/%s", exp, file);
    return access(path, F_OK) == 0;
}

Test(plot, default_figures_from_the_csv) {
    need_gnuplot();
    const char *exp = fixture("defaults", true);
    cr_assert_eq(draw_all(exp, NULL), 0, "%s", out);
    expect_figure(exp, "training_curve", "epoch");
    for (int p = 0; p < NPT; p++) {
        char name[64];
        snprintf(name, sizeof name, "info_plane_beta=%g", betas[p]);
        expect_figure(exp, name, "I(X;Z) (bits)");
    }
    expect_figure(exp, "ib_curve", "I(Z;Y) (bits)");
    expect_figure(exp, "error_vs_beta", "error rate");
    expect_figure(exp, "latent_beta=0.001", "decoder entropy (bits)");
    cr_expect(!exists(exp, "latent_beta=0.01.png"), "a latent figure for a point without latent.csv");
    cr_expect_not_null(strstr(out, "figures: "), "%s", out);
    cr_expect_null(strstr(out, "skipped"), "a default figure was skipped:\n%s", out);
    /* the binning clip is noted on the plane, the estimators have their legend */
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/info_plane_beta=0.001.svg", exp);
    char *svg = tu_read_file(path, NULL);
    cr_assert_not_null(svg);
    cr_expect_not_null(strstr(svg, "outside the bin range"), "no clipping note");
    cr_expect_not_null(strstr(svg, "variational bounds"), "no estimator legend");
    cr_expect_not_null(strstr(svg, "KDE upper (KL)"), "no estimator legend");
    free(svg);
    /* the IB curve and error figure read the variational columns of z: the default layer */
    snprintf(path, sizeof path, "%s/plots/ib_curve.gp", exp);
    char *gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "ixz = 'z_variational_ixz_bits'"), "%.400s", gp);
    cr_expect_not_null(strstr(gp, "axis = 'beta'"));
    free(gp);
}

/* selfcheck.csv beside info.csv: the plane prints each drawn estimator's error range over the drawn
** layers and splits at level 0.5; other levels and layers do not count, nor estimators the plane
** does not draw (the fixture's ksg rows have no I(Z;Y), so ksg is not drawn); no file, no lines. */
Test(plot, info_plane_prints_the_selfcheck_errors) {
    need_gnuplot();
    const char *exp = fixture("selfcheck", true);
    FILE *f = open_w(exp, ids[0], "selfcheck.csv");
    fprintf(f, "split,layer,estimator,task,n,d,level,true_ixz_bits,ixz_bits,ixz_err_bits,true_izy_bits,izy_bits,izy_err_bits\n"
               "train,h1,kde_upper,linear_gauss,1000,8,0.5,5,7.34,2.34,1.5,2,0.5\n"
               "test,h1,kde_upper,linear_gauss,1000,8,0.5,5,7.11,2.11,1.5,2,0.5\n"
               "test,z,kde_upper,linear_gauss,1000,2,0.5,5,6,1,1.5,2,0.5\n"
               "test,z,kde_upper,linear_gauss,1000,2,0.25,2.5,9,6.5,1,2,1\n"
               "test,other,kde_upper,linear_gauss,1000,2,0.5,5,15,10,1.5,2,0.5\n"
               "test,h1,binning,codewords,1000,8,0.5,5,4.96,-0.04,3.3,3.29,-0.01\n"
               "test,h1,ksg,linear_gauss,1000,8,0.5,5,0.5,-4.5,1.5,0.5,-1\n"
               "test,z,ksg,linear_gauss,1000,2,0.5,5,1,-4,1.5,nan,nan\n");
    fclose(f);
    cr_assert_eq(draw_all(exp, NULL), 0, "%s", out);
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/info_plane_beta=0.001.gp", exp);
    char *gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "check_ixz = 'I(X;Z): KDE up +1.0..+2.3, binning +0.0'\n"), "%.1500s", gp);
    cr_expect_not_null(strstr(gp, "check_izy = 'I(Z;Y): KDE up +0.5, binning +0.0'\n"), "%.1500s", gp);
    free(gp);
    snprintf(path, sizeof path, "%s/plots/info_plane_beta=0.001.svg", exp);
    char *svg = tu_read_file(path, NULL);
    cr_assert_not_null(svg);
    cr_expect_not_null(strstr(svg, "self-check at each layer"), "the heading is not drawn");
    free(svg);
    snprintf(path, sizeof path, "%s/plots/info_plane_beta=0.01.gp", exp);
    gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "check_ixz = ''"), "a point without selfcheck.csv has no lines");
    free(gp);
}

Test(plot, vibrun_plot_redraws_every_figure) {
    need_gnuplot();
    const char *exp = fixture("redraw", true);
    cr_assert_eq(draw_all(exp, NULL), 0, "%s", out);
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "rm '%s'/plots/*.png '%s'/plots/*.svg", exp, exp);
    cr_assert_eq(system(cmd), 0);
    cr_assert(!exists(exp, "ib_curve.png"));
    snprintf(cmd, sizeof cmd, "'%s' plot '%s' 2>&1", tu_vibrun(), exp);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    expect_figure(exp, "training_curve", "epoch");
    expect_figure(exp, "info_plane_beta=0.01", "I(X;Z) (bits)");
    expect_figure(exp, "ib_curve", "I(Z;Y) (bits)");
    expect_figure(exp, "error_vs_beta", "error rate");
    expect_figure(exp, "latent_beta=0.001", "decoder entropy (bits)");
    cr_expect_not_null(strstr(out, "redrew "), "%s", out);
}

Test(plot, declared_plots_follow_their_options) {
    need_gnuplot();
    const char *exp = fixture("declared", true);
    const char *lua =
        "local vib = require 'vib'\n"
        "return { vib.plot.info_plane { per_layer = true, estimators = { 'kde_upper', 'binning' } },\n"
        "         vib.plot.error_vs { 'beta', info = false, formats = { 'pdf' }, name = 'err' },\n"
        "         vib.plot.ib_curve { layer = 'h1', estimator = 'kde_upper', splits = { 'test' } } }\n";
    cr_assert_eq(draw_all(exp, lua), 0, "%s", out);
    expect_figure(exp, "training_curve", "epoch");
    expect_figure(exp, "info_layers_beta=0.1", "I(X;Z) (bits)");
    cr_expect(!exists(exp, "info_plane_beta=0.1.png"), "the flat plane was drawn too");
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/info_layers_beta=0.1.svg", exp);
    char *svg = tu_read_file(path, NULL);
    cr_assert_not_null(svg);
    cr_expect_not_null(strstr(svg, "h1 (test)"), "no per-layer panel titles");
    cr_expect_null(strstr(svg, "variational bounds"), "an estimator left out is in the legend");
    free(svg);
    size_t n = 0;
    snprintf(path, sizeof path, "%s/plots/err.pdf", exp);
    char *pdf = tu_read_file(path, &n);
    cr_assert_not_null(pdf, "no %s:\n%s", path, out);
    cr_expect(n > 1000 && memcmp(pdf, "%PDF", 4) == 0);
    free(pdf);
    cr_expect(!exists(exp, "err.png"), "formats = { 'pdf' } drew a PNG");
    snprintf(path, sizeof path, "%s/plots/err.gp", exp);
    char *gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "ixz = ''"), "info = false still draws information");
    free(gp);
    snprintf(path, sizeof path, "%s/plots/ib_curve.gp", exp);
    gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "ixz = 'h1_kde_upper_ixz_bits'"));
    cr_expect_not_null(strstr(gp, "splits = 'test'"));
    free(gp);
}

Test(plot, missing_columns_skip_the_figure_with_a_note) {
    need_gnuplot();
    const char *exp = fixture("missing", false);
    const char *lua =
        "local vib = require 'vib'\n"
        "return { vib.plot.ib_curve {}, vib.plot.error_vs { 'beta' },\n"
        "         vib.plot.info_plane { layers = { 'nosuch' } } }\n";
    cr_assert_eq(draw_all(exp, lua), 0, "%s", out);
    cr_expect(!exists(exp, "ib_curve.png"));
    cr_expect_not_null(strstr(out, "ib_curve skipped: "), "%s", out);
    cr_expect_not_null(strstr(out, "has no information columns"), "%s", out);
    cr_expect_not_null(strstr(out, "info_plane skipped: "), "%s", out);
    /* the error figure draws what exists: the error panel alone */
    expect_figure(exp, "error_vs_beta", "error rate");
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/error_vs_beta.gp", exp);
    char *gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "ixz = ''"));
    free(gp);
    /* one configuration: nothing to draw a curve over */
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/summary.csv", exp);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "beta,n,test_error_mean,test_error_sd,test_error_ci95\n0.001,1,0.1,nan,0\n");
    fclose(f);
    cr_assert_eq(draw_all(exp, "local vib = require 'vib'\nreturn { vib.plot.error_vs { 'beta', name = 'one' } }\n"), 0);
    cr_expect(!exists(exp, "one.png"));
    cr_expect_not_null(strstr(out, "needs two or more"), "%s", out);
}

Test(plot, plot_keys_are_checked_at_the_script_line) {
    const char *dir = tu_tmpdir("plotkeys");
    char path[1200];
    snprintf(path, sizeof path, "%s/bad.lua", dir);
    const char *src =
        "local vib = require 'vib'\n"
        "return vib.experiment {\n"
        "  name = 'e', data = vib.data.csv { path = 'x.csv' }, params = { beta = 1e-3 },\n"
        "  model = vib.seq { vib.linear { out = 2 } },\n"
        "  plots = { vib.plot.info_plane { per_layer = true },\n"
        "            vib.plot.error_vs { 'beta', colour = 'red' } },\n"
        "}\n";
    tu_write_file(path, src, strlen(src));
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --check bad.lua 2>&1", dir, tu_vibrun());
    cr_expect_eq(tu_run(cmd, out, sizeof out), 1);
    cr_expect_not_null(strstr(out, "bad.lua:6: vib.plot.error_vs: unknown key 'colour'"), "%s", out);
}

/* The IB curve's colour range covers every configuration's value of the swept param, read back from
** gnuplot (GPVAL_CB_MIN/MAX after the script ran): a point whose I(X;Z) interval reaches below zero
** on the log axis used to fall out of the autoscaled range and take another beta's colour. */
Test(plot, ib_curve_colours_cover_every_configuration) {
    need_gnuplot();
    const char *exp = fixture("ibcolour", true);
    FILE *f = open_w(exp, NULL, "summary.csv");
    fprintf(f, "beta,n,test_error_mean,test_error_sd,test_error_ci95,test_z_variational_ixz_bits_mean,"
               "test_z_variational_ixz_bits_sd,test_z_variational_ixz_bits_ci95,test_z_variational_izy_bits_mean,"
               "test_z_variational_izy_bits_sd,test_z_variational_izy_bits_ci95\n"
               "0.001,2,0.1,0.01,0.09,500,10,90,3.2,0.01,0.09\n"
               "0.01,2,0.1,0.01,0.09,50,5,45,3.1,0.01,0.09\n"
               "0.1,2,0.2,0.01,0.09,5,1,9,2.5,0.1,0.9\n"
               "1,2,0.6,0.01,0.09,0.2,0.1,0.9,0.4,0.1,0.9\n");
    fclose(f);
    cr_assert_eq(draw_all(exp, "local vib = require 'vib'\nreturn { vib.plot.ib_curve { splits = { 'test' } } }\n"), 0,
                 "%s", out);
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "cd '%s/plots' && gnuplot ib_curve.gp -e 'print GPVAL_CB_MIN, GPVAL_CB_MAX' 2>&1 | tail -1",
             exp);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    double lo = NAN, hi = NAN;
    cr_assert_eq(sscanf(out, "%lf %lf", &lo, &hi), 2, "%s", out);
    cr_expect(lo <= 0.001 && hi >= 1, "colour range [%g, %g] leaves out a beta of 0.001..1", lo, hi);
}

/* Seeds of one configuration share a colour in the training curve (one legend entry per
** configuration), and a log axis under two decades is labelled at 1, 2 and 5 of each decade. */
Test(plot, seeds_share_a_colour_and_short_log_axes_have_minor_labels) {
    need_gnuplot();
    const char *exp = fixture("seeds", true);
    static char sids[4][17] = { "a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3", "a1a1a1a1a1a1" };
    const char *stitles[4] = { "{beta=0.1,seed=1}", "{beta=0.1,seed=2}", "{beta=0.2,seed=1}", "{beta=0.2,seed=2}" };
    memcpy(sids[3], "d4d4d4d4d4d4", 13);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp -r '%s/a1a1a1a1a1a1' '%s/d4d4d4d4d4d4'", exp, exp);
    cr_assert_eq(system(cmd), 0);
    FILE *f = open_w(exp, NULL, "summary.csv");
    fprintf(f, "beta,n,test_error_mean,test_error_sd,test_error_ci95\n0.1,2,0.12,0.01,0.09\n0.2,2,0.15,0.01,0.09\n"
               "0.5,2,0.3,0.01,0.09\n");
    fclose(f);
    lb_plot_opts o[2];
    lb_plot_opts_default(&o[0], "training_curve");
    lb_plot_opts_default(&o[1], "error_vs");
    cr_assert_eq(lb_plot_run(o, 2, exp, sids, stitles, 4, true), 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/training_curve.gp", exp);
    char *gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "group = '1 1 2 2'\n"), "%.600s", gp);
    cr_expect_not_null(strstr(gp, "ng = 2\n"));
    cr_expect_not_null(strstr(gp, "GT[2] = 'beta=0.2'\n"));
    free(gp);
    snprintf(path, sizeof path, "%s/plots/error_vs_beta.svg", exp);
    char *svg = tu_read_file(path, NULL);
    cr_assert_not_null(svg);
    cr_expect_not_null(strstr(svg, ">0.2</tspan>"), "no tick label 0.2 on the beta axis");
    cr_expect_not_null(strstr(svg, ">0.5</tspan>"), "no tick label 0.5 on the beta axis");
    free(svg);
}

/* info.csv with the audit's columns (measure.audit): the plane draws each estimate's interval as
** error bars (#9f9f9f) and greys the estimates not told from zero (#b7b7b7); without them, neither. */
Test(plot, audit_columns_draw_intervals_and_grey_the_undistinguished) {
    need_gnuplot();
    const char *exp = fixture("audit", true);
    char path[1200], cmd[2600];
    snprintf(path, sizeof path, "%s/%s/info.csv", exp, ids[0]);
    snprintf(cmd, sizeof cmd, "awk -F, 'NR==1{print $0\",ixz_lo,ixz_hi,izy_lo,izy_hi,izy_shuffle,distinct_from_zero\"; next}"
             " {print $0\",\"$5*0.8\",\"$5*1.2\",\"$6-0.3\",\"$6+0.3\",0.01,\"(NR%%3==0?0:1)}' '%s' > '%s.new' && mv '%s.new' '%s'",
             path, path, path, path);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(draw_all(exp, NULL), 0, "%s", out);
    for (int p = 0; p < 2; p++) {
        snprintf(path, sizeof path, "%s/plots/info_plane_beta=%g.gp", exp, betas[p]);
        char *gp = tu_read_file(path, NULL);
        cr_assert_not_null(gp);
        cr_expect_not_null(strstr(gp, p == 0 ? "audit = 1\n" : "audit = 0\n"), "point %d", p);
        free(gp);
        snprintf(path, sizeof path, "%s/plots/info_plane_beta=%g.svg", exp, betas[p]);
        char *svg = tu_read_file(path, NULL);
        cr_assert_not_null(svg);
        bool bars = strstr(svg, "<path stroke='rgb(159, 159, 159)'") != NULL, grey = strstr(svg, "color='rgb(183, 183, 183)'") != NULL;
        cr_expect(p == 0 ? bars && grey : !bars && !grey, "point %d: error bars %d, grey points %d", p, bars, grey);
        free(svg);
    }
}

/* Three seeds of one configuration and one of another: the training curve draws the three thin,
** their mean and 95% Student-t interval per epoch as a line and a band; the band's bounds are
** summary.csv's interval (mean -+ t_{2,0.975} sd / sqrt(3)), checked in the CSV the figure reads and
** in what gnuplot plotted (its `set table` output of the figure's script). */
Test(plot, seeds_draw_a_mean_line_and_a_95_percent_band) {
    need_gnuplot();
    const char *exp = fixture("band", true);
    static char sids[4][17] = { "a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3", "d4d4d4d4d4d4" };
    const char *stitles[4] = { "{beta=0.1,seed=1}", "{beta=0.1,seed=2}", "{beta=0.1,seed=3}", "{beta=0.2,seed=1}" };
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/d4d4d4d4d4d4'", exp);
    cr_assert_eq(system(cmd), 0);
    /* seed s's test error at epoch e: 0.5 / (1 + e) + 0.01 s^2 (s = 1, 2, 3); loss 2 + 0.1 s */
    for (int p = 0; p < 4; p++) {
        FILE *f = open_w(exp, sids[p], "metrics.csv");
        fprintf(f, "epoch,split,loss_bits,error,lr\n");
        for (int e = 0; e <= 5; e++)
            for (int s = 0; s < 2; s++)
                fprintf(f, "%d,%s,%.17g,%.17g,0.001\n", e, s ? "test" : "train", 2 + 0.1 * (p + 1) + s,
                        0.5 / (1 + e) + 0.01 * (p + 1) * (p + 1) + 0.1 * s);
        fclose(f);
    }
    lb_plot_opts o;
    lb_plot_opts_default(&o, "training_curve");
    cr_assert_eq(lb_plot_run(&o, 1, exp, sids, stitles, 4, true), 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/training_curve.gp", exp);
    char *gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "band = 'training_curve_band.csv'\n"), "%.900s", gp);
    cr_expect_not_null(strstr(gp, "GN[1] = 3\n"), "%.900s", gp);
    free(gp);
    /* the interval of three values 0.01, 0.04, 0.09 (plus a constant): summary.csv's rule */
    double v[3] = { 0.01, 0.04, 0.09 }, mean = (v[0] + v[1] + v[2]) / 3, ss = 0;
    for (int k = 0; k < 3; k++) ss += (v[k] - mean) * (v[k] - mean);
    double half = 4.302652729911275 * sqrt(ss / 2) / sqrt(3.0);
    rt_csv_table t;
    snprintf(path, sizeof path, "%s/plots/training_curve_band.csv", exp);
    cr_assert(rt_csv_read(path, &t), "no %s", path);
    int rows = 0;
    for (int r = 0; r < t.nrow; r++) {
        int e = atoi(rt_csv_at(&t, r, rt_csv_col(&t, "epoch")));
        bool test = strcmp(rt_csv_at(&t, r, rt_csv_col(&t, "split")), "test") == 0;
        cr_expect_str_eq(rt_csv_at(&t, r, rt_csv_col(&t, "group")), "1", "the single seed has no band");
        cr_expect_str_eq(rt_csv_at(&t, r, rt_csv_col(&t, "n")), "3");
        double m = 0.5 / (1 + e) + mean + 0.1 * test;
        double got_m = atof(rt_csv_at(&t, r, rt_csv_col(&t, "error_mean")));
        double got_lo = atof(rt_csv_at(&t, r, rt_csv_col(&t, "error_lo")));
        double got_hi = atof(rt_csv_at(&t, r, rt_csv_col(&t, "error_hi")));
        cr_expect(fabs(got_m - m) < 1e-7 && fabs(got_lo - (m - half)) < 1e-7 && fabs(got_hi - (m + half)) < 1e-7,
                  "epoch %d %s: mean %g [%g, %g], want %g [%g, %g]", e, test ? "test" : "train", got_m, got_lo,
                  got_hi, m, m - half, m + half);
        double lh = atof(rt_csv_at(&t, r, rt_csv_col(&t, "loss_hi"))) - atof(rt_csv_at(&t, r, rt_csv_col(&t, "loss_mean")));
        cr_expect(fabs(lh - 4.302652729911275 * 0.1 / sqrt(3.0)) < 1e-7, "loss half-width %g", lh);
        rows++;
    }
    rt_csv_table_free(&t);
    cr_expect_eq(rows, 12, "6 epochs x 2 splits, got %d rows", rows);
    /* what gnuplot drew: the band of the error panel (the second filledcurves plot), from `set table` */
    snprintf(cmd, sizeof cmd,
             "cd '%s/plots' && gnuplot -e \"set table 'drawn.txt'\" training_curve.gp >/dev/null 2>&1;"
             " awk '/^# Curve 0 of/{c++} c == 2 && NF == 4 && $1 == 2 {print $1, $2, $3; exit}' drawn.txt",
             exp);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    double x = NAN, lo = NAN, hi = NAN;
    cr_assert_eq(sscanf(out, "%lf %lf %lf", &x, &lo, &hi), 3, "nothing read back from gnuplot's table: '%s'", out);
    double m2 = 0.5 / 3 + mean + 0.1;
    cr_expect(fabs(lo - (m2 - half)) < 1e-5 && fabs(hi - (m2 + half)) < 1e-5, "drawn [%g, %g] at epoch 2, want [%g, %g]",
              lo, hi, m2 - half, m2 + half);
}

// ---- labels never overlap: every text box of every figure, read from gnuplot's SVG ----

typedef struct text_box { double x0, y0, x1, y1; char text[96]; } text_box;

/* The boxes of every <text> of an SVG that gnuplot wrote: gnuplot puts each text in
** <g transform="translate(x,y) [rotate(a)]" font-size="s" text-anchor="start|middle|end"> with its
** baseline at y. The extent is estimated from the characters (0.58 em, 0.32 em for a space, at
** each tspan's size), from 0.72 em above the baseline to 0.18 em below it. */
static int svg_text_boxes(const char *svg, text_box *box, int cap) {
    int n = 0;
    for (const char *g = svg; (g = strstr(g, "<g transform=\"translate(")) && n < cap; g++) {
        double x, y, rot = 0, fs = 9;
        if (sscanf(g, "<g transform=\"translate(%lf,%lf)", &x, &y) != 2) continue;
        const char *end = strchr(g, '>'), *t = strstr(g, "<text"), *te = t ? strstr(t, "</text>") : NULL;
        if (!end || !t || !te || t - end > 8) continue;        /* a group holding drawing, not a text */
        const char *r = strstr(g, "rotate(");
        if (r && r < end) rot = atof(r + 7);
        const char *f = strstr(g, "font-size=\"");
        if (f && f < end) fs = atof(f + 11);
        const char *a = strstr(g, "text-anchor=\"");
        int anchor = a && a < end ? (a[13] == 'm' ? 1 : a[13] == 'e' ? 2 : 0) : 0;
        double w = 0, lead = 0, trail = 0;
        size_t len = 0;
        char text[96] = "";
        double size = fs;
        bool ink = false;
        for (const char *c = t; c < te; c++) {
            if (*c == '<') {
                const char *close = strchr(c, '>'), *s = strstr(c, "font-size=\"");
                if (s && s < close) size = atof(s + 11);
                c = close;
                continue;
            }
            if (*c == '\n' || *c == '\t') continue;
            char ch = *c;
            if (*c == '&') c = strchr(c, ';'), ch = '?';
            else if ((*c & 0xC0) == 0x80) continue;     /* a UTF-8 continuation byte */
            /* DejaVu Sans advances, roughly: narrow punctuation, digits, capitals, the rest */
            double adv = (strchr(" .,;:il|!'()[]-", ch) ? 0.34 : isdigit((unsigned char)ch) ? 0.64 :
                          isupper((unsigned char)ch) || ch == 'm' || ch == 'w' ? 0.76 : 0.6) * size;
            w += adv;
            if (ch == ' ') { if (!ink) lead += adv; trail += adv; }
            else ink = true, trail = 0;
            if (len + 1 < sizeof text) text[len++] = ch;
        }
        text[len] = '\0';
        if (!ink) continue;
        /* the ink: the text's advance without the spaces gnuplot pads tick labels with */
        double along0 = (anchor == 0 ? 0 : anchor == 1 ? -w / 2 : -w) + lead, along1 = along0 - lead + w - trail;
        text_box b = { .x0 = x + along0, .x1 = x + along1, .y0 = y - 0.72 * fs, .y1 = y + 0.18 * fs };
        if (fabs(fmod(rot + 360, 180) - 90) < 1) {      /* vertical text: along the y axis */
            double s = fabs(fmod(rot + 360, 360) - 270) < 1 ? -1 : 1;
            b.y0 = y + (s < 0 ? -along1 : along0), b.y1 = y + (s < 0 ? -along0 : along1);
            b.x0 = x - (s < 0 ? 0.72 : 0.18) * fs, b.x1 = x + (s < 0 ? 0.18 : 0.72) * fs;
        }
        snprintf(b.text, sizeof b.text, "%s", text);
        box[n++] = b;
    }
    return n;
}

/* The pairs of text boxes of plots/<name>.svg that intersect by more than 0.5 pt each way, and the
** boxes that run out of the figure, named in msg; 0 when none. */
static int svg_overlaps(const char *exp, const char *name, char *msg, size_t size) {
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/%s", exp, name);
    char *svg = tu_read_file(path, NULL);
    cr_assert_not_null(svg, "no %s", path);
    static text_box box[4096];
    int n = svg_text_boxes(svg, box, 4096), bad = 0;
    double W = 0, H = 0;
    const char *root = strstr(svg, "<svg ");
    cr_assert(root && sscanf(strstr(root, "width=\"") + 7, "%lf", &W) == 1 && sscanf(strstr(root, "height=\"") + 8, "%lf", &H) == 1,
              "%s: no width and height", path);
    free(svg);
    size_t m = 0;
    msg[0] = '\0';
    /* and none runs out of the figure */
    for (int i = 0; i < n; i++)
        if ((box[i].x0 < -0.5 || box[i].x1 > W + 0.5 || box[i].y0 < -0.5 || box[i].y1 > H + 0.5) && bad++ < 6 && m < size)
            m += (size_t)snprintf(msg + m, size - m, "  '%s' at (%.0f,%.0f)-(%.0f,%.0f) runs out of the %.0f x %.0f figure\n",
                                  box[i].text, box[i].x0, box[i].y0, box[i].x1, box[i].y1, W, H);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) {
            double ox = fmin(box[i].x1, box[j].x1) - fmax(box[i].x0, box[j].x0);
            double oy = fmin(box[i].y1, box[j].y1) - fmax(box[i].y0, box[j].y0);
            if (ox <= 0.5 || oy <= 0.5) continue;
            if (bad++ < 6 && m < size)
                m += (size_t)snprintf(msg + m, size - m, "  '%s' at (%.0f,%.0f) and '%s' at (%.0f,%.0f)\n", box[i].text,
                                      box[i].x0, box[i].y1, box[j].text, box[j].x0, box[j].y1);
        }
    return bad;
}

/* Every SVG under plots/: no two label boxes intersect, none leaves the figure; returns the number
** of figures checked. */
static int expect_no_overlaps(const char *exp) {
    char cmd[1300], list[8192];
    snprintf(cmd, sizeof cmd, "cd '%s/plots' && ls *.svg", exp);
    cr_assert_eq(tu_run(cmd, list, sizeof list), 0, "%s", list);
    int figures = 0;
    for (char *name = strtok(list, "\n"); name; name = strtok(NULL, "\n")) {
        char msg[2048];
        int bad = svg_overlaps(exp, name, msg, sizeof msg);
        cr_expect_eq(bad, 0, "%s: %d labels overlap or run out:\n%s", name, bad, msg);
        figures++;
    }
    return figures;
}

/* The 12-bit task's planes: six layers whose trajectories end near one point (the first layers stay
** at H(X) = 12 bits and I(T;Y) near 1 bit), as tishby_12bit.lua's tanh run draws them. */
static void tishby_like_info(const char *exp, const char *id) {
    const char *layers[6] = { "tanh2", "tanh4", "tanh6", "tanh8", "tanh10", "softmax" };
    FILE *f = open_w(exp, id, "info.csv");
    fprintf(f, "epoch,split,layer,estimator,ixz_bits,izy_bits,ixz_side,izy_side,n,seconds,clipped_frac\n");
    const int epochs[8] = { 0, 1, 3, 10, 30, 100, 300, 1000 };
    for (int e = 0; e < 8; e++)
        for (int s = 0; s < 2; s++)
            for (int l = 0; l < 6; l++)
                for (int k = 0; k < 3; k++) {
                    const char *est = k == 0 ? "binning" : k == 1 ? "kde_upper" : "kde_lower";
                    double t = e / 7.0, ixz = 11.9 - (l > 2 ? (l - 2) * 1.5 * t : 0.01 * l) - 0.2 * k;
                    double izy = 0.6 + 0.39 * t - (l < 3 ? 0.002 * l : 0.02 * (l - 2) * (1 - t)) - 0.01 * k;
                    fprintf(f, "%d,%s,%s,%s,%.6g,%.6g,estimate,estimate,3277,0.1,0\n", epochs[e], s ? "test" : "train",
                            layers[l], est, ixz, izy);
                }
    fclose(f);
}

/* Every figure vibrun draws, from fixture CSV (the default figures, per-layer planes, the audited
** plane, the 12-bit task's six-layer planes, seeds with bands), rendered by gnuplot: no two text
** boxes in its SVG intersect. */
Test(plot, labels_never_overlap) {
    need_gnuplot();
    const char *exp = fixture("overlap", true);
    cr_assert_eq(draw_all(exp, "local vib = require 'vib'\n"
                               "return { vib.plot.info_plane {}, vib.plot.info_plane { per_layer = true },\n"
                               "         vib.plot.ib_curve {}, vib.plot.error_vs { 'beta' }, vib.plot.latent {} }\n"), 0, "%s", out);
    int figures = expect_no_overlaps(exp);
    cr_expect(figures >= 10, "only %d figures drawn", figures);
    /* the 12-bit task: tanh and relu, six layers converging on one corner; two seeds each */
    const char *tx = fixture("overlap12", true);
    static char tids[4][17] = { "a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3", "d4d4d4d4d4d4" };
    const char *ttitles[4] = { "{act=\"relu\",seed=1}", "{act=\"relu\",seed=2}", "{act=\"tanh\",seed=1}", "{act=\"tanh\",seed=2}" };
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/d4d4d4d4d4d4' && cp '%s/a1a1a1a1a1a1/metrics.csv' '%s/d4d4d4d4d4d4/' && rm '%s/summary.csv'",
             tx, tx, tx, tx);
    cr_assert_eq(system(cmd), 0);
    for (int p = 0; p < 4; p++) tishby_like_info(tx, tids[p]);
    cr_assert_eq(lb_plot_run(NULL, 0, tx, tids, ttitles, 4, true), 0);
    figures = expect_no_overlaps(tx);
    cr_expect(figures >= 6, "only %d figures of the 12-bit task drawn", figures);
}

// ---- the live display of --jobs N on a terminal (lb_status.c's renderer, lb_run.c's workers) ----

/* Two jobs and an idle slot: a line per slot (the point, its params, epoch, bar, what it does) and
** the sweep's line; drawn again, the block first moves the cursor up over the lines drawn before. */
Test(live, jobs_render_a_line_per_job_and_the_sweep) {
    lb_job_line j[3] = { { .point = 3, .npoints = 6, .params = "beta=0.001 seed=2", .epoch = 2, .epochs = 4,
                           .step = 5, .steps = 10, .loss_bits = 1.25, .eta_s = 75 },
                         { .point = 4, .npoints = 6, .params = "beta=0.01 seed=1", .epoch = 4, .epochs = 4,
                           .step = 10, .steps = 10, .phase = "measuring information" },
                         { 0 } };
    rt_buf b = { 0 };
    int lines = lb_jobs_render(&b, j, 3, 2, 6, 60.0, 0);
    cr_expect_eq(lines, 4);
    const char *s = rt_buf_str(&b);
    cr_expect_eq(strncmp(s, "\r\033[Kjob 1: [3/6] beta=0.001 seed=2 epoch 2/4 [##########..........] step 5/10  loss 1.2500 bits  ETA 1m15s\n", 100), 0, "%s", s);
    cr_expect_not_null(strstr(s, "\r\033[Kjob 2: [4/6] beta=0.01 seed=1 epoch 4/4 [####################] measuring information ...\n"), "%s", s);
    cr_expect_not_null(strstr(s, "\r\033[Kjob 3: idle\n"), "%s", s);
    /* done: 2 finished + 0.375 + 1 (the measuring one at its last step) of 6 = 56%; ETA 60 s x 0.4375 / 0.5625 */
    cr_expect_not_null(strstr(s, "\r\033[Ksweep: 2/6 points done, 2 running, 56%, ETA 0m46s\n"), "%s", s);
    int nl = 0;
    for (const char *c = s; *c; c++) nl += *c == '\n';
    cr_expect_eq(nl, 4);
    rt_buf_free(&b);
    memset(&b, 0, sizeof b);
    lb_jobs_render(&b, j, 3, 2, 6, 61.0, lines);
    cr_expect_eq(strncmp(rt_buf_str(&b), "\033[4A\r\033[Kjob 1:", 14), 0, "%s", rt_buf_str(&b));
    rt_buf_free(&b);
}

/* A 12-point sweep with --jobs 2 under a pseudo-terminal (util-linux's `script`): the display draws
** a line per job and the sweep's line, in place (cursor up), and each finished point's line above
** it; without a terminal, plain lines and no control sequences. */
Test(live, jobs_on_a_terminal_draw_in_place, .timeout = 120) {
    if (system("command -v script >/dev/null 2>&1") != 0) tu_skip("script (util-linux) is not installed");
    const char *dir = tu_tmpdir("live");
    static char big[1 << 17];
    char cmd[3000];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && sh '%s/tests/tools/tiny_csv.sh' 200 1 > tiny.csv && VIB_PLOT_FORMATS=svg script -qec "
             "\"'%s' '%s/tests/lua/sweep_tiny.lua' --jobs 2 --out tty --set epochs=4\" /dev/null > tty.txt 2>&1 && "
             "'%s' '%s/tests/lua/sweep_tiny.lua' --jobs 2 --out plain --set epochs=4 > plain.txt 2>&1 && cat tty.txt",
             dir, tu_source_dir(), tu_vibrun(), tu_source_dir(), tu_vibrun(), tu_source_dir());
    cr_assert_eq(tu_run(cmd, big, sizeof big), 0, "%s", big);
    cr_expect_not_null(strstr(big, "\r\033[Kjob 1: ["), "no line for job 1:\n%s", big);
    cr_expect_not_null(strstr(big, "\r\033[Kjob 2: ["), "no line for job 2:\n%s", big);
    cr_expect_not_null(strstr(big, "\033[3A"), "the display is not redrawn in place:\n%s", big);
    cr_expect_not_null(strstr(big, "sweep: 12/12 points done, 0 running, 100%"), "no final sweep line:\n%s", big);
    int done = 0;
    for (const char *c = big; (c = strstr(c, ": done, test error")); c++) done++;
    cr_expect_eq(done, 12, "%d finished points' lines:\n%s", done, big);
    char path[1200];
    snprintf(path, sizeof path, "%s/plain.txt", dir);
    char *plain = tu_read_file(path, NULL);
    cr_assert_not_null(plain);
    cr_expect_null(strchr(plain, '\033'), "control sequences without a terminal:\n%s", plain);
    cr_expect_null(strstr(plain, "job 1:"), "%s", plain);
    cr_expect_not_null(strstr(plain, "epoch 4/4: train loss"), "%s", plain);
    free(plain);
}

/* The info_planes figure with two seeds of a configuration: their mean trajectory and its 95%
** Student-t interval per layer and epoch (info_planes_mean.csv), drawn dark with error bars. */
Test(plot, info_planes_draw_the_mean_of_the_seeds) {
    need_gnuplot();
    const char *exp = fixture("pmeans", true);
    const char *mtitles[NPT] = { "{beta=0.1,seed=1}", "{beta=0.1,seed=2}", "{beta=0.2,seed=1}" };
    lb_plot_opts o;
    lb_plot_opts_default(&o, "info_plane");
    cr_assert_eq(lb_plot_run(&o, 1, exp, ids, mtitles, NPT, true), 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/plots/info_planes.gp", exp);
    char *gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "means = 'info_planes_mean.csv'\n"), "%.1200s", gp);
    free(gp);
    /* the fixture's test I(X;Z) of z by kde_upper at epoch 16, points 0 and 1 (lb_plot's rows) */
    double t = log2(17.0) / 4, x[2];
    for (int p = 0; p < 2; p++) x[p] = 5 * t * 1.2 * (1 - 0.3 * t * p);
    double mean = (x[0] + x[1]) / 2, half = 12.706204736174707 * fabs(x[0] - x[1]) / 2;
    rt_csv_table m;
    snprintf(path, sizeof path, "%s/plots/info_planes_mean.csv", exp);
    cr_assert(rt_csv_read(path, &m), "no %s", path);
    bool found = false;
    for (int r = 0; r < m.nrow; r++) {
        cr_expect_str_eq(rt_csv_at(&m, r, rt_csv_col(&m, "panel")), "1", "a single seed has no mean");
        if (strcmp(rt_csv_at(&m, r, rt_csv_col(&m, "layer")), "z") != 0 ||
            strcmp(rt_csv_at(&m, r, rt_csv_col(&m, "estimator")), "kde_upper") != 0 ||
            strcmp(rt_csv_at(&m, r, rt_csv_col(&m, "epoch")), "16") != 0)
            continue;
        found = true;
        double got[3] = { atof(rt_csv_at(&m, r, rt_csv_col(&m, "ixz_mean"))), atof(rt_csv_at(&m, r, rt_csv_col(&m, "ixz_lo"))),
                          atof(rt_csv_at(&m, r, rt_csv_col(&m, "ixz_hi"))) };
        cr_expect(fabs(got[0] - mean) < 1e-4 && fabs(got[1] - (mean - half)) < 1e-4 && fabs(got[2] - (mean + half)) < 1e-4,
                  "I(X;Z) %g [%g, %g], want %g [%g, %g]", got[0], got[1], got[2], mean, mean - half, mean + half);
    }
    rt_csv_table_free(&m);
    cr_expect(found, "no row for z, kde_upper, epoch 16");
    snprintf(path, sizeof path, "%s/plots/info_planes.svg", exp);
    char *svg = tu_read_file(path, NULL);
    cr_assert_not_null(svg);
    cr_expect_not_null(strstr(svg, "stroke='rgb( 48,  48,  48)'"), "the means are not drawn");
    free(svg);
}

/* The per-point plane: a row per estimator family, each on its own axis range (read back from
** gnuplot): the fixture's variational I(X;Z) of z reaches 6.6 bits, its KDE upper bound of h1
** 9.8, so the variational row ends near 7 and does not take the KDE's range. */
Test(plot, per_point_plane_gives_each_estimator_family_its_own_range) {
    need_gnuplot();
    const char *exp = fixture("families", true);
    cr_assert_eq(draw_all(exp, NULL), 0, "%s", out);
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "cd '%s/plots' && gnuplot 'info_plane_beta=0.001.gp' -e 'print families; print FX_hi[1], FX_hi[2], "
             "FX_hi[3]' 2>&1 | tail -2", exp);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    char fam[128] = "";
    double hi[3] = { NAN, NAN, NAN };
    cr_assert_eq(sscanf(out, "%127[^\n]\n%lf %lf %lf", fam, &hi[0], &hi[1], &hi[2]), 4, "%s", out);
    cr_expect_str_eq(fam, "variational kde binning");
    /* the largest I(X;Z) of each family in the fixture, at epoch 16, train, point 0 */
    double t = log2(17.0) / 4, top[3] = { 5 * t * 1.3, 8 * t * 1.2, 8 * t * 1.0 };
    for (int k = 0; k < 3; k++)
        cr_expect(hi[k] >= top[k] && hi[k] < top[k] * 1.1, "row %d ends at %g, its largest I(X;Z) is %g", k + 1, hi[k], top[k]);
}

// ---- the attack figures: the strip of adversarial examples, the C&W distortion against beta ----

/* The float of each space-separated value of s into p (at most max); their count. */
static int parse_floats(const char *s, float *p, int max) {
    int k = 0;
    char *end;
    for (; k < max; k++) {
        float v = strtof(s, &end);
        if (end == s) break;
        p[k] = v;
        s = end;
    }
    return k;
}

/* n examples of dim pixels in [0, 1] and their adversarial examples: every third pixel q of each
** channel (q = j mod 1024) of example i moved by +-0.05 (i + 1) / 4, clipped to the box. The model
** is right on all but examples 1 and 4; examples 0, 3 and 7 are still right after the attack. */
static void strip_examples(int n, int dim, float *x, float *xadv, int32_t *y, uint8_t *clean, uint8_t *broken) {
    for (int i = 0; i < n; i++) {
        y[i] = i % 10;
        clean[i] = i != 1 && i != 4;
        broken[i] = clean[i] && i != 0 && i != 3 && i != 7;
        for (int j = 0; j < dim; j++) {
            size_t k = (size_t)i * dim + j;
            x[k] = (float)((j * 7 + i * 13) % 256) / 255.0f;
            int q = j % 1024;           /* the pixel in its channel, for 32 x 32 */
            float d = q % 3 ? 0.0f : (q % 2 ? 0.05f : -0.05f) * (float)(i + 1) / 4;
            float v = x[k] + d;
            xadv[k] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
    }
}

/* lb_attack_examples_save keeps, per attack row, the first 8 examples the model was right on (the
** attacked ones: here 0, 2, 3, 5, 6, 7, 8, 9 of 12), their originals once, with their shape, labels,
** fooled flags and distances; the pixels read back bit for bit (greyscale 28 x 28 and RGB
** 32 x 32, channel-major as the data set holds them); a first row starts the file afresh. Then the
** strip figure draws them: its binary file holds the originals, the adversarial images and their
** differences (channels interleaved), and gnuplot's table of the figure shows the pixels. */
Test(plot, attack_strip_saves_the_attacked_examples_and_draws_them) {
    need_gnuplot();
    const int want[8] = { 0, 2, 3, 5, 6, 7, 8, 9 }, n = 12;
    const int dims[2] = { 784, 3072 }, shape[2][3] = { { 1, 28, 28 }, { 3, 32, 32 } };
    for (int s = 0; s < 2; s++) {
        int dim = dims[s];
        float *x = calloc((size_t)n * dim, sizeof *x), *xadv = calloc((size_t)n * dim, sizeof *x),
              *xadv2 = calloc((size_t)n * dim, sizeof *x), *p = calloc((size_t)dim + 1, sizeof *p);
        int32_t y[12];
        uint8_t clean[12], broken[12];
        strip_examples(n, dim, x, xadv, y, clean, broken);
        for (size_t k = 0; k < (size_t)n * dim; k++) xadv2[k] = x[k];      /* C&W: nothing moved */
        char exp[900], dir[1000], path[1200], cmd[1600];
        snprintf(exp, sizeof exp, "%s/runs/strip", tu_tmpdir(s ? "strip_rgb" : "strip_grey"));
        snprintf(dir, sizeof dir, "%s/%s", exp, ids[0]);
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
        cr_assert_eq(system(cmd), 0);
        lb_attack_examples_save(dir, true, "cw_l2", false, NN_NORM_L2, (double)NAN, true, x, xadv2, y, clean, broken, n, dim);
        lb_attack_examples_save(dir, true, "fgsm", false, NN_NORM_LINF, 0.1, false, x, xadv, y, clean, broken, n, dim);
        lb_attack_examples_save(dir, false, "cw_l2", false, NN_NORM_L2, (double)NAN, true, x, xadv2, y, clean, broken, n, dim);
        snprintf(path, sizeof path, "%s/attack_examples.csv", dir);
        rt_csv_table t;
        cr_assert(rt_csv_read(path, &t), "no %s", path);
        cr_assert_eq(t.nrow, 24, "8 originals, 8 fgsm (the first call's cw_l2 row was started over), 8 cw_l2: %d rows", t.nrow);
        const char *cols[] = { "attack", "protocol", "norm", "eps", "targeted", "image", "example", "label",
                               "fooled", "l0", "l2", "linf", "channels", "height", "width", "pixels" };
        int c[16];
        for (int k = 0; k < 16; k++) {
            c[k] = rt_csv_col(&t, cols[k]);
            cr_assert_eq(c[k], k, "column %s at %d", cols[k], c[k]);
        }
        for (int r = 0; r < 24; r++) {
            int blk = r / 8, i = want[r % 8];
            const float *img = blk == 0 ? x : blk == 1 ? xadv : xadv2;
            cr_expect_str_eq(rt_csv_at(&t, r, c[5]), blk ? "adversarial" : "original");
            cr_expect_str_eq(rt_csv_at(&t, r, c[0]), blk == 0 ? "" : blk == 1 ? "fgsm" : "cw_l2");
            cr_expect_str_eq(rt_csv_at(&t, r, c[3]), blk == 1 ? "0.1" : "");
            cr_expect_str_eq(rt_csv_at(&t, r, c[4]), blk == 0 ? "" : blk == 1 ? "0" : "1");
            cr_expect_eq(atoi(rt_csv_at(&t, r, c[6])), i, "row %d: example %s, want %d", r, rt_csv_at(&t, r, c[6]), i);
            cr_expect_eq(atoi(rt_csv_at(&t, r, c[7])), y[i]);
            if (blk) cr_expect_eq(atoi(rt_csv_at(&t, r, c[8])), broken[i], "row %d fooled", r);
            for (int k = 0; k < 3; k++) cr_expect_eq(atoi(rt_csv_at(&t, r, c[12 + k])), shape[s][k]);
            cr_assert_eq(parse_floats(rt_csv_at(&t, r, c[15]), p, dim + 1), dim, "row %d: not %d pixels", r, dim);
            int same = 0;
            double l2 = 0, li = 0;
            for (int j = 0; j < dim; j++) {
                float v = img[(size_t)i * dim + j];
                same += memcmp(&p[j], &v, sizeof v) == 0;
                double d = fabs((double)v - (double)x[(size_t)i * dim + j]);
                l2 += d * d;
                li = d > li ? d : li;
            }
            cr_expect_eq(same, dim, "row %d: %d of %d pixels equal the saved ones", r, same, dim);
            if (blk) {
                cr_expect(fabs(atof(rt_csv_at(&t, r, c[10])) - sqrt(l2)) < 1e-9 * (1 + sqrt(l2)), "row %d: l2 %s, want %g", r,
                          rt_csv_at(&t, r, c[10]), sqrt(l2));
                cr_expect(fabs(atof(rt_csv_at(&t, r, c[11])) - li) < 1e-12, "row %d linf", r);
            }
        }
        rt_csv_table_free(&t);
        /* the figure: 8 columns, lines original, fgsm, its difference, cw_l2, its difference */
        lb_plot_run(NULL, 0, exp, ids, titles, 1, true);
        size_t nb = 0;
        snprintf(path, sizeof path, "%s/plots/attack_strip_%s.bin", exp, ids[0]);
        float *bin = (float *)tu_read_file(path, &nb);
        cr_assert_not_null(bin, "no %s", path);
        cr_assert_eq(nb, (size_t)5 * 8 * dim * sizeof(float), "%zu bytes", nb);
        int C = shape[s][0], HW = dim / C, bad = 0;
        for (int k = 0; k < 8; k++)
            for (int q = 0; q < HW; q++)
                for (int ch = 0; ch < C; ch++) {
                    size_t src = (size_t)want[k] * dim + (size_t)ch * HW + q, at = (size_t)q * C + ch;
                    bad += bin[(size_t)k * dim + at] != x[src];
                    bad += bin[(size_t)(8 + k) * dim + at] != xadv[src];
                    bad += bin[(size_t)(16 + k) * dim + at] != xadv[src] - x[src];
                    bad += bin[(size_t)(24 + k) * dim + at] != x[src];
                }
        cr_expect_eq(bad, 0, "%d pixels of the strip's binary differ from the saved examples", bad);
        free(bin);
        snprintf(path, sizeof path, "%s/plots/attack_strip_%s.gp", exp, ids[0]);
        char *gp = tu_read_file(path, NULL);
        cr_assert_not_null(gp);
        /* fgsm's largest difference is 0.05 x 10 / 4 = 0.125 (example 9): A = 2 (0.5 / 0.125 = 4) */
        cr_expect_not_null(strstr(gp, "LABEL[3] = 'difference ×2'\nAMP[3] = 2\n"), "%s", gp);
        cr_expect_not_null(strstr(gp, "LABEL[2] = 'fgsm linf ε=0.1 (paper), wrong 5/8'"), "%s", gp);
        cr_expect_not_null(strstr(gp, "LABEL[4] = 'cw\\_l2 targeted (paper), wrong 5/8'"), "%s", gp);
        free(gp);
        expect_figure(exp, "attack_strip_a1a1a1a1a1a1", "difference ×2");
        char msg[2048];
        int over = svg_overlaps(exp, "attack_strip_a1a1a1a1a1a1.svg", msg, sizeof msg);
        cr_expect_eq(over, 0, "%d labels of the strip overlap or run out:\n%s", over, msg);
        /* what gnuplot drew: image 9 (line 1, column 1: example 2's fgsm image) and image 17 (its
        ** difference), their pixel 3 (row 0: flipy draws the image's first row first, at the top),
        ** which fgsm moved by 0.0375 in each channel; the table prints the 0..255 value cut to an
        ** integer */
        snprintf(cmd, sizeof cmd,
                 "cd '%s/plots' && gnuplot -e \"set table 'drawn.txt'\" attack_strip_%s.gp >/dev/null 2>&1;"
                 " awk '/^# Curve 9 of/{c=1; k=0; next} /^# Curve 17 of/{c=2; k=0; next} /^# Curve/{c=0}"
                 " c && !/^#/ && NF >= 6 && ++k == 4 && !seen[c]++ {print $3, $4, $5}' drawn.txt",
                 exp, ids[0]);
        cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
        int drawn[2][3];
        cr_assert_eq(sscanf(out, "%d %d %d %d %d %d", &drawn[0][0], &drawn[0][1], &drawn[0][2], &drawn[1][0], &drawn[1][1],
                            &drawn[1][2]), 6, "gnuplot's table: '%s'", out);
        for (int k = 0; k < 3; k++) {
            size_t at = (size_t)2 * dim + 3 + (size_t)(C == 3 ? k : 0) * HW;
            double v = xadv[at], d = (double)(xadv[at] - x[at]);
            cr_expect(fabs(d - 0.0375) < 1e-6, "the fixture moved the pixel by %g", d);
            cr_expect(fabs(drawn[0][k] - 255.0 * v) < 1.0, "channel %d: drawn %d, saved %g", k, drawn[0][k], 255.0 * v);
            cr_expect(fabs(drawn[1][k] - 255.0 * (0.5 + 2 * d)) < 1.0, "channel %d: difference drawn %d, want %g", k,
                      drawn[1][k], 255.0 * (0.5 + 2 * d));
        }
        free(x);
        free(xadv);
        free(xadv2);
        free(p);
    }
}

/* A sweep of VIB at three betas and a deterministic model, two seeds each, with a targeted C&W row:
** summary.csv's median distortion (l2_median_cw_l2_targeted: mean and 95% interval over the seeds)
** and each point's attack.csv mean distortion (l2_mean, averaged here by summary.csv's rule) are
** what cw_vs_beta.csv holds and what gnuplot draws, the deterministic model as reference values. */
Test(plot, cw_distortion_against_beta_draws_the_summary_columns) {
    need_gnuplot();
    char exp[900], cmd[1600], path[1200];
    snprintf(exp, sizeof exp, "%s/runs/cw", tu_tmpdir("cw_vs_beta"));
    static char pids[8][17];
    const char *ptitles[8];
    const char *kinds[4] = { "vib", "vib", "vib", "det" };
    const double b[4] = { 1e-3, 1e-2, 1e-1, 1e-3 };
    /* seed s of configuration q: median 1 + 10 b + 0.1 s + (det: 2), mean 2 + 20 b + 0.3 s (det: + 3) */
    double med[4][2], avg[4][2];
    FILE *res = NULL;
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", exp);
    cr_assert_eq(system(cmd), 0);
    res = open_w(exp, NULL, "results.csv");
    fprintf(res, "point_id,beta,kind,seed,status,test_error,l2_median_cw_l2_targeted\n");
    for (int q = 0; q < 4; q++)
        for (int s = 0; s < 2; s++) {
            int i = 2 * q + s;
            snprintf(pids[i], sizeof pids[i], "%012d", 100 + i);
            ptitles[i] = "{}";
            snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s'", exp, pids[i]);
            cr_assert_eq(system(cmd), 0);
            med[q][s] = 1 + 10 * b[q] + 0.1 * (s + 1) + (q == 3 ? 2 : 0);
            avg[q][s] = 2 + 20 * b[q] + 0.3 * (s + 1) + (q == 3 ? 3 : 0);
            fprintf(res, "%s,%g,%s,%d,done,0.1,%.17g\n", pids[i], b[q], kinds[q], s + 1, med[q][s]);
            FILE *f = open_w(exp, pids[i], "attack.csv");
            fprintf(f, "attack,protocol,norm,eps,targeted,n,clean_acc,robust_acc,success_rate,l0_mean,l0_median,"
                       "l2_mean,l2_median,linf_mean,linf_median,randomized,zero_grad_frac,obfuscation_suspected\n");
            fprintf(f, "fgsm,paper,linf,0.1,0,100,0.9,0.5,0.4,700,700,9,9,0.1,0.1,1,0,\n");
            fprintf(f, "cw_l2,paper,l2,,1,100,0.9,0.1,0.9,600,610,%.17g,%.17g,0.3,0.3,1,0,\n", avg[q][s], med[q][s]);
            fclose(f);
        }
    fclose(res);
    FILE *f = open_w(exp, NULL, "summary.csv");
    fprintf(f, "beta,kind,n,test_error_mean,test_error_sd,test_error_ci95,l2_median_cw_l2_targeted_mean,"
               "l2_median_cw_l2_targeted_sd,l2_median_cw_l2_targeted_ci95,seeds\n");
    double t1 = 12.7062047;     /* t_{1, 0.975} */
    for (int q = 0; q < 4; q++) {
        double m = (med[q][0] + med[q][1]) / 2, sd = fabs(med[q][0] - med[q][1]) / sqrt(2.0);
        fprintf(f, "%g,%s,2,0.1,0,0,%.17g,%.17g,%.17g,1 2\n", b[q], kinds[q], m, sd, t1 * sd / sqrt(2.0));
    }
    fclose(f);
    lb_plot_run(NULL, 0, exp, pids, ptitles, 8, true);
    expect_figure(exp, "cw_vs_beta", "C&amp;W targeted median");
    char msg[2048];
    int bad = svg_overlaps(exp, "cw_vs_beta.svg", msg, sizeof msg);
    cr_expect_eq(bad, 0, "%d labels of cw_vs_beta overlap or run out:\n%s", bad, msg);
    snprintf(path, sizeof path, "%s/plots/cw_vs_beta.gp", exp);
    char *gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "data = 'cw_vs_beta.csv'\n"), "%.600s", gp);
    cr_expect_not_null(strstr(gp, "STEM[1] = 'cw_l2_targeted'\n"), "%.600s", gp);
    const char *ref = strstr(gp, "REFMED[1] = ");
    double rmed = NAN, rmean = NAN;
    cr_assert_not_null(ref, "%.900s", gp);
    cr_expect_eq(sscanf(ref, "REFMED[1] = %lf\nREFMEAN[1] = %lf", &rmed, &rmean), 2, "%.900s", gp);
    cr_expect(fabs(rmed - 3.16) < 1e-12 && fabs(rmean - 5.47) < 1e-12, "det: median %g, mean %g; want 3.16, 5.47", rmed,
              rmean);
    free(gp);
    rt_csv_table t;
    snprintf(path, sizeof path, "%s/plots/cw_vs_beta.csv", exp);
    cr_assert(rt_csv_read(path, &t), "no %s", path);
    cr_assert_eq(t.nrow, 3, "the three VIB betas: %d rows", t.nrow);
    const char *cols[5] = { "beta", "l2_median_cw_l2_targeted_mean", "l2_median_cw_l2_targeted_ci95",
                            "l2_mean_cw_l2_targeted_mean", "l2_mean_cw_l2_targeted_ci95" };
    for (int q = 0; q < 3; q++) {
        double sm = fabs(med[q][0] - med[q][1]) / sqrt(2.0), sa = fabs(avg[q][0] - avg[q][1]) / sqrt(2.0);
        double want[5] = { b[q], (med[q][0] + med[q][1]) / 2, t1 * sm / sqrt(2.0), (avg[q][0] + avg[q][1]) / 2,
                           t1 * sa / sqrt(2.0) };
        for (int k = 0; k < 5; k++) {
            int c = rt_csv_col(&t, cols[k]);
            cr_assert(c >= 0, "no column %s", cols[k]);
            double got = atof(rt_csv_at(&t, q, c));
            cr_expect(fabs(got - want[k]) < 1e-7 * (1 + fabs(want[k])), "beta %g: %s = %g, want %g", b[q], cols[k], got, want[k]);
        }
    }
    rt_csv_table_free(&t);
    /* what gnuplot drew: the median line (curve 2, after the two bands) and the mean line (curve 3); x
    ** prints with the axis's format (10^{-3}) */
    snprintf(cmd, sizeof cmd,
             "cd '%s/plots' && gnuplot -e \"set table 'drawn.txt'\" cw_vs_beta.gp >/dev/null 2>&1;"
             " awk '/^# Curve [0-9]+ of/{c = $3} /^#/{next} (c == 2 || c == 3) && NF >= 2 && n++ < 6 {print $1, $2}' drawn.txt",
             exp);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    char x[6][32];
    double y[6];
    cr_assert_eq(sscanf(out, "%31s %lf %31s %lf %31s %lf %31s %lf %31s %lf %31s %lf", x[0], &y[0], x[1], &y[1], x[2], &y[2],
                        x[3], &y[3], x[4], &y[4], x[5], &y[5]), 12, "gnuplot's table: '%s'", out);
    const char *xs[3] = { "10^{-3}", "10^{-2}", "10^{-1}" };
    for (int k = 0; k < 6; k++) {
        int q = k % 3;
        double want = k < 3 ? (med[q][0] + med[q][1]) / 2 : (avg[q][0] + avg[q][1]) / 2;
        cr_expect(strcmp(x[k], xs[q]) == 0 && fabs(y[k] - want) < 1e-4, "drawn (%s, %g), want (%s, %g)", x[k], y[k], xs[q], want);
    }
}

/* A run with an attack block (attack_tiny.lua: 40 Fashion-MNIST test images; fgsm at 0.05 and 0.2,
** targeted fgsm, L-inf and L2 PGD, the adaptive auto) keeps the strip's examples in each point's
** attack_examples.csv: the originals are the test set's images (bytes / 255, bit for bit), each
** row's adversarial examples lie in its ball and the box, with the distances written beside them
** and FGSM's moving each pixel by 0 or eps, or to the box; the strip figure is drawn. */
Test(plot, attack_strip_of_a_run_keeps_each_rows_adversarial_examples) {
    need_gnuplot();
    FILE *fz = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!fz) tu_skip("dataset-fashion-mnist not installed");
    fclose(fz);
    const char *dir = tu_tmpdir("strip_run");
    char cmd[4096], pdir[1][64], exp[1200], path[2400];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --quiet '%s/tests/lua/attack_tiny.lua' 2>&1", dir, tu_vibrun(), tu_source_dir());
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    snprintf(exp, sizeof exp, "%s/runs/attack_tiny", dir);
    cr_assert_eq(tu_point_dirs(exp, pdir, 1), 1);
    snprintf(path, sizeof path, "%s/%s/attack_examples.csv", exp, pdir[0]);
    rt_csv_table t;
    cr_assert(rt_csv_read(path, &t), "no %s", path);
    cr_assert_eq(t.nrow, 8 * 7, "8 originals, 8 examples of each of fgsm x 2, targeted fgsm, pgd x 2 and auto: %d", t.nrow);
    nn_data_spec spec = nn_data_spec_default();
    spec.name = "fashion-mnist";
    spec.train_limit = 600;
    spec.test_limit = 100;
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&spec, &tr, &te, &err), RT_OK, "%s", err.msg);
    const char *rows[6][4] = { { "fgsm", "paper", "0.05", "0" }, { "fgsm", "paper", "0.2", "0" }, { "fgsm", "paper", "0.1", "1" },
                               { "pgd", "paper", "0.1", "0" }, { "pgd", "paper", "1", "0" }, { "auto", "adaptive", "0.1", "0" } };
    float orig[8][784], p[785];
    int ex[8];
    for (int r = 0; r < t.nrow; r++) {
        int k = r % 8, g = r / 8 - 1;
        cr_assert_eq(parse_floats(rt_csv_at(&t, r, rt_csv_col(&t, "pixels")), p, 785), 784, "row %d", r);
        int e = atoi(rt_csv_at(&t, r, rt_csv_col(&t, "example")));
        if (g < 0) {
            cr_expect_str_eq(rt_csv_at(&t, r, rt_csv_col(&t, "image")), "original");
            cr_expect(e >= 0 && e < 40 && (k == 0 || e > ex[k - 1]), "examples in order: %d", e);
            ex[k] = e;
            memcpy(orig[k], p, sizeof orig[k]);
            int same = 0;
            for (int j = 0; j < 784; j++) same += p[j] == te.x[(size_t)e * 784 + j] / 255.0f;
            cr_expect_eq(same, 784, "example %d: %d of 784 pixels are the test set's", e, same);
            cr_expect_eq(atoi(rt_csv_at(&t, r, rt_csv_col(&t, "label"))), te.y[e]);
            continue;
        }
        cr_expect_str_eq(rt_csv_at(&t, r, rt_csv_col(&t, "image")), "adversarial");
        cr_expect_eq(e, ex[k], "row %d: the same examples in every attack row", r);
        const char *key[4] = { "attack", "protocol", "eps", "targeted" };
        for (int c = 0; c < 4; c++) cr_expect_str_eq(rt_csv_at(&t, r, rt_csv_col(&t, key[c])), rows[g][c], "row %d", r);
        bool l2ball = strcmp(rt_csv_at(&t, r, rt_csv_col(&t, "norm")), "l2") == 0, fgsm = strcmp(rows[g][0], "fgsm") == 0;
        double eps = atof(rows[g][2]), l2 = 0, li = 0;
        int outside = 0, off_step = 0;
        for (int j = 0; j < 784; j++) {
            double d = fabs((double)p[j] - (double)orig[k][j]);
            l2 += d * d;
            li = d > li ? d : li;
            outside += p[j] < 0.0f || p[j] > 1.0f || (!l2ball && d > eps + 1e-6);
            off_step += fgsm && d != 0.0 && fabs(d - eps) > 1e-6 && p[j] != 0.0f && p[j] != 1.0f;
        }
        cr_expect_eq(outside, 0, "row %d: %d pixels outside the box or the ball", r, outside);
        cr_expect_eq(off_step, 0, "row %d: %d fgsm pixels moved by neither 0 nor eps", r, off_step);
        if (l2ball) cr_expect(sqrt(l2) <= eps + 1e-5, "row %d: L2 %g > %g", r, sqrt(l2), eps);
        double got2 = atof(rt_csv_at(&t, r, rt_csv_col(&t, "l2"))), goti = atof(rt_csv_at(&t, r, rt_csv_col(&t, "linf")));
        cr_expect(fabs(got2 - sqrt(l2)) < 1e-9 * (1 + got2) && fabs(goti - li) < 1e-12, "row %d: l2 %g linf %g, recomputed %g %g",
                  r, got2, goti, sqrt(l2), li);
    }
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
    rt_csv_table_free(&t);
    char name[128], msg[2048];
    snprintf(name, sizeof name, "attack_strip_%s", pdir[0]);
    expect_figure(exp, name, "original");
    strcat(name, ".svg");
    int bad = svg_overlaps(exp, name, msg, sizeof msg);
    cr_expect_eq(bad, 0, "%d labels of the strip overlap or run out:\n%s", bad, msg);
}
