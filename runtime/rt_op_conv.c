// rt_op_conv.c: 2-D convolution (and its transpose) by im2col + rt_gemm, and pooling; NCHW.
#include "rt_impl.h"

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
