#!/bin/bash
# bench-monitor.sh - time `readmit monitor` over N logged predictions (default
# 1,000,000) of a model trained on synthetic data, in a fresh database: served
# over 30 days (one window per day), half of them with an outcome. Prints the
# figures; asserts nothing.
# Usage: scripts/bench-monitor.sh [READMIT_BINARY] [PREDICTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
READMIT=${1:-build/readmit}
N=${2:-1000000}
DB=readmit_bench_monitor_$$
OUT=$(mktemp -d /tmp/readmit-bench-monitor.XXXXXX)
cleanup() {
    scripts/pg.sh psql -d postgres -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$OUT"
}
[ -n "${BENCH_KEEP:-}" ] || trap cleanup EXIT
scripts/pg.sh start >/dev/null 2>&1
scripts/pg.sh psql -d postgres -qc "CREATE DATABASE \"$DB\"" >/dev/null
rdm() { "$READMIT" "$1" -c conf/test.yaml -o "db.name=$DB" "${@:2}"; }
"$READMIT" synth --rows 20000 --seed 5 >"$OUT/a.csv"
rdm ingest -q -o "data.source=$OUT/a.csv" >/dev/null
rdm clean -q >/dev/null
rdm train -q >/dev/null 2>&1
rdm register -q >/dev/null
start=$(date +%s.%N)
scripts/pg.sh psql -d "$DB" -q -v ON_ERROR_STOP=1 -v n="$N" >/dev/null <<'SQL'
INSERT INTO monitor.predictions (served_at, request_id, item, encounter_id, patient_nbr, model_name,
                                 model_version, alias, input, probability, decision, threshold,
                                 latency_us)
SELECT now() - interval '30 days' + (g * (interval '30 days' / :n)), 'bench-' || g, 0,
       1000000000 + g, e.patient_nbr::bigint, 'readmission', 1, 'champion',
       to_jsonb(e) - 'batch_id' - 'line_no' - 'readmitted',
       0.02 + 0.5 * (CASE WHEN e.readmitted = '<30' THEN 0.3 ELSE 0 END) + 0.4 * ((g::bigint * 7919) % 1000) / 1000.0,
       0, 0.3, 250
FROM generate_series(1, :n) g
JOIN raw.encounters e ON e.line_no = 2 + g % 20000;
INSERT INTO monitor.outcomes (encounter_id, readmitted, label, observed_at, source)
SELECT p.encounter_id, 'NO', CASE WHEN p.probability > 0.3 THEN 1 ELSE 0 END,
       p.served_at + interval '31 days', 'bench'
FROM monitor.predictions p WHERE p.prediction_id % 2 = 0;
ANALYZE monitor.predictions;
ANALYZE monitor.outcomes;
SQL
echo "bench-monitor: $N predictions logged (setup $(echo "$(date +%s.%N) - $start" | bc) s)"
for run in 1 2; do
    s=$(date +%s.%N)
    rdm monitor >"$OUT/summary.txt" 2>"$OUT/err.txt"
    echo "bench-monitor: readmit monitor over $N logged predictions, run $run: $(echo "$(date +%s.%N) - $s" | bc) s ($(grep -o 'predictions read in .*' "$OUT/err.txt"))"
done
head -4 "$OUT/summary.txt"
