SELECT count(*) AS batches, coalesce(sum(rows_read), 0) AS rows, coalesce(max(batch_id), 0) AS last_batch FROM raw.batches
