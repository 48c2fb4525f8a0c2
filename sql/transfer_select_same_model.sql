-- The version of $1 whose artifact is $2 (the same model bytes), if any.
SELECT version FROM registry.model_versions WHERE name = $1 AND sha256 = $2
ORDER BY version LIMIT 1
