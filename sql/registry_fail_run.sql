UPDATE registry.runs
SET status = 'failed', ended_at = now(), duration_s = $2, error = $3
WHERE run_id = $1
