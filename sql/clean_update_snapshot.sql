UPDATE clean.snapshots SET fingerprint = $2, rows = $3, positives = $4, batch_ids = $5::bigint[] WHERE snapshot_id = $1
