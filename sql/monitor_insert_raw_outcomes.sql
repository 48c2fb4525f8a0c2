-- encounters served earlier that a raw batch ingested after serving carries:
-- their readmitted value is the outcome (first one wins, as for files). The
-- log has no index of encounter ids: its unnested encounter ids are hashed
-- (one pass over the arrays of every batch). Returns the number of outcomes
-- inserted.
WITH inserted AS (
    INSERT INTO monitor.outcomes (encounter_id, readmitted, label, observed_at, source)
    SELECT DISTINCT ON (x.enc)
           x.enc, e.readmitted, CASE WHEN e.readmitted = '<30' THEN 1 ELSE 0 END,
           b.finished_at, 'raw batch ' || e.batch_id
    FROM raw.encounters e
    JOIN raw.batches b ON b.batch_id = e.batch_id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN e.encounter_id ~ '^[0-9]{1,18}$' THEN e.encounter_id::bigint END AS enc
    ) x
    JOIN (
        SELECT u.enc, min(u.served) AS served
        FROM monitor.prediction_batches pb
        CROSS JOIN LATERAL unnest(pb.encounter_id, pb.served_at) AS u(enc, served)
        WHERE u.enc IS NOT NULL
        GROUP BY u.enc
    ) s ON s.enc = x.enc AND s.served < b.finished_at
    WHERE e.readmitted IN ('<30', '>30', 'NO')
    ORDER BY x.enc, e.batch_id
    ON CONFLICT (encounter_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) AS inserted FROM inserted
