// lb_point.c: the door. The one reader of resolved points (plain Lua tables built by vib.lua):
// each becomes an lb_point of C specs for nn/ with the text that the runner, the aggregates and
// the figures need (params as sorted key/value text and Lua literals, the title, the canonical
// data key, the declared figures), so nothing after it reads Lua or calls back into the DSL.
// vib.lua has already checked keys and types; what is checked here are values and relations,
// reported against the script line that declared the culprit. It also holds the one table of
// every choice's names (choices[]), which vib.lua's enum checks are made from.
#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_lua.h"

// ---- field access on the table at the top of the stack ----

static double get_num(lua_State *L, const char *key, double def) {
    lua_getfield(L, -1, key);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : def;
    lua_pop(L, 1);
    return v;
}

static long long get_int(lua_State *L, const char *key, long long def) {
    lua_getfield(L, -1, key);
    long long v = lua_isinteger(L, -1) ? (long long)lua_tointeger(L, -1)
                  : lua_isnumber(L, -1) ? (long long)lua_tonumber(L, -1) : def;
    lua_pop(L, 1);
    return v;
}

static bool get_bool(lua_State *L, const char *key, bool def) {
    lua_getfield(L, -1, key);
    bool v = lua_isboolean(L, -1) ? lua_toboolean(L, -1) : def;
    lua_pop(L, 1);
    return v;
}

static void get_str(lua_State *L, const char *key, const char *def, char *out, size_t size) {
    lua_getfield(L, -1, key);
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : def;
    snprintf(out, size, "%s", s ? s : "");
    lua_pop(L, 1);
}

// ---- choices: the names of every choice, one table ----

/* Each key that takes one of a few names, with the C value each name stands for. vib.lua's "enum:"
** types are made from this table (lb_push_choices), so a script's unknown name is an error at its
** line there; reading a point maps every name through it and nothing else (choice()). Choices that
** only the DSL reads (h, uib_kind, bound, relevance) are listed too, with their position as value. */
typedef struct lb_name { const char *name; int value; } lb_name;
#define NAMES(...) ((const lb_name[]){ __VA_ARGS__, { NULL, 0 } })
static const struct lb_choice { const char *key; const lb_name *names; } choices[] = {
    { "init", NAMES({ "default", NN_INIT_DEFAULT }, { "glorot", NN_INIT_GLOROT }, { "he", NN_INIT_HE },
                    { "normal", NN_INIT_NORMAL }) },
    { "sigma", NAMES({ "softplus", NN_SIGMA_SOFTPLUS }, { "exp", NN_SIGMA_EXP }, { "unit", NN_SIGMA_UNIT }) },
    { "cov", NAMES({ "diag", 0 }, { "full", 1 }) },
    { "grad", NAMES({ "st", NN_BERN_ST }, { "concrete", NN_BERN_CONCRETE }) },
    { "likelihood", NAMES({ "bernoulli", 0 }, { "gaussian", 1 }) },
    { "weight_schedule", NAMES({ "const", NN_WSCHED_CONST }, { "linear", NN_WSCHED_LINEAR }, { "log", NN_WSCHED_LOG }) },
    { "optim", NAMES({ "sgd", RT_OPTIM_SGD }, { "adam", RT_OPTIM_ADAM }, { "adamw", RT_OPTIM_ADAMW },
                     { "adamax", RT_OPTIM_ADAMAX }) },
    { "lr_schedule", NAMES({ "const", RT_SCHED_CONST }, { "exp", RT_SCHED_EXP }, { "step", RT_SCHED_STEP },
                           { "cosine", RT_SCHED_COSINE }) },
    { "scale", NAMES({ "none", NN_SCALE_NONE }, { "unit", NN_SCALE_UNIT }, { "pm1", NN_SCALE_PM1 },
                     { "standardize", NN_SCALE_STANDARDIZE }, { "channel", NN_SCALE_CHANNEL },
                     { "channel_published", NN_SCALE_CHANNEL_PUBLISHED }) },
    { "augment", NAMES({ "none", NN_AUG_NONE }, { "crop_flip", NN_AUG_CROP_FLIP }) },
    { "estimator", NAMES({ "variational", NN_EST_VARIATIONAL }, { "kde", NN_EST_KDE }, { "binning", NN_EST_BINNING },
                         { "ksg", NN_EST_KSG }, { "plugin", NN_EST_PLUGIN }) },
    { "every", NAMES({ "epoch", NN_EVERY_EPOCH }, { "log2", NN_EVERY_LOG2 }, { "k", NN_EVERY_K },
                     { "list", NN_EVERY_LIST }) },
    { "split", NAMES({ "train", 0 }, { "test", 1 }) },
    { "eval_avg", NAMES({ "probs", NN_AVG_PROBS }, { "logits", NN_AVG_LOGITS }) },
    { "ema_mode", NAMES({ "debias", 0 }, { "plain", 1 }, { "warmup", 2 }) },
    { "streams", NAMES({ "common", 0 }, { "independent", 1 }) },
    { "h", NAMES({ "linear", NN_H_LINEAR }, { "square", NN_H_SQUARE }, { "exp", NN_H_EXP }) },
    { "uib_kind", NAMES({ "ib", 0 }, { "dib", 1 }, { "ceb", 2 }) },
    { "bound", NAMES({ "logvar", 0 }, { "l2", 1 }) },
    { "relevance", NAMES({ "decoder", 0 }, { "prediction", 1 }) },
    { "spatial", NAMES({ "gap", 0 }, { "flat", 1 }) },
    { "shortcut", NAMES({ "none", NN_SHORTCUT_NONE }, { "A", NN_SHORTCUT_A }, { "B", NN_SHORTCUT_B }) },
};

void lb_push_choices(lua_State *L) {
    lua_createtable(L, 0, (int)(sizeof choices / sizeof choices[0]));
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        lua_newtable(L);
        for (int j = 0; choices[i].names[j].name; j++) {
            lua_pushstring(L, choices[i].names[j].name);
            lua_rawseti(L, -2, j + 1);
        }
        lua_setfield(L, -2, choices[i].key);
    }
}

const char *lb_choice_name(const char *key, int value) {
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        if (strcmp(choices[i].key, key) != 0) continue;
        for (const lb_name *n = choices[i].names; n->name; n++)
            if (n->value == value) return n->name;
        return NULL;
    }
    return NULL;
}

/* The value of name s of choice key; false when s is not one of its names. */
static bool choice_value(const char *key, const char *s, int *out) {
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        if (strcmp(choices[i].key, key) != 0) continue;
        for (const lb_name *n = choices[i].names; n->name; n++)
            if (strcmp(n->name, s) == 0) return *out = n->value, true;
        return false;
    }
    RT_ABORT("lb_point.c has no choice '%s'", key);
}

RT_PRINTF(3, 4)
static bool fail(char *msg, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
    return false;
}

/* Field `field` of the table on top, a name of choice `key` (def when absent), as its value in *out;
** an unknown name is an error at the table's script line. */
static bool choice(lua_State *L, const char *field, const char *key, const char *def, int *out, char *msg,
                   size_t size) {
    char s[64], w[256], names[256] = "";
    get_str(L, field, def, s, sizeof s);
    if (choice_value(key, s, out)) return true;
    get_str(L, "where", "?", w, sizeof w);
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++)
        for (int j = 0; strcmp(choices[i].key, key) == 0 && choices[i].names[j].name; j++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", j ? ", " : "",
                     choices[i].names[j].name);
    return fail(msg, size, "%s: '%s' = \"%s\" is not one of %s", w, field, s, names);
}

void lb_hash_hex(const char *s, char out[17]) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

// ---- the parts of a point ----

/* Field `key` of the table on top, an integer or { rows, columns } (vib.lua checked which), into
** out[0..2); def for both when absent. */
static void get_pair(lua_State *L, const char *key, int def, int out[2]) {
    lua_getfield(L, -1, key);
    if (lua_istable(L, -1)) {
        for (int a = 0; a < 2; a++) {
            lua_geti(L, -1, a + 1);
            out[a] = (int)lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    } else {
        out[0] = out[1] = lua_isnumber(L, -1) ? (int)lua_tonumber(L, -1) : def;
    }
    lua_pop(L, 1);
}

/* The fields of the convolutional, pooling, normalization and residual layers into s. */
static void read_conv_fields(lua_State *L, nn_layer_spec *s) {
    nn_layer_kind k = s->kind;
    get_pair(L, "kernel", 0, s->kernel);
    bool pool = k == NN_LAYER_MAXPOOL || k == NN_LAYER_AVGPOOL;
    int def[2];
    get_pair(L, "stride", 1, def);
    lua_getfield(L, -1, "stride");
    if (pool && lua_isnil(L, -1)) memcpy(def, s->kernel, sizeof def);    /* a pool's stride: its kernel */
    lua_pop(L, 1);
    memcpy(s->stride, def, sizeof def);
    get_pair(L, "padding", 0, s->pad);
    get_pair(L, "dilation", 1, s->dilation);
    get_pair(L, "output_padding", 0, s->out_pad);
    s->groups = (int)get_int(L, "groups", 1);
    s->momentum = (float)get_num(L, "momentum", (double)s->momentum);
    s->eps = (float)get_num(L, "eps", (double)s->eps);
    s->affine = get_bool(L, "affine", true);
    s->per_channel = get_bool(L, "per_channel", false);
    s->nbody = (int)get_int(L, "nbody", 0);
    s->nshort = (int)get_int(L, "nshort", 0);
}

static bool read_layers(lua_State *L, lb_point *p, char *msg, size_t size) {
    lua_getfield(L, -1, "model");
    int n = (int)luaL_len(L, -1);
    if (n > LB_MAX_LAYERS) {
        char w[256];
        get_str(L, "where", "?", w, sizeof w);
        lua_pop(L, 1);
        return fail(msg, size, "%s: the model has %d layers; at most %d are supported", w, n, LB_MAX_LAYERS);
    }
    p->layers = rt_xcalloc((size_t)(n ? n : 1), sizeof *p->layers);
    for (int i = 0; i < n; i++) {
        lua_geti(L, -1, i + 1);
        char kind[32];
        get_str(L, "kind", "", kind, sizeof kind);
        nn_layer_kind k;
        if (!nn_layer_kind_parse(kind, &k)) RT_ABORT("vib.lua made a layer of unknown kind '%s'", kind);
        nn_layer_spec *s = &p->layers[i];
        *s = nn_layer_spec_default(k);
        get_str(L, "where", "", s->where, sizeof s->where);
        char defname[64];
        snprintf(defname, sizeof defname, "%s%d", kind, i + 1);
        get_str(L, "name", defname, s->name, sizeof s->name);
        s->in = (int)get_int(L, "in", 0);
        s->out = (int)get_int(L, "out", 0);
        s->bias = get_bool(L, "bias", true);
        int v[5];
        bool he = k == NN_LAYER_CONV || k == NN_LAYER_CONV_T || k == NN_LAYER_RESIDUAL;
        if (!choice(L, "init", "init", he ? "he" : "default", &v[0], msg, size) ||
            !choice(L, "shortcut", "shortcut", "none", &v[4], msg, size) ||
            !choice(L, "sigma", "sigma", "softplus", &v[1], msg, size) ||
            !choice(L, "cov", "cov", "diag", &v[2], msg, size) || !choice(L, "grad", "grad", "st", &v[3], msg, size))
            return lua_pop(L, 2), false;
        s->init = (nn_init)v[0];
        s->init_std = (float)get_num(L, "std", 0.01);
        s->p = (float)get_num(L, "p", 0.0);
        if (k == NN_LAYER_GAUSS) {
            s->out = (int)get_int(L, "k", 0);
            s->sigma = (nn_sigma)v[1];
            s->shift = (float)get_num(L, "shift", 0.0);
            s->full_cov = v[2] == 1;
            s->samples = (int)get_int(L, "samples", 1);
        } else if (k == NN_LAYER_BERN) {
            s->out = (int)get_int(L, "units", 0);
            s->samples = (int)get_int(L, "particles", 1);
            s->grad = (nn_bern_grad)v[3];
            s->temperature = (float)get_num(L, "temperature", 1.0);
        } else if (k == NN_LAYER_NOISE) {
            s->std = (float)get_num(L, "std", (double)NN_ZERO_ENTROPY_STD);
        } else if (k >= NN_LAYER_CONV || k == NN_LAYER_DROPOUT) {   /* conv and every kind after it */
            read_conv_fields(L, s);
            s->shortcut = s->nshort > 0 ? NN_SHORTCUT_LAYERS : (nn_shortcut)v[4];
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    p->nlayers = n;
    return true;
}

/* A custom term's graph (vib.term.custom): the flat node list vib.lua recorded; nn_expr_build
** checks it against the model. */
static bool read_graph(lua_State *L, nn_term_spec *t, char *msg, size_t size) {
    lua_getfield(L, -1, "graph");
    int n = (int)luaL_len(L, -1);
    if (n > NN_XMAX_NODES) {
        lua_pop(L, 1);
        return fail(msg, size, "%s: term '%s': the expression has %d operations; at most %d are supported", t->where,
                    t->name, n, NN_XMAX_NODES);
    }
    nn_xgraph *g = rt_xcalloc(1, sizeof *g);
    nn_xnode *nodes = rt_xcalloc((size_t)(n > 0 ? n : 1), sizeof *nodes);
    g->nodes = nodes;
    g->n = n;
    t->graph = g;
    for (int i = 0; i < n; i++) {
        lua_geti(L, -1, i + 1);
        nn_xnode *x = &nodes[i];
        char op[32];
        get_str(L, "op", "", op, sizeof op);
        if (!nn_xop_parse(op, &x->op)) RT_ABORT("vib.lua made a tensor op '%s'", op);
        x->a = (int)get_int(L, "a", 0) - 1;
        x->b = (int)get_int(L, "b", 0) - 1;
        x->axis = (int)get_int(L, "axis", NN_X_ALL);
        x->keepdim = get_bool(L, "keepdim", false);
        x->v0 = (float)get_num(L, "v0", 0.0);
        x->v1 = (float)get_num(L, "v1", 0.0);
        get_str(L, "name", "", x->name, sizeof x->name);
        get_str(L, "where", "", x->where, sizeof x->where);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    g->per_batch = get_bool(L, "per_batch", false);
    g->rate = get_bool(L, "rate", false);
    return true;
}

static bool read_terms(lua_State *L, lb_point *p, char *msg, size_t size) {
    lua_getfield(L, -1, "objective");
    int n = (int)luaL_len(L, -1);
    if (n > NN_MAX_TERMS) {
        lua_pop(L, 1);
        return fail(msg, size, "the objective has %d terms; at most %d are supported", n, NN_MAX_TERMS);
    }
    for (int i = 0; i < n; i++) {
        lua_geti(L, -1, i + 1);
        char kind[32];
        get_str(L, "kind", "", kind, sizeof kind);
        nn_term_kind k;
        if (!nn_term_kind_parse(kind, &k)) RT_ABORT("vib.lua made a term of unknown kind '%s'", kind);
        nn_term_spec *t = &p->terms[i];
        *t = nn_term_spec_default(k);
        p->nterms = i + 1;              /* lb_points_free frees the custom graphs read so far */
        get_str(L, "where", "", t->where, sizeof t->where);
        get_str(L, "name", kind, t->name, sizeof t->name);
        get_str(L, "layer", "", t->layer, sizeof t->layer);
        t->weight = (float)get_num(L, "weight", 1.0);
        t->smoothing = (float)get_num(L, "smoothing", 0.0);
        get_str(L, "average", "", t->average, sizeof t->average);
        t->mc = get_bool(L, "mc", false);
        t->components = (int)get_int(L, "components", 0);
        t->per_class = get_bool(L, "per_class", false);
        t->var = (float)get_num(L, "var", 0.0);
        int lik, sched, h;
        if (!choice(L, "likelihood", "likelihood", "bernoulli", &lik, msg, size) ||
            !choice(L, "schedule", "weight_schedule", "const", &sched, msg, size) ||
            !choice(L, "h", "h", "linear", &h, msg, size))
            return lua_pop(L, 2), false;
        t->gaussian = lik == 1;
        t->sched = (nn_wsched)sched;
        t->h = (nn_term_h)h;
        t->sched_epochs = (float)get_num(L, "schedule_epochs", 0.0);
        t->sched_from = (float)get_num(L, "schedule_from", 0.0);
        if (k == NN_TERM_CUSTOM && !read_graph(L, t, msg, size)) return lua_pop(L, 2), false;
        lua_pop(L, 1);
        if (!(t->weight >= 0.0f) || !isfinite(t->weight))
            return lua_pop(L, 1), fail(msg, size, "%s: term '%s': weight=%g must be a finite number >= 0",
                                       t->where, t->name, (double)t->weight);
    }
    p->nterms = n;
    /* A composed objective: the postfix program vib.lua compiled from the expression. */
    lua_getfield(L, -1, "expr");
    if (lua_istable(L, -1)) {
        int ne = (int)luaL_len(L, -1);
        if (ne > NN_MAX_EXPR) {
            lua_pop(L, 2);
            return fail(msg, size, "%s: the objective expression has %d operations; at most %d are supported",
                        p->terms[0].where, ne, NN_MAX_EXPR);
        }
        for (int i = 0; i < ne; i++) {
            lua_geti(L, -1, i + 1);
            char op[16];
            get_str(L, "op", "", op, sizeof op);
            nn_expr_ins *e = &p->expr[i];
            if (!nn_expr_op_parse(op, &e->op)) RT_ABORT("vib.lua made an expression op '%s'", op);
            e->term = (int)get_int(L, "term", 1) - 1;
            e->value = (float)get_num(L, "value", 0.0);
            lua_pop(L, 1);
        }
        p->nexpr = ne;
    }
    lua_pop(L, 2);
    return true;
}

static bool read_optim(lua_State *L, lb_point *p, char *msg, size_t size) {
    lua_getfield(L, -1, "optim");
    char kind[16], w[256];
    int k, sched;
    get_str(L, "kind", "adam", kind, sizeof kind);
    get_str(L, "where", "?", w, sizeof w);
    if (!choice(L, "kind", "optim", "adam", &k, msg, size) ||
        !choice(L, "schedule", "lr_schedule", "const", &sched, msg, size))
        return lua_pop(L, 1), false;
    rt_optim_cfg *c = &p->train.optim;
    *c = rt_optim_cfg_default();
    c->kind = (rt_optim_kind)k;
    if (c->kind == RT_OPTIM_SGD) c->lr = 0.01f;
    if (c->kind == RT_OPTIM_ADAMAX) c->lr = 0.002f;
    c->lr = (float)get_num(L, "lr", (double)c->lr);
    c->momentum = (float)get_num(L, "momentum", 0.0);
    c->nesterov = get_bool(L, "nesterov", false);
    c->beta1 = (float)get_num(L, "beta1", (double)c->beta1);
    c->beta2 = (float)get_num(L, "beta2", (double)c->beta2);
    c->eps = (float)get_num(L, "eps", (double)c->eps);
    c->weight_decay = (float)get_num(L, "weight_decay", 0.0);
    c->clip_norm = (float)get_num(L, "clip", 0.0);
    c->sched = (rt_sched_kind)sched;
    c->decay = (float)get_num(L, "decay", 1.0);
    c->every = (float)get_num(L, "decay_every", 1.0);
    c->gamma = (float)get_num(L, "gamma", 0.1);
    c->lr_min = (float)get_num(L, "lr_min", 0.0);
    lua_getfield(L, -1, "milestones");
    if (lua_istable(L, -1)) {
        int n = (int)luaL_len(L, -1);
        if (n > RT_MAX_MILESTONES) {
            lua_pop(L, 2);
            return fail(msg, size, "%s: %d milestones; at most %d are supported", w, n, RT_MAX_MILESTONES);
        }
        for (int i = 0; i < n; i++) {
            lua_geti(L, -1, i + 1);
            c->milestones[i] = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        c->nmilestones = n;
    }
    lua_pop(L, 2);
    c->epochs = (float)p->train.epochs;
    if (!(c->lr > 0.0f)) return fail(msg, size, "%s: vib.optim.%s: lr=%g must be > 0", w, kind, (double)c->lr);
    rt_err err = { 0 };
    if (rt_optim_cfg_check(c, &err) != RT_OK)
        return fail(msg, size, "%s: vib.optim.%s: %s", w, kind, err.msg);
    return true;
}

static bool read_data(lua_State *L, lb_point *p, char *msg, size_t size) {
    lua_getfield(L, -1, "data");
    char w[256], scale[32];
    get_str(L, "where", "?", w, sizeof w);
    nn_data_spec *d = &p->data;
    *d = nn_data_spec_default();
    get_str(L, "name", "", p->data_name, sizeof p->data_name);
    get_str(L, "dir", "", p->data_dir, sizeof p->data_dir);
    get_str(L, strcmp(p->data_name, "discrete") == 0 ? "joint" : "path", "", p->data_path, sizeof p->data_path);
    lua_getfield(L, -1, "joint");               /* discrete: a table of rows (vib.lua checked them) */
    if (lua_istable(L, -1)) {
        int nx = (int)luaL_len(L, -1), ny = 0;
        for (int i = 0; i < nx; i++) {
            lua_geti(L, -1, i + 1);
            if (i == 0) {
                ny = (int)luaL_len(L, -1);
                p->data_joint = rt_xmalloc((size_t)nx * (size_t)ny * sizeof *p->data_joint);
            }
            for (int k = 0; k < ny; k++) {
                lua_geti(L, -1, k + 1);
                p->data_joint[(size_t)i * (size_t)ny + (size_t)k] = lua_tonumber(L, -1);
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        d->joint = p->data_joint;
        d->joint_nx = nx;
        d->joint_ny = ny;
    }
    lua_pop(L, 1);
    get_str(L, "test", "", p->data_test, sizeof p->data_test);
    get_str(L, "label", "", p->data_label, sizeof p->data_label);
    bool is_csv = strcmp(p->data_name, "csv") == 0, is_tishby = strcmp(p->data_name, "tishby") == 0,
         is_discrete = strcmp(p->data_name, "discrete") == 0;
    get_str(L, "scale", is_csv || is_tishby || is_discrete ? "none" : "unit", scale, sizeof scale);
    d->name = p->data_name;
    d->dir = p->data_dir[0] ? p->data_dir : NULL;
    d->path = p->data_path[0] ? p->data_path : NULL;
    d->test_path = p->data_test[0] ? p->data_test : NULL;
    d->label = p->data_label[0] ? p->data_label : NULL;
    int sc;
    if (!choice(L, "scale", "scale", scale, &sc, msg, size)) return lua_pop(L, 1), false;
    d->scale = (nn_scale)sc;
    lua_getfield(L, -1, "shape");               /* { C, H, W } or fewer: vib.lua checked the type */
    bool shaped = lua_istable(L, -1);
    p->data_nshape = shaped ? (int)luaL_len(L, -1) : 0;
    for (int i = 0; i < p->data_nshape && i < 3; i++) {
        lua_geti(L, -1, i + 1);
        p->data_shape[i] = (int)lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (shaped && (p->data_nshape < 1 || p->data_nshape > 3))
        return lua_pop(L, 1), fail(msg, size, "%s: shape has %d entries; give { C, H, W }, { H, W } or { F }", w,
                                   p->data_nshape);
    for (int i = 0; i < p->data_nshape; i++)
        if (p->data_shape[i] < 1)
            return lua_pop(L, 1), fail(msg, size, "%s: shape[%d] = %d must be a positive integer", w, i + 1,
                                       p->data_shape[i]);
    d->train_limit = (int)get_int(L, "train_limit", 0);
    d->test_limit = (int)get_int(L, "test_limit", 0);
    d->resplit_test = (float)get_num(L, "resplit_test", 0.0);
    d->holdout = (float)get_num(L, "holdout", (double)d->holdout);
    d->train_fraction = (float)get_num(L, "train_fraction", (double)d->train_fraction);
    if (is_tishby) d->seed = (uint64_t)get_int(L, "split_seed", (long long)p->train.seed);
    if (is_discrete) {
        d->seed = (uint64_t)get_int(L, "seed", (long long)p->train.seed);
        d->samples = (int)get_int(L, "n", 4000);
        d->test_samples = (int)get_int(L, "test_n", 1000);
    }
    d->split_in_order = is_tishby && !get_bool(L, "shuffle", true);
    lua_pop(L, 1);
    /* Ranges of limits, resplit_test and holdout are checked by nn_data_open; a CSV without a test
    ** file must also hold some rows out, which the loader would accept as an empty test split. */
    if (is_csv && !d->test_path && (d->holdout <= 0.0f || d->holdout >= 1.0f))
        return fail(msg, size, "%s: holdout=%g must be in (0, 1)", w, (double)d->holdout);
    if (is_tishby && !(d->train_fraction > 0.0f && d->train_fraction < 1.0f))
        return fail(msg, size, "%s: train_fraction=%g must be in (0, 1), e.g. 0.8 (the authors' split)", w,
                    (double)d->train_fraction);
    if (is_tishby && (d->scale == NN_SCALE_UNIT || d->scale == NN_SCALE_PM1))
        return fail(msg, size, "%s: scale=\"%s\" divides bytes by 255, but the tishby inputs are 0/1 already; "
                    "use \"none\" (the default) or \"standardize\"", w, scale);
    return true;
}

/* point.measure (normalized by vib.measure) into p->measure; absent: off. */
/* The strings of list field `key` of the table on top into out (at most max of them); their
** count, or -1 when there are more than max. */
static int read_names(lua_State *L, const char *key, char (*out)[64], int max) {
    lua_getfield(L, -1, key);
    int n = lua_istable(L, -1) ? (int)luaL_len(L, -1) : 0;
    for (int i = 0; i < n && n <= max; i++) {
        lua_geti(L, -1, i + 1);
        snprintf(out[i], sizeof out[i], "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n <= max ? n : -1;
}

static bool read_measure(lua_State *L, lb_point *p, char *msg, size_t size) {
    nn_measure_cfg *c = &p->measure;
    *c = nn_measure_cfg_default();
    lua_getfield(L, -1, "measure");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return true;
    }
    c->on = true;
    get_str(L, "where", "?", c->where, sizeof c->where);
    c->nlayers = read_names(L, "layers", c->layers, NN_MEASURE_MAX_LAYERS);
    if (c->nlayers < 0) {
        lua_pop(L, 1);
        return fail(msg, size, "%s: measure: at most %d layers", c->where, NN_MEASURE_MAX_LAYERS);
    }
    char names[32][64];                         /* vib.measure checked the names */
    int ne = read_names(L, "estimators", names, 32);
    c->estimators = 0;
    c->estimators_listed = get_bool(L, "estimators_listed", false);
    for (int i = 0; i < ne; i++) {
        int e;
        if (!choice_value("estimator", names[i], &e)) RT_ABORT("vib.measure let estimator '%s' through", names[i]);
        c->estimators |= 1u << e;
    }
    int ns = read_names(L, "split", names, 32);
    c->split[0] = c->split[1] = false;
    for (int i = 0; i < ns; i++) {
        int sp;
        if (!choice_value("split", names[i], &sp)) RT_ABORT("vib.measure let split '%s' through", names[i]);
        c->split[sp] = true;
    }
    if (ne < 0 || ns < 0) {
        lua_pop(L, 1);
        return fail(msg, size, "%s: measure: more than 32 estimators or splits listed", c->where);
    }
    int every;
    if (!choice(L, "every_kind", "every", "epoch", &every, msg, size)) return lua_pop(L, 1), false;
    c->every = (nn_every)every;
    c->every_k = (int)get_int(L, "every_k", 1);
    lua_getfield(L, -1, "epochs");
    if (lua_istable(L, -1)) {
        int n = (int)luaL_len(L, -1);
        if (n > NN_MEASURE_MAX_EPOCHS) {
            lua_pop(L, 2);
            return fail(msg, size, "%s: measure: at most %d epochs in 'every'", c->where, NN_MEASURE_MAX_EPOCHS);
        }
        int *epochs = rt_xcalloc((size_t)(n ? n : 1), sizeof *epochs);
        for (int i = 0; i < n; i++) {
            lua_geti(L, -1, i + 1);
            epochs[i] = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        c->epochs = epochs;
        c->nepochs = n;
    }
    lua_pop(L, 1);
    c->samples = (int)get_int(L, "samples", 0);
    c->kde_var = get_num(L, "kde_var", c->kde_var);
    c->bins = (int)get_int(L, "bins", c->bins);
    c->bin_size = (float)get_num(L, "bin_size", 0.0);
    c->k = (int)get_int(L, "k", c->k);
    c->plugin_samples = (int)get_int(L, "plugin_samples", c->plugin_samples);
    c->selfcheck = get_bool(L, "selfcheck", false);
    c->audit = get_bool(L, "audit", false);
    c->audit_bootstrap = (int)get_int(L, "audit_bootstrap", 20);
    int spatial;
    if (!choice(L, "spatial", "spatial", "gap", &spatial, msg, size)) return lua_pop(L, 1), false;
    c->spatial_flat = spatial == 1;
    lua_getfield(L, -1, "range");
    if (lua_istable(L, -1)) {
        lua_geti(L, -1, 1);
        lua_geti(L, -2, 2);
        c->lo = (float)lua_tonumber(L, -2);
        c->hi = (float)lua_tonumber(L, -1);
        c->range_set = true;
        lua_pop(L, 2);
    }
    lua_pop(L, 2);
    return true;
}

// ---- text the runner needs ----

void lb_value_text(lua_State *L, int idx, rt_buf *b) {
    if (lua_isinteger(L, idx)) rt_buf_printf(b, "%lld", (long long)lua_tointeger(L, idx));
    else if (lua_type(L, idx) == LUA_TNUMBER) {
        char v[64];
        rt_fmt_num(lua_tonumber(L, idx), v, sizeof v);
        rt_buf_printf(b, "%s", v);
    } else if (lua_type(L, idx) == LUA_TBOOLEAN) rt_buf_printf(b, "%s", lua_toboolean(L, idx) ? "true" : "false");
    else rt_buf_printf(b, "%s", lua_tostring(L, idx) ? lua_tostring(L, idx) : "");
}

/* point.attack (checked by vib_attack.lua) into p->attack; absent: off. */
static bool read_attack(lua_State *L, lb_point *p, char *msg, size_t size) {
    lb_attack_block *b = &p->attack;
    memset(b, 0, sizeof *b);
    lua_getfield(L, -1, "attack");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return true;
    }
    b->on = true;
    get_str(L, "where", "?", b->where, sizeof b->where);
    b->n = (int)get_int(L, "n", 1000);
    b->batch = (int)get_int(L, "batch", 100);
    char split[16];
    get_str(L, "split", "test", split, sizeof split);
    b->train_split = strcmp(split, "train") == 0;
    b->na = (int)luaL_len(L, -1);
    if (b->na > LB_MAX_ATTACKS) {
        lua_pop(L, 1);
        return fail(msg, size, "%s: attack: at most %d attacks", b->where, LB_MAX_ATTACKS);
    }
    for (int i = 0; i < b->na; i++) {
        lb_attack_spec *a = &b->a[i];
        lua_geti(L, -1, i + 1);
        char kind[16], norm[8], loss[8];
        get_str(L, "kind", "", kind, sizeof kind);
        get_str(L, "where", "?", a->where, sizeof a->where);
        nn_attack_kind k = strcmp(kind, "pgd") == 0                                  ? NN_ATK_PGD
                           : strcmp(kind, "auto") == 0 || strcmp(kind, "apgd") == 0 ? NN_ATK_APGD
                           : strcmp(kind, "cw_l2") == 0                               ? NN_ATK_CW
                                                                                      : NN_ATK_FGSM;
        a->cfg = nn_attack_cfg_default(k);
        a->adaptive = strcmp(kind, "auto") == 0;
        a->eot = (int)get_int(L, "eot", 20);
        a->reevaluate = (int)get_int(L, "reevaluate", 10);
        get_str(L, "norm", k == NN_ATK_CW ? "l2" : "linf", norm, sizeof norm);
        a->cfg.norm = strcmp(norm, "l2") == 0 ? NN_NORM_L2 : NN_NORM_LINF;
        get_str(L, "loss", "ce", loss, sizeof loss);
        a->cfg.loss = strcmp(loss, "dlr") == 0 ? NN_LOSS_DLR : NN_LOSS_CE;
        a->cfg.targeted = get_bool(L, "targeted", false);
        a->cfg.steps = (int)get_int(L, "steps", a->cfg.steps);
        a->cfg.restarts = (int)get_int(L, "restarts", a->cfg.restarts);
        a->cfg.step = (float)get_num(L, "step", 0.0);
        a->cfg.random_start = get_bool(L, "random_start", a->cfg.random_start);
        a->cfg.search = (int)get_int(L, "search", a->cfg.search);
        a->cfg.c0 = (float)get_num(L, "c", (double)a->cfg.c0);
        a->cfg.kappa = (float)get_num(L, "kappa", (double)a->cfg.kappa);
        a->cfg.lr = (float)get_num(L, "lr", (double)a->cfg.lr);
        a->cfg.targets = (int)get_int(L, "targets", 0);
        a->cfg.eot = k == NN_ATK_CW ? (int)get_int(L, "eot", 1) : 0;
        lua_getfield(L, -1, "eps");
        a->neps = (int)luaL_len(L, -1);
        for (int e = 0; e < a->neps && e < LB_MAX_EPS; e++) {
            lua_geti(L, -1, e + 1);
            a->eps[e] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 2);
        if (a->neps > LB_MAX_EPS) {
            lua_pop(L, 1);
            return fail(msg, size, "%s: at most %d epsilons", a->where, LB_MAX_EPS);
        }
    }
    lua_pop(L, 1);
    return true;
}

/* vib.<fname>(value at idx) as a malloc'd string (the DSL's canonical or title text). */
static char *vib_text(lua_State *L, int idx, const char *fname) {
    lua_pushvalue(L, idx);
    if (!lb_call_vib(L, fname, 1, 1)) RT_ABORT("vib.%s failed: %s", fname, lua_tostring(L, -1));
    char *s = rt_xstrdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
    lua_pop(L, 1);
    return s;
}

static int param_cmp(const void *a, const void *b) {
    return strcmp(((const lb_param *)a)->key, ((const lb_param *)b)->key);
}

/* point.params (the table on top's) into p->params, sorted by name. */
static void read_params(lua_State *L, lb_point *p) {
    lua_getfield(L, -1, "params");
    int cap = 0;
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            if (p->nparams == cap) {
                cap = cap ? cap * 2 : 16;
                p->params = realloc(p->params, (size_t)cap * sizeof *p->params);
                if (!p->params) RT_ABORT("out of memory");
            }
            lb_param *q = &p->params[p->nparams++];
            rt_buf b = { 0 };
            lb_value_text(L, -1, &b);
            q->key = rt_xstrdup(lua_tostring(L, -2));
            q->text = rt_xstrdup(rt_buf_str(&b));
            /* Strings are written as Lua literals (the DSL's canonical form, %q), so any text replays. */
            q->lua = lua_type(L, -1) == LUA_TSTRING ? vib_text(L, -1, "_canon") : rt_xstrdup(q->text);
            rt_buf_free(&b);
        }
        lua_pop(L, 1);
    }
    if (p->nparams) qsort(p->params, (size_t)p->nparams, sizeof *p->params, param_cmp);
    p->params_title = vib_text(L, lua_gettop(L), "_title");
    lua_pop(L, 1);
}

static int pair_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* init = vib.load { path, map, layers } into p->load; the file's SHA-256 joins the point id, so that
** another file (or the same file changed) is another point. */
static bool read_load(lua_State *L, lb_point *p, char *msg, size_t size) {
    lua_getfield(L, -1, "init");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return true;
    }
    char where[256], path[4096];
    get_str(L, "where", "?", where, sizeof where);
    get_str(L, "path", "", path, sizeof path);
    p->load.where = rt_xstrdup(where);
    p->load.path = rt_xstrdup(path);
    lua_getfield(L, -1, "map");
    if (lua_istable(L, -1)) {
        int n = 0;
        for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) n++;
        const char **map = rt_xcalloc((size_t)(2 * n + 1), sizeof *map);
        int k = 0;
        for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1), k++) {   /* vib.load checked both are strings */
            map[2 * k] = rt_xstrdup(lua_tostring(L, -2));
            map[2 * k + 1] = rt_xstrdup(lua_tostring(L, -1));
        }
        qsort(map, (size_t)n, 2 * sizeof *map, pair_cmp);           /* messages in a fixed order */
        p->load.map = map;
        p->load.nmap = n;
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "layers");
    if (lua_istable(L, -1)) {
        int n = (int)luaL_len(L, -1);
        const char **layers = rt_xcalloc((size_t)n + 1, sizeof *layers);
        for (int i = 0; i < n; i++) {
            lua_geti(L, -1, i + 1);
            layers[i] = rt_xstrdup(lua_tostring(L, -1));
            lua_pop(L, 1);
        }
        p->load.layers = layers;
        p->load.nlayers = n;
    }
    lua_pop(L, 2);
    rt_err err = { 0 };
    if (nn_file_sha256(path, p->load_sha256, &err) != RT_OK)
        return fail(msg, size, "%s: vib.load: %s", where, err.msg);
    lua_getfield(L, -1, "key");
    rt_buf key = { 0 };
    rt_buf_printf(&key, "%s\nsha256=%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "", p->load_sha256);
    lua_pop(L, 1);
    lb_hash_hex(rt_buf_str(&key), p->id);
    p->id[12] = '\0';
    rt_buf_free(&key);
    return true;
}

static bool point_read(lua_State *L, int idx, lb_point *p, char *msg, size_t size) {
    memset(p, 0, sizeof *p);
    lua_pushvalue(L, idx);
    get_str(L, "name", "", p->name, sizeof p->name);
    lua_getfield(L, -1, "key");                 /* the whole resolved configuration, of any length */
    lb_hash_hex(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "", p->id);
    lua_pop(L, 1);
    p->id[12] = '\0';                   /* 48 bits: collisions need ~16M points */
    /* Common random numbers: every point draws from the streams of (seed, 0); independent
    ** streams: from (seed, point id), so two configurations never share init or data order. */
    /* The settings: vib_settings.lua is their list and gives every point all of them; the
    ** fallbacks below are nn_train_cfg_default()'s, which test_vibrun checks against that list. */
    p->train = nn_train_cfg_default();
    nn_train_cfg *t = &p->train;
    t->epochs = (int)get_int(L, "epochs", t->epochs);
    t->batch = (int)get_int(L, "batch", t->batch);
    t->eval_batch = (int)get_int(L, "eval_batch", t->eval_batch);
    t->train_eval_limit = (int)get_int(L, "train_eval_limit", t->train_eval_limit);
    t->checkpoint_every = (int)get_int(L, "checkpoint_every", t->checkpoint_every);
    t->ema = (float)get_num(L, "ema", (double)t->ema);
    t->seed = (uint64_t)get_int(L, "seed", (long long)t->seed);
    t->eval_samples = (int)get_int(L, "eval_samples", t->eval_samples);
    t->eval_passes = (int)get_int(L, "eval_passes", t->eval_passes);
    int streams = 0, avg = 0, ema_mode = 0, augment = 0;
    bool ok = choice(L, "streams", "streams", "common", &streams, msg, size) &&
              choice(L, "eval_avg", "eval_avg", "probs", &avg, msg, size) &&
              choice(L, "ema_mode", "ema_mode", "debias", &ema_mode, msg, size) &&
              choice(L, "augment", "augment", "none", &augment, msg, size);
    t->augment = (nn_augment)augment;
    t->point = streams == 1 ? strtoull(p->id, NULL, 16) : 0;
    t->eval_avg = (nn_avg)avg;
    t->ema_debias = ema_mode == 0;
    t->ema_warmup = ema_mode == 2;
    read_params(L, p);
    lua_getfield(L, -1, "settings_lua");
    p->settings_lua = rt_xstrdup(lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "{}");
    lua_pop(L, 1);
    lua_getfield(L, -1, "data");
    p->data_key = vib_text(L, lua_gettop(L), "_canon");
    get_str(L, "where", "?", p->data_where, sizeof p->data_where);
    lua_pop(L, 1);
    if (!ok) { /* msg says which choice */ }
    else if (p->train.epochs < 0) ok = fail(msg, size, "%s: epochs=%d must be >= 0", p->name, p->train.epochs);
    else if (p->train.batch < 1) ok = fail(msg, size, "%s: batch=%d must be >= 1", p->name, p->train.batch);
    else if (p->train.eval_batch < 1) ok = fail(msg, size, "%s: eval_batch=%d must be >= 1", p->name, p->train.eval_batch);
    else if (p->train.checkpoint_every < 1) ok = fail(msg, size, "%s: checkpoint_every=%d must be >= 1", p->name,
                                                                p->train.checkpoint_every);
    else if (p->train.train_eval_limit < 0)
        ok = fail(msg, size, "%s: train_eval_limit=%d must be >= 0 (0 evaluates every training example)", p->name,
                  p->train.train_eval_limit);
    else if (p->train.eval_samples < 0)
        ok = fail(msg, size, "%s: eval_samples=%d must be >= 0 (0 = the mean of z)", p->name, p->train.eval_samples);
    else if (p->train.eval_passes < 1 || p->train.eval_passes > 1024)
        ok = fail(msg, size, "%s: eval_passes=%d must be in [1, 1024]", p->name, p->train.eval_passes);
    else if (p->train.ema < 0.0f || p->train.ema >= 1.0f)
        ok = fail(msg, size, "%s: ema=%g must be in [0, 1) (0 turns it off)", p->name, (double)p->train.ema);
    ok = ok && read_layers(L, p, msg, size) && read_terms(L, p, msg, size) &&
         read_optim(L, p, msg, size) && read_data(L, p, msg, size) && read_measure(L, p, msg, size) &&
         read_load(L, p, msg, size) && read_attack(L, p, msg, size);
    /* Crops and mirrors need (C, H, W) images; MNIST and Fashion-MNIST load as (H, W), and a
    ** mirrored digit or letter is often another one (a mirrored 2 is no 2), so only CIFAR-10. */
    if (ok && t->augment != NN_AUG_NONE && strcmp(p->data_name, "cifar10") != 0)
        ok = fail(msg, size, "%s: augment = \"%s\" applies to the images of vib.data.cifar10, not to %s data "
                  "(it needs (C, H, W) images whose mirror image has the same label); use augment = \"none\"", p->data_where,
                  nn_augment_name(t->augment), p->data_name);
    p->train.measure = &p->measure;
    lua_pop(L, 1);
    return ok;
}

// ---- the declared figures ----

static void plot_str(lua_State *L, int t, const char *key, char *out, size_t size) {
    lua_getfield(L, t, key);
    if (lua_type(L, -1) == LUA_TSTRING) snprintf(out, size, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
}

/* A list of strings as a space-separated word list. */
static void plot_words(lua_State *L, int t, const char *key, char *out, size_t size) {
    lua_getfield(L, t, key);
    if (lua_istable(L, -1)) {
        out[0] = '\0';
        for (lua_Integer i = 1; lua_geti(L, -1, i) == LUA_TSTRING; i++) {
            lb_words_add(out, size, lua_tostring(L, -1));
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* One vib.plot.* table (index t) into o. */
static void plot_read(lua_State *L, int t, lb_plot_opts *o) {
    t = lua_absindex(L, t);
    char kind[32] = "";
    plot_str(L, t, "kind", kind, sizeof kind);
    lb_plot_opts_default(o, kind);
    plot_str(L, t, "where", o->where, sizeof o->where);
    plot_str(L, t, "name", o->name, sizeof o->name);
    plot_str(L, t, "title", o->title, sizeof o->title);
    plot_words(L, t, "formats", o->formats, sizeof o->formats);
    plot_words(L, t, "layers", o->layers, sizeof o->layers);
    plot_words(L, t, "estimators", o->estimators, sizeof o->estimators);
    plot_words(L, t, "splits", o->splits, sizeof o->splits);
    plot_str(L, t, "axis", o->axis, sizeof o->axis);
    plot_str(L, t, "layer", o->layer, sizeof o->layer);
    plot_str(L, t, "estimator", o->estimator, sizeof o->estimator);
    lua_getfield(L, t, "width");  o->width = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;  lua_pop(L, 1);
    lua_getfield(L, t, "height"); o->height = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0; lua_pop(L, 1);
    lua_getfield(L, t, "points");   if (lua_isinteger(L, -1)) o->points = (int)lua_tointeger(L, -1);   lua_pop(L, 1);
    lua_getfield(L, t, "ellipses"); if (lua_isinteger(L, -1)) o->ellipses = (int)lua_tointeger(L, -1); lua_pop(L, 1);
    lua_getfield(L, t, "per_layer"); o->per_layer = lua_toboolean(L, -1); lua_pop(L, 1);
    lua_getfield(L, t, "info"); if (lua_isboolean(L, -1)) o->info = lua_toboolean(L, -1); lua_pop(L, 1);
}

int lb_plots_read(lua_State *L, int idx, lb_plot_opts **plots) {
    idx = lua_absindex(L, idx);
    int np = lua_istable(L, idx) ? (int)luaL_len(L, idx) : 0;
    *plots = rt_xcalloc((size_t)(np ? np : 1), sizeof **plots);
    for (int k = 0; k < np; k++) {
        lua_geti(L, idx, k + 1);
        plot_read(L, -1, &(*plots)[k]);
        lua_pop(L, 1);
    }
    return np;
}

// ---- every point ----

bool lb_points_read(lua_State *L, int idx, const char *script, lb_points *pts, char *msg, size_t size) {
    memset(pts, 0, sizeof *pts);
    idx = lua_absindex(L, idx);
    int n = (int)luaL_len(L, idx);
    pts->p = rt_xcalloc((size_t)(n ? n : 1), sizeof *pts->p);
    char ident[PATH_MAX];
    lb_script_identity(script, ident, sizeof ident);
    lua_pushstring(L, ident);
    char *script_lua = vib_text(L, lua_gettop(L), "_canon");
    lua_pop(L, 1);
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        lua_geti(L, idx, i + 1);
        ok = point_read(L, lua_gettop(L), &pts->p[i], msg, size);
        pts->p[i].script_lua = rt_xstrdup(script_lua);
        pts->n = i + 1;
        /* The figures ride on each point (the same list): read from the first. */
        if (ok && i == 0) {
            lua_getfield(L, -1, "plots");
            pts->nplots = lb_plots_read(L, -1, &pts->plots);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    free(script_lua);
    /* The resolver's warnings, beside the list (points.warnings). */
    lua_getfield(L, idx, "warnings");
    int nw = lua_istable(L, -1) ? (int)luaL_len(L, -1) : 0;
    pts->warnings = rt_xcalloc((size_t)(nw ? nw : 1), sizeof *pts->warnings);
    for (int i = 0; i < nw; i++) {
        lua_geti(L, -1, i + 1);
        const char *w = lua_tostring(L, -1);
        pts->warnings[pts->nwarnings++] = rt_xstrdup(w ? w : "");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return ok;
}

void lb_points_free(lb_points *pts) {
    for (int i = 0; i < pts->n; i++) {
        lb_point *p = &pts->p[i];
        for (int k = 0; k < p->nparams; k++) {
            free(p->params[k].key);
            free(p->params[k].text);
            free(p->params[k].lua);
        }
        free(p->params);
        free(p->params_title);
        free(p->script_lua);
        free(p->settings_lua);
        free(p->data_key);
        free(p->data_joint);
        free(p->layers);
        free(p->measure.epochs);
        free((char *)(uintptr_t)p->load.path);
        free((char *)(uintptr_t)p->load.where);
        for (int k = 0; k < 2 * p->load.nmap; k++) free((char *)(uintptr_t)p->load.map[k]);
        free((void *)(uintptr_t)p->load.map);
        for (int k = 0; k < p->load.nlayers; k++) free((char *)(uintptr_t)p->load.layers[k]);
        free((void *)(uintptr_t)p->load.layers);
        if (p->loaded) nn_weights_free(p->loaded);
        free(p->loaded);
        for (int k = 0; k < p->nterms; k++)
            if (p->terms[k].graph) {
                free(p->terms[k].graph->nodes);
                free(p->terms[k].graph);
            }
    }
    free(pts->p);
    free(pts->plots);
    for (int i = 0; i < pts->nwarnings; i++) free(pts->warnings[i]);
    free(pts->warnings);
    memset(pts, 0, sizeof *pts);
}
