/*
** rt_text.h: text whose length the input decides, whole files, folders, numbers as text.
**
** The one copy of each: lua/ builds every file it writes (result.csv, config.lua, the manifest,
** the aggregates, the figure scripts) in an rt_buf, so no text a script or a data file supplies
** is ever cut at a fixed size or written past one.
**
**     rt_buf b = { 0 };
**     rt_buf_printf(&b, "%s,%d\n", name, n);
**     rt_write_atomic(path, b.s, b.n, &err);
**     rt_buf_free(&b);
*/
#ifndef RT_TEXT_H
#define RT_TEXT_H

#include <stddef.h>

#include "rt_base.h"

/* A growing NUL-terminated text: s (NULL until the first write), n bytes used, cap allocated. */
typedef struct rt_buf {
    char *s;
    size_t n, cap;
} rt_buf;

/* Appends formatted text; aborts when memory runs out. */
void rt_buf_printf(rt_buf *b, const char *fmt, ...) RT_PRINTF(2, 3);
/* Appends n bytes of s. */
void rt_buf_put(rt_buf *b, const char *s, size_t n);
/* The text so far ("" before the first write). */
const char *rt_buf_str(const rt_buf *b);
void rt_buf_free(rt_buf *b);

/* The whole file as a NUL-terminated malloc'd string (*len bytes before the NUL when len is not
** NULL), or NULL when it cannot be opened or read (errno says why). */
char *rt_read_file(const char *path, size_t *len);

/* Creates path and its missing parents (mode 0777 before the umask); 0 when path is a folder at
** the end, -1 otherwise (errno says why). created (may be NULL) gets the outermost folder this
** call made, "" when none, so that a caller can undo it. */
int rt_mkdir_p(const char *path, char *created, size_t size);

/* The shortest %g form (6 to 17 digits) that reads back as the same double; "nan", "inf". */
void rt_fmt_num(double v, char *out, size_t size);

#endif
