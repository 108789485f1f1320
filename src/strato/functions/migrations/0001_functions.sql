-- Functions, their versions (number 0 is $LATEST) and aliases.
CREATE TABLE functions (
    name TEXT PRIMARY KEY,
    reserved_concurrency INTEGER,
    last_published INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE versions (
    name TEXT NOT NULL REFERENCES functions (name),
    number INTEGER NOT NULL,
    runtime TEXT NOT NULL,
    handler TEXT NOT NULL,
    role TEXT NOT NULL,
    description TEXT NOT NULL,
    timeout INTEGER NOT NULL,
    memory_size INTEGER NOT NULL,
    ephemeral_storage INTEGER NOT NULL,
    environment TEXT NOT NULL,
    architectures TEXT NOT NULL,
    code_hex TEXT NOT NULL,
    code_sha256 TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    revision_id TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    PRIMARY KEY (name, number)
) WITHOUT ROWID;

CREATE TABLE aliases (
    name TEXT NOT NULL REFERENCES functions (name),
    alias TEXT NOT NULL,
    function_version TEXT NOT NULL,
    description TEXT NOT NULL,
    routing TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    PRIMARY KEY (name, alias)
) WITHOUT ROWID;
