// nn_data_idx.c: the IDX reader (MNIST, Fashion-MNIST), gzip or raw, through zlib (nn_data.h).
#include "nn_data_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDX_IMAGES 0x00000803u          /* unsigned bytes, 3 dimensions */
#define IDX_LABELS 0x00000801u          /* unsigned bytes, 1 dimension */

/* Opens an IDX file and reads its magic and the ndims big-endian sizes after it. */
static rt_status idx_open(const char *path, uint32_t magic, int ndims, uint32_t *dims, gzFile *out,
                          rt_err *err) {
    rt_status st = nn_data_gz_open(path, out, err);
    if (st != RT_OK) return st;
    unsigned char h[16];
    size_t want = 4 * (size_t)(1 + ndims);
    long long got = nn_data_gz_read(*out, h, want);
    if (got < 0) return nn_data_gz_fail(*out, path, err);
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
    if (r < 0) return nn_data_gz_fail(f, path, err);
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
        if (r < 0) { st = nn_data_gz_fail(f, path, err); break; }
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
    long long got = nn_data_gz_read(f, buf, n);
    if (got < 0) {
        st = nn_data_gz_fail(f, path, err);
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
    nn_data_shape(d, 2, (int)di[1], (int)di[2], 1);
    d->nclass = 10;
    snprintf(d->source, sizeof d->source, "%s", images);
    return RT_OK;
}
