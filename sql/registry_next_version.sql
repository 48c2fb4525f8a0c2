SELECT coalesce(max(version), 0) + 1 FROM registry.model_versions WHERE name = $1
