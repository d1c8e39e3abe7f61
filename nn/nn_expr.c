// nn_expr.c: custom objective terms: the graph a script declared, checked once against the model,
// run as tape ops on every batch, and evaluated in double for the gradient check.
#include "nn_expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_ops.h"

static const char *const xop_names[NN_X_COUNT] = {
    [NN_X_VALUE] = "value", [NN_X_CONST] = "const", [NN_X_ADD] = "add", [NN_X_SUB] = "sub",
    [NN_X_MUL] = "mul", [NN_X_DIV] = "div", [NN_X_NEG] = "neg", [NN_X_EXP] = "exp", [NN_X_LOG] = "log",
    [NN_X_SOFTPLUS] = "softplus", [NN_X_SIGMOID] = "sigmoid", [NN_X_TANH] = "tanh",
    [NN_X_SQUARE] = "square", [NN_X_SQRT] = "sqrt", [NN_X_ABS] = "abs", [NN_X_CLAMP] = "clamp",
    [NN_X_SUM] = "sum", [NN_X_MEAN] = "mean", [NN_X_LOGSUMEXP] = "logsumexp", [NN_X_MAX] = "max",
    [NN_X_MATMUL] = "matmul", [NN_X_TRANSPOSE] = "transpose", [NN_X_SOFTMAX] = "softmax",
    [NN_X_LOG_SOFTMAX] = "log_softmax", [NN_X_PDIST] = "pdist", [NN_X_GATHER] = "gather",
    [NN_X_STOP] = "stop_gradient",
};

const char *nn_xop_name(nn_xop op) { return (unsigned)op < NN_X_COUNT ? xop_names[op] : "?"; }

bool nn_xop_parse(const char *s, nn_xop *op) {
    for (int i = 0; i < NN_X_COUNT; i++)
        if (strcmp(s, xop_names[i]) == 0) { *op = (nn_xop)i; return true; }
    return false;
}

static bool is_unary_map(nn_xop op) { return op >= NN_X_NEG && op <= NN_X_CLAMP; }
static bool is_binary_map(nn_xop op) { return op >= NN_X_ADD && op <= NN_X_DIV; }
static bool is_reduction(nn_xop op) { return op >= NN_X_SUM && op <= NN_X_MAX; }

// ---- build: names and shapes ----

RT_PRINTF(4, 5)
static rt_status node_err(rt_err *err, const nn_xnode *x, const char *term, const char *fmt, ...) {
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rt_err_set(err, RT_ERR_ARG, "%s%sterm '%s': %s: %s", x->where, x->where[0] ? ": " : "", term,
                      nn_xop_name(x->op), msg);
}

/* "(B, 10)", "(12B, 784)", "(1)". */
static const char *shape_str(const nn_xnode *x, char *buf, size_t size) {
    size_t k = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < x->ndim && k < size; i++) {
        const char *sep = i ? ", " : "";
        if (x->dim[i] > 0) k += (size_t)snprintf(buf + k, size - k, "%s%d", sep, x->dim[i]);
        else if (x->dim[i] == -1) k += (size_t)snprintf(buf + k, size - k, "%sB", sep);
        else k += (size_t)snprintf(buf + k, size - k, "%s%dB", sep, -x->dim[i]);
    }
    if (k < size) snprintf(buf + k, size - k, ")");
    return buf;
}

static void set_shape(nn_xnode *x, int ndim, int d0, int d1) {
    x->ndim = ndim;
    x->dim[0] = d0;
    x->dim[1] = d1;
    x->dim[2] = x->dim[3] = 1;
}

/* Two dimensions that meet (broadcast, or contracted): the result, or 0 when they cannot. Rows of
** one sample per example meet rows of k samples (repeated per sample); sizes must be equal. */
static int meet(int a, int b, bool broadcast) {
    if (a == b) return a;
    if (broadcast && a == 1) return b;
    if (broadcast && b == 1) return a;
    if (a < 0 && b < 0 && (a == -1 || b == -1)) return a < b ? a : b;
    return 0;
}

static const char *const suffixes[] = { "mu", "sigma", "z", "p", "bits", "f" };

static rt_status resolve_value(nn_xnode *x, const nn_model *m, const char *term, rt_err *err) {
    static const struct { const char *name; nn_xval v; } fixed[] = {
        { "logits", NN_XV_LOGITS }, { "input", NN_XV_INPUT }, { "labels", NN_XV_LABELS },
        { "onehot", NN_XV_ONEHOT }, { "batch_size", NN_XV_BATCH }, { "epoch", NN_XV_EPOCH },
    };
    x->layer = -1;
    nn_fwd train = { 0 };
    train.train = true;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (strcmp(x->name, fixed[i].name) != 0) continue;
        x->val = fixed[i].v;
        switch (x->val) {
        case NN_XV_LOGITS: set_shape(x, 2, -nn_model_rows_per_input(m, &train), m->out); break;
        case NN_XV_INPUT: set_shape(x, 2, -1, m->in); break;
        case NN_XV_LABELS: set_shape(x, 1, -1, 1); break;
        case NN_XV_ONEHOT: set_shape(x, 2, -1, m->out); break;
        default: set_shape(x, 1, 1, 1); break;
        }
        if ((x->val == NN_XV_LABELS || x->val == NN_XV_ONEHOT) && m->out < 2)
            return node_err(err, x, term, "'%s' reads class labels, and the model outputs %d value(s), not one per class",
                            x->name, m->out);
        return RT_OK;
    }
    char lname[80];
    snprintf(lname, sizeof lname, "%s", x->name);
    char *dot = strchr(lname, '.');
    const char *suffix = "";
    if (dot) { *dot = '\0'; suffix = dot + 1; }
    int li = nn_model_find(m, lname);
    if (li < 0) {
        char names[400];
        size_t k = 0;
        names[0] = '\0';
        for (int i = 0; i < m->n && k < sizeof names; i++)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "", m->layers[i].spec.name);
        return node_err(err, x, term, "'%s' names no value; the values are logits, input, labels, onehot, batch_size, "
                        "epoch, a layer's name (%s) and, of stochastic layers, <name>.mu, .sigma, .z (vib.gauss), "
                        ".p, .bits (vib.bern), .f (vib.noise)", x->name, names);
    }
    const nn_layer *l = &m->layers[li];
    if (l->spatial)
        return node_err(err, x, term, "layer '%s' outputs a (%d, %d, %d) map, and expressions read feature vectors; read "
                        "a layer after a vib.global_avgpool {} or vib.flatten {}", lname, l->shape[0], l->shape[1], l->shape[2]);
    x->layer = li;
    int rows = nn_model_rows_upto(m, &train, li), in_rows = nn_model_rows_upto(m, &train, li - 1);
    nn_layer_kind k = l->spec.kind;
    x->val = NN_XV_LAYER;
    set_shape(x, 2, -rows, l->out);
    if (!suffix[0] || (strcmp(suffix, "z") == 0 && k == NN_LAYER_GAUSS) || (strcmp(suffix, "bits") == 0 && k == NN_LAYER_BERN))
        return RT_OK;
    if (k == NN_LAYER_GAUSS && (strcmp(suffix, "mu") == 0 || strcmp(suffix, "sigma") == 0)) {
        if (suffix[0] == 's' && l->spec.full_cov)
            return node_err(err, x, term, "'%s': layer '%s' has a full covariance (cov = \"full\"), whose scale is a "
                            "Cholesky factor, not one sigma per unit", x->name, lname);
        x->val = suffix[0] == 'm' ? NN_XV_MU : NN_XV_SIGMA;
        set_shape(x, 2, -in_rows, l->out);
        return RT_OK;
    }
    if (k == NN_LAYER_BERN && strcmp(suffix, "p") == 0) {
        x->val = NN_XV_P;
        set_shape(x, 2, -in_rows, l->out);
        return RT_OK;
    }
    if (k == NN_LAYER_NOISE && strcmp(suffix, "f") == 0) {
        x->val = NN_XV_F;
        set_shape(x, 2, -in_rows, l->out);
        return RT_OK;
    }
    bool known = false;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) known |= strcmp(suffix, suffixes[i]) == 0;
    return node_err(err, x, term, "'%s': layer '%s' is a %s layer, which has %s", x->name, lname, nn_layer_kind_name(k),
                    k == NN_LAYER_GAUSS ? "'.mu', '.sigma' and '.z'" : k == NN_LAYER_BERN ? "'.p' and '.bits'"
                    : k == NN_LAYER_NOISE ? "'.f'" : known ? "no parameters to read; read its output by its name"
                    : "no such value; read its output by its name");
}

/* Shapes of the reduction of x over axis (resolved to 0-based or NN_X_ALL). */
static rt_status reduce_shape(nn_xnode *x, const nn_xnode *a, const char *term, rt_err *err) {
    if (x->axis == NN_X_ALL) {
        set_shape(x, 1, 1, 1);
        return RT_OK;
    }
    int ax = x->axis < 0 ? x->axis + a->ndim : x->axis;
    char s[64];
    if (ax < 0 || ax >= a->ndim)
        return node_err(err, x, term, "axis %d is outside a value of shape %s (axes 1 to %d, or -1 for the last)",
                        x->axis < 0 ? x->axis : x->axis + 1, shape_str(a, s, sizeof s), a->ndim);
    x->axis = ax;
    x->ndim = 0;
    for (int i = 0; i < a->ndim; i++) {
        if (i != ax) x->dim[x->ndim++] = a->dim[i];
        else if (x->keepdim) x->dim[x->ndim++] = 1;
    }
    if (x->ndim == 0) x->dim[x->ndim++] = 1;
    return RT_OK;
}

static rt_status check_node(nn_xgraph *g, int i, const nn_model *m, const char *term, rt_err *err) {
    nn_xnode *x = &g->nodes[i];
    const nn_xnode *a = x->a >= 0 ? &g->nodes[x->a] : NULL, *b = x->b >= 0 ? &g->nodes[x->b] : NULL;
    char sa[64], sb[64];
    if ((x->a >= i) || (x->b >= i)) RT_ABORT("expression node %d reads a later node", i);
    switch (x->op) {
    case NN_X_VALUE: return resolve_value(x, m, term, err);
    case NN_X_CONST: set_shape(x, 1, 1, 1); return RT_OK;
    case NN_X_ADD: case NN_X_SUB: case NN_X_MUL: case NN_X_DIV: {
        int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
        x->ndim = nd;
        for (int k = 0; k < nd; k++) {
            int da = k < nd - a->ndim ? 1 : a->dim[k - (nd - a->ndim)];
            int db = k < nd - b->ndim ? 1 : b->dim[k - (nd - b->ndim)];
            x->dim[k] = meet(da, db, true);
            if (!x->dim[k])
                return node_err(err, x, term, "the shapes %s and %s do not broadcast (B: the batch's rows; 12B: 12 "
                                "samples per example)", shape_str(a, sa, sizeof sa), shape_str(b, sb, sizeof sb));
        }
        return RT_OK;
    }
    case NN_X_CLAMP:
        if (!(x->v0 <= x->v1)) return node_err(err, x, term, "the bounds [%g, %g] are empty", (double)x->v0, (double)x->v1);
        /* fall through */
    case NN_X_NEG: case NN_X_EXP: case NN_X_LOG: case NN_X_SOFTPLUS: case NN_X_SIGMOID: case NN_X_TANH:
    case NN_X_SQUARE: case NN_X_SQRT: case NN_X_ABS: case NN_X_STOP:
        x->ndim = a->ndim;
        memcpy(x->dim, a->dim, sizeof x->dim);
        return RT_OK;
    case NN_X_SUM: case NN_X_MEAN: case NN_X_LOGSUMEXP: case NN_X_MAX:
        return reduce_shape(x, a, term, err);
    case NN_X_SOFTMAX: case NN_X_LOG_SOFTMAX: {
        int ax = x->axis == NN_X_ALL ? -1 : x->axis;
        x->axis = ax < 0 ? ax + a->ndim : ax;
        if (x->axis < 0 || x->axis >= a->ndim)
            return node_err(err, x, term, "axis %d is outside a value of shape %s", ax < 0 ? ax : ax + 1,
                            shape_str(a, sa, sizeof sa));
        x->ndim = a->ndim;
        memcpy(x->dim, a->dim, sizeof x->dim);
        return RT_OK;
    }
    case NN_X_TRANSPOSE:
        if (a->ndim != 2) return node_err(err, x, term, "transposes a matrix; the value has shape %s", shape_str(a, sa, sizeof sa));
        set_shape(x, 2, a->dim[1], a->dim[0]);
        return RT_OK;
    case NN_X_MATMUL:
        if (a->ndim != 2 || b->ndim != 2 || !meet(a->dim[1], b->dim[0], false))
            return node_err(err, x, term, "multiplies (M, K) by (K, N); the shapes are %s and %s",
                            shape_str(a, sa, sizeof sa), shape_str(b, sb, sizeof sb));
        set_shape(x, 2, a->dim[0], b->dim[1]);
        return RT_OK;
    case NN_X_PDIST:
        if (!b) b = a;
        if (a->ndim != 2 || b->ndim != 2 || a->dim[1] != b->dim[1] || a->dim[1] < 0)
            return node_err(err, x, term, "takes the squared distances between the rows of two (rows, features) values "
                            "with the same features; the shapes are %s and %s", shape_str(a, sa, sizeof sa),
                            shape_str(b, sb, sizeof sb));
        set_shape(x, 2, a->dim[0], b->dim[0]);
        return RT_OK;
    case NN_X_GATHER:
        if (b->op != NN_X_VALUE || b->val != NN_XV_LABELS)
            return node_err(err, x, term, "gathers by the labels: its second argument must be v.labels (vib.value \"labels\")");
        if (a->ndim != 2 || a->dim[0] >= 0 || a->dim[1] != m->out)
            return node_err(err, x, term, "picks x[i, label_i] from a (rows, %d) value, one column per class; the "
                            "value has shape %s", m->out, shape_str(a, sa, sizeof sa));
        set_shape(x, 1, a->dim[0], 1);
        return RT_OK;
    default: RT_ABORT("expression op %d not handled", (int)x->op);
    }
}

rt_status nn_expr_build(nn_xgraph *g, const nn_model *m, const char *term, const char *term_where,
                        const char *rate_layer_name, rt_err *err) {
    if (g->n <= 0) return rt_err_set(err, RT_ERR_ARG, "term '%s': the expression is empty", term);
    g->labels = false;
    for (int i = 0; i < g->n; i++) {
        nn_xnode *x = &g->nodes[i];
        rt_status st = check_node(g, i, m, term, err);
        if (st) return st;
        if (x->op == NN_X_VALUE && (x->val == NN_XV_LABELS || x->val == NN_XV_ONEHOT)) g->labels = true;
    }
    const nn_xnode *r = &g->nodes[g->n - 1];
    char s[64];
    bool scalar = true;
    for (int k = 0; k < r->ndim; k++) scalar &= r->dim[k] == 1;
    bool per_row = (r->ndim == 1 && r->dim[0] < 0) || (r->ndim == 2 && r->dim[0] < 0 && r->dim[1] == 1);
    if (g->per_batch && !scalar)
        return node_err(err, r, term, "per = \"batch\" needs one value for the batch, and the expression gives %s; "
                        "reduce it (:sum(), :mean())", shape_str(r, s, sizeof s));
    if (!g->per_batch && !per_row)
        return node_err(err, r, term, "a term gives one value per example (rows), or one per batch with per = \"batch\"; "
                        "the expression gives %s%s", shape_str(r, s, sizeof s),
                        scalar ? "; say per = \"batch\"" : r->ndim == 2 && r->dim[0] < 0 ? "; reduce the features (:sum(2))" : "");
    g->rate_layer = -1;
    if (g->rate) {
        if (rate_layer_name && rate_layer_name[0]) {
            g->rate_layer = nn_model_find(m, rate_layer_name);
            if (g->rate_layer < 0)
                return rt_err_set(err, RT_ERR_ARG, "%s: term '%s': rate: layer '%s' is not in the model", term_where, term,
                                  rate_layer_name);
        } else {
            for (int i = 0; i < g->n; i++) {
                const nn_xnode *x = &g->nodes[i];
                if (x->op != NN_X_VALUE || x->layer < 0 || !nn_layer_stochastic(&m->layers[x->layer].spec)) continue;
                if (g->rate_layer >= 0 && g->rate_layer != x->layer)
                    return rt_err_set(err, RT_ERR_ARG, "%s: term '%s': rate = true, and the expression reads two stochastic "
                                      "layers ('%s', '%s'); say which one's I(X;Z) it bounds with layer = \"...\"", term_where,
                                      term, m->layers[g->rate_layer].spec.name, m->layers[x->layer].spec.name);
                g->rate_layer = x->layer;
            }
            if (g->rate_layer < 0)
                return rt_err_set(err, RT_ERR_ARG, "%s: term '%s': rate = true, and the expression reads no stochastic "
                                  "layer; say which layer's I(X;Z) it bounds with layer = \"...\"", term_where, term);
        }
    }
    return RT_OK;
}

int nn_expr_layers(const nn_xgraph *g, int *out, int cap) {
    int n = 0;
    for (int i = 0; i < g->n && n < cap; i++)
        if (g->nodes[i].op == NN_X_VALUE && g->nodes[i].layer >= 0) out[n++] = g->nodes[i].layer;
    return n;
}

bool nn_expr_value_differentiable(const nn_xnode *v) {
    return v->op == NN_X_VALUE && (v->layer >= 0 || v->val == NN_XV_LOGITS);
}

// ---- forward on the tape ----

static rt_tensor *constant(rt_ctx *c, float v) {
    rt_tensor *t = rt_tensor_new(c, 1, (int[]){ 1 });
    t->data[0] = v;
    return t;
}

static rt_tensor *onehot(rt_ctx *c, const int32_t *y, int B, int rows, int C) {
    rt_tensor *t = rt_tensor_new(c, 2, (int[]){ rows, C });
    for (int i = 0; i < rows; i++) {
        RT_ASSERT(y[i % B] >= 0 && y[i % B] < C && "labels checked by nn_obj_check_labels");
        t->data[(size_t)i * C + y[i % B]] = 1.0f;
    }
    return t;
}

rt_tensor *nn_expr_value(const nn_xgraph *g, int v, const nn_model *m, rt_ctx *c, const nn_xin *in) {
    const nn_xnode *x = &g->nodes[v];
    const nn_layer *l = x->layer >= 0 ? &m->layers[x->layer] : NULL;
    switch (x->val) {
    case NN_XV_LAYER: RT_ASSERT(l->y && "the layer's output is kept for the objective"); return l->y;
    case NN_XV_MU: case NN_XV_F: return l->mu;
    case NN_XV_SIGMA:
        if (l->sigma) return l->sigma;
        {
            rt_tensor *one = rt_tensor_like(c, l->mu);
            for (int64_t k = 0; k < one->n; k++) one->data[k] = 1.0f;
            return one;
        }
    case NN_XV_P: return rt_sigmoid(c, l->logits);
    case NN_XV_LOGITS: return in->out;
    case NN_XV_INPUT: return in->x->ndim == 2 ? in->x : rt_reshape(c, in->x, 2, (int[]){ in->B, m->in });
    case NN_XV_LABELS: {
        rt_tensor *t = rt_tensor_new_raw(c, 1, (int[]){ in->B });
        for (int i = 0; i < in->B; i++) t->data[i] = (float)in->labels[i];
        return t;
    }
    case NN_XV_ONEHOT: return onehot(c, in->labels, in->B, in->B, m->out);
    case NN_XV_BATCH: return constant(c, (float)in->B);
    case NN_XV_EPOCH: return constant(c, (float)in->epoch);
    default: RT_ABORT("value kind %d not handled", (int)x->val);
    }
}

/* t with its axis `axis` (B rows) repeated S times, sample-major: row s*B + b is row b. */
static rt_tensor *tile(rt_ctx *c, rt_tensor *t, int axis, int S) {
    int sh[RT_MAX_DIMS], n = 0, out[RT_MAX_DIMS];
    RT_ASSERT(t->ndim < RT_MAX_DIMS);
    for (int i = 0; i < t->ndim; i++) {
        if (i == axis) sh[n++] = 1;
        sh[n++] = t->shape[i];
        out[i] = t->shape[i] * (i == axis ? S : 1);
    }
    rt_tensor *r = rt_reshape(c, t, n, sh);
    sh[axis] = S;
    return rt_reshape(c, rt_broadcast(c, r, n, sh), t->ndim, out);
}

/* Repeats the per-example operand where two row axes of a and b (node shapes na, nb) differ. */
static void match_rows(rt_ctx *c, rt_tensor **a, const nn_xnode *na, int axa, rt_tensor **b, const nn_xnode *nb, int axb) {
    if (na->dim[axa] >= 0 || nb->dim[axb] >= 0) return;
    int sa = (*a)->shape[axa], sb = (*b)->shape[axb];
    if (sa == sb) return;
    if (sa < sb) { RT_ASSERT(sb % sa == 0); *a = tile(c, *a, axa, sb / sa); }
    else { RT_ASSERT(sa % sb == 0); *b = tile(c, *b, axb, sa / sb); }
}

static rt_tensor *reduce(rt_ctx *c, nn_xop op, rt_tensor *a, int axis, bool keepdim) {
    if (op == NN_X_SUM) return rt_sum(c, a, axis, keepdim);
    if (op == NN_X_MEAN) return rt_mean(c, a, axis, keepdim);
    if (axis == NN_X_ALL) {
        a = rt_reshape(c, a, 1, (int[]){ (int)a->n });
        axis = 0;
    }
    return op == NN_X_MAX ? rt_max(c, a, axis, keepdim) : rt_logsumexp(c, a, axis, keepdim);
}

static rt_tensor *run_node(const nn_xgraph *g, int i, rt_tensor **v, const nn_model *m, rt_ctx *c, const nn_xin *in) {
    const nn_xnode *x = &g->nodes[i];
    rt_tensor *a = x->a >= 0 ? v[x->a] : NULL, *b = x->b >= 0 ? v[x->b] : NULL;
    const nn_xnode *na = x->a >= 0 ? &g->nodes[x->a] : NULL, *nb = x->b >= 0 ? &g->nodes[x->b] : NULL;
    if (is_binary_map(x->op)) {
        for (int k = 1; k <= a->ndim && k <= b->ndim; k++) match_rows(c, &a, na, a->ndim - k, &b, nb, b->ndim - k);
        switch (x->op) {
        case NN_X_ADD: return rt_add(c, a, b);
        case NN_X_SUB: return rt_sub(c, a, b);
        case NN_X_MUL: return rt_mul(c, a, b);
        default: return rt_div(c, a, b);
        }
    }
    switch (x->op) {
    case NN_X_VALUE: return in->leaf && in->leaf[i] ? in->leaf[i] : nn_expr_value(g, i, m, c, in);
    case NN_X_CONST: return constant(c, x->v0);
    case NN_X_NEG: return rt_scale(c, a, -1.0f);
    case NN_X_EXP: return rt_exp(c, a);
    case NN_X_LOG: return rt_log(c, a);
    case NN_X_SOFTPLUS: return rt_softplus(c, a);
    case NN_X_SIGMOID: return rt_sigmoid(c, a);
    case NN_X_TANH: return rt_tanh(c, a);
    case NN_X_SQUARE: return rt_square(c, a);
    case NN_X_SQRT: return rt_sqrt(c, a);
    case NN_X_ABS: return rt_abs(c, a);
    case NN_X_CLAMP: return rt_clamp(c, a, x->v0, x->v1);
    case NN_X_SUM: case NN_X_MEAN: case NN_X_LOGSUMEXP: case NN_X_MAX: return reduce(c, x->op, a, x->axis, x->keepdim);
    case NN_X_SOFTMAX: case NN_X_LOG_SOFTMAX: {
        rt_tensor *ls = rt_sub(c, a, rt_logsumexp(c, a, x->axis, true));
        return x->op == NN_X_SOFTMAX ? rt_exp(c, ls) : ls;
    }
    case NN_X_TRANSPOSE: return rt_transpose(c, a);
    case NN_X_MATMUL:
        match_rows(c, &a, na, 1, &b, nb, 0);
        return rt_matmul(c, a, b);
    case NN_X_PDIST: {
        /* |a_i|^2 + |b_j|^2 - 2 a_i.b_j, as the built-in KDE term computes it. */
        rt_tensor *sa = rt_sum(c, rt_square(c, a), 1, true);
        rt_tensor *sb = b ? rt_sum(c, rt_square(c, b), 1, true) : sa;
        int M = b ? b->shape[0] : a->shape[0];
        rt_tensor *gm = rt_matmul(c, a, rt_transpose(c, b ? b : a));
        return rt_sub(c, rt_add(c, sa, rt_reshape(c, sb, 2, (int[]){ 1, M })), rt_scale(c, gm, 2.0f));
    }
    case NN_X_GATHER: {
        int rows = a->shape[0];
        RT_ASSERT(rows % in->B == 0);
        return rt_sum(c, rt_mul(c, a, onehot(c, in->labels, in->B, rows, a->shape[1])), 1, false);
    }
    case NN_X_STOP: {
        rt_tensor *t = rt_arena_alloc_raw(&c->step, sizeof *t);
        rt_tensor_wrap(t, a->ndim, a->shape, a->data);
        return t;
    }
    default: RT_ABORT("expression op %d not handled", (int)x->op);
    }
}

rt_tensor *nn_expr_forward(const nn_xgraph *g, const nn_model *m, rt_ctx *c, const nn_xin *in) {
    rt_tensor **v = rt_arena_alloc_raw(&c->step, (size_t)g->n * sizeof *v);
    for (int i = 0; i < g->n; i++) v[i] = run_node(g, i, v, m, c, in);
    rt_tensor *r = v[g->n - 1];
    return r->ndim == 1 ? r : rt_reshape(c, r, 1, (int[]){ (int)r->n });
}

// ---- the same in double (the gradient check's reference) ----

typedef struct dt {
    int ndim, sh[4];
    int64_t n;
    double *d;
} dt;

static dt dt_new(int ndim, const int *sh) {
    dt t = { .ndim = ndim, .n = 1 };
    for (int i = 0; i < 4; i++) {
        t.sh[i] = i < ndim ? sh[i] : 1;
        t.n *= t.sh[i];
    }
    t.d = calloc((size_t)t.n, sizeof *t.d);
    RT_ASSERT(t.d);
    return t;
}

/* outer x len x inner around axis. */
static void split3(const dt *t, int axis, int64_t *outer, int64_t *len, int64_t *inner) {
    *outer = *len = *inner = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (i < axis) *outer *= t->sh[i];
        else if (i == axis) *len = t->sh[i];
        else *inner *= t->sh[i];
    }
}

static double unary1(nn_xop op, double v, const nn_xnode *x) {
    switch (op) {
    case NN_X_NEG: return -v;
    case NN_X_EXP: return exp(v);
    case NN_X_LOG: return log(v);
    case NN_X_SOFTPLUS: return v > 0 ? v + log1p(exp(-v)) : log1p(exp(v));
    case NN_X_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case NN_X_TANH: return tanh(v);
    case NN_X_SQUARE: return v * v;
    case NN_X_SQRT: return sqrt(v);
    case NN_X_ABS: return fabs(v);
    case NN_X_CLAMP: return v < (double)x->v0 ? (double)x->v0 : v > (double)x->v1 ? (double)x->v1 : v;
    default: return v;          /* stop_gradient: the value */
    }
}

static double binary1(nn_xop op, double p, double q) {
    return op == NN_X_ADD ? p + q : op == NN_X_SUB ? p - q : op == NN_X_MUL ? p * q : p / q;
}

/* Numpy broadcasting of a and b into out (both right-aligned to 4 dims). */
static dt d_binary(nn_xop op, const dt *a, const dt *b) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim, sh[4], A[4], Bs[4];
    for (int k = 0; k < 4; k++) {
        A[k] = k < 4 - a->ndim ? 1 : a->sh[k - (4 - a->ndim)];
        Bs[k] = k < 4 - b->ndim ? 1 : b->sh[k - (4 - b->ndim)];
    }
    int full[4];
    for (int k = 0; k < 4; k++) full[k] = A[k] > Bs[k] ? A[k] : Bs[k];
    for (int k = 0; k < nd; k++) sh[k] = full[4 - nd + k];
    dt o = dt_new(nd, sh);
    int64_t i = 0;
    for (int i0 = 0; i0 < full[0]; i0++)
        for (int i1 = 0; i1 < full[1]; i1++)
            for (int i2 = 0; i2 < full[2]; i2++)
                for (int i3 = 0; i3 < full[3]; i3++, i++) {
                    int64_t ia = (((int64_t)(A[0] > 1 ? i0 : 0) * A[1] + (A[1] > 1 ? i1 : 0)) * A[2] + (A[2] > 1 ? i2 : 0)) * A[3] + (A[3] > 1 ? i3 : 0);
                    int64_t ib = (((int64_t)(Bs[0] > 1 ? i0 : 0) * Bs[1] + (Bs[1] > 1 ? i1 : 0)) * Bs[2] + (Bs[2] > 1 ? i2 : 0)) * Bs[3] + (Bs[3] > 1 ? i3 : 0);
                    o.d[i] = binary1(op, a->d[ia], b->d[ib]);
                }
    return o;
}

static dt d_reduce(nn_xop op, const dt *a, int axis, bool keepdim) {
    dt src = *a;
    if (axis == NN_X_ALL) {
        src.ndim = 1;
        src.sh[0] = (int)a->n;
        src.sh[1] = src.sh[2] = src.sh[3] = 1;
        axis = 0;
    }
    int sh[4], nd = 0;
    for (int i = 0; i < src.ndim; i++) {
        if (i != axis) sh[nd++] = src.sh[i];
        else if (keepdim) sh[nd++] = 1;
    }
    if (nd == 0) sh[nd++] = 1;
    dt o = dt_new(nd, sh);
    int64_t outer, len, inner;
    split3(&src, axis, &outer, &len, &inner);
    for (int64_t p = 0; p < outer; p++)
        for (int64_t k = 0; k < inner; k++) {
            const double *px = src.d + p * len * inner + k;
            double mx = px[0], s = 0.0;
            for (int64_t j = 1; j < len; j++) mx = px[j * inner] > mx ? px[j * inner] : mx;
            for (int64_t j = 0; j < len; j++) s += op == NN_X_LOGSUMEXP ? exp(px[j * inner] - mx) : px[j * inner];
            o.d[p * inner + k] = op == NN_X_SUM ? s : op == NN_X_MEAN ? s / (double)len : op == NN_X_MAX ? mx : mx + log(s);
        }
    return o;
}

static dt d_node(const nn_xgraph *g, int i, dt *v, double *const *vals, const rt_tensor *const *shapes) {
    const nn_xnode *x = &g->nodes[i];
    const dt *a = x->a >= 0 ? &v[x->a] : NULL, *b = x->b >= 0 ? &v[x->b] : NULL;
    if (is_binary_map(x->op)) return d_binary(x->op, a, b);
    if (is_unary_map(x->op) || x->op == NN_X_STOP) {
        dt o = dt_new(a->ndim, a->sh);
        for (int64_t k = 0; k < a->n; k++) o.d[k] = unary1(x->op, a->d[k], x);
        return o;
    }
    if (is_reduction(x->op)) return d_reduce(x->op, a, x->axis, x->keepdim);
    switch (x->op) {
    case NN_X_VALUE: {
        dt o = dt_new(shapes[i]->ndim, shapes[i]->shape);
        memcpy(o.d, vals[i], (size_t)o.n * sizeof *o.d);
        return o;
    }
    case NN_X_CONST: {
        dt o = dt_new(1, (int[]){ 1 });
        o.d[0] = (double)x->v0;
        return o;
    }
    case NN_X_SOFTMAX: case NN_X_LOG_SOFTMAX: {
        dt l = d_reduce(NN_X_LOGSUMEXP, a, x->axis, true), o = d_binary(NN_X_SUB, a, &l);
        free(l.d);
        if (x->op == NN_X_SOFTMAX)
            for (int64_t k = 0; k < o.n; k++) o.d[k] = exp(o.d[k]);
        return o;
    }
    case NN_X_TRANSPOSE: {
        dt o = dt_new(2, (int[]){ a->sh[1], a->sh[0] });
        for (int r = 0; r < a->sh[0]; r++)
            for (int q = 0; q < a->sh[1]; q++) o.d[(int64_t)q * a->sh[0] + r] = a->d[(int64_t)r * a->sh[1] + q];
        return o;
    }
    case NN_X_MATMUL: {
        int M = a->sh[0], K = a->sh[1], N = b->sh[1];
        dt o = dt_new(2, (int[]){ M, N });
        for (int r = 0; r < M; r++)
            for (int q = 0; q < N; q++) {
                double s = 0.0;
                for (int k = 0; k < K; k++) s += a->d[(int64_t)r * K + k] * b->d[(int64_t)k * N + q];
                o.d[(int64_t)r * N + q] = s;
            }
        return o;
    }
    case NN_X_PDIST: {
        const dt *c2 = b ? b : a;
        int M = a->sh[0], N = c2->sh[0], K = a->sh[1];
        dt o = dt_new(2, (int[]){ M, N });
        for (int r = 0; r < M; r++)
            for (int q = 0; q < N; q++) {
                double s = 0.0;
                for (int k = 0; k < K; k++) {
                    double e = a->d[(int64_t)r * K + k] - c2->d[(int64_t)q * K + k];
                    s += e * e;
                }
                o.d[(int64_t)r * N + q] = s;
            }
        return o;
    }
    case NN_X_GATHER: {
        int R = a->sh[0], C = a->sh[1], B = (int)b->n;
        dt o = dt_new(1, (int[]){ R });
        for (int r = 0; r < R; r++) o.d[r] = a->d[(int64_t)r * C + (int)b->d[r % B]];
        return o;
    }
    default: RT_ABORT("expression op %d not handled", (int)x->op);
    }
}

double nn_expr_eval_double(const nn_xgraph *g, double *const *vals, const rt_tensor *const *shapes) {
    dt *v = calloc((size_t)g->n, sizeof *v);
    RT_ASSERT(v);
    for (int i = 0; i < g->n; i++) v[i] = d_node(g, i, v, vals, shapes);
    const dt *r = &v[g->n - 1];
    double s = 0.0;
    for (int64_t k = 0; k < r->n; k++) s += r->d[k];
    s /= (double)r->n;
    for (int i = 0; i < g->n; i++) free(v[i].d);
    free(v);
    return s;
}

// ---- the gradient check ----

rt_status nn_expr_gradcheck(const nn_xgraph *g, nn_model *m, const float *x, const int32_t *y, int B,
                            int per_value, nn_xcheck *out, rt_err *err) {
    memset(out, 0, sizeof *out);
    out->node = -1;
    rt_ctx c;
    rt_ctx_init(&c, 1u << 20);
    rt_rng noise;
    rt_rng_seed(&noise, 1);
    rt_tensor *xt = rt_tensor_new_raw(&c, 2, (int[]){ B, m->in });
    memcpy(xt->data, x, (size_t)B * (size_t)m->in * sizeof *x);
    c.grad_enabled = false;
    nn_fwd f = { &c, false, &noise, 0, B, 0, NULL };
    rt_tensor *logits = nn_model_forward(m, &f, xt);
    nn_xin in = { logits, xt, y, B, 0.0, NULL };
    rt_tensor **leaf = rt_arena_alloc(&c.step, (size_t)g->n * sizeof *leaf);
    double **vals = calloc((size_t)g->n, sizeof *vals);
    if (!vals) {
        rt_ctx_free(&c);
        return rt_err_set(err, RT_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < g->n; i++) {
        if (g->nodes[i].op != NN_X_VALUE) continue;
        rt_tensor *v = nn_expr_value(g, i, m, &c, &in);
        rt_tensor *l = rt_tensor_new_raw(&c, v->ndim, v->shape);
        memcpy(l->data, v->data, (size_t)v->n * sizeof *v->data);
        if (nn_expr_value_differentiable(&g->nodes[i])) l->flags |= RT_NEEDS_GRAD;
        leaf[i] = l;
        vals[i] = malloc((size_t)l->n * sizeof *vals[i]);
        RT_ASSERT(vals[i]);
        for (int64_t k = 0; k < l->n; k++) vals[i][k] = (double)l->data[k];
    }
    c.grad_enabled = true;
    in.leaf = leaf;
    rt_tensor *loss = rt_mean(&c, nn_expr_forward(g, m, &c, &in), RT_ALL, false);
    rt_status st = RT_OK;
    if (!isfinite(loss->data[0]))
        st = rt_err_set(err, RT_ERR_ARG, "the term is %g on the check's batch; the check needs a finite value",
                        (double)loss->data[0]);
    if (!st && (loss->flags & RT_NEEDS_GRAD)) rt_backward(&c, loss);
    /* The derivatives, then their errors against a floor from the largest of them. */
    int cap = 0;
    for (int i = 0; i < g->n; i++) cap += leaf[i] && (leaf[i]->flags & RT_NEEDS_GRAD) ? per_value : 0;
    double *num = calloc((size_t)(cap ? cap : 1), sizeof *num), *ana = calloc((size_t)(cap ? cap : 1), sizeof *ana);
    int *at = calloc((size_t)(cap ? cap : 1), sizeof *at);
    int64_t *el = calloc((size_t)(cap ? cap : 1), sizeof *el);
    RT_ASSERT(num && ana && at && el);
    int n = 0;
    double scale = 0.0;
    for (int i = 0; i < g->n && !st; i++) {
        rt_tensor *l = leaf[i];
        if (!l || !(l->flags & RT_NEEDS_GRAD)) continue;
        int64_t step = l->n > per_value ? l->n / per_value : 1;
        for (int64_t k = 0, taken = 0; k < l->n && taken < per_value; k += step, taken++) {
            double v = vals[i][k], h = 1e-5 * (fabs(v) > 1.0 ? fabs(v) : 1.0);
            vals[i][k] = v + h;
            double fp = nn_expr_eval_double(g, vals, (const rt_tensor *const *)leaf);
            vals[i][k] = v - h;
            double fm = nn_expr_eval_double(g, vals, (const rt_tensor *const *)leaf);
            vals[i][k] = v;
            num[n] = (fp - fm) / (2.0 * h);
            ana[n] = l->grad ? (double)l->grad[k] : 0.0;
            at[n] = i;
            el[n] = k;
            scale = fabs(num[n]) > scale ? fabs(num[n]) : scale;
            n++;
        }
    }
    for (int k = 0; k < n; k++) {
        double d = fabs(ana[k] - num[k]), den = fabs(ana[k]) > fabs(num[k]) ? fabs(ana[k]) : fabs(num[k]);
        if (den < 1e-3 * scale) den = 1e-3 * scale;
        double e = den > 0.0 ? d / den : 0.0;
        if (!isfinite(ana[k]) || !isfinite(num[k])) e = INFINITY;
        if (e > out->worst || out->node < 0) {
            out->worst = e;
            out->node = at[k];
            out->element = el[k];
        }
    }
    out->checked = n;
    free(num);
    free(ana);
    free(at);
    free(el);
    for (int i = 0; i < g->n; i++) free(vals[i]);
    free(vals);
    rt_ctx_free(&c);
    return st;
}
