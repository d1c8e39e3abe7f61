// test_vibrun.c: the vibrun command as a user runs it: error messages that name the script line,
// an end-to-end sweep, byte-identical reruns, --set, --check, --resume and config.lua replay.
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_impl.h"
#include "nn_measure.h"
#include "nn_model.h"
#include "rt_conv_dnnl.h"
#include "nn_train.h"
#include "rt_ckpt.h"
#include "testutil.h"

static char out[1 << 16];

/* Runs vibrun with args inside dir; returns its exit code; stdout+stderr in `out`. */
static int vibrun(const char *dir, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, tu_vibrun(), args);
    return tu_run(cmd, out, sizeof out);
}

static int count_lines(const char *path) {
    size_t n;
    char *s = tu_read_file(path, &n);
    cr_assert_not_null(s, "missing %s", path);
    int lines = 0;
    for (size_t i = 0; i < n; i++) lines += s[i] == '\n';
    free(s);
    return lines;
}

// ---- errors name the script line ----

/* The .lua files of <source>/<sub> whose names start with prefix, as full paths into paths[];
** returns how many (at most max). */
static int lua_files(const char *sub, const char *prefix, char paths[][1024], int max) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", tu_source_dir(), sub);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".lua") != 0 || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(paths[n++], 1024, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    return n;
}

Test(vibrun, error_scripts_name_file_and_line) {
    const char *dir = tu_tiny_dir("errors");
    static char paths[128][1024];
    int n = lua_files("tests/lua", "error_", paths, 128);
    for (int i = 0; i < n; i++) {
        const char *name = strrchr(paths[i], '/') + 1;
        char expect[512] = "";
        char *text = tu_read_file(paths[i], NULL);
        cr_assert_not_null(text);
        cr_assert(sscanf(text, "-- expect: %511[^\n]", expect) == 1, "%s has no '-- expect:' line", name);
        free(text);
        char args[2200];
        snprintf(args, sizeof args, "--check '%s'", paths[i]);
        int code = vibrun(dir, args);
        cr_expect_eq(code, 1, "%s: exit %d, expected 1; output:\n%s", name, code, out);
        cr_expect_not_null(strstr(out, expect), "%s: expected\n  %s\nin\n  %s", name, expect, out);
        cr_expect_null(strstr(out, "stack traceback"), "%s: a traceback leaked to the user", name);
    }
    cr_assert_geq(n, 10, "only %d error scripts found", n);
}

/* Every shipped experiment resolves its points (params, model, objective and optim functions run
** for each), so a script broken by a DSL change fails here, not in a user's hands. */
Test(vibrun, every_experiment_lists_its_points) {
    const char *dir = tu_tiny_dir("experiments");
    static char paths[64][1024];
    int n = lua_files("experiments", "", paths, 64);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(paths[i]);
        if (len > 11 && strcmp(paths[i] + len - 11, "_common.lua") == 0) continue;  /* a shared module */
        char args[2200];
        snprintf(args, sizeof args, "--list '%s'", paths[i]);
        cr_expect_eq(vibrun(dir, args), 0, "%s: %s", paths[i], out);
        cr_expect(strncmp(out, "# ", 2) == 0, "%s: %s", paths[i], out);
    }
    cr_assert_geq(n, 10, "only %d experiments found", n);
}

/* A script requires a module beside it: its model comes from there, the module runs once, and the
** point is the one the same text inline gives (ids hash the model, not where it was written). */
Test(vibrun, require_a_module_beside_the_script) {
    const char *dir = tu_tiny_dir("require");
    char args[2200];
    snprintf(args, sizeof args, "--list '%s/tests/lua/require_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "1 point of runs/require_tiny"), "%s", out);
    snprintf(args, sizeof args, "--quiet --out runs '%s/tests/lua/require_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
}

/* The settings' defaults are vib_settings.lua's list; nn_train_cfg_default() holds them for C callers
** (nn cannot read Lua): a point that sets nothing trains with the same values. */
Test(vibrun, setting_defaults_agree_with_nn) {
    const char *dir = tu_tiny_dir("defaults");
    char args[2200], id[32] = "";
    snprintf(args, sizeof args, "--list '%s/tests/lua/defaults_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_assert_eq(sscanf(out, "# 1 point of runs/defaults_tiny\n1 %31s", id), 1, "%s", out);
    snprintf(args, sizeof args, "--quiet --out runs '%s/tests/lua/defaults_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char path[1200];
    snprintf(path, sizeof path, "%s/runs/defaults_tiny/%s/config.lua", dir, id);
    char *text = tu_read_file(path, NULL);
    cr_assert_not_null(text, "missing %s", path);
    const char *line = strstr(text, "settings = {");
    cr_assert_not_null(line, "%s", text);
    int epochs, batch, eval_batch, tel, ck, es, ep;
    double ema;
    unsigned long long seed;
    cr_assert_eq(sscanf(line, "settings = { epochs = %d, batch = %d, eval_batch = %d, ema = %lf, seed = %llu, "
                        "train_eval_limit = %d, checkpoint_every = %d, eval_samples = %d, eval_passes = %d }",
                        &epochs, &batch, &eval_batch, &ema, &seed, &tel, &ck, &es, &ep), 9, "%s", line);
    nn_train_cfg d = nn_train_cfg_default();
    cr_expect_eq(epochs, d.epochs);
    cr_expect_eq(batch, d.batch);
    cr_expect_eq(eval_batch, d.eval_batch);
    cr_expect_eq(ema, (double)d.ema);
    cr_expect_eq(seed, (unsigned long long)d.seed);
    cr_expect_eq(tel, d.train_eval_limit);
    cr_expect_eq(ck, d.checkpoint_every);
    cr_expect_eq(es, d.eval_samples);
    cr_expect_eq(ep, d.eval_passes);
    free(text);
}

/* The names nn/ writes into outputs (info.csv's estimator, the model summary's init, the data
** scale) are the names a script writes for the same values (lb_point.c's choices table). */
Test(vibrun, nn_names_are_the_script_names) {
    for (int e = 0; e < NN_EST_COUNT; e++) {
        const char *s = lb_choice_name("estimator", e);
        cr_expect(s && strcmp(s, nn_est_name((nn_est)e)) == 0, "estimator %d: script '%s', nn '%s'", e, s,
                  nn_est_name((nn_est)e));
    }
    for (int i = 0; i < NN_INIT_COUNT; i++) {
        const char *s = lb_choice_name("init", i);
        cr_expect(s && strcmp(s, nn_init_name((nn_init)i)) == 0, "init %d: script '%s', nn '%s'", i, s,
                  nn_init_name((nn_init)i));
    }
    for (int k = NN_SCALE_NONE; k <= NN_SCALE_CHANNEL_PUBLISHED; k++) {
        const char *s = lb_choice_name("scale", k);
        cr_expect(s && strcmp(s, nn_scale_name((nn_scale)k)) == 0, "scale %d: script '%s', nn '%s'", k, s,
                  nn_scale_name((nn_scale)k));
    }
    for (int a = NN_AUG_NONE; a <= NN_AUG_CROP_FLIP; a++) {
        const char *s = lb_choice_name("augment", a);
        cr_expect(s && strcmp(s, nn_augment_name((nn_augment)a)) == 0, "augment %d: script '%s', nn '%s'", a, s,
                  nn_augment_name((nn_augment)a));
    }
}

/* The usage names every setting that --set accepts (the "known:" list of an unknown key ends with
** them, after the script's params). */
Test(vibrun, usage_names_every_setting) {
    const char *dir = tu_tiny_dir("usage_settings");
    char args[2200];
    snprintf(args, sizeof args, "--list --set nosuch=1 '%s/tests/lua/defaults_tiny.lua'", tu_source_dir());
    cr_assert_neq(vibrun(dir, args), 0, "%s", out);
    const char *known = strstr(out, "known: ");
    cr_assert_not_null(known, "%s", out);
    static char names[4096];
    snprintf(names, sizeof names, "%s", known + 7);
    cr_assert_eq(vibrun(dir, "--help"), 0);
    int n = 0;
    /* As an item of the --set line's list: "name," or "name)" (the word alone is in other lines). */
    for (char *tok = strtok(names, ", \n"); tok; tok = strtok(NULL, ", \n"), n++) {
        char comma[80], paren[80];
        snprintf(comma, sizeof comma, "%s,", tok);
        snprintf(paren, sizeof paren, "%s)", tok);
        cr_expect(strstr(out, comma) || strstr(out, paren), "the usage does not name the setting '%s'", tok);
    }
    cr_expect_geq(n, 11, "only %d settings", n);
}

/* A --set of a setting that takes a choice is checked against its names (vib_settings.lua). */
Test(vibrun, set_choice_setting_names_the_choices) {
    const char *dir = tu_tiny_dir("set_choice");
    char args[2200];
    snprintf(args, sizeof args, "--list --set streams=indep '%s/tests/lua/defaults_tiny.lua'", tu_source_dir());
    cr_expect_neq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "--set streams=indep: 'streams' is one of common, independent"), "%s", out);
}

Test(vibrun, usage_errors_exit_2) {
    const char *dir = tu_tmpdir("usage");
    cr_expect_eq(vibrun(dir, ""), 2);
    cr_expect_not_null(strstr(out, "usage:"));
    cr_expect_eq(vibrun(dir, "x.lua --frobnicate"), 2);
    cr_expect_not_null(strstr(out, "unknown option --frobnicate"));
    cr_expect_eq(vibrun(dir, "--help"), 0);
}

Test(vibrun, missing_script_is_a_clear_error) {
    const char *dir = tu_tmpdir("missing");
    cr_expect_eq(vibrun(dir, "nosuch.lua"), 1);
    cr_expect_not_null(strstr(out, "cannot open nosuch.lua"), "%s", out);
}

// ---- an end-to-end sweep ----

Test(vibrun, tiny_sweep_end_to_end) {
    const char *dir = tu_tiny_dir("e2e");
    char args[2048], path[2048];
    snprintf(args, sizeof args, "--quiet --out runs '%s/tests/lua/tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/tiny/results.csv", dir);
    char *res = tu_read_file(path, NULL);
    cr_assert_not_null(res);
    cr_expect(strncmp(res, "point_id,hidden,lr,seed,status,epochs,diverged_epoch,train_loss_bits,train_error,"
                           "test_loss_bits,test_error,test_ce_bits\n", 100) == 0, "header: %s", res);
    cr_expect_eq(count_lines(path), 3, "two points and a header");
    /* Both points trained: test error of separable blobs well below chance (2/3). */
    char *line = strchr(res, '\n') + 1;
    for (int i = 0; i < 2; i++) {
        char id[64], status[32];
        int hidden, epochs;
        double lr, trl, tre, tel, tee;
        cr_assert_eq(sscanf(line, "%12[0-9a-f],%d,%lf,1,%31[a-z],%d,0,%lf,%lf,%lf,%lf", id, &hidden, &lr,
                            status, &epochs, &trl, &tre, &tel, &tee), 9, "row: %s", line);
        cr_expect_str_eq(status, "done");
        cr_expect_eq(epochs, 4);
        cr_expect_lt(tee, 0.2, "test error %g", tee);
        line = strchr(line, '\n') + 1;
    }
    free(res);
    char names[4][64];
    snprintf(path, sizeof path, "%s/runs/tiny", dir);
    cr_assert_eq(tu_point_dirs(path, names, 4), 2);
    const char *files[] = { "config.lua", "metrics.csv", "result.csv", "timing.csv", "checkpoint" };
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/runs/tiny/%s/%s", dir, names[0], files[i]);
        cr_expect_eq(access(path, R_OK), 0, "missing %s", path);
    }
    snprintf(path, sizeof path, "%s/runs/tiny/%s/metrics.csv", dir, names[0]);
    cr_expect_eq(count_lines(path), 1 + 2 * 5, "header + train/test rows for epochs 0..4");
    snprintf(path, sizeof path, "%s/runs/tiny/%s/metrics.csv.part", dir, names[0]);
    cr_expect_neq(access(path, F_OK), 0, "a finished point left a .part file");
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        snprintf(path, sizeof path, "%s/runs/tiny/plots/training_curve.png", dir);
        cr_expect_eq(access(path, R_OK), 0, "no figure at %s", path);
    }
}

Test(vibrun, same_seed_gives_identical_bytes) {
    const char *dir = tu_tiny_dir("repro");
    char args[2048], a[2048], b[2048];
    for (int r = 1; r <= 2; r++) {
        snprintf(args, sizeof args, "--quiet --out runs%d '%s/tests/lua/tiny.lua'", r, tu_source_dir());
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    }
    snprintf(a, sizeof a, "%s/runs1/tiny/results.csv", dir);
    snprintf(b, sizeof b, "%s/runs2/tiny/results.csv", dir);
    tu_expect_same_file(a, b);
    char names[4][64];
    snprintf(a, sizeof a, "%s/runs1/tiny", dir);
    int n = tu_point_dirs(a, names, 4);
    cr_assert_eq(n, 2, "tiny.lua has 2 points; %d compared", n);
    for (int i = 0; i < n; i++) {
        snprintf(a, sizeof a, "%s/runs1/tiny/%s/metrics.csv", dir, names[i]);
        snprintf(b, sizeof b, "%s/runs2/tiny/%s/metrics.csv", dir, names[i]);
        tu_expect_same_file(a, b);
        snprintf(a, sizeof a, "%s/runs1/tiny/%s/checkpoint", dir, names[i]);
        snprintf(b, sizeof b, "%s/runs2/tiny/%s/checkpoint", dir, names[i]);
        tu_expect_same_file(a, b);
    }
    /* Another seed is another run. */
    snprintf(args, sizeof args, "--quiet --out runs3 --set seed=2 '%s/tests/lua/tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(a, sizeof a, "%s/runs1/tiny/results.csv", dir);
    snprintf(b, sizeof b, "%s/runs3/tiny/results.csv", dir);
    char *x = tu_read_file(a, NULL), *y = tu_read_file(b, NULL);
    cr_expect(strcmp(x, y) != 0, "seed 2 gave the same results as seed 1");
    free(x);
    free(y);
}

// ---- --set, --check, --resume, replay ----

Test(vibrun, set_overrides_params_and_settings) {
    const char *dir = tu_tiny_dir("set");
    char args[2048], path[2048];
    snprintf(args, sizeof args, "--quiet --out runs --set epochs=1 --set hidden=4 '%s/tests/lua/tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/tiny/results.csv", dir);
    cr_expect_eq(count_lines(path), 2, "setting the sweep axis fixes it: one point");
    char *res = tu_read_file(path, NULL);
    cr_expect_not_null(strstr(res, ",4,0.01,1,done,1,"), "%s", res);
    free(res);

    /* Bad --set values: each one message, and exit code 2 (bad usage). */
    const struct { const char *set; int code; const char *want; } bad[] = {
        { "hiden=4", 2, "--set hiden=4: 'hiden' is neither a param of tiny nor a setting; known: hidden, lr, seed" },
        { "hidden=big", 2, "'hidden' expects an integer" },
        { "hidden", 2, "expected KEY=VALUE" },
        { "replicates=0", 2, "replicates must be >= 1" },
        { "train_eval_limit=-1", 2, "train_eval_limit=-1 must be >= 0" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(args, sizeof args, "--check --set %s '%s/tests/lua/tiny.lua'", bad[i].set, tu_source_dir());
        cr_expect_eq(vibrun(dir, args), bad[i].code, "--set %s: exit code\n%s", bad[i].set, out);
        cr_expect_not_null(strstr(out, bad[i].want), "--set %s:\n%s", bad[i].set, out);
    }
}

/* augment is a setting: config.lua repeats it when the script or --set names it, so a replay
** trains the same bytes; --set augment=none is another point (another id); the two differ. */
Test(vibrun, augment_is_replayed_and_changes_the_point) {
    char data[512];
    if (!tu_shared("cifar-10-subset", data, sizeof data)) tu_skip("../shared/data/cifar-10-subset absent");
    const char *dir = tu_tiny_dir("augment");
    char args[2048], ids[2][32], path[2400], path2[2400];
    const char *sets[2] = { "", "--set augment=none" };
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "--list --set data_dir=%s %s '%s/tests/lua/augment_tiny.lua'", data, sets[k],
                 tu_source_dir());
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
        cr_assert_eq(sscanf(out, "# 1 point of runs/augment_tiny\n1 %31s", ids[k]), 1, "%s", out);
        snprintf(args, sizeof args, "--quiet --out runs --set data_dir=%s %s '%s/tests/lua/augment_tiny.lua'", data,
                 sets[k], tu_source_dir());
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    }
    cr_assert_str_neq(ids[0], ids[1], "augment = none must be another point");
    const char *want[2] = { "augment = \"crop_flip\" }", "augment = \"none\" }" };
    char *metrics[2];
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/runs/augment_tiny/%s/config.lua", dir, ids[k]);
        char *text = tu_read_file(path, NULL);
        cr_assert_not_null(text, "%s", path);
        cr_expect_not_null(strstr(text, want[k]), "%s", text);
        free(text);
        snprintf(path, sizeof path, "%s/runs/augment_tiny/%s/metrics.csv", dir, ids[k]);
        metrics[k] = tu_read_file(path, NULL);
        cr_assert_not_null(metrics[k]);
    }
    cr_expect_str_neq(metrics[0], metrics[1]);
    free(metrics[0]);
    free(metrics[1]);
    snprintf(args, sizeof args, "--quiet --out replay runs/augment_tiny/%s/config.lua", ids[0]);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/augment_tiny/%s/metrics.csv", dir, ids[0]);
    snprintf(path2, sizeof path2, "%s/replay/augment_tiny/%s/metrics.csv", dir, ids[0]);
    tu_expect_same_file(path, path2);
}

Test(vibrun, check_prints_summary_and_trains_nothing) {
    const char *dir = tu_tiny_dir("check");
    char args[2048], path[2048];
    snprintf(args, sizeof args, "--check --out runs '%s/tests/lua/tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "point 1/2"), "%s", out);
    cr_expect_not_null(strstr(out, "hidden           linear         (B, 8)                       40             32"),
                       "%s", out);
    /* 4*8+8 + 8*3+3 = 67 parameters for hidden = 8 */
    cr_expect_not_null(strstr(out, "total parameters: 67"), "%s", out);
    snprintf(path, sizeof path, "%s/runs", dir);
    cr_expect_neq(access(path, F_OK), 0, "--check wrote %s", path);
}

Test(vibrun, resume_skips_finished_points_and_config_replays) {
    const char *dir = tu_tiny_dir("resume");
    char args[2048], a[2048], b[2048];
    snprintf(args, sizeof args, "--out runs '%s/tests/lua/tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(args, sizeof args, "--out runs --resume '%s/tests/lua/tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "finished before, skipped (--resume)"), "%s", out);
    /* config.lua replays its point, to the same bytes. */
    char names[4][64];
    snprintf(a, sizeof a, "%s/runs/tiny", dir);
    cr_assert_eq(tu_point_dirs(a, names, 4), 2);
    snprintf(args, sizeof args, "--quiet --out replay runs/tiny/%s/config.lua", names[1]);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(a, sizeof a, "%s/runs/tiny/%s/metrics.csv", dir, names[1]);
    snprintf(b, sizeof b, "%s/replay/tiny/%s/metrics.csv", dir, names[1]);
    tu_expect_same_file(a, b);
}

/* config.lua names its script by its full path and the directory to replay from; replayed after
** the script changed, it warns that its params now make another point. */
Test(vibrun, config_replay_names_its_script_and_warns_when_the_script_changed) {
    const char *dir = tu_tiny_dir("replay_changed");
    char src[1024], copy[1100], args[2048], names[4][64], cfg[1200];
    snprintf(src, sizeof src, "%s/tests/lua/tiny.lua", tu_source_dir());
    snprintf(copy, sizeof copy, "%s/mine.lua", dir);
    size_t n;
    char *text = tu_read_file(src, &n);
    cr_assert_not_null(text);
    tu_write_file(copy, text, n);
    cr_assert_eq(vibrun(dir, "--quiet --out r --set hidden=8 mine.lua"), 0, "%s", out);
    snprintf(args, sizeof args, "%s/r/tiny", dir);
    cr_assert_eq(tu_point_dirs(args, names, 4), 1);
    snprintf(cfg, sizeof cfg, "%s/r/tiny/%s/config.lua", dir, names[0]);
    char *c = tu_read_file(cfg, NULL);
    cr_assert_not_null(c);
    cr_expect(strstr(c, "script = \"/") && strstr(c, "/mine.lua\","), "config.lua does not name %s by its full "
              "path:\n%s", copy, c);
    cr_expect_not_null(strstr(c, "Replay it from "), "%s", c);
    free(c);
    /* A --set of the user's own makes another point on purpose: no warning. */
    snprintf(args, sizeof args, "--quiet --out r3 --set epochs=2 r/tiny/%s/config.lua", names[0]);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_null(strstr(out, "now resolves its params"), "a warning for the user's own --set:\n%s", out);
    /* The script changes: one more layer. */
    char *at = strstr(text, "vib.tanh {},");
    cr_assert_not_null(at);
    char changed[8192];
    snprintf(changed, sizeof changed, "%.*svib.tanh {}, vib.linear { out = 5 },%s", (int)(at - text), text,
             at + strlen("vib.tanh {},"));
    tu_write_file(copy, changed, strlen(changed));
    free(text);
    snprintf(args, sizeof args, "--quiet --out r2 r/tiny/%s/config.lua", names[0]);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "now resolves its params to point"), "no warning:\n%s", out);
}

Test(vibrun, diverged_point_is_marked_and_named) {
    const char *dir = tu_tiny_dir("diverge");
    char args[2048], path[2048];
    snprintf(args, sizeof args, "--quiet --out runs '%s/tests/lua/diverge.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "a diverged point does not fail the run: %s", out);
    cr_expect_not_null(strstr(out, "diverge.lua:6: point "), "%s", out);
    cr_expect_not_null(strstr(out, "diverged at epoch 1"), "%s", out);
    /* ... and where the first NaN or infinity came from: the op, its shape and its layer's line. */
    cr_expect_not_null(strstr(out, "the first non-finite value came from op "), "%s", out);
    cr_expect_not_null(strstr(out, "in layer '"), "%s", out);
    cr_expect_not_null(strstr(out, "diverge.lua:5)"), "%s", out);
    snprintf(path, sizeof path, "%s/runs/diverge/results.csv", dir);
    char *res = tu_read_file(path, NULL);
    cr_assert_not_null(res);
    cr_expect_not_null(strstr(res, ",diverged,0,1,"), "%s", res);
    free(res);
}

// ---- IB objectives end to end ----

/* The metrics.csv of the only point of runs/<exp> under dir/<runs>, read whole. */
static char *only_metrics(const char *dir, const char *runs, const char *exp) {
    char path[2048], names[4][64];
    snprintf(path, sizeof path, "%s/%s/%s", dir, runs, exp);
    cr_assert_eq(tu_point_dirs(path, names, 4), 1, "one point expected in %s", path);
    snprintf(path, sizeof path, "%s/%s/%s/%s/metrics.csv", dir, runs, exp, names[0]);
    char *s = tu_read_file(path, NULL);
    cr_assert_not_null(s, "missing %s", path);
    return s;
}

// IB(beta) = CEB(gamma = beta - 1) (Kirsch et al.): the surrogate objectives are the same function,
// so training gives the same bytes.
Test(vibrun, uib_ib_at_beta_equals_ceb_at_beta_minus_one) {
    const char *dir = tu_tiny_dir("uib");
    char args[2048];
    snprintf(args, sizeof args, "--quiet --out ib --set kind=ib --set beta=3 '%s/tests/lua/uib_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(args, sizeof args, "--quiet --out ceb --set kind=ceb --set gamma=2 '%s/tests/lua/uib_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(args, sizeof args, "--quiet --out ceb3 --set kind=ceb --set gamma=3 '%s/tests/lua/uib_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char *ib = only_metrics(dir, "ib", "uib_tiny"), *ceb = only_metrics(dir, "ceb", "uib_tiny"),
         *ceb3 = only_metrics(dir, "ceb3", "uib_tiny");
    cr_expect(strncmp(ib, "epoch,split,loss_bits,ce_bits,hz_y_bits,error,lr\n", 48) == 0, "header: %.80s", ib);
    cr_expect_str_eq(ib, ceb, "IB(beta=3) and CEB(gamma=2) trained differently");
    cr_expect_str_neq(ib, ceb3, "CEB(gamma=3) should differ from IB(beta=3)");
    free(ib);
    free(ceb);
    free(ceb3);
}

/* Removes the comma-separated fields [from, from + n) of every line of s, in place. */
static void drop_fields(char *s, int from, int n) {
    char *w = s;
    const char *r = s;
    while (*r) {
        int field = 0, kept = 0;
        for (; *r && *r != '\n'; field++) {
            const char *end = r + strcspn(r, ",\n");
            if (field < from || field >= from + n) {
                if (kept++) *w++ = ',';
                memmove(w, r, (size_t)(end - r));
                w += end - r;
            }
            r = *end == ',' ? end + 1 : end;
        }
        if (*r == '\n') *w++ = *r++;
    }
    *w = '\0';
}

// IMB's MLE special case through the DSL: vib.obj.imb { gammas = {1, 0, 0} } without betas trains
// as the SNN likelihood written as one term (vib.term.ce { average = "input" }): the same
// checkpoint bytes, and the same loss, error and lr in every row of metrics.csv, where its vcr0
// column is the loss. Evaluation draws particles (eval_samples = 3), so the per-layer VCR_l differ
// and must come out ordered (Jensen) in the code's own values.
Test(vibrun, imb_with_gamma0_alone_is_the_snn_likelihood) {
    const char *dir = tu_tiny_dir("imb_mle");
    char args[2048], a[2048], b[2048];
    const char *forms[2] = { "imb", "snn" };
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "--quiet --out %s --set form=%s '%s/tests/lua/imb_tiny.lua'", forms[i], forms[i],
                 tu_source_dir());
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    }
    char *imb = only_metrics(dir, "imb", "imb_tiny"), *snn = only_metrics(dir, "snn", "imb_tiny");
    const char *head = "epoch,split,loss_bits,vcr0_bits,vcr_h1_bits,vcr_h2_bits,error,error_det,lr\n";
    cr_assert(strncmp(imb, head, strlen(head)) == 0, "header: %.100s", imb);
    cr_assert(strncmp(snn, "epoch,split,loss_bits,ce_bits,error,error_det,lr\n", 48) == 0, "header: %.100s", snn);
    int rows = 0;
    for (char *line = strchr(imb, '\n') + 1; *line; line = strchr(line, '\n') + 1, rows++) {
        double loss, v0, v1, v2;
        cr_assert_eq(sscanf(line, "%*d,%*[a-z],%lf,%lf,%lf,%lf", &loss, &v0, &v1, &v2), 4, "row %s", line);
        cr_expect_eq(loss, v0, "the loss is not gamma_0 VCR_0: %.60s", line);
        cr_expect(v0 < v1 && v1 < v2, "VCR_0 < VCR_1 < VCR_2 fails: %.80s", line);
    }
    cr_expect_eq(rows, 2 * 3, "epochs 0..2, train and test");
    drop_fields(imb, 4, 2);
    cr_expect_str_eq(strchr(imb, '\n') + 1, strchr(snn, '\n') + 1, "imb { gammas = {1, 0, 0} } and the SNN likelihood differ");
    free(imb);
    free(snn);
    char names[2][4][64];
    for (int i = 0; i < 2; i++) {
        snprintf(a, sizeof a, "%s/%s/imb_tiny", dir, forms[i]);
        cr_assert_eq(tu_point_dirs(a, names[i], 4), 1);
    }
    /* The same bytes but for the point id each checkpoint carries (blob "point"). */
    const char *copies[2] = { "ck_imb", "ck_snn" };
    for (int i = 0; i < 2; i++) {
        char from[1200], to[1200];
        snprintf(from, sizeof from, "%s/%s/imb_tiny/%s/checkpoint", dir, forms[i], names[i][0]);
        snprintf(to, sizeof to, "%s/%s", dir, copies[i]);
        rt_err err = { 0 };
        rt_ckpt *ck = rt_ckpt_load(from, &err);
        cr_assert_not_null(ck, "%s", err.msg);
        rt_ckpt_put(ck, "point", "", 0);
        cr_assert_eq(rt_ckpt_save(ck, to, &err), RT_OK, "%s", err.msg);
        rt_ckpt_free(ck);
    }
    snprintf(a, sizeof a, "%s/%s", dir, copies[0]);
    snprintf(b, sizeof b, "%s/%s", dir, copies[1]);
    tu_expect_same_file(a, b);
}

// A composed objective: the logged loss is the expression of the logged terms (CE + beta KL^2,
// in nats: loss_bits = ce_bits + beta ln 2 kl_bits^2).
Test(vibrun, composed_objective_logs_its_value_and_its_terms) {
    const char *dir = tu_tiny_dir("expr");
    char args[2048];
    snprintf(args, sizeof args, "--quiet --out runs '%s/tests/lua/expr_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char *m = only_metrics(dir, "runs", "expr_tiny");
    cr_expect(strncmp(m, "epoch,split,loss_bits,ce_bits,kl_bits,error,error_det,lr\n", 57) == 0, "header: %.80s", m);
    int rows = 0;
    for (char *line = strchr(m, '\n') + 1; *line; line = strchr(line, '\n') + 1, rows++) {
        double loss, ce, kl, err;
        cr_assert_eq(sscanf(line, "%*d,%*[a-z],%lf,%lf,%lf,%lf", &loss, &ce, &kl, &err), 4, "row: %s", line);
        double want = ce + 0.05 * log(2.0) * kl * kl;
        cr_expect(fabs(loss - want) < 1e-5 * (1.0 + fabs(want)), "loss %g, ce + beta kl^2 = %g", loss, want);
    }
    cr_expect_eq(rows, 6, "epochs 0..2, train and test");
    free(m);
}

/* Runs an experiment of experiments/ on a shared data sample, the quick version its header gives,
** and checks the columns and that one epoch learned something (chance is 0.9: the bound is set
** below what a network that learned nothing can reach on these fixed, seeded runs). */
static void quick_experiment(const char *exp, const char *sample, const char *sets, const char *want_header,
                             double max_error) {
    char data[1024];
    if (!tu_shared(sample, data, sizeof data)) tu_skip("no ../shared/data/%s", sample);
    const char *dir = tu_tmpdir(exp);
    char args[4096];
    snprintf(args, sizeof args, "--quiet --out runs --set epochs=1 --set data_dir='%s' %s '%s/experiments/%s.lua'",
             data, sets, tu_source_dir(), exp);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char *m = only_metrics(dir, "runs", exp);
    cr_expect(strncmp(m, want_header, strlen(want_header)) == 0, "header: %.200s", m);
    /* The last row (epoch 1, test): an error well below chance (0.9) after one epoch. */
    size_t n = strlen(m);
    char *last = m + n - 2;
    while (last > m && *last != '\n') last--;
    double err = 1.0;
    int col = 0;                        /* the column of "error" in the header */
    for (const char *h = want_header; *h && strncmp(h, "error,", 6) != 0; h++) col += *h == ',';
    char *f = last + 1;
    for (int i = 0; i < col && f; i++) f = strchr(f, ',') ? strchr(f, ',') + 1 : NULL;
    cr_assert(f && sscanf(f, "%lf", &err) == 1, "last row: %s", last + 1);
    cr_expect(strncmp(last + 1, "1,test,", 7) == 0, "last row: %s", last + 1);
    cr_expect_lt(err, max_error, "%s: test error %g after one epoch", exp, err);
    free(m);
    /* The per-layer information planes of the multi-bottleneck network, at epochs 0 and 1. */
    char names[2][64], path[2048];
    snprintf(path, sizeof path, "%s/runs/%s", dir, exp);
    cr_assert_eq(tu_point_dirs(path, names, 2), 1);
    snprintf(path, sizeof path, "%s/runs/%s/%s/info.csv", dir, exp, names[0]);
    char *info = tu_read_file(path, NULL);
    cr_assert_not_null(info, "no %s", path);
    const char *rows[] = { "\n0,train,h1,variational,", "\n1,test,h2,variational,", "\n1,test,h1,kde_lower,",
                           "\n1,test,h2,plugin," };
    for (int i = 0; i < 4; i++) cr_expect_not_null(strstr(info, rows[i]), "%s: no row %s", exp, rows[i] + 1);
    free(info);
}

Test(experiments, imb_mnist_one_epoch_on_the_mnist_sample, .timeout = 600) {
    quick_experiment("imb_mnist", "mnist-t10k",
                     "--set resplit=0.8 --set particles=4 --set eval_samples=4 --set eval_passes=2 --set info_samples=300",
                     "epoch,split,loss_bits,vcr0_bits,vcr_h1_bits,vcr_h2_bits,vc_h1_bits,vc_h2_bits,error,error_sd,error_det,lr\n",
                     0.3);
}

Test(experiments, imb_cifar_one_epoch_on_the_cifar_sample, .timeout = 600) {
    quick_experiment("imb_cifar", "cifar-10-subset",
                     "--set kind=imb --set particles=4 --set eval_samples=4 --set eval_passes=2 --set info_samples=300 "
                     "--set train_limit=1000",
                     "epoch,split,loss_bits,vcr0_bits,vcr_h1_bits,vcr_h2_bits,vc_h1_bits,vc_h2_bits,error,error_sd,error_det,lr\n",
                     0.88);
}

/* The ResNet-20 experiments' quick settings (their headers), on 256 images of the CIFAR sample: they
** train end to end (augmentation, batch norm, the bottleneck or the noise, the measurement) and
** log finite numbers. One epoch on 256 images learns nothing to speak of, so no error bound. */
Test(experiments, resnet_experiments_train_one_epoch_on_the_cifar_sample, .timeout = 900) {
    char data[1024];
    if (!tu_shared("cifar-10-subset", data, sizeof data)) tu_skip("no ../shared/data/cifar-10-subset");
    const struct { const char *exp, *sets, *header; } runs[] = {
        { "vib_cifar", "--set beta=1e-3 --set kind=vib", "epoch,split,loss_bits,ce_bits,kl_bits,error,error_det,lr\n" },
        { "uib_cifar", "--set kind=ib --set bound=logvar --set noise=true", "epoch,split,loss_bits,ce_bits,hz_y_bits,error,lr\n" },
    };
    for (int k = 0; k < 2; k++) {
        const char *dir = tu_tmpdir(runs[k].exp);
        char args[4096];
        snprintf(args, sizeof args, "--quiet --out runs --set epochs=1 --set train_limit=256 --set data_dir='%s' %s "
                 "'%s/experiments/%s.lua'", data, runs[k].sets, tu_source_dir(), runs[k].exp);
        cr_assert_eq(vibrun(dir, args), 0, "%s: %s", runs[k].exp, out);
        char *m = only_metrics(dir, "runs", runs[k].exp);
        cr_expect(strncmp(m, runs[k].header, strlen(runs[k].header)) == 0, "%s header: %.200s", runs[k].exp, m);
        const char *last = strstr(m, "\n1,test,");
        double loss = NAN;
        cr_assert(last && sscanf(last + 8, "%lf", &loss) == 1, "%s: no epoch-1 test row in %s", runs[k].exp, m);
        cr_expect(isfinite(loss) && loss > 0, "%s: test loss %g bits", runs[k].exp, loss);
        free(m);
    }
}

// ---- convolutional models ----

/* A convolutional model trains end to end through vibrun, twice to the same bytes; --check prints
** its (B, C, H, W) shapes and says which running statistics evaluation uses; the measured map "r"
** (4 channels of 2 x 2) is measured at its 4 pooled channels by default and at its 16 features
** with spatial = "flat" (the self-check runs at the width measured). */
Test(vibrun, convolutional_model_trains_and_measures_pooled_or_flat_maps) {
    const char *dir = tu_tiny_dir("cnn");
    char args[2048], path[2048], names[2][64];
    snprintf(args, sizeof args, "--check '%s/tests/lua/cnn_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "(B, 4, 2, 2)"), "%s", out);
    cr_expect_not_null(strstr(out, "evaluation: EMA weights (ema = 0.9) with the EMA of the running statistics"), "%s",
                       out);
    for (int flat = 0; flat < 2; flat++) {
        snprintf(args, sizeof args, "--quiet --out runs%d --set spatial=%s '%s/tests/lua/cnn_tiny.lua'", flat,
                 flat ? "flat" : "gap", tu_source_dir());
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
        snprintf(path, sizeof path, "%s/runs%d/cnn_tiny", dir, flat);
        cr_assert_eq(tu_point_dirs(path, names, 2), 1);
        snprintf(path, sizeof path, "%s/runs%d/cnn_tiny/%s/selfcheck.csv", dir, flat, names[0]);
        char *check = tu_read_file(path, NULL);
        cr_assert_not_null(check, "no %s", path);
        const char *want = flat ? "\ntrain,r,binning,codewords,60,16," : "\ntrain,r,binning,codewords,60,4,";
        cr_expect_not_null(strstr(check, want), "no row %s in %.400s", want + 1, check);
        free(check);
        snprintf(path, sizeof path, "%s/runs%d/cnn_tiny/%s/metrics.csv", dir, flat, names[0]);
        char *m = tu_read_file(path, NULL);
        cr_assert_not_null(m, "no %s", path);
        cr_expect_not_null(strstr(m, "\n3,test,"), "%s", m);
        free(m);
    }
    snprintf(args, sizeof args, "--quiet --out runs2 --set spatial=gap '%s/tests/lua/cnn_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    const char *files[] = { "metrics.csv", "info.csv", "checkpoint" };
    for (int i = 0; i < 3; i++) {
        char a[2048], b[2048];
        snprintf(path, sizeof path, "%s/runs0/cnn_tiny", dir);
        cr_assert_eq(tu_point_dirs(path, names, 2), 1);
        snprintf(a, sizeof a, "%s/runs0/cnn_tiny/%s/%s", dir, names[0], files[i]);
        snprintf(b, sizeof b, "%s/runs2/cnn_tiny/%s/%s", dir, names[0], files[i]);
        tu_expect_same_file(a, b);
    }
}

/* The convolutions' backend is provenance (run.txt) and part of what --resume continues: a point
** started on one backend is not resumed on the other (its bytes would not be an uninterrupted
** run's); the message names run.txt and the setting that resumes it, and nothing is changed. A
** run.txt without the line is the lowering's; a point without a checkpoint starts afresh anyway. */
Test(vibrun, a_point_is_resumed_only_on_the_convolution_backend_it_started_on) {
    if (!rt_conv_have_dnnl()) cr_skip_test("a build without oneDNN has one backend");
    const char *dir = tu_tiny_dir("cnn_backend");
    char args[2048], path[2048], names[2][64];
    snprintf(args, sizeof args, "--quiet --out runs --set epochs=2 '%s/tests/lua/cnn_tiny.lua'", tu_source_dir());
    setenv("VIB_CONV", "lowering", 1);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/cnn_tiny", dir);
    cr_assert_eq(tu_point_dirs(path, names, 2), 1);
    snprintf(path, sizeof path, "%s/runs/cnn_tiny/%s/run.txt", dir, names[0]);
    char *txt = tu_read_file(path, NULL);
    cr_assert_not_null(txt);
    cr_expect_not_null(strstr(txt, "\nconvolutions: lowering (im2col + OpenBLAS)\n"), "%s", txt);
    free(txt);
    snprintf(path, sizeof path, "%s/runs/cnn_tiny/%s/result.csv", dir, names[0]);
    cr_assert_eq(remove(path), 0);              /* unfinished: --resume takes it up */
    snprintf(path, sizeof path, "%s/runs/cnn_tiny/%s/checkpoint", dir, names[0]);
    size_t n0;
    char *ck0 = tu_read_file(path, &n0);
    cr_assert_not_null(ck0);
    snprintf(args, sizeof args, "--quiet --out runs --set epochs=2 --resume '%s/tests/lua/cnn_tiny.lua'", tu_source_dir());
    setenv("VIB_CONV", "dnnl", 1);
    cr_expect_neq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "run.txt: this point's convolutions ran on lowering and this vibrun computes them on "
                                   "dnnl"), "%s", out);
    cr_expect_not_null(strstr(out, "resume it with VIB_CONV=lowering"), "%s", out);
    size_t n1;
    char *ck1 = tu_read_file(path, &n1);
    cr_expect(ck1 && n1 == n0 && memcmp(ck0, ck1, n0) == 0, "the checkpoint changed");
    free(ck0);
    free(ck1);
    /* a run.txt from before the line existed: the lowering, then the only default */
    char rpath[2048];
    snprintf(rpath, sizeof rpath, "%s/runs/cnn_tiny/%s/run.txt", dir, names[0]);
    txt = tu_read_file(rpath, NULL);
    cr_assert_not_null(txt);
    char *line = strstr(txt, "\nconvolutions: ");
    cr_assert_not_null(line);
    memmove(line, strchr(line + 1, '\n'), strlen(strchr(line + 1, '\n')) + 1);
    FILE *f = fopen(rpath, "w");
    cr_assert_not_null(f);
    fputs(txt, f);
    fclose(f);
    free(txt);
    cr_expect_neq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "ran on lowering (the default of the vibrun that started it"), "%s", out);
    /* no checkpoint: --resume trains the point afresh, on any backend, and run.txt starts again */
    cr_assert_eq(remove(path), 0);
    cr_expect_eq(vibrun(dir, args), 0, "%s", out);
    txt = tu_read_file(rpath, NULL);
    cr_assert_not_null(txt);
    cr_expect_not_null(strstr(txt, "\nconvolutions: dnnl ("), "%s", txt);
    cr_expect_null(strstr(txt, "resumed:"), "%s", txt);
    free(txt);
    snprintf(path, sizeof path, "%s/runs/cnn_tiny/%s/result.csv", dir, names[0]);
    cr_expect_eq(access(path, F_OK), 0, "the point finished");
    /* and a point resumed on its own backend goes on */
    cr_assert_eq(remove(path), 0);
    cr_expect_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_eq(access(path, F_OK), 0, "resumed on its own backend, the point finished");
}

/* A batch norm before a ReLU, its output read by a custom term and a measurement: the training
** step may fuse the two only where no term keeps the batch norm's output, and the evaluation, the
** measurement and --gradcheck (forwards without a keep list) never; each reads the layer. */
Test(vibrun, a_batch_norm_output_read_by_a_term_and_a_measurement_is_kept) {
    const char *dir = tu_tiny_dir("bn_relu_read");
    char args[2048], path[2048], names[2][64];
    snprintf(args, sizeof args, "--quiet --out runs '%s/tests/lua/bn_relu_read.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/bn_relu_read", dir);
    cr_assert_eq(tu_point_dirs(path, names, 2), 1);
    snprintf(path, sizeof path, "%s/runs/bn_relu_read/%s/info.csv", dir, names[0]);
    char *info = tu_read_file(path, NULL);
    cr_assert_not_null(info, "no %s", path);
    cr_expect_not_null(strstr(info, "\n2,test,bn,binning,"), "no measurement of bn at epoch 2:\n%.600s", info);
    free(info);
    snprintf(args, sizeof args, "--gradcheck '%s/tests/lua/bn_relu_read.lua'", tu_source_dir());
    cr_expect_eq(vibrun(dir, args), 0, "%s", out);
}

// ---- information planes ----

Test(vibrun, measure_writes_info_result_columns_and_latent) {
    const char *dir = tu_tiny_dir("measure");
    char args[2048], path[2048], names[2][64];
    snprintf(args, sizeof args, "--quiet --out runs '%s/tests/lua/measure_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/measure_tiny", dir);
    cr_assert_eq(tu_point_dirs(path, names, 2), 1);
    snprintf(path, sizeof path, "%s/runs/measure_tiny/%s/info.csv", dir, names[0]);
    char *info = tu_read_file(path, NULL);
    cr_assert_not_null(info, "no %s", path);
    /* log2 schedule over 5 epochs: 0, 1, 2, 4 and the last, 5; never 3 */
    const char *want[] = { "\n0,train,h,kde_upper,", "\n1,test,z,variational,", "\n2,test,z,ksg,",
                           "\n4,train,h,binning,", "\n5,test,z,kde_lower,", "\n5,test,softmax,binning," };
    for (int i = 0; i < 6; i++) cr_expect_not_null(strstr(info, want[i]), "no row %s", want[i] + 1);
    cr_expect_null(strstr(info, "\n3,"), "epoch 3 is not on the log2 schedule");
    cr_expect_null(strstr(info, ",softmax,variational,"), "the bottleneck carries the variational bound");
    cr_expect_null(strstr(info, ",plugin,"), "no bern layer, no plug-in rows");
    /* every row: 60 examples (samples = 60 of each split) */
    int rows = 0;
    for (char *l = strchr(info, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        int ncomma = 0;
        char *q = l + 1;
        for (; *q && *q != '\n' && ncomma < 8; q++) ncomma += *q == ',';
        cr_expect(strncmp(q, "60,", 3) == 0, "row with n != 60: %.80s", l + 1);
        rows++;
    }
    cr_expect_eq(rows, 5 * 2 * (1 + 3 * 4), "5 epochs x 2 splits x (variational + 3 layers x 4 rows): %d", rows);
    snprintf(path, sizeof path, "%s/runs/measure_tiny/results.csv", dir);
    char *res = tu_read_file(path, NULL);
    cr_assert_not_null(res);
    cr_expect_not_null(strstr(res, ",test_z_variational_ixz_bits,test_z_variational_izy_bits,"), "%.300s", res);
    cr_expect_not_null(strstr(res, ",train_h_kde_lower_ixz_bits,"));
    const char *files[] = { "info_timing.csv", "latent.csv", "latent_grid.csv" };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/runs/measure_tiny/%s/%s", dir, names[0], files[i]);
        cr_expect_eq(access(path, R_OK), 0, "missing %s", path);
    }
    snprintf(path, sizeof path, "%s/runs/measure_tiny/%s/latent.csv", dir, names[0]);
    cr_expect_eq(count_lines(path), 1 + 100, "one row per test example");
    /* selfcheck.csv: 2 splits x (h, z, softmax) x (kde_upper, kde_lower, binning, ksg) x 3 levels,
    ** z checked as a Gaussian layer with its own sigmas; the plane prints the errors */
    snprintf(path, sizeof path, "%s/runs/measure_tiny/%s/selfcheck.csv", dir, names[0]);
    cr_expect_eq(count_lines(path), 1 + 2 * 3 * 4 * 3, "selfcheck.csv rows");
    char *check = tu_read_file(path, NULL);
    cr_assert_not_null(check);
    cr_expect_not_null(strstr(check, "\ntest,z,kde_lower,linear_gauss,60,2,0.5,"), "%.300s", check);
    cr_expect_not_null(strstr(check, "\ntrain,h,binning,codewords,60,8,1,"), "%.300s", check);
    free(check);
    snprintf(path, sizeof path, "%s/runs/measure_tiny/plots/info_plane.gp", dir);
    char *gp = tu_read_file(path, NULL);
    cr_assert_not_null(gp, "no %s", path);
    cr_expect_not_null(strstr(gp, "check_ixz = 'I(X;Z): KDE up "), "%.2000s", gp);
    cr_expect_not_null(strstr(gp, "check_izy = 'I(Z;Y): KDE up "));
    free(gp);
    /* the same run again: the same info.csv, byte for byte */
    snprintf(args, sizeof args, "--quiet --out runs2 '%s/tests/lua/measure_tiny.lua'", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char a[2048], b[2048];
    snprintf(a, sizeof a, "%s/runs/measure_tiny/%s/info.csv", dir, names[0]);
    snprintf(b, sizeof b, "%s/runs2/measure_tiny/%s/info.csv", dir, names[0]);
    tu_expect_same_file(a, b);
    snprintf(a, sizeof a, "%s/runs/measure_tiny/%s/selfcheck.csv", dir, names[0]);
    snprintf(b, sizeof b, "%s/runs2/measure_tiny/%s/selfcheck.csv", dir, names[0]);
    tu_expect_same_file(a, b);
    free(info);
    free(res);
}
