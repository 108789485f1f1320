-- CloudWatch Logs groups: made by CreateLogGroup (any name), or a function's own group given a
-- retention or tags. A deleted group's time is kept: its events before it are gone for good.
CREATE TABLE log_groups (
    name TEXT PRIMARY KEY,
    created INTEGER NOT NULL,  -- ms since the epoch
    retention_days INTEGER,
    log_class TEXT NOT NULL,
    kms_key_id TEXT,
    tags TEXT NOT NULL  -- a JSON object
) WITHOUT ROWID;

CREATE TABLE log_group_deletions (
    name TEXT PRIMARY KEY,
    deleted INTEGER NOT NULL  -- ms since the epoch
) WITHOUT ROWID;
