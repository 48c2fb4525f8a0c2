-- clean.encounters emptied in this transaction: its primary key goes while
-- the rows are copied in and is built again from them (clean_add_key.sql):
-- one sort instead of a B-tree insertion with a uniqueness probe per row
ALTER TABLE clean.encounters DROP CONSTRAINT IF EXISTS encounters_pkey
