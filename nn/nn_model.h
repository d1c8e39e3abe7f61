/*
** nn_model.h: architectures as plain-C specs, built into layers with parameters.
**
** lua/ turns a script's `vib.seq { vib.linear{...}, vib.relu{}, ... }` into an array of
** nn_layer_spec, each carrying the script position that declared it ("x.lua:14"). nn_model_build
** infers every layer's input size from the previous layer's output, so a user declares only
** what is new, and reports a mismatch against that script position:
**     "x.lua:14: linear 'fc2': in=784 but the previous layer outputs 1024; set in=1024 or remove it"
** Parameters are registered in one rt_params (flat buffers) and named "<layer>.weight",
** "<layer>.bias".
**
**     nn_layer_spec s[] = { { .kind = NN_LAYER_LINEAR, .out = 1024 }, { .kind = NN_LAYER_RELU },
**                           { .kind = NN_LAYER_LINEAR, .out = 10 } };
**     nn_model m;  nn_model_build(&m, s, 3, 784, &err);  nn_model_init(&m, &rng_init);
**     rt_tensor *logits = nn_model_forward(&m, &fw, x);   // x: (B, 784) -> (B, 10)
*/
#ifndef NN_MODEL_H
#define NN_MODEL_H

#include "rt_param.h"
#include "rt_rng.h"

typedef enum nn_layer_kind {
    NN_LAYER_LINEAR = 0,
    NN_LAYER_RELU, NN_LAYER_TANH, NN_LAYER_SIGMOID, NN_LAYER_SOFTPLUS,
    NN_LAYER_DROPOUT,
    NN_LAYER_GAUSS,             /* stochastic Gaussian encoder: mu and scale heads, z = mu + sigma eps */
    NN_LAYER_BERN,              /* binary stochastic neurons: p = sigmoid(W x + b), z ~ Bern(p) */
    NN_LAYER_NOISE,             /* additive Gaussian noise z = x + sigma eps (zero-entropy by default) */
    NN_LAYER_CONV,              /* 2-D convolution, NCHW: out channels, kernel, stride, padding, dilation, groups */
    NN_LAYER_CONV_T,            /* transposed 2-D convolution (PyTorch's ConvTranspose2d) */
    NN_LAYER_MAXPOOL, NN_LAYER_AVGPOOL,
    NN_LAYER_GAP,               /* global average pooling: (C, H, W) -> C features */
    NN_LAYER_FLATTEN,           /* (C, H, W) -> C*H*W features, channel-major */
    NN_LAYER_BATCHNORM,         /* batch normalization with running statistics (model state) */
    NN_LAYER_GROUPNORM,         /* group normalization over groups of C/groups channels (and H, W) */
    NN_LAYER_LAYERNORM,         /* group normalization with one group: per example over (C, H, W) */
    NN_LAYER_RESIDUAL,          /* y = body(x) + shortcut(x); the body is the next nbody layers, a
                                ** declared shortcut the nshort layers after them */
    NN_LAYER_COUNT
} nn_layer_kind;

typedef enum nn_init {
    NN_INIT_DEFAULT = 0,        /* PyTorch's Linear: U(-1/sqrt(in), 1/sqrt(in)) for W and b */
    NN_INIT_GLOROT,             /* Glorot/Xavier uniform, zero bias */
    NN_INIT_HE,                 /* He/Kaiming normal (fan in), zero bias */
    NN_INIT_NORMAL,             /* N(0, std^2), zero bias */
    NN_INIT_COUNT
} nn_init;

/* Gradient estimators of a Bernoulli layer. */
typedef enum nn_bern_grad {
    NN_BERN_ST = 0,             /* straight-through (Raiko et al. 2014): dz/dp = 1 */
    NN_BERN_CONCRETE,           /* binary Concrete / Gumbel: z = sigmoid((h + logistic noise) / tau) */
} nn_bern_grad;

/* The scale of a gauss layer. */
typedef enum nn_sigma {
    NN_SIGMA_SOFTPLUS = 0,      /* sigma = softplus(rho + shift) */
    NN_SIGMA_EXP,               /* sigma = exp(rho + shift) */
    NN_SIGMA_UNIT,              /* sigma = 1, no scale head (the encoder of variational CEB) */
} nn_sigma;

/* The shortcut of a residual block whose body changes the shape (He et al. 2016); identity when it
** does not. */
typedef enum nn_shortcut {
    NN_SHORTCUT_NONE = 0,       /* identity only: a shape change is an error */
    NN_SHORTCUT_A,              /* option A: subsample by the stride, zero-pad the new channels; no parameters */
    NN_SHORTCUT_B,              /* option B: 1x1 convolution with the stride, no bias, then batch norm */
    NN_SHORTCUT_LAYERS,         /* the nshort declared layers */
} nn_shortcut;

/* The standard deviation of zero-entropy noise, (2 pi e)^-1/2: h(N(0, s^2 I)) = 0 (Kirsch et al.). */
#define NN_ZERO_ENTROPY_STD 0.24197072451914337f

typedef struct nn_layer_spec {
    nn_layer_kind kind;
    char name[64];              /* user's name, or generated ("linear1", "relu2") */
    char where[256];            /* "script.lua:LINE" that declared it, for messages */
    int in;                     /* linear: declared input size, 0 = inferred */
    int out;                    /* linear: output size; gauss: K, the size of z */
    bool bias;                  /* linear */
    nn_init init;               /* linear */
    float init_std;             /* linear, NN_INIT_NORMAL */
    float p;                    /* dropout: drop probability in [0, 1) */
    nn_sigma sigma;             /* gauss: how the scale head becomes sigma */
    float shift;                /* gauss: added to the scale head before the positive map (VIB: -5) */
    bool full_cov;              /* gauss: Cov = L L^T with L lower-triangular (K(K+1)/2 outputs of
                                ** the scale head, positive diagonal), for small K (VIB's K = 2) */
    int samples;                /* gauss, bern: samples (particles) of z per incoming row in training */
    nn_bern_grad grad;          /* bern: gradient estimator */
    float temperature;          /* bern, concrete: tau > 0 */
    float std;                  /* noise: standard deviation (NN_ZERO_ENTROPY_STD by default) */
    /* conv, conv_t: out = output channels, in = declared input channels (0 = inferred). */
    int kernel[2];              /* conv, conv_t, pools: (KH, KW) */
    int stride[2];              /* conv, conv_t: default 1; pools: default the kernel */
    int pad[2];                 /* zero padding (pools: -inf for max, left out of the average) */
    int dilation[2];            /* conv, conv_t: default 1 */
    int out_pad[2];             /* conv_t: extra output rows / columns, < stride or dilation */
    int groups;                 /* conv, conv_t: channel groups (default 1); groupnorm: groups */
    float momentum;             /* batchnorm: running statistics r = (1 - m) r + m batch (0.1) */
    float eps;                  /* batchnorm, groupnorm, layernorm: variance epsilon (1e-5) */
    bool affine;                /* batchnorm, groupnorm, layernorm: learned gamma, beta (true) */
    bool per_channel;           /* dropout: drop whole channels of a (C, H, W) input (Tompson et
                                ** al.'s spatial dropout); noise: one draw per channel */
    int nbody, nshort;          /* residual: layers of the body and of a declared shortcut */
    nn_shortcut shortcut;       /* residual: what replaces identity when the body changes the shape */
} nn_layer_spec;

const char *nn_layer_kind_name(nn_layer_kind k);       /* "linear", "relu", ... */
bool nn_layer_kind_parse(const char *s, nn_layer_kind *k);
const char *nn_init_name(nn_init i);
/* A spec with the kind's defaults (bias on, default init). */
nn_layer_spec nn_layer_spec_default(nn_layer_kind k);

typedef struct nn_layer {
    nn_layer_spec spec;
    int in, out;                /* feature sizes: C*H*W of the input and of the output */
    int in_shape[3], shape[3];  /* (C, H, W) of the input and of the output; (F, 1, 1) when flat */
    bool spatial;               /* the output is a (C, H, W) map: the forward pass's tensor is
                                ** (R, C, H, W); else (R, F) */
    bool in_spatial;            /* the input is a (C, H, W) map */
    int parent;                 /* the residual block holding the layer (its index), or -1 */
    int64_t nparams;            /* parameters of this layer (a residual's: its shortcut's) */
    int64_t macs;               /* multiply-adds per example of its dense or convolution products */
    float *run_mean, *run_var;  /* batchnorm (and a residual's option B batch norm): running
                                ** statistics, in the model's state buffer */
    bool has_state;             /* it has running statistics, at m->state + state_off */
    size_t state_off;
    rt_tensor *fixed;           /* residual option A: the constant 1x1 weight that subsamples and
                                ** zero-pads channels (off the tape, owned by the model) */
    rt_tensor *w, *b;           /* linear, or gauss mean head: parameters in the model's rt_params */
    rt_tensor *w2, *b2;         /* gauss scale head; residual option B: its batch norm's gamma, beta */
    rt_tensor *y;               /* the layer's output in the current step (step arena) */
    rt_tensor *mu, *sigma;      /* gauss: (R, K) parameters of p(z|x) in the current step (full_cov:
                                ** sigma is (R, K(K+1)/2), L packed row-major; NULL for unit sigma);
                                ** noise: mu is the input (the noiseless f(x)) */
    rt_tensor *eps;             /* gauss: (S, R, K) the standard-normal draws of this step */
    rt_tensor *diag;            /* gauss full_cov: (K(K+1)/2) 1 on the diagonal entries, else 0 */
    rt_tensor *logits;          /* bern: (R, K) pre-activation h, p = sigmoid(h) */
} nn_layer;

/* How nn_model_init draws a parameter added by nn_model_add_param. */
typedef enum nn_pinit { NN_PINIT_CONST, NN_PINIT_NORMAL, NN_PINIT_TRUNC_NORMAL } nn_pinit;

typedef struct nn_extra_param {
    rt_tensor *t;
    nn_pinit init;
    float a, b;                 /* const: value a; normal: mean a, std b (truncated: within 2 std) */
} nn_extra_param;

#define NN_MAX_EXTRA 32

typedef struct nn_model {
    nn_layer *layers;
    int n;
    int in, out;                /* input and output feature sizes */
    int in_shape[3];            /* the input's (C, H, W); (in, 1, 1) for flat data */
    bool in_spatial;            /* the input is a (C, H, W) map */
    /* State that is not trained: batch norms' running means and variances, (nstate) floats. The
    ** optimizer, weight decay and clipping never see it; checkpoints and the EMA carry it. */
    float *state;
    size_t nstate;
    rt_params params;
    nn_extra_param extra[NN_MAX_EXTRA]; /* parameters owned by objective terms (priors, b(z|y)) */
    int nextra;
    /* Run at the end of nn_model_init when set: vib.load copies a file's tensors over the drawn
    ** values (lb_export.c, through nn_weights.h). */
    void (*after_init)(struct nn_model *m, void *user);
    void *after_init_user;
} nn_model;

/* Forward-pass state: the step context, the mode and the noise stream. */
typedef struct nn_fwd {
    rt_ctx *ctx;
    bool train;                 /* training mode: dropout and noise active, stochastic layers draw
                                ** `samples` */
    rt_rng *noise;              /* layer noise stream (RT_STREAM_NOISE, or RT_STREAM_EVAL) */
    int eval_samples;           /* evaluation: samples of each gauss / bern layer; 0 = the mean
                                ** (bern: the mean-field sigmoid(h)), and noise layers are off */
    int examples;               /* evaluation: examples in this batch, each drawing its noise from
                                ** its own generator (derived from `noise`, which is not advanced);
                                ** 0 = noise drawn in order from `noise`, as in training */
    int64_t example0;           /* evaluation: index of the batch's first example in its data set */
    const int64_t *example_ids; /* evaluation: when not NULL, the index of each of the batch's
                                ** examples (an attack's batch, whose fooled examples have left it);
                                ** example0 is then not read */
} nn_fwd;

/* Samples a layer draws per incoming row in this mode: 1 for deterministic layers. */
int nn_layer_multiplicity(const nn_layer *l, const nn_fwd *f);
/* Rows of the output per input row: the product of the multiplicities (samples flow through
** the rest of the network as extra rows, sample-major: row s*R + r is sample s of incoming row r;
** nested layers repeat this, so the last layer's particle index is the outermost). */
int nn_model_rows_per_input(const nn_model *m, const nn_fwd *f);
/* Rows per example up to and including layer `upto` (-1: the input, 1). */
int nn_model_rows_upto(const nn_model *m, const nn_fwd *f, int upto);
/* A parameter owned by something other than a layer (an objective term's prior); drawn by
** nn_model_init after the layers. The model's parameters are reopened: finalize with
** rt_params_finalize(&m->params) before use (nn_obj_build does). */
rt_tensor *nn_model_add_param(nn_model *m, const char *name, int ndim, const int *shape,
                              nn_pinit init, float a, float b);
bool nn_layer_stochastic(const nn_layer_spec *s);      /* gauss, bern, noise, dropout */

/* Builds the layers of specs[0..n) on flat inputs of `in` features: nn_model_build_shape with
** (in, 1, 1). */
rt_status nn_model_build(nn_model *m, const nn_layer_spec *specs, int n, int in, rt_err *err);
/* Builds on inputs of shape (C, H, W) = in_shape, a map when `spatial` (else in_shape[0] flat
** features; the data come as (B, C*H*W) rows either way, channel-major). Infers every layer's shape; a mismatch (a kernel larger than its
** padded input, channels that groups do not divide, a residual body that changes the shape
** without a shortcut) is one error naming the layer's script line and what to do. Linear, gauss and
** bern layers on a (C, H, W) input read it flattened, channel-major (as vib.flatten would). */
rt_status nn_model_build_shape(nn_model *m, const nn_layer_spec *specs, int n, const int in_shape[3],
                               bool spatial, rt_err *err);
void nn_model_free(nn_model *m);
/* Draws every parameter from its initializer with the init stream, and resets the state (running
** means 0, variances 1); then runs m->after_init when set (vib.load). */
void nn_model_init(nn_model *m, rt_rng *init);
/* x: (B, in) -> (R*B, out), R = nn_model_rows_per_input. Records each layer's output in
** layers[i].y (and mu, sigma for gauss layers): (R, C, H, W) for a spatial layer, the same memory as
** (R, C*H*W). In training mode (f->train) batch norms normalize with the batch's statistics and
** update their running ones in m->state; in evaluation they use the running statistics. */
rt_tensor *nn_model_forward(nn_model *m, const nn_fwd *f, rt_tensor *x);
/* Layers [from, to) only: x is what layer `from` reads, (R, layers[from-1].out) or (B, in). The
** decoder of a bottleneck on given z (latent figures): nn_model_forward_range(m, f, z, j+1, m->n). */
rt_tensor *nn_model_forward_range(nn_model *m, const nn_fwd *f, rt_tensor *x, int from, int to);
/* nn_model_forward for a training step, whose caller reads no layer output afterwards but those of
** the layers flagged in keep[0..nkeep) (indices; -1 entries are ignored): a ReLU layer right after
** a linear one then writes over the linear layer's output (rt_relu_over), whose layers[i].y is
** left NULL. The values and gradients are the same as nn_model_forward's, bit for bit. */
rt_tensor *nn_model_forward_step(nn_model *m, const nn_fwd *f, rt_tensor *x, const int *keep, int nkeep);
/* Index of the layer with that name, or -1. */
int nn_model_find(const nn_model *m, const char *name);
/* A human-readable table: layer, kind, output shape (B, C, H, W) or (B, F), parameters, multiply-adds
** per example (of the linear and convolution products: the heads of gauss and bern layers, option
** B shortcuts; elementwise maps, pooling and normalization are not counted); and the totals. */
void nn_model_summary(const nn_model *m, char *buf, size_t size);

#endif
