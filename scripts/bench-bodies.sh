#!/bin/bash
# Request bodies for the serving benchmarks: OUTDIR/single.jsonl (one record
# per body) and OUTDIR/batch.jsonl (100 per body), from the test split of the
# source data (READMIT_DATA, else data.source of the config), else from
# synthetic records. Usage: scripts/bench-bodies.sh OUTDIR
# Environment: READMIT_CONFIG (conf/readmit.yaml), BUILD (build).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$1
BUILD=${BUILD:-build}
CONF=${READMIT_CONFIG:-$TOP/conf/readmit.yaml}
eval "$("$TOP/$BUILD/readmit-fcgi" -c "$CONF" --print-config)"
src=${READMIT_DATA:-$data_source}
case $src in /*) ;; *) src=$TOP/$src ;; esac
mkdir -p "$OUT"
csv=$OUT/records.csv
if [ -f "$src" ]; then
    case $src in
    *.zip) unzip -p "$src" '*diabetic_data.csv' >"$csv" ;;
    *) cp "$src" "$csv" ;;
    esac
    echo "records: test split of $src"
else
    "$TOP/$BUILD/readmit" synth --rows 30000 --seed 1 >"$csv"
    echo "records: synthetic (no data at $src)"
fi
awk -f "$TOP/nginx/bench/records.awk" "$csv" >"$OUT/single.jsonl"
awk -v batch=100 -f "$TOP/nginx/bench/records.awk" "$csv" >"$OUT/batch.jsonl"
rm -f "$csv"
