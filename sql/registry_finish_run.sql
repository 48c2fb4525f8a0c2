UPDATE registry.runs
SET status = 'finished', ended_at = now(), duration_s = $2, fit_s = $3, threshold = $4,
    artifact_sha256 = $5
WHERE run_id = $1
