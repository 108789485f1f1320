-- Distributions, their aliases (unique across distributions), invalidations, and one row
-- per invalidated path with a monotonically increasing sequence that edges follow.
CREATE TABLE distributions (
    id TEXT PRIMARY KEY,
    caller_reference TEXT NOT NULL UNIQUE,
    etag TEXT NOT NULL,
    last_modified REAL NOT NULL,
    config TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE aliases (
    alias TEXT PRIMARY KEY,
    distribution_id TEXT NOT NULL REFERENCES distributions(id) ON DELETE CASCADE
);
CREATE INDEX aliases_by_distribution ON aliases(distribution_id);
CREATE TABLE invalidations (
    id TEXT PRIMARY KEY,
    distribution_id TEXT NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
    caller_reference TEXT NOT NULL,
    create_time REAL NOT NULL,
    paths TEXT NOT NULL,
    UNIQUE (distribution_id, caller_reference)
);
CREATE INDEX invalidations_by_distribution ON invalidations(distribution_id);
CREATE TABLE invalidation_paths (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    distribution_id TEXT NOT NULL,
    path TEXT NOT NULL
);
-- Public keys, key groups and origin access controls, and which distribution or key group
-- refers to which of them (a referenced one cannot be deleted).
CREATE TABLE resources (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    etag TEXT NOT NULL,
    created REAL NOT NULL,
    modified REAL NOT NULL,
    config TEXT NOT NULL,
    UNIQUE (kind, name)
);
CREATE TABLE resource_refs (
    owner_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    PRIMARY KEY (owner_id, resource_id)
);
CREATE INDEX resource_refs_by_resource ON resource_refs(resource_id);
