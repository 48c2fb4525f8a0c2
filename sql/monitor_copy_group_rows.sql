-- the logged predictions of readmit.model_name that have an outcome, with the
-- fields patient groups are formed on (performance by patient group); binary:
-- no float formatting and parsing of every probability
COPY (
    SELECT p.prediction_id, coalesce(p.model_version, -1),
           coalesce(p.patient_nbr, -1 - p.prediction_id), p.probability, p.threshold, o.label,
           p.input ->> 'race', p.input ->> 'gender', p.input ->> 'age'
    FROM monitor.predictions p
    JOIN monitor.outcomes o ON o.encounter_id = p.encounter_id
    WHERE p.model_name = current_setting('readmit.model_name')
) TO STDOUT WITH (FORMAT binary)
