// test_attack_cmd.c: `vibrun attack RUN_DIR` (the attack block on the finished points of a run
// directory, without training), an attack's batches kept in <point>/attack.partial so that a killed
// or stopped attack resumes to the same bytes, and attacks on CSV data (each feature's range).
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char out[16384];

static void need_fashion(void) {
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!f) tu_skip("dataset-fashion-mnist not installed");
    fclose(f);
}

/* vibrun with args in dir; its exit status, its output in out. */
static int vibrun(const char *dir, const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, tu_vibrun(), args);
    return tu_run(cmd, out, sizeof out);
}

/* Trains tests/lua/<script> into dir/<outdir>; the one point's directory into pdir. */
static void train(const char *dir, const char *outdir, const char *script, const char *exp, char *pdir, size_t size) {
    char args[2048], exp_dir[1200], names[1][64];
    snprintf(args, sizeof args, "--quiet --out %s '%s/tests/lua/%s'", outdir, tu_source_dir(), script);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(exp_dir, sizeof exp_dir, "%s/%s/%s", dir, outdir, exp);
    cr_assert_eq(tu_point_dirs(exp_dir, names, 1), 1);
    snprintf(pdir, size, "%s/%s", exp_dir, names[0]);
}

static char *slurp(const char *dir, const char *name) {
    char path[2400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *s = tu_read_file(path, NULL);
    cr_assert_not_null(s, "%s is missing", path);
    return s;
}

static bool exists(const char *dir, const char *name) {
    char path[2400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void rm(const char *dir, const char *name) {
    char path[2400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cr_assert_eq(remove(path), 0, "%s", path);
}

static int lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

// ---- vibrun attack on a run directory ----

/* The in-run attack's attack.csv, removed, comes back byte for byte from `vibrun attack`, and
** results.csv and summary.csv are what the run wrote; so from a point's directory. */
Test(attack_cmd, attack_again_gives_the_in_run_attack_csv_byte_for_byte) {
    need_fashion();
    const char *dir = tu_tmpdir("attack_again");
    char pdir[1300], exp[1300];
    train(dir, "r", "attack_tiny.lua", "attack_tiny", pdir, sizeof pdir);
    snprintf(exp, sizeof exp, "%s/r/attack_tiny", dir);
    char *csv = slurp(pdir, "attack.csv"), *results = slurp(exp, "results.csv"), *summary = slurp(exp, "summary.csv");
    rm(pdir, "attack.csv");
    rm(pdir, "attack_timing.csv");
    rm(exp, "results.csv");
    cr_assert_eq(vibrun(dir, "attack r/attack_tiny --quiet"), 0, "%s", out);
    char *again = slurp(pdir, "attack.csv");
    cr_expect_str_eq(again, csv);
    free(again);
    again = slurp(exp, "results.csv");
    cr_expect_str_eq(again, results);
    free(again);
    again = slurp(exp, "summary.csv");
    cr_expect_str_eq(again, summary);
    free(again);
    cr_expect(exists(pdir, "attack_timing.csv"));
    cr_expect(!exists(pdir, "attack.partial"), "the batches go once attack.csv is written");
    /* a point's directory names that point */
    rm(pdir, "attack.csv");
    char args[1600];
    snprintf(args, sizeof args, "attack r/attack_tiny/%s", strrchr(pdir, '/') + 1);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "attacked: 1 of 1 point"), "%s", out);
    again = slurp(pdir, "attack.csv");
    cr_expect_str_eq(again, csv);
    free(again);
    free(csv);
    free(results);
    free(summary);
}

/* attack_tiny.lua with another attack block: the same points. */
static const char *edited =
    "local vib = require \"vib\"\n"
    "return vib.experiment {\n"
    "  name    = \"attack_tiny\",\n"
    "  data    = vib.data.fashion_mnist { scale = \"pm1\", train_limit = 600, test_limit = 100 },\n"
    "  params  = { beta = 1e-3, seed = 1 },\n"
    "  model   = function(p) return vib.seq {\n"
    "    vib.linear { out = 64 }, vib.relu {},\n"
    "    vib.gauss { k = 8, name = \"z\" }, vib.linear { out = 10 } } end,\n"
    "  objective = function(p) return vib.obj.vib { beta = p.beta } end,\n"
    "  optim   = vib.optim.adam { lr = 1e-3 },\n"
    "  epochs  = %d, batch = 50, eval_samples = 4, ema = 0.9,\n"
    "  %s\n"
    "}\n";

static void write_edited(const char *dir, const char *name, int epochs, const char *attack) {
    char path[1200], text[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int n = snprintf(text, sizeof text, edited, epochs, attack);
    tu_write_file(path, text, (size_t)n);
}

/* --script FILE with a new attack: its rows follow the run's (which stay byte for byte), its
** columns join result.csv, results.csv and summary.csv; a script that trains otherwise, or one
** without an attack block, is refused and nothing changes. */
Test(attack_cmd, a_new_attack_block_from_an_edited_script_adds_rows) {
    need_fashion();
    const char *dir = tu_tmpdir("attack_new_block");
    char pdir[1300], exp[1300];
    train(dir, "r", "attack_tiny.lua", "attack_tiny", pdir, sizeof pdir);
    snprintf(exp, sizeof exp, "%s/r/attack_tiny", dir);
    char *before = slurp(pdir, "attack.csv");
    write_edited(dir, "more.lua", 2, "attack = { n = 40, batch = 16, vib.attack.pgd { eps = 0.2, steps = 5 } },");
    cr_assert_eq(vibrun(dir, "attack r/attack_tiny --script more.lua --quiet"), 0, "%s", out);
    char *after = slurp(pdir, "attack.csv");
    cr_expect_eq(lines(after), lines(before) + 1, "one row more:\n%s", after);
    cr_expect_eq(strncmp(after, before, strlen(before)), 0, "the run's rows stay as they were:\n%s", after);
    cr_expect_not_null(strstr(after + strlen(before), "pgd,paper,linf,0.2,0,40,"), "%s", after);
    char *res = slurp(pdir, "result.csv"), *results = slurp(exp, "results.csv"), *summary = slurp(exp, "summary.csv");
    cr_expect_not_null(strstr(res, ",robust_acc_auto_linf_eps0.1,robust_acc_pgd_linf_eps0.2\n"), "%s", res);
    cr_expect_not_null(strstr(results, ",robust_acc_pgd_linf_eps0.2\n"), "%s", results);
    cr_expect_not_null(strstr(summary, "robust_acc_pgd_linf_eps0.2_mean,"), "%s", summary);
    free(res);
    free(results);
    free(summary);

    write_edited(dir, "epochs3.lua", 3, "attack = { n = 40, vib.attack.fgsm { eps = 0.1 } },");
    cr_expect_eq(vibrun(dir, "attack r/attack_tiny --script epochs3.lua"), 1, "%s", out);
    cr_expect_not_null(strstr(out, "epochs3.lua resolves to point "), "%s", out);
    cr_expect_not_null(strstr(out, "which r/attack_tiny does not have: what it trains differs from the run's"), "%s", out);
    cr_expect_not_null(strstr(out, "Only the attack block may differ"), "%s", out);
    write_edited(dir, "none.lua", 2, "");
    cr_expect_eq(vibrun(dir, "attack r/attack_tiny --script none.lua"), 1, "%s", out);
    cr_expect_not_null(strstr(out, "none.lua declares no attack block for point "), "%s", out);
    char *last = slurp(pdir, "attack.csv");
    cr_expect_str_eq(last, after, "a refused command changes nothing");
    free(last);
    free(after);
    free(before);
}

/* A point that has not trained (the manifest `vibrun slurm` writes, nothing trained) is refused with
** the command that trains it; nothing is written in its directory. */
Test(attack_cmd, an_untrained_point_is_refused_with_run_it_first) {
    need_fashion();
    const char *dir = tu_tmpdir("attack_untrained");
    char args[2048];
    snprintf(args, sizeof args, "slurm --out s '%s/tests/lua/attack_tiny.lua' --tasks 1", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_eq(vibrun(dir, "attack s/attack_tiny"), 1, "%s", out);
    cr_expect_not_null(strstr(out, "not trained to the end yet (no result.csv); run the point first: "), "%s", out);
    cr_expect_not_null(strstr(out, "attack_tiny.lua' --out 's' --resume"), "%s", out);
    char exp[1300], names[1][64];
    snprintf(exp, sizeof exp, "%s/s/attack_tiny", dir);
    cr_expect_eq(tu_point_dirs(exp, names, 1), 0, "no point directory made");
}

/* Bad input: one message each, exit code 2 for bad usage, 1 for what is not a run directory. */
Test(attack_cmd, bad_command_lines_get_one_message_each) {
    need_fashion();
    const char *dir = tu_tmpdir("attack_usage");
    char args[2048];
    snprintf(args, sizeof args, "slurm --out s '%s/tests/lua/attack_tiny.lua' --tasks 1", tu_source_dir());
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    static const struct {
        const char *args;
        int code;
        const char *msg;
    } cases[] = {
        { "attack", 2, "vibrun: attack: no run directory given, e.g. " },
        { "attack s/attack_tiny --bogus", 2, "vibrun: attack: unknown option --bogus" },
        { "attack s/attack_tiny beta=0.1", 2, "beta=0.1: a bare KEY=VALUE is not an option; write --set beta=0.1" },
        { "attack s/attack_tiny s", 2, "more than one run directory given (s/attack_tiny and s)" },
        { "attack s/attack_tiny --threads 0", 2, "--threads 0: expected a count >= 1" },
        { "attack s/attack_tiny --set beta", 2, "--set beta: expected KEY=VALUE" },
        { "attack s/attack_tiny --script", 2, "--script needs a value" },
        { "attack s/attack_tiny --set nokey=1", 2, "'nokey' is neither a param of attack_tiny nor a setting" },
        { "attack s", 1, "s: no manifest there, so no run directory; give the directory a run made" },
        { "attack s/attack_tiny --script missing.lua", 1, "--script missing.lua: cannot read it" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int code = vibrun(dir, cases[i].args);
        cr_expect_eq(code, cases[i].code, "vibrun %s: exit %d\n%s", cases[i].args, code, out);
        cr_expect_not_null(strstr(out, cases[i].msg), "vibrun %s:\n%s", cases[i].args, out);
    }
    cr_expect_eq(vibrun(dir, "attack --help"), 0, "%s", out);
    cr_expect_not_null(strstr(out, "attack RUN_DIR [--script FILE] [--set KEY=VALUE ...]"), "%s", out);
    cr_expect_eq(vibrun(dir, "--help"), 0, "%s", out);
    cr_expect_not_null(strstr(out, "vibrun attack RUN_DIR [--script FILE]"), "%s", out);
}

// ---- an attack stopped or killed, and resumed ----

/* Starts vibrun args... in dir (its own process group), its output into dir/log. */
static pid_t start(const char *dir, const char *const *args) {
    const char *argv[16] = { tu_vibrun() };
    int n = 1;
    while (args[n - 1] && n < 15) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    char log[1200];
    snprintf(log, sizeof log, "%s/log", dir);
    return tu_spawn(dir, log, true, argv);
}

/* Waits (at most 120 s) until pdir/attack.partial holds the first batch of the second phase: the
** clean predictions and a whole attack are done, more is left. */
static void wait_for_batches(pid_t pid, const char *pdir) {
    char path[1400];
    snprintf(path, sizeof path, "%s/attack.partial/g2.s0", pdir);
    for (int waited = 0; access(path, F_OK) != 0; waited++) {
        int status;
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "vibrun ended before its attack was stopped");
        cr_assert_lt(waited, 120000, "no %s after 120 s", path);
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* kill -9 while the point's attack runs (after training): no attack.csv, the finished batches in
** attack.partial; `vibrun attack` says to resume the run; --resume gives the uninterrupted bytes. */
Test(attack_cmd, kill_9_during_the_in_run_attack_then_resume_gives_the_same_bytes, .timeout = 600) {
    need_fashion();
    const char *dir = tu_tmpdir("attack_kill9");
    char ref[1300], pdir[1300], script[1200];
    train(dir, "ref", "attack_resume.lua", "attack_resume", ref, sizeof ref);
    const char *id = strrchr(ref, '/') + 1;
    snprintf(pdir, sizeof pdir, "%s/k/attack_resume/%s", dir, id);
    snprintf(script, sizeof script, "%s/tests/lua/attack_resume.lua", tu_source_dir());
    pid_t pid = start(dir, (const char *const[]){ "--quiet", "--out", "k", script, NULL });
    wait_for_batches(pid, pdir);
    kill(-pid, SIGKILL);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    cr_assert(!exists(pdir, "attack.csv"), "the kill came after the attack had ended");
    cr_assert(!exists(pdir, "result.csv"));
    cr_assert(exists(pdir, "attack.partial/g1.s0"));
    cr_expect_eq(vibrun(dir, "attack k/attack_resume"), 1, "%s", out);
    cr_expect_not_null(strstr(out, "its attack was stopped while it trained, before its result.csv"), "%s", out);
    char args[1400];
    snprintf(args, sizeof args, "--quiet --out k --resume '%s'", script);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char *a = slurp(ref, "attack.csv"), *b = slurp(pdir, "attack.csv");
    cr_expect_str_eq(b, a);
    free(a);
    free(b);
    a = slurp(ref, "result.csv");
    b = slurp(pdir, "result.csv");
    cr_expect_str_eq(b, a);
    free(a);
    free(b);
    cr_expect(!exists(pdir, "attack.partial"), "the batches go once attack.csv is written");
}

/* Ctrl-C during the in-run attack: exit 130 after the batch, the point interrupted (not failed) with
** the command that continues it; that command gives the uninterrupted bytes. */
Test(attack_cmd, sigint_during_the_in_run_attack_leaves_the_point_interrupted, .timeout = 600) {
    need_fashion();
    const char *dir = tu_tmpdir("attack_run_sigint");
    char ref[1300], pdir[1300], script[1200], log[1200];
    train(dir, "ref", "attack_resume.lua", "attack_resume", ref, sizeof ref);
    snprintf(pdir, sizeof pdir, "%s/k/attack_resume/%s", dir, strrchr(ref, '/') + 1);
    snprintf(script, sizeof script, "%s/tests/lua/attack_resume.lua", tu_source_dir());
    pid_t pid = start(dir, (const char *const[]){ "--out", "k", script, NULL });
    wait_for_batches(pid, pdir);
    kill(pid, SIGINT);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    snprintf(log, sizeof log, "%s/log", dir);
    char *text = tu_read_file(log, NULL);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %d:\n%s", status, text);
    cr_expect_not_null(strstr(text, "attack: stopped by a signal after "), "%s", text);
    cr_expect_not_null(strstr(text, "interrupted; 0 of 1 point done, 1 checkpointed. Continue with: "), "%s", text);
    free(text);
    cr_expect(!exists(pdir, "failed"), "a stop is no failure");
    cr_assert(!exists(pdir, "attack.csv"), "the stop came after the attack had ended");
    char args[1400];
    snprintf(args, sizeof args, "--quiet --out k --resume '%s'", script);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char *a = slurp(ref, "attack.csv"), *b = slurp(pdir, "attack.csv");
    cr_expect_str_eq(b, a);
    free(a);
    free(b);
}

/* Ctrl-C during `vibrun attack`: exit 130 after the batch, how to go on, the batches kept; the same
** command again reads them back and writes the uninterrupted bytes. */
Test(attack_cmd, sigint_during_vibrun_attack_then_again_gives_the_same_bytes, .timeout = 600) {
    need_fashion();
    const char *dir = tu_tmpdir("attack_sigint");
    char pdir[1300], log[1200];
    train(dir, "r", "attack_resume.lua", "attack_resume", pdir, sizeof pdir);
    char *ref = slurp(pdir, "attack.csv");
    rm(pdir, "attack.csv");
    pid_t pid = start(dir, (const char *const[]){ "attack", "r/attack_resume", NULL });
    wait_for_batches(pid, pdir);
    kill(pid, SIGINT);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    snprintf(log, sizeof log, "%s/log", dir);
    char *text = tu_read_file(log, NULL);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %d:\n%s", status, text);
    cr_expect_not_null(strstr(text, "attack: stopped by a signal after "), "%s", text);
    cr_expect_not_null(strstr(text, "Continue with: "), "%s", text);
    cr_expect_not_null(strstr(text, " attack r/attack_resume\n"), "%s", text);
    free(text);
    cr_assert(!exists(pdir, "attack.csv"), "the stop came after the attack had ended");
    cr_assert(exists(pdir, "attack.partial/g1.s0"));
    cr_assert_eq(vibrun(dir, "attack r/attack_resume"), 0, "%s", out);
    cr_expect_not_null(strstr(out, " batches were kept from an attack stopped before"), "%s", out);
    char *again = slurp(pdir, "attack.csv");
    cr_expect_str_eq(again, ref);
    free(again);
    free(ref);
    cr_expect(!exists(pdir, "attack.partial"), "the batches go once attack.csv is written");
}

// ---- CSV data ----

/* On CSV data the attack works in each feature's observed range: at eps = 0 FGSM leaves the clean
** accuracy, which is evaluation's test accuracy (the map to the model's input is the data's
** scaling); a larger eps breaks examples, moving none further than eps in any feature; `vibrun
** attack` gives the same bytes. */
Test(attack_cmd, csv_data_are_attacked_in_each_features_range) {
    const char *dir = tu_tiny_dir("attack_csv");
    char pdir[1300];
    train(dir, "r", "attack_csv.lua", "attack_csv", pdir, sizeof pdir);
    char *csv = slurp(pdir, "attack.csv"), *res = slurp(pdir, "result.csv");
    cr_assert_eq(lines(csv), 5, "a header and four rows:\n%s", csv);
    double test_error = -1.0, clean = -1.0, robust0 = -1.0, robust2 = -1.0, linf = -1.0;
    const char *h = strstr(res, ",test_error,");
    cr_assert_not_null(h, "%s", res);
    int col = 0;
    for (const char *c = res; c < h + 1; c++) col += *c == ',';
    const char *v = strchr(res, '\n') + 1;
    for (int k = 0; k < col; k++) v = strchr(v, ',') + 1;
    cr_assert_eq(sscanf(v, "%lf", &test_error), 1, "%s", res);
    cr_assert_not_null(strstr(csv, "\nfgsm,paper,linf,0,0,100,"), "the whole test split (100 rows):\n%s", csv);
    cr_assert_eq(sscanf(strstr(csv, "\nfgsm,paper,linf,0,0,100,") + 25, "%lf,%lf", &clean, &robust0), 2, "%s", csv);
    const char *r2 = strstr(csv, "\nfgsm,paper,linf,0.2,0,100,");
    cr_assert_not_null(r2, "%s", csv);
    cr_assert_eq(sscanf(r2 + 27, "%*f,%lf,%*f,%*f,%*f,%*f,%*f,%*f,%lf", &robust2, &linf), 2, "%s", csv);
    cr_expect_float_eq(clean, 1.0 - test_error, 1e-9, "clean accuracy %g, test error %g", clean, test_error);
    cr_expect_float_eq(robust0, clean, 1e-12);
    cr_expect_lt(robust2, clean, "eps 0.2 of each feature's range breaks some examples:\n%s", csv);
    cr_expect_leq(linf, 0.2 + 1e-6, "%s", csv);
    rm(pdir, "attack.csv");
    cr_assert_eq(vibrun(dir, "attack r/attack_csv --quiet"), 0, "%s", out);
    char *again = slurp(pdir, "attack.csv");
    cr_expect_str_eq(again, csv);
    free(again);
    free(csv);
    free(res);
}
