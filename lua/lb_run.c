// lb_run.c: the runner: given the resolved points (lb_points, C structs; lb_script.c made them),
// trains each into its directory, rebuilds results.csv from the per-point results, and draws the
// figures. Nothing here reads Lua.
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lb_impl.h"
#include "rt_blas.h"
#include "rt_csv.h"
#include "rt_text.h"

volatile sig_atomic_t lb_stop = 0;

// ---- small helpers ----

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

// ---- progress ----

typedef struct progress_state {
    bool tty, quiet;
    int point, npoints;
    double last;
    char label[256];
} progress_state;

static void fmt_eta(double s, char *buf, size_t size) {
    if (!(s >= 0.0) || s > 1e7) snprintf(buf, size, "--");
    else if (s >= 3600) snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

static void on_progress(const nn_progress *p, void *user) {
    progress_state *s = user;
    if (s->quiet) return;
    char eta[32];
    fmt_eta(p->eta_s, eta, sizeof eta);
    if (s->tty) {
        double t = rt_now_s();
        if (!p->epoch_done && t - s->last < 0.1 && p->step != p->steps) return;
        s->last = t;
        int width = 20, filled = (int)(width * (double)p->step / (double)p->steps);
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r\033[K[%d/%d] epoch %d/%d [%s] step %lld/%lld  loss %.4f bits  %.0f samples/s  ETA %s",
                s->point, s->npoints, p->epoch, p->epochs, bar, (long long)p->step, (long long)p->steps,
                p->loss_bits, p->samples_per_s, eta);
        if (p->epoch_done) fprintf(stderr, "  test error %.4f\n", p->test_error);
    } else if (p->epoch_done) {
        fprintf(stderr, "[%d/%d] %s epoch %d/%d: train loss %.4f bits, test error %.4f, %.0f samples/s\n",
                s->point, s->npoints, s->label, p->epoch, p->epochs, p->loss_bits, p->test_error,
                p->samples_per_s);
    }
    fflush(stderr);
}

// ---- per-point files ----

/* config.lua: the resolved point, replayable with `vibrun config.lua`. */
static rt_status write_config(const lb_point *p, const char *dir, rt_err *err) {
    rt_buf b = { 0 };
#define PUT(...) rt_buf_printf(&b, __VA_ARGS__)
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, ".");
    PUT("-- The resolved point %s of experiment '%s'. Replay it from %s with: vibrun %s/config.lua\n", p->id,
        p->name, cwd, dir);
    /* Strings are written as Lua literals (the DSL's canonical form, %q), so any text replays. */
    PUT("local vib = require \"vib\"\n\nreturn vib.point {\n  script = %s,\n  params = {\n", p->script_lua);
    for (int i = 0; i < p->nparams; i++) PUT("    %s = %s,\n", p->params[i].key, p->params[i].lua);
    PUT("  },\n  settings = { epochs = %d, batch = %d, eval_batch = %d, ema = %g, seed = %llu, "
        "train_eval_limit = %d, checkpoint_every = %d, eval_samples = %d, eval_passes = %d%s },\n}\n",
        p->train.epochs, p->train.batch, p->train.eval_batch, (double)p->train.ema,
        (unsigned long long)p->train.seed, p->train.train_eval_limit, p->train.checkpoint_every,
        p->train.eval_samples, p->train.eval_passes, p->train.point ? ", streams = \"independent\"" : "");
#undef PUT
    char path[1200];
    snprintf(path, sizeof path, "%s/config.lua", dir);
    rt_status st = rt_write_atomic(path, b.s, b.n, err);
    rt_buf_free(&b);
    return st;
}

/* result.csv: one row, the point's hyperparameters and final metrics (deterministic). */
static rt_status write_result(const lb_point *p, const nn_result *r, const char *dir, rt_err *err) {
    rt_buf head = { 0 }, row = { 0 };
    char v[128];
#define COL(name, ...) do { \
        rt_buf_printf(&head, "%s%s", head.n ? "," : "", name); \
        if (row.n) rt_buf_printf(&row, ","); \
        rt_buf_printf(&row, __VA_ARGS__); } while (0)
    COL("point_id", "%s", p->id);
    for (int i = 0; i < p->nparams; i++)
        if (strcmp(p->params[i].key, "seed") != 0) COL(p->params[i].key, "%s", p->params[i].text);
    COL("seed", "%llu", (unsigned long long)p->train.seed);
    COL("status", "%s", r->status);
    COL("epochs", "%d", r->epochs_done);
    COL("diverged_epoch", "%d", r->diverged_epoch);
    rt_fmt_num(r->train_loss_bits, v, sizeof v); COL("train_loss_bits", "%s", v);
    rt_fmt_num(r->train_error, v, sizeof v); COL("train_error", "%s", v);
    rt_fmt_num(r->test_loss_bits, v, sizeof v); COL("test_loss_bits", "%s", v);
    rt_fmt_num(r->test_error, v, sizeof v); COL("test_error", "%s", v);
    rt_fmt_num(r->test_error_det, v, sizeof v); COL("test_error_det", "%s", v);
    for (int t = 0; t < p->nterms; t++) {
        char name[64];
        snprintf(name, sizeof name, "test_%s_bits", p->terms[t].name);
        rt_fmt_num(r->term_bits[t], v, sizeof v);
        COL(name, "%s", v);
    }
    /* The last measured epoch's information plane: <split>_<layer>_<estimator>_{ixz,izy}_bits. */
    for (int i = 0; i < r->ninfo; i++) {
        const nn_info_row *ir = &r->info[i];
        char name[160];
        const char *split = ir->split ? "test" : "train", *kind = nn_info_kind_name(ir->kind);
        snprintf(name, sizeof name, "%s_%s_%s_ixz_bits", split, ir->layer, kind);
        rt_fmt_num(ir->ixz, v, sizeof v);
        COL(name, "%s", v);
        snprintf(name, sizeof name, "%s_%s_%s_izy_bits", split, ir->layer, kind);
        rt_fmt_num(ir->izy, v, sizeof v);
        COL(name, "%s", v);
    }
#undef COL
    char path[1200];
    rt_buf_printf(&head, "\n%s\n", rt_buf_str(&row));
    snprintf(path, sizeof path, "%s/result.csv", dir);
    rt_status st = rt_write_atomic(path, head.s, head.n, err);
    rt_buf_free(&head);
    rt_buf_free(&row);
    return st;
}

// ---- the experiment ----

static void report(const char *msg) { fprintf(stderr, "vibrun: %s\n", msg); }

/* A point's error: the message, which point it stopped, and where the error is kept. */
static void report_point(const progress_state *ps, const lb_point *p, const char *dir, const char *msg) {
    fprintf(stderr, "vibrun: %s\n[%d/%d] %s %s: failed (the error is in %s/failed; vibrun status lists "
            "every point)\n", msg, ps->point, ps->npoints, p->id, p->params_title, dir);
}

typedef struct data_cache {
    char *key;                          /* lb_point.data_key of the data held */
    nn_dataset train, test;
    bool loaded;
} data_cache;


// ---- one point ----

/* What training a point ended with: the exit code of a worker process. */
enum { POINT_ENDED = 0, POINT_ERROR = 1, POINT_INTERRUPTED = 3, POINT_BUSY = 4 };

/* Writes <dir>/failed: what `vibrun status` shows for a point that stopped on an error. */
static void mark_failed(const char *dir, const char *msg) {
    char path[1200], text[2100];
    snprintf(path, sizeof path, "%s/failed", dir);
    int n = snprintf(text, sizeof text, "%s\n", msg);
    rt_err ignore = { 0 };
    rt_write_atomic(path, text, (size_t)(n < (int)sizeof text ? n : (int)sizeof text - 1), &ignore);
}

/* Trains point pi (read into p; data loaded) into exp_dir/<id> under the point's lock: writes
** config.lua, metrics.csv, timing.csv, checkpoint and result.csv. Returns a POINT_* code. */
static int train_point(const lb_opts *o, lb_point *p, const data_cache *dc, const char *exp_dir,
                       progress_state *ps) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/%s", exp_dir, p->id);
    if (rt_mkdir_p(dir, NULL, 0) != 0) {
        fprintf(stderr, "vibrun: cannot create %s: %s\n", dir, strerror(errno));
        return POINT_ERROR;
    }
    long holder;
    int lock = lb_lock_point(dir, &holder);
    if (lock < 0) {
        if (!holder) {
            fprintf(stderr, "vibrun: cannot open %s/lock: %s\n", dir, strerror(errno));
            return POINT_ERROR;
        }
        fprintf(stderr, "[%d/%d] %s: being trained by another vibrun (pid %ld); skipped\n", ps->point,
                ps->npoints, p->id, holder);
        return POINT_BUSY;
    }
    char failed[1200];
    snprintf(failed, sizeof failed, "%s/failed", dir);
    remove(failed);
    if (!o->resume) {
        /* Trained afresh over an earlier run: its result.csv would mark the point done while the
        ** new run's files are still partial (an interrupt would leave the two mixed). */
        char old_result[1200];
        snprintf(old_result, sizeof old_result, "%s/result.csv", dir);
        remove(old_result);
    }
    rt_err err = { 0 };
    nn_model m;
    nn_obj obj;
    int code = POINT_ERROR;
    if (nn_model_build(&m, p->layers, p->nlayers, dc->train.dim, &err) != RT_OK) {
        report_point(ps, p, dir, err.msg);
        mark_failed(dir, err.msg);
        close(lock);
        return POINT_ERROR;
    }
    if (nn_obj_build(&obj, p->terms, p->nterms, p->expr, p->nexpr, &m, &err) != RT_OK ||
        nn_measure_check(&p->measure, &m, &obj, &err) != RT_OK || nn_check_data(&m, &obj, &dc->train, &dc->test, &err) != RT_OK) {
        report_point(ps, p, dir, err.msg);
        mark_failed(dir, err.msg);
        nn_model_free(&m);
        close(lock);
        return POINT_ERROR;
    }
    rt_status st = write_config(p, dir, &err);
    snprintf(ps->label, sizeof ps->label, "%s", p->id);
    if (!ps->tty) snprintf(ps->label, sizeof ps->label, "%s %s", p->id, p->params_title);
    p->train.dir = dir;
    p->train.resume = o->resume;
    p->train.progress = on_progress;
    p->train.progress_user = ps;
    p->train.stop = &lb_stop;
    nn_result r;
    if (!st) st = nn_train(&m, &obj, &dc->train, &dc->test, &p->train, &r, &err);
    nn_model_free(&m);
    if (st) {
        report_point(ps, p, dir, err.msg);
        mark_failed(dir, err.msg);
    } else if (strcmp(r.status, "interrupted") == 0) {
        code = POINT_INTERRUPTED;
        if (!o->quiet)
            fprintf(stderr, "\n[%d/%d] %s: interrupted, checkpointed in epoch %d\n", ps->point,
                    ps->npoints, p->id, r.epochs_done + 1);
    } else {
        if (strcmp(r.status, "diverged") == 0)
            fprintf(stderr, "vibrun: %s: point %s (%s) diverged at epoch %d: the objective declared here became "
                    "non-finite (lower the learning rate, clip gradients, or check the data's scale); its CSV is "
                    "kept and the sweep goes on\n", p->terms[0].where, p->id, p->params_title, r.diverged_epoch);
        if (r.warn[0]) fprintf(stderr, "vibrun: warning: %s\n", r.warn);
        if (write_result(p, &r, dir, &err) != RT_OK) {
            report_point(ps, p, dir, err.msg);
            mark_failed(dir, err.msg);
        } else {
            code = POINT_ENDED;
            if (!o->quiet && !ps->tty)
                fprintf(stderr, "[%d/%d] %s: %s, test error %.4f (%.1f s)\n", ps->point, ps->npoints,
                        ps->label, r.status, r.test_error, r.seconds);
        }
    }
    close(lock);
    return code;
}

// ---- the sweep ----

/* A rough cost of a point for balancing shards: epochs x the rows every layer computes. */
static double point_cost(const lb_point *p) {
    double width = 1.0, rows = 1.0;
    for (int l = 0; l < p->nlayers; l++) {
        rows *= p->layers[l].samples > 1 ? p->layers[l].samples : 1;
        width += rows * (p->layers[l].out > 0 ? p->layers[l].out : 1);
    }
    return (double)(p->train.epochs + 1) * width;
}

/* Loads the data set of point p into the cache unless it holds it already. */
static bool load_data(const lb_point *p, data_cache *dc) {
    if (dc->loaded && strcmp(dc->key, p->data_key) == 0) return true;
    rt_err err = { 0 };
    nn_dataset_free(&dc->train);
    nn_dataset_free(&dc->test);
    dc->loaded = false;
    free(dc->key);
    dc->key = rt_xstrdup(p->data_key);
    if (nn_data_open(&p->data, &dc->train, &dc->test, &err) != RT_OK) {
        fprintf(stderr, "vibrun: %s: %s\n", p->data_where, err.msg);
        return false;
    }
    dc->loaded = true;
    return true;
}

static bool point_diverged(const char *exp_dir, const char *id) {
    char path[1200], line[8192] = "";
    snprintf(path, sizeof path, "%s/%s/result.csv", exp_dir, id);
    FILE *f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {}
        fclose(f);
    }
    return strstr(line, ",diverged,") != NULL;
}

typedef struct worker {
    pid_t pid;
    int point;
} worker;

/* Waits for one worker to end (polling, so that a signal is noticed and passed on); returns
** its slot, with *code its POINT_* code. */
static int wait_worker(worker *w, int nw, int *code) {
    bool forwarded = false;
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            for (int k = 0; k < nw; k++) {
                if (w[k].pid != pid) continue;
                *code = WIFEXITED(status) ? WEXITSTATUS(status) : POINT_ERROR;
                if (WIFSIGNALED(status))
                    fprintf(stderr, "vibrun: the worker of point %d ended by signal %d\n", w[k].point + 1,
                            WTERMSIG(status));
                return k;
            }
            continue;
        }
        if (pid < 0 && errno != EINTR) RT_ABORT("waitpid: %s", strerror(errno));
        if (lb_stop && !forwarded) {            /* SIGTERM to the parent alone (Slurm, kill) */
            for (int k = 0; k < nw; k++) kill(w[k].pid, SIGTERM);
            forwarded = true;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

int lb_run_points(const lb_opts *o, lb_points *pts) {
    int npoints = pts->n;
    char msg[2048];
    char (*ids)[17] = rt_xcalloc((size_t)npoints, sizeof *ids);
    char (*titles)[256] = rt_xcalloc((size_t)npoints, sizeof *titles);
    int *epochs = rt_xcalloc((size_t)npoints, sizeof *epochs);
    double *cost = rt_xcalloc((size_t)npoints, sizeof *cost);
    int *shard = rt_xcalloc((size_t)npoints, sizeof *shard);
    lb_point *p = &pts->p[0];
    data_cache *dc = rt_xcalloc(1, sizeof *dc);
    worker *workers = rt_xcalloc((size_t)(o->jobs > 1 ? o->jobs : 1), sizeof *workers);
    char exp_dir[1024] = "";
    int code = 0, done = 0, diverged = 0, interrupted = 0, busy = 0, nw = 0, mine = 0;
    /* Every point first: ids, titles and costs, without data or training. */
    for (int i = 0; i < npoints; i++) {
        p = &pts->p[i];
        memcpy(ids[i], p->id, sizeof ids[i]);
        snprintf(titles[i], sizeof titles[i], "%s", p->params_title);
        epochs[i] = p->train.epochs;
        cost[i] = point_cost(p);
        if (!exp_dir[0]) snprintf(exp_dir, sizeof exp_dir, "%s/%s", o->out, p->name);
    }
    if (o->replay_config && npoints == 1) {
        /* <exp>/<id>/config.lua: the script resolves its params to another point when it changed. */
        char cfg[PATH_MAX], *slash;
        snprintf(cfg, sizeof cfg, "%s", o->replay_config);
        if ((slash = strrchr(cfg, '/'))) *slash = '\0';
        const char *want = (slash = strrchr(cfg, '/')) ? slash + 1 : cfg;
        if (strlen(want) == 12 && strcmp(want, ids[0]) != 0)
            fprintf(stderr, "vibrun: warning: %s was written for point %s, but %s now resolves its params to point "
                    "%s (the script changed since?); training %s\n", o->replay_config, want, o->script, ids[0],
                    ids[0]);
    }
    if (o->nshards) lb_shard_assign(cost, npoints, o->nshards, shard);
    for (int i = 0; i < npoints; i++) mine += !o->nshards || shard[i] == o->shard - 1;
    if (o->list) {
        printf("# %d point%s of %s%s", npoints, npoints == 1 ? "" : "s", exp_dir, o->nshards ? "" : "\n");
        if (o->nshards) printf(", %d in shard %d/%d\n", mine, o->shard, o->nshards);
        for (int i = 0; i < npoints; i++)
            if (!o->nshards || shard[i] == o->shard - 1) printf("%d %s %s\n", i + 1, ids[i], titles[i]);
        goto out;
    }
    if (!o->check) {
        if (!lb_manifest_check(exp_dir, o->script, msg, sizeof msg)) {
            report(msg);
            code = 1;
            goto out;
        }
        rt_err err = { 0 };
        rt_buf args = { 0 };
        lb_selection_args(o, &args);
        int finished = 0;
        for (int i = 0; o->merge && i < npoints; i++) {
            char res[1400];
            snprintf(res, sizeof res, "%s/%s/result.csv", exp_dir, ids[i]);
            finished += file_exists(res);
        }
        if (o->merge && finished == 0) {
            /* Merging these would list points that never ran in place of the directory's own. */
            fprintf(stderr, "vibrun: none of the %d points this command selects has finished in %s (other --set "
                    "values than its runs'? `vibrun status %s` shows the command that made them); nothing "
                    "changed\n", npoints, exp_dir, exp_dir);
            code = 1;
            goto out;
        }
        if (o->merge && finished < npoints && !o->quiet)
            fprintf(stderr, "vibrun: %d of the %d points this command selects have not finished in %s\n",
                    npoints - finished, npoints, exp_dir);
        if (rt_mkdir_p(exp_dir, NULL, 0) != 0) {
            fprintf(stderr, "vibrun: cannot create %s: %s\n", exp_dir, strerror(errno));
            code = 1;
            goto out;
        }
        rt_status st = lb_manifest_write(exp_dir, o->script, args.s, ids, epochs, titles, npoints, &err);
        rt_buf_free(&args);
        if (st != RT_OK) {
            report(err.msg);
            code = 1;
            goto out;
        }
    }
    if (o->slurm) {
        code = lb_slurm_write(o, exp_dir, p->name, npoints);
        goto out;
    }
    if (o->merge) {
        /* The directory's points, as lb_manifest_write left them. */
        lb_manifest man;
        if (lb_manifest_read(exp_dir, &man) < 0) RT_ABORT("%s: manifest written, then not readable", exp_dir);
        rt_err err = { 0 };
        if (lb_aggregate(exp_dir, man.ids, man.n, &err) != RT_OK) {
            report(err.msg);
            code = 1;
        } else {
            if (!o->quiet) printf("results: %s/results.csv\nsummary: %s/summary.csv\n", exp_dir, exp_dir);
            lb_plot_run(pts->plots, pts->nplots, exp_dir, man.ids, man.titles, man.n, o->quiet);
        }
        lb_manifest_free(&man);
        goto out;
    }
    if (o->nshards && !mine && !o->quiet)
        fprintf(stderr, "vibrun: shard %d/%d has no points (the sweep has %d)\n", o->shard, o->nshards, npoints);
    /* Threads (rt_gemm and its pool): --threads, else OPENBLAS_NUM_THREADS, else the CPUs shared by the jobs. */
    int threads = o->threads;
    if (!threads && !getenv("OPENBLAS_NUM_THREADS") && o->jobs > 1) {
        threads = lb_cpu_count() / o->jobs;
        threads = threads > 0 ? threads : 1;
    }
    if (threads && o->jobs <= 1) rt_blas_set_threads(threads);
    pid_t parent = getpid();
    progress_state ps = { isatty(2) != 0 && o->jobs <= 1, o->quiet, 0, npoints, 0.0, "" };
    for (int i = 0; i < npoints && code == 0 && !lb_stop; i++) {
        if (o->nshards && shard[i] != o->shard - 1) continue;
        p = &pts->p[i];
        if (!load_data(p, dc)) {
            code = 1;
            break;
        }
        ps.point = i + 1;
        if (o->check) {
            rt_err err = { 0 };
            nn_model m;
            nn_obj obj;
            rt_status st = nn_model_build(&m, p->layers, p->nlayers, dc->train.dim, &err);
            if (!st) {
                st = nn_obj_build(&obj, p->terms, p->nterms, p->expr, p->nexpr, &m, &err);
                if (!st) st = nn_measure_check(&p->measure, &m, &obj, &err);
                if (!st) st = nn_check_data(&m, &obj, &dc->train, &dc->test, &err);
                if (st) nn_model_free(&m);
            }
            if (st) {
                report(err.msg);
                code = 1;
                break;
            }
            char summary[8192];
            nn_model_summary(&m, summary, sizeof summary);
            printf("point %d/%d %s %s\ndata: %s (train %d x %d, test %d)\n%s\n", i + 1, npoints, p->id,
                   p->params_title, dc->train.source, dc->train.n, dc->train.dim, dc->test.n, summary);
            nn_model_free(&m);
            continue;
        }
        char res_path[1200];
        snprintf(res_path, sizeof res_path, "%s/%s/result.csv", exp_dir, p->id);
        if (o->resume && file_exists(res_path)) {
            if (!o->quiet) fprintf(stderr, "[%d/%d] %s: finished before, skipped (--resume)\n", i + 1, npoints, p->id);
            done++;
            continue;
        }
        int pc = -1;
        if (o->jobs <= 1) {
            pc = train_point(o, p, dc, exp_dir, &ps);
        } else {
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) RT_ABORT("fork: %s", strerror(errno));
            if (pid == 0) {
                /* A worker: ends with its parent (SIGTERM: checkpoint and stop). */
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent) _exit(POINT_INTERRUPTED);
                if (threads) rt_blas_set_threads(threads);
                int c = train_point(o, p, dc, exp_dir, &ps);
                fflush(NULL);
                _exit(c);
            }
            workers[nw++] = (worker){ pid, i };
        }
        /* In-process, or when every job slot is busy: collect a finished point. */
        while (pc >= 0 || (o->jobs > 1 && nw == o->jobs)) {
            int point = i;
            if (pc < 0) {
                int k = wait_worker(workers, nw, &pc);
                point = workers[k].point;
                workers[k] = workers[--nw];
            }
            if (pc == POINT_ENDED) {
                done++;
                diverged += point_diverged(exp_dir, ids[point]);
                if (!o->nshards && lb_merge_dir(exp_dir) != 0) code = 1;   /* over the manifest's points */
            } else if (pc == POINT_INTERRUPTED) {
                interrupted++;
            } else if (pc == POINT_BUSY) {
                busy++;
            } else {
                code = 1;
            }
            pc = -1;
            if (interrupted && o->jobs <= 1) break;
        }
        if (interrupted) break;
    }
    while (nw > 0) {                    /* the last workers, or those an error or signal stops */
        int pc;
        int k = wait_worker(workers, nw, &pc), point = workers[k].point;
        workers[k] = workers[--nw];
        if (pc == POINT_ENDED) done++, diverged += point_diverged(exp_dir, ids[point]);
        else if (pc == POINT_INTERRUPTED) interrupted++;
        else if (pc == POINT_BUSY) busy++;
        else code = 1;
    }
    rt_buf selb = { 0 };
    lb_selection_args(o, &selb);
    const char *sel = selb.s;
    if (interrupted || (lb_stop && code == 0)) {
        fprintf(stderr, "\nvibrun: interrupted; %d point%s checkpointed. Continue with: vibrun %s%s --resume%s\n",
                interrupted, interrupted == 1 ? "" : "s", o->script, sel, o->nshards ? " --shard ..." : "");
        code = 1;
    }
    lb_manifest man = { 0 };
    if (o->check || o->nshards) {
        if (o->nshards && code == 0 && !o->quiet)
            printf("shard %d/%d: %d points done in %s; when every shard has finished: vibrun %s --merge%s\n",
                   o->shard, o->nshards, done, exp_dir, o->script, sel);
    } else if (exp_dir[0] && lb_manifest_read(exp_dir, &man) > 0) {
        /* results.csv, summary.csv and the figures cover every point of the directory (the manifest),
        ** not only those this run selected. */
        rt_err err = { 0 };
        if (lb_aggregate(exp_dir, man.ids, man.n, &err) != RT_OK) {
            report(err.msg);
            code = 1;
        }
        if (code == 0 && done > 0 && !o->quiet) {
            printf("results: %s/results.csv (%d point%s%s%s)\n", exp_dir, done, done == 1 ? "" : "s",
                   diverged ? ", some diverged" : "", busy ? ", some trained by another vibrun" : "");
            printf("summary: %s/summary.csv (mean, sd and 95%% interval over seeds)\n", exp_dir);
            printf("metrics: %s/<point>/metrics.csv\n", exp_dir);
        }
        lb_plot_run(pts->plots, pts->nplots, exp_dir, man.ids, man.titles, man.n, o->quiet);
    }
    lb_manifest_free(&man);
    rt_buf_free(&selb);
out:
    nn_dataset_free(&dc->train);
    nn_dataset_free(&dc->test);
    free(dc->key);
    free(dc);
    free(ids);
    free(titles);
    free(epochs);
    free(cost);
    free(shard);
    free(workers);
    return code;
}
