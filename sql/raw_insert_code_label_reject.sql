INSERT INTO raw.code_label_rejects (sha256, line_no, raw, reason)
VALUES ($1, $2::integer, $3, $4)
ON CONFLICT (sha256, line_no) DO NOTHING
