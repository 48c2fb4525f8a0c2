-- The prediction log as one row per writer batch (one COPY of the serving
-- pool's log writer) instead of one row per prediction: storing a row with
-- its indexes cost the database several times what serving the prediction
-- did. The per-prediction values are arrays in prediction order; the raw
-- input records are one bytea with the end offset of each (lz4 makes the
-- inputs of a batch about a tenth of their size, and costs the writer less
-- than storing them uncompressed out of line). monitor.predictions
-- stays, as a view with one row per prediction, and takes INSERTs as before.

-- prediction ids: one range per batch, taken under a lock (the old column's
-- sequence, so that ids go on from where they were)
ALTER SEQUENCE monitor.predictions_prediction_id_seq OWNED BY NONE;
ALTER SEQUENCE monitor.predictions_prediction_id_seq RENAME TO prediction_ids;

CREATE TABLE monitor.prediction_batches (
    batch_id      bigserial     PRIMARY KEY,
    model_name    text          NOT NULL,
    n             integer       NOT NULL CHECK (n > 0),  -- predictions in the batch
    first_served  timestamptz   NOT NULL,
    last_served   timestamptz   NOT NULL,
    -- request ids are "<writer>-<seq>" (see monitor.request_writer); replay
    -- finds what is stored already through the writer and the seq range
    writer        text          NOT NULL,
    seq_lo        bigint        NOT NULL,
    seq_hi        bigint        NOT NULL,
    -- one element per prediction, in arrival order (prediction_id is given
    -- by monitor.prediction_batch_ids when not sent)
    prediction_id bigint[]      COMPRESSION lz4 NOT NULL,
    served_at     timestamptz[] COMPRESSION lz4 NOT NULL,
    request_id    text[]        COMPRESSION lz4 NOT NULL,
    item          integer[]     COMPRESSION lz4 NOT NULL,
    encounter_id  bigint[]      COMPRESSION lz4 NOT NULL,  -- elements NULL when not sent
    patient_nbr   bigint[]      COMPRESSION lz4 NOT NULL,
    model_version integer[]     COMPRESSION lz4 NOT NULL,  -- NULL when serving a model file
    alias         text[]        COMPRESSION lz4 NOT NULL,
    probability   float8[]      COMPRESSION lz4 NOT NULL,
    decision      smallint[]    COMPRESSION lz4 NOT NULL,
    threshold     float8[]      COMPRESSION lz4 NOT NULL,
    latency_us    integer[]     COMPRESSION lz4 NOT NULL,
    -- the input fields patient groups are formed on (performance by group)
    race          text[]        COMPRESSION lz4 NOT NULL,
    gender        text[]        COMPRESSION lz4 NOT NULL,
    age           text[]        COMPRESSION lz4 NOT NULL,
    input_end     integer[]     COMPRESSION lz4 NOT NULL,  -- byte offset in inputs after each input
    inputs        bytea         COMPRESSION lz4 NOT NULL,  -- the raw input records (UTF-8 JSON), concatenated
    logged_at     timestamptz   NOT NULL DEFAULT now(),
    CHECK (cardinality(prediction_id) = n AND cardinality(input_end) = n)
);
-- no index of encounter ids: one costs the writer more than the rest of the
-- row (a GIN index about 7 us per key); outcomes are matched to the log by
-- hashing its unnested encounter ids, a pass over the log like the monitor's
CREATE INDEX prediction_batches_writer ON monitor.prediction_batches (writer, seq_hi);
COMMENT ON TABLE monitor.prediction_batches IS 'The prediction log, one row per batch of the log writer: per-prediction values as arrays in arrival order, the raw inputs concatenated in one bytea. Read one row per prediction through the view monitor.predictions.';

CREATE FUNCTION monitor.prediction_batch_ids() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    first bigint;
BEGIN
    IF NEW.prediction_id IS NULL THEN
        -- a range of n ids: nextval and setval by one batch at a time
        PERFORM pg_advisory_xact_lock('monitor.prediction_batches'::regclass::oid::integer, 0);
        first := nextval('monitor.prediction_ids');
        IF NEW.n > 1 THEN
            PERFORM setval('monitor.prediction_ids', first + NEW.n - 1);
        END IF;
        NEW.prediction_id := ARRAY(SELECT generate_series(first, first + NEW.n - 1));
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER prediction_batch_ids BEFORE INSERT ON monitor.prediction_batches
    FOR EACH ROW EXECUTE FUNCTION monitor.prediction_batch_ids();

-- writer and seq of a request id "<writer>-<seq>" (the log writer's are
-- "<boot>-<pid>-<seq>"); any other text is a writer of its own with seq 0
CREATE FUNCTION monitor.request_writer(request_id text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN coalesce(substring(request_id FROM '^(.*)-[0-9]{1,18}$'), request_id);
CREATE FUNCTION monitor.request_seq(request_id text) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN coalesce(substring(request_id FROM '-([0-9]{1,18})$')::bigint, 0);

-- Predictions on their way into batches: rows inserted into the view (and
-- replayed spill records) wait here until the end of their statement.
CREATE TABLE monitor.prediction_pending (
    pending_id    bigserial        PRIMARY KEY,
    prediction_id bigint,                     -- kept when given (the migration below)
    served_at     timestamptz      NOT NULL,
    request_id    text             NOT NULL,
    item          integer          NOT NULL DEFAULT 0 CHECK (item >= 0),
    encounter_id  bigint,
    patient_nbr   bigint,
    model_name    text             NOT NULL,
    model_version integer,
    alias         text             NOT NULL DEFAULT '',
    input         jsonb            NOT NULL,
    probability   double precision NOT NULL CHECK (probability >= 0 AND probability <= 1),
    decision      smallint         NOT NULL CHECK (decision IN (0, 1)),
    threshold     double precision NOT NULL,
    latency_us    integer
);

-- Move every pending prediction into batches (at most 1000 per batch, by
-- model and writer, in pending order); returns how many.
CREATE FUNCTION monitor.pack_pending() RETURNS bigint LANGUAGE sql AS $$
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
           array_agg(patient_nbr ORDER BY pending_id), array_agg(model_version ORDER BY pending_id),
           array_agg(alias ORDER BY pending_id), array_agg(probability ORDER BY pending_id),
           array_agg(decision ORDER BY pending_id), array_agg(threshold ORDER BY pending_id),
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

-- the existing log, with its ids
INSERT INTO monitor.prediction_pending
    (prediction_id, served_at, request_id, item, encounter_id, patient_nbr, model_name,
     model_version, alias, input, probability, decision, threshold, latency_us)
SELECT prediction_id, served_at, request_id, item, encounter_id, patient_nbr, model_name,
       model_version, alias, input, probability, decision, threshold, latency_us
FROM monitor.predictions
ORDER BY prediction_id;
SELECT monitor.pack_pending();
DROP TABLE monitor.predictions;

-- One row per prediction, as the table was (plus the batch it is in). The
-- inputs of a batch are decompressed once for all its rows (d).
CREATE VIEW monitor.predictions AS
SELECT u.prediction_id, u.served_at, u.request_id, u.item, u.encounter_id, u.patient_nbr,
       b.model_name, u.model_version, u.alias,
       convert_from(substring(d.inputs FROM u.input_start + 1 FOR u.input_end - u.input_start),
                    'UTF8')::jsonb AS input,
       u.probability, u.decision, u.threshold, u.latency_us, b.logged_at, b.batch_id
FROM monitor.prediction_batches b
CROSS JOIN LATERAL (SELECT b.inputs || ''::bytea AS inputs OFFSET 0) d
CROSS JOIN LATERAL unnest(b.prediction_id, b.served_at, b.request_id, b.item, b.encounter_id,
                          b.patient_nbr, b.model_version, b.alias, b.probability, b.decision,
                          b.threshold, b.latency_us, b.input_end, array_prepend(0, b.input_end))
    AS u(prediction_id, served_at, request_id, item, encounter_id, patient_nbr, model_version,
         alias, probability, decision, threshold, latency_us, input_end, input_start)
WHERE u.prediction_id IS NOT NULL;
ALTER VIEW monitor.predictions ALTER COLUMN item SET DEFAULT 0;
ALTER VIEW monitor.predictions ALTER COLUMN alias SET DEFAULT '';
COMMENT ON VIEW monitor.predictions IS 'Every served prediction, one row each (from monitor.prediction_batches): when, which model version and alias, the raw input, probability, decision, threshold and worker latency. Takes INSERTs.';

CREATE FUNCTION monitor.predictions_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO monitor.prediction_pending
        (served_at, request_id, item, encounter_id, patient_nbr, model_name, model_version,
         alias, input, probability, decision, threshold, latency_us)
    VALUES (NEW.served_at, NEW.request_id, coalesce(NEW.item, 0), NEW.encounter_id,
            NEW.patient_nbr, NEW.model_name, NEW.model_version, coalesce(NEW.alias, ''),
            NEW.input, NEW.probability, NEW.decision, NEW.threshold, NEW.latency_us);
    RETURN NEW;
END
$$;
CREATE FUNCTION monitor.predictions_pack() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM monitor.pack_pending();
    RETURN NULL;
END
$$;
CREATE TRIGGER predictions_insert INSTEAD OF INSERT ON monitor.predictions
    FOR EACH ROW EXECUTE FUNCTION monitor.predictions_insert();
CREATE TRIGGER predictions_pack AFTER INSERT ON monitor.predictions
    FOR EACH STATEMENT EXECUTE FUNCTION monitor.predictions_pack();
