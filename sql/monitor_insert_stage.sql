-- replayed records: each (request_id, item) is stored once however often it is
-- replayed (those already in a batch of the same writer and seq range are left
-- out), in replay order; monitor_pack_pending then puts them into batches
WITH staged AS (
    SELECT s.*, monitor.request_writer(s.request_id) AS writer,
           monitor.request_seq(s.request_id) AS seq
    FROM predictions_stage s
), ranges AS (
    SELECT writer, min(seq) AS lo, max(seq) AS hi FROM staged GROUP BY writer
), stored AS (
    SELECT u.request_id, u.item
    FROM ranges r
    JOIN monitor.prediction_batches b ON b.writer = r.writer AND b.seq_hi >= r.lo
                                      AND b.seq_lo <= r.hi
    CROSS JOIN LATERAL unnest(b.request_id, b.item) AS u(request_id, item)
)
INSERT INTO monitor.prediction_pending (served_at, request_id, item, encounter_id, patient_nbr,
                                        model_name, model_version, alias, input, probability,
                                        decision, threshold, latency_us)
SELECT s.served_at, s.request_id, s.item, s.encounter_id, s.patient_nbr, s.model_name,
       s.model_version, s.alias, s.input, s.probability, s.decision, s.threshold, s.latency_us
FROM staged s
WHERE NOT EXISTS (SELECT 1 FROM stored x WHERE x.request_id = s.request_id AND x.item = s.item)
ORDER BY s.pending_id
