SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.version DESC), '[]'::jsonb)::text
FROM (
    SELECT v.version, v.run_id, v.sha256, v.created_at,
           (SELECT coalesce(jsonb_agg(a.alias ORDER BY a.alias), '[]'::jsonb)
              FROM registry.aliases a WHERE a.name = v.name AND a.version = v.version) AS aliases,
           v.input_schema, v.example_input
    FROM registry.model_versions v WHERE v.name = $1
) x
