/*
** lb.h: the Lua 5.4 binding and the experiment runner; the only lua/ header other code sees.
**
** vibrun.c parses the command line into lb_opts and calls lb_run. lb_run (lb_script.c) creates a
** sandboxed Lua state (lb_state.c), runs the script, resolves its points (the DSL in vib.lua),
** reads each into C specs (lb_point.c, the door), closes the state, and trains the points through
** nn/ (lb_run.c), writing the run directory.
**
** Exit codes (DESIGN.md): 0 success, 1 script or runtime error, 2 bad usage (including a bad
** --set value); vibrun.c adds 130 and 143 for a run stopped by SIGINT and SIGTERM.
*/
#ifndef LB_H
#define LB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define LB_MAX_SETS 64

/* `vibrun export POINT_DIR [--format F] [--weights W] [-o FILE]` (lb_export.c). */
typedef struct lb_export_opts {
    const char *point_dir;
    const char *format;                 /* "safetensors" (default) or "npz" */
    const char *weights;                /* "ema", "raw", or NULL: what evaluation uses */
    const char *out;                    /* NULL: POINT_DIR/weights.<format> */
    const char *version;                /* vibrun's, for the file's metadata */
} lb_export_opts;

typedef struct lb_opts {
    const char *script;
    const char *sets[LB_MAX_SETS];      /* "key=value" */
    int nsets;
    const char *out;                    /* output root, default "runs" */
    const char *replay_config;          /* set when replaying a config.lua: its path */
    bool check;                         /* validate and print the model summary only */
    bool gradcheck;                     /* check the custom terms' gradients only */
    bool quiet;
    bool resume;
    bool traceback;
    bool keys;                          /* print the keys --set accepts, one per line */
    int config_sets;                    /* the first config_sets of sets come from a replayed config.lua */
    /* sweeps (lb_run.c, lb_shard.c) */
    bool list;                          /* print the points and their ids, train nothing */
    bool merge;                         /* rebuild results.csv and summary.csv, train nothing */
    int jobs;                           /* points trained in parallel processes (>= 1) */
    int threads;                        /* OpenBLAS threads per job; 0: automatic */
    int shard, nshards;                 /* train only shard `shard` (1-based) of nshards; 0: all */
    /* `vibrun slurm` (lb_slurm.c) */
    bool slurm, slurm_submit;
    int slurm_tasks, slurm_cpus;
    const char *slurm_partition, *slurm_time;
    /* `vibrun export`: the point's config.lua is replayed to its point, whose weights are written */
    const lb_export_opts *export_opts;
    /* `vibrun attack`: the script's points are attacked in a run directory, not trained (lb_attack.h) */
    const struct lb_attack_opts *attack_opts;
} lb_opts;

/* Runs an experiment script; returns the process exit code. Messages go to stderr. */
int lb_run(const lb_opts *o);
/* `vibrun status RUN_DIR`: the state of every point of a sweep and an ETA. */
int lb_status(const char *run_dir);
/* Rebuilds results.csv and summary.csv of a run directory from its per-point files. */
int lb_merge_dir(const char *run_dir);
/* Redraws the figures of a run directory from its CSV. */
int lb_plot(const char *run_dir);
/* `vibrun export` (argv after "export"); returns the exit code. */
int lb_export(int argc, char **argv, const char *version);
/* `vibrun attack RUN_DIR [--script FILE] [--set ...]` (argv[0] is "attack"; lb_attack_cmd.c): the
** experiment's attack block on the finished points of a run directory; returns the exit code. */
int lb_attack_cmd(int argc, char **argv);
/* Writes <run_dir>/report.html, the one-file offline report of a run directory (lb_report.c); its
** path into out_path when given. Prints "report: PATH" unless quiet. 0, or 1 with the message printed. */
int lb_report(const char *run_dir, bool quiet, char *out_path, size_t out_size);
/* The version and git commit of this build (vibrun.c passes vib_version.h's), for run.txt and the
** report; "?" until set. */
void lb_build_set(const char *version, const char *commit);
const char *lb_build_version(void);
const char *lb_build_commit(void);
/* `vibrun data list` and `vibrun data get NAME` (argv after "data"); returns the exit code. */
int lb_data(int argc, char **argv);
/* `vibrun mi ...` (argv[0] is "mi"; lb_mi.c); returns the exit code. */
int lb_mi(int argc, char **argv);
/* `vibrun ib-curve ...` (argv[0] is "ib-curve"; lb_mi.c); returns the exit code. */
int lb_ib_curve(int argc, char **argv);

/* The command as the user typed it: argv[0] as given, or its bare name when $PATH finds that same
** file; shell-quoted. Every command vibrun suggests starts with it. "vibrun" until lb_cmd_set. */
void lb_cmd_set(const char *argv0);
const char *lb_cmd(void);

/* Set by SIGINT/SIGTERM handlers: training stops after the current step and checkpoints. */
extern volatile sig_atomic_t lb_stop;

#endif
