UPDATE registry.trainings SET ended_at = now(), selected_run_id = $2
WHERE training_id = $1
