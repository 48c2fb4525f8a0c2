INSERT INTO monitor.outcome_loads (path, sha256, rows_read, inserted, duplicates, rejected, unmatched)
VALUES ($1, $2, $3, $4, $5, $6, $7)
