-- The race, gender and age of a log batch's predictions (the input fields
-- patient groups are formed on) as codes into a dictionary of the batch:
-- group_values, the batch's distinct values (at most 255), and group_codes,
-- three bytes per prediction (race, gender, age), each 0 for a missing value
-- or k for group_values[k]. The three text arrays they replace cost the
-- server a text element each to receive and check, three per prediction:
-- about a fifth of its CPU for the COPY of a batch. The rows stored before
-- keep their race, gender and age arrays (group_codes NULL); a row stored so
-- has those NULL. monitor.log_group gives either form as the text[] of one
-- of the three.
ALTER TABLE monitor.prediction_batches
    ALTER COLUMN race DROP NOT NULL,
    ALTER COLUMN gender DROP NOT NULL,
    ALTER COLUMN age DROP NOT NULL,
    ADD COLUMN group_values text[] COMPRESSION lz4,
    ADD COLUMN group_codes bytea COMPRESSION lz4,
    ALTER COLUMN group_values SET STATISTICS 0,
    ALTER COLUMN group_codes SET STATISTICS 0,
    ADD CONSTRAINT prediction_batches_groups CHECK (
        CASE WHEN group_codes IS NULL
             THEN group_values IS NULL AND race IS NOT NULL AND gender IS NOT NULL AND age IS NOT NULL
             ELSE group_values IS NOT NULL AND octet_length(group_codes) = 3 * n
                  AND cardinality(group_values) <= 255
                  AND race IS NULL AND gender IS NULL AND age IS NULL END);
COMMENT ON COLUMN monitor.prediction_batches.group_values IS 'The distinct race, gender and age values of the batch''s predictions (NULL in rows stored with race, gender and age arrays).';
COMMENT ON COLUMN monitor.prediction_batches.group_codes IS 'Three bytes per prediction (race, gender, age): 0 for a missing value, k for group_values[k]. Read them through monitor.log_group.';

-- The race (attr 1), gender (2) or age (3) of every prediction of a batch,
-- in prediction order, from either form (old: the array itself).
CREATE FUNCTION monitor.log_group(old text[], group_values text[], group_codes bytea, attr integer)
    RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN group_codes IS NULL THEN old
                ELSE ARRAY(SELECT group_values[nullif(get_byte(group_codes, 3 * i + attr - 1), 0)]
                           FROM generate_series(0, octet_length(group_codes) / 3 - 1) i
                           ORDER BY i) END;

-- Predictions put into batches from monitor.prediction_pending (INSERTs into
-- the view, replays) are coded alike; a batch of more than 255 distinct
-- values keeps the three arrays.
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
), grouped AS (
    SELECT model_name, count(*) AS n, min(served_at) AS first_served,
           max(served_at) AS last_served, writer, min(seq) AS seq_lo, max(seq) AS seq_hi,
           CASE WHEN count(prediction_id) = count(*)
                THEN array_agg(prediction_id ORDER BY pending_id) END AS prediction_id,
           array_agg(served_at ORDER BY pending_id) AS served_at,
           array_agg(request_id ORDER BY pending_id) AS request_id,
           array_agg(item ORDER BY pending_id) AS item,
           array_agg(encounter_id ORDER BY pending_id) AS encounter_id,
           array_agg(patient_nbr ORDER BY pending_id) AS patient_nbr,
           CASE WHEN count(model_version) = 0
                     OR (count(model_version) = count(*) AND min(model_version) = max(model_version))
                THEN ARRAY[min(model_version)]
                ELSE array_agg(model_version ORDER BY pending_id) END AS model_version,
           CASE WHEN min(alias) = max(alias) THEN ARRAY[min(alias)]
                ELSE array_agg(alias ORDER BY pending_id) END AS alias,
           array_agg(probability ORDER BY pending_id) AS probability,
           array_agg(decision ORDER BY pending_id) AS decision,
           CASE WHEN min(threshold) = max(threshold) THEN ARRAY[min(threshold)]
                ELSE array_agg(threshold ORDER BY pending_id) END AS threshold,
           array_agg(latency_us ORDER BY pending_id) AS latency_us,
           array_agg(input ->> 'race' ORDER BY pending_id) AS race,
           array_agg(input ->> 'gender' ORDER BY pending_id) AS gender,
           array_agg(input ->> 'age' ORDER BY pending_id) AS age,
           array_agg(input_end ORDER BY pending_id) AS input_end,
           string_agg(bytes, ''::bytea ORDER BY pending_id) AS inputs,
           min(pending_id) AS first_pending
    FROM sized
    GROUP BY model_name, writer, chunk
), coded AS (
    SELECT g.*, d.vals,
           CASE WHEN cardinality(d.vals) <= 255 THEN (
               SELECT string_agg(set_byte(set_byte(set_byte('\x000000'::bytea,
                                     0, coalesce(array_position(d.vals, u.r), 0)),
                                     1, coalesce(array_position(d.vals, u.s), 0)),
                                     2, coalesce(array_position(d.vals, u.a), 0)),
                                 ''::bytea ORDER BY u.k)
               FROM unnest(g.race, g.gender, g.age) WITH ORDINALITY u(r, s, a, k)) END AS codes
    FROM grouped g
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(v ORDER BY v), '{}') AS vals
        FROM (SELECT DISTINCT v FROM unnest(g.race || g.gender || g.age) v WHERE v IS NOT NULL) x
    ) d
), stored AS (
    INSERT INTO monitor.prediction_batches
        (model_name, n, first_served, last_served, writer, seq_lo, seq_hi, prediction_id,
         served_at, request_id, item, encounter_id, patient_nbr, model_version, alias,
         probability, decision, threshold, latency_us, race, gender, age, input_end, inputs,
         group_values, group_codes)
    SELECT model_name, n, first_served, last_served, writer, seq_lo, seq_hi, prediction_id,
           served_at, request_id, item, encounter_id, patient_nbr, model_version, alias,
           probability, decision, threshold, latency_us,
           CASE WHEN codes IS NULL THEN race END, CASE WHEN codes IS NULL THEN gender END,
           CASE WHEN codes IS NULL THEN age END, input_end, inputs,
           CASE WHEN codes IS NOT NULL THEN vals END, codes
    FROM coded
    ORDER BY first_pending
    RETURNING n
)
SELECT coalesce(sum(n), 0)::bigint FROM stored
$$;
