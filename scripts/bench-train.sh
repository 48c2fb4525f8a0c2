#!/bin/bash
# bench-train.sh - time `readmit train` with the default config on the real data
# (wall time, peak RSS) and print per model: validation ROC AUC, test ROC AUC,
# test PR AUC, test log loss, test Brier, fit time. Runs the peers
# (scripts/bench-gbt-peers.py: scikit-learn, XGBoost) side by side when they
# are installed. Uses a scratch database that it drops at the end.
# PEERS=0 skips the peers; READMIT=PATH times another build of readmit;
# MODEL_OUT=FILE writes the selected model there.
# Usage: scripts/bench-train.sh [DATA]   (default: $READMIT_REAL_DATA, else
#        ../shared/data/dataset_diabetes.zip, else data/diabetic_data.csv)
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
READMIT=${READMIT:-$TOP/build/readmit}
CONF=${CONF:-$TOP/conf/readmit.yaml}
DATA=${1:-${READMIT_REAL_DATA:-}}
if [ -z "$DATA" ]; then
    for d in "$TOP/../shared/data/dataset_diabetes.zip" "$TOP/data/diabetic_data.csv"; do
        [ -e "$d" ] && { DATA=$d; break; }
    done
fi
[ -n "$DATA" ] && [ -e "$DATA" ] || { echo "bench-train: no data (give a path or set READMIT_REAL_DATA)" >&2; exit 2; }
DB=readmit_bench_train_$$
TMP=$(mktemp -d /tmp/readmit-bench-train.XXXXXX)
cleanup() {
    "$TOP/scripts/pg.sh" psql -d postgres -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
"$TOP/scripts/pg.sh" start >/dev/null 2>&1
"$TOP/scripts/pg.sh" psql -d postgres -qc "CREATE DATABASE \"$DB\"" >/dev/null
R() { "$READMIT" "$1" -c "$CONF" -o "db.name=$DB" -o "db.socket_dir=$TOP/var/pg/run" -q "${@:2}"; }
sql() { "$TOP/scripts/pg.sh" psql -d "$DB" -tAqc "$1"; }

R ingest --source "$DATA" >/dev/null
R clean >/dev/null
threads=$("$READMIT" config -c "$CONF" 2>/dev/null | awk '/^  threads:/ {print $2; exit}' || true)
[ -n "$threads" ] && [ "$threads" != 0 ] || threads=$(nproc)
(cd "$TMP" && /usr/bin/time -f "%e %M" -o "$TMP/time" "$READMIT" train -c "$CONF" -o "db.name=$DB" \
    -o "db.socket_dir=$TOP/var/pg/run" -q > "$TMP/train.out")
read -r wall rss_kb < "$TMP/time"
echo "readmit train (default config, $(nproc) cores, threads $threads): wall ${wall} s, peak RSS $((rss_kb / 1024)) MB"
sed 's/^/  /' "$TMP/train.out"
echo
printf '%-28s %8s %8s %8s %9s %8s %8s\n' model val_auc test_auc test_ap test_ll test_bri fit_s
sql "SELECT r.name,
            max(m.value) FILTER (WHERE m.split = 'valid' AND m.key = 'roc_auc'),
            max(m.value) FILTER (WHERE m.split = 'test' AND m.key = 'roc_auc'),
            max(m.value) FILTER (WHERE m.split = 'test' AND m.key = 'pr_auc'),
            max(m.value) FILTER (WHERE m.split = 'test' AND m.key = 'log_loss'),
            max(m.value) FILTER (WHERE m.split = 'test' AND m.key = 'brier'),
            r.fit_s, r.selected, max(m.value) FILTER (WHERE m.split = 'train' AND m.key = 'trees')
     FROM registry.runs r LEFT JOIN registry.metrics m USING (run_id)
     GROUP BY r.run_id ORDER BY r.run_id" |
    awk -F'|' '{ sel = ($8 == "t") ? " *selected" : ""; tr = ($9 != "") ? sprintf(" (%d trees)", $9) : "";
                 printf "%-28s %8.4f %8.4f %8.4f %9.4f %8.4f %8.2f%s%s\n", $1, $2, $3, $4, $5, $6, $7, tr, sel }'
echo
# Model content per run (threshold, encoder and scorer sections; the metadata,
# which holds the training time and code version, and the checksum line left
# out): equal digests mean bit-identical models.
echo "model content sha256 (without metadata):"
sql "SELECT a.sha256 || ' ' || r.name FROM registry.runs r
     JOIN registry.run_artifacts a USING (run_id) ORDER BY r.run_id" |
    while read -r sha name; do
        digest=$(sql "SELECT convert_from(bytes, 'UTF8') FROM registry.artifacts WHERE sha256 = '$sha'" |
            sed -n '/^threshold /p; /^encoder/,$p' | grep -v '^checksum ' | sha256sum | cut -c1-16)
        printf '  %-28s %s\n' "$name" "$digest"
    done
# Every metric of every run at full precision (float8 text is exact): equal
# digests mean the same probabilities on every split, whatever the file format.
echo "metrics sha256 (every run, split and metric, full precision): $(sql "SELECT r.name || '|' || m.split || '|' || m.key || '|' || m.value::text
     FROM registry.runs r JOIN registry.metrics m USING (run_id)
     WHERE m.key NOT LIKE '%seconds%' ORDER BY r.run_id, m.split, m.key" | sha256sum | cut -c1-16)"
if [ -n "${MODEL_OUT:-}" ]; then # the selected model's file, e.g. for make bench-score MODEL=...
    sql "SELECT encode(a.bytes, 'base64') FROM registry.runs r JOIN registry.run_artifacts ra USING (run_id)
         JOIN registry.artifacts a USING (sha256) WHERE r.selected" | base64 -d > "$MODEL_OUT"
    echo "selected model written to $MODEL_OUT"
fi
echo
if [ "${PEERS:-1}" = 0 ]; then
    echo "peers: skipped (PEERS=0)"
elif [ -x "$TOP/scripts/bench-gbt-peers.py" ] || [ -f "$TOP/scripts/bench-gbt-peers.py" ]; then
    echo "peers (same data, same split, same threads):"
    python3=${PYTHON:-}
    for py in python3 /usr/bin/python3; do # Debian's python3-sklearn/-xgboost live in the system one
        [ -z "$python3" ] && "$py" -c 'import sklearn, xgboost' 2>/dev/null && python3=$py
    done
    # readmit's trees on the peers' matrix too, interleaved with them (same run, same matrix)
    ours=()
    fitm=$(dirname "$READMIT")/gbt-fit-matrix
    [ "$READMIT" != "$TOP/build/readmit" ] || make -s -C "$TOP" build/gbt-fit-matrix >/dev/null 2>&1 || true
    [ -x "$fitm" ] && ours=(--ours "$fitm {matrix} {threads}")
    "${python3:-python3}" "$TOP/scripts/bench-gbt-peers.py" --threads "$threads" --repeat 3 "${ours[@]}" "$DATA" ||
        echo "bench-gbt-peers: failed"
else
    echo "peers: scripts/bench-gbt-peers.py not present; skipped"
fi
