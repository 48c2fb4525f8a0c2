#!/bin/bash
# Serving end to end: a PostgreSQL cluster of the test's own (so it can be
# stopped), synthetic data -> ingest -> clean -> train -> register, the
# readmit-fcgi pool behind nginx on a test port; every endpoint and error over
# HTTP; a champion change under load with zero failures; a worker killed with
# SIGKILL and restarted; the database stopped while predictions continue.
export READMIT_PGDIR=$(mktemp -d /tmp/readmit-t4000-pg.XXXXXX)
chmod 755 "$READMIT_PGDIR"
. "$(dirname "$0")/lib.sh"

FCGI=${READMIT_FCGI:-$TOP/build/readmit-fcgi}
PORT=$(t_port 4000)
URL=http://127.0.0.1:$PORT
SERVE_ENV=(READMIT_HOME="$T_TMP" READMIT_CONFIG="$TOP/conf/test.yaml" READMIT_FCGI="$FCGI"
    READMIT_HTTP_PORT=$PORT READMIT_PGDIR="$READMIT_PGDIR")

serve() { env "${SERVE_ENV[@]}" READMIT_FCGI_OPTS="${FCGI_OPTS:-}" "$TOP/scripts/serve.sh" "$@"; }

t_serve_cleanup() {
    local rc=$?
    serve stop >/dev/null 2>&1 || true
    if [ -n "${LOAD_PID:-}" ]; then kill "$LOAD_PID" 2>/dev/null || true; fi
    "$TOP/scripts/pg.sh" stop >/dev/null 2>&1 || true
    [ -n "$T_KEEP" ] || rm -rf "$READMIT_PGDIR"
    return $rc
}
trap 't_serve_cleanup; t_cleanup' EXIT

t_fresh_db
cd "$T_TMP"
R() { rdm "$1" -o "db.socket_dir=$READMIT_PGDIR/run" "${@:2}" >>out.txt 2>>err.txt; }
FCGI_OPTS="-o db.name=$T_DB -o serve.max_body_bytes=200000 -o serve.max_instances=100 -o report.dir=$T_TMP/site"
# a report site of the test's own: a page, the writer's manifest, a directory without an index
mkdir -p site/sub
echo '<!doctype html><title>r</title><p>report page' >site/index.html
echo 'manifest' >site/.report-manifest
echo 'x' >site/sub/hidden-file.txt

# status code of a request; the body goes to body.json
code() { curl -s -o body.json -w '%{http_code}' "$@"; }
jget() { jq -r "$1" body.json; }
predict() { code -X POST -H 'Content-Type: application/json' --data-binary "$1" "$URL/api/v1/predict"; }
model_version() { curl -s "$URL/api/v1/model" | jq -r .version; }
is_version() { [ "$(model_version)" = "$1" ]; }

"$READMIT" synth --rows 6000 --seed 4 >s.csv
check "ingest" R ingest -q --source s.csv
check "clean" R clean -q

# ---- no champion yet ----
check "serve start" serve start
check_eq "healthz 200" 200 "$(code "$URL/healthz")"

# ---- the pool's privileges and its socket ----
sup=$(cat "$T_TMP/var/run/readmit-fcgi.pid")
sock=$T_TMP/var/run/readmit-fcgi.sock
mode=$(stat -c %a "$sock")
check "socket not reachable by others (mode $mode)" test $((8#$mode & 7)) -eq 0
if [ "$(id -u)" -eq 0 ]; then
    check_eq "supervisor runs as readmit-serve, not root" readmit-serve "$(ps -o user= -p "$sup")"
    check_eq "workers run as readmit-serve" "readmit-serve readmit-serve" "$(ps -o user= --ppid "$sup" | sort -u | xargs echo readmit-serve | awk '{print $1, $NF}')"
    check_eq "socket: owner and nginx's group" "660 nogroup" "$(stat -c '%a %G' "$sock")"
    connect() { runuser -u "$1" -- python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$sock" 2>/dev/null; }
    cannot_connect() { ! connect "$1"; }
    check "another user cannot connect to the socket" cannot_connect daemon
    check "nginx's user can" connect nobody
else
    echo "# skip: not root: the pool keeps the caller's user (privilege checks need root)"
fi
check_eq "predict without a champion: 503" 503 "$(predict '{}')"
cp body.json no-model.json
check_eq "... code no_model" no_model "$(jget .error.code)"
check_eq "readyz without a model: 503" 503 "$(code "$URL/readyz")"
check_eq "model without a model: 503" 503 "$(code "$URL/api/v1/model")"

# ---- first champion: picked up through NOTIFY / polling ----
check "train" R train -q
check "register v1" R register
check "the pool loads champion v1" wait_for 10 is_version 1
check_eq "readyz 200" 200 "$(code "$URL/readyz")"
check_eq "readyz: database reachable" reachable "$(jget .database)"

# ---- the API ----
awk -v max=200 -f "$TOP/nginx/bench/records.awk" s.csv >single.jsonl
awk -v batch=50 -v max=4 -f "$TOP/nginx/bench/records.awk" s.csv >batch.jsonl
check "test records exist" test "$(wc -l <single.jsonl)" -ge 50
REC=$(head -n 1 single.jsonl)
check_eq "predict one record: 200" 200 "$(predict "$REC")"
p=$(jget .probability)
check "probability in [0, 1]" awk -v p="$p" 'BEGIN {exit !(p >= 0 && p <= 1)}'
thr=$(jget .threshold)
want=$(awk -v p="$p" -v t="$thr" 'BEGIN {print (p >= t) ? "true" : "false"}')
check_eq "decision = probability >= threshold" "$want" "$(jget .decision)"
check_eq "model version in the response" 1 "$(jget .model.version)"
check_eq "encounter_id echoed" "$(echo "$REC" | jq -r .encounter_id)" "$(jget .encounter_id)"
# the same record scored offline through the library must give the same probability
head -n 1 s.csv >one.csv
id=$(echo "$REC" | jq -r .encounter_id)
awk -F, -v id="$id" 'NR > 1 && $1 == id' s.csv >>one.csv
# (a failing `readmit predict` fails the test: it is the subject, never a reason to skip)
check "offline predict of the same record" R predict --model champion --input one.csv --output offline.csv
check "offline predict wrote a row" test "$(wc -l <offline.csv 2>/dev/null || echo 0)" -eq 2
off=$(awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "probability") c = i} NR == 2 && c {print $c}' offline.csv 2>/dev/null || true)
# both print six decimals: the same number, not merely a close one
check "served = offline probability ($p vs ${off:-none})" awk -v a="$p" -v b="$off" 'BEGIN {if (b == "") exit 1; exit !(a + 0 == b + 0)}'
check_eq "batch of 50: 200" 200 "$(predict "$(head -n 1 batch.jsonl)")"
check_eq "50 predictions" 50 "$(jget '.predictions | length')"
check_eq "unseen category: 200" 200 "$(predict '{"race": "Martian"}')"
check "... with a warning naming the field" grep -q "race" <<<"$(jget '.warnings[0]')"
check_eq "missing values (null, ?, absent): 200" 200 "$(predict '{"race": null, "weight": "?"}')"

check_eq "malformed JSON: 400" 400 "$(predict '{"race": ')"
check_eq "... with the byte offset" 9 "$(jget .error.position)"
check_eq "unknown field: 422" 422 "$(predict '{"colour": "red"}')"
check_eq "... naming the field" colour "$(jget .error.field)"
check_eq "wrong type: 422" 422 "$(predict '{"age": 70}')"
check_eq "... naming the field" age "$(jget .error.field)"
check_eq "out of range: 422" 422 "$(predict '{"time_in_hospital": 99}')"
check_eq "... code" out_of_range "$(jget .error.code)"
big=$(printf '{"instances": [%s{}]}' "$(printf '{},%.0s' $(seq 100))")
check_eq "101 instances (limit 100): 422" 422 "$(predict "$big")"
check_eq "... code" too_many_instances "$(jget .error.code)"
head -c 300000 /dev/zero | tr '\0' ' ' >big.json
check_eq "body over the limit: 413" 413 "$(code -X POST --data-binary @big.json "$URL/api/v1/predict")"
check_eq "... JSON error" body_too_large "$(jget .error.code)"
check_eq "GET predict: 405" 405 "$(code "$URL/api/v1/predict")"
check_eq "POST model: 405" 405 "$(code -X POST -d '{}' "$URL/api/v1/model")"
check_eq "unknown API path: 404" 404 "$(code "$URL/api/v1/nothing")"
check_eq "... JSON error" not_found "$(jget .error.code)"
check_eq "model: 200" 200 "$(code "$URL/api/v1/model")"
check "model: input schema with categories" test "$(jget '[.input[] | select(.type == "categorical")] | length')" -gt 5
check "model: threshold" test "$(jget .threshold)" != null
check_eq "model: the run's validation ROC AUC" number "$(jget '.metrics.valid.roc_auc | type')"
check_eq "model: the run's test ROC AUC" number "$(jget '.metrics.test.roc_auc | type')"
vauc=$(t_sql "SELECT value FROM registry.metrics m JOIN registry.model_versions v USING (run_id) WHERE v.version = 1 AND m.split = 'valid' AND m.key = 'roc_auc'")
check "model: ... the registry's figure ($vauc)" awk -v a="$(jget .metrics.valid.roc_auc)" -v b="$vauc" 'BEGIN {d = a - b; exit !(d < 1e-9 && d > -1e-9)}'

# ---- the OpenAPI description, checked against the real answers ----
check_eq "OpenAPI description served" 200 "$(code "$URL/api/v1/openapi.json")"
cp body.json openapi.json
check_eq "... an OpenAPI 3 document" 3 "$(jq -r '.openapi | split(".")[0]' openapi.json)"
oa_check() { # description method path status [curl arguments...]
    local d=$1 m=$2 p=$3 st=$4
    shift 4
    check_eq "$d: $st" "$st" "$(code -X "$m" "$@" "$URL$p")"
    check "$d: as described" python3 "$TOP/tests/t/openapi-check.py" openapi.json "$p" "$m" "$st" body.json
}
J=(-H 'Content-Type: application/json')
oa_check "predict one record" POST /api/v1/predict 200 "${J[@]}" --data-binary "$REC"
oa_check "predict a batch" POST /api/v1/predict 200 "${J[@]}" --data-binary "$(head -n 1 batch.jsonl)"
oa_check "malformed JSON" POST /api/v1/predict 400 "${J[@]}" --data-binary '{"race": '
oa_check "unknown field" POST /api/v1/predict 422 "${J[@]}" --data-binary '{"colour": "red"}'
oa_check "not JSON" POST /api/v1/predict 415 -H 'Content-Type: text/plain' --data-binary "$REC"
oa_check "GET predict" GET /api/v1/predict 405
oa_check "model" GET /api/v1/model 200
oa_check "healthz" GET /healthz 200
oa_check "readyz" GET /readyz 200
check "predict without a champion (503): as described" python3 "$TOP/tests/t/openapi-check.py" openapi.json /api/v1/predict POST 503 no-model.json
echo '{"model":{"name":"x","version":"1"},"probability":1.5,"decision":true,"threshold":0.5,"warnings":[]}' >bad.json
check "the check can fail (probability 1.5)" sh -c "! python3 '$TOP/tests/t/openapi-check.py' openapi.json /api/v1/predict POST 200 bad.json 2>/dev/null"
check_eq "UI page served" 200 "$(code "$URL/")"
check "UI page is the form" grep -q 'api/v1/model' body.json
check_eq "reports dir served" 200 "$(code "$URL/reports/")"
check "... its page" grep -q 'report page' body.json
hdr() { curl -s -D - -o /dev/null "$1" | tr -d '\r'; }
for page in / /reports/; do
    h=$(hdr "$URL$page")
    check "$page: Content-Security-Policy with frame-ancestors" grep -q "^Content-Security-Policy: .*frame-ancestors 'none'" <<<"$h"
    check "$page: X-Content-Type-Options nosniff" grep -qi '^X-Content-Type-Options: nosniff' <<<"$h"
    check "$page: X-Frame-Options" grep -qi '^X-Frame-Options: DENY' <<<"$h"
    check "$page: Referrer-Policy" grep -qi '^Referrer-Policy: no-referrer' <<<"$h"
done
check_eq "no directory listing under /reports/" 403 "$(code "$URL/reports/sub/")"
check "... the file is not named" sh -c "! grep -q hidden-file body.json"
check_eq "internal files not served (.report-manifest)" 404 "$(code "$URL/reports/.report-manifest")"
check_eq "text/plain body: 415" 415 "$(code -X POST -H 'Content-Type: text/plain' --data-binary "$REC" "$URL/api/v1/predict")"
check_eq "... code" unsupported_media_type "$(jget .error.code)"
check_eq "form post: 415" 415 "$(code -X POST --data-urlencode "a=$REC" "$URL/api/v1/predict")"
check_eq "no Content-Type: 415" 415 "$(code -X POST -H 'Content-Type:' --data-binary "$REC" "$URL/api/v1/predict")"
check_eq "application/json; charset=utf-8: 200" 200 "$(code -X POST -H 'Content-Type: application/json; charset=utf-8' --data-binary "$REC" "$URL/api/v1/predict")"
check_eq "/api (no slash): JSON 404" not_found "$(code "$URL/api" >/dev/null; jget .error.code)"
check_eq "unknown path deeper under /api/: JSON 404" not_found "$(code "$URL/api/v2/x/y" >/dev/null; jget .error.code)"

# ---- /metrics and the API restricted to configured networks ----
check "nginx with /metrics allowed from 10.0.0.0/8 only" env READMIT_METRICS_ALLOW=10.0.0.0/8 "${SERVE_ENV[@]}" READMIT_FCGI_OPTS="$FCGI_OPTS" "$TOP/scripts/serve.sh" start
is_code() { [ "$(code "$2")" = "$1" ]; } # status url
is_predict() { [ "$(predict "$REC")" = "$1" ]; }
check "/metrics from 127.0.0.1: 403 (once nginx has reloaded)" wait_for 10 is_code 403 "$URL/metrics"
check_eq "... JSON error" forbidden "$(jget .error.code)"
check_eq "the API still answers" 200 "$(predict "$REC")"
check "nginx with the API allowed from 10.1.2.3 and 127.0.0.0/8" env READMIT_API_ALLOW="10.1.2.3, 127.0.0.0/8" READMIT_METRICS_ALLOW=10.0.0.0/8 "${SERVE_ENV[@]}" READMIT_FCGI_OPTS="$FCGI_OPTS" "$TOP/scripts/serve.sh" start
check_eq "... predict from 127.0.0.1: 200" 200 "$(predict "$REC")"
check "nginx with the API allowed from 10.1.2.3 only" env READMIT_API_ALLOW=10.1.2.3 "${SERVE_ENV[@]}" READMIT_FCGI_OPTS="$FCGI_OPTS" "$TOP/scripts/serve.sh" start
check "... predict from 127.0.0.1: 403" wait_for 10 is_predict 403
check "... readyz too: 403" wait_for 10 is_code 403 "$URL/readyz"
check "a bad network is refused" sh -c "! env READMIT_API_ALLOW='10.0.0.0/8; deny' ${SERVE_ENV[*]} '$TOP/scripts/serve.sh' start 2>/dev/null"
check "nginx back to everyone" serve start
check "/metrics: 200 again" wait_for 10 is_code 200 "$URL/metrics"
check_eq "metrics: 200" 200 "$(code "$URL/metrics")"
check "metrics: requests by route and code" grep -q 'readmit_http_requests_total{route="predict",code="422"} [1-9]' body.json
check "metrics: latency histogram" grep -q 'readmit_http_request_duration_seconds_bucket{route="predict",le="+Inf"}' body.json
check "metrics: predictions counted" grep -Eq '^readmit_predictions_total [1-9]' body.json
check "metrics: model info" grep -q 'readmit_model_info{name="readmission",version="1"' body.json
check "metrics: in-flight gauge" grep -q '^readmit_http_requests_in_flight' body.json

# ---- a second version, then promote and roll back under load: zero failures ----
check "train v2" R train -q -o train.gbt.learning_rate=0.2
check "register v2" R register -o registry.min_gain=-1
v=$(t_sql "SELECT version FROM registry.aliases WHERE alias = 'champion'")
check_eq "v2 is champion" 2 "$v"
check "the pool follows to v2" wait_for 10 is_version 2
have_wrk=$(command -v wrk || true)
load_start() {
    if [ -n "$have_wrk" ]; then
        wrk -t2 -c8 -d"$1" -s "$TOP/nginx/bench/predict.lua" "$URL/api/v1/predict" -- "$T_TMP/single.jsonl" >load.txt 2>&1 &
    else
        (end=$((SECONDS + $1)); n=0; bad=0
         while [ $SECONDS -lt $end ]; do
             c=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary "$REC" "$URL/api/v1/predict")
             n=$((n + 1)); [ "$c" = 200 ] || bad=$((bad + 1))
         done
         echo "RESULT requests=$n non200=$bad sockerr=0") >load.txt 2>&1 &
    fi
    LOAD_PID=$!
}
load_check() {
    wait "$LOAD_PID"
    LOAD_PID=
    local r
    r=$(grep RESULT load.txt)
    echo "# $1: $r"
    check "$1: requests made" test "$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$r")" -gt 100
    check_eq "$1: zero failed requests" "non200=0 sockerr=0" "$(grep -o 'non200=[0-9]* sockerr=[0-9]*' <<<"$r")"
}
load_start 8
for i in 1 2 3; do
    R rollback
    wait_for 5 is_version 1 || not_ok "rollback $i: pool on v1"
    R promote 2
    wait_for 5 is_version 2 || not_ok "promote $i: pool on v2"
done
load_check "3 rollback/promote cycles under load"
check "metrics: worker model loads counted" grep -Eq 'readmit_model_loads_total\{by="worker"\} ([7-9]|[1-9][0-9])' <(curl -s "$URL/metrics")

# ---- a pool pinned to a version stays on it across promotions ----
check "serve stop" serve stop
opts=$FCGI_OPTS
FCGI_OPTS="$opts -o serve.model=1"
check "serve start pinned to version 1 (serve.model=1)" serve start
FCGI_OPTS=$opts
check "the pinned pool serves v1 while v2 is champion" wait_for 10 is_version 1
check_eq "... predictions name v1" 1 "$(predict "$REC" >/dev/null; jget .model.version)"
R promote 1
R promote 2
sleep 2
check_eq "... and stays on v1 after promotions" 1 "$(model_version)"
check "serve stop" serve stop
check "serve start following the champion" serve start
check "the pool is back on the champion v2" wait_for 10 is_version 2

# ---- a request names another model (?model=) for testing ----
named() { code -X POST -H 'Content-Type: application/json' --data-binary "$REC" "$URL/api/v1/predict?model=$1"; }
check_eq "?model=readmission:1: 200" 200 "$(named readmission:1)"
check_eq "... scored by v1" 1 "$(jget .model.version)"
check_eq "?model=1 (a version): v1" 1 "$(named 1 >/dev/null; jget .model.version)"
check_eq "?model=readmission%3A1 (encoded): v1" 1 "$(named readmission%3A1 >/dev/null; jget .model.version)"
check_eq "?model=champion: v2" 2 "$(named champion >/dev/null; jget .model.version)"
check_eq "?model=readmission:99: 404" 404 "$(named readmission:99)"
check_eq "... code model_not_found" model_not_found "$(jget .error.code)"
check_eq "?model=/etc/passwd (a file): 400" 400 "$(named /etc/passwd)"
check_eq "... code bad_model_reference" bad_model_reference "$(jget .error.code)"
check_eq "?model=challenger without a challenger: 404" 404 "$(named challenger)"
check_eq "... code model_not_found" model_not_found "$(jget .error.code)"
check "train v3" R train -q -o train.gbt.learning_rate=0.3
check "register v3: a gain of 1 cannot be met, so it is the challenger" R register -q -o registry.min_gain=1
check_eq "v3 is the challenger" 3 "$(t_sql "SELECT version FROM registry.aliases WHERE alias = 'challenger'")"
check_eq "?model=challenger: 200" 200 "$(named challenger)"
check_eq "... scored by v3" 3 "$(jget .model.version)"
check_eq "?model=readmission:3: the same probability" "$(jget .probability)" "$(named readmission:3 >/dev/null; jget .probability)"
check_eq "the served model is still v2" 2 "$(model_version)"
check_eq "and unnamed predictions use it" 2 "$(predict "$REC" >/dev/null; jget .model.version)"

# ---- SIGHUP reloads ----
check "reload (SIGHUP)" serve reload
check_eq "still serving after reload" 200 "$(predict "$REC")"

# ---- kill -9 a worker under load: no request fails, it is restarted ----
sup=$(cat "$T_TMP/var/run/readmit-fcgi.pid")
workers() { pgrep -P "$sup" | sort; }
before=$(workers)
check_eq "2 workers" 2 "$(echo "$before" | wc -l)"
victim=$(echo "$before" | head -n 1)
# under load: the requests nginx had sent on the victim's kept connections
# are sent again on new ones (fastcgi_next_upstream ... non_idempotent)
load_start 6
sleep 2
kill -9 "$victim"
load_check "a worker SIGKILLed under load"
check "a new worker replaces it" wait_for 10 sh -c "[ \"\$(pgrep -P $sup | wc -l)\" = 2 ] && ! pgrep -P $sup | grep -qx $victim"
# the count is read through nginx by either worker: give it the moment the
# replacement takes to answer, and show what was read when it is not 1
restarts() { curl -s "$URL/metrics" | sed -n 's/^readmit_worker_restarts_total //p'; }
wait_for 5 sh -c "curl -s '$URL/metrics' | grep -qx 'readmit_worker_restarts_total 1'" || true
check_eq "metrics: one restart" 1 "$(restarts)"
check "the new worker serves the champion" wait_for 5 is_version 2
ok_all=1
for i in $(seq 20); do [ "$(predict "$REC")" = 200 ] || ok_all=0; done
check "20 predictions after the restart" test $ok_all = 1

# ---- the database goes away: keep serving ----
"$TOP/scripts/pg.sh" stop >/dev/null 2>&1
db_down() { curl -s "$URL/readyz" | jq -e '.database == "unreachable"' >/dev/null; }
check "readyz reports the database unreachable" wait_for 10 db_down
check_eq "readyz still 200 (a model is loaded)" 200 "$(code "$URL/readyz")"
ok_all=1
for i in $(seq 20); do [ "$(predict "$REC")" = 200 ] || ok_all=0; done
check "predictions continue without the database" test $ok_all = 1
check "metrics: database_up 0" grep -q '^readmit_database_up 0' <(curl -s "$URL/metrics")
"$TOP/scripts/pg.sh" start >/dev/null 2>&1
db_up() { curl -s "$URL/readyz" | jq -e '.database == "reachable"' >/dev/null; }
check "reconnects when the database is back" wait_for 40 db_up

# ---- stop: drains and exits ----
check "serve stop" serve stop
check "pool gone" sh -c "! kill -0 $sup 2>/dev/null"
check "socket removed" test ! -e "$T_TMP/var/run/readmit-fcgi.sock"
check_eq "nothing answers" 000 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz" || true)"

# ---- docker-compose file parses ----
if command -v docker-compose >/dev/null; then
    check "docker-compose config" sh -c "cd '$TOP' && docker-compose -f docker-compose.yml config -q"
else
    echo "# skip: docker-compose not installed (apt-get install docker-compose)"
fi
t_done
