// lb_state.c: the sandboxed Lua state, the embedded DSL, and protected execution.
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_embed.h"
#include "lb_lua.h"
#include "rt_text.h"

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

// ---- require "vib" is the only module ----

static int l_require(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    if (strcmp(name, "vib") != 0)
        return luaL_error(L, "module '%s' not available: scripts can require only \"vib\"", name);
    lua_getfield(L, LUA_REGISTRYINDEX, "vib.module");
    return 1;
}

lua_State *lb_state_new(unsigned long long seed) {
    lua_State *L = luaL_newstate();
    if (!L) return NULL;
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
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        fprintf(stderr, "vibrun: embedded vib.lua fails: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    lua_setfield(L, LUA_REGISTRYINDEX, "vib.module");
    for (const char *const *r = sandboxed; *r; r++) {
        lua_pushnil(L);
        lua_setglobal(L, *r);
    }
    lua_pushcfunction(L, l_require);
    lua_setglobal(L, "require");
    lua_pushglobaltable(L);
    lua_newtable(L);
    lua_pushcfunction(L, global_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, global_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
    return L;
}

// ---- protected execution ----

static int msgh_plain(lua_State *L) {
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
    size_t n;
    char *text = rt_read_file(path, &n);
    if (text) {
        lua_pushlstring(L, text, n);
        free(text);
        lua_setfield(L, -2, "_source");
    }
    lua_pop(L, 1);
}

bool lb_dofile(lua_State *L, const char *path, bool traceback) {
    share_source(L, path);
    lua_pushcfunction(L, traceback ? msgh_traceback : msgh_plain);
    int h = lua_gettop(L);
    int st = luaL_loadfilex(L, path, "t");
    if (st == LUA_OK) st = lua_pcall(L, 0, 1, h);
    lua_remove(L, h);
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
    int st = lua_pcall(L, nargs, nres, base);
    lua_remove(L, base);
    return st == LUA_OK;
}
