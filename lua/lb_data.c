// lb_data.c: `vibrun data list` (which data sets are installed where, in the search order of
// nn_data.h) and `vibrun data get NAME` (download, verify, install).
//
// data get tishby: downloads the authors' var_u.mat with curl (wget when there is no curl) into
// $VIB_DATA/tishby, or $HOME/.cache/vibrun/tishby without VIB_DATA; checks its SHA-256 with
// coreutils' sha256sum against the published file's, reads it back with the MAT reader, and only
// then renames it into place. On any failure the partial download is removed and a folder this
// command created is removed again, so nothing is left behind. Where master's data/var_u.mat
// cannot be had (HTTP error, other bytes), the copy at the commit that first added the file
// (source/var_u.mat) is tried; the checksum decides. VIB_TISHBY_URL replaces both (curl also
// reads file:// URLs, which is how the tests run it offline).
#include <errno.h>
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
    if (strcmp(name, "fashion-mnist") == 0) return "apt-get install dataset-fashion-mnist";
    if (strcmp(name, "mnist") == 0)
        return "put the four official IDX files (train-images-idx3-ubyte.gz, ...) in ./data/mnist or "
               "$VIB_DATA/mnist";
    if (strcmp(name, "cifar10") == 0)
        return "extract the official cifar-10-binary.tar.gz into ./data/cifar10 or $VIB_DATA/cifar10";
    static char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "%s data get tishby", lb_cmd());
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

/* The SHA-256 of path as 64 hex digits, by coreutils' sha256sum; false with a message otherwise. */
static bool sha256_of(const char *path, char hex[65]) {
    const char *argv[] = { "sha256sum", "-b", "--", path, NULL };
    char out[1200];
    int rc = run_prog(argv, out, sizeof out);
    if (rc == 127) {
        fprintf(stderr, "vibrun: data get: sha256sum (coreutils) not found; install coreutils\n");
        return false;
    }
    size_t n = strspn(out, "0123456789abcdef");
    if (rc != 0 || n != 64) {
        fprintf(stderr, "vibrun: data get: sha256sum %s failed (exit %d)\n", path, rc);
        return false;
    }
    memcpy(hex, out, 64);
    hex[64] = '\0';
    return true;
}

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

/* Downloads url to path with curl, or wget where there is no curl; 0 on success. */
static int download(const char *url, const char *path) {
    const char *curl[] = { "curl", "-fsSL", "--retry", "2", "--connect-timeout", "30", "-o", path, "--", url,
                           NULL };
    int rc = run_prog(curl, NULL, 0);
    if (rc != 127) return rc;
    const char *wget[] = { "wget", "-q", "-O", path, "--", url, NULL };
    rc = run_prog(wget, NULL, 0);
    if (rc == 127) fprintf(stderr, "vibrun: data get: neither curl nor wget is installed\n");
    return rc;
}

static int get_tishby(void) {
    const char *env = getenv("VIB_DATA"), *home = getenv("HOME"), *url = getenv("VIB_TISHBY_URL");
    bool own_url = url && *url;
    if (!own_url) url = TISHBY_URL;
    char dir[NN_PATH_MAX], final[NN_PATH_MAX + 16], part[NN_PATH_MAX + 64], created[NN_PATH_MAX], hex[65];
    if (env && *env) snprintf(dir, sizeof dir, "%s/tishby", env);
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/vibrun/tishby", home);
    else {
        fprintf(stderr, "vibrun: data get tishby: neither VIB_DATA nor HOME is set; set VIB_DATA to the "
                "folder that should hold the data sets\n");
        return 1;
    }
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
        rc = download(urls[u], part);
        ok = rc == 0;
        if (!ok && rc != 127)
            fprintf(stderr, "vibrun: data get tishby: the download of %s failed (exit %d%s).\n", urls[u], rc,
                    rc == 6 || rc == 7 || rc == 28 ? ": no network?" : "");
        if (ok && (ok = sha256_of(part, hex)) && !(ok = strcmp(hex, TISHBY_SHA256) == 0))
            fprintf(stderr, "vibrun: data get tishby: %s has SHA-256 %s, but the authors' var_u.mat has %s; "
                    "not installed (a wrong URL, a proxy's error page, or a changed file)\n", urls[u], hex,
                    TISHBY_SHA256);
        if (!ok) unlink(part);
        if (rc == 127 || rc == 6 || rc == 7 || rc == 28) break;       /* no downloader, or no network */
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

int lb_data(int argc, char **argv) {
    if (argc == 1 && strcmp(argv[0], "list") == 0) return data_list();
    if (argc == 2 && strcmp(argv[0], "get") == 0) {
        const char *name = argv[1];
        if (strcmp(name, "tishby") == 0) return get_tishby();
        for (int i = 0; i < 3; i++) {
            if (strcmp(name, data_names[i]) == 0) {
                fprintf(stderr, "vibrun: data get %s: not downloaded by vibrun; %s\n", name, how_to_get(name));
                return 1;
            }
        }
        fprintf(stderr, "vibrun: data get: unknown data set '%s'; known: fashion-mnist, mnist, cifar10, tishby\n",
                name);
        return 2;
    }
    fprintf(stderr, "vibrun: usage: vibrun data list | vibrun data get NAME\n");
    return 2;
}
