// fuzz_idx.c: the IDX loader (MNIST, Fashion-MNIST), gzip'd or not. Input: the images file, the
// separator line of fuzz_split, the labels file.
#include "fuzz.h"
#include "nn_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *a, *b;
    size_t na, nb;
    fuzz_split(data, size, &a, &na, &b, &nb);
    const char *images = fuzz_file(0, "images-idx3-ubyte", a, na);
    const char *labels = fuzz_file(1, "labels-idx1-ubyte", b, nb);
    nn_dataset d;
    rt_err err = { 0 };
    if (nn_idx_load(&d, images, labels, &err) == RT_OK) nn_dataset_free(&d);
    return 0;
}
