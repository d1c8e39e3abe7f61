// rt_text.c: growing text, whole-file reads, mkdir -p, round-trip number formatting.
#include "rt_text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void grow(rt_buf *b, size_t need) {
    if (b->s && b->n + need < b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap <= b->n + need) {
        if (cap > SIZE_MAX / 2) RT_ABORT("text of %zu bytes: out of memory", b->n + need);
        cap *= 2;
    }
    char *s = realloc(b->s, cap);
    if (!s) RT_ABORT("out of memory (text of %zu bytes)", cap);
    if (!b->s) s[0] = '\0';
    b->s = s;
    b->cap = cap;
}

void rt_buf_printf(rt_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) RT_ABORT("vsnprintf failed on \"%s\"", fmt);
    if (b->s && b->n + (size_t)k < b->cap) {
        b->n += (size_t)k;
        return;
    }
    grow(b, (size_t)k);
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

void rt_buf_put(rt_buf *b, const char *s, size_t n) {
    grow(b, n);
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

const char *rt_buf_str(const rt_buf *b) { return b->s ? b->s : ""; }

void rt_buf_free(rt_buf *b) {
    free(b->s);
    b->s = NULL;
    b->n = b->cap = 0;
}

char *rt_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    rt_buf b = { 0 };
    grow(&b, 0);
    for (;;) {
        size_t k = fread(b.s + b.n, 1, b.cap - b.n - 1, f);
        b.n += k;
        if (k == 0) break;
        grow(&b, 1);
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        free(b.s);
        return NULL;
    }
    b.s[b.n] = '\0';
    if (len) *len = b.n;
    return b.s;
}

int rt_mkdir_p(const char *path, char *created, size_t size) {
    if (created && size) created[0] = '\0';
    size_t len = strlen(path);
    char *tmp = rt_xmalloc(len + 1);
    memcpy(tmp, path, len + 1);
    int rc = 0;
    for (char *p = tmp + (len > 0);; p++) {
        bool last = *p == '\0';
        if (!last && *p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0777) == 0) {
            if (created && size && !created[0]) snprintf(created, size, "%s", tmp);
        } else if (errno != EEXIST) {
            rc = -1;
            break;
        }
        if (last) break;
        *p = '/';
    }
    free(tmp);
    struct stat st;
    if (rc == 0 && stat(path, &st) != 0) rc = -1;
    else if (rc == 0 && !S_ISDIR(st.st_mode)) errno = ENOTDIR, rc = -1;
    return rc;
}

void rt_fmt_num(double v, char *out, size_t size) {
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v) return;
    }
}
