SELECT count(*), coalesce(sum(rows_read), 0), coalesce(max(batch_id), 0) FROM raw.batches
