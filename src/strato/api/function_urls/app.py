"""The function URL ASGI app: a request to `<url-id>.lambda-url.<region>.<domain>` becomes a
format 2.0 event, a RequestResponse invocation through the same invoker as Invoke, and the
function's result as the HTTP response.

Answers the URL gives itself, as Lambda does: an unknown URL 403 `{"Message":null}`; a caller
not allowed (AWS_IAM: a missing or bad SigV4 signature for service `lambda`; NONE: no public
permission in the resource policy) 403 `{"Message":"Forbidden. For troubleshooting ..."}`; a request or event over 6 MB
413; a body that stalls 408; a throttle 429; a function error (a timeout included) or an invalid result 502.
A URL whose InvokeMode is RESPONSE_STREAM passes a streaming runtime's answer on as it comes
(streaming.py); an answer given whole is answered as a BUFFERED URL answers it.
Source: the Lambda developer guide, "Invoking Lambda function URLs", "Control access to Lambda
function URLs".
"""

from __future__ import annotations

import json
import logging
from typing import Any

from strato.api.awslambda.app import new_request_id
from strato.api.awslambda.handlers.invoke import InvokeRequest, new_invocation
from strato.api.signed import claim, verify_body
from strato.auth import sigv4
from strato.auth.credentials import CredentialStore
from strato.auth.errors import AuthError
from strato.functions.errors import NotFound
from strato.functions.function_urls import FunctionUrlConfig
from strato.functions.invoker import Invoker
from strato.functions.records import MAX_PAYLOAD, InvokeResult, TooManyRequests
from strato.functions.registry import Registry
from strato.functions.streams import StreamedAnswer
from strato.http.bodies import BodyIncomplete, BodyTimeout, BodyTooLarge, collect, stream
from strato.http.request import Request
from strato.http.responses import Response, Tracked
from strato.http.types import Receive, Scope, Send

from . import access, cors
from .events import UrlRequest, request_event
from .hosts import FunctionUrlHosts
from .results import InvalidResponse, http_response
from .streaming import streamed_response

log = logging.getLogger("strato.lambda.urls")
JSON = "application/json"


def _message(status: int, message: str | None, error_type: str | None = None) -> Response:
    headers = [("content-type", JSON)]
    if error_type is not None:
        headers.append(("x-amzn-errortype", error_type))
    return Response(status, headers, json.dumps({"Message": message}, separators=(",", ":")).encode())


UNKNOWN_URL = _message(403, None, "AccessDeniedException")
FORBIDDEN = _message(403, "Forbidden. For troubleshooting Function URL authorization issues, see: "
                     "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html", "AccessDeniedException")
TOO_LARGE = _message(413, f"Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation",
                     "RequestTooLargeException")
THROTTLED = _message(429, "Rate Exceeded.", "TooManyRequestsException")
# A client that goes quiet mid-body, or leaves before its end: the request never was whole.
STALLED = _message(408, "Request Timeout", "RequestTimeoutException")
INCOMPLETE = _message(400, "Bad Request")
BAD_GATEWAY = Response(502, [("content-type", "text/plain; charset=utf-8")], b"Internal Server Error")
INTERNAL = _message(500, "Internal Server Error")


class Refused(Exception):
    """The URL's own answer, raised where the request is turned away."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class FunctionUrlApp:
    def __init__(self, registry: Registry, invoker: Invoker, credentials: CredentialStore, hosts: FunctionUrlHosts,
                 request_timeout: float = 30.0) -> None:
        self.registry = registry
        self.invoker = invoker
        self.credentials = credentials
        self.hosts = hosts
        self.request_timeout = request_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        tracked = Tracked(send, [(b"x-amzn-requestid", request_id.encode())])
        try:
            # A path or query that is not UTF-8 once percent-decoded is still a request to the
            # function: the event carries them raw.
            response = await self.answer(scope, Request.from_scope(scope, receive, "replace"), request_id)
        except Refused as refused:
            response = refused.response
        except Exception:
            log.exception("function URL request %s failed", request_id)
            response = INTERNAL
        try:
            await response.send(tracked, head=scope["method"] == "HEAD")
        except Exception as exc:  # a streamed answer failed once begun: the connection is cut
            log.warning("function URL request %s aborted mid-response: %r", request_id, exc)
            raise

    async def answer(self, scope: Scope, request: Request, request_id: str) -> Response:
        url_id = self.hosts.url_id_of(scope)
        config = None if url_id is None else await self.registry.url_config_by_id(url_id)
        if config is None:
            raise Refused(UNKNOWN_URL)
        if config.cors is not None and cors.is_preflight(request.method, request.headers):
            return Response(200, cors.preflight_headers(config.cors, request.headers))
        claimed = await self._admit(config, request)  # strangers go before their body is read
        body = await self._body(request)
        access_key = self._verify(claimed, request, body)
        event = request_event(UrlRequest(config.url_id, request.method, request.raw_path.decode("latin-1"),
                                         request.raw_query.decode("latin-1"), request.header_list, body,
                                         request.client, request.scheme, f"HTTP/{scope.get('http_version', '1.1')}",
                                         request_id, access_key))
        response = await self._invoke(config, event, request_id)
        if config.cors is None:
            return response
        headers = cors.response_headers(config.cors, request.headers.get("origin"), response.headers)
        return Response(response.status, headers, response.body, response.close)

    async def _body(self, request: Request) -> bytes:
        length = request.content_length()
        if length is not None and length > MAX_PAYLOAD:
            raise Refused(TOO_LARGE)
        try:
            return await collect(stream(request.receive, length, self.request_timeout), MAX_PAYLOAD)
        except BodyTooLarge:
            raise Refused(TOO_LARGE) from None
        except BodyTimeout:
            raise Refused(STALLED) from None
        except BodyIncomplete:
            raise Refused(INCOMPLETE) from None

    async def _admit(self, config: FunctionUrlConfig, request: Request) -> sigv4.Authorization | None:
        """AWS_IAM: the signature the request claims, for `lambda` by a known key; NONE: the
        policy makes the URL public (None). Checked from the head alone."""
        if config.auth_type == "AWS_IAM":
            try:
                auth, _ = claim(request, self.credentials)
            except AuthError:
                raise Refused(FORBIDDEN) from None
            if auth.scope.service != "lambda":
                raise Refused(FORBIDDEN)
            return auth
        try:
            statements = (await self.registry.policy(config.function_name, config.qualifier)).statements
        except NotFound:
            statements = []
        if not access.allows_public(statements):
            raise Refused(FORBIDDEN)
        return None

    def _verify(self, auth: sigv4.Authorization | None, request: Request, body: bytes) -> str | None:
        """The claimed signature covers the request and its body; the signer's key."""
        if auth is None:
            return None
        try:
            verify_body(self.credentials, auth, request, body)
        except AuthError:
            raise Refused(FORBIDDEN) from None
        return auth.scope.access_key

    async def _invoke(self, config: FunctionUrlConfig, event: dict[str, Any], request_id: str) -> Response:
        payload = json.dumps(event, separators=(",", ":")).encode()
        if len(payload) > MAX_PAYLOAD:
            raise Refused(TOO_LARGE)
        function = self.registry.resolve(config.function_name, config.qualifier)
        answer = StreamedAnswer() if config.invoke_mode == "RESPONSE_STREAM" else None
        invocation = new_invocation(self.registry, function, config.qualifier, request_id,
                                    InvokeRequest("RequestResponse", payload, None, False), answer)
        try:
            if answer is None:
                result = await self.invoker.invoke(invocation)
            else:
                answer.start(self.invoker.invoke(invocation))
                if await answer.opened():
                    return await self._streamed(answer, request_id)
                result = answer.result()
        except TooManyRequests:
            raise Refused(THROTTLED) from None
        return self._whole(result, request_id)

    @staticmethod
    async def _streamed(answer: StreamedAnswer, request_id: str) -> Response:
        try:
            return await streamed_response(answer)
        except InvalidResponse as exc:
            answer.abandon()
            log.warning("function URL request %s: %s", request_id, exc)
            return BAD_GATEWAY

    @staticmethod
    def _whole(result: InvokeResult, request_id: str) -> Response:
        if result.function_error:
            return BAD_GATEWAY
        try:
            answer = http_response(result.payload)
        except InvalidResponse as exc:
            log.warning("function URL request %s: %s", request_id, exc)
            return BAD_GATEWAY
        return Response(answer.status, answer.headers, answer.body)
