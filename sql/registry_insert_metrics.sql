INSERT INTO registry.metrics (run_id, split, key, value)
SELECT $1, $2, k, v FROM unnest($3::text[], $4::float8[]) AS m (k, v)
ON CONFLICT (run_id, split, key) DO UPDATE SET value = EXCLUDED.value
