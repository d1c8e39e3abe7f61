// testutil.c: helpers shared by the Criterion tests.
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt_rng.h"

const char *tu_shared(const char *rel, char *buf, size_t size) {
    const char *root = getenv("VIB_SHARED");
    if (!root || !*root) return NULL;
    snprintf(buf, size, "%s/data/%s", root, rel);
    struct stat st;
    if (stat(buf, &st) != 0) return NULL;
    return buf;
}

void tu_skip(const char *fmt, ...) {
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    const char *ci = getenv("VIB_CI");
    if (ci && *ci) cr_assert_fail("%s (VIB_CI is set: CI must run this test, not skip it)", why);
    cr_skip_test("%s", why);
    abort();    /* not reached: both end the test */
}

const char *tu_tmpdir(const char *tag) {
    static char path[512];
    snprintf(path, sizeof path, "tmp-%s-%d", tag, (int)getpid());
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
    cr_assert_eq(system(cmd), 0, "cannot create %s", path);
    return path;
}

void tu_write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, size, f), size);
    cr_assert_eq(fclose(f), 0);
}

char *tu_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    if (size) *size = got;
    return buf;
}

void tu_expect_same_file(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    char *x = tu_read_file(a, &na), *y = tu_read_file(b, &nb);
    cr_expect(x && y, "missing %s or %s", a, b);
    if (x && y) cr_expect(na == nb && memcmp(x, y, na) == 0, "%s and %s differ", a, b);
    free(x);
    free(y);
}

int tu_run(const char *cmd, char *out, size_t outsize) {
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "cannot run %s", cmd);
    size_t got = 0;
    char tmp[4096];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, p)) > 0) {
        if (out && got + 1 < outsize) {
            size_t room = outsize - 1 - got;
            memcpy(out + got, tmp, k < room ? k : room);
            got += k < room ? k : room;
        }
    }
    if (out) out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

const char *tu_source_dir(void) {
    const char *s = getenv("VIB_SOURCE");
    cr_assert_not_null(s, "VIB_SOURCE is not set (ctest sets it)");
    return s;
}

const char *tu_vibrun(void) {
    const char *b = getenv("VIBRUN");
    cr_assert_not_null(b, "VIBRUN is not set (ctest sets it)");
    return b;
}

pid_t tu_spawn(const char *dir, const char *log, bool new_group, const char *const argv[]) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (new_group) setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || chdir(dir) != 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (new_group) setpgid(pid, pid);   /* also here: the parent may signal before the child ran */
    return pid;
}

bool tu_wait_for_text(const char *path, const char *text, double timeout_s) {
    for (int i = 0; i * 0.05 < timeout_s; i++) {
        char *s = tu_read_file(path, NULL);
        bool found = s && strstr(s, text);
        free(s);
        if (found) return true;
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return false;
}

const char *tu_tiny_dir(const char *tag) {
    const char *dir = tu_tmpdir(tag);
    char path[600];
    snprintf(path, sizeof path, "%s/tiny.csv", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "x1,x2,x3,x4,y\n");
    rt_rng r;
    rt_rng_seed(&r, 42);
    for (int i = 0; i < 400; i++) {
        int y = (int)rt_rng_below(&r, 3);
        for (int k = 0; k < 4; k++) fprintf(f, "%.6f,", (k == y ? 2.0 : 0.0) + rt_rng_normal(&r));
        fprintf(f, "%d\n", y);
    }
    fclose(f);
    return dir;
}

int tu_point_dirs(const char *exp_dir, char names[][64], int max) {
    DIR *d = opendir(exp_dir);
    cr_assert_not_null(d, "no %s", exp_dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max)
        if (strlen(e->d_name) == 12) snprintf(names[n++], 64, "%s", e->d_name);
    closedir(d);
    qsort(names, (size_t)n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
}

nn_layer_spec tu_layer(const char *script, int line0, nn_layer_kind k, int out, const char *name) {
    nn_layer_spec s = nn_layer_spec_default(k);
    s.out = out;
    snprintf(s.name, sizeof s.name, "%s", name);
    snprintf(s.where, sizeof s.where, "%s:%d", script, line0 + (int)k);
    return s;
}

nn_term_spec tu_term(const char *where, nn_term_kind k, const char *name, const char *layer, float weight) {
    nn_term_spec t = nn_term_spec_default(k);
    if (name) snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.layer, sizeof t.layer, "%s", layer);
    t.weight = weight;
    snprintf(t.where, sizeof t.where, "%s", where);
    return t;
}
