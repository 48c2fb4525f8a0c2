COPY (
    SELECT d.batch_id, d.snapshot_id, d.rows, d.max_psi, d.drift
    FROM monitor.batch_drift d ORDER BY d.batch_id
) TO STDOUT
