// test_runner.c: the runner's files and messages at their edges: a result.csv header longer than
// any fixed buffer, Ctrl-C after a point's last step, --check over a sweep of shared models.
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char out[1 << 16];

/* Runs vibrun with args inside dir; returns its exit code; stdout+stderr in `out`. */
static int vibrun(const char *dir, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, tu_vibrun(), args);
    return tu_run(cmd, out, sizeof out);
}

/* The fields of the first line of s (commas outside quotes, plus one). */
static int fields_of_line(const char *s, size_t *len) {
    int n = 1;
    bool quoted = false;
    const char *c = s;
    for (; *c && (quoted || *c != '\n'); c++) {
        if (*c == '"') quoted = !quoted;
        else if (*c == ',' && !quoted) n++;
    }
    if (len) *len = (size_t)(c - s);
    return n;
}

/* 63 long param names and 32 measured layers with every estimator on both splits: a header of
** 606 columns, 35 KiB (result.csv was built in 32 KiB buffers: past the end the size wrapped and
** snprintf wrote beyond them; results.csv kept only the first 256 columns). */
Test(runner, result_header_longer_than_32_kib) {
    const char *dir = tu_tiny_dir("wide");
    char args[2048], path[2048], names[2][64];
    snprintf(args, sizeof args, "--quiet --out runs '%s/tests/lua/wide_result.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/wide_result", dir);
    cr_assert_eq(tu_point_dirs(path, names, 2), 1);
    snprintf(path, sizeof path, "%s/runs/wide_result/%s/result.csv", dir, names[0]);
    char *result = tu_read_file(path, NULL);
    cr_assert_not_null(result, "no %s", path);
    size_t head_len, row_len;
    int ncol = fields_of_line(result, &head_len);
    cr_expect_gt(head_len, (size_t)32768, "the header is only %zu bytes; the test no longer reaches past 32 KiB",
                 head_len);
    cr_expect_eq(ncol, 606, "%d columns", ncol);
    cr_expect_eq(fields_of_line(result + head_len + 1, &row_len), ncol, "the row's fields differ from the header's");
    cr_expect_not_null(strstr(result, "a_parameter_with_a_rather_long_name_to_widen_the_header_63,"));
    cr_expect_not_null(strstr(result, "test_gaussian_layer_with_a_long_name_no_32_ksg_izy_bits"));
    /* results.csv carries every column of the point. */
    snprintf(path, sizeof path, "%s/runs/wide_result/results.csv", dir);
    char *results = tu_read_file(path, NULL);
    cr_assert_not_null(results, "no %s", path);
    size_t all_len;
    cr_expect_eq(fields_of_line(results, &all_len), ncol);
    cr_expect(all_len == head_len && memcmp(results, result, head_len) == 0,
              "results.csv's header is not result.csv's");
    free(result);
    free(results);
}
