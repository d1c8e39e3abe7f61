// lb_attack.c: a point's attack block after training (lb_attack.h): the evaluation weights from
// the checkpoint, the split's first n examples in the attack's coordinates (pixels of [0, 1], or
// each feature's observed range), each attack and epsilon in batches, and attack.csv
// (deterministic) beside attack_timing.csv (seconds). Each finished batch is kept in
// <point>/attack.partial/ until the block ends, so that a killed attack goes on from there.
#include "lb_attack.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_weights.h"
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
        nn_attack_distances(x + (size_t)i * D, xadv + (size_t)i * D, D, &l0[k], &l2[k], &li[k]);
        if (l0[k] > 0) k++;
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

// ---- the examples, in the attack's coordinates ----

/* The examples attacked, u (n, D) in [0, 1] each, their labels, and the affine map the model reads,
** a[j] u[j] + off[j] (the data set's scaling folded in). */
typedef struct attack_inputs {
    int n, D;
    float *x, *a, *off;
    int32_t *y;
} attack_inputs;

static void inputs_free(attack_inputs *in) {
    free(in->x);
    free(in->a);
    free(in->off);
    free(in->y);
}

/* Images of bytes: their pixels / 255 are the coordinates, [0, 1] the box. */
static bool byte_images(const char *name) {
    return strcmp(name, "mnist") == 0 || strcmp(name, "fashion-mnist") == 0 || strcmp(name, "cifar10") == 0;
}

/* Other data (CSV, tishby, discrete): each feature's range over the examples the point loads (both
** splits, unscaled) into lo and hi. */
static void feature_range(const nn_dataset *tr, const nn_dataset *te, float *lo, float *hi) {
    int D = tr->dim;
    for (int j = 0; j < D; j++) {
        lo[j] = (float)INFINITY;
        hi[j] = -(float)INFINITY;
    }
    const nn_dataset *sets[2] = { tr, te };
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < (size_t)sets[k]->n; i++)
            for (int j = 0; j < D; j++) {
                float v = sets[k]->x[i * (size_t)D + (size_t)j];
                lo[j] = v < lo[j] ? v : lo[j];
                hi[j] = v > hi[j] ? v : hi[j];
            }
    for (int j = 0; j < D; j++)
        if (!(lo[j] <= hi[j])) lo[j] = hi[j] = 0.0f;       /* no examples */
}

/* The first n examples of the block's split as coordinates: pixels / 255 for images of bytes;
** otherwise (x - lo) / (hi - lo) with each feature's observed range (0 for a constant feature, which
** an attack then cannot move), so that an epsilon is a fraction of a feature's range as it is of
** the pixels' range, and the box is the range. */
static rt_status inputs_open(const lb_attack_block *b, const nn_data_spec *data, attack_inputs *in, rt_err *err) {
    memset(in, 0, sizeof *in);
    nn_data_spec raw = *data;
    raw.scale = NN_SCALE_NONE;
    nn_dataset tr, te;
    rt_status st = nn_data_open(&raw, &tr, &te, err);
    if (st) return st;
    const nn_dataset *src = b->train_split ? &tr : &te;
    int n = b->n < src->n ? b->n : src->n, D = src->dim;
    size_t nd = (size_t)n * (size_t)D;
    in->n = n;
    in->D = D;
    in->x = rt_xfloats(nd + 1);
    in->a = rt_xfloats((size_t)D);
    in->off = rt_xfloats((size_t)D);
    in->y = rt_xcalloc((size_t)n + 1, sizeof *in->y);
    memcpy(in->y, src->y, (size_t)n * sizeof *in->y);
    if (byte_images(data->name ? data->name : "")) {
        for (size_t i = 0; i < nd; i++) in->x[i] = src->x[i] / 255.0f;
        nn_attack_scaling(&tr, data->scale, in->a, in->off);    /* train is scaled in place: pixels copied first */
    } else {
        float *lo = rt_xfloats((size_t)D), *hi = rt_xfloats((size_t)D);
        feature_range(&tr, &te, lo, hi);
        for (size_t i = 0; i < nd; i++) {
            size_t j = i % (size_t)D;
            double w = (double)hi[j] - (double)lo[j];
            in->x[i] = w > 0.0 ? (float)(((double)src->x[i] - (double)lo[j]) / w) : 0.0f;
        }
        nn_attack_scaling_range(&tr, data->scale, lo, hi, in->a, in->off);
        free(lo);
        free(hi);
    }
    nn_dataset_free(&tr);
    nn_dataset_free(&te);
    return RT_OK;
}

// ---- the finished batches of a block: <point>/attack.partial/ ----

/* Batch s (its first example) of phase g (0: the clean predictions and the checks; then each attack
** and epsilon in order) is the file attack.partial/g<g>.s<s>, an rt_ckpt (written to a .tmp, synced
** and renamed: a kill leaves the batch whole or absent) holding the block's key, (g, s, bn), the
** batch's seconds and its results. The key is the SHA-256 of what an attack's bytes depend on in the
** run directory: the block, seed, point, eval_samples, the examples and the weights (not the thread
** count or the build, as a training checkpoint records neither). A file of another key (the block
** or the weights changed since) is computed again; every file goes once attack.csv is written. */
typedef struct partial {
    char dir[1200];
    char key[65];
    int kept;                           /* batches read back */
} partial;

typedef struct unit_blob {
    const char *name;
    void *data;
    size_t size;
} unit_blob;

static void partial_open(partial *pt, const lb_attack_block *b, const nn_model *m, const attack_inputs *in,
                         uint64_t seed, uint64_t point, int eval_samples, const char *dir) {
    memset(pt, 0, sizeof *pt);
    snprintf(pt->dir, sizeof pt->dir, "%s/attack.partial", dir);
    rt_buf k = { 0 };
    rt_buf_printf(&k, "vibrun attack batches 1\nseed %llu point %llu eval_samples %d n %d batch %d train_split %d "
                  "D %d\n", (unsigned long long)seed, (unsigned long long)point, eval_samples, in->n, b->batch,
                  b->train_split ? 1 : 0, in->D);
    for (int i = 0; i < b->na; i++) {
        const lb_attack_spec *s = &b->a[i];
        const nn_attack_cfg *c = &s->cfg;
        rt_buf_printf(&k, "attack %d %d %d %d %d %d %a %d %d %a %a %a %d %d %d %d %d eps", (int)c->kind, (int)c->norm,
                      c->targeted ? 1 : 0, (int)c->loss, c->steps, c->restarts, (double)c->step, c->random_start ? 1 : 0,
                      c->search, (double)c->c0, (double)c->kappa, (double)c->lr, s->adaptive ? 1 : 0, s->eot,
                      s->reevaluate, c->targets, c->eot);
        for (int e = 0; e < s->neps; e++) rt_buf_printf(&k, " %a", s->eps[e]);
        rt_buf_printf(&k, "\n");
    }
    size_t nd = (size_t)in->n * (size_t)in->D;
    rt_buf_put(&k, (const char *)in->x, nd * sizeof *in->x);
    rt_buf_put(&k, (const char *)in->y, (size_t)in->n * sizeof *in->y);
    rt_buf_put(&k, (const char *)in->a, (size_t)in->D * sizeof *in->a);
    rt_buf_put(&k, (const char *)in->off, (size_t)in->D * sizeof *in->off);
    rt_buf_put(&k, (const char *)m->params.data, m->params.total * sizeof(float));
    if (m->nstate) rt_buf_put(&k, (const char *)m->state, m->nstate * sizeof(float));
    nn_sha256_hex(k.s, k.n, pt->key);
    rt_buf_free(&k);
}

static void unit_path(const partial *pt, int g, int s, char *out, size_t size) {
    snprintf(out, size, "%s/g%d.s%d", pt->dir, g, s);
}

/* Batch (g, s) of bn examples read back into its blobs; false when no file of this block's key holds
** it (the batch is computed then). */
static bool unit_load(partial *pt, int g, int s, int bn, unit_blob *bl, int nb, double *seconds) {
    char path[1300];
    unit_path(pt, g, s, path, sizeof path);
    if (access(path, F_OK) != 0) return false;
    rt_err err = { 0 };
    rt_ckpt *ck = rt_ckpt_load(path, &err);
    if (!ck) return false;
    size_t kn = 0;
    const char *key = rt_ckpt_data(ck, "key", &kn);
    int32_t unit[3] = { 0, 0, 0 };
    bool ok = key && kn == 64 && memcmp(key, pt->key, 64) == 0 &&
              rt_ckpt_get(ck, "unit", unit, sizeof unit, &err) == RT_OK && unit[0] == g && unit[1] == s &&
              unit[2] == bn && rt_ckpt_get(ck, "seconds", seconds, sizeof *seconds, &err) == RT_OK;
    for (int i = 0; ok && i < nb; i++) ok = rt_ckpt_get(ck, bl[i].name, bl[i].data, bl[i].size, &err) == RT_OK;
    rt_ckpt_free(ck);
    pt->kept += ok;
    return ok;
}

static rt_status unit_save(const partial *pt, int g, int s, int bn, const unit_blob *bl, int nb, double seconds,
                           rt_err *err) {
    char path[1300];
    if (rt_mkdir_p(pt->dir, NULL, 0) != 0)
        return rt_err_set(err, RT_ERR_IO, "%s: cannot create it to keep the attack's batches", pt->dir);
    unit_path(pt, g, s, path, sizeof path);
    rt_ckpt *ck = rt_ckpt_new();
    int32_t unit[3] = { g, s, bn };
    rt_ckpt_put(ck, "key", pt->key, 64);
    rt_ckpt_put(ck, "unit", unit, sizeof unit);
    rt_ckpt_put(ck, "seconds", &seconds, sizeof seconds);
    for (int i = 0; i < nb; i++) rt_ckpt_put(ck, bl[i].name, bl[i].data, bl[i].size);
    rt_status st = rt_ckpt_save(ck, path, err);
    rt_ckpt_free(ck);
    return st;
}

/* The batches' files (g<g>.s<s> and their .tmp), then the folder; anything else in it stays. */
static void partial_remove(const partial *pt) {
    DIR *d = opendir(pt->dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int g, s, used = 0;
        if (sscanf(e->d_name, "g%d.s%d%n", &g, &s, &used) != 2) continue;
        if (e->d_name[used] && strcmp(e->d_name + used, ".tmp") != 0) continue;
        char path[1600];
        snprintf(path, sizeof path, "%s/%s", pt->dir, e->d_name);
        remove(path);
    }
    closedir(d);
    rmdir(pt->dir);
}

/* A stop (SIGINT, SIGTERM) between batches: the batches so far stay for the next run. */
static rt_status stopped(const lb_attack_block *b, const partial *pt, int done, int total, rt_err *err) {
    return rt_err_set(err, RT_ERR_INTERRUPT, "%s: attack: stopped by a signal after %d of its %d batches, which are "
                      "kept in %s", b->where, done, total, pt->dir);
}

// ---- attack.csv ----

/* The key of a line of attack.csv: its attack, protocol, norm, eps and targeted fields. */
static size_t row_key(const char *line) {
    const char *c = line;
    for (int k = 0; k < 5 && c; k++) {
        c = strpbrk(c, ",\n");
        if (c && *c == ',') c++;
        else c = NULL;
    }
    return c ? (size_t)(c - line) : strcspn(line, "\n");
}

/* The lines after the header of text (malloc'd array of pointers into text, each ending at its '\n'). */
static int body_lines(const char *text, const char ***out) {
    int n = 0, cap = 0;
    const char **v = NULL;
    const char *l = text ? strchr(text, '\n') : NULL;
    for (l = l ? l + 1 : NULL; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            v = realloc(v, (size_t)cap * sizeof *v);
            if (!v) RT_ABORT("out of memory");
        }
        v[n++] = l;
    }
    *out = v;
    return n;
}

static void put_line(rt_buf *b, const char *l) {
    size_t n = strcspn(l, "\n");
    rt_buf_put(b, l, n);
    rt_buf_put(b, "\n", 1);
}

/* `vibrun attack`: the rows of the attack.csv at path (and of its attack_timing.csv, row for row)
** that the block did not compute again are kept: each old row is replaced in place by the block's
** row of the same attack, protocol, norm, eps and targeted, and the block's other rows follow in
** its order. The same block again gives the bytes it gave before. An old file with other columns
** (another version's) is replaced. */
static void merge_rows(const char *path, const char *timing_path, rt_buf *csv, rt_buf *timing) {
    char *old = rt_read_file(path, NULL), *old_t = rt_read_file(timing_path, NULL);
    if (!old || strncmp(old, ATTACK_HEADER, strlen(ATTACK_HEADER)) != 0) {
        free(old);
        free(old_t);
        return;
    }
    const char **o = NULL, **ot = NULL, **nw = NULL, **nt = NULL;
    int no = body_lines(old, &o), nold_t = body_lines(old_t, &ot), nn = body_lines(csv->s, &nw),
        nnt = body_lines(timing->s, &nt);
    bool *used = rt_xcalloc((size_t)nn + 1, sizeof *used);
    rt_buf c = { 0 }, t = { 0 };
    rt_buf_printf(&c, ATTACK_HEADER);
    rt_buf_printf(&t, "%.*s\n", (int)strcspn(timing->s, "\n"), timing->s);
    for (int i = 0; i < no; i++) {
        size_t k = row_key(o[i]);
        int j = 0;
        while (j < nn && (used[j] || row_key(nw[j]) != k || strncmp(nw[j], o[i], k) != 0)) j++;
        if (j < nn) {
            used[j] = true;
            put_line(&c, nw[j]);
            if (j < nnt) put_line(&t, nt[j]);
        } else {
            put_line(&c, o[i]);
            if (nold_t == no) put_line(&t, ot[i]);
        }
    }
    for (int j = 0; j < nn; j++) {
        if (used[j]) continue;
        put_line(&c, nw[j]);
        if (j < nnt) put_line(&t, nt[j]);
    }
    rt_buf_free(csv);
    rt_buf_free(timing);
    *csv = c;
    *timing = t;
    free(used);
    free(o);
    free(ot);
    free(nw);
    free(nt);
    free(old);
    free(old_t);
}

// ---- the block ----

/* The block on the point in dir (lb_attack_point); merge: keep the rows of an earlier attack.csv the
** block does not compute again (merge_rows). */
static rt_status attack_point(const lb_attack_block *b, nn_model *m, const nn_data_spec *data, uint64_t seed,
                              uint64_t point, int eval_samples, const char *dir, bool merge,
                              volatile sig_atomic_t *stop, lb_attack_cols *cols, rt_err *err) {
    memset(cols, 0, sizeof *cols);
    rt_status st = load_weights(m, dir, b->where, err);
    if (st) return st;
    attack_inputs in;
    st = inputs_open(b, data, &in, err);
    if (st) return st;
    int n = in.n, D = in.D, C = m->out;
    size_t nd = (size_t)n * (size_t)D;
    const float *x = in.x;
    const int32_t *y = in.y;
    partial pt;
    partial_open(&pt, b, m, &in, seed, point, eval_samples, dir);

    rt_ctx ctx;
    rt_ctx_init(&ctx, (size_t)1 << 20);
    nn_attack_target t = nn_attack_target_make(m, &ctx, D, C, in.a, in.off);
    t.samples = eval_samples;
    rt_rng root;
    rt_rng_stream(&root, seed, point, RT_STREAM_ATTACK);
    int B = b->batch, nbatch = (n + B - 1) / B, total = nbatch, done = 0;
    for (int k = 0; k < b->na; k++) total += nbatch * b->a[k].neps;
    float *p = rt_xfloats((size_t)B * (size_t)C), *xadv = rt_xfloats(nd + 1), *xdlr = rt_xfloats(nd + 1),
          *xt = rt_xfloats(nd + 1);
    int32_t *tgt = rt_xcalloc((size_t)B, sizeof *tgt);     /* a targeted attack aims at the class after the label */
    uint8_t *clean = rt_xcalloc((size_t)n + 1, 1), *fooled = rt_xcalloc((size_t)n + 1, 1),
            *ok = rt_xcalloc((size_t)n + 1, 1), *ok2 = rt_xcalloc((size_t)n + 1, 1), *ok3 = rt_xcalloc((size_t)n + 1, 1),
            *broken = rt_xcalloc((size_t)n + 1, 1);
    /* The clean predictions (judged once, as the paper's protocol) and the checks. */
    int nclean = 0, zero_grad = 0;
    bool randomized = false;
    for (int s = 0; s < n && !st; s += B, done++) {
        int bn = n - s < B ? n - s : B;
        int32_t checks[2] = { 0, 0 };         /* randomized, examples with a zero gradient */
        unit_blob bl[] = { { "clean", clean + s, (size_t)bn }, { "checks", checks, sizeof checks } };
        double sec;
        if (!unit_load(&pt, 0, s, bn, bl, 2, &sec)) {
            if (stop && *stop) {
                st = stopped(b, &pt, done, total, err);
                break;
            }
            double t0 = rt_now_s();
            bool rz;
            rt_rng_derive(&t.stream, &root, 0, 0);
            t.example0 = s;
            t.calls = 0;
            judge(&t, x + (size_t)s * D, y + s, bn, 1, p, clean + s);
            nn_attack_checks(&t, x + (size_t)s * D, y + s, bn, &rz, &checks[1]);
            checks[0] = rz;
            st = unit_save(&pt, 0, s, bn, bl, 2, rt_now_s() - t0, err);
        }
        randomized |= checks[0] != 0;
        zero_grad += checks[1];
        for (int i = 0; i < bn; i++) nclean += clean[s + i];
    }
    double *l0 = rt_xcalloc((size_t)n + 1, sizeof *l0), *l2 = rt_xcalloc((size_t)n + 1, sizeof *l2),
           *li = rt_xcalloc((size_t)n + 1, sizeof *li);
    attack_row rows[LB_ATTACK_MAX_ROWS];
    int nrow = 0, stream = 0;
    for (int k = 0; k < b->na && !st; k++) {
        const lb_attack_spec *as = &b->a[k];
        for (int e = 0; e < as->neps && !st; e++) {
            nn_attack_cfg cfg = as->cfg;
            cfg.eps = (float)as->eps[e];
            stream++;
            attack_row *r = &rows[nrow];
            memset(r, 0, sizeof *r);
            r->kind = nn_attack_cfg_name(&cfg);
            r->targeted = cfg.targeted;
            r->norm = cfg.norm;
            r->eps = as->eps[e];
            r->eps_free = cfg.kind == NN_ATK_CW;
            double seconds = 0.0;
            if (!as->adaptive) {
                /* The paper's protocol: the mean softmax of eval_samples samples, its gradient, one judgment. */
                t.samples = eval_samples;
                t.eot = 1;
                for (int s = 0; s < n; s += B, done++) {
                    int bn = n - s < B ? n - s : B;
                    unit_blob bl[] = { { "xadv", xadv + (size_t)s * D, (size_t)bn * D * sizeof *xadv },
                                       { "ok", ok + s, (size_t)bn } };
                    double sec;
                    if (!unit_load(&pt, stream, s, bn, bl, 2, &sec)) {
                        if (stop && *stop) {
                            st = stopped(b, &pt, done, total, err);
                            break;
                        }
                        double t0 = rt_now_s();
                        rt_rng_derive(&t.stream, &root, (uint64_t)stream, 0);
                        t.example0 = s;
                        t.calls = 0;
                        for (int i = 0; i < bn; i++) tgt[i] = (y[s + i] + 1) % C;
                        nn_attack_run(&t, &cfg, x + (size_t)s * D, y + s, tgt, bn, clean + s, xadv + (size_t)s * D,
                                      fooled + s);
                        t.calls = PHASE(1);
                        judge(&t, xadv + (size_t)s * D, y + s, bn, 1, p, ok + s);
                        sec = rt_now_s() - t0;
                        if ((st = unit_save(&pt, stream, s, bn, bl, 2, sec, err))) break;
                    }
                    seconds += sec;
                }
                if (st) break;
                double t0 = rt_now_s();
                for (int i = 0; i < n; i++) {
                    broken[i] = clean[i] && !ok[i];
                    r->robust += clean[i] && ok[i];
                    r->broken += broken[i];
                }
                row_distortions(r, x, xadv, broken, n, D, l0, l2, li);
                r->seconds = seconds + rt_now_s() - t0;
                lb_attack_examples_save(dir, nrow == 0, r->kind, false, r->norm, r->eps_free ? (double)NAN : r->eps,
                                        r->targeted, x, xadv, y, clean, broken, n, D);
                nrow++;
                continue;
            }
            /* The adaptive protocol: EOT gradients of one-sample predictions (one draw for a model that
            ** is not randomized), APGD-CE, then APGD-DLR on the examples still robust (then APGD-T when
            ** cfg.targets > 0); an example is robust when each of R predictions of eval_samples samples
            ** is right. */
            r->kind = "apgd_ce";
            r->adaptive = true;
            rows[nrow + 1] = *r;
            rows[nrow + 1].kind = cfg.targets > 0 ? "apgd_dlr" : "auto";
            rows[nrow + 2] = rows[nrow + 1];
            rows[nrow + 2].kind = "auto";
            for (int s = 0; s < n; s += B, done++) {
                int bn = n - s < B ? n - s : B;
                unit_blob bl[] = { { "xadv", xadv + (size_t)s * D, (size_t)bn * D * sizeof *xadv },
                                   { "xdlr", xdlr + (size_t)s * D, (size_t)bn * D * sizeof *xdlr },
                                   { "ok", ok + s, (size_t)bn }, { "ok2", ok2 + s, (size_t)bn },
                                   { "xt", xt + (size_t)s * D, (size_t)bn * D * sizeof *xt },
                                   { "ok3", ok3 + s, (size_t)bn } };
                int nbl = cfg.targets > 0 ? 6 : 4;
                double sec;
                if (!unit_load(&pt, stream, s, bn, bl, nbl, &sec)) {
                    if (stop && *stop) {
                        st = stopped(b, &pt, done, total, err);
                        break;
                    }
                    double t0 = rt_now_s();
                    rt_rng_derive(&t.stream, &root, (uint64_t)stream, 0);
                    t.example0 = s;
                    t.calls = 0;
                    t.samples = randomized ? 1 : eval_samples;
                    t.eot = randomized ? as->eot : 1;
                    cfg.loss = NN_LOSS_CE;
                    nn_attack_run(&t, &cfg, x + (size_t)s * D, y + s, NULL, bn, clean + s, xadv + (size_t)s * D,
                                  fooled + s);
                    t.samples = eval_samples;
                    t.calls = PHASE(1);
                    judge(&t, xadv + (size_t)s * D, y + s, bn, as->reevaluate, p, ok + s);
                    for (int i = 0; i < bn; i++) ok[s + i] &= clean[s + i];
                    t.samples = randomized ? 1 : eval_samples;
                    cfg.loss = NN_LOSS_DLR;
                    t.calls = PHASE(2);
                    nn_attack_run(&t, &cfg, x + (size_t)s * D, y + s, NULL, bn, ok + s, xdlr + (size_t)s * D,
                                  fooled + s);
                    t.samples = eval_samples;
                    t.calls = PHASE(3);
                    judge(&t, xdlr + (size_t)s * D, y + s, bn, as->reevaluate, p, ok2 + s);
                    if (cfg.targets > 0) {
                        for (int i = 0; i < bn; i++) ok3[s + i] = ok[s + i] && ok2[s + i];
                        t.samples = randomized ? 1 : eval_samples;
                        cfg.loss = NN_LOSS_DLR;
                        cfg.targeted = true;
                        t.calls = PHASE(4);
                        nn_attack_run(&t, &cfg, x + (size_t)s * D, y + s, NULL, bn, ok3 + s, xt + (size_t)s * D,
                                      fooled + s);
                        cfg.targeted = false;
                        t.samples = eval_samples;
                        t.calls = PHASE(5);
                        judge(&t, xt + (size_t)s * D, y + s, bn, as->reevaluate, p, ok3 + s);
                    }
                    sec = rt_now_s() - t0;
                    if ((st = unit_save(&pt, stream, s, bn, bl, nbl, sec, err))) break;
                }
                seconds += sec;
            }
            if (st) break;
            double t0 = rt_now_s();
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
            r->seconds = w->seconds = seconds + rt_now_s() - t0;
            bool first = nrow == 0;
            nrow += 2;
            if (cfg.targets > 0) {
                /* APGD-T's row: robust after all three; its broken examples' perturbations are APGD-T's */
                w = &rows[nrow];
                for (int i = 0; i < n; i++) {
                    bool kept = ok[i] && ok2[i];
                    broken[i] = clean[i] && !(kept && ok3[i]);
                    w->robust += kept && ok3[i];
                    w->broken += broken[i];
                    if (kept && !ok3[i]) memcpy(xadv + (size_t)i * D, xt + (size_t)i * D, (size_t)D * sizeof *x);
                }
                row_distortions(w, x, xadv, broken, n, D, l0, l2, li);
                w->seconds = seconds + rt_now_s() - t0;
                nrow++;
            }
            /* the strip shows the protocol's last row: every phase's examples */
            lb_attack_examples_save(dir, first, w->kind, true, w->norm, w->eps, w->targeted, x, xadv, y, clean, broken,
                                    n, D);
        }
    }
    rt_buf csv = { 0 }, timing = { 0 };
    rt_buf_printf(&csv, ATTACK_HEADER);
    rt_buf_printf(&timing, "attack,protocol,norm,eps,seconds\n");
    for (int q = 0; q < nrow && !st; q++) {
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
    char path[1200], timing_path[1200];
    snprintf(path, sizeof path, "%s/attack.csv", dir);
    snprintf(timing_path, sizeof timing_path, "%s/attack_timing.csv", dir);
    if (!st && merge) merge_rows(path, timing_path, &csv, &timing);
    if (!st) st = rt_write_atomic(path, csv.s, csv.n, err);
    if (!st) st = rt_write_atomic(timing_path, timing.s, timing.n, err);
    if (!st) partial_remove(&pt);
    cols->batches = total;
    cols->kept = pt.kept;
    rt_buf_free(&csv);
    rt_buf_free(&timing);
    free(l0);
    free(l2);
    free(li);
    free(p);
    free(tgt);
    free(xadv);
    free(xdlr);
    free(xt);
    free(clean);
    free(fooled);
    free(ok);
    free(ok2);
    free(ok3);
    free(broken);
    inputs_free(&in);
    rt_ctx_free(&ctx);
    return st;
}

rt_status lb_attack_point(const lb_attack_block *b, nn_model *m, const nn_data_spec *data, uint64_t seed,
                          uint64_t point, int eval_samples, const char *dir, volatile sig_atomic_t *stop,
                          lb_attack_cols *cols, rt_err *err) {
    return attack_point(b, m, data, seed, point, eval_samples, dir, false, stop, cols, err);
}

rt_status lb_attack_point_again(const lb_attack_block *b, nn_model *m, const nn_data_spec *data, uint64_t seed,
                                uint64_t point, int eval_samples, const char *dir, volatile sig_atomic_t *stop,
                                lb_attack_cols *cols, rt_err *err) {
    return attack_point(b, m, data, seed, point, eval_samples, dir, true, stop, cols, err);
}
