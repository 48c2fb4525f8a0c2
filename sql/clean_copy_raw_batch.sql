COPY (SELECT batch_id, line_no, record FROM raw.records WHERE batch_id = current_setting('readmit.clean_batch')::bigint ORDER BY line_no) TO STDOUT (FORMAT binary)
