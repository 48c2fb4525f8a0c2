#!/bin/bash
# t8010-predlog-migrate: migration 009 moves a log of one row per prediction
# (as migrations 001-008 left it) into batches: every row kept with its id and
# values, the raw inputs readable through the view, new rows numbered on from
# the old ones; the view takes INSERTs and a malformed one is refused whole;
# inputs stored without their keys (migration 015) read as the records sent,
# a version, alias or threshold stored once for its batch (016) as each's;
# race, gender and age of new batches coded (017), of old ones as they were.
. "$(dirname "$0")/lib.sh"
t_fresh_db
cd "$TOP"
# the schema as it was before 009, with its bookkeeping
"$TOP/scripts/pg.sh" psql -d "$T_DB" -qc "$(cat sql/meta_create_migrations.sql)" >/dev/null
for f in sql/schema/00[1-8]_*.sql; do
    "$TOP/scripts/pg.sh" psql -d "$T_DB" -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null
    t_sql "INSERT INTO public.schema_migrations (version) VALUES ('$(basename "$f" .sql)')" >/dev/null
done
t_sql "INSERT INTO monitor.predictions (served_at, request_id, item, encounter_id, patient_nbr,
         model_name, model_version, alias, input, probability, decision, threshold, latency_us)
       SELECT timestamptz '2026-01-01' + g * interval '1 s', 'w-' || (g / 3), g % 3,
              CASE WHEN g % 5 = 0 THEN NULL ELSE 900000 + g END, 7000 + g % 11,
              CASE WHEN g <= 2000 THEN 'readmission' ELSE 'other' END,
              CASE WHEN g % 7 = 0 THEN NULL ELSE 1 + g % 2 END, 'champion',
              jsonb_build_object('race', 'Asian', 'age', '[' || g % 9 || '0-)', 'n', g, 'name', 'é'),
              (g % 100) / 100.0, g % 2, 0.3, g
       FROM generate_series(1, 2500) g" >/dev/null
t_sql "DELETE FROM monitor.predictions WHERE prediction_id IN (10, 11, 1500)" >/dev/null
before=$(t_sql "SELECT md5(string_agg(concat_ws('|', prediction_id, served_at, request_id, item,
                  encounter_id, patient_nbr, model_name, model_version, alias, input::text, probability,
                  decision, threshold, latency_us), ',' ORDER BY prediction_id)) FROM monitor.predictions")
check "migration 009 applies" rdm db migrate
check_eq "batches, not rows" 3 "$(t_sql 'SELECT count(*) FROM monitor.prediction_batches')"
after=$(t_sql "SELECT md5(string_agg(concat_ws('|', prediction_id, served_at, request_id, item,
                 encounter_id, patient_nbr, model_name, model_version, alias, input::text, probability,
                 decision, threshold, latency_us), ',' ORDER BY prediction_id)) FROM monitor.predictions")
check_eq "every row kept with its id and values" "$before" "$after"
check_eq "group fields beside the inputs" "Asian|[10-)" \
    "$(t_sql "SELECT b.race[1], b.age[1] FROM monitor.prediction_batches b WHERE b.prediction_id[1] = 1")"
t_sql "INSERT INTO monitor.predictions (served_at, request_id, encounter_id, model_name, input,
         probability, decision, threshold) VALUES (now(), 'new-1', 5, 'readmission', '{}', 0.5, 1, 0.3),
         (now(), 'new-2', 6, 'readmission', '{\"age\": null}', 0.25, 0, 0.3)" >/dev/null
check_eq "new rows numbered on from the old ids" "2501,2502" \
    "$(t_sql "SELECT string_agg(prediction_id::text, ',' ORDER BY prediction_id) FROM monitor.predictions WHERE request_id LIKE 'new-%'")"
check_eq "alike versions, aliases and thresholds stored once" "1:1:1:2" \
    "$(t_sql "SELECT cardinality(model_version), cardinality(alias), cardinality(threshold), n FROM monitor.prediction_batches WHERE writer = 'new'" | tr '|' ':')"
check_eq "group fields of new batches coded (migration 017), of old ones as they were" "{NULL,NULL}:{NULL,NULL}:\\x000000000000:{Asian}:{[10-)}" \
    "$(t_sql "SELECT monitor.log_group(race, group_values, group_codes, 1), monitor.log_group(age, group_values, group_codes, 3), group_codes,
                     (SELECT (monitor.log_group(race, group_values, group_codes, 1))[1:1] FROM monitor.prediction_batches WHERE prediction_id[1] = 1),
                     (SELECT (monitor.log_group(age, group_values, group_codes, 3))[1:1] FROM monitor.prediction_batches WHERE prediction_id[1] = 1)
              FROM monitor.prediction_batches WHERE writer = 'new'" | tr '|' ':')"
check_eq "defaults of the view" "0||{\"age\": null}" \
    "$(t_sql "SELECT item, alias, input FROM monitor.predictions WHERE request_id = 'new-2'")"
check "a malformed row is refused" bash -c "! '$TOP/scripts/pg.sh' psql -d '$T_DB' -qc \"INSERT INTO monitor.predictions (served_at, request_id, model_name, input, probability, decision, threshold) VALUES (now(), 'bad', 'm', '{}', 1.5, 0, 0.3)\" 2>/dev/null"
check_eq "nothing left pending" 0 "$(t_sql 'SELECT count(*) FROM monitor.prediction_pending')"
check_eq "2499 predictions" 2499 "$(t_sql 'SELECT count(*) FROM monitor.predictions')"
# an input stored without its keys (migration 015: its batch's input_keys,
# a 0x1f before each value, 0x1e for null) reads as the record it was,
# beside one stored as sent; the monitor's sample of inputs reads both
t_sql "INSERT INTO monitor.prediction_batches (model_name, n, first_served, last_served, writer,
         seq_lo, seq_hi, prediction_id, served_at, request_id, item, encounter_id, patient_nbr,
         model_version, alias, probability, decision, threshold, latency_us, race, gender, age,
         input_end, inputs, input_keys)
       VALUES ('readmission', 2, now(), now(), 'k', 1, 2, '{9001,9002}', ARRAY[now(), now()],
               '{k-1,k-2}', '{0,0}', '{1,2}', '{NULL,NULL}', '{5}', '{champion}', '{0.5,0.5}',
               '{1,1}', '{0.25}', '{1,1}', '{NULL,NULL}', '{NULL,NULL}', '{NULL,NULL}', '{10,18}',
               convert_to(E'\\x1fAsiaé\\x1f\\x1e\\x1f' || '{\"n\": 1}', 'UTF8'), '{race,age,w}')" >/dev/null
check_eq "an input without its keys, one as sent" '{"w": "", "age": null, "race": "Asiaé"}|{"n": 1}' \
    "$(t_sql "SELECT string_agg(input::text, '|' ORDER BY prediction_id) FROM monitor.predictions WHERE batch_id = (SELECT max(batch_id) FROM monitor.prediction_batches)")"
check_eq "the monitor's sample of inputs" "$(printf '9001\t{"w": "", "age": null, "race": "Asiaé"}\n9002\t{"n": 1}')" \
    "$("$TOP/scripts/pg.sh" psql -d "$T_DB" -qAt -c "SET readmit.model_name = 'readmission'" -c "SET readmit.input_share = 1" \
       -c "$(cat sql/monitor_copy_out_inputs.sql)" | grep '^900[12]' | sort)"
# a version, alias and threshold stored once for the batch (migration 016)
# are every prediction's
check_eq "one version, alias and threshold for the batch" "5|champion|0.25,5|champion|0.25" \
    "$(t_sql "SELECT string_agg(concat_ws('|', model_version, alias, threshold), ',' ORDER BY prediction_id) FROM monitor.predictions WHERE request_id LIKE 'k-%'")"
t_sql "DELETE FROM monitor.prediction_batches WHERE writer = 'k'" >/dev/null
# ANALYZE (autovacuum's too) keeps no statistics of the per-prediction arrays
# and inputs (migration 014: counting their elements cost seconds per run on
# a large log), and keeps those of the batch columns
t_sql "ANALYZE monitor.prediction_batches" >/dev/null
stats() { t_sql "SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_stats WHERE schemaname = 'monitor' AND tablename = 'prediction_batches' AND attname IN ($1)"; }
check_eq "no statistics of the arrays and inputs" "" "$(stats "'prediction_id', 'encounter_id', 'probability', 'race', 'input_end', 'inputs'")"
check_eq "statistics of the batch columns" "batch_id,model_name,n" "$(stats "'batch_id', 'model_name', 'n'")"
t_done
