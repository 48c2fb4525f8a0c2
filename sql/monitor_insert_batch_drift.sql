INSERT INTO monitor.batch_drift (batch_id, snapshot_id, rows, max_psi, drift)
VALUES ($1, $2, $3, $4, $5::jsonb)
ON CONFLICT (batch_id) DO NOTHING
