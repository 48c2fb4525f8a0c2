#!/bin/bash
# bench-explain.sh - the explanation micro-benchmark: train the default model
# on the real data in a scratch database, then time one explained prediction
# against plain scoring in the same run (build/bench-explain).
# Usage: scripts/bench-explain.sh [DATA]   (default: $READMIT_REAL_DATA, else
#        ../shared/data/dataset_diabetes.zip, else data/diabetic_data.csv)
#        READMIT_BENCH_MODEL=FILE skips the training; READMIT_BENCH_SAVE=FILE keeps
#        a copy of the trained model.
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-build}
READMIT=$TOP/$BUILD/readmit
BENCH=$TOP/$BUILD/bench-explain
CONF=${CONF:-$TOP/conf/readmit.yaml}
DATA=${1:-${READMIT_REAL_DATA:-}}
if [ -z "$DATA" ]; then
    for d in "$TOP/../shared/data/dataset_diabetes.zip" "$TOP/data/diabetic_data.csv"; do
        [ -e "$d" ] && { DATA=$d; break; }
    done
fi
[ -n "$DATA" ] && [ -e "$DATA" ] || { echo "bench-explain: no data (give a path or set READMIT_REAL_DATA)" >&2; exit 2; }
DB=readmit_bench_explain_$$
TMP=$(mktemp -d /tmp/readmit-bench-explain.XXXXXX)
cleanup() {
    if [ -z "${READMIT_BENCH_MODEL:-}" ]; then
        "$TOP/scripts/pg.sh" psql -d postgres -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
case $DATA in
*.zip) unzip -p "$DATA" '*diabetic_data.csv' >"$TMP/records.csv" ;;
*) cp "$DATA" "$TMP/records.csv" ;;
esac
model=${READMIT_BENCH_MODEL:-}
if [ -z "$model" ]; then
    "$TOP/scripts/pg.sh" start >/dev/null 2>&1
    "$TOP/scripts/pg.sh" psql -d postgres -qc "CREATE DATABASE \"$DB\"" >/dev/null
    R() { (cd "$TMP" && READMIT_MODEL_CACHE=$TMP/models "$READMIT" "$1" -c "$CONF" -o "db.name=$DB" \
        -o "db.socket_dir=$TOP/var/pg/run" -q "${@:2}"); }
    R ingest --source "$DATA" >/dev/null
    R clean >/dev/null
    R train >/dev/null
    sha=$("$TOP/scripts/pg.sh" psql -d "$DB" -tAqc "SELECT a.sha256 FROM registry.trainings t
          JOIN registry.run_artifacts a ON a.run_id = t.selected_run_id ORDER BY t.training_id DESC LIMIT 1")
    model=$TMP/models/$sha.model
fi
[ -f "$model" ] || { echo "bench-explain: no model file $model" >&2; exit 1; }
if [ -n "${READMIT_BENCH_SAVE:-}" ]; then cp "$model" "$READMIT_BENCH_SAVE"; fi
# the first READMIT_BENCH_RECORDS records of the file (the bench times, it does not evaluate)
"$BENCH" "$model" "$TMP/records.csv" "${READMIT_BENCH_RECORDS:-2000}" "${READMIT_BENCH_ROUNDS:-5}"
