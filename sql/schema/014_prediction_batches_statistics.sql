-- No planner statistics of the prediction log's per-prediction arrays and
-- inputs. ANALYZE counts the elements of every array column of the rows it
-- samples (a hash table of up to 1000 x 16 elements per batch row): on a log
-- of 5.3 million predictions it took 6-7 s of server CPU, and autovacuum ran
-- it again after every tenth more batches (about every 15 s of a pool serving
-- 30,000 predictions/s), which took that time from serving. No query filters
-- on these columns' elements; the scalar columns (batch_id, model_name,
-- first_served, last_served, writer, seq_lo, seq_hi, n) keep theirs, and row
-- counts come from the table itself. ANALYZE of the same table: 19 ms.
ALTER TABLE monitor.prediction_batches
    ALTER COLUMN prediction_id SET STATISTICS 0,
    ALTER COLUMN served_at SET STATISTICS 0,
    ALTER COLUMN request_id SET STATISTICS 0,
    ALTER COLUMN item SET STATISTICS 0,
    ALTER COLUMN encounter_id SET STATISTICS 0,
    ALTER COLUMN patient_nbr SET STATISTICS 0,
    ALTER COLUMN model_version SET STATISTICS 0,
    ALTER COLUMN alias SET STATISTICS 0,
    ALTER COLUMN probability SET STATISTICS 0,
    ALTER COLUMN decision SET STATISTICS 0,
    ALTER COLUMN threshold SET STATISTICS 0,
    ALTER COLUMN latency_us SET STATISTICS 0,
    ALTER COLUMN race SET STATISTICS 0,
    ALTER COLUMN gender SET STATISTICS 0,
    ALTER COLUMN age SET STATISTICS 0,
    ALTER COLUMN input_end SET STATISTICS 0,
    ALTER COLUMN inputs SET STATISTICS 0;
