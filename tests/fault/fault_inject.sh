#!/usr/bin/env bash
# fault_inject.sh: every write vibrun makes fails once, in turn. A clean run of fault_tiny.lua
# (one measured VIB point, 2 epochs) counts the calls through which a write reports failure
# (fault.c: fflush, fclose, write, fsync, rename; about 90); then for each k the run is made
# again, in the same directory (config.lua and the manifest name the script's path), with the k-th
# call failing (ENOSPC, EIO), and a --resume without the fault must end with the bytes of the
# clean run: every CSV the run writes and every checkpoint, with no temporary or .part file left. A failed write may stop the run (it
# must say so and exit 1), never kill it by a signal or leave a file that --resume trusts wrongly.
# Env: VIBRUN (the built binary), VIB_SOURCE (the source tree), VIB_FAULT_LIB (fault.so).
set -euo pipefail
VIBRUN=${VIBRUN:?set VIBRUN to the vibrun binary}
VIB_SOURCE=${VIB_SOURCE:?set VIB_SOURCE to the source tree}
VIB_FAULT_LIB=${VIB_FAULT_LIB:?set VIB_FAULT_LIB to the fault-injection library}
T=$(mktemp -d /tmp/vib-fault.XXXXXX)
trap 'rm -rf "$T"' EXIT
export OPENBLAS_NUM_THREADS=1
unset VIB_FAULT_PID VIB_FAULT_AT VIB_FAULT_COUNT

setup() {   # a fresh directory with the data and the script
  rm -rf "$1"
  mkdir -p "$1"
  "$VIB_SOURCE/tests/tools/tiny_csv.sh" 200 7 > "$1/tiny.csv"
  cp "$VIB_SOURCE/tests/fault/fault_tiny.lua" "$1/"
}
run() {     # run DIR [ARGS...]: vibrun inside DIR
  local d=$1; shift
  (cd "$d" && "$VIBRUN" --quiet fault_tiny.lua "$@")
}
# The files compared: everything but wall-clock times (timing.csv, info_timing.csv, run.txt,
# report.html), figures
# and locks.
digest() {
  (cd "$1/runs/fault_tiny" && find . -type f ! -name '*timing.csv' ! -name lock ! -name run.txt ! -name report.html ! -path './plots/*' \
     -print0 | sort -z | xargs -0 sha256sum)
}

d="$T/run"
setup "$d"
VIB_FAULT_COUNT="$T/count" LD_PRELOAD="$VIB_FAULT_LIB" run "$d" >/dev/null 2>&1
n=$(cat "$T/count")
[ "$n" -gt 10 ] || { echo "FAIL: the shim counted $n calls (is it loaded?)"; exit 1; }
digest "$d" > "$T/clean.sum"
rm -rf "$d"
echo "a clean run makes $n calls that can fail"

failed=0 stopped=0
for k in $(seq 1 "$n"); do
  setup "$d"
  set +e
  VIB_FAULT_AT=$k LD_PRELOAD="$VIB_FAULT_LIB" run "$d" > "$d/fault.log" 2>&1
  rc=$?
  set -e
  if [ $rc -ge 128 ]; then
    cat "$d/fault.log"; echo "FAIL: call $k failing killed vibrun (exit $rc)"; failed=1; continue
  fi
  if [ $rc -ne 0 ]; then
    stopped=$((stopped + 1))
    grep -q "vibrun: " "$d/fault.log" || { cat "$d/fault.log"; echo "FAIL: call $k: exit $rc without a message"; failed=1; }
  fi
  if ! run "$d" --resume > "$d/resume.log" 2>&1; then
    cat "$d/fault.log" "$d/resume.log"; echo "FAIL: call $k failing: --resume then failed"; failed=1; continue
  fi
  digest "$d" > "$d/sum"
  if ! diff -u "$T/clean.sum" "$d/sum" > "$T/diff"; then
    cat "$d/fault.log" "$T/diff"; echo "FAIL: call $k failing: the resumed run's files differ"; failed=1; continue
  fi
  left=$(cd "$d" && find runs -name '*.tmp' -o -name '*.part' -o -name '*.tmp.*' | head -n 5)
  if [ -n "$left" ]; then echo "FAIL: call $k failing: left behind: $left"; failed=1; fi
  rm -rf "$d"
done
[ $failed = 0 ] && echo "$n faults injected: $stopped stopped the run with a message; each resumed to the clean run's bytes"
exit $failed
