INSERT INTO registry.artifacts (sha256, bytes, size) VALUES ($1, $2, $3)
ON CONFLICT (sha256) DO NOTHING
