INSERT INTO registry.run_artifacts (run_id, kind, sha256) VALUES ($1, 'model', $2)
ON CONFLICT (run_id, kind) DO UPDATE SET sha256 = EXCLUDED.sha256
