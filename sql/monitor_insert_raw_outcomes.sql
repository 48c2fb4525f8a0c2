-- encounters served earlier that a raw batch ingested after serving carries:
-- their readmitted value is the outcome (first one wins, as for files).
-- The log has no index of encounter ids: its unnested encounter ids are
-- probed against a hash of the raw ones (one pass over the arrays of every
-- batch, none when no raw batch holds an outcome), and only the ones found
-- are grouped (grouping every logged id first spilled to disk).
-- Returns the number of outcomes inserted.
WITH wanted AS MATERIALIZED (
    SELECT x.enc, e.readmitted, e.batch_id, b.finished_at
    FROM raw.encounters e
    JOIN raw.batches b ON b.batch_id = e.batch_id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN e.encounter_id ~ '^[0-9]{1,18}$' THEN e.encounter_id::bigint END AS enc
    ) x
    WHERE e.readmitted IN ('<30', '>30', 'NO')
      AND x.enc IS NOT NULL
), served AS (
    SELECT u.enc, min(u.served) AS served
    FROM monitor.prediction_batches pb
    CROSS JOIN LATERAL unnest(pb.encounter_id, pb.served_at) AS u(enc, served)
    WHERE u.enc IN (SELECT w.enc FROM wanted w)
    GROUP BY u.enc
), inserted AS (
    INSERT INTO monitor.outcomes (encounter_id, readmitted, label, observed_at, source)
    SELECT DISTINCT ON (w.enc)
           w.enc, w.readmitted, CASE WHEN w.readmitted = '<30' THEN 1 ELSE 0 END,
           w.finished_at, 'raw batch ' || w.batch_id
    FROM wanted w
    JOIN served s ON s.enc = w.enc AND s.served < w.finished_at
    ORDER BY w.enc, w.batch_id
    ON CONFLICT (encounter_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) AS inserted FROM inserted
