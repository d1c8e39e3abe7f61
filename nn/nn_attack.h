/*
** nn_attack.h: adversarial attacks on a model, in pixel space, through the tape's input gradient.
**
** An attack works on images in [0, 1] (bytes / 255) whatever the data set's scaling: the model reads
** a[j] * pixel[j] + b[j], the affine map of the data set's scale ("unit": a = 1, b = 0; "pm1": a = 2,
** b = -1; "standardize", "channel": the train split's statistics), applied inside the differentiated
** function, so an epsilon means the same thing for every model and the box is always [0, 1].
**
** The target of an attack is a model in evaluation mode (or, for tests, training mode) whose
** stochastic layers draw from the attacker's own stream (RT_STREAM_ATTACK of seed and point): the
** predictive p(y|x) is the mean softmax over `samples` samples (VIB's 12), and a gradient is the
** mean over `eot` draws of that predictive's loss gradient (expectation over transformation, EOT).
** Draw d of call k has its noise from a generator derived from (stream, k, d), each example from its
** own generator as in evaluation, keyed by the example's index in its data set (example0 plus its
** position in the caller's batch, whichever examples have left the batch): the same call gives the
** same noise, so a gradient is a function of the input that finite differences can check, and an
** example's attack does not depend on the batch it was attacked in. Random starts are drawn per
** example the same way.
**
**     nn_attack_target t = nn_attack_target_make(&m, &ctx, dim, 10, a, b);   // a, b: NULL = unit
**     rt_rng_stream(&t.stream, seed, point, RT_STREAM_ATTACK);  t.samples = 12;  t.eot = 1;
**     nn_attack_cfg c = nn_attack_cfg_default(NN_ATK_PGD);  c.eps = 0.1f;
**     nn_attack_run(&t, &c, x0, y, NULL, B, NULL, xadv, fooled);
*/
#ifndef NN_ATTACK_H
#define NN_ATTACK_H

#include "nn_data.h"
#include "nn_model.h"

typedef struct nn_attack_target {
    nn_model *m;
    rt_ctx *ctx;                /* its step arena holds one forward and backward of a batch */
    int dim, nclass;
    const float *a, *b;         /* (dim) model input = a * pixel + b; NULL: the pixel itself */
    int samples;                /* samples of each stochastic layer per forward (0 = the mean) */
    int eot;                    /* draws averaged per gradient (>= 1) */
    bool train;                 /* forward in training mode: dropout on, Bernoulli layers with their
                                ** training estimator (tests; batch norms would use batch statistics) */
    rt_rng stream;              /* the attacker's noise */
    uint64_t calls;             /* forwards made so far: call k draws from (stream, k, draw) */
    int64_t example0;           /* index in its data set of the caller's batch's first example */
    const int *rows;            /* (set by nn_attack_run) the caller's-batch position of each row of
                                ** the batch being attacked; NULL: row e is position e */
    const int32_t *target;      /* (set by nn_attack_run) NN_LOSS_DLR_TARGETED's target of each row of
                                ** the batch being attacked, its labels being the true classes */
} nn_attack_target;

nn_attack_target nn_attack_target_make(nn_model *m, rt_ctx *ctx, int dim, int nclass, const float *a,
                                       const float *b);

/* The loss an attack increases, computed on u = log p(y|x) (log of the mean softmax over samples). */
typedef enum nn_attack_loss {
    NN_LOSS_CE = 0,             /* -u_y: untargeted cross-entropy */
    NN_LOSS_CE_TARGETED,        /* u_t: the log-probability of the target */
    NN_LOSS_DLR,                /* -(u_y - max_{k != y} u_k) / (u_pi1 - u_pi3 + 1e-12) (Croce & Hein;
                                ** pi sorts u down; u is the logits up to a shift when S = 1) */
    NN_LOSS_MARGIN,             /* u_y - max_{k != y} u_k: Carlini & Wagner's f, which their attack
                                ** decreases (below 0: misclassified) */
    NN_LOSS_MARGIN_TARGETED,    /* max_{k != t} u_k - u_t (below 0: classified as the target t) */
    NN_LOSS_DLR_TARGETED,       /* -(u_y - u_t) / (u_pi1 - (u_pi3 + u_pi4) / 2 + 1e-12), y the label and t
                                ** the target (Croce & Hein's targeted DLR, AutoAttack's APGD-T; with
                                ** 3 classes pi4 is pi3, and the loss is constant when t is pi3:
                                ** APGD-T wants 4 classes or more, as AutoAttack) */
} nn_attack_loss;

/* The loss per example of S sample rows of logits z (S*B rows of C, sample-major: row s*B + i) and
** its gradient dz, for labels y (the targets for a targeted loss but the targeted DLR). probs, when
** not NULL, receives the mean softmax (B, C). */
void nn_attack_loss_grad(const float *z, int S, int B, int C, const int32_t *y, nn_attack_loss L,
                         float *loss, float *dz, float *probs);
/* The same with the targets (B) of NN_LOSS_DLR_TARGETED (y: the true labels); NULL for the others. */
void nn_attack_loss_grad_to(const float *z, int S, int B, int C, const int32_t *y, const int32_t *target,
                            nn_attack_loss L, float *loss, float *dz, float *probs);

/* Draw d of call k: the loss per example (B) and its gradient with respect to the pixels (B, dim)
** at x (B, dim, pixels), with the mean softmax into probs (B, C) when not NULL. */
void nn_attack_grad_draw(nn_attack_target *t, const float *x, const int32_t *y, int B, nn_attack_loss L,
                         uint64_t call, int draw, float *loss, float *grad, float *probs);
/* The EOT gradient: the mean over t->eot draws of call t->calls (then t->calls advances by one) of
** the loss, gradient and probabilities of nn_attack_grad_draw. */
void nn_attack_grad(nn_attack_target *t, const float *x, const int32_t *y, int B, nn_attack_loss L,
                    float *loss, float *grad, float *probs);
/* The predictive p(y|x) (B, C) at x, no gradient: one draw of call t->calls (which advances). */
void nn_attack_predict(nn_attack_target *t, const float *x, int B, float *probs);

/* The checks of AutoAttack's flags, on a batch x (B, dim) with labels y: whether two predictions of the
** same input differ (the model is randomized: its gradient is an estimate, and EOT is needed), and
** how many examples have an input gradient of the loss that is zero everywhere (a saturated softmax or
** a masked gradient: a gradient attack cannot move them). Two predictions and one gradient of
** t->calls (which advances by three). */
void nn_attack_checks(nn_attack_target *t, const float *x, const int32_t *y, int B, bool *randomized,
                      int *zero_grad);

typedef enum nn_attack_kind { NN_ATK_FGSM = 0, NN_ATK_PGD, NN_ATK_APGD, NN_ATK_CW, NN_ATK_KIND_COUNT } nn_attack_kind;
typedef enum nn_attack_norm { NN_NORM_LINF = 0, NN_NORM_L2 } nn_attack_norm;

const char *nn_attack_kind_name(nn_attack_kind k);     /* "fgsm", "pgd", "apgd", "cw_l2" */
const char *nn_attack_norm_name(nn_attack_norm n);     /* "linf", "l2" */

typedef struct nn_attack_cfg {
    nn_attack_kind kind;
    nn_attack_norm norm;        /* fgsm: linf only */
    float eps;                  /* radius of the ball, in pixels */
    bool targeted;              /* toward target[i] (an increase of its log-probability) */
    nn_attack_loss loss;        /* pgd, apgd: NN_LOSS_CE or NN_LOSS_DLR; targeted pgd is CE's, targeted
                                ** apgd with NN_LOSS_DLR the targeted DLR */
    int targets;                /* targeted apgd: 0 = toward target[i]; k > 0 = AutoAttack's APGD-T: a
                                ** run toward each of the k classes other than the label that the
                                ** clean prediction ranks highest, in that order, each on the examples
                                ** not yet fooled, success being a misclassification (target unused) */
    int eot;                    /* cw: draws per gradient, success judged on the mean predictive of the
                                ** draws (0 = the target's eot; 1 = one draw) */
    int steps, restarts;        /* pgd, apgd */
    float step;                 /* pgd: step size; 0 = 2.5 eps / steps (Madry et al.) */
    bool random_start;          /* pgd, apgd: uniform in the L-inf ball, or uniform in the L2 ball */
    int search;                 /* cw: binary-search steps over c (9) */
    float c0, kappa, lr;        /* cw: the first c (1e-3), the confidence margin (0), Adam's step (0.01) */
} nn_attack_cfg;

/* linf, CE, 40 steps (APGD 100, C&W 1000), 1 restart, random start; C&W: 9 searches from c = 1e-3,
** kappa 0, lr 0.01 (Carlini & Wagner's defaults but for the step count, 10,000 in their code), eot 0. */
nn_attack_cfg nn_attack_cfg_default(nn_attack_kind k);

/* The attack's name in attack.csv: "fgsm", "pgd", "cw_l2"; apgd: "apgd_ce", "apgd_dlr", or "apgd_t"
** (APGD-T, the targeted DLR over the top classes; "apgd_t_ce" with the targeted CE). */
const char *nn_attack_cfg_name(const nn_attack_cfg *c);

/* Attacks the examples x0 (B, dim, pixels) with labels y (targets: target, when cfg->targeted) that
** active[i] marks (NULL: all): xadv (B, dim) receives each one's adversarial example (x0 itself for
** an inactive one) and fooled[i] whether the attack's own check saw it misclassified (predicted
** class != y, or == target; != y for APGD-T). Examples are attacked as one batch, and those fooled
** leave it (the mask of examples still attacked). PGD keeps the first iterate that fools; otherwise
** the last one of the last restart; APGD the best-loss point of its (last target's) run. Every
** iterate stays within eps of x0 in the norm and inside [0, 1]. APGD-T's targets are ranked by one
** prediction at x0; target j's run starts at call (that prediction's) + 1 + j (steps + 1), its random
** start from its own key, so an example's runs do not depend on its batch-mates. */
void nn_attack_run(nn_attack_target *t, const nn_attack_cfg *cfg, const float *x0, const int32_t *y,
                   const int32_t *target, int B, const uint8_t *active, float *xadv, uint8_t *fooled);

/* Carlini-Wagner L2 (Carlini & Wagner 2017, section V; kind NN_ATK_CW, norm l2, eps unused): x =
** (tanh(w) + 1) / 2 keeps each example in the box; Adam (lr, 0.9, 0.999) minimizes
** |x - x0|_2^2 + c max(f(x), -kappa) over w from w0 = atanh(0.999999 (2 x0 - 1)), f the margin
** (NN_LOSS_MARGIN, or _TARGETED toward target[i]) of the target's predictive; each of `search`
** rounds runs `steps` steps, an example leaving its round early when its objective did not fall
** below 0.9999 of its value steps/10 steps before. An iterate succeeds when f < -kappa; the
** successful iterate of smallest L2 over all rounds is returned (pixels within 1e-6 of x0, the
** tanh round trip's error, are x0's), or x0 itself when none succeeded. c starts at c0 and moves
** per example by nn_cw_search. fooled[i]: some iterate succeeded. With cfg->eot = k > 1 each step's
** gradient and f are the means over k draws (EOT), and success is judged on the margin of the mean
** predictive over those k draws (k eval_samples samples), not on one draw: on a randomized model a
** one-draw success may be that draw's luck, which a new prediction undoes. */

/* The binary search over c after a round: a success sets hi = min(hi, c), a failure lo = max(lo, c);
** then c = (lo + hi) / 2 once an upper bound exists (hi < 1e10), else c = 10 c. Start: lo = 0,
** hi = 1e10. */
void nn_cw_search(bool success, double *c, double *lo, double *hi);

/* APGD (Croce & Hein 2020, section 3): the step size starts at 2 eps and is halved at checkpoint
** w_j, the next iterate being the best point so far, when the loss rose in fewer than rho = 0.75 of
** the steps since w_{j-1}, or when neither the step size nor the best loss changed since then;
** steps mix the projected gradient step z with momentum: x' = P(x + 0.75 (z - x) + 0.25 (x - x_prev)).
** Checkpoints: w_j = ceil(p_j steps), p_0 = 0, p_1 = 0.22, p_j = p_{j-1} + max(p_{j-1} - p_{j-2} -
** 0.03, 0.06), while p_j <= 1. Writes them into w (at most max) and returns how many. */
int nn_apgd_checkpoints(int steps, int *w, int max);

/* Projects x (dim) onto the eps-ball around x0 in the norm, then onto the box [0, 1]. */
void nn_attack_project(float *x, const float *x0, int dim, nn_attack_norm norm, float eps);

/* The size of the perturbation xa - x0 (dim pixels), in double: *l0 the pixels that moved, *l2 the
** Euclidean norm, *linf the largest change (attack.csv's distortions, the strip's per-image ones). */
void nn_attack_distances(const float *x0, const float *xa, int dim, double *l0, double *l2, double *linf);

/* The affine map pixel -> model input of scaling s, a[j] and b[j] (dim = train_raw->dim each), found
** by scaling two probe images (all 0 and all 255 bytes) with nn_data_scale and train_raw's statistics.
** train_raw holds the train split unscaled (bytes); it is scaled in place (used up). */
void nn_attack_scaling(nn_dataset *train_raw, nn_scale s, float *a, float *b);
/* The same for coordinates u in [0, 1] per feature, u = 0 being lo[j] and u = 1 hi[j] in the data's
** own units (data that are not images of bytes): nn_attack_scaling is lo = 0, hi = 255. Every
** scaling is affine per feature, so the map is exact. */
void nn_attack_scaling_range(nn_dataset *train_raw, nn_scale s, const float *lo, const float *hi, float *a,
                             float *b);

#endif
