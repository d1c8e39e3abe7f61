/*
** lb_attack.h: the attack block of a point (vib_attack.lua, read by lb_point.c) and its runner
** (lb_attack.c): after training, on the weights evaluation uses (the checkpoint's EMA when on), the
** first n examples of a split are attacked; <point>/attack.csv gets a row per attack and epsilon,
** attack_timing.csv their seconds, and result.csv one robust-accuracy column per row. Images of
** bytes are attacked as pixels of [0, 1]; other data (CSV, tishby, discrete) in each feature's
** observed range mapped to [0, 1], so that an epsilon is a fraction of a feature's range. Each
** finished batch is kept in <point>/attack.partial/ until attack.csv is written: an attack killed
** or stopped goes on from its last finished batch, to the same bytes. `vibrun attack RUN_DIR`
** (lb_attack_cmd.c) runs a block again on the finished points of a run directory.
*/
#ifndef LB_ATTACK_H
#define LB_ATTACK_H

#include <signal.h>

#include "nn_attack.h"
#include "nn_obj.h"

#define LB_MAX_ATTACKS 16
#define LB_MAX_EPS 16

typedef struct lb_attack_spec {
    nn_attack_cfg cfg;                  /* eps set per row */
    char where[256];                    /* "x.lua:LINE" of its vib.attack.* */
    bool adaptive;                      /* vib.attack.auto: the adaptive protocol (APGD-CE, then APGD-DLR) */
    int eot, reevaluate;                /* auto: draws per gradient, predictions that must all be right */
    double eps[LB_MAX_EPS];             /* as the script wrote them (cfg.eps gets each as a float) */
    int neps;
} lb_attack_spec;

typedef struct lb_attack_block {
    bool on;
    char where[256];
    int n, batch;
    bool train_split;                   /* split = "train" (else "test") */
    lb_attack_spec a[LB_MAX_ATTACKS];
    int na;
} lb_attack_block;

/* One robust-accuracy column of result.csv per attack row. */
#define LB_ATTACK_MAX_ROWS (3 * LB_MAX_ATTACKS * LB_MAX_EPS)  /* auto: up to three rows per epsilon */
typedef struct lb_attack_cols {
    int n;
    char name[LB_ATTACK_MAX_ROWS][96];
    char value[LB_ATTACK_MAX_ROWS][32];
    int batches, kept;                  /* the block's batches, and those read back from attack.partial */
} lb_attack_cols;

/* Runs block b on model m (built for the point, its weights loaded here from dir/checkpoint) with
** data spec `data` (loaded again unscaled: the attack works on pixels, or on each feature's range),
** seed and point for the attack stream, S = eval_samples samples per prediction; writes
** dir/attack.csv and dir/attack_timing.csv and fills cols. The batches finished by an earlier call
** on the same block, weights and examples (dir/attack.partial/) are read back, not computed again;
** that folder goes once attack.csv is written. *stop set (by SIGINT or SIGTERM; stop may be NULL)
** stops it between batches with RT_ERR_INTERRUPT, the batches so far kept. */
rt_status lb_attack_point(const lb_attack_block *b, nn_model *m, const nn_data_spec *data, uint64_t seed,
                          uint64_t point, int eval_samples, const char *dir, volatile sig_atomic_t *stop,
                          lb_attack_cols *cols, rt_err *err);
/* As lb_attack_point, for `vibrun attack`: the rows of an existing attack.csv (and attack_timing.csv)
** that the block does not compute are kept; a row the block computes again (the same attack,
** protocol, norm, eps and targeted) is replaced in place, the block's new rows follow. cols holds
** the block's columns only. */
rt_status lb_attack_point_again(const lb_attack_block *b, nn_model *m, const nn_data_spec *data, uint64_t seed,
                                uint64_t point, int eval_samples, const char *dir, volatile sig_atomic_t *stop,
                                lb_attack_cols *cols, rt_err *err);

/* ---- lb_attack_cmd.c: `vibrun attack RUN_DIR` ---- */
/* What `vibrun attack` was given (lb_opts.attack_opts): the run directory and its manifest's points;
** lb_run resolves the script with the manifest's --set and then the user's, and hands the points to
** lb_attack_points. */
typedef struct lb_attack_opts {
    const char *run_dir;                /* runs/<experiment>, no trailing slash */
    const char *only;                   /* a point id (RUN_DIR/<id> given), or NULL for every point */
    const char *script;                 /* the script whose attack block runs (--script, else the manifest's) */
    const char *run_script;             /* the manifest's: the script that trained the points */
    const char *run_args;               /* the manifest's options that select its points */
    const char *again;                  /* the command as given, shell-quoted: how to continue after a stop */
    int threads;                        /* --threads; 0: automatic */
} lb_attack_opts;
struct lb_opts;
struct lb_points;
/* The points of pts (resolved from opts->attack_opts->script) attacked in the run directory: each
** must be one of its manifest's points, trained to the end; then results.csv, summary.csv, the
** figures and report.html again. Returns the exit code. */
int lb_attack_points(const struct lb_opts *o, struct lb_points *pts);

/* ---- lb_plot_attack.c ---- */
/* Draws a figure: writes <exp_dir>/plots/<name>.gp (vars, style.gp, the template) and runs gnuplot;
** 0 on success (lb_plot.c's draw). */
typedef int (*lb_plot_draw_fn)(const char *exp_dir, const char *name, const char *template, const char *vars);
/* The attack figures of a run: robust_vs_beta (summary.csv with beta and robust_acc_* columns; the
** rows of kind "det" as reference lines), cw_vs_beta (summary.csv's l2_median_cw_l2* columns and
** the points' attack.csv l2_mean of C&W), robust_vs_eps_<id> per point with an attack.csv and
** attack_strip_<id> per point with an attack_examples.csv; what the CSV does not hold is left out
** silently. Returns the number of figures that failed. */
int lb_plot_attack(const char *exp_dir, char ids[][17], int n, bool quiet, lb_plot_draw_fn draw);

/* The examples a strip figure shows: at most this many per attack row, the first examples of the
** split that the model classifies correctly (the attacked ones), the same in every row. */
#define LB_STRIP_EXAMPLES 8
/* Saves one attack row's examples into dir/attack_examples.csv for attack_strip_<id> (first: the
** block's first saved row, which starts the file afresh; each call rewrites the file atomically with
** its row added). x, xadv: the n examples (n, dim) in pixels of [0, 1] before and after the attack;
** y their labels; clean[i] the model was right on example i (it was attacked); broken[i] it is wrong
** after the attack. eps: nan for an attack without one (cw_l2). The file, one line per image:
**     attack,protocol,norm,eps,targeted,image,example,label,fooled,l0,l2,linf,channels,height,width,pixels
** image "original" (once per example, first, with attack, protocol, norm, eps, targeted, fooled and
** the distances empty) or "adversarial"; example: the index in the split; fooled: broken[i]; l0, l2,
** linf: of xadv - x; channels x height x width: 1 x s x s when dim = s^2, 3 x s x s when dim = 3 s^2
** (MNIST, Fashion-MNIST: 1 x 28 x 28; CIFAR-10: 3 x 32 x 32), else 1 x 1 x dim; pixels: the dim
** values as the data set holds them (channel-major for CIFAR-10), space-separated, each the
** shortest text that reads back as the same float. A write that fails is reported on stderr; the
** attack goes on (a run never fails because of a figure). */
void lb_attack_examples_save(const char *dir, bool first, const char *attack, bool adaptive, nn_attack_norm norm,
                             double eps, bool targeted, const float *x, const float *xadv, const int32_t *y,
                             const uint8_t *clean, const uint8_t *broken, int n, int dim);

#endif
