// lb_export.c: `vibrun export POINT_DIR`, a point's weights as safetensors or .npz for other programs,
// and the other way in, vib.load's file read and checked for a point (docs/weights.md).
//
// The export replays the point's config.lua to its point (lb_script.c), builds its model on its data
// (lb_run.c's build, the one training uses), so that every value of the checkpoint gets its tensor's
// name and shape (nn_weights.h's naming), and writes the weights evaluation uses: the EMA of the
// weights (and of the batch norms' running statistics) when the point trained with ema, else the
// weights themselves.
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_impl.h"
#include "rt_ckpt.h"

static int usage(const char *fmt, const char *arg) {
    fprintf(stderr, "vibrun: export: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: %s export RUN/EXP/ID [--format safetensors|npz] [--weights ema|raw] [-o FILE]\n",
            lb_cmd());
    return 2;
}

int lb_export(int argc, char **argv, const char *version) {
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' }, { "weights", required_argument, NULL, 'w' },
        { "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    lb_export_opts e = { .format = "safetensors", .version = version };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "-:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 1:
            if (e.point_dir) return usage("more than one point directory (%s)", optarg);
            e.point_dir = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "safetensors") && strcmp(optarg, "npz"))
                return usage("--format %s: expected safetensors or npz", optarg);
            e.format = optarg;
            break;
        case 'w':
            if (strcmp(optarg, "ema") && strcmp(optarg, "raw")) return usage("--weights %s: expected ema or raw", optarg);
            e.weights = optarg;
            break;
        case 'o': e.out = optarg; break;
        case 'h':
            printf("usage: %s export RUN/EXP/ID [--format safetensors|npz] [--weights ema|raw] [-o FILE]\n"
                   "  writes the point's weights (the EMA weights when it trained with ema, as evaluation uses;\n"
                   "  --weights raw: the weights themselves) to FILE, by default RUN_DIR/POINT/weights.<format>\n",
                   lb_cmd());
            return 0;
        case ':': return usage("%s needs a value", argv[optind - 1]);
        default: return usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (!e.point_dir) return usage("no point directory given, e.g. runs/quickstart/%s", "0123456789ab");
    /* RUN/EXP/ID/config.lua names the point too (a glob RUN/EXP/<star>/config.lua finds the points) */
    char dir[4200], config[4200];
    snprintf(dir, sizeof dir, "%s", e.point_dir);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dir[--dl] = '\0';
    if (dl >= 10 && strcmp(dir + dl - 10, "config.lua") == 0 && (dl == 10 || dir[dl - 11] == '/')) {
        if (dl == 10) snprintf(dir, sizeof dir, ".");
        else dir[dl - 11] = '\0';
    }
    e.point_dir = dir;
    snprintf(config, sizeof config, "%s/config.lua", e.point_dir);
    FILE *f = fopen(config, "r");
    if (!f) {
        fprintf(stderr, "vibrun: export: %s: no config.lua there; give a point's directory (runs/<experiment>/<id>, "
                "as `%s status runs/<experiment>` lists them)\n", e.point_dir, lb_cmd());
        return 1;
    }
    fclose(f);
    lb_opts o;
    memset(&o, 0, sizeof o);
    o.script = config;
    o.out = "runs";
    o.jobs = 1;
    o.quiet = true;
    o.export_opts = &e;
    return lb_run(&o);
}

/* The checkpoint's blob `name` of exactly n bytes into dst; 1 with a message when it is missing or
** of another size. */
static int blob(const rt_ckpt *ck, const char *name, void *dst, size_t n) {
    rt_err err = { 0 };
    if (rt_ckpt_get(ck, name, dst, n, &err) == RT_OK) return 0;
    fprintf(stderr, "vibrun: export: %s\n", err.msg);
    return 1;
}

int lb_export_point(const lb_export_opts *e, lb_points *pts) {
    if (pts->n != 1) {
        fprintf(stderr, "vibrun: export: %s/config.lua resolves to %d points, not one\n", e->point_dir, pts->n);
        return 1;
    }
    lb_point *p = &pts->p[0];
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoint", e->point_dir);
    rt_err err = { 0 };
    rt_ckpt *ck = rt_ckpt_load(path, &err);
    if (!ck) {
        fprintf(stderr, "vibrun: export: %s\nvibrun: export: a point has a checkpoint once its first evaluation "
                "ended (epoch 0); run the point first\n", err.msg);
        return 1;
    }
    size_t n;
    const char *id = rt_ckpt_data(ck, "point", &n);
    if (id && (n != strlen(p->id) || memcmp(id, p->id, n) != 0)) {
        fprintf(stderr, "vibrun: export: %s is a checkpoint of point %.*s, but its config.lua now resolves to point "
                "%s (the script or a file it reads changed since); export it from the script as it was\n", path,
                (int)(n < 64 ? n : 64), id, p->id);
        rt_ckpt_free(ck);
        return 1;
    }
    nn_model m;
    char config[4200];
    snprintf(config, sizeof config, "%s/config.lua", e->point_dir);
    if (lb_point_model(config, p, &m, &err) != RT_OK) {
        fprintf(stderr, "vibrun: export: %s\n", err.msg);
        rt_ckpt_free(ck);
        return 1;
    }
    bool has_ema = rt_ckpt_has(ck, "ema.shadow");
    bool ema = e->weights ? strcmp(e->weights, "ema") == 0 : has_ema;
    int code = 0;
    if (ema && !has_ema) {
        fprintf(stderr, "vibrun: export: point %s trained without ema (ema = 0), so it has no EMA weights; leave "
                "--weights out, or give --weights raw\n", p->id);
        code = 1;
    }
    size_t np = m.params.total * sizeof(float), ns = m.nstate * sizeof(float);
    float *params = rt_xmalloc(np ? np : 1), *state = rt_xmalloc(ns ? ns : 1);
    int32_t cursor[2] = { 0, 0 };
    if (!code) code = blob(ck, ema ? "ema.shadow" : "params", params, np);
    if (!code && ns) code = blob(ck, ema ? "ema.state" : "state", state, ns);
    if (!code) code = blob(ck, "cursor", cursor, sizeof cursor);
    rt_ckpt_free(ck);
    if (!code) {
        nn_weights w;
        nn_weights_init(&w);
        nn_weights_of_model(&m, params, ns ? state : NULL, &w);
        char *text = rt_read_file(config, NULL);
        char epoch[32], what[64];
        snprintf(epoch, sizeof epoch, "%d", cursor[0]);
        if (ema) snprintf(what, sizeof what, "ema %g", (double)p->train.ema);
        else snprintf(what, sizeof what, "raw");
        nn_weights_meta(&w, "point", p->id);
        nn_weights_meta(&w, "experiment", p->name);
        nn_weights_meta(&w, "epoch", epoch);
        nn_weights_meta(&w, "weights", what);
        nn_weights_meta(&w, "config", text ? text : "");
        nn_weights_meta(&w, "vibrun", e->version);
        free(text);
        bool npz = strcmp(e->format, "npz") == 0;
        char out[4200];
        if (e->out) snprintf(out, sizeof out, "%s", e->out);
        else snprintf(out, sizeof out, "%s/weights.%s", e->point_dir, npz ? "npz" : "safetensors");
        if (nn_weights_save(&w, npz ? NN_WFMT_NPZ : NN_WFMT_SAFETENSORS, out, &err) != RT_OK) {
            fprintf(stderr, "vibrun: export: %s\n", err.msg);
            code = 1;
        } else {
            int64_t total = 0;
            for (int i = 0; i < w.n; i++) total += w.t[i].n;
            printf("%s: %d tensors, %lld values: the %s weights of point %s after epoch %d\n", out, w.n,
                   (long long)total, ema ? "EMA" : "raw", p->id, cursor[0]);
        }
        nn_weights_free(&w);
    }
    if (cursor[0] < p->train.epochs && !code)
        fprintf(stderr, "vibrun: export: warning: point %s is interrupted after epoch %d of %d: these are the weights "
                "of its last checkpoint\n", p->id, cursor[0], p->train.epochs);
    free(params);
    free(state);
    nn_model_free(&m);
    return code;
}

/* nn_model_init's last step for a point with vib.load: the file's tensors over the drawn values. */
static void load_after_init(nn_model *m, void *user) {
    const lb_point *p = user;
    rt_err err = { 0 };
    if (nn_weights_apply(m, p->loaded, &p->load, true, &err) != RT_OK)
        RT_ABORT("weights checked against the model no longer fit it: %s", err.msg);
}

rt_status lb_load_weights(lb_point *p, nn_model *m, rt_err *err) {
    if (!p->load.path) return RT_OK;
    if (!p->loaded) {
        size_t size = 0;
        char *buf = rt_read_file(p->load.path, &size);
        if (!buf) return rt_err_set(err, RT_ERR_IO, "%s: vib.load: %s: cannot read; check the path", p->load.where,
                                    p->load.path);
        char hex[65];
        nn_sha256_hex(buf, size, hex);
        if (strcmp(hex, p->load_sha256) != 0) {
            free(buf);
            return rt_err_set(err, RT_ERR_IO, "%s: vib.load: %s changed after the point was resolved (SHA-256 %.12s..., "
                              "now %.12s...); run again, and the changed file makes another point", p->load.where,
                              p->load.path, p->load_sha256, hex);
        }
        nn_weights *w = rt_xmalloc(sizeof *w);
        rt_status st = nn_weights_decode((const unsigned char *)buf, size, p->load.path, w, err);
        free(buf);
        if (st) {
            free(w);
            rt_err_prefix(err, "%s: vib.load: ", p->load.where);
            return st;
        }
        p->loaded = w;
    }
    rt_status st = nn_weights_apply(m, p->loaded, &p->load, false, err);
    if (st) return st;
    m->after_init = load_after_init;
    m->after_init_user = p;
    return RT_OK;
}
