// rt_op_conv.c: 2-D convolution (and its transpose) by im2col + rt_gemm, or by oneDNN
// (rt_conv_dnnl.c), and pooling; NCHW.
#include "rt_impl.h"
#include "rt_blas.h"
#include "rt_conv_dnnl.h"
#include "rt_pool.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- the backend ----

static int backend = -1;        /* rt_conv_backend, or -1 before VIB_CONV is read */

bool rt_conv_have_dnnl(void) {
#ifdef VIB_HAVE_DNNL
    return true;
#else
    return false;
#endif
}

const char *rt_conv_backend_name(rt_conv_backend b) { return b == RT_CONV_DNNL ? "dnnl" : "lowering"; }

bool rt_conv_backend_parse(const char *name, rt_conv_backend *b) {
    if (!strcmp(name, "lowering")) *b = RT_CONV_LOWERING;
    else if (!strcmp(name, "dnnl")) *b = RT_CONV_DNNL;
    else return false;
    return true;
}

bool rt_conv_set_backend(rt_conv_backend b) {
    if (b == RT_CONV_DNNL && !rt_conv_have_dnnl()) return false;
    backend = (int)b;
    return true;
}

rt_conv_backend rt_conv_get_backend(void) {
    if (backend >= 0) return (rt_conv_backend)backend;
    const char *env = getenv("VIB_CONV");
    rt_conv_backend b = rt_conv_have_dnnl() ? RT_CONV_DNNL : RT_CONV_LOWERING;
    if (env && *env && (!rt_conv_backend_parse(env, &b) || !rt_conv_set_backend(b))) {
        fflush(stdout);
        fprintf(stderr, "vibrun: VIB_CONV=%s: %s\n", env,
                rt_conv_have_dnnl() ? "expected lowering or dnnl"
                                    : "expected lowering (this build has no oneDNN: configure with -DVIB_DNNL=ON and "
                                      "Debian's libdnnl-dev for dnnl)");
        exit(2);
    }
    backend = (int)b;
    return b;
}

const char *rt_conv_backend_describe(void) {
    static char buf[96];
    if (rt_conv_get_backend() == RT_CONV_LOWERING) return "lowering (im2col + OpenBLAS)";
#ifdef VIB_HAVE_DNNL
    snprintf(buf, sizeof buf, "dnnl (%s, %d thread%s)", rt_dnnl_version(), rt_blas_threads(),
             rt_blas_threads() > 1 ? "s" : "");
#endif
    return buf;
}

// ---- output sizes ----

int rt_conv_out_size(int in, int k, int stride, int pad, int dil) {
    RT_ASSERT(stride >= 1 && dil >= 1 && pad >= 0 && k >= 1);
    int span = in + 2 * pad - dil * (k - 1) - 1;
    return span < 0 ? 0 : span / stride + 1;
}

int rt_conv_transpose_out_size(int in, int k, int stride, int pad, int dil, int out_pad) {
    RT_ASSERT(stride >= 1 && dil >= 1 && pad >= 0 && k >= 1 && out_pad >= 0);
    return (in - 1) * stride - 2 * pad + dil * (k - 1) + out_pad + 1;
}

// ---- the lowering ----
//
// One plan serves both directions. The "image side" is the tensor that im2col reads and col2im
// writes (conv2d's x, conv_transpose2d's y); the "column side" is the one the GEMM reads or writes
// row by row (conv2d's y, conv_transpose2d's x). Per group g, the weights are one matrix W_g of
// CCg rows (column-side channels of the group) by K = ICg KH KW: conv2d's (O, C/groups, KH, KW)
// and conv_transpose2d's (C, O/groups, KH, KW) are both stored that way. The images go nb at a
// time (a run), so that a GEMM has at least CONV_MIN_COLS columns: col = im2col of the run's
// image-side group, K x nb P (image i's P columns at i P), cs = the run's column-side group as a
// CCg x nb P matrix (gathered from or scattered to NCHW; used in place when nb = 1). Three
// products cover every pass:
//   lower:  cs = W_g col                  (conv2d forward, conv_transpose2d dx)
//   lift:   im += col2im(W_g^T cs)        (conv2d dx, conv_transpose2d forward)
//   wgrad:  dW_g += cs col^T              (both weight gradients)

#define CONV_MIN_COLS 512

typedef struct conv_plan {
    int N, G;
    int IC, IH, IW;             /* image side: channels, height, width */
    int CC, OH, OW;             /* column side */
    int KH, KW, sh, sw, ph, pw, dh, dw;
    int ICg, CCg;
    int64_t K, P, IP;           /* ICg KH KW; OH OW; IH IW */
    bool direct;                /* 1x1, stride 1, no padding: a run of one image is its own col */
    int nb;                     /* images per run: depends on the shapes only */
    const void *dnnl;           /* conv2d on oneDNN: its rt_dnnl_conv; NULL: lowered */
} conv_plan;

static conv_plan plan_make(int N, int IC, int IH, int IW, int CC, int OH, int OW, int KH, int KW,
                           const rt_conv_geom *g) {
    conv_plan p = { N, g->groups, IC, IH, IW, CC, OH, OW, KH, KW, g->stride_h, g->stride_w,
                    g->pad_h, g->pad_w, g->dil_h, g->dil_w, IC / g->groups, CC / g->groups, 0, 0, 0, false, 1, NULL };
    p.K = (int64_t)p.ICg * KH * KW;
    p.P = (int64_t)OH * OW;
    p.IP = (int64_t)IH * IW;
    p.direct = KH == 1 && KW == 1 && p.sh == 1 && p.sw == 1 && p.ph == 0 && p.pw == 0 && OH == IH && OW == IW;
    int64_t nb = (CONV_MIN_COLS + p.P - 1) / p.P;
    p.nb = nb > N ? N : (int)nb;
    return p;
}

static int runs_of(const conv_plan *p) { return (p->N + p->nb - 1) / p->nb; }

/* The range [*lo, *hi) of output columns ow whose input column iw0 + ow * s lies in [0, W). */
static void col_range(int iw0, int s, int W, int OW, int *lo, int *hi) {
    int a = iw0 < 0 ? (-iw0 + s - 1) / s : 0;
    int b = W - iw0 > 0 ? (W - iw0 + s - 1) / s : 0;
    if (a > OW) a = OW;
    if (b > OW) b = OW;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

/* P columns of col (rows ld apart) from one group of one image, im (ICg, IH, IW); zeros outside. */
static void im2col(const conv_plan *p, const float *im, float *col, int64_t ld) {
    int64_t r = 0;
    for (int c = 0; c < p->ICg; c++) {
        const float *src = im + (size_t)c * p->IP;
        for (int kh = 0; kh < p->KH; kh++)
            for (int kw = 0; kw < p->KW; kw++, r++) {
                int iw0 = kw * p->dw - p->pw, lo, hi;
                col_range(iw0, p->sw, p->IW, p->OW, &lo, &hi);
                float *dst = col + (size_t)r * ld;
                for (int oh = 0; oh < p->OH; oh++, dst += p->OW) {
                    int ih = oh * p->sh - p->ph + kh * p->dh;
                    if (ih < 0 || ih >= p->IH) {
                        memset(dst, 0, (size_t)p->OW * sizeof(float));
                        continue;
                    }
                    const float *row = src + (size_t)ih * p->IW + iw0;
                    for (int ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
                    if (p->sw == 1)
                        memcpy(dst + lo, row + lo, (size_t)(hi - lo) * sizeof(float));
                    else
                        for (int ow = lo; ow < hi; ow++) dst[ow] = row[(size_t)ow * p->sw];
                    for (int ow = hi; ow < p->OW; ow++) dst[ow] = 0.0f;
                }
            }
    }
}

/* im (ICg, IH, IW) += the P columns of col (rows ld apart) put back where im2col took them. */
static void col2im(const conv_plan *p, const float *col, int64_t ld, float *im) {
    int64_t r = 0;
    for (int c = 0; c < p->ICg; c++) {
        float *dst = im + (size_t)c * p->IP;
        for (int kh = 0; kh < p->KH; kh++)
            for (int kw = 0; kw < p->KW; kw++, r++) {
                int iw0 = kw * p->dw - p->pw, lo, hi;
                col_range(iw0, p->sw, p->IW, p->OW, &lo, &hi);
                const float *s = col + (size_t)r * ld;
                for (int oh = 0; oh < p->OH; oh++, s += p->OW) {
                    int ih = oh * p->sh - p->ph + kh * p->dh;
                    if (ih < 0 || ih >= p->IH) continue;
                    float *row = dst + (size_t)ih * p->IW + iw0;
                    if (p->sw == 1)
                        for (int ow = lo; ow < hi; ow++) row[ow] += s[ow];
                    else
                        for (int ow = lo; ow < hi; ow++) row[(size_t)ow * p->sw] += s[ow];
                }
            }
    }
}

static float *img_group(const conv_plan *p, const float *im, int n, int g) {
    return (float *)im + ((size_t)n * p->IC + (size_t)g * p->ICg) * p->IP;
}
static float *cs_group(const conv_plan *p, const float *cs, int n, int g) {
    return (float *)cs + ((size_t)n * p->CC + (size_t)g * p->CCg) * p->P;
}
static const float *w_group(const conv_plan *p, const float *w, int g) {
    return w + (size_t)g * p->CCg * p->K;
}

/* The col matrix (K x nb P) of images n0 .. n0 + nb - 1, group g of the image side im. */
static const float *run_cols(const conv_plan *p, const float *im, int n0, int nb, int g, float *col) {
    if (p->direct && nb == 1) return img_group(p, im, n0, g);
    for (int i = 0; i < nb; i++) im2col(p, img_group(p, im, n0 + i, g), col + (size_t)i * p->P, nb * p->P);
    return col;
}

/* The run's column-side group of cs as a CCg x nb P matrix (gathered into buf when nb > 1). */
static const float *run_cs(const conv_plan *p, const float *cs, int n0, int nb, int g, float *buf) {
    if (nb == 1) return cs_group(p, cs, n0, g);
    for (int i = 0; i < nb; i++)
        for (int o = 0; o < p->CCg; o++)
            memcpy(buf + (size_t)o * nb * p->P + (size_t)i * p->P, cs_group(p, cs, n0 + i, g) + (size_t)o * p->P,
                   (size_t)p->P * sizeof(float));
    return buf;
}

/* cs's run (group g) = W_g col, or += with acc; bias (the group's CCg values) added when not acc. */
static void lower(const conv_plan *p, int n0, int nb, int g, const float *w, const float *col,
                  const float *bias, bool acc, float *cs, float *buf) {
    int64_t L = nb * p->P;
    if (nb == 1) {
        float *y = cs_group(p, cs, n0, g);
        if (!acc && bias)
            for (int o = 0; o < p->CCg; o++)
                for (int64_t i = 0; i < p->P; i++) y[(size_t)o * p->P + i] = bias[o];
        rt_gemm(false, false, p->CCg, (int)L, (int)p->K, 1.0f, w_group(p, w, g), (int)p->K, col, (int)L,
                acc || bias ? 1.0f : 0.0f, y, (int)p->P);
        return;
    }
    rt_gemm(false, false, p->CCg, (int)L, (int)p->K, 1.0f, w_group(p, w, g), (int)p->K, col, (int)L, 0.0f, buf, (int)L);
    for (int i = 0; i < nb; i++)
        for (int o = 0; o < p->CCg; o++) {
            float *y = cs_group(p, cs, n0 + i, g) + (size_t)o * p->P;
            const float *s = buf + (size_t)o * L + (size_t)i * p->P;
            float b = bias ? bias[o] : 0.0f;
            if (acc)
                for (int64_t k = 0; k < p->P; k++) y[k] += s[k];
            else
                for (int64_t k = 0; k < p->P; k++) y[k] = s[k] + b;
        }
}

/* im's run (group g) += col2im(W_g^T csm), csm the run's CCg x nb P matrix; col: K x nb P work. */
static void lift(const conv_plan *p, int n0, int nb, int g, const float *w, const float *csm, float *im, float *col) {
    int64_t L = nb * p->P;
    if (p->direct && nb == 1) {
        rt_gemm(true, false, (int)p->K, (int)L, p->CCg, 1.0f, w_group(p, w, g), (int)p->K, csm, (int)L, 1.0f,
                img_group(p, im, n0, g), (int)L);
        return;
    }
    rt_gemm(true, false, (int)p->K, (int)L, p->CCg, 1.0f, w_group(p, w, g), (int)p->K, csm, (int)L, 0.0f, col, (int)L);
    for (int i = 0; i < nb; i++) col2im(p, col + (size_t)i * p->P, L, img_group(p, im, n0 + i, g));
}

/* dW_g += csm col^T over the run */
static void wgrad(const conv_plan *p, int nb, int g, const float *csm, const float *col, float *dw) {
    int64_t L = nb * p->P;
    rt_gemm(false, true, p->CCg, (int)p->K, (int)L, 1.0f, csm, (int)L, col, (int)L, 1.0f,
            dw + (size_t)g * p->CCg * p->K, (int)p->K);
}

// ---- the parallel passes: runs (forward) or blocks of runs (backward) on rt_blas_pool ----
//
// Each chunk takes a free lane (its work buffers) for as long as it runs; at most one chunk per
// thread runs at once, so one lane per thread suffices, and which lane a chunk gets changes no
// result. Weight and bias gradients go to one partial per block of runs, summed in block order;
// runs and blocks depend on the shapes only, so the bytes do not depend on the thread count.

enum { PASS_CONV_FWD, PASS_CONVT_FWD, PASS_CONV_BWD, PASS_CONVT_BWD };

typedef struct conv_job {
    const conv_plan *p;
    int pass;
    const float *x, *w, *b, *dy;
    float *y, *dx;
    float *dwp, *dbp;           /* per-block partials (backward), or NULL when not needed */
    bool dx_fresh;              /* dx is unzeroed: each run zeroes its images first */
    int64_t dwn;                /* floats in one dW partial */
    int nblocks;
    float *bufs;
    size_t colsize, bufsize;    /* floats per lane: col, then the gathered column side */
    int lanes;
    atomic_int *busy;
} conv_job;

/* db[r] += the sum of row r of dy (count rows of len), in double */
static void bias_grad(const float *dy, float *db, int count, int64_t len) {
    for (int r = 0; r < count; r++) {
        double s = 0.0;
        for (int64_t i = 0; i < len; i++) s += (double)dy[(size_t)r * len + i];
        db[r] += (float)s;
    }
}

/* Runs [*lo, *hi) of backward block blk. */
static void block_range(const conv_job *j, int blk, int *lo, int *hi) {
    int64_t R = runs_of(j->p);
    *lo = (int)(R * blk / j->nblocks);
    *hi = (int)(R * (blk + 1) / j->nblocks);
}

static void conv_run_one(conv_job *j, int run, float *col, float *buf, float *dwp, float *dbp) {
    const conv_plan *p = j->p;
    int n0 = run * p->nb, nb = p->N - n0 < p->nb ? p->N - n0 : p->nb;
    if (j->dx && j->dx_fresh) {         /* dx's images of this run, zeroed while in cache */
        size_t per = j->pass == PASS_CONV_BWD ? (size_t)(p->IC * p->IP) : (size_t)(p->CC * p->P);
        memset(j->dx + (size_t)n0 * per, 0, (size_t)nb * per * sizeof(float));
    }
    for (int g = 0; g < p->G; g++) {
        const float *bias = j->b ? j->b + (size_t)g * (j->pass == PASS_CONVT_FWD ? p->ICg : p->CCg) : NULL;
        switch (j->pass) {
        case PASS_CONV_FWD:             /* y = conv(x): column side y, image side x */
            lower(p, n0, nb, g, j->w, run_cols(p, j->x, n0, nb, g, col), bias, false, j->y, buf);
            break;
        case PASS_CONVT_FWD:            /* y = convT(x): column side x, image side y (bias set first) */
            lift(p, n0, nb, g, j->w, run_cs(p, j->x, n0, nb, g, buf), j->y, col);
            break;
        case PASS_CONV_BWD: {           /* image side x, column side dy */
            const float *dym = run_cs(p, j->dy, n0, nb, g, buf);
            if (dwp) wgrad(p, nb, g, dym, run_cols(p, j->x, n0, nb, g, col), dwp);
            if (j->dx) lift(p, n0, nb, g, j->w, dym, j->dx, col);
            break;
        }
        default: {                      /* PASS_CONVT_BWD: image side dy, column side x */
            const float *cm = run_cols(p, j->dy, n0, nb, g, col);
            if (dwp) wgrad(p, nb, g, run_cs(p, j->x, n0, nb, g, buf), cm, dwp);
            if (j->dx) lower(p, n0, nb, g, j->w, cm, NULL, true, j->dx, buf);
        }
        }
    }
    if (dbp) {
        bool convt = j->pass == PASS_CONVT_BWD;
        int bc = convt ? p->IC : p->CC;
        int64_t len = convt ? p->IP : p->P;
        for (int n = n0; n < n0 + nb; n++) bias_grad(j->dy + (size_t)n * bc * len, dbp, bc, len);
    }
}

static void conv_chunk(void *arg, size_t lo, size_t hi) {
    conv_job *j = arg;
    int lane = rt_pool_lane_take(j->busy, j->lanes);
    /* no lane buffers at all for a direct 1x1 convolution of single-image runs */
    float *col = j->bufs ? j->bufs + (size_t)lane * (j->colsize + j->bufsize) : NULL;
    float *buf = col ? col + j->colsize : NULL;
    for (size_t k = lo; k < hi; k++) {
        if (j->pass == PASS_CONV_FWD || j->pass == PASS_CONVT_FWD) {
            if (j->pass == PASS_CONVT_FWD) {    /* y's images of this run start as the bias */
                const conv_plan *p = j->p;
                int n0 = (int)k * p->nb, n1 = n0 + p->nb < p->N ? n0 + p->nb : p->N;
                for (int n = n0; n < n1; n++)
                    for (int o = 0; o < p->IC; o++)
                        for (int64_t i = 0; i < p->IP; i++)
                            j->y[((size_t)n * p->IC + o) * p->IP + i] = j->b ? j->b[o] : 0.0f;
            }
            conv_run_one(j, (int)k, col, buf, NULL, NULL);
            continue;
        }
        int r0, r1;
        block_range(j, (int)k, &r0, &r1);
        float *dwp = j->dwp ? j->dwp + k * (size_t)j->dwn : NULL;
        int bc = j->pass == PASS_CONVT_BWD ? j->p->IC : j->p->CC;
        float *dbp = j->dbp ? j->dbp + k * (size_t)bc : NULL;
        for (int r = r0; r < r1; r++) conv_run_one(j, r, col, buf, dwp, dbp);
    }
    atomic_store(&j->busy[lane], 0);
}

#define SUM_CHUNK 4096

/* dw (in j->y) += the blocks' dW partials, for elements [lo, hi) */
static void sum_partials(void *arg, size_t lo, size_t hi) {
    const conv_job *j = arg;
    for (size_t i = lo; i < hi; i++) {
        float s = 0.0f;
        for (int k = 0; k < j->nblocks; k++) s += j->dwp[(size_t)k * j->dwn + i];
        j->y[i] += s;
    }
}

/* Runs a pass over n chunks with the lanes and partials in the step arena, rolled back after. */
static void conv_run(rt_ctx *c, conv_job *j, size_t n, float *dw, float *db) {
    rt_arena_mark mark = rt_arena_get_mark(&c->step);
    rt_pool *pool = rt_blas_pool();
    const conv_plan *p = j->p;
    j->lanes = pool && !rt_pool_in_job() ? pool->threads : 1;
    int64_t L = (int64_t)p->nb * p->P;
    j->colsize = p->direct && p->nb == 1 ? 0 : (size_t)(p->K * L);
    j->bufsize = p->nb == 1 ? 0 : (size_t)(p->CCg * L);
    size_t lane = j->colsize + j->bufsize;
    j->bufs = lane ? rt_arena_alloc_raw(&c->step, (size_t)j->lanes * lane * sizeof(float)) : NULL;
    j->busy = rt_arena_alloc_raw(&c->step, (size_t)j->lanes * sizeof *j->busy);
    for (int i = 0; i < j->lanes; i++) atomic_init(&j->busy[i], 0);
    int bc = j->pass == PASS_CONVT_BWD ? p->IC : p->CC;
    if (dw) j->dwp = rt_arena_alloc(&c->step, (size_t)j->nblocks * (size_t)j->dwn * sizeof(float));
    if (db) j->dbp = rt_arena_alloc(&c->step, (size_t)j->nblocks * (size_t)bc * sizeof(float));
    rt_pool_for(pool, n, 1, conv_chunk, j);
    /* the partials, added in block order (each element on one thread) */
    if (dw) {
        j->y = dw;
        rt_pool_for(pool, (size_t)j->dwn, SUM_CHUNK, sum_partials, j);
    }
    for (int i = 0; db && i < bc; i++) {
        float s = 0.0f;
        for (int k = 0; k < j->nblocks; k++) s += j->dbp[(size_t)k * bc + i];
        db[i] += s;
    }
    rt_arena_rollback(&c->step, mark);
}

static void check_geom(const rt_conv_geom *g, bool transposed) {
    RT_ASSERT(g->stride_h >= 1 && g->stride_w >= 1 && g->dil_h >= 1 && g->dil_w >= 1);
    RT_ASSERT(g->pad_h >= 0 && g->pad_w >= 0 && g->groups >= 1);
    if (transposed)
        RT_ASSERT(g->out_pad_h >= 0 && g->out_pad_w >= 0 && g->out_pad_h < g->stride_h && g->out_pad_w < g->stride_w);
    else
        RT_ASSERT(g->out_pad_h == 0 && g->out_pad_w == 0);
}

static int conv_blocks(const conv_plan *p) {
    int R = runs_of(p);
    return R < RT_CONV_BLOCKS ? R : RT_CONV_BLOCKS;
}

// ---- conv2d ----

/* The node of a convolution or its transpose, of shape (N, O, OH, OW), given its plan (kept in the
** node for backward), and its forward pass. */
static rt_tensor *conv_forward(rt_ctx *c, int op, int pass, const conv_plan *plan, const int shape[4], rt_tensor *x,
                               rt_tensor *w, rt_tensor *b) {
    rt_tensor *y = rt_node_new(c, op, 4, shape, x, w, b);
    conv_plan *p = rt_arena_alloc_raw(&c->step, sizeof *p);
    *p = *plan;
    y->aux = p;
#ifdef VIB_HAVE_DNNL
    if (p->dnnl) {
        rt_dnnl_conv_forward(c, p->dnnl, x->data, w->data, b ? b->data : NULL, y->data);
        return y;
    }
#endif
    conv_job j = { .p = p, .pass = pass, .x = x->data, .w = w->data, .b = b ? b->data : NULL, .y = y->data,
                   .nblocks = 1 };
    conv_run(c, &j, (size_t)runs_of(p), NULL, NULL);
    return y;
}

/* Backward of either: dx (stored when it is the first term), dW and db by blocks of runs. */
static void conv_backward(rt_ctx *c, rt_tensor *y, int pass) {
    rt_tensor *x = y->src[0], *w = y->src[1], *b = y->src[2];
    const conv_plan *p = y->aux;
    bool fresh;
    float *dx = rt_src_grad_once(c, x, &fresh), *dw = rt_src_grad(c, w), *db = rt_src_grad(c, b);
#ifdef VIB_HAVE_DNNL
    if (p->dnnl) {
        rt_dnnl_conv_backward(c, p->dnnl, x->data, w->data, y->grad, dx, fresh, dw, db);
        return;
    }
#endif
    conv_job j = { .p = p, .pass = pass, .x = x->data, .w = w->data, .dy = y->grad, .dx = dx, .dx_fresh = fresh,
                   .dwn = w->n, .nblocks = conv_blocks(p) };
    conv_run(c, &j, (size_t)j.nblocks, dw, db);
}

rt_tensor *rt_conv2d(rt_ctx *c, rt_tensor *x, rt_tensor *w, rt_tensor *b, const rt_conv_geom *g) {
    check_geom(g, false);
    RT_ASSERT(x->ndim == 4 && w->ndim == 4);
    int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int O = w->shape[0], KH = w->shape[2], KW = w->shape[3];
    RT_ASSERT(C % g->groups == 0 && O % g->groups == 0 && w->shape[1] == C / g->groups);
    RT_ASSERT(!b || b->n == O);
    int OH = rt_conv_out_size(H, KH, g->stride_h, g->pad_h, g->dil_h);
    int OW = rt_conv_out_size(W, KW, g->stride_w, g->pad_w, g->dil_w);
    RT_ASSERT(OH >= 1 && OW >= 1);
    conv_plan p = plan_make(N, C, H, W, O, OH, OW, KH, KW, g);
#ifdef VIB_HAVE_DNNL
    if (rt_conv_get_backend() == RT_CONV_DNNL) {
        rt_dnnl_shape s = { N, C, H, W, O, OH, OW, KH, KW, *g, b != NULL };
        p.dnnl = rt_dnnl_conv_get(&s);
    }
#endif
    return conv_forward(c, RT_OP_CONV2D, PASS_CONV_FWD, &p, (int[]){ N, O, OH, OW }, x, w, b);
}

void rt_conv2d_bwd(rt_ctx *c, rt_tensor *y) { conv_backward(c, y, PASS_CONV_BWD); }

// ---- conv_transpose2d: the adjoint of conv2d ----

rt_tensor *rt_conv_transpose2d(rt_ctx *c, rt_tensor *x, rt_tensor *w, rt_tensor *b, const rt_conv_geom *g) {
    check_geom(g, true);
    RT_ASSERT(x->ndim == 4 && w->ndim == 4);
    int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int O = w->shape[1] * g->groups, KH = w->shape[2], KW = w->shape[3];
    RT_ASSERT(C % g->groups == 0 && w->shape[0] == C);
    RT_ASSERT(!b || b->n == O);
    int OH = rt_conv_transpose_out_size(H, KH, g->stride_h, g->pad_h, g->dil_h, g->out_pad_h);
    int OW = rt_conv_transpose_out_size(W, KW, g->stride_w, g->pad_w, g->dil_w, g->out_pad_w);
    RT_ASSERT(OH >= 1 && OW >= 1);
    /* conv2d from y (O, OH, OW) to x (C, H, W) must map onto x exactly */
    RT_ASSERT(rt_conv_out_size(OH, KH, g->stride_h, g->pad_h, g->dil_h) == H);
    RT_ASSERT(rt_conv_out_size(OW, KW, g->stride_w, g->pad_w, g->dil_w) == W);
    conv_plan p = plan_make(N, O, OH, OW, C, H, W, KH, KW, g);
    return conv_forward(c, RT_OP_CONV_TRANSPOSE2D, PASS_CONVT_FWD, &p, (int[]){ N, O, OH, OW }, x, w, b);
}

void rt_conv_transpose2d_bwd(rt_ctx *c, rt_tensor *y) { conv_backward(c, y, PASS_CONVT_BWD); }

// ---- pooling: planes (n, c) in parallel, each plane on one thread ----

typedef struct pool_job {
    const float *x, *dy;
    float *y, *dx;
    int32_t *arg;               /* max: the index in the plane of each output's maximum */
    int H, W, OH, OW, kh, kw, sh, sw, ph, pw;
    bool max;
} pool_job;

#define POOL_CHUNK_ELEMS (1 << 14)  /* input elements per chunk of planes */

static size_t plane_chunk(int64_t plane) {
    int64_t k = POOL_CHUNK_ELEMS / (plane > 0 ? plane : 1);
    return k < 1 ? 1 : (size_t)k;
}

/* The window of output (i, j) clipped to the input: rows [*h0, *h1), cols [*w0, *w1). */
static void pool_window(const pool_job *j, int i, int k, int *h0, int *h1, int *w0, int *w1) {
    int a = i * j->sh - j->ph, b = k * j->sw - j->pw;
    *h0 = a < 0 ? 0 : a;
    *h1 = a + j->kh < j->H ? a + j->kh : j->H;
    *w0 = b < 0 ? 0 : b;
    *w1 = b + j->kw < j->W ? b + j->kw : j->W;
}

static void pool_fwd_chunk(void *arg, size_t lo, size_t hi) {
    const pool_job *j = arg;
    int64_t ip = (int64_t)j->H * j->W, op = (int64_t)j->OH * j->OW;
    for (size_t pl = lo; pl < hi; pl++) {
        const float *x = j->x + pl * ip;
        float *y = j->y + pl * op;
        int32_t *am = j->max ? j->arg + pl * op : NULL;
        for (int i = 0; i < j->OH; i++)
            for (int k = 0; k < j->OW; k++) {
                int h0, h1, w0, w1;
                pool_window(j, i, k, &h0, &h1, &w0, &w1);
                if (j->max) {
                    int best = h0 * j->W + w0;
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++)
                            if (x[h * j->W + w] > x[best]) best = h * j->W + w;   /* strict: first max wins */
                    y[i * j->OW + k] = x[best];
                    am[i * j->OW + k] = best;
                } else {
                    float s = 0.0f;
                    for (int h = h0; h < h1; h++)
                        for (int w = w0; w < w1; w++) s += x[h * j->W + w];
                    y[i * j->OW + k] = s / (float)((h1 - h0) * (w1 - w0));
                }
            }
    }
}

static void pool_bwd_chunk(void *arg, size_t lo, size_t hi) {
    const pool_job *j = arg;
    int64_t ip = (int64_t)j->H * j->W, op = (int64_t)j->OH * j->OW;
    for (size_t pl = lo; pl < hi; pl++) {
        float *dx = j->dx + pl * ip;
        const float *dy = j->dy + pl * op;
        if (j->max) {
            const int32_t *am = j->arg + pl * op;
            for (int64_t o = 0; o < op; o++) dx[am[o]] += dy[o];
            continue;
        }
        for (int i = 0; i < j->OH; i++)
            for (int k = 0; k < j->OW; k++) {
                int h0, h1, w0, w1;
                pool_window(j, i, k, &h0, &h1, &w0, &w1);
                float d = dy[i * j->OW + k] / (float)((h1 - h0) * (w1 - w0));
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) dx[h * j->W + w] += d;
            }
    }
}

static rt_tensor *pool2d(rt_ctx *c, int op, rt_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw) {
    RT_ASSERT(x->ndim == 4 && kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1);
    RT_ASSERT(ph >= 0 && pw >= 0 && ph < kh && pw < kw);    /* every window meets the input */
    int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int OH = rt_conv_out_size(H, kh, sh, ph, 1), OW = rt_conv_out_size(W, kw, sw, pw, 1);
    RT_ASSERT(OH >= 1 && OW >= 1);
    rt_tensor *y = rt_node_new(c, op, 4, (int[]){ N, C, OH, OW }, x, NULL, NULL);
    y->iparam[0] = kh; y->iparam[1] = kw; y->iparam[2] = sh; y->iparam[3] = sw;
    y->fparam[0] = (float)ph; y->fparam[1] = (float)pw;
    pool_job j = { .x = x->data, .y = y->data, .H = H, .W = W, .OH = OH, .OW = OW, .kh = kh, .kw = kw,
                   .sh = sh, .sw = sw, .ph = ph, .pw = pw, .max = op == RT_OP_MAXPOOL2D };
    if (j.max) y->aux = j.arg = rt_arena_alloc_raw(&c->step, (size_t)y->n * sizeof(int32_t));
    rt_pool_for(rt_blas_pool(), (size_t)N * C, plane_chunk((int64_t)H * W), pool_fwd_chunk, &j);
    return y;
}

static void pool2d_bwd(rt_ctx *c, rt_tensor *y) {
    rt_tensor *x = y->src[0];
    float *dx = rt_src_grad(c, x);
    if (!dx) return;
    pool_job j = { .dy = y->grad, .dx = dx, .arg = y->aux, .H = x->shape[2], .W = x->shape[3],
                   .OH = y->shape[2], .OW = y->shape[3], .kh = y->iparam[0], .kw = y->iparam[1],
                   .sh = y->iparam[2], .sw = y->iparam[3], .ph = (int)y->fparam[0], .pw = (int)y->fparam[1],
                   .max = y->op == RT_OP_MAXPOOL2D };
    rt_pool_for(rt_blas_pool(), (size_t)x->shape[0] * x->shape[1], plane_chunk((int64_t)j.H * j.W),
                pool_bwd_chunk, &j);
}

rt_tensor *rt_maxpool2d(rt_ctx *c, rt_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw) {
    return pool2d(c, RT_OP_MAXPOOL2D, x, kh, kw, sh, sw, ph, pw);
}
rt_tensor *rt_avgpool2d(rt_ctx *c, rt_tensor *x, int kh, int kw, int sh, int sw, int ph, int pw) {
    return pool2d(c, RT_OP_AVGPOOL2D, x, kh, kw, sh, sw, ph, pw);
}
void rt_maxpool2d_bwd(rt_ctx *c, rt_tensor *y) { pool2d_bwd(c, y); }
void rt_avgpool2d_bwd(rt_ctx *c, rt_tensor *y) { pool2d_bwd(c, y); }

// ---- global average pooling: (N,C,H,W) -> (N,C) ----

rt_tensor *rt_global_avgpool(rt_ctx *c, rt_tensor *x) {
    RT_ASSERT(x->ndim == 4);
    int N = x->shape[0], C = x->shape[1];
    int64_t hw = (int64_t)x->shape[2] * x->shape[3];
    rt_tensor *y = rt_node_new(c, RT_OP_GLOBAL_AVGPOOL, 2, (int[]){ N, C }, x, NULL, NULL);
    for (int64_t pl = 0; pl < (int64_t)N * C; pl++) {
        const float *p = x->data + pl * hw;
        double s = 0.0;
        for (int64_t i = 0; i < hw; i++) s += (double)p[i];
        y->data[pl] = (float)(s / (double)hw);
    }
    return y;
}

void rt_global_avgpool_bwd(rt_ctx *c, rt_tensor *y) {
    rt_tensor *x = y->src[0];
    float *dx = rt_src_grad(c, x);
    if (!dx) return;
    int64_t hw = (int64_t)x->shape[2] * x->shape[3];
    for (int64_t pl = 0; pl < y->n; pl++) {
        float d = y->grad[pl] / (float)hw;
        for (int64_t i = 0; i < hw; i++) dx[pl * hw + i] += d;
    }
}
