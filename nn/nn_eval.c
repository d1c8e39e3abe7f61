// nn_eval.c: evaluation of a model on a data set (nn_eval.h): the objective's terms in bits and
// the error of the averaged prediction.
#include "nn_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_ops.h"

static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* Errors of a batch whose output holds S = rows/B sample rows per example: the prediction is the
** argmax of the mean over samples of softmax (VIB's "avg" evaluation, the arithmetic mixture; the
** same argmax as log-mean-exp of log-softmax), or of the mean log-softmax (the geometric mixture,
** prod_s softmax_s^(1/S) normalized; not log-mean-exp) when avg is NN_AVG_LOGITS. */
static int64_t count_wrong(const rt_tensor *out, const int32_t *y, int B, int C, nn_avg avg) {
    int S = out->shape[0] / B;
    int64_t wrong = 0;
    float acc_small[256], *acc = S == 1 || C <= 256 ? acc_small : rt_xfloats((size_t)C);
    for (int i = 0; i < B; i++) {
        if (S == 1) {
            wrong += argmax(out->data + (size_t)i * C, C) != y[i];
            continue;
        }
        for (int k = 0; k < C; k++) acc[k] = 0.0f;
        for (int s = 0; s < S; s++) {
            const float *z = out->data + ((size_t)s * B + i) * C;
            float mx = z[0];
            for (int k = 1; k < C; k++) mx = z[k] > mx ? z[k] : mx;
            double se = 0.0;
            for (int k = 0; k < C; k++) se += (double)expf(z[k] - mx);
            float lse = mx + (float)log(se);
            for (int k = 0; k < C; k++) acc[k] += avg == NN_AVG_PROBS ? expf(z[k] - lse) : z[k] - lse;
        }
        wrong += argmax(acc, C) != y[i];
    }
    if (acc != acc_small) free(acc);
    return wrong;
}


/* The first top-level layer from which the model's evaluation draws noise (a gauss, bern or noise
** layer, or the residual block holding one), or m->n when none does: layers [0, j) compute the
** same rows whether the stochastic layers sample or give their mean. */
static int first_drawing_layer(const nn_model *m) {
    for (int i = 0; i < m->n; i++) {
        nn_layer_kind k = m->layers[i].spec.kind;
        if (k != NN_LAYER_GAUSS && k != NN_LAYER_BERN && k != NN_LAYER_NOISE) continue;
        while (m->layers[i].parent >= 0) i = m->layers[i].parent;
        return i;
    }
    return m->n;
}

static rt_tensor *rows_of(rt_ctx *c, rt_tensor *x) {
    return x->ndim == 2 ? x : rt_reshape(c, x, 2, (int[]){ x->shape[0], (int)(x->n / x->shape[0]) });
}

/* nn_evaluate; with error_det, also the error of the mean network (every stochastic layer at its
** mean, as samples = 0 gives): the layers before the first that draws run once per batch for
** both, the rest once sampled, then once at the mean, after the objective has read the sampled
** run's layers. Each row is computed as by a separate evaluation with samples = 0 (the same batch
** and the same operations), so *error_det has its bytes. */
static nn_eval evaluate(nn_model *m, const nn_obj *o, const nn_dataset *d, const nn_eval_cfg *e, rt_ctx *c,
                        double *error_det) {
    int limit = e->limit, batch = e->batch;
    nn_eval ev;
    memset(&ev, 0, sizeof ev);
    int n = limit > 0 && limit < d->n ? limit : d->n;
    bool rec = c->grad_enabled;
    c->grad_enabled = false;
    /* Sampling in evaluation restarts its stream every time: each evaluation sees the same noise,
    ** whatever happened in training, so epochs compare and a resumed run evaluates identically. */
    rt_rng noise;
    rt_rng_stream(&noise, e->seed ^ ((uint64_t)e->pass * 0x9E3779B97F4A7C15ull), e->point, RT_STREAM_EVAL);
    nn_fwd f = { c, false, &noise, e->samples, 0, 0, NULL };
    nn_fwd fmean = f;
    fmean.eval_samples = 0;
    bool det = error_det && e->samples > 0 && o->classifies;
    int split = det ? first_drawing_layer(m) : m->n;
    double terms[NN_MAX_TERMS] = { 0 };
    int64_t wrong = 0, wrong_det = 0;
    for (int start = 0; start < n; start += batch) {
        if (e->stop && *e->stop) {
            ev.stopped = true;
            break;
        }
        int b = n - start < batch ? n - start : batch;
        rt_ctx_reset(c);
        rt_tensor *x = rt_tensor_new_raw(c, 2, (int[]){ b, d->dim });
        memcpy(x->data, d->x + (size_t)start * d->dim, (size_t)b * d->dim * sizeof(float));
        const int32_t *y = d->y + start;
        f.examples = fmean.examples = b;    /* each example's noise is its own: the same for any eval_batch */
        f.example0 = fmean.example0 = start;
        rt_tensor *h = split > 0 ? nn_model_forward_range(m, &f, x, 0, split) : x;
        rt_tensor *out = rows_of(c, nn_model_forward_range(m, &f, h, split, m->n));
        nn_obj_in in = { out, x, y, b, &f, e->epoch };
        nn_obj_out r = nn_obj_forward(o, m, c, &in);
        for (int t = 0; t < o->n; t++) {
            /* A term over S*B sample rows contributes its mean per example; a batch statistic
            ** (one value) counts once per example of the batch. */
            int rows = r.term[t]->shape[0];
            double s = 0.0;
            for (int i = 0; i < rows; i++) s += (double)r.term[t]->data[i];
            terms[t] += s * (double)b / rows;
        }
        if (o->classifies) wrong += count_wrong(out, y, b, m->out, e->avg);
        if (det) wrong_det += count_wrong(rows_of(c, nn_model_forward_range(m, &fmean, h, split, m->n)), y, b,
                                          m->out, e->avg);
    }
    c->grad_enabled = rec;
    double mean[NN_MAX_TERMS];
    for (int t = 0; t < o->n; t++) {
        mean[t] = n ? terms[t] / n : (double)NAN;
        ev.term_bits[t] = mean[t] * NN_LOG2E;
    }
    ev.loss_bits = nn_obj_combine(o, mean, e->epoch) * NN_LOG2E;
    ev.error = n && o->classifies ? (double)wrong / n : (double)NAN;
    if (error_det) *error_det = !det ? ev.error : n ? (double)wrong_det / n : (double)NAN;
    return ev;
}

nn_eval nn_evaluate(nn_model *m, const nn_obj *o, const nn_dataset *d, const nn_eval_cfg *e, rt_ctx *c) {
    return evaluate(m, o, d, e, c, NULL);
}

nn_eval nn_evaluate_det(nn_model *m, const nn_obj *o, const nn_dataset *d, const nn_eval_cfg *e, rt_ctx *c,
                        double *error_det) {
    return evaluate(m, o, d, e, c, error_det);
}
