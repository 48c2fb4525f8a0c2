SELECT pg_advisory_unlock(hashtext('readmit.raw.ingest'))
