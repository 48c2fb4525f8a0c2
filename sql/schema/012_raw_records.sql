-- raw.records: an accepted source row as one text value (its 50 fields joined
-- by the byte 0x1f) instead of 50 text columns. Clean reads a row as one
-- value (the server no longer takes every row apart into 50 columns and puts
-- it together again as text: about 0.3 s of its CPU for the UCI file), and
-- ingest stores one. A 0x1e or 0x1f inside a value is written as 0x1e 0x02 or
-- 0x1e 0x01 (src/rawrec.h). raw.encounters stays, as a view with the columns
-- it had: every query of it reads the same rows and values as before.
CREATE TABLE raw.records (
    batch_id bigint NOT NULL,
    line_no  bigint NOT NULL,
    record   text   NOT NULL
);
COMMENT ON TABLE raw.records IS
    'accepted source rows: the fields, as in the source, joined by 0x1f (0x1e 0x01 / 0x1e 0x02 stand for a 0x1f / 0x1e inside a value); see the view raw.encounters';

-- a value as a field of a record, and field k (1-based) of a record
CREATE FUNCTION raw.record_escape(v text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace(replace(v, E'\x1e', E'\x1e\x02'), E'\x1f', E'\x1e\x01');
CREATE FUNCTION raw.record_field(record text, k integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN strpos(record, E'\x1e') = 0 THEN split_part(record, E'\x1f', k)
                ELSE replace(replace(split_part(record, E'\x1f', k), E'\x1e\x01', E'\x1f'),
                             E'\x1e\x02', E'\x1e') END;

-- the rows loaded so far, in the order they were stored (ingest never wrote
-- a NULL value: a row with a field missing is rejected)
INSERT INTO raw.records (batch_id, line_no, record)
SELECT batch_id, line_no,
       raw.record_escape(coalesce("encounter_id", '')) || E'\x1f' ||
       raw.record_escape(coalesce("patient_nbr", '')) || E'\x1f' ||
       raw.record_escape(coalesce("race", '')) || E'\x1f' ||
       raw.record_escape(coalesce("gender", '')) || E'\x1f' ||
       raw.record_escape(coalesce("age", '')) || E'\x1f' ||
       raw.record_escape(coalesce("weight", '')) || E'\x1f' ||
       raw.record_escape(coalesce("admission_type_id", '')) || E'\x1f' ||
       raw.record_escape(coalesce("discharge_disposition_id", '')) || E'\x1f' ||
       raw.record_escape(coalesce("admission_source_id", '')) || E'\x1f' ||
       raw.record_escape(coalesce("time_in_hospital", '')) || E'\x1f' ||
       raw.record_escape(coalesce("payer_code", '')) || E'\x1f' ||
       raw.record_escape(coalesce("medical_specialty", '')) || E'\x1f' ||
       raw.record_escape(coalesce("num_lab_procedures", '')) || E'\x1f' ||
       raw.record_escape(coalesce("num_procedures", '')) || E'\x1f' ||
       raw.record_escape(coalesce("num_medications", '')) || E'\x1f' ||
       raw.record_escape(coalesce("number_outpatient", '')) || E'\x1f' ||
       raw.record_escape(coalesce("number_emergency", '')) || E'\x1f' ||
       raw.record_escape(coalesce("number_inpatient", '')) || E'\x1f' ||
       raw.record_escape(coalesce("diag_1", '')) || E'\x1f' ||
       raw.record_escape(coalesce("diag_2", '')) || E'\x1f' ||
       raw.record_escape(coalesce("diag_3", '')) || E'\x1f' ||
       raw.record_escape(coalesce("number_diagnoses", '')) || E'\x1f' ||
       raw.record_escape(coalesce("max_glu_serum", '')) || E'\x1f' ||
       raw.record_escape(coalesce("A1Cresult", '')) || E'\x1f' ||
       raw.record_escape(coalesce("metformin", '')) || E'\x1f' ||
       raw.record_escape(coalesce("repaglinide", '')) || E'\x1f' ||
       raw.record_escape(coalesce("nateglinide", '')) || E'\x1f' ||
       raw.record_escape(coalesce("chlorpropamide", '')) || E'\x1f' ||
       raw.record_escape(coalesce("glimepiride", '')) || E'\x1f' ||
       raw.record_escape(coalesce("acetohexamide", '')) || E'\x1f' ||
       raw.record_escape(coalesce("glipizide", '')) || E'\x1f' ||
       raw.record_escape(coalesce("glyburide", '')) || E'\x1f' ||
       raw.record_escape(coalesce("tolbutamide", '')) || E'\x1f' ||
       raw.record_escape(coalesce("pioglitazone", '')) || E'\x1f' ||
       raw.record_escape(coalesce("rosiglitazone", '')) || E'\x1f' ||
       raw.record_escape(coalesce("acarbose", '')) || E'\x1f' ||
       raw.record_escape(coalesce("miglitol", '')) || E'\x1f' ||
       raw.record_escape(coalesce("troglitazone", '')) || E'\x1f' ||
       raw.record_escape(coalesce("tolazamide", '')) || E'\x1f' ||
       raw.record_escape(coalesce("examide", '')) || E'\x1f' ||
       raw.record_escape(coalesce("citoglipton", '')) || E'\x1f' ||
       raw.record_escape(coalesce("insulin", '')) || E'\x1f' ||
       raw.record_escape(coalesce("glyburide-metformin", '')) || E'\x1f' ||
       raw.record_escape(coalesce("glipizide-metformin", '')) || E'\x1f' ||
       raw.record_escape(coalesce("glimepiride-pioglitazone", '')) || E'\x1f' ||
       raw.record_escape(coalesce("metformin-rosiglitazone", '')) || E'\x1f' ||
       raw.record_escape(coalesce("metformin-pioglitazone", '')) || E'\x1f' ||
       raw.record_escape(coalesce("change", '')) || E'\x1f' ||
       raw.record_escape(coalesce("diabetesMed", '')) || E'\x1f' ||
       raw.record_escape(coalesce("readmitted", ''))
FROM raw.encounters ORDER BY batch_id, line_no;
DROP TABLE raw.encounters;
-- as raw.encounters was: rows arrive in batch_id order
CREATE INDEX records_batch_brin ON raw.records USING brin (batch_id);

-- the columns of the table it replaces, in its order (DELETE goes through
-- to raw.records)
CREATE VIEW raw.encounters AS
SELECT r.batch_id,
       r.line_no,
       raw.record_field(r.record, 1) AS "encounter_id",
       raw.record_field(r.record, 2) AS "patient_nbr",
       raw.record_field(r.record, 3) AS "race",
       raw.record_field(r.record, 4) AS "gender",
       raw.record_field(r.record, 5) AS "age",
       raw.record_field(r.record, 6) AS "weight",
       raw.record_field(r.record, 7) AS "admission_type_id",
       raw.record_field(r.record, 8) AS "discharge_disposition_id",
       raw.record_field(r.record, 9) AS "admission_source_id",
       raw.record_field(r.record, 10) AS "time_in_hospital",
       raw.record_field(r.record, 11) AS "payer_code",
       raw.record_field(r.record, 12) AS "medical_specialty",
       raw.record_field(r.record, 13) AS "num_lab_procedures",
       raw.record_field(r.record, 14) AS "num_procedures",
       raw.record_field(r.record, 15) AS "num_medications",
       raw.record_field(r.record, 16) AS "number_outpatient",
       raw.record_field(r.record, 17) AS "number_emergency",
       raw.record_field(r.record, 18) AS "number_inpatient",
       raw.record_field(r.record, 19) AS "diag_1",
       raw.record_field(r.record, 20) AS "diag_2",
       raw.record_field(r.record, 21) AS "diag_3",
       raw.record_field(r.record, 22) AS "number_diagnoses",
       raw.record_field(r.record, 23) AS "max_glu_serum",
       raw.record_field(r.record, 24) AS "A1Cresult",
       raw.record_field(r.record, 25) AS "metformin",
       raw.record_field(r.record, 26) AS "repaglinide",
       raw.record_field(r.record, 27) AS "nateglinide",
       raw.record_field(r.record, 28) AS "chlorpropamide",
       raw.record_field(r.record, 29) AS "glimepiride",
       raw.record_field(r.record, 30) AS "acetohexamide",
       raw.record_field(r.record, 31) AS "glipizide",
       raw.record_field(r.record, 32) AS "glyburide",
       raw.record_field(r.record, 33) AS "tolbutamide",
       raw.record_field(r.record, 34) AS "pioglitazone",
       raw.record_field(r.record, 35) AS "rosiglitazone",
       raw.record_field(r.record, 36) AS "acarbose",
       raw.record_field(r.record, 37) AS "miglitol",
       raw.record_field(r.record, 38) AS "troglitazone",
       raw.record_field(r.record, 39) AS "tolazamide",
       raw.record_field(r.record, 40) AS "examide",
       raw.record_field(r.record, 41) AS "citoglipton",
       raw.record_field(r.record, 42) AS "insulin",
       raw.record_field(r.record, 43) AS "glyburide-metformin",
       raw.record_field(r.record, 44) AS "glipizide-metformin",
       raw.record_field(r.record, 45) AS "glimepiride-pioglitazone",
       raw.record_field(r.record, 46) AS "metformin-rosiglitazone",
       raw.record_field(r.record, 47) AS "metformin-pioglitazone",
       raw.record_field(r.record, 48) AS "change",
       raw.record_field(r.record, 49) AS "diabetesMed",
       raw.record_field(r.record, 50) AS "readmitted"
FROM raw.records r;
