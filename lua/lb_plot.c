// lb_plot.c: figures through gnuplot. Each figure's script is written beside it (variables on
// top, then the embedded template from plots/), so a user can edit and re-run it, and
// `vibrun plot RUN_DIR` redraws every figure from the CSV by running those scripts again.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lb_embed.h"
#include "lb_impl.h"
#include "rt_csv.h"

/* Runs `gnuplot NAME` inside dir; 0 on success. */
static int run_gnuplot(const char *dir, const char *name) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(127);
        execlp("gnuplot", "gnuplot", name, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
        fprintf(stderr, "vibrun: gnuplot not found; install it (apt-get install gnuplot-nox) and run: vibrun plot %s/..\n", dir);
        return -1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "vibrun: gnuplot failed on %s/%s\n", dir, name);
        return -1;
    }
    return 0;
}

/* Writes <exp_dir>/plots/<name>.gp: the variables, then the template; runs it. */
static int draw(const char *exp_dir, const char *name, const char *vars) {
    const lb_embedded *t = lb_embedded_find(name);
    if (!t) RT_ABORT("no embedded plot template %s", name);
    char dir[1100], path[1200];
    snprintf(dir, sizeof dir, "%s/plots", exp_dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vibrun: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    size_t nv = strlen(vars);
    char *buf = rt_xmalloc(nv + t->size + 1);
    memcpy(buf, vars, nv);
    memcpy(buf + nv, t->data, t->size);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    rt_err err = { 0 };
    rt_status st = rt_write_atomic(path, buf, nv + t->size, &err);
    free(buf);
    if (st) {
        fprintf(stderr, "vibrun: %s\n", err.msg);
        return -1;
    }
    return run_gnuplot(dir, name);
}

/* A legend word: the params without braces, quotes or spaces (gnuplot's word() splits on spaces). */
static void legend_word(const char *title, const char *id, char *t, size_t size) {
    snprintf(t, size, "%s", title[0] ? title : id);
    size_t len = strlen(t);
    if (len >= 2 && t[0] == '{') {
        memmove(t, t + 1, len - 2);
        t[len - 2] = '\0';
    }
    if (!t[0]) snprintf(t, size, "%s", id);
    size_t w = 0;
    for (char *c = t; *c; c++) {
        if (*c == '"' || *c == '\'') continue;
        t[w++] = *c == ' ' ? '_' : *c;
    }
    t[w] = '\0';
}

int lb_plot_training_curve(const char *exp_dir, char ids[][17], char titles[][256], int n) {
    size_t cap = (size_t)n * 300 + 64;
    char *files = rt_xmalloc(cap), *words = rt_xmalloc(cap), *vars = rt_xmalloc(2 * cap + 128);
    size_t kf = 0, kw = 0;
    int used = 0;
    for (int i = 0; i < n; i++) {
        char p[1200], t[256];
        snprintf(p, sizeof p, "%s/%s/metrics.csv", exp_dir, ids[i]);
        if (access(p, R_OK) != 0) continue;
        legend_word(titles[i], ids[i], t, sizeof t);
        kf += (size_t)snprintf(files + kf, cap - kf, "%s../%s/metrics.csv", used ? " " : "", ids[i]);
        kw += (size_t)snprintf(words + kw, cap - kw, "%s%s", used ? " " : "", t);
        used++;
    }
    files[kf < cap ? kf : cap - 1] = words[kw < cap ? kw : cap - 1] = '\0';
    snprintf(vars, 2 * cap + 128, "files = \"%s\"\ntitles = \"%s\"\nout = \"training_curve\"\n\n", files, words);
    int rc = used ? draw(exp_dir, "training_curve.gp", vars) : -1;
    free(files);
    free(words);
    free(vars);
    return rc;
}

int lb_plot(const char *run_dir) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/plots", run_dir);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "vibrun: %s: no plots directory; is %s a run directory (runs/<experiment>)?\n", dir, run_dir);
        return 1;
    }
    int count = 0, failed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".gp") != 0) continue;
        count++;
        if (run_gnuplot(dir, e->d_name) != 0) failed++;
        else printf("redrew %s/%.*s.{png,svg}\n", dir, (int)(len - 3), e->d_name);
    }
    closedir(d);
    if (!count) fprintf(stderr, "vibrun: %s holds no .gp scripts\n", dir);
    return count && !failed ? 0 : 1;
}
