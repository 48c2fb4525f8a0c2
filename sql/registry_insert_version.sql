INSERT INTO registry.model_versions
    (name, version, run_id, sha256, input_schema, example_input)
VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
