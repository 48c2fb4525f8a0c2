SELECT pg_advisory_lock(hashtext('readmit.registry.train'))
