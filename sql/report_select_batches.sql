SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.batch_id), '[]'::jsonb)::text
FROM (
    SELECT r.batch_id, r.source_path, r.source_sha256, r.batch_no, r.first_line, r.last_line,
           r.rows_read, r.rows_accepted, r.rows_rejected, r.finished_at,
           c.rows_in, c.rows_clean, c.rows_filtered, c.rows_duplicate,
           c.rows_rejected AS clean_rejected
    FROM raw.batches r
    LEFT JOIN clean.batches c USING (batch_id)
) x
