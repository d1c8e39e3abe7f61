// fuzz_script.c: the experiment loader: a Lua script declaring an experiment, run as `vibrun
// SCRIPT --list` (resolve and list its points, train nothing), with the --set strings given by the
// input's leading lines "#set KEY=VALUE". The script budget is lowered so that a looping input
// ends in milliseconds, as VIB_SCRIPT_STEPS lets a user lower it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "lb.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    setenv("VIB_SCRIPT_STEPS", "2e6", 1);
    setenv("VIB_SCRIPT_MEMORY", "64", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool init;
    if (!init) {
        LLVMFuzzerInitialize(NULL, NULL);     /* the plain driver does not call it */
        init = true;
    }
    lb_opts o;
    memset(&o, 0, sizeof o);
    static char sets[LB_MAX_SETS][256];
    size_t at = 0;
    while (at < size && o.nsets < LB_MAX_SETS && size - at > 5 && memcmp(data + at, "#set ", 5) == 0) {
        size_t end = at + 5;
        while (end < size && data[end] != '\n') end++;
        snprintf(sets[o.nsets], sizeof sets[0], "%.*s", (int)(end - at - 5), (const char *)data + at + 5);
        o.sets[o.nsets] = sets[o.nsets];
        o.nsets++;
        at = end < size ? end + 1 : end;
    }
    char out[600];
    snprintf(out, sizeof out, "%s/runs", fuzz_dir());
    o.script = fuzz_file(0, "experiment.lua", data + at, size - at);
    o.out = out;
    o.list = true;
    o.quiet = true;
    o.jobs = 1;
    (void)lb_run(&o);
    return 0;
}
