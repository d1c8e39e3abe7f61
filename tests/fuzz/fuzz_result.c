// fuzz_result.c: a point's result.csv as --resume judges it and --merge folds it into results.csv
// and summary.csv. Input: the result.csv of the first of two points (the second one is valid), so
// a bad file meets a good one in the merge.
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "lb_impl.h"

static const char good[] =
    "beta,seed,status,epochs,test_error,train_error,test_loss_bits\n"
    "0.001,2,done,3,0.125,0.0625,1.5\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char exp[600], dir[700];
    snprintf(exp, sizeof exp, "%s/exp", fuzz_dir());
    mkdir(exp, 0777);
    char ids[2][17] = { "0123456789ab", "ba9876543210" };
    for (int i = 0; i < 2; i++) {
        snprintf(dir, sizeof dir, "%s/%s", exp, ids[i]);
        mkdir(dir, 0777);
    }
    static const int epochs[2] = { 3, 3 };
    static const char *const titles[2] = { "beta=0.001 seed=1", "beta=0.001 seed=2" };
    rt_err err = { 0 };
    if (lb_manifest_write(exp, "fuzz.lua", "", ids, epochs, titles, 2, &err) != RT_OK) return 0;
    fuzz_file(0, "exp/0123456789ab/result.csv", data, size);
    fuzz_file(1, "exp/ba9876543210/result.csv", (const uint8_t *)good, strlen(good));
    (void)lb_result_status(exp, ids[0]);
    (void)lb_aggregate(exp, ids, 2, &err);
    return 0;
}
