-- the first row of each encounter in the file; encounters with an outcome keep it
INSERT INTO monitor.outcomes (encounter_id, readmitted, label, observed_at, source)
SELECT DISTINCT ON (s.encounter_id) s.encounter_id, s.readmitted, s.label,
       coalesce(s.observed_at, now()), $1
FROM outcomes_stage s
ORDER BY s.encounter_id, s.line_no
ON CONFLICT (encounter_id) DO NOTHING
