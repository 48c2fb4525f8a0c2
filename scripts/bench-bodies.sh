#!/bin/bash
# Request bodies for the serving benchmarks: OUTDIR/single.jsonl (one record
# per body) and OUTDIR/batch.jsonl (100 per body), from the test split
# (split.valid_below of the config) of the source data: DATA when given (it
# must exist), else READMIT_DATA, else data.source of the config, else
# READMIT_REAL_DATA; synthetic records only when none of those exists.
# OUTDIR/source.txt says which, in one line (the benchmarks print it in their
# tables). Usage: scripts/bench-bodies.sh OUTDIR [DATA]
# Environment: READMIT_CONFIG (conf/readmit.yaml), BUILD (build).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$1
GIVEN=${2:-}
BUILD=${BUILD:-build}
CONF=${READMIT_CONFIG:-$TOP/conf/readmit.yaml}
abs() { case $1 in /*) echo "$1" ;; *) echo "$TOP/$1" ;; esac; }
if [ -n "$GIVEN" ]; then
    src=$(abs "$GIVEN")
    [ -f "$src" ] || { echo "bench-bodies: no data at $src" >&2; exit 1; }
else
    src=$(abs "${READMIT_DATA:-$("$TOP/$BUILD/readmit" config -c "$CONF" --get data.source)}")
    if [ ! -f "$src" ] && [ -n "${READMIT_REAL_DATA:-}" ] && [ -f "$READMIT_REAL_DATA" ]; then
        src=$READMIT_REAL_DATA
    fi
fi
valid_below=$("$TOP/$BUILD/readmit" config -c "$CONF" --get split.valid_below)
mkdir -p "$OUT"
csv=$OUT/records.csv
if [ -f "$src" ]; then
    case $src in
    *.zip) unzip -p "$src" '*diabetic_data.csv' >"$csv" ;;
    *) cp "$src" "$csv" ;;
    esac
    what="test split of $src"
else
    "$TOP/$BUILD/readmit" synth --rows 30000 --seed 1 >"$csv"
    what="SYNTHETIC records (readmit synth), not real data: no data at $src (give DATA=... or set READMIT_REAL_DATA)"
fi
awk -v valid_below="$valid_below" -f "$TOP/nginx/bench/records.awk" "$csv" >"$OUT/single.jsonl"
awk -v valid_below="$valid_below" -v batch=100 -f "$TOP/nginx/bench/records.awk" "$csv" >"$OUT/batch.jsonl"
rm -f "$csv"
[ -s "$OUT/single.jsonl" ] || { echo "bench-bodies: no test-split records in $src" >&2; exit 1; }
echo "$what: $(wc -l <"$OUT/single.jsonl") single bodies, $(wc -l <"$OUT/batch.jsonl") batches of 100" >"$OUT/source.txt"
echo "records: $(cat "$OUT/source.txt")"
