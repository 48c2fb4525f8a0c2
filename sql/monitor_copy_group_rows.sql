-- the logged predictions of readmit.model_name that have an outcome, with the
-- fields patient groups are formed on (performance by patient group; the log
-- batches keep those fields of each input beside it); binary: no float
-- formatting and parsing of every probability
COPY (
    SELECT u.id, coalesce(u.version, -1), coalesce(u.patient_nbr, -1 - u.id), u.probability,
           u.threshold, o.label, u.race, u.gender, u.age
    FROM monitor.prediction_batches b
    CROSS JOIN LATERAL unnest(b.prediction_id, b.model_version, b.patient_nbr, b.probability,
                              b.threshold, b.encounter_id, b.race, b.gender, b.age)
        AS u(id, version, patient_nbr, probability, threshold, encounter_id, race, gender, age)
    JOIN monitor.outcomes o ON o.encounter_id = u.encounter_id
    WHERE b.model_name = current_setting('readmit.model_name')
) TO STDOUT WITH (FORMAT binary)
