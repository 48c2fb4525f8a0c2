-- the champion of readmit.model_name: version, training snapshot, its profile,
-- the input schema and the validation calibration table (score reference)
COPY (
    SELECT v.version, r.snapshot_id, p.profile, v.input_schema, c.points
    FROM registry.aliases a
    JOIN registry.model_versions v ON v.name = a.name AND v.version = a.version
    JOIN registry.runs r ON r.run_id = v.run_id
    LEFT JOIN clean.profiles p ON p.snapshot_id = r.snapshot_id
    LEFT JOIN registry.curves c ON c.run_id = r.run_id AND c.split = 'valid'
                               AND c.kind = 'calibration'
    WHERE a.name = current_setting('readmit.model_name') AND a.alias = 'champion'
) TO STDOUT
