-- The rows of one split of the clean snapshot (k = patient_nbr mod 100 in
-- readmit.split_lo..split_hi - 1, set by train_set_split.sql), in the order
-- train_copy_encounters gives them.
COPY (
    SELECT "encounter_id", "patient_nbr", "race", "gender", "age", "weight", "admission_type_id", "discharge_disposition_id", "admission_source_id", "time_in_hospital", "payer_code", "medical_specialty", "num_lab_procedures", "num_procedures", "num_medications", "number_outpatient", "number_emergency", "number_inpatient", "diag_1", "diag_2", "diag_3", "number_diagnoses", "max_glu_serum", "A1Cresult", "metformin", "repaglinide", "nateglinide", "chlorpropamide", "glimepiride", "acetohexamide", "glipizide", "glyburide", "tolbutamide", "pioglitazone", "rosiglitazone", "acarbose", "miglitol", "troglitazone", "tolazamide", "examide", "citoglipton", "insulin", "glyburide-metformin", "glipizide-metformin", "glimepiride-pioglitazone", "metformin-rosiglitazone", "metformin-pioglitazone", "change", "diabetesMed", "readmitted"
    FROM clean.encounters
    WHERE (patient_nbr % 100 + 100) % 100 >= (SELECT current_setting('readmit.split_lo')::int)
      AND (patient_nbr % 100 + 100) % 100 < (SELECT current_setting('readmit.split_hi')::int)
    ORDER BY encounter_id
) TO STDOUT
