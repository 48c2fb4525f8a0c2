INSERT INTO registry.alias_history
    (name, alias, from_version, to_version, action, reason, actor, gate)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
