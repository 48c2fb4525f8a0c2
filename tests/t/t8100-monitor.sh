#!/bin/bash
# t8100-monitor: outcomes (file and raw batches), the monitor stage (windows,
# realized and estimated AUC, drift flags), the retrain trigger and the DAG.
. "$(dirname "$0")/lib.sh"
t_fresh_db
cd "$TOP"
cp conf/test.yaml "$T_TMP/conf.yaml"
T_CONF=$T_TMP/conf.yaml
"$READMIT" synth --rows 6000 --seed 21 >"$T_TMP/a.csv"
M=(make --no-print-directory BUILD="${T_BUILD:-build}" VAR="$T_TMP/var" CONF="$T_TMP/conf.yaml" DBNAME="$T_DB" REPORT_DIR="$T_TMP/reports")
check "pipeline with the monitor stage" "${M[@]}" -s pipeline DATA="$T_TMP/a.csv"
check "monitor stage left its stamp" test -s "$T_TMP/var/state/monitor.stamp"
check_eq "no traffic, no trigger" "" "$(ls "$T_TMP/var/state/retrain.stamp" 2>/dev/null)"
check_eq "second make: up to date" "" "$("${M[@]}" -n pipeline DATA="$T_TMP/a.csv" | grep -o 'readmit [a-z]*' | tr '\n' ' ')"

# Served traffic: 3000 predictions like the training data, then 3000 with the
# age of every patient set to [90-100) (window_rows 3000 -> two windows).
t_sql "INSERT INTO monitor.predictions (served_at, request_id, item, encounter_id, patient_nbr,
         model_name, model_version, alias, input, probability, decision, threshold)
       SELECT now(), 'r' || e.line_no, 0, e.encounter_id::bigint, e.patient_nbr::bigint,
         'readmission', 1, 'champion',
         CASE WHEN e.line_no > 3001 THEN jsonb_set(to_jsonb(e) - 'batch_id' - 'line_no' - 'readmitted', '{age}', '\"[90-100)\"')
              ELSE to_jsonb(e) - 'batch_id' - 'line_no' - 'readmitted' END,
         0.02 + 0.6 * (CASE WHEN e.readmitted = '<30' THEN 0.3 ELSE 0 END) + 0.3 * (e.line_no % 7) / 7.0, 0, 0.3
       FROM raw.encounters e ORDER BY e.line_no"
check_eq "6000 predictions logged" 6000 "$(t_sql 'SELECT count(*) FROM monitor.predictions')"

# Outcomes for the first 2000 served encounters, plus bad rows and unknown ids.
{
    echo "encounter_id,readmitted,observed_at"
    t_sql "SELECT encounter_id || ',' || readmitted || ',' FROM raw.encounters ORDER BY line_no LIMIT 2000"
    echo "abc,NO,"
    echo "999999001,<30,2026-01-01"
    echo "999999002,sometimes,"
    echo "999999003,NO,not-a-date"
} >"$T_TMP/outcomes.csv"
out=$(rdm outcomes --input "$T_TMP/outcomes.csv")
echo "$out"
check_eq "outcomes counted" "outcomes: read 2004 inserted 2001 duplicates 0 rejected 3 unmatched 1" "$out"
check_eq "rejects kept with their reason" 3 "$(t_sql "SELECT count(*) FROM monitor.outcome_rejects WHERE reason <> ''")"
check "a reject names the bad field" grep -q "readmitted: 'sometimes'" <(t_sql "SELECT reason FROM monitor.outcome_rejects")
check "re-load changes nothing" grep -q "loaded before" <(rdm outcomes --input "$T_TMP/outcomes.csv")
check_eq "still 2001 outcomes" 2001 "$(t_sql 'SELECT count(*) FROM monitor.outcomes')"
check_eq "unmatched id kept" 1 "$(t_sql 'SELECT count(*) FROM monitor.outcomes WHERE encounter_id = 999999001')"

rdm monitor --json -o monitor.window_rows=3000 -o monitor.drift_rows=100000 \
    --retrain-stamp "$T_TMP/retrain.stamp" >"$T_TMP/m.json"
j() { jq -r "$1" "$T_TMP/m.json"; }
check_eq "two windows" 2 "$(j '.windows | length')"
check_eq "window 0 outcomes" 2000 "$(j '.windows[0].labelled')"
check_eq "realized AUC on those outcomes" 2000 "$(j '.windows[0].versions[0].realized.n')"
check "realized AUC inside its patient bootstrap interval" \
    jq -e '.windows[0].versions[0].realized | .roc_auc_lo < .roc_auc and .roc_auc < .roc_auc_hi' "$T_TMP/m.json"
check "estimated AUC in both windows" jq -e '[.windows[].versions[0].estimated.roc_auc | numbers] | length == 2' "$T_TMP/m.json"
check_eq "window 1 has no outcomes" null "$(j '.windows[1].versions[0].realized')"
check_eq "drifted field ranked first" age "$(j '.windows[1].drift.fields[0].field')"
check_eq "drifted field flagged" alert "$(j '.windows[1].drift.fields[0].level')"
check_eq "undrifted fields left alone" 0 "$(j '[.windows[1].drift.fields[1:][] | select(.level != "ok")] | length')"
check_eq "nothing flagged before the shift" 0 "$(j '[.windows[0].drift.fields[] | select(.level != "ok")] | length')"
check_eq "groups on the predictions with outcomes" 2000 "$(j '.subgroups.versions[0].labelled')"
check_eq "race groups add up" 2000 "$(j '[.subgroups.versions[0].groups[] | select(.attribute == "race") | .n] | add')"
check_eq "gender groups add up" 2000 "$(j '[.subgroups.versions[0].groups[] | select(.attribute == "gender") | .n] | add')"
check "age bands as sent" jq -e '[.subgroups.versions[0].groups[] | select(.attribute == "age") | .level] | index("[70-80)") != null' "$T_TMP/m.json"
check "group sizes in patients and an interval" \
    jq -e '.subgroups.versions[0].groups[0] | .patients > 0 and .patients <= .n and .roc_auc_lo <= .roc_auc_hi' "$T_TMP/m.json"
check_eq "threshold of the served version" 0.3 "$(j '.subgroups.versions[0].threshold')"
check_eq "TPR at 0.3 by hand" \
    "$(t_sql "SELECT round(avg(CASE WHEN p.probability >= 0.3 THEN 1 ELSE 0 END)::numeric, 6) FROM monitor.predictions p JOIN monitor.outcomes o USING (encounter_id) WHERE o.label = 1")" \
    "$(j '.subgroups.versions[0].overall.tpr * 1000000 | round / 1000000')"
check "groups in the text summary" grep -q "by patient group" <(rdm monitor -q -o monitor.window_rows=3000)
check_eq "batches measured against training" 3 "$(j '.batches | length')"
check_eq "retrain fired" true "$(j '.retrain.fired')"
check "retrain reason names the field" grep -q "field age" "$T_TMP/retrain.stamp"
check "text summary" grep -q "retrain: condition holds" <(rdm monitor -q -o monitor.window_rows=3000 -o monitor.drift_rows=100000)
check_eq "a condition fires once" 1 "$(t_sql 'SELECT count(*) FROM monitor.triggers')"

# The monitor reads the log in binary through its index, joins the outcomes
# in memory and samples the inputs by hash bucket: per window (3000
# predictions in serving order) the same counts as the database's own join
# and the sample rule (a share of 1000 / 6000 of the buckets).
rdm monitor --json -o monitor.window_rows=3000 -o monitor.drift_rows=1000 >"$T_TMP/m3.json"
per_window() {
    t_sql "SELECT string_agg(n::text, ' ' ORDER BY w) FROM (
             SELECT w, count(*) FILTER (WHERE $1) n FROM (
               SELECT (row_number() OVER (ORDER BY p.served_at, p.prediction_id) - 1) / 3000 w,
                      p.prediction_id, o.label
               FROM monitor.predictions p LEFT JOIN monitor.outcomes o USING (encounter_id)
               WHERE p.model_name = 'readmission') x GROUP BY w) y"
}
check_eq "labelled per window as the database joins them" "$(per_window 'label IS NOT NULL')" \
    "$(jq -r '[.windows[].labelled] | join(" ")' "$T_TMP/m3.json")"
check_eq "inputs sampled per window by hash bucket" \
    "$(per_window '(hashint8(prediction_id) & 65535) < 1000.0 / 6000 * 65536')" \
    "$(jq -r '[.windows[].drift.rows] | join(" ")' "$T_TMP/m3.json")"

# Batches stored with race, gender and age arrays (before migration 017)
# give the same groups as the batches coded into group_values/group_codes.
check_eq "group codes stored" 0 "$(t_sql 'SELECT count(*) FROM monitor.prediction_batches WHERE group_codes IS NULL')"
rdm monitor --json -o monitor.window_rows=3000 | jq -c .subgroups >"$T_TMP/g1.json"
t_sql "UPDATE monitor.prediction_batches
       SET race = monitor.log_group(race, group_values, group_codes, 1),
           gender = monitor.log_group(gender, group_values, group_codes, 2),
           age = monitor.log_group(age, group_values, group_codes, 3),
           group_values = NULL, group_codes = NULL" >/dev/null
rdm monitor --json -o monitor.window_rows=3000 | jq -c .subgroups >"$T_TMP/g2.json"
check "groups read from either form" jq -e '.versions[0].groups | length > 10' "$T_TMP/g1.json"
check_eq "the same groups from either form" "$(cat "$T_TMP/g1.json")" "$(cat "$T_TMP/g2.json")"

# The next make re-runs train and register because of the trigger.
cp "$T_TMP/retrain.stamp" "$T_TMP/var/state/retrain.stamp"
plan=$("${M[@]}" -n pipeline DATA="$T_TMP/a.csv" | grep -oE 'readmit (train|register)' | tr '\n' ' ')
check_eq "trigger plans train and register" "readmit train readmit register " "$plan"
check "make retrains" "${M[@]}" -s pipeline DATA="$T_TMP/a.csv"
check "monitor page: performance by patient group" grep -q "race AfricanAmerican" "$T_TMP/reports/monitor.html"
check_eq "a second training" 2 "$(t_sql 'SELECT count(*) FROM registry.trainings')"
check "the gate ran (a new version)" test "$(t_sql 'SELECT count(*) FROM registry.model_versions')" -ge 2

# A raw batch ingested after serving carries outcomes of served encounters.
"$READMIT" synth --rows 500 --seed 22 | awk -F, 'NR == 1 {print; next} {$1 = 800000000 + NR; print}' OFS=, >"$T_TMP/b.csv"
t_sql "INSERT INTO monitor.predictions (served_at, request_id, item, encounter_id, model_name,
         model_version, input, probability, decision, threshold)
       SELECT now(), 'b' || g, 0, 800000000 + g, 'readmission', 1, '{}', 0.1, 0, 0.3
       FROM generate_series(2, 501) g"
rdm ingest -q --source "$T_TMP/b.csv" >/dev/null
rdm monitor --json -o monitor.window_rows=3000 >"$T_TMP/m2.json"
check_eq "outcomes from the new raw batch" 500 "$(jq -r '.log.outcomes_from_raw' "$T_TMP/m2.json")"
check_eq "each with the raw batch's value" 0 "$(t_sql "SELECT count(*) FROM monitor.outcomes o
    JOIN raw.encounters e ON e.encounter_id = o.encounter_id::text
    WHERE o.encounter_id > 800000000 AND (o.readmitted <> e.readmitted
          OR o.label <> (e.readmitted = '<30')::int OR o.source <> 'raw batch ' || e.batch_id)")"
check_eq "taken once" 0 "$(rdm monitor --json -o monitor.window_rows=3000 | jq -r '.log.outcomes_from_raw')"
check_eq "the new batch measured" 4 "$(jq -r '.batches | length' "$T_TMP/m2.json")"
t_done
