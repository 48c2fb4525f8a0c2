#!/bin/bash
# Real-data tier: ingest and clean the whole UCI file (READMIT_REAL_DATA = zip or CSV).
. "$(dirname "$0")/lib.sh"
if [ -z "${READMIT_REAL_DATA:-}" ]; then
    t_skip_all "READMIT_REAL_DATA is not set"
fi
t_fresh_db
rdm ingest -q --source "$READMIT_REAL_DATA" -o data.batch_rows=15000 >"$T_TMP/ingest.out"
check_eq "raw rows read" "101766" "$(t_sql "SELECT sum(rows_read) FROM raw.batches")"
check_eq "raw rows rejected" "0" "$(t_sql "SELECT sum(rows_rejected) FROM raw.batches")"
start=$(date +%s%N)
check "clean succeeds" eval 'rdm clean -q >"$T_TMP/clean.out"'
end=$(date +%s%N)
echo "# clean of the full set: $(( (end - start) / 1000000 )) ms"
check_eq "clean rows" "99343" "$(t_sql "SELECT count(*) FROM clean.encounters")"
check_eq "positive rows" "11314" "$(t_sql "SELECT sum(target) FROM clean.encounters")"
check_eq "clean rejects" "0" "$(t_sql "SELECT count(*) FROM clean.rejects")"
check_eq "filtered + clean = raw" "101766" "$(t_sql "SELECT sum(rows_clean + rows_filtered) FROM clean.batches")"
check_eq "snapshot counts" "ok|99343|11314" "$(t_sql "SELECT status, rows, positives FROM clean.snapshots ORDER BY snapshot_id DESC LIMIT 1")"
check_eq "profile class balance" "11314" "$(t_sql "SELECT profile->'class_balance'->>'positive' FROM clean.profiles")"
t_done
