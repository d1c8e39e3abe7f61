// test_cli.c: the command line as a user types it: an option's value after '=' or as the next
// word, -h and --version, a bare key=value refused with its hint, exit code 2 for every usage
// error (a bad --set among them), 130 and 143 for a run that SIGINT and SIGTERM stop, --keys, and
// the suggested commands spelled the way vibrun was invoked.
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char out[1 << 16];

/* Runs `vibrun ARGS` inside dir; returns its exit code; stdout+stderr in `out`. */
static int vibrun(const char *dir, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, tu_vibrun(), args);
    return tu_run(cmd, out, sizeof out);
}

static const char *tiny(void) {
    static char path[1024];
    snprintf(path, sizeof path, "'%s/tests/lua/tiny.lua'", tu_source_dir());
    return path;
}

// ---- options ----

Test(cli, an_option_takes_its_value_after_equals_or_as_the_next_word) {
    const char *dir = tu_tiny_dir("values");
    char args[2048], spaced[sizeof out];
    /* --set narrows the sweep to one point; --jobs and --out parse both ways. */
    snprintf(args, sizeof args, "--list --set hidden=8 --jobs 2 --out r %s", tiny());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(spaced, sizeof spaced, "%s", out);
    cr_expect(strncmp(out, "# 1 point of r/tiny\n", 20) == 0, "%s", out);
    snprintf(args, sizeof args, "--list --set=hidden=8 --jobs=2 --out=r %s", tiny());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_str_eq(out, spaced);
    /* Options after the script, and -j with its value in the same word. */
    snprintf(args, sizeof args, "%s --list -j2 --set hidden=8 --out r --threads=1", tiny());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_str_eq(out, spaced);
    /* After "--" a word is the script, whatever it starts with. */
    snprintf(args, sizeof args, "--list --set hidden=8 --out r -- %s", tiny());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_str_eq(out, spaced);
}

Test(cli, help_and_version) {
    const char *dir = tu_tmpdir("help");
    const char *helps[] = { "-h", "--help", "x.lua --help", "status --help" };
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(vibrun(dir, helps[i]), 0, "%s: %s", helps[i], out);
        cr_expect_not_null(strstr(out, "usage: vibrun SCRIPT.lua"), "%s: %s", helps[i], out);
        cr_expect_not_null(strstr(out, "--jobs N"), "%s: %s", helps[i], out);
        cr_expect_not_null(strstr(out, "130"), "%s: the exit codes: %s", helps[i], out);
    }
    const char *versions[] = { "--version", "-V", "x.lua --version" };
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(vibrun(dir, versions[i]), 0, "%s: %s", versions[i], out);
        cr_expect(strncmp(out, "vibrun 0.", 9) == 0, "%s: %s", versions[i], out);
        /* A git commit (12 hex digits) or the fallback that says why there is none. */
        char commit[64] = "";
        cr_expect(sscanf(strstr(out, "\ncommit: ") ? strstr(out, "\ncommit: ") : "", "\ncommit: %63s", commit) == 1,
                  "%s", out);
        cr_expect(strspn(commit, "0123456789abcdef") == 12 || strcmp(commit, "unknown") == 0, "commit '%s'", commit);
        cr_expect_not_null(strstr(out, "\nLua: 5.4"), "%s", out);
        cr_expect_not_null(strstr(out, "\nOpenBLAS: OpenBLAS "), "%s", out);
        cr_expect_not_null(strstr(out, "(kernel "), "%s", out);
    }
}

Test(cli, keys_lists_what_set_accepts) {
    const char *dir = tu_tmpdir("keys");
    char args[2048];
    snprintf(args, sizeof args, "--keys %s", tiny());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    /* The params, then the settings that are not params (seed is both: listed once). */
    cr_expect_str_eq(out, "hidden\nlr\nseed\naugment\nbatch\ncheckpoint_every\nema\nepochs\neval_batch\neval_passes\n"
                          "eval_samples\nreplicates\nstreams\ntrain_eval_limit\n");
    /* Each key it lists is one --set takes. */
    char *save = strdup(out);
    for (char *k = strtok(save, "\n"); k; k = strtok(NULL, "\n")) {
        const char *v = strcmp(k, "streams") == 0 ? "independent" : strcmp(k, "ema") == 0 ? "0.5"
                        : strcmp(k, "augment") == 0 ? "none" : "1";
        snprintf(args, sizeof args, "--list --set %s=%s %s", k, v, tiny());
        cr_expect_eq(vibrun(dir, args), 0, "--set %s=%s: %s", k, v, out);
    }
    free(save);
}

Test(cli, a_bare_key_value_is_refused_with_the_hint) {
    const char *dir = tu_tiny_dir("bare");
    char args[2048];
    snprintf(args, sizeof args, "%s hidden=8", tiny());
    cr_expect_eq(vibrun(dir, args), 2, "%s", out);
    cr_expect_not_null(strstr(out, "hidden=8: a bare KEY=VALUE is not an option; write --set hidden=8"), "%s", out);
    /* A script whose file name holds '=' is a script. */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp %s '%s/a=b.lua'", tiny(), dir);
    cr_assert_eq(tu_run(cmd, NULL, 0), 0);
    cr_expect_eq(vibrun(dir, "--list a=b.lua"), 0, "%s", out);
}

Test(cli, every_usage_error_exits_2) {
    const char *dir = tu_tiny_dir("usage2");
    const struct { const char *args; const char *want; } bad[] = {
        { "", "no script given" },
        { "--list", "no script given" },
        { "TINY --frobnicate", "unknown option --frobnicate" },
        { "TINY -x", "unknown option -x" },
        { "TINY --check=yes", "--check takes no value" },
        { "TINY --jobs", "--jobs needs a value" },
        { "TINY --jobs=0", "--jobs 0: expected a count >= 1" },
        { "TINY --threads two", "--threads two: expected a count >= 1" },
        { "TINY --shard 3/2", "shard 3 is out of range" },
        { "TINY --shard 1", "expected I/N" },
        { "TINY other.lua", "more than one script given" },
        { "TINY --tasks 2", "--tasks is an option of" },
        { "slurm TINY", "slurm needs --tasks N" },
        { "status", "status takes one run directory" },
        { "plot a b", "plot takes one run directory" },
        { "data frobnicate", "usage: vibrun data list" },
        /* bad --set keys and values: the key, the type, the range */
        { "TINY --check --set hidden", "expected KEY=VALUE" },
        { "TINY --check --set hiden=4", "'hiden' is neither a param of tiny nor a setting" },
        { "TINY --check --set hidden=big", "'hidden' expects an integer" },
        { "TINY --check --set replicates=0", "replicates must be >= 1" },
        { "TINY --check --set train_eval_limit=-1", "train_eval_limit=-1 must be >= 0" },
        { "TINY --check --set eval_batch=0", "eval_batch=0 must be >= 1" },
        { "TINY --check --set epochs=-01", "epochs=-1 must be >= 0" },
        { "TINY --check --set streams=both", "'streams' is one of common, independent" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[2048] = "";
        const char *t = strstr(bad[i].args, "TINY");
        if (t) snprintf(args, sizeof args, "%.*s%s%s", (int)(t - bad[i].args), bad[i].args, tiny(), t + 4);
        else snprintf(args, sizeof args, "%s", bad[i].args);
        cr_expect_eq(vibrun(dir, args), 2, "vibrun %s: exit code\n%s", bad[i].args, out);
        cr_expect_not_null(strstr(out, bad[i].want), "vibrun %s: expected '%s' in\n%s", bad[i].args, bad[i].want, out);
    }
    /* A bad value in a replayed config.lua is the file's error (1); the user's own --set, 2. */
    char args[2048];
    snprintf(args, sizeof args, "--quiet --out r --set epochs=1 --set hidden=8 %s", tiny());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char names[4][64], cfg[2048];
    snprintf(cfg, sizeof cfg, "%s/r/tiny", dir);
    cr_assert_eq(tu_point_dirs(cfg, names, 4), 1);
    snprintf(args, sizeof args, "--check --set lr=fast r/tiny/%s/config.lua", names[0]);
    cr_expect_eq(vibrun(dir, args), 2, "%s", out);
    cr_expect_not_null(strstr(out, "'lr' expects a number"), "%s", out);
    snprintf(cfg, sizeof cfg, "sed -i 's/^    hidden = 8,$/    hidden = \"x\",/' '%s/r/tiny/%s/config.lua'", dir,
             names[0]);
    cr_assert_eq(tu_run(cfg, NULL, 0), 0);
    snprintf(args, sizeof args, "--check r/tiny/%s/config.lua", names[0]);
    cr_expect_eq(vibrun(dir, args), 1, "%s", out);
    cr_expect_not_null(strstr(out, "'hidden' expects an integer"), "%s", out);
    /* A script's own error stays 1, even beside a --set. */
    snprintf(args, sizeof args, "--check --set epochs=1 '%s/tests/lua/error_unknown_key.lua'", tu_source_dir());
    cr_expect_eq(vibrun(dir, args), 1, "%s", out);
}

// ---- signals ----

/* Starts `vibrun --out r --set hidden=8 --set epochs=N tiny.lua` in dir with its output in
** dir/log; returns once its first epoch has ended (the log says so). */
static pid_t start_training(const char *dir) {
    char script[1024], log[1024];
    snprintf(script, sizeof script, "%s/tests/lua/tiny.lua", tu_source_dir());
    snprintf(log, sizeof log, "%s/log", dir);
    pid_t pid = tu_spawn(dir, log, false, (const char *const[]){ tu_vibrun(), "--out", "r", "--set", "hidden=8",
                                                                  "--set", "epochs=1000000", script, NULL });
    if (tu_wait_for_text(log, "epoch 1/", 30.0)) return pid;
    kill(pid, SIGKILL);
    cr_assert_fail("the training did not start within 30 s");
    return pid;
}

static void expect_stop(int sig, int code) {
    const char *dir = tu_tiny_dir(sig == SIGINT ? "sigint" : "sigterm");
    pid_t pid = start_training(dir);
    cr_assert_eq(kill(pid, sig), 0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    char log[1024];
    snprintf(log, sizeof log, "%s/log", dir);
    char *text = tu_read_file(log, NULL);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == code, "signal %d: status %d, expected exit %d\n%s", sig, st, code,
              text);
    cr_expect_not_null(strstr(text, "interrupted; 0 of 1 point done, 1 checkpointed. Continue with: "), "%s", text);
    cr_expect_not_null(strstr(text, " --out 'r' --set 'hidden=8' --set 'epochs=1000000' --resume"), "%s", text);
    free(text);
}

Test(cli, ctrl_c_stops_a_run_with_130, .timeout = 120) { expect_stop(SIGINT, 130); }
Test(cli, sigterm_stops_a_run_with_143, .timeout = 120) { expect_stop(SIGTERM, 143); }

// ---- suggested commands ----

/* The command in "`CMD status runs/tiny` shows ..." of a --merge with nothing finished. */
static void suggested(const char *dir, const char *how, char *cmd, size_t size) {
    char line[4096];
    snprintf(line, sizeof line, "cd '%s' && %s --merge --out runs %s 2>&1", dir, how, tiny());
    cr_assert_eq(tu_run(line, out, sizeof out), 1, "%s: %s", how, out);
    const char *a = strchr(out, '`'), *b = a ? strstr(a, " status runs/tiny`") : NULL;
    cr_assert(a && b, "%s: %s", how, out);
    snprintf(cmd, size, "%.*s", (int)(b - a - 1), a + 1);
}

Test(cli, suggested_commands_start_the_way_vibrun_was_invoked) {
    const char *dir = tu_tiny_dir("argv0");
    char bin[1024], how[2048], cmd[1024];
    snprintf(bin, sizeof bin, "%s", tu_vibrun());
    char *slash = strrchr(bin, '/');
    cr_assert_not_null(slash);
    *slash = '\0';
    /* By its path, the build directory not on PATH: that path. */
    snprintf(how, sizeof how, "PATH=/usr/bin:/bin '%s'", tu_vibrun());
    suggested(dir, how, cmd, sizeof cmd);
    cr_expect_str_eq(cmd, tu_vibrun());
    /* By its bare name, found on PATH: the bare name. */
    snprintf(how, sizeof how, "PATH='%s':/usr/bin:/bin vibrun", bin);
    suggested(dir, how, cmd, sizeof cmd);
    cr_expect_str_eq(cmd, "vibrun");
    /* By its path, when PATH finds the same file under the bare name: the bare name. */
    snprintf(how, sizeof how, "PATH='%s':/usr/bin:/bin '%s'", bin, tu_vibrun());
    suggested(dir, how, cmd, sizeof cmd);
    cr_expect_str_eq(cmd, "vibrun");
    /* A relative path, as typed. */
    char rel[2048];
    snprintf(rel, sizeof rel, "ln -s '%s' '%s/my vibrun'", tu_vibrun(), dir);
    cr_assert_eq(tu_run(rel, NULL, 0), 0);
    suggested(dir, "PATH=/usr/bin:/bin './my vibrun'", cmd, sizeof cmd);
    cr_expect_str_eq(cmd, "'./my vibrun'");
}
