-- Performance by patient group on the test split of a run (the model card's
-- disaggregated evaluation), stored with the other curves:
--   subgroups: {"resamples", "threshold", "labelled", "overall": G, "groups": [G + {"attribute",
--               "level"}]} (split = 'test'), G as in the monitor's "subgroups" document.
ALTER TABLE registry.curves DROP CONSTRAINT curves_kind_check;
ALTER TABLE registry.curves ADD CONSTRAINT curves_kind_check
    CHECK (kind IN ('roc', 'pr', 'calibration', 'importance', 'subgroups'));
