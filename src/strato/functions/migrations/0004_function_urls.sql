-- A function's URLs (CreateFunctionUrlConfig): at most one per qualifier, '$LATEST' for the
-- unqualified function, else an alias name. `url_id` is the URL's host label, unique across
-- functions, and the Cors configuration is kept as its JSON. They go with the function or alias.
CREATE TABLE function_urls (
    name TEXT NOT NULL REFERENCES functions (name),
    qualifier TEXT NOT NULL,
    url_id TEXT NOT NULL UNIQUE,
    auth_type TEXT NOT NULL,
    cors TEXT,
    invoke_mode TEXT NOT NULL,
    creation_time REAL NOT NULL,
    last_modified REAL NOT NULL,
    PRIMARY KEY (name, qualifier)
) WITHOUT ROWID;
