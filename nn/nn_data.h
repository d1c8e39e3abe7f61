/*
** nn_data.h: data sets in memory, their loaders, scaling and batching.
**
** Formats: IDX (MNIST, Fashion-MNIST; gzip or raw, read through zlib), the CIFAR-10 binary
** batches, CSV with a header row and a label column, and the MATLAB file of the Shwartz-Ziv &
** Tishby 12-bit task (var_u.mat, through nn_mat.h). And one generated set, discrete: `samples`
** training and `test_samples` test examples drawn i.i.d. from a joint p(x, y), `joint` or read from
** `path` (one row per x, one column per y; nn_ib_joint_read), x one-hot (shape {nx}), y the label (nclass =
** ny), from the stream RT_STREAM_DATA of (seed, 0): the small problems whose exact IB curve
** nn_ib_exact.h gives. Every loader checks what it reads (magic
** numbers, sizes against the header, label range, ragged rows) and fails with one message that
** names the file (and the line, for CSV) and what to do; nothing is half-loaded on failure.
**
** Search order for a named data set (DESIGN.md): the script's `dir`, when it gives one, and
** nothing else; else $VIB_DATA/<name>, ./data/<name>, /usr/share/datasets/<name>,
** $HOME/.cache/vibrun/<name> (where `vibrun data get` puts what it downloads). A data set that is
** found nowhere is an error that lists every path tried and how to get it (a Debian package or
** `vibrun data get NAME`).
**
** tishby: the 12-bit task of Shwartz-Ziv & Tishby (2017), 4,096 patterns of 12 binary inputs and a
** binary label. Read from the authors' var_u.mat (variables F, 4096x12 logical, and y, 1x4096),
** or, in a folder without var_u.mat, from var_u.csv (columns x1..x12, y). Inputs are 0/1 as
** stored (scale "none" or "standardize"; "unit" and "pm1", which divide bytes by 255, are
** refused). Train and test: a seeded shuffle of the 4,096 patterns (rt_rng stream RT_STREAM_DATA
** of (seed, 0)); round(train_fraction * n) of them train (3,277 at the authors' 0.8, rounded as
** their np.rint) and the rest test (819), each part kept in file order. split_in_order takes the
** first round(train_fraction * n) rows of the file instead, as the authors' data_shuffle does by
** default (shuffle_data=False; the file lists the patterns in binary counting order).
**
**     nn_data_spec s = nn_data_spec_default();  s.name = "fashion-mnist"; s.scale = NN_SCALE_PM1;
**     nn_dataset train, test;  rt_err err = {0};
**     if (nn_data_open(&s, &train, &test, &err) != RT_OK) puts(err.msg);
*/
#ifndef NN_DATA_H
#define NN_DATA_H

#include "rt_err.h"
#include "rt_rng.h"
#include "rt_text.h"

#define NN_PATH_MAX 1024
#define NN_DATA_MAX_SEARCH 4            /* folders in one search order */

typedef enum nn_scale {
    NN_SCALE_NONE = 0,          /* values as stored (CSV) or bytes as 0..255 */
    NN_SCALE_UNIT,              /* bytes / 255 -> [0, 1] */
    NN_SCALE_PM1,               /* 2 * (bytes / 255) - 1 -> [-1, 1] (VIB's MNIST) */
    NN_SCALE_STANDARDIZE,       /* per feature: (x - mean) / std, statistics of the train split */
    NN_SCALE_CHANNEL,           /* per channel: (x - mean_c) / std_c, statistics of the train split */
    NN_SCALE_CHANNEL_PUBLISHED, /* per channel: (x / 255 - mean_c) / std_c, the data set's published
                                ** values (CIFAR-10 only: nn_data_published_channels) */
} nn_scale;

typedef struct nn_dataset {
    int n;                      /* examples */
    int ndim, shape[3];         /* one example's shape: {28,28}, {3,32,32}, {12}; unused entries 1 */
    int dim;                    /* elements per example (product of shape) */
    float *x;                   /* (n, dim) */
    int32_t *y;                 /* (n) class labels in [0, nclass) */
    int nclass;
    char source[512];           /* the file(s) it came from, for messages and config.lua */
} nn_dataset;

typedef struct nn_data_spec {
    const char *name;           /* "mnist", "fashion-mnist", "cifar10", "tishby", "csv", "discrete" */
    const char *dir;            /* the only place searched when given; NULL = the standard places */
    const char *path;           /* csv: the file (train); resolved against dir if relative */
    const char *test_path;      /* csv: optional test file */
    const char *label;          /* csv: name of the label column (default "y", else the last) */
    nn_scale scale;
    int train_limit, test_limit;/* keep the first N examples (0 = all) */
    /* When > 0: build train and test from the official test split alone, the first
    ** `resplit_test` fraction training and the rest testing (for samples that only ship the
    ** test set, such as a sample of the t10k files). A clearly named option, never a default. */
    float resplit_test;
    /* csv without test_path: fraction held out for test after a seeded shuffle (0.2 default) */
    float holdout;
    /* tishby: the fraction of the patterns that train, after a seeded shuffle (0.8 default) */
    float train_fraction;
    bool split_in_order;        /* tishby: the first rows train, no shuffle */
    int samples, test_samples;  /* discrete: examples drawn for train and for test */
    const double *joint;        /* discrete: p(x, y) (joint_nx, joint_ny) given in memory, else read from path */
    int joint_nx, joint_ny;
    uint64_t seed;              /* for csv holdout and tishby split shuffles, discrete draws */
} nn_data_spec;

nn_data_spec nn_data_spec_default(void);
const char *nn_scale_name(nn_scale s);             /* "none", "unit", "pm1", "standardize", "channel",
                                                   ** "channel_published" */

/* Finds, loads, splits and scales a data set. train and test are overwritten (not freed first);
** the caller frees both with nn_dataset_free. On failure (RT_ERR_ARG for a bad spec, RT_ERR_IO for
** a data set found nowhere or an unreadable file, RT_ERR_FORMAT for a corrupt one, RT_ERR_NOMEM)
** both are left empty (freeable) and err says which file and what to do.
** csv: without test_path, a seeded random `holdout` fraction goes to test (rt_rng stream
** RT_STREAM_DATA of (seed, 0)), both parts in file order; resplit_test splits test_path instead. */
rt_status nn_data_open(const nn_data_spec *s, nn_dataset *train, nn_dataset *test, rt_err *err);
/* discrete: the exact IB curve of the spec's joint (nn_ib_curve, default options but
** NN_DATA_IB_BETAS betas) as CSV appended to csv (nn_ib_curve_csv's columns). */
#define NN_DATA_IB_BETAS 100
rt_status nn_data_ib_exact(const nn_data_spec *s, rt_buf *csv, rt_err *err);
void nn_dataset_free(nn_dataset *d);

/* Loaders (bytes come out as 0..255 floats, unscaled). Each overwrites d and, on failure, leaves
** it empty. IDX and CIFAR have nclass = 10 and reject labels above 9; CSV has nclass = max label + 1,
** shape {columns - 1}, and reads .csv.gz too. label NULL means "y" if present, else the last column. */
rt_status nn_idx_load(nn_dataset *d, const char *images, const char *labels, rt_err *err);
rt_status nn_cifar_load(nn_dataset *d, const char *const *files, int nfiles, rt_err *err);
rt_status nn_csv_load(nn_dataset *d, const char *path, const char *label, rt_err *err);
/* The Shwartz-Ziv & Tishby data: a .mat file with F (n x d, any real numeric or logical class) and
** y (n labels, 1 x n or n x 1, non-negative integers), or (any other extension) a CSV with label
** column y. shape {d}, nclass = max label + 1. */
rt_status nn_tishby_load(nn_dataset *d, const char *path, rt_err *err);
/* Applies scaling to train, and to test with train's statistics (test may be NULL). standardize
** uses the population mean and std of each feature over train; a feature whose train std is below
** 1e-8 (constant) becomes 0 in both sets. channel uses the population mean and std of each channel
** (shape[0] of a (C, H, W) example; the whole example is one channel otherwise) over train, with the
** same rule for a constant channel; channel_published the values of nn_data_published_channels
** (asserts 3 channels: nn_data_open refuses it for a data set without published values). */
void nn_data_scale(nn_dataset *train, nn_dataset *test, nn_scale s);
/* The population mean and std of each channel of d (as nn_data_scale's channel), in its units, into
** mean[c] and std[c]; returns the number of channels (at most NN_MAX_CHANNELS). */
#define NN_MAX_CHANNELS 64
int nn_data_channel_stats(const nn_dataset *d, double *mean, double *std);
/* The published per-channel mean and std of data set `name`, in units of bytes / 255, into mean[3]
** and std[3]; false when it has none (only "cifar10" has). CIFAR-10's are fb.resnet.torch's
** (datasets/cifar10.lua: mean {125.3, 123.0, 113.9}, std {63.0, 62.1, 66.7} in bytes, R, G, B), the
** population statistics of the 50,000 training images rounded to 0.1 byte, which the Torch
** reimplementation of He et al. (2016) normalizes with. */
bool nn_data_published_channels(const char *name, double mean[3], double std[3]);

/* Augmentation of training batches (nn_train draws it; evaluation never sees it). crop_flip is the
** CIFAR recipe of He et al. (2016, section 4.2): each example padded by NN_AUG_PAD zeros on every
** side, a random H x W crop of it taken, and mirrored left-right with probability 1/2. The zeros
** are in the data's stored units, after scaling: with scale "channel" they are the channel's mean
** (as fb.resnet.torch, which normalizes before it crops), with "unit" black. Each example's draw is
** one code in [0, NN_AUG_CODES): (dy * (2 NN_AUG_PAD + 1) + dx) * 2 + flip, the crop's top-left
** corner (dy, dx) in the padded image. Needs a (C, H, W) example (ndim 3). */
typedef enum nn_augment {
    NN_AUG_NONE = 0,
    NN_AUG_CROP_FLIP,
} nn_augment;
#define NN_AUG_PAD 4
#define NN_AUG_CODES ((2 * NN_AUG_PAD + 1) * (2 * NN_AUG_PAD + 1) * 2)
const char *nn_augment_name(nn_augment a);          /* "none", "crop_flip" */
/* n codes of augmentation a, drawn from r in order (one rt_rng_below each); NN_AUG_NONE draws none. */
void nn_data_augment_draw(rt_rng *r, nn_augment a, uint8_t *codes, int n);
/* As nn_data_gather, each example transformed by its code, codes[0..b) (codes NULL: a plain
** gather). Asserts that d's examples are (C, H, W). */
void nn_data_gather_aug(const nn_dataset *d, const int32_t *idx, const uint8_t *codes, int b, float *x,
                        int32_t *y);

/* The folders searched for data set `name` into out (the order above; only `dir` when it is
** non-NULL and non-empty); returns how many. */
int nn_data_search_dirs(const char *name, const char *dir, char out[NN_DATA_MAX_SEARCH][NN_PATH_MAX]);
/* What folder dir holds of data set `name`: 0 nothing, 1 only the test split (mnist,
** fashion-mnist, cifar10: usable with resplit_test), 2 the whole data set. file receives the file
** that would be read (tishby: var_u.mat, else var_u.csv) or the first one missing. */
int nn_data_dir_holds(const char *name, const char *dir, char *file, size_t size);

/* Copies examples idx[0..b) into x (b, dim) and y (b); either may be NULL. Asserts idx in [0, n). */
void nn_data_gather(const nn_dataset *d, const int32_t *idx, int b, float *x, int32_t *y);

#endif
