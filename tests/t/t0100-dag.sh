#!/bin/bash
# The make DAG re-runs exactly the stages below a change, and a second make does nothing.
. "$(dirname "$0")/lib.sh"
t_fresh_db
cd "$TOP"
cp conf/test.yaml "$T_TMP/conf.yaml"
"$READMIT" synth --rows 4000 --seed 11 > "$T_TMP/a.csv"
M=(make --no-print-directory BUILD="${T_BUILD:-build}" VAR="$T_TMP/var" CONF="$T_TMP/conf.yaml" DBNAME="$T_DB")

# stages planned by `make -n` (recipe lines that run a readmit stage)
stages() { grep -oE 'readmit (ingest|clean|train|register|report) ' | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//'; }
planned() { "${M[@]}" -n pipeline DATA="$1" 2>/dev/null | stages; }
# stages a real make runs
ran() { "${M[@]}" pipeline DATA="$1" 2>/dev/null | stages; }

check_eq "fresh state: every stage is planned" "ingest clean train register report" "$(planned "$T_TMP/a.csv")"
check "first make runs the whole pipeline" "${M[@]}" -s pipeline DATA="$T_TMP/a.csv"
for s in ingest clean train register report; do
    check "stage $s left its stamp" test -s "$T_TMP/var/state/$s.stamp"
done
check_eq "second make: nothing planned" "" "$(planned "$T_TMP/a.csv")"
check "second make: make -q says up to date" "${M[@]}" -q pipeline DATA="$T_TMP/a.csv"
start=$(date +%s%N)
check_eq "second make: runs nothing" "" "$(ran "$T_TMP/a.csv")"
echo "# second make took $(( ($(date +%s%N) - start) / 1000000 )) ms"

# a changed model hyperparameter re-runs train and below, not ingest or clean
sed -i 's/^train:$/train:\n  seed: 7/' "$T_TMP/conf.yaml"
grep -q 'seed: 7' "$T_TMP/conf.yaml" || not_ok "could not edit train.seed in the test config"
plan=$(planned "$T_TMP/a.csv")
check_eq "train change: conf re-read, stages planned" "ingest clean train register report" "$plan"
ing_before=$(cat "$T_TMP/var/state/ingest.stamp")
cl_before=$(stat -c %Y "$T_TMP/var/state/clean.stamp")
tr_before=$(cat "$T_TMP/var/state/train.stamp")
sleep 1
out=$("${M[@]}" pipeline DATA="$T_TMP/a.csv" 2>&1)
check_eq "train change: ingest stamp unchanged" "$ing_before" "$(cat "$T_TMP/var/state/ingest.stamp")"
check_eq "train change: clean stamp untouched" "$cl_before" "$(stat -c %Y "$T_TMP/var/state/clean.stamp")"
check "train change: train stamp rewritten" test "$tr_before" != "$(cat "$T_TMP/var/state/train.stamp")"
check "train change: clean did not run" bash -c "! grep -q 'readmit clean ' <<<'$out'"
check_eq "after train change: a further make runs nothing" "" "$(ran "$T_TMP/a.csv")"

# a new batch (new source file) re-runs ingest and everything below it
"$READMIT" synth --rows 4500 --seed 12 > "$T_TMP/b.csv"
cl_stamp=$(cat "$T_TMP/var/state/clean.stamp")
check "new batch: make runs" "${M[@]}" -s pipeline DATA="$T_TMP/b.csv"
check "new batch: clean stamp changed" test "$cl_stamp" != "$(cat "$T_TMP/var/state/clean.stamp")"
check_eq "after new batch: a further make runs nothing" "" "$(ran "$T_TMP/b.csv")"

# editing the clean section re-runs clean
printf 'clean:\n  max_reject_rate: 0.5\n' >> "$T_TMP/conf.yaml"
cl_ran=$(stat -c %Y "$T_TMP/var/state/clean.ran")
sleep 1
check "clean change: make runs" "${M[@]}" -s pipeline DATA="$T_TMP/b.csv"
check "clean change: clean ran again" test "$(stat -c %Y "$T_TMP/var/state/clean.ran")" -gt "$cl_ran"

# -j2 from scratch is safe
rm -rf "$T_TMP/var"
check "make -j2 from an empty state" "${M[@]}" -s -j2 pipeline DATA="$T_TMP/b.csv"
check_eq "after -j2: nothing planned" "" "$(planned "$T_TMP/b.csv")"
t_done
