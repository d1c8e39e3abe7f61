// lb_attack.c: a point's attack block after training (lb_attack.h): the evaluation weights from
// the checkpoint, the split's first n images as pixels, each attack and epsilon in batches, and
// attack.csv (deterministic) beside attack_timing.csv (seconds).
#include "lb_attack.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_ckpt.h"
#include "rt_csv.h"
#include "rt_text.h"

/* The evaluation weights: the checkpoint's EMA (weights and running statistics) when it has one. */
static rt_status load_weights(nn_model *m, const char *dir, const char *where, rt_err *err) {
    char path[1200];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return rt_err_set(err, RT_ERR_IO, "%s: attack: %s does not exist; the attack runs on a trained point's "
                          "checkpoint (train the point first, or remove the attack block)", where, path);
    fclose(f);
    rt_ckpt *ck = rt_ckpt_load(path, err);
    if (!ck) return err->status;
    size_t nb = m->params.total * sizeof(float), ns = m->nstate * sizeof(float);
    rt_status st = rt_ckpt_get(ck, rt_ckpt_has(ck, "ema.shadow") ? "ema.shadow" : "params", m->params.data, nb, err);
    if (!st && ns) st = rt_ckpt_get(ck, rt_ckpt_has(ck, "ema.state") ? "ema.state" : "state", m->state, ns, err);
    rt_ckpt_free(ck);
    return st;
}

static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean and median of v[0..n) (sorted in place); nan when n = 0. */
static void mean_median(double *v, int n, double *mean, double *median) {
    if (n == 0) {
        *mean = *median = (double)NAN;
        return;
    }
    double s = 0.0;
    for (int i = 0; i < n; i++) s += v[i];
    *mean = s / n;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void put_num(rt_buf *b, double v) {
    char s[64];
    rt_fmt_num(v, s, sizeof s);
    rt_buf_printf(b, ",%s", s);
}

#define ATTACK_HEADER "attack,protocol,norm,eps,targeted,n,clean_acc,robust_acc,success_rate,l0_mean,l0_median," \
                      "l2_mean,l2_median,linf_mean,linf_median,randomized,zero_grad_frac\n"

rt_status lb_attack_point(const lb_attack_block *b, nn_model *m, const nn_data_spec *data, uint64_t seed,
                          uint64_t point, int eval_samples, const char *dir, lb_attack_cols *cols, rt_err *err) {
    memset(cols, 0, sizeof *cols);
    const char *name = data->name ? data->name : "";
    if (strcmp(name, "mnist") != 0 && strcmp(name, "fashion-mnist") != 0 && strcmp(name, "cifar10") != 0)
        return rt_err_set(err, RT_ERR_ARG, "%s: attack: the attacks work on images of bytes (vib.data.mnist, "
                          "fashion_mnist, cifar10), whose pixels lie in [0, 1]; this point's data are %s", b->where,
                          name[0] ? name : "?");
    rt_status st = load_weights(m, dir, b->where, err);
    if (st) return st;
    nn_data_spec raw = *data;
    raw.scale = NN_SCALE_NONE;
    nn_dataset tr, te;
    st = nn_data_open(&raw, &tr, &te, err);
    if (st) return st;
    const nn_dataset *src = b->train_split ? &tr : &te;
    int n = b->n < src->n ? b->n : src->n, D = src->dim, C = m->out;
    size_t nd = (size_t)n * (size_t)D;
    float *x = rt_xfloats(nd + 1), *a = rt_xfloats((size_t)D), *off = rt_xfloats((size_t)D);
    int32_t *y = rt_xcalloc((size_t)n + 1, sizeof *y);
    for (size_t i = 0; i < nd; i++) x[i] = src->x[i] / 255.0f;
    memcpy(y, src->y, (size_t)n * sizeof *y);
    nn_attack_scaling(&tr, data->scale, a, off);        /* train is scaled in place: pixels copied first */
    nn_dataset_free(&tr);
    nn_dataset_free(&te);

    rt_ctx ctx;
    rt_ctx_init(&ctx, (size_t)1 << 20);
    nn_attack_target t = nn_attack_target_make(m, &ctx, D, C, a, off);
    t.samples = eval_samples;
    rt_rng root;
    rt_rng_stream(&root, seed, point, RT_STREAM_ATTACK);
    int B = b->batch;
    float *p = rt_xfloats((size_t)B * (size_t)C), *p2 = rt_xfloats((size_t)B * (size_t)C),
          *g = rt_xfloats((size_t)B * (size_t)D), *xadv = rt_xfloats(nd + 1);
    uint8_t *clean = rt_xcalloc((size_t)n + 1, 1), *fooled = rt_xcalloc((size_t)n + 1, 1);
    /* The clean predictions, and the checks: two predictions of the same input differ (the model is
    ** randomized), the input gradient of the loss is zero everywhere for an example. */
    int nclean = 0, zero_grad = 0;
    bool randomized = false;
    for (int s = 0; s < n; s += B) {
        int bn = n - s < B ? n - s : B;
        rt_rng_derive(&t.stream, &root, 0, (uint64_t)s);
        t.calls = 0;
        nn_attack_predict(&t, x + (size_t)s * D, bn, p);
        nn_attack_predict(&t, x + (size_t)s * D, bn, p2);
        randomized |= memcmp(p, p2, (size_t)bn * (size_t)C * sizeof *p) != 0;
        nn_attack_grad(&t, x + (size_t)s * D, y + s, bn, NN_LOSS_CE, NULL, g, NULL);
        for (int i = 0; i < bn; i++) {
            clean[s + i] = argmax(p + (size_t)i * C, C) == y[s + i];
            nclean += clean[s + i];
            bool z = true;
            for (int j = 0; j < D && z; j++) z = g[(size_t)i * D + j] == 0.0f;
            zero_grad += z;
        }
    }
    rt_buf csv = { 0 }, timing = { 0 };
    rt_buf_printf(&csv, ATTACK_HEADER);
    rt_buf_printf(&timing, "attack,norm,eps,seconds\n");
    double *l0 = rt_xcalloc((size_t)n + 1, sizeof *l0), *l2 = rt_xcalloc((size_t)n + 1, sizeof *l2),
           *li = rt_xcalloc((size_t)n + 1, sizeof *li);
    int row = 0;
    for (int k = 0; k < b->na; k++) {
        const lb_attack_spec *as = &b->a[k];
        for (int e = 0; e < as->neps; e++, row++) {
            double t0 = rt_now_s();
            nn_attack_cfg cfg = as->cfg;
            cfg.eps = (float)as->eps[e];
            int robust = 0, succ = 0;
            for (int s = 0; s < n; s += B) {
                int bn = n - s < B ? n - s : B;
                rt_rng_derive(&t.stream, &root, (uint64_t)row + 1, (uint64_t)s);
                t.calls = 0;
                /* Targets for a targeted attack: the next class after the label. */
                int32_t tgt[4096];
                RT_ASSERT(bn <= 4096);
                for (int i = 0; i < bn; i++) tgt[i] = (y[s + i] + 1) % C;
                nn_attack_run(&t, &cfg, x + (size_t)s * D, y + s, tgt, bn, clean + s, xadv + (size_t)s * D, fooled + s);
                /* Judged once, on the mean softmax of the predictive (the paper's protocol). */
                nn_attack_predict(&t, xadv + (size_t)s * D, bn, p);
                for (int i = 0; i < bn; i++) {
                    int at = s + i;
                    if (!clean[at]) continue;
                    bool ok = argmax(p + (size_t)i * C, C) == y[at];
                    if (ok) {
                        robust++;
                        continue;
                    }
                    double c0 = 0, c2 = 0, ci = 0;
                    for (int j = 0; j < D; j++) {
                        double d = fabs((double)xadv[(size_t)at * D + j] - (double)x[(size_t)at * D + j]);
                        c0 += d > 0.0;
                        c2 += d * d;
                        ci = d > ci ? d : ci;
                    }
                    l0[succ] = c0;
                    l2[succ] = sqrt(c2);
                    li[succ] = ci;
                    succ++;
                }
            }
            double l0m, l0d, l2m, l2d, lim, lid;
            mean_median(l0, succ, &l0m, &l0d);
            mean_median(l2, succ, &l2m, &l2d);
            mean_median(li, succ, &lim, &lid);
            const char *kind = nn_attack_kind_name(cfg.kind), *norm = nn_attack_norm_name(cfg.norm);
            char eps[32];
            rt_fmt_num(as->eps[e], eps, sizeof eps);
            rt_buf_printf(&csv, "%s,paper,%s,%s,%d,%d", kind, norm, eps, cfg.targeted ? 1 : 0, n);
            put_num(&csv, n ? (double)nclean / n : (double)NAN);
            put_num(&csv, n ? (double)robust / n : (double)NAN);
            put_num(&csv, nclean ? (double)succ / nclean : (double)NAN);
            put_num(&csv, l0m);
            put_num(&csv, l0d);
            put_num(&csv, l2m);
            put_num(&csv, l2d);
            put_num(&csv, lim);
            put_num(&csv, lid);
            rt_buf_printf(&csv, ",%d", randomized ? 1 : 0);
            put_num(&csv, n ? (double)zero_grad / n : (double)NAN);
            rt_buf_printf(&csv, "\n");
            rt_buf_printf(&timing, "%s,%s,%s,%.4f\n", kind, norm, eps, rt_now_s() - t0);
            /* result.csv: robust_acc_<kind>[_targeted]_<norm>_eps<eps>, made unique by the attack's index. */
            char col[96];
            snprintf(col, sizeof col, "robust_acc_%s%s_%s_eps%s", kind, cfg.targeted ? "_targeted" : "", norm, eps);
            for (int q = 0; q < cols->n; q++)
                if (strcmp(cols->name[q], col) == 0) {
                    char again[96];
                    snprintf(again, sizeof again, "%.80s_%d", col, k + 1);
                    snprintf(col, sizeof col, "%s", again);
                    break;
                }
            snprintf(cols->name[cols->n], sizeof cols->name[0], "%s", col);
            rt_fmt_num(n ? (double)robust / n : (double)NAN, cols->value[cols->n], sizeof cols->value[0]);
            cols->n++;
        }
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/attack.csv", dir);
    st = rt_write_atomic(path, csv.s, csv.n, err);
    snprintf(path, sizeof path, "%s/attack_timing.csv", dir);
    if (!st) st = rt_write_atomic(path, timing.s, timing.n, err);
    rt_buf_free(&csv);
    rt_buf_free(&timing);
    free(l0);
    free(l2);
    free(li);
    free(p);
    free(p2);
    free(g);
    free(xadv);
    free(clean);
    free(fooled);
    free(x);
    free(a);
    free(off);
    free(y);
    rt_ctx_free(&ctx);
    return st;
}
