-- PutRuntimeManagementConfig, per version ($LATEST or a published number), and
-- PutFunctionRecursionConfig, per function: kept and answered. strato runs one version of each
-- runtime, so no update mode changes what runs, and it has no recursive loop detection.
CREATE TABLE runtime_management (
    name TEXT NOT NULL REFERENCES functions (name),
    qualifier TEXT NOT NULL,
    update_runtime_on TEXT NOT NULL,
    runtime_version_arn TEXT,
    PRIMARY KEY (name, qualifier)
) WITHOUT ROWID;

ALTER TABLE functions ADD COLUMN recursive_loop TEXT NOT NULL DEFAULT 'Terminate';
