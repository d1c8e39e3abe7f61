// nn_ib_exact.c: the iterative IB of Tishby et al. (1999) and the deterministic IB of Strouse &
// Schwab (2017) on a discrete joint, annealed over beta with seeded restarts (nn_ib_exact.h).
#include "nn_ib_exact.h"

#include "nn_mi_tasks.h"       /* nn_mi_csv_table */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LN2 0.69314718055994530942
#define P_DEAD 1e-12                // p(t) below this: the value of T is unused

nn_ib_opts nn_ib_opts_default(void) {
    return (nn_ib_opts){ .method = NN_IB_ITERATIVE, .clusters = 0, .beta_min = 0.1, .beta_max = 1000.0,
                         .betas = 40, .restarts = 4, .max_iter = 2000, .tol = 1e-12, .seed = 1 };
}

// The normalised joint, p(x) and p(y|x), of the rows with positive weight.
typedef struct ib_prob {
    int nx, ny, nt;
    double *px, *pyx, *py;
} ib_prob;

static double total_weight(const double *pxy, int nx, int ny) {
    double s = 0.0;
    for (size_t e = 0; e < (size_t)nx * (size_t)ny; e++) s += pxy[e];
    return s;
}

double nn_ib_h_x(const double *pxy, int nx, int ny) {
    double tot = total_weight(pxy, nx, ny), h = 0.0;
    for (int x = 0; x < nx; x++) {
        double p = 0.0;
        for (int y = 0; y < ny; y++) p += pxy[x * ny + y] / tot;
        if (p > 0.0) h -= p * log(p);
    }
    return h / LN2;
}

double nn_ib_mi_xy(const double *pxy, int nx, int ny) {
    double *id = calloc((size_t)nx * (size_t)nx, sizeof *id);     // I(X;Y) is I(T;Y) of T = X
    RT_ASSERT(id);
    for (int x = 0; x < nx; x++) id[x * nx + x] = 1.0;
    double ixt, ity, ht;
    nn_ib_encoder_info(pxy, nx, ny, id, nx, &ixt, &ity, &ht);
    free(id);
    return ity;
}

void nn_ib_encoder_info(const double *pxy, int nx, int ny, const double *enc, int nt, double *ixt,
                        double *ity, double *ht) {
    double tot = total_weight(pxy, nx, ny);
    double *pt = calloc((size_t)nt, sizeof *pt), *pty = calloc((size_t)nt * (size_t)ny, sizeof *pty);
    double *py = calloc((size_t)ny, sizeof *py);
    RT_ASSERT(pt && pty && py);
    double sx = 0.0;
    for (int x = 0; x < nx; x++) {
        double px = 0.0;
        for (int y = 0; y < ny; y++) px += pxy[x * ny + y] / tot;
        for (int t = 0; t < nt; t++) {
            double q = enc[(size_t)x * nt + t];
            pt[t] += px * q;
            for (int y = 0; y < ny; y++) pty[t * ny + y] += pxy[x * ny + y] / tot * q;
        }
        for (int y = 0; y < ny; y++) py[y] += pxy[x * ny + y] / tot;
    }
    for (int x = 0; x < nx; x++) {
        double px = 0.0;
        for (int y = 0; y < ny; y++) px += pxy[x * ny + y] / tot;
        for (int t = 0; t < nt; t++) {
            double q = enc[(size_t)x * nt + t];
            if (px > 0.0 && q > 0.0) sx += px * q * log(q / pt[t]);
        }
    }
    double sy = 0.0, h = 0.0;
    for (int t = 0; t < nt; t++) {
        if (pt[t] > 0.0) h -= pt[t] * log(pt[t]);
        for (int y = 0; y < ny; y++) {
            double p = pty[t * ny + y];
            if (p > 0.0) sy += p * log(p / (pt[t] * py[y]));
        }
    }
    free(pt); free(pty); free(py);
    *ixt = fmax(sx, 0.0) / LN2;
    *ity = fmax(sy, 0.0) / LN2;
    *ht = fmax(h, 0.0) / LN2;
}

// p(t) and p(y|t) of the encoder q (nx, nt).
static void cluster_stats(const ib_prob *P, const double *q, double *pt, double *pyt) {
    int nx = P->nx, ny = P->ny, nt = P->nt;
    memset(pt, 0, (size_t)nt * sizeof *pt);
    memset(pyt, 0, (size_t)nt * (size_t)ny * sizeof *pyt);
    for (int x = 0; x < nx; x++)
        for (int t = 0; t < nt; t++) {
            double w = P->px[x] * q[x * nt + t];
            pt[t] += w;
            for (int y = 0; y < ny; y++) pyt[t * ny + y] += w * P->pyx[x * ny + y];
        }
    for (int t = 0; t < nt; t++)
        if (pt[t] > P_DEAD)
            for (int y = 0; y < ny; y++) pyt[t * ny + y] /= pt[t];
}

// ln p(t) - beta KL(p(y|x) || p(y|t)) for every t into s (nt); -inf for unused t or an infinite KL.
static void scores(const ib_prob *P, double beta, int x, const double *pt, const double *pyt, double *s) {
    for (int t = 0; t < P->nt; t++) {
        if (!(pt[t] > P_DEAD)) { s[t] = -INFINITY; continue; }
        double kl = 0.0;
        for (int y = 0; y < P->ny; y++) {
            double a = P->pyx[x * P->ny + y], b = pyt[t * P->ny + y];
            if (a > 0.0) kl += b > 0.0 ? a * log(a / b) : (double)INFINITY;
        }
        s[t] = log(pt[t]) - beta * kl;
    }
}

// Iterative IB from q; returns the iterations run.
static int ib_iterate(const ib_prob *P, double beta, double *q, int max_iter, double tol, double *pt,
                      double *pyt, double *s) {
    int nt = P->nt, it = 0;
    while (it < max_iter) {
        it++;
        cluster_stats(P, q, pt, pyt);
        double moved = 0.0;
        for (int x = 0; x < P->nx; x++) {
            scores(P, beta, x, pt, pyt, s);
            double m = -INFINITY, z = 0.0;
            for (int t = 0; t < nt; t++) m = s[t] > m ? s[t] : m;
            for (int t = 0; t < nt; t++) z += isfinite(s[t]) ? exp(s[t] - m) : 0.0;
            for (int t = 0; t < nt; t++) {
                double v = isfinite(s[t]) ? exp(s[t] - m) / z : 0.0;
                moved = fmax(moved, fabs(v - q[x * nt + t]));
                q[x * nt + t] = v;
            }
        }
        if (moved < tol) break;
    }
    return it;
}

// Deterministic IB from f; returns the iterations run.
static int dib_iterate(const ib_prob *P, double beta, int *f, double *q, int max_iter, double *pt,
                       double *pyt, double *s) {
    int nt = P->nt, it = 0;
    while (it < max_iter) {
        it++;
        for (int x = 0; x < P->nx; x++)
            for (int t = 0; t < nt; t++) q[x * nt + t] = f[x] == t;
        cluster_stats(P, q, pt, pyt);
        bool changed = false;
        for (int x = 0; x < P->nx; x++) {
            scores(P, beta, x, pt, pyt, s);
            int best = f[x];
            for (int t = 0; t < nt; t++)               // change only for a strictly better value
                if (s[t] > s[best] + 1e-13) best = t;
            changed |= best != f[x];
            f[x] = best;
        }
        if (!changed) break;
    }
    for (int x = 0; x < P->nx; x++)
        for (int t = 0; t < nt; t++) q[x * nt + t] = f[x] == t;
    return it;
}

// The point of encoder q at beta (the joint rebuilt from p(x) p(y|x)).
static nn_ib_point evaluate(const ib_prob *P, const double *q, double beta, bool det, int iters, double *joint) {
    for (int x = 0; x < P->nx; x++)
        for (int y = 0; y < P->ny; y++) joint[x * P->ny + y] = P->px[x] * P->pyx[x * P->ny + y];
    nn_ib_point p = { .beta = beta, .iterations = iters };
    nn_ib_encoder_info(joint, P->nx, P->ny, q, P->nt, &p.ixt, &p.ity, &p.ht);
    p.lagrangian = (det ? p.ht : p.ixt) - beta * p.ity;
    for (int t = 0; t < P->nt; t++) {
        double w = 0.0;
        for (int x = 0; x < P->nx; x++) w += P->px[x] * q[x * P->nt + t];
        p.clusters_used += w > P_DEAD;
    }
    return p;
}

rt_status nn_ib_joint_check(const double *pxy, int nx, int ny, const char *what, rt_err *err) {
    if (nx < 1 || ny < 1)
        return rt_err_set(err, RT_ERR_ARG, "%s: the joint is %d x %d; need at least one x and one y", what, nx, ny);
    for (size_t e = 0; e < (size_t)nx * (size_t)ny; e++)
        if (!(pxy[e] >= 0.0) || !isfinite(pxy[e]))
            return rt_err_set(err, RT_ERR_ARG, "%s: p(x=%zu, y=%zu) = %g; probabilities must be finite and >= 0",
                              what, e / (size_t)ny + 1, e % (size_t)ny + 1, pxy[e]);
    if (!(total_weight(pxy, nx, ny) > 0.0))
        return rt_err_set(err, RT_ERR_ARG, "%s: every p(x, y) is 0; nothing to compress", what);
    return RT_OK;
}

static rt_status check(const double *pxy, int nx, int ny, const nn_ib_opts *o, rt_err *err) {
    rt_status st = nn_ib_joint_check(pxy, nx, ny, "ib", err);
    if (st) return st;
    if (o->clusters < 0 || o->betas < 1 || !(o->beta_min > 0.0) || !(o->beta_max >= o->beta_min) ||
        o->restarts < 0 || o->max_iter < 1 || !(o->tol > 0.0))
        return rt_err_set(err, RT_ERR_ARG, "ib: options: clusters %d (>= 0), betas %d (>= 1), beta %g..%g "
                          "(0 < min <= max), restarts %d (>= 0), max_iter %d (>= 1), tol %g (> 0)", o->clusters,
                          o->betas, o->beta_min, o->beta_max, o->restarts, o->max_iter, o->tol);
    return RT_OK;
}

// p(x) and p(y|x) of the rows of positive weight; kept[x] (may be NULL) says which rows those are.
static ib_prob make_prob(const double *pxy, int nx, int ny, int nt, bool *kept) {
    double tot = total_weight(pxy, nx, ny);
    ib_prob P = { .ny = ny, .nt = nt };
    P.px = calloc((size_t)nx, sizeof *P.px);
    P.pyx = calloc((size_t)nx * (size_t)ny, sizeof *P.pyx);
    RT_ASSERT(P.px && P.pyx);
    for (int x = 0; x < nx; x++) {
        double w = 0.0;
        for (int y = 0; y < ny; y++) w += pxy[x * ny + y];
        if (kept) kept[x] = w > 0.0;
        if (!(w > 0.0)) continue;
        P.px[P.nx] = w / tot;
        for (int y = 0; y < ny; y++) P.pyx[P.nx * ny + y] = pxy[x * ny + y] / w;
        P.nx++;
    }
    return P;
}

rt_status nn_ib_solve(const double *pxy, int nx, int ny, int nt, double beta, const nn_ib_opts *o,
                      double *enc, nn_ib_point *pt, rt_err *err) {
    nn_ib_opts oo = *o;
    oo.beta_min = oo.beta_max = beta;
    oo.clusters = nt;
    rt_status st = check(pxy, nx, ny, &oo, err);
    if (st != RT_OK) return st;
    if (nt < 1) return rt_err_set(err, RT_ERR_ARG, "ib: %d values of T; need at least 1", nt);
    bool *kept = malloc((size_t)nx * sizeof *kept);
    RT_ASSERT(kept);
    ib_prob P = make_prob(pxy, nx, ny, nt, kept);
    bool det = o->method == NN_IB_DETERMINISTIC;
    double *q = malloc((size_t)P.nx * (size_t)nt * sizeof *q), *ptv = malloc((size_t)nt * sizeof *ptv);
    double *pyt = malloc((size_t)nt * (size_t)ny * sizeof *pyt), *s = malloc((size_t)nt * sizeof *s);
    double *joint = malloc((size_t)P.nx * (size_t)ny * sizeof *joint);
    int *f = malloc((size_t)P.nx * sizeof *f);
    RT_ASSERT(q && ptv && pyt && s && joint && f);
    for (int x = 0, r = 0; x < nx; x++) {
        if (!kept[x]) continue;
        f[r] = 0;
        for (int t = 0; t < nt; t++) {
            q[r * nt + t] = enc[(size_t)x * nt + t];
            if (enc[(size_t)x * nt + t] > enc[(size_t)x * nt + f[r]]) f[r] = t;
        }
        r++;
    }
    int iters = det ? dib_iterate(&P, beta, f, q, o->max_iter, ptv, pyt, s)
                    : ib_iterate(&P, beta, q, o->max_iter, o->tol, ptv, pyt, s);
    *pt = evaluate(&P, q, beta, det, iters, joint);
    for (int x = 0, r = 0; x < nx; x++)
        if (kept[x]) { memcpy(enc + (size_t)x * nt, q + (size_t)r * nt, (size_t)nt * sizeof *q); r++; }
    free(q); free(ptv); free(pyt); free(s); free(joint); free(f); free(kept);
    free(P.px); free(P.pyx);
    return RT_OK;
}

rt_status nn_ib_curve(const double *pxy, int nx, int ny, const nn_ib_opts *o, nn_ib_point *out, rt_err *err) {
    rt_status st = check(pxy, nx, ny, o, err);
    if (st != RT_OK) return st;
    ib_prob P = make_prob(pxy, nx, ny, o->clusters ? o->clusters : nx, NULL);
    int nt = P.nt;
    bool det = o->method == NN_IB_DETERMINISTIC;
    size_t qn = (size_t)P.nx * (size_t)nt;
    double *prev = malloc(qn * sizeof *prev), *q = malloc(qn * sizeof *q), *best = malloc(qn * sizeof *best);
    double *pt = malloc((size_t)nt * sizeof *pt), *pyt = malloc((size_t)nt * (size_t)ny * sizeof *pyt);
    double *s = malloc((size_t)nt * sizeof *s), *joint = malloc((size_t)P.nx * (size_t)ny * sizeof *joint);
    int *f = malloc((size_t)P.nx * sizeof *f), *fprev = malloc((size_t)P.nx * sizeof *fprev);
    RT_ASSERT(prev && q && best && pt && pyt && s && joint && f && fprev);
    for (size_t e = 0; e < qn; e++) prev[e] = det ? (e % (size_t)nt == 0) : 1.0 / nt;   // T constant
    for (int x = 0; x < P.nx; x++) fprev[x] = 0;
    rt_rng rng;
    rt_rng_stream(&rng, o->seed, 0, RT_STREAM_INIT);
    for (int b = 0; b < o->betas; b++) {
        double beta = o->betas == 1 ? o->beta_min
                    : o->beta_min * pow(o->beta_max / o->beta_min, (double)b / (o->betas - 1));
        nn_ib_point kept = { .lagrangian = INFINITY };
        int starts = 1 + o->restarts + (det ? 1 : 0);
        for (int c = 0; c < starts; c++) {
            int iters;
            if (det) {
                for (int x = 0; x < P.nx; x++)
                    f[x] = c == 0 ? fprev[x] : c == 1 ? x % nt : (int)rt_rng_below(&rng, (uint32_t)nt);
                iters = dib_iterate(&P, beta, f, q, o->max_iter, pt, pyt, s);
            } else {
                for (int x = 0; x < P.nx; x++) {        // the annealed start nudged, or a random one
                    double z = 0.0;
                    for (int t = 0; t < nt; t++) {
                        double u = rt_rng_uniform(&rng);
                        double v = c == 0 ? 0.99 * prev[x * nt + t] + 0.01 * u : u;
                        q[x * nt + t] = v;
                        z += v;
                    }
                    for (int t = 0; t < nt; t++) q[x * nt + t] /= z;
                }
                iters = ib_iterate(&P, beta, q, o->max_iter, o->tol, pt, pyt, s);
            }
            nn_ib_point p = evaluate(&P, q, beta, det, iters, joint);
            if (p.lagrangian < kept.lagrangian - 1e-12) {
                kept = p;
                memcpy(best, q, qn * sizeof *q);
                if (det)
                    for (int x = 0; x < P.nx; x++)
                        for (int t = 0; t < nt; t++)
                            if (q[x * nt + t] > 0.5) fprev[x] = t;
            }
        }
        memcpy(prev, best, qn * sizeof *prev);
        out[b] = kept;
    }
    free(prev); free(q); free(best); free(pt); free(pyt); free(s); free(joint); free(f); free(fprev);
    free(P.px); free(P.pyx);
    return RT_OK;
}

rt_status nn_ib_joint_read(const char *path, double **pxy, int *nx, int *ny, rt_err *err) {
    *pxy = NULL;
    *nx = *ny = 0;
    float *v = NULL;
    int rows = 0, cols = 0;
    rt_status st = nn_mi_csv_table(path, 1, &v, &rows, &cols, err);
    if (!st && rows < 1) st = rt_err_set(err, RT_ERR_FORMAT, "%s: no rows of p(x, y); give one row per x, one "
                                         "column per y", path);
    if (st) {
        free(v);
        return st;
    }
    double *p = rt_xmalloc((size_t)rows * (size_t)cols * sizeof *p);
    for (size_t e = 0; e < (size_t)rows * (size_t)cols; e++) p[e] = (double)v[e];
    free(v);
    if (nn_ib_joint_check(p, rows, cols, path, err) != RT_OK) {
        free(p);
        return err->status = RT_ERR_FORMAT;     /* a data file's fault */
    }
    *pxy = p;
    *nx = rows;
    *ny = cols;
    return RT_OK;
}

void nn_ib_curve_csv(rt_buf *b, const nn_ib_point *pts, int n) {
    rt_buf_printf(b, "beta,ixt_bits,ity_bits,ht_bits,lagrangian_bits,clusters_used,iterations\n");
    for (int i = 0; i < n; i++)
        rt_buf_printf(b, "%.9g,%.9g,%.9g,%.9g,%.9g,%d,%d\n", pts[i].beta, pts[i].ixt, pts[i].ity, pts[i].ht,
                      pts[i].lagrangian, pts[i].clusters_used, pts[i].iterations);
}
