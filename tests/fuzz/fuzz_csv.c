// fuzz_csv.c: the CSV data loader (vib.data.csv) with label column y. Input: the CSV file.
#include "fuzz.h"
#include "nn_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, "data.csv", data, size);
    nn_dataset d;
    rt_err err = { 0 };
    if (nn_csv_load(&d, path, "y", &err) == RT_OK) nn_dataset_free(&d);
    return 0;
}
