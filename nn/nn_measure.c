// nn_measure.c: the information-plane schedule (info.csv) and the 2-D latent dump.
#include "nn_measure.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "nn_eval.h"
#include "nn_mi_check.h"
#include "rt_ops.h"

#define TWO_PI_E 17.079468445347132 /* 2 pi e */
#define DEG_PER_RAD 57.29577951308232

static const char *const est_names[NN_EST_COUNT] = { "variational", "kde", "binning", "ksg", "plugin" };
static const char *const kind_names[NN_INFO_KIND_COUNT] = {
    "variational", "kde_upper", "kde_lower", "binning", "ksg", "plugin",
};

const char *nn_est_name(nn_est e) { return e < NN_EST_COUNT ? est_names[e] : "?"; }
const char *nn_info_kind_name(nn_info_kind k) { return k < NN_INFO_KIND_COUNT ? kind_names[k] : "?"; }

nn_measure_cfg nn_measure_cfg_default(void) {
    nn_measure_cfg c;
    memset(&c, 0, sizeof c);
    c.estimators = 1u << NN_EST_VARIATIONAL | 1u << NN_EST_KDE | 1u << NN_EST_BINNING | 1u << NN_EST_PLUGIN;
    c.every = NN_EVERY_EPOCH;
    c.every_k = 1;
    c.split[0] = c.split[1] = true;
    c.kde_var = 0.1;
    c.bins = 30;
    c.lo = -1.0f;
    c.hi = 1.0f;
    c.k = 3;
    c.plugin_samples = 16;
    return c;
}

static bool measurable(const nn_layer *l) {
    switch (l->spec.kind) {
    case NN_LAYER_RELU: case NN_LAYER_TANH: case NN_LAYER_SIGMOID: case NN_LAYER_SOFTPLUS:
    case NN_LAYER_GAUSS: case NN_LAYER_BERN: case NN_LAYER_NOISE: case NN_LAYER_GAP:
        return l->parent < 0;
    default:
        return false;
    }
}

/* The width a measured layer is read at: a map's channels (global-average-pooled) or its features. */
static int measured_width(const nn_measure_cfg *cfg, const nn_model *m, int li) {
    if (li == m->n) return m->out;
    const nn_layer *l = &m->layers[li];
    return l->spatial && !cfg->spatial_flat ? l->shape[0] : l->out;
}

static const char *layer_name(const nn_model *m, int li) {
    return li == m->n ? NN_MEASURE_OUT_NAME : m->layers[li].spec.name;
}

/* A stream of its own for each (epoch, split, layer, estimator): draws do not depend on which
** other estimators ran, and a resumed run measures identically. */
static void estim_rng(rt_rng *r, const nn_measure *mm, int epoch, int split, int li, int kind) {
    uint64_t h = mm->seed;
    uint64_t parts[4] = { (uint64_t)epoch, (uint64_t)split, (uint64_t)li, (uint64_t)kind };
    for (int i = 0; i < 4; i++) h = (h ^ (parts[i] + 1)) * 0x100000001B3ull + 0x9E3779B97F4A7C15ull;
    rt_rng_stream(r, h, mm->point, RT_STREAM_ESTIM);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The fixed examples of a split: a sorted random subset of `samples` rows. */
static void draw_subset(nn_dataset *sub, const nn_dataset *d, int samples, const nn_measure *mm, int split) {
    int32_t *perm = rt_xmalloc((size_t)d->n * sizeof *perm);
    for (int i = 0; i < d->n; i++) perm[i] = i;
    rt_rng r;
    estim_rng(&r, mm, -1, split, -1, -1);
    rt_rng_shuffle(&r, perm, (size_t)d->n);
    qsort(perm, (size_t)samples, sizeof *perm, cmp_i32);
    *sub = *d;
    sub->n = samples;
    sub->x = rt_xmalloc((size_t)samples * (size_t)d->dim * sizeof *sub->x);
    sub->y = rt_xmalloc((size_t)samples * sizeof *sub->y);
    nn_data_gather(d, perm, samples, sub->x, sub->y);
    free(perm);
}

/* The measured layers' indices into layer[] (m->n for the softmax output); their count, or -1
** with the error set. */
static int resolve_layers(const nn_measure_cfg *cfg, const nn_model *m, const nn_obj *o, int *layer, rt_err *err) {
    int n = 0;
    if (cfg->nlayers == 0) {
        int all = 0;
        for (int i = 0; i < m->n; i++) all += measurable(&m->layers[i]);
        if (all > NN_MEASURE_MAX_LAYERS) {
            rt_err_set(err, RT_ERR_ARG, "%s: measure: \"all\" layers of this model are %d; at most %d (and the "
                       "softmax) are measured: name them, layers = { ... }", cfg->where, all, NN_MEASURE_MAX_LAYERS);
            return -1;
        }
        for (int i = 0; i < m->n; i++)
            if (measurable(&m->layers[i])) layer[n++] = i;
        if (o->classifies) layer[n++] = m->n;
        return n;
    }
    for (int j = 0; j < cfg->nlayers; j++) {
        int li = strcmp(cfg->layers[j], NN_MEASURE_OUT_NAME) == 0 ? m->n : nn_model_find(m, cfg->layers[j]);
        if (li < 0) {
            char known[1024];
            size_t k = 0;
            for (int i = 0; i < m->n && k < sizeof known; i++)
                k += (size_t)snprintf(known + k, sizeof known - k, "%s, ", m->layers[i].spec.name);
            if (k < sizeof known) snprintf(known + k, sizeof known - k, "%s", NN_MEASURE_OUT_NAME);
            rt_err_set(err, RT_ERR_ARG, "%s: measure: the model has no layer '%s'; its layers: %s", cfg->where,
                       cfg->layers[j], known);
            return -1;
        }
        layer[n++] = li;
    }
    return n;
}

static nn_layer_kind measured_kind(const nn_model *m, int li);
static bool read_mean_field(const nn_model *m, int li);

rt_status nn_measure_check(const nn_measure_cfg *cfg, const nn_model *m, const nn_obj *o, rt_err *err) {
    int layer[NN_MEASURE_MAX_LAYERS + 1];
    if (!cfg->on) return RT_OK;
    int n = resolve_layers(cfg, m, o, layer, err);
    if (n < 0) return RT_ERR_ARG;
    /* An estimator the script names that applies to none of the measured layers would leave its
    ** rows out silently ("all" and the default take those that apply). */
    int bern = 0;
    for (int j = 0; j < n; j++) bern += measured_kind(m, layer[j]) == NN_LAYER_BERN;
    if (cfg->estimators_listed && (cfg->estimators & 1u << NN_EST_PLUGIN) && bern == 0)
        return rt_err_set(err, RT_ERR_ARG, "%s: measure: estimator 'plugin' measures vib.bern layers, and no "
                          "measured layer is one; remove it, or measure a Bernoulli layer", cfg->where);
    if (cfg->estimators_listed && (cfg->estimators & 1u << NN_EST_KSG) && n > 0 && bern == n)
        return rt_err_set(err, RT_ERR_ARG, "%s: measure: estimator 'ksg' measures continuous layers, and every "
                          "measured layer is a vib.bern; use 'plugin' for them", cfg->where);
    return RT_OK;
}

static rt_status selfcheck_write(nn_measure *mm, const nn_model *m, const char *dir, rt_err *err);

rt_status nn_measure_open(nn_measure *mm, const nn_measure_cfg *cfg, const nn_model *m,
                          const nn_obj *o, const nn_dataset *train, const nn_dataset *test,
                          uint64_t seed, uint64_t point, const char *dir, bool append, rt_err *err) {
    memset(mm, 0, sizeof *mm);
    mm->cfg = *cfg;
    mm->seed = seed;
    mm->point = point;
    mm->nlayer = resolve_layers(cfg, m, o, mm->layer, err);
    if (mm->nlayer < 0) return RT_ERR_ARG;
    const nn_dataset *d[2] = { train, test };
    for (int s = 0; s < 2; s++) {
        mm->data[s] = d[s];
        if (cfg->split[s] && cfg->samples > 0 && cfg->samples < d[s]->n) {
            draw_subset(&mm->sub[s], d[s], cfg->samples, mm, s);
            mm->data[s] = &mm->sub[s];
        }
    }
    static const char *const cols[] = { "epoch", "split", "layer", "estimator", "ixz_bits", "izy_bits",
                                        "ixz_side", "izy_side", "n", "clipped_frac", "network" };
    static const char *const audit_cols[] = { "ixz_lo", "ixz_hi", "izy_lo", "izy_hi", "izy_shuffle",
                                              "distinct_from_zero" };
    /* The network column, only where some row describes the mean-field network: files of
    ** models without a stochastic layer upstream of a measured one keep their columns. */
    for (int j = 0; j < mm->nlayer; j++)
        mm->network_col |= read_mean_field(m, mm->layer[j]) && (cfg->estimators & ~(1u << NN_EST_VARIATIONAL));
    char path[1100];
    snprintf(path, sizeof path, "%s/info.csv", dir);
    int ncol = mm->network_col ? 11 : 10;
    const char *all[17];
    for (int i = 0; i < ncol; i++) all[i] = cols[i];
    for (int i = 0; cfg->audit && i < 6; i++) all[ncol + i] = audit_cols[i];
    rt_status st = rt_csv_open(&mm->csv, path, all, cfg->audit ? ncol + 6 : ncol, append, err);
    if (st) return st;
    if (cfg->audit) {
        static const char *const acols[] = { "epoch", "split", "layer", "estimator", "check", "setting",
                                             "ixz_bits", "izy_bits", "flag" };
        snprintf(path, sizeof path, "%s/info_audit.csv", dir);
        if ((st = rt_csv_open(&mm->audit_csv, path, acols, 9, append, err))) return st;
    }
    snprintf(mm->timing_path, sizeof mm->timing_path, "%s/info_timing.csv.part", dir);
    mm->timing = rt_log_open(mm->timing_path, append, "epoch,split,layer,estimator,seconds\n", err);
    if (!mm->timing) return RT_ERR_IO;
    /* Once per point: a resumed run keeps the file of its first start. */
    snprintf(path, sizeof path, "%s/selfcheck.csv", dir);
    if (cfg->selfcheck && access(path, F_OK) != 0) return selfcheck_write(mm, m, dir, err);
    return RT_OK;
}

bool nn_measure_due(const nn_measure *mm, int epoch, int epochs) {
    const nn_measure_cfg *c = &mm->cfg;
    if (epoch == 0 || epoch == epochs) return true;
    switch (c->every) {
    case NN_EVERY_EPOCH: return true;
    case NN_EVERY_LOG2: return (epoch & (epoch - 1)) == 0;
    case NN_EVERY_K: return c->every_k > 0 && epoch % c->every_k == 0;
    case NN_EVERY_LIST:
        for (int i = 0; i < c->nepochs; i++)
            if (c->epochs[i] == epoch) return true;
        return false;
    }
    return false;
}

// ---- reading the layers ----

/* One measured layer's values on the split's examples. */
typedef struct layer_vals {
    int d;                      /* features */
    float *y;                   /* (n, d): activations; gauss mu; bern p; noise f(x); softmax probs */
    float *sigma;               /* gauss: (n, d) standard deviations, or with full_cov (n, d(d+1)/2)
                                ** the packed Cholesky factors; NULL for unit sigma */
    bool full_cov, unit;
} layer_vals;

static void softmax_rows(const float *z, float *p, int rows, int C) {
    for (int i = 0; i < rows; i++) {
        const float *zi = z + (size_t)i * C;
        float *pi = p + (size_t)i * C;
        float mx = zi[0];
        for (int k = 1; k < C; k++) mx = zi[k] > mx ? zi[k] : mx;
        double s = 0.0;
        for (int k = 0; k < C; k++) s += exp((double)(zi[k] - mx));
        for (int k = 0; k < C; k++) pi[k] = (float)(exp((double)(zi[k] - mx)) / s);
    }
}

/* Examples [i0, i0 + b) of d as a (b, dim) input tensor of the step arena. */
static rt_tensor *batch_rows(rt_ctx *c, const nn_dataset *d, int i0, int b) {
    rt_tensor *x = rt_tensor_new(c, 2, (int[]){ b, d->dim });
    memcpy(x->data, d->x + (size_t)i0 * d->dim, (size_t)b * (size_t)d->dim * sizeof(float));
    return x;
}

/* Evaluation-mode forward over d in batches; copies each measured layer out of the step arena. */
static void read_layers(const nn_measure *mm, nn_model *m, const nn_dataset *d, int batch, rt_ctx *c,
                        layer_vals *v) {
    int n = d->n;
    for (int j = 0; j < mm->nlayer; j++) {
        int li = mm->layer[j];
        memset(&v[j], 0, sizeof v[j]);
        v[j].d = measured_width(&mm->cfg, m, li);
        v[j].y = rt_xmalloc((size_t)n * (size_t)v[j].d * sizeof(float));
        if (li < m->n && m->layers[li].spec.kind == NN_LAYER_GAUSS) {
            v[j].full_cov = m->layers[li].spec.full_cov;
            v[j].unit = m->layers[li].spec.sigma == NN_SIGMA_UNIT;
            int P = v[j].full_cov ? v[j].d * (v[j].d + 1) / 2 : v[j].d;
            if (!v[j].unit) v[j].sigma = rt_xmalloc((size_t)n * (size_t)P * sizeof(float));
        }
    }
    bool rec = c->grad_enabled;
    c->grad_enabled = false;
    nn_fwd f = { c, false, NULL, 0, 0, 0, NULL };
    for (int i0 = 0; i0 < n; i0 += batch) {
        int b = n - i0 < batch ? n - i0 : batch;
        rt_ctx_reset(c);
        rt_tensor *out = nn_model_forward(m, &f, batch_rows(c, d, i0, b));
        for (int j = 0; j < mm->nlayer; j++) {
            int li = mm->layer[j], k = v[j].d;
            float *dst = v[j].y + (size_t)i0 * k;
            if (li == m->n) {
                softmax_rows(out->data, dst, b, k);
                continue;
            }
            const nn_layer *l = &m->layers[li];
            const rt_tensor *src = l->spec.kind == NN_LAYER_NOISE ? l->mu : l->y;
            if (k != l->out) {                  /* a map's channels, averaged over H and W */
                int64_t hw = (int64_t)l->shape[1] * l->shape[2];
                RT_ASSERT(src->n == (int64_t)b * k * hw);
                for (int64_t r = 0; r < (int64_t)b * k; r++) {
                    double acc = 0.0;
                    for (int64_t q = 0; q < hw; q++) acc += (double)src->data[r * hw + q];
                    dst[r] = (float)(acc / (double)hw);
                }
                continue;
            }
            RT_ASSERT(src->n == (int64_t)b * k);
            memcpy(dst, src->data, (size_t)b * (size_t)k * sizeof(float));
            int P = v[j].full_cov ? k * (k + 1) / 2 : k;
            if (v[j].sigma) memcpy(v[j].sigma + (size_t)i0 * P, l->sigma->data, (size_t)b * (size_t)P * sizeof(float));
        }
    }
    c->grad_enabled = rec;
}

// ---- the estimators ----

static double label_entropy_bits(const nn_dataset *d) {
    int64_t *count = rt_xcalloc((size_t)d->nclass, sizeof *count);
    for (int i = 0; i < d->n; i++) count[d->y[i]]++;
    double h = 0.0;
    for (int k = 0; k < d->nclass; k++)
        if (count[k]) h -= (double)count[k] / d->n * log2((double)count[k] / d->n);
    free(count);
    return h;
}

static bool samples_in_eval(const nn_model *m) {
    for (int i = 0; i < m->n; i++) {
        nn_layer_kind k = m->layers[i].spec.kind;
        if (k == NN_LAYER_GAUSS || k == NN_LAYER_BERN || k == NN_LAYER_NOISE) return true;
    }
    return false;
}

static void warn_once(nn_measure *mm, const char *fmt, ...) RT_PRINTF(2, 3);
static void warn_once(nn_measure *mm, const char *fmt, ...) {
    if (mm->warn[0]) return;
    int k = snprintf(mm->warn, sizeof mm->warn, "%s: measure: ", mm->cfg.where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mm->warn + k, sizeof mm->warn - (size_t)k, fmt, ap);
    va_end(ap);
}

static nn_info_row *new_row(nn_measure *mm, int epoch, int split, const char *layer, nn_info_kind kind, int n) {
    RT_ASSERT(mm->nlast < NN_INFO_MAX_ROWS);
    nn_info_row *r = &mm->last[mm->nlast++];
    memset(r, 0, sizeof *r);
    r->epoch = epoch;
    r->split = split;
    snprintf(r->layer, sizeof r->layer, "%s", layer);
    r->kind = kind;
    r->ixz = r->izy = (double)NAN;
    r->side_ixz = r->side_izy = NN_MI_ESTIMATE;
    r->n = n;
    r->ixz_lo = r->ixz_hi = r->izy_lo = r->izy_hi = r->izy_shuffle = (double)NAN;
    r->distinct = -1;
    return r;
}

/* An estimator that fails on the values (ties, a saturated layer) leaves NAN in its row and a
** warning, not the end of the training run; only running out of memory is an error. */
static rt_status judge(nn_measure *mm, rt_status st, const rt_err *e, const char *layer, nn_info_kind k,
                       int epoch, rt_err *err) {
    if (st == RT_ERR_NOMEM) return rt_err_set(err, st, "%s", e->msg);
    if (st) warn_once(mm, "%s on layer %s failed at epoch %d: %s; its row holds nan", nn_info_kind_name(k), layer,
                      epoch, e->msg);
    return RT_OK;
}

/* Particles per stochastic layer for the variational rows: one (VIB's plots), or, when the
** objective has relevance terms that average over particles (IMB's VCR_l, the prediction
** cross-entropy), the layers' training particle count: with one particle per layer every VCR_l
** reads the same single leaf and equals the decoder's cross-entropy. */
static int variational_particles(const nn_model *m, const nn_obj *o) {
    if (!samples_in_eval(m)) return 0;
    bool averages = false;
    for (int t = 0; t < o->n; t++) averages |= o->terms[t].kind == NN_TERM_CE && o->average[t] != -2;
    int M = 1;
    for (int i = 0; i < m->n && averages; i++) {
        nn_layer_kind k = m->layers[i].spec.kind;
        if ((k == NN_LAYER_GAUSS || k == NN_LAYER_BERN) && m->layers[i].spec.samples > M) M = m->layers[i].spec.samples;
    }
    return M;
}

static void variational_rows(nn_measure *mm, nn_model *m, const nn_obj *o, int split, int epoch,
                             int batch, rt_ctx *c) {
    const nn_dataset *d = mm->data[split];
    bool any = false;
    for (int j = 0; j < mm->nlayer && !any; j++) {
        int li = mm->layer[j];
        for (int t = 0; t < o->n; t++) any |= o->layer[t] == li || (li == m->n && o->terms[t].kind == NN_TERM_CE);
    }
    if (!any) return;
    double t0 = rt_now_s();
    nn_eval_cfg e = { .batch = batch, .samples = variational_particles(m, o), .avg = NN_AVG_PROBS, .seed = mm->seed,
                      .point = mm->point, .epoch = (double)epoch };
    nn_eval ev = nn_evaluate(m, o, d, &e, c);
    double hy = label_entropy_bits(d), dt = rt_now_s() - t0;
    int decoder = -1;
    for (int t = 0; t < o->n && decoder < 0; t++)
        if (o->terms[t].kind == NN_TERM_CE && o->average[t] == -2 && o->layer[t] == -1) decoder = t;
    bool rated = false;
    for (int t = 0; t < o->n; t++)
        for (int j = 0; j < mm->nlayer; j++)
            rated |= o->layer[t] == mm->layer[j] && o->layer[t] >= 0 && o->layer[t] < m->n &&
                     (nn_obj_is_rate(o, t) || (o->terms[t].kind == NN_TERM_LOGVAR && !o->terms[t].per_class &&
                                                        m->layers[o->layer[t]].spec.kind == NN_LAYER_NOISE));
    for (int j = 0; j < mm->nlayer; j++) {
        int li = mm->layer[j];
        double ixz = (double)NAN;
        int relevance = decoder;
        for (int t = 0; t < o->n; t++) {
            if (o->terms[t].kind == NN_TERM_CE && o->average[t] == li) relevance = t;
            if (o->layer[t] != li || li == m->n) continue;
            if (nn_obj_is_rate(o, t)) ixz = ev.term_bits[t];
            else if (o->terms[t].kind == NN_TERM_LOGVAR && !o->terms[t].per_class && isnan(ixz) &&
                     m->layers[li].spec.kind == NN_LAYER_NOISE) {
                double s = m->layers[li].spec.std, dz = m->layers[li].out;
                ixz = ev.term_bits[t] - 0.5 * dz * log2(TWO_PI_E * s * s);
            }
        }
        /* The output's row carries the decoder bound alone: only where no layer has a rate. */
        if (isnan(ixz) && (li != m->n || rated)) continue;
        nn_info_row *r = new_row(mm, epoch, split, layer_name(m, li), NN_INFO_VARIATIONAL, d->n);
        r->ixz = ixz;
        r->side_ixz = NN_MI_UPPER;
        if (relevance >= 0) {
            r->izy = hy - ev.term_bits[relevance];
            r->side_izy = NN_MI_LOWER;
        }
        r->seconds = dt;
    }
}

/* The binning of a layer of this kind: the configured bin size, or bins over the configured range,
** else over [0, 1] for layers in [0, 1] and [-1, 1] for the others. */
static nn_mi_bin_opts bin_opts(const nn_measure_cfg *cf, nn_layer_kind kind) {
    nn_mi_bin_opts bo = nn_mi_bin_opts_default();
    bo.bins = cf->bins;
    if (cf->bin_size > 0.0f) bo.bin_size = cf->bin_size;
    else if (cf->range_set) bo.lo = cf->lo, bo.hi = cf->hi;
    else if (kind == NN_LAYER_SIGMOID || kind == NN_LAYER_BERN) bo.lo = 0.0f, bo.hi = 1.0f;
    return bo;
}

/* The kind a layer is measured as: the softmax output is in [0, 1] like a sigmoid. */
static nn_layer_kind measured_kind(const nn_model *m, int li) {
    return li == m->n ? NN_LAYER_SIGMOID : m->layers[li].spec.kind;
}

/* Which pairwise bounds a layer gets: a Gaussian with its own sigma (diagonal or full), a
** Bernoulli in closed form, or the deterministic form with the noise variance *sigma2 (a
** Gaussian with unit sigma: 1; a noise layer: its std^2; any other layer: kde_var). */
static nn_mi_check_est kde_for(const nn_measure_cfg *cf, const nn_model *m, int li, double *sigma2) {
    nn_layer_kind kind = measured_kind(m, li);
    const nn_layer_spec *sp = li < m->n ? &m->layers[li].spec : NULL;
    *sigma2 = cf->kde_var;
    if (kind == NN_LAYER_BERN) return NN_MI_CHECK_KDE_BERN;
    if (kind == NN_LAYER_GAUSS && sp->sigma != NN_SIGMA_UNIT)
        return sp->full_cov ? NN_MI_CHECK_KDE_GAUSS_FULL : NN_MI_CHECK_KDE_GAUSS;
    if (kind == NN_LAYER_GAUSS) *sigma2 = 1.0;
    else if (kind == NN_LAYER_NOISE) *sigma2 = (double)sp->std * (double)sp->std;
    return NN_MI_CHECK_KDE_DET;
}

/* Whether the estimators other than the variational one describe layer li of the mean-field
** network: read_layers runs the model at the means (eval_samples = 0), so a layer after a
** stochastic one (gauss, bern, noise) sees the upstream layers' means, not their samples. A
** stochastic layer itself is read at its own distribution given its (deterministic) input. */
static bool read_mean_field(const nn_model *m, int li) {
    for (int i = 0; i < li && i < m->n; i++) {
        nn_layer_kind k = m->layers[i].spec.kind;
        if (k == NN_LAYER_GAUSS || k == NN_LAYER_BERN || k == NN_LAYER_NOISE) return true;
    }
    return false;
}

static rt_status layer_rows_of(nn_measure *mm, const nn_model *m, int split, int epoch, int j,
                               const layer_vals *v, rt_err *err);

static rt_status layer_rows(nn_measure *mm, const nn_model *m, int split, int epoch, int j,
                            const layer_vals *v, rt_err *err) {
    int first = mm->nlast;
    rt_status st = layer_rows_of(mm, m, split, epoch, j, v, err);
    for (int i = first; i < mm->nlast; i++) mm->last[i].mean_field = read_mean_field(m, mm->layer[j]);
    return st;
}

/* What one estimate reads: the layer's values, the input rows (dimx wide) and the labels of n
** examples (all of them, or a resample or a subset of them for the audit). */
typedef struct est_in {
    const layer_vals *v;
    const float *x;
    int dimx;
    const int32_t *y;
    int n;
} est_in;

/* One estimator's result: [0] its row (kde: kde_upper), [1] kde_lower. */
typedef struct est_out { double ixz[2], izy[2], seconds, clipped; } est_out;

/* Runs estimator est on in. kde_mult scales the noise variance of the deterministic kde form,
** bin_mult the bin size (a bin count is divided by it); rng draws the sample of a stochastic layer
** for ksg and the patterns for plugin. */
static rt_status run_est(const nn_measure *mm, const nn_model *m, int li, nn_est est, const est_in *in,
                         double kde_mult, double bin_mult, rt_rng *rng, est_out *o, rt_err *e) {
    const nn_measure_cfg *cf = &mm->cfg;
    const layer_vals *v = in->v;
    int n = in->n, dz = v->d;
    nn_layer_kind kind = measured_kind(m, li);
    rt_status st = RT_OK;
    *o = (est_out){ .ixz = { NAN, NAN }, .izy = { NAN, NAN } };
    e->msg[0] = '\0';
    if (est == NN_EST_KDE) {
        nn_mi_kde kde;
        double s2;
        switch (kde_for(cf, m, li, &s2)) {
        case NN_MI_CHECK_KDE_GAUSS_FULL: st = nn_mi_kde_gauss_full(v->y, v->sigma, n, dz, in->y, NULL, &kde, e); break;
        case NN_MI_CHECK_KDE_GAUSS: st = nn_mi_kde_gauss(v->y, v->sigma, n, dz, in->y, NULL, &kde, e); break;
        case NN_MI_CHECK_KDE_BERN: st = nn_mi_kde_bern(v->y, n, dz, in->y, NULL, &kde, e); break;
        default: st = nn_mi_kde_det(v->y, n, dz, s2 * kde_mult, in->y, NULL, &kde, e); break;
        }
        if (st == RT_OK)
            *o = (est_out){ .ixz = { kde.upper.ixt, kde.lower.ixt }, .izy = { kde.upper.ity, kde.lower.ity },
                            .seconds = kde.seconds };
    } else if (est == NN_EST_BINNING) {
        nn_mi_bin_opts bo = bin_opts(cf, kind);
        if (bin_mult != 1.0 && bo.bin_size > 0.0f) bo.bin_size = (float)((double)bo.bin_size * bin_mult);
        else if (bin_mult != 1.0) bo.bins = (int)fmax(1.0, round(bo.bins / bin_mult));
        nn_mi_disc b;
        st = nn_mi_bin(v->y, n, dz, NULL, in->y, &bo, &b, e);
        if (st == RT_OK) o->ixz[0] = b.est.ixt, o->izy[0] = b.est.ity, o->clipped = b.clipped_frac, o->seconds = b.seconds;
    } else if (est == NN_EST_KSG) {
        /* One sample of a stochastic layer: the k-NN estimators need a continuous Z with noise. */
        float *t = v->y, *own = NULL;
        if (kind == NN_LAYER_GAUSS || kind == NN_LAYER_NOISE) {
            own = rt_xmalloc((size_t)n * (size_t)dz * sizeof *own);
            double s = kind == NN_LAYER_NOISE ? (double)m->layers[li].spec.std : 1.0;
            if (v->full_cov && v->sigma) {      /* mu + L eps */
                int P = dz * (dz + 1) / 2;
                double eps[NN_MI_FULL_MAX_D];
                for (int i = 0; i < n; i++) {
                    const float *L = v->sigma + (size_t)i * P;
                    for (int a = 0; a < dz; a++) eps[a] = rt_rng_normal(rng);
                    for (int a = 0; a < dz; a++) {
                        double acc = 0.0;
                        for (int b = 0; b <= a; b++) acc += (double)L[a * (a + 1) / 2 + b] * eps[b];
                        own[(size_t)i * dz + a] = v->y[(size_t)i * dz + a] + (float)acc;
                    }
                }
            } else {
                for (size_t i = 0; i < (size_t)n * (size_t)dz; i++)
                    own[i] = v->y[i] + (float)((v->sigma ? (double)v->sigma[i] : s) * rt_rng_normal(rng));
            }
            t = own;
        }
        nn_mi_value a, b;
        st = nn_mi_ksg(in->x, in->dimx, t, dz, n, cf->k, &a, e);
        if (st == RT_OK) st = nn_mi_ksg_labels(t, n, dz, in->y, cf->k, &b, e);
        free(own);
        if (st == RT_OK) o->ixz[0] = a.bits, o->izy[0] = b.bits, o->seconds = a.seconds + b.seconds;
    } else if (est == NN_EST_PLUGIN) {
        nn_mi_disc b;
        st = nn_mi_bern_plugin(v->y, n, dz, NULL, in->y, rng, cf->plugin_samples, &b, e);
        if (st == RT_OK) o->ixz[0] = b.est.ixt, o->izy[0] = b.est.ity, o->seconds = b.seconds;
    }
    return st;
}

/* Whether estimator est (not variational) measures a layer of this kind. */
static bool est_applies(const nn_measure_cfg *cf, nn_est est, nn_layer_kind kind) {
    if (!(cf->estimators & 1u << est)) return false;
    if (est == NN_EST_KSG) return kind != NN_LAYER_BERN;
    if (est == NN_EST_PLUGIN) return kind == NN_LAYER_BERN;
    return est == NN_EST_KDE || est == NN_EST_BINNING;
}

/* The info.csv row kind of estimator est's first row. */
static nn_info_kind row_kind(nn_est est) {
    return est == NN_EST_KDE ? NN_INFO_KDE_UPPER : est == NN_EST_BINNING ? NN_INFO_BINNING
         : est == NN_EST_KSG ? NN_INFO_KSG : NN_INFO_PLUGIN;
}

static const nn_est row_ests[] = { NN_EST_KDE, NN_EST_BINNING, NN_EST_KSG, NN_EST_PLUGIN };

static rt_status layer_rows_of(nn_measure *mm, const nn_model *m, int split, int epoch, int j,
                               const layer_vals *v, rt_err *err) {
    const nn_measure_cfg *cf = &mm->cfg;
    const nn_dataset *d = mm->data[split];
    int li = mm->layer[j], n = d->n;
    const char *name = layer_name(m, li);
    nn_layer_kind kind = measured_kind(m, li);
    est_in in = { .v = v, .x = d->x, .dimx = d->dim, .y = d->y, .n = n };
    for (size_t q = 0; q < sizeof row_ests / sizeof *row_ests; q++) {
        nn_est est = row_ests[q];
        if (!est_applies(cf, est, kind)) continue;
        rt_rng r;
        estim_rng(&r, mm, epoch, split, li, row_kind(est));
        est_out o;
        rt_err e = { 0 };
        rt_status st = run_est(mm, m, li, est, &in, 1.0, 1.0, &r, &o, &e);
        nn_info_row *row = new_row(mm, epoch, split, name, row_kind(est), n);
        row->ixz = o.ixz[0], row->izy = o.izy[0];
        if (est == NN_EST_KDE) {
            nn_info_row *lo = new_row(mm, epoch, split, name, NN_INFO_KDE_LOWER, n);
            lo->ixz = o.ixz[1], lo->izy = o.izy[1];
            if (st == RT_OK) row->side_ixz = NN_MI_UPPER, lo->side_ixz = NN_MI_LOWER;
            row->seconds = lo->seconds = o.seconds / 2;
        } else {
            row->seconds = o.seconds, row->clipped = o.clipped;
        }
        if (st == RT_OK && est == NN_EST_BINNING && o.clipped > 0.01) {
            nn_mi_bin_opts bo = bin_opts(cf, kind);
            warn_once(mm, "binning: at epoch %d, %.1f%% of layer %s's activations fall outside the bin "
                      "range [%g, %g] and were counted in the edge bins (info.csv's clipped_frac); set "
                      "measure.range or measure.bin_size", epoch, 100.0 * o.clipped, name,
                      (double)bo.lo, (double)bo.hi);
        }
        if (judge(mm, st, &e, name, row_kind(est), epoch, err)) return RT_ERR_NOMEM;
    }
    return RT_OK;
}

// ---- the estimators' self-check at the layers' sizes ----

typedef struct check_memo { nn_mi_check_task task; nn_mi_check res; rt_status st; } check_memo;

/* Runs a task once: the same task (two layers of one width, or train and test of one size) is
** reused, and its draws come from its own description, so which layer asked does not matter. */
static rt_status check_once(nn_measure *mm, const nn_mi_check_task *t, check_memo *memo, int *nmemo,
                            nn_mi_check *out, rt_err *err) {
    for (int i = 0; i < *nmemo; i++)
        if (memcmp(&memo[i].task, t, sizeof *t) == 0) {
            *out = memo[i].res;
            return memo[i].st;
        }
    uint64_t h = 0xCBF29CE484222325ull;
    const unsigned char *b = (const unsigned char *)t;
    for (size_t i = 0; i < sizeof *t; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    rt_rng r;
    rt_rng_stream(&r, mm->seed ^ h, mm->point, RT_STREAM_ESTIM);
    rt_err e = { 0 };
    rt_status st = nn_mi_check_run(t, &r, out, &e);
    if (st == RT_ERR_NOMEM) return rt_err_set(err, st, "%s", e.msg);
    if (st) warn_once(mm, "selfcheck: %s; its row holds nan", e.msg);
    if (*nmemo < 64) memo[(*nmemo)++] = (check_memo){ *t, *out, st };
    return RT_OK;
}

static void check_row(rt_csv *w, const char *split, const char *layer, const char *est, const nn_mi_check_task *t,
                      double level, const nn_mi_check *r, double ixz, double izy) {
    rt_csv_str(w, split);
    rt_csv_str(w, layer);
    rt_csv_str(w, est);
    rt_csv_str(w, r->task);
    rt_csv_int(w, t->n);
    rt_csv_int(w, t->d);
    rt_csv_num(w, level);
    rt_csv_num(w, r->true_ixt);
    rt_csv_num(w, ixz);
    rt_csv_num(w, ixz - r->true_ixt);
    rt_csv_num(w, r->true_ity);
    rt_csv_num(w, izy);
    rt_csv_num(w, izy - r->true_ity);
}

/* selfcheck.csv (see nn_measure.h): every estimator layer_rows runs, with its settings, on the
** known-MI tasks of nn_mi_check.h at each split's n and each layer's width. */
static rt_status selfcheck_write(nn_measure *mm, const nn_model *m, const char *dir, rt_err *err) {
    static const char *const cols[] = { "split", "layer", "estimator", "task", "n", "d", "level", "true_ixz_bits",
                                        "ixz_bits", "ixz_err_bits", "true_izy_bits", "izy_bits", "izy_err_bits" };
    static const char *const split_names[2] = { "train", "test" };
    static const double levels[3] = { 0.25, 0.5, 1.0 };
    const nn_measure_cfg *cf = &mm->cfg;
    char path[1100];
    snprintf(path, sizeof path, "%s/selfcheck.csv", dir);
    rt_csv w;
    rt_status st = rt_csv_open(&w, path, cols, 13, false, err);
    if (st) return st;
    check_memo *memo = rt_xcalloc(64, sizeof *memo);
    int nmemo = 0;
    for (int s = 0; s < 2 && !st; s++) {
        const nn_dataset *d = mm->data[s];
        if (!cf->split[s]) continue;
        if (d->nclass < 2) {
            warn_once(mm, "selfcheck: the %s split has %d class(es); the tasks need labels of 2 or more",
                      split_names[s], d->nclass);
            continue;
        }
        for (int j = 0; j < mm->nlayer && !st; j++) {
            int li = mm->layer[j];
            nn_layer_kind kind = measured_kind(m, li);
            nn_mi_check_est ests[4];
            int ne = 0;
            double kde_s2 = 0.0;
            if (cf->estimators & 1u << NN_EST_KDE) ests[ne++] = kde_for(cf, m, li, &kde_s2);
            if (cf->estimators & 1u << NN_EST_BINNING) ests[ne++] = NN_MI_CHECK_BINNING;
            if ((cf->estimators & 1u << NN_EST_KSG) && kind != NN_LAYER_BERN) ests[ne++] = NN_MI_CHECK_KSG;
            if ((cf->estimators & 1u << NN_EST_PLUGIN) && kind == NN_LAYER_BERN) ests[ne++] = NN_MI_CHECK_PLUGIN;
            for (int e = 0; e < ne && !st; e++) {
                for (int lv = 0; lv < 3 && !st; lv++) {
                    nn_mi_check_task t;
                    memset(&t, 0, sizeof t);            /* the padding too: tasks are compared bytewise */
                    t.est = ests[e];
                    t.n = d->n;
                    t.d = measured_width(cf, m, li);
                    t.classes = d->nclass;
                    t.bits = levels[lv] * log2((double)d->n);
                    if (t.est == NN_MI_CHECK_KSG) t.dx = d->dim, t.k = cf->k;
                    if (t.est == NN_MI_CHECK_KDE_DET) t.sigma2 = kde_s2;
                    if (t.est == NN_MI_CHECK_BINNING) t.bin = bin_opts(cf, kind);
                    if (t.est == NN_MI_CHECK_PLUGIN) t.samples = cf->plugin_samples;
                    nn_mi_check r;
                    st = check_once(mm, &t, memo, &nmemo, &r, err);
                    if (st) break;
                    const char *name = layer_name(m, li), *sn = split_names[s];
                    bool kde = t.est == NN_MI_CHECK_KDE_DET || t.est == NN_MI_CHECK_KDE_GAUSS ||
                               t.est == NN_MI_CHECK_KDE_GAUSS_FULL || t.est == NN_MI_CHECK_KDE_BERN;
                    const char *est = kde ? "kde_upper" : t.est == NN_MI_CHECK_BINNING ? "binning"
                                      : t.est == NN_MI_CHECK_KSG ? "ksg" : "plugin";
                    check_row(&w, sn, name, est, &t, levels[lv], &r, r.ixt, r.ity);
                    st = rt_csv_end_row(&w, err);
                    if (kde && !st) {
                        check_row(&w, sn, name, "kde_lower", &t, levels[lv], &r, r.ixt_lower, r.ity_lower);
                        st = rt_csv_end_row(&w, err);
                    }
                }
            }
        }
    }
    free(memo);
    rt_err ignore = { 0 };
    rt_status cst = rt_csv_close(&w, st == RT_OK, st ? &ignore : err);
    return st ? st : cst;
}

// ---- the audit: every estimate's bootstrap interval, shuffle control, subsamples, settings ----

/* A subset (or resample) of est_in's examples: the rows idx[0..n2) of its layer values, inputs
** (with_x: only ksg reads them) and labels. */
typedef struct gathered { layer_vals v; est_in in; float *x; int32_t *y; } gathered;

static void gather(const est_in *in, const int32_t *idx, int n2, bool with_x, gathered *g) {
    const layer_vals *v = in->v;
    size_t dz = (size_t)v->d, dx = (size_t)in->dimx;
    size_t P = v->sigma ? (v->full_cov ? dz * (dz + 1) / 2 : dz) : 0;
    g->v = *v;
    float *vy = rt_xmalloc((size_t)n2 * dz * sizeof *vy), *vs = P ? rt_xmalloc((size_t)n2 * P * sizeof *vs) : NULL;
    g->x = with_x ? rt_xmalloc((size_t)n2 * dx * sizeof *g->x) : NULL;
    g->y = in->y ? rt_xmalloc((size_t)n2 * sizeof *g->y) : NULL;
    for (int i = 0; i < n2; i++) {
        size_t r = (size_t)idx[i];
        memcpy(vy + i * dz, v->y + r * dz, dz * sizeof *vy);
        if (P) memcpy(vs + i * P, v->sigma + r * P, P * sizeof *vs);
        if (g->x) memcpy(g->x + i * dx, in->x + r * dx, dx * sizeof *g->x);
        if (g->y) g->y[i] = in->y[r];
    }
    g->v.y = vy;
    g->v.sigma = vs;
    g->in = (est_in){ .v = &g->v, .x = g->x ? g->x : in->x, .dimx = in->dimx, .y = g->y, .n = n2 };
}

static void gathered_free(gathered *g) {
    free(g->v.y);
    free(g->v.sigma);
    free(g->x);
    free(g->y);
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (sorted here), linear between order statistics; NAN when n = 0. */
static double quantile(double *v, int n, double q) {
    if (n == 0) return (double)NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    double f = pos - i;
    return i + 1 < n ? v[i] * (1.0 - f) + v[i + 1] * f : v[i];
}

/* One row of info_audit.csv; flag < 0 leaves its field empty. */
static rt_status audit_row(nn_measure *mm, int epoch, int split, const char *layer, nn_info_kind kind,
                           const char *check, const char *setting, double ixz, double izy, int flag, rt_err *err) {
    static const char *const split_names[2] = { "train", "test" };
    rt_csv *w = &mm->audit_csv;
    rt_csv_int(w, epoch);
    rt_csv_str(w, split_names[split]);
    rt_csv_str(w, layer);
    rt_csv_str(w, nn_info_kind_name(kind));
    rt_csv_str(w, check);
    rt_csv_str(w, setting);
    rt_csv_num(w, ixz);
    rt_csv_num(w, izy);
    if (flag < 0) rt_csv_str(w, "");
    else rt_csv_int(w, flag);
    return rt_csv_end_row(w, err);
}

/* The row of this epoch's rows from r0 on with this layer and kind, or NULL. */
static nn_info_row *find_row(nn_measure *mm, int r0, const char *layer, nn_info_kind kind) {
    for (int i = r0; i < mm->nlast; i++)
        if (mm->last[i].kind == kind && strcmp(mm->last[i].layer, layer) == 0) return &mm->last[i];
    return NULL;
}

/* Runs est on the subset idx[0..n2) of in; NAN results when n2 is too small or it fails (only
** running out of memory is an error). */
static rt_status audit_est(const nn_measure *mm, const nn_model *m, int li, nn_est est, const est_in *in,
                           const int32_t *idx, int n2, double kde_mult, double bin_mult, rt_rng *r,
                           est_out *o, rt_err *err) {
    *o = (est_out){ .ixz = { NAN, NAN }, .izy = { NAN, NAN } };
    if (n2 < 2 || (est == NN_EST_KSG && n2 <= mm->cfg.k)) return RT_OK;
    gathered g;
    est_in use = *in;
    if (idx) {
        gather(in, idx, n2, est == NN_EST_KSG, &g);
        use = g.in;
    }
    rt_err e = { 0 };
    rt_status st = run_est(mm, m, li, est, &use, kde_mult, bin_mult, r, o, &e);
    if (idx) gathered_free(&g);
    if (st == RT_ERR_NOMEM) return rt_err_set(err, st, "%s", e.msg);
    return RT_OK;
}

/* The audit of layer j's rows (from r0 on) in this split: per estimator, audit_bootstrap resamples
** with replacement, one label permutation, the subsamples n/2 and n/4, and the settings; all from
** the estimator stream of (epoch, split, layer, NN_INFO_KIND_COUNT + estimator). sec[est]: the
** audit's seconds. */
static rt_status audit_layer(nn_measure *mm, const nn_model *m, int split, int epoch, int j, const layer_vals *v,
                             int r0, double *sec, rt_err *err) {
    const nn_measure_cfg *cf = &mm->cfg;
    const nn_dataset *d = mm->data[split];
    int li = mm->layer[j], n = d->n, B = cf->audit_bootstrap;
    const char *name = layer_name(m, li);
    nn_layer_kind kind = measured_kind(m, li);
    est_in in = { .v = v, .x = d->x, .dimx = d->dim, .y = d->y, .n = n };
    int32_t *idx = rt_xmalloc((size_t)n * sizeof *idx), *ys = d->y ? rt_xmalloc((size_t)n * sizeof *ys) : NULL;
    double *bs = rt_xmalloc(4 * (size_t)(B > 0 ? B : 1) * sizeof *bs);   // [k * 2 + (0 ixz, 1 izy)][b]
    rt_status st = RT_OK;
    for (size_t q = 0; q < sizeof row_ests / sizeof *row_ests && !st; q++) {
        nn_est est = row_ests[q];
        if (!est_applies(cf, est, kind)) continue;
        double t0 = rt_now_s();
        rt_rng r;
        estim_rng(&r, mm, epoch, split, li, NN_INFO_KIND_COUNT + est);
        int nk = est == NN_EST_KDE ? 2 : 1, cnt[4] = { 0 };
        est_out o;
        for (int b = 0; b < B && !st; b++) {
            for (int i = 0; i < n; i++) idx[i] = (int32_t)rt_rng_below(&r, (uint32_t)n);
            st = audit_est(mm, m, li, est, &in, idx, n, 1.0, 1.0, &r, &o, err);
            for (int k = 0; k < nk; k++) {
                if (isfinite(o.ixz[k])) bs[(size_t)(2 * k) * B + cnt[2 * k]++] = o.ixz[k];
                if (isfinite(o.izy[k])) bs[(size_t)(2 * k + 1) * B + cnt[2 * k + 1]++] = o.izy[k];
            }
        }
        est_out sh = { .ixz = { NAN, NAN }, .izy = { NAN, NAN } };
        if (!st && ys) {
            memcpy(ys, d->y, (size_t)n * sizeof *ys);
            rt_rng_shuffle(&r, ys, (size_t)n);
            est_in si = in;
            si.y = ys;
            st = audit_est(mm, m, li, est, &si, NULL, n, 1.0, 1.0, &r, &sh, err);
        }
        nn_info_kind kinds[2] = { row_kind(est), NN_INFO_KDE_LOWER };
        for (int k = 0; k < nk && !st; k++) {
            nn_info_row *row = find_row(mm, r0, name, kinds[k]);
            RT_ASSERT(row);
            row->ixz_lo = quantile(bs + (size_t)(2 * k) * B, cnt[2 * k], 0.025);
            row->ixz_hi = quantile(bs + (size_t)(2 * k) * B, cnt[2 * k], 0.975);
            row->izy_lo = quantile(bs + (size_t)(2 * k + 1) * B, cnt[2 * k + 1], 0.025);
            row->izy_hi = quantile(bs + (size_t)(2 * k + 1) * B, cnt[2 * k + 1], 0.975);
            row->izy_shuffle = sh.izy[k];
            /* Told apart from 0: the estimate exceeds the shuffle control (and 0) by more than half
            ** the interval's width (about two standard errors). Not izy_lo alone: a plug-in estimate
            ** of resampled rows is biased up by the repeated rows, the shuffle control is not. */
            if (isfinite(row->izy) && isfinite(row->izy_lo) && isfinite(row->izy_hi))
                row->distinct = row->izy - fmax(isfinite(sh.izy[k]) ? sh.izy[k] : 0.0, 0.0) >
                                0.5 * (row->izy_hi - row->izy_lo);
            st = audit_row(mm, epoch, split, name, kinds[k], "subsample", "n", row->ixz, row->izy, -1, err);
        }
        for (int i = 0; i < n; i++) idx[i] = i;
        rt_rng_shuffle(&r, idx, (size_t)n);
        static const char *const sub_names[2] = { "n/2", "n/4" };
        for (int f = 0; f < 2 && !st; f++) {
            st = audit_est(mm, m, li, est, &in, idx, n >> (f + 1), 1.0, 1.0, &r, &o, err);
            for (int k = 0; k < nk && !st; k++)
                st = audit_row(mm, epoch, split, name, kinds[k], "subsample", sub_names[f], o.ixz[k], o.izy[k], -1, err);
        }
        double s2;
        bool det_kde = est == NN_EST_KDE && kde_for(cf, m, li, &s2) == NN_MI_CHECK_KDE_DET;
        if (est == NN_EST_BINNING || det_kde) {
            static const double mults[2] = { 0.5, 2.0 }, kmults[2] = { 0.25, 4.0 };
            static const char *const bin_names[2] = { "half", "double" }, *const kde_names[2] = { "/4", "x4" };
            for (int f = 0; f < 2 && !st; f++) {
                bool bin = est == NN_EST_BINNING;
                st = audit_est(mm, m, li, est, &in, NULL, n, bin ? 1.0 : kmults[f], bin ? mults[f] : 1.0, &r, &o, err);
                for (int k = 0; k < nk && !st; k++)
                    st = audit_row(mm, epoch, split, name, kinds[k], bin ? "bin_size" : "kde_var",
                                   bin ? bin_names[f] : kde_names[f], o.ixz[k], o.izy[k], -1, err);
            }
        }
        sec[est] = rt_now_s() - t0;
    }
    free(idx);
    free(ys);
    free(bs);
    return st;
}

/* Along the measured layers in model order, per estimator row kind: this layer's estimate minus
** the previous one's, flagged where I(X;Z) grows (the data-processing inequality forbids it on a
** chain X -> Z1 -> Z2). */
static rt_status audit_dpi(nn_measure *mm, const nn_model *m, int split, int epoch, int r0, rt_err *err) {
    int order[NN_MEASURE_MAX_LAYERS + 1], no = mm->nlayer;
    for (int j = 0; j < no; j++) {
        int p = j;
        while (p > 0 && mm->layer[order[p - 1]] > mm->layer[j]) { order[p] = order[p - 1]; p--; }
        order[p] = j;
    }
    rt_status st = RT_OK;
    for (int k = NN_INFO_KDE_UPPER; k < NN_INFO_KIND_COUNT && !st; k++) {
        const nn_info_row *prev = NULL;
        for (int jj = 0; jj < no && !st; jj++) {
            const nn_info_row *row = find_row(mm, r0, layer_name(m, mm->layer[order[jj]]), (nn_info_kind)k);
            if (!row) continue;
            if (prev && isfinite(row->ixz) && isfinite(prev->ixz))
                st = audit_row(mm, epoch, split, row->layer, (nn_info_kind)k, "dpi", prev->layer, row->ixz - prev->ixz,
                               row->izy - prev->izy, row->ixz > prev->ixz + 1e-9, err);
            prev = row;
        }
    }
    return st;
}

rt_status nn_measure_epoch(nn_measure *mm, nn_model *m, const nn_obj *o, int epoch, int eval_batch,
                           rt_ctx *c, rt_err *err) {
    static const char *const split_names[2] = { "train", "test" };
    mm->nlast = 0;
    mm->stopped = false;
    layer_vals v[NN_MEASURE_MAX_LAYERS + 1];
    rt_status st = RT_OK;
    for (int s = 0; s < 2 && !st; s++) {
        if (!mm->cfg.split[s]) continue;
        int first = mm->nlast;
        if (mm->cfg.estimators & 1u << NN_EST_VARIATIONAL) variational_rows(mm, m, o, s, epoch, eval_batch, c);
        read_layers(mm, m, mm->data[s], eval_batch, c, v);
        double audit_sec[NN_MEASURE_MAX_LAYERS + 1][NN_EST_COUNT];
        for (int j = 0; j < mm->nlayer && !st && !mm->stopped; j++) {
            int r0 = mm->nlast;
            for (int e = 0; e < NN_EST_COUNT; e++) audit_sec[j][e] = -1.0;
            st = layer_rows(mm, m, s, epoch, j, &v[j], err);
            if (!st && mm->cfg.audit) st = audit_layer(mm, m, s, epoch, j, &v[j], r0, audit_sec[j], err);
            mm->stopped = mm->stop && *mm->stop;
        }
        if (!st && mm->cfg.audit && !mm->stopped) st = audit_dpi(mm, m, s, epoch, first, err);
        for (int j = 0; j < mm->nlayer; j++) {
            free(v[j].y);
            free(v[j].sigma);
        }
        /* A stopped epoch writes nothing more: the checkpoint taken next precedes it, and a resume
        ** drops the rows of it already written and measures it again. */
        if (mm->stopped) break;
        for (int i = first; i < mm->nlast && !st; i++) {
            const nn_info_row *r = &mm->last[i];
            rt_csv_int(&mm->csv, r->epoch);
            rt_csv_str(&mm->csv, split_names[s]);
            rt_csv_str(&mm->csv, r->layer);
            rt_csv_str(&mm->csv, nn_info_kind_name(r->kind));
            rt_csv_num(&mm->csv, r->ixz);
            rt_csv_num(&mm->csv, r->izy);
            rt_csv_str(&mm->csv, nn_mi_side_name(r->side_ixz));
            rt_csv_str(&mm->csv, nn_mi_side_name(r->side_izy));
            rt_csv_int(&mm->csv, r->n);
            rt_csv_num(&mm->csv, r->clipped);
            if (mm->network_col) rt_csv_str(&mm->csv, r->mean_field ? "mean-field" : "stochastic");
            if (mm->cfg.audit) {
                rt_csv_num(&mm->csv, r->ixz_lo);
                rt_csv_num(&mm->csv, r->ixz_hi);
                rt_csv_num(&mm->csv, r->izy_lo);
                rt_csv_num(&mm->csv, r->izy_hi);
                rt_csv_num(&mm->csv, r->izy_shuffle);
                if (r->distinct < 0) rt_csv_num(&mm->csv, (double)NAN);
                else rt_csv_int(&mm->csv, r->distinct);
            }
            st = rt_csv_end_row(&mm->csv, err);
            fprintf(mm->timing, "%d,%s,%s,%s,%.4f\n", r->epoch, split_names[s], r->layer,
                    nn_info_kind_name(r->kind), r->seconds);
        }
        for (int j = 0; j < mm->nlayer && mm->cfg.audit && !st; j++)
            for (int e = 0; e < NN_EST_COUNT; e++)
                if (audit_sec[j][e] >= 0.0)
                    fprintf(mm->timing, "%d,%s,%s,audit:%s,%.4f\n", epoch, split_names[s], layer_name(m, mm->layer[j]),
                            nn_est_name((nn_est)e), audit_sec[j][e]);
        fflush(mm->timing);
    }
    return st;
}

rt_status nn_measure_close(nn_measure *mm, bool commit, rt_err *err) {
    rt_status st = rt_csv_close(&mm->csv, commit, err);
    if (mm->cfg.audit) {
        rt_err ignore = { 0 };
        rt_status ast = rt_csv_close(&mm->audit_csv, commit, st ? &ignore : err);
        if (!st) st = ast;
    }
    if (mm->timing) {
        /* A failed close or rename is the point's error like any other (the fault-injection test
        ** found both ignored: the run ended "done" with info_timing.csv.part left behind). */
        bool bad = fclose(mm->timing) != 0;
        mm->timing = NULL;
        if (bad && !st) st = rt_err_set(err, RT_ERR_IO, "%s: cannot write: %s", mm->timing_path, strerror(errno));
        if (commit && !st) {
            char final[1100];
            snprintf(final, sizeof final, "%.*s", (int)(strlen(mm->timing_path) - 5), mm->timing_path);
            if (rename(mm->timing_path, final) != 0)
                st = rt_err_set(err, RT_ERR_IO, "cannot rename %s: %s", mm->timing_path, strerror(errno));
        }
    }
    for (int s = 0; s < 2; s++)
        if (mm->data[s] == &mm->sub[s]) {
            free(mm->sub[s].x);
            free(mm->sub[s].y);
            mm->data[s] = NULL;
        }
    return st;
}

// ---- the 2-D latent space ----

int nn_latent_layer(const nn_model *m) {
    for (int i = 0; i < m->n; i++)
        if (m->layers[i].spec.kind == NN_LAYER_GAUSS && m->layers[i].out == 2) return i;
    return -1;
}

#define LATENT_GRID 200
#define CHI2_2_95 5.991464547107979     /* the 0.95 quantile of chi^2 with 2 degrees of freedom */

rt_status nn_latent_write(nn_model *m, int li, const nn_dataset *d, int batch, rt_ctx *c,
                          const char *dir, rt_err *err) {
    const nn_layer *l = &m->layers[li];
    RT_ASSERT(l->spec.kind == NN_LAYER_GAUSS && l->out == 2);
    static const char *const cols[] = { "label", "mu1", "mu2", "s11", "s12", "s22", "ell_major",
                                        "ell_minor", "ell_angle" };
    char path[1100];
    snprintf(path, sizeof path, "%s/latent.csv", dir);
    rt_csv w;
    rt_status st = rt_csv_open(&w, path, cols, 9, false, err);
    if (st) return st;
    bool rec = c->grad_enabled;
    c->grad_enabled = false;
    nn_fwd f = { c, false, NULL, 0, 0, 0, NULL };
    double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };
    for (int i0 = 0; i0 < d->n && !st; i0 += batch) {
        int b = d->n - i0 < batch ? d->n - i0 : batch;
        rt_ctx_reset(c);
        nn_model_forward_range(m, &f, batch_rows(c, d, i0, b), 0, li + 1);
        for (int i = 0; i < b && !st; i++) {
            double mu1 = (double)l->mu->data[2 * i], mu2 = (double)l->mu->data[2 * i + 1];
            double s11 = 1, s12 = 0, s22 = 1;
            if (l->sigma && l->spec.full_cov) {
                const float *L = l->sigma->data + 3 * (size_t)i;       /* [a 0; b c] packed a, b, c */
                double a = (double)L[0], bb = (double)L[1], cc = (double)L[2];
                s11 = a * a, s12 = a * bb, s22 = bb * bb + cc * cc;
            } else if (l->sigma) {
                double s1 = (double)l->sigma->data[2 * i], s2 = (double)l->sigma->data[2 * i + 1];
                s11 = s1 * s1, s22 = s2 * s2;
            }
            /* Eigenvalues of the covariance, the major axis's angle. */
            double tr = s11 + s22, det = s11 * s22 - s12 * s12, disc = sqrt(fmax(0.0, tr * tr / 4 - det));
            double l1 = tr / 2 + disc, l2 = fmax(0.0, tr / 2 - disc);
            double angle = 0.5 * atan2(2 * s12, s11 - s22) * DEG_PER_RAD;
            rt_csv_int(&w, d->y[i0 + i]);
            rt_csv_num(&w, mu1);
            rt_csv_num(&w, mu2);
            rt_csv_num(&w, s11);
            rt_csv_num(&w, s12);
            rt_csv_num(&w, s22);
            rt_csv_num(&w, 2 * sqrt(CHI2_2_95 * l1));
            rt_csv_num(&w, 2 * sqrt(CHI2_2_95 * l2));
            rt_csv_num(&w, angle);
            st = rt_csv_end_row(&w, err);
            lo[0] = fmin(lo[0], mu1), hi[0] = fmax(hi[0], mu1);
            lo[1] = fmin(lo[1], mu2), hi[1] = fmax(hi[1], mu2);
        }
    }
    rt_err ignore = { 0 };
    rt_status cst = rt_csv_close(&w, st == RT_OK, st ? &ignore : err);
    if (!st) st = cst;
    if (st || li + 1 == m->n) {
        c->grad_enabled = rec;
        return st;
    }
    /* The decoder's predictive entropy over the means' range plus 10% on each side. */
    for (int k = 0; k < 2; k++) {
        double span = hi[k] - lo[k] > 1e-6 ? hi[k] - lo[k] : 2.0;
        lo[k] -= 0.1 * span;
        hi[k] += 0.1 * span;
    }
    static const char *const gcols[] = { "z1", "z2", "entropy_bits" };
    snprintf(path, sizeof path, "%s/latent_grid.csv", dir);
    st = rt_csv_open(&w, path, gcols, 3, false, err);
    int G = LATENT_GRID, total = G * G;
    for (int p0 = 0; p0 < total && !st; p0 += batch) {
        int b = total - p0 < batch ? total - p0 : batch;
        rt_ctx_reset(c);
        rt_tensor *z = rt_tensor_new(c, 2, (int[]){ b, 2 });
        for (int i = 0; i < b; i++) {
            int p = p0 + i;
            z->data[2 * i] = (float)(lo[0] + (hi[0] - lo[0]) * (p % G) / (G - 1));
            z->data[2 * i + 1] = (float)(lo[1] + (hi[1] - lo[1]) * (p / G) / (G - 1));
        }
        rt_tensor *out = nn_model_forward_range(m, &f, z, li + 1, m->n);
        int C = out->shape[1];
        for (int i = 0; i < b && !st; i++) {
            double h_nats = rt_softmax_entropy_row(out->data + (size_t)i * C, C);
            rt_csv_num(&w, z->data[2 * i]);
            rt_csv_num(&w, z->data[2 * i + 1]);
            rt_csv_num(&w, h_nats * NN_LOG2E);
            st = rt_csv_end_row(&w, err);
        }
    }
    cst = rt_csv_close(&w, st == RT_OK, st ? &ignore : err);
    if (!st) st = cst;
    c->grad_enabled = rec;
    return st;
}
