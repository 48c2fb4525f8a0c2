SELECT batch_id, rule, severity, violations, checked, passed FROM clean.validation WHERE snapshot_id = $1 ORDER BY batch_id NULLS LAST, rule
