-- The raw rows of every batch to clean (ids readmit.clean_first..last, set
-- by clean_set_batches.sql) in one scan, in the order the table holds them:
-- the reader puts each batch's rows in line order itself (no sort here).
-- Binary: each record is sent as it is stored (no escaping to undo).
COPY (SELECT batch_id, line_no, record FROM raw.records WHERE batch_id BETWEEN (SELECT current_setting('readmit.clean_first')::bigint) AND (SELECT current_setting('readmit.clean_last')::bigint)) TO STDOUT (FORMAT binary)
