"""Invoke: validate the request, resolve the version (an alias's weights pick one), build the
Invocation and hand it to the Invoker. Source: the Lambda API reference, "Invoke"."""

from __future__ import annotations

import base64
import binascii
import json

from strato.functions.records import MAX_EVENT_PAYLOAD, MAX_PAYLOAD, Invocation
from strato.http.responses import Response

from ..call import Call
from ..errors import invalid_content, invalid_parameter, too_large, validation_error
from .common import no_content

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
LOG_TYPES = ("None", "Tail")
MAX_CLIENT_CONTEXT = 3583


def _client_context(text: str | None) -> str | None:
    """X-Amz-Client-Context: base64 of a JSON object, passed to the function decoded."""
    if text is None:
        return None
    if len(text) > MAX_CLIENT_CONTEXT:
        raise invalid_parameter(f"Client context must be at most {MAX_CLIENT_CONTEXT} bytes of base64")
    try:
        decoded = base64.b64decode(text, validate=True).decode()
        json.loads(decoded)
    except (binascii.Error, ValueError):
        raise invalid_content("Client context must be a valid Base64-encoded JSON object.") from None
    return decoded


def _payload(raw: bytes, limit: int, operation: str) -> bytes:
    if len(raw) > limit:
        raise too_large(limit, operation)
    if not raw.strip():
        return b"{}"
    try:
        json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_content(f"Could not parse request body into json: Could not parse payload into json: {exc}") \
            from None
    return raw


def _one_of(value: str, member: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise validation_error(value, member, f"Member must satisfy enum value set: {list(allowed)}")
    return value


async def invoke(call: Call) -> Response:
    headers = call.request.headers
    kind = _one_of(headers.get("x-amz-invocation-type", "RequestResponse"), "invocationType", INVOCATION_TYPES)
    log_type = _one_of(headers.get("x-amz-log-type", "None"), "logType", LOG_TYPES)
    if kind == "Event":
        payload = _payload(call.raw_body, MAX_EVENT_PAYLOAD, "InvokeAsync")
    else:
        payload = _payload(call.raw_body, MAX_PAYLOAD, "Invoke")
    client_context = _client_context(headers.get("x-amz-client-context"))
    registry = call.registry
    name, qualifier = call.target()
    function = await registry.resolve_async(name, qualifier)
    if kind == "DryRun":
        return no_content()
    invocation = Invocation(function, registry.arn(function.name, qualifier), payload, call.request_id,
                            client_context, log_tail=log_type == "Tail")
    if kind == "Event":
        await call.services.invoker.enqueue(invocation)
        return Response(202, [])
    result = await call.services.invoker.invoke(invocation)
    out = [("content-type", "application/json"), ("x-amz-executed-version", result.executed_version)]
    if result.function_error:
        out.append(("x-amz-function-error", result.function_error))
    if invocation.log_tail:
        out.append(("x-amz-log-result", base64.b64encode(result.log_tail).decode()))
    return Response(200, out, result.payload)

