SELECT coalesce(max(version), 0) + 1 AS version FROM registry.model_versions WHERE name = $1
