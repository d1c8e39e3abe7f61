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
                      "l2_mean,l2_median,linf_mean,linf_median,randomized,zero_grad_frac,obfuscation_suspected\n"

/* One row of attack.csv. */
typedef struct attack_row {
    const char *kind;                   /* "fgsm", "pgd", "apgd_ce", "auto", "cw_l2" */
    bool adaptive, targeted;
    bool eps_free;                      /* cw_l2: no epsilon (an empty eps), its distortions the result */
    nn_attack_norm norm;
    double eps;
    int robust, broken;                 /* clean-correct examples still correct, and those not */
    double dist[6];                     /* mean and median of L0, L2, L-inf over the broken ones */
    double seconds;
} attack_row;

/* The distortions of the broken examples (broken[i]) of xadv against x, into r. An example left as
** it was (a randomized model's clean example judged wrong this time; one C&W did not fool) has no
** perturbation to measure and is left out. */
static void row_distortions(attack_row *r, const float *x, const float *xadv, const uint8_t *broken, int n, int D,
                            double *l0, double *l2, double *li) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!broken[i]) continue;
        double c0 = 0, c2 = 0, ci = 0;
        for (int j = 0; j < D; j++) {
            double d = fabs((double)xadv[(size_t)i * D + j] - (double)x[(size_t)i * D + j]);
            c0 += d > 0.0;
            c2 += d * d;
            ci = d > ci ? d : ci;
        }
        if (c0 == 0) continue;
        l0[k] = c0;
        l2[k] = sqrt(c2);
        li[k++] = ci;
    }
    mean_median(l0, k, &r->dist[0], &r->dist[1]);
    mean_median(l2, k, &r->dist[2], &r->dist[3]);
    mean_median(li, k, &r->dist[4], &r->dist[5]);
}

/* The first call of phase k of an attack of a batch (the attack, a judgment, a second attack, ...):
** each phase's noise is fixed whatever the calls before it made (an attack ends early when its
** batch is all fooled), so an example's result does not depend on its batch-mates. */
#define PHASE(k) ((uint64_t)(k) << 32)

/* Whether each example of xadv (bn of them) is classified correctly in each of R predictions (each
** one of the target's calls: its own noise), into ok[]. */
static void judge(nn_attack_target *t, const float *xadv, const int32_t *y, int bn, int R, float *p, uint8_t *ok) {
    int C = t->nclass;
    for (int i = 0; i < bn; i++) ok[i] = 1;
    for (int r = 0; r < R; r++) {
        nn_attack_predict(t, xadv, bn, p);
        for (int i = 0; i < bn; i++) ok[i] &= argmax(p + (size_t)i * C, C) == y[i];
    }
}

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
    float *p = rt_xfloats((size_t)B * (size_t)C), *xadv = rt_xfloats(nd + 1), *xdlr = rt_xfloats(nd + 1);
    uint8_t *clean = rt_xcalloc((size_t)n + 1, 1), *fooled = rt_xcalloc((size_t)n + 1, 1),
            *ok = rt_xcalloc((size_t)n + 1, 1), *ok2 = rt_xcalloc((size_t)n + 1, 1),
            *broken = rt_xcalloc((size_t)n + 1, 1);
    /* The clean predictions (judged once, as the paper's protocol) and the checks. */
    int nclean = 0, zero_grad = 0;
    bool randomized = false;
    for (int s = 0; s < n; s += B) {
        int bn = n - s < B ? n - s : B, z;
        bool rz;
        rt_rng_derive(&t.stream, &root, 0, 0);
        t.example0 = s;
        t.calls = 0;
        judge(&t, x + (size_t)s * D, y + s, bn, 1, p, clean + s);
        nn_attack_checks(&t, x + (size_t)s * D, y + s, bn, &rz, &z);
        randomized |= rz;
        zero_grad += z;
        for (int i = 0; i < bn; i++) nclean += clean[s + i];
    }
    double *l0 = rt_xcalloc((size_t)n + 1, sizeof *l0), *l2 = rt_xcalloc((size_t)n + 1, sizeof *l2),
           *li = rt_xcalloc((size_t)n + 1, sizeof *li);
    attack_row rows[LB_ATTACK_MAX_ROWS];
    int nrow = 0, stream = 0;
    for (int k = 0; k < b->na; k++) {
        const lb_attack_spec *as = &b->a[k];
        for (int e = 0; e < as->neps; e++) {
            double t0 = rt_now_s();
            nn_attack_cfg cfg = as->cfg;
            cfg.eps = (float)as->eps[e];
            stream++;
            attack_row *r = &rows[nrow];
            memset(r, 0, sizeof *r);
            r->kind = nn_attack_kind_name(cfg.kind);
            r->targeted = cfg.targeted;
            r->norm = cfg.norm;
            r->eps = as->eps[e];
            r->eps_free = cfg.kind == NN_ATK_CW;
            if (!as->adaptive) {
                /* The paper's protocol: the mean softmax of eval_samples samples, its gradient, one judgment. */
                t.samples = eval_samples;
                t.eot = 1;
                for (int s = 0; s < n; s += B) {
                    int bn = n - s < B ? n - s : B;
                    rt_rng_derive(&t.stream, &root, (uint64_t)stream, 0);
                    t.example0 = s;
                    t.calls = 0;
                    int32_t tgt[4096];          /* a targeted attack aims at the class after the label */
                    RT_ASSERT(bn <= 4096);
                    for (int i = 0; i < bn; i++) tgt[i] = (y[s + i] + 1) % C;
                    nn_attack_run(&t, &cfg, x + (size_t)s * D, y + s, tgt, bn, clean + s, xadv + (size_t)s * D, fooled + s);
                    t.calls = PHASE(1);
                    judge(&t, xadv + (size_t)s * D, y + s, bn, 1, p, ok + s);
                }
                for (int i = 0; i < n; i++) {
                    broken[i] = clean[i] && !ok[i];
                    r->robust += clean[i] && ok[i];
                    r->broken += broken[i];
                }
                row_distortions(r, x, xadv, broken, n, D, l0, l2, li);
                r->seconds = rt_now_s() - t0;
                lb_attack_examples_save(dir, nrow == 0, r->kind, false, r->norm, r->eps_free ? (double)NAN : r->eps,
                                        r->targeted, x, xadv, y, clean, broken, n, D);
                nrow++;
                continue;
            }
            /* The adaptive protocol: EOT gradients of one-sample predictions (one draw for a model that
            ** is not randomized), APGD-CE, then APGD-DLR on the examples still robust; an example is
            ** robust when each of R predictions of eval_samples samples is right. */
            r->kind = "apgd_ce";
            r->adaptive = true;
            rows[nrow + 1] = *r;
            rows[nrow + 1].kind = "auto";
            for (int s = 0; s < n; s += B) {
                int bn = n - s < B ? n - s : B;
                rt_rng_derive(&t.stream, &root, (uint64_t)stream, 0);
                t.example0 = s;
                t.calls = 0;
                t.samples = randomized ? 1 : eval_samples;
                t.eot = randomized ? as->eot : 1;
                cfg.loss = NN_LOSS_CE;
                nn_attack_run(&t, &cfg, x + (size_t)s * D, y + s, NULL, bn, clean + s, xadv + (size_t)s * D, fooled + s);
                t.samples = eval_samples;
                t.calls = PHASE(1);
                judge(&t, xadv + (size_t)s * D, y + s, bn, as->reevaluate, p, ok + s);
                for (int i = 0; i < bn; i++) ok[s + i] &= clean[s + i];
                t.samples = randomized ? 1 : eval_samples;
                cfg.loss = NN_LOSS_DLR;
                t.calls = PHASE(2);
                nn_attack_run(&t, &cfg, x + (size_t)s * D, y + s, NULL, bn, ok + s, xdlr + (size_t)s * D, fooled + s);
                t.samples = eval_samples;
                t.calls = PHASE(3);
                judge(&t, xdlr + (size_t)s * D, y + s, bn, as->reevaluate, p, ok2 + s);
            }
            for (int i = 0; i < n; i++) {
                broken[i] = clean[i] && !ok[i];
                r->robust += ok[i];
                r->broken += broken[i];
            }
            row_distortions(r, x, xadv, broken, n, D, l0, l2, li);
            attack_row *w = &rows[nrow + 1];
            for (int i = 0; i < n; i++) {
                bool dlr_broke = ok[i] && !ok2[i];
                broken[i] = clean[i] && !(ok[i] && ok2[i]);
                w->robust += ok[i] && ok2[i];
                w->broken += broken[i];
                if (dlr_broke) memcpy(xadv + (size_t)i * D, xdlr + (size_t)i * D, (size_t)D * sizeof *x);
            }
            row_distortions(w, x, xadv, broken, n, D, l0, l2, li);
            r->seconds = w->seconds = rt_now_s() - t0;
            lb_attack_examples_save(dir, nrow == 0, w->kind, true, w->norm, w->eps, w->targeted, x, xadv, y, clean,
                                    broken, n, D);
            nrow += 2;
        }
    }
    rt_buf csv = { 0 }, timing = { 0 };
    rt_buf_printf(&csv, ATTACK_HEADER);
    rt_buf_printf(&timing, "attack,protocol,norm,eps,seconds\n");
    for (int q = 0; q < nrow; q++) {
        const attack_row *r = &rows[q];
        const char *norm = nn_attack_norm_name(r->norm), *proto = r->adaptive ? "adaptive" : "paper";
        char eps[32] = "";
        if (!r->eps_free) rt_fmt_num(r->eps, eps, sizeof eps);
        rt_buf_printf(&csv, "%s,%s,%s,%s,%d,%d", r->kind, proto, norm, eps, r->targeted ? 1 : 0, n);
        double robust = n ? (double)r->robust / n : (double)NAN;
        put_num(&csv, n ? (double)nclean / n : (double)NAN);
        put_num(&csv, robust);
        put_num(&csv, nclean ? (double)r->broken / nclean : (double)NAN);
        for (int d = 0; d < 6; d++) put_num(&csv, r->dist[d]);
        rt_buf_printf(&csv, ",%d", randomized ? 1 : 0);
        put_num(&csv, n ? (double)zero_grad / n : (double)NAN);
        /* obfuscation_suspected (adaptive rows): the adaptive robust accuracy is more than 5 points below
        ** the lowest of the paper protocol's untargeted attacks at the same norm and epsilon. */
        double paper = (double)NAN;
        for (int o = 0; r->adaptive && o < nrow; o++)
            if (!rows[o].adaptive && !rows[o].targeted && !rows[o].eps_free && rows[o].norm == r->norm &&
                rows[o].eps == r->eps) {
                double v = (double)rows[o].robust / n;
                paper = isnan(paper) || v < paper ? v : paper;
            }
        if (isnan(paper)) rt_buf_printf(&csv, ",\n");
        else rt_buf_printf(&csv, ",%d\n", robust < paper - 0.05 ? 1 : 0);
        rt_buf_printf(&timing, "%s,%s,%s,%s,%.4f\n", r->kind, proto, norm, eps, r->seconds);
        /* result.csv: robust_acc_<kind>[_targeted]_<norm>_eps<eps> (cw_l2: robust_acc_cw_l2[_targeted],
        ** then l2_median_cw_l2[_targeted]), made unique by its row's number. */
        char col[96];
        if (r->eps_free) snprintf(col, sizeof col, "robust_acc_%s%s", r->kind, r->targeted ? "_targeted" : "");
        else snprintf(col, sizeof col, "robust_acc_%s%s_%s_eps%s", r->kind, r->targeted ? "_targeted" : "", norm, eps);
        for (int c = 0; c < cols->n; c++)
            if (strcmp(cols->name[c], col) == 0) {
                char again[96];
                snprintf(again, sizeof again, "%.80s_%d", col, q + 1);
                snprintf(col, sizeof col, "%s", again);
                break;
            }
        if (cols->n < LB_ATTACK_MAX_ROWS) {
            snprintf(cols->name[cols->n], sizeof cols->name[0], "%s", col);
            rt_fmt_num(robust, cols->value[cols->n], sizeof cols->value[0]);
            cols->n++;
        }
        if (r->eps_free && cols->n < LB_ATTACK_MAX_ROWS) {
            snprintf(cols->name[cols->n], sizeof cols->name[0], "l2_median_%.60s", col + strlen("robust_acc_"));
            rt_fmt_num(r->dist[3], cols->value[cols->n], sizeof cols->value[0]);
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
    free(xadv);
    free(xdlr);
    free(clean);
    free(fooled);
    free(ok);
    free(ok2);
    free(broken);
    free(x);
    free(a);
    free(off);
    free(y);
    rt_ctx_free(&ctx);
    return st;
}
