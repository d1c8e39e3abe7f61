/*
** nn_mat.h: a small reader for MATLAB level-5 MAT-files (what `save` writes by default, -v6 and -v7).
**
** Supported: both byte orders (the header's 'IM' / 'MI' indicator), zlib-compressed elements
** (miCOMPRESSED, -v7), the small data element format, and real, dense numeric arrays of any class
** (double, single, int8..uint64, logical) stored in any numeric type (miINT8..miUINT64, miSINGLE,
** miDOUBLE; MATLAB stores a double array of small integers as miUINT8, for instance). Values come
** out as doubles (int64 / uint64 beyond 2^53 are rounded), in MATLAB's column-major order:
** element (i, j) of an m x n array is data[j * m + i].
**
** Rejected with RT_ERR_FORMAT and a message naming the file, the variable and the byte offset:
** complex, sparse, cell, struct, object and char arrays (when they are the variable asked for;
** others are listed and skipped), the HDF5-based v7.3 format, level-4 files, and any length,
** count or offset that does not fit the file (truncated or corrupt files are errors, never reads
** out of bounds). Offsets inside a compressed element are reported as "byte B of the element
** decompressed from file byte F".
**
**     nn_mat_var v;  rt_err err = {0};
**     if (nn_mat_read("var_u.mat", "F", &v, &err) == RT_OK) { ... v.dims[0], v.data ...; nn_mat_free(&v); }
*/
#ifndef NN_MAT_H
#define NN_MAT_H

#include "rt_err.h"

#define NN_MAT_MAX_DIMS 8
#define NN_MAT_MAX_VARS 64              /* nn_mat_list reports at most this many */
#define NN_MAT_MAX_BYTES (1u << 30)     /* a file, or one element once decompressed */

typedef enum nn_mat_class {             /* MATLAB's mxClassID values */
    NN_MAT_CELL = 1, NN_MAT_STRUCT, NN_MAT_OBJECT, NN_MAT_CHAR, NN_MAT_SPARSE, NN_MAT_DOUBLE,
    NN_MAT_SINGLE, NN_MAT_INT8, NN_MAT_UINT8, NN_MAT_INT16, NN_MAT_UINT16, NN_MAT_INT32, NN_MAT_UINT32,
    NN_MAT_INT64, NN_MAT_UINT64,
    NN_MAT_LOGICAL = 100,               /* not an mxClassID: a uint8 array with the logical flag */
} nn_mat_class;

typedef struct nn_mat_var {
    char name[64];
    nn_mat_class cls;                   /* unsupported classes keep their mxClassID (cell, ...) */
    bool complex;
    int ndims;                          /* >= 2, as MATLAB stores them */
    int64_t dims[NN_MAT_MAX_DIMS];
    int64_t numel;                      /* product of dims */
    double *data;                       /* numel values, column-major; NULL from nn_mat_list */
} nn_mat_var;

/* Reads variable `name` into v (overwritten; free with nn_mat_free). Errors: RT_ERR_IO (cannot open
** or read), RT_ERR_FORMAT (not a level-5 MAT-file, corrupt or truncated, or the variable is of a
** kind this reader does not support), RT_ERR_ARG (no such variable: the message lists those there
** are), RT_ERR_NOMEM. On failure v is empty (freeable). */
rt_status nn_mat_read(const char *path, const char *name, nn_mat_var *v, rt_err *err);
/* Lists the variables of a file (name, class, dims; data NULL) into vars[0..*n), at most max. */
rt_status nn_mat_list(const char *path, nn_mat_var *vars, int max, int *n, rt_err *err);
void nn_mat_free(nn_mat_var *v);
/* "double", "uint8", "logical", "cell", ... */
const char *nn_mat_class_name(nn_mat_class c);

#endif
