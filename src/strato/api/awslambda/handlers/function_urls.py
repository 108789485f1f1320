"""CreateFunctionUrlConfig, GetFunctionUrlConfig, UpdateFunctionUrlConfig,
DeleteFunctionUrlConfig, ListFunctionUrlConfigs (Lambda API reference pages of each; the Cors
data type for its bounds). The URL itself answers in api/function_urls."""

from __future__ import annotations

from typing import Any

from strato.functions.definitions import lambda_timestamp
from strato.functions.function_urls import FunctionUrlConfig
from strato.http.responses import Response

from .. import shapes
from ..call import Call
from ..errors import enum_value, validation_error
from ..permissions import AUTH_TYPES
from .common import json_response, max_items, no_content

INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
# Cors's lists: (member, most items, shortest item, longest item)
_CORS_LISTS = (("AllowHeaders", 100, 0, 1024), ("AllowMethods", 6, 0, 6), ("AllowOrigins", 100, 1, 253),
               ("ExposeHeaders", 100, 0, 1024))


def _cors(body: shapes.Body) -> dict[str, Any] | None:
    """Cors, each member checked against its shape's bounds (unknown members are dropped)."""
    given = body.mapping("Cors")
    if given is None:
        return None
    cors = shapes.Body(given)
    checked: dict[str, Any] = {}
    if "AllowCredentials" in cors:
        checked["AllowCredentials"] = cors.flag("AllowCredentials")
    for key, most, shortest, longest in _CORS_LISTS:
        items = cors.strings(key)
        if items is None:
            continue
        member = f"cors.{key[0].lower()}{key[1:]}"
        shown = f"[{', '.join(items)}]"
        if len(items) > most:
            raise validation_error(shown, member, f"Member must have length less than or equal to {most}")
        if any(not shortest <= len(item) <= longest for item in items):
            bound = (f"Member must have length less than or equal to {longest}, "
                     f"Member must have length greater than or equal to {shortest}")
            raise validation_error(shown, member, f"Member must satisfy constraint: [{bound}]")
        checked[key] = items
    max_age = cors.integer("MaxAge", 0, 86400, "cors.")
    if max_age is not None:
        checked["MaxAge"] = max_age
    return checked


def _shape(call: Call, config: FunctionUrlConfig, *, modified: bool = True) -> dict[str, Any]:
    """FunctionUrlConfig (CreateFunctionUrlConfig's answer has no LastModifiedTime)."""
    shape: dict[str, Any] = {
        "FunctionUrl": call.services.settings.function_urls.url(config.url_id),
        "FunctionArn": call.registry.arn(config.function_name, config.qualifier),
        "AuthType": config.auth_type,
        "CreationTime": lambda_timestamp(config.creation_time),
        "InvokeMode": config.invoke_mode,
    }
    if config.cors is not None:
        shape["Cors"] = config.cors
    if modified:
        shape["LastModifiedTime"] = lambda_timestamp(config.last_modified)
    return shape


async def create_function_url_config(call: Call) -> Response:
    name, qualifier = call.target()
    body = call.body()
    auth_type = enum_value(body.text("AuthType"), "authType", AUTH_TYPES)
    if auth_type is None:
        raise validation_error(None, "authType", "Member must not be null")
    invoke_mode = enum_value(body.text("InvokeMode"), "invokeMode", INVOKE_MODES) or "BUFFERED"
    config = await call.registry.create_url_config(name, qualifier, auth_type, _cors(body), invoke_mode)
    return json_response(_shape(call, config, modified=False), 201)


async def get_function_url_config(call: Call) -> Response:
    name, qualifier = call.target()
    return json_response(_shape(call, await call.registry.get_url_config(name, qualifier)))


async def update_function_url_config(call: Call) -> Response:
    name, qualifier = call.target()
    body = call.body()
    config = await call.registry.update_url_config(
        name, qualifier, enum_value(body.text("AuthType"), "authType", AUTH_TYPES), _cors(body),
        enum_value(body.text("InvokeMode"), "invokeMode", INVOKE_MODES))
    return json_response(_shape(call, config))


async def delete_function_url_config(call: Call) -> Response:
    name, qualifier = call.target()
    await call.registry.delete_url_config(name, qualifier)
    return no_content()


async def list_function_url_configs(call: Call) -> Response:
    configs, marker = await call.registry.list_url_configs(call.endpoint.function_name,
                                                           call.request.query.get("Marker"), max_items(call, 50, 50))
    return json_response(shapes.page("FunctionUrlConfigs", [_shape(call, c) for c in configs], marker))
