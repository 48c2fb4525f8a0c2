#!/bin/bash
# experiment-history.sh - the patient-history experiment on the real data:
# ingest and clean it into a scratch database, then build/history-experiment
# (train.gbt's grid with and without the history features, same seed, patient
# split; validation ROC AUC and a patient-resampled interval of the difference).
# Usage: scripts/experiment-history.sh [DATA]   (default: $READMIT_REAL_DATA,
#        else ../shared/data/dataset_diabetes.zip)
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-build}
case $BUILD in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
READMIT=$B/readmit
CONF=${CONF:-$TOP/conf/readmit.yaml}
DATA=${1:-${READMIT_REAL_DATA:-}}
[ -n "$DATA" ] || DATA=$TOP/../shared/data/dataset_diabetes.zip
[ -e "$DATA" ] || { echo "experiment-history: no data (give a path or set READMIT_REAL_DATA)" >&2; exit 2; }
DB=readmit_experiment_history_$$
TMP=$(mktemp -d /tmp/readmit-experiment-history.XXXXXX)
cleanup() {
    "$TOP/scripts/pg.sh" psql -d postgres -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
"$TOP/scripts/pg.sh" start >/dev/null 2>&1
"$TOP/scripts/pg.sh" psql -d postgres -qc "CREATE DATABASE \"$DB\"" >/dev/null
O=(-c "$CONF" -o "db.name=$DB" -o "db.socket_dir=$TOP/var/pg/run")
(cd "$TMP" && "$READMIT" ingest -q "${O[@]}" --source "$DATA" >/dev/null)
(cd "$TMP" && "$READMIT" clean -q "${O[@]}" >/dev/null)
"$B/history-experiment" "${O[@]}"
