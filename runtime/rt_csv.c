// rt_csv.c: fixed-column CSV written to .part and renamed when complete; atomic whole-file writes.
#include "rt_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_text.h"

static void sep(rt_csv *w) {
    RT_ASSERT(w->col < w->ncol);
    if (w->col++) fputc(',', w->f);
}

static void put_field(FILE *f, const char *s) {
    /* the rule of rt_csv_field */
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

rt_status rt_csv_open(rt_csv *w, const char *path, const char *const *cols, int ncol, bool append,
                      rt_err *err) {
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", path);
    w->ncol = ncol;
    char part[1100];
    snprintf(part, sizeof part, "%s.part", path);
    rt_buf header = { 0 };
    for (int i = 0; i < ncol; i++) rt_buf_printf(&header, "%s%s", i ? "," : "", cols[i]);
    rt_buf_printf(&header, "\n");
    if (append) {
        FILE *f = fopen(part, "r");
        if (f) {
            char *line = NULL;
            size_t cap = 0;
            bool same = getline(&line, &cap, f) >= 0 && strcmp(line, header.s) == 0;
            free(line);
            fclose(f);
            if (same) {
                rt_buf_free(&header);
                w->f = fopen(part, "a");
                if (!w->f) return rt_err_set(err, RT_ERR_IO, "%s: cannot append: %s", part, strerror(errno));
                return RT_OK;
            }
        }
    }
    w->f = fopen(part, "w");
    if (!w->f) {
        rt_buf_free(&header);
        return rt_err_set(err, RT_ERR_IO, "%s: cannot create: %s; check that the directory exists and is writable",
                          part, strerror(errno));
    }
    fputs(header.s, w->f);
    rt_buf_free(&header);
    return RT_OK;
}

FILE *rt_log_open(const char *path, bool append, const char *header, rt_err *err) {
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f) {
        rt_err_set(err, RT_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) == 0) fputs(header, f);
    return f;
}

void rt_csv_str(rt_csv *w, const char *s) {
    sep(w);
    put_field(w->f, s);
}

void rt_csv_num(rt_csv *w, double v) {
    sep(w);
    if (isnan(v)) fputs("nan", w->f);
    else if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", w->f);
    else fprintf(w->f, "%.9g", v);
}

void rt_csv_numf(rt_csv *w, float v) {
    sep(w);
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    fputs(buf, w->f);
}

void rt_csv_int(rt_csv *w, int64_t v) {
    sep(w);
    fprintf(w->f, "%lld", (long long)v);
}

rt_status rt_csv_end_row(rt_csv *w, rt_err *err) {
    RT_ASSERT(w->col == w->ncol);
    w->col = 0;
    fputc('\n', w->f);
    if (fflush(w->f) != 0 || ferror(w->f))
        return rt_err_set(err, RT_ERR_IO, "%s.part: write failed: %s (disk full?)", w->path, strerror(errno));
    return RT_OK;
}

/* Makes a rename durable; best effort (some file systems refuse fsync on a directory). */
static void fsync_parent(const char *path) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *(slash == dir ? slash + 1 : slash) = '\0';
    else snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

rt_status rt_csv_close(rt_csv *w, bool commit, rt_err *err) {
    if (!w->f) return RT_OK;
    RT_ASSERT(w->col == 0);
    bool bad = fflush(w->f) != 0 || ferror(w->f);
    if (!bad && commit) bad = fsync(fileno(w->f)) != 0;
    bad |= fclose(w->f) != 0;
    w->f = NULL;
    if (bad) return rt_err_set(err, RT_ERR_IO, "%s.part: write failed: %s", w->path, strerror(errno));
    if (commit) {
        char part[1100];
        snprintf(part, sizeof part, "%s.part", w->path);
        if (rename(part, w->path) != 0)
            return rt_err_set(err, RT_ERR_IO, "%s: cannot rename from .part: %s", w->path, strerror(errno));
        fsync_parent(w->path);
    }
    return RT_OK;
}

rt_status rt_write_atomic(const char *path, const void *data, size_t size, rt_err *err) {
    /* The temporary name is unique to the process: two processes may replace one file (the
    ** manifest of a sweep run by several shards) without writing into each other's temporary. */
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return rt_err_set(err, RT_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    bool bad = fwrite(data, 1, size, f) != size || fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return rt_err_set(err, RT_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    fsync_parent(path);
    return RT_OK;
}

void rt_csv_field(rt_buf *b, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        rt_buf_put(b, s, strlen(s));
        return;
    }
    rt_buf_put(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"') rt_buf_put(b, "\"", 1);
        rt_buf_put(b, s, 1);
    }
    rt_buf_put(b, "\"", 1);
}

/* One field from *p (in place: unquoted text is written back over the quoted); *p moves past
** it. Returns the character that ended it: ',', '\n' (LF or CRLF) or '\0'. */
static char read_field(char **p, char **field) {
    char *r = *p, *w = r;
    *field = r;
    if (*r == '"') {
        for (r++; *r; r++) {
            if (*r == '"' && r[1] == '"') *w++ = '"', r++;
            else if (*r == '"') { r++; break; }
            else *w++ = *r;
        }
    }
    while (*r && *r != ',' && *r != '\n' && !(*r == '\r' && (r[1] == '\n' || r[1] == '\0'))) *w++ = *r++;
    char end = *r == '\r' ? (r[1] ? (r++, '\n') : '\0') : *r;
    *p = *r ? r + 1 : r;
    *w = '\0';
    return end;
}

bool rt_csv_read(const char *path, rt_csv_table *t) {
    memset(t, 0, sizeof *t);
    size_t len;
    t->text = rt_read_file(path, &len);
    if (!t->text) return false;
    size_t cap = 0, used = 0;
    char *p = t->text;
    for (bool header = true; *p;) {
        if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {       /* an empty line */
            p += *p == '\r' ? 2 : 1;
            continue;
        }
        size_t row = used;
        for (char end = ',', *f; end == ',';) {
            end = read_field(&p, &f);
            if (header || used - row < (size_t)t->ncol) {
                if (used == cap) {
                    cap = cap ? cap * 2 : 64;
                    t->cell = realloc(t->cell, cap * sizeof *t->cell);
                    if (!t->cell) RT_ABORT("out of memory");
                }
                t->cell[used++] = f;
            }
        }
        if (header) {
            t->ncol = (int)used;
            header = false;
            continue;
        }
        static char empty[1];
        while (used - row < (size_t)t->ncol) {
            if (used == cap) {
                cap *= 2;
                t->cell = realloc(t->cell, cap * sizeof *t->cell);
                if (!t->cell) RT_ABORT("out of memory");
            }
            t->cell[used++] = empty;
        }
        t->nrow++;
    }
    if (t->ncol == 0) {
        rt_csv_table_free(t);
        return false;
    }
    return true;
}

const char *rt_csv_at(const rt_csv_table *t, int r, int c) {
    RT_ASSERT(r >= -1 && r < t->nrow && c >= 0 && c < t->ncol);
    return t->cell[(size_t)(r + 1) * (size_t)t->ncol + (size_t)c];
}

int rt_csv_col(const rt_csv_table *t, const char *name) {
    for (int c = 0; c < t->ncol; c++)
        if (strcmp(t->cell[c], name) == 0) return c;
    return -1;
}

void rt_csv_table_free(rt_csv_table *t) {
    free(t->text);
    free(t->cell);
    memset(t, 0, sizeof *t);
}
