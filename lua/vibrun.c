// vibrun.c: the command line. Modelled on lua.c: parse, run in protected mode, report, exit code.
// Options go through getopt_long (--jobs 2 and --jobs=2, options before or after the script);
// the commands it suggests afterwards start with lb_cmd(), the name it was invoked by.
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb.h"
#include "rt_blas.h"
#include "rt_conv_dnnl.h"
#include "vib_version.h"

static const char synopsis[] =
    "usage: vibrun SCRIPT.lua [options]     train every point of an experiment\n"
    "       vibrun RUN/EXP/ID/config.lua    replay one resolved point (from the directory it names)\n"
    "       vibrun status RUN_DIR           done / running / interrupted / failed points, and an ETA\n"
    "       vibrun plot RUN_DIR             run the figure scripts of runs/<experiment> again on its CSV\n"
    "                                       (and write its report.html again)\n"
    "       vibrun report RUN_DIR           write runs/<experiment>/report.html: the sweep table, figures\n"
    "                                       and provenance in one offline HTML file\n"
    "       vibrun export RUN/EXP/ID [--format safetensors|npz] [--weights ema|raw] [-o FILE]\n"
    "                                       write a point's weights for NumPy, PyTorch and others\n"
    "                                       (docs/weights.md; init = vib.load { ... } reads them back)\n"
    "       vibrun attack RUN_DIR [--script FILE] [--set ...] [--threads T]\n"
    "                                       run the experiment's attack block on the finished points of\n"
    "                                       a run directory, without training them (docs/robustness.md)\n"
    "       vibrun data list                which data sets are installed where\n"
    "       vibrun data get NAME            download a data set, checksum verified (cifar10, mnist,\n"
    "                                       fashion-mnist, tishby; no NAME lists them)\n"
    "       vibrun mi --csv FILE --dx A --dy B [--estimator ksg|kde|binning|ross] [--nats]\n"
    "                                       I(X;Y) of a CSV's first A and next B columns, in bits\n"
    "       vibrun mi --task NAME [--n N] [--seed S] [-o FILE]\n"
    "                                       a sample of a task with known I(X;Y) (mi --help lists them)\n"
    "       vibrun ib-curve --joint FILE [--method ib|dib] [-o FILE]\n"
    "                                       the exact IB curve of a discrete p(x, y) (ib-curve --help)\n"
    "       vibrun slurm SCRIPT.lua --tasks N [--partition P] [--time T] [--cpus-per-task C]\n"
    "                    [--out DIR] [--set ...] [--submit]\n"
    "                                       write runs/<exp>/slurm/<exp>.sbatch, a job array whose\n"
    "                                       task i trains --shard i/N; --submit hands it to sbatch\n"
    "       vibrun --version | --help\n";

static const char options[] =
    "\n"
    "options (a value as --jobs 4 or --jobs=4; options and the script in any order):\n"
    "  --set KEY=VALUE   override a param or a setting (epochs, batch, eval_batch, ema, seed,\n"
    "                    train_eval_limit, checkpoint_every, eval_samples, eval_passes, replicates,\n"
    "                    streams, augment); typed like the value it replaces; setting a sweep axis\n"
    "                    fixes it to that value. A bare KEY=VALUE is refused: write --set KEY=VALUE\n"
    "  --out DIR         output root (default: runs)\n"
    "  --check           validate the script, load the data, print each point's model summary\n"
    "  --gradcheck       check every custom term's gradient by finite differences in double on\n"
    "                    8 examples; prints the worst relative error per term (exit 1 over 1e-2)\n"
    "  --resume          skip finished points; continue interrupted ones from their checkpoint\n"
    "  --list            print the points with their ids (and shard with --shard); train nothing\n"
    "  --keys            print the keys --set accepts (the script's params, then the settings),\n"
    "                    one per line; train nothing\n"
    "  -j, --jobs N      train N points at a time in parallel processes (default 1)\n"
    "  --threads T       threads per job, for its GEMMs and the passes between them (default:\n"
    "                    $OPENBLAS_NUM_THREADS, else the CPUs divided by --jobs)\n"
    "  --shard I/N       train only shard I of N (1 <= I <= N: Slurm's --array=1-N with\n"
    "                    $SLURM_ARRAY_TASK_ID); shards are balanced and deterministic\n"
    "  --merge           rebuild results.csv and summary.csv from the points' files; train nothing\n"
    "  --quiet           no progress output\n"
    "  --traceback       print the Lua traceback with script errors\n"
    "  -h, --help        this text\n"
    "  -V, --version     the version, the git commit it was built from, the Lua and OpenBLAS versions\n"
    "\n"
    "vibrun slurm only: --tasks N (the array size), --partition P, --time T, --cpus-per-task C,\n"
    "  --submit (run sbatch on the script written)\n"
    "vibrun attack only: --script FILE (take the attack block from FILE, the run's script edited; its\n"
    "  points must be the run's); `vibrun attack --help` says more\n"
    "\n"
    "environment: VIB_SCRIPT_STEPS (default 1e9) and VIB_SCRIPT_MEMORY (MiB, default 512) bound the\n"
    "  Lua instructions and memory a script may use to declare its points; VIB_MEMORY (MiB, default\n"
    "  the memory available) bounds what a point's model, training step and evaluation may need\n"
    "\n"
    "exit codes: 0 success, 1 script or runtime error, 2 bad usage (an unknown option or a missing\n"
    "value, a bad --set key or value), 130 a run stopped by Ctrl-C (SIGINT), 143 a run stopped by\n"
    "SIGTERM; a stopped run checkpoints first: continue it with --resume\n";

/* The signal that stopped a run (SIGINT or SIGTERM), 0 while none came. */
static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int sig) {
    lb_stop = sig;                  /* true; and the script's watchdog exits with 128 + it */
    stop_signal = sig;
    signal(sig, SIG_DFL);           /* a second Ctrl-C ends the process at once */
}

/* A count >= 1 from text; false if malformed. */
static bool parse_count(const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 1 || v > 1 << 20) return false;
    *out = (int)v;
    return true;
}

/* A usage error: the message and where the usage is; exit code 2. */
static int bad_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vibrun: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage and options: %s --help\n", lb_cmd());
    return 2;
}

static int help(void) {
    fputs(synopsis, stdout);
    fputs(options, stdout);
    return 0;
}

static int version(void) {
    printf("vibrun %s\n", VIB_VERSION);
    printf("commit: %s\n", VIB_GIT_COMMIT);
    printf("Lua: %s\n", VIB_LUA_VERSION);
    printf("OpenBLAS: %s (kernel %s)\n", rt_blas_config(), rt_blas_corename());
    return 0;
}

/* A Hydra-style override (beta=0.1) that is not a file: an identifier, then '='. */
static bool bare_override(const char *a) {
    size_t n = strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.");
    return n > 0 && a[n] == '=' && access(a, F_OK) != 0;
}

/* `vibrun plot RUN_DIR`, `vibrun report RUN_DIR` and `vibrun status RUN_DIR`: one run directory, or --help. */
static int run_dir_command(int argc, char **argv) {
    const char *cmd = argv[1];
    if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) return help();
    if (argc != 3 || argv[2][0] == '-')
        return bad_usage("%s takes one run directory, e.g. %s %s runs/quickstart", cmd, lb_cmd(), cmd);
    if (strcmp(cmd, "status") == 0) return lb_status(argv[2]);
    if (strcmp(cmd, "report") == 0) return lb_report(argv[2], false, NULL, 0);
    int merged = lb_merge_dir(argv[2]);
    int plotted = lb_plot(argv[2]);
    /* the report of a directory with a manifest (a folder of figures alone has none) */
    int reported = 0;
    char manifest[4200];
    snprintf(manifest, sizeof manifest, "%s/manifest", argv[2]);
    if (access(manifest, F_OK) == 0) reported = lb_report(argv[2], false, NULL, 0);
    return plotted ? plotted : merged ? merged : reported;
}

enum {
    OPT_SET = 256, OPT_OUT, OPT_CHECK, OPT_RESUME, OPT_LIST, OPT_KEYS, OPT_THREADS, OPT_SHARD, OPT_MERGE,
    OPT_QUIET, OPT_TRACEBACK, OPT_GRADCHECK, OPT_TASKS, OPT_PARTITION, OPT_TIME, OPT_CPUS, OPT_SUBMIT
};

static const struct option long_options[] = {
    { "set", required_argument, NULL, OPT_SET },
    { "out", required_argument, NULL, OPT_OUT },
    { "check", no_argument, NULL, OPT_CHECK },
    { "gradcheck", no_argument, NULL, OPT_GRADCHECK },
    { "resume", no_argument, NULL, OPT_RESUME },
    { "list", no_argument, NULL, OPT_LIST },
    { "keys", no_argument, NULL, OPT_KEYS },
    { "jobs", required_argument, NULL, 'j' },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "shard", required_argument, NULL, OPT_SHARD },
    { "merge", no_argument, NULL, OPT_MERGE },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "traceback", no_argument, NULL, OPT_TRACEBACK },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    /* vibrun slurm */
    { "tasks", required_argument, NULL, OPT_TASKS },
    { "partition", required_argument, NULL, OPT_PARTITION },
    { "time", required_argument, NULL, OPT_TIME },
    { "cpus-per-task", required_argument, NULL, OPT_CPUS },
    { "submit", no_argument, NULL, OPT_SUBMIT },
    { NULL, 0, NULL, 0 },
};

/* The long name of option `opt` as the user may have typed it, for messages. */
static const char *option_name(int opt) {
    for (const struct option *l = long_options; l->name; l++)
        if (l->val == opt) return l->name;
    return "?";
}

/* A word that is no option: the script, once; -1 to go on, else the exit code. */
static int positional(const char *arg, lb_opts *o) {
    if (bare_override(arg)) return bad_usage("%s: a bare KEY=VALUE is not an option; write --set %s", arg, arg);
    if (o->script) return bad_usage("more than one script given (%s and %s)", o->script, arg);
    o->script = arg;
    return -1;
}

/* Parses argv[1..argc) of a training run or `vibrun slurm` into o; returns -1 to go on, else the
** exit code (--help, --version, a usage error). */
static int parse(int argc, char **argv, lb_opts *o) {
    opterr = 0;                     /* the messages are ours, each with its hint */
    optind = 1;
    int opt;
    /* '-': the script comes back as option 1 wherever it stands; ':': a missing value is ':'. */
    while ((opt = getopt_long(argc, argv, "-:hVj:", long_options, NULL)) != -1) {
        const char *arg = optarg;
        if (opt >= OPT_TASKS && !o->slurm)
            return bad_usage("--%s is an option of `%s slurm`", option_name(opt), lb_cmd());
        switch (opt) {
        case 1: {
            int code = positional(arg, o);
            if (code >= 0) return code;
            break;
        }
        case 'h': return help();
        case 'V': return version();
        case 'j':
            if (!parse_count(arg, &o->jobs)) return bad_usage("--jobs %s: expected a count >= 1, e.g. --jobs 4", arg);
            break;
        case OPT_THREADS:
            if (!parse_count(arg, &o->threads)) return bad_usage("--threads %s: expected a count >= 1", arg);
            break;
        case OPT_TASKS:
        case OPT_CPUS:
            if (!parse_count(arg, opt == OPT_TASKS ? &o->slurm_tasks : &o->slurm_cpus))
                return bad_usage("--%s %s: expected a count >= 1", option_name(opt), arg);
            break;
        case OPT_PARTITION: o->slurm_partition = arg; break;
        case OPT_TIME: o->slurm_time = arg; break;
        case OPT_SUBMIT: o->slurm_submit = true; break;
        case OPT_SHARD: {
            char extra;
            if (sscanf(arg, "%d/%d%c", &o->shard, &o->nshards, &extra) != 2 || o->nshards < 1)
                return bad_usage("--shard %s: expected I/N, e.g. --shard 2/8 (or --shard $SLURM_ARRAY_TASK_ID/8)", arg);
            if (o->shard < 1 || o->shard > o->nshards)
                return bad_usage("--shard %s: shard %d is out of range; shards are numbered 1..%d (with a 0-based "
                                 "array, --array=0-%d, pass $((SLURM_ARRAY_TASK_ID + 1))/%d)", arg, o->shard,
                                 o->nshards, o->nshards - 1, o->nshards);
            break;
        }
        case OPT_SET:
            if (!strchr(arg, '=') || arg[0] == '=')
                return bad_usage("--set %s: expected KEY=VALUE, e.g. --set epochs=5", arg);
            if (o->nsets == LB_MAX_SETS) return bad_usage("more than %d --set options", LB_MAX_SETS);
            o->sets[o->nsets++] = arg;
            break;
        case OPT_OUT:
            /* An unset $OUT in a job script: "" would put runs/<name> at the filesystem root. */
            if (!arg[0]) return bad_usage("--out is empty (an unset variable?); give the output root, e.g. --out runs");
            o->out = arg;
            break;
        case OPT_CHECK: o->check = true; break;
        case OPT_GRADCHECK: o->gradcheck = true; break;
        case OPT_RESUME: o->resume = true; break;
        case OPT_LIST: o->list = true; break;
        case OPT_KEYS: o->keys = true; break;
        case OPT_MERGE: o->merge = true; break;
        case OPT_QUIET: o->quiet = true; break;
        case OPT_TRACEBACK: o->traceback = true; break;
        case ':':
            return bad_usage("%s needs a value, e.g. %s=VALUE or %s VALUE", argv[optind - 1], argv[optind - 1],
                             argv[optind - 1]);
        default: {                  /* '?': unknown, ambiguous, or a value given to a flag */
            const char *a = argv[optind - 1];
            if (optopt && strncmp(a, "--", 2) == 0) return bad_usage("%.*s takes no value", (int)strcspn(a, "="), a);
            if (optopt) return bad_usage("unknown option -%c", optopt);
            return bad_usage("unknown option %s (or an abbreviation of more than one)", a);
        }
        }
    }
    for (; optind < argc; optind++) {      /* after "--": scripts only */
        int code = positional(argv[optind], o);
        if (code >= 0) return code;
    }
    if (!o->script) return bad_usage("no script given");
    if (o->slurm && o->slurm_tasks < 1) return bad_usage("slurm needs --tasks N, the size of the job array");
    return -1;
}

int main(int argc, char **argv) {
    lb_cmd_set(argv[0]);
    if (argc < 2) {
        fputs(synopsis, stderr);
        return bad_usage("no script given");
    }
    lb_build_set(VIB_VERSION, VIB_GIT_COMMIT);
    if (strcmp(argv[1], "plot") == 0 || strcmp(argv[1], "status") == 0 || strcmp(argv[1], "report") == 0)
        return run_dir_command(argc, argv);
    if (strcmp(argv[1], "data") == 0) return lb_data(argc - 2, argv + 2);
    if (strcmp(argv[1], "export") == 0) return lb_export(argc - 1, argv + 1, VIB_VERSION);
    if (strcmp(argv[1], "attack") == 0) {   /* stopped by a signal: after the batch, as a run */
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        int code = lb_attack_cmd(argc - 1, argv + 1);
        return stop_signal ? 128 + stop_signal : code;
    }
    if (strcmp(argv[1], "mi") == 0) return lb_mi(argc - 1, argv + 1);
    if (strcmp(argv[1], "ib-curve") == 0) return lb_ib_curve(argc - 1, argv + 1);
    lb_opts o;
    memset(&o, 0, sizeof o);
    o.out = "runs";
    o.jobs = 1;
    o.slurm = strcmp(argv[1], "slurm") == 0;
    /* `vibrun slurm ...` parses as if "slurm" were the program name. */
    int code = o.slurm ? parse(argc - 1, argv + 1, &o) : parse(argc, argv, &o);
    if (code >= 0) return code;
    rt_conv_get_backend();      /* a bad VIB_CONV stops here, before anything is written */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    code = lb_run(&o);
    /* A run a signal stopped ends as the shell reports a process that signal ended: 128 + its number. */
    return stop_signal ? 128 + stop_signal : code;
}
