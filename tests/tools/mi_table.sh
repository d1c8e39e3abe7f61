#!/usr/bin/env bash
# mi_table.sh VIBRUN [N ...]: the table of docs/mi.md. For each task with a closed-form I(X;Y)
# (`vibrun mi --task`), each sample size N (default 500 and 2000; seed 1) and each estimator of
# `vibrun mi`, one Markdown row: the estimate and the truth in bits, log2(estimate / truth) (0 is
# exact, +1 twice the truth, -1 half; "-" when the estimate is <= 0) and the estimator's seconds.
# The samples go to a temporary folder, removed at the end.
set -euo pipefail
vibrun=$(realpath "$1"); shift
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(500 2000)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
tasks=(normal-dense-1-1 normal-sparse-2-2 normal-dense-5-5 normal-sparse-25-25 normal-dense-25-25
       student-identity-1-1-df1 asinh-student-identity-1-1-df1 student-dense-5-5-df3
       halfcube-normal-dense-5-5 cdf-normal-sparse-2-2 asinh-student-dense-5-5-df3)
echo "| task | n | estimator | estimate (bits) | truth (bits) | log2 ratio | seconds |"
echo "|---|---|---|---|---|---|---|"
for task in "${tasks[@]}"; do
    dims=$(sed -E 's/.*-([0-9]+)-([0-9]+)(-df[0-9]+)?$/\1 \2/' <<< "$task")
    for n in "${sizes[@]}"; do
        truth=$("$vibrun" mi --task "$task" --n "$n" --seed 1 -o "$tmp/s.csv")
        for est in ksg kde binning; do
            read -r value secs < <("$vibrun" mi --estimator "$est" --time "$tmp/s.csv" $dims)
            awk -v t="$task" -v n="$n" -v e="$est" -v v="$value" -v tr="$truth" -v s="$secs" 'BEGIN {
                r = (v > 0 && tr > 0) ? sprintf("%+.2f", log(v / tr) / log(2)) : "-";
                printf "| %s | %d | %s | %.3f | %.3f | %s | %.2f |\n", t, n, e, v, tr, r, s }'
        done
    done
done
