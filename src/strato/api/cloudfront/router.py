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
    resource: str = ""  # a RESOURCES or POLICIES key: the path to the resource's collection
    resource_id: str = ""


_UNKNOWN = Endpoint("Unknown")
_COLLECTION = {"GET": "ListDistributions", "POST": "CreateDistribution"}
_DISTRIBUTION = {"GET": "GetDistribution", "DELETE": "DeleteDistribution"}
_CONFIG = {"GET": "GetDistributionConfig", "PUT": "UpdateDistribution"}
_INVALIDATIONS = {"GET": "ListInvalidations", "POST": "CreateInvalidation"}
# Resource collection path -> operation name stem; key groups update at /{Id}, the others at /{Id}/config.
RESOURCES = {"public-key": "PublicKey", "key-group": "KeyGroup", "origin-access-control": "OriginAccessControl",
             "origin-access-identity/cloudfront": "CloudFrontOriginAccessIdentity"}
# Policy path segment -> operation name stem; each updates and deletes at /{Id}, reads its config at /{Id}/config.
POLICIES = {"cache-policy": "CachePolicy", "origin-request-policy": "OriginRequestPolicy",
            "response-headers-policy": "ResponseHeadersPolicy"}


def route(method: str, path: str, query: dict[str, str]) -> Endpoint:
    """The operation a request names; ids are taken as sent (the registry judges them)."""
    parts = path.split("/")
    if parts == ["", "_strato", "cdn", "invalidations"] and method == "GET":
        return Endpoint("FollowInvalidations")  # strato's own: what edges elsewhere must purge
    if len(parts) < 3 or parts[0] != "" or parts[1] != VERSION:
        return _UNKNOWN
    rest = parts[3:] if parts[3:] != [""] else []
    if parts[2] == "distribution":
        return _distribution(method, rest, query)
    if parts[2] in RESOURCES:
        return _resource(method, parts[2], rest)
    if parts[2] == "origin-access-identity" and rest[:1] == ["cloudfront"]:
        return _resource(method, "origin-access-identity/cloudfront", rest[1:] if rest[1:] != [""] else [])
    if parts[2] in POLICIES:
        return _policy(method, parts[2], rest)
    if parts[2] == "function":
        return _function(method, rest)
    if parts[2] == "tagging" and not rest:
        return _tagging(method, query)
    return _UNKNOWN


_FUNCTIONS = {"GET": "ListFunctions", "POST": "CreateFunction"}
_FUNCTION = {"GET": "GetFunction", "PUT": "UpdateFunction", "DELETE": "DeleteFunction"}
_FUNCTION_ACTIONS = {("GET", "describe"): "DescribeFunction", ("POST", "publish"): "PublishFunction",
                     ("POST", "test"): "TestFunction"}


def _function(method: str, rest: list[str]) -> Endpoint:
    """API_CreateFunction, ListFunctions, GetFunction, UpdateFunction, DeleteFunction at
    /function[/{Name}]; DescribeFunction, PublishFunction and TestFunction at /function/{Name}/{action}."""
    if not rest:
        operation = _FUNCTIONS.get(method)
        return Endpoint(operation, resource="function") if operation else _UNKNOWN
    name = rest[0]
    if not name or len(rest) > 2:
        return _UNKNOWN
    operation = _FUNCTION.get(method) if len(rest) == 1 else _FUNCTION_ACTIONS.get((method, rest[1]))
    return Endpoint(operation, resource="function", resource_id=name) if operation else _UNKNOWN


def _tagging(method: str, query: dict[str, str]) -> Endpoint:
    """The distribution ARN to tag is in the query string (`Resource`); POST says `Operation`."""
    operation = query.get("Operation")
    if method == "GET" and operation is None:
        return Endpoint("ListTagsForResource", resource_id=query.get("Resource", ""))
    if method == "POST" and operation in ("Tag", "Untag"):
        return Endpoint(f"{operation}Resource", resource_id=query.get("Resource", ""))
    return _UNKNOWN


def _distribution(method: str, rest: list[str], query: dict[str, str]) -> Endpoint:
    if not rest:
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


def list_operation(stem: str) -> str:
    """ListPublicKeys, ListCachePolicies, ListCloudFrontOriginAccessIdentities: English plurals."""
    return f"List{stem[:-1]}ies" if stem.endswith("y") and stem[-2] not in "aeiou" else f"List{stem}s"


def _resource(method: str, resource: str, rest: list[str]) -> Endpoint:
    stem = RESOURCES[resource]
    if not rest:
        operation = {"GET": list_operation(stem), "POST": f"Create{stem}"}.get(method)
        return Endpoint(operation, resource=resource) if operation else _UNKNOWN
    resource_id = rest[0]
    updated_at = "" if resource == "key-group" else "config"
    if not resource_id or len(rest) > 2 or (len(rest) == 2 and rest[1] != "config"):
        return _UNKNOWN
    suffix = rest[1] if len(rest) == 2 else ""
    if method == "GET":
        operation = f"Get{stem}Config" if suffix else f"Get{stem}"
    elif method == "DELETE" and not suffix:
        operation = f"Delete{stem}"
    elif method == "PUT" and suffix == updated_at:
        operation = f"Update{stem}"
    else:
        return _UNKNOWN
    return Endpoint(operation, resource=resource, resource_id=resource_id)


def _policy(method: str, kind: str, rest: list[str]) -> Endpoint:
    """API_ListCachePolicies, API_GetCachePolicy, API_GetCachePolicyConfig, Create, Update and
    Delete, and the same for origin request and response headers policies."""
    stem = POLICIES[kind]
    if not rest:
        operation = {"GET": list_operation(stem), "POST": f"Create{stem}"}.get(method)
        return Endpoint(operation, resource=kind) if operation else _UNKNOWN
    policy_id = rest[0]
    if not policy_id or len(rest) > 2 or (len(rest) == 2 and rest[1] != "config"):
        return _UNKNOWN
    if len(rest) == 2:
        operation = f"Get{stem}Config" if method == "GET" else None
    else:
        operation = {"GET": f"Get{stem}", "PUT": f"Update{stem}", "DELETE": f"Delete{stem}"}.get(method)
    return Endpoint(operation, resource=kind, resource_id=policy_id) if operation else _UNKNOWN
