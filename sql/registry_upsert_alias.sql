INSERT INTO registry.aliases (name, alias, version) VALUES ($1, $2, $3)
ON CONFLICT (name, alias) DO UPDATE SET version = EXCLUDED.version, updated_at = now()
