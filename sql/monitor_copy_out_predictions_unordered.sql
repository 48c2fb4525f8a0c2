-- the same as monitor_copy_out_predictions in no particular order (windows by
-- time need no order: no sort of the whole log)
-- the raw input only for a deterministic uniform sample of readmit.input_share
-- (printing jsonb costs far more than the rest of the row)
COPY (
    SELECT p.prediction_id, date_part('epoch', p.served_at), coalesce(p.model_version, -1),
           p.patient_nbr, p.probability, p.decision, o.label, date_part('epoch', o.observed_at),
           CASE WHEN (hashint8(p.prediction_id) & 65535)
                     < current_setting('readmit.input_share')::float8 * 65536
                THEN p.input END
    FROM monitor.predictions p
    LEFT JOIN monitor.outcomes o ON o.encounter_id = p.encounter_id
    WHERE p.model_name = current_setting('readmit.model_name')
) TO STDOUT
