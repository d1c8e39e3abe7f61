/*
** nn_ib_exact.h: exact information-bottleneck solutions for a discrete joint p(x, y) with small
** alphabets, the ground truth a learned IB model is compared with.
**
**   iterative IB (Tishby, Pereira & Bialek 1999): minimise I(X;T) - beta I(T;Y) over stochastic
**     encoders p(t|x) by the self-consistent equations
**       p(t|x) = p(t) exp(-beta KL(p(y|x) || p(y|t))) / Z(x, beta)
**       p(t) = sum_x p(x) p(t|x),   p(y|t) = sum_x p(y|x) p(t|x) p(x) / p(t)
**   deterministic IB (Strouse & Schwab 2017): minimise H(T) - beta I(T;Y) over maps t = f(x) by
**       f(x) = argmax_t [ ln p(t) - beta KL(p(y|x) || p(y|t)) ]
**     with p(t), p(y|t) those of the current f.
**
** Both are fixed-point iterations with local optima. At each beta the solver runs from the previous
** beta's solution (annealing, beta rising) and from `restarts` seeded random starts (and, for the
** deterministic IB, from f(x) = x), and keeps the start with the lowest Lagrangian; the curve is the
** kept points. Everything is in double; the information is reported in bits.
**
**     nn_ib_opts o = nn_ib_opts_default();             // iterative, 40 betas over [0.1, 1000]
**     nn_ib_point pts[40];  rt_err err = {0};
**     if (nn_ib_curve(pxy, nx, ny, &o, pts, &err) != RT_OK) puts(err.msg);
**     for (int i = 0; i < o.betas; i++) printf("%g %g %g\n", pts[i].beta, pts[i].ixt, pts[i].ity);
*/
#ifndef NN_IB_EXACT_H
#define NN_IB_EXACT_H

#include "rt_err.h"
#include "rt_rng.h"
#include "rt_text.h"

typedef enum nn_ib_method { NN_IB_ITERATIVE, NN_IB_DETERMINISTIC } nn_ib_method;

typedef struct nn_ib_opts {
    nn_ib_method method;
    int clusters;               /* |T|; 0 = |X| */
    double beta_min, beta_max;  /* the betas: `betas` log-spaced values, beta_min first */
    int betas;
    int restarts;               /* seeded random starts per beta, besides the annealed one (4) */
    int max_iter;               /* iterations per start (2000) */
    double tol;                 /* iterative IB: stop when no p(t|x) moves more than this (1e-12) */
    uint64_t seed;              /* the random starts: stream (seed, 0, RT_STREAM_INIT) */
} nn_ib_opts;

nn_ib_opts nn_ib_opts_default(void);

typedef struct nn_ib_point {
    double beta;
    double ixt, ity, ht;        /* I(X;T), I(T;Y), H(T), bits */
    double lagrangian;          /* I(X;T) - beta I(T;Y) (iterative) or H(T) - beta I(T;Y) (deterministic), bits */
    int clusters_used;          /* values of T with p(t) > 1e-12 */
    int iterations;             /* of the kept start */
} nn_ib_point;

/* p(x, y): (nx, ny) row-major, non-negative weights (normalised here; rows of weight 0 dropped).
** out: o->betas points. RT_ERR_ARG for a bad joint or bad options, with a message. */
rt_status nn_ib_curve(const double *pxy, int nx, int ny, const nn_ib_opts *o, nn_ib_point *out, rt_err *err);

/* One start at one beta: enc (nx, nt) = p(t|x) in (rows summing to 1; one-hot rows for the
** deterministic IB), the fixed point the iteration reaches out; *pt its point. The rows of
** weight 0 keep their encoder. */
rt_status nn_ib_solve(const double *pxy, int nx, int ny, int nt, double beta, const nn_ib_opts *o,
                      double *enc, nn_ib_point *pt, rt_err *err);

/* I(X;T), I(T;Y), H(T) in bits of any encoder enc (nx, nt) = p(t|x) (rows summing to 1) on the
** normalised joint p(x, y): how a learned model's encoder is put on the plane of the exact curve. */
void nn_ib_encoder_info(const double *pxy, int nx, int ny, const double *enc, int nt, double *ixt,
                        double *ity, double *ht);

/* RT_OK when pxy (nx, ny) is a joint nn_ib_curve accepts: at least 1 x 1, every entry finite and
** >= 0, not all 0; else RT_ERR_ARG and a message starting "<what>: " that names the entry. */
rt_status nn_ib_joint_check(const double *pxy, int nx, int ny, const char *what, rt_err *err);

/* A joint read from a CSV file: one row per x, one column per y, non-negative weights (a first line
** that is not all numbers is a header). *pxy (nx, ny) malloc'd, as given (nn_ib_curve normalises).
** Errors name the file and line, or the entry: "j.csv: p(x=2, y=1) = -0.1; probabilities must be
** finite and >= 0". `vibrun ib-curve --joint` and vib.data.discrete read their joint with it. */
rt_status nn_ib_joint_read(const char *path, double **pxy, int *nx, int *ny, rt_err *err);

/* The curve as CSV (beta,ixt_bits,ity_bits,ht_bits,lagrangian_bits,clusters_used,iterations), one
** row per point, appended to b. */
void nn_ib_curve_csv(rt_buf *b, const nn_ib_point *pts, int n);

/* I(X;Y) and H(X) of the joint in bits (weights normalised). */
double nn_ib_mi_xy(const double *pxy, int nx, int ny);
double nn_ib_h_x(const double *pxy, int nx, int ny);

#endif
