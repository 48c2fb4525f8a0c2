-- raw: the source data as text, one batch per transaction, with a ledger and rejects.
CREATE SCHEMA IF NOT EXISTS raw;

-- One row per ingested batch. A batch is identified by the source file's
-- sha256 and its batch number within that file; re-ingesting the same file
-- finds its batches here and skips them.
CREATE TABLE raw.batches (
    batch_id      bigserial PRIMARY KEY,
    source_path   text        NOT NULL,
    source_sha256 text        NOT NULL,
    batch_no      integer     NOT NULL,          -- 1-based within the source file
    first_line    bigint      NOT NULL,          -- source line numbers (header is line 1)
    last_line     bigint      NOT NULL,
    rows_read     integer     NOT NULL,
    rows_accepted integer     NOT NULL,
    rows_rejected integer     NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_sha256, batch_no),
    CHECK (rows_read = rows_accepted + rows_rejected)
);

-- Accepted rows, every column as text exactly as in the source (? kept).
-- Bulk-load table: no foreign key and no B-tree (each would cost a third of
-- the load time). Only ingest writes it, in the transaction that creates the
-- batch's ledger row, and (batch_id, line_no) is unique by construction (line
-- numbers increase within a source file). Rows arrive in batch_id order, so a
-- BRIN index finds one batch's rows at almost no cost on load.
CREATE TABLE raw.encounters (
    batch_id bigint NOT NULL,
    line_no  bigint NOT NULL,
    "encounter_id" text,
    "patient_nbr" text,
    "race" text,
    "gender" text,
    "age" text,
    "weight" text,
    "admission_type_id" text,
    "discharge_disposition_id" text,
    "admission_source_id" text,
    "time_in_hospital" text,
    "payer_code" text,
    "medical_specialty" text,
    "num_lab_procedures" text,
    "num_procedures" text,
    "num_medications" text,
    "number_outpatient" text,
    "number_emergency" text,
    "number_inpatient" text,
    "diag_1" text,
    "diag_2" text,
    "diag_3" text,
    "number_diagnoses" text,
    "max_glu_serum" text,
    "A1Cresult" text,
    "metformin" text,
    "repaglinide" text,
    "nateglinide" text,
    "chlorpropamide" text,
    "glimepiride" text,
    "acetohexamide" text,
    "glipizide" text,
    "glyburide" text,
    "tolbutamide" text,
    "pioglitazone" text,
    "rosiglitazone" text,
    "acarbose" text,
    "miglitol" text,
    "troglitazone" text,
    "tolazamide" text,
    "examide" text,
    "citoglipton" text,
    "insulin" text,
    "glyburide-metformin" text,
    "glipizide-metformin" text,
    "glimepiride-pioglitazone" text,
    "metformin-rosiglitazone" text,
    "metformin-pioglitazone" text,
    "change" text,
    "diabetesMed" text,
    "readmitted" text
);
CREATE INDEX encounters_batch_brin ON raw.encounters USING brin (batch_id);

-- Rows that could not be stored, with the reason and the raw text.
CREATE TABLE raw.rejects (
    batch_id bigint NOT NULL REFERENCES raw.batches (batch_id),
    line_no  bigint NOT NULL,
    reason   text   NOT NULL,
    raw_text bytea  NOT NULL,                    -- bytes as read (may be invalid UTF-8)
    PRIMARY KEY (batch_id, line_no)
);
