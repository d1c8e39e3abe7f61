/*
** test_dataget.c: `vibrun data get mnist | fashion-mnist | cifar10`, offline. The test builds small
** data sets in the official formats (gzip IDX files; a tar.gz of the six CIFAR-10 batches) and
** serves them from a loopback HTTP server of its own (below: GET with Range, and a switch that
** drops a connection halfway once), through VIB_DATA_URL, with their MD5s given by
** VIB_DATA_TEST_MD5. It checks a download, a checksum failure that leaves nothing, an interrupted
** download that the next call resumes (the server sees the Range request), the guard on the test
** checksums, and the message of a script whose data set is missing (nothing written in runs/).
*/
#define _DEFAULT_SOURCE                 /* prctl needs nothing more; kill, fork */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

#define ASSERT_OUT(sub) cr_assert(strstr(out, (sub)) != NULL, "output lacks \"%s\":\n%s", (sub), out)
#define ASSERT_NOT_OUT(sub) cr_assert(strstr(out, (sub)) == NULL, "output has \"%s\":\n%s", (sub), out)

static char out[1 << 16];

/* A fresh absolute temporary folder. */
static const char *abs_tmpdir(const char *tag) {
    static char abs[2 * PATH_MAX];
    char cwd[PATH_MAX];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(abs, sizeof abs, "%s/%s", cwd, tu_tmpdir(tag));
    return abs;
}

static void sh(const char *fmt, const char *a, const char *b) {
    char cmd[4 * PATH_MAX];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s failed:\n%s", cmd, out);
}

static long long size_of(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* The names in a folder, sorted, one a line ("" when empty; "-" when it does not exist). */
static const char *listing(const char *dir) {
    static char buf[4096];
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "[ -d '%s' ] && ls -A '%s' || echo -", dir, dir);
    tu_run(cmd, buf, sizeof buf);
    return buf;
}

// ---- the loopback HTTP server ----

/* Serves the files of root: GET /PATH with an optional "Range: bytes=N-" (206 Partial Content).
** Each request line is appended to root/requests.log, with its Range. When root/drop-FILE exists, a
** GET of FILE without a Range gets the full headers but only half the body, then the connection is
** closed, and the switch file is removed (it drops once). */
static void serve_one(int c, const char *root) {
    char req[4096];
    size_t n = 0;
    while (n + 1 < sizeof req) {
        ssize_t k = read(c, req + n, sizeof req - 1 - n);
        if (k <= 0) break;
        n += (size_t)k;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n")) break;
    }
    req[n] = '\0';
    char path[512] = "", file[PATH_MAX + 600], log[PATH_MAX + 64], drop[PATH_MAX + 600];
    long long from = -1;
    sscanf(req, "GET /%511s", path);
    const char *range = strstr(req, "Range: bytes=");
    if (range) from = atoll(range + 13);
    snprintf(log, sizeof log, "%s/requests.log", root);
    FILE *lf = fopen(log, "a");
    if (lf) fprintf(lf, "GET /%s range=%lld\n", path, from), fclose(lf);
    snprintf(file, sizeof file, "%s/%s", root, path);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    snprintf(drop, sizeof drop, "%s/drop-%s", root, base);
    size_t size = 0;
    char *body = strstr(path, "..") ? NULL : tu_read_file(file, &size);
    char head[512];
    if (!body) {
        const char *msg = "not found\n";
        snprintf(head, sizeof head, "HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 strlen(msg), msg);
        if (write(c, head, strlen(head)) < 0) return;
        return;
    }
    size_t start = 0, send = size;
    if (from >= 0 && (size_t)from >= size) {
        snprintf(head, sizeof head, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%zu\r\n"
                 "Content-Length: 0\r\nConnection: close\r\n\r\n", size);
        send = 0;
    } else if (from >= 0) {
        start = (size_t)from;
        send = size - start;
        snprintf(head, sizeof head, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %zu-%zu/%zu\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n", start, size - 1, size, send);
    } else {
        snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nAccept-Ranges: bytes\r\n"
                 "Connection: close\r\n\r\n", size);
        if (access(drop, F_OK) == 0) {
            unlink(drop);
            send = size / 2;
        }
    }
    bool ok = write(c, head, strlen(head)) == (ssize_t)strlen(head);
    for (size_t done = 0; ok && done < send;) {
        ssize_t k = write(c, body + start + done, send - done);
        if (k <= 0) break;
        done += (size_t)k;
    }
    free(body);
}

/* Starts the server on 127.0.0.1 (a port the kernel chooses) in a child that dies with this
** process; returns its pid, *port the port. */
static pid_t server_start(const char *root, int *port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0, "bind: %s", strerror(errno));
    cr_assert_eq(listen(s, 16), 0);
    socklen_t len = sizeof a;
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGPIPE, SIG_IGN);
        for (;;) {
            int c = accept(s, NULL, NULL);
            if (c < 0) continue;
            serve_one(c, root);
            close(c);
        }
    }
    close(s);
    return pid;
}

static void server_stop(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

// ---- small data sets in the official formats ----

static void be32(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* An IDX pair of n 28x28 images (pixel values from seed) and labels, gzip-compressed, in dir. */
static void write_idx(const char *dir, const char *split, int n, unsigned seed) {
    char path[PATH_MAX + 64];
    unsigned char h[16];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, split);
    gzFile f = gzopen(path, "wb");
    cr_assert_not_null(f);
    be32(h, 0x803), be32(h + 4, (unsigned)n), be32(h + 8, 28), be32(h + 12, 28);
    gzwrite(f, h, 16);
    for (int i = 0; i < n * 784; i++) {
        unsigned char px = (unsigned char)((unsigned)i * 2654435761u + seed) >> 3;
        gzwrite(f, &px, 1);
    }
    cr_assert_eq(gzclose(f), Z_OK);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    f = gzopen(path, "wb");
    cr_assert_not_null(f);
    be32(h, 0x801), be32(h + 4, (unsigned)n);
    gzwrite(f, h, 8);
    for (int i = 0; i < n; i++) {
        unsigned char y = (unsigned char)((unsigned)i % 10);
        gzwrite(f, &y, 1);
    }
    cr_assert_eq(gzclose(f), Z_OK);
}

/* root/NAME/: the four IDX files of a 30 + 20 example set; their MD5s appended to md5s. */
static void make_idx_set(const char *root, const char *name, const char *md5s, unsigned seed) {
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    sh("mkdir -p '%s'%s", dir, "");
    write_idx(dir, "train", 30, seed);
    write_idx(dir, "t10k", 20, seed + 1);
    sh("cd '%s' && md5sum *.gz >> '%s'", dir, md5s);
}

/* root/cifar10/cifar-10-binary.tar.gz: cifar-10-batches-bin/ with the six batches of 7 records each
** (label i % 10, pixels from the batch), made by tar; batches/ keeps the files to compare against. */
static void make_cifar(const char *root, const char *md5s) {
    char dir[PATH_MAX + 64], path[PATH_MAX + 128];
    static const char *const names[] = { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                         "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin" };
    snprintf(dir, sizeof dir, "%s/src/cifar-10-batches-bin", root);
    sh("mkdir -p '%s' '%s/cifar10'", dir, root);
    static unsigned char rec[7 * 3073];
    for (int b = 0; b < 6; b++) {
        for (int r = 0; r < 7; r++) {
            rec[r * 3073] = (unsigned char)(r % 10);
            for (int p = 0; p < 3072; p++) rec[r * 3073 + 1 + p] = (unsigned char)(p * 7 + r * 13 + b * 31);
        }
        snprintf(path, sizeof path, "%s/%s", dir, names[b]);
        tu_write_file(path, rec, sizeof rec);
    }
    snprintf(path, sizeof path, "%s/batches.meta.txt", dir);
    tu_write_file(path, "airplane\n", 9);
    sh("cd '%s/src' && tar -czf ../cifar10/cifar-10-binary.tar.gz cifar-10-batches-bin", root, "");
    sh("cd '%s/cifar10' && md5sum cifar-10-binary.tar.gz >> '%s'", root, md5s);
}

/* Runs `env ENV vibrun ARGS` in dir; output into out; the exit code. */
static int vibrun(const char *dir, const char *env, const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && env %s '%s' %s 2>&1", dir, env, tu_vibrun(), args);
    return tu_run(cmd, out, sizeof out);
}

/* dir/FILE: an experiment named after FILE's first letter, one epoch, `lines` (params, data) from
** line 4 on, and a linear model. */
static void write_experiment(const char *dir, const char *file, const char *lines) {
    char path[PATH_MAX + 64], text[2048];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(text, sizeof text, "local vib = require \"vib\"\nreturn vib.experiment {\n  name = \"%.1s\", epochs = 1,\n"
             "%s  model = vib.seq { vib.linear { out = 10 } },\n}\n", file, lines);
    tu_write_file(path, text, strlen(text));
}

static void need_curl(void) {
    if (tu_run("command -v curl >/dev/null", NULL, 0) != 0) tu_skip("curl is not installed");
}

/* The served folder (root/NAME/...) and the environment of a data get against it. */
typedef struct fixture {
    char dir[PATH_MAX], root[PATH_MAX + 16], md5s[PATH_MAX + 32], env[4 * PATH_MAX];
    pid_t server;
} fixture;

static void fixture_open(fixture *f, const char *tag) {
    need_curl();
    snprintf(f->dir, sizeof f->dir, "%s", abs_tmpdir(tag));
    snprintf(f->root, sizeof f->root, "%s/www", f->dir);
    snprintf(f->md5s, sizeof f->md5s, "%s/md5.txt", f->dir);
    sh("mkdir -p '%s' && : > '%s'", f->root, f->md5s);
    int port;
    f->server = server_start(f->root, &port);
    snprintf(f->env, sizeof f->env, "HOME='%s/home' VIB_DATA='%s/vd' VIB_DATA_URL=http://127.0.0.1:%d "
             "VIB_DATA_TEST_MD5='%s'", f->dir, f->dir, port, f->md5s);
}

// ---- the tests ----

Test(dataget, mnist_downloads_verifies_and_is_found) {
    fixture f;
    fixture_open(&f, "dgmnist");
    make_idx_set(f.root, "mnist", f.md5s, 1);
    cr_assert_eq(vibrun(f.dir, f.env, "data get mnist"), 0, "%s", out);
    ASSERT_OUT("checking the test's own MD5s");
    ASSERT_OUT("mnist: installed in ");
    char a[PATH_MAX + 128], b[PATH_MAX + 128], vd[PATH_MAX + 32];
    static const char *const files[] = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "%s/vd/mnist/%s", f.dir, files[i]);
        snprintf(b, sizeof b, "%s/mnist/%s", f.root, files[i]);
        tu_expect_same_file(a, b);
    }
    snprintf(vd, sizeof vd, "%s/vd/mnist", f.dir);
    cr_assert_str_eq(listing(vd), "t10k-images-idx3-ubyte.gz\nt10k-labels-idx1-ubyte.gz\n"
                     "train-images-idx3-ubyte.gz\ntrain-labels-idx1-ubyte.gz\n", "%s", listing(vd));
    /* again: verified in place, nothing fetched */
    cr_assert_eq(vibrun(f.dir, f.env, "data get mnist"), 0, "%s", out);
    ASSERT_OUT("mnist: already installed in");
    ASSERT_OUT("(MD5 verified)");
    char env[4 * PATH_MAX];
    /* a script without dir finds it through VIB_DATA */
    write_experiment(f.dir, "m.lua", "  data = vib.data.mnist {},\n");
    cr_assert_eq(vibrun(f.dir, f.env, "--check m.lua"), 0, "%s", out);
    ASSERT_OUT("train 30 x 784, test 20");
    /* a copy in ./data/mnist comes before ~/.cache/vibrun/mnist in the search: nothing to fetch */
    snprintf(env, sizeof env, "HOME='%s/home' VIB_DATA= VIB_DATA_URL=http://127.0.0.1:1 VIB_DATA_TEST_MD5='%s'",
             f.dir, f.md5s);
    sh("cd '%s' && mkdir -p data && cp -r vd/mnist data/%s", f.dir, "");
    cr_assert_eq(vibrun(f.dir, env, "data get mnist"), 0, "%s", out);
    ASSERT_OUT("mnist: already installed in ./data/mnist (the four IDX files), which the search finds before");
    /* uncompressed copies in the target folder are used as they are, not downloaded again */
    snprintf(env, sizeof env, "HOME='%s/home' VIB_DATA='%s/vd3' VIB_DATA_URL=http://127.0.0.1:1 "
             "VIB_DATA_TEST_MD5='%s'", f.dir, f.dir, f.md5s);
    sh("cd '%s' && mkdir -p vd3 && cp -r vd/mnist vd3/ && gunzip vd3/mnist/*.gz%s", f.dir, "");
    cr_assert_eq(vibrun(f.dir, env, "data get mnist"), 0, "%s", out);
    ASSERT_OUT("mnist: already installed in");
    ASSERT_OUT("not the published .gz files: not verified");
    /* published checksums for a real mirror: the test's file is refused with any other URL */
    snprintf(env, sizeof env, "HOME='%s/home' VIB_DATA='%s/vd2' VIB_DATA_URL='file://%s' VIB_DATA_TEST_MD5='%s'",
             f.dir, f.dir, f.root, f.md5s);
    cr_assert_eq(vibrun(f.dir, env, "data get mnist"), 2, "%s", out);
    ASSERT_OUT("VIB_DATA_TEST_MD5 replaces the published checksums");
    snprintf(vd, sizeof vd, "%s/vd2", f.dir);
    cr_assert_str_eq(listing(vd), "-\n", "%s", listing(vd));
    /* and without it, the published MD5s reject the test's files: nothing is left */
    snprintf(env, sizeof env, "HOME='%s/home' VIB_DATA='%s/vd2' VIB_DATA_URL='file://%s'", f.dir, f.dir, f.root);
    cr_assert_eq(vibrun(f.dir, env, "data get mnist"), 1, "%s", out);
    ASSERT_OUT("but the published one is f68b3c2dcbeaaa9fbdd348bbdeb94873");
    cr_assert_str_eq(listing(vd), "-\n", "%s", listing(vd));
    server_stop(f.server);
}

Test(dataget, checksum_failure_leaves_nothing) {
    fixture f;
    fixture_open(&f, "dgbad");
    make_idx_set(f.root, "fashion-mnist", f.md5s, 5);
    /* the third file served is another one than the checksums name */
    char p[PATH_MAX + 64], vd[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/fashion-mnist", f.root);
    sh("cd '%s' && cp train-images-idx3-ubyte.gz t10k-images-idx3-ubyte.gz%s", p, "");
    cr_assert_eq(vibrun(f.dir, f.env, "data get fashion-mnist"), 1, "%s", out);
    ASSERT_OUT("t10k-images-idx3-ubyte.gz has MD5");
    ASSERT_OUT("not installed");
    ASSERT_OUT("Without network here, fetch on another machine:");
    ASSERT_OUT("https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
               "t10k-images-idx3-ubyte.gz");
    /* the folder this command made is gone, with the two verified files fetched before */
    snprintf(vd, sizeof vd, "%s/vd", f.dir);
    cr_assert_str_eq(listing(vd), "-\n", "left behind: %s", listing(vd));
    /* into a folder that exists: it stays, empty */
    snprintf(vd, sizeof vd, "%s/vd/fashion-mnist", f.dir);
    sh("mkdir -p '%s'%s", vd, "");
    cr_assert_eq(vibrun(f.dir, f.env, "data get fashion-mnist"), 1, "%s", out);
    cr_assert_str_eq(listing(vd), "", "left behind: %s", listing(vd));
    /* a damaged file already in place is reported and kept, not overwritten */
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", vd);
    tu_write_file(p, "junk", 4);
    cr_assert_eq(vibrun(f.dir, f.env, "data get fashion-mnist"), 1, "%s", out);
    ASSERT_OUT("train-labels-idx1-ubyte.gz exists but its MD5 is");
    cr_assert_eq(size_of(p), 4);
    server_stop(f.server);
}

Test(dataget, cifar10_interrupted_then_resumed_and_unpacked) {
    fixture f;
    fixture_open(&f, "dgcifar");
    make_cifar(f.root, f.md5s);
    char drop[PATH_MAX + 64], part[PATH_MAX + 96], vd[PATH_MAX + 32], log[PATH_MAX + 64];
    snprintf(drop, sizeof drop, "%s/drop-cifar-10-binary.tar.gz", f.root);
    tu_write_file(drop, "", 0);
    /* the server drops the connection halfway: the call fails, what arrived stays as .part */
    cr_assert_eq(vibrun(f.dir, f.env, "data get cifar10"), 1, "%s", out);
    ASSERT_OUT("stopped");
    ASSERT_OUT("the same command resumes it");
    ASSERT_OUT("data get cifar10 again to resume");
    snprintf(part, sizeof part, "%s/vd/cifar10/.cifar-10-binary.tar.gz.part", f.dir);
    char archive[PATH_MAX + 64];
    snprintf(archive, sizeof archive, "%s/cifar10/cifar-10-binary.tar.gz", f.root);
    long long half = size_of(part), full = size_of(archive);
    cr_assert(half > 0 && half < full, "part %lld of %lld bytes", half, full);
    snprintf(vd, sizeof vd, "%s/vd/cifar10", f.dir);
    cr_assert_str_eq(listing(vd), ".cifar-10-binary.tar.gz.part\n", "%s", listing(vd));
    /* the second call asks for the rest (Range from where it stopped), verifies and unpacks */
    cr_assert_eq(vibrun(f.dir, f.env, "data get cifar10"), 0, "%s", out);
    ASSERT_OUT("resuming");
    ASSERT_OUT("cifar10: installed");
    snprintf(log, sizeof log, "%s/requests.log", f.root);
    char want[128], *text = tu_read_file(log, NULL);
    snprintf(want, sizeof want, "GET /cifar10/cifar-10-binary.tar.gz range=%lld\n", half);
    cr_assert(text && strstr(text, want), "no resumed request \"%s\" in:\n%s", want, text ? text : "");
    free(text);
    cr_assert_str_eq(listing(vd), "cifar-10-batches-bin\n", "%s", listing(vd));
    char a[PATH_MAX + 128], b[PATH_MAX + 128];
    snprintf(a, sizeof a, "%s/cifar-10-batches-bin/test_batch.bin", vd);
    snprintf(b, sizeof b, "%s/src/cifar-10-batches-bin/test_batch.bin", f.root);
    tu_expect_same_file(a, b);
    /* found by a script, and a second get knows it is there */
    write_experiment(f.dir, "c.lua", "  data = vib.data.cifar10 {},\n");
    cr_assert_eq(vibrun(f.dir, f.env, "--check c.lua"), 0, "%s", out);
    ASSERT_OUT("train 35 x 3072, test 7");
    cr_assert_eq(vibrun(f.dir, f.env, "data get cifar10"), 0, "%s", out);
    ASSERT_OUT("cifar10: already installed");
    server_stop(f.server);
}

Test(dataget, cifar10_bad_archive_leaves_nothing) {
    fixture f;
    fixture_open(&f, "dgcbad");
    /* an archive whose MD5 matches but that holds no batches: nothing unpacked stays */
    char dir[PATH_MAX + 64], vd[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/src/other", f.root);
    sh("mkdir -p '%s' '%s/cifar10'", dir, f.root);
    sh("cd '%s/src' && echo x > other/readme && tar -czf ../cifar10/cifar-10-binary.tar.gz other%s", f.root, "");
    sh("cd '%s/cifar10' && md5sum cifar-10-binary.tar.gz > '%s'", f.root, f.md5s);
    cr_assert_eq(vibrun(f.dir, f.env, "data get cifar10"), 1, "%s", out);
    ASSERT_OUT("the archive holds no cifar-10-batches-bin/data_batch_1.bin");
    ASSERT_OUT("nothing unpacked");
    snprintf(vd, sizeof vd, "%s/vd/cifar10", f.dir);
    cr_assert_str_eq(listing(vd), ".cifar-10-binary.tar.gz.part\n", "%s", listing(vd));
    server_stop(f.server);
}

Test(dataget, usage_lists_what_it_gets) {
    const char *dir = abs_tmpdir("dgusage");
    cr_assert_eq(vibrun(dir, "", "data get"), 0, "%s", out);
    ASSERT_OUT("cifar10");
    ASSERT_OUT("fashion-mnist");
    ASSERT_OUT("mnist ");
    ASSERT_OUT("tishby");
    cr_assert_eq(vibrun(dir, "", "data get imagenet"), 2, "%s", out);
    ASSERT_OUT("unknown data set 'imagenet'");
    ASSERT_OUT("cifar10 ");
}

/* The same with wget, where there is no curl: a folder on PATH holding only wget and the tools
** data get runs (md5sum, tar, gzip). wget retries a dropped connection itself, asking for the rest;
** a .part left by an earlier call is continued (wget -c). */
Test(dataget, wget_resumes_too) {
    if (tu_run("command -v wget >/dev/null", NULL, 0) != 0) tu_skip("wget is not installed");
    fixture f;
    fixture_open(&f, "dgwget");
    make_cifar(f.root, f.md5s);
    char bin[PATH_MAX + 16], env[5 * PATH_MAX], drop[PATH_MAX + 64], log[PATH_MAX + 64], want[128];
    snprintf(bin, sizeof bin, "%s/bin", f.dir);
    sh("mkdir -p '%s' && cd '%s' && for t in wget md5sum tar gzip; do ln -s \"$(command -v $t)\" $t; done", bin, bin);
    snprintf(env, sizeof env, "PATH='%s' %s", bin, f.env);
    snprintf(drop, sizeof drop, "%s/drop-cifar-10-binary.tar.gz", f.root);
    tu_write_file(drop, "", 0);
    cr_assert_eq(vibrun(f.dir, env, "data get cifar10"), 0, "%s", out);
    ASSERT_OUT("cifar10: installed");
    char archive[PATH_MAX + 64], *text;
    snprintf(archive, sizeof archive, "%s/cifar10/cifar-10-binary.tar.gz", f.root);
    long long full = size_of(archive);
    snprintf(log, sizeof log, "%s/requests.log", f.root);
    snprintf(want, sizeof want, "GET /cifar10/cifar-10-binary.tar.gz range=%lld\n", full / 2);
    text = tu_read_file(log, NULL);
    cr_assert(text && strstr(text, want), "no resumed request \"%s\" in:\n%s", want, text ? text : "");
    free(text);
    /* a .part of the first 1000 bytes, as an interrupted call leaves it, is continued */
    sh("rm -rf '%s/vd' '%s/requests.log'", f.dir, f.root);
    char part[PATH_MAX + 96];
    snprintf(part, sizeof part, "%s/vd/cifar10/.cifar-10-binary.tar.gz.part", f.dir);
    sh("mkdir -p '%s/vd/cifar10'%s", f.dir, "");
    sh("head -c 1000 '%s' > '%s'", archive, part);
    cr_assert_eq(vibrun(f.dir, env, "data get cifar10"), 0, "%s", out);
    ASSERT_OUT("resuming");
    text = tu_read_file(log, NULL);
    cr_assert(text && strstr(text, "range=1000\n"), "no resumed request in:\n%s", text ? text : "");
    free(text);
    server_stop(f.server);
}

/* A script whose data set is found nowhere: the message names `vibrun data get NAME` and, where
** the script reads its folder from a data_dir param, `--set data_dir=`; nothing is written in runs/. */
Test(dataget, missing_data_set_message_writes_nothing) {
    const char *dir = abs_tmpdir("dgmissing");
    char env[PATH_MAX + 64];
    snprintf(env, sizeof env, "HOME='%s/home' VIB_DATA=", dir);
    write_experiment(dir, "c.lua", "  params = { data_dir = \"\" },\n"
                     "  data = function(p) return vib.data.cifar10 { dir = p.data_dir ~= \"\" and p.data_dir or nil } end,\n");
    cr_assert_eq(vibrun(dir, env, "c.lua"), 1, "%s", out);
    ASSERT_OUT("c.lua:5: cifar10: data set not found");
    ASSERT_OUT("vibrun data get cifar10");
    ASSERT_OUT("c.lua --set data_dir=FOLDER");
    cr_assert_str_eq(listing(dir), "c.lua\n", "written: %s", listing(dir));
    /* the same with the folder given, and with --check */
    cr_assert_eq(vibrun(dir, env, "c.lua --set data_dir=nowhere"), 1, "%s", out);
    ASSERT_OUT("nowhere: no such directory");
    ASSERT_OUT("--set data_dir=FOLDER");
    cr_assert_eq(vibrun(dir, env, "--check c.lua"), 1, "%s", out);
    ASSERT_OUT("vibrun data get cifar10");
    cr_assert_str_eq(listing(dir), "c.lua\n", "written: %s", listing(dir));
    /* a script without such a param is not told to set one */
    write_experiment(dir, "m.lua", "  data = vib.data.mnist { dir = \"nowhere\" },\n");
    cr_assert_eq(vibrun(dir, env, "m.lua"), 1, "%s", out);
    ASSERT_OUT("m.lua:4: mnist: data set not found");
    ASSERT_OUT("vibrun data get mnist");
    ASSERT_NOT_OUT("data_dir");
    cr_assert_str_eq(listing(dir), "c.lua\nm.lua\n", "written: %s", listing(dir));
}
