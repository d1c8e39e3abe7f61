/*
** nn_data_impl.h: what the nn_data*.c files share; not part of the public API. nn_data.c holds the
** shared part (the spec, finding, splitting, scaling and these helpers); each format's reader has
** its own file: nn_data_idx.c, nn_data_cifar.c, nn_data_csv.c, nn_data_tishby.c,
** nn_data_discrete.c.
*/
#ifndef NN_DATA_IMPL_H
#define NN_DATA_IMPL_H

#include <zlib.h>

#include "nn_data.h"

#define NN_CHUNK (1u << 20)             /* bytes per read */
#define NN_CSV_MAX_CLASS 65535          /* larger "labels" are almost surely the wrong column */

/* dir/name into out (name alone when dir is NULL or name is absolute); false if it does not fit. */
bool nn_data_path_join(char *out, size_t size, const char *dir, const char *name);
/* The discrete data set (nn_data_discrete.c): the joint read from s->path, samples drawn. */
rt_status nn_data_open_discrete(const nn_data_spec *s, nn_dataset *train, nn_dataset *test, rt_err *err);
/* Appends formatted text at *len, silently clipping at size (for multi-line messages). */
void RT_PRINTF(4, 5) nn_data_append(char *buf, size_t size, size_t *len, const char *fmt, ...);
/* Sets the shape {a, b, c} (ndim of them used) and dim = a * b * c. */
void nn_data_shape(nn_dataset *d, int ndim, int a, int b, int c);
/* Allocates x (n, dim) and y (n) of an empty data set; never returns NULL buffers. */
rt_status nn_data_alloc(nn_dataset *d, int n, int dim, rt_err *err);

/* zlib reading, of .gz and raw files alike: open (a 256 KiB buffer), the error of a failed read,
** a read of up to n bytes (fewer only at the end of the data; -1 on a zlib error), and the whole
** (decompressed) file as a NUL-terminated malloc'd buffer. */
rt_status nn_data_gz_open(const char *path, gzFile *out, rt_err *err);
/* RT_OK unless path exists and is no regular file (a FIFO would block, /dev/zero never ends). */
rt_status nn_data_regular(const char *path, rt_err *err);
/* What nn_data_gz_slurp reads at most (decompressed). */
#define NN_SLURP_MAX ((size_t)4 << 30)
rt_status nn_data_gz_fail(gzFile f, const char *path, rt_err *err);
long long nn_data_gz_read(gzFile f, void *buf, size_t n);
rt_status nn_data_gz_slurp(const char *path, char **out, size_t *len, rt_err *err);

#endif
