// fuzz_ckpt.c: the checkpoint reader, and the reads a resume makes of it (the point id, the shapes,
// the parameters, the RNG states, the cursor). Input: the checkpoint file.
#include <stdlib.h>

#include "fuzz.h"
#include "rt_ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, "checkpoint", data, size);
    rt_err err = { 0 };
    rt_ckpt *ck = rt_ckpt_load(path, &err);
    if (!ck) return 0;
    static const struct { const char *name; size_t n; } reads[] = {
        { "point", 12 }, { "shapes", 64 }, { "params", 256 }, { "optim.m", 256 }, { "optim.t", 8 },
        { "ema.shadow", 256 }, { "rng.data", 40 }, { "rng.noise", 40 }, { "cursor", 8 },
    };
    unsigned char buf[256];
    for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
        (void)rt_ckpt_has(ck, reads[i].name);
        (void)rt_ckpt_get(ck, reads[i].name, buf, reads[i].n, &err);
    }
    rt_ckpt_free(ck);
    return 0;
}
