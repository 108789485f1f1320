"""The S3 ASGI app: route -> authenticate -> authorize -> dispatch -> render.

Errors become S3 XML here and only here. Once a response has started, an error can only
abort the stream; it never becomes a second response.
"""

from __future__ import annotations

import logging
import secrets

from strato.auth.credentials import CredentialStore
from strato.http.request import Request
from strato.http.responses import Response, Tracked
from strato.http.types import Receive, Scope, Send
from strato.storage.engine import ObjectStore
from strato.storage.errors import NoSuchKey

from . import headers as h
from .access import authorize
from .authn import authenticate, request_body
from .call import Call, S3Settings
from .errors import S3Error, not_implemented, to_s3_error
from .handlers import HANDLERS
from .router import route

log = logging.getLogger("strato.s3")


def preflight(request: Request) -> None:
    """A CORS preflight (OPTIONS) is never signed. Without Origin and Access-Control-Request-
    Method it is a bad request, as on S3; with them it needs CORS, which is not implemented."""
    if "origin" not in request.headers or "access-control-request-method" not in request.headers:
        raise S3Error("BadRequest", "Insufficient information. Origin request header needed.")
    raise not_implemented("CORS preflight (OPTIONS)")


class S3App:
    def __init__(self, store: ObjectStore, credentials: CredentialStore, settings: S3Settings) -> None:
        self.store = store
        self.credentials = credentials
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = secrets.token_hex(8).upper()
        tracked = Tracked(send, [(b"x-amz-request-id", request_id.encode()), (b"x-amz-id-2", request_id.encode())])

        method = scope.get("method", "GET")
        resource = scope.get("path", "/")
        try:
            request = Request.from_scope(scope, receive)
            response = await self.handle(request, request_id)
            await response.send(tracked, head=method == "HEAD")
        except Exception as exc:
            if tracked.started:
                log.warning("request %s aborted mid-response: %r", request_id, exc)
                raise
            error = to_s3_error(exc)
            if error is None:
                log.exception("request %s failed", request_id)
                error = S3Error("InternalError", "We encountered an internal error. Please try again.", 500)
            await self.render_error(error, resource, request_id, tracked, head=method == "HEAD")

    async def handle(self, request: Request, request_id: str) -> Response:
        endpoint = route(request.method, request.headers.get("host", ""), request.path, request.query,
                         request.headers, self.settings.domains)
        call = Call(request, endpoint, self.store, self.settings, request_id)
        if endpoint.operation == "PreflightRequest":
            preflight(request)
        identity, verified = authenticate(request, endpoint, self.credentials)
        call.identity = identity
        call.access = authorize(request, endpoint, self.store, identity)
        handler = HANDLERS.get(endpoint.operation)
        if handler is None:
            raise not_implemented(endpoint.operation if endpoint.operation != "Unknown" else request.method)
        call.expect = h.expectation(request.headers, request.content_length(),
                                    composite=endpoint.operation == "CompleteMultipartUpload")
        call.body = request_body(request, verified, call.expect, self.settings.request_timeout)
        try:
            return await handler(call)
        except NoSuchKey:
            call.access.conceal_missing(endpoint.operation)
            raise

    @staticmethod
    async def render_error(error: S3Error, resource: str, request_id: str, send: Send, head: bool) -> None:
        headers = [("content-type", "application/xml"), *error.headers.items()]
        await Response(error.status, headers, error.body(resource, request_id)).send(send, head=head)
