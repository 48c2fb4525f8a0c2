-- the encounter_id range train_copy_range_encounters reads (id_after < encounter_id <= id_upto),
-- in the same transaction
SELECT set_config('readmit.id_after', $1, true), set_config('readmit.id_upto', $2, true)
