/*
** nn_mat.c: the MATLAB level-5 MAT-file reader. See nn_mat.h for what it reads and rejects.
**
** Layout (MathWorks, "MAT-File Format", level 5): a 128-byte header (116 bytes of text, 8 bytes
** of subsystem offset, a 16-bit version 0x0100 and the two characters 'I','M' as written by the
** saving machine: "IM" in the file means little-endian, "MI" big-endian), then data elements.
** An element is an 8-byte tag (32-bit type, 32-bit byte count) and its data padded to 8 bytes; in
** the small format the tag's upper 16 bits hold the count (1..4) and the data sits in the tag's
** second word. A variable is an miMATRIX element whose data is a sequence of sub-elements: array
** flags (miUINT32: class in the low byte, 0x800 complex, 0x200 logical), dimensions (miINT32),
** name (miINT8) and the real part; or an miCOMPRESSED element (not padded) that inflates to one
** miMATRIX element.
**
** The whole file is read into memory (files up to NN_MAT_MAX_BYTES). Every offset is checked
** against the end of the region it lies in before it is read: a tag against its enclosing
** element, a sub-element against its miMATRIX, a value against its sub-element.
*/
#include "nn_mat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "rt_text.h"

enum {
    MI_INT8 = 1, MI_UINT8, MI_INT16, MI_UINT16, MI_INT32, MI_UINT32, MI_SINGLE, MI_DOUBLE = 9,
    MI_INT64 = 12, MI_UINT64, MI_MATRIX, MI_COMPRESSED, MI_UTF8, MI_UTF16, MI_UTF32,
};

#define MAT_HEADER 128
#define MX_MAX_CLASS 17                 /* mxFUNCTION_CLASS 16 and mxOPAQUE_CLASS 17 exist too */

/* A region of bytes being parsed: the file itself, or one decompressed element. */
typedef struct mat_buf {
    const unsigned char *p;
    size_t n;
    bool big;                           /* big-endian file */
    const char *path;
    long long zoff;                     /* file offset of the miCOMPRESSED element, -1 for the file */
} mat_buf;

/* One data element: its type and where its data lies. */
typedef struct mat_elem {
    uint32_t type;
    size_t off, len;                    /* data bytes [off, off + len) */
    size_t next;                        /* where the element after it starts */
} mat_elem;

const char *nn_mat_class_name(nn_mat_class c) {
    static const char *const names[] = { "?", "cell", "struct", "object", "char", "sparse", "double",
                                         "single", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                                         "int64", "uint64", "function handle", "opaque" };
    if (c == NN_MAT_LOGICAL) return "logical";
    return (int)c >= 1 && (int)c <= MX_MAX_CLASS ? names[c] : "?";
}

static const char *type_name(uint32_t t) {
    static const char *const names[] = { "?", "miINT8", "miUINT8", "miINT16", "miUINT16", "miINT32",
                                         "miUINT32", "miSINGLE", "?", "miDOUBLE", "?", "?", "miINT64",
                                         "miUINT64", "miMATRIX", "miCOMPRESSED", "miUTF8", "miUTF16",
                                         "miUTF32" };
    return t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* Bytes per value of a numeric storage type; 0 for anything else. */
static int type_size(uint32_t t) {
    switch (t) {
    case MI_INT8: case MI_UINT8: return 1;
    case MI_INT16: case MI_UINT16: return 2;
    case MI_INT32: case MI_UINT32: case MI_SINGLE: return 4;
    case MI_DOUBLE: case MI_INT64: case MI_UINT64: return 8;
    }
    return 0;
}

/* k bytes at p as an unsigned integer in the file's byte order (any host). */
static uint64_t rd_uint(const unsigned char *p, int k, bool big) {
    uint64_t v = 0;
    for (int i = 0; i < k; i++) v = v << 8 | p[big ? i : k - 1 - i];
    return v;
}

static uint32_t rd32(const mat_buf *b, size_t off) {
    RT_ASSERT(off <= b->n && b->n - off >= 4);
    return (uint32_t)rd_uint(b->p + off, 4, b->big);
}

/* One value of numeric storage type t at p. */
static double rd_value(const unsigned char *p, uint32_t t, bool big) {
    int k = type_size(t);
    uint64_t u = rd_uint(p, k, big);
    switch (t) {
    case MI_INT8: return (double)(int8_t)(uint8_t)u;
    case MI_UINT8: case MI_UINT16: case MI_UINT32: return (double)u;
    case MI_INT16: return (double)(int16_t)(uint16_t)u;
    case MI_INT32: return (double)(int32_t)(uint32_t)u;
    case MI_INT64: return (double)(int64_t)u;
    case MI_UINT64: return (double)u;
    case MI_SINGLE: { uint32_t w = (uint32_t)u; float f; memcpy(&f, &w, 4); return (double)f; }
    case MI_DOUBLE: { double d; memcpy(&d, &u, 8); return d; }
    }
    RT_ABORT("rd_value: type %u is not numeric", (unsigned)t);
}

/* "path: <what>, byte B[ of the element decompressed from file byte F]: message" */
RT_PRINTF(5, 6)
static rt_status bad(const mat_buf *b, size_t off, const char *what, rt_err *err, const char *fmt, ...) {
    char msg[768], at[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (b->zoff >= 0)
        snprintf(at, sizeof at, "byte %zu of the element decompressed from file byte %lld", off, b->zoff);
    else
        snprintf(at, sizeof at, "byte %zu", off);
    return rt_err_set(err, RT_ERR_FORMAT, "%s: %s, %s: %s", b->path, what, at, msg);
}

/* The element whose tag is at off, inside [off, end). */
static rt_status read_tag(const mat_buf *b, size_t off, size_t end, const char *what, mat_elem *e,
                          rt_err *err) {
    if (end - off < 8)
        return bad(b, off, what, err, "a data element needs an 8-byte tag but only %zu bytes are left; the "
                   "file is truncated or corrupt", end - off);
    uint32_t w = rd32(b, off);
    if (w >> 16) {                                  /* small data element */
        e->type = w & 0xffffu;
        e->len = w >> 16;
        e->off = off + 4;
        e->next = off + 8;
        if (e->len > 4)
            return bad(b, off, what, err, "a small data element of %zu bytes (at most 4 fit); the file is "
                       "corrupt", e->len);
        return RT_OK;
    }
    e->type = w;
    e->off = off + 8;
    uint32_t len = rd32(b, off + 4);
    if (len > end - e->off)
        return bad(b, off, what, err, "a %s element of %u bytes, but only %zu bytes are left; the file is "
                   "truncated or corrupt", type_name(w), (unsigned)len, end - e->off);
    e->len = len;
    size_t pad = e->type == MI_COMPRESSED ? 0 : (8 - len % 8) % 8;
    e->next = end - e->off - e->len < pad ? end : e->off + e->len + pad;
    return RT_OK;
}

/* Inflates the zlib stream of an miCOMPRESSED element into a malloc'd buffer. */
static rt_status inflate_elem(const mat_buf *b, size_t tag_off, const mat_elem *e, unsigned char **out,
                              size_t *outn, rt_err *err) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return rt_err_set(err, RT_ERR_NOMEM, "%s: cannot start zlib", b->path);
    size_t cap = e->len < 1024 ? 4096 : 4 * e->len, n = 0;
    unsigned char *buf = NULL;
    rt_status st = RT_OK;
    z.next_in = (Bytef *)(uintptr_t)(b->p + e->off);   /* zlib does not write through next_in */
    z.avail_in = (uInt)e->len;
    for (;;) {
        if (cap > NN_MAT_MAX_BYTES) cap = NN_MAT_MAX_BYTES;
        unsigned char *nb = realloc(buf, cap);
        if (!nb) { st = rt_err_set(err, RT_ERR_NOMEM, "%s: out of memory inflating the element at byte %zu",
                                    b->path, tag_off); break; }
        buf = nb;
        z.next_out = buf + n;
        z.avail_out = (uInt)(cap - n);
        int r = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        if (r == Z_STREAM_END) break;
        if (r == Z_OK || r == Z_BUF_ERROR) {
            if (z.avail_out > 0 && z.avail_in == 0) {
                st = bad(b, tag_off, "compressed element", err, "the zlib stream ends early (%zu bytes "
                         "inflated); the file is truncated or corrupt", n);
                break;
            }
            if (z.avail_out == 0 && cap == NN_MAT_MAX_BYTES) {
                st = bad(b, tag_off, "compressed element", err, "inflates to more than %u bytes; the file "
                         "is corrupt or too large for this reader", (unsigned)NN_MAT_MAX_BYTES);
                break;
            }
            if (z.avail_out == 0) cap *= 2;
            continue;
        }
        if (r == Z_MEM_ERROR) {
            st = rt_err_set(err, RT_ERR_NOMEM, "%s: out of memory inflating the element at byte %zu", b->path,
                            tag_off);
        } else {
            st = bad(b, tag_off, "compressed element", err, "zlib cannot inflate it (%s); the file is corrupt",
                     z.msg ? z.msg : "bad data");
        }
        break;
    }
    inflateEnd(&z);
    if (st != RT_OK) { free(buf); return st; }
    *out = buf;
    *outn = n;
    return RT_OK;
}

/* The miMATRIX whose data is [off, end): fills v's header, and its data when want_data. */
static rt_status parse_matrix(const mat_buf *b, size_t off, size_t end, int index, bool want_data,
                              const char *want, nn_mat_var *v, rt_err *err) {
    char what[96];
    snprintf(what, sizeof what, "variable #%d", index + 1);
    memset(v, 0, sizeof *v);
    mat_elem e;
    rt_status st = read_tag(b, off, end, what, &e, err);
    if (st != RT_OK) return st;
    if (e.type != MI_UINT32 || e.len != 8)
        return bad(b, off, what, err, "array flags should be 8 bytes of miUINT32, found %zu bytes of %s; the "
                   "file is corrupt", e.len, type_name(e.type));
    uint32_t flags = rd32(b, e.off);
    uint32_t cls = flags & 0xffu;
    if (cls < 1 || cls > MX_MAX_CLASS)
        return bad(b, e.off, what, err, "unknown array class %u; the file is corrupt", (unsigned)cls);
    v->cls = (flags & 0x200u) && cls == NN_MAT_UINT8 ? NN_MAT_LOGICAL : (nn_mat_class)cls;
    v->complex = (flags & 0x800u) != 0;

    size_t at = e.next;
    st = read_tag(b, at, end, what, &e, err);
    if (st != RT_OK) return st;
    if (e.type != MI_INT32 || e.len % 4 || e.len / 4 < 2 || e.len / 4 > NN_MAT_MAX_DIMS)
        return bad(b, at, what, err, "dimensions should be 2..%d miINT32 values, found %zu bytes of %s; the "
                   "file is corrupt or has more dimensions than this reader supports", NN_MAT_MAX_DIMS, e.len,
                   type_name(e.type));
    v->ndims = (int)(e.len / 4);
    v->numel = 1;
    for (int i = 0; i < v->ndims; i++) {
        int32_t d = (int32_t)rd32(b, e.off + 4 * (size_t)i);
        if (d < 0) return bad(b, e.off, what, err, "dimension %d is %d; the file is corrupt", i + 1, (int)d);
        v->dims[i] = d;
        if (d && v->numel > INT64_MAX / 8 / d)
            return bad(b, e.off, what, err, "dimensions multiply to more than 2^60 elements; the file is corrupt");
        v->numel *= d;
    }

    at = e.next;
    st = read_tag(b, at, end, what, &e, err);
    if (st != RT_OK) return st;
    if (e.type != MI_INT8 && e.type != MI_UINT8 && e.type != MI_UTF8)
        return bad(b, at, what, err, "the array name should be miINT8 characters, found %s; the file is corrupt",
                   type_name(e.type));
    if (e.len >= sizeof v->name)
        return bad(b, at, what, err, "an array name of %zu bytes (MATLAB names have at most 63)", e.len);
    memcpy(v->name, b->p + e.off, e.len);
    v->name[e.len] = '\0';
    if (strlen(v->name) != e.len)
        return bad(b, at, what, err, "the array name holds a NUL byte; the file is corrupt");
    snprintf(what, sizeof what, "variable '%s'", v->name);
    if (!want_data || (want && strcmp(v->name, want) != 0)) return RT_OK;

    /* the variable asked for: only real, dense numeric and logical arrays */
    if (cls < NN_MAT_DOUBLE || cls > NN_MAT_UINT64)
        return bad(b, off, what, err, "a %s array; only real numeric and logical arrays are supported (save "
                   "it as a double or integer matrix)", nn_mat_class_name((nn_mat_class)cls));
    if (v->complex)
        return bad(b, off, what, err, "a complex %s array; only real arrays are supported",
                   nn_mat_class_name(v->cls));
    at = e.next;
    st = read_tag(b, at, end, what, &e, err);
    if (st != RT_OK) return st;
    int k = type_size(e.type);
    if (!k)
        return bad(b, at, what, err, "the real part is stored as %s (type %u), not a numeric type; the file is "
                   "corrupt", type_name(e.type), (unsigned)e.type);
    if (e.len % (size_t)k || (int64_t)(e.len / (size_t)k) != v->numel)
        return bad(b, at, what, err, "the real part holds %zu bytes of %s, but %lld elements of %d bytes "
                   "need %lld; the file is corrupt", e.len, type_name(e.type), (long long)v->numel, k,
                   (long long)v->numel * k);
    v->data = malloc((v->numel ? (size_t)v->numel : 1) * sizeof *v->data);
    if (!v->data)
        return rt_err_set(err, RT_ERR_NOMEM, "%s: %s: out of memory for %lld values", b->path, what,
                          (long long)v->numel);
    for (int64_t i = 0; i < v->numel; i++)
        v->data[i] = rd_value(b->p + e.off + (size_t)i * (size_t)k, e.type, b->big);
    return RT_OK;
}

/* The whole file into memory (rt_read_file), refused before reading when larger than the cap. */
static rt_status slurp(const char *path, unsigned char **out, size_t *n, rt_err *err) {
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return rt_err_set(err, RT_ERR_ARG, "%s is not a regular file; data sets are read from files", path);
    if (stat(path, &sb) == 0 && sb.st_size > (off_t)NN_MAT_MAX_BYTES)
        return rt_err_set(err, RT_ERR_FORMAT, "%s: larger than %u bytes, too large for this reader", path,
                          (unsigned)NN_MAT_MAX_BYTES);
    errno = 0;
    char *s = rt_read_file(path, n);
    if (!s) return rt_err_set(err, RT_ERR_IO, "cannot open %s: %s", path, strerror(errno ? errno : EIO));
    *out = (unsigned char *)s;
    return RT_OK;
}

/* Checks the header; sets b->big. */
static rt_status check_header(mat_buf *b, rt_err *err) {
    if (b->n < MAT_HEADER)
        return rt_err_set(err, RT_ERR_FORMAT, "%s: %zu bytes, too short for a MAT-file (128-byte header); the "
                          "file is truncated or not a MAT-file", b->path, b->n);
    if (memcmp(b->p, "MATLAB 7.3", 10) == 0)
        return rt_err_set(err, RT_ERR_FORMAT, "%s: a MATLAB v7.3 (HDF5) file, which this reader does not "
                          "read; save it with save(..., '-v7')", b->path);
    if (b->p[126] == 'I' && b->p[127] == 'M') b->big = false;
    else if (b->p[126] == 'M' && b->p[127] == 'I') b->big = true;
    else
        return rt_err_set(err, RT_ERR_FORMAT, "%s: no 'IM'/'MI' endian indicator at byte 126: not a level-5 "
                          "MAT-file (a level-4 file or another format)", b->path);
    uint32_t version = (uint32_t)rd_uint(b->p + 124, 2, b->big);
    if (version != 0x0100)
        return rt_err_set(err, RT_ERR_FORMAT, "%s: version 0x%04x at byte 124, expected 0x0100 (level 5)",
                          b->path, (unsigned)version);
    return RT_OK;
}

/* Walks every variable; list (when non-NULL) gets their headers; want (when non-NULL) is read into
** *out and ends the walk. *found tells whether want was there. */
static rt_status walk(const char *path, const char *want, nn_mat_var *out, bool *found, nn_mat_var *list,
                      int max, int *nlist, rt_err *err) {
    unsigned char *file = NULL;
    size_t n = 0;
    rt_status st = slurp(path, &file, &n, err);
    if (st != RT_OK) return st;
    mat_buf b = { file, n, false, path, -1 };
    st = check_header(&b, err);
    int index = 0, count = 0;
    *found = false;
    for (size_t off = MAT_HEADER; st == RT_OK && off < n && !*found; index++) {
        char what[32];
        snprintf(what, sizeof what, "variable #%d", index + 1);
        mat_elem e;
        st = read_tag(&b, off, n, what, &e, err);
        if (st != RT_OK) break;
        nn_mat_var v;
        if (e.type == MI_COMPRESSED) {
            unsigned char *z = NULL;
            size_t zn = 0;
            st = inflate_elem(&b, off, &e, &z, &zn, err);
            if (st != RT_OK) break;
            mat_buf zb = { z, zn, b.big, path, (long long)off };
            mat_elem inner;
            st = read_tag(&zb, 0, zn, what, &inner, err);
            if (st == RT_OK && inner.type != MI_MATRIX)
                st = bad(&zb, 0, what, err, "a compressed element holds %s (type %u), expected miMATRIX; the "
                         "file is corrupt", type_name(inner.type), (unsigned)inner.type);
            if (st == RT_OK && inner.len > 0)
                st = parse_matrix(&zb, inner.off, inner.off + inner.len, index, want != NULL, want, &v, err);
            else if (st == RT_OK)
                index--;                            /* an empty placeholder */
            if (st == RT_OK && inner.len > 0) {
                if (want && strcmp(v.name, want) == 0) *out = v, *found = true;
                else if (list && count < max) list[count++] = v, v.data = NULL;
                if (!*found) nn_mat_free(&v);
            }
            free(z);
        } else if (e.type == MI_MATRIX) {
            if (e.len > 0) {
                st = parse_matrix(&b, e.off, e.off + e.len, index, want != NULL, want, &v, err);
                if (st == RT_OK) {
                    if (want && strcmp(v.name, want) == 0) *out = v, *found = true;
                    else if (list && count < max) list[count++] = v, v.data = NULL;
                    if (!*found) nn_mat_free(&v);
                }
            } else {
                index--;
            }
        } else {
            st = bad(&b, off, what, err, "a top-level element of type %s (%u); a MAT-file holds only miMATRIX "
                     "and miCOMPRESSED elements there; the file is corrupt", type_name(e.type), (unsigned)e.type);
        }
        off = e.next;
    }
    free(file);
    if (nlist) *nlist = count;
    return st;
}

void nn_mat_free(nn_mat_var *v) {
    if (!v) return;
    free(v->data);
    memset(v, 0, sizeof *v);
}

rt_status nn_mat_list(const char *path, nn_mat_var *vars, int max, int *n, rt_err *err) {
    bool found;
    *n = 0;
    return walk(path, NULL, NULL, &found, vars, max, n, err);
}

rt_status nn_mat_read(const char *path, const char *name, nn_mat_var *v, rt_err *err) {
    memset(v, 0, sizeof *v);
    bool found = false;
    rt_status st = walk(path, name, v, &found, NULL, 0, NULL, err);
    if (st != RT_OK) { nn_mat_free(v); return st; }
    if (found) return RT_OK;
    nn_mat_var *vars = rt_xcalloc(NN_MAT_MAX_VARS, sizeof *vars);
    int nv = 0;
    char have[512] = "";
    size_t len = 0;
    st = nn_mat_list(path, vars, NN_MAT_MAX_VARS, &nv, err);
    for (int i = 0; st == RT_OK && i < nv && len + 1 < sizeof have; i++) {
        char dims[96] = "";
        size_t dl = 0;
        for (int d = 0; d < vars[i].ndims && dl + 1 < sizeof dims; d++) {
            int k = snprintf(dims + dl, sizeof dims - dl, "%s%lld", d ? "x" : "", (long long)vars[i].dims[d]);
            dl = k > 0 && (size_t)k < sizeof dims - dl ? dl + (size_t)k : sizeof dims - 1;
        }
        int k = snprintf(have + len, sizeof have - len, "%s%s (%s %s)", i ? ", " : "", vars[i].name, dims,
                         nn_mat_class_name(vars[i].cls));
        len = k > 0 && (size_t)k < sizeof have - len ? len + (size_t)k : sizeof have - 1;
    }
    free(vars);
    if (st != RT_OK) return st;
    return rt_err_set(err, RT_ERR_ARG, "%s: no variable '%s'; the file holds %s", path, name,
                      nv ? have : "no variables");
}
