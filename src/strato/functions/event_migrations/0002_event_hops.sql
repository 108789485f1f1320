-- How many destinations a queued event is down a chain of them: 0 for an invoke, one more for
-- each destination function's invocation queued from a finished event (a loop stops at a bound).
ALTER TABLE events ADD COLUMN hops INTEGER NOT NULL DEFAULT 0
