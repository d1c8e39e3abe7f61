/*
** test_data.c: the data-set loaders, the search for named data sets, splits, scaling and gather.
**
** Real samples come from ../shared/data (skipped when absent); every error path runs on small
** files generated here, and each error test checks the status and what the message names.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nn_data.h"
#include "testutil.h"

#define ASSERT_MSG(e, sub) \
    cr_assert(strstr((e).msg, (sub)) != NULL, "message \"%s\" lacks \"%s\"", (e).msg, (sub))

// ---- helpers ----

static char tmp[512];

static const char *mktmp(const char *tag) {
    snprintf(tmp, sizeof tmp, "%s", tu_tmpdir(tag));
    return tmp;
}

static const char *at(const char *dir, const char *name) {
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* IDX images of n examples, rows x cols, pixel (i, j) = (7 * i + j) % 256, into buf; returns size. */
static size_t make_idx_images(unsigned char *buf, uint32_t magic, uint32_t n, uint32_t rows, uint32_t cols) {
    put_be32(buf, magic);
    put_be32(buf + 4, n);
    put_be32(buf + 8, rows);
    put_be32(buf + 12, cols);
    size_t d = (size_t)rows * cols;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) buf[16 + i * d + j] = (unsigned char)((7 * i + j) % 256);
    return 16 + n * d;
}

/* IDX labels of n examples, label i = i % 10 (or `bad` for the last when bad >= 0). */
static size_t make_idx_labels(unsigned char *buf, uint32_t n, int bad) {
    put_be32(buf, 0x00000801);
    put_be32(buf + 4, n);
    for (uint32_t i = 0; i < n; i++) buf[8 + i] = (unsigned char)(i % 10);
    if (bad >= 0) buf[8 + n - 1] = (unsigned char)bad;
    return 8 + n;
}

static void write_gz(const char *path, const void *data, size_t size) {
    gzFile f = gzopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(gzwrite(f, data, (unsigned)size), (int)size);
    cr_assert_eq(gzclose(f), Z_OK);
}

static void write_text(const char *path, const char *text) {
    tu_write_file(path, text, strlen(text));
}

/* n CIFAR records: label i % 10, pixels (i + p) % 256. */
static void write_cifar(const char *path, int n) {
    unsigned char *b = malloc((size_t)n * 3073);
    for (int i = 0; i < n; i++) {
        b[(size_t)i * 3073] = (unsigned char)(i % 10);
        for (int p = 0; p < 3072; p++) b[(size_t)i * 3073 + 1 + (size_t)p] = (unsigned char)((i + p) % 256);
    }
    tu_write_file(path, b, (size_t)n * 3073);
    free(b);
}

static void assert_empty(const nn_dataset *d) {
    cr_assert_eq(d->n, 0);
    cr_assert_null(d->x);
    cr_assert_null(d->y);
}

// ---- real samples ----

Test(data, mnist_t10k_real) {
    char dir[512];
    if (!tu_shared("mnist-t10k", dir, sizeof dir)) tu_skip("../shared/data/mnist-t10k absent");
    nn_dataset d;
    rt_err err = { 0 };
    cr_assert_eq(nn_idx_load(&d, at(dir, "t10k-images-idx3-ubyte.gz"), at(dir, "t10k-labels-idx1-ubyte.gz"),
                             &err), RT_OK, "%s", err.msg);
    cr_assert_eq(d.n, 10000);
    cr_assert_eq(d.ndim, 2);
    cr_assert_eq(d.shape[0], 28);
    cr_assert_eq(d.shape[1], 28);
    cr_assert_eq(d.dim, 784);
    cr_assert_eq(d.nclass, 10);
    int32_t first[5] = { 7, 2, 1, 0, 4 };
    for (int i = 0; i < 5; i++) cr_assert_eq(d.y[i], first[i]);
    /* the first image (a 7): pixels 0..201 are black, then 84, 185, 159; its sum is 18454 */
    cr_assert_eq(d.x[0], 0.0f);
    cr_assert_eq(d.x[202], 84.0f);
    cr_assert_eq(d.x[203], 185.0f);
    cr_assert_eq(d.x[204], 159.0f);
    double sum = 0.0, all = 0.0, mx = 0.0;
    for (int j = 0; j < 784; j++) sum += (double)d.x[j];
    for (size_t j = 0; j < (size_t)d.n * 784; j++) {
        all += (double)d.x[j];
        if ((double)d.x[j] > mx) mx = (double)d.x[j];
    }
    cr_assert_eq(sum, 18454.0);
    cr_assert_eq(all, 264923200.0);
    cr_assert_eq(mx, 255.0);
    nn_dataset_free(&d);
    assert_empty(&d);
}

Test(data, mnist_resplit_and_limits) {
    char dir[512];
    if (!tu_shared("mnist-t10k", dir, sizeof dir)) tu_skip("../shared/data/mnist-t10k absent");
    nn_data_spec s = nn_data_spec_default();
    s.name = "mnist";
    s.dir = dir;
    s.resplit_test = 0.8f;
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 8000);
    cr_assert_eq(te.n, 2000);
    cr_assert_eq(tr.y[0], 7);
    cr_assert_eq(tr.nclass, 10);
    cr_assert_eq(te.nclass, 10);
    cr_assert_eq(te.dim, 784);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);

    s.train_limit = 100;
    s.test_limit = 50;
    s.scale = NN_SCALE_PM1;
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 100);
    cr_assert_eq(te.n, 50);
    cr_assert_eq(tr.x[0], -1.0f);
    cr_assert_float_eq(tr.x[202], 2.0f * (84.0f / 255.0f) - 1.0f, 1e-7f);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

Test(data, mnist_test_only_needs_resplit) {
    char dir[512];
    if (!tu_shared("mnist-t10k", dir, sizeof dir)) tu_skip("../shared/data/mnist-t10k absent");
    unsetenv("VIB_DATA");
    nn_data_spec s = nn_data_spec_default();
    s.name = "mnist";
    s.dir = dir;
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_IO);
    ASSERT_MSG(err, "train-images-idx3-ubyte[.gz]");
    ASSERT_MSG(err, "resplit_test");
    assert_empty(&tr);
    assert_empty(&te);
}

Test(data, cifar_subset_real) {
    char dir[512];
    if (!tu_shared("cifar-10-subset", dir, sizeof dir)) tu_skip("../shared/data/cifar-10-subset absent");
    nn_data_spec s = nn_data_spec_default();
    s.name = "cifar10";
    s.dir = dir;
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 5085);
    cr_assert_eq(te.n, 1017);
    cr_assert_eq(tr.ndim, 3);
    cr_assert_eq(tr.shape[0], 3);
    cr_assert_eq(tr.shape[1], 32);
    cr_assert_eq(tr.shape[2], 32);
    cr_assert_eq(tr.dim, 3072);
    cr_assert_eq(tr.nclass, 10);
    int32_t first[10] = { 6, 9, 9, 4, 1, 1, 2, 7, 8, 3 };
    for (int i = 0; i < 10; i++) cr_assert_eq(tr.y[i], first[i], "label %d", i);
    /* planes R, G, B of the first record, then batch 2 starting at row 1017 */
    cr_assert_eq(tr.x[0], 59.0f);
    cr_assert_eq(tr.x[4], 98.0f);
    cr_assert_eq(tr.x[1024], 62.0f);
    cr_assert_eq(tr.x[2048], 63.0f);
    cr_assert_eq(tr.y[1017], 1);
    cr_assert_eq(tr.x[(size_t)1017 * 3072], 35.0f);
    int32_t tfirst[4] = { 3, 8, 8, 0 };
    for (int i = 0; i < 4; i++) cr_assert_eq(te.y[i], tfirst[i]);
    cr_assert_eq(te.x[0], 158.0f);
    cr_assert(strstr(tr.source, "data_batch_1.bin") != NULL, "%s", tr.source);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

Test(data, tishby_csv_real) {
    char path[512];
    if (!tu_shared("tishby-12bit/var_u.csv", path, sizeof path)) tu_skip("../shared/data/tishby-12bit absent");
    nn_dataset d;
    rt_err err = { 0 };
    cr_assert_eq(nn_csv_load(&d, path, NULL, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(d.n, 4096);
    cr_assert_eq(d.dim, 12);
    cr_assert_eq(d.ndim, 1);
    cr_assert_eq(d.shape[0], 12);
    cr_assert_eq(d.nclass, 2);
    int ones = 0;
    for (int i = 0; i < d.n; i++) ones += d.y[i];
    cr_assert_eq(ones, 2118);
    for (size_t j = 0; j < (size_t)d.n * 12; j++) cr_assert(d.x[j] == 0.0f || d.x[j] == 1.0f);
    cr_assert_eq(d.x[11 + 12], 1.0f);                  /* row 2: 0,...,0,1 */
    nn_dataset_free(&d);

    /* named label column, and the seeded holdout through nn_data_open */
    cr_assert_eq(nn_csv_load(&d, path, "y", &err), RT_OK, "%s", err.msg);
    nn_dataset_free(&d);
    nn_data_spec s = nn_data_spec_default();
    s.name = "csv";
    s.path = path;
    s.seed = 7;
    nn_dataset tr, te, tr2, te2;
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(te.n, 819);
    cr_assert_eq(tr.n, 4096 - 819);
    int ones2 = 0;
    for (int i = 0; i < tr.n; i++) ones2 += tr.y[i];
    for (int i = 0; i < te.n; i++) ones2 += te.y[i];
    cr_assert_eq(ones2, 2118);
    cr_assert_eq(nn_data_open(&s, &tr2, &te2, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(memcmp(te.x, te2.x, (size_t)te.n * 12 * sizeof(float)), 0, "same seed, same split");
    nn_dataset_free(&tr2);
    nn_dataset_free(&te2);
    s.seed = 8;
    cr_assert_eq(nn_data_open(&s, &tr2, &te2, &err), RT_OK, "%s", err.msg);
    cr_assert_neq(memcmp(te.x, te2.x, (size_t)te.n * 12 * sizeof(float)), 0, "another seed, another split");
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
    nn_dataset_free(&tr2);
    nn_dataset_free(&te2);
}

Test(data, fashion_mnist_installed) {
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!f) tu_skip("dataset-fashion-mnist not installed");
    fclose(f);
    unsetenv("VIB_DATA");
    nn_data_spec s = nn_data_spec_default();
    s.name = "fashion-mnist";
    s.scale = NN_SCALE_UNIT;
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 60000);
    cr_assert_eq(te.n, 10000);
    cr_assert_eq(tr.dim, 784);
    cr_assert_eq(tr.y[0], 9);                           /* ankle boot */
    cr_assert_eq(te.y[0], 9);
    int count[10] = { 0 };
    for (int i = 0; i < tr.n; i++) count[tr.y[i]]++;
    for (int c = 0; c < 10; c++) cr_assert_eq(count[c], 6000);
    float lo = 1.0f, hi = 0.0f;
    for (size_t j = 0; j < (size_t)tr.n * 784; j++) {
        lo = fminf(lo, tr.x[j]);
        hi = fmaxf(hi, tr.x[j]);
    }
    cr_assert_eq(lo, 0.0f);
    cr_assert_eq(hi, 1.0f);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

// ---- generated IDX ----

Test(data, idx_small_raw_and_gz) {
    const char *dir = mktmp("idx");
    unsigned char img[16 + 5 * 6], lab[8 + 5];
    size_t ni = make_idx_images(img, 0x00000803, 5, 2, 3), nl = make_idx_labels(lab, 5, -1);
    tu_write_file(at(dir, "i.idx"), img, ni);
    tu_write_file(at(dir, "l.idx"), lab, nl);
    write_gz(at(dir, "i.idx.gz"), img, ni);
    write_gz(at(dir, "l.idx.gz"), lab, nl);
    const char *names[2][2] = { { "i.idx", "l.idx" }, { "i.idx.gz", "l.idx.gz" } };
    for (int k = 0; k < 2; k++) {
        nn_dataset d;
        rt_err err = { 0 };
        cr_assert_eq(nn_idx_load(&d, at(dir, names[k][0]), at(dir, names[k][1]), &err), RT_OK, "%s", err.msg);
        cr_assert_eq(d.n, 5);
        cr_assert_eq(d.shape[0], 2);
        cr_assert_eq(d.shape[1], 3);
        cr_assert_eq(d.dim, 6);
        for (int i = 0; i < 5; i++) {
            cr_assert_eq(d.y[i], i);
            for (int j = 0; j < 6; j++) cr_assert_eq(d.x[i * 6 + j], (float)((7 * i + j) % 256));
        }
        nn_dataset_free(&d);
    }
}

Test(data, idx_named_set_from_dir) {
    const char *dir = mktmp("idxset");
    unsigned char img[16 + 10 * 4], lab[8 + 10];
    size_t ni = make_idx_images(img, 0x00000803, 10, 2, 2), nl = make_idx_labels(lab, 10, -1);
    write_gz(at(dir, "train-images-idx3-ubyte.gz"), img, ni);
    write_gz(at(dir, "train-labels-idx1-ubyte.gz"), lab, nl);
    tu_write_file(at(dir, "t10k-images-idx3-ubyte"), img, 16 + 4 * 4);   /* header says 10: truncated */
    tu_write_file(at(dir, "t10k-labels-idx1-ubyte"), lab, nl);
    nn_data_spec s = nn_data_spec_default();
    s.name = "mnist";
    s.dir = dir;
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "t10k-images-idx3-ubyte");
    ASSERT_MSG(err, "truncated");
    assert_empty(&tr);
    assert_empty(&te);
    tu_write_file(at(dir, "t10k-images-idx3-ubyte"), img, ni);
    rt_err_clear(&err);
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 10);
    cr_assert_eq(te.n, 10);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

Test(data, idx_wrong_magic) {
    const char *dir = mktmp("magic");
    unsigned char img[16 + 3 * 4], lab[8 + 3];
    size_t ni = make_idx_images(img, 0x00000802, 3, 2, 2), nl = make_idx_labels(lab, 3, -1);
    tu_write_file(at(dir, "i"), img, ni);
    tu_write_file(at(dir, "l"), lab, nl);
    nn_dataset d;
    rt_err err = { 0 };
    cr_assert_eq(nn_idx_load(&d, at(dir, "i"), at(dir, "l"), &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, at(dir, "i"));
    ASSERT_MSG(err, "0x00000802");
    ASSERT_MSG(err, "0x00000803");
    assert_empty(&d);
    /* images and labels swapped */
    rt_err_clear(&err);
    cr_assert_eq(nn_idx_load(&d, at(dir, "l"), at(dir, "i"), &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "swapped");
}

Test(data, idx_truncated_and_trailing) {
    const char *dir = mktmp("trunc");
    unsigned char img[16 + 4 * 9 + 1], lab[8 + 4];
    size_t ni = make_idx_images(img, 0x00000803, 4, 3, 3), nl = make_idx_labels(lab, 4, -1);
    write_gz(at(dir, "short.gz"), img, ni - 5);
    tu_write_file(at(dir, "l"), lab, nl);
    img[ni] = 42;
    tu_write_file(at(dir, "long"), img, ni + 1);
    tu_write_file(at(dir, "hdr"), img, 10);
    nn_dataset d;
    rt_err err = { 0 };
    cr_assert_eq(nn_idx_load(&d, at(dir, "short.gz"), at(dir, "l"), &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "short.gz: truncated");
    ASSERT_MSG(err, "4 images of 3x3");
    assert_empty(&d);
    rt_err_clear(&err);
    cr_assert_eq(nn_idx_load(&d, at(dir, "long"), at(dir, "l"), &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "long: extra bytes");
    assert_empty(&d);
    rt_err_clear(&err);
    cr_assert_eq(nn_idx_load(&d, at(dir, "hdr"), at(dir, "l"), &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "too short for an IDX header");
    rt_err_clear(&err);
    cr_assert_eq(nn_idx_load(&d, at(dir, "absent"), at(dir, "l"), &err), RT_ERR_IO);
    ASSERT_MSG(err, "cannot open");
    ASSERT_MSG(err, "absent");
}

Test(data, idx_label_count_mismatch_and_range) {
    const char *dir = mktmp("count");
    unsigned char img[16 + 6 * 4], lab[8 + 6];
    size_t ni = make_idx_images(img, 0x00000803, 6, 2, 2), nl = make_idx_labels(lab, 5, -1);
    tu_write_file(at(dir, "i"), img, ni);
    tu_write_file(at(dir, "l5"), lab, nl);
    nn_dataset d;
    rt_err err = { 0 };
    cr_assert_eq(nn_idx_load(&d, at(dir, "i"), at(dir, "l5"), &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "6 images");
    ASSERT_MSG(err, "5 labels");
    assert_empty(&d);
    nl = make_idx_labels(lab, 6, 12);
    tu_write_file(at(dir, "l6"), lab, nl);
    rt_err_clear(&err);
    cr_assert_eq(nn_idx_load(&d, at(dir, "i"), at(dir, "l6"), &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "label 12 at index 5");
    assert_empty(&d);
}

// ---- generated CIFAR ----

Test(data, cifar_generated_subfolder_and_resplit) {
    const char *dir = mktmp("cifar");
    char sub[600], cmd[700];
    snprintf(sub, sizeof sub, "%s/cifar-10-batches-bin", dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", sub);
    cr_assert_eq(system(cmd), 0);
    write_cifar(at(sub, "test_batch.bin"), 10);
    nn_data_spec s = nn_data_spec_default();
    s.name = "cifar10";
    s.dir = dir;
    s.resplit_test = 0.7f;                              /* 0.7f * 10 = 6.9999998: still 7 */
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 7);
    cr_assert_eq(te.n, 3);
    cr_assert_eq(te.y[0], 7);
    cr_assert_eq(te.x[5], (float)((7 + 5) % 256));
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

Test(data, cifar_bad_size) {
    const char *dir = mktmp("cifarsize");
    unsigned char *b = calloc(3073 * 2 + 5, 1);
    tu_write_file(at(dir, "data_batch_1.bin"), b, 3073 * 2 + 5);
    free(b);
    const char *files[1] = { at(dir, "data_batch_1.bin") };
    nn_dataset d;
    rt_err err = { 0 };
    cr_assert_eq(nn_cifar_load(&d, files, 1, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "data_batch_1.bin");
    ASSERT_MSG(err, "6151");
    ASSERT_MSG(err, "3073");
    assert_empty(&d);
    /* a label byte above 9 in a second file */
    write_cifar(at(dir, "ok.bin"), 3);
    write_cifar(at(dir, "bad.bin"), 2);
    b = (unsigned char *)tu_read_file(at(dir, "bad.bin"), NULL);
    b[3073] = 57;
    tu_write_file(at(dir, "bad.bin"), b, 2 * 3073);
    free(b);
    const char *two[2] = { at(dir, "ok.bin"), at(dir, "bad.bin") };
    rt_err_clear(&err);
    cr_assert_eq(nn_cifar_load(&d, two, 2, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "bad.bin: record 1 has label 57");
    assert_empty(&d);
}

// ---- generated CSV ----

Test(data, csv_label_column_and_test_path) {
    const char *dir = mktmp("csv");
    write_text(at(dir, "a.csv"), "x1, cls ,x2\n1.5,2,-3\r\n\n0,0,1e2\n");
    write_text(at(dir, "b.csv"), "x1,cls,x2\n4,5,6\n");
    nn_data_spec s = nn_data_spec_default();
    s.name = "csv";
    s.dir = dir;
    s.path = "a.csv";
    s.test_path = "b.csv";
    s.label = "cls";
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 2);
    cr_assert_eq(tr.dim, 2);
    cr_assert_eq(tr.x[0], 1.5f);
    cr_assert_eq(tr.x[1], -3.0f);
    cr_assert_eq(tr.x[3], 100.0f);
    cr_assert_eq(tr.y[0], 2);
    cr_assert_eq(tr.y[1], 0);
    cr_assert_eq(te.y[0], 5);
    cr_assert_eq(tr.nclass, 6);
    cr_assert_eq(te.nclass, 6);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
    /* no label given and no "y": the last column */
    nn_dataset d;
    cr_assert_eq(nn_csv_load(&d, at(dir, "b.csv"), NULL, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(d.y[0], 6);
    cr_assert_eq(d.x[0], 4.0f);
    cr_assert_eq(d.x[1], 5.0f);
    cr_assert_eq(d.nclass, 7);
    nn_dataset_free(&d);
    /* a named column that does not exist */
    cr_assert_eq(nn_csv_load(&d, at(dir, "a.csv"), "label", &err), RT_ERR_ARG);
    ASSERT_MSG(err, "no column named 'label'");
    ASSERT_MSG(err, "x1,cls,x2");
    assert_empty(&d);
}

Test(data, csv_holdout_and_resplit) {
    const char *dir = mktmp("holdout");
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text, "i,y\n");
    for (int i = 0; i < 100; i++) len += (size_t)snprintf(text + len, sizeof text - len, "%d,%d\n", i, i % 3);
    write_gz(at(dir, "h.csv.gz"), text, len);
    nn_data_spec s = nn_data_spec_default();
    s.name = "csv";
    s.dir = dir;
    s.path = "h.csv.gz";
    s.holdout = 0.25f;
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 75);
    cr_assert_eq(te.n, 25);
    cr_assert_eq(tr.nclass, 3);
    bool seen[100] = { false };
    for (int k = 0; k < 2; k++) {
        const nn_dataset *d = k ? &te : &tr;
        for (int i = 0; i < d->n; i++) {
            int row = (int)d->x[i];
            cr_assert(!seen[row], "row %d in both splits", row);
            seen[row] = true;
            cr_assert_eq(d->y[i], row % 3);
            if (i > 0) cr_assert_gt(row, (int)d->x[i - 1], "file order kept");
        }
    }
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
    /* resplit_test splits test_path in order; without test_path it is an error */
    s.test_path = "h.csv.gz";
    s.resplit_test = 0.9f;
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 90);
    cr_assert_eq(te.x[0], 90.0f);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
    s.test_path = NULL;
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_ARG);
    ASSERT_MSG(err, "test_path");
}

Test(data, gz_damaged) {
    const char *dir = mktmp("damaged");
    unsigned char img[16 + 50 * 100], lab[8 + 50];
    size_t ni = make_idx_images(img, 0x00000803, 50, 10, 10), nl = make_idx_labels(lab, 50, -1);
    write_gz(at(dir, "i.gz"), img, ni);
    tu_write_file(at(dir, "l"), lab, nl);
    size_t gzsize;
    char *gz = tu_read_file(at(dir, "i.gz"), &gzsize);
    tu_write_file(at(dir, "cut.gz"), gz, gzsize / 2);
    free(gz);
    nn_dataset d;
    rt_err err = { 0 };
    cr_assert_eq(nn_idx_load(&d, at(dir, "cut.gz"), at(dir, "l"), &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "cut.gz");
    assert_empty(&d);
}

Test(data, csv_ragged_row) {
    const char *dir = mktmp("ragged");
    write_text(at(dir, "ragged.csv"), "a,b,y\n1,2,0\n3,4,1\n\n5,6\n");
    nn_dataset d;
    rt_err err = { 0 };
    cr_assert_eq(nn_csv_load(&d, at(dir, "ragged.csv"), NULL, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "ragged.csv:5: expected 3 fields, found 2");
    assert_empty(&d);
}

Test(data, csv_non_numeric_and_bad_label) {
    const char *dir = mktmp("nonnum");
    write_text(at(dir, "n.csv"), "a,b,y\n1,2,0\n1,abc,1\n");
    write_text(at(dir, "l.csv"), "a,b,y\n1,2,0.5\n");
    write_text(at(dir, "m.csv"), "a,b,y\n1,2,-1\n");
    write_text(at(dir, "e.csv"), "a,,y\n1,,0\n");
    write_text(at(dir, "h.csv"), "1,2,3\n4,5,6\n");
    write_text(at(dir, "z.csv"), "");
    nn_dataset d;
    rt_err err = { 0 };
    cr_assert_eq(nn_csv_load(&d, at(dir, "n.csv"), NULL, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "n.csv:3: column 'b': 'abc' is not a number");
    assert_empty(&d);
    rt_err_clear(&err);
    cr_assert_eq(nn_csv_load(&d, at(dir, "l.csv"), NULL, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "l.csv:2: label column 'y': '0.5'");
    rt_err_clear(&err);
    cr_assert_eq(nn_csv_load(&d, at(dir, "m.csv"), NULL, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "m.csv:2: label column 'y': '-1'");
    rt_err_clear(&err);
    cr_assert_eq(nn_csv_load(&d, at(dir, "e.csv"), NULL, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "e.csv:2: column '': '' is not a number");
    rt_err_clear(&err);
    cr_assert_eq(nn_csv_load(&d, at(dir, "h.csv"), NULL, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "header row");
    rt_err_clear(&err);
    cr_assert_eq(nn_csv_load(&d, at(dir, "z.csv"), NULL, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "z.csv: empty");
    rt_err_clear(&err);
    cr_assert_eq(nn_csv_load(&d, at(dir, "none.csv"), NULL, &err), RT_ERR_IO);
    ASSERT_MSG(err, "none.csv");
    assert_empty(&d);
}

// ---- the search and the spec ----

Test(data, missing_data_set_lists_paths) {
    const char *dir = mktmp("missing");
    char env[600];
    snprintf(env, sizeof env, "%s/vibdata", dir);
    setenv("VIB_DATA", env, 1);
    nn_data_spec s = nn_data_spec_default();
    s.name = "mnist";
    s.dir = at(dir, "nowhere");
    nn_dataset tr, te;
    rt_err err = { 0 };
    /* A dir the script names is the only place looked. */
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_IO);
    ASSERT_MSG(err, "mnist: data set not found");
    ASSERT_MSG(err, at(dir, "nowhere"));
    ASSERT_MSG(err, "the four official IDX files");
    ASSERT_MSG(err, "vibrun data get mnist");
    cr_expect_null(strstr(err.msg, "/usr/share/datasets/mnist"), "searched past the given dir: %s", err.msg);
    assert_empty(&tr);
    assert_empty(&te);
    /* Without one, the standard places in order. */
    s.dir = NULL;
    rt_err_clear(&err);
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_IO);
    ASSERT_MSG(err, at(env, "mnist"));
    ASSERT_MSG(err, "./data/mnist");
    ASSERT_MSG(err, "/usr/share/datasets/mnist");
    assert_empty(&tr);
    assert_empty(&te);

    s.name = "cifar10";
    rt_err_clear(&err);
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_IO);
    ASSERT_MSG(err, at(env, "cifar10"));
    ASSERT_MSG(err, "cifar-10-binary.tar.gz");
    ASSERT_MSG(err, "vibrun data get cifar10");

    /* fashion-mnist names its Debian package (checked only where it is not installed) */
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (f) {
        fclose(f);
        return;
    }
    s.name = "fashion-mnist";
    rt_err_clear(&err);
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_IO);
    ASSERT_MSG(err, "apt-get install dataset-fashion-mnist");
    ASSERT_MSG(err, "vibrun data get fashion-mnist");
}

Test(data, bad_spec) {
    nn_data_spec s = nn_data_spec_default();
    nn_dataset tr, te;
    rt_err err = { 0 };
    s.name = "imagenet";
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_ARG);
    ASSERT_MSG(err, "unknown data set 'imagenet'");
    s.name = "mnist";
    s.resplit_test = 1.5f;
    rt_err_clear(&err);
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_ARG);
    ASSERT_MSG(err, "resplit_test = 1.5");
    s = nn_data_spec_default();
    s.name = "csv";
    rt_err_clear(&err);
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_ARG);
    ASSERT_MSG(err, "csv: no path");
    assert_empty(&tr);
    assert_empty(&te);
}

// ---- scaling and gather ----

static nn_dataset make_set(int n, int dim, const float *x) {
    nn_dataset d;
    memset(&d, 0, sizeof d);
    d.n = n;
    d.dim = dim;
    d.ndim = 1;
    d.shape[0] = dim;
    d.shape[1] = d.shape[2] = 1;
    d.nclass = n;
    d.x = malloc((size_t)n * (size_t)dim * sizeof(float));
    d.y = malloc((size_t)n * sizeof(int32_t));
    memcpy(d.x, x, (size_t)n * (size_t)dim * sizeof(float));
    for (int i = 0; i < n; i++) d.y[i] = i;
    return d;
}

Test(data, scale_unit_pm1) {
    const float x[4] = { 0.0f, 51.0f, 127.5f, 255.0f };
    nn_dataset a = make_set(2, 2, x), b = make_set(2, 2, x);
    nn_data_scale(&a, NULL, NN_SCALE_UNIT);
    cr_assert_eq(a.x[0], 0.0f);
    cr_assert_float_eq(a.x[1], 0.2f, 1e-7f);
    cr_assert_eq(a.x[3], 1.0f);
    nn_data_scale(&b, NULL, NN_SCALE_PM1);
    cr_assert_eq(b.x[0], -1.0f);
    cr_assert_float_eq(b.x[2], 0.0f, 1e-7f);
    cr_assert_eq(b.x[3], 1.0f);
    nn_dataset_free(&a);
    nn_dataset_free(&b);
}

Test(data, scale_standardize_uses_train_stats) {
    /* feature 0: 1, 3 (mean 2, std 1); feature 1: constant 5 */
    const float xt[4] = { 1.0f, 5.0f, 3.0f, 5.0f }, xs[4] = { 4.0f, 5.0f, 0.0f, 9.0f };
    nn_dataset tr = make_set(2, 2, xt), te = make_set(2, 2, xs);
    nn_data_scale(&tr, &te, NN_SCALE_STANDARDIZE);
    cr_assert_eq(tr.x[0], -1.0f);
    cr_assert_eq(tr.x[2], 1.0f);
    cr_assert_eq(tr.x[1], 0.0f);
    cr_assert_eq(tr.x[3], 0.0f);
    cr_assert_eq(te.x[0], 2.0f);                        /* (4 - 2) / 1 with train's statistics */
    cr_assert_eq(te.x[2], -2.0f);
    cr_assert_eq(te.x[1], 0.0f);                        /* constant in train: 0, not a blow-up */
    cr_assert_eq(te.x[3], 0.0f);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

Test(data, gather_copies_rows) {
    const float x[6] = { 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f };
    nn_dataset d = make_set(3, 2, x);
    int32_t idx[4] = { 2, 0, 2, 1 }, y[4];
    float out[8];
    nn_data_gather(&d, idx, 4, out, y);
    const float want[8] = { 5.0f, 6.0f, 1.0f, 2.0f, 5.0f, 6.0f, 3.0f, 4.0f };
    for (int i = 0; i < 8; i++) cr_assert_eq(out[i], want[i]);
    cr_assert_eq(y[0], 2);
    cr_assert_eq(y[1], 0);
    cr_assert_eq(y[3], 1);
    out[0] = -1.0f;
    cr_assert_eq(d.x[4], 5.0f, "a copy, not a view");
    nn_dataset_free(&d);
}

// ---- per-channel normalization ----

/* n examples of shape (C, H, W) with the given values, labels 0. */
static nn_dataset make_images(int n, int C, int H, int W, const float *x) {
    nn_dataset d = make_set(n, C * H * W, x);
    d.ndim = 3;
    d.shape[0] = C, d.shape[1] = H, d.shape[2] = W;
    return d;
}

Test(data, scale_channel_uses_train_stats_per_channel) {
    /* 2 examples of (2, 1, 2): channel 0 holds 0, 2, 4, 6 (mean 3, population std sqrt 5), channel
    ** 1 the constant 7, which becomes 0 in both splits */
    const float xt[8] = { 0, 2, 7, 7, 4, 6, 7, 7 }, xs[4] = { 3, 8, 7, 1 };
    nn_dataset tr = make_images(2, 2, 1, 2, xt), te = make_images(1, 2, 1, 2, xs);
    double mean[NN_MAX_CHANNELS], sd[NN_MAX_CHANNELS];
    cr_assert_eq(nn_data_channel_stats(&tr, mean, sd), 2);
    cr_assert_eq(mean[0], 3.0);
    cr_assert_float_eq(sd[0], sqrt(5.0), 1e-12);
    cr_assert_eq(mean[1], 7.0);
    cr_assert_eq(sd[1], 0.0);
    nn_data_scale(&tr, &te, NN_SCALE_CHANNEL);
    const float want_tr[8] = { (float)(-3 / sqrt(5.0)), (float)(-1 / sqrt(5.0)), 0, 0,
                               (float)(1 / sqrt(5.0)), (float)(3 / sqrt(5.0)), 0, 0 };
    for (int i = 0; i < 8; i++) cr_assert_float_eq(tr.x[i], want_tr[i], 1e-6f, "train %d: %g", i, (double)tr.x[i]);
    cr_assert_float_eq(te.x[0], 0.0f, 1e-7f);           /* (3 - 3) / sqrt 5: train's statistics */
    cr_assert_float_eq(te.x[1], (float)(5 / sqrt(5.0)), 1e-6f);
    cr_assert_eq(te.x[2], 0.0f);
    cr_assert_eq(te.x[3], 0.0f);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
}

/* The statistics of the real CIFAR-10 sample's train split, computed by nn_data_channel_stats,
** equal a direct computation (one pass over the records as the file stores them, pixel p of a
** record in channel p / 1024); channel scaling makes each channel of train mean 0 and std 1, and
** applies train's statistics to test; channel_published is (bytes - 125.3) / 63.0 on red. */
Test(data, cifar_channel_stats_match_a_direct_computation) {
    char dir[512];
    if (!tu_shared("cifar-10-subset", dir, sizeof dir)) tu_skip("../shared/data/cifar-10-subset absent");
    nn_data_spec s = nn_data_spec_default();
    s.name = "cifar10";
    s.dir = dir;
    nn_dataset tr, te, ntr, nte, ptr, pte;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    double sum[3] = { 0 }, sum2[3] = { 0 }, cnt = (double)tr.n * 1024.0;
    for (size_t i = 0; i < (size_t)tr.n * 3072; i++) {
        size_t c = (i % 3072) / 1024;
        double v = (double)tr.x[i];
        sum[c] += v;
        sum2[c] += v * v;
    }
    double mean[NN_MAX_CHANNELS], sd[NN_MAX_CHANNELS];
    cr_assert_eq(nn_data_channel_stats(&tr, mean, sd), 3);
    for (int c = 0; c < 3; c++) {
        double m = sum[c] / cnt, v = sum2[c] / cnt - m * m;
        cr_expect_float_eq(mean[c], m, 1e-9, "channel %d mean %.6f vs %.6f", c, mean[c], m);
        cr_expect_float_eq(sd[c], sqrt(v), 1e-7, "channel %d std %.6f vs %.6f", c, sd[c], sqrt(v));
        /* the sample's 5,085 images come within 2 bytes of the published full-train values */
        double pm[3], ps[3];
        cr_assert(nn_data_published_channels("cifar10", pm, ps));
        cr_expect(fabs(mean[c] - 255.0 * pm[c]) < 2.0 && fabs(sd[c] - 255.0 * ps[c]) < 2.0,
                  "channel %d: sample %.2f / %.2f, published %.1f / %.1f", c, mean[c], sd[c], 255 * pm[c], 255 * ps[c]);
    }
    s.scale = NN_SCALE_CHANNEL;
    cr_assert_eq(nn_data_open(&s, &ntr, &nte, &err), RT_OK, "%s", err.msg);
    double m2[NN_MAX_CHANNELS], s2[NN_MAX_CHANNELS];
    nn_data_channel_stats(&ntr, m2, s2);
    for (int c = 0; c < 3; c++) {
        cr_expect(fabs(m2[c]) < 1e-5 && fabs(s2[c] - 1.0) < 1e-5, "channel %d: %g %g", c, m2[c], s2[c]);
        size_t at = (size_t)c * 1024 + 5;
        cr_expect_float_eq(nte.x[at], (float)(((double)te.x[at] - mean[c]) / sd[c]), 1e-5f);
    }
    s.scale = NN_SCALE_CHANNEL_PUBLISHED;
    cr_assert_eq(nn_data_open(&s, &ptr, &pte, &err), RT_OK, "%s", err.msg);
    cr_expect_float_eq(ptr.x[0], (float)((59.0 - 125.3) / 63.0), 1e-6f, "%g", (double)ptr.x[0]);
    cr_expect_float_eq(ptr.x[2048], (float)((63.0 - 113.9) / 66.7), 1e-6f, "%g", (double)ptr.x[2048]);
    cr_expect_float_eq(pte.x[0], (float)((158.0 - 125.3) / 63.0), 1e-6f);
    nn_dataset *all[6] = { &tr, &te, &ntr, &nte, &ptr, &pte };
    for (int i = 0; i < 6; i++) nn_dataset_free(all[i]);
}

Test(data, channel_published_is_refused_without_published_values) {
    nn_data_spec s = nn_data_spec_default();
    s.name = "fashion-mnist";
    s.scale = NN_SCALE_CHANNEL_PUBLISHED;
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_ARG);
    ASSERT_MSG(err, "fashion-mnist: scale = \"channel_published\": vibrun knows published per-channel "
               "statistics for cifar10 only");
    assert_empty(&tr);
    double m[3], sd[3];
    cr_assert(!nn_data_published_channels("mnist", m, sd));
}

// ---- augmentation ----

/* code of a crop with top-left corner (dy, dx) in the padded image, mirrored when flip */
static uint8_t aug_code(int dy, int dx, int flip) {
    return (uint8_t)((dy * (2 * NN_AUG_PAD + 1) + dx) * 2 + flip);
}

/* One (2, 5, 6) image, pixel (c, h, w) = 100 c + 10 h + w + 1 (none is 0, the padding's value),
** gathered under four codes; every expected pixel below is worked out by hand. */
Test(augment, crop_flip_of_a_known_image) {
    enum { C = 2, H = 5, W = 6, D = C * H * W };
    float x[D];
    for (int c = 0; c < C; c++)
        for (int h = 0; h < H; h++)
            for (int w = 0; w < W; w++) x[(c * H + h) * W + w] = (float)(100 * c + 10 * h + w + 1);
    nn_dataset d = make_images(1, C, H, W, x);
    d.y[0] = 7;
    int32_t idx[4] = { 0, 0, 0, 0 }, y[4];
    const uint8_t codes[4] = { aug_code(4, 4, 0), aug_code(4, 4, 1), aug_code(5, 2, 0), aug_code(3, 6, 1) };
    float out[4 * D];
    nn_data_gather_aug(&d, idx, codes, 4, out, y);
    for (int i = 0; i < 4; i++) cr_assert_eq(y[i], 7);
#define PX(k, c, h, w) out[(k) * D + ((c) * H + (h)) * W + (w)]
    /* (4, 4), no flip: the image itself */
    for (int i = 0; i < D; i++) cr_assert_eq(out[i], x[i], "identity crop, element %d", i);
    /* (4, 4), flipped: rows reversed left-right: row 0 of channel 0 is 6 5 4 3 2 1 */
    const float row0[W] = { 6, 5, 4, 3, 2, 1 };
    for (int w = 0; w < W; w++) cr_assert_eq(PX(1, 0, 0, w), row0[w]);
    cr_assert_eq(PX(1, 1, 4, 0), 146.0f);              /* channel 1, row 4, last column: 100+40+5+1 */
    /* (5, 2): the crop starts one row below and two columns left of the image: out(h, w) =
    ** x(h + 1, w - 2); row 0 of channel 0 is 0 0 11 12 13 14, the last row all padding */
    const float crop_row0[W] = { 0, 0, 11, 12, 13, 14 };
    for (int w = 0; w < W; w++) cr_assert_eq(PX(2, 0, 0, w), crop_row0[w], "w %d: %g", w, (double)PX(2, 0, 0, w));
    for (int w = 0; w < W; w++) cr_assert_eq(PX(2, 1, 4, w), 0.0f);
    cr_assert_eq(PX(2, 1, 3, 5), 144.0f);              /* x(1, 4, 3) = 100+40+3+1 */
    /* (3, 6) flipped: one row above, two columns right, then mirrored: out(h, w) = x(h - 1, 7 - w);
    ** row 0 is padding, row 1 of channel 0 is 0 0 6 5 4 3 */
    for (int w = 0; w < W; w++) cr_assert_eq(PX(3, 0, 0, w), 0.0f);
    const float flip_row1[W] = { 0, 0, 6, 5, 4, 3 };
    for (int w = 0; w < W; w++) cr_assert_eq(PX(3, 0, 1, w), flip_row1[w], "w %d: %g", w, (double)PX(3, 0, 1, w));
    cr_assert_eq(PX(3, 1, 2, 3), 115.0f);              /* x(1, 1, 4) = 100+10+4+1 */
#undef PX
    cr_assert_eq(d.x[0], 1.0f, "the data set itself is left as it was");
    /* no codes: a plain gather */
    nn_data_gather_aug(&d, idx, NULL, 1, out, NULL);
    for (int i = 0; i < D; i++) cr_assert_eq(out[i], x[i]);
    nn_dataset_free(&d);
}

/* The draws: the same stream gives the same codes; every corner and both flips occur, each about
** as often as it should (9 x 9 corners, 2 flips); none draws nothing. */
Test(augment, draws_are_reproducible_and_cover_every_crop) {
    enum { N = 162 * 400 };
    static uint8_t a[N], b[N];
    rt_rng r1, r2;
    rt_rng_stream(&r1, 5, 0, RT_STREAM_DATA);
    r2 = r1;
    nn_data_augment_draw(&r1, NN_AUG_CROP_FLIP, a, N);
    nn_data_augment_draw(&r2, NN_AUG_CROP_FLIP, b, N);
    cr_assert_eq(memcmp(a, b, N), 0);
    int count[NN_AUG_CODES] = { 0 }, flips = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_lt(a[i], NN_AUG_CODES);
        count[a[i]]++;
        flips += a[i] & 1;
    }
    for (int k = 0; k < NN_AUG_CODES; k++)                /* 400 expected, sd 20 */
        cr_expect(count[k] > 300 && count[k] < 500, "code %d drawn %d times", k, count[k]);
    cr_expect(abs(flips - N / 2) < 1000, "%d flips of %d", flips, N);
    rt_rng before = r1;
    nn_data_augment_draw(&r1, NN_AUG_NONE, a, N);
    cr_assert_eq(memcmp(&before, &r1, sizeof r1), 0, "augment none draws nothing");
    cr_assert_str_eq(nn_augment_name(NN_AUG_CROP_FLIP), "crop_flip");
}

Test(data, gather_out_of_range_aborts, .signal = SIGABRT) {
    const float x[2] = { 1.0f, 2.0f };
    nn_dataset d = make_set(1, 2, x);
    int32_t idx[1] = { 1 };
    float out[2];
    nn_data_gather(&d, idx, 1, out, NULL);
}

// ---- discrete: examples drawn from a joint p(x, y) ----

/* The four-input problem of test_ib_vib: p(x) uniform, p(y=1|x) = 0.1, 0.3, 0.7, 0.9 (unnormalised
** weights: nn_data normalises), plus a row of weight 0 that must never be drawn. */
static const char joint_text[] = "y0,y1\n0.9,0.1\n0.7,0.3\n0,0\n0.3,0.7\n0.1,0.9\n";

/* A discrete spec on dir/j.csv drawing n training and ntest test examples. */
static nn_data_spec discrete_spec(const char *dir, int n, int ntest) {
    nn_data_spec s = nn_data_spec_default();
    s.name = "discrete";
    s.dir = dir;
    s.path = "j.csv";
    s.samples = n;
    s.test_samples = ntest;
    return s;
}

Test(data, discrete_draws_follow_the_joint_one_hot_and_seeded) {
    const char *dir = mktmp("discrete");
    write_text(at(dir, "j.csv"), joint_text);
    nn_data_spec s = discrete_spec(dir, 100000, 1000);
    s.seed = 7;
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_expect(tr.n == 100000 && te.n == 1000 && tr.dim == 5 && tr.ndim == 1 && tr.nclass == 2 && te.dim == 5);
    double count[5][2] = { { 0 } };
    for (int i = 0; i < tr.n; i++) {
        int hot = -1, ones = 0;
        for (int j = 0; j < 5; j++)
            if (tr.x[(size_t)i * 5 + j] == 1.0f) hot = j, ones++;
            else cr_assert_eq(tr.x[(size_t)i * 5 + j], 0.0f);
        cr_assert_eq(ones, 1, "example %d is not one-hot", i);
        count[hot][tr.y[i]] += 1;
    }
    const double w[5][2] = { { 0.9, 0.1 }, { 0.7, 0.3 }, { 0, 0 }, { 0.3, 0.7 }, { 0.1, 0.9 } };
    for (int x = 0; x < 5; x++)
        for (int y = 0; y < 2; y++) {
            double p = w[x][y] / 4.0, sd = sqrt(p * (1 - p) / tr.n);
            cr_expect(fabs(count[x][y] / tr.n - p) <= 5 * sd + 1e-12, "p(x=%d, y=%d): drawn %g, joint %g", x, y,
                      count[x][y] / tr.n, p);
        }
    /* same seed: the same bytes; another seed: other draws */
    nn_dataset tr2, te2;
    cr_assert_eq(nn_data_open(&s, &tr2, &te2, &err), RT_OK, "%s", err.msg);
    cr_expect(memcmp(tr.x, tr2.x, (size_t)tr.n * 5 * sizeof(float)) == 0 && memcmp(te.y, te2.y, 1000 * sizeof(int32_t)) == 0);
    nn_dataset_free(&tr2), nn_dataset_free(&te2);
    s.seed = 8;
    cr_assert_eq(nn_data_open(&s, &tr2, &te2, &err), RT_OK, "%s", err.msg);
    cr_expect(memcmp(tr.y, tr2.y, (size_t)tr.n * sizeof(int32_t)) != 0);
    nn_dataset_free(&tr2), nn_dataset_free(&te2);
    nn_dataset_free(&tr), nn_dataset_free(&te);
}

Test(data, discrete_bad_joint_or_options_name_the_file_and_what_to_do) {
    const char *dir = mktmp("discrete_bad");
    nn_data_spec s = discrete_spec(dir, 10, 10);
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_expect_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_IO);
    cr_expect(strstr(err.msg, "j.csv") != NULL, "%s", err.msg);
    write_text(at(dir, "j.csv"), "0.5,0.1\n0.2,x\n");
    err = (rt_err){ 0 };
    cr_expect_neq(nn_data_open(&s, &tr, &te, &err), RT_OK);
    cr_expect(strstr(err.msg, "j.csv:2: field 2 'x' is not a number") != NULL, "%s", err.msg);
    write_text(at(dir, "j.csv"), "0.5,-0.1\n0.2,0.4\n");
    err = (rt_err){ 0 };
    cr_expect_neq(nn_data_open(&s, &tr, &te, &err), RT_OK);
    cr_expect(strstr(err.msg, "j.csv: p(x=1, y=2) = -0.1; probabilities must be finite and >= 0") != NULL, "%s", err.msg);
    write_text(at(dir, "j.csv"), "0,0\n0,0\n");
    err = (rt_err){ 0 };
    cr_expect_neq(nn_data_open(&s, &tr, &te, &err), RT_OK);
    cr_expect(strstr(err.msg, "every p(x, y) is 0") != NULL, "%s", err.msg);
    write_text(at(dir, "j.csv"), joint_text);
    s.test_samples = 0;
    err = (rt_err){ 0 };
    cr_expect_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "test_n = 0") != NULL, "%s", err.msg);
    s.test_samples = 10;
    s.scale = NN_SCALE_PM1;
    err = (rt_err){ 0 };
    cr_expect_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_ARG);
    cr_expect(strstr(err.msg, "one-hot") != NULL, "%s", err.msg);
    assert_empty(&tr);
    assert_empty(&te);
}
