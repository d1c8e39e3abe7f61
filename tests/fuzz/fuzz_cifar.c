// fuzz_cifar.c: the CIFAR-10 binary batch loader. Input: one batch file.
#include "fuzz.h"
#include "nn_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, "data_batch_1.bin", data, size);
    nn_dataset d;
    rt_err err = { 0 };
    if (nn_cifar_load(&d, (const char *const[]){ path }, 1, &err) == RT_OK) nn_dataset_free(&d);
    return 0;
}
