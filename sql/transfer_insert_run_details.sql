-- The parameters, metrics (every split), curves and tags of imported run $1
-- as the export's lineage $2 carries them.
WITH r AS (SELECT $2::jsonb -> 'run' AS j),
p AS (
    INSERT INTO registry.params (run_id, key, value)
    SELECT $1::bigint, e.key, e.value FROM r, jsonb_each_text(coalesce(r.j -> 'params', '{}')) e
    RETURNING 1),
m AS (
    INSERT INTO registry.metrics (run_id, split, key, value)
    SELECT $1::bigint, s.key, e.key, e.value::float8
    FROM r, jsonb_each(coalesce(r.j -> 'metrics', '{}')) s, jsonb_each_text(s.value) e
    RETURNING 1),
c AS (
    INSERT INTO registry.curves (run_id, split, kind, points)
    SELECT $1::bigint, x ->> 'split', x ->> 'kind', x -> 'points'
    FROM r, jsonb_array_elements(coalesce(r.j -> 'curves', '[]')) x
    RETURNING 1),
g AS (
    INSERT INTO registry.tags (run_id, key, value)
    SELECT $1::bigint, e.key, e.value FROM r, jsonb_each_text(coalesce(r.j -> 'tags', '{}')) e
    RETURNING 1)
SELECT (SELECT count(*) FROM p) AS params, (SELECT count(*) FROM m) AS metrics,
       (SELECT count(*) FROM c) AS curves, (SELECT count(*) FROM g) AS tags
