"""The CDN edge: a caching reverse proxy (RFC 9111) in front of HTTP origins and local buckets."""
