/*
** rt_conv_dnnl.h: which code computes rt_conv2d, and the oneDNN backend (rt_conv_dnnl.c).
**
** Two backends compute a 2-D convolution (forward, dx and dW): the lowering (im2col + rt_gemm,
** rt_op_conv.c), always built, the reference; and oneDNN's convolution primitives (Debian's
** libdnnl-dev), built when CMake's VIB_DNNL finds it (VIB_HAVE_DNNL then defined). The backend is
** chosen per process: rt_conv_set_backend, or the environment variable VIB_CONV=lowering|dnnl read
** by the first rt_conv_get_backend (vibrun calls it at start, else the first convolution does; any
** other value, or dnnl in a build without it, is an error that names the variable, exit status 2).
** The default is oneDNN where it is built (2 to 3 times as fast on ResNet-20), else the lowering. A
** convolution keeps the backend it was computed with for its backward pass. The transposed convolution, and any shape oneDNN refuses, always use the
** lowering.
**
** oneDNN backend. The batch goes in RT_DNNL_BLOCKS blocks of ceil(N / RT_DNNL_BLOCKS) images (the
** last one smaller), cut by the shapes alone. Per distinct block shape (images, channels, sizes,
** kernel, stride, padding, dilation, groups, bias) one set of primitives is created, the first time
** the shape is seen, and kept for the process (at most RT_DNNL_MAX_SHAPES; past that, new shapes
** use the lowering): forward, backward data and backward weights on the blocked layouts oneDNN
** prefers, and the reorders between those and vibrun's NCHW / OIHW arrays around each call (the
** weights reordered once per pass). The blocked copies and oneDNN's scratchpad (user-managed) are
** work space in the step arena, rolled back before the call returns, as the lowering's column
** buffers are. oneDNN's objects (primitives, memory objects per thread) are made once; its execute
** call still allocates on the heap at every primitive run (its argument map, a C++ container
** freed when it returns), the only allocation of a step on this backend.
**
** Threads: the blocks run in parallel on rt_blas_pool(), each one oneDNN call on one thread (its
** OpenMP thread count set to 1: Debian's libdnnl2 runs on OpenMP, libgomp, and OpenMP's own
** threads, spinning between parallel regions beside the pool's, would fight them for the cores).
** dW and db are summed per block and the blocks added in order, so the results are the same bytes
** for any thread count (tests/test_conv.c checks 1 and 3 threads, and run to run); they differ
** from the lowering's by float rounding (the tests bound it). One caller at a time, as rt_gemm.
*/
#ifndef RT_CONV_DNNL_H
#define RT_CONV_DNNL_H

#include "rt_tensor.h"
#include "rt_ops.h"

typedef enum { RT_CONV_LOWERING, RT_CONV_DNNL } rt_conv_backend;

/* The backend of the convolutions to come (VIB_CONV read on the first call). */
rt_conv_backend rt_conv_get_backend(void);
/* Sets it; false (nothing changed) for RT_CONV_DNNL in a build without oneDNN. */
bool rt_conv_set_backend(rt_conv_backend b);
/* "lowering" or "dnnl"; rt_conv_backend_parse: the inverse, false for any other name. */
const char *rt_conv_backend_name(rt_conv_backend b);
bool rt_conv_backend_parse(const char *name, rt_conv_backend *b);
/* "lowering (im2col + OpenBLAS)" or "dnnl (oneDNN 2.6.3, OpenMP, 2 threads)": for logs and benches. */
const char *rt_conv_backend_describe(void);
/* Whether this build has the oneDNN backend. */
bool rt_conv_have_dnnl(void);

#ifdef VIB_HAVE_DNNL
#define RT_DNNL_MAX_SHAPES 256
#define RT_DNNL_BLOCKS 16

typedef struct rt_dnnl_conv rt_dnnl_conv;

/* A convolution's shape: x (N, C, H, W), w (O, C/groups, KH, KW), y (N, O, OH, OW). */
typedef struct rt_dnnl_shape {
    int N, C, H, W, O, OH, OW, KH, KW;
    rt_conv_geom g;
    bool bias;
} rt_dnnl_shape;

/* The cached primitives of the shape (created on first use), or NULL when oneDNN refuses it or
** the cache is full: the caller then lowers. */
rt_dnnl_conv *rt_dnnl_conv_get(const rt_dnnl_shape *s);
/* y = conv(x, w) + b (b NULL without bias): every element of y written. */
void rt_dnnl_conv_forward(rt_ctx *c, const rt_dnnl_conv *e, const float *x, const float *w, const float *b,
                          float *y);
/* dx (= when dx_fresh, else +=) the gradient of x; dw += and db += theirs; each may be NULL. */
void rt_dnnl_conv_backward(rt_ctx *c, const rt_dnnl_conv *e, const float *x, const float *w, const float *dy,
                           float *dx, bool dx_fresh, float *dw, float *db);
/* The convolutions computed by oneDNN so far (forward calls): tests and benchmarks check the route. */
long rt_dnnl_conv_calls(void);
/* "oneDNN 2.6.3, OpenMP": the library's version and threading runtime. */
const char *rt_dnnl_version(void);
#endif

#endif
