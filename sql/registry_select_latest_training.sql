SELECT t.training_id, t.selected_run_id, r.artifact_sha256
FROM registry.trainings t
JOIN registry.experiments e USING (experiment_id)
LEFT JOIN registry.runs r ON r.run_id = t.selected_run_id
WHERE e.name = $1 AND t.ended_at IS NOT NULL
ORDER BY t.training_id DESC LIMIT 1
