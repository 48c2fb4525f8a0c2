SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.snapshot_id DESC), '[]'::jsonb)::text
FROM (
    SELECT s.snapshot_id, s.created_at, s.status, s.rows, s.positives,
           array_to_string(s.batch_ids, ',') AS batch_ids, s.fingerprint, s.message
    FROM clean.snapshots s
    ORDER BY s.snapshot_id DESC
    LIMIT 50
) x
