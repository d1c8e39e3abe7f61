/*
** lb_attack.h: the attack block of a point (vib_attack.lua, read by lb_point.c) and its runner
** (lb_attack.c): after training, on the weights evaluation uses (the checkpoint's EMA when on), the
** first n examples of a split are attacked; <point>/attack.csv gets a row per attack and epsilon,
** attack_timing.csv their seconds, and result.csv one robust-accuracy column per row.
*/
#ifndef LB_ATTACK_H
#define LB_ATTACK_H

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
} lb_attack_cols;

/* Runs block b on model m (built for the point, its weights loaded here from dir/checkpoint) with
** data spec `data` (loaded again unscaled: the attack works on pixels), seed and point for the
** attack stream, S = eval_samples samples per prediction; writes dir/attack.csv and
** dir/attack_timing.csv and fills cols. */
rt_status lb_attack_point(const lb_attack_block *b, nn_model *m, const nn_data_spec *data, uint64_t seed,
                          uint64_t point, int eval_samples, const char *dir, lb_attack_cols *cols, rt_err *err);

/* ---- lb_plot_attack.c ---- */
/* Draws a figure: writes <exp_dir>/plots/<name>.gp (vars, style.gp, the template) and runs gnuplot;
** 0 on success (lb_plot.c's draw). */
typedef int (*lb_plot_draw_fn)(const char *exp_dir, const char *name, const char *template, const char *vars);
/* The attack figures of a run: robust_vs_beta (summary.csv with beta and robust_acc_* columns; the
** rows of kind "det" as reference lines) and robust_vs_eps_<id> per point with an attack.csv; what
** the CSV does not hold is left out silently. Returns the number of figures that failed. */
int lb_plot_attack(const char *exp_dir, char ids[][17], int n, bool quiet, lb_plot_draw_fn draw);

#endif
