#!/bin/bash
# t1000-ingest: batch ingest of synthetic data into raw.*: counts add up, the
# known dirty rows land in raw.rejects with their reasons, re-ingest is a
# no-op, --batches next, a new file appends, a wrong header fails, and a kill
# in the middle leaves only whole batches.
. "$(dirname "$0")/lib.sh"
t_fresh_db

# batch_rows comes from conf/test.yaml when it says so; force it for the arithmetic below
B=2000
ing() { rdm ingest -q -o data.batch_rows=$B "$@"; }
counts() { sed -n 's/^read \([0-9]*\) accepted \([0-9]*\) rejected \([0-9]*\)$/\1 \2 \3/p' "$1"; }

# --- synthetic file with the dirty rows: 5000 clean + 13 dirty (6 raw-level) ---
rdm synth --rows 5000 --seed 11 --dirty --out "$T_TMP/a.csv"
check "synth wrote the file" test -s "$T_TMP/a.csv"
ing --source "$T_TMP/a.csv" >"$T_TMP/out1" 2>"$T_TMP/err1" || { cat "$T_TMP/err1"; not_ok "ingest a.csv"; }
check_eq "read/accepted/rejected printed" "5013 5007 6" "$(counts "$T_TMP/out1")"
check_eq "raw.encounters rows" 5007 "$(t_sql 'SELECT count(*) FROM raw.encounters')"
check_eq "raw.rejects rows" 6 "$(t_sql 'SELECT count(*) FROM raw.rejects')"
check_eq "ledger: 3 batches of 2000, 2000, 1013 records" "1:2000:2000:0:2:2001|2:2000:2000:0:2002:4001|3:1013:1007:6:4002:5015" \
    "$(t_sql "SELECT string_agg(concat_ws(':', batch_no, rows_read, rows_accepted, rows_rejected, first_line, last_line), '|' ORDER BY batch_no) FROM raw.batches")"
check_eq "ledger sums match the tables" "5013 5007 6" \
    "$(t_sql "SELECT sum(rows_read) || ' ' || sum(rows_accepted) || ' ' || sum(rows_rejected) FROM raw.batches")"
# (the ledger was empty: batches were loaded while the sha256 pass ran, and
# each got the file's sha256 before it committed)
check_eq "first ingest: every batch under the file's sha256" "$(sha256sum "$T_TMP/a.csv" | cut -c1-64)" \
    "$(t_sql "SELECT string_agg(DISTINCT source_sha256, ',') FROM raw.batches")"

# every raw-level dirty row is rejected with the right line and reason (see src/synth.h)
expected="5002|line 5002: 49 fields, expected 50
5003|line 5003: 51 fields, expected 50
5004|line 5004, column 'race': invalid UTF-8
5005|line 5005, column 'medical_specialty': field of 5000 bytes, longer than 1024
5006|line 5006, column 'payer_code': stray quote in unquoted field
5015|line 5015, column 'medical_specialty': unterminated quote at end of file"
check_eq "rejects: lines and reasons" "$expected" "$(t_sql 'SELECT line_no || $$|$$ || reason FROM raw.rejects ORDER BY line_no')"
check_eq "reject keeps the raw bytes (Latin-1 e acute)" 1 \
    "$(t_sql "SELECT count(*) FROM raw.rejects WHERE line_no = 5004 AND position('\\xe9'::bytea IN raw_text) > 0")"
check_eq "reject raw text is the line without its newline" 1 \
    "$(t_sql "SELECT count(*) FROM raw.rejects WHERE line_no = 5015 AND get_byte(raw_text, length(raw_text) - 1) <> 10")"

# value-level dirty rows are accepted as text, exactly as written
check_eq "script value stored verbatim" 5011 \
    "$(t_sql "SELECT line_no FROM raw.encounters WHERE medical_specialty = '<script>alert(1)</script>'")"
check_eq "quoted img value stored unquoted" 5012 \
    "$(t_sql "SELECT line_no FROM raw.encounters WHERE medical_specialty = '\"><img src=x onerror=alert(1)>'")"
check_eq "quoted comma + newline, line number of its first line" 5013 \
    "$(t_sql "SELECT line_no FROM raw.encounters WHERE medical_specialty = E'Surgery, General\\nNight'")"
check_eq "unknown category accepted" 1 "$(t_sql "SELECT count(*) FROM raw.encounters WHERE gender = 'Robot'")"
check_eq "out-of-range number accepted" 1 "$(t_sql "SELECT count(*) FROM raw.encounters WHERE time_in_hospital = '99'")"
check_eq "non-integer accepted" 1 "$(t_sql "SELECT count(*) FROM raw.encounters WHERE num_lab_procedures = 'forty'")"
check_eq "duplicate encounter id accepted" 1 \
    "$(t_sql 'SELECT count(*) FROM (SELECT encounter_id FROM raw.encounters GROUP BY 1 HAVING count(*) = 2) d')"
check_eq "missing kept as ?" 1 "$(t_sql "SELECT (count(*) > 0)::int FROM raw.encounters WHERE weight = '?'")"
check_eq "line numbers of clean rows: line 2 is the first data row" 2 "$(t_sql 'SELECT min(line_no) FROM raw.encounters')"
check_eq "first row's encounter id matches the file" "$(sed -n 2p "$T_TMP/a.csv" | cut -d, -f1)" \
    "$(t_sql 'SELECT encounter_id FROM raw.encounters WHERE line_no = 2')"
check_eq "row 1234 round-trips exactly" "$(sed -n 1234p "$T_TMP/a.csv")" \
    "$(t_sql "SELECT concat_ws(',', encounter_id, patient_nbr, race, gender, age, weight, admission_type_id, discharge_disposition_id, admission_source_id, time_in_hospital, payer_code, medical_specialty, num_lab_procedures, num_procedures, num_medications, number_outpatient, number_emergency, number_inpatient, diag_1, diag_2, diag_3, number_diagnoses, max_glu_serum, \"A1Cresult\", metformin, repaglinide, nateglinide, chlorpropamide, glimepiride, acetohexamide, glipizide, glyburide, tolbutamide, pioglitazone, rosiglitazone, acarbose, miglitol, troglitazone, tolazamide, examide, citoglipton, insulin, \"glyburide-metformin\", \"glipizide-metformin\", \"glimepiride-pioglitazone\", \"metformin-rosiglitazone\", \"metformin-pioglitazone\", change, \"diabetesMed\", readmitted) FROM raw.encounters WHERE line_no = 1234")"

# --- re-ingest of the same file is a no-op ---
ing --source "$T_TMP/a.csv" >"$T_TMP/out2"
check_eq "re-ingest reads nothing new" "0 0 0" "$(counts "$T_TMP/out2")"
check_eq "re-ingest adds no batch" 3 "$(t_sql 'SELECT count(*) FROM raw.batches')"
check_eq "re-ingest adds no row" 5007 "$(t_sql 'SELECT count(*) FROM raw.encounters')"
# the same file given through the environment
READMIT_DATA="$T_TMP/a.csv" ing >"$T_TMP/out2b"
check_eq "READMIT_DATA names the source" "0 0 0" "$(counts "$T_TMP/out2b")"

# --- a new file appends, one batch at a time with --batches next ---
rdm synth --rows 5000 --seed 12 --out "$T_TMP/b.csv"
ing --source "$T_TMP/b.csv" --batches next >"$T_TMP/out3"
check_eq "next: one batch" "2000 2000 0" "$(counts "$T_TMP/out3")"
check "next: says 2 batches left" grep -q 'left 2' "$T_TMP/out3"
ing --source "$T_TMP/b.csv" --batches next >"$T_TMP/out4"
check_eq "next again: the second batch" "2000 2000 0" "$(counts "$T_TMP/out4")"
ing --source "$T_TMP/b.csv" --batches all >"$T_TMP/out5"
check_eq "all: the rest" "1000 1000 0" "$(counts "$T_TMP/out5")"
ing --source "$T_TMP/b.csv" --batches next >"$T_TMP/out6"
check_eq "next when all loaded: nothing" "0 0 0" "$(counts "$T_TMP/out6")"
check_eq "new file: batches 1..3 under its own sha256" "1,2,3" \
    "$(t_sql "SELECT string_agg(batch_no::text, ',' ORDER BY batch_no) FROM raw.batches WHERE source_path = '$T_TMP/b.csv'")"
check_eq "two sources in the ledger" 2 "$(t_sql 'SELECT count(DISTINCT source_sha256) FROM raw.batches')"
check_eq "total rows" 10007 "$(t_sql 'SELECT count(*) FROM raw.encounters')"

# --- a new batch size between runs loads exactly the records not loaded yet ---
# (the same file, 7000 records: 2 x 1500 then 5000 at a time, and 5000 then 1500 at a time)
per_line() { t_sql "SELECT count(*) || ' ' || count(DISTINCT e.line_no) || ' ' || min(e.line_no) || ' ' || max(e.line_no) FROM raw.encounters e JOIN raw.batches b USING (batch_id) WHERE b.source_path = '$1'"; }
rdm synth --rows 7000 --seed 21 --out "$T_TMP/d.csv"
rdm ingest -q -o data.batch_rows=1500 --source "$T_TMP/d.csv" --batches 2 >"$T_TMP/outd1"
check_eq "small batches first: 2 x 1500" "3000 3000 0" "$(counts "$T_TMP/outd1")"
rdm ingest -q -o data.batch_rows=5000 --source "$T_TMP/d.csv" >"$T_TMP/outd2"
check_eq "then batch_rows 5000: exactly the 4000 left" "4000 4000 0" "$(counts "$T_TMP/outd2")"
check "... saying 2 batches were already loaded" grep -q 'already loaded 2, left 0' "$T_TMP/outd2"
check_eq "every record of d.csv once (rows, distinct lines, first, last)" "7000 7000 2 7001" "$(per_line "$T_TMP/d.csv")"
rdm synth --rows 7000 --seed 22 --out "$T_TMP/e.csv"
rdm ingest -q -o data.batch_rows=5000 --source "$T_TMP/e.csv" --batches next >"$T_TMP/oute1"
check_eq "large batch first: 5000" "5000 5000 0" "$(counts "$T_TMP/oute1")"
rdm ingest -q -o data.batch_rows=1500 --source "$T_TMP/e.csv" >"$T_TMP/oute2"
check_eq "then batch_rows 1500: exactly the 2000 left" "2000 2000 0" "$(counts "$T_TMP/oute2")"
check_eq "every record of e.csv once" "7000 7000 2 7001" "$(per_line "$T_TMP/e.csv")"
check_eq "ledger of e.csv: record ranges 0+5000, 5000+1500, 6500+500" "1:0:5000|2:5000:1500|3:6500:500" \
    "$(t_sql "SELECT string_agg(concat_ws(':', batch_no, first_record, rows_read), '|' ORDER BY batch_no) FROM raw.batches WHERE source_path = '$T_TMP/e.csv'")"
rdm ingest -q -o data.batch_rows=700 --source "$T_TMP/e.csv" >"$T_TMP/oute3"
check_eq "and a third size finds nothing new" "0 0 0" "$(counts "$T_TMP/oute3")"
# the rest of this file counts batches and rows of the sources above
t_sql "DELETE FROM raw.encounters WHERE batch_id IN (SELECT batch_id FROM raw.batches WHERE source_path IN ('$T_TMP/d.csv', '$T_TMP/e.csv')); DELETE FROM raw.batches WHERE source_path IN ('$T_TMP/d.csv', '$T_TMP/e.csv')" >/dev/null

# --- a quoted field over the limit and longer than one read: one reject, the file loads ---
rdm synth --rows 50 --seed 23 --out "$T_TMP/q.csv"
{ printf '"'; head -c 3000000 /dev/zero | tr '\0' x; printf '"\n'; } >"$T_TMP/big.txt"
awk -F, -v OFS=, -v f="$T_TMP/big.txt" 'NR == 1 { getline big <f } NR == 3 { $12 = big } { print }' "$T_TMP/q.csv" >"$T_TMP/q2.csv"
if rdm ingest -q --source "$T_TMP/q2.csv" >"$T_TMP/outq" 2>"$T_TMP/errq"; then ok "long quoted field: ingest succeeds"; else not_ok "long quoted field: ingest succeeds ($(head -c 300 "$T_TMP/errq"))"; fi
check_eq "long quoted field: 49 accepted, 1 rejected" "50 49 1" "$(counts "$T_TMP/outq")"
check_eq "long quoted field: the reject is line 3" "3" \
    "$(t_sql "SELECT string_agg(r.line_no::text, ',') FROM raw.rejects r JOIN raw.batches b USING (batch_id) WHERE b.source_path = '$T_TMP/q2.csv'")"
t_sql "DELETE FROM raw.rejects WHERE batch_id IN (SELECT batch_id FROM raw.batches WHERE source_path = '$T_TMP/q2.csv'); DELETE FROM raw.encounters WHERE batch_id IN (SELECT batch_id FROM raw.batches WHERE source_path = '$T_TMP/q2.csv'); DELETE FROM raw.batches WHERE source_path = '$T_TMP/q2.csv'" >/dev/null

# --- sources that cannot be read twice, or too big, or with CR-only lines: refused clearly ---
nb0=$(t_sql 'SELECT count(*) FROM raw.batches')
mkfifo "$T_TMP/src.fifo"
if timeout 20 "$READMIT" ingest -c "${T_CONF:-$TOP/conf/test.yaml}" -o "db.name=$T_DB" -q --source "$T_TMP/src.fifo" >"$T_TMP/outf" 2>"$T_TMP/errf"; then not_ok "FIFO source must fail"; else ok "FIFO source fails"; fi
check "FIFO source: says why" grep -q "src.fifo: not a regular file (a FIFO)" "$T_TMP/errf"
if timeout 20 "$READMIT" ingest -c "${T_CONF:-$TOP/conf/test.yaml}" -o "db.name=$T_DB" -q --source /dev/zero >/dev/null 2>"$T_TMP/errz"; then not_ok "/dev/zero source must fail"; else ok "/dev/zero source fails at once"; fi
check "/dev/zero: says why" grep -q "/dev/zero: not a regular file (a character device)" "$T_TMP/errz"
if rdm ingest -q -o data.max_source_bytes=100000 --source "$T_TMP/a.csv" >"$T_TMP/outl" 2>"$T_TMP/errl"; then not_ok "source over data.max_source_bytes must fail"; else ok "source over data.max_source_bytes fails"; fi
check "... naming the limit" grep -q "more than 100000 bytes of CSV (data.max_source_bytes)" "$T_TMP/errl"
check "a failed ingest does not claim 'left 0'" bash -c "! grep -q 'left 0' '$T_TMP/outl'"
tr '\n' '\r' <"$T_TMP/b.csv" >"$T_TMP/cr.csv"
if rdm ingest -q --source "$T_TMP/cr.csv" >/dev/null 2>"$T_TMP/errcr"; then not_ok "CR-only file must fail"; else ok "CR-only file fails"; fi
check "CR-only file: named as such" grep -q "cr.csv: line 1: .*CR-only (old Mac) line endings" "$T_TMP/errcr"
check_eq "refused sources add no batch" "$nb0" "$(t_sql 'SELECT count(*) FROM raw.batches')"

# --- a header that does not match the schema fails and loads nothing ---
sed '1s/,race,/,ethnicity,/; 1s/,weight//; 1s/$/,extra/' "$T_TMP/b.csv" >"$T_TMP/c.csv"
if ing --source "$T_TMP/c.csv" >"$T_TMP/out7" 2>"$T_TMP/err7"; then not_ok "bad header must fail"; else ok "bad header fails"; fi
check "bad header: lists missing and unexpected columns" \
    grep -q "missing columns: race, weight; unexpected columns: ethnicity, extra" "$T_TMP/err7"
check_eq "bad header: no batch added" 6 "$(t_sql 'SELECT count(*) FROM raw.batches')"
if ing --source "$T_TMP/nonexistent.csv" 2>"$T_TMP/err8" >/dev/null; then not_ok "missing file must fail"; else ok "missing file fails"; fi
check "missing file: clear message" grep -q "nonexistent.csv: No such file or directory" "$T_TMP/err8"

# --- a zip source: the CSV entry is read; same bytes = same sha256 = no-op ---
if command -v zip >/dev/null; then
    mkdir -p "$T_TMP/z/dataset_diabetes" && cp "$T_TMP/b.csv" "$T_TMP/z/dataset_diabetes/diabetic_data.csv"
    echo "id,name" >"$T_TMP/z/dataset_diabetes/IDs_mapping.csv"
    (cd "$T_TMP/z" && zip -qr ../b.zip dataset_diabetes)
    ing --source "$T_TMP/b.zip" >"$T_TMP/out9" 2>"$T_TMP/err9"
    check_eq "zip with the same CSV is a no-op" "0 0 0" "$(counts "$T_TMP/out9")"
    check "a mapping without tables: its lines reported, the data still loads" \
        grep -q "IDs_mapping.csv line 1: row outside a table" "$T_TMP/err9"
    echo "just,text" >"$T_TMP/z/notes.txt" && (cd "$T_TMP/z" && zip -q ../nocsv.zip notes.txt)
    if ing --source "$T_TMP/nocsv.zip" 2>"$T_TMP/err10" >/dev/null; then not_ok "zip without csv must fail"; else ok "zip without csv fails"; fi
    check "zip without csv: clear message" grep -q "zip archive has no .csv entry" "$T_TMP/err10"
    # into an empty ledger the zip's entry is inflated once for its sha256 and
    # its rows: the same rows and sha256 as the plain file gave
    rows_of() { t_sql "SELECT md5(string_agg(concat_ws('|', e.line_no, e.encounter_id, e.race, e.readmitted), ',' ORDER BY e.line_no))
                       FROM raw.encounters e JOIN raw.batches b USING (batch_id) WHERE b.source_sha256 = '$1'"; }
    bsha=$(sha256sum "$T_TMP/b.csv" | cut -c1-64)
    bmd5=$(rows_of "$bsha")
    t_sql "TRUNCATE raw.batches, raw.records, raw.rejects CASCADE" >/dev/null 2>&1
    ing --source "$T_TMP/b.zip" >"$T_TMP/out11" 2>"$T_TMP/err11"
    check "zip into an empty ledger loads its rows" test "$(counts "$T_TMP/out11" | cut -d' ' -f1)" -gt 0
    check_eq "... under the CSV's sha256" "$bsha" "$(t_sql "SELECT string_agg(DISTINCT source_sha256, ',') FROM raw.batches")"
    check_eq "... the same rows as from the plain file" "$bmd5" "$(rows_of "$bsha")"
else
    skip "zip sources" "zip not installed"
fi

# --- a batch that fails on the server while the next one is loading: the
# batches before it stay, the ones after it are rolled back (a prefix) ---
rdm synth --rows 6000 --seed 17 --out "$T_TMP/f.csv"
t_sql "CREATE FUNCTION test_fail_batch3() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN IF NEW.batch_no = 3 AND NEW.source_path = '$T_TMP/f.csv' THEN RAISE EXCEPTION 'test: batch 3 refused'; END IF; RETURN NEW; END \$\$;
CREATE TRIGGER fail_batch3 BEFORE UPDATE ON raw.batches FOR EACH ROW EXECUTE FUNCTION test_fail_batch3()" >/dev/null
if rdm ingest -q -o data.batch_rows=1000 --source "$T_TMP/f.csv" >"$T_TMP/outf3" 2>"$T_TMP/errf3"; then
    not_ok "a batch refused by the server must fail the ingest"
else
    ok "a batch refused by the server fails the ingest"
fi
check "... naming the batch and the server's reason" grep -q 'batch 3.*test: batch 3 refused' "$T_TMP/errf3"
check_eq "... batches 1 and 2 committed, none after the failed one" "1,2" \
    "$(t_sql "SELECT string_agg(batch_no::text, ',' ORDER BY batch_no) FROM raw.batches WHERE source_path = '$T_TMP/f.csv'")"
check_eq "... and only their rows" 2000 \
    "$(t_sql "SELECT count(*) FROM raw.encounters e JOIN raw.batches b USING (batch_id) WHERE b.source_path = '$T_TMP/f.csv'")"
t_sql "DROP TRIGGER fail_batch3 ON raw.batches; DROP FUNCTION test_fail_batch3()" >/dev/null
rdm ingest -q -o data.batch_rows=1000 --source "$T_TMP/f.csv" >"$T_TMP/outf4"
check_eq "... a second run loads the other 4000" "4000 4000 0" "$(counts "$T_TMP/outf4")"
check_eq "... every line once" "6000 6000" \
    "$(t_sql "SELECT count(*) || ' ' || count(DISTINCT line_no) FROM raw.encounters e JOIN raw.batches b USING (batch_id) WHERE b.source_path = '$T_TMP/f.csv'")"
t_sql "DELETE FROM raw.encounters WHERE batch_id IN (SELECT batch_id FROM raw.batches WHERE source_path = '$T_TMP/f.csv'); DELETE FROM raw.batches WHERE source_path = '$T_TMP/f.csv'" >/dev/null

# --- kill -9 in the middle of a large ingest: only whole batches remain ---
rdm synth --rows 150000 --seed 13 --out "$T_TMP/big.csv"
# exec: $! must be the readmit process itself, not a subshell
(exec "$READMIT" ingest -c "${T_CONF:-$TOP/conf/test.yaml}" -o "db.name=$T_DB" -q -o data.batch_rows=1000 \
    --source "$T_TMP/big.csv" >/dev/null 2>&1) &
pid=$!
for _ in $(seq 1 400); do
    n=$(t_sql "SELECT count(*) FROM raw.batches WHERE source_path = '$T_TMP/big.csv'")
    [ "$n" -ge 3 ] && break
    sleep 0.02
done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
n=$(t_sql "SELECT count(*) FROM raw.batches WHERE source_path = '$T_TMP/big.csv'")
echo "# killed after $n of 150 batches"
check "kill: some batches were committed" test "$n" -ge 3
check_eq "kill: every batch is whole (ledger = rows per batch)" 0 \
    "$(t_sql 'SELECT count(*) FROM raw.batches b WHERE b.rows_accepted <> (SELECT count(*) FROM raw.encounters e WHERE e.batch_id = b.batch_id)')"
check_eq "kill: no rows without a ledger row" 0 \
    "$(t_sql 'SELECT count(*) FROM raw.encounters e WHERE NOT EXISTS (SELECT 1 FROM raw.batches b WHERE b.batch_id = e.batch_id)')"
check_eq "kill: batches are a prefix 1..n" "$n" \
    "$(t_sql "SELECT coalesce(max(batch_no), 0) FROM raw.batches WHERE source_path = '$T_TMP/big.csv'")"
rdm ingest -q -o data.batch_rows=1000 --source "$T_TMP/big.csv" >"$T_TMP/out11"
check_eq "resume after kill loads the rest" "$((150000 - n * 1000)) $((150000 - n * 1000)) 0" "$(counts "$T_TMP/out11")"
check_eq "after resume: all rows once" 150000 \
    "$(t_sql "SELECT count(*) FROM raw.encounters e JOIN raw.batches b USING (batch_id) WHERE b.source_path = '$T_TMP/big.csv'")"
check_eq "after resume: distinct line numbers" 150000 \
    "$(t_sql "SELECT count(DISTINCT line_no) FROM raw.encounters e JOIN raw.batches b USING (batch_id) WHERE b.source_path = '$T_TMP/big.csv'")"

t_done
