// lb_state.c: the sandboxed Lua state, the embedded DSL, and protected execution.
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lb.h"
#include "lb_embed.h"
#include "lb_lua.h"
#include "rt_text.h"

// ---- the declaration phase's budget: instructions, memory, the stop flag ----

/* A script declares; it never needs minutes or gigabytes. Running it (and resolving its points)
** counts Lua instructions in a count hook and bytes in the state's allocator; past either budget,
** or once SIGINT/SIGTERM set lb_stop, the hook raises an error naming the script line it was at.
** Once raised, the error comes back at every instruction (the hook's count drops to 1), so a
** script's pcall, xpcall or error handler cannot swallow it: the next instruction after the catch
** raises it again, up to the top. The budgets: VIB_SCRIPT_STEPS (instructions) and
** VIB_SCRIPT_MEMORY (MiB) in the environment, else the defaults below. One state at a time is
** guarded (vibrun runs one script per process). */
enum { HOOK_EVERY = 1000 };
#define DEFAULT_STEPS 1e9           /* seconds of Lua; every shipped experiment --lists under 2e7 */
#define DEFAULT_MEMORY_MIB 512.0

static struct {
    size_t used, limit;             /* bytes held by the state, and its budget */
    double steps, max_steps;        /* instructions counted so far (in HOOK_EVERY), and the budget */
    bool armed, fatal;              /* whether the hook checks; whether its error was raised */
    char where[320];                /* the script position the hook last saw ("x.lua:12:") */
    char msg[768];                  /* the error once fatal */
    lua_State *L;                   /* the guarded state */
} guard;

/* The hook's beats, and the depth of protected calls into the script: the watchdog's inputs. */
static volatile sig_atomic_t beats, in_lua;

static void note_where(lua_State *L);

static void *guarded_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        guard.used -= old;
        return NULL;
    }
    /* Past the budget: refused (Lua raises "not enough memory"; the hook names the line). Once
    ** fatal, 16 MiB of slack let the error travel up while the hook stops the script. */
    size_t limit = guard.fatal ? guard.limit + ((size_t)16 << 20) : guard.limit;
    if (guard.armed && nsize > old && guard.used + (nsize - old) > limit) {
        /* The VM saved its pc before an allocating instruction: the stack reads as it stands (no
        ** allocation in lua_getinfo "Sl"). */
        if (!guard.fatal && guard.L) note_where(guard.L);
        if (!guard.fatal)
            snprintf(guard.msg, sizeof guard.msg, "%s the script's Lua state passed its memory budget of %.0f MiB "
                     "(a table or string growing without end?); a script that truly needs more can run with "
                     "VIB_SCRIPT_MEMORY=<MiB> in the environment", guard.where[0] ? guard.where : "?:",
                     (double)guard.limit / (1 << 20));
        guard.fatal = true;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p) guard.used = guard.used - old + nsize;
    return p;
}

/* The innermost frame of a script file ("@path": the script or a module beside it) as "path:line:". */
static void note_where(lua_State *L) {
    lua_Debug ar;
    for (int level = 0; level < 16 && lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.source[0] != '@' || ar.currentline <= 0) continue;
        snprintf(guard.where, sizeof guard.where, "%s:%d:", ar.short_src, ar.currentline);
        return;
    }
}

static void guard_hook(lua_State *L, lua_Debug *ar) {
    beats++;
    if (!guard.armed) return;
    note_where(L);
    /* A call: only the position, so that a library call that never returns is named by the
    ** watchdog at the script line that made it. */
    if (ar->event == LUA_HOOKCALL && !guard.fatal) return;
    if (!guard.fatal) {
        guard.steps += HOOK_EVERY;
        const char *w = guard.where[0] ? guard.where : "?:";
        if (lb_stop) {
            snprintf(guard.msg, sizeof guard.msg, "%s stopped by a signal while the script ran", w);
            guard.fatal = true;
        } else if (guard.steps > guard.max_steps) {
            snprintf(guard.msg, sizeof guard.msg, "%s the script ran past its budget of %.3g Lua instructions "
                     "(an endless loop or recursion?); a script that truly needs more can run with "
                     "VIB_SCRIPT_STEPS=<count> in the environment", w, guard.max_steps);
            guard.fatal = true;
        }
    }
    if (guard.fatal) {
        lua_sethook(L, guard_hook, LUA_MASKCOUNT, 1);
        lua_pushstring(L, guard.msg);
        lua_error(L);
    }
}

/* The watchdog. A call into Lua's C library never reaches the hook: string.find with a pattern
** that backtracks (string.rep("a*", 40) .. "b" on 40 a's) runs for ages, and a signal only sets
** lb_stop for a hook that never comes. So while a script runs (inside lb_dofile or lb_call_vib,
** the guard armed) a one-second timer checks that the hook still beats; after WATCHDOG_IDLE_S
** seconds without a beat, or two after a signal, it says so and ends the process. Nothing is
** written while a script declares its points, so nothing is left half-written. */
enum { WATCHDOG_IDLE_S = 10 };

static void say(const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

static void watchdog(int sig) {
    (void)sig;
    static sig_atomic_t last = -1, idle = 0;
    if (!guard.armed || !in_lua || beats != last) {
        last = beats;
        idle = 0;
        return;
    }
    if (++idle < (lb_stop ? 2 : WATCHDOG_IDLE_S)) return;
    say("vibrun: ");
    say(guard.where[0] ? guard.where : "?:");
    say(lb_stop ? " stopped by a signal while the script was inside a call into Lua's library\n"
                : " the script spent 10 s inside one call into Lua's library (a string pattern that "
                  "backtracks without end?) and was stopped\n");
    _exit(lb_stop > 1 ? 128 + (int)lb_stop : 1);
}

/* Runs lua_pcall under the watchdog. */
static int watched_pcall(lua_State *L, int nargs, int nres, int msgh) {
    static bool installed;
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = watchdog;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
        installed = true;
    }
    struct itimerval tick = { { 1, 0 }, { 1, 0 } }, off = { { 0, 0 }, { 0, 0 } };
    if (in_lua++ == 0) setitimer(ITIMER_REAL, &tick, NULL);
    int st = lua_pcall(L, nargs, nres, msgh);
    if (--in_lua == 0) setitimer(ITIMER_REAL, &off, NULL);
    return st;
}

/* A budget from the environment variable `name` (a number >= 1, "2e9" allowed), else dflt; false
** with a message when it is malformed. */
static bool budget_env(const char *name, double dflt, double *out) {
    const char *v = getenv(name);
    *out = dflt;
    if (!v || !*v) return true;
    char *end;
    double x = strtod(v, &end);
    if (end == v || *end || !(x >= 1) || x > 1e18) {
        fprintf(stderr, "vibrun: %s=%s: expected a number >= 1, e.g. %s=%g\n", name, v, name, dflt);
        return false;
    }
    *out = x;
    return true;
}

void lb_state_guard(lua_State *L, bool on) {
    (void)L;
    guard.armed = on;
}

/* The budget's error in place of the message on top of the stack, once it was raised: a message
** handler's own error ("error in error handling") or Lua's "not enough memory" say less. */
static void guard_message(lua_State *L) {
    if (!guard.fatal) return;
    lua_pop(L, 1);
    lua_pushstring(L, guard.msg);
}

/* xpcall(f, handler, ...) as pcall, then handler(err) once the error has unwound. Lua calls a
** message handler where the error was raised, and an error the budget's hook raises leaves hooks off
** until it unwinds: a handler that loops would run unchecked. Scripts have no debug library, so a
** handler could not read the stack at the error anyway. */
static int l_xpcall(lua_State *L) {
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 1);
    for (int i = 3; i <= n; i++) lua_pushvalue(L, i);
    int base = n + 1;
    if (lua_pcall(L, n - 2 < 0 ? 0 : n - 2, LUA_MULTRET, 0) == LUA_OK) {
        lua_pushboolean(L, 1);
        lua_insert(L, base);
        return lua_gettop(L) - base + 1;
    }
    lua_pushboolean(L, 0);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -3);
    lua_call(L, 1, 1);
    return 2;
}

/* setmetatable refusing a __gc metamethod: finalizers run with hooks off, so one that loops could
** not be stopped. */
static int l_setmetatable(lua_State *L) {
    if (lua_type(L, 2) == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "setmetatable: __gc metamethods are not available in experiment scripts");
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

// ---- undefined globals are errors ----

/* What the sandbox takes away: set to nil after the DSL has loaded (debug goes after vib.lua took
** debug.getinfo; io, os and package are never opened), and named as such when a script reads it. */
static const char *const sandboxed[] = { "dofile", "loadfile", "load", "collectgarbage", "debug", "io", "os",
                                         "package", NULL };

static int global_index(lua_State *L) {
    const char *k = lua_tostring(L, 2);
    for (int i = 0; k && sandboxed[i]; i++)
        if (strcmp(k, sandboxed[i]) == 0)
            return luaL_error(L, "'%s' is not available in experiment scripts: they declare an experiment and "
                              "read nothing but data sets (vib.data.*) and the params", k);
    return luaL_error(L, "undefined global '%s' (a typo? locals and params are not globals)", k ? k : "?");
}

static int global_newindex(lua_State *L) {
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "assignment to undefined global '%s'; declare it with 'local %s = ...'",
                      k ? k : "?", k ? k : "...");
}

// ---- require: "vib", or a module beside the script ----

/* The whole file at path as a string on the stack; false (nothing pushed) if it cannot be read. */
static bool push_file(lua_State *L, const char *path) {
    size_t n;
    char *text = rt_read_file(path, &n);
    if (!text) return false;
    lua_pushlstring(L, text, n);
    free(text);
    return true;
}

/* require "vib" is the DSL; require "name" runs name.lua from the script's directory once (later
** requires return its value) under the script's sandbox: the same globals, chunk "@dir/name.lua"
** so errors name its file and line. A name is a file name without ".lua": letters, digits, _. */
static const char loading = 0;

static int l_require(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    if (strcmp(name, "vib") == 0) {
        lua_getfield(L, LUA_REGISTRYINDEX, "vib.module");
        return 1;
    }
    for (int i = 0; sandboxed[i]; i++)
        if (strcmp(name, sandboxed[i]) == 0)
            return luaL_error(L, "module '%s' not available: scripts can require \"vib\" and .lua modules beside "
                              "them", name);
    bool plain = name[0] != '\0' && !(name[0] >= '0' && name[0] <= '9');
    for (const char *c = name; *c; c++)
        plain = plain && ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_');
    if (!plain)
        return luaL_error(L, "require \"%s\": a module is a .lua file beside the script, named without "
                          "directory or extension (letters, digits, _), e.g. require \"vib_common\" for "
                          "vib_common.lua; \"vib\" is the DSL", name);
    lua_settop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "vib.module");  /* 2 */
    lua_getfield(L, 2, "_script");                      /* 3 */
    const char *script = lua_tostring(L, 3);
    const char *slash = script ? strrchr(script, '/') : NULL;
    lua_pushfstring(L, "%s.lua", name);
    if (slash) {
        lua_pushlstring(L, script, (size_t)(slash - script + 1));
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    const char *path = lua_tostring(L, 4);             /* 4 */
    lua_getfield(L, LUA_REGISTRYINDEX, "vib.required"); /* 5 */
    lua_getfield(L, 5, path);
    if (lua_toboolean(L, -1)) {
        if (lua_type(L, -1) == LUA_TLIGHTUSERDATA)
            return luaL_error(L, "require \"%s\": %s requires itself (directly or through another module)",
                              name, path);
        return 1;
    }
    lua_pop(L, 1);
    if (!push_file(L, path))                            /* 6: its text */
        return luaL_error(L, "require \"%s\": no module %s beside the script %s; modules are .lua files "
                          "in the script's directory", name, path, script ? script : "?");
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    lua_pushfstring(L, "@%s", path);                   /* 7 */
    if (luaL_loadbufferx(L, text, len, lua_tostring(L, 7), "t") != LUA_OK) return lua_error(L);
    /* Its text counts as the script's where the DSL looks for p.<name> in the code. */
    lua_getfield(L, 2, "_module_source");
    if (lua_isstring(L, -1)) lua_pushliteral(L, "\n");
    else lua_pop(L, 1);
    lua_pushvalue(L, 6);
    lua_concat(L, lua_gettop(L) - 8);
    lua_setfield(L, 2, "_module_source");
    lua_pushlightuserdata(L, (void *)&loading);        /* loading: a require loop is an error */
    lua_setfield(L, 5, path);
    lua_call(L, 0, 1);                                  /* 8: its value */
    if (lua_isnil(L, 8)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, 8);
    lua_setfield(L, 5, path);
    return 1;
}

/* The embedded DSL module `name` ("vib_core") as a function, chunk "=name"; handed to vib.lua. */
static int l_load_module(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    lua_pushfstring(L, "%s.lua", name);
    const lb_embedded *e = lb_embedded_find(lua_tostring(L, -1));
    if (!e) return luaL_error(L, "vib.lua: no embedded module %s.lua", name);
    lua_pushfstring(L, "=%s", name);
    if (luaL_loadbufferx(L, e->data, e->size, lua_tostring(L, -1), "t") != LUA_OK) return lua_error(L);
    return 1;
}

static int panic(lua_State *L) {
    fprintf(stderr, "vibrun: Lua error outside a protected call (a bug): %s\n",
            lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
    return 0;
}

lua_State *lb_state_new(unsigned long long seed) {
    double steps, mib;
    if (!budget_env("VIB_SCRIPT_STEPS", DEFAULT_STEPS, &steps) ||
        !budget_env("VIB_SCRIPT_MEMORY", DEFAULT_MEMORY_MIB, &mib))
        return NULL;
    memset(&guard, 0, sizeof guard);
    guard.max_steps = steps;
    guard.limit = mib * (1 << 20) > (double)(SIZE_MAX / 2) ? SIZE_MAX / 2 : (size_t)(mib * (1 << 20));
    lua_State *L = lua_newstate(guarded_alloc, NULL);
    if (!L) return NULL;
    lua_atpanic(L, panic);
    static const luaL_Reg libs[] = {
        { LUA_GNAME, luaopen_base }, { LUA_TABLIBNAME, luaopen_table },
        { LUA_STRLIBNAME, luaopen_string }, { LUA_MATHLIBNAME, luaopen_math },
        { LUA_UTF8LIBNAME, luaopen_utf8 }, { LUA_DBLIBNAME, luaopen_debug }, { NULL, NULL },
    };
    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    /* Reproducible math.random: stock 5.4 seeds it from the time and an address. */
    lua_getglobal(L, "math");
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, (lua_Integer)seed);
    lua_call(L, 1, 0);
    lua_pop(L, 1);

    /* The DSL receives debug.getinfo (for script positions); then `debug` leaves the sandbox. */
    const lb_embedded *e = lb_embedded_find("vib.lua");
    if (!e || luaL_loadbufferx(L, e->data, e->size, "=vib", "t") != LUA_OK) {
        fprintf(stderr, "vibrun: embedded vib.lua does not load: %s\n", e ? lua_tostring(L, -1) : "missing");
        lua_close(L);
        return NULL;
    }
    lua_getglobal(L, "debug");
    lua_getfield(L, -1, "getinfo");
    lua_remove(L, -2);
    lua_pushcfunction(L, l_load_module);
    lb_push_choices(L);
    if (lua_pcall(L, 3, 1, 0) != LUA_OK) {
        fprintf(stderr, "vibrun: embedded vib.lua fails: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    lua_setfield(L, LUA_REGISTRYINDEX, "vib.module");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "vib.required");
    for (const char *const *r = sandboxed; *r; r++) {
        lua_pushnil(L);
        lua_setglobal(L, *r);
    }
    lua_pushcfunction(L, l_require);
    lua_setglobal(L, "require");
    lua_pushcfunction(L, l_xpcall);
    lua_setglobal(L, "xpcall");
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, l_setmetatable, 1);
    lua_setglobal(L, "setmetatable");
    lua_pushglobaltable(L);
    lua_newtable(L);
    lua_pushcfunction(L, global_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, global_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
    /* The DSL is loaded: from here on the script's code runs, under the budget. */
    guard.armed = true;
    guard.L = L;
    lua_sethook(L, guard_hook, LUA_MASKCOUNT | LUA_MASKCALL, HOOK_EVERY);
    return L;
}

// ---- protected execution ----

static int msgh_plain(lua_State *L) {
    if (guard.fatal) return 1;      /* hooks are off here: no __tostring of the script's */
    if (!lua_isstring(L, 1)) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    return 1;
}

static int msgh_traceback(lua_State *L) {
    msgh_plain(L);
    luaL_traceback(L, L, lua_tostring(L, -1), 1);
    return 1;
}

/* The DSL locates lines in the script's text when no frame is left to ask (tail calls). */
static void share_source(lua_State *L, const char *path) {
    lua_getfield(L, LUA_REGISTRYINDEX, "vib.module");
    lua_pushstring(L, path);
    lua_setfield(L, -2, "_script");
    if (push_file(L, path)) lua_setfield(L, -2, "_source");
    lua_pop(L, 1);
}

bool lb_dofile(lua_State *L, const char *path, bool traceback) {
    share_source(L, path);
    lua_pushcfunction(L, traceback ? msgh_traceback : msgh_plain);
    int h = lua_gettop(L);
    int st = luaL_loadfilex(L, path, "t");
    if (st == LUA_OK) st = watched_pcall(L, 0, 1, h);
    lua_remove(L, h);
    if (st != LUA_OK) guard_message(L);
    return st == LUA_OK;
}

bool lb_call_vib(lua_State *L, const char *fname, int nargs, int nres) {
    lua_pushcfunction(L, msgh_plain);
    lua_getfield(L, LUA_REGISTRYINDEX, "vib.module");
    lua_getfield(L, -1, fname);
    lua_remove(L, -2);
    int base = lua_gettop(L) - 1 - nargs;   /* handler's index once moved below the args */
    lua_insert(L, base);                    /* function below args */
    lua_insert(L, base);                    /* handler below function */
    int st = watched_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    if (st != LUA_OK) guard_message(L);
    return st == LUA_OK;
}
