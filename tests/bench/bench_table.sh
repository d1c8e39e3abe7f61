#!/bin/sh
# bench_table.sh: the one table of `make bench` (issue 20). Reads the output of the benchmarks
# (each prints its detailed report and, per headline figure, one line
#   TABLE|figure|value|unit|target|reference|ratio|met
# at column 0) and prints those lines as one Markdown table under the machine (CPU model, cores),
# the OpenBLAS kernel sets the benchmarks reported, and the thread count of the environment.
# A benchmark that failed left a line "BENCH FAILED ..." in the log: it is listed under the table
# and the script exits 1. Benchmarks never fail on time: "met" is information, not a test.
#
#   tests/bench/bench_table.sh LOG [START_EPOCH_SECONDS]
set -eu
log=${1:?usage: bench_table.sh LOG [START_EPOCH_SECONDS]}
start=${2:-}
[ -r "$log" ] || { echo "bench_table.sh: cannot read $log (run make bench)" >&2; exit 2; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
cores=$(nproc 2>/dev/null || echo "?")
isa=$(grep -qw avx512f /proc/cpuinfo 2>/dev/null && echo "AVX-512" ||
      { grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo "AVX2" || echo "no AVX2"; })
kernels=$(sed -n 's/^openblas: kernels \([A-Za-z0-9_]*\).*/\1/p' "$log" | sort -u | tr '\n' ' ' | sed 's/ $//')
forced=${OPENBLAS_CORETYPE:-}
threads=${OPENBLAS_NUM_THREADS:-}

echo
echo "## make bench: the table"
echo
echo "machine: ${cpu:-unknown CPU}, $cores cores ($isa); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
if [ -n "$forced" ]; then forced_note=" (OPENBLAS_CORETYPE=$forced)"; else forced_note=" (OPENBLAS_CORETYPE unset)"; fi
echo "OpenBLAS kernels: ${kernels:-not reported}$forced_note"
echo "threads: ${threads:+OPENBLAS_NUM_THREADS=$threads}${threads:-OPENBLAS_NUM_THREADS unset, so $cores}, unless the figure names its own"
if [ -n "$start" ]; then echo "make bench ran $(( $(date +%s) - start )) s"; fi
echo
echo "| figure | value | unit | target | reference | ratio | met |"
echo "|---|---|---|---|---|---|---|"
grep '^TABLE|' "$log" | awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8 }'
n=$(grep -c '^TABLE|' "$log" || true)
missed=$(grep '^TABLE|' "$log" | awk -F'|' '$8 == "no"' | wc -l)
echo
echo "$n figures, $missed under their target"
if grep -q '^BENCH FAILED' "$log"; then
    echo
    grep '^BENCH FAILED' "$log"
    exit 1
fi
