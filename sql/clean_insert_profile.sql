INSERT INTO clean.profiles (snapshot_id, profile) VALUES ($1, $2::jsonb)
