"""The Lambda JSON shapes, in one place: reading request bodies field by field with their
types and bounds, and writing FunctionConfiguration, AliasConfiguration and the lists.

Source: the Lambda API reference's data types (FunctionConfiguration, AliasConfiguration,
Environment, EphemeralStorage, AliasRoutingConfiguration) and botocore's service model.
"""

from __future__ import annotations

import json
import re
from typing import Any

from strato import jsontext
from strato.functions.definitions import Alias, FunctionRecord
from strato.functions.layers import LayerVersion
from strato.functions.records import (
    APPLICATION_LOG_LEVELS,
    LOG_FORMATS,
    OWN_LOG_GROUP,
    SYSTEM_LOG_LEVELS,
    LoggingConfig,
)
from strato.functions.registry import Registry
from strato.functions.runtimes import runtime_version_arn

from .errors import enum_value, invalid_content, invalid_parameter, validation_error

_ROLE = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
_ENV_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")
_LOG_GROUP = re.compile(r"[\.\-_/#A-Za-z0-9]+")
_TEXT_WITH_LEVELS = ('LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request or '
                     'change the LogFormat to "JSON" and try again.')
MAX_ENVIRONMENT = 4096
MAX_DESCRIPTION = 256
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})


class Body:
    """A JSON request body read field by field, each with its type checked."""

    def __init__(self, data: dict[str, Any]) -> None:
        """`data`: the body's object, or an object within it read the same way (Cors)."""
        self.data = data

    @classmethod
    def parse(cls, raw: bytes) -> Body:
        try:
            data = jsontext.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise invalid_content("Could not parse request body into json") from None
        if not isinstance(data, dict):
            raise invalid_content("The request body must be a JSON object")
        return cls(data)

    def __contains__(self, name: str) -> bool:
        return self.data.get(name) is not None

    def _typed(self, name: str, kind: type | tuple[type, ...], label: str) -> Any:
        value = self.data.get(name)
        if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int)):
            raise invalid_content(f"{name} must be {label}")
        return value

    def text(self, name: str) -> str | None:
        value: str | None = self._typed(name, str, "a string")
        return value

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise invalid_parameter(f"{name} is required")
        return value

    def integer(self, name: str, low: int, high: int, prefix: str = "") -> int | None:
        """`prefix`: where a nested object's member is, as validation names it (`cors.`)."""
        value: int | None = self._typed(name, int, "an integer")
        return within(value, low, high, f"{prefix}{name[0].lower()}{name[1:]}")

    def flag(self, name: str) -> bool:
        return bool(self._typed(name, bool, "a boolean"))

    def mapping(self, name: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._typed(name, dict, "an object")
        return value

    def strings(self, name: str) -> list[str] | None:
        value: list[Any] | None = self._typed(name, list, "a list")
        if value is not None and not all(isinstance(item, str) for item in value):
            raise invalid_content(f"{name} must be a list of strings")
        return value


def within(value: int | None, low: int, high: int, member: str) -> int | None:
    """An integer within [low, high] (or None), refused in Lambda's validation wording."""
    if value is not None and not low <= value <= high:
        bound = f"greater than or equal to {low}" if value < low else f"less than or equal to {high}"
        raise validation_error(value, member, f"Member must have value {bound}")
    return value


def at_most(value: str | None, high: int, member: str) -> str | None:
    """A string of at most `high` characters (or None), refused in Lambda's validation wording."""
    if value is not None and len(value) > high:
        raise validation_error(value, member, f"Member must have length less than or equal to {high}")
    return value


def description(body: Body) -> str | None:
    """A body's Description, within Lambda's length for every resource that has one."""
    return at_most(body.text("Description"), MAX_DESCRIPTION, "description")


def role(value: str) -> str:
    if not _ROLE.fullmatch(value):
        raise validation_error(value, "role", "Member must satisfy regular expression pattern: "
                               r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
    return value


def environment(body: Body) -> dict[str, str] | None:
    """Environment.Variables: names as Lambda allows, none reserved, 4 KB in all (measured, as
    Lambda measures and quotes it, as compact JSON)."""
    given = body.mapping("Environment")
    if given is None:
        return None
    variables = given.get("Variables") or {}
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise invalid_content("Environment.Variables must map names to strings")
    for name in variables:
        if not _ENV_KEY.fullmatch(name):
            raise invalid_parameter(f"Environment variable name {name!r} is invalid: names start with a letter "
                                    "and hold letters, digits and underscores")
    reserved = sorted(RESERVED_VARIABLES.intersection(variables))
    if reserved:
        raise invalid_parameter("Lambda was unable to configure your environment variables because the environment "
                                "variables you have provided contains reserved keys that are currently not supported "
                                f"for modification. Reserved keys used in this request: {','.join(reserved)}")
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > MAX_ENVIRONMENT:
        raise invalid_parameter("Lambda was unable to configure your environment variables because the environment "
                                f"variables you have provided exceeded the 4KB limit. String measured: {measured}")
    return dict(variables)


def ephemeral_storage(body: Body) -> int | None:
    """EphemeralStorage.Size: MB of /tmp, 512..10240."""
    given = body.mapping("EphemeralStorage")
    if given is None:
        return None
    size = given.get("Size")
    if size is None:
        raise validation_error(None, "ephemeralStorage.size", "Member must not be null")
    if not isinstance(size, int) or isinstance(size, bool):
        raise invalid_content("EphemeralStorage.Size must be an integer")
    return within(size, 512, 10240, "ephemeralStorage.size")


def logging_config(body: Body, function_name: str) -> LoggingConfig | None:
    """LoggingConfig: one given replaces the function's whole, with Lambda's defaults for what
    it leaves out (Text; with JSON, INFO for both levels; the function's own group). Levels
    need JSON, refused in Lambda's words.
    https://docs.aws.amazon.com/lambda/latest/api/API_LoggingConfig.html"""
    given = body.mapping("LoggingConfig")
    if given is None:
        return None
    fields = Body(given)
    log_format = enum_value(fields.text("LogFormat"), "loggingConfig.logFormat", LOG_FORMATS) or "Text"
    application = enum_value(fields.text("ApplicationLogLevel"), "loggingConfig.applicationLogLevel",
                             APPLICATION_LOG_LEVELS)
    system = enum_value(fields.text("SystemLogLevel"), "loggingConfig.systemLogLevel", SYSTEM_LOG_LEVELS)
    group = at_most(fields.text("LogGroup"), 512, "loggingConfig.logGroup")
    if group == "":
        raise validation_error(group, "loggingConfig.logGroup", "Member must have length greater than or equal to 1")
    if group is not None and not _LOG_GROUP.fullmatch(group):
        raise validation_error(group, "loggingConfig.logGroup",
                               f"Member must satisfy regular expression pattern: {_LOG_GROUP.pattern}")
    group = None if group == OWN_LOG_GROUP + function_name else group
    if log_format == "Text":
        if application is not None or system is not None:
            raise invalid_parameter(_TEXT_WITH_LEVELS)
        return LoggingConfig(log_group=group)
    return LoggingConfig(log_format, application or "INFO", system or "INFO", group)


def logging_shape(function_name: str, logging: LoggingConfig) -> dict[str, str]:
    """LoggingConfig as Lambda answers it: the levels only with JSON, the group always."""
    shape = {"LogFormat": logging.log_format}
    if logging.application_log_level is not None:
        shape["ApplicationLogLevel"] = logging.application_log_level
    if logging.system_log_level is not None:
        shape["SystemLogLevel"] = logging.system_log_level
    shape["LogGroup"] = logging.group_of(function_name)
    return shape


_WEIGHTS_MEMBER = "routingConfig.additionalVersionWeights"
_WEIGHT_KEYS = ("Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must "
                "have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+, "
                "Member must not be null]")
_WEIGHT_VALUES = ("Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must "
                  "have value greater than or equal to 0.0, Member must not be null]")


def weights(body: Body) -> dict[str, float] | None:
    """RoutingConfig.AdditionalVersionWeights: at most one published version number, weighted
    0..1, checked (and worded) as Lambda's request validation does before anything is looked up."""
    given = body.mapping("RoutingConfig")
    if given is None:
        return None
    found = given.get("AdditionalVersionWeights") or {}
    if not isinstance(found, dict) or not all(
        isinstance(w, int | float) and not isinstance(w, bool) for w in found.values()
    ):
        raise invalid_content("AdditionalVersionWeights must map versions to numbers")
    parsed = {str(version): float(weight) for version, weight in found.items()}
    shown = "{" + ", ".join(f"{version}={weight}" for version, weight in parsed.items()) + "}"
    if not all(re.fullmatch(r"[0-9]{1,1024}", version) for version in parsed):
        raise validation_error(shown, _WEIGHTS_MEMBER, _WEIGHT_KEYS)
    if not all(0.0 <= weight <= 1.0 for weight in parsed.values()):
        raise validation_error(shown, _WEIGHTS_MEMBER, _WEIGHT_VALUES)
    if len(parsed) > 1:
        raise invalid_parameter("Number of items in AdditionalVersionWeights cannot be greater than 1")
    return parsed


def function_configuration(registry: Registry, record: FunctionRecord, qualifier: str | None = None, *,
                           listed: bool = False) -> dict[str, Any]:
    """FunctionConfiguration: every field boto3's waiters and callers read. The ARN carries the
    qualifier the caller named (an alias, `$LATEST`), else a published version's number.
    `Environment` only when the function has variables, `Layers` only when it has layers, as
    Lambda answers; entries of a list (`listed`) leave out State, LastUpdateStatus and
    RuntimeVersionConfig, as Lambda's ListFunctions and ListVersionsByFunction do."""
    config = record.config
    qualifier = qualifier or (record.version if record.version != "$LATEST" else None)
    shape: dict[str, Any] = {
        "FunctionName": record.name,
        "FunctionArn": registry.arn(record.name, qualifier),
        "Runtime": config.runtime,
        "Role": config.role,
        "Handler": config.handler,
        "CodeSize": record.code.size,
        "Description": config.description,
        "Timeout": config.timeout,
        "MemorySize": config.memory_size,
        "LastModified": record.last_modified,
        "CodeSha256": record.code.code_sha256,
        "Version": record.version,
        "TracingConfig": {"Mode": config.tracing_mode},
        "RevisionId": record.revision_id,
        "PackageType": "Zip",
        "Architectures": list(config.architectures),
        "EphemeralStorage": {"Size": config.ephemeral_storage},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": logging_shape(record.name, config.logging),
    }
    if config.environment:
        shape["Environment"] = {"Variables": dict(config.environment)}
    if config.layers:
        shape["Layers"] = [{"Arn": layer.arn, "CodeSize": layer.code_size} for layer in config.layers]
    if config.kms_key_arn is not None:
        shape["KMSKeyArn"] = config.kms_key_arn
    if config.dead_letter_target is not None:
        shape["DeadLetterConfig"] = {"TargetArn": config.dead_letter_target}
    if not listed:
        shape["State"] = "Active"
        shape["LastUpdateStatus"] = "Successful"
        shape["RuntimeVersionConfig"] = {"RuntimeVersionArn": runtime_version_arn(registry.region, config.runtime)}
    return shape


def layer_version(registry: Registry, layer: LayerVersion, content_location: str | None = None) -> dict[str, Any]:
    """A layer version as PublishLayerVersion and GetLayerVersion answer it (with its Content,
    given where it downloads from), or as the lists give it (without). Lists of compatible
    runtimes and architectures and the license only when the version has them."""
    shape: dict[str, Any] = {}
    if content_location is not None:
        shape["Content"] = {"Location": content_location, "CodeSha256": layer.code.code_sha256,
                            "CodeSize": layer.code.size}
        shape["LayerArn"] = registry.layer_arn(layer.name)
    shape.update({"LayerVersionArn": registry.layer_arn(layer.name, layer.version),
                  "Description": layer.description, "CreatedDate": layer.created, "Version": layer.version})
    if layer.compatible_runtimes:
        shape["CompatibleRuntimes"] = list(layer.compatible_runtimes)
    if layer.compatible_architectures:
        shape["CompatibleArchitectures"] = list(layer.compatible_architectures)
    if layer.license_info is not None:
        shape["LicenseInfo"] = layer.license_info
    return shape


def alias_configuration(registry: Registry, alias: Alias) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "AliasArn": registry.arn(alias.function_name, alias.name),
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.weights:
        shape["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.weights)}
    return shape


def page(key: str, items: list[dict[str, Any]], marker: str | None) -> dict[str, Any]:
    shape: dict[str, Any] = {key: items}
    if marker is not None:
        shape["NextMarker"] = marker
    return shape
