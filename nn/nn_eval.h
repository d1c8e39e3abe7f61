/*
** nn_eval.h: evaluation of a model on a data set, below training (nn_train.h, each epoch's
** metrics.csv rows) and the information plane (nn_measure.h, the variational bounds).
**
** Evaluation mode: no gradients; stochastic layers give their mean, or draw `samples` values each
** from an evaluation noise stream (RT_STREAM_EVAL of seed, point and pass) that restarts at every
** call, each example from its own generator, so that an evaluation does not depend on what
** training drew, on the batch size or on a resume. The loss and the objective's terms are
** means per example in bits; the error is that of the prediction averaged over the samples.
*/
#ifndef NN_EVAL_H
#define NN_EVAL_H

#include <signal.h>

#include "nn_data.h"
#include "nn_obj.h"

#define NN_LOG2E 1.4426950408889634     /* nats -> bits */

/* Averaging of S sampled predictions in evaluation. */
typedef enum nn_avg {
    NN_AVG_PROBS = 0,           /* mean of softmax: p(y|x) = 1/S sum_s q(y|z_s) (VIB) */
    NN_AVG_LOGITS,              /* mean of log-softmax: the argmax of the geometric mixture (the
                                ** normalized product of the samples' softmax), not log-mean-exp;
                                ** log-mean-exp of log-softmax is NN_AVG_PROBS's arithmetic mixture */
} nn_avg;

/* Evaluates m on d (evaluation mode): mean loss and terms in bits per example (over samples, when
** stochastic layers sample), error rate of the averaged prediction (NAN when no term compares
** the output with labels). */
typedef struct nn_eval {
    double loss_bits, error;
    double term_bits[NN_MAX_TERMS];
    bool stopped;               /* *stop was set: the batches after it did not run, the means are void */
} nn_eval;
typedef struct nn_eval_cfg {
    int limit;                  /* the first N examples (0 = all) */
    int batch;                  /* memory only, as nn_train_cfg's eval_batch */
    int samples;                /* samples per stochastic layer, 0 = the mean */
    nn_avg avg;
    uint64_t seed, point;       /* the evaluation noise stream */
    int pass;                   /* which independent evaluation: its own noise stream */
    double epoch;               /* for the objective's weight schedules */
    volatile sig_atomic_t *stop;/* NULL, or a flag set asynchronously (SIGINT/SIGTERM): checked
                                ** between batches, so a long evaluation stops promptly */
} nn_eval_cfg;
nn_eval nn_evaluate(nn_model *m, const nn_obj *o, const nn_dataset *d, const nn_eval_cfg *e, rt_ctx *c);
/* nn_evaluate, and in the same pass *error_det: the error of the mean network (every stochastic
** layer at its mean), the same value as nn_evaluate with samples = 0 gives. The layers before the
** first one that draws run once for both (the encoder of a bottleneck), the layers from it on once
** with samples and once at the mean. With samples = 0, or when no term compares the output with
** labels, *error_det is the error itself. */
nn_eval nn_evaluate_det(nn_model *m, const nn_obj *o, const nn_dataset *d, const nn_eval_cfg *e, rt_ctx *c,
                        double *error_det);


#endif
