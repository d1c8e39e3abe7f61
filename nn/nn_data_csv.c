// nn_data_csv.c: the CSV reader: a header row, one row per example, a label column; .csv.gz too
// (nn_data.h).
#include "nn_data_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next physical line: [*ls, *le) without its "\r\n" or "\n"; false at the end. */
static bool csv_next_line(const char **p, const char *end, const char **ls, const char **le) {
    if (*p >= end) return false;
    const char *eol = memchr(*p, '\n', (size_t)(end - *p));
    if (!eol) eol = end;
    *ls = *p;
    *le = (eol > *p && eol[-1] == '\r') ? eol - 1 : eol;
    *p = eol < end ? eol + 1 : end;
    return true;
}

static bool csv_blank(const char *s, const char *e) {
    for (; s < e; s++)
        if (*s != ' ' && *s != '\t') return false;
    return true;
}

/* Parses [s, e) as a finite number, spaces around allowed. */
static bool csv_number(const char *s, const char *e, double *v) {
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    if (s == e) return false;
    char *q;
    double x = strtod(s, &q);
    if (q == s || q > e) return false;
    while (q < e && (*q == ' ' || *q == '\t')) q++;
    if (q != e || !isfinite(x)) return false;
    *v = x;
    return true;
}

/* Trims spaces and one pair of double quotes around a header name, in place. */
static char *csv_trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

static int csv_count_fields(const char *s, const char *e) {
    int n = 1;
    for (; s < e; s++) n += *s == ',';
    return n;
}

/* Splits the header line into names (pointing into *store); returns the column count. */
static rt_status csv_header(const char *path, const char *ls, const char *le, char **store,
                            char ***names, int *ncol, rt_err *err) {
    if (le - ls >= 3 && memcmp(ls, "\xef\xbb\xbf", 3) == 0) ls += 3;      /* UTF-8 byte order mark */
    size_t n = (size_t)(le - ls);
    if (csv_blank(ls, ls + n))
        return rt_err_set(err, RT_ERR_FORMAT, "%s: empty; a CSV data set needs a header row naming the "
                          "columns (e.g. x1,x2,y) and one row per example", path);
    int k = csv_count_fields(ls, ls + n);
    *store = malloc(n + 1);
    *names = malloc((size_t)k * sizeof **names);
    if (!*store || !*names) return rt_err_set(err, RT_ERR_NOMEM, "%s: out of memory", path);
    memcpy(*store, ls, n);
    (*store)[n] = '\0';
    char *s = *store;
    bool numeric = true;
    for (int i = 0; i < k; i++) {
        char *c = strchr(s, ',');
        if (c) *c = '\0';
        (*names)[i] = csv_trim(s);
        double v;
        numeric = numeric && csv_number((*names)[i], (*names)[i] + strlen((*names)[i]), &v);
        s = c ? c + 1 : s + strlen(s);
    }
    *ncol = k;
    if (numeric)
        return rt_err_set(err, RT_ERR_FORMAT, "%s:1: the first row is all numbers; a CSV data set needs a "
                          "header row naming the columns (e.g. x1,x2,y)", path);
    if (k < 2)
        return rt_err_set(err, RT_ERR_FORMAT, "%s:1: only %d column; a CSV data set needs at least one "
                          "feature column and a label column", path, k);
    return RT_OK;
}

static int csv_label_column(char **names, int ncol, const char *label) {
    const char *want = label ? label : "y";
    for (int i = 0; i < ncol; i++)
        if (strcmp(names[i], want) == 0) return i;
    return label ? -1 : ncol - 1;
}

/* Parses the data rows after the header into d (already allocated for nrows x (ncol-1)). */
static rt_status csv_rows(const char *path, const char *p, const char *end, char **names, int ncol,
                          int lab, nn_dataset *d, rt_err *err) {
    const char *ls, *le;
    int line = 1, row = 0, maxy = -1;
    while (csv_next_line(&p, end, &ls, &le)) {
        line++;
        if (csv_blank(ls, le)) continue;
        int m = csv_count_fields(ls, le);
        if (m != ncol)
            return rt_err_set(err, RT_ERR_FORMAT, "%s:%d: expected %d fields, found %d (the header names %d "
                              "columns)", path, line, ncol, m, ncol);
        float *x = d->x + (size_t)row * (size_t)d->dim;
        const char *s = ls;
        for (int c = 0, j = 0; c < ncol; c++) {
            const char *e = memchr(s, ',', (size_t)(le - s));
            if (!e) e = le;
            double v = 0.0;
            bool ok = csv_number(s, e, &v);
            int shown = (int)(e - s) < 40 ? (int)(e - s) : 40;
            if (!ok)
                return rt_err_set(err, RT_ERR_FORMAT, "%s:%d: column '%s': '%.*s' is not a number", path,
                                  line, names[c], shown, s);
            if (c == lab) {
                if (v < 0.0 || v != floor(v) || v > NN_CSV_MAX_CLASS)
                    return rt_err_set(err, RT_ERR_FORMAT, "%s:%d: label column '%s': '%.*s' is not a class "
                                      "label (an integer in 0..%d); is '%s' the label column?", path, line,
                                      names[c], shown, s, NN_CSV_MAX_CLASS, names[c]);
                d->y[row] = (int32_t)v;
                if ((int)v > maxy) maxy = (int)v;
            } else {
                x[j] = (float)v;
                if (!isfinite(x[j]))
                    return rt_err_set(err, RT_ERR_FORMAT, "%s:%d: column '%s': %.*s does not fit in a float",
                                      path, line, names[c], shown, s);
                j++;
            }
            s = e < le ? e + 1 : le;
        }
        row++;
    }
    RT_ASSERT(row == d->n);
    d->nclass = maxy + 1;
    return RT_OK;
}

rt_status nn_csv_load(nn_dataset *d, const char *path, const char *label, rt_err *err) {
    memset(d, 0, sizeof *d);
    char *buf = NULL, *store = NULL, **names = NULL;
    size_t len = 0;
    int ncol = 0, lab = -1;
    const char *p, *end, *ls, *le;
    rt_status st = nn_data_gz_slurp(path, &buf, &len, err);
    if (st != RT_OK) return st;
    p = buf;
    end = buf + len;
    if (!csv_next_line(&p, end, &ls, &le)) ls = le = buf;
    st = csv_header(path, ls, le, &store, &names, &ncol, err);
    if (st == RT_OK) {
        lab = csv_label_column(names, ncol, label);
        if (lab < 0) {
            char cols[256];
            size_t n = 0;
            for (int i = 0; i < ncol; i++)
                nn_data_append(cols, sizeof cols, &n, "%s%s", i ? "," : "", names[i]);
            st = rt_err_set(err, RT_ERR_ARG, "%s: no column named '%s' for the label (columns: %s); set "
                            "label to one of them", path, label, cols);
        }
    }
    int nrows = 0;
    for (const char *q = p; st == RT_OK && csv_next_line(&q, end, &ls, &le);)
        if (!csv_blank(ls, le)) nrows++;
    if (st == RT_OK && nrows == 0)
        st = rt_err_set(err, RT_ERR_FORMAT, "%s: no data rows after the header", path);
    if (st == RT_OK) st = nn_data_alloc(d, nrows, ncol - 1, err);
    if (st == RT_OK) {
        nn_data_shape(d, 1, ncol - 1, 1, 1);
        st = csv_rows(path, p, end, names, ncol, lab, d, err);
    }
    free(buf);
    free(store);
    free(names);
    if (st != RT_OK) { nn_dataset_free(d); return st; }
    snprintf(d->source, sizeof d->source, "%s", path);
    return RT_OK;
}
