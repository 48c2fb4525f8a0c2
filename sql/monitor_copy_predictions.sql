-- the log writer's batches (binary COPY); prediction_id last, added by the
-- sender to each row queued without it (predbatch.h); race, gender and age
-- NULL in the rows coded into group_values and group_codes (migration 017)
COPY monitor.prediction_batches (model_name, n, first_served, last_served, writer, seq_lo, seq_hi,
                                 served_at, request_id, item, encounter_id, patient_nbr,
                                 model_version, alias, probability, decision, threshold,
                                 latency_us, race, gender, age, input_end, inputs, input_keys,
                                 group_values, group_codes, prediction_id)
FROM STDIN WITH (FORMAT binary)
