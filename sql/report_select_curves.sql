SELECT c.run_id, c.split, c.kind, c.points::text
FROM registry.curves c
ORDER BY c.run_id, c.split, c.kind
