-- $1 consecutive prediction ids for the batches of one COPY: the first
SELECT monitor.reserve_prediction_ids($1::bigint) AS first
