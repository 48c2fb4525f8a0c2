-- What `readmit monitor` reads of the prediction log, in an index: the numeric
-- columns of every prediction of a model come from an index-only scan (the
-- rows themselves are wide: the raw input is about 1 kB of jsonb, kept in
-- line), and the uniform sample of inputs (hash bucket below a share) is an
-- index range. Index-only scans need the visibility map, which autovacuum
-- keeps for an append-only table; until it has run the planner reads the
-- table instead.
CREATE INDEX predictions_monitor_scan ON monitor.predictions
    (model_name, (hashint8(prediction_id) & 65535))
    INCLUDE (prediction_id, served_at, model_version, patient_nbr, probability, decision,
             encounter_id);
