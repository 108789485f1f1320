"""The CloudFront API (REST-XML, version 2020-05-31): distributions and invalidations."""
