-- Tags (a JSON object, in the order given), NULL when there are none: an object's tags, the
-- tags an upload gives its object at completion, and a bucket's tags.
ALTER TABLE objects ADD COLUMN tags TEXT;
ALTER TABLE uploads ADD COLUMN tags TEXT;
ALTER TABLE buckets ADD COLUMN tags TEXT;
