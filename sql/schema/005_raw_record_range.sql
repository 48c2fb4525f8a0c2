-- raw.batches: a batch is identified by the records it covers, not by its
-- number: first_record is the 0-based index of its first data record in the
-- source (header excluded), rows_read how many it covers. A re-ingest with
-- another data.batch_rows then loads exactly the records no batch covers yet.
ALTER TABLE raw.batches ADD COLUMN first_record bigint;
-- batches loaded before this column existed were contiguous from record 0 in
-- batch_no order
UPDATE raw.batches b SET first_record = x.first_record
FROM (SELECT batch_id,
             coalesce(sum(rows_read) OVER (PARTITION BY source_sha256 ORDER BY batch_no
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                      0) AS first_record
      FROM raw.batches) x
WHERE x.batch_id = b.batch_id;
ALTER TABLE raw.batches ALTER COLUMN first_record SET NOT NULL;
ALTER TABLE raw.batches ADD CHECK (first_record >= 0);
CREATE INDEX batches_source_range ON raw.batches (source_sha256, first_record);
COMMENT ON COLUMN raw.batches.first_record IS
    '0-based index of the batch''s first data record in the source; the batch covers [first_record, first_record + rows_read)';
