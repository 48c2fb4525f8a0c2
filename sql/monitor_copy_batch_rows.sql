-- the raw rows of batch readmit.batch_id: batch_id, line_no and the record
-- of the source columns (as ingested; src/rawrec.h)
COPY (
    SELECT r.batch_id, r.line_no, r.record FROM raw.records r
    WHERE r.batch_id = current_setting('readmit.batch_id')::bigint
) TO STDOUT
