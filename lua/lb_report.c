// lb_report.c: runs/<experiment>/report.html, the one-file offline report of a run directory.
//
// Everything it shows is read from the directory's files (summary.csv, results.csv, the manifest,
// each point's config.lua, timing.csv, run.txt and failed, the script the manifest names, the SVG
// figures in plots/) and written into one HTML file that needs nothing else: the figures are
// inlined as <svg> elements, the styles are inline, and a Content-Security-Policy meta forbids
// every fetch (default-src 'none'), allowing only the one inline script below by its hash. That
// script only sorts tables; with JavaScript off the page reads the same, unsorted.
//
// Every text that comes from a file is escaped (html_text); an SVG is inlined only when it holds
// nothing but drawing (svg_safe: no script, no event attribute, no reference outside itself), and
// its ids are prefixed per figure so that two figures' ids never collide.
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lb_impl.h"
#include "rt_csv.h"
#include "rt_text.h"

/* The one script of the page: click a column header to sort by it (numbers by value, by the cells'
** data-v), again to reverse. REPORT_SCRIPT_SHA256 is base64(sha256(REPORT_SCRIPT)), the hash the
** page's CSP allows; test_report checks the two agree (sha256sum | base64). */
#define REPORT_SCRIPT \
    "document.documentElement.className='js';" \
    "document.querySelectorAll('table.sort').forEach(function(t){" \
    "t.querySelectorAll('thead th').forEach(function(h,i){h.tabIndex=0;h.onclick=function(){" \
    "var b=t.tBodies[0],r=Array.prototype.slice.call(b.rows),d=h.dataset.d==='1'?-1:1;h.dataset.d=d;" \
    "r.sort(function(x,y){var a=x.cells[i].dataset.v||x.cells[i].textContent," \
    "c=y.cells[i].dataset.v||y.cells[i].textContent,p=parseFloat(a),q=parseFloat(c);" \
    "return d*(isNaN(p)||isNaN(q)?a.localeCompare(c):p-q);});" \
    "r.forEach(function(e){b.appendChild(e);});};});});"
#define REPORT_SCRIPT_SHA256 "4I9trcKGTaTnYWXre+S0Yc1ZKHI+jcgb4tAC6rNCwdM="

const char *lb_report_script(void) { return REPORT_SCRIPT; }
const char *lb_report_script_hash(void) { return REPORT_SCRIPT_SHA256; }

static const char *build_version = "?", *build_commit = "?";

void lb_build_set(const char *version, const char *commit) {
    build_version = version;
    build_commit = commit;
}

const char *lb_build_version(void) { return build_version; }
const char *lb_build_commit(void) { return build_commit; }

// ---- HTML text ----

/* Appends s escaped for HTML text and attribute values: & < > " ' as entities, other control
** characters (except tab and newline) dropped. */
static void html_text(rt_buf *b, const char *s) {
    for (const char *c = s; *c; c++) {
        switch (*c) {
        case '&': rt_buf_printf(b, "&amp;"); break;
        case '<': rt_buf_printf(b, "&lt;"); break;
        case '>': rt_buf_printf(b, "&gt;"); break;
        case '"': rt_buf_printf(b, "&quot;"); break;
        case '\'': rt_buf_printf(b, "&#39;"); break;
        default:
            if ((unsigned char)*c < 0x20 && *c != '\n' && *c != '\t') break;
            rt_buf_put(b, c, 1);
        }
    }
}

static double num(const char *s) {
    char *end;
    double v = strtod(s, &end);
    return end == s || *end ? (double)NAN : v;
}

/* A value as people read it: 4 significant digits. */
static void fmt4(double v, char *out, size_t size) {
    if (isnan(v)) snprintf(out, size, "nan");
    else snprintf(out, size, "%.4g", v);
}

// ---- the run directory ----

typedef struct point_info {
    const char *id, *title;
    int epochs;
    const char *state;                  /* done diverged running interrupted failed pending */
    int result_row;                     /* its row in results.csv, or -1 */
} point_info;

typedef struct report {
    const char *exp_dir;
    char name[256];
    lb_manifest man;
    rt_csv_table sum, res;
    bool has_sum, has_res;
    int nparams;                        /* summary.csv's params: the columns before n */
    int res_seed, res_status;           /* results.csv's seed and status columns */
    point_info *pts;
    int *config_of;                     /* per point: its summary row, or -1 */
    size_t svg_bytes, svg_budget;
    int nfig;
} report;

static bool file_exists(const char *dir, const char *id, const char *name) {
    char path[1400];
    snprintf(path, sizeof path, "%s/%s/%s", dir, id, name);
    struct stat st;
    return stat(path, &st) == 0;
}

static const char *point_state(const char *exp_dir, const char *id) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", exp_dir, id);
    lb_result r = lb_result_status(exp_dir, id);
    if (r == LB_RESULT_DONE) return "done";
    if (r == LB_RESULT_DIVERGED) return "diverged";
    if (lb_lock_holder(dir)) return "running";
    if (file_exists(exp_dir, id, "failed")) return "failed";
    if (file_exists(exp_dir, id, "checkpoint") || file_exists(exp_dir, id, "metrics.csv.part")) return "interrupted";
    return "pending";
}

/* The row of results.csv whose point_id is id, or -1. */
static int result_row(const report *r, const char *id) {
    int c = rt_csv_col(&r->res, "point_id");
    for (int row = 0; r->has_res && c >= 0 && row < r->res.nrow; row++)
        if (strcmp(rt_csv_at(&r->res, row, c), id) == 0) return row;
    return -1;
}

/* The summary row a results.csv row belongs to: equal param columns (those before n in
** summary.csv, between point_id and seed in results.csv). */
static int config_row(const report *r, int rrow) {
    if (!r->has_sum || rrow < 0 || r->res_seed < 0) return -1;
    for (int s = 0; s < r->sum.nrow; s++) {
        bool same = true;
        for (int c = 0; c < r->nparams && same; c++) {
            int rc = rt_csv_col(&r->res, rt_csv_at(&r->sum, -1, c));
            same = rc >= 0 && strcmp(rt_csv_at(&r->res, rrow, rc), rt_csv_at(&r->sum, s, c)) == 0;
        }
        if (same) return s;
    }
    return -1;
}

/* Whether param column c of summary.csv takes more than one value. */
static bool param_varies(const report *r, int c) {
    for (int s = 1; s < r->sum.nrow; s++)
        if (strcmp(rt_csv_at(&r->sum, s, c), rt_csv_at(&r->sum, 0, c)) != 0) return true;
    return false;
}

/* Whether a summary column X_mean is shown in the sweep table: errors, the objective's terms (rates,
** in bits), I(Z;Y) of the test split, robust accuracies. */
static bool shown_metric(const char *col) {
    size_t n = strlen(col);
    if (n < 6 || strcmp(col + n - 5, "_mean") != 0) return false;
    char base[256];
    snprintf(base, sizeof base, "%.*s", (int)(n - 5), col);
    if (strncmp(base, "robust_", 7) == 0) return true;
    if (strstr(base, "_error")) return true;
    if (strncmp(base, "test_", 5) != 0) return false;
    if (strstr(base, "_izy_bits")) return true;
    if (strstr(base, "_ixz_bits")) return false;
    return strcmp(base, "test_loss_bits") != 0 && strlen(base) > 10 && strcmp(base + strlen(base) - 5, "_bits") == 0;
}

// ---- SVG figures ----

/* Lowercase copy of s. */
static char *lower(const char *s) {
    char *l = rt_xstrdup(s);
    for (char *c = l; *c; c++) *c = (char)tolower((unsigned char)*c);
    return l;
}

/* Whether an SVG file holds drawing only: no script, no foreign content, no event attribute, no
** reference to anything outside itself (href and url() to fragments only, no external entity).
** why: the first offence, for the note. */
static bool svg_safe(const char *svg, char *why, size_t size) {
    char *l = lower(svg);
    static const char *const banned[] = { "<script", "<foreignobject", "<iframe", "<object", "<embed", "<a ", "<a>",
                                          "javascript:", "@import", "<!entity", "<style", "<animate", "<set",
                                          "<handler", "<listener" };
    bool ok = true;
    for (size_t k = 0; ok && k < sizeof banned / sizeof banned[0]; k++)
        if (strstr(l, banned[k])) ok = false, snprintf(why, size, "it holds '%s'", banned[k]);
    /* event attributes: whitespace, "on", letters, optional spaces, '=' */
    for (const char *p = l; ok && (p = strstr(p, "on")); p++) {
        if (p == l || !isspace((unsigned char)p[-1])) continue;
        const char *q = p + 2;
        while (isalpha((unsigned char)*q)) q++;
        while (isspace((unsigned char)*q)) q++;
        if (q > p + 2 && *q == '=') ok = false, snprintf(why, size, "it has an event attribute (on...=)");
    }
    for (const char *p = l; ok && (p = strstr(p, "href")); p++) {
        const char *q = p + 4;
        while (isspace((unsigned char)*q)) q++;
        if (*q != '=') continue;
        q++;
        while (isspace((unsigned char)*q)) q++;
        if ((*q == '"' || *q == '\'') && q[1] == '#') continue;
        /* gnuplot's images (a pm3d map) come as PNG data inside the file */
        if ((*q == '"' || *q == '\'') && strncmp(q + 1, "data:image/png;base64,", 22) == 0) continue;
        ok = false, snprintf(why, size, "it links outside itself (href not to a #fragment or PNG data)");
    }
    for (const char *p = l; ok && (p = strstr(p, "url(")); p++) {
        const char *q = p + 4;
        while (*q == ' ' || *q == '\'' || *q == '"') q++;
        if (*q != '#') ok = false, snprintf(why, size, "it has a url() outside itself");
    }
    free(l);
    return ok;
}

/* Appends the SVG from its <svg element on, its ids and references to them prefixed with
** "f<k>-", so that several figures live in one page. */
static void svg_inline(rt_buf *b, const char *svg, int k) {
    const char *p = strstr(svg, "<svg");
    if (!p) return;
    char pre[32];
    snprintf(pre, sizeof pre, "f%d-", k);
    while (*p) {
        /* id="x" id='x' -> id="f<k>-x"; href="#x" -> href="#f<k>-x"; url(#x) -> url(#f<k>-x) */
        if ((strncmp(p, " id=", 4) == 0 || strncmp(p, "\tid=", 4) == 0) && (p[4] == '"' || p[4] == '\'')) {
            rt_buf_put(b, p, 5);
            rt_buf_printf(b, "%s", pre);
            p += 5;
        } else if (strncmp(p, "href=", 5) == 0 && (p[5] == '"' || p[5] == '\'') && p[6] == '#') {
            rt_buf_put(b, p, 7);
            rt_buf_printf(b, "%s", pre);
            p += 7;
        } else if (strncmp(p, "url(#", 5) == 0) {
            rt_buf_put(b, p, 5);
            rt_buf_printf(b, "%s", pre);
            p += 5;
        } else {
            rt_buf_put(b, p, 1);
            p++;
        }
    }
}

static int strcmp_ptr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The SVG figures of plots/, sorted by name; *n of them. */
static char **svg_names(const char *exp_dir, int *n) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/plots", exp_dir);
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **names = NULL;
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || e->d_name[0] == '.' || strcmp(e->d_name + len - 4, ".svg") != 0) continue;
        if (*n == cap) {
            names = realloc(names, (size_t)(cap = cap ? 2 * cap : 32) * sizeof *names);
            if (!names) RT_ABORT("out of memory");
        }
        names[(*n)++] = rt_xstrdup(e->d_name);
    }
    closedir(d);
    if (*n) qsort(names, (size_t)*n, sizeof *names, strcmp_ptr);
    return names;
}

/* Which point a figure draws: the one id its .gp script reads ("../<id>/"), else -1 (a figure of
** the whole run, or of several points). */
static int figure_point(const report *r, const char *svg_name) {
    char path[1400];
    snprintf(path, sizeof path, "%s/plots/%.*s.gp", r->exp_dir, (int)(strlen(svg_name) - 4), svg_name);
    char *gp = rt_read_file(path, NULL);
    if (!gp) return -1;
    int found = -1;
    for (int i = 0; i < r->man.n; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, "../%s/", r->man.ids[i]);
        if (!strstr(gp, needle)) continue;
        if (found >= 0) { found = -1; break; }
        found = i;
    }
    free(gp);
    return found;
}

/* One figure: inlined when it is safe and the page's figure budget allows, else a note with its path. */
static void figure(report *r, rt_buf *b, const char *svg_name) {
    char path[1400], why[128] = "";
    snprintf(path, sizeof path, "%s/plots/%s", r->exp_dir, svg_name);
    size_t len = 0;
    char *svg = rt_read_file(path, &len);
    rt_buf_printf(b, "<figure>");
    if (!svg) {
        snprintf(why, sizeof why, "it cannot be read");
    } else if (r->svg_bytes + len > r->svg_budget) {
        snprintf(why, sizeof why, "the report keeps under 10 MB; open the file");
    } else if (strlen(svg) != len || !strstr(svg, "<svg")) {
        snprintf(why, sizeof why, "it is not an SVG file");
    } else if (svg_safe(svg, why, sizeof why)) {
        svg_inline(b, svg, r->nfig++);
        r->svg_bytes += len;
        why[0] = '\0';
    }
    if (why[0]) {
        rt_buf_printf(b, "<p class=\"note\">figure ");
        html_text(b, path);
        rt_buf_printf(b, " not inlined: ");
        html_text(b, why);
        rt_buf_printf(b, "</p>");
    }
    rt_buf_printf(b, "<figcaption>");
    html_text(b, svg_name);
    rt_buf_printf(b, "</figcaption></figure>\n");
    free(svg);
}

// ---- provenance ----

/* From <point>/run.txt (lb_run.c writes it): the value of "key: value", or "" */
static void run_txt(const char *text, const char *key, char *out, size_t size) {
    out[0] = '\0';
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
            const char *v = p + kl + 1;
            while (*v == ' ') v++;
            size_t n = strcspn(v, "\n");
            snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), v);
        }
    }
}

/* From <point>/timing.csv: seconds per epoch (train + evaluation), threads and BLAS kernels. */
static void timing(const char *exp_dir, const char *id, char *per_epoch, char *threads, char *kernels, size_t size) {
    snprintf(per_epoch, size, "-");
    snprintf(threads, size, "-");
    snprintf(kernels, size, "-");
    char path[1400];
    snprintf(path, sizeof path, "%s/%s/timing.csv", exp_dir, id);
    rt_csv_table t;
    if (!rt_csv_read(path, &t)) {
        snprintf(path, sizeof path, "%s/%s/timing.csv.part", exp_dir, id);
        if (!rt_csv_read(path, &t)) return;
    }
    int ct = rt_csv_col(&t, "train_seconds"), ce = rt_csv_col(&t, "eval_seconds"), ch = rt_csv_col(&t, "threads"),
        ck = rt_csv_col(&t, "blas_kernels");
    double s = 0;
    int n = 0;
    for (int row = 0; row < t.nrow && ct >= 0 && ce >= 0; row++) {
        double a = num(rt_csv_at(&t, row, ct)), e = num(rt_csv_at(&t, row, ce));
        if (isfinite(a) && isfinite(e)) s += a + e, n++;
    }
    if (n) snprintf(per_epoch, size, "%.3g", s / n);
    if (t.nrow && ch >= 0) snprintf(threads, size, "%s", rt_csv_at(&t, t.nrow - 1, ch));
    if (t.nrow && ck >= 0) snprintf(kernels, size, "%s", rt_csv_at(&t, t.nrow - 1, ck));
    rt_csv_table_free(&t);
}

static void cell(rt_buf *b, const char *text) {
    rt_buf_printf(b, "<td>");
    html_text(b, text);
    rt_buf_printf(b, "</td>");
}

/* The table of the points listed (idx, n of them): id, params, state, test error, seconds per
** epoch, threads, kernels, host, start, end. */
static void points_table(report *r, rt_buf *b, const int *idx, int n) {
    rt_buf_printf(b, "<table class=\"sort\"><thead><tr><th>point</th><th>params</th><th>state</th><th>epochs</th>"
                     "<th>test error</th><th>s / epoch</th><th>threads</th><th>OpenBLAS kernels</th><th>host</th>"
                     "<th>started</th><th>ended</th></tr></thead><tbody>\n");
    int cerr = r->has_res ? rt_csv_col(&r->res, "test_error") : -1, cep = r->has_res ? rt_csv_col(&r->res, "epochs") : -1;
    for (int k = 0; k < n; k++) {
        const point_info *p = &r->pts[idx[k]];
        char path[1400], per[64], th[64], ker[64], host[256], start[64], end[64], ep[32];
        snprintf(path, sizeof path, "%s/%s/run.txt", r->exp_dir, p->id);
        char *txt = rt_read_file(path, NULL);
        run_txt(txt, "host", host, sizeof host);
        run_txt(txt, "started", start, sizeof start);
        run_txt(txt, "ended", end, sizeof end);
        free(txt);
        timing(r->exp_dir, p->id, per, th, ker, sizeof per);
        snprintf(ep, sizeof ep, "%s/%d", p->result_row >= 0 && cep >= 0 ? rt_csv_at(&r->res, p->result_row, cep) : "-",
                 p->epochs);
        rt_buf_printf(b, "<tr>");
        cell(b, p->id);
        cell(b, p->title);
        cell(b, p->state);
        cell(b, ep);
        cell(b, p->result_row >= 0 && cerr >= 0 ? rt_csv_at(&r->res, p->result_row, cerr) : "-");
        cell(b, per);
        cell(b, th);
        cell(b, ker);
        cell(b, host[0] ? host : "-");
        cell(b, start[0] ? start : "-");
        cell(b, end[0] ? end : "-");
        rt_buf_printf(b, "</tr>\n");
    }
    rt_buf_printf(b, "</tbody></table>\n");
}

/* A file's text in a <pre>, escaped; a note when it cannot be read. */
static void pre_file(rt_buf *b, const char *path) {
    char *text = rt_read_file(path, NULL);
    if (!text) {
        rt_buf_printf(b, "<p class=\"note\">");
        html_text(b, path);
        rt_buf_printf(b, " cannot be read</p>\n");
        return;
    }
    rt_buf_printf(b, "<pre>");
    html_text(b, text);
    rt_buf_printf(b, "</pre>\n");
    free(text);
}

// ---- the table a run ends with ----

void lb_report_table(const char *exp_dir, FILE *out, int max) {
    report r = { 0 };
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.csv", exp_dir);
    if (!rt_csv_read(path, &r.sum)) return;
    r.has_sum = true;
    const rt_csv_table *s = &r.sum;
    r.nparams = rt_csv_col(s, "n");
    int cerr = rt_csv_col(s, "test_error_mean"), cci = rt_csv_col(s, "test_error_ci95");
    int crate = rt_csv_col(s, "test_kl_bits_mean");
    for (int c = r.nparams + 1; crate < 0 && r.nparams >= 0 && c < s->ncol; c++) {
        const char *h = rt_csv_at(s, -1, c);
        size_t n = strlen(h);
        if (strncmp(h, "test_", 5) == 0 && n > 15 && strcmp(h + n - 10, "_bits_mean") == 0 && !strstr(h, "_ixz_") &&
            !strstr(h, "_izy_") && strcmp(h, "test_loss_bits_mean") != 0 && strcmp(h, "test_ce_bits_mean") != 0)
            crate = c;
    }
    if (r.nparams < 0 || cerr < 0 || s->nrow == 0) {
        rt_csv_table_free(&r.sum);
        return;
    }
    /* column widths: the varying params (all when none varies), then the numbers */
    int w[64] = { 0 }, np = r.nparams < 64 ? r.nparams : 64;
    bool any = false;
    for (int c = 0; c < np; c++) any |= param_varies(&r, c);
    for (int c = 0; c < np; c++) {
        if (any && !param_varies(&r, c)) { w[c] = -1; continue; }
        w[c] = (int)strlen(rt_csv_at(s, -1, c));
        for (int row = 0; row < s->nrow && row < max; row++)
            if ((int)strlen(rt_csv_at(s, row, c)) > w[c]) w[c] = (int)strlen(rt_csv_at(s, row, c));
    }
    char rate_name[64] = "rate (bits)";
    if (crate >= 0) {
        const char *h = rt_csv_at(s, -1, crate);
        snprintf(rate_name, sizeof rate_name, "rate: %.*s (bits)", (int)(strlen(h) - 10 - 5), h + 5);
    }
    for (int c = 0; c < np; c++)
        if (w[c] >= 0) fprintf(out, "%-*s  ", w[c], rt_csv_at(s, -1, c));
    fprintf(out, "%3s  %-20s%s%s\n", "n", "test error (95%)", crate >= 0 ? "  " : "", crate >= 0 ? rate_name : "");
    for (int row = 0; row < s->nrow && row < max; row++) {
        for (int c = 0; c < np; c++)
            if (w[c] >= 0) fprintf(out, "%-*s  ", w[c], rt_csv_at(s, row, c));
        char e[64], ci[64], err[96];
        fmt4(num(rt_csv_at(s, row, cerr)), e, sizeof e);
        fmt4(cci >= 0 ? num(rt_csv_at(s, row, cci)) : (double)NAN, ci, sizeof ci);
        snprintf(err, sizeof err, "%s +- %s", e, ci);
        fprintf(out, "%3s  %-20s", rt_csv_at(s, row, r.nparams), err);
        if (crate >= 0) {
            fmt4(num(rt_csv_at(s, row, crate)), e, sizeof e);
            fprintf(out, "  %s", e);
        }
        fprintf(out, "\n");
    }
    if (s->nrow > max) fprintf(out, "... %d more configurations in %s\n", s->nrow - max, path);
    rt_csv_table_free(&r.sum);
}

// ---- the page ----

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:80em;padding:0 1em;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:2em}h3{font-size:1.05em}"
    "table{border-collapse:collapse;margin:.5em 0;font-variant-numeric:tabular-nums}"
    "th,td{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}"
    "th{background:#f4f4f4}.js table.sort th{cursor:pointer}td.n{text-align:right;white-space:nowrap}"
    "tr.bad td{background:#fff0f0}pre{background:#f8f8f8;padding:.5em;overflow:auto;max-height:30em}"
    "figure{display:inline-block;margin:.5em;vertical-align:top}figcaption{font-size:.85em;color:#555}"
    "svg{max-width:100%;height:auto}.note{color:#7a4b00}details{margin:.4em 0}.wide{overflow-x:auto}";

/* The sweep table: one row per configuration of summary.csv. */
static void sweep_table(report *r, rt_buf *b) {
    if (!r->has_sum || r->nparams < 0) {
        rt_buf_printf(b, "<p class=\"note\">no summary.csv in this directory yet (no point has finished)</p>\n");
        return;
    }
    const rt_csv_table *s = &r->sum;
    int cseeds = rt_csv_col(s, "seeds");
    bool any_varies = false;
    for (int c = 0; c < r->nparams; c++) any_varies |= param_varies(r, c);
    /* fixed params, named once above the table */
    rt_buf fixed = { 0 };
    for (int c = 0; c < r->nparams; c++) {
        if (param_varies(r, c) || !any_varies) continue;
        rt_buf_printf(&fixed, "%s", fixed.n ? ", " : "");
        html_text(&fixed, rt_csv_at(s, -1, c));
        rt_buf_printf(&fixed, " = ");
        html_text(&fixed, s->nrow ? rt_csv_at(s, 0, c) : "");
    }
    if (fixed.n) rt_buf_printf(b, "<p>The same in every configuration: %s.</p>\n", fixed.s);
    rt_buf_free(&fixed);
    rt_buf_printf(b, "<p>One row per configuration: the mean over its seeds &plusmn; the half-width of the 95%% "
                     "Student-t interval (summary.csv). Information in bits. Click a column to sort.</p>\n");
    rt_buf_printf(b, "<div class=\"wide\"><table class=\"sort\" id=\"sweep\"><thead><tr>");
    for (int c = 0; c < r->nparams; c++) {
        if (any_varies && !param_varies(r, c)) continue;
        rt_buf_printf(b, "<th>");
        html_text(b, rt_csv_at(s, -1, c));
        rt_buf_printf(b, "</th>");
    }
    for (int c = r->nparams + 1; c < s->ncol; c++) {
        if (!shown_metric(rt_csv_at(s, -1, c))) continue;
        const char *h = rt_csv_at(s, -1, c);
        rt_buf_printf(b, "<th>");
        char base[256];
        snprintf(base, sizeof base, "%.*s", (int)(strlen(h) - 5), h);
        html_text(b, base);
        rt_buf_printf(b, "</th>");
    }
    rt_buf_printf(b, "<th>n</th><th>seeds</th></tr></thead><tbody>\n");
    for (int row = 0; row < s->nrow; row++) {
        rt_buf_printf(b, "<tr id=\"r%d\">", row);
        for (int c = 0; c < r->nparams; c++) {
            if (any_varies && !param_varies(r, c)) continue;
            rt_buf_printf(b, "<td data-c=\"");
            html_text(b, rt_csv_at(s, -1, c));
            rt_buf_printf(b, "\" data-v=\"");
            html_text(b, rt_csv_at(s, row, c));
            rt_buf_printf(b, "\"><a href=\"#c%d\">", row);
            html_text(b, rt_csv_at(s, row, c));
            rt_buf_printf(b, "</a></td>");
        }
        for (int c = r->nparams + 1; c < s->ncol; c++) {
            const char *h = rt_csv_at(s, -1, c);
            if (!shown_metric(h)) continue;
            char ci_name[300], m[64], ci[64];
            snprintf(ci_name, sizeof ci_name, "%.*s_ci95", (int)(strlen(h) - 5), h);
            int cc = rt_csv_col(s, ci_name);
            fmt4(num(rt_csv_at(s, row, c)), m, sizeof m);
            double civ = cc >= 0 ? num(rt_csv_at(s, row, cc)) : (double)NAN;
            rt_buf_printf(b, "<td class=\"n\" data-c=\"");
            html_text(b, h);
            rt_buf_printf(b, "\" data-v=\"");
            html_text(b, rt_csv_at(s, row, c));
            rt_buf_printf(b, "\">%s", m);
            if (isfinite(civ) && civ > 0) {
                fmt4(civ, ci, sizeof ci);
                rt_buf_printf(b, " &plusmn; %s", ci);
            }
            rt_buf_printf(b, "</td>");
        }
        rt_buf_printf(b, "<td class=\"n\" data-c=\"n\" data-v=\"");
        html_text(b, rt_csv_at(s, row, r->nparams));
        rt_buf_printf(b, "\">");
        html_text(b, rt_csv_at(s, row, r->nparams));
        rt_buf_printf(b, "</td>");
        cell(b, cseeds >= 0 ? rt_csv_at(s, row, cseeds) : "");
        rt_buf_printf(b, "</tr>\n");
    }
    rt_buf_printf(b, "</tbody></table></div>\n");
}

/* The points that did not finish well: failed (with the error), diverged, running, interrupted,
** pending. */
static void trouble(report *r, rt_buf *b) {
    int *idx = rt_xcalloc((size_t)(r->man.n ? r->man.n : 1), sizeof *idx), n = 0;
    for (int i = 0; i < r->man.n; i++)
        if (strcmp(r->pts[i].state, "done") != 0) idx[n++] = i;
    if (!n) {
        rt_buf_printf(b, "<p>Every point finished (%d point%s).</p>\n", r->man.n, r->man.n == 1 ? "" : "s");
        free(idx);
        return;
    }
    rt_buf_printf(b, "<h2 id=\"unfinished\">Points that did not finish (%d of %d)</h2>\n<table><thead><tr><th>point</th>"
                     "<th>params</th><th>state</th><th>error</th></tr></thead><tbody>\n", n, r->man.n);
    int cdiv = r->has_res ? rt_csv_col(&r->res, "diverged_epoch") : -1;
    for (int k = 0; k < n; k++) {
        const point_info *p = &r->pts[idx[k]];
        char msg[256] = "";
        char *err = NULL;
        if (strcmp(p->state, "failed") == 0) {
            char path[1400];
            snprintf(path, sizeof path, "%s/%s/failed", r->exp_dir, p->id);
            err = rt_read_file(path, NULL);
        } else if (strcmp(p->state, "diverged") == 0) {
            snprintf(msg, sizeof msg, "the objective became non-finite at epoch %s",
                     p->result_row >= 0 && cdiv >= 0 ? rt_csv_at(&r->res, p->result_row, cdiv) : "?");
        }
        rt_buf_printf(b, "<tr class=\"bad\">");
        cell(b, p->id);
        cell(b, p->title);
        cell(b, p->state);
        cell(b, err ? err : msg);
        rt_buf_printf(b, "</tr>\n");
        free(err);
    }
    rt_buf_printf(b, "</tbody></table>\n");
    free(idx);
}

int lb_report(const char *exp_dir, bool quiet, char *out_path, size_t out_size) {
    report *r = rt_xcalloc(1, sizeof *r);
    r->exp_dir = exp_dir;
    if (lb_manifest_read(exp_dir, &r->man) < 0) {
        fprintf(stderr, "vibrun: %s: no manifest; not a run directory written by vibrun (expected runs/<experiment>)\n",
                exp_dir);
        free(r);
        return 1;
    }
    double t0 = rt_now_s();
    const char *slash = strrchr(exp_dir, '/');
    snprintf(r->name, sizeof r->name, "%s", slash && slash[1] ? slash + 1 : exp_dir);
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.csv", exp_dir);
    r->has_sum = rt_csv_read(path, &r->sum);
    r->nparams = r->has_sum ? rt_csv_col(&r->sum, "n") : -1;
    snprintf(path, sizeof path, "%s/results.csv", exp_dir);
    r->has_res = rt_csv_read(path, &r->res);
    r->res_seed = r->has_res ? rt_csv_col(&r->res, "seed") : -1;
    r->res_status = r->has_res ? rt_csv_col(&r->res, "status") : -1;
    r->svg_budget = 6u << 20;         /* figures; the page stays under 10 MB */
    r->pts = rt_xcalloc((size_t)(r->man.n ? r->man.n : 1), sizeof *r->pts);
    r->config_of = rt_xcalloc((size_t)(r->man.n ? r->man.n : 1), sizeof *r->config_of);
    int counts[6] = { 0 };
    static const char *const states[6] = { "done", "diverged", "running", "interrupted", "failed", "pending" };
    for (int i = 0; i < r->man.n; i++) {
        point_info *p = &r->pts[i];
        p->id = r->man.ids[i];
        p->title = r->man.titles[i];
        p->epochs = r->man.epochs[i];
        p->state = point_state(exp_dir, p->id);
        p->result_row = result_row(r, p->id);
        r->config_of[i] = strcmp(p->state, "done") == 0 ? config_row(r, p->result_row) : -1;
        for (int s = 0; s < 6; s++) counts[s] += strcmp(p->state, states[s]) == 0;
    }

    rt_buf b = { 0 };
    rt_buf_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                      "style-src 'unsafe-inline'; img-src data:; script-src 'sha256-%s'; base-uri 'none'; form-action 'none'\">\n"
                      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>",
                  REPORT_SCRIPT_SHA256);
    html_text(&b, r->name);
    rt_buf_printf(&b, ": vibrun report</title>\n<style>%s</style>\n</head><body>\n<h1>", style);
    html_text(&b, r->name);
    rt_buf_printf(&b, "</h1>\n<p>%d point%s:", r->man.n, r->man.n == 1 ? "" : "s");
    for (int s = 0, first = 1; s < 6; s++)
        if (counts[s]) rt_buf_printf(&b, "%s %d %s", first ? "" : ",", counts[s], states[s]), first = 0;
    rt_buf_printf(&b, ". Directory ");
    html_text(&b, exp_dir);
    char now[64];
    time_t tnow = time(NULL);
    strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S UTC", gmtime(&tnow));
    rt_buf_printf(&b, "; report written %s by vibrun ", now);
    html_text(&b, build_version);
    rt_buf_printf(&b, " (commit ");
    html_text(&b, build_commit);
    rt_buf_printf(&b, ").</p>\n<nav><a href=\"#sweep\">sweep table</a> &middot; <a href=\"#figures\">figures</a> "
                      "&middot; <a href=\"#configs\">configurations</a> &middot; <a href=\"#provenance\">provenance"
                      "</a></nav>\n<h2>Sweep</h2>\n");
    sweep_table(r, &b);
    trouble(r, &b);

    /* figures: those of the whole run here, a point's in its configuration's section */
    int nsvg = 0;
    char **svgs = svg_names(exp_dir, &nsvg);
    int *fig_point = rt_xcalloc((size_t)(nsvg ? nsvg : 1), sizeof *fig_point);
    for (int k = 0; k < nsvg; k++) fig_point[k] = figure_point(r, svgs[k]);
    rt_buf_printf(&b, "<h2 id=\"figures\">Figures</h2>\n");
    int whole = 0;
    for (int k = 0; k < nsvg; k++)
        if (fig_point[k] < 0) figure(r, &b, svgs[k]), whole++;
    if (!whole) rt_buf_printf(&b, "<p class=\"note\">no figure of the whole run in plots/</p>\n");

    /* per configuration: its points, their figures and resolved configs */
    rt_buf_printf(&b, "<h2 id=\"configs\">Configurations</h2>\n");
    int *idx = rt_xcalloc((size_t)(r->man.n ? r->man.n : 1), sizeof *idx);
    int nconf = r->has_sum && r->nparams >= 0 ? r->sum.nrow : 0;
    for (int c = -1; c < nconf; c++) {
        int n = 0;
        for (int i = 0; i < r->man.n; i++)
            if (r->config_of[i] == c) idx[n++] = i;
        if (!n) continue;
        if (c >= 0) {
            rt_buf_printf(&b, "<section id=\"c%d\"><h3>", c);
            for (int p = 0; p < r->nparams; p++) {
                rt_buf_printf(&b, "%s", p ? ", " : "");
                html_text(&b, rt_csv_at(&r->sum, -1, p));
                rt_buf_printf(&b, " = ");
                html_text(&b, rt_csv_at(&r->sum, c, p));
            }
            if (!r->nparams) rt_buf_printf(&b, "the one configuration");
            rt_buf_printf(&b, "</h3>\n");
        } else {
            rt_buf_printf(&b, "<section id=\"c-unfinished\"><h3>Points outside summary.csv (not done)</h3>\n");
        }
        points_table(r, &b, idx, n);
        for (int k = 0; k < nsvg; k++)
            for (int q = 0; q < n; q++)
                if (fig_point[k] == idx[q]) figure(r, &b, svgs[k]);
        for (int q = 0; q < n; q++) {
            rt_buf_printf(&b, "<details><summary>resolved config of ");
            html_text(&b, r->pts[idx[q]].id);
            rt_buf_printf(&b, " ");
            html_text(&b, r->pts[idx[q]].title);
            rt_buf_printf(&b, " (replay: ");
            html_text(&b, lb_cmd());
            rt_buf_printf(&b, " ");
            html_text(&b, exp_dir);
            rt_buf_printf(&b, "/");
            html_text(&b, r->pts[idx[q]].id);
            rt_buf_printf(&b, "/config.lua)</summary>");
            snprintf(path, sizeof path, "%s/%s/config.lua", exp_dir, r->pts[idx[q]].id);
            pre_file(&b, path);
            rt_buf_printf(&b, "</details>\n");
        }
        rt_buf_printf(&b, "</section>\n");
    }
    free(idx);

    /* provenance of the run: the command, the script, the build and machine of each point (above) */
    rt_buf_printf(&b, "<h2 id=\"provenance\">Provenance</h2>\n<p>Reproduce the run with:</p><pre>");
    rt_buf cmd = { 0 };
    rt_buf_printf(&cmd, "%s ", lb_cmd());
    lb_shell_quote(&cmd, r->man.script);
    rt_buf_printf(&cmd, "%s", r->man.args);
    html_text(&b, rt_buf_str(&cmd));
    rt_buf_free(&cmd);
    rt_buf_printf(&b, "</pre>\n");
    /* what each point's run.txt records of the build and the command; distinct values once */
    char seen[8][512];
    int nseen = 0;
    for (int i = 0; i < r->man.n; i++) {
        snprintf(path, sizeof path, "%s/%s/run.txt", exp_dir, r->pts[i].id);
        char *txt = rt_read_file(path, NULL);
        if (!txt) continue;
        char line[512], v[200], c[200], cm[300];
        run_txt(txt, "vibrun", v, sizeof v);
        run_txt(txt, "commit", c, sizeof c);
        run_txt(txt, "command", cm, sizeof cm);
        free(txt);
        snprintf(line, sizeof line, "vibrun %.150s, commit %.150s: %.200s", v, c, cm);
        bool dup = false;
        for (int k = 0; k < nseen; k++) dup |= strcmp(seen[k], line) == 0;
        if (dup || nseen == 8) continue;
        snprintf(seen[nseen++], sizeof seen[0], "%s", line);
    }
    rt_buf_printf(&b, "<p>The points were trained by (each point's run.txt; its host, times, threads and OpenBLAS "
                      "kernels are in its configuration's table):</p><ul>\n");
    for (int k = 0; k < nseen; k++) {
        rt_buf_printf(&b, "<li>");
        html_text(&b, seen[k]);
        rt_buf_printf(&b, "</li>\n");
    }
    if (!nseen) rt_buf_printf(&b, "<li>no point has a run.txt (trained by a vibrun older than the report)</li>\n");
    rt_buf_printf(&b, "</ul>\n<details open><summary>the script ");
    html_text(&b, r->man.script);
    rt_buf_printf(&b, " (as it is now)</summary>");
    pre_file(&b, r->man.script);
    rt_buf_printf(&b, "</details>\n<script>%s</script>\n</body></html>\n", REPORT_SCRIPT);

    snprintf(path, sizeof path, "%s/report.html", exp_dir);
    rt_err err = { 0 };
    rt_status st = rt_write_atomic(path, b.s, b.n, &err);
    if (st) fprintf(stderr, "vibrun: %s\n", err.msg);
    else if (!quiet) printf("report: %s (%.1f MB, %.2f s)\n", path, (double)b.n / 1e6, rt_now_s() - t0);
    if (out_path) snprintf(out_path, out_size, "%s", path);
    rt_buf_free(&b);
    for (int k = 0; k < nsvg; k++) free(svgs[k]);
    free(svgs);
    free(fig_point);
    free(r->pts);
    free(r->config_of);
    if (r->has_sum) rt_csv_table_free(&r->sum);
    if (r->has_res) rt_csv_table_free(&r->res);
    lb_manifest_free(&r->man);
    free(r);
    return st ? 1 : 0;
}
