/*
** nn_obj.h: an objective is a weighted sum of named terms.
**
** Each term gives one value per example (in nats inside, reported in bits); the loss that the
** optimizer sees is sum_i weight_i * mean_batch(term_i). Every term is logged on its own, so a
** CSV shows CE and, later, the rate or the KL of a bottleneck side by side with the total.
** A term may name the layer it reads ("z"); nn_obj_build resolves names against the model and
** reports an unknown one at the script line that declared the term.
*/
#ifndef NN_OBJ_H
#define NN_OBJ_H

#include "nn_model.h"

#define NN_MAX_TERMS 16

typedef enum nn_term_kind {
    NN_TERM_CE = 0,             /* cross-entropy of the model output against the labels */
    NN_TERM_KL,                 /* KL(p(z|x) || N(0, I)) of a gauss layer, closed form: the rate */
    NN_TERM_COUNT
} nn_term_kind;

typedef struct nn_term_spec {
    nn_term_kind kind;
    char name[32];              /* column name in the CSV: "<name>_bits" */
    float weight;
    char layer[64];             /* the layer the term reads; "" = the model output */
    float smoothing;            /* ce: label smoothing in [0, 1) */
    char where[256];            /* "script.lua:LINE" */
} nn_term_spec;

const char *nn_term_kind_name(nn_term_kind k);
bool nn_term_kind_parse(const char *s, nn_term_kind *k);
nn_term_spec nn_term_spec_default(nn_term_kind k);

typedef struct nn_obj {
    nn_term_spec terms[NN_MAX_TERMS];
    int layer[NN_MAX_TERMS];    /* resolved layer index, -1 = model output */
    int n;
} nn_obj;

/* The terms computed on one batch: loss (scalar, nats) and each term's values, one per row of
** what the term reads: (B) or, after a sampling layer, (S*B) rows; means are per example. */
typedef struct nn_obj_out {
    rt_tensor *loss;            /* (1) */
    rt_tensor *term[NN_MAX_TERMS];  /* (rows) nats */
} nn_obj_out;

rt_status nn_obj_build(nn_obj *o, const nn_term_spec *terms, int n, const nn_model *m, rt_err *err);
/* Computes every term from the model's last forward pass (layers[i].y) and the output. labels
** holds B entries; rows beyond B (samples) repeat them. */
nn_obj_out nn_obj_forward(const nn_obj *o, const nn_model *m, rt_ctx *c, rt_tensor *out,
                          const int32_t *labels, int B);

#endif
