-- the encounter_id of the snapshot's row $1 (0-based, in encounter_id order): the end of the
-- first of the two ranges the snapshot is read in
SELECT encounter_id FROM clean.encounters ORDER BY encounter_id OFFSET $1 LIMIT 1
