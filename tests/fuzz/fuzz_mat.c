// fuzz_mat.c: the MATLAB level-5 reader: the listing, every variable it lists, and the Tishby
// loader on top of it (F and y). Input: the .mat file.
#include "fuzz.h"
#include "nn_data.h"
#include "nn_mat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, "var_u.mat", data, size);
    rt_err err = { 0 };
    nn_mat_var vars[8];
    int n = 0;
    if (nn_mat_list(path, vars, 8, &n, &err) == RT_OK)
        for (int i = 0; i < n; i++) {
            nn_mat_var v;
            if (nn_mat_read(path, vars[i].name, &v, &err) == RT_OK) nn_mat_free(&v);
        }
    nn_dataset d;
    if (nn_tishby_load(&d, path, &err) == RT_OK) nn_dataset_free(&d);
    return 0;
}
