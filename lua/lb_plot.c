// lb_plot.c: figures through gnuplot. Each figure's script is written beside it (its variables on
// top, then the shared style.gp, then the figure's template from plots/), so a user can edit and
// re-run it, and `vibrun plot RUN_DIR` redraws every figure from the CSV by running those scripts.
//
// C decides what to draw and with which columns (it reads the CSV headers and a few values);
// gnuplot reads the data itself. A figure whose CSV is missing or lacks the columns it needs is
// skipped with a one-line note; a run never fails because of a figure.
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lb_embed.h"
#include "lb_impl.h"
#include "rt_csv.h"
#include "rt_text.h"

// ---- reading the CSV (rt_csv_read) ----

/* The value as a number; NAN when empty or not a number. */
static double csv_num(const char *s) {
    char *end;
    double v = strtod(s, &end);
    return end == s || *end ? (double)NAN : v;
}

/* Whether column c holds at least one finite number. */
static bool csv_col_finite(const rt_csv_table *t, int c) {
    for (int r = 0; c >= 0 && r < t->nrow; r++) if (isfinite(csv_num(rt_csv_at(t, r, c)))) return true;
    return false;
}

// ---- text: gnuplot string literals, word lists ----

/* name = '<text>': a gnuplot single-quoted string; with enhanced, the characters enhanced text
** mode would interpret (_ ^ @ & ~ { }) are escaped so they print as written. */
static void sb_var_str(rt_buf *b, const char *name, const char *text, bool enhanced) {
    rt_buf_printf(b, "%s = '", name);
    for (const char *c = text; *c; c++) {
        if (*c == '\'') rt_buf_printf(b, "''");
        else if (*c == '\n') rt_buf_printf(b, " ");
        else if (enhanced && strchr("_^@&~{}", *c)) rt_buf_printf(b, "\\%c", *c);
        else rt_buf_printf(b, "%c", *c);
    }
    rt_buf_printf(b, "'\n");
}

void lb_words_add(char *list, size_t size, const char *w) {
    size_t lw = strlen(w), n = strlen(list);
    for (const char *p = list; (p = strstr(p, w)); p += lw)
        if ((p == list || p[-1] == ' ') && (p[lw] == ' ' || p[lw] == '\0')) return;
    if (n + lw + 2 <= size) snprintf(list + n, size - n, "%s%s", n ? " " : "", w);
}

static bool words_has(const char *list, const char *w) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", list);
    size_t before = strlen(tmp);
    lb_words_add(tmp, sizeof tmp, w);
    return strlen(tmp) == before;
}

// ---- gnuplot ----

static bool gnuplot_missing = false;

/* Runs `gnuplot NAME` inside dir, its messages into dir/.NAME.log, shown when it fails; 0 on success. */
static int run_gnuplot(const char *dir, const char *name) {
    if (gnuplot_missing) return -1;
    char log[1200];
    snprintf(log, sizeof log, "%s/.%s.log", dir, name);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        if (chdir(dir) != 0) _exit(126);
        execlp("gnuplot", "gnuplot", name, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    int rc = 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
        fprintf(stderr, "vibrun: gnuplot not found; install it (apt-get install gnuplot-nox) and run: %s plot %s/..\n",
                lb_cmd(), dir);
        gnuplot_missing = true;
        rc = -1;
    } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "vibrun: gnuplot failed on %s/%s:\n", dir, name);
        FILE *f = fopen(log, "r");
        char line[512];
        for (int k = 0; f && k < 20 && fgets(line, sizeof line, f); k++)
            if (!strstr(line, "warning:")) fprintf(stderr, "  %s", line);
        if (f) fclose(f);
        rc = -1;
    }
    unlink(log);
    return rc;
}

/* Creates <exp_dir>/plots if missing; 0 on success, else -1 with a message. */
static int mkdir_plots(const char *exp_dir) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/plots", exp_dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vibrun: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Writes <exp_dir>/plots/<name>.gp: vars, style.gp, the template; runs it. */
static int draw(const char *exp_dir, const char *name, const char *template, const char *vars) {
    const lb_embedded *style = lb_embedded_find("style.gp"), *t = lb_embedded_find(template);
    if (!t || !style) RT_ABORT("no embedded plot template %s", template);
    char dir[1100], gp[300], path[1500];
    snprintf(dir, sizeof dir, "%s/plots", exp_dir);
    if (mkdir_plots(exp_dir) != 0) return -1;
    rt_buf b = { 0 };
    rt_buf_printf(&b, "# %s.gp: drawn by vibrun with plots/%s; edit the variables and run `gnuplot %s.gp` here.\n",
              name, template, name);
    rt_buf_printf(&b, "%s\n%s\n%s", vars, style->data, t->data);
    snprintf(gp, sizeof gp, "%s.gp", name);
    snprintf(path, sizeof path, "%s/%s", dir, gp);
    rt_err err = { 0 };
    rt_status st = rt_write_atomic(path, b.s, b.n, &err);
    free(b.s);
    if (st) {
        fprintf(stderr, "vibrun: %s\n", err.msg);
        return -1;
    }
    return run_gnuplot(dir, gp);
}

// ---- what to draw: the options of one vib.plot.* entry ----

typedef lb_plot_opts plot_opts;

void lb_plot_opts_default(plot_opts *o, const char *kind) {
    memset(o, 0, sizeof *o);
    snprintf(o->kind, sizeof o->kind, "%s", kind);
    o->info = true;
    o->points = 1000;
    o->ellipses = 1000;
}

// ---- the run being drawn ----

typedef struct plot_run {
    const char *exp_dir;
    char (*ids)[17];
    const char *const *titles;
    int n;
    bool quiet;
    char (*labels)[96];         /* per point: the params that vary across points, for names */
    char **used;                /* figure names drawn so far (every one: two figures never share a file) */
    int nused, capused, drawn, failed;
} plot_run;

static void note(plot_run *r, const plot_opts *o, const char *fmt, ...) {
    if (r->quiet) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("figures: %s%s%s skipped: %s\n", o->where, o->where[0] ? ": " : "", o->kind, msg);
}

/* Writes b to <exp_dir>/plots/<name><suffix>, the data a figure reads beside its script; file gets
** that file name, or "" (with a message) when it cannot be written. */
static void write_beside(const plot_run *r, const char *name, const char *suffix, const rt_buf *b, char *file, size_t size) {
    char path[1500];
    snprintf(file, size, "%s%s", name, suffix);
    snprintf(path, sizeof path, "%s/plots/%s", r->exp_dir, file);
    rt_err err = { 0 };
    if (mkdir_plots(r->exp_dir) != 0 || rt_write_atomic(path, b->s, b->n, &err)) {
        if (err.msg[0]) fprintf(stderr, "vibrun: %s\n", err.msg);
        file[0] = '\0';
    }
}

/* The formats: the plot's own, else VIB_PLOT_FORMATS (words of png, svg, pdf), else "png svg". */
static void formats_of(const plot_opts *o, char *out, size_t size) {
    snprintf(out, size, "png svg");
    if (o->formats[0]) { snprintf(out, size, "%s", o->formats); return; }
    const char *env = getenv("VIB_PLOT_FORMATS");
    if (!env || !*env) return;
    char tmp[64] = "", buf[256];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *w = strtok(buf, " ,"); w; w = strtok(NULL, " ,")) {
        if (strcmp(w, "png") && strcmp(w, "svg") && strcmp(w, "pdf")) {
            fprintf(stderr, "vibrun: VIB_PLOT_FORMATS=%s: '%s' is not one of png, svg, pdf; drawing png and svg\n", env, w);
            return;
        }
        lb_words_add(tmp, sizeof tmp, w);
    }
    if (tmp[0]) snprintf(out, size, "%s", tmp);
}

/* The common variables: out, formats, size, title. */
static void common_vars(rt_buf *b, const plot_opts *o, const char *out, double w, double h, const char *title) {
    char fm[64];
    formats_of(o, fm, sizeof fm);
    sb_var_str(b, "out", out, false);
    sb_var_str(b, "formats", fm, false);
    rt_buf_printf(b, "width_in = %g\nheight_in = %g\n", o->width > 0 ? o->width : w, o->height > 0 ? o->height : h);
    sb_var_str(b, "title", o->title[0] ? o->title : title, true);
}

/* A name not used yet in this run: base, else base_2, base_3, ... */
static void unique_name(plot_run *r, const char *base, char *out, size_t size) {
    /* A figure name holds params' keys and values (error_vs_<axis>, info_plane_<label>): it stays one
    ** file name in plots/, never a path (a key "../x" or "a/b") nor a hidden file. */
    char safe[256];
    snprintf(safe, sizeof safe, "%s", base);
    for (char *c = safe; *c; c++)
        if (!(isalnum((unsigned char)*c) || strchr("_=.+-", *c)) || (c == safe && *c == '.')) *c = '-';
    /* room for a "_<k>" suffix, so that a long name still gets a distinct one */
    if (size > 16 && strlen(safe) > size - 16) safe[size - 16] = '\0';
    snprintf(out, size, "%s", safe);
    for (int k = 2;; k++) {
        bool taken = false;
        for (int i = 0; i < r->nused; i++) taken |= strcmp(r->used[i], out) == 0;
        if (!taken) break;
        snprintf(out, size, "%s_%d", safe, k);
    }
    if (r->nused == r->capused) {
        r->capused = r->capused ? 2 * r->capused : 64;
        r->used = realloc(r->used, (size_t)r->capused * sizeof *r->used);
        if (!r->used) RT_ABORT("out of memory");
    }
    r->used[r->nused++] = rt_xstrdup(out);
}

static void finish(plot_run *r, const char *name, const plot_opts *o, int rc) {
    if (rc != 0) { r->failed++; return; }
    r->drawn++;
    if (r->quiet) return;
    char fm[64];
    formats_of(o, fm, sizeof fm);
    for (char *c = fm; *c; c++) if (*c == ' ') *c = ',';
    printf("figures: %s/plots/%s.{%s,gp}\n", r->exp_dir, name, fm);
}

/* Per point, a label from the params that vary across the points ("beta=0.001_seed=2"); the
** point id when that would be long, ambiguous or empty. Titles are canonical "{k=v,k=v}". */
static void point_labels(plot_run *r) {
    enum { MAXP = 32 };
    int n = r->n;
    char (*kv)[MAXP][96] = rt_xcalloc((size_t)(n ? n : 1), sizeof *kv);
    int *nkv = rt_xcalloc((size_t)(n ? n : 1), sizeof *nkv);
    for (int i = 0; i < n; i++) {
        char t[256];
        snprintf(t, sizeof t, "%s", r->titles[i]);
        size_t len = strlen(t);
        if (len >= 2 && t[0] == '{' && t[len - 1] == '}') { t[len - 1] = '\0'; memmove(t, t + 1, len - 1); }
        nkv[i] = 0;
        for (char *s = strtok(t, ","); s && nkv[i] < MAXP; s = strtok(NULL, ",")) {
            /* titles hold short numbers (vib._title); a manifest written by an older vibrun holds
            ** canonical ones (%.17g: 0.10000000000000001): a label shows the shortest text that
            ** reads back as the same double (0.1) either way */
            char *eq = strchr(s, '='), *end;
            double v = eq ? strtod(eq + 1, &end) : 0.0;
            if (eq && end != eq + 1 && *end == '\0') {
                int prec = 1;
                char num[40];
                do snprintf(num, sizeof num, "%.*g", prec, v); while (strtod(num, NULL) != v && ++prec < 17);
                snprintf(kv[i][nkv[i]++], 96, "%.*s=%s", (int)(eq - s), s, num);
            } else {
                snprintf(kv[i][nkv[i]++], 96, "%s", s);
            }
        }
    }
    for (int i = 0; i < n; i++) {
        char lab[96] = "";
        for (int k = 0; k < nkv[i]; k++) {
            bool varies = false;
            for (int j = 0; j < n && !varies; j++) {
                bool found = false;
                for (int m = 0; m < nkv[j]; m++) found |= strcmp(kv[j][m], kv[i][k]) == 0;
                varies = !found;
            }
            if (!varies) continue;
            size_t l = strlen(lab);
            snprintf(lab + l, sizeof lab - l, "%s%s", l ? "_" : "", kv[i][k]);
        }
        /* String params are canonical Lua literals ("relu"): their quotes go, other odd characters
        ** become '-' (the label names files). */
        size_t w = 0;
        for (char *c = lab; *c; c++) {
            if (*c == '"' || *c == '\'') continue;
            lab[w++] = isalnum((unsigned char)*c) || strchr("=.-_+", *c) ? *c : '-';
        }
        lab[w] = '\0';
        snprintf(r->labels[i], sizeof r->labels[i], "%s", strlen(lab) > 60 ? r->ids[i] : lab);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(r->labels[i], r->labels[j]) == 0) {
                snprintf(r->labels[i], sizeof r->labels[i], "%s", r->ids[i]);
                snprintf(r->labels[j], sizeof r->labels[j], "%s", r->ids[j]);
            }
    free(kv);
    free(nkv);
}

/* A point's figure name: "<base>_<label>", or "<base>" for a single point. */
static void point_name(plot_run *r, int i, const char *base, const plot_opts *o, char *out, size_t size) {
    char b[256];
    const char *stem = o->name[0] ? o->name : base;
    const char *lab = r->labels[i];
    if (r->n == 1 || !lab[0]) snprintf(b, sizeof b, "%s", stem);
    else snprintf(b, sizeof b, "%s_%s", stem, lab);
    unique_name(r, b, out, size);
}

/* A point's title: its varying params with spaces, or the experiment's directory name. */
static void point_title(plot_run *r, int i, char *out, size_t size) {
    const char *exp = strrchr(r->exp_dir, '/');
    exp = exp ? exp + 1 : r->exp_dir;
    const char *lab = r->labels[i];
    if (r->n == 1 && r->titles[i][0] == '{' && r->titles[i][1] != '}') {
        /* one point: its params, "vib_fashion: beta=0.001, k=256, kind=vib, seed=1" */
        size_t n = (size_t)snprintf(out, size, "%s: ", exp);
        for (const char *c = r->titles[i] + 1; *c && *c != '}' && n + 3 < size; c++) {
            if (*c == '"') continue;
            out[n++] = *c;
            if (*c == ',') out[n++] = ' ';
        }
        out[n < size ? n : size - 1] = '\0';
        return;
    }
    if (r->n == 1 || !lab[0] || strcmp(lab, r->ids[i]) == 0) { snprintf(out, size, "%s %s", exp, r->ids[i]); return; }
    snprintf(out, size, "%s: %s", exp, lab);
    for (char *c = out + strlen(exp) + 2; *c; c++) if (*c == '_') *c = ' ';
}

// ---- training curve ----

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

/* A label "hidden=4_lr=0.01_act=leaky_relu" as a legend word "hidden=4,lr=0.01,act=leaky_relu": an
** underscore separates two params when the field before it already has its '=' and the text
** after it, up to the next underscore, has one too. */
static void label_to_legend(const char *label, char *out, size_t size) {
    snprintf(out, size, "%s", label);
    char *field = out;
    for (char *c = out; *c; c++) {
        if (*c != '_') continue;
        const char *next = c + 1, *stop = strchr(next, '_');
        size_t len = stop ? (size_t)(stop - next) : strlen(next);
        bool here = memchr(field, '=', (size_t)(c - field)) != NULL, there = memchr(next, '=', len) != NULL;
        if (here && there) {
            *c = ',';
            field = c + 1;
        }
    }
}

/* A legend word without its seed=... fields: the configuration a point belongs to. */
static void drop_seed(char *legend) {
    char out[256] = "";
    size_t n = 0;
    for (char *f = strtok(legend, ","); f; f = strtok(NULL, ","))
        if (strncmp(f, "seed=", 5) != 0 && n < sizeof out) n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", n ? "," : "", f);
    strcpy(legend, out);
}

/* One configuration's seeds in the training curve: per split and epoch, the mean of loss_bits and
** of error over the seeds that have the row, and the bounds of its 95% Student-t interval,
** mean -+ t_{k-1,0.975} sd / sqrt(k) (summary.csv's ci95, lb_aggregate.c). Appends rows
** "group,split,epoch,k,loss_mean,loss_lo,loss_hi,error_mean,error_lo,error_hi" to b, train then
** test, epochs in increasing order; a row with one seed has its mean as both bounds. */
static void band_rows(rt_buf *b, int group, char **files, int nfiles) {
    typedef struct { int k; double s[2], ss[2]; } cell;
    cell *c = NULL;
    int nep = 0;                /* c[split * nep + epoch] */
    for (int pass = 0; pass < 3; pass++)         /* the last epoch, the sums, the squared deviations */
        for (int f = 0; f < nfiles; f++) {
            if (pass == 1 && f == 0) c = rt_xcalloc((size_t)(2 * nep + 1), sizeof *c);
            rt_csv_table t;
            if (!rt_csv_read(files[f], &t)) continue;
            int ce = rt_csv_col(&t, "epoch"), cs = rt_csv_col(&t, "split"), cv[2] = { rt_csv_col(&t, "loss_bits"), rt_csv_col(&t, "error") };
            for (int row = 0; ce >= 0 && cs >= 0 && cv[0] >= 0 && cv[1] >= 0 && row < t.nrow; row++) {
                const char *sp = rt_csv_at(&t, row, cs);
                int split = strcmp(sp, "train") == 0 ? 0 : strcmp(sp, "test") == 0 ? 1 : -1;
                double e = csv_num(rt_csv_at(&t, row, ce)), v[2] = { csv_num(rt_csv_at(&t, row, cv[0])), csv_num(rt_csv_at(&t, row, cv[1])) };
                if (split < 0 || !(e >= 0 && e < 1e8) || e != floor(e) || !isfinite(v[0]) || !isfinite(v[1])) continue;
                if (pass == 0) { if ((int)e >= nep) nep = (int)e + 1; continue; }
                cell *q = &c[split * nep + (int)e];
                for (int m = 0; m < 2; m++) {
                    if (pass == 1) q->s[m] += v[m];
                    else q->ss[m] += (v[m] - q->s[m] / q->k) * (v[m] - q->s[m] / q->k);
                }
                q->k += pass == 1;
            }
            rt_csv_table_free(&t);
        }
    for (int i = 0; i < 2 * nep; i++) {
        if (!c[i].k) continue;
        rt_buf_printf(b, "%d,%s,%d,%d", group, i < nep ? "train" : "test", i % nep, c[i].k);
        for (int m = 0; m < 2; m++) {
            double mean = c[i].s[m] / c[i].k, sd = c[i].k > 1 ? sqrt(c[i].ss[m] / (c[i].k - 1)) : 0.0;
            double h = c[i].k > 1 ? lb_t975(c[i].k - 1) * sd / sqrt((double)c[i].k) : 0.0;
            rt_buf_printf(b, ",%.9g,%.9g,%.9g", mean, mean - h, mean + h);
        }
        rt_buf_printf(b, "\n");
    }
    free(c);
}

static void plot_training_curve(plot_run *r, const plot_opts *o) {
    rt_buf files = { 0 }, group = { 0 }, vars = { 0 };
    int used = 0, ng = 0;
    size_t longest = 0;
    char (*gt)[256] = rt_xcalloc((size_t)(r->n ? r->n : 1), sizeof *gt);
    int *gof = rt_xcalloc((size_t)(r->n ? r->n : 1), sizeof *gof), *gsize = rt_xcalloc((size_t)(r->n ? r->n : 1), sizeof *gsize);
    char **paths = rt_xcalloc((size_t)(r->n ? r->n : 1), sizeof *paths);
    for (int i = 0; i < r->n; i++) {
        char p[1200], t[256];
        snprintf(p, sizeof p, "%s/%s/metrics.csv", r->exp_dir, r->ids[i]);
        if (access(p, R_OK) != 0) continue;
        /* The legend names a configuration by the params that differ between points (its label)
        ** without the seed, when there are several; else by all of them. Seeds share a colour. */
        if (r->n > 1 && r->labels[i][0] && strcmp(r->labels[i], r->ids[i]) != 0) {
            label_to_legend(r->labels[i], t, sizeof t);
            drop_seed(t);
            if (!t[0]) legend_word(r->titles[i], r->ids[i], t, sizeof t);
        } else {
            legend_word(r->titles[i], r->ids[i], t, sizeof t);
        }
        int g = -1;
        for (int k = 0; k < ng && g < 0; k++) if (strcmp(gt[k], t) == 0) g = k;
        if (g < 0) snprintf(gt[g = ng++], sizeof gt[0], "%s", t);
        if (strlen(t) > longest) longest = strlen(t);
        rt_buf_printf(&files, "%s../%s/metrics.csv", used ? " " : "", r->ids[i]);
        paths[used] = rt_xstrdup(p);
        gof[used++] = g;
        gsize[g]++;
    }
    if (!used) {
        note(r, o, "no point of %s has a metrics.csv", r->exp_dir);
    } else {
        char name[160], band[200] = "";
        unique_name(r, o->name[0] ? o->name : "training_curve", name, sizeof name);
        /* A configuration with several seeds: its seeds thin, their mean and 95% interval per epoch
        ** (the file <name>_band.csv beside the figure) as a line and a band. */
        rt_buf rows = { 0 };
        rt_buf_printf(&rows, "group,split,epoch,n,loss_mean,loss_lo,loss_hi,error_mean,error_lo,error_hi\n");
        int nband = 0;
        for (int g = 0; g < ng; g++) {
            if (gsize[g] < 2) continue;
            char **mine = rt_xcalloc((size_t)gsize[g], sizeof *mine);
            int k = 0;
            for (int u = 0; u < used; u++) if (gof[u] == g) mine[k++] = paths[u];
            band_rows(&rows, g + 1, mine, k);
            free(mine);
            nband++;
        }
        if (nband) write_beside(r, name, "_band.csv", &rows, band, sizeof band);
        rt_buf_free(&rows);
        for (int u = 0; u < used; u++) rt_buf_printf(&group, "%s%d", u ? " " : "", gof[u] + 1);
        /* Taller by the legend's rows, laid out as style.gp's leg_cols does (7 in, 9 pt text). */
        int cols = (int)floor(0.96 * 7 * 72 / (((double)longest + 4) * 9 * 0.75));
        cols = cols < 1 ? 1 : cols > ng ? ng : cols;
        int lrows = ng > 40 ? 0 : (ng + cols - 1) / cols;
        common_vars(&vars, o, name, 7, 2.8 + lrows * 1.1 * 9 / 72.0 * 1.3,
                    band[0] ? "train dashed, test solid; seeds thin with their mean and 95% band; log y"
                            : "training curves: train (dashed), test (solid); log y axes");
        sb_var_str(&vars, "files", files.s, false);
        sb_var_str(&vars, "group", group.s, false);
        sb_var_str(&vars, "band", band, false);
        rt_buf_printf(&vars, "ng = %d\narray GT[%d]\narray GN[%d]\n", ng, ng, ng);
        for (int k = 0; k < ng; k++) {
            char var[32];
            snprintf(var, sizeof var, "GT[%d]", k + 1);
            sb_var_str(&vars, var, gt[k], false);
            rt_buf_printf(&vars, "GN[%d] = %d\n", k + 1, gsize[k]);
        }
        finish(r, name, o, draw(r->exp_dir, name, "training_curve.gp", vars.s));
    }
    for (int u = 0; u < used; u++) free(paths[u]);
    free(paths);
    free(gof);
    free(gsize);
    free(gt);
    free(files.s);
    free(group.s);
    free(vars.s);
}

// ---- information plane ----

static const char *const ESTIMATORS[] = { "variational", "kde_upper", "kde_lower", "binning", "ksg", "plugin" };
enum { NEST = sizeof ESTIMATORS / sizeof ESTIMATORS[0] };

/* The point's selfcheck.csv, if any, as two lines for under its plane (after a heading the figure
** prints): per drawn estimator, the
** range of its error in I(X;Z) (ixz) and in I(Z;Y) (izy) over the drawn layers and splits, on the
** tasks whose true I(X;Z) is half of log2 n. Empty when there is nothing to say. */
static void selfcheck_note(const char *path, const char *layers, const char *ests, const char *splits,
                           char *ixz, char *izy, size_t size) {
    ixz[0] = izy[0] = '\0';
    rt_csv_table t;
    if (!rt_csv_read(path, &t)) return;
    int cs = rt_csv_col(&t, "split"), cl = rt_csv_col(&t, "layer"), ce = rt_csv_col(&t, "estimator"),
        cv = rt_csv_col(&t, "level"), cx = rt_csv_col(&t, "ixz_err_bits"), cy = rt_csv_col(&t, "izy_err_bits");
    if (cs < 0 || cl < 0 || ce < 0 || cv < 0 || cx < 0 || cy < 0) { rt_csv_table_free(&t); return; }
    static const char *const short_names[] = { "variational", "KDE up", "KDE low", "binning", "KSG", "plug-in" };
    size_t nx = 0, ny = 0;
    for (int k = 0; k < NEST; k++) {
        if (!words_has(ests, ESTIMATORS[k])) continue;
        double lo[2] = { INFINITY, INFINITY }, hi[2] = { -INFINITY, -INFINITY };
        for (int r = 0; r < t.nrow; r++) {
            if (strcmp(rt_csv_at(&t, r, ce), ESTIMATORS[k]) != 0 || csv_num(rt_csv_at(&t, r, cv)) != 0.5 ||
                !words_has(layers, rt_csv_at(&t, r, cl)) || !words_has(splits, rt_csv_at(&t, r, cs)))
                continue;
            for (int q = 0; q < 2; q++) {
                double e = csv_num(rt_csv_at(&t, r, q ? cy : cx));
                if (isfinite(e)) lo[q] = fmin(lo[q], e), hi[q] = fmax(hi[q], e);
            }
        }
        for (int q = 0; q < 2; q++) {
            if (!(lo[q] <= hi[q])) continue;
            char *out = q ? izy : ixz;
            size_t *n = q ? &ny : &nx;
            char range[64], a[24], b[24];
            snprintf(a, sizeof a, "%+.1f", round(lo[q] * 10) / 10 + 0.0);      /* + 0.0: no "-0.0" */
            snprintf(b, sizeof b, "%+.1f", round(hi[q] * 10) / 10 + 0.0);
            if (strcmp(a, b) == 0) snprintf(range, sizeof range, "%s", a);
            else snprintf(range, sizeof range, "%s..%s", a, b);
            if (*n < size) *n += (size_t)snprintf(out + *n, size - *n, "%s%s %s", *n ? ", " : "", short_names[k], range);
        }
    }
    rt_csv_table_free(&t);
    char tmp[512];
    if (ixz[0]) {
        snprintf(tmp, sizeof tmp, "I(X;Z): %s", ixz);
        snprintf(ixz, size, "%s", tmp);
    }
    if (izy[0]) {
        snprintf(tmp, sizeof tmp, "I(Z;Y): %s", izy);
        snprintf(izy, size, "%s", tmp);
    }
}

/* Draws the plane of point i from its info.csv; quiet_missing: no note when the file is absent. */
static void plot_info_plane(plot_run *r, const plot_opts *o, int i, bool quiet_missing) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/info.csv", r->exp_dir, r->ids[i]);
    rt_csv_table t;
    if (!rt_csv_read(path, &t)) {
        if (!quiet_missing) note(r, o, "%s not found (declare measure = { ... } to measure information)", path);
        return;
    }
    const char *need[] = { "epoch", "split", "layer", "estimator", "ixz_bits", "izy_bits" };
    int c[6];
    for (int k = 0; k < 6; k++) {
        c[k] = rt_csv_col(&t, need[k]);
        if (c[k] < 0) {
            note(r, o, "%s has no column '%s'", path, need[k]);
            rt_csv_table_free(&t);
            return;
        }
    }
    int cclip = rt_csv_col(&t, "clipped_frac");
    /* the audit's columns (measure.audit): each estimate's interval, and whether it is told from 0 */
    bool audit = rt_csv_col(&t, "ixz_lo") >= 0 && rt_csv_col(&t, "ixz_hi") >= 0 && rt_csv_col(&t, "izy_lo") >= 0 &&
                 rt_csv_col(&t, "izy_hi") >= 0 && rt_csv_col(&t, "distinct_from_zero") >= 0;
    char layers[1024] = "", ests[256] = "", splits[64] = "", clip_layer[64] = "";
    double clip = 0;
    bool est_seen[NEST] = { 0 };
    for (int row = 0; row < t.nrow; row++) {
        const char *sp = rt_csv_at(&t, row, c[1]), *ly = rt_csv_at(&t, row, c[2]), *es = rt_csv_at(&t, row, c[3]);
        if (o->layers[0] && !words_has(o->layers, ly)) continue;
        if (o->estimators[0] && !words_has(o->estimators, es)) continue;
        if (o->splits[0] && !words_has(o->splits, sp)) continue;
        if (!isfinite(csv_num(rt_csv_at(&t, row, c[4]))) || !isfinite(csv_num(rt_csv_at(&t, row, c[5])))) continue;
        if (strchr(ly, ' ') || strchr(ly, '\'') || strchr(es, ' ')) continue;
        lb_words_add(layers, sizeof layers, ly);
        lb_words_add(splits, sizeof splits, sp);
        int k = 0;
        while (k < NEST && strcmp(ESTIMATORS[k], es) != 0) k++;
        if (k < NEST) est_seen[k] = true;
        else lb_words_add(ests, sizeof ests, es);
        double cf = cclip >= 0 ? csv_num(rt_csv_at(&t, row, cclip)) : 0;
        if (strcmp(es, "binning") == 0 && cf > clip) {
            clip = cf;
            snprintf(clip_layer, sizeof clip_layer, "%s", ly);
        }
    }
    rt_csv_table_free(&t);
    /* estimators in a fixed order, so their marker shapes and legend read the same in every figure */
    char ordered[256] = "";
    for (int k = 0; k < NEST; k++) if (est_seen[k]) lb_words_add(ordered, sizeof ordered, ESTIMATORS[k]);
    if (ests[0]) lb_words_add(ordered, sizeof ordered, ests);
    if (!layers[0]) {
        note(r, o, "%s has no rows with finite ixz_bits and izy_bits%s", path,
             o->layers[0] || o->estimators[0] || o->splits[0] ? " for the layers, estimators and splits asked for" : "");
        return;
    }
    /* train before test */
    char sp2[64] = "";
    if (words_has(splits, "train")) lb_words_add(sp2, sizeof sp2, "train");
    if (words_has(splits, "test")) lb_words_add(sp2, sizeof sp2, "test");
    for (char *w = strtok(splits, " "); w; w = strtok(NULL, " ")) lb_words_add(sp2, sizeof sp2, w);
    int nl = 1, ns = 1;
    for (char *p = layers; *p; p++) nl += *p == ' ';
    for (char *p = sp2; *p; p++) ns += *p == ' ';
    char name[160], title[256], notes[256] = "";
    point_name(r, i, o->per_layer ? "info_layers" : "info_plane", o, name, sizeof name);
    point_title(r, i, title, sizeof title);
    if (clip > 0)
        snprintf(notes, sizeof notes, "binning: up to %.1f%% of %s's activations fall outside the bin range; "
                 "its estimate is biased there", 100 * clip, clip_layer);
    char check_ixz[512], check_izy[512];
    snprintf(path, sizeof path, "%s/%s/selfcheck.csv", r->exp_dir, r->ids[i]);
    selfcheck_note(path, layers, ordered, sp2, check_ixz, check_izy, sizeof check_ixz);
    rt_buf v = { 0 };
    double w = 1.2 + 2.4 * nl, h = 1.4 + 2.1 * ns + (ns > 1 ? 0.23 : 0);
    if (!o->per_layer) {
        /* a row of square panels of side P inches per estimator family (KDE's bounds one family),
        ** a column per split: the margins and gaps of style.gp's grid in inches at 9 pt text */
        int nfam = 0, longest = 18;     /* the estimators' names in the key: "variational bounds" */
        for (int k = 0; k < NEST; k++) nfam += est_seen[k] && !(k == 2 && est_seen[1]);
        for (const char *e = ests; *e; e++) nfam += e == ests || e[-1] == ' ';
        for (char *l = layers, *sp; *l; l = sp + (*sp != 0)) {
            sp = strchr(l, ' ');
            if (!sp) sp = l + strlen(l);
            if (sp - l > longest) longest = (int)(sp - l);
        }
        double P = nfam > 2 ? 1.7 : 1.9, lh_in = 9 / 72.0 * 1.3, cw_in = 9 / 72.0 * 0.6;
        w = 8 * cw_in + 4.4 * lh_in + 10 * cw_in + 2 * lh_in + ns * P + (ns - 1) * 7 * cw_in;
        if (w < 4.6) w = 4.6;
        int kcols = (int)floor(0.96 * w * 72 / ((longest + 4) * 9 * 0.75)), nk = nl + (int)(strlen(ordered) ? 1 : 0);
        for (const char *e = ordered; *e; e++) nk += *e == ' ';
        kcols = kcols < 1 ? 1 : kcols;
        int krows = (nk + kcols - 1) / kcols;
        h = 3.2 * lh_in + (krows + 0.3) * 1.1 * lh_in + 4.0 * lh_in + nfam * P + (nfam - 1) * 4.2 * lh_in + (notes[0] ? 1.1 * lh_in : 0);
    }
    if (check_ixz[0] || check_izy[0]) h += 0.45;        /* the self-check's three lines */
    common_vars(&v, o, name, o->per_layer && w > 7.2 ? 7.2 : w, h, title);
    char rel[64];
    snprintf(rel, sizeof rel, "../%s/info.csv", r->ids[i]);
    sb_var_str(&v, "info", rel, false);
    sb_var_str(&v, "layers", layers, false);
    sb_var_str(&v, "estimators", ordered, false);
    sb_var_str(&v, "splits", sp2, false);
    rt_buf_printf(&v, "per_layer = %d\naudit = %d\n", o->per_layer ? 1 : 0, audit ? 1 : 0);
    sb_var_str(&v, "note", notes, true);
    sb_var_str(&v, "check_ixz", check_ixz, false);
    sb_var_str(&v, "check_izy", check_izy, false);
    finish(r, name, o, draw(r->exp_dir, name, "info_plane.gp", v.s));
    free(v.s);
}

// ---- the information planes of a sweep: small multiples ----

/* A point's configuration as a panel title: its label's params without the seed, "beta = 0.001,
** k = 2"; "" for a single configuration. */
static void config_title(const char *label, char *out, size_t size) {
    char legend[256];
    label_to_legend(label, legend, sizeof legend);
    out[0] = '\0';
    size_t n = 0;
    for (char *f = strtok(legend, ","); f; f = strtok(NULL, ",")) {
        if (strncmp(f, "seed=", 5) == 0 || !strchr(f, '=')) continue;
        char *eq = strchr(f, '=');
        const char *key = f;
        *eq = '\0';
        if (strcmp(key, "beta") == 0) key = "β";
        else if (strcmp(key, "gamma") == 0) key = "γ";
        if (n < size) n += (size_t)snprintf(out + n, size - n, "%s%s = %s", n ? ", " : "", key, eq + 1);
    }
}

/* The seeds of one configuration in the info_planes figure: per panel (configuration) with two or
** more of them, estimator, layer and epoch, the mean of I(X;Z) and of I(Z;Y) over its seeds with
** the bounds of their 95% Student-t intervals (summary.csv's rule). Appends rows
** "panel,estimator,layer,epoch,n,ixz_mean,ixz_lo,ixz_hi,izy_mean,izy_lo,izy_hi" to b, grouped by
** panel, estimator and layer, epochs in increasing order; returns how many it appended. */
typedef struct mean_row { int panel, est, layer, epoch; double x, y; } mean_row;
static int mean_row_cmp(const void *a, const void *b) {
    const mean_row *p = a, *q = b;
    int d[4] = { p->panel - q->panel, p->est - q->est, p->layer - q->layer, p->epoch - q->epoch };
    for (int k = 0; k < 4; k++) if (d[k]) return d[k] < 0 ? -1 : 1;
    return 0;
}
static int replicate_means(plot_run *r, const char *split, const char *ests, const char *layers, const int *fidx,
                           const int *fpan, int used, int npanel, rt_buf *b) {
    int *seeds = rt_xcalloc((size_t)npanel + 1, sizeof *seeds);
    for (int f = 0; f < used; f++) seeds[fpan[f]]++;
    mean_row *m = NULL;
    size_t nm = 0, cap = 0;
    for (int f = 0; f < used; f++) {
        if (seeds[fpan[f]] < 2) continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s/info.csv", r->exp_dir, r->ids[fidx[f]]);
        rt_csv_table t;
        if (!rt_csv_read(path, &t)) continue;
        int ce = rt_csv_col(&t, "epoch"), cs = rt_csv_col(&t, "split"), cl = rt_csv_col(&t, "layer"),
            ces = rt_csv_col(&t, "estimator"), cx = rt_csv_col(&t, "ixz_bits"), cy = rt_csv_col(&t, "izy_bits");
        for (int row = 0; ce >= 0 && cs >= 0 && cl >= 0 && ces >= 0 && cx >= 0 && cy >= 0 && row < t.nrow; row++) {
            const char *ly = rt_csv_at(&t, row, cl), *es = rt_csv_at(&t, row, ces);
            double x = csv_num(rt_csv_at(&t, row, cx)), y = csv_num(rt_csv_at(&t, row, cy)), e = csv_num(rt_csv_at(&t, row, ce));
            if (strcmp(rt_csv_at(&t, row, cs), split) != 0 || !isfinite(x) || !isfinite(y) || !(e >= 0 && e < 1e8)) continue;
            int k = 0, li = 0;
            while (k < NEST && strcmp(ESTIMATORS[k], es) != 0) k++;
            if (k == NEST || !words_has(ests, es) || !words_has(layers, ly)) continue;
            /* the layer's position in the word list */
            for (const char *w = layers; *w; li++) {
                size_t len = strcspn(w, " ");
                if (len == strlen(ly) && strncmp(w, ly, len) == 0) break;
                w += len + (w[len] == ' ');
            }
            if (nm == cap) m = realloc(m, (cap = cap ? 2 * cap : 1024) * sizeof *m);
            if (!m) RT_ABORT("out of memory");
            m[nm++] = (mean_row){ fpan[f], k, li, (int)e, x, y };
        }
        rt_csv_table_free(&t);
    }
    if (nm) qsort(m, nm, sizeof *m, mean_row_cmp);
    int rows = 0;
    for (size_t a = 0, z; a < nm; a = z) {
        for (z = a; z < nm && mean_row_cmp(&m[a], &m[z]) == 0; z++) {}
        int k = (int)(z - a);
        if (k < 2) continue;
        double sx = 0, sy = 0, vx = 0, vy = 0;
        for (size_t q = a; q < z; q++) sx += m[q].x, sy += m[q].y;
        sx /= k, sy /= k;
        for (size_t q = a; q < z; q++) vx += (m[q].x - sx) * (m[q].x - sx), vy += (m[q].y - sy) * (m[q].y - sy);
        double t = lb_t975(k - 1) / sqrt((double)k), hx = t * sqrt(vx / (k - 1)), hy = t * sqrt(vy / (k - 1));
        const char *ly = layers;
        for (int li = 0; li < m[a].layer; li++) ly += strcspn(ly, " ") + 1;
        rt_buf_printf(b, "%d,%s,%.*s,%d,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", m[a].panel + 1, ESTIMATORS[m[a].est],
                      (int)strcspn(ly, " "), ly, m[a].epoch, k, sx, sx - hx, sx + hx, sy, sy - hy, sy + hy);
        rows++;
    }
    free(m);
    free(seeds);
    return rows;
}

static void plot_info_planes(plot_run *r, const plot_opts *o) {
    int n = r->n, used = 0, npanel = 0;
    char (*ptitle)[128] = rt_xcalloc((size_t)(n ? n : 1), sizeof *ptitle);
    static const char *const est_titles[NEST] = { "variational bounds", "KDE upper (KL)", "KDE lower (Bhattacharyya)",
                                                  "binning", "KSG k-NN", "plug-in (binary)" };
    double xlo[NEST], xhi[NEST], ylo[NEST], yhi[NEST];
    for (int k = 0; k < NEST; k++) xlo[k] = ylo[k] = 0, xhi[k] = yhi[k] = -HUGE_VAL;
    char layers[1024] = "", split[8] = "train";
    int ep_max = 1;
    rt_buf files = { 0 }, panels = { 0 }, v = { 0 };
    int *fidx = rt_xcalloc((size_t)(n ? n : 1), sizeof *fidx), *fpan = rt_xcalloc((size_t)(n ? n : 1), sizeof *fpan);
    /* test when any point measured it */
    for (int i = 0; i < n; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s/info.csv", r->exp_dir, r->ids[i]);
        rt_csv_table t;
        if (!rt_csv_read(path, &t)) continue;
        int cs = rt_csv_col(&t, "split");
        for (int row = 0; cs >= 0 && row < t.nrow; row++)
            if (strcmp(rt_csv_at(&t, row, cs), "test") == 0 && (!o->splits[0] || words_has(o->splits, "test")))
                snprintf(split, sizeof split, "test");
        rt_csv_table_free(&t);
    }
    for (int i = 0; i < n; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s/info.csv", r->exp_dir, r->ids[i]);
        rt_csv_table t;
        if (!rt_csv_read(path, &t)) continue;
        int ce = rt_csv_col(&t, "epoch"), cs = rt_csv_col(&t, "split"), cl = rt_csv_col(&t, "layer"),
            ces = rt_csv_col(&t, "estimator"), cx = rt_csv_col(&t, "ixz_bits"), cy = rt_csv_col(&t, "izy_bits");
        bool any = false;
        for (int row = 0; ce >= 0 && cs >= 0 && cl >= 0 && ces >= 0 && cx >= 0 && cy >= 0 && row < t.nrow; row++) {
            const char *ly = rt_csv_at(&t, row, cl), *es = rt_csv_at(&t, row, ces);
            double x = csv_num(rt_csv_at(&t, row, cx)), y = csv_num(rt_csv_at(&t, row, cy));
            if (strcmp(rt_csv_at(&t, row, cs), split) != 0 || !isfinite(x) || !isfinite(y)) continue;
            if ((o->layers[0] && !words_has(o->layers, ly)) || (o->estimators[0] && !words_has(o->estimators, es))) continue;
            if (strchr(ly, ' ') || strchr(ly, '\'')) continue;
            for (int k = 0; k < NEST; k++) {
                if (strcmp(es, ESTIMATORS[k]) != 0) continue;
                xlo[k] = fmin(xlo[k], x), xhi[k] = fmax(xhi[k], x), ylo[k] = fmin(ylo[k], y), yhi[k] = fmax(yhi[k], y);
                any = true;
                lb_words_add(layers, sizeof layers, ly);
                int e = (int)csv_num(rt_csv_at(&t, row, ce));
                if (e > ep_max) ep_max = e;
            }
        }
        rt_csv_table_free(&t);
        if (!any) continue;
        char ct[128];
        config_title(r->n > 1 ? r->labels[i] : "", ct, sizeof ct);
        int p = -1;
        for (int q = 0; q < npanel && p < 0; q++) if (strcmp(ptitle[q], ct) == 0) p = q;
        if (p < 0) snprintf(ptitle[p = npanel++], sizeof ptitle[0], "%s", ct);
        rt_buf_printf(&files, "%s../%s/info.csv", used ? " " : "", r->ids[i]);
        rt_buf_printf(&panels, "%s%d", used ? " " : "", p + 1);
        fidx[used] = i, fpan[used] = p;
        used++;
    }
    /* the rows: the estimators measured; KDE's lower bound only without its upper one */
    char ests[256] = "";
    int nrow = 0;
    for (int k = 0; k < NEST; k++) {
        if (!(xhi[k] > -HUGE_VAL)) continue;
        if (k == 2 && xhi[1] > -HUGE_VAL) continue;
        lb_words_add(ests, sizeof ests, ESTIMATORS[k]);
        nrow++;
    }
    if (used >= 2 && nrow > 0) {
        char name[160], title[256];
        const char *exp = strrchr(r->exp_dir, '/');
        exp = exp ? exp + 1 : r->exp_dir;
        unique_name(r, o->name[0] ? o->name : "info_planes", name, sizeof name);
        /* configurations with several seeds: their mean trajectory and its 95% interval */
        rt_buf mb = { 0 };
        char means[200] = "";
        rt_buf_printf(&mb, "panel,estimator,layer,epoch,n,ixz_mean,ixz_lo,ixz_hi,izy_mean,izy_lo,izy_hi\n");
        if (replicate_means(r, split, ests, layers, fidx, fpan, used, npanel, &mb) > 0)
            write_beside(r, name, "_mean.csv", &mb, means, sizeof means);
        rt_buf_free(&mb);
        snprintf(title, sizeof title, "%s: information planes (%s), %d point%s", exp, split, used, used == 1 ? "" : "s");
        /* square panels of side P inches: the margins and gaps of style.gp's grid, in inches at 9 pt */
        double P = 1.7, lh_in = 9 / 72.0 * 1.3, cw_in = 9 / 72.0 * 0.6;
        double w = 8 * cw_in + 4.4 * lh_in + 10 * cw_in + 2 * lh_in + npanel * P + (npanel - 1) * 7 * cw_in;
        double legend = (1 + 0.3) * 1.1 * lh_in;        /* one row of layer markers */
        double h = 3.2 * lh_in + legend + 4.0 * lh_in + nrow * P + (nrow - 1) * 4.2 * lh_in;
        common_vars(&v, o, name, w < 4 ? 4 : w, h, title);
        sb_var_str(&v, "files", files.s, false);
        sb_var_str(&v, "panel_of", panels.s, false);
        sb_var_str(&v, "estimators", ests, false);
        sb_var_str(&v, "layers", layers, false);
        sb_var_str(&v, "split", split, false);
        sb_var_str(&v, "means", means, false);
        rt_buf_printf(&v, "ep_max = %d\nnc = %d\narray PT[%d]\narray ET[%d]\narray x_lo[%d]\narray x_hi[%d]\n"
                      "array y_lo[%d]\narray y_hi[%d]\n", ep_max, npanel, npanel, nrow, nrow, nrow, nrow, nrow);
        for (int q = 0; q < npanel; q++) {
            char var[32];
            snprintf(var, sizeof var, "PT[%d]", q + 1);
            sb_var_str(&v, var, ptitle[q][0] ? ptitle[q] : exp, false);
        }
        int row = 0;
        for (int k = 0; k < NEST; k++) {
            if (!words_has(ests, ESTIMATORS[k])) continue;
            row++;
            char var[32];
            snprintf(var, sizeof var, "ET[%d]", row);
            sb_var_str(&v, var, est_titles[k], false);
            double px = (xhi[k] - xlo[k] > 0 ? xhi[k] - xlo[k] : 1) * 0.06, py = (yhi[k] - ylo[k] > 0 ? yhi[k] - ylo[k] : 1) * 0.06;
            rt_buf_printf(&v, "x_lo[%d] = %.6g; x_hi[%d] = %.6g; y_lo[%d] = %.6g; y_hi[%d] = %.6g\n", row,
                          xlo[k] < 0 ? xlo[k] - px : 0.0, row, xhi[k] + px, row, ylo[k] < 0 ? ylo[k] - py : 0.0, row,
                          yhi[k] + py);
        }
        finish(r, name, o, draw(r->exp_dir, name, "info_planes.gp", v.s));
    }
    free(ptitle);
    free(fidx);
    free(fpan);
    free(files.s);
    free(panels.s);
    free(v.s);
}

// ---- summary.csv: the swept parameter and the information columns ----

typedef struct summary_info {
    rt_csv_table t;
    char path[1200];
    int nparams;                /* the param columns: 0 .. nparams-1 (before "n") */
    char axis[64];
    bool logaxis, only_axis;    /* axis values all > 0; the axis is the only param that varies */
    char ixz[160], izy[160];    /* stems "<layer>_<estimator>_ixz_bits" with a train or test column */
    char layer[64], estimator[64];
} summary_info;

/* The number of distinct values in column c; *numeric, *positive describe them. */
static int distinct(const rt_csv_table *t, int c, bool *numeric, bool *positive) {
    int n = 0;
    *numeric = *positive = true;
    for (int r = 0; r < t->nrow; r++) {
        const char *v = rt_csv_at(t, r, c);
        double x = csv_num(v);
        if (!isfinite(x)) *numeric = false;
        if (!(x > 0)) *positive = false;
        bool seen = false;
        for (int q = 0; q < r && !seen; q++) seen = strcmp(rt_csv_at(t, q, c), v) == 0;
        n += !seen;
    }
    return n;
}

/* Splits "<split>_<layer>_<estimator>_ixz_bits_mean" (a known estimator); false otherwise. */
static bool info_column(const char *col, char *split, char *layer, char *est) {
    const char *suffix = "_ixz_bits_mean";
    size_t len = strlen(col), ls = strlen(suffix);
    if (len <= ls || strcmp(col + len - ls, suffix) != 0) return false;
    const char *sp = strncmp(col, "train_", 6) == 0 ? "train" : strncmp(col, "test_", 5) == 0 ? "test" : NULL;
    if (!sp) return false;
    size_t start = strlen(sp) + 1, end = len - ls;
    for (int k = 0; k < NEST; k++) {
        size_t le = strlen(ESTIMATORS[k]);
        if (end < start + le + 2 || col[end - le - 1] != '_' || strncmp(col + end - le, ESTIMATORS[k], le) != 0) continue;
        snprintf(split, 8, "%s", sp);
        snprintf(layer, 64, "%.*s", (int)(end - le - 1 - start), col + start);
        snprintf(est, 64, "%s", ESTIMATORS[k]);
        return true;
    }
    return false;
}

/* Loads summary.csv and picks the axis (o->axis, else beta, else the first numeric param with more
** than one value) and the information columns (o->layer / o->estimator, else the first layer with
** variational columns, else the first information column). Returns a reason on failure, else NULL. */
static const char *summary_open(plot_run *r, const plot_opts *o, summary_info *s, bool need_info) {
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s/summary.csv", r->exp_dir);
    static char why[1400];
    if (!rt_csv_read(s->path, &s->t)) {
        snprintf(why, sizeof why, "%s not found", s->path);
        return why;
    }
    s->nparams = rt_csv_col(&s->t, "n");
    if (s->nparams < 0) {
        snprintf(why, sizeof why, "%s has no column 'n' (params, n, then <column>_mean/_sd/_ci95)", s->path);
        return why;
    }
    if (s->t.nrow < 2) {
        snprintf(why, sizeof why, "%s has %d configuration%s; a curve over a parameter needs two or more",
                 s->path, s->t.nrow, s->t.nrow == 1 ? "" : "s");
        return why;
    }
    int axis = -1, varying = 0;
    for (int c = 0; c < s->nparams; c++) {
        bool num, pos;
        int d = distinct(&s->t, c, &num, &pos);
        varying += d > 1;
        const char *name = s->t.cell[c];
        if (o->axis[0]) { if (strcmp(name, o->axis) == 0) axis = c; continue; }
        if (d > 1 && num && (axis < 0 || strcmp(name, "beta") == 0)) axis = c;
    }
    if (axis < 0) {
        if (o->axis[0]) snprintf(why, sizeof why, "%s has no param column '%s'", s->path, o->axis);
        else snprintf(why, sizeof why, "%s has no numeric param with more than one value", s->path);
        return why;
    }
    bool num, pos;
    int d = distinct(&s->t, axis, &num, &pos);
    if (!num || d < 2) {
        snprintf(why, sizeof why, "param '%s' of %s %s", s->t.cell[axis], s->path,
                 num ? "takes one value only" : "is not numeric");
        return why;
    }
    snprintf(s->axis, sizeof s->axis, "%s", s->t.cell[axis]);
    s->logaxis = pos;
    s->only_axis = varying == 1;
    for (int c = s->nparams + 1; c < s->t.ncol && !s->layer[0]; c++) {
        char sp[8], ly[64], es[64];
        if (!info_column(s->t.cell[c], sp, ly, es) || !csv_col_finite(&s->t, c)) continue;
        if (o->layer[0] && strcmp(ly, o->layer) != 0) continue;
        if (o->estimator[0] ? strcmp(es, o->estimator) != 0 : strcmp(es, "variational") != 0) continue;
        snprintf(s->layer, sizeof s->layer, "%s", ly);
        snprintf(s->estimator, sizeof s->estimator, "%s", es);
    }
    for (int c = s->nparams + 1; c < s->t.ncol && !s->layer[0] && !o->estimator[0]; c++) {
        char sp[8], ly[64], es[64];
        if (!info_column(s->t.cell[c], sp, ly, es) || !csv_col_finite(&s->t, c)) continue;
        if (o->layer[0] && strcmp(ly, o->layer) != 0) continue;
        snprintf(s->layer, sizeof s->layer, "%s", ly);
        snprintf(s->estimator, sizeof s->estimator, "%s", es);
    }
    if (s->layer[0]) {
        char col[256];
        snprintf(s->ixz, sizeof s->ixz, "%s_%s_ixz_bits", s->layer, s->estimator);
        snprintf(s->izy, sizeof s->izy, "%s_%s_izy_bits", s->layer, s->estimator);
        bool any = false;
        for (int k = 0; k < 2; k++) {
            snprintf(col, sizeof col, "%s_%s_mean", k ? "test" : "train", s->izy);
            any |= csv_col_finite(&s->t, rt_csv_col(&s->t, col));
        }
        if (!any) s->izy[0] = '\0';
    } else if (need_info) {
        snprintf(why, sizeof why, "%s has no information columns%s%s%s%s (<split>_<layer>_<estimator>_ixz_bits_mean)",
                 s->path, o->layer[0] ? " for layer " : "", o->layer, o->estimator[0] ? " and estimator " : "",
                 o->estimator);
        return why;
    }
    return NULL;
}

/* The splits among "train test" that have finite columns <split>_<stem>_mean and _ci95. */
static void splits_with(const summary_info *s, const char *stem, const char *filter, char *out, size_t size) {
    out[0] = '\0';
    const char *sp[2] = { "train", "test" };
    for (int k = 0; k < 2; k++) {
        char m[256], ci[256];
        snprintf(m, sizeof m, "%s_%s_mean", sp[k], stem);
        snprintf(ci, sizeof ci, "%s_%s_ci95", sp[k], stem);
        if ((!filter[0] || words_has(filter, sp[k])) && csv_col_finite(&s->t, rt_csv_col(&s->t, m)) && rt_csv_col(&s->t, ci) >= 0)
            lb_words_add(out, size, sp[k]);
    }
}

/* The exact IB curve the points' data set gives (vib.data.discrete writes <point>/ib_exact.csv): the
** first point's, as a path from plots/, when every point that has one has the same bytes (points on
** other joints would each need their own curve: none is drawn then). "" when there is none. */
static void exact_curve(const plot_run *r, char *out, size_t size) {
    out[0] = '\0';
    char *first = NULL, path[1200];
    size_t nfirst = 0;
    for (int i = 0; i < r->n; i++) {
        snprintf(path, sizeof path, "%s/%s/ib_exact.csv", r->exp_dir, r->ids[i]);
        size_t n;
        char *text = rt_read_file(path, &n);
        if (!text) continue;
        bool same = !first || (n == nfirst && memcmp(text, first, n) == 0);
        if (!first) {
            first = text, nfirst = n;
            snprintf(out, size, "../%s/ib_exact.csv", r->ids[i]);
        } else {
            free(text);
        }
        if (!same) {
            out[0] = '\0';
            break;
        }
    }
    free(first);
}

static void plot_ib_curve(plot_run *r, const plot_opts *o, bool quiet_missing) {
    summary_info s;
    const char *why = summary_open(r, o, &s, true);
    char splits[64] = "";
    if (!why && s.izy[0]) {
        char a[64], b[64];
        splits_with(&s, s.ixz, o->splits, a, sizeof a);
        splits_with(&s, s.izy, o->splits, b, sizeof b);
        for (char *w = strtok(a, " "); w; w = strtok(NULL, " ")) if (words_has(b, w)) lb_words_add(splits, sizeof splits, w);
    }
    if (!why && !splits[0]) why = "no split has both I(X;Z) and I(Z;Y) means with their _ci95 columns";
    if (why) {
        if (!quiet_missing) note(r, o, "%s", why);
        rt_csv_table_free(&s.t);
        return;
    }
    const char *exp = strrchr(r->exp_dir, '/');
    exp = exp ? exp + 1 : r->exp_dir;
    char name[160], title[256];
    unique_name(r, o->name[0] ? o->name : "ib_curve", name, sizeof name);
    snprintf(title, sizeof title, "%s: IB curve of %s (%s)", exp, s.layer, s.estimator);
    rt_buf v = { 0 };
    common_vars(&v, o, name, 4.2, 3.4, title);
    sb_var_str(&v, "summary", "../summary.csv", false);
    sb_var_str(&v, "axis", s.axis, false);
    rt_buf_printf(&v, "logaxis = %d\nconnect = %d\n", s.logaxis, s.only_axis);
    sb_var_str(&v, "ixz", s.ixz, false);
    sb_var_str(&v, "izy", s.izy, false);
    sb_var_str(&v, "splits", splits, false);
    char exact[64];
    exact_curve(r, exact, sizeof exact);
    sb_var_str(&v, "exact", exact, false);
    finish(r, name, o, draw(r->exp_dir, name, "ib_curve.gp", v.s));
    free(v.s);
    rt_csv_table_free(&s.t);
}

static void plot_error_vs(plot_run *r, const plot_opts *o, bool quiet_missing) {
    summary_info s;
    const char *why = summary_open(r, o, &s, false);
    if (why) {
        if (!quiet_missing) note(r, o, "%s", why);
        rt_csv_table_free(&s.t);
        return;
    }
    /* The error columns result.csv has (lb_run): averaged over eval_samples draws, and the
    ** mean-field one. VIB's one-sample error is not computed, so it is not a candidate. */
    const char *cand[] = { "train_error", "test_error", "test_error_det" };
    char errs[256] = "", splits[64] = "", ixz[160] = "", izy[160] = "";
    for (int k = 0; k < 3; k++) {
        char m[64], ci[64];
        snprintf(m, sizeof m, "%s_mean", cand[k]);
        snprintf(ci, sizeof ci, "%s_ci95", cand[k]);
        if (csv_col_finite(&s.t, rt_csv_col(&s.t, m)) && rt_csv_col(&s.t, ci) >= 0) lb_words_add(errs, sizeof errs, cand[k]);
    }
    if (o->info && s.layer[0]) {
        splits_with(&s, s.ixz, o->splits, splits, sizeof splits);
        if (splits[0]) snprintf(ixz, sizeof ixz, "%s", s.ixz);
        char b[64];
        if (s.izy[0]) {
            splits_with(&s, s.izy, o->splits, b, sizeof b);
            if (b[0]) snprintf(izy, sizeof izy, "%s", s.izy);
        }
    }
    if (!errs[0]) {
        if (!quiet_missing) note(r, o, "%s has no finite train_error_mean or test_error_mean with _ci95", s.path);
        rt_csv_table_free(&s.t);
        return;
    }
    const char *exp = strrchr(r->exp_dir, '/');
    exp = exp ? exp + 1 : r->exp_dir;
    char base[128], name[160], title[256];
    snprintf(base, sizeof base, "error_vs_%s", s.axis);
    unique_name(r, o->name[0] ? o->name : base, name, sizeof name);
    if (ixz[0]) snprintf(title, sizeof title, "%s: error and information (%s, %s) against %s", exp, s.layer, s.estimator, s.axis);
    else snprintf(title, sizeof title, "%s: error against %s", exp, s.axis);
    rt_buf v = { 0 };
    int panels = 1 + (ixz[0] != 0) + (izy[0] != 0);
    common_vars(&v, o, name, panels == 1 ? 3.6 : panels == 2 ? 5.4 : 7, 2.8, title);
    sb_var_str(&v, "summary", "../summary.csv", false);
    sb_var_str(&v, "axis", s.axis, false);
    rt_buf_printf(&v, "logaxis = %d\nconnect = %d\n", s.logaxis, s.only_axis);
    sb_var_str(&v, "errs", errs, false);
    sb_var_str(&v, "ixz", ixz, false);
    sb_var_str(&v, "izy", izy, false);
    sb_var_str(&v, "splits", splits[0] ? splits : "train test", false);
    finish(r, name, o, draw(r->exp_dir, name, "error_vs.gp", v.s));
    free(v.s);
    rt_csv_table_free(&s.t);
}

// ---- 2-D latent ----

static void plot_latent(plot_run *r, const plot_opts *o, int i, bool quiet_missing) {
    char path[1200], grid[1200];
    snprintf(path, sizeof path, "%s/%s/latent.csv", r->exp_dir, r->ids[i]);
    snprintf(grid, sizeof grid, "%s/%s/latent_grid.csv", r->exp_dir, r->ids[i]);
    rt_csv_table t;
    if (!rt_csv_read(path, &t)) {
        if (!quiet_missing) note(r, o, "%s not found (a model with a 2-D Gaussian bottleneck writes it)", path);
        return;
    }
    const char *need[] = { "label", "mu1", "mu2", "ell_major", "ell_minor", "ell_angle" };
    for (int k = 0; k < 6; k++)
        if (rt_csv_col(&t, need[k]) < 0) {
            note(r, o, "%s has no column '%s'", path, need[k]);
            rt_csv_table_free(&t);
            return;
        }
    int cl = rt_csv_col(&t, "label"), nclass = 0;
    for (int row = 0; row < t.nrow; row++) {
        double y = csv_num(rt_csv_at(&t, row, cl));
        if (isfinite(y) && y + 1 > nclass) nclass = (int)y + 1;
    }
    rt_csv_table_free(&t);
    if (nclass == 0) {
        note(r, o, "%s has no rows with a numeric label", path);
        return;
    }
    bool has_grid = rt_csv_read(grid, &t);
    if (has_grid) {
        has_grid = t.nrow >= 4 && rt_csv_col(&t, "z1") >= 0 && rt_csv_col(&t, "z2") >= 0 && rt_csv_col(&t, "entropy_bits") >= 0;
        rt_csv_table_free(&t);
    }
    char name[160], title[256], rel[64];
    point_name(r, i, "latent", o, name, sizeof name);
    point_title(r, i, title, sizeof title);
    rt_buf v = { 0 };
    common_vars(&v, o, name, 3.9, 3.9, title);
    snprintf(rel, sizeof rel, "../%s/latent.csv", r->ids[i]);
    sb_var_str(&v, "latent", rel, false);
    snprintf(rel, sizeof rel, "../%s/latent_grid.csv", r->ids[i]);
    sb_var_str(&v, "grid", has_grid ? rel : "", false);
    rt_buf_printf(&v, "points = %d\nellipses = %d\nnclass = %d\n", o->points, o->ellipses, nclass > 10 ? 10 : nclass);
    finish(r, name, o, draw(r->exp_dir, name, "latent.gp", v.s));
    free(v.s);
}

// ---- entry points ----

static void plot_one(plot_run *r, const plot_opts *o, bool dflt) {
    if (strcmp(o->kind, "training_curve") == 0) plot_training_curve(r, o);
    else if (strcmp(o->kind, "info_plane") == 0) {
        for (int i = 0; i < r->n; i++) plot_info_plane(r, o, i, dflt || r->n > 1);
        if (!o->per_layer) plot_info_planes(r, o);
    }
    else if (strcmp(o->kind, "ib_curve") == 0) plot_ib_curve(r, o, dflt);
    else if (strcmp(o->kind, "error_vs") == 0) plot_error_vs(r, o, dflt);
    else if (strcmp(o->kind, "latent") == 0) for (int i = 0; i < r->n; i++) plot_latent(r, o, i, dflt || r->n > 1);
    else RT_ABORT("unknown plot kind '%s' (vib.lua and lb_plot.c disagree)", o->kind);
}

int lb_plot_run(const plot_opts *plots, int np, const char *exp_dir, char ids[][17], const char *const *titles,
                int n, bool quiet) {
    plot_run *r = rt_xcalloc(1, sizeof *r);
    r->exp_dir = exp_dir;
    r->ids = ids;
    r->titles = titles;
    r->n = n;
    r->quiet = quiet;
    gnuplot_missing = false;
    r->labels = rt_xcalloc((size_t)(n ? n : 1), sizeof *r->labels);
    point_labels(r);
    plot_opts o;
    bool declared_tc = false;
    for (int k = 0; k < np; k++) declared_tc |= strcmp(plots[k].kind, "training_curve") == 0;
    if (!declared_tc) {
        lb_plot_opts_default(&o, "training_curve");
        plot_one(r, &o, true);
    }
    if (np > 0) {
        for (int k = 0; k < np && !gnuplot_missing; k++) plot_one(r, &plots[k], false);
    } else {
        /* the defaults: what the CSV holds */
        const char *kinds[] = { "info_plane", "ib_curve", "error_vs", "latent" };
        for (int k = 0; k < 4 && !gnuplot_missing; k++) {
            lb_plot_opts_default(&o, kinds[k]);
            plot_one(r, &o, true);
        }
    }
    if (!gnuplot_missing) r->failed += lb_plot_attack(exp_dir, ids, n, quiet, draw);
    int rc = r->failed ? -1 : 0;
    for (int i = 0; i < r->nused; i++) free(r->used[i]);
    free(r->used);
    free(r->labels);
    free(r);
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
    /* sorted, so the output reads the same every time */
    char (*names)[256] = NULL;
    int count = 0, cap = 0, failed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || len >= 256 || e->d_name[0] == '.' || strcmp(e->d_name + len - 3, ".gp") != 0) continue;
        if (count == cap) {
            names = realloc(names, (size_t)(cap = cap ? 2 * cap : 16) * sizeof *names);
            if (!names) RT_ABORT("out of memory");
        }
        snprintf(names[count++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    if (count) qsort(names, (size_t)count, sizeof *names, (int (*)(const void *, const void *))strcmp);
    gnuplot_missing = false;
    for (int i = 0; i < count && !gnuplot_missing; i++) {
        if (run_gnuplot(dir, names[i]) != 0) failed++;
        else printf("redrew %s/%.*s\n", dir, (int)(strlen(names[i]) - 3), names[i]);
    }
    free(names);
    if (!count) fprintf(stderr, "vibrun: %s holds no .gp scripts\n", dir);
    return count && !failed && !gnuplot_missing ? 0 : 1;
}
