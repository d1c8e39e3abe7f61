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
#define LB_ATTACK_MAX_ROWS (2 * LB_MAX_ATTACKS * LB_MAX_EPS)  /* auto: two rows per epsilon */
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
