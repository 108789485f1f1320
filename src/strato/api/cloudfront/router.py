"""Pure routing of CloudFront API requests: (method, path, query) -> Endpoint, following the
request URIs of the 2020-05-31 API (https://docs.aws.amazon.com/cloudfront/latest/APIReference/)."""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "2020-05-31"


@dataclass(frozen=True, slots=True)
class Endpoint:
    operation: str  # "Unknown" when no supported operation matches
    distribution_id: str = ""
    invalidation_id: str = ""


_COLLECTION = {"GET": "ListDistributions", "POST": "CreateDistribution"}
_DISTRIBUTION = {"GET": "GetDistribution", "DELETE": "DeleteDistribution"}
_CONFIG = {"GET": "GetDistributionConfig", "PUT": "UpdateDistribution"}
_INVALIDATIONS = {"GET": "ListInvalidations", "POST": "CreateInvalidation"}
_UNKNOWN = Endpoint("Unknown")


def route(method: str, path: str, query: dict[str, str]) -> Endpoint:
    """The operation a request names; ids are taken as sent (the registry judges them)."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "" or parts[1] != VERSION or parts[2] != "distribution":
        return _UNKNOWN
    rest = parts[3:]
    if not rest or rest == [""]:
        operation = _COLLECTION.get(method)
        if operation == "CreateDistribution" and "WithTags" in query:
            operation = "CreateDistributionWithTags"
        return Endpoint(operation) if operation else _UNKNOWN
    distribution_id = rest[0]
    if not distribution_id:
        return _UNKNOWN
    if len(rest) == 1:
        operation = _DISTRIBUTION.get(method)
    elif len(rest) == 2 and rest[1] == "config":
        operation = _CONFIG.get(method)
    elif len(rest) == 2 and rest[1] == "invalidation":
        operation = _INVALIDATIONS.get(method)
    elif len(rest) == 3 and rest[1] == "invalidation" and rest[2] and method == "GET":
        return Endpoint("GetInvalidation", distribution_id, rest[2])
    else:
        operation = None
    return Endpoint(operation, distribution_id) if operation else _UNKNOWN
