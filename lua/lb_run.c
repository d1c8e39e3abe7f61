// lb_run.c: the runner: given the resolved points (lb_points, C structs; lb_script.c made them),
// trains each into its directory, rebuilds results.csv from the per-point results, and draws the
// figures. Nothing here reads Lua.
#define _DEFAULT_SOURCE                 /* MAP_ANONYMOUS */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lb_impl.h"
#include "rt_arena.h"
#include "rt_blas.h"
#include "rt_conv_dnnl.h"
#include "rt_csv.h"
#include "rt_text.h"

volatile sig_atomic_t lb_stop = 0;

// ---- small helpers ----

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Whether --resume continues point dir from a checkpoint (else it trains the point afresh). */
static bool resumes(const lb_opts *o, const char *dir) {
    char path[1200];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    return o->resume && file_exists(path);
}

// ---- progress ----

typedef struct progress_state {
    bool tty, quiet;
    int point, npoints;
    double last;
    char label[256];
    /* the sweep on a terminal: the points this run trains, those finished, since when */
    int todo, finished;
    double t0;
    char params[256];                   /* the point's params that vary across the sweep: "beta=0.001 seed=2" */
    lb_job_line *slot;                  /* a worker of --jobs N on a terminal: its line, which the parent draws */
} progress_state;

static void fmt_eta(double s, char *buf, size_t size) {
    if (!(s >= 0.0) || s > 1e7) snprintf(buf, size, "--");
    else if (s >= 3600) snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

/* "{beta=0.001,kind=\"vib\",seed=2}" of point i as "beta=0.001 seed=2": the params whose value
** differs between the points (all of them for a single point), quotes dropped. */
static void varying_params(const char *const *titles, int n, int i, char *out, size_t size) {
    char t[1024];
    snprintf(t, sizeof t, "%s", titles[i]);
    size_t len = strlen(t), w = 0;
    if (len >= 2 && t[0] == '{' && t[len - 1] == '}') { t[len - 1] = '\0'; memmove(t, t + 1, len - 1); }
    out[0] = '\0';
    for (char *kv = strtok(t, ","); kv; kv = strtok(NULL, ",")) {
        bool varies = n == 1;
        char field[300];
        snprintf(field, sizeof field, "%s", kv);
        size_t fl = strlen(field);
        for (int j = 0; j < n && !varies; j++) {
            /* the same key=value in point j's title, as a whole field */
            const char *p = titles[j], *hit;
            bool same = false;
            while (!same && (hit = strstr(p, field))) {
                same = (hit[-1] == '{' || hit[-1] == ',') && (hit[fl] == ',' || hit[fl] == '}');
                p = hit + 1;
            }
            varies = !same;
        }
        if (!varies) continue;
        for (const char *c = field; *c && w + 2 < size; c++)
            if (*c != '"') out[w++] = *c;
        if (w + 2 < size) out[w++] = ' ';
        out[w] = '\0';
    }
    if (w && out[w - 1] == ' ') out[w - 1] = '\0';
}

static void on_progress(const nn_progress *p, void *user) {
    progress_state *s = user;
    if (s->quiet) return;
    if (s->slot) {
        lb_job_line *j = s->slot;
        j->epoch = p->epoch, j->epochs = p->epochs, j->step = p->step, j->steps = p->steps;
        j->loss_bits = p->loss_bits, j->eta_s = p->eta_s;
        snprintf(j->phase, sizeof j->phase, "%s", p->phase && !p->epoch_done ? p->phase : "");
        return;
    }
    char eta[32];
    fmt_eta(p->eta_s, eta, sizeof eta);
    if (s->tty) {
        double t = rt_now_s();
        if (!p->epoch_done && !p->phase && t - s->last < 0.1 && p->step != p->steps) return;
        s->last = t;
        /* the sweep: points finished plus this one's fraction, and its ETA from the time so far */
        double frac = ((double)(p->epoch - 1) + (double)p->step / (double)p->steps) / (p->epochs > 0 ? p->epochs : 1);
        double done = (s->finished + frac) / (s->todo > 0 ? s->todo : 1), el = t - s->t0;
        char sweep[64] = "", seta[32];
        if (s->todo > 1) {
            fmt_eta(done > 0 ? el * (1 - done) / done : -1, seta, sizeof seta);
            snprintf(sweep, sizeof sweep, " sweep %.0f%% ETA %s |", 100 * done, seta);
        }
        int width = 20, filled = (int)(width * (double)p->step / (double)p->steps);
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r\033[K[%d/%d]%s %s epoch %d/%d [%s] ", s->point, s->npoints, sweep, s->params, p->epoch,
                p->epochs, bar);
        if (p->phase) fprintf(stderr, "%s ...", p->phase);
        else fprintf(stderr, "step %lld/%lld  loss %.4f bits  %.0f samples/s  ETA %s", (long long)p->step,
                     (long long)p->steps, p->loss_bits, p->samples_per_s, eta);
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
    PUT("  },\n  settings = %s,\n}\n", p->settings_lua);
#undef PUT
    char path[1200];
    snprintf(path, sizeof path, "%s/config.lua", dir);
    rt_status st = rt_write_atomic(path, b.s, b.n, err);
    rt_buf_free(&b);
    return st;
}

/* UTC now as "2026-12-04 15:19:02 UTC". */
static void utc_now(char *out, size_t size) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* run.txt: the provenance of a point's training (the report shows it): the build, the host, the
** command and directory it ran from, the convolutions' backend (conv, for a model that has
** convolutions), when it started, resumed and ended; "key: value" lines, a log that grows (a
** resumed point adds "resumed:", a finished one "ended:"). Not a result: its bytes differ from run
** to run. */
static void run_txt(const lb_opts *o, const char *dir, const char *event, const char *conv) {
    char path[1200], now[64];
    snprintf(path, sizeof path, "%s/run.txt", dir);
    utc_now(now, sizeof now);
    bool fresh = strcmp(event, "started") == 0 && (!resumes(o, dir) || !file_exists(path));
    FILE *f = fopen(path, fresh ? "w" : "a");
    if (!f) return;
    if (fresh) {
        char host[256] = "", cwd[PATH_MAX];
        gethostname(host, sizeof host - 1);
        if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, "?");
        rt_buf cmd = { 0 };
        rt_buf_printf(&cmd, "%s ", lb_cmd());
        lb_shell_quote(&cmd, o->script);
        lb_selection_args(o, &cmd);
        fprintf(f, "vibrun: %s\ncommit: %s\nhost: %s\ndirectory: %s\ncommand: %s\n", lb_build_version(),
                lb_build_commit(), host, cwd, rt_buf_str(&cmd));
        if (conv) fprintf(f, "convolutions: %s\n", conv);
        fprintf(f, "started: %s\n", now);
        rt_buf_free(&cmd);
    } else {
        fprintf(f, "%s: %s\n", strcmp(event, "started") == 0 ? "resumed" : event, now);
    }
    fclose(f);
}

/* One column of result.csv: its name to the header, its value to the row (CSV-quoted as needed). */
static void add_column(rt_buf *head, rt_buf *row, const char *name, const char *value) {
    if (head->n) {
        rt_buf_put(head, ",", 1);
        rt_buf_put(row, ",", 1);
    }
    rt_csv_field(head, name);
    rt_csv_field(row, value);
}

/* result.csv: one row, the point's hyperparameters and final metrics (deterministic). */
static rt_status write_result(const lb_point *p, const nn_result *r, const lb_attack_cols *ac, const char *dir,
                              rt_err *err) {
    rt_buf head = { 0 }, row = { 0 };
    char v[128], cv[128];
#define COL(name, ...) do { snprintf(cv, sizeof cv, __VA_ARGS__); add_column(&head, &row, name, cv); } while (0)
    COL("point_id", "%s", p->id);
    for (int i = 0; i < p->nparams; i++)
        if (strcmp(p->params[i].key, "seed") != 0) add_column(&head, &row, p->params[i].key, p->params[i].text);
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
    for (int i = 0; ac && i < ac->n; i++) add_column(&head, &row, ac->name[i], ac->value[i]);
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
    fprintf(stderr, "vibrun: %s\n[%d/%d] %s %s: failed (the error is in %s/failed; %s status lists "
            "every point)\n", msg, ps->point, ps->npoints, p->id, p->params_title, dir, lb_cmd());
}

typedef struct data_cache {
    char *key;                          /* lb_point.data_key of the data held */
    nn_dataset train, test;
    bool loaded;
} data_cache;


// ---- one point ----

static bool has_conv(const nn_model *m) {
    for (int l = 0; l < m->n; l++)
        if (m->layers[l].spec.kind == NN_LAYER_CONV) return true;
    return false;
}

/* A point resumed on another convolution backend than the one it started on would go on with other
** float rounding: not the bytes of an uninterrupted run. run.txt's "convolutions:" line (from its
** first start) names the backend; a run.txt without one was written by a vibrun whose default was
** the lowering. False, with the message, when it is not this process's backend. */
static bool same_conv_backend(const char *dir, char *msg, size_t size) {
    char path[1200];
    snprintf(path, sizeof path, "%s/run.txt", dir);
    char *text = rt_read_file(path, NULL);
    if (!text) return true;
    const char *line = strstr(text, "\nconvolutions: ");
    const char *now = rt_conv_backend_name(rt_conv_get_backend()), *was = "lowering";
    size_t n = strlen(was);
    if (line) {
        was = line + strlen("\nconvolutions: ");
        n = strcspn(was, " \n");
    }
    bool same = n == strlen(now) && strncmp(was, now, n) == 0;
    if (!same)
        snprintf(msg, size, "%s: this point's convolutions ran on %.*s%s and this vibrun computes them on %s, which would "
                 "not continue its bytes: resume it with VIB_CONV=%.*s, or train it afresh without --resume", path, (int)n,
                 was, line ? "" : " (the default of the vibrun that started it: run.txt names no backend)", now, (int)n, was);
    free(text);
    return same;
}

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

/* The model and objective of point p on its data (loaded into dc), checked against each other and
** against the data: the one build step of --check and of training. On failure err holds the
** message and nothing is left to free. */
static rt_status point_build(lb_point *p, const data_cache *dc, nn_model *m, nn_obj *obj, rt_err *err) {
    /* One example's (C, H, W): the script's shape, else the data set's ({H, W} is one channel); a
    ** map when it has two or three entries, flat features when one. */
    const int *s = p->data_nshape ? p->data_shape : dc->train.shape;
    int ns = p->data_nshape ? p->data_nshape : dc->train.ndim;
    int shape[3] = { ns == 3 ? s[0] : ns == 2 ? 1 : ns == 1 ? s[0] : dc->train.dim, ns == 3 ? s[1] : ns == 2 ? s[0] : 1,
                     ns == 3 ? s[2] : ns == 2 ? s[1] : 1 };
    if ((int64_t)shape[0] * shape[1] * shape[2] != dc->train.dim)
        return rt_err_set(err, RT_ERR_ARG, "%s: shape = { %d, %d, %d } has %lld elements but the data have %d features "
                          "per example; give a shape whose product is %d", p->data_where, shape[0], shape[1], shape[2],
                          (long long)shape[0] * shape[1] * shape[2], dc->train.dim, dc->train.dim);
    rt_status st = nn_model_build_shape(m, p->layers, p->nlayers, shape, ns >= 2, err);
    if (st) return st;
    st = nn_obj_build(obj, p->terms, p->nterms, p->expr, p->nexpr, m, err);
    if (!st) st = nn_measure_check(&p->measure, m, obj, err);
    if (!st) st = nn_check_data(m, obj, &dc->train, &dc->test, err);
    if (!st) st = nn_train_check_memory(m, &p->train, rt_memory_budget(), err);
    if (!st) st = lb_load_weights(p, m, err);
    if (st) nn_model_free(m);
    return st;
}

/* A point on a discrete joint: the problem's exact IB curve beside its results, ib_exact.csv, which
** the IB-curve figure draws under the learned points. */
static rt_status write_ib_exact(const lb_point *p, const char *dir, rt_err *err) {
    rt_buf b = { 0 };
    char path[1200];
    snprintf(path, sizeof path, "%s/ib_exact.csv", dir);
    rt_status st = nn_data_ib_exact(&p->data, &b, err);
    if (!st) st = rt_write_atomic(path, b.s, b.n, err);
    rt_buf_free(&b);
    return st;
}

/* Trains point p (its data loaded) into exp_dir/<id> under the point's lock: writes
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
    if (point_build(p, dc, &m, &obj, &err) != RT_OK) {
        report_point(ps, p, dir, err.msg);
        mark_failed(dir, err.msg);
        close(lock);
        return POINT_ERROR;
    }
    const char *conv = has_conv(&m) ? rt_conv_backend_describe() : NULL;
    char msg[1600];
    if (conv && resumes(o, dir) && !same_conv_backend(dir, msg, sizeof msg)) {
        report_point(ps, p, dir, msg);
        mark_failed(dir, msg);
        nn_model_free(&m);
        close(lock);
        return POINT_ERROR;
    }
    rt_status st = write_config(p, dir, &err);
    run_txt(o, dir, "started", conv);
    snprintf(ps->label, sizeof ps->label, "%s", p->id);
    if (!ps->tty) snprintf(ps->label, sizeof ps->label, "%s %s", p->id, p->params_title);
    p->train.dir = dir;
    p->train.resume = o->resume;
    p->train.progress = on_progress;
    p->train.progress_user = ps;
    p->train.stop = &lb_stop;
    p->train.point_id = p->id;
    nn_result r;
    if (!st) st = nn_train(&m, &obj, &dc->train, &dc->test, &p->train, &r, &err);
    if (!st && strcmp(r.status, "done") == 0 && strcmp(p->data_name, "discrete") == 0)
        st = write_ib_exact(p, dir, &err);
    lb_attack_cols acols = { 0 };           /* the attack block, after a point that trained to the end */
    if (!st && p->attack.on && strcmp(r.status, "done") == 0)
        st = lb_attack_point(&p->attack, &m, &p->data, p->train.seed, p->train.point, p->train.eval_samples, dir,
                             &lb_stop, &acols, &err);
    nn_model_free(&m);
    if (st == RT_ERR_INTERRUPT) {           /* stopped during its attack: the finished batches are kept */
        code = POINT_INTERRUPTED;
        if (!o->quiet) fprintf(stderr, "\n[%d/%d] %s: %s\n", ps->point, ps->npoints, p->id, err.msg);
    } else if (st) {
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
                    "non-finite; %s (lower the learning rate, clip gradients, or check the data's scale); its CSV "
                    "is kept and the sweep goes on\n", p->terms[0].where, p->id, p->params_title, r.diverged_epoch,
                    r.diverged_at);
        if (r.warn[0]) fprintf(stderr, "vibrun: warning: %s\n", r.warn);
        if (write_result(p, &r, &acols, dir, &err) != RT_OK) {
            report_point(ps, p, dir, err.msg);
            mark_failed(dir, err.msg);
        } else {
            code = POINT_ENDED;
            run_txt(o, dir, "ended", NULL);
            if (ps->slot)               /* the parent prints it above the live display */
                snprintf(ps->slot->done, sizeof ps->slot->done, "[%d/%d] %s: %s, test error %.4f (%.1f s)",
                         ps->point, ps->npoints, ps->label, r.status, r.test_error, r.seconds);
            else if (!o->quiet && !ps->tty)
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

/* Whether no folder of the search holds the named data set of point p (mnist, fashion-mnist,
** cifar10, tishby; with resplit_test, the test files are enough). Looks, loads nothing. */
static bool data_missing(const lb_point *p) {
    static const char *const named[] = { "mnist", "fashion-mnist", "cifar10", "tishby" };
    const char *name = p->data.name ? p->data.name : "";
    bool known = false;
    for (int i = 0; i < 4; i++) known = known || strcmp(name, named[i]) == 0;
    if (!known) return false;
    char dirs[NN_DATA_MAX_SEARCH][NN_PATH_MAX];
    int nd = nn_data_search_dirs(name, p->data.dir, dirs);
    int need = p->data.resplit_test > 0.0f && strcmp(name, "tishby") != 0 ? 1 : 2;
    for (int d = 0; d < nd; d++)
        if (nn_data_dir_holds(name, dirs[d], NULL, 0) >= need) return false;
    return true;
}

/* Loads the data set of point p into the cache unless it holds it already. A data set found
** nowhere also gets the script's own way to point at a copy, when it has a data_dir param (the
** convention of the shipped experiments). */
static bool load_data(const char *script, const lb_point *p, data_cache *dc) {
    if (dc->loaded && strcmp(dc->key, p->data_key) == 0) return true;
    rt_err err = { 0 };
    nn_dataset_free(&dc->train);
    nn_dataset_free(&dc->test);
    dc->loaded = false;
    free(dc->key);
    dc->key = rt_xstrdup(p->data_key);
    if (nn_data_open(&p->data, &dc->train, &dc->test, &err) != RT_OK) {
        fprintf(stderr, "vibrun: %s: %s\n", p->data_where, err.msg);
        bool has_dir_param = false;
        for (int i = 0; i < p->nparams; i++) has_dir_param = has_dir_param || strcmp(p->params[i].key, "data_dir") == 0;
        if (has_dir_param && data_missing(p))
            fprintf(stderr, "vibrun: this script reads its data folder from the param data_dir: %s %s --set "
                    "data_dir=FOLDER\n", lb_cmd(), script);
        return false;
    }
    dc->loaded = true;
    return true;
}

rt_status lb_point_model(const char *script, lb_point *p, nn_model *m, rt_err *err) {
    data_cache dc = { 0 };
    nn_obj obj;
    rt_status st = load_data(script, p, &dc) ? point_build(p, &dc, m, &obj, err)
                                             : rt_err_set(err, RT_ERR_IO, "the point's data set could not be loaded");
    nn_dataset_free(&dc.train);
    nn_dataset_free(&dc.test);
    free(dc.key);
    return st;
}

/* Before anything is written in runs/: the first selected point whose data set is found nowhere
** gets its message (load_data's, which fails before reading anything); 1 then, else 0. */
static int check_data_present(const lb_opts *o, const lb_points *pts, int n, const int *shard) {
    for (int i = 0; i < n; i++) {
        if (o->nshards && shard[i] != o->shard - 1) continue;
        if (!data_missing(&pts->p[i])) continue;
        data_cache dc = { 0 };
        bool ok = load_data(o->script, &pts->p[i], &dc);
        nn_dataset_free(&dc.train);
        nn_dataset_free(&dc.test);
        free(dc.key);
        if (!ok) return 1;
    }
    return 0;
}

typedef struct worker {
    pid_t pid;
    int point, slot;            /* slot: its line in the live display */
} worker;

/* The live display of --jobs N on a terminal (lb_jobs_render): the workers' lines in shared memory. */
typedef struct live_view {
    lb_job_line *slots;
    int nslots, todo, lines;
    const int *finished;
    double t0, last;
} live_view;

static void live_draw(live_view *lv, bool now) {
    double t = rt_now_s();
    if (!lv || !lv->slots || (!now && t - lv->last < 0.25)) return;
    lv->last = t;
    rt_buf b = { 0 };
    lv->lines = lb_jobs_render(&b, lv->slots, lv->nslots, *lv->finished, lv->todo, t - lv->t0, lv->lines);
    fputs(rt_buf_str(&b), stderr);
    fflush(stderr);
    rt_buf_free(&b);
}

/* A worker of the live display has ended: its slot's last line goes above the display, which is
** drawn again below it, and the slot is idle. */
static void live_ended(live_view *lv, int slot) {
    if (!lv->slots) return;
    lb_job_line *j = &lv->slots[slot];
    if (j->done[0]) {
        if (lv->lines) fprintf(stderr, "\033[%dA\r\033[J", lv->lines);
        fprintf(stderr, "%s\n", j->done);
        lv->lines = 0;
    }
    j->point = 0, j->done[0] = '\0';
    live_draw(lv, true);
}

/* Whether the stop was passed on to the workers: once per run, so that a worker checkpointing
** after the first SIGTERM is not sent another. */
static bool forwarded = false;

/* A worker's SIGINT/SIGTERM: stop after the current step and checkpoint; a second one (Slurm sends
** the job's processes one, the parent passes its own on) changes nothing. */
static void worker_stop(int sig) {
    (void)sig;
    lb_stop = 1;
}

/* Waits for one worker to end (polling, so that a signal is noticed and passed on, and the live
** display lv, if any, redrawn); returns its index in w, with *code its POINT_* code. */
static int wait_worker(worker *w, int nw, int *code, live_view *lv) {
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
        live_draw(lv, false);
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

// ---- the run: what every mode knows ----

typedef struct run {
    const lb_opts *o;
    lb_points *pts;
    int n, mine;                        /* the points, and those of this shard (all without --shard) */
    char (*ids)[17];
    const char **titles;                /* the points' params_title */
    int *epochs;
    int *shard;                         /* each point's shard, 0-based (0 without --shard) */
    char exp_dir[1024];
} run;

/* Whether point i is this run's (its shard with --shard). */
static bool selected(const run *r, int i) { return !r->o->nshards || r->shard[i] == r->o->shard - 1; }

static void run_open(run *r, const lb_opts *o, lb_points *pts) {
    memset(r, 0, sizeof *r);
    r->o = o;
    r->pts = pts;
    r->n = pts->n;
    r->ids = rt_xcalloc((size_t)(r->n ? r->n : 1), sizeof *r->ids);
    r->titles = rt_xcalloc((size_t)(r->n ? r->n : 1), sizeof *r->titles);
    r->epochs = rt_xcalloc((size_t)(r->n ? r->n : 1), sizeof *r->epochs);
    r->shard = rt_xcalloc((size_t)(r->n ? r->n : 1), sizeof *r->shard);
    double *cost = rt_xcalloc((size_t)(r->n ? r->n : 1), sizeof *cost);
    for (int i = 0; i < r->n; i++) {
        const lb_point *p = &pts->p[i];
        memcpy(r->ids[i], p->id, sizeof r->ids[i]);
        r->titles[i] = p->params_title;
        r->epochs[i] = p->train.epochs;
        cost[i] = point_cost(p);
        if (!r->exp_dir[0]) snprintf(r->exp_dir, sizeof r->exp_dir, "%s/%s", o->out, p->name);
    }
    if (o->nshards) lb_shard_assign(cost, r->n, o->nshards, r->shard);
    free(cost);
    for (int i = 0; i < r->n; i++) r->mine += selected(r, i);
}

static void run_close(run *r) {
    free(r->ids);
    free(r->titles);
    free(r->epochs);
    free(r->shard);
}

/* <exp>/<id>/config.lua replayed: the script resolves its params to another point when it changed. */
static void warn_replay(const run *r) {
    const lb_opts *o = r->o;
    if (!o->replay_config || r->n != 1) return;
    char cfg[PATH_MAX], *slash;
    snprintf(cfg, sizeof cfg, "%s", o->replay_config);
    if ((slash = strrchr(cfg, '/'))) *slash = '\0';
    const char *want = (slash = strrchr(cfg, '/')) ? slash + 1 : cfg;
    if (strlen(want) == 12 && strcmp(want, r->ids[0]) != 0)
        fprintf(stderr, "vibrun: warning: %s was written for point %s, but %s now resolves its params to point "
                "%s (the script changed since?); training %s\n", o->replay_config, want, o->script, r->ids[0],
                r->ids[0]);
}

/* The selected points with a result.csv. */
static int count_finished(const run *r) {
    int finished = 0;
    for (int i = 0; i < r->n; i++) {
        char res[1400];
        snprintf(res, sizeof res, "%s/%s/result.csv", r->exp_dir, r->ids[i]);
        finished += selected(r, i) && lb_result_status(r->exp_dir, r->ids[i]) != LB_RESULT_NONE;
    }
    return finished;
}

/* The run directory for this run: not another script's, created, its manifest listing this run's
** points (lb_manifest_write keeps a manifest that lists them already). 0, or 1 with the message
** printed. */
static int claim_dir(const run *r) {
    char msg[2048];
    if (!lb_manifest_check(r->exp_dir, r->o->script, msg, sizeof msg)) {
        report(msg);
        return 1;
    }
    if (r->o->merge) {
        int finished = count_finished(r);
        if (finished == 0) {
            /* Merging these would list points that never ran in place of the directory's own. */
            fprintf(stderr, "vibrun: none of the %d points this command selects has finished in %s (other --set "
                    "values than its runs'? `%s status %s` shows the command that made them); nothing "
                    "changed\n", r->mine, r->exp_dir, lb_cmd(), r->exp_dir);
            return 1;
        }
        if (finished < r->mine && !r->o->quiet)
            fprintf(stderr, "vibrun: %d of the %d points this command selects have not finished in %s\n",
                    r->mine - finished, r->mine, r->exp_dir);
    }
    if (rt_mkdir_p(r->exp_dir, NULL, 0) != 0) {
        fprintf(stderr, "vibrun: cannot create %s: %s\n", r->exp_dir, strerror(errno));
        return 1;
    }
    rt_err err = { 0 };
    rt_buf args = { 0 };
    lb_selection_args(r->o, &args);
    rt_status st = lb_manifest_write(r->exp_dir, r->o->script, rt_buf_str(&args), r->ids, r->epochs, r->titles,
                                     r->n, &err);
    rt_buf_free(&args);
    if (st != RT_OK) {
        report(err.msg);
        return 1;
    }
    return 0;
}

/* results.csv and summary.csv over every point of the directory (man, its manifest), not only
** those this run selected. 0, or 1 with the message printed. */
static int aggregate(const run *r, const lb_manifest *man) {
    rt_err err = { 0 };
    if (lb_aggregate(r->exp_dir, man->ids, man->n, &err) == RT_OK) return 0;
    report(err.msg);
    return 1;
}

/* The figures of the directory's points (man), then its report.html. */
static void draw(const run *r, const lb_manifest *man) {
    lb_plot_run(r->pts->plots, r->pts->nplots, r->exp_dir, man->ids, (const char *const *)man->titles, man->n,
                r->o->quiet);
    if (!r->o->quiet) lb_report_table(r->exp_dir, stdout, 20);
    lb_report(r->exp_dir, r->o->quiet, NULL, 0);
}

// ---- the modes: --list, --merge, vibrun slurm, --check, training ----

static int run_list(const run *r) {
    const lb_opts *o = r->o;
    printf("# %d point%s of %s%s", r->n, r->n == 1 ? "" : "s", r->exp_dir, o->nshards ? "" : "\n");
    if (o->nshards) printf(", %d in shard %d/%d\n", r->mine, o->shard, o->nshards);
    for (int i = 0; i < r->n; i++)
        if (selected(r, i)) printf("%d %s %s\n", i + 1, r->ids[i], r->titles[i]);
    return 0;
}

static int run_merge(const run *r) {
    if (claim_dir(r)) return 1;
    /* The directory's points, as lb_manifest_write left them. */
    lb_manifest man;
    if (lb_manifest_read(r->exp_dir, &man) < 0) RT_ABORT("%s: manifest written, then not readable", r->exp_dir);
    int code = aggregate(r, &man);
    if (!code) {
        if (!r->o->quiet) printf("results: %s/results.csv\nsummary: %s/summary.csv\n", r->exp_dir, r->exp_dir);
        draw(r, &man);
    }
    lb_manifest_free(&man);
    return code;
}

static int run_slurm(const run *r) {
    if (claim_dir(r)) return 1;
    return lb_slurm_write(r->o, r->exp_dir, r->pts->p[0].name, r->n);
}

/* --check: every selected point built on its data (each data set loaded once), and each distinct
** model printed once with the points that share it. */
static int run_check(const run *r) {
    char **text = rt_xcalloc((size_t)(r->n ? r->n : 1), sizeof *text);  /* data line and summary */
    data_cache dc = { 0 };
    int code = 0;
    for (int i = 0; i < r->n && !code; i++) {
        if (!selected(r, i) || text[i]) continue;
        if (!load_data(r->o->script, &r->pts->p[i], &dc)) {
            code = 1;
            break;
        }
        for (int j = i; j < r->n && !code; j++) {
            lb_point *p = &r->pts->p[j];
            if (!selected(r, j) || text[j] || strcmp(p->data_key, dc.key) != 0) continue;
            rt_err err = { 0 };
            nn_model m;
            nn_obj obj;
            if (point_build(p, &dc, &m, &obj, &err) != RT_OK) {
                report(err.msg);
                code = 1;
                break;
            }
            size_t cap = 1u << 17;              /* LB_MAX_LAYERS lines */
            char *summary = rt_xmalloc(cap);
            nn_model_summary(&m, summary, cap);
            rt_buf b = { 0 };
            rt_buf_printf(&b, "data: %s (train %d x %d, test %d)\n%s", dc.train.source, dc.train.n,
                          dc.train.dim, dc.test.n, summary);
            if (m.nstate && p->train.ema > 0.0f)
                rt_buf_printf(&b, "evaluation: EMA weights (ema = %g) with the EMA of the running statistics, "
                              "averaged alongside\n", (double)p->train.ema);
            else if (m.nstate)
                rt_buf_printf(&b, "evaluation: batch norms normalize with their running statistics\n");
            nn_mem_need need = nn_train_memory(&m, &p->train);
            rt_buf_printf(&b, "memory: about %.1f MiB (parameters with gradients, optimizer state and EMA %.1f; a "
                          "training step at batch %d %.1f; an evaluation at eval_batch %d x eval_samples %d %.1f)\n",
                          need.total / 1048576.0, need.params / 1048576.0, p->train.batch, need.step / 1048576.0,
                          p->train.eval_batch, p->train.eval_samples, need.eval / 1048576.0);
            if (has_conv(&m))
                rt_buf_printf(&b, "convolutions: %s (VIB_CONV=lowering|dnnl)\n", rt_conv_backend_describe());
            rt_buf_printf(&b, "\n");
            free(summary);
            nn_model_free(&m);
            text[j] = b.s;
        }
    }
    int models = 0;
    for (int i = 0; i < r->n && !code; i++) {
        if (!text[i]) continue;
        bool first = true;
        for (int j = 0; j < i && first; j++) first = !text[j] || strcmp(text[j], text[i]) != 0;
        if (!first) continue;
        models++;
        for (int j = i; j < r->n; j++)
            if (text[j] && (j == i || strcmp(text[j], text[i]) == 0))
                printf("point %d/%d %s %s\n", j + 1, r->n, r->ids[j], r->pts->p[j].params_title);
        printf("%s", text[i]);
    }
    if (!code && models < r->mine)
        printf("%d points, %d distinct model%s\n", r->mine, models, models == 1 ? "" : "s");
    for (int i = 0; i < r->n; i++) free(text[i]);
    free(text);
    nn_dataset_free(&dc.train);
    nn_dataset_free(&dc.test);
    free(dc.key);
    return code;
}

/* --gradcheck: each custom term of every selected point, its gradient against finite differences in
** double on the first examples of the training split (nn_expr_gradcheck), at the point's initial
** parameters. 1 when a term's worst relative error exceeds GRADCHECK_TOL. */
#define GRADCHECK_TOL 1e-2
#define GRADCHECK_BATCH 8
static int run_gradcheck(const run *r) {
    data_cache dc = { 0 };
    int code = 0, terms = 0;
    for (int i = 0; i < r->n && code != 2; i++) {
        if (!selected(r, i)) continue;
        lb_point *p = &r->pts->p[i];
        if (!dc.key || strcmp(p->data_key, dc.key) != 0) {
            nn_dataset_free(&dc.train);
            nn_dataset_free(&dc.test);
            free(dc.key);
            memset(&dc, 0, sizeof dc);
            if (!load_data(r->o->script, p, &dc)) { code = 2; break; }
        }
        rt_err err = { 0 };
        nn_model m;
        nn_obj obj;
        if (point_build(p, &dc, &m, &obj, &err) != RT_OK) {
            report(err.msg);
            code = 2;
            break;
        }
        rt_rng init;
        rt_rng_stream(&init, p->train.seed, p->train.point, RT_STREAM_INIT);
        nn_model_init(&m, &init);
        int B = dc.train.n < GRADCHECK_BATCH ? dc.train.n : GRADCHECK_BATCH;
        int32_t idx[GRADCHECK_BATCH], y[GRADCHECK_BATCH];
        for (int k = 0; k < B; k++) idx[k] = k;
        float *x = rt_xmalloc((size_t)B * (size_t)dc.train.dim * sizeof *x);
        nn_data_gather(&dc.train, idx, B, x, y);
        printf("point %d/%d %s %s\n", i + 1, r->n, r->ids[i], p->params_title);
        for (int t = 0; t < obj.n; t++) {
            const nn_term_spec *ts = &obj.terms[t];
            if (ts->kind != NN_TERM_CUSTOM) continue;
            terms++;
            nn_xcheck ck;
            if (nn_expr_gradcheck(ts->graph, &m, x, y, B, 64, &ck, &err) != RT_OK) {
                fprintf(stderr, "vibrun: %s: term '%s': %s\n", ts->where, ts->name, err.msg);
                code = code ? code : 1;
                err = (rt_err){ 0 };
                continue;
            }
            bool bad = !(ck.worst <= GRADCHECK_TOL);
            const nn_xnode *v = ck.node >= 0 ? &ts->graph->nodes[ck.node] : NULL;
            printf("  term '%s': worst relative error %.3g over %d derivatives", ts->name, ck.worst, ck.checked);
            if (v) printf(" (at %s[%lld], %s)", v->name, (long long)ck.element, v->where);
            printf("%s\n", bad ? ": LARGE: the tape's gradient is not the derivative of the value (a stop_gradient, "
                   "a kink, or an op's backward)" : "");
            if (bad && !code) code = 1;
        }
        free(x);
        nn_model_free(&m);
    }
    if (!code && !terms) printf("no custom terms (vib.term.custom) to check\n");
    nn_dataset_free(&dc.train);
    nn_dataset_free(&dc.test);
    free(dc.key);
    return code == 2 ? 1 : code;
}

/* What training the selected points came to. */
typedef struct tally {
    int done, diverged, interrupted, busy;
} tally;

/* Counts a point's POINT_* code; 0, or 1 for an error. */
static int count_point(const run *r, int point, int pc, tally *t) {
    if (pc == POINT_ENDED) {
        t->done++;
        t->diverged += lb_result_status(r->exp_dir, r->ids[point]) == LB_RESULT_DIVERGED;
        return 0;
    }
    if (pc == POINT_INTERRUPTED) t->interrupted++;
    else if (pc == POINT_BUSY) t->busy++;
    else return 1;
    return 0;
}

/* Trains the selected points in sweep order, in this process or in o->jobs workers; returns the
** exit code so far. */
static int run_train(const run *r, tally *t) {
    const lb_opts *o = r->o;
    if (o->nshards && !r->mine && !o->quiet)
        fprintf(stderr, "vibrun: shard %d/%d has no points (the sweep has %d)\n", o->shard, o->nshards, r->n);
    /* Threads (rt_gemm and its pool): --threads, else OPENBLAS_NUM_THREADS, else the CPUs shared by the jobs. */
    int threads = o->threads;
    if (!threads && !getenv("OPENBLAS_NUM_THREADS") && o->jobs > 1) {
        threads = lb_cpu_count() / o->jobs;
        threads = threads > 0 ? threads : 1;
    }
    if (threads && o->jobs <= 1) rt_blas_set_threads(threads);
    data_cache dc = { 0 };
    worker *workers = rt_xcalloc((size_t)(o->jobs > 1 ? o->jobs : 1), sizeof *workers);
    int code = 0, nw = 0;
    pid_t parent = getpid();
    progress_state ps = { isatty(2) != 0 && o->jobs <= 1, o->quiet, 0, r->n, 0.0, "", 0, 0, rt_now_s(), "", NULL };
    for (int i = 0; i < r->n; i++)
        ps.todo += selected(r, i) && !(o->resume && lb_result_status(r->exp_dir, r->ids[i]) != LB_RESULT_NONE);
    /* --jobs N on a terminal: a line per job and the sweep's, redrawn in place by this process from
    ** what the workers write into shared memory; otherwise each worker prints plain lines. */
    live_view live = { NULL, o->jobs, ps.todo, 0, &ps.finished, ps.t0, 0.0 };
    if (o->jobs > 1 && !o->quiet && isatty(2)) {
        void *mem = mmap(NULL, (size_t)o->jobs * sizeof *live.slots, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (mem != MAP_FAILED) live.slots = memset(mem, 0, (size_t)o->jobs * sizeof *live.slots);
    }
    for (int i = 0; i < r->n && code == 0 && !lb_stop; i++) {
        if (!selected(r, i)) continue;
        lb_point *p = &r->pts->p[i];
        if (!load_data(o->script, p, &dc)) {
            code = 1;
            break;
        }
        ps.point = i + 1;
        varying_params(r->titles, r->n, i, ps.params, sizeof ps.params);
        char res_path[1200];
        snprintf(res_path, sizeof res_path, "%s/%s/result.csv", r->exp_dir, p->id);
        if (o->resume && lb_result_status(r->exp_dir, p->id) != LB_RESULT_NONE) {
            if (!o->quiet) fprintf(stderr, "[%d/%d] %s: finished before, skipped (--resume)\n", i + 1, r->n, p->id);
            t->done++;
            continue;
        }
        if (o->resume && file_exists(res_path))
            fprintf(stderr, "vibrun: %s is no result of point %s (empty or damaged); training the point again\n",
                    res_path, p->id);
        int pc = -1;
        if (o->jobs <= 1) {
            pc = train_point(o, p, &dc, r->exp_dir, &ps);
        } else {
            int slot = 0;               /* a line no running worker has */
            for (bool taken = true; taken; slot += taken) {
                taken = false;
                for (int k = 0; k < nw; k++) taken |= workers[k].slot == slot;
            }
            if (live.slots) {
                live.slots[slot] = (lb_job_line){ .point = i + 1, .npoints = r->n };
                snprintf(live.slots[slot].params, sizeof live.slots[slot].params, "%s", ps.params);
                ps.slot = &live.slots[slot];
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) RT_ABORT("fork: %s", strerror(errno));
            if (pid == 0) {
                /* A worker: ends with its parent (SIGTERM: checkpoint and stop). */
                /* sigaction: under strict C11, signal() is System V's, reset to the default by the
                ** first signal (so a second would kill the worker) */
                struct sigaction sa;
                memset(&sa, 0, sizeof sa);
                sa.sa_handler = worker_stop;
                sa.sa_flags = SA_RESTART;
                sigemptyset(&sa.sa_mask);
                sigaction(SIGINT, &sa, NULL);
                sigaction(SIGTERM, &sa, NULL);
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent) _exit(POINT_INTERRUPTED);
                if (threads) rt_blas_set_threads(threads);
                int c = train_point(o, p, &dc, r->exp_dir, &ps);
                fflush(NULL);
                _exit(c);
            }
            ps.slot = NULL;
            workers[nw++] = (worker){ pid, i, slot };
        }
        /* In-process, or when every job slot is busy: collect a finished point. */
        while (pc >= 0 || (o->jobs > 1 && nw == o->jobs)) {
            int point = i;
            if (pc < 0) {
                int k = wait_worker(workers, nw, &pc, &live), slot = workers[k].slot;
                point = workers[k].point;
                workers[k] = workers[--nw];
                ps.finished++;
                live_ended(&live, slot);
            } else {
                ps.finished++;
            }
            if (count_point(r, point, pc, t)) code = 1;
            else if (pc == POINT_ENDED && !o->nshards && lb_merge_dir(r->exp_dir) != 0) code = 1;   /* over the manifest's points */
            pc = -1;
            if (t->interrupted && o->jobs <= 1) break;
        }
        if (t->interrupted) break;
    }
    while (nw > 0) {                    /* the last workers, or those an error or signal stops */
        int pc;
        int k = wait_worker(workers, nw, &pc, &live), point = workers[k].point, slot = workers[k].slot;
        workers[k] = workers[--nw];
        ps.finished++;
        live_ended(&live, slot);
        if (count_point(r, point, pc, t)) code = 1;
    }
    if (live.slots) {
        live_draw(&live, true);
        munmap(live.slots, (size_t)o->jobs * sizeof *live.slots);
    }
    free(workers);
    nn_dataset_free(&dc.train);
    nn_dataset_free(&dc.test);
    free(dc.key);
    return code;
}

/* After training: what an interrupt left and how to go on, the shard's summary, or the aggregates
** and figures of the directory. Returns the exit code. */
static int run_finish(const run *r, int code, const tally *t) {
    const lb_opts *o = r->o;
    rt_buf sel = { 0 };
    lb_selection_args(o, &sel);
    if (t->interrupted || (lb_stop && code == 0)) {
        /* A stop can land after a point's last evaluation (while its result is written): it is done. */
        int finished = count_finished(r), left = r->mine - finished;
        if (left == 0)
            fprintf(stderr, "\nvibrun: interrupted after the last point had finished: all %d point%s done, "
                    "nothing to resume\n", r->mine, r->mine == 1 ? " is" : "s are");
        else
            fprintf(stderr, "\nvibrun: interrupted; %d of %d point%s done, %d checkpointed. Continue with: "
                    "%s %s%s --resume%s\n", finished, r->mine, r->mine == 1 ? "" : "s", t->interrupted,
                    lb_cmd(), o->script, rt_buf_str(&sel), o->nshards ? " --shard ..." : "");
        code = 1;
    }
    if (o->nshards) {
        if (code == 0 && !o->quiet)
            printf("shard %d/%d: %d points done in %s; when every shard has finished: %s %s --merge%s\n",
                   o->shard, o->nshards, t->done, r->exp_dir, lb_cmd(), o->script, rt_buf_str(&sel));
    } else {
        lb_manifest man = { 0 };
        if (r->exp_dir[0] && lb_manifest_read(r->exp_dir, &man) > 0) {
            if (aggregate(r, &man)) code = 1;
            if (code == 0 && t->done > 0 && !o->quiet) {
                printf("results: %s/results.csv (%d point%s%s%s)\n", r->exp_dir, t->done, t->done == 1 ? "" : "s",
                       t->diverged ? ", some diverged" : "", t->busy ? ", some trained by another vibrun" : "");
                printf("summary: %s/summary.csv (mean, sd and 95%% interval over seeds)\n", r->exp_dir);
                printf("metrics: %s/<point>/metrics.csv\n", r->exp_dir);
            }
            draw(r, &man);
        }
        lb_manifest_free(&man);
    }
    rt_buf_free(&sel);
    return code;
}

int lb_run_points(const lb_opts *o, lb_points *pts) {
    if (o->export_opts) return lb_export_point(o->export_opts, pts);
    if (o->attack_opts) return lb_attack_points(o, pts);
    run r;
    run_open(&r, o, pts);
    int code;
    warn_replay(&r);
    if (o->list) code = run_list(&r);
    else if (o->check) code = run_check(&r);
    else if (o->gradcheck) code = run_gradcheck(&r);
    else if (o->slurm) code = run_slurm(&r);
    else if (o->merge) code = run_merge(&r);
    else {
        tally t = { 0 };
        code = check_data_present(o, pts, r.n, r.shard);
        if (!code) code = claim_dir(&r);
        if (!code) code = run_finish(&r, run_train(&r, &t), &t);
    }
    run_close(&r);
    return code;
}
