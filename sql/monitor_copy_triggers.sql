COPY (SELECT t.key, t.at, t.reason FROM monitor.triggers t ORDER BY t.trigger_id) TO STDOUT
