-- The latest ended training of a model name ($1) and its finished runs with a
-- model file other than the baseline (which has no details), each saying
-- whether its test split's details (explanations, performance by group) are
-- stored yet; one row with a NULL run_id when it has no such run.
SELECT t.training_id, t.snapshot_id, t.data_fingerprint, r.run_id, r.artifact_sha256,
       (EXISTS (SELECT 1 FROM registry.curves c
                WHERE c.run_id = r.run_id AND c.split = 'test' AND c.kind = 'importance')
        AND EXISTS (SELECT 1 FROM registry.curves c
                    WHERE c.run_id = r.run_id AND c.split = 'test' AND c.kind = 'subgroups'))
           AS has_details
FROM registry.trainings t
LEFT JOIN registry.runs r ON r.training_id = t.training_id AND r.status = 'finished'
                         AND r.artifact_sha256 IS NOT NULL AND r.model_type <> 'baseline'
WHERE t.training_id = (SELECT max(t2.training_id)
                       FROM registry.trainings t2 JOIN registry.experiments e USING (experiment_id)
                       WHERE e.name = $1 AND t2.ended_at IS NOT NULL)
ORDER BY r.run_id
