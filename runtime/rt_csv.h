/*
** rt_csv.h: tidy CSV output with fixed columns, written so that a partial file never looks whole.
**
** Columns are declared when the file is opened and the header is written at once; every row
** must fill every column (asserted). Rows go to "<path>.part" and are flushed as they end, so a
** running point's progress can be watched; rt_csv_close(commit = true) renames the file to
** <path>. A crash or a kill leaves only the .part file. Numbers are written with %.9g (floats
** round-trip exactly), so the same run gives the same bytes.
**
**     rt_csv w;  const char *cols[] = { "epoch", "split", "loss_bits" };
**     rt_csv_open(&w, "runs/x/metrics.csv", cols, 3, &err);
**     rt_csv_int(&w, 1); rt_csv_str(&w, "train"); rt_csv_num(&w, 0.25); rt_csv_end_row(&w, &err);
**     rt_csv_close(&w, true, &err);
*/
#ifndef RT_CSV_H
#define RT_CSV_H

#include <stdio.h>

#include "rt_err.h"

typedef struct rt_csv {
    FILE *f;
    char path[1024];
    int ncol, col;
} rt_csv;

/* Creates <path>.part (truncating), writes the header row. With append, an existing .part
** whose header matches is continued instead (resume). */
rt_status rt_csv_open(rt_csv *w, const char *path, const char *const *cols, int ncol, bool append,
                      rt_err *err);
/* A plain log file that grows a line at a time (timing logs): opened for appending when append,
** else created afresh; header (with its newline) is written whenever the file is empty, so a
** resumed run whose log went missing still gets one. NULL with err set on failure. */
FILE *rt_log_open(const char *path, bool append, const char *header, rt_err *err);
void rt_csv_str(rt_csv *w, const char *s);      /* quoted if it holds , " or newline */
void rt_csv_num(rt_csv *w, double v);           /* %.9g; nan and inf as "nan", "inf" */
void rt_csv_numf(rt_csv *w, float v);           /* the shortest text that reads back as v */
void rt_csv_int(rt_csv *w, int64_t v);
rt_status rt_csv_end_row(rt_csv *w, rt_err *err);
/* commit: rename .part to the final name; otherwise leave the .part for a later resume. */
rt_status rt_csv_close(rt_csv *w, bool commit, rt_err *err);

/* Appends s to b as one CSV field, quoted when it holds a comma, a quote or a line break (a quote
** inside doubled): the rule rt_csv_str writes and rt_csv_read reads. */
struct rt_buf;
void rt_csv_field(struct rt_buf *b, const char *s);

/* A CSV file read whole, with the quoting rules above (RFC 4180: a "quoted" field may hold commas,
** doubled quotes and line breaks; lines end with LF or CRLF). Empty lines are skipped; a row's
** missing fields are "", fields past the header's count are dropped. */
typedef struct rt_csv_table {
    char *text;                 /* the file, cut into NUL-terminated unquoted fields in place */
    char **cell;                /* (nrow + 1) x ncol, row 0 the header */
    int ncol, nrow;             /* nrow: the rows after the header */
} rt_csv_table;

/* False (t empty) when path is missing, unreadable or holds no header. */
bool rt_csv_read(const char *path, rt_csv_table *t);
/* Row r (0-based after the header; -1: the header), column c. */
const char *rt_csv_at(const rt_csv_table *t, int r, int c);
/* The first column named name, or -1. */
int rt_csv_col(const rt_csv_table *t, const char *name);
void rt_csv_table_free(rt_csv_table *t);

/* Writes a whole file atomically: tmp file, fsync, rename. */
rt_status rt_write_atomic(const char *path, const void *data, size_t size, rt_err *err);

#endif
