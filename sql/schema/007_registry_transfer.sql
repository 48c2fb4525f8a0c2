-- registry: moving model versions between installations (readmit model
-- export / import). Each installation (database) has an identity that every
-- export names; a version that came from elsewhere keeps where it came from.
CREATE TABLE registry.installation (
    installation_id uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    one             boolean     NOT NULL DEFAULT true UNIQUE CHECK (one)  -- a single row
);
INSERT INTO registry.installation DEFAULT VALUES;
COMMENT ON TABLE registry.installation IS 'This installation''s identity (one row), named by every model export.';

-- One row per imported version: its source and the export's lineage, verbatim.
CREATE TABLE registry.imports (
    name                text        NOT NULL,
    version             integer     NOT NULL,
    source_installation uuid        NOT NULL,
    source_name         text        NOT NULL,
    source_version      integer     NOT NULL,
    sha256              text        NOT NULL,
    lineage             jsonb       NOT NULL,   -- the export's manifest
    imported_at         timestamptz NOT NULL DEFAULT now(),
    imported_by         text        NOT NULL,
    PRIMARY KEY (name, version),
    FOREIGN KEY (name, version) REFERENCES registry.model_versions (name, version)
);
COMMENT ON TABLE registry.imports IS 'Model versions imported from another installation (readmit model import): source installation, name and version, and the lineage the export carried.';
