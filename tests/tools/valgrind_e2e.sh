#!/usr/bin/env bash
# valgrind_e2e.sh: vibrun end to end under valgrind's memcheck: no invalid read or write, no use of
# an uninitialized value, no leak. Trains a two-point sweep (dropout, EMA), a VIB point measured by
# every estimator with the self-check, and a convolutional point (batch norm, a residual block,
# per-channel dropout); then --resume, status and --merge over what they wrote.
#
# valgrind is optional at run time: without it the test is skipped (exit 77), except under CI
# (VIB_CI=1), where it must run. ctest adds the test to builds without the sanitizers only (ASan
# and valgrind cannot share a process).
# Env: VIBRUN (the built binary), VIB_SOURCE (the source tree).
set -euo pipefail
VIBRUN=${VIBRUN:?set VIBRUN to the vibrun binary}
VIB_SOURCE=${VIB_SOURCE:?set VIB_SOURCE to the source tree}
if ! command -v valgrind >/dev/null 2>&1; then
  if [ -n "${VIB_CI:-}" ]; then echo "FAIL: valgrind is missing (VIB_CI is set: CI must run this check)"; exit 1; fi
  echo "note: skipped: valgrind is not installed"; exit 77
fi
T=$(mktemp -d /tmp/vib-valgrind.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
# 400 examples of 4 features in 3 classes (the shape of the tests' tiny.csv).
"$VIB_SOURCE/tests/tools/tiny_csv.sh" 400 42 > tiny.csv
for s in tiny measure_tiny cnn_tiny; do cp "$VIB_SOURCE/tests/lua/$s.lua" .; done

# valgrind cannot run AVX-512 code: OpenBLAS is held to its AVX2 kernels, one thread.
export OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1
vg() {
  valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
           --show-leak-kinds=definite,indirect --track-origins=yes "$VIBRUN" "$@" > "$T/out.log" 2>&1 || {
    local rc=$?
    cat "$T/out.log"
    echo "FAIL: vibrun $* under valgrind (exit $rc; 99 = memcheck found errors)"
    exit 1
  }
}
vg --quiet --set epochs=2 tiny.lua
vg --quiet measure_tiny.lua
vg --quiet cnn_tiny.lua --set epochs=1
vg --quiet tiny.lua --set epochs=2 --resume
vg status runs/tiny
vg --quiet tiny.lua --set epochs=2 --merge
echo "valgrind: no errors, no leaks"
