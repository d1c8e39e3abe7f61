// nn_train.c: the step protocol, the epoch loop, metrics and checkpoints (evaluation: nn_eval.c).
#define _DEFAULT_SOURCE                 /* madvise */
#include "nn_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>                     /* malloc_trim */
#endif

#include "rt_ckpt.h"
#include "rt_csv.h"
#include "rt_blas.h"
#include "rt_ops.h"
#include "rt_pool.h"
#include "rt_text.h"

nn_train_cfg nn_train_cfg_default(void) {
    nn_train_cfg c;
    memset(&c, 0, sizeof c);
    c.epochs = 10;
    c.batch = 100;
    c.eval_batch = 1000;
    c.eval_passes = 1;
    c.seed = 1;
    c.optim = rt_optim_cfg_default();
    c.checkpoint_every = 1;
    return c;
}

// ---- checkpoints ----

typedef struct train_state {
    rt_params *P;
    nn_model *m;                /* its state: batch norms' running statistics */
    rt_optim opt;
    rt_ema ema;
    rt_ema state_ema;           /* with ema and a model state: the EMA of the running statistics */
    bool has_ema;
    rt_rng data_at_epoch;       /* the data stream as the current epoch began */
    rt_rng noise;
    int32_t cursor[2];          /* epochs completed, steps done in the next epoch */
    const char *id;             /* the point's id (nn_train_cfg.point_id), or NULL */
} train_state;

/* What a checkpoint says it belongs to: the point id (when the caller gave one) and the
** parameters' names and shapes, one line each. */
static void shapes_text(const rt_params *P, rt_buf *b) {
    for (int i = 0; i < P->n; i++) {
        rt_buf_printf(b, "%s ", P->items[i].name);
        for (int d = 0; d < P->items[i].t->ndim; d++) rt_buf_printf(b, "%s%d", d ? "x" : "", P->items[i].t->shape[d]);
        rt_buf_printf(b, "\n");
    }
}

static rt_status ckpt_save(const train_state *s, const char *dir, rt_err *err) {
    char path[1100];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    rt_ckpt *ck = rt_ckpt_new();
    rt_buf shapes = { 0 };
    shapes_text(s->P, &shapes);
    if (s->id) rt_ckpt_put(ck, "point", s->id, strlen(s->id));
    rt_ckpt_put(ck, "shapes", shapes.s, shapes.n);
    rt_buf_free(&shapes);
    size_t nb = s->P->total * sizeof(float);
    rt_ckpt_put(ck, "params", s->P->data, nb);
    rt_ckpt_put(ck, "optim.m", s->opt.m, nb);
    if (s->opt.v) rt_ckpt_put(ck, "optim.v", s->opt.v, nb);
    rt_ckpt_put(ck, "optim.t", &s->opt.t, sizeof s->opt.t);
    if (s->has_ema) {
        rt_ckpt_put(ck, "ema.shadow", s->ema.shadow, nb);
        rt_ckpt_put(ck, "ema.t", &s->ema.t, sizeof s->ema.t);
    }
    size_t ns = s->m->nstate * sizeof(float);
    if (ns) rt_ckpt_put(ck, "state", s->m->state, ns);
    if (ns && s->has_ema) {
        rt_ckpt_put(ck, "ema.state", s->state_ema.shadow, ns);
        rt_ckpt_put(ck, "ema.state.t", &s->state_ema.t, sizeof s->state_ema.t);
    }
    rt_ckpt_put(ck, "rng.data", &s->data_at_epoch, sizeof s->data_at_epoch);
    rt_ckpt_put(ck, "rng.noise", &s->noise, sizeof s->noise);
    rt_ckpt_put(ck, "cursor", s->cursor, sizeof s->cursor);
    rt_status st = rt_ckpt_save(ck, path, err);
    rt_ckpt_free(ck);
    return st;
}

/* A checkpoint of another point or of other parameter shapes is refused (one written before
** these blobs existed has neither and is read as before). */
static rt_status ckpt_belongs(const rt_ckpt *ck, const train_state *s, const char *path, rt_err *err) {
    size_t n;
    const char *id = rt_ckpt_data(ck, "point", &n), *here = s->id ? s->id : "?";
    if (id && s->id && (n != strlen(here) || memcmp(id, here, n) != 0))
        return rt_err_set(err, RT_ERR_FORMAT, "%s: a checkpoint of point %.*s, not of point %s (copied from "
                          "another point's directory?); delete it to restart %s from scratch", path,
                          (int)(n < 64 ? n : 64), id, here, here);
    const char *sh = rt_ckpt_data(ck, "shapes", &n);
    if (!sh) return RT_OK;
    rt_buf want = { 0 };
    shapes_text(s->P, &want);
    rt_status st = RT_OK;
    if (n != want.n || memcmp(sh, want.s, n) != 0) {
        size_t k = 0;               /* the first line that differs */
        while (k < n && k < want.n && sh[k] == want.s[k]) k++;
        while (k > 0 && want.s[k - 1] != '\n') k--;
        const char *a = k < n ? sh + k : "(none)\n", *b = k < want.n ? want.s + k : "(none)\n";
        st = rt_err_set(err, RT_ERR_FORMAT, "%s: the checkpoint of point %s holds parameter %.*s where the model "
                        "has %.*s (the model changed since it was written); delete it to restart the point from "
                        "scratch", path, here, (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
    }
    rt_buf_free(&want);
    return st;
}

/* Loads dir/checkpoint into s if it exists; *found tells whether it did. Its cursor must lie in
** the run: 0..epochs epochs done, 0..steps steps into the next (none after the last). */
static rt_status ckpt_load(train_state *s, const char *dir, int epochs, int steps, bool *found, rt_err *err) {
    char path[1100];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    FILE *f = fopen(path, "rb");
    *found = f != NULL;
    if (!f) return RT_OK;
    fclose(f);
    rt_ckpt *ck = rt_ckpt_load(path, err);
    if (!ck) return err->status;
    size_t nb = s->P->total * sizeof(float);
    rt_status st = ckpt_belongs(ck, s, path, err);
    if (!st) st = rt_ckpt_get(ck, "params", s->P->data, nb, err);
    if (!st) st = rt_ckpt_get(ck, "optim.m", s->opt.m, nb, err);
    if (!st && s->opt.v) st = rt_ckpt_get(ck, "optim.v", s->opt.v, nb, err);
    if (!st) st = rt_ckpt_get(ck, "optim.t", &s->opt.t, sizeof s->opt.t, err);
    if (!st && s->has_ema) st = rt_ckpt_get(ck, "ema.shadow", s->ema.shadow, nb, err);
    if (!st && s->has_ema) st = rt_ckpt_get(ck, "ema.t", &s->ema.t, sizeof s->ema.t, err);
    size_t ns = s->m->nstate * sizeof(float);
    if (!st && ns) st = rt_ckpt_get(ck, "state", s->m->state, ns, err);
    if (!st && ns && s->has_ema) st = rt_ckpt_get(ck, "ema.state", s->state_ema.shadow, ns, err);
    if (!st && ns && s->has_ema) st = rt_ckpt_get(ck, "ema.state.t", &s->state_ema.t, sizeof s->state_ema.t, err);
    if (!st) st = rt_ckpt_get(ck, "rng.data", &s->data_at_epoch, sizeof s->data_at_epoch, err);
    if (!st) st = rt_ckpt_get(ck, "rng.noise", &s->noise, sizeof s->noise, err);
    if (!st) st = rt_ckpt_get(ck, "cursor", s->cursor, sizeof s->cursor, err);
    if (!st && (s->cursor[0] < 0 || s->cursor[0] > epochs || s->cursor[1] < 0 || s->cursor[1] > steps ||
                (s->cursor[0] == epochs && s->cursor[1] != 0)))
        st = rt_err_set(err, RT_ERR_FORMAT, "%s: its cursor (epoch %d, step %d) lies outside this point's %d "
                        "epochs of %d steps (a damaged or forged checkpoint); delete it to restart the point "
                        "from scratch", path, (int)s->cursor[0], (int)s->cursor[1], epochs, steps);
    rt_ckpt_free(ck);
    if (st) rt_err_prefix(err, "resuming from %s: ", path);
    return st;
}

/* timing.csv: wall-clock seconds, and what ran them: the thread count (rt_blas_threads) and
** OpenBLAS's kernel set, which decide the bytes of everything else along with the seed. */
#define TIMING_HEADER "epoch,train_seconds,eval_seconds,samples_per_s,threads,blas_kernels\n"

/* Resuming after a kill: the CSV written after the checkpoint is dropped, so that the resumed
** run appends exactly what the uninterrupted one wrote. A point killed after its files took
** their final names (but before its result was recorded) gets its .part files back. Keeps the
** header and the complete rows whose epoch is <= keep. header, when not NULL, is what the
** file's first line must be: a file written by an older vibrun, whose header differs, gets it,
** and its kept rows get pad appended (the empty fields of the new columns). */
static rt_status keep_rows_until(const char *dir, const char *name, int keep, const char *header,
                                 const char *pad, rt_err *err) {
    char part[1100], final[1100];
    snprintf(final, sizeof final, "%s/%s", dir, name);
    snprintf(part, sizeof part, "%s/%s.part", dir, name);
    FILE *f = fopen(part, "rb");
    if (!f && rename(final, part) == 0) f = fopen(part, "rb");
    if (!f) return RT_OK;
    size_t cap = 1 << 16, n = 0, k;
    char *s = rt_xmalloc(cap);
    while ((k = fread(s + n, 1, cap - n, f)) > 0)
        if ((n += k) == cap && !(s = realloc(s, cap *= 2))) RT_ABORT("out of memory");
    fclose(f);
    size_t out = 0, hlen = header ? strlen(header) : 0, plen = pad ? strlen(pad) : 0;
    bool upgrade = header && (n < hlen || memcmp(s, header, hlen) != 0);
    char *t = upgrade ? rt_xmalloc(n + hlen + (n + 1) * plen) : s;    /* rows written in place otherwise */
    for (size_t i = 0, line = 0; i < n; line++) {
        char *nl = memchr(s + i, '\n', n - i);
        if (!nl) break;                                 /* a torn last line */
        size_t len = (size_t)(nl - (s + i)) + 1;
        if (upgrade && line == 0) {
            memcpy(t, header, hlen);
            out = hlen;
        } else if (line == 0 || atoi(s + i) <= keep) {
            size_t body = upgrade ? len - 1 : len;      /* an upgraded row gets pad before its newline */
            memmove(t + out, s + i, body);
            out += body;
            if (upgrade) {
                memcpy(t + out, pad, plen);
                out += plen;
                t[out++] = '\n';
            }
        }
        i += len;
    }
    rt_status st = rt_write_atomic(part, t, out, err);
    if (t != s) free(t);
    free(s);
    return st;
}

// ---- metrics ----

/* Which error columns metrics.csv has: error_sd with several passes; error_det when stochastic
** layers sample in evaluation (then the means / mean-field network is evaluated too). */
typedef struct metric_cols {
    bool sd, det;
} metric_cols;

static metric_cols metric_cols_of(const nn_model *m, const nn_obj *o, const nn_train_cfg *cfg) {
    bool samples_in_eval = false;      /* layers that draw when eval_samples > 0 (not dropout) */
    for (int i = 0; i < m->n; i++) {
        nn_layer_kind k = m->layers[i].spec.kind;
        samples_in_eval |= k == NN_LAYER_GAUSS || k == NN_LAYER_BERN || k == NN_LAYER_NOISE;
    }
    return (metric_cols){ cfg->eval_passes > 1, samples_in_eval && cfg->eval_samples > 0 && o->classifies };
}

static rt_status metrics_open(rt_csv *w, const nn_obj *o, metric_cols mc, const char *dir, bool append,
                              rt_err *err) {
    const char *cols[NN_MAX_TERMS + 7];
    char names[NN_MAX_TERMS][48];
    int k = 0;
    cols[k++] = "epoch";
    cols[k++] = "split";
    cols[k++] = "loss_bits";
    for (int t = 0; t < o->n; t++) {
        snprintf(names[t], sizeof names[t], "%s_bits", o->terms[t].name);
        cols[k++] = names[t];
    }
    cols[k++] = "error";
    if (mc.sd) cols[k++] = "error_sd";
    if (mc.det) cols[k++] = "error_det";
    cols[k++] = "lr";
    char path[1100];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    return rt_csv_open(w, path, cols, k, append, err);
}

/* One split's evaluation over the passes, and the deterministic one. */
typedef struct split_eval {
    nn_eval ev;                 /* means over the passes; ev.stopped: cut short by *stop */
    double error_sd, error_det;
} split_eval;

static split_eval evaluate_split(nn_model *m, const nn_obj *o, const nn_dataset *d, nn_eval_cfg e,
                                 int passes, metric_cols mc, rt_ctx *c) {
    split_eval r;
    memset(&r, 0, sizeof r);
    double errs[1024];
    RT_ASSERT(passes >= 1 && passes <= 1024);
    r.error_det = (double)NAN;
    for (int p = 0; p < passes; p++) {
        e.pass = p;
        /* the first pass also runs the mean network, on the same encoder rows */
        nn_eval ev = mc.det && p == 0 ? nn_evaluate_det(m, o, d, &e, c, &r.error_det) : nn_evaluate(m, o, d, &e, c);
        if (ev.stopped) {
            r.ev.stopped = true;
            return r;
        }
        errs[p] = ev.error;
        r.ev.loss_bits += ev.loss_bits / passes;
        r.ev.error += ev.error / passes;
        for (int t = 0; t < o->n; t++) r.ev.term_bits[t] += ev.term_bits[t] / passes;
    }
    double ss = 0.0;
    for (int p = 0; p < passes; p++) ss += (errs[p] - r.ev.error) * (errs[p] - r.ev.error);
    r.error_sd = passes > 1 ? sqrt(ss / (passes - 1)) : 0.0;
    return r;
}

static rt_status metrics_row(rt_csv *w, const nn_obj *o, metric_cols mc, int epoch, const char *split,
                             const split_eval *se, float lr, rt_err *err) {
    rt_csv_int(w, epoch);
    rt_csv_str(w, split);
    rt_csv_num(w, se->ev.loss_bits);
    for (int t = 0; t < o->n; t++) rt_csv_num(w, se->ev.term_bits[t]);
    rt_csv_num(w, se->ev.error);
    if (mc.sd) rt_csv_num(w, se->error_sd);
    if (mc.det) rt_csv_num(w, se->error_det);
    rt_csv_numf(w, lr);
    return rt_csv_end_row(w, err);
}

/* Exchanges the weights (and the running statistics) with their EMA, when on: evaluation runs on
** the averages; call twice. */
static void ema_swap(train_state *s) {
    if (!s->has_ema) return;
    rt_ema_swap(&s->ema, s->P->data);
    if (s->m->nstate) rt_ema_swap(&s->state_ema, s->m->state);
}

/* Evaluates both splits (EMA weights when on) and appends their rows; sets *stopped, and writes
** nothing, when cfg->stop cut the evaluation short. */
static rt_status evaluate_epoch(nn_model *m, const nn_obj *o, const nn_dataset *train,
                                const nn_dataset *test, const nn_train_cfg *cfg, train_state *s,
                                rt_ctx *c, rt_csv *w, int epoch, float lr, nn_result *res,
                                bool *stopped, rt_err *err) {
    metric_cols mc = metric_cols_of(m, o, cfg);
    ema_swap(s);
    nn_eval_cfg e = { .limit = cfg->train_eval_limit, .batch = cfg->eval_batch, .samples = cfg->eval_samples,
                      .avg = cfg->eval_avg, .seed = cfg->seed, .point = cfg->point, .epoch = (double)epoch,
                      .stop = cfg->stop };
    split_eval tr = evaluate_split(m, o, train, e, cfg->eval_passes, mc, c), te = { 0 };
    e.limit = 0;
    if (!tr.ev.stopped) te = evaluate_split(m, o, test, e, cfg->eval_passes, mc, c);
    ema_swap(s);
    *stopped = tr.ev.stopped || te.ev.stopped;
    if (*stopped) return RT_OK;
    res->train_loss_bits = tr.ev.loss_bits;
    res->train_error = tr.ev.error;
    res->test_loss_bits = te.ev.loss_bits;
    res->test_error = te.ev.error;
    res->test_error_det = te.error_det;
    memcpy(res->term_bits, te.ev.term_bits, sizeof res->term_bits);
    rt_status st = metrics_row(w, o, mc, epoch, "train", &tr, lr, err);
    if (!st) st = metrics_row(w, o, mc, epoch, "test", &te, lr, err);
    return st;
}

/* The information plane of a scheduled epoch, on the weights evaluation uses; sets *stopped when
** cfg->stop cut it short. */
static rt_status measure_epoch(nn_measure *mm, nn_model *m, const nn_obj *o, const nn_train_cfg *cfg,
                               train_state *s, rt_ctx *c, int epoch, bool *stopped, rt_err *err) {
    if (!mm || !nn_measure_due(mm, epoch, cfg->epochs)) return RT_OK;
    ema_swap(s);
    rt_status st = nn_measure_epoch(mm, m, o, epoch, cfg->eval_batch, c, err);
    ema_swap(s);
    *stopped = mm->stopped;
    return st;
}

// ---- one step ----

double nn_train_step(const nn_step *s, const nn_dataset *d, const int32_t *idx, int b, float lr,
                     double epoch) {
    return nn_train_step_aug(s, d, idx, NULL, b, lr, epoch);
}

double nn_train_step_aug(const nn_step *s, const nn_dataset *d, const int32_t *idx, const uint8_t *aug, int b,
                         float lr, double epoch) {
    rt_ctx *c = s->ctx;
    rt_params *P = &s->m->params;
    rt_ctx_reset(c);
    rt_tensor *x = rt_tensor_new_raw(c, 2, (int[]){ b, d->dim });    /* the gather fills it */
    x->flags |= RT_INPUT;
    int32_t *y = rt_arena_alloc_raw(&c->step, (size_t)b * sizeof *y);
    nn_data_gather_aug(d, idx, aug, b, x->data, y);
    /* No zeroing here: the gradient buffer is zero between steps (rt_params_finalize zero-fills
    ** it and the optimizer below clears each chunk as it consumes it). */
    nn_fwd f = { c, true, s->noise, 0, 0, 0, NULL };
    /* Only the objective reads layer outputs after the forward, each term its own layer's. */
    rt_tensor *out = nn_model_forward_step(s->m, &f, x, s->o->keep, s->o->nkeep);
    nn_obj_in in = { out, x, y, b, &f, epoch };
    nn_obj_out r = nn_obj_forward(s->o, s->m, c, &in);
    double loss = (double)r.loss->data[0];
    if (!isfinite(loss)) return loss;
    rt_backward(c, r.loss);
    if (s->opt->cfg.clip_norm > 0.0f) rt_grad_clip(P->grad, P->total, s->opt->cfg.clip_norm);
    rt_optim_step_ema(s->opt, P->data, P->grad, s->ema, lr);     /* NULL ema: no EMA */
    if (s->state_ema) rt_ema_update(s->state_ema, s->m->state);
    return loss;
}

// ---- the loop ----

static bool finite_all(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return false;
    return true;
}

/* Where the non-finite loss of the step just run came from, for the message that marks the point
** diverged: a parameter already non-finite (the previous update), else the first op on the tape
** whose output holds a NaN or infinity, and the first layer whose output does (or the objective,
** after the layers). The tape of the failed step is still there: its backward never ran. */
static void locate_nonfinite(const nn_model *m, const rt_ctx *c, char *out, size_t size) {
    const rt_params *P = &m->params;
    for (int i = 0; i < P->n; i++)
        if (!finite_all(P->items[i].t->data, (size_t)P->items[i].t->n)) {
            snprintf(out, size, "parameter %s was already non-finite (the update before this step made it so)",
                     P->items[i].name);
            return;
        }
    int k = 0;
    while (k < c->ntape && finite_all(c->tape[k]->data, (size_t)c->tape[k]->n)) k++;
    int layer = 0;
    while (layer < m->n && (!m->layers[layer].y || finite_all(m->layers[layer].y->data, (size_t)m->layers[layer].y->n)))
        layer++;
    char shape[64] = "";
    if (k < c->ntape) rt_shape_str(c->tape[k], shape, sizeof shape);
    const nn_layer_spec *l = layer < m->n ? &m->layers[layer].spec : NULL;
    snprintf(out, size, "the first non-finite value came from %s%s%s%s, %s%s%s%s%s%s",
             k < c->ntape ? "op " : "", k < c->ntape ? rt_op_name(c->tape[k]->op) : "an op off the tape",
             k < c->ntape ? " " : "", shape, l ? "in layer '" : "in the objective, after the model's layers",
             l ? l->name : "", l ? "'" : "", l && l->where[0] ? " (" : "", l ? l->where : "",
             l && l->where[0] ? ")" : "");
}

rt_status nn_check_data(const nn_model *m, const nn_obj *o, const nn_dataset *train, const nn_dataset *test,
                        rt_err *err) {
    if (train->dim != m->in)
        return rt_err_set(err, RT_ERR_ARG, "the data has %d features per example but the model expects %d",
                          train->dim, m->in);
    int nclass = test && test->nclass > train->nclass ? test->nclass : train->nclass;
    rt_status st = nn_obj_check_labels(o, m, nclass, train->source, err);
    if (!st) st = nn_obj_check_inputs(o, train->x, train->n, train->dim, train->source, err);
    if (!st && test) st = nn_obj_check_inputs(o, test->x, test->n, test->dim, test->source, err);
    return st;
}

/* What a point holds while it trains: its state, its open files, and where it resumed. */
typedef struct train_run {
    train_state s;
    rt_ctx c;
    rt_csv w;                   /* metrics.csv(.part) */
    nn_measure *mm;             /* info.csv(.part) and info_timing.csv(.part); NULL when not measured */
    FILE *timing;               /* timing.csv.part */
    char tpath[1100];
    int32_t *perm;              /* an epoch's order of the training examples */
    uint8_t *aug;               /* and their augmentation codes, in that order; NULL when off */
    bool found;                 /* resumed from dir/checkpoint */
    bool reeval;                /* ... of the last epoch, whose evaluation is redone */
    size_t eval_peak, measure_peak;     /* the arenas' high-water marks at the last epoch's end */
} train_run;

/* Open: the state drawn from (seed, point) or, with cfg->resume, read from dir/checkpoint, the CSV
** files cut back to the checkpoint's epoch, and the point's files opened (appended to when it
** resumed). r is zeroed by the caller; train_close frees what this allocated, even on failure. */
static rt_status train_open(train_run *r, nn_model *m, const nn_obj *o, const nn_dataset *train,
                            const nn_dataset *test, const nn_train_cfg *cfg, rt_err *err) {
    train_state *s = &r->s;
    s->P = &m->params;
    s->m = m;
    rt_rng init;
    rt_rng_stream(&init, cfg->seed, cfg->point, RT_STREAM_INIT);
    rt_rng_stream(&s->data_at_epoch, cfg->seed, cfg->point, RT_STREAM_DATA);
    rt_rng_stream(&s->noise, cfg->seed, cfg->point, RT_STREAM_NOISE);
    nn_model_init(m, &init);
    /* The optimizer and EMA passes run on the GEMM's threads (rt_blas_pool), between GEMMs, when
    ** those threads would idle. The results do not depend on the thread count. */
    rt_pool *pool = rt_blas_pool();
    s->id = cfg->point_id;
    rt_optim_init(&s->opt, &cfg->optim, s->P->total);
    s->opt.pool = pool;
    s->has_ema = cfg->ema > 0.0f;
    if (s->has_ema) {
        rt_ema_init(&s->ema, cfg->ema, cfg->ema_warmup, s->P->data, s->P->total);
        s->ema.debias = cfg->ema_debias;
        s->ema.pool = pool;
        /* The running statistics are averaged as the weights are (timm's ModelEmaV2 does the same
        ** with a model's buffers), so that evaluation normalizes with the statistics of the
        ** averaged network rather than with those of the last weights. */
        if (m->nstate) {
            rt_ema_init(&s->state_ema, cfg->ema, cfg->ema_warmup, m->state, m->nstate);
            s->state_ema.debias = cfg->ema_debias;
        }
    }

    rt_ctx_init(&r->c, 16u << 20);
    r->perm = rt_xmalloc((size_t)train->n * sizeof *r->perm);
    if (cfg->augment != NN_AUG_NONE) r->aug = rt_xmalloc((size_t)train->n + 1);
    rt_status st = RT_OK;
    bool found = false;
    if (cfg->resume)
        st = ckpt_load(s, cfg->dir, cfg->epochs, (train->n + cfg->batch - 1) / cfg->batch, &found, err);
    /* A checkpoint of the last epoch: its evaluation is redone (deterministic), so that the
    ** result is known again, with the same rows. */
    bool reeval = found && s->cursor[0] >= cfg->epochs && s->cursor[1] == 0;
    r->found = found;
    r->reeval = reeval;
    bool mm_on = cfg->measure && cfg->measure->on;
    int kept = s->cursor[0] - (reeval ? 1 : 0);
    if (!st && found) st = keep_rows_until(cfg->dir, "metrics.csv", kept, NULL, NULL, err);
    if (!st && found) st = keep_rows_until(cfg->dir, "timing.csv", s->cursor[0], TIMING_HEADER, ",,", err);
    if (!st && found && mm_on) st = keep_rows_until(cfg->dir, "info.csv", kept, NULL, NULL, err);
    if (!st && found && mm_on) st = keep_rows_until(cfg->dir, "info_timing.csv", kept, NULL, NULL, err);
    if (!st && found && mm_on && cfg->measure->audit)
        st = keep_rows_until(cfg->dir, "info_audit.csv", kept, NULL, NULL, err);
    if (!st) st = metrics_open(&r->w, o, metric_cols_of(m, o, cfg), cfg->dir, found, err);
    if (!st && mm_on) {
        r->mm = rt_xcalloc(1, sizeof *r->mm);
        st = nn_measure_open(r->mm, cfg->measure, m, o, train, test, cfg->seed, cfg->point, cfg->dir, found, err);
        r->mm->stop = cfg->stop;
    }
    if (st) return st;
    snprintf(r->tpath, sizeof r->tpath, "%s/timing.csv.part", cfg->dir);
    r->timing = rt_log_open(r->tpath, found, TIMING_HEADER, err);
    if (!r->timing) return RT_ERR_IO;
    return RT_OK;
}

/* Tells the progress callback what an epoch's end does ("evaluating", "measuring information"):
** a call with phase set, no step (not for epoch 0, the evaluation before training). */
static void epoch_phase(const nn_train_cfg *cfg, int epoch, const char *what) {
    if (!cfg->progress || epoch < 1) return;
    nn_progress p = { .epoch = epoch, .epochs = cfg->epochs, .step = 1, .steps = 1, .phase = what };
    cfg->progress(&p, cfg->progress_user);
}

/* Returns the heap's free pages to the kernel (glibc: the buffers the estimators freed are kept
** otherwise, once glibc has raised its mmap threshold past them). */
static void heap_trim(void) {
#ifdef __GLIBC__
    (void)malloc_trim(0);
#endif
}

/* Hands the whole pages of a zero-filled buffer back to the kernel (Linux: private anonymous
** pages read back as zeros), so that it is not resident until it is written again; the bytes it
** holds stay zero. Elsewhere it does nothing. */
static void drop_zero_pages(float *x, size_t n) {
#ifdef __linux__
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)x, b = (uintptr_t)(x + n);
    a = (a + page - 1) & ~(page - 1);
    b &= ~(page - 1);
    if (b > a) (void)madvise((void *)a, b - a, MADV_DONTNEED);
#else
    (void)x;
    (void)n;
#endif
}

/* The evaluation and the information plane of an epoch. Each runs in a step arena of its own,
** freed after it, so that the evaluation's peak (at eval_batch 1000 and 12 samples, 12,000 rows
** through the decoder: 70 MiB for the VIB model) is resident neither through the training steps,
** which need a few MiB, nor beside the estimators' buffers; and while they run the gradient
** buffer, zero between steps (nn_train_step), is not resident either. None of this changes a
** byte of what they compute. *stopped when a signal cut either short.
** From the second epoch on each arena starts at the size the last one reached (one chunk): grown
** by doubling from 16 MiB and then made one chunk at the first reset, a ResNet-20 evaluation at
** eval_batch 500 (over 1 GiB) wrote its pages twice over, hundreds of thousands of page faults. */
/* The first chunk of an epoch's evaluation or measurement arena: 16 MiB, or the last one's peak and
** an eighth (as rt_arena_reset sizes its one chunk). */
static size_t arena_start(size_t last_peak) {
    size_t s = last_peak + last_peak / 8;
    return s > (16u << 20) ? s : 16u << 20;
}

static rt_status epoch_end(train_run *r, nn_model *m, const nn_obj *o, const nn_dataset *train,
                           const nn_dataset *test, const nn_train_cfg *cfg, int epoch, float lr,
                           nn_result *res, bool *stopped, rt_err *err) {
    *stopped = false;
    drop_zero_pages(r->s.P->grad, r->s.P->total);
    rt_ctx ec;
    rt_ctx_init(&ec, arena_start(r->eval_peak));
    epoch_phase(cfg, epoch, "evaluating");
    rt_status st = evaluate_epoch(m, o, train, test, cfg, &r->s, &ec, &r->w, epoch, lr, res, stopped, err);
    if (ec.step.peak > r->eval_peak) r->eval_peak = ec.step.peak;
    rt_ctx_free(&ec);
    heap_trim();
    if (st || *stopped || !r->mm || !nn_measure_due(r->mm, epoch, cfg->epochs)) return st;
    epoch_phase(cfg, epoch, "measuring information");
    rt_ctx_init(&ec, arena_start(r->measure_peak));
    st = measure_epoch(r->mm, m, o, cfg, &r->s, &ec, epoch, stopped, err);
    if (ec.step.peak > r->measure_peak) r->measure_peak = ec.step.peak;
    rt_ctx_free(&ec);
    heap_trim();
    return st;
}

/* The epoch loop: the evaluation before the first epoch (or the redone last one), then per epoch
** the steps, the evaluation of both splits, the information plane when due, a timing row and the
** checkpoint. A diverged or interrupted point ends the loop with RT_OK and its res->status; an
** I/O error returns at once. */
static rt_status train_epochs(train_run *r, nn_model *m, const nn_obj *o, const nn_dataset *train,
                              const nn_dataset *test, const nn_train_cfg *cfg, nn_result *res, rt_err *err) {
    train_state *s = &r->s;
    rt_status st = RT_OK;
    double t_start = rt_now_s();
    int steps = (train->n + cfg->batch - 1) / cfg->batch;
    if (!r->found || r->reeval) {
        int e0 = r->found ? s->cursor[0] : 0;
        float lr0 = e0 == 0 ? rt_optim_lr(&cfg->optim, 0.0)
                            : rt_optim_lr(&cfg->optim, (double)(e0 - 1) + (double)(steps - 1) / steps);
        bool stopped;
        st = epoch_end(r, m, o, train, test, cfg, e0, lr0, res, &stopped, err);
        if (st) return st;
        if (stopped) {
            /* Nothing to checkpoint: a fresh point starts over, a redone last epoch keeps the
            ** checkpoint it was resumed from. */
            snprintf(res->status, sizeof res->status, "interrupted");
            return RT_OK;
        }
        /* A point of 0 epochs (a model imported with vib.load, evaluated and measured as it is)
        ** is checkpointed as it was evaluated, so that what reads a point's weights (an attack,
        ** `vibrun export`) reads them as for a trained one. */
        if (cfg->epochs == 0 && !r->found) {
            st = ckpt_save(s, cfg->dir, err);
            if (st) return st;
        }
    }
    nn_step stepper = { m, o, &r->c, &s->opt, s->has_ema ? &s->ema : NULL, &s->noise,
                        s->has_ema && m->nstate ? &s->state_ema : NULL };
    int32_t *perm = r->perm;
    int64_t samples_total = 0;
    snprintf(res->status, sizeof res->status, "done");
    res->epochs_done = s->cursor[0];
    for (int epoch = s->cursor[0] + 1; epoch <= cfg->epochs; epoch++) {
        /* The epoch's order comes from the data stream as it stood when the epoch began, so a
        ** resumed epoch replays the same permutation. */
        rt_rng data = s->data_at_epoch;
        for (int i = 0; i < train->n; i++) perm[i] = i;
        rt_rng_shuffle(&data, perm, (size_t)train->n);
        /* The augmentation of the whole epoch, drawn after its order from the same stream: a
        ** resumed epoch replays both, and nothing is drawn when augmentation is off. */
        if (r->aug) nn_data_augment_draw(&data, cfg->augment, r->aug, train->n);
        double t0 = rt_now_s(), run_loss = 0.0;
        int64_t samples = 0;
        /* The epoch's row reports the learning rate of its last step; a point resumed after that
        ** step runs none of the epoch's steps but writes the same row. */
        float lr = rt_optim_lr(&cfg->optim, (double)(epoch - 1) + (double)(steps - 1) / steps);
        for (int step = s->cursor[1]; step < steps; step++) {
            int b = train->n - step * cfg->batch < cfg->batch ? train->n - step * cfg->batch : cfg->batch;
            double at = (double)(epoch - 1) + (double)step / steps;
            lr = rt_optim_lr(&cfg->optim, at);
            const uint8_t *aug = r->aug ? r->aug + (size_t)step * cfg->batch : NULL;
            double loss = nn_train_step_aug(&stepper, train, perm + (size_t)step * cfg->batch, aug, b, lr, at);
            if (!isfinite(loss)) {
                snprintf(res->status, sizeof res->status, "diverged");
                res->diverged_epoch = epoch;
                locate_nonfinite(m, &r->c, res->diverged_at, sizeof res->diverged_at);
                goto finish;
            }
            samples += b;
            run_loss += loss * b;
            if (cfg->progress) {
                double el = rt_now_s() - t0, rate = samples / (el > 1e-9 ? el : 1e-9);
                double left = (double)(cfg->epochs - epoch) * train->n + (double)(train->n - samples);
                nn_progress p = { .epoch = epoch, .epochs = cfg->epochs, .step = step + 1, .steps = steps,
                                  .loss_bits = run_loss / samples * NN_LOG2E, .samples_per_s = rate,
                                  .elapsed_s = rt_now_s() - t_start, .eta_s = left / rate };
                cfg->progress(&p, cfg->progress_user);
            }
            if (cfg->stop && *cfg->stop) {
                s->cursor[1] = step + 1;
                snprintf(res->status, sizeof res->status, "interrupted");
                st = ckpt_save(s, cfg->dir, err);
                goto finish;
            }
        }
        double t_train = rt_now_s() - t0;
        samples_total += samples;
        double t1 = rt_now_s();
        bool stopped;
        st = epoch_end(r, m, o, train, test, cfg, epoch, lr, res, &stopped, err);
        if (st) return st;
        if (stopped) {
            /* A signal during the evaluation (IMB's 100 passes take minutes) stops it there: the
            ** checkpoint is the one a stop after the epoch's last step takes, and --resume runs the
            ** evaluation again (its noise is drawn afresh from (seed, point, pass)), so the rows
            ** come out the same. */
            s->cursor[1] = steps;
            snprintf(res->status, sizeof res->status, "interrupted");
            st = ckpt_save(s, cfg->dir, err);
            goto finish;
        }
        s->data_at_epoch = data;
        s->cursor[0] = epoch;
        s->cursor[1] = 0;
        double t_eval = rt_now_s() - t1;
        fprintf(r->timing, "%d,%.3f,%.3f,%.1f,%d,%s\n", epoch, t_train, t_eval,
                samples / (t_train > 0 ? t_train : 1), rt_blas_threads(), rt_blas_corename());
        fflush(r->timing);
        res->epochs_done = epoch;
        if (cfg->progress) {
            nn_progress p = { .epoch = epoch, .epochs = cfg->epochs, .step = steps, .steps = steps,
                              .loss_bits = run_loss / (samples ? samples : 1) * NN_LOG2E,
                              .samples_per_s = samples / (t_train > 0 ? t_train : 1),
                              .elapsed_s = rt_now_s() - t_start, .epoch_done = true,
                              .test_error = res->test_error };
            cfg->progress(&p, cfg->progress_user);
        }
        if (epoch % cfg->checkpoint_every == 0 || epoch == cfg->epochs) {
            st = ckpt_save(s, cfg->dir, err);
            if (st) return st;
        }
    }
finish:
    res->seconds = rt_now_s() - t_start;
    res->samples_per_s = samples_total / (res->seconds > 0 ? res->seconds : 1);
    return st;
}

/* Close, whatever st says: a point that ended (done or diverged) gets its final file names, and a
** done one with a 2-D gauss layer its latent dump; an interrupted one, or one that failed, keeps
** its .part files for --resume. Frees what train_open allocated; returns st or the first error of
** closing. */
static rt_status train_close(train_run *r, nn_model *m, const nn_dataset *test, const nn_train_cfg *cfg,
                             rt_status st, nn_result *res, rt_err *err) {
    train_state *s = &r->s;
    bool ended = st == RT_OK && strcmp(res->status, "interrupted") != 0;
    rt_err ignore = { 0 };
    rt_status cst = rt_csv_close(&r->w, ended, st ? &ignore : err);
    if (!st) st = cst;
    if (r->mm) {
        cst = nn_measure_close(r->mm, ended, st ? &ignore : err);
        if (!st) st = cst;
        memcpy(res->info, r->mm->last, (size_t)r->mm->nlast * sizeof *r->mm->last);
        res->ninfo = r->mm->nlast;
        snprintf(res->warn, sizeof res->warn, "%s", r->mm->warn);
        free(r->mm);
    }
    int latent = nn_latent_layer(m);
    if (!st && ended && strcmp(res->status, "done") == 0 && latent >= 0) {
        ema_swap(s);
        st = nn_latent_write(m, latent, test, cfg->eval_batch, &r->c, cfg->dir, err);
        ema_swap(s);
    }
    if (r->timing) {
        /* Its final name only with the others': a point whose files failed to close stays .part. */
        if (fclose(r->timing) != 0 && !st) st = rt_err_set(err, RT_ERR_IO, "%s: cannot write", r->tpath);
        if (ended && !st) {
            char final[1100];
            snprintf(final, sizeof final, "%s/timing.csv", cfg->dir);
            if (rename(r->tpath, final) != 0)
                st = rt_err_set(err, RT_ERR_IO, "cannot rename %s to timing.csv: %s", r->tpath, strerror(errno));
        }
    }
    free(r->perm);
    free(r->aug);
    rt_ctx_free(&r->c);
    rt_optim_free(&s->opt);
    if (s->has_ema) rt_ema_free(&s->ema);
    if (s->has_ema) rt_ema_free(&s->state_ema);
    return st;
}

/* Bytes of the activations of one batch of b examples in mode f: per layer, the rows (examples
** times the samples of the stochastic layers up to it, in double: particles nest) times its output,
** `copies` times (value, gradient); a Gaussian or Bernoulli layer adds its parameters and draws.
** Workspaces (a convolution's unfolded input, reused layer to layer) are left out: the estimate
** is meant to err low, refusing only what cannot fit: ResNet-20's quick run on the CIFAR sample
** (vib_cifar.lua, eval_batch 500 x 12 samples) peaks at 1.3 GB resident, data included (measured
** with /usr/bin/time -v); this estimate says 1.25 GB for the model alone, and said 4.2 GB when
** workspaces were counted per layer. *heavy gets the heaviest layer. */
static double activation_bytes(const nn_model *m, const nn_fwd *f, double b, double copies, int *heavy) {
    double rows = b, total = b * m->in * sizeof(float), worst = -1.0;
    for (int i = 0; i < m->n; i++) {
        const nn_layer *l = &m->layers[i];
        double in_rows = rows;
        rows *= nn_layer_multiplicity(l, f);
        double bytes = rows * l->out * sizeof(float) * copies;
        if (l->spec.kind == NN_LAYER_GAUSS || l->spec.kind == NN_LAYER_BERN)    /* (mu, sigma) or (h, p), draws */
            bytes += (2.0 * in_rows + rows) * l->out * sizeof(float);
        total += bytes;
        if (bytes > worst) {
            worst = bytes;
            *heavy = i;
        }
    }
    return total;
}

nn_mem_need nn_train_memory(const nn_model *m, const nn_train_cfg *cfg) {
    nn_mem_need r = { 0 };
    r.layer = -1;
    double copies = 2.0 + (cfg->optim.kind == RT_OPTIM_SGD ? 1.0 : 2.0) + (cfg->ema > 0.0f ? 1.0 : 0.0);
    r.params = (double)m->params.total * sizeof(float) * copies + (double)m->nstate * sizeof(float) * 2.0;
    nn_fwd train = { NULL, true, NULL, 0, 0, 0, NULL }, eval = { NULL, false, NULL, cfg->eval_samples, 0, 0, NULL };
    int heavy_step = -1, heavy_eval = -1;
    r.step = activation_bytes(m, &train, cfg->batch, 2.0, &heavy_step);
    r.eval = activation_bytes(m, &eval, cfg->eval_batch, 1.0, &heavy_eval);
    r.layer = r.step >= r.eval ? heavy_step : heavy_eval;
    r.total = r.params + (r.step > r.eval ? r.step : r.eval);
    return r;
}

rt_status nn_train_check_memory(const nn_model *m, const nn_train_cfg *cfg, double budget, rt_err *err) {
    nn_mem_need r = nn_train_memory(m, cfg);
    if (budget <= 0 || r.total <= budget) return RT_OK;
    const double gib = 1073741824.0;
    const nn_layer_spec *s = r.layer >= 0 ? &m->layers[r.layer].spec : NULL;
    return rt_err_set(err, RT_ERR_ARG, "%s%straining needs about %.3g GiB of memory (parameters with gradients, "
                      "optimizer state and EMA %.3g GiB; a training step at batch %d %.3g GiB; an evaluation at "
                      "eval_batch %d x eval_samples %d %.3g GiB%s%s%s), more than the %.3g GiB available "
                      "(VIB_MEMORY sets the budget in MiB); lower batch, eval_batch, eval_samples or the "
                      "particles, or make the model smaller", s ? s->where : "", s && s->where[0] ? ": " : "",
                      r.total / gib, r.params / gib, cfg->batch, r.step / gib, cfg->eval_batch, cfg->eval_samples,
                      r.eval / gib, s ? "; the heaviest layer is '" : "", s ? s->name : "", s ? "'" : "",
                      budget / gib);
}

rt_status nn_train(nn_model *m, const nn_obj *o, const nn_dataset *train, const nn_dataset *test,
                   const nn_train_cfg *cfg, nn_result *res, rt_err *err) {
    memset(res, 0, sizeof *res);
    RT_ASSERT(cfg->batch > 0 && cfg->eval_batch > 0 && cfg->epochs >= 0);
    RT_ASSERT(cfg->eval_passes >= 1 && cfg->eval_passes <= 1024);
    if (nn_check_data(m, o, train, test, err)) return RT_ERR_ARG;
    if (cfg->augment != NN_AUG_NONE && train->ndim != 3)
        return rt_err_set(err, RT_ERR_ARG, "augment = \"%s\" crops and mirrors images of shape (C, H, W), but "
                          "%s holds examples of %d dimension%s; use augment = \"none\"",
                          nn_augment_name(cfg->augment), train->source, train->ndim, train->ndim == 1 ? "" : "s");
    train_run r;
    memset(&r, 0, sizeof r);
    rt_status st = train_open(&r, m, o, train, test, cfg, err);
    if (!st) st = train_epochs(&r, m, o, train, test, cfg, res, err);
    return train_close(&r, m, test, cfg, st, res, err);
}
