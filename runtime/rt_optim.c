// rt_optim.c: SGD / Adam / AdamW / Adamax over flat buffers, LR schedules, clipping, weight EMA.
//
// Each update is one loop of float arithmetic over restrict pointers with every loop-invariant
// scalar (bias corrections, 1 - beta, decay factors) computed before it, so that gcc -O2
// -ftree-vectorize turns it into SIMD code. Scalars are derived in double and rounded once.
#include "rt_optim.h"
#include "rt_pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---- configuration ----

rt_optim_cfg rt_optim_cfg_default(void) {
    rt_optim_cfg c;
    memset(&c, 0, sizeof c);
    c.kind = RT_OPTIM_ADAM;
    c.lr = 1e-3f;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    c.sched = RT_SCHED_CONST;
    c.decay = 1.0f;
    c.every = 1.0f;
    c.gamma = 0.1f;
    c.epochs = 1.0f;
    return c;
}

const char *rt_optim_kind_name(rt_optim_kind k) {
    switch (k) {
    case RT_OPTIM_SGD: return "sgd";
    case RT_OPTIM_ADAM: return "adam";
    case RT_OPTIM_ADAMW: return "adamw";
    case RT_OPTIM_ADAMAX: return "adamax";
    }
    return "unknown";
}

const char *rt_sched_kind_name(rt_sched_kind k) {
    switch (k) {
    case RT_SCHED_CONST: return "const";
    case RT_SCHED_EXP: return "exp";
    case RT_SCHED_STEP: return "step";
    case RT_SCHED_COSINE: return "cosine";
    }
    return "unknown";
}

// True when x is finite and lo <= x < hi (hi_open) or lo <= x <= hi.
static bool in_range(float x, float lo, float hi, bool hi_open) {
    if (!isfinite(x) || x < lo) return false;
    return hi_open ? x < hi : x <= hi;
}

static bool finite_pos(float x) { return isfinite(x) && x > 0.0f; }

rt_status rt_optim_cfg_check(const rt_optim_cfg *c, rt_err *err) {
    const char *k = rt_optim_kind_name(c->kind);
    if ((unsigned)c->kind > (unsigned)RT_OPTIM_ADAMAX)
        return rt_err_set(err, RT_ERR_ARG, "optim: unknown kind %d; use sgd, adam, adamw or adamax",
                          (int)c->kind);
    if (!in_range(c->lr, 0.0f, INFINITY, true))
        return rt_err_set(err, RT_ERR_ARG, "%s: lr = %g must be finite and >= 0; try 1e-3", k,
                          (double)c->lr);
    if (!in_range(c->weight_decay, 0.0f, INFINITY, true))
        return rt_err_set(err, RT_ERR_ARG, "%s: weight_decay = %g must be finite and >= 0", k,
                          (double)c->weight_decay);
    if (!in_range(c->clip_norm, 0.0f, INFINITY, true))
        return rt_err_set(err, RT_ERR_ARG, "%s: clip_norm = %g must be >= 0 (0 turns clipping off)",
                          k, (double)c->clip_norm);
    if (c->kind == RT_OPTIM_SGD) {
        if (!in_range(c->momentum, 0.0f, 1.0f, true))
            return rt_err_set(err, RT_ERR_ARG, "sgd: momentum = %g must be in [0, 1); try 0.9",
                              (double)c->momentum);
        if (c->nesterov && c->momentum <= 0.0f)
            return rt_err_set(err, RT_ERR_ARG, "sgd: nesterov needs momentum > 0; set momentum = 0.9");
    } else {
        if (!in_range(c->beta1, 0.0f, 1.0f, true))
            return rt_err_set(err, RT_ERR_ARG, "%s: beta1 = %g must be in [0, 1); try 0.9", k,
                              (double)c->beta1);
        if (!in_range(c->beta2, 0.0f, 1.0f, true))
            return rt_err_set(err, RT_ERR_ARG, "%s: beta2 = %g must be in [0, 1); try 0.999", k,
                              (double)c->beta2);
        if (!finite_pos(c->eps))
            return rt_err_set(err, RT_ERR_ARG, "%s: eps = %g must be > 0; try 1e-8", k,
                              (double)c->eps);
    }
    switch (c->sched) {
    case RT_SCHED_CONST: break;
    case RT_SCHED_EXP:
        if (!finite_pos(c->decay))
            return rt_err_set(err, RT_ERR_ARG, "exp schedule: decay = %g must be > 0; try 0.97",
                              (double)c->decay);
        if (!finite_pos(c->every))
            return rt_err_set(err, RT_ERR_ARG, "exp schedule: every = %g epochs must be > 0; try 1",
                              (double)c->every);
        break;
    case RT_SCHED_STEP:
        if (!finite_pos(c->gamma))
            return rt_err_set(err, RT_ERR_ARG, "step schedule: gamma = %g must be > 0; try 0.1",
                              (double)c->gamma);
        if (c->nmilestones < 0 || c->nmilestones > RT_MAX_MILESTONES)
            return rt_err_set(err, RT_ERR_ARG, "step schedule: %d milestones; give at most %d",
                              c->nmilestones, RT_MAX_MILESTONES);
        break;
    case RT_SCHED_COSINE:
        if (!finite_pos(c->epochs))
            return rt_err_set(err, RT_ERR_ARG, "cosine schedule: epochs = %g must be > 0; set it to "
                              "the number of training epochs", (double)c->epochs);
        if (!in_range(c->lr_min, 0.0f, c->lr, false))
            return rt_err_set(err, RT_ERR_ARG, "cosine schedule: lr_min = %g must be in [0, lr = %g]",
                              (double)c->lr_min, (double)c->lr);
        break;
    default:
        return rt_err_set(err, RT_ERR_ARG, "optim: unknown schedule %d; use const, exp, step or "
                          "cosine", (int)c->sched);
    }
    return RT_OK;
}

// ---- schedules ----

float rt_optim_lr(const rt_optim_cfg *c, double epoch) {
    double lr = (double)c->lr;
    double e = epoch > 0.0 ? epoch : 0.0;
    switch (c->sched) {
    case RT_SCHED_CONST:
        return c->lr;
    case RT_SCHED_EXP:
        RT_ASSERT(c->every > 0.0f);
        return (float)(lr * pow((double)c->decay, floor(e / (double)c->every)));
    case RT_SCHED_STEP: {
        int passed = 0;
        for (int i = 0; i < c->nmilestones; i++)
            if (e >= (double)c->milestones[i]) passed++;
        return (float)(lr * pow((double)c->gamma, (double)passed));
    }
    case RT_SCHED_COSINE: {
        RT_ASSERT(c->epochs > 0.0f);
        double len = (double)c->epochs, lo = (double)c->lr_min;
        if (e > len) e = len;
        return (float)(lo + (lr - lo) * 0.5 * (1.0 + cos(3.14159265358979323846 * e / len)));
    }
    }
    RT_ABORT("rt_optim_lr: unknown schedule %d", (int)c->sched);
}

// ---- state ----

void rt_optim_init(rt_optim *o, const rt_optim_cfg *cfg, size_t n) {
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->n = n;
    o->m = rt_xfloats(n);
    o->v = cfg->kind == RT_OPTIM_SGD ? NULL : rt_xfloats(n);
}

void rt_optim_free(rt_optim *o) {
    free(o->m);
    free(o->v);
    memset(o, 0, sizeof *o);
}

// ---- update rules (one loop each) ----

// SGD with momentum (PyTorch, dampening 0): g' = g + wd*p; v = mu*v + g'; p -= lr*v.
// With momentum 0 this is plain SGD (v = g').
RT_SIMD_CLONES
static void sgd_update(size_t n, float *restrict p, const float *restrict g, float *restrict v,
                       float lr, float mu, float wd) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        float vi = mu * v[i] + gi;
        v[i] = vi;
        p[i] -= lr * vi;
    }
}

// Nesterov: the same velocity, but the step looks ahead: p -= lr*(g' + mu*v).
RT_SIMD_CLONES
static void sgd_nesterov_update(size_t n, float *restrict p, const float *restrict g,
                                float *restrict v, float lr, float mu, float wd) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        float vi = mu * v[i] + gi;
        v[i] = vi;
        p[i] -= lr * (gi + mu * vi);
    }
}

// Adam and AdamW (PyTorch's formulation), one element:
//   g' = g + l2*p;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2
//   p = shrink*p - step * m / (sqrt(v)/sqrt(1-b2^t) + eps),  step = lr / (1-b1^t)
// Adam: l2 = wd, shrink = 1.  AdamW: l2 = 0, shrink = 1 - lr*wd (decoupled decay).
// m and v are updated in place; the new p is returned.
static inline float adam_elem(float p, float g, float *restrict m, float *restrict v, float b1, float b2, float eps,
                              float step, float inv_sqrt_bc2, float l2, float shrink) {
    float gi = g + l2 * p;
    float mi = b1 * *m + (1.0f - b1) * gi;
    float vi = b2 * *v + (1.0f - b2) * gi * gi;
    *m = mi;
    *v = vi;
    return shrink * p - step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
}

RT_SIMD_CLONES
static void adam_update(size_t n, float *restrict p, const float *restrict g, float *restrict m,
                        float *restrict v, float b1, float b2, float eps, float step,
                        float inv_sqrt_bc2, float l2, float shrink) {
    for (size_t i = 0; i < n; i++) p[i] = adam_elem(p[i], g[i], &m[i], &v[i], b1, b2, eps, step, inv_sqrt_bc2, l2, shrink);
}

// Adam / AdamW as above, then g = 0 and the EMA s = d s + c p of the new p, in one loop: the same
// float operations per element as adam_update, the zeroing and ema_update_chunk one after the
// other, so the same bytes, with p, g and s each crossing the memory bus once per step.
RT_SIMD_CLONES
static void adam_ema_update(size_t n, float *restrict p, float *restrict g, float *restrict m,
                            float *restrict v, float *restrict s, float b1, float b2, float eps,
                            float step, float inv_sqrt_bc2, float l2, float shrink, float d, float c) {
    for (size_t i = 0; i < n; i++) {
        float pi = adam_elem(p[i], g[i], &m[i], &v[i], b1, b2, eps, step, inv_sqrt_bc2, l2, shrink);
        p[i] = pi;
        g[i] = 0.0f;
        s[i] = d * s[i] + c * pi;
    }
}

// Adamax (Kingma & Ba, section 7.1; PyTorch's eps placement):
//   g' = g + wd*p;  m = b1 m + (1-b1) g';  u = max(b2 u, |g'| + eps);  p -= step * m / u
RT_SIMD_CLONES
static void adamax_update(size_t n, float *restrict p, const float *restrict g, float *restrict m,
                          float *restrict u, float b1, float b2, float eps, float step, float wd) {
    float c1 = 1.0f - b1;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        float mi = b1 * m[i] + c1 * gi;
        float a = b2 * u[i], b = fabsf(gi) + eps;
        float ui = a > b ? a : b;       // NaN in g propagates (comparison false)
        m[i] = mi;
        u[i] = ui;
        p[i] -= step * mi / ui;
    }
}

// The EMA of one chunk: s = d s + c x.
RT_SIMD_CLONES
static void ema_blend(size_t n, float *restrict s, const float *restrict x, float d, float c) {
    for (size_t i = 0; i < n; i++) s[i] = d * s[i] + c * x[i];
}

// The EMA's decay for the update about to be made (rt_optim.h: debias, warmup); counts it.
static float ema_next_decay(rt_ema *e) {
    float d = e->decay;
    if (e->debias) {
        double dd = (double)e->decay, dt = pow(dd, (double)(e->t + 1));
        d = (float)((dd - dt) / (1.0 - dt));
    } else if (e->warmup) {
        double t = (double)e->t;
        float w = (float)((1.0 + t) / (10.0 + t));
        if (w < d) d = w;
    }
    e->t++;
    return d;
}

// ---- the update over the pool: fixed chunks, each element touched by one chunk only ----

#define OPTIM_CHUNK ((size_t)1 << 14)  /* floats: 64 KiB of each buffer, a multiple of 16 */

typedef struct optim_job {
    const rt_optim_cfg *c;
    float *p, *m, *v;
    const float *g;
    float *gz;                  /* g again when the step zeroes it, else NULL */
    float *shadow;              /* the EMA's, when the pass updates it too, else NULL */
    float lr, step, inv_sqrt_bc2, l2, shrink;
    float ema_d, ema_c;         /* the EMA's decay this step and 1 - decay */
} optim_job;

static void optim_chunk(void *arg, size_t lo, size_t hi) {
    const optim_job *j = arg;
    const rt_optim_cfg *c = j->c;
    size_t n = hi - lo;
    float *p = j->p + lo, *m = j->m + lo;
    const float *g = j->g + lo;
    bool adam = c->kind == RT_OPTIM_ADAM || c->kind == RT_OPTIM_ADAMW;
    if (adam && j->gz && j->shadow) {           /* the training step's case: one loop */
        adam_ema_update(n, p, j->gz + lo, m, j->v + lo, j->shadow + lo, c->beta1, c->beta2, c->eps,
                        j->step, j->inv_sqrt_bc2, j->l2, j->shrink, j->ema_d, j->ema_c);
        return;
    }
    switch (c->kind) {
    case RT_OPTIM_SGD:
        if (c->nesterov)
            sgd_nesterov_update(n, p, g, m, j->lr, c->momentum, c->weight_decay);
        else
            sgd_update(n, p, g, m, j->lr, c->momentum, c->weight_decay);
        break;
    case RT_OPTIM_ADAM:
    case RT_OPTIM_ADAMW:
        adam_update(n, p, g, m, j->v + lo, c->beta1, c->beta2, c->eps, j->step, j->inv_sqrt_bc2,
                    j->l2, j->shrink);
        break;
    case RT_OPTIM_ADAMAX:
        adamax_update(n, p, g, m, j->v + lo, c->beta1, c->beta2, c->eps, j->step, c->weight_decay);
        break;
    }
    if (j->gz) memset(j->gz + lo, 0, n * sizeof(float));   /* still in cache */
    if (j->shadow) ema_blend(n, j->shadow + lo, p, j->ema_d, j->ema_c);
}

static void optim_run(rt_optim *o, float *p, const float *g, float *gz, rt_ema *e, float lr) {
    const rt_optim_cfg *c = &o->cfg;
    if ((unsigned)c->kind > (unsigned)RT_OPTIM_ADAMAX)
        RT_ABORT("rt_optim_step: unknown optimizer kind %d", (int)c->kind);
    o->t++;
    double t = (double)o->t;
    optim_job j = { c, p, o->m, o->v, g, gz, NULL, lr, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f };
    if (c->kind == RT_OPTIM_ADAM || c->kind == RT_OPTIM_ADAMW) {
        double bc1 = 1.0 - pow((double)c->beta1, t);
        double bc2 = 1.0 - pow((double)c->beta2, t);
        j.step = (float)((double)lr / bc1);
        j.inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
        bool decoupled = c->kind == RT_OPTIM_ADAMW;
        j.l2 = decoupled ? 0.0f : c->weight_decay;
        j.shrink = decoupled ? 1.0f - lr * c->weight_decay : 1.0f;
    } else if (c->kind == RT_OPTIM_ADAMAX) {
        j.step = (float)((double)lr / (1.0 - pow((double)c->beta1, t)));
    }
    if (e) {
        RT_ASSERT(e->n == o->n);
        j.shadow = e->shadow;
        j.ema_d = ema_next_decay(e);
        j.ema_c = 1.0f - j.ema_d;
    }
    rt_pool_for(o->pool, o->n, OPTIM_CHUNK, optim_chunk, &j);
}

void rt_optim_step(rt_optim *o, float *p, const float *g, float lr) { optim_run(o, p, g, NULL, NULL, lr); }

void rt_optim_step_zero_grad(rt_optim *o, float *p, float *g, float lr) { optim_run(o, p, g, g, NULL, lr); }

void rt_optim_step_ema(rt_optim *o, float *p, float *g, rt_ema *e, float lr) { optim_run(o, p, g, g, e, lr); }

// ---- gradient clipping ----

double rt_grad_clip(float *g, size_t n, float max_norm) {
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)g[i] * (double)g[i];
    double norm = sqrt(ss);
    // A non-finite norm is left for the caller to report (the step is then skipped or aborted).
    if (max_norm > 0.0f && isfinite(norm) && norm > (double)max_norm) {
        float scale = (float)((double)max_norm / norm);
        for (size_t i = 0; i < n; i++) g[i] *= scale;
    }
    return norm;
}

// ---- weight EMA ----

void rt_ema_init(rt_ema *e, float decay, bool warmup, const float *p, size_t n) {
    RT_ASSERT(decay >= 0.0f && decay <= 1.0f);
    e->decay = decay;
    e->warmup = warmup;
    e->debias = false;
    e->n = n;
    e->shadow = rt_xfloats(n);
    if (n) memcpy(e->shadow, p, n * sizeof(float));
    e->t = 0;
    e->pool = NULL;
}

void rt_ema_free(rt_ema *e) {
    free(e->shadow);
    memset(e, 0, sizeof *e);
}

typedef struct ema_job { float *s; float *x; const float *cx; float d, c; } ema_job;

static void ema_update_chunk(void *arg, size_t lo, size_t hi) {
    const ema_job *j = arg;
    ema_blend(hi - lo, j->s + lo, j->cx + lo, j->d, j->c);
}

void rt_ema_update(rt_ema *e, const float *p) {
    float d = ema_next_decay(e);
    ema_job j = { e->shadow, NULL, p, d, 1.0f - d };
    rt_pool_for(e->pool, e->n, OPTIM_CHUNK, ema_update_chunk, &j);
}

static void ema_swap_chunk(void *arg, size_t lo, size_t hi) {
    const ema_job *j = arg;
    float *restrict s = j->s + lo;
    float *restrict x = j->x + lo;
    for (size_t i = 0; i < hi - lo; i++) {
        float tmp = s[i];
        s[i] = x[i];
        x[i] = tmp;
    }
}

void rt_ema_swap(rt_ema *e, float *p) {
    ema_job j = { e->shadow, p, p, 0.0f, 0.0f };
    rt_pool_for(e->pool, e->n, OPTIM_CHUNK, ema_swap_chunk, &j);
}
