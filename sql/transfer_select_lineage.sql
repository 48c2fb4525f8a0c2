-- Everything an export carries about version $2 of $1: the version, its run
-- (params, metrics of every split, tags, curves), the training and data
-- snapshot it came from, who registered it, where it was imported from (when
-- it was), and this installation's identity.
SELECT jsonb_build_object(
    'installation', (SELECT installation_id FROM registry.installation),
    'name', v.name, 'version', v.version, 'sha256', v.sha256, 'created_at', v.created_at,
    'input_schema', v.input_schema, 'example_input', v.example_input,
    'registered', (SELECT jsonb_build_object('at', h.at, 'by', h.actor, 'action', h.action,
                                             'alias', h.alias, 'reason', h.reason)
                   FROM registry.alias_history h
                   WHERE h.name = v.name AND h.to_version = v.version
                   ORDER BY h.history_id LIMIT 1),
    'imported_from', (SELECT i.lineage FROM registry.imports i
                      WHERE i.name = v.name AND i.version = v.version),
    'training', (SELECT jsonb_build_object('training_id', t.training_id,
                                           'started_at', t.started_at, 'ended_at', t.ended_at,
                                           'selection_metric', t.selection_metric)
                 FROM registry.trainings t WHERE t.training_id = r.training_id),
    'snapshot', (SELECT jsonb_build_object('snapshot_id', s.snapshot_id,
                                           'created_at', s.created_at,
                                           'fingerprint', s.fingerprint, 'rows', s.rows,
                                           'positives', s.positives, 'batch_ids', s.batch_ids)
                 FROM clean.snapshots s WHERE s.snapshot_id = r.snapshot_id),
    'run', to_jsonb(r) - 'experiment_id' - 'training_id' - 'selected' || jsonb_build_object(
        'params', (SELECT coalesce(jsonb_object_agg(p.key, p.value), '{}'::jsonb)
                   FROM registry.params p WHERE p.run_id = r.run_id),
        'tags', (SELECT coalesce(jsonb_object_agg(g.key, g.value), '{}'::jsonb)
                 FROM registry.tags g WHERE g.run_id = r.run_id),
        'metrics', (SELECT coalesce(jsonb_object_agg(m.split, m.kv), '{}'::jsonb)
                    FROM (SELECT split, jsonb_object_agg(key, value) AS kv
                          FROM registry.metrics WHERE run_id = r.run_id GROUP BY split) m),
        'curves', (SELECT coalesce(jsonb_agg(jsonb_build_object('split', c.split, 'kind', c.kind,
                                                                'points', c.points)
                                             ORDER BY c.split, c.kind), '[]'::jsonb)
                   FROM registry.curves c WHERE c.run_id = r.run_id)),
    'exported_at', now()
)::text
FROM registry.model_versions v
JOIN registry.runs r ON r.run_id = v.run_id
WHERE v.name = $1 AND v.version = $2
