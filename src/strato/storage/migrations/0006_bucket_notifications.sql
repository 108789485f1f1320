-- A bucket's event notification configuration (a document the events layer writes and reads),
-- NULL when it has none.
ALTER TABLE buckets ADD COLUMN notification TEXT;
