SELECT count(*) AS rows, coalesce(sum(target), 0) AS positives FROM clean.encounters
