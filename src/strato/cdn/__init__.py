"""The CDN control plane: distributions (origins, cache behaviours, aliases) and
invalidations, kept in their own SQLite file. No HTTP, XML or SigV4 here."""
