/*
** nn_data.c: data sets in memory. The IDX, CIFAR-10 binary and CSV loaders, the search for a named
** data set, splits and limits, scaling, and gathering a batch. See nn_data.h for the contract.
**
** Every loader writes into an empty nn_dataset and, on failure, frees what it allocated and leaves
** it empty again, so a caller never sees half a data set. Files are read in 1 MiB chunks (zlib's
** gzread for IDX and CSV, which reads .gz and raw files alike; stdio for CIFAR).
*/
#include "nn_data.h"
#include "nn_mat.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define NN_CHUNK (1u << 20)             /* bytes per read */
#define NN_CSV_MAX_CLASS 65535          /* larger "labels" are almost surely the wrong column */
#define CIFAR_PIXELS 3072
#define CIFAR_RECORD (1 + CIFAR_PIXELS)

// ---- small helpers ----

/* Whether path is a directory (dir) or a regular file (!dir). */
static bool stat_is(const char *path, bool dir) {
    struct stat st;
    return stat(path, &st) == 0 && (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

/* dir/name into out (name alone when dir is NULL or name is absolute); false if it does not fit. */
static bool path_join(char *out, size_t size, const char *dir, const char *name) {
    int k = (!dir || !*dir || name[0] == '/') ? snprintf(out, size, "%s", name)
                                              : snprintf(out, size, "%s/%s", dir, name);
    return k >= 0 && (size_t)k < size;
}

/* Appends formatted text at *len, silently clipping at size (for multi-line messages). */
static void RT_PRINTF(4, 5) str_append(char *buf, size_t size, size_t *len, const char *fmt, ...) {
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

static void ds_set_shape(nn_dataset *d, int ndim, int a, int b, int c) {
    d->ndim = ndim, d->shape[0] = a, d->shape[1] = b, d->shape[2] = c, d->dim = a * b * c;
}

/* Allocates x (n, dim) and y (n) of an empty data set; never returns NULL buffers. */
static rt_status ds_alloc(nn_dataset *d, int n, int dim, rt_err *err) {
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
    rt_status st = ds_alloc(dst, k, src->dim, err);
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

nn_scale nn_scale_parse(const char *s, bool *ok) {
    for (int i = NN_SCALE_NONE; s && i <= NN_SCALE_STANDARDIZE; i++) {
        if (strcmp(s, nn_scale_name((nn_scale)i)) == 0) {
            if (ok) *ok = true;
            return (nn_scale)i;
        }
    }
    if (ok) *ok = false;
    return NN_SCALE_NONE;
}

const char *nn_scale_name(nn_scale s) {
    switch (s) {
    case NN_SCALE_NONE: return "none";
    case NN_SCALE_UNIT: return "unit";
    case NN_SCALE_PM1: return "pm1";
    case NN_SCALE_STANDARDIZE: return "standardize";
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

static rt_status gz_fail(gzFile f, const char *path, rt_err *err) {
    int code = 0;
    const char *m = gzerror(f, &code);
    if (code == Z_ERRNO) return rt_err_set(err, RT_ERR_IO, "%s: read error: %s", path, strerror(errno));
    return rt_err_set(err, RT_ERR_FORMAT, "%s: cannot decompress: %s; the file is damaged, download it "
                      "again", path, m);
}

static rt_status gz_open(const char *path, gzFile *out, rt_err *err) {
    errno = 0;
    *out = gzopen(path, "rb");
    if (!*out)
        return rt_err_set(err, RT_ERR_IO, "cannot open %s: %s", path,
                          errno ? strerror(errno) : "out of memory");
    gzbuffer(*out, 1u << 18);
    return RT_OK;
}

/* Reads up to n bytes (fewer only at the end of the data); -1 on a zlib error. */
static long long gz_read_full(gzFile f, void *buf, size_t n) {
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
static rt_status gz_slurp(const char *path, char **out, size_t *len, rt_err *err) {
    gzFile f;
    rt_status st = gz_open(path, &f, err);
    if (st != RT_OK) return st;
    size_t cap = NN_CHUNK, n = 0;
    char *buf = NULL;
    for (;; cap *= 2) {
        char *b = realloc(buf, cap + 1);
        if (!b) { st = rt_err_set(err, RT_ERR_NOMEM, "%s: out of memory reading the file", path); break; }
        buf = b;
        long long r = gz_read_full(f, buf + n, cap - n);
        if (r < 0) { st = gz_fail(f, path, err); break; }
        n += (size_t)r;
        if (n < cap) break;
    }
    gzclose(f);
    if (st != RT_OK) { free(buf); return st; }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return RT_OK;
}

// ---- IDX (MNIST, Fashion-MNIST) ----

#define IDX_IMAGES 0x00000803u          /* unsigned bytes, 3 dimensions */
#define IDX_LABELS 0x00000801u          /* unsigned bytes, 1 dimension */

/* Opens an IDX file and reads its magic and the ndims big-endian sizes after it. */
static rt_status idx_open(const char *path, uint32_t magic, int ndims, uint32_t *dims, gzFile *out,
                          rt_err *err) {
    rt_status st = gz_open(path, out, err);
    if (st != RT_OK) return st;
    unsigned char h[16];
    size_t want = 4 * (size_t)(1 + ndims);
    long long got = gz_read_full(*out, h, want);
    if (got < 0) return gz_fail(*out, path, err);
    uint32_t v[4] = { 0, 0, 0, 0 };
    for (int i = 0; i < 1 + ndims && 4 * i + 4 <= got; i++)
        v[i] = (uint32_t)h[4 * i] << 24 | (uint32_t)h[4 * i + 1] << 16 | (uint32_t)h[4 * i + 2] << 8
             | h[4 * i + 3];
    bool images = magic == IDX_IMAGES;
    if (got >= 4 && v[0] != magic)
        return rt_err_set(err, RT_ERR_FORMAT, "%s: magic number 0x%08x, expected 0x%08x (IDX %s); %s", path,
                          (unsigned)v[0], (unsigned)magic, images ? "images" : "labels",
                          v[0] == (images ? IDX_LABELS : IDX_IMAGES)
                              ? "this is the other kind of IDX file: are images and labels swapped?"
                              : "it is not an IDX file of that kind");
    if ((size_t)got < want)
        return rt_err_set(err, RT_ERR_FORMAT, "%s: only %lld bytes, too short for an IDX header; the file "
                          "is truncated or not an IDX file", path, got);
    for (int i = 0; i < ndims; i++) {
        dims[i] = v[1 + i];
        uint32_t max = i == 0 ? 0x7fffffffu : 1u << 12;            /* images up to 4096 x 4096 */
        if (dims[i] == 0 || dims[i] > max)
            return rt_err_set(err, RT_ERR_FORMAT, "%s: IDX dimension %d is %u, outside 1..%u; the header "
                              "is corrupt", path, i, (unsigned)dims[i], (unsigned)max);
    }
    return RT_OK;
}

/* After the payload the file must end; anything more means a corrupt or foreign file. */
static rt_status gz_expect_end(gzFile f, const char *path, uint32_t n, const char *what, rt_err *err) {
    char c;
    int r = gzread(f, &c, 1);
    if (r < 0) return gz_fail(f, path, err);
    if (r > 0)
        return rt_err_set(err, RT_ERR_FORMAT, "%s: extra bytes after the %u %s its header promises; the file "
                          "is corrupt or not a plain IDX file", path, (unsigned)n, what);
    return RT_OK;
}

/* Reads n images of dim bytes into d->x, growing the buffer as data arrives so that a corrupt
** header promising billions of images fails as truncated rather than as a huge allocation. */
static rt_status idx_read_images(gzFile f, const char *path, uint32_t n, uint32_t rows, uint32_t cols,
                                 nn_dataset *d, rt_err *err) {
    size_t total = (size_t)n * rows * cols, cap = total < (16u << 20) ? total : (16u << 20), done = 0;
    unsigned char *buf = malloc(NN_CHUNK);
    d->x = malloc(cap * sizeof *d->x);
    rt_status st = RT_OK;
    if (!buf || !d->x) st = rt_err_set(err, RT_ERR_NOMEM, "%s: out of memory", path);
    while (st == RT_OK && done < total) {
        size_t want = total - done < NN_CHUNK ? total - done : NN_CHUNK;
        int r = gzread(f, buf, (unsigned)want);
        if (r < 0) { st = gz_fail(f, path, err); break; }
        if (r == 0) {
            st = rt_err_set(err, RT_ERR_FORMAT, "%s: truncated: the header promises %u images of %ux%u "
                            "(%zu bytes of pixels) but the file ends after %zu; download it again", path,
                            (unsigned)n, (unsigned)rows, (unsigned)cols, total, done);
            break;
        }
        if (done + (size_t)r > cap) {                   /* r <= cap, so doubling is enough */
            cap = 2 * cap < total ? 2 * cap : total;
            float *x = realloc(d->x, cap * sizeof *x);
            if (!x) { st = rt_err_set(err, RT_ERR_NOMEM, "%s: out of memory", path); break; }
            d->x = x;
        }
        float *dst = d->x + done;
        for (int i = 0; i < r; i++) dst[i] = (float)buf[i];
        done += (size_t)r;
    }
    free(buf);
    if (st == RT_OK) st = gz_expect_end(f, path, n, "images", err);
    return st;
}

static rt_status idx_read_labels(gzFile f, const char *path, uint32_t n, nn_dataset *d, rt_err *err) {
    unsigned char *buf = malloc(n);
    d->y = malloc((size_t)n * sizeof *d->y);
    if (!buf || !d->y) {
        free(buf);
        return rt_err_set(err, RT_ERR_NOMEM, "%s: out of memory", path);
    }
    rt_status st = RT_OK;
    long long got = gz_read_full(f, buf, n);
    if (got < 0) {
        st = gz_fail(f, path, err);
    } else if ((size_t)got < n) {
        st = rt_err_set(err, RT_ERR_FORMAT, "%s: truncated: the header promises %u labels but the file holds "
                        "%lld; download it again", path, (unsigned)n, got);
    } else {
        st = gz_expect_end(f, path, n, "labels", err);
    }
    for (uint32_t i = 0; st == RT_OK && i < n; i++) {
        if (buf[i] > 9)
            st = rt_err_set(err, RT_ERR_FORMAT, "%s: label %u at index %u is outside 0..9; is this an "
                            "MNIST-style labels file?", path, (unsigned)buf[i], (unsigned)i);
        d->y[i] = buf[i];
    }
    free(buf);
    return st;
}

rt_status nn_idx_load(nn_dataset *d, const char *images, const char *labels, rt_err *err) {
    memset(d, 0, sizeof *d);
    gzFile fi = NULL, fl = NULL;
    uint32_t di[3] = { 0, 0, 0 }, dl[1] = { 0 };
    rt_status st = idx_open(images, IDX_IMAGES, 3, di, &fi, err);
    if (st == RT_OK) st = idx_open(labels, IDX_LABELS, 1, dl, &fl, err);
    if (st == RT_OK && di[0] != dl[0])
        st = rt_err_set(err, RT_ERR_FORMAT, "%s holds %u images but %s holds %u labels; the two files do not "
                        "belong together", images, (unsigned)di[0], labels, (unsigned)dl[0]);
    if (st == RT_OK) st = idx_read_images(fi, images, di[0], di[1], di[2], d, err);
    if (st == RT_OK) st = idx_read_labels(fl, labels, dl[0], d, err);
    if (fi) gzclose(fi);
    if (fl) gzclose(fl);
    if (st != RT_OK) { nn_dataset_free(d); return st; }
    d->n = (int)di[0];
    ds_set_shape(d, 2, (int)di[1], (int)di[2], 1);
    d->nclass = 10;
    snprintf(d->source, sizeof d->source, "%s", images);
    return RT_OK;
}

// ---- CIFAR-10 binary batches ----

rt_status nn_cifar_load(nn_dataset *d, const char *const *files, int nfiles, rt_err *err) {
    memset(d, 0, sizeof *d);
    if (nfiles <= 0) return rt_err_set(err, RT_ERR_ARG, "cifar10: no batch files given");
    long long total = 0;
    for (int i = 0; i < nfiles; i++) {
        struct stat st;
        if (stat(files[i], &st) != 0)
            return rt_err_set(err, RT_ERR_IO, "cannot open %s: %s", files[i], strerror(errno));
        long long size = (long long)st.st_size;
        if (size == 0 || size % CIFAR_RECORD != 0)
            return rt_err_set(err, RT_ERR_FORMAT, "%s: size %lld bytes is not a multiple of the CIFAR-10 "
                              "record size %d (1 label byte + %d pixel bytes); the file is truncated or not "
                              "a CIFAR-10 binary batch", files[i], size, CIFAR_RECORD, CIFAR_PIXELS);
        total += size / CIFAR_RECORD;
    }
    if (total > 0x7fffffffLL)
        return rt_err_set(err, RT_ERR_ARG, "cifar10: %lld records are too many", total);
    rt_status st = ds_alloc(d, (int)total, CIFAR_PIXELS, err);
    if (st != RT_OK) return st;
    enum { PER_READ = 256 };
    unsigned char *buf = malloc((size_t)PER_READ * CIFAR_RECORD);
    if (!buf) st = rt_err_set(err, RT_ERR_NOMEM, "cifar10: out of memory");
    size_t row = 0, len = 0, k;
    for (int i = 0; st == RT_OK && i < nfiles; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f) {
            st = rt_err_set(err, RT_ERR_IO, "cannot open %s: %s", files[i], strerror(errno));
            break;
        }
        str_append(d->source, sizeof d->source, &len, "%s%s", i ? "," : "", files[i]);
        for (size_t rec = 0; st == RT_OK && row < (size_t)total; ) {
            size_t want = (size_t)total - row < PER_READ ? (size_t)total - row : PER_READ;
            if ((k = fread(buf, CIFAR_RECORD, want, f)) == 0) break;
            for (size_t j = 0; j < k && st == RT_OK; j++, rec++, row++) {
                const unsigned char *r = buf + j * CIFAR_RECORD;
                if (r[0] > 9)
                    st = rt_err_set(err, RT_ERR_FORMAT, "%s: record %zu has label %u, outside 0..9; is this "
                                    "a CIFAR-10 batch (CIFAR-100 has two label bytes)?", files[i], rec,
                                    (unsigned)r[0]);
                d->y[row] = r[0];
                float *x = d->x + row * CIFAR_PIXELS;
                for (int p = 0; p < CIFAR_PIXELS; p++) x[p] = (float)r[1 + p];
            }
        }
        if (st == RT_OK && ferror(f))
            st = rt_err_set(err, RT_ERR_IO, "%s: read error: %s", files[i], strerror(errno));
        fclose(f);
    }
    if (st == RT_OK && row != (size_t)total)
        st = rt_err_set(err, RT_ERR_IO, "cifar10: read %zu records, expected %lld; a file changed while it "
                        "was read", row, total);
    free(buf);
    if (st != RT_OK) { nn_dataset_free(d); return st; }
    ds_set_shape(d, 3, 3, 32, 32);
    d->nclass = 10;
    return RT_OK;
}

// ---- CSV ----

/* The next physical line: [*ls, *le) without its "\r\n" or "\n"; false at the end. */
static bool csv_next_line(const char **p, const char *end, const char **ls, const char **le) {
    if (*p >= end) return false;
    const char *eol = memchr(*p, '\n', (size_t)(end - *p));
    if (!eol) eol = end;
    *ls = *p;
    *le = (eol > *p && eol[-1] == '\r') ? eol - 1 : eol;
    *p = eol < end ? eol + 1 : end;
    return true;
}

static bool csv_blank(const char *s, const char *e) {
    for (; s < e; s++)
        if (*s != ' ' && *s != '\t') return false;
    return true;
}

/* Parses [s, e) as a finite number, spaces around allowed. */
static bool csv_number(const char *s, const char *e, double *v) {
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    if (s == e) return false;
    char *q;
    double x = strtod(s, &q);
    if (q == s || q > e) return false;
    while (q < e && (*q == ' ' || *q == '\t')) q++;
    if (q != e || !isfinite(x)) return false;
    *v = x;
    return true;
}

/* Trims spaces and one pair of double quotes around a header name, in place. */
static char *csv_trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

static int csv_count_fields(const char *s, const char *e) {
    int n = 1;
    for (; s < e; s++) n += *s == ',';
    return n;
}

/* Splits the header line into names (pointing into *store); returns the column count. */
static rt_status csv_header(const char *path, const char *ls, const char *le, char **store,
                            char ***names, int *ncol, rt_err *err) {
    if (le - ls >= 3 && memcmp(ls, "\xef\xbb\xbf", 3) == 0) ls += 3;      /* UTF-8 byte order mark */
    size_t n = (size_t)(le - ls);
    if (csv_blank(ls, ls + n))
        return rt_err_set(err, RT_ERR_FORMAT, "%s: empty; a CSV data set needs a header row naming the "
                          "columns (e.g. x1,x2,y) and one row per example", path);
    int k = csv_count_fields(ls, ls + n);
    *store = malloc(n + 1);
    *names = malloc((size_t)k * sizeof **names);
    if (!*store || !*names) return rt_err_set(err, RT_ERR_NOMEM, "%s: out of memory", path);
    memcpy(*store, ls, n);
    (*store)[n] = '\0';
    char *s = *store;
    bool numeric = true;
    for (int i = 0; i < k; i++) {
        char *c = strchr(s, ',');
        if (c) *c = '\0';
        (*names)[i] = csv_trim(s);
        double v;
        numeric = numeric && csv_number((*names)[i], (*names)[i] + strlen((*names)[i]), &v);
        s = c ? c + 1 : s + strlen(s);
    }
    *ncol = k;
    if (numeric)
        return rt_err_set(err, RT_ERR_FORMAT, "%s:1: the first row is all numbers; a CSV data set needs a "
                          "header row naming the columns (e.g. x1,x2,y)", path);
    if (k < 2)
        return rt_err_set(err, RT_ERR_FORMAT, "%s:1: only %d column; a CSV data set needs at least one "
                          "feature column and a label column", path, k);
    return RT_OK;
}

static int csv_label_column(char **names, int ncol, const char *label) {
    const char *want = label ? label : "y";
    for (int i = 0; i < ncol; i++)
        if (strcmp(names[i], want) == 0) return i;
    return label ? -1 : ncol - 1;
}

/* Parses the data rows after the header into d (already allocated for nrows x (ncol-1)). */
static rt_status csv_rows(const char *path, const char *p, const char *end, char **names, int ncol,
                          int lab, nn_dataset *d, rt_err *err) {
    const char *ls, *le;
    int line = 1, row = 0, maxy = -1;
    while (csv_next_line(&p, end, &ls, &le)) {
        line++;
        if (csv_blank(ls, le)) continue;
        int m = csv_count_fields(ls, le);
        if (m != ncol)
            return rt_err_set(err, RT_ERR_FORMAT, "%s:%d: expected %d fields, found %d (the header names %d "
                              "columns)", path, line, ncol, m, ncol);
        float *x = d->x + (size_t)row * (size_t)d->dim;
        const char *s = ls;
        for (int c = 0, j = 0; c < ncol; c++) {
            const char *e = memchr(s, ',', (size_t)(le - s));
            if (!e) e = le;
            double v = 0.0;
            bool ok = csv_number(s, e, &v);
            int shown = (int)(e - s) < 40 ? (int)(e - s) : 40;
            if (!ok)
                return rt_err_set(err, RT_ERR_FORMAT, "%s:%d: column '%s': '%.*s' is not a number", path,
                                  line, names[c], shown, s);
            if (c == lab) {
                if (v < 0.0 || v != floor(v) || v > NN_CSV_MAX_CLASS)
                    return rt_err_set(err, RT_ERR_FORMAT, "%s:%d: label column '%s': '%.*s' is not a class "
                                      "label (an integer in 0..%d); is '%s' the label column?", path, line,
                                      names[c], shown, s, NN_CSV_MAX_CLASS, names[c]);
                d->y[row] = (int32_t)v;
                if ((int)v > maxy) maxy = (int)v;
            } else {
                x[j] = (float)v;
                if (!isfinite(x[j]))
                    return rt_err_set(err, RT_ERR_FORMAT, "%s:%d: column '%s': %.*s does not fit in a float",
                                      path, line, names[c], shown, s);
                j++;
            }
            s = e < le ? e + 1 : le;
        }
        row++;
    }
    RT_ASSERT(row == d->n);
    d->nclass = maxy + 1;
    return RT_OK;
}

rt_status nn_csv_load(nn_dataset *d, const char *path, const char *label, rt_err *err) {
    memset(d, 0, sizeof *d);
    char *buf = NULL, *store = NULL, **names = NULL;
    size_t len = 0;
    int ncol = 0, lab = -1;
    const char *p, *end, *ls, *le;
    rt_status st = gz_slurp(path, &buf, &len, err);
    if (st != RT_OK) return st;
    p = buf;
    end = buf + len;
    if (!csv_next_line(&p, end, &ls, &le)) ls = le = buf;
    st = csv_header(path, ls, le, &store, &names, &ncol, err);
    if (st == RT_OK) {
        lab = csv_label_column(names, ncol, label);
        if (lab < 0) {
            char cols[256];
            size_t n = 0;
            for (int i = 0; i < ncol; i++)
                str_append(cols, sizeof cols, &n, "%s%s", i ? "," : "", names[i]);
            st = rt_err_set(err, RT_ERR_ARG, "%s: no column named '%s' for the label (columns: %s); set "
                            "label to one of them", path, label, cols);
        }
    }
    int nrows = 0;
    for (const char *q = p; st == RT_OK && csv_next_line(&q, end, &ls, &le);)
        if (!csv_blank(ls, le)) nrows++;
    if (st == RT_OK && nrows == 0)
        st = rt_err_set(err, RT_ERR_FORMAT, "%s: no data rows after the header", path);
    if (st == RT_OK) st = ds_alloc(d, nrows, ncol - 1, err);
    if (st == RT_OK) {
        ds_set_shape(d, 1, ncol - 1, 1, 1);
        st = csv_rows(path, p, end, names, ncol, lab, d, err);
    }
    free(buf);
    free(store);
    free(names);
    if (st != RT_OK) { nn_dataset_free(d); return st; }
    snprintf(d->source, sizeof d->source, "%s", path);
    return RT_OK;
}

// ---- the Shwartz-Ziv & Tishby 12-bit task (var_u.mat) ----

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
    if (st == RT_OK) st = ds_alloc(d, (int)n, (int)dim, err);
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
    ds_set_shape(d, 1, (int)dim, 1, 1);
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
    }
}

// ---- finding a named data set ----

static const char *const idx_files[] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };
static const char *const cifar_files[] = { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                           "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin" };

/* dir/name, or dir/name.gz when gz; false when neither is a file. */
static bool find_file(const char *dir, const char *name, bool gz, char *out, size_t size) {
    if (path_join(out, size, dir, name) && stat_is(out, false)) return true;
    char gzname[128];
    snprintf(gzname, sizeof gzname, "%s.gz", name);
    return gz && path_join(out, size, dir, gzname) && stat_is(out, false);
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
    if (strcmp(name, "tishby") == 0) {
        /* Beside a checkout: ../shared of the working directory, and of the checkout that holds
        ** the running program (<checkout>/build/vibrun), wherever it runs from. */
        snprintf(out[nc++], NN_PATH_MAX, "../shared/data/tishby-12bit");
        char exe[NN_PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            for (int up = 0; up < 2; up++) {
                char *slash = strrchr(exe, '/');
                if (slash) *slash = '\0';
            }
            if (exe[0] && strlen(exe) + 32 < NN_PATH_MAX)
                snprintf(out[nc++], NN_PATH_MAX, "%s/../shared/data/tishby-12bit", exe);
        }
    }
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
            str_append(report, sizeof report, &len, "  %s: no such directory\n", dir);
            continue;
        }
        if (subdir && !dir_has(dir, need, k, gz, &missing) && path_join(sub, sizeof sub, dir, subdir) &&
            stat_is(sub, true))
            dir = sub;
        if (dir_has(dir, need, k, gz, &missing)) {
            size_t n = strnlen(dir, size - 1);
            memcpy(out, dir, n);
            out[n] = '\0';
            return RT_OK;
        }
        str_append(report, sizeof report, &len, "  %s: no %s%s\n", dir, missing, gz ? "[.gz]" : "");
        if (!hlen && ntest < k && dir_has(dir, need + k - ntest, ntest, gz, &dummy))
            str_append(hint, sizeof hint, &hlen, "%s holds only the test set: set resplit_test (e.g. 0.8) "
                       "to train on part of it.\n", dir);
    }
    return not_found(s->name, len ? report : "", hint, err);
}

/* The error for a data set found nowhere: the folders tried (report) and how to get it. */
static rt_status not_found(const char *name, const char *report, const char *hint, rt_err *err) {
    const char *get = strcmp(name, "fashion-mnist") == 0
        ? "install it with: apt-get install dataset-fashion-mnist"
        : strcmp(name, "tishby") == 0
        ? "get it with: vibrun data get tishby (downloads the authors' var_u.mat), or copy var_u.mat (e.g. "
          "from ../shared/data/tishby-12bit beside a checkout) into one of these directories"
        : strcmp(name, "mnist") == 0
        ? "get it by putting the four official IDX files (train-images-idx3-ubyte.gz, "
          "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in one of "
          "these directories"
        : "get it by extracting the official cifar-10-binary.tar.gz (data_batch_1..5.bin, "
          "test_batch.bin) into one of these directories";
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
        if (path_join(out, size, dir, tishby_files[i]) && stat_is(out, false)) return true;
    return false;
}

static rt_status open_tishby(const nn_data_spec *s, nn_dataset *tr, nn_dataset *te, rt_err *err) {
    char cand[NN_DATA_MAX_SEARCH][NN_PATH_MAX], path[NN_PATH_MAX], report[RT_ERR_MAX];
    int nc = nn_data_search_dirs("tishby", s->dir, cand), c;
    size_t len = 0;
    for (c = 0; c < nc; c++) {
        if (tishby_file(cand[c], path, sizeof path)) break;
        str_append(report, sizeof report, &len, stat_is(cand[c], true) ? "  %s: no var_u.mat (nor var_u.csv)\n"
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
    if (cifar && !dir_has(dir, need, k, false, &missing) && path_join(sub, sizeof sub, dir, "cifar-10-batches-bin")
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
    if (!path_join(p, sizeof p, s->dir, s->path) ||
        (s->test_path && !path_join(q, sizeof q, s->dir, s->test_path)))
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
    else
        st = rt_err_set(err, RT_ERR_ARG, "unknown data set '%s'; use mnist, fashion-mnist, cifar10, tishby or "
                        "csv", name);
    if (st != RT_OK) {
        nn_dataset_free(train), nn_dataset_free(test);
        return st;
    }
    ds_limit(train, s->train_limit);
    ds_limit(test, s->test_limit);
    nn_data_scale(train, test, s->scale);
    return RT_OK;
}
