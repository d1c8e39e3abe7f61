// lb_mi.c: `vibrun mi`, the estimators of nn_mi_tasks.h on any CSV and the closed-form tasks
// that check them. The estimate alone goes to stdout, so that a benchmark harness which runs
// `COMMAND FILE DIM_X DIM_Y` and reads one number (the Beyond-Normal benchmark's contract for
// external estimators, which reads nats: add --nats) can run vibrun as it is. And `vibrun ib-curve`,
// the exact IB and deterministic-IB curves of a discrete joint (nn_ib_exact.h).
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_impl.h"
#include "nn_ib_exact.h"
#include "nn_mi_tasks.h"
#include "rt_blas.h"
#include "rt_csv.h"
#include "rt_text.h"

static const char mi_usage[] =
    "usage: vibrun mi --csv FILE --dx A --dy B [--estimator E] [--k K] [--bins B] [--kde-var V]\n"
    "                 [--nats] [--time] [--threads T]\n"
    "       vibrun mi [options] FILE A B     the same (a benchmark harness's COMMAND FILE DIM_X DIM_Y)\n"
    "       vibrun mi --task NAME [--n N] [--seed S] [-o FILE]\n"
    "       vibrun mi --task NAME --truth\n"
    "\n"
    "The first A columns of FILE are X, the next B are Y (a first line of names is skipped); prints\n"
    "the estimate of I(X;Y) in bits (in nats with --nats), and nothing else; --time adds the\n"
    "estimator's seconds after it.\n"
    "  --estimator E   ksg (default; Kraskov et al. algorithm 1, --k neighbours, 3), kde (Gaussian\n"
    "                  kernel of variance --kde-var on standardised columns, default Scott's rule),\n"
    "                  binning (--bins equal bins per column over its range, default 10), ross\n"
    "                  (Y one column of integer class labels)\n"
    "--task writes N rows (default 1000) of a task with a known I(X;Y) as CSV (X1..,Y1.. columns) to\n"
    "FILE (then prints the true I) or to stdout; --truth prints the true I only. The tasks:\n";

static int usage_error(const char *cmd, const char *fmt, const char *arg) {
    fprintf(stderr, "vibrun: %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: %s %s --help\n", lb_cmd(), cmd);
    return 2;
}

static int mi_bad(const char *fmt, const char *arg) { return usage_error("mi", fmt, arg); }
static int ib_bad(const char *fmt, const char *arg) { return usage_error("ib-curve", fmt, arg); }

static bool parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

/* b to stdout (out NULL) or written atomically to out; false (the error printed) when writing fails. */
static bool emit(const char *cmd, rt_buf *b, const char *out) {
    rt_err err = { 0 };
    bool ok = true;
    if (!out) fwrite(rt_buf_str(b), 1, b->n, stdout);
    else if (rt_write_atomic(out, rt_buf_str(b), b->n, &err) != RT_OK) ok = false;
    if (!ok) fprintf(stderr, "vibrun: %s: %s\n", cmd, err.msg);
    rt_buf_free(b);
    return ok;
}

static int task_command(const char *name, int n, uint64_t seed, const char *out, bool truth, double unit) {
    static nn_mi_task t;
    rt_err err = { 0 };
    if (nn_mi_task_parse(name, &t, &err) != RT_OK) {
        fprintf(stderr, "vibrun: mi: %s\n", err.msg);
        return 2;
    }
    if (truth) {
        printf("%.6f\n", t.mi_nats / unit);
        return 0;
    }
    int d = t.dx + t.dy;
    float *xy = rt_xmalloc((size_t)n * (size_t)d * sizeof *xy);
    if (nn_mi_task_sample(&t, n, seed, xy, &err) != RT_OK) {
        free(xy);
        fprintf(stderr, "vibrun: mi: %s\n", err.msg);
        return 1;
    }
    rt_buf b = { 0 };
    for (int c = 0; c < d; c++) rt_buf_printf(&b, "%s%c%d", c ? "," : "", c < t.dx ? 'X' : 'Y', c < t.dx ? c + 1 : c - t.dx + 1);
    rt_buf_put(&b, "\n", 1);
    for (int r = 0; r < n; r++)
        for (int c = 0; c < d; c++) rt_buf_printf(&b, "%.9g%c", (double)xy[(size_t)r * d + c], c + 1 < d ? ',' : '\n');
    free(xy);
    if (!emit("mi", &b, out)) return 1;
    if (out) printf("%.6f\n", t.mi_nats / unit);
    return 0;
}

int lb_mi(int argc, char **argv) {
    enum { O_CSV = 256, O_DX, O_DY, O_EST, O_K, O_BINS, O_KDEVAR, O_NATS, O_TASK, O_N, O_SEED, O_TRUTH,
           O_TIME, O_THREADS };
    static const struct option longopts[] = {
        { "csv", required_argument, 0, O_CSV },       { "dx", required_argument, 0, O_DX },
        { "dy", required_argument, 0, O_DY },         { "estimator", required_argument, 0, O_EST },
        { "k", required_argument, 0, O_K },           { "bins", required_argument, 0, O_BINS },
        { "kde-var", required_argument, 0, O_KDEVAR }, { "nats", no_argument, 0, O_NATS },
        { "task", required_argument, 0, O_TASK },     { "n", required_argument, 0, O_N },
        { "seed", required_argument, 0, O_SEED },     { "truth", no_argument, 0, O_TRUTH },
        { "time", no_argument, 0, O_TIME },           { "threads", required_argument, 0, O_THREADS },
        { "out", required_argument, 0, 'o' },         { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 } };
    const char *csv = NULL, *task = NULL, *out = NULL;
    int dx = 0, dy = 0, n = 1000, seed = 1, threads = 0;
    bool nats = false, truth = false, timed = false;
    nn_mi_xy_opts o = nn_mi_xy_opts_default();
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+o:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_CSV: csv = optarg; break;
        case O_DX: if (!parse_int(optarg, 1, 1 << 20, &dx)) return mi_bad("--dx %s: expected a count >= 1", optarg); break;
        case O_DY: if (!parse_int(optarg, 1, 1 << 20, &dy)) return mi_bad("--dy %s: expected a count >= 1", optarg); break;
        case O_EST:
            if (!nn_mi_xy_kind_parse(optarg, &o.kind))
                return mi_bad("--estimator %s: expected ksg, kde, binning or ross", optarg);
            break;
        case O_K: if (!parse_int(optarg, 1, 1 << 20, &o.k)) return mi_bad("--k %s: expected a count >= 1", optarg); break;
        case O_BINS: if (!parse_int(optarg, 1, 1 << 20, &o.bins)) return mi_bad("--bins %s: expected a count >= 1", optarg); break;
        case O_KDEVAR: {
            char *end;
            o.kde_var = strtod(optarg, &end);
            if (end == optarg || *end || !(o.kde_var > 0.0)) return mi_bad("--kde-var %s: expected a variance > 0", optarg);
            break;
        }
        case O_NATS: nats = true; break;
        case O_TASK: task = optarg; break;
        case O_N: if (!parse_int(optarg, 1, 1 << 24, &n)) return mi_bad("--n %s: expected a count >= 1", optarg); break;
        case O_SEED: if (!parse_int(optarg, 0, 1 << 30, &seed)) return mi_bad("--seed %s: expected an integer >= 0", optarg); break;
        case O_TRUTH: truth = true; break;
        case O_TIME: timed = true; break;
        case O_THREADS: if (!parse_int(optarg, 1, RT_BLAS_MAX_THREADS, &threads)) return mi_bad("--threads %s: expected a count >= 1", optarg); break;
        case 'o': out = optarg; break;
        case 'h':
            fputs(mi_usage, stdout);
            fputs(nn_mi_task_grammar, stdout);
            return 0;
        default: return mi_bad("%s: unknown option or missing value", argv[optind - 1]);
        }
    }
    int npos = argc - optind;
    if (npos == 3 && !csv && !task) {
        csv = argv[optind];
        if (!parse_int(argv[optind + 1], 1, 1 << 20, &dx)) return mi_bad("DIM_X %s: expected a count >= 1", argv[optind + 1]);
        if (!parse_int(argv[optind + 2], 1, 1 << 20, &dy)) return mi_bad("DIM_Y %s: expected a count >= 1", argv[optind + 2]);
    } else if (npos > 0) {
        return mi_bad("%s: unexpected argument (positional arguments are FILE DIM_X DIM_Y, all three)",
                      argv[optind]);
    }
    if (threads) rt_blas_set_threads(threads);
    double unit = nats ? 1.0 : NN_MI_NATS_PER_BIT;
    if (task && csv) return mi_bad("%s", "--task and --csv: give one (generate a task, or estimate on a file)");
    if (task) return task_command(task, n, (uint64_t)seed, out, truth, unit);
    if (!csv) return mi_bad("%s", "nothing to do: give --csv FILE --dx A --dy B, or --task NAME");
    if (dx < 1 || dy < 1) return mi_bad("%s", "--csv needs --dx A and --dy B, the widths of X and Y");
    rt_err err = { 0 };
    float *xy = NULL;
    int rows = 0;
    if (nn_mi_csv_read(csv, dx, dy, &xy, &rows, &err) != RT_OK) {
        fprintf(stderr, "vibrun: mi: %s\n", err.msg);
        return 1;
    }
    nn_mi_value v;
    rt_status st = nn_mi_xy(xy, rows, dx, dy, &o, &v, &err);
    free(xy);
    if (st != RT_OK) {
        fprintf(stderr, "vibrun: mi: %s: %s\n", csv, err.msg);
        return 1;
    }
    double value = nats ? v.bits * NN_MI_NATS_PER_BIT : v.bits;
    if (timed) printf("%.6f %.3f\n", value, v.seconds);
    else printf("%.6f\n", value);
    return 0;
}

static const char ib_usage[] =
    "usage: vibrun ib-curve --joint FILE [--method ib|dib] [--clusters K] [--beta-min B] [--beta-max B]\n"
    "                       [--betas N] [--restarts R] [--seed S] [-o FILE]\n"
    "\n"
    "FILE holds p(x, y): one row per x, one column per y (non-negative weights, normalised; a first\n"
    "line of names is skipped). Prints, as CSV (or writes to -o FILE), the exact curve: per beta,\n"
    "I(X;T), I(T;Y) and H(T) in bits, the Lagrangian, the values of T used and the iterations.\n"
    "  --method     ib: iterative IB (Tishby, Pereira & Bialek 1999), minimises I(X;T) - beta I(T;Y);\n"
    "               dib: deterministic IB (Strouse & Schwab 2017), minimises H(T) - beta I(T;Y)\n"
    "  --clusters   values of T (default: the number of x)\n"
    "  --beta-min, --beta-max, --betas   N log-spaced betas (default 0.1, 1000, 40), annealed upwards\n"
    "  --restarts   seeded random starts per beta besides the annealed one (default 4); --seed (1)\n";

static bool parse_pos(const char *s, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0.0) || !isfinite(v)) return false;
    *out = v;
    return true;
}

int lb_ib_curve(int argc, char **argv) {
    enum { O_JOINT = 256, O_METHOD, O_CLUSTERS, O_BMIN, O_BMAX, O_BETAS, O_RESTARTS, O_SEED };
    static const struct option longopts[] = {
        { "joint", required_argument, 0, O_JOINT },       { "method", required_argument, 0, O_METHOD },
        { "clusters", required_argument, 0, O_CLUSTERS }, { "beta-min", required_argument, 0, O_BMIN },
        { "beta-max", required_argument, 0, O_BMAX },     { "betas", required_argument, 0, O_BETAS },
        { "restarts", required_argument, 0, O_RESTARTS }, { "seed", required_argument, 0, O_SEED },
        { "out", required_argument, 0, 'o' },             { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 } };
    const char *joint = NULL, *out = NULL;
    nn_ib_opts o = nn_ib_opts_default();
    int seed = 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+o:h", longopts, NULL)) != -1) {
        switch (c) {
        case O_JOINT: joint = optarg; break;
        case O_METHOD:
            if (strcmp(optarg, "ib") == 0) o.method = NN_IB_ITERATIVE;
            else if (strcmp(optarg, "dib") == 0) o.method = NN_IB_DETERMINISTIC;
            else return ib_bad("--method %s: expected ib or dib", optarg);
            break;
        case O_CLUSTERS: if (!parse_int(optarg, 1, 1 << 16, &o.clusters)) return ib_bad("--clusters %s: expected a count >= 1", optarg); break;
        case O_BMIN: if (!parse_pos(optarg, &o.beta_min)) return ib_bad("--beta-min %s: expected a number > 0", optarg); break;
        case O_BMAX: if (!parse_pos(optarg, &o.beta_max)) return ib_bad("--beta-max %s: expected a number > 0", optarg); break;
        case O_BETAS: if (!parse_int(optarg, 1, 1 << 16, &o.betas)) return ib_bad("--betas %s: expected a count >= 1", optarg); break;
        case O_RESTARTS: if (!parse_int(optarg, 0, 1 << 16, &o.restarts)) return ib_bad("--restarts %s: expected a count >= 0", optarg); break;
        case O_SEED: if (!parse_int(optarg, 0, 1 << 30, &seed)) return ib_bad("--seed %s: expected an integer >= 0", optarg); break;
        case 'o': out = optarg; break;
        case 'h': fputs(ib_usage, stdout); return 0;
        default: return ib_bad("%s: unknown option or missing value", argv[optind - 1]);
        }
    }
    if (optind < argc) return ib_bad("%s: unexpected argument; the joint goes after --joint", argv[optind]);
    if (!joint) return ib_bad("%s", "no joint given: --joint FILE, p(x, y) with one row per x");
    if (o.beta_max < o.beta_min) return ib_bad("%s", "--beta-max is below --beta-min");
    o.seed = (uint64_t)seed;
    rt_err err = { 0 };
    double *pxy = NULL;
    int nx = 0, ny = 0;
    if (nn_ib_joint_read(joint, &pxy, &nx, &ny, &err) != RT_OK) {
        fprintf(stderr, "vibrun: ib-curve: %s\n", err.msg);
        return 1;
    }
    nn_ib_point *pts = rt_xmalloc((size_t)o.betas * sizeof *pts);
    int code = 0;
    if (nn_ib_curve(pxy, nx, ny, &o, pts, &err) != RT_OK) {
        fprintf(stderr, "vibrun: ib-curve: %s: %s\n", joint, err.msg);
        code = 1;
    } else {
        rt_buf b = { 0 };
        nn_ib_curve_csv(&b, pts, o.betas);
        if (!emit("ib-curve", &b, out))
            code = 1;
        else if (out)
            printf("%s: %d points; I(X;Y) = %.6f bits, H(X) = %.6f bits (%d x %d joint)\n", out, o.betas,
                   nn_ib_mi_xy(pxy, nx, ny), nn_ib_h_x(pxy, nx, ny), nx, ny);
    }
    free(pts);
    free(pxy);
    return code;
}
