-- every logged prediction of readmit.model_name in serving order (workers send
-- their batches independently, so arrival order interleaves them): only the
-- columns the monitor needs, all of them in the predictions_monitor_scan index
-- (an index-only scan instead of reading the wide rows with their inputs)
COPY (
    SELECT prediction_id, served_at, model_version, patient_nbr, probability, decision,
           encounter_id
    FROM monitor.predictions
    WHERE model_name = current_setting('readmit.model_name')
    ORDER BY served_at, prediction_id
) TO STDOUT WITH (FORMAT binary)
