// test_sweep.c: sweeps at scale, as a user runs them: the sweep DSL through --list, --jobs giving
// the bytes of --jobs 1, kill -9 and --resume giving the bytes of an uninterrupted run, shards
// merged into the local run's results, summary.csv's statistics, vibrun status, per-point locks,
// common and independent random streams, the sbatch script, and refusing another script's
// run directory.
#define _XOPEN_SOURCE 700                /* realpath */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rt_ckpt.h"
#include "testutil.h"

static char out[1 << 16];

/* Runs `vibrun ARGS` inside dir (env: shell assignments before the command, e.g. "env -u X");
** returns its exit code; stdout+stderr in `out`. */
static int vibrun_env(const char *dir, const char *env, const char *args) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s '%s' %s 2>&1", dir, env, tu_vibrun(), args);
    return tu_run(cmd, out, sizeof out);
}
static int vibrun(const char *dir, const char *args) { return vibrun_env(dir, "", args); }

static const char *script(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "'%s/tests/lua/%s'", tu_source_dir(), name);
    return path;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

static int count_results(const char *exp_dir) {
    char names[64][64], path[2048];
    int n = exists(exp_dir) ? tu_point_dirs(exp_dir, names, 64) : 0, k = 0;
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/result.csv", exp_dir, names[i]);
        k += exists(path);
    }
    return k;
}

/* Every byte that must not depend on how the sweep ran: results.csv, summary.csv, and each
** point's metrics.csv, result.csv and checkpoint (the final weights, optimizer and EMA). */
static void expect_same_sweep(const char *a_exp, const char *b_exp, int npoints) {
    char a[2048], b[2048], names[64][64], other[64][64];
    const char *top[] = { "results.csv", "summary.csv" };
    for (int i = 0; i < 2; i++) {
        snprintf(a, sizeof a, "%s/%s", a_exp, top[i]);
        snprintf(b, sizeof b, "%s/%s", b_exp, top[i]);
        tu_expect_same_file(a, b);
    }
    int n = tu_point_dirs(a_exp, names, 64);
    cr_assert_eq(n, npoints, "%d point directories in %s", n, a_exp);
    cr_assert_eq(tu_point_dirs(b_exp, other, 64), npoints);
    const char *files[] = { "metrics.csv", "result.csv", "checkpoint" };
    for (int i = 0; i < n; i++) {
        cr_expect_str_eq(names[i], other[i]);
        for (int f = 0; f < 3; f++) {
            snprintf(a, sizeof a, "%s/%s/%s", a_exp, names[i], files[f]);
            snprintf(b, sizeof b, "%s/%s/%s", b_exp, names[i], files[f]);
            tu_expect_same_file(a, b);
        }
    }
}

static int count_lines(const char *path) {
    char *s = tu_read_file(path, NULL);
    cr_assert_not_null(s, "missing %s", path);
    int n = 0;
    for (char *p = s; *p; p++) n += *p == '\n';
    free(s);
    return n;
}

// ---- the DSL ----

Test(sweep, dsl_constructors_list_their_points) {
    const char *dir = tu_tiny_dir("dsl");
    char args[2048];
    snprintf(args, sizeof args, "--list %s", script("sweep_dsl.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    char first[sizeof out];
    memcpy(first, out, sizeof out);
    const char *want[] = {
        "# 11 points of runs/sweep_dsl\n",
        /* vib.grid with a conditional axis: drop only where act = "relu" */
        "\n1 80173fa0bb50 {act=\"tanh\",drop=0,hidden=4,lr=0.01,seed=1,width=8}\n",
        "\n2 54c4c4992980 {act=\"relu\",drop=0.1,hidden=4,lr=0.01,seed=1,width=8}\n",
        "\n3 084fd214c65f {act=\"relu\",drop=0.2,hidden=4,lr=0.01,seed=1,width=8}\n",
        /* vib.zip crossed with seeds; width derived from hidden */
        "\n4 bd904bd639fb {act=\"tanh\",drop=0,hidden=6,lr=0.01,seed=1,width=12}\n",
        "\n5 e553870e8293 {act=\"tanh\",drop=0,hidden=6,lr=0.01,seed=2,width=12}\n",
        "\n6 2c3cf003589f {act=\"tanh\",drop=0,hidden=8,lr=0.02,seed=1,width=16}\n",
        "\n7 f5b2c6df32e2 {act=\"tanh\",drop=0,hidden=8,lr=0.02,seed=2,width=16}\n",
        /* vib.list: an explicit value replaces the derivation */
        "\n11 15f179d70a5b {act=\"tanh\",drop=0,hidden=5,lr=0.01,seed=1,width=7}\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect_not_null(strstr(out, want[i]), "missing %s in\n%s", want[i], out);
    /* vib.random: seeded draws in range; the same declaration lists the same points. */
    for (int i = 8; i <= 10; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "\n%d ", i);
        const char *line = strstr(out, tag);
        cr_assert_not_null(line, "point %d missing", i);
        int hidden = 0, width = 0;
        double lr = 0;
        cr_assert_eq(sscanf(strstr(line, "hidden="), "hidden=%d,lr=%lf,seed=1,width=%d", &hidden, &lr, &width), 3,
                     "%s", line);
        cr_expect(hidden == 2 || hidden == 3, "hidden %d drawn from {2, 3}", hidden);
        cr_expect_eq(width, 2 * hidden);
        cr_expect(lr >= 1e-4 && lr <= 1e-1, "lr %g outside [1e-4, 1e-1]", lr);
    }
    cr_assert_eq(vibrun(dir, args), 0);
    cr_expect_str_eq(out, first, "vib.random drew other points the second time");
    char path[1024];
    snprintf(path, sizeof path, "%s/runs", dir);
    cr_expect(!exists(path), "--list wrote %s", path);
}

// ---- --jobs ----

Test(sweep, jobs_2_gives_the_bytes_of_jobs_1, .timeout = 300) {
    const char *dir = tu_tiny_dir("jobs");
    char args[2048], a[2048], b[2048];
    snprintf(args, sizeof args, "--quiet --out j1 %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    /* Two jobs, with the automatic thread count (CPUs / 2) instead of ctest's 1. */
    snprintf(args, sizeof args, "--out j2 --jobs 2 %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun_env(dir, "env -u OPENBLAS_NUM_THREADS", args), 0, "%s", out);
    /* Plain progress lines labelled with the point. */
    cr_expect_not_null(strstr(out, "{hidden=8,lr=0.01,seed=3,width=16} epoch 3/3: train loss"), "%s", out);
    cr_expect_not_null(strstr(out, "{hidden=8,lr=0.01,seed=3,width=16}: done, test error"), "%s", out);
    snprintf(a, sizeof a, "%s/j1/sweep_tiny", dir);
    snprintf(b, sizeof b, "%s/j2/sweep_tiny", dir);
    expect_same_sweep(a, b, 12);
    snprintf(a, sizeof a, "%s/j1/sweep_tiny/results.csv", dir);
    cr_expect_eq(count_lines(a), 13, "12 points and a header");
}

/* Every point's timing.csv rows of exp_dir ran on `threads` threads (its threads column). */
static void expect_threads(const char *exp_dir, int threads) {
    char names[64][64], path[2048], want[32];
    int n = tu_point_dirs(exp_dir, names, 64);
    cr_assert_gt(n, 0);
    snprintf(want, sizeof want, ",%d,", threads);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/timing.csv", exp_dir, names[i]);
        char *s = tu_read_file(path, NULL);
        cr_assert_not_null(s, "missing %s", path);
        int rows = 0;
        for (char *line = strchr(s, '\n'); line && line[1]; line = strchr(line + 1, '\n'), rows++) {
            char *nl = strchr(line + 1, '\n');
            if (nl) *nl = '\0';
            cr_expect_not_null(strstr(line + 1, want), "%s: a row not on %d threads: %s", path, threads, line + 1);
            if (nl) *nl = '\n';
        }
        cr_expect_gt(rows, 0, "%s: no rows", path);
        free(s);
    }
}

/* --threads T: each job runs on T threads (timing.csv says so), and the bytes are those of any
** other --jobs with the same T (the README's promise), here with T = 2 (ctest's environment says 1). */
Test(sweep, threads_gives_the_same_bytes_for_any_jobs, .timeout = 300) {
    const char *dir = tu_tiny_dir("threads");
    char args[2048], a[2048], b[2048];
    for (int jobs = 1; jobs <= 2; jobs++) {
        snprintf(args, sizeof args, "--quiet --out t%d --threads 2 --jobs %d --set hidden=16 %s", jobs, jobs,
                 script("sweep_tiny.lua"));
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
        snprintf(a, sizeof a, "%s/t%d/sweep_tiny", dir, jobs);
        expect_threads(a, 2);
    }
    snprintf(a, sizeof a, "%s/t1/sweep_tiny", dir);
    snprintf(b, sizeof b, "%s/t2/sweep_tiny", dir);
    expect_same_sweep(a, b, 6);
}

/* A run narrowed by --set to points the directory has, or a point replayed from its config.lua,
** leaves results.csv covering the whole sweep. A run of other points (another epochs) takes the
** directory over rather than mixing with it; --merge with the first run's options gives the whole
** sweep back, and a --merge whose options select nothing that finished changes nothing. */
Test(sweep, narrowed_runs_and_replays_keep_the_sweep_and_other_runs_replace_it, .timeout = 300) {
    const char *dir = tu_tiny_dir("narrow");
    char args[2048], res[2048], exp[2048], names[32][64];
    snprintf(res, sizeof res, "%s/n/sweep_tiny/results.csv", dir);
    snprintf(exp, sizeof exp, "%s/n/sweep_tiny", dir);
    snprintf(args, sizeof args, "--quiet --out n %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_assert_eq(count_lines(res), 13);
    snprintf(args, sizeof args, "--quiet --out n --resume --set hidden=8 %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_eq(count_lines(res), 13, "a narrowed --resume dropped points from results.csv");
    int n = tu_point_dirs(exp, names, 32);
    cr_assert_eq(n, 12);
    snprintf(args, sizeof args, "--quiet --out n n/sweep_tiny/%s/config.lua", names[0]);
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_eq(count_lines(res), 13, "a replay dropped points from results.csv");
    /* Other points (2 epochs instead of 3): the directory's aggregates describe that run alone. */
    snprintf(args, sizeof args, "--quiet --out n --set epochs=2 --set hidden=4 %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_eq(count_lines(res), 7, "6 points of 2 epochs, not mixed with the 3-epoch ones");
    cr_assert_eq(vibrun(dir, "status n/sweep_tiny"), 0, "%s", out);
    cr_expect_not_null(strstr(out, "6 points: 6 done"), "%s", out);
    snprintf(args, sizeof args, "--quiet --out n --merge %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_eq(count_lines(res), 13, "--merge with the first run's options gives its sweep back");
    snprintf(args, sizeof args, "--out n --merge --set hidden=32 %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 1, "%s", out);
    cr_expect_not_null(strstr(out, "none of the 6 points this command selects has finished"), "%s", out);
    cr_expect_eq(count_lines(res), 13);
    cr_assert_eq(vibrun(dir, "status n/sweep_tiny"), 0, "%s", out);
    cr_expect_not_null(strstr(out, "12 points: 12 done"), "%s", out);
}

// ---- kill -9 and --resume ----

/* Starts vibrun ARGS (argv[0] is filled in) inside dir, in a process group of its own, its output
** discarded; returns its pid. */
static pid_t start_group(const char *dir, const char **argv) {
    argv[0] = tu_vibrun();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setsid();
        if (chdir(dir) != 0) _exit(127);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* The points of exp_dir killed between a checkpoint and their result: a checkpoint and no
** result.csv. Their ids into ids[] and the epochs their checkpoints had completed into done[]
** (the checkpoint's epoch cursor); their count. */
static int killed_after_a_checkpoint(const char *exp_dir, char ids[][64], int *done) {
    char names[64][64], path[2048];
    int n = exists(exp_dir) ? tu_point_dirs(exp_dir, names, 64) : 0, k = 0;
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/result.csv", exp_dir, names[i]);
        if (exists(path)) continue;
        snprintf(path, sizeof path, "%s/%s/checkpoint", exp_dir, names[i]);
        if (!exists(path)) continue;
        rt_err err = { 0 };
        rt_ckpt *ck = rt_ckpt_load(path, &err);
        int32_t cursor[2] = { 0, 0 };
        if (!ck || rt_ckpt_get(ck, "cursor", cursor, sizeof cursor, &err) != RT_OK) {
            rt_ckpt_free(ck);
            continue;           /* renamed into place but read mid-write: not one yet */
        }
        rt_ckpt_free(ck);
        if (ids) snprintf(ids[k], 64, "%s", names[i]);
        if (done) done[k] = cursor[0];
        k++;
    }
    return k;
}

/* Starts vibrun in its own process group, waits until `after` points have finished and another
** has written a checkpoint but not its result, and kills the whole group with SIGKILL (no
** handler runs: what a crash or the OOM killer does). */
static void kill9_midway(const char *dir, const char *outdir, int jobs, int after) {
    char exp[2048], jobs_s[16], script_path[1024];
    snprintf(exp, sizeof exp, "%s/%s/sweep_tiny", dir, outdir);
    snprintf(jobs_s, sizeof jobs_s, "%d", jobs);
    snprintf(script_path, sizeof script_path, "%s/tests/lua/sweep_tiny.lua", tu_source_dir());
    const char *argv[] = { NULL, "--quiet", "--out", outdir, "--set", "epochs=12", "--jobs", jobs_s, script_path, NULL };
    pid_t pid = start_group(dir, argv);
    int status;
    for (int waited = 0; count_results(exp) < after || killed_after_a_checkpoint(exp, NULL, NULL) == 0; waited++) {
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "vibrun ended before it was killed");
        cr_assert_lt(waited, 60000, "no %d points finished in 60 s", after);
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    struct timespec ts = { 0, 100 * 1000 * 1000 };     /* the workers of the group die too */
    nanosleep(&ts, NULL);
    int done = count_results(exp);
    cr_expect_lt(done, 12, "the kill came too late: every point had finished");
}

/* The epochs the resume trained for point id: its progress lines "[i/n] <id> <params> epoch e/12:"
** (stderr is not a terminal); the first such epoch into *first. */
static int epochs_trained(const char *text, const char *id, int *first) {
    int k = 0;
    *first = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        const char *close = strstr(line, "] "), *nl = strchr(line, '\n');
        if (line[0] != '[' || !close || (nl && close > nl) || strncmp(close + 2, id, strlen(id)) != 0) continue;
        const char *ep = strstr(close, " epoch ");
        int e, of;
        if (!ep || (nl && ep > nl) || sscanf(ep, " epoch %d/%d:", &e, &of) != 2) continue;
        if (k++ == 0) *first = e;
    }
    return k;
}

Test(sweep, kill_9_then_resume_gives_the_bytes_of_an_uninterrupted_run, .timeout = 600) {
    const char *dir = tu_tiny_dir("kill9");
    char args[2048], a[2048], b[2048];
    snprintf(args, sizeof args, "--quiet --out ref --set epochs=12 %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(a, sizeof a, "%s/ref/sweep_tiny", dir);
    for (int jobs = 1; jobs <= 2; jobs++) {
        char outdir[32];
        snprintf(outdir, sizeof outdir, "k%d", jobs);
        kill9_midway(dir, outdir, jobs, 4);
        /* At least one point was killed after a checkpoint and before its result: the resume
        ** must go on from that checkpoint, training only the epochs after it. */
        char ids[12][64];
        int done[12];
        snprintf(b, sizeof b, "%s/%s/sweep_tiny", dir, outdir);
        int killed = killed_after_a_checkpoint(b, ids, done);
        cr_assert_geq(killed, 1, "--jobs %d: no point was killed between a checkpoint and its result", jobs);
        snprintf(args, sizeof args, "--out %s --set epochs=12 --jobs %d --resume %s", outdir, jobs,
                 script("sweep_tiny.lua"));
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
        for (int i = 0; i < killed; i++) {
            int first, n = epochs_trained(out, ids[i], &first);
            cr_expect_eq(n, 12 - done[i], "--jobs %d: point %s, checkpointed after epoch %d, trained %d epochs on "
                         "resuming (restarted?)\n%s", jobs, ids[i], done[i], n, out);
            if (n) cr_expect_eq(first, done[i] + 1, "point %s resumed at epoch %d", ids[i], first);
        }
        expect_same_sweep(a, b, 12);
    }
}

// ---- signals ----

/* The points of exp_dir in training now: a metrics.csv.part and no result.csv. */
static int in_training(const char *exp_dir) {
    char names[64][64], path[2048];
    int n = exists(exp_dir) ? tu_point_dirs(exp_dir, names, 64) : 0, k = 0;
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/result.csv", exp_dir, names[i]);
        if (exists(path)) continue;
        snprintf(path, sizeof path, "%s/%s/metrics.csv.part", exp_dir, names[i]);
        k += exists(path);
    }
    return k;
}

/* Starts `vibrun --quiet --out outdir --set epochs=E --jobs 2 sweep_tiny.lua`, narrowed to its 3
** replicates of hidden = 4, lr = 0.01, in its own group, and waits until both workers are training
** a point and each has a checkpoint to resume from (a worker stopped inside its point's first epoch
** has none: waiting for one checkpoint only, a loaded machine now and then let the signal find the
** second worker there, and the tests that count two checkpointed points failed). */
static pid_t start_two_workers(const char *dir, const char *outdir, const char *epochs, char *exp, size_t size) {
    char script_path[1024];
    snprintf(exp, size, "%s/%s/sweep_tiny", dir, outdir);
    snprintf(script_path, sizeof script_path, "%s/tests/lua/sweep_tiny.lua", tu_source_dir());
    const char *argv[] = { NULL, "--quiet", "--out", outdir, "--set", epochs, "--set", "hidden=4", "--set", "lr=0.01",
                           "--jobs", "2", script_path, NULL };
    pid_t pid = start_group(dir, argv);
    int status;
    for (int waited = 0; in_training(exp) < 2 || killed_after_a_checkpoint(exp, NULL, NULL) < 2; waited++) {
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "vibrun ended before the signal");
        cr_assert_lt(waited, 60000, "two workers did not start training in 60 s");
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return pid;
}

/* SIGTERM to the parent alone (what Slurm or `kill PID` sends): it forwards the signal to its
** workers, each checkpoints its point and stops; vibrun exits (not by the signal) saying so, the
** points read `interrupted` in `vibrun status`, and --resume ends with the bytes of a run never
** stopped. The points are long enough (60 epochs) that the signal finds both in training. */
Test(sweep, sigterm_to_the_parent_of_two_jobs_checkpoints_and_resumes_to_the_same_bytes, .timeout = 300) {
    const char *dir = tu_tiny_dir("sigterm");
    char args[2048], exp[2048], ref[2048];
    const char *narrow = "--set epochs=60 --set hidden=4 --set lr=0.01";
    snprintf(args, sizeof args, "--quiet --out ref %s %s", narrow, script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(ref, sizeof ref, "%s/ref/sweep_tiny", dir);
    pid_t pid = start_two_workers(dir, "s", "epochs=60", exp, sizeof exp);
    kill(pid, SIGTERM);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) != 0, "vibrun after SIGTERM: status %#x", status);
    char ids[12][64];
    int done[12], stopped = killed_after_a_checkpoint(exp, ids, done);
    cr_expect_eq(stopped, 2, "%d points were left with a checkpoint and no result, not the 2 in training", stopped);
    vibrun(dir, "status s/sweep_tiny");
    int lines = 0;
    for (const char *q = out; (q = strstr(q, "  interrupted  ")) != NULL; q++) lines++;
    cr_expect_eq(lines, stopped, "status lists %d interrupted points, %d have a checkpoint:\n%s", lines, stopped, out);
    cr_expect_null(strstr(out, "  running  "), "a point still reads running:\n%s", out);
    cr_expect_null(strstr(out, "  failed  "), "a point failed:\n%s", out);
    snprintf(args, sizeof args, "--out s %s --jobs 2 --resume %s", narrow, script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    for (int i = 0; i < stopped; i++) {
        int first, n = epochs_trained(out, ids[i], &first);
        cr_expect_eq(n, 60 - done[i], "point %s, checkpointed after epoch %d, trained %d epochs on resuming", ids[i],
                     done[i], n);
    }
    expect_same_sweep(ref, exp, 3);
}

/* The parent killed alone (SIGKILL: no handler runs, nothing is forwarded): its workers notice
** (PR_SET_PDEATHSIG gives them SIGTERM), checkpoint and stop instead of training on as orphans.
** The test process is their subreaper, so it collects them and their exit codes. */
Test(sweep, workers_stop_when_their_parent_is_killed, .timeout = 120) {
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    const char *dir = tu_tiny_dir("orphans");
    char exp[2048];
    pid_t pid = start_two_workers(dir, "o", "epochs=5000", exp, sizeof exp);
    kill(pid, SIGKILL);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    int reaped = 0;
    for (int waited = 0; waited < 10000 && reaped < 2; waited++) {
        pid_t w = waitpid(-1, &status, WNOHANG);
        if (w > 0) {
            reaped++;
            cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 3,
                      "a worker ended with status %#x, not 3 (point interrupted)", status);
            continue;
        }
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (reaped < 2) {
        kill(-pid, SIGKILL);        /* the group: the orphans that trained on */
        while (waitpid(-1, &status, 0) > 0) {}
    }
    cr_assert_eq(reaped, 2, "%d of 2 workers stopped within 10 s of their parent's death", reaped);
    cr_expect_geq(killed_after_a_checkpoint(exp, NULL, NULL), 2, "the workers did not checkpoint their points");
    cr_expect_eq(in_training(exp), 2);
}

/* A finished point trained again without --resume is not "done" while the new run is partial:
** killed mid-run, it has no result.csv, and --resume goes on with the new run. */
Test(sweep, retraining_a_finished_point_unmarks_it_until_it_finishes, .timeout = 300) {
    const char *dir = tu_tiny_dir("retrain");
    char args[2048], exp[2048], res[2400], part[2400], names[4][64];
    snprintf(args, sizeof args, "--quiet --out r --set hidden=8 --set epochs=400 %s", script("tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(exp, sizeof exp, "%s/r/tiny", dir);
    cr_assert_eq(tu_point_dirs(exp, names, 4), 1);
    snprintf(res, sizeof res, "%s/%s/result.csv", exp, names[0]);
    snprintf(part, sizeof part, "%s/%s/metrics.csv.part", exp, names[0]);
    cr_assert(exists(res) && !exists(part));
    /* The same point again, afresh: killed once its new metrics.csv.part exists. */
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/lua/tiny.lua", tu_source_dir());
    const char *argv[] = { NULL, "--quiet", "--out", "r", "--set", "hidden=8", "--set", "epochs=400", path, NULL };
    pid_t pid = start_group(dir, argv);
    int status;
    for (int waited = 0; !exists(part); waited++) {
        cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "vibrun ended before it was killed");
        cr_assert_lt(waited, 60000, "no metrics.csv.part after 60 s");
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(!exists(res), "the point still looks finished while its new run is partial");
    vibrun(dir, "status r/tiny");
    cr_expect_not_null(strstr(out, "0 done"), "status still calls the point done:\n%s", out);
}

/* Rewrites a timing.csv as vibrun wrote it before the threads and kernel-set columns: each line
** cut before its last two fields. */
static void drop_two_columns(const char *path) {
    char *s = tu_read_file(path, NULL), *line = s;
    cr_assert_not_null(s);
    FILE *f = fopen(path, "w");
    for (char *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
        *nl = '\0';
        char *cut = strrchr(line, ',');
        cr_assert_not_null(cut);
        *cut = '\0';
        cut = strrchr(line, ',');
        cr_assert_not_null(cut);
        *cut = '\0';
        fprintf(f, "%s\n", line);
    }
    fclose(f);
    free(s);
}

/* timing.csv's header, and each row's field count (6) and its trailing threads/kernels pair. */
static void expect_timing(const char *path, bool old_rows) {
    char *s = tu_read_file(path, NULL);
    cr_assert_not_null(s, "%s", path);
    const char *header = "epoch,train_seconds,eval_seconds,samples_per_s,threads,blas_kernels\n";
    char threads[32];           /* vibrun runs on $OPENBLAS_NUM_THREADS (ctest: 1) */
    const char *env = getenv("OPENBLAS_NUM_THREADS");
    cr_assert_not_null(env, "OPENBLAS_NUM_THREADS is set by ctest");
    snprintf(threads, sizeof threads, ",%s,", env);
    cr_expect(strncmp(s, header, strlen(header)) == 0, "%s: header %.80s", path, s);
    int rows = 0;
    for (char *line = strchr(s, '\n') + 1, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, rows++) {
        *nl = '\0';
        int commas = 0;
        for (char *c = line; *c; c++) commas += *c == ',';
        cr_expect_eq(commas, 5, "%s: row %s", path, line);
        size_t len = strlen(line);
        if (old_rows) cr_expect(len > 2 && strcmp(line + len - 2, ",,") == 0, "%s: old row %s", path, line);
        else cr_expect(strstr(line, threads) && line[len - 1] != ',', "%s: row %s (%s threads, kernels)", path, line, threads);
    }
    cr_expect_gt(rows, 0, "%s: no rows", path);
    free(s);
}

/* The windows a kill can hit at the end of a point, recreated by hand: after the last
** checkpoint, with the CSV still .part (and a torn last line); after the CSV took their final
** names but before result.csv. --resume ends both with the uninterrupted bytes. Point 0's
** timing.csv is also put back in the format of vibrun before its threads and kernels columns:
** resuming gives it the new header and empty fields in those columns. */
Test(sweep, resume_after_a_kill_at_the_end_of_a_point) {
    const char *dir = tu_tiny_dir("endkill");
    char args[2048], a[2048], b[2048], path[2048], names[16][64];
    snprintf(args, sizeof args, "--quiet --out ref --set hidden=4 --set lr=0.01 %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(args, sizeof args, "cp -r '%s/ref' '%s/k'", dir, dir);
    cr_assert_eq(tu_run(args, NULL, 0), 0);
    snprintf(a, sizeof a, "%s/k/sweep_tiny", dir);
    cr_assert_eq(tu_point_dirs(a, names, 16), 3);
    /* point 0: the CSV never got their final names; point 1: result.csv never written */
    snprintf(path, sizeof path, "%s/%s/metrics.csv", a, names[0]);
    snprintf(b, sizeof b, "%s.part", path);
    cr_assert_eq(rename(path, b), 0);
    FILE *f = fopen(b, "a");
    fputs("3,tra", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s/timing.csv", a, names[0]);
    snprintf(b, sizeof b, "%s.part", path);
    cr_assert_eq(rename(path, b), 0);
    drop_two_columns(b);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s/result.csv", a, names[i]);
        cr_assert_eq(remove(path), 0);
    }
    snprintf(path, sizeof path, "%s/results.csv", a);
    remove(path);
    snprintf(args, sizeof args, "--quiet --out k --set hidden=4 --set lr=0.01 --resume %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(b, sizeof b, "%s/ref/sweep_tiny", dir);
    expect_same_sweep(b, a, 3);
    snprintf(path, sizeof path, "%s/%s/metrics.csv.part", a, names[0]);
    cr_expect(!exists(path), "a .part file was left");
    snprintf(path, sizeof path, "%s/%s/timing.csv", a, names[0]);
    expect_timing(path, true);
    snprintf(path, sizeof path, "%s/%s/timing.csv", a, names[2]);
    expect_timing(path, false);
}

// ---- shards and --merge ----

Test(sweep, shards_merged_equal_the_local_run, .timeout = 300) {
    const char *dir = tu_tiny_dir("shards");
    char args[2048], a[2048], b[2048];
    snprintf(args, sizeof args, "--quiet --out local %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    /* The shards' points: disjoint, together every point, 4 each (equal costs per width). */
    int seen[13] = { 0 };
    for (int s = 1; s <= 3; s++) {
        snprintf(args, sizeof args, "--list --shard %d/3 %s", s, script("sweep_tiny.lua"));
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
        char want[64];
        snprintf(want, sizeof want, "# 12 points of runs/sweep_tiny, 4 in shard %d/3\n", s);
        cr_expect(strncmp(out, want, strlen(want)) == 0, "%s", out);
        for (char *line = strchr(out, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
            int i = atoi(line + 1);
            cr_assert(i >= 1 && i <= 12, "%s", line);
            seen[i]++;
        }
    }
    for (int i = 1; i <= 12; i++) cr_expect_eq(seen[i], 1, "point %d in %d shards", i, seen[i]);
    /* Out of range: a usage error, nothing written. */
    snprintf(args, sizeof args, "--out bad --shard 4/3 %s", script("sweep_tiny.lua"));
    cr_expect_eq(vibrun(dir, args), 2);
    cr_expect_not_null(strstr(out, "--shard 4/3: shard 4 is out of range; shards are numbered 1..3"), "%s", out);
    snprintf(args, sizeof args, "--out bad --shard 0/3 %s", script("sweep_tiny.lua"));
    cr_expect_eq(vibrun(dir, args), 2);
    snprintf(args, sizeof args, "--out bad --shard 2 %s", script("sweep_tiny.lua"));
    cr_expect_eq(vibrun(dir, args), 2);
    cr_expect_not_null(strstr(out, "expected I/N"), "%s", out);
    snprintf(a, sizeof a, "%s/bad", dir);
    cr_expect(!exists(a), "a bad --shard wrote %s", a);
    /* Each shard trains its points; none writes the aggregates (other shards may be running). */
    for (int s = 3; s >= 1; s--) {
        snprintf(args, sizeof args, "--out sh --shard %d/3 %s", s, script("sweep_tiny.lua"));
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
        cr_expect_not_null(strstr(out, "points done in sh/sweep_tiny; when every shard has finished:"), "%s", out);
    }
    snprintf(a, sizeof a, "%s/sh/sweep_tiny/results.csv", dir);
    cr_expect(!exists(a), "a shard wrote results.csv");
    snprintf(args, sizeof args, "--out sh --merge %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(a, sizeof a, "%s/local/sweep_tiny", dir);
    snprintf(b, sizeof b, "%s/sh/sweep_tiny", dir);
    expect_same_sweep(a, b, 12);
}

// ---- summary.csv ----

/* Field `col` (0-based) of a CSV line. */
static double field(const char *line, int col) {
    for (int i = 0; i < col; i++) line = strchr(line, ',') + 1;
    return strtod(line, NULL);
}

Test(sweep, summary_has_mean_sd_and_t_interval_over_seeds) {
    const char *dir = tu_tiny_dir("summary");
    char args[2048], path[2048];
    snprintf(args, sizeof args, "--quiet --out runs %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/sweep_tiny/results.csv", dir);
    char *res = tu_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/runs/sweep_tiny/summary.csv", dir);
    char *sum = tu_read_file(path, NULL);
    cr_assert(res && sum);
    const char *rhead = "point_id,hidden,lr,width,seed,status,epochs,diverged_epoch,train_loss_bits,train_error,"
                        "test_loss_bits,test_error,test_error_det,test_ce_bits\n";
    cr_expect(strncmp(res, rhead, strlen(rhead)) == 0, "results header: %.200s", res);
    const char *shead = "hidden,lr,width,n,train_loss_bits_mean,train_loss_bits_sd,train_loss_bits_ci95,"
                        "train_error_mean,train_error_sd,train_error_ci95,test_loss_bits_mean,test_loss_bits_sd,"
                        "test_loss_bits_ci95,test_error_mean,test_error_sd,test_error_ci95,test_error_det_mean,"
                        "test_error_det_sd,test_error_det_ci95,test_ce_bits_mean,test_ce_bits_sd,test_ce_bits_ci95,"
                        "seeds\n";
    cr_expect(strncmp(sum, shead, strlen(shead)) == 0, "summary header: %.400s", sum);
    cr_expect_eq(count_lines(path), 5, "four configurations and a header");
    /* The first configuration: rows 1..3 of results.csv (seeds 1, 2, 3). */
    const char *r = strchr(res, '\n') + 1, *s = strchr(sum, '\n') + 1;
    cr_expect(strncmp(s, "4,0.01,8,3,", 11) == 0, "%.80s", s);
    for (int m = 0; m < 6; m++) {
        int rc = 8 + m, sc = 4 + 3 * m;             /* train_loss_bits .. test_ce_bits */
        if (m == 4) continue;                       /* test_error_det: nan without sampling layers */
        double x[3], mean = 0, ss = 0;
        const char *line = r;
        for (int k = 0; k < 3; k++, line = strchr(line, '\n') + 1) mean += (x[k] = field(line, rc)) / 3;
        for (int k = 0; k < 3; k++) ss += (x[k] - mean) * (x[k] - mean);
        double sd = sqrt(ss / 2), ci = 4.30265273 * sd / sqrt(3.0);
        cr_expect(fabs(field(s, sc) - mean) <= 1e-12 * fabs(mean), "mean of column %d", rc);
        cr_expect(fabs(field(s, sc + 1) - sd) <= 1e-9 * (sd + 1e-300), "sd of column %d", rc);
        cr_expect(fabs(field(s, sc + 2) - ci) <= 1e-7 * (ci + 1e-300), "ci95 of column %d", rc);
    }
    const char *eol = strchr(s, '\n');
    cr_expect(strncmp(eol - 6, ",1 2 3", 6) == 0, "seeds: %.*s", (int)(eol - s), s);
    free(res);
    free(sum);
    /* One replicate: sd and ci95 are 0. */
    snprintf(args, sizeof args, "--quiet --out one --set replicates=1 --set hidden=4 --set lr=0.01 %s",
             script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/one/sweep_tiny/summary.csv", dir);
    sum = tu_read_file(path, NULL);
    cr_assert_not_null(sum);
    s = strchr(sum, '\n') + 1;
    cr_expect(strncmp(s, "4,0.01,8,1,", 11) == 0, "%s", s);
    cr_expect_eq(field(s, 5), 0.0);
    cr_expect_eq(field(s, 6), 0.0);
    free(sum);
}

// ---- status and locks ----

/* Takes the point's lock as a running vibrun would (a POSIX record lock); returns the fd. */
static int hold_lock(const char *point_dir) {
    char path[2048];
    snprintf(path, sizeof path, "%s/lock", point_dir);
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    cr_assert_geq(fd, 0);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    cr_assert_eq(fcntl(fd, F_SETLK, &fl), 0);
    return fd;
}

Test(sweep, status_tells_each_point_and_locks_keep_workers_apart) {
    const char *dir = tu_tiny_dir("status");
    char args[2048], path[2048], exp[1024], names[16][64];
    snprintf(args, sizeof args, "--quiet --out runs %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(exp, sizeof exp, "%s/runs/sweep_tiny", dir);
    cr_assert_eq(tu_point_dirs(exp, names, 16), 12);
    /* names[0]: running (its lock held here); [1]: interrupted (result gone, checkpoint kept);
    ** [2]: failed; [3]: pending (never started). */
    int fd = hold_lock(strcat(strcat(strcpy(path, exp), "/"), names[0]));
    snprintf(path, sizeof path, "%s/%s/result.csv", exp, names[0]);
    remove(path);
    snprintf(path, sizeof path, "%s/%s/result.csv", exp, names[1]);
    remove(path);
    snprintf(args, sizeof args, "rm -rf '%s/%s'/* && echo 'data: out of memory' > '%s/%s/failed' && rm -rf '%s/%s' '%s/results.csv'",
             exp, names[2], exp, names[2], exp, names[3], exp);
    cr_assert_eq(tu_run(args, NULL, 0), 0);
    snprintf(args, sizeof args, "status runs/sweep_tiny");
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    cr_expect_not_null(strstr(out, "runs/sweep_tiny: 12 points: 8 done, 0 diverged, 1 running, 1 interrupted, 1 failed, 1 pending"),
                       "%s", out);
    char want[256];
    snprintf(want, sizeof want, "  running      %s  epoch 3/3", names[0]);
    cr_expect_not_null(strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "(pid %ld)", (long)getpid());
    cr_expect_not_null(strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "  failed       %s", names[2]);
    cr_expect_not_null(strstr(out, want), "%s", out);
    cr_expect_not_null(strstr(out, "data: out of memory"), "%s", out);
    cr_expect_not_null(strstr(out, "ETA: "), "%s", out);
    snprintf(want, sizeof want, "continue with: %s ", tu_vibrun());       /* as it was invoked */
    cr_expect_not_null(strstr(out, want), "%s", out);
    /* status rebuilt the aggregates from the per-point files. */
    snprintf(path, sizeof path, "%s/results.csv", exp);
    cr_expect_eq(count_lines(path), 9, "8 finished points and a header");
    /* --resume: the locked point is left to its process; the others are trained. */
    snprintf(args, sizeof args, "--out runs --resume %s", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(want, sizeof want, "%s: being trained by another vibrun (pid %ld); skipped", names[0], (long)getpid());
    cr_expect_not_null(strstr(out, want), "%s", out);
    cr_expect_eq(count_results(exp), 11);
    close(fd);
    cr_assert_eq(vibrun(dir, "status runs/sweep_tiny"), 0, "%s", out);
    cr_expect_not_null(strstr(out, "11 done, 0 diverged, 0 running, 1 interrupted, 0 failed, 0 pending"), "%s", out);
    cr_expect_eq(vibrun(dir, "status nowhere"), 1);
    cr_expect_not_null(strstr(out, "nowhere: no manifest"), "%s", out);
}

// ---- random streams ----

/* Removes the last field of every line, in place. */
static void drop_last_column(char *s) {
    char *w = s;
    for (char *line = s; *line;) {
        char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line), *comma = end;
        while (comma > line && *comma != ',') comma--;
        size_t keep = (size_t)(comma > line ? comma - line : end - line);
        memmove(w, line, keep);
        w += keep;
        *w++ = '\n';
        line = nl ? nl + 1 : end;
    }
    *w = '\0';
}

Test(sweep, common_random_numbers_or_independent_streams) {
    const char *dir = tu_tiny_dir("streams");
    char args[2048], path[2048], names[4][64];
    /* epochs = 0: metrics.csv holds the initial network's evaluation. Points that differ in lr
    ** alone start from the same weights with common random numbers, from others without. */
    const char *modes[2] = { "common", "independent" };
    for (int m = 0; m < 2; m++) {
        snprintf(args, sizeof args, "--quiet --out %s --set epochs=0 --set replicates=1 --set hidden=4 --set streams=%s %s",
                 modes[m], modes[m], script("sweep_tiny.lua"));
        cr_assert_eq(vibrun(dir, args), 0, "%s", out);
        snprintf(path, sizeof path, "%s/%s/sweep_tiny", dir, modes[m]);
        cr_assert_eq(tu_point_dirs(path, names, 4), 2);
        char a[2048], b[2048];
        snprintf(a, sizeof a, "%s/%s/metrics.csv", path, names[0]);
        snprintf(b, sizeof b, "%s/%s/metrics.csv", path, names[1]);
        char *x = tu_read_file(a, NULL), *y = tu_read_file(b, NULL);
        cr_assert(x && y);
        drop_last_column(x);            /* lr differs; the rest is the initial network's */
        drop_last_column(y);
        if (m == 0) cr_expect_str_eq(x, y, "common random numbers: the same initial network");
        else cr_expect_str_neq(x, y, "independent streams: other initial networks");
        free(x);
        free(y);
        snprintf(a, sizeof a, "%s/%s/config.lua", path, names[0]);
        x = tu_read_file(a, NULL);
        cr_expect_eq(strstr(x, "streams = \"independent\"") != NULL, m == 1, "%s", x);
        free(x);
    }
}

// ---- another script's run directory ----

Test(sweep, run_directory_of_another_script_is_refused) {
    const char *dir = tu_tiny_dir("owner");
    char args[2048], path[2048];
    snprintf(args, sizeof args, "mkdir -p '%s/a' '%s/b' && cp '%s/tests/lua/sweep_tiny.lua' '%s/a/' && "
             "cp '%s/tests/lua/sweep_tiny.lua' '%s/b/'", dir, dir, tu_source_dir(), dir, tu_source_dir(), dir);
    cr_assert_eq(tu_run(args, NULL, 0), 0);
    cr_assert_eq(vibrun(dir, "--quiet --out runs --set replicates=1 a/sweep_tiny.lua"), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/sweep_tiny/results.csv", dir);
    char *before = tu_read_file(path, NULL);
    snprintf(path, sizeof path, "%s/runs/sweep_tiny/manifest", dir);
    char *manifest = tu_read_file(path, NULL);
    cr_assert(before && manifest);
    cr_expect_eq(vibrun(dir, "--quiet --out runs --set replicates=2 b/sweep_tiny.lua"), 1);
    cr_expect_not_null(strstr(out, "runs/sweep_tiny was written by another script ("), "%s", out);
    cr_expect_not_null(strstr(out, "/a/sweep_tiny.lua), not "), "%s", out);
    cr_expect_not_null(strstr(out, "nothing was changed"), "%s", out);
    cr_expect_eq(vibrun(dir, "--out runs --merge b/sweep_tiny.lua"), 1);
    char *after = tu_read_file(path, NULL);
    cr_expect_str_eq(after, manifest);
    free(after);
    snprintf(path, sizeof path, "%s/runs/sweep_tiny/results.csv", dir);
    after = tu_read_file(path, NULL);
    cr_expect_str_eq(after, before);
    free(after);
    free(before);
    free(manifest);
    /* The owner goes on: --resume with one more replicate trains only the new points. */
    cr_assert_eq(vibrun(dir, "--out runs --resume --set replicates=2 a/sweep_tiny.lua"), 0, "%s", out);
    cr_expect_not_null(strstr(out, "finished before, skipped (--resume)"), "%s", out);
    cr_expect_eq(count_lines(path), 9);
}

// ---- Slurm ----

Test(sweep, slurm_writes_a_job_array_of_shards) {
    const char *dir = tu_tiny_dir("slurm");
    char args[2048], path[2048];
    snprintf(args, sizeof args, "slurm %s --tasks 3 --partition debug --time 00:10:00 --cpus-per-task 2 "
             "--set epochs=2 --out runs", script("sweep_tiny.lua"));
    cr_assert_eq(vibrun(dir, args), 0, "%s", out);
    snprintf(path, sizeof path, "%s/runs/sweep_tiny/slurm/sweep_tiny.sbatch", dir);
    char *s = tu_read_file(path, NULL);
    cr_assert_not_null(s, "no %s; output:\n%s", path, out);
    const char *want[] = { "#!/bin/bash\n", "#SBATCH --array=1-3\n", "#SBATCH --partition=debug\n",
                           "#SBATCH --time=00:10:00\n", "#SBATCH --cpus-per-task=2\n",
                           "export OPENBLAS_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n",
                           "/tests/lua/sweep_tiny.lua' --resume --quiet --out '/",
                           "/runs' --shard \"${SLURM_ARRAY_TASK_ID}/3\" --set 'epochs=2'\n" };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect_not_null(strstr(s, want[i]), "missing %s in\n%s", want[i], s);
    char exe[2048], real[2048];
    cr_assert_not_null(realpath(tu_vibrun(), real));
    snprintf(exe, sizeof exe, "exec '%s' '", real);
    cr_expect_not_null(strstr(s, exe), "the binary by absolute path: %s", s);
    free(s);
    cr_expect_eq(vibrun(dir, "slurm x.lua"), 2);
    cr_expect_not_null(strstr(out, "slurm needs --tasks N"), "%s", out);
}
