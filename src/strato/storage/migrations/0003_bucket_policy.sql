-- A bucket's policy document (JSON text, validated by the API layer), NULL when it has none.
ALTER TABLE buckets ADD COLUMN policy TEXT;
