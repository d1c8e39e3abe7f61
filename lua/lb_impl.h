/* lb_impl.h: shared inside lua/ only. */
#ifndef LB_IMPL_H
#define LB_IMPL_H

#include <lua.h>

#include "lb.h"
#include "nn_data.h"
#include "nn_obj.h"
#include "nn_train.h"

/* ---- lb_state.c ---- */
/* A sandboxed state: base, table, string, math, utf8; `require "vib"`; undefined globals are
** errors; math.random seeded with `seed`. NULL if the embedded DSL fails to load (a bug). */
lua_State *lb_state_new(unsigned long long seed);
/* Loads and runs `path` under a message handler; leaves its one result on the stack. On error
** returns false with the message on the stack. */
bool lb_dofile(lua_State *L, const char *path, bool traceback);
/* Calls vib.<fname> with nargs arguments already pushed (function below them is pushed here). */
bool lb_call_vib(lua_State *L, const char *fname, int nargs, int nres);

/* ---- lb_spec.c: resolved point (a Lua table on top of the stack) -> C specs ---- */
#define LB_MAX_LAYERS 64
typedef struct lb_point {
    char name[128];                     /* experiment name */
    char id[17];                        /* hash of the resolved configuration */
    char params_canon[2048];            /* params, canonical, for messages */
    nn_data_spec data;
    char data_dir[1024], data_path[1024], data_test[1024], data_label[128], data_name[32];
    nn_layer_spec layers[LB_MAX_LAYERS];
    int nlayers;
    nn_term_spec terms[NN_MAX_TERMS];
    int nterms;
    nn_expr_ins expr[NN_MAX_EXPR];      /* a composed objective (0 instructions: weighted sum) */
    int nexpr;
    nn_train_cfg train;
    nn_measure_cfg measure;             /* measure = { ... } (off when absent) */
    int measure_epochs[NN_MEASURE_MAX_EPOCHS];
} lb_point;

/* Reads the point table at index idx; false with a message on failure ("x.lua:14: ..."). */
bool lb_point_read(lua_State *L, int idx, lb_point *p, char *msg, size_t msgsize);
/* FNV-1a 64 of s as 16 hex digits. */
void lb_hash_hex(const char *s, char out[17]);

/* ---- lb_plot.c ---- */
/* Draws the figures of a finished run into <exp_dir>/plots/ (each with its .gp script): the
** training curve always, then the experiment's declared plots (plots_idx: the stack index of its
** `plots` list of vib.plot.* tables, 0 when it declares none) or, without any, the defaults the CSV
** allows: an information plane per point with info.csv, the IB curve and error against the swept
** param from summary.csv, the 2-D latent per point with latent.csv. ids/titles: the n points (id,
** canonical params). Prints "figures: ..." lines (a drawn figure, or a skipped one and why) unless
** quiet. Returns 0, or -1 when gnuplot is missing or failed (the message is printed); a run's exit
** code does not depend on it. */
int lb_plot_run(lua_State *L, int plots_idx, const char *exp_dir, char ids[][17], char titles[][256], int n,
                bool quiet);

#endif
