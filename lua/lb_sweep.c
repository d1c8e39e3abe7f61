// lb_sweep.c: the run directory of a sweep: its manifest (which script owns it, its points in
// sweep order), the aggregates rebuilt from the per-point files (results.csv, summary.csv), the
// per-point lock that tells a running point, `vibrun status`, and the balanced shards.
//
// Nothing here trains. Every file is written whole and atomically (rt_write_atomic: a
// process-unique temporary file, fsync, rename), so concurrent workers and kill -9 never leave a
// torn aggregate, and only the per-point files are ever written by the worker of that point.
#define _GNU_SOURCE                     /* sched_getaffinity, CPU_COUNT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lb_impl.h"
#include "rt_csv.h"
#include "rt_text.h"

// ---- small helpers ----

int lb_cpu_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

// ---- the manifest ----

/* <exp_dir>/manifest:
**     # vibrun run directory: the script that owns it and its points in sweep order
**     script /abs/path/x.lua
**     point <id> <epochs> <params canon>
*/
static void manifest_path(const char *exp_dir, char *out, size_t size) {
    snprintf(out, size, "%s/manifest", exp_dir);
}

void lb_script_identity(const char *script, char *out, size_t size) {
    char real[PATH_MAX];
    snprintf(out, size, "%s", realpath(script, real) ? real : script);
}

bool lb_manifest_check(const char *exp_dir, const char *script, char *msg, size_t size) {
    char path[1200], want[PATH_MAX], have[PATH_MAX] = "";
    manifest_path(exp_dir, path, sizeof path);
    lb_script_identity(script, want, sizeof want);
    char *s = rt_read_file(path, NULL);
    if (!s) return true;
    char *line = strstr(s, "\nscript ");
    if (line) sscanf(line + 8, "%4095[^\n]", have);
    free(s);
    if (!have[0] || strcmp(have, want) == 0) return true;
    snprintf(msg, size, "%s was written by another script (%s), not %s; nothing was changed. Use another "
             "--out directory, give the experiment another name, or remove %s", exp_dir, have, want, exp_dir);
    return false;
}

/* A run whose points are all listed already (a sweep narrowed by --set to points it has, a point
** replayed from its config.lua, a --resume) leaves the manifest as it is, so results.csv,
** summary.csv and the figures keep covering the whole sweep. A run that selects any other point
** (other --set values, a changed script) lists its own points instead, with its options: the
** directory's aggregates then describe that run, and never mix configurations that differ in
** more than the param columns show (a --set epochs=2 quick look beside the full run). */
rt_status lb_manifest_write(const char *exp_dir, const char *script, const char *args, char ids[][17],
                            const int *epochs, char titles[][256], int n, rt_err *err) {
    char path[1200], ident[PATH_MAX];
    manifest_path(exp_dir, path, sizeof path);
    lb_script_identity(script, ident, sizeof ident);
    lb_manifest old;
    if (lb_manifest_read(exp_dir, &old) >= 0) {
        bool all_listed = strcmp(old.script, ident) == 0;
        for (int i = 0; i < n && all_listed; i++) {
            bool listed = false;
            for (int j = 0; j < old.n && !listed; j++) listed = strcmp(old.ids[j], ids[i]) == 0;
            all_listed = listed;
        }
        lb_manifest_free(&old);
        if (all_listed) return RT_OK;
    }
    rt_buf b = { 0 };
    rt_buf_printf(&b, "# vibrun run directory: the script that owns it, the options that select its points, and "
            "its points in sweep order (point <id> <epochs> <params>)\nscript %s\nargs%s\n", ident, args);
    for (int i = 0; i < n; i++) {
        char title[256];                /* one line: a string param may hold a newline */
        snprintf(title, sizeof title, "%s", titles[i]);
        for (char *c = title; *c; c++)
            if (*c == '\n' || *c == '\r') *c = ' ';
        rt_buf_printf(&b, "point %s %d %s\n", ids[i], epochs[i], title);
    }
    rt_status st = rt_write_atomic(path, b.s, b.n, err);
    rt_buf_free(&b);
    return st;
}

int lb_manifest_read(const char *exp_dir, lb_manifest *m) {
    memset(m, 0, sizeof *m);
    char path[1200];
    manifest_path(exp_dir, path, sizeof path);
    char *s = rt_read_file(path, NULL);
    if (!s) return -1;
    int cap = 0;
    for (char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, "script ", 7) == 0) sscanf(line + 7, "%4095[^\n]", m->script);
        if (strncmp(line, "args", 4) == 0 && (line[4] == ' ' || line[4] == '\n'))
            sscanf(line + 4, "%4095[^\n]", m->args);
        if (strncmp(line, "point ", 6) != 0) continue;
        if (m->n == cap) {
            cap = cap ? cap * 2 : 64;
            m->ids = realloc(m->ids, (size_t)cap * sizeof *m->ids);
            m->titles = realloc(m->titles, (size_t)cap * sizeof *m->titles);
            m->epochs = realloc(m->epochs, (size_t)cap * sizeof *m->epochs);
            if (!m->ids || !m->titles || !m->epochs) RT_ABORT("out of memory");
        }
        m->titles[m->n][0] = '\0';
        if (sscanf(line + 6, "%16s %d %255[^\n]", m->ids[m->n], &m->epochs[m->n], m->titles[m->n]) >= 2) m->n++;
    }
    free(s);
    return m->n;
}

void lb_manifest_free(lb_manifest *m) {
    free(m->ids);
    free(m->titles);
    free(m->epochs);
    memset(m, 0, sizeof *m);
}

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
                        row[j] = rt_xstrdup(rt_csv_at(&ts[i], r, c));
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

// ---- per-point locks ----

/* <dir>/lock holds a POSIX record lock while a process trains the point, and that process's pid
** and host. fcntl locks (not flock) because F_GETLK tests a lock without taking it and tells
** the holder's pid; they work over NFS too. The lock goes with the process (kill -9 included). */
int lb_lock_point(const char *dir, long *holder) {
    char path[1200];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    *holder = 0;
    if (fd < 0) return -1;
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) *holder = fl.l_pid;
        if (!*holder) *holder = -1;
        close(fd);
        return -1;
    }
    char host[256] = "?", text[300];
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    int k = snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) != 0 || write(fd, text, (size_t)k) != k) { /* informative only */ }
    return fd;
}

/* The pid holding dir/lock, or 0 when no live process holds it. */
static long lock_holder(const char *dir) {
    char path[1200];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    long pid = 0;
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) pid = fl.l_pid ? fl.l_pid : -1;
    close(fd);
    return pid;
}

// ---- shards ----

void lb_shard_assign(const double *cost, int n, int nshards, int *shard) {
    /* Longest processing time first: points by decreasing cost (ties: sweep order) go to the
    ** least loaded shard (ties: the lowest). Equal costs give round-robin in sweep order. */
    int *order = rt_xmalloc((size_t)(n ? n : 1) * sizeof *order);
    double *load = rt_xcalloc((size_t)nshards, sizeof *load);
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++) {                   /* insertion sort: stable, n is small */
        int x = order[i], j = i - 1;
        while (j >= 0 && cost[order[j]] < cost[x]) order[j + 1] = order[j], j--;
        order[j + 1] = x;
    }
    for (int i = 0; i < n; i++) {
        int best = 0;
        for (int s = 1; s < nshards; s++)
            if (load[s] < load[best]) best = s;
        shard[order[i]] = best;
        load[best] += cost[order[i]];
    }
    free(order);
    free(load);
}

// ---- status ----

/* Rows of a CSV file (complete lines after the header) and, for metrics, the last epoch. */
static int last_epoch(const char *path, double *seconds, int *nrows) {
    char *s = rt_read_file(path, NULL);
    int last = -1;
    if (seconds) *seconds = 0.0;
    if (nrows) *nrows = 0;
    if (!s) return -1;
    char *line = strchr(s, '\n');
    while (line && line[1]) {
        line++;
        char *nl = strchr(line, '\n');
        if (!nl) break;                 /* an unfinished line */
        int e;
        double tr = 0, ev = 0;
        int k = sscanf(line, "%d,%lf,%lf", &e, &tr, &ev);
        if (k >= 1) last = e;
        if (seconds && k == 3) *seconds += tr + ev;
        if (nrows) (*nrows)++;
        line = nl;
    }
    free(s);
    return last;
}

static void fmt_dur(double s, char *out, size_t size) {
    if (!(s >= 0.0) || s > 1e8) snprintf(out, size, "--");
    else if (s >= 3600) snprintf(out, size, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else snprintf(out, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

static bool exists(const char *dir, const char *name) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

int lb_status(const char *exp_dir) {
    lb_manifest m;
    if (lb_manifest_read(exp_dir, &m) < 0) {
        fprintf(stderr, "vibrun: %s: no manifest; not a run directory written by vibrun (expected runs/<experiment>)\n",
                exp_dir);
        return 1;
    }
    enum { DONE, DIVERGED, RUNNING, INTERRUPTED, FAILED, PENDING, NSTATES };
    static const char *names[NSTATES] = { "done", "diverged", "running", "interrupted", "failed", "pending" };
    int count[NSTATES] = { 0 };
    double epoch_s = 0.0, left_epochs = 0.0;
    int timed_epochs = 0;
    rt_buf lines = { 0 };
    for (int i = 0; i < m.n; i++) {
        char dir[1200], path[1300];
        snprintf(dir, sizeof dir, "%s/%s", exp_dir, m.ids[i]);
        int state = PENDING, epoch = 0;
        long pid = lock_holder(dir);
        if (exists(dir, "result.csv")) {
            snprintf(path, sizeof path, "%s/result.csv", dir);
            char *r = rt_read_file(path, NULL);
            state = r && strstr(r, ",diverged,") ? DIVERGED : DONE;
            free(r);
            epoch = m.epochs[i];
        } else if (pid) {
            state = RUNNING;
        } else if (exists(dir, "failed")) {
            state = FAILED;
        } else if (exists(dir, "checkpoint") || exists(dir, "metrics.csv.part")) {
            state = INTERRUPTED;
        }
        if (state != DONE && state != DIVERGED) {
            snprintf(path, sizeof path, "%s/metrics.csv.part", dir);
            epoch = last_epoch(path, NULL, NULL);
            snprintf(path, sizeof path, "%s/metrics.csv", dir);
            if (epoch < 0) epoch = last_epoch(path, NULL, NULL);
            if (epoch < 0) epoch = 0;
        }
        for (int k = 0; k < 2; k++) {
            double s;
            int rows;
            snprintf(path, sizeof path, "%s/timing.csv%s", dir, k ? ".part" : "");
            last_epoch(path, &s, &rows);
            epoch_s += s;
            timed_epochs += rows;
        }
        count[state]++;
        if (state == RUNNING || state == INTERRUPTED || state == PENDING)
            left_epochs += m.epochs[i] > epoch ? m.epochs[i] - epoch : 0;
        if (state == RUNNING)
            rt_buf_printf(&lines, "  running      %s  epoch %d/%d  %s  (pid %ld)\n", m.ids[i], epoch, m.epochs[i], m.titles[i], pid);
        else if (state == INTERRUPTED)
            rt_buf_printf(&lines, "  interrupted  %s  epoch %d/%d  %s\n", m.ids[i], epoch, m.epochs[i], m.titles[i]);
        else if (state == FAILED) {
            snprintf(path, sizeof path, "%s/failed", dir);
            char *f = rt_read_file(path, NULL);
            rt_buf_printf(&lines, "  failed       %s  %s: %s", m.ids[i], m.titles[i], f ? f : "?\n");
            free(f);
        } else if (state == DIVERGED)
            rt_buf_printf(&lines, "  diverged     %s  %s\n", m.ids[i], m.titles[i]);
    }
    printf("%s: %d points:", exp_dir, m.n);
    for (int s = 0; s < NSTATES; s++) printf("%s %d %s", s ? "," : "", count[s], names[s]);
    printf("\n%s", lines.s ? lines.s : "");
    if (left_epochs == 0 && !count[RUNNING] && !count[INTERRUPTED] && !count[PENDING] && !count[FAILED])
        printf("nothing left to train\n");
    else if (left_epochs == 0) printf("no epochs left to train; the points above still need finishing\n");
    else if (timed_epochs == 0) printf("ETA: unknown until an epoch has finished (%.0f epochs left)\n", left_epochs);
    else {
        double per = epoch_s / timed_epochs;
        int workers = count[RUNNING] > 0 ? count[RUNNING] : 1;
        char eta[32];
        fmt_dur(left_epochs * per / workers, eta, sizeof eta);
        printf("ETA: %s (%.0f epochs left, %.2f s per epoch measured over %d epochs, %d worker%s)\n", eta,
               left_epochs, per, timed_epochs, workers, workers == 1 ? "" : "s");
    }
    if (count[INTERRUPTED] || count[PENDING] || count[FAILED])
        printf("continue with: vibrun %s%s --resume\n", m.script, m.args);
    rt_buf_free(&lines);
    int merged = lb_merge_dir(exp_dir);
    lb_manifest_free(&m);
    return merged;
}
