// lb_attack_cmd.c: `vibrun attack RUN_DIR`, a new attack on an old sweep: the experiment's attack
// block run on the points of a run directory that trained to the end, without training them.
//
// The run directory's manifest names the script that trained it and the options that selected its
// points. That script (or, with --script, an edited copy whose attack block changed) is resolved
// with the manifest's --set and then the user's own; every point it resolves must be one of the
// manifest's (the attack is not part of a point's id, so an edited attack block keeps the ids and
// anything else that changed makes other ids, which is refused). Each point's evaluation weights
// come from its checkpoint (lb_attack.c); its attack.csv keeps the rows of attacks the block does
// not compute, its result.csv gets the block's columns, and then results.csv, summary.csv, the
// figures and report.html are made again, as after a run.
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_impl.h"
#include "rt_blas.h"
#include "rt_ckpt.h"
#include "rt_csv.h"
#include "rt_text.h"

#define USAGE "usage: %s attack RUN_DIR [--script FILE] [--set KEY=VALUE ...] [--threads T] [--quiet]\n"

static int usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vibrun: attack: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n" USAGE, lb_cmd());
    return 2;
}

static int help(void) {
    printf(USAGE
           "  runs the attack block of the experiment in RUN_DIR (runs/<experiment>, or one point of it,\n"
           "  runs/<experiment>/<id>) on its points that trained to the end, without training them, on\n"
           "  the weights evaluation uses; then results.csv, summary.csv and the figures again.\n"
           "  --script FILE   take the attack block from FILE (the run's script edited): its points must\n"
           "                  be the run's, so only its attack block may differ (default: the run's script)\n"
           "  --set KEY=VALUE attack only the points with this value (after the run's own --set)\n"
           "  --threads T     threads for the GEMMs (default: $OPENBLAS_NUM_THREADS, else the CPUs)\n"
           "  --quiet         no progress output\n"
           "  attack.csv keeps the rows of attacks the block does not run; a stopped attack goes on from\n"
           "  its last finished batch when run again (docs/robustness.md)\n",
           lb_cmd());
    return 0;
}

/* The words of s as a shell reads what lb_selection_args wrote (single quotes, backslashes), into
** words (each malloc'd); returns how many (at most max). */
static int shell_words(const char *s, char **words, int max) {
    int n = 0;
    while (*s && n < max) {
        s += strspn(s, " \t\n");
        if (!*s) break;
        rt_buf w = { 0 };
        rt_buf_printf(&w, "%s", "");
        while (*s && !strchr(" \t\n", *s)) {
            if (*s == '\'') {
                const char *end = strchr(s + 1, '\'');
                size_t len = end ? (size_t)(end - s - 1) : strlen(s + 1);
                rt_buf_put(&w, s + 1, len);
                s += len + 1 + (end != NULL);
            } else if (*s == '\\' && s[1]) {
                rt_buf_put(&w, s + 1, 1);
                s += 2;
            } else {
                rt_buf_put(&w, s++, 1);
            }
        }
        words[n++] = w.s;
    }
    return n;
}

/* Appends a as one shell word (quoted only when it needs it). */
static void put_word(rt_buf *b, const char *a) {
    rt_buf_printf(b, " ");
    if (a[0] && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+-,:@%=") == strlen(a))
        rt_buf_printf(b, "%s", a);
    else
        lb_shell_quote(b, a);
}

int lb_attack_cmd(int argc, char **argv) {
    static const struct option opts[] = {
        { "set", required_argument, NULL, 's' },     { "script", required_argument, NULL, 'S' },
        { "threads", required_argument, NULL, 't' }, { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
    };
    const char *arg_dir = NULL, *script = NULL, *user_sets[LB_MAX_SETS];
    int nuser = 0, threads = 0;
    bool quiet = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "-:h", opts, NULL)) != -1) {
        switch (c) {
        case 1:
            if (strchr(optarg, '=') && access(optarg, F_OK) != 0)
                return usage("%s: a bare KEY=VALUE is not an option; write --set %s", optarg, optarg);
            if (arg_dir) return usage("more than one run directory given (%s and %s)", arg_dir, optarg);
            arg_dir = optarg;
            break;
        case 's':
            if (!strchr(optarg, '=') || optarg[0] == '=')
                return usage("--set %s: expected KEY=VALUE, e.g. --set beta=0.001", optarg);
            if (nuser == LB_MAX_SETS) return usage("more than %d --set options", LB_MAX_SETS);
            user_sets[nuser++] = optarg;
            break;
        case 'S':
            if (!optarg[0]) return usage("--script is empty; give the script file, e.g. --script experiments/x.lua");
            script = optarg;
            break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 1 || v > 1 << 20) return usage("--threads %s: expected a count >= 1", optarg);
            threads = (int)v;
            break;
        }
        case 'q': quiet = true; break;
        case 'h': return help();
        case ':': return usage("%s needs a value, e.g. %s VALUE", argv[optind - 1], argv[optind - 1]);
        default: return usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (!arg_dir) return usage("no run directory given, e.g. %s attack runs/robust_fashion", lb_cmd());

    /* RUN_DIR, or a point of it (RUN_DIR/<id>, or its config.lua): that point alone. */
    char dir[4096], only[17] = "", path[4200];
    snprintf(dir, sizeof dir, "%s", arg_dir);
    size_t dl = strlen(dir);
    if (dl >= 10 && strcmp(dir + dl - 10, "config.lua") == 0 && (dl == 10 || dir[dl - 11] == '/'))
        dir[dl > 10 ? dl - 11 : 0] = '\0', dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dir[--dl] = '\0';
    snprintf(path, sizeof path, "%s/manifest", dl ? dir : ".");
    if (access(path, F_OK) != 0) {
        snprintf(path, sizeof path, "%s/config.lua", dl ? dir : ".");
        char *slash = strrchr(dir, '/');
        const char *id = slash ? slash + 1 : dir;
        if (access(path, F_OK) == 0 && strlen(id) == 12) {
            snprintf(only, sizeof only, "%s", id);
            if (slash && slash != dir) *slash = '\0';
            else snprintf(dir, sizeof dir, "%s", slash ? "/" : ".");
        }
    }
    lb_manifest man;
    if (lb_manifest_read(dir, &man) < 0) {
        fprintf(stderr, "vibrun: attack: %s: no manifest there, so no run directory; give the directory a run made "
                "(runs/<experiment>) or one of its points (runs/<experiment>/<id>)\n", arg_dir);
        return 1;
    }
    int code = 1;
    char *words[2 * LB_MAX_SETS + 8];
    int nwords = shell_words(man.args, words, 2 * LB_MAX_SETS + 8);
    lb_opts o;
    memset(&o, 0, sizeof o);
    for (int i = 0; i + 1 < nwords; i++) {
        if (strcmp(words[i], "--out") == 0) i++;
        else if (strcmp(words[i], "--set") == 0 && o.nsets < LB_MAX_SETS) o.sets[o.nsets++] = words[++i];
    }
    if (man.n == 0) {
        fprintf(stderr, "vibrun: attack: %s/manifest lists no points; nothing to attack\n", dir);
        goto out;
    }
    if (!script && !man.script[0]) {
        fprintf(stderr, "vibrun: attack: %s/manifest names no script; give the run's script with --script FILE\n", dir);
        goto out;
    }
    const char *use = script ? script : man.script;
    if (access(use, R_OK) != 0) {
        if (script) fprintf(stderr, "vibrun: attack: --script %s: cannot read it (%s)\n", script, strerror(errno));
        else fprintf(stderr, "vibrun: attack: %s: the run's script %s cannot be read (%s); give it with --script FILE "
                     "(its points must be the run's)\n", dir, use, strerror(errno));
        goto out;
    }
    if (o.nsets + nuser > LB_MAX_SETS) {
        code = usage("the run's %d --set and yours are more than %d", o.nsets, LB_MAX_SETS);
        goto out;
    }
    o.config_sets = o.nsets;                /* a bad --set of the user's is bad usage; the run's are not */
    for (int i = 0; i < nuser; i++) o.sets[o.nsets++] = user_sets[i];
    rt_buf again = { 0 };
    rt_buf_printf(&again, "%s attack", lb_cmd());
    for (int i = 1; i < argc; i++) put_word(&again, argv[i]);
    lb_attack_opts a = { .run_dir = dir, .only = only[0] ? only : NULL, .script = use, .run_script = man.script,
                         .run_args = man.args, .again = rt_buf_str(&again), .threads = threads };
    o.script = use;
    o.out = "runs";
    o.jobs = 1;
    o.quiet = quiet;
    o.threads = threads;
    o.attack_opts = &a;
    code = lb_run(&o);
    rt_buf_free(&again);
out:
    for (int i = 0; i < nwords; i++) free(words[i]);
    lb_manifest_free(&man);
    return code;
}

// ---- the points ----

/* The point's checkpoint is its own and of its last epoch. */
static rt_status checkpoint_final(const char *dir, const lb_point *p, rt_err *err) {
    char path[1300];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    rt_ckpt *ck = rt_ckpt_load(path, err);
    if (!ck) return err->status;
    size_t n = 0;
    const char *id = rt_ckpt_data(ck, "point", &n);
    int32_t cursor[2] = { 0, 0 };
    rt_status st = rt_ckpt_get(ck, "cursor", cursor, sizeof cursor, err);
    if (!st && id && (n != strlen(p->id) || memcmp(id, p->id, n) != 0))
        st = rt_err_set(err, RT_ERR_FORMAT, "%s is a checkpoint of point %.*s, not of point %s (copied from another "
                        "point?); train the point again", path, (int)(n < 64 ? n : 64), id, p->id);
    if (!st && cursor[0] < p->train.epochs)
        st = rt_err_set(err, RT_ERR_FORMAT, "%s is of epoch %d of the point's %d: not the weights it finished with; "
                        "train the point again", path, cursor[0], p->train.epochs);
    rt_ckpt_free(ck);
    return st;
}

/* dir/result.csv with the block's columns: a column it has already takes the new value in place,
** a new one goes at the end (the columns of attacks the block did not run stay). */
static rt_status result_update(const char *dir, const lb_attack_cols *cols, rt_err *err) {
    char path[1300];
    snprintf(path, sizeof path, "%s/result.csv", dir);
    rt_csv_table t;
    if (!rt_csv_read(path, &t) || t.nrow != 1) {
        if (t.text) rt_csv_table_free(&t);
        return rt_err_set(err, RT_ERR_FORMAT, "%s: not one row under a header, as the point wrote it; train the "
                          "point again", path);
    }
    int n = t.ncol + cols->n;
    const char **name = rt_xcalloc((size_t)n, sizeof *name), **value = rt_xcalloc((size_t)n, sizeof *value);
    for (int c = 0; c < t.ncol; c++) {
        name[c] = rt_csv_at(&t, -1, c);
        value[c] = rt_csv_at(&t, 0, c);
    }
    n = t.ncol;
    for (int k = 0; k < cols->n; k++) {
        int c = 0;
        while (c < n && strcmp(name[c], cols->name[k]) != 0) c++;
        if (c == n) name[n++] = cols->name[k];
        value[c] = cols->value[k];
    }
    rt_buf head = { 0 }, row = { 0 };
    for (int c = 0; c < n; c++) {
        if (c) {
            rt_buf_put(&head, ",", 1);
            rt_buf_put(&row, ",", 1);
        }
        rt_csv_field(&head, name[c]);
        rt_csv_field(&row, value[c]);
    }
    rt_buf_printf(&head, "\n%s\n", rt_buf_str(&row));
    rt_status st = rt_write_atomic(path, head.s, head.n, err);
    rt_buf_free(&head);
    rt_buf_free(&row);
    free(name);
    free(value);
    rt_csv_table_free(&t);
    return st;
}

enum { ATTACKED, SKIPPED, NOT_ATTACKED, STOPPED };

/* Point p (the k-th of n attacked) in a->run_dir: ATTACKED, SKIPPED (diverged) or NOT_ATTACKED
** (the message printed), or STOPPED by a signal. */
static int attack_one(const lb_attack_opts *a, lb_point *p, int k, int n, bool quiet) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", a->run_dir, p->id);
    lb_result res = lb_result_status(a->run_dir, p->id);
    if (res != LB_RESULT_DONE) {
        char partial[1300];
        snprintf(partial, sizeof partial, "%s/attack.partial", dir);
        rt_buf cmd = { 0 };
        lb_shell_quote(&cmd, a->run_script);
        if (res == LB_RESULT_DIVERGED)
            fprintf(stderr, "vibrun: attack: [%d/%d] %s %s: diverged in training; not attacked (an attack runs on the "
                    "weights of a point trained to the end)\n", k, n, p->id, p->params_title);
        else
            fprintf(stderr, "vibrun: attack: [%d/%d] %s %s: %s; run the point first: %s %s%s --resume\n", k, n, p->id,
                    p->params_title, access(partial, F_OK) == 0 ? "its attack was stopped while it trained, before its "
                    "result.csv (--resume goes on from the attack's last finished batch)" : "not trained to the end yet "
                    "(no result.csv)", lb_cmd(), rt_buf_str(&cmd), a->run_args);
        rt_buf_free(&cmd);
        return res == LB_RESULT_DIVERGED ? SKIPPED : NOT_ATTACKED;
    }
    long holder;
    int lock = lb_lock_point(dir, &holder);
    if (lock < 0) {
        fprintf(stderr, "vibrun: attack: [%d/%d] %s: %s; not attacked\n", k, n, p->id,
                holder ? "being trained or attacked by another vibrun" : "its lock file cannot be opened");
        return NOT_ATTACKED;
    }
    rt_err err = { 0 };
    nn_model m;
    if (lb_point_model(a->script, p, &m, &err) != RT_OK) {
        fprintf(stderr, "vibrun: attack: [%d/%d] %s: %s\n", k, n, p->id, err.msg);
        close(lock);
        return NOT_ATTACKED;
    }
    lb_attack_cols cols;
    rt_status st = checkpoint_final(dir, p, &err);
    if (!st) {
        if (!quiet) fprintf(stderr, "[%d/%d] %s %s: attacking\n", k, n, p->id, p->params_title);
        st = lb_attack_point_again(&p->attack, &m, &p->data, p->train.seed, p->train.point, p->train.eval_samples, dir,
                                   &lb_stop, &cols, &err);
    }
    nn_model_free(&m);
    if (!st) st = result_update(dir, &cols, &err);
    close(lock);
    if (st) fprintf(stderr, "vibrun: attack: [%d/%d] %s: %s\n", k, n, p->id, err.msg);
    else if (!quiet && cols.kept)
        fprintf(stderr, "[%d/%d] %s: %d of its %d batches were kept from an attack stopped before\n", k, n, p->id,
                cols.kept, cols.batches);
    return st == RT_ERR_INTERRUPT ? STOPPED : st ? NOT_ATTACKED : ATTACKED;
}

/* The manifest's index of id, or -1. */
static int find_id(const lb_manifest *man, const char *id) {
    for (int i = 0; i < man->n; i++)
        if (strcmp(man->ids[i], id) == 0) return i;
    return -1;
}

/* Which resolved point is each of the manifest's (at[i], -1: none); 0, or 1 with the message printed
** when the script resolves a point the run does not have, or (without a narrowing --set) does not
** resolve one it has, or the point asked for is not the run's. */
static int match_points(const lb_opts *o, const lb_points *pts, const lb_manifest *man, int *at) {
    const lb_attack_opts *a = o->attack_opts;
    for (int i = 0; i < man->n; i++) at[i] = -1;
    for (int j = 0; j < pts->n; j++) {
        int i = find_id(man, pts->p[j].id);
        if (i < 0) {
            fprintf(stderr, "vibrun: attack: %s resolves to point %s %s, which %s does not have: what it trains differs "
                    "from the run's (the model, objective, data, optimizer or a setting changed, or a --set selects "
                    "values the run did not train). Only the attack block may differ from the script that trained "
                    "the run; nothing was attacked\n", a->script, pts->p[j].id, pts->p[j].params_title, a->run_dir);
            return 1;
        }
        at[i] = j;
    }
    if (a->only) {
        int i = find_id(man, a->only);
        if (i < 0 || at[i] < 0) {
            fprintf(stderr, "vibrun: attack: %s/%s is %s; nothing was attacked\n", a->run_dir, a->only,
                    i < 0 ? "not one of the points its manifest lists" : "not among the points the script and --set resolve to");
            return 1;
        }
        return 0;
    }
    if (o->nsets > o->config_sets) return 0;        /* the user's --set narrows the run's points */
    for (int i = 0; i < man->n; i++)
        if (at[i] < 0) {
            fprintf(stderr, "vibrun: attack: %s no longer resolves to the run's point %s %s (what it trains changed, or "
                    "the run's points were selected otherwise); only the attack block may differ from the script that "
                    "trained the run; nothing was attacked\n", a->script, man->ids[i], man->titles[i]);
            return 1;
        }
    return 0;
}

int lb_attack_points(const lb_opts *o, lb_points *pts) {
    const lb_attack_opts *a = o->attack_opts;
    lb_manifest man;
    if (lb_manifest_read(a->run_dir, &man) < 0) {
        fprintf(stderr, "vibrun: attack: %s/manifest: cannot be read\n", a->run_dir);
        return 1;
    }
    /* The points to attack: those selected that have an attack block (one given as a function of the
    ** params may leave some points out, as in a run); none with one is an error. */
    int *at = rt_xcalloc((size_t)man.n + 1, sizeof *at), code = match_points(o, pts, &man, at), todo = 0, first = -1;
    for (int i = 0; i < man.n && !code; i++) {
        bool selected = at[i] >= 0 && (!a->only || strcmp(man.ids[i], a->only) == 0);
        if (selected && first < 0) first = at[i];
        if (!selected || !pts->p[at[i]].attack.on) at[i] = -1;
        else todo++;
    }
    if (!code && first < 0) {
        fprintf(stderr, "vibrun: attack: %s resolves to none of the points of %s; nothing to attack\n", a->script,
                a->run_dir);
        code = 1;
    } else if (!code && !todo) {
        const lb_point *p = &pts->p[first];
        fprintf(stderr, "vibrun: attack: %s declares no attack block for point %s %s: add attack = { n = ..., "
                "vib.attack.fgsm { eps = ... }, ... } to the experiment (docs/robustness.md), or give a script that "
                "has one with --script FILE\n", a->script, p->id, p->params_title);
        code = 1;
    }
    if (a->threads) rt_blas_set_threads(a->threads);
    int k = 0, attacked = 0, failed = 0;
    bool stopped = false;
    for (int i = 0; i < man.n && !code && !stopped; i++) {
        if (at[i] < 0) continue;
        int r = attack_one(a, &pts->p[at[i]], ++k, todo, o->quiet);
        attacked += r == ATTACKED;
        failed += r == NOT_ATTACKED;
        stopped = r == STOPPED || lb_stop;
    }
    if (!code && attacked) {
        rt_err err = { 0 };
        if (lb_aggregate(a->run_dir, man.ids, man.n, &err) != RT_OK) {
            fprintf(stderr, "vibrun: %s\n", err.msg);
            code = 1;
        }
        lb_plot_run(pts->plots, pts->nplots, a->run_dir, man.ids, (const char *const *)man.titles, man.n, o->quiet);
        lb_report(a->run_dir, o->quiet, NULL, 0);
        if (!o->quiet)
            printf("attacked: %d of %d point%s; attack.csv in each point's directory\nresults: %s/results.csv\n"
                   "summary: %s/summary.csv\n", attacked, todo, todo == 1 ? "" : "s", a->run_dir, a->run_dir);
    }
    if (stopped)
        fprintf(stderr, "\nvibrun: attack: stopped; %d of %d points attacked, the finished batches of the point it "
                "stopped in are kept. Continue with: %s\n", attacked, todo, a->again);
    free(at);
    lb_manifest_free(&man);
    return code ? code : (failed || stopped) ? 1 : 0;
}
