#!/bin/bash
# Many serving hosts behind one nginx, on one machine (make demo-cluster; the
# test tests/t/t6000-cluster.sh runs it and checks its figures).
#
# Builds a small network of Linux network namespaces joined by a bridge (all
# created here and removed on exit; needs root): a PostgreSQL host (TCP,
# scram-sha-256), three serving hosts each running readmit-fcgi on TCP, an
# nginx load balancer with an upstream of the three (keepalive,
# fastcgi_next_upstream error timeout, max_fails/fail_timeout) and a client
# that runs wrk. Traffic stays inside these namespaces. Then, under bounded
# wrk load through the balancer, it measures and prints:
#   - failed requests while one serving host is killed outright, and after;
#   - the host rejoining when it comes back;
#   - promotions reaching every host (time from `readmit promote` to the last
#     host answering with the new version) and failures meanwhile;
#   - every host serving while PostgreSQL is down, and following a promotion
#     after it returns;
#   - throughput through the balancer with 1, 2 and 3 hosts;
#   - database connections per serving host.
# Lines starting with "RESULT " are key=value figures for the test.
#
# Environment: READMIT_CLUSTER_SECONDS (5: each throughput run), BUILD (build),
#   READMIT_CLUSTER_ROWS (4000: synthetic rows for the pipeline),
#   READMIT_CLUSTER_PROMOTIONS (5), READMIT_CLUSTER_ORDER ("1 2 3": host counts of the throughput runs).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
READMIT=$TOP/$BUILD/readmit
FCGI=$TOP/$BUILD/readmit-fcgi
CONF=$TOP/conf/test.yaml
SECS=${READMIT_CLUSTER_SECONDS:-5}
ROWS=${READMIT_CLUSTER_ROWS:-4000}
PROMOTIONS=${READMIT_CLUSTER_PROMOTIONS:-5}
CONNS=32
# Each worker process serves one FastCGI connection at a time, and a connection
# the balancer keeps alive stays with its worker while idle: the balancer's
# keepalive cache (for all hosts together) must stay below one host's workers,
# or a host can be left with every worker parked on an idle connection
# (nginx's `keepalive_timeout` in the upstream bounds how long one stays idle).
WORKERS=4
KEEPALIVE=2
LUA=$TOP/nginx/bench/predict.lua
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

die() { echo "demo-cluster: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
command -v ip >/dev/null || die "ip (iproute2) not installed"
command -v wrk >/dev/null || die "wrk not installed"
[ -x "$READMIT" ] && [ -x "$FCGI" ] || die "build first (make build)"
[ "$SECS" -ge 1 ] && [ "$SECS" -le 120 ] || die "READMIT_CLUSTER_SECONDS must be 1..120"

ID=$$
W=$(mktemp -d "/tmp/readmit-cluster.XXXXXX")
chmod 755 "$W"
NET=10.77.0
declare -A ADDR=([db]=$NET.2 [s1]=$NET.11 [s2]=$NET.12 [s3]=$NET.13 [lb]=$NET.20 [cl]=$NET.30)
HOSTS=(s1 s2 s3)
ns() { echo "rdm$ID-$1"; }
in_ns() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
LOADPID=

# ---- teardown: everything this script made, by name and pid ----
cleanup() {
    local rc=$?
    [ -z "$LOADPID" ] || kill "$LOADPID" 2>/dev/null || true
    local h
    for h in "${HOSTS[@]}"; do host_kill "$h" 2>/dev/null || true; done
    [ ! -f "$W/lb/nginx.pid" ] || kill "$(cat "$W/lb/nginx.pid")" 2>/dev/null || true
    pgtcp_stop 2>/dev/null || true
    for h in sw db s1 s2 s3 lb cl; do ip netns del "$(ns "$h")" 2>/dev/null || true; done
    [ -n "${READMIT_CLUSTER_KEEP:-}" ] || rm -rf "$W"
    return $rc
}
trap cleanup EXIT

# ---- the network: a switch namespace holding the bridge, one veth per host ----
ip netns add "$(ns sw)"
ip -n "$(ns sw)" link add br0 type bridge
ip -n "$(ns sw)" link set br0 up
for h in db s1 s2 s3 lb cl; do
    ip netns add "$(ns "$h")"
    ip -n "$(ns sw)" link add "$h" type veth peer name eth0 netns "$(ns "$h")"
    ip -n "$(ns sw)" link set "$h" master br0 up
    ip -n "$(ns "$h")" addr add "${ADDR[$h]}/24" dev eth0
    ip -n "$(ns "$h")" link set eth0 up
    ip -n "$(ns "$h")" link set lo up
done
# the balancer opens a new upstream connection for each request its small
# keepalive cache cannot carry and closes it after: without reuse of
# TIME_WAIT ports it runs out of ports towards a host within a minute
# (per-namespace settings: the machine's own are untouched)
in_ns lb sysctl -q -w net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65000"
echo "network: namespaces rdm$ID-{db,s1,s2,s3,lb,cl} on a bridge, $NET.0/24"

# ---- the PostgreSQL host ----
. "$TOP/scripts/pg-tcp.sh"
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
umask 077
printf '%s\n' "$PASSWORD" >"$W/pw"
umask 022
PGTCP_EXEC="ip netns exec $(ns db)"
pgtcp_init "$W/pg" "${ADDR[db]}" 5432 "$W/pw"
rm -f "$W/pw"
export DATABASE_URL="postgresql://readmit:$PASSWORD@${ADDR[db]}:5432/readmit?connect_timeout=3"
echo "database: PostgreSQL on ${ADDR[db]}:5432 (scram-sha-256)"

# ---- the pipeline, from the client host: two versions in the registry ----
R() { (cd "$W" && in_ns cl "$READMIT" "$1" -c "$CONF" -q "${@:2}"); }
"$READMIT" synth --rows "$ROWS" --seed 7 >"$W/data.csv"
R ingest -o "data.source=$W/data.csv" --batches all >/dev/null
R clean >/dev/null
R train -o train.logreg.enabled=false -o train.baseline.enabled=false >/dev/null
R register >/dev/null
R train -o train.logreg.enabled=false -o train.baseline.enabled=false -o train.seed=2 \
    -o 'train.gbt.max_leaves=[5]' >/dev/null
R register -o registry.min_gain=-1 >/dev/null
awk -f "$TOP/nginx/bench/records.awk" "$W/data.csv" >"$W/single.jsonl"
echo "pipeline: $ROWS synthetic rows, two model versions registered"

# ---- the serving hosts ----
host_start() {
    local h=$1
    mkdir -p "$W/$h"
    (cd "$W/$h" && exec ip netns exec "$(ns "$h")" env READMIT_MODEL_CACHE="$W/$h/models" \
        setsid "$FCGI" -c "$CONF" --port 9000 --bind "${ADDR[$h]}" --workers "$WORKERS" --threads 1 \
        --pidfile "$W/$h/pid" </dev/null >>"$W/$h/log" 2>&1) &
    disown
}
host_pids() { local p; p=$(cat "$W/$1/pid" 2>/dev/null) || return 0; echo "$p $(pgrep -P "$p" | tr '\n' ' ')"; }
host_kill() { local p; p=$(host_pids "$1"); [ -z "${p// /}" ] || kill -9 $p 2>/dev/null || true; rm -f "$W/$1/pid"; }

# ---- the balancer ----
lb_render() { # number of upstream hosts
    local n=$1 i servers="" hostloc=""
    for i in $(seq "$n"); do
        servers="$servers        server ${ADDR[s$i]}:9000 max_fails=1 fail_timeout=2s;"$'\n'
    done
    for i in 1 2 3; do
        hostloc="$hostloc        location /host/$i/ {
            rewrite ^/host/$i(/.*)\$ \$1 break;
            fastcgi_pass ${ADDR[s$i]}:9000;
            include $W/lb/params;
        }"$'\n'
    done
    mkdir -p "$W/lb/tmp"
    chown nobody "$W/lb/tmp"
    cat >"$W/lb/params" <<PARAMS
fastcgi_param REQUEST_METHOD \$request_method;
fastcgi_param CONTENT_TYPE \$content_type;
fastcgi_param CONTENT_LENGTH \$content_length;
fastcgi_param DOCUMENT_URI \$uri;
fastcgi_param REQUEST_URI \$request_uri;
fastcgi_param QUERY_STRING \$query_string;
fastcgi_param SERVER_PROTOCOL \$server_protocol;
fastcgi_param REMOTE_ADDR \$remote_addr;
PARAMS
    cat >"$W/lb/nginx.conf.tmp" <<CONF
user nobody nogroup;
worker_processes 1;
pid $W/lb/nginx.pid;
error_log $W/lb/error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $W/lb/tmp/body;
    fastcgi_temp_path $W/lb/tmp/fastcgi;
    proxy_temp_path $W/lb/tmp/proxy;
    uwsgi_temp_path $W/lb/tmp/uwsgi;
    scgi_temp_path $W/lb/tmp/scgi;
    upstream pool {
$servers        keepalive $KEEPALIVE;
        keepalive_timeout 5s;
    }
    server {
        listen ${ADDR[lb]}:8080;
        location / {
            fastcgi_pass pool;
            fastcgi_keep_conn on;
            fastcgi_next_upstream error timeout;
            fastcgi_connect_timeout 1s;
            fastcgi_read_timeout 10s;
            include $W/lb/params;
        }
$hostloc    }
}
CONF
    mv "$W/lb/nginx.conf.tmp" "$W/lb/nginx.conf"
}
lb() { in_ns lb "$NGINX" -p "$W/lb" -e "$W/lb/error.log" -c "$W/lb/nginx.conf" "$@"; }

for h in "${HOSTS[@]}"; do host_start "$h"; done
LB_URL=http://${ADDR[lb]}:8080
mkdir -p "$W/lb"
lb_render 3
lb
version_of() { { in_ns cl curl -s -m 2 "$LB_URL/host/$1/api/v1/model" || true; } | jq -r '.version // empty' 2>/dev/null || true; }
for h in 1 2 3; do
    for _ in $(seq 100); do [ -n "$(version_of "$h")" ] && break; sleep 0.1; done
    [ -n "$(version_of "$h")" ] || { tail -5 "$W/s$h/log" >&2; die "serving host s$h does not answer"; }
done
echo "serving: s1 s2 s3 (readmit-fcgi, $WORKERS workers each, TCP :9000) behind nginx on $LB_URL (upstream keepalive $KEEPALIVE)"

# ---- load through the balancer ----
load() { # seconds [connections]: wrk in the background from the client host
    in_ns cl wrk -t1 -c"${2:-16}" -d"$1s" --timeout 5s -s "$LUA" "$LB_URL/api/v1/predict" -- \
        "$W/single.jsonl" >"$W/load.txt" 2>&1 &
    LOADPID=$!
}
load_wait() { # -> LOAD_FAILED, LOAD_REQUESTS, LOAD_RPS
    wait "$LOADPID" || true
    LOADPID=
    local r; r=$(grep RESULT "$W/load.txt" || echo "RESULT")
    LOAD_REQUESTS=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$r")
    LOAD_RPS=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$r")
    LOAD_P99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$r")
    LOAD_FAILED=$(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^(non200|sockerr)=/) {split($i, a, "="); s += a[2]}} END {print s + 0}' <<<"$r")
    [ -n "$LOAD_REQUESTS" ] || { cat "$W/load.txt" >&2; die "wrk printed no result"; }
}
now() { date +%s.%N; }
requests_of() { { in_ns cl curl -s -m 2 "$LB_URL/host/$1/metrics" || true; } | awk '/^readmit_http_requests_total.*route="predict"/ {s += $2} END {print s + 0}'; }

throughput() {
echo
    echo "== throughput through the balancer: 1, 2, 3 hosts ($CONNS connections, ${SECS}s each)"
    local n
    for n in ${READMIT_CLUSTER_ORDER:-1 2 3}; do
        # a fresh balancer for each: an old nginx worker still holding idle
        # keepalive connections (a reload) would park workers the new one needs
        lb -s stop
        for _ in $(seq 50); do [ -f "$W/lb/nginx.pid" ] || break; sleep 0.1; done
        lb_render "$n"
        lb
        sleep 0.5
        local h b=() share=""
        for h in 1 2 3; do b[$h]=$(requests_of "$h"); done
        load "$SECS" "$CONNS"
        load_wait
        local tw; tw=$(in_ns lb ss -Htan state time-wait | wc -l)
        for h in 1 2 3; do share="$share s$h=$(( $(requests_of "$h") - b[h] ))"; done
        RPS[$n]=$LOAD_RPS
        echo "$n host(s): $LOAD_RPS req/s (p99 $LOAD_P99 ms), $LOAD_FAILED failed; served by$share; balancer sockets in TIME_WAIT: $tw"
    done
    awk -v a="${RPS[1]}" -v b="${RPS[2]}" -v c="${RPS[3]}" -v cores="$(nproc)" 'BEGIN {
        printf "ratios: 2/1 = %.2f, 3/1 = %.2f (all hosts share %d cores with the balancer and wrk)\n", b / a, c / a, cores }'
    echo "machine load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "RESULT rps1=${RPS[1]} rps2=${RPS[2]} rps3=${RPS[3]}"
}
declare -A RPS
throughput

echo
echo "== a serving host killed outright (SIGKILL of s2's supervisor and worker) under load"
load 6 "$CONNS"
sleep 2
host_kill s2
load_wait
kill_failed=$LOAD_FAILED kill_requests=$LOAD_REQUESTS
load 3 "$CONNS"
load_wait
after_failed=$LOAD_FAILED after_requests=$LOAD_REQUESTS
echo "while killing: $kill_failed failed of $kill_requests ($CONNS connections: at most that many in flight)"
echo "after the kill: $after_failed failed of $after_requests"
echo "RESULT kill_failed=$kill_failed kill_requests=$kill_requests after_failed=$after_failed after_requests=$after_requests conns=$CONNS"

echo
echo "== the host comes back"
host_start s2
for _ in $(seq 100); do [ -n "$(version_of 2)" ] && break; sleep 0.1; done
before=$(requests_of 2)
load 4 "$CONNS"
load_wait
rejoin=$(( $(requests_of 2) - before ))
echo "s2 restarted: served $rejoin of $LOAD_REQUESTS requests through the balancer ($LOAD_FAILED failed)"
echo "RESULT rejoin_requests=$rejoin rejoin_failed=$LOAD_FAILED"

echo
echo "== promotions under load"
promote_and_time() { # version -> PROMO_S (seconds until every host serves it), PROMO_OK
    local v=$1 t0 t1 left h
    t0=$(now)
    R promote "$v" >/dev/null
    t1=$(now)
    left="1 2 3"
    for _ in $(seq 1000); do
        local still=""
        for h in $left; do [ "$(version_of "$h")" = "$v" ] || still="$still $h"; done
        left=$still
        [ -n "$left" ] || break
        sleep 0.01
    done
    local t2; t2=$(now)
    PROMO_S=$(awk -v a="$t0" -v b="$t2" 'BEGIN {printf "%.3f", b - a}')
    PROMO_CMD_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
    PROMO_OK=$([ -z "$left" ] && echo 1 || echo 0)
}
v_now=$(version_of 1)
v_other=$((v_now == 1 ? 2 : 1))
load $((PROMOTIONS * 3 + 5)) 16
sleep 1
times=() cmd_times=() reached=0
for i in $(seq "$PROMOTIONS"); do
    target=$([ $((i % 2)) -eq 1 ] && echo "$v_other" || echo "$v_now")
    promote_and_time "$target"
    times+=("$PROMO_S")
    cmd_times+=("$PROMO_CMD_S")
    reached=$((reached + PROMO_OK))
    sleep 0.5
done
kill -INT "$LOADPID" 2>/dev/null || true
load_wait
promo_max=$(printf '%s\n' "${times[@]}" | sort -g | tail -n 1)
promo_med=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
echo "$PROMOTIONS promotions: every host on the new version ${times[*]} s after \`readmit promote\` started (median $promo_med, max $promo_max)"
echo "  of which the promote command itself (start, connect, scram, commit, NOTIFY): ${cmd_times[*]} s"
echo "requests meanwhile: $LOAD_REQUESTS, failed $LOAD_FAILED"
echo "RESULT promotions=$PROMOTIONS promotions_reached=$reached promote_max_s=$promo_max promote_median_s=$promo_med promote_failed=$LOAD_FAILED promote_requests=$LOAD_REQUESTS"

echo
echo "== PostgreSQL down under load"
load 8 16
sleep 1
pgtcp_stop
sleep 2
answering=0
for h in 1 2 3; do
    code=$(in_ns cl curl -s -o /dev/null -w '%{http_code}' -m 2 -X POST -H 'Content-Type: application/json' \
        --data-binary "$(head -n 1 "$W/single.jsonl")" "$LB_URL/host/$h/api/v1/predict" || true)
    [ "$code" = 200 ] && answering=$((answering + 1))
done
sleep 1
pgtcp_start
load_wait
echo "database stopped for ~3 s: $answering of 3 hosts answered predictions while it was down; $LOAD_FAILED of $LOAD_REQUESTS requests failed"
v_now=$(version_of 1)
target=$((v_now == 1 ? 2 : 1))
promote_and_time "$target"
echo "after it returned: a promotion reached every host in $PROMO_S s (reconnect back-off included)"
echo "RESULT dbdown_answering=$answering dbdown_failed=$LOAD_FAILED dbdown_requests=$LOAD_REQUESTS after_db_promote_ok=$PROMO_OK after_db_promote_s=$PROMO_S"

echo
echo "== database connections"
# at rest: the workers' prediction-log writers close their connections after
# a second without records (and once what they spilled while the database
# was away is replayed), which leaves the model follower's one per host;
# waited for, at most 15 s
t_rest=$(date +%s.%N)
for _ in $(seq 60); do
    n=$(pgtcp_owner "$PGTCP_BIN/psql" -h "$W/pg/run" -U readmit -d readmit -tAc \
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'readmit' AND client_addr IS NOT NULL")
    [ "${n:-0}" -le "${#HOSTS[@]}" ] && break
    sleep 0.25
done
echo "at rest after $(awk -v a="$t_rest" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s"
conns=$(pgtcp_owner "$PGTCP_BIN/psql" -h "$W/pg/run" -U readmit -d readmit -tAc \
    "SELECT client_addr, count(*) FROM pg_stat_activity WHERE datname = 'readmit' AND client_addr IS NOT NULL GROUP BY 1 ORDER BY 1" |
    tr '|' ' ')
per_host=""
for h in "${HOSTS[@]}"; do
    c=$(awk -v a="${ADDR[$h]}" '$1 == a {print $2}' <<<"$conns")
    per_host="$per_host ${h}=${c:-0}"
done
echo "connections to PostgreSQL per serving host ($WORKERS workers each):$per_host"
echo "RESULT$per_host"

