-- replayed records: each (request_id, item) is stored once however often it is replayed
INSERT INTO monitor.predictions (served_at, request_id, item, encounter_id, patient_nbr, model_name,
                                 model_version, alias, input, probability, decision, threshold,
                                 latency_us)
SELECT served_at, request_id, item, encounter_id, patient_nbr, model_name, model_version, alias,
       input, probability, decision, threshold, latency_us
FROM predictions_stage
ORDER BY prediction_id
ON CONFLICT (request_id, item) DO NOTHING
