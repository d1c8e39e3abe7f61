// nn_data_discrete.c: a data set sampled from a discrete joint p(x, y) (nn_data.h), the problems whose
// exact IB curve nn_ib_exact.h computes, so that a learned model can be put beside it.
#include "nn_data_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_ib_exact.h"

/* n examples drawn i.i.d. from the normalised joint, x one-hot of nx, y its label: the cell of the
** first cumulative weight above u * total, u uniform from r. */
static rt_status draw(nn_dataset *d, const double *pxy, int nx, int ny, int n, rt_rng *r, const char *path,
                      rt_err *err) {
    rt_status st = nn_data_alloc(d, n, nx, err);
    if (st) return st;
    nn_data_shape(d, 1, nx, 1, 1);
    d->nclass = ny;
    snprintf(d->source, sizeof d->source, "%s", path);
    size_t cells = (size_t)nx * (size_t)ny;
    double *cum = rt_xmalloc(cells * sizeof *cum), total = 0.0;
    for (size_t e = 0; e < cells; e++) cum[e] = total += pxy[e];
    memset(d->x, 0, (size_t)n * (size_t)nx * sizeof *d->x);
    for (int i = 0; i < n; i++) {
        double u = rt_rng_uniform(r) * total;
        size_t lo = 0, hi = cells - 1;          /* the first e with cum[e] > u (a cell of weight 0 never) */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cum[mid] > u) hi = mid;
            else lo = mid + 1;
        }
        while (lo > 0 && pxy[lo] == 0.0) lo--;  /* u rounded onto the top: the last cell of weight */
        d->x[(size_t)i * (size_t)nx + lo / (size_t)ny] = 1.0f;
        d->y[i] = (int32_t)(lo % (size_t)ny);
    }
    free(cum);
    return RT_OK;
}

/* The spec's joint: a copy of s->joint, or read from s->path (against s->dir); *source names it. */
static rt_status joint_of(const nn_data_spec *s, double **pxy, int *nx, int *ny, char *source, size_t size,
                          rt_err *err) {
    if (s->joint) {
        snprintf(source, size, "a joint of %d x %d", s->joint_nx, s->joint_ny);
        rt_status st = nn_ib_joint_check(s->joint, s->joint_nx, s->joint_ny, "discrete", err);
        if (st) return st;
        size_t n = (size_t)s->joint_nx * (size_t)s->joint_ny;
        double *p = rt_xmalloc(n * sizeof *p);
        memcpy(p, s->joint, n * sizeof *p);
        *pxy = p;
        *nx = s->joint_nx;
        *ny = s->joint_ny;
        return RT_OK;
    }
    if (!s->path || !*s->path)
        return rt_err_set(err, RT_ERR_ARG, "discrete: no joint; set joint to a table of rows of p(x, y) or to a CSV "
                          "file of them, one row per x and one column per y");
    if (!nn_data_path_join(source, size, s->dir, s->path)) return rt_err_set(err, RT_ERR_ARG, "discrete: path too long");
    return nn_ib_joint_read(source, pxy, nx, ny, err);
}

rt_status nn_data_open_discrete(const nn_data_spec *s, nn_dataset *tr, nn_dataset *te, rt_err *err) {
    char p[NN_PATH_MAX];
    if (s->samples < 1 || s->test_samples < 1)
        return rt_err_set(err, RT_ERR_ARG, "discrete: n = %d and test_n = %d must both be at least 1", s->samples,
                          s->test_samples);
    if (s->scale != NN_SCALE_NONE && s->scale != NN_SCALE_STANDARDIZE)
        return rt_err_set(err, RT_ERR_ARG, "discrete: scale = \"%s\": the inputs are one-hot 0/1; use \"none\" "
                          "(the default) or \"standardize\"", nn_scale_name(s->scale));
    double *pxy;
    int nx, ny;
    rt_status st = joint_of(s, &pxy, &nx, &ny, p, sizeof p, err);
    if (st) return st;
    rt_rng r;
    rt_rng_stream(&r, s->seed, 0, RT_STREAM_DATA);
    st = draw(tr, pxy, nx, ny, s->samples, &r, p, err);
    if (!st) st = draw(te, pxy, nx, ny, s->test_samples, &r, p, err);
    free(pxy);
    return st;
}

rt_status nn_data_ib_exact(const nn_data_spec *s, rt_buf *csv, rt_err *err) {
    char p[NN_PATH_MAX];
    double *pxy;
    int nx, ny;
    rt_status st = joint_of(s, &pxy, &nx, &ny, p, sizeof p, err);
    if (st) return st;
    nn_ib_opts o = nn_ib_opts_default();
    o.betas = NN_DATA_IB_BETAS;                 /* dense enough to draw the curve's knee */
    nn_ib_point *pts = rt_xmalloc((size_t)o.betas * sizeof *pts);
    st = nn_ib_curve(pxy, nx, ny, &o, pts, err);
    if (!st) nn_ib_curve_csv(csv, pts, o.betas);
    free(pts);
    free(pxy);
    return st;
}
