SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.version DESC), '[]'::jsonb)::text
FROM (
    SELECT v.version, v.run_id, v.sha256, v.created_at,
           (SELECT coalesce(jsonb_agg(a.alias ORDER BY a.alias), '[]'::jsonb)
              FROM registry.aliases a WHERE a.name = v.name AND a.version = v.version) AS aliases,
           v.input_schema, v.example_input,
           (SELECT jsonb_build_object('installation', i.source_installation, 'name', i.source_name,
                                      'version', i.source_version, 'at', i.imported_at,
                                      'by', i.imported_by)
              FROM registry.imports i WHERE i.name = v.name AND i.version = v.version) AS imported_from
    FROM registry.model_versions v WHERE v.name = $1
) x
