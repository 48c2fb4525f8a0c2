INSERT INTO clean.snapshots (fingerprint, config_sha256, rows, positives, batch_ids, status, message) VALUES ($1, $2, $3, $4, $5::bigint[], $6, $7) RETURNING snapshot_id
