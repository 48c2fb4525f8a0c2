-- per-connection staging table for replayed prediction records
CREATE TEMP TABLE IF NOT EXISTS predictions_stage
    (LIKE monitor.prediction_pending INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
