// conv_dnnl_check.c: is oneDNN's convolution faster than vibrun's lowering (im2col + rt_gemm) on the
// eight distinct convolutions of ResNet-20 at batch 128? A measurement program, run by hand, not
// part of the build: it times forward + backward (dW, and dx except for the stem) of each layer of
// tests/bench/bench_conv.c, best of the repetitions, three ways:
//   lowering  rt_conv2d and rt_conv2d_bwd, as bench_conv times them;
//   dnnl nchw oneDNN's primitives on the NCHW / OIHW arrays vibrun holds;
//   dnnl any  oneDNN's primitives on the layouts it prefers (format "any": blocked nChw16c and the
//             like), the reorders from and to NCHW / OIHW timed with them, as a backend on vibrun's
//             tensors would need them;
//   any, no reorders  the same primitives alone, as if every op of the network kept oneDNN's
//             layouts (not what a convolution backend under vibrun's NCHW ops can do).
// The thread count is OPENBLAS_NUM_THREADS for rt_gemm and OMP_NUM_THREADS for oneDNN (Debian's
// libdnnl2 uses OpenMP); give both the same value.
//
//   cc -O2 -std=c11 -Iruntime -Itests/bench tests/tools/conv_dnnl_check.c build/libvib_runtime.a -lgomp
//      -ldnnl -lopenblas -lm -lpthread -o /tmp/conv_dnnl_check          (one command)
//   OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /tmp/conv_dnnl_check [reps]
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>

#include "conv_roof.h"

#define B 128
#define CHECK(f)                                                                                          \
    do {                                                                                                  \
        dnnl_status_t s_ = (f);                                                                           \
        if (s_ != dnnl_success) {                                                                         \
            fprintf(stderr, "%s:%d: %s: status %d\n", __FILE__, __LINE__, #f, (int)s_);                 \
            exit(1);                                                                                      \
        }                                                                                                 \
    } while (0)

static dnnl_engine_t eng;
static dnnl_stream_t strm;

/* A memory on the user's plain array, and, when the primitive wants another layout, one in that
** layout with the reorder between them (to: plain -> primitive's; else back). */
typedef struct arg {
    dnnl_memory_t user, prim;
    dnnl_primitive_t reorder;
} arg;

static arg make_arg(const dnnl_memory_desc_t *plain, const dnnl_memory_desc_t *want, float *data, bool to) {
    arg a = { 0 };
    CHECK(dnnl_memory_create(&a.user, plain, eng, data));
    if (dnnl_memory_desc_equal(plain, want)) {
        a.prim = a.user;
        return a;
    }
    CHECK(dnnl_memory_create(&a.prim, want, eng, DNNL_MEMORY_ALLOCATE));
    dnnl_primitive_desc_t rpd;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, to ? plain : want, eng, to ? want : plain, eng, NULL));
    CHECK(dnnl_primitive_create(&a.reorder, rpd));
    dnnl_primitive_desc_destroy(rpd);
    return a;
}

static bool skip_reorders;     /* the primitives alone (their results then in oneDNN's layouts) */

static void run_reorder(const arg *a, bool to) {
    if (!a->reorder || skip_reorders) return;
    dnnl_exec_arg_t args[2] = { { DNNL_ARG_FROM, to ? a->user : a->prim }, { DNNL_ARG_TO, to ? a->prim : a->user } };
    CHECK(dnnl_primitive_execute(a->reorder, strm, 2, args));
}

static void free_arg(arg *a) {
    if (a->reorder) {
        dnnl_primitive_destroy(a->reorder);
        dnnl_memory_destroy(a->prim);
    }
    dnnl_memory_destroy(a->user);
}

static double time_dnnl(const conv_shape *l, bool any, int reps, rt_rng *r) {
    int OH = rt_conv_out_size(l->H, l->K, l->stride, l->pad, 1);
    dnnl_dims_t xd = { B, l->C, l->H, l->H }, wd = { l->O, l->C, l->K, l->K }, yd = { B, l->O, OH, OH };
    dnnl_dims_t st = { l->stride, l->stride }, pd = { l->pad, l->pad };
    dnnl_memory_desc_t xm, wm, ym, xa, wa, ya;
    CHECK(dnnl_memory_desc_init_by_tag(&xm, 4, xd, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&wm, 4, wd, dnnl_f32, dnnl_oihw));
    CHECK(dnnl_memory_desc_init_by_tag(&ym, 4, yd, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&xa, 4, xd, dnnl_f32, any ? dnnl_format_tag_any : dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&wa, 4, wd, dnnl_f32, any ? dnnl_format_tag_any : dnnl_oihw));
    CHECK(dnnl_memory_desc_init_by_tag(&ya, 4, yd, dnnl_f32, any ? dnnl_format_tag_any : dnnl_nchw));
    dnnl_convolution_desc_t fd, bd, wdsc;
    CHECK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &xa, &wa, NULL,
                                             &ya, st, pd, pd));
    CHECK(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &xa, &wa, &ya, st, pd, pd));
    CHECK(dnnl_convolution_backward_weights_desc_init(&wdsc, dnnl_convolution_direct, &xa, &wa, NULL, &ya, st, pd,
                                                      pd));
    dnnl_primitive_desc_t fpd, bpd, wpd;
    CHECK(dnnl_primitive_desc_create(&fpd, &fd, NULL, eng, NULL));
    CHECK(dnnl_primitive_desc_create(&bpd, &bd, NULL, eng, fpd));
    CHECK(dnnl_primitive_desc_create(&wpd, &wdsc, NULL, eng, fpd));
    dnnl_primitive_t fp, bp, wp;
    CHECK(dnnl_primitive_create(&fp, fpd));
    CHECK(dnnl_primitive_create(&bp, bpd));
    CHECK(dnnl_primitive_create(&wp, wpd));
    const char *impl = NULL;
    CHECK(dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &impl));
    if (!skip_reorders) printf("    (%s: forward %s", any ? "any" : "nchw", impl);
    CHECK(dnnl_primitive_desc_query(wpd, dnnl_query_impl_info_str, 0, &impl));
    if (!skip_reorders) printf(", dW %s", impl);
    CHECK(dnnl_primitive_desc_query(bpd, dnnl_query_impl_info_str, 0, &impl));
    if (!skip_reorders) printf(", dx %s)\n", impl);

    float *x = roof_randf(r, (size_t)B * l->C * l->H * l->H), *w = roof_randf(r, (size_t)l->O * l->C * l->K * l->K);
    float *y = rt_xfloats((size_t)B * l->O * OH * OH), *dy = roof_randf(r, (size_t)B * l->O * OH * OH);
    float *dx = rt_xfloats((size_t)B * l->C * l->H * l->H), *dw = rt_xfloats((size_t)l->O * l->C * l->K * l->K);
    /* The layouts each primitive chose (forward and backward agree through the hint, but dW's
    ** src and diff_dst may differ from forward's). */
    arg fx = make_arg(&xm, dnnl_primitive_desc_query_md(fpd, dnnl_query_src_md, 0), x, true);
    arg fw = make_arg(&wm, dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0), w, true);
    arg fy = make_arg(&ym, dnnl_primitive_desc_query_md(fpd, dnnl_query_dst_md, 0), y, false);
    arg wx = make_arg(&xm, dnnl_primitive_desc_query_md(wpd, dnnl_query_src_md, 0), x, true);
    arg wdy = make_arg(&ym, dnnl_primitive_desc_query_md(wpd, dnnl_query_diff_dst_md, 0), dy, true);
    arg wdw = make_arg(&wm, dnnl_primitive_desc_query_md(wpd, dnnl_query_diff_weights_md, 0), dw, false);
    arg bdy = make_arg(&ym, dnnl_primitive_desc_query_md(bpd, dnnl_query_diff_dst_md, 0), dy, true);
    arg bw = make_arg(&wm, dnnl_primitive_desc_query_md(bpd, dnnl_query_weights_md, 0), w, true);
    arg bdx = make_arg(&xm, dnnl_primitive_desc_query_md(bpd, dnnl_query_diff_src_md, 0), dx, false);
    double best = 1e30;
    for (int i = 0; i < reps + 2; i++) {
        double t0 = rt_now_s();
        run_reorder(&fx, true);
        run_reorder(&fw, true);
        dnnl_exec_arg_t fa[3] = { { DNNL_ARG_SRC, fx.prim }, { DNNL_ARG_WEIGHTS, fw.prim }, { DNNL_ARG_DST, fy.prim } };
        CHECK(dnnl_primitive_execute(fp, strm, 3, fa));
        run_reorder(&fy, false);
        run_reorder(&wx, true);
        run_reorder(&wdy, true);
        dnnl_exec_arg_t wa3[3] = { { DNNL_ARG_SRC, wx.prim }, { DNNL_ARG_DIFF_DST, wdy.prim },
                                   { DNNL_ARG_DIFF_WEIGHTS, wdw.prim } };
        CHECK(dnnl_primitive_execute(wp, strm, 3, wa3));
        run_reorder(&wdw, false);
        if (l->dx) {
            run_reorder(&bdy, true);
            run_reorder(&bw, true);
            dnnl_exec_arg_t ba[3] = { { DNNL_ARG_DIFF_DST, bdy.prim }, { DNNL_ARG_WEIGHTS, bw.prim },
                                      { DNNL_ARG_DIFF_SRC, bdx.prim } };
            CHECK(dnnl_primitive_execute(bp, strm, 3, ba));
            run_reorder(&bdx, false);
        }
        CHECK(dnnl_stream_wait(strm));
        double t = rt_now_s() - t0;
        if (i >= 2 && t < best) best = t;
    }
    arg *all[] = { &fx, &fw, &fy, &wx, &wdy, &wdw, &bdy, &bw, &bdx };
    for (int i = 0; i < 9; i++) free_arg(all[i]);
    dnnl_primitive_destroy(fp);
    dnnl_primitive_destroy(bp);
    dnnl_primitive_destroy(wp);
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bpd);
    dnnl_primitive_desc_destroy(wpd);
    free(x);
    free(w);
    free(y);
    free(dy);
    free(dx);
    free(dw);
    return best;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    const dnnl_version_t *v = dnnl_version();
    printf("conv_dnnl_check: ResNet-20's eight convolutions, batch %d, forward + backward, best of %d\n", B, reps);
    printf("oneDNN %d.%d.%d (cpu runtime %u, isa %s); ", v->major, v->minor, v->patch, v->cpu_runtime,
           getenv("ONEDNN_MAX_CPU_ISA") ? getenv("ONEDNN_MAX_CPU_ISA") : "the CPU's best");
    roof_print_blas("rt_gemm");
    printf("OMP_NUM_THREADS=%s\n", getenv("OMP_NUM_THREADS") ? getenv("OMP_NUM_THREADS") : "(unset)");
    CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
    rt_rng r;
    rt_rng_seed(&r, 1);
    double tl = 0, tn = 0, ta = 0, tp = 0;
    printf("%-22s %12s %12s %12s %12s %9s %9s %9s\n", "layer (batch 128)", "lowering ms", "dnnl nchw", "dnnl any",
           "any, no reo", "low/nchw", "low/any", "low/noreo");
    for (int i = 0; i < NCONV; i++) {
        const conv_shape *l = &resnet20_convs[i].s;
        printf("%s\n", resnet20_convs[i].what);
        double a = conv_time_lowering(&r, l, B, reps);
        double b = time_dnnl(l, false, reps, &r), c = time_dnnl(l, true, reps, &r);
        skip_reorders = true;
        double d = time_dnnl(l, true, reps, &r);
        skip_reorders = false;
        tl += a;
        tn += b;
        ta += c;
        tp += d;
        printf("%-22s %12.2f %12.2f %12.2f %12.2f %9.2f %9.2f %9.2f\n", "", a * 1e3, b * 1e3, c * 1e3, d * 1e3, a / b,
               a / c, a / d);
    }
    printf("%-22s %12.2f %12.2f %12.2f %12.2f %9.2f %9.2f %9.2f\n", "all eight", tl * 1e3, tn * 1e3, ta * 1e3,
           tp * 1e3, tl / tn, tl / ta, tl / tp);
    dnnl_stream_destroy(strm);
    dnnl_engine_destroy(eng);
    return 0;
}
