-- every observed outcome (joined to the predictions by the monitor itself: a
-- hash of encounter ids in memory is cheaper than the server's join of the log)
COPY (
    SELECT encounter_id, label, observed_at FROM monitor.outcomes
) TO STDOUT WITH (FORMAT binary)
