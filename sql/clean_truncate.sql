TRUNCATE clean.encounters, clean.rejects, clean.batches
