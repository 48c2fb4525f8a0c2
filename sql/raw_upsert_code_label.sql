INSERT INTO raw.code_labels (column_name, code, label, sha256, line_no)
VALUES ($1, $2, $3, $4, $5::integer)
ON CONFLICT (column_name, code) DO UPDATE
    SET label = EXCLUDED.label, sha256 = EXCLUDED.sha256, line_no = EXCLUDED.line_no,
        loaded_at = now()
