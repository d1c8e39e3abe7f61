/*
** nn_train.h: the training loop of one point (its evaluations through nn_eval.h).
**
** Per step (style.md section 10): reset the step arena; gather the batch (augmented when
** cfg->augment says so); forward; objective;
** backward into the flat gradient buffer; clip; optimizer step over the flat buffers, which
** leaves the gradients zero for the next step; EMA. The optimizer and EMA passes run on an
** rt_pool of OpenBLAS's thread count (bytes do not depend on it). No
** malloc after the first step, no printing (progress goes through a callback), no Lua.
** Batch norms' running statistics are model state, not parameters: the optimizer, weight decay and
** clipping never see them; with ema they are averaged alongside the weights (the same decay, every
** step) and evaluation uses that average with the EMA weights.
** Per epoch: evaluate train and test in evaluation mode (EMA weights when enabled), append one
** row per split to metrics.csv, write a checkpoint. A non-finite loss stops the point as
** "diverged" with its epoch, keeping what was written.
**
** Files in cfg->dir:
**   metrics.csv   epoch, split, loss_bits, <term>_bits..., error, [error_sd,] [error_det,] lr
**                 (deterministic; error_sd with eval_passes > 1; error_det, the error of the
**                 means / mean-field network, when stochastic layers sample in evaluation)
**   timing.csv    epoch, train_seconds, eval_seconds, samples_per_s    (wall clock: differs
**                 between runs, so it is kept apart from the files that are compared bytewise)
**   checkpoint    parameters, optimizer state, EMA, RNG streams, epoch cursor; with batch norms
**                 the model's state (running statistics) and, with ema, its EMA
**   info.csv, info_timing.csv   with cfg->measure: the information plane (nn_measure.h), measured
**                 after the evaluation of each scheduled epoch, EMA weights when on
**   latent.csv, latent_grid.csv when the model has a 2-D gauss layer (nn_measure.h), at the end
** While a point runs these are "*.part"; they take their final names when it ends.
*/
#ifndef NN_TRAIN_H
#define NN_TRAIN_H

#include <signal.h>

#include "nn_data.h"
#include "nn_eval.h"
#include "nn_measure.h"
#include "nn_obj.h"
#include "rt_optim.h"

typedef struct nn_progress {
    int epoch, epochs;          /* 1-based epoch being trained */
    int64_t step, steps;        /* step within the epoch, steps per epoch */
    double loss_bits;           /* running mean of the training loss this epoch */
    double samples_per_s;
    double elapsed_s, eta_s;
    bool epoch_done;            /* true once per epoch, after evaluation */
    double test_error;          /* valid when epoch_done */
    const char *phase;          /* NULL for a step; "evaluating" or "measuring information" in a call
                                ** made once as the epoch's evaluation or measurement begins (no step:
                                ** a callback counting steps skips these and epoch_done) */
} nn_progress;

typedef void (*nn_progress_fn)(const nn_progress *p, void *user);

typedef struct nn_train_cfg {
    int epochs;
    int batch;
    int eval_batch;             /* evaluation batch size: memory, and the results' last bits only
                                ** (GEMM shapes and the grouping of sums round differently; sampled
                                ** evaluation draws each example's noise from its own generator),
                                ** except the objective's batch-statistic terms (logvar, kde), which
                                ** are estimated over each batch */
    int train_eval_limit;       /* evaluate on the first N training examples (0 = all) */
    int eval_samples;           /* samples of each stochastic layer in evaluation; 0 = the mean */
    int eval_passes;            /* independent stochastic evaluations averaged (>= 1): error is
                                ** their mean, error_sd their standard deviation (IMB: 100) */
    nn_avg eval_avg;            /* how samples' predictions are averaged */
    uint64_t seed, point;       /* RNG streams derive from (seed, point) */
    const char *point_id;       /* written into the checkpoint and checked on resume; NULL: neither */
    rt_optim_cfg optim;
    float ema;                  /* weight EMA decay, 0 = off */
    bool ema_warmup;            /* TensorFlow's num_updates warm-up */
    bool ema_debias;            /* TensorFlow's zero_debias (the default of vibrun scripts) */
    const char *dir;            /* the point's directory */
    int checkpoint_every;       /* epochs between checkpoints (>= 1) */
    bool resume;                /* continue from dir/checkpoint when it exists */
    nn_augment augment;         /* training batches only (nn_data.h), drawn from the data-order
                                ** stream after each epoch's shuffle, one code per example */
    const nn_measure_cfg *measure;  /* information-plane schedule (info.csv); NULL or !on: none */
    nn_progress_fn progress;
    void *progress_user;
    volatile sig_atomic_t *stop;/* set asynchronously (SIGINT/SIGTERM): stop after this step, or
                                ** within an evaluation or measurement, between its batches */
} nn_train_cfg;

nn_train_cfg nn_train_cfg_default(void);

typedef struct nn_result {
    char status[16];            /* "done", "diverged", "interrupted" */
    int epochs_done;
    int diverged_epoch;         /* 0 unless diverged */
    char diverged_at[400];      /* where the first non-finite value of the diverged step came from:
                                ** a parameter, or the first op on the tape and its layer */
    double train_loss_bits, train_error, test_loss_bits, test_error;
    double test_error_det;      /* evaluation with the means (mean-field): NAN when not measured */
    double term_bits[NN_MAX_TERMS];     /* test split, per term */
    double seconds, samples_per_s;
    nn_info_row info[NN_INFO_MAX_ROWS]; /* the last measured epoch's information rows */
    int ninfo;
    char warn[512];             /* the first measurement warning ("" when none) */
} nn_result;

/* Checks that the data fit the model and objective: train's features are the model's input, and
** the labels of both splits (test may be NULL) fit the terms that read them. nn_train runs it
** first; a caller may run it earlier, before it writes anything. */
rt_status nn_check_data(const nn_model *m, const nn_obj *o, const nn_dataset *train, const nn_dataset *test,
                        rt_err *err);
/* The memory a point needs, estimated in bytes from the model's shapes before anything large is
** touched: the parameters with their gradients, optimizer moments and EMA (and the running
** statistics); the step arena at cfg->batch (each layer's output and its gradient over the rows its
** samples and particles make, a stochastic layer's parameters and draws, a convolution's
** unfolded input); the evaluation at eval_batch x eval_samples (values only). The step and the
** evaluation share the arena, so the need is the parameters plus the larger of the two. `layer`
** is the layer whose activations weigh most (-1 for none). */
typedef struct nn_mem_need {
    double params, step, eval, total;
    int layer;
} nn_mem_need;
nn_mem_need nn_train_memory(const nn_model *m, const nn_train_cfg *cfg);
/* An error naming the sizes, and the heaviest layer's script line, when the need passes budget
** bytes (rt_memory_budget(); 0 = unknown: no check). Run before training, and by --check. */
rt_status nn_train_check_memory(const nn_model *m, const nn_train_cfg *cfg, double budget, rt_err *err);
/* Trains m on train, evaluating on test, per cfg. Returns RT_OK when the point ended (done,
** diverged or interrupted: see res->status); an error status for I/O failures. */
rt_status nn_train(nn_model *m, const nn_obj *o, const nn_dataset *train, const nn_dataset *test,
                   const nn_train_cfg *cfg, nn_result *res, rt_err *err);

/* One training step (the protocol above) on examples idx[0..b) of d: returns the loss in nats,
** or a non-finite value when the loss diverged (then nothing was updated). ema may be NULL.
** The model's gradient buffer must hold zeros on entry, and holds zeros again on return: the
** optimizer clears it as it consumes it (rt_optim_step_zero_grad), which saves a zeroing pass.
** A fresh model has zero gradients; code that runs rt_backward on the model outside this
** function calls rt_params_zero_grad before handing it back. */
typedef struct nn_step {
    nn_model *m;
    const nn_obj *o;
    rt_ctx *ctx;
    rt_optim *opt;
    rt_ema *ema;
    rt_rng *noise;
    rt_ema *state_ema;          /* the EMA of the model's state (running statistics), or NULL */
} nn_step;
/* epoch: the fractional epoch (weight schedules of the objective). */
double nn_train_step(const nn_step *s, const nn_dataset *d, const int32_t *idx, int b, float lr,
                     double epoch);
/* As nn_train_step, each example transformed by its augmentation code aug[0..b)
** (nn_data_gather_aug); aug NULL is nn_train_step. */
double nn_train_step_aug(const nn_step *s, const nn_dataset *d, const int32_t *idx, const uint8_t *aug, int b,
                         float lr, double epoch);

#endif
