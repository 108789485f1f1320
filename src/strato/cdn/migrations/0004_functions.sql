-- CloudFront Functions: one row per function and stage (DEVELOPMENT, and LIVE once published),
-- each with its own ETag. A distribution associating a function refers to its ARN in
-- resource_refs, so that it cannot be deleted while in use.
CREATE TABLE functions (
    name TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage IN ('DEVELOPMENT', 'LIVE')),
    etag TEXT NOT NULL,
    created REAL NOT NULL,
    modified REAL NOT NULL,
    comment TEXT NOT NULL,
    runtime TEXT NOT NULL,
    code BLOB NOT NULL,
    PRIMARY KEY (name, stage)
);
