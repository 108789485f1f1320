"""A behaviour's CloudFront functions around the edge's answer (AWS CloudFront
DeveloperGuide/cloudfront-functions.html): the viewer-request function runs on every request to
the behaviour, hits included, before the cache is looked up, and the request it returns is the
one the cache key and the origin see, or the response it returns is answered at once and never
cached; the viewer-response function runs on the answer that goes (unless its status is 400 or
above), and its status and headers reach the viewer (the body does not change).

A function that fails gets the viewer CloudFront's 503 (DeveloperGuide/http-503-service-
unavailable.html): FunctionThrottledError when it ran past its time limit, FunctionExecutionError
otherwise (it threw, ran out of memory, or returned what is no request or response).

Such behaviours are answered through ASGI only (hitpath.py leaves them to it), so the fast paths
carry no function machinery."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

from strato.edge import functions_js
from strato.edge.delivery import VIA
from strato.edge.function_events import (
    BODILESS,
    Answer,
    Context,
    EdgeFunctions,
    Fields,
    InvalidResult,
    ViewerRequest,
    request_event,
    request_result,
    response_event,
    response_result,
)
from strato.edge.metrics import Observed
from strato.http.responses import send_body
from strato.http.types import ASGIApp, Message, Receive, Scope, Send, client_host

log = logging.getLogger("strato.edge")
EXECUTION_ERROR = "FunctionExecutionError"
THROTTLED_ERROR = "FunctionThrottledError"
GENERATED = "FunctionGeneratedResponse"
_FAILED_PAGE = (b"<html><head><title>503 ERROR</title></head><body><h1>503 ERROR</h1>"
                b"<h2>The request could not be satisfied.</h2>The CloudFront function associated with the "
                b"CloudFront distribution is invalid or could not run correctly.</body></html>")
T = TypeVar("T")
# Answers the functions give (generated, or the 503 of a failure), with their request's scope,
# for the caller to count and log as the proxy counts and logs its own.
Observer = Callable[[Scope, Observed], None]


class FunctionFailed(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def with_functions(app: ASGIApp, functions: EdgeFunctions, observe: Observer) -> ASGIApp:
    """`app` under a behaviour's viewer-request and viewer-response functions."""

    async def running(scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        client = client_host(scope)
        context = Context(functions.distribution_id, functions.domain_name, request_id(), client)
        request = viewer_request(scope)
        if functions.viewer_request is not None:
            try:
                result = invoke(functions.viewer_request, request_event(context, request),
                                lambda value: request_result(value, request))
                if isinstance(result, ViewerRequest):
                    request, scope = result, rewritten(scope, result)
                else:
                    result = generated(result)
            except FunctionFailed as failed:
                result = failure(failed.kind)
            if isinstance(result, Answer):
                await _answer(scope, send, result, observe, started)
                return
        if functions.viewer_response is not None:
            send = _responding(send, functions.viewer_response, context, request, scope)
        await app(scope, receive, send)

    return running


def invoke(code: str, event: dict[str, Any], interpret: Callable[[Any], T]) -> T:
    """Run the function on `event` and interpret what it returned, or raise FunctionFailed."""
    outcome = functions_js.run(code, event)
    if outcome.error is not None:
        log.warning("CloudFront function failed: %s (logs: %s)", outcome.error, list(outcome.logs)[-5:])
        kind = THROTTLED_ERROR if isinstance(outcome.error, functions_js.FunctionThrottled) else EXECUTION_ERROR
        raise FunctionFailed(kind)
    try:
        return interpret(outcome.value)
    except (InvalidResult, UnicodeEncodeError) as exc:  # text with half a surrogate pair has no UTF-8
        log.warning("CloudFront function returned an invalid object: %s", exc)
        raise FunctionFailed(EXECUTION_ERROR) from None


def generated(answer: Answer) -> Answer:
    """A response a viewer-request function returned, as CloudFront sends it: marked as the
    function's (X-Cache) and with the edge's Via, fields a function cannot set itself
    (DeveloperGuide/edge-function-restrictions-all.html)."""
    headers = [pair for pair in answer.headers if pair[0] not in ("x-cache", "via")]
    return Answer(answer.status, [*headers, ("x-cache", f"{GENERATED} from cloudfront"), ("via", VIA)], answer.body)


def failure(kind: str) -> Answer:
    return Answer(503, [("content-type", "text/html"), ("x-cache", f"{kind} from cloudfront"), ("via", VIA)],
                  _FAILED_PAGE)


def request_id() -> str:
    """A request id like CloudFront's (x-amz-cf-id): 56 URL-safe base64 characters."""
    return secrets.token_urlsafe(42)


def viewer_request(scope: Scope) -> ViewerRequest:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    return ViewerRequest(scope["method"], raw_path.decode("latin-1"), scope.get("query_string", b"").decode("latin-1"),
                         _text_fields(scope["headers"]))


def rewritten(scope: Scope, request: ViewerRequest) -> Scope:
    """The ASGI scope of the request a viewer-request function returned."""
    return {**scope, "path": unquote(request.uri), "raw_path": request.uri.encode(),
            "query_string": request.query.encode(), "headers": _raw_fields(request.headers)}


def _text_fields(raw: list[tuple[bytes, bytes]]) -> Fields:
    """An ASGI message's fields as a function's event holds them: lower-case names."""
    return [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in raw]


def _raw_fields(fields: Fields) -> list[tuple[bytes, bytes]]:
    """Fields a function returned, for an ASGI message: it failed if one has no latin-1 form
    (its values may hold any text but control characters)."""
    try:
        return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in fields]
    except UnicodeEncodeError:
        raise FunctionFailed(EXECUTION_ERROR) from None


def _responding(send: Send, code: str, context: Context, request: ViewerRequest, scope: Scope) -> Send:
    """`send`, with the answer's head as the viewer-response function leaves it; a failure answers
    the 503 instead, and the answer's body is not sent (the app answering counts and logs it).
    A status the function changes to 204 or 304 goes without the body. An answer of status 400 or
    above goes as it is: CloudFront runs no viewer-response function on it
    (DeveloperGuide/edge-function-restrictions-all.html)."""
    failed = bodiless = False

    async def sending(message: Message) -> None:
        nonlocal failed, bodiless
        if message["type"] == "http.response.start" and int(message["status"]) < 400:
            response = Answer(int(message["status"]), _text_fields(message.get("headers", [])))
            try:
                changed = invoke(code, response_event(context, request, response),
                                 lambda value: response_result(value, response))
                headers = _raw_fields(changed.headers)
            except FunctionFailed as exc:
                failed = True
                answer = failure(exc.kind)
                await send_body(send, answer.status, answer.headers, answer.body, head=scope["method"] == "HEAD")
                return
            message = {**message, "status": changed.status, "headers": headers}
            bodiless = changed.status in BODILESS
        elif failed:
            return
        elif bodiless and message["type"] == "http.response.body":
            if message.get("more_body"):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return sending


async def _answer(scope: Scope, send: Send, answer: Answer, observe: Observer, started: float) -> None:
    observed = Observed(started)
    await send_body(observed.counting(send), answer.status, answer.headers, answer.body,
                    head=scope["method"] == "HEAD")
    observe(scope, observed)

