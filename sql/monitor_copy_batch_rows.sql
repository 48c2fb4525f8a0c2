-- the raw rows of batch readmit.batch_id: batch_id, line_no, then the source
-- columns in schema order (text, as ingested)
COPY (
    SELECT e.* FROM raw.encounters e
    WHERE e.batch_id = current_setting('readmit.batch_id')::bigint
) TO STDOUT
