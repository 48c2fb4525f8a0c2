#!/bin/bash
# The make DAG re-runs exactly the stages below a change (a config section, a
# new source, a promote or rollback), make -n plans exactly what make then runs,
# a second make does nothing, and a make started while another runs waits.
. "$(dirname "$0")/lib.sh"
t_fresh_db
cd "$TOP"
cp conf/test.yaml "$T_TMP/conf.yaml"
"$READMIT" synth --rows 4000 --seed 11 > "$T_TMP/a.csv"
M=(make --no-print-directory BUILD="${T_BUILD:-build}" VAR="$T_TMP/var" CONF="$T_TMP/conf.yaml" DBNAME="$T_DB"
   REPORT_DIR="$T_TMP/reports")
S=$T_TMP/var/state

# stages in recipe lines that run a readmit stage (make -n, or make V=1)
# (readmit train --details is the details stage)
stages() { grep -oE 'readmit (ingest|clean|train|register|report) .*' | awk '{ s = $2; if (/ --details /) s = "details"; print s }' | tr '\n' ' ' | sed 's/ $//'; }
planned() { "${M[@]}" -n pipeline "$@" 2>/dev/null | stages; }
# stages a real make runs
ran() { "${M[@]}" V=1 pipeline "$@" 2>/dev/null | stages; }

check_eq "fresh state: every stage is planned" "ingest clean train register details report" "$(planned DATA="$T_TMP/a.csv")"
out=$("${M[@]}" pipeline DATA="$T_TMP/a.csv" 2>&1) || not_ok "first make failed: $out"
check "first make ran the whole pipeline" test -s "$S/report.stamp"
for s in ingest clean train details register report; do
    check "stage $s left its stamp" test -s "$S/$s.stamp"
done
check_eq "first make: one config line" 1 "$(grep -c '^config:' <<<"$out")"
check "first make: quiet (no command lines)" bash -c "! grep -q 'READMIT_MODEL_CACHE=' <<<\"\$1\"" _ "$out"
check "first make: stage lines say what was done" grep -q '^training 1: ' <<<"$out"
check "the report went to REPORT_DIR" test -s "$T_TMP/reports/index.html"
check_eq "the data source is remembered" "$T_TMP/a.csv" "$(cat "$S/data.source")"
check_eq "second make: nothing planned" "" "$(planned)"
check "second make: make -q says up to date" "${M[@]}" -q pipeline
check_eq "second make: runs nothing" "" "$(ran)"
check "make status names the remembered source" bash -c "\"\$@\" status | grep 'data source: $T_TMP/a.csv (remembered' >/dev/null" _ "${M[@]}"

# a changed model hyperparameter re-runs train and below, not ingest or clean;
# make -n says so before, without DATA= (the source is remembered)
sed -i 's/^train:$/train:\n  seed: 7/' "$T_TMP/conf.yaml"
grep -q 'seed: 7' "$T_TMP/conf.yaml" || not_ok "could not edit train.seed in the test config"
check_eq "train change: make -n plans train and below" "train register details report" "$(planned)"
ing_before=$(cat "$S/ingest.stamp")
cl_before=$(stat -c %Y "$S/clean.stamp")
tr_before=$(cat "$S/train.stamp")
sleep 1
check_eq "train change: make runs what make -n planned" "train register details report" "$(ran)"
check_eq "train change: ingest stamp unchanged" "$ing_before" "$(cat "$S/ingest.stamp")"
check_eq "train change: clean stamp untouched" "$cl_before" "$(stat -c %Y "$S/clean.stamp")"
check "train change: train stamp rewritten" test "$tr_before" != "$(cat "$S/train.stamp")"
check_eq "after train change: nothing planned" "" "$(planned)"
check_eq "after train change: a further make runs nothing" "" "$(ran)"

# promote / rollback outside make: the report is stale, nothing else
v=$(t_sql "SELECT max(version) FROM registry.model_versions")
champ=$(t_sql "SELECT version FROM registry.aliases WHERE alias = 'champion'")
other=$(t_sql "SELECT min(version) FROM registry.model_versions WHERE version <> $champ")
[ -n "$other" ] || not_ok "need two versions (have $v)"
site_before=$(cat "$T_TMP"/reports/*.html | sha256sum)
rdm promote "$other" -o "db.socket_dir=$TOP/var/pg/run" >/dev/null
check_eq "promote: make -n plans the report only" "report" "$(planned)"
check_eq "promote: make rewrites the report" "report" "$(ran)"
check "promote: the report pages changed" test "$site_before" != "$(cat "$T_TMP"/reports/*.html | sha256sum)"
check_eq "after promote: nothing planned" "" "$(planned)"
rdm rollback -o "db.socket_dir=$TOP/var/pg/run" >/dev/null
check_eq "rollback: make -n plans the report only" "report" "$(planned)"
check_eq "rollback: make rewrites the report" "report" "$(ran)"

# a new source re-runs ingest and everything below it, and is remembered
"$READMIT" synth --rows 4500 --seed 12 > "$T_TMP/b.csv"
cl_stamp=$(cat "$S/clean.stamp")
check "new source: make runs" "${M[@]}" -s pipeline DATA="$T_TMP/b.csv"
check "new source: clean stamp changed" test "$cl_stamp" != "$(cat "$S/clean.stamp")"
check_eq "new source: remembered" "$T_TMP/b.csv" "$(cat "$S/data.source")"
check_eq "after new source: a further make runs nothing" "" "$(ran)"

# editing the clean section re-runs clean
printf 'clean:\n  max_reject_rate: 0.5\n' >> "$T_TMP/conf.yaml"
check_eq "clean change: make -n plans clean and below" "clean train register details report" "$(planned)"
cl_ran=$(stat -c %Y "$S/clean.ran")
sleep 1
check "clean change: make runs" "${M[@]}" -s pipeline
check "clean change: clean ran again" test "$(stat -c %Y "$S/clean.ran")" -gt "$cl_ran"

# a make started while another holds the lock waits, then runs what is stale
sed -i 's/^registry:$/registry:\n  min_gain: 0.002/' "$T_TMP/conf.yaml"
exec 8>>"$S/pipeline.lock"
flock 8
( sleep 2; flock -u 8 ) &
holder=$!
out=$("${M[@]}" pipeline 2>&1) || not_ok "make under a held lock failed: $out"
wait $holder
exec 8>&-
check "second make says it is waiting" grep -q 'waiting for it to finish' <<<"$out"
check "... then runs what is still stale (register)" grep -q 'config: settings changed for register' <<<"$out"
check_eq "after the wait: nothing planned" "" "$(planned)"

# a failed run never records a default source
rm -rf "$T_TMP/var2"
M2=(make --no-print-directory VAR="$T_TMP/var2" CONF="$T_TMP/conf.yaml" DBNAME="$T_DB" REPORT_DIR="$T_TMP/reports")
check "ingest with no source fails" bash -c '! "$@" ingest DATA="'"$T_TMP"'/missing.csv" >/dev/null 2>&1' _ "${M2[@]}"
check "... and records no source" test ! -e "$T_TMP/var2/state/data.source"

# -j2 from scratch is safe
rm -rf "$T_TMP/var"
check "make -j2 from an empty state" "${M[@]}" -s -j2 pipeline DATA="$T_TMP/b.csv"
check_eq "after -j2: nothing planned" "" "$(planned)"

# the build refuses two migrations with one number (they would apply in an
# order nobody chose)
mkdir -p "$T_TMP/sqldup/schema"
cp sql/schema/*.sql "$T_TMP/sqldup/schema/"
check "embed-sql: the project's migrations have distinct numbers" sh scripts/embed-sql.sh "$T_TMP/sqldup" >/dev/null
last=$(ls sql/schema | tail -1)
cp "sql/schema/$last" "$T_TMP/sqldup/schema/${last%%_*}_another.sql"
check "embed-sql: two migrations with one number are refused" \
    bash -c '! sh scripts/embed-sql.sh "$1" >/dev/null 2>"$1/err"' _ "$T_TMP/sqldup"
check "... naming the number" grep -q "share the number ${last%%_*}" "$T_TMP/sqldup/err"
t_done
