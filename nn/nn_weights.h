/*
** nn_weights.h: named tensors in and out of the files the rest of the ecosystem reads:
** safetensors (Hugging Face) and NumPy .npz; the names of a model's tensors; loading them into it.
**
** Both formats are written and read here, by hand. safetensors is a page long
** (https://huggingface.co/docs/safetensors: an 8-byte little-endian header length N, N bytes of
** JSON { name: { dtype, shape, data_offsets }, "__metadata__": { str: str } }, then the raw
** little-endian data, offsets relative to its start), and no small Debian package of C carries it.
** .npz is a zip of .npy files (numpy.lib.format: magic "\x93NUMPY", version, a header that is a
** Python dict literal, the raw data); the zip container and deflate go through zlib, which vibrun
** already uses for its checkpoints' CRC.
**
** The readers take hostile files: every length, offset, count, shape product and JSON or dict token
** is checked against the bytes that are there, and a bad file is one RT_ERR_FORMAT naming the file
** and what is wrong with it. Values are read as float32 (float64, float16 and bfloat16 are
** converted); other dtypes are refused with their name.
**
** A model's tensors (nn_weights_of_model) are its parameters under their registry names
** ("h1.weight" (out, in), "h1.bias", "z.mu.weight", "z.rho.weight", convolutions (out, in/groups,
** KH, KW), the objective's learned priors under their own names) in registration order, then each
** batch norm's running statistics "<layer>.running_mean", "<layer>.running_var" (a residual block's
** option-B shortcut: "<block>.shortcut_bn.running_mean", ...), PyTorch's names for them.
**
**     nn_weights w; nn_weights_init(&w);
**     nn_weights_of_model(&m, m.params.data, m.state, &w);
**     nn_weights_meta(&w, "point", id);
**     nn_weights_save(&w, NN_WFMT_SAFETENSORS, "model.safetensors", &err);
**     nn_weights_free(&w);
**     nn_weights_load("model.safetensors", &w, &err);   // either format, told by its first bytes
*/
#ifndef NN_WEIGHTS_H
#define NN_WEIGHTS_H

#include "nn_model.h"
#include "rt_err.h"
#include "rt_text.h"

#define NN_W_MAX_DIMS 8

typedef struct nn_wtensor {
    char *name;
    int ndim;                   /* 0 (a scalar) .. NN_W_MAX_DIMS */
    int64_t shape[NN_W_MAX_DIMS];
    int64_t n;                  /* elements: the product of the shape */
    float *data;                /* (n), owned */
} nn_wtensor;

typedef struct nn_weights {
    nn_wtensor *t;
    int n, cap;
    char **meta;                /* 2 * nmeta strings: key, value, key, value ... */
    int nmeta;
} nn_weights;

typedef enum nn_wformat {
    NN_WFMT_SAFETENSORS = 0,
    NN_WFMT_NPZ,                /* entries stored, as numpy.savez writes them */
    NN_WFMT_NPZ_DEFLATE,        /* entries deflated, as numpy.savez_compressed writes them */
} nn_wformat;

void nn_weights_init(nn_weights *w);
void nn_weights_free(nn_weights *w);
/* Appends a copy of data (n = product of shape floats) under name; names are unique (asserted). */
nn_wtensor *nn_weights_add(nn_weights *w, const char *name, int ndim, const int64_t *shape, const float *data);
/* Sets metadata key to value (safetensors' __metadata__; in an .npz, the 0-d string array
** "__metadata__" holding the same as JSON). */
void nn_weights_meta(nn_weights *w, const char *key, const char *value);
const nn_wtensor *nn_weights_find(const nn_weights *w, const char *name);
/* The metadata value of key, or NULL. */
const char *nn_weights_meta_get(const nn_weights *w, const char *key);

/* The file's bytes in format f, appended to out. */
void nn_weights_encode(const nn_weights *w, nn_wformat f, rt_buf *out);
/* nn_weights_encode, written atomically to path. */
rt_status nn_weights_save(const nn_weights *w, nn_wformat f, const char *path, rt_err *err);
/* Reads buf[0..size) (a safetensors file, or an .npz when it starts with a zip's "PK\3\4") into w,
** which is initialized here; `path` names the file in messages. */
rt_status nn_weights_decode(const unsigned char *buf, size_t size, const char *path, nn_weights *w, rt_err *err);
rt_status nn_weights_load(const char *path, nn_weights *w, rt_err *err);
/* The SHA-256 of data[0..n) as 64 lowercase hex digits and a NUL (Nettle). */
void nn_sha256_hex(const void *data, size_t n, char hex[65]);
/* The SHA-256 of the file's bytes as 64 lowercase hex digits (Nettle). */
rt_status nn_file_sha256(const char *path, char hex[65], rt_err *err);

/* The tensors of model m (the header's naming) with values from params (m->params.total floats,
** in the registry's offsets: the weights or their EMA) and state (m->nstate floats, or NULL to
** leave the running statistics out), appended to w. */
void nn_weights_of_model(const nn_model *m, const float *params, const float *state, nn_weights *w);

/* What vib.load asks for: a file, the names to look for, and which layers. */
typedef struct nn_load_spec {
    const char *path;
    const char *where;          /* "x.lua:12", the script line of vib.load, for messages */
    const char *const *map;     /* 2 * nmap strings: a model name (a tensor's, or a layer's as a prefix
                                ** of its tensors') and the file's name for it */
    int nmap;
    const char *const *layers;  /* nlayers layer names (or tensor names of the objective's parameters)
                                ** to load; 0: every tensor of the model, and every tensor of the file
                                ** must be used */
    int nlayers;
} nn_load_spec;

/* Checks w against model m per spec (names, shapes, unused tensors of the file, unknown names in
** map or layers), with one line per mismatch in the message; with apply, copies the values into
** m's parameters and state. */
rt_status nn_weights_apply(nn_model *m, const nn_weights *w, const nn_load_spec *spec, bool apply, rt_err *err);

#endif
