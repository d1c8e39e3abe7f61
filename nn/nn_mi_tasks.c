// nn_mi_tasks.c: the closed-form benchmark tasks (normal, Student's t, invertible maps of them),
// I(X;Y) of two continuous vectors with the estimators of nn_mi.h, and the numeric CSV reader of
// `vibrun mi` (nn_mi_tasks.h).
#include "nn_mi_tasks.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_mi_impl.h"
#include "rt_text.h"

const char nn_mi_task_grammar[] =
    "  normal-dense-DX-DY           every pair of the 1..25 + 1..25 coordinates correlated 0.5\n"
    "  normal-sparse-DX-DY          X_i, Y_i correlated 0.8 for i < 2; the rest independent\n"
    "  normal-identity-DX-DY        independent X and Y (I = 0)\n"
    "  student-dense-DX-DY-dfNU     multivariate Student's t (NU = 1..100) with the dense,\n"
    "  student-sparse-DX-DY-dfNU    sparse or identity dispersion\n"
    "  student-identity-DX-DY-dfNU\n"
    "  halfcube-TASK, asinh-TASK, cdf-TASK   every coordinate sent through x|x|^(1/2), asinh x or\n"
    "                               the normal CDF (invertible: I unchanged)\n";

// ---- the truth ----

// ln det of the d x d block of a (leading dimension ld) starting at (o, o), by Cholesky in double;
// NAN when it is not positive definite.
static double block_logdet(const double *a, int ld, int o, int d) {
    double *l = rt_xmalloc((size_t)d * (size_t)d * sizeof *l);
    double logdet = 0.0;
    for (int i = 0; i < d && !isnan(logdet); i++)
        for (int j = 0; j <= i; j++) {
            double s = a[(size_t)(o + i) * ld + o + j];
            for (int k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
            if (i == j) {
                if (!(s > 0.0)) { logdet = NAN; break; }
                l[i * d + i] = sqrt(s);
                logdet += log(s);
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    free(l);
    return logdet;
}

double nn_mi_gauss_mi_nats(const double *cov, int dx, int dy) {
    int d = dx + dy;
    return 0.5 * (block_logdet(cov, d, 0, dx) + block_logdet(cov, d, dx, dy) - block_logdet(cov, d, 0, d));
}

static double student_c(int df, int d) {
    double a = 0.5 * df, b = 0.5 * (df + d);
    return lgamma(a) - lgamma(b) + b * (nn_mi_digamma(b) - nn_mi_digamma(a));
}

double nn_mi_student_extra_nats(int df, int dx, int dy) {
    return student_c(df, dx) + student_c(df, dy) - student_c(df, dx + dy);
}

static bool take(const char **s, const char *word) {
    size_t n = strlen(word);
    if (strncmp(*s, word, n) != 0) return false;
    *s += n;
    return true;
}

rt_status nn_mi_task_parse(const char *name, nn_mi_task *t, rt_err *err) {
    memset(t, 0, sizeof *t);
    if (strlen(name) >= sizeof t->name)
        return rt_err_set(err, RT_ERR_ARG, "task '%.40s...': name too long", name);
    snprintf(t->name, sizeof t->name, "%s", name);
    const char *s = name;
    t->map = take(&s, "halfcube-") ? NN_MI_TASK_HALFCUBE
           : take(&s, "asinh-")    ? NN_MI_TASK_ASINH
           : take(&s, "cdf-")      ? NN_MI_TASK_CDF : NN_MI_TASK_IDENTITY;
    if (take(&s, "normal-")) t->law = NN_MI_TASK_NORMAL;
    else if (take(&s, "student-")) t->law = NN_MI_TASK_STUDENT;
    else return rt_err_set(err, RT_ERR_ARG, "task '%s': expected normal-... or student-... after an "
                           "optional halfcube-, asinh- or cdf-; the tasks:\n%s", name, nn_mi_task_grammar);
    int shape = take(&s, "dense-") ? 0 : take(&s, "sparse-") ? 1 : take(&s, "identity-") ? 2 : -1;
    if (shape < 0)
        return rt_err_set(err, RT_ERR_ARG, "task '%s': expected dense-, sparse- or identity- after the "
                          "law; the tasks:\n%s", name, nn_mi_task_grammar);
    int used = -1;
    if (t->law == NN_MI_TASK_NORMAL) sscanf(s, "%d-%d%n", &t->dx, &t->dy, &used);
    else sscanf(s, "%d-%d-df%d%n", &t->dx, &t->dy, &t->df, &used);
    if (used < 0 || s[used] != '\0')
        return rt_err_set(err, RT_ERR_ARG, "task '%s': expected %s after the shape, e.g. %s", name,
                          t->law == NN_MI_TASK_NORMAL ? "DX-DY" : "DX-DY-dfNU",
                          t->law == NN_MI_TASK_NORMAL ? "normal-dense-5-5" : "student-dense-5-5-df3");
    if (t->dx < 1 || t->dy < 1 || t->dx > NN_MI_TASK_MAX_D || t->dy > NN_MI_TASK_MAX_D)
        return rt_err_set(err, RT_ERR_ARG, "task '%s': dimensions %d x %d; each must be 1..%d", name,
                          t->dx, t->dy, NN_MI_TASK_MAX_D);
    if (t->law == NN_MI_TASK_STUDENT && (t->df < 1 || t->df > NN_MI_TASK_MAX_DF))
        return rt_err_set(err, RT_ERR_ARG, "task '%s': df%d; the degrees of freedom must be 1..%d", name,
                          t->df, NN_MI_TASK_MAX_DF);
    int d = t->dx + t->dy;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double c = i == j;
            if (i != j && shape == 0) c = 0.5;
            // sparse: X_i (i < 2) with Y_i, which is coordinate dx + i
            if (shape == 1 && i != j && abs(i - j) == t->dx && (i < j ? i : j) < 2) c = 0.8;
            t->cov[i * d + j] = c;
        }
    t->mi_nats = nn_mi_gauss_mi_nats(t->cov, t->dx, t->dy);
    if (t->law == NN_MI_TASK_STUDENT) t->mi_nats += nn_mi_student_extra_nats(t->df, t->dx, t->dy);
    return RT_OK;
}

static double apply_map(nn_mi_task_map m, double x) {
    switch (m) {
    case NN_MI_TASK_HALFCUBE: return x * sqrt(fabs(x));
    case NN_MI_TASK_ASINH:    return asinh(x);
    case NN_MI_TASK_CDF:      return 0.5 * erfc(-x / sqrt(2.0));
    case NN_MI_TASK_IDENTITY: break;
    }
    return x;
}

rt_status nn_mi_task_sample(const nn_mi_task *t, int n, uint64_t seed, float *xy, rt_err *err) {
    if (n < 1) return rt_err_set(err, RT_ERR_ARG, "task '%s': n = %d rows; need n >= 1", t->name, n);
    int d = t->dx + t->dy;
    double *l = rt_xcalloc((size_t)d * (size_t)d, sizeof *l), *z = rt_xmalloc((size_t)d * sizeof *z);
    for (int i = 0; i < d; i++)                     // S = L L^T (positive definite by construction)
        for (int j = 0; j <= i; j++) {
            double s = t->cov[i * d + j];
            for (int k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
            l[i * d + j] = i == j ? sqrt(s) : s / l[j * d + j];
        }
    rt_rng rng;
    rt_rng_stream(&rng, seed, 0, RT_STREAM_DATA);
    for (int r = 0; r < n; r++) {
        for (int i = 0; i < d; i++) z[i] = rt_rng_normal(&rng);
        double scale = 1.0;
        if (t->law == NN_MI_TASK_STUDENT) {
            double v = 0.0;
            for (int k = 0; k < t->df; k++) { double g = rt_rng_normal(&rng); v += g * g; }
            scale = sqrt(t->df / v);
        }
        for (int i = 0; i < d; i++) {
            double s = 0.0;
            for (int k = 0; k <= i; k++) s += l[i * d + k] * z[k];
            xy[(size_t)r * d + i] = (float)apply_map(t->map, s * scale);
        }
    }
    free(l);
    free(z);
    return RT_OK;
}

// ---- estimators of I(X;Y) ----

static const char *const xy_names[NN_MI_XY_COUNT] = {
    [NN_MI_XY_KSG] = "ksg", [NN_MI_XY_KDE] = "kde", [NN_MI_XY_BINNING] = "binning", [NN_MI_XY_ROSS] = "ross" };

bool nn_mi_xy_kind_parse(const char *s, nn_mi_xy_kind *out) {
    for (int k = 0; k < NN_MI_XY_COUNT; k++)
        if (strcmp(s, xy_names[k]) == 0) { *out = (nn_mi_xy_kind)k; return true; }
    return false;
}

const char *nn_mi_xy_kind_name(nn_mi_xy_kind k) {
    return (unsigned)k < NN_MI_XY_COUNT ? xy_names[k] : "?";
}

nn_mi_xy_opts nn_mi_xy_opts_default(void) {
    return (nn_mi_xy_opts){ .kind = NN_MI_XY_KSG, .k = 3, .bins = 10, .kde_var = 0.0 };
}

// Columns [c0, c0 + w) of xy (n, d), each shifted and scaled to mean 0 and variance 1 (a constant
// column to 0).
static float *standardise(const float *xy, int n, int d, int c0, int w) {
    float *u = rt_xmalloc((size_t)n * (size_t)w * sizeof *u);
    for (int c = 0; c < w; c++) {
        double s = 0.0, s2 = 0.0;
        for (int i = 0; i < n; i++) s += (double)xy[(size_t)i * d + c0 + c];
        double mean = s / n;
        for (int i = 0; i < n; i++) {
            double e = (double)xy[(size_t)i * d + c0 + c] - mean;
            s2 += e * e;
        }
        double f = s2 > 0.0 ? 1.0 / sqrt(s2 / n) : 0.0;
        for (int i = 0; i < n; i++) u[(size_t)i * w + c] = (float)(((double)xy[(size_t)i * d + c0 + c] - mean) * f);
    }
    return u;
}

// Dense ids of the rows of u (n, w) after each column is cut into `bins` equal bins over its range.
static rt_status bin_ids(const float *u, int n, int w, int bins, int32_t *ids, int64_t *count, rt_err *err) {
    uint32_t *key = rt_xmalloc((size_t)n * (size_t)w * sizeof *key);
    for (int c = 0; c < w; c++) {
        float lo = u[c], hi = u[c];
        for (int i = 1; i < n; i++) {
            float v = u[(size_t)i * w + c];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        double width = (double)hi - (double)lo;
        for (int i = 0; i < n; i++) {
            int b = width > 0.0 ? (int)(((double)u[(size_t)i * w + c] - (double)lo) / width * bins) : 0;
            key[(size_t)i * w + c] = (uint32_t)(b < bins ? b : bins - 1);
        }
    }
    rt_status st = nn_mi_pattern_ids(key, (size_t)n, w, ids, count, err);
    free(key);
    return st;
}

static rt_status xy_binning(const float *ux, const float *uy, int n, int dx, int dy, int bins,
                            double *bits, rt_err *err) {
    int32_t *ix = rt_xmalloc((size_t)n * sizeof *ix), *iy = rt_xmalloc((size_t)n * sizeof *iy);
    int64_t cx = 0, cy = 0;
    nn_mi_plane p;
    rt_status st = bin_ids(ux, n, dx, bins, ix, &cx, err);
    if (st == RT_OK) st = bin_ids(uy, n, dy, bins, iy, &cy, err);
    if (st == RT_OK) st = nn_mi_plugin_plane(ix, (size_t)n, cx, NULL, iy, &p, err);
    if (st == RT_OK) *bits = p.ity;
    free(ix);
    free(iy);
    return st;
}

static rt_status kde_entropy(const float *u, int n, int d, double var, double *bits, rt_err *err) {
    nn_mi_kde r;
    rt_status st = nn_mi_kde_det(u, n, d, var, NULL, NULL, &r, err);
    if (st == RT_OK) *bits = r.upper.h_t;
    return st;
}

static rt_status xy_kde(const float *xy, const float *ux, const float *uy, int n, int dx, int dy,
                        double var, double *bits, rt_err *err) {
    int d = dx + dy;
    if (!(var > 0.0)) var = pow((double)n, -2.0 / (d + 4));         // Scott's rule, squared
    float *uxy = standardise(xy, n, d, 0, d);
    double hx = 0.0, hy = 0.0, hxy = 0.0;
    rt_status st = kde_entropy(ux, n, dx, var, &hx, err);
    if (st == RT_OK) st = kde_entropy(uy, n, dy, var, &hy, err);
    if (st == RT_OK) st = kde_entropy(uxy, n, d, var, &hxy, err);
    free(uxy);
    if (st == RT_OK) *bits = hx + hy - hxy;
    return st;
}

static rt_status xy_ross(const float *xy, const float *ux, int n, int dx, int dy, int k, double *bits,
                         rt_err *err) {
    if (dy != 1)
        return rt_err_set(err, RT_ERR_ARG, "ross: Y is one column of class labels; got %d columns "
                          "(--dy 1)", dy);
    int32_t *y = rt_xmalloc((size_t)n * sizeof *y);
    for (int i = 0; i < n; i++) {
        float v = xy[(size_t)i * (dx + 1) + dx];
        if (v != floorf(v) || fabsf(v) > 1e9f) {
            free(y);
            return rt_err_set(err, RT_ERR_ARG, "ross: row %d: Y = %g is not an integer class label", i + 1,
                              (double)v);
        }
        y[i] = (int32_t)v;
    }
    nn_mi_value v;
    rt_status st = nn_mi_ksg_labels(ux, n, dx, y, k, &v, err);
    free(y);
    if (st == RT_OK) *bits = v.bits;
    return st;
}

rt_status nn_mi_xy(const float *xy, int n, int dx, int dy, const nn_mi_xy_opts *o, nn_mi_value *out,
                   rt_err *err) {
    RT_ASSERT(xy && o && out);
    double t0 = rt_now_s();
    if (n < 2 || dx < 1 || dy < 1)
        return rt_err_set(err, RT_ERR_ARG, "mi: %d rows, dx = %d, dy = %d; need 2 rows and dx, dy >= 1", n, dx, dy);
    int d = dx + dy;
    for (size_t e = 0; e < (size_t)n * d; e++)
        if (!isfinite(xy[e]))
            return rt_err_set(err, RT_ERR_NUMERIC, "mi: row %zu, column %zu is %g; values must be finite",
                              e / (size_t)d + 1, e % (size_t)d + 1, (double)xy[e]);
    if (o->kind == NN_MI_XY_BINNING && o->bins < 1)
        return rt_err_set(err, RT_ERR_ARG, "binning: %d bins; need at least 1", o->bins);
    float *ux = standardise(xy, n, d, 0, dx), *uy = standardise(xy, n, d, dx, dy);
    double bits = NAN;
    rt_status st = RT_OK;
    switch (o->kind) {
    case NN_MI_XY_KSG: {
        nn_mi_value v;
        st = nn_mi_ksg(ux, dx, uy, dy, n, o->k, &v, err);
        bits = v.bits;
        break;
    }
    case NN_MI_XY_KDE:     st = xy_kde(xy, ux, uy, n, dx, dy, o->kde_var, &bits, err); break;
    case NN_MI_XY_BINNING: st = xy_binning(ux, uy, n, dx, dy, o->bins, &bits, err); break;
    case NN_MI_XY_ROSS:    st = xy_ross(xy, ux, n, dx, dy, o->k, &bits, err); break;
    case NN_MI_XY_COUNT:   RT_ASSERT(!"nn_mi_xy: bad kind");
    }
    free(ux);
    free(uy);
    if (st != RT_OK) return st;
    *out = (nn_mi_value){ .bits = bits, .side = NN_MI_ESTIMATE, .seconds = rt_now_s() - t0 };
    return RT_OK;
}

// ---- the numeric CSV ----

// Parses the fields of [s, e) into v (up to cap of them); the count of fields, or -(i + 1) when field
// i (0-based) is not a finite number that fits a float (*bad, *badlen: that field).
static int parse_row(const char *s, const char *e, float *v, int cap, const char **bad, int *badlen) {
    int nf = 0;
    for (;;) {
        const char *f = s;
        while (s < e && *s != ',') s++;
        const char *fe = s;
        while (f < fe && (*f == ' ' || *f == '\t')) f++;
        while (fe > f && (fe[-1] == ' ' || fe[-1] == '\t')) fe--;
        char buf[64];
        size_t len = (size_t)(fe - f);
        double x = NAN;
        char *q = NULL;
        if (len > 0 && len < sizeof buf) {
            memcpy(buf, f, len);
            buf[len] = '\0';
            x = strtod(buf, &q);
        }
        if (!q || *q || !isfinite(x) || fabs(x) > (double)FLT_MAX) {
            *bad = f;
            *badlen = (int)len;
            return -(nf + 1);
        }
        if (nf < cap) v[nf] = (float)x;
        nf++;
        if (s == e) return nf;
        s++;                                        // the comma
    }
}

rt_status nn_mi_csv_table(const char *path, int min_cols, float **v, int *rows_out, int *cols,
                          rt_err *err) {
    *v = NULL;
    *rows_out = *cols = 0;
    size_t len = 0;
    char *text = rt_read_file(path, &len);
    if (!text) return rt_err_set(err, RT_ERR_IO, "%s: cannot read it (%s)", path, strerror(errno));
    int cap = 0, rows = 0, width = -1, line = 0;
    float *buf = NULL, *row = NULL;
    rt_status st = RT_OK;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *ls = p, *le = eol ? eol : end;
        p = eol ? eol + 1 : end;
        line++;
        if (le > ls && le[-1] == '\r') le--;
        const char *t = ls;
        while (t < le && (*t == ' ' || *t == '\t')) t++;
        if (t == le) continue;                      // blank
        const char *bad = NULL;
        int badlen = 0, room = (int)(le - ls) / 2 + 1;              // fields <= commas + 1
        row = realloc(row, (size_t)room * sizeof *row);
        RT_ASSERT(row);
        int nf = parse_row(ls, le, row, room, &bad, &badlen);
        if (nf < 0 && width < 0) {                  // the first line has a word: a header
            width = 1;
            for (const char *c = ls; c < le; c++) width += *c == ',';
            continue;
        }
        if (nf < 0) {
            st = rt_err_set(err, RT_ERR_FORMAT, "%s:%d: field %d '%.*s' is not a number (every field after "
                            "the header must be one)", path, line, -nf, badlen > 40 ? 40 : badlen, bad);
            break;
        }
        if (width < 0) width = nf;
        if (nf != width) {
            st = rt_err_set(err, RT_ERR_FORMAT, "%s:%d: %d fields, but the first line has %d; every row "
                            "needs the same number", path, line, nf, width);
            break;
        }
        if (nf < min_cols) {
            st = rt_err_set(err, RT_ERR_FORMAT, "%s:%d: %d fields, but at least %d are needed", path, line,
                            nf, min_cols);
            break;
        }
        if (rows == cap) {
            cap = cap ? 2 * cap : 1024;
            buf = realloc(buf, (size_t)cap * (size_t)width * sizeof *buf);
            RT_ASSERT(buf);
        }
        memcpy(buf + (size_t)rows * width, row, (size_t)width * sizeof *buf);
        rows++;
    }
    free(row);
    free(text);
    if (st != RT_OK) { free(buf); return st; }
    *v = buf;
    *rows_out = rows;
    *cols = width;
    return RT_OK;
}

rt_status nn_mi_csv_read(const char *path, int dx, int dy, float **xy, int *n, rt_err *err) {
    int d = dx + dy, cols = 0;
    rt_status st = nn_mi_csv_table(path, d, xy, n, &cols, err);
    if (st == RT_OK && *n < 2) {
        free(*xy);
        *xy = NULL;
        st = rt_err_set(err, RT_ERR_FORMAT, "%s: %d data rows; an estimate needs at least 2", path, *n);
    }
    if (st != RT_OK) return st;
    for (int r = 0; r < *n; r++)                    // keep the first d columns
        memmove(*xy + (size_t)r * d, *xy + (size_t)r * cols, (size_t)d * sizeof **xy);
    return RT_OK;
}
