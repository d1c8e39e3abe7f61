#!/bin/sh
# run.sh BUILD SECONDS TARGET...: runs each libFuzzer target of a VIB_FUZZ build for SECONDS on a
# working copy of its seed corpus (tests/fuzz/corpus/<name>/ is only read). A crash leaves its
# input as BUILD/fuzz-crash-<name>-*, and the script fails naming it: add the input to
# tests/fuzz/regress/<name>/ with the fix, so that every build replays it (ctest fuzz_<name>).
set -u
build=$1 seconds=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
status=0
# The inputs go through files: a tmpfs keeps that from being the bottleneck.
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
for t in "$@"; do
  work="$build/fuzz-corpus/$t"
  mkdir -p "$work"
  seeds="$src/corpus/$t"
  regress=""
  [ -d "$src/regress/$t" ] && regress="$src/regress/$t"
  # every script the tests run seeds the experiment loader (tests/fuzz/CMakeLists.txt does the same)
  [ "$t" = script ] && regress="$regress $src/../lua"
  echo "== fuzz_$t: ${seconds} s =="
  # -close_fd_mask=3: the loaders' messages stay quiet; libFuzzer's own report still prints.
  # detect_leaks: a leak on an error path is a bug like any other.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 OPENBLAS_NUM_THREADS=1 \
       "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
       -max_len=65536 -close_fd_mask=3 -print_final_stats=1 \
       -artifact_prefix="$build/fuzz-crash-$t-" "$work" "$seeds" $regress 2>"$build/fuzz-$t.log"; then
    tail -n 60 "$build/fuzz-$t.log"
    echo "fuzz_$t FAILED: the input is $(ls "$build"/fuzz-crash-"$t"-* 2>/dev/null | head -n 1)"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$build/fuzz-$t.log" | tr '\n' ' '
    echo
  fi
done
exit $status
