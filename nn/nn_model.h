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
} nn_layer_spec;

const char *nn_layer_kind_name(nn_layer_kind k);       /* "linear", "relu", ... */
bool nn_layer_kind_parse(const char *s, nn_layer_kind *k);
const char *nn_init_name(nn_init i);
bool nn_init_parse(const char *s, nn_init *i);
/* A spec with the kind's defaults (bias on, default init). */
nn_layer_spec nn_layer_spec_default(nn_layer_kind k);

typedef struct nn_layer {
    nn_layer_spec spec;
    int in, out;                /* feature sizes */
    rt_tensor *w, *b;           /* linear, or gauss mean head: parameters in the model's rt_params */
    rt_tensor *w2, *b2;         /* gauss scale head */
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
    rt_params params;
    nn_extra_param extra[NN_MAX_EXTRA]; /* parameters owned by objective terms (priors, b(z|y)) */
    int nextra;
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

rt_status nn_model_build(nn_model *m, const nn_layer_spec *specs, int n, int in, rt_err *err);
void nn_model_free(nn_model *m);
/* Draws every parameter from its initializer with the init stream. */
void nn_model_init(nn_model *m, rt_rng *init);
/* x: (B, in) -> (R*B, out), R = nn_model_rows_per_input. Records each layer's output in
** layers[i].y (and mu, sigma for gauss layers). */
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
/* A human-readable table: layer, kind, output shape, parameters; and the total. */
void nn_model_summary(const nn_model *m, char *buf, size_t size);

#endif
