#!/bin/bash
# readmit predict throughput (make bench-predict): CSV -> CSV with a
# boosted-trees model of the default shape (160 trees, 31 leaves, fitted by
# bench-score on synthetic rows) or MODEL=FILE, on READMIT_BENCH_ROWS
# synthetic records (default 1,000,000), with 1 and 2 threads, parse and
# output included. Prints wall and CPU time per run: on a machine shared
# with other work the wall figure counts the time others ran, so records per
# CPU second (and that rate times the threads) is the figure to compare.
# The outputs of every thread count must be the same bytes.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-build}
READMIT=$TOP/$BUILD/readmit
BSCORE=$TOP/$BUILD/bench-score
N=${READMIT_BENCH_ROWS:-1000000}
die() { echo "bench-predict: $*" >&2; exit 1; }
[ -x "$READMIT" ] && [ -x "$BSCORE" ] || die "build first (make build $BUILD/bench-score)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/readmit-bench-predict.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

model=${MODEL:-}
if [ -z "$model" ]; then
    model=$WORK/model
    "$BSCORE" --save "$model" --seconds 0.1 >/dev/null || die "fitting the model failed"
fi
"$READMIT" synth --rows "$N" --seed 7 --out "$WORK/in.csv" >/dev/null
echo "readmit predict: $N synthetic records ($(($(stat -c %s "$WORK/in.csv") / 1000000)) MB of CSV), model ${MODEL:-fitted by bench-score (160 trees, 31 leaves)}"
echo "load before: $(uptime | sed 's/.*load average/load average/')"
echo "| threads | wall s | records/s (wall) | CPU s | records per CPU s | threads x records per CPU s (the rate on idle cores if the threads scale) |"
echo "|---|---|---|---|---|---|"
for t in 1 2; do
    /usr/bin/time -f "%e %U %S" -o "$WORK/time$t" \
        "$READMIT" predict -q --threads "$t" --model "$model" --input "$WORK/in.csv" \
        --output "$WORK/out$t.csv" || die "predict failed"
    read -r wall user sys <"$WORK/time$t"
    awk -v n="$N" -v t="$t" -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN {
        c = u + s; printf "| %d | %.2f | %.0f | %.2f | %.0f | %.0f |\n", t, w, n / w, c, n / c, t * n / c }'
done
echo "load after: $(uptime | sed 's/.*load average/load average/')"
cmp -s "$WORK/out1.csv" "$WORK/out2.csv" || die "1 and 2 threads wrote different outputs"
echo "outputs of 1 and 2 threads identical: yes ($(($(wc -l <"$WORK/out1.csv") - 1)) lines)"
