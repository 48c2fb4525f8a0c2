-- registry: experiment tracking (trainings, runs, params, metrics, curves,
-- artifacts) and the model registry (versions, aliases, alias history).
CREATE SCHEMA IF NOT EXISTS registry;

-- A named group of runs (one per registered model name by default).
CREATE TABLE registry.experiments (
    experiment_id bigserial   PRIMARY KEY,
    name          text        NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE registry.experiments IS 'Named groups of runs; `readmit train` uses the registered model name.';

-- One `readmit train` invocation: the data it saw and the run it selected.
CREATE TABLE registry.trainings (
    training_id      bigserial   PRIMARY KEY,
    experiment_id    bigint      NOT NULL REFERENCES registry.experiments (experiment_id),
    started_at       timestamptz NOT NULL DEFAULT now(),
    ended_at         timestamptz,
    config_hash      text        NOT NULL,        -- sha256 of the canonical train/split/features config text
    code_version     text        NOT NULL,
    snapshot_id      bigint,                      -- clean snapshot trained on
    data_fingerprint text,                        -- the snapshot's fingerprint
    selection_metric text        NOT NULL,        -- validation metric used to select (roc_auc, ...)
    selected_run_id  bigint,                      -- best finished run on validation (never test)
    rows_train       integer,
    rows_valid       integer,
    rows_test        integer
);
COMMENT ON TABLE registry.trainings IS 'One `readmit train` invocation: data snapshot, config hash and the run selected on validation.';

-- One grid point of one model type in one training.
CREATE TABLE registry.runs (
    run_id           bigserial   PRIMARY KEY,
    experiment_id    bigint      NOT NULL REFERENCES registry.experiments (experiment_id),
    training_id      bigint      NOT NULL REFERENCES registry.trainings (training_id),
    model_type       text        NOT NULL CHECK (model_type IN ('baseline', 'logreg', 'gbt')),
    name             text        NOT NULL,        -- human label, e.g. "gbt lr=0.1 leaves=31"
    status           text        NOT NULL DEFAULT 'running'
                                 CHECK (status IN ('running', 'finished', 'failed')),
    error            text,                        -- message of a failed run
    started_at       timestamptz NOT NULL DEFAULT now(),
    ended_at         timestamptz,
    duration_s       double precision,            -- wall time of fit + evaluation
    fit_s            double precision,            -- wall time of the fit alone
    config_hash      text        NOT NULL,
    code_version     text        NOT NULL,        -- readmit version (+ READMIT_CODE_VERSION)
    snapshot_id      bigint,
    data_fingerprint text,
    batch_ids        text,                        -- raw batch ids in the snapshot, e.g. "1-7"
    rows_train       integer,
    rows_valid       integer,
    rows_test        integer,
    threshold        double precision,            -- decision threshold (max validation F1)
    artifact_sha256  text,                        -- model file (registry.artifacts)
    selected         boolean     NOT NULL DEFAULT false  -- the run its training selected
);
CREATE INDEX runs_training_idx ON registry.runs (training_id);
COMMENT ON TABLE registry.runs IS 'One model fit (a grid point): status, timing, lineage (config hash, code version, data snapshot) and the selected flag.';

-- Hyperparameters and other inputs of a run, as text.
CREATE TABLE registry.params (
    run_id bigint NOT NULL REFERENCES registry.runs (run_id) ON DELETE CASCADE,
    key    text   NOT NULL,
    value  text   NOT NULL,
    PRIMARY KEY (run_id, key)
);
COMMENT ON TABLE registry.params IS 'Hyperparameters of a run (key/value text).';

-- Scalar metrics per split. Keys: roc_auc, pr_auc, log_loss, brier, accuracy,
-- threshold, precision, recall, f1, tp, fp, tn, fn, n, positives, and on
-- test roc_auc_ci_low / roc_auc_ci_high (bootstrap 95%); fit: trees, iterations.
CREATE TABLE registry.metrics (
    run_id bigint           NOT NULL REFERENCES registry.runs (run_id) ON DELETE CASCADE,
    split  text             NOT NULL CHECK (split IN ('train', 'valid', 'test')),
    key    text             NOT NULL,
    value  double precision NOT NULL,
    PRIMARY KEY (run_id, split, key)
);
COMMENT ON TABLE registry.metrics IS 'Scalar metrics of a run per split (valid = validation, test = held out; test never chooses anything).';

-- Curves as JSON arrays of points:
--   roc:         [[fpr, tpr], ...]           (<= 300 points, from (0,0) to (1,1))
--   pr:          [[recall, precision], ...]  (<= 300 points)
--   calibration: [{"bin":i,"lo":a,"hi":b,"n":k,"mean_pred":p,"frac_pos":q}, ...] (10 bins)
--   importance:  [{"feature":"number_inpatient","gain":g}, ...] sorted by gain (split = 'train')
CREATE TABLE registry.curves (
    run_id bigint NOT NULL REFERENCES registry.runs (run_id) ON DELETE CASCADE,
    split  text   NOT NULL CHECK (split IN ('train', 'valid', 'test')),
    kind   text   NOT NULL CHECK (kind IN ('roc', 'pr', 'calibration', 'importance')),
    points jsonb  NOT NULL,
    PRIMARY KEY (run_id, split, kind)
);
COMMENT ON TABLE registry.curves IS 'ROC / PR curves, calibration tables and feature importance of a run, as JSON.';

-- Model files, content-addressed. Also cached on disk as var/models/<sha256>.model.
CREATE TABLE registry.artifacts (
    sha256     text        PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes      bytea       NOT NULL,
    size       bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE registry.artifacts IS 'Model file bytes addressed by their sha256 (the file cache is var/models/<sha256>.model).';

CREATE TABLE registry.run_artifacts (
    run_id bigint NOT NULL REFERENCES registry.runs (run_id) ON DELETE CASCADE,
    kind   text   NOT NULL DEFAULT 'model',
    sha256 text   NOT NULL REFERENCES registry.artifacts (sha256),
    PRIMARY KEY (run_id, kind)
);
COMMENT ON TABLE registry.run_artifacts IS 'Which artifacts a run produced.';

CREATE TABLE registry.tags (
    run_id bigint NOT NULL REFERENCES registry.runs (run_id) ON DELETE CASCADE,
    key    text   NOT NULL,
    value  text   NOT NULL,
    PRIMARY KEY (run_id, key)
);
COMMENT ON TABLE registry.tags IS 'Free-form labels on runs.';

-- Registered model versions: name + version -> run and artifact.
CREATE TABLE registry.model_versions (
    name          text        NOT NULL,
    version       integer     NOT NULL CHECK (version > 0),
    run_id        bigint      NOT NULL REFERENCES registry.runs (run_id),
    sha256        text        NOT NULL REFERENCES registry.artifacts (sha256),
    input_schema  jsonb       NOT NULL,   -- fields the model reads: name, type, levels / range
    example_input jsonb       NOT NULL,   -- one validation record in raw form
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);
COMMENT ON TABLE registry.model_versions IS 'Versions of a registered model, each the selected run of one training, with its input schema and an example input.';

-- Current aliases: champion (served) and challenger.
CREATE TABLE registry.aliases (
    name       text        NOT NULL,
    alias      text        NOT NULL CHECK (alias IN ('champion', 'challenger')),
    version    integer     NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES registry.model_versions (name, version)
);
COMMENT ON TABLE registry.aliases IS 'Current alias of each registered model: champion is what serving loads.';

-- Append-only: every alias change, with why and by whom.
CREATE TABLE registry.alias_history (
    history_id   bigserial   PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    name         text        NOT NULL,
    alias        text        NOT NULL CHECK (alias IN ('champion', 'challenger')),
    from_version integer,                 -- NULL: the alias did not exist
    to_version   integer,                 -- NULL: the alias was removed
    action       text        NOT NULL CHECK (action IN ('register', 'promote', 'rollback')),
    reason       text        NOT NULL,    -- the gate's numbers as text, or "manual: ..."
    actor        text        NOT NULL,    -- $USER and the command
    gate         jsonb                    -- the gate's numbers (metric, floor, gain, scores)
);
CREATE INDEX alias_history_name_idx ON registry.alias_history (name, alias, history_id);
COMMENT ON TABLE registry.alias_history IS 'Append-only log of alias changes: when, from/to version, action, reason (gate numbers or manual), actor.';

CREATE FUNCTION registry.alias_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'registry.alias_history is append-only';
END $$;
CREATE TRIGGER alias_history_no_change BEFORE UPDATE OR DELETE ON registry.alias_history
    FOR EACH ROW EXECUTE FUNCTION registry.alias_history_append_only();
