/*
** rt_impl.h: shared inside runtime/ only (never included from nn/ or lua/).
** The op files create their outputs with rt_node_new, which records the node on the tape when
** the context records and an input needs a gradient; the backward table in rt_tape.c points at
** the rt_*_bwd functions declared here, one per rt_op.
*/
#ifndef RT_IMPL_H
#define RT_IMPL_H

#include "rt_ops.h"

/* An op output of the given shape in the step arena, made from up to 3 sources (NULL for none).
** Its data is NOT zero-filled: the op must write every element. */
rt_tensor *rt_node_new(rt_ctx *c, int op, int ndim, const int *shape,
                       rt_tensor *a, rt_tensor *b, rt_tensor *d);
/* The same for an op that writes its output over its one source's data: the node shares a's
** shape and data buffer, and only its header is allocated. */
rt_tensor *rt_node_new_over(rt_ctx *c, int op, rt_tensor *a);
/* Allocates src's gradient if it needs one and returns it; NULL when src needs no gradient. */
float *rt_src_grad(rt_ctx *c, rt_tensor *src);
/* The same for a backward that gives every element of src's gradient exactly one term: when src
** has no gradient yet, its buffer is allocated WITHOUT zero-filling and *fresh is set, and the
** op must store (=) its terms; otherwise *fresh is false and the op accumulates (+=) as usual.
** This saves the zeroing pass and a read of each activation gradient. */
float *rt_src_grad_once(rt_ctx *c, rt_tensor *src, bool *fresh);
/* Where src needs a gradient and has none yet, hands it out's gradient buffer (src of out's size):
** nothing reads out's gradient after out's backward, and the buffer is in cache, where a fresh one
** would first be fetched to be written. True when handed over; src->grad is then the upstream
** gradient itself, for the caller to finish in place. */
bool rt_src_grad_take(rt_tensor *out, rt_tensor *src);

/* Broadcasting (rt_op_elem.c, rt_op_reduce.c): both operands aligned on the right into 4 dims;
** a dimension of size 1 against a larger one gets stride 0, so one loop nest serves every case. */
typedef struct rt_bcast {
    int d[4];                   /* output shape, 4-D, right-aligned */
    int64_t sa[4], sb[4];       /* element strides of a and b over the output index */
} rt_bcast;

/* The plan for a against b; the output shape goes to (ndim, shape). Aborts if incompatible. */
rt_bcast rt_bcast_plan(const rt_tensor *a, const rt_tensor *b, int *ndim, int shape[4]);

/* Runs BODY for every output element with io (output index), ia, ib (operand indices). */
#define RT_BCAST_LOOP(p, BODY)                                                               \
    for (int i0 = 0; i0 < (p).d[0]; i0++)                                                    \
        for (int i1 = 0; i1 < (p).d[1]; i1++)                                                \
            for (int i2 = 0; i2 < (p).d[2]; i2++) {                                          \
                int64_t ia = i0 * (p).sa[0] + i1 * (p).sa[1] + i2 * (p).sa[2];               \
                int64_t ib = i0 * (p).sb[0] + i1 * (p).sb[1] + i2 * (p).sb[2];               \
                int64_t io = (((int64_t)i0 * (p).d[1] + i1) * (p).d[2] + i2) * (p).d[3];     \
                for (int i3 = 0; i3 < (p).d[3]; i3++, io++, ia += (p).sa[3], ib += (p).sb[3]) { \
                    BODY                                                                     \
                }                                                                            \
            }

/* rt_linear's forward on raw arrays: out (B, O) = x (B, I) w^T (w: O, I) + b (O, or NULL). Ops that
** run a linear layer inside them (rt_bern_linear) call it for rt_linear's very bytes. */
void rt_linear_rows(const float *x, int B, int I, const float *w, const float *b, int O, float *out);

typedef void (*rt_bwd_fn)(rt_ctx *c, rt_tensor *out);

void rt_add_bwd(rt_ctx *c, rt_tensor *out);
void rt_sub_bwd(rt_ctx *c, rt_tensor *out);
void rt_mul_bwd(rt_ctx *c, rt_tensor *out);
void rt_div_bwd(rt_ctx *c, rt_tensor *out);
void rt_affine_bwd(rt_ctx *c, rt_tensor *out);
void rt_exp_bwd(rt_ctx *c, rt_tensor *out);
void rt_log_bwd(rt_ctx *c, rt_tensor *out);
void rt_softplus_bwd(rt_ctx *c, rt_tensor *out);
void rt_relu_bwd(rt_ctx *c, rt_tensor *out);
void rt_tanh_bwd(rt_ctx *c, rt_tensor *out);
void rt_sigmoid_bwd(rt_ctx *c, rt_tensor *out);
void rt_square_bwd(rt_ctx *c, rt_tensor *out);
void rt_sqrt_bwd(rt_ctx *c, rt_tensor *out);
void rt_sum_bwd(rt_ctx *c, rt_tensor *out);
void rt_mean_bwd(rt_ctx *c, rt_tensor *out);
void rt_broadcast_bwd(rt_ctx *c, rt_tensor *out);
void rt_reshape_bwd(rt_ctx *c, rt_tensor *out);
void rt_matmul_bwd(rt_ctx *c, rt_tensor *out);
void rt_linear_bwd(rt_ctx *c, rt_tensor *out);
void rt_softmax_ce_bwd(rt_ctx *c, rt_tensor *out);
void rt_logsumexp_bwd(rt_ctx *c, rt_tensor *out);
void rt_gauss_kl_bwd(rt_ctx *c, rt_tensor *out);
void rt_bern_st_bwd(rt_ctx *c, rt_tensor *out);
void rt_bern_kl_bwd(rt_ctx *c, rt_tensor *out);
void rt_softmax_entropy_bwd(rt_ctx *c, rt_tensor *out);
void rt_transpose_bwd(rt_ctx *c, rt_tensor *out);
void rt_tril_mv_bwd(rt_ctx *c, rt_tensor *out);
void rt_conv2d_bwd(rt_ctx *c, rt_tensor *out);
void rt_conv_transpose2d_bwd(rt_ctx *c, rt_tensor *out);
void rt_maxpool2d_bwd(rt_ctx *c, rt_tensor *out);
void rt_avgpool2d_bwd(rt_ctx *c, rt_tensor *out);
void rt_global_avgpool_bwd(rt_ctx *c, rt_tensor *out);
void rt_batchnorm_bwd(rt_ctx *c, rt_tensor *out);
void rt_groupnorm_bwd(rt_ctx *c, rt_tensor *out);
void rt_abs_bwd(rt_ctx *c, rt_tensor *out);
void rt_clamp_bwd(rt_ctx *c, rt_tensor *out);
void rt_max_bwd(rt_ctx *c, rt_tensor *out);
void rt_bern_linear_bwd(rt_ctx *c, rt_tensor *out);

#endif
