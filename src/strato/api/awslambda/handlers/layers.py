"""PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn, ListLayers, ListLayerVersions,
DeleteLayerVersion, and the layer versions' permissions (Lambda API reference pages of each).
Permissions are kept and answered, not enforced: every signed caller of strato is the
account's root. Content.Location is a presigned link to the version's zip, as Lambda's is.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from strato.functions.layers import LayerVersion
from strato.http.responses import Response

from .. import permissions, shapes
from ..call import Call
from ..errors import enum_value, invalid_parameter, validation_error
from .common import json_response, max_items, no_content, presigned_link, zip_download
from .functions import package

# Lambda's Runtime enum (botocore's service model): what CompatibleRuntimes may name, whether or
# not this host runs it (a layer may serve runtimes strato does not).
RUNTIMES = (
    "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x",
    "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x", "nodejs26.x", "java8", "java8.al2", "java11", "java17",
    "java21", "java25", "java8.al2023", "java11.al2023", "java17.al2023", "python2.7", "python3.6", "python3.7",
    "python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14", "python3.15",
    "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "dotnet8", "dotnet10",
    "nodejs4.3-edge", "go1.x", "ruby2.5", "ruby2.7", "ruby3.2", "ruby3.3", "ruby3.4", "ruby4.0", "provided",
    "provided.al2", "provided.al2023", "custom",
)
ARCHITECTURES = ("x86_64", "arm64")
MAX_RUNTIMES = 15
MAX_LICENSE = 512
# GetLayerVersionByArn's Arn (botocore's LayerVersionArn): what breaks it is a bad request, not a
# version that does not exist.
VERSION_ARN = (r"((arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:"
               r"[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+))")
_VERSION_ARN = re.compile(VERSION_ARN)


def _enum_list(body: shapes.Body, name: str, allowed: tuple[str, ...], high: int) -> tuple[str, ...]:
    """A list field of enum values, refused in Lambda's validation wording."""
    given = body.strings(name) or []
    member = f"{name[0].lower()}{name[1:]}"
    shown = f"[{', '.join(given)}]"
    if len(given) > high:
        raise validation_error(shown, member, f"Member must have length less than or equal to {high}")
    if any(value not in allowed for value in given):
        raise validation_error(shown, member, "Member must satisfy constraint: [Member must satisfy enum value set: "
                                              f"[{', '.join(allowed)}], Member must not be null]")
    return tuple(given)


def _filter(call: Call, name: str, allowed: tuple[str, ...]) -> str | None:
    """ListLayers' and ListLayerVersions' CompatibleRuntime / CompatibleArchitecture."""
    return enum_value(call.request.query.get(name), f"{name[0].lower()}{name[1:]}", allowed)


def _version(call: Call) -> tuple[str, int]:
    """The layer's name and version number the path names."""
    text = call.endpoint.layer_version
    if not (text.isascii() and text.isdigit()):
        raise invalid_parameter(f"Invalid layer version number: {text}")
    return call.registry.layer_name(call.endpoint.layer), int(text)


def _answer(call: Call, layer: LayerVersion, status: int = 200) -> Response:
    raw_path = f"/2018-10-31/layers/{quote(layer.name)}/versions/{layer.version}/content"
    return json_response(shapes.layer_version(call.registry, layer, presigned_link(call, raw_path, [])), status)


async def publish_layer_version(call: Call) -> Response:
    name = call.registry.layer_name(call.endpoint.layer)
    body = call.body()
    description = shapes.description(body) or ""
    license_info = shapes.at_most(body.text("LicenseInfo"), MAX_LICENSE, "licenseInfo")
    runtimes = _enum_list(body, "CompatibleRuntimes", RUNTIMES, MAX_RUNTIMES)
    architectures = _enum_list(body, "CompatibleArchitectures", ARCHITECTURES, len(ARCHITECTURES))
    content = body.mapping("Content")
    if content is None:
        raise validation_error(None, "content", "Member must not be null")
    code = await package(call, content, "layer")
    layer = await call.registry.publish_layer(name, description, runtimes, architectures, license_info, code)
    return _answer(call, layer, 201)


async def get_layer_version(call: Call) -> Response:
    return _answer(call, await call.registry.layer_version(*_version(call)))


async def get_layer_version_content(call: Call) -> Response:
    """The zip behind a Content.Location link, streamed from the package store."""
    layer = await call.registry.layer_version(*_version(call))
    return zip_download(call.registry.packages.zip_path(layer.code.sha256_hex))


async def list_layers(call: Call) -> Response:
    """ListLayers, or GetLayerVersionByArn: the same path with `find=LayerVersion`."""
    query = call.request.query
    if query.get("find") == "LayerVersion":
        arn = query.get("Arn")
        if not arn:
            raise validation_error(None, "arn", "Member must not be null")
        if not _VERSION_ARN.fullmatch(arn):
            raise validation_error(arn, "arn", f"Member must satisfy regular expression pattern: {VERSION_ARN}")
        return _answer(call, await call.registry.layer_version(*call.registry.split_version_arn(arn)))
    layers, marker = await call.registry.list_layers(
        _filter(call, "CompatibleRuntime", RUNTIMES), _filter(call, "CompatibleArchitecture", ARCHITECTURES),
        query.get("Marker"), max_items(call, high=50))
    items = [{"LayerName": layer.name, "LayerArn": call.registry.layer_arn(layer.name),
              "LatestMatchingVersion": shapes.layer_version(call.registry, layer)} for layer in layers]
    return json_response(shapes.page("Layers", items, marker))


async def list_layer_versions(call: Call) -> Response:
    versions, marker = await call.registry.list_layer_versions(
        call.registry.layer_name(call.endpoint.layer), _filter(call, "CompatibleRuntime", RUNTIMES),
        _filter(call, "CompatibleArchitecture", ARCHITECTURES), call.request.query.get("Marker"),
        max_items(call, high=50))
    return json_response(shapes.page("LayerVersions", [shapes.layer_version(call.registry, v) for v in versions],
                                     marker))


async def delete_layer_version(call: Call) -> Response:
    await call.registry.delete_layer_version(*_version(call))
    return no_content()


async def add_layer_version_permission(call: Call) -> Response:
    name, version = _version(call)
    statement = permissions.layer_statement(call.registry.layer_arn(name, version), call.body().data)
    revision = await call.registry.add_layer_statement(name, version, statement,
                                                       call.request.query.get("RevisionId"))
    return json_response({"Statement": json.dumps(statement, separators=(",", ":")), "RevisionId": revision}, 201)


async def remove_layer_version_permission(call: Call) -> Response:
    name, version = _version(call)
    sid = permissions.check(call.endpoint.statement_id, "statementId", permissions.STATEMENT_ID, 1, 100)
    await call.registry.remove_layer_statement(name, version, str(sid), call.request.query.get("RevisionId"))
    return no_content()


async def get_layer_version_policy(call: Call) -> Response:
    policy = await call.registry.layer_policy(*_version(call))
    return json_response({"Policy": policy.document(), "RevisionId": policy.revision_id})
