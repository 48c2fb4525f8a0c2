COPY raw.rejects (batch_id, line_no, reason, raw_text) FROM STDIN
