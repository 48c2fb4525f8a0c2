UPDATE registry.runs SET selected = coalesce(run_id = $2::bigint, false) WHERE training_id = $1
