INSERT INTO monitor.triggers (key, reason) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING
