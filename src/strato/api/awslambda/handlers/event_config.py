"""PutFunctionEventInvokeConfig, UpdateFunctionEventInvokeConfig, GetFunctionEventInvokeConfig,
DeleteFunctionEventInvokeConfig, ListFunctionEventInvokeConfigs (Lambda API reference pages
of each). The retry and age limits apply to strato's Event queue, which delivers invocation
records to function and S3 bucket destinations (functions/destinations.py)."""

from __future__ import annotations

import re
from typing import Any

from strato.functions.errors import InvalidParameter, NotFound
from strato.functions.invoke_configs import EventInvokeConfig
from strato.http.responses import Response

from .. import permissions, shapes
from ..call import Call
from ..errors import invalid_parameter
from .common import json_response, max_items, no_content

# A destination: empty, a Kafka URI, or an ARN of the pattern AddPermission's SourceArn has
DESTINATION = r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|" + permissions.SOURCE_ARN
# Where Lambda sends invocation records: queues, topics, buses, functions; buckets on failure only.
_SERVICES = {"OnSuccess": ("sqs", "sns", "events", "lambda"), "OnFailure": ("sqs", "sns", "events", "lambda", "s3")}
_FUNCTION = re.compile(r"arn:[^:]+:lambda:[^:]*:\d{12}:function:([^:]+)(:.*)?")


def _destinations(body: shapes.Body, function_name: str) -> dict[str, str | None] | None:
    """DestinationConfig's OnSuccess and OnFailure ARNs (None where not given)."""
    given = body.mapping("DestinationConfig")
    if given is None:
        return None
    found: dict[str, str | None] = {}
    for key in ("OnSuccess", "OnFailure"):
        part = given.get(key) or {}
        destination = part.get("Destination") if isinstance(part, dict) else None
        if destination is not None and not isinstance(destination, str):
            raise invalid_parameter(f"DestinationConfig.{key}.Destination must be a string")
        member = f"destinationConfig.{key[0].lower()}{key[1:]}.destination"
        found[key] = permissions.check(destination, member, DESTINATION, 0, 350) or None
    for key, arn in found.items():
        if arn is None:
            continue
        service = arn.split(":")[2] if arn.startswith("arn:") else ""  # kafka:// is for event source mappings
        if service not in _SERVICES[key]:
            shown = {k: f"{k}(destination={v})" if v else "null" for k, v in found.items()}
            raise invalid_parameter(f"The provided destination config DestinationConfig(onSuccess="
                                    f"{shown['OnSuccess']}, onFailure={shown['OnFailure']}) is invalid.")
        target = _FUNCTION.fullmatch(arn)
        if target is not None and target.group(1) == function_name:
            raise invalid_parameter("You can't specify the function as a destination for itself.")
    return found


async def _check_functions(call: Call, destinations: dict[str, str | None]) -> None:
    """A destination function of this region and account must exist, as Lambda checks it
    (functions elsewhere are not strato's to know)."""
    local = call.registry.arn("")  # the ARN of this region's and account's functions, up to the name
    for arn in destinations.values():
        if arn is not None and arn.startswith(local):
            try:
                await call.registry.get(arn)
            except (NotFound, InvalidParameter):
                raise invalid_parameter(f"The destination ARN {arn} is invalid.") from None


async def _config(call: Call) -> EventInvokeConfig:
    name, qualifier = call.target()
    body = call.body()
    retries = body.integer("MaximumRetryAttempts", 0, 2)
    age = body.integer("MaximumEventAgeInSeconds", 60, 21600)
    destinations = _destinations(body, name)
    if retries is None and age is None and destinations is None:
        raise invalid_parameter("You must specify at least one of error handling or destination setting.")
    destinations = destinations or {}
    await _check_functions(call, destinations)
    return EventInvokeConfig(name, qualifier, retries, age, destinations.get("OnSuccess"),
                             destinations.get("OnFailure"))


def _shape(call: Call, config: EventInvokeConfig) -> dict[str, Any]:
    """FunctionEventInvokeConfig."""
    shape: dict[str, Any] = {"LastModified": config.last_modified,
                             "FunctionArn": call.registry.arn(config.function_name, config.qualifier)}
    if config.maximum_retry_attempts is not None:
        shape["MaximumRetryAttempts"] = config.maximum_retry_attempts
    if config.maximum_event_age is not None:
        shape["MaximumEventAgeInSeconds"] = config.maximum_event_age
    shape["DestinationConfig"] = {
        key: {} if arn is None else {"Destination": arn}
        for key, arn in (("OnSuccess", config.on_success), ("OnFailure", config.on_failure))
    }
    return shape


async def put_function_event_invoke_config(call: Call) -> Response:
    return json_response(_shape(call, await call.registry.put_event_config(await _config(call))))


async def update_function_event_invoke_config(call: Call) -> Response:
    return json_response(_shape(call, await call.registry.put_event_config(await _config(call), merge=True)))


async def get_function_event_invoke_config(call: Call) -> Response:
    name, qualifier = call.target()
    return json_response(_shape(call, await call.registry.get_event_config(name, qualifier)))


async def delete_function_event_invoke_config(call: Call) -> Response:
    name, qualifier = call.target()
    await call.registry.delete_event_config(name, qualifier)
    return no_content()


async def list_function_event_invoke_configs(call: Call) -> Response:
    configs, marker = await call.registry.list_event_configs(call.endpoint.function_name,
                                                             call.request.query.get("Marker"), max_items(call, 50, 50))
    return json_response(shapes.page("FunctionEventInvokeConfigs", [_shape(call, c) for c in configs], marker))
