// lb_plot_attack.c: the figures of the attack block (lb_attack.h), drawn after the others by
// lb_plot_run through lb_plot.c's draw(): robust accuracy against beta over the sweep (summary.csv;
// the deterministic model as reference lines), C&W's L2 distortion against beta (summary.csv and
// the points' attack.csv) and, per attacked point, accuracy against epsilon (its attack.csv) and
// the strip of its adversarial examples (its attack_examples.csv, which lb_attack_examples_save
// writes during the attack). Templates: plots/robust_vs_beta.gp, plots/cw_vs_beta.gp,
// plots/robust_vs_eps.gp, plots/attack_strip.gp.
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

/* The rows of a line against beta in summary.csv t (columns beta cb, kind ck or -1): beta > 0 and
** kind "vib" when the sweep has kinds, sorted by beta, into rows (returned: how many); *det the
** first row of kind "det" (the reference line), or -1. */
static int vib_rows_by_beta(const rt_csv_table *t, int cb, int ck, int *rows, int *det) {
    int nr = 0;
    *det = -1;
    for (int r = 0; r < t->nrow; r++) {
        const char *k = ck >= 0 ? rt_csv_at(t, r, ck) : "vib";
        if (strcmp(k, "det") == 0 && *det < 0) *det = r;
        double b = strtod(rt_csv_at(t, r, cb), NULL);
        if (strcmp(k, "vib") != 0 || !(b > 0.0)) continue;
        int at = nr++;
        while (at > 0 && strtod(rt_csv_at(t, rows[at - 1], cb), NULL) > b) rows[at] = rows[at - 1], at--;
        rows[at] = r;
    }
    return nr;
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
    int *rows = rt_xcalloc((size_t)t.nrow + 1, sizeof *rows), det = -1;
    int nr = ns > 0 ? vib_rows_by_beta(&t, cb, ck, rows, &det) : 0;
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

/* A point's name in a title: the params that vary across results.csv's rows (its columns between
** point_id and status, the seed among them) as "beta=0.1, kind=vib"; "point <id>" when results.csv
** has no row of it or nothing varies. */
static void point_title(const rt_csv_table *res, const char *id, char *out, size_t size) {
    int cid = rt_csv_col(res, "point_id"), cs = rt_csv_col(res, "status"), row = -1;
    for (int r = 0; r < res->nrow && cid >= 0 && row < 0; r++)
        if (strcmp(rt_csv_at(res, r, cid), id) == 0) row = r;
    size_t n = 0;
    out[0] = '\0';
    for (int c = cid + 1; row >= 0 && c < cs && n < size; c++) {
        bool varies = false;
        for (int r = 0; r < res->nrow && !varies; r++) varies = strcmp(rt_csv_at(res, r, c), rt_csv_at(res, row, c)) != 0;
        if (varies)
            n += (size_t)snprintf(out + n, size - n, "%s%s=%s", n ? ", " : "", rt_csv_at(res, -1, c), rt_csv_at(res, row, c));
    }
    if (!out[0]) snprintf(out, size, "point %s", id);
}

/* robust_vs_eps_<id>: one figure per point with an attack.csv. */
static int plot_vs_eps(const char *exp_dir, const char *id, const char *who, bool quiet, lb_plot_draw_fn draw) {
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
        char name[64], title[320], rel[64];
        snprintf(name, sizeof name, "robust_vs_eps_%s", id);
        snprintf(title, sizeof title, "%s: accuracy against ε", who);
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


// ---- the strip of original, adversarial and difference images ----

/* The shortest text (6 to 9 digits) that reads back as v. */
static void put_float(rt_buf *b, float v) {
    char s[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, (double)v);
        if (strtof(s, NULL) == v) break;
    }
    rt_buf_printf(b, "%s", s);
}

/* channels x height x width of an image of dim values (lb_attack.h). */
static void image_shape(int dim, int *c, int *h, int *w) {
    for (int ch = 1; ch <= 3; ch += 2) {
        int s = (int)lround(sqrt((double)dim / ch));
        if (dim % ch == 0 && s * s * ch == dim) {
            *c = ch, *h = *w = s;
            return;
        }
    }
    *c = 1, *h = 1, *w = dim;
}

static void put_pixels(rt_buf *b, const float *p, int dim) {
    rt_buf_printf(b, ",");
    for (int j = 0; j < dim; j++) {
        if (j) rt_buf_printf(b, " ");
        put_float(b, p[j]);
    }
    rt_buf_printf(b, "\n");
}

#define EXAMPLES_HEADER "attack,protocol,norm,eps,targeted,image,example,label,fooled,l0,l2,linf,channels,height,width,pixels\n"

void lb_attack_examples_save(const char *dir, bool first, const char *attack, bool adaptive, nn_attack_norm norm,
                             double eps, bool targeted, const float *x, const float *xadv, const int32_t *y,
                             const uint8_t *clean, const uint8_t *broken, int n, int dim) {
    char path[1200];
    snprintf(path, sizeof path, "%s/attack_examples.csv", dir);
    rt_buf b = { 0 };
    char *old = first ? NULL : rt_read_file(path, NULL);
    int c, h, w, pick[LB_STRIP_EXAMPLES], np = 0;
    image_shape(dim, &c, &h, &w);
    for (int i = 0; i < n && np < LB_STRIP_EXAMPLES; i++)
        if (clean[i]) pick[np++] = i;
    if (old && strncmp(old, EXAMPLES_HEADER, strlen(EXAMPLES_HEADER)) == 0) rt_buf_printf(&b, "%s", old);
    else {
        /* the first row, or a file gone or not ours: the header and the originals */
        rt_buf_printf(&b, EXAMPLES_HEADER);
        for (int k = 0; k < np; k++) {
            rt_buf_printf(&b, ",,,,,original,%d,%d,,,,,%d,%d,%d", pick[k], (int)y[pick[k]], c, h, w);
            put_pixels(&b, x + (size_t)pick[k] * dim, dim);
        }
    }
    free(old);
    char e[32] = "";
    if (!isnan(eps)) rt_fmt_num(eps, e, sizeof e);
    for (int k = 0; k < np; k++) {
        const float *x0 = x + (size_t)pick[k] * dim, *xa = xadv + (size_t)pick[k] * dim;
        double l0, l2, li;
        nn_attack_distances(x0, xa, dim, &l0, &l2, &li);
        char s2[32], si[32];
        rt_fmt_num(l2, s2, sizeof s2);
        rt_fmt_num(li, si, sizeof si);
        rt_buf_printf(&b, "%s,%s,%s,%s,%d,adversarial,%d,%d,%d,%.0f,%s,%s,%d,%d,%d", attack,
                      adaptive ? "adaptive" : "paper", nn_attack_norm_name(norm), e, targeted ? 1 : 0, pick[k],
                      (int)y[pick[k]], broken[pick[k]] ? 1 : 0, l0, s2, si, c, h, w);
        put_pixels(&b, xa, dim);
    }
    rt_err err = { 0 };
    if (rt_write_atomic(path, b.s, b.n, &err) != RT_OK)
        fprintf(stderr, "vibrun: %s (the attack goes on; attack_strip will lack this row)\n", err.msg);
    rt_buf_free(&b);
}

/* The values of a pixels field into p (dim of them); false when it holds another count or junk. */
static bool read_pixels(const char *s, float *p, int dim) {
    char *end;
    for (int j = 0; j < dim; j++) {
        p[j] = strtof(s, &end);
        if (end == s) return false;
        s = end;
    }
    while (*s == ' ') s++;
    return *s == '\0';
}

/* A's 1-2-5 value: the largest of 1, 2, 5 times a power of ten at most 0.5 / maxd, at least 1, so that
** the largest difference of a line spans about half the grey range. */
static double amplification(double maxd) {
    if (!(maxd > 0.0) || maxd >= 0.5) return 1.0;
    double want = 0.5 / maxd * (1 + 1e-6), p = pow(10.0, floor(log10(want)));   /* eps of a float: 0.1000001 */
    double a = want >= 5 * p ? 5 * p : want >= 2 * p ? 2 * p : p;
    return a < 1.0 ? 1.0 : a;
}

/* Appends image p (h x w, c channels channel-major) to b as float32 with its channels interleaved. */
static void put_image(rt_buf *b, const float *p, int c, int h, int w) {
    for (int i = 0; i < h * w; i++)
        for (int k = 0; k < c; k++) rt_buf_put(b, (const char *)&p[(size_t)k * h * w + i], sizeof(float));
}

/* attack_strip_<id>: one figure per point with an attack_examples.csv (lb_attack_examples_save). */
static int plot_strip(const char *exp_dir, const char *id, const char *who, bool quiet, lb_plot_draw_fn draw) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/attack_examples.csv", exp_dir, id);
    rt_csv_table t;
    if (!rt_csv_read(path, &t)) return 0;
    const char *names[] = { "attack", "protocol", "norm", "eps", "targeted", "image", "example", "label",
                            "fooled", "channels", "height", "width", "pixels" };
    enum { A, PR, NO, EP, TG, IM, EX, LA, FO, CH, HE, WI, PX, NCOL_ };
    int c[NCOL_];
    for (int k = 0; k < NCOL_; k++)
        if ((c[k] = rt_csv_col(&t, names[k])) < 0 || t.nrow == 0) {
            rt_csv_table_free(&t);
            return 0;
        }
    int ch = atoi(rt_csv_at(&t, 0, c[CH])), h = atoi(rt_csv_at(&t, 0, c[HE])), w = atoi(rt_csv_at(&t, 0, c[WI]));
    int dim = ch * h * w, ncol = 0, ngroup = 0, rc = 0;
    if ((ch != 1 && ch != 3) || h < 1 || w < 1 || dim > (1 << 20)) {
        fprintf(stderr, "vibrun: %s:2: an image of %d x %d x %d (channels x height x width) cannot be drawn; "
                "the strip is left out\n", path, ch, h, w);
        rt_csv_table_free(&t);
        return 1;
    }
    enum { MAXG = LB_ATTACK_MAX_ROWS };
    int example[LB_STRIP_EXAMPLES], label_of[LB_STRIP_EXAMPLES], group_row[MAXG];
    float *orig = rt_xfloats((size_t)LB_STRIP_EXAMPLES * dim + 1), *adv = NULL;
    uint8_t fooled[MAXG * LB_STRIP_EXAMPLES] = { 0 };
    for (int r = 0; r < t.nrow && !rc; r++) {
        bool is_orig = strcmp(rt_csv_at(&t, r, c[IM]), "original") == 0;
        int ex = atoi(rt_csv_at(&t, r, c[EX])), j = 0, g = ngroup;
        float *dst = NULL;
        if (is_orig && ncol < LB_STRIP_EXAMPLES) {
            example[ncol] = ex;
            label_of[ncol] = atoi(rt_csv_at(&t, r, c[LA]));
            dst = orig + (size_t)ncol++ * dim;
        } else if (!is_orig) {
            while (j < ncol && example[j] != ex) j++;
            for (g = 0; g < ngroup; g++) {
                bool same = true;
                for (int k = A; k <= TG; k++) same &= strcmp(rt_csv_at(&t, group_row[g], c[k]), rt_csv_at(&t, r, c[k])) == 0;
                if (same) break;
            }
            if (g == ngroup && ngroup < MAXG) {
                group_row[ngroup++] = r;
                adv = realloc(adv, (size_t)ngroup * LB_STRIP_EXAMPLES * (size_t)dim * sizeof *adv);
                if (!adv) RT_ABORT("out of memory");
                for (int k = 0; k < ncol; k++)          /* an example the row lacks: unchanged */
                    memcpy(adv + ((size_t)g * LB_STRIP_EXAMPLES + k) * dim, orig + (size_t)k * dim, (size_t)dim * sizeof(float));
            }
            if (j < ncol && g < ngroup) {
                dst = adv + ((size_t)g * LB_STRIP_EXAMPLES + j) * dim;
                fooled[g * LB_STRIP_EXAMPLES + j] = strcmp(rt_csv_at(&t, r, c[FO]), "1") == 0;
            }
        }
        if (dst && !read_pixels(rt_csv_at(&t, r, c[PX]), dst, dim)) {
            fprintf(stderr, "vibrun: %s:%d: pixels must be %d numbers (channels x height x width = %d x %d x %d); "
                    "the strip is left out\n", path, r + 2, dim, ch, h, w);
            rc = 1;
        }
    }
    if (!rc && ncol > 0) {
        int nline = 1 + 2 * ngroup;
        double *amp = rt_xcalloc((size_t)nline, sizeof *amp);
        rt_buf bin = { 0 };
        for (int j = 0; j < ncol; j++) put_image(&bin, orig + (size_t)j * dim, ch, h, w);
        float *diff = rt_xfloats((size_t)dim);
        for (int g = 0; g < ngroup; g++) {
            double maxd = 0.0;
            for (int j = 0; j < ncol; j++) {
                const float *a = adv + ((size_t)g * LB_STRIP_EXAMPLES + j) * dim, *o = orig + (size_t)j * dim;
                put_image(&bin, a, ch, h, w);
                for (int k = 0; k < dim; k++) maxd = fmax(maxd, fabs((double)a[k] - (double)o[k]));
            }
            for (int j = 0; j < ncol; j++) {
                const float *a = adv + ((size_t)g * LB_STRIP_EXAMPLES + j) * dim, *o = orig + (size_t)j * dim;
                for (int k = 0; k < dim; k++) diff[k] = a[k] - o[k];
                put_image(&bin, diff, ch, h, w);
            }
            amp[2 + 2 * g] = amplification(maxd);
        }
        free(diff);
        char name[64], file[80], dpath[1300];
        snprintf(name, sizeof name, "attack_strip_%s", id);
        snprintf(file, sizeof file, "%s.bin", name);
        snprintf(dpath, sizeof dpath, "%s/plots", exp_dir);
        rt_mkdir_p(dpath, NULL, 0);
        snprintf(dpath, sizeof dpath, "%s/plots/%s", exp_dir, file);
        rt_err err = { 0 };
        if (rt_write_atomic(dpath, bin.s, bin.n, &err) != RT_OK) {
            fprintf(stderr, "vibrun: %s\n", err.msg);
            rc = 1;
        } else {
            /* the labels first: the left margin holds the longest */
            rt_buf v = { 0 };
            char (*label)[160] = rt_xcalloc((size_t)nline, sizeof *label);
            size_t longest = 8;
            snprintf(label[0], sizeof label[0], "original");
            for (int g = 0; g < ngroup; g++) {
                int r = group_row[g], nf = 0;
                for (int j = 0; j < ncol; j++) nf += fooled[g * LB_STRIP_EXAMPLES + j];
                const char *eps = rt_csv_at(&t, r, c[EP]);
                char e[48] = "";
                if (eps[0]) snprintf(e, sizeof e, " %s ε=%s", rt_csv_at(&t, r, c[NO]), eps);
                snprintf(label[1 + 2 * g], sizeof label[0], "%s%s%s (%s), wrong %d/%d", rt_csv_at(&t, r, c[A]),
                         strcmp(rt_csv_at(&t, r, c[TG]), "1") == 0 ? " targeted" : "", e, rt_csv_at(&t, r, c[PR]),
                         nf, ncol);
                snprintf(label[2 + 2 * g], sizeof label[0], "difference ×%g", amp[2 + 2 * g]);
            }
            for (int L = 0; L < nline; L++) longest = strlen(label[L]) > longest ? strlen(label[L]) : longest;
            double u = 0.42 / w, gap = 4, G = 10, font = 9.0 / 72;
            double lm = 0.6 * font * (double)longest + 0.3, tm = 0.45, bm = 0.55;
            double hh = (nline * (h + gap) + ngroup * G) * u, ww = ncol * (w + gap) * u;
            double rm = fmax(0.15, 6.6 - lm - ww);     /* room for the title and the note: 6.6 in at least */
            char title[320];
            snprintf(title, sizeof title, "%s: adversarial examples", who);
            vars_common(&v, name, lm + ww + rm, tm + hh + bm, title);
            var_str(&v, "data", file);
            rt_buf_printf(&v, "ncol = %d\nnline = %d\nW = %d\nH = %d\nCH = %d\ngap = %g\nG = %g\n", ncol, nline, w, h, ch,
                          gap, G);
            rt_buf_printf(&v, "lm_in = %g\nrm_in = %g\ntm_in = %g\nbm_in = %g\n", lm, rm, tm, bm);
            var_text(&v, "note", "#i y=c: example i of the attacked split, with label c; red frame: wrong after the attack",
                     true);
            var_text(&v, "note2", "difference: 0.5 + A (adversarial - original) per pixel, clipped to [0, 1]; mid grey: "
                     "unchanged", true);
            rt_buf_printf(&v, "array LABEL[%d]\narray AMP[%d]\narray FOOLED[%d]\narray CAP[%d]\n", nline, nline,
                          nline * ncol, ncol);
            for (int L = 0; L < nline; L++) {
                char key[32];
                snprintf(key, sizeof key, "LABEL[%d]", L + 1);
                var_text(&v, key, label[L], true);
                rt_buf_printf(&v, "AMP[%d] = %g\n", L + 1, amp[L]);
                for (int j = 0; j < ncol; j++)
                    rt_buf_printf(&v, "FOOLED[%d] = %d\n", L * ncol + j + 1,
                                  L % 2 == 1 ? fooled[(L - 1) / 2 * LB_STRIP_EXAMPLES + j] : 0);
            }
            for (int j = 0; j < ncol; j++) rt_buf_printf(&v, "CAP[%d] = '#%d y=%d'\n", j + 1, example[j], label_of[j]);
            rc = drawn(exp_dir, name, quiet, draw(exp_dir, name, "attack_strip.gp", v.s));
            rt_buf_free(&v);
            free(label);
        }
        rt_buf_free(&bin);
        free(amp);
    }
    free(orig);
    free(adv);
    rt_csv_table_free(&t);
    return rc;
}

// ---- the C&W distortion against beta ----

/* The value of column `col` in the attack.csv row of attack cw_l2 with `targeted` of point id (the
** first such row), as a number (nan: none or not a number). */
static double cw_value(const char *exp_dir, const char *id, int targeted, const char *col) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/attack.csv", exp_dir, id);
    rt_csv_table t;
    double v = (double)NAN;
    if (!rt_csv_read(path, &t)) return v;
    int ca = rt_csv_col(&t, "attack"), ct = rt_csv_col(&t, "targeted"), cv = rt_csv_col(&t, col);
    for (int r = 0; r < t.nrow && ca >= 0 && ct >= 0 && cv >= 0; r++)
        if (strcmp(rt_csv_at(&t, r, ca), "cw_l2") == 0 && atoi(rt_csv_at(&t, r, ct)) == targeted) {
            char *end;
            const char *s = rt_csv_at(&t, r, cv);
            double x = strtod(s, &end);
            if (end != s && *end == '\0') v = x;
            break;
        }
    rt_csv_table_free(&t);
    return v;
}

/* The mean over the seeds of summary row sr (the results.csv rows with status done and sr's params:
** summary's columns before n) of a point's attack.csv value, and its 95% interval's half-width by
** summary.csv's rule (Student t of n - 1, 0 for one seed); nan when a seed has none. */
static void cw_seed_mean(const char *exp_dir, const rt_csv_table *sum, int sr, const rt_csv_table *res, int targeted,
                         const char *col, double *mean, double *ci) {
    int cn = rt_csv_col(sum, "n"), cid = rt_csv_col(res, "point_id"), cs = rt_csv_col(res, "status"), k = 0;
    double s = 0.0, ss = 0.0, *v = rt_xcalloc((size_t)res->nrow + 1, sizeof *v);
    for (int r = 0; r < res->nrow && cn > 0 && cid >= 0 && cs >= 0; r++) {
        bool same = strcmp(rt_csv_at(res, r, cs), "done") == 0;
        for (int j = 0; j < cn && same; j++) {
            int cr = rt_csv_col(res, rt_csv_at(sum, -1, j));
            same = cr >= 0 && strcmp(rt_csv_at(res, r, cr), rt_csv_at(sum, sr, j)) == 0;
        }
        if (same) s += v[k++] = cw_value(exp_dir, rt_csv_at(res, r, cid), targeted, col);
    }
    *mean = k ? s / k : (double)NAN;
    for (int i = 0; i < k; i++) ss += (v[i] - *mean) * (v[i] - *mean);
    *ci = k > 1 ? lb_t975(k - 1) * sqrt(ss / (k - 1)) / sqrt((double)k) : k == 1 && !isnan(*mean) ? 0.0 : (double)NAN;
    free(v);
}

/* cw_vs_beta (VIB's Figure 4): the L2 distortion of C&W's successful perturbations against beta,
** the median (summary.csv's l2_median_cw_l2[_targeted] mean and 95% interval over seeds) and the
** mean (the points' attack.csv l2_mean, over the same seeds), per C&W attack in the sweep; the rows
** of kind "det" as reference lines. Needs summary.csv with beta and an l2_median_cw_l2 column with
** a number (C&W broke some example) at some beta > 0. */
static int plot_cw_vs_beta(const char *exp_dir, bool quiet, lb_plot_draw_fn draw) {
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.csv", exp_dir);
    rt_csv_table t, res = { 0 };
    if (!rt_csv_read(path, &t)) return 0;
    int cb = rt_csv_col(&t, "beta"), ck = rt_csv_col(&t, "kind"), ns = 0, tg[2];
    for (int k = 0; k < 2 && cb >= 0; k++)
        if (rt_csv_col(&t, k ? "l2_median_cw_l2_targeted_mean" : "l2_median_cw_l2_mean") >= 0) tg[ns++] = k;
    int *rows = rt_xcalloc((size_t)t.nrow + 1, sizeof *rows), det = -1, rc = 0;
    int nr = ns > 0 ? vib_rows_by_beta(&t, cb, ck, rows, &det) : 0;
    if (ns > 0 && nr > 0) {
        snprintf(path, sizeof path, "%s/results.csv", exp_dir);
        rt_csv_read(path, &res);
        const char *stem[2] = { "cw_l2", "cw_l2_targeted" };
        rt_buf d = { 0 }, v = { 0 };
        rt_buf_printf(&d, "beta");
        for (int s = 0; s < ns; s++)
            rt_buf_printf(&d, ",l2_median_%s_mean,l2_median_%s_ci95,l2_mean_%s_mean,l2_mean_%s_ci95", stem[tg[s]],
                          stem[tg[s]], stem[tg[s]], stem[tg[s]]);
        rt_buf_printf(&d, "\n");
        bool any = false;               /* a distortion to draw: C&W broke some example */
        for (int i = 0; i < nr; i++) {
            rt_buf_printf(&d, "%s", rt_csv_at(&t, rows[i], cb));
            for (int s = 0; s < ns; s++) {
                char col[64], a[32], c[32];
                double mean, ci;
                snprintf(col, sizeof col, "l2_median_%s_mean", stem[tg[s]]);
                rt_buf_printf(&d, ",%s", rt_csv_at(&t, rows[i], rt_csv_col(&t, col)));
                any |= isfinite(strtod(rt_csv_at(&t, rows[i], rt_csv_col(&t, col)), NULL));
                snprintf(col, sizeof col, "l2_median_%s_ci95", stem[tg[s]]);
                rt_buf_printf(&d, ",%s", rt_csv_col(&t, col) >= 0 ? rt_csv_at(&t, rows[i], rt_csv_col(&t, col)) : "nan");
                cw_seed_mean(exp_dir, &t, rows[i], &res, tg[s], "l2_mean", &mean, &ci);
                rt_fmt_num(mean, a, sizeof a);
                rt_fmt_num(ci, c, sizeof c);
                rt_buf_printf(&d, ",%s,%s", a, c);
            }
            rt_buf_printf(&d, "\n");
        }
        char dpath[1300];
        snprintf(dpath, sizeof dpath, "%s/plots", exp_dir);
        rt_mkdir_p(dpath, NULL, 0);
        snprintf(dpath, sizeof dpath, "%s/plots/cw_vs_beta.csv", exp_dir);
        rt_err err = { 0 };
        if (any && rt_write_atomic(dpath, d.s, d.n, &err) != RT_OK) {
            fprintf(stderr, "vibrun: %s\n", err.msg);
            rc = 1;
        } else if (any) {
            const char *exp = strrchr(exp_dir, '/');
            char title[256];
            snprintf(title, sizeof title, "%s: C&W L2 distortion against beta", exp ? exp + 1 : exp_dir);
            vars_common(&v, "cw_vs_beta", 6.6, 3.4, title);
            var_str(&v, "data", "cw_vs_beta.csv");
            rt_buf_printf(&v, "array STEM[%d]\narray LABEL[%d]\narray REFMED[%d]\narray REFMEAN[%d]\n", ns, ns, ns, ns);
            for (int s = 0; s < ns; s++) {
                char key[32], ref[2][32] = { "NaN", "NaN" };
                snprintf(key, sizeof key, "STEM[%d]", s + 1);
                var_str(&v, key, stem[tg[s]]);
                snprintf(key, sizeof key, "LABEL[%d]", s + 1);
                var_text(&v, key, tg[s] ? "C&W targeted" : "C&W untargeted", true);
                if (det >= 0) {
                    char col[64];
                    double mean, ci;
                    snprintf(col, sizeof col, "l2_median_%s_mean", stem[tg[s]]);
                    double m = strtod(rt_csv_at(&t, det, rt_csv_col(&t, col)), NULL);
                    cw_seed_mean(exp_dir, &t, det, &res, tg[s], "l2_mean", &mean, &ci);
                    if (isfinite(m)) rt_fmt_num(m, ref[0], sizeof ref[0]);
                    if (isfinite(mean)) rt_fmt_num(mean, ref[1], sizeof ref[1]);
                }
                rt_buf_printf(&v, "REFMED[%d] = %s\nREFMEAN[%d] = %s\n", s + 1, ref[0], s + 1, ref[1]);
            }
            rc = drawn(exp_dir, "cw_vs_beta", quiet, draw(exp_dir, "cw_vs_beta", "cw_vs_beta.gp", v.s));
        }
        rt_buf_free(&d);
        rt_buf_free(&v);
        rt_csv_table_free(&res);
    }
    free(rows);
    rt_csv_table_free(&t);
    return rc;
}

int lb_plot_attack(const char *exp_dir, char ids[][17], int n, bool quiet, lb_plot_draw_fn draw) {
    int failed = plot_vs_beta(exp_dir, quiet, draw) + plot_cw_vs_beta(exp_dir, quiet, draw);
    char path[1200], who[256];
    snprintf(path, sizeof path, "%s/results.csv", exp_dir);
    rt_csv_table res = { 0 };
    rt_csv_read(path, &res);
    for (int i = 0; i < n; i++) {
        point_title(&res, ids[i], who, sizeof who);
        failed += plot_vs_eps(exp_dir, ids[i], who, quiet, draw) + plot_strip(exp_dir, ids[i], who, quiet, draw);
    }
    rt_csv_table_free(&res);
    return failed;
}
