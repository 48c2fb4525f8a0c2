COPY clean.rejects (batch_id, line_no, encounter_id, rule, severity, detail) FROM STDIN
