#!/bin/bash
# Nobody can wedge the serving stack (bounded, loopback only):
# - the pool's own FastCGI record layer, spoken to straight: kept
#   connections, requests in tiny pieces, bodies in many records, answers in
#   several records, management records, a bad version;
# - connections to the FastCGI socket that send a partial request are
#   dropped after serve.read_timeout while predictions keep being answered;
# - 5,000 idle client connections held on nginx (a request header begun,
#   never finished) do not starve predictions, and nginx closes them itself;
# - the pool's supervisor killed with SIGKILL under load: the watchdog of
#   scripts/serve.sh restarts it and serving resumes within 15 s.
. "$(dirname "$0")/lib.sh"

FCGI=${READMIT_FCGI:-$TOP/build/readmit-fcgi}
PORT=$(t_port 4421)
URL=http://127.0.0.1:$PORT
HOLD=$TOP/tests/t/hold-connections.py
serve() {
    READMIT_HOME="$T_TMP" READMIT_CONFIG="$TOP/conf/test.yaml" READMIT_FCGI="$FCGI" \
        READMIT_HTTP_PORT=$PORT READMIT_ACCESS_LOG=off \
        READMIT_FCGI_OPTS="-o db.name=$T_DB --threads 2" "$TOP/scripts/serve.sh" "$@"
}
HOLD_PID= LOAD_PID=
t_slow_cleanup() {
    local rc=$?
    for p in $HOLD_PID $LOAD_PID; do kill "$p" 2>/dev/null || true; done
    serve stop >/dev/null 2>&1 || true
    return $rc
}
trap 't_slow_cleanup; t_cleanup' EXIT

t_fresh_db
cd "$T_TMP"
R() { rdm "$1" -o "db.socket_dir=$TOP/var/pg/run" "${@:2}" >>out.txt 2>>err.txt; }
"$READMIT" synth --rows 4000 --seed 12 >s.csv
pipeline() { R ingest -q --source s.csv && R clean -q && R train -q && R register; }
check "pipeline: ingest, clean, train, register" pipeline
awk -v max=50 -f "$TOP/nginx/bench/records.awk" s.csv >single.jsonl
REC=$(head -n 1 single.jsonl)
check "serve start (2 workers x 2 threads)" serve start
predict() { curl -s -m 8 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "$REC" "$URL/api/v1/predict"; }
serving() { [ "$(predict)" = 200 ]; }
check "the champion is served" wait_for 20 serving
metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
answered() { # n: predictions answered out of n, each within curl's 8 s
    local i ok=0
    for i in $(seq "$1"); do [ "$(predict)" = 200 ] && ok=$((ok + 1)); done
    echo "$ok"
}

# ---- the pool's FastCGI record layer, spoken to straight (fcgi-client.py) ----
sock=$T_TMP/var/run/readmit-fcgi.sock
FC=$TOP/tests/t/fcgi-client.py
head -n 1 single.jsonl >one.json
fc() { python3 "$FC" "$sock" "$@" 2>>fcgi-client.err; }
probability() { jq -r '.bodies[0] | fromjson | .probability'; }
p_ref=$(fc keep one.json | tee keep.json | probability)
check_eq "two requests on one kept connection: both answered" "200 200" "$(jq -r '.status | map(tostring) | join(" ")' keep.json)"
check "... with a probability" test -n "$p_ref" -a "$p_ref" != null
check_eq "... the same answer twice" "$(jq -r '.bodies[0]' keep.json)" "$(jq -r '.bodies[1]' keep.json)"
check_eq "a request sent a byte at a time: the same answer" "$p_ref" "$(fc trickle one.json | probability)"
check_eq "a body in 7-byte FCGI_STDIN records: the same answer" "$p_ref" "$(fc split one.json | probability)"
fc close one.json >close.json
check_eq "without FCGI_KEEP_CONN: answered, then the pool closes the connection" "200 true" "$(jq -r '"\(.status[0]) \(.eof)"' close.json)"
check_eq "FCGI_GET_VALUES gets FCGI_GET_VALUES_RESULT" 10 "$(fc values | jq -r '.types[0]')"
check_eq "a record of protocol version 2: the connection is closed" true "$(fc badversion | jq -r .eof)"
# an answer over 64 KB (the most one record carries): several FCGI_STDOUT records
awk -v valid_below=-1 -v batch=700 -v max=1 -f "$TOP/nginx/bench/records.awk" s.csv >big.json
fc keep big.json >big-answer.json
check_eq "a batch of 700: answered with 700 predictions" "200 700" \
    "$(jq -r '"\(.status[0]) \(.bodies[0] | fromjson | .predictions | length)"' big-answer.json)"
check "... in more than one FCGI_STDOUT record ($(jq -r '.records[0]' big-answer.json))" test "$(jq -r '.records[0]' big-answer.json)" -gt 1
check_eq "the pool answers through nginx after all that" 200 "$(predict)"

# ---- partial FastCGI requests straight to the pool's socket ----
# a FastCGI record header cut after 3 of its 8 bytes, three times: once each
# held a thread of a worker (and behind it the connections nginx keeps to
# that worker) until serve.read_timeout; now they wait in the epoll set
python3 "$HOLD" "$sock" 3 40 010100 >hold-fcgi.txt 2>&1 &
HOLD_PID=$!
wait_for 15 grep -q '^held' hold-fcgi.txt
check "3 partial requests held on the socket" grep -qx 'held 3' hold-fcgi.txt
t0=$(date +%s.%N)
check_eq "10 predictions answered meanwhile" 10 "$(answered 10)"
echo "# 10 predictions took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s while 3 partial requests were held"
dropped() { [ "$(metric readmit_read_timeouts_total)" -ge 3 ] 2>/dev/null; }
check "the partial requests are dropped after serve.read_timeout (10 s)" wait_for 20 dropped
echo "# readmit_read_timeouts_total $(metric readmit_read_timeouts_total)"
kill "$HOLD_PID" 2>/dev/null || true
wait "$HOLD_PID" 2>/dev/null || true
HOLD_PID=

# ---- 5,000 idle client connections on nginx ----
# Each sends the start of a request header and then nothing. They are opened
# 100 at a time with a 20 ms pause, so that nginx has read each one's bytes
# before the next arrive: nginx may reclaim a connection that has sent nothing
# yet for a newcomer, never one that began a request. With the old bounds
# (4096 worker connections, the default 60 s client_header_timeout) they filled
# nginx's table: 4094 held and every prediction refused until the timeout.
# Now nginx holds all 5,000, answers meanwhile, and closes them itself after
# client_header_timeout (10 s); the holder gives up after 45 s.
partial=$(printf 'GET /api/v1/model HTTP/1.1\r\nHost: x\r\n' | od -An -tx1 | tr -d ' \n')
python3 "$HOLD" "127.0.0.1:$PORT" 5000 45 "$partial" 20 >hold-http.txt 2>&1 &
HOLD_PID=$!
wait_for 60 grep -q '^held\|failed' hold-http.txt
check "5,000 idle connections held at once on nginx" grep -qx 'held 5000' hold-http.txt
t0=$(date +%s.%N)
check_eq "20 predictions answered while they are held, each within 8 s" 20 "$(answered 20)"
echo "# 20 predictions took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s; the holder's last count: $(grep '^open\|^held' hold-http.txt | tail -n 1)"
nginx_rss=$(for p in $(pgrep -P "$(cat "$T_TMP/var/nginx/nginx.pid")"); do awk '/VmRSS/ {print $2}' /proc/"$p"/status; done | awk '{s += $1} END {print s + 0}')
echo "# nginx workers' RSS with 5,000 idle connections: ${nginx_rss} kB"
wait "$HOLD_PID" 2>/dev/null || true
HOLD_PID=
check "nginx closed all 5,000 itself (client_header_timeout)" grep -q '^server closed 5000 of 5000,' hold-http.txt
echo "# $(grep '^reopened' hold-http.txt) (closed by nginx at once while opening); $(grep '^server closed' hold-http.txt)"

# ---- the supervisor killed under load: the watchdog restarts the pool ----
if command -v wrk >/dev/null; then
    wrk -t2 -c8 -d12s -s "$TOP/nginx/bench/predict.lua" "$URL/api/v1/predict" -- "$T_TMP/single.jsonl" >load.txt 2>&1 &
    LOAD_PID=$!
else
    echo "# skip: wrk not installed: the supervisor is killed without load"
fi
sleep 3
sup=$(cat "$T_TMP/var/run/readmit-fcgi.pid")
kill -9 "$sup"
t0=$(date +%s.%N)
new_pool() { [ -f "$T_TMP/var/run/readmit-fcgi.pid" ] && [ "$(cat "$T_TMP/var/run/readmit-fcgi.pid")" != "$sup" ] && serving; }
check "serving resumes within 15 s with a new supervisor" wait_for 15 new_pool
echo "# serving resumed $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s after the supervisor's SIGKILL"
check "the old supervisor is gone" sh -c "! kill -0 $sup 2>/dev/null"
if [ -n "$LOAD_PID" ]; then
    wait "$LOAD_PID" || true
    LOAD_PID=
    echo "# load across the kill: $(grep RESULT load.txt)"
    check "requests answered across the kill" test "$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' load.txt)" -gt 100
fi
check "the new pool serves" serving
wpid=$(cat "$T_TMP/var/run/readmit-fcgi-watch.pid")
pool=$(cat "$T_TMP/var/run/readmit-fcgi.pid")
check "serve stop" serve stop
check "the watchdog is gone" sh -c "! kill -0 $wpid 2>/dev/null"
check "the pool is gone" sh -c "! kill -0 $pool 2>/dev/null"

# ---- the systemd units of deploy/systemd: restart always, and they verify ----
for u in readmit-fcgi readmit-nginx; do
    check_eq "$u.service: Restart=always" always "$(sed -n 's/^Restart=//p' "$TOP/deploy/systemd/$u.service")"
done
if command -v systemd-analyze >/dev/null; then
    mkdir -p units
    for u in readmit-fcgi readmit-nginx; do
        sed "s|/opt/readmit|$TOP|g" "$TOP/deploy/systemd/$u.service" >"units/$u.service"
    done
    check "systemd-analyze verify" systemd-analyze verify units/readmit-fcgi.service units/readmit-nginx.service
else
    echo "# skip: systemd-analyze not installed: the units are not verified"
fi
t_done
