SELECT snapshot_id, fingerprint, array_to_string(batch_ids, ',') AS batch_ids, rows
FROM clean.snapshots WHERE status = 'ok' ORDER BY snapshot_id DESC LIMIT 1
