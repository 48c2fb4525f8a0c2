SELECT pg_advisory_lock(hashtext('readmit.raw.ingest'))
