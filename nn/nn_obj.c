// nn_obj.c: objective terms, resolved against the model and computed on the tape.
#include "nn_obj.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rt_ops.h"

#define TWO_PI_E 17.079468445347132     /* 2 pi e */
#define LOGVAR_DELTA 1e-6f              /* added to batch variances inside the log */

static const char *const term_names[NN_TERM_COUNT] = {
    [NN_TERM_CE] = "ce", [NN_TERM_KL] = "kl", [NN_TERM_LOGVAR] = "logvar", [NN_TERM_L2] = "l2",
    [NN_TERM_CEB] = "ceb", [NN_TERM_KDE] = "kde", [NN_TERM_CONFIDENCE] = "confidence",
    [NN_TERM_RECON] = "recon", [NN_TERM_CUSTOM] = "custom",
};

static const char *const expr_names[NN_EXPR_COUNT] = {
    [NN_EXPR_TERM] = "term", [NN_EXPR_CONST] = "const", [NN_EXPR_ADD] = "add", [NN_EXPR_SUB] = "sub",
    [NN_EXPR_MUL] = "mul", [NN_EXPR_DIV] = "div", [NN_EXPR_NEG] = "neg", [NN_EXPR_LOG] = "log",
    [NN_EXPR_EXP] = "exp", [NN_EXPR_SQRT] = "sqrt", [NN_EXPR_SQUARE] = "square",
};

const char *nn_term_kind_name(nn_term_kind k) { return (unsigned)k < NN_TERM_COUNT ? term_names[k] : "?"; }

bool nn_term_kind_parse(const char *s, nn_term_kind *k) {
    for (int i = 0; i < NN_TERM_COUNT; i++)
        if (strcmp(s, term_names[i]) == 0) { *k = (nn_term_kind)i; return true; }
    return false;
}

const char *nn_expr_op_name(nn_expr_op op) { return (unsigned)op < NN_EXPR_COUNT ? expr_names[op] : "?"; }

bool nn_expr_op_parse(const char *s, nn_expr_op *op) {
    for (int i = 0; i < NN_EXPR_COUNT; i++)
        if (strcmp(s, expr_names[i]) == 0) { *op = (nn_expr_op)i; return true; }
    return false;
}

nn_term_spec nn_term_spec_default(nn_term_kind k) {
    nn_term_spec t;
    memset(&t, 0, sizeof t);
    t.kind = k;
    t.weight = 1.0f;
    snprintf(t.name, sizeof t.name, "%s", nn_term_kind_name(k));
    return t;
}

// ---- build ----

/* "x.lua:12: term 'kl': <message>" */
RT_PRINTF(3, 4)
static rt_status term_err(rt_err *err, const nn_term_spec *t, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rt_err_set(err, RT_ERR_ARG, "%s%sterm '%s': %s", t->where, t->where[0] ? ": " : "", t->name, msg);
}

static bool is_kind(const nn_model *m, int layer, nn_layer_kind k) {
    return layer >= 0 && m->layers[layer].spec.kind == k;
}

/* A term parameter "<term>.<what>", drawn by nn_model_init. */
static rt_tensor *term_param(nn_model *m, const nn_term_spec *t, const char *what, int ndim,
                             const int *shape, nn_pinit init, float a, float b) {
    char name[64];
    snprintf(name, sizeof name, "%s.%s", t->name, what);
    return nn_model_add_param(m, name, ndim, shape, init, a, b);
}

/* Whether some layer draws particles (rows per example) in training: a gauss or bern layer. */
static bool draws_particles(const nn_model *m) {
    for (int i = 0; i < m->n; i++)
        if (is_kind(m, i, NN_LAYER_GAUSS) || is_kind(m, i, NN_LAYER_BERN)) return true;
    return false;
}

/* Whether term t reads layer li's output (kept by the forward pass) rather than only the layer's own
** tensors: a bern layer's KL reads its logits, so its particles need not exist as floats. */
static bool reads_output(const nn_model *m, const nn_term_spec *t, int li) {
    return !(t->kind == NN_TERM_KL && li >= 0 && m->layers[li].spec.kind == NN_LAYER_BERN);
}

/* Adds layer li to the layers whose outputs the forward pass keeps for the objective. */
static bool keep_layer(nn_obj *o, int li) {
    for (int k = 0; k < o->nkeep; k++)
        if (o->keep[k] == li) return true;
    if (li < 0) return true;
    if (o->nkeep == (int)(sizeof o->keep / sizeof o->keep[0])) return false;
    o->keep[o->nkeep++] = li;
    return true;
}

static rt_status check_term(nn_obj *o, int i, nn_model *m, rt_err *err) {
    nn_term_spec *t = &o->terms[i];
    int li = o->layer[i];
    const char *lname = t->layer;
    int width = li < 0 ? m->out : m->layers[li].out;
    if (li >= 0 && m->layers[li].spatial)
        return term_err(err, t, "layer '%s' outputs a (%d, %d, %d) map, and terms read feature vectors; put the "
                        "layer after a vib.global_avgpool {} or vib.flatten {}", lname, m->layers[li].shape[0],
                        m->layers[li].shape[1], m->layers[li].shape[2]);
    switch (t->kind) {
    case NN_TERM_CE:
        if (width < 2)
            return term_err(err, t, "cross-entropy needs at least 2 logits, the layer gives %d", width);
        if (!(t->smoothing >= 0.0f && t->smoothing < 1.0f))
            return term_err(err, t, "smoothing=%g must be in [0, 1)", (double)t->smoothing);
        o->average[i] = -2;
        if (strcmp(t->average, "input") == 0) o->average[i] = -1;
        else if (t->average[0]) {
            o->average[i] = nn_model_find(m, t->average);
            if (o->average[i] < 0)
                return term_err(err, t, "average='%s' names no layer; give a layer name, or \"input\" to average over every particle",
                                t->average);
        }
        if (o->average[i] != -2 && !draws_particles(m)) {
            /* A vib.noise layer draws one sample per example in training: the average over
            ** particles would be the decoder's cross-entropy under another name. */
            return term_err(err, t, "average='%s' averages over the particles of vib.gauss or vib.bern layers, and the "
                            "model has none (a vib.noise layer draws one sample per example in training, so this would "
                            "equal the decoder's cross-entropy); drop average (relevance = \"decoder\")", t->average);
        }
        o->classifies = true;
        break;
    case NN_TERM_KL:
        if (is_kind(m, li, NN_LAYER_BERN)) {
            int K = m->layers[li].out;
            /* The learned factorized prior r = sigmoid(w), w ~ TruncNormal(0, 0.5) (the IMB code). */
            o->param[i][0] = term_param(m, t, "prior", 1, &K, NN_PINIT_TRUNC_NORMAL, 0.0f, 0.5f);
            if (t->components > 0) return term_err(err, t, "components applies to gauss layers; a bern layer's prior is factorized");
            break;
        }
        if (!is_kind(m, li, NN_LAYER_GAUSS))
            return term_err(err, t, "the KL term reads a stochastic layer; set layer = the name of a vib.gauss or vib.bern layer%s%s%s",
                            lname[0] ? " ('" : "", lname, lname[0] ? "' is not one)" : "");
        if (t->components < 0) return term_err(err, t, "components=%d must be >= 0", t->components);
        if (t->components > 0) {
            int C = t->components, K = m->layers[li].out;
            t->mc = true;                                   /* no closed form against a mixture */
            o->param[i][0] = term_param(m, t, "prior.means", 2, (int[]){ C, K }, NN_PINIT_NORMAL, 0.0f, 1.0f);
            o->param[i][1] = term_param(m, t, "prior.logscale", 2, (int[]){ C, K }, NN_PINIT_CONST, 0.0f, 0.0f);
            o->param[i][2] = term_param(m, t, "prior.logits", 1, &C, NN_PINIT_CONST, 0.0f, 0.0f);
        }
        break;
    case NN_TERM_CEB:
        if (!is_kind(m, li, NN_LAYER_GAUSS))
            return term_err(err, t, "the CEB term reads a vib.gauss layer (its encoder e(z|x)); set layer = its name");
        if (m->out < 2)
            return term_err(err, t, "the backward encoder b(z|y) needs class labels; the model outputs %d value(s)", m->out);
        /* b(z|y) = N(A onehot(y), I): one learned mean per class. */
        o->param[i][0] = term_param(m, t, "means", 2, (int[]){ m->out, m->layers[li].out }, NN_PINIT_NORMAL, 0.0f, 1.0f);
        break;
    case NN_TERM_KDE:
        if (li < 0) return term_err(err, t, "the KDE term reads a layer; set layer = the noise layer (or another layer and var)");
        if (!(t->var >= 0.0f)) return term_err(err, t, "var=%g must be > 0", (double)t->var);
        if (t->var == 0.0f) {
            if (!is_kind(m, li, NN_LAYER_NOISE))
                return term_err(err, t, "layer '%s' adds no noise; read a vib.noise layer or give var (the kernel variance)", lname);
            t->var = m->layers[li].spec.std * m->layers[li].spec.std;
        }
        break;
    case NN_TERM_CONFIDENCE:
        if (width < 2) return term_err(err, t, "the confidence penalty needs at least 2 logits, the layer gives %d", width);
        break;
    case NN_TERM_RECON:
        if (li >= 0) return term_err(err, t, "the reconstruction term reads the model output; remove layer");
        if (m->out != m->in)
            return term_err(err, t, "the decoder outputs %d values but the input has %d; end the model with vib.linear { out = %d }",
                            m->out, m->in, m->in);
        break;
    case NN_TERM_CUSTOM: {
        if (!t->graph) RT_ABORT("custom term '%s' without an expression", t->name);
        rt_status st = nn_expr_build(t->graph, m, t->name, t->where, t->layer, err);
        if (st) return st;
        o->layer[i] = t->graph->rate_layer;
        int reads[NN_XMAX_NODES], n = nn_expr_layers(t->graph, reads, NN_XMAX_NODES);
        for (int k = 0; k < n; k++)
            if (!keep_layer(o, reads[k]))
                return term_err(err, t, "the objective reads more than %d layers", (int)(sizeof o->keep / sizeof o->keep[0]));
        break;
    }
    case NN_TERM_LOGVAR: case NN_TERM_L2:
        if (t->per_class && m->out < 2)
            return term_err(err, t, "per_class needs class labels; the model outputs %d value(s)", m->out);
        break;
    default:
        RT_ABORT("term kind %d not handled", (int)t->kind);
    }
    if (!(t->weight >= 0.0f)) return term_err(err, t, "weight %g must be >= 0", (double)t->weight);
    if (t->sched != NN_WSCHED_CONST && !(t->sched_epochs > 0.0f))
        return term_err(err, t, "the schedule needs epochs > 0 (got %g)", (double)t->sched_epochs);
    if (t->sched == NN_WSCHED_LOG && !(t->sched_from > 0.0f && t->weight > 0.0f))
        return term_err(err, t, "a log-annealed weight needs from > 0 and weight > 0");
    return RT_OK;
}

static rt_status check_expr(const nn_obj *o, rt_err *err) {
    int depth = 0;
    for (int i = 0; i < o->nexpr; i++) {
        const nn_expr_ins *e = &o->expr[i];
        switch (e->op) {
        case NN_EXPR_TERM:
            if (e->term < 0 || e->term >= o->n) RT_ABORT("objective expression reads term %d of %d", e->term, o->n);
            depth++;
            break;
        case NN_EXPR_CONST: depth++; break;
        case NN_EXPR_ADD: case NN_EXPR_SUB: case NN_EXPR_MUL: case NN_EXPR_DIV: depth--; break;
        default: break;
        }
        if (depth < 1) RT_ABORT("objective expression underflows at instruction %d", i);
    }
    if (depth != 1)
        return rt_err_set(err, RT_ERR_ARG, "%s: the objective expression leaves %d values; it must give one number",
                          o->terms[0].where, depth);
    return RT_OK;
}

rt_status nn_obj_build(nn_obj *o, const nn_term_spec *terms, int n, const nn_expr_ins *expr,
                       int nexpr, nn_model *m, rt_err *err) {
    memset(o, 0, sizeof *o);
    if (n <= 0) return rt_err_set(err, RT_ERR_ARG, "the objective has no terms");
    if (n > NN_MAX_TERMS)
        return rt_err_set(err, RT_ERR_ARG, "%s: the objective has %d terms; at most %d are supported",
                          terms[0].where, n, NN_MAX_TERMS);
    if (nexpr > NN_MAX_EXPR)
        return rt_err_set(err, RT_ERR_ARG, "%s: the objective expression has %d operations; at most %d are supported",
                          terms[0].where, nexpr, NN_MAX_EXPR);
    rt_status st = RT_OK;
    for (int i = 0; i < n && !st; i++) {
        const nn_term_spec *t = &terms[i];
        o->terms[i] = *t;
        for (int j = 0; j < i; j++)
            if (strcmp(terms[j].name, t->name) == 0)
                return term_err(err, t, "the name appears twice; give each term its own name");
        o->layer[i] = -1;
        if (t->layer[0]) {
            o->layer[i] = nn_model_find(m, t->layer);
            if (o->layer[i] < 0)
                return term_err(err, t, "reads layer '%s', but the model has no layer of that name", t->layer);
        }
        if (t->kind != NN_TERM_CUSTOM && reads_output(m, t, o->layer[i]))
            keep_layer(o, o->layer[i]);                                /* one per term: room for all */
        st = check_term(o, i, m, err);
    }
    o->n = n;
    if (!st && nexpr > 0) {
        memcpy(o->expr, expr, (size_t)nexpr * sizeof *expr);
        o->nexpr = nexpr;
        st = check_expr(o, err);
    }
    if (!m->params.final) rt_params_finalize(&m->params);
    return st;
}

// ---- forward: each term on the tape ----

/* The labels for `rows` rows of sample-major output: labels repeated rows/B times. */
static const int32_t *labels_for(rt_ctx *c, const int32_t *labels, int B, int rows) {
    if (rows == B) return labels;
    RT_ASSERT(rows % B == 0);
    int32_t *rep = rt_arena_alloc_raw(&c->step, (size_t)rows * sizeof *rep);
    for (int s = 0; s < rows / B; s++) memcpy(rep + (size_t)s * B, labels, (size_t)B * sizeof *rep);
    return rep;
}

static rt_tensor *onehot(rt_ctx *c, const int32_t *y, int rows, int C) {
    rt_tensor *t = rt_tensor_new(c, 2, (int[]){ rows, C });
    for (int i = 0; i < rows; i++) {
        RT_ASSERT(y[i] >= 0 && y[i] < C && "labels checked by nn_obj_check_labels");
        t->data[(size_t)i * C + y[i]] = 1.0f;
    }
    return t;
}

static rt_tensor *constant(rt_ctx *c, float v) {
    rt_tensor *t = rt_tensor_new(c, 1, (int[]){ 1 });
    t->data[0] = v;
    return t;
}

/* -log of q(y|.) averaged over the particles drawn after layer `avg` (-1: all of them): the
** leaves' log-likelihoods viewed as (D, U), U = B x particles up to the layer, and log-mean-exp
** over D (rows are particle-major, so a leaf's upstream prefix is its row modulo U). */
static rt_tensor *averaged_ce(rt_ctx *c, const nn_model *m, const nn_obj_in *in, rt_tensor *ce, int avg) {
    int rows = ce->shape[0];
    int U = in->B * (avg < 0 ? 1 : nn_model_rows_upto(m, in->f, avg));
    RT_ASSERT(rows % U == 0);
    int D = rows / U;
    if (D == 1) return ce;
    rt_tensor *ll = rt_reshape(c, rt_scale(c, ce, -1.0f), 2, (int[]){ D, U });
    return rt_affine(c, rt_logsumexp(c, ll, 0, false), -1.0f, logf((float)D));
}

/* sum_i log L_ii per row of a full-covariance layer: log of the diagonal entries (the others
** read as log 1). */
static rt_tensor *full_logdet_half(rt_ctx *c, const nn_layer *l) {
    rt_tensor *off = rt_affine(c, l->diag, -1.0f, 1.0f);
    return rt_sum(c, rt_log(c, rt_add(c, rt_mul(c, l->sigma, l->diag), off)), 1, false);
}

/* KL(N(mu, L L^T) || N(0, I)) = 1/2 (sum L_ij^2 + |mu|^2 - K) - sum log L_ii per row; mu NULL
** for a zero mean. */
static rt_tensor *full_kl(rt_ctx *c, const nn_layer *l, rt_tensor *mu) {
    int K = l->mu->shape[1];
    rt_tensor *q = rt_sum(c, rt_square(c, l->sigma), 1, false);
    if (mu) q = rt_add(c, q, rt_sum(c, rt_square(c, mu), 1, false));
    return rt_sub(c, rt_affine(c, q, 0.5f, -0.5f * (float)K), full_logdet_half(c, l));
}

/* log e(z|x) up to the constant -K/2 log 2 pi, for the S*R sampled rows of a gauss layer, as
** (S, R): sum_k -1/2 ((z - mu)/sigma)^2 - log sigma; with a full covariance -1/2 |eps|^2 -
** log det L (eps is constant under the reparameterization, so only log det L carries gradient). */
static rt_tensor *log_encoder(rt_ctx *c, const nn_layer *l) {
    int R = l->mu->shape[0], K = l->mu->shape[1], S = l->y->shape[0] / R;
    if (l->spec.full_cov) {
        rt_tensor *e2 = rt_tensor_new(c, 2, (int[]){ S, R });
        for (int64_t i = 0; i < e2->n; i++) {
            double acc = 0.0;
            for (int k = 0; k < K; k++) acc += (double)l->eps->data[i * K + k] * (double)l->eps->data[i * K + k];
            e2->data[i] = (float)(-0.5 * acc);
        }
        return rt_sub(c, e2, full_logdet_half(c, l));
    }
    rt_tensor *z = rt_reshape(c, l->y, 3, (int[]){ S, R, K });
    rt_tensor *e = rt_sub(c, z, l->mu);
    if (l->sigma) e = rt_div(c, e, l->sigma);
    rt_tensor *lq = rt_scale(c, rt_sum(c, rt_square(c, e), 2, false), -0.5f);      /* (S, R) */
    if (l->sigma) lq = rt_sub(c, lq, rt_sum(c, rt_log(c, l->sigma), 1, false));
    return lq;
}

/* log r(z) up to -K/2 log 2 pi for the sampled rows, (S, R): N(0, I) or the learned mixture. */
static rt_tensor *log_prior(rt_ctx *c, const nn_layer *l, rt_tensor *const *mog) {
    int R = l->mu->shape[0], K = l->mu->shape[1], S = l->y->shape[0] / R;
    if (!mog[0])
        return rt_reshape(c, rt_scale(c, rt_sum(c, rt_square(c, l->y), 1, false), -0.5f), 2, (int[]){ S, R });
    rt_tensor *z = rt_reshape(c, l->y, 3, (int[]){ S * R, 1, K });
    rt_tensor *d = rt_div(c, rt_sub(c, z, mog[0]), rt_exp(c, mog[1]));              /* (SR, C, K) */
    rt_tensor *comp = rt_scale(c, rt_sum(c, rt_square(c, d), 2, false), -0.5f);    /* (SR, C) */
    rt_tensor *logpi = rt_sub(c, mog[2], rt_logsumexp(c, mog[2], 0, false));       /* (C) */
    comp = rt_add(c, comp, rt_sub(c, logpi, rt_sum(c, mog[1], 1, false)));
    return rt_reshape(c, rt_logsumexp(c, comp, 1, false), 2, (int[]){ S, R });
}

/* The class-conditional batch variances of z, (C, K), and the classes' weights pi (C): the
** frequency among rows of classes with 2 or more rows (the others carry no variance and weight 0). */
static rt_tensor *class_variances(rt_ctx *c, rt_tensor *z, const nn_obj_in *in, int C, rt_tensor **pi_out) {
    int N = z->shape[0];
    const int32_t *y = labels_for(c, in->labels, in->B, N);
    int *counts = rt_arena_alloc(&c->step, (size_t)C * sizeof *counts);
    for (int i = 0; i < N; i++) {
        RT_ASSERT(y[i] >= 0 && y[i] < C && "labels checked by nn_obj_check_labels");
        counts[y[i]]++;
    }
    int valid = 0;
    for (int k = 0; k < C; k++) valid += counts[k] >= 2 ? counts[k] : 0;
    /* W (C, N): row c averages the rows of class c. */
    rt_tensor *W = rt_tensor_new(c, 2, (int[]){ C, N }), *pi = rt_tensor_new(c, 1, (int[]){ C });
    for (int i = 0; i < N; i++)
        if (counts[y[i]] >= 2) W->data[(size_t)y[i] * N + i] = 1.0f / (float)counts[y[i]];
    for (int k = 0; k < C; k++) pi->data[k] = counts[k] >= 2 ? (float)counts[k] / (float)valid : 0.0f;
    rt_tensor *M = rt_matmul(c, W, z);                                       /* (C, K) means */
    rt_tensor *d = rt_sub(c, z, rt_matmul(c, onehot(c, y, N, C), M));
    *pi_out = pi;
    return rt_matmul(c, W, rt_square(c, d));                                 /* (C, K) */
}

/* sum_j 1/2 log(2 pi e (Var[z_j] + s^2) + delta'): batch variances, or per class weighted by
** frequency. For z = f + N(0, s^2 I) (a noise layer) the variance of z is Var[f] + s^2: computed
** so from f, the bound is exact in expectation, needs no noise sample, and holds in evaluation
** too; with zero-entropy noise each term is 1/2 log(1 + 2 pi e Var[f_j]) >= 0. Variances divide
** by the rows n (the batch's own distribution), not n - 1. */
static rt_tensor *logvar_term(rt_ctx *c, rt_tensor *z, float s2, const nn_obj_in *in, int C, bool per_class) {
    float a = (float)TWO_PI_E, b = (float)TWO_PI_E * (LOGVAR_DELTA + s2);
    if (!per_class) {
        rt_tensor *d = rt_sub(c, z, rt_mean(c, z, 0, true));
        rt_tensor *var = rt_mean(c, rt_square(c, d), 0, false);
        return rt_scale(c, rt_sum(c, rt_log(c, rt_affine(c, var, a, b)), RT_ALL, false), 0.5f);
    }
    rt_tensor *pi, *var = class_variances(c, z, in, C, &pi);
    rt_tensor *h = rt_sum(c, rt_log(c, rt_affine(c, var, a, b)), 1, false);  /* (C) */
    return rt_scale(c, rt_sum(c, rt_mul(c, h, pi), RT_ALL, false), 0.5f);
}

/* The L2 bound of H[Z|Y] (papers.md 2.5, the trace step): H[Z|Y=c] <= pi e tr Cov[Z|Y=c] - d/2,
** weighted by class frequency: one value per batch. Centred per class: the uncentred second
** moments would give pi e E|z|^2 - d/2 again, the bound of H[Z]. A noise layer adds d s^2 to
** each trace. */
static rt_tensor *l2_class_term(rt_ctx *c, rt_tensor *z, float s2, const nn_obj_in *in, int C) {
    float K = (float)z->shape[1], pie = (float)(TWO_PI_E / 2.0);
    rt_tensor *pi, *var = class_variances(c, z, in, C, &pi);
    rt_tensor *tr = rt_mul(c, rt_sum(c, var, 1, false), pi);                 /* (C) */
    return rt_affine(c, rt_sum(c, tr, RT_ALL, false), pie, pie * K * s2 - 0.5f * K);
}

/* -log 1/N sum_j exp(-|f_i - f_j|^2 / 2 var) per row: the pairwise-KDE bound on I(X;Z). */
static rt_tensor *kde_term(rt_ctx *c, rt_tensor *f, float var) {
    int N = f->shape[0];
    rt_tensor *sq = rt_sum(c, rt_square(c, f), 1, true);                     /* (N, 1) */
    rt_tensor *g = rt_matmul(c, f, rt_transpose(c, f));                      /* (N, N) */
    rt_tensor *d2 = rt_sub(c, rt_add(c, sq, rt_reshape(c, sq, 2, (int[]){ 1, N })), rt_scale(c, g, 2.0f));
    rt_tensor *lse = rt_logsumexp(c, rt_scale(c, d2, -0.5f / var), 1, false);
    return rt_affine(c, lse, -1.0f, logf((float)N));
}

/* The rate against a learned mixture when the layer gave its mean (evaluation with eval_samples =
** 0): there is no closed form, and the closed form against N(0, I) would be another number. One
** sample z = mu + sigma eps per example scores log e(z|x) - log r(z), eps drawn from the
** evaluation's own noise stream, derived per (layer, example) under a tag of its own: the same
** for any eval_batch, and apart from the draws the layers make. */
#define MIXTURE_EVAL_TAG 0x6D6978u      /* "mix": keeps these draws apart from the layers' own */
static rt_tensor *mixture_kl_at_mean(rt_ctx *c, int layer, const nn_layer *l, rt_tensor *const *mog,
                                     const nn_obj_in *in) {
    RT_ASSERT(in->f && in->f->noise && "evaluation passes its noise stream");
    int B = l->mu->shape[0], K = l->mu->shape[1];
    rt_tensor *eps = rt_tensor_new(c, 3, (int[]){ 1, B, K });
    for (int e = 0; e < B; e++) {
        rt_rng r;
        rt_rng_derive(&r, in->f->noise, MIXTURE_EVAL_TAG + (uint64_t)layer, (uint64_t)(in->f->example0 + e));
        rt_rng_fill_normal(&r, eps->data + (size_t)e * K, (size_t)K, 0.0f, 1.0f);
    }
    nn_layer s = *l;                    /* the layer as if it had drawn this one sample */
    s.eps = eps;
    rt_tensor *noise = !l->sigma ? eps : l->spec.full_cov ? rt_tril_mv(c, l->sigma, eps) : rt_mul(c, eps, l->sigma);
    s.y = rt_reshape(c, rt_add(c, l->mu, noise), 2, (int[]){ B, K });
    return rt_reshape(c, rt_sub(c, log_encoder(c, &s), log_prior(c, &s, mog)), 1, (int[]){ B });
}

static rt_tensor *term_forward(const nn_obj *o, int i, const nn_model *m, rt_ctx *c, const nn_obj_in *in) {
    const nn_term_spec *t = &o->terms[i];
    const nn_layer *l = o->layer[i] < 0 ? NULL : &m->layers[o->layer[i]];
    rt_tensor *src = l ? l->y : in->out;       /* NULL for a term that reads no output (reads_output) */
    int rows = src ? src->shape[0] : 0;
    switch (t->kind) {
    case NN_TERM_CE: {
        rt_tensor *ce = rt_softmax_ce(c, src, labels_for(c, in->labels, in->B, rows), t->smoothing);
        return o->average[i] == -2 ? ce : averaged_ce(c, m, in, ce, o->average[i]);
    }
    case NN_TERM_KL:
        if (l->spec.kind == NN_LAYER_BERN) return rt_bern_kl(c, l->logits, o->param[i][0]);
        if (t->components > 0 && l->y == l->mu) return mixture_kl_at_mean(c, o->layer[i], l, o->param[i], in);
        if (!t->mc || l->y == l->mu) {
            /* Closed form (also when evaluation uses the mean: no sample to score). */
            if (l->spec.full_cov) return full_kl(c, l, l->mu);
            rt_tensor *sigma = l->sigma;
            if (!sigma) {
                sigma = rt_tensor_like(c, l->mu);
                for (int64_t k = 0; k < sigma->n; k++) sigma->data[k] = 1.0f;
            }
            return rt_gauss_kl(c, l->mu, sigma);
        }
        return rt_reshape(c, rt_sub(c, log_encoder(c, l), log_prior(c, l, o->param[i])), 1, (int[]){ rows });
    case NN_TERM_CEB: {
        int R = l->mu->shape[0];
        rt_tensor *by = rt_matmul(c, onehot(c, labels_for(c, in->labels, in->B, R), R, m->out), o->param[i][0]);
        if (l->y == l->mu) {
            /* Evaluation with the mean: the expected residual E_e[log e - log b] in closed form,
            ** 1/2 |mu - b_y|^2 + 1/2 sum(sigma^2 - 1 - 2 log sigma). */
            rt_tensor *r = rt_scale(c, rt_sum(c, rt_square(c, rt_sub(c, l->mu, by)), 1, false), 0.5f);
            if (l->spec.full_cov) {
                r = rt_add(c, r, full_kl(c, l, NULL));
            } else if (l->sigma) {
                rt_tensor *zero = rt_tensor_like(c, l->mu);
                r = rt_add(c, r, rt_gauss_kl(c, zero, l->sigma));
            }
            return r;
        }
        int S = rows / R, K = l->mu->shape[1];
        rt_tensor *z = rt_reshape(c, l->y, 3, (int[]){ S, R, K });
        rt_tensor *lb = rt_scale(c, rt_sum(c, rt_square(c, rt_sub(c, z, by)), 2, false), -0.5f);
        return rt_reshape(c, rt_sub(c, log_encoder(c, l), lb), 1, (int[]){ rows });
    }
    case NN_TERM_LOGVAR: {
        bool noisy = l && l->spec.kind == NN_LAYER_NOISE;
        return logvar_term(c, noisy ? l->mu : src, noisy ? l->spec.std * l->spec.std : 0.0f, in, m->out,
                           t->per_class);
    }
    case NN_TERM_L2: {
        /* pi e E|z|^2 - d/2; for a noise layer E|f + e|^2 = |f|^2 + d s^2. */
        bool noisy = l && l->spec.kind == NN_LAYER_NOISE;
        float K = (float)src->shape[1], s2 = noisy ? l->spec.std * l->spec.std : 0.0f;
        if (t->per_class) return l2_class_term(c, noisy ? l->mu : src, s2, in, m->out);
        float pie = (float)(TWO_PI_E / 2.0);
        return rt_affine(c, rt_sum(c, rt_square(c, noisy ? l->mu : src), 1, false), pie, pie * K * s2 - 0.5f * K);
    }
    case NN_TERM_KDE:
        return kde_term(c, l->spec.kind == NN_LAYER_NOISE ? l->mu : src, t->var);
    case NN_TERM_CONFIDENCE:
        return rt_scale(c, rt_softmax_entropy(c, src), -1.0f);
    case NN_TERM_CUSTOM: {
        nn_xin xi = { in->out, in->x, in->labels, in->B, in->epoch, NULL };
        return nn_expr_forward(t->graph, m, c, &xi);
    }
    case NN_TERM_RECON: {
        int B = in->B, D = src->shape[1], S = rows / B;
        rt_tensor *o3 = rt_reshape(c, src, 3, (int[]){ S, B, D });
        rt_tensor *nll;
        if (t->gaussian) {
            rt_tensor *e = rt_sum(c, rt_square(c, rt_sub(c, o3, in->x)), 2, false);
            nll = rt_affine(c, e, 0.5f, 0.5f * (float)D * logf(2.0f * 3.14159265358979f));
        } else {
            /* -log Bern(x | sigmoid(o)) = softplus(o) - x o, for x in [0, 1]. */
            nll = rt_sum(c, rt_sub(c, rt_softplus(c, o3), rt_mul(c, o3, in->x)), 2, false);
        }
        return rt_reshape(c, nll, 1, (int[]){ rows });
    }
    default: RT_ABORT("term kind %d not handled", (int)t->kind);
    }
}

/* h of a term's mean (nn_term_h), in double for nn_obj_combine. */
static double apply_h(nn_term_h h, double v) {
    return h == NN_H_SQUARE ? v * v : h == NN_H_EXP ? exp(v) : v;
}

double nn_obj_weight(const nn_obj *o, int i, double epoch) {
    const nn_term_spec *t = &o->terms[i];
    double w = t->weight, a = t->sched_epochs > 0.0f ? epoch / (double)t->sched_epochs : 1.0;
    if (a > 1.0) a = 1.0;
    if (a < 0.0) a = 0.0;
    switch (t->sched) {
    case NN_WSCHED_LINEAR: return w * a;
    case NN_WSCHED_LOG: return (double)t->sched_from * pow(w / (double)t->sched_from, a);
    default: return w;
    }
}

double nn_obj_combine(const nn_obj *o, const double *mean, double epoch) {
    if (o->nexpr == 0) {
        double loss = 0.0;
        for (int i = 0; i < o->n; i++) loss += nn_obj_weight(o, i, epoch) * apply_h(o->terms[i].h, mean[i]);
        return loss;
    }
    double st[NN_MAX_EXPR];
    int sp = 0;
    for (int k = 0; k < o->nexpr; k++) {
        const nn_expr_ins *e = &o->expr[k];
        switch (e->op) {
        case NN_EXPR_TERM: st[sp++] = nn_obj_weight(o, e->term, epoch) * apply_h(o->terms[e->term].h, mean[e->term]); break;
        case NN_EXPR_CONST: st[sp++] = e->value; break;
        case NN_EXPR_ADD: sp--; st[sp - 1] += st[sp]; break;
        case NN_EXPR_SUB: sp--; st[sp - 1] -= st[sp]; break;
        case NN_EXPR_MUL: sp--; st[sp - 1] *= st[sp]; break;
        case NN_EXPR_DIV: sp--; st[sp - 1] /= st[sp]; break;
        case NN_EXPR_NEG: st[sp - 1] = -st[sp - 1]; break;
        case NN_EXPR_LOG: st[sp - 1] = log(st[sp - 1]); break;
        case NN_EXPR_EXP: st[sp - 1] = exp(st[sp - 1]); break;
        case NN_EXPR_SQRT: st[sp - 1] = sqrt(st[sp - 1]); break;
        case NN_EXPR_SQUARE: st[sp - 1] *= st[sp - 1]; break;
        default: RT_ABORT("expression op %d not handled", (int)e->op);
        }
    }
    return st[0];
}

/* Terms that read the class labels: each label indexes one of the model's outputs. */
static bool reads_labels(const nn_term_spec *t) {
    return t->kind == NN_TERM_CE || t->kind == NN_TERM_CEB || (t->kind == NN_TERM_LOGVAR && t->per_class) ||
           (t->kind == NN_TERM_CUSTOM && t->graph->labels);
}

bool nn_obj_is_rate(const nn_obj *o, int i) {
    return o->terms[i].kind == NN_TERM_KL || (o->terms[i].kind == NN_TERM_CUSTOM && o->terms[i].graph->rate);
}

rt_status nn_obj_check_labels(const nn_obj *o, const nn_model *m, int nclass, const char *source,
                              rt_err *err) {
    for (int i = 0; i < o->n; i++)
        if (reads_labels(&o->terms[i]) && nclass > m->out)
            return term_err(err, &o->terms[i], "the data (%s) has labels 0 to %d, %d classes, but the model "
                            "outputs %d values, one per class; end the model with vib.linear { out = %d }",
                            source, nclass - 1, nclass, m->out, nclass);
    return RT_OK;
}

rt_status nn_obj_check_inputs(const nn_obj *o, const float *x, int n, int dim, const char *source, rt_err *err) {
    for (int i = 0; i < o->n; i++) {
        const nn_term_spec *t = &o->terms[i];
        if (t->kind != NN_TERM_RECON || t->gaussian) continue;
        for (int64_t k = 0; k < (int64_t)n * dim; k++)
            if (!(x[k] >= 0.0f && x[k] <= 1.0f))
                return term_err(err, t, "the Bernoulli likelihood reads inputs in [0, 1], but the data (%s) has %g at "
                                "example %lld, feature %lld; scale the data to [0, 1] (scale = \"unit\") or use "
                                "likelihood = \"gaussian\"", source, (double)x[k], (long long)(k / dim) + 1,
                                (long long)(k % dim) + 1);
    }
    return RT_OK;
}

nn_obj_out nn_obj_forward(const nn_obj *o, const nn_model *m, rt_ctx *c, const nn_obj_in *in) {
    nn_obj_out r;
    memset(&r, 0, sizeof r);
    rt_tensor *mean[NN_MAX_TERMS];
    for (int i = 0; i < o->n; i++) {
        r.term[i] = term_forward(o, i, m, c, in);
        mean[i] = rt_mean(c, r.term[i], RT_ALL, false);
        if (o->terms[i].h == NN_H_SQUARE) mean[i] = rt_square(c, mean[i]);
        else if (o->terms[i].h == NN_H_EXP) mean[i] = rt_exp(c, mean[i]);
        double w = nn_obj_weight(o, i, in->epoch);
        if (w != 1.0) mean[i] = rt_scale(c, mean[i], (float)w);
    }
    if (o->nexpr == 0) {
        for (int i = 0; i < o->n; i++) r.loss = r.loss ? rt_add(c, r.loss, mean[i]) : mean[i];
        return r;
    }
    rt_tensor *st[NN_MAX_EXPR];
    int sp = 0;
    for (int k = 0; k < o->nexpr; k++) {
        const nn_expr_ins *e = &o->expr[k];
        rt_tensor *a = sp >= 1 ? st[sp - 1] : NULL, *b = sp >= 2 ? st[sp - 2] : NULL;
        switch (e->op) {
        case NN_EXPR_TERM: st[sp++] = mean[e->term]; break;
        case NN_EXPR_CONST: st[sp++] = constant(c, e->value); break;
        case NN_EXPR_ADD: st[--sp - 1] = rt_add(c, b, a); break;
        case NN_EXPR_SUB: st[--sp - 1] = rt_sub(c, b, a); break;
        case NN_EXPR_MUL: st[--sp - 1] = rt_mul(c, b, a); break;
        case NN_EXPR_DIV: st[--sp - 1] = rt_div(c, b, a); break;
        case NN_EXPR_NEG: st[sp - 1] = rt_scale(c, a, -1.0f); break;
        case NN_EXPR_LOG: st[sp - 1] = rt_log(c, a); break;
        case NN_EXPR_EXP: st[sp - 1] = rt_exp(c, a); break;
        case NN_EXPR_SQRT: st[sp - 1] = rt_sqrt(c, a); break;
        case NN_EXPR_SQUARE: st[sp - 1] = rt_square(c, a); break;
        default: RT_ABORT("expression op %d not handled", (int)e->op);
        }
    }
    r.loss = st[0];
    return r;
}
