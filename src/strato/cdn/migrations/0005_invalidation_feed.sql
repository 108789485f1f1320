-- The invalidation feed's identity, made once with the database: an edge that remembers the last
-- sequence number it applied tells by it that the server's database was made again (its numbers
-- start over) and applies the new feed from its start.
CREATE TABLE invalidation_feed (id TEXT NOT NULL);
INSERT INTO invalidation_feed VALUES (lower(hex(randomblob(8))));
