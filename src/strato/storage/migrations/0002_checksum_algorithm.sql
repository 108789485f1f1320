-- Listings name each object's checksum algorithm: keep it in a column so that a listing page
-- never decodes the checksums JSON of every row.
ALTER TABLE objects ADD COLUMN checksum_algorithm TEXT;
UPDATE objects SET checksum_algorithm = (SELECT key FROM json_each(objects.checksums) LIMIT 1);
