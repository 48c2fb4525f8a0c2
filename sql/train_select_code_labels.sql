SELECT column_name, code, label FROM raw.code_labels ORDER BY column_name, code
