SELECT count(*), coalesce(sum(target), 0) FROM clean.encounters
