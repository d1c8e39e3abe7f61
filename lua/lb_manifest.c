// lb_manifest.c: <exp>/manifest, the file that makes a folder a run directory: which script owns
// it (its real path), the options that select its points, and its points in sweep order. `vibrun
// status`, `vibrun plot`, --merge and the aggregates read it. Written whole and atomically
// (rt_write_atomic), so shards that share a directory never see a torn one.
#define _XOPEN_SOURCE 700               /* realpath */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_impl.h"
#include "rt_csv.h"
#include "rt_text.h"

/* <exp_dir>/manifest:
**     # vibrun run directory: the script that owns it and its points in sweep order
**     script /abs/path/x.lua
**     point <id> <epochs> <params canon>
*/
static void manifest_path(const char *exp_dir, char *out, size_t size) {
    snprintf(out, size, "%s/manifest", exp_dir);
}

void lb_script_identity(const char *script, char *out, size_t size) {
    char real[PATH_MAX];
    snprintf(out, size, "%s", realpath(script, real) ? real : script);
}

bool lb_manifest_check(const char *exp_dir, const char *script, char *msg, size_t size) {
    char path[1200], want[PATH_MAX], have[PATH_MAX] = "";
    manifest_path(exp_dir, path, sizeof path);
    lb_script_identity(script, want, sizeof want);
    char *s = rt_read_file(path, NULL);
    if (!s) return true;
    char *line = strstr(s, "\nscript ");
    if (line) sscanf(line + 8, "%4095[^\n]", have);
    bool ours = strncmp(s, "# vibrun run directory", 22) == 0 && have[0];
    free(s);
    if (!ours) {
        /* Not written by vibrun (or damaged): whose directory this is cannot be told, so it is not
        ** overwritten. */
        snprintf(msg, size, "%s is not a vibrun manifest (no '# vibrun run directory' header and script line); "
                 "nothing was changed. Use another --out directory, or remove the file if %s is a run directory "
                 "of yours", path, exp_dir);
        return false;
    }
    if (strcmp(have, want) == 0) return true;
    snprintf(msg, size, "%s was written by another script (%s), not %s; nothing was changed. Use another "
             "--out directory, give the experiment another name, or remove %s", exp_dir, have, want, exp_dir);
    return false;
}

/* A run whose points are all listed already (a sweep narrowed by --set to points it has, a point
** replayed from its config.lua, a --resume) leaves the manifest as it is, so results.csv,
** summary.csv and the figures keep covering the whole sweep. A run that selects any other point
** (other --set values, a changed script) lists its own points instead, with its options: the
** directory's aggregates then describe that run, and never mix configurations that differ in
** more than the param columns show (a --set epochs=2 quick look beside the full run). */
rt_status lb_manifest_write(const char *exp_dir, const char *script, const char *args, char ids[][17],
                            const int *epochs, const char *const *titles, int n, rt_err *err) {
    char path[1200], ident[PATH_MAX];
    manifest_path(exp_dir, path, sizeof path);
    lb_script_identity(script, ident, sizeof ident);
    lb_manifest old;
    if (lb_manifest_read(exp_dir, &old) >= 0) {
        bool all_listed = strcmp(old.script, ident) == 0;
        for (int i = 0; i < n && all_listed; i++) {
            bool listed = false;
            for (int j = 0; j < old.n && !listed; j++) listed = strcmp(old.ids[j], ids[i]) == 0;
            all_listed = listed;
        }
        lb_manifest_free(&old);
        if (all_listed) return RT_OK;
    }
    rt_buf b = { 0 };
    rt_buf_printf(&b, "# vibrun run directory: the script that owns it, the options that select its points, and "
            "its points in sweep order (point <id> <epochs> <params>)\nscript %s\nargs%s\n", ident, args);
    for (int i = 0; i < n; i++) {
        rt_buf_printf(&b, "point %s %d ", ids[i], epochs[i]);
        for (const char *c = titles[i]; *c; c++)      /* one line: a string param may hold a newline */
            rt_buf_put(&b, *c == '\n' || *c == '\r' ? " " : c, 1);
        rt_buf_put(&b, "\n", 1);
    }
    rt_status st = rt_write_atomic(path, b.s, b.n, err);
    rt_buf_free(&b);
    return st;
}

/* The rest of the line at s, malloc'd. */
static char *rest_of_line(const char *s) {
    size_t n = strcspn(s, "\n");
    char *t = rt_xmalloc(n + 1);
    memcpy(t, s, n);
    t[n] = '\0';
    return t;
}

int lb_manifest_read(const char *exp_dir, lb_manifest *m) {
    memset(m, 0, sizeof *m);
    char path[1200];
    manifest_path(exp_dir, path, sizeof path);
    char *s = rt_read_file(path, NULL);
    if (!s) return -1;
    int cap = 0;
    for (char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, "script ", 7) == 0 && !m->script) m->script = rest_of_line(line + 7);
        if (strncmp(line, "args", 4) == 0 && (line[4] == ' ' || line[4] == '\n') && !m->args)
            m->args = rest_of_line(line + 4);
        if (strncmp(line, "point ", 6) != 0) continue;
        if (m->n == cap) {
            cap = cap ? cap * 2 : 64;
            m->ids = realloc(m->ids, (size_t)cap * sizeof *m->ids);
            m->titles = realloc(m->titles, (size_t)cap * sizeof *m->titles);
            m->epochs = realloc(m->epochs, (size_t)cap * sizeof *m->epochs);
            if (!m->ids || !m->titles || !m->epochs) RT_ABORT("out of memory");
        }
        int at = 0;
        if (sscanf(line + 6, "%16s %d%n", m->ids[m->n], &m->epochs[m->n], &at) < 2) continue;
        const char *t = line + 6 + at;
        t += strspn(t, " \t");
        m->titles[m->n++] = rest_of_line(t);
    }
    free(s);
    if (!m->script) m->script = rt_xstrdup("");
    if (!m->args) m->args = rt_xstrdup("");
    return m->n;
}

void lb_manifest_free(lb_manifest *m) {
    for (int i = 0; i < m->n; i++) free(m->titles[i]);
    free(m->script);
    free(m->args);
    free(m->ids);
    free(m->titles);
    free(m->epochs);
    memset(m, 0, sizeof *m);
}
