/*
** rt_ckpt.h: checkpoints as a list of named binary blobs, written atomically.
**
** File format (little-endian, what x86-64 and arm64 are):
**     "VIBCKPT1"  u32 version  u32 count
**     count x { u32 name_len, name bytes, u64 nbytes, nbytes of data }
**     u32 crc32 (zlib) of everything before it
** The file's version (CKPT_VERSION) is the layout above; what the blobs mean is the writer's. A
** new kind of state (batch-norm running statistics, say) is one more named blob: a reader asks for
** it with rt_ckpt_has / rt_ckpt_get and treats a checkpoint without it as one written before it
** existed, so the file version stays. nn_train.c writes "point" (the point id, text) and "shapes"
** (one line per parameter, "name 3x4"), and refuses a checkpoint whose point or shapes differ from
** the run's, naming both.
** Writing goes to "<path>.tmp", fsyncs it, and renames it over <path>, so a kill at any moment
** leaves either the old checkpoint or the new one, never a torn file. Reading checks magic,
** version, sizes and the CRC, and reports a corrupt file as RT_ERR_FORMAT naming the path.
**
**     rt_ckpt *ck = rt_ckpt_new();
**     rt_ckpt_put(ck, "params", P.data, P.total * sizeof(float));
**     rt_ckpt_save(ck, "runs/x/abc/checkpoint", &err);  rt_ckpt_free(ck);
**     ck = rt_ckpt_load("runs/x/abc/checkpoint", &err);
**     rt_ckpt_get(ck, "params", P.data, P.total * sizeof(float), &err);
*/
#ifndef RT_CKPT_H
#define RT_CKPT_H

#include "rt_err.h"

typedef struct rt_ckpt rt_ckpt;

rt_ckpt *rt_ckpt_new(void);
void rt_ckpt_free(rt_ckpt *ck);
/* Copies nbytes from data under `name` (names unique; a second put of a name replaces it). */
void rt_ckpt_put(rt_ckpt *ck, const char *name, const void *data, size_t nbytes);
rt_status rt_ckpt_save(const rt_ckpt *ck, const char *path, rt_err *err);
/* NULL on failure, with err set (missing file: RT_ERR_IO; damaged: RT_ERR_FORMAT). */
rt_ckpt *rt_ckpt_load(const char *path, rt_err *err);
/* Copies the blob into dst; RT_ERR_FORMAT if missing or of another size. */
rt_status rt_ckpt_get(const rt_ckpt *ck, const char *name, void *dst, size_t nbytes, rt_err *err);
bool rt_ckpt_has(const rt_ckpt *ck, const char *name);
/* The blob `name` in place (owned by ck) and its size; NULL when there is none. */
const void *rt_ckpt_data(const rt_ckpt *ck, const char *name, size_t *nbytes);

#endif
