SELECT coalesce(jsonb_object_agg(x.split, x.m), '{}'::jsonb)::text
FROM (
    SELECT split, jsonb_object_agg(key, value ORDER BY key) AS m
    FROM registry.metrics WHERE run_id = $1::bigint AND split IN ('valid', 'test')
    GROUP BY split
) x
