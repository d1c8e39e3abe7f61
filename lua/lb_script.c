// lb_script.c: an experiment script to its resolved points. Loads it in the sandbox (lb_state.c);
// a config.lua is replayed as its script with its params and settings fixed; otherwise the --set
// values go to vib._resolve, lb_point.c reads every resolved point into C structs, the Lua state
// is closed, and the runner (lb_run.c) takes the points from there.
#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lb_lua.h"

static void report(const char *msg) { fprintf(stderr, "vibrun: %s\n", msg); }

/* The Lua value at idx as text for --set (strings unquoted). */
/* Parses "key=value" arguments into a Lua table on the stack; false on a malformed one. */
static bool push_sets(lua_State *L, const lb_opts *o) {
    lua_newtable(L);
    for (int i = 0; i < o->nsets; i++) {
        const char *eq = strchr(o->sets[i], '=');
        if (!eq || eq == o->sets[i]) {
            fprintf(stderr, "vibrun: --set %s: expected key=value, e.g. --set epochs=5\n", o->sets[i]);
            return false;
        }
        lua_pushlstring(L, o->sets[i], (size_t)(eq - o->sets[i]));
        lua_pushstring(L, eq + 1);
        lua_settable(L, -3);
    }
    return true;
}

/* The exit code of an error met while resolving the points or reading one: 2 (bad usage) when it
** is about a key the user gave with --set (its message names "key=", as in "--set key=value: ..."
** and "key=-1 must be >= 0"), else 1. The values a config.lua replay passes on are the file's. */
static int set_error_code(const lb_opts *o, const char *msg) {
    for (int i = o->config_sets; i < o->nsets; i++) {
        size_t n = strcspn(o->sets[i], "=") + 1;          /* "key=" */
        for (const char *m = msg; *m; m++) {
            bool word_start = m == msg || !(isalnum((unsigned char)m[-1]) || m[-1] == '_' || m[-1] == '.');
            if (word_start && strncmp(m, o->sets[i], n) == 0) return 2;
        }
    }
    return 1;
}

/* config.lua (a resolved point, on top of L's stack): runs its script with the point's params and
** settings fixed as --set values, then the user's own --set. Closes L. Every value travels whole,
** however long (a data path, a long string param); a point with more keys than --set can carry is
** an error rather than a replay of another point. */
static int replay_point(lua_State *L, const lb_opts *o) {
    lb_opts replay = *o;
    rt_buf sets[LB_MAX_SETS] = { { 0 } };
    int n = 0, code = 1;
    lua_getfield(L, -1, "script");
    char *script = rt_xstrdup(lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
    lua_pop(L, 1);
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "vibrun: %s: its script %s cannot be read (%s); replay it from the directory "
                "named in its first line, or correct script = ... in it\n", o->script, script, strerror(errno));
        goto out;
    }
    const char *tables[2] = { "params", "settings" };
    for (int t = 0; t < 2; t++) {
        lua_getfield(L, -1, tables[t]);
        if (lua_istable(L, -1)) {
            lua_pushnil(L);
            while (lua_next(L, -2) != 0) {
                if (n + o->nsets >= LB_MAX_SETS) {
                    fprintf(stderr, "vibrun: %s: the point has more params and settings than vibrun can "
                            "pass on (%d with the --set given); run its script with --set instead\n",
                            o->script, LB_MAX_SETS);
                    goto out;
                }
                rt_buf_printf(&sets[n], "%s=", lua_tostring(L, -2));
                lb_value_text(L, -1, &sets[n]);
                replay.sets[n] = rt_buf_str(&sets[n]);
                n++;
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    lua_close(L);
    L = NULL;
    replay.script = script;
    /* With --set of the user's own the point is another on purpose: no "script changed" check. */
    replay.replay_config = o->nsets == 0 ? o->script : NULL;
    replay.config_sets = n;
    for (int i = 0; i < o->nsets; i++) replay.sets[n++] = o->sets[i];
    replay.nsets = n;
    code = lb_run(&replay);
out:
    if (L) lua_close(L);
    for (int i = 0; i < LB_MAX_SETS; i++) rt_buf_free(&sets[i]);
    free(script);
    return code;
}

int lb_run(const lb_opts *o) {
    lua_State *L = lb_state_new(1);
    if (!L) return 1;
    int code = 1;
    if (!lb_dofile(L, o->script, o->traceback)) {
        report(lua_tostring(L, -1));
        goto out;
    }
    lua_pushvalue(L, -1);
    if (!lb_call_vib(L, "kind", 1, 1)) {    /* protected: the budget's hook may raise anywhere */
        report(lua_tostring(L, -1));
        goto out;
    }
    const char *kind = lua_tostring(L, -1);
    char kindbuf[32];
    snprintf(kindbuf, sizeof kindbuf, "%s", kind ? kind : "");
    lua_pop(L, 1);
    if (strcmp(kindbuf, "point") == 0) {
        code = replay_point(L, o);
        L = NULL;                       /* replay_point closed it */
        goto out;
    }
    if (strcmp(kindbuf, "experiment") != 0) {
        fprintf(stderr, "vibrun: %s: the script must return vib.experiment { ... } (it returned %s)\n",
                o->script, kindbuf[0] ? kindbuf : luaL_typename(L, -1));
        goto out;
    }
    if (o->keys) {                      /* vibrun --keys: what --set accepts, one per line */
        if (!lb_call_vib(L, "_keys", 1, 1)) {
            report(lua_tostring(L, -1));
            goto out;
        }
        for (lua_Integer i = 1; i <= luaL_len(L, -1); i++) {
            lua_geti(L, -1, i);
            printf("%s\n", lua_tostring(L, -1));
            lua_pop(L, 1);
        }
        code = 0;
        goto out;
    }
    if (!push_sets(L, o)) { code = 2; goto out; }
    if (!lb_call_vib(L, "_resolve", 2, 1)) {
        report(lua_tostring(L, -1));
        code = set_error_code(o, lua_tostring(L, -1));
        goto out;
    }
    lb_points pts;
    char msg[2048];
    lb_state_guard(L, false);           /* the DSL's own reading of resolved points: no budget to pass */
    if (!lb_points_read(L, lua_gettop(L), o->script, &pts, msg, sizeof msg)) {
        report(msg);
        code = set_error_code(o, msg);
    } else {
        lua_close(L);
        L = NULL;
        for (int i = 0; i < pts.nwarnings; i++) fprintf(stderr, "vibrun: warning: %s\n", pts.warnings[i]);
        code = lb_run_points(o, &pts);
    }
    lb_points_free(&pts);
out:
    if (L) lua_close(L);
    return code;
}
