/* lb_impl.h: shared inside lua/ only. */
#ifndef LB_IMPL_H
#define LB_IMPL_H

#include <lua.h>
#include <stddef.h>

#include "lb.h"
#include "nn_data.h"
#include "nn_obj.h"
#include "nn_train.h"

/* ---- lb_state.c ---- */
/* A sandboxed state: base, table, string, math, utf8; `require "vib"`; undefined globals are
** errors; math.random seeded with `seed`. NULL if the embedded DSL fails to load (a bug). */
lua_State *lb_state_new(unsigned long long seed);
/* Loads and runs `path` under a message handler; leaves its one result on the stack. On error
** returns false with the message on the stack. */
bool lb_dofile(lua_State *L, const char *path, bool traceback);
/* Calls vib.<fname> with nargs arguments already pushed (function below them is pushed here). */
bool lb_call_vib(lua_State *L, const char *fname, int nargs, int nres);

/* ---- lb_spec.c: resolved point (a Lua table on top of the stack) -> C specs ---- */
/* Pushes { choice = { name, ... }, ... }: the names of every choice (sigma, init, scale, ...). */
void lb_push_choices(lua_State *L);
#define LB_MAX_LAYERS 64
typedef struct lb_point {
    char name[128];                     /* experiment name */
    char id[17];                        /* hash of the resolved configuration */
    char params_title[2048];            /* params as people read them (vib._title): messages, titles */
    nn_data_spec data;
    char data_dir[1024], data_path[1024], data_test[1024], data_label[128], data_name[32];
    nn_layer_spec layers[LB_MAX_LAYERS];
    int nlayers;
    nn_term_spec terms[NN_MAX_TERMS];
    int nterms;
    nn_expr_ins expr[NN_MAX_EXPR];      /* a composed objective (0 instructions: weighted sum) */
    int nexpr;
    nn_train_cfg train;
    nn_measure_cfg measure;             /* measure = { ... } (off when absent) */
    int measure_epochs[NN_MEASURE_MAX_EPOCHS];
} lb_point;

/* Reads the point table at index idx; false with a message on failure ("x.lua:14: ..."). */
bool lb_point_read(lua_State *L, int idx, lb_point *p, char *msg, size_t msgsize);
/* FNV-1a 64 of s as 16 hex digits. */
void lb_hash_hex(const char *s, char out[17]);

/* ---- lb_sweep.c: the run directory of a sweep ---- */
/* runs/<exp>/manifest names the script that owns the directory (its real path) and the points
** of the last run in sweep order; `vibrun status` and `vibrun plot` read it. */
typedef struct lb_manifest {
    char script[4096];
    char args[4096];                    /* the options that select its points (lb_selection_args) */
    int n;
    char (*ids)[17];
    char (*titles)[256];                /* params as titles (vib._title; older manifests: canonical) */
    int *epochs;
} lb_manifest;
/* The real path of the script: what a run directory records as its owner. */
void lb_script_identity(const char *script, char *out, size_t size);
/* s as one shell word (single quotes, a quote inside as '\''). */
void lb_shell_quote(const char *s, char *out, size_t size);
/* The options that select a run's points again, each with a leading space: " --out DIR" unless
** DIR is the default "runs", then " --set k=v" for each --set, shell-quoted. */
void lb_selection_args(const lb_opts *o, char *out, size_t size);
/* False, with a message, when exp_dir belongs to another script. */
bool lb_manifest_check(const char *exp_dir, const char *script, char *msg, size_t size);
rt_status lb_manifest_write(const char *exp_dir, const char *script, const char *args, char ids[][17],
                            const int *epochs, char titles[][256], int n, rt_err *err);
/* -1 when there is no manifest. */
int lb_manifest_read(const char *exp_dir, lb_manifest *m);
void lb_manifest_free(lb_manifest *m);
/* Rebuilds results.csv and summary.csv from the points' result.csv, in the order of ids. */
rt_status lb_aggregate(const char *exp_dir, char ids[][17], int n, rt_err *err);
/* lb_aggregate over the manifest's points; 0 also when exp_dir has no manifest. */
int lb_merge_dir(const char *exp_dir);
/* Prints done / running / interrupted / failed / diverged / pending points and an ETA. */
int lb_status(const char *exp_dir);
/* Takes dir/lock for this process: the fd to keep open while training, or -1 when another live
** process holds it (*holder = its pid, -1 if unknown) or the file cannot be opened. */
int lb_lock_point(const char *dir, long *holder);
/* Balanced deterministic shards: shard[i] in [0, nshards) for each point of estimated cost[i]. */
void lb_shard_assign(const double *cost, int n, int nshards, int *shard);
/* CPUs this process may run on (its affinity mask: Slurm's allocation). */
int lb_cpu_count(void);
/* The 0.975 quantile of Student's t with df degrees of freedom. */
double lb_t975(int df);

/* ---- lb_slurm.c ---- */
/* `vibrun slurm`: writes runs/<exp>/slurm/<exp>.sbatch, a job array of o->slurm_tasks tasks. */
int lb_slurm_write(const lb_opts *o, const char *exp_dir, const char *exp_name, int npoints);

/* ---- lb_plot.c ---- */
/* Draws the figures of a finished run into <exp_dir>/plots/ (each with its .gp script): the
** training curve always, then the experiment's declared plots (plots_idx: the stack index of its
** `plots` list of vib.plot.* tables, 0 when it declares none) or, without any, the defaults the CSV
** allows: an information plane per point with info.csv, the IB curve and error against the swept
** param from summary.csv, the 2-D latent per point with latent.csv. ids/titles: the n points (id,
** canonical params). Prints "figures: ..." lines (a drawn figure, or a skipped one and why) unless
** quiet. Returns 0, or -1 when gnuplot is missing or failed (the message is printed); a run's exit
** code does not depend on it. */
int lb_plot_run(lua_State *L, int plots_idx, const char *exp_dir, char ids[][17], char titles[][256], int n,
                bool quiet);

#endif
