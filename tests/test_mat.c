/*
** test_mat.c: the MATLAB level-5 reader (nn_mat.h). The authors' var_u.mat against its CSV twin
** (skipped when ../shared is absent); files written here, element by element, in both byte orders,
** compressed or not, in every numeric storage type, round-trip; every truncation and every
** single-byte corruption of them is an error or a clean read, never a crash (run under ASan); each
** unsupported kind is refused with the file, the variable and the byte offset.
*/
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nn_data.h"
#include "nn_mat.h"
#include "testutil.h"

#define ASSERT_MSG(e, sub) \
    cr_assert(strstr((e).msg, (sub)) != NULL, "message \"%s\" lacks \"%s\"", (e).msg, (sub))

enum { INT8 = 1, UINT8, INT16, UINT16, INT32, UINT32, SINGLE, DOUBLE = 9, INT64 = 12, UINT64, MATRIX,
       COMPRESSED };
enum { C_CELL = 1, C_STRUCT, C_CHAR = 4, C_SPARSE, C_DOUBLE, C_SINGLE, C_INT8, C_UINT8, C_INT16, C_UINT16,
       C_INT32, C_UINT32, C_INT64, C_UINT64 };

// ---- a small MAT-file writer (the format as documented by MathWorks) ----

typedef struct wbuf {
    unsigned char *p;
    size_t n, cap;
    bool big;
} wbuf;

static void put(wbuf *w, const void *data, size_t k) {
    if (w->n + k > w->cap) {
        w->cap = (w->n + k) * 2 + 64;
        w->p = realloc(w->p, w->cap);
        cr_assert_not_null(w->p);
    }
    memcpy(w->p + w->n, data, k);
    w->n += k;
}

/* v as k bytes in the file's byte order. */
static void put_uint(wbuf *w, uint64_t v, int k) {
    unsigned char b[8];
    for (int i = 0; i < k; i++) b[w->big ? k - 1 - i : i] = (unsigned char)(v >> (8 * i));
    put(w, b, (size_t)k);
}

static void pad8(wbuf *w) {
    static const unsigned char z[8];
    put(w, z, (8 - w->n % 8) % 8);
}

static int tsize(uint32_t t) {
    return t == INT8 || t == UINT8 ? 1 : t == INT16 || t == UINT16 ? 2 : t == INT32 || t == UINT32 || t == SINGLE ? 4 : 8;
}

/* One value in storage type t. */
static void put_value(wbuf *w, uint32_t t, double v) {
    if (t == SINGLE) {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_uint(w, u, 4);
    } else if (t == DOUBLE) {
        uint64_t u;
        memcpy(&u, &v, 8);
        put_uint(w, u, 8);
    } else if (t == UINT64) {
        put_uint(w, (uint64_t)v, 8);
    } else {
        put_uint(w, (uint64_t)(int64_t)v, tsize(t));        /* two's complement, truncated to the size */
    }
}

/* An element of n values of type t; the small format when small and it fits in 4 bytes. */
static void put_elem(wbuf *w, uint32_t t, const double *v, int n, bool small) {
    size_t len = (size_t)n * (size_t)tsize(t);
    if (small && len <= 4) {
        put_uint(w, (uint64_t)len << 16 | t, 4);
        size_t at = w->n;
        for (int i = 0; i < n; i++) put_value(w, t, v[i]);
        static const unsigned char z[4];
        put(w, z, 4 - (w->n - at));
        return;
    }
    put_uint(w, t, 4);
    put_uint(w, len, 4);
    for (int i = 0; i < n; i++) put_value(w, t, v[i]);
    pad8(w);
}

typedef struct var_spec {
    const char *name;
    uint32_t cls, flags;                /* flags: 0x200 logical, 0x800 complex (ORed into the word) */
    int ndims, dims[4];
    uint32_t stype;                     /* storage type of the real part */
    const double *vals;
    bool small;                         /* small-element format where it fits */
} var_spec;

/* An miMATRIX element for v. */
static void put_matrix(wbuf *w, const var_spec *v) {
    wbuf body = { NULL, 0, 0, w->big };
    double flags[2] = { (double)(v->cls | v->flags), 0 };
    put_elem(&body, UINT32, flags, 2, false);
    double dims[4];
    int numel = 1;
    for (int i = 0; i < v->ndims; i++) dims[i] = v->dims[i], numel *= v->dims[i];
    put_elem(&body, INT32, dims, v->ndims, false);
    double name[64];
    int nl = (int)strlen(v->name);
    for (int i = 0; i < nl; i++) name[i] = (double)(unsigned char)v->name[i];
    put_elem(&body, INT8, name, nl, v->small);
    put_elem(&body, v->stype, v->vals, numel, v->small);
    if (v->flags & 0x800) put_elem(&body, v->stype, v->vals, numel, v->small);
    put_uint(w, MATRIX, 4);
    put_uint(w, body.n, 4);
    put(w, body.p, body.n);
    free(body.p);
}

static void put_header(wbuf *w) {
    char text[116];
    memset(text, ' ', sizeof text);
    memcpy(text, "MATLAB 5.0 MAT-file, written by test_mat.c", 42);
    put(w, text, sizeof text);
    static const unsigned char zero[8];
    put(w, zero, 8);
    put_uint(w, 0x0100, 2);
    put(w, w->big ? "MI" : "IM", 2);
}

/* A MAT-file of vars[0..n) into path; returns its size. The offsets of each variable's element
** go into offs (may be NULL). */
static size_t write_mat(const char *path, const var_spec *vars, int n, bool big, bool compress, size_t *offs) {
    wbuf w = { NULL, 0, 0, big };
    put_header(&w);
    for (int i = 0; i < n; i++) {
        if (offs) offs[i] = w.n;
        if (!compress) {
            put_matrix(&w, &vars[i]);
            continue;
        }
        wbuf m = { NULL, 0, 0, big };
        put_matrix(&m, &vars[i]);
        uLongf zn = compressBound(m.n);
        unsigned char *z = malloc(zn);
        cr_assert_eq(compress2(z, &zn, m.p, m.n, 6), Z_OK);
        put_uint(&w, COMPRESSED, 4);
        put_uint(&w, zn, 4);
        put(&w, z, zn);
        free(z);
        free(m.p);
    }
    tu_write_file(path, w.p, w.n);
    free(w.p);
    return w.n;
}

static const char *tmp_path(const char *tag, const char *name) {
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tu_tmpdir(tag), name);
    return buf[k];
}

// ---- the authors' file ----

Test(mat, var_u_matches_its_csv) {
    char mat[512], csv[512];
    if (!tu_shared("tishby-12bit/var_u.mat", mat, sizeof mat)) tu_skip("../shared/data/tishby-12bit absent");
    cr_assert_not_null(tu_shared("tishby-12bit/var_u.csv", csv, sizeof csv));
    nn_mat_var vars[4];
    int n = 0;
    rt_err err = { 0 };
    cr_assert_eq(nn_mat_list(mat, vars, 4, &n, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(vars[0].name, "F");
    cr_assert_eq(vars[0].cls, NN_MAT_LOGICAL);
    cr_assert_eq(vars[0].dims[0], 4096);
    cr_assert_eq(vars[0].dims[1], 12);
    cr_assert_str_eq(vars[1].name, "y");
    cr_assert_eq(vars[1].cls, NN_MAT_DOUBLE);
    cr_assert_eq(vars[1].dims[0], 1);
    cr_assert_eq(vars[1].dims[1], 4096);
    cr_assert_null(vars[0].data);

    nn_mat_var f, y;
    cr_assert_eq(nn_mat_read(mat, "F", &f, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nn_mat_read(mat, "y", &y, &err), RT_OK, "%s", err.msg);
    nn_dataset d;
    cr_assert_eq(nn_csv_load(&d, csv, "y", &err), RT_OK, "%s", err.msg);
    cr_assert_eq(d.n, 4096);
    cr_assert_eq(d.dim, 12);
    for (int i = 0; i < 4096; i++) {
        cr_assert_eq(y.data[i], (double)d.y[i], "y(%d)", i + 1);
        for (int j = 0; j < 12; j++)
            cr_assert_eq(f.data[j * 4096 + i], (double)d.x[i * 12 + j], "F(%d,%d)", i + 1, j + 1);
    }
    /* and through the tishby loader, which transposes MATLAB's column-major order */
    nn_dataset m;
    cr_assert_eq(nn_tishby_load(&m, mat, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(m.n, 4096);
    cr_assert_eq(m.dim, 12);
    cr_assert_eq(m.nclass, 2);
    cr_assert_eq(memcmp(m.x, d.x, 4096 * 12 * sizeof(float)), 0);
    cr_assert_eq(memcmp(m.y, d.y, 4096 * sizeof(int32_t)), 0);
    nn_dataset_free(&m);
    nn_dataset_free(&d);
    nn_mat_free(&f);
    nn_mat_free(&y);
}

// ---- round trips ----

static const double v_small[6] = { 0, 1, 2, 3, 250, 7 };
static const double v_signed[6] = { -3, 0, 1, -32768, 32767, 12 };
static const double v_real[6] = { 0.5, -1.25, 3.0e10, 1e-300, -0.0, 42.0 };
static const double v_single[6] = { 0.5, -1.25, 3.0e10, 1.5e-30, -2.0, 42.0 };
static const double v_big[6] = { 0, 1, -9007199254740992.0, 9007199254740992.0, -1, 123456789012.0 };
static const double v_mask[6] = { 1, 0, 0, 1, 1, 0 };
static const double v_i8[6] = { -128, 127, 0, -1, 5, 6 };
static const double v_one[1] = { -7 };
static const double v_txt[3] = { 'a', 'b', 'c' };

/* A set of variables covering the classes and storage types. */
static void sample_vars(var_spec *v, int *n) {
    int k = 0;
    v[k++] = (var_spec){ "dbl", C_DOUBLE, 0, 2, { 2, 3 }, DOUBLE, v_real, false };
    v[k++] = (var_spec){ "yy", C_DOUBLE, 0, 2, { 1, 6 }, UINT8, v_small, true };       /* as MATLAB packs y */
    v[k++] = (var_spec){ "u8", C_UINT8, 0, 2, { 3, 2 }, UINT8, v_small, false };
    v[k++] = (var_spec){ "mask", C_UINT8, 0x200, 2, { 6, 1 }, UINT8, v_mask, true };
    v[k++] = (var_spec){ "s16", C_INT16, 0, 2, { 2, 3 }, INT16, v_signed, false };
    v[k++] = (var_spec){ "i32", C_INT32, 0, 3, { 1, 2, 3 }, INT32, v_signed, true };
    v[k++] = (var_spec){ "u16", C_UINT16, 0, 2, { 2, 3 }, UINT16, v_small, false };
    v[k++] = (var_spec){ "u32", C_UINT32, 0, 2, { 2, 3 }, UINT32, v_small, false };
    v[k++] = (var_spec){ "i8", C_INT8, 0, 2, { 2, 3 }, INT8, v_i8, false };
    v[k++] = (var_spec){ "sgl", C_SINGLE, 0, 2, { 6, 1 }, SINGLE, v_single, false };
    v[k++] = (var_spec){ "i64", C_INT64, 0, 2, { 2, 3 }, INT64, v_big, false };
    v[k++] = (var_spec){ "u64", C_UINT64, 0, 2, { 3, 2 }, UINT64, v_small, false };
    v[k++] = (var_spec){ "one", C_DOUBLE, 0, 2, { 1, 1 }, INT8, v_one, true };  /* small data */
    v[k++] = (var_spec){ "empty", C_DOUBLE, 0, 2, { 0, 3 }, DOUBLE, v_real, false };
    *n = k;
}

static void check_roundtrip(bool big, bool compress) {
    var_spec v[16];
    int n;
    sample_vars(v, &n);
    const char *path = tmp_path(big ? (compress ? "rt-bz" : "rt-b") : (compress ? "rt-lz" : "rt-l"), "s.mat");
    write_mat(path, v, n, big, compress, NULL);
    rt_err err = { 0 };
    nn_mat_var list[16];
    int nl = 0;
    cr_assert_eq(nn_mat_list(path, list, 16, &nl, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nl, n);
    for (int i = 0; i < n; i++) {
        nn_mat_var r;
        cr_assert_eq(nn_mat_read(path, v[i].name, &r, &err), RT_OK, "%s: %s", v[i].name, err.msg);
        cr_assert_str_eq(r.name, v[i].name);
        cr_assert_str_eq(list[i].name, v[i].name);
        nn_mat_class want = v[i].flags & 0x200 ? NN_MAT_LOGICAL : (nn_mat_class)v[i].cls;
        cr_assert_eq(r.cls, want, "%s: class %s", v[i].name, nn_mat_class_name(r.cls));
        cr_assert_eq(r.ndims, v[i].ndims);
        int64_t numel = 1;
        for (int d = 0; d < v[i].ndims; d++) {
            cr_assert_eq(r.dims[d], v[i].dims[d]);
            numel *= v[i].dims[d];
        }
        cr_assert_eq(r.numel, numel);
        for (int64_t j = 0; j < numel; j++) {
            double want_v = v[i].stype == SINGLE ? (double)(float)v[i].vals[j] : v[i].vals[j];
            cr_assert_eq(r.data[j], want_v, "%s[%lld] = %.17g, wrote %.17g (%s, %s)", v[i].name, (long long)j,
                         r.data[j], want_v, big ? "big-endian" : "little-endian", compress ? "compressed" : "plain");
        }
        nn_mat_free(&r);
    }
}

Test(mat, roundtrip_little_endian) { check_roundtrip(false, false); }
Test(mat, roundtrip_little_endian_compressed) { check_roundtrip(false, true); }
Test(mat, roundtrip_big_endian) { check_roundtrip(true, false); }
Test(mat, roundtrip_big_endian_compressed) { check_roundtrip(true, true); }

Test(mat, missing_variable_lists_the_others) {
    var_spec v[16];
    int n;
    sample_vars(v, &n);
    const char *path = tmp_path("missing", "s.mat");
    write_mat(path, v, 3, false, true, NULL);
    nn_mat_var r;
    rt_err err = { 0 };
    cr_assert_eq(nn_mat_read(path, "nope", &r, &err), RT_ERR_ARG);
    ASSERT_MSG(err, path);
    ASSERT_MSG(err, "no variable 'nope'");
    ASSERT_MSG(err, "dbl (2x3 double), yy (1x6 double), u8 (3x2 uint8)");
    cr_assert_null(r.data);
}

// ---- truncated and corrupt files ----

/* Reads `name` from every proper prefix of the file at path: each must fail with a message naming
** the file (a prefix can end between variables, so the last variable is asked for). */
static void check_truncations(const char *path, size_t size, const char *name) {
    size_t n;
    char *full = tu_read_file(path, &n);
    cr_assert_eq(n, size);
    char cut[1100];
    snprintf(cut, sizeof cut, "%s.cut", path);
    for (size_t k = 0; k < size; k++) {
        tu_write_file(cut, full, k);
        nn_mat_var r;
        rt_err err = { 0 };
        rt_status st = nn_mat_read(cut, name, &r, &err);
        cr_assert_neq(st, RT_OK, "a %zu-byte prefix of %zu read fine", k, size);
        ASSERT_MSG(err, cut);
        cr_assert_null(r.data);
    }
    free(full);
}

Test(mat, every_truncation_is_an_error) {
    var_spec v[16];
    int n;
    sample_vars(v, &n);
    const char *p = tmp_path("trunc", "plain.mat");
    check_truncations(p, write_mat(p, v, 4, false, false, NULL), "mask");
    const char *q = tmp_path("truncz", "z.mat");
    check_truncations(q, write_mat(q, v, 4, true, true, NULL), "mask");
}

Test(mat, truncation_messages_name_variable_and_offset) {
    var_spec v[16];
    int n;
    sample_vars(v, &n);
    const char *p = tmp_path("trmsg", "plain.mat");
    size_t offs[2];
    size_t size = write_mat(p, v, 2, false, false, offs);
    size_t len;
    char *full = tu_read_file(p, &len);
    tu_write_file(p, full, size - 8);                   /* cuts into yy's data */
    free(full);
    nn_mat_var r;
    rt_err err = { 0 };
    cr_assert_eq(nn_mat_read(p, "yy", &r, &err), RT_ERR_FORMAT);
    char at[64];
    snprintf(at, sizeof at, "byte %zu", offs[1]);
    ASSERT_MSG(err, at);
    ASSERT_MSG(err, "truncated");
    /* a header alone, and less */
    tu_write_file(p, "MATLAB 5.0", 10);
    rt_err_clear(&err);
    cr_assert_eq(nn_mat_read(p, "x", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "too short for a MAT-file");
}

/* Every single-byte corruption (x ^ 0xff, and x ^ 0x01) of the file: a clean read or an error,
** never a crash or an out-of-bounds access (the ASan build checks the latter). */
static void check_corruptions(const char *path, size_t size, const char *name) {
    size_t n;
    unsigned char *full = (unsigned char *)tu_read_file(path, &n);
    char bad[1100];
    snprintf(bad, sizeof bad, "%s.bad", path);
    int errors = 0;
    for (size_t k = 0; k < size; k++) {
        for (int m = 0; m < 2; m++) {
            unsigned char mask = m ? 0x01 : 0xff;
            full[k] ^= mask;
            tu_write_file(bad, full, size);
            full[k] ^= mask;
            nn_mat_var r;
            rt_err err = { 0 };
            if (nn_mat_read(bad, name, &r, &err) != RT_OK) {
                errors++;
                cr_assert(strstr(err.msg, bad) != NULL, "%s", err.msg);
                cr_assert_null(r.data);
            }
            nn_mat_free(&r);
        }
    }
    cr_assert_gt(errors, 0);
    free(full);
}

Test(mat, corruptions_never_crash) {
    var_spec v[16];
    int n;
    sample_vars(v, &n);
    const char *p = tmp_path("corrupt", "plain.mat");
    check_corruptions(p, write_mat(p, v + 2, 3, false, false, NULL), "s16");
    const char *q = tmp_path("corruptz", "z.mat");
    check_corruptions(q, write_mat(q, v + 2, 3, true, true, NULL), "s16");
}

/* Writes a one-variable file, patches the 4-byte word at byte `at` (in the file's order) to value. */
static const char *patched(const char *tag, var_spec v, size_t at, uint32_t value) {
    const char *p = tmp_path(tag, "p.mat");
    write_mat(p, &v, 1, false, false, NULL);
    size_t n;
    unsigned char *b = (unsigned char *)tu_read_file(p, &n);
    cr_assert_lt(at + 4, n + 1);
    for (int i = 0; i < 4; i++) b[at + (size_t)i] = (unsigned char)(value >> (8 * i));
    tu_write_file(p, b, n);
    free(b);
    return p;
}

Test(mat, corrupt_fields_are_named) {
    var_spec v = { "A", C_DOUBLE, 0, 2, { 2, 3 }, DOUBLE, v_real, false };
    nn_mat_var r;
    rt_err err = { 0 };
    /* layout: header 128, matrix tag 128..136, flags tag 136, flags 144, dims tag 152, dims 160 */
    const char *p = patched("neg", v, 160, 0xffffffffu);
    cr_assert_eq(nn_mat_read(p, "A", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "dimension 1 is -1");
    ASSERT_MSG(err, "byte 160");
    rt_err_clear(&err);
    p = patched("cls", v, 144, 77);
    cr_assert_eq(nn_mat_read(p, "A", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "unknown array class 77");
    rt_err_clear(&err);
    p = patched("flagtype", v, 136, INT32);
    cr_assert_eq(nn_mat_read(p, "A", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "array flags");
    ASSERT_MSG(err, "byte 136");
    rt_err_clear(&err);
    p = patched("top", v, 128, 3);
    cr_assert_eq(nn_mat_read(p, "A", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "top-level element of type miINT16");
    rt_err_clear(&err);
    p = patched("small", v, 128, 7u << 16 | 2);
    cr_assert_eq(nn_mat_read(p, "A", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "small data element of 7 bytes");
    /* the real part's byte count disagrees with the dimensions: dims 2x3 -> 2x4 */
    rt_err_clear(&err);
    p = patched("count", v, 164, 4);
    cr_assert_eq(nn_mat_read(p, "A", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "variable 'A'");
    ASSERT_MSG(err, "8 elements of 8 bytes need 64");
    /* header: endian indicator, version, v7.3 */
    rt_err_clear(&err);
    p = patched("endian", v, 124, 0x58580100u);
    cr_assert_eq(nn_mat_read(p, "A", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "not a level-5 MAT-file");
    rt_err_clear(&err);
    p = patched("version", v, 124, 0x4d490200u);
    cr_assert_eq(nn_mat_read(p, "A", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "version 0x0200");
    rt_err_clear(&err);
    p = patched("v73", v, 0, 0x4c54414du);              /* "MATL" stays; patch 6..9 below */
    size_t n;
    char *b = tu_read_file(p, &n);
    memcpy(b + 7, "7.3", 3);
    tu_write_file(p, b, n);
    free(b);
    cr_assert_eq(nn_mat_read(p, "A", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "v7.3 (HDF5)");
}

Test(mat, damaged_zlib_stream) {
    var_spec v = { "A", C_DOUBLE, 0, 2, { 2, 3 }, DOUBLE, v_real, false };
    const char *p = tmp_path("zlib", "z.mat");
    size_t size = write_mat(p, &v, 1, false, true, NULL);
    size_t n;
    unsigned char *b = (unsigned char *)tu_read_file(p, &n);
    cr_assert_eq(n, size);
    b[136] ^= 0xff;                                     /* the zlib header */
    tu_write_file(p, b, n);
    free(b);
    nn_mat_var r;
    rt_err err = { 0 };
    cr_assert_eq(nn_mat_read(p, "A", &r, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, "zlib cannot inflate it");
    ASSERT_MSG(err, "byte 128");
}

// ---- unsupported kinds ----

Test(mat, unsupported_kinds_are_refused_by_name) {
    var_spec v[] = {
        { "z", C_DOUBLE, 0x800, 2, { 1, 2 }, DOUBLE, v_real, false },
        { "s", C_SPARSE, 0, 2, { 2, 2 }, DOUBLE, v_real, false },
        { "c", C_CELL, 0, 2, { 1, 1 }, DOUBLE, v_real, false },
        { "st", C_STRUCT, 0, 2, { 1, 1 }, DOUBLE, v_real, false },
        { "txt", C_CHAR, 0, 2, { 1, 3 }, UINT16, v_txt, false },
        { "ok", C_DOUBLE, 0, 2, { 1, 2 }, DOUBLE, v_real, false },
    };
    const char *what[] = { "a complex double array", "a sparse array", "a cell array", "a struct array",
                           "a char array" };
    for (int compress = 0; compress < 2; compress++) {
        const char *p = tmp_path(compress ? "unsupz" : "unsup", "u.mat");
        size_t offs[6];
        write_mat(p, v, 6, false, compress, offs);
        for (int i = 0; i < 5; i++) {
            nn_mat_var r;
            rt_err err = { 0 };
            cr_assert_eq(nn_mat_read(p, v[i].name, &r, &err), RT_ERR_FORMAT);
            char var[32], at[64];
            snprintf(var, sizeof var, "variable '%s'", v[i].name);
            ASSERT_MSG(err, p);
            ASSERT_MSG(err, var);
            ASSERT_MSG(err, what[i]);
            snprintf(at, sizeof at, compress ? "decompressed from file byte %zu" : "byte %zu", offs[i] + (compress ? 0 : 8));
            ASSERT_MSG(err, at);
        }
        /* the unsupported ones before it do not stop a supported variable from being read */
        nn_mat_var r;
        rt_err err = { 0 };
        cr_assert_eq(nn_mat_read(p, "ok", &r, &err), RT_OK, "%s", err.msg);
        cr_assert_eq(r.data[1], v_real[1]);
        nn_mat_free(&r);
    }
}

Test(mat, missing_file_is_an_io_error) {
    nn_mat_var r;
    rt_err err = { 0 };
    cr_assert_eq(nn_mat_read("no/such/file.mat", "F", &r, &err), RT_ERR_IO);
    ASSERT_MSG(err, "cannot open no/such/file.mat");
}
