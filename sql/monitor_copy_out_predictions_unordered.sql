-- the same as monitor_copy_out_predictions in no particular order (windows by
-- time need no order: no sort of the whole log)
COPY (
    SELECT prediction_id, served_at, model_version, patient_nbr, probability, decision,
           encounter_id
    FROM monitor.predictions
    WHERE model_name = current_setting('readmit.model_name')
) TO STDOUT WITH (FORMAT binary)
