/*
** test_tishby.c: the Shwartz-Ziv & Tishby 12-bit data set: its search and split (nn_data_open),
** its DSL spelling (vib.data.tishby), and `vibrun data list` / `vibrun data get tishby`, the latter
** offline through VIB_TISHBY_URL=file://... Needs ../shared/data/tishby-12bit (skipped when absent).
*/
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lb_lua.h"
#include "nn_data.h"
#include "testutil.h"

#define ASSERT_MSG(e, sub) \
    cr_assert(strstr((e).msg, (sub)) != NULL, "message \"%s\" lacks \"%s\"", (e).msg, (sub))
#define ASSERT_OUT(sub) cr_assert(strstr(out, (sub)) != NULL, "output lacks \"%s\":\n%s", (sub), out)

static char out[1 << 16];

/* path made absolute against the working directory, into buf. */
static const char *absolute(const char *path, char *buf, size_t size) {
    char cwd[PATH_MAX];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    if (path[0] == '/') snprintf(buf, size, "%s", path);
    else snprintf(buf, size, "%s/%s", cwd, path);
    return buf;
}

/* The shared folder as an absolute path, or skip. */
static const char *shared_dir(void) {
    static char rel[PATH_MAX], abs[2 * PATH_MAX];
    if (!tu_shared("tishby-12bit/var_u.mat", rel, sizeof rel)) tu_skip("../shared/data/tishby-12bit absent");
    *strrchr(rel, '/') = '\0';
    return absolute(rel, abs, sizeof abs);
}

/* A fresh absolute temporary folder. */
static const char *abs_tmpdir(const char *tag) {
    static char abs[2 * PATH_MAX];
    return absolute(tu_tmpdir(tag), abs, sizeof abs);
}

static void copy_file(const char *from, const char *to) {
    size_t n;
    char *b = tu_read_file(from, &n);
    cr_assert_not_null(b, "cannot read %s", from);
    tu_write_file(to, b, n);
    free(b);
}

/* Runs `env vibrun args` inside dir; stdout+stderr into out; returns the exit code. */
static int vibrun(const char *dir, const char *env, const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && env %s '%s' %s 2>&1", dir, env, tu_vibrun(), args);
    return tu_run(cmd, out, sizeof out);
}

static void pattern_of(const nn_dataset *d, int i, char bits[13]) {
    for (int j = 0; j < 12; j++) bits[j] = d->x[(size_t)i * 12 + (size_t)j] == 1.0f ? '1' : '0';
    bits[12] = '\0';
}

/* Each of the 4096 patterns exactly once across train and test; the labels agree with `all`. */
static void assert_partition(const nn_dataset *tr, const nn_dataset *te, const nn_dataset *all) {
    int seen[4096] = { 0 };
    const nn_dataset *parts[2] = { tr, te };
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < parts[k]->n; i++) {
            int code = 0;
            for (int j = 0; j < 12; j++) code = code * 2 + (parts[k]->x[(size_t)i * 12 + (size_t)j] == 1.0f);
            seen[code]++;
            /* var_u lists the patterns in binary counting order: row code is pattern code */
            char a[13], b[13];
            pattern_of(parts[k], i, a);
            pattern_of(all, code, b);
            cr_assert_str_eq(a, b);
            cr_assert_eq(parts[k]->y[i], all->y[code]);
        }
    }
    for (int c = 0; c < 4096; c++) cr_assert_eq(seen[c], 1, "pattern %d seen %d times", c, seen[c]);
}

// ---- nn_data_open ----

Test(tishby, split_is_a_seeded_partition) {
    const char *dir = shared_dir();
    char mat[PATH_MAX + 16];
    snprintf(mat, sizeof mat, "%s/var_u.mat", dir);
    nn_dataset all, tr, te, tr2, te2;
    rt_err err = { 0 };
    cr_assert_eq(nn_tishby_load(&all, mat, &err), RT_OK, "%s", err.msg);
    nn_data_spec s = nn_data_spec_default();
    s.name = "tishby";
    s.dir = dir;
    s.seed = 3;
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr.n, 3277, "round(0.8 * 4096), as the authors' np.rint");
    cr_assert_eq(te.n, 819);
    cr_assert_eq(tr.dim, 12);
    cr_assert_eq(tr.ndim, 1);
    cr_assert_eq(tr.nclass, 2);
    cr_assert_eq(te.nclass, 2);
    cr_assert(strstr(tr.source, "var_u.mat") != NULL, "%s", tr.source);
    assert_partition(&tr, &te, &all);
    /* shuffled: the test part is not the tail of the file */
    int tail = 0;
    for (int i = 0; i < te.n; i++) {
        char a[13], b[13];
        pattern_of(&te, i, a);
        pattern_of(&all, 4096 - 819 + i, b);
        tail += strcmp(a, b) == 0;
    }
    cr_assert_lt(tail, 819);
    /* the same seed gives the same split, another seed another */
    cr_assert_eq(nn_data_open(&s, &tr2, &te2, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(memcmp(te.x, te2.x, 819 * 12 * sizeof(float)), 0);
    cr_assert_eq(memcmp(tr.y, tr2.y, 3277 * sizeof(int32_t)), 0);
    nn_dataset_free(&tr2);
    nn_dataset_free(&te2);
    s.seed = 4;
    cr_assert_eq(nn_data_open(&s, &tr2, &te2, &err), RT_OK, "%s", err.msg);
    cr_assert_neq(memcmp(te.x, te2.x, 819 * 12 * sizeof(float)), 0);
    assert_partition(&tr2, &te2, &all);
    nn_dataset_free(&tr2);
    nn_dataset_free(&te2);
    /* the authors' order: the first 3277 rows train */
    s.split_in_order = true;
    s.train_fraction = 0.5f;
    cr_assert_eq(nn_data_open(&s, &tr2, &te2, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr2.n, 2048);
    cr_assert_eq(memcmp(tr2.x, all.x, 2048 * 12 * sizeof(float)), 0);
    cr_assert_eq(memcmp(te2.x, all.x + 2048 * 12, 2048 * 12 * sizeof(float)), 0);
    nn_dataset_free(&tr2);
    nn_dataset_free(&te2);
    /* an exact half rounds to even, as np.rint: 4097/8192 of 4096 is 2048.5 -> 2048 */
    s.train_fraction = 4097.0f / 8192.0f;
    cr_assert_eq(nn_data_open(&s, &tr2, &te2, &err), RT_OK, "%s", err.msg);
    cr_assert_eq(tr2.n, 2048);
    nn_dataset_free(&tr2);
    nn_dataset_free(&te2);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
    nn_dataset_free(&all);
}

Test(tishby, csv_only_folder_and_mat_preference) {
    const char *shared = shared_dir();
    const char *dir = abs_tmpdir("tcsv");
    char from[PATH_MAX + 16], to[PATH_MAX + 16];
    snprintf(from, sizeof from, "%s/var_u.csv", shared);
    snprintf(to, sizeof to, "%s/var_u.csv", dir);
    copy_file(from, to);
    nn_data_spec s = nn_data_spec_default();
    s.name = "tishby";
    s.dir = dir;
    nn_dataset tr, te, tr2, te2;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    cr_assert(strstr(tr.source, "var_u.csv") != NULL, "%s", tr.source);
    /* with var_u.mat beside it, the .mat is read; same data, same split */
    snprintf(from, sizeof from, "%s/var_u.mat", shared);
    snprintf(to, sizeof to, "%s/var_u.mat", dir);
    copy_file(from, to);
    cr_assert_eq(nn_data_open(&s, &tr2, &te2, &err), RT_OK, "%s", err.msg);
    cr_assert(strstr(tr2.source, "var_u.mat") != NULL, "%s", tr2.source);
    cr_assert_eq(tr.n, tr2.n);
    cr_assert_eq(memcmp(tr.x, tr2.x, (size_t)tr.n * 12 * sizeof(float)), 0);
    cr_assert_eq(memcmp(te.y, te2.y, (size_t)te.n * sizeof(int32_t)), 0);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
    nn_dataset_free(&tr2);
    nn_dataset_free(&te2);
}

Test(tishby, bad_spec_and_missing_data) {
    nn_data_spec s = nn_data_spec_default();
    s.name = "tishby";
    nn_dataset tr, te;
    rt_err err = { 0 };
    s.train_fraction = 1.0f;
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_ARG);
    ASSERT_MSG(err, "train_fraction = 1 must be in (0, 1)");
    s.train_fraction = 0.8f;
    s.scale = NN_SCALE_PM1;
    rt_err_clear(&err);
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_ERR_ARG);
    ASSERT_MSG(err, "scale = \"pm1\"");
    /* found nowhere: every folder tried, and how to get it (run from a folder without ../shared) */
    s.scale = NN_SCALE_NONE;
    const char *dir = abs_tmpdir("tmissing");
    char home[PATH_MAX + 16], vd[PATH_MAX + 16], cwd[PATH_MAX];
    snprintf(home, sizeof home, "%s/home", dir);
    snprintf(vd, sizeof vd, "%s/vd", dir);
    setenv("HOME", home, 1);
    setenv("VIB_DATA", vd, 1);
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir("/"), 0);
    s.dir = "/nowhere/tishby";
    rt_err_clear(&err);
    rt_status st = nn_data_open(&s, &tr, &te, &err);
    cr_assert_eq(chdir(cwd), 0);
    cr_assert_eq(st, RT_ERR_IO);
    ASSERT_MSG(err, "tishby: data set not found");
    ASSERT_MSG(err, "/nowhere/tishby: no such directory");
    ASSERT_MSG(err, "vibrun data get tishby");
    cr_expect_null(strstr(err.msg, "/vd/tishby"), "searched past the given dir: %s", err.msg);
    /* Without a dir: the standard places and nothing else; no development layout (../shared beside
    ** the working directory or the program): tests and users point VIB_DATA at the data. */
    char dirs[NN_DATA_MAX_SEARCH][NN_PATH_MAX];
    int nd = nn_data_search_dirs("tishby", NULL, dirs);
    const char *want[] = { "/vd/tishby", "./data/tishby", "/usr/share/datasets/tishby", "/home/.cache/vibrun/tishby" };
    cr_assert_eq(nd, 4);
    for (int w = 0; w < 4; w++) cr_expect(strstr(dirs[w], want[w]) != NULL, "searched %s, not %s, in place %d", dirs[w], want[w], w);
    cr_assert_eq(tr.n, 0);
    cr_assert_null(te.x);
}

/* A script without dir finds the data set through VIB_DATA, as ctest sets it for every test
** (build/tests/data/tishby, a link to the sample), and so does the shipped experiment. */
Test(tishby, found_by_name_through_vib_data) {
    shared_dir();                       /* skips where the sample is absent */
    const char *vd = getenv("VIB_DATA");
    cr_assert(vd && *vd, "VIB_DATA is not set (ctest sets it to build/tests/data)");
    nn_data_spec s = nn_data_spec_default();
    s.name = "tishby";
    nn_dataset tr, te;
    rt_err err = { 0 };
    cr_assert_eq(nn_data_open(&s, &tr, &te, &err), RT_OK, "%s", err.msg);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s/tishby/var_u.mat", vd);
    cr_expect_str_eq(tr.source, want);
    cr_expect_eq(tr.n, 3277);
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
    char args[PATH_MAX + 64];
    snprintf(args, sizeof args, "--check '%s/experiments/tishby_12bit.lua'", tu_source_dir());
    cr_assert_eq(vibrun(abs_tmpdir("tvd"), "", args), 0, "%s", out);
    ASSERT_OUT("/tishby/var_u.mat (train 3277 x 12, test 819)");
}

Test(tishby, truncated_mat_is_refused) {
    const char *dir = abs_tmpdir("tgen");
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/var_u.mat", dir);
    tu_write_file(path, "MATLAB 5.0 MAT-file", 19);
    nn_dataset d;
    rt_err err = { 0 };
    cr_assert_eq(nn_tishby_load(&d, path, &err), RT_ERR_FORMAT);
    ASSERT_MSG(err, path);
    ASSERT_MSG(err, "too short for a MAT-file");
    cr_assert_null(d.x);
}

// ---- the DSL ----

static void write_script(const char *path, const char *data) {
    char text[2048];
    snprintf(text, sizeof text,
             "local vib = require \"vib\"\n"
             "return vib.experiment {\n"
             "  name = \"tb\", epochs = 0, seed = 1, %s\n"
             "%s"
             "  data = %s,\n"
             "  model = vib.seq { vib.linear { out = 6 }, vib.tanh {}, vib.linear { out = 2 } },\n"
             "}\n",
             /* only a data function reads the param (declaring an unread one is an error) */
             strstr(data, "function") ? "params = { split = 0 }," : "",
             strstr(data, "function") ? "  sweep = vib.grid { split = { 0, 1, 2 } },\n" : "  -- no sweep\n", data);
    tu_write_file(path, text, strlen(text));
}

/* test_loss_bits of each point of runs/tb, in sweep order (split 0, 1, 2). */
static void test_losses(const char *dir, double loss[3]) {
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/runs/tb/results.csv", dir);
    char *res = tu_read_file(path, NULL);
    cr_assert_not_null(res, "no %s", path);
    int col = -1, c = 0;
    char *line = res, *nl = strchr(res, '\n');
    for (char *p = line; p < nl; c++) {
        char *e = strpbrk(p, ",\n");
        if ((size_t)(e - p) == strlen("test_loss_bits") && strncmp(p, "test_loss_bits", (size_t)(e - p)) == 0) col = c;
        p = e + 1;
    }
    cr_assert_geq(col, 0, "no test_loss_bits in %s", res);
    int row = 0;
    for (line = nl + 1; *line && row < 4; row++) {
        int split = -1;
        char *p = line;
        for (int k = 0; k <= col; k++) {
            if (k == 1) split = atoi(p);
            if (k == col) {
                cr_assert(split >= 0 && split < 3);
                loss[split] = atof(p);
            }
            p = strchr(p, ',') + 1;
        }
        line = strchr(line, '\n') + 1;
    }
    cr_assert_eq(row, 3);
    free(res);
}

Test(tishby, dsl_loads_and_split_follows_the_seed) {
    const char *shared = shared_dir();
    const char *dir = abs_tmpdir("tdsl");
    char script[PATH_MAX + 16], data[PATH_MAX + 200], args[PATH_MAX + 64];
    snprintf(script, sizeof script, "%s/tb.lua", dir);
    /* `split` is the sweep param: a data function gets it */
    snprintf(data, sizeof data, "function(p) return vib.data.tishby { dir = \"%s\", split_seed = p.split > 0 and "
             "p.split or nil } end", shared);
    write_script(script, data);
    snprintf(args, sizeof args, "--check '%s'", script);
    cr_assert_eq(vibrun(dir, "", args), 0, "%s", out);
    ASSERT_OUT("var_u.mat (train 3277 x 12, test 819)");
    snprintf(args, sizeof args, "--quiet --out runs '%s'", script);
    cr_assert_eq(vibrun(dir, "", args), 0, "%s", out);
    double loss[3];
    test_losses(dir, loss);
    /* same init (seed 1) everywhere: split_seed unset == split_seed 1 (the point's seed); 2 differs */
    cr_assert_eq(loss[0], loss[1], "%g vs %g", loss[0], loss[1]);
    cr_assert_neq(loss[0], loss[2], "%g vs %g", loss[0], loss[2]);
}

Test(tishby, dsl_errors_name_the_line) {
    const char *dir = abs_tmpdir("tdslerr");
    char script[PATH_MAX + 16], args[PATH_MAX + 64];
    snprintf(script, sizeof script, "%s/tb.lua", dir);
    snprintf(args, sizeof args, "--check '%s'", script);
    write_script(script, "vib.data.tishby { holdout = 0.2 }");
    cr_assert_eq(vibrun(dir, "", args), 1, "%s", out);
    ASSERT_OUT("tb.lua:5: vib.data.tishby: unknown key 'holdout'");
    ASSERT_OUT("train_fraction");
    write_script(script, "vib.data.tishby { scale = \"unit\" }");
    cr_assert_eq(vibrun(dir, "", args), 1, "%s", out);
    ASSERT_OUT("tb.lua:5: scale=\"unit\" divides bytes by 255");
    write_script(script, "vib.data.tishby { train_fraction = 1.5 }");
    cr_assert_eq(vibrun(dir, "", args), 1, "%s", out);
    ASSERT_OUT("tb.lua:5: train_fraction=1.5 must be in (0, 1)");
    /* found nowhere: the path looked in and `vibrun data get tishby` */
    write_script(script, "vib.data.tishby { dir = \"/nonexistent-tishby\" }");
    cr_assert_eq(vibrun(dir, "HOME=/nonexistent-home VIB_DATA=", args), 1, "%s", out);
    ASSERT_OUT("tb.lua:5: tishby: data set not found");
    ASSERT_OUT("/nonexistent-tishby: no such directory");
    ASSERT_OUT("vibrun data get tishby");
}

// ---- vibrun data list / data get ----

Test(tishby, data_get_offline_then_list) {
    const char *shared = shared_dir();
    const char *dir = abs_tmpdir("tget");
    char env[3 * PATH_MAX], path[PATH_MAX + 64];
    snprintf(env, sizeof env, "HOME='%s/home' VIB_DATA= VIB_TISHBY_URL='file://%s/var_u.mat'", dir, shared);
    cr_assert_eq(vibrun(dir, env, "data get tishby"), 0, "%s", out);
    ASSERT_OUT("SHA-256 0ba9551878a855396a8de0cbaae620788ede1e7b1eb2b8373bbe017d5ea02036 verified");
    snprintf(path, sizeof path, "%s/home/.cache/vibrun/tishby/var_u.mat", dir);
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s/var_u.mat", shared);
    tu_expect_same_file(path, want);
    /* a second get finds it */
    cr_assert_eq(vibrun(dir, env, "data get tishby"), 0, "%s", out);
    ASSERT_OUT("already installed");
    /* list: tishby where get put it; mnist not installed, with how to get it */
    cr_assert_eq(vibrun(dir, env, "data list"), 0, "%s", out);
    snprintf(want, sizeof want, "%s/home/.cache/vibrun/tishby: var_u.mat", dir);
    ASSERT_OUT(want);
    ASSERT_OUT("mnist          not installed; searched ./data/mnist");
    ASSERT_OUT("cifar10");
    ASSERT_OUT("fashion-mnist");
    /* and a script finds it there with no dir at all */
    char script[PATH_MAX + 16], args[PATH_MAX + 64];
    snprintf(script, sizeof script, "%s/tb.lua", dir);
    write_script(script, "vib.data.tishby {}");
    snprintf(args, sizeof args, "--check '%s'", script);
    cr_assert_eq(vibrun(dir, env, args), 0, "%s", out);
    snprintf(want, sizeof want, "%s/home/.cache/vibrun/tishby/var_u.mat (train 3277", dir);
    ASSERT_OUT(want);
}

Test(tishby, data_get_into_vib_data_and_list_order) {
    const char *shared = shared_dir();
    const char *dir = abs_tmpdir("tgetvd");
    char env[3 * PATH_MAX], want[PATH_MAX + 64];
    snprintf(env, sizeof env, "HOME='%s/home' VIB_DATA='%s/vd' VIB_TISHBY_URL='file://%s/var_u.mat'", dir, dir,
             shared);
    cr_assert_eq(vibrun(dir, env, "data get tishby"), 0, "%s", out);
    snprintf(want, sizeof want, "%s/vd/tishby/var_u.mat", dir);
    cr_assert_eq(access(want, R_OK), 0, "%s", out);
    /* a second copy in ./data/tishby comes later in the search order: listed as not used */
    char sub[PATH_MAX + 16], from[PATH_MAX + 16];
    snprintf(sub, sizeof sub, "mkdir -p '%s/data/tishby'", dir);
    cr_assert_eq(system(sub), 0);
    snprintf(sub, sizeof sub, "%s/data/tishby/var_u.csv", dir);
    snprintf(from, sizeof from, "%s/var_u.csv", shared);
    copy_file(from, sub);
    cr_assert_eq(vibrun(dir, env, "data list"), 0, "%s", out);
    snprintf(want, sizeof want, "tishby         %s/vd/tishby: var_u.mat\n", dir);
    ASSERT_OUT(want);
    ASSERT_OUT("tishby         ./data/tishby: var_u.csv (not used: the folder above comes first)");
}

Test(tishby, data_get_bad_checksum_leaves_nothing) {
    const char *shared = shared_dir();
    const char *dir = abs_tmpdir("tgetbad");
    char env[3 * PATH_MAX], path[PATH_MAX + 64];
    /* the CSV is a different file: the checksum fails, and neither the file nor its folders remain */
    snprintf(env, sizeof env, "HOME='%s/home' VIB_DATA= VIB_TISHBY_URL='file://%s/var_u.csv'", dir, shared);
    cr_assert_eq(vibrun(dir, env, "data get tishby"), 1, "%s", out);
    ASSERT_OUT("has SHA-256 746a30b90a052433656cc6b1ee91bacfe189c4baf572917df988042669d6da4c");
    ASSERT_OUT("not installed");
    snprintf(path, sizeof path, "%s/home", dir);
    cr_assert_neq(access(path, F_OK), 0, "%s was left behind", path);
    /* into an existing folder: only the partial file goes */
    snprintf(path, sizeof path, "mkdir -p '%s/home/.cache/vibrun/tishby'", dir);
    cr_assert_eq(system(path), 0);
    cr_assert_eq(vibrun(dir, env, "data get tishby"), 1, "%s", out);
    snprintf(path, sizeof path, "%s/home/.cache/vibrun/tishby", dir);
    char cmd[PATH_MAX + 64], listing[256];
    snprintf(cmd, sizeof cmd, "ls -A '%s'", path);
    cr_assert_eq(tu_run(cmd, listing, sizeof listing), 0);
    cr_assert_str_eq(listing, "", "left behind: %s", listing);
    /* no network (an unreachable URL): a clear message and what to do */
    snprintf(env, sizeof env, "HOME='%s/home' VIB_DATA= VIB_TISHBY_URL='file:///nonexistent/var_u.mat'", dir);
    cr_assert_eq(vibrun(dir, env, "data get tishby"), 1, "%s", out);
    ASSERT_OUT("the download of file:///nonexistent/var_u.mat failed");
    ASSERT_OUT("copy it to");
    cr_assert_eq(tu_run(cmd, listing, sizeof listing), 0);
    cr_assert_str_eq(listing, "", "left behind: %s", listing);
    /* a wrong file already in place is reported, not overwritten */
    snprintf(path, sizeof path, "%s/home/.cache/vibrun/tishby/var_u.mat", dir);
    tu_write_file(path, "junk", 4);
    cr_assert_eq(vibrun(dir, env, "data get tishby"), 1, "%s", out);
    ASSERT_OUT("exists but its SHA-256 is");
    size_t n;
    char *b = tu_read_file(path, &n);
    cr_assert_eq(n, 4);
    free(b);
}

Test(tishby, data_usage_errors) {
    const char *dir = abs_tmpdir("tusage");
    cr_assert_eq(vibrun(dir, "", "data get imagenet"), 2, "%s", out);
    ASSERT_OUT("unknown data set 'imagenet'");
    cr_assert_eq(vibrun(dir, "", "data"), 2, "%s", out);
    ASSERT_OUT("vibrun data list | vibrun data get [NAME]");
}

// ---- the point's seed reaches the split, and the data cache tells seeds apart ----

/* Resolves the script at path with no --set; leaves the list of points on the stack. */
static void resolve(lua_State *L, const char *path) {
    cr_assert(lb_dofile(L, path, false), "%s", lua_tostring(L, -1));
    lua_newtable(L);
    cr_assert(lb_call_vib(L, "_resolve", 2, 1), "%s", lua_tostring(L, -1));
}

/* data.seed of each point and whether their data keys (what lb_run caches data sets by) differ. */
static void split_seeds(const char *data, uint64_t seeds[2], bool *same_key) {
    const char *dir = abs_tmpdir("tseed");
    char path[PATH_MAX + 16], text[1024];
    snprintf(path, sizeof path, "%s/s.lua", dir);
    snprintf(text, sizeof text,
             "local vib = require \"vib\"\n"
             "return vib.experiment { name = \"s\", params = { seed = 1 }, sweep = vib.grid { seed = { 1, 2 } },\n"
             "  data = %s, model = vib.seq { vib.linear { out = 2 } } }\n", data);
    tu_write_file(path, text, strlen(text));
    lua_State *L = lb_state_new(1);
    cr_assert_not_null(L);
    resolve(L, path);
    cr_assert_eq(luaL_len(L, lua_gettop(L)), 2);
    lb_points pts;
    char msg[512];
    cr_assert(lb_points_read(L, lua_gettop(L), path, &pts, msg, sizeof msg), "%s", msg);
    for (int i = 0; i < 2; i++) seeds[i] = pts.p[i].data.seed;
    *same_key = strcmp(pts.p[0].data_key, pts.p[1].data_key) == 0;
    lb_points_free(&pts);
    lua_close(L);
}

Test(tishby, point_seed_reaches_the_split) {
    uint64_t seeds[2];
    bool same;
    split_seeds("vib.data.tishby {}", seeds, &same);
    cr_assert_eq(seeds[0], 1);
    cr_assert_eq(seeds[1], 2);
    cr_assert(!same, "points of two seeds would share one cached split");
    split_seeds("vib.data.tishby { split_seed = 9 }", seeds, &same);
    cr_assert_eq(seeds[0], 9);
    cr_assert_eq(seeds[1], 9);
    cr_assert(same, "a fixed split_seed: one data set for both seeds");
}
