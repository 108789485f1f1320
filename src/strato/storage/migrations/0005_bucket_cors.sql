-- A bucket's CORS configuration (a document the API layer writes and reads), NULL when it has none.
ALTER TABLE buckets ADD COLUMN cors TEXT;
