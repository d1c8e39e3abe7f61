// rt_op_reduce.c: sum and mean over an axis, broadcast and reshape; forward and backward.
#include "rt_impl.h"

#include <string.h>

// ---- broadcasting plan (shared with rt_op_elem.c through rt_impl.h) ----

static void dims4(const rt_tensor *t, int d[4]) {
    int pad = 4 - t->ndim;
    for (int i = 0; i < 4; i++) d[i] = i < pad ? 1 : t->shape[i - pad];
}

static void strides4(const int d[4], const int out[4], int64_t s[4]) {
    int64_t st = 1;
    for (int i = 3; i >= 0; i--) {
        s[i] = (d[i] == 1 && out[i] != 1) ? 0 : st;
        st *= d[i];
    }
}

rt_bcast rt_bcast_plan(const rt_tensor *a, const rt_tensor *b, int *ndim, int shape[4]) {
    rt_bcast p;
    int da[4], db[4];
    dims4(a, da);
    dims4(b, db);
    for (int i = 0; i < 4; i++) {
        if (da[i] != db[i] && da[i] != 1 && db[i] != 1) {
            char sa[64], sb[64];
            RT_ABORT("cannot broadcast %s with %s", rt_shape_str(a, sa, sizeof sa),
                     rt_shape_str(b, sb, sizeof sb));
        }
        p.d[i] = da[i] > db[i] ? da[i] : db[i];
    }
    strides4(da, p.d, p.sa);
    strides4(db, p.d, p.sb);
    *ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < *ndim; i++) shape[i] = p.d[4 - *ndim + i];
    return p;
}

// ---- sum and mean over one axis ----
// The input is viewed as (outer, len, inner) around the reduced axis; RT_ALL is (1, n, 1).

typedef struct red3 { int64_t outer, len, inner; } red3;

static red3 red_split(const rt_tensor *x, int axis) {
    red3 r = { 1, 1, 1 };
    if (axis == RT_ALL) { r.len = x->n; return r; }
    for (int i = 0; i < x->ndim; i++) {
        if (i < axis) r.outer *= x->shape[i];
        else if (i == axis) r.len = x->shape[i];
        else r.inner *= x->shape[i];
    }
    return r;
}

static rt_tensor *reduce(rt_ctx *c, int op, rt_tensor *x, int axis, bool keepdim) {
    if (axis != RT_ALL && axis < 0) axis += x->ndim;
    RT_ASSERT(axis == RT_ALL || (axis >= 0 && axis < x->ndim));
    int ndim = 0, shape[RT_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) {
        bool reduced = axis == RT_ALL || i == axis;
        if (!reduced) shape[ndim++] = x->shape[i];
        else if (keepdim) shape[ndim++] = 1;
    }
    if (ndim == 0) shape[ndim++] = 1;
    rt_tensor *out = rt_node_new(c, op, ndim, shape, x, NULL, NULL);
    out->iparam[0] = axis;
    red3 r = red_split(x, axis);
    float scale = op == RT_OP_MEAN ? 1.0f / (float)r.len : 1.0f;
    for (int64_t o = 0; o < r.outer; o++)
        for (int64_t k = 0; k < r.inner; k++) {
            /* Accumulate in double: sums over a batch or a layer must not depend on luck. */
            double s = 0.0;
            const float *px = x->data + o * r.len * r.inner + k;
            for (int64_t j = 0; j < r.len; j++) s += (double)px[j * r.inner];
            out->data[o * r.inner + k] = (float)s * scale;
        }
    return out;
}

static void reduce_bwd(rt_ctx *c, rt_tensor *out, float scale) {
    rt_tensor *x = out->src[0];
    bool fresh;
    float *dx = rt_src_grad_once(c, x, &fresh);
    if (!dx) return;
    red3 r = red_split(x, out->iparam[0]);
    for (int64_t o = 0; o < r.outer; o++)
        for (int64_t k = 0; k < r.inner; k++) {
            float g = out->grad[o * r.inner + k] * scale;
            float *pdx = dx + o * r.len * r.inner + k;
            if (fresh)
                for (int64_t j = 0; j < r.len; j++) pdx[j * r.inner] = g;
            else
                for (int64_t j = 0; j < r.len; j++) pdx[j * r.inner] += g;
        }
}

rt_tensor *rt_sum(rt_ctx *c, rt_tensor *x, int axis, bool keepdim) {
    return reduce(c, RT_OP_SUM, x, axis, keepdim);
}

void rt_sum_bwd(rt_ctx *c, rt_tensor *out) { reduce_bwd(c, out, 1.0f); }

rt_tensor *rt_mean(rt_ctx *c, rt_tensor *x, int axis, bool keepdim) {
    return reduce(c, RT_OP_MEAN, x, axis, keepdim);
}

void rt_mean_bwd(rt_ctx *c, rt_tensor *out) {
    red3 r = red_split(out->src[0], out->iparam[0]);
    reduce_bwd(c, out, 1.0f / (float)r.len);
}

// ---- broadcast: expand size-1 dimensions ----

rt_tensor *rt_broadcast(rt_ctx *c, rt_tensor *x, int ndim, const int *shape) {
    rt_tensor target;
    rt_tensor_wrap(&target, ndim, shape, NULL);
    int ondim, oshape[4];
    rt_bcast p = rt_bcast_plan(x, &target, &ondim, oshape);
    RT_ASSERT(ondim == ndim);
    for (int i = 0; i < ndim; i++) RT_ASSERT(oshape[i] == shape[i]);
    rt_tensor *out = rt_node_new(c, RT_OP_BROADCAST, ndim, shape, x, NULL, NULL);
    const float *px = x->data;
    float *y = out->data;
    RT_BCAST_LOOP(p, y[io] = px[ia];)
    return out;
}

void rt_broadcast_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *x = out->src[0];
    float *dx = rt_src_grad(c, x);
    if (!dx) return;
    int ondim, oshape[4];
    rt_bcast p = rt_bcast_plan(x, out, &ondim, oshape);
    const float *dy = out->grad;
    RT_BCAST_LOOP(p, dx[ia] += dy[io];)
}

// ---- reshape: same elements, another shape ----

rt_tensor *rt_reshape(rt_ctx *c, rt_tensor *x, int ndim, const int *shape) {
    rt_tensor *out = rt_node_new(c, RT_OP_RESHAPE, ndim, shape, x, NULL, NULL);
    RT_ASSERT(out->n == x->n);
    memcpy(out->data, x->data, (size_t)x->n * sizeof(float));
    return out;
}

void rt_reshape_bwd(rt_ctx *c, rt_tensor *out) {
    float *dx = rt_src_grad(c, out->src[0]);
    if (dx) for (int64_t i = 0; i < out->n; i++) dx[i] += out->grad[i];
}
