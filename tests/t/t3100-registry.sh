#!/bin/bash
# The promotion gate, promote, rollback, the alias history and NOTIFY.
. "$(dirname "$0")/lib.sh"
t_fresh_db
cd "$T_TMP"
R() { rdm "$1" -o "db.socket_dir=$TOP/var/pg/run" "${@:2}" >>out.txt; }
exit_code() { local want=$1; shift; R "$@" 2>>err.txt; test $? -eq "$want"; }
champion() { t_sql "SELECT coalesce((SELECT version FROM registry.aliases WHERE alias = 'champion'), 0)"; }
challenger() { t_sql "SELECT coalesce((SELECT version FROM registry.aliases WHERE alias = 'challenger'), 0)"; }
valid_auc() { t_sql "SELECT m.value FROM registry.metrics m JOIN registry.model_versions v USING (run_id) WHERE v.version = $1 AND m.split = 'valid' AND m.key = 'roc_auc'"; }

"$READMIT" synth --rows 6000 --seed 9 > s.csv
check "ingest" R ingest -q --source s.csv
check "clean" R clean -q
check "register before any training fails" exit_code 1 register
check "... saying to train first" grep -q 'readmit train' err.txt
check "rollback with no champion fails" exit_code 1 rollback

# v1: a crippled model (one tree with two leaves): no champion yet, so only the floor applies
CRIPPLED=(-o train.logreg.enabled=false -o train.baseline.enabled=false -o train.gbt.max_iter=1 -o train.gbt.max_leaves=2)
check "train crippled" R train -q "${CRIPPLED[@]}"
check "register v1" R register -o registry.min_gain=0.01
check_eq "v1 is champion (floor only)" 1 "$(champion)"
[ "$T_FAIL" -eq 0 ] || { t_done; exit 1; }

# v2: the full test grid is better by more than min_gain -> promoted; NOTIFY seen by a listener.
# psql prints a notification only after a command, so the listener sends one
# every 0.2 s until it has seen a notification or 10 minutes have passed (a
# bound, not a measurement: the training in between takes what it takes)
( echo "LISTEN readmit_model;"; echo "SELECT 'listening';"; n=0
  while [ $n -lt 3000 ] && ! grep -q '^Asynchronous notification' notify.txt; do
      sleep 0.2; echo "SELECT 1;"; n=$((n + 1))
  done ) | "$TOP/scripts/pg.sh" psql -tA -d "$T_DB" >notify.txt 2>&1 &
listener=$!
check "the listener is listening" wait_for 120 grep -qx listening notify.txt
check "train full" R train -q
check "register v2" R register -o registry.min_gain=0.01
check_eq "v2 is champion" 2 "$(champion)"
check "NOTIFY readmit_model 'readmission:2' received" wait_for 120 grep -q 'payload "readmission:2"' notify.txt
kill "$listener" 2>/dev/null || true
wait "$listener" 2>/dev/null || true
check "v2 beats v1 on validation by >= 0.01" awk -v a="$(valid_auc 2)" -v b="$(valid_auc 1)" 'BEGIN {exit !(a - b >= 0.01)}'
# the gate re-scored the champion on the same validation split: same number as v1's own run
g=$(t_sql "SELECT gate->>'champion_score' FROM registry.alias_history WHERE to_version = 2 AND alias = 'champion'")
check "gate re-scored v1 on the same validation rows (= v1's run metric)" awk -v a="$g" -v b="$(valid_auc 1)" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(d < 1e-12)}'
check_eq "gate recorded v2's score" "$(valid_auc 2)" "$(t_sql "SELECT (gate->>'new_score')::float8 FROM registry.alias_history WHERE to_version = 2 AND alias = 'champion'")"
check "register again: nothing new" R register
check_eq "still 2 versions" 2 "$(t_sql "SELECT count(*) FROM registry.model_versions")"

# v3: baseline only (AUC 0.5) fails the gain -> challenger, champion unchanged
check "train baseline only" R train -q -o train.logreg.enabled=false -o train.gbt.enabled=false
check "register v3" R register -o registry.min_gain=0.01
check_eq "champion still v2" 2 "$(champion)"
check_eq "v3 is challenger" 3 "$(challenger)"
check "v3's history row says the gate failed" test "$(t_sql "SELECT reason LIKE 'gate failed%' FROM registry.alias_history WHERE alias = 'challenger' AND to_version = 3")" = t

# rollback: back to v1; again: nothing before v1
check "rollback" R rollback --reason "bad latency"
check_eq "rollback restored v1" 1 "$(champion)"
check "second rollback fails (no previous champion)" exit_code 1 rollback
check "... with a clear message" grep -q 'no previous champion' err.txt
check_eq "a failed rollback changes nothing" 1 "$(champion)"

# manual promote; promoting the challenger clears the challenger alias
check "promote 2" R promote 2 --reason "re-checked"
check_eq "v2 champion again" 2 "$(champion)"
check "promote 3 (the challenger)" R promote 3
check_eq "v3 champion" 3 "$(champion)"
check_eq "no challenger left" 0 "$(challenger)"
check "promote a missing version fails" exit_code 1 promote 42
nhist=$(t_sql "SELECT count(*) FROM registry.alias_history")
check "promote the champion again succeeds" exit_code 0 promote 3
check "... saying it is already the champion" grep -q 'version 3 is already the champion' out.txt
check_eq "... and records nothing" "$nhist" "$(t_sql "SELECT count(*) FROM registry.alias_history")"
for bad in " 3" "3 " "+3" "-3" "0" "3x" "1234567890" ""; do
    check "promote '$bad' is a usage error" exit_code 2 promote "$bad"
done
check "promote without a version is a usage error" exit_code 2 promote
check "rollback from v3 goes back to v2" R rollback
check_eq "v2 champion" 2 "$(champion)"

# the history, in order
check_eq "history: every change in order" \
"champion register - 1
champion register 1 2
challenger register - 3
champion rollback 2 1 manual rollback: bad latency
champion promote 1 2 manual promote: re-checked
champion promote 2 3 manual promote
challenger promote 3 - manual promote
champion rollback 3 2 manual rollback" \
"$(t_sql "SELECT alias || ' ' || action || ' ' || coalesce(from_version::text, '-') || ' ' || coalesce(to_version::text, '-') || CASE WHEN reason LIKE 'manual%' THEN ' ' || reason ELSE '' END FROM registry.alias_history ORDER BY history_id")"
check_eq "every history row has time, actor and reason" 0 "$(t_sql "SELECT count(*) FROM registry.alias_history WHERE at IS NULL OR actor = '' OR reason = ''")"
check "actor names the command" test "$(t_sql "SELECT count(*) FROM registry.alias_history WHERE actor LIKE '%(readmit rollback)'")" -eq 2
host=$(hostname)
check "actor names user and host" test "$(t_sql "SELECT count(*) FROM registry.alias_history WHERE actor NOT LIKE '%@$host (readmit %)'")" -eq 0
check "gate numbers stored as JSON" test "$(t_sql "SELECT count(*) FROM registry.alias_history WHERE action = 'register' AND gate ? 'min_gain' AND gate ? 'new_score'")" -eq 3
check "alias_history is append-only" bash -c "! '$TOP/scripts/pg.sh' psql -d '$T_DB' -qc 'DELETE FROM registry.alias_history' 2>/dev/null"
check_eq "history intact" 8 "$(t_sql "SELECT count(*) FROM registry.alias_history")"
# cron, systemd and containers often set neither USER nor LOGNAME: the account is named all the same
check "promote without USER or LOGNAME" env -u USER -u LOGNAME "$READMIT" promote 3 -c "${T_CONF:-$TOP/conf/test.yaml}" \
    -o "db.name=$T_DB" -o "report.dir=$T_REPORTS" -o "db.socket_dir=$TOP/var/pg/run"
check_eq "... its actor names the account" "$(id -un)@$host (readmit promote)" \
    "$(t_sql "SELECT actor FROM registry.alias_history ORDER BY history_id DESC LIMIT 1")"
t_done
