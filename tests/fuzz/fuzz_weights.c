// fuzz_weights.c: the safetensors and NumPy .npz readers behind init = vib.load (the format is told
// from the bytes), and a write of what was read, which must read back. Input: the weights file.
#include <stdlib.h>

#include "fuzz.h"
#include "nn_weights.h"
#include "rt_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(0, "model.weights", data, size);
    nn_weights w;
    nn_weights_init(&w);
    rt_err err = { 0 };
    if (nn_weights_load(path, &w, &err) == RT_OK) {
        /* what was read encodes, and the encoding decodes, in every format */
        static const nn_wformat formats[] = { NN_WFMT_SAFETENSORS, NN_WFMT_NPZ, NN_WFMT_NPZ_DEFLATE };
        for (int f = 0; f < 3; f++) {
            rt_buf b = { 0 };
            nn_weights_encode(&w, formats[f], &b);
            nn_weights back;
            nn_weights_init(&back);
            rt_err e2 = { 0 };
            if (nn_weights_decode((const unsigned char *)b.s, b.n, "re-encoded", &back, &e2) != RT_OK) abort();
            nn_weights_free(&back);
            rt_buf_free(&b);
        }
    }
    nn_weights_free(&w);
    return 0;
}
