-- A function's tags (TagResource, CreateFunction's Tags): they belong to the function, not to
-- a version, and go with it.
CREATE TABLE tags (
    name TEXT NOT NULL REFERENCES functions (name),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID;
