-- The object changes of buckets with a notification configuration, each recorded in the
-- transaction that commits it, until the events layer has turned it into notifications.
-- AUTOINCREMENT: ids never come back, so they order a key's changes (S3's sequencer).
CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER,
    etag TEXT,
    time REAL NOT NULL,
    cause TEXT NOT NULL
);
