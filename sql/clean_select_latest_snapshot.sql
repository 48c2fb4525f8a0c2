SELECT snapshot_id, fingerprint, config_sha256, rows, positives FROM clean.snapshots WHERE status = 'ok' ORDER BY snapshot_id DESC LIMIT 1
