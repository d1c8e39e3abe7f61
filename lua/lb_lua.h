/*
** lb_lua.h: the door between Lua and C, shared by the three files that include Lua's headers:
** lb_state.c (the sandboxed state), lb_script.c (runs a script to its resolved points) and
** lb_point.c (the one reader of resolved points). Everything after the door works on lb_impl.h's
** C structs; tests/tools/lua_door.sh fails when any other file of lua/, nn/ or runtime/ includes
** this header or Lua's.
*/
#ifndef LB_LUA_H
#define LB_LUA_H

#include <lua.h>

#include "lb_impl.h"

/* ---- lb_state.c ---- */
/* A sandboxed state: base, table, string, math, utf8; `require "vib"`; undefined globals are
** errors; math.random seeded with `seed`; the script's budget armed. NULL if the embedded DSL fails to
** load (a bug) or a budget in the environment is malformed (the message printed). */
lua_State *lb_state_new(unsigned long long seed);
/* Whether the script's budget (instructions, memory, the stop flag; lb_state.c) is checked: on from
** lb_state_new; off where only the DSL's own code runs on resolved data and an error would be a bug. */
void lb_state_guard(lua_State *L, bool on);
/* Loads and runs `path` under a message handler; leaves its one result on the stack. On error
** returns false with the message on the stack. */
bool lb_dofile(lua_State *L, const char *path, bool traceback);
/* Calls vib.<fname> with nargs arguments already pushed (function below them is pushed here). */
bool lb_call_vib(lua_State *L, const char *fname, int nargs, int nres);

/* ---- lb_point.c ---- */
/* Pushes { choice = { name, ... }, ... }: the names of every choice (sigma, init, scale, ...). */
void lb_push_choices(lua_State *L);
/* Reads the list of resolved points at index idx (vib._resolve's result) of the script `script`
** into pts, calling vib._canon and vib._title for their text; false with a message on failure
** ("x.lua:14: ..."). lb_points_free releases it either way. */
bool lb_points_read(lua_State *L, int idx, const char *script, lb_points *pts, char *msg, size_t size);
/* The list of vib.plot.* tables at idx (not a table: none) into *plots (malloc'd; free it);
** returns their count. */
int lb_plots_read(lua_State *L, int idx, lb_plot_opts **plots);
/* The Lua value at idx as text for CSV, titles and --set (strings unquoted), appended to b. */
void lb_value_text(lua_State *L, int idx, rt_buf *b);

#endif
