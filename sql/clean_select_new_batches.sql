SELECT r.batch_id, r.rows_accepted FROM raw.batches r WHERE NOT EXISTS (SELECT 1 FROM clean.batches c WHERE c.batch_id = r.batch_id) ORDER BY r.batch_id
