// vibrun.c: the command line. Modelled on lua.c: parse, run in protected mode, report, exit code.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "rt_blas.h"

static const char usage[] =
    "usage: vibrun SCRIPT.lua [options]     train every point of an experiment\n"
    "       vibrun plot RUN_DIR             redraw the figures of runs/<experiment> from its CSV\n"
    "       vibrun data list                which data sets are installed where\n"
    "       vibrun data get NAME            download a data set, checksum verified (tishby)\n"
    "\n"
    "options:\n"
    "  --set KEY=VALUE   override a param or a setting (epochs, batch, eval_batch, ema, seed,\n"
    "                    train_eval_limit, checkpoint_every); typed like the value it replaces;\n"
    "                    setting a sweep axis fixes it to that value\n"
    "  --out DIR         output root (default: runs)\n"
    "  --check           validate the script, load the data, print each point's model summary\n"
    "  --resume          skip finished points; continue interrupted ones from their checkpoint\n"
    "  --quiet           no progress output\n"
    "  --traceback       print the Lua traceback with script errors\n"
    "  --help            this text\n"
    "\n"
    "exit codes: 0 success, 1 script or runtime error, 2 bad usage\n";

static void on_signal(int sig) {
    lb_stop = 1;
    signal(sig, SIG_DFL);           /* a second Ctrl-C ends the process at once */
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
        return lb_plot(argv[2]);
    }
    if (strcmp(argv[1], "data") == 0) return lb_data(argc - 2, argv + 2);
    lb_opts o;
    memset(&o, 0, sizeof o);
    o.out = "runs";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--set") == 0) {
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
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    return lb_run(&o);
}
