"""PutRuntimeManagementConfig, GetRuntimeManagementConfig, PutFunctionRecursionConfig and
GetFunctionRecursionConfig (Lambda API reference pages of each): kept and answered; strato
runs one version of each runtime and detects no recursive loops (functions/runtime_settings.py)."""

from __future__ import annotations

from typing import Any

from strato.functions.runtime_settings import RECURSIVE_LOOPS, UPDATE_MODES, RuntimeManagement
from strato.http.responses import Response

from ..call import Call
from ..errors import enum_value, validation_error
from .common import json_response, unqualified


def _management(config: RuntimeManagement) -> dict[str, Any]:
    shape: dict[str, Any] = {"UpdateRuntimeOn": config.update_runtime_on, "FunctionArn": config.function_arn}
    if config.runtime_version_arn is not None:
        shape["RuntimeVersionArn"] = config.runtime_version_arn
    return shape


async def get_runtime_management_config(call: Call) -> Response:
    name, qualifier = call.target()
    return json_response(_management(await call.registry.get_runtime_management(name, qualifier)))


async def put_runtime_management_config(call: Call) -> Response:
    name, qualifier = call.target()
    body = call.body()
    mode = enum_value(body.text("UpdateRuntimeOn"), "updateRuntimeOn", UPDATE_MODES)
    if mode is None:
        raise validation_error(None, "updateRuntimeOn", "Member must not be null")
    stored = await call.registry.put_runtime_management(name, qualifier, mode, body.text("RuntimeVersionArn"))
    return json_response(_management(stored))


async def get_function_recursion_config(call: Call) -> Response:
    return json_response({"RecursiveLoop": await call.registry.get_recursion(unqualified(call))})


async def put_function_recursion_config(call: Call) -> Response:
    name = unqualified(call)
    loop = enum_value(call.body().text("RecursiveLoop"), "recursiveLoop", RECURSIVE_LOOPS)
    if loop is None:
        raise validation_error(None, "recursiveLoop", "Member must not be null")
    return json_response({"RecursiveLoop": await call.registry.put_recursion(name, loop)})
