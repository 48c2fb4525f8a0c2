SELECT a.version, v.sha256, v.run_id
FROM registry.aliases a JOIN registry.model_versions v USING (name, version)
WHERE a.name = $1 AND a.alias = $2
