/*
** nn_measure.h: information-plane measurements of a model while it trains, and the latent dump
** of a 2-D Gaussian bottleneck.
**
** At the epochs of a schedule (epoch 0, before training, and the last epoch always included), the
** measured layers are read in evaluation mode (EMA weights when on) on a fixed set of examples of
** each split: all of them, or `samples` drawn once from the estimator stream (RT_STREAM_ESTIM) of
** (seed, point), the same at every epoch so trajectories compare. Stochastic layers are read at
** their parameters: gauss mu and sigma, bern p = sigmoid(h), noise f(x) and its std. Each
** estimator of nn_mi.h then gives I(X;Z) and I(Z;Y) in bits:
**
**   variational  the model's own bounds, from an evaluation of the objective on the same examples
**                (one sample per stochastic layer, as VIB's plots; when the objective averages
**                over particles, IMB, each gauss / bern layer draws its training particle count,
**                so that each layer's VCR_l reads its own downstream likelihood, a mean over the
**                particles drawn after it): I(X;Z) <= the layer's rate
**                (its kl term; for a noise layer, its logvar term minus H(Z|X)),
**                I(Z;Y) >= H(Y) - CE, with CE the layer's own relevance term (ce averaged after
**                it, IMB) or the decoder's cross-entropy; H(Y) from the label frequencies. Layers
**                with a rate term get this row; the output ("softmax") gets it, with the decoder's
**                bound alone, when no measured layer has a rate.
**   kde          two rows: kde_upper (pairwise KL) and kde_lower (Bhattacharyya) bounds on the
**                mixture entropy (Kolchinsky & Tracey): gauss layers with their own sigma (or
**                full covariance), bern
**                layers in closed form, noise layers with their std, deterministic layers with
**                the declared noise variance kde_var
**   binning      plug-in entropies of binned activations: `bins` over `range` (default [-1, 1];
**                [0, 1] for sigmoid, bern and softmax) or a fixed `bin_size`; clipped_frac is the
**                share of activations outside the range (a warning when above 1%)
**   ksg          k-NN: I(X;Z) by Kraskov-Stoegbauer-Grassberger between the input and one sample
**                of Z (mu + sigma eps, or mu + L eps with full covariance); I(Z;Y) by Ross's
**                estimator. Not for bern layers.
**   plugin       plug-in entropies of sampled binary patterns of bern layers; I(X;Z) <= log2 n
**                (n examples): a wide layer, whose patterns never repeat, saturates there
**
** "all" layers: every activation and stochastic layer (not linear or dropout) and global average
** pool, outside residual blocks (their bodies are named one by one), plus "softmax", the output's
** class probabilities (when the objective classifies). A layer whose output is a (C, H, W) map is
** measured as its C channels averaged over H and W (the global-average-pooled features, as the
** next pooling layer would see them), or, with spatial_flat, as its C*H*W features.
**
** Files in the point's directory (".part" while it runs, like metrics.csv):
**   info.csv         epoch, split, layer, estimator, ixz_bits, izy_bits, ixz_side, izy_side, n,
**                    clipped_frac   (deterministic: same script, seed, threads -> same bytes),
**                    and network when a measured layer lies after a stochastic one: the
**                    variational rows describe the stochastic network (sampled), the other
**                    estimators read the layers in evaluation at the means, so a layer after a
**                    gauss, bern or noise layer is that of the mean-field network ("mean-field");
**                    rows of the stochastic layers themselves and of the layers before them say
**                    "stochastic" (they describe p(z|x) exactly)
**   info_timing.csv  epoch, split, layer, estimator, seconds   (wall clock, kept apart); with
**                    audit, a row "audit:<estimator>" per layer: the cost of its controls
**   with audit (measure.audit), every non-variational row of info.csv gains ixz_lo, ixz_hi, izy_lo,
**                    izy_hi (the 2.5% and 97.5% quantiles of audit_bootstrap estimates on examples
**                    resampled with replacement from the estimator stream), izy_shuffle (I(Z;Y) with
**                    the labels permuted) and distinct_from_zero (1 when izy_bits exceeds
**                    max(izy_shuffle, 0) by more than half the interval's width, izy_hi - izy_lo,
**                    else 0); variational rows hold nan there. And
**   info_audit.csv   epoch, split, layer, estimator, check, setting, ixz_bits, izy_bits, flag (long):
**                    check "subsample" (setting n, n/2, n/4: the first n/2, n/4 of a seeded
**                    permutation), "bin_size" (half, double: binning at half and twice the bin size),
**                    "kde_var" (/4, x4: the deterministic kde at a quarter and four times the noise
**                    variance), "dpi" (setting: the measured layer before this one in the model;
**                    ixz_bits, izy_bits this layer's estimate minus that one's; flag 1 when I(X;Z)
**                    grows along the chain, which the data-processing inequality forbids)
**   selfcheck.csv    with measure.selfcheck, written once before training: split, layer,
**                    estimator, task, n, d, level, true_ixz_bits, ixz_bits, ixz_err_bits,
**                    true_izy_bits, izy_bits, izy_err_bits: every non-variational estimator of
**                    every measured layer run on the known-MI tasks of nn_mi_check.h at that
**                    split's n and the layer's width d (ksg with the input's width too), with the
**                    same settings (kde_var or the layer's own noise, bins, range, k, samples), at
**                    three levels: true I(X;Z) = level * log2(n), level 0.25, 0.5, 1. err =
**                    estimate - truth, so the reader of a plane knows how far each estimator is
**                    off at that size.
** and, at the end of a point, for a gauss layer with K = 2 (nn_latent_write):
**   latent.csv       label, mu1, mu2, s11, s12, s22, ell_major, ell_minor, ell_angle: each test
**                    example's p(z|x), its covariance and the full axes (diameters) and angle
**                    (degrees) of its 95% ellipse
**   latent_grid.csv  z1, z2, entropy_bits: the decoder's predictive entropy on a 200 x 200 grid
**                    over the means' range plus 10% (z1 fastest)
*/
#ifndef NN_MEASURE_H
#define NN_MEASURE_H

#include <signal.h>

#include "nn_data.h"
#include "nn_mi.h"
#include "nn_obj.h"
#include "rt_csv.h"

typedef enum nn_est {
    NN_EST_VARIATIONAL = 0, NN_EST_KDE, NN_EST_BINNING, NN_EST_KSG, NN_EST_PLUGIN, NN_EST_COUNT
} nn_est;
const char *nn_est_name(nn_est e);                  /* "variational", "kde", ... */

typedef enum nn_every {
    NN_EVERY_EPOCH = 0,         /* every epoch */
    NN_EVERY_LOG2,              /* 0, 1, 2, 4, 8, ... */
    NN_EVERY_K,                 /* every k epochs */
    NN_EVERY_LIST,              /* the listed epochs */
} nn_every;

#define NN_MEASURE_MAX_LAYERS 32
#define NN_MEASURE_MAX_EPOCHS 4096
#define NN_MEASURE_OUT_NAME "softmax"

typedef struct nn_measure_cfg {
    bool on;
    char where[256];            /* "script.lua:LINE" of measure = { ... }, for messages */
    char layers[NN_MEASURE_MAX_LAYERS][64];     /* names; none = "all" */
    int nlayers;
    unsigned estimators;        /* bit (1 << nn_est) */
    bool estimators_listed;     /* named by the script (not "all" or the default): each must apply
                                ** to a measured layer (nn_measure_check) */
    nn_every every;
    int every_k;
    int *epochs, nepochs;       /* NN_EVERY_LIST (owned by the caller) */
    bool split[2];              /* [0] train, [1] test */
    int samples;                /* examples per split, 0 = all */
    double kde_var;             /* noise variance of deterministic layers for kde */
    int bins;                   /* binning: count over range ... */
    float lo, hi;
    bool range_set;             /* ... range given (else by layer kind) */
    float bin_size;             /* > 0: fixed bin size instead */
    int k;                      /* ksg neighbours */
    int plugin_samples;         /* plugin: patterns drawn per example */
    bool selfcheck;             /* selfcheck.csv: each estimator on known-MI tasks at the layers' sizes */
    bool spatial_flat;          /* a layer with a (C, H, W) output is measured as its C*H*W features;
                                ** false (the default): as its C global-average-pooled channels */
    bool audit;                 /* the controls of every estimate (below); off by default */
    int audit_bootstrap;        /* bootstrap resamples per estimate (20) */
} nn_measure_cfg;

/* Every epoch, all layers, variational + kde + binning + plugin, both splits, all examples,
** kde_var 0.1, 30 bins, k 3, 16 plug-in samples. */
nn_measure_cfg nn_measure_cfg_default(void);

typedef enum nn_info_kind {
    NN_INFO_VARIATIONAL = 0, NN_INFO_KDE_UPPER, NN_INFO_KDE_LOWER, NN_INFO_BINNING, NN_INFO_KSG,
    NN_INFO_PLUGIN, NN_INFO_KIND_COUNT
} nn_info_kind;
const char *nn_info_kind_name(nn_info_kind k);      /* the estimator column of info.csv */

typedef struct nn_info_row {
    int epoch, split;           /* split 0 train, 1 test */
    char layer[64];
    nn_info_kind kind;
    double ixz, izy;            /* bits; NAN where not defined */
    nn_mi_side side_ixz, side_izy;
    int n;
    double clipped, seconds;
    bool mean_field;            /* describes the mean-field network (info.csv's network column) */
    /* with audit: the bootstrap 95% intervals, I(Z;Y) with the labels permuted, and whether the
    ** estimate is told apart from 0 (1, 0; -1 where not defined: variational rows, no labels) */
    double ixz_lo, ixz_hi, izy_lo, izy_hi, izy_shuffle;
    int distinct;
} nn_info_row;

#define NN_INFO_MAX_ROWS 512

typedef struct nn_measure {
    nn_measure_cfg cfg;
    int layer[NN_MEASURE_MAX_LAYERS + 1];       /* indices; m->n = the softmax output */
    int nlayer;
    const nn_dataset *data[2];  /* what each split measures (sub[s] when subsampled) */
    nn_dataset sub[2];
    uint64_t seed, point;
    rt_csv csv;
    FILE *timing;
    char timing_path[1100];
    nn_info_row last[NN_INFO_MAX_ROWS];         /* the rows of the latest measured epoch */
    int nlast;
    char warn[512];             /* the first warning (clipping, an estimator that failed) */
    bool network_col;           /* info.csv has the network column */
    volatile sig_atomic_t *stop;/* NULL, or the flag SIGINT/SIGTERM set: checked between layers */
    bool stopped;               /* the latest nn_measure_epoch saw *stop and wrote no more rows */
    rt_csv audit_csv;           /* info_audit.csv, with cfg.audit */
} nn_measure;

/* Whether the configuration fits the model (layer names); checked before training starts. */
rt_status nn_measure_check(const nn_measure_cfg *cfg, const nn_model *m, const nn_obj *o, rt_err *err);
/* Resolves the layers (an unknown name is an error at cfg->where), draws the subsets, opens
** info.csv(.part) in dir (append: continue a resumed one). */
rt_status nn_measure_open(nn_measure *mm, const nn_measure_cfg *cfg, const nn_model *m,
                          const nn_obj *o, const nn_dataset *train, const nn_dataset *test,
                          uint64_t seed, uint64_t point, const char *dir, bool append, rt_err *err);
/* Whether epoch is on the schedule (0 and `epochs`, the last, always are). */
bool nn_measure_due(const nn_measure *mm, int epoch, int epochs);
/* Measures every layer with every estimator and appends the rows. eval: the evaluation settings
** (batch, seed, point, epoch) used for the variational row. */
rt_status nn_measure_epoch(nn_measure *mm, nn_model *m, const nn_obj *o, int epoch, int eval_batch,
                           rt_ctx *c, rt_err *err);
/* commit: info.csv and info_timing.csv take their final names. Frees the subsets. */
rt_status nn_measure_close(nn_measure *mm, bool commit, rt_err *err);

/* The first gauss layer with K = 2, or -1. */
int nn_latent_layer(const nn_model *m);
/* latent.csv and latent_grid.csv of that layer on d (evaluation mode; the caller swaps in the EMA
** weights). */
rt_status nn_latent_write(nn_model *m, int layer, const nn_dataset *d, int batch, rt_ctx *c,
                          const char *dir, rt_err *err);

#endif
