#!/usr/bin/env bash
# lua_door.sh [SOURCE_DIR]: fails when a file of lua/, nn/ or runtime/ other than the door includes
# Lua's headers (lua.h, lauxlib.h, lualib.h) or lb_lua.h, the door's header. The door: lb_state.c
# (the sandboxed state), lb_script.c (a script to its points), lb_point.c (the one reader of
# resolved points) and lb_lua.h; everything else works on the C structs of lb_impl.h. Run by ctest
# (lua_door) and so by `make check`.
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
door="lua/lb_state.c lua/lb_script.c lua/lb_point.c lua/lb_lua.h"
cd "$src"
bad=0
for f in $(grep -lE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](lua|lauxlib|lualib|lb_lua)\.h[>"]' \
             lua/*.c lua/*.h nn/*.c nn/*.h runtime/*.c runtime/*.h 2>/dev/null); do
  case " $door " in
    *" $f "*) ;;
    *) echo "lua_door: $f includes Lua's headers or lb_lua.h; only the door may ($door): work on lb_impl.h's structs, or move the Lua part into lb_point.c"
       bad=1 ;;
  esac
done
# The door must still be where this script says (a rename would make the check vacuous).
for f in $door; do
  [ -f "$f" ] || { echo "lua_door: $f is missing; update the door list in $0"; bad=1; }
done
[ "$bad" = 0 ] && echo "lua_door: Lua's headers are included only by: $door"
exit "$bad"
