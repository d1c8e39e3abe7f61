// test_ib_exact.c: the exact IB and deterministic-IB solvers (nn_ib_exact.h) on cases whose curve is
// known by hand (the doubly symmetric binary source, Mrs. Gerber's lemma; a deterministic Y) and on
// a random joint, against the properties every IB solution has.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_ib_exact.h"
#include "testutil.h"

static double h2(double p) { return p <= 0.0 || p >= 1.0 ? 0.0 : -p * log2(p) - (1 - p) * log2(1 - p); }

// h2^-1 on [0, 1/2] by bisection.
static double h2_inv(double v) {
    double lo = 0.0, hi = 0.5;
    for (int i = 0; i < 100; i++) {
        double m = 0.5 * (lo + hi);
        if (h2(m) < v) lo = m; else hi = m;
    }
    return 0.5 * (lo + hi);
}

// The curve of pxy (nx, ny) by method over betas values in [bmin, bmax], into pts; asserts.
static void curve(const double *pxy, int nx, int ny, nn_ib_method method, double bmin, double bmax, int betas,
                  int clusters, nn_ib_point *pts) {
    nn_ib_opts o = nn_ib_opts_default();
    o.method = method;
    o.beta_min = bmin;
    o.beta_max = bmax;
    o.betas = betas;
    o.clusters = clusters;
    rt_err err = { 0 };
    cr_assert_eq(nn_ib_curve(pxy, nx, ny, &o, pts, &err), RT_OK, "%s", err.msg);
}

Test(ib_exact, encoder_info_of_the_identity_is_h_x_and_i_x_y) {
    double pxy[] = { 0.3, 0.1, 0.05, 0.25, 0.2, 0.1 };      // 3 x 2
    double id[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, ixt, ity, ht;
    nn_ib_encoder_info(pxy, 3, 2, id, 3, &ixt, &ity, &ht);
    double px[3] = { 0.4, 0.3, 0.3 }, py[2] = { 0.55, 0.45 }, hx = 0.0, mi = 0.0;
    for (int x = 0; x < 3; x++) {
        hx -= px[x] * log2(px[x]);
        for (int y = 0; y < 2; y++) mi += pxy[x * 2 + y] * log2(pxy[x * 2 + y] / (px[x] * py[y]));
    }
    cr_expect_float_eq(ixt, hx, 1e-12);
    cr_expect_float_eq(ht, hx, 1e-12);
    cr_expect_float_eq(ity, mi, 1e-12);
    cr_expect_float_eq(nn_ib_mi_xy(pxy, 3, 2), mi, 1e-12);
    cr_expect_float_eq(nn_ib_h_x(pxy, 3, 2), hx, 1e-12);
}

// X uniform on {0, 1}, Y = X flipped with probability e: the IB curve is
// I(T;Y) = 1 - h2(e * h2^-1(1 - I(X;T))), a * b = a(1-b) + b(1-a), reached by T = X through a binary
// symmetric channel; the trivial solution is optimal for beta < 1 / (1 - 2e)^2.
Test(ib_exact, iterative_ib_on_the_binary_symmetric_source_lies_on_mrs_gerbers_curve) {
    double e = 0.1, pxy[] = { 0.5 * (1 - e), 0.5 * e, 0.5 * e, 0.5 * (1 - e) };
    nn_ib_point pts[30];
    curve(pxy, 2, 2, NN_IB_ITERATIVE, 1.0, 10.0, 30, 0, pts);
    double beta_c = 1.0 / ((1 - 2 * e) * (1 - 2 * e));
    int interior = 0;
    for (int i = 0; i < 30; i++) {
        double d = h2_inv(1.0 - pts[i].ixt), want = 1.0 - h2(e * (1 - d) + d * (1 - e));
        cr_expect(fabs(pts[i].ity - want) < 2e-3, "beta %.3f: I(X;T) %.4f, I(T;Y) %.4f, curve %.4f", pts[i].beta,
                  pts[i].ixt, pts[i].ity, want);
        if (pts[i].beta < 0.95 * beta_c) cr_expect(pts[i].ixt < 1e-6, "beta %.3f < beta_c: I(X;T) %.2e", pts[i].beta, pts[i].ixt);
        if (pts[i].beta > 1.1 * beta_c) cr_expect(pts[i].ixt > 1e-3, "beta %.3f > beta_c: I(X;T) %.2e", pts[i].beta, pts[i].ixt);
        interior += pts[i].ixt > 0.05 && pts[i].ixt < 0.95;
    }
    cr_expect(interior >= 5, "only %d points inside the curve", interior);
}

// X uniform on {0, 1, 2, 3}, Y = X mod 2: the DIB Lagrangian is 0 for T constant and 1 - beta for
// T = Y, so the solution jumps at beta = 1; the IB curve is the diagonal I(T;Y) = I(X;T) up to 1 bit.
Test(ib_exact, deterministic_y_jumps_at_beta_one_and_ib_stays_on_the_diagonal) {
    double pxy[] = { 0.25, 0, 0, 0.25, 0.25, 0, 0, 0.25 };
    nn_ib_point pts[15];
    curve(pxy, 4, 2, NN_IB_DETERMINISTIC, 0.2, 5.0, 15, 0, pts);
    for (int i = 0; i < 15; i++) {
        double want = pts[i].beta < 1.0 ? 0.0 : 1.0;
        if (fabs(pts[i].beta - 1.0) < 0.01) continue;
        cr_expect_float_eq(pts[i].ht, want, 1e-9, "DIB beta %.3f: H(T) %.4f", pts[i].beta, pts[i].ht);
        cr_expect_float_eq(pts[i].ity, want, 1e-9, "DIB beta %.3f: I(T;Y) %.4f", pts[i].beta, pts[i].ity);
        cr_expect_eq(pts[i].clusters_used, want > 0 ? 2 : 1);
    }
    curve(pxy, 4, 2, NN_IB_ITERATIVE, 0.2, 5.0, 15, 0, pts);
    for (int i = 0; i < 15; i++) {
        cr_expect(fabs(pts[i].ity - pts[i].ixt) < 1e-6, "IB beta %.3f: I(X;T) %.4f, I(T;Y) %.4f", pts[i].beta,
                  pts[i].ixt, pts[i].ity);
        if (pts[i].beta < 0.95) cr_expect(pts[i].ixt < 1e-6);
        if (pts[i].beta > 1.05) cr_expect(pts[i].ixt > 1.0 - 1e-6, "IB beta %.3f: I(X;T) %.6f", pts[i].beta, pts[i].ixt);
    }
}

// A random 6 x 4 joint: every point obeys I(T;Y) <= I(X;Y), I(T;Y) <= I(X;T) <= H(X); both
// coordinates rise with beta; the curve starts at (0, 0) and ends at I(T;Y) = I(X;Y).
Test(ib_exact, random_joint_obeys_the_data_processing_order_monotony_and_endpoints) {
    double pxy[24];
    rt_rng r;
    rt_rng_stream(&r, 5, 0, RT_STREAM_DATA);
    for (int e = 0; e < 24; e++) pxy[e] = rt_rng_uniform(&r) * rt_rng_uniform(&r);
    double ixy = nn_ib_mi_xy(pxy, 6, 4), hx = nn_ib_h_x(pxy, 6, 4);
    for (int m = 0; m < 2; m++) {
        enum { B = 40 };
        nn_ib_point pts[B];
        curve(pxy, 6, 4, m ? NN_IB_DETERMINISTIC : NN_IB_ITERATIVE, 0.01, 1e4, B, 0, pts);
        const char *name = m ? "DIB" : "IB";
        for (int i = 0; i < B; i++) {
            cr_expect(pts[i].ity <= ixy + 1e-9, "%s beta %g: I(T;Y) %.6f > I(X;Y) %.6f", name, pts[i].beta, pts[i].ity, ixy);
            cr_expect(pts[i].ity <= pts[i].ixt + 1e-9, "%s beta %g: I(T;Y) %.6f > I(X;T) %.6f", name, pts[i].beta,
                      pts[i].ity, pts[i].ixt);
            cr_expect(pts[i].ixt <= hx + 1e-9, "%s: I(X;T) > H(X)", name);
            if (m) cr_expect_float_eq(pts[i].ht, pts[i].ixt, 1e-9, "DIB: H(T) = I(X;T) for a map");
            if (i > 0) {
                cr_expect(pts[i].ixt >= pts[i - 1].ixt - 1e-6, "%s: I(X;T) falls from %.6f to %.6f at beta %g", name,
                          pts[i - 1].ixt, pts[i].ixt, pts[i].beta);
                cr_expect(pts[i].ity >= pts[i - 1].ity - 1e-6, "%s: I(T;Y) falls from %.6f to %.6f at beta %g", name,
                          pts[i - 1].ity, pts[i].ity, pts[i].beta);
            }
        }
        cr_expect(pts[0].ixt < 1e-6 && pts[0].ity < 1e-6, "%s beta %g: (%.2e, %.2e), want (0, 0)", name,
                  pts[0].beta, pts[0].ixt, pts[0].ity);
        cr_expect(pts[B - 1].ity > ixy - 1e-3, "%s at beta %g: I(T;Y) %.6f, I(X;Y) %.6f", name, pts[B - 1].beta,
                  pts[B - 1].ity, ixy);
    }
}

Test(ib_exact, a_bad_joint_or_bad_options_say_what_is_wrong) {
    double neg[] = { 0.5, -0.1, 0.3, 0.3 }, zero[] = { 0, 0, 0, 0 }, ok[] = { 1, 1, 1, 1 };
    nn_ib_opts o = nn_ib_opts_default();
    nn_ib_point pts[40];
    rt_err err = { 0 };
    cr_expect_eq(nn_ib_curve(neg, 2, 2, &o, pts, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "p(x=1, y=2) = -0.1") != NULL, "%s", err.msg);
    err = (rt_err){ 0 };
    cr_expect_eq(nn_ib_curve(zero, 2, 2, &o, pts, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "every p(x, y) is 0") != NULL, "%s", err.msg);
    err = (rt_err){ 0 };
    o.beta_min = 0.0;
    cr_expect_eq(nn_ib_curve(ok, 2, 2, &o, pts, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "0 < min <= max") != NULL, "%s", err.msg);
}

// A random asymmetric 4 x 3 joint with |T| = 4: the DIB optimum over all 4^4 maps found by
// enumeration; the deterministic IB must reach it at every beta, and the iterative IB, whose
// encoders include every map (for which I(X;T) = H(T)), must do at least as well on I(X;T) - beta I(T;Y).
Test(ib_exact, solutions_match_or_beat_the_best_map_found_by_enumeration) {
    double pxy[12];
    rt_rng r;
    rt_rng_stream(&r, 9, 0, RT_STREAM_DATA);
    for (int e = 0; e < 12; e++) pxy[e] = rt_rng_uniform(&r) * rt_rng_uniform(&r) * (1 + e % 5);
    enum { B = 20 };
    for (int m = 0; m < 2; m++) {
        nn_ib_point pts[B];
        curve(pxy, 4, 3, m ? NN_IB_DETERMINISTIC : NN_IB_ITERATIVE, 0.1, 100.0, B, 0, pts);
        for (int i = 0; i < B; i++) {
            double best = INFINITY;
            for (int code = 0; code < 256; code++) {
                double enc[16] = { 0 }, ixt, ity, ht;
                for (int x = 0; x < 4; x++) enc[x * 4 + ((code >> (2 * x)) & 3)] = 1.0;
                nn_ib_encoder_info(pxy, 4, 3, enc, 4, &ixt, &ity, &ht);
                best = fmin(best, ht - pts[i].beta * ity);
            }
            if (m) cr_expect(fabs(pts[i].lagrangian - best) < 1e-9, "DIB beta %g: %.9f, the best map %.9f",
                             pts[i].beta, pts[i].lagrangian, best);
            else cr_expect(pts[i].lagrangian <= best + 1e-9, "IB beta %g: %.9f, worse than the best map %.9f",
                           pts[i].beta, pts[i].lagrangian, best);
        }
    }
}

// The update rules themselves, checked on the fixed point one start reaches, with the equations
// written here: p(t|x) = p(t) exp(-beta KL(p(y|x) || p(y|t))) / Z(x) for the IB, and
// f(x) = argmax_t ln p(t) - beta KL(p(y|x) || p(y|t)) for the DIB.
static void cluster_of(const double *pxy, const double *enc, double *pt, double *pyt) {
    for (int t = 0; t < 3; t++) {
        pt[t] = 0.0;
        for (int y = 0; y < 3; y++) pyt[t * 3 + y] = 0.0;
        for (int x = 0; x < 4; x++)
            for (int y = 0; y < 3; y++) {
                pt[t] += pxy[x * 3 + y] * enc[x * 3 + t];
                pyt[t * 3 + y] += pxy[x * 3 + y] * enc[x * 3 + t];
            }
        for (int y = 0; y < 3; y++) pyt[t * 3 + y] /= pt[t];
    }
}

static double kl_row(const double *pxy, int x, const double *q) {
    double px = pxy[x * 3] + pxy[x * 3 + 1] + pxy[x * 3 + 2], kl = 0.0;
    for (int y = 0; y < 3; y++) kl += pxy[x * 3 + y] / px * log(pxy[x * 3 + y] / px / q[y]);
    return kl;
}

Test(ib_exact, one_start_ends_at_a_fixed_point_of_the_published_equations) {
    double pxy[12] = { 0.10, 0.05, 0.01, 0.02, 0.20, 0.03, 0.05, 0.05, 0.15, 0.20, 0.02, 0.12 };
    nn_ib_opts o = nn_ib_opts_default();
    double enc[12] = { 0.5, 0.3, 0.2, 0.2, 0.5, 0.3, 0.3, 0.2, 0.5, 0.4, 0.4, 0.2 }, pt[3], pyt[9];
    nn_ib_point p;
    rt_err err = { 0 };
    double beta = 3.0;
    cr_assert_eq(nn_ib_solve(pxy, 4, 3, 3, beta, &o, enc, &p, &err), RT_OK, "%s", err.msg);
    cluster_of(pxy, enc, pt, pyt);
    for (int x = 0; x < 4; x++) {
        double w[3], z = 0.0;
        for (int t = 0; t < 3; t++) z += w[t] = pt[t] * exp(-beta * kl_row(pxy, x, pyt + 3 * t));
        for (int t = 0; t < 3; t++)
            cr_expect(fabs(enc[x * 3 + t] - w[t] / z) < 1e-9, "p(t=%d|x=%d) = %.9f, the equation gives %.9f", t, x,
                      enc[x * 3 + t], w[t] / z);
    }
    o.method = NN_IB_DETERMINISTIC;
    double map[12] = { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1 };
    beta = 2.0;
    cr_assert_eq(nn_ib_solve(pxy, 4, 3, 3, beta, &o, map, &p, &err), RT_OK, "%s", err.msg);
    cluster_of(pxy, map, pt, pyt);
    for (int x = 0; x < 4; x++) {
        int f = 0, best = -1;
        double sbest = -INFINITY;
        for (int t = 0; t < 3; t++) {
            if (map[x * 3 + t] > 0.5) f = t;
            if (pt[t] <= 0.0) continue;
            double s = log(pt[t]) - beta * kl_row(pxy, x, pyt + 3 * t);
            if (s > sbest) { sbest = s; best = t; }
        }
        cr_expect_eq(f, best, "DIB x=%d in cluster %d; the argmax is %d", x, f, best);
    }
}

Test(ib_exact, command_prints_the_curve_and_names_file_and_line_of_a_bad_joint) {
    const char *dir = tu_tmpdir("ib_cmd");
    char path[512], cmd[1200], out[8192];
    snprintf(path, sizeof path, "%s/j.csv", dir);
    tu_write_file(path, "y0,y1\n0.45,0.05\n0.05,0.45\n", 26);
    snprintf(cmd, sizeof cmd, "%s ib-curve --joint %s --clusters 2 --beta-min 1 --beta-max 10 --betas 4 2>&1",
             tu_vibrun(), path);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    const char *head = "beta,ixt_bits,ity_bits,ht_bits,lagrangian_bits,clusters_used,iterations\n1,0,0,";
    cr_expect(strncmp(out, head, strlen(head)) == 0, "%s", out);
    int lines = 0;
    for (const char *c = out; *c; c++) lines += *c == '\n';
    cr_expect_eq(lines, 5, "%s", out);
    tu_write_file(path, "0.5,0.1\n0.2,x\n", 14);
    cr_expect_eq(tu_run(cmd, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "j.csv:2: field 2 'x' is not a number") != NULL, "%s", out);
    tu_write_file(path, "0.5,-0.1\n0.2,0.4\n", 17);
    cr_expect_eq(tu_run(cmd, out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "p(x=1, y=2) = -0.1") != NULL, "%s", out);
}

// vib.data.discrete end to end: a point on a joint file writes the file's exact IB curve (the bytes
// `vibrun ib-curve --joint` prints), and its learned (rate, H(Y) - CE) lies on the feasible side of
// that curve: the variational bounds put I(X;Z) no lower and I(Z;Y) no higher than they are.
Test(ib_exact, discrete_data_set_writes_its_exact_curve_and_the_learned_point_lies_under_it) {
    const char *dir = tu_tmpdir("ib_discrete");
    char path[512], cmd[2048], out[8192];
    snprintf(path, sizeof path, "%s/j.csv", dir);
    const char *joint = "0.225,0.025\n0.175,0.075\n0.075,0.175\n0.025,0.225\n";
    tu_write_file(path, joint, strlen(joint));
    snprintf(path, sizeof path, "%s/d.lua", dir);
    const char *script =
        "local vib = require \"vib\"\n"
        "return vib.experiment {\n"
        "  name = \"d\", data = vib.data.discrete { joint = \"j.csv\", n = 2000, test_n = 2000 },\n"
        "  params = { beta = 0.03 }, sweep = vib.grid { beta = { 0.03, 0.1 } },\n"
        "  model = vib.seq { vib.linear { out = 16 }, vib.tanh {}, vib.gauss { k = 1, name = \"z\" }, vib.linear { out = 2 } },\n"
        "  objective = function(p) return vib.obj.vib { beta = p.beta, layer = \"z\" } end,\n"
        "  optim = vib.optim.adam { lr = 1e-2 }, epochs = 10, batch = 100,\n"
        "  measure = { every = { 10 }, layers = { \"z\" }, estimators = { \"variational\" } },\n"
        "}\n";
    tu_write_file(path, script, strlen(script));
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' d.lua --quiet --out r 2>&1 && '%s' ib-curve --joint j.csv --betas 100 -o ref.csv 2>&1",
             dir, tu_vibrun(), tu_vibrun());
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    char exp[700], names[3][64];
    snprintf(exp, sizeof exp, "%s/r/d", dir);
    cr_assert_eq(tu_point_dirs(exp, names, 3), 2);
    char a[900], b[900];
    snprintf(b, sizeof b, "%s/ref.csv", dir);
    for (int k = 0; k < 2; k++) {
        snprintf(a, sizeof a, "%s/%s/ib_exact.csv", exp, names[k]);
        tu_expect_same_file(a, b);
    }
    /* the curve, then the learned point of the last epoch's test row */
    char *text = tu_read_file(a, NULL);
    double bx[128], by[128];
    int n = 0;
    for (char *l = strchr(text, '\n'); l && l[1] && n < 128; l = strchr(l + 1, '\n'))
        if (sscanf(l + 1, "%*[^,],%lf,%lf", &bx[n], &by[n]) == 2) n++;
    free(text);
    cr_assert(n >= 10, "%d points on the curve", n);
    for (int k = 0; k < 2; k++) {
        snprintf(a, sizeof a, "%s/%s/info.csv", exp, names[k]);
        text = tu_read_file(a, NULL);
        double ixz = -1, izy = -1;
        for (char *l = text; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
            if (sscanf(l, "10,test,z,variational,%lf,%lf", &ixz, &izy) == 2) break;
        free(text);
        cr_assert(ixz > 0 && izy > 0, "no test row of epoch 10 in info.csv");
        /* the curve at ixz: between its two points around ixz (the points rise with beta) */
        double best = by[n - 1];
        for (int i = 1; i < n; i++)
            if (bx[i - 1] <= ixz && ixz <= bx[i]) {
                double t = bx[i] > bx[i - 1] ? (ixz - bx[i - 1]) / (bx[i] - bx[i - 1]) : 1.0;
                best = by[i - 1] + t * (by[i] - by[i - 1]);
                break;
            }
        cr_expect(izy <= best + 0.02, "learned (%g, %g) above the exact curve (%g at I(X;T) <= %g)", ixz, izy, best, ixz);
        cr_expect(izy > 0.5 * best, "learned (%g, %g) far below the exact curve (%g): it did not learn", ixz, izy, best);
    }
    /* the IB-curve figure draws the curve under the points */
    snprintf(a, sizeof a, "%s/plots/ib_curve.gp", exp);
    text = tu_read_file(a, NULL);
    cr_assert_not_null(text, "no %s", a);
    char *ex = strstr(text, "exact = '../");
    cr_expect(ex && strncmp(ex + 12 + 12, "/ib_exact.csv'", 14) == 0, "%s does not name a point's exact curve", a);
    free(text);
    snprintf(a, sizeof a, "%s/plots/ib_curve.svg", exp);
    text = tu_read_file(a, NULL);
    cr_assert_not_null(text, "no %s", a);
    cr_expect(strstr(text, "exact IB curve") != NULL, "%s has no exact curve in its key", a);
    free(text);
}
