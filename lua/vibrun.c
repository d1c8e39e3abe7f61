// vibrun.c: the command line. Modelled on lua.c: parse, run in protected mode, report, exit code.
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "rt_blas.h"

static const char usage[] =
    "usage: vibrun SCRIPT.lua [options]     train every point of an experiment\n"
    "       vibrun RUN/EXP/ID/config.lua    replay one resolved point (from the directory it names)\n"
    "       vibrun status RUN_DIR           done / running / interrupted / failed points, and an ETA\n"
    "       vibrun plot RUN_DIR             run the figure scripts of runs/<experiment> again on its CSV\n"
    "       vibrun data list                which data sets are installed where\n"
    "       vibrun data get NAME            download a data set, checksum verified (tishby)\n"
    "       vibrun slurm SCRIPT.lua --tasks N [--partition P] [--time T] [--cpus-per-task C]\n"
    "                    [--out DIR] [--set ...] [--submit]\n"
    "                                       write runs/<exp>/slurm/<exp>.sbatch, a job array whose\n"
    "                                       task i trains --shard i/N; --submit hands it to sbatch\n"
    "\n"
    "options:\n"
    "  --set KEY=VALUE   override a param or a setting (epochs, batch, eval_batch, ema, seed,\n"
    "                    train_eval_limit, checkpoint_every, eval_samples, eval_passes, replicates,\n"
    "                    streams); typed like the value it replaces; setting a sweep axis fixes it\n"
    "                    to that value\n"
    "  --out DIR         output root (default: runs)\n"
    "  --check           validate the script, load the data, print each point's model summary\n"
    "  --resume          skip finished points; continue interrupted ones from their checkpoint\n"
    "  --list            print the points with their ids (and shard with --shard); train nothing\n"
    "  --jobs N          train N points at a time in parallel processes (default 1)\n"
    "  --threads T       threads per job, for its GEMMs and the passes between them (default:\n"
    "                    $OPENBLAS_NUM_THREADS, else the CPUs divided by --jobs)\n"
    "  --shard I/N       train only shard I of N (1 <= I <= N: Slurm's --array=1-N with\n"
    "                    $SLURM_ARRAY_TASK_ID); shards are balanced and deterministic\n"
    "  --merge           rebuild results.csv and summary.csv from the points' files; train nothing\n"
    "  --quiet           no progress output\n"
    "  --traceback       print the Lua traceback with script errors\n"
    "  --help            this text\n"
    "\n"
    "exit codes: 0 success, 1 script or runtime error, 2 bad usage\n";

static void on_signal(int sig) {
    lb_stop = 1;
    signal(sig, SIG_DFL);           /* a second Ctrl-C ends the process at once */
}

/* A count >= 1 from text; false if absent or malformed. */
static bool parse_count(const char *s, int *out) {
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || end == s || *end || v < 1 || v > 1 << 20) return false;
    *out = (int)v;
    return true;
}

static int bad_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "vibrun: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2) return bad_usage("%s", "no script given");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "plot") == 0) {
        if (argc != 3) return bad_usage("%s", "plot takes one run directory, e.g. vibrun plot runs/quickstart");
        int merged = lb_merge_dir(argv[2]);
        int plotted = lb_plot(argv[2]);
        return plotted ? plotted : merged;
    }
    if (strcmp(argv[1], "status") == 0) {
        if (argc != 3) return bad_usage("%s", "status takes one run directory, e.g. vibrun status runs/quickstart");
        return lb_status(argv[2]);
    }
    if (strcmp(argv[1], "data") == 0) return lb_data(argc - 2, argv + 2);
    lb_opts o;
    memset(&o, 0, sizeof o);
    o.out = "runs";
    o.jobs = 1;
    int first = 1;
    if (strcmp(argv[1], "slurm") == 0) {
        o.slurm = true;
        first = 2;
    }
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (o.slurm && (strcmp(a, "--tasks") == 0 || strcmp(a, "--cpus-per-task") == 0)) {
            int v;
            if (!parse_count(i + 1 < argc ? argv[++i] : NULL, &v)) return bad_usage("%s needs a count >= 1", a);
            *(strcmp(a, "--tasks") == 0 ? &o.slurm_tasks : &o.slurm_cpus) = v;
        } else if (o.slurm && (strcmp(a, "--partition") == 0 || strcmp(a, "--time") == 0)) {
            if (++i >= argc) return bad_usage("%s needs a value", a);
            *(strcmp(a, "--time") == 0 ? &o.slurm_time : &o.slurm_partition) = argv[i];
        } else if (o.slurm && strcmp(a, "--submit") == 0) {
            o.slurm_submit = true;
        } else if (strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0) {
            if (!parse_count(i + 1 < argc ? argv[++i] : NULL, &o.jobs)) return bad_usage("%s needs a count >= 1, e.g. --jobs 4", a);
        } else if (strcmp(a, "--threads") == 0) {
            if (!parse_count(i + 1 < argc ? argv[++i] : NULL, &o.threads)) return bad_usage("%s needs a count >= 1", a);
        } else if (strcmp(a, "--shard") == 0) {
            const char *v = i + 1 < argc ? argv[++i] : "";
            char extra;
            if (sscanf(v, "%d/%d%c", &o.shard, &o.nshards, &extra) != 2 || o.nshards < 1)
                return bad_usage("--shard %s: expected I/N, e.g. --shard 2/8 (or --shard $SLURM_ARRAY_TASK_ID/8)", v);
            if (o.shard < 1 || o.shard > o.nshards) {
                fprintf(stderr, "vibrun: --shard %s: shard %d is out of range; shards are numbered 1..%d "
                        "(with a 0-based array, --array=0-%d, pass $((SLURM_ARRAY_TASK_ID + 1))/%d)\n",
                        v, o.shard, o.nshards, o.nshards - 1, o.nshards);
                return 2;
            }
        } else if (strcmp(a, "--list") == 0) o.list = true;
        else if (strcmp(a, "--merge") == 0) o.merge = true;
        else if (strcmp(a, "--set") == 0) {
            if (++i >= argc) return bad_usage("%s", "--set needs KEY=VALUE");
            if (o.nsets == LB_MAX_SETS) return bad_usage("%s", "too many --set options");
            o.sets[o.nsets++] = argv[i];
        } else if (strncmp(a, "--set=", 6) == 0) {
            if (o.nsets == LB_MAX_SETS) return bad_usage("%s", "too many --set options");
            o.sets[o.nsets++] = a + 6;
        } else if (strcmp(a, "--out") == 0) {
            if (++i >= argc) return bad_usage("%s", "--out needs a directory");
            o.out = argv[i];
        } else if (strcmp(a, "--check") == 0) o.check = true;
        else if (strcmp(a, "--resume") == 0) o.resume = true;
        else if (strcmp(a, "--quiet") == 0) o.quiet = true;
        else if (strcmp(a, "--traceback") == 0) o.traceback = true;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (a[0] == '-') return bad_usage("unknown option %s", a);
        else if (o.script) return bad_usage("more than one script given (%s)", a);
        else o.script = a;
    }
    if (!o.script) return bad_usage("%s", "no script given");
    if (o.slurm && o.slurm_tasks < 1) return bad_usage("%s", "slurm needs --tasks N, the size of the job array");
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    return lb_run(&o);
}
