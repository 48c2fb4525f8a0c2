#!/bin/bash
# Serving benchmark (make bench-serve): wrk against the nginx + readmit-fcgi
# stack with real test-split records, single and 100-record batches at 32 and
# 128 connections; in the same run nginx alone returning a body of the same
# size, and an empty FastCGI responder behind the same nginx and pool
# configuration (the ceilings); then single and batches again with
# keep-alive connections from nginx to the pool (READMIT_BENCH_KA_THREADS
# threads per worker, default 32). Then the scoring micro-benchmark and the
# reliability figures: failures during promote/rollback cycles under load,
# failures while a worker is SIGKILLed under load, worker memory before/after
# many requests.
#
# Needs: built binaries, wrk, and a champion in the registry (run `make`
# first), or READMIT_BENCH_MODEL=FILE. The data: data.source from the config
# (the UCI zip or CSV), READMIT_DATA, or synthetic records when absent.
# Environment: READMIT_CONFIG, READMIT_BENCH_PORT (18090), READMIT_BENCH_SECONDS (10),
#   READMIT_BENCH_RSS_REQUESTS (1000000), READMIT_BENCH_CYCLES (10), BUILD (build).
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

die() { echo "bench-serve: $*" >&2; exit 1; }
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
BUILD=$BUILD READMIT_CONFIG=$CONF "$TOP/scripts/bench-bodies.sh" "$WORK"
echo "bodies: $(wc -l <"$WORK/single.jsonl") single, $(wc -l <"$WORK/batch.jsonl") batches of 100"

# ---- throughput ----
declare -A RPS P50 P99 ERR
run_wrk() { # name conns path bodies
    local out
    out=$(wrk -t2 -c"$2" -d"${SECS}s" --timeout 10s -s "$LUA" "$URL$3" -- "$4" | grep RESULT)
    RPS[$1,$2]=$(sed 's/.*rps=\([0-9.]*\).*/\1/' <<<"$out")
    P50[$1,$2]=$(sed 's/.*p50_ms=\([0-9.]*\).*/\1/' <<<"$out")
    P99[$1,$2]=$(sed 's/.*p99_ms=\([0-9.]*\).*/\1/' <<<"$out")
    ERR[$1,$2]=$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^(non200|sockerr)=/) {split($i, a, "="); s += a[2]}} END {print s + 0}' <<<"$out")
}

# the empty responder: readmit-fcgi-bench, the same pool code with a constant answer
READMIT_FCGI=$BENCH serve "--empty" start
sleep 0.5
for c in 32 128; do
    run_wrk static "$c" /bench/static "$WORK/single.jsonl"
    run_wrk empty "$c" /api/v1/predict "$WORK/single.jsonl"
done
serve "" stop
serve "$MODEL_OPTS" start
for i in $(seq 100); do curl -sf "$URL/api/v1/model" >/dev/null && break; sleep 0.1; done
curl -sf "$URL/api/v1/model" >"$WORK/model.json" || die "no model served: run make first (or set READMIT_BENCH_MODEL)"
echo "model: $(jq -r '.name + " version " + .version + " (" + .type + ")"' "$WORK/model.json")"
for c in 32 128; do
    run_wrk single "$c" /api/v1/predict "$WORK/single.jsonl"
    run_wrk batch "$c" /api/v1/predict "$WORK/batch.jsonl"
done
# the same with the prediction log off (monitor.log_fraction = 0), in this run
serve "" stop
serve "$MODEL_OPTS -o monitor.log_fraction=0" start
for i in $(seq 100); do curl -sf "$URL/api/v1/model" >/dev/null && break; sleep 0.1; done
for c in 32 128; do
    run_wrk nolog "$c" /api/v1/predict "$WORK/single.jsonl"
done
serve "" stop
serve "$MODEL_OPTS" start
for i in $(seq 100); do curl -sf "$URL/api/v1/model" >/dev/null && break; sleep 0.1; done

# keep-alive to the pool: fastcgi_keep_conn on, an upstream keepalive pool,
# and threads enough for the connections nginx keeps open (each holds one)
KA_THREADS=${READMIT_BENCH_KA_THREADS:-32}
serve "" stop
READMIT_KEEP_CONN=on serve "$MODEL_OPTS --threads $KA_THREADS" start
for i in $(seq 100); do curl -sf "$URL/api/v1/model" >/dev/null && break; sleep 0.1; done
for c in 32 128; do
    run_wrk single_ka "$c" /api/v1/predict "$WORK/single.jsonl"
    run_wrk batch_ka "$c" /api/v1/predict "$WORK/batch.jsonl"
done
serve "" stop
serve "$MODEL_OPTS" start
for i in $(seq 100); do curl -sf "$URL/api/v1/model" >/dev/null && break; sleep 0.1; done

echo
echo "| configuration | 32 conns req/s | p50 | p99 | errors | 128 conns req/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|---|---|---|---|"
row() { # name label multiplier
    local l="| $2"
    for c in 32 128; do
        l="$l | $(awk -v r="${RPS[$1,$c]}" -v m="$3" 'BEGIN {printf "%.0f%s", r * m, (m > 1 ? " rows/s" : "")}') | ${P50[$1,$c]} ms | ${P99[$1,$c]} ms | ${ERR[$1,$c]}"
    done
    echo "$l |"
}
row static "nginx alone, static body of the same size" 1
row empty "nginx -> empty FastCGI responder (same pool config)" 1
row single "nginx -> readmit-fcgi, one record per request (prediction log on)" 1
row nolog "nginx -> readmit-fcgi, one record per request, prediction log off" 1
row batch "nginx -> readmit-fcgi, batches of 100 records" 100
row single_ka "... keep-alive to the pool ($KA_THREADS threads per worker), one record" 1
row batch_ka "... keep-alive to the pool ($KA_THREADS threads per worker), batches of 100" 100
for c in 32 128; do
    echo "ratio at $c conns: single / empty responder = $(awk -v a="${RPS[single,$c]}" -v b="${RPS[empty,$c]}" 'BEGIN {printf "%.0f%%", 100 * a / b}'),"\
        "single / nginx static = $(awk -v a="${RPS[single,$c]}" -v b="${RPS[static,$c]}" 'BEGIN {printf "%.1f%%", 100 * a / b}'),"\
        "log on / log off = $(awk -v a="${RPS[single,$c]}" -v b="${RPS[nolog,$c]}" 'BEGIN {printf "%.0f%%", 100 * a / b}'),"\
        "keep-alive single / empty responder = $(awk -v a="${RPS[single_ka,$c]}" -v b="${RPS[empty,$c]}" 'BEGIN {printf "%.0f%%", 100 * a / b}')"
done

# ---- scoring micro-benchmark ----
mpath=$(awk '{print $3}' "$WORK"/var/models/serving-*.txt 2>/dev/null | head -n 1)
[ -n "${READMIT_BENCH_MODEL:-}" ] && mpath=$READMIT_BENCH_MODEL
case $mpath in /* | "") ;; *) mpath=$WORK/$mpath ;; esac
if [ -n "$mpath" ] && [ -f "$mpath" ]; then
    "$BENCH" -c "$CONF" --model "$mpath" --bench-score "$WORK/single.jsonl" | sed 's/^BENCH_SCORE/scoring, one record per body:/'
    "$BENCH" -c "$CONF" --model "$mpath" --bench-score "$WORK/batch.jsonl" | sed 's/^BENCH_SCORE/scoring, batches of 100:/'
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
# train and register a second one (a different learning rate) first
can_rollback() {
    "$READMIT" rollback -c "$CONF" -q >/dev/null 2>&1
}
second_version() {
    echo "reliability: registering a second version for the promote/rollback cycles" >&2
    "$READMIT" train -c "$CONF" -q -o train.gbt.learning_rate=0.1 -o train.logreg.enabled=false \
        -o train.baseline.enabled=false >/dev/null &&
        "$READMIT" register -c "$CONF" -q -o registry.min_gain=-1 >/dev/null &&
        wait_version "$(($(version) + 1))"
}
v0=$(version)
orig=$v0
rolled=0
if [ -z "${READMIT_BENCH_MODEL:-}" ]; then
    if can_rollback; then
        rolled=1
    elif second_version; then
        v0=$(version)
        can_rollback && rolled=1
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
    echo "reliability: $CYCLES promote/rollback cycles (v$v0 <-> v$v1) under load: $LOAD_RESULT"
    if [ "$v0" != "$orig" ]; then # leave the champion as it was found
        "$READMIT" promote -c "$CONF" -q "$orig" >/dev/null && wait_version "$orig" || true
    fi
else
    echo "reliability: promote/rollback cycles skipped (needs a registry champion with a previous champion)"
fi

load 6
sleep 2
sup=$(cat "$WORK/var/run/readmit-fcgi.pid")
victim=$(pgrep -P "$sup" | head -n 1)
kill -9 "$victim"
load_result
echo "reliability: worker $victim killed with SIGKILL under load: $LOAD_RESULT"
sleep 1
echo "reliability: workers after the kill: $(pgrep -P "$sup" | wc -l), restarts: $(curl -s "$URL/metrics" | awk '/^readmit_worker_restarts_total/ {print $2}')"

rss() { local p s=""; for p in $(pgrep -P "$sup" | sort); do s="$s $(awk '/VmRSS/ {print $2}' /proc/"$p"/status)kB"; done; echo "${s# }"; }
before=$(rss)
rate=${RPS[single,32]%.*}
dur=$(( RSS_N / (rate > 0 ? rate : 1000) + 1 ))
wrk -t2 -c32 -d"${dur}s" -s "$LUA" "$URL/api/v1/predict" -- "$WORK/single.jsonl" >"$WORK/rss.txt" 2>&1
n=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' "$WORK/rss.txt")
echo "reliability: worker RSS before: $before; after $n more requests: $(rss)"
