-- The meaning of the integer codes of admission_type_id,
-- discharge_disposition_id and admission_source_id, from the mapping file
-- that comes with the source (IDs_mapping.csv in the UCI zip). A later
-- mapping replaces the label of a code it lists again.
CREATE TABLE raw.code_labels (
    column_name text        NOT NULL CHECK (column_name IN
                                ('admission_type_id', 'discharge_disposition_id', 'admission_source_id')),
    code        text        NOT NULL,
    label       text        NOT NULL,
    sha256      text        NOT NULL,   -- of the mapping file it came from
    line_no     integer     NOT NULL,   -- its line in that file
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (column_name, code)
);
COMMENT ON TABLE raw.code_labels IS 'Human labels of the code columns (admission type, discharge disposition, admission source) from the source''s mapping file.';

-- Lines of a mapping file that could not be used, with why.
CREATE TABLE raw.code_label_rejects (
    sha256    text        NOT NULL,
    line_no   integer     NOT NULL,
    raw       text        NOT NULL,
    reason    text        NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sha256, line_no)
);
