SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.run_id DESC), '[]'::jsonb)::text
FROM (
    SELECT r.run_id, r.training_id, r.model_type, r.name, r.status, r.error,
           r.started_at, r.ended_at, r.duration_s, r.fit_s, r.config_hash, r.code_version,
           r.snapshot_id, r.data_fingerprint, r.batch_ids, r.rows_train, r.rows_valid,
           r.rows_test, r.threshold, r.artifact_sha256, r.selected,
           (SELECT coalesce(jsonb_object_agg(p.key, p.value), '{}'::jsonb)
              FROM registry.params p WHERE p.run_id = r.run_id) AS params,
           (SELECT coalesce(jsonb_object_agg(m.key, m.value), '{}'::jsonb)
              FROM registry.metrics m WHERE m.run_id = r.run_id AND m.split = 'valid') AS valid,
           (SELECT coalesce(jsonb_object_agg(m.key, m.value), '{}'::jsonb)
              FROM registry.metrics m WHERE m.run_id = r.run_id AND m.split = 'test') AS test
    FROM registry.runs r
    WHERE $1::bigint = 0 OR r.training_id = $1::bigint
) x
