// gradcheck.c: central finite differences against the tape's backward: the ops run in float, only
// the checked sum L = sum(w * out) and the difference quotient are accumulated in double (gradcheck.h).
#include "gradcheck.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double loss_of(rt_ctx *c, rt_tensor **in, const gc_case *k, const float *w) {
    rt_arena_mark m = rt_arena_get_mark(&c->step);
    bool rec = c->grad_enabled;
    c->grad_enabled = false;
    rt_tensor *out = k->build(c, in, k);
    double L = 0.0;
    for (int64_t i = 0; i < out->n; i++) L += (double)w[i] * (double)out->data[i];
    c->grad_enabled = rec;
    rt_arena_rollback(&c->step, m);
    return L;
}

int gc_check(const gc_case *k, uint64_t seed, bool report) {
    rt_ctx c;
    rt_ctx_init(&c, 1 << 20);
    rt_rng r;
    rt_rng_seed(&r, seed);
    rt_tensor leaf[GC_MAX_IN], *in[GC_MAX_IN];
    for (int j = 0; j < k->nin; j++) {
        rt_tensor_wrap(&leaf[j], k->ndim[j], k->shape[j], NULL);
        leaf[j].data = calloc((size_t)leaf[j].n, sizeof(float));
        leaf[j].grad = calloc((size_t)leaf[j].n, sizeof(float));
        leaf[j].flags = RT_NEEDS_GRAD;
        for (int64_t i = 0; i < leaf[j].n; i++) {
            float v;
            do {
                v = k->lo[j] + (k->hi[j] - k->lo[j]) * (float)rt_rng_uniform(&r);
            } while (fabsf(v) < k->min_abs);
            leaf[j].data[i] = v;
        }
        in[j] = &leaf[j];
    }
    /* The weights of L, and the analytic gradient. */
    rt_tensor *out = k->build(&c, in, k);
    float *w = calloc((size_t)out->n, sizeof(float));
    for (int64_t i = 0; i < out->n; i++) w[i] = (float)(rt_rng_uniform(&r) * 2.0 - 1.0);
    rt_tensor wt;
    rt_tensor_wrap(&wt, out->ndim, out->shape, w);
    rt_tensor *L = rt_sum(&c, rt_mul(&c, out, &wt), RT_ALL, false);
    rt_backward(&c, L);

    int bad = 0;
    for (int j = 0; j < k->nin; j++) {
        int64_t step = leaf[j].n > 64 ? leaf[j].n / 64 : 1;    /* at most ~64 elements each */
        for (int64_t i = 0; i < leaf[j].n; i += step) {
            float x0 = leaf[j].data[i];
            leaf[j].data[i] = (float)((double)x0 + k->eps);
            double lp = loss_of(&c, in, k, w);
            leaf[j].data[i] = (float)((double)x0 - k->eps);
            double lm = loss_of(&c, in, k, w);
            leaf[j].data[i] = x0;
            double num = (lp - lm) / (2.0 * k->eps), ana = (double)leaf[j].grad[i];
            double tol = k->atol + k->rtol * fmax(fabs(num), fabs(ana));
            if (fabs(num - ana) > tol) {
                bad++;
                if (report) cr_expect(fabs(num - ana) <= tol,
                          "%s: input %d element %lld: analytic %.6g, numeric %.6g", k->name, j,
                          (long long)i, ana, num);
            }
        }
    }
    for (int j = 0; j < k->nin; j++) {
        free(leaf[j].data);
        free(leaf[j].grad);
    }
    free(w);
    rt_ctx_free(&c);
    return bad;
}
