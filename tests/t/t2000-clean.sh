#!/bin/bash
# clean: typing, rules, duplicates, filters, incremental runs, config changes,
# failed validation keeping the previous snapshot, status.
. "$(dirname "$0")/lib.sh"
t_fresh_db

N=3000
"$READMIT" synth --rows $N --seed 7 --dirty --out "$T_TMP/a.csv" >/dev/null
rdm ingest -q --source "$T_TMP/a.csv" >"$T_TMP/ingest.out"
accepted=$(t_sql "SELECT sum(rows_accepted) FROM raw.batches")

check "clean succeeds" eval 'rdm clean -q --stamp "$T_TMP/clean.stamp" >"$T_TMP/out1"'
q() { t_sql "$1"; }
# accounting: raw accepted = clean + filtered + duplicates + rejected
sums=$(q "SELECT sum(rows_in), sum(rows_clean), sum(rows_filtered), sum(rows_duplicate), sum(rows_rejected) FROM clean.batches")
IFS='|' read -r s_in s_clean s_filt s_dup s_rej <<<"$sums"
check_eq "every accepted raw row was looked at" "$accepted" "$s_in"
check_eq "accepted = clean + filtered + duplicates + rejected" "$accepted" "$((s_clean + s_filt + s_dup + s_rej))"
check_eq "clean rows stored" "$s_clean" "$(q "SELECT count(*) FROM clean.encounters")"
check_eq "one reject row per rejected row" "$s_rej" "$(q "SELECT count(*) FROM clean.rejects")"
check_eq "one duplicate encounter id" "1" "$s_dup"

# the value-level dirty rows (src/synth.h: dirty row i is on line N + 2 + i)
rule_at() { q "SELECT rule FROM clean.rejects WHERE line_no = $1"; }
check_eq "unknown gender rejected by gender_allowed" "gender_allowed" "$(rule_at $((N + 7)))"
check_eq "out-of-range time_in_hospital rejected" "time_in_hospital_range" "$(rule_at $((N + 8)))"
check_eq "non-integer rejected with type:num_lab_procedures" "type:num_lab_procedures" "$(rule_at $((N + 9)))"
check_eq "only the three bad rows are rejected" "3" "$s_rej"
check_eq "the duplicate id is not in clean twice" "0" \
    "$(q "SELECT count(*) FROM clean.encounters WHERE line_no = $((N + 10))")"
check_eq "script value kept as text" "<script>alert(1)</script>" \
    "$(q "SELECT medical_specialty FROM clean.encounters WHERE line_no = $((N + 11))")"

# filters and types, checked against raw with independent SQL
raw_filtered=$(q "SELECT count(*) FROM raw.encounters r WHERE trim(discharge_disposition_id) IN ('11','13','14','19','20','21')
  AND NOT EXISTS (SELECT 1 FROM clean.rejects j WHERE j.batch_id = r.batch_id AND j.line_no = r.line_no)
  AND r.line_no <> $((N + 10))")
check_eq "expired/hospice discharges filtered" "$raw_filtered" "$s_filt"
check_eq "no filtered discharge left" "0" \
    "$(q "SELECT count(*) FROM clean.encounters WHERE discharge_disposition_id IN (11,13,14,19,20,21)")"
check_eq "'?' became NULL" "0" "$(q "SELECT count(*) FROM clean.encounters c JOIN raw.encounters r USING (batch_id, line_no)
  WHERE (r.race = '?') <> (c.race IS NULL) OR (r.payer_code = '?') <> (c.payer_code IS NULL)")"
check_eq "integers equal their raw text" "0" "$(q "SELECT count(*) FROM clean.encounters c JOIN raw.encounters r USING (batch_id, line_no)
  WHERE c.num_medications <> r.num_medications::int OR c.encounter_id <> r.encounter_id::bigint")"
check_eq "target = readmitted is <30" "0" "$(q "SELECT count(*) FROM clean.encounters WHERE target <> (readmitted = '<30')::int")"
check "None kept as a category" test "$(q "SELECT count(*) FROM clean.encounters WHERE \"A1Cresult\" = 'None'")" -gt 0
check_eq "diag groups derived" "0" "$(q "SELECT count(*) FROM clean.encounters WHERE (diag_1 IS NULL) <> (diag_1_group = 'missing')")"
check_eq "snapshot ok" "ok|$s_clean" "$(q "SELECT status, rows FROM clean.snapshots ORDER BY snapshot_id DESC LIMIT 1")"
check_eq "profile stored" "$s_clean" "$(q "SELECT profile->>'rows' FROM clean.profiles")"
check_eq "validation counts per batch" "1" \
    "$(q "SELECT sum(violations) FROM clean.validation WHERE rule = 'gender_allowed'")"
stamp1=$(cat "$T_TMP/clean.stamp")

# incremental: nothing new -> nothing done, stamp unchanged
rdm clean -q --stamp "$T_TMP/clean.stamp" >"$T_TMP/out2"
check "second clean does nothing" grep -q "nothing to do" "$T_TMP/out2"
check_eq "no new snapshot" "1" "$(q "SELECT count(*) FROM clean.snapshots")"
check_eq "stamp unchanged" "$stamp1" "$(cat "$T_TMP/clean.stamp")"

# a new batch: only that batch is cleaned
"$READMIT" synth --rows 500 --seed 8 --out "$T_TMP/b.csv" >/dev/null
rdm ingest -q --source "$T_TMP/b.csv" >/dev/null
nb=$(q "SELECT max(batch_id) FROM raw.batches")
rdm clean -q --stamp "$T_TMP/clean.stamp" >"$T_TMP/out3"
check "third clean cleans one batch" grep -q "clean: 1 batch:" "$T_TMP/out3"
check_eq "old batches keep their snapshot" "1" "$(q "SELECT max(snapshot_id) FROM clean.batches WHERE batch_id < $nb")"
check_eq "new batch in the new snapshot" "2" "$(q "SELECT snapshot_id FROM clean.batches WHERE batch_id = $nb")"
check "stamp changed" test "$stamp1" != "$(cat "$T_TMP/clean.stamp")"
rows2=$(q "SELECT count(*) FROM clean.encounters")
check_eq "snapshot rows = clean rows" "$rows2" "$(q "SELECT rows FROM clean.snapshots WHERE snapshot_id = 2")"
# (an incremental run reads the whole snapshot back for its profile)
prof2=$(q "SELECT md5((profile - 'snapshot_id')::text) FROM clean.profiles WHERE snapshot_id = 2")

# a changed clean section re-cleans everything with the new rules
cp "$TOP/conf/test.yaml" "$T_TMP/rules.yaml"
cat >>"$T_TMP/rules.yaml" <<'EOF'
clean:
  rules:
    - name: gender_allowed
      column: gender
      allowed: [Female, Male, Unknown/Invalid]
    - name: payer_code_present
      column: payer_code
      not_null: true
      severity: soft
EOF
T_CONF="$T_TMP/rules.yaml" rdm clean -q >"$T_TMP/out4"
check "config change re-cleans all batches" grep -q "config changed" "$T_TMP/out4"
check_eq "out-of-range row no longer rejected (no range rule)" "" "$(rule_at $((N + 8)))"
check_eq "still rejected by gender_allowed" "gender_allowed" "$(rule_at $((N + 7)))"
check "soft rule counted, not rejected" test "$(q "SELECT sum(violations) FROM clean.validation v
  WHERE rule = 'payer_code_present' AND snapshot_id = (SELECT max(snapshot_id) FROM clean.snapshots)")" -gt 0
check_eq "soft rule rejects nothing" "0" "$(q "SELECT count(*) FROM clean.rejects WHERE rule = 'payer_code_present'")"
check_eq "re-clean: one more clean row" "$((rows2 + 1))" "$(q "SELECT count(*) FROM clean.encounters")"
# (a run into an emptied clean.encounters builds its primary key after the load)
pkey() { q "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'clean.encounters'::regclass AND contype = 'p'"; }
check_eq "re-clean: the primary key built again" "PRIMARY KEY (encounter_id)" "$(pkey)"
check "re-clean: the primary key refuses a second row of an id" \
    eval '! q "INSERT INTO clean.encounters SELECT * FROM clean.encounters LIMIT 1" >/dev/null 2>&1'
T_CONF="$T_TMP/rules.yaml" rdm clean -q >"$T_TMP/out5"
check "same config again: nothing to do" grep -q "nothing to do" "$T_TMP/out5"

# a failing hard max_missing rule stops the stage and keeps the snapshot
good_snap=$(q "SELECT max(snapshot_id) FROM clean.snapshots WHERE status = 'ok'")
good_rows=$(q "SELECT count(*) FROM clean.encounters")
cp "$TOP/conf/test.yaml" "$T_TMP/fail.yaml"
cat >>"$T_TMP/fail.yaml" <<'EOF'
clean:
  rules:
    - name: weight_mostly_present
      column: weight
      max_missing: 0.5
      severity: hard
EOF
rc=0
T_CONF="$T_TMP/fail.yaml" rdm clean -q --stamp "$T_TMP/clean.stamp" >"$T_TMP/out6" 2>"$T_TMP/err6" || rc=$?
check_eq "failed validation exits 1" "1" "$rc"
check "message names the rule and the batch" grep -q "rule 'weight_mostly_present' (hard) in batch 1: weight is missing in" "$T_TMP/err6"
check_eq "previous snapshot rows intact" "$good_rows" "$(q "SELECT count(*) FROM clean.encounters")"
check_eq "previous snapshot still the latest ok" "$good_snap" "$(q "SELECT max(snapshot_id) FROM clean.snapshots WHERE status = 'ok'")"
check_eq "failure recorded" "failed" "$(q "SELECT status FROM clean.snapshots ORDER BY snapshot_id DESC LIMIT 1")"
check_eq "failure's validation stored" "f" "$(q "SELECT passed FROM clean.validation WHERE rule = 'weight_mostly_present' AND batch_id = 1")"
check_eq "failed re-clean: the primary key kept" "PRIMARY KEY (encounter_id)" "$(pkey)"

# status
rdm status >"$T_TMP/status.txt"
rdm status --json >"$T_TMP/status.json"
clean_rows=$(q "SELECT count(*) FROM clean.encounters")
all_read=$(q "SELECT sum(rows_read) FROM raw.batches")
check "status shows raw counts" grep -q "$all_read read = " "$T_TMP/status.txt"
check "status shows clean rows" grep -q "$clean_rows clean rows" "$T_TMP/status.txt"
check "status shows the failure" grep -q "FAILED" "$T_TMP/status.txt"
check "status --json has the clean count" grep -q "\"clean\": $clean_rows" "$T_TMP/status.json"
check "status --json has the snapshot" grep -q "\"snapshot_id\": $good_snap" "$T_TMP/status.json"
check "status --json names the failure" grep -q "weight_mostly_present" "$T_TMP/status.json"
check "clean --help" eval 'rdm clean --help >/dev/null'

# a run from an empty snapshot builds the profile from the rows as it writes
# them: the same profile as the incremental snapshot 2 read back, same rows
q "TRUNCATE clean.encounters, clean.rejects, clean.batches, clean.validation, clean.profiles, clean.snapshots CASCADE" >/dev/null 2>&1
rdm clean -q >"$T_TMP/out7"
check_eq "fresh clean: the rows of snapshot 2" "$rows2" "$(q "SELECT count(*) FROM clean.encounters")"
check_eq "fresh clean: the profile of snapshot 2" "$prof2" \
    "$(q "SELECT md5((profile - 'snapshot_id')::text) FROM clean.profiles")"
t_done
