// lb_status.c: `vibrun status RUN_DIR`: the state of every point of a run directory (done,
// diverged, running, interrupted, failed, pending), read from its files and locks, and an ETA from
// the timing logs; then the aggregates, rebuilt.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lb_impl.h"
#include "rt_text.h"

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
        long pid = lb_lock_holder(dir);
        if (exists(dir, "result.csv")) {
            state = lb_result_status(exp_dir, m.ids[i]) == LB_RESULT_DIVERGED ? DIVERGED : DONE;
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
    printf("%s: %d point%s:", exp_dir, m.n, m.n == 1 ? "" : "s");
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
        printf("continue with: %s %s%s --resume\n", lb_cmd(), m.script, m.args);
    rt_buf_free(&lines);
    int merged = lb_merge_dir(exp_dir);
    lb_manifest_free(&m);
    return merged;
}

// ---- the live display of --jobs N on a terminal ----

int lb_jobs_render(rt_buf *out, const lb_job_line *jobs, int nslots, int finished, int todo, double elapsed_s, int prev) {
    if (prev > 0) rt_buf_printf(out, "\033[%dA", prev);
    double running = 0.0;
    int busy = 0;
    for (int k = 0; k < nslots; k++) {
        const lb_job_line *j = &jobs[k];
        rt_buf_printf(out, "\r\033[K");
        if (j->point <= 0) {
            rt_buf_printf(out, "job %d: idle\n", k + 1);
            continue;
        }
        busy++;
        double steps = j->steps > 0 ? (double)j->steps : 1.0, ep = j->epochs > 0 ? j->epochs : 1;
        double frac = j->epoch > 0 ? ((j->epoch - 1) + (double)j->step / steps) / ep : 0.0;
        running += frac < 0 ? 0 : frac > 1 ? 1 : frac;
        int width = 20, filled = (int)(width * (double)j->step / steps);
        char bar[32], eta[32];
        for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        fmt_dur(j->eta_s, eta, sizeof eta);
        rt_buf_printf(out, "job %d: [%d/%d] %s epoch %d/%d [%s] ", k + 1, j->point, j->npoints, j->params, j->epoch,
                      j->epochs, bar);
        if (j->epoch <= 0) rt_buf_printf(out, "starting ...");
        else if (j->phase[0]) rt_buf_printf(out, "%s ...", j->phase);
        else rt_buf_printf(out, "step %lld/%lld  loss %.4f bits  ETA %s", j->step, j->steps, j->loss_bits, eta);
        rt_buf_printf(out, "\n");
    }
    double done = (finished + running) / (todo > 0 ? todo : 1);
    char eta[32];
    fmt_dur(done > 0 ? elapsed_s * (1 - done) / done : -1, eta, sizeof eta);
    rt_buf_printf(out, "\r\033[Ksweep: %d/%d points done, %d running, %.0f%%, ETA %s\n", finished, todo, busy,
                  100 * done, eta);
    return nslots + 1;
}
