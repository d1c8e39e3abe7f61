// nn_model.c: layer specs to layers: shape inference, parameters, initialisation, forward.
#include "nn_model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_arena.h"
#include "rt_ops.h"

// ---- names ----

static const char *const kind_names[NN_LAYER_COUNT] = {
    [NN_LAYER_LINEAR] = "linear", [NN_LAYER_RELU] = "relu", [NN_LAYER_TANH] = "tanh",
    [NN_LAYER_SIGMOID] = "sigmoid", [NN_LAYER_SOFTPLUS] = "softplus", [NN_LAYER_DROPOUT] = "dropout",
    [NN_LAYER_GAUSS] = "gauss", [NN_LAYER_BERN] = "bern", [NN_LAYER_NOISE] = "noise",
    [NN_LAYER_CONV] = "conv", [NN_LAYER_CONV_T] = "conv_transpose", [NN_LAYER_MAXPOOL] = "maxpool",
    [NN_LAYER_AVGPOOL] = "avgpool", [NN_LAYER_GAP] = "global_avgpool", [NN_LAYER_FLATTEN] = "flatten",
    [NN_LAYER_BATCHNORM] = "batchnorm", [NN_LAYER_GROUPNORM] = "groupnorm", [NN_LAYER_LAYERNORM] = "layernorm",
    [NN_LAYER_RESIDUAL] = "residual",
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
    s.stride[0] = s.stride[1] = 1;
    s.dilation[0] = s.dilation[1] = 1;
    s.groups = 1;
    s.momentum = 0.1f;
    s.eps = 1e-5f;
    s.affine = true;
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

/* The output shape of a layer and whether it is a (C, H, W) map. */
typedef struct shape3 { int c, h, w; bool spatial; } shape3;

static int64_t shape_n(shape3 s) { return (int64_t)s.c * s.h * s.w; }

/* "(64, 8, 8)" for a map, "4096" for flat features: how messages name what a layer receives. */
static const char *shape_text(shape3 s, char *buf, size_t size) {
    if (s.spatial) snprintf(buf, size, "(%d, %d, %d)", s.c, s.h, s.w);
    else snprintf(buf, size, "%d", s.c);
    return buf;
}

static rt_tensor *add_param(nn_model *m, const nn_layer_spec *s, const char *suffix, int ndim, const int *shape) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s.%s", s->name, suffix);
    return rt_params_add(&m->params, buf, ndim, shape);
}

/* Registers a batch norm's (or another normalization's) gamma and beta over C channels, and for a
** batch norm its running statistics' place in the state (offsets until the build ends). */
static void add_norm(nn_model *m, nn_layer *l, const char *prefix, int C, bool affine, bool stats,
                     rt_tensor **gamma, rt_tensor **beta) {
    char buf[96];
    if (affine) {
        snprintf(buf, sizeof buf, "%sweight", prefix);
        *gamma = add_param(m, &l->spec, buf, 1, (int[]){ C });
        snprintf(buf, sizeof buf, "%sbias", prefix);
        *beta = add_param(m, &l->spec, buf, 1, (int[]){ C });
    }
    if (stats) {
        l->state_off = m->nstate;               /* made pointers when the state exists */
        l->has_state = true;
        m->nstate += 2 * (size_t)C;
    }
}

#define NOT_A_MAP \
    "its input is %d flat features, not a (C, H, W) map; image data sets give one (cifar10 3x32x32, mnist " \
    "1x28x28), other data take shape = { C, H, W } on vib.data.*, and a linear, flatten or global_avgpool " \
    "layer before it makes features flat"

/* A convolution's or pool's output side along one axis, or an error naming the axis. */
static bool conv_side(rt_err *err, const nn_layer_spec *s, const char *axis, int in, int k, int stride, int pad,
                      int dil, int *out) {
    *out = rt_conv_out_size(in, k, stride, pad, dil);
    if (*out > 0) return true;
    int span = dil * (k - 1) + 1;
    layer_err(err, s, "the kernel spans %d %s (kernel %d, dilation %d) but the padded input has %d (%d + 2 x padding "
              "%d); use a smaller kernel or dilation, more padding, or fewer downsampling layers before it",
              span, axis, k, dil, in + 2 * pad, in, pad);
    return false;
}

static bool check_geom(rt_err *err, const nn_layer_spec *s, bool pool) {
    for (int a = 0; a < 2; a++) {
        if (s->kernel[a] < 1)
            return layer_err(err, s, "kernel=%d must be a positive integer (or { KH, KW })", s->kernel[a]), false;
        if (s->stride[a] < 1) return layer_err(err, s, "stride=%d must be >= 1", s->stride[a]), false;
        if (s->pad[a] < 0) return layer_err(err, s, "padding=%d must be >= 0", s->pad[a]), false;
        if (!pool && s->dilation[a] < 1) return layer_err(err, s, "dilation=%d must be >= 1", s->dilation[a]), false;
        if (pool && 2 * s->pad[a] > s->kernel[a])
            return layer_err(err, s, "padding=%d is more than half the kernel (%d): a window would hold padding "
                             "only; use padding <= %d", s->pad[a], s->kernel[a], s->kernel[a] / 2), false;
    }
    return true;
}

/* The subsampling stride that maps in to out along one axis (a 1x1 convolution's), or 0. */
static int sub_stride(int in, int out) {
    if (out < 1 || out > in) return 0;
    int st = (in + out - 1) / out;
    return rt_conv_out_size(in, 1, st, 0, 1) == out ? st : 0;
}

static bool multiplies_rows(const nn_layer_spec *s) {
    return s->kind == NN_LAYER_GAUSS || s->kind == NN_LAYER_BERN || s->kind == NN_LAYER_NOISE;
}

static bool build_range(nn_model *m, int from, int to, int parent, shape3 *cur, rt_err *err);

/* A residual block at index i: its body, its shortcut, and the sum's shape. */
static bool build_residual(nn_model *m, int i, shape3 *cur, rt_err *err) {
    nn_layer *l = &m->layers[i];
    const nn_layer_spec *s = &l->spec;
    int b0 = i + 1, s0 = b0 + s->nbody, end = s0 + s->nshort;
    if (s->nbody < 1) return layer_err(err, s, "the block has no body; give it layers, e.g. vib.residual { vib.conv "
                                       "{ out = 16, kernel = 3, padding = 1 }, vib.batchnorm {} }"), false;
    RT_ASSERT(end <= m->n);
    for (int j = b0; j < end; j++)
        if (multiplies_rows(&m->layers[j].spec))
            return layer_err(err, &m->layers[j].spec, "a %s layer cannot be inside residual block '%s' (its samples "
                             "would not add to the shortcut's rows); put it after the block",
                             nn_layer_kind_name(m->layers[j].spec.kind), s->name), false;
    shape3 in = *cur, body = in;
    if (!build_range(m, b0, s0, i, &body, err)) return false;
    char a[48], b[48];
    shape3 out = body;
    if (s->nshort > 0) {
        shape3 sc = in;
        if (!build_range(m, s0, end, i, &sc, err)) return false;
        if (sc.c != body.c || sc.h != body.h || sc.w != body.w)
            return layer_err(err, s, "the body outputs %s but the shortcut outputs %s; make them equal",
                             shape_text(body, a, sizeof a), shape_text(sc, b, sizeof b)), false;
    } else if (in.c != body.c || in.h != body.h || in.w != body.w) {
        if (s->shortcut == NN_SHORTCUT_NONE)
            return layer_err(err, s, "the body maps %s to %s, so the identity shortcut does not fit; give shortcut = \"A\" "
                             "(subsample and zero-pad channels, no parameters) or \"B\" (1x1 convolution and batch "
                             "norm), or make the body keep the shape", shape_text(in, a, sizeof a),
                             shape_text(body, b, sizeof b)), false;
        int sh = in.spatial ? sub_stride(in.h, body.h) : 0, sw = in.spatial ? sub_stride(in.w, body.w) : 0;
        if (!in.spatial || !body.spatial || !sh || !sw)
            return layer_err(err, s, "shortcut \"%c\" subsamples a (C, H, W) map by a stride, but the body maps %s "
                             "to %s; declare the shortcut's layers instead (shortcut = vib.seq { ... })",
                             s->shortcut == NN_SHORTCUT_A ? 'A' : 'B', shape_text(in, a, sizeof a),
                             shape_text(body, b, sizeof b)), false;
        if (s->shortcut == NN_SHORTCUT_A) {
            if (body.c < in.c)
                return layer_err(err, s, "shortcut \"A\" zero-pads channels, but the body reduces them from %d to %d; "
                                 "use shortcut = \"B\" (a 1x1 convolution)", in.c, body.c), false;
            /* The constant 1x1 weight: input channel k to output channel k + (O - C)/2, the new
            ** channels zero on both sides (as the common CIFAR ResNet code pads them). */
            l->fixed = rt_xcalloc(1, sizeof *l->fixed);
            float *w = rt_xcalloc((size_t)body.c * (size_t)in.c, sizeof *w);
            int off = (body.c - in.c) / 2;
            for (int k = 0; k < in.c; k++) w[(size_t)(k + off) * (size_t)in.c + (size_t)k] = 1.0f;
            rt_tensor_wrap(l->fixed, 4, (int[]){ body.c, in.c, 1, 1 }, w);
        } else {
            l->w = add_param(m, s, "shortcut.weight", 4, (int[]){ body.c, in.c, 1, 1 });
            add_norm(m, l, "shortcut_bn.", body.c, true, true, &l->w2, &l->b2);
            l->macs = (int64_t)body.c * body.h * body.w * in.c;
        }
        l->spec.stride[0] = sh;
        l->spec.stride[1] = sw;
    }
    *cur = out;
    return true;
}

static bool build_layer(nn_model *m, int i, shape3 *cur, rt_err *err) {
    nn_layer *l = &m->layers[i];
    const nn_layer_spec *s = &l->spec;
    shape3 in = *cur, out = in;
    char a[48];
    int nin = (int)shape_n(in);
    switch (s->kind) {
    case NN_LAYER_LINEAR:
        if (s->out <= 0)
            return layer_err(err, s, "out must be a positive integer (the number of output units)"), false;
        if (s->in != 0 && s->in != nin) {
            if (in.spatial)
                return layer_err(err, s, "in=%d but the previous layer outputs %s = %d features (read flattened); "
                                 "set in=%d or remove it", s->in, shape_text(in, a, sizeof a), nin, nin), false;
            return layer_err(err, s, "in=%d but the previous layer outputs %d; set in=%d or remove it", s->in, nin,
                             nin), false;
        }
        out = (shape3){ s->out, 1, 1, false };
        l->w = add_param(m, s, "weight", 2, (int[]){ s->out, nin });
        if (s->bias) l->b = add_param(m, s, "bias", 1, (int[]){ s->out });
        l->macs = (int64_t)s->out * nin;
        break;
    case NN_LAYER_GAUSS: {
        if (s->out <= 0) return layer_err(err, s, "k must be a positive integer (the size of z)"), false;
        if (s->samples < 1) return layer_err(err, s, "samples=%d must be >= 1", s->samples), false;
        out = (shape3){ s->out, 1, 1, false };
        l->w = add_param(m, s, "mu.weight", 2, (int[]){ s->out, nin });
        l->b = add_param(m, s, "mu.bias", 1, (int[]){ s->out });
        l->macs = (int64_t)s->out * nin;
        if (s->sigma == NN_SIGMA_UNIT) {
            if (s->full_cov)
                return layer_err(err, s, "a full covariance needs a scale head; use sigma = \"softplus\" or \"exp\""),
                       false;
            break;
        }
        if (s->full_cov && s->out > 32)
            return layer_err(err, s, "a full covariance is for small k (it has k(k+1)/2 scale outputs); k=%d, use the "
                             "diagonal one", s->out), false;
        int nscale = s->full_cov ? s->out * (s->out + 1) / 2 : s->out;
        l->w2 = add_param(m, s, "rho.weight", 2, (int[]){ nscale, nin });
        l->b2 = add_param(m, s, "rho.bias", 1, (int[]){ nscale });
        l->macs += (int64_t)nscale * nin;
        break;
    }
    case NN_LAYER_BERN:
        if (s->out <= 0)
            return layer_err(err, s, "units must be a positive integer (the number of binary neurons)"), false;
        if (s->samples < 1)
            return layer_err(err, s, "particles=%d must be >= 1 (samples of the layer per incoming particle)",
                             s->samples), false;
        if (s->grad == NN_BERN_CONCRETE && !(s->temperature > 0.0f))
            return layer_err(err, s, "temperature=%g must be > 0", (double)s->temperature), false;
        out = (shape3){ s->out, 1, 1, false };
        l->w = add_param(m, s, "weight", 2, (int[]){ s->out, nin });
        l->b = add_param(m, s, "bias", 1, (int[]){ s->out });
        l->macs = (int64_t)s->out * nin;
        break;
    case NN_LAYER_NOISE:
        if (!(s->std > 0.0f) || !isfinite(s->std))
            return layer_err(err, s, "std=%g must be > 0 (leave it out for zero-entropy noise, std = (2 pi e)^-1/2)",
                             (double)s->std), false;
        break;
    case NN_LAYER_DROPOUT:
        if (!(s->p >= 0.0f && s->p < 1.0f))
            return layer_err(err, s, "p=%g is not a probability in [0, 1)", (double)s->p), false;
        if (s->per_channel && !in.spatial)
            return layer_err(err, s, "per_channel drops whole channels of a (C, H, W) map, but the input is %d flat "
                             "features; remove per_channel", nin), false;
        break;
    case NN_LAYER_RELU: case NN_LAYER_TANH: case NN_LAYER_SIGMOID: case NN_LAYER_SOFTPLUS:
        break;
    case NN_LAYER_CONV: case NN_LAYER_CONV_T: {
        bool t = s->kind == NN_LAYER_CONV_T;
        if (!in.spatial) return layer_err(err, s, NOT_A_MAP, nin), false;
        if (s->out <= 0) return layer_err(err, s, "out must be a positive integer (the number of output channels)"), false;
        if (s->in != 0 && s->in != in.c)
            return layer_err(err, s, "in=%d channels but the previous layer outputs %s; set in=%d or remove it", s->in,
                             shape_text(in, a, sizeof a), in.c), false;
        if (s->groups < 1) return layer_err(err, s, "groups=%d must be >= 1", s->groups), false;
        if (in.c % s->groups || s->out % s->groups)
            return layer_err(err, s, "groups=%d must divide both the %d input channels and the %d output channels; "
                             "use a common divisor (groups = %d with out = %d is depthwise)", s->groups, in.c, s->out,
                             in.c, in.c), false;
        if (!check_geom(err, s, false)) return false;
        int oh, ow;
        if (t) {
            for (int ax = 0; ax < 2; ax++)
                if (s->out_pad[ax] < 0 || (s->out_pad[ax] >= s->stride[ax] && s->out_pad[ax] >= s->dilation[ax]))
                    return layer_err(err, s, "output_padding=%d must be >= 0 and smaller than the stride (%d) or the "
                                     "dilation (%d)", s->out_pad[ax], s->stride[ax], s->dilation[ax]), false;
            oh = rt_conv_transpose_out_size(in.h, s->kernel[0], s->stride[0], s->pad[0], s->dilation[0], s->out_pad[0]);
            ow = rt_conv_transpose_out_size(in.w, s->kernel[1], s->stride[1], s->pad[1], s->dilation[1], s->out_pad[1]);
            if (oh < 1 || ow < 1)
                return layer_err(err, s, "the output would be %dx%d: the padding (%d, %d) removes more than the "
                                 "kernel adds; use less padding", oh, ow, s->pad[0], s->pad[1]), false;
        } else if (!conv_side(err, s, "rows", in.h, s->kernel[0], s->stride[0], s->pad[0], s->dilation[0], &oh) ||
                   !conv_side(err, s, "columns", in.w, s->kernel[1], s->stride[1], s->pad[1], s->dilation[1], &ow)) {
            return false;
        }
        out = (shape3){ s->out, oh, ow, true };
        int k2 = s->kernel[0] * s->kernel[1];
        if (t) l->w = add_param(m, s, "weight", 4, (int[]){ in.c, s->out / s->groups, s->kernel[0], s->kernel[1] });
        else l->w = add_param(m, s, "weight", 4, (int[]){ s->out, in.c / s->groups, s->kernel[0], s->kernel[1] });
        if (s->bias) l->b = add_param(m, s, "bias", 1, (int[]){ s->out });
        l->macs = t ? (int64_t)in.c * in.h * in.w * (s->out / s->groups) * k2
                    : (int64_t)s->out * oh * ow * (in.c / s->groups) * k2;
        break;
    }
    case NN_LAYER_MAXPOOL: case NN_LAYER_AVGPOOL: {
        if (!in.spatial) return layer_err(err, s, NOT_A_MAP, nin), false;
        if (!check_geom(err, s, true)) return false;
        int oh, ow;
        if (!conv_side(err, s, "rows", in.h, s->kernel[0], s->stride[0], s->pad[0], 1, &oh) ||
            !conv_side(err, s, "columns", in.w, s->kernel[1], s->stride[1], s->pad[1], 1, &ow))
            return false;
        out = (shape3){ in.c, oh, ow, true };
        break;
    }
    case NN_LAYER_GAP:
        if (!in.spatial) return layer_err(err, s, NOT_A_MAP, nin), false;
        out = (shape3){ in.c, 1, 1, false };
        break;
    case NN_LAYER_FLATTEN:
        out = (shape3){ nin, 1, 1, false };
        break;
    case NN_LAYER_BATCHNORM: case NN_LAYER_GROUPNORM: case NN_LAYER_LAYERNORM: {
        if (!(s->eps > 0.0f) || !isfinite(s->eps))
            return layer_err(err, s, "eps=%g must be > 0 (1e-5 by default)", (double)s->eps), false;
        if (s->kind == NN_LAYER_BATCHNORM && !(s->momentum >= 0.0f && s->momentum <= 1.0f))
            return layer_err(err, s, "momentum=%g must be in [0, 1] (0.1 by default: r = 0.9 r + 0.1 batch)",
                             (double)s->momentum), false;
        if (s->kind == NN_LAYER_GROUPNORM && (s->groups < 1 || in.c % s->groups))
            return layer_err(err, s, "groups=%d must be a positive divisor of the %d channels", s->groups, in.c), false;
        add_norm(m, l, "", in.c, s->affine, s->kind == NN_LAYER_BATCHNORM, &l->w, &l->b);
        break;
    }
    case NN_LAYER_RESIDUAL:
        return build_residual(m, i, cur, err);
    default:
        RT_ABORT("layer kind %d not handled", (int)s->kind);
    }
    *cur = out;
    return true;
}

/* Layers [from, to) on input shape *cur (left as their output's); residual blocks build their own
** body and shortcut. */
static bool build_range(nn_model *m, int from, int to, int parent, shape3 *cur, rt_err *err) {
    for (int i = from; i < to; i++) {
        nn_layer *l = &m->layers[i];
        l->parent = parent;
        l->in_shape[0] = cur->c, l->in_shape[1] = cur->h, l->in_shape[2] = cur->w;
        l->in = (int)shape_n(*cur);
        l->in_spatial = cur->spatial;
        size_t before = m->params.total;
        if (!build_layer(m, i, cur, err)) return false;
        l->shape[0] = cur->c, l->shape[1] = cur->h, l->shape[2] = cur->w;
        l->spatial = cur->spatial;
        l->out = (int)shape_n(*cur);
        if (l->spec.kind == NN_LAYER_RESIDUAL) {
            for (int j = i + 1; j <= i + l->spec.nbody + l->spec.nshort; j++) before += (size_t)m->layers[j].nparams;
            i += l->spec.nbody + l->spec.nshort;
        }
        l->nparams = (int64_t)(m->params.total - before);
    }
    return true;
}

rt_status nn_model_build(nn_model *m, const nn_layer_spec *specs, int n, int in, rt_err *err) {
    return nn_model_build_shape(m, specs, n, (int[]){ in, 1, 1 }, false, err);
}

static void state_reset(nn_model *m) {
    for (int i = 0; i < m->n; i++) {
        nn_layer *l = &m->layers[i];
        if (!l->run_mean) continue;         /* before the state exists, or no batch norm */
        int C = l->spec.kind == NN_LAYER_RESIDUAL ? l->shape[0] : l->in_shape[0];
        for (int k = 0; k < C; k++) l->run_mean[k] = 0.0f, l->run_var[k] = 1.0f;
    }
}

/* Whether the weights and their gradients alone (what finalize allocates) pass the memory
** budget: an error at the largest layer's line rather than an allocation that fails (exit 134)
** or one the kernel's OOM killer ends later. The whole training need is nn_train_check_memory's. */
static bool params_too_large(const nn_model *m, rt_err *err) {
    double need = (double)m->params.total * 2.0 * sizeof(float), budget = rt_memory_budget();
    if (budget <= 0 || need <= budget) return false;
    int big = 0;
    for (int i = 1; i < m->n; i++) big = m->layers[i].nparams > m->layers[big].nparams ? i : big;
    layer_err(err, &m->layers[big].spec, "the model has %.4g parameters, %.3g GiB with their gradients (this "
              "layer: %.4g), more than the %.3g GiB of memory available (VIB_MEMORY sets the budget in MiB); "
              "make the model smaller", (double)m->params.total, need / 1073741824.0,
              (double)m->layers[big].nparams, budget / 1073741824.0);
    return true;
}

rt_status nn_model_build_shape(nn_model *m, const nn_layer_spec *specs, int n, const int in_shape[3],
                               bool spatial, rt_err *err) {
    memset(m, 0, sizeof *m);
    rt_params_init(&m->params);
    if (n <= 0) return rt_err_set(err, RT_ERR_ARG, "the model has no layers; give vib.seq at least one layer");
    m->layers = rt_xcalloc((size_t)n, sizeof *m->layers);
    m->n = n;
    memcpy(m->in_shape, in_shape, sizeof m->in_shape);
    m->in = in_shape[0] * in_shape[1] * in_shape[2];
    for (int i = 0; i < n; i++) {
        m->layers[i].spec = specs[i];
        for (int j = 0; j < i; j++)
            if (strcmp(m->layers[j].spec.name, specs[i].name) == 0) {
                layer_err(err, &specs[i], "the name is already used by the layer at %s; give each layer its own name",
                          m->layers[j].spec.where);
                goto fail;
            }
    }
    m->in_spatial = spatial;
    shape3 cur = { in_shape[0], in_shape[1], in_shape[2], spatial };
    if (!build_range(m, 0, n, -1, &cur, err)) goto fail;
    m->out = (int)shape_n(cur);
    if (params_too_large(m, err)) goto fail;
    rt_params_finalize(&m->params);
    if (m->nstate) {
        m->state = rt_xcalloc(m->nstate, sizeof *m->state);
        for (int i = 0; i < n; i++) {
            nn_layer *l = &m->layers[i];
            if (!l->has_state) continue;
            int C = l->spec.kind == NN_LAYER_RESIDUAL ? l->shape[0] : l->in_shape[0];
            l->run_mean = m->state + l->state_off;
            l->run_var = l->run_mean + C;
        }
        state_reset(m);
    }
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
    for (int i = 0; m->layers && i < m->n; i++)
        if (m->layers[i].fixed) {
            free(m->layers[i].fixed->data);
            free(m->layers[i].fixed);
        }
    free(m->state);
    rt_params_free(&m->params);
    free(m->layers);
    memset(m, 0, sizeof *m);
}

// ---- initialisation ----

/* One dense map (W (out, in), b (out) or NULL) from its layer's initializer; a convolution's
** W (O, C/groups, KH, KW) the same way with fan_in = C/groups KH KW and fan_out = O KH KW (a
** transposed one's (C, O/groups, KH, KW) has them swapped, and is read as PyTorch reads it). */
static void init_dense(rt_tensor *w, rt_tensor *b, const nn_layer_spec *s, rt_rng *r) {
    int64_t field = w->ndim == 4 ? (int64_t)w->shape[2] * w->shape[3] : 1;
    float fan_in = (float)(w->n / w->shape[0]), fan_out = (float)((int64_t)w->shape[0] * field);
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

static void fill(rt_tensor *t, float v) {
    if (t) for (int64_t i = 0; i < t->n; i++) t->data[i] = v;
}

void nn_model_init(nn_model *m, rt_rng *r) {
    for (int i = 0; i < m->n; i++) {
        nn_layer *l = &m->layers[i];
        nn_layer_kind k = l->spec.kind;
        if (k == NN_LAYER_BATCHNORM || k == NN_LAYER_GROUPNORM || k == NN_LAYER_LAYERNORM) {
            fill(l->w, 1.0f);                   /* gamma 1, beta 0 */
            fill(l->b, 0.0f);
            continue;
        }
        if (l->w) init_dense(l->w, l->b, &l->spec, r);
        if (k == NN_LAYER_RESIDUAL) {
            fill(l->w2, 1.0f);
            fill(l->b2, 0.0f);
        } else if (l->w2) {
            init_dense(l->w2, l->b2, &l->spec, r);
        }
    }
    state_reset(m);
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
    /* vib.load: drawn first (the init stream advances as without it), then replaced */
    if (m->after_init) m->after_init(m, m->after_init_user);
}

// ---- forward ----

/* x as a (R, C, H, W) map of shape s (a copy when it comes as rows), and as (R, F) rows. */
static rt_tensor *as_map(rt_ctx *c, rt_tensor *x, const int s[3]) {
    if (x->ndim == 4) return x;
    int R = (int)(x->n / ((int64_t)s[0] * s[1] * s[2]));
    return rt_reshape(c, x, 4, (int[]){ R, s[0], s[1], s[2] });
}

static rt_tensor *as_rows(rt_ctx *c, rt_tensor *x) {
    if (x->ndim == 2) return x;
    return rt_reshape(c, x, 2, (int[]){ x->shape[0], (int)(x->n / x->shape[0]) });
}


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
** example's index f->example0 + e (or f->example_ids[e]): an example gets the same noise whatever
** the evaluation batch size and whatever the other layers draw. */
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
        int64_t id = f->example_ids ? f->example_ids[e] : f->example0 + e;
        rt_rng_derive(&r, f->noise, (uint64_t)layer, (uint64_t)id);
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
** draws hard samples whatever the training estimator (the relaxation is a training device).
** h: the pre-activation W x + b. next: the layer after it when it takes the straight-through
** particles through rt_bern_linear (a linear layer, or a bern layer's own W and b), whose product
** is then the result: that linear layer's output, or that bern layer's pre-activation. */
static rt_tensor *bern(const nn_fwd *f, int layer, nn_layer *l, rt_tensor *h, const nn_layer *next) {
    rt_ctx *c = f->ctx;
    l->logits = h;
    rt_tensor *p = rt_sigmoid(c, h);
    int M = f->train ? l->spec.samples : f->eval_samples;
    if (M <= 0) return p;
    RT_ASSERT(f->noise != NULL);
    int R = h->shape[0], K = h->shape[1];
    bool concrete = f->train && l->spec.grad == NN_BERN_CONCRETE;
    /* Fused with the next layer (training only, where the draws are the noise stream in order). */
    if (next && !concrete) {
        RT_ASSERT(f->train);
        return rt_bern_linear(c, p, M, f->noise, next->w, next->b);
    }
    /* Straight-through: the particles as rows (M R, K) straight from rt_bern_st, no reshape. */
    rt_tensor *u = concrete ? rt_tensor_new(c, 3, (int[]){ M, R, K }) : rt_tensor_new(c, 2, (int[]){ M * R, K });
    draw(f, layer, u->data, u->n, K, false, 0.0f);
    rt_tensor *z;
    if (concrete) {
        /* Logistic noise log u - log(1-u), u in (0,1): the draw u = 0 is nudged inside. */
        for (int64_t i = 0; i < u->n; i++) {
            double v = u->data[i] > 0.0f ? (double)u->data[i] : 0x1p-25;
            u->data[i] = (float)(log(v) - log1p(-v));
        }
        z = rt_sigmoid(c, rt_scale(c, rt_add(c, u, h), 1.0f / l->spec.temperature));
    } else {
        return rt_bern_st(c, p, u);
    }
    return rt_reshape(c, z, 2, (int[]){ M * R, K });
}

/* z = x + std * eps: one draw per row in training; in evaluation eval_samples draws per incoming
** row (sample-major, like a gauss layer's), x itself when eval_samples = 0. */
static rt_tensor *noise(const nn_fwd *f, int layer, nn_layer *l, rt_tensor *x) {
    l->mu = x;
    if (!f->train && f->eval_samples <= 0) return x;
    RT_ASSERT(f->noise != NULL);
    int S = f->train || f->eval_samples == 1 ? 1 : f->eval_samples;
    if (S > 1) x = as_rows(f->ctx, x);          /* a map's samples stack as rows of its features */
    int R = x->shape[0], K = (int)(x->n / R);
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

static bool kept(const int *keep, int nkeep, int i) {
    for (int k = 0; k < nkeep; k++)
        if (keep[k] == i) return true;
    return false;
}

static rt_conv_geom geom_of(const nn_layer_spec *s) {
    return (rt_conv_geom){ .stride_h = s->stride[0], .stride_w = s->stride[1], .pad_h = s->pad[0], .pad_w = s->pad[1],
                           .dil_h = s->dilation[0], .dil_w = s->dilation[1], .groups = s->groups,
                           .out_pad_h = s->out_pad[0], .out_pad_w = s->out_pad[1] };
}

/* Dropout of whole channels: one keep-or-drop draw per (row, channel), broadcast over H and W. */
static rt_tensor *dropout_channels(const nn_fwd *f, rt_tensor *x, float p) {
    if (!f->train || p == 0.0f) return x;
    rt_tensor *mask = rt_tensor_new(f->ctx, 4, (int[]){ x->shape[0], x->shape[1], 1, 1 });
    float keep = 1.0f / (1.0f - p);
    for (int64_t i = 0; i < mask->n; i++)
        mask->data[i] = rt_rng_uniform(f->noise) >= (double)p ? keep : 0.0f;
    return rt_mul(f->ctx, x, mask);
}

static rt_tensor *forward(nn_model *m, const nn_fwd *f, rt_tensor *x, int from, int to, bool over,
                          const int *keep, int nkeep);

/* A residual block: body(x) + shortcut(x), each laid out as the block's output. */
static rt_tensor *residual(nn_model *m, const nn_fwd *f, int i, rt_tensor *x, bool over, const int *keep,
                           int nkeep) {
    rt_ctx *c = f->ctx;
    nn_layer *l = &m->layers[i];
    const nn_layer_spec *s = &l->spec;
    int b0 = i + 1, s0 = b0 + s->nbody;
    rt_tensor *a = forward(m, f, x, b0, s0, over, keep, nkeep), *sc;
    if (s->nshort > 0) {
        sc = forward(m, f, x, s0, s0 + s->nshort, over, keep, nkeep);
    } else if (l->fixed || l->w) {
        rt_conv_geom g = { .stride_h = s->stride[0], .stride_w = s->stride[1], .dil_h = 1, .dil_w = 1, .groups = 1 };
        sc = rt_conv2d(c, as_map(c, x, l->in_shape), l->fixed ? l->fixed : l->w, NULL, &g);
        if (l->w) sc = rt_batchnorm(c, sc, l->w2, l->b2, l->run_mean, l->run_var, s->momentum, s->eps, f->train);
    } else {
        sc = x;
    }
    if (l->spatial) return rt_add(c, as_map(c, a, l->shape), as_map(c, sc, l->shape));
    return rt_add(c, as_rows(c, a), as_rows(c, sc));
}

/* Whether bern layer i of a training step hands its straight-through particles to the product of
** the layer after it, a linear layer or another bern layer, through rt_bern_linear (at 32 x 32
** particles half of the step's time goes to particles that only that product reads). Not when a
** term reads the particles (keep) or the range ends at i. */
static bool bern_fuses(const nn_model *m, const nn_fwd *f, int i, int to, bool over, const int *keep, int nkeep) {
    const nn_layer_spec *s = &m->layers[i].spec;
    if (!(over && f->train && s->grad != NN_BERN_CONCRETE && s->samples > 0 && i + 1 < to && !kept(keep, nkeep, i)))
        return false;
    nn_layer_kind next = m->layers[i + 1].spec.kind;
    return next == NN_LAYER_LINEAR || next == NN_LAYER_BERN;
}

/* Whether a ReLU may write over the output of a layer of this kind: no backward reads that output
** (a linear op's reads its input, weights and dy; a residual sum's only dy). */
static bool relu_may_overwrite(nn_layer_kind k) { return k == NN_LAYER_LINEAR || k == NN_LAYER_RESIDUAL; }

/* over (a training step's forward): ReLU layers may write over the output of a linear layer or a
** residual block just before them in the range, and a batch norm followed by a ReLU runs as one op
** (rt_batchnorm_relu), unless the layer is kept: that output has no other reader
** (relu_may_overwrite), and the ReLU is the next layer's only input. Layers [from, to) are whole blocks: a residual block
** runs its body and shortcut and continues after them. */
static rt_tensor *forward(nn_model *m, const nn_fwd *f, rt_tensor *x, int from, int to, bool over,
                          const int *keep, int nkeep) {
    RT_ASSERT(from >= 0 && from <= to && to <= m->n);
    RT_ASSERT(x->n / x->shape[0] == (from == 0 ? m->in : from < m->n ? m->layers[from].in : m->out));
    rt_ctx *c = f->ctx;
    int prev = -1;                              /* the layer whose output x is */
    rt_tensor *pre = NULL;                      /* a bern layer's pre-activation, made by the one before */
    for (int i = from; i < to; i++) {
        nn_layer *l = &m->layers[i];
        const nn_layer_spec *s = &l->spec;
        switch (s->kind) {
        case NN_LAYER_LINEAR: x = rt_linear(c, as_rows(c, x), l->w, l->b); break;
        case NN_LAYER_RELU:
            if (over && prev >= from && relu_may_overwrite(m->layers[prev].spec.kind) && !kept(keep, nkeep, prev)) {
                x = rt_relu_over(c, x);
                m->layers[prev].y = NULL;      /* its data now holds this layer's output */
            } else {
                x = rt_relu(c, x);
            }
            break;
        case NN_LAYER_TANH: x = rt_tanh(c, x); break;
        case NN_LAYER_SIGMOID: x = rt_sigmoid(c, x); break;
        case NN_LAYER_SOFTPLUS: x = rt_softplus(c, x); break;
        case NN_LAYER_DROPOUT:
            x = s->per_channel ? dropout_channels(f, as_map(c, x, l->in_shape), s->p) : dropout(f, x, s->p);
            break;
        case NN_LAYER_GAUSS: x = gauss(f, i, l, as_rows(c, x)); break;
        case NN_LAYER_BERN: {
            rt_tensor *h = pre ? pre : rt_linear(c, as_rows(c, x), l->w, l->b);
            pre = NULL;
            if (bern_fuses(m, f, i, to, over, keep, nkeep)) {
                nn_layer *next = &m->layers[i + 1];
                x = bern(f, i, l, h, next);
                l->y = NULL;                    /* its particles exist only inside the fused op */
                if (next->spec.kind == NN_LAYER_BERN) {
                    pre = x;                    /* the next layer's pre-activation */
                    prev = i;
                    continue;
                }
                next->y = x;
                prev = ++i;
                continue;
            }
            x = bern(f, i, l, h, NULL);
            break;
        }
        case NN_LAYER_NOISE: x = noise(f, i, l, x); break;
        case NN_LAYER_CONV: {
            rt_conv_geom g = geom_of(s);
            x = rt_conv2d(c, as_map(c, x, l->in_shape), l->w, l->b, &g);
            break;
        }
        case NN_LAYER_CONV_T: {
            rt_conv_geom g = geom_of(s);
            x = rt_conv_transpose2d(c, as_map(c, x, l->in_shape), l->w, l->b, &g);
            break;
        }
        case NN_LAYER_MAXPOOL:
            x = rt_maxpool2d(c, as_map(c, x, l->in_shape), s->kernel[0], s->kernel[1], s->stride[0], s->stride[1],
                             s->pad[0], s->pad[1]);
            break;
        case NN_LAYER_AVGPOOL:
            x = rt_avgpool2d(c, as_map(c, x, l->in_shape), s->kernel[0], s->kernel[1], s->stride[0], s->stride[1],
                             s->pad[0], s->pad[1]);
            break;
        case NN_LAYER_GAP: x = rt_global_avgpool(c, as_map(c, x, l->in_shape)); break;
        case NN_LAYER_FLATTEN: x = as_rows(c, x); break;
        case NN_LAYER_BATCHNORM: {
            rt_tensor *in = l->in_spatial ? as_map(c, x, l->in_shape) : as_rows(c, x);
            if (over && i + 1 < to && m->layers[i + 1].spec.kind == NN_LAYER_RELU && !kept(keep, nkeep, i)) {
                /* batch norm and the ReLU after it in one op: one pass each way instead of two. Only
                ** in a training step, whose keep lists the layers its terms read: other forwards
                ** (evaluation, measurement, --gradcheck) read layer outputs that no keep names. */
                x = rt_batchnorm_relu(c, in, l->w, l->b, l->run_mean, l->run_var, s->momentum, s->eps, f->train);
                l->y = NULL;                    /* its output exists only through the ReLU */
                m->layers[i + 1].y = x;
                prev = ++i;
                continue;
            }
            x = rt_batchnorm(c, in, l->w, l->b, l->run_mean, l->run_var, s->momentum, s->eps, f->train);
            break;
        }
        case NN_LAYER_GROUPNORM: case NN_LAYER_LAYERNORM:
            x = rt_groupnorm(c, l->in_spatial ? as_map(c, x, l->in_shape) : as_rows(c, x), l->w, l->b,
                             s->kind == NN_LAYER_LAYERNORM ? 1 : s->groups, s->eps);
            break;
        case NN_LAYER_RESIDUAL:
            x = residual(m, f, i, x, over, keep, nkeep);
            l->y = x;
            prev = i;
            i += s->nbody + s->nshort;
            continue;
        default: RT_ABORT("layer kind %d not handled", (int)s->kind);
        }
        l->y = x;
        prev = i;
    }
    return x;
}

rt_tensor *nn_model_forward_range(nn_model *m, const nn_fwd *f, rt_tensor *x, int from, int to) {
    return forward(m, f, x, from, to, false, NULL, 0);
}

rt_tensor *nn_model_forward(nn_model *m, const nn_fwd *f, rt_tensor *x) {
    return as_rows(f->ctx, forward(m, f, x, 0, m->n, false, NULL, 0));
}

rt_tensor *nn_model_forward_step(nn_model *m, const nn_fwd *f, rt_tensor *x, const int *keep, int nkeep) {
    return as_rows(f->ctx, forward(m, f, x, 0, m->n, true, keep, nkeep));
}

int nn_model_find(const nn_model *m, const char *name) {
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->layers[i].spec.name, name) == 0) return i;
    return -1;
}

/* "(B, 16, 32, 32)" for a map, "(B, 10)" for features. */
static void batch_shape(const int s[3], bool spatial, char *buf, size_t size) {
    if (spatial) snprintf(buf, size, "(B, %d, %d, %d)", s[0], s[1], s[2]);
    else snprintf(buf, size, "(B, %d)", s[0] * s[1] * s[2]);
}

void nn_model_summary(const nn_model *m, char *buf, size_t size) {
    size_t k = 0;
#define PUT(...) do { if (k < size) k += (size_t)snprintf(buf + k, size - k, __VA_ARGS__); } while (0)
    PUT("%-16s %-14s %-18s %12s %14s\n", "layer", "kind", "output", "parameters", "mult-adds");
    char shape[48];
    batch_shape(m->in_shape, m->in_spatial, shape, sizeof shape);
    PUT("%-16s %-14s %s\n", "input", "", shape);
    size_t total = 0;
    int64_t macs = 0;
    for (int i = 0; i < m->n; i++) {
        const nn_layer *l = &m->layers[i];
        int depth = 0;
        for (int p = l->parent; p >= 0; p = m->layers[p].parent) depth++;
        char name[80];
        snprintf(name, sizeof name, "%*s%s", 2 * depth, "", l->spec.name);
        total += (size_t)l->nparams;
        macs += l->macs;
        batch_shape(l->shape, l->spatial, shape, sizeof shape);
        PUT("%-16s %-14s %-18s %12lld %14lld\n", name, nn_layer_kind_name(l->spec.kind), shape,
            (long long)l->nparams, (long long)l->macs);
    }
    for (int i = 0; i < m->nextra; i++) {
        const rt_tensor *t = m->extra[i].t;
        rt_shape_str(t, shape, sizeof shape);
        PUT("%-16s %-14s %-18s %12lld\n", t->name, "objective", shape, (long long)t->n);
        total += (size_t)t->n;
    }
    PUT("total parameters: %zu\n", total);
    PUT("total multiply-adds per example: %lld", (long long)macs);
    if (macs >= 100000) PUT(" (%.2fM)", (double)macs / 1e6);
    PUT(", of the linear and convolution products of the forward pass\n");
    if (m->nstate)
        PUT("batch norm state: %zu running means and variances (not trained; evaluation normalizes with them)\n",
            m->nstate);
#undef PUT
}
