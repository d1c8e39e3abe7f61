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
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, tu_vibrun(), args);
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
