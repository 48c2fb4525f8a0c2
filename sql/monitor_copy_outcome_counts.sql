-- of the staged outcomes (inside the loading transaction): inserted by it, and
-- encounters never served (against the unnested encounter ids of the log)
COPY (
    SELECT (SELECT count(*) FROM monitor.outcomes o
            WHERE o.source = current_setting('readmit.source')
              AND o.loaded_at = now()),
           (SELECT count(DISTINCT s.encounter_id) FROM outcomes_stage s
            WHERE NOT EXISTS (SELECT 1 FROM monitor.prediction_batches pb
                              CROSS JOIN LATERAL unnest(pb.encounter_id) AS u(enc)
                              WHERE u.enc = s.encounter_id))
) TO STDOUT
