SELECT pg_advisory_xact_lock(hashtext('readmit.registry:' || $1))
