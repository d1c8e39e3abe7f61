/*
** nn_data.c: data sets in memory, the part every format shares: the spec, the search for a named
** data set and its errors, splits and limits, scaling, gathering a batch, and the helpers of
** nn_data_impl.h (zlib reading, allocation). The readers of the formats are nn_data_idx.c,
** nn_data_cifar.c, nn_data_csv.c and nn_data_tishby.c. See nn_data.h for the contract.
**
** Every loader writes into an empty nn_dataset and, on failure, frees what it allocated and leaves
** it empty again, so a caller never sees half a data set. Files are read in 1 MiB chunks (zlib's
** gzread for IDX and CSV, which reads .gz and raw files alike; stdio for CIFAR).
*/
#include "nn_data_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

// ---- small helpers ----

/* Whether path is a directory (dir) or a regular file (!dir). */
static bool stat_is(const char *path, bool dir) {
    struct stat st;
    return stat(path, &st) == 0 && (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

bool nn_data_path_join(char *out, size_t size, const char *dir, const char *name) {
    int k = (!dir || !*dir || name[0] == '/') ? snprintf(out, size, "%s", name)
                                              : snprintf(out, size, "%s/%s", dir, name);
    return k >= 0 && (size_t)k < size;
}

void RT_PRINTF(4, 5) nn_data_append(char *buf, size_t size, size_t *len, const char *fmt, ...) {
    if (*len + 1 >= size) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (k > 0) *len = ((size_t)k < size - *len) ? *len + (size_t)k : size - 1;
}

/* floor(frac * n) for a fraction given as float: 0.7f is 0.69999999, so allow two float ulps. */
static int frac_count(float frac, int n) {
    double t = (double)frac * (double)n;
    double k = floor(t + t * 2.4e-7);
    return k > (double)n ? n : (int)k;
}

void nn_data_shape(nn_dataset *d, int ndim, int a, int b, int c) {
    d->ndim = ndim, d->shape[0] = a, d->shape[1] = b, d->shape[2] = c, d->dim = a * b * c;
}

rt_status nn_data_alloc(nn_dataset *d, int n, int dim, rt_err *err) {
    size_t nx = (size_t)n * (size_t)dim;
    d->x = malloc((nx ? nx : 1) * sizeof *d->x);
    d->y = malloc((n ? (size_t)n : 1) * sizeof *d->y);
    if (!d->x || !d->y) {
        nn_dataset_free(d);
        return rt_err_set(err, RT_ERR_NOMEM, "cannot allocate %.1f MiB for %d examples of %d values",
                          (double)nx * 4.0 / 1048576.0, n, dim);
    }
    d->n = n;
    return RT_OK;
}

/* dst = rows idx[0..k) of src, or rows lo..lo+k when idx is NULL. dst must be empty. */
static rt_status ds_take(nn_dataset *dst, const nn_dataset *src, const int32_t *idx, int lo, int k,
                         rt_err *err) {
    rt_status st = nn_data_alloc(dst, k, src->dim, err);
    if (st != RT_OK) return st;
    dst->ndim = src->ndim;
    memcpy(dst->shape, src->shape, sizeof dst->shape);
    dst->dim = src->dim;
    dst->nclass = src->nclass;
    memcpy(dst->source, src->source, sizeof dst->source);
    if (idx) {
        nn_data_gather(src, idx, k, dst->x, dst->y);
    } else {
        size_t dim = (size_t)src->dim;
        memcpy(dst->x, src->x + (size_t)lo * dim, (size_t)k * dim * sizeof(float));
        memcpy(dst->y, src->y + lo, (size_t)k * sizeof(int32_t));
    }
    return RT_OK;
}

/* Keeps the first `limit` examples (0 = all) and gives the rest of the memory back. */
static void ds_limit(nn_dataset *d, int limit) {
    if (limit <= 0 || limit >= d->n) return;
    d->n = limit;
    float *x = realloc(d->x, (size_t)limit * (size_t)d->dim * sizeof *x + sizeof *x);
    if (x) d->x = x;
    int32_t *y = realloc(d->y, (size_t)limit * sizeof *y);
    if (y) d->y = y;
}

// ---- public basics ----

nn_data_spec nn_data_spec_default(void) {
    nn_data_spec s = { .scale = NN_SCALE_NONE, .holdout = 0.2f, .train_fraction = 0.8f, .seed = 1 };
    return s;
}

const char *nn_scale_name(nn_scale s) {
    switch (s) {
    case NN_SCALE_NONE: return "none";
    case NN_SCALE_UNIT: return "unit";
    case NN_SCALE_PM1: return "pm1";
    case NN_SCALE_STANDARDIZE: return "standardize";
    case NN_SCALE_CHANNEL: return "channel";
    case NN_SCALE_CHANNEL_PUBLISHED: return "channel_published";
    }
    return "?";
}

void nn_dataset_free(nn_dataset *d) {
    if (!d) return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

void nn_data_gather(const nn_dataset *d, const int32_t *idx, int b, float *x, int32_t *y) {
    size_t dim = (size_t)d->dim;
    for (int i = 0; i < b; i++) {
        int32_t k = idx[i];
        RT_ASSERT(k >= 0 && k < d->n);
        if (x) memcpy(x + (size_t)i * dim, d->x + (size_t)k * dim, dim * sizeof *x);
        if (y) y[i] = d->y[k];
    }
}

// ---- zlib reading ----

rt_status nn_data_gz_fail(gzFile f, const char *path, rt_err *err) {
    int code = 0;
    const char *m = gzerror(f, &code);
    if (code == Z_ERRNO) return rt_err_set(err, RT_ERR_IO, "%s: read error: %s", path, strerror(errno));
    return rt_err_set(err, RT_ERR_FORMAT, "%s: cannot decompress: %s; the file is damaged, download it "
                      "again", path, m);
}

rt_status nn_data_regular(const char *path, rt_err *err) {
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return rt_err_set(err, RT_ERR_ARG, "%s is not a regular file (%s); data sets are read from files",
                          path, S_ISDIR(sb.st_mode) ? "a directory" : S_ISFIFO(sb.st_mode) ? "a FIFO" :
                          S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "a device" : "a socket or other");
    return RT_OK;
}

rt_status nn_data_gz_open(const char *path, gzFile *out, rt_err *err) {
    *out = NULL;
    rt_status reg = nn_data_regular(path, err);
    if (reg != RT_OK) return reg;
    errno = 0;
    *out = gzopen(path, "rb");
    if (!*out)
        return rt_err_set(err, RT_ERR_IO, "cannot open %s: %s", path,
                          errno ? strerror(errno) : "out of memory");
    gzbuffer(*out, 1u << 18);
    return RT_OK;
}

/* Reads up to n bytes (fewer only at the end of the data); -1 on a zlib error. */
long long nn_data_gz_read(gzFile f, void *buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < NN_CHUNK ? n - done : NN_CHUNK;
        int r = gzread(f, (char *)buf + done, (unsigned)k);
        if (r < 0) return -1;
        if (r == 0) break;
        done += (size_t)r;
    }
    return (long long)done;
}

/* The whole (decompressed) file as a NUL-terminated malloc'd buffer. */
rt_status nn_data_gz_slurp(const char *path, char **out, size_t *len, rt_err *err) {
    gzFile f;
    rt_status st = nn_data_gz_open(path, &f, err);
    if (st != RT_OK) return st;
    size_t cap = NN_CHUNK, n = 0;
    char *buf = NULL;
    for (;; cap *= 2) {
        char *b = realloc(buf, cap + 1);
        if (!b) { st = rt_err_set(err, RT_ERR_NOMEM, "%s: out of memory reading the file", path); break; }
        buf = b;
        long long r = nn_data_gz_read(f, buf + n, cap - n);
        if (r < 0) { st = nn_data_gz_fail(f, path, err); break; }
        n += (size_t)r;
        if (n < cap) break;
        if (n >= NN_SLURP_MAX) {
            st = rt_err_set(err, RT_ERR_FORMAT, "%s: more than %llu bytes (decompressed); too large for a "
                            "text data set", path, (unsigned long long)NN_SLURP_MAX);
            break;
        }
    }
    gzclose(f);
    if (st != RT_OK) { free(buf); return st; }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return RT_OK;
}

// ---- scaling ----

void nn_data_scale(nn_dataset *train, nn_dataset *test, nn_scale s) {
    nn_dataset *both[2] = { train, test };
    if (s == NN_SCALE_UNIT || s == NN_SCALE_PM1) {
        for (int k = 0; k < 2; k++) {
            if (!both[k]) continue;
            float *x = both[k]->x;
            size_t n = (size_t)both[k]->n * (size_t)both[k]->dim;
            if (s == NN_SCALE_UNIT)
                for (size_t i = 0; i < n; i++) x[i] = x[i] / 255.0f;
            else
                for (size_t i = 0; i < n; i++) x[i] = 2.0f * (x[i] / 255.0f) - 1.0f;
        }
    } else if (s == NN_SCALE_STANDARDIZE && train->n > 0) {
        size_t dim = (size_t)train->dim, n = (size_t)train->n;
        RT_ASSERT(!test || test->n == 0 || (size_t)test->dim == dim);
        double *mean = rt_xcalloc(dim, sizeof *mean), *inv = rt_xcalloc(dim, sizeof *inv);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < dim; j++) mean[j] += (double)train->x[i * dim + j];
        for (size_t j = 0; j < dim; j++) mean[j] /= (double)n;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < dim; j++) {
                double t = (double)train->x[i * dim + j] - mean[j];
                inv[j] += t * t;
            }
        for (size_t j = 0; j < dim; j++) {
            double sd = sqrt(inv[j] / (double)n);
            inv[j] = sd < 1e-8 ? 0.0 : 1.0 / sd;                  /* constant feature -> 0 */
        }
        for (int k = 0; k < 2; k++) {
            for (size_t i = 0; both[k] && i < (size_t)both[k]->n; i++) {
                float *x = both[k]->x + i * dim;
                for (size_t j = 0; j < dim; j++) x[j] = (float)(((double)x[j] - mean[j]) * inv[j]);
            }
        }
        free(mean);
        free(inv);
    } else if ((s == NN_SCALE_CHANNEL && train->n > 0) || s == NN_SCALE_CHANNEL_PUBLISHED) {
        double mean[NN_MAX_CHANNELS], inv[NN_MAX_CHANNELS], bytes = 1.0;
        int nc;
        if (s == NN_SCALE_CHANNEL) {
            nc = nn_data_channel_stats(train, mean, inv);
        } else {
            nc = 3;
            RT_ASSERT(train->ndim == 3 && train->shape[0] == 3);
            RT_ASSERT(nn_data_published_channels("cifar10", mean, inv));
            bytes = 255.0;                                  /* published in units of bytes / 255 */
        }
        for (int c = 0; c < nc; c++) {
            mean[c] *= bytes;
            inv[c] = inv[c] < 1e-8 ? 0.0 : 1.0 / (inv[c] * bytes);   /* constant channel -> 0 */
        }
        for (int k = 0; k < 2; k++) {
            if (!both[k] || both[k]->n == 0) continue;
            RT_ASSERT(both[k]->dim == train->dim);
            size_t plane = (size_t)train->dim / (size_t)nc;
            float *x = both[k]->x;
            for (size_t i = 0; i < (size_t)both[k]->n * (size_t)nc; i++) {
                size_t c = i % (size_t)nc;
                for (size_t j = 0; j < plane; j++, x++) *x = (float)(((double)*x - mean[c]) * inv[c]);
            }
        }
    }
}

/* Channels of d's examples: shape[0] of a (C, H, W) example, else one. */
static int channels_of(const nn_dataset *d) { return d->ndim == 3 ? d->shape[0] : 1; }

int nn_data_channel_stats(const nn_dataset *d, double *mean, double *std) {
    int nc = channels_of(d);
    RT_ASSERT(nc >= 1 && nc <= NN_MAX_CHANNELS && d->dim % nc == 0);
    size_t plane = (size_t)d->dim / (size_t)nc, count = (size_t)d->n * plane;
    for (int c = 0; c < nc; c++) {
        double sum = 0.0, ss = 0.0;
        for (size_t i = 0; i < (size_t)d->n; i++) {
            const float *x = d->x + i * (size_t)d->dim + (size_t)c * plane;
            for (size_t j = 0; j < plane; j++) sum += (double)x[j];
        }
        double m = count ? sum / (double)count : 0.0;
        for (size_t i = 0; i < (size_t)d->n; i++) {
            const float *x = d->x + i * (size_t)d->dim + (size_t)c * plane;
            for (size_t j = 0; j < plane; j++) ss += ((double)x[j] - m) * ((double)x[j] - m);
        }
        mean[c] = m;
        std[c] = count ? sqrt(ss / (double)count) : 0.0;
    }
    return nc;
}

bool nn_data_published_channels(const char *name, double mean[3], double std[3]) {
    if (!name || strcmp(name, "cifar10") != 0) return false;
    static const double m[3] = { 125.3, 123.0, 113.9 }, s[3] = { 63.0, 62.1, 66.7 };
    for (int c = 0; c < 3; c++) mean[c] = m[c] / 255.0, std[c] = s[c] / 255.0;
    return true;
}

// ---- finding a named data set ----

static const char *const idx_files[] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };
static const char *const cifar_files[] = { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                           "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin" };

/* dir/name, or dir/name.gz when gz; false when neither is a file. */
static bool find_file(const char *dir, const char *name, bool gz, char *out, size_t size) {
    if (nn_data_path_join(out, size, dir, name) && stat_is(out, false)) return true;
    char gzname[128];
    snprintf(gzname, sizeof gzname, "%s.gz", name);
    return gz && nn_data_path_join(out, size, dir, gzname) && stat_is(out, false);
}

/* Whether dir holds need[0..k); *missing gets the first file it lacks. */
static bool dir_has(const char *dir, const char *const *need, int k, bool gz, const char **missing) {
    char p[NN_PATH_MAX];
    for (int i = 0; i < k; i++) {
        if (!find_file(dir, need[i], gz, p, sizeof p)) {
            *missing = need[i];
            return false;
        }
    }
    return true;
}

static rt_status not_found(const char *name, const char *report, const char *hint, rt_err *err);

int nn_data_search_dirs(const char *name, const char *dir, char out[NN_DATA_MAX_SEARCH][NN_PATH_MAX]) {
    int nc = 0;
    /* A dir the script names is the only place looked: a typo must not fall back on a copy
    ** installed elsewhere. */
    if (dir && *dir) {
        snprintf(out[nc++], NN_PATH_MAX, "%s", dir);
        return nc;
    }
    const char *env = getenv("VIB_DATA"), *home = getenv("HOME");
    if (env && *env) snprintf(out[nc++], NN_PATH_MAX, "%s/%s", env, name);
    snprintf(out[nc++], NN_PATH_MAX, "./data/%s", name);
    snprintf(out[nc++], NN_PATH_MAX, "/usr/share/datasets/%s", name);
    if (home && *home) snprintf(out[nc++], NN_PATH_MAX, "%s/.cache/vibrun/%s", home, name);
    return nc;
}

/* Looks for a folder holding need[0..k) (the last ntest of which are the test files) in the search
** order of nn_data.h; out receives it. Fails with one message listing every folder tried. */
static rt_status find_data_dir(const nn_data_spec *s, const char *const *need, int k, int ntest, bool gz,
                               const char *subdir, char *out, size_t size, rt_err *err) {
    char cand[NN_DATA_MAX_SEARCH][NN_PATH_MAX], sub[NN_PATH_MAX], report[RT_ERR_MAX], hint[NN_PATH_MAX + 128];
    int nc = nn_data_search_dirs(s->name, s->dir, cand);
    size_t len = 0, hlen = 0;
    hint[0] = '\0';
    for (int c = 0; c < nc; c++) {
        const char *dir = cand[c], *missing = NULL, *dummy = NULL;
        if (!stat_is(dir, true)) {
            nn_data_append(report, sizeof report, &len, "  %s: no such directory\n", dir);
            continue;
        }
        if (subdir && !dir_has(dir, need, k, gz, &missing) && nn_data_path_join(sub, sizeof sub, dir, subdir) &&
            stat_is(sub, true))
            dir = sub;
        if (dir_has(dir, need, k, gz, &missing)) {
            size_t n = strnlen(dir, size - 1);
            memcpy(out, dir, n);
            out[n] = '\0';
            return RT_OK;
        }
        nn_data_append(report, sizeof report, &len, "  %s: no %s%s\n", dir, missing, gz ? "[.gz]" : "");
        if (!hlen && ntest < k && dir_has(dir, need + k - ntest, ntest, gz, &dummy))
            nn_data_append(hint, sizeof hint, &hlen, "%s holds only the test set: set resplit_test (e.g. 0.8) "
                       "to train on part of it.\n", dir);
    }
    return not_found(s->name, len ? report : "", hint, err);
}

/* The error for a data set found nowhere: the folders tried (report) and how to get it. */
static rt_status not_found(const char *name, const char *report, const char *hint, rt_err *err) {
    const char *get = strcmp(name, "fashion-mnist") == 0
        ? "get it with: vibrun data get fashion-mnist (downloads the official files), or apt-get install "
          "dataset-fashion-mnist"
        : strcmp(name, "tishby") == 0
        ? "get it with: vibrun data get tishby (downloads the authors' var_u.mat), or copy var_u.mat into "
          "one of these directories"
        : strcmp(name, "mnist") == 0
        ? "get it with: vibrun data get mnist (downloads the four official IDX files, train-images-idx3-ubyte.gz, "
          "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz), or put them in "
          "one of these directories"
        : "get it with: vibrun data get cifar10 (downloads and unpacks the official cifar-10-binary.tar.gz), or "
          "extract that archive (data_batch_1..5.bin, test_batch.bin) into one of these directories";
    return rt_err_set(err, RT_ERR_IO, "%s: data set not found; looked in:\n%s%s%s, or set dir (or "
                      "$VIB_DATA) to a folder that holds it", name, report, hint, get);
}

// ---- opening a data set ----

/* train = the first floor(frac * n) examples of all, test = the rest; both must be non-empty. */
static rt_status split_resplit(const nn_dataset *all, float frac, nn_dataset *tr, nn_dataset *te,
                               rt_err *err) {
    int ntr = frac_count(frac, all->n);
    if (ntr == 0 || ntr == all->n)
        return rt_err_set(err, RT_ERR_ARG, "resplit_test = %g of %d examples leaves %s empty; choose a "
                          "fraction such as 0.8", (double)frac, all->n, ntr == 0 ? "train" : "test");
    rt_status st = ds_take(tr, all, NULL, 0, ntr, err);
    return st != RT_OK ? st : ds_take(te, all, NULL, ntr, all->n - ntr, err);
}

/* A seeded random nte examples go to test, the rest to train; both keep the file order. */
static rt_status split_shuffled(const nn_dataset *all, uint64_t seed, int nte, nn_dataset *tr, nn_dataset *te,
                                rt_err *err) {
    int n = all->n, a = 0, b = nte;
    RT_ASSERT(nte >= 0 && nte <= n);
    int32_t *perm = rt_xmalloc((size_t)n * sizeof *perm), *in_test = rt_xmalloc((size_t)n * sizeof *perm);
    for (int i = 0; i < n; i++) perm[i] = i;
    rt_rng r;
    rt_rng_stream(&r, seed, 0, RT_STREAM_DATA);
    rt_rng_shuffle(&r, perm, (size_t)n);
    for (int i = 0; i < n; i++) in_test[perm[i]] = i < nte;
    for (int i = 0; i < n; i++) perm[in_test[i] ? a++ : b++] = i;     /* test rows, then train rows */
    rt_status st = ds_take(tr, all, perm + nte, 0, n - nte, err);
    if (st == RT_OK) st = ds_take(te, all, perm, 0, nte, err);
    free(perm);
    free(in_test);
    return st;
}

/* A seeded random floor(holdout * n) examples go to test. */
static rt_status split_holdout(const nn_dataset *all, const nn_data_spec *s, nn_dataset *tr,
                               nn_dataset *te, rt_err *err) {
    int nte = frac_count(s->holdout, all->n);
    if (nte == all->n)
        return rt_err_set(err, RT_ERR_ARG, "%s: holdout = %g of %d rows leaves no training data",
                          all->source, (double)s->holdout, all->n);
    return split_shuffled(all, s->seed, nte, tr, te, err);
}

typedef rt_status (*nn_loader)(nn_dataset *d, const char *const *files, int nfiles, rt_err *err);

static rt_status idx_pair(nn_dataset *d, const char *const *files, int nfiles, rt_err *err) {
    RT_ASSERT(nfiles == 2);
    return nn_idx_load(d, files[0], files[1], err);
}

/* A named data set whose files are names[0..ntrain) for train and the ntest after them for test. */
static rt_status open_named(const nn_data_spec *s, const char *const *names, int ntrain, int ntest, bool gz,
                            const char *subdir, nn_loader load, nn_dataset *tr, nn_dataset *te, rt_err *err) {
    char dir[NN_PATH_MAX], p[8][NN_PATH_MAX];
    const char *files[8];
    bool resplit = s->resplit_test > 0.0f;
    const char *const *need = resplit ? names + ntrain : names;
    int k = resplit ? ntest : ntrain + ntest;
    RT_ASSERT(k <= 8);
    rt_status st = find_data_dir(s, need, k, ntest, gz, subdir, dir, sizeof dir, err);
    if (st != RT_OK) return st;
    for (int i = 0; i < k; i++) {
        RT_ASSERT(find_file(dir, need[i], gz, p[i], sizeof p[i]));
        files[i] = p[i];
    }
    if (!resplit) {
        st = load(tr, files, ntrain, err);
        return st != RT_OK ? st : load(te, files + ntrain, ntest, err);
    }
    nn_dataset all;
    st = load(&all, files, ntest, err);
    if (st == RT_OK) st = split_resplit(&all, s->resplit_test, tr, te, err);
    nn_dataset_free(&all);
    return st;
}

static const char *const tishby_files[] = { "var_u.mat", "var_u.csv" };

/* The tishby file in dir (var_u.mat first, var_u.csv only where there is no .mat). */
static bool tishby_file(const char *dir, char *out, size_t size) {
    for (int i = 0; i < 2; i++)
        if (nn_data_path_join(out, size, dir, tishby_files[i]) && stat_is(out, false)) return true;
    return false;
}

static rt_status open_tishby(const nn_data_spec *s, nn_dataset *tr, nn_dataset *te, rt_err *err) {
    char cand[NN_DATA_MAX_SEARCH][NN_PATH_MAX], path[NN_PATH_MAX], report[RT_ERR_MAX];
    int nc = nn_data_search_dirs("tishby", s->dir, cand), c;
    size_t len = 0;
    for (c = 0; c < nc; c++) {
        if (tishby_file(cand[c], path, sizeof path)) break;
        nn_data_append(report, sizeof report, &len, stat_is(cand[c], true) ? "  %s: no var_u.mat (nor var_u.csv)\n"
                   : "  %s: no such directory\n", cand[c]);
    }
    if (c == nc) return not_found("tishby", len ? report : "", "", err);
    nn_dataset all;
    rt_status st = nn_tishby_load(&all, path, err);
    if (st != RT_OK) return st;
    double t = rint((double)s->train_fraction * all.n);     /* half to even (default rounding mode), as np.rint */
    int ntr = t > (double)all.n ? all.n : (int)t;
    if (ntr == 0 || ntr == all.n)
        st = rt_err_set(err, RT_ERR_ARG, "tishby: train_fraction = %g of %d patterns leaves %s empty; use a "
                        "fraction such as 0.8 (the authors' split)", (double)s->train_fraction, all.n,
                        ntr == 0 ? "train" : "test");
    if (st == RT_OK && s->split_in_order) {
        st = ds_take(tr, &all, NULL, 0, ntr, err);
        if (st == RT_OK) st = ds_take(te, &all, NULL, ntr, all.n - ntr, err);
    } else if (st == RT_OK) {
        st = split_shuffled(&all, s->seed, all.n - ntr, tr, te, err);
    }
    nn_dataset_free(&all);
    return st;
}

int nn_data_dir_holds(const char *name, const char *dir, char *file, size_t size) {
    const char *missing = "?", *dummy = NULL;
    char sub[NN_PATH_MAX];
    int holds = 0;
    if (file && size) file[0] = '\0';
    if (!stat_is(dir, true)) return 0;
    if (strcmp(name, "tishby") == 0) {
        char p[NN_PATH_MAX];
        holds = tishby_file(dir, p, sizeof p) ? 2 : 0;
        if (file) snprintf(file, size, "%s", holds ? strrchr(p, '/') + 1 : "var_u.mat");
        return holds;
    }
    bool cifar = strcmp(name, "cifar10") == 0;
    if (!cifar && strcmp(name, "mnist") != 0 && strcmp(name, "fashion-mnist") != 0) return 0;
    const char *const *need = cifar ? cifar_files : idx_files;
    int k = cifar ? 6 : 4, ntest = cifar ? 1 : 2;
    if (cifar && !dir_has(dir, need, k, false, &missing) && nn_data_path_join(sub, sizeof sub, dir, "cifar-10-batches-bin")
        && stat_is(sub, true))
        dir = sub;
    if (dir_has(dir, need, k, !cifar, &missing)) holds = 2;
    else if (dir_has(dir, need + k - ntest, ntest, !cifar, &dummy)) holds = 1;
    if (file) snprintf(file, size, "%s", holds == 2 ? (cifar ? "data_batch_1..5.bin, test_batch.bin"
                                                           : "the four IDX files") : missing);
    return holds;
}

static rt_status open_csv(const nn_data_spec *s, nn_dataset *tr, nn_dataset *te, rt_err *err) {
    char p[NN_PATH_MAX], q[NN_PATH_MAX];
    if (!s->path || !*s->path)
        return rt_err_set(err, RT_ERR_ARG, "csv: no path; set path to the CSV file (a header row, then one "
                          "row per example)");
    if (!nn_data_path_join(p, sizeof p, s->dir, s->path) ||
        (s->test_path && !nn_data_path_join(q, sizeof q, s->dir, s->test_path)))
        return rt_err_set(err, RT_ERR_ARG, "csv: path too long");
    if (s->resplit_test > 0.0f && !s->test_path)
        return rt_err_set(err, RT_ERR_ARG, "csv: resplit_test splits the test file, but there is no "
                          "test_path; use holdout instead");
    nn_dataset all;
    rt_status st;
    if (s->resplit_test > 0.0f) {
        st = nn_csv_load(&all, q, s->label, err);
        if (st == RT_OK) st = split_resplit(&all, s->resplit_test, tr, te, err);
    } else if (s->test_path) {
        memset(&all, 0, sizeof all);
        st = nn_csv_load(tr, p, s->label, err);
        if (st == RT_OK) st = nn_csv_load(te, q, s->label, err);
        if (st == RT_OK && te->dim != tr->dim)
            st = rt_err_set(err, RT_ERR_FORMAT, "%s: %d feature columns but the train file %s has %d; the "
                            "two files must have the same columns", q, te->dim, p, tr->dim);
        if (st == RT_OK) tr->nclass = te->nclass = tr->nclass > te->nclass ? tr->nclass : te->nclass;
    } else {
        st = nn_csv_load(&all, p, s->label, err);
        if (st == RT_OK) st = split_holdout(&all, s, tr, te, err);
    }
    nn_dataset_free(&all);
    return st;
}

rt_status nn_data_open(const nn_data_spec *s, nn_dataset *train, nn_dataset *test, rt_err *err) {
    RT_ASSERT(s && train && test);
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    rt_status st = RT_OK;
    const char *name = s->name ? s->name : "";
    if (!(s->resplit_test >= 0.0f && s->resplit_test < 1.0f))
        st = rt_err_set(err, RT_ERR_ARG, "%s: resplit_test = %g must be in [0, 1), e.g. 0.8", name,
                        (double)s->resplit_test);
    else if (!(s->holdout >= 0.0f && s->holdout < 1.0f))
        st = rt_err_set(err, RT_ERR_ARG, "%s: holdout = %g must be in [0, 1), e.g. 0.2", name,
                        (double)s->holdout);
    else if (s->train_limit < 0 || s->test_limit < 0)
        st = rt_err_set(err, RT_ERR_ARG, "%s: train_limit and test_limit must be >= 0 (0 = all)", name);
    else if (s->scale == NN_SCALE_CHANNEL_PUBLISHED && !nn_data_published_channels(name, (double[3]){ 0 },
                                                                                   (double[3]){ 0 }))
        st = rt_err_set(err, RT_ERR_ARG, "%s: scale = \"channel_published\": vibrun knows published "
                        "per-channel statistics for cifar10 only; use \"channel\" (the train split's)", name);
    else if (strcmp(name, "mnist") == 0 || strcmp(name, "fashion-mnist") == 0)
        st = open_named(s, idx_files, 2, 2, true, NULL, idx_pair, train, test, err);
    else if (strcmp(name, "cifar10") == 0)
        st = open_named(s, cifar_files, 5, 1, false, "cifar-10-batches-bin", nn_cifar_load, train, test, err);
    else if (strcmp(name, "tishby") == 0 && !(s->train_fraction > 0.0f && s->train_fraction < 1.0f))
        st = rt_err_set(err, RT_ERR_ARG, "tishby: train_fraction = %g must be in (0, 1), e.g. 0.8 (the "
                        "authors' split)", (double)s->train_fraction);
    else if (strcmp(name, "tishby") == 0 && (s->scale == NN_SCALE_UNIT || s->scale == NN_SCALE_PM1))
        st = rt_err_set(err, RT_ERR_ARG, "tishby: scale = \"%s\" divides bytes by 255, but the inputs are "
                        "0/1 already; use \"none\" (the default) or \"standardize\"", nn_scale_name(s->scale));
    else if (strcmp(name, "tishby") == 0)
        st = open_tishby(s, train, test, err);
    else if (strcmp(name, "csv") == 0)
        st = open_csv(s, train, test, err);
    else if (strcmp(name, "discrete") == 0)
        st = nn_data_open_discrete(s, train, test, err);
    else
        st = rt_err_set(err, RT_ERR_ARG, "unknown data set '%s'; use mnist, fashion-mnist, cifar10, tishby, "
                        "csv or discrete", name);
    if (st != RT_OK) {
        nn_dataset_free(train), nn_dataset_free(test);
        return st;
    }
    ds_limit(train, s->train_limit);
    ds_limit(test, s->test_limit);
    nn_data_scale(train, test, s->scale);
    return RT_OK;
}
