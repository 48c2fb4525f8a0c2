-- an earlier load of the same file (readmit.sha256)
COPY (
    SELECT l.at, l.rows_read, l.inserted, l.duplicates, l.rejected, l.unmatched
    FROM monitor.outcome_loads l WHERE l.sha256 = current_setting('readmit.sha256')
    ORDER BY l.load_id LIMIT 1
) TO STDOUT
