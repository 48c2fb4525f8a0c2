-- encounters served earlier that a raw batch ingested after serving carries:
-- their readmitted value is the outcome (first one wins, as for files). The
-- served predictions of each raw encounter are looked up through
-- predictions_encounter_idx (OFFSET 0 keeps the lateral lookup: otherwise the
-- planner may prefer hashing the whole log from the monitor's covering index,
-- several times slower). Returns the number of outcomes inserted.
WITH inserted AS (
    INSERT INTO monitor.outcomes (encounter_id, readmitted, label, observed_at, source)
    SELECT DISTINCT ON (p.encounter_id)
           p.encounter_id, e.readmitted, CASE WHEN e.readmitted = '<30' THEN 1 ELSE 0 END,
           b.finished_at, 'raw batch ' || e.batch_id
    FROM raw.encounters e
    JOIN raw.batches b ON b.batch_id = e.batch_id
    CROSS JOIN LATERAL (
        SELECT p.encounter_id FROM monitor.predictions p
        WHERE p.encounter_id = CASE WHEN e.encounter_id ~ '^[0-9]{1,18}$' THEN e.encounter_id::bigint END
          AND b.finished_at > p.served_at
        OFFSET 0
    ) p
    WHERE e.readmitted IN ('<30', '>30', 'NO')
    ORDER BY p.encounter_id, e.batch_id
    ON CONFLICT (encounter_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) AS inserted FROM inserted
