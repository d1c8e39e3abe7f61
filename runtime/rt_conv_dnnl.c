// rt_conv_dnnl.c: rt_conv2d's oneDNN backend (rt_conv_dnnl.h): primitives cached per shape, on
// oneDNN's blocked layouts, reorders from and to vibrun's NCHW / OIHW arrays around each call, work
// space and scratchpad in the step arena. Built only with VIB_DNNL (CMakeLists.txt).
#include "rt_conv_dnnl.h"
#include "rt_blas.h"
#include "rt_pool.h"

#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>

#if DNNL_CPU_THREADING_RUNTIME != DNNL_RUNTIME_OMP
#error "rt_conv_dnnl.c sets oneDNN's threads through OpenMP: this libdnnl uses another runtime"
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

/* A primitive with its scratchpad: a memory object whose buffer is set at each run. */
typedef struct prim {
    dnnl_primitive_t p;
    dnnl_memory_t scratch;      /* NULL when it needs none */
    size_t scratch_bytes;
} prim;

/* One argument of a primitive: vibrun's plain array (user) and the layout the primitive wants
** (prim). When they differ, or when the result is to be added to the user's array, prim has its
** own buffer (bytes, from the step arena at each call) and reorders go between them: to (plain
** to prim, an input), from (prim to plain, an output), add (prim added to plain). */
typedef struct port {
    dnnl_memory_t user, prim;
    prim to, from, add;
    size_t bytes;               /* 0: prim is the user's array itself */
} port;

struct rt_dnnl_conv {
    rt_dnnl_shape s;
    prim fwd, bwd_data, bwd_weights;
    port fx, fw, fy;            /* forward */
    port bdy, bw, bdx;          /* backward data */
    port wx, wdy, wdw;          /* backward weights */
    bool wdy_is_bdy;            /* both backwards want dy in the same layout: reordered once */
    dnnl_memory_t b, db;        /* bias and its gradient, plain (NULL without bias) */
    size_t scratch_bytes;       /* the largest scratchpad of its primitives */
};

static rt_dnnl_conv *cache[RT_DNNL_MAX_SHAPES];
static int ncache;
static long nforward;           /* rt_dnnl_conv_forward calls, for tests and benchmarks */

long rt_dnnl_conv_calls(void) { return nforward; }

static const dnnl_memory_desc_t *pd_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

static dnnl_status_t prim_make(prim *pr, const_dnnl_primitive_desc_t pd) {
    dnnl_status_t st = dnnl_primitive_create(&pr->p, pd);
    if (st != dnnl_success) return st;
    const dnnl_memory_desc_t *sm = pd_md(pd, dnnl_query_scratchpad_md);
    pr->scratch_bytes = sm ? dnnl_memory_desc_get_size(sm) : 0;
    if (pr->scratch_bytes) st = dnnl_memory_create(&pr->scratch, sm, engine, DNNL_MEMORY_NONE);
    return st;
}

static void prim_free(prim *pr) {
    if (pr->scratch) dnnl_memory_destroy(pr->scratch);
    if (pr->p) dnnl_primitive_destroy(pr->p);
}

static dnnl_primitive_attr_t user_scratchpad(bool add) {
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

static dnnl_status_t reorder_make(prim *pr, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, bool add) {
    dnnl_primitive_attr_t a = user_scratchpad(add);
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, a);
    dnnl_primitive_attr_destroy(a);
    if (st != dnnl_success) return st;
    st = prim_make(pr, pd);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

/* A port between the plain layout and want. in: an input (reorder to); else an output (reorder
** from, and add when the output is added to). */
static dnnl_status_t port_make(port *p, const dnnl_memory_desc_t *plain, const dnnl_memory_desc_t *want, bool in,
                               bool add) {
    dnnl_status_t st = dnnl_memory_create(&p->user, plain, engine, DNNL_MEMORY_NONE);
    if (st != dnnl_success) return st;
    if (dnnl_memory_desc_equal(plain, want) && !add) {
        p->prim = p->user;
        return dnnl_success;
    }
    p->bytes = dnnl_memory_desc_get_size(want);
    if ((st = dnnl_memory_create(&p->prim, want, engine, DNNL_MEMORY_NONE)) != dnnl_success) return st;
    if (in) return reorder_make(&p->to, plain, want, false);
    if ((st = reorder_make(&p->from, want, plain, false)) != dnnl_success) return st;
    return add ? reorder_make(&p->add, want, plain, true) : dnnl_success;
}

static void port_free(port *p) {
    prim_free(&p->to);
    prim_free(&p->from);
    prim_free(&p->add);
    if (p->prim && p->prim != p->user) dnnl_memory_destroy(p->prim);
    if (p->user) dnnl_memory_destroy(p->user);
}

static void conv_free(rt_dnnl_conv *e) {
    prim_free(&e->fwd);
    prim_free(&e->bwd_data);
    prim_free(&e->bwd_weights);
    port *ports[] = { &e->fx, &e->fw, &e->fy, &e->bdy, &e->bw, &e->bdx, &e->wx, &e->wdy, &e->wdw };
    for (size_t i = 0; i < sizeof ports / sizeof *ports; i++) port_free(ports[i]);
    if (e->b) dnnl_memory_destroy(e->b);
    if (e->db) dnnl_memory_destroy(e->db);
    free(e);
}

static size_t max_scratch(const rt_dnnl_conv *e) {
    const prim *all[] = { &e->fwd, &e->bwd_data, &e->bwd_weights, &e->fx.to, &e->fw.to, &e->fy.from,
                          &e->bdy.to, &e->bw.to, &e->bdx.from, &e->bdx.add, &e->wx.to, &e->wdy.to, &e->wdw.add };
    size_t m = 0;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->scratch_bytes > m) m = all[i]->scratch_bytes;
    return m;
}

static void engine_start(void) {
    if (engine) return;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
}

/* The primitives of shape s, or NULL when oneDNN refuses one of them. */
static rt_dnnl_conv *conv_make(const rt_dnnl_shape *s) {
    const rt_conv_geom *g = &s->g;
    int G = g->groups;
    dnnl_dims_t xd = { s->N, s->C, s->H, s->W }, yd = { s->N, s->O, s->OH, s->OW }, bd = { s->O };
    dnnl_dims_t wg = { G, s->O / G, s->C / G, s->KH, s->KW }, w1 = { s->O, s->C, s->KH, s->KW };
    /* oneDNN counts dilation from 0; padding on the right as on the left: the output sizes then
    ** agree with rt_conv_out_size's floor (the same formula, integer division). */
    dnnl_dims_t st = { g->stride_h, g->stride_w }, dl = { g->dil_h - 1, g->dil_w - 1 }, pd = { g->pad_h, g->pad_w };
    dnnl_memory_desc_t xm, wm, ym, bm, xa, wa, ya;
    rt_dnnl_conv *e = rt_xcalloc(1, sizeof *e);
    e->s = *s;
    dnnl_convolution_desc_t fd, bdd, wdd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL, wpd = NULL;
    dnnl_primitive_attr_t a = user_scratchpad(false);
    TRY(dnnl_memory_desc_init_by_tag(&xm, 4, xd, dnnl_f32, dnnl_nchw));
    TRY(dnnl_memory_desc_init_by_tag(&ym, 4, yd, dnnl_f32, dnnl_nchw));
    TRY(dnnl_memory_desc_init_by_tag(&bm, 1, bd, dnnl_f32, dnnl_x));
    /* OIHW, read as (G, O/G, C/G, KH, KW) when grouped */
    if (G > 1) TRY(dnnl_memory_desc_init_by_tag(&wm, 5, wg, dnnl_f32, dnnl_goihw));
    else TRY(dnnl_memory_desc_init_by_tag(&wm, 4, w1, dnnl_f32, dnnl_oihw));
    TRY(dnnl_memory_desc_init_by_tag(&xa, 4, xd, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&ya, 4, yd, dnnl_f32, dnnl_format_tag_any));
    TRY(dnnl_memory_desc_init_by_tag(&wa, G > 1 ? 5 : 4, G > 1 ? wg : w1, dnnl_f32, dnnl_format_tag_any));
    const dnnl_memory_desc_t *bp = s->bias ? &bm : NULL;
    TRY(dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &xa, &wa, bp,
                                                   &ya, st, dl, pd, pd));
    TRY(dnnl_dilated_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &xa, &wa, &ya, st, dl, pd, pd));
    TRY(dnnl_dilated_convolution_backward_weights_desc_init(&wdd, dnnl_convolution_direct, &xa, &wa, bp, &ya, st, dl,
                                                            pd, pd));
    TRY(dnnl_primitive_desc_create(&fpd, &fd, a, engine, NULL));
    TRY(dnnl_primitive_desc_create(&bpd, &bdd, a, engine, fpd));
    TRY(dnnl_primitive_desc_create(&wpd, &wdd, a, engine, fpd));
    TRY(prim_make(&e->fwd, fpd));
    TRY(prim_make(&e->bwd_data, bpd));
    TRY(prim_make(&e->bwd_weights, wpd));
    TRY(port_make(&e->fx, &xm, pd_md(fpd, dnnl_query_src_md), true, false));
    TRY(port_make(&e->fw, &wm, pd_md(fpd, dnnl_query_weights_md), true, false));
    TRY(port_make(&e->fy, &ym, pd_md(fpd, dnnl_query_dst_md), false, false));
    TRY(port_make(&e->bdy, &ym, pd_md(bpd, dnnl_query_diff_dst_md), true, false));
    TRY(port_make(&e->bw, &wm, pd_md(bpd, dnnl_query_weights_md), true, false));
    TRY(port_make(&e->bdx, &xm, pd_md(bpd, dnnl_query_diff_src_md), false, true));
    TRY(port_make(&e->wx, &xm, pd_md(wpd, dnnl_query_src_md), true, false));
    TRY(port_make(&e->wdy, &ym, pd_md(wpd, dnnl_query_diff_dst_md), true, false));
    TRY(port_make(&e->wdw, &wm, pd_md(wpd, dnnl_query_diff_weights_md), false, true));
    e->wdy_is_bdy = dnnl_memory_desc_equal(pd_md(wpd, dnnl_query_diff_dst_md), pd_md(bpd, dnnl_query_diff_dst_md));
    if (s->bias) {
        TRY(dnnl_memory_create(&e->b, &bm, engine, DNNL_MEMORY_NONE));
        TRY(dnnl_memory_create(&e->db, &bm, engine, DNNL_MEMORY_NONE));
    }
    e->scratch_bytes = max_scratch(e);
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
    conv_free(e);
    return NULL;
}

static void release_all(void) {
    for (int i = 0; i < ncache; i++) conv_free(cache[i]);
    ncache = 0;
    if (stream) dnnl_stream_destroy(stream);
    if (engine) dnnl_engine_destroy(engine);
    stream = NULL;
    engine = NULL;
}

static bool same_shape(const rt_dnnl_shape *a, const rt_dnnl_shape *b) {
    const rt_conv_geom *g = &a->g, *h = &b->g;
    return a->N == b->N && a->C == b->C && a->H == b->H && a->W == b->W && a->O == b->O && a->OH == b->OH &&
           a->OW == b->OW && a->KH == b->KH && a->KW == b->KW && a->bias == b->bias && g->stride_h == h->stride_h &&
           g->stride_w == h->stride_w && g->pad_h == h->pad_h && g->pad_w == h->pad_w && g->dil_h == h->dil_h &&
           g->dil_w == h->dil_w && g->groups == h->groups;
}

rt_dnnl_conv *rt_dnnl_conv_get(const rt_dnnl_shape *s) {
    for (int i = 0; i < ncache; i++)
        if (same_shape(&cache[i]->s, s)) return cache[i];
    if (ncache == RT_DNNL_MAX_SHAPES) return NULL;
    if (!engine) {
        engine_start();
        atexit(release_all);
    }
    rt_dnnl_conv *e = conv_make(s);
    if (e) cache[ncache++] = e;
    return e;
}

// ---- running ----

/* The step's work space for one call: the scratchpad, then each port's buffer as it is needed. */
typedef struct run {
    rt_ctx *c;
    void *scratch;
} run;

static void exec(const run *r, const prim *pr, int n, dnnl_exec_arg_t *args) {
    if (pr->scratch) {
        CHECK(dnnl_memory_set_data_handle(pr->scratch, r->scratch));
        args[n++] = (dnnl_exec_arg_t){ DNNL_ARG_SCRATCHPAD, pr->scratch };
    }
    CHECK(dnnl_primitive_execute(pr->p, stream, n, args));
}

static void reorder(const run *r, const prim *pr, dnnl_memory_t from, dnnl_memory_t to) {
    dnnl_exec_arg_t args[3] = { { DNNL_ARG_FROM, from }, { DNNL_ARG_TO, to } };
    exec(r, pr, 2, args);
}

/* The port's memory in the primitive's layout, holding data (an input, reordered when needed). */
static dnnl_memory_t port_in(const run *r, const port *p, const float *data) {
    CHECK(dnnl_memory_set_data_handle(p->user, (void *)data));
    if (!p->bytes) return p->user;
    CHECK(dnnl_memory_set_data_handle(p->prim, rt_arena_alloc_raw(&r->c->step, p->bytes)));
    reorder(r, &p->to, p->user, p->prim);
    return p->prim;
}

/* The port's memory in the primitive's layout, for an output that port_out puts into data. */
static dnnl_memory_t port_out_mem(const run *r, const port *p, float *data) {
    CHECK(dnnl_memory_set_data_handle(p->user, data));
    if (p->bytes) CHECK(dnnl_memory_set_data_handle(p->prim, rt_arena_alloc_raw(&r->c->step, p->bytes)));
    return p->prim;
}

/* data (set by port_out_mem) = the primitive's output, or += it with add. */
static void port_out(const run *r, const port *p, bool add) {
    if (p->bytes) reorder(r, add ? &p->add : &p->from, p->prim, p->user);
}

static run run_start(rt_ctx *c, const rt_dnnl_conv *e) {
    /* oneDNN's parallel regions on the project's thread count (a pool job runs on its thread) */
    omp_set_num_threads(rt_pool_in_job() ? 1 : rt_blas_threads());
    run r = { c, e->scratch_bytes ? rt_arena_alloc_raw(&c->step, e->scratch_bytes) : NULL };
    return r;
}

void rt_dnnl_conv_forward(rt_ctx *c, const rt_dnnl_conv *e, const float *x, const float *w, const float *b,
                          float *y) {
    rt_arena_mark mark = rt_arena_get_mark(&c->step);
    run r = run_start(c, e);
    nforward++;
    dnnl_exec_arg_t args[5] = { { DNNL_ARG_SRC, port_in(&r, &e->fx, x) }, { DNNL_ARG_WEIGHTS, port_in(&r, &e->fw, w) },
                                { DNNL_ARG_DST, port_out_mem(&r, &e->fy, y) } };
    int n = 3;
    if (e->b) {
        CHECK(dnnl_memory_set_data_handle(e->b, (void *)b));
        args[n++] = (dnnl_exec_arg_t){ DNNL_ARG_BIAS, e->b };
    }
    exec(&r, &e->fwd, n, args);
    port_out(&r, &e->fy, false);
    CHECK(dnnl_stream_wait(stream));
    rt_arena_rollback(&c->step, mark);
}

void rt_dnnl_conv_backward(rt_ctx *c, const rt_dnnl_conv *e, const float *x, const float *w, const float *dy,
                           float *dx, bool dx_fresh, float *dw, float *db) {
    rt_arena_mark mark = rt_arena_get_mark(&c->step);
    run r = run_start(c, e);
    dnnl_memory_t dyb = NULL;
    if (dx) {
        dyb = port_in(&r, &e->bdy, dy);
        dnnl_exec_arg_t args[4] = { { DNNL_ARG_DIFF_DST, dyb }, { DNNL_ARG_WEIGHTS, port_in(&r, &e->bw, w) },
                                    { DNNL_ARG_DIFF_SRC, port_out_mem(&r, &e->bdx, dx) } };
        exec(&r, &e->bwd_data, 3, args);
        port_out(&r, &e->bdx, !dx_fresh);
    }
    if (dw || db) {
        /* dW goes to a work array when the weights take no gradient but the bias does */
        size_t nw = (size_t)e->s.O * (size_t)(e->s.C / e->s.g.groups) * (size_t)e->s.KH * (size_t)e->s.KW;
        float *dwo = dw ? dw : rt_arena_alloc(&c->step, nw * sizeof(float));
        float *dbo = db ? rt_arena_alloc_raw(&c->step, (size_t)e->s.O * sizeof(float)) : NULL;
        if (!dyb || !e->wdy_is_bdy) dyb = port_in(&r, &e->wdy, dy);
        dnnl_exec_arg_t args[5] = { { DNNL_ARG_SRC, port_in(&r, &e->wx, x) }, { DNNL_ARG_DIFF_DST, dyb },
                                    { DNNL_ARG_DIFF_WEIGHTS, port_out_mem(&r, &e->wdw, dwo) } };
        int n = 3;
        if (e->db) {
            /* without a bias gradient wanted, oneDNN's goes to the work array too */
            if (!dbo) dbo = rt_arena_alloc_raw(&c->step, (size_t)e->s.O * sizeof(float));
            CHECK(dnnl_memory_set_data_handle(e->db, dbo));
            args[n++] = (dnnl_exec_arg_t){ DNNL_ARG_DIFF_BIAS, e->db };
        }
        exec(&r, &e->bwd_weights, n, args);
        port_out(&r, &e->wdw, true);
        CHECK(dnnl_stream_wait(stream));
        for (int o = 0; db && o < e->s.O; o++) db[o] += dbo[o];
    }
    CHECK(dnnl_stream_wait(stream));
    rt_arena_rollback(&c->step, mark);
}

const char *rt_dnnl_version(void) {
    static char buf[64];
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, sizeof buf, "oneDNN %d.%d.%d, OpenMP", v->major, v->minor, v->patch);
    return buf;
}
