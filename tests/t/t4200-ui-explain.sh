#!/bin/bash
# Explanations end to end: `readmit predict --explain`, POST /api/v1/predict
# with "explain": true (single and batch) through nginx and the pool, the
# contributions adding up to the logit of the probability, requests without
# it unchanged; codes shown with their meaning from the mapping file; then
# the web form in headless Chromium when it is installed: code labels in the
# form, a diagnosis entered as an ICD-9 code and the chart of contributions,
# its coded fields named by their meaning.
. "$(dirname "$0")/lib.sh"

FCGI=${READMIT_FCGI:-$TOP/build/readmit-fcgi}
PORT=$(t_port 4111 2)
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
# the UCI layout: the records and the code-label mapping (IDs_mapping.csv) in one zip
mkdir dataset_diabetes
"$READMIT" synth --rows 4000 --seed 12 --out dataset_diabetes/diabetic_data.csv \
    --mapping dataset_diabetes/IDs_mapping.csv
cp dataset_diabetes/diabetic_data.csv s.csv
SOURCE=s.csv
if command -v zip >/dev/null; then
    (zip -qr d.zip dataset_diabetes) && SOURCE=d.zip
fi
pipeline() { R ingest -q --source "$SOURCE" && R clean -q && R train -q && R register; }
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
# codes with a meaning in the mapping are shown with it, e.g. "admission_type_id=1 (Emergency)"
coded() { grep -oE '(admission_type_id|admission_source_id|discharge_disposition_id)=[^:;]*' explained.csv; }
if [ "$SOURCE" = d.zip ]; then
    echo "# coded entries: $(coded | sort | uniq -c | sort -rn | head -n 3 | tr -s ' \n' ' ')"
    check "codes in the top contributions" test "$(coded | wc -l)" -gt 0
    check "... each with its meaning" sh -c '! grep -oE "(admission_type_id|admission_source_id|discharge_disposition_id)=[^:;]*" explained.csv | grep -vE "=([0-9]+ \(.+\)|\?)$"'
else
    ok "skipped: zip not installed, no code labels"
fi

# ---- the API, through nginx ----
serve_start() { serve start >/dev/null; }
check "serve start" serve_start
for i in $(seq 50); do curl -sf "$URL/api/v1/model" >/dev/null && break; sleep 0.2; done
awk -v max=20 -f "$TOP/nginx/bench/records.awk" s.csv >single.jsonl
REC=$(head -n 1 single.jsonl)
post() { curl -s -X POST -H 'Content-Type: application/json' --data-binary "$1" "$URL/api/v1/predict"; }
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
check_eq "explain must be a boolean: 422" 422 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary '{"explain": "yes"}' "$URL/api/v1/predict")"
# ---- the web form in headless Chromium ----
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "# skip: chromium / chromium-driver not installed (apt-get install chromium chromium-driver)"
    ok "skipped: no chromium"
    t_done
    exit 0
fi
chromedriver --port="$DPORT" >driver.log 2>&1 &
DRIVER_PID=$!
for i in $(seq 50); do curl -sf "http://127.0.0.1:$DPORT/status" >/dev/null && break; sleep 0.1; done
WD=http://127.0.0.1:$DPORT
wd() { curl -s -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$WD$2"; }
caps='{"capabilities":{"alwaysMatch":{"browserName":"chrome","goog:chromeOptions":{"binary":"/usr/bin/chromium","args":["--headless","--no-sandbox","--disable-gpu","--disable-background-networking","--disable-dev-shm-usage","--window-size=400,1400","--user-data-dir='"$T_TMP"'/chrome"]}}}}'
SID=$(wd POST /session "$caps" | jq -r '.value.sessionId // empty')
check "browser session (phone width)" test -n "$SID"
S=/session/$SID
js() { wd POST "$S/execute/sync" "$(jq -cn --arg s "$1" '{script: $s, args: []}')" | jq -r '.value'; }
wait_js() {
    local n=$(($1 * 10))
    while [ $n -gt 0 ]; do
        [ "$(js "$2")" = true ] && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
elem() { wd POST "$S/element" "$(jq -cn --arg c "$1" '{using: "css selector", value: $c}')" | jq -r '.value | to_entries[0].value // empty'; }
click() { local e; e=$(elem "$1"); [ -n "$e" ] && wd POST "$S/element/$e/click" '{}' >/dev/null; }
type_in() { local e; e=$(elem "$1"); [ -n "$e" ] && wd POST "$S/element/$e/clear" '{}' >/dev/null &&
    wd POST "$S/element/$e/value" "$(jq -cn --arg t "$2" '{text: $t}')" >/dev/null; }
text() { local e; e=$(elem "$1"); wd GET "$S/element/$e/text" | jq -r .value; }

wd POST "$S/url" "$(jq -cn --arg u "$URL/" '{url: $u}')" >/dev/null
check "form built" wait_js 10 'return document.body.dataset.ready === "1"'
check "fields grouped as a clinician reads them" test "$(js 'return ["patient","admission","diagnoses","labs","medications","utilisation"].every(g => document.querySelector("#g-" + g + " label"))')" = true
check "human labels" grep -q 'Age band' <<<"$(text '#g-patient')"
check "a diagnosis is a code field with the codes seen in training" \
    test "$(js 'const i = document.getElementById("f-diag_1"); return i.tagName === "INPUT" && document.querySelectorAll("#dl-diag_1 option").length > 5')" = true
check "medications in their four states, in order" test "$(js 'return Array.from(document.querySelectorAll("#f-insulin option")).map(o => o.value).join(",")')" = ",No,Steady,Up,Down"
check "age bands in natural order" test "$(js 'const v = Array.from(document.querySelectorAll("#f-age option")).map(o => parseInt(o.value.slice(1), 10)).filter(x => !isNaN(x)); return v.every((x, i) => i === 0 || v[i - 1] < x)')" = true
check "no external requests" test "$(js 'return performance.getEntriesByType("resource").every(r => r.name.startsWith(location.origin))')" = true
# a code that is not ICD-9 is refused before anything is sent
check "type a bad code" type_in '#f-diag_1' 'heart'
check "submit" click '#submit'
check "... refused with a message" wait_js 10 'return !document.getElementById("error").hidden && document.getElementById("f-diag_1").classList.contains("invalid")'
check "type the diagnosis 428" type_in '#f-diag_1' 428
check "... its chapter is shown" grep -q 'circulatory' <<<"$(text '#h-diag_1')"
if [ "$SOURCE" = d.zip ]; then
    check "codes shown with their meaning (IDs_mapping.csv)" test "$(js 'return Array.from(document.querySelectorAll("#f-admission_type_id option")).some(o => o.value === "1" && o.textContent.includes("Emergency"))')" = true
    check "... discharge disposition too" test "$(js 'return Array.from(document.querySelectorAll("#f-discharge_disposition_id option")).some(o => o.textContent.includes("Discharged to home"))')" = true
    check "choose admission type 1" click '#f-admission_type_id option[value="1"]'
    check "choose discharge disposition 1" click '#f-discharge_disposition_id option[value="1"]'
    check "choose admission source 7" click '#f-admission_source_id option[value="7"]'
fi
check "choose age [70-80)" click '#f-age option[value="[70-80)"]'
check "type inpatient stays" type_in '#f-number_inpatient' 3
check "every control reachable by keyboard" test "$(js 'return Array.from(document.querySelectorAll("#form input, #form select, #form button")).every(e => e.tabIndex >= 0 && !e.disabled)')" = true
check "submit" click '#submit'
check "a result appears" wait_js 10 'return document.body.dataset.result === "1"'
check "the explanation chart has bars" test "$(js 'return document.querySelectorAll("#explain-chart .xrow .xbar").length')" -gt 2
if [ "$SOURCE" = d.zip ]; then
    # every bar of a coded field names the code's meaning, not the bare code
    labelled='const f = {admission_type_id: 1, admission_source_id: 1, discharge_disposition_id: 1}; const rows = Array.from(document.querySelectorAll("#explain-chart .xrow .lab")).filter(l => f[l.title.split(" = ")[0]]);'
    echo "# coded bars: $(js "$labelled"' return rows.map(l => l.textContent).join(" | ")')"
    check "a coded field among the bars" test "$(js "$labelled"' return rows.length')" -gt 0
    check "... shown with its meaning and code" test "$(js "$labelled"' return rows.every(l => /: .+ \(code [0-9]+\)$/.test(l.textContent) && !/not known/.test(l.textContent))')" = true
fi
check "bars for raising and lowering fields" test "$(js 'return document.querySelectorAll("#explain-chart .xbar.up").length + document.querySelectorAll("#explain-chart .xbar.down").length === document.querySelectorAll("#explain-chart .xbar").length')" = true
echo "# band: $(text '#band') / $(text '#base-rate')"
check "risk band in words" grep -Eq 'risk|tenth' <<<"$(text '#band')"
check "base rate and the ratio to it" grep -q 'times the base rate' <<<"$(text '#base-rate')"
lacks() { ! grep -qi "$1"; }
check "no 'likely readmitted' wording" lacks 'likely readmitted' <<<"$(text '#answer')"
api=$(curl -s -X POST -H 'Content-Type: application/json' --data-binary '{"age":"[70-80)","diag_1":"428","number_inpatient":3,"explain":true}' "$URL/api/v1/predict")
want=$(jq -r '[.contributions[] | select(.contribution != 0)][0].field' <<<"$api")
check "the chart's first bar is the API's largest contribution" grep -q "$want" <<<"$(js 'return document.querySelector("#explain-chart .xrow .lab").title')"
shot=$(wd GET "$S/screenshot" | jq -r .value)
echo "$shot" | base64 -d >"$T_TMP/ui-explain.png" 2>/dev/null
check "screenshot is a PNG" sh -c "head -c 8 '$T_TMP/ui-explain.png' | od -An -c | grep -q 'P   N   G'"
mkdir -p "$TOP/build/test-artifacts" && cp "$T_TMP/ui-explain.png" "$TOP/build/test-artifacts/t4200-ui-explain.png"
t_done
