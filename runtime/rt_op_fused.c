// rt_op_fused.c: ops whose backward is written by hand for numerical reasons.
#include "rt_impl.h"

#include <math.h>
#include <string.h>

// ---- softmax cross-entropy: logits (B,C), labels -> (B) ----
// loss_b = logsumexp(z_b) - sum_c t_bc z_bc with t = (1-s) onehot(label) + s/C.
// Forward keeps the softmax p; backward is dz = dy_b (p - t), never through log(p).

typedef struct ce_saved {
    int32_t *labels;            /* (B) */
    float *prob;                /* (B, C) softmax of the logits */
} ce_saved;

rt_tensor *rt_softmax_ce(rt_ctx *c, rt_tensor *logits, const int32_t *labels, float smoothing) {
    RT_ASSERT(logits->ndim == 2);
    RT_ASSERT(smoothing >= 0.0f && smoothing < 1.0f);
    int B = logits->shape[0], C = logits->shape[1];
    rt_tensor *out = rt_node_new(c, RT_OP_SOFTMAX_CE, 1, (int[]){ B }, logits, NULL, NULL);
    out->fparam[0] = smoothing;
    ce_saved *s = rt_arena_alloc_raw(&c->step, sizeof *s);
    s->labels = rt_arena_alloc_raw(&c->step, (size_t)B * sizeof(int32_t));
    memcpy(s->labels, labels, (size_t)B * sizeof(int32_t));
    s->prob = rt_arena_alloc_raw(&c->step, (size_t)B * C * sizeof(float));
    out->aux = s;
    for (int i = 0; i < B; i++) {
        const float *z = logits->data + (size_t)i * C;
        float *p = s->prob + (size_t)i * C;
        RT_ASSERT(labels[i] >= 0 && labels[i] < C);
        float m = z[0];
        for (int k = 1; k < C; k++) m = z[k] > m ? z[k] : m;
        double se = 0.0, zsum = 0.0;
        for (int k = 0; k < C; k++) {
            p[k] = expf(z[k] - m);
            se += (double)p[k];
            zsum += (double)z[k];
        }
        float inv = (float)(1.0 / se);
        for (int k = 0; k < C; k++) p[k] *= inv;
        double lse = (double)m + log(se);
        double target = (1.0 - (double)smoothing) * (double)z[labels[i]] +
                        (double)smoothing * zsum / (double)C;
        out->data[i] = (float)(lse - target);
    }
    return out;
}

void rt_softmax_ce_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *logits = out->src[0];
    bool fresh;
    float *dz = rt_src_grad_once(c, logits, &fresh);
    if (!dz) return;
    const ce_saved *s = out->aux;
    int B = logits->shape[0], C = logits->shape[1];
    float sm = out->fparam[0], off = sm / (float)C;
    for (int i = 0; i < B; i++) {
        float g = out->grad[i];
        const float *p = s->prob + (size_t)i * C;
        float *d = dz + (size_t)i * C;
        if (fresh)
            for (int k = 0; k < C; k++) d[k] = g * (p[k] - off);
        else
            for (int k = 0; k < C; k++) d[k] += g * (p[k] - off);
        d[s->labels[i]] -= g * (1.0f - sm);
    }
}

// ---- log-sum-exp over one axis, viewed as (outer, len, inner) ----

static void lse_split(const rt_tensor *x, int axis, int64_t *outer, int64_t *len, int64_t *inner) {
    *outer = *len = *inner = 1;
    for (int i = 0; i < x->ndim; i++) {
        if (i < axis) *outer *= x->shape[i];
        else if (i == axis) *len = x->shape[i];
        else *inner *= x->shape[i];
    }
}

/* The output of a reduction of x over one axis (negative from the end): the axis made
** non-negative, and the output node of op with that axis dropped (kept as 1 with keepdim). */
static rt_tensor *axis_node(rt_ctx *c, int op, rt_tensor *x, int *axis, bool keepdim) {
    if (*axis < 0) *axis += x->ndim;
    RT_ASSERT(*axis >= 0 && *axis < x->ndim);
    int ndim = 0, shape[RT_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) {
        if (i != *axis) shape[ndim++] = x->shape[i];
        else if (keepdim) shape[ndim++] = 1;
    }
    if (ndim == 0) shape[ndim++] = 1;
    return rt_node_new(c, op, ndim, shape, x, NULL, NULL);
}

rt_tensor *rt_logsumexp(rt_ctx *c, rt_tensor *x, int axis, bool keepdim) {
    rt_tensor *out = axis_node(c, RT_OP_LOGSUMEXP, x, &axis, keepdim);
    out->iparam[0] = axis;
    int64_t outer, len, inner;
    lse_split(x, axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < inner; k++) {
            const float *px = x->data + o * len * inner + k;
            float m = px[0];
            for (int64_t j = 1; j < len; j++) m = px[j * inner] > m ? px[j * inner] : m;
            double s = 0.0;
            for (int64_t j = 0; j < len; j++) s += (double)expf(px[j * inner] - m);
            out->data[o * inner + k] = isinf(m) ? m : m + (float)log(s);
        }
    return out;
}

void rt_logsumexp_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *x = out->src[0];
    float *dx = rt_src_grad(c, x);
    if (!dx) return;
    int64_t outer, len, inner;
    lse_split(x, out->iparam[0], &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < inner; k++) {
            float y = out->data[o * inner + k], g = out->grad[o * inner + k];
            const float *px = x->data + o * len * inner + k;
            float *pdx = dx + o * len * inner + k;
            for (int64_t j = 0; j < len; j++) pdx[j * inner] += g * expf(px[j * inner] - y);
        }
}

// ---- KL of a diagonal Gaussian against N(0, I), per row ----

rt_tensor *rt_gauss_kl(rt_ctx *c, rt_tensor *mu, rt_tensor *sigma) {
    RT_ASSERT(mu->ndim == 2 && rt_shape_eq(mu, sigma));
    int B = mu->shape[0], K = mu->shape[1];
    rt_tensor *out = rt_node_new(c, RT_OP_GAUSS_KL, 1, (int[]){ B }, mu, sigma, NULL);
    for (int i = 0; i < B; i++) {
        const float *m = mu->data + (size_t)i * K, *s = sigma->data + (size_t)i * K;
        double kl = 0.0;
        for (int k = 0; k < K; k++)
            kl += (double)m[k] * (double)m[k] + (double)s[k] * (double)s[k] - 1.0 - 2.0 * log((double)s[k]);
        out->data[i] = (float)(0.5 * kl);
    }
    return out;
}

void rt_gauss_kl_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *mu = out->src[0], *sigma = out->src[1];
    int B = mu->shape[0], K = mu->shape[1];
    float *dmu = rt_src_grad(c, mu), *dsigma = rt_src_grad(c, sigma);
    for (int i = 0; i < B; i++) {
        float g = out->grad[i];
        const float *m = mu->data + (size_t)i * K, *s = sigma->data + (size_t)i * K;
        if (dmu) for (int k = 0; k < K; k++) dmu[(size_t)i * K + k] += g * m[k];
        if (dsigma) for (int k = 0; k < K; k++) dsigma[(size_t)i * K + k] += g * (s[k] - 1.0f / s[k]);
    }
}

// ---- maximum over one axis ----

/* The maximum along `axis`; its gradient goes to the first maximal element (in index order), as
** maxpool2d's does, so ties are deterministic. */
rt_tensor *rt_max(rt_ctx *c, rt_tensor *x, int axis, bool keepdim) {
    rt_tensor *out = axis_node(c, RT_OP_MAX, x, &axis, keepdim);
    out->iparam[0] = axis;
    int64_t outer, len, inner;
    lse_split(x, axis, &outer, &len, &inner);
    int32_t *arg = rt_arena_alloc_raw(&c->step, (size_t)(outer * inner) * sizeof *arg);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < inner; k++) {
            const float *px = x->data + o * len * inner + k;
            int32_t best = 0;
            for (int64_t j = 1; j < len; j++)
                if (px[j * inner] > px[best * inner]) best = (int32_t)j;
            arg[o * inner + k] = best;
            out->data[o * inner + k] = px[best * inner];
        }
    out->aux = arg;
    return out;
}

void rt_max_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *x = out->src[0];
    float *dx = rt_src_grad(c, x);
    if (!dx) return;
    const int32_t *arg = out->aux;
    int64_t outer, len, inner;
    lse_split(x, out->iparam[0], &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < inner; k++)
            dx[o * len * inner + (int64_t)arg[o * inner + k] * inner + k] += out->grad[o * inner + k];
}
