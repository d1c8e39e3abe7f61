// lb_run.c: runs an experiment script: resolves its points, trains each into its directory,
// rebuilds results.csv from the per-point results, and draws the figures.
#include <errno.h>
#include <lauxlib.h>
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

volatile sig_atomic_t lb_stop = 0;

// ---- small helpers ----

static int mkdir_p(const char *path) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The shortest %g form that reads back as the same double. */
static void fmt_num(double v, char *buf, size_t size) {
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* The Lua value at idx as text for CSV, titles and config.lua (strings unquoted). */
static void value_str(lua_State *L, int idx, char *buf, size_t size) {
    if (lua_isinteger(L, idx)) snprintf(buf, size, "%lld", (long long)lua_tointeger(L, idx));
    else if (lua_type(L, idx) == LUA_TNUMBER) fmt_num(lua_tonumber(L, idx), buf, size);
    else if (lua_type(L, idx) == LUA_TBOOLEAN) snprintf(buf, size, "%s", lua_toboolean(L, idx) ? "true" : "false");
    else snprintf(buf, size, "%s", lua_tostring(L, idx) ? lua_tostring(L, idx) : "");
}

/* The string keys of the table at the top of the stack, sorted, into keys[0..max); returns the count. */
static int sorted_keys(lua_State *L, char keys[][64], int max) {
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING && n < max) snprintf(keys[n++], 64, "%s", lua_tostring(L, -1));
    }
    qsort(keys, (size_t)n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
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
static rt_status write_config(lua_State *L, int point_idx, const lb_opts *o, const lb_point *p,
                              const char *dir, rt_err *err) {
    char buf[16384];
    size_t k = 0;
#define PUT(...) do { if (k < sizeof buf) k += (size_t)snprintf(buf + k, sizeof buf - k, __VA_ARGS__); } while (0)
    char cwd[PATH_MAX], script[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, ".");
    lb_script_identity(o->script, script, sizeof script);
    PUT("-- The resolved point %s of experiment '%s'. Replay it from %s with: vibrun %s/config.lua\n", p->id,
        p->name, cwd, dir);
    /* Strings are written as Lua literals (the DSL's canonical form, %q), so any text replays. */
    lua_pushstring(L, script);
    lb_call_vib(L, "_canon", 1, 1);
    PUT("local vib = require \"vib\"\n\nreturn vib.point {\n  script = %s,\n  params = {\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    lua_getfield(L, point_idx, "params");
    char keys[64][64], v[128];
    int n = sorted_keys(L, keys, 64);
    for (int i = 0; i < n; i++) {
        lua_getfield(L, -1, keys[i]);
        if (lua_type(L, -1) == LUA_TSTRING) {
            lb_call_vib(L, "_canon", 1, 1);
            PUT("    %s = %s,\n", keys[i], lua_tostring(L, -1));
        } else {
            value_str(L, -1, v, sizeof v);
            PUT("    %s = %s,\n", keys[i], v);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    PUT("  },\n  settings = { epochs = %d, batch = %d, eval_batch = %d, ema = %g, seed = %llu, "
        "train_eval_limit = %d, checkpoint_every = %d, eval_samples = %d, eval_passes = %d%s },\n}\n",
        p->train.epochs, p->train.batch, p->train.eval_batch, (double)p->train.ema,
        (unsigned long long)p->train.seed, p->train.train_eval_limit, p->train.checkpoint_every,
        p->train.eval_samples, p->train.eval_passes, p->train.point ? ", streams = \"independent\"" : "");
#undef PUT
    char path[1200];
    snprintf(path, sizeof path, "%s/config.lua", dir);
    return rt_write_atomic(path, buf, k < sizeof buf ? k : sizeof buf - 1, err);
}

/* result.csv: one row, the point's hyperparameters and final metrics (deterministic). */
static rt_status write_result(lua_State *L, int point_idx, const lb_point *p, const nn_result *r,
                              const char *dir, rt_err *err) {
    static char head[32768], row[32768];
    char v[128];
    size_t h = 0, w = 0;
#define COL(name, ...) do { \
        h += (size_t)snprintf(head + h, sizeof head - h, "%s%s", h ? "," : "", name); \
        w += (size_t)snprintf(row + w, sizeof row - w, w ? "," : ""); \
        w += (size_t)snprintf(row + w, sizeof row - w, __VA_ARGS__); } while (0)
    COL("point_id", "%s", p->id);
    lua_getfield(L, point_idx, "params");
    char keys[64][64];
    int n = sorted_keys(L, keys, 64);
    for (int i = 0; i < n; i++) {
        lua_getfield(L, -1, keys[i]);
        value_str(L, -1, v, sizeof v);
        lua_pop(L, 1);
        if (strcmp(keys[i], "seed") != 0) COL(keys[i], "%s", v);
    }
    lua_pop(L, 1);
    COL("seed", "%llu", (unsigned long long)p->train.seed);
    COL("status", "%s", r->status);
    COL("epochs", "%d", r->epochs_done);
    COL("diverged_epoch", "%d", r->diverged_epoch);
    fmt_num(r->train_loss_bits, v, sizeof v); COL("train_loss_bits", "%s", v);
    fmt_num(r->train_error, v, sizeof v); COL("train_error", "%s", v);
    fmt_num(r->test_loss_bits, v, sizeof v); COL("test_loss_bits", "%s", v);
    fmt_num(r->test_error, v, sizeof v); COL("test_error", "%s", v);
    fmt_num(r->test_error_det, v, sizeof v); COL("test_error_det", "%s", v);
    for (int t = 0; t < p->nterms; t++) {
        char name[64];
        snprintf(name, sizeof name, "test_%s_bits", p->terms[t].name);
        fmt_num(r->term_bits[t], v, sizeof v);
        COL(name, "%s", v);
    }
    /* The last measured epoch's information plane: <split>_<layer>_<estimator>_{ixz,izy}_bits. */
    for (int i = 0; i < r->ninfo; i++) {
        const nn_info_row *ir = &r->info[i];
        char name[160];
        const char *split = ir->split ? "test" : "train", *kind = nn_info_kind_name(ir->kind);
        snprintf(name, sizeof name, "%s_%s_%s_ixz_bits", split, ir->layer, kind);
        fmt_num(ir->ixz, v, sizeof v);
        COL(name, "%s", v);
        snprintf(name, sizeof name, "%s_%s_%s_izy_bits", split, ir->layer, kind);
        fmt_num(ir->izy, v, sizeof v);
        COL(name, "%s", v);
    }
#undef COL
    char buf[65600], path[1200];
    int len = snprintf(buf, sizeof buf, "%s\n%s\n", head, row);
    snprintf(path, sizeof path, "%s/result.csv", dir);
    return rt_write_atomic(path, buf, (size_t)len, err);
}

// ---- the experiment ----

static void report(const char *msg) { fprintf(stderr, "vibrun: %s\n", msg); }

/* A point's error: the message, which point it stopped, and where the error is kept. */
static void report_point(const progress_state *ps, const lb_point *p, const char *dir, const char *msg) {
    fprintf(stderr, "vibrun: %s\n[%d/%d] %s %s: failed (the error is in %s/failed; vibrun status lists "
            "every point)\n", msg, ps->point, ps->npoints, p->id, p->params_title, dir);
}

/* Parses "key=value" arguments into a Lua table on the stack; false on a malformed one. */
static bool push_sets(lua_State *L, const lb_opts *o) {
    lua_newtable(L);
    for (int i = 0; i < o->nsets; i++) {
        const char *eq = strchr(o->sets[i], '=');
        if (!eq || eq == o->sets[i]) {
            fprintf(stderr, "vibrun: --set %s: expected key=value, e.g. --set epochs=5\n", o->sets[i]);
            return false;
        }
        lua_pushlstring(L, o->sets[i], (size_t)(eq - o->sets[i]));
        lua_pushstring(L, eq + 1);
        lua_settable(L, -3);
    }
    return true;
}

typedef struct data_cache {
    char key[4096];
    nn_dataset train, test;
    bool loaded;
} data_cache;

static int run_points(lua_State *L, const lb_opts *o, int points_idx);


int lb_run(const lb_opts *o) {
    lua_State *L = lb_state_new(1);
    if (!L) return 1;
    int code = 1;
    if (!lb_dofile(L, o->script, o->traceback)) {
        report(lua_tostring(L, -1));
        goto out;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "vib.module");
    lua_getfield(L, -1, "kind");
    lua_pushvalue(L, -3);
    lua_call(L, 1, 1);
    const char *kind = lua_tostring(L, -1);
    char kindbuf[32];
    snprintf(kindbuf, sizeof kindbuf, "%s", kind ? kind : "");
    lua_pop(L, 2);
    lb_opts replay = *o;
    char script[1024];
    char setbuf[LB_MAX_SETS][256];
    if (strcmp(kindbuf, "point") == 0) {
        /* config.lua: run its script with its params and settings fixed. */
        lua_getfield(L, -1, "script");
        snprintf(script, sizeof script, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        if (access(script, R_OK) != 0) {
            fprintf(stderr, "vibrun: %s: its script %s cannot be read (%s); replay it from the directory "
                    "named in its first line, or correct script = ... in it\n", o->script, script, strerror(errno));
            goto out;
        }
        replay.script = script;
        /* With --set of the user's own the point is another on purpose: no "script changed" check. */
        replay.replay_config = o->nsets == 0 ? o->script : NULL;
        int n = 0;
        const char *tables[2] = { "params", "settings" };
        for (int t = 0; t < 2; t++) {
            lua_getfield(L, -1, tables[t]);
            if (lua_istable(L, -1)) {
                lua_pushnil(L);
                while (lua_next(L, -2) != 0 && n < LB_MAX_SETS) {
                    char v[200];
                    value_str(L, -1, v, sizeof v);
                    snprintf(setbuf[n], sizeof setbuf[n], "%s=%s", lua_tostring(L, -2), v);
                    replay.sets[n] = setbuf[n];
                    n++;
                    lua_pop(L, 1);
                }
            }
            lua_pop(L, 1);
        }
        for (int i = 0; i < o->nsets && n < LB_MAX_SETS; i++) replay.sets[n++] = o->sets[i];
        replay.nsets = n;
        lua_close(L);
        return lb_run(&replay);
    }
    if (strcmp(kindbuf, "experiment") != 0) {
        fprintf(stderr, "vibrun: %s: the script must return vib.experiment { ... } (it returned %s)\n",
                o->script, kindbuf[0] ? kindbuf : luaL_typename(L, -1));
        goto out;
    }
    if (!push_sets(L, o)) { code = 2; goto out; }
    if (!lb_call_vib(L, "_resolve", 2, 1)) {
        report(lua_tostring(L, -1));
        goto out;
    }
    /* The resolver's warnings (two points that train identically). */
    lua_getfield(L, -1, "warnings");
    for (lua_Integer i = 1; lua_istable(L, -1) && i <= luaL_len(L, -1); i++) {
        lua_geti(L, -1, i);
        fprintf(stderr, "vibrun: warning: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    code = run_points(L, o, lua_gettop(L));
out:
    lua_close(L);
    return code;
}

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
static int train_point(lua_State *L, int pi, const lb_opts *o, lb_point *p, const data_cache *dc,
                       const char *exp_dir, progress_state *ps) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/%s", exp_dir, p->id);
    if (mkdir_p(dir) != 0) {
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
    rt_status st = write_config(L, pi, o, p, dir, &err);
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
        if (write_result(L, pi, p, &r, dir, &err) != RT_OK) {
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

/* Loads the data set of point pi into the cache unless it holds it already. */
static bool load_data(lua_State *L, int pi, lb_point *p, data_cache *dc) {
    rt_err err = { 0 };
    lua_getfield(L, pi, "data");
    lb_call_vib(L, "_canon", 1, 1);
    const char *dkey = lua_tostring(L, -1);
    bool ok = true;
    if (!dc->loaded || strcmp(dc->key, dkey) != 0) {
        nn_dataset_free(&dc->train);
        nn_dataset_free(&dc->test);
        dc->loaded = false;
        snprintf(dc->key, sizeof dc->key, "%s", dkey);
        if (nn_data_open(&p->data, &dc->train, &dc->test, &err) != RT_OK) {
            lua_getfield(L, pi, "data");
            lua_getfield(L, -1, "where");
            fprintf(stderr, "vibrun: %s: %s\n", lua_tostring(L, -1), err.msg);
            lua_pop(L, 2);
            ok = false;
        } else {
            dc->loaded = true;
        }
    }
    lua_pop(L, 1);
    return ok;
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

static int run_points(lua_State *L, const lb_opts *o, int points_idx) {
    int npoints = (int)luaL_len(L, points_idx);
    char msg[2048];
    char (*ids)[17] = rt_xcalloc((size_t)npoints, sizeof *ids);
    char (*titles)[256] = rt_xcalloc((size_t)npoints, sizeof *titles);
    int *epochs = rt_xcalloc((size_t)npoints, sizeof *epochs);
    double *cost = rt_xcalloc((size_t)npoints, sizeof *cost);
    int *shard = rt_xcalloc((size_t)npoints, sizeof *shard);
    lb_point *p = rt_xmalloc(sizeof *p);
    data_cache *dc = rt_xcalloc(1, sizeof *dc);
    worker *workers = rt_xcalloc((size_t)(o->jobs > 1 ? o->jobs : 1), sizeof *workers);
    char exp_dir[1024] = "";
    int code = 0, done = 0, diverged = 0, interrupted = 0, busy = 0, nw = 0, mine = 0;
    /* Every point first: ids, titles and costs, without data or training. */
    for (int i = 0; i < npoints; i++) {
        lua_geti(L, points_idx, i + 1);
        bool ok = lb_point_read(L, lua_gettop(L), p, msg, sizeof msg);
        lua_pop(L, 1);
        if (!ok) {
            report(msg);
            code = 1;
            goto out;
        }
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
        char args[4096];
        lb_selection_args(o, args, sizeof args);
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
        if (mkdir_p(exp_dir) != 0) {
            fprintf(stderr, "vibrun: cannot create %s: %s\n", exp_dir, strerror(errno));
            code = 1;
            goto out;
        }
        if (lb_manifest_write(exp_dir, o->script, args, ids, epochs, titles, npoints, &err) != RT_OK) {
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
            lua_geti(L, points_idx, 1);         /* the figures of the merged sweep */
            lua_getfield(L, -1, "plots");
            lb_plot_run(L, lua_istable(L, -1) ? lua_gettop(L) : 0, exp_dir, man.ids, man.titles, man.n, o->quiet);
            lua_pop(L, 2);
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
        lua_geti(L, points_idx, i + 1);
        int pi = lua_gettop(L);
        if (!lb_point_read(L, pi, p, msg, sizeof msg)) RT_ABORT("point %d read once, not twice: %s", i + 1, msg);
        if (!load_data(L, pi, p, dc)) {
            code = 1;
            lua_pop(L, 1);
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
                lua_pop(L, 1);
                break;
            }
            char summary[8192];
            nn_model_summary(&m, summary, sizeof summary);
            printf("point %d/%d %s %s\ndata: %s (train %d x %d, test %d)\n%s\n", i + 1, npoints, p->id,
                   p->params_title, dc->train.source, dc->train.n, dc->train.dim, dc->test.n, summary);
            nn_model_free(&m);
            lua_pop(L, 1);
            continue;
        }
        char res_path[1200];
        snprintf(res_path, sizeof res_path, "%s/%s/result.csv", exp_dir, p->id);
        if (o->resume && file_exists(res_path)) {
            if (!o->quiet) fprintf(stderr, "[%d/%d] %s: finished before, skipped (--resume)\n", i + 1, npoints, p->id);
            lua_pop(L, 1);
            done++;
            continue;
        }
        int pc = -1;
        if (o->jobs <= 1) {
            pc = train_point(L, pi, o, p, dc, exp_dir, &ps);
        } else {
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) RT_ABORT("fork: %s", strerror(errno));
            if (pid == 0) {
                /* A worker: ends with its parent (SIGTERM: checkpoint and stop). */
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent) _exit(POINT_INTERRUPTED);
                if (threads) rt_blas_set_threads(threads);
                int c = train_point(L, pi, o, p, dc, exp_dir, &ps);
                fflush(NULL);
                _exit(c);
            }
            workers[nw++] = (worker){ pid, i };
        }
        lua_pop(L, 1);
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
    char sel[4096];
    lb_selection_args(o, sel, sizeof sel);
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
        lua_geti(L, points_idx, 1);             /* the figures: the declared plots ride on each point */
        lua_getfield(L, -1, "plots");
        lb_plot_run(L, lua_istable(L, -1) ? lua_gettop(L) : 0, exp_dir, man.ids, man.titles, man.n, o->quiet);
        lua_pop(L, 2);
    }
    lb_manifest_free(&man);
out:
    nn_dataset_free(&dc->train);
    nn_dataset_free(&dc->test);
    free(dc);
    free(p);
    free(ids);
    free(titles);
    free(epochs);
    free(cost);
    free(shard);
    free(workers);
    return code;
}
