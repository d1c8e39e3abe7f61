// nn_weights.c: safetensors and .npz written and read by hand (the formats are short and no small
// Debian C library packages safetensors; zlib, already a dependency, does the zip's CRC and
// deflate), SHA-256 through Nettle, and a model's tensors by name (nn_weights.h).
#include "nn_weights.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "rt_csv.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nn_weights.c copies float32 data in host order, which both formats define as little-endian"
#endif

#define ST_MAX_HEADER (100u << 20)      /* safetensors' own limit on the JSON header (100 MB) */

// ---- the container ----

void nn_weights_init(nn_weights *w) { memset(w, 0, sizeof *w); }

void nn_weights_free(nn_weights *w) {
    for (int i = 0; i < w->n; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    for (int i = 0; i < 2 * w->nmeta; i++) free(w->meta[i]);
    free(w->t);
    free(w->meta);
    nn_weights_init(w);
}

const nn_wtensor *nn_weights_find(const nn_weights *w, const char *name) {
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->t[i].name, name) == 0) return &w->t[i];
    return NULL;
}

/* The product of the shape, or -1 when it passes INT64_MAX / 8 (no file holds that many bytes). */
static int64_t shape_product(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return -1;
        if (shape[d] && n > (INT64_MAX / 8) / shape[d]) return -1;
        n *= shape[d];
    }
    return n;
}

/* Appends a tensor that takes ownership of data (n floats). */
static nn_wtensor *add_owned(nn_weights *w, const char *name, int ndim, const int64_t *shape, float *data) {
    RT_ASSERT(ndim >= 0 && ndim <= NN_W_MAX_DIMS && !nn_weights_find(w, name));
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        nn_wtensor *t = realloc(w->t, (size_t)cap * sizeof *t);
        if (!t) RT_ABORT("out of memory growing a tensor list to %d", cap);
        w->t = t;
        w->cap = cap;
    }
    nn_wtensor *t = &w->t[w->n++];
    memset(t, 0, sizeof *t);
    t->name = rt_xstrdup(name);
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    t->n = shape_product(ndim, shape);
    RT_ASSERT(t->n >= 0);
    t->data = data;
    return t;
}

nn_wtensor *nn_weights_add(nn_weights *w, const char *name, int ndim, const int64_t *shape, const float *data) {
    int64_t n = shape_product(ndim, shape);
    RT_ASSERT(n >= 0);
    float *copy = rt_xmalloc((size_t)(n ? n : 1) * sizeof *copy);
    if (n) memcpy(copy, data, (size_t)n * sizeof *copy);
    return add_owned(w, name, ndim, shape, copy);
}

void nn_weights_meta(nn_weights *w, const char *key, const char *value) {
    for (int i = 0; i < w->nmeta; i++)
        if (strcmp(w->meta[2 * i], key) == 0) {
            free(w->meta[2 * i + 1]);
            w->meta[2 * i + 1] = rt_xstrdup(value);
            return;
        }
    char **meta = realloc(w->meta, (size_t)(w->nmeta + 1) * 2 * sizeof *meta);
    if (!meta) RT_ABORT("out of memory adding metadata");
    w->meta = meta;
    w->meta[2 * w->nmeta] = rt_xstrdup(key);
    w->meta[2 * w->nmeta + 1] = rt_xstrdup(value);
    w->nmeta++;
}

const char *nn_weights_meta_get(const nn_weights *w, const char *key) {
    for (int i = 0; i < w->nmeta; i++)
        if (strcmp(w->meta[2 * i], key) == 0) return w->meta[2 * i + 1];
    return NULL;
}

// ---- little-endian integers ----

static void put_le(rt_buf *b, uint64_t x, int bytes) {
    char c[8];
    for (int i = 0; i < bytes; i++) c[i] = (char)(unsigned char)(x >> (8 * i));
    rt_buf_put(b, c, (size_t)bytes);
}

static uint64_t get_le(const unsigned char *p, int bytes) {
    uint64_t x = 0;
    for (int i = 0; i < bytes; i++) x |= (uint64_t)p[i] << (8 * i);
    return x;
}

// ---- writing ----

/* s as a JSON string literal. */
static void json_string(rt_buf *b, const char *s) {
    rt_buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') rt_buf_printf(b, "\\%c", *p);
        else if (*p == '\n') rt_buf_put(b, "\\n", 2);
        else if (*p == '\t') rt_buf_put(b, "\\t", 2);
        else if (*p < 0x20) rt_buf_printf(b, "\\u%04x", *p);
        else rt_buf_put(b, (const char *)p, 1);
    }
    rt_buf_put(b, "\"", 1);
}

/* The metadata as one JSON object ({} when there is none). */
static void json_meta(const nn_weights *w, rt_buf *b) {
    rt_buf_put(b, "{", 1);
    for (int i = 0; i < w->nmeta; i++) {
        if (i) rt_buf_put(b, ",", 1);
        json_string(b, w->meta[2 * i]);
        rt_buf_put(b, ":", 1);
        json_string(b, w->meta[2 * i + 1]);
    }
    rt_buf_put(b, "}", 1);
}

/* safetensors: u64 header length, the JSON header (metadata first, then the tensors in order, their
** data back to back), padded with spaces to a multiple of 8 bytes as the reference writer does, so
** that the data start aligned; then the data. */
static void encode_safetensors(const nn_weights *w, rt_buf *out) {
    rt_buf h = { 0 };
    rt_buf_put(&h, "{", 1);
    if (w->nmeta) {
        rt_buf_put(&h, "\"__metadata__\":", 15);
        json_meta(w, &h);
    }
    uint64_t off = 0;
    for (int i = 0; i < w->n; i++) {
        const nn_wtensor *t = &w->t[i];
        if (i || w->nmeta) rt_buf_put(&h, ",", 1);
        json_string(&h, t->name);
        rt_buf_printf(&h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) rt_buf_printf(&h, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        uint64_t end = off + (uint64_t)t->n * 4u;
        rt_buf_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)end);
        off = end;
    }
    rt_buf_put(&h, "}", 1);
    while (h.n % 8) rt_buf_put(&h, " ", 1);
    put_le(out, h.n, 8);
    rt_buf_put(out, h.s, h.n);
    for (int i = 0; i < w->n; i++) rt_buf_put(out, (const char *)w->t[i].data, (size_t)w->t[i].n * 4u);
    rt_buf_free(&h);
}

/* An .npy v1.0 file's header (numpy.lib.format): magic, version 1.0, u16 header length, the dict as
** Python writes it, padded with spaces and a newline so that the data start at a multiple of 64
** bytes. As numpy (>= 1.23) does, the padding leaves room for the first dimension to grow to 21
** digits, so that the header is the bytes numpy.save writes for the same array. */
static void encode_npy_header(rt_buf *b, const char *descr, int ndim, const int64_t *shape) {
    rt_buf d = { 0 };
    rt_buf_printf(&d, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int k = 0; k < ndim; k++) rt_buf_printf(&d, "%s%lld", k ? ", " : "", (long long)shape[k]);
    rt_buf_printf(&d, "%s), }", ndim == 1 ? "," : "");
    if (ndim > 0) {
        char first[24];
        int digits = snprintf(first, sizeof first, "%lld", (long long)shape[0]);
        for (int k = digits; k < 21; k++) rt_buf_put(&d, " ", 1);
    }
    size_t pad = 64 - (10 + d.n + 1) % 64;
    for (size_t k = 0; k < pad; k++) rt_buf_put(&d, " ", 1);
    rt_buf_put(&d, "\n", 1);
    rt_buf_put(b, "\x93NUMPY\x01\x00", 8);
    put_le(b, d.n, 2);
    rt_buf_put(b, d.s, d.n);
    rt_buf_free(&d);
}

/* UTF-8 text as the code points of a numpy '<U' string (an invalid byte is U+FFFD). */
static void put_utf32(rt_buf *b, const char *s, size_t *count) {
    const unsigned char *p = (const unsigned char *)s;
    *count = 0;
    while (*p) {
        uint32_t c = *p, need = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
        if (need == 9) c = 0xFFFD, need = 0;
        else if (need) c &= 0x3Fu >> need;
        p++;
        for (uint32_t k = 0; k < need; k++, p++) {
            if ((*p & 0xC0) != 0x80) { c = 0xFFFD; break; }
            c = (c << 6) | (*p & 0x3Fu);
        }
        put_le(b, c, 4);
        (*count)++;
    }
}

typedef struct zip_entry { char name[160]; uint32_t crc, csize, usize, offset; uint16_t method; } zip_entry;

/* One zip entry (local header and data) of the raw bytes data[0..n). */
static void zip_put(rt_buf *out, zip_entry *e, const char *data, size_t n, bool packit) {
    RT_ASSERT(n < 0xFFFFFFFFu && out->n < 0xFFFFFFFFu);
    e->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)data, (uInt)n);
    e->usize = (uint32_t)n;
    e->offset = (uint32_t)out->n;
    e->method = packit ? 8 : 0;
    unsigned char *packed = NULL;
    size_t csize = n;
    if (packit) {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            RT_ABORT("zlib: deflateInit2 failed");
        uLong cap = deflateBound(&z, (uLong)n);
        packed = rt_xmalloc(cap);
        z.next_in = (Bytef *)(uintptr_t)data;
        z.avail_in = (uInt)n;
        z.next_out = packed;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END) RT_ABORT("zlib: deflate did not finish in its bound");
        csize = z.total_out;
        deflateEnd(&z);
    }
    RT_ASSERT(csize < 0xFFFFFFFFu);
    e->csize = (uint32_t)csize;
    size_t nlen = strlen(e->name);
    put_le(out, 0x04034b50u, 4);
    put_le(out, 20, 2);                 /* version needed: 2.0 */
    put_le(out, 0, 2);                  /* flags */
    put_le(out, e->method, 2);
    put_le(out, 0, 2);                  /* time 00:00:00 */
    put_le(out, 0x21, 2);               /* date 1980-01-01: the same bytes for the same tensors */
    put_le(out, e->crc, 4);
    put_le(out, e->csize, 4);
    put_le(out, e->usize, 4);
    put_le(out, nlen, 2);
    put_le(out, 0, 2);                  /* extra field length */
    rt_buf_put(out, e->name, nlen);
    rt_buf_put(out, packit ? (const char *)packed : data, csize);
    free(packed);
}

static void zip_finish(rt_buf *out, const zip_entry *e, int n) {
    size_t cd = out->n;
    for (int i = 0; i < n; i++) {
        size_t nlen = strlen(e[i].name);
        put_le(out, 0x02014b50u, 4);
        put_le(out, 20, 2);             /* version made by: 2.0, MS-DOS attributes */
        put_le(out, 20, 2);
        put_le(out, 0, 2);
        put_le(out, e[i].method, 2);
        put_le(out, 0, 2);
        put_le(out, 0x21, 2);
        put_le(out, e[i].crc, 4);
        put_le(out, e[i].csize, 4);
        put_le(out, e[i].usize, 4);
        put_le(out, nlen, 2);
        put_le(out, 0, 2);              /* extra */
        put_le(out, 0, 2);              /* comment */
        put_le(out, 0, 2);              /* disk */
        put_le(out, 0, 2);              /* internal attributes */
        put_le(out, 0, 4);              /* external attributes */
        put_le(out, e[i].offset, 4);
        rt_buf_put(out, e[i].name, nlen);
    }
    size_t cdsize = out->n - cd;
    RT_ASSERT(out->n < 0xFFFFFFFFu && n < 0xFFFF);
    put_le(out, 0x06054b50u, 4);
    put_le(out, 0, 2);
    put_le(out, 0, 2);
    put_le(out, (uint64_t)n, 2);
    put_le(out, (uint64_t)n, 2);
    put_le(out, cdsize, 4);
    put_le(out, cd, 4);
    put_le(out, 0, 2);                  /* comment */
}

static void encode_npz(const nn_weights *w, bool deflate, rt_buf *out) {
    zip_entry *e = rt_xcalloc((size_t)w->n + 1, sizeof *e);
    int ne = 0;
    rt_buf npy = { 0 };
    for (int i = 0; i < w->n; i++, ne++) {
        const nn_wtensor *t = &w->t[i];
        npy.n = 0;
        encode_npy_header(&npy, "<f4", t->ndim, t->shape);
        rt_buf_put(&npy, (const char *)t->data, (size_t)t->n * 4u);
        snprintf(e[ne].name, sizeof e[ne].name, "%s.npy", t->name);
        zip_put(out, &e[ne], npy.s, npy.n, deflate);
    }
    if (w->nmeta) {                     /* a 0-d unicode array: str(np.load(f)["__metadata__"]) */
        rt_buf json = { 0 }, text = { 0 };
        json_meta(w, &json);
        size_t count;
        put_utf32(&text, rt_buf_str(&json), &count);
        char descr[32];
        snprintf(descr, sizeof descr, "<U%zu", count ? count : 1);
        if (!count) put_le(&text, 0, 4);
        npy.n = 0;
        encode_npy_header(&npy, descr, 0, NULL);
        rt_buf_put(&npy, text.s, text.n);
        snprintf(e[ne].name, sizeof e[ne].name, "__metadata__.npy");
        zip_put(out, &e[ne], npy.s, npy.n, deflate);
        ne++;
        rt_buf_free(&json);
        rt_buf_free(&text);
    }
    zip_finish(out, e, ne);
    rt_buf_free(&npy);
    free(e);
}

void nn_weights_encode(const nn_weights *w, nn_wformat f, rt_buf *out) {
    if (f == NN_WFMT_SAFETENSORS) encode_safetensors(w, out);
    else encode_npz(w, f == NN_WFMT_NPZ_DEFLATE, out);
}

rt_status nn_weights_save(const nn_weights *w, nn_wformat f, const char *path, rt_err *err) {
    if (f != NN_WFMT_SAFETENSORS) {
        uint64_t total = 0;
        for (int i = 0; i < w->n; i++) {
            total += (uint64_t)w->t[i].n * 4u + 256u;
            if (strlen(w->t[i].name) + 5 >= sizeof(((zip_entry *)0)->name))
                return rt_err_set(err, RT_ERR_ARG, "%s: tensor name '%s' is too long for an .npz entry", path,
                                  w->t[i].name);
        }
        if (total > 0xF0000000u || w->n > 60000)
            return rt_err_set(err, RT_ERR_ARG, "%s: %d tensors, %llu bytes: more than an .npz without zip64 "
                              "holds (4 GiB); use --format safetensors", path, w->n, (unsigned long long)total);
    }
    rt_buf b = { 0 };
    nn_weights_encode(w, f, &b);
    rt_status st = rt_write_atomic(path, b.s, b.n, err);
    rt_buf_free(&b);
    return st;
}

// ---- reading: common ----

typedef struct rd {
    const char *path;
    rt_err *err;
} rd;

static rt_status bad(const rd *r, const char *fmt, ...) RT_PRINTF(2, 3);
static rt_status bad(const rd *r, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rt_err_set(r->err, RT_ERR_FORMAT, "%s: %s", r->path, msg);
}

typedef enum { DT_F32, DT_F64, DT_F16, DT_BF16, DT_NONE } dtype;
static const int dt_size[] = { 4, 8, 2, 2 };

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, bits;
    if (exp == 0) {
        float v = ldexpf((float)mant, -24);
        return sign ? -v : v;
    }
    bits = exp == 31 ? sign | 0x7F800000u | (mant << 13) : sign | ((exp + 112u) << 23) | (mant << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* n values of type dt at p (little-endian unless big) as floats. */
static float *convert(const unsigned char *p, int64_t n, dtype dt, bool big) {
    float *out = rt_xmalloc((size_t)(n ? n : 1) * sizeof *out);
    int sz = dt_size[dt];
    unsigned char tmp[8];
    for (int64_t i = 0; i < n; i++) {
        const unsigned char *q = p + (size_t)i * (size_t)sz;
        if (big) {
            for (int k = 0; k < sz; k++) tmp[k] = q[sz - 1 - k];
            q = tmp;
        }
        switch (dt) {
        case DT_F32: memcpy(&out[i], q, 4); break;
        case DT_F64: { double d; memcpy(&d, q, 8); out[i] = (float)d; break; }
        case DT_F16: out[i] = half_to_float((uint16_t)get_le(q, 2)); break;
        case DT_BF16: { uint32_t bits = (uint32_t)get_le(q, 2) << 16; memcpy(&out[i], &bits, 4); break; }
        default: RT_ABORT("dtype %d", (int)dt);
        }
    }
    return out;
}

static const char *shape_str(int ndim, const int64_t *shape, char *buf, size_t size) {
    size_t k = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < ndim && k < size; d++)
        k += (size_t)snprintf(buf + k, size - k, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (k < size) snprintf(buf + k, size - k, ")");
    return buf;
}

// ---- reading safetensors: a strict JSON parser for its header ----

typedef struct jp {
    const rd *r;
    const unsigned char *s;
    size_t n, i;
} jp;

static bool jfail(jp *p, const char *what) {
    bad(p->r, "safetensors header is not valid: %s at byte %zu of the header; the file is damaged or not a "
        "safetensors file", what, p->i);
    return false;
}

static void jws(jp *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}

static bool jchar(jp *p, char c) {
    jws(p);
    if (p->i < p->n && p->s[p->i] == c) {
        p->i++;
        return true;
    }
    return false;
}

static int hexval(unsigned char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool j4hex(jp *p, uint32_t *u) {
    if (p->n - p->i < 4) return jfail(p, "a truncated \\u escape");
    *u = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p->s[p->i++]);
        if (h < 0) return jfail(p, "a bad \\u escape");
        *u = *u << 4 | (uint32_t)h;
    }
    return true;
}

static void put_utf8(rt_buf *b, uint32_t c) {
    char u[4];
    if (c < 0x80) { u[0] = (char)c; rt_buf_put(b, u, 1); }
    else if (c < 0x800) { u[0] = (char)(0xC0 | c >> 6); u[1] = (char)(0x80 | (c & 0x3F)); rt_buf_put(b, u, 2); }
    else if (c < 0x10000) {
        u[0] = (char)(0xE0 | c >> 12); u[1] = (char)(0x80 | (c >> 6 & 0x3F)); u[2] = (char)(0x80 | (c & 0x3F));
        rt_buf_put(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | c >> 18); u[1] = (char)(0x80 | (c >> 12 & 0x3F)); u[2] = (char)(0x80 | (c >> 6 & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        rt_buf_put(b, u, 4);
    }
}

/* A string into out (emptied first); NUL (\u0000) is refused: names and metadata are C strings. */
static bool jstring(jp *p, rt_buf *out) {
    out->n = 0;
    rt_buf_put(out, "", 0);
    if (!jchar(p, '"')) return jfail(p, "a string expected");
    for (;;) {
        if (p->i >= p->n) return jfail(p, "an unterminated string");
        unsigned char c = p->s[p->i++];
        if (c == '"') return true;
        if (c < 0x20) return jfail(p, "a control character in a string");
        if (c != '\\') {
            rt_buf_put(out, (const char *)&c, 1);
            continue;
        }
        if (p->i >= p->n) return jfail(p, "an unterminated string");
        c = p->s[p->i++];
        const char *simple = strchr("\"\\/bfnrt", c);
        if (c && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            rt_buf_put(out, &map[simple - "\"\\/bfnrt"], 1);
            continue;
        }
        if (c != 'u') return jfail(p, "a bad escape in a string");
        uint32_t u;
        if (!j4hex(p, &u)) return false;
        if (u >= 0xD800 && u < 0xDC00) {
            uint32_t lo;
            if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') return jfail(p, "a lone surrogate");
            p->i += 2;
            if (!j4hex(p, &lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return jfail(p, "a lone surrogate");
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        } else if (u >= 0xDC00 && u < 0xE000) {
            return jfail(p, "a lone surrogate");
        }
        if (u == 0) return jfail(p, "a NUL character (\\u0000) in a string");
        put_utf8(out, u);
    }
}

/* A non-negative integer below 2^53 (what JSON readers carry exactly). */
static bool juint(jp *p, uint64_t *v) {
    jws(p);
    size_t start = p->i;
    *v = 0;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
        *v = *v * 10 + (uint64_t)(p->s[p->i++] - '0');
        if (*v >= (1ull << 53)) return jfail(p, "an integer too large");
    }
    if (p->i == start) return jfail(p, "a non-negative integer expected");
    if (p->i - start > 1 && p->s[start] == '0') return jfail(p, "an integer with a leading zero");
    if (p->i < p->n && (p->s[p->i] == '.' || p->s[p->i] == 'e' || p->s[p->i] == 'E'))
        return jfail(p, "a fractional number where an integer belongs");
    return true;
}

/* [ uint, ... ] into v[0..max); *count gets the length. */
static bool juints(jp *p, uint64_t *v, int max, int *count, const char *what) {
    *count = 0;
    if (!jchar(p, '[')) return jfail(p, what);
    if (jchar(p, ']')) return true;
    do {
        if (*count == max) return jfail(p, "too many entries in a list (shape has at most 8 dimensions, data_offsets 2)");
        if (!juint(p, &v[(*count)++])) return false;
    } while (jchar(p, ','));
    if (!jchar(p, ']')) return jfail(p, "',' or ']' expected in a list");
    return true;
}

typedef struct st_entry { char *name; dtype dt; int ndim; int64_t shape[NN_W_MAX_DIMS]; uint64_t begin, end; } st_entry;

static bool st_dtype(jp *p, const char *s, dtype *dt) {
    static const char *const names[] = { "F32", "F64", "F16", "BF16" };
    for (int k = 0; k < 4; k++)
        if (strcmp(s, names[k]) == 0) { *dt = (dtype)k; return true; }
    bad(p->r, "tensor dtype \"%s\" is not one vibrun reads (F32, F64, F16, BF16: floating point); convert "
        "the tensor to float32 before saving it", s);
    return false;
}

/* One tensor's object { "dtype": ..., "shape": [...], "data_offsets": [b, e] }. */
static bool st_tensor(jp *p, st_entry *e, rt_buf *tmp) {
    bool has[3] = { false, false, false };
    if (!jchar(p, '{')) return jfail(p, "a tensor's { dtype, shape, data_offsets } expected");
    if (!jchar(p, '}')) {
        do {
            if (!jstring(p, tmp)) return false;
            if (!jchar(p, ':')) return jfail(p, "':' expected");
            const char *k = rt_buf_str(tmp);
            int which = strcmp(k, "dtype") == 0 ? 0 : strcmp(k, "shape") == 0 ? 1 : strcmp(k, "data_offsets") == 0 ? 2 : -1;
            if (which < 0) {
                bad(p->r, "tensor '%s' has the key \"%s\"; safetensors tensors have dtype, shape and data_offsets", e->name, k);
                return false;
            }
            if (has[which]) return jfail(p, "a key given twice");
            has[which] = true;
            if (which == 0) {
                if (!jstring(p, tmp) || !st_dtype(p, rt_buf_str(tmp), &e->dt)) return false;
            } else if (which == 1) {
                uint64_t v[NN_W_MAX_DIMS];
                if (!juints(p, v, NN_W_MAX_DIMS, &e->ndim, "the shape, a list of integers, expected")) return false;
                for (int d = 0; d < e->ndim; d++) e->shape[d] = (int64_t)v[d];
            } else {
                uint64_t v[2];
                int c;
                if (!juints(p, v, 2, &c, "data_offsets, [begin, end], expected")) return false;
                if (c != 2) return jfail(p, "data_offsets with other than 2 entries");
                e->begin = v[0], e->end = v[1];
            }
        } while (jchar(p, ','));
        if (!jchar(p, '}')) return jfail(p, "',' or '}' expected in a tensor's object");
    }
    if (!has[0] || !has[1] || !has[2]) {
        bad(p->r, "tensor '%s' lacks its %s", e->name, !has[0] ? "dtype" : !has[1] ? "shape" : "data_offsets");
        return false;
    }
    return true;
}

static bool st_meta(jp *p, nn_weights *w, rt_buf *k, rt_buf *v) {
    jws(p);
    if (p->n - p->i >= 4 && memcmp(p->s + p->i, "null", 4) == 0) {
        p->i += 4;
        return true;
    }
    if (!jchar(p, '{')) return jfail(p, "__metadata__ must be an object of strings");
    if (jchar(p, '}')) return true;
    do {
        if (!jstring(p, k)) return false;
        if (!jchar(p, ':')) return jfail(p, "':' expected");
        jws(p);
        if (p->i >= p->n || p->s[p->i] != '"') return jfail(p, "__metadata__ values must be strings");
        if (!jstring(p, v)) return false;
        nn_weights_meta(w, rt_buf_str(k), rt_buf_str(v));
    } while (jchar(p, ','));
    if (!jchar(p, '}')) return jfail(p, "',' or '}' expected in __metadata__");
    return true;
}

static int entry_cmp(const void *a, const void *b) {
    const st_entry *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static rt_status decode_safetensors(const unsigned char *buf, size_t size, const rd *r, nn_weights *w) {
    if (size < 8) return bad(r, "is %zu bytes, shorter than a safetensors header length (8); the file is truncated", size);
    uint64_t hlen = get_le(buf, 8);
    if (hlen > ST_MAX_HEADER)
        return bad(r, "declares a safetensors header of %llu bytes (more than the format's 100 MB): not a safetensors "
                   "file, or a damaged one", (unsigned long long)hlen);
    if (hlen > size - 8)
        return bad(r, "declares a safetensors header of %llu bytes but only %zu follow; the file is truncated",
                   (unsigned long long)hlen, size - 8);
    if (hlen < 2 || buf[8] != '{') return bad(r, "is not a safetensors file (its header does not start with '{')");
    jp p = { r, buf + 8, (size_t)hlen, 0 };
    const unsigned char *data = buf + 8 + hlen;
    uint64_t dsize = size - 8 - hlen;
    st_entry *e = NULL;
    int ne = 0, cap = 0;
    rt_buf k = { 0 }, v = { 0 };
    bool ok = jchar(&p, '{');
    bool seen_meta = false;
    if (ok && !jchar(&p, '}')) {
        do {
            ok = jstring(&p, &k) && (jchar(&p, ':') || jfail(&p, "':' expected"));
            if (!ok) break;
            if (strcmp(rt_buf_str(&k), "__metadata__") == 0) {
                ok = !seen_meta || jfail(&p, "__metadata__ given twice");
                seen_meta = true;
                ok = ok && st_meta(&p, w, &k, &v);
                if (!ok) break;
                continue;
            }
            for (int i = 0; i < ne && ok; i++)
                if (strcmp(e[i].name, rt_buf_str(&k)) == 0) ok = bad(r, "names the tensor '%s' twice", e[i].name) == RT_OK;
            if (!ok) break;
            if (ne == cap) {
                cap = cap ? 2 * cap : 16;
                st_entry *grown = realloc(e, (size_t)cap * sizeof *e);
                if (!grown) RT_ABORT("out of memory reading %s", r->path);
                e = grown;
            }
            memset(&e[ne], 0, sizeof e[ne]);
            e[ne].name = rt_xstrdup(rt_buf_str(&k));
            ne++;
            ok = st_tensor(&p, &e[ne - 1], &v);
        } while (ok && jchar(&p, ','));
        ok = ok && (jchar(&p, '}') || jfail(&p, "',' or '}' expected"));
    }
    if (ok) {
        jws(&p);
        if (p.i != p.n) ok = jfail(&p, "bytes after the header's object");
    }
    /* Each tensor's bytes: its shape times its dtype, inside the data, and the data covered without a gap
    ** or an overlap (the reference reader's rule). */
    for (int i = 0; ok && i < ne; i++) {
        char sh[160];
        int64_t n = shape_product(e[i].ndim, e[i].shape);
        if (n < 0 || (uint64_t)n > dsize) {
            ok = bad(r, "tensor '%s' has shape %s, more elements than the file's %llu data bytes hold", e[i].name,
                     shape_str(e[i].ndim, e[i].shape, sh, sizeof sh), (unsigned long long)dsize) == RT_OK;
        } else if (e[i].begin > e[i].end || e[i].end > dsize) {
            ok = bad(r, "tensor '%s' has data_offsets [%llu, %llu] outside the %llu data bytes; the file is truncated "
                     "or damaged", e[i].name, (unsigned long long)e[i].begin, (unsigned long long)e[i].end,
                     (unsigned long long)dsize) == RT_OK;
        } else if (e[i].end - e[i].begin != (uint64_t)n * (uint64_t)dt_size[e[i].dt]) {
            ok = bad(r, "tensor '%s' has shape %s of %d-byte values (%llu bytes) but data_offsets [%llu, %llu] span "
                     "%llu bytes", e[i].name, shape_str(e[i].ndim, e[i].shape, sh, sizeof sh), dt_size[e[i].dt],
                     (unsigned long long)n * (unsigned long long)dt_size[e[i].dt], (unsigned long long)e[i].begin,
                     (unsigned long long)e[i].end, (unsigned long long)(e[i].end - e[i].begin)) == RT_OK;
        }
    }
    if (ok && ne) {
        st_entry *sorted = rt_xmalloc((size_t)ne * sizeof *sorted);
        memcpy(sorted, e, (size_t)ne * sizeof *sorted);
        qsort(sorted, (size_t)ne, sizeof *sorted, entry_cmp);
        uint64_t at = 0;
        for (int i = 0; ok && i < ne; i++) {
            if (sorted[i].begin != at)
                ok = bad(r, "tensor '%s' starts at data byte %llu where %llu was expected (a gap or an overlap in the "
                         "data); the file is damaged", sorted[i].name, (unsigned long long)sorted[i].begin,
                         (unsigned long long)at) == RT_OK;
            at = sorted[i].end;
        }
        free(sorted);
        if (ok && at != dsize)
            ok = bad(r, "holds %llu data bytes after the header but its tensors use %llu; the file is damaged",
                     (unsigned long long)dsize, (unsigned long long)at) == RT_OK;
    } else if (ok && dsize) {
        ok = bad(r, "holds %llu data bytes but no tensor", (unsigned long long)dsize) == RT_OK;
    }
    for (int i = 0; ok && i < ne; i++) {
        int64_t n = shape_product(e[i].ndim, e[i].shape);
        add_owned(w, e[i].name, e[i].ndim, e[i].shape, convert(data + e[i].begin, n, e[i].dt, false));
    }
    for (int i = 0; i < ne; i++) free(e[i].name);
    free(e);
    rt_buf_free(&k);
    rt_buf_free(&v);
    return ok ? RT_OK : r->err->status ? r->err->status : RT_ERR_FORMAT;
}

// ---- reading .npy: the header is a Python dict literal ----

typedef struct py { const rd *r; const char *entry; const unsigned char *s; size_t n, i; } py;

static bool pyfail(py *p, const char *what) {
    bad(p->r, "array '%s': its .npy header is not valid (%s at byte %zu of it); the file is damaged", p->entry,
        what, p->i);
    return false;
}

static void pyws(py *p) { while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\n')) p->i++; }

static bool pychar(py *p, char c) {
    pyws(p);
    if (p->i < p->n && p->s[p->i] == c) { p->i++; return true; }
    return false;
}

/* A quoted string (no escapes: numpy's keys and descr have none) into out[0..size). */
static bool pystr(py *p, char *out, size_t size) {
    pyws(p);
    if (p->i >= p->n || (p->s[p->i] != '\'' && p->s[p->i] != '"')) return pyfail(p, "a quoted string expected");
    unsigned char q = p->s[p->i++];
    size_t k = 0;
    while (p->i < p->n && p->s[p->i] != q) {
        if (p->s[p->i] == '\\' || k + 1 >= size) return pyfail(p, "an unexpected string");
        out[k++] = (char)p->s[p->i++];
    }
    if (p->i >= p->n) return pyfail(p, "an unterminated string");
    p->i++;
    out[k] = '\0';
    return true;
}

static bool pyshape(py *p, int *ndim, int64_t *shape) {
    *ndim = 0;
    if (!pychar(p, '(')) return pyfail(p, "the shape, a tuple, expected");
    while (!pychar(p, ')')) {
        if (*ndim == NN_W_MAX_DIMS) return pyfail(p, "more than 8 dimensions");
        pyws(p);
        size_t start = p->i;
        int64_t v = 0;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
            if (v > (INT64_MAX - 9) / 10) return pyfail(p, "a dimension too large");
            v = v * 10 + (p->s[p->i++] - '0');
        }
        if (p->i == start) return pyfail(p, "a dimension (a non-negative integer) expected");
        if (p->i < p->n && p->s[p->i] == 'L') p->i++;      /* Python 2's long */
        shape[(*ndim)++] = v;
        if (!pychar(p, ',')) {
            if (!pychar(p, ')')) return pyfail(p, "',' or ')' expected in the shape");
            break;
        }
    }
    return true;
}

/* The .npy file buf[0..n) of entry `name` into w (its name without ".npy"); __metadata__ is skipped. */
static bool decode_npy(const rd *r, const char *entry, const unsigned char *buf, size_t n, nn_weights *w) {
    if (n < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return bad(r, "entry '%s' is not an .npy array (no \\x93NUMPY magic); vibrun reads .npz files of numpy "
                   "arrays (numpy.savez)", entry) == RT_OK;
    int major = buf[6];
    size_t hstart = major == 1 ? 10 : 12;
    if (major < 1 || major > 3) return bad(r, "array '%s' is .npy format version %d.%d; vibrun reads 1.0 to 3.0", entry, major, buf[7]) == RT_OK;
    if (n < hstart) return bad(r, "array '%s' is truncated inside its header", entry) == RT_OK;
    uint64_t hlen = get_le(buf + 8, major == 1 ? 2 : 4);
    if (hlen > n - hstart) return bad(r, "array '%s' declares a %llu-byte header but %zu bytes follow; it is truncated", entry,
                                      (unsigned long long)hlen, n - hstart) == RT_OK;
    py p = { r, entry, buf + hstart, (size_t)hlen, 0 };
    char descr[32] = "", key[32];
    bool fortran = false, has[3] = { false, false, false };
    int ndim = 0;
    int64_t shape[NN_W_MAX_DIMS];
    if (!pychar(&p, '{')) return pyfail(&p, "'{' expected");
    while (!pychar(&p, '}')) {
        if (!pystr(&p, key, sizeof key)) return false;
        if (!pychar(&p, ':')) return pyfail(&p, "':' expected");
        int which = strcmp(key, "descr") == 0 ? 0 : strcmp(key, "fortran_order") == 0 ? 1 : strcmp(key, "shape") == 0 ? 2 : -1;
        if (which < 0 || has[which]) return pyfail(&p, which < 0 ? "an unknown key" : "a key given twice");
        has[which] = true;
        if (which == 0 && !pystr(&p, descr, sizeof descr)) return false;
        if (which == 1) {
            pyws(&p);
            if (p.n - p.i >= 4 && memcmp(p.s + p.i, "True", 4) == 0) fortran = true, p.i += 4;
            else if (p.n - p.i >= 5 && memcmp(p.s + p.i, "False", 5) == 0) p.i += 5;
            else return pyfail(&p, "True or False expected");
        }
        if (which == 2 && !pyshape(&p, &ndim, shape)) return false;
        if (!pychar(&p, ',')) {
            if (!pychar(&p, '}')) return pyfail(&p, "',' or '}' expected");
            break;
        }
    }
    if (!has[0] || !has[1] || !has[2]) return pyfail(&p, "descr, fortran_order or shape missing");
    char name[160];
    size_t el = strlen(entry);
    snprintf(name, sizeof name, "%.*s", (int)(el - 4), entry);
    if (strcmp(name, "__metadata__") == 0 && descr[0] && descr[1] == 'U') return true;
    dtype dt = DT_NONE;
    bool big = descr[0] == '>';
    if ((descr[0] == '<' || descr[0] == '>' || descr[0] == '=') && descr[1] == 'f')
        dt = strcmp(descr + 2, "4") == 0 ? DT_F32 : strcmp(descr + 2, "8") == 0 ? DT_F64 : strcmp(descr + 2, "2") == 0 ? DT_F16 : DT_NONE;
    if (dt == DT_NONE)
        return bad(r, "array '%s' has dtype '%s'; vibrun reads floating-point arrays (float32, float64, float16): "
                   "convert it with .astype(numpy.float32)", name, descr) == RT_OK;
    int64_t cnt = shape_product(ndim, shape);
    size_t avail = n - hstart - (size_t)hlen;
    char sh[160];
    if (cnt < 0 || (uint64_t)cnt > avail / (uint64_t)dt_size[dt] || (uint64_t)cnt * (uint64_t)dt_size[dt] != avail)
        return bad(r, "array '%s' has shape %s of %d-byte values but %zu data bytes; the file is truncated or damaged",
                   name, shape_str(ndim, shape, sh, sizeof sh), dt_size[dt], avail) == RT_OK;
    if (nn_weights_find(w, name)) return bad(r, "holds the array '%s' twice", name) == RT_OK;
    float *v = convert(buf + hstart + hlen, cnt, dt, big);
    if (fortran && ndim > 1) {          /* column-major (numpy.savez of a transposed array): to row-major */
        float *c = rt_xmalloc((size_t)cnt * sizeof *c);
        int64_t idx[NN_W_MAX_DIMS] = { 0 };
        for (int64_t i = 0; i < cnt; i++) {         /* i walks row-major; f is its column-major offset */
            int64_t f = 0, stride = 1;
            for (int d = 0; d < ndim; d++) f += idx[d] * stride, stride *= shape[d];
            c[i] = v[f];
            for (int d = ndim - 1; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
        }
        free(v);
        v = c;
    }
    add_owned(w, name, ndim, shape, v);
    return true;
}

// ---- reading .npz: the zip's central directory, each entry stored or deflated ----

static rt_status decode_npz(const unsigned char *buf, size_t size, const rd *r, nn_weights *w) {
    size_t eocd = SIZE_MAX;
    if (size >= 22)
        for (size_t i = size - 22 + 1; i-- > 0 && size - i <= 22 + 65535;)
            if (get_le(buf + i, 4) == 0x06054b50u && i + 22 + get_le(buf + i + 20, 2) == size) { eocd = i; break; }
    if (eocd == SIZE_MAX) return bad(r, "is a zip without its end record (truncated?): not a complete .npz file");
    const unsigned char *e = buf + eocd;
    uint64_t count = get_le(e + 10, 2), cdsize = get_le(e + 12, 4), cdoff = get_le(e + 16, 4);
    if (get_le(e + 4, 2) || get_le(e + 6, 2) || get_le(e + 8, 2) != count)
        return bad(r, "is a zip split over several disks, which no .npz is");
    if (count == 0xFFFF || cdoff == 0xFFFFFFFFu)
        return bad(r, "is a zip64 archive (over 4 GiB or 65535 entries); vibrun reads smaller .npz files, or use "
                   "safetensors");
    if (cdoff > eocd || cdsize > eocd - cdoff)
        return bad(r, "has its zip directory (%llu bytes at %llu) outside the file's %zu bytes; it is truncated or "
                   "damaged", (unsigned long long)cdsize, (unsigned long long)cdoff, size);
    size_t at = (size_t)cdoff, end = (size_t)(cdoff + cdsize);
    rt_status st = RT_OK;
    for (uint64_t k = 0; k < count && !st; k++) {
        if (end - at < 46 || get_le(buf + at, 4) != 0x02014b50u) {
            st = bad(r, "zip directory entry %llu of %llu is damaged", (unsigned long long)k + 1, (unsigned long long)count);
            break;
        }
        const unsigned char *c = buf + at;
        uint64_t flags = get_le(c + 8, 2), method = get_le(c + 10, 2), crc = get_le(c + 16, 4);
        uint64_t csize = get_le(c + 20, 4), usize = get_le(c + 24, 4), off = get_le(c + 42, 4);
        size_t nlen = get_le(c + 28, 2), xlen = get_le(c + 30, 2), clen = get_le(c + 32, 2);
        if (end - at - 46 < nlen + xlen + clen) {
            st = bad(r, "zip directory entry %llu runs past the directory", (unsigned long long)k + 1);
            break;
        }
        char entry[160];
        if (nlen == 0 || nlen >= sizeof entry || memchr(c + 46, 0, nlen)) {
            st = bad(r, "zip entry %llu has an empty, overlong or binary name", (unsigned long long)k + 1);
            break;
        }
        memcpy(entry, c + 46, nlen);
        entry[nlen] = '\0';
        /* zip64 sizes and offset, in this order, for the fields that hold 0xFFFFFFFF (numpy forces zip64). */
        const unsigned char *x = c + 46 + nlen, *xend = x + xlen;
        while (xend - x >= 4) {
            uint64_t id = get_le(x, 2), len = get_le(x + 2, 2);
            if ((uint64_t)(xend - x - 4) < len) break;
            if (id == 1) {
                const unsigned char *q = x + 4, *qend = q + len;
                uint64_t *f[3] = { &usize, &csize, &off };
                for (int j = 0; j < 3; j++)
                    if (*f[j] == 0xFFFFFFFFu && qend - q >= 8) *f[j] = get_le(q, 8), q += 8;
            }
            x += 4 + len;
        }
        at += 46 + nlen + xlen + clen;
        if (flags & 1) { st = bad(r, "zip entry '%s' is encrypted", entry); break; }
        if (method != 0 && method != 8) {
            st = bad(r, "zip entry '%s' is compressed with method %llu; vibrun reads stored and deflated entries "
                     "(numpy.savez, numpy.savez_compressed)", entry, (unsigned long long)method);
            break;
        }
        if (nlen < 5 || strcmp(entry + nlen - 4, ".npy") != 0) {
            st = bad(r, "zip entry '%s' is not an .npy array; an .npz holds only name.npy entries", entry);
            break;
        }
        if (off > cdoff || cdoff - off < 30 || get_le(buf + off, 4) != 0x04034b50u) {
            st = bad(r, "zip entry '%s': its local header (at %llu) is missing or damaged", entry, (unsigned long long)off);
            break;
        }
        uint64_t lnlen = get_le(buf + off + 26, 2), lxlen = get_le(buf + off + 28, 2);
        uint64_t data = off + 30 + lnlen + lxlen;
        if (data > cdoff || csize > cdoff - data) {
            st = bad(r, "zip entry '%s' (%llu bytes at %llu) runs past the entries' end; the file is truncated or damaged",
                     entry, (unsigned long long)csize, (unsigned long long)data);
            break;
        }
        if (lnlen != nlen || memcmp(buf + off + 30, entry, nlen) != 0) {
            st = bad(r, "zip entry '%s': its local header names another file; the file is damaged", entry);
            break;
        }
        if ((method == 0 && usize != csize) || (method == 8 && usize > (csize + 1) * 1100))
            st = bad(r, "zip entry '%s' declares %llu bytes uncompressed from %llu: impossible for its method; the file "
                     "is damaged", entry, (unsigned long long)usize, (unsigned long long)csize);
        if (!st && usize > (uint64_t)SIZE_MAX / 2) st = bad(r, "zip entry '%s' is too large", entry);
        if (st) break;
        unsigned char *raw = (unsigned char *)(uintptr_t)(buf + data), *own = NULL;
        if (method == 8) {
            own = rt_xmalloc((size_t)usize + 1);
            z_stream z;
            memset(&z, 0, sizeof z);
            if (inflateInit2(&z, -15) != Z_OK) RT_ABORT("zlib: inflateInit2 failed");
            uint64_t in_left = csize, out_done = 0;
            int zr = Z_OK;
            z.next_in = raw;
            z.next_out = own;
            /* fed in pieces of at most 1 GiB (zlib counts in uInt); room for one byte more than
            ** declared, so that a stream that is longer shows */
            for (;;) {
                if (z.avail_in == 0 && in_left > 0) {
                    z.avail_in = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
                    in_left -= z.avail_in;
                }
                uint64_t room = usize + 1 - out_done;
                if (z.avail_out == 0 && room > 0) z.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
                uInt in0 = z.avail_in, out0 = z.avail_out;
                zr = inflate(&z, Z_NO_FLUSH);
                out_done += out0 - z.avail_out;
                if (zr == Z_STREAM_END || (zr != Z_OK && zr != Z_BUF_ERROR)) break;
                if (z.avail_in == in0 && z.avail_out == out0) {         /* no progress: input or room used up */
                    zr = Z_DATA_ERROR;
                    break;
                }
            }
            inflateEnd(&z);
            if (zr != Z_STREAM_END || out_done != usize) {
                st = bad(r, "zip entry '%s': its deflated data are damaged or truncated (%s)", entry,
                         zr == Z_STREAM_END ? "another size than declared" : "no valid end of stream");
                free(own);
                break;
            }
            raw = own;
        }
        uLong got = crc32(0L, Z_NULL, 0);
        for (uint64_t done = 0; done < usize;) {
            uInt chunk = usize - done > (1u << 30) ? (1u << 30) : (uInt)(usize - done);
            got = crc32(got, raw + done, chunk);
            done += chunk;
        }
        if ((uint64_t)got != crc) st = bad(r, "zip entry '%s' fails its CRC check; the file is damaged", entry);
        else if (!decode_npy(r, entry, raw, (size_t)usize, w)) st = r->err->status ? r->err->status : RT_ERR_FORMAT;
        free(own);
    }
    return st;
}

rt_status nn_weights_decode(const unsigned char *buf, size_t size, const char *path, nn_weights *w, rt_err *err) {
    nn_weights_init(w);
    rt_err local = { 0 };
    rd r = { path, err ? err : &local };
    /* A zip starts with "PK" (a local header, or the end record of an empty one); a safetensors file
    ** whose header length starts with those two bytes has its JSON's '{' at byte 8, where a zip has
    ** its compression method. */
    bool zip = size >= 2 && memcmp(buf, "PK", 2) == 0 && !(size > 8 && buf[8] == '{');
    rt_status st = zip ? decode_npz(buf, size, &r, w) : decode_safetensors(buf, size, &r, w);
    if (st) nn_weights_free(w);
    return st;
}

rt_status nn_weights_load(const char *path, nn_weights *w, rt_err *err) {
    size_t size = 0;
    errno = 0;
    char *buf = rt_read_file(path, &size);
    if (!buf) {
        nn_weights_init(w);
        return rt_err_set(err, RT_ERR_IO, "%s: cannot read (%s); check the path", path, strerror(errno ? errno : EIO));
    }
    rt_status st = nn_weights_decode((const unsigned char *)buf, size, path, w, err);
    free(buf);
    return st;
}

static void digest_hex(struct sha256_ctx *ctx, char hex[65]) {
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(ctx, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

void nn_sha256_hex(const void *data, size_t n, char hex[65]) {
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, n, data);
    digest_hex(&ctx, hex);
}

rt_status nn_file_sha256(const char *path, char hex[65], rt_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return rt_err_set(err, RT_ERR_IO, "%s: cannot read (%s); check the path", path, strerror(errno));
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sha256_update(&ctx, n, chunk);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) return rt_err_set(err, RT_ERR_IO, "%s: cannot read", path);
    digest_hex(&ctx, hex);
    return RT_OK;
}

// ---- a model's tensors ----

typedef struct mtensor {
    char name[160];
    int ndim;
    int64_t shape[4];
    float *at;                  /* in the buffers given to model_tensors */
    int64_t n;
} mtensor;

/* The named tensors of m over params (and state, NULL for none), in nn_weights.h's order. */
static int model_tensors(const nn_model *m, float *params, float *state, mtensor **out) {
    int n = 0, cap = m->params.n + 2 * m->n;
    mtensor *t = rt_xcalloc((size_t)(cap ? cap : 1), sizeof *t);
    for (int i = 0; i < m->params.n; i++) {
        const rt_param *p = &m->params.items[i];
        mtensor *x = &t[n++];
        snprintf(x->name, sizeof x->name, "%s", p->name);
        x->ndim = p->t->ndim;
        for (int d = 0; d < x->ndim; d++) x->shape[d] = p->t->shape[d];
        x->n = p->t->n;
        x->at = params + p->off;
    }
    for (int i = 0; state && i < m->n; i++) {
        const nn_layer *l = &m->layers[i];
        if (!l->has_state) continue;
        bool res = l->spec.kind == NN_LAYER_RESIDUAL;
        int C = res ? l->shape[0] : l->in_shape[0];
        for (int k = 0; k < 2; k++) {
            mtensor *x = &t[n++];
            snprintf(x->name, sizeof x->name, "%s.%srunning_%s", l->spec.name, res ? "shortcut_bn." : "", k ? "var" : "mean");
            x->ndim = 1;
            x->shape[0] = C;
            x->n = C;
            x->at = state + l->state_off + (size_t)k * (size_t)C;
        }
    }
    *out = t;
    return n;
}

void nn_weights_of_model(const nn_model *m, const float *params, const float *state, nn_weights *w) {
    mtensor *t;
    int n = model_tensors(m, (float *)(uintptr_t)params, (float *)(uintptr_t)state, &t);
    for (int i = 0; i < n; i++) nn_weights_add(w, t[i].name, t[i].ndim, t[i].shape, t[i].at);
    free(t);
}

/* The layer part of a tensor name: up to the first '.'. */
static bool has_prefix(const char *name, const char *layer) {
    size_t k = strlen(layer);
    return strncmp(name, layer, k) == 0 && name[k] == '.';
}

/* Lines of a mismatch report: at most `show` are kept, the rest counted. */
typedef struct report { rt_buf b; int n, show; } report;

static void line(report *r, const char *fmt, ...) RT_PRINTF(2, 3);
static void line(report *r, const char *fmt, ...) {
    if (r->n++ >= r->show) return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rt_buf_printf(&r->b, "\n  %s", msg);
}

rt_status nn_weights_apply(nn_model *m, const nn_weights *w, const nn_load_spec *spec, bool apply, rt_err *err) {
    mtensor *t;
    int n = model_tensors(m, m->params.data, m->state, &t);
    report rep = { { 0 }, 0, 6 };
    bool *used = rt_xcalloc((size_t)(w->n ? w->n : 1), sizeof *used);
    const nn_wtensor **src = rt_xcalloc((size_t)(n ? n : 1), sizeof *src);
    char a[160], b[160], file_name[400];
    for (int k = 0; k < spec->nlayers; k++) {
        bool found = false;
        for (int i = 0; i < n && !found; i++) found = has_prefix(t[i].name, spec->layers[k]) || strcmp(t[i].name, spec->layers[k]) == 0;
        if (!found) line(&rep, "layers: '%s' names no layer of the model that has parameters", spec->layers[k]);
    }
    for (int k = 0; k < spec->nmap; k++) {
        const char *key = spec->map[2 * k];
        bool found = false;
        for (int i = 0; i < n && !found; i++) found = has_prefix(t[i].name, key) || strcmp(t[i].name, key) == 0;
        if (!found) line(&rep, "map: '%s' names no tensor or layer of the model (the model's tensors are "
                         "named like %s)", key, n ? t[0].name : "h1.weight");
    }
    for (int i = 0; i < n; i++) {
        bool wanted = spec->nlayers == 0;
        for (int k = 0; k < spec->nlayers && !wanted; k++)
            wanted = has_prefix(t[i].name, spec->layers[k]) || strcmp(t[i].name, spec->layers[k]) == 0;
        if (!wanted) continue;
        /* the file's name: an exact entry of map, else the layer's, else the model's own name */
        snprintf(file_name, sizeof file_name, "%s", t[i].name);
        for (int k = 0; k < spec->nmap; k++)
            if (has_prefix(t[i].name, spec->map[2 * k]))
                snprintf(file_name, sizeof file_name, "%s%s", spec->map[2 * k + 1], t[i].name + strlen(spec->map[2 * k]));
        for (int k = 0; k < spec->nmap; k++)
            if (strcmp(t[i].name, spec->map[2 * k]) == 0) snprintf(file_name, sizeof file_name, "%s", spec->map[2 * k + 1]);
        const nn_wtensor *f = nn_weights_find(w, file_name);
        shape_str(t[i].ndim, t[i].shape, a, sizeof a);
        if (!f) {
            line(&rep, "%s %s: the file has no tensor '%s'", t[i].name, a, file_name);
            continue;
        }
        used[f - w->t] = true;
        bool same = f->ndim == t[i].ndim;
        for (int d = 0; same && d < f->ndim; d++) same = f->shape[d] == t[i].shape[d];
        if (!same) {
            bool transposed = f->ndim == 2 && t[i].ndim == 2 && f->shape[0] == t[i].shape[1] && f->shape[1] == t[i].shape[0];
            line(&rep, "%s: the model's shape is %s, the file's '%s' is %s%s", t[i].name, a, file_name,
                 shape_str(f->ndim, f->shape, b, sizeof b),
                 transposed ? " (transposed: vibrun's dense weights are (out, in), as PyTorch's; save W.T)" : "");
            continue;
        }
        src[i] = f;
    }
    if (spec->nlayers == 0)
        for (int j = 0; j < w->n; j++)
            if (!used[j])
                line(&rep, "the file's '%s' %s is used by no tensor of the model; map it (map = { layer = \"prefix\" "
                     "}) or load some layers only (layers = { ... })", w->t[j].name,
                     shape_str(w->t[j].ndim, w->t[j].shape, a, sizeof a));
    rt_status st = RT_OK;
    if (rep.n) {
        if (rep.n > rep.show) rt_buf_printf(&rep.b, "\n  ... and %d more", rep.n - rep.show);
        st = rt_err_set(err, RT_ERR_ARG, "%s: vib.load: %s does not fit the model (%d mismatch%s):%s", spec->where,
                        spec->path, rep.n, rep.n == 1 ? "" : "es", rt_buf_str(&rep.b));
    } else if (apply) {
        for (int i = 0; i < n; i++)
            if (src[i]) memcpy(t[i].at, src[i]->data, (size_t)t[i].n * sizeof(float));
    }
    rt_buf_free(&rep.b);
    free(used);
    free(src);
    free(t);
    return st;
}
