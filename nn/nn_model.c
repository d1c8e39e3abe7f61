// nn_model.c: layer specs to layers: shape inference, parameters, initialisation, forward.
#include "nn_model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_ops.h"

// ---- names ----

static const char *const kind_names[NN_LAYER_COUNT] = {
    [NN_LAYER_LINEAR] = "linear", [NN_LAYER_RELU] = "relu", [NN_LAYER_TANH] = "tanh",
    [NN_LAYER_SIGMOID] = "sigmoid", [NN_LAYER_SOFTPLUS] = "softplus", [NN_LAYER_DROPOUT] = "dropout",
    [NN_LAYER_GAUSS] = "gauss", [NN_LAYER_BERN] = "bern", [NN_LAYER_NOISE] = "noise",
};

static const char *const init_names[NN_INIT_COUNT] = {
    [NN_INIT_DEFAULT] = "default", [NN_INIT_GLOROT] = "glorot", [NN_INIT_HE] = "he",
    [NN_INIT_NORMAL] = "normal",
};

const char *nn_layer_kind_name(nn_layer_kind k) {
    return (unsigned)k < NN_LAYER_COUNT ? kind_names[k] : "?";
}

bool nn_layer_kind_parse(const char *s, nn_layer_kind *k) {
    for (int i = 0; i < NN_LAYER_COUNT; i++)
        if (strcmp(s, kind_names[i]) == 0) { *k = (nn_layer_kind)i; return true; }
    return false;
}

const char *nn_init_name(nn_init i) { return (unsigned)i < NN_INIT_COUNT ? init_names[i] : "?"; }

bool nn_init_parse(const char *s, nn_init *i) {
    for (int j = 0; j < NN_INIT_COUNT; j++)
        if (strcmp(s, init_names[j]) == 0) { *i = (nn_init)j; return true; }
    return false;
}

nn_layer_spec nn_layer_spec_default(nn_layer_kind k) {
    nn_layer_spec s;
    memset(&s, 0, sizeof s);
    s.kind = k;
    s.bias = true;
    s.init = NN_INIT_DEFAULT;
    s.init_std = 0.01f;
    s.samples = 1;
    s.temperature = 1.0f;
    s.std = NN_ZERO_ENTROPY_STD;
    return s;
}

bool nn_layer_stochastic(const nn_layer_spec *s) {
    return s->kind == NN_LAYER_GAUSS || s->kind == NN_LAYER_BERN || s->kind == NN_LAYER_NOISE ||
           s->kind == NN_LAYER_DROPOUT;
}

// ---- build: shape inference and parameter registration ----

/* "x.lua:14: linear 'fc2': <message>" */
RT_PRINTF(3, 4)
static rt_status layer_err(rt_err *err, const nn_layer_spec *s, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rt_err_set(err, RT_ERR_ARG, "%s%s%s '%s': %s", s->where, s->where[0] ? ": " : "",
                      nn_layer_kind_name(s->kind), s->name, msg);
}

rt_status nn_model_build(nn_model *m, const nn_layer_spec *specs, int n, int in, rt_err *err) {
    memset(m, 0, sizeof *m);
    rt_params_init(&m->params);
    if (n <= 0) return rt_err_set(err, RT_ERR_ARG, "the model has no layers; give vib.seq at least one layer");
    m->layers = rt_xcalloc((size_t)n, sizeof *m->layers);
    m->n = n;
    m->in = in;
    int cur = in;
    char buf[128];
    for (int i = 0; i < n; i++) {
        nn_layer *l = &m->layers[i];
        l->spec = specs[i];
        const nn_layer_spec *s = &l->spec;
        for (int j = 0; j < i; j++)
            if (strcmp(m->layers[j].spec.name, s->name) == 0) {
                layer_err(err, s, "the name is already used by the layer at %s; give each layer its own name",
                          m->layers[j].spec.where);
                goto fail;
            }
        l->in = cur;
        switch (s->kind) {
        case NN_LAYER_LINEAR:
            if (s->out <= 0) {
                layer_err(err, s, "out must be a positive integer (the number of output units)");
                goto fail;
            }
            if (s->in != 0 && s->in != cur) {
                layer_err(err, s, "in=%d but the previous layer outputs %d; set in=%d or remove it",
                          s->in, cur, cur);
                goto fail;
            }
            l->out = s->out;
            snprintf(buf, sizeof buf, "%s.weight", s->name);
            l->w = rt_params_add(&m->params, buf, 2, (int[]){ l->out, l->in });
            if (s->bias) {
                snprintf(buf, sizeof buf, "%s.bias", s->name);
                l->b = rt_params_add(&m->params, buf, 1, (int[]){ l->out });
            }
            break;
        case NN_LAYER_GAUSS:
            if (s->out <= 0) {
                layer_err(err, s, "k must be a positive integer (the size of z)");
                goto fail;
            }
            if (s->samples < 1) {
                layer_err(err, s, "samples=%d must be >= 1", s->samples);
                goto fail;
            }
            l->out = s->out;
            snprintf(buf, sizeof buf, "%s.mu.weight", s->name);
            l->w = rt_params_add(&m->params, buf, 2, (int[]){ l->out, l->in });
            snprintf(buf, sizeof buf, "%s.mu.bias", s->name);
            l->b = rt_params_add(&m->params, buf, 1, (int[]){ l->out });
            if (s->sigma == NN_SIGMA_UNIT) {
                if (s->full_cov) {
                    layer_err(err, s, "a full covariance needs a scale head; use sigma = \"softplus\" or \"exp\"");
                    goto fail;
                }
                break;
            }
            if (s->full_cov && l->out > 32) {
                layer_err(err, s, "a full covariance is for small k (it has k(k+1)/2 scale outputs); k=%d, use the "
                          "diagonal one", l->out);
                goto fail;
            }
            int nscale = s->full_cov ? l->out * (l->out + 1) / 2 : l->out;
            snprintf(buf, sizeof buf, "%s.rho.weight", s->name);
            l->w2 = rt_params_add(&m->params, buf, 2, (int[]){ nscale, l->in });
            snprintf(buf, sizeof buf, "%s.rho.bias", s->name);
            l->b2 = rt_params_add(&m->params, buf, 1, (int[]){ nscale });
            break;
        case NN_LAYER_BERN:
            if (s->out <= 0) {
                layer_err(err, s, "units must be a positive integer (the number of binary neurons)");
                goto fail;
            }
            if (s->samples < 1) {
                layer_err(err, s, "particles=%d must be >= 1 (samples of the layer per incoming particle)",
                          s->samples);
                goto fail;
            }
            if (s->grad == NN_BERN_CONCRETE && !(s->temperature > 0.0f)) {
                layer_err(err, s, "temperature=%g must be > 0", (double)s->temperature);
                goto fail;
            }
            l->out = s->out;
            snprintf(buf, sizeof buf, "%s.weight", s->name);
            l->w = rt_params_add(&m->params, buf, 2, (int[]){ l->out, l->in });
            snprintf(buf, sizeof buf, "%s.bias", s->name);
            l->b = rt_params_add(&m->params, buf, 1, (int[]){ l->out });
            break;
        case NN_LAYER_NOISE:
            if (!(s->std > 0.0f) || !isfinite(s->std)) {
                layer_err(err, s, "std=%g must be > 0 (leave it out for zero-entropy noise, std = (2 pi e)^-1/2)",
                          (double)s->std);
                goto fail;
            }
            l->out = cur;
            break;
        case NN_LAYER_DROPOUT:
            if (!(s->p >= 0.0f && s->p < 1.0f)) {
                layer_err(err, s, "p=%g is not a probability in [0, 1)", (double)s->p);
                goto fail;
            }
            l->out = cur;
            break;
        case NN_LAYER_RELU: case NN_LAYER_TANH: case NN_LAYER_SIGMOID: case NN_LAYER_SOFTPLUS:
            l->out = cur;
            break;
        default:
            RT_ABORT("layer kind %d not handled", (int)s->kind);
        }
        cur = l->out;
    }
    m->out = cur;
    rt_params_finalize(&m->params);
    return RT_OK;
fail:
    nn_model_free(m);
    return err ? err->status : RT_ERR_ARG;
}

rt_tensor *nn_model_add_param(nn_model *m, const char *name, int ndim, const int *shape,
                              nn_pinit init, float a, float b) {
    RT_ASSERT(m->nextra < NN_MAX_EXTRA);
    rt_tensor *t = rt_params_add(&m->params, name, ndim, shape);
    m->extra[m->nextra++] = (nn_extra_param){ t, init, a, b };
    return t;
}

void nn_model_free(nn_model *m) {
    rt_params_free(&m->params);
    free(m->layers);
    memset(m, 0, sizeof *m);
}

// ---- initialisation ----

/* One dense map (W (out, in), b (out) or NULL) from its layer's initializer. */
static void init_dense(rt_tensor *w, rt_tensor *b, const nn_layer_spec *s, rt_rng *r) {
    float fan_in = (float)w->shape[1], fan_out = (float)w->shape[0];
    size_t nw = (size_t)w->n;
    switch (s->init) {
    case NN_INIT_DEFAULT: {
        float a = 1.0f / sqrtf(fan_in);
        rt_rng_fill_uniform(r, w->data, nw, -a, a);
        if (b) rt_rng_fill_uniform(r, b->data, (size_t)b->n, -a, a);
        return;
    }
    case NN_INIT_GLOROT: {
        float a = sqrtf(6.0f / (fan_in + fan_out));
        rt_rng_fill_uniform(r, w->data, nw, -a, a);
        break;
    }
    case NN_INIT_HE:
        rt_rng_fill_normal(r, w->data, nw, 0.0f, sqrtf(2.0f / fan_in));
        break;
    case NN_INIT_NORMAL:
        rt_rng_fill_normal(r, w->data, nw, 0.0f, s->init_std);
        break;
    default:
        RT_ABORT("init %d not handled", (int)s->init);
    }
    if (b) memset(b->data, 0, (size_t)b->n * sizeof(float));
}

void nn_model_init(nn_model *m, rt_rng *r) {
    for (int i = 0; i < m->n; i++) {
        nn_layer *l = &m->layers[i];
        if (l->w) init_dense(l->w, l->b, &l->spec, r);
        if (l->w2) init_dense(l->w2, l->b2, &l->spec, r);
    }
    for (int i = 0; i < m->nextra; i++) {
        nn_extra_param *e = &m->extra[i];
        float *x = e->t->data;
        for (int64_t j = 0; j < e->t->n; j++) {
            if (e->init == NN_PINIT_CONST) { x[j] = e->a; continue; }
            double v = rt_rng_normal(r);
            /* Truncated as TensorFlow's truncated_normal: redraw beyond two standard deviations. */
            while (e->init == NN_PINIT_TRUNC_NORMAL && fabs(v) > 2.0) v = rt_rng_normal(r);
            x[j] = e->a + e->b * (float)v;
        }
    }
}

// ---- forward ----

static rt_tensor *dropout(const nn_fwd *f, rt_tensor *x, float p) {
    if (!f->train || p == 0.0f) return x;
    /* Inverted dropout: keep with probability 1-p and scale by 1/(1-p); the mask is a constant
    ** input of a mul, so the tape differentiates through it without a dropout op. */
    rt_tensor *mask = rt_tensor_like(f->ctx, x);
    float keep = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < x->n; i++)
        mask->data[i] = rt_rng_uniform(f->noise) >= (double)p ? keep : 0.0f;
    return rt_mul(f->ctx, x, mask);
}

/* Fills x (n values laid out (Q, examples, K), Q = n / (examples K): the rows of one example are
** Q apart) with N(0, std^2) noise, or U(0, 1) when !normal, for layer `layer`. In training, and
** when f->examples is 0, the values come in order from f->noise. In evaluation each example's
** come from a generator of its own, derived from f->noise (not advanced), the layer and the
** example's index f->example0 + e: an example gets the same noise whatever the evaluation batch
** size and whatever the other layers draw. */
static void draw(const nn_fwd *f, int layer, float *x, int64_t n, int K, bool normal, float std) {
    if (f->train || f->examples == 0) {
        if (normal) rt_rng_fill_normal(f->noise, x, (size_t)n, 0.0f, std);
        else rt_rng_fill_uniform(f->noise, x, (size_t)n, 0.0f, 1.0f);
        return;
    }
    int E = f->examples;
    RT_ASSERT(n % ((int64_t)E * K) == 0);
    int64_t Q = n / ((int64_t)E * K);
    float *buf = rt_arena_alloc_raw(&f->ctx->step, (size_t)(Q * K) * sizeof *buf);
    for (int e = 0; e < E; e++) {
        rt_rng r;
        rt_rng_derive(&r, f->noise, (uint64_t)layer, (uint64_t)(f->example0 + e));
        if (normal) rt_rng_fill_normal(&r, buf, (size_t)(Q * K), 0.0f, std);
        else rt_rng_fill_uniform(&r, buf, (size_t)(Q * K), 0.0f, 1.0f);
        for (int64_t q = 0; q < Q; q++)
            memcpy(x + ((size_t)q * E + e) * K, buf + q * K, (size_t)K * sizeof *buf);
    }
}

/* z = mu + sigma * eps, eps ~ N(0, I), S samples as extra rows (sample-major); the mean when S = 0.
** eps is a constant input of the mul, so backward uses the very noise the forward drew. */
static rt_tensor *gauss(const nn_fwd *f, int layer, nn_layer *l, rt_tensor *x) {
    rt_ctx *c = f->ctx;
    rt_tensor *mu = rt_linear(c, x, l->w, l->b);
    l->mu = mu;
    int S = f->train ? l->spec.samples : f->eval_samples;
    int B = mu->shape[0], K = mu->shape[1];
    l->eps = NULL;
    if (l->spec.sigma == NN_SIGMA_UNIT) {
        l->sigma = NULL;
    } else {
        rt_tensor *raw = rt_linear(c, x, l->w2, l->b2);
        rt_tensor *rho = l->spec.shift != 0.0f ? rt_affine(c, raw, 1.0f, l->spec.shift) : raw;
        l->sigma = l->spec.sigma == NN_SIGMA_EXP ? rt_exp(c, rho) : rt_softplus(c, rho);
        if (l->spec.full_cov) {
            /* L: the positive map on the diagonal entries, the raw outputs below it. */
            int P = K * (K + 1) / 2;
            rt_tensor *off = rt_tensor_new(c, 1, &P);
            l->diag = rt_tensor_new(c, 1, &P);
            for (int i = 0; i < K; i++)
                for (int j = 0; j <= i; j++) (i == j ? l->diag : off)->data[i * (i + 1) / 2 + j] = 1.0f;
            l->sigma = rt_add(c, rt_mul(c, l->sigma, l->diag), rt_mul(c, raw, off));
        }
    }
    if (S <= 0) return mu;
    RT_ASSERT(f->noise != NULL);
    rt_tensor *eps = rt_tensor_new(c, 3, (int[]){ S, B, K });
    draw(f, layer, eps->data, eps->n, K, true, 1.0f);
    l->eps = eps;
    rt_tensor *noise = !l->sigma ? eps : l->spec.full_cov ? rt_tril_mv(c, l->sigma, eps) : rt_mul(c, eps, l->sigma);
    rt_tensor *z = rt_add(c, mu, noise);                              /* (S, B, K) */
    return rt_reshape(c, z, 2, (int[]){ S * B, K });
}

/* p = sigmoid(W x + b); M particles z ~ Bern(p) per incoming row (particle-major rows), with the
** straight-through or the binary-Concrete gradient; the mean-field p when M = 0. Evaluation
** draws hard samples whatever the training estimator (the relaxation is a training device). */
static rt_tensor *bern(const nn_fwd *f, int layer, nn_layer *l, rt_tensor *x) {
    rt_ctx *c = f->ctx;
    rt_tensor *h = rt_linear(c, x, l->w, l->b);
    l->logits = h;
    rt_tensor *p = rt_sigmoid(c, h);
    int M = f->train ? l->spec.samples : f->eval_samples;
    if (M <= 0) return p;
    RT_ASSERT(f->noise != NULL);
    int R = h->shape[0], K = h->shape[1];
    rt_tensor *u = rt_tensor_new(c, 3, (int[]){ M, R, K });
    draw(f, layer, u->data, u->n, K, false, 0.0f);
    rt_tensor *z;
    if (f->train && l->spec.grad == NN_BERN_CONCRETE) {
        /* Logistic noise log u - log(1-u), u in (0,1): the draw u = 0 is nudged inside. */
        for (int64_t i = 0; i < u->n; i++) {
            double v = u->data[i] > 0.0f ? (double)u->data[i] : 0x1p-25;
            u->data[i] = (float)(log(v) - log1p(-v));
        }
        z = rt_sigmoid(c, rt_scale(c, rt_add(c, u, h), 1.0f / l->spec.temperature));
    } else {
        z = rt_bern_st(c, p, u);
    }
    return rt_reshape(c, z, 2, (int[]){ M * R, K });
}

/* z = x + std * eps: one draw per row in training; in evaluation eval_samples draws per incoming
** row (sample-major, like a gauss layer's), x itself when eval_samples = 0. */
static rt_tensor *noise(const nn_fwd *f, int layer, nn_layer *l, rt_tensor *x) {
    l->mu = x;
    if (!f->train && f->eval_samples <= 0) return x;
    RT_ASSERT(f->noise != NULL);
    int S = f->train || f->eval_samples == 1 ? 1 : f->eval_samples, R = x->shape[0], K = x->shape[1];
    rt_tensor *eps = S == 1 ? rt_tensor_like(f->ctx, x) : rt_tensor_new(f->ctx, 3, (int[]){ S, R, K });
    draw(f, layer, eps->data, eps->n, K, true, l->spec.std);
    if (S == 1) return rt_add(f->ctx, x, eps);
    return rt_reshape(f->ctx, rt_add(f->ctx, x, eps), 2, (int[]){ S * R, K });
}

int nn_layer_multiplicity(const nn_layer *l, const nn_fwd *f) {
    if (l->spec.kind == NN_LAYER_NOISE) return !f->train && f->eval_samples > 1 ? f->eval_samples : 1;
    if (l->spec.kind != NN_LAYER_GAUSS && l->spec.kind != NN_LAYER_BERN) return 1;
    int S = f->train ? l->spec.samples : f->eval_samples;
    return S > 0 ? S : 1;
}

int nn_model_rows_upto(const nn_model *m, const nn_fwd *f, int upto) {
    int r = 1;
    for (int i = 0; i <= upto && i < m->n; i++) r *= nn_layer_multiplicity(&m->layers[i], f);
    return r;
}

int nn_model_rows_per_input(const nn_model *m, const nn_fwd *f) {
    return nn_model_rows_upto(m, f, m->n - 1);
}

rt_tensor *nn_model_forward(nn_model *m, const nn_fwd *f, rt_tensor *x) {
    return nn_model_forward_range(m, f, x, 0, m->n);
}

static bool kept(const int *keep, int nkeep, int i) {
    for (int k = 0; k < nkeep; k++)
        if (keep[k] == i) return true;
    return false;
}

/* over: ReLU layers may write over the output of a linear layer just before them in the range.
** That output has no other reader: the linear op's backward reads its input, weights and dy, and
** the ReLU is the next layer's only input. */
static rt_tensor *forward(nn_model *m, const nn_fwd *f, rt_tensor *x, int from, int to, bool over,
                          const int *keep, int nkeep) {
    RT_ASSERT(from >= 0 && from <= to && to <= m->n);
    RT_ASSERT(x->ndim == 2 && x->shape[1] == (from == 0 ? m->in : m->layers[from - 1].out));
    rt_ctx *c = f->ctx;
    for (int i = from; i < to; i++) {
        nn_layer *l = &m->layers[i];
        switch (l->spec.kind) {
        case NN_LAYER_LINEAR: x = rt_linear(c, x, l->w, l->b); break;
        case NN_LAYER_RELU:
            if (over && i > from && m->layers[i - 1].spec.kind == NN_LAYER_LINEAR && !kept(keep, nkeep, i - 1)) {
                x = rt_relu_over(c, x);
                m->layers[i - 1].y = NULL;     /* its data now holds this layer's output */
            } else {
                x = rt_relu(c, x);
            }
            break;
        case NN_LAYER_TANH: x = rt_tanh(c, x); break;
        case NN_LAYER_SIGMOID: x = rt_sigmoid(c, x); break;
        case NN_LAYER_SOFTPLUS: x = rt_softplus(c, x); break;
        case NN_LAYER_DROPOUT: x = dropout(f, x, l->spec.p); break;
        case NN_LAYER_GAUSS: x = gauss(f, i, l, x); break;
        case NN_LAYER_BERN: x = bern(f, i, l, x); break;
        case NN_LAYER_NOISE: x = noise(f, i, l, x); break;
        default: RT_ABORT("layer kind %d not handled", (int)l->spec.kind);
        }
        l->y = x;
    }
    return x;
}

rt_tensor *nn_model_forward_range(nn_model *m, const nn_fwd *f, rt_tensor *x, int from, int to) {
    return forward(m, f, x, from, to, false, NULL, 0);
}

rt_tensor *nn_model_forward_step(nn_model *m, const nn_fwd *f, rt_tensor *x, const int *keep, int nkeep) {
    return forward(m, f, x, 0, m->n, true, keep, nkeep);
}

int nn_model_find(const nn_model *m, const char *name) {
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->layers[i].spec.name, name) == 0) return i;
    return -1;
}

void nn_model_summary(const nn_model *m, char *buf, size_t size) {
    size_t k = 0;
#define PUT(...) do { if (k < size) k += (size_t)snprintf(buf + k, size - k, __VA_ARGS__); } while (0)
    PUT("%-16s %-10s %-14s %12s\n", "layer", "kind", "output", "parameters");
    char in_shape[32];
    snprintf(in_shape, sizeof in_shape, "(B, %d)", m->in);
    PUT("%-16s %-10s %-14s %12s\n", "input", "", in_shape, "");
    size_t total = 0;
    for (int i = 0; i < m->n; i++) {
        const nn_layer *l = &m->layers[i];
        size_t np = (l->w ? (size_t)l->w->n : 0) + (l->b ? (size_t)l->b->n : 0) +
                    (l->w2 ? (size_t)l->w2->n : 0) + (l->b2 ? (size_t)l->b2->n : 0);
        total += np;
        char shape[32];
        snprintf(shape, sizeof shape, "(B, %d)", l->out);
        PUT("%-16s %-10s %-14s %12zu\n", l->spec.name, nn_layer_kind_name(l->spec.kind), shape, np);
    }
    for (int i = 0; i < m->nextra; i++) {
        const rt_tensor *t = m->extra[i].t;
        char shape[32];
        rt_shape_str(t, shape, sizeof shape);
        PUT("%-16s %-10s %-14s %12lld\n", t->name, "objective", shape, (long long)t->n);
        total += (size_t)t->n;
    }
    PUT("total parameters: %zu\n", total);
#undef PUT
}
