// lb_aggregate.c: results.csv and summary.csv of a run directory, rebuilt from its points'
// result.csv (read with rt_csv_read, written with rt_csv_field's quoting): one row per point, and
// per configuration the mean, sd and 95% Student-t interval over its seeds (lb_t975).
//
// Nothing here trains; only the per-point files are ever written by the worker of that point, and
// the aggregates are written whole and atomically, so concurrent workers and kill -9 never leave
// a torn one.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_impl.h"
#include "rt_csv.h"
#include "rt_text.h"

// ---- the rows of every point ----

/* results.csv as it is built: the union of the points' columns, their rows under it. */
typedef struct results_table {
    int ncol, nrow;
    char **head;                        /* ncol names */
    char **cell;                        /* nrow x ncol, "" where a point lacks the column */
} results_table;

/* Column identities tell repeated names apart by occurrence ("epochs" twice: #0 and #1). */
static int occurrence(char *const *names, int i) {
    int k = 0;
    for (int j = 0; j < i; j++) k += strcmp(names[j], names[i]) == 0;
    return k;
}

/* A result.csv is the point's own only when it has one row, a point_id column holding the point's
** id and a status: an empty file, a truncated one or junk written by something else is no result
** (the point is trained again on --resume, and left out of results.csv). */
static bool result_valid(const rt_csv_table *t, const char *id) {
    int ci = rt_csv_col(t, "point_id"), cs = rt_csv_col(t, "status");
    return t->nrow == 1 && ci >= 0 && cs >= 0 && strcmp(rt_csv_at(t, 0, ci), id) == 0 && rt_csv_at(t, 0, cs)[0];
}

// ---- aggregates ----

double lb_t975(int df) {
    /* t_{df, 0.975} for df = 1..30, then the Cornish-Fisher expansion around z = 1.959964. */
    static const double t[30] = {
        12.7062047, 4.30265273, 3.18244631, 2.77644511, 2.57058184, 2.44691185, 2.36462425,
        2.30600414, 2.26215716, 2.22813885, 2.20098516, 2.17881283, 2.16036866, 2.14478669,
        2.13144955, 2.11990530, 2.10981558, 2.10092204, 2.09302405, 2.08596345, 2.07961384,
        2.07387307, 2.06865761, 2.06389856, 2.05953855, 2.05552944, 2.05183052, 2.04840714,
        2.04522964, 2.04227246 };
    if (df < 1) return NAN;
    if (df <= 30) return t[df - 1];
    double z = 1.959963984540054, z2 = z * z, n = df;
    return z + z * (z2 + 1) / (4 * n) + z * ((5 * z2 + 16) * z2 + 3) / (96 * n * n) +
           z * (((3 * z2 + 19) * z2 + 17) * z2 - 15) / (384 * n * n * n);
}

/* results.csv: one row per point with a result.csv, in sweep order. Columns: the union of the
** points' columns in order of first appearance (points of one sweep may log different terms);
** a point without a column leaves it empty. */
static rt_status write_results(const char *exp_dir, char ids[][17], int n, results_table *all, rt_err *err) {
    rt_csv_table *ts = rt_xcalloc((size_t)(n ? n : 1), sizeof *ts);
    char **cols = NULL;
    int ncol = 0, nrow = 0;
    for (int i = 0; i < n; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s/result.csv", exp_dir, ids[i]);
        if (!rt_csv_read(path, &ts[i])) continue;
        if (!result_valid(&ts[i], ids[i])) {       /* empty or junk: not a result, left out */
            rt_csv_table_free(&ts[i]);
            memset(&ts[i], 0, sizeof ts[i]);
            continue;
        }
        char **head = ts[i].cell;
        for (int c = 0; c < ts[i].ncol; c++) {
            int occ = occurrence(head, c), found = 0;
            for (int j = 0; j < ncol; j++)
                if (strcmp(cols[j], head[c]) == 0 && found++ == occ) { found = -1; break; }
            if (found == -1) continue;
            cols = realloc(cols, (size_t)(ncol + 1) * sizeof *cols);
            if (!cols) RT_ABORT("out of memory");
            cols[ncol++] = head[c];
        }
        nrow += ts[i].nrow;
    }
    rt_status st = RT_OK;
    rt_buf b = { 0 };
    memset(all, 0, sizeof *all);
    all->ncol = ncol;
    all->cell = rt_xcalloc((size_t)(nrow ? nrow : 1) * (size_t)(ncol ? ncol : 1), sizeof *all->cell);
    for (int j = 0; j < ncol; j++) {
        if (j) rt_buf_put(&b, ",", 1);
        rt_csv_field(&b, cols[j]);
    }
    rt_buf_printf(&b, "\n");
    size_t head_len = b.n;
    for (int i = 0; i < n; i++) {
        for (int r = 0; r < ts[i].nrow; r++) {
            char **row = all->cell + (size_t)all->nrow++ * (size_t)ncol;
            for (int j = 0; j < ncol; j++) {
                int occ = occurrence(cols, j), seen = 0;
                row[j] = (char *)"";
                for (int c = 0; c < ts[i].ncol; c++)
                    if (strcmp(rt_csv_at(&ts[i], -1, c), cols[j]) == 0 && seen++ == occ) {
                        /* an empty cell stays the shared "" (results_free frees non-empty ones) */
                        const char *v = rt_csv_at(&ts[i], r, c);
                        row[j] = v[0] ? rt_xstrdup(v) : (char *)"";
                        break;
                    }
                if (j) rt_buf_put(&b, ",", 1);
                rt_csv_field(&b, row[j]);
            }
            rt_buf_printf(&b, "\n");
        }
    }
    all->head = rt_xcalloc((size_t)(ncol ? ncol : 1), sizeof *all->head);
    for (int j = 0; j < ncol; j++) all->head[j] = rt_xstrdup(cols[j]);
    char path[1200];
    snprintf(path, sizeof path, "%s/results.csv", exp_dir);
    if (nrow > 0 && b.n > head_len) st = rt_write_atomic(path, b.s, b.n, err);
    rt_buf_free(&b);
    free(cols);
    for (int i = 0; i < n; i++) rt_csv_table_free(&ts[i]);
    free(ts);
    return st;
}

static void results_free(results_table *t) {
    for (int r = 0; r < t->nrow; r++)
        for (int j = 0; j < t->ncol; j++) {
            char *c = t->cell[(size_t)r * (size_t)t->ncol + (size_t)j];
            if (c[0]) free(c);
        }
    for (int j = 0; j < t->ncol; j++) free(t->head[j]);
    free(t->head);
    free(t->cell);
}

/* summary.csv: one row per distinct configuration (the params: the columns between point_id
** and seed) over its replicates with status "done", in order of first appearance:
**     <params>, n, then for every numeric metric column X (after status; not epochs or
**     diverged_epoch): X_mean, X_sd, X_ci95; then seeds (the seeds aggregated, space-separated).
** sd is the sample standard deviation (n - 1); ci95 the half-width of the 95% Student-t interval,
** t_{n-1,0.975} sd / sqrt(n). With n = 1 both are 0. A metric that is nan in a row is nan. */
static rt_status write_summary(const char *exp_dir, const results_table *t, rt_err *err) {
    int seed_col = -1, status_col = -1;
    for (int j = 0; j < t->ncol; j++) {
        if (seed_col < 0 && strcmp(t->head[j], "seed") == 0) seed_col = j;
        if (status_col < 0 && strcmp(t->head[j], "status") == 0) status_col = j;
    }
    if (seed_col < 1 || status_col < seed_col || t->nrow == 0) return RT_OK;
    rt_buf b = { 0 };
    /* Metric columns: numeric (or empty) in every row. */
    bool *metric = rt_xcalloc((size_t)t->ncol, sizeof *metric);
    for (int j = status_col + 1; j < t->ncol; j++) {
        if (strcmp(t->head[j], "epochs") == 0 || strcmp(t->head[j], "diverged_epoch") == 0) continue;
        metric[j] = true;
        for (int r = 0; r < t->nrow && metric[j]; r++) {
            const char *c = t->cell[(size_t)r * (size_t)t->ncol + (size_t)j];
            char *end;
            if (!c[0]) continue;
            strtod(c, &end);
            metric[j] = end != c && *end == '\0';
        }
    }
    for (int j = 1; j < seed_col; j++) {
        rt_csv_field(&b, t->head[j]);
        rt_buf_put(&b, ",", 1);
    }
    rt_buf_printf(&b, "n");
    for (int j = 0; j < t->ncol; j++)
        if (metric[j]) rt_buf_printf(&b, ",%s_mean,%s_sd,%s_ci95", t->head[j], t->head[j], t->head[j]);
    rt_buf_printf(&b, ",seeds\n");
    bool *used = rt_xcalloc((size_t)t->nrow, sizeof *used);
    int *members = rt_xmalloc((size_t)t->nrow * sizeof *members);
#define CELL(r, j) (t->cell[(size_t)(r) * (size_t)t->ncol + (size_t)(j)])
    for (int r0 = 0; r0 < t->nrow; r0++) {
        if (used[r0] || strcmp(CELL(r0, status_col), "done") != 0) continue;
        int n = 0;
        for (int r = r0; r < t->nrow; r++) {
            if (used[r] || strcmp(CELL(r, status_col), "done") != 0) continue;
            bool same = true;
            for (int j = 1; j < seed_col && same; j++) same = strcmp(CELL(r, j), CELL(r0, j)) == 0;
            if (same) used[r] = true, members[n++] = r;
        }
        for (int j = 1; j < seed_col; j++) {
            rt_csv_field(&b, CELL(r0, j));
            rt_buf_put(&b, ",", 1);
        }
        rt_buf_printf(&b, "%d", n);
        for (int j = 0; j < t->ncol; j++) {
            if (!metric[j]) continue;
            double sum = 0.0, ss = 0.0;
            int k = 0;
            for (int m = 0; m < n; m++) {
                const char *c = CELL(members[m], j);
                if (c[0]) sum += strtod(c, NULL), k++;
            }
            double mean = k ? sum / k : (double)NAN;
            for (int m = 0; m < n; m++) {
                const char *c = CELL(members[m], j);
                if (c[0]) ss += (strtod(c, NULL) - mean) * (strtod(c, NULL) - mean);
            }
            double sd = k > 1 ? sqrt(ss / (k - 1)) : isnan(mean) ? (double)NAN : 0.0;
            double ci = k > 1 ? lb_t975(k - 1) * sd / sqrt((double)k) : sd;
            char a[64], s[64], c[64];
            rt_fmt_num(mean, a, sizeof a);
            rt_fmt_num(sd, s, sizeof s);
            rt_fmt_num(ci, c, sizeof c);
            rt_buf_printf(&b, ",%s,%s,%s", a, s, c);
        }
        rt_buf_printf(&b, ",");
        for (int m = 0; m < n; m++) rt_buf_printf(&b, "%s%s", m ? " " : "", CELL(members[m], seed_col));
        rt_buf_printf(&b, "\n");
    }
#undef CELL
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.csv", exp_dir);
    rt_status st = rt_write_atomic(path, b.s, b.n, err);
    rt_buf_free(&b);
    free(metric);
    free(used);
    free(members);
    return st;
}

lb_result lb_result_status(const char *exp_dir, const char *id) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/result.csv", exp_dir, id);
    rt_csv_table t;
    if (!rt_csv_read(path, &t)) return LB_RESULT_NONE;
    int c = rt_csv_col(&t, "status");
    lb_result r = !result_valid(&t, id) ? LB_RESULT_NONE
                : strcmp(rt_csv_at(&t, 0, c), "diverged") == 0 ? LB_RESULT_DIVERGED : LB_RESULT_DONE;
    rt_csv_table_free(&t);
    return r;
}

rt_status lb_aggregate(const char *exp_dir, char ids[][17], int n, rt_err *err) {
    results_table all;
    rt_status st = write_results(exp_dir, ids, n, &all, err);
    if (!st) st = write_summary(exp_dir, &all, err);
    results_free(&all);
    return st;
}

int lb_merge_dir(const char *exp_dir) {
    lb_manifest m;
    if (lb_manifest_read(exp_dir, &m) < 0) return 0;     /* not a sweep directory: nothing to merge */
    rt_err err = { 0 };
    rt_status st = lb_aggregate(exp_dir, m.ids, m.n, &err);
    lb_manifest_free(&m);
    if (st) fprintf(stderr, "vibrun: %s\n", err.msg);
    return st ? 1 : 0;
}
