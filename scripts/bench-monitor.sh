#!/bin/bash
# bench-monitor.sh - time `readmit monitor` over N logged predictions (default
# 1,000,000) of a model trained on synthetic data, in a fresh database: served
# over 30 days (one window per day), half of them with an outcome. Prints per
# run the wall time, the CPU time of readmit and of the database server (its
# finished backends, private cluster only: the machine may be shared) and the
# phases readmit reports; asserts nothing.
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
SQL
# what autovacuum does to an append-only log in production: statistics and
# the visibility map (the monitor reads the log through an index-only scan)
scripts/pg.sh psql -d "$DB" -q -v ON_ERROR_STOP=1 >/dev/null \
    -c 'VACUUM (ANALYZE) monitor.predictions' -c 'VACUUM (ANALYZE) monitor.outcomes'
SQL_PID=$(sed -n 1p "${READMIT_PGDIR:-var/pg}/data/postmaster.pid" 2>/dev/null || true)
# CPU seconds of the server's finished backends (the postmaster reaps them)
server_cpu() {
    if [ -n "$SQL_PID" ] && [ -r "/proc/$SQL_PID/stat" ]; then
        awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($16 + $17) / hz }' "/proc/$SQL_PID/stat"
    else
        echo 0
    fi
}
echo "bench-monitor: $N predictions logged (setup $(echo "$(date +%s.%N) - $start" | bc) s)"
uptime | sed 's/^/bench-monitor: load: /'
for run in 1 2 3; do
    s=$(date +%s.%N)
    c0=$(server_cpu)
    /usr/bin/time -f '%U %S' -o "$OUT/time.txt" "$READMIT" monitor -c conf/test.yaml -o "db.name=$DB" \
        >"$OUT/summary.txt" 2>"$OUT/err.txt"
    e=$(date +%s.%N)
    sleep 0.2
    c1=$(server_cpu)
    read -r cu cs <"$OUT/time.txt"
    echo "bench-monitor: run $run: $(printf '%.2f' "$(echo "$e - $s" | bc)") s wall," \
        "CPU: readmit $(printf '%.2f' "$(echo "$cu + $cs" | bc)") s, server $(printf '%.2f' "$(echo "$c1 - $c0" | bc)") s"
    echo "bench-monitor:   $(grep -o 'predictions read in .*' "$OUT/err.txt")"
done
head -4 "$OUT/summary.txt"
