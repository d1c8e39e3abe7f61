// lb_data.c: `vibrun data list` (which data sets are installed where, in the search order of
// nn_data.h) and `vibrun data get NAME` (download, verify, install).
//
// Every download goes with curl (wget where there is no curl) into a hidden .part file in the
// target folder, $VIB_DATA/NAME, or $HOME/.cache/vibrun/NAME without VIB_DATA (the last place the
// search of nn_data.h looks). A checksum is computed by coreutils (md5sum, sha256sum: the project's
// one hash implementation, already needed by `data get tishby`; no hash library is linked), and a
// file is renamed into place only when it matches the published one.
//
// data get tishby: the authors' var_u.mat; its SHA-256, then read back with the MAT reader. Where
// master's data/var_u.mat cannot be had (HTTP error, other bytes), the copy at the commit that first
// added the file (source/var_u.mat) is tried; the checksum decides. VIB_TISHBY_URL replaces both
// (curl also reads file:// URLs, which is how the tests run it offline).
//
// data get mnist | fashion-mnist | cifar10: the official archives and their published MD5s (no
// SHA-256 is published for them). An interrupted download stays as .NAME.part and the next call
// resumes it (curl -C -, wget -c); a wrong checksum removes every .part of the set, and the folder
// when this command made it. The four IDX .gz files are installed as they are (nn_data_idx.c reads
// gzip); cifar-10-binary.tar.gz is unpacked by the system tar (GNU tar is in every Debian install)
// into a hidden folder, its six batches checked, and cifar-10-batches-bin renamed into place, so a
// failure never leaves half a folder. VIB_DATA_URL replaces the official hosts: the files are then
// fetched from $VIB_DATA_URL/NAME/FILE (a mirror, or a file:// copy of the files).
#define _XOPEN_SOURCE 700               /* nftw */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lb_impl.h"
#include "rt_text.h"

#define TISHBY_URL "https://raw.githubusercontent.com/ravidziv/IDNNs/master/data/var_u.mat"
#define TISHBY_URL_OLD \
    "https://raw.githubusercontent.com/ravidziv/IDNNs/8c3c7641e6cf911af7502bccd8bd9ae75f68ee87/source/var_u.mat"
/* sha256sum of var_u.mat as the authors publish it (1003 bytes; variables F 4096x12, y 1x4096). */
#define TISHBY_SHA256 "0ba9551878a855396a8de0cbaae620788ede1e7b1eb2b8373bbe017d5ea02036"

static const char *const data_names[] = { "fashion-mnist", "mnist", "cifar10", "tishby" };

static const char *how_to_get(const char *name) {
    static char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "%s data get %s%s", lb_cmd(), name,
             strcmp(name, "fashion-mnist") == 0 ? " (or apt-get install dataset-fashion-mnist)" : "");
    return cmd;
}

// ---- vibrun data list ----

static int data_list(void) {
    for (int i = 0; i < (int)(sizeof data_names / sizeof data_names[0]); i++) {
        const char *name = data_names[i];
        char dirs[NN_DATA_MAX_SEARCH][NN_PATH_MAX], file[256];
        int nd = nn_data_search_dirs(name, NULL, dirs), found = 0;
        for (int d = 0; d < nd; d++) {
            int h = nn_data_dir_holds(name, dirs[d], file, sizeof file);
            if (!h) continue;
            printf("%-14s %s: %s%s\n", name, dirs[d],
                   h == 2 ? file : "the test set only (use it with resplit_test = 0.8)",
                   found ? " (not used: the folder above comes first)" : "");
            found++;
        }
        if (found) continue;
        printf("%-14s not installed; searched", name);
        for (int d = 0; d < nd; d++) printf("%s %s", d ? "," : "", dirs[d]);
        printf("; get it: %s\n", how_to_get(name));
    }
    return 0;
}

// ---- vibrun data get ----

/* Runs argv[0] (found on PATH); stdout into out (NUL-terminated) when out is non-NULL. Returns the
** exit status, 127 when the program cannot be run, -1 when fork fails. */
static int run_prog(const char *const *argv, char *out, size_t outsize) {
    int fd[2] = { -1, -1 };
    if (out && pipe(fd) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        if (out) close(fd[0]), close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        if (out) {
            dup2(fd[1], 1);
            close(fd[0]);
            close(fd[1]);
        }
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    size_t got = 0;
    if (out) {
        close(fd[1]);
        for (;;) {
            ssize_t k = read(fd[0], out + got, outsize - 1 - got);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            got += (size_t)k;
            if (got + 1 >= outsize) {
                char sink[256];
                while (read(fd[0], sink, sizeof sink) > 0) {}
                break;
            }
        }
        close(fd[0]);
        out[got] = '\0';
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The hash of path by coreutils' prog (md5sum, sha256sum) as hexlen hex digits into hex; false
** with a message otherwise. */
static bool hash_of(const char *prog, const char *path, char *hex, size_t hexlen) {
    const char *argv[] = { prog, "-b", "--", path, NULL };
    char out[1200];
    int rc = run_prog(argv, out, sizeof out);
    if (rc == 127) {
        fprintf(stderr, "vibrun: data get: %s (coreutils) not found; install coreutils\n", prog);
        return false;
    }
    size_t n = strspn(out, "0123456789abcdef");
    if (rc != 0 || n != hexlen) {
        fprintf(stderr, "vibrun: data get: %s %s failed (exit %d)\n", prog, path, rc);
        return false;
    }
    memcpy(hex, out, hexlen);
    hex[hexlen] = '\0';
    return true;
}

static bool sha256_of(const char *path, char hex[65]) { return hash_of("sha256sum", path, hex, 64); }
static bool md5_of(const char *path, char hex[33]) { return hash_of("md5sum", path, hex, 32); }

/* Removes the folders rt_mkdir_p made (from target up to `created`) if they are empty. */
static void undo_mkdir(const char *target, const char *created) {
    if (!created[0]) return;
    char p[NN_PATH_MAX];
    snprintf(p, sizeof p, "%s", target);
    size_t stop = strlen(created);
    while (strlen(p) >= stop) {
        if (rmdir(p) != 0) return;
        char *slash = strrchr(p, '/');
        if (!slash) return;
        *slash = '\0';
    }
}

/* Downloads url to path with curl, or wget where there is no curl; 0 on success, else the
** downloader's exit status (127: neither is installed). resume: continue a partial path (curl -C -,
** wget -c) rather than overwrite it. A progress bar on a terminal, nothing otherwise. */
static int download(const char *url, const char *path, bool resume) {
    bool tty = isatty(2) != 0;
    const char *curl[16] = { "curl", "-fSL", tty ? "-#" : "-s", "--retry", "2", "--connect-timeout", "30" };
    int k = 7;
    if (resume) curl[k++] = "-C", curl[k++] = "-";
    curl[k++] = "-o", curl[k++] = path, curl[k++] = "--", curl[k++] = url, curl[k] = NULL;
    int rc = run_prog(curl, NULL, 0);
    if (rc != 127) return rc;
    const char *wget[16] = { "wget", "-q", "--tries=3", "--connect-timeout=30" };
    k = 4;
    if (tty) wget[k++] = "--show-progress";
    if (resume) wget[k++] = "-c";
    wget[k++] = "-O", wget[k++] = path, wget[k++] = "--", wget[k++] = url, wget[k] = NULL;
    rc = run_prog(wget, NULL, 0);
    if (rc == 127) fprintf(stderr, "vibrun: data get: neither curl nor wget is installed\n");
    return rc;
}

/* Whether a downloader's exit status means the network (or the host) could not be reached:
** curl's resolve, connect, timeout and TLS failures, wget's network and TLS failures. */
static bool no_network(int rc) { return rc == 6 || rc == 7 || rc == 28 || rc == 35 || rc == 4 || rc == 5; }

/* The folder `data get` installs data set name into: $VIB_DATA/name, else $HOME/.cache/vibrun/name
** (the last place of the search order of nn_data.h); false with a message when neither is set. */
static bool target_dir(const char *name, char *dir, size_t size) {
    const char *env = getenv("VIB_DATA"), *home = getenv("HOME");
    if (env && *env) snprintf(dir, size, "%s/%s", env, name);
    else if (home && *home) snprintf(dir, size, "%s/.cache/vibrun/%s", home, name);
    else {
        fprintf(stderr, "vibrun: data get %s: neither VIB_DATA nor HOME is set; set VIB_DATA to the folder "
                "that should hold the data sets\n", name);
        return false;
    }
    return true;
}

static int get_tishby(void) {
    const char *url = getenv("VIB_TISHBY_URL");
    bool own_url = url && *url;
    if (!own_url) url = TISHBY_URL;
    char dir[NN_PATH_MAX], final[NN_PATH_MAX + 16], part[NN_PATH_MAX + 64], created[NN_PATH_MAX], hex[65];
    if (!target_dir("tishby", dir, sizeof dir)) return 1;
    snprintf(final, sizeof final, "%s/var_u.mat", dir);
    struct stat st;
    if (stat(final, &st) == 0) {
        if (!sha256_of(final, hex)) return 1;
        if (strcmp(hex, TISHBY_SHA256) == 0) {
            printf("tishby: already installed: %s (SHA-256 verified)\n", final);
            return 0;
        }
        fprintf(stderr, "vibrun: data get tishby: %s exists but its SHA-256 is %s, not the authors' %s; "
                "remove it and run %s data get tishby again\n", final, hex, TISHBY_SHA256, lb_cmd());
        return 1;
    }
    if (rt_mkdir_p(dir, created, sizeof created) != 0) {
        fprintf(stderr, "vibrun: data get tishby: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    snprintf(part, sizeof part, "%s/.var_u-%ld.part.mat", dir, (long)getpid());
    /* master's data/var_u.mat, then the file where the repository first kept it (pinned commit) */
    const char *urls[2] = { url, TISHBY_URL_OLD };
    int nurl = own_url ? 1 : 2, rc = 0;
    bool ok = false;
    for (int u = 0; u < nurl && !ok; u++) {
        fprintf(stderr, "tishby: downloading %s\n", urls[u]);
        rc = download(urls[u], part, false);
        ok = rc == 0;
        if (!ok && rc != 127)
            fprintf(stderr, "vibrun: data get tishby: the download of %s failed (exit %d%s).\n", urls[u], rc,
                    no_network(rc) ? ": no network?" : "");
        if (ok && (ok = sha256_of(part, hex)) && !(ok = strcmp(hex, TISHBY_SHA256) == 0))
            fprintf(stderr, "vibrun: data get tishby: %s has SHA-256 %s, but the authors' var_u.mat has %s; "
                    "not installed (a wrong URL, a proxy's error page, or a changed file)\n", urls[u], hex,
                    TISHBY_SHA256);
        if (!ok) unlink(part);
        if (rc == 127 || no_network(rc)) break;                     /* no downloader, or no network */
    }
    if (!ok)
        fprintf(stderr, "Without network, fetch %s on another machine and copy it to %s/var_u.mat "
                "(or set VIB_TISHBY_URL to a file:// URL of a copy)\n", TISHBY_URL, dir);
    if (ok) {
        nn_dataset d;
        rt_err err = { 0 };
        if (nn_tishby_load(&d, part, &err) != RT_OK) {
            fprintf(stderr, "vibrun: data get tishby: %s\n", err.msg);
            ok = false;
        } else if (d.n != 4096 || d.dim != 12 || d.nclass != 2) {
            fprintf(stderr, "vibrun: data get tishby: the file holds %d patterns of %d inputs and %d classes, "
                    "expected 4096, 12 and 2\n", d.n, d.dim, d.nclass);
            ok = false;
        }
        nn_dataset_free(&d);
    }
    if (ok && rename(part, final) != 0) {
        fprintf(stderr, "vibrun: data get tishby: cannot rename %s to %s: %s\n", part, final, strerror(errno));
        ok = false;
    }
    if (!ok) {
        unlink(part);
        undo_mkdir(dir, created);
        return 1;
    }
    printf("tishby: installed %s (SHA-256 %s verified; 4096 patterns, 12 inputs, 2 classes)\n", final, hex);
    return 0;
}

// ---- data get mnist | fashion-mnist | cifar10 ----

/* One file of a data set as its publisher serves it, and the MD5 the publisher gives for it. */
typedef struct dl_file {
    const char *name, *md5;
} dl_file;

typedef struct dl_set {
    const char *name;           /* the data set's name in vibrun (nn_data.h) */
    const char *base;           /* the official folder the files are fetched from */
    const char *what;           /* how `data get` with no name describes it */
    int nfiles;
    dl_file files[4];
    bool tar;                   /* files[0] is a .tar.gz that unpacks into cifar-10-batches-bin/ */
} dl_set;

/* The MD5s are the publishers' own:
**   CIFAR-10: https://www.cs.toronto.edu/~kriz/cifar.html, the table "Version / Size / md5sum",
**     row "CIFAR-10 binary version (suitable for C programs)".
**   MNIST: torchvision's MNIST.resources (github.com/pytorch/vision, torchvision/datasets/mnist.py),
**     for the files of yann.lecun.com and of its mirror at ossci-datasets.s3.amazonaws.com/mnist/
**     (kept by PyTorch, listed by torchvision beside the original host; used here, over HTTPS, in
**     place of yann.lecun.com); md5sum of the t10k pair of the MD5-verified sample in
**     ../shared/data/mnist-t10k gives the same values.
**   Fashion-MNIST: the table of files in the README of github.com/zalandoresearch/fashion-mnist and
**     torchvision's FashionMNIST.resources (same file, same values). The files come from the
**     repository itself (data/fashion/ on raw.githubusercontent.com, HTTPS). The .gz files of
**     Debian's dataset-fashion-mnist have other MD5s (they are not the published bytes).
** None of them publishes a SHA-256. */
static const dl_set dl_sets[] = {
    { "cifar10", "https://www.cs.toronto.edu/~kriz/", "CIFAR-10, binary version (162 MB; www.cs.toronto.edu/~kriz)",
      1, { { "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530" } }, true },
    { "mnist", "https://ossci-datasets.s3.amazonaws.com/mnist/",
      "MNIST, four IDX files (12 MB; PyTorch's mirror of yann.lecun.com/exdb/mnist)", 4,
      { { "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873" },
        { "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432" },
        { "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3" },
        { "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c" } }, false },
    { "fashion-mnist", "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
      "Fashion-MNIST, four IDX files (31 MB; github.com/zalandoresearch/fashion-mnist)", 4,
      { { "train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d" },
        { "train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe" },
        { "t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79" },
        { "t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310" } }, false },
};
#define NSETS ((int)(sizeof dl_sets / sizeof dl_sets[0]))

/* The tests' replacement of the published MD5s. VIB_DATA_TEST_MD5 names a file in md5sum's format
** ("<md5>  <file>" lines) whose values replace those of the files it names. It is honoured only
** together with VIB_DATA_URL on the loopback address (http://127.0.0.1:...), where the tests serve
** their own small archives; set in any other case, it is an error, so no user can switch the
** verification of a real download off by accident. Returns false with a message on such misuse or
** an unreadable file; md5[i] points at the value to check for files[i]. */
static bool test_md5s(const dl_set *set, const char *url, char own[4][33], const char *md5[4]) {
    for (int i = 0; i < set->nfiles; i++) md5[i] = set->files[i].md5;
    const char *path = getenv("VIB_DATA_TEST_MD5");
    if (!path || !*path) return true;
    if (!url || strncmp(url, "http://127.0.0.1:", 17) != 0) {
        fprintf(stderr, "vibrun: data get: VIB_DATA_TEST_MD5 replaces the published checksums and exists for "
                "vibrun's own tests (with VIB_DATA_URL=http://127.0.0.1:PORT); unset it\n");
        return false;
    }
    size_t len;
    char *text = rt_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "vibrun: data get: cannot read VIB_DATA_TEST_MD5=%s: %s\n", path, strerror(errno));
        return false;
    }
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        size_t hex = strspn(line, "0123456789abcdef");
        const char *file = line + hex + strspn(line + hex, " *");
        const char *slash = strrchr(file, '/');
        if (slash) file = slash + 1;
        for (int i = 0; hex == 32 && i < set->nfiles; i++) {
            if (strcmp(file, set->files[i].name) != 0) continue;
            memcpy(own[i], line, 32);
            own[i][32] = '\0';
            md5[i] = own[i];
        }
    }
    free(text);
    fprintf(stderr, "%s: checking the test's own MD5s (VIB_DATA_TEST_MD5), not the published ones\n", set->name);
    return true;
}

/* Removes path and everything under it (not following links); quiet, best effort. */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)ftw;
    if (flag == FTW_DP) rmdir(path);
    else unlink(path);
    return 0;
}

static void remove_tree(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Size of path in bytes, -1 when it does not exist. */
static long long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* What to do without network: the URLs to fetch by hand and where they go. */
static void print_by_hand(const dl_set *set, const char *base, const char *dir) {
    fprintf(stderr, "Without network here, fetch on another machine:\n");
    for (int i = 0; i < set->nfiles; i++) fprintf(stderr, "  %s%s\n", base, set->files[i].name);
    fprintf(stderr, "then put %s in a folder F/%s/ here and run: VIB_DATA_URL=file://F %s data get %s (it "
            "checks the MD5%s)\n", set->nfiles > 1 ? "them" : "it", set->name, lb_cmd(), set->name,
            set->nfiles > 1 ? "s" : " and unpacks it");
    if (set->tar)
        fprintf(stderr, "or unpack it yourself: mkdir -p %s && tar -xzf %s -C %s\n", dir, set->files[0].name, dir);
    else
        fprintf(stderr, "or copy them into %s\n", dir);
}

/* Removes every .part file of the set from dir, then the folders this command created if empty. */
static void discard_parts(const dl_set *set, const char *dir, const char *created) {
    char part[NN_PATH_MAX + 96];
    for (int i = 0; i < set->nfiles; i++) {
        snprintf(part, sizeof part, "%s/.%s.part", dir, set->files[i].name);
        unlink(part);
    }
    undo_mkdir(dir, created);
}

/* Unpacks the verified CIFAR-10 archive into a hidden folder of dir, checks the six batches, and
** renames its cifar-10-batches-bin into place. 0, or 1 with a message and nothing left but the
** archive. */
static int unpack_cifar(const char *archive, const char *dir, const char *final) {
    char tmp[NN_PATH_MAX + 64], inner[NN_PATH_MAX + 96], f[NN_PATH_MAX + 128];
    snprintf(tmp, sizeof tmp, "%s/.unpack-%ld", dir, (long)getpid());
    remove_tree(tmp);
    if (mkdir(tmp, 0777) != 0) {
        fprintf(stderr, "vibrun: data get cifar10: cannot create %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    const char *tar[] = { "tar", "-xzf", archive, "-C", tmp, "--no-same-owner", NULL };
    int rc = run_prog(tar, NULL, 0);
    const char *bad = NULL;
    snprintf(inner, sizeof inner, "%s/cifar-10-batches-bin", tmp);
    if (rc == 127) bad = "tar is not installed (apt-get install tar)";
    else if (rc != 0) bad = "tar could not unpack it";
    static const char *const batches[] = { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                           "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin" };
    for (int i = 0; !bad && i < 6; i++) {
        snprintf(f, sizeof f, "%s/%s", inner, batches[i]);
        long long n = file_size(f);
        if (n <= 0 || n % 3073 != 0) {
            fprintf(stderr, "vibrun: data get cifar10: the archive holds %s %s\n",
                    n < 0 ? "no" : "a damaged", f + strlen(tmp) + 1);
            bad = "it is not the CIFAR-10 binary version";
        }
    }
    if (!bad && rename(inner, final) != 0) {
        fprintf(stderr, "vibrun: data get cifar10: cannot rename %s to %s: %s\n", inner, final, strerror(errno));
        bad = "the rename failed";
    }
    remove_tree(tmp);
    if (!bad) return 0;
    fprintf(stderr, "vibrun: data get cifar10: %s: %s (exit %d); nothing unpacked\n", archive, bad, rc);
    return 1;
}

/* Fetches the .part of one file (resuming what an earlier call left) and checks its MD5. 0 when it
** holds the published bytes; 1 on a wrong checksum (the caller discards the set); 2 when the
** download did not finish (the .part stays for the next call to resume; an empty one is removed);
** 3 for no downloader or hash program. */
static int fetch_part(const dl_set *set, const char *url, const char *part, const char *md5) {
    char hex[33];
    long long have = file_size(part);
    if (have > 0) {
        if (!md5_of(part, hex)) return 3;
        if (strcmp(hex, md5) == 0) return 0;                /* finished by an earlier call */
        fprintf(stderr, "%s: resuming %s at %lld bytes\n", set->name, url, have);
    } else {
        fprintf(stderr, "%s: downloading %s\n", set->name, url);
    }
    int rc = download(url, part, have > 0);
    /* A server that cannot resume (curl 33, 36; an HTTP error such as 416 after a changed file):
    ** start again from nothing, once. */
    if (rc != 0 && rc != 127 && have > 0 && !no_network(rc) && rc != 18 && rc != 56) {
        fprintf(stderr, "%s: cannot resume (exit %d); downloading %s again from the start\n", set->name, rc, url);
        unlink(part);
        rc = download(url, part, false);
    }
    if (rc == 127) return 3;
    if (rc != 0) {
        long long got = file_size(part);
        if (got <= 0) unlink(part);
        fprintf(stderr, "vibrun: data get %s: the download of %s stopped (exit %d%s)%s\n", set->name, url, rc,
                no_network(rc) ? ": no network?" : "",
                got > 0 ? "; what arrived is kept, and the same command resumes it" : "");
        return 2;
    }
    if (!md5_of(part, hex)) return 3;
    if (strcmp(hex, md5) == 0) return 0;
    fprintf(stderr, "vibrun: data get %s: %s has MD5 %s, but the published one is %s; not installed (a wrong "
            "URL, a proxy's error page, or a changed file)\n", set->name, url, hex, md5);
    return 1;
}

static int get_set(const dl_set *set) {
    const char *own = getenv("VIB_DATA_URL");
    char dir[NN_PATH_MAX], base[NN_PATH_MAX], created[NN_PATH_MAX], final[4][NN_PATH_MAX + 64];
    char part[4][NN_PATH_MAX + 96], url[NN_PATH_MAX + 64], hex[33], own_md5[4][33], file[256];
    const char *md5[4];
    if (own && *own) {
        size_t n = strlen(own);
        snprintf(base, sizeof base, "%s%s%s/", own, own[n - 1] == '/' ? "" : "/", set->name);
    } else {
        snprintf(base, sizeof base, "%s", set->base);
    }
    if (!test_md5s(set, own, own_md5, md5)) return 2;
    if (!target_dir(set->name, dir, sizeof dir)) return 1;

    /* Installed already: in a folder the search finds before dir, or in dir itself. */
    char dirs[NN_DATA_MAX_SEARCH][NN_PATH_MAX];
    int nd = nn_data_search_dirs(set->name, NULL, dirs);
    for (int d = 0; d < nd && strcmp(dirs[d], dir) != 0; d++) {
        if (nn_data_dir_holds(set->name, dirs[d], file, sizeof file) != 2) continue;
        printf("%s: already installed in %s (%s), which the search finds before %s; nothing downloaded\n",
               set->name, dirs[d], file, dir);
        return 0;
    }
    for (int i = 0; i < set->nfiles; i++) {
        snprintf(part[i], sizeof part[i], "%s/.%s.part", dir, set->files[i].name);
        snprintf(final[i], sizeof final[i], "%s/%s", dir, set->tar ? "cifar-10-batches-bin" : set->files[i].name);
    }
    int have = 0;
    for (int i = 0; i < set->nfiles; i++) {
        if (file_size(final[i]) < 0) continue;
        if (set->tar) {
            if (nn_data_dir_holds(set->name, dir, file, sizeof file) == 2) {
                printf("%s: already installed: %s\n", set->name, final[i]);
                return 0;
            }
            fprintf(stderr, "vibrun: data get %s: %s exists but lacks %s; remove it and run %s data get %s "
                    "again\n", set->name, final[i], file, lb_cmd(), set->name);
            return 1;
        }
        if (!md5_of(final[i], hex)) return 1;
        if (strcmp(hex, md5[i]) != 0) {
            fprintf(stderr, "vibrun: data get %s: %s exists but its MD5 is %s, not the published %s; remove it "
                    "and run %s data get %s again\n", set->name, final[i], hex, md5[i], lb_cmd(), set->name);
            return 1;
        }
        have++;
    }
    if (have == set->nfiles) {
        printf("%s: already installed in %s (MD5 verified)\n", set->name, dir);
        return 0;
    }
    if (nn_data_dir_holds(set->name, dir, file, sizeof file) == 2) {      /* uncompressed copies, say */
        printf("%s: already installed in %s (%s, not the published .gz files: not verified)\n", set->name, dir,
               file);
        return 0;
    }

    if (rt_mkdir_p(dir, created, sizeof created) != 0) {
        fprintf(stderr, "vibrun: data get %s: cannot create %s: %s\n", set->name, dir, strerror(errno));
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < set->nfiles && rc == 0; i++) {
        if (file_size(final[i]) >= 0) continue;
        snprintf(url, sizeof url, "%s%s", base, set->files[i].name);
        rc = fetch_part(set, url, part[i], md5[i]);
    }
    if (rc == 1 || rc == 3) {
        discard_parts(set, dir, created);
        if (rc == 1) print_by_hand(set, set->base, dir);
        return 1;
    }
    if (rc == 2) {
        bool kept = false;
        for (int i = 0; i < set->nfiles; i++) kept = kept || file_size(part[i]) > 0;
        if (!kept) undo_mkdir(dir, created);
        fprintf(stderr, "Run %s data get %s again %s.\n", lb_cmd(), set->name,
                kept ? "to resume" : "when the network is back");
        print_by_hand(set, base, dir);
        return 1;
    }
    if (set->tar) {
        if (unpack_cifar(part[0], dir, final[0]) != 0) {
            fprintf(stderr, "The verified archive stays as %s; run %s data get %s again once the problem above "
                    "is solved.\n", part[0], lb_cmd(), set->name);
            return 1;
        }
        unlink(part[0]);
        printf("%s: installed %s (%s MD5 %s verified, unpacked)\n", set->name, final[0], set->files[0].name, md5[0]);
        return 0;
    }
    for (int i = 0; i < set->nfiles; i++) {
        if (file_size(final[i]) >= 0) continue;
        if (rename(part[i], final[i]) != 0) {
            fprintf(stderr, "vibrun: data get %s: cannot rename %s to %s: %s\n", set->name, part[i], final[i],
                    strerror(errno));
            return 1;
        }
    }
    printf("%s: installed in %s (", set->name, dir);
    for (int i = 0; i < set->nfiles; i++) printf("%s%s", i ? ", " : "", set->files[i].name);
    printf("; MD5 verified)\n");
    return 0;
}

/* `vibrun data get` without a name: what it can get. */
static void list_gettable(FILE *f) {
    fprintf(f, "vibrun data get NAME downloads, verifies and installs one of:\n");
    for (int i = 0; i < NSETS; i++) fprintf(f, "  %-14s %s\n", dl_sets[i].name, dl_sets[i].what);
    fprintf(f, "  %-14s the Shwartz-Ziv & Tishby 12-bit task, var_u.mat (1 KB; github.com/ravidziv/IDNNs)\n",
            "tishby");
}

int lb_data(int argc, char **argv) {
    if (argc == 1 && strcmp(argv[0], "list") == 0) return data_list();
    if (argc == 1 && strcmp(argv[0], "get") == 0) {
        list_gettable(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[0], "get") == 0) {
        const char *name = argv[1];
        if (strcmp(name, "tishby") == 0) return get_tishby();
        for (int i = 0; i < NSETS; i++)
            if (strcmp(name, dl_sets[i].name) == 0) return get_set(&dl_sets[i]);
        fprintf(stderr, "vibrun: data get: unknown data set '%s'\n", name);
        list_gettable(stderr);
        return 2;
    }
    fprintf(stderr, "vibrun: usage: vibrun data list | vibrun data get [NAME]\n");
    return 2;
}
