COPY (
    SELECT count(*) FROM monitor.predictions
    WHERE model_name = current_setting('readmit.model_name')
) TO STDOUT
