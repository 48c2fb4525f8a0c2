-- monitor: what production was asked and answered (the prediction log), the
-- outcomes observed later, and what the monitor stage concluded from them.
CREATE SCHEMA IF NOT EXISTS monitor;

-- One row per served prediction (one record of a request). Written by the
-- serving pool's log writer with COPY in batches; records that could not be
-- sent when the database was away are replayed later from the spill file, and
-- (request_id, item) makes that replay idempotent.
CREATE TABLE monitor.predictions (
    prediction_id bigserial        NOT NULL,  -- arrival order in the log (the monitor's watermark)
    served_at     timestamptz      NOT NULL,  -- when the worker answered
    request_id    text             NOT NULL,  -- unique per request (worker pid, time, counter)
    item          integer          NOT NULL DEFAULT 0 CHECK (item >= 0), -- index in a batch request
    encounter_id  bigint,                     -- from the request when it carries one
    patient_nbr   bigint,
    model_name    text             NOT NULL,
    model_version integer,                    -- NULL when serving a model file
    alias         text             NOT NULL DEFAULT '',
    input         jsonb            NOT NULL,  -- the raw input record as received
    probability   double precision NOT NULL CHECK (probability >= 0 AND probability <= 1),
    decision      smallint         NOT NULL CHECK (decision IN (0, 1)),
    threshold     double precision NOT NULL,
    latency_us    integer,                    -- worker time for the whole request
    logged_at     timestamptz      NOT NULL DEFAULT now(),  -- when it reached the database
    PRIMARY KEY (request_id, item)
);

CREATE INDEX predictions_encounter_idx ON monitor.predictions (encounter_id);
COMMENT ON TABLE monitor.predictions IS 'Every served prediction: when, which model version and alias, the raw input, probability, decision, threshold and worker latency.';

-- Observed outcomes, one per encounter. The first load of an encounter wins: a
-- re-load of the same file, or a later raw batch carrying the same encounter,
-- changes nothing.
CREATE TABLE monitor.outcomes (
    encounter_id bigint      PRIMARY KEY,
    readmitted   text        NOT NULL,       -- as given: <30, >30, NO, 0 or 1
    label        smallint    NOT NULL CHECK (label IN (0, 1)),  -- 1 = readmitted within 30 days
    observed_at  timestamptz NOT NULL,       -- given, else when it was loaded
    loaded_at    timestamptz NOT NULL DEFAULT now(),
    source       text        NOT NULL        -- 'file <sha256>' or 'raw batch <batch_id>'
);
COMMENT ON TABLE monitor.outcomes IS 'Observed readmission outcomes by encounter, from `readmit outcomes` files or from raw batches that carry encounters served earlier.';

-- One row per `readmit outcomes` load.
CREATE TABLE monitor.outcome_loads (
    load_id    bigserial   PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    path       text        NOT NULL,
    sha256     text        NOT NULL,
    rows_read  integer     NOT NULL,
    inserted   integer     NOT NULL,         -- new outcomes
    duplicates integer     NOT NULL,         -- encounters that already had an outcome
    rejected   integer     NOT NULL,         -- rows kept in outcome_rejects
    unmatched  integer     NOT NULL          -- valid rows whose encounter was never served
);

-- Rows of an outcomes file that could not be used, with why.
CREATE TABLE monitor.outcome_rejects (
    sha256  text   NOT NULL,                 -- of the file
    line_no bigint NOT NULL,
    raw     text   NOT NULL,
    reason  text   NOT NULL,
    PRIMARY KEY (sha256, line_no)
);

-- Drift of each ingested raw batch against the training snapshot of the
-- champion at the time the monitor stage saw it.
CREATE TABLE monitor.batch_drift (
    batch_id    bigint      PRIMARY KEY,
    snapshot_id integer     NOT NULL,        -- reference: the champion's training snapshot
    at          timestamptz NOT NULL DEFAULT now(),
    rows        bigint      NOT NULL,
    max_psi     double precision,
    drift       jsonb       NOT NULL         -- per field: psi, missing shares, unseen share, level
);

-- One row per `readmit monitor` run that found something new.
CREATE TABLE monitor.reports (
    report_id      bigserial   PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    model_name     text        NOT NULL,
    last_prediction bigint,                  -- highest prediction_id included
    predictions    bigint      NOT NULL,
    labelled       bigint      NOT NULL,
    summary        jsonb       NOT NULL      -- the `readmit monitor --json` document
);

-- Retrain triggers that fired, each condition once (key). The monitor page
-- shows the reason beside the training that followed.
CREATE TABLE monitor.triggers (
    trigger_id bigserial   PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    key        text        NOT NULL UNIQUE,  -- condition + window, e.g. 'drift:v3:w12'
    reason     text        NOT NULL
);
