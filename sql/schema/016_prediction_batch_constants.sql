-- model_version, alias and threshold of a log batch, when every prediction
-- of the batch has the same (as a pool serving one model gives them), are
-- stored as a one-element array whose element is every prediction's; any
-- other batch keeps an element per prediction, as the rows stored before
-- (a batch of one prediction is both). The view gives every prediction its
-- value as before.
--
-- A batch of the bench's records is 6% fewer bytes to COPY (the server's CPU
-- for it is within the noise of the measurement, 2.0-2.4 us per prediction
-- either way); `readmit monitor` reads two arrays of one element instead of a
-- million elements: on 1,000,000 logged predictions (scripts/bench-monitor.sh,
-- load 5-6) its CPU 1.96-2.01 s and the server's 3.04-3.62 s with an element
-- per prediction, 1.78-1.90 s and 2.87-3.00 s stored so.
CREATE OR REPLACE VIEW monitor.predictions AS
SELECT u.prediction_id, u.served_at, u.request_id, u.item, u.encounter_id, u.patient_nbr,
       b.model_name,
       CASE WHEN cardinality(b.model_version) = 1 THEN b.model_version[1] ELSE u.model_version END
           AS model_version,
       CASE WHEN cardinality(b.alias) = 1 THEN b.alias[1] ELSE u.alias END AS alias,
       monitor.log_input(b.input_keys,
                         substring(d.inputs FROM u.input_start + 1 FOR u.input_end - u.input_start))
           AS input,
       u.probability, u.decision,
       CASE WHEN cardinality(b.threshold) = 1 THEN b.threshold[1] ELSE u.threshold END AS threshold,
       u.latency_us, b.logged_at, b.batch_id
FROM monitor.prediction_batches b
CROSS JOIN LATERAL (SELECT b.inputs || ''::bytea AS inputs OFFSET 0) d
CROSS JOIN LATERAL unnest(b.prediction_id, b.served_at, b.request_id, b.item, b.encounter_id,
                          b.patient_nbr, b.model_version, b.alias, b.probability, b.decision,
                          b.threshold, b.latency_us, b.input_end, array_prepend(0, b.input_end))
    AS u(prediction_id, served_at, request_id, item, encounter_id, patient_nbr, model_version,
         alias, probability, decision, threshold, latency_us, input_end, input_start)
WHERE u.prediction_id IS NOT NULL;

-- Predictions put into batches from monitor.prediction_pending (INSERTs into
-- the view, replays) are stored alike: one element when all of a batch's
-- are the same.
CREATE OR REPLACE FUNCTION monitor.pack_pending() RETURNS bigint LANGUAGE sql AS $$
WITH moved AS (
    DELETE FROM monitor.prediction_pending RETURNING *
), keyed AS (
    SELECT m.*, monitor.request_writer(m.request_id) AS writer,
           monitor.request_seq(m.request_id) AS seq,
           convert_to(m.input::text, 'UTF8') AS bytes,
           (row_number() OVER (PARTITION BY m.model_name, monitor.request_writer(m.request_id)
                               ORDER BY m.pending_id) - 1) / 1000 AS chunk
    FROM moved m
), sized AS (
    SELECT k.*, sum(octet_length(k.bytes)) OVER (PARTITION BY k.model_name, k.writer, k.chunk
                                                ORDER BY k.pending_id)::integer AS input_end
    FROM keyed k
), stored AS (
    INSERT INTO monitor.prediction_batches
        (model_name, n, first_served, last_served, writer, seq_lo, seq_hi, prediction_id,
         served_at, request_id, item, encounter_id, patient_nbr, model_version, alias,
         probability, decision, threshold, latency_us, race, gender, age, input_end, inputs)
    SELECT model_name, count(*), min(served_at), max(served_at), writer, min(seq), max(seq),
           CASE WHEN count(prediction_id) = count(*)
                THEN array_agg(prediction_id ORDER BY pending_id) END,
           array_agg(served_at ORDER BY pending_id), array_agg(request_id ORDER BY pending_id),
           array_agg(item ORDER BY pending_id), array_agg(encounter_id ORDER BY pending_id),
           array_agg(patient_nbr ORDER BY pending_id),
           CASE WHEN count(model_version) = 0
                     OR (count(model_version) = count(*) AND min(model_version) = max(model_version))
                THEN ARRAY[min(model_version)]
                ELSE array_agg(model_version ORDER BY pending_id) END,
           CASE WHEN min(alias) = max(alias) THEN ARRAY[min(alias)]
                ELSE array_agg(alias ORDER BY pending_id) END,
           array_agg(probability ORDER BY pending_id),
           array_agg(decision ORDER BY pending_id),
           CASE WHEN min(threshold) = max(threshold) THEN ARRAY[min(threshold)]
                ELSE array_agg(threshold ORDER BY pending_id) END,
           array_agg(latency_us ORDER BY pending_id),
           array_agg(input ->> 'race' ORDER BY pending_id),
           array_agg(input ->> 'gender' ORDER BY pending_id),
           array_agg(input ->> 'age' ORDER BY pending_id),
           array_agg(input_end ORDER BY pending_id),
           string_agg(bytes, ''::bytea ORDER BY pending_id)
    FROM sized
    GROUP BY model_name, writer, chunk
    ORDER BY min(pending_id)
    RETURNING n
)
SELECT coalesce(sum(n), 0)::bigint FROM stored
$$;
