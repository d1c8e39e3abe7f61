// nn_data_tishby.c: the reader of the Shwartz-Ziv & Tishby 12-bit task: var_u.mat through nn_mat.h, or
// var_u.csv (nn_data.h).
#include "nn_data_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn_mat.h"

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* F (n x d) and y (n) of a .mat file into d. */
static rt_status tishby_mat(nn_dataset *d, const char *path, rt_err *err) {
    nn_mat_var f, y;
    rt_status st = nn_mat_read(path, "F", &f, err);
    if (st != RT_OK) return st;
    st = nn_mat_read(path, "y", &y, err);
    if (st != RT_OK) { nn_mat_free(&f); return st; }
    int64_t n = f.dims[0], dim = f.dims[1];
    if (f.ndims != 2 || n < 1 || dim < 1 || n > INT32_MAX / (dim > 0 ? dim : 1))
        st = rt_err_set(err, RT_ERR_FORMAT, "%s: F has %d dimensions (%lld x %lld ...); expected a 2-D "
                        "matrix of patterns x inputs (4096 x 12)", path, f.ndims, (long long)f.dims[0],
                        (long long)f.dims[1]);
    else if (y.ndims != 2 || y.numel != n || (y.dims[0] != 1 && y.dims[1] != 1))
        st = rt_err_set(err, RT_ERR_FORMAT, "%s: y is %lld x %lld ...; expected a vector of %lld labels (one "
                        "per row of F)", path, (long long)y.dims[0], (long long)y.dims[1], (long long)n);
    if (st == RT_OK) st = nn_data_alloc(d, (int)n, (int)dim, err);
    int maxy = 0;
    for (int64_t i = 0; st == RT_OK && i < n; i++) {
        double v = y.data[i];
        if (!(v >= 0.0 && v <= NN_CSV_MAX_CLASS && v == floor(v))) {
            st = rt_err_set(err, RT_ERR_FORMAT, "%s: y(%lld) = %g is not a class label (an integer in 0..%d)",
                            path, (long long)i + 1, v, NN_CSV_MAX_CLASS);
            break;
        }
        d->y[i] = (int32_t)v;
        if ((int)v > maxy) maxy = (int)v;
        for (int64_t j = 0; j < dim; j++) {
            float x = (float)f.data[j * n + i];                 /* MATLAB is column-major */
            if (!isfinite(x)) {
                st = rt_err_set(err, RT_ERR_FORMAT, "%s: F(%lld,%lld) = %g is not a finite float", path,
                                (long long)i + 1, (long long)j + 1, f.data[j * n + i]);
                break;
            }
            d->x[i * dim + j] = x;
        }
    }
    nn_mat_free(&f);
    nn_mat_free(&y);
    if (st != RT_OK) { nn_dataset_free(d); return st; }
    nn_data_shape(d, 1, (int)dim, 1, 1);
    d->nclass = maxy + 1;
    return RT_OK;
}

rt_status nn_tishby_load(nn_dataset *d, const char *path, rt_err *err) {
    memset(d, 0, sizeof *d);
    rt_status st = ends_with(path, ".mat") ? tishby_mat(d, path, err) : nn_csv_load(d, path, "y", err);
    if (st != RT_OK) return st;
    snprintf(d->source, sizeof d->source, "%s", path);
    return RT_OK;
}
