// lb_plot_attack.c: the figures of the attack block (lb_attack.h), drawn after the others by
// lb_plot_run through lb_plot.c's draw(): robust accuracy against beta over the sweep (summary.csv;
// the deterministic model as reference lines) and, per attacked point, accuracy against epsilon
// (its attack.csv). Templates: plots/robust_vs_beta.gp, plots/robust_vs_eps.gp.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_impl.h"
#include "rt_csv.h"
#include "rt_text.h"

/* name = '<text>' (a gnuplot single-quoted string); with enhanced, _ ^ @ & ~ { } escaped so that
** enhanced text mode prints them as written. */
static void var_text(rt_buf *b, const char *name, const char *text, bool enhanced) {
    rt_buf_printf(b, "%s = '", name);
    for (const char *c = text; *c; c++) {
        if (*c == '\'') rt_buf_printf(b, "''");
        else if (enhanced && strchr("_^@&~{}", *c)) rt_buf_printf(b, "\\%c", *c);
        else rt_buf_printf(b, "%c", *c);
    }
    rt_buf_printf(b, "'\n");
}

static void var_str(rt_buf *b, const char *name, const char *text) { var_text(b, name, text, false); }

/* out, formats (VIB_PLOT_FORMATS when it names only png, svg, pdf), size and title. */
static void vars_common(rt_buf *b, const char *out, double w, double h, const char *title) {
    const char *env = getenv("VIB_PLOT_FORMATS");
    char fm[64] = "png svg";
    if (env && *env && strlen(env) < sizeof fm) {
        bool ok = true;
        char buf[64];
        snprintf(buf, sizeof buf, "%s", env);
        for (char *w2 = strtok(buf, " ,"); w2; w2 = strtok(NULL, " ,"))
            ok &= !strcmp(w2, "png") || !strcmp(w2, "svg") || !strcmp(w2, "pdf");
        if (ok) {
            snprintf(fm, sizeof fm, "%s", env);
            for (char *c = fm; *c; c++) if (*c == ',') *c = ' ';
        }
    }
    var_str(b, "out", out);
    var_str(b, "formats", fm);
    rt_buf_printf(b, "width_in = %g\nheight_in = %g\n", w, h);
    var_text(b, "title", title, true);
}

static int drawn(const char *exp_dir, const char *name, bool quiet, int rc) {
    if (rc == 0 && !quiet) printf("figures: %s/plots/%s.{png,svg,gp}\n", exp_dir, name);
    return rc != 0;
}

/* A series column of summary.csv: robust_acc_<kind>_<norm>_eps<eps>_mean, kind fgsm, pgd or auto. */
static bool series_column(const char *col, char *kind, char *norm, char *eps) {
    const char *kinds[] = { "fgsm", "pgd", "auto" };
    if (strncmp(col, "robust_acc_", 11) != 0) return false;
    const char *s = col + 11;
    size_t len = strlen(s);
    if (len < 6 || strcmp(s + len - 5, "_mean") != 0) return false;
    for (int k = 0; k < 3; k++) {
        size_t kl = strlen(kinds[k]);
        if (strncmp(s, kinds[k], kl) != 0 || s[kl] != '_') continue;
        const char *r = s + kl + 1;
        const char *ne = strncmp(r, "linf_eps", 8) == 0 ? "linf" : strncmp(r, "l2_eps", 6) == 0 ? "l2" : NULL;
        if (!ne) return false;
        r += strlen(ne) + 4;
        size_t el = strlen(r) - 5;
        if (el == 0 || el > 30 || strspn(r, "0123456789.e-+") < el) return false;   /* a suffixed duplicate */
        snprintf(kind, 8, "%s", kinds[k]);
        snprintf(norm, 8, "%s", ne);
        snprintf(eps, 32, "%.*s", (int)el, r);
        return true;
    }
    return false;
}

/* robust_vs_beta: needs summary.csv with a beta column and at least one series. */
static int plot_vs_beta(const char *exp_dir, bool quiet, lb_plot_draw_fn draw) {
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.csv", exp_dir);
    rt_csv_table t;
    if (!rt_csv_read(path, &t)) return 0;
    int cb = rt_csv_col(&t, "beta"), ck = rt_csv_col(&t, "kind"), ns = 0;
    enum { MAXS = 64 };
    int col[MAXS], epsi[MAXS];
    char kind[MAXS][8], norm[MAXS][8], eps[MAXS][32], seen[MAXS][32];
    int nseen = 0;
    for (int c = 0; c < t.ncol && ns < MAXS && cb >= 0; c++) {
        if (!series_column(rt_csv_at(&t, -1, c), kind[ns], norm[ns], eps[ns])) continue;
        int e = 0;
        while (e < nseen && strcmp(seen[e], eps[ns]) != 0) e++;
        if (e == nseen) snprintf(seen[nseen++], sizeof seen[0], "%s", eps[ns]);
        epsi[ns] = e + 1;
        col[ns++] = c;
    }
    /* the rows of the line: beta > 0 (and kind "vib" when the sweep has kinds), sorted by beta */
    int *rows = rt_xcalloc((size_t)t.nrow + 1, sizeof *rows), nr = 0, det = -1;
    for (int r = 0; r < t.nrow && ns > 0; r++) {
        const char *k = ck >= 0 ? rt_csv_at(&t, r, ck) : "vib";
        if (strcmp(k, "det") == 0 && det < 0) det = r;
        double b = strtod(rt_csv_at(&t, r, cb), NULL);
        if (strcmp(k, "vib") != 0 || !(b > 0.0)) continue;
        int at = nr++;
        while (at > 0 && strtod(rt_csv_at(&t, rows[at - 1], cb), NULL) > b) rows[at] = rows[at - 1], at--;
        rows[at] = r;
    }
    int rc = 0;
    if (ns > 0 && nr > 0) {
        rt_buf d = { 0 }, v = { 0 };
        rt_buf_printf(&d, "beta");
        for (int s = 0; s < ns; s++) rt_buf_printf(&d, ",%s", rt_csv_at(&t, -1, col[s]));
        rt_buf_printf(&d, "\n");
        for (int i = 0; i < nr; i++) {
            rt_buf_printf(&d, "%s", rt_csv_at(&t, rows[i], cb));
            for (int s = 0; s < ns; s++) rt_buf_printf(&d, ",%s", rt_csv_at(&t, rows[i], col[s]));
            rt_buf_printf(&d, "\n");
        }
        char dpath[1300];
        snprintf(dpath, sizeof dpath, "%s/plots", exp_dir);
        rt_mkdir_p(dpath, NULL, 0);
        snprintf(dpath, sizeof dpath, "%s/plots/robust_vs_beta.csv", exp_dir);
        rt_err err = { 0 };
        if (rt_write_atomic(dpath, d.s, d.n, &err) != RT_OK) {
            fprintf(stderr, "vibrun: %s\n", err.msg);
            rc = 1;
        } else {
            const char *exp = strrchr(exp_dir, '/');
            char title[256];
            snprintf(title, sizeof title, "%s: robust accuracy against beta", exp ? exp + 1 : exp_dir);
            vars_common(&v, "robust_vs_beta", 6.6, 3.4, title);
            var_str(&v, "data", "robust_vs_beta.csv");
            rt_buf_printf(&v, "series = '");
            for (int s = 0; s < ns; s++) rt_buf_printf(&v, "%s%s", s ? " " : "", rt_csv_at(&t, -1, col[s]));
            rt_buf_printf(&v, "'\narray LABEL[%d]\narray KIND[%d]\narray EPSI[%d]\narray REF[%d]\n", ns, ns, ns, ns);
            for (int s = 0; s < ns; s++) {
                rt_buf_printf(&v, "LABEL[%d] = '%s%s%s ε=%s (%s)'\nKIND[%d] = '%s'\nEPSI[%d] = %d\n", s + 1, kind[s],
                              strcmp(norm[s], "l2") == 0 ? " " : "", strcmp(norm[s], "l2") == 0 ? "L2" : "", eps[s],
                              strcmp(kind[s], "auto") == 0 ? "adaptive" : "paper", s + 1, kind[s], s + 1, epsi[s]);
                const char *ref = det >= 0 ? rt_csv_at(&t, det, col[s]) : "";
                rt_buf_printf(&v, "REF[%d] = %s\n", s + 1, ref[0] ? ref : "NaN");
            }
            rc = drawn(exp_dir, "robust_vs_beta", quiet, draw(exp_dir, "robust_vs_beta", "robust_vs_beta.gp", v.s));
        }
        rt_buf_free(&d);
        rt_buf_free(&v);
    }
    free(rows);
    rt_csv_table_free(&t);
    return rc;
}

/* robust_vs_eps_<id>: one figure per point with an attack.csv. */
static int plot_vs_eps(const char *exp_dir, const char *id, bool quiet, lb_plot_draw_fn draw) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/attack.csv", exp_dir, id);
    rt_csv_table t;
    if (!rt_csv_read(path, &t)) return 0;
    int c[5] = { rt_csv_col(&t, "attack"), rt_csv_col(&t, "protocol"), rt_csv_col(&t, "norm"),
                 rt_csv_col(&t, "targeted"), rt_csv_col(&t, "clean_acc") };
    enum { MAXL = 64 };
    int line[MAXL], nl = 0;
    for (int r = 0; r < t.nrow && nl < MAXL && c[0] >= 0 && c[1] >= 0 && c[2] >= 0 && c[3] >= 0 && c[4] >= 0; r++) {
        bool seen = false;
        for (int q = 0; q < nl && !seen; q++) {
            seen = true;
            for (int k = 0; k < 4; k++) seen &= strcmp(rt_csv_at(&t, line[q], c[k]), rt_csv_at(&t, r, c[k])) == 0;
        }
        if (!seen) line[nl++] = r;
    }
    int rc = 0;
    if (nl > 0) {
        char name[64], title[128], rel[64];
        snprintf(name, sizeof name, "robust_vs_eps_%s", id);
        snprintf(title, sizeof title, "point %s: accuracy against ε", id);
        rt_buf v = { 0 };
        vars_common(&v, name, 6.0, 3.2, title);
        snprintf(rel, sizeof rel, "../%s/attack.csv", id);
        var_str(&v, "attack", rel);
        rt_buf_printf(&v, "clean = %s\narray ATK[%d]\narray PROTO[%d]\narray NORM[%d]\narray TGT[%d]\narray LABEL[%d]\n",
                      rt_csv_at(&t, 0, c[4]), nl, nl, nl, nl, nl);
        for (int q = 0; q < nl; q++) {
            const char *a = rt_csv_at(&t, line[q], c[0]), *pr = rt_csv_at(&t, line[q], c[1]),
                       *no = rt_csv_at(&t, line[q], c[2]), *tg = rt_csv_at(&t, line[q], c[3]);
            char key[32], label[160];
            snprintf(key, sizeof key, "ATK[%d]", q + 1);
            var_str(&v, key, a);
            snprintf(key, sizeof key, "PROTO[%d]", q + 1);
            var_str(&v, key, pr);
            snprintf(key, sizeof key, "NORM[%d]", q + 1);
            var_str(&v, key, no);
            snprintf(key, sizeof key, "TGT[%d]", q + 1);
            var_str(&v, key, tg);
            snprintf(label, sizeof label, "%s%s %s (%s)", a, strcmp(tg, "1") == 0 ? " targeted" : "", no, pr);
            snprintf(key, sizeof key, "LABEL[%d]", q + 1);
            var_text(&v, key, label, true);
        }
        rc = drawn(exp_dir, name, quiet, draw(exp_dir, name, "robust_vs_eps.gp", v.s));
        rt_buf_free(&v);
    }
    rt_csv_table_free(&t);
    return rc;
}

int lb_plot_attack(const char *exp_dir, char ids[][17], int n, bool quiet, lb_plot_draw_fn draw) {
    int failed = plot_vs_beta(exp_dir, quiet, draw);
    for (int i = 0; i < n; i++) failed += plot_vs_eps(exp_dir, ids[i], quiet, draw);
    return failed;
}
