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
    NN_LAYER_COUNT
} nn_layer_kind;

typedef enum nn_init {
    NN_INIT_DEFAULT = 0,        /* PyTorch's Linear: U(-1/sqrt(in), 1/sqrt(in)) for W and b */
    NN_INIT_GLOROT,             /* Glorot/Xavier uniform, zero bias */
    NN_INIT_HE,                 /* He/Kaiming normal (fan in), zero bias */
    NN_INIT_NORMAL,             /* N(0, std^2), zero bias */
    NN_INIT_COUNT
} nn_init;

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
    bool sigma_exp;             /* gauss: sigma = exp(rho + shift) instead of softplus(rho + shift) */
    float shift;                /* gauss: added to the scale head before the positive map (VIB: -5) */
    int samples;                /* gauss: samples of z per input in training (extra rows) */
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
    rt_tensor *mu, *sigma;      /* gauss: (B, K) parameters of p(z|x) in the current step */
} nn_layer;

typedef struct nn_model {
    nn_layer *layers;
    int n;
    int in, out;                /* input and output feature sizes */
    rt_params params;
} nn_model;

/* Forward-pass state: the step context, the mode and the noise stream. */
typedef struct nn_fwd {
    rt_ctx *ctx;
    bool train;                 /* training mode: dropout active, gauss draws `samples` */
    rt_rng *noise;              /* layer noise stream (RT_STREAM_NOISE, or RT_STREAM_EVAL) */
    int eval_samples;           /* evaluation: samples of each gauss layer; 0 = its mean */
} nn_fwd;

/* Rows of the output per input row: the product of the sample counts of the gauss layers that
** sample in this mode (samples flow through the rest of the network as extra rows, sample-major:
** row s*B + b is sample s of input b). */
int nn_model_rows_per_input(const nn_model *m, const nn_fwd *f);

rt_status nn_model_build(nn_model *m, const nn_layer_spec *specs, int n, int in, rt_err *err);
void nn_model_free(nn_model *m);
/* Draws every parameter from its initializer with the init stream. */
void nn_model_init(nn_model *m, rt_rng *init);
/* x: (B, in) -> (R*B, out), R = nn_model_rows_per_input. Records each layer's output in
** layers[i].y (and mu, sigma for gauss layers). */
rt_tensor *nn_model_forward(nn_model *m, const nn_fwd *f, rt_tensor *x);
/* Index of the layer with that name, or -1. */
int nn_model_find(const nn_model *m, const char *name);
/* A human-readable table: layer, kind, output shape, parameters; and the total. */
void nn_model_summary(const nn_model *m, char *buf, size_t size);

#endif
