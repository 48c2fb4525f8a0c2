-- of the staged outcomes (inside the loading transaction): inserted by it, and
-- encounters never served
COPY (
    SELECT (SELECT count(*) FROM monitor.outcomes o
            WHERE o.source = current_setting('readmit.source')
              AND o.loaded_at = now()),
           (SELECT count(DISTINCT s.encounter_id) FROM outcomes_stage s
            WHERE NOT EXISTS (SELECT 1 FROM monitor.predictions p
                              WHERE p.encounter_id = s.encounter_id))
) TO STDOUT
