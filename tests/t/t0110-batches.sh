#!/bin/bash
# Data arriving in batches through make: each `make ingest BATCHES=next` loads
# exactly one more batch and says so, then a plain `make` (DATA= given only
# once) carries it through clean, train, register and report. Seven batches.
. "$(dirname "$0")/lib.sh"
t_fresh_db
cd "$TOP"
cp conf/test.yaml "$T_TMP/conf.yaml"
rows=$(awk '/batch_rows:/ {print $2}' conf/test.yaml)
"$READMIT" synth --rows $((7 * rows)) --seed 21 > "$T_TMP/s.csv"
M=(make --no-print-directory BUILD="${T_BUILD:-build}" VAR="$T_TMP/var" CONF="$T_TMP/conf.yaml" DBNAME="$T_DB"
   REPORT_DIR="$T_TMP/reports")
q() { t_sql "$1"; }

for i in 1 2 3 4 5 6 7; do
    data=()
    [ "$i" -eq 1 ] && data=(DATA="$T_TMP/s.csv")
    out=$("${M[@]}" ingest BATCHES=next "${data[@]}" 2>&1) || not_ok "round $i: make ingest failed: $out"
    check "round $i: ingest says it loaded batch $i of 7" grep -q "loaded 1 (batch $i of 7)" <<<"$out"
    check_eq "round $i: raw batches" "$i" "$(q "SELECT count(*) FROM raw.batches")"
    check_eq "round $i: raw rows" "$((i * rows))" "$(q "SELECT count(*) FROM raw.encounters")"
    out=$("${M[@]}" 2>&1) || not_ok "round $i: make failed: $out"
    check_eq "round $i: make loaded nothing more" "$i" "$(q "SELECT count(*) FROM raw.batches")"
    check_eq "round $i: clean batches" "$i" "$(q "SELECT count(*) FROM clean.batches")"
    check_eq "round $i: clean rows account for every raw row" "$((i * rows))" \
        "$(q "SELECT sum(rows_clean + rows_filtered + rows_duplicate + rows_rejected) FROM clean.batches")"
    check_eq "round $i: trainings" "$i" "$(q "SELECT count(*) FROM registry.trainings")"
    check_eq "round $i: the last training used the new snapshot" \
        "$(q "SELECT max(snapshot_id) FROM clean.snapshots WHERE status = 'ok'")" \
        "$(q "SELECT snapshot_id FROM registry.runs ORDER BY run_id DESC LIMIT 1")"
    check "round $i: report written" test -s "$T_TMP/reports/index.html"
done
out=$("${M[@]}" ingest BATCHES=next 2>&1) || not_ok "eighth ingest failed: $out"
check "eighth round: nothing new, and it says so" grep -q "nothing new: all 7 batches" <<<"$out"
check_eq "eighth round: still 7 batches" 7 "$(q "SELECT count(*) FROM raw.batches")"

# a config edit and a plain make, without DATA=: the remembered source is used
sed -i 's/^train:$/train:\n  seed: 5/' "$T_TMP/conf.yaml"
out=$("${M[@]}" 2>&1)
check "config edit + plain make succeeds" test $? -eq 0
check "... with no 'no source data'" bash -c "! grep -q 'no source data' <<<\"\$1\"" _ "$out"
check_eq "... and one more training" 8 "$(q "SELECT count(*) FROM registry.trainings")"
check "make status shows the remembered source" \
    bash -c "\"\$@\" status | grep 'data source: $T_TMP/s.csv (remembered' >/dev/null" _ "${M[@]}"

# On a fresh checkout the first stage starts the private server itself, under
# the pipeline lock: the server must not keep holding that lock afterwards.
export READMIT_PGDIR="$T_TMP/pg-own"
cp "$T_TMP/conf.yaml" "$T_TMP/conf2.yaml"
printf 'db:\n  socket_dir: %s\n' "$READMIT_PGDIR/run" >> "$T_TMP/conf2.yaml"
M2=(make --no-print-directory BUILD="${T_BUILD:-build}" VAR="$T_TMP/var2" CONF="$T_TMP/conf2.yaml"
    DBNAME="$T_DB" REPORT_DIR="$T_TMP/reports2")
out=$("${M2[@]}" ingest BATCHES=next DATA="$T_TMP/s.csv" 2>&1) || not_ok "ingest with its own server failed: $out"
check "a stage that started the server loaded its batch" grep -q "loaded 1 (batch 1 of 7)" <<<"$out"
check "the pipeline lock is free once make has returned" flock -n "$T_TMP/var2/state/pipeline.lock" true
"$TOP/scripts/pg.sh" stop >/dev/null 2>&1 || true
unset READMIT_PGDIR
t_done
