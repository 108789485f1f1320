-- A counter bumped by every change to a distribution, so that an edge can tell cheaply
-- whether the distributions it holds are still current.
CREATE TABLE generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO generation (id, value) VALUES (1, 0)
