-- Buckets, objects (small bodies inline in `bodies`), multipart uploads and their parts.
CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    created REAL NOT NULL,
    region TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE bodies (
    id INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);

CREATE TABLE objects (
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified REAL NOT NULL,
    storage_class TEXT NOT NULL,
    checksum_type TEXT,
    checksums TEXT NOT NULL,
    system TEXT NOT NULL,
    user TEXT NOT NULL,
    parts TEXT,
    segments TEXT,
    body_id INTEGER,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;

CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    initiated REAL NOT NULL,
    storage_class TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT,
    system TEXT NOT NULL,
    user TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX uploads_by_key ON uploads (bucket, key, upload_id);

CREATE TABLE parts (
    upload_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified REAL NOT NULL,
    blob TEXT NOT NULL,
    checksums TEXT NOT NULL,
    PRIMARY KEY (upload_id, number)
) WITHOUT ROWID;
