#!/bin/bash
# t2020-raw-records: migrations 012 and 013 move the raw rows of the 50-column
# raw.encounters (as migrations 001-011 left it) into raw.records: the view
# raw.encounters gives back every row and value, a migrated record is the
# one ingest writes for the same source row, and clean reads the migrated
# rows like new ones (values with the record's separator bytes, tabs,
# backslashes and newlines kept exactly).
. "$(dirname "$0")/lib.sh"
t_fresh_db
cd "$TOP"
q() { t_sql "$1"; }
rows=400
"$READMIT" synth --rows $rows --seed 11 --out "$T_TMP/a.csv" >/dev/null
# a last row whose medical_specialty holds 0x1f, 0x1e, a backslash, a tab and a newline
special=$(printf 'x\037y\036z\\\\w\tv\nu')
printf '%s\n' "$(tail -n 1 "$T_TMP/a.csv" | S="\"$special\"" awk -F, -v OFS=, '{ $1 = 99999999; $12 = ENVIRON["S"]; print }')" >>"$T_TMP/a.csv"
chmod 644 "$T_TMP/a.csv"

# the schema as it was before 012, with its bookkeeping, and the file loaded
# into the old table as ingest loaded it (batch 1, line numbers from 2)
"$TOP/scripts/pg.sh" psql -d "$T_DB" -qc "$(cat sql/meta_create_migrations.sql)" >/dev/null
for f in sql/schema/00[1-9]_*.sql sql/schema/01[01]_*.sql; do
    "$TOP/scripts/pg.sh" psql -d "$T_DB" -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null
    q "INSERT INTO public.schema_migrations (version) VALUES ('$(basename "$f" .sql)')" >/dev/null
done
cols=$(head -n 1 "$T_TMP/a.csv" | sed 's/\([^,]*\)/"\1"/g')
q "CREATE TABLE public.stage ($(head -n 1 "$T_TMP/a.csv" | sed 's/\([^,]*\)/"\1" text/g'))" >/dev/null
"$TOP/scripts/pg.sh" psql -d "$T_DB" -qc "\\copy public.stage FROM '$T_TMP/a.csv' WITH (FORMAT csv, HEADER true)"
q "INSERT INTO raw.batches (source_path, source_sha256, batch_no, first_record, first_line, last_line,
     rows_read, rows_accepted, rows_rejected, started_at)
   VALUES ('old.csv', 'old', 1, 0, 2, $((rows + 2)), $((rows + 1)), $((rows + 1)), 0, now());
   INSERT INTO raw.encounters (batch_id, line_no, $cols)
   SELECT 1, 1 + row_number() OVER (ORDER BY ctid), $cols FROM public.stage" >/dev/null
view() { q "SELECT md5(string_agg(e::text, E'\n' ORDER BY batch_id, line_no)) || ' ' || count(*) FROM raw.encounters e"; }
before=$(view)
check "migrations 012 and 013 apply" rdm db migrate
check_eq "raw.encounters gives back every row and value" "$before" "$(view)"
check_eq "one record per row" "$((rows + 1))" "$(q "SELECT count(*) FROM raw.records")"
check_eq "the special value kept" "$special" \
    "$(q "SELECT medical_specialty FROM raw.encounters WHERE encounter_id = '99999999'")"
# the view's values are expressions of the record, not calls of raw.record_field
check "raw.record_field inlined into queries of the view" \
    eval '! q "EXPLAIN VERBOSE SELECT encounter_id, readmitted FROM raw.encounters" | grep -q "record_field("'

# clean reads the migrated rows
check "clean of the migrated rows" eval 'rdm clean -q >"$T_TMP/out1"'
check "every migrated row cleaned" grep -q "rows in $((rows + 1)), " "$T_TMP/out1"
check_eq "the special value in clean.encounters" "$special" \
    "$(q "SELECT medical_specialty FROM clean.encounters WHERE encounter_id = 99999999")"

# ingest of the same file writes the records the migration wrote, and the
# next clean is incremental (no new clean row: each is a duplicate of a
# migrated one or filtered again)
check "ingest after the migration" eval 'rdm ingest -q --source "$T_TMP/a.csv" >/dev/null'
recs() { q "SELECT md5(string_agg(line_no || ' ' || record, E'\n' ORDER BY line_no)) FROM raw.records WHERE batch_id $1"; }
check_eq "ingest's records are the migrated ones" "$(recs '= 1')" "$(recs '> 1')"
check "clean after the ingest" eval 'rdm clean -q >"$T_TMP/out2"'
check "only the new batch cleaned, no new clean row" \
    grep -q "clean: 1 batch: rows in $((rows + 1)), clean 0, .* rejected 0;" "$T_TMP/out2"
check_eq "its rows duplicates or filtered" "$((rows + 1))" \
    "$(q "SELECT rows_duplicate + rows_filtered FROM clean.batches WHERE batch_id > 1")"
check_eq "DELETE through the view" "0" \
    "$(q "DELETE FROM raw.encounters WHERE batch_id > 1; SELECT count(*) FROM raw.records WHERE batch_id > 1")"
t_done
