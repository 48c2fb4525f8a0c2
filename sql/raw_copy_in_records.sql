COPY raw.records (batch_id, line_no, record) FROM STDIN
