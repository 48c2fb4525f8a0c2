SELECT coalesce(jsonb_object_agg(s.split, s.kinds), '{}'::jsonb)::text
FROM (
    SELECT c.split, jsonb_object_agg(c.kind, c.points) AS kinds
    FROM registry.curves c WHERE c.run_id = $1 GROUP BY c.split
) s
