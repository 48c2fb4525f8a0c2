-- the raw inputs of a deterministic uniform sample of readmit.input_share of the
-- logged predictions of readmit.model_name (printing jsonb costs far more than
-- the rest of the row): those whose hash bucket is below share * 65536, found
-- through the predictions_monitor_scan index (for an integer bucket, b < x is
-- b < ceil(x))
COPY (
    SELECT prediction_id, input
    FROM monitor.predictions
    WHERE model_name = current_setting('readmit.model_name')
      AND (hashint8(prediction_id) & 65535)
          < ceil(current_setting('readmit.input_share')::float8 * 65536)::bigint
) TO STDOUT
