-- rows of a queue file are stored once however often the file is replayed:
-- two replays of the same writer's rows wait for each other (released at commit)
SELECT pg_advisory_xact_lock(1869770853, hashtext($1::text))
