COPY (SELECT encounter_id FROM clean.encounters) TO STDOUT
