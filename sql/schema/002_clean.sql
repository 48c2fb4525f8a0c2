-- clean: typed, filtered, validated encounters built from raw.* by `readmit clean`.
-- clean.encounters always holds the CURRENT snapshot (every cleaned batch);
-- clean.snapshots keeps the history of clean runs (ok and failed) with their
-- validation results and profiles.
CREATE SCHEMA IF NOT EXISTS clean;

-- One row per clean run. status 'ok': the run committed and clean.* holds its
-- data; 'failed': validation stopped the run, clean.* was left as it was and
-- clean.validation holds the numbers that failed.
CREATE TABLE clean.snapshots (
    snapshot_id   serial      PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    fingerprint   text        NOT NULL,           -- sha256 of batch ledger + row counts + clean config
    config_sha256 text        NOT NULL,           -- sha256 of the clean config section alone
    rows          bigint      NOT NULL,           -- rows in clean.encounters (for failed: would-be rows)
    positives     bigint      NOT NULL,           -- rows with target = 1
    batch_ids     bigint[]    NOT NULL,           -- raw batches included, ascending
    status        text        NOT NULL CHECK (status IN ('ok', 'failed')),
    message       text                            -- failure message (NULL when ok)
);

-- Raw batches that are part of the current snapshot, with their row accounting:
-- rows_in = rows_clean + rows_filtered + rows_duplicate + rows_rejected.
CREATE TABLE clean.batches (
    batch_id       bigint      PRIMARY KEY REFERENCES raw.batches (batch_id),
    snapshot_id    integer     NOT NULL REFERENCES clean.snapshots (snapshot_id),  -- run that cleaned it
    rows_in        integer     NOT NULL,          -- raw.encounters rows of the batch
    rows_clean     integer     NOT NULL,          -- rows now in clean.encounters
    rows_filtered  integer     NOT NULL,          -- dropped by the task filter (expired/hospice discharge)
    rows_duplicate integer     NOT NULL,          -- encounter_id already seen (first one kept)
    rows_rejected  integer     NOT NULL,          -- broke a hard rule or a type check (see clean.rejects)
    cleaned_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (rows_in = rows_clean + rows_filtered + rows_duplicate + rows_rejected)
);

-- Typed encounters. Column names are the source names; integers are integers,
-- categoricals are normalised text with NULL for missing ('?'); the string
-- 'None' in max_glu_serum / A1Cresult is a category ("not measured").
CREATE TABLE clean.encounters (
    "encounter_id" bigint PRIMARY KEY,
    "patient_nbr" bigint NOT NULL,
    batch_id bigint NOT NULL,                     -- raw batch (in clean.batches; no FK: it would
                                                  -- cost a trigger call per row on load)
    line_no  bigint NOT NULL,                     -- source line number (as in raw.encounters)
    "race" text,
    "gender" text,
    "age" text,
    "weight" text,
    "admission_type_id" integer,
    "discharge_disposition_id" integer,
    "admission_source_id" integer,
    "time_in_hospital" integer,
    "payer_code" text,
    "medical_specialty" text,
    "num_lab_procedures" integer,
    "num_procedures" integer,
    "num_medications" integer,
    "number_outpatient" integer,
    "number_emergency" integer,
    "number_inpatient" integer,
    "diag_1" text,
    "diag_2" text,
    "diag_3" text,
    "number_diagnoses" integer,
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
    "readmitted" text NOT NULL,                   -- 'NO', '>30' or '<30'
    diag_1_group text NOT NULL,                   -- ICD-9 chapter (rdm_icd9_chapter): 'circulatory', ..., 'missing'
    diag_2_group text NOT NULL,
    diag_3_group text NOT NULL,
    target smallint NOT NULL CHECK (target IN (0, 1))  -- 1 when readmitted = '<30'
);

-- Rows of raw.encounters that broke a hard rule or a type check: one row per
-- rejected source row, `rule` is the first hard rule it broke ("type:<column>"
-- for a value that is not an integer in an integer column), `detail` says what.
CREATE TABLE clean.rejects (
    batch_id     bigint NOT NULL REFERENCES raw.batches (batch_id),
    line_no      bigint NOT NULL,
    encounter_id text,                            -- as in the source
    rule         text   NOT NULL,
    severity     text   NOT NULL CHECK (severity IN ('hard', 'soft')),
    detail       text   NOT NULL,
    PRIMARY KEY (batch_id, line_no)
);

-- Validation results: per rule and batch (batch_id NULL for run-level checks
-- such as max_reject_rate). Row rules count violating rows out of `checked`
-- rows; missing-rate rules count missing values. Besides the configured
-- rules, the built-in checks are "type" (type errors), "min_rows" and
-- "max_reject_rate". passed = false on a hard check fails the run.
CREATE TABLE clean.validation (
    snapshot_id integer NOT NULL REFERENCES clean.snapshots (snapshot_id),
    batch_id    bigint,
    rule        text    NOT NULL,
    severity    text    NOT NULL CHECK (severity IN ('hard', 'soft')),
    violations  bigint  NOT NULL,
    checked     bigint  NOT NULL,
    passed      boolean NOT NULL
);
CREATE INDEX validation_snapshot_idx ON clean.validation (snapshot_id);

-- Profile of a clean snapshot (whole clean.encounters) as JSON; see src/profile.h
-- for the layout.
CREATE TABLE clean.profiles (
    snapshot_id integer     PRIMARY KEY REFERENCES clean.snapshots (snapshot_id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    profile     jsonb       NOT NULL
);
