/*
** nn_expr.h: tensor expressions over the model's values, the body of a custom objective term.
**
** A script writes a term as Lua arithmetic over named values (vib.term.custom { value = function(v)
** return (v("z.mu")^2):sum(2) end }); vib_expr.lua records the operations as a graph at declaration
** time, one node per operation with the script line that wrote it, and lb_point.c copies the graph
** here. nn_expr_build resolves the names against the model and checks the shapes once, before
** training: every dimension is a number or "rows" (B times the particles drawn up to the value's
** layer in training), so a feature count that does not fit, rows of two layers with different
** particle counts, or a result that is not one value per row or per batch is an error naming the
** line of the operation that fails. nn_expr_forward runs the graph as tape ops on each batch (the
** gradient comes from the tape); the training loop never calls Lua.
**
** Values (v(name) or vib.value(name)):
**   "<layer>"          the layer's output (a stochastic layer's samples), (rows, width)
**   "<gauss>.mu", ".sigma"  the parameters of p(z|x), (rows of its input, K); ".z" the samples
**   "<bern>.p"         sigmoid of its logits, (rows of its input, K); ".bits" the sampled bits
**   "<noise>.f"        the noiseless f(x) of a vib.noise layer
**   "logits"           the model output; "input" the batch (B, in); "labels" (B) class indices
**   "onehot"           (B, classes); "batch_size" and "epoch" (the fractional epoch): (1)
** When two operands' rows differ (a per-example value against a layer's samples), the per-example
** one is repeated for each sample row, as the built-in terms repeat the labels.
*/
#ifndef NN_EXPR_H
#define NN_EXPR_H

#include "nn_model.h"

typedef enum nn_xop {
    NN_X_VALUE = 0, NN_X_CONST,
    NN_X_ADD, NN_X_SUB, NN_X_MUL, NN_X_DIV,         /* broadcasting, as numpy */
    NN_X_NEG, NN_X_EXP, NN_X_LOG, NN_X_SOFTPLUS, NN_X_SIGMOID, NN_X_TANH, NN_X_SQUARE, NN_X_SQRT,
    NN_X_ABS, NN_X_CLAMP,                           /* clamp: [v0, v1] */
    NN_X_SUM, NN_X_MEAN, NN_X_LOGSUMEXP, NN_X_MAX,  /* over axis, or every element */
    NN_X_MATMUL, NN_X_TRANSPOSE, NN_X_SOFTMAX, NN_X_LOG_SOFTMAX,
    NN_X_PDIST,                                     /* squared distances between rows of a and b */
    NN_X_GATHER,                                    /* x[i, label_i] */
    NN_X_STOP,                                      /* the value, without gradient */
    NN_X_COUNT
} nn_xop;

#define NN_X_ALL 99             /* axis: every element (RT_ALL) */
#define NN_XMAX_NODES 256

/* What a value node reads (resolved by nn_expr_build). */
typedef enum nn_xval {
    NN_XV_LAYER = 0, NN_XV_MU, NN_XV_SIGMA, NN_XV_P, NN_XV_F, NN_XV_LOGITS, NN_XV_INPUT,
    NN_XV_LABELS, NN_XV_ONEHOT, NN_XV_BATCH, NN_XV_EPOCH
} nn_xval;

typedef struct nn_xnode {
    nn_xop op;
    int a, b;                   /* operands: indices of earlier nodes, -1 for none */
    int axis;                   /* reductions, softmax: 0-based, negative from the end, NN_X_ALL */
    bool keepdim;
    float v0, v1;               /* const: v0; clamp: [v0, v1] */
    char name[80];              /* value: what it reads */
    char where[256];            /* "script.lua:LINE" of the operation */
    /* resolved by nn_expr_build */
    nn_xval val;
    int layer;                  /* value: the layer index, -1 for none */
    int ndim;
    int dim[4];                 /* > 0 a size; < 0: -k means k x B rows */
} nn_xnode;

/* A custom term's graph: nodes in the order they were made (operands first), the last the result. */
typedef struct nn_xgraph {
    nn_xnode *nodes;
    int n;
    bool per_batch;             /* one value per batch, not one per row */
    bool rate;                  /* the term bounds I(X;Z) of `rate_layer`: the variational estimator reads it */
    int rate_layer;             /* resolved by nn_expr_build; -1 when not a rate */
    bool labels;                /* reads labels or onehot (resolved) */
} nn_xgraph;

const char *nn_xop_name(nn_xop op);
bool nn_xop_parse(const char *s, nn_xop *op);

/* Resolves the value names and checks every shape; errors name the script line of the failing
** node and the term (term_where, the line that declared it, for the rate). rate_layer_name: the
** layer the term bounds ("" = the one stochastic layer it reads). */
rt_status nn_expr_build(nn_xgraph *g, const nn_model *m, const char *term, const char *term_where,
                        const char *rate_layer_name, rt_err *err);
/* The layers whose outputs the graph reads (for nn_model_forward_step's keep list); returns how many
** were written to out (at most cap). */
int nn_expr_layers(const nn_xgraph *g, int *out, int cap);

/* What the values read besides the model's layers. */
typedef struct nn_xin {
    rt_tensor *out;             /* the model output */
    rt_tensor *x;               /* the input batch (B, ...) */
    const int32_t *labels;      /* B */
    int B;
    double epoch;
    rt_tensor **leaf;           /* NULL, or per node a tensor that replaces that value node (gradcheck) */
} nn_xin;

/* The term on the tape: (rows) one value per row, or (1) per batch. */
rt_tensor *nn_expr_forward(const nn_xgraph *g, const nn_model *m, rt_ctx *c, const nn_xin *in);
/* The value node v as the model gives it now (after a forward pass), on the tape. */
rt_tensor *nn_expr_value(const nn_xgraph *g, int v, const nn_model *m, rt_ctx *c, const nn_xin *in);
/* Whether a value node reads something a gradient flows to (a layer's values, the logits). */
bool nn_expr_value_differentiable(const nn_xnode *v);

/* The same term's batch mean in double, from the values of the value nodes (vals[k] for node k, with
** the shapes the forward gave them; NULL for nodes that are not values): the reference of the
** gradient check. Every row count is the batch's (evaluation at the mean: no tiling). */
double nn_expr_eval_double(const nn_xgraph *g, double *const *vals, const rt_tensor *const *shapes);

/* The gradient check of one custom term (vibrun --gradcheck): the model's values on the first B
** examples of x (n examples of dim features) and y, in evaluation at the mean (every row count is
** B, no noise), become leaves; the term's batch mean is differentiated on the tape (float) and by
** central differences of nn_expr_eval_double (double) with respect to up to `per_value` elements of
** each value a gradient reaches. worst: the largest |tape - numeric| / max(|tape|, |numeric|,
** 1e-3 max|numeric|) over them; checked: how many derivatives were compared. */
typedef struct nn_xcheck {
    double worst;
    int checked;
    int node;                   /* the value node of the worst derivative */
    int64_t element;
} nn_xcheck;
rt_status nn_expr_gradcheck(const nn_xgraph *g, nn_model *m, const float *x, const int32_t *y, int B,
                            int per_value, nn_xcheck *out, rt_err *err);

#endif
