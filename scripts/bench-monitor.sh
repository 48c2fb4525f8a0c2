#!/bin/bash
# bench-monitor.sh - time `readmit monitor` over N logged predictions (default
# 1,000,000) of a model trained on synthetic data, in a fresh database: served
# over 30 days (one window per day), half of them with an outcome. Prints per
# run the wall time, the CPU time of readmit and of the database server (its
# finished backends, private cluster only: the machine may be shared) and the
# phases readmit reports; asserts nothing.
# Usage: scripts/bench-monitor.sh [READMIT_BINARY] [PREDICTIONS]
# BENCH_KEEP=1 keeps the database (its name is printed); BENCH_DB=NAME reuses
# such a database instead of building one (no setup). BENCH_OTHER=BINARY times
# a second binary too, run for run after the first (the same load for both:
# before/after figures).
set -euo pipefail
cd "$(dirname "$0")/.."
READMIT=${1:-build/readmit}
N=${2:-1000000}
DB=${BENCH_DB:-readmit_bench_monitor_$$}
OUT=$(mktemp -d /tmp/readmit-bench-monitor.XXXXXX)
cleanup() {
    scripts/pg.sh psql -d postgres -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$OUT"
}
[ -n "${BENCH_KEEP:-}${BENCH_DB:-}" ] || trap cleanup EXIT
[ -z "${BENCH_DB:-}" ] || trap 'rm -rf "$OUT"' EXIT
scripts/pg.sh start >/dev/null 2>&1
rdm() { "$READMIT" "$1" -c conf/test.yaml -o "db.name=$DB" "${@:2}"; }
start=$(date +%s.%N)
if [ -n "${BENCH_DB:-}" ]; then
    N=$(scripts/pg.sh psql -d "$DB" -Atc 'SELECT count(*) FROM monitor.predictions')
else
scripts/pg.sh psql -d postgres -qc "CREATE DATABASE \"$DB\"" >/dev/null
"$READMIT" synth --rows 20000 --seed 5 >"$OUT/a.csv"
rdm ingest -q -o "data.source=$OUT/a.csv" >/dev/null
rdm clean -q >/dev/null
rdm train -q >/dev/null 2>&1
rdm register -q >/dev/null
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
-- (the 20,000 rows taken apart once: raw.encounters is a view over raw.records)
JOIN (SELECT * FROM raw.encounters WHERE line_no BETWEEN 2 AND 20001 OFFSET 0) e
  ON e.line_no = 2 + g % 20000;
INSERT INTO monitor.outcomes (encounter_id, readmitted, label, observed_at, source)
SELECT p.encounter_id, 'NO', CASE WHEN p.probability > 0.3 THEN 1 ELSE 0 END,
       p.served_at + interval '31 days', 'bench'
FROM monitor.predictions p WHERE p.prediction_id % 2 = 0;
SQL
# what autovacuum does to an append-only log in production: statistics and
# the visibility map (the monitor reads the log through an index-only scan)
scripts/pg.sh psql -d "$DB" -q -v ON_ERROR_STOP=1 >/dev/null \
    -c 'VACUUM (ANALYZE) monitor.prediction_batches' -c 'VACUUM (ANALYZE) monitor.outcomes'
fi
SQL_PID=$(sed -n 1p "${READMIT_PGDIR:-var/pg}/data/postmaster.pid" 2>/dev/null || true)
# CPU seconds of the server's finished backends (the postmaster reaps them)
server_cpu() {
    if [ -n "$SQL_PID" ] && [ -r "/proc/$SQL_PID/stat" ]; then
        awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($16 + $17) / hz }' "/proc/$SQL_PID/stat"
    else
        echo 0
    fi
}
echo "bench-monitor: $N predictions logged in database $DB (setup $(echo "$(date +%s.%N) - $start" | bc) s)"
uptime | sed 's/^/bench-monitor: load: /'
# one timed run of binary $1 labelled $2
timed() {
    local s e c0 c1 cu cs
    s=$(date +%s.%N)
    c0=$(server_cpu)
    /usr/bin/time -f '%U %S' -o "$OUT/time.txt" "$1" monitor -c conf/test.yaml -o "db.name=$DB" \
        >"$OUT/summary.txt" 2>"$OUT/err.txt"
    e=$(date +%s.%N)
    sleep 0.2
    c1=$(server_cpu)
    read -r cu cs <"$OUT/time.txt"
    echo "bench-monitor: $2: $(printf '%.2f' "$(echo "$e - $s" | bc)") s wall," \
        "CPU: readmit $(printf '%.2f' "$(echo "$cu + $cs" | bc)") s, server $(printf '%.2f' "$(echo "$c1 - $c0" | bc)") s"
    echo "bench-monitor:   $(grep -o 'predictions read in .*' "$OUT/err.txt")"
}
for run in 1 2 3; do
    timed "$READMIT" "run $run"
    [ -z "${BENCH_OTHER:-}" ] || timed "$BENCH_OTHER" "run $run, $BENCH_OTHER"
done
head -4 "$OUT/summary.txt"
