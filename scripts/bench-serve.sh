#!/bin/bash
# Serving benchmark (make bench-serve): wrk against the nginx + readmit-fcgi
# stack with real test-split records, single and 100-record batches at 32 and
# 128 connections, each with keep-alive connections from nginx to the pool
# off and on (scripts/serve.sh's default) and with the prediction log on and
# off; in the same run nginx alone returning static bodies of the same sizes
# and an empty FastCGI responder behind the same nginx and pool
# configuration (the ceilings). CPU per request of the pool and of nginx for
# every row. Then the scoring micro-benchmark and the reliability figures:
# failures during promote/rollback cycles under load, failures while a
# worker is SIGKILLed under load, worker memory before/after many requests.
#
# Usage: scripts/bench-serve.sh [DATA]   (make bench-serve DATA=...)
# Needs: built binaries, wrk, and a champion in the registry (make bench-serve
# first brings the pipeline up to date with the data), or
# READMIT_BENCH_MODEL=FILE. The records: the test split of DATA, else as
# scripts/bench-bodies.sh finds them (READMIT_DATA, data.source,
# READMIT_REAL_DATA), synthetic only when there is no data. Every part that
# could not run is a NOT RUN row, with the reason, in the last table.
# Environment: READMIT_CONFIG, READMIT_BENCH_PORT (18090), READMIT_BENCH_SECONDS (10),
#   READMIT_BENCH_RSS_REQUESTS (1000000), READMIT_BENCH_CYCLES (10),
#   READMIT_BENCH_ALTERNATE (5: rounds of the log on / off alternation), BUILD (build).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-build}
FCGI=$TOP/$BUILD/readmit-fcgi
BENCH=$TOP/$BUILD/readmit-fcgi-bench
READMIT=$TOP/$BUILD/readmit
CONF=${READMIT_CONFIG:-$TOP/conf/readmit.yaml}
PORT=${READMIT_BENCH_PORT:-18090}
SECS=${READMIT_BENCH_SECONDS:-10}
RSS_N=${READMIT_BENCH_RSS_REQUESTS:-1000000}
CYCLES=${READMIT_BENCH_CYCLES:-10}
WORK=$TOP/var/bench
URL=http://127.0.0.1:$PORT
LUA=$TOP/nginx/bench/predict.lua

DATA=${1:-}

die() { echo "bench-serve: $*" >&2; exit 1; }
# what each part of the benchmark did, in order, for the last table
declare -A PART
ORDER=()
part() { ORDER+=("$1"); PART[$1]=$2; }
command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
[ -x "$FCGI" ] && [ -x "$BENCH" ] && [ -x "$READMIT" ] || die "build first (make build)"
mkdir -p "$WORK"

export READMIT_HOME=$WORK READMIT_CONFIG=$CONF READMIT_FCGI=$FCGI READMIT_HTTP_PORT=$PORT \
    READMIT_ACCESS_LOG=off
MODEL_OPTS=${READMIT_BENCH_MODEL:+--model $READMIT_BENCH_MODEL}
serve() { READMIT_FCGI_OPTS="$1" "$TOP/scripts/serve.sh" "${@:2}" >/dev/null; }
cleanup() {
    if [ -n "${LOADPID:-}" ]; then kill "$LOADPID" 2>/dev/null || true; fi
    serve "" stop || true
}
trap cleanup EXIT

# ---- request bodies: test-split records ----
BUILD=$BUILD READMIT_CONFIG=$CONF "$TOP/scripts/bench-bodies.sh" "$WORK" ${DATA:+"$DATA"} >/dev/null
part "request bodies" "$(cat "$WORK/source.txt")"

# ---- throughput ----
# CPU time (user + system, clock ticks) of processes, read from /proc: the
# pool (supervisor and workers, every thread) and nginx (master and workers).
# Per request it is the figure to compare on a machine shared with other
# work, where wall rates count the time others ran.
cpu_ticks() {
    local p s=0 t
    for p in "$@"; do
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
        s=$((s + ${t:-0}))
    done
    echo "$s"
}
pool_pids() {
    local sup
    sup=$(cat "$WORK/var/run/readmit-fcgi.pid" 2>/dev/null) || return 0
    echo "$sup $(pgrep -P "$sup" | tr '\n' ' ')"
}
nginx_pids() {
    local m
    m=$(cat "$WORK/var/nginx/nginx.pid" 2>/dev/null) || return 0
    echo "$m $(pgrep -P "$m" | tr '\n' ' ')"
}
TCK=$(getconf CLK_TCK)
declare -A RPS P50 P99 ERR PCPU NCPU
run_wrk() { # name conns path bodies
    local out pp np p0 n0 p1 n1 nreq
    pp=$(pool_pids)
    np=$(nginx_pids)
    # shellcheck disable=SC2086 # lists of pids
    p0=$(cpu_ticks $pp) n0=$(cpu_ticks $np)
    out=$(wrk -t2 -c"$2" -d"${SECS}s" --timeout 10s -s "$LUA" "$URL$3" -- "$4" | grep RESULT)
    # shellcheck disable=SC2086
    p1=$(cpu_ticks $pp) n1=$(cpu_ticks $np)
    nreq=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$out")
    PCPU[$1,$2]=$(awk -v a="$p0" -v b="$p1" -v n="$nreq" -v t="$TCK" 'BEGIN {printf "%.1f", (n > 0 ? (b - a) / t * 1e6 / n : 0)}')
    NCPU[$1,$2]=$(awk -v a="$n0" -v b="$n1" -v n="$nreq" -v t="$TCK" 'BEGIN {printf "%.1f", (n > 0 ? (b - a) / t * 1e6 / n : 0)}')
    RPS[$1,$2]=$(sed 's/.*rps=\([0-9.]*\).*/\1/' <<<"$out")
    P50[$1,$2]=$(sed 's/.*p50_ms=\([0-9.]*\).*/\1/' <<<"$out")
    P99[$1,$2]=$(sed 's/.*p99_ms=\([0-9.]*\).*/\1/' <<<"$out")
    ERR[$1,$2]=$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^(non200|sockerr)=/) {split($i, a, "="); s += a[2]}} END {print s + 0}' <<<"$out")
}

# Every configuration with keep-alive to the pool off and on (serve.sh's
# default: on), in this run. The empty responder: readmit-fcgi-bench, the
# same pool code with a constant answer; the static rows: nginx alone.
ready() { local i; for i in $(seq 100); do curl -sf "$URL/api/v1/model" >/dev/null && return 0; sleep 0.1; done; return 0; }
# The prediction log's counters of the running pool: served logged spilled replayed dropped lag
log_counts() {
    curl -s "$URL/metrics" | awk '/^readmit_predictions_total/ {s = $2} /outcome="logged"/ {l = $2}
        /outcome="spilled"/ {p = $2} /outcome="replayed"/ {r = $2} /outcome="dropped"/ {d = $2}
        /^readmit_prediction_log_lag_seconds/ {g = $2}
        END {printf "%d %d %d %d %d %s\n", s, l, p, r, d, (g == "" ? "n/a" : g)}'
}
spill_files() { find "$WORK/var/spill" -type f 2>/dev/null | wc -l; }
# After a session with the log on: wait (at most 180 s) until every record is
# in the database (no spill file left, lag 0), so that no replay runs during
# the next rows, and say what the log did with the session's predictions.
drain() { # label
    local t0 t1 i served logged spilled replayed dropped lag
    t0=$(date +%s.%N)
    for i in $(seq 1800); do
        read -r served logged spilled replayed dropped lag < <(log_counts)
        [ "$(spill_files)" = 0 ] && awk -v g="$lag" 'BEGIN {exit !(g != "n/a" && g + 0 == 0)}' && break
        sleep 0.1
    done
    t1=$(date +%s.%N)
    read -r served logged spilled replayed dropped lag < <(log_counts)
    part "prediction log, $1" "$served predictions served: $logged logged by the writer as they came, $spilled spilled to file ($replayed replayed from it), $dropped dropped; in the database $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s after the load ended (lag now ${lag} s, spill files left: $(spill_files))"
}
session() { # keep-alive(on|off) fcgi-options rows...: start, run each row (name:path:bodies), stop
    local keep=$1 opts=$2 r c name path bodies
    shift 2
    READMIT_KEEP_CONN=$keep serve "$opts" start
    ready
    for c in 32 128; do
        for r in "$@"; do
            IFS=: read -r name path bodies <<<"$r"
            run_wrk "$name" "$c" "$path" "$WORK/$bodies.jsonl"
        done
    done
    case $opts in *--empty* | *log_fraction=0*) ;; *) drain "keep-alive $keep, rows ${*%%:*}" ;; esac
    serve "" stop
}
P=/api/v1/predict
READMIT_FCGI=$BENCH session off "--empty" static:/bench/static:single static_batch:/bench/static-batch:batch \
    empty_off:$P:single empty_batch_off:$P:batch
READMIT_FCGI=$BENCH session on "--empty" empty:$P:single empty_batch:$P:batch
serve "$MODEL_OPTS" start
ready
curl -sf "$URL/api/v1/model" >"$WORK/model.json" || die "no model served: run make first (or set READMIT_BENCH_MODEL)"
serve "" stop
served="the champion of the registry"
[ -z "${READMIT_BENCH_MODEL:-}" ] || served="the file $READMIT_BENCH_MODEL"
part "model" "$(jq -r '.name + " version " + .version + " (" + .type + ")"' "$WORK/model.json"), $served"
# with the log on, single records and batches each in a session of their own:
# a session ends when the log has caught up, so what batches spill is not
# replayed while single records are measured
session off "$MODEL_OPTS" single_off:$P:single
session off "$MODEL_OPTS" batch_off:$P:batch
# the prediction log off (monitor.log_fraction = 0)
session off "$MODEL_OPTS -o monitor.log_fraction=0" nolog_off:$P:single nolog_batch_off:$P:batch
session on "$MODEL_OPTS -o monitor.log_fraction=0" nolog:$P:single nolog_batch:$P:batch
session on "$MODEL_OPTS" single:$P:single
session on "$MODEL_OPTS" batch:$P:batch
# ---- the log's cost, alternated ----
# One record per request at 32 connections, keep-alive on, the log on and
# off in turn, ALT rounds of a fresh pool each: the median of each side's
# requests/s (one pair of rows above swings with whatever else the machine
# does), and the machine's busy CPU per request (/proc/stat: every process,
# wrk and PostgreSQL included), whose ratio is what the log costs when the
# cores are the limit.
ALT=${READMIT_BENCH_ALTERNATE:-5}
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
alt_rps=() alt_busy=()
for i in $(seq "$ALT"); do
    for side in on off; do
        opts=$MODEL_OPTS
        [ $side = on ] || opts="$opts -o monitor.log_fraction=0"
        serve "$opts" start
        ready
        b0=$(machine_busy)
        out=$(wrk -t2 -c32 -d"${SECS}s" --timeout 10s -s "$LUA" "$URL$P" -- "$WORK/single.jsonl" | grep RESULT)
        b1=$(machine_busy)
        [ $side = off ] || drain "alternation $i, log on" >/dev/null
        serve "" stop
        n=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$out")
        alt_rps+=("$side $(sed 's/.*rps=\([0-9.]*\).*/\1/' <<<"$out")")
        alt_busy+=("$side $(awk -v a="$b0" -v b="$b1" -v n="$n" -v t="$TCK" 'BEGIN {printf "%.2f", (n > 0 ? (b - a) / t * 1e6 / n : 0)}')")
    done
done
serve "$MODEL_OPTS" start
ready
threads=$("$FCGI" -c "$CONF" $MODEL_OPTS --print-config | sed -n 's/^threads=//p')
workers=$("$FCGI" -c "$CONF" $MODEL_OPTS --print-config | sed -n 's/^workers=//p')

echo
echo "records: ${PART[request bodies]}"
echo "model: ${PART[model]}"
echo "pool: $workers workers x $threads threads; keep-alive on: fastcgi_keep_conn on + upstream keepalive ${READMIT_KEEPALIVE:-64} (scripts/serve.sh)"
echo
echo "load before the table: $(uptime | sed 's/.*load average/load average/')"
echo "CPU columns: CPU time (user + system) of the pool processes (supervisor, workers, every thread) and of nginx (master and workers) during the run, per request (batches: per record), in us: a figure that does not count the time other work ran"
echo "x static: requests/s as a multiple of nginx alone answering a static body of the same size (one prediction, or a batch of 100) at the same connections; CPU x static: pool + nginx CPU per request over nginx's CPU per static request"
echo
echo "| configuration | 32 conns req/s | x static | p50 | p99 | errors | pool CPU us | nginx CPU us | CPU x static | 128 conns req/s | x static | p50 | p99 | errors | pool CPU us | nginx CPU us | CPU x static |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
row() { # name label multiplier(1: one record, 100: batches)
    local l="| $2" c ref=static
    [ "$3" = 1 ] || ref=static_batch
    for c in 32 128; do
        l="$l | $(awk -v r="${RPS[$1,$c]}" -v m="$3" 'BEGIN {printf "%.0f%s", r * m, (m > 1 ? " rows/s" : "")}')"
        l="$l | $(awk -v r="${RPS[$1,$c]}" -v s="${RPS[$ref,$c]}" 'BEGIN {printf "%.2f", (s > 0 ? r / s : 0)}')"
        l="$l | ${P50[$1,$c]} ms | ${P99[$1,$c]} ms | ${ERR[$1,$c]}"
        l="$l | $(awk -v a="${PCPU[$1,$c]}" -v m="$3" 'BEGIN {printf "%.1f", a / m}') | $(awk -v a="${NCPU[$1,$c]}" -v m="$3" 'BEGIN {printf "%.1f", a / m}')"
        l="$l | $(awk -v a="${PCPU[$1,$c]}" -v b="${NCPU[$1,$c]}" -v s="${NCPU[$ref,$c]}" 'BEGIN {printf "%.2f", (s > 0 ? (a + b) / s : 0)}')"
    done
    echo "$l |"
}
row static "nginx alone, static body of one prediction's size" 1
row static_batch "nginx alone, static body of a batch answer's size (100 records)" 100
row empty_off "nginx -> empty FastCGI responder, keep-alive off" 1
row empty "nginx -> empty FastCGI responder, keep-alive on" 1
row empty_batch_off "nginx -> empty FastCGI responder, batch bodies, keep-alive off" 100
row empty_batch "nginx -> empty FastCGI responder, batch bodies, keep-alive on" 100
row single_off "nginx -> readmit-fcgi, one record per request, log on, keep-alive off" 1
row single "nginx -> readmit-fcgi, one record per request, log on, keep-alive on" 1
row nolog_off "nginx -> readmit-fcgi, one record per request, log off, keep-alive off" 1
row nolog "nginx -> readmit-fcgi, one record per request, log off, keep-alive on" 1
row batch_off "nginx -> readmit-fcgi, batches of 100, log on, keep-alive off" 100
row batch "nginx -> readmit-fcgi, batches of 100, log on, keep-alive on" 100
row nolog_batch_off "nginx -> readmit-fcgi, batches of 100, log off, keep-alive off" 100
row nolog_batch "nginx -> readmit-fcgi, batches of 100, log off, keep-alive on" 100
pct() { awk -v a="${RPS[$1,$3]}" -v b="${RPS[$2,$3]}" 'BEGIN {printf "%.0f%%", (b > 0 ? 100 * a / b : 0)}'; }
for c in 32 128; do
    echo "ratios at $c conns: keep-alive on / off: single $(pct single single_off "$c"), log off $(pct nolog nolog_off "$c"), batches $(pct batch batch_off "$c"), empty responder $(pct empty empty_off "$c");" \
        "single / empty responder without keep-alive $(pct single empty_off "$c") (log off $(pct nolog empty_off "$c"));" \
        "log on / log off: single $(pct single nolog "$c"), batches $(pct batch nolog_batch "$c")"
done
better=on
awk -v a="${RPS[single,32]}" -v b="${RPS[single_off,32]}" 'BEGIN {exit !(a < b)}' && better=off
echo "keep-alive to the pool: $better is the better in this run (one record, 32 connections); scripts/serve.sh ships on"
echo "targets (32 connections; wall rates hold only on a quiet machine): one record >= 1.3x the empty responder without keep-alive:" \
    "$(awk -v a="${RPS[single,32]}" -v b="${RPS[empty_off,32]}" 'BEGIN {printf "%.2fx", (b > 0 ? a / b : 0)}') (log off $(awk -v a="${RPS[nolog,32]}" -v b="${RPS[empty_off,32]}" 'BEGIN {printf "%.2fx", (b > 0 ? a / b : 0)}'));" \
    "p99 < 5 ms: ${P99[single,32]} ms (log off ${P99[nolog,32]} ms); batches >= 400,000 records/s:" \
    "$(awk -v r="${RPS[batch,32]}" 'BEGIN {printf "%.0f", r * 100}') (log off $(awk -v r="${RPS[nolog_batch,32]}" 'BEGIN {printf "%.0f", r * 100}')); errors in all rows: $(for k in "${!ERR[@]}"; do echo "${ERR[$k]}"; done | awk '{s += $1} END {print s + 0}')"

median() { # side, then "side value" lines on stdin
    awk -v s="$1" '$1 == s {v[++n] = $2} END {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) {t = v[i]; v[i] = v[j]; v[j] = t}
        printf "%s", (n ? (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2) : 0)}'
}
ron=$(printf '%s\n' "${alt_rps[@]}" | median on) roff=$(printf '%s\n' "${alt_rps[@]}" | median off)
con=$(printf '%s\n' "${alt_busy[@]}" | median on) coff=$(printf '%s\n' "${alt_busy[@]}" | median off)
echo "log on / off alternated ($ALT rounds of ${SECS} s, one record per request, 32 connections, keep-alive on): median $ron vs $roff req/s" \
    "($(awk -v a="$ron" -v b="$roff" 'BEGIN {printf "%.0f%%", (b > 0 ? 100 * a / b : 0)}'));" \
    "machine CPU per request (every process) $con vs $coff us ($(awk -v a="$con" -v b="$coff" 'BEGIN {printf "%.0f%%", (a > 0 ? 100 * b / a : 0)}') of the cost with the log on);" \
    "each round: $(paste -d' ' <(printf '%s\n' "${alt_rps[@]}") <(printf '%s\n' "${alt_busy[@]}" | cut -d' ' -f2) | awk '{printf "%s%s %.0f req/s %.1f us", (NR > 1 ? ", " : ""), $1, $2, $3}')"

# ---- scoring micro-benchmark ----
mpath=$(awk '{print $3}' "$WORK"/var/models/serving-*.txt 2>/dev/null | head -n 1 || true) # none when READMIT_BENCH_MODEL pins a file
[ -n "${READMIT_BENCH_MODEL:-}" ] && mpath=$READMIT_BENCH_MODEL
case $mpath in /* | "") ;; *) mpath=$WORK/$mpath ;; esac
if [ -n "$mpath" ] && [ -f "$mpath" ]; then
    part "scoring, one record per body" "$("$BENCH" -c "$CONF" --model "$mpath" --bench-score "$WORK/single.jsonl" | sed 's/^BENCH_SCORE *//')"
    part "scoring, batches of 100" "$("$BENCH" -c "$CONF" --model "$mpath" --bench-score "$WORK/batch.jsonl" | sed 's/^BENCH_SCORE *//')"
else
    part "scoring micro-benchmark" "NOT RUN: no model file found (${mpath:-none named in $WORK/var/models/serving-*.txt})"
fi

# ---- reliability ----
load() { # seconds -> background wrk, result in $WORK/load.txt
    wrk -t2 -c16 -d"$1s" --timeout 10s -s "$LUA" "$URL/api/v1/predict" -- "$WORK/single.jsonl" >"$WORK/load.txt" 2>&1 &
    LOADPID=$!
}
load_result() { # not in $(...): wait needs this shell
    wait "$LOADPID" || true
    LOADPID=
    LOAD_RESULT=$(grep RESULT "$WORK/load.txt" | sed 's/^RESULT //')
}
version() { curl -s "$URL/api/v1/model" | jq -r .version; }
wait_version() { local i; for i in $(seq 100); do [ "$(version)" = "$1" ] && return 0; sleep 0.1; done; return 1; }

# promote/rollback cycles need a previous champion: with a single version,
# train and register a second one (a different learning rate) and make it the
# champion first (the gate may have made it the challenger)
can_rollback() {
    "$READMIT" rollback -c "$CONF" -q >/dev/null 2>"$WORK/cycle.err"
}
newest_version() { "$READMIT" versions -c "$CONF" --json | jq '.[0].version // 0'; }
SKIP_CYCLES=""
second_version() {
    echo "reliability: training and registering a second version for the promote/rollback cycles" >&2
    local before after
    before=$(newest_version)
    if ! "$READMIT" train -c "$CONF" -q -o train.gbt.learning_rate=0.1 -o train.logreg.enabled=false \
        -o train.baseline.enabled=false >/dev/null 2>"$WORK/cycle.err" ||
        ! "$READMIT" register -c "$CONF" -q -o registry.min_gain=-1 >/dev/null 2>>"$WORK/cycle.err"; then
        SKIP_CYCLES="no second version: $(tail -n 1 "$WORK/cycle.err")"
        return 1
    fi
    after=$(newest_version)
    if [ "$after" = "$before" ]; then
        SKIP_CYCLES="training a second version registered none"
        return 1
    fi
    if ! "$READMIT" promote -c "$CONF" -q "$after" --reason "bench-serve: promote/rollback cycles" \
        >/dev/null 2>"$WORK/cycle.err" || ! wait_version "$after"; then
        SKIP_CYCLES="version $after was registered but not served within 10 s $(tail -n 1 "$WORK/cycle.err")"
        return 1
    fi
}
v0=$(version)
orig=$v0
rolled=0
if [ -n "${READMIT_BENCH_MODEL:-}" ]; then
    SKIP_CYCLES="READMIT_BENCH_MODEL pins the pool to a file: there are no registry moves to follow"
elif can_rollback; then
    rolled=1
elif second_version; then
    v0=$(version)
    if can_rollback; then
        rolled=1
    else
        SKIP_CYCLES="rollback from version $v0 failed: $(tail -n 1 "$WORK/cycle.err")"
    fi
fi
if [ "$rolled" = 1 ]; then
    for i in $(seq 100); do [ "$(version)" != "$v0" ] && break; sleep 0.1; done
    v1=$(version)
    "$READMIT" promote -c "$CONF" -q "$v0" >/dev/null && wait_version "$v0"
    load $((CYCLES * 2 + 4))
    sleep 1
    for i in $(seq "$CYCLES"); do
        "$READMIT" rollback -c "$CONF" -q >/dev/null && wait_version "$v1" || echo "cycle $i: rollback not seen"
        "$READMIT" promote -c "$CONF" -q "$v0" >/dev/null && wait_version "$v0" || echo "cycle $i: promote not seen"
    done
    load_result
    part "promote/rollback cycles under load" "$CYCLES cycles (v$v0 <-> v$v1): $LOAD_RESULT"
    if [ "$v0" != "$orig" ]; then # leave the champion as it was found
        "$READMIT" promote -c "$CONF" -q "$orig" >/dev/null && wait_version "$orig" || true
    fi
else
    part "promote/rollback cycles under load" "NOT RUN: $SKIP_CYCLES"
fi

load 6
sleep 2
sup=$(cat "$WORK/var/run/readmit-fcgi.pid")
victim=$(pgrep -P "$sup" | head -n 1)
kill -9 "$victim"
load_result
sleep 1
part "a worker SIGKILLed under load" "worker $victim: $LOAD_RESULT; workers after: $(pgrep -P "$sup" | wc -l), restarts: $(curl -s "$URL/metrics" | awk '/^readmit_worker_restarts_total/ {print $2}')"

rss() { local p s=""; for p in $(pgrep -P "$sup" | sort); do s="$s $(awk '/VmRSS/ {print $2}' /proc/"$p"/status)kB"; done; echo "${s# }"; }
before=$(rss)
rate=${RPS[single,32]%.*}
dur=$(( RSS_N / (rate > 0 ? rate : 1000) + 1 ))
wrk -t2 -c32 -d"${dur}s" -s "$LUA" "$URL/api/v1/predict" -- "$WORK/single.jsonl" >"$WORK/rss.txt" 2>&1
n=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' "$WORK/rss.txt")
part "worker memory" "RSS before: $before; after $n more requests: $(rss)"

echo
echo "| part | result |"
echo "|---|---|"
for k in "${ORDER[@]}"; do echo "| $k | ${PART[$k]} |"; done
