// nn_data_cifar.c: the reader of the CIFAR-10 binary batches, through stdio (nn_data.h).
#include "nn_data_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CIFAR_PIXELS 3072
#define CIFAR_RECORD (1 + CIFAR_PIXELS)

rt_status nn_cifar_load(nn_dataset *d, const char *const *files, int nfiles, rt_err *err) {
    memset(d, 0, sizeof *d);
    if (nfiles <= 0) return rt_err_set(err, RT_ERR_ARG, "cifar10: no batch files given");
    long long total = 0;
    for (int i = 0; i < nfiles; i++) {
        struct stat st;
        if (stat(files[i], &st) != 0)
            return rt_err_set(err, RT_ERR_IO, "cannot open %s: %s", files[i], strerror(errno));
        rt_status reg = nn_data_regular(files[i], err);
        if (reg != RT_OK) return reg;
        long long size = (long long)st.st_size;
        if (size == 0 || size % CIFAR_RECORD != 0)
            return rt_err_set(err, RT_ERR_FORMAT, "%s: size %lld bytes is not a multiple of the CIFAR-10 "
                              "record size %d (1 label byte + %d pixel bytes); the file is truncated or not "
                              "a CIFAR-10 binary batch", files[i], size, CIFAR_RECORD, CIFAR_PIXELS);
        total += size / CIFAR_RECORD;
    }
    if (total > 0x7fffffffLL)
        return rt_err_set(err, RT_ERR_ARG, "cifar10: %lld records are too many", total);
    rt_status st = nn_data_alloc(d, (int)total, CIFAR_PIXELS, err);
    if (st != RT_OK) return st;
    enum { PER_READ = 256 };
    unsigned char *buf = malloc((size_t)PER_READ * CIFAR_RECORD);
    if (!buf) st = rt_err_set(err, RT_ERR_NOMEM, "cifar10: out of memory");
    size_t row = 0, len = 0, k;
    for (int i = 0; st == RT_OK && i < nfiles; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f) {
            st = rt_err_set(err, RT_ERR_IO, "cannot open %s: %s", files[i], strerror(errno));
            break;
        }
        nn_data_append(d->source, sizeof d->source, &len, "%s%s", i ? "," : "", files[i]);
        for (size_t rec = 0; st == RT_OK && row < (size_t)total; ) {
            size_t want = (size_t)total - row < PER_READ ? (size_t)total - row : PER_READ;
            if ((k = fread(buf, CIFAR_RECORD, want, f)) == 0) break;
            for (size_t j = 0; j < k && st == RT_OK; j++, rec++, row++) {
                const unsigned char *r = buf + j * CIFAR_RECORD;
                if (r[0] > 9)
                    st = rt_err_set(err, RT_ERR_FORMAT, "%s: record %zu has label %u, outside 0..9; is this "
                                    "a CIFAR-10 batch (CIFAR-100 has two label bytes)?", files[i], rec,
                                    (unsigned)r[0]);
                d->y[row] = r[0];
                float *x = d->x + row * CIFAR_PIXELS;
                for (int p = 0; p < CIFAR_PIXELS; p++) x[p] = (float)r[1 + p];
            }
        }
        if (st == RT_OK && ferror(f))
            st = rt_err_set(err, RT_ERR_IO, "%s: read error: %s", files[i], strerror(errno));
        fclose(f);
    }
    if (st == RT_OK && row != (size_t)total)
        st = rt_err_set(err, RT_ERR_IO, "cifar10: read %zu records, expected %lld; a file changed while it "
                        "was read", row, total);
    free(buf);
    if (st != RT_OK) { nn_dataset_free(d); return st; }
    nn_data_shape(d, 3, 3, 32, 32);
    d->nclass = 10;
    return RT_OK;
}
