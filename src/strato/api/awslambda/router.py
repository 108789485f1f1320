"""Routing, pure: (method, path) -> the Lambda operation and its path parameters.

Source: the `http.requestUri` of each operation in botocore's Lambda service model
(2015-03-31, with its later-dated tagging, concurrency, account-settings, layer and function URL
paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from .errors import LambdaError, validation_error


@dataclass(frozen=True, slots=True)
class Endpoint:
    operation: str
    function_name: str = ""
    alias: str = ""
    resource: str = ""  # the ARN a tagging operation names
    statement_id: str = ""  # RemovePermission's, RemoveLayerVersionPermission's
    layer: str = ""  # a layer's name or ARN, as the path gives it
    layer_version: str = ""  # its version number, as the path gives it (checked by the handler)


# (version prefix, sub-resource after the function name, method) -> operation
_FUNCTION_ROUTES: dict[tuple[str, str, str], str] = {
    ("2015-03-31", "", "GET"): "GetFunction",
    ("2015-03-31", "", "DELETE"): "DeleteFunction",
    ("2015-03-31", "configuration", "GET"): "GetFunctionConfiguration",
    ("2015-03-31", "configuration", "PUT"): "UpdateFunctionConfiguration",
    ("2015-03-31", "code", "PUT"): "UpdateFunctionCode",
    ("2015-03-31", "code", "GET"): "GetFunctionCode",  # strato's presigned Code.Location
    ("_strato", "logs", "GET"): "GetFunctionLogs",  # strato's own: a function's log, SigV4-signed
    ("2015-03-31", "versions", "POST"): "PublishVersion",
    ("2015-03-31", "versions", "GET"): "ListVersionsByFunction",
    ("2015-03-31", "aliases", "POST"): "CreateAlias",
    ("2015-03-31", "aliases", "GET"): "ListAliases",
    ("2015-03-31", "invocations", "POST"): "Invoke",
    ("2021-11-15", "response-streaming-invocations", "POST"): "InvokeWithResponseStream",
    ("2015-03-31", "policy", "POST"): "AddPermission",
    ("2015-03-31", "policy", "GET"): "GetPolicy",
    ("2020-06-30", "code-signing-config", "GET"): "GetFunctionCodeSigningConfig",
    ("2021-07-20", "runtime-management-config", "GET"): "GetRuntimeManagementConfig",
    ("2021-07-20", "runtime-management-config", "PUT"): "PutRuntimeManagementConfig",
    ("2024-08-31", "recursion-config", "GET"): "GetFunctionRecursionConfig",
    ("2024-08-31", "recursion-config", "PUT"): "PutFunctionRecursionConfig",
    ("2017-10-31", "concurrency", "PUT"): "PutFunctionConcurrency",
    ("2017-10-31", "concurrency", "DELETE"): "DeleteFunctionConcurrency",
    ("2019-09-30", "concurrency", "GET"): "GetFunctionConcurrency",
    # ListProvisionedConcurrencyConfigs is the GET with `List=ALL`, told apart by its handler
    ("2019-09-30", "provisioned-concurrency", "PUT"): "PutProvisionedConcurrencyConfig",
    ("2019-09-30", "provisioned-concurrency", "GET"): "GetProvisionedConcurrencyConfig",
    ("2019-09-30", "provisioned-concurrency", "DELETE"): "DeleteProvisionedConcurrencyConfig",
    ("2019-09-25", "event-invoke-config", "PUT"): "PutFunctionEventInvokeConfig",
    ("2019-09-25", "event-invoke-config", "POST"): "UpdateFunctionEventInvokeConfig",
    ("2019-09-25", "event-invoke-config", "GET"): "GetFunctionEventInvokeConfig",
    ("2019-09-25", "event-invoke-config", "DELETE"): "DeleteFunctionEventInvokeConfig",
    ("2021-10-31", "url", "POST"): "CreateFunctionUrlConfig",
    ("2021-10-31", "url", "GET"): "GetFunctionUrlConfig",
    ("2021-10-31", "url", "PUT"): "UpdateFunctionUrlConfig",
    ("2021-10-31", "url", "DELETE"): "DeleteFunctionUrlConfig",
    ("2021-10-31", "urls", "GET"): "ListFunctionUrlConfigs",
}
_ALIAS_ROUTES = {"GET": "GetAlias", "PUT": "UpdateAlias", "DELETE": "DeleteAlias"}
# (what follows /2018-10-31/layers/NAME/versions[/N], method) -> operation. ListLayers' path with
# `?find=LayerVersion` is GetLayerVersionByArn, told apart by its handler (the route has no query).
_LAYER_ROUTES: dict[tuple[str, str], str] = {
    ("", "POST"): "PublishLayerVersion",
    ("", "GET"): "ListLayerVersions",
    ("N", "GET"): "GetLayerVersion",
    ("N", "DELETE"): "DeleteLayerVersion",
    ("N/content", "GET"): "GetLayerVersionContent",  # strato's presigned Content.Location
    ("N/policy", "POST"): "AddLayerVersionPermission",
    ("N/policy", "GET"): "GetLayerVersionPolicy",
    ("N/policy/S", "DELETE"): "RemoveLayerVersionPermission",
}
_TAG_ROUTES = {"GET": "ListTags", "POST": "TagResource", "DELETE": "UntagResource"}
# The operations whose FunctionName is botocore's NamespacedFunctionName: a name or ARN of up to
# 256 characters (functions.arns.MAX_NAME_TEXT), room for a long name's ARN with a long alias.
# Every other operation's (FunctionName, FunctionUrlFunctionName, UnqualifiedFunctionName
# shapes) is MAX_FUNCTION_NAME at most.
_NAMESPACED = frozenset({
    "AddPermission", "DeleteFunction", "GetFunction", "GetFunctionCode", "GetFunctionCodeSigningConfig",
    "GetFunctionConfiguration", "GetPolicy", "GetRuntimeManagementConfig", "PutRuntimeManagementConfig", "Invoke",
    "InvokeWithResponseStream", "ListVersionsByFunction", "RemovePermission", "PutFunctionEventInvokeConfig",
    "UpdateFunctionEventInvokeConfig", "GetFunctionEventInvokeConfig", "DeleteFunctionEventInvokeConfig",
    "ListFunctionEventInvokeConfigs", "GetFunctionLogs",
})
MAX_FUNCTION_NAME = 140


def check_function_name(operation: str, name: str) -> str:
    """A FunctionName within its operation's shape's length (CreateFunction's is in its body)."""
    if operation not in _NAMESPACED and len(name) > MAX_FUNCTION_NAME:
        raise validation_error(name, "functionName", f"Member must have length less than or equal to "
                                                     f"{MAX_FUNCTION_NAME}")
    return name


@lru_cache(maxsize=1024)  # a warm function's path comes again and again
def route(method: str, raw_path: str) -> Endpoint:
    """The operation a request names. `raw_path` is the path as sent (percent-encoded): a
    function ARN's colons arrive as %3A inside one segment."""
    parts = raw_path.rstrip("/").split("/")[1:] if raw_path != "/" else []
    segments = [unquote(part) for part in parts]
    if segments == ["2016-08-19", "account-settings"] and method == "GET":
        return Endpoint("GetAccountSettings")
    if len(segments) == 3 and segments[:2] == ["2017-03-31", "tags"] and segments[2] and method in _TAG_ROUTES:
        return Endpoint(_TAG_ROUTES[method], resource=segments[2])
    if segments[:2] == ["2018-10-31", "layers"]:
        layer = _layer_endpoint(method, segments[2:])
        if layer is not None:
            return layer
    if len(segments) >= 2 and segments[1] == "functions":
        version = segments[0]
        if len(segments) == 2 and version == "2015-03-31":
            if method == "POST":
                return Endpoint("CreateFunction")
            if method == "GET":
                return Endpoint("ListFunctions")
        elif len(segments) in (3, 4):
            sub = segments[3] if len(segments) == 4 else ""
            operation = _FUNCTION_ROUTES.get((version, sub, method))
            if operation is not None and segments[2]:
                return Endpoint(operation, check_function_name(operation, segments[2]))
        elif len(segments) == 5 and version == "2015-03-31" and segments[3] == "aliases" and method in _ALIAS_ROUTES:
            return Endpoint(_ALIAS_ROUTES[method], check_function_name("GetAlias", segments[2]), segments[4])
        elif len(segments) == 5 and version == "2015-03-31" and segments[3] == "policy" and method == "DELETE":
            return Endpoint("RemovePermission", segments[2], statement_id=segments[4])
        elif len(segments) == 5 and version == "2019-09-25" and segments[3:] == ["event-invoke-config", "list"] and \
                method == "GET":
            return Endpoint("ListFunctionEventInvokeConfigs", segments[2])
    raise LambdaError("UnknownOperationException", f"{method} {raw_path} is not a Lambda operation strato implements.",
                      404)


def _layer_endpoint(method: str, rest: list[str]) -> Endpoint | None:
    """The layer operation of a path under /2018-10-31/layers (`rest`: the segments after it)."""
    if not rest:
        return Endpoint("ListLayers") if method == "GET" else None
    extra = rest[2:]  # the version, a sub-resource, a statement id
    if len(rest) < 2 or rest[1] != "versions" or not all(rest) or len(extra) > 3:
        return None
    shape = "/".join(["N", *extra[1:2], "S"][:len(extra)])
    operation = _LAYER_ROUTES.get((shape, method))
    if operation is None:
        return None
    return Endpoint(operation, layer=rest[0], layer_version=rest[2] if len(rest) > 2 else "",
                    statement_id=rest[4] if len(rest) > 4 else "")


def is_invoke(method: bytes, raw_path: bytes) -> bool:
    """An Invoke request by its line alone (its payload and result are at most 6 MB by contract)."""
    return method == b"POST" and raw_path.startswith(b"/2015-03-31/functions/") and \
        raw_path.endswith(b"/invocations") and raw_path.count(b"/") == 4
