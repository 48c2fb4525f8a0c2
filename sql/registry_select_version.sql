SELECT v.version, v.sha256, v.run_id
FROM registry.model_versions v WHERE v.name = $1 AND v.version = $2
