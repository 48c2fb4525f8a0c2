-- raw batches whose drift has not been computed yet
COPY (
    SELECT b.batch_id FROM raw.batches b
    WHERE NOT EXISTS (SELECT 1 FROM monitor.batch_drift d WHERE d.batch_id = b.batch_id)
    ORDER BY b.batch_id
) TO STDOUT
