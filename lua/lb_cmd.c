// lb_cmd.c: the command that started this process, written so that the user can type it again.
// Every command vibrun suggests (after Ctrl-C, in `vibrun status`, for shards, Slurm and the
// data sets) starts with lb_cmd(), so the suggestion works for an installed vibrun as well as for
// build/vibrun run from a checkout.
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb_impl.h"
#include "rt_text.h"

/* The command, shell-quoted when it needs it; empty until lb_cmd_set. */
static rt_buf cmd;

/* True when the first executable `name` along $PATH is the file st describes (what a shell runs
** for the bare name). */
static bool path_finds(const char *name, const struct stat *st) {
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        char file[PATH_MAX];
        struct stat cand;
        if (len > 0 && snprintf(file, sizeof file, "%.*s/%s", (int)len, path, name) < (int)sizeof file &&
            stat(file, &cand) == 0 && S_ISREG(cand.st_mode) && access(file, X_OK) == 0)
            return cand.st_dev == st->st_dev && cand.st_ino == st->st_ino;
        path = colon ? colon + 1 : NULL;
    }
    return false;
}

void lb_cmd_set(const char *argv0) {
    if (!argv0 || !*argv0) return;
    const char *name = argv0, *slash = strrchr(argv0, '/');
    struct stat st;
    if (slash && slash[1] && stat(argv0, &st) == 0 && path_finds(slash + 1, &st)) name = slash + 1;
    rt_buf_free(&cmd);
    if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+-,:@%") == strlen(name))
        rt_buf_printf(&cmd, "%s", name);
    else
        lb_shell_quote(&cmd, name);
}

const char *lb_cmd(void) { return cmd.n ? cmd.s : "vibrun"; }
