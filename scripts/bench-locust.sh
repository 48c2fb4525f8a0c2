#!/bin/bash
# Locust next to wrk (make bench-locust): the same endpoint (POST
# /api/v1/predict, one record per request, the same bodies), the same server,
# the same number of connections/users and the same duration, one after the
# other in one run. Prints requests/s, failures and p50/p95/p99 of each, the
# CPU Locust itself used (it is single-threaded Python: the load generator,
# not the server, is the bottleneck), and the serving processes' CPU and RSS
# under the wrk load (the figures the Kubernetes requests and limits use).
#
# Needs: built binaries, wrk, Debian's python3-locust, a champion in the
# registry (run `make` first) or READMIT_BENCH_MODEL=FILE.
# Environment: READMIT_CONFIG, READMIT_BENCH_PORT (18091),
#   READMIT_BENCH_SECONDS (20), READMIT_BENCH_USERS (32), BUILD (build).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
BUILD=${BUILD:-build}
FCGI=$TOP/$BUILD/readmit-fcgi
READMIT=$TOP/$BUILD/readmit
CONF=${READMIT_CONFIG:-$TOP/conf/readmit.yaml}
PORT=${READMIT_BENCH_PORT:-18091}
SECS=${READMIT_BENCH_SECONDS:-20}
USERS=${READMIT_BENCH_USERS:-32}
WORK=$TOP/var/bench-locust
URL=http://127.0.0.1:$PORT
LUA=$TOP/nginx/bench/predict.lua
# Debian's locust runs on Debian's python, whatever python3 is first on PATH
PY=/usr/bin/python3

die() { echo "bench-locust: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
"$PY" -c 'import locust' 2>/dev/null || die "Locust not installed (apt-get install python3-locust)"
[ -x "$FCGI" ] && [ -x "$READMIT" ] || die "build first (make build)"
[ "$SECS" -ge 1 ] && [ "$SECS" -le 600 ] || die "READMIT_BENCH_SECONDS must be 1..600"
[ "$USERS" -ge 1 ] && [ "$USERS" -le 1000 ] || die "READMIT_BENCH_USERS must be 1..1000"
mkdir -p "$WORK"

export READMIT_HOME=$WORK READMIT_CONFIG=$CONF READMIT_FCGI=$FCGI READMIT_HTTP_PORT=$PORT \
    READMIT_ACCESS_LOG=off READMIT_FCGI_OPTS=${READMIT_BENCH_MODEL:+--model $READMIT_BENCH_MODEL}
serve() { "$TOP/scripts/serve.sh" "$@" >/dev/null; }
cleanup() {
    if [ -n "${SAMPLER:-}" ]; then kill "$SAMPLER" 2>/dev/null || true; fi
    serve stop || true
}
trap cleanup EXIT

# ---- bodies: test-split records of the configured source, else synthetic ----
BUILD=$BUILD READMIT_CONFIG=$CONF "$TOP/scripts/bench-bodies.sh" "$WORK"

serve start
for _ in $(seq 100); do curl -sf "$URL/api/v1/model" >/dev/null && break; sleep 0.1; done
curl -sf "$URL/api/v1/model" >"$WORK/model.json" || die "no model served: run make first (or set READMIT_BENCH_MODEL)"
echo "model: $(jq -r '.name + " version " + .version + " (" + .type + ")"' "$WORK/model.json")"
echo "load: $USERS connections / users, ${SECS}s each, POST /api/v1/predict, one record per request"

# ---- CPU (clock ticks) and RSS of process groups, from /proc ----
sup=$(cat "$WORK/var/run/readmit-fcgi.pid")
ngx=$(cat "$WORK/var/nginx/nginx.pid")
pids_of() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }
ticks() { local p t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
rss_kb() { local p t=0; for p in "$@"; do t=$((t + $(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done; echo "$t"; }
HZ=$(getconf CLK_TCK)
# peak RSS while loaded: sample every 0.2 s into a file
sample_rss() {
    local peak_pool=0 peak_ngx=0 a b
    while :; do
        a=$(rss_kb $(pids_of "$sup")) b=$(rss_kb $(pids_of "$ngx"))
        [ "$a" -gt "$peak_pool" ] && peak_pool=$a
        [ "$b" -gt "$peak_ngx" ] && peak_ngx=$b
        echo "$peak_pool $peak_ngx" >"$WORK/rss-peak.txt"
        sleep 0.2
    done
}
idle_pool=$(rss_kb $(pids_of "$sup")) idle_ngx=$(rss_kb $(pids_of "$ngx"))

# ---- wrk ----
sample_rss &
SAMPLER=$!
p0=$(ticks $(pids_of "$sup")) n0=$(ticks $(pids_of "$ngx")) t0=$(date +%s.%N)
wrk_out=$(/usr/bin/time -f "%U %S %e" -o "$WORK/wrk.time" wrk -t2 -c"$USERS" -d"${SECS}s" --timeout 10s \
    -s "$LUA" "$URL/api/v1/predict" -- "$WORK/single.jsonl" | grep RESULT)
read -r wu ws we <"$WORK/wrk.time"
p1=$(ticks $(pids_of "$sup")) n1=$(ticks $(pids_of "$ngx")) t1=$(date +%s.%N)
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=
read -r peak_pool peak_ngx <"$WORK/rss-peak.txt"
kv() { sed -n "s/.*[ ]$1=\([0-9.]*\).*/\1/p" <<<" $wrk_out"; }
wrk_fail=$(( $(kv non200 | cut -d. -f1) + $(kv sockerr | cut -d. -f1) ))

# ---- Locust, headless, timed with its own CPU use ----
(cd "$WORK" && READMIT_BODIES=$WORK/single.jsonl READMIT_LOCUST_TASKS=single \
    /usr/bin/time -f "%U %S %e" -o "$WORK/locust.time" \
    "$PY" -m locust -f "$TOP/locustfile.py" --host "$URL" --headless --only-summary \
    -u "$USERS" -r "$USERS" -t "${SECS}s" --csv "$WORK/locust" --loglevel WARNING \
    >"$WORK/locust.log" 2>&1) || true
[ -s "$WORK/locust_stats.csv" ] || { tail -20 "$WORK/locust.log" >&2; die "Locust produced no statistics"; }
read -r lu ls le <"$WORK/locust.time"
# the Aggregated row of Locust's CSV: request count, failures, req/s, 50%/95%/99%
loc=$("$PY" - "$WORK/locust_stats.csv" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["Name"] == "Aggregated":
        print(r["Request Count"], r["Failure Count"], r["Requests/s"], r["50%"], r["95%"], r["99%"])
PY
)
read -r l_n l_fail l_rps l_p50 l_p95 l_p99 <<<"$loc"

echo
echo "| load generator | requests | req/s | failures | p50 | p95 | p99 | generator CPU | generator CPU per request |"
echo "|---|---|---|---|---|---|---|---|---|"
awk -v n="$(kv requests)" -v r="$(kv rps)" -v f="$wrk_fail" -v a="$(kv p50_ms)" -v b="$(kv p95_ms)" \
    -v c="$(kv p99_ms)" -v u="$wu" -v s="$ws" -v e="$we" -v users="$USERS" 'BEGIN {
    printf "| wrk (2 threads, %d connections) | %d | %.1f | %d | %.1f ms | %.1f ms | %.1f ms | %.0f%% of one core | %.0f us |\n",
        users, n, r, f, a, b, c, 100 * (u + s) / e, 1e6 * (u + s) / n }'
awk -v n="$l_n" -v r="$l_rps" -v f="$l_fail" -v a="$l_p50" -v b="$l_p95" -v c="$l_p99" \
    -v u="$lu" -v s="$ls" -v e="$le" -v users="$USERS" 'BEGIN {
    printf "| Locust (1 process, %d users) | %d | %.1f | %d | %s ms | %s ms | %s ms | %.0f%% of one core | %.0f us |\n",
        users, n, r, f, a, b, c, 100 * (u + s) / e, 1e6 * (u + s) / n }'
awk -v a="$(kv rps)" -v b="$l_rps" -v lu="$lu" -v ls="$ls" -v ln="$l_n" 'BEGIN {
    printf "Locust / wrk = %.1f%%. Locust (one Python process, gevent) spends %.2f ms of CPU per request,\n", 100 * b / a, 1e3 * (lu + ls) / ln
    printf "so one core caps it near %.0f req/s whatever the server does: it is the bottleneck, not the server\n", ln / (lu + ls) }'
echo "machine load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo
awk -v p="$((p1 - p0))" -v n="$((n1 - n0))" -v hz="$HZ" -v t0="$t0" -v t1="$t1" \
    -v ip="$idle_pool" -v in_="$idle_ngx" -v pp="$peak_pool" -v pn="$peak_ngx" 'BEGIN {
    d = t1 - t0
    printf "serving under the wrk load: pool (supervisor + workers) %.2f cores, RSS %.1f MB idle, %.1f MB peak;", p / hz / d, ip / 1024, pp / 1024
    printf " nginx %.2f cores, RSS %.1f MB idle, %.1f MB peak\n", n / hz / d, in_ / 1024, pn / 1024 }'
