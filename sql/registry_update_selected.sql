UPDATE registry.runs SET selected = (run_id = $2) WHERE training_id = $1
