CREATE TEMP TABLE IF NOT EXISTS outcomes_stage (
    encounter_id bigint, readmitted text, label smallint, observed_at timestamptz, line_no bigint
) ON COMMIT DROP
