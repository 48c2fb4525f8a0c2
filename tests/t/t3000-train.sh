#!/bin/bash
# readmit train on synthetic data: runs, metrics, artifacts, the file cache,
# predict through a file and through the registry, register -> champion.
. "$(dirname "$0")/lib.sh"
t_fresh_db
cd "$T_TMP"   # var/models (the artifact cache) lands here
# the private server's socket is under the project, not under this directory
R() { rdm "$1" -o "db.socket_dir=$TOP/var/pg/run" "${@:2}" >>out.txt; }
fails() { ! R "$@" 2>>err.txt; }          # the command must fail
exit_code() { local want=$1; shift; R "$@" >/dev/null 2>&1; test $? -eq "$want"; }
"$READMIT" synth --rows 6000 --seed 5 > s.csv
check "ingest" R ingest -q --source s.csv
check "clean" R clean -q
check "train --help" exit_code 0 train --help
check "train" R train -q --stamp train.stamp
[ "$T_FAIL" -eq 0 ] || { t_done; exit 1; }
check "train stamp written" test -s train.stamp

# conf/test.yaml: baseline + logreg [1.0] + gbt [0.1] x [7, 15] = 4 runs
check_eq "4 runs, all finished" "4 4" "$(t_sql "SELECT count(*) || ' ' || count(*) FILTER (WHERE status = 'finished') FROM registry.runs")"
check_eq "one training, one selected run" "1 1" "$(t_sql "SELECT (SELECT count(*) FROM registry.trainings) || ' ' || count(*) FROM registry.runs WHERE selected")"
for split in valid test; do
    for k in roc_auc pr_auc log_loss brier accuracy threshold precision recall f1 tp fp tn fn; do
        check_eq "every run has $split $k" 4 "$(t_sql "SELECT count(DISTINCT run_id) FROM registry.metrics WHERE split = '$split' AND key = '$k'")"
    done
    for kind in roc pr calibration; do
        check_eq "every run has a $split $kind curve" 4 "$(t_sql "SELECT count(*) FROM registry.curves WHERE split = '$split' AND kind = '$kind'")"
    done
done
check_eq "test ROC AUC has a bootstrap interval around it" 4 "$(t_sql "SELECT count(*) FROM registry.metrics a JOIN registry.metrics lo USING (run_id, split) JOIN registry.metrics hi USING (run_id, split) WHERE a.split = 'test' AND a.key = 'roc_auc' AND lo.key = 'roc_auc_ci_low' AND hi.key = 'roc_auc_ci_high' AND lo.value <= a.value + 1e-9 AND a.value <= hi.value + 1e-9")"
check_eq "curves have at most 300 points" 0 "$(t_sql "SELECT count(*) FROM registry.curves WHERE kind IN ('roc', 'pr') AND jsonb_array_length(points) > 300")"
check_eq "calibration tables have 10 bins" 0 "$(t_sql "SELECT count(*) FROM registry.curves WHERE kind = 'calibration' AND jsonb_array_length(points) <> 10")"
check_eq "baseline AUC is 0.5 on valid and test" "0.5 0.5" "$(t_sql "SELECT string_agg(m.value::text, ' ' ORDER BY m.split DESC) FROM registry.metrics m JOIN registry.runs r USING (run_id) WHERE r.model_type = 'baseline' AND m.key = 'roc_auc'")"
check "boosted trees beat the baseline on validation" test "$(t_sql "SELECT count(*) FROM registry.metrics m JOIN registry.runs r USING (run_id) WHERE r.model_type = 'gbt' AND m.split = 'valid' AND m.key = 'roc_auc' AND m.value > 0.55")" -ge 1
check_eq "the selected run has the best validation ROC AUC" "t" "$(t_sql "SELECT (SELECT m.value FROM registry.metrics m JOIN registry.runs r USING (run_id) WHERE r.selected AND m.split = 'valid' AND m.key = 'roc_auc') = (SELECT max(value) FROM registry.metrics WHERE split = 'valid' AND key = 'roc_auc')")"
# split sizes against an independent count of clean.encounters by patient_nbr mod 100
check_eq "split sizes by patient (70/15/15)" \
    "$(t_sql "SELECT count(*) FILTER (WHERE patient_nbr % 100 < 70) || ' ' || count(*) FILTER (WHERE patient_nbr % 100 >= 70 AND patient_nbr % 100 < 85) || ' ' || count(*) FILTER (WHERE patient_nbr % 100 >= 85) FROM clean.encounters")" \
    "$(t_sql "SELECT DISTINCT rows_train || ' ' || rows_valid || ' ' || rows_test FROM registry.runs")"
check_eq "valid n metric = validation rows" "$(t_sql "SELECT DISTINCT rows_valid FROM registry.runs")" "$(t_sql "SELECT DISTINCT value::bigint FROM registry.metrics WHERE split = 'valid' AND key = 'n'")"
check_eq "lineage: snapshot fingerprint recorded" "$(t_sql "SELECT fingerprint FROM clean.snapshots WHERE status = 'ok' ORDER BY snapshot_id DESC LIMIT 1")" "$(t_sql "SELECT DISTINCT data_fingerprint FROM registry.runs")"

# artifacts: in the database and in the file cache, same sha256
sha=$(t_sql "SELECT artifact_sha256 FROM registry.runs WHERE selected")
check "selected run's model is cached as var/models/<sha256>.model" test -s "var/models/$sha.model"
check_eq "cached file has that sha256" "$sha" "$(sha256sum "var/models/$sha.model" | cut -d' ' -f1)"
check_eq "database bytes have that sha256" "$sha" "$(t_sql "SELECT encode(sha256(bytes), 'hex') FROM registry.artifacts WHERE sha256 = '$sha'")"

# predict through the file: the baseline scores every record as the training positive rate
head -n 201 s.csv > few.csv
bsha=$(t_sql "SELECT artifact_sha256 FROM registry.runs WHERE model_type = 'baseline'")
rate=$(t_sql "SELECT avg(target::float8) FROM clean.encounters WHERE patient_nbr % 100 < 70")
check "predict with the baseline file" R predict -q --model "var/models/$bsha.model" --input few.csv --output base.out
check_eq "predict writes a header + one line per record" 201 "$(wc -l < base.out)"
check_eq "predict header" "encounter_id,probability,decision" "$(head -1 base.out)"
check_eq "baseline probability = training positive rate" 0 "$(tail -n +2 base.out | awk -F, -v r="$rate" '{d = $2 - r; if (d < 0) d = -d; if (d > 5e-7) bad++} END {print bad + 0}')"
check_eq "probabilities printed with six decimals, as the API does" 0 "$(tail -n +2 base.out | awk -F, '$2 !~ /^[01]\.[0-9][0-9][0-9][0-9][0-9][0-9]$/' | wc -l)"
check_eq "predict echoes encounter ids in input order" "$(tail -n +2 few.csv | cut -d, -f1)" "$(tail -n +2 base.out | cut -d, -f1)"

# register -> champion; predict via the registry = predict via the file
check "register" R register --stamp register.stamp
check_eq "champion is version 1" 1 "$(t_sql "SELECT version FROM registry.aliases WHERE alias = 'champion'")"
# the gate reads only the validation rows: the same rows, so the same score, as training's
check_eq "gate: the validation rows counted by patient" \
    "$(t_sql "SELECT count(*) FROM clean.encounters WHERE patient_nbr % 100 >= 70 AND patient_nbr % 100 < 85")" \
    "$(t_sql "SELECT gate->>'valid_rows' FROM registry.alias_history WHERE to_version = 1 AND alias = 'champion'")"
check_eq "gate: the new version's score is its run's validation ROC AUC" t \
    "$(t_sql "SELECT abs((h.gate->>'new_score')::float8 - m.value) < 1e-12 FROM registry.alias_history h JOIN registry.model_versions v ON v.version = h.to_version JOIN registry.metrics m ON m.run_id = v.run_id AND m.split = 'valid' AND m.key = 'roc_auc' WHERE h.to_version = 1 AND h.alias = 'champion'")"
check_eq "version 1 is the selected run" "$(t_sql "SELECT run_id FROM registry.runs WHERE selected")" "$(t_sql "SELECT run_id FROM registry.model_versions WHERE version = 1")"
check "version has an input schema with fields" test "$(t_sql "SELECT jsonb_array_length(input_schema->'fields') FROM registry.model_versions")" -gt 10
check "version has an example input" test "$(t_sql "SELECT example_input ? 'encounter_id' FROM registry.model_versions")" = t
check "predict --model champion" R predict -q --model champion --input few.csv --output champ.out
check "predict --model file" R predict -q --model "var/models/$sha.model" --input few.csv --output file.out
check "predict --model readmission:1" R predict -q --model readmission:1 --input few.csv --output v1.out
check "champion and file outputs are identical" cmp -s champ.out file.out
check "readmission:1 and file outputs are identical" cmp -s v1.out file.out
check "probabilities vary across records" test "$(tail -n +2 file.out | cut -d, -f2 | sort -u | wc -l)" -gt 10
thr=$(t_sql "SELECT threshold FROM registry.runs WHERE selected")
check_eq "decision = probability >= the run's threshold" 0 "$(tail -n +2 file.out | awk -F, -v t="$thr" '{if (($2 >= t) != $3) bad++} END {print bad + 0}')"
# more records than predict reads in one batch (8192): the same bytes with one
# and two threads; few.csv's records scored after 9000 others (across a batch
# boundary) get the lines they get alone; a bad value in the second batch
# stops the run naming its line, and nothing is written
"$READMIT" synth --rows 20000 --seed 6 > many.csv
check "predict --threads 1" R predict -q --threads 1 --model "var/models/$sha.model" --input many.csv --output many1.out
check "predict --threads 2" R predict -q --threads 2 --model "var/models/$sha.model" --input many.csv --output many2.out
check "one and two threads write the same bytes" cmp -s many1.out many2.out
check_eq "a line per record" 20001 "$(wc -l < many1.out)"
{ head -n 9001 many.csv; tail -n +2 few.csv; } > mixed.csv
check "predict after 9000 other records" R predict -q --model "var/models/$sha.model" --input mixed.csv --output mixed.out
check_eq "... the same lines as alone" "$(tail -n +2 file.out)" "$(tail -n 200 mixed.out)"
col=$(head -n 1 many.csv | tr ',' '\n' | grep -nx time_in_hospital | cut -d: -f1)
awk -F, -v OFS=, -v c="$col" 'NR == 15001 || NR == 18001 {$c = "many"} {print}' many.csv > bad.csv
check "predict: a bad value in the second batch fails" fails predict -q --threads 2 --model "var/models/$sha.model" --input bad.csv --output bad.out
check "... naming the first bad record's line" grep -q "bad.csv:15001: field 'time_in_hospital': not an integer" err.txt
check "... and writing nothing" test ! -e bad.out

# the file cache is only a cache: remove it and the registry still serves
rm -rf var/models
check "predict --model champion without the file cache" R predict -q --model champion --input few.csv --output champ2.out
check "same output from the database bytes" cmp -s champ.out champ2.out
check "cache refilled" test -s "var/models/$sha.model"

# errors
check "predict: unknown version fails" fails predict -q --model readmission:99 --input few.csv
check "predict: ... naming the version" grep -q 'no version 99' err.txt
check "predict: missing file fails" fails predict -q --model ./nope.model --input few.csv
check "predict: missing --input is a usage error" exit_code 2 predict --model champion
check "predict: bad reference is an error" fails predict -q --model 'readmission:x' --input few.csv
head -c 200 "var/models/$sha.model" > bad.model
check "predict: truncated model fails cleanly" exit_code 1 predict -q --model bad.model --input few.csv

# a second train with the same inputs leaves the same stamp
cp train.stamp train.stamp.1
check "train again" R train -q --stamp train.stamp
check "same inputs -> same train stamp" cmp -s train.stamp train.stamp.1
check_eq "second training recorded" 2 "$(t_sql "SELECT count(*) FROM registry.trainings")"

# a training killed mid-fit: its training never ended and its run stayed 'running'
# (made here by hand, as the killed process would have left them)
t_sql "INSERT INTO registry.trainings (experiment_id, config_hash, code_version, snapshot_id, data_fingerprint, selection_metric, rows_train, rows_valid, rows_test) SELECT experiment_id, config_hash, code_version, snapshot_id, data_fingerprint, selection_metric, rows_train, rows_valid, rows_test FROM registry.trainings ORDER BY training_id DESC LIMIT 1" >/dev/null
killed=$(t_sql "SELECT max(training_id) FROM registry.trainings")
t_sql "INSERT INTO registry.runs (experiment_id, training_id, model_type, name, config_hash, code_version, snapshot_id, data_fingerprint, batch_ids, rows_train, rows_valid, rows_test) SELECT experiment_id, $killed, model_type, name, config_hash, code_version, snapshot_id, data_fingerprint, batch_ids, rows_train, rows_valid, rows_test FROM registry.runs ORDER BY run_id DESC LIMIT 1" >/dev/null
stale=$(t_sql "SELECT max(run_id) FROM registry.runs")
rdm status -o "db.socket_dir=$TOP/var/pg/run" >status1.txt
check "status: the killed training is not the latest" grep -q "^Latest training $((killed - 1)):" status1.txt
check "status: never 'selected run 0'" bash -c "! grep -q 'selected run 0' status1.txt"
check "status: the stale run is not listed as current" bash -c "! grep -qE '^ +$stale +' status1.txt"
check "train after a killed training" R train -q
check_eq "the stale run is failed now, with the reason" \
    "failed|interrupted: training $killed ended before this run finished (the process was killed or crashed); marked failed by training $((killed + 1))" \
    "$(t_sql "SELECT status || '|' || error FROM registry.runs WHERE run_id = $stale")"
check_eq "no run is left running" 0 "$(t_sql "SELECT count(*) FROM registry.runs WHERE status = 'running'")"
rdm status -o "db.socket_dir=$TOP/var/pg/run" >status2.txt
check "status: the new training is the latest" grep -q "^Latest training $((killed + 1)): 4 runs, 4 finished, 0 failed" status2.txt

# the runs go on lanes of their own: the same runs, metrics (all but the fit
# time), curves and explanations on 1, 2 (conf/test.yaml) and 3 threads
metrics_of() { t_sql "SELECT string_agg(r.name || '|' || m.split || '|' || m.key || '|' || m.value::text, ' ' ORDER BY r.name, m.split, m.key) FROM registry.runs r JOIN registry.metrics m USING (run_id) WHERE r.training_id = $1 AND m.key <> 'fit_seconds'"; }
curves_of() { t_sql "SELECT md5(string_agg(r.name || c.split || c.kind || c.points::text, '' ORDER BY r.name, c.split, c.kind)) FROM registry.runs r JOIN registry.curves c USING (run_id) WHERE r.training_id = $1"; }
two=$(t_sql "SELECT max(training_id) FROM registry.trainings")
check "train on 1 thread" R train -q -o train.threads=1
check "train on 3 threads" R train -q -o train.threads=3
check_eq "1 and 2 threads: the same metrics" "$(metrics_of "$two")" "$(metrics_of $((two + 1)))"
check_eq "3 and 2 threads: the same metrics" "$(metrics_of "$two")" "$(metrics_of $((two + 2)))"
check_eq "1, 2 and 3 threads: the same curves, explanations and groups" "$(curves_of "$two") $(curves_of "$two")" "$(curves_of $((two + 1))) $(curves_of $((two + 2)))"
# the test split's details deferred (make's train stage) and measured after
# (its details stage): the same curves, explanations and groups, metrics and models
mbytes_of() { t_sql "SELECT artifact_sha256 || ' ' || replace(name, ' ', '_') FROM registry.runs WHERE training_id = $1 ORDER BY name" |
    while read -r sha name; do
        printf '%s %s ' "$name" "$(grep -avE '^(run_id|trained_at|checksum) ' "var/models/$sha.model" | sha256sum | cut -c1-16)"; done; }
check "train --defer-details" R train -q --defer-details
def=$(t_sql "SELECT max(training_id) FROM registry.trainings")
check_eq "... no run has its test explanations or groups yet" 0 "$(t_sql "SELECT count(*) FROM registry.curves c JOIN registry.runs r USING (run_id) WHERE r.training_id = $def AND c.split = 'test' AND c.kind IN ('importance', 'subgroups')")"
check_eq "... the same metrics" "$(metrics_of "$two")" "$(metrics_of "$def")"
check_eq "... the same model files (but their run id and time)" "$(mbytes_of "$two")" "$(mbytes_of "$def")"
check "train --details" R train --details --stamp details.stamp
check "... says how many runs it measured" grep -q "^details of training $def: 3 of 3 run(s) measured" out.txt
check_eq "... then the same curves, explanations and groups" "$(curves_of "$two")" "$(curves_of "$def")"
check_eq "... stamp" "training=$def runs=3" "$(cat details.stamp)"
check "train --details again" R train --details --stamp details.stamp
check "... has nothing to do" grep -q "^details of training $def: every run has them (3)" out.txt
check_eq "... the same stamp" "training=$def runs=3" "$(cat details.stamp)"
check "--defer-details with --details is a usage error" exit_code 2 train --details --defer-details
check_eq "run ids in grid order whatever finished first" "baseline majority|logreg l2=1|gbt lr=0.1 leaves=7|gbt lr=0.1 leaves=15" \
    "$(t_sql "SELECT string_agg(name, '|' ORDER BY run_id) FROM registry.runs WHERE training_id = $((two + 2))")"
t_done
