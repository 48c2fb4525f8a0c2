INSERT INTO registry.trainings
    (experiment_id, config_hash, code_version, snapshot_id, data_fingerprint, selection_metric,
     rows_train, rows_valid, rows_test)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING training_id
