ALTER TABLE clean.encounters ADD CONSTRAINT encounters_pkey PRIMARY KEY ("encounter_id")
