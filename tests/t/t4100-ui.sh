#!/bin/bash
# The web form end to end in headless Chromium, driven through chromedriver's
# WebDriver HTTP API: load the page, wait for the form built from
# GET /api/v1/model, fill it, submit, read the result, provoke a 422 and read
# the error, take a screenshot.
. "$(dirname "$0")/lib.sh"

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    t_skip_all "chromium / chromium-driver not installed (apt-get install chromium chromium-driver)"
fi

FCGI=${READMIT_FCGI:-$TOP/build/readmit-fcgi}
PORT=$(t_port 7919 2)
DPORT=$((PORT + 1))
URL=http://127.0.0.1:$PORT
serve() {
    READMIT_HOME="$T_TMP" READMIT_CONFIG="$TOP/conf/test.yaml" READMIT_FCGI="$FCGI" \
        READMIT_HTTP_PORT=$PORT READMIT_FCGI_OPTS="-o db.name=$T_DB" "$TOP/scripts/serve.sh" "$@"
}
DRIVER_PID=
t_ui_cleanup() {
    local rc=$?
    if [ -n "${SID:-}" ]; then curl -s -X DELETE "http://127.0.0.1:$DPORT/session/$SID" >/dev/null 2>&1 || true; fi
    if [ -n "$DRIVER_PID" ]; then kill "$DRIVER_PID" 2>/dev/null || true; fi
    serve stop >/dev/null 2>&1 || true
    return $rc
}
trap 't_ui_cleanup; t_cleanup' EXIT

t_fresh_db
cd "$T_TMP"
R() { rdm "$1" -o "db.socket_dir=$TOP/var/pg/run" "${@:2}" >>out.txt 2>>err.txt; }
"$READMIT" synth --rows 4000 --seed 11 >s.csv
pipeline() { R ingest -q --source s.csv && R clean -q && R train -q && R register; }
check "pipeline: ingest, clean, train, register" pipeline
serve_start() { serve start >/dev/null; }
check "serve start" serve_start
for i in $(seq 50); do curl -sf "$URL/api/v1/model" >/dev/null && break; sleep 0.2; done

# ---- WebDriver over HTTP ----
chromedriver --port="$DPORT" >driver.log 2>&1 &
DRIVER_PID=$!
for i in $(seq 50); do curl -sf "http://127.0.0.1:$DPORT/status" >/dev/null && break; sleep 0.1; done
WD=http://127.0.0.1:$DPORT
wd() { # METHOD PATH [JSON]
    curl -s -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$WD$2"
}
caps='{"capabilities":{"alwaysMatch":{"browserName":"chrome","goog:chromeOptions":{"binary":"/usr/bin/chromium","args":["--headless","--no-sandbox","--disable-gpu","--disable-background-networking","--disable-dev-shm-usage","--window-size=1280,1100","--user-data-dir='"$T_TMP"'/chrome"]}}}}'
SID=$(wd POST /session "$caps" | jq -r '.value.sessionId // empty')
check "browser session" test -n "$SID"
S=/session/$SID
js() { wd POST "$S/execute/sync" "$(jq -cn --arg s "$1" '{script: $s, args: []}')" | jq -r '.value'; }
wait_js() { # seconds script: until the script returns "true"
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
check "page loads and builds the form from /api/v1/model" wait_js 10 'return document.body.dataset.ready === "1"'
check "drop-down for a categorical field (age)" test "$(js 'return document.querySelectorAll("#f-age option").length')" -gt 5
check "number input for an integer field" test "$(js 'return document.getElementById("f-time_in_hospital").type')" = number
check "header names the model version" grep -q 'version 1' <<<"$(text '#model-info')"

check "choose age [70-80)" click '#f-age option[value="[70-80)"]'
check "choose gender" click '#f-gender option[value="Female"]'
check "type time_in_hospital" type_in '#f-time_in_hospital' 5
check "type number_inpatient" type_in '#f-number_inpatient' 2
check "type encounter_id" type_in '#f-encounter_id' 991
check "submit" click '#submit'
check "a result appears" wait_js 10 'return document.body.dataset.result === "1"'
prob=$(text '#probability')
echo "# shown: $prob / $(text '#decision') / $(text '#model-version')"
check "probability shown as a percentage" grep -Eq '^[0-9]+\.[0-9]%$' <<<"$prob"
check "decision shown" grep -q 'readmitted within 30 days' <<<"$(text '#decision')"
check "model version shown" grep -q 'v1' <<<"$(text '#model-version')"
# the page shows what the API answers for the same record
api=$(curl -s -X POST -H 'Content-Type: application/json' --data-binary '{"age":"[70-80)","gender":"Female","time_in_hospital":5,"number_inpatient":2,"encounter_id":991}' "$URL/api/v1/predict" | jq -r '.probability * 1000 | round / 10')
check_eq "same probability as the API" "$api%" "$(awk -v p="${prob%\%}" 'BEGIN {printf "%s%%", p + 0}')"

shot=$(wd GET "$S/screenshot" | jq -r .value)
echo "$shot" | base64 -d >"$T_TMP/ui.png" 2>/dev/null
check "screenshot is a PNG" sh -c "head -c 8 '$T_TMP/ui.png' | od -An -c | grep -q 'P   N   G'"
# kept for a look after the run, with the build outputs (never under var/)
mkdir -p "$TOP/build/test-artifacts" && cp "$T_TMP/ui.png" "$TOP/build/test-artifacts/t4100-ui.png"

# an out-of-range value: the error is shown and the field is marked
check "type an out-of-range value" type_in '#f-time_in_hospital' 99
check "submit again" click '#submit'
check "an error message appears" wait_js 10 'return !document.getElementById("error").hidden'
check "... naming the field and the status" grep -q 'time_in_hospital.*422' <<<"$(text '#error')"
check "... and the field is marked invalid" test "$(js 'return document.getElementById("f-time_in_hospital").classList.contains("invalid")')" = true
t_done
