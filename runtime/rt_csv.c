// rt_csv.c: fixed-column CSV written to .part and renamed when complete; atomic whole-file writes.
#include "rt_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void sep(rt_csv *w) {
    RT_ASSERT(w->col < w->ncol);
    if (w->col++) fputc(',', w->f);
}

static void put_field(FILE *f, const char *s) {
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
    char header[4096];
    size_t k = 0;
    for (int i = 0; i < ncol && k < sizeof header; i++)
        k += (size_t)snprintf(header + k, sizeof header - k, "%s%s", i ? "," : "", cols[i]);
    if (append) {
        FILE *f = fopen(part, "r");
        if (f) {
            char line[4096];
            bool same = fgets(line, sizeof line, f) && strncmp(line, header, k) == 0 &&
                        line[k] == '\n';
            fclose(f);
            if (same) {
                w->f = fopen(part, "a");
                if (!w->f) return rt_err_set(err, RT_ERR_IO, "%s: cannot append: %s", part, strerror(errno));
                return RT_OK;
            }
        }
    }
    w->f = fopen(part, "w");
    if (!w->f)
        return rt_err_set(err, RT_ERR_IO, "%s: cannot create: %s; check that the directory exists and is writable",
                          part, strerror(errno));
    fputs(header, w->f);
    fputc('\n', w->f);
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
