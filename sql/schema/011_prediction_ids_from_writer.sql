-- The log writer gives each batch its prediction ids (a range reserved by
-- monitor.reserve_prediction_ids just before its COPY) instead of the
-- BEFORE INSERT trigger computing them: the trigger copied each batch row,
-- about a megabyte with its inputs, several times over (about a quarter of
-- the server's CPU per logged prediction). The trigger stays for rows
-- without ids (INSERTs through the view, replays of old spill files) and no
-- longer fires for the others.

-- The first of n consecutive prediction ids, taken from the same sequence
-- under the same lock as the trigger's (held only while the range is taken).
CREATE FUNCTION monitor.reserve_prediction_ids(n bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    first bigint;
BEGIN
    PERFORM pg_advisory_lock('monitor.prediction_batches'::regclass::oid::integer, 0);
    first := nextval('monitor.prediction_ids');
    IF n > 1 THEN
        PERFORM setval('monitor.prediction_ids', first + n - 1);
    END IF;
    PERFORM pg_advisory_unlock('monitor.prediction_batches'::regclass::oid::integer, 0);
    RETURN first;
END
$$;

DROP TRIGGER prediction_batch_ids ON monitor.prediction_batches;
CREATE TRIGGER prediction_batch_ids BEFORE INSERT ON monitor.prediction_batches
    FOR EACH ROW WHEN (NEW.prediction_id IS NULL) EXECUTE FUNCTION monitor.prediction_batch_ids();
