#!/bin/bash
# readmit model export / import between two installations (two databases,
# two model caches): the file holds the model, its checksum and lineage;
# import verifies it, registers a new version keeping the lineage and the
# source, refuses damaged files without writing anything, and is idempotent;
# both installations score the same probabilities with it.
. "$(dirname "$0")/lib.sh"
t_fresh_db
cd "$T_TMP"
DB_A=$T_DB
DB_B=${T_DB}_b
PG() { "$TOP/scripts/pg.sh" psql -d postgres -qc "$1" >/dev/null; }
PG "CREATE DATABASE \"$DB_B\""
trap 'PG "DROP DATABASE IF EXISTS \"$DB_B\" WITH (FORCE)" 2>/dev/null || true; t_cleanup' EXIT
at() { # at A|B readmit-command args...: run readmit as installation A or B
    local db=$DB_A cache=$T_TMP/a/models
    [ "$1" = B ] && db=$DB_B cache=$T_TMP/b/models
    READMIT_MODEL_CACHE=$cache "$READMIT" "$2" -c "$TOP/conf/test.yaml" -o "db.name=$db" \
        -o "report.dir=$T_TMP/reports-$1" -o "db.socket_dir=$TOP/var/pg/run" "${@:3}"
}
sql() { "$TOP/scripts/pg.sh" psql -d "$([ "$1" = B ] && echo "$DB_B" || echo "$DB_A")" -tAqc "$2"; }
counts() { sql B "SELECT (SELECT count(*) FROM registry.model_versions) || ' ' ||
                         (SELECT count(*) FROM registry.runs) || ' ' ||
                         (SELECT count(*) FROM registry.trainings) || ' ' ||
                         (SELECT count(*) FROM registry.artifacts) || ' ' ||
                         (SELECT count(*) FROM registry.imports)"; }

"$READMIT" synth --rows 4000 --seed 5 > a.csv
"$READMIT" synth --rows 4000 --seed 6 > b.csv
head -n 301 a.csv > few.csv
for i in A B; do
    f=a.csv; [ $i = B ] && f=b.csv
    at $i ingest -q --source $f >/dev/null && at $i clean -q >/dev/null && at $i train -q >/dev/null &&
        at $i register >/dev/null || not_ok "pipeline setup of installation $i failed"
done
sha_a=$(sql A "SELECT sha256 FROM registry.model_versions WHERE version = 1")
run_a=$(sql A "SELECT run_id FROM registry.model_versions WHERE version = 1")
inst_a=$(sql A "SELECT installation_id FROM registry.installation")

# ---- export ----
at A model export 1 m.tgz --json -q >export.json && rc=0 || rc=$?
check_eq "export 1" 0 "$rc"
check_eq "export --json: version 1" 1 "$(jq .version export.json)"
check_eq "export --json: the version's sha256" "$sha_a" "$(jq -r .sha256 export.json)"
check_eq "the file is a tar.gz of manifest, lineage and model" \
    "lineage.json manifest.json model.model" "$(tar tzf m.tgz | sort | tr '\n' ' ' | sed 's/ $//')"
mkdir x && tar xzf m.tgz -C x
check_eq "model.model is the registry's artifact" "$sha_a" "$(sha256sum x/model.model | cut -d' ' -f1)"
check_eq "the manifest's sha256 of the model" "$sha_a" "$(jq -r '.members["model.model"].sha256' x/manifest.json)"
check_eq "the manifest's sha256 of the lineage" "$(sha256sum x/lineage.json | cut -d' ' -f1)" \
    "$(jq -r '.members["lineage.json"].sha256' x/manifest.json)"
check_eq "lineage: the source installation" "$inst_a" "$(jq -r .installation x/lineage.json)"
check_eq "lineage: the run's parameters" "$(sql A "SELECT value FROM registry.params WHERE run_id = $run_a AND key = 'learning_rate'")" \
    "$(jq -r '.run.params.learning_rate // "none"' x/lineage.json)"
check_eq "lineage: the run's validation AUC" "$(sql A "SELECT value FROM registry.metrics WHERE run_id = $run_a AND split = 'valid' AND key = 'roc_auc'")" \
    "$(jq -r '.run.metrics.valid.roc_auc' x/lineage.json)"
check_eq "lineage: the data snapshot's fingerprint" "$(sql A "SELECT s.fingerprint FROM clean.snapshots s JOIN registry.runs r USING (snapshot_id) WHERE r.run_id = $run_a")" \
    "$(jq -r .snapshot.fingerprint x/lineage.json)"
check_eq "lineage: the code version" "$(sql A "SELECT code_version FROM registry.runs WHERE run_id = $run_a")" "$(jq -r .run.code_version x/lineage.json)"
check "lineage: who registered it and when" jq -e >/dev/null '.registered.by and .registered.at and .exported_by and .exported_at' x/lineage.json
quiet() { "$@" >/dev/null; }
check "model show reads the file without a database" quiet "$READMIT" model show m.tgz -c "$TOP/conf/test.yaml" \
    -o db.name=no_such_db -o db.socket_dir=/nonexistent -q
check_eq "model show --json: the lineage" "$sha_a" "$(at A model show m.tgz --json | jq -r .sha256)"

# ---- import into B ----
before=$(counts)
at B model import m.tgz --json -q >import.json && rc=0 || rc=$?
check_eq "import into B" 0 "$rc"
check_eq "import: the next version of B (2)" 2 "$(jq .version import.json)"
check_eq "import: the source version" 1 "$(jq .source.version import.json)"
check_eq "import: the source installation" "$inst_a" "$(jq -r .source.installation import.json)"
check_eq "B's version 2 has A's model" "$sha_a" "$(sql B "SELECT sha256 FROM registry.model_versions WHERE version = 2")"
run_b=$(jq .run_id import.json)
check_eq "the imported run keeps the parameters" "$(at A runs show "$run_a" --json | jq -cS .params)" "$(at B runs show "$run_b" --json | jq -cS .params)"
check_eq "... the metrics" "$(at A runs show "$run_a" --json | jq -cS '[.valid, .test]')" "$(at B runs show "$run_b" --json | jq -cS '[.valid, .test]')"
check_eq "... the data fingerprint and code version" "$(at A runs show "$run_a" --json | jq -c '[.data_fingerprint, .code_version, .config_hash]')" \
    "$(at B runs show "$run_b" --json | jq -c '[.data_fingerprint, .code_version, .config_hash]')"
check_eq "... and names no snapshot of B" "" "$(sql B "SELECT snapshot_id FROM registry.runs WHERE run_id = $run_b")"
check_eq "... the curves" "$(sql A "SELECT count(*) FROM registry.curves WHERE run_id = $run_a")" "$(sql B "SELECT count(*) FROM registry.curves WHERE run_id = $run_b")"
check_eq "versions --json: imported_from names A's version" "$inst_a:1" \
    "$(at B versions --json | jq -r '.[] | select(.version == 2) | "\(.imported_from.installation):\(.imported_from.version)"')"
check_eq "the import set no alias" 1 "$(sql B "SELECT version FROM registry.aliases WHERE alias = 'champion'")"
check_eq "register on B still sees B's own training (nothing to do)" 0 \
    "$(at B register -q >/dev/null 2>&1; echo $?)"
check_eq "... and registered nothing more" 2 "$(sql B "SELECT count(*) FROM registry.model_versions")"

# ---- the same probabilities ----
at A predict -q --model readmission:1 --input few.csv --output pa.csv
at B predict -q --model readmission:2 --input few.csv --output pb.csv
check "B's version 2 scores what A's version 1 scores" cmp -s pa.csv pb.csv
check "... 300 records" test "$(wc -l < pb.csv)" -eq 301
at B predict -q --model readmission:1 --input few.csv --output pb1.csv
check "(B's own version 1 scores differently)" bash -c "! cmp -s pa.csv pb1.csv"
at B promote 2 -q >/dev/null
at B predict -q --model champion --input few.csv --output pbc.csv
check "promoted, B's champion scores the same" cmp -s pa.csv pbc.csv

# ---- idempotent ----
n=$(counts)
at B model import m.tgz --json -q >again.json && rc=0 || rc=$?
check_eq "importing again succeeds" 0 "$rc"
check_eq "... saying it is already version 2" "true 2" "$(jq -r '"\(.already) \(.version)"' again.json)"
check_eq "... and writes nothing" "$n" "$(counts)"
check_eq "importing into the source: already version 1" "true 1" "$(at A model import m.tgz --json -q | jq -r '"\(.already) \(.version)"')"

# ---- damaged files: refused, naming the file, nothing written ----
refused() { # file needle: import fails (1), the message names the file and says why, nothing written
    local rc
    at B model import "$1" -q >/dev/null 2>err.txt && rc=0 || rc=$?
    [ "$rc" = 1 ] && grep -q "$1" err.txt && grep -q "$2" err.txt && [ "$(counts)" = "$n" ] ||
        { echo "# rc=$rc: $(cat err.txt)"; return 1; }
}
head -c $(($(stat -c %s m.tgz) / 2)) m.tgz > half.tgz
check "a truncated file is refused" refused half.tgz "truncated"
head -c $(($(stat -c %s m.tgz) - 1)) m.tgz > short.tgz
check "a file one byte short is refused" refused short.tgz "truncated\|damaged"
(cd x && sed -i '1s/^readmit-model/readmit-modeL/' model.model && tar czf ../bad-model.tgz manifest.json lineage.json model.model)
check "a changed model is refused (checksum)" refused bad-model.tgz "checksum mismatch: model.model"
tar xzf m.tgz -C x
(cd x && sed -i '0,/"roc_auc": 0\./s//"roc_auc": 1./' lineage.json && tar czf ../bad-lineage.tgz manifest.json lineage.json model.model)
check "a changed lineage is refused (checksum)" refused bad-lineage.tgz "checksum mismatch: lineage.json"
tar xzf m.tgz -C x
(cd x && tar czf ../no-model.tgz manifest.json lineage.json)
check "an export without its model is refused" refused no-model.tgz "no model.model"
check "a file that is no export is refused" refused few.csv "cannot be read as a model export"
head -c 2000 m.tgz > start.tgz
check "a file cut short in its first kilobytes is refused" refused start.tgz "truncated"
check "a missing file is refused" refused nosuch.tgz "nosuch.tgz"

# ---- the command line ----
check_eq "model without a subcommand: usage (2)" 2 "$(at A model >/dev/null 2>&1; echo $?)"
check_eq "export without FILE: usage (2)" 2 "$(at A model export 1 >/dev/null 2>&1; echo $?)"
check_eq "export of a file reference: usage (2)" 2 "$(at A model export ./x/model.model out.tgz >/dev/null 2>&1; echo $?)"
check_eq "export of a missing version fails (1)" 1 "$(at A model export 99 out.tgz >/dev/null 2>&1; echo $?)"
check "... writing no file" test ! -e out.tgz
check "readmit help model" grep -q '^usage: readmit model export VERSION FILE' <<<"$("$READMIT" help model)"
check "readmit --help lists model" grep -q '^  model ' <<<"$("$READMIT" --help)"
t_done
