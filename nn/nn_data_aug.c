// nn_data_aug.c: augmentation of training batches (nn_data.h): the draws, and a gather that crops
// and mirrors each example as it copies it.
#include "nn_data_impl.h"

#include <string.h>

const char *nn_augment_name(nn_augment a) {
    switch (a) {
    case NN_AUG_NONE: return "none";
    case NN_AUG_CROP_FLIP: return "crop_flip";
    }
    return "?";
}

void nn_data_augment_draw(rt_rng *r, nn_augment a, uint8_t *codes, int n) {
    if (a == NN_AUG_NONE) return;
    for (int i = 0; i < n; i++) codes[i] = (uint8_t)rt_rng_below(r, NN_AUG_CODES);
}

/* One (C, H, W) example src into dst, cropped at (dy, dx) of its zero-padded copy and mirrored
** when flip: dst[c][h][w] = src[c][h + dy - P][w' + dx - P], w' = W - 1 - w when flipped, else w;
** zero where that falls in the padding. */
static void crop_flip(const float *src, float *dst, int C, int H, int W, int dy, int dx, bool flip) {
    int oy = dy - NN_AUG_PAD, ox = dx - NN_AUG_PAD;
    for (int c = 0; c < C; c++) {
        for (int h = 0; h < H; h++) {
            float *out = dst + ((size_t)c * (size_t)H + (size_t)h) * (size_t)W;
            int sh = h + oy;
            if (sh < 0 || sh >= H) {
                memset(out, 0, (size_t)W * sizeof *out);
                continue;
            }
            const float *row = src + ((size_t)c * (size_t)H + (size_t)sh) * (size_t)W;
            for (int w = 0; w < W; w++) {
                int sw = (flip ? W - 1 - w : w) + ox;
                out[w] = sw >= 0 && sw < W ? row[sw] : 0.0f;
            }
        }
    }
}

void nn_data_gather_aug(const nn_dataset *d, const int32_t *idx, const uint8_t *codes, int b, float *x,
                        int32_t *y) {
    if (!codes) {
        nn_data_gather(d, idx, b, x, y);
        return;
    }
    RT_ASSERT(d->ndim == 3);
    int C = d->shape[0], H = d->shape[1], W = d->shape[2], side = 2 * NN_AUG_PAD + 1;
    size_t dim = (size_t)d->dim;
    for (int i = 0; i < b; i++) {
        int32_t k = idx[i];
        RT_ASSERT(k >= 0 && k < d->n && codes[i] < NN_AUG_CODES);
        int code = codes[i], corner = code >> 1;
        if (x) crop_flip(d->x + (size_t)k * dim, x + (size_t)i * dim, C, H, W, corner / side, corner % side,
                         code & 1);
        if (y) y[i] = d->y[k];
    }
}
