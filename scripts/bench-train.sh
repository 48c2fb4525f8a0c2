#!/bin/bash
# bench-train.sh - time `readmit train` with the default config on the real data
# (wall time, peak RSS) and print per model: validation ROC AUC, test ROC AUC,
# test PR AUC, test log loss, test Brier, fit time. Runs the peers
# (scripts/bench-gbt-peers.py: scikit-learn, XGBoost) side by side when they
# are installed, then readmit's fit on 1 thread and on the configured threads
# (same matrix, interleaved: the scaling, and that the models are the same).
# On the peers' matrix every booster uses the same learning rate, LR (default
# 0.1, the peers' own default and the second point of the config's grid).
# Prints the load average at the start and the end (the machine may be
# shared). Uses a scratch database that it drops at the end.
# PEERS=0 skips the peers; READMIT=PATH times another build of readmit; LR=R;
# MODEL_OUT=FILE writes the selected model there. CHRT=1 runs the fits by
# threads under `chrt -f 1` (when allowed): on a machine others are using, a
# process of theirs otherwise takes a core from the 2-thread fit; the other
# core's tenants still run beside the 1-thread fit, so the ratio is then no
# quiet-machine figure either (both are labelled).
# Usage: scripts/bench-train.sh [DATA]   (default: $READMIT_REAL_DATA, else
#        ../shared/data/dataset_diabetes.zip, else data/diabetic_data.csv)
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
READMIT=${READMIT:-$TOP/build/readmit}
CONF=${CONF:-$TOP/conf/readmit.yaml}
LR=${LR:-0.1}
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
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
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
    [ -x "$fitm" ] && ours=(--ours "$fitm {matrix} {threads} 1 {learning_rate}")
    "${python3:-python3}" "$TOP/scripts/bench-gbt-peers.py" --threads "$threads" --repeat 3 \
        --learning-rate "$LR" --dump-matrix "$TMP/matrix.csv" "${ours[@]}" "$DATA" ||
        echo "bench-gbt-peers: failed"
    if [ -x "$fitm" ] && [ -s "$TMP/matrix.csv" ]; then
        # 1 thread against the configured threads (2 on a single core), interleaved
        tn=$threads
        [ "$tn" -gt 1 ] || tn=2
        rt=() how="normal priority"
        if [ "${CHRT:-0}" = 1 ] && chrt -f 1 true 2>/dev/null; then
            rt=(chrt -f 1) how="under chrt -f 1"
        fi
        for r in 1 2 3; do
            for t in 1 "$tn"; do
                "${rt[@]}" "$fitm" "$TMP/matrix.csv" "$t" 1 "$LR" | sed "s/^/$t /" >> "$TMP/scaling"
            done
        done
        echo
        echo "readmit's fit by threads (same matrix, learning rate $LR, fastest of 3 each, interleaved," \
            "$how; cpu = all threads; load $(cut -d' ' -f1-3 /proc/loadavg)):"
        awk -v tn="$tn" '
            $2 == "fit" && (!($1 in w) || $3 < w[$1]) { w[$1] = $3 }
            $2 == "fit_cpu" && (!($1 in c) || $3 < c[$1]) { c[$1] = $3 }
            $2 == "model" { if (!($1 in m)) m[$1] = $3; else if (m[$1] != $3) m[$1] = "differs-between-repeats" }
            END {
                for (k = 1; k <= 2; k++) {
                    t = (k == 1) ? 1 : tn
                    printf "  threads %-2d fit %6.3f s  cpu %6.3f s  model %s\n", t, w[t], c[t], m[t]
                }
                printf "  speed-up of %d threads over 1: %.2fx; models %s\n", tn, w[1] / w[tn],
                    (m[1] == m[tn]) ? "bit-identical" : "DIFFER"
            }' "$TMP/scaling"
    fi
else
    echo "peers: scripts/bench-gbt-peers.py not present; skipped"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
