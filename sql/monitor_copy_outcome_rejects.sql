COPY monitor.outcome_rejects (sha256, line_no, raw, reason) FROM STDIN
