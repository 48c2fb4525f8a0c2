-- the raw inputs of a deterministic uniform sample of readmit.input_share of the
-- logged predictions of readmit.model_name: those whose hash bucket is below
-- share * 65536 (for an integer bucket, b < x is b < ceil(x)), each cut from
-- its batch's inputs, decompressed once per batch (d); one stored without its
-- keys (migration 015) as the JSON text of monitor.log_input
COPY (
    SELECT u.id,
           CASE WHEN substring(u.input FOR 1) = '\x1f'::bytea
                THEN monitor.log_input(u.keys, u.input)::text
                ELSE convert_from(u.input, 'UTF8') END
    FROM monitor.prediction_batches b
    CROSS JOIN LATERAL (SELECT b.inputs || ''::bytea AS inputs OFFSET 0) d
    CROSS JOIN LATERAL (
        SELECT v.id, b.input_keys AS keys,
               substring(d.inputs FROM v.start + 1 FOR v.stop - v.start) AS input
        FROM unnest(b.prediction_id, b.input_end, array_prepend(0, b.input_end))
            AS v(id, stop, start)
    ) u
    WHERE b.model_name = current_setting('readmit.model_name')
      AND u.id IS NOT NULL
      AND (hashint8(u.id) & 65535)
          < ceil(current_setting('readmit.input_share')::float8 * 65536)::bigint
) TO STDOUT
