-- every log batch of readmit.model_name with only the arrays the monitor
-- needs (one element per prediction; the monitor puts them in serving order
-- itself when it needs that order), the fields patient groups are formed on
-- among them (performance by patient group, on the rows with an outcome):
-- race, gender and age arrays, or (migration 017) group_values and
-- group_codes with those NULL
COPY (
    SELECT prediction_id, served_at, model_version, patient_nbr, probability, decision,
           encounter_id, threshold, race, gender, age, group_values, group_codes
    FROM monitor.prediction_batches
    WHERE model_name = current_setting('readmit.model_name')
    ORDER BY batch_id
) TO STDOUT WITH (FORMAT binary)
