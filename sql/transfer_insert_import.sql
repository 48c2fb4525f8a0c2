-- Version $2 of $1 came from the installation, name and version its export's
-- lineage $3 names; $4 who imported it.
INSERT INTO registry.imports
    (name, version, source_installation, source_name, source_version, sha256, lineage,
     imported_by)
SELECT $1, $2::integer, (j ->> 'installation')::uuid, j ->> 'name', (j ->> 'version')::integer,
       j ->> 'sha256', j, $4
FROM (SELECT $3::jsonb AS j) l
