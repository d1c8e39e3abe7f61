// test_hard.c: hardening (issue 16): what a hostile script, a bad file or a signal can do. Paths stay
// under the run directory; a script's declaration phase has a time and memory budget; --set integers
// are range-checked before conversion; data files must be regular; checkpoints carry their point;
// files written by something else are not trusted; a SIGTERM under --jobs reaches each worker once.
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char out[1 << 16];

/* Runs `vibrun ARGS` inside dir; returns its exit code; stdout+stderr in `out`. */
static int vibrun(const char *dir, const char *args) {
    char cmd[4096];
    /* budgets small enough that a hostile script's test takes a second */
    snprintf(cmd, sizeof cmd, "cd '%s' && VIB_SCRIPT_STEPS=1e8 VIB_SCRIPT_MEMORY=64 '%s' %s 2>&1", dir, tu_vibrun(), args);
    return tu_run(cmd, out, sizeof out);
}

/* Writes dir/name with text (printf format). */
static void write_text(const char *dir, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void write_text(const char *dir, const char *name, const char *fmt, ...) {
    char path[1200], text[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cr_assert(n > 0 && n < (int)sizeof text);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tu_write_file(path, text, (size_t)n);
}

/* An experiment on tiny.csv named `name`, its params and sweep as given (Lua text), reading p.x. */
#define EXPERIMENT(name, params, sweep)                                                                 \
    "local vib = require 'vib'\n"                                                                       \
    "return vib.experiment {\n"                                                                         \
    "  name = " name ",\n"                                                                              \
    "  data = vib.data.csv { path = 'tiny.csv', holdout = 0.25 },\n"                                    \
    "  params = " params ",\n"                                                                          \
    "  model = function(p) return vib.seq { vib.linear { out = 2 + p.x }, vib.tanh {},\n"              \
    "                                       vib.linear { out = 3 } } end,\n"                            \
    "  objective = vib.obj.ce {},\n"                                                                    \
    "  epochs = 1, batch = 50,\n"                                                                       \
    "  sweep = " sweep ",\n"                                                                            \
    "}\n"

// ---- item 3: every path stays under the run directory ----

Test(hard, an_experiment_name_that_is_not_one_directory_name_is_refused) {
    const char *dir = tu_tiny_dir("names");
    const char *names[] = { "'.'", "'..'", "'.hidden'", "'a/b'", "'../x'", "''" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char script[8192];
        snprintf(script, sizeof script, EXPERIMENT("%s", "{ x = 1 }", "vib.grid { x = { 1, 2 } }"), names[i]);
        write_text(dir, "n.lua", "%s", script);
        cr_expect_eq(vibrun(dir, "--list n.lua"), 1, "name %s: %s", names[i], out);
        cr_expect_not_null(strstr(out, "n.lua:3: vib.experiment: name"), "name %s: %s", names[i], out);
        cr_expect_null(strstr(out, "# 2 points"), "name %s: %s", names[i], out);
    }
}

Test(hard, an_empty_out_is_a_usage_error) {
    const char *dir = tu_tiny_dir("emptyout");
    char args[2048];
    snprintf(args, sizeof args, "--list --out '' '%s/tests/lua/tiny.lua'", tu_source_dir());
    cr_expect_eq(vibrun(dir, args), 2, "%s", out);
    cr_expect_not_null(strstr(out, "--out is empty"), "%s", out);
    snprintf(args, sizeof args, "--list --out= '%s/tests/lua/tiny.lua'", tu_source_dir());
    cr_expect_eq(vibrun(dir, args), 2, "%s", out);
}

/* A param key with '/' and ".." reaches figure names (error_vs_<axis>, info_plane_<label>): every
** file vibrun writes stays under runs/e, and the figure scripts are in runs/e/plots. */
Test(hard, a_param_key_with_slashes_stays_one_figure_name, .timeout = 120) {
    const char *dir = tu_tiny_dir("keypath");
    write_text(dir, "k.lua", EXPERIMENT("'e'", "{ x = 1, ['../../k'] = 1 }",
                                        "vib.grid { ['../../k'] = { 1, 2 } }, plots = { vib.plot.error_vs { '../../k' } }"));
    /* p["../../k"] read in the model, so the axis is used */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "sed -i 's/out = 2 + p.x }/out = 2 + p.x + p[\"..\\/..\\/k\"] }/' '%s/k.lua'", dir);
    cr_assert_eq(tu_run(cmd, NULL, 0), 0);
    cr_assert_eq(vibrun(dir, "--quiet --out r k.lua"), 0, "%s", out);
    /* nothing but k.lua, tiny.csv and r/ in dir; nothing but e/ in r/ */
    snprintf(cmd, sizeof cmd, "cd '%s' && find . -newer tiny.csv -type f | grep -v '^./r/e/' | grep -v '^./k.lua$'", dir);
    cr_expect_neq(tu_run(cmd, out, sizeof out), 0, "written outside the run directory:\n%s", out);
    snprintf(cmd, sizeof cmd, "cd '%s/r/e/plots' && ls error_vs_..-..-k.gp", dir);
    cr_expect_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
}

// ---- item 2: the declaration phase's time and memory budget ----

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A hostile script (line 2 is the body) stops within seconds, exit 1, its message naming line 2. */
Test(hard, a_looping_or_growing_script_stops_with_a_message_naming_its_line, .timeout = 240) {
    const char *dir = tu_tmpdir("budget");
    const struct { const char *body, *want; } cases[] = {
        { "while true do end", "budget of 1e+08 Lua instructions" },
        { "local function f(n) return f(n + 1) end return f(1)", "budget of 1e+08 Lua instructions" },
        { "error(setmetatable({}, { __tostring = function() while true do end end }))", "Lua instructions" },
        { "xpcall(function() error('x') end, function(e) while true do end end)", "Lua instructions" },
        { "while true do pcall(function() while true do end end) end", "Lua instructions" },
        { "local t = {} while true do t[#t + 1] = string.rep('x', 1e6) end", "memory budget of 64 MiB" },
        { "setmetatable({}, { __gc = function() while true do end end })", "__gc metamethods are not available" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(dir, "hostile.lua", "local vib = require 'vib'\n%s\n", cases[i].body);
        double t0 = now_s();
        int code = vibrun(dir, "--list hostile.lua");
        double dt = now_s() - t0;
        cr_expect_eq(code, 1, "%s: exit %d\n%s", cases[i].body, code, out);
        cr_expect_not_null(strstr(out, "hostile.lua:2: "), "%s: %s", cases[i].body, out);
        cr_expect_not_null(strstr(out, cases[i].want), "%s: expected '%s' in %s", cases[i].body, cases[i].want, out);
        cr_expect_lt(dt, 20.0, "%s: took %.1f s", cases[i].body, dt);
    }
}

// ---- item 6: a model too large for the memory fails at its line, before it is allocated ----

/* hidden = 1e8, particles = 1e6 and eval_samples = 1e9 each allocated or ran before failing (exit
** 134, no `failed` file, no layer named). Now the parameters are checked before they are allocated
** and the whole training need (parameters, step, evaluation) before training, against VIB_MEMORY
** here (the machine's available memory by default): exit 1 within a second, the layer's line. */
Test(hard, a_model_too_large_for_memory_fails_at_its_line_before_allocating, .timeout = 120) {
    const char *dir = tu_tiny_dir("memory");
    write_text(dir, "big.lua",
               "local vib = require 'vib'\n"
               "return vib.experiment {\n"
               "  name = 'big',\n"
               "  data = vib.data.csv { path = 'tiny.csv', holdout = 0.25 },\n"
               "  params = { hidden = 8, particles = 2, seed = 1 },\n"
               "  model = function(p) return vib.seq {\n"
               "    vib.linear { out = p.hidden, name = 'wide' }, vib.tanh {},\n"
               "    vib.bern { units = 6, particles = p.particles, name = 'b' },\n"
               "    vib.gauss { k = 4, name = 'z' }, vib.linear { out = 3 } } end,\n"
               "  objective = vib.obj.vib { beta = 0.01, layer = 'z' },\n"
               "  epochs = 1, batch = 20, eval_samples = 2,\n"
               "}\n");
    const struct { const char *mib, *set, *want[3]; } cases[] = {
        { "64", "hidden=10000000", { "big.lua:8: bern 'b': the model has", "parameters", "VIB_MEMORY" } },
        { "256", "hidden=1000000 --set eval_batch=20", { "big.lua:7: training needs about", "batch 20", "heaviest layer is 'wide'" } },
        { "2048", "particles=1000000", { "big.lua:", "training needs about", "heaviest layer is" } },
        { "2048", "eval_samples=1000000000", { "big.lua:9: training needs about", "eval_samples 1000000000",
                                               "heaviest layer is 'z'" } },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int check = 0; check < 2; check++) {
            char cmd[4096];
            snprintf(cmd, sizeof cmd, "cd '%s' && VIB_MEMORY=%s '%s' --quiet %s big.lua --set %s 2>&1", dir,
                     cases[i].mib, tu_vibrun(), check ? "--check" : "", cases[i].set);
            double t0 = now_s();
            int code = tu_run(cmd, out, sizeof out);
            double dt = now_s() - t0;
            cr_expect_eq(code, 1, "%s: exit %d\n%s", cases[i].set, code, out);
            for (int k = 0; k < 3; k++)
                cr_expect_not_null(strstr(out, cases[i].want[k]), "%s: expected '%s' in\n%s", cases[i].set,
                                   cases[i].want[k], out);
            cr_expect_lt(dt, 20.0, "%s: took %.1f s (it allocated?)", cases[i].set, dt);
        }
    /* The default: the same model at its own size trains. */
    cr_expect_eq(vibrun(dir, "--quiet big.lua"), 0, "%s", out);
}

/* xpcall keeps its meaning for scripts that use it: results on success, the handler's on error. */
Test(hard, xpcall_still_returns_results_and_the_handlers_value) {
    const char *dir = tu_tmpdir("xpcall");
    write_text(dir, "x.lua", "local vib = require 'vib'\n"
               "local ok, v = xpcall(function(a, b) return a + b end, error, 40, 2)\n"
               "local bad, w = xpcall(function() error('boom', 0) end, function(e) return 'handled ' .. e end)\n"
               "error(tostring(ok) .. ' ' .. v .. ' ' .. tostring(bad) .. ' ' .. w, 0)\n");
    cr_expect_eq(vibrun(dir, "--list x.lua"), 1, "%s", out);
    cr_expect_not_null(strstr(out, "true 42 false handled boom"), "%s", out);
}

/* SIGTERM while a script loops: stopped promptly, exit 143, the line named. */
/* A script stuck in Lua code (the hook sees the signal), or inside one call into Lua's C library,
** where no hook runs (a string pattern that backtracks for ages): SIGTERM ends it with 143 and the
** line, within seconds (the watchdog's two idle ticks in the second case). */
Test(hard, sigterm_stops_a_looping_script_with_143, .timeout = 60) {
    const char *dir = tu_tmpdir("budget_term");
    const struct { const char *body, *want; double within; } cases[] = {
        { "while true do end", "loop.lua:2: stopped by a signal", 2.0 },
        { "local s = string.rep('a', 40) local x = 1\nstring.find(s, string.rep('a*', 40) .. 'b')",
          "loop.lua:3: stopped by a signal while the script was inside a call into Lua's library", 8.0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(dir, "loop.lua", "local vib = require 'vib'\n%s\n", cases[i].body);
        char log[1200];
        snprintf(log, sizeof log, "%s/log", dir);
        pid_t pid = tu_spawn(dir, log, false, (const char *const[]){ tu_vibrun(), "--list", "loop.lua", NULL });
        struct timespec ts = { 0, 300 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        double t0 = now_s();
        cr_assert_eq(kill(pid, SIGTERM), 0);
        int st;
        cr_assert_eq(waitpid(pid, &st, 0), pid);
        cr_expect_lt(now_s() - t0, cases[i].within, "%s", cases[i].body);
        char *text = tu_read_file(log, NULL);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 143, "%s: status %d\n%s", cases[i].body, st, text);
        cr_expect_not_null(strstr(text, cases[i].want), "%s: %s", cases[i].body, text);
        free(text);
    }
}

/* Without a signal, a call into the library that never returns ends after 10 s without a beat of
** the hook, naming the line. */
Test(hard, a_pattern_that_backtracks_for_ages_is_stopped_by_the_watchdog, .timeout = 120) {
    const char *dir = tu_tmpdir("watchdog");
    write_text(dir, "stuck.lua", "local vib = require 'vib'\nlocal s = string.rep('a', 40)\n"
                                 "string.find(s, string.rep('a*', 40) .. 'b')\n");
    double t0 = now_s();
    int code = vibrun(dir, "--list stuck.lua");
    double dt = now_s() - t0;
    cr_expect_eq(code, 1, "exit %d\n%s", code, out);
    cr_expect_not_null(strstr(out, "stuck.lua:3: the script spent 10 s inside one call into Lua's library"), "%s", out);
    cr_expect_lt(dt, 60.0, "took %.1f s", dt);
}

// ---- item 9: --set integers, data files that are no files, quoting for sbatch ----

Test(hard, an_int_setting_past_int_range_is_refused_before_it_wraps) {
    const char *dir = tu_tiny_dir("intrange");
    char args[2048];
    snprintf(args, sizeof args, "--list --set epochs=3000000000 '%s/tests/lua/tiny.lua'", tu_source_dir());
    cr_expect_eq(vibrun(dir, args), 2, "%s", out);
    cr_expect_not_null(strstr(out, "'epochs' must be at most 2147483647"), "%s", out);
    cr_expect_null(strstr(out, "-1294967296"), "%s", out);
}

/* vib.data.csv on a FIFO (would block), /dev/zero (never ends) and a directory: refused at once. */
Test(hard, a_data_path_that_is_no_regular_file_is_refused, .timeout = 60) {
    const char *dir = tu_tiny_dir("fifo");
    char fifo[1200];
    snprintf(fifo, sizeof fifo, "%s/fifo.csv", dir);
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    const char *paths[] = { "fifo.csv", "/dev/zero", "." };
    const char *what[] = { "a FIFO", "a device", "a directory" };
    for (int i = 0; i < 3; i++) {
        write_text(dir, "d.lua", "local vib = require 'vib'\nreturn vib.experiment { name = 'd',\n"
                   "  data = vib.data.csv { path = '%s', holdout = 0.25 },\n"
                   "  model = vib.seq { vib.linear { out = 3 } }, objective = vib.obj.ce {} }\n", paths[i]);
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "cd '%s' && timeout 20 '%s' --check d.lua 2>&1", dir, tu_vibrun());
        int code = tu_run(cmd, out, sizeof out);
        cr_expect_eq(code, 1, "%s: exit %d\n%s", paths[i], code, out);
        cr_expect_not_null(strstr(out, "is not a regular file"), "%s: %s", paths[i], out);
        cr_expect_not_null(strstr(out, what[i]), "%s: %s", paths[i], out);
    }
}

/* The printed sbatch line and #SBATCH --output quote an output root with a space, a quote, '#'
** and '%': the printed command, run by a shell, names the script written. */
Test(hard, the_sbatch_line_and_output_quote_odd_paths) {
    const char *dir = tu_tiny_dir("sbatchq");
    char args[2048];
    snprintf(args, sizeof args, "slurm --tasks 1 --set hidden=8 --out \"r x'y #1%%\" '%s/tests/lua/tiny.lua'",
             tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    const char *line = strstr(out, "submit with: sbatch ");
    cr_assert_not_null(line, "%s", out);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && f() { test -f \"$1\" && echo \"$1\"; } && f %.*s", dir,
             (int)strcspn(line + 20, "\n"), line + 20);
    cr_expect_eq(tu_run(cmd, out, sizeof out), 0, "%s", cmd);
    cr_expect_not_null(strstr(out, "r x'y #1%/tiny/slurm/tiny.sbatch"), "%s", out);
    char path[1200];
    snprintf(path, sizeof path, "%s/r x'y #1%%/tiny/slurm/tiny.sbatch", dir);
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text);
    cr_expect_not_null(strstr(text, "x'\\''y #1%%/tiny/slurm/%x-%A_%a.out'\n"), "%s", text);
    const char *o = strstr(text, "#SBATCH --output='/");
    cr_expect_not_null(o, "%s", text);
    free(text);
}

// ---- item 7: a checkpoint carries its point, its shapes and a cursor inside the run ----

#include "rt_ckpt.h"

/* Trains the two points of a sweep over x (1: 3 hidden units, 2: 4) for two epochs into dir/r/c;
** their ids into ids[0], ids[1]. */
static void train_two(const char *dir, char ids[2][64]) {
    write_text(dir, "c.lua", EXPERIMENT("'c'", "{ x = 1 }", "vib.grid { x = { 1, 2 } }"));
    cr_assert_eq(vibrun(dir, "--quiet --out r --set epochs=2 c.lua"), 0, "%s", out);
    cr_assert_eq(vibrun(dir, "--list --out r --set epochs=2 c.lua"), 0, "%s", out);
    cr_assert_eq(sscanf(out, "# 2 points of r/c\n1 %63s {x=1}\n2 %63s", ids[0], ids[1]), 2, "%s", out);
}

/* Replaces blob `name` of checkpoint `from` and saves it as `to`. */
static void forge(const char *from, const char *to, const char *name, const void *data, size_t n) {
    rt_err err = { 0 };
    rt_ckpt *ck = rt_ckpt_load(from, &err);
    cr_assert_not_null(ck, "%s", err.msg);
    if (name) rt_ckpt_put(ck, name, data, n);
    cr_assert_eq(rt_ckpt_save(ck, to, &err), RT_OK, "%s", err.msg);
    rt_ckpt_free(ck);
}

Test(hard, a_checkpoint_of_another_point_or_shape_is_refused, .timeout = 120) {
    const char *dir = tu_tiny_dir("ckpt_point");
    char ids[2][64], a[1200], b[1200], res[1200];
    train_two(dir, ids);
    snprintf(a, sizeof a, "%s/r/c/%s/checkpoint", dir, ids[0]);
    snprintf(b, sizeof b, "%s/r/c/%s/checkpoint", dir, ids[1]);
    snprintf(res, sizeof res, "%s/r/c/%s/result.csv", dir, ids[1]);
    /* point 1's checkpoint copied over point 2's */
    forge(a, b, NULL, NULL, 0);
    cr_assert_eq(remove(res), 0);
    cr_expect_eq(vibrun(dir, "--quiet --resume --out r --set epochs=2 c.lua"), 1, "%s", out);
    char want[256];
    snprintf(want, sizeof want, "a checkpoint of point %s, not of point %s", ids[0], ids[1]);
    cr_expect_not_null(strstr(out, want), "%s", out);
    /* ... and with point 2's id forged into it: its shapes (3 hidden units, not 4) give it away */
    forge(a, b, "point", ids[1], strlen(ids[1]));
    cr_expect_eq(vibrun(dir, "--quiet --resume --out r --set epochs=2 c.lua"), 1, "%s", out);
    cr_expect_not_null(strstr(out, "holds parameter "), "%s", out);
    cr_expect_not_null(strstr(out, "3x4 where the model has linear1.weight 4x4"), "%s", out);
}

Test(hard, a_checkpoint_cursor_outside_the_run_is_refused, .timeout = 120) {
    const char *dir = tu_tiny_dir("ckpt_cursor");
    char ids[2][64], a[1200], res[1200];
    train_two(dir, ids);
    snprintf(a, sizeof a, "%s/r/c/%s/checkpoint", dir, ids[0]);
    snprintf(res, sizeof res, "%s/r/c/%s/result.csv", dir, ids[0]);
    const int32_t bad[][2] = { { -1, 0 }, { 2147483647, 0 }, { 1, -5 }, { 0, 1000000 }, { 2, 1 } };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        forge(a, a, "cursor", bad[i], sizeof bad[i]);
        remove(res);
        cr_expect_eq(vibrun(dir, "--quiet --resume --out r --set epochs=2 c.lua"), 1, "cursor %d %d: %s", bad[i][0],
                     bad[i][1], out);
        char want[128];
        snprintf(want, sizeof want, "its cursor (epoch %d, step %d) lies outside", bad[i][0], bad[i][1]);
        cr_expect_not_null(strstr(out, want), "%s", out);
    }
}

// ---- item 8: files written by something else are not trusted ----

/* An empty or junk result.csv is no result: --resume trains the point again, results.csv lists it
** with its own row, and `vibrun status` does not call it done before. */
Test(hard, an_empty_or_junk_result_is_not_done, .timeout = 120) {
    const char *dir = tu_tiny_dir("junkresult");
    char ids[2][64], res[1200];
    train_two(dir, ids);
    const char *junk[] = { "", "a,b\n1,2\n" };
    for (int k = 0; k < 2; k++) {
        snprintf(res, sizeof res, "%s/r/c/%s/result.csv", dir, ids[1]);
        tu_write_file(res, junk[k], strlen(junk[k]));
        cr_expect_eq(vibrun(dir, "--resume --out r --set epochs=2 c.lua"), 0, "%s", out);
        cr_expect_not_null(strstr(out, "is no result of point"), "%s", out);
        char *text = tu_read_file(res, NULL);
        cr_expect(text && strncmp(text, "point_id,x,seed,status", 22) == 0, "%s", text);
        free(text);
        char all[1200];
        snprintf(all, sizeof all, "%s/r/c/results.csv", dir);
        text = tu_read_file(all, NULL);
        cr_expect(text && strstr(text, ids[1]) && !strstr(text, ",a,") && !strstr(text, "a,b"), "%s", text);
        free(text);
    }
}

Test(hard, a_garbage_manifest_is_refused_not_overwritten) {
    const char *dir = tu_tiny_dir("junkmanifest");
    write_text(dir, "c.lua", EXPERIMENT("'c'", "{ x = 1 }", "vib.grid { x = { 1, 2 } }"));
    char path[1200];
    snprintf(path, sizeof path, "%s/r/c", dir);
    cr_assert_eq(tu_run(strcat(strcpy((char[1400]){ 0 }, "mkdir -p "), path), NULL, 0), 0);
    write_text(path, "manifest", "someone else's notes\n");
    cr_expect_eq(vibrun(dir, "--quiet --out r --set epochs=1 c.lua"), 1, "%s", out);
    cr_expect_not_null(strstr(out, "is not a vibrun manifest"), "%s", out);
    snprintf(path, sizeof path, "%s/r/c/manifest", dir);
    char *text = tu_read_file(path, NULL);
    cr_expect_str_eq(text, "someone else's notes\n");
    free(text);
}

// ---- item 5: one SIGTERM under --jobs 2 ----

/* SIGTERM to the whole process group (as Slurm's preemption and a terminal's job control send it):
** each worker gets it directly and once more from the parent; both end interrupted with their
** checkpoint, not killed by the second signal, and the run exits 143. */
Test(hard, sigterm_to_the_group_under_jobs_2_checkpoints_every_worker, .timeout = 120) {
    const char *dir = tu_tiny_dir("jobs_term");
    char script[1024], log[1200];
    snprintf(script, sizeof script, "%s/tests/lua/tiny.lua", tu_source_dir());
    snprintf(log, sizeof log, "%s/log", dir);
    pid_t pid = tu_spawn(dir, log, true, (const char *const[]){ tu_vibrun(), "--out", "r", "--jobs", "2", "--set",
                                                                 "epochs=1000000", script, NULL });
    bool started = tu_wait_for_text(log, "[1/2]", 60.0) && tu_wait_for_text(log, "[2/2]", 60.0);
    if (!started) kill(-pid, SIGKILL);
    cr_assert(started, "the two workers did not start within 60 s");
    cr_assert_eq(kill(-pid, SIGTERM), 0);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    char *text = tu_read_file(log, NULL);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 143, "status %d\n%s", st, text);
    cr_expect_null(strstr(text, "ended by signal"), "%s", text);
    cr_expect_not_null(strstr(text, "0 of 2 points done, 2 checkpointed"), "%s", text);
    free(text);
    char names[4][64], exp[1200];
    snprintf(exp, sizeof exp, "%s/r/tiny", dir);
    cr_assert_eq(tu_point_dirs(exp, names, 4), 2);
    for (int i = 0; i < 2; i++) {
        char ck[1400];
        snprintf(ck, sizeof ck, "%s/%s/checkpoint", exp, names[i]);
        rt_err err = { 0 };
        rt_ckpt *c = rt_ckpt_load(ck, &err);
        cr_expect_not_null(c, "%s", err.msg);
        rt_ckpt_free(c);
    }
}

// ---- item 1: no fixed-size list where user input decides the length (lb_plot.c) ----

/* 70 figures of one kind: each gets its own file (names past the 64th were not remembered, so the
** 65th and 66th took the same name and overwrote each other). */
Test(hard, seventy_figures_of_one_kind_get_seventy_files, .timeout = 240) {
    const char *dir = tu_tiny_dir("manyplots");
    write_text(dir, "m.lua", EXPERIMENT("'m'", "{ x = 1 }", "vib.grid { x = { 1 } }, plots = (function()\n"
               "    local t = {} for i = 1, 70 do t[i] = vib.plot.training_curve { formats = { 'svg' } } end\n"
               "    return t end)()"));
    cr_assert_eq(vibrun(dir, "--quiet --out r m.lua"), 0, "%s", out);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "ls '%s/r/m/plots/' | grep -c '^training_curve.*\\.gp$'", dir);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    cr_expect_eq(atoi(out), 70, "%s .gp files", out);
}
