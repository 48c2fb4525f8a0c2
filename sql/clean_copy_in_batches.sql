COPY clean.batches (batch_id, snapshot_id, rows_in, rows_clean, rows_filtered, rows_duplicate, rows_rejected) FROM STDIN
