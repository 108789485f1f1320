"""Invoke and InvokeWithResponseStream: validate the request, resolve the version (an alias's
weights pick one), build the Invocation and hand it to the Invoker. Source: the Lambda API
reference, "Invoke" and "InvokeWithResponseStream"."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from strato import jsontext
from strato.functions.records import (
    MAX_EVENT_PAYLOAD,
    MAX_PAYLOAD,
    FunctionVersion,
    Invocation,
    InvokeResult,
    Outcome,
    ResponseStream,
)
from strato.functions.registry import Registry
from strato.functions.streams import StreamedAnswer
from strato.http.responses import Response

from .. import eventstream
from ..call import Call
from ..errors import invalid_content, invalid_parameter, too_large, validation_error
from .common import no_content

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
STREAMING_INVOCATION_TYPES = ("RequestResponse", "DryRun")
STREAM_CHUNK = 64 * 1024  # a whole answer goes out in PayloadChunk events of at most this
LOG_TYPES = ("None", "Tail")
MAX_CLIENT_CONTEXT = 3583
BAD_CLIENT_CONTEXT = "Client context must be a valid Base64-encoded JSON object."


def client_context(text: str | None) -> str | None:
    """X-Amz-Client-Context: base64 of a JSON object (or null), passed to the function decoded;
    other JSON would fail the runtime building the handler's context from it."""
    if text is None:
        return None
    if len(text) > MAX_CLIENT_CONTEXT:
        raise invalid_parameter(f"Client context must be at most {MAX_CLIENT_CONTEXT} bytes of base64")
    try:
        decoded = base64.b64decode(text, validate=True).decode()
        value = jsontext.loads(decoded)
    except (binascii.Error, ValueError):
        raise invalid_content(BAD_CLIENT_CONTEXT) from None
    if not (value is None or isinstance(value, dict)):
        raise invalid_content(BAD_CLIENT_CONTEXT)
    return decoded


def checked_payload(raw: bytes, limit: int, operation: str) -> bytes:
    if len(raw) > limit:
        raise too_large(limit, operation)
    if not raw.strip():
        return b"{}"
    try:
        jsontext.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_content(f"Could not parse request body into json: Could not parse payload into json: {exc}") \
            from None
    return raw


def _one_of(value: str, member: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise validation_error(value, member, f"Member must satisfy enum value set: {list(allowed)}")
    return value


@dataclass(frozen=True, slots=True)
class InvokeRequest:
    kind: str  # one of INVOCATION_TYPES
    payload: bytes
    client_context: str | None
    log_tail: bool


def invoke_request(kind: str, log_type: str, body: bytes, context: str | None,
                   kinds: tuple[str, ...] = INVOCATION_TYPES) -> InvokeRequest:
    """An Invoke's X-Amz-Invocation-Type (one of `kinds`), X-Amz-Log-Type, body and
    X-Amz-Client-Context, checked."""
    kind = _one_of(kind, "invocationType", kinds)
    log_type = _one_of(log_type, "logType", LOG_TYPES)
    if kind == "Event":
        payload = checked_payload(body, MAX_EVENT_PAYLOAD, "InvokeAsync")
    else:
        payload = checked_payload(body, MAX_PAYLOAD, "Invoke")
    return InvokeRequest(kind, payload, client_context(context), log_type == "Tail")


def _read(call: Call, kinds: tuple[str, ...] = INVOCATION_TYPES) -> InvokeRequest:
    headers = call.request.headers
    return invoke_request(headers.get("x-amz-invocation-type", "RequestResponse"),
                          headers.get("x-amz-log-type", "None"), call.raw_body, headers.get("x-amz-client-context"),
                          kinds)


def new_invocation(registry: Registry, function: FunctionVersion, qualifier: str | None, request_id: str,
                   request: InvokeRequest, stream: ResponseStream | None = None) -> Invocation:
    return Invocation(function, registry.arn(function.name, qualifier), request.payload, request_id,
                      request.client_context, log_tail=request.log_tail, stream=stream)


def answering(done: Callable[[Response | BaseException], None], log_tail: bool) -> Outcome:
    """The invoker's callback for a started invoke: `done` gets the caller's response, or the error."""
    def finished(outcome: InvokeResult | BaseException) -> None:
        done(outcome if isinstance(outcome, BaseException) else response(outcome, log_tail))

    return finished


def response(result: InvokeResult, log_tail: bool) -> Response:
    out = [("content-type", "application/json"), ("x-amz-executed-version", result.executed_version)]
    if result.function_error:
        out.append(("x-amz-function-error", result.function_error))
    if log_tail:
        out.append(("x-amz-log-result", base64.b64encode(result.log_tail).decode()))
    return Response(200, out, result.payload)


async def invoke(call: Call, request: InvokeRequest | None = None) -> Response:
    """`request`: the call's parameters when `start` has read them already."""
    request = request or _read(call)
    name, qualifier = call.target()
    function = call.registry.resolve(name, qualifier)  # a cache miss is one indexed read: no thread hop
    if request.kind == "DryRun":
        return no_content()
    invocation = new_invocation(call.registry, function, qualifier, call.request_id, request)
    if request.kind == "Event":
        await call.services.invoker.enqueue(invocation)
        return Response(202, [])
    return response(await call.services.invoker.invoke(invocation), request.log_tail)


async def invoke_with_response_stream(call: Call) -> Response:
    """The answer as an event stream: a PayloadChunk event for each chunk of a runtime that
    streams (Lambda-Runtime-Function-Response-Mode: streaming), sent as it arrives; a whole
    answer (Python's runtimes) in chunks of STREAM_CHUNK; then InvokeComplete (with the log tail
    when asked). A function error (mid-stream too: a timeout, an error trailer) is named by
    InvokeComplete after the chunks sent: ErrorCode `Unhandled`, ErrorDetails the error document.
    Refusals (a throttle) come before the stream, as Lambda's errors."""
    request = _read(call, STREAMING_INVOCATION_TYPES)
    name, qualifier = call.target()
    function = call.registry.resolve(name, qualifier)
    if request.kind == "DryRun":
        return no_content()
    answer = StreamedAnswer()
    answer.start(call.services.invoker.invoke(new_invocation(call.registry, function, qualifier, call.request_id,
                                                             request, answer)))
    headers = [("content-type", eventstream.CONTENT_TYPE), ("x-amz-executed-version", function.version)]
    if not await answer.opened():
        return Response(200, headers, b"".join(_ending(answer.result(), request.log_tail)))
    return Response(200, headers, _events(answer, request.log_tail), close=answer.abandon)


async def _events(answer: StreamedAnswer, log_tail: bool) -> AsyncIterator[bytes]:
    async for chunk in answer.chunks():
        yield eventstream.event("PayloadChunk", chunk, "application/octet-stream")
    for event in _ending(answer.result(), log_tail):
        yield event


def _ending(result: InvokeResult, log_tail: bool) -> list[bytes]:
    """The events after the streamed chunks: a whole answer's chunks, then InvokeComplete."""
    complete: dict[str, str] = {}
    chunks = []
    if result.function_error:
        complete.update(ErrorCode=result.function_error, ErrorDetails=result.payload.decode("utf-8", "replace"))
    else:
        chunks = [eventstream.event("PayloadChunk", result.payload[at:at + STREAM_CHUNK], "application/octet-stream")
                  for at in range(0, len(result.payload), STREAM_CHUNK)]
    if log_tail:
        complete["LogResult"] = base64.b64encode(result.log_tail).decode()
    return [*chunks, eventstream.json_event("InvokeComplete", complete)]


def start(call: Call, done: Callable[[Response | BaseException], None]) -> Awaitable[Response] | None:
    """A RequestResponse invoke of a known function started without awaiting, when a warm
    environment is at hand (the warm invoke's path): `done` gets the response or the error.
    Otherwise the invoke to await instead (nothing was started)."""
    request = _read(call)
    name, qualifier = call.target()
    function = call.registry.resolve_cached(name, qualifier) if request.kind == "RequestResponse" else None
    if function is None:
        return invoke(call, request)

    invocation = new_invocation(call.registry, function, qualifier, call.request_id, request)
    if call.services.invoker.start(invocation, answering(done, request.log_tail)):
        return None
    return invoke(call, request)
