-- The prediction log stores an input record without its keys when it can:
-- a flat JSON object of string and null values (no escape, no control
-- character) whose keys are those of the batch's first such input, in
-- their order, is stored as its values alone, byte 0x1f before each and a
-- null as the one byte 0x1e (no JSON string holds either byte unescaped);
-- the batch's keys are stored once, in input_keys (NULL when no input of
-- the batch is stored so). Any other input is stored as it was sent, as
-- before; a stored input starts with 0x1f only when it has no keys (a JSON
-- text never does), so the rows stored before stay as they are. The view
-- gives the same jsonb as the input sent.
--
-- The inputs were most of what the database did per logged prediction: a
-- COPY of 300 logged batches (237,056 predictions of the 50-field record,
-- about 1,000 bytes each) cost the server 4.1-4.2 us per prediction, 1.3-1.4
-- us with the inputs left out, 2.0-2.4 us with a quarter of their bytes.
-- Stored without their keys, the bench's records (the 50-field input, about
-- 1,011 bytes as sent) take 173 bytes each (47 after lz4, against 96); with
-- the pool logging them, PostgreSQL's CPU per logged request went from
-- 6.4-7.9 us to 3.4-5.5 us (make bench-log, 6 s rows, the previous pool
-- alternated with this one in one run, load 2-3.6).
--
-- Insert-triggered autovacuum of the batch table and its TOAST table was
-- measured too and left as it is: each run took 0.01-0.03 s of CPU for
-- 3,000-6,500 pages (log_autovacuum_min_duration = 0 during bench-log),
-- under 0.1 us per logged prediction.
ALTER TABLE monitor.prediction_batches
    ADD COLUMN input_keys text[] COMPRESSION lz4,
    ALTER COLUMN input_keys SET STATISTICS 0;
COMMENT ON COLUMN monitor.prediction_batches.input_keys IS 'The keys of the batch''s inputs stored without them (those starting with byte 0x1f: each value after a 0x1f, a null as 0x1e); NULL when there are none. Read them through monitor.log_input or the view monitor.predictions.';

-- One stored input as jsonb: the keys of its batch (input_keys) with the
-- values, or the JSON text it was stored as. An SQL function of one
-- expression: the planner puts it into each query instead of calling it.
CREATE FUNCTION monitor.log_input(keys text[], input bytea) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN substring(input FOR 1) = '\x1f'::bytea
                THEN jsonb_object(keys, string_to_array(convert_from(substring(input FROM 2), 'UTF8'),
                                                        E'\x1f', E'\x1e'))
                ELSE convert_from(input, 'UTF8')::jsonb END;

CREATE OR REPLACE VIEW monitor.predictions AS
SELECT u.prediction_id, u.served_at, u.request_id, u.item, u.encounter_id, u.patient_nbr,
       b.model_name, u.model_version, u.alias,
       monitor.log_input(b.input_keys,
                         substring(d.inputs FROM u.input_start + 1 FOR u.input_end - u.input_start))
           AS input,
       u.probability, u.decision, u.threshold, u.latency_us, b.logged_at, b.batch_id
FROM monitor.prediction_batches b
CROSS JOIN LATERAL (SELECT b.inputs || ''::bytea AS inputs OFFSET 0) d
CROSS JOIN LATERAL unnest(b.prediction_id, b.served_at, b.request_id, b.item, b.encounter_id,
                          b.patient_nbr, b.model_version, b.alias, b.probability, b.decision,
                          b.threshold, b.latency_us, b.input_end, array_prepend(0, b.input_end))
    AS u(prediction_id, served_at, request_id, item, encounter_id, patient_nbr, model_version,
         alias, probability, decision, threshold, latency_us, input_end, input_start)
WHERE u.prediction_id IS NOT NULL;
