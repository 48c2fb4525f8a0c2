-- The rows of the clean snapshot with readmit.id_after < encounter_id <=
-- readmit.id_upto (set by train_set_range.sql), in the order
-- train_copy_encounters gives them: the snapshot is read in two ranges on two
-- connections side by side.
COPY (
    SELECT "encounter_id", "patient_nbr", "race", "gender", "age", "weight", "admission_type_id", "discharge_disposition_id", "admission_source_id", "time_in_hospital", "payer_code", "medical_specialty", "num_lab_procedures", "num_procedures", "num_medications", "number_outpatient", "number_emergency", "number_inpatient", "diag_1", "diag_2", "diag_3", "number_diagnoses", "max_glu_serum", "A1Cresult", "metformin", "repaglinide", "nateglinide", "chlorpropamide", "glimepiride", "acetohexamide", "glipizide", "glyburide", "tolbutamide", "pioglitazone", "rosiglitazone", "acarbose", "miglitol", "troglitazone", "tolazamide", "examide", "citoglipton", "insulin", "glyburide-metformin", "glipizide-metformin", "glimepiride-pioglitazone", "metformin-rosiglitazone", "metformin-pioglitazone", "change", "diabetesMed", "readmitted"
    FROM clean.encounters
    WHERE encounter_id > (SELECT current_setting('readmit.id_after')::bigint)
      AND encounter_id <= (SELECT current_setting('readmit.id_upto')::bigint)
    ORDER BY encounter_id
) TO STDOUT
