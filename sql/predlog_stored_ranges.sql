-- the batches writer $1 stored whose seq range ends in [$2, $3]: a queued row
-- with the same writer and range is stored already (the index on
-- (writer, seq_hi) finds them)
SELECT seq_lo, seq_hi
FROM monitor.prediction_batches
WHERE writer = $1::text AND seq_hi BETWEEN $2::bigint AND $3::bigint
