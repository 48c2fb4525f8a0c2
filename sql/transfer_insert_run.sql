-- The training and the one finished run that stand for a model imported from
-- another installation ($1 experiment, $2 the export's lineage, $3 model
-- type, $4 threshold, $5 artifact sha256; the last three read from the model
-- itself). snapshot_id stays NULL: the source's snapshot is not one of this
-- installation's (the lineage, kept in registry.imports, names it).
WITH l AS (SELECT $2::jsonb AS j),
id AS (SELECT nextval(pg_get_serial_sequence('registry.runs', 'run_id')) AS run_id),
t AS (
    INSERT INTO registry.trainings
        (experiment_id, started_at, ended_at, config_hash, code_version, snapshot_id,
         data_fingerprint, selection_metric, selected_run_id, rows_train, rows_valid, rows_test)
    SELECT $1::bigint,
           coalesce((j #>> '{training,started_at}')::timestamptz, now()),
           coalesce((j #>> '{training,ended_at}')::timestamptz, now()),
           j #>> '{run,config_hash}', j #>> '{run,code_version}', NULL,
           j #>> '{run,data_fingerprint}',
           coalesce(j #>> '{training,selection_metric}', 'roc_auc'), id.run_id,
           (j #>> '{run,rows_train}')::integer, (j #>> '{run,rows_valid}')::integer,
           (j #>> '{run,rows_test}')::integer
    FROM l, id
    RETURNING training_id)
INSERT INTO registry.runs
    (run_id, experiment_id, training_id, model_type, name, status, started_at, ended_at,
     duration_s, fit_s, config_hash, code_version, snapshot_id, data_fingerprint, batch_ids,
     rows_train, rows_valid, rows_test, threshold, artifact_sha256, selected)
SELECT id.run_id, $1::bigint, t.training_id, $3, coalesce(j #>> '{run,name}', $3), 'finished',
       coalesce((j #>> '{run,started_at}')::timestamptz, now()),
       coalesce((j #>> '{run,ended_at}')::timestamptz, now()),
       (j #>> '{run,duration_s}')::float8, (j #>> '{run,fit_s}')::float8,
       j #>> '{run,config_hash}', j #>> '{run,code_version}', NULL,
       j #>> '{run,data_fingerprint}', j #>> '{run,batch_ids}',
       (j #>> '{run,rows_train}')::integer, (j #>> '{run,rows_valid}')::integer,
       (j #>> '{run,rows_test}')::integer, $4::float8, $5, true
FROM l, id, t
RETURNING run_id
