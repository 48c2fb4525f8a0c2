-- the monitor's reads of the log in one snapshot: the outcomes, the predictions
-- and the sample of their inputs agree with each other
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY
