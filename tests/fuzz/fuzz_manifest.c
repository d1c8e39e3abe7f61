// fuzz_manifest.c: a run directory's manifest reader (what --resume, status and --merge read
// first). Input: the manifest file.
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "lb_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char exp[600];
    snprintf(exp, sizeof exp, "%s/exp", fuzz_dir());
    mkdir(exp, 0777);
    fuzz_file(0, "exp/manifest", data, size);
    lb_manifest m;
    if (lb_manifest_read(exp, &m) >= 0) lb_manifest_free(&m);
    return 0;
}
