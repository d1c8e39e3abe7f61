// test_ckpt.c: checkpoint round trips, the byte layout, every kind of damage, and atomic
// replacement when a save fails.
#define _DEFAULT_SOURCE     /* setgroups */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "rt_ckpt.h"
#include "testutil.h"

// ---- helpers ----

static bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

// Removes a test's directory once the test has passed (a failing one keeps it for inspection).
static void cleanup(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

// A checkpoint with a few typical blobs: floats, an int64 counter, an odd-sized blob, an empty one.
static rt_ckpt *sample(float scale) {
    rt_ckpt *ck = rt_ckpt_new();
    float params[100];
    for (int i = 0; i < 100; i++) params[i] = scale * (float)i - 3.5f;
    int64_t step = 123456789012LL;
    const char odd[7] = "abcdef";
    rt_ckpt_put(ck, "params", params, sizeof params);
    rt_ckpt_put(ck, "step", &step, sizeof step);
    rt_ckpt_put(ck, "odd", odd, sizeof odd);
    rt_ckpt_put(ck, "empty", NULL, 0);
    return ck;
}

static void save_sample(const char *path, float scale) {
    rt_err err;
    rt_err_clear(&err);
    rt_ckpt *ck = sample(scale);
    cr_assert_eq(rt_ckpt_save(ck, path, &err), RT_OK, "%s", err.msg);
    rt_ckpt_free(ck);
}

// Loads path and checks it holds sample(scale).
static void check_sample(const char *path, float scale) {
    rt_err err;
    rt_err_clear(&err);
    rt_ckpt *ck = rt_ckpt_load(path, &err);
    cr_assert_not_null(ck, "%s", err.msg);
    float params[100];
    int64_t step = 0;
    char odd[7];
    cr_assert_eq(rt_ckpt_get(ck, "params", params, sizeof params, &err), RT_OK, "%s", err.msg);
    for (int i = 0; i < 100; i++) cr_assert(params[i] == scale * (float)i - 3.5f);
    cr_assert_eq(rt_ckpt_get(ck, "step", &step, sizeof step, &err), RT_OK);
    cr_assert_eq(step, 123456789012LL);
    cr_assert_eq(rt_ckpt_get(ck, "odd", odd, sizeof odd, &err), RT_OK);
    cr_assert_str_eq(odd, "abcdef");
    cr_assert_eq(rt_ckpt_get(ck, "empty", NULL, 0, &err), RT_OK);
    cr_assert(rt_ckpt_has(ck, "empty"));
    rt_ckpt_free(ck);
}

static char *path_in(const char *dir, const char *name) {
    static char buf[4][512];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

// Expects loading path to fail with status, and the message to name the path and `what`.
static void expect_load_error(const char *path, rt_status status, const char *what) {
    rt_err err;
    rt_err_clear(&err);
    rt_ckpt *ck = rt_ckpt_load(path, &err);
    cr_assert_null(ck, "loaded a damaged checkpoint");
    cr_assert_eq(err.status, status, "status %s: %s", rt_status_name(err.status), err.msg);
    cr_assert_not_null(strstr(err.msg, path), "message does not name the file: %s", err.msg);
    if (what) cr_assert_not_null(strstr(err.msg, what), "message lacks '%s': %s", what, err.msg);
}

// ---- round trips ----

Test(ckpt, round_trip) {
    const char *dir = tu_tmpdir("ckpt-rt");
    const char *path = path_in(dir, "checkpoint");
    save_sample(path, 0.25f);
    cr_assert(!exists(path_in(dir, "checkpoint.tmp")));
    check_sample(path, 0.25f);
    cleanup(dir);
}

Test(ckpt, overwrite_replaces_and_leaves_no_tmp) {
    const char *dir = tu_tmpdir("ckpt-ow");
    const char *path = path_in(dir, "checkpoint"), *tmp = path_in(dir, "checkpoint.tmp");
    save_sample(path, 1.0f);
    cr_assert(!exists(tmp));
    save_sample(path, 2.0f);
    cr_assert(!exists(tmp));
    check_sample(path, 2.0f);
    cleanup(dir);
}

Test(ckpt, put_replaces_and_has) {
    rt_ckpt *ck = rt_ckpt_new();
    int a = 1, b[3] = {7, 8, 9}, out[3];
    rt_ckpt_put(ck, "x", &a, sizeof a);
    rt_ckpt_put(ck, "x", b, sizeof b);
    cr_assert(rt_ckpt_has(ck, "x"));
    cr_assert(!rt_ckpt_has(ck, "y"));
    rt_err err;
    rt_err_clear(&err);
    cr_assert_eq(rt_ckpt_get(ck, "x", out, sizeof out, &err), RT_OK, "%s", err.msg);
    cr_assert(out[0] == 7 && out[2] == 9);
    b[0] = 100;                                 // put copied the data
    cr_assert_eq(rt_ckpt_get(ck, "x", out, sizeof out, &err), RT_OK);
    cr_assert_eq(out[0], 7);
    rt_ckpt_free(ck);
    rt_ckpt_free(NULL);
}

Test(ckpt, file_layout_is_as_documented) {
    const char *dir = tu_tmpdir("ckpt-fmt");
    const char *path = path_in(dir, "checkpoint");
    rt_ckpt *ck = rt_ckpt_new();
    const unsigned char data[3] = {0xAA, 0xBB, 0xCC};
    rt_ckpt_put(ck, "ab", data, 3);
    rt_err err;
    rt_err_clear(&err);
    cr_assert_eq(rt_ckpt_save(ck, path, &err), RT_OK, "%s", err.msg);
    rt_ckpt_free(ck);

    size_t size;
    unsigned char *b = (unsigned char *)tu_read_file(path, &size);
    cr_assert_not_null(b);
    // "VIBCKPT1" u32 1, u32 1, u32 2 "ab", u64 3, AA BB CC, u32 crc
    const unsigned char head[] = {'V', 'I', 'B', 'C', 'K', 'P', 'T', '1', 1, 0, 0, 0, 1, 0, 0, 0,
                                  2, 0, 0, 0, 'a', 'b', 3, 0, 0, 0, 0, 0, 0, 0, 0xAA, 0xBB, 0xCC};
    cr_assert_eq(size, sizeof head + 4);
    cr_assert_eq(memcmp(b, head, sizeof head), 0);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), head, sizeof head);
    uint32_t stored = (uint32_t)b[33] | (uint32_t)b[34] << 8 | (uint32_t)b[35] << 16 |
                      (uint32_t)b[36] << 24;
    cr_assert_eq(stored, (uint32_t)crc);
    free(b);
    cleanup(dir);
}

// ---- reading errors ----

Test(ckpt, missing_blob_and_size_mismatch) {
    const char *dir = tu_tmpdir("ckpt-get");
    const char *path = path_in(dir, "checkpoint");
    save_sample(path, 1.0f);
    rt_err err;
    rt_err_clear(&err);
    rt_ckpt *ck = rt_ckpt_load(path, &err);
    cr_assert_not_null(ck);
    float buf[101];
    cr_assert_eq(rt_ckpt_get(ck, "adam_m", buf, sizeof buf, &err), RT_ERR_FORMAT);
    cr_assert_not_null(strstr(err.msg, "adam_m"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
    rt_err_clear(&err);
    cr_assert_eq(rt_ckpt_get(ck, "params", buf, 101 * sizeof(float), &err), RT_ERR_FORMAT);
    cr_assert_not_null(strstr(err.msg, "params"), "%s", err.msg);
    cr_assert_not_null(strstr(err.msg, "400"), "message should give the sizes: %s", err.msg);
    rt_ckpt_free(ck);
    cleanup(dir);
}

Test(ckpt, missing_file_is_io_error) {
    const char *dir = tu_tmpdir("ckpt-miss");
    const char *path = path_in(dir, "nothing-here");
    expect_load_error(path, RT_ERR_IO, NULL);
    cleanup(dir);
}

Test(ckpt, truncated_file_is_format_error) {
    const char *dir = tu_tmpdir("ckpt-trunc");
    const char *path = path_in(dir, "checkpoint"), *cut = path_in(dir, "cut");
    save_sample(path, 1.0f);
    size_t size;
    char *b = tu_read_file(path, &size);
    // At every length short of the full file: empty, inside the header, inside a name, inside a
    // blob, just before the CRC.
    for (size_t len = 0; len < size; len++) {
        tu_write_file(cut, b, len);
        expect_load_error(cut, RT_ERR_FORMAT, NULL);
    }
    tu_write_file(cut, b, size);
    check_sample(cut, 1.0f);
    free(b);
    cleanup(dir);
}

Test(ckpt, flipped_byte_is_crc_error) {
    const char *dir = tu_tmpdir("ckpt-flip");
    const char *path = path_in(dir, "checkpoint"), *bad = path_in(dir, "bad");
    save_sample(path, 1.0f);
    size_t size;
    char *b = tu_read_file(path, &size);
    // One bit in the float data: the layout still parses, so only the CRC can catch it.
    b[40] ^= 0x01;
    tu_write_file(bad, b, size);
    expect_load_error(bad, RT_ERR_FORMAT, "CRC");
    b[40] ^= 0x01;
    // Any single damaged byte, anywhere, is refused (magic, version, lengths, data, CRC).
    for (size_t i = 0; i < size; i++) {
        b[i] ^= 0x5A;
        tu_write_file(bad, b, size);
        expect_load_error(bad, RT_ERR_FORMAT, NULL);
        b[i] ^= 0x5A;
    }
    free(b);
    cleanup(dir);
}

Test(ckpt, wrong_magic_and_trailing_bytes) {
    const char *dir = tu_tmpdir("ckpt-magic");
    const char *bad = path_in(dir, "bad");
    tu_write_file(bad, "hello, this is not a checkpoint", 31);
    expect_load_error(bad, RT_ERR_FORMAT, "not a vibrun checkpoint");
    const char *path = path_in(dir, "checkpoint");
    save_sample(path, 1.0f);
    size_t size;
    char *b = tu_read_file(path, &size);
    char *longer = malloc(size + 8);
    memcpy(longer, b, size);
    memset(longer + size, 0, 8);
    tu_write_file(bad, longer, size + 8);
    expect_load_error(bad, RT_ERR_FORMAT, NULL);
    free(longer);
    free(b);
    cleanup(dir);
}

// ---- failed saves keep the old checkpoint ----

Test(ckpt, save_into_missing_directory_fails_cleanly) {
    const char *dir = tu_tmpdir("ckpt-nodir");
    const char *path = path_in(dir, "no/such/dir/checkpoint");
    rt_err err;
    rt_err_clear(&err);
    rt_ckpt *ck = sample(1.0f);
    cr_assert_eq(rt_ckpt_save(ck, path, &err), RT_ERR_IO);
    cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
    cr_assert(!exists(path));
    rt_ckpt_free(ck);
    cleanup(dir);
}

Test(ckpt, failed_write_keeps_old_checkpoint) {
    // checkpoint.tmp is a link to /dev/full, so every write of the new checkpoint fails (ENOSPC)
    // after the file was opened: the error path must remove the tmp and keep the old file.
    if (!exists("/dev/full")) tu_skip("no /dev/full");
    const char *dir = tu_tmpdir("ckpt-full");
    const char *path = path_in(dir, "checkpoint"), *tmp = path_in(dir, "checkpoint.tmp");
    save_sample(path, 1.0f);
    cr_assert_eq(symlink("/dev/full", tmp), 0);
    rt_err err;
    rt_err_clear(&err);
    rt_ckpt *ck = sample(2.0f);
    cr_assert_eq(rt_ckpt_save(ck, path, &err), RT_ERR_IO);
    cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
    rt_ckpt_free(ck);
    cr_assert(!exists(tmp), "the .tmp was left behind");
    check_sample(path, 1.0f);
    cleanup(dir);
}

Test(ckpt, failed_rename_keeps_old_and_removes_tmp) {
    // The destination is a non-empty directory: writing succeeds, rename fails.
    const char *dir = tu_tmpdir("ckpt-ren");
    const char *path = path_in(dir, "checkpoint"), *tmp = path_in(dir, "checkpoint.tmp");
    cr_assert_eq(mkdir(path, 0755), 0);
    tu_write_file(path_in(dir, "checkpoint/keep"), "x", 1);
    rt_err err;
    rt_err_clear(&err);
    rt_ckpt *ck = sample(1.0f);
    cr_assert_eq(rt_ckpt_save(ck, path, &err), RT_ERR_IO);
    cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
    rt_ckpt_free(ck);
    cr_assert(!exists(tmp), "the .tmp was left behind");
    cr_assert(exists(path_in(dir, "checkpoint/keep")));
    cleanup(dir);
}

/* The save into an unwritable directory, as a process without the right to write there: 0 when
** it failed with RT_ERR_IO, named the file and left no .tmp (the caller checks the old file). */
static int save_denied(const char *path, const char *tmp) {
    rt_err err;
    rt_err_clear(&err);
    rt_ckpt *ck = sample(2.0f);
    rt_status st = rt_ckpt_save(ck, path, &err);
    rt_ckpt_free(ck);
    return st == RT_ERR_IO && strstr(err.msg, path) && !exists(tmp) ? 0 : 1;
}

/* Root writes anywhere: the save then runs in a child that dropped to the user nobody, in a
** directory under /tmp that nobody can reach (and not write). */
Test(ckpt, unwritable_directory_keeps_old_checkpoint) {
    bool root = geteuid() == 0;
    char rootdir[64] = "/tmp/vib-ckpt-ro-XXXXXX";
    const char *dir = root ? mkdtemp(rootdir) : tu_tmpdir("ckpt-ro");
    cr_assert_not_null(dir);
    char path[600], tmp[600];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    snprintf(tmp, sizeof tmp, "%s/checkpoint.tmp", dir);
    save_sample(path, 1.0f);
    cr_assert_eq(chmod(path, 0644), 0);
    cr_assert_eq(chmod(dir, 0555), 0);
    int code;
    if (!root) {
        code = save_denied(path, tmp);
    } else {
        const struct passwd *pw = getpwnam("nobody");
        uid_t uid = pw ? pw->pw_uid : 65534;
        gid_t gid = pw ? pw->pw_gid : 65534;
        fflush(NULL);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0 || geteuid() == 0) _exit(3);
            _exit(save_denied(path, tmp));
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status), "the unprivileged child died");
        code = WEXITSTATUS(status);
        cr_assert_neq(code, 3, "cannot drop to the user nobody (uid %d)", (int)uid);
    }
    chmod(dir, 0755);
    cr_assert_eq(code, 0, "the save into a read-only directory did not fail cleanly");
    check_sample(path, 1.0f);
    cleanup(dir);
}
