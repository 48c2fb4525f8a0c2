-- the split rows rdm_dataset_load_split reads (k = patient_nbr mod 100, lo <= k < hi), for
-- train_copy_split_encounters in the same transaction
SELECT set_config('readmit.split_lo', $1, true), set_config('readmit.split_hi', $2, true)
