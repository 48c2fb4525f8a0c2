SELECT pg_advisory_unlock(hashtext('readmit.registry.train'))
