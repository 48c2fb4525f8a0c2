#!/bin/bash
# The command line for runs and the registry: readmit runs (list, --where,
# --sort, --limit, show, diff, --json), versions, history; readmit help CMD;
# exit codes listed once; options a command does not take are refused.
. "$(dirname "$0")/lib.sh"
t_fresh_db
cd "$T_TMP"
R() { rdm "$@" -o "db.socket_dir=$TOP/var/pg/run"; }
"$READMIT" synth --rows 5000 --seed 5 > s.csv
R ingest -q --source s.csv >/dev/null && R clean -q >/dev/null && R train -q >/dev/null &&
    R register >/dev/null && R train -q -o train.seed=9 -o train.gbt.max_leaves=5 >/dev/null &&
    R register -o train.seed=9 -o train.gbt.max_leaves=5 >/dev/null ||
    not_ok "pipeline setup failed"
n=$(t_sql "SELECT count(*) FROM registry.runs")

check_eq "runs --json lists every run" "$n" "$(R runs --json | jq length)"
check_eq "runs: one table line per run (+2 header lines)" "$((n + 2))" "$(R runs | wc -l)"
want=$(t_sql "SELECT string_agg(run_id::text, ' ' ORDER BY m.value DESC, run_id DESC) FROM registry.runs r
              JOIN registry.metrics m USING (run_id) WHERE r.model_type = 'gbt' AND m.split = 'valid'
              AND m.key = 'roc_auc' AND m.value > 0.6")
got=$(R runs --where 'type=gbt and valid.roc_auc>0.6' --sort -valid.roc_auc --json | jq -r '[.[].run_id] | join(" ")')
check_eq "--where and --sort select and order as SQL does" "$want" "$got"
check_eq "--limit 2" 2 "$(R runs --sort -valid.roc_auc --limit 2 --json | jq length)"
check_eq "--training 1: that training's runs only" \
    "$(t_sql "SELECT count(*) FROM registry.runs WHERE training_id = 1")" "$(R runs --training 1 --json | jq length)"
check_eq "a bad --where is a usage error (2)" 2 "$(R runs --where 'type gbt' >/dev/null 2>err.txt; echo $?)"
check "... naming the column" grep -q 'column 6: expected an operator' err.txt

first=$(t_sql "SELECT min(run_id) FROM registry.runs WHERE model_type = 'gbt' AND training_id = 1")
second=$(t_sql "SELECT min(run_id) FROM registry.runs WHERE model_type = 'gbt' AND training_id = 2")
check_eq "runs show: the run's id" "$first" "$(R runs show "$first" --json | jq .run_id)"
R runs show "$first" > show.txt
check "runs show: parameters" grep -q '^params.learning_rate ' show.txt
check "runs show: validation metrics" grep -q '^valid.roc_auc ' show.txt
check "runs show: code version" grep -q '^code_version ' show.txt
R runs diff "$first" "$second" --json > diff.json
check "runs diff: the changed seed" jq -e 'map(select(.field == "params.seed")) | length == 1' diff.json
check "runs diff: the changed leaves" jq -e 'map(select(.field == "params.max_leaves")) | length == 1' diff.json
check "runs diff: not what is equal (data snapshot)" jq -e 'map(select(.field == "snapshot_id")) | length == 0' diff.json
check "runs diff: never ids or times" jq -e 'map(select(.field == "run_id" or .field == "started_at")) | length == 0' diff.json
check_eq "runs diff of a run with itself: nothing" "(no difference)" "$(R runs diff "$first" "$first" | tail -1)"
check_eq "runs show of an unknown run fails (1)" 1 "$(R runs show 999999 >/dev/null 2>&1; echo $?)"

check_eq "versions --json" "$(t_sql "SELECT count(*) FROM registry.model_versions")" "$(R versions --json | jq length)"
check "versions: the champion is marked" grep -q 'champion' <<<"$(R versions)"
check_eq "history --json: every alias move" "$(t_sql "SELECT count(*) FROM registry.alias_history")" \
    "$(R history --json | jq length)"
fp1=$(R history --fingerprint)
other=$(t_sql "SELECT min(version) FROM registry.model_versions WHERE version NOT IN
                (SELECT version FROM registry.aliases WHERE alias = 'champion')")
R promote "$other" >/dev/null || not_ok "promote $other failed"
check "history --fingerprint moves with an alias change" test "$fp1" != "$(R history --fingerprint)"

check "readmit help runs prints the runs help" grep -q '^usage: readmit runs' <<<"$("$READMIT" help runs)"
"$READMIT" --help > help.txt
check "readmit --help lists --version" grep -q -- '--version' help.txt
check_eq "readmit --help lists the exit codes once" 1 "$(grep -c '^Exit status' help.txt)"
check "status --help does not offer --stamp" bash -c "! \"$READMIT\" status --help | grep -q -- --stamp"
check_eq "status --stamp is refused (2)" 2 "$(R status --stamp x >/dev/null 2>&1; echo $?)"
check_eq "help of an unknown command is a usage error (2)" 2 "$("$READMIT" help nosuch >/dev/null 2>&1; echo $?)"
t_done
