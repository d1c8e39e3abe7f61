// test_report.c: runs/<experiment>/report.html (lb_report.c). From fixture run directories: the
// sweep table holds summary.csv's values, unfinished points are listed with their error, the
// provenance is there, text from files cannot inject markup, an unsafe SVG is not inlined, the
// page's CSP allows exactly its own script, a 1,000-point sweep gives a report under 10 MB. Then a
// real sweep's report rendered by Chromium headless (skipped without chromium, a failure under
// VIB_CI): the table's values equal summary.csv, the page made no request, the screenshot is not
// blank.
#define _XOPEN_SOURCE 700               /* realpath */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lb.h"
#include "lb_impl.h"
#include "rt_base.h"
#include "rt_csv.h"
#include "testutil.h"

static void put(const char *dir, const char *name, const char *text) {
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tu_write_file(path, text, strlen(text));
}

static void mkdirs(const char *path) {
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    cr_assert_eq(system(cmd), 0);
}

/* The number of non-overlapping occurrences of needle in s. */
static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* A run directory of `nconf` configurations x `nseed` seeds (beta = 10^-(c/10), seed = 1..nseed),
** all done except, with troubles, a failed, a diverged and a pending point at the end; param text
** `odd` replaces the value of param `kind` (injection tests). Per point config.lua, timing.csv,
** run.txt; figures: plots/<name>.svg with its .gp naming its point when per_point_svg. */
static const char *fixture(const char *tag, int nconf, int nseed, bool troubles, const char *odd,
                           const char *per_point_svg) {
    static char exp[900];
    snprintf(exp, sizeof exp, "%s/runs/fx", tu_tmpdir(tag));
    mkdirs(exp);
    char plots[1000];
    snprintf(plots, sizeof plots, "%s/plots", exp);
    mkdirs(plots);
    const char *kind = odd ? odd : "vib";
    rt_buf man = { 0 }, res = { 0 }, sum = { 0 };
    char script[1000];
    snprintf(script, sizeof script, "%s/fx.lua", exp);
    put(exp, "fx.lua", odd ? odd : "-- the script\nreturn vib.experiment { name = 'fx' }\n");
    rt_buf_printf(&man, "# vibrun run directory: the script that owns it\nscript %s\nargs --set epochs=3\n", script);
    rt_buf_printf(&res, "point_id,beta,kind,seed,status,epochs,diverged_epoch,test_error,test_kl_bits,"
                        "test_z_variational_izy_bits\n");
    rt_buf_printf(&sum, "beta,kind,n,test_error_mean,test_error_sd,test_error_ci95,test_kl_bits_mean,test_kl_bits_sd,"
                        "test_kl_bits_ci95,test_z_variational_izy_bits_mean,test_z_variational_izy_bits_sd,"
                        "test_z_variational_izy_bits_ci95,seeds\n");
    int extra = troubles ? 3 : 0, npt = nconf * nseed + extra;
    for (int i = 0; i < npt; i++) {
        int c = i / nseed, s = i % nseed + 1;
        char id[17], dir[1100], beta[32], title[200], text[1400];
        snprintf(id, sizeof id, "%012x", 0xa00000 + i);
        snprintf(beta, sizeof beta, "%.6g", pow(10.0, -c / 10.0));
        snprintf(title, sizeof title, "{beta=%s,kind=%s,seed=%d}", beta, kind, s);
        rt_buf_printf(&man, "point %s 3 %s\n", id, title);
        snprintf(dir, sizeof dir, "%s/%s", exp, id);
        mkdirs(dir);
        snprintf(text, sizeof text, "-- The resolved point %s\nreturn vib.point { params = { beta = %s, kind = %s, "
                 "seed = %d } }\n", id, beta, kind, s);
        put(dir, "config.lua", text);
        put(dir, "timing.csv", "epoch,train_seconds,eval_seconds,samples_per_s,threads,blas_kernels\n"
                               "1,0.5,0.1,1000,2,Haswell\n2,0.4,0.1,1000,2,Haswell\n");
        snprintf(text, sizeof text, "vibrun: 9.9\ncommit: abc123\nhost: hostfx\ndirectory: /x\ncommand: vibrun fx.lua "
                 "--set epochs=3\nstarted: 2026-01-01 10:00:00 UTC\nended: 2026-01-01 10:01:00 UTC\n");
        put(dir, "run.txt", text);
        int trouble = i - nconf * nseed;         /* 0 failed, 1 diverged, 2 pending */
        if (trouble == 0) {
            put(dir, "failed", odd ? odd : "x.lua:3: the layer 'z' has no input\n");
            continue;
        }
        if (trouble == 2) {
            unlink(strcat(dir, "/run.txt"));
            continue;
        }
        const char *status = trouble == 1 ? "diverged" : "done";
        char row[600];
        snprintf(row, sizeof row, "%s,%s,", id, beta);
        rt_buf_printf(&res, "%s", row);
        rt_csv_field(&res, kind);
        snprintf(row, sizeof row, ",%d,%s,%d,%d,%.6g,%.6g,%.6g\n", s, status, trouble == 1 ? 2 : 3,
                 trouble == 1 ? 2 : 0, 0.1 + 0.01 * c + 0.001 * s, 10.0 / (1 + c) + 0.1 * s, 1.5 - 0.01 * c);
        rt_buf_printf(&res, "%s", row);
        /* its result.csv: what lb_result_status reads */
        rt_buf one = { 0 };
        rt_buf_printf(&one, "point_id,status\n%s,%s\n", id, status);
        put(dir, "result.csv", one.s);
        rt_buf_free(&one);
        if (per_point_svg) {
            char name[300];
            snprintf(name, sizeof name, "%s/info_plane_%d.svg", plots, i);
            tu_write_file(name, per_point_svg, strlen(per_point_svg));
            snprintf(name, sizeof name, "%s/info_plane_%d.gp", plots, i);
            snprintf(text, sizeof text, "data = '../%s/info.csv'\n", id);
            tu_write_file(name, text, strlen(text));
        }
    }
    for (int c = 0; c < nconf; c++) {
        char line[600];
        snprintf(line, sizeof line, "%.6g,", pow(10.0, -c / 10.0));
        rt_buf_printf(&sum, "%s", line);
        rt_csv_field(&sum, kind);
        snprintf(line, sizeof line, ",%d,%.17g,0.001,%.17g,%.17g,0.1,0.2,%.17g,0,0,", nseed, 0.1015 + 0.01 * c,
                 0.0021 * (c + 1), 10.0 / (1 + c) + 0.15, 1.5 - 0.01 * c);
        rt_buf_printf(&sum, "%s", line);
        for (int s = 1; s <= nseed; s++) rt_buf_printf(&sum, "%s%d", s > 1 ? " " : "", s);
        rt_buf_printf(&sum, "\n");
    }
    put(exp, "manifest", man.s);
    put(exp, "results.csv", res.s);
    put(exp, "summary.csv", sum.s);
    rt_buf_free(&man);
    rt_buf_free(&res);
    rt_buf_free(&sum);
    return exp;
}

static char *report_of(const char *exp, size_t *len) {
    char path[1000];
    cr_assert_eq(lb_report(exp, true, path, sizeof path), 0);
    char *html = tu_read_file(path, len);
    cr_assert_not_null(html, "no %s", path);
    return html;
}

static const char svg_ok[] =
    "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\" "
    "xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<defs><path id='gpPt0' d='M0,0'/></defs>"
    "<use xlink:href='#gpPt0' x='1' y='1'/><g clip-path=\"url(#gpClip)\"><text>z</text></g></svg>\n";

Test(report, table_troubles_and_provenance) {
    const char *exp = fixture("report_basic", 3, 2, true, NULL, svg_ok);
    char *html = report_of(exp, NULL);
    /* every configuration a row, its values summary.csv's, linked to its section */
    rt_csv_table s;
    char path[1000];
    snprintf(path, sizeof path, "%s/summary.csv", exp);
    cr_assert(rt_csv_read(path, &s));
    for (int r = 0; r < s.nrow; r++) {
        char want[300];
        snprintf(want, sizeof want, "<tr id=\"r%d\">", r);
        const char *row = strstr(html, want);
        cr_assert_not_null(row, "no row %d", r);
        const char *end = strstr(row, "</tr>");
        const char *cols[] = { "test_error_mean", "test_kl_bits_mean", "test_z_variational_izy_bits_mean", "n" };
        for (int k = 0; k < 4; k++) {
            snprintf(want, sizeof want, "data-c=\"%s\" data-v=\"%s\">", cols[k], rt_csv_at(&s, r, rt_csv_col(&s, cols[k])));
            const char *at = strstr(row, want);
            cr_expect(at && at < end, "row %d lacks %s", r, want);
        }
        snprintf(want, sizeof want, "%.4g &plusmn; %.4g", strtod(rt_csv_at(&s, r, 3), NULL), strtod(rt_csv_at(&s, r, 5), NULL));
        cr_expect(strstr(row, want) && strstr(row, want) < end, "row %d lacks the text %s", r, want);
        snprintf(want, sizeof want, "<a href=\"#c%d\">", r);
        cr_expect(strstr(row, want) && strstr(row, want) < end, "row %d does not link to its section", r);
        snprintf(want, sizeof want, "<section id=\"c%d\">", r);
        cr_expect(strstr(html, want), "no section %d", r);
    }
    rt_csv_table_free(&s);
    /* kind takes one value: named once above the table, not a column */
    cr_expect(strstr(html, "The same in every configuration: kind = vib."));
    /* the unfinished points, with the failed one's error */
    cr_expect(strstr(html, "Points that did not finish (3 of 9)"));
    cr_expect(strstr(html, "x.lua:3: the layer &#39;z&#39; has no input"));
    cr_expect(strstr(html, "the objective became non-finite at epoch 2"));
    cr_expect(strstr(html, "<td>pending</td>"));
    /* provenance: script, config, build, host, times, seconds per epoch, threads, kernels, command */
    cr_expect(strstr(html, "return vib.experiment { name = &#39;fx&#39; }"));
    cr_expect(strstr(html, "return vib.point { params = { beta = 1, kind = vib, seed = 1 } }"));
    cr_expect(strstr(html, "vibrun 9.9, commit abc123: vibrun fx.lua --set epochs=3"));
    cr_expect(strstr(html, "<td>hostfx</td><td>2026-01-01 10:00:00 UTC</td><td>2026-01-01 10:01:00 UTC</td>"));
    cr_expect(strstr(html, "<td>0.55</td><td>2</td><td>Haswell</td>"), "seconds per epoch, threads, kernels");
    cr_expect(strstr(html, "/fx.lua&#39; --set epochs=3</pre>"), "the command to reproduce");
    /* figures inlined with their ids prefixed; a point's in its section */
    cr_expect_eq(count(html, "<svg"), 7, "6 done points and the diverged one");
    cr_expect(strstr(html, "id='f0-gpPt0'") && strstr(html, "href='#f0-gpPt0'") && strstr(html, "url(#f0-gpClip)"));
    cr_expect(strstr(html, "id='f5-gpPt0'"));
    cr_expect(!strstr(html, "<?xml"));
    /* self-contained: the CSP forbids fetches; no src, no link but to a fragment */
    cr_expect(strstr(html, "content=\"default-src 'none';"));
    cr_expect(!strstr(html, " src="));
    for (const char *p = html; (p = strstr(p, "href=")); p += 5)
        cr_expect(p[6] == '#', "a link out of the page: %.60s", p);
    free(html);
}

/* Markup in a param value, the script, a failed point's message and a config: printed as text.
** An SVG with a script is not inlined. */
Test(report, text_from_files_cannot_inject_markup) {
    const char *odd = "\"><script>alert(1)</script><img src=x onerror=alert(2)>'";
    const char *exp = fixture("report_inject", 2, 1, true, odd, NULL);
    char plots[1000];
    snprintf(plots, sizeof plots, "%s/plots", exp);
    put(plots, "evil.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(3)</script></svg>");
    put(plots, "evil2.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect onload =\"alert(4)\"/></svg>");
    put(plots, "evil3.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><image href=\"http://x.invalid/a.png\"/></svg>");
    put(plots, "evil4.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect fill=\"url(http://x.invalid/)\"/></svg>");
    char *html = report_of(exp, NULL);
    cr_expect_eq(count(html, "<script"), 1, "only the page's own script");
    cr_expect(!strstr(html, "<img"));
    cr_expect(!strstr(html, "alert(1)</script>"));
    cr_expect(!strstr(html, "onload =\""));
    cr_expect(!strstr(html, "x.invalid"));
    cr_expect_eq(count(html, "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&#39;"),
                 count(html, "alert(1)"), "every occurrence escaped");
    cr_expect_eq(count(html, "not inlined"), 4);
    cr_expect(strstr(html, "evil.svg not inlined: it holds &#39;&lt;script&#39;"));
    free(html);
}

/* base64 of the SHA-256 of s, by coreutils' sha256sum. */
static void sha256_b64(const char *s, char out[64]) {
    char path[1000], cmd[1200], hex[128] = "";
    snprintf(path, sizeof path, "%s/script.js", tu_tmpdir("report_hash"));
    tu_write_file(path, s, strlen(s));
    snprintf(cmd, sizeof cmd, "sha256sum '%s' | cut -c1-64", path);
    cr_assert_eq(tu_run(cmd, hex, sizeof hex), 0);
    unsigned char d[32];
    for (int i = 0; i < 32; i++) {
        unsigned v;
        cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        d[i] = (unsigned char)v;
    }
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int o = 0;
    for (int i = 0; i < 32; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < 32 ? (unsigned)d[i + 1] << 8 : 0) | (i + 2 < 32 ? d[i + 2] : 0);
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < 32 ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < 32 ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

Test(report, csp_allows_exactly_the_page_script) {
    char want[64];
    sha256_b64(lb_report_script(), want);
    cr_expect_str_eq(lb_report_script_hash(), want);
    char *html = report_of(fixture("report_csp", 2, 1, false, NULL, NULL), NULL);
    char csp[200], tag[4200];
    snprintf(csp, sizeof csp, "script-src 'sha256-%s'", want);
    snprintf(tag, sizeof tag, "<script>%s</script>", lb_report_script());
    cr_expect(strstr(html, csp));
    cr_expect(strstr(html, tag));
    free(html);
}

/* 1,000 points (500 configurations x 2 seeds), each with an 80 kB figure: under 10 MB; figures
** beyond the page's budget are named, not inlined. The time is printed, not asserted. */
Test(report, thousand_points_under_10_mb, .timeout = 300) {
    rt_buf svg = { 0 };
    rt_buf_printf(&svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"300\">\n");
    while (svg.n < 80000) rt_buf_printf(&svg, "<path stroke='rgb(148,  0,211)' d='M%zu,10 L20,30 L40,50'/>\n", svg.n % 400);
    rt_buf_printf(&svg, "</svg>\n");
    const char *exp = fixture("report_1000", 500, 2, false, NULL, svg.s);
    rt_buf_free(&svg);
    double t0 = rt_now_s();
    size_t len;
    char *html = report_of(exp, &len);
    double t = rt_now_s() - t0;
    fprintf(stderr, "report of 1000 points: %.2f MB in %.2f s\n", (double)len / 1e6, t);
    cr_expect_lt(len, 10u * 1000 * 1000, "%zu bytes", len);
    cr_expect(strstr(html, "<tr id=\"r499\">"));
    cr_expect(strstr(html, "not inlined: the report keeps under 10 MB"));
    free(html);
}

// ---- Chromium ----

/* Decodes an 8-bit RGB or RGBA PNG; the fraction of pixels that differ from the top-left one. */
static double png_ink(const char *path) {
    size_t len;
    unsigned char *f = (unsigned char *)tu_read_file(path, &len);
    cr_assert_not_null(f, "no screenshot %s", path);
    cr_assert(len > 33 && memcmp(f, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
#define BE32(p) ((unsigned)(p)[0] << 24 | (unsigned)(p)[1] << 16 | (unsigned)(p)[2] << 8 | (p)[3])
    unsigned w = BE32(f + 16), h = BE32(f + 20), depth = f[24], type = f[25];
    cr_assert(depth == 8 && (type == 2 || type == 6) && f[28] == 0, "PNG depth %u type %u interlace %u", depth, type, f[28]);
    unsigned bpp = type == 6 ? 4 : 3;
    rt_buf z = { 0 };
    for (size_t p = 8; p + 12 <= len;) {
        unsigned n = BE32(f + p);
        if (memcmp(f + p + 4, "IDAT", 4) == 0) rt_buf_put(&z, (const char *)f + p + 8, n);
        p += 12 + n;
    }
#undef BE32
    uLongf raw_len = (uLongf)h * (1 + (uLongf)w * bpp);
    unsigned char *raw = malloc(raw_len);
    cr_assert_eq(uncompress(raw, &raw_len, (const Bytef *)z.s, (uLong)z.n), Z_OK);
    size_t stride = (size_t)w * bpp;
    unsigned char *img = calloc((size_t)h, stride);
    for (unsigned y = 0; y < h; y++) {
        unsigned char *in = raw + (size_t)y * (stride + 1) + 1, *out = img + (size_t)y * stride;
        const unsigned char *up = y ? out - stride : NULL;
        int filter = in[-1];
        for (size_t x = 0; x < stride; x++) {
            int a = x >= bpp ? out[x - bpp] : 0, b = up ? up[x] : 0, c = up && x >= bpp ? up[x - bpp] : 0, pr = in[x];
            if (filter == 1) pr += a;
            else if (filter == 2) pr += b;
            else if (filter == 3) pr += (a + b) / 2;
            else if (filter == 4) {
                int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
                pr += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
            }
            out[x] = (unsigned char)pr;
        }
    }
    size_t ink = 0;
    for (size_t i = 0; i < (size_t)w * h; i++) ink += memcmp(img + i * bpp, img, 3) != 0;
    free(raw);
    free(img);
    free(z.s);
    free(f);
    return (double)ink / ((double)w * h);
}

/* chromium headless on url: the DOM into dom, a screenshot into png (when given), the net log into
** netlog, its stderr (console messages) into err. Returns its exit status. */
static int chromium(const char *dir, const char *url, const char *what, char *dom, size_t dom_size) {
    char cmd[4000];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run "
             "--user-data-dir='%s/profile' --host-resolver-rules='MAP * ~NOTFOUND' --log-net-log='%s/%s.netlog' "
             "--enable-logging=stderr --v=0 --window-size=1200,1600 %s '%s' 2> '%s/%s.err'",
             dir, dir, dir, what, strcmp(what, "dom") == 0 ? "--dump-dom" : "--screenshot=shot.png", url, dir, what);
    return tu_run(cmd, dom, dom_size);
}

/* Whether the net log shows a request the page made (its network isolation key is the page's,
** file://); Chromium's own background requests carry other keys. */
static bool page_requested(const char *dir, const char *what) {
    char path[1000];
    snprintf(path, sizeof path, "%s/%s.netlog", dir, what);
    char *log = tu_read_file(path, NULL);
    cr_assert_not_null(log, "chromium wrote no net log %s", path);
    bool any = strstr(log, "\"network_isolation_key\":\"file://") != NULL;
    free(log);
    return any;
}

Test(report, real_sweep_renders_in_chromium, .timeout = 600) {
    if (system("command -v chromium >/dev/null 2>&1") != 0)
        tu_skip("chromium is not installed (apt-get install chromium); the report is not rendered");
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) tu_skip("gnuplot is not installed");
    static char dir[4096];
    cr_assert_not_null(realpath(tu_tiny_dir("report_chromium"), dir));
    put(dir, "sw.lua",
        "local vib = require 'vib'\n"
        "return vib.experiment {\n"
        "  name = 'sw', data = vib.data.csv { path = 'tiny.csv', holdout = 0.25, scale = 'standardize' },\n"
        "  params = { beta = 0.01, seed = 1 },\n"
        "  model = vib.seq { vib.linear { out = 8 }, vib.tanh { name = 'h' }, vib.gauss { k = 2, name = 'z' },\n"
        "                    vib.linear { out = 3 } },\n"
        "  objective = function(p) return vib.obj.vib { beta = p.beta } end,\n"
        "  optim = vib.optim.adam { lr = 0.01 }, epochs = 3, batch = 20, eval_samples = 2,\n"
        "  measure = { every = 'log2', estimators = { 'variational', 'kde' }, samples = 60, kde_var = 0.05 },\n"
        "  sweep = vib.grid { beta = { 1e-3, 1e-2, 1e-1 }, seed = { 1, 2 } },\n"
        "}\n");
    static char out[1 << 20];
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' sw.lua --quiet --threads 1 2>&1", dir, tu_vibrun());
    cr_assert_eq(tu_run(cmd, out, sizeof out), 0, "%s", out);
    char url[1200], page[1200];
    snprintf(page, sizeof page, "%s/runs/sw/report.html", dir);
    struct stat st;
    cr_assert_eq(stat(page, &st), 0, "the run wrote no report.html");
    snprintf(url, sizeof url, "file://%s", page);

    static char dom[16 << 20];
    cr_assert_eq(chromium(dir, url, "dom", dom, sizeof dom), 0, "chromium --dump-dom failed: %.2000s", dom);
    cr_assert(strstr(dom, "<html lang=\"en\" class=\"js\">"), "the page's script did not run (CSP hash?): %.300s", dom);
    /* every value of the sweep table is summary.csv's, every row and the shown means are there */
    rt_csv_table s;
    char path[1200];
    snprintf(path, sizeof path, "%s/runs/sw/summary.csv", dir);
    cr_assert(rt_csv_read(path, &s));
    cr_assert_eq(s.nrow, 3);
    int checked = 0;
    for (int r = 0; r < s.nrow; r++) {
        char want[64];
        snprintf(want, sizeof want, "<tr id=\"r%d\">", r);
        const char *row = strstr(dom, want), *end = row ? strstr(row, "</tr>") : NULL;
        cr_assert(row && end, "row %d is not in the rendered page", r);
        bool error_seen = false;
        for (const char *p = row; (p = strstr(p, "data-c=\"")) && p < end; p++) {
            char col[256], v[256];
            cr_assert_eq(sscanf(p, "data-c=\"%255[^\"]\" data-v=\"%255[^\"]\"", col, v), 2, "%.80s", p);
            int c = rt_csv_col(&s, col);
            cr_assert_geq(c, 0, "column %s is not in summary.csv", col);
            cr_expect_str_eq(v, rt_csv_at(&s, r, c), "row %d %s", r, col);
            const char *text = strchr(p, '>') + 1;
            if (strncmp(text, "<a", 2) == 0) text = strchr(text, '>') + 1;
            double shown = strtod(text, NULL), exact = strtod(v, NULL);
            cr_expect(fabs(shown - exact) <= 5e-4 * fabs(exact) + 1e-300, "row %d %s shows %.20s for %s", r, col, text, v);
            error_seen |= strcmp(col, "test_error_mean") == 0;
            checked++;
        }
        cr_expect(error_seen, "row %d has no test error", r);
    }
    rt_csv_table_free(&s);
    cr_expect_geq(checked, 3 * 5);
    /* nothing fetched: no request in the net log, no refusal by the CSP, no src or outside link */
    cr_expect(!page_requested(dir, "dom"), "the page made a network request (see %s/dom.netlog)", dir);
    snprintf(path, sizeof path, "%s/dom.err", dir);
    char *err = tu_read_file(path, NULL);
    cr_expect(!err || !strstr(err, "Refused to"), "the CSP refused a load: %s", err);
    free(err);
    cr_expect(!strstr(dom, " src="));
    for (const char *p = dom; (p = strstr(p, "href=\"")); p += 6)
        cr_expect(p[6] == '#' || strncmp(p + 6, "data:image/png;base64,", 22) == 0, "a link out: %.60s", p);
    cr_expect_geq(count(dom, "<svg"), 3, "the figures are inline");

    /* the screenshot shows the page */
    cr_assert_eq(chromium(dir, url, "shot", NULL, 0), 0, "chromium --screenshot failed");
    snprintf(path, sizeof path, "%s/shot.png", dir);
    double ink = png_ink(path);
    fprintf(stderr, "report screenshot: %.1f%% of the pixels differ from the background\n", 100 * ink);
    cr_expect_gt(ink, 0.02, "the screenshot is blank (%.4f)", ink);
    cr_expect(!page_requested(dir, "shot"));

    /* the checks can fail: a page that loads an image from the network and a file is seen doing so */
    put(dir, "bad.html", "<html><body><p>x</p><img src=\"http://example.invalid/a.png\"></body></html>");
    snprintf(url, sizeof url, "file://%s/bad.html", dir);
    chromium(dir, url, "dom", dom, sizeof dom);
    cr_expect(page_requested(dir, "dom"), "the net log check did not see a request of the page");
    put(dir, "blank.html", "<html><body></body></html>");
    snprintf(url, sizeof url, "file://%s/blank.html", dir);
    cr_assert_eq(chromium(dir, url, "shot", NULL, 0), 0);
    cr_expect_lt(png_ink(path), 0.001, "a blank page's screenshot");
}
