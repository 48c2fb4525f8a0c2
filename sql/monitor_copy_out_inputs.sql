-- the raw inputs of a deterministic uniform sample of readmit.input_share of the
-- logged predictions of readmit.model_name: those whose hash bucket is below
-- share * 65536 (for an integer bucket, b < x is b < ceil(x)), each cut from
-- its batch's inputs, decompressed once per batch (d)
COPY (
    SELECT u.id, convert_from(substring(d.inputs FROM u.start + 1 FOR u.stop - u.start), 'UTF8')
    FROM monitor.prediction_batches b
    CROSS JOIN LATERAL (SELECT b.inputs || ''::bytea AS inputs OFFSET 0) d
    CROSS JOIN LATERAL unnest(b.prediction_id, b.input_end, array_prepend(0, b.input_end))
        AS u(id, stop, start)
    WHERE b.model_name = current_setting('readmit.model_name')
      AND u.id IS NOT NULL
      AND (hashint8(u.id) & 65535)
          < ceil(current_setting('readmit.input_share')::float8 * 65536)::bigint
) TO STDOUT
