INSERT INTO registry.tags (run_id, key, value) VALUES ($1, $2, $3)
ON CONFLICT (run_id, key) DO UPDATE SET value = EXCLUDED.value
