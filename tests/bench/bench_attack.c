// bench_attack.c: the attack step (a forward pass and the input gradient, nn_attack_grad) of the
// VIB network of vib_fashion.lua (784-1024-1024 ReLU, Gaussian z of K = 256, linear decoder) at
// batch 100, next to the training step (forward, backward, Adam) of the same model measured in the
// same run. The target: an attack step costs at most what a training step costs.
//   - attack, S = 1: one draw of z per example (one EOT draw of the adaptive protocol);
//   - attack, S = 12: the mean softmax of 12 samples of z (the paper's protocol).
// The steps are timed in turn, round after round, so that a machine loaded by others slows
// them alike; each figure is the median over the rounds. A fourth step, one sample with 30 examples
// left of the hundred (the others fooled), shows the cost of the fixed layout late in an attack. At one thread the clock is the process's CPU
// time, which other processes do not inflate the way they inflate wall time (as bench_vib); wall
// time for more threads. The batch is data-set examples 0-99, one
// product of nn_attack's 100-row layout. Each figure is also a TABLE| line (bench_table.sh).
//
//   build/tests/bench_attack [steps]     OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE are honoured
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nn_attack.h"
#include "nn_train.h"
#include "rt_blas.h"

static double clock_s(void) {
    if (rt_blas_threads() > 1) return rt_now_s();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return t[n / 2];
}

int main(int argc, char **argv) {
    int steps = argc > 1 ? atoi(argv[1]) : 50;
    if (steps < 1) steps = 1;
    const int B = 100, D = 784, C = 10;
    printf("bench_attack: VIB 784-1024-1024-gauss(256)-10, batch %d, %d rounds of the four steps\n", B, steps);
    printf("openblas: kernels %s, threads %d\n", rt_blas_corename(), rt_blas_threads());
    nn_layer_spec spec[6];
    const nn_layer_kind kinds[6] = { NN_LAYER_LINEAR, NN_LAYER_RELU, NN_LAYER_LINEAR, NN_LAYER_RELU, NN_LAYER_GAUSS,
                                     NN_LAYER_LINEAR };
    const int outs[6] = { 1024, 0, 1024, 0, 256, C };
    for (int k = 0; k < 6; k++) {
        spec[k] = nn_layer_spec_default(kinds[k]);
        spec[k].out = outs[k];
        spec[k].samples = 1;
        snprintf(spec[k].name, sizeof spec[k].name, "%s%d", nn_layer_kind_name(kinds[k]), k + 1);
    }
    snprintf(spec[4].name, sizeof spec[4].name, "z");
    rt_err err = { 0 };
    nn_model m;
    if (nn_model_build(&m, spec, 6, D, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    nn_term_spec terms[2] = { nn_term_spec_default(NN_TERM_CE), nn_term_spec_default(NN_TERM_KL) };
    snprintf(terms[1].layer, sizeof terms[1].layer, "z");
    terms[1].weight = 1e-3f;
    nn_obj o;
    if (nn_obj_build(&o, terms, 2, NULL, 0, &m, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    rt_rng r;
    rt_rng_seed(&r, 1);
    nn_model_init(&m, &r);
    nn_dataset d = { .n = 2000, .ndim = 1, .shape = { D, 1, 1 }, .dim = D, .nclass = C };
    d.x = malloc((size_t)d.n * D * sizeof(float));
    d.y = malloc((size_t)d.n * sizeof(int32_t));
    rt_rng_fill_uniform(&r, d.x, (size_t)d.n * D, 0.0f, 1.0f);
    for (int i = 0; i < d.n; i++) d.y[i] = (int32_t)rt_rng_below(&r, C);
    int32_t *idx = malloc((size_t)d.n * sizeof *idx);
    for (int i = 0; i < d.n; i++) idx[i] = i;

    /* the training step, and the attack step: forward and input gradient, weights off the tape */
    rt_optim_cfg oc = rt_optim_cfg_default();
    rt_optim opt;
    rt_optim_init(&opt, &oc, m.params.total);
    opt.pool = rt_blas_pool();
    rt_ctx c;
    rt_ctx_init(&c, 16u << 20);
    nn_step st = { &m, &o, &c, &opt, NULL, &r, NULL };
    float *g = malloc((size_t)B * D * sizeof *g);
    nn_attack_target at = nn_attack_target_make(&m, &c, D, C, NULL, NULL);
    rt_rng_stream(&at.stream, 1, 0, RT_STREAM_ATTACK);
    const int samples[2] = { 1, 12 };
    double *t[4];
    for (int k = 0; k < 4; k++) t[k] = malloc((size_t)steps * sizeof *t[k]);
    for (int i = 0; i < steps + 5; i++) {
        int b = i % (d.n / B);
        double t0 = clock_s();
        nn_train_step(&st, &d, idx + b * B, B, 1e-4f, 0.0);
        if (i >= 5) t[0][i - 5] = clock_s() - t0;
        for (int k = 0; k < 2; k++) {
            at.samples = samples[k];
            t0 = clock_s();
            nn_attack_grad(&at, d.x + (size_t)b * B * D, d.y + b * B, B, NN_LOSS_CE, NULL, g, NULL);
            if (i >= 5) t[k + 1][i - 5] = clock_s() - t0;
        }
        at.samples = 1;
        t0 = clock_s();
        nn_attack_grad(&at, d.x + (size_t)b * B * D, d.y + b * B, 30, NN_LOSS_CE, NULL, g, NULL);
        if (i >= 5) t[3][i - 5] = clock_s() - t0;
    }
    double train = median(t[0], steps);
    printf("training step:        median %8.3f ms = %8.0f examples/s\n", train * 1e3, B / train);
    for (int k = 0; k < 2; k++) {
        double a = median(t[k + 1], steps);
        printf("attack step, S = %2d: median %8.3f ms = %8.0f examples x steps/s (%.2f x the training step)\n",
               samples[k], a * 1e3, B / a, a / train);
        printf("TABLE|VIB attack step (forward, input gradient), S = %d, batch %d, %d thread%s|%.0f|examples x steps/s|"
               "<= 1.00 x the training step|training step %.0f examples/s|%.2f|%s\n",
               samples[k], B, rt_blas_threads(), rt_blas_threads() > 1 ? "s" : "", B / a, B / train, a / train,
               a <= train ? "yes" : "no");
    }
    double tail = median(t[3], steps);
    printf("attack step, S =  1, 30 examples left of the hundred: median %8.3f ms (%.2f x the training step)\n",
           tail * 1e3, tail / train);
    free(g);
    for (int k = 0; k < 4; k++) free(t[k]);
    free(idx);
    free(d.x);
    free(d.y);
    rt_ctx_free(&c);
    rt_optim_free(&opt);
    nn_model_free(&m);
    return 0;
}
