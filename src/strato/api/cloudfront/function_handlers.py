"""One handler per CloudFront Functions operation (API_CreateFunction.html, DescribeFunction,
GetFunction, UpdateFunction, PublishFunction, DeleteFunction, ListFunctions, TestFunction).
Code that does not compile is refused at create and update, as CloudFront refuses it; TestFunction
runs a stage's code on the event object given, in the engine the edge runs it in."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from strato.cdn.functions import DEVELOPMENT, CloudFrontFunction
from strato.cdn.ids import require_etag
from strato.edge import function_events, functions_js
from strato.http.responses import Response
from strato.xmltree import Node

from .errors import CloudFrontError
from .functions_xml import list_node, parse_create, parse_test, parse_update, summary_node, test_result_node
from .handlers import Call, xml


def _compiled(code: bytes) -> bytes:
    """The code, if it is UTF-8 JavaScript that compiles."""
    try:
        source = code.decode("utf-8")
    except UnicodeDecodeError:
        raise CloudFrontError("InvalidArgument", "The function code must be UTF-8 text.") from None
    error = functions_js.compile_error(source)
    if error is not None:
        raise CloudFrontError("InvalidArgument", f"The function code does not compile: {error}")
    return code


def _stage(call: Call) -> str:
    return call.request.query.get("Stage", DEVELOPMENT)


def _if_match(call: Call) -> str | None:
    return call.request.headers.get("if-match")


async def create_function(call: Call) -> Response:
    name, config, code = parse_create(call.document("CreateFunctionRequest"))
    function = await asyncio.to_thread(call.registry.functions.create, name, config, _compiled(code))
    return xml(summary_node(function), 201, [("location", call.location("function", function.arn)),
                                             ("etag", function.etag)])


async def describe_function(call: Call) -> Response:
    function = await asyncio.to_thread(call.registry.functions.describe, call.endpoint.resource_id, _stage(call))
    return xml(summary_node(function), headers=[("etag", function.etag)])


async def get_function(call: Call) -> Response:
    """The code itself, as the body (GetFunctionResult's payload)."""
    function = await asyncio.to_thread(call.registry.functions.describe, call.endpoint.resource_id, _stage(call))
    return Response(200, [("content-type", "application/octet-stream"), ("etag", function.etag)], function.code)


async def update_function(call: Call) -> Response:
    config, code = parse_update(call.document("UpdateFunctionRequest"))
    function = await asyncio.to_thread(call.registry.functions.update, call.endpoint.resource_id, config,
                                       _compiled(code), _if_match(call))
    # botocore's model reads UpdateFunction's ETag from a header it spells ETtag.
    return xml(summary_node(function), headers=[("etag", function.etag), ("ettag", function.etag)])


async def publish_function(call: Call) -> Response:
    function = await asyncio.to_thread(call.registry.functions.publish, call.endpoint.resource_id, _if_match(call))
    return xml(summary_node(function))


async def delete_function(call: Call) -> Response:
    await asyncio.to_thread(call.registry.functions.delete, call.endpoint.resource_id, _if_match(call))
    return Response(204)


async def list_functions(call: Call) -> Response:
    marker, max_items = call.page()
    stage = call.request.query.get("Stage")
    page, next_marker = await asyncio.to_thread(call.registry.functions.list_page, stage, marker, max_items)
    return xml(list_node(page, max_items, next_marker))


async def test_function(call: Call) -> Response:
    """The stage named (at its ETag, If-Match) run on the EventObject: what it returned, or the
    error it failed with, its console.log lines, and its CPU as a share of its limit."""
    stage, event_object = parse_test(call.document("TestFunctionRequest"))
    try:
        event = json.loads(event_object)
    except (ValueError, RecursionError):
        raise CloudFrontError("InvalidArgument", "The EventObject is not a JSON object.") from None
    if not isinstance(event, dict):
        raise CloudFrontError("InvalidArgument", "The EventObject is not a JSON object.")
    function = await asyncio.to_thread(call.registry.functions.describe, call.endpoint.resource_id, stage)
    require_etag(function.etag, _if_match(call))
    return xml(await asyncio.to_thread(_tested, function, event))


def _tested(function: CloudFrontFunction, event: dict[str, Any]) -> Node:
    outcome = functions_js.run(function.code.decode("utf-8"), event)
    utilization = min(100, round(outcome.cpu_seconds / functions_js.TIME_LIMIT * 100))
    context = event.get("context")
    event_type = context.get("eventType") if isinstance(context, dict) else None
    output = None
    if outcome.error is None:
        output = json.dumps(function_events.output(outcome.value, str(event_type or function_events.VIEWER_REQUEST)))
    error = str(outcome.error) if outcome.error is not None else None
    return test_result_node(function, utilization, outcome.logs, error, output)


FUNCTION_HANDLERS: dict[str, Callable[[Call], Awaitable[Response]]] = {
    "CreateFunction": create_function,
    "DescribeFunction": describe_function,
    "GetFunction": get_function,
    "UpdateFunction": update_function,
    "PublishFunction": publish_function,
    "DeleteFunction": delete_function,
    "ListFunctions": list_functions,
    "TestFunction": test_function,
}
