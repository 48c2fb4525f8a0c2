COPY predictions_stage (served_at, request_id, item, encounter_id, patient_nbr, model_name,
                        model_version, alias, input, probability, decision, threshold, latency_us)
FROM STDIN
