#!/bin/bash
# t1900-real-ingest: the real UCI file (zip or CSV) when READMIT_REAL_DATA
# points at it: 101,766 rows read and accepted, none rejected, 7 batches of
# 15,000, and a second run is a no-op.
. "$(dirname "$0")/lib.sh"
if [ -z "${READMIT_REAL_DATA:-}" ]; then
    t_skip_all "READMIT_REAL_DATA is not set"
fi
t_fresh_db
counts() { sed -n 's/^read \([0-9]*\) accepted \([0-9]*\) rejected \([0-9]*\)$/\1 \2 \3/p' "$1"; }

rdm ingest -q -o data.batch_rows=15000 --source "$READMIT_REAL_DATA" >"$T_TMP/out1"
cat "$T_TMP/out1"
check_eq "real data: read/accepted/rejected" "101766 101766 0" "$(counts "$T_TMP/out1")"
check_eq "real data: rows in raw.encounters" 101766 "$(t_sql 'SELECT count(*) FROM raw.encounters')"
check_eq "real data: no rejects" 0 "$(t_sql 'SELECT count(*) FROM raw.rejects')"
check_eq "real data: 7 batches, the last one of 11766" "7 11766" \
    "$(t_sql "SELECT count(*) || ' ' || min(rows_read) FROM raw.batches")"
check_eq "real data: distinct encounter ids" 101766 "$(t_sql 'SELECT count(DISTINCT encounter_id) FROM raw.encounters')"
check_eq "real data: last line number (header is line 1)" 101767 "$(t_sql 'SELECT max(line_no) FROM raw.encounters')"
rdm ingest -q -o data.batch_rows=15000 --source "$READMIT_REAL_DATA" >"$T_TMP/out2"
check_eq "real data: second run is a no-op" "0 0 0" "$(counts "$T_TMP/out2")"
t_done
