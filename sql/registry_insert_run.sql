INSERT INTO registry.runs
    (experiment_id, training_id, model_type, name, config_hash, code_version, snapshot_id,
     data_fingerprint, batch_ids, rows_train, rows_valid, rows_test)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING run_id
