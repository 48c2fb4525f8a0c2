-- session setting read by the monitor's COPY ... TO STDOUT queries (which take no parameters)
SELECT set_config($1, $2, false)
