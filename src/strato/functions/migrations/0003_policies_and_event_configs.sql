-- A function's resource-based policies (AddPermission) and its asynchronous invocation
-- configurations (PutFunctionEventInvokeConfig), each kept per qualifier: '$LATEST' for the
-- unqualified function, else a version number or an alias name. They go with the function,
-- the version or the alias they belong to.
CREATE TABLE policies (
    name TEXT NOT NULL REFERENCES functions (name),
    qualifier TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    PRIMARY KEY (name, qualifier)
) WITHOUT ROWID;

-- One row per statement, in the order they were added (rowid).
CREATE TABLE policy_statements (
    name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    sid TEXT NOT NULL,
    statement TEXT NOT NULL,
    UNIQUE (name, qualifier, sid)
);

CREATE TABLE event_invoke_configs (
    name TEXT NOT NULL REFERENCES functions (name),
    qualifier TEXT NOT NULL,
    maximum_retry_attempts INTEGER,
    maximum_event_age INTEGER,
    on_success TEXT,
    on_failure TEXT,
    last_modified REAL NOT NULL,
    PRIMARY KEY (name, qualifier)
) WITHOUT ROWID;
