SELECT set_config('readmit.clean_batch', $1, true)
