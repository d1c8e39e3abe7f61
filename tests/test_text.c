// test_text.c: runtime's text utilities (rt_text.h) and the CSV reader (rt_csv.h): text that grows
// past any first guess, whole files, mkdir -p that reports what it made, round-trip numbers, and
// CSV written by rt_csv_field read back the same by rt_csv_read.
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_csv.h"
#include "rt_text.h"
#include "testutil.h"

Test(text, buf_grows_past_any_first_size) {
    rt_buf b = { 0 };
    cr_expect_str_eq(rt_buf_str(&b), "");
    for (int i = 0; i < 20000; i++) rt_buf_printf(&b, "%05d,", i);
    cr_assert_eq(b.n, 20000u * 6);
    cr_expect_eq(strlen(b.s), b.n);
    cr_expect(strncmp(b.s + 6 * 19999, "19999,", 6) == 0);
    char big[70000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rt_buf_printf(&b, "%s", big);              /* one piece larger than the buffer so far */
    rt_buf_put(&b, "z", 1);
    cr_expect_eq(b.n, 20000u * 6 + sizeof big);
    cr_expect_eq(b.s[b.n - 1], 'z');
    cr_expect_eq(b.s[b.n], '\0');
    rt_buf_free(&b);
    cr_expect_null(b.s);
}

Test(text, read_file_whole_and_missing) {
    const char *dir = tu_tmpdir("text_read");
    char path[600];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    size_t n = 3 * 4096 + 17;
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (char)(i * 7 % 251);
    data[100] = '\0';                           /* a NUL inside: the length says where it ends */
    tu_write_file(path, data, n);
    size_t len = 0;
    char *s = rt_read_file(path, &len);
    cr_assert_not_null(s);
    cr_expect_eq(len, n);
    cr_expect(memcmp(s, data, n) == 0);
    cr_expect_eq(s[n], '\0');
    free(s);
    free(data);
    snprintf(path, sizeof path, "%s/missing", dir);
    cr_expect_null(rt_read_file(path, NULL));
}

Test(text, mkdir_p_reports_the_outermost_folder_it_made) {
    const char *dir = tu_tmpdir("text_mkdir");
    char path[600], created[600], file[600];
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    cr_assert_eq(rt_mkdir_p(path, created, sizeof created), 0);
    struct stat st;
    cr_expect(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    char want[600];
    snprintf(want, sizeof want, "%s/a", dir);
    cr_expect_str_eq(created, want);
    cr_assert_eq(rt_mkdir_p(path, created, sizeof created), 0, "an existing folder is fine");
    cr_expect_str_eq(created, "");
    snprintf(file, sizeof file, "%s/a/file", dir);
    tu_write_file(file, "x", 1);
    cr_expect_eq(rt_mkdir_p(file, NULL, 0), -1, "a file is not a folder");
    snprintf(path, sizeof path, "%s/a/file/d", dir);
    cr_expect_eq(rt_mkdir_p(path, NULL, 0), -1);
}

Test(text, fmt_num_reads_back_the_same_double) {
    const double v[] = { 0.1, 1.0 / 3.0, 1e-300, 123456789.125, -2.5e17, 0.0 };
    char s[64];
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        rt_fmt_num(v[i], s, sizeof s);
        cr_expect_eq(strtod(s, NULL), v[i], "%s", s);
    }
    rt_fmt_num(0.25, s, sizeof s);
    cr_expect_str_eq(s, "0.25", "the shortest form");
    rt_fmt_num((double)NAN, s, sizeof s);
    cr_expect(strstr(s, "nan") != NULL, "%s", s);
}

/* Writes b (then frees it) to <a fresh tmpdir tag>/t.csv, its path into path, and reads it into t. */
static void read_back(rt_buf *b, const char *tag, char *path, size_t size, rt_csv_table *t) {
    snprintf(path, size, "%s/t.csv", tu_tmpdir(tag));
    tu_write_file(path, b->s, b->n);
    rt_buf_free(b);
    cr_assert(rt_csv_read(path, t), "%s", path);
}

Test(text, csv_fields_round_trip_through_the_reader) {
    const char *fields[] = { "plain", "a,b", "say \"hi\"", "two\nlines", "cr\r\nlf", "", "last" };
    int nf = (int)(sizeof fields / sizeof *fields);
    rt_buf b = { 0 };
    for (int i = 0; i < nf; i++) {
        if (i) rt_buf_put(&b, ",", 1);
        rt_buf_printf(&b, "h%d", i);
    }
    rt_buf_put(&b, "\r\n", 2);                  /* a CRLF header line */
    for (int r = 0; r < 2; r++) {
        for (int i = 0; i < nf; i++) {
            if (i) rt_buf_put(&b, ",", 1);
            rt_csv_field(&b, fields[i]);
        }
        rt_buf_put(&b, "\n\n", r ? 1 : 2);      /* an empty line between the rows is skipped */
    }
    rt_buf_printf(&b, "short,row");             /* missing fields read as "", no final newline */
    char path[600];
    rt_csv_table t;
    read_back(&b, "text_csv", path, sizeof path, &t);
    cr_assert_eq(t.ncol, nf);
    cr_assert_eq(t.nrow, 3);
    cr_expect_str_eq(rt_csv_at(&t, -1, nf - 1), "h6", "the header's CR is not part of its last name");
    cr_expect_eq(rt_csv_col(&t, "h3"), 3);
    cr_expect_eq(rt_csv_col(&t, "nope"), -1);
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < nf; i++) cr_expect_str_eq(rt_csv_at(&t, r, i), fields[i], "row %d field %d", r, i);
    cr_expect_str_eq(rt_csv_at(&t, 2, 1), "row");
    cr_expect_str_eq(rt_csv_at(&t, 2, 6), "");
    rt_csv_table_free(&t);
    snprintf(path, sizeof path, "%s/empty.csv", tu_tmpdir("text_empty"));
    tu_write_file(path, "", 0);
    cr_expect(!rt_csv_read(path, &t), "an empty file has no header");
}

Test(text, csv_reader_takes_any_number_of_columns) {
    rt_buf b = { 0 };
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 1000; i++) rt_buf_printf(&b, "%s%s%d", i ? "," : "", k ? "v" : "c", i);
        rt_buf_put(&b, "\n", 1);
    }
    char path[600];
    rt_csv_table t;
    read_back(&b, "text_wide", path, sizeof path, &t);
    cr_expect_eq(t.ncol, 1000);
    cr_expect_str_eq(rt_csv_at(&t, 0, 999), "v999");
    rt_csv_table_free(&t);
}
