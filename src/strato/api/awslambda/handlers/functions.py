"""CreateFunction, GetFunction (and the zip its Code.Location serves), GetFunctionConfiguration,
ListFunctions, UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction.

Source: the Lambda API reference page of each operation.
"""

from __future__ import annotations

import base64
import binascii
import platform
import re
from typing import Any
from urllib.parse import quote

from strato.functions.definitions import Configuration
from strato.functions.packages import StoredCode
from strato.functions.records import DEFAULT_EPHEMERAL, DEFAULT_MEMORY, DEFAULT_TIMEOUT, LATEST
from strato.http.responses import Response

from .. import shapes, tagging
from ..call import Call
from ..errors import invalid_parameter, package_too_large, validation_error
from ..router import check_function_name
from .common import json_response, max_items, no_content, presigned_link, zip_download

_ARN = re.compile(r"(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()")
HOST_ARCHITECTURE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine().lower(), platform.machine())


def _unsupported(body: shapes.Body) -> None:
    """Refuse what strato cannot honour rather than drop it silently (a Terraform plan would
    also show it changing for ever)."""
    if body.text("PackageType") not in (None, "Zip"):
        raise invalid_parameter("PackageType Image is not supported by strato: deploy a .zip package")
    if body.data.get("FileSystemConfigs"):
        raise invalid_parameter("FileSystemConfigs are not supported by strato")
    vpc = body.mapping("VpcConfig") or {}
    if vpc.get("SubnetIds") or vpc.get("SecurityGroupIds"):
        raise invalid_parameter("VpcConfig is not supported by strato")
    if (body.mapping("SnapStart") or {}).get("ApplyOn", "None") != "None":
        raise invalid_parameter("SnapStart is not supported by strato (its environments start from a warm "
                                "interpreter anyway): ApplyOn must be None")


def _kept_settings(body: shapes.Body) -> dict[str, Any]:
    """TracingConfig, KMSKeyArn and DeadLetterConfig: kept and answered, not acted on (strato has
    no X-Ray, KMS, SQS or SNS); an empty ARN clears one."""
    changes: dict[str, Any] = {}
    tracing = body.mapping("TracingConfig")
    if tracing is not None:
        mode = tracing.get("Mode", "PassThrough")
        if mode not in ("Active", "PassThrough"):
            raise validation_error(mode, "tracingConfig.mode", "Member must satisfy enum value set: "
                                                               "[Active, PassThrough]")
        changes["tracing_mode"] = mode
    kms = body.text("KMSKeyArn")
    if kms is not None:
        changes["kms_key_arn"] = _arn(kms, "kMSKeyArn")
    dead_letter = body.mapping("DeadLetterConfig")
    if dead_letter is not None:
        target = dead_letter.get("TargetArn") or ""
        if not isinstance(target, str):
            raise invalid_parameter("DeadLetterConfig.TargetArn must be a string")
        changes["dead_letter_target"] = _arn(target, "deadLetterConfig.targetArn")
    return changes


def _arn(value: str, member: str) -> str | None:
    if value and not _ARN.fullmatch(value):
        raise validation_error(value, member, f"Member must satisfy regular expression pattern: {_ARN.pattern}")
    return value or None


def _architectures(body: shapes.Body) -> tuple[str, ...] | None:
    """Architectures: exactly one of Lambda's two (checked as Lambda's request validation words
    it), and the one this host runs."""
    given = body.strings("Architectures")
    if given is None:
        return None
    shown = f"[{', '.join(given)}]"
    if len(given) != 1:
        bound = "less than or equal to 1" if given else "greater than or equal to 1"
        raise validation_error(shown, "architectures", f"Member must have length {bound}")
    if given[0] not in ("x86_64", "arm64"):
        raise validation_error(shown, "architectures", "Member must satisfy constraint: [Member must satisfy enum "
                                                       "value set: [x86_64, arm64], Member must not be null]")
    if given[0] != HOST_ARCHITECTURE:
        raise invalid_parameter(f"Architectures {shown} cannot run on this host; it runs [{HOST_ARCHITECTURE}]")
    return tuple(given)


async def _changes(call: Call, body: shapes.Body, name: str) -> dict[str, Any]:
    """The Configuration fields a request sets for function `name`, each checked (the layers it
    names found)."""
    function_name = call.registry.split(name)[0]
    _unsupported(body)
    changes = _kept_settings(body)
    logging = shapes.logging_config(body, function_name)
    if logging is not None:
        changes["logging"] = logging
    runtime = body.text("Runtime")
    if runtime is not None:
        available = call.services.settings.runtimes
        if runtime not in available:
            # Lambda's wording, listing what may be created here: the runtimes this host runs.
            raise invalid_parameter(f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy "
                                    f"enum value set: [{', '.join(sorted(available))}] or be a valid ARN")
        changes["runtime"] = runtime
    handler = shapes.at_most(body.text("Handler"), 128, "handler")
    if handler is not None:
        if not handler or any(c.isspace() for c in handler):
            raise validation_error(handler, "handler", r"Member must satisfy regular expression pattern: [^\s]+")
        changes["handler"] = handler
    role = body.text("Role")
    if role is not None:
        changes["role"] = shapes.role(role)
    description = shapes.description(body)
    if description is not None:
        changes["description"] = description
    for field, label, low, high in (("timeout", "Timeout", 1, 900), ("memory_size", "MemorySize", 128, 10240)):
        value = body.integer(label, low, high)
        if value is not None:
            changes[field] = value
    variables = shapes.environment(body)
    if variables is not None:
        changes["environment"] = variables
    storage = shapes.ephemeral_storage(body)
    if storage is not None:
        changes["ephemeral_storage"] = storage
    layers = body.strings("Layers")
    if layers is not None:
        changes["layers"] = await call.registry.function_layers(layers)
    return changes


async def package(call: Call, code: dict[str, Any], kind: str = "function") -> StoredCode:
    """The zip a request supplies (ZipFile, or S3Bucket/S3Key of strato's own S3), stored: a
    function's code or a layer's content (`kind`)."""
    zip_file, bucket, key = code.get("ZipFile"), code.get("S3Bucket"), code.get("S3Key")
    if code.get("ImageUri"):
        raise invalid_parameter("Container images are not supported by strato: deploy a .zip package")
    if isinstance(zip_file, str) and zip_file:
        try:
            data = base64.b64decode(zip_file, validate=True)
        except (binascii.Error, ValueError):
            raise invalid_parameter("ZipFile is not valid base64") from None
    elif isinstance(bucket, str) and isinstance(key, str) and bucket and key:
        version = code.get("S3ObjectVersion")
        if version not in (None, "null"):  # strato's S3 keeps no versions: an object's only one is "null"
            raise invalid_parameter(f"Error occurred while GetObject. S3 Error Code: NoSuchVersion. S3 Error Message: "
                                    f"The specified version does not exist. (s3://{bucket}/{key}?versionId={version})")
        try:
            data = await call.services.fetch_s3_object(bucket, key)
        except LookupError:
            raise invalid_parameter(f"Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
                                    f"The specified key does not exist. (s3://{bucket}/{key})") from None
        except ValueError:
            raise package_too_large() from None
    else:
        raise invalid_parameter(f"Please provide a source for {kind} code: ZipFile, or S3Bucket and S3Key.")
    return await call.registry.packages.store(data)


async def create_function(call: Call) -> Response:
    body = call.body()
    name = check_function_name("CreateFunction", body.required("FunctionName"))
    changes = await _changes(call, body, name)
    tags = tagging.tags(body.mapping("Tags"))
    for field, label in (("role", "Role"), ("runtime", "Runtime"), ("handler", "Handler")):
        if field not in changes:
            raise invalid_parameter(f"{label} is required for a .zip deployment package")
    config = Configuration(**{
        "timeout": DEFAULT_TIMEOUT, "memory_size": DEFAULT_MEMORY, "ephemeral_storage": DEFAULT_EPHEMERAL,
        "architectures": _architectures(body) or (HOST_ARCHITECTURE,), **changes,
    })
    code = await package(call, body.mapping("Code") or {})
    record = await call.registry.create(name, config, code, publish=body.flag("Publish"), tags=tags)
    return json_response(shapes.function_configuration(call.registry, record), 201)


def code_location(call: Call, name: str, version: str) -> str:
    """A presigned URL, on the endpoint the caller used, that downloads the version's zip."""
    return presigned_link(call, f"/2015-03-31/functions/{quote(name)}/code", [("Qualifier", version)])


async def get_function(call: Call) -> Response:
    name, qualifier = call.target()
    record = await call.registry.get(name, qualifier)
    shape: dict[str, Any] = {
        "Configuration": shapes.function_configuration(call.registry, record, qualifier),
        "Code": {"RepositoryType": "S3", "Location": code_location(call, record.name, record.version)},
    }
    tags = await call.registry.tags(record.name)
    if tags:  # Lambda leaves Tags out for a function without any
        shape["Tags"] = tags
    if record.reserved_concurrency is not None:
        shape["Concurrency"] = {"ReservedConcurrentExecutions": record.reserved_concurrency}
    return json_response(shape)


async def get_function_code(call: Call) -> Response:
    """The zip behind a Code.Location URL, streamed from the package store."""
    record = await call.registry.get(call.endpoint.function_name, call.qualifier())
    return zip_download(call.registry.packages.zip_path(record.code.sha256_hex))


async def get_function_code_signing_config(call: Call) -> Response:
    """No function has a code signing configuration here (strato has no AWS Signer to check
    signatures with): the answer says so, as Lambda's does for a function without one. Terraform
    and CDK read it for every function."""
    record = await call.registry.get(call.endpoint.function_name)
    return json_response({"CodeSigningConfigArn": "", "FunctionName": record.name})


async def get_function_configuration(call: Call) -> Response:
    name, qualifier = call.target()
    record = await call.registry.get(name, qualifier)
    return json_response(shapes.function_configuration(call.registry, record, qualifier))


async def list_functions(call: Call) -> Response:
    query = call.request.query
    every = query.get("FunctionVersion")
    if every not in (None, "ALL"):
        raise validation_error(every, "functionVersion", "Member must satisfy enum value set: [ALL]")
    records, marker = await call.registry.list_functions(query.get("Marker"), max_items(call), every == "ALL")
    # Listing every version, each ARN names its version ($LATEST's too), as Lambda lists them.
    shapes_ = [shapes.function_configuration(call.registry, record, record.version if every else None, listed=True)
               for record in records]
    return json_response(shapes.page("Functions", shapes_, marker))


async def update_function_code(call: Call) -> Response:
    body = call.body()
    _architectures(body)
    if body.flag("DryRun"):
        record = await call.registry.get(call.endpoint.function_name, LATEST)
        return json_response(shapes.function_configuration(call.registry, record))
    code = await package(call, body.data)
    record = await call.registry.update_code(call.endpoint.function_name, code, publish=body.flag("Publish"),
                                             revision_id=body.text("RevisionId"))
    return json_response(shapes.function_configuration(call.registry, record))


async def update_function_configuration(call: Call) -> Response:
    body = call.body()
    changes = await _changes(call, body, call.endpoint.function_name)
    record = await call.registry.update_configuration(call.endpoint.function_name, changes,
                                                      revision_id=body.text("RevisionId"))
    return json_response(shapes.function_configuration(call.registry, record))


async def delete_function(call: Call) -> Response:
    name, qualifier = call.target()
    await call.registry.delete(name, qualifier)
    await call.services.invoker.retire(name, qualifier)
    return no_content()
