SELECT version FROM registry.model_versions WHERE name = $1 AND run_id = $2
