SELECT coalesce((
    SELECT jsonb_build_object('snapshot_id', p.snapshot_id, 'created_at', p.created_at,
                              'profile', p.profile)
    FROM clean.profiles p
    JOIN clean.snapshots s USING (snapshot_id)
    WHERE s.status = 'ok'
    ORDER BY p.snapshot_id DESC
    LIMIT 1), 'null'::jsonb)::text
