#!/bin/bash
# The prediction log's cost (make bench-log): wrk on POST /api/v1/predict with
# one record per request at 32 and 128 connections, with the log on, off
# (monitor.log_fraction = 0) and on again, in one run; for each, the requests
# per second and the CPU time per 1000 requests of the pool (supervisor and
# workers, log writer threads included), nginx, PostgreSQL (every process of
# the private cluster: backends, WAL writer, checkpointer, autovacuum) and
# wrk, and of the log's own threads (each worker's threads but its busiest,
# the serving one: the writer and the sender); then the COPY of the logged
# batches alone (server CPU per prediction). BENCH_OTHER=FILE (another
# build's readmit-fcgi) runs every row with that binary too, alternated with
# this one; BENCH_ROUNDS=N repeats the whole sequence.
# On a machine whose cores are all busy the throughput ratio follows the
# CPU ratio; the CPU figures also hold when other work shares the machine.
#
# Needs: built binaries, wrk, a champion in the registry (run `make` first)
# or READMIT_BENCH_MODEL=FILE, and the private cluster (PostgreSQL CPU is
# "n/a" with an external server).
# Environment: READMIT_CONFIG, READMIT_BENCH_PORT (18091), READMIT_BENCH_SECONDS (10), BUILD,
#   BENCH_OTHER, BENCH_ROUNDS (1).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-build}
CONF=${READMIT_CONFIG:-$TOP/conf/readmit.yaml}
PORT=${READMIT_BENCH_PORT:-18091}
SECS=${READMIT_BENCH_SECONDS:-10}
WORK=$TOP/var/bench-log
URL=http://127.0.0.1:$PORT
LUA=$TOP/nginx/bench/predict.lua
die() { echo "bench-log: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
[ -x "$BUILD/readmit-fcgi" ] || die "build first (make build)"
mkdir -p "$WORK"
export READMIT_HOME=$WORK READMIT_CONFIG=$CONF READMIT_FCGI=$TOP/$BUILD/readmit-fcgi \
    READMIT_HTTP_PORT=$PORT READMIT_ACCESS_LOG=off
MODEL_OPTS=${READMIT_BENCH_MODEL:+--model $READMIT_BENCH_MODEL}
serve() { READMIT_FCGI_OPTS="$1" "$TOP/scripts/serve.sh" "${@:2}" >/dev/null; }
trap 'serve "" stop || true' EXIT
BUILD=$BUILD READMIT_CONFIG=$CONF scripts/bench-bodies.sh "$WORK" >/dev/null

HZ=$(getconf CLK_TCK)
PM=$(sed -n 1p "${READMIT_PGDIR:-$TOP/var/pg}/data/postmaster.pid" 2>/dev/null || true)
[ -n "${PGHOST:-}${DATABASE_URL:-}" ] && PM=
ticks() { # utime + stime of the given processes
    local s=0 p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo $s
}
reaped() { awk '{print $16 + $17}' "/proc/$1/stat" 2>/dev/null || echo 0; } # children waited for
tree() { local p; for p in $(pgrep -P "$1" || true); do echo "$p"; tree "$p"; done; }
cpu_tree() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }; echo $(($(ticks "$1" $(tree "$1")) + $(reaped "$1"))); }
pool_pid() { cat "$WORK/var/run/readmit-fcgi.pid"; }
nginx_pid() { cat "$WORK/var/nginx/nginx.pid"; }

# utime + stime of every thread of every worker: "worker thread ticks" lines
thread_ticks() {
    local w t
    for w in $(pgrep -P "$(pool_pid)" || true); do
        for t in /proc/"$w"/task/*; do
            echo "$w ${t##*/} $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0)"
        done
    done
}
# ticks of the log's threads between two thread_ticks files: per worker, all
# but the busiest thread and the main one
log_ticks() {
    awk 'NR == FNR {a[$1 " " $2] = $3; next}
         ($1 " " $2) in a && $1 != $2 {d = $3 - a[$1 " " $2]; s[$1] += d; if (d > m[$1]) m[$1] = d}
         END {for (w in s) t += s[w] - m[w]; print t + 0}' "$1" "$2"
}

declare -A RPS CPU
measure() { # label conns
    local p0 n0 g0 p1 n1 g1 out req lt
    thread_ticks >"$WORK/threads0"
    p0=$(cpu_tree "$(pool_pid)") n0=$(cpu_tree "$(nginx_pid)") g0=$(cpu_tree "$PM")
    out=$({ /usr/bin/time -f 'WRKCPU %U %S' wrk -t2 -c"$2" -d"${SECS}s" --timeout 10s -s "$LUA" \
        "$URL/api/v1/predict" -- "$WORK/single.jsonl"; } 2>&1 | grep -E 'RESULT|WRKCPU')
    sleep 1.5 # the writers' last batches (monitor.flush_ms) reach the database
    p1=$(cpu_tree "$(pool_pid)") n1=$(cpu_tree "$(nginx_pid)") g1=$(cpu_tree "$PM")
    thread_ticks >"$WORK/threads1"
    lt=$(log_ticks "$WORK/threads0" "$WORK/threads1")
    req=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$out")
    RPS[$1,$2]=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$out")
    local line
    line=$(awk -v l="$1" -v c="$2" -v r="${RPS[$1,$2]}" -v n="$req" -v p=$((p1 - p0)) -v x=$((n1 - n0)) \
        -v g=$((g1 - g0)) -v pg="$PM" -v w="$(awk '/WRKCPU/ {print ($2 + $3)}' <<<"$out")" -v hz="$HZ" \
        -v lt="$lt" 'BEGIN { k = 1e6 / n / hz; w *= hz
                 printf "| %s | %d | %.0f | %.1f | %.1f | %s | %.1f | %.1f | %.2f |", l, c, r, p * k, x * k,
                        pg ? sprintf("%.1f", g * k) : "n/a", w * k, (p + x + g + w) * k, lt * k }')
    echo "$line"
    CPU[$1,$2]=$(awk -F'|' '{print $5 + 0, $7 + 0, $9 + 0}' <<<"$line")
}
up() {
    serve "$1" start
    local i
    for i in $(seq 100); do curl -sf "$URL/api/v1/model" >/dev/null && return 0; sleep 0.1; done
    die "no model served: run make first (or set READMIT_BENCH_MODEL)"
}

echo "bench-log: load before: $(uptime)"
echo "| prediction log | connections | req/s | CPU ms per 1000 requests: pool | nginx | PostgreSQL | wrk | total | of the pool: log threads |"
echo "|---|---|---|---|---|---|---|---|---|"
[ -z "${BENCH_OTHER:-}" ] || [ -x "$BENCH_OTHER" ] || die "BENCH_OTHER: $BENCH_OTHER is not an executable"
BINS=("$TOP/$BUILD/readmit-fcgi" ${BENCH_OTHER:+"$BENCH_OTHER"})
for round in $(seq "${BENCH_ROUNDS:-1}"); do
    for bin in "${BINS[@]}"; do
        tag=""
        [ "$bin" = "${BINS[0]}" ] || tag="other "
        export READMIT_FCGI=$bin
        up "$MODEL_OPTS"
        measure "${tag}on" 32
        measure "${tag}on" 128
        serve "" stop
        up "$MODEL_OPTS -o monitor.log_fraction=0"
        measure "${tag}off" 32
        measure "${tag}off" 128
        serve "" stop
        up "$MODEL_OPTS"
        measure "${tag}on_again" 32
        measure "${tag}on_again" 128
        serve "" stop
    done
done
export READMIT_FCGI=${BINS[0]}
[ -z "${BENCH_OTHER:-}" ] || echo "bench-log: \"other\" rows: $BENCH_OTHER"
echo "bench-log: load after: $(uptime)"
for tag in "" ${BENCH_OTHER:+"other "}; do
    for c in 32 128; do
        awk -v c="$c" -v t="$tag" -v on="${RPS[${tag}on,$c]}" -v off="${RPS[${tag}off,$c]}" \
            -v again="${RPS[${tag}on_again,$c]}" -v a="${CPU[${tag}on,$c]}" -v b="${CPU[${tag}off,$c]}" 'BEGIN {
            split(a, x, " "); split(b, y, " ")
            printf "bench-log: %s%d conns (last round): log on / off = %.0f%% (on again: %.0f%%); CPU per request: %.1f us with the log, %.1f us without (pool %+.1f us, PostgreSQL %+.1f us)\n",
                   t, c, 100 * on / off, 100 * again / off, x[3], y[3], x[1] - y[1], x[2] - y[2] }'
    done
done

# The database's side alone: the batches this run logged, stored again by one
# binary COPY into a scratch database of the same schema; the server's CPU
# per prediction (private cluster only: the backend is reaped by the
# postmaster, whose children's CPU is read before and after).
if [ -n "$PM" ]; then
    DBN=$("$BUILD/readmit" config -c "$CONF" --get db.name)
    SCRATCH=readmit_bench_log_$$
    COLS="prediction_id, model_name, n, first_served, last_served, writer, seq_lo, seq_hi, served_at,
          request_id, item, encounter_id, patient_nbr, model_version, alias, probability, decision,
          threshold, latency_us, race, gender, age, input_end, inputs, input_keys, group_values, group_codes"
    psql_() { "$TOP/scripts/pg.sh" psql -v ON_ERROR_STOP=1 -qAt "$@"; }
    psql_ -d "$DBN" -c "\\copy (SELECT $COLS FROM monitor.prediction_batches ORDER BY batch_id DESC LIMIT 300) TO '$WORK/batches.bin' WITH (FORMAT binary)"
    N=$(psql_ -d "$DBN" -c "SELECT sum(n) FROM (SELECT n FROM monitor.prediction_batches ORDER BY batch_id DESC LIMIT 300) b")
    psql_ -d postgres -c "CREATE DATABASE $SCRATCH"
    "$BUILD/readmit" db migrate -c "$CONF" -o "db.name=$SCRATCH" >/dev/null
    for round in 1 2 3; do
        psql_ -d "$SCRATCH" -c 'TRUNCATE monitor.prediction_batches'
        c0=$(reaped "$PM")
        psql_ -d "$SCRATCH" -c "\\copy monitor.prediction_batches ($COLS) FROM '$WORK/batches.bin' WITH (FORMAT binary)"
        sleep 0.5
        c1=$(reaped "$PM")
        awk -v n="$N" -v t=$((c1 - c0)) -v hz="$HZ" -v r="$round" 'BEGIN {
            printf "bench-log: COPY of %d logged predictions in 300 batches, round %d: %.1f us server CPU per prediction\n", n, r, t / hz * 1e6 / n }'
    done
    psql_ -d postgres -c "DROP DATABASE $SCRATCH"
    rm -f "$WORK/batches.bin"
fi
