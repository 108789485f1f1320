-- Event (asynchronous) invocations waiting to run: the durable queue behind a 202.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    function_name TEXT NOT NULL,
    version TEXT NOT NULL,
    invoked_arn TEXT NOT NULL,
    request_id TEXT NOT NULL,
    client_context TEXT,
    payload BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    next_at REAL NOT NULL
);
CREATE INDEX events_due ON events (next_at)
