-- Layers (PublishLayerVersion): a layer's versions are numbered from 1 and a number is never
-- used twice, deleted versions included (`last_version`). Each version's package is kept in the
-- code store like a function's, and its permissions per version, in the order added.
CREATE TABLE layers (
    name TEXT PRIMARY KEY,
    last_version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE layer_versions (
    name TEXT NOT NULL REFERENCES layers (name),
    version INTEGER NOT NULL,
    description TEXT NOT NULL,
    created TEXT NOT NULL,
    compatible_runtimes TEXT NOT NULL,
    compatible_architectures TEXT NOT NULL,
    license_info TEXT,
    code_hex TEXT NOT NULL,
    code_sha256 TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    policy_revision TEXT,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;

CREATE TABLE layer_statements (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    sid TEXT NOT NULL,
    statement TEXT NOT NULL,
    UNIQUE (name, version, sid)
);

-- The layers a function version uses, in order: a JSON list of [layer version ARN, package
-- SHA-256 hex, zip size]. The package is named here so that a version keeps its layers when a
-- layer version it uses is deleted, as in Lambda.
ALTER TABLE versions ADD COLUMN layers TEXT NOT NULL DEFAULT '[]';
