// rt_conv_dnnl.c: rt_conv2d's oneDNN backend (rt_conv_dnnl.h): the batch in fixed blocks of images,
// the blocks in parallel on rt_blas_pool(), each one oneDNN call on one thread; primitives cached
// per block shape, on oneDNN's blocked layouts, with reorders from and to vibrun's NCHW / OIHW
// arrays; work space and scratchpad in the step arena. Built only with VIB_DNNL (CMakeLists.txt).
#include "rt_conv_dnnl.h"
#include "rt_blas.h"
#include "rt_pool.h"

#include <oneapi/dnnl/dnnl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if DNNL_CPU_THREADING_RUNTIME != DNNL_RUNTIME_OMP
#error "rt_conv_dnnl.c keeps oneDNN on one thread per call through OpenMP: this libdnnl uses another runtime"
#endif
/* libgomp's (omp.h); declared here so that no compiler's OpenMP mode is needed to build. */
void omp_set_num_threads(int n);

#define CHECK(f)                                                                                    \
    do {                                                                                            \
        dnnl_status_t s_ = (f);                                                                     \
        if (s_ != dnnl_success) RT_ABORT("oneDNN: %s failed (status %d)", #f, (int)s_);             \
    } while (0)
/* At creation: a refusal makes the shape fall back to the lowering. */
#define TRY(f)                                                                                      \
    do {                                                                                            \
        if ((f) != dnnl_success) goto refused;                                                      \
    } while (0)

static dnnl_engine_t engine;
static dnnl_stream_t stream;

// ---- primitives of one block shape ----

/* One argument of a primitive: vibrun's plain layout and the one the primitive wants; when they
** differ (or the result is added to the plain array) the primitive's copy has its own buffer of
** `bytes` and reorders go between them: to (an input), from (an output), add (an output added). */
typedef struct port {
    dnnl_memory_desc_t plain, want;
    dnnl_primitive_t to, from, add;
    size_t bytes;               /* 0: the primitive reads or writes the plain array itself */
} port;

enum { FX, FW, FY, BDY, BW, BDX, WX, WDY, WDW, NPORT };

/* The memory objects one thread uses with a block's primitives (a memory object holds one data
** handle: each thread sets its own). */
typedef struct lane_mem {
    dnnl_memory_t user[NPORT], prim[NPORT];     /* prim[i] == user[i] when port i has no copy */
    dnnl_memory_t scratch, b, db;
} lane_mem;

typedef struct block_prims {
    rt_dnnl_shape s;            /* N: the images of one block */
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    port port[NPORT];
    bool wdy_is_bdy;            /* both backwards want dy in the same layout: reordered once */
    size_t scratch;             /* the largest scratchpad of its primitives and reorders */
    dnnl_memory_desc_t scratch_md, bias_md;
    int nlanes;
    lane_mem *lanes;
} block_prims;

/* A convolution's plan: its batch in blocks of nb images (the last one nlast), shapes only. */
struct rt_dnnl_conv {
    rt_dnnl_shape s;
    int nb, nblocks, nlast;
    block_prims *full, *last;   /* last == full when nlast == nb */
    bool last_w_same[2];        /* the last block wants the weights as the full ones (forward, dx) */
};

static block_prims *prims_cache[RT_DNNL_MAX_SHAPES];
static rt_dnnl_conv *plan_cache[RT_DNNL_MAX_SHAPES];
static int nprims, nplans;
static long nforward;           /* rt_dnnl_conv_forward calls, for tests and benchmarks */

long rt_dnnl_conv_calls(void) { return nforward; }

static const dnnl_memory_desc_t *pd_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

static dnnl_primitive_attr_t make_attr(bool add) {
    dnnl_primitive_attr_t a;
    CHECK(dnnl_primitive_attr_create(&a));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user));
    if (add) {
        dnnl_post_ops_t po;
        CHECK(dnnl_post_ops_create(&po));
        CHECK(dnnl_post_ops_append_sum(po, 1.0f));
        CHECK(dnnl_primitive_attr_set_post_ops(a, po));
        dnnl_post_ops_destroy(po);
    }
    return a;
}

/* The primitive of pd; *scratch raised to its scratchpad's size. */
static dnnl_status_t prim_make(dnnl_primitive_t *p, const_dnnl_primitive_desc_t pd, size_t *scratch) {
    const dnnl_memory_desc_t *sm = pd_md(pd, dnnl_query_scratchpad_md);
    size_t n = sm ? dnnl_memory_desc_get_size(sm) : 0;
    if (n > *scratch) *scratch = n;
    return dnnl_primitive_create(p, pd);
}

static dnnl_status_t reorder_make(dnnl_primitive_t *p, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                  bool add, size_t *scratch) {
    dnnl_primitive_attr_t a = make_attr(add);
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, a);
    dnnl_primitive_attr_destroy(a);
    if (st != dnnl_success) return st;
    st = prim_make(p, pd, scratch);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

/* in: an input (reorder to); else an output (from, and add when it is added to the plain array). */
static dnnl_status_t port_make(port *p, const dnnl_memory_desc_t *plain, const dnnl_memory_desc_t *want, bool in,
                               bool add, size_t *scratch) {
    p->plain = *plain;
    p->want = *want;
    if (dnnl_memory_desc_equal(plain, want) && !add) return dnnl_success;
    p->bytes = dnnl_memory_desc_get_size(want);
    dnnl_status_t st;
    if (in) return reorder_make(&p->to, plain, want, false, scratch);
    if ((st = reorder_make(&p->from, want, plain, false, scratch)) != dnnl_success) return st;
    return add ? reorder_make(&p->add, want, plain, true, scratch) : dnnl_success;
}

static void lane_free(lane_mem *l) {
    for (int i = 0; i < NPORT; i++) {
        if (l->prim[i] && l->prim[i] != l->user[i]) dnnl_memory_destroy(l->prim[i]);
        if (l->user[i]) dnnl_memory_destroy(l->user[i]);
    }
    dnnl_memory_t rest[] = { l->scratch, l->b, l->db };
    for (int i = 0; i < 3; i++)
        if (rest[i]) dnnl_memory_destroy(rest[i]);
}

static void prims_free(block_prims *e) {
    dnnl_primitive_t all[3 + 3 * NPORT] = { e->fwd, e->bwd_data, e->bwd_weights };
    for (int i = 0; i < NPORT; i++) {
        all[3 + 3 * i] = e->port[i].to;
        all[4 + 3 * i] = e->port[i].from;
        all[5 + 3 * i] = e->port[i].add;
    }
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]) dnnl_primitive_destroy(all[i]);
    for (int i = 0; i < e->nlanes; i++) lane_free(&e->lanes[i]);
    free(e->lanes);
    free(e);
}

/* The primitives of block shape s, or NULL when oneDNN refuses one of them. */
static block_prims *prims_make(const rt_dnnl_shape *s) {
    const rt_conv_geom *g = &s->g;
    int G = g->groups;
    dnnl_dims_t xd = { s->N, s->C, s->H, s->W }, yd = { s->N, s->O, s->OH, s->OW }, bd = { s->O };
    dnnl_dims_t wg = { G, s->O / G, s->C / G, s->KH, s->KW }, w1 = { s->O, s->C, s->KH, s->KW };
    /* oneDNN counts dilation from 0; padding on the right as on the left: the output sizes then
    ** agree with rt_conv_out_size's floor (the same formula, integer division). */
    dnnl_dims_t st = { g->stride_h, g->stride_w }, dl = { g->dil_h - 1, g->dil_w - 1 }, pd = { g->pad_h, g->pad_w };
    dnnl_memory_desc_t xm, wm, ym, xa, wa, ya;
    block_prims *e = rt_xcalloc(1, sizeof *e);
    e->s = *s;
    dnnl_convolution_desc_t fd, bdd, wdd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL, wpd = NULL;
    dnnl_primitive_attr_t a = make_attr(false);
    TRY(dnnl_memory_desc_init_by_tag(&xm, 4, xd, dnnl_f32, dnnl_nchw));
    TRY(dnnl_memory_desc_init_by_tag(&ym, 4, yd, dnnl_f32, dnnl_nchw));
    TRY(dnnl_memory_desc_init_by_tag(&e->bias_md, 1, bd, dnnl_f32, dnnl_x));
    /* OIHW, read as (G, O/G, C/G, KH, KW) when grouped */
    if (G > 1) TRY(dnnl_memory_desc_init_by_tag(&wm, 5, wg, dnnl_f32, dnnl_goihw));
    else TRY(dnnl_memory_desc_init_by_tag(&wm, 4, w1, dnnl_f32, dnnl_oihw));
    TRY(dnnl_memory_desc_init_by_tag(&xa, 4, xd, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&ya, 4, yd, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&wa, G > 1 ? 5 : 4, G > 1 ? wg : w1, dnnl_f32, dnnl_format_tag_any));
    const dnnl_memory_desc_t *bp = s->bias ? &e->bias_md : NULL;
    TRY(dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &xa, &wa, bp,
                                                   &ya, st, dl, pd, pd));
    TRY(dnnl_dilated_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &xa, &wa, &ya, st, dl, pd, pd));
    TRY(dnnl_dilated_convolution_backward_weights_desc_init(&wdd, dnnl_convolution_direct, &xa, &wa, bp, &ya, st, dl,
                                                            pd, pd));
    TRY(dnnl_primitive_desc_create(&fpd, &fd, a, engine, NULL));
    TRY(dnnl_primitive_desc_create(&bpd, &bdd, a, engine, fpd));
    TRY(dnnl_primitive_desc_create(&wpd, &wdd, a, engine, fpd));
    TRY(prim_make(&e->fwd, fpd, &e->scratch));
    TRY(prim_make(&e->bwd_data, bpd, &e->scratch));
    TRY(prim_make(&e->bwd_weights, wpd, &e->scratch));
    port *p = e->port;
    size_t *sc = &e->scratch;
    TRY(port_make(&p[FX], &xm, pd_md(fpd, dnnl_query_src_md), true, false, sc));
    TRY(port_make(&p[FW], &wm, pd_md(fpd, dnnl_query_weights_md), true, false, sc));
    TRY(port_make(&p[FY], &ym, pd_md(fpd, dnnl_query_dst_md), false, false, sc));
    TRY(port_make(&p[BDY], &ym, pd_md(bpd, dnnl_query_diff_dst_md), true, false, sc));
    TRY(port_make(&p[BW], &wm, pd_md(bpd, dnnl_query_weights_md), true, false, sc));
    TRY(port_make(&p[BDX], &xm, pd_md(bpd, dnnl_query_diff_src_md), false, true, sc));
    TRY(port_make(&p[WX], &xm, pd_md(wpd, dnnl_query_src_md), true, false, sc));
    TRY(port_make(&p[WDY], &ym, pd_md(wpd, dnnl_query_diff_dst_md), true, false, sc));
    TRY(port_make(&p[WDW], &wm, pd_md(wpd, dnnl_query_diff_weights_md), false, false, sc));
    e->wdy_is_bdy = dnnl_memory_desc_equal(&p[WDY].want, &p[BDY].want);
    TRY(dnnl_memory_desc_init_by_tag(&e->scratch_md, 1, (dnnl_dims_t){ (dnnl_dim_t)(e->scratch ? e->scratch : 1) },
                                     dnnl_u8, dnnl_x));
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bpd);
    dnnl_primitive_desc_destroy(wpd);
    dnnl_primitive_attr_destroy(a);
    return e;
refused:
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (bpd) dnnl_primitive_desc_destroy(bpd);
    if (wpd) dnnl_primitive_desc_destroy(wpd);
    dnnl_primitive_attr_destroy(a);
    prims_free(e);
    return NULL;
}

/* Memory objects for lanes [0, n) (made on the calling thread, before a pass). */
static void lanes_reserve(block_prims *e, int n) {
    if (n <= e->nlanes) return;
    lane_mem *grown = rt_xmalloc((size_t)n * sizeof *grown);
    if (e->nlanes) memcpy(grown, e->lanes, (size_t)e->nlanes * sizeof *grown);
    free(e->lanes);
    e->lanes = grown;
    for (int k = e->nlanes; k < n; k++) {
        lane_mem *l = &e->lanes[k];
        *l = (lane_mem){ 0 };
        for (int i = 0; i < NPORT; i++) {
            CHECK(dnnl_memory_create(&l->user[i], &e->port[i].plain, engine, DNNL_MEMORY_NONE));
            l->prim[i] = l->user[i];
            if (e->port[i].bytes) CHECK(dnnl_memory_create(&l->prim[i], &e->port[i].want, engine, DNNL_MEMORY_NONE));
        }
        CHECK(dnnl_memory_create(&l->scratch, &e->scratch_md, engine, DNNL_MEMORY_NONE));
        CHECK(dnnl_memory_create(&l->b, &e->bias_md, engine, DNNL_MEMORY_NONE));
        CHECK(dnnl_memory_create(&l->db, &e->bias_md, engine, DNNL_MEMORY_NONE));
    }
    e->nlanes = n;
}

// ---- the caches ----

static bool same_shape(const rt_dnnl_shape *a, const rt_dnnl_shape *b) {
    const rt_conv_geom *g = &a->g, *h = &b->g;
    return a->N == b->N && a->C == b->C && a->H == b->H && a->W == b->W && a->O == b->O && a->OH == b->OH &&
           a->OW == b->OW && a->KH == b->KH && a->KW == b->KW && a->bias == b->bias && g->stride_h == h->stride_h &&
           g->stride_w == h->stride_w && g->pad_h == h->pad_h && g->pad_w == h->pad_w && g->dil_h == h->dil_h &&
           g->dil_w == h->dil_w && g->groups == h->groups;
}

static void release_all(void) {
    for (int i = 0; i < nprims; i++) prims_free(prims_cache[i]);
    for (int i = 0; i < nplans; i++) free(plan_cache[i]);
    nprims = nplans = 0;
    if (stream) dnnl_stream_destroy(stream);
    if (engine) dnnl_engine_destroy(engine);
    stream = NULL;
    engine = NULL;
}

/* The primitives of s with n images, cached; NULL when refused or the cache is full. */
static block_prims *prims_get(const rt_dnnl_shape *s, int n) {
    rt_dnnl_shape b = *s;
    b.N = n;
    for (int i = 0; i < nprims; i++)
        if (same_shape(&prims_cache[i]->s, &b)) return prims_cache[i];
    if (nprims == RT_DNNL_MAX_SHAPES) return NULL;
    block_prims *e = prims_make(&b);
    if (e) prims_cache[nprims++] = e;
    return e;
}

rt_dnnl_conv *rt_dnnl_conv_get(const rt_dnnl_shape *s) {
    for (int i = 0; i < nplans; i++)
        if (same_shape(&plan_cache[i]->s, s)) return plan_cache[i];
    if (nplans == RT_DNNL_MAX_SHAPES) return NULL;
    /* one OpenMP thread before any primitive is made: some of oneDNN's kernels fix their thread
    ** count when created, and would run on OpenMP's own threads beside the pool's */
    omp_set_num_threads(1);
    if (!engine) {
        CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
        CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
        atexit(release_all);
    }
    rt_dnnl_conv p = { .s = *s, .nb = (s->N + RT_DNNL_BLOCKS - 1) / RT_DNNL_BLOCKS };
    p.nblocks = (s->N + p.nb - 1) / p.nb;
    p.nlast = s->N - (p.nblocks - 1) * p.nb;
    p.full = prims_get(s, p.nb);
    p.last = p.nlast == p.nb ? p.full : prims_get(s, p.nlast);
    if (!p.full || !p.last) return NULL;
    p.last_w_same[0] = dnnl_memory_desc_equal(&p.full->port[FW].want, &p.last->port[FW].want);
    p.last_w_same[1] = dnnl_memory_desc_equal(&p.full->port[BW].want, &p.last->port[BW].want);
    rt_dnnl_conv *e = rt_xmalloc(sizeof *e);
    *e = p;
    return plan_cache[nplans++] = e;
}

// ---- running: one pass over the blocks ----

typedef struct pass {
    const rt_dnnl_conv *p;
    const float *x, *w, *b, *dy;
    float *y, *dx, *dwp, *dbp;  /* dwp, dbp: one partial per block (backward) */
    bool dx_add;                /* dx += (else =) */
    bool fwd, want_dx, want_w;
    void *wf, *wb;              /* the weights in the forward's and backward data's layouts, or NULL */
    char *work;                 /* per lane: scratchpad, then the port copies */
    size_t lane_bytes;
    int lanes;
    atomic_int *busy;
} pass;

static void exec(dnnl_primitive_t p, const lane_mem *l, void *scratch, int n, dnnl_exec_arg_t *args) {
    CHECK(dnnl_memory_set_data_handle(l->scratch, scratch));
    args[n++] = (dnnl_exec_arg_t){ DNNL_ARG_SCRATCHPAD, l->scratch };
    CHECK(dnnl_primitive_execute(p, stream, n, args));
}

/* The run of one block on one lane: its memories, its work space (next free byte at *cur). */
typedef struct blk {
    const block_prims *e;
    const lane_mem *l;
    void *scratch;
    char *cur;
} blk;

static void reorder(const blk *k, dnnl_primitive_t r, dnnl_memory_t from, dnnl_memory_t to) {
    dnnl_exec_arg_t args[3] = { { DNNL_ARG_FROM, from }, { DNNL_ARG_TO, to } };
    exec(r, k->l, k->scratch, 2, args);
}

/* Port i's memory in the primitive's layout holding data (an input; reordered when needed), or,
** with copy given, data already in that layout. */
static dnnl_memory_t in(blk *k, int i, const float *data, void *copy) {
    const port *p = &k->e->port[i];
    if (!p->bytes) {
        CHECK(dnnl_memory_set_data_handle(k->l->user[i], (void *)data));
        return k->l->user[i];
    }
    if (copy) {
        CHECK(dnnl_memory_set_data_handle(k->l->prim[i], copy));
        return k->l->prim[i];
    }
    CHECK(dnnl_memory_set_data_handle(k->l->user[i], (void *)data));
    CHECK(dnnl_memory_set_data_handle(k->l->prim[i], k->cur));
    k->cur += p->bytes;
    reorder(k, p->to, k->l->user[i], k->l->prim[i]);
    return k->l->prim[i];
}

/* Port i's memory for an output that out() then puts into data. */
static dnnl_memory_t out_mem(blk *k, int i, float *data) {
    CHECK(dnnl_memory_set_data_handle(k->l->user[i], data));
    if (!k->e->port[i].bytes) return k->l->user[i];
    CHECK(dnnl_memory_set_data_handle(k->l->prim[i], k->cur));
    k->cur += k->e->port[i].bytes;
    return k->l->prim[i];
}

static void out(const blk *k, int i, bool add) {
    const port *p = &k->e->port[i];
    if (p->bytes) reorder(k, add ? p->add : p->from, k->l->prim[i], k->l->user[i]);
}

static void block_run(pass *j, int bi, int lane) {
    const rt_dnnl_conv *p = j->p;
    const rt_dnnl_shape *s = &p->s;
    bool last = bi == p->nblocks - 1;
    const block_prims *e = last ? p->last : p->full;
    /* the weights reordered once for the pass, unless this block wants another layout */
    void *wf = !last || p->last_w_same[0] ? j->wf : NULL, *wb = !last || p->last_w_same[1] ? j->wb : NULL;
    char *w0 = j->work + (size_t)lane * j->lane_bytes;
    blk k = { e, &e->lanes[lane], w0, w0 + e->scratch };
    size_t n0 = (size_t)bi * (size_t)p->nb;
    size_t xs = (size_t)s->C * s->H * s->W, ys = (size_t)s->O * s->OH * s->OW;
    if (j->fwd) {
        dnnl_exec_arg_t args[5] = { { DNNL_ARG_SRC, in(&k, FX, j->x + n0 * xs, NULL) },
                                    { DNNL_ARG_WEIGHTS, in(&k, FW, j->w, wf) },
                                    { DNNL_ARG_DST, out_mem(&k, FY, j->y + n0 * ys) } };
        int n = 3;
        if (j->b) {
            CHECK(dnnl_memory_set_data_handle(k.l->b, (void *)j->b));
            args[n++] = (dnnl_exec_arg_t){ DNNL_ARG_BIAS, k.l->b };
        }
        exec(e->fwd, k.l, k.scratch, n, args);
        out(&k, FY, false);
        return;
    }
    dnnl_memory_t dyb = NULL;
    if (j->want_dx) {
        dyb = in(&k, BDY, j->dy + n0 * ys, NULL);
        dnnl_exec_arg_t args[4] = { { DNNL_ARG_DIFF_DST, dyb }, { DNNL_ARG_WEIGHTS, in(&k, BW, j->w, wb) },
                                    { DNNL_ARG_DIFF_SRC, out_mem(&k, BDX, j->dx + n0 * xs) } };
        exec(e->bwd_data, k.l, k.scratch, 3, args);
        out(&k, BDX, j->dx_add);
    }
    if (j->want_w) {
        if (!dyb || !e->wdy_is_bdy) dyb = in(&k, WDY, j->dy + n0 * ys, NULL);
        size_t nw = (size_t)s->O * (size_t)(s->C / s->g.groups) * (size_t)s->KH * (size_t)s->KW;
        dnnl_exec_arg_t args[5] = { { DNNL_ARG_SRC, in(&k, WX, j->x + n0 * xs, NULL) }, { DNNL_ARG_DIFF_DST, dyb },
                                    { DNNL_ARG_DIFF_WEIGHTS, out_mem(&k, WDW, j->dwp + (size_t)bi * nw) } };
        int n = 3;
        if (s->bias) {
            CHECK(dnnl_memory_set_data_handle(k.l->db, j->dbp + (size_t)bi * (size_t)s->O));
            args[n++] = (dnnl_exec_arg_t){ DNNL_ARG_DIFF_BIAS, k.l->db };
        }
        exec(e->bwd_weights, k.l, k.scratch, n, args);
        out(&k, WDW, false);
    }
}

static void pass_chunk(void *arg, size_t lo, size_t hi) {
    pass *j = arg;
    omp_set_num_threads(1);     /* oneDNN stays on this thread: the blocks are the parallelism */
    int lane = rt_pool_lane_take(j->busy, j->lanes);
    for (size_t bi = lo; bi < hi; bi++) block_run(j, (int)bi, lane);
    atomic_store(&j->busy[lane], 0);
}

/* The bytes one lane needs for the pass's ports on e, after the scratchpad; own_w: e reorders the
** weights itself. */
static size_t lane_need(const block_prims *e, const pass *j, bool own_w) {
    const port *p = e->port;
    size_t n = e->scratch;
    if (j->fwd) return n + p[FX].bytes + p[FY].bytes + (own_w ? p[FW].bytes : 0);
    if (j->want_dx) n += p[BDY].bytes + p[BDX].bytes + (own_w ? p[BW].bytes : 0);
    if (j->want_w) n += p[WX].bytes + p[WDW].bytes + (j->want_dx && e->wdy_is_bdy ? 0 : p[WDY].bytes);
    return n;
}

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

/* Runs the pass's blocks on the pool, the weights reordered once beforehand (work space in the
** step arena; the caller rolls it back). */
static void pass_run(rt_ctx *c, pass *j) {
    const rt_dnnl_conv *p = j->p;
    rt_pool *pool = rt_blas_pool();
    j->lanes = pool && !rt_pool_in_job() ? pool->threads : 1;
    if (j->lanes > p->nblocks) j->lanes = p->nblocks;
    lanes_reserve(p->full, j->lanes);
    lanes_reserve(p->last, j->lanes);
    size_t a = lane_need(p->full, j, false), b = lane_need(p->last, j, !p->last_w_same[j->fwd ? 0 : 1]);
    j->lane_bytes = round64(a > b ? a : b);
    j->work = rt_arena_alloc_raw(&c->step, (size_t)j->lanes * j->lane_bytes);
    j->busy = rt_arena_alloc_raw(&c->step, (size_t)j->lanes * sizeof *j->busy);
    for (int i = 0; i < j->lanes; i++) atomic_init(&j->busy[i], 0);
    /* the weights, in the layouts of the full blocks (the last block's agree: the same shape but N) */
    omp_set_num_threads(1);
    blk k = { p->full, &p->full->lanes[0], j->work, NULL };
    int wport = j->fwd ? FW : j->want_dx ? BW : -1;
    if (wport >= 0 && p->full->port[wport].bytes) {
        void *buf = rt_arena_alloc_raw(&c->step, p->full->port[wport].bytes);
        CHECK(dnnl_memory_set_data_handle(k.l->user[wport], (void *)j->w));
        CHECK(dnnl_memory_set_data_handle(k.l->prim[wport], buf));
        reorder(&k, p->full->port[wport].to, k.l->user[wport], k.l->prim[wport]);
        if (j->fwd) j->wf = buf;
        else j->wb = buf;
    }
    rt_pool_for(pool, (size_t)p->nblocks, 1, pass_chunk, j);
}

void rt_dnnl_conv_forward(rt_ctx *c, const rt_dnnl_conv *p, const float *x, const float *w, const float *b, float *y) {
    rt_arena_mark mark = rt_arena_get_mark(&c->step);
    nforward++;
    pass j = { .p = p, .x = x, .w = w, .b = b, .y = y, .fwd = true };
    pass_run(c, &j);
    rt_arena_rollback(&c->step, mark);
}

void rt_dnnl_conv_backward(rt_ctx *c, const rt_dnnl_conv *p, const float *x, const float *w, const float *dy,
                           float *dx, bool dx_fresh, float *dw, float *db) {
    rt_arena_mark mark = rt_arena_get_mark(&c->step);
    const rt_dnnl_shape *s = &p->s;
    size_t nw = (size_t)s->O * (size_t)(s->C / s->g.groups) * (size_t)s->KH * (size_t)s->KW;
    pass j = { .p = p, .x = x, .w = w, .dy = dy, .dx = dx, .dx_add = !dx_fresh, .want_dx = dx != NULL,
               .want_w = dw || db };
    if (j.want_w) {
        j.dwp = rt_arena_alloc_raw(&c->step, (size_t)p->nblocks * nw * sizeof(float));
        if (s->bias) j.dbp = rt_arena_alloc_raw(&c->step, (size_t)p->nblocks * (size_t)s->O * sizeof(float));
    }
    if (j.want_dx || j.want_w) pass_run(c, &j);
    /* the blocks' partials, added in block order: the same bytes for any thread count */
    for (size_t i = 0; dw && i < nw; i++) {
        float t = 0.0f;
        for (int k = 0; k < p->nblocks; k++) t += j.dwp[(size_t)k * nw + i];
        dw[i] += t;
    }
    for (int o = 0; db && o < s->O; o++) {
        float t = 0.0f;
        for (int k = 0; k < p->nblocks; k++) t += j.dbp[(size_t)k * (size_t)s->O + (size_t)o];
        db[o] += t;
    }
    rt_arena_rollback(&c->step, mark);
}

const char *rt_dnnl_version(void) {
    static char buf[64];
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, sizeof buf, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
    return buf;
}
