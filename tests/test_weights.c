// test_weights.c: safetensors and .npz (nn_weights.h) byte by byte against the published formats on
// hand-made cases, round trips, every truncation and damage failing cleanly; the model's names and
// vib.load's checks; `vibrun export` and vib.load end to end (same outputs to the bit), and the files
// read by NumPy (tests/tools/check_weights.py).
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nn_weights.h"
#include "rt_ckpt.h"
#include "testutil.h"

// ---- helpers ----

static void encode(const nn_weights *w, nn_wformat f, rt_buf *b) {
    b->n = 0;
    nn_weights_encode(w, f, b);
}

/* The hand-made case: one tensor "a" = [1, -2] (2,), metadata k = v. */
static void sample_small(nn_weights *w, bool meta) {
    nn_weights_init(w);
    nn_weights_add(w, "a", 1, (int64_t[]){ 2 }, (float[]){ 1.0f, -2.0f });
    if (meta) nn_weights_meta(w, "k", "v");
}

/* A few typical tensors: 2-D, 1-D, 4-D, names with dots, metadata with quotes and a newline. */
static void sample_model(nn_weights *w) {
    nn_weights_init(w);
    float v[2 * 3 * 2 * 2];
    for (int i = 0; i < 24; i++) v[i] = 0.25f * (float)i - 1.5f;
    nn_weights_add(w, "h1.weight", 2, (int64_t[]){ 3, 4 }, v);
    nn_weights_add(w, "h1.bias", 1, (int64_t[]){ 3 }, v + 4);
    nn_weights_add(w, "conv.weight", 4, (int64_t[]){ 2, 3, 2, 2 }, v);
    nn_weights_add(w, "z.mu.weight", 2, (int64_t[]){ 1, 1 }, (float[]){ -0.0f });
    nn_weights_meta(w, "config", "return vib.point { script = \"x.lua\",\n  params = { } }");
    nn_weights_meta(w, "vibrun", "0.1.0");
}

static void expect_same(const nn_weights *a, const nn_weights *b) {
    cr_assert_eq(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        const nn_wtensor *x = &a->t[i], *y = nn_weights_find(b, x->name);
        cr_assert_not_null(y, "%s missing", x->name);
        cr_assert_eq(x->ndim, y->ndim);
        for (int d = 0; d < x->ndim; d++) cr_assert_eq(x->shape[d], y->shape[d]);
        cr_assert_eq(memcmp(x->data, y->data, (size_t)x->n * sizeof(float)), 0, "%s values differ", x->name);
    }
}

static void put_u16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }

/* Decoding buf must fail with a message that names the file and holds `want`. */
static void expect_bad(const void *buf, size_t n, const char *want) {
    nn_weights w;
    rt_err err = { 0 };
    rt_status st = nn_weights_decode(buf, n, "bad.file", &w, &err);
    cr_assert_neq(st, RT_OK, "decoded a damaged file (expected: %s)", want);
    cr_expect(strncmp(err.msg, "bad.file: ", 10) == 0, "message does not name the file: %s", err.msg);
    cr_expect(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
    cr_assert_eq(w.n, 0);
}

// ---- the published layouts, byte by byte ----

// safetensors (huggingface.co/docs/safetensors, "Format"): u64 LE header size N; N bytes of JSON,
// padded with spaces (the reference writer aligns the data to 8 bytes); data, little-endian.
Test(weights, safetensors_bytes) {
    nn_weights w;
    sample_small(&w, true);
    rt_buf b = { 0 };
    encode(&w, NN_WFMT_SAFETENSORS, &b);
    static const char json[] = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                               "\"data_offsets\":[0,8]}} ";     /* 79 bytes + 1 space = 80 */
    unsigned char want[8 + 80 + 8] = { 80, 0, 0, 0, 0, 0, 0, 0 };
    memcpy(want + 8, json, 80);
    const unsigned char data[8] = { 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0 };     /* 1.0f, -2.0f */
    memcpy(want + 88, data, 8);
    cr_assert_eq(b.n, sizeof want);
    cr_assert_eq(memcmp(b.s, want, sizeof want), 0);
    /* without metadata the key is left out */
    nn_weights_free(&w);
    sample_small(&w, false);
    encode(&w, NN_WFMT_SAFETENSORS, &b);
    static const char json2[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ";
    cr_assert_eq(b.n, 8 + 56 + 8);
    cr_assert_eq((unsigned char)b.s[0], 56);
    cr_assert_eq(memcmp(b.s + 8, json2, 56), 0);
    rt_buf_free(&b);
    nn_weights_free(&w);
}

// .npz: a zip (PKWARE APPNOTE 4.3.7 local header, 4.3.12 central directory, 4.3.16 end record) of
// a.npy, an .npy v1.0 file (numpy.lib.format: magic, 1.0, u16 header length, the dict padded to 64).
Test(weights, npz_bytes) {
    nn_weights w;
    sample_small(&w, false);
    rt_buf b = { 0 };
    encode(&w, NN_WFMT_NPZ, &b);
    unsigned char npy[136];
    memcpy(npy, "\x93NUMPY\x01\x00", 8);
    put_u16(npy + 8, 118);
    memset(npy + 10, ' ', 118);
    memcpy(npy + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 57);
    npy[127] = '\n';
    memcpy(npy + 128, "\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);
    const uint32_t crc = 0x0a1349bau;   /* zlib.crc32 of those 136 bytes, computed apart */
    cr_assert_eq(crc32(0L, npy, sizeof npy), crc);
    unsigned char want[30 + 5 + 136 + 46 + 5 + 22];
    memset(want, 0, sizeof want);
    unsigned char *p = want;
    put_u32(p, 0x04034b50u); put_u16(p + 4, 20); put_u16(p + 6, 0); put_u16(p + 8, 0);
    put_u16(p + 10, 0); put_u16(p + 12, 0x21); put_u32(p + 14, crc); put_u32(p + 18, 136); put_u32(p + 22, 136);
    put_u16(p + 26, 5); put_u16(p + 28, 0);
    memcpy(p + 30, "a.npy", 5);
    memcpy(p + 35, npy, 136);
    p += 171;
    put_u32(p, 0x02014b50u); put_u16(p + 4, 20); put_u16(p + 6, 20); put_u16(p + 8, 0); put_u16(p + 10, 0);
    put_u16(p + 12, 0); put_u16(p + 14, 0x21); put_u32(p + 16, crc); put_u32(p + 20, 136); put_u32(p + 24, 136);
    put_u16(p + 28, 5);                 /* extra, comment, disk, attributes: 0 */
    put_u32(p + 42, 0);                 /* the local header's offset */
    memcpy(p + 46, "a.npy", 5);
    p += 51;
    put_u32(p, 0x06054b50u); put_u16(p + 8, 1); put_u16(p + 10, 1); put_u32(p + 12, 51); put_u32(p + 16, 171);
    cr_assert_eq(b.n, sizeof want);
    for (size_t i = 0; i < sizeof want; i++) cr_assert_eq((unsigned char)b.s[i], want[i], "byte %zu", i);
    rt_buf_free(&b);
    nn_weights_free(&w);
}

// ---- round trips ----

Test(weights, round_trips) {
    nn_weights w, back;
    sample_model(&w);
    rt_buf b = { 0 };
    for (int f = 0; f < 3; f++) {
        encode(&w, (nn_wformat)f, &b);
        rt_err err = { 0 };
        cr_assert_eq(nn_weights_decode((const unsigned char *)b.s, b.n, "x", &back, &err), RT_OK, "%d: %s", f, err.msg);
        expect_same(&w, &back);
        if (f == NN_WFMT_SAFETENSORS) {
            cr_assert_str_eq(nn_weights_meta_get(&back, "config"), nn_weights_meta_get(&w, "config"));
            cr_assert_str_eq(nn_weights_meta_get(&back, "vibrun"), "0.1.0");
        }
        nn_weights_free(&back);
    }
    /* deflated is smaller than stored for these repetitive values */
    rt_buf c = { 0 };
    encode(&w, NN_WFMT_NPZ, &b);
    encode(&w, NN_WFMT_NPZ_DEFLATE, &c);
    cr_expect_lt(c.n, b.n);
    /* a file on disk, then its SHA-256 against `sha256sum` */
    const char *dir = tu_tmpdir("weights_disk");
    char path[600], cmd[700], out[200], hex[65];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    rt_err err = { 0 };
    cr_assert_eq(nn_weights_save(&w, NN_WFMT_SAFETENSORS, path, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(nn_weights_load(path, &back, &err), RT_OK, "%s", err.msg);
    expect_same(&w, &back);
    nn_weights_free(&back);
    cr_assert_eq(nn_file_sha256(path, hex, &err), RT_OK);
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0);
    cr_assert_eq(strncmp(out, hex, 64), 0, "%s vs %s", out, hex);
    rt_buf_free(&b);
    rt_buf_free(&c);
    nn_weights_free(&w);
}

// SHA-256 of a known text (FIPS 180-2's "abc" example).
Test(weights, sha256_known) {
    const char *dir = tu_tmpdir("weights_sha");
    char path[600], hex[65];
    snprintf(path, sizeof path, "%s/abc", dir);
    tu_write_file(path, "abc", 3);
    rt_err err = { 0 };
    cr_assert_eq(nn_file_sha256(path, hex, &err), RT_OK);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    snprintf(path, sizeof path, "%s/none", dir);
    cr_assert_eq(nn_file_sha256(path, hex, &err), RT_ERR_IO);
    cr_assert(strstr(err.msg, "none: cannot read") != NULL, "%s", err.msg);
}

// Files written elsewhere: other dtypes, a Fortran-order and a big-endian .npy, a deflated entry with
// an extra field, as numpy's zipfile writes them.
Test(weights, foreign_values) {
    /* safetensors with F64, F16 and BF16, out of order in the header */
    rt_buf b = { 0 };
    const char *json = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]},"
                       "\"d\":{\"data_offsets\":[0,16],\"shape\":[2],\"dtype\":\"F64\"},"
                       "\"bf\":{\"dtype\":\"BF16\",\"shape\":[1,1],\"data_offsets\":[22,24]}, \"__metadata__\":null}";
    size_t hl = strlen(json);
    unsigned char len[8] = { (unsigned char)hl };
    rt_buf_put(&b, (const char *)len, 8);
    rt_buf_put(&b, json, hl);
    double d[2] = { 0.5, -3.25 };
    rt_buf_put(&b, (const char *)d, 16);
    const unsigned char h[6] = { 0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00 };     /* 1, -2, 2^-24 */
    rt_buf_put(&b, (const char *)h, 6);
    const unsigned char bf[2] = { 0x80, 0x3f };                             /* 1.0 */
    rt_buf_put(&b, (const char *)bf, 2);
    nn_weights w;
    rt_err err = { 0 };
    cr_assert_eq(nn_weights_decode((const unsigned char *)b.s, b.n, "f", &w, &err), RT_OK, "%s", err.msg);
    const nn_wtensor *t = nn_weights_find(&w, "d");
    cr_assert(t && t->data[0] == 0.5f && t->data[1] == -3.25f);
    t = nn_weights_find(&w, "h");
    cr_assert(t && t->data[0] == 1.0f && t->data[1] == -2.0f && t->data[2] == ldexpf(1.0f, -24));
    t = nn_weights_find(&w, "bf");
    cr_assert(t && t->ndim == 2 && t->data[0] == 1.0f);
    nn_weights_free(&w);

    /* .npz: a (2, 3) array in Fortran order and a big-endian float64, one deflated with an extra field */
    rt_buf z = { 0 }, npy = { 0 };
    struct { const char *name, *hdr; unsigned char data[48]; size_t n; bool deflate; } e[2] = {
        { "f.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", { 0 }, 24, true },
        { "g.npy", "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", { 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18 }, 8, false },
    };
    float fo[6] = { 1, 4, 2, 5, 3, 6 };     /* column-major of [[1, 2, 3], [4, 5, 6]] */
    memcpy(e[0].data, fo, 24);
    unsigned char cd[512];
    size_t ncd = 0;
    for (int k = 0; k < 2; k++) {
        npy.n = 0;
        size_t hlen = strlen(e[k].hdr);
        rt_buf_put(&npy, "\x93NUMPY\x01\x00", 8);
        unsigned char l2[2] = { (unsigned char)(hlen + 1), 0 };
        rt_buf_put(&npy, (const char *)l2, 2);
        rt_buf_put(&npy, e[k].hdr, hlen);
        rt_buf_put(&npy, "\n", 1);
        rt_buf_put(&npy, (const char *)e[k].data, e[k].n);
        uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)npy.s, (uInt)npy.n);
        unsigned char packed[512];
        uLongf plen = sizeof packed;
        const unsigned char *body = (const unsigned char *)npy.s;
        size_t blen = npy.n;
        if (e[k].deflate) {
            z_stream s;
            memset(&s, 0, sizeof s);
            cr_assert_eq(deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
            s.next_in = (Bytef *)npy.s, s.avail_in = (uInt)npy.n, s.next_out = packed, s.avail_out = sizeof packed;
            cr_assert_eq(deflate(&s, Z_FINISH), Z_STREAM_END);
            plen = s.total_out;
            deflateEnd(&s);
            body = packed, blen = plen;
        }
        /* zip64 extra in the central entry, sizes 0xFFFFFFFF there, as zipfile's force_zip64 does */
        unsigned char lh[30] = { 0 }, *c = cd + ncd;
        uint32_t off = (uint32_t)z.n;
        put_u32(lh, 0x04034b50u); put_u16(lh + 4, 45); put_u16(lh + 8, e[k].deflate ? 8 : 0);
        put_u32(lh + 14, crc); put_u32(lh + 18, (uint32_t)blen); put_u32(lh + 22, (uint32_t)npy.n); put_u16(lh + 26, 5);
        rt_buf_put(&z, (const char *)lh, 30);
        rt_buf_put(&z, e[k].name, 5);
        rt_buf_put(&z, (const char *)body, blen);
        memset(c, 0, 46 + 5 + 20);
        put_u32(c, 0x02014b50u); put_u16(c + 4, 45); put_u16(c + 6, 45); put_u16(c + 10, e[k].deflate ? 8 : 0);
        put_u32(c + 16, crc); put_u32(c + 20, 0xFFFFFFFFu); put_u32(c + 24, 0xFFFFFFFFu); put_u16(c + 28, 5);
        put_u16(c + 30, 20); put_u32(c + 42, off);
        memcpy(c + 46, e[k].name, 5);
        put_u16(c + 51, 1); put_u16(c + 53, 16);
        for (int i = 0; i < 8; i++) c[55 + i] = (unsigned char)((uint64_t)npy.n >> (8 * i)), c[63 + i] = (unsigned char)((uint64_t)blen >> (8 * i));
        ncd += 46 + 5 + 20;
    }
    size_t cdoff = z.n;
    rt_buf_put(&z, (const char *)cd, ncd);
    unsigned char end[22] = { 0 };
    put_u32(end, 0x06054b50u); put_u16(end + 8, 2); put_u16(end + 10, 2); put_u32(end + 12, (uint32_t)ncd);
    put_u32(end + 16, (uint32_t)cdoff);
    rt_buf_put(&z, (const char *)end, 22);
    cr_assert_eq(nn_weights_decode((const unsigned char *)z.s, z.n, "z.npz", &w, &err), RT_OK, "%s", err.msg);
    t = nn_weights_find(&w, "f");
    cr_assert(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3);
    for (int i = 0; i < 6; i++) cr_assert_eq(t->data[i], (float)(i + 1), "f[%d] = %g", i, (double)t->data[i]);
    t = nn_weights_find(&w, "g");
    cr_assert(t && t->n == 1 && t->data[0] == (float)3.141592653589793);
    nn_weights_free(&w);
    rt_buf_free(&b);
    rt_buf_free(&z);
    rt_buf_free(&npy);
}

// ---- hostile files ----

// Every prefix of a valid file fails cleanly (or, for a zip, reads as what it is); every single-byte
// change either reads or fails with a message naming the file. Under the sanitizers this also shows
// that no length or offset is trusted.
Test(weights, truncated_and_flipped) {
    nn_weights w, back;
    sample_model(&w);
    rt_buf b = { 0 };
    for (int f = 0; f < 3; f++) {
        encode(&w, (nn_wformat)f, &b);
        for (size_t n = 0; n < b.n; n++) {
            rt_err err = { 0 };
            rt_status st = nn_weights_decode((const unsigned char *)b.s, n, "cut.file", &back, &err);
            cr_assert_neq(st, RT_OK, "format %d: a file cut to %zu of %zu bytes was read", f, n, b.n);
            cr_assert(strncmp(err.msg, "cut.file: ", 10) == 0, "%s", err.msg);
        }
        unsigned char *copy = malloc(b.n);
        for (size_t i = 0; i < b.n; i++)
            for (int bit = 0; bit < 8; bit += 3) {
                memcpy(copy, b.s, b.n);
                copy[i] ^= (unsigned char)(1u << bit);
                rt_err err = { 0 };
                if (nn_weights_decode(copy, b.n, "flip.file", &back, &err) == RT_OK) nn_weights_free(&back);
                else cr_assert(strncmp(err.msg, "flip.file: ", 10) == 0, "%s", err.msg);
            }
        free(copy);
    }
    rt_buf_free(&b);
    nn_weights_free(&w);
}

/* A safetensors file of this header and data. */
static void st_file(rt_buf *b, const char *json, const void *data, size_t n) {
    b->n = 0;
    size_t hl = strlen(json);
    unsigned char len[8] = { 0 };
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    rt_buf_put(b, (const char *)len, 8);
    rt_buf_put(b, json, hl);
    rt_buf_put(b, data, n);
}

Test(weights, safetensors_damage) {
    rt_buf b = { 0 };
    float d[4] = { 1, 2, 3, 4 };
    unsigned char huge[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{' };
    expect_bad(huge, sizeof huge, "more than the format's 100 MB");
    unsigned char over[12] = { 200, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ' };
    expect_bad(over, sizeof over, "only 4 follow; the file is truncated");
    expect_bad("abc", 3, "shorter than a safetensors header length");
#define ST(json, len, want) do { st_file(&b, json, d, len); expect_bad(b.s, b.n, want); } while (0)
    ST("[1,2]", 0, "does not start with '{'");
    ST("{\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype \"I32\" is not one vibrun reads");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "(8 bytes) but data_offsets [0, 4] span 4");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "starts at data byte 4 where 0 was expected");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "holds 8 data bytes after the header but its tensors use 4");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
       4, "starts at data byte 0 where 4 was expected");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside the 4 data bytes");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, "more elements than");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4, "an integer too large");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
       8, "names the tensor 'a' twice");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "has the key \"x\"");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 0, "lacks its data_offsets");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, "too many entries in a list");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "a fractional number");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "a non-negative integer expected");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4, "bytes after the header's object");
    ST("{\"a\001\":{}}", 0, "a control character in a string");
    ST("{\"a\\u0000\":{}}", 0, "a NUL character");
    ST("{\"a\\ud800\":{}}", 0, "a lone surrogate");
    ST("{\"a", 0, "an unterminated string");
    ST("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ values must be strings");
    ST("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "at most 8 dimensions");
#undef ST
    rt_buf_free(&b);
}

/* The stored .npz of sample_small, for damaging. */
static void npz_small(rt_buf *b) {
    nn_weights w;
    sample_small(&w, false);
    encode(&w, NN_WFMT_NPZ, b);
    nn_weights_free(&w);
}

Test(weights, npz_damage) {
    rt_buf b = { 0 };
    npz_small(&b);
    unsigned char *p = (unsigned char *)b.s;
    size_t n = b.n, cd = 171, eocd = n - 22;
    unsigned char *c = malloc(n);
#define DAMAGE(stmt, want) do { memcpy(c, p, n); stmt; expect_bad(c, n, want); } while (0)
    DAMAGE(c[35 + 128] ^= 1, "fails its CRC check");
    DAMAGE(put_u32(c + eocd + 16, 9999), "outside the file's");
    DAMAGE(put_u16(c + eocd + 4, 1), "split over several disks");
    DAMAGE(put_u32(c + cd, 0x12345678u), "zip directory entry 1 of 1 is damaged");
    DAMAGE(put_u16(c + cd + 10, 12), "compressed with method 12");
    DAMAGE(c[cd + 8] |= 1, "is encrypted");
    DAMAGE(put_u32(c + cd + 42, 40), "its local header (at 40) is missing or damaged");
    DAMAGE(put_u32(c + cd + 20, 500), "runs past the entries' end");
    DAMAGE(put_u32(c + cd + 24, 137), "impossible for its method");
    DAMAGE(c[cd + 46] = 'b', "its local header names another file");
    DAMAGE(memcpy(c + cd + 46 + 2, "npz", 3), "is not an .npy array");
    DAMAGE(put_u32(c, 0x05034b50u), "its local header (at 0) is missing or damaged");
    DAMAGE(put_u32(c + eocd, 0), "without its end record");
#undef DAMAGE
    free(c);
    /* the .npy inside, each header fault with a correct CRC around it */
    struct { const char *hdr; size_t data; const char *want; } cases[] = {
        { "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8, "dtype '<i4'" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8, "shape (3) of 4-byte values but 8 data bytes" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 8, "shape (1) of 4-byte values but 8" },
        { "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", 8, "True or False expected" },
        { "{'descr': '<f4', 'shape': (2,), }", 8, "descr, fortran_order or shape missing" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", 8, "an unknown key" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2,, }", 8, "a dimension (a non-negative integer) expected" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 8, "a dimension too large" },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", 8, "shape" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        rt_buf npy = { 0 }, z = { 0 };
        size_t hl = strlen(cases[k].hdr) + 1;
        rt_buf_put(&npy, "\x93NUMPY\x01\x00", 8);
        unsigned char l2[2] = { (unsigned char)hl, (unsigned char)(hl >> 8) };
        rt_buf_put(&npy, (const char *)l2, 2);
        rt_buf_put(&npy, cases[k].hdr, hl - 1);
        rt_buf_put(&npy, "\n", 1);
        rt_buf_put(&npy, "\x00\x00\x80\x3f\x00\x00\x00\xc0", cases[k].data);
        uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)npy.s, (uInt)npy.n);
        unsigned char lh[30] = { 0 }, ce[46] = { 0 }, end[22] = { 0 };
        put_u32(lh, 0x04034b50u); put_u32(lh + 14, crc); put_u32(lh + 18, (uint32_t)npy.n); put_u32(lh + 22, (uint32_t)npy.n);
        put_u16(lh + 26, 5);
        rt_buf_put(&z, (const char *)lh, 30);
        rt_buf_put(&z, "a.npy", 5);
        rt_buf_put(&z, npy.s, npy.n);
        size_t cdo = z.n;
        put_u32(ce, 0x02014b50u); put_u32(ce + 16, crc); put_u32(ce + 20, (uint32_t)npy.n); put_u32(ce + 24, (uint32_t)npy.n);
        put_u16(ce + 28, 5);
        rt_buf_put(&z, (const char *)ce, 46);
        rt_buf_put(&z, "a.npy", 5);
        put_u32(end, 0x06054b50u); put_u16(end + 8, 1); put_u16(end + 10, 1); put_u32(end + 12, 51); put_u32(end + 16, (uint32_t)cdo);
        rt_buf_put(&z, (const char *)end, 22);
        expect_bad(z.s, z.n, cases[k].want);
        rt_buf_free(&npy);
        rt_buf_free(&z);
    }
    /* a deflated entry whose stream is cut: CRC and sizes say the original */
    nn_weights w;
    sample_model(&w);
    encode(&w, NN_WFMT_NPZ_DEFLATE, &b);
    nn_weights_free(&w);
    unsigned char *d = (unsigned char *)b.s;
    uint32_t csize = (uint32_t)(d[18] | d[19] << 8 | d[20] << 16 | (uint32_t)d[21] << 24);
    d[30 + 13 + csize / 2] ^= 0xff;             /* "h1.weight.npy" is 13 bytes */
    nn_weights back;
    rt_err err = { 0 };
    cr_assert_neq(nn_weights_decode(d, b.n, "bad.file", &back, &err), RT_OK);
    cr_assert(strstr(err.msg, "bad.file: zip entry 'h1.weight.npy'") != NULL, "%s", err.msg);
    rt_buf_free(&b);
}

// ---- vibrun export and vib.load, end to end ----

static char out[1 << 16];

/* Runs vibrun with args inside dir; returns its exit code; stdout+stderr in `out`. */
static int vibrun(const char *dir, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, tu_vibrun(), args);
    return tu_run(cmd, out, sizeof out);
}

/* The one point directory of dir/<run>/load_tiny into point (its path under dir). */
static void the_point(const char *dir, const char *run, char *point, size_t size) {
    char exp[700], names[4][64];
    snprintf(exp, sizeof exp, "%s/%s/load_tiny", dir, run);
    cr_assert_eq(tu_point_dirs(exp, names, 4), 1, "%s: not one point", exp);
    snprintf(point, size, "%s/load_tiny/%s", run, names[0]);
}

/* Line `k` (0 = the header) of a file, without the newline and, with skip, without its first
** `skip` comma-separated fields. */
static void csv_line(const char *path, int k, int skip, char *line, size_t size) {
    char *s = tu_read_file(path, NULL);
    cr_assert_not_null(s, "missing %s", path);
    char *p = s;
    for (int i = 0; i < k && p; i++) p = strchr(p, '\n'), p = p ? p + 1 : NULL;
    cr_assert(p && *p, "%s has no line %d", path, k);
    for (int i = 0; i < skip; i++) p = strchr(p, ',') + 1;
    snprintf(line, size, "%.*s", (int)strcspn(p, "\n"), p);
    free(s);
}

#define SCRIPT "'%s/tests/lua/load_tiny.lua' --quiet"

// Train, export (both formats), import with epochs = 0: the imported point evaluates to the same
// bits (loss, terms, error; the 2-D latent's means), whichever format carried the weights.
Test(weights_cli, round_trip) {
    const char *dir = tu_tiny_dir("weights_round_trip");
    const char *src = tu_source_dir();
    char args[2048], p1[256], p2[256], a[1024], b[1024], pa[900], pb[900];
    snprintf(args, sizeof args, SCRIPT " --out r1", src);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    the_point(dir, "r1", p1, sizeof p1);
    snprintf(args, sizeof args, "export %s -o m.safetensors", p1);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_assert(strstr(out, "m.safetensors: 15 tensors, 127 values: the EMA weights of point") != NULL, "%s", out);
    snprintf(args, sizeof args, "export %s --format npz -o m.npz", p1);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(args, sizeof args, "export %s --weights raw -o raw.safetensors", p1);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(args, sizeof args, "export %s --format npz", p1);                 /* the default name */
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(pa, sizeof pa, "%s/%s/weights.npz", dir, p1);
    snprintf(pb, sizeof pb, "%s/m.npz", dir);
    tu_expect_same_file(pa, pb);

    /* the file's values are the checkpoint's EMA (raw: the weights), named and shaped as the model's */
    nn_weights w, raw;
    rt_err err = { 0 };
    snprintf(pa, sizeof pa, "%s/m.safetensors", dir);
    cr_assert_eq(nn_weights_load(pa, &w, &err), RT_OK, "%s", err.msg);
    snprintf(pa, sizeof pa, "%s/raw.safetensors", dir);
    cr_assert_eq(nn_weights_load(pa, &raw, &err), RT_OK, "%s", err.msg);
    static const char *const names[] = { "h1.weight", "h1.bias", "bn.weight", "bn.bias", "z.mu.weight", "z.mu.bias",
                                         "z.rho.weight", "z.rho.bias", "out.weight", "out.bias", "kl.prior.means",
                                         "kl.prior.logscale", "kl.prior.logits", "bn.running_mean", "bn.running_var" };
    cr_assert_eq(w.n, 15);
    for (int i = 0; i < 15; i++) cr_assert_str_eq(w.t[i].name, names[i]);
    cr_assert(w.t[0].ndim == 2 && w.t[0].shape[0] == 8 && w.t[0].shape[1] == 4);
    snprintf(pa, sizeof pa, "%s/%s/checkpoint", dir, p1);
    rt_ckpt *ck = rt_ckpt_load(pa, &err);
    cr_assert_not_null(ck, "%s", err.msg);
    size_t n;
    const float *shadow = rt_ckpt_data(ck, "ema.shadow", &n), *params = rt_ckpt_data(ck, "params", &n);
    const float *state = rt_ckpt_data(ck, "ema.state", &n);
    cr_assert_eq(memcmp(w.t[0].data, shadow, 32 * sizeof(float)), 0);
    cr_assert_eq(memcmp(raw.t[0].data, params, 32 * sizeof(float)), 0);
    cr_assert_neq(memcmp(w.t[0].data, raw.t[0].data, 32 * sizeof(float)), 0);
    cr_assert_eq(memcmp(w.t[13].data, state, 8 * sizeof(float)), 0);         /* running mean, then variance */
    cr_assert_eq(memcmp(w.t[14].data, state + 8, 8 * sizeof(float)), 0);
    cr_assert_str_eq(nn_weights_meta_get(&w, "point"), p1 + strlen("r1/load_tiny/"));
    cr_assert_str_eq(nn_weights_meta_get(&w, "epoch"), "3");
    cr_assert_str_eq(nn_weights_meta_get(&w, "weights"), "ema 0.9");
    cr_assert(strstr(nn_weights_meta_get(&w, "config"), "return vib.point") != NULL);
    cr_assert_not_null(nn_weights_meta_get(&w, "vibrun"));
    rt_ckpt_free(ck);
    nn_weights_free(&w);
    nn_weights_free(&raw);

    const char *files[2] = { "m.safetensors", "m.npz" };
    char ids[2][256];
    for (int f = 0; f < 2; f++) {
        char run[8];
        snprintf(run, sizeof run, "r%d", f + 2);
        snprintf(args, sizeof args, SCRIPT " --out %s --set weights=%s --set epochs=0", src, run, files[f]);
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
        the_point(dir, run, p2, sizeof p2);
        snprintf(ids[f], sizeof ids[f], "%s", p2 + 3);
        /* epoch 3 of the trained point, epoch 0 of the imported one: every column after the epoch */
        snprintf(pa, sizeof pa, "%s/%s/metrics.csv", dir, p1);
        snprintf(pb, sizeof pb, "%s/%s/metrics.csv", dir, p2);
        for (int split = 0; split < 2; split++) {
            csv_line(pa, 7 + split, 1, a, sizeof a);
            csv_line(pb, 1 + split, 1, b, sizeof b);
            cr_expect_str_eq(a, b, "%s: %s vs %s", files[f], a, b);
        }
        snprintf(pa, sizeof pa, "%s/%s/latent.csv", dir, p1);
        snprintf(pb, sizeof pb, "%s/%s/latent.csv", dir, p2);
        tu_expect_same_file(pa, pb);
    }
    /* another file is another point: the id holds the file's SHA-256 */
    cr_assert_str_neq(ids[0], ids[1]);
    snprintf(args, sizeof args, SCRIPT " --list --set weights=m.npz --set epochs=0", src);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_assert(strstr(out, ids[1] + strlen("load_tiny/")) != NULL, "%s", out);
    snprintf(pa, sizeof pa, "%s/m.npz", dir);
    snprintf(pb, sizeof pb, "%s/raw.safetensors", dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", pb, pa);                        /* same name, other bytes */
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_assert(strstr(out, ids[1] + strlen("load_tiny/")) == NULL, "the id did not change: %s", out);
}

// One line per mismatch, under the script line of vib.load; an unreadable file; a changed file.
Test(weights_cli, mismatches) {
    const char *dir = tu_tiny_dir("weights_mismatch");
    const char *src = tu_source_dir();
    char args[2048], p1[256];
    snprintf(args, sizeof args, SCRIPT " --out r1 --set epochs=1", src);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    the_point(dir, "r1", p1, sizeof p1);
    snprintf(args, sizeof args, "export %s -o m.safetensors", p1);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char where[64];
    snprintf(where, sizeof where, "load_tiny.lua:19: vib.load: m.safetensors does not fit the model");
    snprintf(args, sizeof args, SCRIPT " --check --set weights=m.safetensors --set hidden=16", src);
    cr_assert_eq(vibrun(dir, args), 1, "%s", out);
    cr_expect(strstr(out, where) != NULL, "%s", out);
    cr_expect(strstr(out, "(8 mismatches)") != NULL, "%s", out);
    cr_expect(strstr(out, "h1.weight: the model's shape is (16, 4), the file's 'h1.weight' is (8, 4)") != NULL, "%s", out);
    cr_expect(strstr(out, "... and 2 more") != NULL, "%s", out);
    snprintf(args, sizeof args, SCRIPT " --check --set weights=m.safetensors --set rename=enc", src);
    cr_assert_eq(vibrun(dir, args), 1, "%s", out);
    cr_expect(strstr(out, "h1.weight (8, 4): the file has no tensor 'enc.weight'") != NULL, "%s", out);
    cr_expect(strstr(out, "the file's 'h1.bias' (8) is used by no tensor of the model") != NULL, "%s", out);
    snprintf(args, sizeof args, SCRIPT " --check --set weights=m.safetensors --set only=outx", src);
    cr_assert_eq(vibrun(dir, args), 1, "%s", out);
    cr_expect(strstr(out, "layers: 'outx' names no layer of the model that has parameters") != NULL, "%s", out);
    /* one layer only: the rest of another shape is drawn as usual */
    snprintf(args, sizeof args, SCRIPT " --out r2 --set weights=m.safetensors --set only=out --set hidden=16 --set epochs=0", src);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(args, sizeof args, SCRIPT " --list --set weights=none.safetensors", src);
    cr_assert_eq(vibrun(dir, args), 1, "%s", out);
    cr_expect(strstr(out, "load_tiny.lua:19: vib.load: none.safetensors: cannot read (No such file or directory)") != NULL, "%s", out);
    /* a damaged file: the reader's message under the script line */
    char path[700];
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);
    tu_write_file(path, "\x10\0\0\0\0\0\0\0{\"a\":1}        ", 24);
    snprintf(args, sizeof args, SCRIPT " --check --set weights=bad.safetensors", src);
    cr_assert_eq(vibrun(dir, args), 1, "%s", out);
    cr_expect(strstr(out, "load_tiny.lua:19: vib.load: bad.safetensors: safetensors header is not valid") != NULL, "%s", out);
    /* export's own errors */
    cr_assert_eq(vibrun(dir, "export"), 2, "%s", out);
    cr_assert_eq(vibrun(dir, "export nowhere"), 1, "%s", out);
    cr_expect(strstr(out, "nowhere: no config.lua there") != NULL, "%s", out);
    snprintf(args, sizeof args, "export %s --format onnx", p1);
    cr_assert_eq(vibrun(dir, args), 2, "%s", out);
    snprintf(args, sizeof args, SCRIPT " --out r3 --set ema=0 --set epochs=1", src);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char p3[256];
    the_point(dir, "r3", p3, sizeof p3);
    snprintf(args, sizeof args, "export %s --weights ema", p3);
    cr_assert_eq(vibrun(dir, args), 1, "%s", out);
    cr_expect(strstr(out, "trained without ema") != NULL, "%s", out);
    char names[4][64], exp[700];
    snprintf(exp, sizeof exp, "%s/r2/load_tiny", dir);
    cr_assert_eq(tu_point_dirs(exp, names, 4), 1);
    /* a point of 0 epochs is checkpointed as it was evaluated, so it exports */
    snprintf(args, sizeof args, "export r2/load_tiny/%s", names[0]);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect(strstr(out, "after epoch 0") != NULL, "%s", out);
    /* without a checkpoint: the reader's message, and what to do */
    snprintf(path, sizeof path, "%s/r2/load_tiny/%s/checkpoint", dir, names[0]);
    cr_assert_eq(remove(path), 0);
    cr_assert_eq(vibrun(dir, args), 1, "%s", out);
    cr_expect(strstr(out, "cannot read checkpoint") != NULL && strstr(out, "run the point first") != NULL, "%s", out);
}

// NumPy reads what vibrun writes: numpy.load the .npz, a ten-line safetensors reader in plain Python
// (tests/tools/check_weights.py), both against the values written here with %a.
Test(weights_cli, numpy_reads) {
    if (tu_run("/usr/bin/python3 -c 'import numpy' 2>&1", NULL, 0) != 0)
        tu_skip("Debian's python3-numpy is not installed (apt-get install python3-numpy)");
    const char *dir = tu_tmpdir("weights_numpy");
    nn_weights w;
    sample_model(&w);
    char path[700], cmd[2048];
    rt_err err = { 0 };
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    cr_assert_eq(nn_weights_save(&w, NN_WFMT_SAFETENSORS, path, &err), RT_OK);
    snprintf(path, sizeof path, "%s/m.npz", dir);
    cr_assert_eq(nn_weights_save(&w, NN_WFMT_NPZ, path, &err), RT_OK);
    snprintf(path, sizeof path, "%s/c.npz", dir);
    cr_assert_eq(nn_weights_save(&w, NN_WFMT_NPZ_DEFLATE, path, &err), RT_OK);
    snprintf(path, sizeof path, "%s/expected.txt", dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < w.n; i++) {
        fprintf(f, "%s %d", w.t[i].name, w.t[i].ndim);
        for (int d = 0; d < w.t[i].ndim; d++) fprintf(f, " %lld", (long long)w.t[i].shape[d]);
        for (int64_t k = 0; k < w.t[i].n; k++) fprintf(f, " %a", (double)w.t[i].data[k]);
        fprintf(f, "\n");
    }
    fclose(f);
    nn_weights_free(&w);
    snprintf(cmd, sizeof cmd, "cd '%s' && /usr/bin/python3 '%s/tests/tools/check_weights.py' expected.txt m.safetensors "
             "m.npz c.npz 2>&1", dir, tu_source_dir());
    int rc = tu_run(cmd, out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "ok: 4 tensors") != NULL, "%s", out);
    /* and a file NumPy wrote (numpy.savez, savez_compressed, a transposed array) reads back here */
    snprintf(cmd, sizeof cmd, "cd '%s' && /usr/bin/python3 -c \"import numpy as np; a = np.arange(6, dtype=np.float32)"
             ".reshape(2, 3); np.savez('s.npz', w=a.T, b=np.float64([0.5])); np.savez_compressed('z.npz', w=a)\" 2>&1", dir);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, k ? "z.npz" : "s.npz");
        cr_assert_eq(nn_weights_load(path, &w, &err), RT_OK, "%s", err.msg);
        const nn_wtensor *t = nn_weights_find(&w, "w");
        cr_assert(t && t->ndim == 2 && t->shape[0] == (k ? 2 : 3));
        for (int i = 0; i < 6; i++) {
            float want = k ? (float)i : (float)((i % 2) * 3 + i / 2);    /* a.T row-major */
            cr_assert_eq(t->data[i], want, "%s[%d] = %g", path, i, (double)t->data[i]);
        }
        if (!k) cr_assert(nn_weights_find(&w, "b") && nn_weights_find(&w, "b")->data[0] == 0.5f);
        nn_weights_free(&w);
    }
}

/* Runs write_weights.py py_args in dir (it prints "numpy MLP: <what> error E": E into *numpy_error),
** then tests/lua/<exp>.lua with script_args there; the one point's directory into point. */
static void foreign_run(const char *dir, const char *py_args, const char *what, const char *script_args,
                        const char *exp, char *point, size_t size, double *numpy_error) {
    if (tu_run("/usr/bin/python3 -c 'import numpy' 2>&1", NULL, 0) != 0)
        tu_skip("Debian's python3-numpy is not installed (apt-get install python3-numpy)");
    char cmd[4096], want[64], names[4][64];
    snprintf(cmd, sizeof cmd, "cd '%s' && /usr/bin/python3 '%s/tests/tools/write_weights.py' %s 2>&1", dir,
             tu_source_dir(), py_args);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    snprintf(want, sizeof want, "numpy MLP: %s error %%lf", what);
    cr_assert_eq(sscanf(out, want, numpy_error), 1, "%s", out);
    snprintf(cmd, sizeof cmd, "'%s/tests/lua/%s.lua' --quiet %s", tu_source_dir(), exp, script_args);
    cr_assert_eq(vibrun(dir, cmd), 0, "%s", out);
    snprintf(point, size, "%s/r/%s", dir, exp);
    cr_assert_eq(tu_point_dirs(point, names, 4), 1);
    snprintf(point + strlen(point), size - strlen(point), "/%s", names[0]);
}

/* The error of split ("train" or "test") at epoch 0 in point's metrics.csv. */
static double metrics_error(const char *point, const char *split) {
    char path[1000], line[256], want[64];
    snprintf(path, sizeof path, "%s/metrics.csv", point);
    csv_line(path, strcmp(split, "train") == 0 ? 1 : 2, 0, line, sizeof line);    /* 0,split,loss,ce,error,lr */
    snprintf(want, sizeof want, "0,%s,%%*[^,],%%*[^,],%%lf", split);
    double e = -1;
    cr_assert_eq(sscanf(line, want, &e), 1, "%s", line);
    return e;
}

// A model written by another program (tests/tools/write_weights.py: NumPy, PyTorch's names) imported
// with a map and measured without training: its error is the NumPy model's, far from chance (2/3).
Test(weights_cli, foreign_model) {
    const char *dir = tu_tiny_dir("weights_foreign");
    char point[900], path[1000], line[256];
    double numpy_error = -1;
    foreign_run(dir, "tiny.csv mlp.safetensors", "training", "--out r", "load_mlp", point, sizeof point, &numpy_error);
    double err_train = metrics_error(point, "train");
    cr_expect(err_train < 0.2 && fabs(err_train - numpy_error) < 0.05, "vibrun %g, numpy %g", err_train, numpy_error);
    snprintf(path, sizeof path, "%s/info.csv", point);
    csv_line(path, 1, 0, line, sizeof line);
    cr_expect(strncmp(line, "0,train,h1,kde_upper,", 21) == 0, "%s", line);
}

/* The value of column `col` (0-based) of the attack.csv row whose first fields are "attack,..,eps". */
static double attack_col(const char *path, const char *attack, const char *eps, int col) {
    char *s = tu_read_file(path, NULL), key[64];
    cr_assert_not_null(s, "missing %s", path);
    snprintf(key, sizeof key, "%s,paper,linf,%s,", attack, eps);
    char *p = strstr(s, key);
    cr_assert_not_null(p, "%s: no row %s", path, key);
    for (int i = 0; i < col; i++) p = strchr(p, ',') + 1;
    double v = atof(p);
    free(s);
    return v;
}

// A model written by another program, on images: an MLP trained by NumPy on MNIST
// (write_weights.py --mnist), imported with epochs = 0, evaluated to the NumPy model's error,
// measured, attacked (a point of 0 epochs is checkpointed as evaluated, which the attack reads) and
// exported again with the values it was given.
Test(weights_cli, foreign_mnist_model_is_measured_and_attacked) {
    char mnist[600];
    if (!tu_shared("mnist-t10k", mnist, sizeof mnist)) tu_skip("the MNIST test set (../shared/data) is absent");
    const char *dir = tu_tmpdir("weights_mnist");
    char cmd[2048], point[900], path[1000], line[256], py[700];
    double numpy_error = -1;
    snprintf(py, sizeof py, "--mnist '%s' m.safetensors", mnist);
    snprintf(cmd, sizeof cmd, "--out r --set weights=m.safetensors --set data_dir='%s' --set n=200", mnist);
    foreign_run(dir, py, "test", cmd, "load_mnist", point, sizeof point, &numpy_error);
    double err_test = metrics_error(point, "test");
    /* float32 weights against NumPy's float64: at most a few of the 2,000 examples may flip */
    cr_expect(fabs(err_test - numpy_error) <= 0.002 && err_test < 0.15, "vibrun %g, numpy %g", err_test, numpy_error);
    snprintf(path, sizeof path, "%s/info.csv", point);
    csv_line(path, 1, 0, line, sizeof line);
    cr_expect(strncmp(line, "0,train,h1,kde_upper,", 21) == 0, "%s", line);
    /* attack.csv: attack,protocol,norm,eps,targeted,n,clean_acc,robust_acc,... An undefended MLP
    ** loses most of its accuracy at eps = 0.1, and PGD finds at least what FGSM finds. */
    snprintf(path, sizeof path, "%s/attack.csv", point);
    double clean = attack_col(path, "fgsm", "0.1", 6), fgsm = attack_col(path, "fgsm", "0.1", 7),
           pgd = attack_col(path, "pgd", "0.1", 7);
    cr_expect(clean > 0.85 && fgsm < clean - 0.3 && pgd <= fgsm, "clean %g, fgsm %g, pgd %g", clean, fgsm, pgd);
    /* exported again: the tensors it was given, under the script's names, to the bit */
    snprintf(cmd, sizeof cmd, "export '%s' -o e.safetensors", strstr(point, "/r/") + 1);   /* from dir */
    cr_assert_eq(vibrun(dir, cmd), 0, "%s", out);
    nn_weights a, b;
    rt_err err = { 0 };
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    cr_assert_eq(nn_weights_load(path, &a, &err), RT_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/e.safetensors", dir);
    cr_assert_eq(nn_weights_load(path, &b, &err), RT_OK, "%s", err.msg);
    const char *pairs[4][2] = { { "0.weight", "h1.weight" }, { "0.bias", "h1.bias" }, { "2.weight", "out.weight" },
                                { "2.bias", "out.bias" } };
    for (int i = 0; i < 4; i++) {
        const nn_wtensor *x = nn_weights_find(&a, pairs[i][0]), *y = nn_weights_find(&b, pairs[i][1]);
        cr_assert(x && y && x->n == y->n, "%s / %s", pairs[i][0], pairs[i][1]);
        cr_expect(memcmp(x->data, y->data, (size_t)x->n * sizeof(float)) == 0, "%s differs", pairs[i][1]);
    }
    nn_weights_free(&a);
    nn_weights_free(&b);
}
