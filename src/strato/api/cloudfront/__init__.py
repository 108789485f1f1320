"""The CloudFront API (REST-XML, version 2020-05-31): distributions, invalidations, signing
resources and the managed policies."""
