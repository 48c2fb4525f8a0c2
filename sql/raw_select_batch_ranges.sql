SELECT batch_no, first_record, rows_read FROM raw.batches WHERE source_sha256 = $1 ORDER BY first_record, batch_no
