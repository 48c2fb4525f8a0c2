#!/bin/bash
# t4050-code-labels: a synthetic UCI zip with a code-label mapping beside the
# data (readmit synth --mapping, one bad line added): ingest keeps the labels
# in raw.code_labels and the bad line, with its line number, in
# raw.code_label_rejects; the trained model's input schema carries them and
# GET /api/v1/model shows "Emergency", "Discharged to home" and "Physician
# Referral" beside the codes.
. "$(dirname "$0")/lib.sh"
command -v zip >/dev/null || t_skip_all "zip not installed"

FCGI=${READMIT_FCGI:-$TOP/build/readmit-fcgi}
PORT=$(t_port 4051)
URL=http://127.0.0.1:$PORT
serve() {
    READMIT_HOME="$T_TMP" READMIT_CONFIG="$TOP/conf/test.yaml" READMIT_FCGI="$FCGI" \
        READMIT_HTTP_PORT=$PORT READMIT_FCGI_OPTS="-o db.name=$T_DB" "$TOP/scripts/serve.sh" "$@"
}
trap 'serve stop >/dev/null 2>&1 || true; t_cleanup' EXIT

t_fresh_db
cd "$T_TMP"
R() { rdm "$1" -o "db.socket_dir=$TOP/var/pg/run" "${@:2}"; }
mkdir dataset_diabetes
check "synth data and mapping" "$READMIT" synth --rows 3000 --seed 12 \
    --out dataset_diabetes/diabetic_data.csv --mapping dataset_diabetes/IDs_mapping.csv
check "mapping has the UCI layout" grep -q "^admission_source_id,description" dataset_diabetes/IDs_mapping.csv
# a bad line on line 3 of the mapping: a code that is not a number
sed -i '3i x9,Not a code\r' dataset_diabetes/IDs_mapping.csv
(zip -qr d.zip dataset_diabetes)
R ingest --source d.zip >ing.txt 2>ing.err
cat ing.txt ing.err
check "ingest reads the mapping" grep -q "code labels: 46 from the source's IDs_mapping.csv, 1 bad lines kept" ing.txt
check "the bad line is reported with its line number" grep -q "IDs_mapping.csv line 3: code 'x9' is not a positive integer" ing.err
check_eq "labels kept" 46 "$(t_sql 'SELECT count(*) FROM raw.code_labels')"
check_eq "the bad line kept with its line" "3|x9,Not a code" "$(t_sql 'SELECT line_no, raw FROM raw.code_label_rejects')"
check_eq "leading blank trimmed" "Physician Referral" \
    "$(t_sql "SELECT label FROM raw.code_labels WHERE column_name = 'admission_source_id' AND code = '1'")"
R ingest -q --source d.zip >/dev/null 2>&1
check_eq "re-ingest: still 46 labels, 1 reject" "46 1" \
    "$(t_sql 'SELECT (SELECT count(*) FROM raw.code_labels) || chr(32) || (SELECT count(*) FROM raw.code_label_rejects)')"
check "clean" R clean -q
check "train" R train -q
check "register" R register
check "serve start" serve start >/dev/null
for i in $(seq 50); do curl -sf "$URL/api/v1/model" >model.json && break; sleep 0.2; done
label() { jq -r --arg f "$1" --arg c "$2" '.input[] | select(.name == $f) | .labels[.levels | index($c)]' model.json; }
check_eq "admission type 1" Emergency "$(label admission_type_id 1)"
check_eq "discharge disposition 1" "Discharged to home" "$(label discharge_disposition_id 1)"
check_eq "admission source 1" "Physician Referral" "$(label admission_source_id 1)"
check_eq "admission source 7" "Synthetic source, code 7" "$(label admission_source_id 7)"
check "labels parallel to levels" jq -e '[.input[] | select(.labels) | (.labels | length) == (.levels | length)] | all' model.json
check_eq "fields without a mapping carry no labels" null "$(jq -r '.input[] | select(.name == "race") | .labels' model.json)"
t_done
