INSERT INTO registry.curves (run_id, split, kind, points) VALUES ($1, $2, $3, $4::jsonb)
ON CONFLICT (run_id, split, kind) DO UPDATE SET points = EXCLUDED.points
