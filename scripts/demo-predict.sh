#!/bin/bash
# End of `make demo`: ask the running server for one prediction and print the URLs.
set -euo pipefail
conf=${1:-conf/readmit.yaml}
port=${READMIT_HTTP_PORT:-$(awk '/^serve:/{f=1;next} /^[^ \t#]/{f=0} f && $1=="http_port:"{print $2; exit}' "$conf" 2>/dev/null)}
port=${port:-8080}
url="http://127.0.0.1:$port"
body='{"encounter_id": "demo-1", "age": "[70-80)", "gender": "Female", "race": "Caucasian",
       "admission_type_id": 1, "discharge_disposition_id": 3, "admission_source_id": 7,
       "time_in_hospital": 6, "num_lab_procedures": 52, "num_medications": 18,
       "number_inpatient": 2, "number_emergency": 1, "number_diagnoses": 9,
       "diag_1": "428", "diag_2": "250.02", "diag_3": "401", "insulin": "Up",
       "A1Cresult": ">8", "max_glu_serum": "None", "change": "Ch", "diabetesMed": "Yes"}'
for i in $(seq 1 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz" || true)
    [ "$code" = 200 ] && break
    sleep 0.2
done
echo "POST $url/api/v1/predict"
curl -sS -H 'Content-Type: application/json' --data "$body" "$url/api/v1/predict"
echo
echo "web form: $url/   reports: $url/reports/   metrics: $url/metrics   (make stop to stop)"
