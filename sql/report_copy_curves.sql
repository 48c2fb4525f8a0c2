COPY (SELECT run_id, split, kind, points FROM registry.curves) TO STDOUT
