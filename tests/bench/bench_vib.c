// bench_vib.c: the Deep VIB model of experiments/vib_fashion.lua, 784-1024-1024-(2x256)-10 at
// batch 100 with Adam and an EMA of the weights, against the GEMM floor of its step measured in the
// same run; its 12-sample evaluation; and, given the vibrun binary, the peak resident memory of a
// real training on Fashion-MNIST and the throughput of a sweep run as 2 jobs of 1 thread against
// 1 job of 2 threads (issue 20). Each headline figure is also printed as a TABLE| line
// (tests/bench/bench_table.sh gathers them).
//
// The GEMM floor of a step: each of its GEMM shapes at the fastest of one OpenBLAS call on one
// thread, one on OpenBLAS's own threads and rt_gemm, best of many repetitions with the operands in
// cache (as bench_mlp). floor / step is the share of the step that is GEMM at its best speed.
//
//   build/tests/bench_vib [steps] [--vibrun build/vibrun] [--script experiments/vib_fashion.lua]
// OPENBLAS_CORETYPE is honoured; the thread counts are set here (1, then 2).
#define _DEFAULT_SOURCE                 /* wait4 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn_eval.h"
#include "nn_train.h"
#include "bench_gemm.h"
#include "rt_blas.h"
#include "rt_ops.h"
#include "rt_pool.h"

#define BATCH 100
#define ZK 256
#define EVAL_N 10000
#define EVAL_SAMPLES 12

/* The clock of the 1-thread figures: the process's CPU time, which a machine loaded by other
** processes does not inflate the way it inflates wall time (at 1 thread only this thread works);
** wall time for more threads. */
static double clock_s(void) {
    if (rt_blas_threads() > 1) return rt_now_s();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void table(const char *figure, double value, const char *fmt, const char *unit, const char *target,
                  const char *reference, double ratio, const char *met) {
    char v[32], r[32];
    snprintf(v, sizeof v, fmt, value);
    if (ratio >= 0) snprintf(r, sizeof r, "%.2f", ratio);
    else snprintf(r, sizeof r, "-");
    printf("TABLE|%s|%s|%s|%s|%s|%s|%s\n", figure, v, unit, target, reference, r, met);
}

// ---- the GEMM floor ----

/* The GEMMs of one training step of a chain of linear maps in -> out (layer l reads the output of
** layer from[l]; -1 is the input, whose gradient is not needed). */
static double gemm_floor(const int *in, const int *out, const int *from, int n) {
    double floor = 0.0;
    for (int l = 0; l < n; l++) {
        shape s[3] = { { false, true, BATCH, out[l], in[l], "forward" }, { true, false, out[l], in[l], BATCH, "dW" },
                       { false, false, BATCH, in[l], out[l], "dx" } };
        for (int i = 0; i < (from[l] < 0 ? 2 : 3); i++) {
            double t1 = time_gemm(&s[i], openblas_1, 40, clock_s), tn = time_gemm(&s[i], openblas_all, 40, clock_s);
            double tr = time_gemm(&s[i], rt_gemm, 40, clock_s);
            double t = t1 < tn ? t1 : tn;
            floor += t < tr ? t : tr;
        }
    }
    return floor;
}

// ---- the model ----

typedef struct vib_setup {
    nn_model m;
    nn_obj o;
    rt_optim opt;
    rt_ema ema;
    rt_ctx c;
    rt_rng noise;
} vib_setup;

static nn_layer_spec linear(int out, const char *name) {
    nn_layer_spec s = nn_layer_spec_default(NN_LAYER_LINEAR);
    s.out = out;
    s.init = NN_INIT_GLOROT;
    snprintf(s.name, sizeof s.name, "%s", name);
    return s;
}

/* vib_fashion.lua's model and objective: kind "vib" (z Gaussian, CE + beta KL) or "det" (z a
** linear layer, CE). */
static void setup(vib_setup *v, bool vib) {
    nn_layer_spec spec[6] = { linear(1024, "fc1"), nn_layer_spec_default(NN_LAYER_RELU), linear(1024, "fc2"),
                              nn_layer_spec_default(NN_LAYER_RELU), linear(ZK, "z"), linear(10, "decoder") };
    snprintf(spec[1].name, sizeof spec[1].name, "relu1");
    snprintf(spec[3].name, sizeof spec[3].name, "relu2");
    if (vib) {
        spec[4] = nn_layer_spec_default(NN_LAYER_GAUSS);
        spec[4].out = ZK;
        spec[4].sigma = NN_SIGMA_SOFTPLUS;
        spec[4].shift = -5.0f;
        spec[4].init = NN_INIT_GLOROT;
        snprintf(spec[4].name, sizeof spec[4].name, "z");
    }
    rt_err err = { 0 };
    if (nn_model_build(&v->m, spec, 6, 784, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    nn_term_spec t[2] = { nn_term_spec_default(NN_TERM_CE), nn_term_spec_default(NN_TERM_KL) };
    t[1].weight = 1e-3f;
    snprintf(t[1].layer, sizeof t[1].layer, "z");
    if (nn_obj_build(&v->o, t, vib ? 2 : 1, NULL, 0, &v->m, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    rt_rng r;
    rt_rng_seed(&r, 1);
    nn_model_init(&v->m, &r);
    rt_rng_seed(&v->noise, 2);
    rt_optim_cfg oc = rt_optim_cfg_default();
    oc.lr = 1e-4f;
    oc.beta1 = 0.5f;
    rt_optim_init(&v->opt, &oc, v->m.params.total);
    rt_ema_init(&v->ema, 0.999f, false, v->m.params.data, v->m.params.total);
    rt_ctx_init(&v->c, 16u << 20);
}

static void teardown(vib_setup *v) {
    rt_ctx_free(&v->c);
    rt_ema_free(&v->ema);
    rt_optim_free(&v->opt);
    nn_model_free(&v->m);
}

/* Median step time over `steps` steps after 10 warm-up steps, at the current thread count. */
static double time_steps(vib_setup *v, const nn_dataset *d, const int32_t *idx, int steps) {
    v->opt.pool = v->ema.pool = rt_blas_pool();
    nn_step st = { &v->m, &v->o, &v->c, &v->opt, &v->ema, &v->noise, NULL };
    double *t = malloc((size_t)steps * sizeof *t);
    for (int i = 0; i < steps + 10; i++) {
        double t0 = clock_s();
        nn_train_step(&st, d, idx + (i % (d->n / BATCH)) * BATCH, BATCH, 1e-4f, 0.0);
        if (i >= 10) t[i - 10] = clock_s() - t0;
    }
    qsort(t, (size_t)steps, sizeof *t, cmp_double);
    double med = t[steps / 2];
    free(t);
    return med;
}

// ---- vibrun as a child: peak memory and sweep throughput ----

/* Runs argv, waits; returns the wall time and the child's peak resident set (of it and the
** workers it waited for) in KiB. */
static double run_child(char *const argv[], long *maxrss_kib) {
    double t0 = rt_now_s();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_vib: %s %s failed (status %d)\n", argv[0], argv[1], status);
        exit(1);
    }
    if (maxrss_kib) *maxrss_kib = ru.ru_maxrss;
    return rt_now_s() - t0;
}

int main(int argc, char **argv) {
    int steps = 200;
    const char *vibrun = NULL, *script = "experiments/vib_fashion.lua";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--vibrun") == 0 && i + 1 < argc) vibrun = argv[++i];
        else if (strcmp(argv[i], "--script") == 0 && i + 1 < argc) script = argv[++i];
        else if (atoi(argv[i]) > 0) steps = atoi(argv[i]);
        else {
            fprintf(stderr, "usage: bench_vib [steps] [--vibrun PATH] [--script PATH]\n");
            return 2;
        }
    }
    const char *forced = getenv("OPENBLAS_CORETYPE");
    printf("bench_vib: VIB 784-1024-1024-(2x%d)-10, softplus(rho - 5), CE + 1e-3 KL, Adam, EMA 0.999, "
           "batch %d\n", ZK, BATCH);
    printf("openblas: kernels %s%s%s; threads set here: 1, then 2\n", rt_blas_corename(),
           forced ? ", OPENBLAS_CORETYPE=" : "", forced ? forced : "");

    // synthetic inputs in [-1, 1] (vib_fashion's scaling), random labels
    nn_dataset d = { .n = 6000, .ndim = 1, .shape = { 784, 1, 1 }, .dim = 784, .nclass = 10 };
    d.x = malloc((size_t)d.n * d.dim * sizeof(float));
    d.y = malloc((size_t)d.n * sizeof(int32_t));
    rt_rng r;
    rt_rng_seed(&r, 3);
    rt_rng_fill_uniform(&r, d.x, (size_t)d.n * d.dim, -1.0f, 1.0f);
    for (int i = 0; i < d.n; i++) d.y[i] = (int32_t)rt_rng_below(&r, 10);
    int32_t *idx = malloc((size_t)d.n * sizeof *idx);
    for (int i = 0; i < d.n; i++) idx[i] = i;

    /* the step's linear maps: fc1, fc2, mu, sigma head (both read fc2's output), decoder */
    const int in[] = { 784, 1024, 1024, 1024, ZK }, out[] = { 1024, 1024, ZK, ZK, 10 }, from[] = { -1, 0, 1, 1, 2 };
    const int in_d[] = { 784, 1024, 1024, ZK }, out_d[] = { 1024, 1024, ZK, 10 }, from_d[] = { -1, 0, 1, 2 };

    vib_setup v, det;
    setup(&v, true);
    setup(&det, false);
    double step_vib[3] = { 0 }, step_det[3] = { 0 }, floor_vib[3] = { 0 }, floor_det[3] = { 0 };
    size_t arena_step = 0;
    for (int nt = 1; nt <= 2; nt++) {
        rt_blas_set_threads(nt);
        floor_vib[nt] = gemm_floor(in, out, from, 5);
        floor_det[nt] = gemm_floor(in_d, out_d, from_d, 4);
        /* alternated, so that a change in the machine's load falls on both */
        int n = nt == 1 ? steps / 2 : steps / 4;        /* 2 threads: fewer, a loaded machine makes them slow */
        double a = time_steps(&v, &d, idx, n), b = time_steps(&det, &d, idx, n);
        double a2 = time_steps(&v, &d, idx, n), b2 = time_steps(&det, &d, idx, n);
        step_vib[nt] = a < a2 ? a : a2;
        step_det[nt] = b < b2 ? b : b2;
        printf("\n%d thread%s: GEMM floor %.3f ms (det twin %.3f ms)\n", nt, nt > 1 ? "s" : "",
               floor_vib[nt] * 1e3, floor_det[nt] * 1e3);
        printf("  VIB step: median %.3f ms = %.0f samples/s, GEMM floor / step %.2f\n", step_vib[nt] * 1e3,
               BATCH / step_vib[nt], floor_vib[nt] / step_vib[nt]);
        printf("  det twin (z = a linear layer, CE only): %.3f ms, floor / step %.2f\n", step_det[nt] * 1e3,
               floor_det[nt] / step_det[nt]);
        printf("  the Gaussian layer and KL beyond their GEMMs: %.3f ms per step\n",
               ((step_vib[nt] - floor_vib[nt]) - (step_det[nt] - floor_det[nt])) * 1e3);
    }
    arena_step = v.c.step.peak;

    // ---- pieces of the Gaussian layer alone, 1 thread ----
    rt_blas_set_threads(1);
    {
        float *eps = malloc((size_t)BATCH * ZK * sizeof *eps);
        double best = 1e30;
        for (int i = 0; i < 200; i++) {
            double t0 = clock_s();
            rt_rng_fill_normal(&r, eps, (size_t)BATCH * ZK, 0.0f, 1.0f);
            double t = clock_s() - t0;
            if (t < best) best = t;
        }
        printf("\npieces alone, 1 thread, best of 200 (the step's time beyond its GEMM floor: %.3f ms):\n",
               (step_vib[1] - floor_vib[1]) * 1e3);
        printf("  %d normals (one step's noise): %.3f ms = %.2f ns each\n", BATCH * ZK, best * 1e3,
               best * 1e9 / (BATCH * ZK));
        free(eps);
        /* the step's pass (Adam, the gradient's zeroing and the EMA in one loop) against the two
        ** passes it replaced, alternated */
        double to = 1e30, te_ = 1e30, tf = 1e30;
        v.opt.pool = v.ema.pool = NULL;
        for (int i = 0; i < 20; i++) {
            double t0 = clock_s();
            rt_optim_step_zero_grad(&v.opt, v.m.params.data, v.m.params.grad, 0.0f);
            double t1 = clock_s();
            rt_ema_update(&v.ema, v.m.params.data);
            double t2 = clock_s();
            rt_optim_step_ema(&v.opt, v.m.params.data, v.m.params.grad, &v.ema, 0.0f);
            double t3 = clock_s();
            to = t1 - t0 < to ? t1 - t0 : to;
            te_ = t2 - t1 < te_ ? t2 - t1 : te_;
            tf = t3 - t2 < tf ? t3 - t2 : tf;
        }
        printf("  Adam update + zeroing of the gradient (%zu parameters): %.3f ms; EMA update: %.3f ms; "
               "the two in one pass (the step's): %.3f ms\n", v.m.params.total, to * 1e3, te_ * 1e3, tf * 1e3);
        printf("  (GEMM floor + that pass) / step: %.2f (VIB), %.2f (det twin)\n", (floor_vib[1] + tf) / step_vib[1],
               (floor_det[1] + tf) / step_det[1]);
        /* the scale head's softplus and the KL's forward on one step's (100, 256), no tape */
        bool rec = v.c.grad_enabled;
        v.c.grad_enabled = false;
        double tsp = 1e30, tkl = 1e30;
        for (int i = 0; i < 50; i++) {
            rt_ctx_reset(&v.c);
            rt_tensor *rho = rt_tensor_new(&v.c, 2, (int[]){ BATCH, ZK });
            rt_rng_fill_uniform(&r, rho->data, (size_t)rho->n, -8.0f, -2.0f);
            rt_tensor *mu = rt_tensor_new(&v.c, 2, (int[]){ BATCH, ZK });
            rt_rng_fill_uniform(&r, mu->data, (size_t)mu->n, -1.0f, 1.0f);
            double t0 = clock_s();
            rt_tensor *sg = rt_softplus(&v.c, rho);
            double t1 = clock_s();
            rt_gauss_kl(&v.c, mu, sg);
            double t2 = clock_s();
            tsp = t1 - t0 < tsp ? t1 - t0 : tsp;
            tkl = t2 - t1 < tkl ? t2 - t1 : tkl;
        }
        v.c.grad_enabled = rec;
        printf("  softplus forward on (%d, %d): %.3f ms; KL forward: %.3f ms\n", BATCH, ZK, tsp * 1e3, tkl * 1e3);
    }

    // ---- the 12-sample evaluation of 10,000 inputs ----
    nn_dataset te = { .n = EVAL_N, .ndim = 1, .shape = { 784, 1, 1 }, .dim = 784, .nclass = 10 };
    te.x = malloc((size_t)te.n * te.dim * sizeof(float));
    te.y = malloc((size_t)te.n * sizeof(int32_t));
    rt_rng_fill_uniform(&r, te.x, (size_t)te.n * te.dim, -1.0f, 1.0f);
    for (int i = 0; i < te.n; i++) te.y[i] = (int32_t)rt_rng_below(&r, 10);
    /* Alternated: the 12-sample evaluation; the mean network alone (error_det's figure, as vibrun
    ** computed it before); and the two in one pass (nn_evaluate_det, as vibrun computes them now:
    ** the encoder once per input). The GEMM floor of the evaluation: its forward GEMMs at batch
    ** 1000 (the encoder's four, the decoder's on the 12,000 sample rows) at their fastest, as the
    ** step's floor. */
    double ev_rate[3] = { 0 }, det_rate[3] = { 0 }, both_rate[3] = { 0 }, ev_floor[3] = { 0 };
    for (int nt = 1; nt <= 2; nt++) {
        rt_blas_set_threads(nt);
        const shape eval_shapes[] = { { false, true, 1000, 1024, 784, "fc1" }, { false, true, 1000, 1024, 1024, "fc2" },
                                      { false, true, 1000, ZK, 1024, "mu" }, { false, true, 1000, ZK, 1024, "rho" },
                                      { false, true, 1000 * EVAL_SAMPLES, 10, ZK, "decoder" } };
        for (int i = 0; i < 5; i++) {
            const shape *sh = &eval_shapes[i];
            double t1 = time_gemm(sh, openblas_1, 10, clock_s), tn = time_gemm(sh, openblas_all, 10, clock_s);
            double tr = time_gemm(sh, rt_gemm, 10, clock_s), t = t1 < tn ? t1 : tn;
            ev_floor[nt] += (EVAL_N / 1000) * (t < tr ? t : tr);
        }
        nn_eval_cfg e = { .batch = 1000, .samples = EVAL_SAMPLES, .avg = NN_AVG_PROBS, .seed = 1 };
        nn_eval_cfg e0 = e;
        e0.samples = 0;
        double best = 1e30, best_det = 1e30, best_both = 1e30, error_det = 0.0;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = clock_s();
            nn_evaluate(&v.m, &v.o, &te, &e, &v.c);
            double t1 = clock_s();
            nn_evaluate(&v.m, &v.o, &te, &e0, &v.c);
            double t2 = clock_s();
            nn_evaluate_det(&v.m, &v.o, &te, &e, &v.c, &error_det);
            double t3 = clock_s();
            best = t1 - t0 < best ? t1 - t0 : best;
            best_det = t2 - t1 < best_det ? t2 - t1 : best_det;
            best_both = t3 - t2 < best_both ? t3 - t2 : best_both;
        }
        ev_rate[nt] = EVAL_N / best;
        det_rate[nt] = EVAL_N / best_det;
        both_rate[nt] = EVAL_N / best_both;
        printf("\n%d thread%s: 12-sample evaluation of %d inputs (batch 1000) %.3f s = %.0f examples/s; its GEMM "
               "floor %.3f s = %.0f examples/s, floor / evaluation %.2f\n", nt, nt > 1 ? "s" : "", EVAL_N, best,
               ev_rate[nt], ev_floor[nt], EVAL_N / ev_floor[nt], ev_floor[nt] / best);
        printf("  the mean network alone (error_det's pass) %.3f s = %.0f examples/s; the 12-sample evaluation "
               "with error_det in one pass %.3f s = %.0f examples/s, against %.3f s for the two passes\n",
               best_det, det_rate[nt], best_both, both_rate[nt], best + best_det);
    }
    size_t arena_eval = v.c.step.peak;
    size_t param_bytes = v.m.params.total * sizeof(float);

    char ref[96];
    snprintf(ref, sizeof ref, "GEMM floor %.2f ms", floor_vib[1] * 1e3);
    double q1 = floor_vib[1] / step_vib[1];
    table("VIB step, batch 100, 1 thread", BATCH / step_vib[1], "%.0f", "samples/s", ">= 0.85 of GEMM floor", ref, q1,
          q1 >= 0.85 ? "yes" : "no");
    snprintf(ref, sizeof ref, "GEMM floor %.2f ms", floor_vib[2] * 1e3);
    table("VIB step, batch 100, 2 threads", BATCH / step_vib[2], "%.0f", "samples/s", "reported", ref,
          floor_vib[2] / step_vib[2], "-");
    snprintf(ref, sizeof ref, "GEMM floor %.3f s = %.0f examples/s", ev_floor[1], EVAL_N / ev_floor[1]);
    table("VIB 12-sample evaluation, 10,000 inputs, 1 thread", ev_rate[1], "%.0f", "examples/s", ">= 30000", ref,
          ev_floor[1] * ev_rate[1] / EVAL_N, ev_rate[1] >= 30000 ? "yes" : "no");
    snprintf(ref, sizeof ref, "GEMM floor %.3f s = %.0f examples/s", ev_floor[2], EVAL_N / ev_floor[2]);
    table("VIB 12-sample evaluation, 10,000 inputs, 2 threads", ev_rate[2], "%.0f", "examples/s", "reported", ref,
          ev_floor[2] * ev_rate[2] / EVAL_N, "-");
    snprintf(ref, sizeof ref, "12-sample and mean network apart %.0f examples/s",
             EVAL_N / (EVAL_N / ev_rate[1] + EVAL_N / det_rate[1]));
    table("VIB 12-sample evaluation with error_det in one pass, 1 thread", both_rate[1], "%.0f", "examples/s",
          "reported", ref, -1, "-");

    if (vibrun) {
        // ---- peak memory of a real training: one epoch of vib_fashion at beta 1e-3, 1 job, 2 threads ----
        char dir[] = "/tmp/bench_vib_XXXXXX";
        if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
        char out1[64], out2[64], out3[64];
        snprintf(out1, sizeof out1, "%s/mem", dir);
        snprintf(out2, sizeof out2, "%s/jobs2", dir);
        snprintf(out3, sizeof out3, "%s/jobs1", dir);
        char *mem[] = { (char *)vibrun, (char *)script, (char *)"--set", (char *)"beta=1e-3", (char *)"--set", (char *)"epochs=1", (char *)"--threads", (char *)"2",
                        (char *)"--quiet", (char *)"--out", out1, NULL };
        long kib = 0;
        double tm = run_child(mem, &kib);
        nn_data_spec ds = nn_data_spec_default();
        ds.name = "fashion-mnist";
        ds.scale = NN_SCALE_PM1;
        nn_dataset ftr, fte;
        rt_err err = { 0 };
        double data_bytes = 0.0;
        if (nn_data_open(&ds, &ftr, &fte, &err) == RT_OK) {
            data_bytes = ((double)ftr.n + fte.n) * (784.0 * sizeof(float) + sizeof(int32_t));
            nn_dataset_free(&ftr);
            nn_dataset_free(&fte);
        } else {
            fprintf(stderr, "bench_vib: %s\n", err.msg);
            return 1;
        }
        size_t arena = arena_step > arena_eval ? arena_step : arena_eval;
        double bound = data_bytes + 3.0 * (double)param_bytes + (double)arena + 64.0 * (1 << 20);
        /* what training holds: the weights, their gradient, Adam's two moments and the EMA's copy */
        double bound5 = bound + 2.0 * (double)param_bytes;
        double peak = (double)kib * 1024.0;
        printf("\nmemory: %s, 1 epoch on Fashion-MNIST in %.1f s: peak resident %.1f MiB; data %.1f MiB, "
               "parameters %.1f MiB (x3 = %.1f), step arena %.1f MiB (training %.1f, 12-sample evaluation "
               "batch 1000 %.1f), bound %.1f MiB (peak / bound %.2f); with the 5 parameter-sized arrays of "
               "Adam + EMA training (weights, gradient, 2 moments, EMA) %.1f MiB (peak / bound %.2f)\n", script,
               tm, peak / 1048576.0, data_bytes / 1048576.0, param_bytes / 1048576.0, 3.0 * param_bytes / 1048576.0,
               arena / 1048576.0, arena_step / 1048576.0, arena_eval / 1048576.0, bound / 1048576.0, peak / bound,
               bound5 / 1048576.0, peak / bound5);
        snprintf(ref, sizeof ref, "bound %.0f MiB", bound / 1048576.0);
        table("VIB training on Fashion-MNIST: peak resident memory", peak / 1048576.0, "%.0f", "MiB",
              "<= data + 3x params + step arena + 64 MiB", ref, peak / bound, peak <= bound ? "yes" : "no");
        snprintf(ref, sizeof ref, "bound %.0f MiB", bound5 / 1048576.0);
        table("VIB training on Fashion-MNIST: peak resident memory, Adam + EMA state counted", peak / 1048576.0,
              "%.0f", "MiB", "<= data + 5x params + step arena + 64 MiB", ref, peak / bound5,
              peak <= bound5 ? "yes" : "no");

        // ---- sweep throughput: 2 points, --jobs 2 --threads 1 against --jobs 1 --threads 2 ----
        char *j2[] = { (char *)vibrun, (char *)script, (char *)"--set", (char *)"beta=1e-3", (char *)"--set", (char *)"epochs=1", (char *)"--set",
                       (char *)"replicates=2", (char *)"--jobs", (char *)"2", (char *)"--threads", (char *)"1", (char *)"--quiet", (char *)"--out", out2, NULL };
        char *j1[] = { (char *)vibrun, (char *)script, (char *)"--set", (char *)"beta=1e-3", (char *)"--set", (char *)"epochs=1", (char *)"--set",
                       (char *)"replicates=2", (char *)"--jobs", (char *)"1", (char *)"--threads", (char *)"2", (char *)"--quiet", (char *)"--out", out3, NULL };
        double t2 = run_child(j2, NULL), t1 = run_child(j1, NULL);
        printf("sweep of 2 points (1 epoch each): --jobs 2 --threads 1 %.1f s = %.0f points/hour; --jobs 1 "
               "--threads 2 %.1f s = %.0f points/hour; ratio %.2f\n", t2, 2 * 3600.0 / t2, t1, 2 * 3600.0 / t1,
               t1 / t2);
        snprintf(ref, sizeof ref, "1 job x 2 threads %.0f points/h", 2 * 3600.0 / t1);
        table("VIB sweep, 2 jobs x 1 thread", 2 * 3600.0 / t2, "%.0f", "points/h", ">= 1.8x 1 job x 2 threads", ref,
              t1 / t2, t1 / t2 >= 1.8 ? "yes" : "no");
        char rm[128];
        snprintf(rm, sizeof rm, "rm -rf %s", dir);
        if (system(rm) != 0) fprintf(stderr, "bench_vib: could not remove %s\n", dir);
    }

    teardown(&v);
    teardown(&det);
    free(idx);
    free(d.x);
    free(d.y);
    free(te.x);
    free(te.y);
    return 0;
}
