COPY outcomes_stage (encounter_id, readmitted, label, observed_at, line_no) FROM STDIN
