/*
** rt_optim.h: optimizers, learning-rate schedules, gradient clipping and the weight EMA, all over
** the flat buffers of rt_params (one loop each, no per-tensor dispatch).
**
** Optimizers (PyTorch's conventions, so that published recipes carry over):
**   SGD      v = mu*v + g (+ wd*p in g);  p -= lr*v   (nesterov: p -= lr*(g + mu*v))
**   Adam     m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr * mhat / (sqrt(vhat) + eps),
**            L2 weight decay added to g
**   AdamW    Adam with decoupled decay: p -= lr*wd*p before the Adam update
**   Adamax   m as Adam; u = max(b2*u, |g| + eps); p -= lr/(1-b1^t) * m / u  (Kingma & Ba, 7.1)
** Schedules give the learning rate at a fractional epoch e (epoch + step/steps_per_epoch):
**   const; exp (staircase): lr * decay^floor(e/every); step: lr * gamma^(milestones passed);
**   cosine: lr_min + (lr-lr_min)(1+cos(pi e/epochs))/2, e clamped to [0, epochs].
** EMA (Polyak averaging): shadow = d*shadow + (1-d)*param after every step; with `debias` the
** average is TensorFlow's zero_debias=True estimate shadow0_t / (1 - d^t) of a shadow started at 0,
** computed as an EMA of decay d_t = (d - d^t) / (1 - d^t) (d_1 = 0: the initial weights carry no
** weight; the VIB reference evaluates this); with `warmup` the
** decay is min(d, (1+t)/(10+t)) as TensorFlow's ExponentialMovingAverage with num_updates,
** t counting the updates made before this one (so the first update uses 0.1).
**
** Threads: rt_optim and rt_ema may borrow an rt_pool (field `pool`, NULL by default: the calling
** thread does the work). The updates are elementwise over fixed chunks of the flat buffers, so the
** bytes they produce do not depend on the pool's thread count.
*/
#ifndef RT_OPTIM_H
#define RT_OPTIM_H

#include "rt_err.h"

struct rt_pool;
struct rt_ema;

typedef enum rt_optim_kind { RT_OPTIM_SGD, RT_OPTIM_ADAM, RT_OPTIM_ADAMW, RT_OPTIM_ADAMAX } rt_optim_kind;
typedef enum rt_sched_kind { RT_SCHED_CONST, RT_SCHED_EXP, RT_SCHED_STEP, RT_SCHED_COSINE } rt_sched_kind;

#define RT_MAX_MILESTONES 16

typedef struct rt_optim_cfg {
    rt_optim_kind kind;
    float lr;
    float momentum;             /* SGD */
    bool nesterov;              /* SGD */
    float beta1, beta2, eps;    /* Adam family */
    float weight_decay;
    float clip_norm;            /* global gradient-norm clip; 0 = off */
    rt_sched_kind sched;
    float decay;                /* exp: factor per `every` epochs */
    float every;                /* exp: epochs per decay step */
    float gamma;                /* step: factor per milestone */
    int milestones[RT_MAX_MILESTONES], nmilestones;
    float epochs;               /* cosine: length of the schedule */
    float lr_min;               /* cosine: floor */
} rt_optim_cfg;

/* Defaults: Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8, constant schedule, no clipping. */
rt_optim_cfg rt_optim_cfg_default(void);
const char *rt_optim_kind_name(rt_optim_kind k);
const char *rt_sched_kind_name(rt_sched_kind k);
/* Checks a configuration built from user input (ranges of lr, betas, eps, decay, schedule
** lengths); RT_ERR_ARG with a message naming the field and a usable value. The functions below
** assume a configuration that passed this check. */
rt_status rt_optim_cfg_check(const rt_optim_cfg *cfg, rt_err *err);

typedef struct rt_optim {
    rt_optim_cfg cfg;
    size_t n;
    float *m;                   /* (n) first moment / SGD velocity */
    float *v;                   /* (n) second moment / Adamax infinity norm; NULL for SGD */
    int64_t t;                  /* steps taken */
    struct rt_pool *pool;       /* borrowed; NULL = the calling thread */
} rt_optim;

void rt_optim_init(rt_optim *o, const rt_optim_cfg *cfg, size_t n);
void rt_optim_free(rt_optim *o);
float rt_optim_lr(const rt_optim_cfg *cfg, double epoch);
/* One update of p (n) from g (n) at learning rate lr. */
void rt_optim_step(rt_optim *o, float *p, const float *g, float lr);
/* The same update, then g = 0: each chunk of g is cleared right after it is consumed, while it
** is still in cache, which saves the separate zeroing pass of the next step. */
void rt_optim_step_zero_grad(rt_optim *o, float *p, float *g, float lr);
/* rt_optim_step_zero_grad, then rt_ema_update(e, p) when e is not NULL, in one pass over the
** buffers (each chunk's new p goes into the EMA while it is in cache; for Adam and AdamW one loop
** reads p, g, m, v and the shadow once and writes them once). The same bytes as the two calls; the
** pass runs on o->pool. e->n must equal o->n. */
void rt_optim_step_ema(rt_optim *o, float *p, float *g, struct rt_ema *e, float lr);
/* Global L2 norm of g (computed in double); scales g down to max_norm when above it (max_norm > 0).
** Returns the norm before clipping. */
double rt_grad_clip(float *g, size_t n, float max_norm);

typedef struct rt_ema {
    float decay;
    bool warmup;
    bool debias;                /* set after rt_ema_init; see above */
    size_t n;
    float *shadow;              /* (n) */
    int64_t t;
    struct rt_pool *pool;       /* borrowed; NULL = the calling thread */
} rt_ema;

void rt_ema_init(rt_ema *e, float decay, bool warmup, const float *p, size_t n);
void rt_ema_free(rt_ema *e);
void rt_ema_update(rt_ema *e, const float *p);
/* Exchanges p and the shadow, so that evaluation runs on the averaged weights; call twice. */
void rt_ema_swap(rt_ema *e, float *p);

#endif
