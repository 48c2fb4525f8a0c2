#!/bin/bash
# Explanations end to end: `readmit predict --explain`, POST /api/v1/predict
# with "explain": true (single and batch) through nginx and the pool, the
# contributions adding up to the logit of the probability, requests without
# it unchanged; then the web form in headless Chromium when it is installed:
# a diagnosis entered as an ICD-9 code and the chart of contributions.
. "$(dirname "$0")/lib.sh"

FCGI=${READMIT_FCGI:-$TOP/build/readmit-fcgi}
PORT=$((20000 + ($$ + 4111) % 20000))
DPORT=$((PORT + 1))
URL=http://127.0.0.1:$PORT
serve() {
    READMIT_HOME="$T_TMP" READMIT_CONFIG="$TOP/conf/test.yaml" READMIT_FCGI="$FCGI" \
        READMIT_HTTP_PORT=$PORT READMIT_FCGI_OPTS="-o db.name=$T_DB" "$TOP/scripts/serve.sh" "$@"
}
DRIVER_PID=
t_x_cleanup() {
    local rc=$?
    if [ -n "${SID:-}" ]; then curl -s -X DELETE "http://127.0.0.1:$DPORT/session/$SID" >/dev/null 2>&1 || true; fi
    if [ -n "$DRIVER_PID" ]; then kill "$DRIVER_PID" 2>/dev/null || true; fi
    serve stop >/dev/null 2>&1 || true
    return $rc
}
trap 't_x_cleanup; t_cleanup' EXIT

t_fresh_db
cd "$T_TMP"
R() { rdm "$1" -o "db.socket_dir=$TOP/var/pg/run" "${@:2}" >>out.txt 2>>err.txt; }
"$READMIT" synth --rows 4000 --seed 12 >s.csv
pipeline() { R ingest -q --source s.csv && R clean -q && R train -q && R register; }
check "pipeline: ingest, clean, train, register" pipeline

# ---- readmit predict --explain ----
head -n 21 s.csv >few.csv
predict() { rdm predict -o "db.socket_dir=$TOP/var/pg/run" -q --model champion --input few.csv "${@:2}" >"$1"; }
check "predict --explain" predict explained.csv --explain
check "predict without it" predict plain.csv
check_eq "header with base_value and top_contributions" \
    "encounter_id,probability,decision,base_value,top_contributions" "$(head -n 1 explained.csv)"
check_eq "20 records" 21 "$(wc -l <explained.csv)"
check_eq "same probabilities as without --explain" "$(cut -d, -f1-3 plain.csv)" "$(cut -d, -f1-3 explained.csv | sed '1s/.*/encounter_id,probability,decision/')"
check "five field=value:contribution entries per record" \
    awk -F'"' 'NR > 1 { if (split($2, a, "; ") != 5) exit 1; for (i in a) if (a[i] !~ /^[a-z_0-9]+=.*:[-+][0-9]+\.[0-9][0-9][0-9][0-9]$/) exit 1 }' explained.csv

# ---- the API, through nginx ----
check "serve start" serve start >/dev/null
for i in $(seq 50); do curl -sf "$URL/api/v1/model" >/dev/null && break; sleep 0.2; done
awk -v max=20 -f "$TOP/nginx/bench/records.awk" s.csv >single.jsonl
REC=$(head -n 1 single.jsonl)
post() { curl -s -X POST --data-binary "$1" "$URL/api/v1/predict"; }
post "$(jq -c '. + {explain: true}' <<<"$REC")" >one.json
check "explained prediction answered" jq -e >/dev/null '.probability and .base_value and (.contributions | length > 0)' one.json
nin=$(curl -s "$URL/api/v1/model" | jq '.input | length')
check_eq "a contribution for every input field" "$nin" "$(jq '.contributions | length' one.json)"
check "sorted by magnitude" jq -e >/dev/null '[.contributions[].contribution | fabs] as $a | $a == ($a | sort | reverse)' one.json
check "each has field, value and contribution" jq -e >/dev/null 'all(.contributions[]; has("field") and has("value") and (.contribution | type == "number"))' one.json
# base + sum = logit(p); p is printed with 6 decimals, so compare on the probability
check "base_value + contributions = logit(probability)" jq -e >/dev/null \
    '(.base_value + ([.contributions[].contribution] | add)) as $z | (1 / (1 + ($z * -1 | exp))) - .probability | fabs < 1e-6' one.json
post "$REC" >plain.json
check "without explain: no contributions" jq -e >/dev/null 'has("contributions") | not' plain.json
check_eq "... and the same probability" "$(jq .probability one.json)" "$(jq .probability plain.json)"
batch=$(head -n 5 single.jsonl | jq -cs '{instances: ., explain: true}')
post "$batch" >batch.json
check "batch: five explained predictions" jq -e >/dev/null '.predictions | length == 5 and all(.[]; .contributions | length > 0)' batch.json
check "batch: each adds up" jq -e >/dev/null 'all(.predictions[]; ((.base_value + ([.contributions[].contribution] | add)) as $z | (1 / (1 + ($z * -1 | exp))) - .probability | fabs < 1e-6))' batch.json
check_eq "explain must be a boolean: 422" 422 "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary '{"explain": "yes"}' "$URL/api/v1/predict")"
t_done
