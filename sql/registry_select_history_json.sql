SELECT coalesce(jsonb_agg(to_jsonb(h) ORDER BY h.history_id), '[]'::jsonb)::text
FROM (
    SELECT history_id, at, alias, from_version, to_version, action, reason, actor, gate
    FROM registry.alias_history WHERE name = $1
) h
