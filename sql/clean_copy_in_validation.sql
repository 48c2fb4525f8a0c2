COPY clean.validation (snapshot_id, batch_id, rule, severity, violations, checked, passed) FROM STDIN
