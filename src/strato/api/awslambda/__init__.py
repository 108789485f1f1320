"""The Lambda REST API (2015-03-31): routing, JSON shapes and errors; no processes or files."""
