// test_runner.c: the runner's files and messages at their edges: a result.csv header longer than
// any fixed buffer, Ctrl-C in a point's last evaluation, --check over a sweep of shared models, a
// config.lua replay of a long value.
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
** snprintf wrote beyond them; results.csv kept only the first 256 columns; the manifest and
** --list cut titles at 255 characters). */
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
    /* The manifest and --list carry the whole title (3,900 characters), not its first 255. */
    snprintf(path, sizeof path, "%s/runs/wide_result/manifest", dir);
    char *manifest = tu_read_file(path, NULL);
    cr_assert_not_null(manifest, "no %s", path);
    cr_expect_not_null(strstr(manifest, "a_parameter_with_a_rather_long_name_to_widen_the_header_63=63,seed=1}\n"), "%s",
                       manifest);
    free(manifest);
    snprintf(args, sizeof args, "--list --out runs '%s/tests/lua/wide_result.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "a_parameter_with_a_rather_long_name_to_widen_the_header_63=63,seed=1}\n"), "%s", out);
}

// ---- Ctrl-C after a point's last step ----

/* Whether the file at path holds text. */
static bool file_holds(const char *path, const char *text) {
    char *s = tu_read_file(path, NULL);
    bool has = s && strstr(s, text);
    free(s);
    return has;
}

/* SIGINT while the only point evaluates its last epoch (512 passes of 64 samples, over a second):
** the evaluation stops there, not when it ends (Slurm's grace period is shorter than IMB's 100
** passes), the point is checkpointed as after its last step with no row of the epoch written, and
** --resume evaluates again and ends with the bytes of a run that was never stopped. */
Test(runner, ctrl_c_in_the_last_evaluation_stops_it_and_resume_ends_the_same, .timeout = 600) {
    char script[1200];
    snprintf(script, sizeof script, "%s/tests/lua/slow_eval.lua", tu_source_dir());
    char clean_dir[1100], args[1400];
    snprintf(clean_dir, sizeof clean_dir, "%s", tu_tiny_dir("ctrlc_clean"));
    snprintf(args, sizeof args, "--quiet --out runs '%s'", script);
    cr_assert_eq(vibrun(clean_dir, args), 0, "%s", out);

    const char *dir = tu_tiny_dir("ctrlc");
    char log[1200], exp[1200];
    snprintf(log, sizeof log, "%s/vibrun.log", dir);
    snprintf(exp, sizeof exp, "%s/runs/slow_eval", dir);
    pid_t pid = tu_spawn(dir, log, false, (const char *const[]){ tu_vibrun(), "--out", "runs", script, NULL });
    /* Epoch 0's rows are written after its evaluation; then comes one step and the last evaluation. */
    bool evaluated = false;
    char names[2][64], part[1400];
    for (int k = 0; k < 6000 && !evaluated; k++) {
        if (access(exp, F_OK) == 0 && tu_point_dirs(exp, names, 2) == 1) {
            snprintf(part, sizeof part, "%s/%s/metrics.csv.part", exp, names[0]);
            evaluated = file_holds(part, "\n0,test,");
        }
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    cr_assert(evaluated, "epoch 0 was not evaluated within a minute");
    struct timespec ts = { 0, 300 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    kill(pid, SIGINT);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    char *text = tu_read_file(log, NULL);
    cr_assert_not_null(text);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %d:\n%s", status, text);
    char result[1400], ckpt[1400];
    snprintf(result, sizeof result, "%s/%s/result.csv", exp, names[0]);
    snprintf(ckpt, sizeof ckpt, "%s/%s/checkpoint", exp, names[0]);
    cr_expect_neq(access(result, F_OK), 0, "the point finished its evaluation after the SIGINT:\n%s", text);
    cr_expect_eq(access(ckpt, F_OK), 0, "no checkpoint:\n%s", text);
    cr_expect(!file_holds(part, "\n1,"), "a row of the stopped evaluation was written");
    cr_expect_not_null(strstr(text, "interrupted, checkpointed in epoch 1"), "%s", text);
    free(text);

    snprintf(args, sizeof args, "--quiet --out runs '%s' --resume", script);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char a[1400], b[1400];
    snprintf(a, sizeof a, "%s/runs/slow_eval/%s/metrics.csv", clean_dir, names[0]);
    snprintf(b, sizeof b, "%s/%s/metrics.csv", exp, names[0]);
    size_t na, nb;
    char *ta = tu_read_file(a, &na), *tb = tu_read_file(b, &nb);
    cr_assert(ta && tb, "%s or %s is missing", a, b);
    cr_expect(na == nb && memcmp(ta, tb, na) == 0, "the resumed metrics.csv differs:\n%s\n--\n%s", ta, tb);
    free(ta);
    free(tb);
}

// ---- --check over a sweep ----

/* sweep_tiny's 12 points share 2 models (hidden 4 and 8; lr and seed do not change the model):
** each is printed once, under the points that share it. */
Test(runner, check_prints_each_distinct_model_once) {
    const char *dir = tu_tiny_dir("check_sweep");
    char args[2048];
    snprintf(args, sizeof args, "--check '%s/tests/lua/sweep_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    int summaries = 0, data = 0;
    for (const char *s = out; (s = strstr(s, "total parameters")); s++) summaries++;
    for (const char *s = out; (s = strstr(s, "\ndata: ")); s++) data++;
    cr_expect_eq(summaries, 2, "%s", out);
    cr_expect_eq(data, 2, "%s", out);
    for (int i = 1; i <= 12; i++) {
        char line[32];
        snprintf(line, sizeof line, "point %d/12 ", i);
        cr_expect_not_null(strstr(out, line), "no '%s' in:\n%s", line, out);
    }
    cr_expect_not_null(strstr(out, "12 points, 2 distinct models"), "%s", out);
    /* hidden=4's points first (point 1 is one), then hidden=8's, each list above its model. */
    const char *first = strstr(out, "total parameters"), *p1 = strstr(out, "point 1/12 ");
    cr_expect(p1 && first && p1 < first, "%s", out);
}

// ---- point ids ----

/* Two points that differ only after 9,000 characters of their configuration (a long string param,
** then the seed) get two ids: the key was cut at 8 KiB before hashing, giving both one directory. */
Test(runner, ids_hash_the_whole_configuration) {
    const char *dir = tu_tiny_dir("long_key");
    char args[2048], id[2][32];
    snprintf(args, sizeof args, "--list '%s/tests/lua/long_key.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    const char *l1 = strstr(out, "\n1 "), *l2 = strstr(out, "\n2 ");
    cr_assert(l1 && l2, "%s", out);
    cr_assert_eq(sscanf(l1, " 1 %31s", id[0]), 1);
    cr_assert_eq(sscanf(l2, " 2 %31s", id[1]), 1);
    cr_expect_str_neq(id[0], id[1], "both points have id %s", id[0]);
}

/* config.lua replays its point whole: a string param of 9,000 characters reached the script cut to
** 199 (a 200-byte buffer), so the replay trained another point, under another id. */
Test(runner, config_replay_passes_long_values_whole) {
    const char *dir = tu_tiny_dir("long_replay");
    char args[2048], path[2048], names[2][64];
    snprintf(args, sizeof args, "--quiet --out runs --set seed=1 '%s/tests/lua/long_key.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/long_key", dir);
    cr_assert_eq(tu_point_dirs(path, names, 2), 1);
    snprintf(args, sizeof args, "--quiet --out replay runs/long_key/%s/config.lua", names[0]);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char replayed[2][64];
    snprintf(path, sizeof path, "%s/replay/long_key", dir);
    cr_assert_eq(tu_point_dirs(path, replayed, 2), 1, "the replay trained %d points", tu_point_dirs(path, replayed, 2));
    cr_expect_str_eq(replayed[0], names[0], "the replay trained point %s, not %s", replayed[0], names[0]);
}

/* A replicate of --set replicates=2 replays as itself: config.lua's settings line carries every
** --set-able setting (replicates was missing, so the replayed seed was no longer a param and the
** replay trained another point, with a false "the script changed" warning). */
Test(runner, config_replay_of_a_replicate_trains_the_same_point) {
    const char *dir = tu_tiny_dir("replicate_replay");
    char args[2048], path[2048], names[3][64], replayed[3][64];
    snprintf(args, sizeof args, "--quiet --out runs --set replicates=2 --set epochs=1 '%s/tests/lua/defaults_tiny.lua'",
             tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/defaults_tiny", dir);
    cr_assert_eq(tu_point_dirs(path, names, 3), 2);
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "--quiet --out replay%d runs/defaults_tiny/%s/config.lua", i, names[i]);
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
        cr_expect_null(strstr(out, "changed"), "the replay of %s warned: %s", names[i], out);
        snprintf(path, sizeof path, "%s/replay%d/defaults_tiny", dir, i);
        cr_assert_eq(tu_point_dirs(path, replayed, 3), 1);
        cr_expect_str_eq(replayed[0], names[i], "the replay trained point %s, not %s", replayed[0], names[i]);
    }
}
