-- Every label of a mapping file in one statement: $1 is a JSON array of
-- {"c": column, "k": code, "l": label, "n": line, "i": position}; a code the
-- file lists twice takes its last label (as one upsert per line would).
INSERT INTO raw.code_labels (column_name, code, label, sha256, line_no)
SELECT DISTINCT ON (x.c, x.k) x.c, x.k, x.l, $2, x.n
FROM jsonb_to_recordset($1::jsonb) AS x (c text, k text, l text, n integer, i integer)
ORDER BY x.c, x.k, x.i DESC
ON CONFLICT (column_name, code) DO UPDATE
    SET label = EXCLUDED.label, sha256 = EXCLUDED.sha256, line_no = EXCLUDED.line_no,
        loaded_at = now()
