#!/bin/bash
# t8200-replay: live traffic through nginx and the worker pool into the
# prediction log, end to end: N records sent, N rows logged with the version
# that answered; a worker SIGKILLed mid-replay and every record accounted for;
# PostgreSQL stopped mid-replay, its spilled records replayed once; outcomes
# joined; the drifted field flagged and the others left alone; saturated
# batch traffic: every record served is stored, none dropped.
export READMIT_PGDIR=$(mktemp -d /tmp/readmit-t8200-pg.XXXXXX)
chmod 755 "$READMIT_PGDIR"
. "$(dirname "$0")/lib.sh"
FCGI=${READMIT_FCGI:-$TOP/build/readmit-fcgi}
PORT=$((20000 + ($$ + 7919) % 20000))
URL=http://127.0.0.1:$PORT
SERVE_ENV=(READMIT_HOME="$T_TMP" READMIT_CONFIG="$TOP/conf/test.yaml" READMIT_FCGI="$FCGI"
    READMIT_HTTP_PORT=$PORT READMIT_PGDIR="$READMIT_PGDIR")
serve() { env "${SERVE_ENV[@]}" READMIT_FCGI_OPTS="$FCGI_OPTS" "$TOP/scripts/serve.sh" "$@"; }
t_serve_cleanup() {
    local rc=$?
    serve stop >/dev/null 2>&1 || true
    "$TOP/scripts/pg.sh" stop >/dev/null 2>&1 || true
    [ -n "$T_KEEP" ] || rm -rf "$READMIT_PGDIR"
    return $rc
}
trap 't_serve_cleanup; t_cleanup' EXIT
t_fresh_db
cd "$T_TMP"
O=(-o "db.socket_dir=$READMIT_PGDIR/run")
R() { rdm "$1" "${O[@]}" "${@:2}"; }
FCGI_OPTS="-o db.name=$T_DB -o monitor.spill_dir=$T_TMP/var/spill -o monitor.flush_ms=50"
wait_for() { local n=$(($1 * 10)); shift; while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done; return 1; }
logged() { t_sql "SELECT count(*) FROM monitor.predictions"; }
is_logged() { [ "$(logged)" -ge "$1" ]; }
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ]; }
val() { sed -n "s/.*$1 \([0-9]*\).*/\1/p" "$2" | head -n 1; }

"$READMIT" synth --rows 5000 --seed 31 >s.csv
R ingest -q --source s.csv >/dev/null
R clean -q >/dev/null
R train -q >/dev/null 2>&1
R register -q >/dev/null
check "serve start" serve start
check "the pool serves the champion" wait_for 20 ready
"$READMIT" synth --rows 1200 --seed 32 | awk -F, 'NR == 1 {print; next} {$1 = 700000000 + NR; print}' OFS=, >live.csv

# 1. N records in, N rows logged with the version that answered
R replay --input live.csv --url "$URL" --rate 0 --days 4 --scenario age --drift-from 2 \
    --label-lag-days 1 --outcomes "$T_TMP/outcomes.csv" -q >r1.txt
cat r1.txt
check_eq "every record answered" 1200 "$(val 'answered 200' r1.txt)"
check "all logged" wait_for 10 is_logged 1200
check_eq "exactly N rows" 1200 "$(logged)"
check_eq "one row per request" 1200 "$(t_sql 'SELECT count(DISTINCT request_id) FROM monitor.predictions')"
check_eq "the answering version and alias" "1|champion|readmission" "$(t_sql 'SELECT DISTINCT model_version, alias, model_name FROM monitor.predictions')"
check_eq "encounter ids from the requests" 1200 "$(t_sql 'SELECT count(*) FROM monitor.predictions WHERE encounter_id > 700000000')"
check_eq "outcomes of days 1-3 delivered" 900 "$(t_sql 'SELECT count(*) FROM monitor.outcomes')"
check_eq "outcomes join the log" 900 "$(t_sql 'SELECT count(*) FROM monitor.predictions p JOIN monitor.outcomes o USING (encounter_id)')"
curl -s "$URL/metrics" >metrics.txt
check "/metrics counts logged records" grep -q 'readmit_prediction_log_records_total{outcome="logged"} [1-9]' metrics.txt
check "/metrics has the log lag" grep -q '^readmit_prediction_log_lag_seconds ' metrics.txt

R monitor --json -o monitor.window_rows=300 -o monitor.min_rows=100 >m.json
check_eq "four windows" 4 "$(jq '.windows | length' m.json)"
check_eq "age flagged once it drifted" alert "$(jq -r '.windows[3].drift.fields[0] | select(.field == "age") | .level' m.json)"
check_eq "before the drift nothing alerts" 0 "$(jq '[.windows[0,1].drift.fields[] | select(.level == "alert")] | length' m.json)"
check_eq "only age alerts after it" 1 "$(jq '[.windows[3].drift.fields[] | select(.level == "alert")] | length' m.json)"
check_eq "realized AUC on 300 outcomes" 300 "$(jq '.windows[0].versions[0].realized.n' m.json)"
check_eq "last day: no outcome yet, estimate only" null "$(jq '.windows[3].versions[0].realized' m.json)"
check "estimated AUC on the last day" jq -e '.windows[3].versions[0].estimated.roc_auc > 0.5' m.json

# 1b. saturated batch traffic with the log on (wrk: 16 connections, batches
# of 100, 3 s): every record the pool served is in the database or counted
# dropped, and none is dropped within the spill limit
# (served / logged / replayed / dropped from /metrics)
counts() {
    curl -s "$URL/metrics" | awk '/^readmit_predictions_total/ {s = $2} /outcome="logged"/ {l = $2}
        /outcome="replayed"/ {r = $2} /outcome="dropped"/ {d = $2} END {print s + 0, l + 0, r + 0, d + 0}'
}
caught_up() { # no queue or spill file left, lag 0
    [ -z "$(ls "$T_TMP/var/spill" 2>/dev/null | grep -v '^poison$')" ] &&
        curl -s "$URL/metrics" | grep -q '^readmit_prediction_log_lag_seconds 0.000$'
}
if command -v wrk >/dev/null; then
    "$READMIT" synth --rows 3000 --seed 36 | awk -F, 'NR == 1 {print; next} {$1 = 600000000 + NR; print}' OFS=, >sat.csv
    awk -v batch=100 -v max=20 -f "$TOP/nginx/bench/records.awk" sat.csv >sat.jsonl
    read -r s0 l0 r0 d0 < <(counts)
    rows0=$(logged)
    wrk -t2 -c16 -d3s --timeout 10s -s "$TOP/nginx/bench/predict.lua" "$URL/api/v1/predict" -- "$T_TMP/sat.jsonl" >sat.txt 2>&1
    grep RESULT sat.txt
    check "saturated batches: the log caught up" wait_for 120 caught_up
    read -r s1 l1 r1 d1 < <(counts)
    served=$((s1 - s0))
    echo "# saturated batches: served $served, logged $((l1 - l0)), replayed $((r1 - r0)), dropped $((d1 - d0))"
    check "saturated batches: served some" test "$served" -gt 1000
    check_eq "saturated batches: no failed request" "non200=0 sockerr=0" "$(grep -o 'non200=[0-9]* sockerr=[0-9]*' sat.txt)"
    check_eq "saturated batches: none dropped" 0 $((d1 - d0))
    check_eq "saturated batches: served = logged + replayed" "$served" $((l1 - l0 + r1 - r0))
    check_eq "saturated batches: served = rows stored" "$served" $(( $(logged) - rows0 ))
else
    skip "saturated batches" "wrk is not installed"
fi

# 2. a worker SIGKILLed mid-replay: logged = answered 200 - lost, lost counted
before=$(logged)
"$READMIT" synth --rows 3000 --seed 33 | awk -F, 'NR == 1 {print; next} {$1 = 710000000 + NR; print}' OFS=, >kill.csv
R replay --input kill.csv --url "$URL" --rate 600 --days 1 --no-outcomes -q >r2.txt &
rp=$!
sleep 2
victim=$(pgrep -P "$(cat "$T_TMP/var/run/readmit-fcgi.pid")" | head -n 1)
kill -9 "$victim"
wait $rp
cat r2.txt
ok200=$(val 'answered 200' r2.txt)
sleep 1
got=$(( $(logged) - before ))
lost=$((ok200 - got))
echo "# SIGKILL: answered 200 $ok200, logged $got, lost $lost (records in the killed worker's buffer)"
check "sent = answered + errors + unanswered" test "$(( $(val 'answered 200' r2.txt) + $(val errors r2.txt) + $(val unanswered r2.txt) ))" -eq 3000
check "nothing logged that was not answered" test "$got" -le "$ok200"
check "at most one flush interval lost" test "$lost" -ge 0 -a "$lost" -le 100
check_eq "nothing doubled" "$got" "$(t_sql 'SELECT count(DISTINCT encounter_id) FROM monitor.predictions WHERE encounter_id > 710000000')"

# 3. PostgreSQL stopped mid-replay: the pool keeps answering, records spill
# and are replayed once when the database is back
before=$(logged)
"$READMIT" synth --rows 3000 --seed 34 | awk -F, 'NR == 1 {print; next} {$1 = 720000000 + NR; print}' OFS=, >outage.csv
R replay --input outage.csv --url "$URL" --rate 600 --days 1 --no-outcomes -q >r3.txt &
rp=$!
sleep 1.5
"$TOP/scripts/pg.sh" stop >/dev/null 2>&1
sleep 2
"$TOP/scripts/pg.sh" start >/dev/null 2>&1
wait $rp
cat r3.txt
ok200=$(val 'answered 200' r3.txt)
check_eq "all answered during the outage" 3000 "$ok200"
check "spilled records replayed" wait_for 30 is_logged $((before + 3000))
check_eq "none lost" 3000 "$(t_sql 'SELECT count(*) FROM monitor.predictions WHERE encounter_id > 720000000')"
check_eq "none doubled" 3000 "$(t_sql 'SELECT count(DISTINCT encounter_id) FROM monitor.predictions WHERE encounter_id > 720000000')"
curl -s "$URL/metrics" >metrics2.txt
check "/metrics counts spilled records" grep -q 'readmit_prediction_log_records_total{outcome="spilled"} [1-9]' metrics2.txt
check "/metrics counts replayed records" grep -q 'readmit_prediction_log_records_total{outcome="replayed"} [1-9]' metrics2.txt
check "/metrics counts records set aside (none here)" grep -q 'readmit_prediction_log_records_total{outcome="set_aside"} 0$' metrics2.txt

# each worker reads the latest monitor document at most every 30 s
has_gauges() {
    curl -s "$URL/metrics" >gauges.txt
    grep -q '^readmit_monitor_feature_psi{field="age"} [0-9]' gauges.txt &&
        grep -q '^readmit_monitor_estimated_roc_auc{version="1"} 0\.' gauges.txt
}
check "/metrics: per-field PSI and estimated AUC of the latest monitor run" wait_for 40 has_gauges

# 4. SIGTERM (make stop) flushes everything
before=$(logged)
"$READMIT" synth --rows 400 --seed 35 | awk -F, 'NR == 1 {print; next} {$1 = 730000000 + NR; print}' OFS=, >last.csv
R replay --input last.csv --url "$URL" --rate 0 --days 1 --no-outcomes -q >/dev/null
serve stop >/dev/null
check_eq "stop flushed every record" $((before + 400)) "$(logged)"
t_done
