#!/usr/bin/env bash
# include_loops.sh DIR...: fails (exit 1, naming the loop) when the #include "..." graph of the C files
# in the folders has a loop, the check that `gcc -MM` over them shows none: a module is a file name
# without .c or .h (x.c and x.h are one module), and x_impl.h, the internal header of a family of
# files, counts as the module x it serves (nn_mi_impl.h is nn_mi). ctest runs it over runtime/, nn/
# and lua/, so that evaluation below training and measurement (nn_eval) stays below them.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: include_loops.sh DIR..." >&2; exit 2; }
edges=$(for d in "$@"; do
  for f in "$d"/*.c "$d"/*.h; do
    [ -e "$f" ] || continue
    m=$(basename "$f"); m=${m%.[ch]}; m=${m%_impl}
    sed -n 's/^#[[:space:]]*include[[:space:]]*"\([A-Za-z0-9_]*\)\.h".*/\1/p' "$f" | while read -r h; do
      echo "$m ${h%_impl}"
    done
  done
done)
if ! out=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null); then
  echo "FAIL: the includes of $* loop (a module includes one that includes it back):"
  printf '%s\n' "$out" | sed -n 's/^tsort: //p'
  exit 1
fi
echo "no include loop in $*"
