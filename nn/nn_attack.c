// nn_attack.c: input gradients through the tape, FGSM and PGD in pixel space (nn_attack.h).
#include "nn_attack.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

nn_attack_target nn_attack_target_make(nn_model *m, rt_ctx *ctx, int dim, int nclass, const float *a,
                                       const float *b) {
    nn_attack_target t;
    memset(&t, 0, sizeof t);
    t.m = m;
    t.ctx = ctx;
    t.dim = dim;
    t.nclass = nclass;
    t.a = a;
    t.b = b;
    t.eot = 1;
    rt_rng_seed(&t.stream, 0);
    return t;
}

const char *nn_attack_kind_name(nn_attack_kind k) {
    static const char *names[NN_ATK_KIND_COUNT] = { "fgsm", "pgd", "apgd", "cw_l2" };
    return (unsigned)k < NN_ATK_KIND_COUNT ? names[k] : "?";
}

const char *nn_attack_norm_name(nn_attack_norm n) { return n == NN_NORM_L2 ? "l2" : "linf"; }

const char *nn_attack_cfg_name(const nn_attack_cfg *c) {
    if (c->kind != NN_ATK_APGD) return nn_attack_kind_name(c->kind);
    bool dlr = c->loss == NN_LOSS_DLR;
    if (c->targeted && c->targets > 0) return dlr ? "apgd_t" : "apgd_t_ce";
    return dlr ? "apgd_dlr" : "apgd_ce";
}

nn_attack_cfg nn_attack_cfg_default(nn_attack_kind k) {
    nn_attack_cfg c;
    memset(&c, 0, sizeof c);
    c.kind = k;
    c.norm = NN_NORM_LINF;
    c.loss = NN_LOSS_CE;
    c.steps = k == NN_ATK_FGSM ? 1 : k == NN_ATK_APGD ? 100 : k == NN_ATK_CW ? 1000 : 40;
    c.restarts = 1;
    c.random_start = k != NN_ATK_FGSM && k != NN_ATK_CW;
    if (k == NN_ATK_CW) c.norm = NN_NORM_L2;
    c.search = 9;
    c.c0 = 1e-3f;
    c.kappa = 0.0f;
    c.lr = 0.01f;
    return c;
}

// ---- the loss on u = log p(y|x) and its gradient on the sample logits ----

/* Gradient g (C) of loss L of one example on u (C) = log of the mean softmax (tg: the targeted DLR's
** target); returns the loss. */
static float loss_on_u(const double *u, int C, int32_t y, int32_t tg, nn_attack_loss L, double *g) {
    for (int k = 0; k < C; k++) g[k] = 0.0;
    if (L == NN_LOSS_CE) {
        g[y] = -1.0;
        return (float)-u[y];
    }
    if (L == NN_LOSS_CE_TARGETED) {
        g[y] = 1.0;
        return (float)u[y];
    }
    if (L == NN_LOSS_MARGIN || L == NN_LOSS_MARGIN_TARGETED) {
        int o = -1;                                     /* the largest other class, ties to the lower index */
        for (int k = 0; k < C; k++)
            if (k != y && (o < 0 || u[k] > u[o])) o = k;
        RT_ASSERT(o >= 0 && "a margin needs two classes");
        double sgn = L == NN_LOSS_MARGIN ? 1.0 : -1.0;
        g[y] = sgn;
        g[o] = -sgn;
        return (float)(sgn * (u[y] - u[o]));
    }
    /* DLR: the four largest entries of u, ties to the lower index. */
    int top[4] = { -1, -1, -1, -1 };
    for (int r = 0; r < 4 && r < C; r++) {
        int best = -1;
        for (int k = 0; k < C; k++) {
            bool used = false;
            for (int q = 0; q < r; q++) used |= top[q] == k;
            if (!used && (best < 0 || u[k] > u[best])) best = k;
        }
        top[r] = best;
    }
    RT_ASSERT((L == NN_LOSS_DLR || L == NN_LOSS_DLR_TARGETED) && C >= 3);
    if (L == NN_LOSS_DLR_TARGETED) {
        RT_ASSERT(tg >= 0 && tg < C && tg != y);
        int p4 = C >= 4 ? top[3] : top[2];
        double D = u[top[0]] - 0.5 * (u[top[2]] + u[p4]) + 1e-12, N = u[y] - u[tg], q = N / (D * D);
        g[y] += -1.0 / D;
        g[tg] += 1.0 / D;
        g[top[0]] += q;
        g[top[2]] -= 0.5 * q;
        g[p4] -= 0.5 * q;
        return (float)(-N / D);
    }
    int o = top[0] == y ? top[1] : top[0];              /* the largest other class */
    double D = u[top[0]] - u[top[2]] + 1e-12, N = u[y] - u[o];
    g[y] += -1.0 / D;
    g[o] += 1.0 / D;
    g[top[0]] += N / (D * D);
    g[top[2]] -= N / (D * D);
    return (float)(-N / D);
}

void nn_attack_loss_grad(const float *z, int S, int B, int C, const int32_t *y, nn_attack_loss L,
                         float *loss, float *dz, float *probs) {
    nn_attack_loss_grad_to(z, S, B, C, y, NULL, L, loss, dz, probs);
}

void nn_attack_loss_grad_to(const float *z, int S, int B, int C, const int32_t *y, const int32_t *target,
                            nn_attack_loss L, float *loss, float *dz, float *probs) {
    RT_ASSERT(L != NN_LOSS_DLR_TARGETED || target);
    double *logp = rt_xcalloc((size_t)S * C + 3 * (size_t)C, sizeof *logp);
    double *u = logp + (size_t)S * C, *g = u + C, *w = g + C;
    for (int i = 0; i < B; i++) {
        for (int s = 0; s < S; s++) {
            const float *zs = z + ((size_t)s * B + i) * C;
            double mx = zs[0], se = 0.0;
            for (int k = 1; k < C; k++) mx = (double)zs[k] > mx ? (double)zs[k] : mx;
            for (int k = 0; k < C; k++) se += exp((double)zs[k] - mx);
            double lse = mx + log(se);
            for (int k = 0; k < C; k++) logp[(size_t)s * C + k] = (double)zs[k] - lse;
        }
        for (int k = 0; k < C; k++) {               /* u_k = log (1/S) sum_s p_s[k] */
            double mx = logp[k], se = 0.0;
            for (int s = 1; s < S; s++) mx = logp[(size_t)s * C + k] > mx ? logp[(size_t)s * C + k] : mx;
            for (int s = 0; s < S; s++) se += exp(logp[(size_t)s * C + k] - mx);
            u[k] = mx + log(se / S);
            if (probs) probs[(size_t)i * C + k] = (float)exp(u[k]);
        }
        float li = loss_on_u(u, C, y[i], target ? target[i] : -1, L, g);
        if (loss) loss[i] = li;
        if (!dz) continue;
        /* du_k/dz_sj = (1/S) p_s[k] (delta_kj - p_s[j]) / pbar_k, so with r_sk = p_s[k] / pbar_k:
        ** dz_sj = (1/S) (g_j r_sj - p_s[j] sum_k g_k r_sk). */
        for (int s = 0; s < S; s++) {
            const double *ls = logp + (size_t)s * C;
            double dot = 0.0;
            for (int k = 0; k < C; k++) {
                w[k] = exp(ls[k] - u[k]);           /* r_sk */
                dot += g[k] * w[k];
            }
            float *d = dz + ((size_t)s * B + i) * C;
            for (int k = 0; k < C; k++) d[k] = (float)((g[k] * w[k] - exp(ls[k]) * dot) / S);
        }
    }
    free(logp);
}

// ---- the input gradient ----

/* Parameters leave the tape during an attack: backward computes no weight gradient. */
static void params_need_grad(nn_model *m, bool on) {
    for (int i = 0; i < m->params.n; i++) {
        rt_tensor *p = m->params.items[i].t;
        p->flags = on ? p->flags | RT_NEEDS_GRAD : p->flags & ~RT_NEEDS_GRAD;
    }
}

static void to_model(const nn_attack_target *t, const float *x, float *out, int B) {
    size_t dim = (size_t)t->dim;
    for (size_t i = 0; i < (size_t)B; i++)
        for (size_t j = 0; j < dim; j++)
            out[i * dim + j] = t->a ? t->a[j] * x[i * dim + j] + t->b[j] : x[i * dim + j];
}

/* The data-set index of row e of the batch being attacked. */
static int64_t example_id(const nn_attack_target *t, int e) { return t->example0 + (t->rows ? t->rows[e] : e); }

/* An example's bytes must not depend on the other examples in its batch (the attack batch, the
** examples fooled so far), but a GEMM's rounding of a row depends on the product's row count
** (OpenBLAS blocks and picks kernels by the shape) and, with some kernels, on the row's position in
** it (Haswell's sgemm, which OpenBLAS also runs on Zen: with cblas_sgemm on the attack's shapes, a
** row moved by 8, 16, 24 or 32 rows kept its bytes and one moved by 1, 2, 4, 6 or 12 did not),
** though never on the other rows' values. So the model sees an example at a fixed place: row (index mod CHUNK) of a
** product of CHUNK rows that holds only examples of its home, index / CHUNK (index: in its data set),
** the other rows copies. An attack batch that is a run of CHUNK examples from a multiple of CHUNK
** (lb_attack's default batch, 100) is one product without padding. Training mode (tests) runs the
** batch as one: batch statistics would see the copies. */
#define CHUNK 100

/* The next product from row q of a batch of B: rows [q, q + n) (returned) of one home, row k at slot
** example_id(k) mod CHUNK; src[slot] (P of them) is the batch row each slot holds (row q where no row
** of the run has its home there). Training mode: the whole batch in order (P = B). */
static int chunk_plan(const nn_attack_target *t, int B, int q, int P, int *src) {
    if (t->train) {
        for (int i = 0; i < P; i++) src[i] = q + i;
        return P;
    }
    for (int i = 0; i < P; i++) src[i] = -1;
    int64_t home = example_id(t, q) / CHUNK;
    int n = 0;
    for (; q + n < B; n++) {
        int64_t id = example_id(t, q + n);
        int slot = (int)(id % CHUNK);
        if (id / CHUNK != home || src[slot] >= 0) break;
        src[slot] = q + n;
    }
    for (int i = 0; i < P; i++)
        if (src[i] < 0) src[i] = q;
    return n;
}

/* The slot in its product of row k of the batch. */
static int chunk_slot(const nn_attack_target *t, int k, int q) {
    return t->train ? k - q : (int)(example_id(t, k) % CHUNK);
}

/* The forward pass of draw d of call k at pixels x (P rows), rows src[] of the batch being attacked.
** The input tensor into *xin. */
static rt_tensor *forward(nn_attack_target *t, const float *x, int P, const int *src, uint64_t call, int draw,
                          bool grad, rt_tensor **xin, rt_rng *r) {
    rt_ctx *c = t->ctx;
    rt_ctx_reset(c);
    rt_tensor *in = rt_tensor_new_raw(c, 2, (int[]){ P, t->dim });
    to_model(t, x, in->data, P);
    if (grad) in->flags |= RT_NEEDS_GRAD;
    rt_rng_derive(r, &t->stream, call, (uint64_t)draw);
    int64_t *ids = rt_arena_alloc_raw(&c->step, (size_t)P * sizeof *ids);
    for (int e = 0; e < P; e++) ids[e] = example_id(t, src[e]);
    nn_fwd f = { c, t->train, r, t->samples, t->train ? 0 : P, 0, ids };
    *xin = in;
    return nn_model_forward(t->m, &f, in);
}

/* The rows src[] (P) of x (B, dim) and y into xp (P, dim) and yp (P). */
static void chunk_rows(const nn_attack_target *t, const float *x, const int32_t *y, const int *src, int P, float *xp,
                       int32_t *yp) {
    size_t D = (size_t)t->dim;
    for (int i = 0; i < P; i++) {
        memcpy(xp + (size_t)i * D, x + (size_t)src[i] * D, D * sizeof *xp);
        if (yp) yp[i] = y[src[i]];
    }
}

void nn_attack_grad_draw(nn_attack_target *t, const float *x, const int32_t *y, int B, nn_attack_loss L,
                         uint64_t call, int draw, float *loss, float *grad, float *probs) {
    rt_ctx *c = t->ctx;
    bool rec = c->grad_enabled;
    c->grad_enabled = true;
    params_need_grad(t->m, false);
    int CH = t->train ? B : CHUNK;
    size_t D = (size_t)t->dim, C = (size_t)t->nclass;
    float *xp = rt_xfloats((size_t)CH * D), *lp = rt_xfloats((size_t)CH), *pp = rt_xfloats((size_t)CH * C);
    int32_t *yp = rt_xcalloc(2 * (size_t)CH, sizeof *yp), *tp = L == NN_LOSS_DLR_TARGETED ? yp + CH : NULL;
    int *src = rt_xcalloc((size_t)CH, sizeof *src);
    RT_ASSERT(!tp || t->target);
    for (int q = 0, n; q < B; q += n) {
        n = chunk_plan(t, B, q, CH, src);
        chunk_rows(t, x, y, src, CH, xp, yp);
        for (int i = 0; tp && i < CH; i++) tp[i] = t->target[src[i]];
        rt_rng r;
        rt_tensor *in, *out = forward(t, xp, CH, src, call, draw, true, &in, &r);
        RT_ASSERT(out->shape[0] % CH == 0 && out->n / out->shape[0] == t->nclass);
        int S = out->shape[0] / CH;
        float *dz = rt_arena_alloc_raw(&c->step, (size_t)out->n * sizeof *dz);
        nn_attack_loss_grad_to(out->data, S, CH, t->nclass, yp, tp, L, lp, dz, pp);
        rt_backward_seeded(c, out, dz);
        for (int k = q; k < q + n; k++) {
            int e = chunk_slot(t, k, q);
            const float *gi = in->grad ? in->grad + (size_t)e * D : NULL;
            float *go = grad + (size_t)k * D;
            for (size_t j = 0; j < D; j++) {
                float d = gi ? gi[j] : 0.0f;
                go[j] = t->a ? t->a[j] * d : d;
            }
            if (loss) loss[k] = lp[e];
            if (probs) memcpy(probs + (size_t)k * C, pp + (size_t)e * C, C * sizeof *probs);
        }
    }
    free(xp);
    free(lp);
    free(pp);
    free(yp);
    free(src);
    params_need_grad(t->m, true);
    c->grad_enabled = rec;
}

void nn_attack_grad(nn_attack_target *t, const float *x, const int32_t *y, int B, nn_attack_loss L,
                    float *loss, float *grad, float *probs) {
    int K = t->eot > 0 ? t->eot : 1;
    if (K == 1) {
        nn_attack_grad_draw(t, x, y, B, L, t->calls++, 0, loss, grad, probs);
        return;
    }
    size_t n = (size_t)B * (size_t)t->dim, C = (size_t)t->nclass;
    float *g1 = rt_xfloats(n), *l1 = rt_xfloats((size_t)B), *p1 = rt_xfloats((size_t)B * C);
    double *gs = rt_xcalloc(n, sizeof *gs), *ls = rt_xcalloc((size_t)B, sizeof *ls),
           *ps = rt_xcalloc((size_t)B * C, sizeof *ps);
    for (int d = 0; d < K; d++) {
        nn_attack_grad_draw(t, x, y, B, L, t->calls, d, l1, g1, p1);
        for (size_t i = 0; i < n; i++) gs[i] += (double)g1[i];
        for (int i = 0; i < B; i++) ls[i] += (double)l1[i];
        for (size_t i = 0; i < (size_t)B * C; i++) ps[i] += (double)p1[i];
    }
    t->calls++;
    for (size_t i = 0; i < n; i++) grad[i] = (float)(gs[i] / K);
    for (int i = 0; loss && i < B; i++) loss[i] = (float)(ls[i] / K);
    for (size_t i = 0; probs && i < (size_t)B * C; i++) probs[i] = (float)(ps[i] / K);
    free(g1);
    free(l1);
    free(p1);
    free(gs);
    free(ls);
    free(ps);
}

void nn_attack_predict(nn_attack_target *t, const float *x, int B, float *probs) {
    rt_ctx *c = t->ctx;
    bool rec = c->grad_enabled;
    c->grad_enabled = false;
    int CH = t->train ? B : CHUNK;
    size_t D = (size_t)t->dim, C = (size_t)t->nclass;
    float *xp = rt_xfloats((size_t)CH * D), *pp = rt_xfloats((size_t)CH * C);
    int32_t *y0 = rt_xcalloc((size_t)CH, sizeof *y0);
    int *src = rt_xcalloc((size_t)CH, sizeof *src);
    uint64_t call = t->calls++;
    for (int q = 0, n; q < B; q += n) {
        n = chunk_plan(t, B, q, CH, src);
        chunk_rows(t, x, NULL, src, CH, xp, NULL);
        rt_rng r;
        rt_tensor *in, *out = forward(t, xp, CH, src, call, 0, false, &in, &r);
        nn_attack_loss_grad(out->data, out->shape[0] / CH, CH, t->nclass, y0, NN_LOSS_CE, NULL, NULL, pp);
        for (int k = q; k < q + n; k++)
            memcpy(probs + (size_t)k * C, pp + (size_t)chunk_slot(t, k, q) * C, C * sizeof *probs);
    }
    free(y0);
    free(xp);
    free(pp);
    free(src);
    c->grad_enabled = rec;
}

void nn_attack_checks(nn_attack_target *t, const float *x, const int32_t *y, int B, bool *randomized,
                      int *zero_grad) {
    size_t C = (size_t)t->nclass, D = (size_t)t->dim;
    float *p = rt_xfloats((size_t)B * C), *p2 = rt_xfloats((size_t)B * C), *g = rt_xfloats((size_t)B * D);
    nn_attack_predict(t, x, B, p);
    nn_attack_predict(t, x, B, p2);
    *randomized = memcmp(p, p2, (size_t)B * C * sizeof *p) != 0;
    int eot = t->eot;
    t->eot = 1;
    nn_attack_grad(t, x, y, B, NN_LOSS_CE, NULL, g, NULL);
    t->eot = eot;
    *zero_grad = 0;
    for (int i = 0; i < B; i++) {
        bool z = true;
        for (size_t j = 0; j < D && z; j++) z = g[(size_t)i * D + j] == 0.0f;
        *zero_grad += z;
    }
    free(p);
    free(p2);
    free(g);
}

// ---- projection and the attacks ----

void nn_attack_distances(const float *x0, const float *xa, int dim, double *l0, double *l2, double *linf) {
    double c0 = 0, c2 = 0, ci = 0;
    for (int j = 0; j < dim; j++) {
        double d = fabs((double)xa[j] - (double)x0[j]);
        c0 += d > 0.0;
        c2 += d * d;
        ci = d > ci ? d : ci;
    }
    *l0 = c0;
    *l2 = sqrt(c2);
    *linf = ci;
}

void nn_attack_project(float *x, const float *x0, int dim, nn_attack_norm norm, float eps) {
    if (norm == NN_NORM_L2) {
        double s = 0.0;
        for (int j = 0; j < dim; j++) s += (double)(x[j] - x0[j]) * (double)(x[j] - x0[j]);
        double r = sqrt(s);
        if (r > (double)eps) {
            float k = (float)((double)eps / r);
            for (int j = 0; j < dim; j++) x[j] = x0[j] + (x[j] - x0[j]) * k;
        }
    } else {
        for (int j = 0; j < dim; j++) {
            float lo = x0[j] - eps, hi = x0[j] + eps;
            x[j] = x[j] < lo ? lo : x[j] > hi ? hi : x[j];
        }
    }
    /* The box after the ball: clipping to [0, 1] moves every coordinate toward x0's (which is in the
    ** box), so the result stays in the ball as well. */
    for (int j = 0; j < dim; j++) x[j] = x[j] < 0.0f ? 0.0f : x[j] > 1.0f ? 1.0f : x[j];
}

static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* The attack's own check of one example's prediction. */
static bool fools(const float *p, int C, int32_t label, bool targeted) {
    int k = argmax(p, C);
    return targeted ? k == label : k != label;
}

static nn_attack_loss loss_of(const nn_attack_cfg *cfg) {
    RT_ASSERT(!(cfg->targeted && cfg->loss == NN_LOSS_DLR && cfg->kind != NN_ATK_APGD));
    if (cfg->kind == NN_ATK_CW) return cfg->targeted ? NN_LOSS_MARGIN_TARGETED : NN_LOSS_MARGIN;
    if (cfg->targeted) return cfg->loss == NN_LOSS_DLR ? NN_LOSS_DLR_TARGETED : NN_LOSS_CE_TARGETED;
    return cfg->loss;
}

/* A random start in the ball: uniform in the L-inf cube, or uniform in the L2 ball (a normal
** direction, radius eps u^(1/dim)). */
static void random_start(rt_rng *r, float *x, const float *x0, int dim, nn_attack_norm norm, float eps) {
    if (norm == NN_NORM_L2) {
        double s = 0.0;
        for (int j = 0; j < dim; j++) {
            x[j] = (float)rt_rng_normal(r);
            s += (double)x[j] * (double)x[j];
        }
        double rad = (double)eps * pow(rt_rng_uniform(r), 1.0 / dim) / (s > 0.0 ? sqrt(s) : 1.0);
        for (int j = 0; j < dim; j++) x[j] = x0[j] + (float)((double)x[j] * rad);
    } else {
        for (int j = 0; j < dim; j++) x[j] = x0[j] + (float)((2.0 * rt_rng_uniform(r) - 1.0) * (double)eps);
    }
    nn_attack_project(x, x0, dim, norm, eps);
}

int nn_apgd_checkpoints(int steps, int *w, int max) {
    double p0 = 0.0, p1 = 0.22;
    int n = 0;
    if (n < max) w[n++] = 0;
    while (p1 <= 1.0 + 1e-12 && n < max) {
        /* ceil(p steps), with p's rounding (0.22 * 100 = 22.000000000000004) taken off */
        w[n++] = (int)ceil(p1 * steps - 1e-9);
        double next = p1 + fmax(p1 - p0 - 0.03, 0.06);
        p0 = p1;
        p1 = next;
    }
    return n;
}

/* The step of norm `norm` along g: eta sign(g), or eta g / |g|_2. */
static void grad_step(float *x, const float *g, size_t D, nn_attack_norm norm, float eta) {
    if (norm == NN_NORM_L2) {
        double s = 0.0;
        for (size_t j = 0; j < D; j++) s += (double)g[j] * (double)g[j];
        float a = s > 0.0 ? (float)((double)eta / sqrt(s)) : 0.0f;
        for (size_t j = 0; j < D; j++) x[j] += a * g[j];
    } else {
        for (size_t j = 0; j < D; j++) x[j] += eta * (g[j] > 0.0f ? 1.0f : g[j] < 0.0f ? -1.0f : 0.0f);
    }
}

/* APGD on the n examples x0c, loss L of labels yc (and targets tc for the targeted DLR, else NULL),
** into xadv at idx[]: an example is fooled when its predicted class is chk[k] (hit) or is not (!hit);
** its random start comes from key and its index. */
static void apgd(nn_attack_target *t, const nn_attack_cfg *cfg, nn_attack_loss L, const float *x0c, const int32_t *yc,
                 const int32_t *tc, const int32_t *chk, bool hit, uint64_t key, const int *idx, int n, float *xadv,
                 uint8_t *fooled) {
    enum { MAXCK = 64 };
    const float rho = 0.75f, alpha = 0.75f;
    size_t D = (size_t)t->dim, C = (size_t)t->nclass;
    int N = cfg->steps > 0 ? cfg->steps : 1, w[MAXCK];
    int nck = nn_apgd_checkpoints(N, w, MAXCK), j = 1;
    float *x = rt_xfloats((size_t)n * D), *xp = rt_xfloats((size_t)n * D), *xm = rt_xfloats((size_t)n * D),
          *g = rt_xfloats((size_t)n * D), *z = rt_xfloats(D), *p = rt_xfloats((size_t)n * C), *f = rt_xfloats((size_t)n);
    float *fprev = rt_xfloats((size_t)n), *fmax = rt_xfloats((size_t)n), *fck = rt_xfloats((size_t)n),
          *eta = rt_xfloats((size_t)n);
    int *inc = rt_xcalloc((size_t)n, sizeof *inc);
    uint8_t *done = rt_xcalloc((size_t)n, 1), *reduced = rt_xcalloc((size_t)n, 1), *restart = rt_xcalloc((size_t)n, 1);
    rt_rng r;
    for (int k = 0; k < n; k++) {
        rt_rng_derive(&r, &t->stream, key, (uint64_t)example_id(t, k));
        if (cfg->random_start) random_start(&r, x + k * D, x0c + k * D, t->dim, cfg->norm, cfg->eps);
        else memcpy(x + k * D, x0c + k * D, D * sizeof *x);
        memcpy(xp + k * D, x + k * D, D * sizeof *x);
        eta[k] = 2.0f * cfg->eps;
    }
    int left = n;
    const int32_t *target = t->target;
    t->target = tc;
    for (int it = 0; it <= N && left > 0; it++) {
        nn_attack_grad(t, x, yc, n, L, f, g, p);
        for (int k = 0; k < n; k++) {
            if (done[k]) continue;
            float *xa = xadv + (size_t)idx[k] * D;
            if (fools(p + (size_t)k * C, (int)C, chk[k], hit)) {
                memcpy(xa, x + k * D, D * sizeof *x);
                fooled[idx[k]] = 1;
                done[k] = 1;
                left--;
                continue;
            }
            if (it > 0 && f[k] > fprev[k]) inc[k]++;
            if (it == 0 || f[k] > fmax[k]) {
                fmax[k] = f[k];
                memcpy(xm + k * D, x + k * D, D * sizeof *x);
            }
            if (it == 0) fck[k] = fmax[k];
            fprev[k] = f[k];
            if (it == N) memcpy(xa, xm + k * D, D * sizeof *x);     /* not fooled: the best point */
        }
        if (it == N) break;
        if (j < nck && it == w[j]) {
            for (int k = 0; k < n; k++) {
                bool c1 = (float)inc[k] < rho * (float)(w[j] - w[j - 1]);
                bool c2 = !reduced[k] && !(fmax[k] > fck[k]);
                reduced[k] = restart[k] = c1 || c2;
                if (restart[k]) eta[k] *= 0.5f;
                fck[k] = fmax[k];
                inc[k] = 0;
            }
            j++;
        }
        for (int k = 0; k < n; k++) {
            if (done[k]) continue;
            float *xk = x + k * D, *pk = xp + k * D;
            if (restart[k]) {       /* x^(w_j + 1) = x_max: the next gradient is taken there */
                memcpy(xk, xm + k * D, D * sizeof *x);
                memcpy(pk, xk, D * sizeof *x);
                restart[k] = 0;
                continue;
            }
            memcpy(z, xk, D * sizeof *z);
            grad_step(z, g + k * D, D, cfg->norm, eta[k]);
            nn_attack_project(z, x0c + k * D, t->dim, cfg->norm, cfg->eps);
            if (it > 0)
                for (size_t q = 0; q < D; q++) z[q] = xk[q] + alpha * (z[q] - xk[q]) + (1.0f - alpha) * (xk[q] - pk[q]);
            nn_attack_project(z, x0c + k * D, t->dim, cfg->norm, cfg->eps);
            memcpy(pk, xk, D * sizeof *x);
            memcpy(xk, z, D * sizeof *x);
        }
    }
    t->target = target;
    free(x);
    free(xp);
    free(xm);
    free(g);
    free(z);
    free(p);
    free(f);
    free(fprev);
    free(fmax);
    free(fck);
    free(eta);
    free(inc);
    free(done);
    free(reduced);
    free(restart);
}

/* APGD-T (nn_attack.h) on the n examples x0c with labels yc, rows idx[] of the caller's batch (t->rows
** is idx): a run of APGD toward each of the top cfg->targets other classes of a clean prediction, each
** on the examples no run has fooled yet. */
static void apgd_top(nn_attack_target *t, const nn_attack_cfg *cfg, nn_attack_loss L, const float *x0c,
                     const int32_t *yc, const int *idx, int n, float *xadv, uint8_t *fooled) {
    int C = t->nclass, K = cfg->targets < C - 1 ? cfg->targets : C - 1, N = cfg->steps > 0 ? cfg->steps : 1;
    size_t D = (size_t)t->dim;
    float *p = rt_xfloats((size_t)n * (size_t)C), *xs = rt_xfloats((size_t)n * D);
    int32_t *rank = rt_xcalloc((size_t)n * (size_t)C, sizeof *rank), *ys = rt_xcalloc((size_t)n, sizeof *ys),
            *ts = rt_xcalloc((size_t)n, sizeof *ts);
    int *rows = rt_xcalloc((size_t)n, sizeof *rows);
    nn_attack_predict(t, x0c, n, p);
    for (int k = 0; k < n; k++) {       /* the other classes by falling probability, ties to the lower */
        int32_t *rk = rank + (size_t)k * C;
        int m = 0;
        for (int c = 0; c < C; c++) {
            if (c == yc[k]) continue;
            int q = m++;
            for (; q > 0 && p[(size_t)k * C + c] > p[(size_t)k * C + rk[q - 1]]; q--) rk[q] = rk[q - 1];
            rk[q] = c;
        }
    }
    uint64_t call0 = t->calls;
    const int *caller = t->rows;
    for (int j = 0; j < K; j++) {
        int m = 0;
        for (int k = 0; k < n; k++) {
            if (fooled[idx[k]]) continue;
            memcpy(xs + (size_t)m * D, x0c + (size_t)k * D, D * sizeof *xs);
            ys[m] = yc[k];
            ts[m] = rank[(size_t)k * C + j];
            rows[m++] = idx[k];
        }
        if (m == 0) break;
        t->rows = rows;
        t->calls = call0 + (uint64_t)j * (uint64_t)(N + 1);
        if (L == NN_LOSS_DLR_TARGETED)
            apgd(t, cfg, L, xs, ys, ts, ys, false, 0xA96Dull + ((uint64_t)(j + 1) << 32), rows, m, xadv, fooled);
        else
            apgd(t, cfg, L, xs, ts, NULL, ys, false, 0xA96Dull + ((uint64_t)(j + 1) << 32), rows, m, xadv, fooled);
    }
    t->rows = caller;
    t->calls = call0 + (uint64_t)K * (uint64_t)(N + 1);
    free(p);
    free(xs);
    free(rank);
    free(ys);
    free(ts);
    free(rows);
}

void nn_cw_search(bool success, double *c, double *lo, double *hi) {
    if (success) {
        *hi = fmin(*hi, *c);
        if (*hi < 1e10) *c = 0.5 * (*lo + *hi);
    } else {
        *lo = fmax(*lo, *c);
        *c = *hi < 1e10 ? 0.5 * (*lo + *hi) : 10.0 * *c;
    }
}

/* The margin of loss L (NN_LOSS_MARGIN or _TARGETED toward lab) of the probabilities p (C). */
static double margin_of(const float *p, int C, int32_t lab, nn_attack_loss L) {
    double o = -(double)INFINITY;
    for (int k = 0; k < C; k++)
        if (k != lab) o = fmax(o, log((double)p[k]));
    double u = log((double)p[lab]);
    return L == NN_LOSS_MARGIN ? u - o : o - u;
}

/* Carlini-Wagner L2 (nn_attack.h) on the n examples x0c (labels or targets lab) into xadv at idx[]. */
static void cw_l2(nn_attack_target *t, const nn_attack_cfg *cfg, const float *x0c, const int32_t *lab, const int *idx,
                  int n, float *xadv, uint8_t *fooled) {
    size_t D = (size_t)t->dim;
    int steps = cfg->steps > 0 ? cfg->steps : 1, rounds = cfg->search > 0 ? cfg->search : 1;
    int every = steps / 10 > 0 ? steps / 10 : 1;
    double lr = cfg->lr > 0.0f ? (double)cfg->lr : 0.01, kappa = (double)cfg->kappa;
    nn_attack_loss L = loss_of(cfg);
    int eot = t->eot, K = cfg->eot > 0 ? cfg->eot : eot > 0 ? eot : 1, C = t->nclass;
    t->eot = K;
    float *p = K > 1 ? rt_xfloats((size_t)n * (size_t)C) : NULL;
    double *c = rt_xcalloc((size_t)n, sizeof *c), *lo = rt_xcalloc((size_t)n, sizeof *lo),
           *hi = rt_xcalloc((size_t)n, sizeof *hi), *best = rt_xcalloc((size_t)n, sizeof *best),
           *prev = rt_xcalloc((size_t)n, sizeof *prev);
    float *w = rt_xfloats((size_t)n * D), *m = rt_xfloats((size_t)n * D), *v = rt_xfloats((size_t)n * D),
          *x = rt_xfloats((size_t)n * D), *g = rt_xfloats((size_t)n * D), *f = rt_xfloats((size_t)n);
    int32_t *ya = rt_xcalloc((size_t)n, sizeof *ya);
    int *act = rt_xcalloc((size_t)n, sizeof *act), *pos = rt_xcalloc((size_t)n, sizeof *pos);
    uint8_t *succ = rt_xcalloc((size_t)n, 1), *live = rt_xcalloc((size_t)n, 1);
    for (int e = 0; e < n; e++) {
        c[e] = (double)cfg->c0;
        hi[e] = 1e10;
        best[e] = (double)INFINITY;
    }
    const int *rows = t->rows;
    uint64_t call0 = t->calls;
    for (int r = 0; r < rounds; r++) {
        /* Step `it` of round r is call r steps + it whichever examples left earlier: an example's
        ** noise does not depend on its batch-mates' early aborts. */
        t->calls = call0 + (uint64_t)r * (uint64_t)steps;
        for (int e = 0; e < n; e++) {
            for (size_t j = 0; j < D; j++)
                w[e * D + j] = (float)atanh(0.999999 * (2.0 * (double)x0c[e * D + j] - 1.0));
            memset(m + e * D, 0, D * sizeof *m);
            memset(v + e * D, 0, D * sizeof *v);
            succ[e] = 0;
            live[e] = 1;
            prev[e] = (double)INFINITY;
        }
        for (int it = 0; it < steps; it++) {
            int na = 0;                 /* the examples still in this round, gathered */
            for (int e = 0; e < n; e++)
                if (live[e]) {
                    pos[na] = e;
                    act[na] = idx[e];
                    ya[na] = lab[e];
                    for (size_t j = 0; j < D; j++) x[na * D + j] = 0.5f * (tanhf(w[e * D + j]) + 1.0f);
                    na++;
                }
            if (na == 0) break;
            t->rows = act;
            nn_attack_grad(t, x, ya, na, L, f, g, p);
            t->rows = rows;
            double b1 = 1.0 - pow(0.9, it + 1), b2 = 1.0 - pow(0.999, it + 1);
            for (int k = 0; k < na; k++) {
                int e = pos[k];
                const float *xk = x + k * D, *x0 = x0c + e * D;
                double l2 = 0.0;
                for (size_t j = 0; j < D; j++) l2 += ((double)xk[j] - (double)x0[j]) * ((double)xk[j] - (double)x0[j]);
                /* one draw: its own margin; k draws: the margin of their mean predictive */
                bool ok = (p ? margin_of(p + (size_t)k * C, C, ya[k], L) : (double)f[k]) < -kappa;
                if (ok) succ[e] = 1;
                if (ok && l2 < best[e]) {
                    best[e] = l2;
                    float *xa = xadv + (size_t)idx[e] * D;
                    for (size_t j = 0; j < D; j++) xa[j] = fabsf(xk[j] - x0[j]) <= 1e-6f ? x0[j] : xk[j];
                    fooled[idx[e]] = 1;
                }
                double obj = l2 + c[e] * fmax((double)f[k], -kappa);
                if (it % every == 0) {
                    if (obj > 0.9999 * prev[e]) {
                        live[e] = 0;    /* early abort: no progress in the last steps / 10 steps */
                        continue;
                    }
                    prev[e] = obj;
                }
                double cf = (double)f[k] > -kappa ? c[e] : 0.0;
                float *we = w + e * D, *me = m + e * D, *ve = v + e * D;
                const float *gk = g + k * D;
                for (size_t j = 0; j < D; j++) {
                    double tw = 2.0 * (double)xk[j] - 1.0;      /* tanh(w) */
                    double gw = (2.0 * ((double)xk[j] - (double)x0[j]) + cf * (double)gk[j]) * 0.5 * (1.0 - tw * tw);
                    me[j] = (float)(0.9 * (double)me[j] + 0.1 * gw);
                    ve[j] = (float)(0.999 * (double)ve[j] + 0.001 * gw * gw);
                    we[j] -= (float)(lr * ((double)me[j] / b1) / (sqrt((double)ve[j] / b2) + 1e-8));
                }
            }
        }
        for (int e = 0; e < n; e++) nn_cw_search(succ[e], &c[e], &lo[e], &hi[e]);
    }
    t->calls = call0 + (uint64_t)rounds * (uint64_t)steps;
    t->eot = eot;
    free(p);
    free(c);
    free(lo);
    free(hi);
    free(best);
    free(prev);
    free(w);
    free(m);
    free(v);
    free(x);
    free(g);
    free(f);
    free(ya);
    free(act);
    free(pos);
    free(succ);
    free(live);
}

void nn_attack_run(nn_attack_target *t, const nn_attack_cfg *cfg, const float *x0, const int32_t *y,
                   const int32_t *target, int B, const uint8_t *active, float *xadv, uint8_t *fooled) {
    bool top = cfg->kind == NN_ATK_APGD && cfg->targeted && cfg->targets > 0;
    RT_ASSERT(cfg->eps >= 0.0f && (!cfg->targeted || target || top));
    int dim = t->dim, C = t->nclass;
    size_t D = (size_t)dim;
    memcpy(xadv, x0, (size_t)B * D * sizeof *xadv);
    memset(fooled, 0, (size_t)B);
    const int32_t *lab = cfg->targeted && !top ? target : y;
    nn_attack_loss L = loss_of(cfg);
    /* The examples still attacked, gathered into one contiguous batch. */
    int *idx = rt_xcalloc((size_t)B + 1, sizeof *idx), n = 0;
    for (int i = 0; i < B; i++)
        if (!active || active[i]) idx[n++] = i;
    float *x = rt_xfloats((size_t)B * D + 1), *x0c = rt_xfloats((size_t)B * D + 1),
          *g = rt_xfloats((size_t)B * D + 1), *p = rt_xfloats((size_t)B * C + 1);
    int32_t *yc = rt_xcalloc((size_t)B + 1, sizeof *yc), *tc = rt_xcalloc((size_t)B + 1, sizeof *tc);
    const int *rows = t->rows;
    RT_ASSERT(!rows && "nn_attack_run takes the caller's batch: rows is its own");
    t->rows = idx;                      /* row k of every batch below is example idx[k] */
    if (cfg->kind == NN_ATK_FGSM) {
        for (int k = 0; k < n; k++) {
            memcpy(x0c + k * D, x0 + idx[k] * D, D * sizeof *x);
            yc[k] = lab[idx[k]];
        }
        if (n > 0) nn_attack_grad(t, x0c, yc, n, L, NULL, g, NULL);
        for (int k = 0; k < n; k++) {
            float *xa = xadv + idx[k] * D;
            for (size_t j = 0; j < D; j++) {
                float s = g[k * D + j] > 0.0f ? 1.0f : g[k * D + j] < 0.0f ? -1.0f : 0.0f;
                xa[j] = x0c[k * D + j] + cfg->eps * s;
            }
            nn_attack_project(xa, x0c + k * D, dim, NN_NORM_LINF, cfg->eps);
        }
        if (n > 0) {
            for (int k = 0; k < n; k++) memcpy(x + k * D, xadv + idx[k] * D, D * sizeof *x);
            nn_attack_predict(t, x, n, p);
            for (int k = 0; k < n; k++) fooled[idx[k]] = fools(p + (size_t)k * C, C, lab[idx[k]], cfg->targeted);
        }
    } else if (cfg->kind == NN_ATK_APGD) {
        for (int k = 0; k < n; k++) {
            memcpy(x0c + k * D, x0 + idx[k] * D, D * sizeof *x);
            yc[k] = lab[idx[k]];
            tc[k] = y[idx[k]];
        }
        if (n > 0 && top) apgd_top(t, cfg, L, x0c, yc, idx, n, xadv, fooled);
        else if (n > 0 && L == NN_LOSS_DLR_TARGETED)     /* labels tc, toward yc */
            apgd(t, cfg, L, x0c, tc, yc, yc, true, 0xA96Dull, idx, n, xadv, fooled);
        else if (n > 0) apgd(t, cfg, L, x0c, yc, NULL, yc, cfg->targeted, 0xA96Dull, idx, n, xadv, fooled);
    } else if (cfg->kind == NN_ATK_CW) {
        for (int k = 0; k < n; k++) {
            memcpy(x0c + k * D, x0 + idx[k] * D, D * sizeof *x);
            yc[k] = lab[idx[k]];
        }
        if (n > 0) cw_l2(t, cfg, x0c, yc, idx, n, xadv, fooled);
    } else {
        int steps = cfg->steps > 0 ? cfg->steps : 1;
        float alpha = cfg->step > 0.0f ? cfg->step : 2.5f * cfg->eps / (float)steps;
        rt_rng r;
        for (int rs = 0; rs < (cfg->restarts > 0 ? cfg->restarts : 1) && n > 0; rs++) {
            for (int k = 0; k < n; k++) {
                memcpy(x0c + k * D, x0 + idx[k] * D, D * sizeof *x);
                yc[k] = lab[idx[k]];
                rt_rng_derive(&r, &t->stream, 0xA77AC4ull + ((uint64_t)rs << 32), (uint64_t)example_id(t, k));
                if (cfg->random_start) random_start(&r, x + k * D, x0c + k * D, dim, cfg->norm, cfg->eps);
                else memcpy(x + k * D, x0c + k * D, D * sizeof *x);
            }
            for (int it = 0; it <= steps && n > 0; it++) {
                /* The forward at the iterate gives its prediction (the check) and its gradient. */
                if (it < steps) nn_attack_grad(t, x, yc, n, L, NULL, g, p);
                else nn_attack_predict(t, x, n, p);
                int m = 0;
                for (int k = 0; k < n; k++) {
                    memcpy(xadv + idx[k] * D, x + k * D, D * sizeof *x);
                    if (fools(p + (size_t)k * C, C, yc[k], cfg->targeted)) {
                        fooled[idx[k]] = 1;
                        continue;
                    }
                    if (it == steps) {
                        idx[m++] = idx[k];
                        continue;
                    }
                    float *xk = x + k * D;
                    grad_step(xk, g + k * D, D, cfg->norm, alpha);
                    nn_attack_project(xk, x0c + k * D, dim, cfg->norm, cfg->eps);
                    /* Compact: example k moves to slot m. */
                    if (m != k) {
                        memcpy(x + m * D, xk, D * sizeof *x);
                        memcpy(x0c + m * D, x0c + k * D, D * sizeof *x);
                        yc[m] = yc[k];
                    }
                    idx[m++] = idx[k];
                }
                n = m;
            }
            /* Unfooled examples restart from the clean ones (their last iterate stays in xadv). */
        }
    }
    t->rows = rows;
    free(idx);
    free(x);
    free(x0c);
    free(g);
    free(p);
    free(yc);
    free(tc);
}

void nn_attack_scaling_range(nn_dataset *train_raw, nn_scale s, const float *lo, const float *hi, float *a,
                             float *b) {
    size_t D = (size_t)train_raw->dim;
    nn_dataset probe = *train_raw;
    probe.n = 2;
    probe.x = rt_xfloats(2 * D);
    probe.y = rt_xcalloc(2, sizeof *probe.y);
    memcpy(probe.x, lo, D * sizeof *lo);
    memcpy(probe.x + D, hi, D * sizeof *hi);
    nn_data_scale(train_raw, &probe, s);
    for (size_t j = 0; j < D; j++) {
        a[j] = probe.x[D + j] - probe.x[j];
        b[j] = probe.x[j];
    }
    free(probe.x);
    free(probe.y);
}

void nn_attack_scaling(nn_dataset *train_raw, nn_scale s, float *a, float *b) {
    size_t D = (size_t)train_raw->dim;
    float *lo = rt_xfloats(D), *hi = rt_xfloats(D);
    for (size_t j = 0; j < D; j++) {
        lo[j] = 0.0f;
        hi[j] = 255.0f;
    }
    nn_attack_scaling_range(train_raw, s, lo, hi, a, b);
    free(lo);
    free(hi);
}
