/*
** nn_obj.h: an objective is a function of named terms; by default their weighted sum.
**
** Each term gives one value per example (per sample row, when a stochastic layer samples), in
** nats inside and reported in bits; batch statistics (log-variance surrogates) give one value per
** batch. The loss the optimizer sees is sum_i weight_i(epoch) * h_i(mean(term_i)) (h the identity
** unless the term has one: vib.obj.vib / nlib { h = "square" | "exp" }), or, when the script
** composed an expression (`ce + beta * kl^2`), that expression of the terms' means. Every term is
** logged on its own, so a CSV shows the cross-entropy, the rate, each layer's relevance and
** compression side by side with the total.
**
** The terms (papers.md has the derivations):
**   ce          -log q(y | output) per sample row (decoder cross-entropy H_theta[Y|Z]); with
**               `average` it is -log of q averaged over the particles drawn after a layer
**               (IMB's VCR_l), or over all particles ("input": the prediction cross-entropy
**               H_theta[Y|X], the SNN likelihood)
**   kl          the rate of a gauss layer, KL(p(z|x) || r(z)): r = N(0, I) in closed form, or
**               single-sample Monte Carlo (mc), or r a learned mixture of Gaussians (MC; in
**               evaluation at the mean, eval_samples = 0, one sample per example from the
**               evaluation's noise stream, not the closed form against N(0, I)); of a bern
**               layer: KL to a learned factorized Bernoulli prior (IMB's VC_l)
**   logvar      Gaussian upper bound on H[Z] (or H[Z|Y], per_class) from the batch variances:
**               sum_j 1/2 log(2 pi e Var[z_j]) (Kirsch et al.'s surrogate; batch variances
**               divide by the batch's n, not n - 1); on a noise layer
**               z = f + N(0, s^2 I) it uses Var[f] + s^2 (no sample needed, valid in evaluation)
**   l2          the looser bound pi e |z|^2 - d/2 per example ("L2 activation") on H[Z]; on a
**               noise layer E|z|^2 = |f|^2 + d s^2. per_class: H[Z|Y] <= sum_c p(c) (pi e tr
**               Cov[Z|Y=c] - d/2) from the batch's class variances (one value per batch; the
**               uncentred per-class form would equal the H[Z] bound)
**   ceb         residual information of variational CEB: log e(z|x) - log b(z|y), b(z|y) =
**               N(A onehot(y), I) with A learned (Fischer 2020)
**   kde         pairwise-KDE upper bound on I(X;Z) for Z = f(X) + N(0, s^2 I) over the batch
**               (Kolchinsky et al.'s nonlinear IB): -log 1/N sum_j exp(-|f_i - f_j|^2 / 2s^2);
**               at most log N: in training N is the training batch, in metrics.csv the
**               evaluation batch (eval_batch), so the logged kde_bits is capped near
**               log2(eval_batch), not log2(batch)
**   confidence  -H(softmax(output)): the confidence penalty (Pereyra et al.) with weight beta
**   recon       -log p(x | output): the decoder likelihood of beta-VAE (bernoulli, which needs
**               inputs in [0, 1]: nn_obj_check_inputs; or gaussian)
**   custom      an expression the script wrote over the model's values (nn_expr.h), one value
**               per row or per batch; with rate, the variational estimator reads it as I(X;Z)
** A term names the layer it reads ("z"); nn_obj_build resolves names against the model and reports
** an unknown one, or a layer of the wrong kind, at the script line that declared the term.
*/
#ifndef NN_OBJ_H
#define NN_OBJ_H

#include "nn_expr.h"
#include "nn_model.h"

#define NN_MAX_TERMS 16
#define NN_MAX_EXPR 64

typedef enum nn_term_kind {
    NN_TERM_CE = 0, NN_TERM_KL, NN_TERM_LOGVAR, NN_TERM_L2, NN_TERM_CEB, NN_TERM_KDE,
    NN_TERM_CONFIDENCE, NN_TERM_RECON, NN_TERM_CUSTOM,
    NN_TERM_COUNT
} nn_term_kind;

/* A convex function of a term's batch mean, inside its weight: weight(epoch) * h(mean) (the convex
** IB Lagrangians, Kolchinsky et al.: beta * I^2, beta * exp(I)). The mean is in nats, so with
** h = square beta is per nat^2. */
typedef enum nn_term_h { NN_H_LINEAR = 0, NN_H_SQUARE, NN_H_EXP } nn_term_h;

/* How a term's weight moves with training (beta schedules). */
typedef enum nn_wsched {
    NN_WSCHED_CONST = 0,
    NN_WSCHED_LINEAR,           /* weight * min(1, e / epochs): linear warm-up from 0 */
    NN_WSCHED_LOG,              /* from * (weight/from)^min(1, e/epochs): log-annealed */
} nn_wsched;

typedef struct nn_term_spec {
    nn_term_kind kind;
    char name[32];              /* column name in the CSV: "<name>_bits" */
    float weight;
    char layer[64];             /* the layer the term reads; "" = the model output */
    char where[256];            /* "script.lua:LINE" */
    float smoothing;            /* ce: label smoothing in [0, 1) */
    char average[64];           /* ce: "" none; "input" all particles; a layer: those after it */
    bool mc;                    /* kl (gauss): single-sample Monte Carlo instead of closed form */
    int components;             /* kl (gauss): > 0: learned mixture-of-Gaussians prior (MC) */
    bool per_class;             /* logvar, l2: H[Z|Y] (class-conditional variances) instead of H[Z] */
    float var;                  /* kde: kernel variance s^2 (0: the noise layer's) */
    bool gaussian;              /* recon: Gaussian likelihood (unit variance) instead of Bernoulli */
    nn_wsched sched;            /* scales the weight, outside h: log anneals from `from` to weight */
    float sched_epochs, sched_from;
    nn_term_h h;                /* the loss reads weight(epoch) * h(mean of the term) */
    nn_xgraph *graph;           /* custom: the expression (owned by the caller; nn_obj_build resolves
                                ** it in place); layer names the layer whose rate it is, if one */
} nn_term_spec;

const char *nn_term_kind_name(nn_term_kind k);
bool nn_term_kind_parse(const char *s, nn_term_kind *k);
nn_term_spec nn_term_spec_default(nn_term_kind k);

/* An objective composed in the script: a postfix program over the terms' means. */
typedef enum nn_expr_op {
    NN_EXPR_TERM, NN_EXPR_CONST, NN_EXPR_ADD, NN_EXPR_SUB, NN_EXPR_MUL, NN_EXPR_DIV, NN_EXPR_NEG,
    NN_EXPR_LOG, NN_EXPR_EXP, NN_EXPR_SQRT, NN_EXPR_SQUARE, NN_EXPR_COUNT
} nn_expr_op;

typedef struct nn_expr_ins {
    nn_expr_op op;
    int term;                   /* NN_EXPR_TERM */
    float value;                /* NN_EXPR_CONST */
} nn_expr_ins;

const char *nn_expr_op_name(nn_expr_op op);
bool nn_expr_op_parse(const char *s, nn_expr_op *op);

typedef struct nn_obj {
    nn_term_spec terms[NN_MAX_TERMS];
    int layer[NN_MAX_TERMS];    /* resolved layer index, -1 = model output */
    int average[NN_MAX_TERMS];  /* ce: -2 none, -1 all particles, else the layer index */
    rt_tensor *param[NN_MAX_TERMS][3];  /* term-owned parameters (priors, b(z|y)) */
    int n;
    nn_expr_ins expr[NN_MAX_EXPR];
    int nexpr;                  /* 0: the weighted sum */
    bool classifies;            /* some term compares the output with labels: error is meaningful */
    int keep[NN_XMAX_NODES];    /* the layers whose outputs the terms read (nn_model_forward_step) */
    int nkeep;
} nn_obj;

/* The terms computed on one batch: loss (scalar, nats) and each term's values: one per row of
** what the term reads, (rows), or one for the batch, (1). */
typedef struct nn_obj_out {
    rt_tensor *loss;            /* (1) */
    rt_tensor *term[NN_MAX_TERMS];  /* nats */
} nn_obj_out;

/* What the terms read besides the model's layers. */
typedef struct nn_obj_in {
    rt_tensor *out;             /* the model output, (R*B, out) */
    rt_tensor *x;               /* the input batch, (B, in) (recon) */
    const int32_t *labels;      /* B labels */
    int B;
    const nn_fwd *f;            /* the mode of the forward pass (rows per example) */
    double epoch;               /* fractional epoch, for weight schedules */
} nn_obj_in;

/* Resolves the terms against m; terms with parameters (learned priors, CEB's backward encoder)
** add them to m (drawn by nn_model_init). expr: NULL/0 for the weighted sum. */
rt_status nn_obj_build(nn_obj *o, const nn_term_spec *terms, int n, const nn_expr_ins *expr,
                       int nexpr, nn_model *m, rt_err *err);
/* Checks that labels in [0, nclass) fit the terms that read them (ce, ceb, per-class logvar):
** they index the model's outputs, so nclass <= m->out. source names the data in the message. */
rt_status nn_obj_check_labels(const nn_obj *o, const nn_model *m, int nclass, const char *source,
                              rt_err *err);
/* Checks the inputs x (n, dim) against the terms that read them: the Bernoulli likelihood of
** recon needs x in [0, 1]. source names the data in the message. */
rt_status nn_obj_check_inputs(const nn_obj *o, const float *x, int n, int dim, const char *source, rt_err *err);
/* Computes every term from the model's last forward pass (layers[i].y) and in. */
nn_obj_out nn_obj_forward(const nn_obj *o, const nn_model *m, rt_ctx *c, const nn_obj_in *in);
/* Whether term i bounds the rate I(X;Z) of its layer o->layer[i]: a KL, or a custom term with rate. */
bool nn_obj_is_rate(const nn_obj *o, int i);
/* The weight of term i at a fractional epoch (schedules). */
double nn_obj_weight(const nn_obj *o, int i, double epoch);
/* The loss from the terms' means (nats), as nn_obj_forward combines them, in double. */
double nn_obj_combine(const nn_obj *o, const double *term_means, double epoch);

#endif
