SELECT jsonb_build_object(
    'model_name', $1::text,
    'champion', (SELECT version FROM registry.aliases WHERE name = $1 AND alias = 'champion'),
    'challenger', (SELECT version FROM registry.aliases WHERE name = $1 AND alias = 'challenger'),
    'versions', (SELECT count(*) FROM registry.model_versions WHERE name = $1),
    'latest_training', (
        SELECT jsonb_build_object('training_id', t.training_id, 'started_at', t.started_at,
                                  'ended_at', t.ended_at, 'selected_run_id', t.selected_run_id,
                                  'snapshot_id', t.snapshot_id,
                                  'runs', (SELECT count(*) FROM registry.runs r WHERE r.training_id = t.training_id),
                                  'finished', (SELECT count(*) FROM registry.runs r WHERE r.training_id = t.training_id AND r.status = 'finished'),
                                  'failed', (SELECT count(*) FROM registry.runs r WHERE r.training_id = t.training_id AND r.status = 'failed'))
        FROM registry.trainings t JOIN registry.experiments e USING (experiment_id)
        WHERE e.name = $1 AND t.ended_at IS NOT NULL ORDER BY t.training_id DESC LIMIT 1),
    'runs', (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'run_id', r.run_id, 'model_type', r.model_type, 'name', r.name, 'status', r.status,
                   'selected', r.selected,
                   'version', (SELECT v.version FROM registry.model_versions v WHERE v.name = $1 AND v.run_id = r.run_id),
                   'metric', $2::text,
                   'valid', (SELECT m.value FROM registry.metrics m WHERE m.run_id = r.run_id AND m.split = 'valid' AND m.key = $2),
                   'test', (SELECT m.value FROM registry.metrics m WHERE m.run_id = r.run_id AND m.split = 'test' AND m.key = $2))
               ORDER BY r.run_id), '[]'::jsonb)
        FROM registry.runs r
        WHERE r.training_id = (SELECT max(t.training_id) FROM registry.trainings t
                               JOIN registry.experiments e USING (experiment_id)
                               WHERE e.name = $1 AND t.ended_at IS NOT NULL))
)::text
