SELECT batch_no FROM raw.batches WHERE source_sha256 = $1 ORDER BY batch_no
