UPDATE registry.runs
SET status = 'failed', ended_at = now(),
    duration_s = extract(epoch FROM now() - started_at),
    error = 'interrupted: training ' || training_id || ' ended before this run finished '
            || '(the process was killed or crashed); marked failed by training ' || $1
WHERE status = 'running' AND training_id <> $1::bigint
RETURNING run_id
