-- Provisioned concurrency configurations (PutProvisionedConcurrencyConfig): at most one per
-- published version or alias. `requested` is what the caller asked for, `allocated`, `status`
-- and `status_reason` are what the functions controller reports as it starts the environments
-- (`generation` names the request a report is about, so a late report of an older one is
-- dropped). They go with the function, version or alias.
CREATE TABLE provisioned_concurrency (
    name TEXT NOT NULL REFERENCES functions (name),
    qualifier TEXT NOT NULL,
    requested INTEGER NOT NULL,
    allocated INTEGER NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    last_modified TEXT NOT NULL,
    generation TEXT NOT NULL,
    PRIMARY KEY (name, qualifier)
) WITHOUT ROWID;
