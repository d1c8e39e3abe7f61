/*
** nn_mi_tasks.h: I(X;Y) between two continuous vectors from samples, the tasks with a closed-form
** I(X;Y) to check it on, and the numeric CSV they travel in: what `vibrun mi` runs.
**
** The tasks are those of the Beyond-Normal benchmark (Czyz et al., NeurIPS 2023) that need no
** other library, generated here, seeded, in C. A task is named by a string:
**
**   normal-dense-DX-DY          (X, Y) ~ N(0, S), S = 0.5 I + 0.5 11^T (every pair correlated 0.5)
**   normal-sparse-DX-DY         X_i and Y_i correlated 0.8 for i < 2, every other pair independent
**   student-dense-DX-DY-dfNU    (X, Y) = Z / sqrt(V / NU), Z ~ N(0, S) as normal-dense, V ~ chi2(NU)
**   student-sparse-DX-DY-dfNU   the same with the sparse S
**   student-identity-DX-DY-dfNU the same with S = I: uncorrelated, yet dependent through V
**   halfcube-TASK, asinh-TASK, cdf-TASK   TASK with every coordinate of X and Y sent through
**                               x |x|^(1/2), asinh x or the standard normal CDF: invertible maps
**                               of each variable, so I(X;Y) is TASK's
**
** 1 <= DX, DY <= 25, 1 <= NU <= 100 (an integer: V is a sum of NU squared normals). The truth, in
** nats: for the normal, I = 1/2 (ln det S_XX + ln det S_YY - ln det S) (Cholesky in double); for
** Student's t, that plus c(DX) + c(DY) - c(DX + DY) with, for dimension d,
** c(d) = ln G(NU/2) - ln G((NU+d)/2) + (NU+d)/2 (psi((NU+d)/2) - psi(NU/2)), the entropy of the
** multivariate t less its ln det and (NU pi)^(d/2) terms (which cancel).
**
** Estimators of I(X;Y) for continuous X (n, dx) and Y (n, dy), each variable first standardised
** column by column (an invertible affine map per column: I unchanged):
**   NN_MI_XY_KSG      nn_mi_ksg, k neighbours
**   NN_MI_XY_KDE      resubstitution kernel estimate H(X) + H(Y) - H(X,Y) of one Gaussian product
**                     kernel of variance kde_var (0: Scott's rule n^(-2/(dx+dy+4))), whose
**                     marginals are the marginal kernel estimates: nn_mi_kde_det's KL-mixture
**                     entropy is exactly -mean_i ln p^(x_i) up to a constant that cancels
**   NN_MI_XY_BINNING  plug-in I of each column cut into `bins` equal bins over its [min, max]
**   NN_MI_XY_ROSS     Y one column of integer class labels: nn_mi_ksg_labels (Ross 2014)
*/
#ifndef NN_MI_TASKS_H
#define NN_MI_TASKS_H

#include "nn_mi.h"

#define NN_MI_TASK_MAX_D 25
#define NN_MI_NATS_PER_BIT 0.69314718055994530942   /* ln 2 */
#define NN_MI_TASK_MAX_DF 100

typedef enum nn_mi_task_law { NN_MI_TASK_NORMAL, NN_MI_TASK_STUDENT } nn_mi_task_law;
typedef enum nn_mi_task_map {
    NN_MI_TASK_IDENTITY, NN_MI_TASK_HALFCUBE, NN_MI_TASK_ASINH, NN_MI_TASK_CDF
} nn_mi_task_map;

typedef struct nn_mi_task {
    char name[64];
    int dx, dy;
    nn_mi_task_law law;
    nn_mi_task_map map;
    int df;                                 /* Student's degrees of freedom; 0 for the normal */
    double cov[2 * NN_MI_TASK_MAX_D * 2 * NN_MI_TASK_MAX_D];    /* S, (dx+dy)^2 row-major */
    double mi_nats;                         /* the true I(X;Y) */
} nn_mi_task;

/* The grammar above, one line per form, for usage texts. */
extern const char nn_mi_task_grammar[];

/* Parses a task name and computes its truth. A bad name is an RT_ERR_ARG naming what is wrong. */
rt_status nn_mi_task_parse(const char *name, nn_mi_task *t, rt_err *err);

/* n rows of (X, Y), row-major (n, dx+dy), from the seeded stream (seed, 0, RT_STREAM_DATA). The
** same seed gives the same rows for a task and its transformed variants before the map. */
rt_status nn_mi_task_sample(const nn_mi_task *t, int n, uint64_t seed, float *xy, rt_err *err);

/* 1/2 (ln det S_XX + ln det S_YY - ln det S) in nats for a (dx+dy)^2 covariance; NAN when S or a
** block is not positive definite. */
double nn_mi_gauss_mi_nats(const double *cov, int dx, int dy);

/* c(dx) + c(dy) - c(dx + dy) above: what Student's t with df degrees of freedom adds to the
** normal's I. */
double nn_mi_student_extra_nats(int df, int dx, int dy);

// ---- I(X;Y) of two continuous vectors ----

typedef enum nn_mi_xy_kind { NN_MI_XY_KSG, NN_MI_XY_KDE, NN_MI_XY_BINNING, NN_MI_XY_ROSS,
                             NN_MI_XY_COUNT } nn_mi_xy_kind;

/* "ksg", "kde", "binning", "ross"; false for another name. */
bool nn_mi_xy_kind_parse(const char *s, nn_mi_xy_kind *out);
const char *nn_mi_xy_kind_name(nn_mi_xy_kind k);

typedef struct nn_mi_xy_opts {
    nn_mi_xy_kind kind;
    int k;                      /* ksg, ross: neighbours (3) */
    int bins;                   /* binning: bins per column (10) */
    double kde_var;             /* kde: kernel variance on standardised columns; 0 = Scott's rule */
} nn_mi_xy_opts;

nn_mi_xy_opts nn_mi_xy_opts_default(void);

/* xy: (n, dx+dy) row-major, X the first dx columns. The estimate in bits into *out (its seconds the
** wall time of the estimate). Errors: RT_ERR_ARG / RT_ERR_NUMERIC with a message. */
rt_status nn_mi_xy(const float *xy, int n, int dx, int dy, const nn_mi_xy_opts *o, nn_mi_value *out,
                   rt_err *err);

// ---- the numeric CSV ----

/* Reads path: one row per example of at least dx+dy numeric fields (the first dx are X, the next dy
** are Y; later ones are ignored), every row as many fields as the first. A first line that is not
** all numbers is a header and skipped; blank lines are skipped. *xy (malloc'd, (n, dx+dy)) and *n.
** Errors name the file and line: "data.csv:7: field 3 'abc' is not a number". */
rt_status nn_mi_csv_read(const char *path, int dx, int dy, float **xy, int *n, rt_err *err);
/* The same rules for a table of any width: *v (rows, cols), malloc'd (NULL with 0 rows); at least
** min_cols fields per row. */
rt_status nn_mi_csv_table(const char *path, int min_cols, float **v, int *rows, int *cols, rt_err *err);

#endif
