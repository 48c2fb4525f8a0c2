#!/bin/bash
# clean reads every new batch in one scan of raw.records and puts each
# batch's rows in line order itself: the same clean rows (in the same order),
# rejects, duplicates, validation and profile whatever order the table holds
# the raw rows in, and a row of a batch cleaned before is not read again.
. "$(dirname "$0")/lib.sh"
t_fresh_db
q() { t_sql "$1"; }

# two files sharing encounter ids (duplicates across batches), dirty rows,
# small batches so that many batches are read at once
"$READMIT" synth --rows 2500 --seed 7 --dirty --out "$T_TMP/a.csv" >/dev/null
"$READMIT" synth --rows 2000 --seed 8 --dirty --out "$T_TMP/b.csv" >/dev/null
rdm ingest -q -o data.batch_rows=300 --source "$T_TMP/a.csv" >/dev/null
rdm ingest -q -o data.batch_rows=400 --source "$T_TMP/b.csv" >/dev/null
nb=$(q "SELECT count(*) FROM raw.batches")

digest() {
    q "SELECT md5(string_agg(x, E'\n')) FROM (
       (SELECT 'e ' || md5(string_agg(e::text, E'\n' ORDER BY ctid)) AS x FROM clean.encounters e)
       UNION ALL (SELECT 'j ' || md5(coalesce(string_agg(j::text, E'\n' ORDER BY batch_id, line_no), ''))
                  FROM clean.rejects j)
       UNION ALL (SELECT 'b ' || md5(string_agg(concat_ws(' ', batch_id, rows_in, rows_clean, rows_filtered,
                  rows_duplicate, rows_rejected), E'\n' ORDER BY batch_id)) FROM clean.batches)
       UNION ALL (SELECT 'v ' || md5(string_agg(concat_ws(' ', batch_id, rule, severity, violations, checked,
                  passed), E'\n' ORDER BY batch_id NULLS FIRST, rule)) FROM clean.validation)
       UNION ALL (SELECT 'p ' || md5(string_agg((profile - 'snapshot_id')::text, '')) FROM clean.profiles)
       UNION ALL (SELECT 's ' || string_agg(concat_ws(' ', fingerprint, rows, positives), '') FROM clean.snapshots)
       ) d"
}
reset_clean() {
    q "TRUNCATE clean.encounters, clean.rejects, clean.batches, clean.validation, clean.profiles,
       clean.snapshots CASCADE" >/dev/null 2>&1
}

check "clean of the rows as ingest stored them" eval 'rdm clean -q >"$T_TMP/out1"'
check "every batch cleaned in one run" grep -q "clean: $nb batches:" "$T_TMP/out1"
check "duplicates across the files" test "$(q "SELECT sum(rows_duplicate) FROM clean.batches")" -gt 1
check "rows rejected" test "$(q "SELECT count(*) FROM clean.rejects")" -gt 1
check_eq "the first of each duplicate id is kept" "0" "$(q "SELECT count(*) FROM clean.encounters c
  JOIN raw.encounters r ON r.encounter_id::bigint = c.encounter_id
  WHERE (r.batch_id, r.line_no) < (c.batch_id, c.line_no)
    AND NOT EXISTS (SELECT 1 FROM clean.rejects j WHERE (j.batch_id, j.line_no) = (r.batch_id, r.line_no))")"
check_eq "clean rows stored in batch and line order" "0" "$(q "SELECT count(*) FROM (
  SELECT (batch_id, line_no) < lag((batch_id, line_no)) OVER (ORDER BY ctid) AS back FROM clean.encounters) x
  WHERE back")"
d1=$(digest)

# the raw rows in reverse, then in a random order: same result
q "CREATE TABLE public.raw_copy AS SELECT * FROM raw.records" >/dev/null
for order in "batch_id DESC, line_no DESC" "random()"; do
    reset_clean
    q "TRUNCATE raw.records; INSERT INTO raw.records SELECT * FROM public.raw_copy ORDER BY $order" >/dev/null
    check "raw rows stored as $order" test "$(q "SELECT count(*) FROM (
      SELECT (batch_id, line_no) < lag((batch_id, line_no)) OVER (ORDER BY ctid) AS back FROM raw.records) x
      WHERE back")" -gt 0
    rdm clean -q >/dev/null
    check_eq "raw rows stored as $order: the same clean result" "$d1" "$(digest)"
done

# an incremental run reads only the new batch: rows of the batches cleaned
# before are skipped even where they sit among the new ones
"$READMIT" synth --rows 300 --seed 9 --out "$T_TMP/c.csv" >/dev/null
rdm ingest -q --source "$T_TMP/c.csv" >/dev/null
last=$(q "SELECT max(batch_id) FROM raw.batches")
snap=$(q "SELECT max(snapshot_id) FROM clean.snapshots")
q "CREATE TABLE public.raw_copy2 AS SELECT * FROM raw.records;
   TRUNCATE raw.records; INSERT INTO raw.records SELECT * FROM public.raw_copy2 ORDER BY random()" >/dev/null
rdm clean -q >"$T_TMP/out2"
check "incremental run cleans one batch" grep -q "clean: 1 batch:" "$T_TMP/out2"
check_eq "the new batch's rows accounted" "$(q "SELECT rows_accepted FROM raw.batches WHERE batch_id = $last")" \
    "$(q "SELECT rows_in FROM clean.batches WHERE batch_id = $last")"
check_eq "older batches untouched" "$snap" "$(q "SELECT max(snapshot_id) FROM clean.batches WHERE batch_id < $last")"
t_done
