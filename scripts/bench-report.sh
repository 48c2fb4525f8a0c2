#!/bin/bash
# bench-report.sh - time `readmit report` over a registry of 200 synthetic runs
# (each with params, metrics, ROC/PR curves of 300 points, calibration and
# importance) in a fresh database. Prints the figure; asserts nothing.
# Usage: scripts/bench-report.sh [READMIT_BINARY] [RUNS]
# With BENCH_BASE=OTHER_BINARY the other binary (e.g. a build of main) is
# timed on the same database too, the two alternating, and both are printed:
# before/after in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
READMIT=${1:-build/readmit}
RUNS=${2:-200}
DB=readmit_bench_report_$$
OUT=$(mktemp -d /tmp/readmit-bench-report.XXXXXX)
cleanup() {
    scripts/pg.sh psql -d postgres -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$OUT"
}
[ -n "${BENCH_KEEP:-}" ] || trap cleanup EXIT
scripts/pg.sh start >/dev/null
scripts/pg.sh psql -d postgres -qc "CREATE DATABASE \"$DB\"" >/dev/null
rdm() { "$READMIT" "$1" -c conf/test.yaml -o "db.name=$DB" "${@:2}"; }
# applies the migrations on an empty site
rdm report -q --out "$OUT/empty" >/dev/null

scripts/pg.sh psql -d "$DB" -q -v ON_ERROR_STOP=1 -v runs="$RUNS" >/dev/null <<'SQL'
BEGIN;
INSERT INTO registry.experiments (name) VALUES ('readmission');
INSERT INTO registry.trainings (experiment_id, config_hash, code_version, snapshot_id,
                                data_fingerprint, selection_metric, rows_train, rows_valid, rows_test)
SELECT 1, md5(t::text), 'bench', 1, md5('data'), 'roc_auc', 69068, 14982, 15293
FROM generate_series(1, (:runs + 9) / 10) t;
INSERT INTO registry.runs (experiment_id, training_id, model_type, name, status, started_at, ended_at,
                           duration_s, fit_s, config_hash, code_version, snapshot_id, data_fingerprint,
                           batch_ids, rows_train, rows_valid, rows_test, threshold, selected)
SELECT 1, (r - 1) / 10 + 1,
       (ARRAY['baseline', 'logreg', 'gbt'])[1 + r % 3], 'bench run ' || r, 'finished',
       now() - (r || ' minutes')::interval, now(), 1 + (r % 7) * 0.5, 1 + (r % 7) * 0.4,
       md5(r::text), 'bench', 1, md5('data'), '1-7', 69068, 14982, 15293, 0.15, r % 10 = 0
FROM generate_series(1, :runs) r;
INSERT INTO registry.params (run_id, key, value)
SELECT r.run_id, k, CASE k WHEN 'learning_rate' THEN (0.05 * (1 + r.run_id % 3))::text
                           WHEN 'max_leaves' THEN (15 + 16 * (r.run_id % 4))::text
                           ELSE (r.run_id % 5)::text END
FROM registry.runs r, unnest(ARRAY['learning_rate', 'max_leaves', 'l2', 'seed', 'min_child_weight']) k;
INSERT INTO registry.metrics (run_id, split, key, value)
SELECT r.run_id, s, k,
       CASE k WHEN 'roc_auc' THEN 0.60 + (r.run_id % 80) / 1000.0
              WHEN 'pr_auc' THEN 0.20 + (r.run_id % 50) / 1000.0
              WHEN 'log_loss' THEN 0.34 - (r.run_id % 20) / 1000.0
              WHEN 'brier' THEN 0.098
              WHEN 'accuracy' THEN 0.887
              WHEN 'tp' THEN 500 WHEN 'fp' THEN 1500 WHEN 'tn' THEN 11800 WHEN 'fn' THEN 1200
              WHEN 'roc_auc_ci_low' THEN 0.66 WHEN 'roc_auc_ci_high' THEN 0.69
              ELSE 0.3 END
FROM registry.runs r, unnest(ARRAY['valid', 'test']) s,
     unnest(ARRAY['roc_auc', 'pr_auc', 'log_loss', 'brier', 'accuracy', 'precision', 'recall', 'f1',
                  'tp', 'fp', 'tn', 'fn', 'roc_auc_ci_low', 'roc_auc_ci_high']) k;
INSERT INTO registry.curves (run_id, split, kind, points)
SELECT r.run_id, s, 'roc',
       (SELECT jsonb_agg(jsonb_build_array(i / 299.0, power(i / 299.0, 0.6)) ORDER BY i)
          FROM generate_series(0, 299) i)
FROM registry.runs r, unnest(ARRAY['valid', 'test']) s;
INSERT INTO registry.curves (run_id, split, kind, points)
SELECT r.run_id, s, 'pr',
       (SELECT jsonb_agg(jsonb_build_array(i / 299.0, 0.11 + 0.5 * power(1 - i / 299.0, 3)) ORDER BY i)
          FROM generate_series(0, 299) i)
FROM registry.runs r, unnest(ARRAY['valid', 'test']) s;
INSERT INTO registry.curves (run_id, split, kind, points)
SELECT r.run_id, s, 'calibration',
       (SELECT jsonb_agg(jsonb_build_object('bin', b, 'lo', b / 10.0, 'hi', (b + 1) / 10.0, 'n', 1000 / (b + 1),
                                            'mean_pred', b / 10.0 + 0.05, 'frac_pos', b / 10.0 + 0.04) ORDER BY b)
          FROM generate_series(0, 9) b)
FROM registry.runs r, unnest(ARRAY['valid', 'test']) s;
INSERT INTO registry.curves (run_id, split, kind, points)
SELECT r.run_id, 'train', 'importance',
       (SELECT jsonb_agg(jsonb_build_object('feature', 'feature_' || f, 'gain', 1000.0 / f) ORDER BY f)
          FROM generate_series(1, 40) f)
FROM registry.runs r WHERE r.model_type <> 'baseline';
INSERT INTO registry.artifacts (sha256, bytes, size)
SELECT encode(sha256(convert_to('m' || v, 'UTF8')), 'hex'), convert_to('m' || v, 'UTF8'), 2
FROM generate_series(1, 5) v;
INSERT INTO registry.model_versions (name, version, run_id, sha256, input_schema, example_input)
SELECT 'readmission', v, v * 10, encode(sha256(convert_to('m' || v, 'UTF8')), 'hex'), '[]', '{}'
FROM generate_series(1, 5) v;
INSERT INTO registry.aliases (name, alias, version) VALUES ('readmission', 'champion', 4),
                                                           ('readmission', 'challenger', 5);
INSERT INTO registry.alias_history (name, alias, from_version, to_version, action, reason, actor, gate)
SELECT 'readmission', 'champion', nullif(v - 1, 0), v, 'register', 'gate passed (bench)', 'bench',
       jsonb_build_object('metric', 'roc_auc', 'new', 0.66 + v / 100.0, 'champion', 0.65 + v / 100.0,
                          'min_gain', 0.001)
FROM generate_series(1, 4) v;
COMMIT;
SQL

n=$(scripts/pg.sh psql -d "$DB" -tAc "SELECT count(*) FROM registry.runs")
fresh() { # binary site-dir -> seconds of one fresh build
    rm -rf "$2"
    local t0 t1
    t0=$(date +%s.%N)
    "$1" report -c conf/test.yaml -o "db.name=$DB" -q --out "$2"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
bins=("$READMIT")
[ -n "${BENCH_BASE:-}" ] && bins=("$BENCH_BASE" "$READMIT")
declare -A best same
for i in 1 2 3; do
    for k in "${!bins[@]}"; do
        b=${bins[$k]}
        t=$(fresh "$b" "$OUT/site-$k")
        if [ -z "${best[$b]:-}" ] || [ "$(echo "$t < ${best[$b]}" | bc -l)" = 1 ]; then best[$b]=$t; fi
    done
done
for k in "${!bins[@]}"; do
    b=${bins[$k]}
    d="$OUT/site-$k"
    t0=$(date +%s.%N)
    "$b" report -c conf/test.yaml -o "db.name=$DB" -q --out "$d"
    t1=$(date +%s.%N)
    same[$b]=$(echo "$t1 - $t0" | bc -l)
    pages=$(find "$d" -name '*.html' | wc -l)
    size=$(du -sh "$d" | cut -f1)
    printf 'bench-report: %s: %d runs, %d pages (%s): fresh site %.3f s (best of 3), unchanged re-run %.3f s (target < 2 s)\n' \
        "$b" "$n" "$pages" "$size" "${best[$b]}" "${same[$b]}"
done
