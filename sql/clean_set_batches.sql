SELECT set_config('readmit.clean_first', $1, true), set_config('readmit.clean_last', $2, true)
