#!/bin/bash
# bench-calibration.sh - calibration of the default model on the real data:
# train it in a scratch database (or READMIT_BENCH_MODEL=FILE), score every
# record with `readmit predict`, keep the validation and test splits of the
# task definition (expired/hospice dropped; patient_nbr mod 100: 70-84
# validation, >= 85 test) and print build/calibration-report's figures:
# calibration, a Platt check, and performance by race, gender and age band.
# Usage: scripts/bench-calibration.sh [DATA]
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-build}
READMIT=$TOP/$BUILD/readmit
DATA=${1:-${READMIT_REAL_DATA:-}}
[ -n "$DATA" ] || DATA=$TOP/../shared/data/dataset_diabetes.zip
[ -e "$DATA" ] || { echo "bench-calibration: no data (give a path or set READMIT_REAL_DATA)" >&2; exit 2; }
TMP=$(mktemp -d /tmp/readmit-bench-calibration.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
model=${READMIT_BENCH_MODEL:-}
if [ -z "$model" ]; then
    READMIT_BENCH_SAVE=$TMP/model BUILD=$BUILD "$TOP/scripts/bench-explain.sh" "$DATA" >/dev/null
    model=$TMP/model
fi
case $DATA in
*.zip) unzip -p "$DATA" '*diabetic_data.csv' >"$TMP/records.csv" ;;
*) cp "$DATA" "$TMP/records.csv" ;;
esac
"$READMIT" predict -q --model "$model" --input "$TMP/records.csv" --output "$TMP/pred.csv"
# join by line: the predictions come in input order
awk -F, 'NR == FNR { if (FNR > 1) p[FNR] = $2; next }
    { sub(/\r$/, "") }
    FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    {
        d = $col["discharge_disposition_id"]
        if (d == 11 || d == 13 || d == 14 || d == 19 || d == 20 || d == 21) next
        m = $col["patient_nbr"] % 100
        if (m < 70) next
        printf "%s,%s,%d,%s,%s,%s,%s\n", (m < 85 ? "valid" : "test"), p[FNR], ($col["readmitted"] == "<30"),
            $col["patient_nbr"], $col["race"], $col["gender"], $col["age"]
    }' "$TMP/pred.csv" "$TMP/records.csv" >"$TMP/splits.csv"
# the threshold: the smallest probability the model flags
thr=$(awk -F, 'NR > 1 && $3 == 1 && (t == "" || $2 < t) { t = $2 } END { print t }' "$TMP/pred.csv")
"$TOP/$BUILD/calibration-report" "$thr" <"$TMP/splits.csv"
