SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.snapshot_id DESC, x.batch_id NULLS FIRST, x.rule),
                '[]'::jsonb)::text
FROM (
    SELECT v.snapshot_id, v.batch_id, v.rule, v.severity, v.violations, v.checked, v.passed
    FROM clean.validation v
    ORDER BY v.snapshot_id DESC, v.batch_id NULLS FIRST, v.rule
    LIMIT 2000
) x
