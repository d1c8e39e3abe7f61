// bench_expr.c: the training step with a built-in objective term against the same term written as a
// custom expression (vib.term.custom, nn/nn_expr.c), on VIB's MLP (784-1024-1024, a bottleneck of
// 256, 10 classes) at batch 100:
//   - the Gaussian KL to N(0, I) of a vib.gauss layer (built-in: one fused op; custom: the graph of
//     0.5 * (mu^2 + sigma^2 - 1 - 2 log sigma):sum(2), as tests/lua/custom_reexpr.lua writes it);
//   - Kirsch et al.'s log-variance bound on H[Z] of a vib.noise layer (built-in and the graph of
//     0.5 * (2 pi e Var_batch[f] + 2 pi e (1e-6 + s^2)):log():sum()).
// Steps of the two alternate in blocks so that both see the same machine; the medians and their
// ratio are printed, and one TABLE| line per term for `make bench`'s table. The target is a
// ratio within 1.10; nothing here asserts a time.
//
//   build/tests/bench_expr [steps]       OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE are honoured
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_train.h"
#include "rt_blas.h"
#include "rt_pool.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// ---- graphs, as vib_objective.lua records them ----

static int add(nn_xgraph *g, nn_xop op, int a, int b, float v0) {
    nn_xnode *x = &g->nodes[g->n];
    memset(x, 0, sizeof *x);
    x->op = op;
    x->a = a;
    x->b = b;
    x->v0 = v0;
    x->axis = NN_X_ALL;
    snprintf(x->where, sizeof x->where, "bench_expr.c");
    return g->n++;
}

static int value(nn_xgraph *g, const char *name) {
    int i = add(g, NN_X_VALUE, -1, -1, 0.0f);
    snprintf(g->nodes[i].name, sizeof g->nodes[i].name, "%s", name);
    return i;
}

static int reduce(nn_xgraph *g, nn_xop op, int a, int axis, bool keepdim) {
    int i = add(g, op, a, -1, 0.0f);
    g->nodes[i].axis = axis;
    g->nodes[i].keepdim = keepdim;
    return i;
}

static int cnst(nn_xgraph *g, float v) { return add(g, NN_X_CONST, -1, -1, v); }

/* 0.5 * (mu^2 + s^2 - 1 - 2 * s:log()):sum(2) */
static void kl_graph(nn_xgraph *g) {
    int mu = value(g, "z.mu"), s = value(g, "z.sigma");
    int q = add(g, NN_X_ADD, add(g, NN_X_SQUARE, mu, -1, 0), add(g, NN_X_SQUARE, s, -1, 0), 0);
    int e = add(g, NN_X_SUB, add(g, NN_X_SUB, q, cnst(g, 1.0f), 0), add(g, NN_X_MUL, cnst(g, 2.0f), add(g, NN_X_LOG, s, -1, 0), 0), 0);
    add(g, NN_X_MUL, cnst(g, 0.5f), reduce(g, NN_X_SUM, e, 1, false), 0);
}

/* 0.5 * (2 pi e var + 2 pi e (1e-6 + s^2)):log():sum(), var = ((f - f:mean(1, true))^2):mean(1) */
static void logvar_graph(nn_xgraph *g, float s2) {
    const double tpe = 2.0 * 3.14159265358979323846 * exp(1.0);
    int f = value(g, "z.f");
    int d = add(g, NN_X_SUB, f, reduce(g, NN_X_MEAN, f, 0, true), 0);
    int var = reduce(g, NN_X_MEAN, add(g, NN_X_SQUARE, d, -1, 0), 0, false);
    int a = add(g, NN_X_ADD, add(g, NN_X_MUL, cnst(g, (float)tpe), var, 0), cnst(g, (float)(tpe * (1e-6 + (double)s2))), 0);
    add(g, NN_X_MUL, cnst(g, 0.5f), reduce(g, NN_X_SUM, add(g, NN_X_LOG, a, -1, 0), NN_X_ALL, false), 0);
}

// ---- one model, two objectives ----

typedef struct bench {
    nn_model m;
    nn_obj o[2];                /* built-in, custom */
    nn_xnode nodes[32];
    nn_xgraph g;
} bench;

static int build(bench *b, bool gauss, rt_err *err) {
    nn_layer_spec spec[8];
    int n = 0;
    const int sizes[] = { 1024, 1024 };
    for (int l = 0; l < 2; l++) {
        spec[n] = nn_layer_spec_default(NN_LAYER_LINEAR);
        spec[n].out = sizes[l];
        snprintf(spec[n].name, sizeof spec[n].name, "fc%d", l + 1);
        n++;
        spec[n] = nn_layer_spec_default(NN_LAYER_RELU);
        snprintf(spec[n].name, sizeof spec[n].name, "relu%d", l + 1);
        n++;
    }
    if (gauss) {
        spec[n] = nn_layer_spec_default(NN_LAYER_GAUSS);
        spec[n].out = 256;
        spec[n].samples = 1;
        spec[n].shift = -5.0f;
    } else {
        spec[n] = nn_layer_spec_default(NN_LAYER_LINEAR);
        spec[n].out = 256;
        snprintf(spec[n].name, sizeof spec[n].name, "f");
        n++;
        spec[n] = nn_layer_spec_default(NN_LAYER_NOISE);
        spec[n].std = 0.24197072451914337f;
    }
    snprintf(spec[n].name, sizeof spec[n].name, "z");
    n++;
    spec[n] = nn_layer_spec_default(NN_LAYER_LINEAR);
    spec[n].out = 10;
    snprintf(spec[n].name, sizeof spec[n].name, "decoder");
    n++;
    if (nn_model_build(&b->m, spec, n, 784, err)) return 1;
    nn_term_spec t[2] = { nn_term_spec_default(NN_TERM_CE), nn_term_spec_default(gauss ? NN_TERM_KL : NN_TERM_LOGVAR) };
    snprintf(t[1].layer, sizeof t[1].layer, "z");
    t[1].weight = 1e-3f;
    if (nn_obj_build(&b->o[0], t, 2, NULL, 0, &b->m, err)) return 1;
    b->g = (nn_xgraph){ .nodes = b->nodes, .per_batch = !gauss };
    if (gauss) kl_graph(&b->g);
    else logvar_graph(&b->g, spec[n - 2].std * spec[n - 2].std);
    t[1] = nn_term_spec_default(NN_TERM_CUSTOM);
    snprintf(t[1].name, sizeof t[1].name, "r");
    t[1].weight = 1e-3f;
    t[1].graph = &b->g;
    return nn_obj_build(&b->o[1], t, 2, NULL, 0, &b->m, err) ? 1 : 0;
}

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 200;
    const int B = 100;
    printf("bench_expr: MLP 784-1024-1024, bottleneck 256, 10 classes, Adam, batch %d; %d steps of each, "
           "alternating in blocks of 10\n", B, steps);
    printf("openblas: kernels %s, threads %d\n", rt_blas_corename(), rt_blas_threads());
    rt_rng r;
    rt_rng_seed(&r, 1);
    nn_dataset d = { .n = 6000, .ndim = 1, .shape = { 784, 1, 1 }, .dim = 784, .nclass = 10 };
    d.x = malloc((size_t)d.n * d.dim * sizeof(float));
    d.y = malloc((size_t)d.n * sizeof(int32_t));
    rt_rng_fill_uniform(&r, d.x, (size_t)d.n * d.dim, 0.0f, 1.0f);
    for (int i = 0; i < d.n; i++) d.y[i] = (int32_t)rt_rng_below(&r, 10);
    int32_t *idx = malloc((size_t)d.n * sizeof *idx);
    for (int i = 0; i < d.n; i++) idx[i] = i;
    const char *what[2] = { "Gaussian KL to N(0, I) (vib.gauss)", "log-variance bound of H[Z] (vib.noise)" };
    for (int k = 0; k < 2; k++) {
        static bench b;
        rt_err err = { 0 };
        if (build(&b, k == 0, &err)) {
            fprintf(stderr, "bench_expr: %s\n", err.msg);
            return 1;
        }
        double *t[2] = { malloc((size_t)steps * sizeof(double)), malloc((size_t)steps * sizeof(double)) };
        int done[2] = { 0, 0 };
        rt_optim_cfg oc = rt_optim_cfg_default();
        rt_optim opt;
        rt_optim_init(&opt, &oc, b.m.params.total);
        opt.pool = rt_blas_pool();
        rt_ctx c;
        rt_ctx_init(&c, 16u << 20);
        rt_rng noise;
        rt_rng_seed(&noise, 2);
        nn_model_init(&b.m, &r);
        double loss[2] = { 0, 0 };
        for (int blk = 0; done[0] < steps || done[1] < steps; blk++) {
            int which = blk % 2;
            nn_step st = { &b.m, &b.o[which], &c, &opt, NULL, &noise, NULL };
            for (int i = 0; i < 10 + (blk < 2 ? 10 : 0); i++) {
                double t0 = rt_now_s();
                loss[which] = nn_train_step(&st, &d, idx + ((blk * 20 + i) % (d.n / B)) * B, B, 1e-4f, 0.0);
                double dt = rt_now_s() - t0;
                if (blk >= 2 && done[which] < steps) t[which][done[which]++] = dt;
            }
        }
        qsort(t[0], (size_t)steps, sizeof(double), cmp_double);
        qsort(t[1], (size_t)steps, sizeof(double), cmp_double);
        double m0 = t[0][steps / 2], m1 = t[1][steps / 2];
        printf("\n%s\n  built-in: median %.3f ms per step (min %.3f)\n  custom:   median %.3f ms per step (min %.3f), "
               "%d graph nodes\n  custom / built-in: %.3f (target <= 1.10); last losses %.4f, %.4f nats\n", what[k],
               m0 * 1e3, t[0][0] * 1e3, m1 * 1e3, t[1][0] * 1e3, b.g.n, m1 / m0, loss[0], loss[1]);
        printf("TABLE|Training step with the %s as a custom term, batch %d, %d thread%s|%.2f|ms/step|"
               "<= 1.10x the built-in term|built-in %.2f ms|%.2f|%s\n", k == 0 ? "Gaussian KL" : "log-variance bound", B,
               rt_blas_threads(), rt_blas_threads() == 1 ? "" : "s", m1 * 1e3, m0 * 1e3, m1 / m0,
               m1 / m0 <= 1.10 ? "yes" : "no");
        free(t[0]);
        free(t[1]);
        rt_ctx_free(&c);
        rt_optim_free(&opt);
        nn_model_free(&b.m);
    }
    free(d.x);
    free(d.y);
    free(idx);
    return 0;
}
