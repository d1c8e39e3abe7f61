// rt_op_bern.c: Bernoulli particles straight into the product that reads them, kept as bits.
//
// A Bernoulli layer with M particles per row hands the next linear layer M R rows of 0s and 1s:
// at the IMB paper's 32 x 32 particles, 16,384 rows of 512 units, 33 MB of floats written, then
// read by a GEMM with 10 outputs (too skinny to run near the GEMM rate) forward and again for the
// weight gradient, and met by a 16,384 x 512 input gradient that the straight-through estimator
// only sums back over the particles. Fused, the draw keeps one bit per unit (1 MB), the forward
// adds the weight columns of the units that fired, the weight gradient adds each row's output
// gradient into the rows of the units that fired, and the input gradient sums the particles'
// output gradients first: dp = (sum over particles of dy) W, the same straight-through gradient
// (dp = sum over particles of dz, dz = dy W) with the sum moved before the product, which is
// linear. The results equal rt_linear(rt_bern_st(p, u), w, b) up to float rounding (the sums run
// in another order); each is a fixed function of its inputs, whatever the thread count.
//
// Adding columns pays for few outputs (the last layer's 10); for a wide layer (the next Bernoulli
// layer's 512 pre-activations) GEMMs are faster, so past BITS_MAX_OUT outputs the op expands the
// bits into floats of its own and runs rt_linear's forward and dw products on them (the same bytes
// as rt_linear); the input gradient still sums over particles first, which there saves the largest
// product of the backward (512 x 512 x 512 at 32 x 32 particles becomes 16 x 512 x 512).
#include "rt_blas.h"
#include "rt_impl.h"
#include "rt_pool.h"
#include "rt_rng.h"

#include <string.h>

#define OB 16                   /* outputs per pass over a row's bits: one AVX-512 vector */
/* Wider outputs: the particles as floats and GEMMs. At 10 outputs the bits path measured faster
** than the GEMMs (bench_imb); at 512 it would add 32 vectors per fired unit, more work than the
** GEMM's; the cut between them is a choice, not a measurement. */
#define BITS_MAX_OUT 32

typedef struct bl_job {
    const float *wt, *b, *dy;
    float *y, *dwt;
    const uint64_t *bits;
    int MR, K, KW, O, OP;
} bl_job;

/* acc[0..OB) += the OB outputs of the units set in the row's bits, from wt (K, OP) at column o0. */
RT_SIMD_CLONES
static void add_fired(const uint64_t *bits, int KW, const float *restrict wt, int OP, int o0, float *restrict acc) {
    for (int w = 0; w < KW; w++)
        for (uint64_t m = bits[w]; m; m &= m - 1) {
            const float *restrict r = wt + (size_t)(w * 64 + __builtin_ctzll(m)) * OP + o0;
            for (int o = 0; o < OB; o++) acc[o] += r[o];
        }
}

/* Rows [lo, hi): y = b + the sum of the weight columns of the units that fired. */
static void bl_fwd_rows(void *arg, size_t lo, size_t hi) {
    const bl_job *j = arg;
    for (size_t r = lo; r < hi; r++) {
        const uint64_t *bits = j->bits + r * (size_t)j->KW;
        float *y = j->y + r * (size_t)j->O;
        for (int o0 = 0; o0 < j->OP; o0 += OB) {
            float acc[OB] = { 0 };
            add_fired(bits, j->KW, j->wt, j->OP, o0, acc);
            for (int o = o0; o < o0 + OB && o < j->O; o++) y[o] = acc[o - o0] + (j->b ? j->b[o] : 0.0f);
        }
    }
}

rt_tensor *rt_bern_linear(rt_ctx *c, rt_tensor *p, int M, rt_rng *noise, rt_tensor *w, rt_tensor *b) {
    RT_ASSERT(p->ndim == 2 && w->ndim == 2 && M > 0);
    int R = p->shape[0], K = p->shape[1], O = w->shape[0];
    RT_ASSERT(w->shape[1] == K && (!b || b->n == O));
    int MR = M * R, KW = (K + 63) / 64, OP = (O + OB - 1) / OB * OB;
    rt_tensor *out = rt_node_new(c, RT_OP_BERN_LINEAR, 2, (int[]){ MR, O }, p, w, b);
    uint64_t *bits = rt_arena_alloc_raw(&c->step, (size_t)MR * KW * sizeof *bits);
    /* The draws, in the stream's order: one row of K at a time, against its parent row's p. */
    uint32_t *thr = rt_arena_alloc_raw(&c->step, (size_t)R * K * sizeof *thr);
    for (int64_t i = 0; i < p->n; i++) thr[i] = rt_rng_threshold(p->data[i]);
    for (int r = 0; r < MR; r++) rt_rng_fill_bits_below(noise, thr + (size_t)(r % R) * K, (size_t)K, bits + (size_t)r * KW);
    out->aux = bits;
    out->iparam[0] = M;
    out->iparam[1] = 0;
    if (O > BITS_MAX_OUT) {
        /* Wide: the particles as floats (only this op's) and one GEMM forward and for dw. */
        float *z = rt_arena_alloc_raw(&c->step, (size_t)MR * K * sizeof *z);
        for (size_t r = 0; r < (size_t)MR; r++)
            for (int k = 0; k < K; k++) z[r * K + k] = (float)((bits[r * KW + k / 64] >> (k % 64)) & 1u);
        rt_linear_rows(z, MR, K, w->data, b ? b->data : NULL, O, out->data);
        out->aux = z;
        out->iparam[1] = 1;
        return out;
    }
    /* w transposed, each unit's OP outputs contiguous (zeros past O) */
    float *wt = rt_arena_alloc_raw(&c->step, (size_t)K * OP * sizeof *wt);
    for (int k = 0; k < K; k++)
        for (int o = 0; o < OP; o++) wt[(size_t)k * OP + o] = o < O ? w->data[(size_t)o * K + k] : 0.0f;
    bl_job j = { wt, b ? b->data : NULL, NULL, out->data, NULL, bits, MR, K, KW, O, OP };
    rt_pool_for(rt_blas_pool(), (size_t)MR, 256, bl_fwd_rows, &j);
    return out;
}

/* dwt[k] += g for each unit k of word w set in m (dwt (K, OP), g OP outputs); one vector of OB
** outputs, the common case, held in registers. */
RT_SIMD_CLONES
static void scatter_fired(uint64_t m, int w, const float *restrict g, float *restrict dwt, int OP) {
    if (OP == OB) {
        for (; m; m &= m - 1) {
            float *restrict d = dwt + (size_t)(w * 64 + __builtin_ctzll(m)) * OB;
            for (int o = 0; o < OB; o++) d[o] += g[o];
        }
        return;
    }
    for (; m; m &= m - 1) {
        float *restrict d = dwt + (size_t)(w * 64 + __builtin_ctzll(m)) * OP;
        for (int o = 0; o < OP; o++) d[o] += g[o];
    }
}

/* Words [lo, hi) of every row: dwt[k] += dy[r] for each unit k of those words that fired in row r,
** rows in order (each unit's sum has one order, whichever thread runs it). */
static void bl_dw_words(void *arg, size_t lo, size_t hi) {
    const bl_job *j = arg;
    for (int r = 0; r < j->MR; r++)
        for (size_t w = lo; w < hi; w++)
            scatter_fired(j->bits[(size_t)r * j->KW + w], (int)w, j->dy + (size_t)r * j->OP, j->dwt, j->OP);
}

void rt_bern_linear_bwd(rt_ctx *c, rt_tensor *out) {
    rt_tensor *p = out->src[0], *w = out->src[1], *b = out->src[2];
    int R = p->shape[0], K = p->shape[1], O = w->shape[0], MR = out->shape[0], M = out->iparam[0];
    int KW = (K + 63) / 64, OP = (O + OB - 1) / OB * OB;
    const float *dy = out->grad;
    float *dp = rt_src_grad(c, p), *dw = rt_src_grad(c, w), *db = rt_src_grad(c, b);
    if (db)
        for (int r = 0; r < MR; r++)
            for (int o = 0; o < O; o++) db[o] += dy[(size_t)r * O + o];
    if (dw && out->iparam[1]) {
        rt_gemm(true, false, O, K, MR, 1.0f, dy, O, out->aux, K, 1.0f, dw, K);      /* dy^T z */
    } else if (dw) {
        float *dyp = rt_arena_alloc_raw(&c->step, (size_t)MR * OP * sizeof *dyp);
        float *dwt = rt_arena_alloc_raw(&c->step, (size_t)K * OP * sizeof *dwt);
        for (int r = 0; r < MR; r++)
            for (int o = 0; o < OP; o++) dyp[(size_t)r * OP + o] = o < O ? dy[(size_t)r * O + o] : 0.0f;
        memset(dwt, 0, (size_t)K * OP * sizeof *dwt);
        bl_job j = { NULL, NULL, dyp, NULL, dwt, out->aux, MR, K, KW, O, OP };
        rt_pool_for(rt_blas_pool(), (size_t)KW, 1, bl_dw_words, &j);
        for (int o = 0; o < O; o++)
            for (int k = 0; k < K; k++) dw[(size_t)o * K + k] += dwt[(size_t)k * OP + o];
    }
    if (dp) {
        /* the particles' output gradients summed per parent row, then one (R, O) x (O, K) product */
        float *s = rt_arena_alloc_raw(&c->step, (size_t)R * O * sizeof *s);
        memcpy(s, dy, (size_t)R * O * sizeof *s);
        for (int m = 1; m < M; m++)
            for (size_t i = 0; i < (size_t)R * O; i++) s[i] += dy[(size_t)m * R * O + i];
        rt_gemm(false, false, R, K, O, 1.0f, s, O, w->data, K, 1.0f, dp, K);
    }
}
