// bench_resnet.c: the whole training step of ResNet-20 on CIFAR-10-shaped images at batch 128
// (forward, backward, batch norm in training mode, the SGD + momentum update), against the GEMM
// roofline of its convolutions measured in the same run.
//
// The model is vib_cifar.lua's deterministic twin (kind = "det"), built here from the same layer
// specs vib.resnet makes: ResNet-20 of He et al. (3x3 stem, three stages of three basic blocks at
// 16, 32, 64 channels, option A shortcuts, batch norm), global average pooling, a linear layer of
// 64 ("z") and the 10-way decoder; cross-entropy; SGD, lr 0.1, momentum 0.9, weight decay 1e-4.
// Each step is nn_train_step_aug on 128 random images of (3, 32, 32) with random crop-and-flip
// codes, as nn_train trains the point. Images/s is the batch times the timed steps over their wall
// time (the measure of tests/tools/ref_resnet_cifar.py --bench) and over the process's CPU time.
//
// The roofline (conv_roof.h, the code of bench_conv) is rt_gemm on every convolution GEMM of the
// step, each done whole over the batch at its best time: forward, dW and dx of each 3x3
// convolution (no dx for the stem, whose input needs none), forward and dx of the two option A
// shortcuts (a constant 1x1 stride-2 weight: no dW). ratio = roofline / step; target >= 0.60.
//
// "The step allocates nothing": the step arena takes no chunk in the timed steps (the first step at
// a thread count sizes it, the reset before the second makes that one chunk), and the process (every
// library in it included) calls no malloc, calloc, realloc or aligned allocation in them: this
// program counts those calls by defining the functions over glibc's (not in sanitizer builds, whose
// allocator must see every call; nor when a probe allocation is not counted). Peak memory: the step
// arena's high-water mark, and the process's peak resident set after the steps, before the
// roofline allocates its whole-batch operands.
//
// The convolutions run on the lowering and, in a build with oneDNN (rt_conv_dnnl.h), on oneDNN too:
// each thread count is timed on each backend, the two alternated (lowering first), against the
// same roofline. oneDNN's execute call allocates its argument map on the heap at every primitive
// run: on that backend the allocations of a step are counted and printed per step, not required
// to be 0 (the step arena must still not grow).
//
// Against PyTorch: with --pytorch SCRIPT (tests/tools/ref_resnet_cifar.py, the independent
// ResNet-20 of the accuracy comparison), right after vibrun's steps at each thread count the same
// number of PyTorch training steps at batch 128 run in /usr/bin/python3 (`SCRIPT --bench steps
// --threads N`, on the CIFAR-10 sample at the script's default path), and the ratio of vibrun's
// images/s on the default backend to PyTorch's is printed, target > 1. Where Python, torch or the
// data are missing the comparison says so and is not counted.
//
//   build/tests/bench_resnet [steps] [--no-roof] [--threads N] [--conv lowering|dnnl|both]
//                            [--pytorch SCRIPT]
// steps: timed per thread count (default 20, after 2 warm-up steps); --no-roof: the steps alone;
// --threads N: that thread count only (else 1 and all); --conv: the backends timed (default both
// in a build with oneDNN, else the lowering).
// OPENBLAS_NUM_THREADS (all threads), OPENBLAS_CORETYPE and OMP_WAIT_POLICY (oneDNN's OpenMP
// threads) are honoured.
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conv_roof.h"
#include "nn_train.h"
#include "rt_conv_dnnl.h"

#define B 128

// ---- counting the process's allocations ----

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COUNTS_MALLOC 0
#else
#define COUNTS_MALLOC 1
#endif
static atomic_long nalloc;
static bool counting;           /* the probe allocation in main was counted */

#if COUNTS_MALLOC
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void *memalign(size_t align, size_t n);     /* <malloc.h>'s, obsolete */

void *malloc(size_t n) {
    atomic_fetch_add_explicit(&nalloc, 1, memory_order_relaxed);
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
    atomic_fetch_add_explicit(&nalloc, 1, memory_order_relaxed);
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
    atomic_fetch_add_explicit(&nalloc, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t align, size_t n) {
    atomic_fetch_add_explicit(&nalloc, 1, memory_order_relaxed);
    return __libc_memalign(align, n);
}
void *memalign(size_t align, size_t n) {
    atomic_fetch_add_explicit(&nalloc, 1, memory_order_relaxed);
    return __libc_memalign(align, n);
}
int posix_memalign(void **p, size_t align, size_t n) {
    atomic_fetch_add_explicit(&nalloc, 1, memory_order_relaxed);
    if (align < sizeof(void *) || (align & (align - 1))) return 22;    /* EINVAL */
    *p = __libc_memalign(align, n);
    return *p || !n ? 0 : 12;                                          /* ENOMEM */
}
#endif

// ---- the model: vib_cifar's deterministic twin ----

static nn_layer_spec L(nn_layer_kind k, int out, const char *name) {
    nn_layer_spec s = nn_layer_spec_default(k);
    s.out = out;
    snprintf(s.name, sizeof s.name, "%s", name);
    if (k == NN_LAYER_CONV || k == NN_LAYER_RESIDUAL) s.init = NN_INIT_HE;     /* as vib.conv, vib.residual */
    return s;
}

static nn_layer_spec conv3(int out, int stride, const char *name) {
    nn_layer_spec s = L(NN_LAYER_CONV, out, name);
    s.kernel[0] = s.kernel[1] = 3;
    s.stride[0] = s.stride[1] = stride;
    s.pad[0] = s.pad[1] = 1;
    s.bias = false;
    return s;
}

/* vib.resnet { depth = 20, classes = 0 } followed by z = linear 64 and the decoder: n specs. */
static int resnet20_det(nn_layer_spec *s) {
    int n = 0;
    s[n++] = conv3(16, 1, "conv1");
    s[n++] = L(NN_LAYER_BATCHNORM, 0, "bn1");
    s[n++] = L(NN_LAYER_RELU, 0, "relu1");
    for (int st = 1; st <= 3; st++)
        for (int b = 1; b <= 3; b++) {
            char id[32], name[64];
            snprintf(id, sizeof id, "s%db%d", st, b);
            s[n] = L(NN_LAYER_RESIDUAL, 0, id);
            s[n].nbody = 5;
            s[n++].shortcut = NN_SHORTCUT_A;
            snprintf(name, sizeof name, "%s_conv1", id);
            s[n++] = conv3(16 << (st - 1), st > 1 && b == 1 ? 2 : 1, name);
            snprintf(name, sizeof name, "%s_bn1", id);
            s[n++] = L(NN_LAYER_BATCHNORM, 0, name);
            snprintf(name, sizeof name, "%s_relu1", id);
            s[n++] = L(NN_LAYER_RELU, 0, name);
            snprintf(name, sizeof name, "%s_conv2", id);
            s[n++] = conv3(16 << (st - 1), 1, name);
            snprintf(name, sizeof name, "%s_bn2", id);
            s[n++] = L(NN_LAYER_BATCHNORM, 0, name);
            snprintf(name, sizeof name, "%s_relu", id);
            s[n++] = L(NN_LAYER_RELU, 0, name);
        }
    s[n++] = L(NN_LAYER_GAP, 0, "pool");
    s[n++] = L(NN_LAYER_LINEAR, 64, "z");
    s[n++] = L(NN_LAYER_LINEAR, 10, "decoder");
    return n;
}

static bool same_shape(const conv_shape *a, const conv_shape *b) {
    return a->C == b->C && a->H == b->H && a->O == b->O && a->K == b->K && a->stride == b->stride &&
           a->pad == b->pad && a->dw == b->dw && a->dx == b->dx;
}

/* The convolutions of the step's model, distinct shapes with their counts. */
static int conv_shapes(const nn_model *m, conv_shape *sh, int *count) {
    int n = 0;
    for (int i = 0; i < m->n; i++) {
        const nn_layer *l = &m->layers[i];
        conv_shape s;
        if (l->spec.kind == NN_LAYER_CONV)
            s = (conv_shape){ l->in_shape[0], l->in_shape[1], l->shape[0], l->spec.kernel[0], l->spec.stride[0],
                              l->spec.pad[0], true, i > 0 };
        else if (l->spec.kind == NN_LAYER_RESIDUAL && l->fixed)
            s = (conv_shape){ l->in_shape[0], l->in_shape[1], l->shape[0], 1, l->in_shape[1] / l->shape[1], 0,
                              false, true };
        else
            continue;
        int k = 0;
        while (k < n && !same_shape(&sh[k], &s)) k++;
        if (k == n) {
            sh[n] = s;
            count[n++] = 0;
        }
        count[k]++;
    }
    return n;
}

// ---- measuring ----

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The process's peak resident set (VmHWM), MiB; -1 when /proc does not say. */
static double peak_rss_mib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1.0;
    char line[256];
    double kb = -1.0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = atof(line + 6);
    fclose(f);
    return kb < 0 ? -1.0 : kb / 1024.0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct phase {
    int threads;
    rt_conv_backend conv;
    char conv_desc[96];
    double wall, cpu, median;   /* the timed steps' total wall and CPU seconds; the median step */
    double peak_mib;            /* the step arena's high-water mark */
    bool arena_grew;            /* the arena took a chunk in the timed steps */
    long mallocs;               /* allocations of the process during the timed steps */
    double roof;                /* the convolution GEMMs' roofline, seconds per step */
} phase;

typedef struct bench {
    nn_step st;
    nn_dataset d;
    int32_t *idx;
    uint8_t *aug;
    rt_rng order;
    int steps;
} bench;

static void step(bench *b, int k) {
    int32_t *idx = b->idx + (size_t)(k % (b->d.n / B)) * B;
    nn_data_augment_draw(&b->order, NN_AUG_CROP_FLIP, b->aug, B);
    nn_train_step_aug(&b->st, &b->d, idx, b->aug, B, 0.1f, 0.0);
}

static phase run_steps(bench *b, int threads, rt_conv_backend conv) {
    rt_blas_set_threads(threads);
    rt_conv_set_backend(conv);
    b->st.opt->pool = rt_blas_pool();   /* as nn_train: the optimizer on the GEMM's threads */
    phase p = { .threads = threads, .conv = conv };
    snprintf(p.conv_desc, sizeof p.conv_desc, "%s", rt_conv_backend_describe());
    double *t = rt_xmalloc((size_t)b->steps * sizeof *t);
    /* The first step at this thread count may take chunks (column buffers per thread); the reset
    ** that starts the second replaces them by one chunk that holds the peak. From then on the
    ** arena takes nothing. */
    step(b, 0);
    step(b, 1);
    size_t grown = b->st.ctx->step.mallocs;
    long n0 = atomic_load(&nalloc);
    double w0 = rt_now_s(), c0 = cpu_s();
    for (int k = 0; k < b->steps; k++) {
        double t0 = rt_now_s();
        step(b, k + 2);
        t[k] = rt_now_s() - t0;
    }
    p.wall = rt_now_s() - w0;
    p.cpu = cpu_s() - c0;
    p.mallocs = atomic_load(&nalloc) - n0;
    p.arena_grew = b->st.ctx->step.mallocs != grown;
    p.peak_mib = (double)b->st.ctx->step.peak / (1 << 20);
    qsort(t, (size_t)b->steps, sizeof *t, cmp_double);
    p.median = t[b->steps / 2];
    free(t);
    return p;
}

static double roofline(const conv_shape *sh, const int *count, int n, int threads, rt_rng *r, double *flops) {
    rt_blas_set_threads(threads);
    double t = 0.0;
    *flops = 0.0;
    for (int i = 0; i < n; i++) {
        t += count[i] * conv_roof_time(r, &sh[i], B, 5);
        *flops += count[i] * conv_roof_flops(&sh[i], B);
    }
    return t;
}

/* PyTorch's training images/s (wall and per CPU second) at a thread count, from the reference
** script's --bench line; false, with why in what, when it did not run. */
typedef struct torch_run {
    bool ok;
    double wall_ips, cpu_ips;
    char what[160];
} torch_run;

static torch_run run_torch(const char *script, int steps, int threads) {
    torch_run t = { 0 };
    char cmd[1400], line[512];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' --bench %d --threads %d 2>&1", script, steps, threads);
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    if (!f) {
        snprintf(t.what, sizeof t.what, "cannot start /usr/bin/python3");
        return t;
    }
    snprintf(t.what, sizeof t.what, "no bench line (python3-torch, python3-numpy and the CIFAR-10 sample needed)");
    while (fgets(line, sizeof line, f)) {
        const char *torch = strstr(line, "# torch ");
        if (torch) snprintf(t.what, sizeof t.what, "torch %.*s", (int)strcspn(torch + 8, ","), torch + 8);
        const char *b = strstr(line, "): ");
        if (!strncmp(line, "bench: ", 7) && b && sscanf(b, "): %lf images/s, %lf images per CPU second", &t.wall_ips,
                                                        &t.cpu_ips) == 2)
            t.ok = true;
        else if (!strncmp(line, "Traceback", 9) || strstr(line, "Error"))
            snprintf(t.what, sizeof t.what, "the script failed: %.*s", (int)strcspn(line, "\n"), line);
    }
    if (pclose(f) != 0) t.ok = false;
    return t;
}

int main(int argc, char **argv) {
    int steps = 20, only = 0, nconv = 0;
    bool roof = true, ok = true;
    const char *torch_script = NULL;
    rt_conv_backend convs[2] = { RT_CONV_LOWERING, RT_CONV_DNNL };
    for (int i = 1; i < argc && ok; i++) {
        if (!strcmp(argv[i], "--no-roof")) roof = false;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) ok = (only = atoi(argv[++i])) >= 1;
        else if (!strcmp(argv[i], "--pytorch") && i + 1 < argc) torch_script = argv[++i];
        else if (!strcmp(argv[i], "--conv") && i + 1 < argc) {
            i++;
            if (!strcmp(argv[i], "both")) nconv = 2;
            else ok = rt_conv_backend_parse(argv[i], &convs[0]) && (nconv = 1);
        } else ok = (steps = atoi(argv[i])) >= 1;
    }
    if (!nconv) nconv = rt_conv_have_dnnl() ? 2 : 1;
    if (!ok) {
        fprintf(stderr, "usage: bench_resnet [steps] [--no-roof] [--threads N] [--conv lowering|dnnl|both] "
                        "[--pytorch SCRIPT]\n");
        return 2;
    }
    if ((nconv == 2 || convs[0] == RT_CONV_DNNL) && !rt_conv_have_dnnl()) {
        fprintf(stderr, "bench_resnet: --conv: this build has no oneDNN (configure with -DVIB_DNNL=ON)\n");
        return 2;
    }
    void *volatile probe = malloc(1);   /* volatile: the pair is not optimized away */
    counting = COUNTS_MALLOC && atomic_load(&nalloc) > 0;
    free(probe);
    int all = rt_blas_threads();
    printf("bench_resnet: ResNet-20 training step (vib_cifar's deterministic twin), batch %d, SGD + momentum, "
           "crop_flip; %d steps timed after 2 warm-up steps\n", B, steps);
    roof_print_blas("rt_gemm, the convolutions' runs, batch norm and the optimizer");
    const char *wait = getenv("OMP_WAIT_POLICY");
    printf("convolutions: %s%s; OMP_WAIT_POLICY=%s\n", rt_conv_backend_name(convs[0]),
           nconv == 2 ? " and dnnl, alternated" : "", wait ? wait : "(unset)");

    nn_layer_spec spec[72];     /* 3 + 9 x 7 + 3 */
    int ns = resnet20_det(spec);
    rt_err err = { 0 };
    nn_model m;
    if (nn_model_build_shape(&m, spec, ns, (int[]){ 3, 32, 32 }, true, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    nn_term_spec ce = nn_term_spec_default(NN_TERM_CE);
    nn_obj o;
    if (nn_obj_build(&o, &ce, 1, NULL, 0, &m, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int64_t macs = 0;
    for (int i = 0; i < m.n; i++) macs += m.layers[i].macs;
    printf("model: %zu parameters, %.2fM multiply-adds per image, %d layers\n", m.params.total, (double)macs * 1e-6,
           m.n);

    bench b = { .steps = steps };
    rt_rng r;
    rt_rng_seed(&r, 1);
    nn_model_init(&m, &r);
    b.d = (nn_dataset){ .n = 10 * B, .ndim = 3, .shape = { 3, 32, 32 }, .dim = 3072, .nclass = 10 };
    b.d.x = rt_xfloats((size_t)b.d.n * b.d.dim);
    b.d.y = rt_xmalloc((size_t)b.d.n * sizeof *b.d.y);
    rt_rng_fill_uniform(&r, b.d.x, (size_t)b.d.n * b.d.dim, -2.0f, 2.0f);
    for (int i = 0; i < b.d.n; i++) b.d.y[i] = (int32_t)rt_rng_below(&r, 10);
    b.idx = rt_xmalloc((size_t)b.d.n * sizeof *b.idx);
    for (int i = 0; i < b.d.n; i++) b.idx[i] = i;
    b.aug = rt_xmalloc(B);
    rt_rng_seed(&b.order, 2);
    rt_rng noise;
    rt_rng_seed(&noise, 3);
    rt_optim_cfg oc = rt_optim_cfg_default();
    oc.kind = RT_OPTIM_SGD;
    oc.lr = 0.1f;
    oc.momentum = 0.9f;
    oc.weight_decay = 1e-4f;
    rt_optim opt;
    rt_optim_init(&opt, &oc, m.params.total);
    rt_ctx c;
    rt_ctx_init(&c, 16u << 20);
    b.st = (nn_step){ &m, &o, &c, &opt, NULL, &noise, NULL };

    phase ph[4];
    int np = 0;
    int tc[2] = { only ? only : 1, all }, nt = only || all == 1 ? 1 : 2;
    torch_run torch[2] = { 0 };
    int mine[2] = { -1, -1 };               /* the phase of the default backend at each thread count */
    rt_conv_backend dflt = rt_conv_have_dnnl() ? RT_CONV_DNNL : RT_CONV_LOWERING;
    for (int t = 0; t < nt; t++) {
        for (int k = 0; k < nconv; k++) {
            if (convs[k] == dflt) mine[t] = np;
            ph[np++] = run_steps(&b, tc[t], convs[k]);
        }
        if (torch_script) torch[t] = run_torch(torch_script, steps, tc[t]);
    }
    double rss = peak_rss_mib();

    conv_shape sh[32];
    int count[32], nsh = conv_shapes(&m, sh, count);
    double flops = 0.0;
    if (roof)      /* one roofline per thread count, shared by its backends */
        for (int i = 0; i < np; i++)
            ph[i].roof = i && ph[i - 1].threads == ph[i].threads ? ph[i - 1].roof
                                                                   : roofline(sh, count, nsh, ph[i].threads, &r, &flops);

    printf("\n%-8s %-9s %10s %10s %12s %12s %10s %10s %6s %12s %10s\n", "threads", "conv", "step ms", "median ms",
           "images/s", "img/CPU s", "roof ms", "conv GF/s", "ratio", "arena MiB", "mallocs");
    for (int i = 0; i < np; i++) {
        const phase *p = &ph[i];
        char ms[16] = "-", gf[16] = "-", ra[16] = "-", mc[16] = "-";
        if (roof) {
            snprintf(ms, sizeof ms, "%.1f", p->roof * 1e3);
            snprintf(gf, sizeof gf, "%.1f", flops / p->roof * 1e-9);
            snprintf(ra, sizeof ra, "%.2f", p->roof / (p->wall / steps));
        }
        if (counting) snprintf(mc, sizeof mc, "%ld", p->mallocs);
        printf("%-8d %-9s %10.1f %10.1f %12.1f %12.1f %10s %10s %6s %12.1f %10s\n", p->threads,
               rt_conv_backend_name(p->conv), p->wall / steps * 1e3, p->median * 1e3, steps * B / p->wall,
               steps * B / p->cpu, ms, gf, ra, p->peak_mib, mc);
    }
    for (int i = 0; i < np; i++)
        if (ph[i].conv == RT_CONV_DNNL && (i == 0 || ph[i - 1].conv != RT_CONV_DNNL || ph[i - 1].threads != ph[i].threads))
            printf("dnnl, %d thread%s: %s\n", ph[i].threads, ph[i].threads > 1 ? "s" : "", ph[i].conv_desc);
    if (nconv == 2)
        for (int i = 0; i + 1 < np; i += 2)
            printf("dnnl / lowering, %d thread%s: %.2f in images/s, %.2f per CPU second\n", ph[i].threads,
                   ph[i].threads > 1 ? "s" : "", ph[i].wall / ph[i + 1].wall, ph[i].cpu / ph[i + 1].cpu);
    if (roof)
        printf("roofline: rt_gemm on the step's convolution GEMMs (%.2f GFLOP per step: %d distinct shapes), "
               "each whole over the batch, best of 5; ratio = roofline / step (target >= 0.60)\n", flops * 1e-9,
               nsh);
    /* the lowering's steps allocate nothing; oneDNN's allocate in its execute call (counted) */
    bool grew = false;
    long mallocs = 0, dnnl_mallocs = 0, dnnl_steps = 0;
    for (int i = 0; i < np; i++) {
        grew |= ph[i].arena_grew;
        if (ph[i].conv == RT_CONV_DNNL) dnnl_mallocs += ph[i].mallocs, dnnl_steps += steps;
        else mallocs += ph[i].mallocs;
    }
    printf("the step allocates nothing: %s (the step arena %s in the timed steps at each thread count; %s)\n",
           !grew && !mallocs ? "yes" : "NO", grew ? "GREW" : "did not grow",
           counting ? (mallocs ? "the process ALLOCATED during the lowering's timed steps"
                               : "no malloc, calloc, realloc or aligned allocation in the lowering's timed steps")
                    : "allocations not counted: a sanitizer build, or the probe was not seen");
    if (dnnl_steps && counting)
        printf("on dnnl: %.1f allocations per step (oneDNN's execute call: its argument map, freed at its return)\n",
               (double)dnnl_mallocs / (double)dnnl_steps);
    printf("peak memory: step arena %.1f MiB (%d thread%s), process peak resident set %.1f MiB (before the "
           "roofline)\n", ph[np - 1].peak_mib, ph[np - 1].threads, ph[np - 1].threads > 1 ? "s" : "", rss);

    for (int i = 0; i < np; i++) {
        const phase *p = &ph[i];
        char ref[64] = "-", ratio[16] = "-";
        const char *met = "-";
        if (roof) {
            double q = p->roof / (p->wall / steps);
            snprintf(ref, sizeof ref, "conv GEMM roofline %.1f ms", p->roof * 1e3);
            snprintf(ratio, sizeof ratio, "%.2f", q);
            met = q >= 0.60 ? "yes" : "no";
        }
        printf("TABLE|ResNet-20 step, batch %d, %d thread%s%s|%.1f|images/s|>= 0.60 of conv GEMM roofline|%s|%s|%s\n",
               B, p->threads, p->threads > 1 ? "s" : "", p->conv == RT_CONV_DNNL ? ", oneDNN convolutions" : "",
               steps * B / p->wall, ref, ratio, met);
    }
    char nal[32] = "not counted";
    if (counting) snprintf(nal, sizeof nal, "%ld", mallocs);
    if (nconv == 2 || convs[0] == RT_CONV_LOWERING)
        printf("TABLE|ResNet-20 step, allocations after the warm-up steps|%s|calls|0, arena not growing|%s|-|%s\n",
               nal, grew ? "step arena grew" : "step arena did not grow",
               grew || mallocs ? "no" : counting ? "yes" : "-");
    if (dnnl_steps && counting)
        printf("TABLE|ResNet-20 step on oneDNN, allocations per step|%.1f|calls|0, arena not growing|oneDNN's execute "
               "call|-|no\n", (double)dnnl_mallocs / (double)dnnl_steps);
    printf("TABLE|ResNet-20 peak resident memory, batch %d|%.1f|MiB|-|step arena %.1f MiB|-|-\n", B, rss,
           ph[np - 1].peak_mib);
    for (int t = 0; torch_script && t < nt; t++) {
        const char *th = tc[t] > 1 ? "s" : "";
        if (!torch[t].ok || mine[t] < 0) {
            printf("against PyTorch, %d thread%s: not measured (%s)\n", tc[t], th,
                   mine[t] < 0 ? "the default backend was not timed" : torch[t].what);
            printf("TABLE|ResNet-20 step against PyTorch, %d thread%s|-|x PyTorch's images/s|> 1|not measured|-|-\n",
                   tc[t], th);
            continue;
        }
        const phase *p = &ph[mine[t]];
        double v = steps * B / p->wall, vc = steps * B / p->cpu, q = v / torch[t].wall_ips;
        printf("against PyTorch (%s, tests/tools/ref_resnet_cifar.py --bench %d), %d thread%s: %.1f images/s (%.1f per "
               "CPU s); vibrun on %s %.1f (%.1f): %.2f in images/s, %.2f per CPU second\n", torch[t].what, steps, tc[t],
               th, torch[t].wall_ips, torch[t].cpu_ips, rt_conv_backend_name(p->conv), v, vc, q, vc / torch[t].cpu_ips);
        printf("TABLE|ResNet-20 step against PyTorch, %d thread%s|%.2f|x PyTorch's images/s|> 1|PyTorch %.1f images/s "
               "(%s)|%.2f|%s\n", tc[t], th, q, torch[t].wall_ips, torch[t].what, q, q > 1.0 ? "yes" : "no");
    }

    rt_ctx_free(&c);
    rt_optim_free(&opt);
    nn_model_free(&m);
    free(b.d.x);
    free(b.d.y);
    free(b.idx);
    free(b.aug);
    return 0;
}
