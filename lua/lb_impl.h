/*
** lb_impl.h: shared inside lua/ only, and free of Lua: what the runner, the run directory's files,
** Slurm and the figures work on. The Lua side (the sandboxed state, the script, the reading of
** resolved points) is declared in lb_lua.h; only lb_state.c, lb_script.c and lb_point.c include it
** or Lua's headers (tests/tools/lua_door.sh checks that).
**
** The rooms that never touch Lua (lb_run.c the runner, lb_manifest.c, lb_aggregate.c, lb_lock.c,
** lb_shard.c, lb_status.c, lb_slurm.c, lb_plot.c, lb_data.c, lb_cmd.c) stay in lua/'s library
** rather than a sibling one: they are the run directory's own files, used by the runner and the
** vibrun command and by nothing below them, and lua_door.sh keeps Lua out of them. What they had in
** common and is not about runs (growing text, whole-file reads, the CSV reader, mkdir -p, number
** formatting) went down to runtime/ (rt_text.h, rt_csv.h), where nn/ can use it too.
*/
#ifndef LB_IMPL_H
#define LB_IMPL_H

#include <stddef.h>
#include <stdio.h>

#include "lb.h"
#include "lb_attack.h"
#include "nn_data.h"
#include "nn_obj.h"
#include "nn_train.h"
#include "nn_weights.h"
#include "rt_text.h"

/* ---- the resolved points (filled by lb_point.c, the one reader of vib.lua's tables) ---- */

/* One param of a point: its name, its value as text (CSV, titles) and as a Lua literal (config.lua). */
typedef struct lb_param {
    char *key, *text, *lua;
} lb_param;

/* The options of one vib.plot.* entry (or a default figure). */
typedef struct lb_plot_opts {
    char kind[32];              /* training_curve | info_plane | ib_curve | error_vs | latent */
    char where[256];            /* "x.lua:12" for messages; "" for a default figure */
    char name[128], title[256];
    char formats[64];           /* "png svg" */
    double width, height;       /* inches; 0 = the figure's default */
    char layers[1024], estimators[256], splits[64];     /* filters: "" = all */
    bool per_layer, info;
    char axis[64], layer[64], estimator[64];
    int points, ellipses;
} lb_plot_opts;

/* The name a script writes for value `value` of choice `key` (lb_point.c's choices table), or
** NULL. nn/ writes some of these values into outputs under its own names (nn_est_name,
** nn_scale_name, nn_init_name); test_vibrun checks that the two agree. */
const char *lb_choice_name(const char *key, int value);

#define LB_MAX_LAYERS 1024
typedef struct lb_point {
    char name[128];                     /* experiment name */
    char id[17];                        /* hash of the resolved configuration */
    char *params_title;                 /* params as people read them (vib._title): messages, titles */
    lb_param *params;                   /* sorted by key */
    int nparams;
    char *script_lua;                   /* the script's real path as a Lua literal (vib._canon) */
    char *settings_lua;                 /* config.lua's settings table: every --set-able setting of
                                        ** vib_settings.lua, in its order, as Lua text */
    char *data_key;                     /* the data table as canonical text (vib._canon): equal keys, same data */
    char data_where[256];               /* "x.lua:LINE" of the data declaration */
    nn_data_spec data;
    char data_dir[1024], data_path[1024], data_test[1024], data_label[128], data_name[32];
    int data_shape[3], data_nshape;     /* the script's shape = { C, H, W } (0 entries: the data set's) */
    double *data_joint;                 /* vib.data.discrete's joint given as a table (data.joint points here) */
    nn_layer_spec *layers;              /* nlayers of them */
    int nlayers;
    nn_term_spec terms[NN_MAX_TERMS];
    int nterms;
    nn_expr_ins expr[NN_MAX_EXPR];      /* a composed objective (0 instructions: weighted sum) */
    int nexpr;
    nn_train_cfg train;
    nn_measure_cfg measure;             /* measure = { ... } (off when absent); its epochs on the heap */
    nn_load_spec load;                  /* init = vib.load { ... }: load.path NULL when the point draws its
                                        ** weights; the strings are the point's own */
    char load_sha256[65];               /* the file's SHA-256 when the point was resolved (in its id) */
    nn_weights *loaded;                 /* the file as read by lb_load_weights, for nn_model_init */
    lb_attack_block attack;             /* attack = { ... } (off when absent): run after training */
} lb_point;

/* Every point of a run in sweep order, and the figures the experiment declares. */
typedef struct lb_points {
    lb_point *p;
    int n;
    lb_plot_opts *plots;                /* vib.plot.* entries; none: the defaults the CSV allows */
    int nplots;
    char **warnings;                    /* the resolver's warnings (two points that train identically) */
    int nwarnings;
} lb_points;

void lb_points_free(lb_points *pts);
/* FNV-1a 64 of s as 16 hex digits. */
void lb_hash_hex(const char *s, char out[17]);

/* ---- lb_run.c: the runner ---- */
/* Lists, merges, checks or trains the points (by o's mode), then rebuilds the aggregates and
** draws the figures; returns the exit code. */
int lb_run_points(const lb_opts *o, lb_points *pts);
/* The model and objective of point p built on its data (loaded for this and freed again), checked as
** for training: what `vibrun export` names the checkpoint's values by. */
rt_status lb_point_model(const char *script, lb_point *p, nn_model *m, rt_err *err);

/* ---- lb_export.c: `vibrun export`, and vib.load's file for a point ---- */
/* Writes the weights of the one point in pts (a config.lua replayed) as opts asks; the exit code. */
int lb_export_point(const lb_export_opts *opts, lb_points *pts);
/* With vib.load: reads the file (its SHA-256 must still be the one in the point's id), checks it
** against the built model m (names, shapes; one line per mismatch) and sets m to load it in
** nn_model_init. RT_OK and nothing done without vib.load. */
rt_status lb_load_weights(lb_point *p, nn_model *m, rt_err *err);

/* ---- lb_manifest.c: which script owns a run directory, and its points ---- */
/* runs/<exp>/manifest names the script that owns the directory (its real path) and the points
** of the last run in sweep order; `vibrun status` and `vibrun plot` read it. */
typedef struct lb_manifest {
    char *script;                       /* "" when the manifest names none */
    char *args;                         /* the options that select its points (lb_selection_args) */
    int n;
    char (*ids)[17];
    char **titles;                      /* params as titles (vib._title; older manifests: canonical) */
    int *epochs;
} lb_manifest;
/* The real path of the script: what a run directory records as its owner. */
void lb_script_identity(const char *script, char *out, size_t size);
/* False, with a message, when exp_dir belongs to another script. */
bool lb_manifest_check(const char *exp_dir, const char *script, char *msg, size_t size);
rt_status lb_manifest_write(const char *exp_dir, const char *script, const char *args, char ids[][17],
                            const int *epochs, const char *const *titles, int n, rt_err *err);
/* -1 when there is no manifest. */
int lb_manifest_read(const char *exp_dir, lb_manifest *m);
void lb_manifest_free(lb_manifest *m);

/* ---- lb_aggregate.c: results.csv and summary.csv ---- */
/* Rebuilds results.csv and summary.csv from the points' result.csv, in the order of ids. */
rt_status lb_aggregate(const char *exp_dir, char ids[][17], int n, rt_err *err);
/* lb_aggregate over the manifest's points; 0 also when exp_dir has no manifest. */
int lb_merge_dir(const char *exp_dir);
/* What exp_dir/<id>/result.csv says: none (no file), done, or diverged (its status column). */
typedef enum lb_result { LB_RESULT_NONE, LB_RESULT_DONE, LB_RESULT_DIVERGED } lb_result;
lb_result lb_result_status(const char *exp_dir, const char *id);
/* The 0.975 quantile of Student's t with df degrees of freedom. */
double lb_t975(int df);

/* ---- lb_lock.c: per-point locks ---- */
/* Takes dir/lock for this process: the fd to keep open while training, or -1 when another live
** process holds it (*holder = its pid, -1 if unknown) or the file cannot be opened. */
int lb_lock_point(const char *dir, long *holder);
/* The pid holding dir/lock (-1 if unknown), or 0 when no live process holds it. */
long lb_lock_holder(const char *dir);

/* ---- lb_shard.c: sharing a sweep out ---- */
/* Balanced deterministic shards: shard[i] in [0, nshards) for each point of estimated cost[i]. */
void lb_shard_assign(const double *cost, int n, int nshards, int *shard);
/* CPUs this process may run on (its affinity mask: Slurm's allocation). */
int lb_cpu_count(void);

/* ---- lb_status.c ---- */
/* Prints done / running / interrupted / failed / diverged / pending points and an ETA. */
int lb_status(const char *exp_dir);
/* The live display of `--jobs N` on a terminal: one line per job slot, then the sweep's line. Each
** worker writes its slot (shared memory); the parent draws them. point 0: the slot is idle. */
typedef struct lb_job_line {
    int point, npoints;         /* 1-based, of the sweep */
    char params[96];            /* the params that vary across the sweep: "beta=0.001 seed=2" */
    int epoch, epochs;
    long long step, steps;
    double loss_bits, eta_s;
    char phase[32];             /* "" while stepping, else "evaluating", "measuring information" */
    char done[200];             /* the worker's last line ("[3/6] id: done, test error ..."), for the parent */
} lb_job_line;
/* Appends the lines of the nslots jobs and the sweep's line (finished of todo points, plus the
** running points' fractions; its ETA from elapsed_s) to out, each "\r\033[K...\n", after moving
** the cursor up over the prev lines drawn before (0 the first time), so the block redraws in place;
** returns the number of lines drawn. */
int lb_jobs_render(rt_buf *out, const lb_job_line *jobs, int nslots, int finished, int todo, double elapsed_s, int prev);

/* ---- lb_slurm.c: `vibrun slurm` and the commands vibrun suggests ---- */
/* Appends s as one shell word (single quotes, a quote inside as '\''). */
void lb_shell_quote(rt_buf *b, const char *s);
/* Appends the options that select a run's points again, each with a leading space: " --out DIR"
** unless DIR is the default "runs", then " --set k=v" for each --set, shell-quoted. */
void lb_selection_args(const lb_opts *o, rt_buf *b);
/* `vibrun slurm`: writes runs/<exp>/slurm/<exp>.sbatch, a job array of o->slurm_tasks tasks. */
int lb_slurm_write(const lb_opts *o, const char *exp_dir, const char *exp_name, int npoints);

/* ---- lb_report.c ---- */
/* The page's one inline script and base64(sha256) of it, which the page's CSP allows (tests check them). */
const char *lb_report_script(void);
const char *lb_report_script_hash(void);
/* The short table a run ends with, from summary.csv: per configuration (at most max rows) the params
** that vary, n, the test error (mean and 95% interval) and the rate (the objective's test_kl_bits,
** else its first term other than ce). Nothing when there is no summary.csv. */
void lb_report_table(const char *exp_dir, FILE *out, int max);

/* ---- lb_plot.c ---- */
/* Draws the figures of a finished run into <exp_dir>/plots/ (each with its .gp script): the
** training curve always, then the experiment's declared plots (nplots of them) or, without any,
** the defaults the CSV allows: an information plane per point with info.csv, the IB curve and error against the swept
** param from summary.csv, the 2-D latent per point with latent.csv. ids/titles: the n points (id,
** canonical params). Prints "figures: ..." lines (a drawn figure, or a skipped one and why) unless
** quiet. Returns 0, or -1 when gnuplot is missing or failed (the message is printed); a run's exit
** code does not depend on it. */
int lb_plot_run(const lb_plot_opts *plots, int nplots, const char *exp_dir, char ids[][17],
                const char *const *titles, int n, bool quiet);
/* The figure defaults of a kind (every filter off). */
void lb_plot_opts_default(lb_plot_opts *o, const char *kind);
/* Appends w to the space-separated list (size bytes) unless it is there already. */
void lb_words_add(char *list, size_t size, const char *w);

#endif
